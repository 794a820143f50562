/*
 * cfg.c - the program as a graph, before any abstract interpretation.
 *
 * As the kernel's check_subprogs and check_cfg do: the program splits into
 * subprograms at instruction 0 and at every local call's and `lddw
 * subprog`'s target ("call to invalid destination" when it lies outside);
 * every jump lands inside its own subprogram ("jump out of range from insn
 * N to M") and not on the second slot of an lddw ("jump into the middle of
 * ldimm64 insn N"), each subprogram ends with an exit or a jump ("last insn
 * is not an exit or jmp"), and every instruction is reachable from
 * instruction 0 or from a
 * subprogram entry (a local call's or an `lddw subprog` target): otherwise
 * "unreachable insn N".  Back-edges are allowed (bounded loops are
 * explored by verify.c).  The targets of jumps become prune points, where
 * verify.c stores states.  The syntax of each instruction is then checked
 * by the ISA's bee_check_program, whose message is reported as is.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verify/vpriv.h"

static bool is_cond_jump(unsigned shape)
{
	return shape == BEE_SH_JCC_IMM || shape == BEE_SH_JCC_REG;
}

static bool is_subprog_ref(const struct bee_dinsn *d)
{
	return bee_op_info[d->op].shape == BEE_SH_CALL_LOCAL || d->op == BEE_OP_LDDW_FUNC;
}

static long subprog_target(const struct bee_dinsn *d, size_t pc)
{
	return d->op == BEE_OP_LDDW_FUNC ? (long)pc + 1 + d->imm : bee_jump_target(d, pc);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* Subprogram boundaries, jumps kept inside them, each one's last insn. */
static int check_subprogs(struct venv *env, const unsigned char *second)
{
	size_t n = env->n;
	const struct bee_dinsn *d = env->d;
	size_t starts[VMAX_SUBPROGS + 1];
	size_t ns = 0;
	starts[ns++] = 0;
	for (size_t pc = 0; pc < n; pc++) {
		if (second[pc] || !is_subprog_ref(&d[pc]))
			continue;
		long t = subprog_target(&d[pc], pc);
		if (t < 0 || (size_t)t >= n) {
			env->fail_insn = (long)pc;
			return verr(env, -EINVAL, "call to invalid destination");
		}
		bool dup = false;
		for (size_t k = 0; k < ns; k++)
			dup |= starts[k] == (size_t)t;
		if (dup)
			continue;
		if (ns == VMAX_SUBPROGS)
			return verr(env, -E2BIG, "too many subprograms");
		starts[ns++] = (size_t)t;
	}
	qsort(starts, ns, sizeof(starts[0]), cmp_size);
	env->n_sub = ns;
	for (size_t k = 0; k < ns; k++) {
		struct vsubprog *sp = &env->sub[k];
		memset(sp, 0, sizeof(*sp));
		sp->start = starts[k];
		sp->end = k + 1 < ns ? starts[k + 1] : n;
		for (size_t pc = sp->start; pc < sp->end; pc++)
			env->subprog_of[pc] = (uint32_t)k;
	}
	for (size_t k = 0; k < ns; k++) {
		const struct vsubprog *sp = &env->sub[k];
		for (size_t pc = sp->start; pc < sp->end; pc++) {
			if (second[pc])
				continue;
			enum bee_op op = (enum bee_op)d[pc].op;
			unsigned shape = bee_op_info[op].shape;
			if (bee_op_is_jump(op) && shape != BEE_SH_CALL_LOCAL) {
				long t = bee_jump_target(&d[pc], pc);
				if (t < (long)sp->start || t >= (long)sp->end) {
					env->fail_insn = (long)pc;
					return verr(env, -EINVAL, "jump out of range from insn %zu to %ld",
						    pc, t);
				}
			}
		}
		/* Legacy packet loads and tail calls mark their subprogram (in
		 * the text, reachable or not, as the kernel); without BTF func
		 * info only the main program may have them. */
		for (size_t pc = sp->start; pc < sp->end; pc++) {
			if (second[pc])
				continue;
			unsigned shape = bee_op_info[d[pc].op].shape;
			bool ld_abs = shape == BEE_SH_LD_ABS || shape == BEE_SH_LD_IND;
			bool tail = shape == BEE_SH_CALL_HELPER && d[pc].imm == BPF_FUNC_tail_call;
			if (tail)
				env->sub[k].has_tail_call = true;
			if (k && !env->opts->has_func_info && (ld_abs || tail)) {
				env->fail_insn = (long)pc;
				return verr(env, -EINVAL, "%s is not allowed in subprogs without BTF",
					    ld_abs ? "LD_ABS" : "tail_call");
			}
		}
		size_t last = sp->end - 1;
		if (second[last] && last > sp->start)
			last--;
		unsigned shape = bee_op_info[d[last].op].shape;
		if (second[sp->end - 1] ||
		    (shape != BEE_SH_EXIT && shape != BEE_SH_JA && shape != BEE_SH_JA32)) {
			env->fail_insn = (long)last;
			return verr(env, -EINVAL, "last insn is not an exit or jmp");
		}
	}
	return 0;
}

int vcfg_check(struct venv *env)
{
	size_t n = env->n;
	struct bee_dinsn *d = env->d;
	struct bee_error e;
	memset(&e, 0, sizeof(e));
	if (n == 0)
		return verr(env, -EINVAL, "empty program");
	/* Decode slot by slot first, for the kernel's graph messages. */
	unsigned char *second = calloc(n, 1);
	unsigned char *seen = calloc(n, 1);
	size_t *stack = calloc(n + 1, sizeof(size_t));
	int err = 0;
	if (!second || !seen || !stack) {
		err = verr(env, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t pc = 0; pc < n;) {
		int s = bee_decode(env->insns, n, pc, &d[pc], &e);
		if (s < 0) {
			env->fail_insn = (long)pc;
			err = verr(env, s, "%s", e.msg[0] ? e.msg : "invalid instruction");
			goto out;
		}
		if (s == 2)
			second[pc + 1] = 1;
		pc += (size_t)s;
	}
	if ((err = check_subprogs(env, second)))
		goto out;
	for (size_t pc = 0; pc < n; pc++) {
		if (second[pc])
			continue;
		unsigned shape = bee_op_info[d[pc].op].shape;
		bool jump = bee_op_is_jump((enum bee_op)d[pc].op) || shape == BEE_SH_CALL_LOCAL ||
			    (d[pc].op == BEE_OP_LDDW_FUNC);
		if (!jump)
			continue;
		long t = subprog_target(&d[pc], pc);
		if (t < 0 || (size_t)t >= n) {
			env->fail_insn = (long)pc;
			err = verr(env, -EINVAL, "jump out of range from insn %zu to %ld", pc, t);
			goto out;
		}
		if (second[t]) {
			env->fail_insn = (long)pc;
			err = verr(env, -EINVAL, "jump into the middle of ldimm64 insn %ld", t - 1);
			goto out;
		}
		env->prune_point[t] = 1;
	}
	/* A helper that runs a callback is where the callback's runs come
	 * back to (verify.c): a prune point too. */
	for (size_t pc = 0; pc < n; pc++)
		if (!second[pc] && bee_op_info[d[pc].op].shape == BEE_SH_CALL_HELPER &&
		    (d[pc].imm == BPF_FUNC_loop || d[pc].imm == BPF_FUNC_for_each_map_elem))
			env->prune_point[pc] = 1;
	{
		size_t last = n - 1;
		if (second[last])
			last--;
		unsigned shape = bee_op_info[d[last].op].shape;
		if (shape != BEE_SH_EXIT && shape != BEE_SH_JA && shape != BEE_SH_JA32) {
			env->fail_insn = (long)last;
			err = verr(env, -EINVAL, "last insn is not an exit or jmp");
			goto out;
		}
	}
	/* Reachability from 0 and every subprogram entry. */
	size_t sp = 0;
	stack[sp++] = 0;
	seen[0] = 1;
	for (size_t pc = 0; pc < n; pc++)
		if (!second[pc] && is_subprog_ref(&d[pc])) {
			long t = subprog_target(&d[pc], pc);
			if (!seen[t]) {
				seen[t] = 1;
				stack[sp++] = (size_t)t;
			}
		}
	while (sp) {
		size_t pc = stack[--sp];
		unsigned shape = bee_op_info[d[pc].op].shape;
		size_t succ[2];
		int ns = 0;
		if (shape == BEE_SH_EXIT) {
			/* none */
		} else if (shape == BEE_SH_JA || shape == BEE_SH_JA32) {
			succ[ns++] = (size_t)bee_jump_target(&d[pc], pc);
		} else {
			if (is_cond_jump(shape))
				succ[ns++] = (size_t)bee_jump_target(&d[pc], pc);
			size_t next = pc + (d[pc].slots ? d[pc].slots : 1);
			if (next >= n) {
				env->fail_insn = (long)pc;
				err = verr(env, -EINVAL, "jump out of range from insn %zu to %zu", pc,
					   next);
				goto out;
			}
			succ[ns++] = next;
		}
		for (int i = 0; i < ns; i++)
			if (!seen[succ[i]]) {
				seen[succ[i]] = 1;
				stack[sp++] = succ[i];
			}
	}
	for (size_t pc = 0; pc < n; pc++)
		if (!second[pc] && !seen[pc]) {
			env->fail_insn = (long)pc;
			err = verr(env, -EINVAL, "unreachable insn %zu", pc);
			goto out;
		}
	/* Now the ISA's own syntax rules (r10 writes, reserved fields...). */
	memset(&e, 0, sizeof(e));
	err = bee_check_program(env->insns, n, d, &e);
	if (err < 0) {
		if (strstr(e.msg, "r10") || strstr(e.msg, "R10"))
			err = verr(env, err, "frame pointer is read only (%s)", e.msg);
		else
			err = verr(env, err, "%s", e.msg[0] ? e.msg : "invalid program");
		goto out;
	}
out:
	free(second);
	free(seen);
	free(stack);
	return err;
}

/* ---- register liveness ------------------------------------------------------- */

/* Registers instruction d reads (use) and writes for sure (def). */
static void use_def(const struct bee_dinsn *d, uint16_t *use, uint16_t *def)
{
	unsigned shape = bee_op_info[d->op].shape;
	bool is_mov = strncmp(bee_op_info[d->op].mnemonic, "mov", 3) == 0;
	uint16_t dst = (uint16_t)(1u << d->dst), src = (uint16_t)(1u << d->src);
	const uint16_t args = 0x3e, r0_5 = 0x3f;
	*use = *def = 0;
	switch ((enum bee_shape)shape) {
	case BEE_SH_ALU_IMM:
		*use = is_mov ? 0 : dst;
		*def = dst;
		return;
	case BEE_SH_ALU_REG:
	case BEE_SH_MOVSX:
		*use = (uint16_t)(src | (is_mov ? 0 : dst));
		*def = dst;
		return;
	case BEE_SH_NEG:
	case BEE_SH_END:
		*use = *def = dst;
		return;
	case BEE_SH_LDX:
	case BEE_SH_LOAD_ACQ:
		*use = src;
		*def = dst;
		return;
	case BEE_SH_ST:
	case BEE_SH_JCC_IMM:
		*use = dst;
		return;
	case BEE_SH_STX:
	case BEE_SH_STORE_REL:
	case BEE_SH_JCC_REG:
		*use = (uint16_t)(dst | src);
		return;
	case BEE_SH_ATOMIC:
		*use = (uint16_t)(dst | src | 1u); /* r0 for cmpxchg */
		return;
	case BEE_SH_LDDW:
		*def = dst;
		return;
	case BEE_SH_LD_ABS:
	case BEE_SH_LD_IND:
		*use = (uint16_t)((1u << 6) | (shape == BEE_SH_LD_IND ? src : 0));
		*def = r0_5;
		return;
	case BEE_SH_CALL_HELPER:
	case BEE_SH_CALL_LOCAL:
	case BEE_SH_CALL_KFUNC:
		*use = args;
		*def = r0_5;
		return;
	case BEE_SH_EXIT:
		*use = 1u;
		return;
	case BEE_SH_JA:
	case BEE_SH_JA32:
	case BEE_SH__COUNT:
		return;
	}
}

/*
 * live[pc]: the registers some path from pc may read before writing them
 * (a backward dataflow to its fixed point).  Pruning ignores the others:
 * whatever they hold cannot matter (state.c vstate_safe).  A local call
 * reads r1-r5 and keeps r6-r9 for the caller; r10 is always live.
 */
int vcfg_liveness(struct venv *env)
{
	size_t n = env->n;
	env->live = calloc(n, sizeof(*env->live));
	uint16_t *use = calloc(n, sizeof(*use)), *def = calloc(n, sizeof(*def));
	if (!env->live || !use || !def) {
		free(use);
		free(def);
		return verr(env, -ENOMEM, "out of memory");
	}
	for (size_t pc = 0; pc < n; pc++)
		use_def(&env->d[pc], &use[pc], &def[pc]);
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t pc = n; pc-- > 0;) {
			const struct bee_dinsn *d = &env->d[pc];
			if (d->slots == 0) /* the second slot of an lddw */
				continue;
			unsigned shape = bee_op_info[d->op].shape;
			uint16_t out = 0;
			size_t next = pc + d->slots;
			bool falls = shape != BEE_SH_EXIT && shape != BEE_SH_JA && shape != BEE_SH_JA32;
			if (falls && next < n)
				out |= env->live[next];
			if (bee_op_is_jump((enum bee_op)d->op))
				out |= env->live[bee_jump_target(d, pc)];
			uint16_t in = (uint16_t)(use[pc] | (out & ~def[pc]) | (1u << 10));
			if (in != env->live[pc]) {
				env->live[pc] = in;
				changed = true;
			}
		}
	}
	free(use);
	free(def);
	return 0;
}
