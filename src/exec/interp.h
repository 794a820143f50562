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

struct bee_code {
	size_t n;
	struct bee_dinsn *d;            /* decoded by bee_check_program: what the JIT reads */
	unsigned char *is_target;       /* n + 1 entries: a jump or local call lands here */
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

/* What one run needs besides the registers. */
struct run_state {
	const struct bee_code *code;
	const struct bee_run_opts *opts;
	struct bee_run_result *result;
	bool checked;
	uint64_t budget;  /* instructions left (checked mode, when limited) */
	struct run_region regions[BEE_RUN_MAX_REGIONS];
	size_t n_regions; /* regions[0] is the live stack, [1] the input memory */
	struct run_state *outer; /* a run started by a helper of another run */
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
	return false;
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

/* The handlers of one dispatch loop, for pre-decoding. */
struct interp_handlers {
	const void *const *ops;     /* indexed by enum bee_op */
	/* Superinstructions, indexed by the op of a 64-bit conditional jump:
	 * "rX += imm" fused with the jump on rX that follows it, the step of
	 * almost every counted loop.  NULL entries (and the whole table in
	 * checked mode, which counts instructions one by one) mean no fusion. */
	const void *const *add_then_jcc;
};

/* Run; or, when handlers is not NULL, only hand out the loop's handlers. */
int bee_interp_run_fast(struct run_state *st, uint64_t *r0, struct interp_handlers *handlers);
int bee_interp_run_checked(struct run_state *st, uint64_t *r0, struct interp_handlers *handlers);

#endif
