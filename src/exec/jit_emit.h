/*
 * jit_emit.h - an x86-64 instruction encoder for the JIT (jit_x86_64.c).
 *
 * Theory: every function here appends one machine instruction to a
 * struct jit_buf and says which one in a comment.  A buffer without
 * memory (p == NULL) only counts bytes: the JIT runs its whole emitter
 * that way to measure code before it allocates any (see "A JIT that
 * sizes, then emits" in DESIGN.md), so the measuring passes and the final
 * one go through exactly the same code and cannot disagree on a size.
 *
 * Encoding reminders (Intel SDM vol. 2, chapter 2):
 *  - REX = 0100WRXB: W selects 64-bit operands, R extends ModRM.reg,
 *    X extends SIB.index, B extends ModRM.rm or SIB.base.  A REX prefix
 *    with no bit set still matters for byte registers: without it,
 *    encodings 4-7 mean ah/ch/dh/bh, with it spl/bpl/sil/dil.
 *  - ModRM = mod(2) reg(3) rm(3); mod 3 is register-direct.  With a
 *    memory operand, rm 100 (rsp, r12) needs a SIB byte, and mod 0 with
 *    rm 101 (rbp, r13) means RIP-relative, so those bases take a disp8 0.
 *  - Prefix order: lock (F0) / operand size (66), then REX, then opcode.
 */
#ifndef BEE_EXEC_JIT_EMIT_H
#define BEE_EXEC_JIT_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct jit_buf {
	uint8_t *p; /* NULL while measuring */
	size_t pos;
};

enum x86_reg {
	X86_RAX = 0, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI,
	X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
};

/* Condition codes (the low nibble of Jcc / SETcc opcodes). */
enum x86_cc {
	X86_CC_O = 0x0, X86_CC_NO = 0x1, X86_CC_B = 0x2, X86_CC_AE = 0x3,
	X86_CC_E = 0x4, X86_CC_NE = 0x5, X86_CC_BE = 0x6, X86_CC_A = 0x7,
	X86_CC_S = 0x8, X86_CC_NS = 0x9, X86_CC_L = 0xc, X86_CC_GE = 0xd,
	X86_CC_LE = 0xe, X86_CC_G = 0xf,
};

/* Operand flags of the generic encoders. */
enum {
	X86_W = 1u << 0,    /* REX.W: 64-bit operand size */
	X86_B8 = 1u << 1,   /* a byte register operand: force REX for spl/bpl/sil/dil */
	X86_O16 = 1u << 2,  /* 66 prefix: 16-bit operand size */
	X86_LOCK = 1u << 3, /* F0 prefix */
};

/* Two-operand ALU opcodes, "op r/m, r" form; the "op r, r/m" form is +2. */
enum x86_alu {
	X86_ADD = 0x01, X86_OR = 0x09, X86_AND = 0x21, X86_SUB = 0x29,
	X86_XOR = 0x31, X86_CMP = 0x39, X86_TEST = 0x85, X86_MOV = 0x89,
};

/* ModRM.reg extensions of the immediate group 1 (80/81/83) and of shifts (C1/D3). */
enum x86_ext {
	X86_EXT_ADD = 0, X86_EXT_OR = 1, X86_EXT_AND = 4, X86_EXT_SUB = 5,
	X86_EXT_XOR = 6, X86_EXT_CMP = 7,
	X86_EXT_ROL = 0, X86_EXT_SHL = 4, X86_EXT_SHR = 5, X86_EXT_SAR = 7,
};

static inline bool x86_fits8(int64_t v)
{
	return v >= -128 && v <= 127;
}

static inline bool x86_fits32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

/* ---- raw bytes ---- */

static inline void emit_u8(struct jit_buf *b, uint8_t v)
{
	if (b->p)
		b->p[b->pos] = v;
	b->pos++;
}

static inline void emit_u16(struct jit_buf *b, uint16_t v)
{
	if (b->p)
		memcpy(b->p + b->pos, &v, 2);
	b->pos += 2;
}

static inline void emit_u32(struct jit_buf *b, uint32_t v)
{
	if (b->p)
		memcpy(b->p + b->pos, &v, 4);
	b->pos += 4;
}

static inline void emit_u64(struct jit_buf *b, uint64_t v)
{
	if (b->p)
		memcpy(b->p + b->pos, &v, 8);
	b->pos += 8;
}

/* Overwrite the rel8 at at so that it reaches the current position. */
static inline bool emit_patch_rel8(struct jit_buf *b, size_t at)
{
	int64_t d = (int64_t)b->pos - (int64_t)(at + 1);
	if (!x86_fits8(d))
		return false;
	if (b->p)
		b->p[at] = (uint8_t)(int8_t)d;
	return true;
}

/* Overwrite the rel32 at at so that it reaches the current position. */
static inline void emit_patch_rel32(struct jit_buf *b, size_t at)
{
	int32_t d = (int32_t)((int64_t)b->pos - (int64_t)(at + 4));
	if (b->p)
		memcpy(b->p + at, &d, 4);
}

/* ---- prefixes, REX, ModRM ---- */

static inline bool x86_is_b8_special(int r)
{
	return r >= 4 && r <= 7; /* spl, bpl, sil, dil need a REX prefix */
}

/* Legacy prefixes and REX for an instruction whose ModRM names reg and
 * rm (a register or a base); index is a SIB index or -1. */
static inline void emit_prefixes(struct jit_buf *b, unsigned flags, int reg, int index, int rm)
{
	if (flags & X86_LOCK)
		emit_u8(b, 0xf0);
	if (flags & X86_O16)
		emit_u8(b, 0x66);
	uint8_t rex = (uint8_t)(0x40 | ((flags & X86_W) ? 8 : 0) | ((reg & 8) ? 4 : 0) |
				(index >= 0 && (index & 8) ? 2 : 0) | ((rm & 8) ? 1 : 0));
	if (rex != 0x40 || ((flags & X86_B8) && (x86_is_b8_special(reg) || x86_is_b8_special(rm))))
		emit_u8(b, rex);
}

/* One- or two-byte opcode (0x0fXX is the two-byte form). */
static inline void emit_opcode(struct jit_buf *b, unsigned op)
{
	if (op > 0xff)
		emit_u8(b, (uint8_t)(op >> 8));
	emit_u8(b, (uint8_t)op);
}

static inline void emit_modrm(struct jit_buf *b, int mod, int reg, int rm)
{
	emit_u8(b, (uint8_t)((mod << 6) | ((reg & 7) << 3) | (rm & 7)));
}

/* ModRM (and SIB, displacement) for the memory operand [base + disp]. */
static inline void emit_modrm_mem(struct jit_buf *b, int reg, int base, int32_t disp)
{
	int mod = (disp == 0 && (base & 7) != X86_RBP) ? 0 : x86_fits8(disp) ? 1 : 2;
	emit_modrm(b, mod, reg, base);
	if ((base & 7) == X86_RSP)
		emit_u8(b, 0x24); /* SIB: no index, base = rsp/r12 */
	if (mod == 1)
		emit_u8(b, (uint8_t)(int8_t)disp);
	else if (mod == 2)
		emit_u32(b, (uint32_t)disp);
}

/* Generic "op reg, rm" with both operands registers. */
static inline void emit_op_rr(struct jit_buf *b, unsigned flags, unsigned op, int reg, int rm)
{
	emit_prefixes(b, flags, reg, -1, rm);
	emit_opcode(b, op);
	emit_modrm(b, 3, reg, rm);
}

/* Generic "op reg, [base + disp]". */
static inline void emit_op_rm(struct jit_buf *b, unsigned flags, unsigned op, int reg, int base,
			      int32_t disp)
{
	/* With X86_B8 a base in rsp..rdi also gets a REX: redundant, harmless. */
	emit_prefixes(b, flags, reg, -1, base);
	emit_opcode(b, op);
	emit_modrm_mem(b, reg, base, disp);
}

/* ---- moves ---- */

/* mov dst, src (64-bit with X86_W, else 32-bit, which zero-extends) */
static inline void emit_mov_rr(struct jit_buf *b, unsigned w, int dst, int src)
{
	emit_op_rr(b, w, X86_MOV, src, dst); /* 89 /r: mov r/m, r */
}

/* mov r32, imm32 (zero-extends to 64 bits) */
static inline void emit_mov_r32_imm(struct jit_buf *b, int dst, uint32_t imm)
{
	if (dst & 8)
		emit_u8(b, 0x41); /* REX.B */
	emit_u8(b, (uint8_t)(0xb8 + (dst & 7))); /* B8+r id */
	emit_u32(b, imm);
}

/* mov r64, simm32 (sign-extended): REX.W C7 /0 id */
static inline void emit_mov_r64_simm32(struct jit_buf *b, int dst, int32_t imm)
{
	emit_op_rr(b, X86_W, 0xc7, 0, dst);
	emit_u32(b, (uint32_t)imm);
}

/* movabs r64, imm64: REX.W B8+r io */
static inline void emit_mov_r64_imm64(struct jit_buf *b, int dst, uint64_t imm)
{
	emit_u8(b, (uint8_t)(0x48 | ((dst & 8) ? 1 : 0)));
	emit_u8(b, (uint8_t)(0xb8 + (dst & 7)));
	emit_u64(b, imm);
}

/* xor r32, r32: the shortest way to zero a register (clobbers flags) */
static inline void emit_zero(struct jit_buf *b, int dst)
{
	emit_op_rr(b, 0, X86_XOR, dst, dst); /* 31 /r */
}

/* The shortest load of a 64-bit constant (may clobber flags). */
static inline void emit_mov_imm64(struct jit_buf *b, int dst, uint64_t imm)
{
	if (imm == 0)
		emit_zero(b, dst);                             /* xor r32, r32 */
	else if (imm <= UINT32_MAX)
		emit_mov_r32_imm(b, dst, (uint32_t)imm);       /* mov r32, imm32 */
	else if (x86_fits32((int64_t)imm))
		emit_mov_r64_simm32(b, dst, (int32_t)imm);     /* mov r64, simm32 */
	else
		emit_mov_r64_imm64(b, dst, imm);               /* movabs r64, imm64 */
}

/* mov reg, [base + disp] (64-bit with X86_W, else 32-bit) */
static inline void emit_load_rm(struct jit_buf *b, unsigned w, int reg, int base, int32_t disp)
{
	emit_op_rm(b, w, 0x8b, reg, base, disp); /* 8B /r */
}

/* mov [base + disp], reg (64-bit with X86_W, else 32-bit) */
static inline void emit_store_mr(struct jit_buf *b, unsigned w, int base, int32_t disp, int reg)
{
	emit_op_rm(b, w, 0x89, reg, base, disp); /* 89 /r */
}

/* lea dst, [base + disp] */
static inline void emit_lea(struct jit_buf *b, int dst, int base, int32_t disp)
{
	emit_op_rm(b, X86_W, 0x8d, dst, base, disp); /* REX.W 8D /r */
}

/* Zero- or sign-extending load of 1, 2, 4 or 8 bytes into a 64-bit register. */
static inline void emit_load_ext(struct jit_buf *b, unsigned size, bool sign, int dst, int base,
				 int32_t disp)
{
	switch (size) {
	case 1:
		if (sign)
			emit_op_rm(b, X86_W, 0x0fbe, dst, base, disp); /* movsx r64, m8 */
		else
			emit_op_rm(b, 0, 0x0fb6, dst, base, disp);     /* movzx r32, m8 */
		break;
	case 2:
		if (sign)
			emit_op_rm(b, X86_W, 0x0fbf, dst, base, disp); /* movsx r64, m16 */
		else
			emit_op_rm(b, 0, 0x0fb7, dst, base, disp);     /* movzx r32, m16 */
		break;
	case 4:
		if (sign)
			emit_op_rm(b, X86_W, 0x63, dst, base, disp);   /* movsxd r64, m32 */
		else
			emit_op_rm(b, 0, 0x8b, dst, base, disp);       /* mov r32, m32 */
		break;
	default:
		emit_op_rm(b, X86_W, 0x8b, dst, base, disp);           /* mov r64, m64 */
		break;
	}
}

/* Store the low size bytes of src at [base + disp]. */
static inline void emit_store_sized(struct jit_buf *b, unsigned size, int base, int32_t disp, int src)
{
	switch (size) {
	case 1:
		emit_op_rm(b, X86_B8, 0x88, src, base, disp);  /* mov m8, r8 (88 /r) */
		break;
	case 2:
		emit_op_rm(b, X86_O16, 0x89, src, base, disp); /* mov m16, r16 */
		break;
	case 4:
		emit_op_rm(b, 0, 0x89, src, base, disp);       /* mov m32, r32 */
		break;
	default:
		emit_op_rm(b, X86_W, 0x89, src, base, disp);   /* mov m64, r64 */
		break;
	}
}

/* Store an immediate of size bytes at [base + disp] (8 bytes: sign-extended imm32). */
static inline void emit_store_imm(struct jit_buf *b, unsigned size, int base, int32_t disp,
				  int32_t imm)
{
	switch (size) {
	case 1:
		emit_op_rm(b, 0, 0xc6, 0, base, disp);         /* mov m8, imm8 (C6 /0 ib) */
		emit_u8(b, (uint8_t)imm);
		break;
	case 2:
		emit_op_rm(b, X86_O16, 0xc7, 0, base, disp);   /* mov m16, imm16 (66 C7 /0 iw) */
		emit_u16(b, (uint16_t)imm);
		break;
	case 4:
		emit_op_rm(b, 0, 0xc7, 0, base, disp);         /* mov m32, imm32 (C7 /0 id) */
		emit_u32(b, (uint32_t)imm);
		break;
	default:
		emit_op_rm(b, X86_W, 0xc7, 0, base, disp);     /* mov m64, simm32 (REX.W C7 /0 id) */
		emit_u32(b, (uint32_t)imm);
		break;
	}
}

/* movzx dst32, src8/src16 (size 1 or 2) */
static inline void emit_movzx_rr(struct jit_buf *b, unsigned size, int dst, int src)
{
	emit_op_rr(b, size == 1 ? X86_B8 : 0, size == 1 ? 0x0fb6 : 0x0fb7, dst, src);
}

/* movsx dst, src8/src16/src32: 64-bit result with X86_W, else 32-bit */
static inline void emit_movsx_rr(struct jit_buf *b, unsigned w, unsigned size, int dst, int src)
{
	if (size == 4)
		emit_op_rr(b, X86_W, 0x63, dst, src);                    /* movsxd r64, r/m32 */
	else
		emit_op_rr(b, w | (size == 1 ? X86_B8 : 0), size == 1 ? 0x0fbe : 0x0fbf, dst,
			   src);                                         /* movsx r, r/m8|16 */
}

/* ---- arithmetic ---- */

/* op dst, src for add/or/and/sub/xor/cmp/test/mov ("op r/m, r" forms) */
static inline void emit_alu_rr(struct jit_buf *b, unsigned w, enum x86_alu op, int dst, int src)
{
	emit_op_rr(b, w, op, src, dst);
}

/* op reg, [base + disp] for add/or/and/sub/xor/cmp ("op r, r/m" forms, opcode + 2) */
static inline void emit_alu_rm(struct jit_buf *b, unsigned w, enum x86_alu op, int reg, int base,
			       int32_t disp)
{
	emit_op_rm(b, w, (unsigned)op + 2, reg, base, disp);
}

/* op dst, imm (83 /ext ib when it fits in a byte, else 81 /ext id); the
 * 64-bit form sign-extends imm */
static inline void emit_alu_ri(struct jit_buf *b, unsigned w, enum x86_ext ext, int dst, int32_t imm)
{
	if (x86_fits8(imm)) {
		emit_op_rr(b, w, 0x83, ext, dst);
		emit_u8(b, (uint8_t)(int8_t)imm);
	} else {
		emit_op_rr(b, w, 0x81, ext, dst);
		emit_u32(b, (uint32_t)imm);
	}
}

/* op [base + disp], imm (83 /ext ib or 81 /ext id) */
static inline void emit_alu_mi(struct jit_buf *b, unsigned w, enum x86_ext ext, int base,
			       int32_t disp, int32_t imm)
{
	if (x86_fits8(imm)) {
		emit_op_rm(b, w, 0x83, ext, base, disp);
		emit_u8(b, (uint8_t)(int8_t)imm);
	} else {
		emit_op_rm(b, w, 0x81, ext, base, disp);
		emit_u32(b, (uint32_t)imm);
	}
}

/* test dst, imm (F7 /0 id; sign-extended in the 64-bit form) */
static inline void emit_test_ri(struct jit_buf *b, unsigned w, int dst, int32_t imm)
{
	emit_op_rr(b, w, 0xf7, 0, dst);
	emit_u32(b, (uint32_t)imm);
}

/* test r8, imm8 (F6 /0 ib) */
static inline void emit_test_r8i(struct jit_buf *b, int dst, uint8_t imm)
{
	emit_op_rr(b, X86_B8, 0xf6, 0, dst);
	emit_u8(b, imm);
}

/* imul dst, src (0F AF /r) */
static inline void emit_imul_rr(struct jit_buf *b, unsigned w, int dst, int src)
{
	emit_op_rr(b, w, 0x0faf, dst, src);
}

/* imul dst, src, imm (6B /r ib or 69 /r id) */
static inline void emit_imul_rri(struct jit_buf *b, unsigned w, int dst, int src, int32_t imm)
{
	if (x86_fits8(imm)) {
		emit_op_rr(b, w, 0x6b, dst, src);
		emit_u8(b, (uint8_t)(int8_t)imm);
	} else {
		emit_op_rr(b, w, 0x69, dst, src);
		emit_u32(b, (uint32_t)imm);
	}
}

/* neg dst (F7 /3) */
static inline void emit_neg(struct jit_buf *b, unsigned w, int dst)
{
	emit_op_rr(b, w, 0xf7, 3, dst);
}

/* div src / idiv src: rdx:rax (edx:eax) by src (F7 /6, F7 /7) */
static inline void emit_div(struct jit_buf *b, unsigned w, bool sign, int src)
{
	emit_op_rr(b, w, 0xf7, sign ? 7 : 6, src);
}

/* cqo (REX.W 99) / cdq (99): sign-extend rax into rdx */
static inline void emit_cqo(struct jit_buf *b, unsigned w)
{
	if (w & X86_W)
		emit_u8(b, 0x48);
	emit_u8(b, 0x99);
}

/* rol/shl/shr/sar dst, imm8 (C1 /ext ib) */
static inline void emit_shift_ri(struct jit_buf *b, unsigned w, enum x86_ext ext, int dst, uint8_t imm)
{
	emit_op_rr(b, w, 0xc1, ext, dst);
	emit_u8(b, imm);
}

/* shl/shr/sar dst, cl (D3 /ext) */
static inline void emit_shift_rcl(struct jit_buf *b, unsigned w, enum x86_ext ext, int dst)
{
	emit_op_rr(b, w, 0xd3, ext, dst);
}

/* bswap r32 / r64 (0F C8+r) */
static inline void emit_bswap(struct jit_buf *b, unsigned w, int dst)
{
	uint8_t rex = (uint8_t)(0x40 | ((w & X86_W) ? 8 : 0) | ((dst & 8) ? 1 : 0));
	if (rex != 0x40)
		emit_u8(b, rex);
	emit_u8(b, 0x0f);
	emit_u8(b, (uint8_t)(0xc8 + (dst & 7)));
}

/* ---- atomics ---- */

/* lock add/or/and/xor [base + disp], src */
static inline void emit_lock_alu_mr(struct jit_buf *b, unsigned w, enum x86_alu op, int base,
				    int32_t disp, int src)
{
	emit_op_rm(b, w | X86_LOCK, op, src, base, disp);
}

/* lock xadd [base + disp], src (F0 0F C1 /r) */
static inline void emit_lock_xadd(struct jit_buf *b, unsigned w, int base, int32_t disp, int src)
{
	emit_op_rm(b, w | X86_LOCK, 0x0fc1, src, base, disp);
}

/* xchg [base + disp], src (87 /r; locked implicitly) */
static inline void emit_xchg_mr(struct jit_buf *b, unsigned w, int base, int32_t disp, int src)
{
	emit_op_rm(b, w, 0x87, src, base, disp);
}

/* lock cmpxchg [base + disp], src (F0 0F B1 /r): compares with rax/eax */
static inline void emit_lock_cmpxchg(struct jit_buf *b, unsigned w, int base, int32_t disp, int src)
{
	emit_op_rm(b, w | X86_LOCK, 0x0fb1, src, base, disp);
}

/* ---- padding ---- */

/* n bytes of padding that executes as no-ops: the recommended long nops
 * (0F 1F /0 with a growing address form, 66 for one byte more), at most
 * 9 bytes each; from 16 bytes on, a jmp rel8 over int3 filler, since
 * skipping the gap costs less than decoding it. */
static inline void emit_nops(struct jit_buf *b, size_t n)
{
	static const uint8_t nops[10][9] = {
		{0},
		{0x90},
		{0x66, 0x90},
		{0x0f, 0x1f, 0x00},
		{0x0f, 0x1f, 0x40, 0x00},
		{0x0f, 0x1f, 0x44, 0x00, 0x00},
		{0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
		{0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00},
		{0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
		{0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
	};
	if (n >= 16 && n - 2 <= 127) {
		emit_u8(b, 0xeb);                   /* jmp rel8 over the filler */
		emit_u8(b, (uint8_t)(n - 2));
		for (size_t i = 2; i < n; i++)
			emit_u8(b, 0xcc);           /* int3 */
		return;
	}
	while (n) {
		size_t k = n > 9 ? 9 : n;
		for (size_t i = 0; i < k; i++)
			emit_u8(b, nops[k][i]);     /* nop (1 to 9 bytes) */
		n -= k;
	}
}

/* ---- stack and control flow ---- */

/* push r64 (50+r) */
static inline void emit_push(struct jit_buf *b, int r)
{
	if (r & 8)
		emit_u8(b, 0x41);
	emit_u8(b, (uint8_t)(0x50 + (r & 7)));
}

/* pop r64 (58+r) */
static inline void emit_pop(struct jit_buf *b, int r)
{
	if (r & 8)
		emit_u8(b, 0x41);
	emit_u8(b, (uint8_t)(0x58 + (r & 7)));
}

/* ret (C3) */
static inline void emit_ret(struct jit_buf *b)
{
	emit_u8(b, 0xc3);
}

/* call r64 (FF /2) */
static inline void emit_call_r(struct jit_buf *b, int r)
{
	emit_op_rr(b, 0, 0xff, 2, r);
}

/* jmp r64 (FF /4) */
static inline void emit_jmp_r(struct jit_buf *b, int r)
{
	emit_op_rr(b, 0, 0xff, 4, r);
}

/* call rel32 (E8 cd) to image offset target */
static inline void emit_call_rel32(struct jit_buf *b, size_t target)
{
	emit_u8(b, 0xe8);
	emit_u32(b, (uint32_t)(int32_t)((int64_t)target - (int64_t)(b->pos + 4)));
}

/* jmp rel32 (E9 cd) to image offset target */
static inline void emit_jmp_rel32(struct jit_buf *b, size_t target)
{
	emit_u8(b, 0xe9);
	emit_u32(b, (uint32_t)(int32_t)((int64_t)target - (int64_t)(b->pos + 4)));
}

/* jcc rel32 (0F 80+cc cd) to image offset target */
static inline void emit_jcc_rel32(struct jit_buf *b, enum x86_cc cc, size_t target)
{
	emit_u8(b, 0x0f);
	emit_u8(b, (uint8_t)(0x80 + cc));
	emit_u32(b, (uint32_t)(int32_t)((int64_t)target - (int64_t)(b->pos + 4)));
}

/* jmp rel8 (EB cb) or jcc rel8 (70+cc cb) to image offset target, which must be in reach */
static inline void emit_jmp_rel8(struct jit_buf *b, int cc, size_t target)
{
	emit_u8(b, cc < 0 ? 0xeb : (uint8_t)(0x70 + cc));
	emit_u8(b, (uint8_t)(int8_t)((int64_t)target - (int64_t)(b->pos + 1)));
}

/* A forward jcc rel8 (or jmp rel8 when cc < 0) whose target is patched
 * later with emit_patch_rel8; returns where its displacement is. */
static inline size_t emit_jmp8_fwd(struct jit_buf *b, int cc)
{
	emit_u8(b, cc < 0 ? 0xeb : (uint8_t)(0x70 + cc));
	emit_u8(b, 0);
	return b->pos - 1;
}

#endif
