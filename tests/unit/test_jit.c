/*
 * test_jit.c - the x86-64 JIT beyond what the data-driven tests show:
 *
 *  - every register as dst and src of every ALU, byte-swap, jump and
 *    atomic operation, with values chosen to hit division by zero and by
 *    -1, shifts by the width and more: the JIT keeps BPF registers in x86
 *    registers some of which instructions use implicitly (rax, rdx for
 *    division, rcx for shift counts, rax for cmpxchg), so each pair is a
 *    separate case.  Every program runs on the interpreter and the JIT, in
 *    the checked and the fast mode, and all four must agree on everything;
 *  - faults: the same error code, instruction, message and instruction
 *    count as the checked interpreter;
 *  - the code is never writable once compiled (W^X, from /proc/self/maps);
 *  - a 100,000-instruction program compiles, with increasing offsets, and
 *    runs the same everywhere (its compile time is printed; bench_compile
 *    measures it);
 *  - constant blinding changes the code, hides the constants and keeps
 *    the results;
 *  - bee_code_jited's image and offsets, first use from many threads at
 *    once, and a helper that runs another program on the JIT;
 *  - a chain of 8 bpf-to-bpf frames, each calling a helper (every
 *    argument count 0..5 at every depth) with r6..r9 and a stack slot live
 *    across the helper and the next call, checked against a C model.
 *    (Random programs with such calls: tests/kernel/diff_calls.c.)
 *
 * Programs are built from raw instructions (no assembler).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bee/vm.h"

#include "unit.h"

/* ---- a program under construction ---- */

struct prog {
	struct bpf_insn *v;
	size_t n, cap;
};

static void put(struct prog *p, struct bpf_insn in)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->v = realloc(p->v, p->cap * sizeof(*p->v));
		if (!p->v) {
			printf("out of memory\n");
			exit(2);
		}
	}
	p->v[p->n++] = in;
}

static void put_lddw(struct prog *p, unsigned dst, uint64_t v)
{
	put(p, INSN(BPF_LD | BPF_IMM | BPF_DW, dst, 0, 0, (int32_t)(uint32_t)v));
	put(p, INSN(0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32)));
}

/* r0..r9 = vals[0..9]; the slot at r10-96 (folded too) is set as well:
 * the fast paths do not clear the stack. */
static void put_prologue(struct prog *p, const uint64_t *vals)
{
	for (unsigned r = 0; r <= 9; r++)
		put_lddw(p, r, vals[r]);
	put(p, ST(BPF_DW, 10, -96, 0x31415926));
}

/* Fold r0..r9 and the stack slot at r10-96 into r0, then exit.  r10 is
 * never folded: its value is an address, which differs between engines. */
static void put_fold_exit(struct prog *p)
{
	for (unsigned r = 0; r <= 9; r++)
		put(p, STX(BPF_DW, 10, r, -8 * (int16_t)(r + 1)));
	put(p, MOV64_IMM(0, 0));
	for (int k = 1; k <= 10; k++) {
		put(p, LDX(BPF_DW, 1, 10, (int16_t)(-8 * k)));
		put(p, INSN(BPF_ALU64 | BPF_MUL | BPF_K, 0, 0, 0, 1000003));
		put(p, INSN(BPF_ALU64 | BPF_XOR | BPF_X, 0, 1, 0, 0));
	}
	put(p, LDX(BPF_DW, 1, 10, -96));
	put(p, INSN(BPF_ALU64 | BPF_MUL | BPF_K, 0, 0, 0, 1000003));
	put(p, INSN(BPF_ALU64 | BPF_XOR | BPF_X, 0, 1, 0, 0));
	put(p, EXIT());
}

/* ---- running on every engine and mode ---- */

struct outcome {
	int load_ret;
	int run_ret;
	struct bee_run_result res;
	uint8_t mem[64]; /* the input memory after the run */
};

/* Every run uses this one buffer as its input memory, so that messages
 * naming addresses in it are the same whichever engine ran. */
static uint8_t shared_mem[64] __attribute__((aligned(16)));

static struct outcome run_one(const struct bpf_insn *insns, size_t n, const struct bee_helper_table *t,
			      bool trusted, enum bee_engine engine, unsigned flags, const uint8_t *mem,
			      size_t mem_len, uint64_t max_insns, bool blind)
{
	struct outcome out;
	memset(&out, 0, sizeof(out));
	struct bee_error err;
	struct bee_code_opts copts = {.sz = sizeof(copts), .helpers = t, .trusted = trusted, .jit_blind = blind};
	struct bee_code *code = bee_code_load(insns, n, &copts, &err);
	if (!code) {
		out.load_ret = err.code;
		return out;
	}
	if (mem)
		memcpy(shared_mem, mem, mem_len);
	struct bee_run_opts ropts = {.sz = sizeof(ropts), .engine = engine, .flags = flags,
				     .mem = mem ? shared_mem : NULL, .mem_len = mem_len, .max_insns = max_insns};
	out.run_ret = bee_code_run(code, &ropts, &out.res);
	if (mem)
		memcpy(out.mem, shared_mem, mem_len);
	bee_code_free(code);
	return out;
}

static bool same_outcome(const struct outcome *a, const struct outcome *b, size_t mem_len, char *why,
			 size_t len)
{
	if (a->load_ret != b->load_ret || a->run_ret != b->run_ret)
		snprintf(why, len, "rc %d/%d vs %d/%d (%s | %s)", a->load_ret, a->run_ret, b->load_ret,
			 b->run_ret, a->res.err.msg, b->res.err.msg);
	else if (a->res.r0 != b->res.r0)
		snprintf(why, len, "r0 0x%" PRIx64 " vs 0x%" PRIx64, a->res.r0, b->res.r0);
	else if (a->res.insns != b->res.insns)
		snprintf(why, len, "insns %" PRIu64 " vs %" PRIu64, a->res.insns, b->res.insns);
	else if (a->res.err.code != b->res.err.code || a->res.err.insn != b->res.err.insn ||
		 strcmp(a->res.err.msg, b->res.err.msg))
		snprintf(why, len, "error insn %ld \"%s\" vs insn %ld \"%s\"", a->res.err.insn,
			 a->res.err.msg, b->res.err.insn, b->res.err.msg);
	else if (memcmp(a->mem, b->mem, mem_len))
		snprintf(why, len, "memory differs");
	else
		return true;
	return false;
}

static unsigned compared, mismatched;

/*
 * Interpreter and JIT, checked; then, when the checked run did not fault,
 * both fast (the fast path has no checks: only safe programs may take it).
 * Returns the checked interpreter's outcome.
 */
static struct outcome all_agree(const char *what, const struct bpf_insn *p, size_t n,
				const struct bee_helper_table *t, const uint8_t *mem, size_t mem_len,
				uint64_t max_insns)
{
	char why[600];
	struct outcome ic = run_one(p, n, t, false, BEE_ENGINE_INTERP, BEE_RUN_CHECKED, mem, mem_len, max_insns, false);
	struct outcome jc = run_one(p, n, t, false, BEE_ENGINE_JIT, BEE_RUN_CHECKED, mem, mem_len, max_insns, false);
	compared++;
	if (!same_outcome(&ic, &jc, mem_len, why, sizeof(why))) {
		if (++mismatched <= 20)
			printf("FAIL %s: checked interpreter vs checked JIT: %s\n", what, why);
		return ic;
	}
	if (ic.load_ret || ic.run_ret)
		return ic;
	struct outcome i_f = run_one(p, n, t, true, BEE_ENGINE_INTERP, 0, mem, mem_len, 0, false);
	struct outcome jf = run_one(p, n, t, true, BEE_ENGINE_JIT, 0, mem, mem_len, 0, false);
	struct outcome jb = run_one(p, n, t, true, BEE_ENGINE_JIT, 0, mem, mem_len, 0, true);
	compared++;
	const char *pair = NULL;
	if (!same_outcome(&i_f, &jf, mem_len, why, sizeof(why)))
		pair = "fast interpreter vs fast JIT";
	else if (!same_outcome(&jf, &jb, mem_len, why, sizeof(why)))
		pair = "fast JIT vs fast JIT with blinding";
	else if (ic.res.r0 != jf.res.r0 || memcmp(ic.mem, jf.mem, mem_len)) {
		pair = "checked vs fast";
		snprintf(why, sizeof(why), "r0 0x%" PRIx64 " vs 0x%" PRIx64 " or memory", ic.res.r0,
			 jf.res.r0);
	}
	if (pair && ++mismatched <= 20)
		printf("FAIL %s: %s: %s\n", what, pair, why);
	return ic;
}

/* ---- every register pair ---- */

static const uint64_t value_sets[][10] = {
	{0x8000000000000001ull, 0x0123456789abcdefull, 7, 0xffffffff80000000ull, 65, 33,
	 0xfedcba9876543210ull, 3, 0x00000000ffffffffull, 0x7fffffff00000005ull},
	/* zeros and minus ones: division by zero, INT_MIN / -1, shifts by 0 */
	{0, 0xffffffffffffffffull, 0x8000000000000000ull, 0, 0xffffffffffffffffull, 0x80000000ull,
	 0xffffffff, 0x100000000ull, 0x00000000ffffffffull, 0},
};

static void test_alu_pairs(void)
{
	static const uint8_t ops[] = {BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH,
				      BPF_RSH, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH};
	unsigned before = mismatched;
	for (size_t v = 0; v < LEN(value_sets); v++)
		for (int cls = 0; cls < 2; cls++)
			for (size_t o = 0; o < LEN(ops) + 2; o++)
				for (unsigned dst = 0; dst <= 9; dst++)
					for (unsigned src = 0; src <= 9; src++) {
						/* the last two rows: sdiv and smod (off = 1) */
						uint8_t op = o < LEN(ops) ? ops[o] : o == LEN(ops) ? BPF_DIV : BPF_MOD;
						int16_t off = o < LEN(ops) ? 0 : 1;
						uint8_t c = (cls ? BPF_ALU64 : BPF_ALU) | op | BPF_X;
						struct prog p = {0};
						put_prologue(&p, value_sets[v]);
						put(&p, INSN(c, dst, src, off, 0));
						put_fold_exit(&p);
						char what[80];
						snprintf(what, sizeof(what), "alu%s op 0x%02x off %d r%u, r%u set %zu",
							 cls ? "64" : "32", op, off, dst, src, v);
						all_agree(what, p.v, p.n, NULL, NULL, 0, 0);
						free(p.v);
					}
	CHECK(mismatched == before, "ALU register pairs: %u mismatches", mismatched - before);
}

static void test_alu_imms(void)
{
	static const uint8_t ops[] = {BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH,
				      BPF_RSH, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH};
	static const int32_t imms[] = {0, 1, -1, 2, 3, 7, 8, 31, 32, 63, 64, 127, 128, -128, -129,
				       0x40000000, INT32_MIN, INT32_MAX, 0x12345678, -0x12345678};
	unsigned before = mismatched;
	for (int cls = 0; cls < 2; cls++)
		for (size_t o = 0; o < LEN(ops) + 2; o++)
			for (size_t k = 0; k < LEN(imms); k++)
				for (unsigned dst = 0; dst <= 9; dst += 3) {
					uint8_t op = o < LEN(ops) ? ops[o] : o == LEN(ops) ? BPF_DIV : BPF_MOD;
					int16_t off = o < LEN(ops) ? 0 : 1;
					uint8_t c = (cls ? BPF_ALU64 : BPF_ALU) | op | BPF_K;
					struct prog p = {0};
					put_prologue(&p, value_sets[dst & 1]);
					put(&p, INSN(c, dst, 0, off, imms[k]));
					put_fold_exit(&p);
					char what[80];
					snprintf(what, sizeof(what), "alu%s op 0x%02x off %d r%u, %d", cls ? "64" : "32",
						 op, off, dst, imms[k]);
					all_agree(what, p.v, p.n, NULL, NULL, 0, 0);
					free(p.v);
				}
	CHECK(mismatched == before, "ALU immediates: %u mismatches", mismatched - before);
}

static void test_unary(void)
{
	struct { uint8_t code; int16_t off; int32_t imm; bool has_src; } ops[] = {
		{BPF_ALU64 | BPF_NEG, 0, 0, false}, {BPF_ALU | BPF_NEG, 0, 0, false},
		{BPF_ALU64 | BPF_MOV | BPF_X, 8, 0, true}, {BPF_ALU64 | BPF_MOV | BPF_X, 16, 0, true},
		{BPF_ALU64 | BPF_MOV | BPF_X, 32, 0, true}, {BPF_ALU | BPF_MOV | BPF_X, 8, 0, true},
		{BPF_ALU | BPF_MOV | BPF_X, 16, 0, true},
		{BPF_ALU | BPF_END | BPF_TO_LE, 0, 16, false}, {BPF_ALU | BPF_END | BPF_TO_LE, 0, 32, false},
		{BPF_ALU | BPF_END | BPF_TO_LE, 0, 64, false}, {BPF_ALU | BPF_END | BPF_TO_BE, 0, 16, false},
		{BPF_ALU | BPF_END | BPF_TO_BE, 0, 32, false}, {BPF_ALU | BPF_END | BPF_TO_BE, 0, 64, false},
		{BPF_ALU64 | BPF_END | BPF_TO_LE, 0, 16, false}, {BPF_ALU64 | BPF_END | BPF_TO_LE, 0, 32, false},
		{BPF_ALU64 | BPF_END | BPF_TO_LE, 0, 64, false},
	};
	unsigned before = mismatched;
	for (size_t i = 0; i < LEN(ops); i++)
		for (unsigned dst = 0; dst <= 9; dst++)
			for (unsigned src = 0; src <= (ops[i].has_src ? 9u : 0u); src++) {
				struct prog p = {0};
				put_prologue(&p, value_sets[0]);
				put(&p, INSN(ops[i].code, dst, src, ops[i].off, ops[i].imm));
				put_fold_exit(&p);
				char what[80];
				snprintf(what, sizeof(what), "unary 0x%02x off %d imm %d r%u, r%u", ops[i].code,
					 ops[i].off, ops[i].imm, dst, src);
				all_agree(what, p.v, p.n, NULL, NULL, 0, 0);
				free(p.v);
			}
	CHECK(mismatched == before, "neg, movsx, byte swaps: %u mismatches", mismatched - before);
}

static void test_jumps(void)
{
	static const uint8_t ops[] = {BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT,
				      BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE};
	static const int32_t imms[] = {0, 1, -1, 7, INT32_MIN, INT32_MAX, 0x7fffffff, INT32_MIN + 5};
	unsigned before = mismatched;
	for (int cls = 0; cls < 2; cls++)
		for (size_t o = 0; o < LEN(ops); o++)
			for (unsigned dst = 0; dst <= 9; dst++) {
				/* register forms: every src; immediate forms: a few values */
				for (unsigned k = 0; k < 10 + LEN(imms); k++) {
					bool reg = k < 10;
					uint8_t c = (cls ? BPF_JMP : BPF_JMP32) | ops[o] | (reg ? BPF_X : BPF_K);
					struct prog p = {0};
					put_prologue(&p, value_sets[(dst + k) & 1]);
					put(&p, INSN(c, dst, reg ? k : 0, 1, reg ? 0 : imms[k - 10]));
					put(&p, INSN(BPF_ALU64 | BPF_XOR | BPF_K, 9, 0, 0, 0x5a5a));
					put_fold_exit(&p);
					char what[80];
					snprintf(what, sizeof(what), "jmp%s 0x%02x r%u %s%d", cls ? "" : "32", ops[o], dst,
						 reg ? "r" : "", reg ? (int)k : imms[k - 10]);
					all_agree(what, p.v, p.n, NULL, NULL, 0, 0);
					free(p.v);
				}
			}
	CHECK(mismatched == before, "conditional jumps: %u mismatches", mismatched - before);
}

static void test_atomic_pairs(void)
{
	static const int32_t kinds[] = {BPF_ADD, BPF_OR, BPF_AND, BPF_XOR, BPF_ADD | BPF_FETCH,
					BPF_OR | BPF_FETCH, BPF_AND | BPF_FETCH, BPF_XOR | BPF_FETCH,
					BPF_XCHG, BPF_CMPXCHG};
	unsigned before = mismatched;
	for (int sz = 0; sz < 2; sz++)
		for (size_t k = 0; k < LEN(kinds); k++)
			for (unsigned base = 0; base <= 10; base++)
				for (unsigned src = 0; src <= 9; src++) {
					if (base == src && base != 10)
						continue; /* the base would be an address folded into r0 */
					struct prog p = {0};
					put_prologue(&p, value_sets[(base + src) & 1]);
					/* the target: the stack slot r10-96 */
					put(&p, ST(BPF_W, 10, -96, (int32_t)0x9abcdef0));
					put(&p, ST(BPF_W, 10, -92, 0x12345678));
					if (k == LEN(kinds) - 1 && (src & 1))
						/* a cmpxchg that succeeds, r0's upper half set */
						put(&p, LDX(BPF_DW, 0, 10, -96));
					int16_t off = -96;
					if (base != 10) {
						put(&p, MOV64_REG(base, 10));
						put(&p, ADD64_IMM(base, -64));
						off = -32;
					}
					put(&p, INSN(BPF_STX | BPF_ATOMIC | (sz ? BPF_DW : BPF_W), base, src, off,
						     kinds[k]));
					if (base != 10)
						put(&p, MOV64_IMM(base, 0x77)); /* no address in the fold */
					put_fold_exit(&p);
					char what[80];
					snprintf(what, sizeof(what), "atomic%s 0x%x [r%u], r%u", sz ? "64" : "32",
						 kinds[k], base, src);
					all_agree(what, p.v, p.n, NULL, NULL, 0, 0);
					free(p.v);
				}
	CHECK(mismatched == before, "atomics: %u mismatches", mismatched - before);
}

static void test_mem_pairs(void)
{
	/* loads and stores of every size through every base register into the
	 * input memory, at offsets inside it and at its very end */
	static const uint8_t sizes[] = {BPF_B, BPF_H, BPF_W, BPF_DW};
	static const unsigned bytes[] = {1, 2, 4, 8};
	uint8_t mem[64];
	for (size_t i = 0; i < sizeof(mem); i++)
		mem[i] = (uint8_t)(0x80 + 7 * i);
	unsigned before = mismatched;
	for (size_t s = 0; s < LEN(sizes); s++)
		for (int form = 0; form < 4; form++) /* ldx, ldxs, stx, st */
			for (unsigned base = 0; base <= 9; base++)
				for (unsigned other = 0; other <= 9; other += 3) {
					if (form == 1 && sizes[s] == BPF_DW)
						continue;
					int16_t off = (int16_t)(other == 9 ? 64 - (int)bytes[s] : 3 * (int)other);
					struct prog p = {0};
					put(&p, STX(BPF_DW, 10, 1, -104)); /* the input memory's address */
					put_prologue(&p, value_sets[0]);
					put(&p, LDX(BPF_DW, base, 10, -104));
					unsigned reg = other == base ? (base + 1) % 10 : other;
					switch (form) {
					case 0: put(&p, LDX(sizes[s], reg, base, off)); break;
					case 1: put(&p, INSN(BPF_LDX | BPF_MEMSX | sizes[s], reg, base, off, 0)); break;
					case 2: put(&p, STX(sizes[s], base, reg, off)); break;
					default: put(&p, ST(sizes[s], base, off, -0x789abc)); break;
					}
					put(&p, MOV64_IMM(base, 0x99)); /* no address in the fold */
					put_fold_exit(&p);
					char what[80];
					snprintf(what, sizeof(what), "mem form %d size %u [r%u%+d] r%u", form, bytes[s], base,
						 off, reg);
					all_agree(what, p.v, p.n, NULL, mem, sizeof(mem), 0);
					free(p.v);
				}
	CHECK(mismatched == before, "loads and stores: %u mismatches", mismatched - before);
}

static void test_ld_pkt(void)
{
	static const uint8_t sizes[] = {BPF_B, BPF_H, BPF_W};
	static const int32_t offs[] = {0, 1, 7, 60, 61, 62, 63, 64, -1, INT32_MIN, 0x7fffffff};
	uint8_t mem[64];
	for (size_t i = 0; i < sizeof(mem); i++)
		mem[i] = (uint8_t)(0x11 * i + 3);
	unsigned before = mismatched;
	for (size_t s = 0; s < LEN(sizes); s++)
		for (size_t k = 0; k < LEN(offs); k++)
			for (unsigned src = 0; src <= 10; src++)
				for (int sub = 0; sub < 2; sub++) {
					/* src = 10: ld abs; else ld ind with src holding a small index */
					struct prog p = {0};
					put(&p, MOV64_REG(6, 1)); /* the packet pointer is not folded */
					put_prologue(&p, value_sets[k & 1]);
					if (src < 10)
						put(&p, MOV64_IMM(src, (int32_t)(k % 5) - 2));
					if (sub)
						put(&p, CALL_LOCAL(1 + 0)); /* the callee follows the next insn */
					size_t ja = p.n;
					if (sub)
						put(&p, JA(0)); /* patched to skip the callee */
					size_t callee = p.n;
					if (src == 10)
						put(&p, INSN(BPF_LD | BPF_ABS | sizes[s], 0, 0, 0, offs[k]));
					else
						put(&p, INSN(BPF_LD | BPF_IND | sizes[s], 0, src, 0, offs[k]));
					put(&p, ADD64_IMM(0, 0x100)); /* skipped when out of bounds */
					if (sub) {
						put(&p, EXIT());
						p.v[ja].off = (int16_t)(p.n - ja - 1);
						p.v[ja - 1].imm = (int32_t)(callee - ja);
					}
					put(&p, MOV64_IMM(6, 0));
					put_fold_exit(&p);
					char what[80];
					snprintf(what, sizeof(what), "ld %s size 0x%x off %d src r%u%s",
						 src == 10 ? "abs" : "ind", sizes[s], offs[k], src, sub ? " in a subprogram" : "");
					all_agree(what, p.v, p.n, NULL, mem, sizeof(mem), 0);
					free(p.v);
				}
	CHECK(mismatched == before, "ld abs/ind: %u mismatches", mismatched - before);
}

/* ---- faults: the same error, instruction, message and count ---- */

static uint64_t helper_args(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	return a + 2 * b + 3 * c + 4 * d + 5 * e;
}

static uint64_t granted[4] = {1, 2, 3, 4};

static uint64_t helper_grant(uint64_t writable, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	bee_run_grant(granted, sizeof(granted), writable != 0);
	return (uint64_t)(uintptr_t)granted;
}

static void test_faults(void)
{
	struct bee_helper_table *t = bee_helper_table_new();
	struct bee_helper h1 = {.id = 1, .name = "args", .fn = helper_args}, h2 = {.id = 2, .name = "grant", .fn = helper_grant};
	bee_helper_table_add(t, &h1);
	bee_helper_table_add(t, &h2);
	uint8_t mem[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

	struct { const char *name; struct bpf_insn p[12]; size_t n; uint64_t budget; int want; } cases[] = {
		{"below the frame", {MOV64_IMM(0, 0), ST(BPF_B, 10, -513, 1), EXIT()}, 3, 0, -EFAULT},
		{"across the top", {MOV64_IMM(0, 0), LDX(BPF_W, 0, 10, -2), EXIT()}, 3, 0, -EFAULT},
		{"above the top", {LDX(BPF_B, 0, 10, 0), EXIT()}, 2, 0, -EFAULT},
		{"through a copy of r10", {MOV64_REG(3, 10), LDX(BPF_DW, 0, 3, -520), EXIT()}, 3, 0, -EFAULT},
		{"last stack byte via copy", {MOV64_REG(3, 10), ST(BPF_B, 3, -1, 9), LDX(BPF_B, 0, 3, -1), EXIT()}, 4, 0, 0},
		{"NULL", {MOV64_IMM(1, 0), LDX(BPF_DW, 0, 1, 0), EXIT()}, 3, 0, -EFAULT},
		{"wild", {MOV64_IMM(4, 0x1000), STX(BPF_W, 4, 4, 8), EXIT()}, 3, 0, -EFAULT},
		{"mem end", {LDX(BPF_W, 0, 1, 8), LDX(BPF_W, 0, 1, 9), EXIT()}, 3, 0, -EFAULT},
		{"mem last byte", {LDX(BPF_B, 0, 1, 11), LDX(BPF_H, 2, 1, 10), ADD64_REG(0, 2), EXIT()}, 4, 0, 0},
		{"mem before", {LDX(BPF_B, 0, 1, -1), EXIT()}, 2, 0, -EFAULT},
		{"misaligned", {MOV64_IMM(2, 1), INSN(BPF_STX | BPF_ATOMIC | BPF_DW, 10, 2, -12, BPF_ADD), EXIT()}, 3, 0, -EFAULT},
		{"misaligned mem", {MOV64_IMM(2, 1), INSN(BPF_STX | BPF_ATOMIC | BPF_W, 1, 2, 2, BPF_XCHG), EXIT()}, 3, 0, -EFAULT},
		{"budget", {MOV64_IMM(0, 0), ADD64_IMM(0, 1), JA(-2), EXIT()}, 4, 1001, -ETIME},
		{"budget on lddw", {INSN(BPF_LD | BPF_IMM | BPF_DW, 0, 0, 0, 1), INSN(0, 0, 0, 0, 0), JA(-3), EXIT()}, 4, 10, -ETIME},
		{"exact budget", {MOV64_IMM(0, 1), ADD64_IMM(0, 1), EXIT()}, 3, 3, 0},
		{"recursion", {CALL_LOCAL(1), EXIT(), ADD64_IMM(0, 1), CALL_LOCAL(-2), EXIT()}, 5, 0, -E2BIG},
		{"callee frame after return", {CALL_LOCAL(3), MOV64_REG(2, 10), LDX(BPF_DW, 0, 2, -520), EXIT(),
					       ST(BPF_DW, 10, -8, 1), EXIT()}, 6, 0, -EFAULT},
		{"callee reads caller frame", {ST(BPF_DW, 10, -8, 5), CALL_LOCAL(1), EXIT(), ST(BPF_DW, 10, -8, 1),
					       MOV64_REG(2, 10), LDX(BPF_DW, 0, 2, 504), EXIT()}, 7, 0, 0},
		{"caller frame", {ST(BPF_DW, 10, -504, 3), CALL_LOCAL(1), EXIT(), MOV64_REG(2, 10), LDX(BPF_DW, 0, 2, 8),
				  ADD64_IMM(0, 3), EXIT()}, 7, 0, 0},
		{"helper args kept", {MOV64_IMM(1, 1), MOV64_IMM(2, 2), MOV64_IMM(3, 3), MOV64_IMM(4, 4), MOV64_IMM(5, 5), CALL_HELPER(1),
				      ADD64_REG(0, 1), ADD64_REG(0, 2), ADD64_REG(0, 5), EXIT()}, 10, 0, 0},
		{"granted read-only", {MOV64_IMM(1, 0), CALL_HELPER(2), LDX(BPF_DW, 2, 0, 8), ST(BPF_DW, 0, 8, 5), EXIT()}, 5, 0, -EFAULT},
		{"granted writable", {MOV64_IMM(1, 1), CALL_HELPER(2), ST(BPF_DW, 0, 24, 5), LDX(BPF_DW, 0, 0, 24), EXIT()}, 5, 0, 0},
		{"granted end", {MOV64_IMM(1, 1), CALL_HELPER(2), LDX(BPF_DW, 0, 0, 25), EXIT()}, 4, 0, -EFAULT},
	};
	size_t budget_case = 0;
	for (size_t i = 0; i < LEN(cases); i++) {
		unsigned before = mismatched;
		granted[3] = 4;
		struct outcome o = all_agree(cases[i].name, cases[i].p, cases[i].n, t, mem, sizeof(mem),
					     cases[i].budget);
		CHECK(mismatched == before, "%s: engines differ", cases[i].name);
		CHECK(o.run_ret == cases[i].want, "%s: ret %d, want %d (%s)", cases[i].name, o.run_ret,
		      cases[i].want, o.res.err.msg);
		if (!strcmp(cases[i].name, "budget"))
			budget_case = i;
	}
	/* the runs' budgets are exact */
	struct outcome o = run_one(cases[budget_case].p, cases[budget_case].n, t, false, BEE_ENGINE_JIT, BEE_RUN_CHECKED, NULL, 0, 1001, false);
	CHECK(o.run_ret == -ETIME && o.res.insns == 1001 && o.res.err.insn == 1,
	      "JIT budget: ret %d insns %" PRIu64 " insn %ld", o.run_ret, o.res.insns, o.res.err.insn);
	bee_helper_table_free(t);
}

static void test_readonly_mem(void)
{
	uint8_t mem[16] = {0};
	struct bpf_insn w[] = {ST(BPF_W, 1, 4, 7), LDX(BPF_W, 0, 1, 4), EXIT()};
	for (int engine = 0; engine < 2; engine++) {
		struct bee_code_opts copts = {.sz = sizeof(copts)};
		struct bee_error err;
		struct bee_code *code = bee_code_load(w, LEN(w), &copts, &err);
		struct bee_run_opts ro = {.sz = sizeof(ro), .engine = engine ? BEE_ENGINE_JIT : BEE_ENGINE_INTERP,
					  .flags = BEE_RUN_CHECKED, .mem = mem, .mem_len = sizeof(mem),
					  .mem_readonly = true};
		struct bee_run_result res;
		int ret = bee_code_run(code, &ro, &res);
		CHECK(ret == -EFAULT && strstr(res.err.msg, "read-only") && res.err.insn == 0,
		      "engine %d: read-only input: %d %s", engine, ret, res.err.msg);
		ro.mem_readonly = false;
		ret = bee_code_run(code, &ro, &res);
		CHECK(ret == 0 && res.r0 == 7, "engine %d: writable input: %d", engine, ret);
		bee_code_free(code);
	}
}

/*
 * The checked JIT counts a block of instructions at once and, when the
 * budget cannot cover a block, runs it again counting one by one: every
 * budget from 1 to past the program's end must stop at the interpreter's
 * instruction with its count, whether the budget, a fault or the exit
 * comes first.
 */
static void test_budget_everywhere(void)
{
	struct bee_helper_table *t = bee_helper_table_new();
	struct bee_helper h = {.id = 1, .name = "args", .fn = helper_args};
	bee_helper_table_add(t, &h);
	uint8_t mem[16] = {0};
	struct bpf_insn p[] = {
		MOV64_IMM(6, 0), MOV64_IMM(0, 0),
		/* loop: a block with stack and input memory traffic, a helper call and an lddw */
		ADD64_IMM(0, 3), STX(BPF_DW, 10, 0, -8), LDX(BPF_DW, 2, 10, -8), CALL_HELPER(1),
		STX(BPF_W, 1, 6, 4), INSN(BPF_LD | BPF_IMM | BPF_DW, 3, 0, 0, 5), INSN(0, 0, 0, 0, 0),
		ADD64_REG(0, 3), ADD64_IMM(6, 1), INSN(BPF_JMP | BPF_JLT | BPF_K, 6, 0, -11, 5),
		/* then a call, and an access that faults in the middle of a block */
		CALL_LOCAL(3), ADD64_IMM(0, 1), LDX(BPF_DW, 4, 1, 12), EXIT(),
		ADD64_IMM(0, 2), EXIT(),
	};
	struct outcome full = run_one(p, LEN(p), t, false, BEE_ENGINE_INTERP, BEE_RUN_CHECKED, mem, sizeof(mem), 0, false);
	CHECK(full.run_ret == -EFAULT && full.res.err.insn == 14, "the program ends with a fault at insn 14: %d %ld",
	      full.run_ret, full.res.err.insn);
	unsigned before = mismatched, etime = 0;
	for (uint64_t budget = 1; budget <= full.res.insns + 2; budget++) {
		char what[64];
		snprintf(what, sizeof(what), "budget %" PRIu64, budget);
		struct outcome o = all_agree(what, p, LEN(p), t, mem, sizeof(mem), budget);
		etime += o.run_ret == -ETIME;
	}
	CHECK(mismatched == before, "budgets 1..%" PRIu64 ": %u mismatches", full.res.insns + 2, mismatched - before);
	CHECK(etime == full.res.insns - 1, "%u budgets run out (want %" PRIu64 ")", etime, full.res.insns - 1);
	bee_helper_table_free(t);
}

/* ---- W^X ---- */

static void test_wx(void)
{
	struct bpf_insn p[] = {MOV64_IMM(0, 42), EXIT()};
	struct bee_code_opts copts = {.sz = sizeof(copts), .trusted = true};
	struct bee_error err;
	struct bee_code *code = bee_code_load(p, LEN(p), &copts, &err);
	const uint8_t *image;
	size_t len;
	const uint32_t *offs;
	int ret = bee_code_jited(code, true, &image, &len, &offs);
	CHECK(ret == 0 && image && len > 0, "bee_code_jited: %d", ret);
	if (ret)
		return;
	FILE *f = fopen("/proc/self/maps", "r");
	CHECK(f != NULL, "/proc/self/maps is readable");
	if (!f)
		return;
	char line[512];
	bool found = false;
	unsigned wx = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[8];
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3)
			continue;
		if (perms[1] == 'w' && perms[2] == 'x')
			wx++;
		if ((uintptr_t)image >= lo && (uintptr_t)image < hi) {
			found = true;
			CHECK(perms[0] == 'r' && perms[1] == '-' && perms[2] == 'x',
			      "the image is mapped r-x, got %s", perms);
		}
	}
	fclose(f);
	CHECK(found, "the image is in /proc/self/maps");
	CHECK(wx == 0, "no mapping of the process is writable and executable (%u are)", wx);
	/* the image is reused, not recompiled */
	const uint8_t *again;
	bee_code_jited(code, true, &again, NULL, NULL);
	CHECK(again == image, "second bee_code_jited returns the same image");
	struct bee_run_opts ro = {.sz = sizeof(ro), .engine = BEE_ENGINE_JIT, .flags = BEE_RUN_CHECKED};
	struct bee_run_result res;
	ret = bee_code_run(code, &ro, &res);
	bee_code_jited(code, true, &again, NULL, NULL);
	CHECK(ret == 0 && res.r0 == 42 && again == image, "a run uses the compiled image");
	bee_code_free(code);
}

/* ---- a big program: compile time and the offsets ---- */

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* n instructions of everything: ALU, stack traffic, short and long
 * forward jumps (some right at the rel8 limit), helper and local calls. */
static void build_big(struct prog *p, size_t n)
{
	put(p, MOV64_IMM(0, 0));
	put(p, MOV64_IMM(6, 1));
	put(p, ST(BPF_DW, 10, -8, 0));
	uint64_t x = 12345;
	while (p->n < n - 4) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		switch ((x >> 33) % 10) {
		case 0: put(p, ADD64_IMM(0, (int32_t)(x >> 40))); break;
		case 1: put(p, INSN(BPF_ALU64 | BPF_XOR | BPF_X, 0, 6, 0, 0)); break;
		case 2: put(p, INSN(BPF_ALU | BPF_LSH | BPF_K, 6, 0, 0, (int32_t)(x >> 50) & 31)); break;
		case 3: put(p, STX(BPF_DW, 10, 0, -8)); break;
		case 4: put(p, LDX(BPF_DW, 7, 10, -8)); break;
		case 5: put(p, INSN(BPF_ALU64 | BPF_DIV | BPF_X, 7, 6, 0, 0)); break;
		case 6: /* a short or long forward jump */
			put(p, INSN(BPF_JMP | BPF_JGT | BPF_K, 0, 0, (int16_t)((x >> 45) % 40), 100));
			break;
		case 7:
			put(p, INSN(BPF_JMP | BPF_JNE | BPF_X, 7, 6, (int16_t)((x >> 45) % 4000), 0));
			break;
		case 8: put(p, INSN(BPF_ALU64 | BPF_MUL | BPF_K, 6, 0, 0, 3)); break;
		default: put(p, CALL_HELPER(1)); break;
		}
	}
	/* jumps must stay inside: clamp them to the end */
	size_t end = p->n;
	for (size_t i = 0; i < end; i++) {
		uint8_t cls = BPF_CLASS(p->v[i].code);
		if ((cls == BPF_JMP) && BPF_OP(p->v[i].code) != BPF_CALL && i + 1 + (size_t)p->v[i].off > end)
			p->v[i].off = (int16_t)(end - i - 1);
	}
	put(p, CALL_LOCAL(1));
	put(p, EXIT());
	put(p, ADD64_IMM(0, 1));
	put(p, EXIT());
}

static uint64_t helper_inc(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	return a + 1;
}

static void test_big_program(void)
{
	struct bee_helper_table *t = bee_helper_table_new();
	struct bee_helper h = {.id = 1, .name = "inc", .fn = helper_inc};
	bee_helper_table_add(t, &h);
	struct prog p = {0};
	build_big(&p, 100000);
	struct bee_error err;
	double best[2] = {1e9, 1e9};
	size_t len[2] = {0, 0};
	for (int rep = 0; rep < 3; rep++) {
		for (int checked = 0; checked < 2; checked++) {
			struct bee_code_opts copts = {.sz = sizeof(copts), .helpers = t, .trusted = true};
			struct bee_code *code = bee_code_load(p.v, p.n, &copts, &err);
			CHECK(code != NULL, "big program loads: %s", err.msg);
			if (!code)
				return;
			double t0 = now_ms();
			const uint32_t *offs;
			int ret = bee_code_jited(code, checked, NULL, &len[checked], &offs);
			double ms = now_ms() - t0;
			CHECK(ret == 0, "big program compiles: %d", ret);
			if (ms < best[checked])
				best[checked] = ms;
			bool monotonic = true;
			for (size_t i = 0; i < p.n; i++)
				if (offs[i] > offs[i + 1])
					monotonic = false;
			CHECK(monotonic && offs[p.n] <= len[checked], "offsets increase and end inside the image");
			bee_code_free(code);
		}
	}
	/* Printed for information only: timing belongs to bench/ (see
	 * bench_compile), not to assertions that a busy machine can break. */
	printf("compiling %zu instructions: fast %.1f ms (%zu bytes), checked %.1f ms (%zu bytes)%s\n",
	       p.n, best[0], len[0], best[1], len[1], SANITIZED ? " (sanitizer build)" : "");

	/* and it runs the same everywhere */
	unsigned before = mismatched;
	all_agree("big program", p.v, p.n, t, NULL, 0, 0);
	CHECK(mismatched == before, "the big program agrees on all engines");
	free(p.v);
	bee_helper_table_free(t);
}

/* ---- blinding ---- */

static bool contains(const uint8_t *hay, size_t n, const void *needle, size_t k)
{
	for (size_t i = 0; i + k <= n; i++)
		if (!memcmp(hay + i, needle, k))
			return true;
	return false;
}

static void test_blinding(void)
{
	const int32_t magic = 0x3c4d5e6f;
	const uint64_t magic64 = 0x1122334455667788ull;
	struct bpf_insn p[] = {
		MOV64_IMM(0, magic), INSN(BPF_ALU | BPF_ADD | BPF_K, 0, 0, 0, magic),
		ST(BPF_W, 10, -4, magic), LDX(BPF_W, 2, 10, -4), ADD64_REG(0, 2),
		INSN(BPF_LD | BPF_IMM | BPF_DW, 3, 0, 0, (int32_t)(uint32_t)magic64),
		INSN(0, 0, 0, 0, (int32_t)(magic64 >> 32)), INSN(BPF_ALU64 | BPF_XOR | BPF_X, 0, 3, 0, 0),
		INSN(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1, magic), ADD64_IMM(0, 1), EXIT(),
	};
	const uint8_t *image[3];
	size_t len[3];
	struct bee_code *code[3];
	uint64_t r0[3];
	for (int i = 0; i < 3; i++) {
		struct bee_code_opts copts = {.sz = sizeof(copts), .trusted = true, .jit_blind = i > 0};
		struct bee_error err;
		code[i] = bee_code_load(p, LEN(p), &copts, &err);
		CHECK(bee_code_jited(code[i], false, &image[i], &len[i], NULL) == 0, "blinding %d compiles", i);
		struct bee_run_opts ro = {.sz = sizeof(ro), .engine = BEE_ENGINE_JIT};
		struct bee_run_result res;
		CHECK(bee_code_run(code[i], &ro, &res) == 0, "blinding %d runs", i);
		r0[i] = res.r0;
	}
	CHECK(r0[0] == r0[1] && r0[1] == r0[2], "blinding keeps the result: 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64,
	      r0[0], r0[1], r0[2]);
	CHECK(contains(image[0], len[0], &magic, 4) && contains(image[0], len[0], &magic64, 8),
	      "without blinding the constants are in the code");
	CHECK(!contains(image[1], len[1], &magic, 4) && !contains(image[1], len[1], &magic64, 8) &&
		      !contains(image[2], len[2], &magic, 4),
	      "with blinding they are not");
	CHECK(len[1] != len[0] || memcmp(image[1], image[0], len[0]), "blinding changes the code");
	CHECK(len[1] == len[2] && memcmp(image[1], image[2], len[1]), "each compilation draws new keys");
	for (int i = 0; i < 3; i++)
		bee_code_free(code[i]);
}

/* ---- many threads, one first use ---- */

struct thread_arg {
	const struct bee_code *code;
	uint64_t r0;
	int ret;
	const uint8_t *image;
};

static void *thread_run(void *p)
{
	struct thread_arg *a = p;
	struct bee_run_opts ro = {.sz = sizeof(ro), .engine = BEE_ENGINE_JIT, .flags = BEE_RUN_CHECKED};
	struct bee_run_result res;
	a->ret = bee_code_run(a->code, &ro, &res);
	a->r0 = res.r0;
	bee_code_jited(a->code, true, &a->image, NULL, NULL);
	return NULL;
}

static void test_threads(void)
{
	struct bpf_insn p[] = {MOV64_IMM(0, 0), MOV64_IMM(1, 0), ADD64_REG(0, 1), ADD64_IMM(1, 1),
			       INSN(BPF_JMP | BPF_JNE | BPF_K, 1, 0, -3, 1000), EXIT()};
	struct bee_code_opts copts = {.sz = sizeof(copts)};
	struct bee_error err;
	struct bee_code *code = bee_code_load(p, LEN(p), &copts, &err);
	enum { N = 8 };
	pthread_t th[N];
	struct thread_arg args[N];
	for (int i = 0; i < N; i++) {
		args[i] = (struct thread_arg){.code = code};
		pthread_create(&th[i], NULL, thread_run, &args[i]);
	}
	bool ok = true;
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		ok = ok && args[i].ret == 0 && args[i].r0 == 499500 && args[i].image == args[0].image;
	}
	CHECK(ok, "8 threads compile once and all get 499500");
	bee_code_free(code);
}

/* ---- a helper that runs another program on the JIT ---- */

static struct bee_code *inner_code;

static uint64_t helper_nested(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	uint64_t buf[2] = {a, 0};
	struct bee_run_opts ro = {.sz = sizeof(ro), .engine = BEE_ENGINE_JIT, .flags = BEE_RUN_CHECKED,
				  .mem = buf, .mem_len = sizeof(buf)};
	struct bee_run_result res;
	if (bee_code_run(inner_code, &ro, &res))
		return (uint64_t)-1;
	return res.r0 + (bee_run_mem_ok(buf, 8, false) ? 0 : 1000); /* the outer run's view again */
}

static void test_nested(void)
{
	struct bpf_insn inner[] = {LDX(BPF_DW, 0, 1, 0), INSN(BPF_ALU64 | BPF_MUL | BPF_K, 0, 0, 0, 3), EXIT()};
	struct bpf_insn outer[] = {MOV64_IMM(6, 5), MOV64_IMM(1, 7), CALL_HELPER(1), ADD64_REG(0, 6), EXIT()};
	struct bee_code_opts copts = {.sz = sizeof(copts)};
	struct bee_error err;
	inner_code = bee_code_load(inner, LEN(inner), &copts, &err);
	struct bee_helper_table *t = bee_helper_table_new();
	struct bee_helper h = {.id = 1, .name = "nested", .fn = helper_nested};
	bee_helper_table_add(t, &h);
	copts.helpers = t;
	struct bee_code *code = bee_code_load(outer, LEN(outer), &copts, &err);
	struct bee_run_opts ro = {.sz = sizeof(ro), .engine = BEE_ENGINE_JIT, .flags = BEE_RUN_CHECKED};
	struct bee_run_result res;
	int ret = bee_code_run(code, &ro, &res);
	CHECK(ret == 0 && res.r0 == 21 + 1000 + 5, "nested JIT run: ret %d r0 %" PRIu64, ret, res.r0);
	bee_code_free(code);
	bee_code_free(inner_code);
	bee_helper_table_free(t);
}

/* ---- helpers of every argument count, at every depth of a call chain ---- */

/* Helper 20 + k reads its first k arguments, each with its own weight. */
static uint64_t mix_args(unsigned k, const uint64_t *a)
{
	static const uint64_t w[5] = {1, 3, 5, 7, 11};
	uint64_t h = 0x5bd1e995ull * (k + 1);
	for (unsigned i = 0; i < k; i++)
		h = (h ^ (a[i] * w[i])) * 0x100000001b3ull;
	return h;
}

#define MIX_HELPER(k)                                                                        \
	static uint64_t helper_mix##k(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e) \
	{                                                                                    \
		const uint64_t v[5] = {a, b, c, d, e};                                       \
		return mix_args(k, v);                                                       \
	}
MIX_HELPER(0)
MIX_HELPER(1)
MIX_HELPER(2)
MIX_HELPER(3)
MIX_HELPER(4)
MIX_HELPER(5)

#define CHAIN_FRAMES 8

/* What function k of the chain below returns for argument r1 (the model). */
static uint64_t chain_model(unsigned k, unsigned first_args, uint64_t r1)
{
	uint64_t r6 = r1 ^ (0x1111u * k + 1), r7 = 0x700 + k, r8 = 0x80000 + k, r9 = ~(uint64_t)k;
	uint64_t slot = r6 * 3, args[5];
	for (unsigned i = 0; i < 5; i++)
		args[i] = r6 + (k + 1) * (i + 1);
	uint64_t r0 = mix_args((first_args + k) % 6, args);
	r6 ^= r0;
	if (k + 1 < CHAIN_FRAMES)
		r0 = chain_model(k + 1, first_args, r6) + r6;
	return r0 ^ r7 ^ r8 ^ r9 ^ slot;
}

/*
 * Eight functions, each calling the next (8 frames): function k keeps r6..r9
 * and a stack slot live across a helper call with (first_args + k) % 6
 * arguments and across the call of function k+1, whose result it mixes in.
 * Functions are laid out in the order given, so calls go forward and back.
 */
static void build_chain(struct prog *p, unsigned first_args, const unsigned *order)
{
	size_t start[CHAIN_FRAMES], call_at[CHAIN_FRAMES];
	for (unsigned i = 0; i < CHAIN_FRAMES; i++) {
		unsigned k = order[i];
		start[k] = p->n;
		if (k == 0)
			put(p, MOV64_IMM(1, 77)); /* main's r1 is the input memory's address */
		put(p, MOV64_REG(6, 1));
		put(p, INSN(BPF_ALU64 | BPF_XOR | BPF_K, 6, 0, 0, (int32_t)(0x1111u * k + 1)));
		put(p, MOV64_IMM(7, (int32_t)(0x700 + k)));
		put(p, MOV64_IMM(8, (int32_t)(0x80000 + k)));
		put(p, MOV64_IMM(9, ~(int32_t)k));
		put(p, MOV64_REG(2, 6));
		put(p, INSN(BPF_ALU64 | BPF_MUL | BPF_K, 2, 0, 0, 3));
		put(p, STX(BPF_DW, 10, 2, -8));
		for (unsigned a = 1; a <= 5; a++) {
			put(p, MOV64_REG(a, 6));
			put(p, ADD64_IMM(a, (int32_t)((k + 1) * a)));
		}
		put(p, CALL_HELPER(20 + (int32_t)((first_args + k) % 6)));
		put(p, INSN(BPF_ALU64 | BPF_XOR | BPF_X, 6, 0, 0, 0));
		call_at[k] = 0;
		if (k + 1 < CHAIN_FRAMES) {
			put(p, MOV64_REG(1, 6));
			call_at[k] = p->n;
			put(p, CALL_LOCAL(0));
			put(p, ADD64_REG(0, 6));
		}
		for (unsigned r = 7; r <= 9; r++)
			put(p, INSN(BPF_ALU64 | BPF_XOR | BPF_X, 0, r, 0, 0));
		put(p, LDX(BPF_DW, 2, 10, -8));
		put(p, INSN(BPF_ALU64 | BPF_XOR | BPF_X, 0, 2, 0, 0));
		put(p, EXIT());
	}
	for (unsigned k = 0; k + 1 < CHAIN_FRAMES; k++)
		p->v[call_at[k]].imm = (int32_t)((long)start[k + 1] - (long)(call_at[k] + 1));
}

static void test_call_chain_helpers(void)
{
	static const bee_helper_fn fns[6] = {helper_mix0, helper_mix1, helper_mix2,
					     helper_mix3, helper_mix4, helper_mix5};
	static const unsigned orders[][CHAIN_FRAMES] = {
		{0, 1, 2, 3, 4, 5, 6, 7}, /* every call forward */
		{0, 7, 6, 5, 4, 3, 2, 1}, /* every call but the first backward */
		{0, 4, 1, 6, 3, 7, 2, 5}, /* mixed */
	};
	struct bee_helper_table *t = bee_helper_table_new();
	for (int k = 0; k < 6; k++) {
		struct bee_helper h = {.id = 20 + k, .name = "mix", .fn = fns[k]};
		bee_helper_table_add(t, &h);
	}
	unsigned before = mismatched;
	for (size_t o = 0; o < LEN(orders); o++)
		for (unsigned first = 0; first < 6; first++) {
			struct prog p = {0};
			build_chain(&p, first, orders[o]);
			char what[80];
			snprintf(what, sizeof(what), "call chain, order %zu, first helper %u args", o, first);
			struct outcome out = all_agree(what, p.v, p.n, t, NULL, 0, 0);
			uint64_t want = chain_model(0, first, 77);
			CHECK(out.run_ret == 0 && out.res.r0 == want,
			      "%s: ret %d r0 0x%" PRIx64 ", want 0x%" PRIx64 " (%s)", what, out.run_ret,
			      out.res.r0, want, out.res.err.msg);
			free(p.v);
		}
	CHECK(mismatched == before, "call chains: %u mismatches", mismatched - before);
	bee_helper_table_free(t);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_alu_pairs();
	test_alu_imms();
	test_unary();
	test_jumps();
	test_atomic_pairs();
	test_mem_pairs();
	test_ld_pkt();
	test_faults();
	test_readonly_mem();
	test_budget_everywhere();
	test_wx();
	test_big_program();
	test_blinding();
	test_threads();
	test_nested();
	test_call_chain_helpers();
	printf("%u programs compared across engines and modes, %u differ\n", compared, mismatched);
	printf("%d passed, %d failed\n", checks - failures, failures);
	return failures ? 1 : 0;
}
