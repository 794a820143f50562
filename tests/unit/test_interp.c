/*
 * test_interp.c - the execution API: loading, checked and fast runs,
 * faults with instruction indexes, call depth, budgets, helpers and the
 * memory grants helpers make.  Programs are built from raw instructions so
 * this test does not depend on the assembler.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bee/vm.h"

#include "unit.h"

struct outcome {
	int load_ret;   /* 0 or the load error */
	long load_insn;
	int run_ret;
	uint64_t r0;
	struct bee_run_result res;
};

static struct outcome run_prog(const struct bpf_insn *insns, size_t n, const struct bee_helper_table *t,
			       bool trusted, unsigned flags, void *mem, size_t mem_len, bool ro,
			       uint64_t max_insns)
{
	struct outcome out = {0};
	struct bee_error err;
	struct bee_code_opts copts = {.sz = sizeof(copts), .helpers = t, .trusted = trusted};
	struct bee_code *code = bee_code_load(insns, n, &copts, &err);
	if (!code) {
		out.load_ret = err.code;
		out.load_insn = err.insn;
		return out;
	}
	struct bee_run_opts ropts = {.sz = sizeof(ropts), .flags = flags, .mem = mem, .mem_len = mem_len,
				     .mem_readonly = ro, .max_insns = max_insns};
	out.run_ret = bee_code_run(code, &ropts, &out.res);
	out.r0 = out.res.r0;
	bee_code_free(code);
	return out;
}

static struct outcome run_checked(const struct bpf_insn *insns, size_t n)
{
	return run_prog(insns, n, NULL, false, BEE_RUN_CHECKED, NULL, 0, false, 0);
}

/* ---- helpers used by the tests ---- */

static uint64_t helper_mix(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	return a + 2 * b + 3 * c + 4 * d + 5 * e;
}

static uint64_t helper_mem_ok(uint64_t ptr, uint64_t len, uint64_t write, uint64_t d, uint64_t e)
{
	return bee_run_mem_ok((void *)(uintptr_t)ptr, len, write != 0);
}

static uint64_t granted_buffer[4] = {0x1111, 0x2222, 0x3333, 0x4444};

static uint64_t helper_grant(uint64_t do_grant, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	if (do_grant)
		bee_run_grant(granted_buffer, sizeof(granted_buffer), false);
	return (uint64_t)(uintptr_t)granted_buffer;
}

static void test_basics(void)
{
	struct bpf_insn p[] = {MOV64_IMM(0, 42), EXIT()};
	struct outcome o = run_checked(p, LEN(p));
	CHECK(o.load_ret == 0 && o.run_ret == 0 && o.r0 == 42, "mov/exit: r0=%" PRIu64, o.r0);
	CHECK(o.res.insns == 2, "checked run counts 2 insns, got %" PRIu64, o.res.insns);

	/* r1 and r2 carry the input memory and its length */
	uint8_t mem[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	struct bpf_insn q[] = {LDX(BPF_W, 0, 1, 4), ADD64_REG(0, 2), EXIT()};
	o = run_prog(q, LEN(q), NULL, false, BEE_RUN_CHECKED, mem, sizeof(mem), false, 0);
	CHECK(o.run_ret == 0 && o.r0 == 0x08070605ull + 16, "load from mem: r0=0x%" PRIx64, o.r0);
}

static void test_checked_faults(void)
{
	/* the whole 512-byte frame is usable ... */
	struct bpf_insn ok[] = {ST(BPF_DW, 10, -512, 7), LDX(BPF_DW, 0, 10, -512), EXIT()};
	struct outcome o = run_checked(ok, LEN(ok));
	CHECK(o.run_ret == 0 && o.r0 == 7, "r10-512 is in the frame: ret=%d r0=%" PRIu64, o.run_ret, o.r0);

	/* ... one byte more is not */
	struct bpf_insn below[] = {MOV64_IMM(0, 0), ST(BPF_B, 10, -513, 7), EXIT()};
	o = run_checked(below, LEN(below));
	CHECK(o.run_ret == -EFAULT && o.res.err.insn == 1, "r10-513 faults at insn 1: ret=%d insn=%ld",
	      o.run_ret, o.res.err.insn);
	CHECK(strstr(o.res.err.msg, "stack offset -513") != NULL, "message names the stack offset: %s",
	      o.res.err.msg);

	struct bpf_insn above[] = {MOV64_IMM(0, 0), LDX(BPF_W, 0, 10, -2), EXIT()};
	o = run_checked(above, LEN(above));
	CHECK(o.run_ret == -EFAULT && o.res.err.insn == 1, "r10-2 4-byte read crosses the top: ret=%d",
	      o.run_ret);

	/* NULL and wild pointers */
	struct bpf_insn null[] = {MOV64_IMM(1, 0), LDX(BPF_DW, 0, 1, 0), EXIT()};
	o = run_checked(null, LEN(null));
	CHECK(o.run_ret == -EFAULT && o.res.err.insn == 1, "NULL read faults: ret=%d", o.run_ret);

	/* untrusted code runs checked even when the caller asks for the fast path */
	o = run_prog(null, LEN(null), NULL, false, 0, NULL, 0, false, 0);
	CHECK(o.run_ret == -EFAULT, "untrusted code is always checked: ret=%d", o.run_ret);

	/* input memory bounds and read-only memory */
	uint8_t mem[8] = {0};
	struct bpf_insn past[] = {LDX(BPF_W, 0, 1, 5), EXIT()};
	o = run_prog(past, LEN(past), NULL, false, BEE_RUN_CHECKED, mem, sizeof(mem), false, 0);
	CHECK(o.run_ret == -EFAULT && o.res.err.insn == 0, "read past mem end faults: ret=%d", o.run_ret);
	struct bpf_insn write[] = {ST(BPF_B, 1, 0, 1), MOV64_IMM(0, 0), EXIT()};
	o = run_prog(write, LEN(write), NULL, false, BEE_RUN_CHECKED, mem, sizeof(mem), true, 0);
	CHECK(o.run_ret == -EFAULT && strstr(o.res.err.msg, "read-only"), "write to read-only mem: %s",
	      o.res.err.msg);
	o = run_prog(write, LEN(write), NULL, false, BEE_RUN_CHECKED, mem, sizeof(mem), false, 0);
	CHECK(o.run_ret == 0 && mem[0] == 1, "write to writable mem works");

	/* misaligned atomics are refused in checked mode */
	struct bpf_insn atom[] = {MOV64_IMM(1, 1), ST(BPF_DW, 10, -16, 0),
				  INSN(BPF_STX | BPF_ATOMIC | BPF_DW, 10, 1, -12, BPF_ADD), MOV64_IMM(0, 0),
				  EXIT()};
	o = run_checked(atom, LEN(atom));
	CHECK(o.run_ret == -EFAULT && o.res.err.insn == 2 && strstr(o.res.err.msg, "misaligned"),
	      "misaligned atomic: ret=%d %s", o.run_ret, o.res.err.msg);
}

static void test_budget_and_depth(void)
{
	struct bpf_insn loop[] = {MOV64_IMM(0, 0), ADD64_IMM(0, 1), JA(-2), EXIT()};
	struct outcome o = run_prog(loop, LEN(loop), NULL, false, BEE_RUN_CHECKED, NULL, 0, false, 1000);
	CHECK(o.run_ret == -ETIME, "endless loop stops at the budget: ret=%d", o.run_ret);
	CHECK(o.res.insns == 1000, "budget counts exactly: %" PRIu64, o.res.insns);

	/* a function that calls itself: the 9th frame is refused */
	struct bpf_insn rec[] = {CALL_LOCAL(1), EXIT(), ADD64_IMM(0, 1), CALL_LOCAL(-2), EXIT()};
	o = run_checked(rec, LEN(rec));
	CHECK(o.run_ret == -E2BIG && o.res.err.insn == 3, "recursion is stopped: ret=%d insn=%ld",
	      o.run_ret, o.res.err.insn);
	/* also on the fast path (the frame array is fixed) */
	o = run_prog(rec, LEN(rec), NULL, true, 0, NULL, 0, false, 0);
	CHECK(o.run_ret == -E2BIG, "recursion stopped on the fast path: ret=%d", o.run_ret);

	/* depth 8 is allowed: main + 7 nested calls */
	struct bpf_insn nest[] = {
		MOV64_IMM(0, 0), CALL_LOCAL(1), EXIT(),       /* frame 1 */
		ADD64_IMM(0, 1), CALL_LOCAL(1), EXIT(),       /* 2 */
		ADD64_IMM(0, 1), CALL_LOCAL(1), EXIT(),       /* 3 */
		ADD64_IMM(0, 1), CALL_LOCAL(1), EXIT(),       /* 4 */
		ADD64_IMM(0, 1), CALL_LOCAL(1), EXIT(),       /* 5 */
		ADD64_IMM(0, 1), CALL_LOCAL(1), EXIT(),       /* 6 */
		ADD64_IMM(0, 1), CALL_LOCAL(1), EXIT(),       /* 7 */
		ADD64_IMM(0, 1), EXIT(),                      /* 8 */
	};
	o = run_checked(nest, LEN(nest));
	CHECK(o.run_ret == 0 && o.r0 == 7, "8 frames run: ret=%d r0=%" PRIu64 " %s", o.run_ret, o.r0,
	      o.res.err.msg);
}

static void test_frames(void)
{
	/* the callee's r10 is a fresh frame; r6-r9 are restored on return */
	struct bpf_insn p[] = {
		MOV64_IMM(6, 60), ST(BPF_DW, 10, -8, 111), MOV64_IMM(1, 5), CALL_LOCAL(3),
		LDX(BPF_DW, 1, 10, -8), ADD64_REG(0, 1), JA(4),
		/* callee: clobber r6 and its own slot, return r1 + 1 */
		MOV64_IMM(6, 1), ST(BPF_DW, 10, -8, 999), MOV64_REG(0, 1), EXIT(),
		ADD64_REG(0, 6), EXIT(),
	};
	/* jump at 6 skips the callee (insns 7..10) to 11 */
	struct outcome o = run_checked(p, LEN(p));
	CHECK(o.run_ret == 0 && o.r0 == 5 + 111 + 60, "frames: ret=%d r0=%" PRIu64 " %s", o.run_ret, o.r0,
	      o.res.err.msg);
}

static void test_helpers(void)
{
	struct bee_helper_table *t = bee_helper_table_new();
	struct bee_helper mix = {.id = 1000, .name = "test_mix", .fn = helper_mix};
	struct bee_helper memok = {.id = 1001, .name = "test_mem_ok", .fn = helper_mem_ok};
	struct bee_helper grant = {.id = 1002, .name = "test_grant", .fn = helper_grant};
	CHECK(bee_helper_table_add(t, &mix) == 0 && bee_helper_table_add(t, &memok) == 0 &&
		      bee_helper_table_add(t, &grant) == 0,
	      "helpers register");

	struct bpf_insn p[] = {MOV64_IMM(1, 1), MOV64_IMM(2, 10), MOV64_IMM(3, 100), MOV64_IMM(4, 1000),
			       MOV64_IMM(5, 10000), CALL_HELPER(1000), EXIT()};
	struct outcome o = run_prog(p, LEN(p), t, false, BEE_RUN_CHECKED, NULL, 0, false, 0);
	CHECK(o.run_ret == 0 && o.r0 == 1 + 20 + 300 + 4000 + 50000, "five arguments: r0=%" PRIu64, o.r0);

	/* an unknown helper is refused at load, naming the instruction */
	struct bpf_insn bad[] = {MOV64_IMM(0, 0), CALL_HELPER(1), EXIT()};
	o = run_prog(bad, LEN(bad), t, false, BEE_RUN_CHECKED, NULL, 0, false, 0);
	CHECK(o.load_ret == -EINVAL && o.load_insn == 1, "unknown helper refused: ret=%d insn=%ld",
	      o.load_ret, o.load_insn);

	/* helpers can ask whether a pointer is the program's to give */
	struct bpf_insn stackptr[] = {MOV64_REG(1, 10), ADD64_IMM(1, -16), MOV64_IMM(2, 16), MOV64_IMM(3, 1),
				      CALL_HELPER(1001), EXIT()};
	o = run_prog(stackptr, LEN(stackptr), t, false, BEE_RUN_CHECKED, NULL, 0, false, 0);
	CHECK(o.run_ret == 0 && o.r0 == 1, "stack pointer is ok for the helper");
	struct bpf_insn wild[] = {MOV64_IMM(1, 4096), MOV64_IMM(2, 8), MOV64_IMM(3, 0), CALL_HELPER(1001),
				  EXIT()};
	o = run_prog(wild, LEN(wild), t, false, BEE_RUN_CHECKED, NULL, 0, false, 0);
	CHECK(o.run_ret == 0 && o.r0 == 0, "wild pointer is not ok for the helper");

	/* memory a helper grants becomes readable; without the grant it faults */
	struct bpf_insn use[] = {MOV64_IMM(1, 1), CALL_HELPER(1002), LDX(BPF_DW, 0, 0, 8), EXIT()};
	o = run_prog(use, LEN(use), t, false, BEE_RUN_CHECKED, NULL, 0, false, 0);
	CHECK(o.run_ret == 0 && o.r0 == 0x2222, "granted memory is readable: ret=%d %s", o.run_ret,
	      o.res.err.msg);
	struct bpf_insn nogrant[] = {MOV64_IMM(1, 0), CALL_HELPER(1002), LDX(BPF_DW, 0, 0, 8), EXIT()};
	o = run_prog(nogrant, LEN(nogrant), t, false, BEE_RUN_CHECKED, NULL, 0, false, 0);
	CHECK(o.run_ret == -EFAULT && o.res.err.insn == 2, "ungranted memory faults: ret=%d", o.run_ret);
	struct bpf_insn wr[] = {MOV64_IMM(1, 1), CALL_HELPER(1002), ST(BPF_DW, 0, 0, 1), EXIT()};
	o = run_prog(wr, LEN(wr), t, false, BEE_RUN_CHECKED, NULL, 0, false, 0);
	CHECK(o.run_ret == -EFAULT, "read-only grant refuses writes: ret=%d", o.run_ret);

	/* built-ins */
	struct bee_helper_table *b = bee_helper_table_new();
	CHECK(bee_helper_table_add_builtins(b) == 0, "builtins register");
	struct bpf_insn time[] = {CALL_HELPER(BPF_FUNC_ktime_get_ns), MOV64_REG(6, 0),
				  CALL_HELPER(BPF_FUNC_ktime_get_ns), INSN(BPF_ALU64 | BPF_SUB | BPF_X, 0, 6, 0, 0),
				  EXIT()};
	o = run_prog(time, LEN(time), b, false, BEE_RUN_CHECKED, NULL, 0, false, 0);
	CHECK(o.run_ret == 0 && (int64_t)o.r0 >= 0, "ktime is monotonic");
	bee_helper_table_free(b);
	bee_helper_table_free(t);
}

static void test_load_errors(void)
{
	struct bpf_insn pseudo[] = {INSN(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD, 0, 3), INSN(0, 0, 0, 0, 0),
				    MOV64_IMM(0, 0), EXIT()};
	struct outcome o = run_checked(pseudo, LEN(pseudo));
	CHECK(o.load_ret == -EINVAL && o.load_insn == 0, "map fd lddw refused before the core: %d",
	      o.load_ret);
	struct bpf_insn fp[] = {MOV64_IMM(10, 0), EXIT()};
	o = run_checked(fp, LEN(fp));
	CHECK(o.load_ret == -EINVAL && o.load_insn == 0, "write to r10 refused");
	struct bpf_insn off_end[] = {JA(5), EXIT()};
	o = run_checked(off_end, LEN(off_end));
	CHECK(o.load_ret == -EINVAL && o.load_insn == 0, "jump out of range refused");
	struct bpf_insn noexit[] = {MOV64_IMM(0, 0)};
	o = run_checked(noexit, LEN(noexit));
	CHECK(o.load_ret == -EINVAL, "missing exit refused");
	o = run_checked(noexit, 0);
	CHECK(o.load_ret == -EINVAL, "empty program refused");
}

static void test_fast_matches_checked(void)
{
	/* a loop with stack traffic gives the same answer on both paths */
	struct bpf_insn p[] = {
		MOV64_IMM(0, 0), MOV64_IMM(1, 0), ST(BPF_DW, 10, -8, 0),
		LDX(BPF_DW, 2, 10, -8), ADD64_REG(2, 1), STX(BPF_DW, 10, 2, -8), ADD64_IMM(1, 1),
		JEQ_IMM(1, 1000, 1), JA(-6),
		LDX(BPF_DW, 0, 10, -8), EXIT(),
	};
	struct outcome c = run_prog(p, LEN(p), NULL, true, BEE_RUN_CHECKED, NULL, 0, false, 0);
	struct outcome f = run_prog(p, LEN(p), NULL, true, 0, NULL, 0, false, 0);
	CHECK(c.run_ret == 0 && f.run_ret == 0 && c.r0 == 499500 && f.r0 == c.r0,
	      "fast %" PRIu64 " == checked %" PRIu64, f.r0, c.r0);
}

/* "rX += imm; if rX cc Y goto" is fused into one dispatch on the fast
 * path: every condition, imm and reg, taken and not, must match the
 * checked path, which never fuses. */
static void test_fused_loop_steps(void)
{
	static const uint8_t conds[] = {BPF_JEQ, BPF_JNE, BPF_JGT, BPF_JGE, BPF_JLT, BPF_JLE,
					BPF_JSET, BPF_JSGT, BPF_JSGE, BPF_JSLT, BPF_JSLE};
	static const int32_t values[] = {0, 1, -1, 2, 7, -7, INT32_MAX, INT32_MIN};
	int compared = 0, mismatched = 0;
	for (size_t c = 0; c < sizeof(conds); c++)
		for (int reg = 0; reg < 2; reg++)
			for (size_t a = 0; a < LEN(values); a++)
				for (size_t k = 0; k < LEN(values); k++)
					for (size_t y = 0; y < LEN(values); y++) {
						struct bpf_insn p[] = {
							MOV64_IMM(1, values[a]), MOV64_IMM(2, values[y]),
							MOV64_IMM(0, 0), ADD64_IMM(1, values[k]),
							reg ? INSN(BPF_JMP | conds[c] | BPF_X, 1, 2, 1, 0)
							    : INSN(BPF_JMP | conds[c] | BPF_K, 1, 0, 1, values[y]),
							MOV64_IMM(0, 1), ADD64_REG(0, 1), EXIT()};
						struct outcome f = run_prog(p, LEN(p), NULL, true, 0, NULL, 0, false, 0);
						struct outcome k2 = run_prog(p, LEN(p), NULL, true, BEE_RUN_CHECKED, NULL, 0,
									     false, 0);
						compared++;
						if (f.run_ret || k2.run_ret || f.r0 != k2.r0)
							mismatched++;
					}
	CHECK(mismatched == 0, "fused add+jump: %d of %d differ from the checked path", mismatched, compared);
}

int main(void)
{
	test_basics();
	test_checked_faults();
	test_budget_and_depth();
	test_frames();
	test_helpers();
	test_load_errors();
	test_fast_matches_checked();
	test_fused_loop_steps();
	printf("%d passed, %d failed\n", checks - failures, failures);
	return failures ? 1 : 0;
}
