/*
 * interp.c - loading programs for execution and running them in the
 * interpreter.
 *
 * Loading checks the program's syntax once (bee_check_program), resolves
 * helper and kfunc calls to function pointers and turns every instruction
 * into a struct xinsn per mode (fast, checked).  Running picks the engine
 * (the JIT, jit_x86_64.c, or this interpreter) and the fast or the checked
 * mode: for the interpreter the dispatch loop of interp_body.h, built twice
 * below.  Untrusted code never reaches a fast mode.
 *
 * Two calls are not helper calls: a `call 12` gets the tail-call handler
 * of each loop (the JIT emits its own sequence), and `lddw rX, subprog`
 * becomes a constant naming the function (callback_value), whose first
 * instruction is marked TARGET_CALLBACK; bee_run_callback, for helpers
 * such as bpf_loop, checks a value against both and runs that function as
 * a nested invocation of the running engine and mode.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp.h"
#include "jit.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the interpreter's byte-swap handlers assume a little-endian host");
_Static_assert(sizeof(struct xinsn) == 24, "pre-decoded instructions are 24 bytes");

/* ---- signed division (RFC 9669 section 4.1: INT_MIN / -1 wraps, x % -1 = 0;
 * by zero, division gives 0 and modulo leaves the dividend) ---- */

static inline uint64_t sdiv64(uint64_t a, uint64_t b)
{
	int64_t d = (int64_t)b;
	if (d == 0)
		return 0;
	if (d == -1)
		return 0 - a; /* wraps for INT64_MIN instead of trapping */
	return (uint64_t)((int64_t)a / d);
}

static inline uint64_t smod64(uint64_t a, uint64_t b)
{
	int64_t d = (int64_t)b;
	if (d == 0)
		return a;
	if (d == -1)
		return 0;
	return (uint64_t)((int64_t)a % d);
}

static inline uint32_t sdiv32(uint32_t a, uint32_t b)
{
	int32_t d = (int32_t)b;
	if (d == 0)
		return 0;
	if (d == -1)
		return 0 - a;
	return (uint32_t)((int32_t)a / d);
}

static inline uint32_t smod32(uint32_t a, uint32_t b)
{
	int32_t d = (int32_t)b;
	if (d == 0)
		return a;
	if (d == -1)
		return 0;
	return (uint32_t)((int32_t)a % d);
}

/* ---- the run a helper is called from (helpers take only r1..r5) ---- */

static __thread struct run_state *current_run;

bool bee_run_mem_ok(const void *ptr, size_t len, bool write)
{
	struct run_state *st = current_run;
	if (!st || !st->checked)
		return true;
	if (len == 0)
		return true;
	return run_mem_ok(st, (uintptr_t)ptr, len, write);
}

int bee_run_grant(void *start, size_t len, bool writable)
{
	struct run_state *st = current_run;
	if (!st)
		return -EINVAL;
	if (!st->checked)
		return 0;
	for (size_t i = 2; i < st->n_regions; i++) {
		struct run_region *r = &st->regions[i];
		if (r->start == (uintptr_t)start && r->len == len) {
			r->writable = r->writable || writable;
			return 0;
		}
	}
	if (st->n_regions == BEE_RUN_MAX_REGIONS)
		return -ENOSPC;
	st->regions[st->n_regions++] = (struct run_region){(uintptr_t)start, len, writable};
	return 0;
}

int bee_run_abort(int code, const char *fmt, ...)
{
	struct run_state *st = current_run;
	if (!st || code >= 0)
		return -EINVAL;
	if (!st->checked)
		return -EPERM; /* verified code has nothing to stop for */
	char msg[sizeof(st->result->err.msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bee_error_set(&st->result->err, code, st->call_pc, 0, 0, "%s", msg);
	st->aborted = code;
	return 0;
}

/* ---- how checked runs stop (shared with the JIT: the same text either way) ---- */

/* Is [addr, addr + size) in the stack area (all frames) or a frame beyond?
 * Such addresses are reported relative to the stack's top, which does not
 * depend on where the engine keeps its stack. */
static bool near_stack(uintptr_t addr, unsigned size, const uint8_t *stack_top)
{
	uintptr_t top = (uintptr_t)stack_top;
	uintptr_t area = (uintptr_t)BEE_MAX_CALL_FRAMES * BEE_STACK_SIZE;
	return addr + size > top - area - BEE_STACK_SIZE && addr < top + BEE_STACK_SIZE;
}

/* Say where a bad access went, relative to the stack when it is near it. */
int bee_run_fault_mem(struct run_state *st, long insn, uintptr_t addr, unsigned size, bool write,
		      unsigned basereg, uint64_t baseval, int32_t off, const uint8_t *stack_top)
{
	const char *what = write ? "write" : "read";
	for (size_t i = 0; i < st->n_regions; i++)
		if (region_contains(&st->regions[i], addr, size))
			return bee_error_set(&st->result->err, -EFAULT, insn, 0, 0,
					     "invalid %s of %u bytes at 0x%llx (r%u %+d): memory is "
					     "read-only",
					     what, size, (unsigned long long)addr, basereg, off);
	/* Near the stack area (all frames, and a little beyond): say where. */
	uintptr_t top = (uintptr_t)stack_top;
	if (basereg == 10 || near_stack(addr, size, stack_top)) {
		long rel = (long)(addr - top);
		return bee_error_set(&st->result->err, -EFAULT, insn, 0, 0,
				     "invalid %s of %u bytes at stack offset %ld (r%u %+d): "
				     "the stack is [%ld, 0)",
				     what, size, rel, basereg, off, -(long)st->regions[0].len);
	}
	return bee_error_set(&st->result->err, -EFAULT, insn, 0, 0,
			     "invalid %s of %u bytes at 0x%llx (r%u=0x%llx %+d): outside the stack, "
			     "the input memory and every granted region",
			     what, size, (unsigned long long)addr, basereg,
			     (unsigned long long)baseval, off);
}

int bee_run_fault_align(struct run_state *st, long insn, uintptr_t addr, unsigned size,
			const uint8_t *stack_top)
{
	if (near_stack(addr, size, stack_top))
		return bee_error_set(&st->result->err, -EFAULT, insn, 0, 0,
				     "misaligned atomic access of %u bytes at stack offset %ld", size,
				     (long)(addr - (uintptr_t)stack_top));
	return bee_error_set(&st->result->err, -EFAULT, insn, 0, 0,
			     "misaligned atomic access of %u bytes at 0x%llx", size,
			     (unsigned long long)addr);
}

int bee_run_fault_budget(struct run_state *st, long insn)
{
	return bee_error_set(&st->result->err, -ETIME, insn, 0, 0,
			     "instruction budget of %llu exhausted (endless loop?)",
			     (unsigned long long)st->budget);
}

int bee_run_fault_depth(struct run_state *st, long insn, unsigned depth)
{
	return bee_error_set(&st->result->err, -E2BIG, insn, 0, 0,
			     "the call stack of %u frames is too deep (limit %d)", depth + 2,
			     BEE_MAX_CALL_FRAMES);
}

int bee_run_fault_tail_call(struct run_state *st, long insn, unsigned depth)
{
	return bee_error_set(&st->result->err, -EOPNOTSUPP, insn, 0, 0,
			     "tail call from a bpf-to-bpf function or a callback (call depth %u): "
			     "bee allows tail calls from the main program only",
			     depth);
}

int bee_run_fault_tail_target(struct run_state *st, long insn, const struct bee_error *why)
{
	return bee_error_set(&st->result->err, why->code < 0 ? why->code : -ENOMEM, insn, 0, 0,
			     "tail call: cannot compile the target: %s", why->msg);
}

/* ---- callbacks (vm.h: bee_run_callback) ---- */

int bee_run_callback(uint64_t fn, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
		     uint64_t *r0)
{
	struct run_state *st = current_run;
	uint64_t scratch;
	if (!r0)
		r0 = &scratch;
	*r0 = 0;
	if (!st)
		return -EINVAL;
	if (st->aborted)
		return st->aborted;
	const struct bee_code *code = st->code;
	uint64_t pc = (uint32_t)fn;
	if (fn >> 32 != CALLBACK_TAG || pc >= code->n || !(code->is_target[pc] & TARGET_CALLBACK))
		return -EINVAL;
	bool jit = st->opts->engine == BEE_ENGINE_JIT;
	unsigned depth = jit ? bee_jit_depth(st) : st->depth;
	if (depth + 1 >= BEE_MAX_CALL_FRAMES)
		return -E2BIG;
	struct run_entry e = {.pc = (size_t)pc, .depth = depth + 1, .args = {r1, r2, r3, r4, r5}};
	/* The live stack grows by the callback's frame, below the caller's
	 * (which the callback may use: programs pass stack pointers). */
	struct run_region saved = st->regions[0];
	size_t live = (size_t)(depth + 2) * BEE_STACK_SIZE;
	st->regions[0] = (struct run_region){(uintptr_t)(st->stack_top - live), live, true};
	int ret;
	if (jit)
		ret = bee_jit_callback(st, &e, r0);
	else if (st->checked)
		ret = bee_interp_run_checked(st, r0, NULL, &e);
	else
		ret = bee_interp_run_fast(st, r0, NULL, &e);
	st->regions[0] = saved;
	st->depth = depth;
	if (ret < 0)
		st->aborted = ret;
	return ret;
}

#define BEE_CHECKED 0
#include "interp_body.h"
#undef BEE_CHECKED
#define BEE_CHECKED 1
#include "interp_body.h"
#undef BEE_CHECKED

/* ---- loading ---- */

/*
 * Fuse "rX += imm" with a following 64-bit conditional jump on rX into one
 * superinstruction (fast loop only), unless something jumps to the jump
 * itself.  The jump's own instruction stays in place, unreached.
 */
static void fuse_loop_steps(struct xinsn *x, const struct bee_dinsn *d, size_t n,
			    const unsigned char *is_target, const void *const *add_then_jcc)
{
	if (!add_then_jcc)
		return;
	for (size_t pc = 0; pc + 1 < n; pc++) {
		const struct bee_dinsn *add = &d[pc], *jcc = &d[pc + 1];
		if (add->slots == 0 || add->op != BEE_OP_ADD64_IMM || is_target[pc + 1] ||
		    !add_then_jcc[jcc->op] || jcc->dst != add->dst)
			continue;
		x[pc].handler = add_then_jcc[jcc->op];
		x[pc].imm = (uint64_t)(uint32_t)add->imm | ((uint64_t)(uint32_t)jcc->imm << 32);
		x[pc].src = jcc->src;
		x[pc].off = x[pc + 1].off + (int32_t)sizeof(struct xinsn);
	}
}

static const char *pseudo_name(uint8_t src)
{
	switch (src) {
	case BPF_PSEUDO_MAP_FD: return "a map fd";
	case BPF_PSEUDO_MAP_VALUE: return "a map value";
	case BPF_PSEUDO_BTF_ID: return "a BTF id";
	case BPF_PSEUDO_FUNC: return "a function address";
	case BPF_PSEUDO_MAP_IDX: return "a map index";
	case BPF_PSEUDO_MAP_IDX_VALUE: return "a map value by index";
	default: return "an unknown pseudo source";
	}
}

struct bee_code *bee_code_load(const struct bpf_insn *insns, size_t n,
			       const struct bee_code_opts *opts, struct bee_error *err)
{
	struct bee_code_opts o = {0};
	bee_error_clear(err);
	if (opts) {
		if (opts->sz < sizeof(size_t)) {
			bee_error_set(err, -EINVAL, -1, 0, 0, "bee_code_opts.sz is not set");
			errno = EINVAL;
			return NULL;
		}
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	}

	struct bee_code *code = calloc(1, sizeof(*code));
	struct bee_dinsn *d = calloc(n ? n : 1, sizeof(*d));
	if (code)
		pthread_mutex_init(&code->jit_lock, NULL); /* bee_code_free destroys it */
	if (!code || !d)
		goto nomem;
	code->n = n;
	code->trusted = o.trusted;
	code->jit_blind = o.jit_blind;
	code->is_target = calloc(n + 1, 1);
	if (!code->is_target)
		goto nomem;
	for (int m = 0; m < XMODE__COUNT; m++) {
		code->x[m] = calloc(n ? n : 1, sizeof(*code->x[m]));
		if (!code->x[m])
			goto nomem;
	}

	int ret = bee_check_program(insns, n, d, err);
	if (ret < 0)
		goto fail;
	bee_mark_jump_targets(d, n, code->is_target);

	for (size_t pc = 0; pc < n; pc++) {
		const struct bee_dinsn *di = &d[pc];
		struct xinsn *x = &code->x[XMODE_FAST][pc];
		if (di->slots == 0) /* second half of an lddw: never executed */
			continue;
		x->op = di->op;
		x->dst = di->dst;
		x->src = di->src;
		x->off = di->off;
		x->imm = di->imm64;
		/* Jumps and local calls keep the byte distance from themselves to
		 * their target, so taking one is a single add (bee_check_program
		 * has bounded targets to the program, so it fits in 32 bits). */
		long target = bee_jump_target(di, pc);
		int32_t byte_delta = (int32_t)((target - (long)pc) * (long)sizeof(struct xinsn));
		switch ((enum bee_shape)bee_op_info[di->op].shape) {
		case BEE_SH_JA:
		case BEE_SH_JA32:
		case BEE_SH_JCC_IMM:
		case BEE_SH_JCC_REG:
		case BEE_SH_CALL_LOCAL:
			x->off = byte_delta;
			break;
		case BEE_SH_CALL_HELPER:
		case BEE_SH_CALL_KFUNC: {
			if (insn_is_tail_call(di)) {
				x->imm = 0; /* its own handler, below */
				break;
			}
			bool kfunc = bee_op_info[di->op].shape == BEE_SH_CALL_KFUNC;
			const struct bee_helper *h =
				bee_helper_table_find(kfunc ? o.kfuncs : o.helpers, di->imm);
			if (!h) {
				const char *name = kfunc ? NULL : bee_helper_name(di->imm);
				ret = bee_error_set(err, -EINVAL, (long)pc, 0, 0,
						    "call to %s %s#%d, which this runtime does not provide",
						    kfunc ? "kfunc" : "helper",
						    name ? name : "unknown", di->imm);
				goto fail;
			}
			x->imm = (uint64_t)(uintptr_t)h->fn;
			break;
		}
		case BEE_SH_LDDW:
			if (di->src == BPF_PSEUDO_FUNC) {
				/* like a local call: relative to the next instruction */
				long fn = (long)pc + 1 + di->imm;
				if (fn < 0 || (size_t)fn >= n || d[fn].slots == 0) {
					ret = bee_error_set(err, -EINVAL, (long)pc, 0, 0,
							    "lddw of a function: insn %ld is %s", fn,
							    fn < 0 || (size_t)fn >= n
								    ? "outside the program"
								    : "the middle of an lddw");
					goto fail;
				}
				code->is_target[fn] |= TARGET_CALLBACK;
				x->imm = callback_value((size_t)fn);
				break;
			}
			if (di->src != 0) {
				ret = bee_error_set(err, -EINVAL, (long)pc, 0, 0,
						    "lddw refers to %s (src_reg %u), which must be resolved "
						    "before execution",
						    pseudo_name(di->src), di->src);
				goto fail;
			}
			break;
		case BEE_SH_ALU_IMM:
		case BEE_SH_ALU_REG:
		case BEE_SH_NEG:
		case BEE_SH_END:
		case BEE_SH_MOVSX:
		case BEE_SH_LDX:
		case BEE_SH_ST:
		case BEE_SH_STX:
		case BEE_SH_ATOMIC:
		case BEE_SH_LOAD_ACQ:
		case BEE_SH_STORE_REL:
		case BEE_SH_LD_ABS:
		case BEE_SH_LD_IND:
		case BEE_SH_EXIT:
		case BEE_SH__COUNT:
			break;
		}
	}
	/* The checked loop's copy differs only in its handlers. */
	struct interp_handlers handlers[XMODE__COUNT];
	bee_interp_run_fast(NULL, NULL, &handlers[XMODE_FAST], NULL);
	bee_interp_run_checked(NULL, NULL, &handlers[XMODE_CHECKED], NULL);
	memcpy(code->x[XMODE_CHECKED], code->x[XMODE_FAST], n * sizeof(struct xinsn));
	for (int m = 0; m < XMODE__COUNT; m++)
		for (size_t pc = 0; pc < n; pc++)
			code->x[m][pc].handler = d[pc].slots && insn_is_tail_call(&d[pc])
							 ? *handlers[m].tail_call
							 : handlers[m].ops[code->x[m][pc].op];
	fuse_loop_steps(code->x[XMODE_FAST], d, n, code->is_target, handlers[XMODE_FAST].add_then_jcc);
	code->d = d; /* the JIT compiles from the decoded program */
	return code;

nomem:
	ret = bee_error_set(err, -ENOMEM, -1, 0, 0, "out of memory");
fail:
	free(d);
	if (code)
		code->d = NULL;
	bee_code_free(code);
	errno = -ret;
	return NULL;
}

void bee_code_free(struct bee_code *code)
{
	if (!code)
		return;
	free(code->is_target);
	free(code->d);
	for (int m = 0; m < XMODE__COUNT; m++) {
		free(code->x[m]);
		bee_jit_free(code->jit[m]);
	}
	pthread_mutex_destroy(&code->jit_lock);
	free(code);
}

size_t bee_code_len(const struct bee_code *code)
{
	return code->n;
}

bool bee_code_trusted(const struct bee_code *code)
{
	return code->trusted;
}

/* ---- running ---- */

int bee_code_run(const struct bee_code *code, const struct bee_run_opts *opts,
		 struct bee_run_result *result)
{
	/* Per run, only what a run needs: bee_error_clear rather than a memset
	 * of the result (its message buffer), and the caller's options used in
	 * place when they are complete (a copy only for an older, shorter
	 * struct); both were a sizeable part of a short run's set-up. */
	struct bee_run_result scratch;
	if (!result)
		result = &scratch;
	result->r0 = 0;
	result->insns = 0;
	bee_error_clear(&result->err);
	if (!code)
		return bee_error_set(&result->err, -EINVAL, -1, 0, 0, "no code to run");
	struct bee_run_opts copy;
	const struct bee_run_opts *op = opts;
	if (!opts || opts->sz < sizeof(copy)) {
		if (opts && opts->sz < sizeof(size_t))
			return bee_error_set(&result->err, -EINVAL, -1, 0, 0,
					     "bee_run_opts.sz is not set");
		memset(&copy, 0, sizeof(copy));
		if (opts)
			memcpy(&copy, opts, opts->sz);
		op = &copy;
	}
	if (op->engine != BEE_ENGINE_INTERP && op->engine != BEE_ENGINE_JIT)
		return bee_error_set(&result->err, -EOPNOTSUPP, -1, 0, 0,
				     "engine %d is not available", (int)op->engine);
	if (op->n_regions > BEE_RUN_MAX_REGIONS - 2)
		return bee_error_set(&result->err, -E2BIG, -1, 0, 0,
				     "too many memory regions (%zu, limit %d)", op->n_regions,
				     BEE_RUN_MAX_REGIONS - 2);

	/* Field by field: zero-initialising the whole struct would clear all
	 * BEE_RUN_MAX_REGIONS regions on every run; only n_regions are live. */
	struct run_state st;
	st.code = code;
	st.opts = op;
	st.result = result;
	st.checked = (op->flags & BEE_RUN_CHECKED) || !code->trusted;
	st.budget = op->max_insns;
	st.aborted = 0;
	st.call_pc = -1;
	st.executed = 0;
	st.depth = 0;
	st.tail_calls = 0;
	st.stack_top = NULL;
	st.jit_ctx = NULL;
	st.outer = current_run;
	/* regions[0], the stack, is filled in by the checked engines themselves. */
	st.regions[0] = (struct run_region){0, 0, false};
	st.regions[1] = (struct run_region){(uintptr_t)op->mem, op->mem ? op->mem_len : 0,
					    !op->mem_readonly};
	st.n_regions = 2;
	for (size_t i = 0; i < op->n_regions; i++)
		st.regions[st.n_regions++] = (struct run_region){
			(uintptr_t)op->regions[i].start, op->regions[i].len, op->regions[i].writable};

	current_run = &st;
	uint64_t r0 = 0;
	int ret;
	if (op->engine == BEE_ENGINE_JIT)
		ret = bee_jit_run(&st, &r0);
	else
		ret = st.checked ? bee_interp_run_checked(&st, &r0, NULL, NULL)
				 : bee_interp_run_fast(&st, &r0, NULL, NULL);
	current_run = st.outer;
	/* A fast run goes on after a callback's fault (only the checked
	 * engines look after every helper call); it ends with it all the same. */
	if (ret == 0 && st.aborted)
		ret = st.aborted;
	result->r0 = r0;
	return ret;
}
