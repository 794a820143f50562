/*
 * test_callback.c - callbacks: `lddw rX, subprog` and bee_run_callback,
 * through bpf_loop (the builtin) and helpers of the test's own, in both
 * engines and both modes: the callback's arguments and result, a stack
 * context in the caller's frame, early stop, bpf_loop's own errors, the
 * call-depth limit across callbacks, faults and the budget inside a
 * callback stopping the whole run with the callback's instruction named,
 * garbage callback values, and a tail call from a callback.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bee/vm.h"

#include "unit.h"

#define LD_IMM64(d, v) INSN(BPF_LD | BPF_IMM | BPF_DW, d, 0, 0, (int32_t)(uint32_t)(uint64_t)(v)), \
		       INSN(0, 0, 0, 0, (int32_t)((uint64_t)(v) >> 32))
/* rX = the function at insn `target`, from an lddw at insn `at` */
#define LD_FUNC(d, at, target) INSN(BPF_LD | BPF_IMM | BPF_DW, d, BPF_PSEUDO_FUNC, 0, (target) - (at) - 1), \
			       INSN(0, 0, 0, 0, 0)
#define ALU64_IMM(op, d, i) INSN(BPF_ALU64 | (op) | BPF_K, d, 0, 0, i)
#define JNE_IMM(d, i, o) INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, o, i)
#define JSGE_IMM(d, i, o) INSN(BPF_JMP | BPF_JSGE | BPF_K, d, 0, o, i)

#define HELPER_CALL5 0x20000 /* call5(fn, a): fn(a, a+1, a+2, a+3, a+4), or the error */
#define HELPER_TRY 0x20001   /* try(fn): bee_run_callback's return code */

static uint64_t helper_call5(uint64_t fn, uint64_t a, uint64_t r3, uint64_t r4, uint64_t r5)
{
	uint64_t r0;
	int ret = bee_run_callback(fn, a, a + 1, a + 2, a + 3, a + 4, &r0);
	return ret ? (uint64_t)(int64_t)ret : r0;
}

static uint64_t helper_try(uint64_t fn, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
	uint64_t r0;
	return (uint64_t)(int64_t)bee_run_callback(fn, 0, 0, 0, 0, 0, &r0);
}

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

static struct bee_helper_table *helpers;

static struct bee_code *load(const struct bpf_insn *insns, size_t n, struct bee_error *err)
{
	struct bee_code_opts o = {.sz = sizeof(o), .trusted = true, .helpers = helpers};
	struct bee_error scratch;
	struct bee_code *c = bee_code_load(insns, n, &o, err ? err : &scratch);
	if (!c && !err)
		printf("load failed: insn %ld: %s\n", scratch.insn, scratch.msg);
	return c;
}

static const struct bee_code *tail_target;

static const struct bee_code *resolve(void *user, uint64_t map, uint64_t index)
{
	return tail_target;
}

struct result {
	int ret;
	uint64_t r0;
	uint64_t insns;
	long insn;
	char msg[256];
};

static struct result run_cf(const struct bpf_insn *insns, size_t n, const struct config *cf,
			    uint64_t max_insns)
{
	struct result r = {0};
	struct bee_code *code = load(insns, n, NULL);
	if (!code) {
		r.ret = 1;
		return r;
	}
	struct bee_run_opts o = {.sz = sizeof(o), .engine = cf->engine,
				 .flags = cf->checked ? BEE_RUN_CHECKED : 0, .max_insns = max_insns,
				 .tail_call = resolve};
	struct bee_run_result res;
	r.ret = bee_code_run(code, &o, &res);
	r.r0 = res.r0;
	r.insns = res.insns;
	r.insn = res.err.insn;
	snprintf(r.msg, sizeof(r.msg), "%s", res.err.msg);
	bee_code_free(code);
	return r;
}

/* bpf_loop summing i into a u64 in the caller's frame, through a pointer
 * the callback gets as its context. */
static void test_loop_stack_ctx(void)
{
	struct bpf_insn p[] = {
		ST(BPF_DW, 10, -8, 0),                 /* 0 */
		MOV64_IMM(1, 10),                      /* 1: nr_loops */
		LD_FUNC(2, 2, 13),                     /* 2, 3 */
		MOV64_REG(3, 10),                      /* 4 */
		ADD64_IMM(3, -8),                      /* 5 */
		MOV64_IMM(4, 0),                       /* 6 */
		CALL_HELPER(BPF_FUNC_loop),            /* 7 */
		MOV64_REG(6, 0),                       /* 8 */
		LDX(BPF_DW, 0, 10, -8),                /* 9 */
		ALU64_IMM(BPF_MUL, 0, 1000),           /* 10 */
		ADD64_REG(0, 6),                       /* 11 */
		EXIT(),                                /* 12 */
		LDX(BPF_DW, 3, 2, 0),                  /* 13: callback(i, ctx) */
		ADD64_REG(3, 1),                       /* 14 */
		STX(BPF_DW, 2, 3, 0),                  /* 15 */
		MOV64_IMM(0, 0),                       /* 16 */
		EXIT(),                                /* 17 */
	};
	for (size_t c = 0; c < LEN(configs); c++) {
		const struct config *cf = &configs[c];
		struct result r = run_cf(p, LEN(p), cf, 0);
		CHECK(r.ret == 0 && r.r0 == 45010, "%s: bpf_loop sum: ret %d r0 %" PRIu64 " (%s)",
		      cf->name, r.ret, r.r0, r.msg);
		if (cf->checked)
			CHECK(r.insns == 12 + 10 * 5, "%s: count %" PRIu64, cf->name, r.insns);
		/* the callback's instructions share the budget */
		if (cf->checked) {
			r = run_cf(p, LEN(p), cf, 7 + 3 * 5 + 3);
			CHECK(r.ret == -ETIME && r.insn == 16 && r.insns == 7 + 3 * 5 + 3,
			      "%s: budget in a callback: ret %d insn %ld count %" PRIu64, cf->name,
			      r.ret, r.insn, r.insns);
		}
	}
}

/* Early stop, zero loops, bpf_loop's argument errors. */
static void test_loop_results(void)
{
	for (size_t c = 0; c < LEN(configs); c++) {
		const struct config *cf = &configs[c];
		struct bpf_insn stop[] = {
			MOV64_IMM(1, 10), LD_FUNC(2, 1, 7), MOV64_IMM(3, 0), MOV64_IMM(4, 0),
			CALL_HELPER(BPF_FUNC_loop), EXIT(),
			/* 7: stop at i == 3 */
			MOV64_IMM(0, 0), JNE_IMM(1, 3, 1), MOV64_IMM(0, 1), EXIT(),
		};
		struct result r = run_cf(stop, LEN(stop), cf, 0);
		CHECK(r.ret == 0 && r.r0 == 4, "%s: early stop: r0 %" PRIu64, cf->name, r.r0);
		stop[0] = MOV64_IMM(1, 0);
		r = run_cf(stop, LEN(stop), cf, 0);
		CHECK(r.ret == 0 && r.r0 == 0, "%s: zero loops: r0 %" PRIu64, cf->name, r.r0);
		stop[0] = MOV64_IMM(1, (1 << 23) + 1);
		r = run_cf(stop, LEN(stop), cf, 0);
		CHECK(r.ret == 0 && r.r0 == (uint64_t)-E2BIG, "%s: too many loops: r0 %" PRId64,
		      cf->name, (int64_t)r.r0);
		stop[0] = MOV64_IMM(1, 10);
		stop[4] = MOV64_IMM(4, 1);
		r = run_cf(stop, LEN(stop), cf, 0);
		CHECK(r.ret == 0 && r.r0 == (uint64_t)-EINVAL, "%s: flags: r0 %" PRId64, cf->name,
		      (int64_t)r.r0);
	}
}

/* r1..r5 reach the callback, its r0 comes back; callee-saved registers
 * and the caller's frame survive. */
static void test_args(void)
{
	struct bpf_insn p[] = {
		MOV64_IMM(6, 66), ST(BPF_DW, 10, -8, 77),
		LD_FUNC(1, 2, 11),                     /* 2, 3 */
		MOV64_IMM(2, 100),                     /* 4 */
		CALL_HELPER(HELPER_CALL5),             /* 5 */
		ADD64_REG(0, 6),                       /* 6 */
		LDX(BPF_DW, 1, 10, -8),                /* 7 */
		ADD64_REG(0, 1),                       /* 8 */
		EXIT(),                                /* 9 */
		EXIT(),                                /* 10 (unreached) */
		/* 11: r0 = r1 + 2 r2 + 3 r3 + 4 r4 + 5 r5, with stack and r6 of its own */
		MOV64_IMM(6, 1), ST(BPF_DW, 10, -8, 5),
		MOV64_REG(0, 1),
		ALU64_IMM(BPF_MUL, 2, 2), ADD64_REG(0, 2),
		ALU64_IMM(BPF_MUL, 3, 3), ADD64_REG(0, 3),
		ALU64_IMM(BPF_MUL, 4, 4), ADD64_REG(0, 4),
		ALU64_IMM(BPF_MUL, 5, 5), ADD64_REG(0, 5),
		EXIT(),
	};
	uint64_t want = 100 + 2 * 101 + 3 * 102 + 4 * 103 + 5 * 104 + 66 + 77;
	for (size_t c = 0; c < LEN(configs); c++) {
		const struct config *cf = &configs[c];
		struct result r = run_cf(p, LEN(p), cf, 0);
		CHECK(r.ret == 0 && r.r0 == want, "%s: arguments: ret %d r0 %" PRIu64 " want %" PRIu64
		      " (%s)", cf->name, r.ret, r.r0, want, r.msg);
	}
}

/*
 * A callback that calls bpf_loop on itself: each level counts itself in
 * the context; the level that would need a 9th frame gets -E2BIG from
 * bpf_loop (and records it) instead.  From the main program 7 levels fit,
 * from a function one fewer.
 */
static void test_nested_depth(void)
{
	struct bpf_insn p[] = {
		CALL_LOCAL(1),                         /* 0: (patched: main or function) */
		EXIT(),                                /* 1 */
		ST(BPF_DW, 10, -8, 0),                 /* 2: counter */
		ST(BPF_DW, 10, -16, 0),                /* 3: error seen */
		MOV64_IMM(1, 1),                       /* 4 */
		LD_FUNC(2, 5, 14),                     /* 5, 6 */
		MOV64_REG(3, 10),                      /* 7 */
		ADD64_IMM(3, -16),                     /* 8 */
		MOV64_IMM(4, 0),                       /* 9 */
		CALL_HELPER(BPF_FUNC_loop),            /* 10 */
		LDX(BPF_DW, 0, 10, -8),                /* 11 */
		LDX(BPF_DW, 1, 10, -16),               /* 12: r0 += 100 * (error == -E2BIG) */
		JA(13),                                /* 13 -> 27 */
		/* 14: callback(i, ctx = &error; counter at ctx + 8) */
		MOV64_REG(6, 2),                       /* 14 */
		LDX(BPF_DW, 3, 6, 8),                  /* 15 */
		ADD64_IMM(3, 1),                       /* 16 */
		STX(BPF_DW, 6, 3, 8),                  /* 17 */
		MOV64_IMM(1, 1),                       /* 18 */
		LD_FUNC(2, 19, 14),                    /* 19, 20 */
		MOV64_REG(3, 6),                       /* 21 */
		MOV64_IMM(4, 0),                       /* 22 */
		CALL_HELPER(BPF_FUNC_loop),            /* 23 */
		JSGE_IMM(0, 0, 1),                     /* 24 */
		STX(BPF_DW, 6, 0, 0),                  /* 25 */
		EXIT(),                                /* 26: r0 = what bpf_loop said */
		JNE_IMM(1, -E2BIG, 1),                 /* 27 */
		ADD64_IMM(0, 100),                     /* 28 */
		EXIT(),                                /* 29 */
	};
	for (size_t c = 0; c < LEN(configs); c++) {
		const struct config *cf = &configs[c];
		p[0] = JA(1);
		struct result r = run_cf(p, LEN(p), cf, 0);
		CHECK(r.ret == 0 && r.r0 == 107, "%s: nested callbacks from main: ret %d r0 %" PRIu64
		      " (%s)", cf->name, r.ret, r.r0, r.msg);
		p[0] = CALL_LOCAL(1);
		r = run_cf(p, LEN(p), cf, 0);
		CHECK(r.ret == 0 && r.r0 == 106, "%s: nested callbacks from a function: ret %d r0 %"
		      PRIu64 " (%s)", cf->name, r.ret, r.r0, r.msg);
	}

	/* A callback whose local calls go one frame too deep: the depth
	 * fault stops the whole run, in fast mode as well, naming the call. */
	struct bpf_insn deep[] = {
		LD_FUNC(1, 0, 6),                      /* 0, 1 */
		MOV64_IMM(2, 0),                       /* 2 */
		CALL_HELPER(HELPER_CALL5),             /* 3 */
		MOV64_IMM(0, 1),                       /* 4 */
		EXIT(),                                /* 5 */
		/* 6: callback: recurse with local calls until too deep */
		CALL_LOCAL(-1),                        /* 6 */
		EXIT(),                                /* 7 */
	};
	for (size_t c = 0; c < LEN(configs); c++) {
		const struct config *cf = &configs[c];
		struct result r = run_cf(deep, LEN(deep), cf, 0);
		CHECK(r.ret == -E2BIG && r.insn == 6, "%s: too deep inside a callback: ret %d insn %ld "
		      "(%s)", cf->name, r.ret, r.insn, r.msg);
	}
}

/* A callback that faults stops the run with its instruction named. */
static void test_faulting_callback(void)
{
	struct bpf_insn p[] = {
		MOV64_IMM(1, 5),                       /* 0 */
		LD_FUNC(2, 1, 9),                      /* 1, 2 */
		MOV64_IMM(3, 0),                       /* 3 */
		MOV64_IMM(4, 0),                       /* 4 */
		CALL_HELPER(BPF_FUNC_loop),            /* 5 */
		MOV64_IMM(0, 77),                      /* 6: never reached */
		EXIT(),                                /* 7 */
		EXIT(),                                /* 8 */
		MOV64_IMM(0, 0),                       /* 9: callback */
		JNE_IMM(1, 2, 1),                      /* 10: at i == 2: */
		LDX(BPF_DW, 0, 3, 16),                 /* 11: read through NULL */
		EXIT(),                                /* 12 */
	};
	for (size_t c = 0; c < LEN(configs); c++) {
		const struct config *cf = &configs[c];
		if (!cf->checked)
			continue;
		struct result r = run_cf(p, LEN(p), cf, 0);
		CHECK(r.ret == -EFAULT && r.insn == 11 && r.insns == 5 + 3 + 3 + 3,
		      "%s: faulting callback: ret %d insn %ld count %" PRIu64 " (%s)", cf->name,
		      r.ret, r.insn, r.insns, r.msg);
	}
	/* an endless callback: -ETIME in the callback */
	struct bpf_insn spin[] = {
		MOV64_IMM(1, 5), LD_FUNC(2, 1, 8), MOV64_IMM(3, 0), MOV64_IMM(4, 0),
		CALL_HELPER(BPF_FUNC_loop), MOV64_IMM(0, 77), EXIT(),
		JA(-1), /* 8 */
	};
	for (size_t c = 0; c < LEN(configs); c++) {
		const struct config *cf = &configs[c];
		if (!cf->checked)
			continue;
		struct result r = run_cf(spin, LEN(spin), cf, 1000);
		CHECK(r.ret == -ETIME && r.insn == 8 && r.insns == 1000,
		      "%s: endless callback: ret %d insn %ld count %" PRIu64, cf->name, r.ret, r.insn,
		      r.insns);
	}
}

/* Whatever value a program passes as a callback, nothing but a function
 * of the running program runs: -EINVAL for the rest. */
static void test_garbage_fn(void)
{
	/* r1 = f ^ r2 for a few r2, and a few constants */
	static const uint64_t xors[] = {0, 1, 2, 3, 1ull << 32, 1ull << 40, 1ull << 63, ~0ull,
					0xffffffffull};
	for (size_t c = 0; c < LEN(configs); c++) {
		const struct config *cf = &configs[c];
		for (size_t i = 0; i < LEN(xors); i++) {
			struct bpf_insn p[] = {
				LD_FUNC(1, 0, 8),              /* 0, 1 */
				LD_IMM64(2, xors[i]),          /* 2, 3 */
				INSN(BPF_ALU64 | BPF_XOR | BPF_X, 1, 2, 0, 0), /* 4 */
				CALL_HELPER(HELPER_TRY),       /* 5 */
				EXIT(),                        /* 6 */
				EXIT(),                        /* 7 */
				MOV64_IMM(0, 1),               /* 8: the callback */
				EXIT(),                        /* 9 */
			};
			struct result r = run_cf(p, LEN(p), cf, 0);
			uint64_t want = xors[i] ? (uint64_t)-EINVAL : 0;
			CHECK(r.ret == 0 && r.r0 == want, "%s: fn ^ 0x%" PRIx64 ": ret %d r0 %" PRId64,
			      cf->name, xors[i], r.ret, (int64_t)r.r0);
		}
		static const uint64_t raw[] = {0, 1, 8, 0xbeefca1100000000ull, ~0ull, 0x8000000000000008ull};
		for (size_t i = 0; i < LEN(raw); i++) {
			struct bpf_insn p[] = {LD_IMM64(1, raw[i]), CALL_HELPER(HELPER_TRY), EXIT(),
					       MOV64_IMM(0, 1), EXIT()};
			struct result r = run_cf(p, LEN(p), cf, 0);
			CHECK(r.ret == 0 && r.r0 == (uint64_t)-EINVAL, "%s: fn 0x%" PRIx64 ": r0 %" PRId64,
			      cf->name, raw[i], (int64_t)r.r0);
		}
		/* r10 as the callback, and bpf_loop with garbage */
		struct bpf_insn p[] = {MOV64_IMM(1, 3), MOV64_REG(2, 10), MOV64_IMM(3, 0),
				       MOV64_IMM(4, 0), CALL_HELPER(BPF_FUNC_loop), EXIT()};
		struct result r = run_cf(p, LEN(p), cf, 0);
		CHECK(r.ret == 0 && r.r0 == (uint64_t)-EINVAL, "%s: bpf_loop(r10): r0 %" PRId64,
		      cf->name, (int64_t)r.r0);
	}
	uint64_t r0 = 5;
	CHECK(bee_run_callback(0, 0, 0, 0, 0, 0, &r0) == -EINVAL && r0 == 0,
	      "bee_run_callback outside a run");
}

/* Loading: the target must be an instruction of the program. */
static void test_load(void)
{
	struct bee_error err;
	struct bpf_insn out[] = {LD_FUNC(1, 0, 5), MOV64_IMM(0, 0), EXIT()};
	CHECK(!load(out, LEN(out), &err) && err.code == -EINVAL && err.insn == 0,
	      "lddw of a function past the end: %d insn %ld", err.code, err.insn);
	struct bpf_insn back[] = {MOV64_IMM(0, 0), LD_FUNC(1, 1, -1), EXIT()};
	CHECK(!load(back, LEN(back), &err) && err.code == -EINVAL && err.insn == 1,
	      "lddw of a function before the start: %d insn %ld", err.code, err.insn);
	struct bpf_insn mid[] = {LD_FUNC(1, 0, 3), LD_IMM64(2, 0), EXIT()};
	CHECK(!load(mid, LEN(mid), &err) && err.code == -EINVAL && err.insn == 0,
	      "lddw of a function into an lddw: %d insn %ld", err.code, err.insn);
}

/* A tail call inside a callback is refused; after a tail call, callbacks
 * are the target's. */
static void test_tail_calls(void)
{
	struct bpf_insn target[] = {
		MOV64_IMM(1, 4), LD_FUNC(2, 1, 8), MOV64_IMM(3, 0), MOV64_IMM(4, 0),
		CALL_HELPER(BPF_FUNC_loop), ADD64_IMM(0, 1000), EXIT(),
		MOV64_IMM(0, 0), EXIT(), /* 8 */
	};
	struct bpf_insn caller[] = {
		MOV64_IMM(1, 4), LD_FUNC(2, 1, 8), MOV64_IMM(3, 0), MOV64_IMM(4, 0),
		CALL_HELPER(BPF_FUNC_loop), EXIT(), EXIT(),
		/* 8: callback: tail call (refused: a callback is a function) */
		MOV64_IMM(2, 0), MOV64_IMM(3, 0), CALL_HELPER(BPF_FUNC_tail_call),
		MOV64_IMM(0, 0), EXIT(),
	};
	struct bpf_insn plain[] = {MOV64_IMM(2, 0), MOV64_IMM(3, 0), CALL_HELPER(BPF_FUNC_tail_call),
				   EXIT()};
	struct bee_code *t = load(target, LEN(target), NULL);
	tail_target = t;
	for (size_t c = 0; c < LEN(configs); c++) {
		const struct config *cf = &configs[c];
		struct result r = run_cf(caller, LEN(caller), cf, 0);
		CHECK(r.ret == -EOPNOTSUPP && r.insn == 10, "%s: tail call in a callback: ret %d insn "
		      "%ld (%s)", cf->name, r.ret, r.insn, r.msg);
		r = run_cf(plain, LEN(plain), cf, 0);
		CHECK(r.ret == 0 && r.r0 == 1004, "%s: callbacks after a tail call: ret %d r0 %" PRIu64
		      " (%s)", cf->name, r.ret, r.r0, r.msg);
	}
	tail_target = NULL;
	bee_code_free(t);
}

int main(void)
{
	helpers = bee_helper_table_new();
	bee_helper_table_add_builtins(helpers);
	bee_helper_table_add(helpers, &(struct bee_helper){.id = HELPER_CALL5, .name = "call5", .fn = helper_call5});
	bee_helper_table_add(helpers, &(struct bee_helper){.id = HELPER_TRY, .name = "try", .fn = helper_try});
	test_loop_stack_ctx();
	test_loop_results();
	test_args();
	test_nested_depth();
	test_faulting_callback();
	test_garbage_fn();
	test_load();
	test_tail_calls();
	bee_helper_table_free(helpers);
	printf("%d checks, %d failures\n", checks, failures);
	return failures != 0;
}
