/*
 * test_core_regress.c - regression checks for what fuzz_bpf and fuzz_pin
 * found in the core, one function per finding, each with the input
 * shape that showed it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bee/bee.h"
#include "unit.h"

static char pin_dir[64];

static struct bee *new_bee(uint64_t max_insns)
{
	struct bee_opts o = {.sz = sizeof(o), .pin_dir = pin_dir, .ncpus = 2,
			     .max_insns = max_insns};
	struct bee *bee = bee_new(&o);
	CHECK(bee, "bee_new: %s", strerror(errno));
	if (!bee)
		exit(1);
	return bee;
}

static void remove_pin(const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", pin_dir, name);
	unlink(path);
}

/*
 * fuzz_pin: a map pinned by bee did not read back when the first key it
 * saved began with a white-space byte (u32 keys 9-13 or 32): the reader's
 * scanf format "elements %ld\n" skipped it along with the newline, so
 * every element after was misread (-EINVAL, or shifted keys and values).
 */
static void test_pin_first_key_whitespace(void)
{
	static const uint32_t keys[] = {' ', '\t', '\n', '\v', '\f', '\r'};
	for (size_t i = 0; i < LEN(keys); i++) {
		struct bee *a = new_bee(0);
		int map = bee_map_create(a, BPF_MAP_TYPE_HASH, "ws", 4, 8, 4, NULL);
		uint64_t v = 0x1122334455667788ull + i;
		CHECK(bee_map_update(a, map, &keys[i], &v, BPF_ANY) == 0, "update");
		CHECK(bee_obj_pin(a, map, "ws") == 0, "pin");
		bee_free(a);

		struct bee *b = new_bee(0);
		int fd = bee_obj_get(b, "ws");
		uint64_t got = 0;
		CHECK(fd >= 0, "key %u: the pin reads back: %d", keys[i], fd);
		CHECK(fd >= 0 && bee_map_lookup(b, fd, &keys[i], &got) == 0 && got == v,
		      "key %u: its element is intact: %llx", keys[i], (unsigned long long)got);
		bee_free(b);
		remove_pin("ws");
	}
	/* an array: key 0 first, but a value starting with '\n' after it */
	struct bee *a = new_bee(0);
	int arr = bee_map_create(a, BPF_MAP_TYPE_ARRAY, "wsa", 4, 4, 2, NULL);
	uint32_t k = 0, v = '\n';
	bee_map_update(a, arr, &k, &v, BPF_ANY);
	CHECK(bee_obj_pin(a, arr, "wsa") == 0, "pin array");
	bee_free(a);
	struct bee *b = new_bee(0);
	int fd = bee_obj_get(b, "wsa");
	uint32_t got = 0;
	CHECK(fd >= 0 && bee_map_lookup(b, fd, &k, &got) == 0 && got == '\n',
	      "array read back: %d %u", fd, got);
	bee_free(b);
	remove_pin("wsa");
}

/*
 * fuzz_bpf and fuzz_pin: BPF_MAP_UPDATE_ELEM on an ARRAY whose value_size
 * is not a multiple of 8 read value_size rounded up to 8 from the host's
 * buffer (the per-CPU stride), past its end (ASan: heap-buffer-overflow in
 * array_sys_update), and stored those stray bytes in the map.  Buffers of
 * exactly value_size bytes here, so the ASan build sees any over-read.
 */
static void test_array_host_value_size(void)
{
	struct bee *bee = new_bee(0);
	static const uint32_t sizes[] = {1, 3, 4, 12, 20};
	for (size_t i = 0; i < LEN(sizes); i++) {
		uint32_t vs = sizes[i];
		int map = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "odd", 4, vs, 2, NULL);
		CHECK(map >= 0, "create value_size %u: %d", vs, map);
		unsigned char *value = malloc(vs), *back = malloc(vs);
		memset(value, 0xab, vs);
		uint32_t k = 1;
		CHECK(bee_map_update(bee, map, &k, value, BPF_ANY) == 0, "update %u", vs);
		memset(back, 0, vs);
		CHECK(bee_map_lookup(bee, map, &k, back) == 0 && memcmp(back, value, vs) == 0,
		      "lookup %u", vs);
		free(value);
		free(back);
		bee_close(bee, map);
	}
	/* per-CPU arrays keep 8-byte strides per CPU, padding included */
	int pc = bee_map_create(bee, BPF_MAP_TYPE_PERCPU_ARRAY, "pc", 4, 4, 1, NULL);
	uint64_t vals[2] = {0x1111111122222222ull, 0x3333333344444444ull}, got[2] = {0};
	uint32_t k = 0;
	CHECK(bee_map_update(bee, pc, &k, vals, BPF_ANY) == 0 &&
	      bee_map_lookup(bee, pc, &k, got) == 0 && got[0] == vals[0] && got[1] == vals[1],
	      "per-CPU array round trip");
	bee_free(bee);
}

/* A file someone else wrote, got as a pin. */
static long get_file(struct bee *bee, const char *name, const void *data, size_t len)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", pin_dir, name);
	FILE *f = fopen(path, "wb");
	CHECK(f != NULL, "open %s", path);
	if (!f)
		return -EIO;
	fwrite(data, 1, len, f);
	fclose(f);
	long fd = bee_obj_get(bee, name);
	unlink(path);
	return fd;
}

/*
 * fuzz_bpf: a checked program that loops forever hung BPF_PROG_TEST_RUN
 * (no instruction budget in the core).  Checked runs now have one:
 * bee_opts.max_insns, BEE_DEFAULT_MAX_INSNS when 0, and the run ends with
 * -ETIME.
 */
static void test_checked_loop_budget(void)
{
	static const struct bpf_insn loop[] = {MOV64_IMM(0, 0), ADD64_IMM(0, 1), JA(-2), EXIT()};
	unsigned char pkt[64] = {0};
	uint64_t budgets[] = {1000, 0};
	for (size_t i = 0; i < LEN(budgets); i++) {
		struct bee *bee = new_bee(budgets[i]);
		int prog = bee_prog_load(bee, BPF_PROG_TYPE_XDP, "loop", "GPL", loop, LEN(loop), NULL);
		CHECK(prog >= 0, "load: %d", prog);
		struct bee_test_run_opts o = {.sz = sizeof(o), .data_in = pkt,
					      .data_size_in = sizeof(pkt)};
		int err = bee_prog_test_run(bee, prog, &o);
		CHECK(err == -ETIME, "budget %llu: an endless loop ends with -ETIME: %d",
		      (unsigned long long)budgets[i], err);
		const struct bee_error *e = bee_last_run_error();
		CHECK(e && e->code == -ETIME, "and says why");
		/* a link run on the same program stops the same way */
		int link;
		{
			union bpf_attr a;
			memset(&a, 0, sizeof(a));
			a.link_create.prog_fd = (uint32_t)prog;
			a.link_create.attach_type = BPF_TRACE_RAW_TP;
			a.link_create.target_fd = 5;
			link = (int)bee_bpf(bee, BPF_LINK_CREATE, &a, sizeof(a));
		}
		CHECK(link >= 0, "link: %d", link);
		uint64_t args[2] = {0};
		CHECK(bee_link_run(bee, BPF_TRACE_RAW_TP, 5, args, sizeof(args)) == -ETIME,
		      "bee_link_run ends too");
		bee_free(bee);
	}
	/* a bounded loop well inside the budget still runs to its end */
	static const struct bpf_insn count[] = {MOV64_IMM(0, 0), ADD64_IMM(0, 1),
						 JEQ_IMM(0, 300, 1), JA(-3), EXIT()};
	struct bee *bee = new_bee(1000);
	int prog = bee_prog_load(bee, BPF_PROG_TYPE_XDP, "count", "GPL", count, LEN(count), NULL);
	struct bee_test_run_opts o = {.sz = sizeof(o), .data_in = pkt, .data_size_in = sizeof(pkt),
				      .repeat = 3};
	CHECK(bee_prog_test_run(bee, prog, &o) == 0 && o.retval == 300, "bounded loop: %u",
	      o.retval);
	bee_free(bee);
}

int main(void)
{
	snprintf(pin_dir, sizeof(pin_dir), "/tmp/bee-test-regress-%d", (int)getpid());
	test_pin_first_key_whitespace();
	test_checked_loop_budget();
	test_array_host_value_size();
	(void)get_file;
	rmdir(pin_dir);
	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
