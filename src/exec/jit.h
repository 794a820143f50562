/*
 * jit.h - the x86-64 JIT's private interface (jit_x86_64.c): compiling a
 * loaded program to native code in one mode, running it, and looking at
 * what it produced.
 *
 * bee_code_run reaches the JIT through bee_jit_run when the caller asks
 * for BEE_ENGINE_JIT; the image of each mode is compiled on first use and
 * kept in struct bee_code (interp.h) until bee_code_free.
 */
#ifndef BEE_EXEC_JIT_H
#define BEE_EXEC_JIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "interp.h"

/* Native code for one program in one mode. */
struct jit_image {
	uint8_t *code;          /* mapped read + execute (never writable and executable at once) */
	size_t len;             /* bytes of code */
	size_t map_len;         /* bytes mapped */
	size_t entry;           /* offset of the entry: int entry(struct jit_ctx *) */
	size_t prog_start;      /* offset where the program starts (before insn 0's code:
				 * a promoted program's slot loads); a tail call's target */
	size_t abort_off;       /* offset of the routine that stops with st->aborted */
	bool promoted;          /* fast mode kept stack slots in registers */
	uint32_t *insn_offsets; /* n + 1 offsets: where each instruction's code starts;
				 * [n] is the end of the program's main code */
	const uint32_t *cold_offsets; /* n + 1 more (checked mode): where each instruction's
				 * copy in the per-instruction-counted cold code starts */
	uint32_t *ahead;        /* checked mode: instructions of its block after each one */
	size_t n;               /* instructions (slots) of the program */
	bool checked;           /* compiled with the checked interpreter's checks */
	unsigned passes;        /* emitter passes, measuring ones included */
};

/*
 * Compile code for one mode.  Returns 0 with *out set, or a negative errno
 * with err saying why (-ENOMEM; -EOPNOTSUPP off x86-64; -EFAULT for an
 * internal inconsistency of the emitter, which would be a bee bug).
 */
int bee_jit_compile(const struct bee_code *code, bool checked, struct jit_image **out,
		    struct bee_error *err);
void bee_jit_free(struct jit_image *img);

/* The image of code for a mode, compiled on first use (thread-safe). */
int bee_jit_get(const struct bee_code *code, bool checked, const struct jit_image **out,
		struct bee_error *err);

/*
 * Run st->code on the JIT in st->checked's mode; the counterpart of
 * bee_interp_run_checked/fast: same results, same errors (code,
 * instruction, message), same st->result->insns.
 */
int bee_jit_run(struct run_state *st, uint64_t *r0);

/* During a JIT run, from a helper: the call depth of the innermost
 * invocation, and a callback as a nested invocation (see
 * bee_run_callback, which has checked entry and grown regions[0]). */
unsigned bee_jit_depth(const struct run_state *st);
int bee_jit_callback(struct run_state *st, const struct run_entry *entry, uint64_t *r0);

#endif
