/*
 * asm.h - the assembler's insides, shared by asm.c (lines, tokens,
 * operands, labels, the mnemonic syntax) and asm_c.c (the C-like syntax).
 * Not a public interface: bee_asm in bee/insn.h is.
 */
#ifndef BEE_ISA_ASM_H
#define BEE_ISA_ASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bee/error.h"
#include "isa.h"

enum tok_kind { TK_END, TK_IDENT, TK_NUM, TK_PUNCT };
enum num_status { NUM_OK, NUM_INVALID, NUM_TOO_LARGE };

/* A token of the current line; s points into the text. */
struct token {
	enum tok_kind kind;
	const char *s;
	size_t len;
	uint64_t num;           /* TK_NUM */
	enum num_status status; /* TK_NUM */
};

struct asm_label {
	const char *name;
	size_t len;
	size_t index; /* instruction the label stands for */
	int line;
};

enum fixup_kind {
	FIX_OFF16,     /* jump: off = target - pc - 1 */
	FIX_IMM32,     /* gotol, call local, lddw subprog: imm = target - pc - 1 */
	FIX_CALL_NAME, /* "call NAME": a label (local call) or else a helper name */
};

struct asm_fixup {
	size_t pc;
	enum fixup_kind kind;
	const char *name;
	size_t len;
	int line;
	int col;
};

struct assembler {
	struct bee_error *err;
	/* the current line: [ls, le) with comments cut off; p is the cursor */
	int line;
	const char *ls;
	const char *le;
	const char *p;
	bool force_lddw; /* the line had bpftool's "(18)" opcode prefix */

	struct bpf_insn *insns;
	size_t n, cap;
	struct asm_fixup *fix;
	size_t nfix, capfix;
	struct asm_label *labels;
	size_t nlabels, caplabels;
	size_t *slots; /* hash of labels: index + 1, 0 = empty */
	size_t nslots;
	long first_exit;
};

struct reg {
	unsigned num;
	bool w; /* "w3": the 32-bit view */
	const char *at;
};

enum reg_width { ANY_WIDTH, WIDTH_64, WIDTH_32 };

/* A parsed integer: sign and magnitude, so that any 64-bit value fits. */
struct num {
	bool neg;
	uint64_t mag;
	const char *at;
};

/* A jump or call target: a relative number or a label. */
struct target {
	bool is_label;
	struct num rel;
	struct token label;
};

/* Tokens (asm.c). */
const char *asm_skip_blanks(const struct assembler *a, const char *p);
void asm_lex_at(const struct assembler *a, const char *p, struct token *t);
void asm_peek(const struct assembler *a, struct token *t);
void asm_next(struct assembler *a, struct token *t);
bool asm_tok_is(const struct token *t, const char *s);
bool asm_peek_punct(struct assembler *a, const char *s);
bool asm_peek_ident(struct assembler *a, const char *s);
const char *asm_describe(const struct token *t, char *buf, size_t len);

/* Errors: all return -EINVAL with the position of `at` (or of the token). */
int asm_fail_at(struct assembler *a, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int asm_fail_expected(struct assembler *a, const struct token *t, const char *what);
int asm_expect_punct(struct assembler *a, const char *s);

/* Registers and numbers. */
bool asm_reg_from_token(const struct token *t, struct reg *r);
int asm_parse_reg(struct assembler *a, struct reg *r, enum reg_width want);
int asm_parse_num(struct assembler *a, struct num *v, const char *what);
bool asm_num_fits(const struct num *v, int64_t lo, uint64_t hi);
int64_t asm_num_value(const struct num *v);
const char *asm_num_text(const struct num *v, char *buf, size_t len);
int asm_num_imm32(struct assembler *a, const struct num *v, const char *what, int32_t *out);
int asm_parse_imm32(struct assembler *a, const char *what, int32_t *out);
int asm_num_off16(struct assembler *a, const struct num *v, const char *what, int16_t *out);
int asm_num_imm64(struct assembler *a, const struct num *v, uint64_t *out);

/* Operands both syntaxes share. */
int asm_parse_target(struct assembler *a, struct target *tg);
int asm_target_off16(struct assembler *a, const struct target *tg, int16_t *off);
int asm_target_imm32(struct assembler *a, const struct target *tg, enum fixup_kind kind,
		     int32_t *imm);
int asm_parse_signed_tail(struct assembler *a, const char *what, struct num *v, bool *present);
int asm_parse_offset_tail(struct assembler *a, int16_t *off, const char *close);
int asm_parse_c_addr(struct assembler *a, struct reg *base, int16_t *off);
int asm_parse_cast_rest(struct assembler *a, bool sign_ok, unsigned *size, bool *sx);
bool asm_is_pseudo_name(const struct token *t);
int asm_finish_pseudo_lddw(struct assembler *a, unsigned dst, const struct token *name);

/* Output: the row for an opcode whose matched field holds match_value
 * (-1 if none), and writing rows. */
int asm_op_for(uint8_t code, int32_t match_value);
int asm_emit(struct assembler *a, int op, unsigned dst, unsigned src, int16_t off, int32_t imm);
int asm_emit_lddw(struct assembler *a, unsigned dst, unsigned src, uint64_t imm64);

/*
 * The C-like syntax (asm_c.c): assemble the statement that starts with
 * token first (already read).  Returns 0 or a negative errno, or
 * ASM_NOT_C when first does not start a C-like statement.
 */
#define ASM_NOT_C 1
int asm_c_insn(struct assembler *a, const struct token *first);

#endif
