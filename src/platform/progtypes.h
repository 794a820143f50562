/*
 * progtypes.h - program types as data (private side; the public API is
 * include/bee/progtype.h).
 *
 * The core holds one struct bee_prog_types per instance (built-in types
 * plus what an embedder added) and the verifier asks it, per program,
 * about context accesses, helper calls and the return range.  What the
 * verifier needs beyond the public answers is here: the limits the kernel
 * applies to the uniform areas (tracepoint records, raw tracepoint
 * arguments) and the list of built-in types.
 */
#ifndef BEE_PLATFORM_PROGTYPES_H
#define BEE_PLATFORM_PROGTYPES_H

#include "bee/progtype.h"

/* PERF_MAX_TRACE_SIZE: the largest tracepoint record a program may read. */
#define BEE_PERF_MAX_TRACE_SIZE 8192u
/* MAX_BPF_FUNC_ARGS: raw tracepoint / tracing programs get up to 12 u64 args. */
#define BEE_MAX_FUNC_ARGS 12u
/* sizeof(struct pt_regs) on x86-64: 21 registers of 8 bytes. */
#define BEE_PT_REGS_SIZE 168u

/* The number of built-in types, and the i-th (for tests and `bee feature`). */
size_t bee_prog_type_builtin_count(void);
const struct bee_prog_type_desc *bee_prog_type_builtin_at(size_t i);

#endif
