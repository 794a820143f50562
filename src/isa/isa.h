/*
 * isa.h - decoded instructions, shared by every consumer of the ISA
 * (interpreter, JIT, verifier, assembler, disassembler).
 *
 * An instruction is decoded once into a struct bee_dinsn whose op names
 * exactly one row of BEE_INSN_TABLE (opcodes.h).  Consumers switch over
 * enum bee_op without a default case, so -Wswitch-enum turns a missing
 * instruction into a build error.
 */
#ifndef BEE_ISA_ISA_H
#define BEE_ISA_ISA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bee/error.h"
#include "opcodes.h"

enum bee_op {
#define BEE_X(K, ...) BEE_OP_##K,
	BEE_INSN_TABLE(BEE_X)
#undef BEE_X
	BEE_OP__COUNT
};

_Static_assert(BEE_OP__COUNT <= 256, "enum bee_op must fit in a byte");

/* One row of the table, as data. */
struct bee_op_info {
	uint8_t code;        /* opcode byte */
	uint8_t match;       /* enum bee_match */
	uint8_t shape;       /* enum bee_shape */
	int32_t match_value; /* value of the matched field */
	const char *name;    /* "ADD64_IMM": the row's KIND */
	const char *mnemonic;/* mnemonic-syntax name: "add", "ldxw", "fetch add32" */
};

extern const struct bee_op_info bee_op_info[BEE_OP__COUNT];

/* A decoded instruction. */
struct bee_dinsn {
	uint8_t op;     /* enum bee_op */
	uint8_t dst;    /* 0..10 */
	uint8_t src;    /* 0..10 for register operands; the pseudo kind for lddw/call */
	uint8_t slots;  /* 2 for lddw, else 1 */
	int16_t off;
	int32_t imm;
	uint64_t imm64; /* lddw: imm | (next slot's imm << 32); else (int64_t)imm */
};

/*
 * Decode the instruction at insns[pc] (n instructions in all).  Returns the
 * number of slots it takes (1 or 2), or -EINVAL with err saying why: an
 * unknown opcode, a reserved field that is not zero, a register out of
 * range, a truncated lddw.
 */
int bee_decode(const struct bpf_insn *insns, size_t n, size_t pc, struct bee_dinsn *out,
	       struct bee_error *err);

/*
 * Check a whole program's syntax: every instruction decodes, no write to
 * r10, every jump and local call lands on an instruction (not the second
 * slot of an lddw) inside the program, and the last instruction is an exit
 * or an unconditional jump.  When out is not NULL it receives n decoded
 * instructions (the second slot of an lddw is left with slots = 0).
 * Returns 0 or a negative errno with err naming the instruction.
 */
int bee_check_program(const struct bpf_insn *insns, size_t n, struct bee_dinsn *out,
		      struct bee_error *err);

/* Memory access width in bytes of a load, store or atomic op; 0 otherwise. */
unsigned bee_op_access_size(enum bee_op op);

/* True for ALU operations on 32-bit subregisters and JMP32 comparisons. */
bool bee_op_is_32bit(enum bee_op op);

/* True when the instruction writes its dst register. */
bool bee_op_writes_dst(enum bee_op op);

/* True for conditional and unconditional jumps (not calls or exit). */
bool bee_op_is_jump(enum bee_op op);

/* Jump target of a jump or local call at pc (pc + 1 + off, or + imm). */
long bee_jump_target(const struct bee_dinsn *d, size_t pc);

/*
 * Mark in is_target (n + 1 entries, zeroed by the caller) every
 * instruction a jump or a local call of the decoded program d lands on.
 * d is what bee_check_program produced, so every target is in range.
 */
void bee_mark_jump_targets(const struct bee_dinsn *d, size_t n, unsigned char *is_target);

/* Name of kernel helper id (as in <linux/bpf.h>, "bpf_map_lookup_elem"), or NULL. */
const char *bee_helper_name(int32_t id);

/* Id of a helper by name, with or without the "bpf_" prefix, or -1. */
int32_t bee_helper_id(const char *name);

#endif
