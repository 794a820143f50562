/*
 * diff_objects.c - the object loader against the real kernel.
 *
 * Theory of operation.  Each clang-built object below is opened twice and
 * loaded with the same loader code into two targets: a bee instance
 * (bee_target_of) and the running kernel (bee_target_kernel, plain
 * syscall(__NR_bpf)).  Every socket filter, tc and XDP program is then run
 * on the same packets in both, and the return values must agree.  Then
 * the translated instructions each target reports (BPF_OBJ_GET_INFO_BY_FD
 * xlated_prog_insns) are compared instruction for instruction, with map
 * ids replaced by the map's position in the object (ids differ between
 * targets).  The kernel's verifier rewrites some instructions, so only
 * programs where it does not are required to match:
 *
 *  - helper calls: the kernel's xlated imm is the helper's address offset
 *    from __bpf_call_base, not the helper id;
 *  - context accesses (skb->len, ctx->data...): converted to the real
 *    struct sk_buff / xdp_buff offsets (convert_ctx_accesses);
 *  - bpf-to-bpf calls: after JIT the kernel's imm holds the subprogram
 *    number;
 *  - map lookups of arrays and hashes: inlined by the verifier.
 *
 * Programs free of all four (constant returns, pure arithmetic, global
 * data through BPF_PSEUDO_MAP_VALUE) must be identical; for the others the
 * test prints the first difference and why it is expected.  That the
 * instructions bee's loader gives the kernel are, before the verifier,
 * exactly libbpf's, and that bee's own xlated dump is exactly those, is
 * kernel/diff_libbpf's job.
 *
 * Exits 0 when everything required agrees, 1 on a difference, 77 (SKIP,
 * with the reason) without bpf() or without the clang-built objects.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bee/bee.h"
#include "bee/object.h"

#include "kbpf.h"

#ifndef BEE_TEST_OBJECTS_DIR
#define BEE_TEST_OBJECTS_DIR ""
#endif

static int failures, compared_runs, identical, expected_diffs;

static const char *const objects[] = {
	"socket", "xdp", "multi", "subprog", "obj_counter", "obj_gcalls", "obj_callback",
	"obj_mim", "maps_legacy", "obj_printk",
	/* the data-driven corpus (tests/objects/README.md) */
	/* the data-driven corpus (tests/objects/README.md), where the kernel
	 * takes the object as it is: not c_map_lru, c_map_queue_stack,
	 * c_map_lpm, c_map_bloom (the verifier refuses their loops or their
	 * maps in sleepable syscall programs), c_core_* (local types vmlinux
	 * lacks), c_kconfig (needs open options) */
	"c_sec_socket", "c_sec_xdp", "c_sec_tc", "c_sec_tc_legacy", "c_sec_raw_tp",
	"c_sec_tracepoint", "c_sec_kprobe", "c_sec_syscall", "c_map_hash", "c_map_array",
	"c_map_percpu", "c_map_ringbuf", "c_map_tailcall", "c_map_tailcall_init", "c_map_of_maps",
	"c_map_legacy", "c_map_resize", "c_glob_data", "c_glob_rodata", "c_glob_bss",
	"c_glob_custom", "c_glob_strings", "c_glob_printk", "c_sub_static", "c_sub_global",
	"c_cb_loop", "c_cb_foreach", "c_loop_bounded", "c_atomic_add", "c_atomic_fetch",
	"c_pkt_helpers",
};

/* Programs whose xlated code the kernel leaves alone. */
static const char *const must_match[] = {
	"xdp_one", "xdp_two", "tc_first",
	/* corpus programs: constant returns, raw_tp/tracepoint/kprobe/syscall
	 * contexts (not converted), global data, loops, atomics */
	"act_ok", "cg_allow", "on_sys_enter", "tp_openat", "tp_short", "kp_args", "krp_rc",
	"sys_add", "leaf_a", "leaf_b", "bump", "configured", "record", "custom", "str_len",
	"str_first", "collatz", "fetch_ops",
};


/* xlated instructions and map ids of a program, from either target. */
static int xlated(struct bee *b, int fd, struct bpf_insn *out, uint32_t *n, uint32_t *ids,
		  uint32_t *nids)
{
	struct bpf_prog_info info;
	memset(&info, 0, sizeof(info));
	info.xlated_prog_len = *n * sizeof(*out);
	info.xlated_prog_insns = (uint64_t)(uintptr_t)out;
	info.nr_map_ids = *nids;
	info.map_ids = (uint64_t)(uintptr_t)ids;
	uint32_t len = sizeof(info);
	int err = b ? bee_obj_get_info_by_fd(b, fd, &info, &len) : kbpf_obj_info(fd, &info, len);
	if (err)
		return err;
	*n = info.xlated_prog_len / sizeof(*out);
	*nids = info.nr_map_ids < *nids ? info.nr_map_ids : *nids;
	return 0;
}

static int id_index(const uint32_t *ids, uint32_t n, int32_t id)
{
	for (uint32_t i = 0; i < n; i++)
		if (ids[i] == (uint32_t)id)
			return (int)i;
	return -1;
}

static const char *why_differs(const struct bpf_insn *bi)
{
	if (bi->code == (BPF_JMP | BPF_CALL) && bi->src_reg == 0)
		return "helper call: the kernel's imm is the helper's address";
	if (bi->code == (BPF_LD | BPF_IMM | BPF_DW) && bi->src_reg == BPF_PSEUDO_FUNC)
		return "callback address: the kernel's imm is the subprogram's, after JIT";
	if (bi->code == (BPF_JMP | BPF_CALL) && bi->src_reg == BPF_PSEUDO_CALL)
		return "bpf-to-bpf call: the kernel's imm is the subprogram number";
	if (BPF_CLASS(bi->code) == BPF_LDX || BPF_CLASS(bi->code) == BPF_STX ||
	    BPF_CLASS(bi->code) == BPF_ST)
		return "context access converted to the kernel's struct offsets";
	return "verifier rewrite (inlined map lookup or a sequence around it)";
}

static void compare_xlated(struct bee *b, const char *name, int bfd, int kfd)
{
	static struct bpf_insn bi[4096], ki[4096];
	uint32_t bn = 4096, kn = 4096, bids[64], kids[64], nb = 64, nk = 64;
	if (xlated(b, bfd, bi, &bn, bids, &nb) || xlated(NULL, kfd, ki, &kn, kids, &nk)) {
		printf("  %-14s xlated: not readable\n", name);
		failures++;
		return;
	}
	bool must = false;
	for (size_t i = 0; i < sizeof(must_match) / sizeof(must_match[0]); i++)
		must |= !strcmp(must_match[i], name);
	uint32_t n = bn < kn ? bn : kn;
	for (uint32_t i = 0; i < n; i++) {
		struct bpf_insn x = bi[i], y = ki[i];
		if (i > 0 && bi[i - 1].code == (BPF_LD | BPF_IMM | BPF_DW)) {
			/* second half: offsets compared as they are */
		} else if (x.code == (BPF_LD | BPF_IMM | BPF_DW) &&
			   (x.src_reg == BPF_PSEUDO_MAP_FD || x.src_reg == BPF_PSEUDO_MAP_VALUE)) {
			x.imm = id_index(bids, nb, x.imm);
			y.imm = id_index(kids, nk, y.imm);
		}
		if (memcmp(&x, &y, sizeof(x))) {
			printf("  %-14s xlated differs at insn %u (bee %02x %u %u %d %d, kernel %02x %u "
			       "%u %d %d): %s%s\n", name, i, x.code, x.dst_reg, x.src_reg, x.off, x.imm,
			       y.code, y.dst_reg, y.src_reg, y.off, y.imm, why_differs(&bi[i]),
			       must ? "  <-- must match" : "");
			if (must)
				failures++;
			else
				expected_diffs++;
			return;
		}
	}
	if (bn != kn) {
		printf("  %-14s xlated lengths differ: bee %u, kernel %u (verifier rewrite)%s\n", name,
		       bn, kn, must ? "  <-- must match" : "");
		if (must)
			failures++;
		else
			expected_diffs++;
		return;
	}
	printf("  %-14s xlated identical (%u insns)\n", name, bn);
	identical++;
}

static void diff_object(struct bee *b, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s.bpf.o", BEE_TEST_OBJECTS_DIR, name);
	struct bee_error err;
	struct bee_object_open_opts o = {.sz = sizeof(o), .err = &err};
	struct bee_object *bo = bee_object_open_file(path, &o);
	struct bee_object *ko = bee_object_open_file(path, &o);
	if (!bo || !ko) {
		printf("%s: open failed: %s\n", name, err.msg);
		failures++;
		goto out;
	}
	struct bee_target bt = bee_target_of(b), kt = bee_target_kernel();
	if (bee_object_load(bo, &bt)) {
		printf("%s: bee refused it: %s\n", name, bee_object_error(bo));
		failures++;
		goto out;
	}
	if (bee_object_load(ko, &kt)) {
		printf("%s: the kernel refused it (not compared): %.300s\n", name, bee_object_error(ko));
		goto out;
	}
	printf("%s:%s%s\n", name, bee_object_warnings(ko)[0] ? " kernel warnings: " : "",
	       bee_object_warnings(ko));
	for (struct bee_program *bp = bee_object_next_program(bo, NULL); bp;
	     bp = bee_object_next_program(bo, bp)) {
		struct bee_program *kp = bee_object_find_program_by_name(ko, bee_program_name(bp));
		int bfd = bee_program_fd(bp), kfd = kp ? bee_program_fd(kp) : -1;
		if (bfd < 0 || kfd < 0)
			continue;
		enum bpf_prog_type t = bee_program_type(bp);
		if (t == BPF_PROG_TYPE_SOCKET_FILTER || t == BPF_PROG_TYPE_XDP ||
		    t == BPF_PROG_TYPE_SCHED_CLS) {
			static const uint32_t lens[] = {14, 60, 64, 200};
			for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
				uint8_t pkt[256];
				for (size_t i = 0; i < sizeof(pkt); i++)
					pkt[i] = (uint8_t)(i * 7 + l);
				if (l == 1)
					pkt[12] = 0x86, pkt[13] = 0xdd;
				struct bee_test_run_opts ro = {.sz = sizeof(ro), .data_in = pkt,
							       .data_size_in = lens[l]};
				uint32_t kret = 0;
				int be = bee_prog_test_run(b, bfd, &ro);
				int ke = kbpf_test_run(kfd, pkt, lens[l], 1, &kret, NULL);
				compared_runs++;
				if (be != ke || (!be && ro.retval != kret)) {
					printf("  %-14s len %u: bee %d/%u, kernel %d/%u\n",
					       bee_program_name(bp), lens[l], be, ro.retval, ke, kret);
					failures++;
				}
			}
		}
		compare_xlated(b, bee_program_name(bp), bfd, kfd);
	}
out:
	bee_object_close(bo);
	bee_object_close(ko);
}

int main(void)
{
	char why[256];
	if (!BEE_TEST_OBJECTS_DIR[0]) {
		printf("SKIP: no clang with a BPF target, no test objects\n");
		return 77;
	}
	if (kbpf_probe(why, sizeof(why))) {
		printf("SKIP: %s\n", why);
		return 77;
	}
	char pins[] = "/tmp/bee-diff-objects-XXXXXX";
	if (!mkdtemp(pins))
		return 1;
	for (int e = 0; e < 2; e++) {
		struct bee_opts bo = {.sz = sizeof(bo), .pin_dir = pins,
				      .engine = e ? BEE_ENGINE_JIT : BEE_ENGINE_INTERP};
		struct bee *b = bee_new(&bo);
		if (!b)
			return 1;
		printf("== engine %s\n", e ? "jit" : "interp");
		for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++)
			diff_object(b, objects[i]);
		bee_free(b);
	}
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pins);
	if (system(cmd))
		printf("warning: could not remove %s\n", pins);
	printf("%d runs compared, %d programs with identical xlated code, %d expected differences, "
	       "%d failures\n", compared_runs, identical, expected_diffs, failures);
	return failures ? 1 : 0;
}
