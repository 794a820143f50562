/*
 * gen.c - random verifiable eBPF programs (see gen.h for their shape).
 *
 * Theory: the body is built as a list of items (one instruction each; an
 * lddw is one item of two slots) and laid out afterwards, so a jump names
 * the item it goes to and its offset is computed once every item's size is
 * known.  Jumps only go forward, which bounds every run by the program's
 * length and keeps the kernel verifier's work small.
 *
 * The kernel's check_cfg() refuses an instruction no path reaches, so an
 * unconditional jump may not simply skip code.  Every ja/gotol is the
 * middle of an if/else diamond:
 *
 *        p: if <cond> goto E           then-block: p+1 .. J-1
 *           ...then...                 J: ja X (or gotol X)
 *        J: ja X                       else-block: E=J+1 .. X-1
 *        E: ...else...
 *        X:
 *
 * and the conditional jump at p lands right after it.  Diamonds may
 * overlap and nest freely: the position J of each ja is reserved when its
 * diamond starts, and an item after a ja is always the target of the
 * diamond's conditional jump, so every item stays reachable.
 *
 * With calls, every function's body is such an item list (jumps stay
 * inside their function).  Shapes are drawn first (stack slots, argument
 * count, length, and for each subprogram the earlier function sure to
 * call it); bodies are then generated from the last function to main, so
 * that a call site knows its callee's depth and cost; the layout puts main
 * first and the subprograms in a random order, and the calls' offsets are
 * patched once every function's start is known.
 *
 * Values are drawn from mixtures that favour the edges (0, 1, -1, the
 * signed minimum and maximum, powers of two) so that division by zero,
 * signed overflow, shifts by the width and equal operands in comparisons
 * come up often.
 *
 * What the kernel verifier demands of such programs, checked one by one
 * against Linux 6.18 as root (socket filter, BPF_PROG_LOAD):
 *
 *  - stack accesses must be naturally aligned, even for root: "misaligned
 *    stack access off 0+0+-7 size 2" (ldx/stx/st and atomics alike; bytes
 *    may sit anywhere).  So offsets are multiples of the access size, not
 *    arbitrary.
 *  - immediate shifts must be below the operand width ("invalid shift
 *    64"); shifts by a register are accepted whatever the amount.
 *  - immediate division and modulo by zero are refused ("div by zero");
 *    by a register, and sdiv/smod by an immediate -1, are accepted.
 *  - every instruction must be reachable in the CFG ("unreachable insn
 *    2"), hence the diamonds around ja and gotol.
 *  - reading stack bytes never written is allowed for root (CAP_PERFMON
 *    allows uninitialised stack), but the generator still reads only
 *    initialised slots: what such bytes hold is not defined.
 *  - load-acquire and store-release on the stack are accepted (6.15+).
 *  - no limits were met on program size or verifier complexity: bodies of
 *    200 instructions with their branches verify without trouble.
 *
 * And of bpf-to-bpf calls (GEN_F_CALLS; no BTF needed: without func_info
 * every subprogram is static and verified per call site):
 *
 *  - a callee may not read r0 or r6..r9 before writing them ("R6
 *    !read_ok"), nor an argument register its caller never wrote ("R3
 *    !read_ok": r1..r5 are copied from the caller as they are); the
 *    caller may not read r1..r5 after the call ("R1 !read_ok") but keeps
 *    r6..r9; a callee must set r0 before its exit.  Hence the prologue of
 *    a subprogram writes everything but its arguments, and a call is
 *    followed by writes of r1..r5.
 *  - a subprogram no call reaches is "unreachable insn"; every one of ours
 *    has a sure caller, chosen before the bodies are generated.
 *  - 9 frames are refused ("the call stack of 9 frames is too deep"; that
 *    is also how recursion ends); 8 are accepted.
 *  - the frames' stack sizes, each rounded up to 16 bytes (32 without the
 *    JIT), are summed over the deepest chain: 8 frames of 64 bytes pass,
 *    8 of 72 give "combined stack size of 7 calls is 560. Too large".
 *  - verification time and JIT time grow with the number of functions
 *    more than with their length: a program with calls loads about 5
 *    times slower than one without.
 */
#include "gen.h"

#include <string.h>

#include "isa/bpf_ext.h"

/* ---- the random number generator ---- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void gen_rng_seed(struct gen_rng *rng, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		rng->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t gen_rng_next(struct gen_rng *rng)
{
	uint64_t *s = rng->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t gen_rng_below(struct gen_rng *rng, uint64_t n)
{
	/* Lemire's multiply-shift; the bias for the small n used here is
	 * below 2^-50 and does not matter for testing. */
	return (uint64_t)(((unsigned __int128)gen_rng_next(rng) * n) >> 64);
}

uint64_t gen_program_seed(uint64_t run_seed, uint64_t index)
{
	uint64_t x = run_seed ^ (index * 0xd1342543de82ef95ull);
	splitmix64(&x);
	return splitmix64(&x);
}

/* ---- generator state ---- */

struct item {
	struct bpf_insn insn[6];
	uint8_t slots;        /* 1; 2 for lddw; 6 for a call and its register writes */
	bool target_in_imm;   /* gotol: the offset goes in imm, not off */
	int target;           /* item index this jump goes to (n_items = epilogue), or -1 */
	int callee;           /* a bpf-to-bpf call: the function it calls, or -1 */
};

/* One function: main (index 0) or a subprogram. */
struct func {
	unsigned nslots;      /* initialised stack slots */
	unsigned nargs;       /* arguments it reads, r1..r<nargs> */
	unsigned n_items;     /* body length */
	unsigned depth;       /* frames of its deepest static call chain, itself included */
	uint64_t cost;        /* instructions one call of it runs, at most (about) */
	int caller;           /* the function that surely calls it (-1 for main) */
	struct item items[GEN_MAX_BODY];
};

struct gen {
	struct gen_rng rng;
	unsigned features;
	unsigned has;
	unsigned nfuncs;
	unsigned calls;
	unsigned helper_calls[GEN_MAX_HELPER_ARGS + 1];
	/* the function being generated */
	unsigned f;
	unsigned nslots;      /* its initialised stack slots */
	unsigned n_items;     /* its body length, fixed before the body is generated */
	uint64_t cost;        /* its cost so far */
	unsigned depth;       /* its depth so far */
	int reserved[GEN_MAX_BODY]; /* item index -> target of the ja that must go there, or -1 */
	int call_at[GEN_MAX_BODY];  /* item index -> function a call there must call, or -1 */
	struct func funcs[GEN_MAX_FUNCS];
};

static uint64_t below(struct gen *g, uint64_t n)
{
	return gen_rng_below(&g->rng, n);
}

static bool chance(struct gen *g, unsigned percent)
{
	return below(g, 100) < percent;
}

/*
 * Never two random draws in one call of mk(): C leaves the order of
 * evaluation of arguments unspecified, and gcc and clang built different
 * programs from one seed.  Draws go into locals first, in the order gcc
 * happened to use (the last argument first), so seeds of runs made before
 * keep their programs.
 */
static struct bpf_insn mk(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn in;
	memset(&in, 0, sizeof(in));
	in.code = code;
	in.dst_reg = dst & 0xf;
	in.src_reg = src & 0xf;
	in.off = off;
	in.imm = imm;
	return in;
}

/* ---- values ---- */

static int32_t pick_imm(struct gen *g)
{
	static const int32_t special[] = {
		0, 1, -1, 2, INT32_MIN, INT32_MAX, 0xff, 0x7f, 0x80, 0xffff, 0x7fff, 0x8000,
		-0x80, -0x8000, 0x10000, 31, 32, 63, 64,
	};
	unsigned r = (unsigned)below(g, 100);
	if (r < 25)
		return (int32_t)below(g, 17) - 8;
	if (r < 45)
		return special[below(g, sizeof(special) / sizeof(special[0]))];
	if (r < 55) {
		int32_t p = (int32_t)(1u << below(g, 31));
		return p + (int32_t)below(g, 3) - 1;
	}
	return (int32_t)(uint32_t)gen_rng_next(&g->rng);
}

static uint64_t pick_u64(struct gen *g)
{
	static const uint64_t special[] = {
		0, 1, ~0ull, 2, 0x8000000000000000ull, 0x7fffffffffffffffull,
		0xffffffffull, 0x80000000ull, 0x7fffffffull, 0x100000000ull,
		0xffffffff80000000ull, 0xffffffff7fffffffull, 0x00000000ffff8000ull,
		0xff, 0x80, 0xffff, 0x8000, 63, 64,
	};
	unsigned r = (unsigned)below(g, 100);
	if (r < 20)
		return special[below(g, sizeof(special) / sizeof(special[0]))];
	if (r < 40)
		return (uint64_t)((int64_t)below(g, 33) - 16);
	if (r < 55)
		return (uint64_t)(int64_t)(int32_t)(uint32_t)gen_rng_next(&g->rng);
	if (r < 65)
		return (uint32_t)gen_rng_next(&g->rng);
	if (r < 70)
		return (1ull << below(g, 64)) + below(g, 3) - 1;
	return gen_rng_next(&g->rng);
}

static uint8_t pick_reg(struct gen *g)
{
	return (uint8_t)below(g, 10); /* r0..r9; never r10 as a value */
}

static uint8_t pick_size(struct gen *g)
{
	static const uint8_t sizes[] = {BPF_B, BPF_H, BPF_W, BPF_DW};
	return sizes[below(g, 4)];
}

static unsigned size_bytes(uint8_t size)
{
	switch (size) {
	case BPF_B: return 1;
	case BPF_H: return 2;
	case BPF_W: return 4;
	default:    return 8;
	}
}

/*
 * A stack offset for an access of `bytes` bytes inside the initialised
 * slots, naturally aligned: the kernel demands aligned stack accesses
 * (check_ptr_alignment() is strict for PTR_TO_STACK) because its spill
 * tracking relies on them.
 */
static int16_t pick_stack_off(struct gen *g, unsigned bytes)
{
	unsigned positions = 8 * g->nslots / bytes;
	return (int16_t)-(int)(bytes * (1 + below(g, positions)));
}

/* ---- body items ---- */

static const uint8_t alu_ops[] = {
	BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH,
	BPF_RSH, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH,
};

static const uint8_t jcc_ops[] = {
	BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT,
	BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE,
};

static void item_alu(struct gen *g, struct item *it)
{
	uint8_t op = alu_ops[below(g, sizeof(alu_ops))];
	bool is64 = chance(g, 50);
	uint8_t cls = is64 ? BPF_ALU64 : BPF_ALU;
	int16_t off = 0;
	/* sdiv and smod are div and mod with off = 1 (cpu v4) */
	if ((op == BPF_DIV || op == BPF_MOD) && (g->features & GEN_F_CPUV4) && chance(g, 50))
		off = 1;
	uint8_t dst = pick_reg(g);
	if (chance(g, 50)) {
		it->insn[0] = mk(cls | op | BPF_X, dst, pick_reg(g), off, 0);
		return;
	}
	int32_t imm;
	if (op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH) {
		/* the verifier refuses immediate shifts >= the operand width */
		imm = (int32_t)below(g, is64 ? 64 : 32);
	} else if (op == BPF_DIV || op == BPF_MOD) {
		/* and immediate division by zero ("div by zero") */
		do
			imm = pick_imm(g);
		while (imm == 0);
	} else {
		imm = pick_imm(g);
	}
	it->insn[0] = mk(cls | op | BPF_K, dst, 0, off, imm);
}

static void item_neg(struct gen *g, struct item *it)
{
	uint8_t cls = chance(g, 50) ? BPF_ALU64 : BPF_ALU;
	it->insn[0] = mk(cls | BPF_NEG, pick_reg(g), 0, 0, 0);
}

static void item_movsx(struct gen *g, struct item *it)
{
	static const int16_t widths64[] = {8, 16, 32};
	static const int16_t widths32[] = {8, 16};
	if (chance(g, 60)) {
		int16_t w = widths64[below(g, 3)];
		uint8_t src = pick_reg(g), dst = pick_reg(g);
		it->insn[0] = mk(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, w, 0);
	} else {
		int16_t w = widths32[below(g, 2)];
		uint8_t src = pick_reg(g), dst = pick_reg(g);
		it->insn[0] = mk(BPF_ALU | BPF_MOV | BPF_X, dst, src, w, 0);
	}
}

static void item_end(struct gen *g, struct item *it)
{
	static const int32_t widths[] = {16, 32, 64};
	int32_t width = widths[below(g, 3)];
	unsigned form = (unsigned)below(g, (g->features & GEN_F_CPUV4) ? 3 : 2);
	uint8_t code;
	switch (form) {
	case 0:  code = BPF_ALU | BPF_END | BPF_TO_LE; break;
	case 1:  code = BPF_ALU | BPF_END | BPF_TO_BE; break;
	default: code = BPF_ALU64 | BPF_END | BPF_TO_LE; break; /* bswap */
	}
	it->insn[0] = mk(code, pick_reg(g), 0, 0, width);
}

static void item_lddw(struct gen *g, struct item *it)
{
	uint64_t v = pick_u64(g);
	it->insn[0] = mk(BPF_LD | BPF_IMM | BPF_DW, pick_reg(g), 0, 0, (int32_t)(uint32_t)v);
	it->insn[1] = mk(0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32));
	it->slots = 2;
}

static void item_ldx(struct gen *g, struct item *it, bool sign_extend)
{
	uint8_t size = pick_size(g);
	if (sign_extend && size == BPF_DW)
		size = BPF_W; /* there is no ldxsdw */
	uint8_t mode = sign_extend ? BPF_MEMSX : BPF_MEM;
	int16_t off = pick_stack_off(g, size_bytes(size));
	it->insn[0] = mk(BPF_LDX | mode | size, pick_reg(g), BPF_REG_10, off, 0);
}

static void item_stx(struct gen *g, struct item *it)
{
	uint8_t size = pick_size(g);
	int16_t off = pick_stack_off(g, size_bytes(size));
	it->insn[0] = mk(BPF_STX | BPF_MEM | size, BPF_REG_10, pick_reg(g), off, 0);
}

static void item_st(struct gen *g, struct item *it)
{
	uint8_t size = pick_size(g);
	int32_t imm = pick_imm(g);
	int16_t off = pick_stack_off(g, size_bytes(size));
	it->insn[0] = mk(BPF_ST | BPF_MEM | size, BPF_REG_10, 0, off, imm);
}

static void item_atomic(struct gen *g, struct item *it)
{
	static const int32_t ops[] = {
		BPF_ADD, BPF_OR, BPF_AND, BPF_XOR,
		BPF_ADD | BPF_FETCH, BPF_OR | BPF_FETCH, BPF_AND | BPF_FETCH, BPF_XOR | BPF_FETCH,
		BPF_XCHG, BPF_CMPXCHG,
	};
	uint8_t size = chance(g, 50) ? BPF_DW : BPF_W;
	int32_t op = ops[below(g, sizeof(ops) / sizeof(ops[0]))];
	int16_t off = pick_stack_off(g, size_bytes(size));
	it->insn[0] = mk(BPF_STX | BPF_ATOMIC | size, BPF_REG_10, pick_reg(g), off, op);
	g->has |= GEN_HAS_ATOMIC;
	if (op & BPF_FETCH) /* BPF_XCHG and BPF_CMPXCHG include BPF_FETCH */
		g->has |= GEN_HAS_ATOMIC_FETCH;
}

/* Linux 6.15: dst = load_acquire(src + off), store_release(dst + off, src) */
static void item_acq_rel(struct gen *g, struct item *it)
{
	uint8_t size = pick_size(g);
	int16_t off = pick_stack_off(g, size_bytes(size));
	if (chance(g, 50))
		it->insn[0] = mk(BPF_STX | BPF_ATOMIC | size, pick_reg(g), BPF_REG_10, off,
				 BPF_LOAD_ACQ);
	else
		it->insn[0] = mk(BPF_STX | BPF_ATOMIC | size, BPF_REG_10, pick_reg(g), off,
				 BPF_STORE_REL);
}

/* A conditional jump from item p to item target (p < target <= n_items). */
static void item_jcc_to(struct gen *g, struct item *it, int target)
{
	uint8_t op = jcc_ops[below(g, sizeof(jcc_ops))];
	uint8_t cls = (g->features & GEN_F_JMP32) && chance(g, 40) ? BPF_JMP32 : BPF_JMP;
	if (chance(g, 50)) {
		uint8_t src = pick_reg(g), dst = pick_reg(g);
		it->insn[0] = mk(cls | op | BPF_X, dst, src, 0, 0);
	} else {
		int32_t imm = pick_imm(g);
		it->insn[0] = mk(cls | op | BPF_K, pick_reg(g), 0, 0, imm);
	}
	it->target = target;
	g->has |= GEN_HAS_BRANCH;
}

static void item_jcc(struct gen *g, struct item *it, unsigned p)
{
	unsigned room = g->n_items - p; /* targets p+1 .. n_items */
	unsigned span = chance(g, 70) && room > 6 ? 6 : room;
	item_jcc_to(g, it, (int)(p + 1 + below(g, span)));
}

/*
 * Start an if/else diamond at item p (see the comment on top).  Returns
 * false when there is no room for one here.
 */
static bool item_diamond(struct gen *g, struct item *it, unsigned p)
{
	unsigned n = g->n_items;
	if (p + 3 > n)
		return false;
	unsigned max_then = n - p - 2 < 8 ? n - p - 2 : 8;
	unsigned then_len = (unsigned)below(g, max_then) + 1; /* >= 1, J = p + then_len + 1 < n */
	unsigned j = p + then_len + 1;
	if (j >= n || g->reserved[j] >= 0 || g->call_at[j] >= 0)
		return false;
	unsigned max_else = n - j - 1 < 8 ? n - j - 1 : 8;
	if (max_else == 0)
		return false;
	unsigned else_len = (unsigned)below(g, max_else) + 1;
	g->reserved[j] = (int)(j + 1 + else_len); /* <= n */
	item_jcc_to(g, it, (int)(j + 1));
	return true;
}

static void item_ja(struct gen *g, struct item *it, int target)
{
	if ((g->features & GEN_F_CPUV4) && chance(g, 50)) {
		it->insn[0] = mk(BPF_JMP32 | BPF_JA, 0, 0, 0, 0);
		it->target_in_imm = true;
	} else {
		it->insn[0] = mk(BPF_JMP | BPF_JA, 0, 0, 0, 0);
	}
	it->target = target;
}

/*
 * After a call the caller's r1..r5 are clobbered (the verifier marks them
 * unreadable): write each, from a live register (r0, the result; r6..r9,
 * which survive calls; an r1..r5 already written) or an immediate.
 */
static void put_arg_writes(struct gen *g, struct item *it)
{
	static const uint8_t live[] = {0, 6, 7, 8, 9};
	for (uint8_t r = 1; r <= 5; r++) {
		unsigned form = (unsigned)below(g, 10);
		struct bpf_insn in;
		if (form < 5) {
			unsigned k = (unsigned)below(g, 5 + (r - 1u));
			uint8_t src = k < 5 ? live[k] : (uint8_t)(k - 5 + 1);
			in = mk(BPF_ALU64 | BPF_MOV | BPF_X, r, src, 0, 0);
		} else if (form < 8) {
			in = mk(BPF_ALU64 | BPF_MOV | BPF_K, r, 0, 0, pick_imm(g));
		} else {
			in = mk(BPF_ALU | BPF_MOV | BPF_K, r, 0, 0, pick_imm(g));
		}
		it->insn[it->slots++] = in;
	}
}

/* A bpf-to-bpf call of function callee (its offset is set at layout). */
static void item_call(struct gen *g, struct item *it, unsigned callee, bool forced)
{
	const struct func *fn = &g->funcs[callee];
	it->insn[0] = mk(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 0);
	it->callee = (int)callee;
	put_arg_writes(g, it);
	if (!forced) /* a forced call's cost is counted up front */
		g->cost += fn->cost;
	g->cost += 5;
	if (g->depth < fn->depth + 1)
		g->depth = fn->depth + 1;
	g->calls++;
	g->has |= GEN_HAS_CALL;
}

/* A call of some later function, if one fits the cost bound. */
static bool item_call_any(struct gen *g, struct item *it)
{
	if (g->f + 1 >= g->nfuncs)
		return false;
	unsigned callee = g->f + 1 + (unsigned)below(g, g->nfuncs - g->f - 1);
	if (g->cost + g->funcs[callee].cost > GEN_MAX_COST)
		return false;
	item_call(g, it, callee, false);
	return true;
}

static void item_helper(struct gen *g, struct item *it)
{
	unsigned nargs = (unsigned)below(g, GEN_MAX_HELPER_ARGS + 1);
	it->insn[0] = mk(BPF_JMP | BPF_CALL, 0, 0, 0, GEN_HELPER_ID(nargs));
	put_arg_writes(g, it);
	g->cost += 6;
	g->helper_calls[nargs]++;
	g->has |= GEN_HAS_HELPER;
}

enum item_kind {
	K_ALU, K_NEG, K_MOVSX, K_END, K_LDDW, K_LDX, K_LDXS, K_STX, K_ST,
	K_ATOMIC, K_ACQ_REL, K_JCC, K_DIAMOND, K_CALL, K_HELPER, K__COUNT
};

static const unsigned kind_weight[K__COUNT] = {
	[K_ALU] = 40, [K_NEG] = 2, [K_MOVSX] = 4, [K_END] = 4, [K_LDDW] = 3,
	[K_LDX] = 6, [K_LDXS] = 3, [K_STX] = 6, [K_ST] = 4, [K_ATOMIC] = 6,
	[K_ACQ_REL] = 2, [K_JCC] = 9, [K_DIAMOND] = 4, [K_CALL] = 3, [K_HELPER] = 4,
};

static bool kind_allowed(const struct gen *g, enum item_kind k)
{
	switch (k) {
	case K_MOVSX:
	case K_LDXS:   return g->features & GEN_F_CPUV4;
	case K_ATOMIC: return g->features & GEN_F_ATOMICS;
	case K_ACQ_REL: return g->features & GEN_F_ACQ_REL;
	case K_CALL:   return (g->features & GEN_F_CALLS) && g->f + 1 < g->nfuncs;
	case K_HELPER: return g->features & GEN_F_HELPERS;
	default:       return true;
	}
}

static enum item_kind pick_kind(struct gen *g)
{
	unsigned total = 0;
	for (int k = 0; k < K__COUNT; k++)
		if (kind_allowed(g, k))
			total += kind_weight[k];
	unsigned r = (unsigned)below(g, total);
	for (int k = 0; k < K__COUNT; k++) {
		if (!kind_allowed(g, k))
			continue;
		if (r < kind_weight[k])
			return k;
		r -= kind_weight[k];
	}
	return K_ALU;
}

static void gen_item(struct gen *g, unsigned p)
{
	struct item *it = &g->funcs[g->f].items[p];
	memset(it, 0, sizeof(*it));
	it->slots = 1;
	it->target = -1;
	it->callee = -1;
	if (g->reserved[p] >= 0) {
		item_ja(g, it, g->reserved[p]);
		return;
	}
	if (g->call_at[p] >= 0) {
		item_call(g, it, (unsigned)g->call_at[p], true);
		return;
	}
	switch (pick_kind(g)) {
	case K_ALU:     item_alu(g, it); break;
	case K_NEG:     item_neg(g, it); break;
	case K_MOVSX:   item_movsx(g, it); break;
	case K_END:     item_end(g, it); break;
	case K_LDDW:    item_lddw(g, it); break;
	case K_LDX:     item_ldx(g, it, false); break;
	case K_LDXS:    item_ldx(g, it, true); break;
	case K_STX:     item_stx(g, it); break;
	case K_ST:      item_st(g, it); break;
	case K_ATOMIC:  item_atomic(g, it); break;
	case K_ACQ_REL: item_acq_rel(g, it); break;
	case K_JCC:     item_jcc(g, it, p); break;
	case K_DIAMOND:
		if (!item_diamond(g, it, p))
			item_jcc(g, it, p);
		break;
	case K_CALL:
		if (!item_call_any(g, it))
			item_alu(g, it);
		break;
	case K_HELPER:  item_helper(g, it); break;
	case K__COUNT:  item_alu(g, it); break;
	}
}

/* ---- the whole program ---- */

static void emit(struct gen_prog *out, struct bpf_insn in)
{
	if (out->n < GEN_MAX_INSNS)
		out->insns[out->n++] = in;
}

/* Registers r0..r9 but the arguments r1..r<nargs>, then the stack slots. */
static void emit_prologue(struct gen *g, struct gen_prog *out, unsigned nargs)
{
	for (uint8_t r = 0; r <= 9; r++) {
		if (r >= 1 && r <= nargs)
			continue;
		unsigned form = (unsigned)below(g, 4);
		if (form < 2) {
			uint64_t v = pick_u64(g);
			emit(out, mk(BPF_LD | BPF_IMM | BPF_DW, r, 0, 0, (int32_t)(uint32_t)v));
			emit(out, mk(0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32)));
		} else if (form == 2) {
			emit(out, mk(BPF_ALU64 | BPF_MOV | BPF_K, r, 0, 0, pick_imm(g)));
		} else {
			emit(out, mk(BPF_ALU | BPF_MOV | BPF_K, r, 0, 0, pick_imm(g)));
		}
	}
	for (unsigned s = 1; s <= g->nslots; s++)
		emit(out, mk(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, pick_reg(g),
			     (int16_t)(-8 * (int)s), 0));
}

/* r0 = mix(r0 ^ rx), with rx as scratch: r0 *= odd; r0 ^= r0 >> 29. */
static void emit_fold(struct gen_prog *out, uint8_t rx)
{
	emit(out, mk(BPF_ALU64 | BPF_XOR | BPF_X, BPF_REG_0, rx, 0, 0));
	emit(out, mk(BPF_ALU64 | BPF_MUL | BPF_K, BPF_REG_0, 0, 0, (int32_t)0x9e3779b1u));
	emit(out, mk(BPF_ALU64 | BPF_MOV | BPF_X, rx, BPF_REG_0, 0, 0));
	emit(out, mk(BPF_ALU64 | BPF_RSH | BPF_K, rx, 0, 0, 29));
	emit(out, mk(BPF_ALU64 | BPF_XOR | BPF_X, BPF_REG_0, rx, 0, 0));
}

static void emit_epilogue(struct gen *g, struct gen_prog *out)
{
	for (uint8_t r = 1; r <= 9; r++)
		emit_fold(out, r);
	for (unsigned s = 1; s <= g->nslots; s++) {
		emit(out, mk(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_10,
			     (int16_t)(-8 * (int)s), 0));
		emit_fold(out, BPF_REG_1);
	}
	emit(out, mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
}

uint64_t gen_helper(unsigned nargs, const uint64_t args[5])
{
	static const uint64_t mul[5] = {1, 3, 5, 7, 11};
	uint64_t h = 0x6a09e667f3bcc909ull ^ nargs;
	for (unsigned i = 0; i < nargs && i < 5; i++) {
		h += args[i] * mul[i];
		h ^= h >> 31;
		h *= 0x9e3779b97f4a7c15ull;
	}
	return h ^ (h >> 29);
}

/* Generate the body of function f (its callees are generated already). */
static void gen_function(struct gen *g, unsigned f)
{
	struct func *fn = &g->funcs[f];
	g->f = f;
	g->nslots = fn->nslots;
	g->n_items = fn->n_items;
	g->depth = 1;
	/* prologue, body, epilogue */
	g->cost = 20 + fn->n_items + 5 * (9 + fn->nslots) + fn->nslots;
	for (unsigned p = 0; p < fn->n_items; p++) {
		g->reserved[p] = -1;
		g->call_at[p] = -1;
	}
	/* the calls that make every subprogram reachable */
	for (unsigned c = f + 1; c < g->nfuncs; c++) {
		if (g->funcs[c].caller != (int)f)
			continue;
		unsigned p;
		do
			p = (unsigned)below(g, fn->n_items);
		while (g->call_at[p] >= 0);
		g->call_at[p] = (int)c;
		g->cost += g->funcs[c].cost;
	}
	for (unsigned p = 0; p < fn->n_items; p++)
		gen_item(g, p);
	fn->cost = g->cost;
	fn->depth = g->depth;
}

/* Lay out the body of function f at out->n; calls are recorded in fix_*. */
static void emit_body(struct gen *g, unsigned f, struct gen_prog *out, size_t *fix_slot,
		      unsigned *fix_callee, unsigned *n_fix)
{
	struct func *fn = &g->funcs[f];
	size_t pos[GEN_MAX_BODY + 1];
	size_t at = out->n;
	for (unsigned p = 0; p < fn->n_items; p++) {
		pos[p] = at;
		at += fn->items[p].slots;
	}
	pos[fn->n_items] = at;
	for (unsigned p = 0; p < fn->n_items; p++) {
		struct item *it = &fn->items[p];
		if (it->target >= 0) {
			long off = (long)pos[it->target] - (long)(pos[p] + 1);
			if (it->target_in_imm)
				it->insn[0].imm = (int32_t)off;
			else
				it->insn[0].off = (int16_t)off;
		}
		if (it->callee >= 0) {
			fix_slot[*n_fix] = out->n;
			fix_callee[(*n_fix)++] = (unsigned)it->callee;
		}
		for (unsigned k = 0; k < it->slots; k++) {
			if (out->n < GEN_MAX_INSNS)
				out->in_body[out->n] = true;
			emit(out, it->insn[k]);
		}
	}
}

void gen_program(uint64_t seed, const struct gen_opts *opts, struct gen_prog *out)
{
	static __thread struct gen g;
	unsigned min_body = 10, max_body = 60;

	memset(&g, 0, offsetof(struct gen, funcs));
	g.features = GEN_F_ALL;
	if (opts && opts->sz >= sizeof(*opts)) {
		if (opts->min_body || opts->max_body) {
			min_body = opts->min_body;
			max_body = opts->max_body;
		}
		if (opts->features)
			g.features = opts->features;
	}
	if (max_body > GEN_MAX_BODY)
		max_body = GEN_MAX_BODY;
	if (min_body > max_body)
		min_body = max_body;

	gen_rng_seed(&g.rng, seed);
	memset(out, 0, offsetof(struct gen_prog, insns));
	out->seed = seed;
	g.nfuncs = 1;
	if (g.features & GEN_F_CALLS)
		g.nfuncs += (unsigned)below(&g, GEN_MAX_FUNCS);

	/* Shapes first: subprograms get half-length bodies, and one sure
	 * caller each, often the function just before (deep chains). */
	for (unsigned f = 0; f < g.nfuncs; f++) {
		struct func *fn = &g.funcs[f];
		unsigned lo = f ? min_body / 2 : min_body, hi = f ? max_body / 2 : max_body;
		if (lo < 1)
			lo = 1;
		if (hi < lo)
			hi = lo;
		fn->nslots = f ? 1 + (unsigned)below(&g, 8) : 2 + (unsigned)below(&g, 7);
		fn->nargs = f ? (unsigned)below(&g, GEN_MAX_HELPER_ARGS + 1) : 0;
		fn->n_items = lo + (unsigned)below(&g, hi - lo + 1);
		fn->caller = f == 0 ? -1 : chance(&g, 60) ? (int)f - 1 : (int)below(&g, f);
	}
	for (unsigned f = 1; f < g.nfuncs; f++) {
		struct func *caller = &g.funcs[g.funcs[f].caller];
		unsigned forced = 0;
		for (unsigned c = 1; c < g.nfuncs; c++)
			forced += g.funcs[c].caller == g.funcs[f].caller;
		if (caller->n_items < forced + 1)
			caller->n_items = forced + 1;
	}
	for (unsigned f = g.nfuncs; f-- > 0;)
		gen_function(&g, f);

	/* Main first (the entry), the subprograms in a random order. */
	unsigned order[GEN_MAX_FUNCS];
	for (unsigned f = 0; f < g.nfuncs; f++)
		order[f] = f;
	for (unsigned i = g.nfuncs; i > 2; i--) {
		unsigned j = 1 + (unsigned)below(&g, i - 1);
		unsigned t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
	size_t start[GEN_MAX_FUNCS];
	static __thread size_t fix_slot[GEN_MAX_FUNCS * GEN_MAX_BODY];
	static __thread unsigned fix_callee[GEN_MAX_FUNCS * GEN_MAX_BODY];
	unsigned n_fix = 0;
	for (unsigned i = 0; i < g.nfuncs; i++) {
		unsigned f = order[i];
		struct func *fn = &g.funcs[f];
		g.nslots = fn->nslots;
		start[f] = out->n;
		emit_prologue(&g, out, fn->nargs);
		if (f == 0)
			out->body_start = out->n;
		emit_body(&g, f, out, fix_slot, fix_callee, &n_fix);
		if (f == 0)
			out->body_end = out->n;
		emit_epilogue(&g, out);
		if (f == 0)
			out->main_exit = out->n - 1;
	}
	for (unsigned k = 0; k < n_fix; k++)
		out->insns[fix_slot[k]].imm = (int32_t)((long)start[fix_callee[k]] -
							(long)(fix_slot[k] + 1));
	out->nslots = g.funcs[0].nslots;
	out->has = g.has;
	out->nfuncs = g.nfuncs;
	out->depth = g.funcs[0].depth;
	out->cost = g.funcs[0].cost;
	out->calls = g.calls;
	memcpy(out->helper_calls, g.helper_calls, sizeof(out->helper_calls));
}

bool gen_is_call_or_jump(const struct bpf_insn *in)
{
	uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
	if (cls != BPF_JMP && cls != BPF_JMP32)
		return false;
	if (op == BPF_CALL)
		return in->src_reg == BPF_PSEUDO_CALL;
	return op != BPF_EXIT;
}

bool gen_offset_in_imm(const struct bpf_insn *in)
{
	return in->code == (BPF_JMP32 | BPF_JA) || BPF_OP(in->code) == BPF_CALL;
}

void gen_print_hex(FILE *out, const struct bpf_insn *insns, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const unsigned char *b = (const unsigned char *)&insns[i];
		for (size_t k = 0; k < sizeof(insns[i]); k++)
			fprintf(out, "%02x", b[k]);
	}
}

size_t gen_high_half(const struct gen_prog *prog, struct bpf_insn *out)
{
	size_t n = prog->n, at = prog->main_exit;
	for (size_t i = 0, k = 0; i < n; i++, k++) {
		if (i == at)
			out[k++] = mk(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_0, 0, 0, 32);
		struct bpf_insn in = prog->insns[i];
		if (gen_is_call_or_jump(&in)) {
			/* re-aim what crosses the insertion: targets after the
			 * exit move by one, as do sources after it */
			bool in_imm = gen_offset_in_imm(&in);
			long off = in_imm ? in.imm : in.off;
			long t = (long)i + 1 + off;
			long nt = t > (long)at ? t + 1 : t;
			long ni = (long)(i >= at ? i + 1 : i);
			off = nt - (ni + 1);
			if (in_imm)
				in.imm = (int32_t)off;
			else
				in.off = (int16_t)off;
		}
		out[k] = in;
	}
	return n + 1;
}
