/*
 * jit_x86_64.c - eBPF to x86-64 native code, in the interpreter's two
 * modes: checked (untrusted code) and fast (trusted code only).
 *
 * Theory of operation.
 *
 * Sizing, then emitting.  One emitter (emit_insn and the routines it
 * calls, over the encoder in jit_emit.h) runs several times over the
 * program.  The first pass only measures, with every jump to another BPF
 * instruction in its long (rel32) form.  Each further pass measures again,
 * choosing the short (rel8) form for a jump whose distance fits in the
 * previous pass's layout, measured from the end of the jump's instruction
 * (every such jump is the last machine instruction of its BPF
 * instruction; padding ahead of a loop head is allowed for).  Loop heads
 * are padded to a good place (emit_loop_align), and that padding depends
 * on the position, so code can move both ways from pass to pass.  Once a
 * pass puts every instruction where the previous one did, the layout is a
 * fixed point: the next pass would decide every jump and every padding
 * the same (checked mode's cold copies follow the main code and never
 * change size, so they only move).  The final pass emits into memory
 * mapped read-write and checks that every instruction lands where the
 * layout says, and the memory becomes read + execute.  Only jumps change
 * size from pass to pass, so the measuring passes after the first step
 * over every other instruction by its recorded size.  Compilation is
 * linear in the program's length times the (small) number of passes;
 * after MAX_PASSES without convergence the layout falls back to long
 * jumps everywhere and loop heads aligned by position alone, which needs
 * no iteration.
 *
 * Registers.  BPF r0..r10 live in x86 registers the whole time:
 *
 *   r0 rax   r1 rdi   r2 rsi   r3 rdx   r4 rcx   r5 r8     (r1..r5: the
 *   r6 rbx   r7 r13   r8 r14   r9 r15   r10 rbp            System V args)
 *
 * r12 points to the run's struct jit_ctx, r9 holds the instructions left
 * in the budget (checked mode), r10 is the blinding register ("AX", as in
 * the kernel) and a scratch, r11 the scratch for addresses and divisors.
 * Helpers are called directly: their arguments already sit in rdi, rsi,
 * rdx, rcx, r8 and their result comes back in rax.  The caller-saved BPF
 * registers are saved around the call, as the interpreter leaves r1..r5
 * unchanged by a call.
 *
 * Fast mode goes beyond one instruction at a time in two places, both
 * invisible to the program: a rotate written out with two shifts and an
 * or becomes a rol (match_rotate), and a program whose frame pointer
 * never escapes keeps up to four stack slots in r9, r10, r11 and rbp,
 * which it then has no other use for (promote_stack).  In both modes loop
 * heads are padded so that a short loop sits in one 64-byte line
 * (emit_loop_align).
 *
 * Frames.  The program's code is reached with a native call from the
 * entry routine (to ctx->start: the program's start, or a callback's first
 * instruction) and a bpf-to-bpf call is a native call too, so every exit
 * is a plain ret, from whichever function it is in (also the early exit
 * of an ld abs/ind out of bounds).  A local call pushes r6..r9 and r10,
 * moves r10 down by 512 bytes and counts the depth in the context (the
 * 9th frame is refused, in both modes, as the interpreter does).  At every
 * instruction boundary rsp is 16-byte aligned: the entry leaves it so, and
 * a local call pushes 5 registers plus the return address.  The BPF stack
 * (8 frames of 512 bytes) is a separate buffer on the C stack of
 * bee_jit_run, laid out as the interpreter's.
 *
 * Checked mode adds, exactly where the checked interpreter checks:
 *  - the instruction budget and count, a straight-line block at a time
 *    (find_blocks): "sub r9, len" at the block's start, and when that
 *    borrows, a cold copy of the block that counts one instruction at a
 *    time and stops where the interpreter would; a fault inside a block
 *    subtracts the block's instructions it did not reach, so
 *    result->insns is the interpreter's at exit and at every fault;
 *  - a bounds check of each load, store and atomic: inline for the live
 *    stack (whose length the context keeps as the interpreter keeps
 *    regions[0]) and for the input memory, then a call to a C function
 *    that checks every region when both miss.  Accesses through r10 with
 *    an offset inside the current frame need no check at all: r10 is read
 *    only, so they always land in the live stack;
 *  - alignment checks of atomics, load-acquire and store-release.
 * A fault calls a routine that finds the instruction from its return
 * address (a binary search of the instruction offsets), records the error
 * with the very functions the interpreter uses (interp.h), and unwinds to
 * the entry's saved stack pointer.
 *
 * Tail calls and callbacks.  A tail call (`call 12`) asks C
 * (jit_tail_call) for the target's image in the same mode, compiled on
 * demand under its lock, and jumps to its start with the registers a
 * program starts with: the target runs on the caller's native frame, so
 * its exit returns to the entry as the caller's would have, and no
 * return to C happens per tail call.  The context keeps the tail-call
 * count and the image running now, which the fault routines read.  A
 * callback (bee_jit_callback) enters the running image again through the
 * entry, at the callback's instruction, with a context of its own whose
 * depth, frame pointer and budget continue the caller's; in checked mode
 * every helper call ends a block, stores the budget left in the context
 * for such callbacks and takes it back after the call, then leaves
 * through the abort routine when a callback faulted (st->aborted).  Fast
 * mode's helper calls are as they were.
 *
 * Constant blinding (bee_code_opts.jit_blind) loads every immediate of
 * ALU, jump, store, lddw and ld abs/ind instructions as imm ^ key into r10 with a
 * fresh random key per instruction, xors the key back and uses r10 as the
 * source register, so that no immediate the program chose appears in the
 * code (shift counts, masked to 6 bits, are left as they are).
 *
 * Semantics are RFC 9669's as the interpreter implements them
 * (interp_body.h), and the comments below say how x86 gets there where it
 * differs: division by zero, INT_MIN / -1, cl for shift counts, rax:rdx
 * for division, zero extension of 32-bit cmpxchg.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "jit.h"

#if defined(__x86_64__)

#include "jit_emit.h"

/* ---- the run's context: what the native code reads through r12 ---- */

struct jit_ctx {
	/* Hot fields first: 8-bit displacements reach them. */
	uint64_t stack_top_m8; /* top of the first frame, minus 8 */
	uint64_t stack_lim;    /* live stack length - 7 (see emit_mem_operand) */
	uint64_t mem_start;    /* input memory (regions[1]) */
	uint64_t mem_rlim;     /* its length - 7 for reads, or 0 when shorter than 8 */
	uint64_t mem_wlim;     /* the same for writes; 0 when read-only */
	uint64_t pkt;          /* packet of ld abs/ind (the input memory) */
	uint64_t pkt_lim[3];   /* sizes 1, 2, 4: offsets below this are in bounds */
	uint64_t saved_rsp;    /* native stack pointer of the entry, for faults */
	uint64_t budget_left;  /* r9 at exit */
	uint64_t r0;           /* r0 at exit */
	uint32_t depth;        /* frames saved by local calls */
	uint32_t unused;
	/* Read once by the entry. */
	uint64_t args[5];      /* r1..r5: the input memory and its length, or a callback's */
	uint64_t frame_top;    /* r10 */
	uint64_t budget_start; /* r9: the budget left (a callback continues its caller's count) */
	uint64_t start;        /* address of the code to call: the program's or a callback's */
	uint64_t stack_top;    /* top of the stack area (of the first frame) */
	uint64_t budget_init;  /* the run's budget, or UINT64_MAX without one */
	/* For the C side of faults, tail calls and callbacks. */
	struct run_state *st;
	const struct jit_image *img; /* running now: a tail call's target after one */
	unsigned tail_calls;   /* made in this run */
};

#define CTX(field) ((int32_t)offsetof(struct jit_ctx, field))

_Static_assert(offsetof(struct jit_ctx, depth) < 128, "hot context fields within disp8");

/* ---- register map ---- */

enum { BPF_AX = 11 }; /* the blinding register, as the kernel's BPF_REG_AX */

static const uint8_t reg_map[12] = {
	[0] = X86_RAX, [1] = X86_RDI, [2] = X86_RSI, [3] = X86_RDX, [4] = X86_RCX, [5] = X86_R8,
	[6] = X86_RBX, [7] = X86_R13, [8] = X86_R14, [9] = X86_R15, [10] = X86_RBP,
	[BPF_AX] = X86_R10,
};

#define R_CTX X86_R12    /* struct jit_ctx * */
#define R_BUDGET X86_R9  /* checked mode: instructions left */
#define R_AX X86_R10     /* blinded immediates; scratch */
#define R_TMP X86_R11    /* scratch: addresses, divisors, call targets */

/* Callee-saved registers the entry saves and the exits restore. */
static const uint8_t saved_regs[] = {X86_RBP, X86_RBX, X86_R12, X86_R13, X86_R14, X86_R15};

/* Registers the C slow path of memory checks must preserve. */
static const uint8_t volatile_regs[] = {X86_RAX, X86_RCX, X86_RDX, X86_RSI, X86_RDI,
					X86_R8,  X86_R9,  X86_R10, X86_R11};

/* Caller-saved BPF registers kept across helper calls: r1..r5 and the budget. */
static const uint8_t helper_saved[] = {X86_RDI, X86_RSI, X86_RDX, X86_RCX, X86_R8, X86_R9};

#define MAX_PASSES 32
#define LOOP_PAD_MAX 63 /* most padding ahead of a loop head (emit_loop_align) */

/* ---- the compiler's state during one pass ---- */

struct jit {
	const struct bee_code *code;
	const struct bee_dinsn *d;
	size_t n;
	bool checked;
	bool blind;
	uint64_t blind_seed;
	uint64_t rng;            /* blinding keys: reset to blind_seed every pass */

	/* Checked mode: straight-line blocks, counted as a whole (see
	 * find_blocks).  block_start[pc]: a block starts at pc; ahead[pc]: how
	 * many instructions of pc's block follow it. */
	const bool *block_start;
	const uint32_t *ahead;
	/* Loop heads (targets of backward jumps): loop_end[pc] is one past the
	 * last instruction that jumps back to pc, 0 when none does. */
	const uint32_t *loop_end;
	const unsigned char *is_target; /* a jump or call lands on pc (bee_code's) */
	/* Fast mode: stack slots kept in registers (see promote_stack).
	 * slot_reg[k] holds the 8 bytes at r10 - 8 (k + 1), 0 (never a slot
	 * register) when they stay in memory. */
	uint8_t slot_reg[BEE_STACK_SIZE / 8];
	bool promoted;
	bool align_simple;       /* place loop heads by position only (fallback layout) */
	/* Bytes of each instruction's code, jumps aside, recorded by the first
	 * pass: nothing but a jump changes size from pass to pass, so the
	 * measuring passes after the first step over everything else. */
	uint32_t *sizes;
	bool sizes_known;

	struct jit_buf b;
	/* Layouts are 2 (n + 1) offsets: where each instruction's code starts
	 * and, from [n + 1] on, where its cold copy starts (checked mode). */
	uint32_t *addr;          /* this pass */
	const uint32_t *layout;  /* the previous pass's, which jumps are decided on (NULL: first pass) */
	bool allow_short;        /* may jumps between instructions use rel8 */
	bool final;              /* emitting for real: addr must equal layout */

	/* Offsets of the routines ahead of the program, and of the program. */
	size_t fn_error_exit, fn_budget, fn_depth, fn_align, fn_mem_slow, fn_entry;
	size_t fn_tail_sub, fn_abort, fn_prog;

	const char *broken;      /* an internal inconsistency, when not NULL */
};

static void jit_broken(struct jit *j, const char *why)
{
	if (!j->broken)
		j->broken = why;
}

/* Patch a forward rel8 made by emit_jmp8_fwd to reach here. */
static void patch8(struct jit *j, size_t at)
{
	if (!emit_patch_rel8(&j->b, at))
		jit_broken(j, "a short jump inside an instruction is out of reach");
}

/* ---- the C side of faults and slow checks (called from native code) ---- */

/* Which instruction's code holds ret, a return address pushed by a call
 * from that code: the last one that starts before it, in the main code or
 * in the cold copies after it (*cold). */
static size_t jit_pc_of(const struct jit_image *img, uint64_t ret, bool *cold)
{
	uint64_t off = ret - (uint64_t)(uintptr_t)img->code;
	const uint32_t *offs = img->insn_offsets;
	*cold = off > offs[img->n];
	if (*cold)
		offs = img->cold_offsets;
	size_t lo = 0, hi = img->n; /* offs[lo] < off <= offs[hi] */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (offs[mid] < off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Instructions executed up to and including pc, when left were left: a
 * block's count is taken at its start, so in the main code the rest of
 * pc's block is counted already; the cold copies count one by one. */
static uint64_t jit_executed(const struct jit_ctx *ctx, uint64_t left, size_t pc, bool cold)
{
	uint64_t executed = ctx->budget_init - left;
	if (!cold && ctx->img->ahead)
		executed -= ctx->img->ahead[pc];
	return executed;
}

static int jit_fault_budget(struct jit_ctx *ctx, uint64_t ret, uint64_t left)
{
	struct run_state *st = ctx->st;
	bool cold;
	size_t pc = jit_pc_of(ctx->img, ret, &cold);
	/* Only the cold copies count one by one; the count that borrowed was
	 * one past the budget. */
	st->result->insns = jit_executed(ctx, left, pc, true) - 1;
	return bee_run_fault_budget(st, (long)pc);
}

static int jit_fault_depth(struct jit_ctx *ctx, uint64_t ret)
{
	bool cold;
	return bee_run_fault_depth(ctx->st, (long)jit_pc_of(ctx->img, ret, &cold), ctx->depth);
}

static int jit_fault_tail_call(struct jit_ctx *ctx, uint64_t ret)
{
	bool cold;
	return bee_run_fault_tail_call(ctx->st, (long)jit_pc_of(ctx->img, ret, &cold), ctx->depth);
}

static enum bee_shape shape_of(const struct bee_dinsn *d)
{
	return (enum bee_shape)bee_op_info[d->op].shape;
}

/*
 * A tail call (emit_tail_call), from depth 0: the address to jump to, the
 * start of the target's image in this run's mode (compiled now if no run
 * needed it yet), with the context switched to it; or 0 when the tail
 * call fails (interp.h, tail_call_target); or, when the target cannot be
 * compiled, the abort routine's, with the error recorded.
 */
static uint64_t jit_tail_call(struct jit_ctx *ctx, uint64_t map, uint64_t index)
{
	struct run_state *st = ctx->st;
	const struct bee_code *target = tail_call_target(st, ctx->tail_calls, map, index);
	if (!target)
		return 0;
	const struct jit_image *img;
	struct bee_error why;
	bee_error_clear(&why);
	if (bee_jit_get(target, st->checked, &img, &why) != 0) {
		bool cold;
		uint64_t ret = (uint64_t)(uintptr_t)__builtin_return_address(0);
		st->aborted = bee_run_fault_tail_target(st, (long)jit_pc_of(ctx->img, ret, &cold), &why);
		return (uint64_t)(uintptr_t)(ctx->img->code + ctx->img->abort_off);
	}
	ctx->tail_calls++;
	ctx->img = img;
	st->code = target;
	if (st->checked) /* a fresh frame, as at the start of a checked run */
		memset((uint8_t *)(uintptr_t)ctx->stack_top - BEE_STACK_SIZE, 0, BEE_STACK_SIZE);
	return (uint64_t)(uintptr_t)(img->code + img->prog_start);
}

static int jit_fault_align(struct jit_ctx *ctx, uint64_t ret, uint64_t addr, uint64_t left)
{
	struct run_state *st = ctx->st;
	bool cold;
	size_t pc = jit_pc_of(ctx->img, ret, &cold);
	st->result->insns = jit_executed(ctx, left, pc, cold);
	return bee_run_fault_align(st, (long)pc, (uintptr_t)addr,
				   bee_op_access_size((enum bee_op)st->code->d[pc].op),
				   (const uint8_t *)(uintptr_t)ctx->stack_top);
}

/* Both inline checks missed: check every region, as the interpreter does. */
static int jit_mem_slow(struct jit_ctx *ctx, uint64_t ret, uint64_t addr, uint64_t left)
{
	struct run_state *st = ctx->st;
	bool cold;
	size_t pc = jit_pc_of(ctx->img, ret, &cold);
	const struct bee_dinsn *d = &st->code->d[pc];
	enum bee_shape shape = shape_of(d);
	unsigned size = bee_op_access_size((enum bee_op)d->op);
	bool write = shape == BEE_SH_ST || shape == BEE_SH_STX || shape == BEE_SH_ATOMIC ||
		     shape == BEE_SH_STORE_REL;
	unsigned basereg = shape == BEE_SH_LDX || shape == BEE_SH_LOAD_ACQ ? d->src : d->dst;
	if (run_mem_ok(st, (uintptr_t)addr, size, write))
		return 0;
	st->result->insns = jit_executed(ctx, left, pc, cold);
	return bee_run_fault_mem(st, (long)pc, (uintptr_t)addr, size, write, basereg,
				 addr - (uint64_t)(int64_t)d->off, d->off,
				 (const uint8_t *)(uintptr_t)ctx->stack_top);
}

/* ---- routines ahead of the program ---- */

static void emit_pop_saved(struct jit_buf *b)
{
	for (int i = (int)sizeof(saved_regs) - 1; i >= 0; i--)
		emit_pop(b, saved_regs[i]);                      /* pop callee-saved */
}

/* A non-returning fault routine: calls fn(ctx, return address, arg2, arg3)
 * and leaves through the error exit with its result. */
static void emit_fault_routine(struct jit *j, uint64_t fn, int arg2, int arg3)
{
	struct jit_buf *b = &j->b;
	emit_mov_rr(b, X86_W, X86_RDI, R_CTX);                   /* mov rdi, r12 */
	emit_load_rm(b, X86_W, X86_RSI, X86_RSP, 0);             /* mov rsi, [rsp] */
	if (arg2 >= 0)
		emit_mov_rr(b, X86_W, X86_RDX, arg2);            /* mov rdx, arg2 */
	if (arg3 >= 0)
		emit_mov_rr(b, X86_W, X86_RCX, arg3);            /* mov rcx, arg3 */
	emit_alu_ri(b, X86_W, X86_EXT_AND, X86_RSP, -16);        /* and rsp, -16 */
	emit_mov_r64_imm64(b, X86_RAX, fn);                      /* mov rax, fn */
	emit_call_r(b, X86_RAX);                                 /* call rax */
	emit_jmp_rel32(b, j->fn_error_exit);                     /* jmp error_exit */
}

static void emit_routines(struct jit *j)
{
	struct jit_buf *b = &j->b;

	/* error_exit: eax holds the error; unwind whatever frames are live. */
	j->fn_error_exit = b->pos;
	emit_load_rm(b, X86_W, X86_RSP, R_CTX, CTX(saved_rsp)); /* mov rsp, [r12 + saved_rsp] */
	emit_pop_saved(b);
	emit_ret(b);                                            /* ret */

	j->fn_budget = b->pos;
	emit_fault_routine(j, (uint64_t)(uintptr_t)jit_fault_budget, R_BUDGET, -1);
	j->fn_depth = b->pos;
	emit_fault_routine(j, (uint64_t)(uintptr_t)jit_fault_depth, -1, -1);
	j->fn_align = b->pos;
	emit_fault_routine(j, (uint64_t)(uintptr_t)jit_fault_align, R_TMP, R_BUDGET);
	j->fn_tail_sub = b->pos;
	emit_fault_routine(j, (uint64_t)(uintptr_t)jit_fault_tail_call, -1, -1);

	/* abort: a callback stopped the run (or a tail call's target could not
	 * be compiled); the error is recorded, st->aborted holds its code. */
	j->fn_abort = b->pos;
	emit_load_rm(b, X86_W, R_TMP, R_CTX, CTX(st));          /* mov r11, [r12 + st] */
	emit_load_rm(b, 0, X86_RAX, R_TMP,
		     (int32_t)offsetof(struct run_state, aborted)); /* mov eax, [r11 + aborted] */
	emit_jmp_rel32(b, j->fn_error_exit);                    /* jmp error_exit */

	/* mem_slow: r11 = the address; returns when it is allowed, with every
	 * register preserved.  9 pushes + the return address keep rsp aligned. */
	j->fn_mem_slow = b->pos;
	for (size_t i = 0; i < sizeof(volatile_regs); i++)
		emit_push(b, volatile_regs[i]);                       /* push ... */
	emit_mov_rr(b, X86_W, X86_RDI, R_CTX);                        /* mov rdi, r12 */
	emit_load_rm(b, X86_W, X86_RSI, X86_RSP, (int32_t)(8 * sizeof(volatile_regs)));
								      /* mov rsi, [rsp + 72] */
	emit_mov_rr(b, X86_W, X86_RDX, R_TMP);                        /* mov rdx, r11 */
	emit_mov_rr(b, X86_W, X86_RCX, R_BUDGET);                     /* mov rcx, r9 */
	emit_mov_r64_imm64(b, X86_RAX, (uint64_t)(uintptr_t)jit_mem_slow); /* mov rax, jit_mem_slow */
	emit_call_r(b, X86_RAX);                                      /* call rax */
	emit_alu_rr(b, 0, X86_TEST, X86_RAX, X86_RAX);                /* test eax, eax */
	emit_jcc_rel32(b, X86_CC_NE, j->fn_error_exit);               /* jnz error_exit */
	for (int i = (int)sizeof(volatile_regs) - 1; i >= 0; i--)
		emit_pop(b, volatile_regs[i]);                        /* pop ... */
	emit_ret(b);                                                  /* ret */

	/* entry: int entry(struct jit_ctx *ctx), System V.  It calls the
	 * program from its start, or a callback (ctx->start); r1..r5, r10 and
	 * the budget come from the context. */
	j->fn_entry = b->pos;
	for (size_t i = 0; i < sizeof(saved_regs); i++)
		emit_push(b, saved_regs[i]);                    /* push callee-saved */
	emit_mov_rr(b, X86_W, R_CTX, X86_RDI);                  /* mov r12, rdi */
	emit_store_mr(b, X86_W, R_CTX, CTX(saved_rsp), X86_RSP); /* mov [r12 + saved_rsp], rsp */
	for (int r = 1; r <= 5; r++)
		emit_load_rm(b, X86_W, reg_map[r], R_CTX,
			     CTX(args) + 8 * (r - 1));          /* mov r1..r5, [r12 + args + 8 (r - 1)] */
	emit_load_rm(b, X86_W, reg_map[10], R_CTX, CTX(frame_top)); /* mov rbp, [r12 + frame_top] */
	emit_load_rm(b, X86_W, R_BUDGET, R_CTX, CTX(budget_start)); /* mov r9, [r12 + budget_start] */
	static const uint8_t zeroed[] = {0, 6, 7, 8, 9};
	for (size_t i = 0; i < sizeof(zeroed); i++)
		emit_zero(b, reg_map[zeroed[i]]);               /* xor reg32, reg32 */
	emit_load_rm(b, X86_W, R_TMP, R_CTX, CTX(start));       /* mov r11, [r12 + start] */
	emit_call_r(b, R_TMP);                                  /* call r11 */
	emit_store_mr(b, X86_W, R_CTX, CTX(r0), X86_RAX);       /* mov [r12 + r0], rax */
	emit_store_mr(b, X86_W, R_CTX, CTX(budget_left), R_BUDGET); /* mov [r12 + budget_left], r9 */
	emit_zero(b, X86_RAX);                                  /* xor eax, eax */
	emit_pop_saved(b);
	emit_ret(b);                                            /* ret */
	j->fn_prog = b->pos;                                    /* the program starts here */
}

/* ---- pieces of instructions ---- */

static uint32_t next_key(struct jit *j)
{
	/* splitmix64 */
	uint64_t z = (j->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	uint32_t key = (uint32_t)(z ^ (z >> 31));
	return key ? key : 0x5a5a5a5au;
}

/* r10 = (int64_t)imm, without imm in the code. */
static void emit_blinded_imm(struct jit *j, int32_t imm)
{
	uint32_t key = next_key(j);
	emit_mov_r64_simm32(&j->b, R_AX, (int32_t)((uint32_t)imm ^ key)); /* mov r10, imm ^ key */
	emit_op_rr(&j->b, X86_W, 0x81, X86_EXT_XOR, R_AX);                /* xor r10, key */
	emit_u32(&j->b, key);
}

/* Cold copies: count one instruction; past the budget, stop. */
static void emit_count(struct jit *j)
{
	struct jit_buf *b = &j->b;
	emit_alu_ri(b, X86_W, X86_EXT_SUB, R_BUDGET, 1); /* sub r9, 1 */
	emit_u8(b, 0x73);                                /* jae +5 (over the call) */
	emit_u8(b, 5);
	emit_call_rel32(b, j->fn_budget);                /* call budget_fault */
}

/* A jump from instruction pc to instruction target (cc < 0: unconditional).
 * It is the last machine instruction of pc's code. */
static void emit_branch(struct jit *j, size_t pc, size_t target, int cc)
{
	struct jit_buf *b = &j->b;
	bool near = false;
	size_t to = 0;
	if (j->layout) {
		to = j->layout[target];
		/* layout[pc + 1] is where this jump ends, unless padding for a
		 * loop head at pc + 1 follows it: then the jump ends up to
		 * LOOP_PAD_MAX bytes earlier, which only lengthens a forward
		 * jump (a backward one gets shorter, and cannot overshoot). */
		int64_t d = (int64_t)j->layout[target] - (int64_t)j->layout[pc + 1];
		if (pc + 1 < j->n && j->loop_end[pc + 1] && target > pc)
			d += LOOP_PAD_MAX;
		near = j->allow_short && x86_fits8(d);
	}
	if (near)
		emit_jmp_rel8(b, cc, to);                    /* jmp/jcc rel8 */
	else if (cc < 0)
		emit_jmp_rel32(b, to);                       /* jmp rel32 */
	else
		emit_jcc_rel32(b, (enum x86_cc)cc, to);      /* jcc rel32 */
}

/* A memory operand, as [base + disp]. */
struct mref {
	int base;
	int32_t disp;
};

/*
 * The memory operand of a load, store or atomic through BPF register
 * basereg + off, checked in checked mode.  With want_r11, the address
 * ends up in r11 (and the operand is [r11]) whatever the mode.
 *
 * The inline checks are sound and nearly complete, with one compare per
 * region: for the live stack [top - L, top), u = (top - 8) - addr passes
 * when u < L - 7 (unsigned), which puts all 8 bytes from addr inside;
 * for the input memory, t = addr - start passes when t < len - 7.  An
 * access of fewer than 8 bytes at the last 7 bytes of a region misses
 * and goes to the slow path, which decides as the interpreter does.
 */
static struct mref emit_mem_operand(struct jit *j, unsigned basereg, int16_t off, unsigned size,
				    bool write, bool align, bool want_r11)
{
	struct jit_buf *b = &j->b;
	int base = reg_map[basereg];
	if (!j->checked) {
		if (!want_r11)
			return (struct mref){base, off};
		emit_lea(b, R_TMP, base, off);                   /* lea r11, [base + off] */
		return (struct mref){R_TMP, 0};
	}
	/* r10 is read only: r10 + off inside the current frame is always in
	 * the live stack, which is 16-byte aligned at every frame's top. */
	if (basereg == 10 && off >= -BEE_STACK_SIZE && off + (int)size <= 0) {
		bool misaligned = align && (off & (int)(size - 1));
		if (misaligned || want_r11)
			emit_lea(b, R_TMP, base, off);           /* lea r11, [rbp + off] */
		if (misaligned)
			emit_call_rel32(b, j->fn_align);         /* call align_fault */
		return want_r11 ? (struct mref){R_TMP, 0} : (struct mref){base, off};
	}
	if (off)
		emit_lea(b, R_TMP, base, off);                   /* lea r11, [base + off] */
	else
		emit_mov_rr(b, X86_W, R_TMP, base);              /* mov r11, base */
	emit_load_rm(b, X86_W, R_AX, R_CTX, CTX(stack_top_m8)); /* mov r10, [r12 + stack_top_m8] */
	emit_alu_rr(b, X86_W, X86_SUB, R_AX, R_TMP);             /* sub r10, r11 */
	emit_alu_rm(b, X86_W, X86_CMP, R_AX, R_CTX, CTX(stack_lim)); /* cmp r10, [r12 + stack_lim] */
	size_t ok1 = emit_jmp8_fwd(b, X86_CC_B);                 /* jb ok */
	emit_mov_rr(b, X86_W, R_AX, R_TMP);                      /* mov r10, r11 */
	emit_alu_rm(b, X86_W, X86_SUB, R_AX, R_CTX, CTX(mem_start)); /* sub r10, [r12 + mem_start] */
	emit_alu_rm(b, X86_W, X86_CMP, R_AX, R_CTX,
		    write ? CTX(mem_wlim) : CTX(mem_rlim));      /* cmp r10, [r12 + mem_[rw]lim] */
	size_t ok2 = emit_jmp8_fwd(b, X86_CC_B);                 /* jb ok */
	emit_call_rel32(b, j->fn_mem_slow);                      /* call mem_slow */
	patch8(j, ok1);                                          /* ok: */
	patch8(j, ok2);
	if (align && size > 1) {
		emit_test_r8i(b, R_TMP, (uint8_t)(size - 1));    /* test r11b, size - 1 */
		size_t aligned = emit_jmp8_fwd(b, X86_CC_E);     /* jz aligned */
		emit_call_rel32(b, j->fn_align);                 /* call align_fault */
		patch8(j, aligned);                              /* aligned: */
	}
	return (struct mref){R_TMP, 0};
}

/* ---- ALU ---- */

/* dst = dst / r11 or dst % r11 with rax and rdx preserved (r11: not 0,
 * and not -1 when signed). */
static void emit_div_core(struct jit *j, unsigned w, bool sign, bool mod, int dst)
{
	struct jit_buf *b = &j->b;
	bool save_ax = dst != X86_RAX, save_dx = dst != X86_RDX;
	if (save_ax)
		emit_push(b, X86_RAX);                           /* push rax */
	if (save_dx)
		emit_push(b, X86_RDX);                           /* push rdx */
	if (save_ax)
		emit_mov_rr(b, X86_W, X86_RAX, dst);             /* mov rax, dst */
	if (sign)
		emit_cqo(b, w);                                  /* cqo / cdq */
	else
		emit_zero(b, X86_RDX);                           /* xor edx, edx */
	emit_div(b, w, sign, R_TMP);                             /* div/idiv r11 */
	int res = mod ? X86_RDX : X86_RAX;
	/* A 32-bit mov zero-extends the result (and is harmless when res == dst). */
	if (dst != res || !w)
		emit_mov_rr(b, w, dst, res);                     /* mov dst, rax/rdx */
	if (save_dx)
		emit_pop(b, X86_RDX);                            /* pop rdx */
	if (save_ax)
		emit_pop(b, X86_RAX);                            /* pop rax */
}

/* Division by zero gives 0; modulo by zero leaves dst (RFC 9669 4.1). */
static void emit_div_by_zero(struct jit *j, unsigned w, bool mod, int dst)
{
	if (!mod)
		emit_zero(&j->b, dst);                           /* xor dst32, dst32 */
	else if (!w)
		emit_mov_rr(&j->b, 0, dst, dst);                 /* mov dst32, dst32 */
}

/* Signed division by -1: x / -1 = -x (INT_MIN wraps), x % -1 = 0. */
static void emit_div_by_minus1(struct jit *j, unsigned w, bool mod, int dst)
{
	if (mod)
		emit_zero(&j->b, dst);                           /* xor dst32, dst32 */
	else
		emit_neg(&j->b, w, dst);                         /* neg dst */
}

static void emit_divmod(struct jit *j, unsigned w, bool sign, bool mod, int dst, bool is_imm,
			int32_t imm, int src)
{
	struct jit_buf *b = &j->b;
	if (is_imm) {
		/* The divisor is known: ALU64 sign-extends the immediate. */
		uint64_t div = w ? (uint64_t)(int64_t)imm : (uint64_t)(uint32_t)imm;
		if (div == 0) {
			emit_div_by_zero(j, w, mod, dst);
			return;
		}
		if (sign && imm == -1) {
			emit_div_by_minus1(j, w, mod, dst);
			return;
		}
		if (!sign && (div & (div - 1)) == 0) {
			/* A power of two: div <= 2^31 here, so div - 1 fits. */
			unsigned k = (unsigned)__builtin_ctzll(div);
			if (mod)
				emit_alu_ri(b, w, X86_EXT_AND, dst, (int32_t)(div - 1)); /* and dst, div-1 */
			else if (k)
				emit_shift_ri(b, w, X86_EXT_SHR, dst, (uint8_t)k);       /* shr dst, k */
			else if (!w)
				emit_mov_rr(b, 0, dst, dst);                             /* mov dst32, dst32 */
			return;
		}
		emit_mov_imm64(b, R_TMP, div);                   /* mov r11, divisor */
		emit_div_core(j, w, sign, mod, dst);
		return;
	}
	emit_mov_rr(b, w, R_TMP, src);                           /* mov r11, src */
	emit_alu_rr(b, w, X86_TEST, R_TMP, R_TMP);               /* test r11, r11 */
	size_t nonzero = emit_jmp8_fwd(b, X86_CC_NE);            /* jnz nonzero */
	emit_div_by_zero(j, w, mod, dst);
	size_t done1 = emit_jmp8_fwd(b, -1);                     /* jmp done */
	patch8(j, nonzero);                                      /* nonzero: */
	size_t done2 = 0;
	if (sign) {
		emit_alu_ri(b, w, X86_EXT_CMP, R_TMP, -1);       /* cmp r11, -1 */
		size_t normal = emit_jmp8_fwd(b, X86_CC_NE);     /* jne normal */
		emit_div_by_minus1(j, w, mod, dst);
		done2 = emit_jmp8_fwd(b, -1);                    /* jmp done */
		patch8(j, normal);                               /* normal: */
	}
	emit_div_core(j, w, sign, mod, dst);
	patch8(j, done1);                                        /* done: */
	if (sign)
		patch8(j, done2);
}

/* Shift dst by src: x86 wants the count in cl, and rcx is BPF r4.  The
 * hardware masks the count to 5 or 6 bits, as RFC 9669 asks. */
static void emit_shift_reg(struct jit *j, unsigned w, enum x86_ext ext, int dst, int src)
{
	struct jit_buf *b = &j->b;
	if (src == X86_RCX) {
		emit_shift_rcl(b, w, ext, dst);                  /* shl/shr/sar dst, cl */
		return;
	}
	emit_mov_rr(b, X86_W, R_TMP, X86_RCX);                   /* mov r11, rcx */
	emit_mov_rr(b, X86_W, X86_RCX, src);                     /* mov rcx, src */
	if (dst == X86_RCX) {
		emit_shift_rcl(b, w, ext, R_TMP);                /* shl/shr/sar r11, cl */
		emit_mov_rr(b, X86_W, X86_RCX, R_TMP);           /* mov rcx, r11 */
	} else {
		emit_shift_rcl(b, w, ext, dst);                  /* shl/shr/sar dst, cl */
		emit_mov_rr(b, X86_W, X86_RCX, R_TMP);           /* mov rcx, r11 */
	}
}

/* Every two-operand ALU row and neg: the row gives width, operation and
 * source kind. */
static void emit_alu(struct jit *j, const struct bee_dinsn *d)
{
	struct jit_buf *b = &j->b;
	const struct bee_op_info *row = &bee_op_info[d->op];
	unsigned w = BPF_CLASS(row->code) == BPF_ALU64 ? X86_W : 0;
	unsigned aop = BPF_OP(row->code);
	bool is_imm = row->shape == BEE_SH_ALU_IMM;
	bool sign = row->match == BEE_MATCH_OFF && row->match_value == 1;
	int dst = reg_map[d->dst];
	int32_t imm = d->imm;
	unsigned srcreg = d->src;
	bool is_shift = aop == BPF_LSH || aop == BPF_RSH || aop == BPF_ARSH;

	if (is_imm && j->blind && !is_shift) {
		emit_blinded_imm(j, imm);
		is_imm = false;
		srcreg = BPF_AX;
	}
	int src = reg_map[srcreg];

	switch (aop) {
	case BPF_MOV:
		if (is_imm)
			emit_mov_imm64(b, dst, w ? (uint64_t)(int64_t)imm : (uint64_t)(uint32_t)imm);
		else if (dst != src || !w)
			emit_mov_rr(b, w, dst, src);             /* mov dst, src */
		return;
	case BPF_ADD:
	case BPF_SUB:
	case BPF_OR:
	case BPF_AND:
	case BPF_XOR: {
		static const struct { uint8_t op, ext; } ops[] = {
			[BPF_ADD >> 4] = {X86_ADD, X86_EXT_ADD}, [BPF_SUB >> 4] = {X86_SUB, X86_EXT_SUB},
			[BPF_OR >> 4] = {X86_OR, X86_EXT_OR},    [BPF_AND >> 4] = {X86_AND, X86_EXT_AND},
			[BPF_XOR >> 4] = {X86_XOR, X86_EXT_XOR},
		};
		if (is_imm)
			emit_alu_ri(b, w, (enum x86_ext)ops[aop >> 4].ext, dst, imm); /* op dst, imm */
		else
			emit_alu_rr(b, w, (enum x86_alu)ops[aop >> 4].op, dst, src); /* op dst, src */
		return;
	}
	case BPF_MUL:
		if (is_imm)
			emit_imul_rri(b, w, dst, dst, imm);      /* imul dst, dst, imm */
		else
			emit_imul_rr(b, w, dst, src);            /* imul dst, src */
		return;
	case BPF_DIV:
	case BPF_MOD:
		emit_divmod(j, w, sign, aop == BPF_MOD, dst, is_imm, imm, src);
		return;
	case BPF_NEG:
		emit_neg(b, w, dst);                             /* neg dst */
		return;
	case BPF_LSH:
	case BPF_RSH:
	case BPF_ARSH: {
		enum x86_ext ext = aop == BPF_LSH ? X86_EXT_SHL : aop == BPF_RSH ? X86_EXT_SHR
										  : X86_EXT_SAR;
		if (!is_imm) {
			emit_shift_reg(j, w, ext, dst, src);
			return;
		}
		unsigned k = (unsigned)imm & (w ? 63 : 31);
		if (k)
			emit_shift_ri(b, w, ext, dst, (uint8_t)k); /* shl/shr/sar dst, k */
		else if (!w)
			emit_mov_rr(b, 0, dst, dst);             /* mov dst32, dst32 */
		return;
	}
	default:
		jit_broken(j, "unexpected ALU operation");
		return;
	}
}

static void emit_movsx(struct jit *j, const struct bee_dinsn *d)
{
	const struct bee_op_info *row = &bee_op_info[d->op];
	unsigned w = BPF_CLASS(row->code) == BPF_ALU64 ? X86_W : 0;
	/* movsx r64/r32, r8/r16; movsxd r64, r32 */
	emit_movsx_rr(&j->b, w, (unsigned)row->match_value / 8, reg_map[d->dst], reg_map[d->src]);
}

/* le/be/bswap: the host is little-endian, so "le" only truncates. */
static void emit_end(struct jit *j, const struct bee_dinsn *d)
{
	struct jit_buf *b = &j->b;
	const struct bee_op_info *row = &bee_op_info[d->op];
	int dst = reg_map[d->dst];
	bool swap = BPF_CLASS(row->code) == BPF_ALU64 || BPF_SRC(row->code) == BPF_TO_BE;
	switch (row->match_value) {
	case 16:
		if (swap) {
			emit_bswap(b, 0, dst);                   /* bswap dst32 */
			emit_shift_ri(b, 0, X86_EXT_SHR, dst, 16); /* shr dst32, 16 */
		} else {
			emit_movzx_rr(b, 2, dst, dst);           /* movzx dst32, dst16 */
		}
		return;
	case 32:
		if (swap)
			emit_bswap(b, 0, dst);                   /* bswap dst32 */
		else
			emit_mov_rr(b, 0, dst, dst);             /* mov dst32, dst32 */
		return;
	default:
		if (swap)
			emit_bswap(b, X86_W, dst);               /* bswap dst */
		return;
	}
}

/* ---- memory ---- */

static void emit_ldx(struct jit *j, const struct bee_dinsn *d, bool acquire)
{
	const struct bee_op_info *row = &bee_op_info[d->op];
	unsigned size = bee_op_access_size((enum bee_op)d->op);
	bool sign = BPF_MODE(row->code) == BPF_MEMSX && !acquire;
	struct mref m = emit_mem_operand(j, d->src, d->off, size, false, acquire, false);
	/* x86 loads are acquire loads already (TSO). */
	emit_load_ext(&j->b, size, sign, reg_map[d->dst], m.base, m.disp); /* mov/movzx/movsx dst, [m] */
}

static void emit_st(struct jit *j, const struct bee_dinsn *d)
{
	unsigned size = bee_op_access_size((enum bee_op)d->op);
	struct mref m = emit_mem_operand(j, d->dst, d->off, size, true, false, false);
	if (j->blind) {
		emit_blinded_imm(j, d->imm);
		emit_store_sized(&j->b, size, m.base, m.disp, R_AX); /* mov [m], r10 */
	} else {
		emit_store_imm(&j->b, size, m.base, m.disp, d->imm); /* mov [m], imm */
	}
}

static void emit_stx(struct jit *j, const struct bee_dinsn *d, bool release)
{
	unsigned size = bee_op_access_size((enum bee_op)d->op);
	struct mref m = emit_mem_operand(j, d->dst, d->off, size, true, release, false);
	/* x86 stores are release stores already (TSO). */
	emit_store_sized(&j->b, size, m.base, m.disp, reg_map[d->src]); /* mov [m], src */
}

static void emit_atomic(struct jit *j, const struct bee_dinsn *d)
{
	struct jit_buf *b = &j->b;
	const struct bee_op_info *row = &bee_op_info[d->op];
	unsigned size = bee_op_access_size((enum bee_op)d->op);
	unsigned w = size == 8 ? X86_W : 0;
	int src = reg_map[d->src];
	int32_t kind = row->match_value;
	bool loop = kind == (BPF_OR | BPF_FETCH) || kind == (BPF_AND | BPF_FETCH) ||
		    kind == (BPF_XOR | BPF_FETCH);
	struct mref m = emit_mem_operand(j, d->dst, d->off, size, true, true, loop);

	switch (kind) {
	case BPF_ADD:
		emit_lock_alu_mr(b, w, X86_ADD, m.base, m.disp, src); /* lock add [m], src */
		return;
	case BPF_OR:
		emit_lock_alu_mr(b, w, X86_OR, m.base, m.disp, src);  /* lock or [m], src */
		return;
	case BPF_AND:
		emit_lock_alu_mr(b, w, X86_AND, m.base, m.disp, src); /* lock and [m], src */
		return;
	case BPF_XOR:
		emit_lock_alu_mr(b, w, X86_XOR, m.base, m.disp, src); /* lock xor [m], src */
		return;
	case BPF_ADD | BPF_FETCH:
		/* a 32-bit xadd zero-extends the old value into src */
		emit_lock_xadd(b, w, m.base, m.disp, src);            /* lock xadd [m], src */
		return;
	case BPF_XCHG:
		emit_xchg_mr(b, w, m.base, m.disp, src);              /* xchg [m], src */
		return;
	case BPF_CMPXCHG:
		emit_lock_cmpxchg(b, w, m.base, m.disp, src);         /* lock cmpxchg [m], src */
		/* When equal, a 32-bit cmpxchg leaves rax as it was, upper half
		 * included; BPF wants the old value zero-extended either way. */
		if (!w)
			emit_mov_rr(b, 0, X86_RAX, X86_RAX);          /* mov eax, eax */
		return;
	default:
		break;
	}
	/* fetch or/and/xor: a cmpxchg loop on [r11], with r0 saved on the
	 * native stack (where it is also the operand when src is r0). */
	enum x86_alu op = kind == (BPF_OR | BPF_FETCH) ? X86_OR
			  : kind == (BPF_AND | BPF_FETCH) ? X86_AND : X86_XOR;
	emit_push(b, X86_RAX);                                   /* push rax */
	emit_load_rm(b, w, X86_RAX, R_TMP, 0);                   /* mov rax, [r11] */
	size_t retry = b->pos;                                   /* retry: */
	emit_mov_rr(b, X86_W, R_AX, X86_RAX);                    /* mov r10, rax */
	if (src == X86_RAX)
		emit_alu_rm(b, w, op, R_AX, X86_RSP, 0);         /* op r10, [rsp] */
	else
		emit_alu_rr(b, w, op, R_AX, src);                /* op r10, src */
	emit_lock_cmpxchg(b, w, R_TMP, 0, R_AX);                 /* lock cmpxchg [r11], r10 */
	emit_jmp_rel8(b, X86_CC_NE, retry);                      /* jne retry */
	if (src == X86_RAX) {
		emit_alu_ri(b, X86_W, X86_EXT_ADD, X86_RSP, 8);  /* add rsp, 8 */
		if (!w)
			emit_mov_rr(b, 0, X86_RAX, X86_RAX);     /* mov eax, eax */
	} else {
		emit_mov_rr(b, w, src, X86_RAX);                 /* mov src, rax (old value) */
		emit_pop(b, X86_RAX);                            /* pop rax */
	}
}

static void emit_lddw(struct jit *j, const struct bee_dinsn *d)
{
	struct jit_buf *b = &j->b;
	int dst = reg_map[d->dst];
	/* `lddw rX, subprog` loads what bee_code_load made of it (interp.h) */
	uint64_t v = d->op == BEE_OP_LDDW_FUNC ? j->code->x[XMODE_CHECKED][d - j->d].imm : d->imm64;
	if (!j->blind) {
		emit_mov_imm64(b, dst, v);                       /* mov dst, imm64 */
		return;
	}
	uint64_t key = (uint64_t)next_key(j) << 32;
	key |= next_key(j);
	emit_mov_r64_imm64(b, dst, v ^ key);                     /* movabs dst, imm64 ^ key */
	emit_mov_r64_imm64(b, R_AX, key);                        /* movabs r10, key */
	emit_alu_rr(b, X86_W, X86_XOR, dst, R_AX);               /* xor dst, r10 */
}

/* Legacy packet loads: r0 = big-endian load from the input memory at
 * (int32_t)(src + imm), or 0 and an exit from the current function when
 * that is out of bounds (see interp_body.h). */
static void emit_ld_pkt(struct jit *j, const struct bee_dinsn *d)
{
	struct jit_buf *b = &j->b;
	const struct bee_op_info *row = &bee_op_info[d->op];
	unsigned size = bee_op_access_size((enum bee_op)d->op);
	bool indirect = row->shape == BEE_SH_LD_IND;
	if (j->blind) {
		emit_blinded_imm(j, d->imm);
		if (indirect) {
			emit_mov_rr(b, 0, R_TMP, reg_map[d->src]);       /* mov r11d, src32 */
			emit_alu_rr(b, 0, X86_ADD, R_TMP, R_AX);         /* add r11d, r10d */
		} else {
			emit_mov_rr(b, 0, R_TMP, R_AX);                  /* mov r11d, r10d */
		}
	} else if (indirect) {
		emit_mov_rr(b, 0, R_TMP, reg_map[d->src]);               /* mov r11d, src32 */
		if (d->imm)
			emit_alu_ri(b, 0, X86_EXT_ADD, R_TMP, d->imm);   /* add r11d, imm */
	} else {
		emit_mov_r32_imm(b, R_TMP, (uint32_t)d->imm);            /* mov r11d, imm */
	}
	emit_movsx_rr(b, X86_W, 4, R_TMP, R_TMP);                        /* movsxd r11, r11d */
	/* A negative offset is huge unsigned, above every limit. */
	int32_t lim = CTX(pkt_lim) + (size == 1 ? 0 : size == 2 ? 8 : 16);
	emit_alu_rm(b, X86_W, X86_CMP, R_TMP, R_CTX, lim);       /* cmp r11, [r12 + pkt_lim[size]] */
	size_t ok = emit_jmp8_fwd(b, X86_CC_B);                  /* jb ok */
	emit_zero(b, X86_RAX);                                   /* xor eax, eax */
	emit_ret(b);                                             /* ret */
	patch8(j, ok);                                           /* ok: */
	emit_alu_rm(b, X86_W, X86_ADD, R_TMP, R_CTX, CTX(pkt));  /* add r11, [r12 + pkt] */
	emit_load_ext(b, size, false, X86_RAX, R_TMP, 0);        /* movzx/mov eax, [r11] */
	if (size == 2) {
		emit_bswap(b, 0, X86_RAX);                       /* bswap eax */
		emit_shift_ri(b, 0, X86_EXT_SHR, X86_RAX, 16);   /* shr eax, 16 */
	} else if (size == 4) {
		emit_bswap(b, 0, X86_RAX);                       /* bswap eax */
	}
}

/* ---- control flow ---- */

static enum x86_cc jcc_cond(unsigned bpf_op)
{
	switch (bpf_op) {
	case BPF_JEQ: return X86_CC_E;
	case BPF_JNE: return X86_CC_NE;
	case BPF_JSET: return X86_CC_NE;
	case BPF_JGT: return X86_CC_A;
	case BPF_JGE: return X86_CC_AE;
	case BPF_JLT: return X86_CC_B;
	case BPF_JLE: return X86_CC_BE;
	case BPF_JSGT: return X86_CC_G;
	case BPF_JSGE: return X86_CC_GE;
	case BPF_JSLT: return X86_CC_L;
	default: return X86_CC_LE; /* BPF_JSLE */
	}
}

static void emit_jcc(struct jit *j, const struct bee_dinsn *d, size_t pc)
{
	struct jit_buf *b = &j->b;
	const struct bee_op_info *row = &bee_op_info[d->op];
	size_t target = (size_t)bee_jump_target(d, pc);
	if (target == pc + 1)
		return; /* either way to the next instruction */
	unsigned w = BPF_CLASS(row->code) == BPF_JMP ? X86_W : 0;
	unsigned op = BPF_OP(row->code);
	int dst = reg_map[d->dst];
	bool is_imm = row->shape == BEE_SH_JCC_IMM;
	unsigned srcreg = d->src;
	if (is_imm && j->blind) {
		emit_blinded_imm(j, d->imm);
		is_imm = false;
		srcreg = BPF_AX;
	}
	int src = reg_map[srcreg];
	/* JMP compares with the immediate sign-extended to 64 bits, JMP32 the
	 * low halves: exactly cmp r64, simm32 and cmp r32, imm32. */
	if (is_imm && op == BPF_JSET)
		emit_test_ri(b, w, dst, d->imm);                 /* test dst, imm */
	else if (is_imm && d->imm == 0)
		emit_alu_rr(b, w, X86_TEST, dst, dst);           /* test dst, dst (as cmp dst, 0) */
	else if (is_imm)
		emit_alu_ri(b, w, X86_EXT_CMP, dst, d->imm);     /* cmp dst, imm */
	else if (op == BPF_JSET)
		emit_alu_rr(b, w, X86_TEST, dst, src);           /* test dst, src */
	else
		emit_alu_rr(b, w, X86_CMP, dst, src);            /* cmp dst, src */
	emit_branch(j, pc, target, jcc_cond(op));
}

/*
 * A helper call.  In checked mode a helper may start callbacks
 * (bee_run_callback), which go on counting from the budget left here and
 * may stop the run: the budget goes to the context before the call and
 * comes back from it (find_blocks ends a block at every call, so r9 is
 * exact here), and a set st->aborted leaves through the abort routine.
 */
static void emit_call_helper(struct jit *j, size_t pc)
{
	struct jit_buf *b = &j->b;
	uint64_t fn = j->code->x[XMODE_CHECKED][pc].imm; /* resolved by bee_code_load */
	/* rsp is aligned; 6 pushes keep it so. */
	for (size_t i = 0; i < sizeof(helper_saved); i++)
		emit_push(b, helper_saved[i]);                   /* push r1..r5, r9 */
	if (j->checked) {
		emit_store_mr(b, X86_W, R_CTX, CTX(budget_left), R_BUDGET); /* mov [r12 + budget_left], r9 */
		/* which call this is, for bee_run_abort's message */
		emit_load_rm(b, X86_W, R_TMP, R_CTX, CTX(st));   /* mov r11, [r12 + st] */
		emit_store_imm(b, 8, R_TMP, (int32_t)offsetof(struct run_state, call_pc),
			       (int32_t)pc);                     /* mov qword [r11 + call_pc], pc */
	}
	emit_mov_r64_imm64(b, R_TMP, fn);                        /* mov r11, helper */
	emit_call_r(b, R_TMP);                                   /* call r11 */
	for (int i = (int)sizeof(helper_saved) - 1; i >= 0; i--)
		emit_pop(b, helper_saved[i]);                    /* pop ... */
	if (!j->checked)
		return;
	emit_load_rm(b, X86_W, R_BUDGET, R_CTX, CTX(budget_left)); /* mov r9, [r12 + budget_left] */
	emit_load_rm(b, X86_W, R_TMP, R_CTX, CTX(st));           /* mov r11, [r12 + st] */
	emit_alu_mi(b, 0, X86_EXT_CMP, R_TMP, (int32_t)offsetof(struct run_state, aborted),
		    0);                                          /* cmp dword [r11 + aborted], 0 */
	emit_jcc_rel32(b, X86_CC_NE, j->fn_abort);               /* jne abort */
}

/*
 * bpf_tail_call(ctx, map, index): jit_tail_call finds the target's image
 * (r2 and r3 are already its arguments), and the code jumps to it with
 * the registers a program starts with (r1 kept, r0 and r2..r9 zero, r10
 * the top frame's top), on this native frame: the target's exit returns
 * to the entry as the caller's would have.  On failure r0 = 0 and the
 * next instruction follows.  Refused at depth > 0 (a function or a
 * callback), as by the interpreter.
 */
static void emit_tail_call(struct jit *j)
{
	struct jit_buf *b = &j->b;
	emit_alu_mi(b, 0, X86_EXT_CMP, R_CTX, CTX(depth), 0);   /* cmp dword [r12 + depth], 0 */
	size_t top = emit_jmp8_fwd(b, X86_CC_E);                 /* je top */
	emit_call_rel32(b, j->fn_tail_sub);                      /* call tail_sub_fault */
	patch8(j, top);                                          /* top: */
	for (size_t i = 0; i < sizeof(helper_saved); i++)
		emit_push(b, helper_saved[i]);                   /* push r1..r5, r9 */
	emit_mov_rr(b, X86_W, X86_RDI, R_CTX);                   /* mov rdi, r12 */
	emit_mov_r64_imm64(b, R_TMP, (uint64_t)(uintptr_t)jit_tail_call); /* mov r11, jit_tail_call */
	emit_call_r(b, R_TMP);                                   /* call r11 */
	for (int i = (int)sizeof(helper_saved) - 1; i >= 0; i--)
		emit_pop(b, helper_saved[i]);                    /* pop ... */
	emit_alu_rr(b, X86_W, X86_TEST, X86_RAX, X86_RAX);       /* test rax, rax */
	size_t failed = emit_jmp8_fwd(b, X86_CC_E);              /* jz failed (r0 = 0) */
	emit_mov_rr(b, X86_W, R_TMP, X86_RAX);                   /* mov r11, rax */
	static const uint8_t zeroed[] = {0, 2, 3, 4, 5, 6, 7, 8, 9};
	for (size_t i = 0; i < sizeof(zeroed); i++)
		emit_zero(b, reg_map[zeroed[i]]);                /* xor reg32, reg32 */
	emit_load_rm(b, X86_W, reg_map[10], R_CTX, CTX(stack_top)); /* mov rbp, [r12 + stack_top] */
	emit_jmp_r(b, R_TMP);                                    /* jmp r11 */
	patch8(j, failed);                                       /* failed: */
}

/* The live stack of a checked run grows and shrinks with every frame, in
 * the context (for the inline check) and in regions[0] (for helpers and
 * the slow path), exactly as the interpreter's. */
static void emit_stack_region(struct jit *j, bool grow)
{
	struct jit_buf *b = &j->b;
	int32_t delta = grow ? BEE_STACK_SIZE : -BEE_STACK_SIZE;
	int32_t start = (int32_t)(offsetof(struct run_state, regions) + offsetof(struct run_region, start));
	int32_t len = (int32_t)(offsetof(struct run_state, regions) + offsetof(struct run_region, len));
	emit_alu_mi(b, X86_W, X86_EXT_ADD, R_CTX, CTX(stack_lim), delta); /* add [r12 + stack_lim], ±512 */
	emit_load_rm(b, X86_W, R_TMP, R_CTX, CTX(st));                     /* mov r11, [r12 + st] */
	emit_alu_mi(b, X86_W, X86_EXT_SUB, R_TMP, start, delta);          /* sub [r11 + regions[0].start], ±512 */
	emit_alu_mi(b, X86_W, X86_EXT_ADD, R_TMP, len, delta);            /* add [r11 + regions[0].len], ±512 */
}

static void emit_call_local(struct jit *j, const struct bee_dinsn *d, size_t pc)
{
	struct jit_buf *b = &j->b;
	size_t target = (size_t)bee_jump_target(d, pc);
	/* the interpreter refuses a call when depth + 1 >= 8 frames */
	emit_alu_mi(b, 0, X86_EXT_CMP, R_CTX, CTX(depth), BEE_MAX_CALL_FRAMES - 2); /* cmp dword [r12 + depth], 6 */
	size_t ok = emit_jmp8_fwd(b, X86_CC_BE);                 /* jbe ok */
	emit_call_rel32(b, j->fn_depth);                         /* call depth_fault */
	patch8(j, ok);                                           /* ok: */
	emit_alu_mi(b, 0, X86_EXT_ADD, R_CTX, CTX(depth), 1);    /* add dword [r12 + depth], 1 */
	for (int r = 6; r <= 10; r++)
		emit_push(b, reg_map[r]);                        /* push r6..r10 */
	emit_alu_ri(b, X86_W, X86_EXT_SUB, reg_map[10], BEE_STACK_SIZE); /* sub rbp, 512 */
	if (j->checked)
		emit_stack_region(j, true);
	emit_call_rel32(b, j->layout ? j->layout[target] : 0);  /* call target */
	for (int r = 10; r >= 6; r--)
		emit_pop(b, reg_map[r]);                         /* pop r10..r6 */
	if (j->checked)
		emit_stack_region(j, false);
	emit_alu_mi(b, 0, X86_EXT_SUB, R_CTX, CTX(depth), 1);    /* sub dword [r12 + depth], 1 */
}

/* ---- idioms spanning instructions (fast mode) ---- */

/*
 * eBPF has no rotate, so a rotate of x by k is written out with two
 * shifts and an or (C compilers emit this for (x << k) | (x >> (64 - k))):
 *
 *   five instructions:          four (x shifted in place):
 *     p = x; p <<= k              p = x; p <<= k      (or the >> half)
 *     q = x; q >>= 64 - k         x >>= 64 - k        (the other half)
 *     p |= q  (or q |= p)         x |= p  (or p |= x)
 *
 * in either order of the halves, with |, ^ or + (the halves share no
 * bit).  The result register gets rotl(x, k) with one rol, which takes a
 * cycle off the dependency chain through x; the other register still gets
 * its shifted half, so every register ends as the instructions leave it.
 * Only within straight-line code: no instruction after the first may be a
 * jump target.  Checked mode keeps its instruction-by-instruction code.
 */
struct rotate {
	size_t len;      /* instructions covered; 0: no match */
	int x;           /* BPF registers: the source, */
	int res, aux;    /* the result (rotated) and the other half */
	unsigned k_left; /* rotl amount */
	bool aux_left;   /* aux holds x << k_left (else x >> (64 - k_left)) */
};

static bool rot_shift(const struct bee_dinsn *d, int reg, bool *left, unsigned *k)
{
	if ((d->op != BEE_OP_LSH64_IMM && d->op != BEE_OP_RSH64_IMM) || d->dst != reg ||
	    d->imm <= 0 || d->imm >= 64)
		return false;
	*left = d->op == BEE_OP_LSH64_IMM;
	*k = (unsigned)d->imm;
	return true;
}

static struct rotate match_rotate(const struct jit *j, size_t pc)
{
	struct rotate r = {0};
	const struct bee_dinsn *d = &j->d[pc];
	if (j->checked || pc + 4 > j->n || d[0].op != BEE_OP_MOV64_REG || d[0].dst == d[0].src)
		return r;
	for (size_t i = 1; i < 4; i++)
		if (j->is_target[pc + i] || d[i].slots != 1)
			return r;
	int x = d[0].src, p = d[0].dst, q;
	bool lp, lq;
	unsigned kp, kq;
	size_t comb;
	if (!rot_shift(&d[1], p, &lp, &kp))
		return r;
	if (d[2].op == BEE_OP_MOV64_REG && pc + 5 <= j->n && !j->is_target[pc + 4] &&
	    d[4].slots == 1) {
		q = d[2].dst; /* five instructions: q = x; q shifted */
		if (d[2].src != x || q == x || q == p || !rot_shift(&d[3], q, &lq, &kq))
			return r;
		comb = 4;
	} else {
		q = x; /* four: x shifted in place */
		if (!rot_shift(&d[2], q, &lq, &kq))
			return r;
		comb = 3;
	}
	if (lp == lq || kp + kq != 64)
		return r;
	const struct bee_dinsn *c = &d[comb];
	if (c->op != BEE_OP_OR64_REG && c->op != BEE_OP_XOR64_REG && c->op != BEE_OP_ADD64_REG)
		return r;
	if (!((c->dst == p && c->src == q) || (c->dst == q && c->src == p)))
		return r;
	r.len = comb + 1;
	r.x = x;
	r.res = c->dst;
	r.aux = c->src;
	r.k_left = lp ? kp : kq;
	r.aux_left = r.aux == p ? lp : lq;
	return r;
}

static void emit_rotate(struct jit *j, const struct rotate *r)
{
	struct jit_buf *b = &j->b;
	int x = reg_map[r->x], res = reg_map[r->res], aux = reg_map[r->aux];
	enum x86_ext aux_op = r->aux_left ? X86_EXT_SHL : X86_EXT_SHR;
	uint8_t aux_k = (uint8_t)(r->aux_left ? r->k_left : 64 - r->k_left);
	if (aux != x) {
		emit_mov_rr(b, X86_W, aux, x);                       /* mov aux, x */
		emit_shift_ri(b, X86_W, aux_op, aux, aux_k);         /* shl/shr aux, k */
		if (res != x)
			emit_mov_rr(b, X86_W, res, x);               /* mov res, x */
		emit_shift_ri(b, X86_W, X86_EXT_ROL, res, (uint8_t)r->k_left); /* rol res, k */
	} else {
		emit_mov_rr(b, X86_W, res, x);                       /* mov res, x */
		emit_shift_ri(b, X86_W, X86_EXT_ROL, res, (uint8_t)r->k_left); /* rol res, k */
		emit_shift_ri(b, X86_W, aux_op, aux, aux_k);         /* shl/shr x, k */
	}
}

/* ---- stack slots in registers (fast mode) ---- */

/* Registers free in fast mode for a program that promote_stack accepts:
 * the budget (checked mode only), both scratch registers (their users are
 * refused below) and the frame pointer (every access through it goes). */
static const uint8_t slot_regs[] = {X86_R9, X86_R10, X86_R11, X86_RBP};

static bool is_stack_dw(const struct bee_dinsn *d)
{
	switch ((enum bee_op)d->op) {
	case BEE_OP_LDXDW:
		return d->src == 10;
	case BEE_OP_STXDW:
	case BEE_OP_STDW:
		return d->dst == 10;
	default:
		return false;
	}
}

/*
 * A small function's stack is often a handful of 8-byte slots that clang
 * spills to and reloads, always at the same r10 offsets.  When the frame
 * pointer never escapes, nothing but those instructions can reach the
 * stack, so the slots can live in registers: a spill becomes a mov, and a
 * value carried through the stack from one iteration to the next no
 * longer waits on store-to-load forwarding.  The conditions, over the
 * whole program (fast mode, no blinding):
 *  - r10 appears only as the base of 8-byte ldx, stx and st at offsets
 *    that are multiples of 8 inside the frame, and at most 4 offsets;
 *  - no calls of any kind (a helper could be handed a stack pointer
 *    otherwise, and clobbers the scratch registers), no atomics,
 *    load-acquire or store-release, no ld abs/ind, division, modulo or
 *    shift by a register (the users of the scratch registers r10, r11).
 * Anything else keeps the stack in memory.  Slots start with what the
 * stack memory holds (the entry loads them), so a program reading a slot
 * it never wrote sees what it would have seen in memory.
 */
static void promote_stack(struct jit *j)
{
	memset(j->slot_reg, 0, sizeof(j->slot_reg));
	j->promoted = false;
	if (j->checked || j->blind)
		return;
	bool used[BEE_STACK_SIZE / 8] = {false};
	size_t nslots = 0;
	for (size_t pc = 0; pc < j->n; pc++) {
		const struct bee_dinsn *d = &j->d[pc];
		if (d->slots == 0)
			continue;
		const struct bee_op_info *row = &bee_op_info[d->op];
		unsigned cls = BPF_CLASS(row->code), op = BPF_OP(row->code);
		enum bee_shape shape = shape_of(d);
		if (shape == BEE_SH_CALL_LOCAL || shape == BEE_SH_CALL_HELPER ||
		    shape == BEE_SH_CALL_KFUNC || shape == BEE_SH_ATOMIC || shape == BEE_SH_LD_ABS ||
		    shape == BEE_SH_LD_IND)
			return;
		if ((cls == BPF_ALU || cls == BPF_ALU64) &&
		    (op == BPF_DIV || op == BPF_MOD ||
		     (shape == BEE_SH_ALU_REG && (op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH))))
			return;
		if (is_stack_dw(d)) {
			if (d->op == BEE_OP_STXDW && d->src == 10)
				return; /* the frame pointer stored: it escapes */
			if (d->off >= 0 || d->off < -BEE_STACK_SIZE || (d->off & 7))
				return;
			size_t k = (size_t)(-d->off / 8 - 1);
			if (!used[k]) {
				used[k] = true;
				if (++nslots > sizeof(slot_regs))
					return;
			}
			continue;
		}
		if (d->dst == 10 || d->src == 10)
			return; /* any other use of r10 */
	}
	if (!nslots)
		return;
	size_t next = 0;
	for (size_t k = 0; k < BEE_STACK_SIZE / 8; k++)
		if (used[k])
			j->slot_reg[k] = slot_regs[next++];
	j->promoted = true;
}

/* The entry of a promoted program: each slot register gets its slot's
 * memory, the frame pointer's last as it may be one of them. */
static void emit_slot_loads(struct jit *j)
{
	int last = -1;
	for (size_t k = 0; k < BEE_STACK_SIZE / 8; k++) {
		if (!j->slot_reg[k])
			continue;
		if (j->slot_reg[k] == reg_map[10]) {
			last = (int)k;
			continue;
		}
		emit_load_rm(&j->b, X86_W, j->slot_reg[k], reg_map[10],
			     -8 * (int32_t)(k + 1));                 /* mov slot, [rbp - 8 (k + 1)] */
	}
	if (last >= 0)
		emit_load_rm(&j->b, X86_W, reg_map[10], reg_map[10],
			     -8 * (int32_t)(last + 1));              /* mov rbp, [rbp - 8 (k + 1)] */
}

/* An access to a promoted slot as a register move; false when d is not one. */
static bool emit_slot_access(struct jit *j, const struct bee_dinsn *d)
{
	if (!j->promoted || !is_stack_dw(d))
		return false;
	int slot = j->slot_reg[-d->off / 8 - 1];
	switch ((enum bee_op)d->op) {
	case BEE_OP_LDXDW:
		emit_mov_rr(&j->b, X86_W, reg_map[d->dst], slot);   /* mov dst, slot */
		break;
	case BEE_OP_STXDW:
		emit_mov_rr(&j->b, X86_W, slot, reg_map[d->src]);   /* mov slot, src */
		break;
	default:
		emit_mov_imm64(&j->b, slot, (uint64_t)(int64_t)d->imm); /* mov slot, imm */
		break;
	}
	return true;
}

/* ---- one instruction ---- */

#define ALU_ROWS(N)                                                                 \
	case BEE_OP_##N##64_IMM: case BEE_OP_##N##64_REG: case BEE_OP_##N##32_IMM: \
	case BEE_OP_##N##32_REG:
#define JCC_ROWS(N)                                                                 \
	case BEE_OP_##N##_IMM: case BEE_OP_##N##_REG: case BEE_OP_##N##32_IMM:     \
	case BEE_OP_##N##32_REG:
#define ATOMIC_ROWS(S)                                                              \
	case BEE_OP_ATOMIC##S##_ADD: case BEE_OP_ATOMIC##S##_OR:                    \
	case BEE_OP_ATOMIC##S##_AND: case BEE_OP_ATOMIC##S##_XOR:                   \
	case BEE_OP_ATOMIC##S##_FETCH_ADD: case BEE_OP_ATOMIC##S##_FETCH_OR:        \
	case BEE_OP_ATOMIC##S##_FETCH_AND: case BEE_OP_ATOMIC##S##_FETCH_XOR:       \
	case BEE_OP_ATOMIC##S##_XCHG: case BEE_OP_ATOMIC##S##_CMPXCHG:

static void emit_insn(struct jit *j, size_t pc)
{
	const struct bee_dinsn *d = &j->d[pc];
	if (emit_slot_access(j, d))
		return;
	switch ((enum bee_op)d->op) {
	ALU_ROWS(ADD) ALU_ROWS(SUB) ALU_ROWS(MUL) ALU_ROWS(DIV) ALU_ROWS(SDIV)
	ALU_ROWS(OR) ALU_ROWS(AND) ALU_ROWS(LSH) ALU_ROWS(RSH) ALU_ROWS(MOD)
	ALU_ROWS(SMOD) ALU_ROWS(XOR) ALU_ROWS(MOV) ALU_ROWS(ARSH)
	case BEE_OP_NEG64:
	case BEE_OP_NEG32:
		emit_alu(j, d);
		break;
	case BEE_OP_MOVSX64_8:
	case BEE_OP_MOVSX64_16:
	case BEE_OP_MOVSX64_32:
	case BEE_OP_MOVSX32_8:
	case BEE_OP_MOVSX32_16:
		emit_movsx(j, d);
		break;
	case BEE_OP_LE16: case BEE_OP_LE32: case BEE_OP_LE64:
	case BEE_OP_BE16: case BEE_OP_BE32: case BEE_OP_BE64:
	case BEE_OP_BSWAP16: case BEE_OP_BSWAP32: case BEE_OP_BSWAP64:
		emit_end(j, d);
		break;
	case BEE_OP_LDXB: case BEE_OP_LDXH: case BEE_OP_LDXW: case BEE_OP_LDXDW:
	case BEE_OP_LDXSB: case BEE_OP_LDXSH: case BEE_OP_LDXSW:
		emit_ldx(j, d, false);
		break;
	case BEE_OP_LOAD_ACQ_B: case BEE_OP_LOAD_ACQ_H: case BEE_OP_LOAD_ACQ_W:
	case BEE_OP_LOAD_ACQ_DW:
		emit_ldx(j, d, true);
		break;
	case BEE_OP_STB: case BEE_OP_STH: case BEE_OP_STW: case BEE_OP_STDW:
		emit_st(j, d);
		break;
	case BEE_OP_STXB: case BEE_OP_STXH: case BEE_OP_STXW: case BEE_OP_STXDW:
		emit_stx(j, d, false);
		break;
	case BEE_OP_STORE_REL_B: case BEE_OP_STORE_REL_H: case BEE_OP_STORE_REL_W:
	case BEE_OP_STORE_REL_DW:
		emit_stx(j, d, true);
		break;
	ATOMIC_ROWS(32)
	ATOMIC_ROWS(64)
		emit_atomic(j, d);
		break;
	/* pseudo sources are resolved or refused by bee_code_load */
	case BEE_OP_LDDW: case BEE_OP_LDDW_MAP_FD: case BEE_OP_LDDW_MAP_VALUE:
	case BEE_OP_LDDW_BTF_ID: case BEE_OP_LDDW_FUNC: case BEE_OP_LDDW_MAP_IDX:
	case BEE_OP_LDDW_MAP_IDX_VALUE:
		emit_lddw(j, d);
		break;
	case BEE_OP_LD_ABS_B: case BEE_OP_LD_ABS_H: case BEE_OP_LD_ABS_W:
	case BEE_OP_LD_IND_B: case BEE_OP_LD_IND_H: case BEE_OP_LD_IND_W:
		emit_ld_pkt(j, d);
		break;
	case BEE_OP_JA:
	case BEE_OP_JA32: {
		size_t target = (size_t)bee_jump_target(d, pc);
		if (target != pc + 1)
			emit_branch(j, pc, target, -1);
		break;
	}
	JCC_ROWS(JEQ) JCC_ROWS(JGT) JCC_ROWS(JGE) JCC_ROWS(JSET) JCC_ROWS(JNE)
	JCC_ROWS(JSGT) JCC_ROWS(JSGE) JCC_ROWS(JLT) JCC_ROWS(JLE) JCC_ROWS(JSLT)
	JCC_ROWS(JSLE)
		emit_jcc(j, d, pc);
		break;
	case BEE_OP_CALL_HELPER:
	case BEE_OP_CALL_KFUNC:
		if (insn_is_tail_call(d))
			emit_tail_call(j);
		else
			emit_call_helper(j, pc);
		break;
	case BEE_OP_CALL_LOCAL:
		emit_call_local(j, d, pc);
		break;
	case BEE_OP_EXIT:
		emit_ret(&j->b);                                 /* ret */
		break;
	case BEE_OP__COUNT:
		jit_broken(j, "invalid instruction kind");
		break;
	}
}

#undef ALU_ROWS
#undef JCC_ROWS
#undef ATOMIC_ROWS

/*
 * Checked mode counts instructions a block at a time: a block is a run of
 * instructions entered only at its first and left only after its last
 * (or by a fault), so it starts at the program's start, at every jump or
 * call target, and after every jump, exit, local call and ld abs/ind
 * (which may return early).  Its code starts with "sub r9, len; jb cold":
 * when the budget cannot cover the whole block, the block runs again from
 * its start in a cold copy that counts instruction by instruction and so
 * stops exactly where the interpreter does.  The budget runs out at the
 * block's last instruction at the latest, so a cold copy ends with that
 * instruction's count: it never holds a jump, a call or an exit, and its
 * size does not depend on the layout.
 */
static void find_blocks(size_t n, const struct bee_dinsn *d, const unsigned char *is_target,
			bool *start, uint32_t *ahead)
{
	start[0] = true;
	for (size_t pc = 0; pc < n; pc++) {
		if (d[pc].slots == 0)
			continue;
		enum bee_shape shape = shape_of(&d[pc]);
		bool jump = bee_op_is_jump((enum bee_op)d[pc].op) || shape == BEE_SH_CALL_LOCAL;
		if (jump)
			start[bee_jump_target(&d[pc], pc)] = true;
		/* a callback may start here (bee_run_callback) */
		if (is_target[pc] & TARGET_CALLBACK)
			start[pc] = true;
		/* Calls of helpers and kfuncs end a block too: the callbacks a
		 * helper starts count from the budget left at the call, and a
		 * tail call leaves for another program. */
		if (jump || shape == BEE_SH_EXIT || shape == BEE_SH_LD_ABS || shape == BEE_SH_LD_IND ||
		    shape == BEE_SH_CALL_HELPER || shape == BEE_SH_CALL_KFUNC)
			start[pc + d[pc].slots] = true;
	}
	for (size_t pc = n; pc-- > 0;) {
		ahead[pc] = 0;
		if (d[pc].slots == 0)
			continue;
		size_t next = pc + d[pc].slots;
		if (next < n && !start[next])
			ahead[pc] = ahead[next] + 1;
	}
}

/*
 * Loop heads are placed so that a short loop sits in one 64-byte line of
 * instruction fetch and decoded-op caching: a loop of up to 64 bytes (as
 * the previous pass laid it out) that would straddle a line starts at the
 * next one instead, a longer loop starts on a 16-byte boundary.  A tight
 * loop's speed otherwise depends on where it happens to land (up to 2x
 * seen on a 6-instruction loop).  The padding runs once per entry into the
 * loop, from the code before it.  Without a previous layout, and in the
 * fallback layout (whose single measuring pass must predict the final
 * one exactly), the head only goes to a 16-byte boundary.
 */
static void emit_loop_align(struct jit *j, size_t pc)
{
	size_t pos = j->b.pos, pad = -pos & 15;
	if (j->layout && !j->align_simple) {
		size_t len = j->layout[j->loop_end[pc]] - j->layout[pc];
		if (len <= 64)
			pad = (pos & 63) + len > 64 ? 64 - (pos & 63) : 0;
	}
	emit_nops(&j->b, pad);                                  /* nops (or a jmp over filler) */
}

/* Record where instruction i's code (or cold copy) starts; in the final
 * pass it must be where the layout says. */
static bool place(struct jit *j, size_t i)
{
	j->addr[i] = (uint32_t)j->b.pos;
	if (j->final && j->addr[i] != j->layout[i]) {
		jit_broken(j, "the final pass does not match the measured layout");
		return false;
	}
	return true;
}

/* One pass over routines, program and cold copies; fills j->addr. */
static void emit_pass(struct jit *j)
{
	struct jit_buf *b = &j->b;
	size_t n = j->n;
	b->pos = 0;
	j->rng = j->blind_seed;
	emit_routines(j);
	if (j->promoted)
		emit_slot_loads(j);
	for (size_t pc = 0; pc < n; pc++) {
		if (j->loop_end[pc])
			emit_loop_align(j, pc);
		if (!place(j, pc))
			return;
		if (j->d[pc].slots == 0)
			continue; /* second slot of an lddw */
		bool jump = bee_op_is_jump((enum bee_op)j->d[pc].op);
		if (j->sizes_known && !j->final && !jump) {
			b->pos += j->sizes[pc];
			continue;
		}
		size_t start = b->pos;
		if (j->checked && j->block_start[pc]) {
			emit_alu_ri(b, X86_W, X86_EXT_SUB, R_BUDGET,
				    (int32_t)(j->ahead[pc] + 1));           /* sub r9, block length */
			emit_jcc_rel32(b, X86_CC_B,
				       j->layout ? j->layout[n + 1 + pc] : 0); /* jb cold copy */
		}
		struct rotate rot = match_rotate(j, pc);
		if (rot.len) {
			/* one piece of code for all of them; the others are empty */
			emit_rotate(j, &rot);
			j->sizes[pc] = (uint32_t)(b->pos - start);
			for (size_t i = 1; i < rot.len; i++) {
				if (!place(j, ++pc))
					return;
				j->sizes[pc] = 0;
			}
			continue;
		}
		emit_insn(j, pc);
		if (!j->sizes_known)
			j->sizes[pc] = (uint32_t)(b->pos - start);
		else if (j->final && !jump && j->sizes[pc] != b->pos - start)
			jit_broken(j, "an instruction changed size between passes");
	}
	if (!place(j, n))
		return;
	/* The cold copies (checked mode only).  Their sizes depend on nothing
	 * the passes change (no jumps; blinded constants have fixed-size
	 * encodings), so a measuring pass after the first only moves them. */
	if (!j->final && j->layout) {
		uint32_t from = j->layout[n], to = j->addr[n];
		for (size_t i = n + 1; i <= 2 * n + 1; i++)
			j->addr[i] = j->layout[i] - from + to;
		b->pos = j->addr[2 * n + 1];
		return;
	}
	for (size_t pc = 0; pc < n; pc++) {
		if (!place(j, n + 1 + pc))
			return;
		if (!j->checked || j->d[pc].slots == 0)
			continue;
		if (j->block_start[pc])
			emit_alu_ri(b, X86_W, X86_EXT_ADD, R_BUDGET,
				    (int32_t)(j->ahead[pc] + 1));           /* add r9, block length */
		emit_count(j);
		if (j->ahead[pc])
			emit_insn(j, pc);
		else
			emit_u16(b, 0x0b0f);                            /* ud2: never reached */
	}
	if (!place(j, 2 * n + 1))
		return;
	if (b->pos > UINT32_MAX)
		jit_broken(j, "native code larger than 4 GiB");
}

/* ---- compiling ---- */

static uint64_t blind_seed(void)
{
	uint64_t seed = 0;
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)&ts;
	}
	return seed;
}

void bee_jit_free(struct jit_image *img)
{
	if (!img)
		return;
	if (img->code)
		munmap(img->code, img->map_len);
	free(img->insn_offsets); /* cold_offsets is its second half */
	free(img->ahead);
	free(img);
}

int bee_jit_compile(const struct bee_code *code, bool checked, struct jit_image **out,
		    struct bee_error *err)
{
	*out = NULL;
	size_t n = code->n;
	struct jit j = {
		.code = code,
		.d = code->d,
		.n = n,
		.checked = checked,
		.blind = code->jit_blind,
	};
	if (j.blind)
		j.blind_seed = blind_seed();
	size_t layout_len = 2 * (n + 1);
	uint32_t *bufs[2] = {malloc(layout_len * sizeof(uint32_t)), malloc(layout_len * sizeof(uint32_t))};
	bool *block_start = checked ? calloc(n + 1, sizeof(bool)) : NULL;
	uint32_t *ahead = checked ? malloc(n * sizeof(uint32_t)) : NULL;
	uint32_t *loop_end = calloc(n + 1, sizeof(uint32_t));
	uint32_t *sizes = calloc(n + 1, sizeof(uint32_t));
	struct jit_image *img = calloc(1, sizeof(*img));
	int ret = 0;
	if (!bufs[0] || !bufs[1] || !img || !code->d || !loop_end || !sizes ||
	    (checked && (!block_start || !ahead))) {
		ret = bee_error_set(err, -ENOMEM, -1, 0, 0, "JIT: out of memory");
		goto out;
	}
	if (checked)
		find_blocks(n, code->d, code->is_target, block_start, ahead);
	j.block_start = block_start;
	j.ahead = ahead;
	/* loop_end[head]: one past the last backward jump to head */
	for (size_t pc = 0; pc < n; pc++) {
		if (code->d[pc].slots == 0 || !bee_op_is_jump((enum bee_op)code->d[pc].op))
			continue;
		size_t target = (size_t)bee_jump_target(&code->d[pc], pc);
		if (target <= pc && loop_end[target] < pc + 1)
			loop_end[target] = (uint32_t)(pc + 1);
	}
	j.loop_end = loop_end;
	j.is_target = code->is_target;
	promote_stack(&j);
	j.sizes = sizes;

	/* Pass 1: every jump long.  Then shorten until nothing changes. */
	j.addr = bufs[0];
	emit_pass(&j);
	j.sizes_known = true;
	unsigned passes = 1;
	bool converged = false;
	j.allow_short = true;
	while (!j.broken && passes < MAX_PASSES) {
		j.layout = j.addr;
		j.addr = j.addr == bufs[0] ? bufs[1] : bufs[0];
		emit_pass(&j);
		passes++;
		if (!memcmp(j.addr, j.layout, (n + 1) * sizeof(uint32_t))) {
			/* every instruction kept its place (padding for loop heads
			 * can move code both ways, so the end alone is not enough) */
			converged = true;
			break;
		}
	}
	if (!converged && !j.broken) {
		/* Long jumps everywhere: measure once more, then emit that. */
		j.allow_short = false;
		j.align_simple = true;
		j.layout = NULL;
		emit_pass(&j);
		passes++;
	}
	if (j.broken) {
		ret = bee_error_set(err, -EFAULT, -1, 0, 0, "JIT: %s", j.broken);
		goto out;
	}
	/* The final layout is in j.addr; emit against it into new memory. */
	uint32_t *layout = j.addr;
	size_t len = layout[2 * n + 1];
	long page = sysconf(_SC_PAGESIZE);
	size_t map_len = (len + (size_t)page - 1) & ~((size_t)page - 1);
	/* populated at once: the final pass writes every page anyway */
	void *mem = mmap(NULL, map_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED) {
		ret = bee_error_set(err, -ENOMEM, -1, 0, 0, "JIT: cannot map %zu bytes of code", map_len);
		goto out;
	}
	img->code = mem;
	img->map_len = map_len;
	memset((uint8_t *)mem + len, 0xcc, map_len - len); /* int3 after the code */
	j.layout = layout;
	j.addr = layout == bufs[0] ? bufs[1] : bufs[0];
	j.final = true;
	j.b.p = mem;
	emit_pass(&j);
	passes++;
	if (!j.broken && j.b.pos != len)
		jit_broken(&j, "the final pass does not match the measured length");
	if (j.broken) {
		ret = bee_error_set(err, -EFAULT, -1, 0, 0, "JIT: %s", j.broken);
		goto out;
	}
	if (mprotect(mem, map_len, PROT_READ | PROT_EXEC) != 0) {
		ret = bee_error_set(err, -errno, -1, 0, 0, "JIT: cannot make the code executable");
		goto out;
	}
	img->len = len;
	img->entry = j.fn_entry;
	img->prog_start = j.fn_prog;
	img->abort_off = j.fn_abort;
	img->promoted = j.promoted;
	img->insn_offsets = j.addr;
	img->cold_offsets = j.addr + n + 1;
	img->ahead = ahead;
	ahead = NULL;
	img->n = n;
	img->checked = checked;
	img->passes = passes;
	if (j.addr == bufs[0])
		bufs[0] = NULL;
	else
		bufs[1] = NULL;
	*out = img;
	img = NULL;
out:
	free(bufs[0]);
	free(bufs[1]);
	free(block_start);
	free(ahead);
	free(loop_end);
	free(sizes);
	bee_jit_free(img);
	return ret;
}

int bee_jit_get(const struct bee_code *code, bool checked, const struct jit_image **out,
		struct bee_error *err)
{
	int m = checked ? XMODE_CHECKED : XMODE_FAST;
	/* The images are a cache of code that is logically const. */
	struct bee_code *mut = (struct bee_code *)code;
	struct jit_image *img = __atomic_load_n(&mut->jit[m], __ATOMIC_ACQUIRE);
	int ret = 0;
	if (!img) {
		pthread_mutex_lock(&mut->jit_lock);
		img = mut->jit[m];
		if (!img) {
			ret = bee_jit_compile(code, checked, &img, err);
			if (!ret)
				__atomic_store_n(&mut->jit[m], img, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&mut->jit_lock);
	}
	*out = img;
	return ret;
}

typedef int (*jit_entry_fn)(struct jit_ctx *ctx);

static int jit_call_entry(const struct jit_image *img, struct jit_ctx *ctx)
{
	jit_entry_fn entry;
	void *at = img->code + img->entry;
	memcpy(&entry, &at, sizeof(entry));
	return entry(ctx);
}

int bee_jit_run(struct run_state *st, uint64_t *r0)
{
	const struct jit_image *img;
	int ret = bee_jit_get(st->code, st->checked, &img, &st->result->err);
	if (ret)
		return ret;

	/* The BPF stack: frame k below frame k - 1, as in the interpreter. */
	uint8_t stack[BEE_MAX_CALL_FRAMES * BEE_STACK_SIZE] __attribute__((aligned(64)));
	uint8_t *const top = stack + sizeof(stack);
	const struct bee_run_opts *o = st->opts;
	const uint8_t *pkt = o->pkt ? (const uint8_t *)o->pkt : (const uint8_t *)o->mem;
	size_t pkt_len = o->pkt ? o->pkt_len : o->mem_len;
	size_t mem_len = o->mem ? o->mem_len : 0;
	/* Field by field: an initialiser would have the compiler clear the
	 * whole context first (a `rep stos`, a third of a short run's cost). */
	_Static_assert(sizeof(struct jit_ctx) == 26 * 8,
		       "bee_jit_run sets every field of struct jit_ctx: add the new one there");
	struct jit_ctx ctx;
	ctx.stack_top_m8 = (uint64_t)(uintptr_t)top - 8;
	ctx.stack_lim = BEE_STACK_SIZE - 7;
	ctx.mem_start = (uint64_t)(uintptr_t)o->mem;
	ctx.mem_rlim = mem_len >= 8 ? mem_len - 7 : 0;
	ctx.mem_wlim = mem_len >= 8 && !o->mem_readonly ? mem_len - 7 : 0;
	ctx.pkt = (uint64_t)(uintptr_t)pkt;
	ctx.pkt_lim[0] = pkt && pkt_len >= 1 ? pkt_len : 0;
	ctx.pkt_lim[1] = pkt && pkt_len >= 2 ? pkt_len - 1 : 0;
	ctx.pkt_lim[2] = pkt && pkt_len >= 4 ? pkt_len - 3 : 0;
	ctx.saved_rsp = 0;
	ctx.budget_left = 0;
	ctx.r0 = 0;
	ctx.depth = 0;
	ctx.unused = 0;
	ctx.args[0] = (uint64_t)(uintptr_t)o->mem;
	ctx.args[1] = o->mem_len;
	ctx.args[2] = 0;
	ctx.args[3] = 0;
	ctx.args[4] = 0;
	ctx.frame_top = (uint64_t)(uintptr_t)top;
	ctx.budget_start = st->budget ? st->budget : UINT64_MAX;
	ctx.start = (uint64_t)(uintptr_t)(img->code + img->prog_start);
	ctx.stack_top = (uint64_t)(uintptr_t)top;
	ctx.budget_init = ctx.budget_start;
	ctx.st = st;
	ctx.img = img;
	ctx.tail_calls = 0;
	st->stack_top = top;
	st->jit_ctx = &ctx;
	if (st->checked) {
		/* Deterministic contents for programs that read what they never wrote. */
		memset(stack, 0, sizeof(stack));
		st->regions[0].start = (uintptr_t)(top - BEE_STACK_SIZE);
		st->regions[0].len = BEE_STACK_SIZE;
		st->regions[0].writable = true;
	}
	ret = jit_call_entry(img, &ctx);
	st->jit_ctx = NULL;
	if (ret == 0)
		*r0 = ctx.r0;
	if (ret == 0 && st->checked)
		st->result->insns = ctx.budget_init - ctx.budget_left;
	return ret;
}

unsigned bee_jit_depth(const struct run_state *st)
{
	const struct jit_ctx *ctx = st->jit_ctx;
	return ctx->depth;
}

/*
 * A callback: the running image entered again at the function's first
 * instruction (a block start, find_blocks), on a context of its own whose
 * depth, frame and budget continue the caller's, so that the callback's
 * local calls, faults and counts are those of one run.  A fault unwinds
 * to this entry only; bee_run_callback then marks the run aborted.
 */
int bee_jit_callback(struct run_state *st, const struct run_entry *e, uint64_t *r0)
{
	struct jit_ctx *parent = st->jit_ctx;
	const struct jit_image *img = parent->img;
	if (img->promoted) /* no calls, so no helper to get here from: never */
		return bee_error_set(&st->result->err, -EINVAL, (long)e->pc, 0, 0,
				     "callback into a program without calls");
	struct jit_ctx ctx = *parent;
	ctx.saved_rsp = 0;
	ctx.stack_lim = st->regions[0].len - 7;
	ctx.depth = e->depth;
	memcpy(ctx.args, e->args, sizeof(ctx.args));
	ctx.frame_top = ctx.stack_top - (uint64_t)e->depth * BEE_STACK_SIZE;
	ctx.budget_start = parent->budget_left; /* stored at the helper call (checked mode) */
	ctx.start = (uint64_t)(uintptr_t)(img->code + img->insn_offsets[e->pc]);
	st->jit_ctx = &ctx;
	int ret = jit_call_entry(img, &ctx);
	st->jit_ctx = parent;
	if (ret == 0) {
		*r0 = ctx.r0;
		parent->budget_left = ctx.budget_left;
	}
	return ret;
}

int bee_code_jited(const struct bee_code *code, bool checked, const uint8_t **image, size_t *len,
		   const uint32_t **insn_offsets)
{
	if (!code)
		return -EINVAL;
	const struct jit_image *img;
	int ret = bee_jit_get(code, checked, &img, NULL);
	if (ret)
		return ret;
	if (image)
		*image = img->code;
	if (len)
		*len = img->len;
	if (insn_offsets)
		*insn_offsets = img->insn_offsets;
	return 0;
}

#else /* !__x86_64__ */

int bee_jit_compile(const struct bee_code *code, bool checked, struct jit_image **out,
		    struct bee_error *err)
{
	*out = NULL;
	return bee_error_set(err, -EOPNOTSUPP, -1, 0, 0, "the JIT supports x86-64 only");
}

void bee_jit_free(struct jit_image *img)
{
	(void)img;
}

int bee_jit_get(const struct bee_code *code, bool checked, const struct jit_image **out,
		struct bee_error *err)
{
	struct jit_image *img;
	*out = NULL;
	return bee_jit_compile(code, checked, &img, err);
}

int bee_jit_run(struct run_state *st, uint64_t *r0)
{
	return bee_error_set(&st->result->err, -EOPNOTSUPP, -1, 0, 0,
			     "the JIT supports x86-64 only");
}

unsigned bee_jit_depth(const struct run_state *st)
{
	return 0;
}

int bee_jit_callback(struct run_state *st, const struct run_entry *entry, uint64_t *r0)
{
	return -EOPNOTSUPP;
}

int bee_code_jited(const struct bee_code *code, bool checked, const uint8_t **image, size_t *len,
		   const uint32_t **insn_offsets)
{
	return -EOPNOTSUPP;
}

#endif
