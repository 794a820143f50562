/*
 * scalar.c - the scalar abstract domain: a tnum and four intervals.
 *
 * Theory of operation.  A state is the conjunction of five facts about a
 * value x of width W (64 on the machine): x matches var_off, umin <= x <=
 * umax, smin <= (signed)x <= smax, and the same two interval facts about
 * the low half (W/2 bits, the 32-bit subregister).  Each fact alone is a
 * sound over-approximation; sync (the kernel's reg_bounds_sync) lets each
 * tighten the others until they agree:
 *   - tnum -> intervals: the smallest and largest members of the tnum;
 *   - signed <-> unsigned: an interval that does not cross the sign
 *     boundary means the same numbers read either way;
 *   - full <-> half: when the upper bits are the same for the whole range,
 *     the low half moves in [lo(min), lo(max)]; conversely the half's
 *     bounds tighten the full bounds within the same upper bits;
 *   - intervals -> tnum: the bits a range cannot change are known.
 * A contradiction (an empty interval, tnums disagreeing on a known bit)
 * means no value fits: sync reports it, and branch refinement uses that to
 * find edges that cannot be taken.
 *
 * Transfer functions compute the full-width result from the full-width
 * facts and, for operations whose low bits depend only on the operands' low
 * bits (add, sub, mul, the bitwise ones), the half result from the halves,
 * by running the same code at width W/2 on a "view" of the half.  32-bit
 * ALU operations and JMP32 conditions are that view too: compute at W/2,
 * then zero-extend (ALU) or write the refined half back (JMP32).
 *
 * Everything takes the width so the tests can check soundness exhaustively
 * at W = 8; the public 64-bit functions pass 64.
 */
#include "verify/scalar.h"

#include <stdio.h>

static uint64_t umask_w(unsigned w) { return w >= 64 ? ~0ULL : (1ULL << w) - 1; }
static int64_t smax_w(unsigned w) { return (int64_t)(umask_w(w) >> 1); }
static int64_t smin_w(unsigned w) { return -smax_w(w) - 1; }
static uint64_t zext_w(int64_t x, unsigned w) { return (uint64_t)x & umask_w(w); }

static int64_t sext_w(uint64_t x, unsigned w)
{
	if (w >= 64)
		return (int64_t)x;
	uint64_t sign = 1ULL << (w - 1);
	x &= umask_w(w);
	return (int64_t)((x ^ sign) - sign);
}

static uint64_t umin64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static uint64_t umax64(uint64_t a, uint64_t b) { return a > b ? a : b; }
static int64_t smin64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t smax64(int64_t a, int64_t b) { return a > b ? a : b; }

static void full_unbounded(struct bee_scalar *s, unsigned w)
{
	s->umin = 0;
	s->umax = umask_w(w);
	s->smin = smin_w(w);
	s->smax = smax_w(w);
}

static void half_unbounded(struct bee_scalar *s, unsigned w)
{
	s->u32_min = 0;
	s->u32_max = (uint32_t)umask_w(w / 2);
	s->s32_min = (int32_t)smin_w(w / 2);
	s->s32_max = (int32_t)smax_w(w / 2);
}

void bee_scalar_unknown_w(struct bee_scalar *s, unsigned width)
{
	s->var_off = BEE_TNUM(0, umask_w(width));
	full_unbounded(s, width);
	half_unbounded(s, width);
}

void bee_scalar_const_w(struct bee_scalar *s, uint64_t v, unsigned width)
{
	unsigned h = width / 2;
	v &= umask_w(width);
	s->var_off = bee_tnum_const(v);
	s->umin = s->umax = v;
	s->smin = s->smax = sext_w(v, width);
	s->u32_min = s->u32_max = (uint32_t)(v & umask_w(h));
	s->s32_min = s->s32_max = (int32_t)sext_w(v, h);
}

void bee_scalar_unknown(struct bee_scalar *s) { bee_scalar_unknown_w(s, 64); }
void bee_scalar_const(struct bee_scalar *s, uint64_t v) { bee_scalar_const_w(s, v, 64); }

bool bee_scalar_is_const(const struct bee_scalar *s) { return bee_tnum_is_const(s->var_off); }

bool bee_scalar_contains_w(const struct bee_scalar *s, uint64_t x, unsigned width)
{
	unsigned h = width / 2;
	uint64_t lo = x & umask_w(h);
	int64_t sx = sext_w(x, width), slo = sext_w(lo, h);
	return (x & ~umask_w(width)) == 0 && bee_tnum_contains(s->var_off, x) && x >= s->umin &&
	       x <= s->umax && sx >= s->smin && sx <= s->smax && lo >= s->u32_min && lo <= s->u32_max &&
	       slo >= s->s32_min && slo <= s->s32_max;
}

bool bee_scalar_contains(const struct bee_scalar *s, uint64_t x) { return bee_scalar_contains_w(s, x, 64); }

bool bee_scalar_well_formed_w(const struct bee_scalar *s, unsigned width)
{
	unsigned h = width / 2;
	uint64_t m = umask_w(width), hm = umask_w(h);
	return (s->var_off.value & s->var_off.mask) == 0 && ((s->var_off.value | s->var_off.mask) & ~m) == 0 &&
	       s->umin <= s->umax && s->umax <= m && s->smin <= s->smax && s->smin >= smin_w(width) &&
	       s->smax <= smax_w(width) && s->u32_min <= s->u32_max && s->u32_max <= hm &&
	       s->s32_min <= s->s32_max && s->s32_min >= smin_w(h) && s->s32_max <= smax_w(h);
}

/* ---- sync ------------------------------------------------------------ */

/* The bounds one view (full or half, width w) gets from its tnum. */
static void bounds_from_tnum(struct bee_tnum t, unsigned w, uint64_t *umin, uint64_t *umax, int64_t *smin,
			     int64_t *smax)
{
	uint64_t sign = 1ULL << (w - 1);
	*umin = umax64(*umin, t.value);
	*umax = umin64(*umax, t.value | t.mask);
	*smin = smax64(*smin, sext_w(t.value | (t.mask & sign), w));
	*smax = smin64(*smax, sext_w(t.value | (t.mask & ~sign), w));
}

/* Signed <-> unsigned at one width, where the range does not cross the
 * boundary between the halves of the number circle. */
static void signed_unsigned(unsigned w, uint64_t *umin, uint64_t *umax, int64_t *smin, int64_t *smax)
{
	if (sext_w(*umin, w) <= sext_w(*umax, w)) {
		*smin = smax64(*smin, sext_w(*umin, w));
		*smax = smin64(*smax, sext_w(*umax, w));
	}
	if (zext_w(*smin, w) <= zext_w(*smax, w)) {
		*umin = umax64(*umin, zext_w(*smin, w));
		*umax = umin64(*umax, zext_w(*smax, w));
	}
}

static void deduce(struct bee_scalar *s, unsigned w)
{
	unsigned h = w / 2;
	uint64_t hm = umask_w(h);
	uint64_t u32min = s->u32_min, u32max = s->u32_max;
	int64_t s32min = s->s32_min, s32max = s->s32_max;

	bounds_from_tnum(s->var_off, w, &s->umin, &s->umax, &s->smin, &s->smax);
	bounds_from_tnum(bee_tnum_trunc(s->var_off, h), h, &u32min, &u32max, &s32min, &s32max);

	/* full -> half: one upper part for the whole range */
	if (((s->umin ^ s->umax) >> h) == 0) {
		u32min = umax64(u32min, s->umin & hm);
		u32max = umin64(u32max, s->umax & hm);
		if (sext_w(s->umin, h) <= sext_w(s->umax, h)) {
			s32min = smax64(s32min, sext_w(s->umin, h));
			s32max = smin64(s32max, sext_w(s->umax, h));
		}
	}
	if ((((uint64_t)s->smin ^ (uint64_t)s->smax) >> h) == 0) {
		uint64_t lo = (uint64_t)s->smin & hm, hi = (uint64_t)s->smax & hm;
		u32min = umax64(u32min, lo);
		u32max = umin64(u32max, hi);
		if (sext_w(lo, h) <= sext_w(hi, h)) {
			s32min = smax64(s32min, sext_w(lo, h));
			s32max = smin64(s32max, sext_w(hi, h));
		}
	}
	if (s->smin >= smin_w(h) && s->smax <= smax_w(h)) { /* x is its half sign-extended */
		s32min = smax64(s32min, s->smin);
		s32max = smin64(s32max, s->smax);
	}
	signed_unsigned(h, &u32min, &u32max, &s32min, &s32max);

	/* half -> full: within the upper part of each end */
	s->umin = umax64(s->umin, (s->umin & ~hm) | u32min);
	s->umax = umin64(s->umax, (s->umax & ~hm) | u32max);
	s->smin = smax64(s->smin, (int64_t)(((uint64_t)s->smin & ~hm) | u32min));
	s->smax = smin64(s->smax, (int64_t)(((uint64_t)s->smax & ~hm) | u32max));
	if (s->smin >= smin_w(h) && s->smax <= smax_w(h)) {
		s->smin = smax64(s->smin, s32min);
		s->smax = smin64(s->smax, s32max);
	}
	signed_unsigned(w, &s->umin, &s->umax, &s->smin, &s->smax);

	/* An empty half leaves garbage: clamp so the fields stay in range. */
	if (u32min > hm || u32max > hm || s32min > smax_w(h) || s32max < smin_w(h)) {
		u32min = 1;
		u32max = 0;
		s32min = 1;
		s32max = 0;
	}
	s->u32_min = (uint32_t)u32min;
	s->u32_max = (uint32_t)u32max;
	s->s32_min = (int32_t)s32min;
	s->s32_max = (int32_t)s32max;
}

static bool bounds_ok(const struct bee_scalar *s)
{
	return s->umin <= s->umax && s->smin <= s->smax && s->u32_min <= s->u32_max && s->s32_min <= s->s32_max;
}

bool bee_scalar_sync_w(struct bee_scalar *s, unsigned w)
{
	unsigned h = w / 2;
	if (!(s->var_off.mask & umask_w(w))) {
		/* A known number (the common case in counters and offsets): every
		 * bound is that number, if each interval still holds it. */
		uint64_t v = s->var_off.value & umask_w(w), lo = v & umask_w(h);
		if (v < s->umin || v > s->umax || sext_w(v, w) < s->smin || sext_w(v, w) > s->smax ||
		    lo < s->u32_min || lo > s->u32_max || sext_w(lo, h) < s->s32_min ||
		    sext_w(lo, h) > s->s32_max)
			return false;
		s->umin = s->umax = v;
		s->smin = s->smax = sext_w(v, w);
		s->u32_min = s->u32_max = lo;
		s->s32_min = s->s32_max = sext_w(lo, h);
		return true;
	}
	deduce(s, w);
	deduce(s, w);
	if (!bounds_ok(s))
		return false;
	/* intervals -> tnum */
	struct bee_tnum r = bee_tnum_range(s->umin, s->umax);
	if (!bee_tnum_intersect_ok(s->var_off, r))
		return false;
	s->var_off = bee_tnum_intersect(s->var_off, r);
	r = bee_tnum_range(s->u32_min, s->u32_max);
	r.mask |= umask_w(w) & ~umask_w(h);
	if (!bee_tnum_intersect_ok(s->var_off, r))
		return false;
	s->var_off = bee_tnum_intersect(s->var_off, r);
	deduce(s, w);
	return bounds_ok(s);
}

bool bee_scalar_sync(struct bee_scalar *s) { return bee_scalar_sync_w(s, 64); }

/* ---- ALU --------------------------------------------------------------- */

/* The low half of s as a state of width w/2 (its own half from its tnum). */
static struct bee_scalar half_view(const struct bee_scalar *s, unsigned w)
{
	unsigned h = w / 2;
	struct bee_scalar v;
	v.var_off = bee_tnum_trunc(s->var_off, h);
	v.umin = s->u32_min;
	v.umax = s->u32_max;
	v.smin = s->s32_min;
	v.smax = s->s32_max;
	half_unbounded(&v, h);
	bee_scalar_sync_w(&v, h);
	return v;
}

/* r = the width-w/2 state v zero-extended to width w. */
static void zero_extend(struct bee_scalar *r, const struct bee_scalar *v, unsigned w)
{
	r->var_off = v->var_off;
	r->umin = v->umin;
	r->umax = v->umax;
	r->smin = (int64_t)v->umin;
	r->smax = (int64_t)v->umax;
	r->u32_min = (uint32_t)v->umin;
	r->u32_max = (uint32_t)v->umax;
	r->s32_min = (int32_t)v->smin;
	r->s32_max = (int32_t)v->smax;
	if (!bee_scalar_sync_w(r, w))
		bee_scalar_unknown_w(r, w);
}

static bool add_s(int64_t a, int64_t b, unsigned w, int64_t *r)
{
	return !__builtin_add_overflow(a, b, r) && *r >= smin_w(w) && *r <= smax_w(w);
}

static bool sub_s(int64_t a, int64_t b, unsigned w, int64_t *r)
{
	return !__builtin_sub_overflow(a, b, r) && *r >= smin_w(w) && *r <= smax_w(w);
}

static bool mul_s(int64_t a, int64_t b, unsigned w, int64_t *r)
{
	return !__builtin_mul_overflow(a, b, r) && *r >= smin_w(w) && *r <= smax_w(w);
}

static void set_s(struct bee_scalar *r, int64_t lo, int64_t hi)
{
	r->smin = lo;
	r->smax = hi;
}

static void set_u(struct bee_scalar *r, uint64_t lo, uint64_t hi)
{
	r->umin = lo;
	r->umax = hi;
}

static bool is_single(const struct bee_scalar *s) { return s->umin == s->umax; }

/* Shift amounts that some member of b gives after masking to w - 1. */
static bool shift_amounts(const struct bee_scalar *b, unsigned w, unsigned *kmin, unsigned *kmax,
			  bool feasible[64])
{
	unsigned lg = (unsigned)__builtin_ctz(w);
	struct bee_tnum amt = bee_tnum_trunc(b->var_off, lg);
	bool any = false;
	for (unsigned k = 0; k < w; k++) {
		feasible[k] = bee_tnum_contains(amt, k) && (b->umax >= w || (k >= b->umin && k <= b->umax));
		if (feasible[k]) {
			if (!any)
				*kmin = k;
			*kmax = k;
			any = true;
		}
	}
	return any;
}

/* a op b for constants: the ISA's semantics at width w. */
static uint64_t fold(enum bee_scalar_op op, uint64_t x, uint64_t y, unsigned w)
{
	int64_t a = sext_w(x, w), b = sext_w(y, w);
	uint64_t r = 0;
	switch (op) {
	case BEE_SOP_ADD: r = x + y; break;
	case BEE_SOP_SUB: r = x - y; break;
	case BEE_SOP_MUL: r = x * y; break;
	case BEE_SOP_DIV: r = y ? x / y : 0; break;
	case BEE_SOP_MOD: r = y ? x % y : x; break;
	case BEE_SOP_SDIV: r = !b ? 0 : (a == smin_w(w) && b == -1) ? x : (uint64_t)(a / b); break;
	case BEE_SOP_SMOD: r = !b ? x : b == -1 ? 0 : (uint64_t)(a % b); break;
	case BEE_SOP_OR: r = x | y; break;
	case BEE_SOP_AND: r = x & y; break;
	case BEE_SOP_XOR: r = x ^ y; break;
	case BEE_SOP_LSH: r = x << (y & (w - 1)); break;
	case BEE_SOP_RSH: r = x >> (y & (w - 1)); break;
	case BEE_SOP_ARSH: r = (uint64_t)(a >> (y & (w - 1))); break;
	case BEE_SOP_MOV: r = y; break;
	case BEE_SOP_NEG: r = 0 - x; break;
	case BEE_SOP__COUNT: break;
	}
	return r & umask_w(w);
}

/* r = a op b from the full-width facts of a and b; r's half unbounded. */
static void alu_full(struct bee_scalar *r, const struct bee_scalar *a, enum bee_scalar_op op,
		     const struct bee_scalar *b, unsigned w)
{
	uint64_t M = umask_w(w);
	int64_t SMIN = smin_w(w), SMAX = smax_w(w);
	int64_t lo, hi, c[4];
	struct bee_tnum ta = a->var_off, tb = b->var_off;

	if (is_single(a) && (is_single(b) || op == BEE_SOP_NEG)) {
		bee_scalar_const_w(r, fold(op, a->umin, b->umin, w), w);
		return;
	}
	bee_scalar_unknown_w(r, w);
	switch (op) {
	case BEE_SOP_MOV:
		*r = *b;
		return;
	case BEE_SOP_ADD:
		r->var_off = bee_tnum_add(ta, tb);
		if (a->umax <= M - b->umax)
			set_u(r, a->umin + b->umin, a->umax + b->umax);
		if (add_s(a->smin, b->smin, w, &lo) && add_s(a->smax, b->smax, w, &hi))
			set_s(r, lo, hi);
		break;
	case BEE_SOP_SUB:
		r->var_off = bee_tnum_sub(ta, tb);
		if (a->umin >= b->umax)
			set_u(r, a->umin - b->umax, a->umax - b->umin);
		if (sub_s(a->smin, b->smax, w, &lo) && sub_s(a->smax, b->smin, w, &hi))
			set_s(r, lo, hi);
		break;
	case BEE_SOP_NEG:
		r->var_off = bee_tnum_neg(ta);
		if (a->smin != SMIN)
			set_s(r, -a->smax, -a->smin);
		if (a->umax == 0)
			set_u(r, 0, 0);
		else if (a->umin > 0)
			set_u(r, (0 - a->umax) & M, (0 - a->umin) & M);
		break;
	case BEE_SOP_MUL:
		r->var_off = bee_tnum_mul(ta, tb);
		if (b->umax == 0 || a->umax <= M / b->umax)
			set_u(r, a->umin * b->umin, a->umax * b->umax);
		if (mul_s(a->smin, b->smin, w, &c[0]) && mul_s(a->smin, b->smax, w, &c[1]) &&
		    mul_s(a->smax, b->smin, w, &c[2]) && mul_s(a->smax, b->smax, w, &c[3]))
			set_s(r, smin64(smin64(c[0], c[1]), smin64(c[2], c[3])),
			      smax64(smax64(c[0], c[1]), smax64(c[2], c[3])));
		break;
	case BEE_SOP_DIV: /* x / 0 = 0 */
		if (b->umin > 0)
			set_u(r, a->umin / b->umax, a->umax / b->umin);
		else if (b->umax == 0)
			set_u(r, 0, 0);
		else
			set_u(r, 0, a->umax);
		break;
	case BEE_SOP_MOD: /* x % 0 = x */
		if (b->umax == 0 || (b->umin > 0 && a->umax < b->umin)) {
			*r = *a;
			half_unbounded(r, w);
		} else if (b->umin > 0) {
			set_u(r, 0, umin64(a->umax, b->umax - 1));
		} else {
			set_u(r, 0, a->umax);
		}
		break;
	case BEE_SOP_SDIV: /* x / 0 = 0, SMIN / -1 = SMIN */
		if (b->smin > 0 || b->smax < 0) {
			if (a->smin == SMIN && b->smin <= -1 && b->smax >= -1)
				break;
			c[0] = a->smin / b->smin;
			c[1] = a->smin / b->smax;
			c[2] = a->smax / b->smin;
			c[3] = a->smax / b->smax;
			set_s(r, smin64(smin64(c[0], c[1]), smin64(c[2], c[3])),
			      smax64(smax64(c[0], c[1]), smax64(c[2], c[3])));
		} else if (a->smin != SMIN) { /* |a / b| <= |a|, and 0 */
			hi = smax64(-a->smin, a->smax);
			set_s(r, -hi, hi);
		}
		break;
	case BEE_SOP_SMOD: { /* x % 0 = x; the result has the sign of x, |x % y| < |y| */
		if (b->smin == 0 && b->smax == 0) {
			*r = *a;
			half_unbounded(r, w);
			break;
		}
		lo = a->smin >= 0 ? 0 : a->smin;
		hi = a->smax <= 0 ? 0 : a->smax;
		if (b->smin > 0 || b->smax < 0) {
			int64_t limit = b->smin == SMIN ? SMAX : smax64(-b->smin, b->smax) - 1;
			lo = smax64(lo, -limit);
			hi = smin64(hi, limit);
		}
		set_s(r, lo, hi);
		break;
	}
	case BEE_SOP_AND:
		r->var_off = bee_tnum_and(ta, tb);
		set_u(r, 0, umin64(a->umax, b->umax));
		if (a->smin >= 0 || b->smin >= 0)
			set_s(r, 0, smin64(a->smin >= 0 ? a->smax : SMAX, b->smin >= 0 ? b->smax : SMAX));
		else if (a->smax < 0 && b->smax < 0)
			set_s(r, SMIN, smin64(a->smax, b->smax));
		break;
	case BEE_SOP_OR:
		r->var_off = bee_tnum_or(ta, tb);
		set_u(r, umax64(a->umin, b->umin), M);
		if (a->smax < 0 || b->smax < 0)
			set_s(r, smax64(a->smax < 0 ? a->smin : SMIN, b->smax < 0 ? b->smin : SMIN), -1);
		else if (a->smin >= 0 && b->smin >= 0)
			set_s(r, smax64(a->smin, b->smin), SMAX);
		break;
	case BEE_SOP_XOR:
		r->var_off = bee_tnum_xor(ta, tb);
		if ((a->smin >= 0 && b->smin >= 0) || (a->smax < 0 && b->smax < 0))
			set_s(r, 0, SMAX);
		else if ((a->smin >= 0 && b->smax < 0) || (a->smax < 0 && b->smin >= 0))
			set_s(r, SMIN, -1);
		break;
	case BEE_SOP_LSH:
	case BEE_SOP_RSH:
	case BEE_SOP_ARSH: {
		bool feasible[64];
		unsigned kmin = 0, kmax = 0;
		if (!shift_amounts(b, w, &kmin, &kmax, feasible))
			break;
		bool first = true;
		for (unsigned k = kmin; k <= kmax; k++) {
			if (!feasible[k])
				continue;
			struct bee_tnum t = op == BEE_SOP_LSH   ? bee_tnum_trunc(bee_tnum_lshift(ta, k), w)
					    : op == BEE_SOP_RSH ? bee_tnum_rshift(ta, k)
								: bee_tnum_arshift(ta, k, w);
			r->var_off = first ? t : bee_tnum_union(r->var_off, t);
			first = false;
		}
		if (op == BEE_SOP_LSH) {
			if (a->umax <= (M >> kmax))
				set_u(r, a->umin << kmin, a->umax << kmax);
		} else if (op == BEE_SOP_RSH) {
			set_u(r, a->umin >> kmax, a->umax >> kmin);
		} else {
			set_s(r, a->smin >> (a->smin < 0 ? kmin : kmax), a->smax >> (a->smax < 0 ? kmax : kmin));
		}
		break;
	}
	case BEE_SOP__COUNT:
		break;
	}
	r->var_off = bee_tnum_trunc(r->var_off, w);
	half_unbounded(r, w);
}

static bool low_bits_op(enum bee_scalar_op op)
{
	switch (op) {
	case BEE_SOP_ADD:
	case BEE_SOP_SUB:
	case BEE_SOP_MUL:
	case BEE_SOP_AND:
	case BEE_SOP_OR:
	case BEE_SOP_XOR:
	case BEE_SOP_NEG:
		return true;
	default:
		return false;
	}
}

/* Tighten r's half with v, a state of width w/2 known to hold it. */
static void meet_half(struct bee_scalar *r, const struct bee_scalar *v, unsigned w)
{
	r->u32_min = (uint32_t)umax64(r->u32_min, v->umin);
	r->u32_max = (uint32_t)umin64(r->u32_max, v->umax);
	r->s32_min = (int32_t)smax64(r->s32_min, v->smin);
	r->s32_max = (int32_t)smin64(r->s32_max, v->smax);
	struct bee_tnum t = BEE_TNUM(v->var_off.value, v->var_off.mask | (umask_w(w) & ~umask_w(w / 2)));
	if (bee_tnum_intersect_ok(r->var_off, t))
		r->var_off = bee_tnum_intersect(r->var_off, t);
}

void bee_scalar_alu_w(struct bee_scalar *dst, enum bee_scalar_op op, const struct bee_scalar *src, bool alu32,
		      unsigned width)
{
	unsigned h = width / 2;
	struct bee_scalar a = *dst, b = *src, r, va = half_view(&a, width), vb = half_view(&b, width), vr;

	alu_full(&vr, &va, op, &vb, h);
	if (!bee_scalar_sync_w(&vr, h))
		bee_scalar_unknown_w(&vr, h);
	if (alu32) {
		zero_extend(dst, &vr, width);
		return;
	}
	alu_full(&r, &a, op, &b, width);
	if (op == BEE_SOP_MOV) {
		*dst = r;
		return;
	}
	if (low_bits_op(op))
		meet_half(&r, &vr, width);
	if (!bee_scalar_sync_w(&r, width))
		bee_scalar_unknown_w(&r, width);
	*dst = r;
}

void bee_scalar_movsx_w(struct bee_scalar *dst, const struct bee_scalar *src, unsigned from_bits, bool alu32,
			unsigned width)
{
	unsigned h = width / 2, tw = alu32 ? h : width;
	struct bee_scalar s = *src, r;

	bee_scalar_unknown_w(&r, tw);
	r.var_off = bee_tnum_sext(bee_tnum_trunc(s.var_off, from_bits), from_bits, tw);
	r.smin = smin_w(from_bits);
	r.smax = smax_w(from_bits);
	if (from_bits <= h && s.s32_min >= smin_w(from_bits) && s.s32_max <= smax_w(from_bits)) {
		/* the low from_bits bits sign-extended are the half sign-extended */
		r.smin = s.s32_min;
		r.smax = s.s32_max;
	}
	if (!alu32 && from_bits == h) { /* the half itself is copied */
		r.u32_min = s.u32_min;
		r.u32_max = s.u32_max;
		r.s32_min = s.s32_min;
		r.s32_max = s.s32_max;
	}
	if (!bee_scalar_sync_w(&r, tw))
		bee_scalar_unknown_w(&r, tw);
	if (alu32)
		zero_extend(dst, &r, width);
	else
		*dst = r;
}

void bee_scalar_trunc(struct bee_scalar *dst, unsigned bits)
{
	if (bits >= 64)
		return;
	if (bits == 32) {
		struct bee_scalar v = half_view(dst, 64);
		zero_extend(dst, &v, 64);
		return;
	}
	if (dst->umax <= umask_w(bits))
		return;
	struct bee_tnum t = bee_tnum_trunc(dst->var_off, bits);
	bee_scalar_unknown(dst);
	dst->var_off = t;
	if (!bee_scalar_sync(dst))
		bee_scalar_unknown(dst);
}

void bee_scalar_bswap(struct bee_scalar *dst, unsigned bits)
{
	struct bee_tnum t = bee_tnum_bswap(bee_tnum_trunc(dst->var_off, bits), bits);
	bee_scalar_unknown(dst);
	dst->var_off = t;
	if (!bee_scalar_sync(dst))
		bee_scalar_unknown(dst);
}

#define BEE__SOP_CASES(N, SOP)                                                                  \
	case BEE_OP_##N##64_IMM:                                                                \
	case BEE_OP_##N##64_REG:                                                                \
		bee_scalar_alu_w(dst, SOP, src, false, 64);                                     \
		return true;                                                                    \
	case BEE_OP_##N##32_IMM:                                                                \
	case BEE_OP_##N##32_REG:                                                                \
		bee_scalar_alu_w(dst, SOP, src, true, 64);                                      \
		return true;

bool bee_scalar_alu_insn(struct bee_scalar *dst, enum bee_op op, const struct bee_scalar *src)
{
	switch (op) {
	BEE__SOP_CASES(ADD, BEE_SOP_ADD)
	BEE__SOP_CASES(SUB, BEE_SOP_SUB)
	BEE__SOP_CASES(MUL, BEE_SOP_MUL)
	BEE__SOP_CASES(DIV, BEE_SOP_DIV)
	BEE__SOP_CASES(SDIV, BEE_SOP_SDIV)
	BEE__SOP_CASES(MOD, BEE_SOP_MOD)
	BEE__SOP_CASES(SMOD, BEE_SOP_SMOD)
	BEE__SOP_CASES(OR, BEE_SOP_OR)
	BEE__SOP_CASES(AND, BEE_SOP_AND)
	BEE__SOP_CASES(XOR, BEE_SOP_XOR)
	BEE__SOP_CASES(LSH, BEE_SOP_LSH)
	BEE__SOP_CASES(RSH, BEE_SOP_RSH)
	BEE__SOP_CASES(ARSH, BEE_SOP_ARSH)
	BEE__SOP_CASES(MOV, BEE_SOP_MOV)
	case BEE_OP_NEG64:
		bee_scalar_alu_w(dst, BEE_SOP_NEG, dst, false, 64);
		return true;
	case BEE_OP_NEG32:
		bee_scalar_alu_w(dst, BEE_SOP_NEG, dst, true, 64);
		return true;
	case BEE_OP_MOVSX64_8:
		bee_scalar_movsx_w(dst, src, 8, false, 64);
		return true;
	case BEE_OP_MOVSX64_16:
		bee_scalar_movsx_w(dst, src, 16, false, 64);
		return true;
	case BEE_OP_MOVSX64_32:
		bee_scalar_movsx_w(dst, src, 32, false, 64);
		return true;
	case BEE_OP_MOVSX32_8:
		bee_scalar_movsx_w(dst, src, 8, true, 64);
		return true;
	case BEE_OP_MOVSX32_16:
		bee_scalar_movsx_w(dst, src, 16, true, 64);
		return true;
	case BEE_OP_LE16:
		bee_scalar_trunc(dst, 16);
		return true;
	case BEE_OP_LE32:
		bee_scalar_trunc(dst, 32);
		return true;
	case BEE_OP_LE64:
		return true;
	case BEE_OP_BE16:
	case BEE_OP_BSWAP16:
		bee_scalar_bswap(dst, 16);
		return true;
	case BEE_OP_BE32:
	case BEE_OP_BSWAP32:
		bee_scalar_bswap(dst, 32);
		return true;
	case BEE_OP_BE64:
	case BEE_OP_BSWAP64:
		bee_scalar_bswap(dst, 64);
		return true;
	default:
		return false;
	}
}

/* ---- branches ---------------------------------------------------------- */

enum bee_cond bee_cond_negate(enum bee_cond cond)
{
	static const enum bee_cond neg[BEE_COND__COUNT] = {
		[BEE_COND_EQ] = BEE_COND_NE,   [BEE_COND_NE] = BEE_COND_EQ,   [BEE_COND_GT] = BEE_COND_LE,
		[BEE_COND_GE] = BEE_COND_LT,   [BEE_COND_LT] = BEE_COND_GE,   [BEE_COND_LE] = BEE_COND_GT,
		[BEE_COND_SGT] = BEE_COND_SLE, [BEE_COND_SGE] = BEE_COND_SLT, [BEE_COND_SLT] = BEE_COND_SGE,
		[BEE_COND_SLE] = BEE_COND_SGT, [BEE_COND_SET] = BEE_COND_NSET, [BEE_COND_NSET] = BEE_COND_SET,
	};
	return neg[cond];
}

/* x != c: an interval that ends at c loses that end. */
static void exclude_const(struct bee_scalar *x, const struct bee_scalar *c)
{
	if (x->umin == c->umin)
		x->umin++;
	else if (x->umax == c->umin)
		x->umax--;
	if (x->smin == c->smin)
		x->smin++;
	else if (x->smax == c->smin)
		x->smax--;
}

/* a < b (or <= if strict is false), unsigned, at width w. */
static bool refine_ult(struct bee_scalar *a, struct bee_scalar *b, bool strict, unsigned w)
{
	if (strict && (b->umax == 0 || a->umin == umask_w(w)))
		return false;
	a->umax = umin64(a->umax, b->umax - strict);
	b->umin = umax64(b->umin, a->umin + strict);
	return true;
}

static bool refine_slt(struct bee_scalar *a, struct bee_scalar *b, bool strict, unsigned w)
{
	if (strict && (b->smax == smin_w(w) || a->smin == smax_w(w)))
		return false;
	a->smax = smin64(a->smax, b->smax - strict);
	b->smin = smax64(b->smin, a->smin + strict);
	return true;
}

/* Refine a and b (full-width facts, width w) with "a cond b". */
static bool refine(enum bee_cond cond, struct bee_scalar *a, struct bee_scalar *b, unsigned w)
{
	struct bee_tnum ta = a->var_off, tb = b->var_off;
	bool ok = true;

	switch (cond) {
	case BEE_COND_EQ:
		if (!bee_tnum_intersect_ok(ta, tb))
			return false;
		a->var_off = b->var_off = bee_tnum_intersect(ta, tb);
		a->umin = b->umin = umax64(a->umin, b->umin);
		a->umax = b->umax = umin64(a->umax, b->umax);
		a->smin = b->smin = smax64(a->smin, b->smin);
		a->smax = b->smax = smin64(a->smax, b->smax);
		a->u32_min = b->u32_min = a->u32_min > b->u32_min ? a->u32_min : b->u32_min;
		a->u32_max = b->u32_max = a->u32_max < b->u32_max ? a->u32_max : b->u32_max;
		a->s32_min = b->s32_min = a->s32_min > b->s32_min ? a->s32_min : b->s32_min;
		a->s32_max = b->s32_max = a->s32_max < b->s32_max ? a->s32_max : b->s32_max;
		break;
	case BEE_COND_NE:
		if (is_single(a) && is_single(b) && a->umin == b->umin)
			return false;
		if (is_single(b))
			exclude_const(a, b);
		else if (is_single(a))
			exclude_const(b, a);
		break;
	case BEE_COND_LT:
		ok = refine_ult(a, b, true, w);
		break;
	case BEE_COND_LE:
		ok = refine_ult(a, b, false, w);
		break;
	case BEE_COND_GT:
		ok = refine_ult(b, a, true, w);
		break;
	case BEE_COND_GE:
		ok = refine_ult(b, a, false, w);
		break;
	case BEE_COND_SLT:
		ok = refine_slt(a, b, true, w);
		break;
	case BEE_COND_SLE:
		ok = refine_slt(a, b, false, w);
		break;
	case BEE_COND_SGT:
		ok = refine_slt(b, a, true, w);
		break;
	case BEE_COND_SGE:
		ok = refine_slt(b, a, false, w);
		break;
	case BEE_COND_SET: {
		uint64_t may = (ta.value | ta.mask) & (tb.value | tb.mask);
		if (!may)
			return false;
		if ((may & (may - 1)) == 0) { /* one bit can be common: it is set in both */
			a->var_off = bee_tnum_or(ta, bee_tnum_const(may));
			b->var_off = bee_tnum_or(tb, bee_tnum_const(may));
		}
		break;
	}
	case BEE_COND_NSET:
		if (ta.value & tb.value)
			return false;
		a->var_off.mask &= ~tb.value;
		b->var_off.mask &= ~ta.value;
		break;
	case BEE_COND__COUNT:
		break;
	}
	if (!ok || !bounds_ok(a) || !bounds_ok(b))
		return false;
	return bee_scalar_sync_w(a, w) && bee_scalar_sync_w(b, w);
}

/* Write a refined half view v back into s. */
static bool write_half(struct bee_scalar *s, const struct bee_scalar *v, unsigned w)
{
	struct bee_tnum t = BEE_TNUM(v->var_off.value, v->var_off.mask | (umask_w(w) & ~umask_w(w / 2)));
	if (!bee_tnum_intersect_ok(s->var_off, t))
		return false;
	s->var_off = bee_tnum_intersect(s->var_off, t);
	s->u32_min = (uint32_t)umax64(s->u32_min, v->umin);
	s->u32_max = (uint32_t)umin64(s->u32_max, v->umax);
	s->s32_min = (int32_t)smax64(s->s32_min, v->smin);
	s->s32_max = (int32_t)smin64(s->s32_max, v->smax);
	return bounds_ok(s) && bee_scalar_sync_w(s, w);
}

static bool refine_edge(enum bee_cond cond, bool jmp32, struct bee_scalar *a, struct bee_scalar *b, unsigned w)
{
	if (!jmp32)
		return refine(cond, a, b, w);
	struct bee_scalar va = half_view(a, w), vb = half_view(b, w);
	return refine(cond, &va, &vb, w / 2) && write_half(a, &va, w) && write_half(b, &vb, w);
}

unsigned bee_scalar_branch_w(enum bee_cond cond, bool jmp32, const struct bee_scalar *a, const struct bee_scalar *b,
			     struct bee_scalar *a_taken, struct bee_scalar *b_taken, struct bee_scalar *a_fall,
			     struct bee_scalar *b_fall, unsigned width)
{
	struct bee_scalar at = *a, bt = *b, af = *a, bf = *b;
	unsigned edges = 0;
	if (refine_edge(cond, jmp32, &at, &bt, width))
		edges |= BEE_BRANCH_TAKEN;
	if (refine_edge(bee_cond_negate(cond), jmp32, &af, &bf, width))
		edges |= BEE_BRANCH_FALL;
	*a_taken = at;
	*b_taken = bt;
	*a_fall = af;
	*b_fall = bf;
	return edges;
}

unsigned bee_scalar_branch(enum bee_cond cond, bool jmp32, const struct bee_scalar *a, const struct bee_scalar *b,
			   struct bee_scalar *a_taken, struct bee_scalar *b_taken, struct bee_scalar *a_fall,
			   struct bee_scalar *b_fall)
{
	return bee_scalar_branch_w(cond, jmp32, a, b, a_taken, b_taken, a_fall, b_fall, 64);
}

int bee_scalar_branch_taken(enum bee_cond cond, bool jmp32, const struct bee_scalar *a, const struct bee_scalar *b)
{
	struct bee_scalar x[4];
	unsigned edges = bee_scalar_branch(cond, jmp32, a, b, &x[0], &x[1], &x[2], &x[3]);
	if (edges == BEE_BRANCH_TAKEN)
		return 1;
	if (edges == BEE_BRANCH_FALL)
		return 0;
	return -1;
}

#define BEE__COND_CASES(N, C)                                                                   \
	case BEE_OP_##N##_IMM:                                                                  \
	case BEE_OP_##N##_REG:                                                                  \
		*cond = C;                                                                      \
		*jmp32 = false;                                                                 \
		return true;                                                                    \
	case BEE_OP_##N##32_IMM:                                                                \
	case BEE_OP_##N##32_REG:                                                                \
		*cond = C;                                                                      \
		*jmp32 = true;                                                                  \
		return true;

bool bee_scalar_cond_of(enum bee_op op, enum bee_cond *cond, bool *jmp32)
{
	switch (op) {
	BEE__COND_CASES(JEQ, BEE_COND_EQ)
	BEE__COND_CASES(JNE, BEE_COND_NE)
	BEE__COND_CASES(JGT, BEE_COND_GT)
	BEE__COND_CASES(JGE, BEE_COND_GE)
	BEE__COND_CASES(JLT, BEE_COND_LT)
	BEE__COND_CASES(JLE, BEE_COND_LE)
	BEE__COND_CASES(JSGT, BEE_COND_SGT)
	BEE__COND_CASES(JSGE, BEE_COND_SGE)
	BEE__COND_CASES(JSLT, BEE_COND_SLT)
	BEE__COND_CASES(JSLE, BEE_COND_SLE)
	BEE__COND_CASES(JSET, BEE_COND_SET)
	default:
		return false;
	}
}

/* ---- log ------------------------------------------------------------- */

int bee_scalar_strn(char *buf, size_t size, const struct bee_scalar *s)
{
	if (bee_tnum_is_const(s->var_off))
		return snprintf(buf, size, "%lld", (long long)s->var_off.value);
	char t[64];
	size_t n = 0;
	int len = 0;
#define BEE__FIELD(cond, ...)                                                                   \
	do {                                                                                    \
		if (cond) {                                                                     \
			len = snprintf(buf + n, n < size ? size - n : 0, "%s", n > 7 ? "," : ""); \
			n += (size_t)len;                                                       \
			len = snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__);         \
			n += (size_t)len;                                                       \
		}                                                                               \
	} while (0)
	len = snprintf(buf, size, "scalar(");
	n = (size_t)len;
	BEE__FIELD(s->smin != INT64_MIN, "smin=%lld", (long long)s->smin);
	BEE__FIELD(s->smax != INT64_MAX, "smax=%lld", (long long)s->smax);
	BEE__FIELD(s->umin != 0, "umin=%llu", (unsigned long long)s->umin);
	BEE__FIELD(s->umax != UINT64_MAX, "umax=%llu", (unsigned long long)s->umax);
	BEE__FIELD(s->s32_min != INT32_MIN, "smin32=%d", s->s32_min);
	BEE__FIELD(s->s32_max != INT32_MAX, "smax32=%d", s->s32_max);
	BEE__FIELD(s->u32_min != 0, "umin32=%u", s->u32_min);
	BEE__FIELD(s->u32_max != UINT32_MAX, "umax32=%u", s->u32_max);
	if (!bee_tnum_is_unknown(s->var_off)) {
		bee_tnum_strn(t, sizeof(t), s->var_off);
		BEE__FIELD(true, "var_off=%s", t);
	}
#undef BEE__FIELD
	len = snprintf(buf + n, n < size ? size - n : 0, ")");
	return (int)(n + (size_t)len);
}
