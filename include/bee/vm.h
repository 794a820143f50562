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

/*
 * A helper's prototype: what the verifier checks at each call and what it
 * knows of the result (the kernel's struct bpf_func_proto, in the kinds bee
 * uses).  A memory argument's size is the argument after it.
 */
enum bee_arg {
	BEE_ARG_NONE = 0,        /* no argument here (nor after) */
	BEE_ARG_ANYTHING,        /* any value */
	BEE_ARG_MAP,             /* a map (lddw map form) */
	BEE_ARG_MAP_KEY,         /* key_size readable bytes of the map before it */
	BEE_ARG_MAP_VALUE,       /* value_size readable bytes */
	BEE_ARG_MAP_VALUE_OUT,   /* value_size bytes the helper writes */
	BEE_ARG_MEM,             /* readable memory, size in the next argument */
	BEE_ARG_MEM_OR_NULL,
	BEE_ARG_MEM_OUT,         /* memory the helper writes, size next */
	BEE_ARG_SIZE,            /* a constant size > 0 */
	BEE_ARG_SIZE_OR_ZERO,
	BEE_ARG_CONST_STR,       /* a NUL-terminated read-only string */
	BEE_ARG_CTX,             /* the program's context */
	BEE_ARG_FUNC,            /* a callback (lddw subprog) */
	BEE_ARG_STACK_OR_NULL,   /* a callback's context on the stack, or NULL */
	BEE_ARG_LONG_OUT,        /* 8 bytes the helper writes */
	BEE_ARG_RINGBUF_MEM,     /* a record from bpf_ringbuf_reserve (released) */
};

enum bee_ret {
	BEE_RET_INTEGER = 0,     /* a scalar */
	BEE_RET_VOID,
	BEE_RET_MAP_VALUE_OR_NULL,
	BEE_RET_MEM_OR_NULL,     /* memory of the size of the constant argument 2 */
	BEE_RET_TASK,            /* bpf_get_current_task_btf's struct bee_task */
};

struct bee_helper {
	int32_t id;       /* helper id (call imm), or the kfunc's BTF id */
	const char *name; /* "bpf_ktime_get_ns" */
	bee_helper_fn fn;
	/* the prototype (all zero: returns a scalar, takes no arguments the
	 * verifier checks) */
	enum bee_ret ret;
	enum bee_arg args[5];
	bool gpl_only;    /* only for programs with a GPL-compatible license */
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
 * bpf_ktime_get_boot_ns (125), bpf_loop (181, through bee_run_callback),
 * and the packet helpers of BPF_PROG_TEST_RUN (skb load/store bytes,
 * xdp adjust head/tail/meta), which return -EINVAL outside a test run.
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
 * pre-decode for the interpreter.  A `call 12` is a tail call (see
 * BEE_MAX_TAIL_CALLS), whatever the helper table holds.  `lddw rX,
 * subprog` (BPF_PSEUDO_FUNC) must name an instruction start inside the
 * program (see bee_run_callback); the other lddw pseudo forms are refused
 * here (the core resolves them before).  Returns
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
	void *mem;              /* r1, and the packet for ld abs/ind (unless pkt); may be NULL */
	size_t mem_len;         /* r2 */
	bool mem_readonly;      /* the program may read mem but not write it */
	const struct bee_mem_region *regions; /* more memory a checked run may use */
	size_t n_regions;
	uint64_t max_insns;     /* checked mode: stop after this many (0: no limit) */
	/* Checked mode: asked about an access outside every region before it
	 * faults (the core answers for map values); NULL: fault. */
	bool (*mem_check)(void *user, uintptr_t addr, size_t size, bool write);
	void *user;             /* passed to mem_check and tail_call */
	/* bpf_tail_call (helper 12, BPF_FUNC_tail_call(ctx, map, index)): the
	 * program a tail call through map at index switches to, or NULL when
	 * there is none (missing entry, not a program array).  NULL resolver:
	 * every tail call fails.  The core answers over PROG_ARRAY maps; the
	 * returned code must stay alive until the run ends. */
	const struct bee_code *(*tail_call)(void *user, uint64_t map, uint64_t index);
	/* The packet of the legacy loads (ld abs/ind) when it is not mem:
	 * program types whose r1 is a context (struct __sk_buff) rather than
	 * the packet.  NULL: mem is the packet. */
	const void *pkt;
	size_t pkt_len;
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
 * the instruction budget, -EINVAL for a call to a missing helper,
 * -EOPNOTSUPP for a tail call from a function, -ENOMEM when a tail call's
 * target cannot be compiled), with result->err naming the instruction (of
 * the program running then: a tail call's target, a callback).  Untrusted
 * code always runs checked.
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

/*
 * For helpers, during a checked run: stop the run when the helper returns,
 * with code (a negative errno) and a message naming the helper call's
 * instruction, as a fault would.  Returns 0, or -EPERM in a fast run
 * (verified code has nothing to stop for), -EINVAL outside a run.
 */
int bee_run_abort(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Tail calls.  A `call 12` (bpf_tail_call(ctx, prog_array, index)) is not
 * a helper call: the engines ask bee_run_opts.tail_call for the target
 * and, when there is one, replace the running program with it as the
 * kernel does.  The target starts at its instruction 0 with r1 = the ctx
 * value the caller passed in r1, r10 = the top of a fresh stack frame (the
 * same stack; zeroed in checked mode), r0 and r2..r9 = 0, and its exit
 * ends the whole run.  A tail call fails, and execution continues at the
 * next instruction with r0 = 0 (r1..r9 unchanged), when the resolver is
 * NULL or returns NULL, after BEE_MAX_TAIL_CALLS successful tail calls in
 * the run (the kernel's MAX_TAIL_CALL_CNT; the kernel also counts
 * attempts that find an empty slot, bee counts successes only), and in a
 * fast run when the target is not trusted.  A checked run runs every
 * target checked: the instruction budget and count continue across the
 * switch and errors name the target's instructions.  A tail call from a
 * bpf-to-bpf function or a callback (call depth > 0), which the kernel
 * allows under conditions, stops the run with -EOPNOTSUPP naming the
 * instruction, in every engine and mode.
 */
#define BEE_MAX_TAIL_CALLS 33

/*
 * Callbacks (bpf_loop, bpf_for_each_map_elem, bpf_timer_set_callback...).
 * `lddw rX, subprog` (src_reg BPF_PSEUDO_FUNC, imm = the target relative
 * to the next instruction, as a local call's) loads into rX a value that
 * names that function of the program.  A helper called during a run
 * passes such a value as fn: bee_run_callback runs that function of the
 * running program (after tail calls: the current one) with r1..r5 and a
 * fresh 512-byte stack frame below the caller's, in the same engine and
 * mode, and returns 0 with *r0 the function's return value, or:
 *  - -EINVAL when fn does not name a function of the running program (any
 *    value is safe to pass), or when no run is in progress;
 *  - -E2BIG when the call would need more than BEE_MAX_CALL_FRAMES (8)
 *    frames, counting the caller's;
 *  - the callback's fault (-EFAULT, -ETIME, -E2BIG, -EOPNOTSUPP) when a
 *    checked callback stops: then the whole run stops with that error
 *    (result->err names the callback's instruction) as soon as the helper
 *    returns, and later calls return the same error.
 * A checked callback may access all the caller may, the caller's stack
 * frames included, and shares the instruction budget and count.  (A fast
 * run cannot fault, verified code staying within the call depth; should
 * it, the run's result is that error all the same.)
 */
int bee_run_callback(uint64_t fn, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
		     uint64_t *r0);

#ifdef __cplusplus
}
#endif
#endif
