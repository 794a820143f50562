/*
 * test_pkt_helpers.c - the packet helpers of BPF_PROG_TEST_RUN
 * (src/platform/pkt.c): bpf_skb_load_bytes, bpf_skb_load_bytes_relative,
 * bpf_skb_store_bytes, bpf_xdp_adjust_head/tail/meta.
 *
 * Two parts, each on the interpreter and the JIT, checked (unverified)
 * and verified (trusted_fast_path):
 *  - the clang-built tests/objects/c_pkt_helpers.bpf.o: return values,
 *    the bytes and the size of data_out, the XDP context out (the values
 *    are the kernel's: Linux 6.18 gave the same for every program on
 *    these packets);
 *  - small assembly programs for the error cases: offsets past the end,
 *    negative lengths, adjustments beyond the headroom, the tailroom or
 *    the metadata's rules, a forged context, a helper of the wrong
 *    packet kind, helpers outside a test run, and the checked engine
 *    following the packet as it moves (the bytes given up are out of
 *    bounds, the bytes gained in bounds).
 * The object part prints SKIP (and the rest runs) without the objects.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bee/bee.h"
#include "bee/insn.h"
#include "bee/object.h"
#include "platform/platform.h"

#include "unit.h"

static const char *mode_name;
static bool verified;

/* ---- running ---- */

struct run {
	int err;
	uint32_t ret;
	uint32_t size;
	uint8_t out[8192];
	struct xdp_md ctx;
};

static void test_run(struct bee *b, int fd, const uint8_t *in, uint32_t len, int repeat,
		     const struct xdp_md *ctx, struct run *r)
{
	memset(r, 0, sizeof(*r));
	struct bee_test_run_opts o = {.sz = sizeof(o), .data_in = in, .data_size_in = len,
				      .data_out = r->out, .data_size_out = sizeof(r->out),
				      .repeat = repeat};
	if (ctx) {
		r->ctx = *ctx;
		o.ctx_in = ctx;
		o.ctx_size_in = sizeof(*ctx);
		o.ctx_out = &r->ctx;
		o.ctx_size_out = sizeof(r->ctx);
	}
	r->err = bee_prog_test_run(b, fd, &o);
	r->ret = o.retval;
	r->size = o.data_size_out;
}

static uint8_t pkt[4096]; /* pkt[i] = i */

/* data_out must be exactly want (n bytes) */
static void check_out(const char *what, const struct run *r, const uint8_t *want, uint32_t n)
{
	CHECK(r->err == 0 && r->size == n && !memcmp(r->out, want, n),
	      "%s (%s): err %d, data_out %u bytes (want %u)%s", what, mode_name, r->err, r->size, n,
	      r->size == n ? ", different bytes" : "");
}

/* ---- the clang-built object ---- */

static void object_tests(struct bee *b, const char *path)
{
	struct bee_error err;
	struct bee_object_open_opts oo = {.sz = sizeof(oo), .err = &err};
	struct bee_object *obj = bee_object_open_file(path, &oo);
	struct bee_target t = bee_target_of(b);
	if (!obj || bee_object_load(obj, &t)) {
		CHECK(0, "%s (%s): %s", path, mode_name, obj ? bee_object_error(obj) : err.msg);
		bee_object_close(obj);
		return;
	}
#define FD(name) bee_program_fd(bee_object_find_program_by_name(obj, name))
	struct run r;
	uint8_t want[4096];

	/* socket filter: offsets from skb->data, after the Ethernet header,
	 * which comes back zeroed */
	test_run(b, FD("sk_load"), pkt, 40, 0, NULL, &r);
	memcpy(want, pkt, 40);
	memset(want, 0, 14);
	CHECK(r.ret == 0x13121110, "sk_load (%s): ret 0x%x", mode_name, r.ret);
	check_out("sk_load", &r, want, 40);
	test_run(b, FD("sk_load"), pkt, 14, 0, NULL, &r);
	CHECK(r.err == 0 && r.ret == (uint32_t)-EFAULT, "sk_load, empty (%s): ret 0x%x", mode_name,
	      r.ret);
	test_run(b, FD("sk_load_edge"), pkt, 40, 0, NULL, &r);
	CHECK(r.ret == (39u << 8 | 0x3f), "sk_load_edge (%s): ret 0x%x", mode_name, r.ret);
	test_run(b, FD("sk_load_rel"), pkt, 40, 0, NULL, &r);
	CHECK(r.ret == (39u << 24 | 14u << 16 | 5u << 8 | 0x3f), "sk_load_rel (%s): ret 0x%x",
	      mode_name, r.ret);

	/* tc: stores at 0, 6 and the last 4 bytes; the others refused */
	test_run(b, FD("tc_store"), pkt, 40, 0, NULL, &r);
	memcpy(want, pkt, 40);
	memcpy(want, "ABCD", 4);
	memcpy(want + 6, "AB", 2);
	memcpy(want + 36, "ABCD", 4);
	CHECK(r.ret == 0x41ff, "tc_store (%s): ret 0x%x", mode_name, r.ret);
	check_out("tc_store", &r, want, 40);
	test_run(b, FD("tc_load_rel"), pkt, 40, 0, NULL, &r);
	CHECK(r.ret == (39u << 24 | 14u << 16 | 14u << 8 | 7), "tc_load_rel (%s): ret 0x%x",
	      mode_name, r.ret);
	check_out("tc_load_rel", &r, pkt, 40);

	/* XDP: data_out follows data_meta and data_end */
	test_run(b, FD("xdp_pop"), pkt, 40, 0, NULL, &r);
	CHECK(r.ret == (14u << 8 | 0x1f), "xdp_pop (%s): ret 0x%x", mode_name, r.ret);
	check_out("xdp_pop", &r, pkt + 14, 26);
	/* repeated runs share the packet, as the kernel's: 60 -> 46 -> 32 -> 18 */
	test_run(b, FD("xdp_pop"), pkt, 60, 3, NULL, &r);
	CHECK(r.ret == (42u << 8 | 0x1f), "xdp_pop, repeat 3 (%s): ret 0x%x", mode_name, r.ret);
	check_out("xdp_pop, repeat 3", &r, pkt + 42, 18);
	test_run(b, FD("xdp_pop"), pkt, 27, 0, NULL, &r);
	CHECK(r.ret == (uint32_t)-EINVAL, "xdp_pop, 27 bytes (%s): ret 0x%x", mode_name, r.ret);
	check_out("xdp_pop, 27 bytes", &r, pkt, 27);

	test_run(b, FD("xdp_push"), pkt, 40, 0, NULL, &r);
	memcpy(want, "bee!", 4);
	memcpy(want + 4, pkt, 40);
	CHECK(r.ret == 0x650003, "xdp_push (%s): ret 0x%x", mode_name, r.ret);
	check_out("xdp_push", &r, want, 44);

	test_run(b, FD("xdp_head_limits"), pkt, 40, 0, NULL, &r);
	CHECK(r.ret == 0x1f, "xdp_head_limits (%s): ret 0x%x", mode_name, r.ret);
	check_out("xdp_head_limits", &r, pkt + 26, 14);

	/* shrunk to 14 bytes, then grown back by 28 zeroed ones */
	test_run(b, FD("xdp_tail"), pkt, 40, 0, NULL, &r);
	memcpy(want, pkt, 14);
	memset(want + 14, 0, 28);
	CHECK(r.ret == 0x7f, "xdp_tail (%s): ret 0x%x", mode_name, r.ret);
	check_out("xdp_tail", &r, want, 42);

	/* 8 bytes of metadata, moved along when data moved by 4 */
	struct xdp_md ctx = {.data_end = 40};
	test_run(b, FD("xdp_meta"), pkt, 40, 0, &ctx, &r);
	static const uint8_t meta[8] = {0x44, 0x33, 0x22, 0x11, 0x88, 0x77, 0x66, 0x55};
	memcpy(want, meta, 8);
	memcpy(want + 8, pkt + 4, 36);
	CHECK(r.ret == 0x447f, "xdp_meta (%s): ret 0x%x", mode_name, r.ret);
	check_out("xdp_meta", &r, want, 44);
	CHECK(r.ctx.data == 8 && r.ctx.data_end == 44 && r.ctx.data_meta == 0,
	      "xdp_meta ctx_out (%s): data %u data_end %u data_meta %u", mode_name, r.ctx.data,
	      r.ctx.data_end, r.ctx.data_meta);
#undef FD
	bee_object_close(obj);
}

/* ---- assembly ---- */

static char log_buf[16384];

static int load(struct bee *b, enum bpf_prog_type type, const char *src)
{
	struct bpf_insn *insns;
	size_t n;
	struct bee_error e;
	if (bee_asm(src, &insns, &n, &e)) {
		CHECK(0, "assembler: %s", e.msg);
		return -1;
	}
	struct bee_prog_load_opts o = {.sz = sizeof(o), .log_buf = log_buf,
				       .log_size = sizeof(log_buf), .log_level = 1};
	log_buf[0] = 0;
	int fd = bee_prog_load(b, type, "t", "GPL", insns, n, &o);
	free(insns);
	return fd;
}

/* A program both modes load: its test run's result. */
static void run_asm(struct bee *b, enum bpf_prog_type type, const char *src, const uint8_t *in,
		    uint32_t len, struct run *r)
{
	int fd = load(b, type, src);
	CHECK(fd >= 0, "load (%s): %d: %s", mode_name, fd, log_buf);
	if (fd < 0) {
		memset(r, 0, sizeof(*r));
		r->err = fd;
		return;
	}
	test_run(b, fd, in, len, 0, NULL, r);
	close(fd);
}

/* A program the verifier refuses (verified mode) and that a checked run
 * stops with -EFAULT (unverified). */
static void refused_or_faults(struct bee *b, enum bpf_prog_type type, const char *what,
			      const char *src, const char *msg, uint32_t len)
{
	int fd = load(b, type, src);
	if (verified) {
		CHECK(fd < 0 && strstr(log_buf, msg), "%s (%s): load %d, log: %s", what, mode_name,
		      fd, log_buf);
		if (fd >= 0)
			close(fd);
		return;
	}
	CHECK(fd >= 0, "%s (%s): load %d", what, mode_name, fd);
	struct run r;
	test_run(b, fd, pkt, len, 0, NULL, &r);
	CHECK(r.err == -EFAULT, "%s (%s): the checked run gave %d, ret 0x%x", what, mode_name,
	      r.err, r.ret);
	close(fd);
}

static void asm_tests(struct bee *b)
{
	struct run r;

	/* bpf_skb_load_bytes past the end: -EFAULT, the buffer zeroed */
	run_asm(b, BPF_PROG_TYPE_SOCKET_FILTER,
		"*(u64 *)(r10 -8) = -1\n"
		"r2 = 20\n"
		"r3 = r10\n"
		"r3 += -8\n"
		"r4 = 8\n"
		"call bpf_skb_load_bytes\n"
		"r6 = r0\n"
		"r0 = *(u64 *)(r10 -8)\n"
		"r0 += r6\n"
		"exit\n",
		pkt, 40, &r); /* skb->len 26: bytes 20..27 are two too many */
	CHECK(r.err == 0 && r.ret == (uint32_t)-EFAULT, "load_bytes past the end (%s): %d 0x%x",
	      mode_name, r.err, r.ret);
	/* the last 8 bytes are fine */
	run_asm(b, BPF_PROG_TYPE_SOCKET_FILTER,
		"r2 = 18\n"
		"r3 = r10\n"
		"r3 += -8\n"
		"r4 = 8\n"
		"call bpf_skb_load_bytes\n"
		"if r0 != 0 goto out\n"
		"r0 = *(u32 *)(r10 -4)\n"
		"out:\n"
		"exit\n",
		pkt, 40, &r);
	CHECK(r.err == 0 && r.ret == 0x27262524, "load_bytes, last bytes (%s): %d 0x%x", mode_name,
	      r.err, r.ret);

	/* negative lengths: the verifier refuses them; unverified, the helper
	 * refuses to touch 4 GiB (-EFAULT) */
	const char *neg_load = "r2 = 0\n"
			       "r3 = r10\n"
			       "r3 += -8\n"
			       "r4 = -1\n"
			       "call bpf_skb_load_bytes\n"
			       "exit\n";
	const char *neg_store = "*(u64 *)(r10 -8) = 0\n"
				"r2 = 0\n"
				"r3 = r10\n"
				"r3 += -8\n"
				"r4 = -1\n"
				"r5 = 0\n"
				"call bpf_skb_store_bytes\n"
				"exit\n";
	int fd = load(b, BPF_PROG_TYPE_SOCKET_FILTER, neg_load);
	if (verified) {
		CHECK(fd < 0 && strstr(log_buf, "R4 min value is negative"),
		      "negative len refused (%s): %d %s", mode_name, fd, log_buf);
	} else {
		test_run(b, fd, pkt, 40, 0, NULL, &r);
		CHECK(r.err == 0 && r.ret == (uint32_t)-EFAULT, "negative load len (%s): %d 0x%x",
		      mode_name, r.err, r.ret);
	}
	if (fd >= 0)
		close(fd);
	fd = load(b, BPF_PROG_TYPE_SCHED_CLS, neg_store);
	if (verified) {
		CHECK(fd < 0 && strstr(log_buf, "R4 min value is negative"),
		      "negative store len refused (%s): %d %s", mode_name, fd, log_buf);
	} else {
		test_run(b, fd, pkt, 40, 0, NULL, &r);
		CHECK(r.err == 0 && r.ret == (uint32_t)-EFAULT, "negative store len (%s): %d 0x%x",
		      mode_name, r.err, r.ret);
		check_out("negative store len", &r, pkt, 40);
	}
	if (fd >= 0)
		close(fd);

	/* bpf_skb_store_bytes: one byte past the end, bad flags; nothing written */
	run_asm(b, BPF_PROG_TYPE_SCHED_CLS,
		"*(u64 *)(r10 -8) = 0\n"
		"r6 = r1\n"
		"r2 = 33\n"
		"r3 = r10\n"
		"r3 += -8\n"
		"r4 = 8\n"
		"r5 = 0\n"
		"call bpf_skb_store_bytes\n"
		"r7 = r0\n"
		"r1 = r6\n"
		"r2 = 0\n"
		"r3 = r10\n"
		"r3 += -8\n"
		"r4 = 8\n"
		"r5 = 4\n"
		"call bpf_skb_store_bytes\n"
		"r0 <<= 8\n"
		"r7 &= 0xff\n"
		"r0 |= r7\n"
		"exit\n",
		pkt, 40, &r);
	CHECK(r.ret == (((uint32_t)-EINVAL << 8) | (uint8_t)-EFAULT),
	      "store_bytes errors (%s): 0x%x", mode_name, r.ret);
	check_out("store_bytes errors", &r, pkt, 40);

	/* bpf_xdp_adjust_head: 216 bytes of headroom (256 less the xdp_frame),
	 * not one more; the packet is unchanged on failure */
	run_asm(b, BPF_PROG_TYPE_XDP, "r2 = -217\ncall bpf_xdp_adjust_head\nexit\n", pkt, 40, &r);
	CHECK(r.err == 0 && r.ret == (uint32_t)-EINVAL, "adjust_head -217 (%s): %d 0x%x", mode_name,
	      r.err, r.ret);
	check_out("adjust_head -217", &r, pkt, 40);
	run_asm(b, BPF_PROG_TYPE_XDP, "r2 = -216\ncall bpf_xdp_adjust_head\nexit\n", pkt, 40, &r);
	CHECK(r.err == 0 && r.ret == 0 && r.size == 256, "adjust_head -216 (%s): %d 0x%x %u",
	      mode_name, r.err, r.ret, r.size);
	run_asm(b, BPF_PROG_TYPE_XDP, "r2 = 27\ncall bpf_xdp_adjust_head\nexit\n", pkt, 40, &r);
	CHECK(r.err == 0 && r.ret == (uint32_t)-EINVAL, "adjust_head 27 (%s): %d 0x%x", mode_name,
	      r.err, r.ret);
	/* bpf_xdp_adjust_tail: up to 3520 bytes from data (the page less the
	 * headroom and the skb_shared_info), down to 14 */
	run_asm(b, BPF_PROG_TYPE_XDP, "r2 = 3481\ncall bpf_xdp_adjust_tail\nexit\n", pkt, 40, &r);
	CHECK(r.err == 0 && r.ret == (uint32_t)-EINVAL, "adjust_tail +3481 (%s): %d 0x%x",
	      mode_name, r.err, r.ret);
	check_out("adjust_tail +3481", &r, pkt, 40);
	run_asm(b, BPF_PROG_TYPE_XDP, "r2 = 3480\ncall bpf_xdp_adjust_tail\nexit\n", pkt, 40, &r);
	CHECK(r.err == 0 && r.ret == 0 && r.size == 3520, "adjust_tail +3480 (%s): %d 0x%x %u",
	      mode_name, r.err, r.ret, r.size);
	run_asm(b, BPF_PROG_TYPE_XDP, "r2 = -27\ncall bpf_xdp_adjust_tail\nexit\n", pkt, 40, &r);
	CHECK(r.err == 0 && r.ret == (uint32_t)-EINVAL, "adjust_tail -27 (%s): %d 0x%x", mode_name,
	      r.err, r.ret);
	/* bpf_xdp_adjust_meta: misaligned -EACCES, past data -EINVAL, past
	 * the xdp_frame -EINVAL */
	run_asm(b, BPF_PROG_TYPE_XDP,
		"r6 = r1\n"
		"r2 = -6\n"
		"call bpf_xdp_adjust_meta\n"
		"r7 = r0\n"
		"r7 &= 0xff\n"
		"r1 = r6\n"
		"r2 = 1\n"
		"call bpf_xdp_adjust_meta\n"
		"r0 &= 0xff\n"
		"r0 <<= 8\n"
		"r7 |= r0\n"
		"r1 = r6\n"
		"r2 = -220\n"
		"call bpf_xdp_adjust_meta\n"
		"r0 &= 0xff\n"
		"r0 <<= 16\n"
		"r0 |= r7\n"
		"exit\n",
		pkt, 40, &r);
	CHECK(r.err == 0 && r.ret == ((uint8_t)-EINVAL << 16 | (uint8_t)-EINVAL << 8 |
				      (uint8_t)-EACCES),
	      "adjust_meta errors (%s): %d 0x%x", mode_name, r.err, r.ret);
	check_out("adjust_meta errors", &r, pkt, 40);

	/* unverified programs: a context that is not the run's, a helper of
	 * the other packet kind: -EINVAL, nothing touched */
	if (!verified) {
		run_asm(b, BPF_PROG_TYPE_XDP, "r1 = r10\nr2 = 4\ncall bpf_xdp_adjust_head\nexit\n",
			pkt, 40, &r);
		CHECK(r.err == 0 && r.ret == (uint32_t)-EINVAL, "forged ctx (%s): %d 0x%x",
		      mode_name, r.err, r.ret);
		check_out("forged ctx", &r, pkt, 40);
		run_asm(b, BPF_PROG_TYPE_SOCKET_FILTER,
			"*(u64 *)(r10 -8) = 0\n"
			"r2 = 0\n"
			"r3 = r10\n"
			"r3 += -8\n"
			"r4 = 8\n"
			"r5 = 0\n"
			"call bpf_skb_store_bytes\n"
			"exit\n",
			pkt, 40, &r);
		uint8_t want[40];
		memcpy(want, pkt, 40);
		memset(want, 0, 14);
		CHECK(r.err == 0 && r.ret == (uint32_t)-EINVAL, "store from a socket filter (%s): 0x%x",
		      mode_name, r.ret);
		check_out("store from a socket filter", &r, want, 40);
		run_asm(b, BPF_PROG_TYPE_XDP,
			"r2 = 0\n"
			"r3 = r10\n"
			"r3 += -8\n"
			"r4 = 8\n"
			"call bpf_skb_load_bytes\n"
			"exit\n",
			pkt, 40, &r);
		CHECK(r.err == 0 && r.ret == (uint32_t)-EINVAL, "skb helper in XDP (%s): 0x%x",
		      mode_name, r.ret);
	}

	/* The checked engine follows the packet: after adjust_head(14) the old
	 * first byte is out of bounds (the verifier: a scalar), after
	 * adjust_head(-4) the new first bytes are in. */
	refused_or_faults(b, BPF_PROG_TYPE_XDP, "old data after adjust_head",
			  "r6 = r1\n"
			  "r7 = *(u32 *)(r1 +0)\n"
			  "r8 = *(u32 *)(r1 +4)\n"
			  "r2 = r7\n"
			  "r2 += 1\n"
			  "if r2 > r8 goto out\n"
			  "r1 = r6\n"
			  "r2 = 14\n"
			  "call bpf_xdp_adjust_head\n"
			  "r0 = *(u8 *)(r7 +0)\n"
			  "out:\n"
			  "exit\n",
			  "R7 invalid mem access 'scalar'", 40);
	refused_or_faults(b, BPF_PROG_TYPE_XDP, "old end after adjust_tail",
			  "r6 = r1\n"
			  "r7 = *(u32 *)(r1 +0)\n"
			  "r8 = *(u32 *)(r1 +4)\n"
			  "r2 = r7\n"
			  "r2 += 40\n"
			  "if r2 > r8 goto out\n"
			  "r1 = r6\n"
			  "r2 = -8\n"
			  "call bpf_xdp_adjust_tail\n"
			  "r0 = *(u8 *)(r7 +39)\n"
			  "out:\n"
			  "exit\n",
			  "R7 invalid mem access 'scalar'", 40);
	run_asm(b, BPF_PROG_TYPE_XDP,
		"r6 = r1\n"
		"r2 = -4\n"
		"call bpf_xdp_adjust_head\n"
		"r2 = *(u32 *)(r6 +0)\n"
		"r3 = *(u32 *)(r6 +4)\n"
		"r4 = r2\n"
		"r4 += 4\n"
		"if r4 > r3 goto out\n"
		"r1 = 0x21656562\n"
		"*(u32 *)(r2 +0) = r1\n"
		"out:\n"
		"exit\n",
		pkt, 40, &r);
	uint8_t want[64];
	memcpy(want, "bee!", 4);
	memcpy(want + 4, pkt, 40);
	CHECK(r.err == 0 && r.ret == 0, "write after adjust_head (%s): %d 0x%x", mode_name, r.err,
	      r.ret);
	check_out("write after adjust_head", &r, want, 44);

	/* metadata from the context: data_in starts with it; the kernel's rules */
	fd = load(b, BPF_PROG_TYPE_XDP,
		  "r2 = *(u32 *)(r1 +8)\n"
		  "r3 = *(u32 *)(r1 +0)\n"
		  "r4 = r2\n"
		  "r4 += 8\n"
		  "r0 = 0\n"
		  "if r4 > r3 goto out\n"
		  "r0 = *(u32 *)(r2 +4)\n"
		  "out:\n"
		  "exit\n");
	CHECK(fd >= 0, "metadata reader (%s): %d %s", mode_name, fd, log_buf);
	struct xdp_md ctx = {.data = 8, .data_end = 40};
	test_run(b, fd, pkt, 40, 0, &ctx, &r);
	CHECK(r.err == 0 && r.ret == 0x07060504 && r.ctx.data == 8 && r.ctx.data_end == 40,
	      "metadata in (%s): %d 0x%x ctx %u %u", mode_name, r.err, r.ret, r.ctx.data,
	      r.ctx.data_end);
	check_out("metadata in", &r, pkt, 40);
	static const struct {
		uint32_t data, data_end, data_meta, len;
	} bad[] = {
		{6, 40, 0, 40},   /* not a multiple of 4 */
		{8, 39, 0, 40},   /* data_end is not the length */
		{8, 40, 4, 40},   /* data_meta not 0 */
		{8, 21, 0, 21},   /* 13 bytes of packet */
		{220, 300, 0, 300}, /* no room left for the xdp_frame */
	};
	for (size_t i = 0; i < LEN(bad); i++) {
		struct xdp_md c = {.data = bad[i].data, .data_end = bad[i].data_end,
				   .data_meta = bad[i].data_meta};
		test_run(b, fd, pkt, bad[i].len, 0, &c, &r);
		CHECK(r.err == -EINVAL, "bad metadata %zu (%s): %d", i, mode_name, r.err);
	}
	struct xdp_md most = {.data = 216, .data_end = 300};
	test_run(b, fd, pkt, 300, 0, &most, &r);
	CHECK(r.err == 0 && r.ret == 0x07060504 && r.size == 300, "216 bytes of metadata (%s): %d",
	      mode_name, r.err);
	close(fd);
}

/* Outside a test run the helpers have no packet: -EINVAL. */
static void outside_a_run(void)
{
	struct bee_helper_table *t = bee_helper_table_new();
	CHECK(t && bee_helper_table_add_builtins(t) == 0, "builtins");
	static const int32_t ids[] = {BPF_FUNC_skb_load_bytes, BPF_FUNC_skb_load_bytes_relative,
				      BPF_FUNC_skb_store_bytes, BPF_FUNC_xdp_adjust_head,
				      BPF_FUNC_xdp_adjust_tail, BPF_FUNC_xdp_adjust_meta};
	struct __sk_buff skb = {0};
	uint8_t buf[8] = {1};
	for (size_t i = 0; t && i < LEN(ids); i++) {
		const struct bee_helper *h = bee_helper_table_find(t, ids[i]);
		CHECK(h && h->fn, "helper %d registered", ids[i]);
		if (!h || !h->fn)
			continue;
		uint64_t r = h->fn((uintptr_t)&skb, 0, (uintptr_t)buf, 1, 0);
		CHECK(r == (uint64_t)-EINVAL && buf[0] == 1, "helper %s outside a run: %lld",
		      h->name, (long long)r);
	}
	bee_helper_table_free(t);
}

int main(int argc, char **argv)
{
	(void)argc;
	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)i;
	/* the objects are built next to this test: <build>/tests/objects */
	char exe[4096], path[4200];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	snprintf(path, sizeof(path), "%s/objects/c_pkt_helpers.bpf.o", n > 0 ? dirname(exe) : ".");
	bool have_object = access(path, R_OK) == 0;
	if (!have_object)
		printf("SKIP: %s missing (no clang with a BPF target): object part not run (%s)\n",
		       path, argv[0]);
	char pins[] = "/tmp/bee-test-pkt-XXXXXX";
	if (!mkdtemp(pins)) {
		perror("mkdtemp");
		return 1;
	}
	static const char *const names[] = {"interp checked", "jit checked", "interp verified",
					    "jit verified"};
	for (int m = 0; m < 4; m++) {
		mode_name = names[m];
		verified = m >= 2;
		struct bee_opts o = {.sz = sizeof(o), .pin_dir = pins, .ncpus = 2,
				     .engine = m % 2 ? BEE_ENGINE_JIT : BEE_ENGINE_INTERP,
				     .trusted_fast_path = verified};
		struct bee *b = bee_new(&o);
		CHECK(b, "bee_new");
		if (!b)
			continue;
		if (have_object)
			object_tests(b, path);
		asm_tests(b);
		bee_free(b);
	}
	outside_a_run();
	rmdir(pins);
	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
