/*
 * asm_c.c - the assembler's C-like syntax, as bpftool and llvm-objdump
 * print it: "r0 = 1", "w1 += w2", "r1 = *(u32 *)(r2 +8)", "if r1 s> 0x5
 * goto pc+3", "lock *(u64 *)(r1 +0) += r2", "r0 = 0x1 ll".
 *
 * Theory: a statement is told by its first token (a register, '*', "if",
 * "goto", "gotol", "lock *", "store_release"); the operator after a
 * register (kernel/bpf/disasm.c's bpf_alu_string, shared through
 * disasm.h) names the ALU operation.  Register names carry the width: w
 * registers make ALU32 and JMP32 instructions, and mixing r and w in one
 * operation is refused.  For memory operands the width of the value
 * register is free (LLVM writes "*(u32 *)(r10 -4) = w1"), the address
 * register must be an r register.  Both the kernel's and LLVM's
 * spellings of atomics are read.
 *
 * The line-level work (labels, prefixes, comments, fixups) and the
 * operands both syntaxes share live in asm.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>

#include "asm.h"
#include "disasm.h"

/* ---- the C-like syntax --------------------------------------------------- */

/* "rD = rS", "rD op= imm" after the destination and operator were read. */
static int parse_c_alu_src(struct assembler *a, const struct reg *dst, unsigned alu_op,
			   int32_t sign)
{
	struct token t;
	struct reg src;
	uint8_t cls = dst->w ? BPF_ALU : BPF_ALU64;
	asm_peek(a, &t);
	if (asm_reg_from_token(&t, &src)) {
		int ret = asm_parse_reg(a, &src, dst->w ? WIDTH_32 : WIDTH_64);
		if (ret)
			return ret;
		return asm_emit(a, asm_op_for(cls | (alu_op << 4) | BPF_X, sign), dst->num, src.num, 0, 0);
	}
	int32_t imm;
	int ret = asm_parse_imm32(a, "register or immediate", &imm);
	if (ret)
		return ret;
	return asm_emit(a, asm_op_for(cls | (alu_op << 4) | BPF_K, sign), dst->num, 0, 0, imm);
}

/* "rD = *(u32 *)(rS +off)", "r0 = *(u8 *)skb[12]", "r0 = *(u16 *)skb[r3 + 4]" after '='. */
static int parse_c_load(struct assembler *a, const struct reg *dst)
{
	unsigned size;
	bool sx;
	int ret;
	a->p = asm_skip_blanks(a, a->p) + 1; /* '*' */
	if ((ret = asm_expect_punct(a, "(")) || (ret = asm_parse_cast_rest(a, true, &size, &sx)))
		return ret;
	struct token t;
	asm_peek(a, &t);
	if (t.kind == TK_IDENT && asm_tok_is(&t, "skb")) {
		a->p = t.s + t.len;
		if (dst->num != 0 || dst->w)
			return asm_fail_at(a, dst->at, "packet loads (skb[...]) load into r0");
		if (sx || size == BPF_DW)
			return asm_fail_at(a, t.s, "packet loads are u8, u16 or u32");
		if ((ret = asm_expect_punct(a, "[")))
			return ret;
		asm_peek(a, &t);
		struct reg src;
		int32_t imm = 0;
		if (asm_reg_from_token(&t, &src)) {
			if ((ret = asm_parse_reg(a, &src, WIDTH_64)))
				return ret;
			struct num v;
			bool present;
			if ((ret = asm_parse_signed_tail(a, "packet offset", &v, &present)) ||
			    (present && (ret = asm_num_imm32(a, &v, "packet offset", &imm))))
				return ret;
			if ((ret = asm_expect_punct(a, "]")))
				return ret;
			return asm_emit(a, asm_op_for(BPF_LD | BPF_IND | size, 0), 0, src.num, 0, imm);
		}
		if ((ret = asm_parse_imm32(a, "packet offset or register", &imm)) ||
		    (ret = asm_expect_punct(a, "]")))
			return ret;
		return asm_emit(a, asm_op_for(BPF_LD | BPF_ABS | size, 0), 0, 0, 0, imm);
	}
	struct reg base;
	int16_t off;
	if ((ret = asm_parse_c_addr(a, &base, &off)))
		return ret;
	return asm_emit(a, asm_op_for(BPF_LDX | (sx ? BPF_MEMSX : BPF_MEM) | size, 0), dst->num, base.num,
		    off, 0);
}

/* Byte swaps: "r1 = be16 r1", "r1 = le32 r1", "r1 = bswap64 r1". */
static const struct {
	const char *name;
	uint8_t code;
	int32_t width;
} c_end_ops[] = {
	{"le16", BPF_ALU | BPF_END | BPF_TO_LE, 16},      {"le32", BPF_ALU | BPF_END | BPF_TO_LE, 32},
	{"le64", BPF_ALU | BPF_END | BPF_TO_LE, 64},      {"be16", BPF_ALU | BPF_END | BPF_TO_BE, 16},
	{"be32", BPF_ALU | BPF_END | BPF_TO_BE, 32},      {"be64", BPF_ALU | BPF_END | BPF_TO_BE, 64},
	{"bswap16", BPF_ALU64 | BPF_END | BPF_TO_LE, 16}, {"bswap32", BPF_ALU64 | BPF_END | BPF_TO_LE, 32},
	{"bswap64", BPF_ALU64 | BPF_END | BPF_TO_LE, 64},
};

/* Atomic read-modify-write written as a function call, as the kernel and LLVM print them. */
enum atomic_form { AF_CAST, AF_CAST_64, AF_BARE_W, AF_BARE_DW };
static const struct {
	const char *name;
	int32_t imm;
	enum atomic_form form;
} c_atomic_ops[] = {
	{"atomic_fetch_add", BPF_ADD | BPF_FETCH, AF_CAST},
	{"atomic_fetch_and", BPF_AND | BPF_FETCH, AF_CAST},
	{"atomic_fetch_or", BPF_OR | BPF_FETCH, AF_CAST},
	{"atomic_fetch_xor", BPF_XOR | BPF_FETCH, AF_CAST},
	{"atomic_xchg", BPF_XCHG, AF_CAST},
	{"atomic_cmpxchg", BPF_CMPXCHG, AF_CAST},
	{"atomic64_fetch_add", BPF_ADD | BPF_FETCH, AF_CAST_64},
	{"atomic64_fetch_and", BPF_AND | BPF_FETCH, AF_CAST_64},
	{"atomic64_fetch_or", BPF_OR | BPF_FETCH, AF_CAST_64},
	{"atomic64_fetch_xor", BPF_XOR | BPF_FETCH, AF_CAST_64},
	{"atomic64_xchg", BPF_XCHG, AF_CAST_64},
	{"atomic64_cmpxchg", BPF_CMPXCHG, AF_CAST_64},
	{"xchg_64", BPF_XCHG, AF_BARE_DW},
	{"xchg32_32", BPF_XCHG, AF_BARE_W},
	{"cmpxchg_64", BPF_CMPXCHG, AF_BARE_DW},
	{"cmpxchg32_32", BPF_CMPXCHG, AF_BARE_W},
};

/* "r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)", "r0 = cmpxchg_64(r1 + 0, r0, r2)"... */
static int parse_c_atomic_call(struct assembler *a, const struct reg *dst, size_t which,
			       const struct token *name)
{
	int32_t aop = c_atomic_ops[which].imm;
	enum atomic_form form = c_atomic_ops[which].form;
	unsigned size = form == AF_BARE_W ? BPF_W : BPF_DW;
	bool sx;
	struct reg base, src, old;
	int16_t off;
	int ret = asm_expect_punct(a, "(");
	if (ret)
		return ret;
	if (form == AF_CAST || form == AF_CAST_64) {
		const char *cast_at = asm_skip_blanks(a, a->p);
		if ((ret = asm_expect_punct(a, "(")) || (ret = asm_parse_cast_rest(a, false, &size, &sx)))
			return ret;
		if (size != BPF_W && size != BPF_DW)
			return asm_fail_at(a, cast_at, "atomic operations are on u32 or u64");
		if (form == AF_CAST_64 && size != BPF_DW)
			return asm_fail_at(a, cast_at, "atomic64_ operations are on u64");
		if ((ret = asm_parse_c_addr(a, &base, &off)) || (ret = asm_expect_punct(a, ",")))
			return ret;
	} else {
		/* llvm's "cmpxchg_64(r1 + 0, r0, r2)": register, offset, comma */
		if ((ret = asm_parse_reg(a, &base, WIDTH_64)) ||
		    (ret = asm_parse_offset_tail(a, &off, ",")))
			return ret;
	}
	if (aop == BPF_CMPXCHG) {
		if ((ret = asm_parse_reg(a, &old, ANY_WIDTH)))
			return ret;
		if (old.num != 0)
			return asm_fail_at(a, old.at, "cmpxchg compares with r0");
		if ((ret = asm_expect_punct(a, ",")))
			return ret;
	}
	if ((ret = asm_parse_reg(a, &src, ANY_WIDTH)) || (ret = asm_expect_punct(a, ")")))
		return ret;
	if (aop == BPF_CMPXCHG && dst->num != 0)
		return asm_fail_at(a, dst->at, "cmpxchg returns the old value in r0");
	if (aop != BPF_CMPXCHG && dst->num != src.num)
		return asm_fail_at(a, dst->at, "%.*s returns the old value in its source register r%u",
			       (int)name->len, name->s, src.num);
	return asm_emit(a, asm_op_for(BPF_STX | BPF_ATOMIC | size, aop), base.num, src.num, off, 0);
}

/* Everything after "rD =". */
static int parse_c_assign(struct assembler *a, struct reg *dst)
{
	struct token t, t2;
	struct reg src;
	int ret;
	uint8_t cls = dst->w ? BPF_ALU : BPF_ALU64;
	asm_peek(a, &t);

	if (t.kind == TK_PUNCT && asm_tok_is(&t, "-")) {
		asm_lex_at(a, t.s + t.len, &t2);
		if (asm_reg_from_token(&t2, &src)) { /* neg */
			a->p = t.s + t.len;
			if ((ret = asm_parse_reg(a, &src, dst->w ? WIDTH_32 : WIDTH_64)))
				return ret;
			if (src.num != dst->num)
				return asm_fail_at(a, src.at, "negation is in place: expected %c%u",
					       dst->w ? 'w' : 'r', dst->num);
			return asm_emit(a, asm_op_for(cls | BPF_NEG, 0), dst->num, 0, 0, 0);
		}
	}
	if (t.kind == TK_PUNCT && asm_tok_is(&t, "(")) { /* movsx */
		a->p = t.s + t.len;
		asm_next(a, &t2);
		int32_t bits = asm_tok_is(&t2, "s8")    ? 8
			       : asm_tok_is(&t2, "s16") ? 16
			       : asm_tok_is(&t2, "s32") ? 32
							: 0;
		if (t2.kind != TK_IDENT || !bits)
			return asm_fail_expected(a, &t2, "s8, s16 or s32");
		if (dst->w && bits == 32)
			return asm_fail_at(a, t2.s, "a 32-bit move cannot sign-extend from s32");
		if ((ret = asm_expect_punct(a, ")")) ||
		    (ret = asm_parse_reg(a, &src, dst->w ? WIDTH_32 : WIDTH_64)))
			return ret;
		return asm_emit(a, asm_op_for(cls | BPF_MOV | BPF_X, bits), dst->num, src.num, 0, 0);
	}
	if (t.kind == TK_PUNCT && asm_tok_is(&t, "*"))
		return parse_c_load(a, dst);
	if (t.kind == TK_IDENT && asm_reg_from_token(&t, &src))
		return parse_c_alu_src(a, dst, BPF_MOV >> 4, 0);
	if (t.kind == TK_IDENT) {
		for (size_t i = 0; i < sizeof(c_end_ops) / sizeof(c_end_ops[0]); i++) {
			if (!asm_tok_is(&t, c_end_ops[i].name))
				continue;
			a->p = t.s + t.len;
			if ((ret = asm_parse_reg(a, &src, ANY_WIDTH)))
				return ret;
			if (src.num != dst->num)
				return asm_fail_at(a, src.at, "byte swap is in place: expected r%u", dst->num);
			return asm_emit(a, asm_op_for(c_end_ops[i].code, c_end_ops[i].width), dst->num, 0, 0, 0);
		}
		for (size_t i = 0; i < sizeof(c_atomic_ops) / sizeof(c_atomic_ops[0]); i++) {
			if (asm_tok_is(&t, c_atomic_ops[i].name)) {
				a->p = t.s + t.len;
				return parse_c_atomic_call(a, dst, i, &t);
			}
		}
		if (asm_tok_is(&t, "load_acquire")) {
			unsigned size;
			bool sx;
			struct reg base;
			int16_t off;
			a->p = t.s + t.len;
			if ((ret = asm_expect_punct(a, "(")) || (ret = asm_expect_punct(a, "(")) ||
			    (ret = asm_parse_cast_rest(a, false, &size, &sx)) ||
			    (ret = asm_parse_c_addr(a, &base, &off)) || (ret = asm_expect_punct(a, ")")))
				return ret;
			return asm_emit(a, asm_op_for(BPF_STX | BPF_ATOMIC | size, BPF_LOAD_ACQ), dst->num,
				    base.num, off, 0);
		}
		if (asm_is_pseudo_name(&t)) {
			if (dst->w)
				return asm_fail_at(a, dst->at, "a 64-bit load needs a 64-bit register r%u",
					       dst->num);
			a->p = t.s + t.len;
			ret = asm_finish_pseudo_lddw(a, dst->num, &t);
			if (!ret && asm_peek_ident(a, "ll"))
				asm_next(a, &t);
			return ret;
		}
		return asm_fail_expected(a, &t, "register, number or expression after '='");
	}

	struct num v;
	if ((ret = asm_parse_num(a, &v, "register, number or expression after '='")))
		return ret;
	bool ll = asm_peek_ident(a, "ll");
	if (ll)
		asm_next(a, &t);
	if (ll || a->force_lddw) {
		uint64_t imm64;
		if (dst->w)
			return asm_fail_at(a, dst->at, "a 64-bit load needs a 64-bit register r%u", dst->num);
		if ((ret = asm_num_imm64(a, &v, &imm64)))
			return ret;
		return asm_emit_lddw(a, dst->num, 0, imm64);
	}
	char b[32];
	if (!asm_num_fits(&v, INT32_MIN, UINT32_MAX))
		return asm_fail_at(a, v.at, "immediate %s does not fit in 32 bits (add 'll' to load a "
					"64-bit value)", asm_num_text(&v, b, sizeof(b)));
	return asm_emit(a, asm_op_for(cls | BPF_MOV | BPF_K, 0), dst->num, 0, 0,
		    (int32_t)(uint32_t)asm_num_value(&v));
}

/* A line that starts with a register: assignment or compound ALU operation. */
static int parse_c_reg_stmt(struct assembler *a, struct reg *dst)
{
	struct token op;
	asm_next(a, &op);
	if (op.kind == TK_PUNCT && asm_tok_is(&op, "="))
		return parse_c_assign(a, dst);
	for (unsigned i = 0; op.kind == TK_PUNCT && i < 16; i++) {
		if (bee_c_alu_op[i] && i != (BPF_MOV >> 4) && asm_tok_is(&op, bee_c_alu_op[i]))
			return parse_c_alu_src(a, dst, i, 0);
		if (bee_c_alu_sop[i] && asm_tok_is(&op, bee_c_alu_sop[i]))
			return parse_c_alu_src(a, dst, i, 1);
	}
	return asm_fail_expected(a, &op, "'=' or an operator such as '+='");
}

/* "*(u64 *)(r10 -8) = r1" or "= 5". */
static int parse_c_store(struct assembler *a)
{
	unsigned size;
	bool sx;
	struct reg base, src;
	int16_t off;
	struct token t;
	int ret;
	if ((ret = asm_expect_punct(a, "(")) || (ret = asm_parse_cast_rest(a, false, &size, &sx)) ||
	    (ret = asm_parse_c_addr(a, &base, &off)) || (ret = asm_expect_punct(a, "=")))
		return ret;
	asm_peek(a, &t);
	if (asm_reg_from_token(&t, &src)) {
		a->p = t.s + t.len;
		return asm_emit(a, asm_op_for(BPF_STX | BPF_MEM | size, 0), base.num, src.num, off, 0);
	}
	int32_t imm;
	if ((ret = asm_parse_imm32(a, "register or immediate", &imm)))
		return ret;
	return asm_emit(a, asm_op_for(BPF_ST | BPF_MEM | size, 0), base.num, 0, off, imm);
}

/* "lock *(u64 *)(r1 +0) += r2" after "lock". */
static int parse_c_lock(struct assembler *a)
{
	unsigned size;
	bool sx;
	struct reg base, src;
	int16_t off;
	struct token t;
	int ret;
	a->p = asm_skip_blanks(a, a->p) + 1; /* '*' */
	const char *cast_at = asm_skip_blanks(a, a->p);
	if ((ret = asm_expect_punct(a, "(")) || (ret = asm_parse_cast_rest(a, false, &size, &sx)))
		return ret;
	if (size != BPF_W && size != BPF_DW)
		return asm_fail_at(a, cast_at, "atomic operations are on u32 or u64");
	if ((ret = asm_parse_c_addr(a, &base, &off)))
		return ret;
	asm_next(a, &t);
	int32_t aop;
	if (asm_tok_is(&t, "+="))
		aop = BPF_ADD;
	else if (asm_tok_is(&t, "|="))
		aop = BPF_OR;
	else if (asm_tok_is(&t, "&="))
		aop = BPF_AND;
	else if (asm_tok_is(&t, "^="))
		aop = BPF_XOR;
	else
		return asm_fail_expected(a, &t, "'+=', '|=', '&=' or '^='");
	if ((ret = asm_parse_reg(a, &src, ANY_WIDTH)))
		return ret;
	return asm_emit(a, asm_op_for(BPF_STX | BPF_ATOMIC | size, aop), base.num, src.num, off, 0);
}

/* "store_release((u32 *)(r1 +0), r2)" after the name. */
static int parse_c_store_release(struct assembler *a)
{
	unsigned size;
	bool sx;
	struct reg base, src;
	int16_t off;
	int ret;
	if ((ret = asm_expect_punct(a, "(")) || (ret = asm_expect_punct(a, "(")) ||
	    (ret = asm_parse_cast_rest(a, false, &size, &sx)) ||
	    (ret = asm_parse_c_addr(a, &base, &off)) ||
	    (ret = asm_expect_punct(a, ",")) || (ret = asm_parse_reg(a, &src, ANY_WIDTH)) ||
	    (ret = asm_expect_punct(a, ")")))
		return ret;
	return asm_emit(a, asm_op_for(BPF_STX | BPF_ATOMIC | size, BPF_STORE_REL), base.num, src.num,
			off, 0);
}

/* "if r1 s> 0x5 goto pc+3", "if w1 == w2 goto out" after "if". */
static int parse_c_if(struct assembler *a)
{
	struct reg dst, src;
	struct token t;
	int ret;
	if ((ret = asm_parse_reg(a, &dst, ANY_WIDTH)))
		return ret;
	asm_next(a, &t);
	unsigned cond = 16;
	for (unsigned i = 0; t.kind == TK_PUNCT && i < 16; i++)
		if (bee_c_jmp_op[i] && asm_tok_is(&t, bee_c_jmp_op[i]))
			cond = i;
	if (cond == 16)
		return asm_fail_expected(a, &t, "comparison operator (==, !=, >, s>, &, ...)");
	uint8_t cls = dst.w ? BPF_JMP32 : BPF_JMP;
	uint8_t source = BPF_K;
	int32_t imm = 0;
	unsigned srcnum = 0;
	asm_peek(a, &t);
	if (asm_reg_from_token(&t, &src)) {
		if ((ret = asm_parse_reg(a, &src, dst.w ? WIDTH_32 : WIDTH_64)))
			return ret;
		source = BPF_X;
		srcnum = src.num;
	} else if ((ret = asm_parse_imm32(a, "register or immediate", &imm))) {
		return ret;
	}
	asm_next(a, &t);
	if (t.kind != TK_IDENT || !asm_tok_is(&t, "goto"))
		return asm_fail_expected(a, &t, "'goto'");
	struct target tg;
	int16_t off;
	if ((ret = asm_parse_target(a, &tg)) || (ret = asm_target_off16(a, &tg, &off)))
		return ret;
	return asm_emit(a, asm_op_for(cls | (cond << 4) | source, 0), dst.num, srcnum, off, imm);
}

/* ---- entry -------------------------------------------------------------- */

int asm_c_insn(struct assembler *a, const struct token *first)
{
	struct reg r;
	if (first->kind == TK_PUNCT && asm_tok_is(first, "*"))
		return parse_c_store(a);
	if (first->kind != TK_IDENT)
		return ASM_NOT_C;
	if (asm_reg_from_token(first, &r) && first->s[0] != '%')
		return parse_c_reg_stmt(a, &r);
	if (asm_tok_is(first, "if"))
		return parse_c_if(a);
	if (asm_tok_is(first, "goto") || asm_tok_is(first, "gotol")) {
		bool wide = first->len == 5;
		struct target tg;
		int16_t off = 0;
		int32_t imm = 0;
		int ret = asm_parse_target(a, &tg);
		if (!ret)
			ret = wide ? asm_target_imm32(a, &tg, FIX_IMM32, &imm)
				   : asm_target_off16(a, &tg, &off);
		if (ret)
			return ret;
		return asm_emit(a, asm_op_for((wide ? BPF_JMP32 : BPF_JMP) | BPF_JA, 0), 0, 0, off,
				imm);
	}
	if (asm_tok_is(first, "lock") && asm_peek_punct(a, "*"))
		return parse_c_lock(a);
	if (asm_tok_is(first, "store_release"))
		return parse_c_store_release(a);
	return ASM_NOT_C;
}
