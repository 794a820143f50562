/*
 * interp.h - the interpreter's private view of a loaded program, shared by
 * interp.c (loading, running) and interp_body.h (the dispatch loop, built
 * twice: fast and checked).
 */
#ifndef BEE_EXEC_INTERP_H
#define BEE_EXEC_INTERP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bee/vm.h"
#include "isa/isa.h"

/*
 * A pre-decoded instruction, 24 bytes.  Dispatch is direct threading: the
 * instruction carries the address of its handler, so the next handler is
 * one load away.  The fast and the checked loops have their own handlers,
 * hence one array of pre-decoded instructions per mode.  Jumps and local calls keep the
 * byte distance from themselves to their target in off (ja32's included),
 * so the dispatch loop never looks at the original encoding.  imm is the
 * sign-extended immediate, the whole 64-bit lddw value, or the address of
 * the helper a call reaches.
 */
struct xinsn {
	const void *handler; /* the label of this kind in the dispatch loop */
	uint8_t op;          /* enum bee_op */
	uint8_t dst;
	uint8_t src;
	uint8_t unused;
	int32_t off;
	uint64_t imm;
};

enum { XMODE_FAST, XMODE_CHECKED, XMODE__COUNT };

struct jit_image;

/* is_target[pc] bits. */
enum {
	TARGET_JUMP = 1,     /* a jump or a local call lands on pc */
	TARGET_CALLBACK = 2, /* an `lddw rX, subprog` names pc: a callback may start here */
};

/*
 * The value `lddw rX, subprog` loads: the function's instruction index
 * under a tag, so that bee_run_callback can tell it from any other value
 * (it then also checks the index against TARGET_CALLBACK).  Both engines
 * load the same constant, so runs compare equal.
 */
#define CALLBACK_TAG 0xbeefca11u
static inline uint64_t callback_value(size_t pc)
{
	return (uint64_t)CALLBACK_TAG << 32 | (uint32_t)pc;
}

/* A `call 12`: a tail call, never a helper call (vm.h, BEE_MAX_TAIL_CALLS). */
static inline bool insn_is_tail_call(const struct bee_dinsn *d)
{
	return d->op == BEE_OP_CALL_HELPER && d->imm == BPF_FUNC_tail_call;
}

struct bee_code {
	size_t n;
	struct bee_dinsn *d;            /* decoded by bee_check_program: what the JIT reads */
	unsigned char *is_target;       /* n + 1 entries of TARGET_* bits */
	struct xinsn *x[XMODE__COUNT];  /* x[XMODE_CHECKED][pc].imm: a call's helper address */
	bool trusted;
	bool jit_blind;                 /* bee_code_opts.jit_blind */
	/* Native code per mode, compiled on first use (jit_x86_64.c).  Read
	 * with an acquire load; written once, under jit_lock. */
	pthread_mutex_t jit_lock;
	struct jit_image *jit[XMODE__COUNT];
};

/* Most regions a checked run tracks: stack, input memory, the caller's
 * regions and what helpers grant during the run. */
#define BEE_RUN_MAX_REGIONS 64

struct run_region {
	uintptr_t start;
	size_t len;
	bool writable;
};

/*
 * What one run needs besides the registers.
 *
 * A run is one invocation of an engine's loop (interpreter) or native code
 * (JIT) for the program, plus one nested invocation per callback that a
 * helper starts with bee_run_callback, all on one stack area of
 * BEE_MAX_CALL_FRAMES frames: a callback's frame sits below its caller's,
 * so the call depth counts across invocations.  The engines publish, at
 * every helper call, what bee_run_callback needs to start one more
 * (depth, executed); a callback that faults sets aborted, which the
 * checked engines test after every helper call (fast ones only at the
 * end: verified code cannot fault).  A tail call changes code, so faults
 * and callbacks always see the program running now.
 */
struct run_state {
	const struct bee_code *code; /* running now (a tail call replaces it) */
	const struct bee_run_opts *opts;
	struct bee_run_result *result;
	bool checked;
	int aborted;      /* a callback's fault (or bee_run_abort): the run stops with it */
	long call_pc;     /* checked mode: the helper call running now (its index) */
	uint64_t budget;  /* the instruction budget (checked mode; 0: none) */
	uint64_t executed; /* interpreter, checked: instructions run, at the last helper call */
	unsigned depth;   /* interpreter: frames saved (absolute), at the last helper call */
	unsigned tail_calls; /* interpreter: tail calls made */
	uint8_t *stack_top;  /* top of the stack area, set by the engine */
	void *jit_ctx;    /* JIT: the innermost invocation's struct jit_ctx */
	struct run_region regions[BEE_RUN_MAX_REGIONS];
	size_t n_regions; /* regions[0] is the live stack, [1] the input memory */
	struct run_state *outer; /* a run started by a helper of another run */
};

/* Where a nested invocation (a callback) starts: instruction pc of the
 * running code, with depth frames above it, r1..r5 = args. */
struct run_entry {
	size_t pc;
	unsigned depth;
	uint64_t args[5];
};

static inline bool region_contains(const struct run_region *r, uintptr_t addr, size_t size)
{
	return addr >= r->start && size <= r->len && addr - r->start <= r->len - size;
}

/* May a checked run touch [addr, addr + size)?  The first region that
 * contains it decides, so a read-only region shadows later grants. */
static inline bool run_mem_ok(const struct run_state *st, uintptr_t addr, size_t size, bool write)
{
	for (size_t i = 0; i < st->n_regions; i++) {
		const struct run_region *r = &st->regions[i];
		if (region_contains(r, addr, size))
			return !write || r->writable;
	}
	return st->opts->mem_check && st->opts->mem_check(st->opts->user, addr, size, write);
}

/*
 * How a checked run stops, for the interpreter and the JIT alike: each
 * records the error (code, instruction index, message) in st->result->err
 * and returns its code.  The caller sets st->result->insns.
 *
 *  - a load, store or atomic outside every region (or a write to a
 *    read-only one): -EFAULT;
 *  - an atomic, load-acquire or store-release that is not naturally
 *    aligned: -EFAULT;
 *  both saying where relative to the stack when the address is near it
 *  (stack_top is the top of the first frame), so that the message does not
 *  depend on where an engine keeps its stack;
 *  - the instruction budget exhausted before insn: -ETIME;
 *  - a local call with depth frames already saved that would need one
 *    frame too many: -E2BIG.
 */
int bee_run_fault_mem(struct run_state *st, long insn, uintptr_t addr, unsigned size, bool write,
		      unsigned basereg, uint64_t baseval, int32_t off, const uint8_t *stack_top);
int bee_run_fault_align(struct run_state *st, long insn, uintptr_t addr, unsigned size,
			const uint8_t *stack_top);
int bee_run_fault_budget(struct run_state *st, long insn);
int bee_run_fault_depth(struct run_state *st, long insn, unsigned depth);
/* A tail call at call depth depth > 0: -EOPNOTSUPP. */
int bee_run_fault_tail_call(struct run_state *st, long insn, unsigned depth);
/* The target of a tail call that the JIT cannot compile: its error. */
int bee_run_fault_tail_target(struct run_state *st, long insn, const struct bee_error *why);

/* May a run in this mode switch to target?  (Fast runs: trusted only.) */
static inline bool tail_call_allowed(const struct run_state *st, const struct bee_code *target)
{
	return target && (st->checked || target->trusted);
}

/* The tail call's target, or NULL: it fails.  Counts nothing. */
static inline const struct bee_code *tail_call_target(const struct run_state *st,
						      unsigned made, uint64_t map, uint64_t index)
{
	const struct bee_run_opts *o = st->opts;
	if (made >= BEE_MAX_TAIL_CALLS || !o->tail_call)
		return NULL;
	const struct bee_code *t = o->tail_call(o->user, map, index);
	return tail_call_allowed(st, t) ? t : NULL;
}

/* The handlers of one dispatch loop, for pre-decoding. */
struct interp_handlers {
	const void *const *ops;     /* indexed by enum bee_op */
	/* Superinstructions, indexed by the op of a 64-bit conditional jump:
	 * "rX += imm" fused with the jump on rX that follows it, the step of
	 * almost every counted loop.  NULL entries (and the whole table in
	 * checked mode, which counts instructions one by one) mean no fusion. */
	const void *const *add_then_jcc;
	const void *const *tail_call; /* *tail_call: a `call 12` */
};

/* Run (entry NULL: the program from its start; else a callback); or, when
 * handlers is not NULL, only hand out the loop's handlers. */
int bee_interp_run_fast(struct run_state *st, uint64_t *r0, struct interp_handlers *handlers,
			const struct run_entry *entry);
int bee_interp_run_checked(struct run_state *st, uint64_t *r0, struct interp_handlers *handlers,
			   const struct run_entry *entry);

#endif
