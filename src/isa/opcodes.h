/*
 * opcodes.h - the instruction set of eBPF, described once.
 *
 * Every instruction bee knows is one row of BEE_INSN_TABLE.  A row is
 *
 *     X(KIND, opcode byte, match, match value, shape, mnemonic)
 *
 * KIND     the name of the decoded instruction (enum bee_op gets BEE_OP_KIND)
 * opcode   the 8-bit opcode field (class | op | source, or class | mode | size)
 * match    which other field tells instructions that share an opcode apart:
 *          BEE_MATCH_NONE, BEE_MATCH_OFF (sdiv, smod, movsx), BEE_MATCH_IMM
 *          (byte swaps, atomics) or BEE_MATCH_SRC (lddw pseudo forms, calls)
 * value    the value that field must hold
 * shape    which operands the instruction has and which fields must be zero
 *          (enum bee_shape); the assembler, disassembler and decoder read it
 * mnemonic the name in the mnemonic ("%r0"-style) assembly syntax
 *
 * From this one table come the decoder's lookup, the interpreter's dispatch
 * table, the assembler's mnemonic table and the disassembler's names.
 * Semantics follow RFC 9669 ("BPF Instruction Set Architecture") and the
 * kernel's later additions (load-acquire, store-release).
 */
#ifndef BEE_ISA_OPCODES_H
#define BEE_ISA_OPCODES_H

#include "bpf_ext.h"

enum bee_match {
	BEE_MATCH_NONE,
	BEE_MATCH_OFF,
	BEE_MATCH_IMM,
	BEE_MATCH_SRC,
};

/*
 * Operand shapes.  Fields a shape does not list must be zero (RFC 9669
 * calls them reserved), except the one the row's match names.
 */
enum bee_shape {
	BEE_SH_ALU_IMM,     /* dst op= imm                      (src=0) */
	BEE_SH_ALU_REG,     /* dst op= src                      (imm=0) */
	BEE_SH_NEG,         /* dst = -dst                       (src=off=imm=0) */
	BEE_SH_END,         /* dst = bswap/le/be<imm> dst       (src=off=0) */
	BEE_SH_MOVSX,       /* dst = (sN)src                    (imm=0) */
	BEE_SH_LDX,         /* dst = *(size *)(src + off)       (imm=0) */
	BEE_SH_ST,          /* *(size *)(dst + off) = imm       (src=0) */
	BEE_SH_STX,         /* *(size *)(dst + off) = src       (imm=0) */
	BEE_SH_ATOMIC,      /* atomic op on *(dst + off) with src */
	BEE_SH_LOAD_ACQ,    /* dst = load_acquire(src + off) */
	BEE_SH_STORE_REL,   /* store_release(dst + off, src) */
	BEE_SH_LDDW,        /* dst = 64-bit imm, two slots      (off=0) */
	BEE_SH_LD_ABS,      /* r0 = ntoh(*(size *)(pkt + imm))  (dst=src=off=0) */
	BEE_SH_LD_IND,      /* r0 = ntoh(*(size *)(pkt + src + imm)) (dst=off=0) */
	BEE_SH_JA,          /* goto pc + off                    (dst=src=imm=0) */
	BEE_SH_JA32,        /* gotol pc + imm                   (dst=src=off=0) */
	BEE_SH_JCC_IMM,     /* if dst cc imm goto pc + off      (src=0) */
	BEE_SH_JCC_REG,     /* if dst cc src goto pc + off      (imm=0) */
	BEE_SH_CALL_HELPER, /* call helper imm                  (dst=off=0) */
	BEE_SH_CALL_LOCAL,  /* call pc + imm + 1                (dst=off=0) */
	BEE_SH_CALL_KFUNC,  /* call kfunc btf id imm, module off (dst=0) */
	BEE_SH_EXIT,        /* return r0                        (all zero) */
	BEE_SH__COUNT
};

/* The four forms of a two-operand ALU operation. */
#define BEE__ALU(X, N, OP, OFF, M)                                              \
	X(N##64_IMM, BPF_ALU64 | OP | BPF_K, BEE_MATCH_OFF, OFF, BEE_SH_ALU_IMM, M)      \
	X(N##64_REG, BPF_ALU64 | OP | BPF_X, BEE_MATCH_OFF, OFF, BEE_SH_ALU_REG, M)      \
	X(N##32_IMM, BPF_ALU | OP | BPF_K, BEE_MATCH_OFF, OFF, BEE_SH_ALU_IMM, M "32")   \
	X(N##32_REG, BPF_ALU | OP | BPF_X, BEE_MATCH_OFF, OFF, BEE_SH_ALU_REG, M "32")

/* The four forms of a conditional jump. */
#define BEE__JCC(X, N, OP, M)                                                   \
	X(N##_IMM, BPF_JMP | OP | BPF_K, BEE_MATCH_NONE, 0, BEE_SH_JCC_IMM, M)           \
	X(N##_REG, BPF_JMP | OP | BPF_X, BEE_MATCH_NONE, 0, BEE_SH_JCC_REG, M)           \
	X(N##32_IMM, BPF_JMP32 | OP | BPF_K, BEE_MATCH_NONE, 0, BEE_SH_JCC_IMM, M "32")  \
	X(N##32_REG, BPF_JMP32 | OP | BPF_X, BEE_MATCH_NONE, 0, BEE_SH_JCC_REG, M "32")

/* Atomic read-modify-write on one size (W or DW). */
#define BEE__ATOMICS(X, SZ, S, M)                                                          \
	X(ATOMIC##S##_ADD, BPF_STX | BPF_ATOMIC | SZ, BEE_MATCH_IMM, BPF_ADD, BEE_SH_ATOMIC, "add" M)   \
	X(ATOMIC##S##_OR, BPF_STX | BPF_ATOMIC | SZ, BEE_MATCH_IMM, BPF_OR, BEE_SH_ATOMIC, "or" M)      \
	X(ATOMIC##S##_AND, BPF_STX | BPF_ATOMIC | SZ, BEE_MATCH_IMM, BPF_AND, BEE_SH_ATOMIC, "and" M)   \
	X(ATOMIC##S##_XOR, BPF_STX | BPF_ATOMIC | SZ, BEE_MATCH_IMM, BPF_XOR, BEE_SH_ATOMIC, "xor" M)   \
	X(ATOMIC##S##_FETCH_ADD, BPF_STX | BPF_ATOMIC | SZ, BEE_MATCH_IMM, BPF_ADD | BPF_FETCH,           \
	  BEE_SH_ATOMIC, "fetch add" M)                                                                 \
	X(ATOMIC##S##_FETCH_OR, BPF_STX | BPF_ATOMIC | SZ, BEE_MATCH_IMM, BPF_OR | BPF_FETCH,             \
	  BEE_SH_ATOMIC, "fetch or" M)                                                                  \
	X(ATOMIC##S##_FETCH_AND, BPF_STX | BPF_ATOMIC | SZ, BEE_MATCH_IMM, BPF_AND | BPF_FETCH,           \
	  BEE_SH_ATOMIC, "fetch and" M)                                                                 \
	X(ATOMIC##S##_FETCH_XOR, BPF_STX | BPF_ATOMIC | SZ, BEE_MATCH_IMM, BPF_XOR | BPF_FETCH,           \
	  BEE_SH_ATOMIC, "fetch xor" M)                                                                 \
	X(ATOMIC##S##_XCHG, BPF_STX | BPF_ATOMIC | SZ, BEE_MATCH_IMM, BPF_XCHG, BEE_SH_ATOMIC, "xchg" M)  \
	X(ATOMIC##S##_CMPXCHG, BPF_STX | BPF_ATOMIC | SZ, BEE_MATCH_IMM, BPF_CMPXCHG, BEE_SH_ATOMIC,      \
	  "cmpxchg" M)

#define BEE_INSN_TABLE(X)                                                                      \
	/* ALU and ALU64 (RFC 9669 section 4.1) */                                             \
	BEE__ALU(X, ADD, BPF_ADD, 0, "add")                                                    \
	BEE__ALU(X, SUB, BPF_SUB, 0, "sub")                                                    \
	BEE__ALU(X, MUL, BPF_MUL, 0, "mul")                                                    \
	BEE__ALU(X, DIV, BPF_DIV, 0, "div")                                                    \
	BEE__ALU(X, SDIV, BPF_DIV, 1, "sdiv")                                                  \
	BEE__ALU(X, OR, BPF_OR, 0, "or")                                                       \
	BEE__ALU(X, AND, BPF_AND, 0, "and")                                                    \
	BEE__ALU(X, LSH, BPF_LSH, 0, "lsh")                                                    \
	BEE__ALU(X, RSH, BPF_RSH, 0, "rsh")                                                    \
	BEE__ALU(X, MOD, BPF_MOD, 0, "mod")                                                    \
	BEE__ALU(X, SMOD, BPF_MOD, 1, "smod")                                                  \
	BEE__ALU(X, XOR, BPF_XOR, 0, "xor")                                                    \
	BEE__ALU(X, MOV, BPF_MOV, 0, "mov")                                                    \
	BEE__ALU(X, ARSH, BPF_ARSH, 0, "arsh")                                                 \
	X(NEG64, BPF_ALU64 | BPF_NEG, BEE_MATCH_NONE, 0, BEE_SH_NEG, "neg")                    \
	X(NEG32, BPF_ALU | BPF_NEG, BEE_MATCH_NONE, 0, BEE_SH_NEG, "neg32")                    \
	/* sign-extending moves (section 4.1.1): off is the source width */                   \
	X(MOVSX64_8, BPF_ALU64 | BPF_MOV | BPF_X, BEE_MATCH_OFF, 8, BEE_SH_MOVSX, "movsx8")    \
	X(MOVSX64_16, BPF_ALU64 | BPF_MOV | BPF_X, BEE_MATCH_OFF, 16, BEE_SH_MOVSX, "movsx16") \
	X(MOVSX64_32, BPF_ALU64 | BPF_MOV | BPF_X, BEE_MATCH_OFF, 32, BEE_SH_MOVSX, "movsx32") \
	X(MOVSX32_8, BPF_ALU | BPF_MOV | BPF_X, BEE_MATCH_OFF, 8, BEE_SH_MOVSX, "movsx832")    \
	X(MOVSX32_16, BPF_ALU | BPF_MOV | BPF_X, BEE_MATCH_OFF, 16, BEE_SH_MOVSX, "movsx1632") \
	/* byte swaps (section 4.2): imm is the width */                                      \
	X(LE16, BPF_ALU | BPF_END | BPF_TO_LE, BEE_MATCH_IMM, 16, BEE_SH_END, "le16")          \
	X(LE32, BPF_ALU | BPF_END | BPF_TO_LE, BEE_MATCH_IMM, 32, BEE_SH_END, "le32")          \
	X(LE64, BPF_ALU | BPF_END | BPF_TO_LE, BEE_MATCH_IMM, 64, BEE_SH_END, "le64")          \
	X(BE16, BPF_ALU | BPF_END | BPF_TO_BE, BEE_MATCH_IMM, 16, BEE_SH_END, "be16")          \
	X(BE32, BPF_ALU | BPF_END | BPF_TO_BE, BEE_MATCH_IMM, 32, BEE_SH_END, "be32")          \
	X(BE64, BPF_ALU | BPF_END | BPF_TO_BE, BEE_MATCH_IMM, 64, BEE_SH_END, "be64")          \
	X(BSWAP16, BPF_ALU64 | BPF_END | BPF_TO_LE, BEE_MATCH_IMM, 16, BEE_SH_END, "bswap16")  \
	X(BSWAP32, BPF_ALU64 | BPF_END | BPF_TO_LE, BEE_MATCH_IMM, 32, BEE_SH_END, "bswap32")  \
	X(BSWAP64, BPF_ALU64 | BPF_END | BPF_TO_LE, BEE_MATCH_IMM, 64, BEE_SH_END, "bswap64")  \
	/* loads and stores (section 5) */                                                    \
	X(LDXB, BPF_LDX | BPF_MEM | BPF_B, BEE_MATCH_NONE, 0, BEE_SH_LDX, "ldxb")              \
	X(LDXH, BPF_LDX | BPF_MEM | BPF_H, BEE_MATCH_NONE, 0, BEE_SH_LDX, "ldxh")              \
	X(LDXW, BPF_LDX | BPF_MEM | BPF_W, BEE_MATCH_NONE, 0, BEE_SH_LDX, "ldxw")              \
	X(LDXDW, BPF_LDX | BPF_MEM | BPF_DW, BEE_MATCH_NONE, 0, BEE_SH_LDX, "ldxdw")           \
	X(LDXSB, BPF_LDX | BPF_MEMSX | BPF_B, BEE_MATCH_NONE, 0, BEE_SH_LDX, "ldxsb")          \
	X(LDXSH, BPF_LDX | BPF_MEMSX | BPF_H, BEE_MATCH_NONE, 0, BEE_SH_LDX, "ldxsh")          \
	X(LDXSW, BPF_LDX | BPF_MEMSX | BPF_W, BEE_MATCH_NONE, 0, BEE_SH_LDX, "ldxsw")          \
	X(STB, BPF_ST | BPF_MEM | BPF_B, BEE_MATCH_NONE, 0, BEE_SH_ST, "stb")                  \
	X(STH, BPF_ST | BPF_MEM | BPF_H, BEE_MATCH_NONE, 0, BEE_SH_ST, "sth")                  \
	X(STW, BPF_ST | BPF_MEM | BPF_W, BEE_MATCH_NONE, 0, BEE_SH_ST, "stw")                  \
	X(STDW, BPF_ST | BPF_MEM | BPF_DW, BEE_MATCH_NONE, 0, BEE_SH_ST, "stdw")               \
	X(STXB, BPF_STX | BPF_MEM | BPF_B, BEE_MATCH_NONE, 0, BEE_SH_STX, "stxb")              \
	X(STXH, BPF_STX | BPF_MEM | BPF_H, BEE_MATCH_NONE, 0, BEE_SH_STX, "stxh")              \
	X(STXW, BPF_STX | BPF_MEM | BPF_W, BEE_MATCH_NONE, 0, BEE_SH_STX, "stxw")              \
	X(STXDW, BPF_STX | BPF_MEM | BPF_DW, BEE_MATCH_NONE, 0, BEE_SH_STX, "stxdw")           \
	/* atomics (section 5.3) */                                                           \
	BEE__ATOMICS(X, BPF_W, 32, "32")                                                       \
	BEE__ATOMICS(X, BPF_DW, 64, "")                                                        \
	/* load-acquire and store-release (Linux 6.15) */                                     \
	X(LOAD_ACQ_B, BPF_STX | BPF_ATOMIC | BPF_B, BEE_MATCH_IMM, BPF_LOAD_ACQ, BEE_SH_LOAD_ACQ, "ldacqb")   \
	X(LOAD_ACQ_H, BPF_STX | BPF_ATOMIC | BPF_H, BEE_MATCH_IMM, BPF_LOAD_ACQ, BEE_SH_LOAD_ACQ, "ldacqh")   \
	X(LOAD_ACQ_W, BPF_STX | BPF_ATOMIC | BPF_W, BEE_MATCH_IMM, BPF_LOAD_ACQ, BEE_SH_LOAD_ACQ, "ldacqw")   \
	X(LOAD_ACQ_DW, BPF_STX | BPF_ATOMIC | BPF_DW, BEE_MATCH_IMM, BPF_LOAD_ACQ, BEE_SH_LOAD_ACQ, "ldacqdw") \
	X(STORE_REL_B, BPF_STX | BPF_ATOMIC | BPF_B, BEE_MATCH_IMM, BPF_STORE_REL, BEE_SH_STORE_REL, "strelb")   \
	X(STORE_REL_H, BPF_STX | BPF_ATOMIC | BPF_H, BEE_MATCH_IMM, BPF_STORE_REL, BEE_SH_STORE_REL, "strelh")   \
	X(STORE_REL_W, BPF_STX | BPF_ATOMIC | BPF_W, BEE_MATCH_IMM, BPF_STORE_REL, BEE_SH_STORE_REL, "strelw")   \
	X(STORE_REL_DW, BPF_STX | BPF_ATOMIC | BPF_DW, BEE_MATCH_IMM, BPF_STORE_REL, BEE_SH_STORE_REL, "streldw") \
	/* 64-bit immediate loads and their pseudo sources (section 5.4) */                   \
	X(LDDW, BPF_LD | BPF_IMM | BPF_DW, BEE_MATCH_SRC, 0, BEE_SH_LDDW, "lddw")                               \
	X(LDDW_MAP_FD, BPF_LD | BPF_IMM | BPF_DW, BEE_MATCH_SRC, BPF_PSEUDO_MAP_FD, BEE_SH_LDDW, "lddw")        \
	X(LDDW_MAP_VALUE, BPF_LD | BPF_IMM | BPF_DW, BEE_MATCH_SRC, BPF_PSEUDO_MAP_VALUE, BEE_SH_LDDW, "lddw")  \
	X(LDDW_BTF_ID, BPF_LD | BPF_IMM | BPF_DW, BEE_MATCH_SRC, BPF_PSEUDO_BTF_ID, BEE_SH_LDDW, "lddw")        \
	X(LDDW_FUNC, BPF_LD | BPF_IMM | BPF_DW, BEE_MATCH_SRC, BPF_PSEUDO_FUNC, BEE_SH_LDDW, "lddw")            \
	X(LDDW_MAP_IDX, BPF_LD | BPF_IMM | BPF_DW, BEE_MATCH_SRC, BPF_PSEUDO_MAP_IDX, BEE_SH_LDDW, "lddw")      \
	X(LDDW_MAP_IDX_VALUE, BPF_LD | BPF_IMM | BPF_DW, BEE_MATCH_SRC, BPF_PSEUDO_MAP_IDX_VALUE, BEE_SH_LDDW,  \
	  "lddw")                                                                                               \
	/* legacy packet access (section 5.5) */                                              \
	X(LD_ABS_B, BPF_LD | BPF_ABS | BPF_B, BEE_MATCH_NONE, 0, BEE_SH_LD_ABS, "ldabsb")      \
	X(LD_ABS_H, BPF_LD | BPF_ABS | BPF_H, BEE_MATCH_NONE, 0, BEE_SH_LD_ABS, "ldabsh")      \
	X(LD_ABS_W, BPF_LD | BPF_ABS | BPF_W, BEE_MATCH_NONE, 0, BEE_SH_LD_ABS, "ldabsw")      \
	X(LD_IND_B, BPF_LD | BPF_IND | BPF_B, BEE_MATCH_NONE, 0, BEE_SH_LD_IND, "ldindb")      \
	X(LD_IND_H, BPF_LD | BPF_IND | BPF_H, BEE_MATCH_NONE, 0, BEE_SH_LD_IND, "ldindh")      \
	X(LD_IND_W, BPF_LD | BPF_IND | BPF_W, BEE_MATCH_NONE, 0, BEE_SH_LD_IND, "ldindw")      \
	/* jumps (section 4.3) */                                                             \
	X(JA, BPF_JMP | BPF_JA, BEE_MATCH_NONE, 0, BEE_SH_JA, "ja")                            \
	X(JA32, BPF_JMP32 | BPF_JA, BEE_MATCH_NONE, 0, BEE_SH_JA32, "ja32")                    \
	BEE__JCC(X, JEQ, BPF_JEQ, "jeq")                                                       \
	BEE__JCC(X, JGT, BPF_JGT, "jgt")                                                       \
	BEE__JCC(X, JGE, BPF_JGE, "jge")                                                       \
	BEE__JCC(X, JSET, BPF_JSET, "jset")                                                    \
	BEE__JCC(X, JNE, BPF_JNE, "jne")                                                       \
	BEE__JCC(X, JSGT, BPF_JSGT, "jsgt")                                                    \
	BEE__JCC(X, JSGE, BPF_JSGE, "jsge")                                                    \
	BEE__JCC(X, JLT, BPF_JLT, "jlt")                                                       \
	BEE__JCC(X, JLE, BPF_JLE, "jle")                                                       \
	BEE__JCC(X, JSLT, BPF_JSLT, "jslt")                                                    \
	BEE__JCC(X, JSLE, BPF_JSLE, "jsle")                                                    \
	X(CALL_HELPER, BPF_JMP | BPF_CALL, BEE_MATCH_SRC, 0, BEE_SH_CALL_HELPER, "call")       \
	X(CALL_LOCAL, BPF_JMP | BPF_CALL, BEE_MATCH_SRC, BPF_PSEUDO_CALL, BEE_SH_CALL_LOCAL, "call")           \
	X(CALL_KFUNC, BPF_JMP | BPF_CALL, BEE_MATCH_SRC, BPF_PSEUDO_KFUNC_CALL, BEE_SH_CALL_KFUNC, "call")     \
	X(EXIT, BPF_JMP | BPF_EXIT, BEE_MATCH_NONE, 0, BEE_SH_EXIT, "exit")

#endif
