/*
 * test_verify.c - hand-written cases for bee's first verifier: programs it
 * must accept (context read, map lookup with null check and in-bounds
 * store, packet bounds check, bounded loop) and programs it must refuse,
 * each with the kernel's message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bee/insn.h"
#include "core/core.h"
#include "platform/progtypes.h"
#include "verify/verify.h"

static int failures;

static void check(const char *name, unsigned type, const char *src, const char *want)
{
	struct bpf_insn *insns = NULL;
	size_t n = 0;
	struct bee_error e;
	memset(&e, 0, sizeof(e));
	if (bee_asm(src, &insns, &n, &e) < 0) {
		printf("FAIL %s: assembler: %s\n", name, e.msg);
		failures++;
		return;
	}
	struct bee_helper_table *h = bee_helper_table_new();
	bee_helper_table_add_builtins(h);
	bee_core_add_helpers(h);
	struct bee_verify_map maps[] = {{.type = BPF_MAP_TYPE_HASH,
					 .key_size = 8,
					 .value_size = 8,
					 .max_entries = 16}};
	static char log[4096];
	struct bee_verify_opts o = {.sz = sizeof(o), .prog_type = bee_prog_type_builtin(type),
				    .helpers = h, .maps = maps, .n_maps = 1, .log_buf = log,
				    .log_size = sizeof(log), .log_level = 1};
	struct bee_verify_result r;
	int err = bee_verify(insns, n, &o, &r);
	bool ok = want ? err < 0 && strstr(log, want) : err == 0;
	if (!ok) {
		printf("FAIL %s: want %s%s, got err=%d: %s\n", name, want ? "reject " : "accept",
		       want ? want : "", err, log);
		failures++;
	} else {
		printf("ok   %s\n", name);
	}
	free(insns);
	bee_helper_table_free(h);
}

#define SF BPF_PROG_TYPE_SOCKET_FILTER
#define XDP BPF_PROG_TYPE_XDP

int main(void)
{
	check("ctx-read", SF, "r0 = *(u32 *)(r1 +0)\nexit\n", NULL);
	check("map-lookup-null-check-store", SF,
	      "*(u64 *)(r10 -8) = 0\nr2 = r10\nr2 += -8\nr1 = map[idx:0] ll\n"
	      "call bpf_map_lookup_elem\nif r0 == 0 goto out\n*(u64 *)(r0 +0) = 1\n"
	      "out:\nr0 = 0\nexit\n",
	      NULL);
	check("packet-bounds", XDP,
	      "r2 = *(u32 *)(r1 +0)\nr3 = *(u32 *)(r1 +4)\nr4 = r2\nr4 += 14\n"
	      "if r4 > r3 goto out\nr0 = *(u8 *)(r2 +13)\nout:\nr0 = 2\nexit\n",
	      NULL);
	check("bounded-loop", SF,
	      "r1 = 0\nloop:\nr1 += 1\nif r1 < 10 goto loop\nr0 = 0\nexit\n", NULL);
	check("r0-not-init", SF, "exit\n", "R0 !read_ok");
	check("scalar-deref", SF, "r1 = 0\nr0 = *(u64 *)(r1 +0)\nexit\n",
	      "R1 invalid mem access 'scalar'");
	check("lookup-no-null-check", SF,
	      "*(u64 *)(r10 -8) = 0\nr2 = r10\nr2 += -8\nr1 = map[idx:0] ll\n"
	      "call bpf_map_lookup_elem\nr0 = *(u64 *)(r0 +0)\nexit\n",
	      "R0 invalid mem access 'map_value_or_null'");
	check("map-value-oob", SF,
	      "*(u64 *)(r10 -8) = 0\nr2 = r10\nr2 += -8\nr1 = map[idx:0] ll\n"
	      "call bpf_map_lookup_elem\nif r0 == 0 goto out\nr1 = *(u64 *)(r0 +8)\n"
	      "out:\nr0 = 0\nexit\n",
	      "invalid access to map value, value_size=8 off=8 size=8");
	check("stack-oob", SF, "*(u64 *)(r10 -520) = 0\nr0 = 0\nexit\n", "invalid write to stack");
	check("packet-unchecked", XDP, "r2 = *(u32 *)(r1 +0)\nr0 = *(u8 *)(r2 +0)\nr0 = 2\nexit\n",
	      "invalid access to packet");
	check("return-range", BPF_PROG_TYPE_CGROUP_SKB, "r0 = 7\nexit\n",
	      "At program exit the register R0 has");
	check("unreachable", SF, "r0 = 0\nexit\nr0 = 1\nexit\n", "unreachable insn 2");
	check("jump-out-of-range", SF, "r0 = 0\ngoto +5\nexit\n", "jump out of range from insn 1 to 7");
	check("infinite-loop", SF, "r0 = 0\nl:\ngoto l\n", "infinite loop detected");
	check("unknown-helper", SF, "call 99999\nr0 = 0\nexit\n", "invalid func unknown#99999");
	check("unbounded-loop", SF, "r1 = 0\nl:\nr1 += 1\nif r1 != 0 goto l\nr0 = 0\nexit\n",
	      "BPF program is too large");
	check("bpf2bpf-call", SF, "r1 = 3\ncall f\nexit\nf:\nr0 = r1\nexit\n", NULL);
	check("bpf2bpf-r1-clobbered", SF, "r1 = 3\ncall f\nr0 = r1\nexit\nf:\nr0 = 0\nexit\n",
	      "R1 !read_ok");
	check("kfunc-unsupported", SF, "call kfunc 42\nr0 = 0\nexit\n",
	      "bee verifier: kfunc calls not supported yet");
	check("atomic-misaligned-map-value", SF,
	      "*(u64 *)(r10 -8) = 0\nr2 = r10\nr2 += -8\nr1 = map[idx:0] ll\n"
	      "call bpf_map_lookup_elem\nif r0 == 0 goto out\nr1 = 1\n"
	      "lock *(u64 *)(r0 +1) += r1\nout:\nr0 = 0\nexit\n",
	      "misaligned value access");
	printf("%s\n", failures ? "FAILED" : "all passed");
	return failures ? 1 : 0;
}
