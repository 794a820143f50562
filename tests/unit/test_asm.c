/*
 * test_asm.c - the assembler, the disassembler and the hex reader.
 *
 * (a) every row of the opcode table, several operand values each: both
 *     syntaxes print and reassemble to the same bytes; a list of exact
 *     texts in the kernel's format; (b) the documented examples assemble
 *     to the right bytes, with the spellings dumps use; (c) labels; (d)
 *     errors say the right line, column and reason; (e) random valid
 *     instructions and programs round-trip; (f) hex text.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bee/insn.h"
#include "isa/disasm.h"
#include "isa/isa.h"

static int failures;

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			failures++;                                         \
			fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                       \
			fputc('\n', stderr);                                \
		}                                                           \
	} while (0)

static struct bpf_insn mk(uint8_t code, unsigned dst, unsigned src, int16_t off, int32_t imm)
{
	struct bpf_insn i;
	memset(&i, 0, sizeof(i));
	i.code = code;
	i.dst_reg = (uint8_t)dst;
	i.src_reg = (uint8_t)src;
	i.off = off;
	i.imm = imm;
	return i;
}

static void to_hex(const struct bpf_insn *insns, size_t n, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && o + 20 < len; i++) {
		uint16_t off = (uint16_t)insns[i].off;
		uint32_t imm = (uint32_t)insns[i].imm;
		o += (size_t)snprintf(buf + o, len - o, "%s%02x%02x%02x%02x%02x%02x%02x%02x",
				      i ? " " : "", insns[i].code,
				      (unsigned)(insns[i].dst_reg | insns[i].src_reg << 4), off & 0xff,
				      off >> 8, imm & 0xff, (imm >> 8) & 0xff, (imm >> 16) & 0xff,
				      imm >> 24);
	}
}

/* Assemble text and compare with the expected instructions. */
static bool asm_equals(const char *text, const struct bpf_insn *want, size_t nwant,
		       const char *where)
{
	struct bpf_insn *got;
	size_t n;
	struct bee_error err;
	bee_error_clear(&err);
	int ret = bee_asm(text, &got, &n, &err);
	if (ret) {
		CHECK(0, "%s: bee_asm failed on \"%s\": %d:%d: %s", where, text, err.line, err.col,
		      err.msg);
		return false;
	}
	bool ok = n == nwant && memcmp(got, want, n * sizeof(*got)) == 0;
	if (!ok) {
		char a[512], b[512];
		to_hex(got, n, a, sizeof(a));
		to_hex(want, nwant, b, sizeof(b));
		CHECK(0, "%s: \"%s\" assembled to [%s], want [%s]", where, text, a, b);
	}
	free(got);
	return ok;
}

/* Assemble text and compare with hex bytes written as one string. */
static void asm_hex(const char *text, const char *want_hex)
{
	struct bpf_insn *want;
	size_t nwant;
	struct bee_error err;
	if (bee_insns_from_hex(want_hex, &want, &nwant, &err)) {
		CHECK(0, "bad expected hex %s", want_hex);
		return;
	}
	asm_equals(text, want, nwant, "example");
	free(want);
}

/* ---- (a) every row of the table ------------------------------------------ */

static int roundtrip_count;

/* One instruction (1 or 2 slots): both syntaxes print and reassemble. */
static void roundtrip_insn(const struct bpf_insn *insn, size_t slots, const char *what)
{
	for (int syn = 0; syn < 2; syn++) {
		char text[256];
		struct bee_error err;
		bee_error_clear(&err);
		int ret = bee_disasm_insn(insn, slots, 0, (enum bee_syntax)syn, text, sizeof(text), &err);
		if (ret != (int)slots) {
			char h[64];
			to_hex(insn, slots, h, sizeof(h));
			CHECK(0, "%s: disasm of [%s] returned %d: %s", what, h, ret, text);
			continue;
		}
		asm_equals(text, insn, slots, what);
		roundtrip_count++;
	}
}

static void test_every_row(void)
{
	static const unsigned regs[] = {0, 1, 5, 9, 10};
	static const int16_t offs[] = {0, 1, -1, 8, -8, INT16_MIN, INT16_MAX};
	static const int32_t imms[] = {0, 1, -1, 5, INT32_MIN, INT32_MAX, 0x7fff};
	static const uint64_t imm64s[] = {0, 1, 0x1122334455667788ull, UINT64_MAX, 0x80000000ull,
					  0xffffffffull, 0x100000000ull};
	int rows_tested = 0;
	for (int op = 0; op < BEE_OP__COUNT; op++) {
		const struct bee_op_info *row = &bee_op_info[op];
		int kept = 0;
		for (int i = 0; i < 14; i++) {
			struct bpf_insn insn[2];
			insn[0] = mk(row->code, regs[i % 5], regs[(i * 3 + 1) % 5], offs[i % 7],
				     imms[(i + i / 7) % 7]);
			insn[1] = mk(0, 0, 0, 0, 0);
			switch ((enum bee_match)row->match) {
			case BEE_MATCH_NONE: break;
			case BEE_MATCH_OFF:  insn[0].off = (int16_t)row->match_value; break;
			case BEE_MATCH_IMM:  insn[0].imm = row->match_value; break;
			case BEE_MATCH_SRC:  insn[0].src_reg = (uint8_t)row->match_value; break;
			}
			size_t slots = 1;
			if (row->shape == BEE_SH_LDDW) {
				uint64_t v = imm64s[i % 7];
				insn[0].off = 0;
				insn[0].imm = (int32_t)(uint32_t)v;
				insn[1].imm = (int32_t)(uint32_t)(v >> 32);
				slots = 2;
			}
			/* Clear what the shape does not use, as the decoder demands. */
			for (int tries = 0; tries < 4; tries++) {
				struct bee_dinsn d;
				struct bee_error err;
				bee_error_clear(&err);
				if (bee_decode(insn, slots, 0, &d, &err) >= 0)
					break;
				if (strstr(err.msg, "upper immediate"))
					insn[1].imm = 0;
				else if (strstr(err.msg, "dst_reg"))
					insn[0].dst_reg = 0;
				else if (strstr(err.msg, "src_reg"))
					insn[0].src_reg = 0;
				else if (strstr(err.msg, "offset"))
					insn[0].off = 0;
				else if (strstr(err.msg, "immediate"))
					insn[slots - 1].imm = 0;
			}
			struct bee_dinsn d;
			if (bee_decode(insn, slots, 0, &d, NULL) < 0)
				continue;
			CHECK(d.op == op, "row %s: built instruction decodes as %s", row->name,
			      bee_op_info[d.op].name);
			roundtrip_insn(insn, slots, row->name);
			kept++;
		}
		CHECK(kept > 0, "row %s: no representative instruction", row->name);
		rows_tested += kept > 0;
	}
	CHECK(rows_tested == BEE_OP__COUNT, "only %d of %d rows tested", rows_tested,
	      BEE_OP__COUNT);
}

struct expect {
	struct bpf_insn insn[2];
	enum bee_syntax syntax;
	const char *text;
};

#define C BEE_SYNTAX_C
#define M BEE_SYNTAX_MNEMONIC
#define I1(code, dst, src, off, imm) {{(code), (dst), (src), (off), (imm)}, {0, 0, 0, 0, 0}}
#define I2(dst, src, lo, hi) \
	{{BPF_LD | BPF_IMM | BPF_DW, (dst), (src), 0, (int32_t)(lo)}, {0, 0, 0, 0, (int32_t)(hi)}}

static const struct expect expects[] = {
	{I1(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1), C, "r0 = 1"},
	{I1(BPF_ALU | BPF_ADD | BPF_X, 1, 2, 0, 0), C, "w1 += w2"},
	{I1(BPF_ALU64 | BPF_NEG, 1, 0, 0, 0), C, "r1 = -r1"},
	{I1(BPF_ALU | BPF_NEG, 1, 0, 0, 0), C, "w1 = -w1"},
	{I1(BPF_ALU64 | BPF_MOV | BPF_X, 1, 2, 8, 0), C, "r1 = (s8)r2"},
	{I1(BPF_ALU | BPF_MOV | BPF_X, 1, 2, 16, 0), C, "w1 = (s16)w2"},
	{I1(BPF_ALU64 | BPF_MOV | BPF_X, 1, 2, 32, 0), C, "r1 = (s32)r2"},
	{I1(BPF_ALU64 | BPF_DIV | BPF_X, 1, 2, 1, 0), C, "r1 s/= r2"},
	{I1(BPF_ALU | BPF_MOD | BPF_K, 1, 0, 1, 3), C, "w1 s%= 3"},
	{I1(BPF_ALU | BPF_END | BPF_TO_BE, 1, 0, 0, 16), C, "r1 = be16 r1"},
	{I1(BPF_ALU | BPF_END | BPF_TO_LE, 1, 0, 0, 64), C, "r1 = le64 r1"},
	{I1(BPF_ALU64 | BPF_END | BPF_TO_LE, 1, 0, 0, 32), C, "r1 = bswap32 r1"},
	{I1(BPF_LDX | BPF_MEM | BPF_W, 0, 1, 4, 0), C, "r0 = *(u32 *)(r1 +4)"},
	{I1(BPF_LDX | BPF_MEMSX | BPF_B, 0, 1, -2, 0), C, "r0 = *(s8 *)(r1 -2)"},
	{I1(BPF_LDX | BPF_MEM | BPF_DW, 0, 10, INT16_MIN, 0), C, "r0 = *(u64 *)(r10 -32768)"},
	{I1(BPF_STX | BPF_MEM | BPF_DW, 10, 1, -8, 0), C, "*(u64 *)(r10 -8) = r1"},
	{I1(BPF_ST | BPF_MEM | BPF_W, 10, 0, -8, 5), C, "*(u32 *)(r10 -8) = 5"},
	{I1(BPF_ST | BPF_MEM | BPF_B, 1, 0, 3, -1), C, "*(u8 *)(r1 +3) = -1"},
	{I1(BPF_STX | BPF_ATOMIC | BPF_DW, 1, 2, 0, BPF_ADD), C, "lock *(u64 *)(r1 +0) += r2"},
	{I1(BPF_STX | BPF_ATOMIC | BPF_DW, 1, 2, 0, BPF_AND), C, "lock *(u64 *)(r1 +0) &= r2"},
	{I1(BPF_STX | BPF_ATOMIC | BPF_W, 1, 2, 0, BPF_OR), C, "lock *(u32 *)(r1 +0) |= r2"},
	{I1(BPF_STX | BPF_ATOMIC | BPF_DW, 1, 2, -8, BPF_XOR), C, "lock *(u64 *)(r1 -8) ^= r2"},
	{I1(BPF_STX | BPF_ATOMIC | BPF_DW, 1, 2, 0, BPF_ADD | BPF_FETCH), C,
	 "r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)"},
	{I1(BPF_STX | BPF_ATOMIC | BPF_W, 1, 2, 0, BPF_ADD | BPF_FETCH), C,
	 "r2 = atomic_fetch_add((u32 *)(r1 +0), r2)"},
	{I1(BPF_STX | BPF_ATOMIC | BPF_W, 1, 3, 4, BPF_XOR | BPF_FETCH), C,
	 "r3 = atomic_fetch_xor((u32 *)(r1 +4), r3)"},
	{I1(BPF_STX | BPF_ATOMIC | BPF_DW, 1, 2, 0, BPF_XCHG), C,
	 "r2 = atomic64_xchg((u64 *)(r1 +0), r2)"},
	{I1(BPF_STX | BPF_ATOMIC | BPF_DW, 1, 2, 0, BPF_CMPXCHG), C,
	 "r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)"},
	{I1(BPF_STX | BPF_ATOMIC | BPF_W, 1, 2, 0, BPF_CMPXCHG), C,
	 "r0 = atomic_cmpxchg((u32 *)(r1 +0), r0, r2)"},
	{I1(BPF_STX | BPF_ATOMIC | BPF_DW, 0, 1, 0, BPF_LOAD_ACQ), C,
	 "r0 = load_acquire((u64 *)(r1 +0))"},
	{I1(BPF_STX | BPF_ATOMIC | BPF_W, 1, 2, 0, BPF_STORE_REL), C,
	 "store_release((u32 *)(r1 +0), r2)"},
	{I1(BPF_LD | BPF_ABS | BPF_H, 0, 0, 0, 12), C, "r0 = *(u16 *)skb[12]"},
	{I1(BPF_LD | BPF_IND | BPF_B, 0, 3, 0, 4), C, "r0 = *(u8 *)skb[r3 + 4]"},
	{I1(BPF_JMP | BPF_JA, 0, 0, 3, 0), C, "goto pc+3"},
	{I1(BPF_JMP | BPF_JA, 0, 0, -2, 0), C, "goto pc-2"},
	{I1(BPF_JMP32 | BPF_JA, 0, 0, 0, 70000), C, "gotol pc+70000"},
	{I1(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 3, 5), C, "if r1 == 0x5 goto pc+3"},
	{I1(BPF_JMP32 | BPF_JSGT | BPF_X, 1, 2, -1, 0), C, "if w1 s> w2 goto pc-1"},
	{I1(BPF_JMP | BPF_JSET | BPF_K, 1, 0, 1, 1), C, "if r1 & 0x1 goto pc+1"},
	{I1(BPF_JMP | BPF_JNE | BPF_K, 1, 0, 2, -1), C, "if r1 != 0xffffffff goto pc+2"},
	{I1(BPF_JMP32 | BPF_JLT | BPF_K, 3, 0, 0, 16), C, "if w3 < 0x10 goto pc+0"},
	{I1(BPF_JMP | BPF_JSLE | BPF_X, 4, 5, 7, 0), C, "if r4 s<= r5 goto pc+7"},
	{I1(BPF_JMP | BPF_CALL, 0, 0, 0, 1), C, "call bpf_map_lookup_elem#1"},
	{I1(BPF_JMP | BPF_CALL, 0, 0, 0, 12345), C, "call unknown#12345"},
	{I1(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 5), C, "call pc+5"},
	{I1(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, -3), C, "call pc-3"},
	{I1(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, 42), C, "call kfunc#42"},
	{I1(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 3, 42), C, "call kfunc#42@3"},
	{I1(BPF_JMP | BPF_EXIT, 0, 0, 0, 0), C, "exit"},
	{I2(0, 0, 0x55667788, 0x11223344), C, "r0 = 0x1122334455667788 ll"},
	{I2(1, 0, 0, 0), C, "r1 = 0x0 ll"},
	{I2(1, BPF_PSEUDO_MAP_FD, 3, 0), C, "r1 = map[fd:3] ll"},
	{I2(1, BPF_PSEUDO_MAP_VALUE, 3, 8), C, "r1 = map[fd:3][0]+8 ll"},
	{I2(1, BPF_PSEUDO_BTF_ID, 42, 0), C, "r1 = btf_id[42] ll"},
	{I2(1, BPF_PSEUDO_FUNC, 5, 0), C, "r1 = subprog[+5] ll"},
	{I2(1, BPF_PSEUDO_MAP_IDX, 0, 0), C, "r1 = map[idx:0] ll"},
	{I2(1, BPF_PSEUDO_MAP_IDX_VALUE, 0, 8), C, "r1 = map[idx:0]+8 ll"},
	{I1(BPF_ALU64 | BPF_ADD | BPF_K, 1, 0, 0, -1), C, "r1 += -1"},
	{I1(BPF_ALU64 | BPF_ARSH | BPF_K, 3, 0, 0, 4), C, "r3 s>>= 4"},
	{I1(BPF_ALU | BPF_MOV | BPF_X, 1, 2, 0, 0), C, "w1 = w2"},
	{I1(BPF_ALU64 | BPF_LSH | BPF_K, 1, 0, 0, 3), C, "r1 <<= 3"},
	{I1(BPF_ALU | BPF_XOR | BPF_K, 1, 0, 0, INT32_MIN), C, "w1 ^= -2147483648"},
	{I1(BPF_ALU64 | BPF_MOD | BPF_X, 7, 8, 0, 0), C, "r7 %= r8"},
	{I1(BPF_ALU | BPF_MOV | BPF_K, 0, 0, 0, 0), M, "mov32 %r0, 0"},
	{I1(BPF_ALU64 | BPF_ADD | BPF_K, 1, 0, 0, 2), M, "add %r1, 2"},
	{I1(BPF_ALU64 | BPF_SUB | BPF_X, 1, 2, 0, 0), M, "sub %r1, %r2"},
	{I1(BPF_LDX | BPF_MEM | BPF_W, 0, 1, 4, 0), M, "ldxw %r0, [%r1+4]"},
	{I1(BPF_LDX | BPF_MEMSX | BPF_B, 0, 1, -2, 0), M, "ldxsb %r0, [%r1-2]"},
	{I1(BPF_STX | BPF_MEM | BPF_DW, 10, 1, -8, 0), M, "stxdw [%r10-8], %r1"},
	{I1(BPF_ST | BPF_MEM | BPF_W, 10, 0, -8, 5), M, "stw [%r10-8], 5"},
	{I1(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 3, 5), M, "jeq %r1, 0x5, +3"},
	{I1(BPF_JMP32 | BPF_JEQ | BPF_X, 1, 2, -1, 0), M, "jeq32 %r1, %r2, -1"},
	{I1(BPF_JMP | BPF_JA, 0, 0, 3, 0), M, "ja +3"},
	{I1(BPF_JMP32 | BPF_JA, 0, 0, 0, 70000), M, "ja32 +70000"},
	{I2(0, 0, 0x55667788, 0x11223344), M, "lddw %r0, 0x1122334455667788"},
	{I2(1, BPF_PSEUDO_MAP_FD, 3, 0), M, "lddw %r1, map[fd:3]"},
	{I2(1, BPF_PSEUDO_MAP_VALUE, 3, 8), M, "lddw %r1, map[fd:3][0]+8"},
	{I2(2, BPF_PSEUDO_FUNC, -4, 0), M, "lddw %r2, subprog[-4]"},
	{I1(BPF_STX | BPF_ATOMIC | BPF_DW, 1, 2, 0, BPF_ADD), M, "lock add [%r1+0], %r2"},
	{I1(BPF_STX | BPF_ATOMIC | BPF_W, 1, 2, 0, BPF_ADD | BPF_FETCH), M,
	 "lock fetch add32 [%r1+0], %r2"},
	{I1(BPF_STX | BPF_ATOMIC | BPF_DW, 1, 2, 0, BPF_XCHG), M, "lock xchg [%r1+0], %r2"},
	{I1(BPF_STX | BPF_ATOMIC | BPF_W, 1, 2, 0, BPF_CMPXCHG), M, "lock cmpxchg32 [%r1+0], %r2"},
	{I1(BPF_STX | BPF_ATOMIC | BPF_DW, 0, 1, 0, BPF_LOAD_ACQ), M, "ldacqdw %r0, [%r1+0]"},
	{I1(BPF_STX | BPF_ATOMIC | BPF_B, 1, 2, 0, BPF_STORE_REL), M, "strelb [%r1+0], %r2"},
	{I1(BPF_STX | BPF_ATOMIC | BPF_DW, 1, 2, 0, BPF_STORE_REL), M, "streldw [%r1+0], %r2"},
	{I1(BPF_LD | BPF_ABS | BPF_H, 0, 0, 0, 12), M, "ldabsh 12"},
	{I1(BPF_LD | BPF_IND | BPF_W, 0, 3, 0, 4), M, "ldindw %r3, 4"},
	{I1(BPF_ALU64 | BPF_NEG, 1, 0, 0, 0), M, "neg %r1"},
	{I1(BPF_ALU | BPF_NEG, 1, 0, 0, 0), M, "neg32 %r1"},
	{I1(BPF_ALU | BPF_END | BPF_TO_LE, 1, 0, 0, 16), M, "le16 %r1"},
	{I1(BPF_ALU64 | BPF_END | BPF_TO_LE, 1, 0, 0, 64), M, "bswap64 %r1"},
	{I1(BPF_ALU64 | BPF_MOV | BPF_X, 1, 2, 8, 0), M, "movsx8 %r1, %r2"},
	{I1(BPF_ALU | BPF_DIV | BPF_K, 1, 0, 1, 3), M, "sdiv32 %r1, 3"},
	{I1(BPF_JMP | BPF_CALL, 0, 0, 0, 1), M, "call 1"},
	{I1(BPF_JMP | BPF_CALL, 0, 0, 0, -5), M, "call helper -5"},
	{I1(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 5), M, "call local +5"},
	{I1(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, 42), M, "call kfunc 42"},
	{I1(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, -2, 42), M, "call kfunc 42@-2"},
	{I1(BPF_JMP | BPF_EXIT, 0, 0, 0, 0), M, "exit"},
};

static void test_expected_texts(void)
{
	size_t count = sizeof(expects) / sizeof(expects[0]);
	CHECK(count >= 60, "only %zu expected texts", count);
	for (size_t i = 0; i < count; i++) {
		const struct expect *e = &expects[i];
		size_t slots = e->insn[0].code == (BPF_LD | BPF_IMM | BPF_DW) ? 2 : 1;
		char text[256];
		struct bee_error err;
		int ret = bee_disasm_insn(e->insn, slots, 0, e->syntax, text, sizeof(text), &err);
		CHECK(ret == (int)slots && strcmp(text, e->text) == 0, "expected \"%s\", got \"%s\" (%d)",
		      e->text, text, ret);
		asm_equals(e->text, e->insn, slots, "expected text");
	}
}

/* The program-level printer: prefixes, and the whole output reassembles. */
static char *disasm_to_string(const struct bpf_insn *insns, size_t n, enum bee_syntax syntax,
			      unsigned flags, int *ret, struct bee_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		abort();
	*ret = bee_disasm(insns, n, syntax, flags, f, err);
	fclose(f);
	return buf;
}

static void test_program_printer(void)
{
	struct bpf_insn prog[] = {
		mk(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1),
		mk(BPF_LD | BPF_IMM | BPF_DW, 1, 0, 0, 0x55667788),
		mk(0, 0, 0, 0, 0x11223344),
		mk(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, -4, 5), /* to 0 */
		mk(BPF_JMP | BPF_JA, 0, 0, -4, 0),          /* to 1 */
		mk(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 1), /* to 7 */
		mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
		mk(BPF_JMP | BPF_JA, 0, 0, -6, 0), /* to the lddw's second slot: stays numeric */
		mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	size_t n = sizeof(prog) / sizeof(prog[0]);
	struct bee_error err;
	int ret;
	char *s = disasm_to_string(prog, n, BEE_SYNTAX_C, BEE_DISASM_INDEX | BEE_DISASM_OPCODE, &ret,
				   &err);
	const char *want =
		"   0: (b7) r0 = 1\n"
		"   1: (18) r1 = 0x1122334455667788 ll\n"
		"   3: (15) if r1 == 0x5 goto pc-4\n"
		"   4: (05) goto pc-4\n"
		"   5: (85) call pc+1\n"
		"   6: (95) exit\n"
		"   7: (05) goto pc-6\n"
		"   8: (95) exit\n";
	CHECK(ret == 0 && strcmp(s, want) == 0, "bpftool-style output:\n%s", s);
	asm_equals(s, prog, n, "bpftool-style output");
	free(s);

	s = disasm_to_string(prog, n, BEE_SYNTAX_C, BEE_DISASM_LABELS, &ret, &err);
	want = "L0:\n"
	       "r0 = 1\n"
	       "L1:\n"
	       "r1 = 0x1122334455667788 ll\n"
	       "if r1 == 0x5 goto L0\n"
	       "goto L1\n"
	       "call L7\n"
	       "exit\n"
	       "L7:\n"
	       "goto pc-6\n"
	       "exit\n";
	CHECK(ret == 0 && strcmp(s, want) == 0, "labels output:\n%s", s);
	asm_equals(s, prog, n, "labels output");
	free(s);

	s = disasm_to_string(prog, n, BEE_SYNTAX_MNEMONIC,
			     BEE_DISASM_LABELS | BEE_DISASM_INDEX | BEE_DISASM_BYTES, &ret, &err);
	const char *line1 =
		"   1: 18 01 00 00 88 77 66 55  00 00 00 00 44 33 22 11  lddw %r1, 0x1122334455667788\n";
	CHECK(ret == 0 && strstr(s, line1) && strstr(s, "jeq %r1, 0x5, L0\n") &&
		      strstr(s, "call local L7\n"),
	      "mnemonic labels/bytes output:\n%s", s);
	asm_equals(s, prog, n, "mnemonic labels/bytes output");
	free(s);

	/* An invalid instruction: the lines before it, then the decoder's error. */
	struct bpf_insn bad[] = {
		mk(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1),
		mk(BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, 2),
		mk(0xff, 0, 0, 0, 0),
		mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	bee_error_clear(&err);
	s = disasm_to_string(bad, 4, BEE_SYNTAX_C, BEE_DISASM_INDEX | BEE_DISASM_LABELS, &ret, &err);
	CHECK(ret == -EINVAL && err.insn == 2 && strstr(err.msg, "0xff") &&
		      strcmp(s, "   0: r0 = 1\n   1: r1 = 2\n") == 0,
	      "invalid instruction: ret %d insn %ld msg '%s' output:\n%s", ret, err.insn, err.msg, s);
	free(s);
	char text[128];
	ret = bee_disasm_insn(bad, 4, 2, BEE_SYNTAX_C, text, sizeof(text), NULL);
	CHECK(ret < 0 && strncmp(text, "invalid", 7) == 0, "invalid insn text '%s'", text);

	/* Truncated lddw. */
	ret = bee_disasm_insn(prog + 1, 1, 0, BEE_SYNTAX_C, text, sizeof(text), &err);
	CHECK(ret < 0 && strncmp(text, "invalid", 7) == 0, "truncated lddw text '%s'", text);

	/* A small buffer truncates, never overruns. */
	char tiny[8];
	memset(tiny, 'x', sizeof(tiny));
	ret = bee_disasm_insn(prog + 1, 2, 0, BEE_SYNTAX_C, tiny, 5, NULL);
	CHECK(ret == 2 && strcmp(tiny, "r1 =") == 0 && tiny[5] == 'x', "tiny buffer '%.8s'", tiny);
}

static bool id_hook(void *cookie, const struct bee_dinsn *d, size_t pc, char *buf, size_t len)
{
	(void)pc;
	if (d->src != BPF_PSEUDO_MAP_FD)
		return false;
	snprintf(buf, len, "map[id:%d]", d->imm + *(int *)cookie);
	return true;
}

static void test_hook(void)
{
	struct bpf_insn prog[] = {
		mk(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD, 0, 3),
		mk(0, 0, 0, 0, 0),
		mk(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_IDX, 0, 3),
		mk(0, 0, 0, 0, 0),
	};
	int bias = 100;
	struct bee_disasm_hooks hooks = {id_hook, &bias};
	char text[128];
	int ret = bee_disasm_insn_hooked(prog, 4, 0, BEE_SYNTAX_C, &hooks, text, sizeof(text), NULL);
	CHECK(ret == 2 && strcmp(text, "r1 = map[id:103] ll") == 0, "hook: '%s'", text);
	ret = bee_disasm_insn_hooked(prog, 4, 2, BEE_SYNTAX_MNEMONIC, &hooks, text, sizeof(text), NULL);
	CHECK(ret == 2 && strcmp(text, "lddw %r1, map[idx:3]") == 0, "hook fallback: '%s'", text);
}

/* ---- (b) the documented examples and the spellings of other tools ---------- */

static void test_examples(void)
{
	asm_hex("r0 = 1", "b700000001000000");
	asm_hex("w1 += w2", "0c21000000000000");
	asm_hex("r1 = *(u32 *)(r2 +8)", "6121080000000000");
	asm_hex("*(u64 *)(r10 -8) = r1", "7b1af8ff00000000");
	asm_hex("if r1 s> 0x5 goto pc+3", "6501030005000000");
	asm_hex("lock *(u64 *)(r1 +0) += r2", "db21000000000000");
	asm_hex("r0 = 0x1122334455667788 ll", "1800000088776655 0000000044332211");
	asm_hex("call bpf_map_lookup_elem#1", "8500000001000000");
	asm_hex("exit", "9500000000000000");
	asm_hex("mov32 %r0, 0", "b400000000000000");
	asm_hex("add %r1, 2", "0701000002000000");
	asm_hex("ldxw %r0, [%r1+4]", "6110040000000000");
	asm_hex("stxdw [%r10-8], %r1", "7b1af8ff00000000");
	asm_hex("jeq %r1, 0x5, +3", "1501030005000000");
	asm_hex("lddw %r0, 0x1122334455667788", "1800000088776655 0000000044332211");
	asm_hex("call 1", "8500000001000000");
	/* registers without '%' */
	asm_hex("mov32 r0, 0", "b400000000000000");
	asm_hex("ldxw r0, [r1+4]", "6110040000000000");
	asm_hex("stxdw [r10-8], r1", "7b1af8ff00000000");
	asm_hex("jeq r1, 5, +3", "1501030005000000");
	/* the whole example program of the header, one line each */
	asm_hex("r0 = 1\nw1 += w2\nr1 = *(u32 *)(r2 +8)\n*(u64 *)(r10 -8) = r1\n"
		"if r1 s> 0x5 goto pc+3\nlock *(u64 *)(r1 +0) += r2\n"
		"r0 = 0x1122334455667788 ll\ncall bpf_map_lookup_elem#1\nexit\n",
		"b700000001000000 0c21000000000000 6121080000000000 7b1af8ff00000000 "
		"6501030005000000 db21000000000000 1800000088776655 0000000044332211 "
		"8500000001000000 9500000000000000");

	/* whitespace and spellings */
	asm_hex("r1 = *(u32*)(r2+8)", "6121080000000000");
	asm_hex("r1 = *( u32 * )( r2 + 8 )", "6121080000000000");
	asm_hex("*(u64 *)(r10 - 8) = r1", "7b1af8ff00000000");
	asm_hex("*(u64 *)(r10-8) = r1", "7b1af8ff00000000");
	asm_hex("r0 = *(u64 *)(r10 + 0x10)", "79a0100000000000");
	asm_hex("r0 = *(u64 *)(r1)", "7910000000000000");
	asm_hex("ldxdw %r0, [%r1]", "7910000000000000");
	asm_hex("ldxdw %r0, [ %r1 - 0x8 ]", "7910f8ff00000000");
	asm_hex("\t  r0   =   1   ", "b700000001000000");
	asm_hex("r0 = 1\r\nexit\r\n", "b700000001000000 9500000000000000");
	asm_hex("r1 = -1", "b7010000ffffffff");
	asm_hex("r1 = 0xffffffff", "b7010000ffffffff");
	asm_hex("w1 = 4294967295", "b4010000ffffffff");
	asm_hex("r1 = -2147483648", "b701000000000080");
	asm_hex("r0 = 0 ll", "1800000000000000 0000000000000000");
	asm_hex("r0 = -1 ll", "18000000ffffffff 00000000ffffffff");
	asm_hex("r0 = 0xffffffffffffffff ll", "18000000ffffffff 00000000ffffffff");
	asm_hex("if w1 > 3 goto +1", "2601010003000000");
	asm_hex("if r1 == -1 goto +0", "15010000ffffffff");
	asm_hex("r1 s>>= 63", "c70100003f000000");
	asm_hex("w1 s/= w2", "3c21010000000000");
	asm_hex("r1 s%= -3", "97010100fdffffff");
	asm_hex("r1 = -r1", "8701000000000000");
	asm_hex("w2 = (s8)w3", "bc32080000000000");
	asm_hex("r0 = *(s16 *)(r1 +2)", "8910020000000000");
	asm_hex("r0 = *(u8 *)skb[r3]", "5030000000000000");
	asm_hex("r0 = *(u8 *)skb[r3 + -4]", "50300000fcffffff");
	asm_hex("r0 = *(u32 *)skb[-4]", "20000000fcffffff");
	asm_hex("*(u32 *)(r10 -8) = 0xffffffff", "620af8ffffffffff");

	/* calls */
	asm_hex("call bpf_map_lookup_elem", "8500000001000000");
	asm_hex("call map_lookup_elem", "8500000001000000");
	asm_hex("call #1", "8500000001000000");
	asm_hex("call helper 1", "8500000001000000");
	asm_hex("call __htab_map_lookup_elem#12", "850000000c000000");
	asm_hex("call pc+5", "8510000005000000");
	asm_hex("call -1", "85100000ffffffff");
	asm_hex("call local +5", "8510000005000000");
	asm_hex("call kfunc#42", "852000002a000000");
	asm_hex("call runtime 42", "852000002a000000");
	asm_hex("call kfunc 42@3", "852003002a000000");

	/* atomics as LLVM prints them */
	asm_hex("r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)", "db21000001000000");
	asm_hex("w2 = atomic_fetch_and((u32 *)(r1 + 8), w2)", "c321080051000000");
	asm_hex("lock *(u32 *)(r1 + 0) += w2", "c321000000000000");
	asm_hex("r0 = cmpxchg_64(r1 + 0, r0, r2)", "db210000f1000000");
	asm_hex("w0 = cmpxchg32_32(r1 - 8, w0, w2)", "c321f8fff1000000");
	asm_hex("r2 = xchg_64(r1 + 0, r2)", "db210000e1000000");
	asm_hex("w2 = xchg32_32(r1 + 0, w2)", "c3210000e1000000");
	asm_hex("w0 = load_acquire((u8 *)(r1 + 0))", "d310000000010000");
	asm_hex("store_release((u16 *)(r1 + 2), w2)", "cb21020010010000");
	asm_hex("r1 = bswap16 r1", "d701000010000000");
	asm_hex("swap16 %r1", "d701000010000000");

	/* comments */
	asm_hex("; a comment\n# another\n// and a third\nr0 = 1 ; trailing\n"
		"exit # trailing\nexit // trailing\n",
		"b700000001000000 9500000000000000 9500000000000000");
	asm_hex("  # indented comment\n", "");
	asm_hex("", "");

	/* dumps pasted back: bpftool, llvm-objdump */
	asm_hex("   0: (b7) r0 = 1\n   1: (95) exit\n", "b700000001000000 9500000000000000");
	asm_hex("   0: (18) r1 = 0x1234\n", "1801000034120000 0000000000000000");
	asm_hex("   5: (85) call bpf_map_lookup_elem#1\n", "8500000001000000");
	asm_hex("int xdp_prog(struct xdp_md * ctx):\n; return XDP_PASS; @ prog.c:12\n"
		"   0: (b7) r0 = 2\n   1: (95) exit\n",
		"b700000002000000 9500000000000000");
	asm_hex("\np.o:\tfile format elf64-bpf\n\nDisassembly of section xdp:\n\n"
		"0000000000000000 <prog>:\n"
		"       0:\tb7 00 00 00 01 00 00 00\tr0 = 1\n"
		"       8:\t18 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00\tr1 = 0 ll\n"
		"\t\t0000000000000008:  R_BPF_64_64\tmy_map\n"
		"      18:\t55 01 01 00 00 00 00 00\tif r1 != 0 goto +1 <LBB0_2>\n"
		"      20:\t95 00 00 00 00 00 00 00\texit\n"
		"      a8:\t95 00 00 00 00 00 00 00\texit\n",
		"b700000001000000 1801000000000000 0000000000000000 5501010000000000 "
		"9500000000000000 9500000000000000");
	asm_hex("b7 00 00 00 01 00 00 00  r0 = 1", "b700000001000000");
	asm_hex("   3: b7 00 00 00 01 00 00 00  (b7) mov %r0, 1", "b700000001000000");
}

/* ---- (c) labels --------------------------------------------------------- */

static void test_labels(void)
{
	const char *src =
		"start:\n"
		"  r0 = 0\n"
		"loop: r0 += 1\n"
		"  if r0 < 10 goto loop\n"
		"  if r0 == r1 goto out\n"
		"  jne %r0, 3, out\n"
		"  ja loop\n"
		"  gotol start\n"
		"  call func\n"
		"  r2 = subprog[func] ll\n"
		"out:\n"
		"  exit\n"
		"func: r0 = 2\n"
		"  exit\n";
	struct bpf_insn want[] = {
		mk(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
		mk(BPF_ALU64 | BPF_ADD | BPF_K, 0, 0, 0, 1),           /* 1 loop */
		mk(BPF_JMP | BPF_JLT | BPF_K, 0, 0, -2, 10),           /* 2 */
		mk(BPF_JMP | BPF_JEQ | BPF_X, 0, 1, 6, 0),             /* 3 -> 10 */
		mk(BPF_JMP | BPF_JNE | BPF_K, 0, 0, 5, 3),             /* 4 -> 10 */
		mk(BPF_JMP | BPF_JA, 0, 0, -5, 0),                     /* 5 -> 1 */
		mk(BPF_JMP32 | BPF_JA, 0, 0, 0, -7),                   /* 6 -> 0 */
		mk(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 3),      /* 7 -> 11 */
		mk(BPF_LD | BPF_IMM | BPF_DW, 2, BPF_PSEUDO_FUNC, 0, 2), /* 8 -> 11 */
		mk(0, 0, 0, 0, 0),
		mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),                    /* 10 out */
		mk(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 2),           /* 11 func */
		mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	size_t n = sizeof(want) / sizeof(want[0]);
	asm_equals(src, want, n, "labels");

	/* The labels printer's output reassembles identically, in both syntaxes. */
	for (int syn = 0; syn < 2; syn++) {
		int ret;
		struct bee_error err;
		char *s = disasm_to_string(want, n, (enum bee_syntax)syn,
					   BEE_DISASM_LABELS | (syn ? BEE_DISASM_INDEX : 0), &ret, &err);
		CHECK(ret == 0 && strstr(s, "L10:") && strstr(s, "L11:"), "labels printed:\n%s", s);
		asm_equals(s, want, n, "labels printed");
		free(s);
	}

	/* bpf_conformance's implicit "exit" label: the first exit. */
	struct bpf_insn conf[] = {
		mk(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1, 0),
		mk(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1),
		mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	asm_equals("jeq %r1, 0, exit\nmov %r0, 1\nexit\n", conf, 3, "implicit exit label");

	/* A defined label beats a helper name in "call NAME". */
	struct bpf_insn call_label[] = {
		mk(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 1),
		mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
		mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	asm_equals("call map_lookup_elem\nexit\nmap_lookup_elem: exit\n", call_label, 3,
		   "label named like a helper");

	/* Many labels (the hash table grows). */
	size_t cap = 200000, len = 0;
	char *big = malloc(cap);
	for (int i = 0; i < 3000; i++)
		len += (size_t)snprintf(big + len, cap - len, "l%d: if r1 == %d goto l%d\n", i, i,
					(i * 7919) % 3000);
	snprintf(big + len, cap - len, "exit\n");
	struct bpf_insn *got;
	size_t ngot;
	struct bee_error err;
	int ret = bee_asm(big, &got, &ngot, &err);
	CHECK(ret == 0 && ngot == 3001, "3000 labels: %d %s", ret, err.msg);
	for (size_t i = 0; ret == 0 && i < 3000; i++) {
		long target = (long)((i * 7919) % 3000);
		CHECK(got[i].off == target - (long)i - 1 && got[i].imm == (int32_t)i,
		      "3000 labels: insn %zu off %d", i, got[i].off);
		if (got[i].off != target - (long)i - 1)
			break;
	}
	if (ret == 0)
		free(got);
	free(big);
}

/* ---- (d) errors ----------------------------------------------------------- */

struct bad {
	const char *text;
	int line, col;
	const char *msg;
};

static const struct bad bads[] = {
	{"add r11, 1", 1, 5, "expected register, got 'r11'"},
	{"addd %r1, 2", 1, 1, "unknown instruction 'addd'"},
	{"r1 = *(u32 *)(r2 +40000)", 1, 18, "offset 40000 does not fit in 16 bits"},
	{"goto out\nexit", 1, 6, "undefined label 'out'"},
	{"a:\nexit\na:\nexit", 3, 1, "duplicate label 'a' (first defined on line 1)"},
	{"r1 = 0x100000000", 1, 6, "does not fit in 32 bits (add 'll'"},
	{"w1 += r2", 1, 7, "expected 32-bit register"},
	{"r1 += w2", 1, 7, "expected 64-bit register"},
	{"if r1 > 5 goto", 1, 15, "expected jump target"},
	{"if r1 ~ 5 goto +1", 1, 7, "expected comparison operator"},
	{"r1 = *(u128 *)(r2 +0)", 1, 8, "expected u8, u16, u32, u64"},
	{"exit 1", 1, 6, "unexpected '1' after the instruction"},
	{"lddw %r1", 1, 9, "expected ','"},
	{"ja +40000", 1, 4, "jump offset 40000 does not fit in 16 bits"},
	{"stw [%r10-8], 0x1ffffffff", 1, 15, "does not fit in 32 bits"},
	{"r1 = 0x1ffffffffffffffff ll", 1, 6, "does not fit in 64 bits"},
	{"r1 = 12abc", 1, 6, "invalid number '12abc'"},
	{"call nosuchhelper", 1, 6, "unknown helper or undefined label 'nosuchhelper'"},
	{"r1 = -r2", 1, 7, "negation is in place"},
	{"r1 = be16 r2", 1, 11, "byte swap is in place"},
	{"w1 = (s32)w2", 1, 7, "cannot sign-extend from s32"},
	{"r1 = map[id:3] ll", 1, 10, "map[id:N]"},
	{"r2 = atomic64_fetch_add((u32 *)(r1 +0), r2)", 1, 25, "atomic64_ operations are on u64"},
	{"r3 = atomic64_xchg((u64 *)(r1 +0), r2)", 1, 1, "returns the old value"},
	{"lock *(u16 *)(r1 +0) += r2", 1, 7, "atomic operations are on u32 or u64"},
	{"lock fetch addd [%r1+0], %r2", 1, 6, "unknown atomic operation 'fetch addd'"},
	{"r1 = *(u8 *)skb[4]", 1, 1, "load into r0"},
	{"1abel: exit", 1, 1, "expected instruction, got '1abel'"},
	{"r1: exit", 1, 1, "label name 'r1' is a register"},
	{"r0 = 1 $", 1, 8, "unexpected '$' after the instruction"},
	{"r0 = \x01", 1, 6, "got '\\x01'"},
	{"ldxw %r0, [%r1+4", 1, 17, "expected ']'"},
	{"r0 = 0\n\n  r1 +== 2\nexit", 3, 8, "expected register or immediate, got '='"},
	{"jeq %r1, 5", 1, 11, "expected ','"},
	{"r1 = w2", 1, 6, "expected 64-bit register"},
	{"call pc+0x80000000", 1, 8, "does not fit in 32 bits"},
	{"if w1 == r2 goto +1", 1, 10, "expected 32-bit register"},
	{"*(u64 *)(w10 -8) = r1", 1, 10, "expected 64-bit register rN"},
	{"r0 = *(s64 *)(r1 +0)", 1, 8, "expected u8, u16, u32, u64, s8, s16 or s32"},
	{"w1 = 0 ll", 1, 1, "needs a 64-bit register"},
	{"r0 = 99999999999999999999999", 1, 6, "does not fit in 64 bits"},
	{"r0 = 0x", 1, 6, "invalid number '0x'"},
	{"goto", 1, 5, "expected jump target"},
	{"call", 1, 5, "expected call target"},
	{"lock", 1, 5, "expected atomic operation"},
	{"if r1 == 1 jump +1", 1, 12, "expected 'goto', got 'jump'"},
	{"r1 = map[fd:3][1] ll", 1, 16, "only element [0]"},
	{"mov %w1, 1", 1, 5, "expected register, got '%w1'"},
	{"(b7) r0 = 1 r1", 1, 13, "unexpected 'r1'"},
	{"r0 = 1\nr0 = 1 #comment\nr0 = 1#notacomment", 3, 7, "unexpected '#'"},
};

static void test_errors(void)
{
	size_t count = sizeof(bads) / sizeof(bads[0]);
	CHECK(count >= 30, "only %zu bad inputs", count);
	for (size_t i = 0; i < count; i++) {
		struct bpf_insn *out = (struct bpf_insn *)&out;
		size_t n = 99;
		struct bee_error err;
		bee_error_clear(&err);
		int ret = bee_asm(bads[i].text, &out, &n, &err);
		CHECK(ret == -EINVAL && out == NULL && n == 0, "\"%s\": ret %d", bads[i].text, ret);
		CHECK(err.code == -EINVAL && err.line == bads[i].line && err.col == bads[i].col &&
			      strstr(err.msg, bads[i].msg),
		      "\"%s\": got %d:%d: %s; want %d:%d: ...%s...", bads[i].text, err.line, err.col,
		      err.msg, bads[i].line, bads[i].col, bads[i].msg);
		if (ret == 0)
			free(out);
	}

	/* A jump label too far for 16 bits. */
	size_t cap = 40100 * 8, len = 0;
	char *far = malloc(cap);
	len += (size_t)snprintf(far, cap, "goto far\n");
	for (int i = 0; i < 40000; i++)
		len += (size_t)snprintf(far + len, cap - len, "r0 = 0\n");
	snprintf(far + len, cap - len, "far: exit\ngotol far\n");
	struct bpf_insn *out;
	size_t n;
	struct bee_error err;
	int ret = bee_asm(far, &out, &n, &err);
	CHECK(ret == -EINVAL && err.line == 1 && err.col == 6 &&
		      strstr(err.msg, "jump to 'far' (offset 40000) does not fit in 16 bits"),
	      "far label: %d:%d: %s", err.line, err.col, err.msg);
	/* ... but fine for gotol. */
	far[0] = '#';
	ret = bee_asm(far, &out, &n, &err);
	CHECK(ret == 0 && n == 40002 && out[40001].imm == -2, "gotol far: %s", err.msg);
	if (ret == 0)
		free(out);
	free(far);

	/* Formatting through bee_error_format. */
	ret = bee_asm("r0 = 1\n  addd r1", &out, &n, &err);
	char buf[256];
	bee_error_format(&err, "prog.s", buf, sizeof(buf));
	CHECK(strcmp(buf, "prog.s:2:3: unknown instruction 'addd'") == 0, "format: %s", buf);
}

/* ---- (e) random round trips ------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* xorshift64*: fast and good enough for test inputs */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static unsigned char random_op_seen[BEE_OP__COUNT];

/* Random bytes, biased toward what decodes; returns slots kept (0: rejected). */
static size_t random_insn(struct bpf_insn out[2])
{
	uint64_t r = rnd();
	uint8_t code = (r & 7) ? bee_op_info[(r >> 3) % BEE_OP__COUNT].code : (uint8_t)(r >> 3);
	r = rnd();
	unsigned dst = (r & 1) ? 0 : (unsigned)((r >> 1) % 16);
	unsigned src = (r & 32) ? 0 : (unsigned)((r >> 6) % 16);
	int16_t off;
	switch ((r >> 10) % 5) {
	case 0:  off = 0; break;
	case 1:  off = (int16_t)((int)((r >> 13) % 17) - 8); break;
	case 2:  off = (int16_t)(r >> 16); break;
	case 3:  off = (int16_t)((r >> 32) % 5 * 8); break; /* 0..32: movsx widths */
	default: off = 1; break;
	}
	int32_t imm;
	r = rnd();
	switch (r % 6) {
	case 0:  imm = 0; break;
	case 1:  imm = (int32_t)(r >> 32); break;
	case 2:  imm = (int32_t)((r >> 8) % 64) - 32; break;
	case 3:  { static const int32_t v[] = {16, 32, 64, 0x01, 0xe1, 0xf1, 0x100, 0x110, 0x41,
						0x51, 0xa1, INT32_MIN, INT32_MAX};
		   imm = v[(r >> 8) % 13]; break; }
	case 4:  imm = (int32_t)((r >> 8) % 300); break;
	default: imm = (int32_t)(r >> 40) - (1 << 23); break;
	}
	out[0] = mk(code, dst, src, off, imm);
	out[1] = mk(0, 0, 0, 0, (rnd() & 1) ? 0 : (int32_t)rnd());
	struct bee_dinsn d;
	int slots = bee_decode(out, 2, 0, &d, NULL);
	if (slots < 0)
		return 0;
	random_op_seen[d.op] = 1;
	return (size_t)slots;
}

static void test_random(void)
{
	size_t insns_done = 0, programs = 0;
	struct bpf_insn prog[40];
	while (insns_done < 200000) {
		size_t n = 0, want = 1 + rnd() % 30;
		while (n < want) {
			struct bpf_insn one[2];
			size_t slots = random_insn(one);
			if (!slots)
				continue;
			roundtrip_insn(one, slots, "random insn");
			memcpy(&prog[n], one, slots * sizeof(one[0]));
			n += slots;
			insns_done++;
		}
		/* The program: labels, prefixes, both syntaxes. */
		static const unsigned flag_sets[] = {
			0, BEE_DISASM_INDEX | BEE_DISASM_OPCODE, BEE_DISASM_BYTES,
			BEE_DISASM_LABELS, BEE_DISASM_LABELS | BEE_DISASM_INDEX | BEE_DISASM_BYTES,
		};
		unsigned flags = flag_sets[programs % 5];
		enum bee_syntax syn = (enum bee_syntax)((programs / 5) % 2);
		int ret;
		struct bee_error err;
		char *s = disasm_to_string(prog, n, syn, flags, &ret, &err);
		CHECK(ret == 0, "random program: %s", err.msg);
		if (!asm_equals(s, prog, n, "random program")) {
			fprintf(stderr, "program text:\n%s", s);
			free(s);
			break;
		}
		free(s);
		programs++;
		if (failures > 20)
			break;
	}
	int seen = 0;
	for (int op = 0; op < BEE_OP__COUNT; op++) {
		seen += random_op_seen[op];
		CHECK(random_op_seen[op], "random: row %s never generated", bee_op_info[op].name);
	}
	printf("random: %zu instructions (%d of %d rows) in %zu programs round-tripped\n",
	       insns_done, seen, BEE_OP__COUNT, programs);
}

/* ---- (f) hex ---------------------------------------------------------------- */

static void test_hex(void)
{
	static const char *good[] = {
		"b7 00 00 00 01 00 00 00\n95 00 00 00 00 00 00 00\n",
		"0xb7,0x00,0x00,0x00,0x01,0x00,0x00,0x00, 0x95,00,00,00,00,00,00,00",
		"b700000001000000 9500000000000000",
		"b7000000010000009500000000000000",
		"0xb700000001000000\r\n0X9500000000000000",
		"  B7 00 00 00 01 00 00 00\t95 00 00 00 00 00 00 00  ",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct bpf_insn *out;
		size_t n;
		struct bee_error err;
		int ret = bee_insns_from_hex(good[i], &out, &n, &err);
		CHECK(ret == 0 && n == 2 && out[0].code == 0xb7 && out[0].imm == 1 &&
			      out[1].code == 0x95,
		      "hex good %zu: %d %s", i, ret, err.msg);
		if (ret == 0)
			free(out);
	}
	/* Fields come out of little-endian bytes. */
	struct bpf_insn *out;
	size_t n;
	struct bee_error err;
	int ret = bee_insns_from_hex("7b 1a f8 ff 78 56 34 12", &out, &n, &err);
	CHECK(ret == 0 && n == 1 && out[0].code == 0x7b && out[0].dst_reg == 10 &&
		      out[0].src_reg == 1 && out[0].off == -8 && out[0].imm == 0x12345678,
	      "hex fields");
	if (ret == 0)
		free(out);
	ret = bee_insns_from_hex("", &out, &n, &err);
	CHECK(ret == 0 && n == 0 && out, "empty hex");
	free(out);

	uint8_t *bytes;
	size_t len;
	ret = bee_bytes_from_hex("0x0102, 03\nff", &bytes, &len, &err);
	CHECK(ret == 0 && len == 4 && bytes[0] == 1 && bytes[2] == 3 && bytes[3] == 0xff,
	      "bytes from hex");
	if (ret == 0)
		free(bytes);

	static const struct bad hbad[] = {
		{"b7 0", 1, 4, "odd number of hex digits (1)"},
		{"0x95,0,0", 1, 6, "odd number of hex digits (1)"},
		{"b7 zz", 1, 4, "unexpected character 'z'"},
		{"\n\n  b7 0g", 3, 7, "unexpected character 'g'"},
		{"0x", 1, 1, "'0x' without hex digits"},
		{"b7 00 00", 0, 0, "truncated bytecode: 3 bytes is not a multiple of 8"},
		{"b7 00 00 00 01 00 00 00 95", 0, 0, "9 bytes is not a multiple of 8"},
		{"b7;00", 1, 3, "unexpected character ';'"},
		{"b7 \xff", 1, 4, "unexpected byte 0xff"},
	};
	for (size_t i = 0; i < sizeof(hbad) / sizeof(hbad[0]); i++) {
		bee_error_clear(&err);
		out = (struct bpf_insn *)&out;
		ret = bee_insns_from_hex(hbad[i].text, &out, &n, &err);
		CHECK(ret == -EINVAL && out == NULL && err.line == hbad[i].line &&
			      err.col == hbad[i].col && strstr(err.msg, hbad[i].msg),
		      "hex bad \"%s\": %d %d:%d %s", hbad[i].text, ret, err.line, err.col, err.msg);
	}
	ret = bee_insns_from_bytes("\xb7\0\0\0\1\0\0", 7, &out, &n, &err);
	CHECK(ret == -EINVAL && strstr(err.msg, "truncated bytecode: 7 bytes is not a multiple of 8"),
	      "bytes 7: %s", err.msg);
}

int main(void)
{
	test_every_row();
	test_expected_texts();
	test_program_printer();
	test_hook();
	test_examples();
	test_labels();
	test_errors();
	test_random();
	test_hex();
	printf("test_asm: %d single-instruction round trips over %d table rows\n", roundtrip_count,
	       BEE_OP__COUNT);
	if (failures) {
		printf("test_asm: %d FAILED\n", failures);
		return 1;
	}
	printf("test_asm: all passed\n");
	return 0;
}
