/*
 * verify.c - the exploration: every path of the program from instruction
 * 0, an abstract state per path (vpriv.h), the kernel's checks at each
 * instruction.
 *
 * Paths are explored depth first: at a conditional jump the scalar domain
 * (bee_scalar_branch) decides which edges can happen; a dead edge is not
 * explored, a live one gets its refined copy of the state (pushed on the
 * work stack) and the walk continues on the other.  `if rX == 0` on an
 * _or_null pointer makes every copy of it (same id) either a valid pointer
 * or the scalar 0; `if pkt + N > data_end` and its other forms prove a
 * range of N bytes for every packet pointer sharing the variable offset.
 *
 * Termination: at every jump target the state is compared with the states
 * stored there.  Equal to one whose subtree is fully explored: the path is
 * pruned (the kernel's states_equal, equality only for now).  Equal to one
 * that is an ancestor of this path: the abstract execution would repeat
 * forever ("infinite loop detected at insn N").  Loops whose states keep
 * changing (counters) are explored iteration by iteration until they end,
 * or until a per-instruction visit cap or the 1,000,000 processed
 * instruction limit refuses the program.  A checkpoint counts the live
 * paths below it (`branches`, as in the kernel), so "fully explored" is
 * known exactly.
 *
 * Everything not modelled yet is refused ("bee verifier: ... not supported
 * yet"): bpf-to-bpf calls, callbacks, tail calls, kfuncs, reference
 * tracking (ring buffer reservations), legacy packet loads, atomics
 * outside map values, variable stack offsets, packet metadata.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify/vpriv.h"

#define MAX_CHECKPOINTS_PER_INSN 64u
#define MAX_VISITS_PER_INSN 100000u
#define MAX_VAR_OFF (1LL << 29) /* the kernel's BPF_MAX_VAR_OFF */
#define MAX_PACKET_OFF 0xffffLL

#define UNSUPPORTED(env, ...) verr(env, -ENOTSUP, "bee verifier: " __VA_ARGS__)

enum step { STEP_NEXT, STEP_END };

struct worklist {
	struct vstate **v;
	size_t n, cap;
};

static int push_state(struct venv *env, struct worklist *w, const struct vstate *st)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct vstate **v = realloc(w->v, cap * sizeof(*v));
		if (!v)
			return verr(env, -ENOMEM, "out of memory");
		w->v = v;
		w->cap = cap;
	}
	struct vstate *c = malloc(sizeof(*c));
	if (!c)
		return verr(env, -ENOMEM, "out of memory");
	*c = *st;
	if (c->parent)
		c->parent->branches++;
	w->v[w->n++] = c;
	return 0;
}

static void path_end(struct vstate *st)
{
	for (struct vcheckpoint *p = st->parent; p; p = p->parent)
		if (--p->branches)
			break;
}

/* ---- registers ------------------------------------------------------------ */

static int check_read(struct venv *env, const struct vstate *st, int regno)
{
	if (st->regs[regno].type == NOT_INIT)
		return verr(env, -EACCES, "R%d !read_ok", regno);
	return 0;
}

/* An unknown scalar of size bytes (zero-extended). */
static void scalar_of_size(struct vreg *r, unsigned size)
{
	vreg_scalar_unknown(r);
	if (size < 8)
		bee_scalar_trunc(&r->var, size * 8);
}

struct id_arg {
	uint32_t id;
	bool non_null;
	uint32_t range;
};

static void mark_null(struct vreg *r, void *arg)
{
	struct id_arg *a = arg;
	if ((r->type != PTR_TO_MAP_VALUE_OR_NULL && r->type != PTR_TO_MEM_OR_NULL) ||
	    r->id != a->id)
		return;
	if (a->non_null) {
		r->type = r->type == PTR_TO_MAP_VALUE_OR_NULL ? PTR_TO_MAP_VALUE : PTR_TO_MEM;
		r->id = 0;
	} else {
		vreg_scalar_const(r, 0);
	}
}

static void mark_range(struct vreg *r, void *arg)
{
	struct id_arg *a = arg;
	if (r->type == PTR_TO_PACKET && r->id == a->id && r->range < a->range)
		r->range = a->range;
}

/* ---- pointer arithmetic ----------------------------------------------------- */

static int ptr_add(struct venv *env, struct vstate *st, int regno, struct vreg *p,
		   const struct bee_scalar *s, bool sub)
{
	const char *tn = vtype_name((enum vtype)p->type);
	switch ((enum vtype)p->type) {
	case PTR_TO_MAP_VALUE_OR_NULL:
	case PTR_TO_MEM_OR_NULL:
		return verr(env, -EACCES, "R%d pointer arithmetic on %s prohibited, null-check it first",
			    regno, tn);
	case CONST_PTR_TO_MAP:
	case PTR_TO_PACKET_END:
		return verr(env, -EACCES, "R%d pointer arithmetic on %s prohibited", regno, tn);
	case NOT_INIT:
	case SCALAR:
		return verr(env, -EFAULT, "bee verifier: internal error (ptr_add)");
	case PTR_TO_CTX:
	case PTR_TO_STACK:
	case PTR_TO_MAP_VALUE:
	case PTR_TO_PACKET:
	case PTR_TO_PACKET_META:
	case PTR_TO_MEM:
		break;
	}
	if (bee_scalar_is_const(s)) {
		int64_t c = (int64_t)s->var_off.value;
		if (c >= MAX_VAR_OFF || c <= -MAX_VAR_OFF)
			return verr(env, -EACCES, "math between %s pointer and %lld is not allowed", tn,
				    (long long)c);
		int64_t off = (int64_t)p->off + (sub ? -c : c);
		if (off >= MAX_VAR_OFF || off <= -MAX_VAR_OFF)
			return verr(env, -EACCES, "value %lld makes %s pointer be out of bounds",
				    (long long)off, tn);
		p->off = (int32_t)off;
		return 0;
	}
	if (s->smin == INT64_MIN)
		return verr(env, -EACCES,
			    "math between %s pointer and register with unbounded min value is not "
			    "allowed",
			    tn);
	if (sub)
		return UNSUPPORTED(env, "subtracting a variable from a %s pointer not supported yet",
				   tn);
	struct bee_scalar v = p->var;
	bee_scalar_alu_insn(&v, BEE_OP_ADD64_REG, s);
	switch ((enum vtype)p->type) {
	case PTR_TO_MAP_VALUE:
		if (v.smin <= -MAX_VAR_OFF || v.smax >= MAX_VAR_OFF)
			return verr(env, -EACCES,
				    "R%d unbounded memory access, make sure to bounds check any such "
				    "access",
				    regno);
		p->var = v;
		return 0;
	case PTR_TO_PACKET:
		if (s->smin < 0 || v.smin < 0 || v.umax > MAX_PACKET_OFF)
			return verr(env, -EACCES, "value %lld makes pkt pointer be out of bounds",
				    (long long)s->umax);
		p->var = v;
		p->id = st->next_id++;
		p->range = 0;
		return 0;
	case PTR_TO_CTX: {
		char buf[64];
		bee_tnum_strn(buf, sizeof(buf), v.var_off);
		return verr(env, -EACCES, "variable ctx access var_off=%s disallowed", buf);
	}
	case PTR_TO_STACK:
		return UNSUPPORTED(env, "variable stack offsets not supported yet");
	case NOT_INIT:
	case SCALAR:
	case CONST_PTR_TO_MAP:
	case PTR_TO_MAP_VALUE_OR_NULL:
	case PTR_TO_PACKET_END:
	case PTR_TO_PACKET_META:
	case PTR_TO_MEM:
	case PTR_TO_MEM_OR_NULL:
		break;
	}
	return UNSUPPORTED(env, "variable offsets on %s pointers not supported yet", tn);
}

static int do_alu(struct venv *env, struct vstate *st, const struct bee_dinsn *d)
{
	unsigned shape = bee_op_info[d->op].shape;
	enum bee_op op = (enum bee_op)d->op;
	bool is32 = bee_op_is_32bit(op);
	bool reg_src = shape == BEE_SH_ALU_REG || shape == BEE_SH_MOVSX;
	const char *mn = bee_op_info[d->op].mnemonic;
	bool is_mov = strncmp(mn, "mov", 3) == 0;
	struct vreg *dst = &st->regs[d->dst];
	struct vreg src;
	int err;
	if (reg_src) {
		if ((err = check_read(env, st, d->src)))
			return err;
		src = st->regs[d->src];
	} else {
		vreg_scalar_const(&src, (uint64_t)(int64_t)d->imm);
	}
	if (is_mov && shape != BEE_SH_MOVSX) {
		if (!is32) {
			*dst = src;
			return 0;
		}
		if (vreg_is_ptr(&src)) { /* the kernel lets root do it: a scalar */
			scalar_of_size(dst, 4);
			return 0;
		}
	}
	if (!is_mov && (err = check_read(env, st, d->dst)))
		return err;
	if (shape == BEE_SH_ALU_IMM) {
		bool div = strstr(mn, "div") || strstr(mn, "mod");
		if (div && d->imm == 0)
			return verr(env, -EINVAL, "div by zero");
		bool shift = strstr(mn, "sh") != NULL;
		if (shift && (d->imm < 0 || d->imm >= (is32 ? 32 : 64)))
			return verr(env, -EINVAL, "invalid shift %d", d->imm);
	}
	bool dptr = !is_mov && vreg_is_ptr(dst), sptr = vreg_is_ptr(&src);
	if (dptr || sptr) {
		if (shape != BEE_SH_ALU_IMM && shape != BEE_SH_ALU_REG)
			return verr(env, -EACCES, "R%d pointer arithmetic with %s prohibited", d->dst,
				    mn);
		if (is32)
			return verr(env, -EACCES, "R%d 32-bit pointer arithmetic prohibited", d->dst);
		bool add = op == BEE_OP_ADD64_IMM || op == BEE_OP_ADD64_REG;
		bool sub = op == BEE_OP_SUB64_IMM || op == BEE_OP_SUB64_REG;
		if (dptr && sptr) {
			if (sub && dst->type == src.type &&
			    (dst->type == PTR_TO_PACKET || dst->type == PTR_TO_MAP_VALUE ||
			     dst->type == PTR_TO_STACK)) {
				vreg_scalar_unknown(dst);
				return 0;
			}
			return verr(env, -EACCES, "R%d pointer %s pointer prohibited", d->dst, mn);
		}
		if (!add && !sub)
			return verr(env, -EACCES, "R%d pointer arithmetic with %s operator prohibited",
				    d->dst, mn);
		if (dptr)
			return ptr_add(env, st, d->dst, dst, &src.var, sub);
		if (sub)
			return verr(env, -EACCES, "R%d tried to subtract pointer from scalar", d->dst);
		struct bee_scalar s = dst->var;
		struct vreg p = src;
		if ((err = ptr_add(env, st, d->dst, &p, &s, false)))
			return err;
		*dst = p;
		return 0;
	}
	struct bee_scalar v = is_mov ? src.var : dst->var;
	if (is_mov && shape == BEE_SH_MOVSX)
		v = dst->type == SCALAR ? dst->var : src.var;
	if (!bee_scalar_alu_insn(&v, op, &src.var))
		return verr(env, -EFAULT, "bee verifier: internal error (alu %s)", mn);
	vreg_init(dst);
	dst->type = SCALAR;
	dst->var = v;
	return 0;
}

/* ---- memory ----------------------------------------------------------------- */

static int check_map_value(struct venv *env, int regno, const struct vreg *r, int64_t insn_off,
			   uint64_t size, bool write)
{
	(void)write;
	uint32_t vs = env->maps[r->map].value_size;
	if (env->opts->strict_alignment && size > 1 &&
	    (!bee_scalar_is_const(&r->var) ||
	     ((uint64_t)((int64_t)r->off + insn_off) + r->var.var_off.value) % size))
		return verr(env, -EACCES, "misaligned value access off 0+%d+%lld size %llu", r->off,
			    (long long)insn_off, (unsigned long long)size);
	int64_t lo = (int64_t)r->off + insn_off + r->var.smin;
	int64_t hi = (int64_t)r->off + insn_off + r->var.smax + (int64_t)size;
	bool cst = bee_scalar_is_const(&r->var);
	if (lo < 0) {
		if (cst)
			return verr(env, -EACCES,
				    "invalid access to map value, value_size=%u off=%lld size=%llu", vs,
				    (long long)lo, (unsigned long long)size);
		return verr(env, -EACCES,
			    "R%d min value is negative, either use unsigned index or 'var &= const'",
			    regno);
	}
	if (hi > (int64_t)vs) {
		if (!cst && r->var.umax >= (uint64_t)MAX_VAR_OFF)
			return verr(env, -EACCES,
				    "R%d unbounded memory access, make sure to bounds check any such "
				    "access",
				    regno);
		return verr(env, -EACCES, "invalid access to map value, value_size=%u off=%lld size=%llu",
			    vs, (long long)(hi - (int64_t)size), (unsigned long long)size);
	}
	return 0;
}

static int check_packet(struct venv *env, int regno, const struct vreg *r, int64_t insn_off,
			uint64_t size, bool write)
{
	uint32_t flags = env->opts->prog_type->flags;
	if (write && !(flags & BEE_PT_PKT_WRITE))
		return verr(env, -EACCES, "cannot write into packet");
	if (!write && !(flags & BEE_PT_PKT_READ))
		return verr(env, -EACCES, "cannot read from packet");
	int64_t a = (int64_t)r->off + insn_off;
	if (env->opts->strict_alignment && size > 1 &&
	    (!bee_scalar_is_const(&r->var) || (uint64_t)(2 + a + (int64_t)r->var.var_off.value) % size))
		return verr(env, -EACCES, "misaligned packet access off 2+0+%d+%lld size %llu", r->off,
			    (long long)insn_off, (unsigned long long)size);
	if (a < 0 || a + (int64_t)size > (int64_t)r->range || r->var.smin < 0 ||
	    r->var.umax > MAX_PACKET_OFF)
		return verr(env, -EACCES, "invalid access to packet, off=%lld size=%llu, R%d(id=%u,off=%d,r=%u)",
			    (long long)a, (unsigned long long)size, regno, r->id, r->off, r->range);
	return 0;
}

static int check_mem_region(struct venv *env, const struct vreg *r, int64_t insn_off, uint64_t size)
{
	int64_t a = (int64_t)r->off + insn_off;
	if (!bee_scalar_is_const(&r->var) || r->var.var_off.value || a < 0 ||
	    a + (int64_t)size > (int64_t)r->mem_size)
		return verr(env, -EACCES, "invalid access to memory, mem_size=%u off=%lld size=%llu",
			    r->mem_size, (long long)a, (unsigned long long)size);
	return 0;
}

/* A load (val == NULL, result in *out) or a store of val, through register regno. */
static int check_mem_access(struct venv *env, struct vstate *st, int regno, int16_t insn_off,
			    unsigned size, bool sext, const struct vreg *val, struct vreg *out)
{
	int err;
	if ((err = check_read(env, st, regno)))
		return err;
	const struct vreg *r = &st->regs[regno];
	bool write = val != NULL;
	const char *tn = vtype_name((enum vtype)r->type);
	if (write && vreg_is_ptr(val) && r->type != PTR_TO_STACK)
		return UNSUPPORTED(env, "storing a pointer outside the stack not supported yet");
	switch ((enum vtype)r->type) {
	case NOT_INIT:
	case SCALAR:
	case PTR_TO_MAP_VALUE_OR_NULL:
	case PTR_TO_MEM_OR_NULL:
	case CONST_PTR_TO_MAP:
	case PTR_TO_PACKET_END:
		return verr(env, -EACCES, "R%d invalid mem access '%s'", regno, tn);
	case PTR_TO_PACKET_META:
		return UNSUPPORTED(env, "packet metadata access not supported yet");
	case PTR_TO_CTX: {
		if (r->off || !bee_scalar_is_const(&r->var) || r->var.var_off.value)
			return verr(env, -EACCES, "dereference of modified ctx ptr R%d off=%d disallowed",
				    regno, r->off);
		enum bee_ctx_kind kind = BEE_CTX_SCALAR;
		const struct bee_ctx_field *field = NULL;
		if (bee_prog_type_ctx_access(env->opts->prog_type, insn_off, size, write, 0, &kind,
					     &field) < 0)
			return verr(env, -EACCES, "invalid bpf_context access off=%d size=%u", insn_off,
				    size);
		if (write)
			return 0;
		vreg_init(out);
		switch (kind) {
		case BEE_CTX_SCALAR:
			if (sext)
				vreg_scalar_unknown(out);
			else
				scalar_of_size(out, size);
			return 0;
		case BEE_CTX_PTR_PACKET:
			out->type = PTR_TO_PACKET;
			break;
		case BEE_CTX_PTR_PACKET_END:
			out->type = PTR_TO_PACKET_END;
			break;
		case BEE_CTX_PTR_PACKET_META:
			out->type = PTR_TO_PACKET_META;
			break;
		case BEE_CTX_PTR_SOCK_COMMON_OR_NULL:
		case BEE_CTX_PTR_BTF_ID:
			return UNSUPPORTED(env, "context field at off=%d (socket or BTF pointer) not "
						"supported yet",
					   insn_off);
		}
		if (sext || !field || size != field->size || insn_off != (int16_t)field->off)
			return verr(env, -EACCES, "invalid bpf_context access off=%d size=%u", insn_off,
				    size);
		return 0;
	}
	case PTR_TO_STACK: {
		int at = r->off + insn_off;
		if (write)
			return vstack_write(env, st, regno, at, size, val);
		if ((err = vstack_read(env, st, regno, at, size, out)))
			return err;
		if (out->type == SCALAR && size < 8 && !bee_scalar_is_const(&out->var)) {
			if (sext)
				vreg_scalar_unknown(out);
			else
				scalar_of_size(out, size);
		} else if (out->type == SCALAR && sext) {
			vreg_scalar_unknown(out);
		}
		return 0;
	}
	case PTR_TO_MAP_VALUE:
		if ((err = check_map_value(env, regno, r, insn_off, size, write)))
			return err;
		break;
	case PTR_TO_PACKET:
		if ((err = check_packet(env, regno, r, insn_off, size, write)))
			return err;
		break;
	case PTR_TO_MEM:
		if ((err = check_mem_region(env, r, insn_off, size)))
			return err;
		break;
	}
	if (!write) {
		if (sext)
			vreg_scalar_unknown(out);
		else
			scalar_of_size(out, size);
	}
	return 0;
}

static int do_atomic(struct venv *env, struct vstate *st, const struct bee_dinsn *d)
{
	int err;
	unsigned size = bee_op_access_size((enum bee_op)d->op);
	if ((err = check_read(env, st, d->src)) || (err = check_read(env, st, d->dst)))
		return err;
	const struct vreg *base = &st->regs[d->dst];
	if (base->type != PTR_TO_MAP_VALUE)
		return UNSUPPORTED(env, "atomic operations on %s not supported yet",
				   vtype_name((enum vtype)base->type));
	if (st->regs[d->src].type != SCALAR)
		return UNSUPPORTED(env, "atomic operations with a pointer operand not supported yet");
	if ((err = check_map_value(env, d->dst, base, d->off, size, true)))
		return err;
	bool cmpxchg = d->imm == BPF_CMPXCHG;
	if (cmpxchg) {
		if ((err = check_read(env, st, 0)))
			return err;
		if (st->regs[0].type != SCALAR)
			return UNSUPPORTED(env, "cmpxchg with a pointer in R0 not supported yet");
		scalar_of_size(&st->regs[0], size);
	} else if (d->imm & BPF_FETCH) {
		scalar_of_size(&st->regs[d->src], size);
	}
	return 0;
}

/* ---- maps and helpers ------------------------------------------------------- */

static int resolve_map(struct venv *env, const struct bee_dinsn *d, int *idx)
{
	struct bee_verify_map m;
	bool by_idx = d->op == BEE_OP_LDDW_MAP_IDX || d->op == BEE_OP_LDDW_MAP_IDX_VALUE;
	if (by_idx) {
		if (d->imm < 0 || (size_t)d->imm >= env->opts->n_maps || !env->opts->maps)
			return verr(env, -EINVAL, "fd_array[%d] is not a map", d->imm);
		m = env->opts->maps[d->imm];
	} else {
		if (!env->opts->map_lookup)
			return verr(env, -EBADF, "fd %d is not pointing to valid bpf_map", d->imm);
		int err = env->opts->map_lookup(env->opts->user, d->src, d->imm, &m);
		if (err < 0)
			return verr(env, err, "fd %d is not pointing to valid bpf_map", d->imm);
	}
	if (env->n_maps == VMAX_MAPS)
		return UNSUPPORTED(env, "more than %d map references not supported yet", VMAX_MAPS);
	env->maps[env->n_maps] = m;
	*idx = (int)env->n_maps++;
	return 0;
}

static bool map_helper_ok(int32_t func, uint32_t mt, bool *known)
{
	*known = true;
	bool kv = mt == BPF_MAP_TYPE_HASH || mt == BPF_MAP_TYPE_ARRAY ||
		  mt == BPF_MAP_TYPE_PERCPU_HASH || mt == BPF_MAP_TYPE_PERCPU_ARRAY ||
		  mt == BPF_MAP_TYPE_LRU_HASH || mt == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	switch (func) {
	case BPF_FUNC_map_lookup_elem:
	case BPF_FUNC_map_update_elem:
	case BPF_FUNC_map_delete_elem:
		return kv;
	case BPF_FUNC_map_push_elem:
	case BPF_FUNC_map_pop_elem:
	case BPF_FUNC_map_peek_elem:
		return mt == BPF_MAP_TYPE_QUEUE || mt == BPF_MAP_TYPE_STACK;
	case BPF_FUNC_map_lookup_percpu_elem:
		return mt == BPF_MAP_TYPE_PERCPU_HASH || mt == BPF_MAP_TYPE_PERCPU_ARRAY ||
		       mt == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	case BPF_FUNC_ringbuf_output:
	case BPF_FUNC_ringbuf_query:
		return mt == BPF_MAP_TYPE_RINGBUF;
	case BPF_FUNC_perf_event_output:
		return mt == BPF_MAP_TYPE_PERF_EVENT_ARRAY;
	default:
		*known = false;
		return false;
	}
}

/* Helper memory: size bytes (size_max at most) through register regno. */
static int check_helper_mem(struct venv *env, struct vstate *st, int regno, uint64_t size,
			    bool write)
{
	const struct vreg *r = &st->regs[regno];
	switch ((enum vtype)r->type) {
	case PTR_TO_STACK:
		return vstack_helper_access(env, st, regno, r->off, size, write);
	case PTR_TO_MAP_VALUE:
		return check_map_value(env, regno, r, 0, size, write);
	case PTR_TO_PACKET:
		return check_packet(env, regno, r, 0, size, write);
	case PTR_TO_MEM:
		return check_mem_region(env, r, 0, size);
	case NOT_INIT:
	case SCALAR:
	case PTR_TO_CTX:
	case CONST_PTR_TO_MAP:
	case PTR_TO_MAP_VALUE_OR_NULL:
	case PTR_TO_PACKET_END:
	case PTR_TO_PACKET_META:
	case PTR_TO_MEM_OR_NULL:
		break;
	}
	return verr(env, -EACCES, "R%d type=%s expected=fp, pkt, map_value, mem", regno,
		    vtype_name((enum vtype)r->type));
}

static bool noarg_helper(int32_t id)
{
	static const int32_t ok[] = {
		BPF_FUNC_ktime_get_ns, BPF_FUNC_get_prandom_u32, BPF_FUNC_get_smp_processor_id,
		BPF_FUNC_get_current_pid_tgid, BPF_FUNC_get_current_uid_gid,
		BPF_FUNC_ktime_get_boot_ns, BPF_FUNC_ktime_get_coarse_ns,
		BPF_FUNC_get_current_cgroup_id, BPF_FUNC_get_numa_node_id,
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (ok[i] == id)
			return true;
	return false;
}

static bool pkt_preserving_helper(int32_t id)
{
	static const int32_t ok[] = {
		BPF_FUNC_map_lookup_elem, BPF_FUNC_map_update_elem, BPF_FUNC_map_delete_elem,
		BPF_FUNC_map_push_elem, BPF_FUNC_map_pop_elem, BPF_FUNC_map_peek_elem,
		BPF_FUNC_map_lookup_percpu_elem, BPF_FUNC_trace_printk, BPF_FUNC_ringbuf_output,
		BPF_FUNC_perf_event_output, BPF_FUNC_ringbuf_query,
	};
	if (noarg_helper(id))
		return true;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (ok[i] == id)
			return true;
	return false;
}

static void forget_pkt(struct vreg *r, void *arg)
{
	(void)arg;
	if (r->type == PTR_TO_PACKET || r->type == PTR_TO_PACKET_END ||
	    r->type == PTR_TO_PACKET_META)
		vreg_scalar_unknown(r);
}

static int do_helper_call(struct venv *env, struct vstate *st, const struct bee_dinsn *d)
{
	int32_t id = d->imm;
	const char *name = bee_helper_name(id);
	const struct bee_helper *h =
		env->opts->helpers ? bee_helper_table_find(env->opts->helpers, id) : NULL;
	if (!name && !h)
		return verr(env, -EINVAL, "invalid func unknown#%d", id);
	if (!name)
		name = h->name;
	if (!bee_prog_type_helper_ok(env->opts->prog_type, id))
		return verr(env, -EINVAL, "program of this type cannot use helper %s#%d", name, id);
	if (id == BPF_FUNC_tail_call)
		return UNSUPPORTED(env, "tail calls not supported yet");
	if (!h)
		return UNSUPPORTED(env, "helper %s#%d not supported yet", name, id);
	if (h->args[0] == BEE_ARG_NONE && !noarg_helper(id))
		return UNSUPPORTED(env, "helper %s#%d has no argument prototype: not supported yet",
				   name, id);
	if (h->ret == BEE_RET_MEM_OR_NULL)
		return UNSUPPORTED(env, "reference tracking (%s) not supported yet", name);
	if (h->ret == BEE_RET_TASK)
		return UNSUPPORTED(env, "BTF pointers (%s) not supported yet", name);
	int map = -1, err;
	for (int i = 0; i < 5 && h->args[i] != BEE_ARG_NONE; i++) {
		int regno = i + 1;
		struct vreg *r = &st->regs[regno];
		enum bee_arg a = h->args[i];
		if ((err = check_read(env, st, regno)))
			return err;
		switch (a) {
		case BEE_ARG_NONE:
		case BEE_ARG_ANYTHING:
			break;
		case BEE_ARG_MAP: {
			if (r->type != CONST_PTR_TO_MAP)
				return verr(env, -EACCES, "R%d type=%s expected=map_ptr", regno,
					    vtype_name((enum vtype)r->type));
			map = r->map;
			bool known;
			if (!map_helper_ok(id, env->maps[map].type, &known)) {
				if (!known)
					return UNSUPPORTED(env, "maps with helper %s not supported yet",
							   name);
				return verr(env, -EINVAL, "cannot pass map_type %u into func %s#%d",
					    env->maps[map].type, name, id);
			}
			break;
		}
		case BEE_ARG_MAP_KEY:
		case BEE_ARG_MAP_VALUE:
		case BEE_ARG_MAP_VALUE_OUT:
			if (map < 0)
				return verr(env, -EFAULT, "bee verifier: map argument missing");
			if ((err = check_helper_mem(env, st, regno,
						    a == BEE_ARG_MAP_KEY ? env->maps[map].key_size
									 : env->maps[map].value_size,
						    a == BEE_ARG_MAP_VALUE_OUT)))
				return err;
			break;
		case BEE_ARG_MEM:
		case BEE_ARG_MEM_OR_NULL:
		case BEE_ARG_MEM_OUT: {
			if (i + 1 >= 5 || (h->args[i + 1] != BEE_ARG_SIZE &&
					   h->args[i + 1] != BEE_ARG_SIZE_OR_ZERO))
				return UNSUPPORTED(env, "helper %s: memory argument without a size",
						   name);
			const struct vreg *sz = &st->regs[regno + 1];
			if ((err = check_read(env, st, regno + 1)))
				return err;
			if (sz->type != SCALAR)
				return verr(env, -EACCES, "R%d type=%s expected=scalar", regno + 1,
					    vtype_name((enum vtype)sz->type));
			if (sz->var.smin < 0)
				return verr(env, -EACCES,
					    "R%d min value is negative, either use unsigned or 'var &= "
					    "const'",
					    regno + 1);
			if (sz->var.umin == 0 && h->args[i + 1] == BEE_ARG_SIZE)
				return verr(env, -EACCES, "R%d invalid zero-sized read", regno + 1);
			if (sz->var.umax >= (uint64_t)MAX_VAR_OFF)
				return verr(env, -EACCES,
					    "R%d unbounded memory access, use 'var &= const' or 'if (var "
					    "< const)'",
					    regno + 1);
			if (a == BEE_ARG_MEM_OR_NULL && r->type == SCALAR) {
				if (!bee_scalar_is_const(&r->var) || r->var.var_off.value ||
				    sz->var.umax != 0)
					return verr(env, -EACCES, "R%d type=scalar expected=fp, pkt, "
								  "map_value, mem",
						    regno);
			} else if ((err = check_helper_mem(env, st, regno, sz->var.umax,
							   a == BEE_ARG_MEM_OUT))) {
				return err;
			}
			i++; /* the size, checked */
			break;
		}
		case BEE_ARG_SIZE:
		case BEE_ARG_SIZE_OR_ZERO:
			return UNSUPPORTED(env, "helper %s: size without memory", name);
		case BEE_ARG_CTX:
			if (r->type != PTR_TO_CTX || r->off || !bee_scalar_is_const(&r->var) ||
			    r->var.var_off.value)
				return verr(env, -EACCES, "R%d type=%s expected=ctx", regno,
					    vtype_name((enum vtype)r->type));
			break;
		case BEE_ARG_LONG_OUT:
			if (r->type == PTR_TO_STACK && r->off % 8)
				return verr(env, -EACCES, "misaligned stack access off 0+%d+0 size 8",
					    r->off);
			if ((err = check_helper_mem(env, st, regno, 8, true)))
				return err;
			break;
		case BEE_ARG_CONST_STR:
			return UNSUPPORTED(env, "constant string arguments (%s) not supported yet", name);
		case BEE_ARG_FUNC:
		case BEE_ARG_STACK_OR_NULL:
			return UNSUPPORTED(env, "callbacks (%s) not supported yet", name);
		case BEE_ARG_RINGBUF_MEM:
			return UNSUPPORTED(env, "reference tracking (%s) not supported yet", name);
		}
	}
	struct vreg *r0 = &st->regs[0];
	switch (h->ret) {
	case BEE_RET_INTEGER:
		vreg_scalar_unknown(r0);
		break;
	case BEE_RET_VOID:
		vreg_init(r0);
		break;
	case BEE_RET_MAP_VALUE_OR_NULL:
		if (map < 0)
			return verr(env, -EFAULT, "bee verifier: map argument missing");
		vreg_init(r0);
		r0->type = PTR_TO_MAP_VALUE_OR_NULL;
		r0->map = map;
		r0->id = st->next_id++;
		break;
	case BEE_RET_MEM_OR_NULL:
	case BEE_RET_TASK:
		return verr(env, -EFAULT, "bee verifier: internal error (ret)");
	}
	for (int i = 1; i <= 5; i++)
		vreg_init(&st->regs[i]);
	/* A helper may move or resize the packet (the kernel's
	 * bpf_helper_changes_pkt_data): unless it is known not to, every
	 * packet pointer becomes a plain number. */
	if (!pkt_preserving_helper(id))
		vstate_for_each_reg(st, forget_pkt, NULL);
	return 0;
}

/* ---- jumps ------------------------------------------------------------------- */

static bool pkt_cmp(enum bee_cond cond, const struct vreg *a, const struct vreg *b, bool *taken_ok,
		    bool *swap)
{
	/* Which edge proves "pkt <= pkt_end"?  a is the packet side after swap. */
	*swap = false;
	if (a->type == PTR_TO_PACKET_END && b->type == PTR_TO_PACKET)
		*swap = true;
	else if (!(a->type == PTR_TO_PACKET && b->type == PTR_TO_PACKET_END))
		return false;
	switch (cond) {
	case BEE_COND_GT: /* pkt > end: fall; end > pkt: taken */
	case BEE_COND_GE:
		*taken_ok = *swap;
		return true;
	case BEE_COND_LT: /* pkt < end: taken; end < pkt: fall */
	case BEE_COND_LE:
		*taken_ok = !*swap;
		return true;
	case BEE_COND_EQ:
	case BEE_COND_NE:
	case BEE_COND_SGT:
	case BEE_COND_SGE:
	case BEE_COND_SLT:
	case BEE_COND_SLE:
	case BEE_COND_SET:
	case BEE_COND_NSET:
	case BEE_COND__COUNT:
		break;
	}
	return false;
}

static int do_cond_jump(struct venv *env, struct vstate *st, const struct bee_dinsn *d,
			struct worklist *w)
{
	int err;
	bool reg = bee_op_info[d->op].shape == BEE_SH_JCC_REG;
	enum bee_cond cond;
	bool jmp32;
	if (!bee_scalar_cond_of((enum bee_op)d->op, &cond, &jmp32))
		return verr(env, -EFAULT, "bee verifier: internal error (cond)");
	if ((err = check_read(env, st, d->dst)) || (reg && (err = check_read(env, st, d->src))))
		return err;
	struct vreg a = st->regs[d->dst], b;
	if (reg)
		b = st->regs[d->src];
	else
		vreg_scalar_const(&b, (uint64_t)(int64_t)d->imm);
	size_t target = (size_t)bee_jump_target(d, st->pc), next = st->pc + 1;
	struct vstate *taken = malloc(sizeof(*taken));
	if (!taken)
		return verr(env, -ENOMEM, "out of memory");
	*taken = *st;
	unsigned edges = BEE_BRANCH_TAKEN | BEE_BRANCH_FALL;
	if (a.type == SCALAR && b.type == SCALAR) {
		struct bee_scalar at, bt, af, bf;
		edges = bee_scalar_branch(cond, jmp32, &a.var, &b.var, &at, &bt, &af, &bf);
		taken->regs[d->dst].var = at;
		st->regs[d->dst].var = af;
		if (reg && d->src != d->dst) {
			taken->regs[d->src].var = bt;
			st->regs[d->src].var = bf;
		}
	} else if (!jmp32 && (a.type == PTR_TO_MAP_VALUE_OR_NULL || a.type == PTR_TO_MEM_OR_NULL) &&
		   b.type == SCALAR && bee_scalar_is_const(&b.var) && b.var.var_off.value == 0 &&
		   (cond == BEE_COND_EQ || cond == BEE_COND_NE)) {
		struct id_arg t = {a.id, cond == BEE_COND_NE, 0}, f = {a.id, cond == BEE_COND_EQ, 0};
		vstate_for_each_reg(taken, mark_null, &t);
		vstate_for_each_reg(st, mark_null, &f);
	} else if (!jmp32) {
		bool taken_ok, swap;
		if (pkt_cmp(cond, &a, &b, &taken_ok, &swap)) {
			const struct vreg *p = swap ? &b : &a;
			if (p->off > 0) {
				struct id_arg r = {p->id, false, (uint32_t)p->off};
				vstate_for_each_reg(taken_ok ? taken : st, mark_range, &r);
			}
		}
	}
	taken->pc = target;
	st->pc = next;
	if (!(edges & BEE_BRANCH_TAKEN)) {
		free(taken);
		return 0;
	}
	if (!(edges & BEE_BRANCH_FALL)) {
		taken->parent = st->parent;
		*st = *taken;
		free(taken);
		return 0;
	}
	err = push_state(env, w, taken);
	free(taken);
	return err;
}

static int do_exit(struct venv *env, struct vstate *st)
{
	int err;
	if ((err = check_read(env, st, 0)))
		return err;
	const struct vreg *r0 = &st->regs[0];
	if (r0->type != SCALAR)
		return verr(env, -EACCES, "At program exit the register R0 is not a known value (%s)",
			    vtype_name((enum vtype)r0->type));
	int64_t lo, hi;
	if (bee_prog_type_ret_range(env->opts->prog_type, env->opts->expected_attach_type, &lo,
				    &hi) &&
	    (r0->var.smin < lo || r0->var.smax > hi)) {
		char buf[160];
		bee_scalar_strn(buf, sizeof(buf), &r0->var);
		return verr(env, -EINVAL,
			    "At program exit the register R0 has %s should have been in [%lld, %lld]",
			    buf, (long long)lo, (long long)hi);
	}
	return 0;
}

static int do_lddw(struct venv *env, struct vstate *st, const struct bee_dinsn *d)
{
	struct vreg *dst = &st->regs[d->dst];
	int idx, err;
	switch (d->op) {
	case BEE_OP_LDDW:
		vreg_scalar_const(dst, d->imm64);
		return 0;
	case BEE_OP_LDDW_MAP_FD:
	case BEE_OP_LDDW_MAP_IDX:
		if ((err = resolve_map(env, d, &idx)))
			return err;
		vreg_init(dst);
		dst->type = CONST_PTR_TO_MAP;
		dst->map = idx;
		return 0;
	case BEE_OP_LDDW_MAP_VALUE:
	case BEE_OP_LDDW_MAP_IDX_VALUE: {
		if ((err = resolve_map(env, d, &idx)))
			return err;
		uint32_t off = (uint32_t)env->insns[st->pc + 1].imm;
		if (env->maps[idx].type != BPF_MAP_TYPE_ARRAY || env->maps[idx].max_entries != 1)
			return verr(env, -EINVAL, "no direct value access support for this map type");
		if (off >= env->maps[idx].value_size)
			return verr(env, -EACCES,
				    "invalid access to map value pointer, value_size=%u off=%u",
				    env->maps[idx].value_size, off);
		vreg_init(dst);
		dst->type = PTR_TO_MAP_VALUE;
		dst->map = idx;
		dst->off = (int32_t)off;
		return 0;
	}
	case BEE_OP_LDDW_FUNC:
		return UNSUPPORTED(env, "callbacks (lddw subprog) not supported yet");
	default:
		return UNSUPPORTED(env, "BTF object references (lddw btf_id) not supported yet");
	}
}

/* ---- the walk ----------------------------------------------------------------- */

static bool is_ancestor(const struct vcheckpoint *cp, const struct vcheckpoint *p)
{
	for (; p; p = p->parent)
		if (p == cp)
			return true;
	return false;
}

/* 1: prune this path; 0: go on; < 0: refused. */
static int visit_prune_point(struct venv *env, struct vstate *st)
{
	size_t pc = st->pc;
	for (struct vcheckpoint *cp = env->at_insn[pc]; cp; cp = cp->next_at_insn) {
		if (!vstate_equal(&cp->st, st))
			continue;
		if (cp->branches == 0)
			return 1;
		if (is_ancestor(cp, st->parent))
			return verr(env, -EINVAL, "infinite loop detected at insn %zu", pc);
	}
	if (++env->visits[pc] > MAX_VISITS_PER_INSN)
		return verr(env, -E2BIG,
			    "bee verifier: insn %zu explored %u times: loop not proven bounded", pc,
			    MAX_VISITS_PER_INSN);
	if (env->n_at_insn[pc] >= MAX_CHECKPOINTS_PER_INSN)
		return 0;
	struct vcheckpoint *cp = malloc(sizeof(*cp));
	if (!cp)
		return verr(env, -ENOMEM, "out of memory");
	cp->st = *st;
	cp->parent = st->parent;
	cp->branches = 1;
	cp->next_at_insn = env->at_insn[pc];
	env->at_insn[pc] = cp;
	st->parent = cp;
	env->n_at_insn[pc]++;
	env->total_states++;
	if (env->n_at_insn[pc] > env->max_states_per_insn)
		env->max_states_per_insn = env->n_at_insn[pc];
	if (env->total_states > env->peak_states)
		env->peak_states = env->total_states;
	return 0;
}

static int step(struct venv *env, struct vstate *st, struct worklist *w, enum step *out)
{
	const struct bee_dinsn *d = &env->d[st->pc];
	unsigned shape = bee_op_info[d->op].shape;
	int err = 0;
	*out = STEP_NEXT;
	switch (shape) {
	case BEE_SH_ALU_IMM:
	case BEE_SH_ALU_REG:
	case BEE_SH_NEG:
	case BEE_SH_END:
	case BEE_SH_MOVSX:
		err = do_alu(env, st, d);
		st->pc++;
		break;
	case BEE_SH_LDX: {
		struct vreg v;
		bool sext = strncmp(bee_op_info[d->op].mnemonic, "ldxs", 4) == 0;
		err = check_mem_access(env, st, d->src, d->off, bee_op_access_size((enum bee_op)d->op),
				       sext, NULL, &v);
		if (!err)
			st->regs[d->dst] = v;
		st->pc++;
		break;
	}
	case BEE_SH_ST:
	case BEE_SH_STX: {
		struct vreg v;
		if (shape == BEE_SH_STX) {
			if ((err = check_read(env, st, d->src)))
				break;
			v = st->regs[d->src];
		} else {
			vreg_scalar_const(&v, (uint64_t)(int64_t)d->imm);
		}
		err = check_mem_access(env, st, d->dst, d->off, bee_op_access_size((enum bee_op)d->op),
				       false, &v, NULL);
		st->pc++;
		break;
	}
	case BEE_SH_ATOMIC:
		err = do_atomic(env, st, d);
		st->pc++;
		break;
	case BEE_SH_LOAD_ACQ:
	case BEE_SH_STORE_REL:
		err = UNSUPPORTED(env, "load-acquire and store-release not supported yet");
		break;
	case BEE_SH_LDDW:
		err = do_lddw(env, st, d);
		st->pc += 2;
		break;
	case BEE_SH_LD_ABS:
	case BEE_SH_LD_IND:
		err = UNSUPPORTED(env, "legacy packet loads (ld_abs, ld_ind) not supported yet");
		break;
	case BEE_SH_JA:
	case BEE_SH_JA32:
		st->pc = (size_t)bee_jump_target(d, st->pc);
		break;
	case BEE_SH_JCC_IMM:
	case BEE_SH_JCC_REG:
		err = do_cond_jump(env, st, d, w);
		break;
	case BEE_SH_CALL_HELPER:
		err = do_helper_call(env, st, d);
		st->pc++;
		break;
	case BEE_SH_CALL_LOCAL:
		err = UNSUPPORTED(env, "bpf-to-bpf calls not supported yet");
		break;
	case BEE_SH_CALL_KFUNC:
		err = UNSUPPORTED(env, "kfunc calls not supported yet");
		break;
	case BEE_SH_EXIT:
		err = do_exit(env, st);
		*out = STEP_END;
		break;
	default:
		err = verr(env, -EFAULT, "bee verifier: internal error (shape %u)", shape);
		break;
	}
	return err;
}

static int explore(struct venv *env, struct worklist *w)
{
	while (w->n) {
		struct vstate *st = w->v[--w->n];
		int err = 0;
		for (;;) {
			if (++env->processed > BEE_VERIFY_INSN_LIMIT) {
				err = verr(env, -E2BIG, "BPF program is too large. Processed %llu insn",
					   (unsigned long long)env->processed);
				break;
			}
			if (st->pc >= env->n) {
				err = verr(env, -EFAULT, "bee verifier: fell off the program at %zu",
					   st->pc);
				break;
			}
			if (env->prune_point[st->pc]) {
				err = visit_prune_point(env, st);
				if (err == 1) {
					err = 0;
					break;
				}
				if (err)
					break;
			}
			size_t pc = st->pc;
			enum step s;
			err = step(env, st, w, &s);
			if (err) {
				env->fail_insn = (long)pc;
				break;
			}
			if (s == STEP_END)
				break;
		}
		if (err) {
			if (env->fail_insn < 0)
				env->fail_insn = (long)st->pc;
			free(st);
			return err;
		}
		path_end(st);
		free(st);
	}
	return 0;
}

int bee_verify(const struct bpf_insn *insns, size_t n, const struct bee_verify_opts *opts,
	       struct bee_verify_result *res)
{
	struct bee_verify_result dummy;
	if (!res)
		res = &dummy;
	memset(res, 0, sizeof(*res));
	res->insn = -1;
	struct venv env;
	memset(&env, 0, sizeof(env));
	env.insns = insns;
	env.n = n;
	env.opts = opts;
	env.res = res;
	env.fail_insn = -1;
	if (opts && opts->log_buf && opts->log_size && opts->log_level) {
		env.log = opts->log_buf;
		env.log_size = opts->log_size;
		env.log[0] = '\0';
	}
	struct worklist w = {0};
	int err;
	if (!opts || opts->sz < sizeof(*opts) || !opts->prog_type || !insns) {
		err = verr(&env, -EINVAL, "bee verifier: bad options");
		goto done;
	}
	if (n > BEE_VERIFY_INSN_LIMIT) {
		err = verr(&env, -E2BIG, "BPF program is too large. Processed 0 insn");
		goto done;
	}
	env.d = calloc(n ? n : 1, sizeof(*env.d));
	env.prune_point = calloc(n ? n : 1, 1);
	env.at_insn = calloc(n ? n : 1, sizeof(*env.at_insn));
	env.n_at_insn = calloc(n ? n : 1, sizeof(*env.n_at_insn));
	env.visits = calloc(n ? n : 1, sizeof(*env.visits));
	if (!env.d || !env.prune_point || !env.at_insn || !env.n_at_insn || !env.visits) {
		err = verr(&env, -ENOMEM, "out of memory");
		goto done;
	}
	if ((err = vcfg_check(&env)))
		goto done;
	struct vstate *st = malloc(sizeof(*st));
	if (!st) {
		err = verr(&env, -ENOMEM, "out of memory");
		goto done;
	}
	vstate_init(st);
	w.v = malloc(64 * sizeof(*w.v));
	if (!w.v) {
		free(st);
		err = verr(&env, -ENOMEM, "out of memory");
		goto done;
	}
	w.cap = 64;
	w.v[w.n++] = st;
	err = explore(&env, &w);
done:
	for (size_t i = 0; i < w.n; i++)
		free(w.v[i]);
	free(w.v);
	if (env.at_insn)
		for (size_t i = 0; i < n; i++)
			for (struct vcheckpoint *cp = env.at_insn[i], *nx; cp; cp = nx) {
				nx = cp->next_at_insn;
				free(cp);
			}
	vlog_stats(&env);
	res->accepted = err == 0;
	res->err = err;
	snprintf(res->msg, sizeof(res->msg), "%s", env.msg);
	res->insn = err ? env.fail_insn : -1;
	res->processed = env.processed;
	res->total_states = env.total_states;
	res->peak_states = env.peak_states;
	res->max_states_per_insn = env.max_states_per_insn;
	free(env.d);
	free(env.prune_point);
	free(env.at_insn);
	free(env.n_at_insn);
	free(env.visits);
	return err;
}
