/*
 * scalar.h - the verifier's knowledge of a scalar register: known bits
 * (a tnum) and signed and unsigned bounds of the whole 64-bit value and of
 * its 32-bit subregister, kept consistent with each other by
 * bee_scalar_sync().  Transfer functions for every ALU instruction and
 * refinement of both edges of every conditional jump.
 *
 * Every function has a _w form taking the register width: 64 is the real
 * machine (the "32-bit" half is then 32 bits wide); the tests use 8 (half:
 * 4 bits) so that every value and every pair can be enumerated.  At width
 * W a state keeps var_off and umin/umax within W bits, smin/smax as
 * sign-extended W-bit numbers and the 32-bit fields likewise at W/2 bits.
 *
 * Everything is sound: the abstract result of an operation contains the
 * concrete result of every pair of members (RFC 9669 semantics: shift
 * amounts masked, x / 0 = 0, x % 0 = x, INT_MIN / -1 = INT_MIN).
 */
#ifndef BEE_VERIFY_SCALAR_H
#define BEE_VERIFY_SCALAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "isa/isa.h"
#include "verify/tnum.h"

struct bee_scalar {
	struct bee_tnum var_off;
	int64_t smin, smax;
	uint64_t umin, umax;
	int32_t s32_min, s32_max;
	uint32_t u32_min, u32_max;
};

/* The ALU operations, independent of encoding. */
enum bee_scalar_op {
	BEE_SOP_ADD,
	BEE_SOP_SUB,
	BEE_SOP_MUL,
	BEE_SOP_DIV,
	BEE_SOP_SDIV,
	BEE_SOP_MOD,
	BEE_SOP_SMOD,
	BEE_SOP_OR,
	BEE_SOP_AND,
	BEE_SOP_XOR,
	BEE_SOP_LSH,
	BEE_SOP_RSH,
	BEE_SOP_ARSH,
	BEE_SOP_MOV,
	BEE_SOP_NEG, /* src ignored */
	BEE_SOP__COUNT
};

/* Jump conditions; BEE_COND_NSET ("dst & src == 0") is JSET's fall-through. */
enum bee_cond {
	BEE_COND_EQ,
	BEE_COND_NE,
	BEE_COND_GT,
	BEE_COND_GE,
	BEE_COND_LT,
	BEE_COND_LE,
	BEE_COND_SGT,
	BEE_COND_SGE,
	BEE_COND_SLT,
	BEE_COND_SLE,
	BEE_COND_SET,
	BEE_COND_NSET,
	BEE_COND__COUNT
};

void bee_scalar_const(struct bee_scalar *s, uint64_t v);
void bee_scalar_unknown(struct bee_scalar *s);
void bee_scalar_const_w(struct bee_scalar *s, uint64_t v, unsigned width);
void bee_scalar_unknown_w(struct bee_scalar *s, unsigned width);

/* Make the five views agree (the kernel's reg_bounds_sync).  Returns false
 * if they contradict each other: no value fits the state. */
bool bee_scalar_sync(struct bee_scalar *s);
bool bee_scalar_sync_w(struct bee_scalar *s, unsigned width);

bool bee_scalar_is_const(const struct bee_scalar *s);
bool bee_scalar_contains(const struct bee_scalar *s, uint64_t x);
bool bee_scalar_contains_w(const struct bee_scalar *s, uint64_t x, unsigned width);
/* Fields within their widths, min <= max, (value & mask) == 0. */
bool bee_scalar_well_formed_w(const struct bee_scalar *s, unsigned width);

/* dst = dst op src, in 64 bits or (alu32) on the low halves, zero-extended. */
void bee_scalar_alu_w(struct bee_scalar *dst, enum bee_scalar_op op, const struct bee_scalar *src,
		      bool alu32, unsigned width);
/* dst = src's low from_bits bits sign-extended (movsx), to the full width
 * or (alu32) to the half, zero-extended. */
void bee_scalar_movsx_w(struct bee_scalar *dst, const struct bee_scalar *src, unsigned from_bits,
			bool alu32, unsigned width);
/* 64-bit only: dst = dst truncated to bits (le16/32/64 on a little-endian
 * host) or byte-swapped within bits (be on this host, bswap). */
void bee_scalar_trunc(struct bee_scalar *dst, unsigned bits);
void bee_scalar_bswap(struct bee_scalar *dst, unsigned bits);

/*
 * One decoded ALU instruction on scalars (64-bit machine).  src is the
 * source register, or the immediate as a constant scalar (sign-extended as
 * the ISA says); it is ignored by neg and the byte swaps.  Returns false if
 * op is not an ALU operation.
 */
bool bee_scalar_alu_insn(struct bee_scalar *dst, enum bee_op op, const struct bee_scalar *src);

/* Edge bits of bee_scalar_branch's result. */
#define BEE_BRANCH_TAKEN 1u
#define BEE_BRANCH_FALL 2u

/*
 * "if a cond b" (on the low halves if jmp32): fills the refined states of
 * both operands on the taken edge and on the fall-through edge, and returns
 * which edges can happen.  An edge that cannot happen has its outputs
 * unspecified.  Any output pointer may alias an input.
 */
unsigned bee_scalar_branch_w(enum bee_cond cond, bool jmp32, const struct bee_scalar *a,
			     const struct bee_scalar *b, struct bee_scalar *a_taken,
			     struct bee_scalar *b_taken, struct bee_scalar *a_fall,
			     struct bee_scalar *b_fall, unsigned width);
unsigned bee_scalar_branch(enum bee_cond cond, bool jmp32, const struct bee_scalar *a,
			   const struct bee_scalar *b, struct bee_scalar *a_taken,
			   struct bee_scalar *b_taken, struct bee_scalar *a_fall,
			   struct bee_scalar *b_fall);
/* The kernel's is_branch_taken: 1 always, 0 never, -1 depends. */
int bee_scalar_branch_taken(enum bee_cond cond, bool jmp32, const struct bee_scalar *a,
			    const struct bee_scalar *b);
/* The condition of a conditional jump instruction; false if op is not one. */
bool bee_scalar_cond_of(enum bee_op op, enum bee_cond *cond, bool *jmp32);
enum bee_cond bee_cond_negate(enum bee_cond cond);

/* The kernel log's form of a scalar: "42", or "scalar(smin=..,var_off=(..))"
 * listing only what is not implied.  Returns snprintf's length. */
int bee_scalar_strn(char *buf, size_t size, const struct bee_scalar *s);

#endif
