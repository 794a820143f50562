/*
 * cfg.c - the program as a graph, before any abstract interpretation.
 *
 * As the kernel's check_cfg does: every jump and local call lands inside
 * the program ("jump out of range from insn N to M") and not on the second
 * slot of an lddw ("jump into the middle of ldimm64 insn N"), the last
 * instruction is an exit or a jump ("last insn is not an exit or jmp"),
 * and every instruction is reachable from instruction 0 or from a
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
	for (size_t pc = 0; pc < n; pc++) {
		if (second[pc])
			continue;
		unsigned shape = bee_op_info[d[pc].op].shape;
		bool jump = bee_op_is_jump((enum bee_op)d[pc].op) || shape == BEE_SH_CALL_LOCAL ||
			    (d[pc].op == BEE_OP_LDDW_FUNC);
		if (!jump)
			continue;
		long t = d[pc].op == BEE_OP_LDDW_FUNC ? (long)pc + 1 + d[pc].imm
						       : bee_jump_target(&d[pc], pc);
		if (t < 0 || (size_t)t >= n) {
			env->fail_insn = (long)pc;
			err = verr(env, -EINVAL, "jump out of range from insn %zu to %ld", pc, t);
			goto out;
		}
		if (second[t]) {
			env->fail_insn = (long)pc;
			err = verr(env, -EINVAL, "jump into the middle of ldimm64 insn %ld", t);
			goto out;
		}
		env->prune_point[t] = 1;
	}
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
		if (!second[pc] && (bee_op_info[d[pc].op].shape == BEE_SH_CALL_LOCAL ||
				    d[pc].op == BEE_OP_LDDW_FUNC)) {
			long t = d[pc].op == BEE_OP_LDDW_FUNC ? (long)pc + 1 + d[pc].imm
							       : bee_jump_target(&d[pc], pc);
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
