/*
 * globals.c - global data and bpf-to-bpf calls: set the program's
 * const volatile .rodata settings from the host before load (libbpf's
 * skeleton does this through bpf_map__initial_value), run it on some
 * values, and read .data and .bss back through their internal maps.
 *
 * Usage: globals [interp|jit]   (default: both engines)
 */
#include "example.h"

struct rodata {
	uint32_t scale, threshold;
};

struct bss {
	uint64_t last;
	uint32_t histogram[4];
};

static int globals_on(enum bee_engine engine)
{
	struct bee *b = example_bee(engine);
	struct bee_object *obj = example_open("globals", NULL);
	int rc = 1;
	if (!b || !obj)
		goto out;
	/* Internal maps are named "<object prefix>.<section>"; the section name finds them too. */
	struct bee_object_map *ro = bee_object_find_map_by_name(obj, ".rodata");
	size_t sz = 0;
	struct rodata *cfg = ro ? bee_object_map_initial_value(ro, &sz) : NULL;
	if (!cfg || sz < sizeof(*cfg)) {
		fprintf(stderr, "no .rodata image\n");
		goto out;
	}
	cfg->scale = 10;
	cfg->threshold = 50;
	if (example_load(obj, b))
		goto out;
	int prog = bee_program_fd(bee_object_find_program_by_name(obj, "account"));
	printf("[%s] scale %u, threshold %u (set before load)\n", example_engine_name(engine),
	       cfg->scale, cfg->threshold);
	static const uint64_t inputs[] = {1, 4, 7, 12, 3};
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		uint64_t v = inputs[i];
		struct bee_test_run_opts o = {.sz = sizeof(o), .ctx_in = &v, .ctx_size_in = sizeof(v)};
		if (bee_prog_test_run(b, prog, &o))
			goto out;
		printf("  account(%llu) -> bucket %u\n", (unsigned long long)inputs[i], o.retval);
	}
	uint32_t zero = 0;
	uint64_t total = 0;
	struct bss bss;
	struct bee_object_map *data = bee_object_find_map_by_name(obj, ".data");
	struct bee_object_map *bm = bee_object_find_map_by_name(obj, ".bss");
	if (bee_map_lookup(b, bee_object_map_fd(data), &zero, &total) ||
	    bee_map_lookup(b, bee_object_map_fd(bm), &zero, &bss))
		goto out;
	printf("  .data total = %llu, .bss last = %llu, histogram = [%u %u %u %u]\n",
	       (unsigned long long)total, (unsigned long long)bss.last, bss.histogram[0],
	       bss.histogram[1], bss.histogram[2], bss.histogram[3]);
	rc = total == 1000 + 270 && bss.last == 30 && bss.histogram[0] == 3 && bss.histogram[1] == 1 &&
	     bss.histogram[2] == 1 ? 0 : 1;
out:
	bee_object_close(obj);
	bee_free(b);
	return rc;
}

int main(int argc, char **argv)
{
	return example_main(argc, argv, globals_on);
}
