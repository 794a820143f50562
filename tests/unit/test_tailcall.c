/*
 * test_tailcall.c - bpf_tail_call (a `call 12`) in both engines and both
 * modes: a resolver over a small table of programs stands in for the
 * core's PROG_ARRAY maps.  Chains up to the kernel's limit of 33 and no
 * further, missing targets falling through with r0 = 0, the budget,
 * count and error indexes across the switch, the fresh frame, fast runs
 * refusing untrusted targets, and the refusal from a bpf-to-bpf function.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bee/vm.h"

#include "unit.h"

#define MAP 0x7a11ca11 /* the one "program array" the resolver knows */
#define NPROGS 8

struct prog_array {
	const struct bee_code *progs[NPROGS];
	unsigned asked;
};

static const struct bee_code *resolve(void *user, uint64_t map, uint64_t index)
{
	struct prog_array *pa = user;
	pa->asked++;
	if (map != MAP || index >= NPROGS)
		return NULL;
	return pa->progs[index];
}

#define LD_IMM64(d, v) INSN(BPF_LD | BPF_IMM | BPF_DW, d, 0, 0, (int32_t)(uint32_t)(uint64_t)(v)), \
		       INSN(0, 0, 0, 0, (int32_t)((uint64_t)(v) >> 32))
#define TAIL_CALL(idx) MOV64_IMM(2, MAP), MOV64_IMM(3, idx), CALL_HELPER(BPF_FUNC_tail_call)

struct config {
	enum bee_engine engine;
	bool checked;
	const char *name;
};

static const struct config configs[] = {
	{BEE_ENGINE_INTERP, true, "interp checked"},
	{BEE_ENGINE_INTERP, false, "interp fast"},
	{BEE_ENGINE_JIT, true, "JIT checked"},
	{BEE_ENGINE_JIT, false, "JIT fast"},
};

static struct bee_code *load(const struct bpf_insn *insns, size_t n, bool trusted,
			     const struct bee_helper_table *helpers)
{
	struct bee_error err;
	struct bee_code_opts o = {.sz = sizeof(o), .trusted = trusted, .helpers = helpers};
	struct bee_code *c = bee_code_load(insns, n, &o, &err);
	if (!c)
		printf("load failed: insn %ld: %s\n", err.insn, err.msg);
	return c;
}

static int run(const struct bee_code *code, const struct config *cf, struct prog_array *pa,
	       void *mem, size_t mem_len, uint64_t max_insns, struct bee_run_result *res)
{
	struct bee_run_opts o = {.sz = sizeof(o), .engine = cf->engine,
				 .flags = cf->checked ? BEE_RUN_CHECKED : 0, .mem = mem,
				 .mem_len = mem_len, .max_insns = max_insns,
				 .tail_call = pa ? resolve : NULL, .user = pa};
	return bee_code_run(code, &o, res);
}

/* A target that checks it starts as a program does: r2..r9 zero, r1 the
 * ctx; returns the ctx's first word + 1000, or 0xbad. */
static void test_basic_switch(void)
{
	struct bpf_insn target[] = {
		MOV64_REG(0, 2),
		INSN(BPF_ALU64 | BPF_OR | BPF_X, 0, 3, 0, 0),
		INSN(BPF_ALU64 | BPF_OR | BPF_X, 0, 4, 0, 0),
		INSN(BPF_ALU64 | BPF_OR | BPF_X, 0, 5, 0, 0),
		INSN(BPF_ALU64 | BPF_OR | BPF_X, 0, 6, 0, 0),
		INSN(BPF_ALU64 | BPF_OR | BPF_X, 0, 7, 0, 0),
		INSN(BPF_ALU64 | BPF_OR | BPF_X, 0, 8, 0, 0),
		INSN(BPF_ALU64 | BPF_OR | BPF_X, 0, 9, 0, 0),
		JEQ_IMM(0, 0, 2),
		MOV64_IMM(0, 0xbad),
		EXIT(),
		LDX(BPF_W, 0, 1, 0),
		ADD64_IMM(0, 1000),
		EXIT(),
	};
	/* the caller dirties every register first */
	struct bpf_insn caller[] = {
		MOV64_IMM(4, 4), MOV64_IMM(5, 5), MOV64_IMM(6, 6), MOV64_IMM(7, 7),
		MOV64_IMM(8, 8), MOV64_IMM(9, 9), MOV64_IMM(0, 1),
		TAIL_CALL(2),
		MOV64_IMM(0, 99),
		EXIT(),
	};
	struct bee_helper_table *fake12 = bee_helper_table_new();
	for (size_t c = 0; c < LEN(configs); c++) {
		const struct config *cf = &configs[c];
		/* a helper table's id 12 changes nothing: call 12 is a tail call */
		struct bee_code *t = load(target, LEN(target), true, NULL);
		struct bee_code *a = load(caller, LEN(caller), true, fake12);
		struct prog_array pa = {.progs = {[2] = t}};
		uint32_t mem[2] = {7, 0};
		struct bee_run_result res;
		int ret = run(a, cf, &pa, mem, sizeof(mem), 0, &res);
		CHECK(ret == 0 && res.r0 == 1007, "%s: tail call: ret %d r0 0x%" PRIx64 " (%s)",
		      cf->name, ret, res.r0, res.err.msg);
		if (cf->checked)
			CHECK(res.insns == 10 + 14 - 2, "%s: count across the switch: %" PRIu64,
			      cf->name, res.insns);
		/* missing entries, a bad map, no resolver: the next instruction */
		struct bpf_insn missing[] = {MOV64_IMM(0, 5), TAIL_CALL(3), EXIT()};
		struct bpf_insn bad_map[] = {MOV64_IMM(0, 5), MOV64_IMM(2, 1), MOV64_IMM(3, 2),
					     CALL_HELPER(BPF_FUNC_tail_call), ADD64_IMM(0, 40), EXIT()};
		struct bee_code *m = load(missing, LEN(missing), true, NULL);
		struct bee_code *b = load(bad_map, LEN(bad_map), true, NULL);
		ret = run(m, cf, &pa, mem, sizeof(mem), 0, &res);
		CHECK(ret == 0 && res.r0 == 0, "%s: missing target: r0 = 0, got ret %d r0 %" PRIu64,
		      cf->name, ret, res.r0);
		ret = run(b, cf, &pa, mem, sizeof(mem), 0, &res);
		CHECK(ret == 0 && res.r0 == 40, "%s: bad map falls through: ret %d r0 %" PRIu64,
		      cf->name, ret, res.r0);
		ret = run(a, cf, NULL, mem, sizeof(mem), 0, &res);
		CHECK(ret == 0 && res.r0 == 99, "%s: no resolver falls through: ret %d r0 %" PRIu64,
		      cf->name, ret, res.r0);
		/* r1..r9 survive a failed tail call */
		struct bpf_insn keep[] = {MOV64_IMM(1, 11), MOV64_IMM(6, 6), TAIL_CALL(5),
					  MOV64_REG(0, 1), ADD64_REG(0, 2), ADD64_REG(0, 3),
					  ADD64_REG(0, 6), EXIT()};
		struct bee_code *k = load(keep, LEN(keep), true, NULL);
		ret = run(k, cf, &pa, mem, sizeof(mem), 0, &res);
		CHECK(ret == 0 && res.r0 == 11 + MAP + 5 + 6,
		      "%s: registers after a failed tail call: ret %d r0 %" PRIu64, cf->name, ret,
		      res.r0);
		bee_code_free(k);
		bee_code_free(m);
		bee_code_free(b);
		bee_code_free(a);
		bee_code_free(t);
	}
	bee_helper_table_free(fake12);
}

/* A program that counts its runs in the ctx and tail-calls itself: 33
 * tail calls succeed, the 34th falls through. */
static void test_chain_limit(void)
{
	struct bpf_insn self[] = {
		MOV64_IMM(6, 1),
		INSN(BPF_STX | BPF_ATOMIC | BPF_DW, 1, 6, 0, BPF_ADD),
		TAIL_CALL(0),
		LDX(BPF_DW, 0, 1, 0),
		EXIT(),
	};
	/* two programs calling each other: the limit is per run, not per program */
	struct bpf_insn ping[] = {MOV64_IMM(6, 1), INSN(BPF_STX | BPF_ATOMIC | BPF_DW, 1, 6, 0, BPF_ADD),
				  TAIL_CALL(2), LDX(BPF_DW, 0, 1, 0), EXIT()};
	struct bpf_insn pong[] = {MOV64_IMM(6, 1), INSN(BPF_STX | BPF_ATOMIC | BPF_DW, 1, 6, 8, BPF_ADD),
				  TAIL_CALL(1), LDX(BPF_DW, 0, 1, 8), ADD64_IMM(0, 1000), EXIT()};
	for (size_t c = 0; c < LEN(configs); c++) {
		const struct config *cf = &configs[c];
		struct bee_code *s = load(self, LEN(self), true, NULL);
		struct bee_code *pi = load(ping, LEN(ping), true, NULL);
		struct bee_code *po = load(pong, LEN(pong), true, NULL);
		struct prog_array pa = {.progs = {s, pi, po}};
		for (int run_no = 0; run_no < 2; run_no++) {
			uint64_t mem[2] = {0, 0};
			struct bee_run_result res;
			int ret = run(s, cf, &pa, mem, sizeof(mem), 0, &res);
			CHECK(ret == 0 && res.r0 == BEE_MAX_TAIL_CALLS + 1 && mem[0] == 34,
			      "%s: self chain (run %d): ret %d r0 %" PRIu64 " (%s)", cf->name, run_no,
			      ret, res.r0, res.err.msg);
			if (cf->checked)
				CHECK(res.insns == 34 * 5 + 2, "%s: chain count %" PRIu64, cf->name,
				      res.insns);
		}
		uint64_t mem[2] = {0, 0};
		struct bee_run_result res;
		int ret = run(pi, cf, &pa, mem, sizeof(mem), 0, &res);
		/* ping runs 17 times, pong 17: the 34th run (pong) falls through */
		CHECK(ret == 0 && mem[0] == 17 && mem[1] == 17 && res.r0 == 1017,
		      "%s: ping-pong chain: ret %d mem %" PRIu64 "/%" PRIu64 " r0 %" PRIu64, cf->name,
		      ret, mem[0], mem[1], res.r0);
		bee_code_free(s);
		bee_code_free(pi);
		bee_code_free(po);
	}
}

/* Errors after the switch name the target's instructions; the budget and
 * the count go on across it. */
static void test_checked_across_switch(void)
{
	struct bpf_insn caller[] = {MOV64_IMM(0, 1), TAIL_CALL(1), MOV64_IMM(0, 5), EXIT()};
	struct bpf_insn faulting[] = {
		MOV64_IMM(0, 0), MOV64_IMM(0, 1), MOV64_IMM(0, 2), MOV64_IMM(0, 3),
		MOV64_IMM(0, 4), MOV64_IMM(0, 5), MOV64_IMM(2, 0),
		LDX(BPF_DW, 0, 2, 8), /* insn 7: a NULL read */
		EXIT(),
	};
	struct bpf_insn looping[] = {
		MOV64_IMM(0, 0), MOV64_IMM(0, 0), MOV64_IMM(0, 0), MOV64_IMM(0, 0),
		MOV64_IMM(0, 0), MOV64_IMM(0, 0),
		ADD64_IMM(0, 1), /* insn 6 */
		JA(-2),          /* insn 7 */
		EXIT(),
	};
	/* the target's frame is fresh: zero in checked mode */
	struct bpf_insn dirty[] = {ST(BPF_DW, 10, -8, 0x55), TAIL_CALL(3), MOV64_IMM(0, 9), EXIT()};
	struct bpf_insn read_stack[] = {LDX(BPF_DW, 0, 10, -8), EXIT()};
	for (size_t c = 0; c < LEN(configs); c++) {
		const struct config *cf = &configs[c];
		if (!cf->checked)
			continue;
		for (int trusted = 0; trusted < 2; trusted++) {
			struct bee_code *a = load(caller, LEN(caller), trusted, NULL);
			struct bee_code *f = load(faulting, LEN(faulting), trusted, NULL);
			struct bee_code *l = load(looping, LEN(looping), trusted, NULL);
			struct bee_code *d = load(dirty, LEN(dirty), trusted, NULL);
			struct bee_code *r = load(read_stack, LEN(read_stack), trusted, NULL);
			struct prog_array pa = {.progs = {NULL, f, l, r}};
			struct bee_run_result res;
			int ret = run(a, cf, &pa, NULL, 0, 0, &res);
			CHECK(ret == -EFAULT && res.err.insn == 7 && res.insns == 4 + 8,
			      "%s: fault in the target: ret %d insn %ld count %" PRIu64 " (%s)",
			      cf->name, ret, res.err.insn, res.insns, res.err.msg);
			pa.progs[1] = l;
			/* 4 before the switch, 6 straight, then 2 per loop turn */
			ret = run(a, cf, &pa, NULL, 0, 4 + 6 + 2 * 10 + 1, &res);
			CHECK(ret == -ETIME && res.err.insn == 7 && res.insns == 4 + 6 + 2 * 10 + 1,
			      "%s: budget in the target: ret %d insn %ld count %" PRIu64, cf->name, ret,
			      res.err.insn, res.insns);
			ret = run(a, cf, &pa, NULL, 0, 3, &res);
			CHECK(ret == -ETIME && res.err.insn == 3 && res.insns == 3,
			      "%s: budget at the tail call: ret %d insn %ld count %" PRIu64, cf->name,
			      ret, res.err.insn, res.insns);
			ret = run(a, cf, &pa, NULL, 0, 4, &res);
			CHECK(ret == -ETIME && res.err.insn == 0 && res.insns == 4,
			      "%s: budget at the target's start: ret %d insn %ld count %" PRIu64,
			      cf->name, ret, res.err.insn, res.insns);
			ret = run(d, cf, &pa, NULL, 0, 0, &res);
			CHECK(ret == 0 && res.r0 == 0, "%s: the target's frame is fresh: r0 0x%" PRIx64,
			      cf->name, res.r0);
			bee_code_free(a);
			bee_code_free(f);
			bee_code_free(l);
			bee_code_free(d);
			bee_code_free(r);
		}
	}
}

/* A fast run switches to trusted targets only; a checked run to any. */
static void test_trust(void)
{
	struct bpf_insn caller[] = {TAIL_CALL(0), MOV64_IMM(0, 1), EXIT()};
	struct bpf_insn target[] = {MOV64_IMM(0, 2), EXIT()};
	for (size_t c = 0; c < LEN(configs); c++) {
		const struct config *cf = &configs[c];
		struct bee_code *a = load(caller, LEN(caller), true, NULL);
		struct bee_code *untrusted = load(target, LEN(target), false, NULL);
		struct bee_code *trusted = load(target, LEN(target), true, NULL);
		struct prog_array pa = {.progs = {untrusted}};
		struct bee_run_result res;
		int ret = run(a, cf, &pa, NULL, 0, 0, &res);
		uint64_t want = cf->checked ? 2 : 1;
		CHECK(ret == 0 && res.r0 == want, "%s: untrusted target: r0 %" PRIu64 ", want %" PRIu64,
		      cf->name, res.r0, want);
		pa.progs[0] = trusted;
		ret = run(a, cf, &pa, NULL, 0, 0, &res);
		CHECK(ret == 0 && res.r0 == 2, "%s: trusted target: r0 %" PRIu64, cf->name, res.r0);
		/* a target whose stack slots the fast JIT keeps in registers */
		struct bpf_insn slots[] = {ST(BPF_DW, 10, -8, 5), LDX(BPF_DW, 0, 10, -8),
					   ADD64_IMM(0, 1), STX(BPF_DW, 10, 0, -16),
					   LDX(BPF_DW, 0, 10, -16), EXIT()};
		struct bee_code *promoted = load(slots, LEN(slots), true, NULL);
		pa.progs[0] = promoted;
		ret = run(a, cf, &pa, NULL, 0, 0, &res);
		CHECK(ret == 0 && res.r0 == 6, "%s: target with stack slots in registers: r0 %" PRIu64,
		      cf->name, res.r0);
		bee_code_free(promoted);
		bee_code_free(a);
		bee_code_free(untrusted);
		bee_code_free(trusted);
	}
}

/* From a bpf-to-bpf function: -EOPNOTSUPP naming the call. */
static void test_from_subprogram(void)
{
	struct bpf_insn p[] = {
		CALL_LOCAL(2),
		MOV64_IMM(0, 1),
		EXIT(),
		MOV64_IMM(0, 3),
		TAIL_CALL(0), /* insns 4, 5, 6 */
		EXIT(),
	};
	struct bpf_insn target[] = {MOV64_IMM(0, 2), EXIT()};
	for (size_t c = 0; c < LEN(configs); c++) {
		const struct config *cf = &configs[c];
		struct bee_code *a = load(p, LEN(p), true, NULL);
		struct bee_code *t = load(target, LEN(target), true, NULL);
		struct prog_array pa = {.progs = {t}};
		struct bee_run_result res;
		int ret = run(a, cf, &pa, NULL, 0, 0, &res);
		CHECK(ret == -EOPNOTSUPP && res.err.code == -EOPNOTSUPP && res.err.insn == 6 &&
			      strstr(res.err.msg, "tail call"),
		      "%s: tail call from a function: ret %d insn %ld (%s)", cf->name, ret,
		      res.err.insn, res.err.msg);
		CHECK(pa.asked == 0, "%s: refused before asking the resolver", cf->name);
		bee_code_free(a);
		bee_code_free(t);
	}
}

/* The JIT's native code for a tail call is where it says. */
static void test_jit_image(void)
{
	struct bpf_insn caller[] = {TAIL_CALL(0), EXIT()};
	struct bee_code *a = load(caller, LEN(caller), true, NULL);
	for (int checked = 0; checked < 2; checked++) {
		const uint8_t *img;
		size_t len;
		const uint32_t *offs;
		int ret = bee_code_jited(a, checked, &img, &len, &offs);
		CHECK(ret == 0 || ret == -EOPNOTSUPP, "bee_code_jited: %d", ret);
		if (ret == 0)
			CHECK(offs[2] > offs[3 - 1 - 1] && offs[4] <= len, "offsets in order");
	}
	bee_code_free(a);
}

int main(void)
{
	test_basic_switch();
	test_chain_limit();
	test_checked_across_switch();
	test_trust();
	test_from_subprogram();
	test_jit_image();
	printf("%d checks, %d failures\n", checks, failures);
	return failures != 0;
}
