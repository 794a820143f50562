/*
 * state.c - abstract register and stack states.
 *
 * Registers: see vpriv.h.  Two states are equal when every frame's
 * registers and stack byte kinds are equal, spilled registers included,
 * and they hold the same references (the infinite-loop check).  Pruning
 * uses vstate_safe at the end of this file: an explored state covers
 * another when every register and stack slot it holds covers the other's
 * (the kernel's regsafe/stacksafe).
 *
 * The stack follows the kernel's per-byte slot kinds.  A write of 8 bytes
 * at an 8-aligned offset spills the whole register (its type and bounds
 * come back on an 8-byte fill of the same slot); any other write makes its
 * bytes misc (or zero, for a constant 0), and first turns the rest of any
 * spill it touches into misc, so a spilled pointer is never half
 * overwritten and then refilled as a pointer.  Uninitialised bytes read as
 * unknown numbers, as the kernel lets root read them (the value is
 * whatever the frame held: memory-safe, not deterministic).  A partial
 * read of a spilled pointer is refused; of a spilled scalar, it yields an
 * unknown scalar.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verify/vpriv.h"

void vreg_init(struct vreg *r)
{
	memset(r, 0, sizeof(*r));
	r->map = -1;
	bee_scalar_const(&r->var, 0);
}

void vreg_scalar_unknown(struct vreg *r)
{
	vreg_init(r);
	r->type = SCALAR;
	bee_scalar_unknown(&r->var);
}

void vreg_scalar_const(struct vreg *r, uint64_t v)
{
	vreg_init(r);
	r->type = SCALAR;
	bee_scalar_const(&r->var, v);
}

bool vreg_is_ptr(const struct vreg *r)
{
	return r->type != NOT_INIT && r->type != SCALAR;
}

static bool scalar_equal(const struct bee_scalar *a, const struct bee_scalar *b)
{
	return bee_tnum_equals(a->var_off, b->var_off) && a->smin == b->smin &&
	       a->smax == b->smax && a->umin == b->umin && a->umax == b->umax &&
	       a->s32_min == b->s32_min && a->s32_max == b->s32_max &&
	       a->u32_min == b->u32_min && a->u32_max == b->u32_max;
}

bool vreg_equal(const struct vreg *a, const struct vreg *b)
{
	if (a->type != b->type)
		return false;
	if (a->type == NOT_INIT)
		return true;
	return a->off == b->off && a->id == b->id && a->range == b->range && a->map == b->map &&
	       a->mem_size == b->mem_size && a->ref == b->ref && a->frameno == b->frameno && 
	       a->memkind == b->memkind &&
	       a->subprog == b->subprog && scalar_equal(&a->var, &b->var);
}

static bool vframe_equal(const struct vframe *a, const struct vframe *b)
{
	if (a->callsite != b->callsite || a->subprog != b->subprog ||
	    a->cb_helper != b->cb_helper)
		return false;
	for (int i = 0; i < 11; i++)
		if (!vreg_equal(&a->regs[i], &b->regs[i]))
			return false;
	if (memcmp(a->stack, b->stack, VSTACK) != 0)
		return false;
	for (int s = 0; s < VSLOTS; s++)
		if (a->stack[s * 8] == SLOT_SPILL && !vreg_equal(&a->spills[s], &b->spills[s]))
			return false;
	return true;
}

bool vstate_equal(const struct vstate *a, const struct vstate *b)
{
	if (a->cur != b->cur || a->n_refs != b->n_refs)
		return false;
	for (int i = 0; i < a->n_refs; i++)
		if (a->refs[i].id != b->refs[i].id)
			return false;
	for (int f = a->cur; f >= 0; f--)
		if (!vframe_equal(a->frame[f], b->frame[f]))
			return false;
	return true;
}

struct vframe *vframe_new(void)
{
	struct vframe *f = malloc(sizeof(*f));
	if (!f)
		return NULL;
	memset(f, 0, sizeof(*f));
	for (int i = 0; i < 11; i++)
		vreg_init(&f->regs[i]);
	for (int s = 0; s < VSLOTS; s++)
		vreg_init(&f->spills[s]);
	f->cb_helper = -1;
	return f;
}

int vstate_init(struct vstate *st)
{
	memset(st, 0, sizeof(*st));
	struct vframe *f = vframe_new();
	if (!f)
		return -ENOMEM;
	st->frame[0] = f;
	f->regs[1].type = PTR_TO_CTX;
	f->regs[10].type = PTR_TO_STACK;
	st->next_id = 1;
	return 0;
}

/* A frame's copy: its spill slots only where the stack holds a spill (the
 * others are never read: every reader looks at SLOT_SPILL first).  States
 * are copied at every branch; most slots are unused. */
static void frame_copy(struct vframe *dst, const struct vframe *src)
{
	memcpy(dst->regs, src->regs, sizeof(dst->regs));
	memcpy(dst->stack, src->stack, sizeof(dst->stack));
	dst->callsite = src->callsite;
	dst->subprog = src->subprog;
	dst->cb_helper = src->cb_helper;
	for (int s = 0; s < VSLOTS; s++)
		if (src->stack[s * 8] == SLOT_SPILL)
			dst->spills[s] = src->spills[s];
}

int vstate_copy(struct vstate *dst, const struct vstate *src)
{
	struct vstate tmp = *src;
	tmp.hist = NULL;
	tmp.cap_hist = 0;
	if (src->n_hist) {
		tmp.hist = malloc(src->n_hist * sizeof(*tmp.hist));
		if (!tmp.hist)
			return -ENOMEM;
		memcpy(tmp.hist, src->hist, src->n_hist * sizeof(*tmp.hist));
		tmp.cap_hist = src->n_hist;
	}
	for (int f = 0; f <= src->cur; f++) {
		tmp.frame[f] = malloc(sizeof(struct vframe));
		if (!tmp.frame[f]) {
			tmp.cur = f - 1;
			vstate_release(&tmp);
			return -ENOMEM;
		}
		frame_copy(tmp.frame[f], src->frame[f]);
	}
	for (int f = src->cur + 1; f < VMAX_FRAMES; f++)
		tmp.frame[f] = NULL;
	*dst = tmp;
	return 0;
}

void vstate_release(struct vstate *st)
{
	free(st->hist);
	st->hist = NULL;
	st->n_hist = st->cap_hist = 0;
	for (int f = 0; f <= st->cur && f < VMAX_FRAMES; f++) {
		free(st->frame[f]);
		st->frame[f] = NULL;
	}
	st->cur = -1;
}

void vstate_for_each_reg(struct vstate *st, void (*f)(struct vreg *r, void *arg), void *arg)
{
	for (int k = 0; k <= st->cur; k++) {
		struct vframe *fr = st->frame[k];
		for (int i = 0; i < 11; i++)
			f(&fr->regs[i], arg);
		for (int s = 0; s < VSLOTS; s++)
			if (fr->stack[s * 8] == SLOT_SPILL)
				f(&fr->spills[s], arg);
	}
}

/* at: fp-relative; returns the byte index or -1 when out of the frame. */
static int stack_index(int at, uint64_t size)
{
	if (at < -VSTACK || at >= 0 || size > VSTACK || (int64_t)at + (int64_t)size > 0)
		return -1;
	return at + VSTACK;
}

/* The deepest byte a frame of this subprogram touched (for the combined
 * stack size of call chains, checked after exploration). */
static void note_depth(struct venv *env, const struct vstate *st, int fr, int at)
{
	struct vsubprog *sp = &env->sub[st->frame[fr]->subprog];
	if ((uint32_t)-at > sp->stack_depth)
		sp->stack_depth = (uint32_t)-at;
}

/* Turn the spill slots touched by [i, i + size) into misc bytes. */
static void unspill(struct vframe *st, int i, uint64_t size)
{
	for (int s = i / 8; s <= (int)((i + (int)size - 1) / 8) && s < VSLOTS; s++)
		if (st->stack[s * 8] == SLOT_SPILL) {
			memset(&st->stack[s * 8], SLOT_MISC, 8);
			vreg_init(&st->spills[s]);
		}
}

int vstack_write(struct venv *env, struct vstate *vs, int fr, int regno, int at, unsigned size,
		 const struct vreg *val)
{
	if (at % (int)size)
		return verr(env, -EACCES, "misaligned stack access off 0+0+%d size %u", at, size);
	int i = stack_index(at, size);
	if (i < 0)
		return verr(env, -EACCES, "invalid write to stack R%d off=%d size=%u", regno, at, size);
	/* A pointer into a deeper frame would dangle once that frame returns. */
	if (val->type == PTR_TO_STACK && val->frameno > fr)
		return verr(env, -EINVAL,
			    "cannot spill pointers to stack into stack frame of the caller");
	note_depth(env, vs, fr, at);
	struct vframe *st = vs->frame[fr];
	if (size == 8 && val->type != SCALAR) {
		unspill(st, i, 8);
		memset(&st->stack[i], SLOT_SPILL, 8);
		st->spills[i / 8] = *val;
		return 0;
	}
	if (val->type != SCALAR)
		return verr(env, -EACCES, "invalid size of register spill");
	unspill(st, i, size);
	if (size == 8 && !bee_scalar_is_const(&val->var)) {
		memset(&st->stack[i], SLOT_SPILL, 8);
		st->spills[i / 8] = *val;
		return 0;
	}
	bool zero = bee_scalar_is_const(&val->var) && val->var.var_off.value == 0;
	if (size == 8 && !zero) {
		memset(&st->stack[i], SLOT_SPILL, 8);
		st->spills[i / 8] = *val;
		return 0;
	}
	memset(&st->stack[i], zero ? SLOT_ZERO : SLOT_MISC, size);
	return 0;
}

int vstack_read(struct venv *env, struct vstate *vs, int fr, int regno, int at, unsigned size,
		struct vreg *out)
{
	if (at % (int)size)
		return verr(env, -EACCES, "misaligned stack access off 0+0+%d size %u", at, size);
	int i = stack_index(at, size);
	if (i < 0)
		return verr(env, -EACCES, "invalid read from stack R%d off=%d size=%u", regno, at, size);
	note_depth(env, vs, fr, at);
	struct vframe *st = vs->frame[fr];
	if (size == 8 && st->stack[i] == SLOT_SPILL) {
		*out = st->spills[i / 8];
		return 0;
	}
	bool all_zero = true;
	for (unsigned k = 0; k < size; k++) {
		uint8_t kind = st->stack[i + (int)k];
		if (kind == SLOT_SPILL && st->spills[(i + (int)k) / 8].type != SCALAR)
			return verr(env, -EACCES, "invalid size of register fill");
		if (kind != SLOT_ZERO)
			all_zero = false;
	}
	if (all_zero)
		vreg_scalar_const(out, 0);
	else
		vreg_scalar_unknown(out);
	return 0;
}

int vstack_helper_access(struct venv *env, struct vstate *vs, int fr, int regno, int at,
			 uint64_t size, bool write)
{
	if (size == 0)
		return 0;
	int i = stack_index(at, size);
	if (i < 0)
		return verr(env, -EACCES, "invalid %s stack R%d off=%d size=%llu",
			    write ? "write to" : "read from", regno, at, (unsigned long long)size);
	note_depth(env, vs, fr, at);
	struct vframe *st = vs->frame[fr];
	if (write) {
		unspill(st, i, size);
		memset(&st->stack[i], SLOT_MISC, size);
		return 0;
	}
	return 0; /* uninitialised bytes too, as the kernel lets root */
}

int vstack_var_access(struct venv *env, struct vstate *vs, int fr, int regno, int64_t off,
		      const struct bee_scalar *var, uint64_t size, bool write)
{
	const char *what = write ? "write to" : "read from";
	if (var->smax >= MAX_VAR_OFF || var->smin <= -MAX_VAR_OFF)
		return verr(env, -EACCES, "invalid unbounded variable-offset %s stack R%d", what,
			    regno);
	int64_t lo = off + var->smin, hi = off + var->smax + (int64_t)size;
	if (lo < -VSTACK || hi > 0) {
		char buf[64];
		bee_tnum_strn(buf, sizeof(buf), var->var_off);
		return verr(env, -EACCES, "invalid variable-offset %s stack R%d var_off=%s off=%lld size=%llu",
			    what, regno, buf, (long long)off, (unsigned long long)size);
	}
	if (size == 0)
		return 0;
	note_depth(env, vs, fr, (int)lo);
	if (write) {
		/* Any byte of the range may now hold anything. */
		struct vframe *st = vs->frame[fr];
		int i = (int)lo + VSTACK;
		unspill(st, i, (uint64_t)(hi - lo));
		memset(&st->stack[i], SLOT_MISC, (size_t)(hi - lo));
	}
	return 0;
}

int vstack_atomic(struct venv *env, struct vstate *vs, int fr, int regno, int at, unsigned size)
{
	int i = stack_index(at, size);
	if (i < 0)
		return verr(env, -EACCES, "invalid write to stack R%d off=%d size=%u", regno, at, size);
	if (at % (int)size)
		return verr(env, -EACCES, "misaligned stack access off 0+0+%d size %u", at, size);
	note_depth(env, vs, fr, at);
	struct vframe *st = vs->frame[fr];
	unspill(st, i, size);
	memset(&st->stack[i], SLOT_MISC, size);
	return 0;
}

/* ---- pruning by subsumption ------------------------------------------------ */

static bool range_within(const struct bee_scalar *old, const struct bee_scalar *cur)
{
	return old->smin <= cur->smin && cur->smax <= old->smax && old->umin <= cur->umin &&
	       cur->umax <= old->umax && old->s32_min <= cur->s32_min &&
	       cur->s32_max <= old->s32_max && old->u32_min <= cur->u32_min &&
	       cur->u32_max <= old->u32_max && bee_tnum_in(old->var_off, cur->var_off);
}

/* Does old (explored) cover cur?  As the kernel's regsafe: an old register
 * never read is anything; an imprecise old scalar any scalar; a precise one
 * a narrower scalar; a pointer the same pointer with a narrower variable
 * part (and, for packets, at least the proven range). */
static bool reg_safe(const struct vreg *old, const struct vreg *cur)
{
	if (old->type == NOT_INIT)
		return true;
	if (old->type != cur->type)
		return false;
	if (old->type == SCALAR)
		return !old->precise || range_within(&old->var, &cur->var);
	if (old->off != cur->off || old->id != cur->id || old->map != cur->map ||
	    old->mem_size != cur->mem_size || old->ref != cur->ref ||
	    old->frameno != cur->frameno || old->memkind != cur->memkind ||
	    old->subprog != cur->subprog)
		return false;
	if (old->type == PTR_TO_PACKET && cur->range < old->range)
		return false;
	if (old->type != PTR_TO_PACKET && old->range != cur->range)
		return false;
	return range_within(&old->var, &cur->var);
}

static bool is_numeric_byte(uint8_t kind)
{
	return kind == SLOT_INVALID || kind == SLOT_MISC || kind == SLOT_ZERO;
}

static bool frame_safe(const struct vframe *old, const struct vframe *cur, uint16_t live)
{
	if (old->callsite != cur->callsite || old->subprog != cur->subprog ||
	    old->cb_helper != cur->cb_helper)
		return false;
	for (int i = 0; i < 11; i++)
		if ((live & (1u << i)) && !reg_safe(&old->regs[i], &cur->regs[i]))
			return false;
	for (int s = 0; s < VSLOTS; s++) {
		const uint8_t *o = &old->stack[s * 8], *c = &cur->stack[s * 8];
		bool ospill = o[0] == SLOT_SPILL, cspill = c[0] == SLOT_SPILL;
		/* the common case first: the same kinds, no spill */
		if (!ospill && memcmp(o, c, 8) == 0)
			continue;
		const struct vreg *cs = &cur->spills[s];
		if (ospill) {
			const struct vreg *os = &old->spills[s];
			if (cspill) {
				if (!reg_safe(os, cs))
					return false;
				continue;
			}
			/* an imprecise spilled number: cur's bytes fill as a number too */
			if (os->type != SCALAR || os->precise)
				return false;
			for (int b = 0; b < 8; b++)
				if (!is_numeric_byte(c[b]))
					return false;
			continue;
		}
		for (int b = 0; b < 8; b++) {
			if (o[b] == SLOT_ZERO) {
				if (c[b] != SLOT_ZERO)
					return false;
			} else if (cspill) { /* old: a number; cur: a spilled number is one */
				if (cs->type != SCALAR)
					return false;
			} else if (!is_numeric_byte(c[b])) {
				return false;
			}
		}
	}
	return true;
}

bool vstate_safe(const struct vstate *old, const struct vstate *cur, uint16_t live)
{
	if (old->cur != cur->cur || old->n_refs != cur->n_refs)
		return false;
	for (int i = 0; i < old->n_refs; i++)
		if (old->refs[i].id != cur->refs[i].id)
			return false;
	for (int f = old->cur; f >= 0; f--)
		if (!frame_safe(old->frame[f], cur->frame[f], f == cur->cur ? live : 0x7ff))
			return false;
	return true;
}
