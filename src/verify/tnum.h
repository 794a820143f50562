/*
 * tnum.h - tristate numbers: what the verifier knows about each bit.
 *
 * A tnum {value, mask} stands for every 64-bit x with (x & ~mask) == value:
 * a bit set in mask is unknown, otherwise the bit is the one in value.
 * Invariant: (value & mask) == 0.  Every operation returns a tnum that
 * contains the result of the concrete operation for every pair of members
 * (soundness); the bitwise ones and add/sub are also the smallest such tnum.
 *
 * Operations work modulo 2^64; a caller that models a narrower register
 * (the 32-bit subregister, or the small widths the tests use) truncates with
 * bee_tnum_trunc() afterwards.  Only the right arithmetic shift and sign
 * extension need to know the width, and take it as a parameter.
 */
#ifndef BEE_VERIFY_TNUM_H
#define BEE_VERIFY_TNUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bee_tnum {
	uint64_t value;
	uint64_t mask;
};

#define BEE_TNUM(v, m) ((struct bee_tnum){.value = (v), .mask = (m)})

struct bee_tnum bee_tnum_const(uint64_t value);
struct bee_tnum bee_tnum_unknown(void);
/* The smallest tnum holding every x with min <= x <= max (unsigned). */
struct bee_tnum bee_tnum_range(uint64_t min, uint64_t max);

struct bee_tnum bee_tnum_add(struct bee_tnum a, struct bee_tnum b);
struct bee_tnum bee_tnum_sub(struct bee_tnum a, struct bee_tnum b);
struct bee_tnum bee_tnum_neg(struct bee_tnum a);
struct bee_tnum bee_tnum_and(struct bee_tnum a, struct bee_tnum b);
struct bee_tnum bee_tnum_or(struct bee_tnum a, struct bee_tnum b);
struct bee_tnum bee_tnum_xor(struct bee_tnum a, struct bee_tnum b);
struct bee_tnum bee_tnum_mul(struct bee_tnum a, struct bee_tnum b);
/* Shifts by a known amount; shift < 64. */
struct bee_tnum bee_tnum_lshift(struct bee_tnum a, unsigned shift);
struct bee_tnum bee_tnum_rshift(struct bee_tnum a, unsigned shift);
/* Arithmetic right shift of a width-bit value (1..64); result truncated to width. */
struct bee_tnum bee_tnum_arshift(struct bee_tnum a, unsigned shift, unsigned width);

/* Keep the low bits (1..64) bits; the rest become known zero. */
struct bee_tnum bee_tnum_trunc(struct bee_tnum a, unsigned bits);
/* Truncate to size bytes (1, 2, 4, 8). */
struct bee_tnum bee_tnum_cast(struct bee_tnum a, unsigned size);
/* The low 32 bits (the subregister), zero-extended. */
struct bee_tnum bee_tnum_subreg(struct bee_tnum a);
/* The upper 32 bits kept, the subregister known zero. */
struct bee_tnum bee_tnum_clear_subreg(struct bee_tnum a);
/* The upper 32 bits of a with the subregister replaced by the constant v. */
struct bee_tnum bee_tnum_const_subreg(struct bee_tnum a, uint32_t v);
/* Sign-extend the low from_bits bits to width bits (from_bits <= width <= 64). */
struct bee_tnum bee_tnum_sext(struct bee_tnum a, unsigned from_bits, unsigned width);
/* Reverse the byte order of the low bits (16, 32 or 64) bits; upper bits cleared. */
struct bee_tnum bee_tnum_bswap(struct bee_tnum a, unsigned bits);

/* Values in both a and b.  If they disagree on a known bit there are none:
 * bee_tnum_intersect_ok() tells, and bee_tnum_intersect() then returns a
 * meaningless tnum. */
bool bee_tnum_intersect_ok(struct bee_tnum a, struct bee_tnum b);
struct bee_tnum bee_tnum_intersect(struct bee_tnum a, struct bee_tnum b);
/* The smallest tnum holding the values of both (the join). */
struct bee_tnum bee_tnum_union(struct bee_tnum a, struct bee_tnum b);
/* Is every member of b a member of a? */
bool bee_tnum_in(struct bee_tnum a, struct bee_tnum b);
bool bee_tnum_contains(struct bee_tnum a, uint64_t x);

static inline bool bee_tnum_is_const(struct bee_tnum a) { return a.mask == 0; }
static inline bool bee_tnum_equals_const(struct bee_tnum a, uint64_t v) { return a.mask == 0 && a.value == v; }
static inline bool bee_tnum_is_unknown(struct bee_tnum a) { return a.mask == ~0ULL; }
static inline bool bee_tnum_equals(struct bee_tnum a, struct bee_tnum b)
{
	return a.value == b.value && a.mask == b.mask;
}
/* Is every member a multiple of size (a power of two)? */
bool bee_tnum_is_aligned(struct bee_tnum a, uint64_t size);

/* "(0x0; 0xff)", the kernel log's var_off form.  Returns the length
 * snprintf would have written. */
int bee_tnum_strn(char *buf, size_t size, struct bee_tnum a);
/* The 64 bits most significant first, '0', '1' or 'x' each. */
int bee_tnum_sbin(char *buf, size_t size, struct bee_tnum a);

#endif
