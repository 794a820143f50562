/*
 * diff_pkt.c - the packet helpers (bpf_skb_load_bytes[_relative],
 * bpf_skb_store_bytes, bpf_xdp_adjust_head/tail/meta) in bee against the
 * kernel's.
 *
 * Theory of operation.  tests/objects/c_pkt_helpers.bpf.o is loaded into
 * the kernel and into three bee instances (interpreter, JIT, and the
 * verified fast path), each program is test-run on packets of 12 lengths
 * from 14 to 3520 bytes (the largest an XDP test run keeps in one page),
 * with repeat 1 and 3 (the packet state carries over between repeats), and
 * XDP programs also with an input context carrying 0 or 8 bytes of
 * metadata.  Every run must give the kernel's errno, return value,
 * data_out bytes and size, and (XDP with a context) the context's data,
 * data_end and data_meta offsets.
 *
 * Exits 0 when all agree, 1 on a difference, 77 (SKIP, with the reason)
 * without bpf() or the clang-built object.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "bee/bee.h"
#include "bee/object.h"

#include "kbpf.h"

#ifndef BEE_TEST_OBJECTS_DIR
#define BEE_TEST_OBJECTS_DIR ""
#endif

struct out { int err; uint32_t ret, size; uint8_t data[8192]; uint32_t ctx[6]; };

static void kern_run(int fd, const uint8_t *in, uint32_t len, uint32_t repeat, struct out *o,
		     const void *ctx, uint32_t clen)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	memset(o, 0, sizeof(*o));
	a.test.prog_fd = fd;
	a.test.data_in = (uint64_t)(uintptr_t)in;
	a.test.data_size_in = len;
	a.test.data_out = (uint64_t)(uintptr_t)o->data;
	a.test.data_size_out = sizeof(o->data);
	a.test.repeat = repeat;
	if (ctx) {
		memcpy(o->ctx, ctx, clen);
		a.test.ctx_in = (uint64_t)(uintptr_t)ctx;
		a.test.ctx_size_in = clen;
		a.test.ctx_out = (uint64_t)(uintptr_t)o->ctx;
		a.test.ctx_size_out = clen;
	}
	long r = kbpf_target_bpf(NULL, BPF_PROG_TEST_RUN, &a, sizeof(a));
	o->err = r < 0 ? (int)r : 0;
	o->ret = a.test.retval;
	o->size = a.test.data_size_out;
}

static void bee_run(struct bee *b, int fd, const uint8_t *in, uint32_t len, uint32_t repeat,
		    struct out *o, const void *ctx, uint32_t clen)
{
	memset(o, 0, sizeof(*o));
	struct bee_test_run_opts ro = {.sz = sizeof(ro), .data_in = in, .data_size_in = len,
				       .data_out = o->data, .data_size_out = sizeof(o->data),
				       .repeat = (int)repeat};
	if (ctx) {
		memcpy(o->ctx, ctx, clen);
		ro.ctx_in = ctx;
		ro.ctx_size_in = clen;
		ro.ctx_out = o->ctx;
		ro.ctx_size_out = clen;
	}
	o->err = bee_prog_test_run(b, fd, &ro);
	o->ret = ro.retval;
	o->size = ro.data_size_out;
}

static void dump(const char *who, const struct out *o)
{
	printf("    %-7s err %d ret 0x%x size %u:", who, o->err, o->ret, o->size);
	for (uint32_t i = 0; i < o->size && i < 40; i++)
		printf(" %02x", o->data[i]);
	printf("\n");
}

int main(int argc, char **argv)
{
	char path[4096], why[256];
	snprintf(path, sizeof(path), "%s/c_pkt_helpers.bpf.o", BEE_TEST_OBJECTS_DIR);
	bool verbose = argc > 1 && !strcmp(argv[1], "-v");
	if (!BEE_TEST_OBJECTS_DIR[0] || access(path, R_OK)) {
		printf("SKIP: no clang-built %s\n", path);
		return 77;
	}
	if (kbpf_probe(why, sizeof(why))) {
		printf("SKIP: %s\n", why);
		return 77;
	}
	struct bee_error err;
	struct bee_object_open_opts oo = {.sz = sizeof(oo), .err = &err};
	struct bee_object *ko = bee_object_open_file(path, &oo);
	struct bee_target kt = bee_target_kernel();
	if (!ko || bee_object_load(ko, &kt)) {
		printf("kernel load failed: %s\n", ko ? bee_object_error(ko) : err.msg);
		bee_object_close(ko);
		return 1;
	}
	struct bee *bees[3] = {NULL, NULL, NULL};
	struct bee_object *bos[3] = {NULL, NULL, NULL};
	const char *names[3] = {"interp", "jit", "trusted"};
	int bad = 0, runs = 0;
	for (int e = 0; e < 3; e++) {
		struct bee_opts bo = {.sz = sizeof(bo),
				      .engine = e == 1 ? BEE_ENGINE_JIT : BEE_ENGINE_INTERP,
				      .trusted_fast_path = e == 2};
		bees[e] = bee_new(&bo);
		bos[e] = bees[e] ? bee_object_open_file(path, &oo) : NULL;
		struct bee_target bt = bee_target_of(bees[e]);
		if (!bos[e] || bee_object_load(bos[e], &bt)) {
			printf("bee %s load failed: %s\n", names[e],
			       bos[e] ? bee_object_error(bos[e]) : err.msg);
			bad++;
			goto out;
		}
	}
	static const uint32_t lens[] = {14, 15, 17, 18, 20, 28, 29, 60, 64, 200, 1500, 3520};
	for (struct bee_program *kp = bee_object_next_program(ko, NULL); kp;
	     kp = bee_object_next_program(ko, kp)) {
		const char *pn = bee_program_name(kp);
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
			for (uint32_t rep = 1; rep <= 3; rep += 2)
				for (int withctx = 0; withctx < 3; withctx++) {
					static uint8_t pkt[4096];
					for (size_t i = 0; i < sizeof(pkt); i++)
						pkt[i] = (uint8_t)(i * 7 + l + 1);
					uint32_t x[6] = {0};
					const void *ctx = NULL;
					if (withctx) {
						if (bee_program_type(kp) != BPF_PROG_TYPE_XDP)
							continue;
						x[0] = withctx == 1 ? 0 : 8; /* metadata length */
						x[1] = lens[l];
						ctx = x;
					}
					static struct out k, b;
					kern_run(bee_program_fd(kp), pkt, lens[l], rep, &k, ctx, sizeof(x));
					for (int e = 0; e < 3; e++) {
						struct bee_program *bp =
							bee_object_find_program_by_name(bos[e], pn);
						bee_run(bees[e], bee_program_fd(bp), pkt, lens[l], rep, &b,
							ctx, sizeof(x));
						runs++;
						bool same = k.err == b.err && k.ret == b.ret &&
							    k.size == b.size && !memcmp(k.data, b.data, k.size) &&
							    (!ctx || !memcmp(k.ctx, b.ctx, 12));
						if (!same || (verbose && e == 0)) {
							printf("%s %s len %u repeat %u ctx %d:\n",
							       same ? "same" : "DIFF", pn, lens[l], rep, withctx);
							dump("kernel", &k);
							dump(names[e], &b);
							if (ctx)
								printf("    ctx kernel %u %u %u, bee %u %u %u\n",
								       k.ctx[0], k.ctx[1], k.ctx[2], b.ctx[0],
								       b.ctx[1], b.ctx[2]);
							bad += !same;
						}
					}
				}
	}
	printf("%d runs compared with the kernel, %d differences\n", runs, bad);
	if (!runs) {
		printf("no program of the object ran: nothing was compared\n");
		bad++;
	}
out:
	for (int e = 0; e < 3; e++) {
		bee_object_close(bos[e]);
		if (bees[e])
			bee_free(bees[e]);
	}
	bee_object_close(ko);
	return bad != 0;
}
