/*
 * tnum.c - tristate numbers (see tnum.h for what they mean).
 *
 * Theory, in short.  Bitwise operations act on each bit alone: a result bit
 * is known when the operand bits force it (0 & x = 0, 1 | x = 1) and unknown
 * otherwise.  Addition is harder because carries travel: adding the two
 * largest members (value + mask each) and the two smallest (value) gives two
 * sums whose differing bits are exactly the bits a carry can reach; those,
 * with the operands' own unknown bits, are the unknown bits of the sum.
 * Subtraction is the same with the largest and smallest differences.
 * Multiplication is long multiplication: for each bit of a that is known 1
 * add b's unknown part, for each unknown bit add all of b's possible bits
 * as unknown, accumulating with the sound addition above ("Sound,
 * Precise, and Fast Abstract Interpretation with Tristate Numbers",
 * Vishwanathan et al., CGO 2022).
 */
#include "verify/tnum.h"

#include <stdio.h>

struct bee_tnum bee_tnum_const(uint64_t value) { return BEE_TNUM(value, 0); }

struct bee_tnum bee_tnum_unknown(void) { return BEE_TNUM(0, ~0ULL); }

struct bee_tnum bee_tnum_range(uint64_t min, uint64_t max)
{
	uint64_t differ = min ^ max;
	if (!differ)
		return bee_tnum_const(min);
	unsigned top = 64 - (unsigned)__builtin_clzll(differ); /* bits from the highest difference down */
	if (top >= 64)
		return bee_tnum_unknown();
	uint64_t low = (1ULL << top) - 1;
	return BEE_TNUM(min & ~low, low);
}

struct bee_tnum bee_tnum_add(struct bee_tnum a, struct bee_tnum b)
{
	uint64_t lo = a.value + b.value;
	uint64_t hi = lo + a.mask + b.mask;
	uint64_t unknown = (lo ^ hi) | a.mask | b.mask;
	return BEE_TNUM(lo & ~unknown, unknown);
}

struct bee_tnum bee_tnum_sub(struct bee_tnum a, struct bee_tnum b)
{
	uint64_t diff = a.value - b.value;
	uint64_t hi = diff + a.mask; /* largest a minus smallest b */
	uint64_t lo = diff - b.mask; /* smallest a minus largest b */
	uint64_t unknown = (lo ^ hi) | a.mask | b.mask;
	return BEE_TNUM(diff & ~unknown, unknown);
}

struct bee_tnum bee_tnum_neg(struct bee_tnum a) { return bee_tnum_sub(bee_tnum_const(0), a); }

struct bee_tnum bee_tnum_and(struct bee_tnum a, struct bee_tnum b)
{
	uint64_t may_a = a.value | a.mask, may_b = b.value | b.mask;
	uint64_t ones = a.value & b.value;
	return BEE_TNUM(ones, may_a & may_b & ~ones);
}

struct bee_tnum bee_tnum_or(struct bee_tnum a, struct bee_tnum b)
{
	uint64_t ones = a.value | b.value;
	return BEE_TNUM(ones, (a.mask | b.mask) & ~ones);
}

struct bee_tnum bee_tnum_xor(struct bee_tnum a, struct bee_tnum b)
{
	uint64_t unknown = a.mask | b.mask;
	return BEE_TNUM((a.value ^ b.value) & ~unknown, unknown);
}

struct bee_tnum bee_tnum_mul(struct bee_tnum a, struct bee_tnum b)
{
	uint64_t known_product = a.value * b.value;
	struct bee_tnum uncertain = bee_tnum_const(0);
	while (a.value | a.mask) {
		if (a.value & 1) /* a's bit is 1: b's unknown bits join in */
			uncertain = bee_tnum_add(uncertain, BEE_TNUM(0, b.mask));
		else if (a.mask & 1) /* a's bit unknown: any of b's bits may */
			uncertain = bee_tnum_add(uncertain, BEE_TNUM(0, b.value | b.mask));
		a = bee_tnum_rshift(a, 1);
		b = bee_tnum_lshift(b, 1);
	}
	return bee_tnum_add(bee_tnum_const(known_product), uncertain);
}

struct bee_tnum bee_tnum_lshift(struct bee_tnum a, unsigned shift)
{
	return BEE_TNUM(a.value << shift, a.mask << shift);
}

struct bee_tnum bee_tnum_rshift(struct bee_tnum a, unsigned shift)
{
	return BEE_TNUM(a.value >> shift, a.mask >> shift);
}

static uint64_t width_mask(unsigned bits) { return bits >= 64 ? ~0ULL : (1ULL << bits) - 1; }

/* Sign-extend the low bits of x to 64 bits. */
static uint64_t sext_bits(uint64_t x, unsigned bits)
{
	if (bits >= 64)
		return x;
	uint64_t sign = 1ULL << (bits - 1);
	x &= width_mask(bits);
	return (x ^ sign) - sign;
}

struct bee_tnum bee_tnum_arshift(struct bee_tnum a, unsigned shift, unsigned width)
{
	/* A known sign bit fills value with copies of itself; an unknown one
	 * fills mask.  Arithmetic shifts of both words do exactly that. */
	uint64_t v = (uint64_t)((int64_t)sext_bits(a.value, width) >> shift);
	uint64_t m = (uint64_t)((int64_t)sext_bits(a.mask, width) >> shift);
	return bee_tnum_trunc(BEE_TNUM(v, m), width);
}

struct bee_tnum bee_tnum_trunc(struct bee_tnum a, unsigned bits)
{
	uint64_t keep = width_mask(bits);
	return BEE_TNUM(a.value & keep, a.mask & keep);
}

struct bee_tnum bee_tnum_cast(struct bee_tnum a, unsigned size) { return bee_tnum_trunc(a, size * 8); }

struct bee_tnum bee_tnum_subreg(struct bee_tnum a) { return bee_tnum_trunc(a, 32); }

struct bee_tnum bee_tnum_clear_subreg(struct bee_tnum a)
{
	return BEE_TNUM(a.value & ~0xffffffffULL, a.mask & ~0xffffffffULL);
}

struct bee_tnum bee_tnum_const_subreg(struct bee_tnum a, uint32_t v)
{
	return bee_tnum_or(bee_tnum_clear_subreg(a), bee_tnum_const(v));
}

struct bee_tnum bee_tnum_sext(struct bee_tnum a, unsigned from_bits, unsigned width)
{
	struct bee_tnum r = BEE_TNUM(sext_bits(a.value, from_bits), sext_bits(a.mask, from_bits));
	if (r.mask >> (from_bits - 1) & 1) /* unknown sign: extension is unknown, not known 0 */
		r.value &= width_mask(from_bits - 1);
	return bee_tnum_trunc(r, width);
}

static uint64_t bswap_bits(uint64_t x, unsigned bits)
{
	switch (bits) {
	case 16:
		return __builtin_bswap16((uint16_t)x);
	case 32:
		return __builtin_bswap32((uint32_t)x);
	default:
		return __builtin_bswap64(x);
	}
}

struct bee_tnum bee_tnum_bswap(struct bee_tnum a, unsigned bits)
{
	return BEE_TNUM(bswap_bits(a.value, bits), bswap_bits(a.mask, bits));
}

bool bee_tnum_intersect_ok(struct bee_tnum a, struct bee_tnum b)
{
	return ((a.value ^ b.value) & ~a.mask & ~b.mask) == 0;
}

struct bee_tnum bee_tnum_intersect(struct bee_tnum a, struct bee_tnum b)
{
	uint64_t unknown = a.mask & b.mask;
	return BEE_TNUM((a.value | b.value) & ~unknown, unknown);
}

struct bee_tnum bee_tnum_union(struct bee_tnum a, struct bee_tnum b)
{
	uint64_t unknown = a.mask | b.mask | (a.value ^ b.value);
	return BEE_TNUM(a.value & ~unknown, unknown);
}

bool bee_tnum_in(struct bee_tnum a, struct bee_tnum b)
{
	if (b.mask & ~a.mask)
		return false;
	return (b.value & ~a.mask) == a.value;
}

bool bee_tnum_contains(struct bee_tnum a, uint64_t x) { return (x & ~a.mask) == a.value; }

bool bee_tnum_is_aligned(struct bee_tnum a, uint64_t size)
{
	if (!size)
		return true;
	return ((a.value | a.mask) & (size - 1)) == 0;
}

int bee_tnum_strn(char *buf, size_t size, struct bee_tnum a)
{
	return snprintf(buf, size, "(0x%llx; 0x%llx)", (unsigned long long)a.value,
			(unsigned long long)a.mask);
}

int bee_tnum_sbin(char *buf, size_t size, struct bee_tnum a)
{
	for (size_t i = 0; i < 64; i++) {
		if (i + 1 >= size)
			break;
		uint64_t bit = 1ULL << (63 - i);
		buf[i] = (a.mask & bit) ? 'x' : (a.value & bit) ? '1' : '0';
	}
	if (size)
		buf[size - 1 < 64 ? size - 1 : 64] = '\0';
	return 64;
}
