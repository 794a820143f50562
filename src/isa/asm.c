/*
 * asm.c - text to instructions: lines, tokens, operands, labels and the
 * mnemonic syntax.  The C-like syntax's statements are in asm_c.c.
 *
 * Theory: the text is read a line at a time; a line is at most one
 * instruction, so both syntaxes may be mixed freely.  A small lexer works
 * on demand over the current line (the parser sometimes looks at the raw
 * text, for prefixes that dumps put before an instruction), and a
 * hand-written parser (without recursion: a line is flat) turns the
 * tokens into one row of BEE_INSN_TABLE plus its operands.  The row
 * supplies the opcode and the field that tells instructions sharing an
 * opcode apart, so the encoding lives in the table alone.
 *
 * Order of things on a line:
 *   labels ("name:"), then what dumps print before an instruction
 *   (bpftool's "  12: " index and "(b7) " opcode, llvm-objdump's
 *   "      60:" address and 8 or 16 raw bytes), then the instruction.
 *   Whole lines that dumps print around code are ignored: bpftool's
 *   "int f(struct ctx *c):" headers, llvm-objdump's "file format",
 *   "Disassembly of section", "0000000000000000 <sym>:" and relocation
 *   ("R_BPF_...") lines.  A full "llvm-objdump -d -r" of an object
 *   reassembles to its sections' bytes (the sections one after another).
 *   Comments run from ';' or "//" to the end of the line, and from '#'
 *   when it starts the line or follows a blank and is not "#<digit>" (so
 *   "call bpf_map_lookup_elem#1" and "call #1" keep their '#').
 *
 * Jump and call targets may be labels; they are fixed up at the end, when
 * every label is known.  A name used by "call NAME" is a label if one is
 * defined, else a helper name.  As in the bpf_conformance test suite, an
 * undefined label "exit" means the first exit instruction.
 *
 * Nothing here can overrun: every token lies inside the line, every
 * message is bounded, and the output grows as needed.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "asm.h"
#include "disasm.h"
#include "isa.h"

/* ---- characters and tokens ---------------------------------------- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_ident_start(char c)
{
	return is_alpha(c) || c == '_' || c == '.';
}

static bool is_ident_char(char c)
{
	return is_ident_start(c) || is_digit(c);
}

static unsigned hex_digit(char c)
{
	if (is_digit(c))
		return (unsigned)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (unsigned)(c - 'a' + 10);
	return (unsigned)(c - 'A' + 10);
}

/* Operators, longest first so that "s>>=" wins over "s>" and ">>=". */
static const char *const puncts[] = {
	"s>>=", "<<=", ">>=", "s>=", "s<=", "s/=", "s%=", "s>", "s<", "+=", "-=", "*=",
	"/=",   "%=",  "|=",  "&=",  "^=",  "==",  "!=",  ">=", "<=",
};

static int col_of(const struct assembler *a, const char *at)
{
	ptrdiff_t c = at - a->ls + 1;
	return c > INT_MAX ? INT_MAX : (int)c;
}

const char *asm_skip_blanks(const struct assembler *a, const char *p)
{
	while (p < a->le && is_blank(*p))
		p++;
	return p;
}

static void lex_number(const struct assembler *a, const char *p, struct token *t)
{
	const char *q = p;
	while (q < a->le && (is_ident_char(*q)))
		q++;
	t->kind = TK_NUM;
	t->len = (size_t)(q - p);
	t->status = NUM_OK;
	t->num = 0;
	unsigned base = 10;
	const char *d = p;
	if (t->len > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		d = p + 2;
	}
	for (; d < q; d++) {
		if (base == 16 ? !is_hex(*d) : !is_digit(*d)) {
			t->status = NUM_INVALID;
			return;
		}
		unsigned v = hex_digit(*d);
		if (t->num > (UINT64_MAX - v) / base) {
			t->status = NUM_TOO_LARGE;
			/* keep scanning: an invalid digit later is the better message */
			continue;
		}
		if (t->status == NUM_OK)
			t->num = t->num * base + v;
	}
}

/* The token at p (which must lie in the line), without consuming it. */
void asm_lex_at(const struct assembler *a, const char *p, struct token *t)
{
	p = asm_skip_blanks(a, p);
	t->s = p;
	t->len = 0;
	t->num = 0;
	t->status = NUM_OK;
	if (p >= a->le) {
		t->kind = TK_END;
		return;
	}
	size_t rest = (size_t)(a->le - p);
	for (size_t i = 0; i < sizeof(puncts) / sizeof(puncts[0]); i++) {
		size_t l = strlen(puncts[i]);
		if (l <= rest && memcmp(p, puncts[i], l) == 0) {
			t->kind = TK_PUNCT;
			t->len = l;
			return;
		}
	}
	if (is_ident_start(*p) || (*p == '%' && rest > 1 && is_alpha(p[1]))) {
		const char *q = p + 1;
		while (q < a->le && is_ident_char(*q))
			q++;
		t->kind = TK_IDENT;
		t->len = (size_t)(q - p);
		return;
	}
	if (is_digit(*p)) {
		lex_number(a, p, t);
		return;
	}
	t->kind = TK_PUNCT;
	t->len = 1;
}

void asm_peek(const struct assembler *a, struct token *t)
{
	asm_lex_at(a, a->p, t);
}

void asm_next(struct assembler *a, struct token *t)
{
	asm_lex_at(a, a->p, t);
	a->p = t->s + t->len;
}

bool asm_tok_is(const struct token *t, const char *s)
{
	size_t l = strlen(s);
	return t->kind != TK_END && t->len == l && memcmp(t->s, s, l) == 0;
}

/* The token as a message shows it: quoted, bounded, non-printables escaped. */
const char *asm_describe(const struct token *t, char *buf, size_t len)
{
	if (t->kind == TK_END) {
		snprintf(buf, len, "end of line");
		return buf;
	}
	size_t o = 0;
	buf[o++] = '\'';
	for (size_t i = 0; i < t->len && o + 8 < len; i++) {
		unsigned char c = (unsigned char)t->s[i];
		if (i == 32) {
			o += (size_t)snprintf(buf + o, len - o, "...");
			break;
		}
		if (c >= 0x20 && c < 0x7f)
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
	}
	if (o + 2 > len)
		o = len - 2;
	buf[o++] = '\'';
	buf[o] = '\0';
	return buf;
}

int asm_fail_at(struct assembler *a, const char *at, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return bee_error_set(a->err, -EINVAL, -1, a->line, col_of(a, at), "%s", msg);
}

int asm_fail_expected(struct assembler *a, const struct token *t, const char *what)
{
	char d[160];
	return asm_fail_at(a, t->s, "expected %s, got %s", what, asm_describe(t, d, sizeof(d)));
}

static int fail_nomem(struct assembler *a)
{
	return bee_error_set(a->err, -ENOMEM, -1, a->line, 0, "out of memory");
}

int asm_expect_punct(struct assembler *a, const char *s)
{
	struct token t;
	asm_next(a, &t);
	if (t.kind == TK_PUNCT && asm_tok_is(&t, s))
		return 0;
	char what[16];
	snprintf(what, sizeof(what), "'%s'", s);
	return asm_fail_expected(a, &t, what);
}

bool asm_peek_punct(struct assembler *a, const char *s)
{
	struct token t;
	asm_peek(a, &t);
	return t.kind == TK_PUNCT && asm_tok_is(&t, s);
}

bool asm_peek_ident(struct assembler *a, const char *s)
{
	struct token t;
	asm_peek(a, &t);
	return t.kind == TK_IDENT && asm_tok_is(&t, s);
}

/* ---- registers and numbers ------------------------------------------ */

/* "r0".."r10", "w0".."w10", "%r0".."%r10". */
bool asm_reg_from_token(const struct token *t, struct reg *r)
{
	if (t->kind != TK_IDENT)
		return false;
	const char *s = t->s;
	size_t len = t->len;
	bool pct = false;
	if (len && s[0] == '%') {
		pct = true;
		s++;
		len--;
	}
	if (len < 2 || len > 3 || (s[0] != 'r' && s[0] != 'w') || (pct && s[0] == 'w'))
		return false;
	unsigned num;
	if (len == 2 && is_digit(s[1]))
		num = (unsigned)(s[1] - '0');
	else if (len == 3 && s[1] == '1' && s[2] == '0')
		num = 10;
	else
		return false;
	r->num = num;
	r->w = s[0] == 'w';
	r->at = t->s;
	return true;
}

int asm_parse_reg(struct assembler *a, struct reg *r, enum reg_width want)
{
	struct token t;
	asm_next(a, &t);
	if (!asm_reg_from_token(&t, r))
		return asm_fail_expected(a, &t, "register");
	if (want == WIDTH_64 && r->w)
		return asm_fail_expected(a, &t, "64-bit register rN");
	if (want == WIDTH_32 && !r->w)
		return asm_fail_expected(a, &t, "32-bit register wN (the operation is 32-bit)");
	return 0;
}

/* An integer with an optional sign: "5", "-0x10", "+3". */
int asm_parse_num(struct assembler *a, struct num *v, const char *what)
{
	struct token t;
	asm_next(a, &t);
	v->at = t.s;
	v->neg = false;
	if (t.kind == TK_PUNCT && (asm_tok_is(&t, "-") || asm_tok_is(&t, "+"))) {
		v->neg = t.s[0] == '-';
		asm_next(a, &t);
	}
	if (t.kind != TK_NUM)
		return asm_fail_expected(a, &t, what);
	char d[160];
	if (t.status == NUM_INVALID)
		return asm_fail_at(a, t.s, "invalid number %s", asm_describe(&t, d, sizeof(d)));
	if (t.status == NUM_TOO_LARGE)
		return asm_fail_at(a, t.s, "number %s does not fit in 64 bits", asm_describe(&t, d, sizeof(d)));
	v->mag = t.num;
	return 0;
}

bool asm_num_fits(const struct num *v, int64_t lo, uint64_t hi)
{
	if (!v->neg || v->mag == 0)
		return v->mag <= hi;
	return v->mag <= (uint64_t)(-(lo + 1)) + 1;
}

/* Only for values num_fits said fit in int64_t. */
int64_t asm_num_value(const struct num *v)
{
	if (!v->neg || v->mag == 0)
		return (int64_t)v->mag;
	return -(int64_t)(v->mag - 1) - 1;
}

const char *asm_num_text(const struct num *v, char *buf, size_t len)
{
	snprintf(buf, len, "%s%" PRIu64, v->neg && v->mag ? "-" : "", v->mag);
	return buf;
}

/* A 32-bit immediate: s32, or u32 taken modulo 2^32 (0xffffffff is -1). */
int asm_num_imm32(struct assembler *a, const struct num *v, const char *what, int32_t *out)
{
	char b[32];
	if (!asm_num_fits(v, INT32_MIN, UINT32_MAX))
		return asm_fail_at(a, v->at, "%s %s does not fit in 32 bits", what,
				   asm_num_text(v, b, sizeof(b)));
	*out = (int32_t)(uint32_t)asm_num_value(v);
	return 0;
}

int asm_parse_imm32(struct assembler *a, const char *what, int32_t *out)
{
	struct num v;
	int ret = asm_parse_num(a, &v, what);
	return ret ? ret : asm_num_imm32(a, &v, what, out);
}

int asm_num_off16(struct assembler *a, const struct num *v, const char *what, int16_t *out)
{
	char b[32];
	if (!asm_num_fits(v, INT16_MIN, INT16_MAX))
		return asm_fail_at(a, v->at, "%s %s does not fit in 16 bits", what,
				   asm_num_text(v, b, sizeof(b)));
	*out = (int16_t)asm_num_value(v);
	return 0;
}

/* Any 64-bit value, signed or not. */
int asm_num_imm64(struct assembler *a, const struct num *v, uint64_t *out)
{
	char b[32];
	if (!asm_num_fits(v, INT64_MIN, UINT64_MAX))
		return asm_fail_at(a, v->at, "immediate %s does not fit in 64 bits",
				   asm_num_text(v, b, sizeof(b)));
	*out = v->neg ? 0 - v->mag : v->mag;
	return 0;
}

/* ---- output ---------------------------------------------------------- */

/* The row for an opcode byte whose matched field holds match_value. */
int asm_op_for(uint8_t code, int32_t match_value)
{
	for (int op = 0; op < BEE_OP__COUNT; op++) {
		const struct bee_op_info *row = &bee_op_info[op];
		if (row->code == code &&
		    (row->match == BEE_MATCH_NONE || row->match_value == match_value))
			return op;
	}
	return -1;
}

static int push_slot(struct assembler *a, const struct bpf_insn *insn)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		struct bpf_insn *grown = realloc(a->insns, cap * sizeof(*grown));
		if (!grown)
			return fail_nomem(a);
		a->insns = grown;
		a->cap = cap;
	}
	a->insns[a->n++] = *insn;
	return 0;
}

/* Check what was just written decodes, so the output is always valid. */
static int check_emitted(struct assembler *a, size_t pc)
{
	struct bee_dinsn d;
	struct bee_error e;
	bee_error_clear(&e);
	if (bee_decode(a->insns, a->n, pc, &d, &e) < 0)
		return asm_fail_at(a, a->ls, "cannot encode this instruction: %s", e.msg);
	return 0;
}

/* Write one instruction of row op; the row fixes the opcode and its matched field. */
int asm_emit(struct assembler *a, int op, unsigned dst, unsigned src, int16_t off, int32_t imm)
{
	if (op < 0)
		return asm_fail_at(a, a->ls, "no such instruction");
	const struct bee_op_info *row = &bee_op_info[op];
	struct bpf_insn insn;
	memset(&insn, 0, sizeof(insn));
	insn.code = row->code;
	insn.dst_reg = (uint8_t)(dst & 0xf);
	insn.src_reg = (uint8_t)(src & 0xf);
	insn.off = off;
	insn.imm = imm;
	switch ((enum bee_match)row->match) {
	case BEE_MATCH_NONE: break;
	case BEE_MATCH_OFF:  insn.off = (int16_t)row->match_value; break;
	case BEE_MATCH_IMM:  insn.imm = row->match_value; break;
	case BEE_MATCH_SRC:  insn.src_reg = (uint8_t)row->match_value; break;
	}
	size_t pc = a->n;
	int ret = push_slot(a, &insn);
	if (ret)
		return ret;
	if (row->shape == BEE_SH_EXIT && a->first_exit < 0)
		a->first_exit = (long)pc;
	return check_emitted(a, pc);
}

/* Write an lddw (two slots) with pseudo source src. */
int asm_emit_lddw(struct assembler *a, unsigned dst, unsigned src, uint64_t imm64)
{
	struct bpf_insn lo, hi;
	memset(&lo, 0, sizeof(lo));
	memset(&hi, 0, sizeof(hi));
	int op = asm_op_for(BPF_LD | BPF_IMM | BPF_DW, (int32_t)src);
	if (op < 0)
		return asm_fail_at(a, a->ls, "no such instruction");
	lo.code = bee_op_info[op].code;
	lo.dst_reg = (uint8_t)dst;
	lo.src_reg = (uint8_t)src;
	lo.imm = (int32_t)(uint32_t)imm64;
	hi.imm = (int32_t)(uint32_t)(imm64 >> 32);
	size_t pc = a->n;
	int ret = push_slot(a, &lo);
	if (!ret)
		ret = push_slot(a, &hi);
	return ret ? ret : check_emitted(a, pc);
}

static int add_fixup(struct assembler *a, enum fixup_kind kind, size_t pc, const struct token *name)
{
	if (a->nfix == a->capfix) {
		size_t cap = a->capfix ? a->capfix * 2 : 16;
		struct asm_fixup *grown = realloc(a->fix, cap * sizeof(*grown));
		if (!grown)
			return fail_nomem(a);
		a->fix = grown;
		a->capfix = cap;
	}
	a->fix[a->nfix++] = (struct asm_fixup){pc, kind, name->s, name->len, a->line,
					       col_of(a, name->s)};
	return 0;
}

/* ---- labels ------------------------------------------------------------ */

static size_t hash_name(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static struct asm_label *find_label(const struct assembler *a, const char *s, size_t len)
{
	if (!a->nslots)
		return NULL;
	size_t mask = a->nslots - 1;
	for (size_t i = hash_name(s, len) & mask; a->slots[i]; i = (i + 1) & mask) {
		struct asm_label *l = &a->labels[a->slots[i] - 1];
		if (l->len == len && memcmp(l->name, s, len) == 0)
			return l;
	}
	return NULL;
}

static int rehash_labels(struct assembler *a, size_t nslots)
{
	size_t *slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return fail_nomem(a);
	for (size_t k = 0; k < a->nlabels; k++) {
		size_t i = hash_name(a->labels[k].name, a->labels[k].len) & (nslots - 1);
		while (slots[i])
			i = (i + 1) & (nslots - 1);
		slots[i] = k + 1;
	}
	free(a->slots);
	a->slots = slots;
	a->nslots = nslots;
	return 0;
}

static int define_label(struct assembler *a, const struct token *t)
{
	struct reg r;
	char d[160];
	if (asm_reg_from_token(t, &r))
		return asm_fail_at(a, t->s, "label name %s is a register", asm_describe(t, d, sizeof(d)));
	const struct asm_label *old = find_label(a, t->s, t->len);
	if (old)
		return asm_fail_at(a, t->s, "duplicate label %s (first defined on line %d)",
			       asm_describe(t, d, sizeof(d)), old->line);
	if (a->nlabels == a->caplabels) {
		size_t cap = a->caplabels ? a->caplabels * 2 : 16;
		struct asm_label *grown = realloc(a->labels, cap * sizeof(*grown));
		if (!grown)
			return fail_nomem(a);
		a->labels = grown;
		a->caplabels = cap;
	}
	a->labels[a->nlabels++] = (struct asm_label){t->s, t->len, a->n, a->line};
	if (a->nlabels * 2 > a->nslots)
		return rehash_labels(a, a->nslots ? a->nslots * 2 : 32);
	size_t mask = a->nslots - 1, i = hash_name(t->s, t->len) & mask;
	while (a->slots[i])
		i = (i + 1) & mask;
	a->slots[i] = a->nlabels;
	return 0;
}

/* ---- operands shared by both syntaxes --------------------------------- */

/* llvm-objdump prints "goto +3 <LBB0_3>": the part in angle brackets is a note. */
static void skip_annotation(struct assembler *a)
{
	const char *p = asm_skip_blanks(a, a->p);
	if (p >= a->le || *p != '<')
		return;
	const char *q = p;
	while (q < a->le && *q != '>')
		q++;
	if (q < a->le && asm_skip_blanks(a, q + 1) == a->le)
		a->p = a->le;
}

/* "pc+N", "pc-N", "+N", "-N" or a label. */
int asm_parse_target(struct assembler *a, struct target *tg)
{
	struct token t, t2;
	asm_peek(a, &t);
	tg->is_label = false;
	if (t.kind == TK_IDENT && asm_tok_is(&t, "pc")) {
		asm_lex_at(a, t.s + t.len, &t2);
		if (t2.kind == TK_PUNCT && (asm_tok_is(&t2, "+") || asm_tok_is(&t2, "-")))
			a->p = t.s + t.len;
	}
	asm_peek(a, &t);
	struct reg r;
	if (t.kind == TK_PUNCT && (asm_tok_is(&t, "+") || asm_tok_is(&t, "-"))) {
		int ret = asm_parse_num(a, &tg->rel, "jump offset");
		if (ret)
			return ret;
	} else if (t.kind == TK_IDENT && t.s[0] != '%' && !asm_reg_from_token(&t, &r)) {
		tg->is_label = true;
		tg->label = t;
		a->p = t.s + t.len;
	} else {
		return asm_fail_expected(a, &t, "jump target (pc+N, +N, -N or a label)");
	}
	skip_annotation(a);
	return 0;
}

/* Resolve a parsed target into a 16-bit offset now, or a fixup later. */
int asm_target_off16(struct assembler *a, const struct target *tg, int16_t *off)
{
	*off = 0;
	if (tg->is_label)
		return add_fixup(a, FIX_OFF16, a->n, &tg->label);
	return asm_num_off16(a, &tg->rel, "jump offset", off);
}

int asm_target_imm32(struct assembler *a, const struct target *tg, enum fixup_kind kind,
			int32_t *imm)
{
	char b[32];
	*imm = 0;
	if (tg->is_label)
		return add_fixup(a, kind, a->n, &tg->label);
	if (!asm_num_fits(&tg->rel, INT32_MIN, INT32_MAX))
		return asm_fail_at(a, tg->rel.at, "jump offset %s does not fit in 32 bits",
			       asm_num_text(&tg->rel, b, sizeof(b)));
	*imm = (int32_t)asm_num_value(&tg->rel);
	return 0;
}

/* An optional "+N" or "-N" (spaces allowed around the sign): *present
 * says whether there was one; v gets its value, sign folded in. */
int asm_parse_signed_tail(struct assembler *a, const char *what, struct num *v, bool *present)
{
	struct token t;
	*present = false;
	asm_peek(a, &t);
	if (t.kind != TK_PUNCT || !(asm_tok_is(&t, "+") || asm_tok_is(&t, "-")))
		return 0;
	bool minus = t.s[0] == '-';
	a->p = t.s + t.len;
	int ret = asm_parse_num(a, v, what);
	if (ret)
		return ret;
	v->at = t.s;
	if (minus)
		v->neg = !v->neg;
	*present = true;
	return 0;
}

/* "+N" or "-N" after a base register, up to the closing punctuation. */
int asm_parse_offset_tail(struct assembler *a, int16_t *off, const char *close)
{
	struct num v;
	bool present;
	*off = 0;
	int ret = asm_parse_signed_tail(a, "offset", &v, &present);
	if (!ret && present)
		ret = asm_num_off16(a, &v, "offset", off);
	return ret ? ret : asm_expect_punct(a, close);
}

/* C syntax "(r1 +8)", "(r10 - 8)", "(r1)". */
int asm_parse_c_addr(struct assembler *a, struct reg *base, int16_t *off)
{
	int ret = asm_expect_punct(a, "(");
	if (!ret)
		ret = asm_parse_reg(a, base, WIDTH_64);
	return ret ? ret : asm_parse_offset_tail(a, off, ")");
}

/* Mnemonic syntax "[%r1+8]", "[r10 - 8]", "[%r1]". */
static int parse_mem(struct assembler *a, struct reg *base, int16_t *off)
{
	int ret = asm_expect_punct(a, "[");
	if (!ret)
		ret = asm_parse_reg(a, base, WIDTH_64);
	return ret ? ret : asm_parse_offset_tail(a, off, "]");
}

/* "u8".."u64" (and "s8".."s32" when sign_ok) as a BPF size; *sx for the signed ones. */
static int parse_size_name(struct assembler *a, bool sign_ok, unsigned *size, bool *sx)
{
	static const struct { const char *name; unsigned size; bool sx; } sizes[] = {
		{"u8", BPF_B, false},  {"u16", BPF_H, false}, {"u32", BPF_W, false},
		{"u64", BPF_DW, false}, {"s8", BPF_B, true},  {"s16", BPF_H, true},
		{"s32", BPF_W, true},
	};
	struct token t;
	asm_next(a, &t);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (t.kind == TK_IDENT && asm_tok_is(&t, sizes[i].name) && (sign_ok || !sizes[i].sx)) {
			*size = sizes[i].size;
			*sx = sizes[i].sx;
			return 0;
		}
	}
	return asm_fail_expected(a, &t, sign_ok ? "u8, u16, u32, u64, s8, s16 or s32"
					    : "u8, u16, u32 or u64");
}

/* "(u32 *)" after the opening parenthesis was read. */
int asm_parse_cast_rest(struct assembler *a, bool sign_ok, unsigned *size, bool *sx)
{
	int ret = parse_size_name(a, sign_ok, size, sx);
	if (!ret)
		ret = asm_expect_punct(a, "*");
	return ret ? ret : asm_expect_punct(a, ")");
}

/* lddw operands: map[fd:N], map[fd:N][0]+OFF, btf_id[N], subprog[TARGET],
 * map[idx:N], map[idx:N]+OFF.  The name was read; returns the pseudo source. */
static int parse_pseudo(struct assembler *a, const struct token *name, unsigned *src,
			uint64_t *imm64, struct target *func)
{
	int32_t lo = 0, hi = 0;
	int ret;
	func->is_label = false;
	if (asm_tok_is(name, "map")) {
		struct token kind;
		if ((ret = asm_expect_punct(a, "[")))
			return ret;
		asm_next(a, &kind);
		bool fd = asm_tok_is(&kind, "fd");
		if (kind.kind == TK_IDENT && asm_tok_is(&kind, "id"))
			return asm_fail_at(a, kind.s, "map[id:N] names a loaded map and cannot be "
						  "assembled; use map[fd:N] or map[idx:N]");
		if (kind.kind != TK_IDENT || (!fd && !asm_tok_is(&kind, "idx")))
			return asm_fail_expected(a, &kind, "'fd' or 'idx'");
		if ((ret = asm_expect_punct(a, ":")) || (ret = asm_parse_imm32(a, "map number", &lo)) ||
		    (ret = asm_expect_punct(a, "]")))
			return ret;
		bool value = false;
		if (asm_peek_punct(a, "[")) {
			struct num z;
			a->p = asm_skip_blanks(a, a->p) + 1;
			if ((ret = asm_parse_num(a, &z, "0")))
				return ret;
			if (z.mag != 0)
				return asm_fail_at(a, z.at, "only element [0] of a map value can be addressed");
			if ((ret = asm_expect_punct(a, "]")))
				return ret;
			value = true;
		}
		if (asm_peek_punct(a, "+")) {
			a->p = asm_skip_blanks(a, a->p) + 1;
			if ((ret = asm_parse_imm32(a, "map value offset", &hi)))
				return ret;
			value = true;
		}
		if (fd)
			*src = value ? BPF_PSEUDO_MAP_VALUE : BPF_PSEUDO_MAP_FD;
		else
			*src = value ? BPF_PSEUDO_MAP_IDX_VALUE : BPF_PSEUDO_MAP_IDX;
	} else if (asm_tok_is(name, "btf_id")) {
		if ((ret = asm_expect_punct(a, "[")) || (ret = asm_parse_imm32(a, "BTF id", &lo)) ||
		    (ret = asm_expect_punct(a, "]")))
			return ret;
		*src = BPF_PSEUDO_BTF_ID;
	} else {
		if ((ret = asm_expect_punct(a, "[")) || (ret = asm_parse_target(a, func)))
			return ret;
		if (!func->is_label && (ret = asm_target_imm32(a, func, FIX_IMM32, &lo)))
			return ret;
		if ((ret = asm_expect_punct(a, "]")))
			return ret;
		*src = BPF_PSEUDO_FUNC;
	}
	*imm64 = (uint64_t)(uint32_t)lo | ((uint64_t)(uint32_t)hi << 32);
	return 0;
}

bool asm_is_pseudo_name(const struct token *t)
{
	return t->kind == TK_IDENT &&
	       (asm_tok_is(t, "map") || asm_tok_is(t, "btf_id") || asm_tok_is(t, "subprog"));
}

/* Emit an lddw whose operand is a pseudo form (its name already read). */
int asm_finish_pseudo_lddw(struct assembler *a, unsigned dst, const struct token *name)
{
	unsigned src = 0;
	uint64_t imm64 = 0;
	struct target func;
	int ret = parse_pseudo(a, name, &src, &imm64, &func);
	if (ret)
		return ret;
	/* The fixup must name the lddw's slot, which is the next one written. */
	if (func.is_label && (ret = add_fixup(a, FIX_IMM32, a->n, &func.label)))
		return ret;
	return asm_emit_lddw(a, dst, src, imm64);
}

/* "call ...": helper, local or kfunc, in either syntax. */
static int parse_call(struct assembler *a)
{
	struct token t, t2;
	struct target tg;
	int32_t imm = 0;
	int16_t off = 0;
	int ret;
	asm_peek(a, &t);
	struct reg r;

	if (t.kind == TK_IDENT && asm_tok_is(&t, "local")) {
		a->p = t.s + t.len;
		if ((ret = asm_parse_target(a, &tg)) || (ret = asm_target_imm32(a, &tg, FIX_IMM32, &imm)))
			return ret;
		return asm_emit(a, asm_op_for(BPF_JMP | BPF_CALL, BPF_PSEUDO_CALL), 0, 0, 0, imm);
	}
	if (t.kind == TK_IDENT && asm_tok_is(&t, "helper")) {
		a->p = t.s + t.len;
		if ((ret = asm_parse_imm32(a, "helper number", &imm)))
			return ret;
		return asm_emit(a, asm_op_for(BPF_JMP | BPF_CALL, 0), 0, 0, 0, imm);
	}
	if (t.kind == TK_IDENT && (asm_tok_is(&t, "kfunc") || asm_tok_is(&t, "runtime"))) {
		a->p = t.s + t.len;
		if (asm_peek_punct(a, "#"))
			a->p = asm_skip_blanks(a, a->p) + 1;
		if ((ret = asm_parse_imm32(a, "kfunc BTF id", &imm)))
			return ret;
		if (asm_peek_punct(a, "@")) {
			struct num v;
			a->p = asm_skip_blanks(a, a->p) + 1;
			if ((ret = asm_parse_num(a, &v, "module BTF fd")) ||
			    (ret = asm_num_off16(a, &v, "module BTF fd", &off)))
				return ret;
		}
		return asm_emit(a, asm_op_for(BPF_JMP | BPF_CALL, BPF_PSEUDO_KFUNC_CALL), 0, 0, off, imm);
	}
	bool pc_rel = false;
	if (t.kind == TK_IDENT && asm_tok_is(&t, "pc")) {
		asm_lex_at(a, t.s + t.len, &t2);
		pc_rel = t2.kind == TK_PUNCT && (asm_tok_is(&t2, "+") || asm_tok_is(&t2, "-"));
	}
	/* A signed number is relative: a local call ("call pc+5", "call -1"). */
	if (pc_rel || (t.kind == TK_PUNCT && (asm_tok_is(&t, "+") || asm_tok_is(&t, "-")))) {
		if ((ret = asm_parse_target(a, &tg)) || (ret = asm_target_imm32(a, &tg, FIX_IMM32, &imm)))
			return ret;
		return asm_emit(a, asm_op_for(BPF_JMP | BPF_CALL, BPF_PSEUDO_CALL), 0, 0, 0, imm);
	}
	if (t.kind == TK_PUNCT && asm_tok_is(&t, "#")) {
		a->p = t.s + t.len;
		if ((ret = asm_parse_imm32(a, "helper number", &imm)))
			return ret;
		return asm_emit(a, asm_op_for(BPF_JMP | BPF_CALL, 0), 0, 0, 0, imm);
	}
	if (t.kind == TK_NUM) {
		if ((ret = asm_parse_imm32(a, "helper number", &imm)))
			return ret;
		return asm_emit(a, asm_op_for(BPF_JMP | BPF_CALL, 0), 0, 0, 0, imm);
	}
	if (t.kind == TK_IDENT && t.s[0] != '%' && !asm_reg_from_token(&t, &r)) {
		a->p = t.s + t.len;
		/* "name#id" as bpftool prints it: the number is what counts. */
		if (asm_peek_punct(a, "#")) {
			a->p = asm_skip_blanks(a, a->p) + 1;
			if ((ret = asm_parse_imm32(a, "helper number", &imm)))
				return ret;
			return asm_emit(a, asm_op_for(BPF_JMP | BPF_CALL, 0), 0, 0, 0, imm);
		}
		skip_annotation(a);
		if ((ret = add_fixup(a, FIX_CALL_NAME, a->n, &t)))
			return ret;
		return asm_emit(a, asm_op_for(BPF_JMP | BPF_CALL, 0), 0, 0, 0, 0);
	}
	return asm_fail_expected(a, &t, "call target (helper name or number, pc+N, label or kfunc#N)");
}

/* ---- the mnemonic syntax -------------------------------------------------- */

/* The row with this mnemonic and shape (shape -1: any but an atomic). */
static int find_mnemonic(const char *s, size_t len, int shape)
{
	for (int op = 0; op < BEE_OP__COUNT; op++) {
		const struct bee_op_info *row = &bee_op_info[op];
		if (strlen(row->mnemonic) != len || memcmp(row->mnemonic, s, len) != 0)
			continue;
		if (shape < 0 ? row->shape != BEE_SH_ATOMIC : row->shape == shape)
			return op;
	}
	return -1;
}

/* "lock add [%r1+0], %r2", "lock fetch add32 [%r1+0], %r2" after "lock". */
static int parse_lock_mnemonic(struct assembler *a)
{
	struct token t, t2;
	char name[40];
	asm_next(a, &t);
	if (t.kind != TK_IDENT)
		return asm_fail_expected(a, &t, "atomic operation (add, fetch add, xchg, cmpxchg...)");
	size_t len = 0;
	if (asm_tok_is(&t, "fetch")) {
		asm_next(a, &t2);
		if (t2.kind != TK_IDENT)
			return asm_fail_expected(a, &t2, "atomic operation after 'fetch'");
		if (t2.len < sizeof(name) - 7)
			len = (size_t)snprintf(name, sizeof(name), "fetch %.*s", (int)t2.len, t2.s);
	} else if (t.len < sizeof(name)) {
		len = (size_t)snprintf(name, sizeof(name), "%.*s", (int)t.len, t.s);
	}
	int op = len ? find_mnemonic(name, len, BEE_SH_ATOMIC) : -1;
	if (op < 0) {
		char d[160];
		t.len = (size_t)(a->p - t.s);
		return asm_fail_at(a, t.s, "unknown atomic operation %s", asm_describe(&t, d, sizeof(d)));
	}
	struct reg base, src;
	int16_t off;
	int ret;
	if ((ret = parse_mem(a, &base, &off)) || (ret = asm_expect_punct(a, ",")) ||
	    (ret = asm_parse_reg(a, &src, WIDTH_64)))
		return ret;
	return asm_emit(a, op, base.num, src.num, off, 0);
}

static int parse_mnemonic(struct assembler *a, const struct token *m)
{
	const char *name = m->s;
	size_t len = m->len;
	char alias[16];
	/* bpf_conformance spells the 64-bit byte swaps "swap16".."swap64". */
	if (len == 6 && memcmp(name, "swap", 4) == 0) {
		len = (size_t)snprintf(alias, sizeof(alias), "b%.*s", (int)len, name);
		name = alias;
	}
	int op = find_mnemonic(name, len, -1);
	if (op < 0) {
		char d[160];
		return asm_fail_at(a, m->s, "unknown instruction %s", asm_describe(m, d, sizeof(d)));
	}
	struct reg dst, src, base;
	struct token t;
	struct target tg;
	int16_t off = 0;
	int32_t imm = 0;
	int ret;

	switch ((enum bee_shape)bee_op_info[op].shape) {
	case BEE_SH_ALU_IMM:
	case BEE_SH_ALU_REG:
		if ((ret = asm_parse_reg(a, &dst, WIDTH_64)) || (ret = asm_expect_punct(a, ",")))
			return ret;
		asm_peek(a, &t);
		if (asm_reg_from_token(&t, &src)) {
			if ((ret = asm_parse_reg(a, &src, WIDTH_64)))
				return ret;
			return asm_emit(a, find_mnemonic(name, len, BEE_SH_ALU_REG), dst.num, src.num, 0, 0);
		}
		if ((ret = asm_parse_imm32(a, "register or immediate", &imm)))
			return ret;
		return asm_emit(a, find_mnemonic(name, len, BEE_SH_ALU_IMM), dst.num, 0, 0, imm);
	case BEE_SH_NEG:
	case BEE_SH_END:
		if ((ret = asm_parse_reg(a, &dst, WIDTH_64)))
			return ret;
		return asm_emit(a, op, dst.num, 0, 0, 0);
	case BEE_SH_MOVSX:
		if ((ret = asm_parse_reg(a, &dst, WIDTH_64)) || (ret = asm_expect_punct(a, ",")) ||
		    (ret = asm_parse_reg(a, &src, WIDTH_64)))
			return ret;
		return asm_emit(a, op, dst.num, src.num, 0, 0);
	case BEE_SH_LDX:
	case BEE_SH_LOAD_ACQ:
		if ((ret = asm_parse_reg(a, &dst, WIDTH_64)) || (ret = asm_expect_punct(a, ",")) ||
		    (ret = parse_mem(a, &base, &off)))
			return ret;
		return asm_emit(a, op, dst.num, base.num, off, 0);
	case BEE_SH_ST:
		if ((ret = parse_mem(a, &base, &off)) || (ret = asm_expect_punct(a, ",")) ||
		    (ret = asm_parse_imm32(a, "immediate", &imm)))
			return ret;
		return asm_emit(a, op, base.num, 0, off, imm);
	case BEE_SH_STX:
	case BEE_SH_STORE_REL:
		if ((ret = parse_mem(a, &base, &off)) || (ret = asm_expect_punct(a, ",")) ||
		    (ret = asm_parse_reg(a, &src, WIDTH_64)))
			return ret;
		return asm_emit(a, op, base.num, src.num, off, 0);
	case BEE_SH_LDDW: {
		if ((ret = asm_parse_reg(a, &dst, WIDTH_64)) || (ret = asm_expect_punct(a, ",")))
			return ret;
		asm_peek(a, &t);
		if (asm_is_pseudo_name(&t)) {
			a->p = t.s + t.len;
			return asm_finish_pseudo_lddw(a, dst.num, &t);
		}
		struct num v;
		uint64_t imm64;
		if ((ret = asm_parse_num(a, &v, "immediate")) || (ret = asm_num_imm64(a, &v, &imm64)))
			return ret;
		return asm_emit_lddw(a, dst.num, 0, imm64);
	}
	case BEE_SH_LD_ABS:
		if ((ret = asm_parse_imm32(a, "packet offset", &imm)))
			return ret;
		return asm_emit(a, op, 0, 0, 0, imm);
	case BEE_SH_LD_IND:
		if ((ret = asm_parse_reg(a, &src, WIDTH_64)) || (ret = asm_expect_punct(a, ",")) ||
		    (ret = asm_parse_imm32(a, "packet offset", &imm)))
			return ret;
		return asm_emit(a, op, 0, src.num, 0, imm);
	case BEE_SH_JA:
		if ((ret = asm_parse_target(a, &tg)) || (ret = asm_target_off16(a, &tg, &off)))
			return ret;
		return asm_emit(a, op, 0, 0, off, 0);
	case BEE_SH_JA32:
		if ((ret = asm_parse_target(a, &tg)) || (ret = asm_target_imm32(a, &tg, FIX_IMM32, &imm)))
			return ret;
		return asm_emit(a, op, 0, 0, 0, imm);
	case BEE_SH_JCC_IMM:
	case BEE_SH_JCC_REG: {
		int shape = BEE_SH_JCC_IMM;
		unsigned srcnum = 0;
		if ((ret = asm_parse_reg(a, &dst, WIDTH_64)) || (ret = asm_expect_punct(a, ",")))
			return ret;
		asm_peek(a, &t);
		if (asm_reg_from_token(&t, &src)) {
			if ((ret = asm_parse_reg(a, &src, WIDTH_64)))
				return ret;
			shape = BEE_SH_JCC_REG;
			srcnum = src.num;
		} else if ((ret = asm_parse_imm32(a, "register or immediate", &imm))) {
			return ret;
		}
		if ((ret = asm_expect_punct(a, ",")) || (ret = asm_parse_target(a, &tg)) ||
		    (ret = asm_target_off16(a, &tg, &off)))
			return ret;
		return asm_emit(a, find_mnemonic(name, len, shape), dst.num, srcnum, off, imm);
	}
	case BEE_SH_EXIT:
		return asm_emit(a, op, 0, 0, 0, 0);
	case BEE_SH_CALL_HELPER:
	case BEE_SH_CALL_LOCAL:
	case BEE_SH_CALL_KFUNC:
		return parse_call(a); /* not reached: "call" is handled before */
	case BEE_SH_ATOMIC:
	case BEE_SH__COUNT:
		break;
	}
	char d[160];
	return asm_fail_at(a, m->s, "unknown instruction %s", asm_describe(m, d, sizeof(d)));
}

/* ---- lines --------------------------------------------------------------- */

static int parse_insn(struct assembler *a)
{
	struct token t;
	asm_next(a, &t);
	int ret = asm_c_insn(a, &t);
	if (ret != ASM_NOT_C)
		return ret;
	if (t.kind != TK_IDENT)
		return asm_fail_expected(a, &t, "instruction");
	if (asm_tok_is(&t, "call"))
		return parse_call(a);
	if (asm_tok_is(&t, "lock"))
		return parse_lock_mnemonic(a);
	return parse_mnemonic(a, &t);
}

/* Where comments start on the line [p, eol), or eol. */
static const char *comment_start(const char *ls, const char *eol)
{
	bool only_blanks = true;
	for (const char *p = ls; p < eol; p++) {
		if (*p == ';' || (*p == '/' && p + 1 < eol && p[1] == '/'))
			return p;
		if (*p == '#') {
			if (only_blanks)
				return p;
			if (is_blank(p[-1]) && !(p + 1 < eol && is_digit(p[1])))
				return p;
		}
		if (!is_blank(*p))
			only_blanks = false;
	}
	return eol;
}

static bool all_hex(const struct token *t)
{
	if (t->len == 0 || (t->kind != TK_NUM && t->kind != TK_IDENT))
		return false;
	for (size_t i = 0; i < t->len; i++)
		if (!is_hex(t->s[i]))
			return false;
	return true;
}

/* llvm-objdump's raw bytes: 8 or 16 two-digit hex numbers, then the text. */
static const char *bytes_prefix_end(const struct assembler *a, const char *p)
{
	const char *after8 = NULL;
	int count = 0;
	for (;;) {
		const char *r = asm_skip_blanks(a, p);
		if (a->le - r < 3 || !is_hex(r[0]) || !is_hex(r[1]) || !is_blank(r[2]))
			break;
		p = r + 2;
		if (++count == 8)
			after8 = p;
		if (count == 16)
			return p;
	}
	return count == 8 ? after8 : NULL;
}

static int assemble_line(struct assembler *a)
{
	struct token t, t2;
	int ret;
	a->force_lddw = false;

	/* bpftool's function headers, "int xdp_prog(struct xdp_md * ctx):".  No
	 * instruction ends in ':', and a label has no parenthesis. */
	const char *last = a->le;
	while (last > a->ls && is_blank(last[-1]))
		last--;
	if (last > a->ls && last[-1] == ':' && memchr(a->ls, '(', (size_t)(last - a->ls)))
		return 0;
	/* llvm-objdump's headers: "p.o:\tfile format elf64-bpf" and
	 * "Disassembly of section xdp:". */
	const char *first = asm_skip_blanks(a, a->ls);
	static const char disassembly[] = "Disassembly of section ";
	if ((size_t)(a->le - first) >= sizeof(disassembly) - 1 &&
	    memcmp(first, disassembly, sizeof(disassembly) - 1) == 0)
		return 0;
	static const char file_format[] = "file format ";
	for (const char *q = a->ls; (size_t)(a->le - q) >= sizeof(file_format); q++)
		if (is_blank(q[0]) && memcmp(q + 1, file_format, sizeof(file_format) - 1) == 0)
			return 0;

	/* Labels. */
	for (;;) {
		asm_peek(a, &t);
		if (t.kind != TK_IDENT || t.s[0] == '%')
			break;
		asm_lex_at(a, t.s + t.len, &t2);
		if (t2.kind != TK_PUNCT || !asm_tok_is(&t2, ":"))
			break;
		/* "a0:" followed by bytes is an llvm-objdump address, not a label. */
		if (all_hex(&t) && bytes_prefix_end(a, t2.s + 1))
			break;
		if ((ret = define_label(a, &t)))
			return ret;
		a->p = t2.s + 1;
	}

	/* An index or address: bpftool's "  12:", llvm-objdump's "      a0:". */
	asm_peek(a, &t);
	if (all_hex(&t)) {
		asm_lex_at(a, t.s + t.len, &t2);
		if (t2.kind == TK_PUNCT && asm_tok_is(&t2, ":")) {
			a->p = t2.s + 1;
			asm_peek(a, &t);
			/* llvm-objdump -r: "0000000000000008:  R_BPF_64_64  map". */
			if (t.kind == TK_IDENT && t.len > 6 && memcmp(t.s, "R_BPF_", 6) == 0)
				return 0;
		} else if (t2.kind == TK_PUNCT && asm_tok_is(&t2, "<")) {
			/* llvm-objdump's symbol header: "0000000000000000 <prog>:". */
			const char *q = t2.s;
			while (q < a->le && *q != '>')
				q++;
			if (q < a->le && q + 1 < a->le && q[1] == ':' && asm_skip_blanks(a, q + 2) == a->le)
				return 0;
		}
	}
	const char *q = bytes_prefix_end(a, a->p);
	if (q)
		a->p = q;
	/* bpftool's opcode: "(b7) ".  No instruction starts with '('. */
	q = asm_skip_blanks(a, a->p);
	if (a->le - q >= 4 && q[0] == '(' && is_hex(q[1]) && is_hex(q[2]) && q[3] == ')') {
		a->force_lddw = (hex_digit(q[1]) << 4 | hex_digit(q[2])) == (BPF_LD | BPF_IMM | BPF_DW);
		a->p = q + 4;
	}

	asm_peek(a, &t);
	if (t.kind == TK_END)
		return 0;
	if ((ret = parse_insn(a)))
		return ret;
	asm_peek(a, &t);
	if (t.kind != TK_END) {
		char d[160];
		return asm_fail_at(a, t.s, "unexpected %s after the instruction", asm_describe(&t, d, sizeof(d)));
	}
	return 0;
}

static int resolve_fixups(struct assembler *a)
{
	for (size_t i = 0; i < a->nfix; i++) {
		const struct asm_fixup *f = &a->fix[i];
		struct bpf_insn *insn = &a->insns[f->pc];
		const struct asm_label *l = find_label(a, f->name, f->len);
		int64_t target;
		char name[72];
		snprintf(name, sizeof(name), "%.*s", (int)(f->len > 64 ? 64 : f->len), f->name);
		if (l) {
			target = (int64_t)l->index;
		} else if (f->kind == FIX_CALL_NAME) {
			int32_t id = f->len <= 64 ? bee_helper_id(name) : -1;
			if (id < 0)
				return bee_error_set(a->err, -EINVAL, -1, f->line, f->col,
						     "unknown helper or undefined label '%s'", name);
			insn->imm = id;
			continue;
		} else if (strcmp(name, "exit") == 0 && a->first_exit >= 0) {
			target = a->first_exit;
		} else {
			return bee_error_set(a->err, -EINVAL, -1, f->line, f->col,
					     "undefined label '%s'", name);
		}
		int64_t rel = target - (int64_t)f->pc - 1;
		switch (f->kind) {
		case FIX_OFF16:
			if (rel < INT16_MIN || rel > INT16_MAX)
				return bee_error_set(a->err, -EINVAL, -1, f->line, f->col,
						     "jump to '%s' (offset %" PRId64
						     ") does not fit in 16 bits",
						     name, rel);
			insn->off = (int16_t)rel;
			break;
		case FIX_CALL_NAME:
			insn->src_reg = BPF_PSEUDO_CALL;
			/* fall through */
		case FIX_IMM32:
			if (rel < INT32_MIN || rel > INT32_MAX)
				return bee_error_set(a->err, -EINVAL, -1, f->line, f->col,
						     "jump to '%s' does not fit in 32 bits", name);
			insn->imm = (int32_t)rel;
			break;
		}
	}
	return 0;
}

int bee_asm(const char *text, struct bpf_insn **out, size_t *n, struct bee_error *err)
{
	struct assembler a;
	memset(&a, 0, sizeof(a));
	a.err = err;
	a.first_exit = -1;
	*out = NULL;
	*n = 0;

	int ret = 0;
	const char *p = text;
	for (int line = 1;; line = line < INT_MAX ? line + 1 : line) {
		const char *eol = p;
		while (*eol && *eol != '\n')
			eol++;
		a.line = line;
		a.ls = p;
		a.le = comment_start(p, eol);
		a.p = p;
		if ((ret = assemble_line(&a)))
			goto fail;
		if (!*eol)
			break;
		p = eol + 1;
	}
	if ((ret = resolve_fixups(&a)))
		goto fail;
	if (!a.insns) {
		a.insns = calloc(1, sizeof(*a.insns));
		if (!a.insns) {
			ret = bee_error_set(err, -ENOMEM, -1, 0, 0, "out of memory");
			goto fail;
		}
	}
	free(a.fix);
	free(a.labels);
	free(a.slots);
	*out = a.insns;
	*n = a.n;
	return 0;
fail:
	free(a.insns);
	free(a.fix);
	free(a.labels);
	free(a.slots);
	return ret;
}
