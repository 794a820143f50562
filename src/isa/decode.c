/*
 * decode.c - from struct bpf_insn to struct bee_dinsn, and the syntax
 * check of whole programs.
 *
 * Theory: the opcode byte narrows an instruction to at most a dozen rows
 * of BEE_INSN_TABLE; the row's match field (off, imm or src) picks one.
 * The row's shape then says which fields are operands; every other field
 * is reserved and must be zero (RFC 9669, section 3), as the kernel's
 * verifier demands ("BPF_ALU uses reserved fields" and friends).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "isa.h"

const struct bee_op_info bee_op_info[BEE_OP__COUNT] = {
#define BEE_X(K, CODE, MATCH, VAL, SHAPE, MNEM) \
	[BEE_OP_##K] = {(CODE), (MATCH), (SHAPE), (VAL), #K, MNEM},
	BEE_INSN_TABLE(BEE_X)
#undef BEE_X
};

/* Rows sharing one opcode byte; 12 is the most (BPF_STX|BPF_ATOMIC|BPF_DW). */
#define MAX_ROWS_PER_CODE 12
static uint8_t rows_by_code[256][MAX_ROWS_PER_CODE];
static uint8_t nrows_by_code[256];
static pthread_once_t rows_once = PTHREAD_ONCE_INIT;

static void build_rows_by_code(void)
{
	for (unsigned op = 0; op < BEE_OP__COUNT; op++) {
		uint8_t code = bee_op_info[op].code;
		rows_by_code[code][nrows_by_code[code]++] = (uint8_t)op;
	}
}

/* Which fields a shape uses; the rest must be zero. */
enum { F_DST = 1, F_SRC = 2, F_OFF = 4, F_IMM = 8 };

static unsigned shape_fields(enum bee_shape shape)
{
	switch (shape) {
	case BEE_SH_ALU_IMM:     return F_DST | F_IMM;
	case BEE_SH_ALU_REG:     return F_DST | F_SRC;
	case BEE_SH_NEG:         return F_DST;
	case BEE_SH_END:         return F_DST;
	case BEE_SH_MOVSX:       return F_DST | F_SRC;
	case BEE_SH_LDX:         return F_DST | F_SRC | F_OFF;
	case BEE_SH_ST:          return F_DST | F_OFF | F_IMM;
	case BEE_SH_STX:         return F_DST | F_SRC | F_OFF;
	case BEE_SH_ATOMIC:      return F_DST | F_SRC | F_OFF;
	case BEE_SH_LOAD_ACQ:    return F_DST | F_SRC | F_OFF;
	case BEE_SH_STORE_REL:   return F_DST | F_SRC | F_OFF;
	case BEE_SH_LDDW:        return F_DST | F_IMM;
	case BEE_SH_LD_ABS:      return F_IMM;
	case BEE_SH_LD_IND:      return F_SRC | F_IMM;
	case BEE_SH_JA:          return F_OFF;
	case BEE_SH_JA32:        return F_IMM;
	case BEE_SH_JCC_IMM:     return F_DST | F_OFF | F_IMM;
	case BEE_SH_JCC_REG:     return F_DST | F_SRC | F_OFF;
	case BEE_SH_CALL_HELPER: return F_IMM;
	case BEE_SH_CALL_LOCAL:  return F_IMM;
	case BEE_SH_CALL_KFUNC:  return F_OFF | F_IMM;
	case BEE_SH_EXIT:        return 0;
	case BEE_SH__COUNT:      break;
	}
	return 0;
}

static bool row_matches(const struct bee_op_info *row, const struct bpf_insn *insn)
{
	switch ((enum bee_match)row->match) {
	case BEE_MATCH_NONE: return true;
	case BEE_MATCH_OFF:  return insn->off == row->match_value;
	case BEE_MATCH_IMM:  return insn->imm == row->match_value;
	case BEE_MATCH_SRC:  return insn->src_reg == row->match_value;
	}
	return false;
}

static const char *class_name(uint8_t code)
{
	static const char *const names[8] = {"ld", "ldx", "st", "stx", "alu", "jmp", "jmp32", "alu64"};
	return names[BPF_CLASS(code)];
}

int bee_decode(const struct bpf_insn *insns, size_t n, size_t pc, struct bee_dinsn *out,
	       struct bee_error *err)
{
	pthread_once(&rows_once, build_rows_by_code);
	if (pc >= n)
		return bee_error_set(err, -EINVAL, (long)pc, 0, 0, "instruction index out of range");

	const struct bpf_insn *insn = &insns[pc];
	const struct bee_op_info *row = NULL;
	unsigned op = 0;
	for (unsigned i = 0; i < nrows_by_code[insn->code]; i++) {
		op = rows_by_code[insn->code][i];
		if (row_matches(&bee_op_info[op], insn)) {
			row = &bee_op_info[op];
			break;
		}
	}
	if (!row) {
		if (nrows_by_code[insn->code] == 0)
			return bee_error_set(err, -EINVAL, (long)pc, 0, 0,
					     "invalid opcode 0x%02x (class %s)", insn->code,
					     class_name(insn->code));
		/* The opcode exists; the field that selects the variant is wrong. */
		const struct bee_op_info *first = &bee_op_info[rows_by_code[insn->code][0]];
		switch ((enum bee_match)first->match) {
		case BEE_MATCH_OFF:
			return bee_error_set(err, -EINVAL, (long)pc, 0, 0,
					     "opcode 0x%02x: invalid offset %d", insn->code, insn->off);
		case BEE_MATCH_IMM:
			return bee_error_set(err, -EINVAL, (long)pc, 0, 0,
					     "opcode 0x%02x: invalid immediate %d", insn->code,
					     insn->imm);
		case BEE_MATCH_SRC:
			return bee_error_set(err, -EINVAL, (long)pc, 0, 0,
					     "opcode 0x%02x: invalid src_reg %u", insn->code,
					     insn->src_reg);
		case BEE_MATCH_NONE:
			break;
		}
		return bee_error_set(err, -EINVAL, (long)pc, 0, 0, "invalid opcode 0x%02x", insn->code);
	}

	unsigned used = shape_fields((enum bee_shape)row->shape);
	/* The matched field is part of the encoding, not a reserved field. */
	if (row->match == BEE_MATCH_OFF)
		used |= F_OFF;
	if (row->match == BEE_MATCH_IMM)
		used |= F_IMM;
	if (row->match == BEE_MATCH_SRC)
		used |= F_SRC;

	if (!(used & F_DST) && insn->dst_reg)
		return bee_error_set(err, -EINVAL, (long)pc, 0, 0,
				     "%s: reserved dst_reg field is %u, must be 0", row->mnemonic,
				     insn->dst_reg);
	if (!(used & F_SRC) && insn->src_reg)
		return bee_error_set(err, -EINVAL, (long)pc, 0, 0,
				     "%s: reserved src_reg field is %u, must be 0", row->mnemonic,
				     insn->src_reg);
	if (!(used & F_OFF) && insn->off)
		return bee_error_set(err, -EINVAL, (long)pc, 0, 0,
				     "%s: reserved offset field is %d, must be 0", row->mnemonic,
				     insn->off);
	if (!(used & F_IMM) && insn->imm)
		return bee_error_set(err, -EINVAL, (long)pc, 0, 0,
				     "%s: reserved immediate field is %d, must be 0", row->mnemonic,
				     insn->imm);
	if (insn->dst_reg > 10)
		return bee_error_set(err, -EINVAL, (long)pc, 0, 0, "invalid register r%u",
				     insn->dst_reg);
	if (row->match != BEE_MATCH_SRC && insn->src_reg > 10)
		return bee_error_set(err, -EINVAL, (long)pc, 0, 0, "invalid register r%u",
				     insn->src_reg);

	struct bee_dinsn d = {
		.op = (uint8_t)op,
		.dst = insn->dst_reg,
		.src = insn->src_reg,
		.slots = 1,
		.off = insn->off,
		.imm = insn->imm,
		.imm64 = (uint64_t)(int64_t)insn->imm,
	};
	if (row->shape == BEE_SH_LDDW) {
		if (pc + 1 >= n)
			return bee_error_set(err, -EINVAL, (long)pc, 0, 0,
					     "lddw is truncated: its second half is missing");
		const struct bpf_insn *hi = &insns[pc + 1];
		if (hi->code || hi->dst_reg || hi->src_reg || hi->off)
			return bee_error_set(err, -EINVAL, (long)pc, 0, 0,
					     "lddw: second half must have zero opcode, registers and offset");
		bool hi_is_offset = insn->src_reg == BPF_PSEUDO_MAP_VALUE ||
				    insn->src_reg == BPF_PSEUDO_MAP_IDX_VALUE;
		if (insn->src_reg != 0 && !hi_is_offset && hi->imm)
			return bee_error_set(err, -EINVAL, (long)pc, 0, 0,
					     "lddw with src_reg %u: upper immediate must be 0",
					     insn->src_reg);
		d.slots = 2;
		d.imm64 = (uint64_t)(uint32_t)insn->imm | ((uint64_t)(uint32_t)hi->imm << 32);
	}
	*out = d;
	return d.slots;
}

unsigned bee_op_access_size(enum bee_op op)
{
	switch ((enum bee_shape)bee_op_info[op].shape) {
	case BEE_SH_LDX:
	case BEE_SH_ST:
	case BEE_SH_STX:
	case BEE_SH_ATOMIC:
	case BEE_SH_LOAD_ACQ:
	case BEE_SH_STORE_REL:
	case BEE_SH_LD_ABS:
	case BEE_SH_LD_IND:
		switch (BPF_SIZE(bee_op_info[op].code)) {
		case BPF_B: return 1;
		case BPF_H: return 2;
		case BPF_W: return 4;
		default: return 8;
		}
	default:
		return 0;
	}
}

bool bee_op_is_32bit(enum bee_op op)
{
	uint8_t code = bee_op_info[op].code;
	switch ((enum bee_shape)bee_op_info[op].shape) {
	case BEE_SH_ALU_IMM:
	case BEE_SH_ALU_REG:
	case BEE_SH_NEG:
	case BEE_SH_MOVSX:
		return BPF_CLASS(code) == BPF_ALU;
	case BEE_SH_JCC_IMM:
	case BEE_SH_JCC_REG:
		return BPF_CLASS(code) == BPF_JMP32;
	default:
		return false;
	}
}

bool bee_op_writes_dst(enum bee_op op)
{
	switch ((enum bee_shape)bee_op_info[op].shape) {
	case BEE_SH_ALU_IMM:
	case BEE_SH_ALU_REG:
	case BEE_SH_NEG:
	case BEE_SH_END:
	case BEE_SH_MOVSX:
	case BEE_SH_LDX:
	case BEE_SH_LOAD_ACQ:
	case BEE_SH_LDDW:
		return true;
	default:
		return false;
	}
}

bool bee_op_is_jump(enum bee_op op)
{
	switch ((enum bee_shape)bee_op_info[op].shape) {
	case BEE_SH_JA:
	case BEE_SH_JA32:
	case BEE_SH_JCC_IMM:
	case BEE_SH_JCC_REG:
		return true;
	default:
		return false;
	}
}

long bee_jump_target(const struct bee_dinsn *d, size_t pc)
{
	switch ((enum bee_shape)bee_op_info[d->op].shape) {
	case BEE_SH_JA32:
	case BEE_SH_CALL_LOCAL:
		return (long)pc + 1 + d->imm;
	default:
		return (long)pc + 1 + d->off;
	}
}

/* Registers an instruction writes besides dst: atomics with fetch write src
 * (cmpxchg writes r0).  Writing r10 through either is refused. */
static int check_frame_pointer_writes(const struct bee_dinsn *d, size_t pc, struct bee_error *err)
{
	enum bee_op op = d->op;
	if (bee_op_writes_dst(op) && d->dst == 10)
		return bee_error_set(err, -EINVAL, (long)pc, 0, 0, "frame pointer is read only");
	if (bee_op_info[op].shape == BEE_SH_ATOMIC && (bee_op_info[op].match_value & BPF_FETCH) &&
	    bee_op_info[op].match_value != BPF_CMPXCHG && d->src == 10)
		return bee_error_set(err, -EINVAL, (long)pc, 0, 0,
				     "frame pointer is read only (atomic fetch into r10)");
	return 0;
}

int bee_check_program(const struct bpf_insn *insns, size_t n, struct bee_dinsn *out,
		      struct bee_error *err)
{
	if (n == 0)
		return bee_error_set(err, -EINVAL, -1, 0, 0, "program is empty");
	if (n > BEE_MAX_INSNS)
		return bee_error_set(err, -E2BIG, -1, 0, 0, "program has %zu instructions, limit is %d",
				     n, BEE_MAX_INSNS);

	/* Decoded instructions go to out, or to scratch when the caller only
	 * wants the verdict; the second slot of an lddw stays zeroed
	 * (slots = 0), which is how pass 2 recognises it. */
	struct bee_dinsn *dec = out ? out : malloc(n * sizeof(*dec));
	if (!dec)
		return bee_error_set(err, -ENOMEM, -1, 0, 0, "out of memory");
	int ret = 0;
	size_t last = 0;

	/* Pass 1: decode. */
	for (size_t pc = 0; pc < n;) {
		int slots = bee_decode(insns, n, pc, &dec[pc], err);
		if (slots < 0) {
			ret = slots;
			goto done;
		}
		ret = check_frame_pointer_writes(&dec[pc], pc, err);
		if (ret)
			goto done;
		if (slots == 2)
			memset(&dec[pc + 1], 0, sizeof(dec[pc + 1]));
		last = pc;
		pc += (size_t)slots;
	}

	/* Pass 2: jump and call targets. */
	for (size_t pc = 0; pc < n; pc++) {
		const struct bee_dinsn *d = &dec[pc];
		if (d->slots == 0)
			continue;
		enum bee_shape shape = bee_op_info[d->op].shape;
		if (!bee_op_is_jump(d->op) && shape != BEE_SH_CALL_LOCAL)
			continue;
		long target = bee_jump_target(d, pc);
		const char *what = shape == BEE_SH_CALL_LOCAL ? "call" : "jump";
		if (target < 0 || (size_t)target >= n) {
			ret = bee_error_set(err, -EINVAL, (long)pc, 0, 0,
					    "%s out of range from insn %zu to %ld", what, pc, target);
			goto done;
		}
		if (dec[target].slots == 0) {
			ret = bee_error_set(err, -EINVAL, (long)pc, 0, 0,
					    "%s into the middle of an lddw at insn %ld", what, target);
			goto done;
		}
	}

	/* The kernel refuses a program that can fall off its end. */
	enum bee_shape last_shape = bee_op_info[dec[last].op].shape;
	if (last_shape != BEE_SH_EXIT && last_shape != BEE_SH_JA && last_shape != BEE_SH_JA32)
		ret = bee_error_set(err, -EINVAL, (long)last, 0, 0, "last insn is not an exit or jmp");
done:
	if (dec != out)
		free(dec);
	return ret;
}

void bee_mark_jump_targets(const struct bee_dinsn *d, size_t n, unsigned char *is_target)
{
	for (size_t pc = 0; pc < n; pc++) {
		if (d[pc].slots == 0)
			continue;
		if (bee_op_is_jump(d[pc].op) || bee_op_info[d[pc].op].shape == BEE_SH_CALL_LOCAL)
			is_target[bee_jump_target(&d[pc], pc)] = 1;
	}
}

/* Helper names come straight from the UAPI header's own list. */
#define BEE_HELPER_NAME(x) [BPF_FUNC_##x] = "bpf_" #x
static const char *const helper_names[__BPF_FUNC_MAX_ID] = {__BPF_FUNC_MAPPER(BEE_HELPER_NAME)};
#undef BEE_HELPER_NAME

const char *bee_helper_name(int32_t id)
{
	if (id <= 0 || id >= __BPF_FUNC_MAX_ID)
		return NULL;
	return helper_names[id];
}

int32_t bee_helper_id(const char *name)
{
	const char *bare = strncmp(name, "bpf_", 4) == 0 ? name + 4 : name;
	for (int32_t id = 1; id < __BPF_FUNC_MAX_ID; id++)
		if (helper_names[id] && strcmp(helper_names[id] + 4, bare) == 0)
			return id;
	return -1;
}
