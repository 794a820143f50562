/*
 * explain.c - a refusal told to a person (bee's --explain).
 *
 * After the kernel-style log, a refused program gets a short explanation:
 * the failing instruction and its source line, the branches the failing
 * path took to get there (each conditional jump with the way it went,
 * read back from the path's history, precise.c), the abstract values of
 * the registers the instruction uses, and the usual fix for that kind of
 * refusal.  Only the last MAX_PATH branches are shown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bee/insn.h"
#include "verify/vpriv.h"

#define MAX_PATH 12

/* The usual fix, by what the refusal says. */
static const struct {
	const char *says, *fix;
} fixes[] = {
	{"_or_null", "check the pointer against NULL first: if (!p) return 0;"},
	{"invalid access to packet",
	 "compare data + offset + size with data_end before the access: "
	 "if (data + off + sizeof(x) > data_end) return ...;"},
	{"min value is negative", "use an unsigned index, or check it: if (i < 0) return 0;"},
	{"unbounded memory access", "bound the index before using it: if (i >= N) return 0;"},
	{"invalid access to map value", "keep offset + size within the map's value_size"},
	{"invalid access to memory", "keep offset + size within the record's size"},
	{"!read_ok", "give the register a value first (registers r1-r5 are lost after calls)"},
	{"invalid read from stack", "write the stack slot before reading it"},
	{"invalid write to stack", "stay within the 512-byte stack frame"},
	{"Unreleased reference",
	 "release what you acquired on every path (bpf_ringbuf_submit or _discard, "
	 "bpf_sk_release)"},
	{"infinite loop", "make the loop change its condition on every iteration"},
	{"too large", "bound the loop with a constant limit, or use bpf_loop()"},
	{"too complex", "bound the loop with a constant limit, or use bpf_loop()"},
	{"At program exit", "return a value in the range the program type allows"},
	{"At callback return", "return 0 (continue) or 1 (stop) from the callback"},
	{"cannot use helper", "this program type may not call that helper: pick another type"},
	{"expected=", "pass an argument of the kind the helper takes"},
	{"misaligned", "align the access to its size"},
	{"pointer arithmetic", "only add or subtract numbers to pointers"},
	{"combined stack size", "use less stack in the functions of that call chain"},
	{"frames is too deep", "call fewer functions deep (8 frames at most)"},
	{"not supported yet", "bee's verifier does not model this yet (see DIFFERENCES.md)"},
};

/* Registers instruction d reads. */
static unsigned regs_used(const struct bee_dinsn *d)
{
	unsigned shape = bee_op_info[d->op].shape;
	switch (shape) {
	case BEE_SH_ALU_REG:
	case BEE_SH_MOVSX:
	case BEE_SH_JCC_REG:
	case BEE_SH_STX:
	case BEE_SH_ATOMIC:
		return (1u << d->dst) | (1u << d->src);
	case BEE_SH_ALU_IMM:
	case BEE_SH_NEG:
	case BEE_SH_END:
	case BEE_SH_JCC_IMM:
	case BEE_SH_ST:
		return 1u << d->dst;
	case BEE_SH_LDX:
		return 1u << d->src;
	case BEE_SH_CALL_HELPER:
		return 0x3e; /* r1-r5 */
	case BEE_SH_EXIT:
		return 1u;
	default:
		return 0;
	}
}

/* The conditional jumps of the path, oldest first (the last max of them). */
static size_t path_branches(const struct venv *env, const struct vstate *st, size_t fail,
			    size_t *pc, bool *taken, size_t max)
{
	/* The segments, newest first: the path's own, then each checkpoint's. */
	size_t n = 0;
	size_t next = fail;
	const struct vhist *seg = st->hist;
	uint32_t len = st->n_hist;
	const struct vcheckpoint *cp = st->parent;
	size_t tmp_pc[MAX_PATH];
	bool tmp_taken[MAX_PATH];
	for (;;) {
		for (uint32_t i = len; i-- > 0;) {
			const struct vhist *h = &seg[i];
			unsigned shape = bee_op_info[env->d[h->pc].op].shape;
			if ((shape == BEE_SH_JCC_IMM || shape == BEE_SH_JCC_REG) && h->pc != next &&
			    n < max) {
				tmp_pc[n] = h->pc;
				tmp_taken[n] = next == (size_t)bee_jump_target(&env->d[h->pc], h->pc);
				n++;
			}
			next = h->pc;
		}
		if (!cp || n == max)
			break;
		seg = cp->in_hist;
		len = cp->n_in_hist;
		cp = cp->parent;
	}
	for (size_t i = 0; i < n; i++) {
		pc[i] = tmp_pc[n - 1 - i];
		taken[i] = tmp_taken[n - 1 - i];
	}
	return n;
}

void vexplain(struct venv *env, const struct vstate *st, size_t pc)
{
	if (pc >= env->n)
		return;
	char text[160];
	vlog(env, "\n--- explanation ---\n");
	if (bee_disasm_insn(env->insns, env->n, pc, BEE_SYNTAX_C, text, sizeof(text), NULL) < 0)
		snprintf(text, sizeof(text), "?");
	vlog(env, "refused at insn %zu: %s\n", pc, text);
	if (env->line_at) {
		for (size_t i = pc + 1; i-- > 0;)
			if (env->line_at[i] >= 0) {
				const struct bee_verify_line *l = &env->opts->lines[env->line_at[i]];
				vlog(env, "  source: %s (%s:%u)\n", l->src ? vlog_ltrim(l->src) : "",
				     l->file ? l->file : "", l->line);
				break;
			}
	}
	vlog(env, "  why: %s\n", env->msg);
	size_t bpc[MAX_PATH];
	bool btaken[MAX_PATH];
	size_t nb = path_branches(env, st, pc, bpc, btaken, MAX_PATH);
	if (nb) {
		vlog(env, "  path:\n");
		for (size_t i = 0; i < nb; i++) {
			if (bee_disasm_insn(env->insns, env->n, bpc[i], BEE_SYNTAX_C, text, sizeof(text),
					    NULL) < 0)
				snprintf(text, sizeof(text), "?");
			vlog(env, "    insn %zu: %s  (%s)\n", bpc[i], text,
			     btaken[i] ? "taken" : "not taken");
		}
	}
	unsigned used = regs_used(&env->d[pc]);
	bool any = false;
	for (int r = 0; r <= 10; r++) {
		if (!(used & (1u << r)))
			continue;
		if (!any)
			vlog(env, "  values:");
		any = true;
		vlog(env, " R%d=", r);
		if (vcur(st)->regs[r].type == NOT_INIT)
			vlog(env, "uninitialised");
		else
			vlog_reg(env, &vcur(st)->regs[r]);
	}
	if (any)
		vlog(env, "\n");
	for (size_t i = 0; i < sizeof(fixes) / sizeof(fixes[0]); i++)
		if (strstr(env->msg, fixes[i].says)) {
			vlog(env, "  fix: %s\n", fixes[i].fix);
			break;
		}
}
