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
 * stored there.  Covered by one whose subtree is fully explored (every
 * precise scalar within its range, precise.c; state.c vstate_safe): the
 * path is pruned.  Equal to one that is an ancestor of this path: the
 * abstract execution would repeat forever ("infinite loop detected at insn
 * N").  Loops whose states keep changing (counters) are explored iteration
 * by iteration until they end, or until the 1,000,000 processed
 * instruction limit refuses the program; more than 8,192 branches waiting
 * is "too complex", as in the kernel.  A checkpoint counts the live paths
 * below it (`branches`, as in the kernel), so "fully explored" is known
 * exactly.
 *
 * Calls: a bpf-to-bpf call pushes a frame (its own registers and 512-byte
 * stack; stack pointers name their frame), the exit pops it; after the
 * walk, every chain of calls in the text must fit the 512-byte stack
 * (walk_depth).  A helper that runs a callback (bpf_loop,
 * bpf_for_each_map_elem) queues the path after it and enters the callback,
 * whose exit goes back to the helper call: the callback runs again from
 * the state it left, widened, until the states converge.  References
 * (ring buffer records, sockets) are acquired and released by helpers and
 * must all be released at exit.  Tail calls and legacy packet loads are
 * checked as the kernel checks them.
 *
 * Everything not modelled yet is refused ("bee verifier: ... not supported
 * yet"): kfuncs and BTF-typed pointers, dynptrs and iterators, spin locks,
 * timers, packet metadata, sockets read from contexts (DIFFERENCES.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "verify/vpriv.h"

#define MAX_CHECKPOINTS_PER_INSN 64u
#define MAX_PACKET_OFF 0xffffLL

#define UNSUPPORTED(env, ...) verr(env, -ENOTSUP, "bee verifier: " __VA_ARGS__)

enum step { STEP_NEXT, STEP_END };

struct worklist {
	struct vstate **v;
	size_t n, cap;
};

/* The kernel's BPF_COMPLEXITY_LIMIT_JMP_SEQ: branches waiting to be explored. */
#define MAX_PENDING 8192u

static int push_state(struct venv *env, struct worklist *w, const struct vstate *st)
{
	if (w->n >= MAX_PENDING)
		return verr(env, -E2BIG, "The sequence of %zu jumps is too complex.", w->n + 1);
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct vstate **v = realloc(w->v, cap * sizeof(*v));
		if (!v)
			return verr(env, -ENOMEM, "out of memory");
		w->v = v;
		w->cap = cap;
	}
	struct vstate *c = malloc(sizeof(*c));
	if (!c || vstate_copy(c, st)) {
		free(c);
		return verr(env, -ENOMEM, "out of memory");
	}
	if (c->parent)
		c->parent->branches++;
	c->log_pos = vlog_pos(env);
	w->v[w->n++] = c;
	return 0;
}

static void path_end(struct venv *env, struct vstate *st)
{
	for (struct vcheckpoint *p = st->parent; p; p = p->parent) {
		if (--p->branches)
			break;
		if (p->evicted) {
			/* explored now: it may prune again */
			p->evicted = false;
			p->next_at_insn = env->at_insn[p->st.pc];
			env->at_insn[p->st.pc] = p;
		}
	}
}

/* ---- registers ------------------------------------------------------------ */

static int check_read(struct venv *env, const struct vstate *st, int regno)
{
	if (vcur(st)->regs[regno].type == NOT_INIT)
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

/* What a load of size bytes from memory gives: any number of that size
 * (sign-extended: any number at all). */
static void loaded_scalar(struct vreg *out, unsigned size, bool sext)
{
	if (sext)
		vreg_scalar_unknown(out);
	else
		scalar_of_size(out, size);
}

struct id_arg {
	uint32_t id;
	bool non_null;
};

static void mark_null(struct vreg *r, void *arg)
{
	struct id_arg *a = arg;
	if ((r->type != PTR_TO_MAP_VALUE_OR_NULL && r->type != PTR_TO_MEM_OR_NULL &&
	     r->type != CONST_PTR_TO_MAP_OR_NULL) ||
	    r->id != a->id)
		return;
	if (a->non_null) {
		r->type = r->type == PTR_TO_MAP_VALUE_OR_NULL ? PTR_TO_MAP_VALUE
			  : r->type == PTR_TO_MEM_OR_NULL     ? PTR_TO_MEM
							      : CONST_PTR_TO_MAP;
		r->id = 0;
	} else {
		vreg_scalar_const(r, 0);
	}
}

struct range_arg {
	uint8_t type; /* PTR_TO_PACKET or PTR_TO_PACKET_META */
	uint32_t id, range;
};

static void mark_range(struct vreg *r, void *arg)
{
	struct range_arg *a = arg;
	if (r->type == a->type && r->id == a->id && r->range < a->range)
		r->range = a->range;
}

/* ---- references ------------------------------------------------------------ */

/* A new reference held by the path, acquired at insn. */
static int acquire_ref(struct venv *env, struct vstate *st, size_t insn, uint32_t *id)
{
	if (st->n_refs == VMAX_REFS)
		return UNSUPPORTED(env, "more than %d references held at once not supported yet",
				   VMAX_REFS);
	*id = st->next_id++;
	st->refs[st->n_refs++] = (struct vref){*id, insn, st->cur};
	return 0;
}

static void drop_ref(struct vstate *st, uint32_t id)
{
	for (int i = 0; i < st->n_refs; i++)
		if (st->refs[i].id == id) {
			memmove(&st->refs[i], &st->refs[i + 1],
				(size_t)(st->n_refs - i - 1) * sizeof(st->refs[0]));
			st->n_refs--;
			return;
		}
}

static void invalidate_ref(struct vreg *r, void *arg)
{
	if (r->ref == *(uint32_t *)arg && (r->type == PTR_TO_MEM || r->type == PTR_TO_MEM_OR_NULL))
		vreg_scalar_unknown(r); /* as the kernel does for root: a number now */
}

/* Release reference id: every copy of the pointer becomes a plain number. */
static void release_ref(struct vstate *st, uint32_t id)
{
	drop_ref(st, id);
	vstate_for_each_reg(st, invalidate_ref, &id);
}

/* References still held from frame `from` on: a leak at this exit. */
static int check_leaks(struct venv *env, const struct vstate *st, int from)
{
	for (int i = 0; i < st->n_refs; i++)
		if (st->refs[i].frame >= from)
			return verr(env, -EINVAL, "Unreleased reference id=%u alloc_insn=%zu",
				    st->refs[i].id, st->refs[i].insn);
	return 0;
}

/* ---- pointer arithmetic ----------------------------------------------------- */

static int ptr_add(struct venv *env, struct vstate *st, int regno, struct vreg *p,
		   const struct bee_scalar *s, bool sub)
{
	const char *tn = vreg_type_name(p);
	if (p->type == PTR_TO_MEM && p->memkind == VMEM_SOCK)
		return verr(env, -EACCES, "R%d pointer arithmetic on %s prohibited", regno, tn);
	/* the kernel refuses any subtraction from a stack pointer (even of a
	 * constant: `r1 += -8` is the way) */
	if (sub && p->type == PTR_TO_STACK)
		return verr(env, -EACCES, "R%d subtraction from stack pointer prohibited", regno);
	switch ((enum vtype)p->type) {
	case PTR_TO_MAP_VALUE_OR_NULL:
	case PTR_TO_MEM_OR_NULL:
	case CONST_PTR_TO_MAP_OR_NULL:
		return verr(env, -EACCES, "R%d pointer arithmetic on %s prohibited, null-check it first",
			    regno, tn);
	case CONST_PTR_TO_MAP:
	case PTR_TO_PACKET_END:
	case PTR_TO_FUNC:
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
	if (s->smin >= MAX_VAR_OFF || s->smin <= -MAX_VAR_OFF)
		return verr(env, -EACCES, "value %lld makes %s pointer be out of bounds",
			    (long long)s->smin, tn);
	if (sub && p->type == PTR_TO_PACKET)
		return UNSUPPORTED(env, "subtracting a variable from a %s pointer not supported yet",
				   tn);
	struct bee_scalar v = p->var;
	bee_scalar_alu_insn(&v, sub ? BEE_OP_SUB64_REG : BEE_OP_ADD64_REG, s);
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
	case PTR_TO_PACKET_META:
		/* a data_end (or data) comparison proves a range only if the
		 * offset stays within MAX_PACKET_OFF */
		p->var = v;
		p->id = st->next_id++;
		p->range = 0;
		return 0;
	case PTR_TO_CTX: /* allowed; a dereference is refused (modified ctx) */
		p->var = v;
		return 0;
	case PTR_TO_STACK: /* bounds are checked at each access */
		p->var = v;
		return 0;
	case NOT_INIT:
	case SCALAR:
	case CONST_PTR_TO_MAP:
	case PTR_TO_MAP_VALUE_OR_NULL:
	case PTR_TO_PACKET_END:
	case PTR_TO_MEM:
	case PTR_TO_MEM_OR_NULL:
	case PTR_TO_FUNC:
	case CONST_PTR_TO_MAP_OR_NULL:
		break;
	}
	return UNSUPPORTED(env, "variable offsets on %s pointers not supported yet", tn);
}

/* The kernel's spelling of an ALU operation in its messages ("&=", "s>>="). */
static const char *op_str(const char *mn)
{
	static const struct {
		const char *prefix, *op;
	} ops[] = {
		{"add", "+="}, {"sub", "-="}, {"mul", "*="}, {"sdiv", "s/="}, {"div", "/="},
		{"smod", "s%="}, {"mod", "%="}, {"or", "|="}, {"and", "&="}, {"xor", "^="},
		{"lsh", "<<="}, {"rsh", ">>="}, {"arsh", "s>>="},
	};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strncmp(mn, ops[i].prefix, strlen(ops[i].prefix)) == 0)
			return ops[i].op;
	return mn;
}

static int do_alu(struct venv *env, struct vstate *st, const struct bee_dinsn *d)
{
	unsigned shape = bee_op_info[d->op].shape;
	enum bee_op op = (enum bee_op)d->op;
	bool is32 = bee_op_is_32bit(op);
	bool reg_src = shape == BEE_SH_ALU_REG || shape == BEE_SH_MOVSX;
	const char *mn = bee_op_info[d->op].mnemonic;
	bool is_mov = strncmp(mn, "mov", 3) == 0;
	struct vreg *dst = &vcur(st)->regs[d->dst];
	struct vreg src;
	int err;
	if (reg_src) {
		if ((err = check_read(env, st, d->src)))
			return err;
		src = vcur(st)->regs[d->src];
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
	if ((dptr && (shape == BEE_SH_NEG || shape == BEE_SH_END)) ||
	    (sptr && shape == BEE_SH_MOVSX)) {
		/* Root may turn a pointer into a number (the kernel's
		 * allow_ptr_leaks): the result is any scalar. */
		vreg_scalar_unknown(dst);
		if (is32)
			bee_scalar_trunc(&dst->var, 32);
		return 0;
	}
	if (dptr || sptr) {
		if (shape != BEE_SH_ALU_IMM && shape != BEE_SH_ALU_REG)
			return verr(env, -EACCES, "R%d pointer arithmetic with %s prohibited", d->dst,
				    mn);
		const char *os = op_str(mn);
		bool bitwise = os[0] == '&' || os[0] == '|' || os[0] == '^';
		if (is32)
			return verr(env, -EACCES, "R%d 32-bit pointer arithmetic prohibited", d->dst);
		bool add = op == BEE_OP_ADD64_IMM || op == BEE_OP_ADD64_REG;
		bool sub = op == BEE_OP_SUB64_IMM || op == BEE_OP_SUB64_REG;
		if (dptr && sptr) {
			if (sub) { /* a distance (or, for root, a leak): a number */
				vreg_scalar_unknown(dst);
				return 0;
			}
			return verr(env, -EACCES, "R%d pointer %s pointer prohibited", d->dst, os);
		}
		if (bitwise)
			return verr(env, -EACCES, "R%d bitwise operator %s on pointer prohibited", d->dst,
				    os);
		if (!add && !sub)
			return verr(env, -EACCES, "R%d pointer arithmetic with %s operator prohibited",
				    d->dst, os);
		/* the number added to a pointer: its range is checked */
		vmark_precise(env, st, dptr ? (reg_src ? d->src : -1) : d->dst);
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

/* Is var + c a multiple of size for every value var may take? */
static bool tnum_aligned(struct bee_tnum var, int64_t c, uint64_t size)
{
	return bee_tnum_is_aligned(bee_tnum_add(var, bee_tnum_const((uint64_t)c)), size);
}

/* strict: the access must be aligned (BPF_F_STRICT_ALIGNMENT, or an atomic:
 * the kernel requires atomics aligned always). */
enum { ACC_READ = 1, ACC_WRITE = 2 };

static int check_map_value(struct venv *env, int regno, const struct vreg *r, int64_t insn_off,
			   uint64_t size, bool strict, unsigned acc)
{
	const struct bee_verify_map *m = &env->maps[r->map];
	uint32_t vs = m->value_size;
	if (strict && size > 1 && !tnum_aligned(r->var.var_off, (int64_t)r->off + insn_off, size))
		return verr(env, -EACCES, "misaligned value access off 0+%d+%lld size %llu", r->off,
			    (long long)insn_off, (unsigned long long)size);
	if ((acc & ACC_WRITE) && ((m->map_flags & BPF_F_RDONLY_PROG) || m->rdonly_data))
		return verr(env, -EACCES, "write into map forbidden, value_size=%u off=%lld size=%llu",
			    vs, (long long)(r->off + insn_off), (unsigned long long)size);
	if ((acc & ACC_READ) && (m->map_flags & BPF_F_WRONLY_PROG))
		return verr(env, -EACCES, "read from map forbidden, value_size=%u off=%lld size=%llu",
			    vs, (long long)(r->off + insn_off), (unsigned long long)size);
	/* As the kernel's check_mem_region_access: the lowest and the highest
	 * offset the variable part allows must both be inside the value. */
	int64_t off = (int64_t)r->off + insn_off;
	const struct bee_scalar *v = &r->var;
	if (v->smin < 0 &&
	    (v->smin == INT64_MIN || off + v->smin != (int32_t)(off + v->smin) || v->smin + off < 0))
		return verr(env, -EACCES,
			    "R%d min value is negative, either use unsigned index or do a if (index "
			    ">=0) check.",
			    regno);
	if (v->smin + off < 0 || v->smin + off + (int64_t)size > (int64_t)vs) {
		int err = verr(env, -EACCES,
			       "invalid access to map value, value_size=%u off=%lld size=%llu", vs,
			       (long long)(v->smin + off), (unsigned long long)size);
		vlog(env, "R%d min value is outside of the allowed memory range\n", regno);
		return err;
	}
	if (v->umax >= (uint64_t)MAX_VAR_OFF)
		return verr(env, -EACCES,
			    "R%d unbounded memory access, make sure to bounds check any such access",
			    regno);
	if ((int64_t)v->umax + off < 0 || (int64_t)v->umax + off + (int64_t)size > (int64_t)vs) {
		int err = verr(env, -EACCES,
			       "invalid access to map value, value_size=%u off=%lld size=%llu", vs,
			       (long long)((int64_t)v->umax + off), (unsigned long long)size);
		vlog(env, "R%d max value is outside of the allowed memory range\n", regno);
		return err;
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
		return verr(env, -EACCES, "invalid access to packet, off=%lld size=%llu, R%d(id=%u,off=%lld,r=%u)",
			    (long long)a, (unsigned long long)size, regno, r->id, (long long)a, r->range);
	return 0;
}

static int check_mem_region(struct venv *env, int regno, const struct vreg *r, int64_t insn_off,
			    uint64_t size, bool write)
{
	if (write && r->memkind == VMEM_MAP_KEY)
		return verr(env, -EACCES, "write to change key R%d not allowed", regno);
	if (r->memkind == VMEM_SOCK) {
		int64_t a = (int64_t)r->off + insn_off;
		if (write)
			return verr(env, -EACCES, "cannot write into sock");
		/* struct bpf_sock: bee allows its aligned 32-bit fields only. */
		if (size != 4 || a < 0 || a % 4 || a + 4 > (int64_t)sizeof(struct bpf_sock) ||
		    !bee_scalar_is_const(&r->var) || r->var.var_off.value)
			return verr(env, -EACCES, "R%d invalid sock access off=%lld size=%llu", regno,
				    (long long)a, (unsigned long long)size);
		return 0;
	}
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
	const struct vreg *r = &vcur(st)->regs[regno];
	bool write = val != NULL;
	const char *tn = vreg_type_name(r);
	/* A pointer stored into a map value, a record or the packet is a
	 * number there (root's allow_ptr_leaks); into the context, not yet. */
	if (write && vreg_is_ptr(val) && r->type == PTR_TO_CTX)
		return UNSUPPORTED(env, "storing a pointer into the context not supported yet");
	switch ((enum vtype)r->type) {
	case NOT_INIT:
	case SCALAR:
	case PTR_TO_MAP_VALUE_OR_NULL:
	case PTR_TO_MEM_OR_NULL:
	case CONST_PTR_TO_MAP:
	case CONST_PTR_TO_MAP_OR_NULL:
	case PTR_TO_PACKET_END:
	case PTR_TO_FUNC:
		return verr(env, -EACCES, "R%d invalid mem access '%s'", regno, tn);
	case PTR_TO_CTX: {
		if (!bee_scalar_is_const(&r->var)) {
			char buf[64];
			bee_tnum_strn(buf, sizeof(buf), r->var.var_off);
			return verr(env, -EACCES, "variable ctx access var_off=%s disallowed", buf);
		}
		if (r->off || r->var.var_off.value)
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
		if (!bee_scalar_is_const(&r->var) || r->var.var_off.value) {
			/* the kernel aligns stack accesses always */
			if (size > 1 && !tnum_aligned(r->var.var_off, (int64_t)r->off + insn_off, size)) {
				char buf[64];
				bee_tnum_strn(buf, sizeof(buf), r->var.var_off);
				return verr(env, -EACCES, "misaligned stack access off %s+%d+%d size %u",
					    buf, r->off, insn_off, size);
			}
			if ((err = vstack_var_access(env, st, r->frameno, regno,
						     (int64_t)r->off + insn_off, &r->var, size,
						     write)))
				return err;
			if (!write)
				loaded_scalar(out, size, sext);
			return 0;
		}
		int at = r->off + insn_off;
		if (write)
			return vstack_write(env, st, r->frameno, regno, at, size, val);
		if ((err = vstack_read(env, st, r->frameno, regno, at, size, out)))
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
	case PTR_TO_MAP_VALUE: {
		if ((err = check_map_value(env, regno, r, insn_off, size,
					   env->opts->strict_alignment, write ? ACC_WRITE : ACC_READ)))
			return err;
		const uint8_t *ro = env->maps[r->map].rdonly_data;
		if (ro && bee_scalar_is_const(&r->var)) {
			/* a frozen read-only map: the bytes are known (little-endian) */
			uint64_t v = 0;
			int64_t at = (int64_t)r->off + insn_off + (int64_t)r->var.var_off.value;
			for (unsigned k = 0; k < size; k++)
				v |= (uint64_t)ro[at + k] << (8 * k);
			if (sext && size < 8) {
				unsigned sh = 64 - 8 * size;
				v = (uint64_t)((int64_t)(v << sh) >> sh);
			}
			vreg_scalar_const(out, v);
			return 0;
		}
		break;
	}
	case PTR_TO_PACKET:
	case PTR_TO_PACKET_META:
		if ((err = check_packet(env, regno, r, insn_off, size, write)))
			return err;
		break;
	case PTR_TO_MEM:
		if ((err = check_mem_region(env, regno, r, insn_off, size, write)))
			return err;
		break;
	}
	if (!write)
		loaded_scalar(out, size, sext);
	return 0;
}

static int do_atomic(struct venv *env, struct vstate *st, const struct bee_dinsn *d)
{
	int err;
	unsigned size = bee_op_access_size((enum bee_op)d->op);
	if ((err = check_read(env, st, d->src)) || (err = check_read(env, st, d->dst)))
		return err;
	const struct vreg *base = &vcur(st)->regs[d->dst];
	/* A pointer operand becomes a number in memory (root's allow_ptr_leaks). */
	if (base->type == PTR_TO_STACK && bee_scalar_is_const(&base->var) &&
	    !base->var.var_off.value) {
		if ((err = vstack_atomic(env, st, base->frameno, d->dst, base->off + d->off, size)))
			return err;
	} else if (base->type == PTR_TO_MAP_VALUE) {
		if ((err = check_map_value(env, d->dst, base, d->off, size, true,
					   ACC_READ | ACC_WRITE)))
			return err;
	} else if (base->type == PTR_TO_CTX || base->type == PTR_TO_PACKET ||
		   base->type == PTR_TO_PACKET_META) {
		return verr(env, -EACCES, "BPF_ATOMIC stores into R%d %s is not allowed", d->dst,
			    vreg_type_name(base));
	} else {
		return UNSUPPORTED(env, "atomic operations on %s not supported yet",
				   vreg_type_name(base));
	}
	bool cmpxchg = d->imm == BPF_CMPXCHG;
	if (cmpxchg) {
		if ((err = check_read(env, st, 0)))
			return err;
		scalar_of_size(&vcur(st)->regs[0], size);
	} else if (d->imm & BPF_FETCH) {
		scalar_of_size(&vcur(st)->regs[d->src], size);
	}
	return 0;
}

/* ---- maps and helpers ------------------------------------------------------- */

/* The maps a sleepable program may use (the kernel's
 * check_map_prog_compatibility). */
static bool sleepable_map_ok(uint32_t t)
{
	switch (t) {
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
	case BPF_MAP_TYPE_ARRAY_OF_MAPS:
	case BPF_MAP_TYPE_HASH_OF_MAPS:
	case BPF_MAP_TYPE_RINGBUF:
	case BPF_MAP_TYPE_USER_RINGBUF:
	case BPF_MAP_TYPE_INODE_STORAGE:
	case BPF_MAP_TYPE_SK_STORAGE:
	case BPF_MAP_TYPE_TASK_STORAGE:
	case BPF_MAP_TYPE_QUEUE:
	case BPF_MAP_TYPE_STACK:
		return true;
	default:
		return false;
	}
}

static int resolve_map(struct venv *env, const struct bee_dinsn *d, int *idx)
{
	struct bee_verify_map m;
	bool by_idx = d->op == BEE_OP_LDDW_MAP_IDX || d->op == BEE_OP_LDDW_MAP_IDX_VALUE;
	if (by_idx && env->opts->maps) {
		if (d->imm < 0 || (size_t)d->imm >= env->opts->n_maps)
			return verr(env, -EINVAL, "fd_array[%d] is not a map", d->imm);
		m = env->opts->maps[d->imm];
	} else {
		if (!env->opts->map_lookup)
			return verr(env, -EBADF, "fd %d is not pointing to valid bpf_map", d->imm);
		int err = env->opts->map_lookup(env->opts->user, d->src, d->imm, &m);
		if (err < 0)
			return verr(env, err, "fd %d is not pointing to valid bpf_map", d->imm);
	}
	/* One index per distinct map reference, however often it is loaded
	 * (clang reloads `r1 = map ll` before every call). */
	for (size_t i = 0; i < env->n_maps; i++)
		if (env->map_ref[i].by_idx == by_idx && env->map_ref[i].imm == d->imm) {
			*idx = (int)i;
			return 0;
		}
	if (env->n_maps == VMAX_MAPS)
		return UNSUPPORTED(env, "more than %d maps not supported yet", VMAX_MAPS);
	if ((env->opts->prog_type->flags & BEE_PT_SLEEPABLE_ONLY) && !sleepable_map_ok(m.type))
		return verr(env, -EINVAL,
			    "Sleepable programs can only use array, hash, ringbuf and local storage "
			    "maps");
	env->maps[env->n_maps] = m;
	env->map_ref[env->n_maps].by_idx = by_idx;
	env->map_ref[env->n_maps].imm = d->imm;
	*idx = (int)env->n_maps++;
	return 0;
}

/* The env->maps index standing for the inner maps of map-of-maps outer. */
static int inner_map(struct venv *env, int outer, int32_t *idx)
{
	const struct bee_verify_map *o = &env->maps[outer];
	if (!o->inner_type)
		return UNSUPPORTED(env, "a map of maps without its inner map's shape not "
					"supported yet");
	for (size_t i = 0; i < env->n_maps; i++)
		if (!env->map_ref[i].by_idx && env->map_ref[i].imm == -1 - outer) {
			*idx = (int32_t)i;
			return 0;
		}
	if (env->n_maps == VMAX_MAPS)
		return UNSUPPORTED(env, "more than %d maps not supported yet", VMAX_MAPS);
	env->maps[env->n_maps] = (struct bee_verify_map){.type = o->inner_type,
							 .key_size = o->inner_key_size,
							 .value_size = o->inner_value_size,
							 .max_entries = o->inner_max_entries};
	env->map_ref[env->n_maps].by_idx = false;
	env->map_ref[env->n_maps].imm = -1 - outer; /* no lddw has a negative handle */
	*idx = (int32_t)env->n_maps++;
	return 0;
}

static bool map_helper_ok(int32_t func, uint32_t mt, bool *known)
{
	*known = true;
	bool kv = mt == BPF_MAP_TYPE_HASH || mt == BPF_MAP_TYPE_ARRAY ||
		  mt == BPF_MAP_TYPE_PERCPU_HASH || mt == BPF_MAP_TYPE_PERCPU_ARRAY ||
		  mt == BPF_MAP_TYPE_LRU_HASH || mt == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	bool of_maps = mt == BPF_MAP_TYPE_ARRAY_OF_MAPS || mt == BPF_MAP_TYPE_HASH_OF_MAPS;
	switch (func) {
	case BPF_FUNC_map_lookup_elem:
		return kv || of_maps || mt == BPF_MAP_TYPE_LPM_TRIE;
	case BPF_FUNC_map_update_elem:
	case BPF_FUNC_map_delete_elem:
		return kv || mt == BPF_MAP_TYPE_LPM_TRIE;
	case BPF_FUNC_for_each_map_elem:
		return kv;
	case BPF_FUNC_map_push_elem:
	case BPF_FUNC_map_peek_elem:
		return mt == BPF_MAP_TYPE_QUEUE || mt == BPF_MAP_TYPE_STACK ||
		       mt == BPF_MAP_TYPE_BLOOM_FILTER;
	case BPF_FUNC_map_pop_elem:
		return mt == BPF_MAP_TYPE_QUEUE || mt == BPF_MAP_TYPE_STACK;
	case BPF_FUNC_map_lookup_percpu_elem:
		return mt == BPF_MAP_TYPE_PERCPU_HASH || mt == BPF_MAP_TYPE_PERCPU_ARRAY ||
		       mt == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	case BPF_FUNC_ringbuf_output:
	case BPF_FUNC_ringbuf_query:
	case BPF_FUNC_ringbuf_reserve:
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
	const struct vreg *r = &vcur(st)->regs[regno];
	switch ((enum vtype)r->type) {
	case PTR_TO_STACK:
		if (!bee_scalar_is_const(&r->var) || r->var.var_off.value)
			return vstack_var_access(env, st, r->frameno, regno, r->off, &r->var, size,
						 write);
		return vstack_helper_access(env, st, r->frameno, regno, r->off, size, write);
	case PTR_TO_MAP_VALUE:
		return check_map_value(env, regno, r, 0, size, env->opts->strict_alignment,
				       write ? ACC_WRITE : ACC_READ);
	case PTR_TO_PACKET:
	case PTR_TO_PACKET_META:
		return check_packet(env, regno, r, 0, size, write);
	case PTR_TO_MEM:
		return check_mem_region(env, regno, r, 0, size, write);
	case NOT_INIT:
	case SCALAR:
	case PTR_TO_CTX:
	case CONST_PTR_TO_MAP:
	case PTR_TO_MAP_VALUE_OR_NULL:
	case PTR_TO_PACKET_END:
	case PTR_TO_MEM_OR_NULL:
	case PTR_TO_FUNC:
	case CONST_PTR_TO_MAP_OR_NULL:
		break;
	}
	return verr(env, -EACCES,
		    "R%d type=%s expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, "
		    "buf, trusted_ptr_",
		    regno,
		    vreg_type_name(r));
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
		BPF_FUNC_perf_event_output, BPF_FUNC_ringbuf_query, BPF_FUNC_skb_load_bytes,
		BPF_FUNC_skb_load_bytes_relative,
	};
	if (noarg_helper(id))
		return true;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (ok[i] == id)
			return true;
	return false;
}

/* Helpers whose kernel prototype has pkt_access: only they may take a
 * packet pointer in an argument other than ARG_ANYTHING (check_func_arg,
 * may_access_direct_pkt_data; observed on 6.18: the map lookup, update,
 * delete, push and per-CPU lookup, not pop, peek, outputs, printk, strings
 * or the skb byte helpers, whose source or destination may not be the
 * packet itself). */
static bool pkt_access_helper(int32_t id)
{
	static const int32_t ok[] = {
		BPF_FUNC_map_lookup_elem, BPF_FUNC_map_update_elem, BPF_FUNC_map_delete_elem,
		BPF_FUNC_map_push_elem, BPF_FUNC_map_lookup_percpu_elem,
	};
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

/* R0 out of the range an exit allows, in the kernel's words. */
static int invalid_scalar(struct venv *env, const char *where, const struct bee_scalar *v,
			  int64_t lo, int64_t hi)
{
	char buf[96] = "";
	size_t len = 0;
	if (v->smin > INT64_MIN)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, " smin=%lld",
					(long long)v->smin);
	if (v->smax < INT64_MAX)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, " smax=%lld",
					(long long)v->smax);
	return verr(env, -EINVAL, "%s the register R0 has%s should have been in [%lld, %lld]", where,
		    len ? buf : " unknown scalar value", (long long)lo, (long long)hi);
}

/* ---- bpf-to-bpf calls and callbacks ------------------------------------------ */

/* After a helper call: r1-r5 unreadable (caller-saved). */
static void clobber_args(struct vstate *st)
{
	for (int i = 1; i <= 5; i++)
		vreg_init(&vcur(st)->regs[i]);
}


/* A new frame for subprogram entry at target, called from st->pc. */
static int push_frame(struct venv *env, struct vstate *st, size_t target, int32_t cb_helper,
		      struct vframe **out)
{
	if (st->cur + 1 >= VMAX_FRAMES)
		return verr(env, -E2BIG, "the call stack of %d frames is too deep", st->cur + 2);
	struct vframe *f = vframe_new();
	if (!f)
		return verr(env, -ENOMEM, "out of memory");
	f->callsite = st->pc;
	f->subprog = env->subprog_of[target];
	f->cb_helper = cb_helper;
	f->regs[10].type = PTR_TO_STACK;
	f->regs[10].frameno = (uint8_t)(st->cur + 1);
	st->frame[++st->cur] = f;
	*out = f;
	return 0;
}

/* call pc+1+imm: the callee gets r1-r5, the caller loses r0-r5. */
static int do_local_call(struct venv *env, struct vstate *st, const struct bee_dinsn *d)
{
	size_t target = (size_t)bee_jump_target(d, st->pc);
	struct vframe *caller = vcur(st), *f = NULL;
	int err = push_frame(env, st, target, -1, &f);
	if (err)
		return err;
	for (int i = 0; i <= 5; i++) {
		if (i)
			f->regs[i] = caller->regs[i];
		vreg_init(&caller->regs[i]);
	}
	st->pc = target;
	return 0;
}

/* exit from a frame > 0: back to the caller (or, for a callback, to the
 * helper call that runs it, which may run it again). */
static int do_return(struct venv *env, struct vstate *st)
{
	struct vframe *callee = vcur(st), *caller = st->frame[st->cur - 1];
	struct vreg *r0 = &callee->regs[0];
	int err;
	if (callee->cb_helper >= 0) {
		if (r0->type != SCALAR)
			return verr(env, -EACCES, "R0 not a scalar value");
		vmark_precise(env, st, 0);
		if (r0->var.smin < 0 || r0->var.smax > 1)
			return invalid_scalar(env, "At callback return", &r0->var, 0, 1);
		if ((err = check_leaks(env, st, st->cur)))
			return err;
		st->pc = callee->callsite;
		st->cb_reentry = true;
		st->cb_runs++;
	} else {
		if ((err = check_read(env, st, 0)))
			return err;
		if (r0->type == PTR_TO_STACK)
			return verr(env, -EINVAL, "cannot return stack pointer to the caller");
		caller->regs[0] = *r0;
		st->pc = callee->callsite + 1;
	}
	free(callee);
	st->frame[st->cur--] = NULL;
	return 0;
}

struct callback {
	int32_t subprog; /* the callback, or -1 */
	int ctx_reg;     /* the register holding its context argument, or -1 */
};

/*
 * A helper that calls back into the program (bpf_loop,
 * bpf_for_each_map_elem) any number of times, as the kernel models it:
 * the path after the helper (zero or more calls done) is queued, and this
 * path enters the callback; the callback's exit comes back to the helper
 * call, which may run it again.  visit_prune_point widens the state at
 * that re-entry so the iteration converges.
 */
static int enter_callback(struct venv *env, struct vstate *st, struct worklist *w, int32_t helper,
			  int map, const struct callback *cb)
{
	if (helper != BPF_FUNC_loop && helper != BPF_FUNC_for_each_map_elem)
		return UNSUPPORTED(env, "callbacks of helper %d not supported yet", helper);
	struct vframe *caller = vcur(st);
	struct vreg ctx;
	if (cb->ctx_reg >= 0)
		ctx = caller->regs[cb->ctx_reg];
	else
		vreg_scalar_const(&ctx, 0);
	/* The path after the helper. */
	struct vstate *after = malloc(sizeof(*after));
	if (!after || vstate_copy(after, st)) {
		free(after);
		return verr(env, -ENOMEM, "out of memory");
	}
	clobber_args(after);
	vreg_scalar_unknown(&vcur(after)->regs[0]);
	after->pc = st->pc + 1;
	after->from_pc = st->pc;
	after->cb_reentry = false;
	int err = push_state(env, w, after);
	vstate_release(after);
	free(after);
	if (err)
		return err;
	/* This path: into the callback. */
	size_t entry = env->sub[cb->subprog].start;
	struct vframe *f = NULL;
	if ((err = push_frame(env, st, entry, helper, &f)))
		return err;
	if (helper == BPF_FUNC_loop) {
		vreg_scalar_unknown(&f->regs[1]); /* the index */
		f->regs[2] = ctx;
	} else { /* for_each_map_elem: (map, key, value, ctx) */
		vreg_init(&f->regs[1]);
		f->regs[1].type = CONST_PTR_TO_MAP;
		f->regs[1].map = map;
		vreg_init(&f->regs[2]);
		f->regs[2].type = PTR_TO_MEM;
		f->regs[2].memkind = VMEM_MAP_KEY;
		f->regs[2].mem_size = env->maps[map].key_size;
		vreg_init(&f->regs[3]);
		f->regs[3].type = PTR_TO_MAP_VALUE;
		f->regs[3].map = map;
		f->regs[4] = ctx;
	}
	st->pc = entry;
	st->entered = true;
	return 0;
}

/* Legacy packet loads: r6 the skb, r0 the bytes, r1-r5 clobbered. */
static int do_ld_abs(struct venv *env, struct vstate *st, const struct bee_dinsn *d, bool ind)
{
	int err;
	if (!(env->opts->prog_type->flags & BEE_PT_LD_ABS))
		return verr(env, -EINVAL,
			    "BPF_LD_[ABS|IND] instructions not allowed for this program type");
	if (st->n_refs)
		return verr(env, -EINVAL, "BPF_LD_[ABS|IND] cannot be mixed with socket references");
	if ((err = check_read(env, st, 6)))
		return err;
	if (vcur(st)->regs[6].type != PTR_TO_CTX)
		return verr(env, -EINVAL, "at the time of BPF_LD_ABS|IND R6 != pointer to skb");
	if (ind && (err = check_read(env, st, d->src)))
		return err;
	if (ind && vcur(st)->regs[d->src].type != SCALAR)
		return verr(env, -EACCES, "R%d type=%s expected=scalar", d->src,
			    vreg_type_name(&vcur(st)->regs[d->src]));
	clobber_args(st);
	scalar_of_size(&vcur(st)->regs[0], bee_op_access_size((enum bee_op)d->op));
	return 0;
}

/* bpf_tail_call(ctx, prog_array, index): on success the program is
 * replaced, on failure execution goes on with r0 undefined. */
static int do_tail_call(struct venv *env, struct vstate *st)
{
	struct vframe *f = vcur(st);
	int err;
	for (int i = 1; i <= 3; i++)
		if ((err = check_read(env, st, i)))
			return err;
	const struct vreg *ctx = &f->regs[1], *m = &f->regs[2];
	if (ctx->type != PTR_TO_CTX || ctx->off || !bee_scalar_is_const(&ctx->var) ||
	    ctx->var.var_off.value)
		return verr(env, -EACCES, "R1 type=%s expected=ctx", vreg_type_name(ctx));
	if (m->type != CONST_PTR_TO_MAP)
		return verr(env, -EACCES, "R2 type=%s expected=map_ptr", vreg_type_name(m));
	if (env->maps[m->map].type != BPF_MAP_TYPE_PROG_ARRAY)
		return verr(env, -EINVAL, "cannot pass map_type %u into func bpf_tail_call#12",
			    env->maps[m->map].type);
	if (f->regs[3].type != SCALAR)
		return verr(env, -EACCES, "R3 type=%s expected=scalar", vreg_type_name(&f->regs[3]));
	uint32_t sp = env->subprog_of[st->pc];
	if (st->n_refs)
		return verr(env, -EINVAL, "tail_call would lead to reference leak");
	env->sub[sp].has_tail_call = true;
	clobber_args(st);
	vreg_init(&f->regs[0]);
	return 0;
}

/* The kernel's prototypes of helpers bee's user-space target does not
 * provide: programs for kernel types verify with them (progtypes.c lists
 * where each is allowed).  The packet helpers are the instance's own
 * (src/platform/pkt.c), found in opts->helpers. */
static const struct bee_helper kernel_only_helpers[] = {
	{BPF_FUNC_send_signal, "bpf_send_signal", NULL, BEE_RET_INTEGER, {BEE_ARG_ANYTHING},
	 false},
	/* sockets: the result is a reference (is_sk_lookup), sk_release takes it back */
	{BPF_FUNC_sk_lookup_tcp, "bpf_sk_lookup_tcp", NULL, BEE_RET_INTEGER,
	 {BEE_ARG_CTX, BEE_ARG_MEM, BEE_ARG_SIZE, BEE_ARG_ANYTHING, BEE_ARG_ANYTHING}, false},
	{BPF_FUNC_sk_lookup_udp, "bpf_sk_lookup_udp", NULL, BEE_RET_INTEGER,
	 {BEE_ARG_CTX, BEE_ARG_MEM, BEE_ARG_SIZE, BEE_ARG_ANYTHING, BEE_ARG_ANYTHING}, false},
	{BPF_FUNC_sk_release, "bpf_sk_release", NULL, BEE_RET_INTEGER, {BEE_ARG_ANYTHING}, false},
};

static bool is_sk_lookup(int32_t id)
{
	return id == BPF_FUNC_sk_lookup_tcp || id == BPF_FUNC_sk_lookup_udp;
}

/* Are the size bytes at the stack pointer r all known zero (a constant key 0)? */
static bool stack_bytes_zero(const struct vstate *st, const struct vreg *r, uint32_t size)
{
	if (r->type != PTR_TO_STACK || !bee_scalar_is_const(&r->var) || r->var.var_off.value ||
	    r->off < -VSTACK || r->off + (int64_t)size > 0)
		return false;
	const struct vframe *f = st->frame[r->frameno];
	for (uint32_t k = 0; k < size; k++)
		if (f->stack[VSTACK + r->off + (int)k] != SLOT_ZERO)
			return false;
	return true;
}

static const struct bee_helper *find_helper(const struct venv *env, int32_t id)
{
	const struct bee_helper *h =
		env->opts->helpers ? bee_helper_table_find(env->opts->helpers, id) : NULL;
	for (size_t i = 0; !h && i < sizeof(kernel_only_helpers) / sizeof(kernel_only_helpers[0]);
	     i++)
		if (kernel_only_helpers[i].id == id)
			h = &kernel_only_helpers[i];
	return h;
}

static int do_helper_call(struct venv *env, struct vstate *st, const struct bee_dinsn *d,
			  struct worklist *w)
{
	int32_t id = d->imm;
	const char *name = id == 0 ? "bpf_unspec" : bee_helper_name(id);
	const struct bee_helper *h = find_helper(env, id);
	if (!name && !h)
		return verr(env, -EINVAL, "invalid func unknown#%d", id);
	if (!name)
		name = h->name;
	if (!bee_prog_type_helper_ok(env->opts->prog_type, id))
		return verr(env, -EINVAL, "program of this type cannot use helper %s#%d", name, id);
	if (id == BPF_FUNC_tail_call)
		return do_tail_call(env, st);
	if (!h)
		return UNSUPPORTED(env, "helper %s#%d not supported yet", name, id);
	if (h->args[0] == BEE_ARG_NONE && !noarg_helper(id))
		return UNSUPPORTED(env, "helper %s#%d has no argument prototype: not supported yet",
				   name, id);
	if (h->ret == BEE_RET_TASK)
		return UNSUPPORTED(env, "BTF pointers (%s) not supported yet", name);
	int map = -1, err;
	uint64_t alloc_size = 0;
	uint32_t release = 0;
	struct callback cb = {-1, -1};
	for (int i = 0; i < 5 && h->args[i] != BEE_ARG_NONE; i++) {
		int regno = i + 1;
		struct vreg *r = &vcur(st)->regs[regno];
		enum bee_arg a = h->args[i];
		if ((err = check_read(env, st, regno)))
			return err;
		if (a != BEE_ARG_ANYTHING &&
		    (r->type == PTR_TO_PACKET || r->type == PTR_TO_PACKET_META) &&
		    !pkt_access_helper(id))
			return verr(env, -EACCES, "helper access to the packet is not allowed");
		switch (a) {
		case BEE_ARG_NONE:
		case BEE_ARG_ANYTHING:
			break;
		case BEE_ARG_MAP: {
			if (r->type != CONST_PTR_TO_MAP)
				return verr(env, -EACCES, "R%d type=%s expected=map_ptr", regno,
					    vreg_type_name(r));
			map = r->map; /* its type suits the helper: checked after the arguments */
			break;
		}
		case BEE_ARG_MAP_KEY:
		case BEE_ARG_MAP_VALUE:
		case BEE_ARG_MAP_VALUE_OUT:
			if (map < 0)
				return verr(env, -EFAULT, "bee verifier: map argument missing");
			if ((a == BEE_ARG_MAP_KEY ? env->maps[map].key_size
						  : env->maps[map].value_size) == 0)
				return verr(env, -EACCES, "invalid zero-sized read");
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
			const struct vreg *sz = &vcur(st)->regs[regno + 1];
			if ((err = check_read(env, st, regno + 1)))
				return err;
			if (sz->type != SCALAR)
				return verr(env, -EACCES, "R%d type=%s expected=scalar", regno + 1,
					    vreg_type_name(sz));
			vmark_precise(env, st, regno + 1);
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
				vmark_precise(env, st, regno);
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
		case BEE_ARG_SIZE: /* alone: an allocation size (bpf_ringbuf_reserve) */
		case BEE_ARG_SIZE_OR_ZERO:
			vmark_precise(env, st, regno);
			if (r->type != SCALAR || !bee_scalar_is_const(&r->var))
				return verr(env, -EACCES, "R%d is not a known constant'", regno);
			alloc_size = r->var.var_off.value;
			break;
		case BEE_ARG_CTX:
			if (r->type != PTR_TO_CTX || r->off || !bee_scalar_is_const(&r->var) ||
			    r->var.var_off.value)
				return verr(env, -EACCES, "R%d type=%s expected=ctx", regno,
					    vreg_type_name(r));
			break;
		case BEE_ARG_LONG_OUT:
			if ((err = check_helper_mem(env, st, regno, 8, true)))
				return err;
			if (r->type == PTR_TO_STACK && r->off % 8)
				return verr(env, -EACCES, "misaligned stack access off 0+%d+0 size 8",
					    r->off);
			break;
		case BEE_ARG_CONST_STR:
			return UNSUPPORTED(env, "constant string arguments (%s) not supported yet", name);
		case BEE_ARG_FUNC:
			if (r->type != PTR_TO_FUNC)
				return verr(env, -EACCES, "R%d type=%s expected=func", regno,
					    vreg_type_name(r));
			cb.subprog = r->subprog;
			break;
		case BEE_ARG_STACK_OR_NULL:
			vmark_precise(env, st, regno);
			if (r->type == SCALAR && bee_scalar_is_const(&r->var) && !r->var.var_off.value)
				break;
			if (r->type != PTR_TO_STACK)
				return verr(env, -EACCES, "R%d type=%s expected=fp", regno,
					    vreg_type_name(r));
			cb.ctx_reg = regno;
			break;
		case BEE_ARG_RINGBUF_MEM:
			if (r->type != PTR_TO_MEM || !r->ref)
				return verr(env, -EACCES, "R%d type=%s expected=ringbuf_mem", regno,
					    vreg_type_name(r));
			if (r->off || !bee_scalar_is_const(&r->var) || r->var.var_off.value)
				return verr(env, -EACCES,
					    "R%d must have zero offset when passed to release func",
					    regno);
			release = r->ref;
			break;
		}
	}
	bool known;
	if (map >= 0 && !map_helper_ok(id, env->maps[map].type, &known)) {
		if (!known)
			return UNSUPPORTED(env, "maps with helper %s not supported yet", name);
		return verr(env, -EINVAL, "cannot pass map_type %u into func %s#%d",
			    env->maps[map].type, name, id);
	}
	if (id == BPF_FUNC_sk_release) {
		const struct vreg *r = &vcur(st)->regs[1];
		if (r->type != PTR_TO_MEM || r->memkind != VMEM_SOCK)
			return verr(env, -EACCES,
				    "R1 type=%s expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, "
				    "trusted_ptr_",
				    vreg_type_name(r));
		release = r->ref;
	}
	/* bpf_map_lookup_elem(array, &0): the kernel knows element 0 exists. */
	bool found = id == BPF_FUNC_map_lookup_elem && map >= 0 &&
		     env->maps[map].type == BPF_MAP_TYPE_ARRAY && env->maps[map].max_entries > 0 &&
		     stack_bytes_zero(st, &vcur(st)->regs[2], env->maps[map].key_size);
	if (cb.subprog >= 0)
		return enter_callback(env, st, w, id, map, &cb);
	if (release)
		release_ref(st, release);
	struct vreg *r0 = &vcur(st)->regs[0];
	switch (h->ret) {
	case BEE_RET_INTEGER:
		vreg_scalar_unknown(r0);
		if (is_sk_lookup(id)) {
			vreg_init(r0);
			r0->type = PTR_TO_MEM_OR_NULL;
			r0->memkind = VMEM_SOCK;
			r0->mem_size = sizeof(struct bpf_sock);
			r0->id = st->next_id++;
			if ((err = acquire_ref(env, st, st->pc, &r0->ref)))
				return err;
		}
		break;
	case BEE_RET_VOID:
		vreg_init(r0);
		break;
	case BEE_RET_MAP_VALUE_OR_NULL:
		if (map < 0)
			return verr(env, -EFAULT, "bee verifier: map argument missing");
		vreg_init(r0);
		r0->type = found ? PTR_TO_MAP_VALUE : PTR_TO_MAP_VALUE_OR_NULL;
		r0->map = map;
		r0->id = found ? 0 : st->next_id++;
		if (env->maps[map].type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
		    env->maps[map].type == BPF_MAP_TYPE_HASH_OF_MAPS) {
			/* the inner map, of the shape the outer one declares */
			r0->type = CONST_PTR_TO_MAP_OR_NULL;
			r0->id = st->next_id++;
			if ((err = inner_map(env, map, &r0->map)))
				return err;
		}
		break;
	case BEE_RET_MEM_OR_NULL:
		vreg_init(r0);
		r0->type = PTR_TO_MEM_OR_NULL;
		r0->mem_size = (uint32_t)alloc_size;
		r0->id = st->next_id++;
		if ((err = acquire_ref(env, st, st->pc, &r0->ref)))
			return err;
		break;
	case BEE_RET_TASK:
		return verr(env, -EFAULT, "bee verifier: internal error (ret)");
	}
	clobber_args(st);
	/* A helper may move or resize the packet (the kernel's
	 * bpf_helper_changes_pkt_data): unless it is known not to, every
	 * packet pointer becomes a plain number. */
	if (!pkt_preserving_helper(id))
		vstate_for_each_reg(st, forget_pkt, NULL);
	return 0;
}

/* ---- jumps ------------------------------------------------------------------- */

/* A pointer and the end of what it points into: packet and data_end, or
 * metadata and data (the metadata ends where the packet starts). */
static bool ends(const struct vreg *p, const struct vreg *end)
{
	return (p->type == PTR_TO_PACKET && end->type == PTR_TO_PACKET_END) ||
	       (p->type == PTR_TO_PACKET_META && end->type == PTR_TO_PACKET);
}

static bool pkt_cmp(enum bee_cond cond, const struct vreg *a, const struct vreg *b, bool *taken_ok,
		    bool *swap)
{
	/* Which edge proves "pkt <= pkt_end"?  a is the packet side after swap. */
	*swap = false;
	if (ends(b, a))
		*swap = true;
	else if (!ends(a, b))
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
	struct vreg a = vcur(st)->regs[d->dst], b;
	if (reg)
		b = vcur(st)->regs[d->src];
	else
		vreg_scalar_const(&b, (uint64_t)(int64_t)d->imm);
	size_t target = (size_t)bee_jump_target(d, st->pc), next = st->pc + 1;
	if (a.type == SCALAR && b.type == SCALAR) {
		/* A branch the values decide: they matter (precise.c). */
		struct bee_scalar t1, t2, t3, t4;
		if (bee_scalar_branch(cond, jmp32, &a.var, &b.var, &t1, &t2, &t3, &t4) !=
		    (BEE_BRANCH_TAKEN | BEE_BRANCH_FALL)) {
			vmark_precise(env, st, d->dst);
			if (reg)
				vmark_precise(env, st, d->src);
		}
	}
	struct vstate *taken = malloc(sizeof(*taken));
	if (!taken || vstate_copy(taken, st)) {
		free(taken);
		return verr(env, -ENOMEM, "out of memory");
	}
	unsigned edges = BEE_BRANCH_TAKEN | BEE_BRANCH_FALL;
	if (a.type == SCALAR && b.type == SCALAR) {
		struct bee_scalar at, bt, af, bf;
		edges = bee_scalar_branch(cond, jmp32, &a.var, &b.var, &at, &bt, &af, &bf);
		vcur(taken)->regs[d->dst].var = at;
		vcur(st)->regs[d->dst].var = af;
		if (reg && d->src != d->dst) {
			vcur(taken)->regs[d->src].var = bt;
			vcur(st)->regs[d->src].var = bf;
		}
	} else if (!jmp32 &&
		   (a.type == PTR_TO_MAP_VALUE_OR_NULL || a.type == PTR_TO_MEM_OR_NULL ||
		    a.type == CONST_PTR_TO_MAP_OR_NULL) &&
		   b.type == SCALAR && bee_scalar_is_const(&b.var) && b.var.var_off.value == 0 &&
		   (cond == BEE_COND_EQ || cond == BEE_COND_NE)) {
		struct id_arg t = {a.id, cond == BEE_COND_NE}, f = {a.id, cond == BEE_COND_EQ};
		vstate_for_each_reg(taken, mark_null, &t);
		vstate_for_each_reg(st, mark_null, &f);
		if (a.ref) /* NULL: nothing was acquired */
			drop_ref(cond == BEE_COND_EQ ? taken : st, a.ref);
	} else if (!jmp32) {
		bool taken_ok, swap;
		if (pkt_cmp(cond, &a, &b, &taken_ok, &swap)) {
			const struct vreg *p = swap ? &b : &a;
			if (p->off > 0 && p->var.umax <= MAX_PACKET_OFF &&
			    p->var.umax + (uint64_t)p->off <= MAX_PACKET_OFF) {
				struct range_arg r = {p->type, p->id, (uint32_t)p->off};
				vstate_for_each_reg(taken_ok ? taken : st, mark_range, &r);
			}
		}
	}
	taken->pc = target;
	taken->from_pc = st->pc;
	st->pc = next;
	if (!(edges & BEE_BRANCH_TAKEN)) {
		vstate_release(taken);
		free(taken);
		return 0;
	}
	if (!(edges & BEE_BRANCH_FALL)) {
		taken->parent = st->parent;
		vstate_release(st);
		*st = *taken; /* the frames move over */
		free(taken);
		return 0;
	}
	err = push_state(env, w, taken);
	vstate_release(taken);
	free(taken);
	return err;
}

static int do_exit(struct venv *env, struct vstate *st)
{
	int err;
	if ((err = check_read(env, st, 0)))
		return err;
	if ((err = check_leaks(env, st, 0)))
		return err;
	const struct vreg *r0 = &vcur(st)->regs[0];
	int64_t lo, hi;
	bool ranged = bee_prog_type_ret_range(env->opts->prog_type, env->opts->expected_attach_type,
					      &lo, &hi);
	if (r0->type != SCALAR && !ranged)
		return 0; /* root may return a pointer where any value goes */
	if (ranged)
		vmark_precise(env, st, 0);
	if (r0->type != SCALAR)
		return verr(env, -EACCES, "At program exit the register R0 is not a known value (%s)",
			    vreg_type_name(r0));
	if (ranged && (r0->var.smin < lo || r0->var.smax > hi))
		return invalid_scalar(env, "At program exit", &r0->var, lo, hi);
	return 0;
}

static int do_lddw(struct venv *env, struct vstate *st, const struct bee_dinsn *d)
{
	struct vreg *dst = &vcur(st)->regs[d->dst];
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
		if (env->maps[idx].type != BPF_MAP_TYPE_ARRAY)
			return verr(env, -EINVAL, "no direct value access support for this map type");
		if (env->maps[idx].max_entries != 1)
			return verr(env, -EACCES,
				    "invalid access to map value pointer, value_size=%u off=%u",
				    env->maps[idx].value_size, off);
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
		if (!env->opts->has_func_info)
			return verr(env, -EINVAL, "missing btf func_info");
		vreg_init(dst);
		dst->type = PTR_TO_FUNC;
		dst->subprog = (int32_t)env->subprog_of[st->pc + 1 + (size_t)d->imm];
		return 0;
	default:
		return UNSUPPORTED(env, "BTF object references (lddw btf_id) not supported yet");
	}
}

/* ---- the walk ----------------------------------------------------------------- */

static uint32_t round_up16(uint32_t v)
{
	return (v + 15) & ~15u;
}

/*
 * After exploration, as the kernel's check_max_stack_depth: along every
 * chain of calls (and callbacks) in the program's text, the frames' stack
 * depths (each rounded up to 16 bytes) add up to 512 at most, a chain has
 * at most 8 frames, and a subprogram that tail-calls runs on less than 256
 * bytes of its callers' frames.
 */
static int walk_depth(struct venv *env, uint32_t sp, int frame, uint32_t depth, uint64_t *budget)
{
	const struct vsubprog *s = &env->sub[sp];
	if (frame >= VMAX_FRAMES)
		return verr(env, -E2BIG, "the call stack of %d frames is too deep !", frame + 1);
	if (++*budget > BEE_VERIFY_INSN_LIMIT)
		return verr(env, -E2BIG, "bee verifier: call graph too large to check stack depth");
	if (sp && s->has_tail_call && depth >= 256)
		return verr(env, -EACCES,
			    "tail_calls are not allowed when call stack of previous frames is %u "
			    "bytes. Too large",
			    depth);
	depth += round_up16(s->stack_depth);
	if (depth > VSTACK)
		return verr(env, -EACCES, "combined stack size of %d calls is %u. Too large",
			    frame + 1, depth);
	for (size_t pc = s->start; pc < s->end; pc++) {
		const struct bee_dinsn *d = &env->d[pc];
		long t;
		if (bee_op_info[d->op].shape == BEE_SH_CALL_LOCAL)
			t = bee_jump_target(d, pc);
		else if (d->op == BEE_OP_LDDW_FUNC)
			t = (long)pc + 1 + d->imm;
		else
			continue;
		int err = walk_depth(env, env->subprog_of[t], frame + 1, depth, budget);
		if (err)
			return err;
	}
	return 0;
}

/*
 * The checkpoints of the path being explored, by depth (env->anc), so that
 * "is this checkpoint above the current state?" is one comparison: long
 * paths make long chains, and the question is asked at every prune point.
 * When a queued path is taken up, only the part of its chain that differs
 * from the previous path's is written (they share their beginning).
 */
static int set_path(struct venv *env, const struct vcheckpoint *top)
{
	env->anc_len = top ? top->depth + 1 : 0;
	for (const struct vcheckpoint *p = top; p; p = p->parent) {
		if (p->depth >= env->anc_cap) {
			uint32_t cap = env->anc_cap ? env->anc_cap * 2 : 256;
			while (cap <= p->depth)
				cap *= 2;
			const struct vcheckpoint **a = realloc(env->anc, cap * sizeof(*a));
			if (!a)
				return verr(env, -ENOMEM, "out of memory");
			memset(a + env->anc_cap, 0, (cap - env->anc_cap) * sizeof(*a));
			env->anc = a;
			env->anc_cap = cap;
		} else if (env->anc[p->depth] == p) {
			break; /* the rest of the chain is already there */
		}
		env->anc[p->depth] = p;
	}
	return 0;
}

static bool is_ancestor(const struct venv *env, const struct vcheckpoint *cp)
{
	return cp->depth < env->anc_len && env->anc[cp->depth] == cp;
}

static void widen_reg(struct vreg *now, const struct vreg *before)
{
	if (now->type == SCALAR && before->type == SCALAR && !vreg_equal(now, before))
		vreg_scalar_unknown(now);
}

/*
 * A callback's next run starts from the state its last run left: where
 * that differs from the previous run's start only in scalar values (a
 * counter in the caller's stack), the values become unknown, so the
 * iteration reaches a fixed point in a few rounds (the kernel widens its
 * imprecise scalars the same way).  Over-approximating is sound.
 */
static void widen(struct vstate *st, const struct vstate *before)
{
	if (before->cur != st->cur)
		return;
	for (int k = 0; k <= st->cur; k++) {
		struct vframe *f = st->frame[k];
		const struct vframe *b = before->frame[k];
		for (int i = 0; i < 11; i++)
			widen_reg(&f->regs[i], &b->regs[i]);
		for (int i = 0; i < VSTACK; i++)
			if (f->stack[i] != b->stack[i] &&
			    (f->stack[i] == SLOT_ZERO || f->stack[i] == SLOT_MISC) &&
			    (b->stack[i] == SLOT_ZERO || b->stack[i] == SLOT_MISC))
				f->stack[i] = SLOT_MISC;
		for (int sl = 0; sl < VSLOTS; sl++)
			if (f->stack[sl * 8] == SLOT_SPILL && b->stack[sl * 8] == SLOT_SPILL)
				widen_reg(&f->spills[sl], &b->spills[sl]);
	}
}

/* 1: prune this path; 0: go on; < 0: refused. */
static int visit_prune_point(struct venv *env, struct vstate *st)
{
	size_t pc = st->pc;
	if (st->cb_reentry) {
		/* the callback's previous run started at the last checkpoint
		 * here (not looked for far: widening only speeds convergence) */
		unsigned k = 0;
		for (struct vcheckpoint *p = st->parent; p && k < 256; p = p->parent, k++)
			if (p->st.pc == pc) {
				widen(st, &p->st);
				break;
			}
	}
	/* As the kernel (add_new_state): a new checkpoint only after 2 jumps
	 * and 8 instructions, so short paths between jumps do not each copy
	 * the state; where a callback comes back, always. */
	bool cb_site = bee_op_info[env->d[pc].op].shape == BEE_SH_CALL_HELPER;
	bool add = cb_site || (st->jmps >= 2 && st->n_hist >= 8);
	for (struct vcheckpoint **link = &env->at_insn[pc], *cp; (cp = *link);) {
		bool hit;
		if (cp->branches == 0) {
			/* Explored: it covers this path if every value that
			 * mattered there is at least as narrow here. */
			hit = vstate_safe(&cp->st, st, env->live[pc]);
			if (hit) {
				cp->hit++;
				vpropagate_precision(env, st, &cp->st);
				return 1;
			}
		} else {
			hit = vstate_equal(&cp->st, st) && is_ancestor(env, cp);
		}
		if (!hit) {
			/* A state of this path (a loop's earlier iteration) that
			 * keeps missing is not compared any more (the kernel's
			 * eviction); it lives on as a parent, and comes back
			 * when its paths are all explored (path_end): explored
			 * states are what prunes. */
			if (add && cp->branches && ++cp->miss > cp->hit * 3 + 3) {
				/* (it still counts against the per-insn cap:
				 * memory stays bounded) */
				*link = cp->next_at_insn;
				cp->next_at_insn = NULL;
				cp->evicted = true;
				continue;
			}
			link = &cp->next_at_insn;
			continue;
		}
		/* A cycle through a callback's next run: the runs have
		 * converged, and the helper bounds how many there are.  The
		 * states in between will not learn what the cycle's future
		 * needs precise: they get everything precise. */
		if (cp->st.cb_runs != st->cb_runs) {
			vmark_all_precise(st);
			return 1;
		}
		return verr(env, -EINVAL, "infinite loop detected at insn %zu", pc);
	}
	if (env->n_at_insn[pc] >= MAX_CHECKPOINTS_PER_INSN || !add)
		return 0;
	st->jmps = 0;
	struct vcheckpoint *cp = malloc(sizeof(*cp));
	if (!cp)
		return verr(env, -ENOMEM, "out of memory");
	/* The path's history so far leads to this checkpoint; it starts anew. */
	struct vhist *hist = st->hist;
	uint32_t n_hist = st->n_hist;
	st->hist = NULL;
	st->n_hist = st->cap_hist = 0;
	if (vstate_copy(&cp->st, st)) {
		free(cp);
		free(hist);
		return verr(env, -ENOMEM, "out of memory");
	}
	cp->in_hist = hist;
	cp->n_in_hist = n_hist;
	cp->parent = st->parent;
	cp->depth = st->parent ? st->parent->depth + 1 : 0;
	cp->branches = 1;
	cp->hit = cp->miss = 0;
	cp->evicted = false;
	cp->all_precise = false;
	cp->next_all = env->all;
	env->all = cp;
	int err = set_path(env, cp);
	if (err)
		return err;
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
			vcur(st)->regs[d->dst] = v;
		st->pc++;
		break;
	}
	case BEE_SH_ST:
	case BEE_SH_STX: {
		struct vreg v;
		if (shape == BEE_SH_STX) {
			if ((err = check_read(env, st, d->src)))
				break;
			v = vcur(st)->regs[d->src];
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
		err = do_ld_abs(env, st, d, shape == BEE_SH_LD_IND);
		st->pc++;
		break;
	case BEE_SH_JA:
	case BEE_SH_JA32:
		st->pc = (size_t)bee_jump_target(d, st->pc);
		st->jmps++;
		break;
	case BEE_SH_JCC_IMM:
	case BEE_SH_JCC_REG:
		st->jmps++;
		err = do_cond_jump(env, st, d, w);
		break;
	case BEE_SH_CALL_HELPER:
		err = do_helper_call(env, st, d, w);
		if (!st->entered)
			st->pc++;
		st->entered = false;
		st->cb_reentry = false;
		break;
	case BEE_SH_CALL_LOCAL:
		err = do_local_call(env, st, d);
		break;
	case BEE_SH_CALL_KFUNC:
		err = UNSUPPORTED(env, "kfunc calls not supported yet");
		break;
	case BEE_SH_EXIT:
		if (st->cur > 0) {
			err = do_return(env, st);
			break;
		}
		err = do_exit(env, st);
		*out = STEP_END;
		break;
	default:
		err = verr(env, -EFAULT, "bee verifier: internal error (shape %u)", shape);
		break;
	}
	return err;
}

/* The trace's level: 0 none, 1 the failing path, 2 everything. */
static unsigned trace_level(const struct venv *env)
{
	if (!env->log)
		return 0;
	return env->opts->log_level & 2 ? 2 : env->opts->log_level & 1;
}

static int explore(struct venv *env, struct worklist *w)
{
	unsigned trace = trace_level(env);
	bool first = true;
	while (w->n) {
		struct vstate *st = w->v[--w->n];
		int err = 0;
		if (trace) {
			/* Level 1 keeps only the failing path: what the last
			 * (successful) path printed since this one was queued goes. */
			if (trace == 1 && !first)
				vlog_rewind(env, st->log_pos);
			if (first)
				vlog(env, "%zu: ", st->pc);
			else
				vlog(env, "\nfrom %zu to %zu: ", st->from_pc, st->pc);
			vlog_state(env, st);
			env->last_line = NULL;
		}
		first = false;
		if ((err = set_path(env, st->parent))) {
			vstate_release(st);
			free(st);
			return err;
		}
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
					if (trace == 2)
						vlog(env, "%zu: safe\n", st->pc);
					err = 0;
					break;
				}
				if (err)
					break;
			}
			size_t pc = st->pc;
			enum step s;
			if ((err = vhist_push(env, st, &env->d[pc])))
				break;
			if (trace)
				vlog_insn(env, pc);
			err = step(env, st, w, &s);
			if (err) {
				env->fail_insn = (long)pc;
				break;
			}
			if (trace == 2 && s != STEP_END) {
				vlog(env, "\t; ");
				vlog_state(env, st);
			}
			if (s == STEP_END)
				break;
		}
		if (err) {
			if (env->fail_insn < 0)
				env->fail_insn = (long)st->pc;
			if (env->opts->explain)
				vexplain(env, st, (size_t)env->fail_insn);
			vstate_release(st);
			free(st);
			return err;
		}
		path_end(env, st);
		vstate_release(st);
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
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	env.start_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
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
	env.subprog_of = calloc(n ? n : 1, sizeof(*env.subprog_of));
	if (!env.d || !env.prune_point || !env.at_insn || !env.n_at_insn ||
	    !env.subprog_of) {
		err = verr(&env, -ENOMEM, "out of memory");
		goto done;
	}
	if ((err = vcfg_check(&env)) || (err = vcfg_liveness(&env)))
		goto done;
	if (env.log && opts->lines && opts->n_lines) {
		env.line_at = malloc(n * sizeof(*env.line_at));
		if (!env.line_at) {
			err = verr(&env, -ENOMEM, "out of memory");
			goto done;
		}
		for (size_t i = 0; i < n; i++)
			env.line_at[i] = -1;
		for (size_t i = 0; i < opts->n_lines; i++)
			if (opts->lines[i].insn < n)
				env.line_at[opts->lines[i].insn] = (int32_t)i;
	}
	struct vstate *st = malloc(sizeof(*st));
	if (!st) {
		err = verr(&env, -ENOMEM, "out of memory");
		goto done;
	}
	if (vstate_init(st)) {
		free(st);
		err = verr(&env, -ENOMEM, "out of memory");
		goto done;
	}
	w.v = malloc(64 * sizeof(*w.v));
	if (!w.v) {
		vstate_release(st);
		free(st);
		err = verr(&env, -ENOMEM, "out of memory");
		goto done;
	}
	w.cap = 64;
	w.v[w.n++] = st;
	err = explore(&env, &w);
	uint64_t budget = 0;
	if (!err)
		err = walk_depth(&env, 0, 0, 0, &budget);
done:
	for (size_t i = 0; i < w.n; i++) {
		vstate_release(w.v[i]);
		free(w.v[i]);
	}
	free(w.v);
	for (struct vcheckpoint *cp = env.all, *nx; cp; cp = nx) {
		nx = cp->next_all;
		vstate_release(&cp->st);
		free(cp->in_hist);
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
	free(env.subprog_of);
	free(env.anc);
	free(env.live);
	free(env.line_at);
	if (env.insn_text)
		for (size_t i = 0; i < n; i++)
			free(env.insn_text[i]);
	free(env.insn_text);
	return err;
}
