/*
 * core.c - CO-RE with a target BTF the host supplies.  core.bpf.o was
 * compiled against one layout of struct conn; core_v2.bpf.o carries
 * another (the "running system's").  The host opens core.bpf.o twice:
 * without a target BTF (the object's own types: offsets unchanged) and with
 * btf_custom_path = core_v2.bpf.o, and hands the program a struct conn
 * laid out as each target has it.  The same program reads the same values
 * from both, because the loader rewrote its field offsets.
 *
 * Usage: core [interp|jit]   (default: both engines)
 */
#include <stdint.h>

#include "example.h"

struct conn_v1 { /* core.bpf.c's layout */
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t flags;
};

struct conn_v2 { /* core_v2.bpf.c's layout */
	uint64_t cookie;
	uint16_t dport, sport;
	uint32_t daddr, saddr;
};

struct seen {
	uint32_t saddr, daddr, sport, dport, flags, has_flags, dport_off;
};

static int run_one(enum bee_engine engine, const char *target_btf, void *ctx, size_t len,
		   struct seen *out)
{
	struct bee *b = example_bee(engine);
	struct bee_object_open_opts oo = {.sz = sizeof(oo), .btf_custom_path = target_btf};
	struct bee_object *obj = example_open("core", &oo);
	int rc = 1;
	if (!b || !obj || example_load(obj, b))
		goto out;
	int prog = bee_program_fd(bee_object_find_program_by_name(obj, "summarize"));
	struct bee_test_run_opts o = {.sz = sizeof(o), .ctx_in = ctx, .ctx_size_in = (uint32_t)len};
	uint32_t zero = 0;
	struct bee_object_map *bss = bee_object_find_map_by_name(obj, ".bss");
	if (bee_prog_test_run(b, prog, &o) ||
	    bee_map_lookup(b, bee_object_map_fd(bss), &zero, out))
		goto out;
	rc = 0;
out:
	bee_object_close(obj);
	bee_free(b);
	return rc;
}

static void show(const char *what, const struct seen *s)
{
	printf("  %-28s %u.%u.%u.%u:%u -> %u.%u.%u.%u:%u, flags field %s, dport at offset %u\n", what,
	       s->saddr >> 24, s->saddr >> 16 & 255, s->saddr >> 8 & 255, s->saddr & 255, s->sport,
	       s->daddr >> 24, s->daddr >> 16 & 255, s->daddr >> 8 & 255, s->daddr & 255, s->dport,
	       s->has_flags ? "present" : "absent", s->dport_off);
}

static int core_on(enum bee_engine engine)
{
	struct conn_v1 c1 = {.saddr = 0x0a000001, .daddr = 0x0a000002, .sport = 40000, .dport = 443,
			     .flags = 3};
	struct conn_v2 c2 = {.cookie = 0xc00c1e, .dport = 443, .sport = 40000,
			     .daddr = 0x0a000002, .saddr = 0x0a000001};
	struct seen s1, s2;
	char v2[4096];
	snprintf(v2, sizeof(v2), "%s", example_obj_path("core_v2"));
	printf("[%s] the same program, two layouts of struct conn:\n", example_engine_name(engine));
	if (run_one(engine, NULL, &c1, sizeof(c1), &s1) || run_one(engine, v2, &c2, sizeof(c2), &s2))
		return 1;
	show("own BTF (compiled layout):", &s1);
	show("target BTF core_v2.bpf.o:", &s2);
	return s1.saddr == s2.saddr && s1.daddr == s2.daddr && s1.sport == s2.sport &&
			       s1.dport == s2.dport && s1.has_flags && !s2.has_flags &&
			       s1.dport_off == 10 && s2.dport_off == 8
		       ? 0
		       : 1;
}

int main(int argc, char **argv)
{
	return example_main(argc, argv, core_on);
}
