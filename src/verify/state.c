/*
 * state.c - abstract register and stack states.
 *
 * Registers: see vpriv.h.  Two states are equal when every register and
 * every stack byte's kind are equal, spilled registers included; pruning
 * (verify.c) only uses equality, which is trivially sound.
 *
 * The stack follows the kernel's per-byte slot kinds.  A write of 8 bytes
 * at an 8-aligned offset spills the whole register (its type and bounds
 * come back on an 8-byte fill of the same slot); any other write makes its
 * bytes misc (or zero, for a constant 0), and first turns the rest of any
 * spill it touches into misc, so a spilled pointer is never half
 * overwritten and then refilled as a pointer.  Reads need every byte
 * initialised (bee refuses uninitialised stack reads even where the kernel
 * lets root do them).  A partial read of a spilled pointer is refused; of
 * a spilled scalar, it yields an unknown scalar.
 */
#include <errno.h>
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
	       a->mem_size == b->mem_size && scalar_equal(&a->var, &b->var);
}

bool vstate_equal(const struct vstate *a, const struct vstate *b)
{
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

void vstate_init(struct vstate *st)
{
	memset(st, 0, sizeof(*st));
	for (int i = 0; i < 11; i++)
		vreg_init(&st->regs[i]);
	for (int s = 0; s < VSLOTS; s++)
		vreg_init(&st->spills[s]);
	st->regs[1].type = PTR_TO_CTX;
	st->regs[10].type = PTR_TO_STACK;
	st->next_id = 1;
}

void vstate_for_each_reg(struct vstate *st, void (*f)(struct vreg *r, void *arg), void *arg)
{
	for (int i = 0; i < 11; i++)
		f(&st->regs[i], arg);
	for (int s = 0; s < VSLOTS; s++)
		if (st->stack[s * 8] == SLOT_SPILL)
			f(&st->spills[s], arg);
}

/* at: fp-relative; returns the byte index or -1 when out of the frame. */
static int stack_index(int at, uint64_t size)
{
	if (at < -VSTACK || at >= 0 || size > VSTACK || (int64_t)at + (int64_t)size > 0)
		return -1;
	return at + VSTACK;
}

/* Turn the spill slots touched by [i, i + size) into misc bytes. */
static void unspill(struct vstate *st, int i, uint64_t size)
{
	for (int s = i / 8; s <= (int)((i + (int)size - 1) / 8) && s < VSLOTS; s++)
		if (st->stack[s * 8] == SLOT_SPILL) {
			memset(&st->stack[s * 8], SLOT_MISC, 8);
			vreg_init(&st->spills[s]);
		}
}

int vstack_write(struct venv *env, struct vstate *st, int regno, int at, unsigned size,
		 const struct vreg *val)
{
	int i = stack_index(at, size);
	if (i < 0)
		return verr(env, -EACCES, "invalid write to stack R%d off=%d size=%u", regno, at, size);
	if (at % (int)size)
		return verr(env, -EACCES, "misaligned stack access off 0+0+%d size %u", at, size);
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

int vstack_read(struct venv *env, struct vstate *st, int regno, int at, unsigned size,
		struct vreg *out)
{
	int i = stack_index(at, size);
	if (i < 0)
		return verr(env, -EACCES, "invalid read from stack R%d off=%d size=%u", regno, at, size);
	if (at % (int)size)
		return verr(env, -EACCES, "misaligned stack access off 0+0+%d size %u", at, size);
	if (size == 8 && st->stack[i] == SLOT_SPILL) {
		*out = st->spills[i / 8];
		return 0;
	}
	bool all_zero = true;
	for (unsigned k = 0; k < size; k++) {
		uint8_t kind = st->stack[i + (int)k];
		if (kind == SLOT_INVALID)
			return verr(env, -EACCES, "invalid read from stack off %d+%u size %u", at, k,
				    size);
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

int vstack_helper_access(struct venv *env, struct vstate *st, int regno, int at, uint64_t size,
			 bool write)
{
	if (size == 0)
		return 0;
	int i = stack_index(at, size);
	if (i < 0)
		return verr(env, -EACCES, "invalid %s stack R%d off=%d size=%llu",
			    write ? "write to" : "read from", regno, at, (unsigned long long)size);
	if (write) {
		unspill(st, i, size);
		memset(&st->stack[i], SLOT_MISC, size);
		return 0;
	}
	for (uint64_t k = 0; k < size; k++) {
		uint8_t kind = st->stack[i + (int)k];
		if (kind == SLOT_INVALID)
			return verr(env, -EACCES, "invalid read from stack R%d off %d+%llu size %llu",
				    regno, at, (unsigned long long)k, (unsigned long long)size);
	}
	return 0;
}
