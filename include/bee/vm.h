/*
 * bee/vm.h - running eBPF code: programs prepared for execution, helpers,
 * and the two engines (interpreter, JIT), each with two modes.
 *
 * A struct bee_code is a checked, pre-decoded program ready to run.  It
 * runs in one of two modes:
 *
 *  - checked: every load and store is bounds-checked against the memory
 *    the program was given (its stack, the input memory, regions the caller
 *    or a helper granted), every local call against the call-depth limit,
 *    and an optional instruction budget stops runaway loops.  A violation
 *    stops the program with an error naming the instruction index.
 *  - fast: no run-time checks.  Only code marked trusted (proven safe by
 *    the verifier, or vouched for by a benchmark that knows its programs)
 *    may run this way; bee_code_run refuses otherwise.
 *
 * A program starts with r1 = the input memory (or its context), r2 = its
 * length, r10 = the top of a 512-byte stack frame; r0 at exit is its
 * result.  bpf-to-bpf calls nest up to 8 frames, each with its own stack.
 */
#ifndef BEE_VM_H
#define BEE_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "bee/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A helper or kfunc: arguments in r1..r5, result in r0, as in the kernel. */
typedef uint64_t (*bee_helper_fn)(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				  uint64_t r5);

struct bee_helper {
	int32_t id;       /* helper id (call imm), or the kfunc's BTF id */
	const char *name; /* "bpf_ktime_get_ns" */
	bee_helper_fn fn;
};

/* A set of helpers: ids map to functions.  Grows as needed. */
struct bee_helper_table;

struct bee_helper_table *bee_helper_table_new(void);
void bee_helper_table_free(struct bee_helper_table *t);
/* Add or replace a helper.  Returns 0 or -ENOMEM/-EINVAL. */
int bee_helper_table_add(struct bee_helper_table *t, const struct bee_helper *h);
/* Look up by id; NULL if absent. */
const struct bee_helper *bee_helper_table_find(const struct bee_helper_table *t, int32_t id);

/*
 * Add bee's built-in user-space helpers that make sense without maps:
 * bpf_ktime_get_ns (5), bpf_trace_printk (6, to stderr),
 * bpf_get_prandom_u32 (7), bpf_get_smp_processor_id (8),
 * bpf_ktime_get_boot_ns (125).
 */
int bee_helper_table_add_builtins(struct bee_helper_table *t);

enum bee_engine {
	BEE_ENGINE_INTERP = 0,
	/* x86-64 native code, compiled on the first run in each mode (checked,
	 * fast) and kept with the code.  Same results, errors and instruction
	 * counts as the interpreter.  -EOPNOTSUPP on other architectures. */
	BEE_ENGINE_JIT = 1,
};

struct bee_code_opts {
	size_t sz;                               /* sizeof(struct bee_code_opts) */
	const struct bee_helper_table *helpers;  /* helpers by id; may be NULL */
	const struct bee_helper_table *kfuncs;   /* kfuncs by BTF id; may be NULL */
	bool trusted;                            /* proven safe: may run unchecked */
	/* JIT: constant blinding.  Immediates the program chose never appear
	 * in the native code as they are: each is emitted as imm ^ key with a
	 * random key and xor-ed back in a scratch register at run time, as the
	 * kernel does against JIT spraying. */
	bool jit_blind;
};

struct bee_code;

/*
 * Prepare insns for execution: syntax-check the program (bee_check_program
 * rules), resolve every helper and kfunc call against the tables, and
 * pre-decode for the interpreter.  lddw pseudo forms other than plain
 * immediates are refused here (the core resolves them before).  Returns
 * NULL with err set on failure.  insns is not referenced after the call.
 */
struct bee_code *bee_code_load(const struct bpf_insn *insns, size_t n,
			       const struct bee_code_opts *opts, struct bee_error *err);
void bee_code_free(struct bee_code *code);

/* Number of instructions (slots) of the program. */
size_t bee_code_len(const struct bee_code *code);
bool bee_code_trusted(const struct bee_code *code);

/* A range of host memory a checked program may touch. */
struct bee_mem_region {
	void *start;
	size_t len;
	bool writable;
};

enum {
	BEE_RUN_CHECKED = 1 << 0, /* checked mode (forced for untrusted code) */
};

struct bee_run_opts {
	size_t sz;              /* sizeof(struct bee_run_opts) */
	enum bee_engine engine;
	unsigned flags;         /* BEE_RUN_* */
	void *mem;              /* r1, and the packet for ld abs/ind; may be NULL */
	size_t mem_len;         /* r2 */
	bool mem_readonly;      /* the program may read mem but not write it */
	const struct bee_mem_region *regions; /* more memory a checked run may use */
	size_t n_regions;
	uint64_t max_insns;     /* checked mode: stop after this many (0: no limit) */
};

struct bee_run_result {
	uint64_t r0;            /* the program's return value */
	uint64_t insns;         /* instructions executed (checked mode only) */
	struct bee_error err;   /* why the run stopped early, when it did */
};

/*
 * Run code once.  Returns 0 when the program reached exit (result->r0 is
 * its return value), or a negative errno when a checked run stopped it
 * (-EFAULT for a bad memory access, -E2BIG for the call depth, -ETIME for
 * the instruction budget, -EINVAL for a call to a missing helper), with
 * result->err naming the instruction.  Untrusted code always runs checked.
 */
int bee_code_run(const struct bee_code *code, const struct bee_run_opts *opts,
		 struct bee_run_result *result);

/*
 * The JIT's native code for code in one mode (checked or fast), compiled
 * now if no run has needed it yet.  *image is the code (read and execute
 * only; it lives as long as code), *len its size in bytes, and
 * *insn_offsets an array of bee_code_len(code) + 1 offsets into it: where
 * the code of each instruction starts (the second slot of an lddw holds
 * where the next instruction starts; the last entry is the end of the
 * program's code).  The JIT's own entry, exit and fault routines precede
 * insn_offsets[0]; in a checked image, copies of the program's code that
 * count instructions one by one (used when the budget runs out inside a
 * straight-line block) follow insn_offsets[n] up to *len.
 * Any output pointer may be NULL.  Returns 0 or a negative errno
 * (-EOPNOTSUPP where there is no JIT, -ENOMEM).
 */
int bee_code_jited(const struct bee_code *code, bool checked, const uint8_t **image, size_t *len,
		   const uint32_t **insn_offsets);

/*
 * For helpers, during a run: check that [ptr, ptr+len) is memory the
 * running program may access (always true in fast mode), and grant the
 * running program access to more memory (a map value, a ring buffer
 * record).  bee_run_grant returns -ENOSPC when the run's table is full.
 */
bool bee_run_mem_ok(const void *ptr, size_t len, bool write);
int bee_run_grant(void *start, size_t len, bool writable);

#ifdef __cplusplus
}
#endif
#endif
