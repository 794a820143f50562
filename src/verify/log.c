/*
 * log.c - the verifier's log, in the kernel's words.
 *
 * The log is a caller buffer filled at log_level >= 1 with the refusal's
 * message (the texts are the Linux verifier's, so that the corpus labels
 * match: "R0 !read_ok", "invalid access to map value, value_size=8 off=8
 * size=8", ...) and the closing statistics line "processed N insns (limit
 * 1000000) max_states_per_insn ... total_states ... peak_states ...
 * mark_read 0".  From level 1 the path that failed is traced instruction
 * by instruction ("0: R1=ctx() R10=fp0", "5: (85) call ...", "; source @
 * file:line"), at level 2 every path with the state after each
 * instruction.  The buffer is always NUL-terminated and keeps its tail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bee/insn.h"
#include "verify/vpriv.h"

/*
 * The log keeps its tail, as the kernel's rotating log does (Linux 6.4+):
 * when a line does not fit, the oldest half of the buffer goes, so the
 * refusal and the statistics at the end are always there.  log_dropped
 * counts what went, so positions saved for level 1's rewinding stay
 * meaningful (vlog_pos, vlog_rewind).
 */
static void vlog_va(struct venv *env, const char *fmt, va_list ap)
{
	if (!env->log || env->log_size < 2)
		return;
	char line[512];
	int w = vsnprintf(line, sizeof(line), fmt, ap);
	if (w < 0)
		return;
	size_t n = (size_t)w < sizeof(line) ? (size_t)w : sizeof(line) - 1;
	if (n >= env->log_size)
		n = env->log_size - 1;
	if (env->log_len + n + 1 > env->log_size) {
		size_t drop = env->log_len + n + 1 - env->log_size;
		if (drop < env->log_len / 2)
			drop = env->log_len / 2;
		if (drop > env->log_len)
			drop = env->log_len;
		memmove(env->log, env->log + drop, env->log_len - drop);
		env->log_len -= drop;
		env->log_dropped += drop;
	}
	memcpy(env->log + env->log_len, line, n);
	env->log_len += n;
	env->log[env->log_len] = '\0';
}

size_t vlog_pos(const struct venv *env)
{
	return env->log_dropped + env->log_len;
}

void vlog_rewind(struct venv *env, size_t pos)
{
	if (!env->log || pos >= vlog_pos(env))
		return;
	env->log_len = pos > env->log_dropped ? pos - env->log_dropped : 0;
	env->log[env->log_len] = '\0';
}

void vlog(struct venv *env, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog_va(env, fmt, ap);
	va_end(ap);
}

int verr(struct venv *env, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(env->msg, sizeof(env->msg), fmt, ap);
	va_end(ap);
	vlog(env, "%s\n", env->msg);
	return err;
}

const char *vtype_name(enum vtype t)
{
	switch (t) {
	case NOT_INIT: return "?";
	case SCALAR: return "scalar";
	case PTR_TO_CTX: return "ctx";
	case PTR_TO_STACK: return "fp";
	case CONST_PTR_TO_MAP: return "map_ptr";
	case CONST_PTR_TO_MAP_OR_NULL: return "map_ptr_or_null";
	case PTR_TO_MAP_VALUE: return "map_value";
	case PTR_TO_MAP_VALUE_OR_NULL: return "map_value_or_null";
	case PTR_TO_PACKET: return "pkt";
	case PTR_TO_PACKET_END: return "pkt_end";
	case PTR_TO_PACKET_META: return "pkt_meta";
	case PTR_TO_MEM: return "mem";
	case PTR_TO_MEM_OR_NULL: return "mem_or_null";
	case PTR_TO_FUNC: return "func";
	}
	return "?";
}

const char *vreg_type_name(const struct vreg *r)
{
	if (r->memkind == VMEM_MAP_KEY && r->type == PTR_TO_MEM)
		return "map_key";
	if (r->memkind == VMEM_SOCK)
		return r->type == PTR_TO_MEM ? "sock" : "sock_or_null";
	if (r->ref && r->type == PTR_TO_MEM)
		return "ringbuf_mem";
	if (r->ref && r->type == PTR_TO_MEM_OR_NULL)
		return "ringbuf_mem_or_null";
	return vtype_name((enum vtype)r->type);
}

void vlog_stats(struct venv *env)
{
	if (env->opts && (env->opts->log_level & 4)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		vlog(env, "verification time %llu usec\nstack depth ",
		     (unsigned long long)((now - env->start_ns) / 1000));
		for (size_t i = 0; i < env->n_sub; i++)
			vlog(env, "%s%u", i ? "+" : "", env->sub[i].stack_depth);
		vlog(env, "\n");
	}
	vlog(env,
	     "processed %llu insns (limit %u) max_states_per_insn %u total_states %u "
	     "peak_states %u mark_read 0\n",
	     (unsigned long long)env->processed, BEE_VERIFY_INSN_LIMIT, env->max_states_per_insn,
	     env->total_states, env->peak_states);
}

/* ---- the per-instruction trace (log levels 1 and 2) ---------------------------- */

/* A scalar's bounds as the kernel prints them: the ones not at their
 * extremes, equal ones merged ("smin=smin32=0,smax=umax=255"). */
static void vlog_ranges(struct venv *env, const struct bee_scalar *s, const char **sep)
{
	struct {
		const char *name;
		uint64_t val;
		bool omit;
	} m[] = {
		{"smin", (uint64_t)s->smin, s->smin == INT64_MIN},
		{"smax", (uint64_t)s->smax, s->smax == INT64_MAX},
		{"umin", s->umin, s->umin == 0},
		{"umax", s->umax, s->umax == UINT64_MAX},
		{"smin32", (uint64_t)(int64_t)s->s32_min, s->s32_min == INT32_MIN},
		{"smax32", (uint64_t)(int64_t)s->s32_max, s->s32_max == INT32_MAX},
		{"umin32", s->u32_min, s->u32_min == 0},
		{"umax32", s->u32_max, s->u32_max == UINT32_MAX},
	};
	size_t n = sizeof(m) / sizeof(m[0]);
	for (size_t i = 0; i < n; i++) {
		if (m[i].omit)
			continue;
		bool neg = m[i].name[0] == 's' && (int64_t)m[i].val < 0;
		vlog(env, "%s%s=", *sep, m[i].name);
		*sep = ",";
		for (size_t j = i + 2; j < n; j += 2) {
			bool neg2 = m[j].name[0] == 's' && (int64_t)m[j].val < 0;
			if (m[j].omit || m[j].val != m[i].val || neg2 != neg)
				continue;
			m[j].omit = true;
			vlog(env, "%s=", m[j].name);
		}
		if (m[i].name[0] == 's')
			vlog(env, "%lld", (long long)m[i].val);
		else
			vlog(env, "%llu", (unsigned long long)m[i].val);
	}
	if (!bee_tnum_is_const(s->var_off) && !bee_tnum_is_unknown(s->var_off)) {
		char t[64];
		bee_tnum_strn(t, sizeof(t), s->var_off);
		vlog(env, "%svar_off=%s", *sep, t);
		*sep = ",";
	}
}

void vlog_reg(struct venv *env, const struct vreg *r)
{
	const char *sep = "";
	if (r->type == SCALAR) {
		if (r->precise)
			vlog(env, "P");
		if (bee_scalar_is_const(&r->var)) {
			vlog(env, "%lld", (long long)r->var.var_off.value);
			return;
		}
		vlog(env, "scalar(");
		vlog_ranges(env, &r->var, &sep);
		vlog(env, ")");
		return;
	}
	if (r->type == PTR_TO_STACK && bee_scalar_is_const(&r->var) && !r->var.var_off.value) {
		vlog(env, "fp%d", r->off);
		return;
	}
	vlog(env, "%s(", vreg_type_name(r));
	if (r->id) {
		vlog(env, "%sid=%u", sep, r->id);
		sep = ",";
	}
	if (r->ref) {
		vlog(env, "%sref_obj_id=%u", sep, r->ref);
		sep = ",";
	}
	if (r->off && r->type != PTR_TO_STACK) {
		vlog(env, "%soff=%d", sep, r->off);
		sep = ",";
	}
	if (r->type == PTR_TO_PACKET) {
		vlog(env, "%sr=%u", sep, r->range);
		sep = ",";
	}
	if (r->map >= 0 && (size_t)r->map < env->n_maps) {
		vlog(env, "%sks=%u,vs=%u", sep, env->maps[r->map].key_size,
		     env->maps[r->map].value_size);
		sep = ",";
	}
	if (r->type == PTR_TO_MEM || r->type == PTR_TO_MEM_OR_NULL) {
		vlog(env, "%ssz=%u", sep, r->mem_size);
		sep = ",";
	}
	if (r->type == PTR_TO_STACK)
		vlog(env, "%soff=%d", sep, r->off), sep = ",";
	if (!bee_scalar_is_const(&r->var) || r->var.var_off.value)
		vlog_ranges(env, &r->var, &sep);
	vlog(env, ")");
}

/* The registers and stack slots of the running frame: "R1=ctx() R10=fp0". */
void vlog_state(struct venv *env, const struct vstate *st)
{
	const struct vframe *f = vcur(st);
	if (st->cur)
		vlog(env, "frame%d:", st->cur);
	const char *sep = "";
	for (int i = 0; i < 11; i++) {
		if (f->regs[i].type == NOT_INIT)
			continue;
		vlog(env, "%sR%d=", sep, i);
		vlog_reg(env, &f->regs[i]);
		sep = " ";
	}
	for (int s = VSLOTS - 1; s >= 0; s--) {
		const uint8_t *b = &f->stack[s * 8];
		int off = s * 8 - VSTACK;
		if (b[0] == SLOT_SPILL) {
			vlog(env, "%sfp%d=", sep, off);
			vlog_reg(env, &f->spills[s]);
			sep = " ";
			continue;
		}
		bool any = false;
		for (int k = 0; k < 8; k++)
			any |= b[k] != SLOT_INVALID;
		if (!any)
			continue;
		static const char kind[] = {'?', 'm', '0', 'r'};
		vlog(env, "%sfp%d=", sep, off);
		for (int k = 7; k >= 0; k--)
			vlog(env, "%c", kind[b[k] & 3]);
		sep = " ";
	}
	vlog(env, "\n");
}

const char *vlog_ltrim(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

void vlog_insn(struct venv *env, size_t pc)
{
	/* the source line, when one starts here (BTF line info) */
	if (env->line_at && env->line_at[pc] >= 0) {
		const struct bee_verify_line *l = &env->opts->lines[env->line_at[pc]];
		const struct bee_verify_line *p = env->last_line;
		/* once per source line, as the kernel (several records may
		 * point at one line, at different columns) */
		bool same = p && p->line == l->line && p->file && l->file && !strcmp(p->file, l->file);
		if (!same && l->src && l->src[0]) {
			const char *file = l->file ? strrchr(l->file, '/') : NULL;
			file = file ? file + 1 : l->file ? l->file : "";
			vlog(env, "; %s @ %s:%u\n", vlog_ltrim(l->src), file, l->line);
		}
		env->last_line = l;
	}
	/* Loops print the same instructions again and again: each is
	 * disassembled once. */
	if (!env->insn_text)
		env->insn_text = calloc(env->n, sizeof(*env->insn_text));
	char buf[160];
	const char *text = env->insn_text ? env->insn_text[pc] : NULL;
	if (!text) {
		if (bee_disasm_insn(env->insns, env->n, pc, BEE_SYNTAX_C, buf, sizeof(buf), NULL) < 0)
			snprintf(buf, sizeof(buf), "?");
		text = buf;
		if (env->insn_text)
			env->insn_text[pc] = strdup(buf);
	}
	vlog(env, "%zu: (%02x) %s\n", pc, env->insns[pc].code, text);
}
