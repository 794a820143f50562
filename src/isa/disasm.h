/*
 * disasm.h - what the assembler and disassembler share, and the hook that
 * lets a higher layer print lddw pseudo operands its own way.
 *
 * The C-like syntax's operator spellings are the kernel's
 * (kernel/bpf/disasm.c: bpf_alu_string, bpf_jmp_string, bpf_ldst_string),
 * kept here once so that what the disassembler prints is exactly what the
 * assembler reads.
 */
#ifndef BEE_ISA_DISASM_H
#define BEE_ISA_DISASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "bee/insn.h"
#include "isa.h"

/*
 * Print the operand of an lddw with a pseudo source (src_reg != 0) into
 * buf, e.g. "map[id:7]" where the default would be "map[fd:3]".  Return
 * true when buf was written, false to fall back to the default text.  The
 * C syntax still appends " ll".
 */
typedef bool (*bee_disasm_lddw_fn)(void *cookie, const struct bee_dinsn *d, size_t pc,
				   char *buf, size_t len);

struct bee_disasm_hooks {
	bee_disasm_lddw_fn lddw_operand; /* NULL: default text */
	void *cookie;                    /* passed to the hooks */
};

/* bee_disasm_insn with hooks (NULL hooks: the default output). */
int bee_disasm_insn_hooked(const struct bpf_insn *insns, size_t n, size_t pc,
			   enum bee_syntax syntax, const struct bee_disasm_hooks *hooks,
			   char *buf, size_t len, struct bee_error *err);

/* bee_disasm with hooks (NULL hooks: the default output). */
int bee_disasm_hooked(const struct bpf_insn *insns, size_t n, enum bee_syntax syntax,
		      unsigned flags, const struct bee_disasm_hooks *hooks, FILE *out,
		      struct bee_error *err);

/* C-syntax ALU operators by BPF_OP(code) >> 4: "+=", ..., "=" for mov,
 * "s>>=" for arsh; NULL for neg and end, which print differently. */
extern const char *const bee_c_alu_op[16];
/* The signed variants (off = 1): "s/=" for div, "s%=" for mod, else NULL. */
extern const char *const bee_c_alu_sop[16];
/* C-syntax jump conditions by BPF_OP(code) >> 4: "==", "s>", "&"...;
 * NULL for ja, call and exit. */
extern const char *const bee_c_jmp_op[16];

/* "u8", "u16", "u32", "u64" (sign_extend: "s8", "s16", "s32") for a size
 * field BPF_B..BPF_DW. */
const char *bee_c_size_name(unsigned size_field, bool sign_extend);

#endif
