/*
 * test_scalar.c - soundness and precision of the verifier's scalar domain
 * (src/verify/tnum.c, scalar.c).
 *
 * Soundness means: for every abstract state pair and every concrete pair
 * they contain, the concrete result is contained in the abstract result;
 * for a branch, every pair that takes an edge is contained in that edge's
 * refined states, and an edge called impossible is never taken.  The
 * domain takes its width as a parameter, so this is checked
 *   - exhaustively for tnums at 5 bits (every tnum pair, every member pair;
 *     and/or/xor/add/sub also checked to be the best tnum);
 *   - at 8 bits (half: 4 bits) on sampled states built from tnums with a
 *     few unknown bits and random bounds, then synced, over every member
 *     pair, for every ALU op in both widths and every condition;
 *   - at 64 bits on random states around random values, with sampled
 *     members.
 * Then spot checks of precision the verifier relies on.
 */
#include <inttypes.h>
#include <string.h>

#include "unit.h"
#include "verify/scalar.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t mask_of(unsigned w) { return w >= 64 ? ~0ULL : (1ULL << w) - 1; }
static int64_t sx(uint64_t x, unsigned w)
{
	if (w >= 64)
		return (int64_t)x;
	uint64_t s = 1ULL << (w - 1);
	x &= mask_of(w);
	return (int64_t)((x ^ s) - s);
}

/* ---- the concrete semantics (RFC 9669), at any width ---- */

static uint64_t conc_alu(enum bee_scalar_op op, bool alu32, uint64_t x, uint64_t y, unsigned w)
{
	unsigned tw = alu32 ? w / 2 : w;
	uint64_t m = mask_of(tw), r = 0;
	x &= m;
	y &= m;
	int64_t a = sx(x, tw), b = sx(y, tw), smin = sx(1ULL << (tw - 1), tw);
	switch (op) {
	case BEE_SOP_ADD: r = x + y; break;
	case BEE_SOP_SUB: r = x - y; break;
	case BEE_SOP_MUL: r = x * y; break;
	case BEE_SOP_DIV: r = y ? x / y : 0; break;
	case BEE_SOP_MOD: r = y ? x % y : x; break;
	case BEE_SOP_SDIV: r = !b ? 0 : (a == smin && b == -1) ? x : (uint64_t)(a / b); break;
	case BEE_SOP_SMOD: r = !b ? x : b == -1 ? 0 : (uint64_t)(a % b); break;
	case BEE_SOP_OR: r = x | y; break;
	case BEE_SOP_AND: r = x & y; break;
	case BEE_SOP_XOR: r = x ^ y; break;
	case BEE_SOP_LSH: r = x << (y & (tw - 1)); break;
	case BEE_SOP_RSH: r = x >> (y & (tw - 1)); break;
	case BEE_SOP_ARSH: r = (uint64_t)(a >> (y & (tw - 1))); break;
	case BEE_SOP_MOV: r = y; break;
	case BEE_SOP_NEG: r = 0 - x; break;
	case BEE_SOP__COUNT: break;
	}
	return r & m;
}

static uint64_t conc_movsx(uint64_t x, unsigned n, bool alu32, unsigned w)
{
	return (uint64_t)sx(x, n) & mask_of(alu32 ? w / 2 : w);
}

static bool conc_cond(enum bee_cond c, bool jmp32, uint64_t x, uint64_t y, unsigned w)
{
	unsigned tw = jmp32 ? w / 2 : w;
	x &= mask_of(tw);
	y &= mask_of(tw);
	int64_t a = sx(x, tw), b = sx(y, tw);
	switch (c) {
	case BEE_COND_EQ: return x == y;
	case BEE_COND_NE: return x != y;
	case BEE_COND_GT: return x > y;
	case BEE_COND_GE: return x >= y;
	case BEE_COND_LT: return x < y;
	case BEE_COND_LE: return x <= y;
	case BEE_COND_SGT: return a > b;
	case BEE_COND_SGE: return a >= b;
	case BEE_COND_SLT: return a < b;
	case BEE_COND_SLE: return a <= b;
	case BEE_COND_SET: return (x & y) != 0;
	case BEE_COND_NSET: return (x & y) == 0;
	case BEE_COND__COUNT: break;
	}
	return false;
}

static const char *op_name[BEE_SOP__COUNT] = {"add", "sub", "mul", "div", "sdiv", "mod", "smod", "or",
					     "and", "xor", "lsh", "rsh", "arsh", "mov", "neg"};

static void dump(const char *what, const struct bee_scalar *s)
{
	char buf[256];
	bee_scalar_strn(buf, sizeof(buf), s);
	printf("  %s = %s [u %#" PRIx64 "..%#" PRIx64 " s %" PRId64 "..%" PRId64 " u32 %#x..%#x s32 %d..%d]\n",
	       what, buf, s->umin, s->umax, s->smin, s->smax, s->u32_min, s->u32_max, s->s32_min, s->s32_max);
}

static long concrete_checks;
static int reported;

static void report(const char *msg, const struct bee_scalar *a, const struct bee_scalar *b,
		   const struct bee_scalar *r, uint64_t x, uint64_t y, uint64_t res)
{
	failures++;
	if (reported++ > 10)
		return;
	printf("FAIL %s: x=%#" PRIx64 " y=%#" PRIx64 " result=%#" PRIx64 "\n", msg, x, y, res);
	dump("a", a);
	if (b)
		dump("b", b);
	if (r)
		dump("r", r);
}

/* ---- exhaustive tnum checks at 5 bits ---- */

#define TW 5
static int n_tnums;
static struct bee_tnum tnums[243];

static void all_tnums(void)
{
	for (int code = 0; code < 243; code++) { /* each bit: 0, 1 or unknown */
		uint64_t v = 0, m = 0;
		int c = code;
		for (int bit = 0; bit < TW; bit++, c /= 3) {
			if (c % 3 == 1)
				v |= 1ULL << bit;
			else if (c % 3 == 2)
				m |= 1ULL << bit;
		}
		tnums[n_tnums++] = BEE_TNUM(v, m);
	}
}

static struct bee_tnum tnum_op(int op, struct bee_tnum a, struct bee_tnum b)
{
	switch (op) {
	case 0: return bee_tnum_trunc(bee_tnum_add(a, b), TW);
	case 1: return bee_tnum_trunc(bee_tnum_sub(a, b), TW);
	case 2: return bee_tnum_and(a, b);
	case 3: return bee_tnum_or(a, b);
	case 4: return bee_tnum_xor(a, b);
	case 5: return bee_tnum_trunc(bee_tnum_mul(a, b), TW);
	case 6: return bee_tnum_union(a, b);
	default: return bee_tnum_trunc(bee_tnum_neg(a), TW);
	}
}

static uint64_t tnum_conc(int op, uint64_t x, uint64_t y)
{
	uint64_t m = mask_of(TW);
	switch (op) {
	case 0: return (x + y) & m;
	case 1: return (x - y) & m;
	case 2: return x & y;
	case 3: return x | y;
	case 4: return x ^ y;
	case 5: return (x * y) & m;
	case 6: return x; /* and y, checked separately */
	default: return (0 - x) & m;
	}
}

static void test_tnum_exhaustive(void)
{
	long pairs = 0, not_best = 0;
	all_tnums();
	for (int i = 0; i < n_tnums; i += SANITIZED ? 3 : 1) {
		struct bee_tnum a = tnums[i];
		for (int j = 0; j < n_tnums; j++) {
			struct bee_tnum b = tnums[j];
			pairs++;
			for (int op = 0; op < 8; op++) {
				struct bee_tnum r = tnum_op(op, a, b);
				uint64_t seen_and = ~0ULL, seen_or = 0;
				for (uint64_t x = 0; x <= mask_of(TW); x++) {
					if (!bee_tnum_contains(a, x))
						continue;
					for (uint64_t y = 0; y <= mask_of(TW); y++) {
						if (!bee_tnum_contains(b, y))
							continue;
						uint64_t c = tnum_conc(op, x, y);
						concrete_checks++;
						if (!bee_tnum_contains(r, c) || (op == 6 && !bee_tnum_contains(r, y))) {
							failures++;
							if (reported++ < 10)
								printf("FAIL tnum op %d a=(%#llx;%#llx) b=(%#llx;%#llx) x=%llu y=%llu\n",
								       op, (unsigned long long)a.value, (unsigned long long)a.mask,
								       (unsigned long long)b.value, (unsigned long long)b.mask,
								       (unsigned long long)x, (unsigned long long)y);
						}
						seen_and &= c;
						seen_or |= c;
					}
				}
				/* the best tnum of the results: bits always 1, bits ever differing */
				struct bee_tnum best = BEE_TNUM(seen_and, seen_and ^ seen_or);
				if (op <= 4 && !bee_tnum_equals(r, best))
					not_best++;
				checks++;
			}
			/* shifts by every amount, arithmetic at width TW */
			for (unsigned k = 0; k < TW; k++) {
				struct bee_tnum l = bee_tnum_trunc(bee_tnum_lshift(a, k), TW);
				struct bee_tnum rr = bee_tnum_rshift(a, k), ar = bee_tnum_arshift(a, k, TW);
				for (uint64_t x = 0; x <= mask_of(TW); x++) {
					if (!bee_tnum_contains(a, x))
						continue;
					CHECK(bee_tnum_contains(l, (x << k) & mask_of(TW)), "lshift");
					CHECK(bee_tnum_contains(rr, x >> k), "rshift");
					CHECK(bee_tnum_contains(ar, (uint64_t)(sx(x, TW) >> k) & mask_of(TW)), "arshift");
				}
			}
			/* intersect and in against membership */
			bool in = true, both_any = false;
			struct bee_tnum meet = bee_tnum_intersect(a, b);
			for (uint64_t x = 0; x <= mask_of(TW); x++) {
				bool ia = bee_tnum_contains(a, x), ib = bee_tnum_contains(b, x);
				if (ib && !ia)
					in = false;
				if (ia && ib) {
					both_any = true;
					CHECK(bee_tnum_contains(meet, x), "intersect loses %llu", (unsigned long long)x);
				}
			}
			CHECK(in == bee_tnum_in(a, b), "in");
			CHECK(both_any == bee_tnum_intersect_ok(a, b), "intersect_ok");
		}
		/* sign extension from every width */
		for (unsigned n = 1; n <= TW; n++) {
			struct bee_tnum s = bee_tnum_sext(bee_tnum_trunc(a, n), n, TW);
			for (uint64_t x = 0; x <= mask_of(TW); x++)
				if (bee_tnum_contains(a, x))
					CHECK(bee_tnum_contains(s, (uint64_t)sx(x, n) & mask_of(TW)), "sext");
		}
	}
	/* range: every interval at 5 bits */
	for (uint64_t lo = 0; lo <= mask_of(TW); lo++)
		for (uint64_t hi = lo; hi <= mask_of(TW); hi++) {
			struct bee_tnum r = bee_tnum_range(lo, hi);
			for (uint64_t x = lo; x <= hi; x++)
				CHECK(bee_tnum_contains(r, x), "range");
		}
	CHECK(not_best == 0, "add/sub/and/or/xor not optimal in %ld cases", not_best);
	printf("tnum: %ld pairs at %d bits (all, or a third when sanitized) (%ld member pairs x op)\n", pairs, TW, concrete_checks);
}

/* ---- scalar states at width 8 ---- */

#define SW 8
struct sstate {
	struct bee_scalar s;
	int n;
	uint8_t members[256];
};

static bool fill_members(struct sstate *st)
{
	st->n = 0;
	for (uint64_t x = 0; x <= mask_of(SW); x++)
		if (bee_scalar_contains_w(&st->s, x, SW))
			st->members[st->n++] = (uint8_t)x;
	return st->n > 0;
}

static void random_pair(uint64_t m, uint64_t *lo, uint64_t *hi)
{
	uint64_t a = rnd() & m, b = rnd() & m;
	if (rnd() % 2) /* often narrow */
		b = (a + rnd() % 8) & m;
	*lo = a < b ? a : b;
	*hi = a < b ? b : a;
}

static void gen_state8(struct sstate *st)
{
	for (;;) {
		unsigned unknown = (unsigned)(rnd() % 5);
		uint64_t m = 0;
		if (rnd() % 16 == 0)
			m = mask_of(SW);
		for (unsigned i = 0; i < unknown; i++)
			m |= 1ULL << (rnd() % SW);
		struct bee_scalar *s = &st->s;
		bee_scalar_unknown_w(s, SW);
		s->var_off = BEE_TNUM(rnd() & mask_of(SW) & ~m, m);
		uint64_t lo, hi;
		if (rnd() % 3 == 0) {
			random_pair(mask_of(SW), &lo, &hi);
			s->umin = lo, s->umax = hi;
		}
		if (rnd() % 3 == 0) {
			random_pair(mask_of(SW), &lo, &hi);
			int64_t a = sx(lo, SW), b = sx(hi, SW);
			s->smin = a < b ? a : b, s->smax = a < b ? b : a;
		}
		if (rnd() % 3 == 0) {
			random_pair(mask_of(SW / 2), &lo, &hi);
			s->u32_min = (uint32_t)lo, s->u32_max = (uint32_t)hi;
		}
		if (rnd() % 3 == 0) {
			random_pair(mask_of(SW / 2), &lo, &hi);
			int64_t a = sx(lo, SW / 2), b = sx(hi, SW / 2);
			s->s32_min = (int32_t)(a < b ? a : b), s->s32_max = (int32_t)(a < b ? b : a);
		}
		/* sync must keep every member of the unsynced state */
		struct sstate before = *st;
		bool ok = fill_members(&before);
		if (!bee_scalar_sync_w(s, SW)) {
			CHECK(!ok, "sync called a state with %d members empty", before.n);
			continue;
		}
		CHECK(bee_scalar_well_formed_w(s, SW), "sync result ill-formed");
		if (!fill_members(st) || st->n > 16) /* keep member pairs few: many states instead */
			continue;
		CHECK(st->n == before.n, "sync changed the members (%d -> %d)", before.n, st->n);
		return;
	}
}

static void check_result8(const char *what, const struct bee_scalar *a, const struct bee_scalar *b,
			  const struct bee_scalar *r, uint64_t x, uint64_t y, uint64_t c)
{
	concrete_checks++;
	if (!bee_scalar_contains_w(r, c, SW))
		report(what, a, b, r, x, y, c);
}

static void test_scalar8(int n_states)
{
	struct sstate *st = calloc((size_t)n_states, sizeof(*st));
	long pairs = 0, edges_impossible = 0;
	char what[64];
	for (int i = 0; i < n_states; i++) {
		if (i < 4) { /* the corners: unknown and a few constants */
			if (i == 0)
				bee_scalar_unknown_w(&st[i].s, SW);
			else
				bee_scalar_const_w(&st[i].s, i == 1 ? 0 : i == 2 ? 0x80 : 0xff, SW);
			fill_members(&st[i]);
		} else {
			gen_state8(&st[i]);
		}
	}
	for (int i = 0; i < n_states; i++) {
		const struct sstate *A = &st[i];
		/* unary: movsx from every width */
		for (int alu32 = 0; alu32 < 2; alu32++)
			for (unsigned n = 1; n <= (alu32 ? SW / 2 : SW); n++) {
				struct bee_scalar r;
				bee_scalar_movsx_w(&r, &A->s, n, alu32, SW);
				CHECK(bee_scalar_well_formed_w(&r, SW), "movsx ill-formed");
				for (int k = 0; k < A->n; k++) {
					snprintf(what, sizeof(what), "movsx%u%s", n, alu32 ? "/32" : "");
					check_result8(what, &A->s, NULL, &r, A->members[k], 0,
						      conc_movsx(A->members[k], n, alu32, SW));
				}
			}
		for (int j = 0; j < n_states; j++) {
			const struct sstate *B = &st[j];
			pairs++;
			for (int op = 0; op < BEE_SOP__COUNT; op++)
				for (int alu32 = 0; alu32 < 2; alu32++) {
					struct bee_scalar r = A->s;
					bee_scalar_alu_w(&r, (enum bee_scalar_op)op, &B->s, alu32, SW);
					if (!bee_scalar_well_formed_w(&r, SW))
						report("ill-formed result", &A->s, &B->s, &r, 0, 0, 0);
					snprintf(what, sizeof(what), "%s%s", op_name[op], alu32 ? "32" : "");
					for (int x = 0; x < A->n; x++)
						for (int y = 0; y < B->n; y++) {
							uint64_t c = conc_alu((enum bee_scalar_op)op, alu32,
									      A->members[x], B->members[y], SW);
							check_result8(what, &A->s, &B->s, &r, A->members[x],
								      B->members[y], c);
						}
				}
			for (int c = 0; c < BEE_COND__COUNT; c++)
				for (int j32 = 0; j32 < 2; j32++) {
					struct bee_scalar at, bt, af, bf;
					unsigned edges = bee_scalar_branch_w((enum bee_cond)c, j32, &A->s, &B->s, &at, &bt,
									     &af, &bf, SW);
					edges_impossible += !(edges & BEE_BRANCH_TAKEN) + !(edges & BEE_BRANCH_FALL);
					for (int x = 0; x < A->n; x++)
						for (int y = 0; y < B->n; y++) {
							uint64_t vx = A->members[x], vy = B->members[y];
							bool taken = conc_cond((enum bee_cond)c, j32, vx, vy, SW);
							const struct bee_scalar *ra = taken ? &at : &af, *rb = taken ? &bt : &bf;
							concrete_checks++;
							snprintf(what, sizeof(what), "cond %d%s %s", c, j32 ? "/32" : "",
								 taken ? "taken" : "fall");
							if (!(edges & (taken ? BEE_BRANCH_TAKEN : BEE_BRANCH_FALL)))
								report(what, &A->s, &B->s, NULL, vx, vy, taken);
							else if (!bee_scalar_contains_w(ra, vx, SW) ||
								 !bee_scalar_contains_w(rb, vy, SW))
								report(what, &A->s, &B->s, ra, vx, vy, taken);
						}
				}
		}
	}
	checks++;
	printf("scalar8: %d states, %ld pairs, %ld concrete checks, %ld edges proven impossible\n", n_states, pairs,
	       concrete_checks, edges_impossible);
	free(st);
}

/* ---- 64-bit random states around random values ---- */

static uint64_t interesting(void)
{
	switch (rnd() % 6) {
	case 0: return rnd() % 64;
	case 1: return (uint64_t)-(int64_t)(rnd() % 64);
	case 2: return (1ULL << 63) + rnd() % 16 - 8;
	case 3: return (1ULL << 31) + rnd() % 16 - 8;
	case 4: return rnd() & 0xffffffff;
	default: return rnd();
	}
}

/* A synced state around x (which stays a member). */
static void gen_state64(struct bee_scalar *s, uint64_t x)
{
	uint64_t m;
	switch (rnd() % 5) {
	case 0: m = 0; break;
	case 1: m = rnd() & rnd() & rnd(); break;
	case 2: m = (1ULL << (rnd() % 64)) - 1; break;
	case 3: m = ~0ULL; break;
	default: m = rnd() & 0xff; break;
	}
	bee_scalar_unknown(s);
	s->var_off = BEE_TNUM(x & ~m, m);
	uint64_t d1 = rnd() % 4 ? rnd() % 1000 : rnd(), d2 = rnd() % 4 ? rnd() % 1000 : rnd();
	if (rnd() % 2) {
		s->umin = x >= d1 ? x - d1 : 0;
		s->umax = x <= ~0ULL - d2 ? x + d2 : ~0ULL;
	}
	if (rnd() % 2) {
		int64_t v = (int64_t)x;
		s->smin = v >= INT64_MIN + (int64_t)(d1 >> 1) ? v - (int64_t)(d1 >> 1) : INT64_MIN;
		s->smax = v <= INT64_MAX - (int64_t)(d2 >> 1) ? v + (int64_t)(d2 >> 1) : INT64_MAX;
	}
	if (rnd() % 3 == 0) {
		uint32_t lo = (uint32_t)x;
		s->u32_min = lo >= 100 ? lo - (uint32_t)(rnd() % 100) : 0;
		s->u32_max = lo <= UINT32_MAX - 100 ? lo + (uint32_t)(rnd() % 100) : UINT32_MAX;
	}
	bool ok = bee_scalar_sync(s);
	CHECK(ok && bee_scalar_contains(s, x), "sync64 lost %#" PRIx64, x);
}

/* A member of s near x, or x. */
static uint64_t sample(const struct bee_scalar *s, uint64_t x)
{
	for (int tries = 0; tries < 4; tries++) {
		uint64_t y;
		switch (rnd() % 4) {
		case 0: y = s->var_off.value | (rnd() & s->var_off.mask); break;
		case 1: y = s->umin + rnd() % 4; break;
		case 2: y = s->umax - rnd() % 4; break;
		default: y = x ^ (rnd() & s->var_off.mask & 0xff); break;
		}
		if (bee_scalar_contains(s, y))
			return y;
	}
	return x;
}

static void test_scalar64(int n_pairs, int samples)
{
	long before = concrete_checks;
	for (int p = 0; p < n_pairs; p++) {
		uint64_t x0 = interesting(), y0 = rnd() % 3 ? interesting() : rnd() % 70;
		struct bee_scalar A, B;
		gen_state64(&A, x0);
		gen_state64(&B, y0);
		uint64_t xs[16], ys[16];
		for (int k = 0; k < samples; k++) {
			xs[k] = sample(&A, x0);
			ys[k] = sample(&B, y0);
		}
		for (int op = 0; op < BEE_SOP__COUNT; op++)
			for (int alu32 = 0; alu32 < 2; alu32++) {
				struct bee_scalar r = A;
				bee_scalar_alu_w(&r, (enum bee_scalar_op)op, &B, alu32, 64);
				if (!bee_scalar_well_formed_w(&r, 64))
					report("ill-formed result64", &A, &B, &r, 0, 0, 0);
				for (int k = 0; k < samples; k++) {
					uint64_t c = conc_alu((enum bee_scalar_op)op, alu32, xs[k], ys[k], 64);
					concrete_checks++;
					if (!bee_scalar_contains(&r, c))
						report(op_name[op], &A, &B, &r, xs[k], ys[k], c);
				}
			}
		static const unsigned widths[] = {8, 16, 32};
		for (int i = 0; i < 3; i++)
			for (int alu32 = 0; alu32 < 2; alu32++) {
				if (alu32 && widths[i] == 32)
					continue;
				struct bee_scalar r;
				bee_scalar_movsx_w(&r, &A, widths[i], alu32, 64);
				for (int k = 0; k < samples; k++) {
					concrete_checks++;
					uint64_t c = conc_movsx(xs[k], widths[i], alu32, 64);
					if (!bee_scalar_contains(&r, c))
						report("movsx64", &A, NULL, &r, xs[k], 0, c);
				}
			}
		for (unsigned bits = 16; bits <= 64; bits *= 2) {
			struct bee_scalar t = A, s = A;
			bee_scalar_trunc(&t, bits);
			bee_scalar_bswap(&s, bits);
			for (int k = 0; k < samples; k++) {
				uint64_t v = xs[k] & mask_of(bits);
				uint64_t sw = bits == 16 ? __builtin_bswap16((uint16_t)v)
					      : bits == 32 ? __builtin_bswap32((uint32_t)v) : __builtin_bswap64(v);
				concrete_checks += 2;
				if (!bee_scalar_contains(&t, v))
					report("trunc", &A, NULL, &t, xs[k], bits, v);
				if (!bee_scalar_contains(&s, sw))
					report("bswap", &A, NULL, &s, xs[k], bits, sw);
			}
		}
		for (int c = 0; c < BEE_COND__COUNT; c++)
			for (int j32 = 0; j32 < 2; j32++) {
				struct bee_scalar at, bt, af, bf;
				unsigned edges = bee_scalar_branch((enum bee_cond)c, j32, &A, &B, &at, &bt, &af, &bf);
				for (int k = 0; k < samples; k++) {
					bool taken = conc_cond((enum bee_cond)c, j32, xs[k], ys[k], 64);
					concrete_checks++;
					if (!(edges & (taken ? BEE_BRANCH_TAKEN : BEE_BRANCH_FALL)) ||
					    !bee_scalar_contains(taken ? &at : &af, xs[k]) ||
					    !bee_scalar_contains(taken ? &bt : &bf, ys[k]))
						report("branch64", &A, &B, taken ? &at : &af, xs[k], ys[k], (uint64_t)c);
				}
			}
	}
	checks++;
	printf("scalar64: %d random state pairs, %ld concrete checks\n", n_pairs, concrete_checks - before);
}

/* ---- precision spot checks ---- */

static void test_precision(void)
{
	struct bee_scalar a, b, at, bt, af, bf;
	char buf[256];

	bee_scalar_unknown(&a);
	bee_scalar_const(&b, 0xff);
	bee_scalar_alu_insn(&a, BEE_OP_AND64_IMM, &b);
	CHECK(a.umax == 255 && a.umin == 0 && a.smin == 0 && a.smax == 255, "and 0xff: umax %llu",
	      (unsigned long long)a.umax);
	bee_tnum_strn(buf, sizeof(buf), a.var_off);
	CHECK(!strcmp(buf, "(0x0; 0xff)"), "var_off %s", buf);

	bee_scalar_unknown(&a);
	bee_scalar_const(&b, 10);
	CHECK(bee_scalar_branch(BEE_COND_LT, false, &a, &b, &at, &bt, &af, &bf) ==
		      (BEE_BRANCH_TAKEN | BEE_BRANCH_FALL),
	      "x < 10 both edges");
	CHECK(at.umax == 9 && at.umin == 0, "x < 10 taken: umax %llu", (unsigned long long)at.umax);
	CHECK(af.umin == 10, "x < 10 fall: umin %llu", (unsigned long long)af.umin);
	CHECK(at.smin == 0 && at.smax == 9 && at.u32_max == 9, "x < 10 taken: signed and 32-bit views");
	CHECK(bee_scalar_branch_taken(BEE_COND_LT, false, &at, &b) == 1, "x<10 then x<10 always");
	CHECK(bee_scalar_branch_taken(BEE_COND_GE, false, &at, &b) == 0, "x<10 then x>=10 never");

	/* constants fold exactly */
	for (int op = 0; op < BEE_SOP__COUNT; op++)
		for (int alu32 = 0; alu32 < 2; alu32++)
			for (int k = 0; k < 50; k++) {
				uint64_t x = interesting(), y = interesting();
				bee_scalar_const(&a, x);
				bee_scalar_const(&b, y);
				bee_scalar_alu_w(&a, (enum bee_scalar_op)op, &b, alu32, 64);
				uint64_t c = conc_alu((enum bee_scalar_op)op, alu32, x, y, 64);
				CHECK(bee_tnum_equals_const(a.var_off, c) && a.umin == c && a.umax == c,
				      "%s%s of constants %#llx %#llx not folded", op_name[op], alu32 ? "32" : "",
				      (unsigned long long)x, (unsigned long long)y);
			}
	for (int c = 0; c < BEE_COND__COUNT; c++)
		for (int k = 0; k < 50; k++) {
			uint64_t x = interesting(), y = k % 2 ? x : interesting();
			bee_scalar_const(&a, x);
			bee_scalar_const(&b, y);
			int t = bee_scalar_branch_taken((enum bee_cond)c, false, &a, &b);
			CHECK(t == conc_cond((enum bee_cond)c, false, x, y, 64), "cond %d of constants", c);
		}

	/* 32-bit ops zero-extend; movsx; shifts; jset */
	bee_scalar_unknown(&a);
	bee_scalar_const(&b, 0);
	bee_scalar_alu_insn(&a, BEE_OP_ADD32_IMM, &b);
	CHECK(a.umax == 0xffffffff && a.smin == 0, "alu32 zero-extends");
	bee_scalar_unknown(&a);
	bee_scalar_movsx_w(&a, &a, 8, false, 64);
	CHECK(a.smin == -128 && a.smax == 127, "movsx8 range %lld..%lld", (long long)a.smin, (long long)a.smax);
	bee_scalar_unknown(&a);
	bee_scalar_const(&b, 56);
	bee_scalar_alu_insn(&a, BEE_OP_RSH64_IMM, &b);
	CHECK(a.umax == 255, "rsh 56 umax %llu", (unsigned long long)a.umax);
	bee_scalar_unknown(&a);
	bee_scalar_const(&b, 4);
	bee_scalar_branch(BEE_COND_NSET, false, &a, &b, &at, &bt, &af, &bf);
	CHECK(!(at.var_off.mask & 4) && !(at.var_off.value & 4), "!(x & 4) clears bit 2");
	bee_scalar_branch(BEE_COND_SET, false, &a, &b, &at, &bt, &af, &bf);
	CHECK(at.var_off.value & 4, "x & 4 sets bit 2");
	bee_scalar_unknown(&a);
	bee_scalar_const(&b, 5);
	bee_scalar_branch(BEE_COND_SLE, true, &a, &b, &at, &bt, &af, &bf);
	CHECK(at.s32_max == 5 && af.s32_min == 6, "jmp32 s<= 5: s32 %d / %d", at.s32_max, af.s32_min);
	bee_scalar_const(&b, 0);
	bee_scalar_alu_insn(&a, BEE_OP_DIV64_REG, &b);
	CHECK(bee_tnum_equals_const(a.var_off, 0), "x / 0 = 0");
	bee_scalar_unknown(&a);
	bee_scalar_const(&b, 16);
	bee_scalar_alu_insn(&a, BEE_OP_MOD64_IMM, &b);
	CHECK(a.umax == 15, "x %% 16 umax %llu", (unsigned long long)a.umax);

	bee_scalar_const(&a, 42);
	bee_scalar_strn(buf, sizeof(buf), &a);
	CHECK(!strcmp(buf, "42"), "strn const %s", buf);
	bee_scalar_unknown(&a);
	bee_scalar_const(&b, 0xff);
	bee_scalar_alu_insn(&a, BEE_OP_AND64_IMM, &b);
	bee_scalar_strn(buf, sizeof(buf), &a);
	CHECK(strstr(buf, "umax=255") && strstr(buf, "var_off=(0x0; 0xff)"), "strn %s", buf);
	bee_tnum_sbin(buf, sizeof(buf), BEE_TNUM(1, 2));
	CHECK(strlen(buf) == 64 && !strcmp(buf + 62, "x1"), "sbin %s", buf);
	CHECK(bee_tnum_is_aligned(BEE_TNUM(8, 0x30), 8) && !bee_tnum_is_aligned(BEE_TNUM(8, 0x4), 8), "aligned");
}

int main(void)
{
	test_tnum_exhaustive();
	test_scalar8(SANITIZED ? 40 : 100);
	test_scalar64(SANITIZED ? 1000 : 8000, 16);
	test_precision();
	printf("%d checks, %d failures\n", checks + (int)(concrete_checks > 0), failures);
	return failures ? 1 : 0;
}
