/*
 * precise.c - which scalars matter, so that pruning can ignore the others.
 *
 * The kernel's idea (mark_chain_precision): most scalar values a program
 * computes never decide whether it is safe.  A scalar becomes "precise"
 * when a check depends on its value: a branch whose outcome its range
 * decides (only one edge explored), a size or constant a helper takes,
 * the number added to a pointer, r0 at an exit whose range is checked.
 * Then everything that value was computed from, back along the path,
 * becomes precise too, in the stored states (checkpoints) the path went
 * through.  Pruning (state.c vstate_safe) may then treat any two imprecise
 * scalars as equal: no check ever looked at them.
 *
 * Each path keeps the instructions it ran since its last checkpoint
 * (struct vhist), and each checkpoint the ones from its parent to it, so
 * the walk back is exact.  It follows registers and 8-byte stack spills in
 * one frame; where it would have to cross a call, a return or a callback
 * (or meets something it does not follow, such as an atomic), it gives up
 * and marks every scalar of every state on the path precise, which is
 * always sound, only less pruning (the kernel does the same).
 *
 * When a path is pruned by an explored state, what was precise there must
 * become precise in the pruned path's past as well (vpropagate_precision):
 * the states above it may later prune others on the strength of it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verify/vpriv.h"

/* Stack slot of an 8-byte access at insn d through a stack pointer, else -1. */
static void stack_slot_of(const struct vstate *st, const struct bee_dinsn *d, struct vhist *h)
{
	unsigned shape = bee_op_info[d->op].shape;
	int base;
	if (shape == BEE_SH_LDX)
		base = d->src;
	else if (shape == BEE_SH_ST || shape == BEE_SH_STX)
		base = d->dst;
	else
		return;
	const struct vreg *r = &vcur(st)->regs[base];
	if (r->type != PTR_TO_STACK || !bee_scalar_is_const(&r->var) || r->var.var_off.value ||
	    bee_op_access_size((enum bee_op)d->op) != 8)
		return;
	int at = r->off + d->off;
	if (at < -VSTACK || at > -8 || at % 8)
		return;
	h->slot = (int16_t)((at + VSTACK) / 8);
	h->slot_frame = r->frameno;
}

/* A path that stores no checkpoint for long (a loop past the per-insn cap)
 * would walk an ever longer history: beyond this, its past is made all
 * precise once and the history starts over (nothing above needs a walk). */
#define MAX_HIST 256u

int vhist_push(struct venv *env, struct vstate *st, const struct bee_dinsn *d)
{
	if (st->n_hist == MAX_HIST) {
		vmark_all_precise(st);
		st->n_hist = 0;
	}
	if (st->n_hist == st->cap_hist) {
		uint32_t cap = st->cap_hist ? st->cap_hist * 2 : 16;
		struct vhist *h = realloc(st->hist, cap * sizeof(*h));
		if (!h)
			return verr(env, -ENOMEM, "out of memory");
		st->hist = h;
		st->cap_hist = cap;
	}
	struct vhist *h = &st->hist[st->n_hist++];
	h->pc = (uint32_t)st->pc;
	h->frame = (uint8_t)st->cur;
	h->slot = -1;
	h->slot_frame = 0;
	stack_slot_of(st, d, h);
	return 0;
}

/* ---- giving up: everything precise ------------------------------------------ */

static void all_precise(struct vreg *r, void *arg)
{
	(void)arg;
	if (r->type == SCALAR)
		r->precise = true;
}

/* A checkpoint marked all precise has every checkpoint above it marked
 * too (they are marked from the bottom up), so the walk stops there: each
 * checkpoint is walked once however often this is called. */
void vmark_all_precise(struct vstate *st)
{
	vstate_for_each_reg(st, all_precise, NULL);
	for (struct vcheckpoint *cp = st->parent; cp && !cp->all_precise; cp = cp->parent) {
		vstate_for_each_reg(&cp->st, all_precise, NULL);
		cp->all_precise = true;
	}
}

/* ---- the walk back ---------------------------------------------------------- */

/* What still needs precision, in the frame being followed. */
struct bt {
	int frame;
	uint16_t regs;          /* bit i: register ri */
	uint64_t slots;         /* bit s: stack slot s of the frame (spills) */
};

enum { BT_OK = 0, BT_GIVE_UP = 1 };

static bool has(const struct bt *b, int r)
{
	return b->regs & (1u << r);
}

/* Before instruction h ran, what did the values in b depend on? */
static int backtrack_insn(const struct venv *env, const struct vhist *h, struct bt *b)
{
	const struct bee_dinsn *d = &env->d[h->pc];
	unsigned shape = bee_op_info[d->op].shape;
	const char *mn = bee_op_info[d->op].mnemonic;
	bool is_mov = strncmp(mn, "mov", 3) == 0;
	if (h->frame != b->frame)
		return BT_GIVE_UP;
	switch (shape) {
	case BEE_SH_ALU_IMM:
		if (has(b, d->dst) && is_mov)
			b->regs &= (uint16_t)~(1u << d->dst); /* a constant */
		return BT_OK;
	case BEE_SH_ALU_REG:
	case BEE_SH_MOVSX:
		if (!has(b, d->dst))
			return BT_OK;
		if (is_mov)
			b->regs &= (uint16_t)~(1u << d->dst);
		b->regs |= (uint16_t)(1u << d->src);
		return BT_OK;
	case BEE_SH_NEG:
	case BEE_SH_END:
	case BEE_SH_JA:
	case BEE_SH_JA32:
		return BT_OK;
	case BEE_SH_JCC_IMM:
		return BT_OK;
	case BEE_SH_JCC_REG:
		/* the range each side got came from the other */
		if (has(b, d->dst) || has(b, d->src))
			b->regs |= (uint16_t)((1u << d->dst) | (1u << d->src));
		return BT_OK;
	case BEE_SH_LDDW:
		b->regs &= (uint16_t)~(1u << d->dst);
		return BT_OK;
	case BEE_SH_LDX:
		if (!has(b, d->dst))
			return BT_OK;
		b->regs &= (uint16_t)~(1u << d->dst);
		if (h->slot >= 0) { /* a fill: the spilled register */
			if (h->slot_frame != b->frame)
				return BT_GIVE_UP;
			b->slots |= 1ull << h->slot;
		}
		return BT_OK;
	case BEE_SH_ST:
	case BEE_SH_STX:
		if (h->slot < 0 || h->slot_frame != b->frame || !(b->slots & (1ull << h->slot)))
			return BT_OK;
		b->slots &= ~(1ull << h->slot);
		if (shape == BEE_SH_STX) /* the spill */
			b->regs |= (uint16_t)(1u << d->src);
		return BT_OK;
	case BEE_SH_CALL_HELPER:
		for (int i = 1; i <= 5; i++)
			if (has(b, i))
				return BT_GIVE_UP;
		b->regs &= (uint16_t)~1u; /* r0: the helper's */
		return BT_OK;
	case BEE_SH_LD_ABS:
	case BEE_SH_LD_IND:
		for (int i = 1; i <= 5; i++)
			if (has(b, i))
				return BT_GIVE_UP;
		b->regs &= (uint16_t)~1u;
		return BT_OK;
	default: /* atomics, calls, exits, acquire/release: not followed */
		return b->regs || b->slots ? BT_GIVE_UP : BT_OK;
	}
}

/* Mark b's registers and spills precise in state st; true if any was new. */
static bool mark_in(struct vstate *st, const struct bt *b)
{
	bool changed = false;
	struct vframe *f = st->frame[b->frame];
	for (int i = 0; i < 11; i++)
		if (has(b, i) && f->regs[i].type == SCALAR && !f->regs[i].precise) {
			f->regs[i].precise = true;
			changed = true;
		}
	for (int s = 0; s < VSLOTS; s++)
		if ((b->slots & (1ull << s)) && f->stack[s * 8] == SLOT_SPILL &&
		    f->spills[s].type == SCALAR && !f->spills[s].precise) {
			f->spills[s].precise = true;
			changed = true;
		}
	return changed;
}

/* Walk back from st with b, marking the checkpoints on the way. */
static void backtrack(const struct venv *env, struct vstate *st, struct bt *b)
{
	if (b->frame != st->cur) {
		vmark_all_precise(st);
		return;
	}
	mark_in(st, b);
	const struct vhist *seg = st->hist;
	uint32_t n = st->n_hist;
	/* The instruction running now (its entry pushed before it ran) reads
	 * the marked values: it did not produce them. */
	if (n && seg[n - 1].pc == st->pc)
		n--;
	for (struct vcheckpoint *cp = st->parent;; cp = cp->parent) {
		for (uint32_t i = n; i-- > 0;) {
			if (backtrack_insn(env, &seg[i], b) == BT_GIVE_UP) {
				vmark_all_precise(st);
				return;
			}
		}
		if (!cp || (!b->regs && !b->slots))
			return;
		if (cp->st.cur != b->frame) {
			vmark_all_precise(st);
			return;
		}
		/* Already precise there: its own past was marked when it was. */
		if (!mark_in(&cp->st, b))
			return;
		seg = cp->in_hist;
		n = cp->n_in_hist;
	}
}

int vmark_precise(struct venv *env, struct vstate *st, int regno)
{
	if (regno < 0 || regno > 10)
		return 0;
	const struct vreg *r = &vcur(st)->regs[regno];
	if (r->type != SCALAR)
		return 0;
	struct bt b = {st->cur, (uint16_t)(1u << regno), 0};
	backtrack(env, st, &b);
	return 0;
}

int vpropagate_precision(struct venv *env, struct vstate *cur, const struct vstate *old)
{
	for (int k = 0; k <= old->cur; k++) {
		const struct vframe *f = old->frame[k];
		struct bt b = {k, 0, 0};
		for (int i = 0; i < 11; i++)
			if (f->regs[i].type == SCALAR && f->regs[i].precise)
				b.regs |= (uint16_t)(1u << i);
		for (int s = 0; s < VSLOTS; s++)
			if (f->stack[s * 8] == SLOT_SPILL && f->spills[s].type == SCALAR &&
			    f->spills[s].precise)
				b.slots |= 1ull << s;
		if (!b.regs && !b.slots)
			continue;
		if (k != cur->cur) {
			vmark_all_precise(cur);
			return 0;
		}
		backtrack(env, cur, &b);
	}
	return 0;
}
