/*
 * disasm.c - instructions to text, in the C-like syntax or the mnemonic one.
 *
 * Theory: every instruction is decoded once by bee_decode; the decoded
 * struct's op names one row of BEE_INSN_TABLE and the row's shape says
 * which operands to print.  One switch per syntax over the shape (with no
 * default, so a new shape fails the build) prints it.
 *
 * The C syntax is the kernel's print format (kernel/bpf/disasm.c, as
 * bpftool prints "prog dump xlated") with these choices where the kernel's
 * text is not something an assembler can read back:
 *  - lddw always ends in " ll", so it can never be read as a mov;
 *  - lddw pseudo sources print as map[fd:N], map[fd:N][0]+OFF, btf_id[N],
 *    subprog[+N], map[idx:N], map[idx:N]+OFF (a hook may print others);
 *  - kfunc calls print as "call kfunc#ID", with "@OFF" for a module BTF.
 * The mnemonic syntax uses the table's mnemonic column.
 *
 * With BEE_DISASM_LABELS, jump and call targets inside the program become
 * labels "L<index>", each printed on its own line before its target;
 * targets that cannot carry a label (outside the program, or the second
 * slot of an lddw) keep their numeric form, so the output always
 * reassembles to the same bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "disasm.h"

const char *const bee_c_alu_op[16] = {
	[BPF_ADD >> 4] = "+=",  [BPF_SUB >> 4] = "-=",  [BPF_MUL >> 4] = "*=",
	[BPF_DIV >> 4] = "/=",  [BPF_OR >> 4] = "|=",   [BPF_AND >> 4] = "&=",
	[BPF_LSH >> 4] = "<<=", [BPF_RSH >> 4] = ">>=", [BPF_MOD >> 4] = "%=",
	[BPF_XOR >> 4] = "^=",  [BPF_MOV >> 4] = "=",   [BPF_ARSH >> 4] = "s>>=",
};

const char *const bee_c_alu_sop[16] = {
	[BPF_DIV >> 4] = "s/=",
	[BPF_MOD >> 4] = "s%=",
};

const char *const bee_c_jmp_op[16] = {
	[BPF_JEQ >> 4] = "==",  [BPF_JGT >> 4] = ">",   [BPF_JGE >> 4] = ">=",
	[BPF_JSET >> 4] = "&",  [BPF_JNE >> 4] = "!=",  [BPF_JSGT >> 4] = "s>",
	[BPF_JSGE >> 4] = "s>=", [BPF_JLT >> 4] = "<",  [BPF_JLE >> 4] = "<=",
	[BPF_JSLT >> 4] = "s<", [BPF_JSLE >> 4] = "s<=",
};

const char *bee_c_size_name(unsigned size_field, bool sign_extend)
{
	switch (size_field) {
	case BPF_B:  return sign_extend ? "s8" : "u8";
	case BPF_H:  return sign_extend ? "s16" : "u16";
	case BPF_W:  return sign_extend ? "s32" : "u32";
	default:     return sign_extend ? "s64" : "u64";
	}
}

/* A bounded string builder: output past the end is dropped, never written. */
struct sbuf {
	char *buf;
	size_t cap;
	size_t len;
};

static void sb_printf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	if (sb->cap == 0 || sb->len + 1 >= sb->cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
	va_end(ap);
	if (w < 0)
		return;
	sb->len += (size_t)w;
	if (sb->len >= sb->cap)
		sb->len = sb->cap - 1;
}

/* Where jump targets get labels: is_label[i] for the n instructions. */
struct label_set {
	const unsigned char *is_label;
	size_t n;
};

/* Print a jump or call target: "L5", or "pc+3" (C) / "+3" (mnemonic). */
static void print_target(struct sbuf *sb, const struct label_set *labels, long target, long rel,
			 bool c_syntax)
{
	if (labels && target >= 0 && (size_t)target < labels->n && labels->is_label[target])
		sb_printf(sb, "L%ld", target);
	else
		sb_printf(sb, "%s%+ld", c_syntax ? "pc" : "", rel);
}

/* The operand of an lddw: a number, or a pseudo source's bracket form. */
static void print_lddw_operand(struct sbuf *sb, const struct bee_dinsn *d, size_t pc,
			       const struct bee_disasm_hooks *hooks,
			       const struct label_set *labels)
{
	uint32_t lo = (uint32_t)d->imm64, hi = (uint32_t)(d->imm64 >> 32);
	if (d->src != 0 && hooks && hooks->lddw_operand) {
		char tmp[128];
		tmp[0] = '\0';
		if (hooks->lddw_operand(hooks->cookie, d, pc, tmp, sizeof(tmp))) {
			tmp[sizeof(tmp) - 1] = '\0';
			sb_printf(sb, "%s", tmp);
			return;
		}
	}
	switch (d->src) {
	case BPF_PSEUDO_MAP_FD:
		sb_printf(sb, "map[fd:%" PRIu32 "]", lo);
		break;
	case BPF_PSEUDO_MAP_VALUE:
		sb_printf(sb, "map[fd:%" PRIu32 "][0]+%" PRIu32, lo, hi);
		break;
	case BPF_PSEUDO_BTF_ID:
		sb_printf(sb, "btf_id[%" PRIu32 "]", lo);
		break;
	case BPF_PSEUDO_FUNC:
		sb_printf(sb, "subprog[");
		print_target(sb, labels, (long)pc + 1 + d->imm, d->imm, false);
		sb_printf(sb, "]");
		break;
	case BPF_PSEUDO_MAP_IDX:
		sb_printf(sb, "map[idx:%" PRIu32 "]", lo);
		break;
	case BPF_PSEUDO_MAP_IDX_VALUE:
		sb_printf(sb, "map[idx:%" PRIu32 "]+%" PRIu32, lo, hi);
		break;
	default:
		sb_printf(sb, "0x%" PRIx64, d->imm64);
		break;
	}
}

/* The kernel's atomic op names (bpf_atomic_alu_string). */
static const char *atomic_alu_name(int32_t imm)
{
	switch (imm & ~BPF_FETCH) {
	case BPF_ADD: return "add";
	case BPF_AND: return "and";
	case BPF_OR:  return "or";
	default:      return "xor";
	}
}

static void format_c(struct sbuf *sb, const struct bee_dinsn *d, size_t pc,
		     const struct bee_disasm_hooks *hooks, const struct label_set *labels)
{
	const struct bee_op_info *row = &bee_op_info[d->op];
	uint8_t code = row->code;
	bool w32 = bee_op_is_32bit(d->op);
	char rc = w32 ? 'w' : 'r';
	unsigned opi = BPF_OP(code) >> 4;
	const char *size = bee_c_size_name(BPF_SIZE(code), false);

	switch ((enum bee_shape)row->shape) {
	case BEE_SH_ALU_IMM:
		sb_printf(sb, "%c%u %s %" PRId32, rc, d->dst,
			  row->match_value ? bee_c_alu_sop[opi] : bee_c_alu_op[opi], d->imm);
		break;
	case BEE_SH_ALU_REG:
		sb_printf(sb, "%c%u %s %c%u", rc, d->dst,
			  row->match_value ? bee_c_alu_sop[opi] : bee_c_alu_op[opi], rc, d->src);
		break;
	case BEE_SH_NEG:
		sb_printf(sb, "%c%u = -%c%u", rc, d->dst, rc, d->dst);
		break;
	case BEE_SH_END:
		if (BPF_CLASS(code) == BPF_ALU64)
			sb_printf(sb, "r%u = bswap%" PRId32 " r%u", d->dst, row->match_value, d->dst);
		else
			sb_printf(sb, "r%u = %s%" PRId32 " r%u", d->dst,
				  BPF_SRC(code) == BPF_TO_BE ? "be" : "le", row->match_value, d->dst);
		break;
	case BEE_SH_MOVSX:
		sb_printf(sb, "%c%u = (s%" PRId32 ")%c%u", rc, d->dst, row->match_value, rc, d->src);
		break;
	case BEE_SH_LDX:
		sb_printf(sb, "r%u = *(%s *)(r%u %+d)", d->dst,
			  bee_c_size_name(BPF_SIZE(code), BPF_MODE(code) == BPF_MEMSX), d->src, d->off);
		break;
	case BEE_SH_ST:
		sb_printf(sb, "*(%s *)(r%u %+d) = %" PRId32, size, d->dst, d->off, d->imm);
		break;
	case BEE_SH_STX:
		sb_printf(sb, "*(%s *)(r%u %+d) = r%u", size, d->dst, d->off, d->src);
		break;
	case BEE_SH_ATOMIC: {
		int32_t aop = row->match_value;
		const char *bits = BPF_SIZE(code) == BPF_DW ? "64" : "";
		if (aop == BPF_XCHG)
			sb_printf(sb, "r%u = atomic%s_xchg((%s *)(r%u %+d), r%u)", d->src, bits, size,
				  d->dst, d->off, d->src);
		else if (aop == BPF_CMPXCHG)
			sb_printf(sb, "r0 = atomic%s_cmpxchg((%s *)(r%u %+d), r0, r%u)", bits, size,
				  d->dst, d->off, d->src);
		else if (aop & BPF_FETCH)
			sb_printf(sb, "r%u = atomic%s_fetch_%s((%s *)(r%u %+d), r%u)", d->src, bits,
				  atomic_alu_name(aop), size, d->dst, d->off, d->src);
		else
			sb_printf(sb, "lock *(%s *)(r%u %+d) %s r%u", size, d->dst, d->off,
				  bee_c_alu_op[BPF_OP(aop) >> 4], d->src);
		break;
	}
	case BEE_SH_LOAD_ACQ:
		sb_printf(sb, "r%u = load_acquire((%s *)(r%u %+d))", d->dst, size, d->src, d->off);
		break;
	case BEE_SH_STORE_REL:
		sb_printf(sb, "store_release((%s *)(r%u %+d), r%u)", size, d->dst, d->off, d->src);
		break;
	case BEE_SH_LDDW:
		sb_printf(sb, "r%u = ", d->dst);
		print_lddw_operand(sb, d, pc, hooks, labels);
		sb_printf(sb, " ll");
		break;
	case BEE_SH_LD_ABS:
		sb_printf(sb, "r0 = *(%s *)skb[%" PRId32 "]", size, d->imm);
		break;
	case BEE_SH_LD_IND:
		sb_printf(sb, "r0 = *(%s *)skb[r%u + %" PRId32 "]", size, d->src, d->imm);
		break;
	case BEE_SH_JA:
		sb_printf(sb, "goto ");
		print_target(sb, labels, (long)pc + 1 + d->off, d->off, true);
		break;
	case BEE_SH_JA32:
		sb_printf(sb, "gotol ");
		print_target(sb, labels, (long)pc + 1 + d->imm, d->imm, true);
		break;
	case BEE_SH_JCC_IMM:
		sb_printf(sb, "if %c%u %s 0x%" PRIx32 " goto ", rc, d->dst, bee_c_jmp_op[opi],
			  (uint32_t)d->imm);
		print_target(sb, labels, (long)pc + 1 + d->off, d->off, true);
		break;
	case BEE_SH_JCC_REG:
		sb_printf(sb, "if %c%u %s %c%u goto ", rc, d->dst, bee_c_jmp_op[opi], rc, d->src);
		print_target(sb, labels, (long)pc + 1 + d->off, d->off, true);
		break;
	case BEE_SH_CALL_HELPER: {
		const char *name = bee_helper_name(d->imm);
		sb_printf(sb, "call %s#%" PRId32, name ? name : "unknown", d->imm);
		break;
	}
	case BEE_SH_CALL_LOCAL:
		sb_printf(sb, "call ");
		print_target(sb, labels, (long)pc + 1 + d->imm, d->imm, true);
		break;
	case BEE_SH_CALL_KFUNC:
		sb_printf(sb, "call kfunc#%" PRId32, d->imm);
		if (d->off)
			sb_printf(sb, "@%d", d->off);
		break;
	case BEE_SH_EXIT:
		sb_printf(sb, "exit");
		break;
	case BEE_SH__COUNT:
		break;
	}
}

static void format_mnemonic(struct sbuf *sb, const struct bee_dinsn *d, size_t pc,
			    const struct bee_disasm_hooks *hooks, const struct label_set *labels)
{
	const struct bee_op_info *row = &bee_op_info[d->op];
	const char *m = row->mnemonic;

	switch ((enum bee_shape)row->shape) {
	case BEE_SH_ALU_IMM:
		sb_printf(sb, "%s %%r%u, %" PRId32, m, d->dst, d->imm);
		break;
	case BEE_SH_ALU_REG:
	case BEE_SH_MOVSX:
		sb_printf(sb, "%s %%r%u, %%r%u", m, d->dst, d->src);
		break;
	case BEE_SH_NEG:
	case BEE_SH_END:
		sb_printf(sb, "%s %%r%u", m, d->dst);
		break;
	case BEE_SH_LDX:
	case BEE_SH_LOAD_ACQ:
		sb_printf(sb, "%s %%r%u, [%%r%u%+d]", m, d->dst, d->src, d->off);
		break;
	case BEE_SH_ST:
		sb_printf(sb, "%s [%%r%u%+d], %" PRId32, m, d->dst, d->off, d->imm);
		break;
	case BEE_SH_STX:
	case BEE_SH_STORE_REL:
		sb_printf(sb, "%s [%%r%u%+d], %%r%u", m, d->dst, d->off, d->src);
		break;
	case BEE_SH_ATOMIC:
		sb_printf(sb, "lock %s [%%r%u%+d], %%r%u", m, d->dst, d->off, d->src);
		break;
	case BEE_SH_LDDW:
		sb_printf(sb, "%s %%r%u, ", m, d->dst);
		print_lddw_operand(sb, d, pc, hooks, labels);
		break;
	case BEE_SH_LD_ABS:
		sb_printf(sb, "%s %" PRId32, m, d->imm);
		break;
	case BEE_SH_LD_IND:
		sb_printf(sb, "%s %%r%u, %" PRId32, m, d->src, d->imm);
		break;
	case BEE_SH_JA:
		sb_printf(sb, "%s ", m);
		print_target(sb, labels, (long)pc + 1 + d->off, d->off, false);
		break;
	case BEE_SH_JA32:
		sb_printf(sb, "%s ", m);
		print_target(sb, labels, (long)pc + 1 + d->imm, d->imm, false);
		break;
	case BEE_SH_JCC_IMM:
		sb_printf(sb, "%s %%r%u, 0x%" PRIx32 ", ", m, d->dst, (uint32_t)d->imm);
		print_target(sb, labels, (long)pc + 1 + d->off, d->off, false);
		break;
	case BEE_SH_JCC_REG:
		sb_printf(sb, "%s %%r%u, %%r%u, ", m, d->dst, d->src);
		print_target(sb, labels, (long)pc + 1 + d->off, d->off, false);
		break;
	case BEE_SH_CALL_HELPER:
		/* A bare number is a helper; a signed one would read as a local call. */
		if (d->imm >= 0)
			sb_printf(sb, "call %" PRId32, d->imm);
		else
			sb_printf(sb, "call helper %" PRId32, d->imm);
		break;
	case BEE_SH_CALL_LOCAL:
		sb_printf(sb, "call local ");
		print_target(sb, labels, (long)pc + 1 + d->imm, d->imm, false);
		break;
	case BEE_SH_CALL_KFUNC:
		sb_printf(sb, "call kfunc %" PRId32, d->imm);
		if (d->off)
			sb_printf(sb, "@%d", d->off);
		break;
	case BEE_SH_EXIT:
		sb_printf(sb, "%s", m);
		break;
	case BEE_SH__COUNT:
		break;
	}
}

static void format_insn(struct sbuf *sb, const struct bee_dinsn *d, size_t pc,
			enum bee_syntax syntax, const struct bee_disasm_hooks *hooks,
			const struct label_set *labels)
{
	if (syntax == BEE_SYNTAX_MNEMONIC)
		format_mnemonic(sb, d, pc, hooks, labels);
	else
		format_c(sb, d, pc, hooks, labels);
}

int bee_disasm_insn_hooked(const struct bpf_insn *insns, size_t n, size_t pc,
			   enum bee_syntax syntax, const struct bee_disasm_hooks *hooks,
			   char *buf, size_t len, struct bee_error *err)
{
	struct sbuf sb = {buf, len, 0};
	if (len)
		buf[0] = '\0';
	struct bee_dinsn d;
	struct bee_error local;
	struct bee_error *e = err ? err : &local;
	int slots = bee_decode(insns, n, pc, &d, e);
	if (slots < 0) {
		/* The decoder's reasons mostly start with "invalid" already. */
		if (strncmp(e->msg, "invalid", 7) == 0)
			sb_printf(&sb, "%s", e->msg);
		else
			sb_printf(&sb, "invalid instruction: %s", e->msg);
		return slots;
	}
	format_insn(&sb, &d, pc, syntax, hooks, NULL);
	return slots;
}

int bee_disasm_insn(const struct bpf_insn *insns, size_t n, size_t pc, enum bee_syntax syntax,
		    char *buf, size_t len, struct bee_error *err)
{
	return bee_disasm_insn_hooked(insns, n, pc, syntax, NULL, buf, len, err);
}

/* The instruction's bytes as they lie in memory (little-endian fields). */
static void print_bytes(FILE *out, const struct bpf_insn *insn)
{
	uint16_t off = (uint16_t)insn->off;
	uint32_t imm = (uint32_t)insn->imm;
	fprintf(out, "%02x %02x %02x %02x %02x %02x %02x %02x  ", insn->code,
		(unsigned)(insn->dst_reg | (insn->src_reg << 4)), off & 0xff, off >> 8, imm & 0xff,
		(imm >> 8) & 0xff, (imm >> 16) & 0xff, imm >> 24);
}

int bee_disasm_hooked(const struct bpf_insn *insns, size_t n, enum bee_syntax syntax,
		      unsigned flags, const struct bee_disasm_hooks *hooks, FILE *out,
		      struct bee_error *err)
{
	/* Pass 1: decode everything up to the first error, so labels only go
	 * where lines will be printed. */
	struct bee_dinsn *dec = n ? calloc(n, sizeof(*dec)) : NULL;
	unsigned char *is_label = n ? calloc(n, 1) : NULL;
	if (n && (!dec || !is_label)) {
		free(dec);
		free(is_label);
		return bee_error_set(err, -ENOMEM, -1, 0, 0, "out of memory");
	}
	struct bee_error first_err;
	bee_error_clear(&first_err);
	int ret = 0;
	size_t valid_end = n;
	for (size_t pc = 0; pc < n;) {
		int slots = bee_decode(insns, n, pc, &dec[pc], &first_err);
		if (slots < 0) {
			ret = slots;
			valid_end = pc;
			break;
		}
		pc += (size_t)slots;
	}

	/* Pass 2: targets that are the start of a printed instruction. */
	struct label_set labels = {is_label, n};
	if (flags & BEE_DISASM_LABELS) {
		/* A start is a pc the pass above decoded: its slots is non-zero. */
		for (size_t pc = 0; pc < valid_end; pc += dec[pc].slots) {
			const struct bee_dinsn *d = &dec[pc];
			enum bee_shape shape = bee_op_info[d->op].shape;
			long target;
			if (bee_op_is_jump(d->op) || shape == BEE_SH_CALL_LOCAL)
				target = bee_jump_target(d, pc);
			else if (shape == BEE_SH_LDDW && d->src == BPF_PSEUDO_FUNC)
				target = (long)pc + 1 + d->imm;
			else
				continue;
			if (target >= 0 && (size_t)target < valid_end && dec[target].slots)
				is_label[target] = 1;
		}
	}

	/* Pass 3: print. */
	for (size_t pc = 0; pc < valid_end; pc += dec[pc].slots) {
		const struct bee_dinsn *d = &dec[pc];
		char text[256];
		struct sbuf sb = {text, sizeof(text), 0};
		text[0] = '\0';
		format_insn(&sb, d, pc, syntax, hooks, (flags & BEE_DISASM_LABELS) ? &labels : NULL);
		if (is_label[pc])
			fprintf(out, "L%zu:\n", pc);
		if (flags & BEE_DISASM_INDEX)
			fprintf(out, "%4zu: ", pc);
		if (flags & BEE_DISASM_BYTES)
			for (unsigned s = 0; s < d->slots; s++)
				print_bytes(out, &insns[pc + s]);
		if (flags & BEE_DISASM_OPCODE)
			fprintf(out, "(%02x) ", insns[pc].code);
		fprintf(out, "%s\n", text);
	}
	free(dec);
	free(is_label);
	if (ret < 0) {
		if (err)
			*err = first_err;
		return ret;
	}
	if (ferror(out))
		return bee_error_set(err, -EIO, -1, 0, 0, "write error");
	return 0;
}

int bee_disasm(const struct bpf_insn *insns, size_t n, enum bee_syntax syntax, unsigned flags,
	       FILE *out, struct bee_error *err)
{
	return bee_disasm_hooked(insns, n, syntax, flags, NULL, out, err);
}
