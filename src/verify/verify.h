/*
 * verify.h - bee's verifier: an abstract interpreter that proves a program
 * safe before it may run unchecked (issue 6), the Linux verifier being the
 * reference for what is accepted and what is refused, with its messages.
 *
 * Theory.  The program is first checked as a graph (cfg.c: every jump in
 * range, every instruction reachable, no fall-through off the end).  Then
 * verify.c walks every path from instruction 0 with an abstract state per
 * path (state.c: a type and a scalar domain per register, a kind per stack
 * byte, spilled registers), splitting the state at each conditional jump
 * whose outcome the state does not decide, refining both sides, and
 * checking every memory access, helper call and exit against the state.
 * A state covered by one already fully explored at the same instruction is
 * pruned (scalars no check depended on may differ: precise.c); a state
 * equal to one still on the current path is an infinite loop.  bpf-to-bpf
 * calls, callbacks, references and tail calls are followed as the kernel
 * does.  Anything bee does not model is refused with "bee verifier:
 * <feature> not supported yet": bee may refuse a safe program, never
 * accept an unsafe one.  The log follows the kernel's format (levels 1
 * and 2) and can explain a refusal (log.c, explain.c).
 */
#ifndef BEE_VERIFY_VERIFY_H
#define BEE_VERIFY_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "bee/progtype.h"
#include "bee/vm.h"

/* The kernel's BPF_COMPLEXITY_LIMIT_INSNS. */
#define BEE_VERIFY_INSN_LIMIT 1000000u

/* A map a program refers to (what the loader/core resolved). */
struct bee_verify_map {
	uint32_t type; /* enum bpf_map_type */
	uint32_t key_size, value_size, max_entries;
	uint32_t map_flags; /* BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG are enforced */
	/* A frozen map the program may only read (BPF_F_RDONLY_PROG, e.g.
	 * .rodata): its value (value_size bytes), so loads at constant offsets
	 * are known constants, as the kernel reads them.  NULL otherwise. */
	const void *rdonly_data;
	/* Maps of maps: the inner maps' shape (inner_type 0: none). */
	uint32_t inner_type, inner_key_size, inner_value_size, inner_max_entries;
};

/* A source line (from BTF line info) that starts at instruction insn. */
struct bee_verify_line {
	uint32_t insn;
	const char *src;  /* the line's text */
	const char *file;
	uint32_t line;
};

struct bee_verify_opts {
	size_t sz; /* sizeof(struct bee_verify_opts) */
	const struct bee_prog_type_desc *prog_type; /* required */
	uint32_t expected_attach_type;
	const struct bee_helper_table *helpers; /* may be NULL: no helper allowed */
	/* lddw map[idx:N] (BPF_PSEUDO_MAP_IDX[_VALUE]): maps[N]; when maps is
	 * NULL, map_lookup answers for them too. */
	const struct bee_verify_map *maps;
	size_t n_maps;
	/* Other lddw map forms (BPF_PSEUDO_MAP_FD[_VALUE], imm = the fd or id the
	 * core placed there): describe the map, return 0 or a negative errno.
	 * NULL: such references are refused. */
	int (*map_lookup)(void *user, uint32_t pseudo, int32_t imm, struct bee_verify_map *out);
	void *user;
	char *log_buf; /* may be NULL */
	size_t log_size;
	/* 0: none; 1: the failing path's instructions, the refusal and the
	 * statistics; 2: every instruction with the state after it; | 4
	 * (BPF_LOG_STATS): the verification time and stack depths too. */
	unsigned log_level;
	bool strict_alignment; /* BPF_F_STRICT_ALIGNMENT: map value and packet accesses aligned */
	/* The program came with BTF func_info (one record per subprogram):
	 * as in the kernel, callbacks, and tail calls or legacy packet loads
	 * inside subprograms, need it. */
	bool has_func_info;
	/* Source lines for the log (may be NULL), sorted by insn. */
	const struct bee_verify_line *lines;
	size_t n_lines;
	/* A refusal also explains itself in the log: the instruction and its
	 * source line, the branches that led there, the values that make it
	 * unsafe and the usual fix (bee's --explain). */
	bool explain;
};

struct bee_verify_result {
	bool accepted;
	int err;              /* 0 or the negative errno of the refusal */
	char msg[256];        /* the refusal's message (one line) */
	long insn;            /* the failing instruction, -1 if none */
	uint64_t processed;   /* instructions processed */
	uint32_t total_states, peak_states, max_states_per_insn;
};

/*
 * Verify n instructions.  Returns 0 when the program is proven safe, or a
 * negative errno (-EINVAL, -EACCES, -E2BIG, -ENOTSUP for what bee does not
 * model yet, -ENOMEM) with res->msg and the log saying why.  res may be NULL.
 */
int bee_verify(const struct bpf_insn *insns, size_t n, const struct bee_verify_opts *opts,
	       struct bee_verify_result *res);

#endif
