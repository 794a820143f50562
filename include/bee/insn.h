/*
 * bee/insn.h - eBPF instructions as text: the assembler and disassembler.
 *
 * Two syntaxes are understood on input, line by line, and may be mixed:
 *
 *  - the C-like syntax bpftool ("prog dump xlated") and llvm-objdump print:
 *      r0 = 1; w1 += w2; r1 = *(u32 *)(r2 +8); *(u64 *)(r10 -8) = r1;
 *      if r1 s> 0x5 goto pc+3; lock *(u64 *)(r1 +0) += r2;
 *      r0 = 0x1122334455667788 ll; call bpf_map_lookup_elem#1; exit
 *  - the mnemonic syntax of many runtimes and courses:
 *      mov32 %r0, 0; add %r1, 2; ldxw %r0, [%r1+4]; stxdw [%r10-8], %r1;
 *      jeq %r1, 0x5, +3; lddw %r0, 0x1122334455667788; call 1; exit
 *
 * Labels ("name:") may stand for jump and call targets in both; comments
 * start with ';', '#' or '//' (';' only where it is not part of the text).
 * The disassembler prints either syntax; its output reassembles to the
 * same bytes.
 */
#ifndef BEE_INSN_H
#define BEE_INSN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/bpf.h>

#include "bee/error.h"

#ifdef __cplusplus
extern "C" {
#endif

enum bee_syntax {
	BEE_SYNTAX_C,        /* bpftool / llvm-objdump style (the default) */
	BEE_SYNTAX_MNEMONIC, /* "mov32 %r0, 0" style */
};

/*
 * Assemble text (NUL-terminated) into instructions.  On success *out is a
 * malloc'd array of *n instructions (free it with free()) and 0 is
 * returned.  On failure returns a negative errno, *out is NULL and err has
 * the line, the column and the reason.
 */
int bee_asm(const char *text, struct bpf_insn **out, size_t *n, struct bee_error *err);

/* Flags for bee_disasm. */
enum {
	BEE_DISASM_INDEX = 1 << 0,   /* prefix "   0: " */
	BEE_DISASM_OPCODE = 1 << 1,  /* prefix "(b7) " as bpftool does */
	BEE_DISASM_BYTES = 1 << 2,   /* prefix the raw 8 bytes, as llvm-objdump does */
	BEE_DISASM_LABELS = 1 << 3,  /* jump targets as labels ("goto L3") and label lines */
};

/*
 * Disassemble the instruction at insns[pc] into buf (no newline, no
 * prefix).  Returns the number of slots consumed (1 or 2), or a negative
 * errno for bytes that do not decode (buf then says why, as "invalid ..."),
 * with err set when given.
 */
int bee_disasm_insn(const struct bpf_insn *insns, size_t n, size_t pc, enum bee_syntax syntax,
		    char *buf, size_t len, struct bee_error *err);

/*
 * Disassemble a whole program to out, one instruction per line.  Returns 0,
 * or a negative errno at the first instruction that does not decode (err
 * says which and why; the lines before it are printed).
 */
int bee_disasm(const struct bpf_insn *insns, size_t n, enum bee_syntax syntax, unsigned flags,
	       FILE *out, struct bee_error *err);

/*
 * Read raw bytecode (8-byte little-endian instructions).  A length that is
 * not a multiple of 8 is an error.  *out is malloc'd.
 */
int bee_insns_from_bytes(const void *bytes, size_t len, struct bpf_insn **out, size_t *n,
			 struct bee_error *err);

/*
 * Read bytecode written as hex text: whitespace, commas and "0x" prefixes
 * are ignored, so both "b7 00 00 00 01 00 00 00" and a bare hex string
 * work.  An odd number of digits, a stray character or a length that is
 * not a multiple of 8 bytes is an error that names the offending column.
 */
int bee_insns_from_hex(const char *text, struct bpf_insn **out, size_t *n,
		       struct bee_error *err);

/* Parse hex text into bytes (same rules, any length).  *out is malloc'd. */
int bee_bytes_from_hex(const char *text, uint8_t **out, size_t *len, struct bee_error *err);

#ifdef __cplusplus
}
#endif
#endif
