/*
 * interp.h - the interpreter's private view of a loaded program, shared by
 * interp.c (loading, running) and interp_body.h (the dispatch loop, built
 * twice: fast and checked).
 */
#ifndef BEE_EXEC_INTERP_H
#define BEE_EXEC_INTERP_H

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

struct bee_code {
	size_t n;
	struct bpf_insn *insns;
	struct xinsn *x[XMODE__COUNT];
	bool trusted;
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
