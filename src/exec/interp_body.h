/*
 * interp_body.h - the interpreter's dispatch loop, included twice by
 * interp.c: once with BEE_CHECKED 0 (the fast path for trusted code) and
 * once with BEE_CHECKED 1 (every memory access, call and instruction
 * counted and checked).
 *
 * Theory: direct threading over pre-decoded instructions.  Each
 * instruction kind has its own label; a table indexed by enum bee_op
 * (generated from BEE_INSN_TABLE, so a missing label is a build error)
 * gives every pre-decoded instruction the address of its handler, and
 * each handler ends by jumping straight to the next one's.
 * Splitting every (class, op, source) combination into its own label keeps
 * each handler a handful of machine instructions with no inner switch.
 *
 * Semantics are RFC 9669's: 32-bit results are zero-extended, shift
 * amounts masked, division by zero gives 0, modulo by zero leaves the
 * dividend, INT_MIN / -1 wraps (sections 4.1 to 4.3).
 *
 * Calls.  bpf-to-bpf calls save r6..r10 and the return address in frames[]
 * and move r10 down one 512-byte frame.  One invocation of the loop runs
 * the program; each callback a helper starts (bee_run_callback) is one
 * more, nested on the C stack, that enters at the callback's first
 * instruction with the frames above it already counted (entry->depth) and
 * ends at the exit back at that depth.  A helper call therefore leaves
 * depth (and in checked mode the count) in the run state first, and in
 * checked mode looks at st->aborted afterwards: a callback's fault has
 * been recorded and stops this invocation too.  A tail call (`call 12`,
 * its own handler) swaps base and pc for the target's instructions and
 * goes on in the same invocation, so the count and budget continue and
 * fault indexes are the target's (pc - base).
 */

#ifndef BEE_CHECKED
#error "define BEE_CHECKED to 0 or 1 before including interp_body.h"
#endif

#if BEE_CHECKED
#define RUN_FN bee_interp_run_checked
#else
#define RUN_FN bee_interp_run_fast
#endif

int RUN_FN(struct run_state *st, uint64_t *r0_out, struct interp_handlers *handlers_out,
	   const struct run_entry *entry)
{
	static const void *const labels[BEE_OP__COUNT] = {
#define BEE_X(K, ...) [BEE_OP_##K] = &&op_##K,
		BEE_INSN_TABLE(BEE_X)
#undef BEE_X
	};
#if BEE_CHECKED
	static const void *const *const add_then_jcc = NULL;
#else
	static const void *const add_then_jcc[BEE_OP__COUNT] = {
#define FUSED_LABEL(N) [BEE_OP_##N##_IMM] = &&add_then_##N##_IMM, [BEE_OP_##N##_REG] = &&add_then_##N##_REG,
		FUSED_LABEL(JEQ) FUSED_LABEL(JNE) FUSED_LABEL(JGT) FUSED_LABEL(JGE)
		FUSED_LABEL(JLT) FUSED_LABEL(JLE) FUSED_LABEL(JSET) FUSED_LABEL(JSGT)
		FUSED_LABEL(JSGE) FUSED_LABEL(JSLT) FUSED_LABEL(JSLE)
#undef FUSED_LABEL
	};
#endif
	static const void *const tail_call_label = &&tail_call;
	if (handlers_out) {
		handlers_out->ops = labels;
		handlers_out->add_then_jcc = add_then_jcc;
		handlers_out->tail_call = &tail_call_label;
		return 0;
	}

	/*
	 * One stack area for all frames; frame k lives below frame k-1.  A
	 * callback (entry != NULL) is a nested invocation that uses its
	 * caller's area (st->stack_top) from frame entry->depth on, so depth
	 * counts frames from the top of the area in every invocation and an
	 * invocation's exit at its own entry depth ends it.
	 */
	uint8_t own_stack[BEE_MAX_CALL_FRAMES * BEE_STACK_SIZE] __attribute__((aligned(16)));
	struct {
		const struct xinsn *ret;
		uint64_t r6, r7, r8, r9, r10;
	} frames[BEE_MAX_CALL_FRAMES];

	const struct xinsn *base = st->code->x[BEE_CHECKED ? XMODE_CHECKED : XMODE_FAST];
	const struct xinsn *pc = base;
	uint64_t reg[11];
	const struct bee_run_opts *o = st->opts;
	const uint8_t *pkt = o->pkt ? (const uint8_t *)o->pkt : (const uint8_t *)o->mem;
	size_t pkt_len = o->pkt ? o->pkt_len : o->mem_len;
	unsigned depth, entry_depth;
	uint8_t *stack_top;

	if (!entry) {
		stack_top = own_stack + sizeof(own_stack);
		st->stack_top = stack_top;
		depth = entry_depth = 0;
#if BEE_CHECKED
		/* Deterministic contents for programs that read what they never wrote. */
		memset(own_stack, 0, sizeof(own_stack));
		memset(reg, 0, sizeof(reg));
		st->regions[0].start = (uintptr_t)(stack_top - BEE_STACK_SIZE);
		st->regions[0].len = BEE_STACK_SIZE;
		st->regions[0].writable = true;
#endif
		reg[1] = (uint64_t)(uintptr_t)o->mem;
		reg[2] = o->mem_len;
		reg[10] = (uint64_t)(uintptr_t)stack_top;
	} else {
		/* bee_run_callback has grown regions[0] by the new frame. */
		stack_top = st->stack_top;
		depth = entry_depth = entry->depth;
		pc = base + entry->pc;
		memset(reg, 0, sizeof(reg));
		memcpy(&reg[1], entry->args, sizeof(entry->args));
		reg[10] = (uint64_t)(uintptr_t)(stack_top - (size_t)depth * BEE_STACK_SIZE);
	}
#if BEE_CHECKED
	/* A callback goes on counting where its caller's helper call stood. */
	uint64_t executed = entry ? st->executed : 0;
#endif

#define DST reg[pc->dst]
#define SRC reg[pc->src]
#define IMM pc->imm
#define OFF pc->off
#define D32 ((uint32_t)reg[pc->dst])
#define S32 ((uint32_t)reg[pc->src])
#define I32 ((uint32_t)pc->imm)

#if BEE_CHECKED
#define COUNT()                                                        \
	do {                                                           \
		executed++;                                            \
		if (st->budget && executed > st->budget)               \
			goto fault_budget;                             \
	} while (0)
#define MEM_CHECK(addr, size, write, basereg)                                          \
	do {                                                                           \
		if (!run_mem_ok(st, (uintptr_t)(addr), (size), (write))) {             \
			fault_addr = (uintptr_t)(addr);                                \
			fault_size = (size);                                           \
			fault_write = (write);                                         \
			fault_base = (basereg);                                        \
			goto fault_mem;                                                \
		}                                                                      \
	} while (0)
#define ALIGN_CHECK(addr, size)                                        \
	do {                                                           \
		if ((uintptr_t)(addr) & ((size)-1)) {                  \
			fault_addr = (uintptr_t)(addr);                \
			fault_size = (size);                           \
			goto fault_align;                              \
		}                                                      \
	} while (0)
	uintptr_t fault_addr = 0;
	unsigned fault_size = 0, fault_base = 0;
	bool fault_write = false;
#else
#define COUNT() do { } while (0)
#define MEM_CHECK(addr, size, write, basereg) do { } while (0)
#define ALIGN_CHECK(addr, size) do { } while (0)
#endif

#define DISPATCH() goto *pc->handler
#define NEXT() do { pc++; COUNT(); DISPATCH(); } while (0)
/* jumps keep their displacement in bytes from the jump (see interp.c) */
#define JUMP_TARGET() ((const struct xinsn *)((const char *)pc + pc->off))
#define JUMP_IF(cond) do { pc = (cond) ? JUMP_TARGET() : pc + 1; COUNT(); DISPATCH(); } while (0)

	COUNT();
	DISPATCH();

	/* ---- ALU64 and ALU32 binary operations ---- */
#define ALU_OPS(N, EXPR64, EXPR32)                                     \
	op_##N##64_IMM: { uint64_t s = IMM; (void)s; DST = (EXPR64); NEXT(); } \
	op_##N##64_REG: { uint64_t s = SRC; (void)s; DST = (EXPR64); NEXT(); } \
	op_##N##32_IMM: { uint32_t s = I32; (void)s; DST = (uint32_t)(EXPR32); NEXT(); } \
	op_##N##32_REG: { uint32_t s = S32; (void)s; DST = (uint32_t)(EXPR32); NEXT(); }

	ALU_OPS(ADD, DST + s, D32 + s)
	ALU_OPS(SUB, DST - s, D32 - s)
	ALU_OPS(MUL, DST * s, D32 * s)
	ALU_OPS(DIV, s ? DST / s : 0, s ? D32 / s : 0)
	ALU_OPS(MOD, s ? DST % s : DST, s ? D32 % s : D32)
	ALU_OPS(SDIV, sdiv64(DST, s), sdiv32(D32, s))
	ALU_OPS(SMOD, smod64(DST, s), smod32(D32, s))
	ALU_OPS(OR, DST | s, D32 | s)
	ALU_OPS(AND, DST & s, D32 & s)
	ALU_OPS(XOR, DST ^ s, D32 ^ s)
	ALU_OPS(LSH, DST << (s & 63), D32 << (s & 31))
	ALU_OPS(RSH, DST >> (s & 63), D32 >> (s & 31))
	ALU_OPS(ARSH, (uint64_t)((int64_t)DST >> (s & 63)), (uint32_t)((int32_t)D32 >> (s & 31)))
	ALU_OPS(MOV, s, s)
#undef ALU_OPS

op_NEG64:   DST = 0 - DST; NEXT();
op_NEG32:   DST = (uint32_t)(0 - D32); NEXT();
op_MOVSX64_8:  DST = (uint64_t)(int64_t)(int8_t)SRC; NEXT();
op_MOVSX64_16: DST = (uint64_t)(int64_t)(int16_t)SRC; NEXT();
op_MOVSX64_32: DST = (uint64_t)(int64_t)(int32_t)SRC; NEXT();
op_MOVSX32_8:  DST = (uint32_t)(int32_t)(int8_t)SRC; NEXT();
op_MOVSX32_16: DST = (uint32_t)(int32_t)(int16_t)SRC; NEXT();

	/* ---- byte swaps (the host is little-endian: "le" only truncates) ---- */
op_LE16:    DST = (uint16_t)DST; NEXT();
op_LE32:    DST = (uint32_t)DST; NEXT();
op_LE64:    NEXT();
op_BE16:    DST = __builtin_bswap16((uint16_t)DST); NEXT();
op_BE32:    DST = __builtin_bswap32((uint32_t)DST); NEXT();
op_BE64:    DST = __builtin_bswap64(DST); NEXT();
op_BSWAP16: DST = __builtin_bswap16((uint16_t)DST); NEXT();
op_BSWAP32: DST = __builtin_bswap32((uint32_t)DST); NEXT();
op_BSWAP64: DST = __builtin_bswap64(DST); NEXT();

	/* ---- loads and stores (unaligned access is allowed) ---- */
#define LOAD(N, T, EXT)                                                          \
	op_##N: {                                                                \
		const uint8_t *a = (const uint8_t *)(uintptr_t)(SRC + (int64_t)OFF); \
		MEM_CHECK(a, sizeof(T), false, pc->src);                         \
		T v;                                                             \
		memcpy(&v, a, sizeof(T));                                        \
		DST = (uint64_t)(EXT)v;                                          \
		NEXT();                                                          \
	}
	LOAD(LDXB, uint8_t, uint64_t)
	LOAD(LDXH, uint16_t, uint64_t)
	LOAD(LDXW, uint32_t, uint64_t)
	LOAD(LDXDW, uint64_t, uint64_t)
	LOAD(LDXSB, int8_t, int64_t)
	LOAD(LDXSH, int16_t, int64_t)
	LOAD(LDXSW, int32_t, int64_t)
#undef LOAD

#define STORE(N, T, VAL, BASE)                                                  \
	op_##N: {                                                               \
		uint8_t *a = (uint8_t *)(uintptr_t)(DST + (int64_t)OFF);        \
		MEM_CHECK(a, sizeof(T), true, BASE);                            \
		T v = (T)(VAL);                                                 \
		memcpy(a, &v, sizeof(T));                                       \
		NEXT();                                                         \
	}
	STORE(STB, uint8_t, IMM, pc->dst)
	STORE(STH, uint16_t, IMM, pc->dst)
	STORE(STW, uint32_t, IMM, pc->dst)
	STORE(STDW, uint64_t, IMM, pc->dst)
	STORE(STXB, uint8_t, SRC, pc->dst)
	STORE(STXH, uint16_t, SRC, pc->dst)
	STORE(STXW, uint32_t, SRC, pc->dst)
	STORE(STXDW, uint64_t, SRC, pc->dst)
#undef STORE

	/* ---- atomics (RFC 9669 section 5.3); the fetch forms are full barriers ---- */
#define ATOMIC_RMW(N, T, BUILTIN, FETCH)                                              \
	op_##N: {                                                                     \
		T *a = (T *)(uintptr_t)(DST + (int64_t)OFF);                          \
		MEM_CHECK(a, sizeof(T), true, pc->dst);                               \
		ALIGN_CHECK(a, sizeof(T));                                            \
		T old = BUILTIN(a, (T)SRC, FETCH ? __ATOMIC_SEQ_CST : __ATOMIC_RELAXED); \
		if (FETCH)                                                            \
			SRC = (uint64_t)old;                                          \
		NEXT();                                                               \
	}
#define ATOMIC_SET(S, T)                                                         \
	ATOMIC_RMW(ATOMIC##S##_ADD, T, __atomic_fetch_add, 0)                    \
	ATOMIC_RMW(ATOMIC##S##_OR, T, __atomic_fetch_or, 0)                      \
	ATOMIC_RMW(ATOMIC##S##_AND, T, __atomic_fetch_and, 0)                    \
	ATOMIC_RMW(ATOMIC##S##_XOR, T, __atomic_fetch_xor, 0)                    \
	ATOMIC_RMW(ATOMIC##S##_FETCH_ADD, T, __atomic_fetch_add, 1)              \
	ATOMIC_RMW(ATOMIC##S##_FETCH_OR, T, __atomic_fetch_or, 1)                \
	ATOMIC_RMW(ATOMIC##S##_FETCH_AND, T, __atomic_fetch_and, 1)              \
	ATOMIC_RMW(ATOMIC##S##_FETCH_XOR, T, __atomic_fetch_xor, 1)              \
	ATOMIC_RMW(ATOMIC##S##_XCHG, T, __atomic_exchange_n, 1)                  \
	op_ATOMIC##S##_CMPXCHG: {                                                \
		T *a = (T *)(uintptr_t)(DST + (int64_t)OFF);                     \
		MEM_CHECK(a, sizeof(T), true, pc->dst);                          \
		ALIGN_CHECK(a, sizeof(T));                                       \
		T expected = (T)reg[0];                                          \
		__atomic_compare_exchange_n(a, &expected, (T)SRC, false,         \
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
		reg[0] = (uint64_t)expected; /* the old value, either way */     \
		NEXT();                                                          \
	}
	ATOMIC_SET(32, uint32_t)
	ATOMIC_SET(64, uint64_t)
#undef ATOMIC_SET
#undef ATOMIC_RMW

#define LOAD_ACQ(N, T)                                                          \
	op_##N: {                                                               \
		T *a = (T *)(uintptr_t)(SRC + (int64_t)OFF);                    \
		MEM_CHECK(a, sizeof(T), false, pc->src);                        \
		ALIGN_CHECK(a, sizeof(T));                                      \
		DST = (uint64_t)__atomic_load_n(a, __ATOMIC_ACQUIRE);           \
		NEXT();                                                         \
	}
#define STORE_REL(N, T)                                                         \
	op_##N: {                                                               \
		T *a = (T *)(uintptr_t)(DST + (int64_t)OFF);                    \
		MEM_CHECK(a, sizeof(T), true, pc->dst);                         \
		ALIGN_CHECK(a, sizeof(T));                                      \
		__atomic_store_n(a, (T)SRC, __ATOMIC_RELEASE);                  \
		NEXT();                                                         \
	}
	LOAD_ACQ(LOAD_ACQ_B, uint8_t)
	LOAD_ACQ(LOAD_ACQ_H, uint16_t)
	LOAD_ACQ(LOAD_ACQ_W, uint32_t)
	LOAD_ACQ(LOAD_ACQ_DW, uint64_t)
	STORE_REL(STORE_REL_B, uint8_t)
	STORE_REL(STORE_REL_H, uint16_t)
	STORE_REL(STORE_REL_W, uint32_t)
	STORE_REL(STORE_REL_DW, uint64_t)
#undef LOAD_ACQ
#undef STORE_REL

	/* ---- 64-bit immediates: pseudo forms were resolved or refused at load ---- */
op_LDDW:
op_LDDW_MAP_FD:
op_LDDW_MAP_VALUE:
op_LDDW_BTF_ID:
op_LDDW_FUNC:
op_LDDW_MAP_IDX:
op_LDDW_MAP_IDX_VALUE:
	DST = IMM;
	pc += 2;
	COUNT();
	DISPATCH();

	/* ---- legacy packet loads: big-endian.  Out of bounds returns 0 from the
	 * current function: the kernel rewrites ld_abs/ld_ind into a helper call
	 * followed, on failure, by "w0 = 0; exit" (hence its rule that LD_ABS is
	 * only allowed in functions that return 'int') ---- */
#define LD_PKT(N, T, SWAP, INDIRECT)                                            \
	op_##N: {                                                               \
		/* the kernel passes src + imm to its load helper as an int */  \
		int32_t at = (int32_t)(uint32_t)((INDIRECT ? SRC : 0) + IMM);   \
		if (!pkt || at < 0 || (size_t)at > pkt_len ||                   \
		    pkt_len - (size_t)at < sizeof(T)) {                         \
			reg[0] = 0;                                             \
			goto op_EXIT;                                           \
		}                                                               \
		T v;                                                            \
		memcpy(&v, pkt + at, sizeof(T));                                \
		reg[0] = (uint64_t)SWAP(v);                                     \
		NEXT();                                                         \
	}
#define NOSWAP(v) (v)
	LD_PKT(LD_ABS_B, uint8_t, NOSWAP, 0)
	LD_PKT(LD_ABS_H, uint16_t, __builtin_bswap16, 0)
	LD_PKT(LD_ABS_W, uint32_t, __builtin_bswap32, 0)
	LD_PKT(LD_IND_B, uint8_t, NOSWAP, 1)
	LD_PKT(LD_IND_H, uint16_t, __builtin_bswap16, 1)
	LD_PKT(LD_IND_W, uint32_t, __builtin_bswap32, 1)
#undef NOSWAP
#undef LD_PKT

	/* ---- jumps ---- */
op_JA:
op_JA32:
	pc = JUMP_TARGET();
	COUNT();
	DISPATCH();

#define JCC(N, C64, C32)                                                        \
	op_##N##_IMM: { uint64_t s = IMM; JUMP_IF(C64); }                       \
	op_##N##_REG: { uint64_t s = SRC; JUMP_IF(C64); }                       \
	op_##N##32_IMM: { uint32_t s = I32; JUMP_IF(C32); }                     \
	op_##N##32_REG: { uint32_t s = S32; JUMP_IF(C32); }
	JCC(JEQ, DST == s, D32 == s)
	JCC(JNE, DST != s, D32 != s)
	JCC(JGT, DST > s, D32 > s)
	JCC(JGE, DST >= s, D32 >= s)
	JCC(JLT, DST < s, D32 < s)
	JCC(JLE, DST <= s, D32 <= s)
	JCC(JSET, (DST & s) != 0, (D32 & s) != 0)
	JCC(JSGT, (int64_t)DST > (int64_t)s, (int32_t)D32 > (int32_t)s)
	JCC(JSGE, (int64_t)DST >= (int64_t)s, (int32_t)D32 >= (int32_t)s)
	JCC(JSLT, (int64_t)DST < (int64_t)s, (int32_t)D32 < (int32_t)s)
	JCC(JSLE, (int64_t)DST <= (int64_t)s, (int32_t)D32 <= (int32_t)s)
#undef JCC

#if !BEE_CHECKED
	/* "rX += imm; if rX cc Y goto L" in one dispatch: imm's low half is the
	 * addend, its high half the comparand (both sign-extended, as the two
	 * instructions would); off reaches L from the fused instruction. */
#define FUSED(N, C64)                                                           \
	add_then_##N##_IMM: {                                                   \
		DST += (uint64_t)(int64_t)(int32_t)(uint32_t)IMM;               \
		uint64_t s = (uint64_t)(int64_t)(int32_t)(uint32_t)(IMM >> 32); \
		pc = (C64) ? JUMP_TARGET() : pc + 2;                            \
		DISPATCH();                                                     \
	}                                                                       \
	add_then_##N##_REG: {                                                   \
		DST += (uint64_t)(int64_t)(int32_t)(uint32_t)IMM;               \
		uint64_t s = SRC;                                               \
		pc = (C64) ? JUMP_TARGET() : pc + 2;                            \
		DISPATCH();                                                     \
	}
	FUSED(JEQ, DST == s)
	FUSED(JNE, DST != s)
	FUSED(JGT, DST > s)
	FUSED(JGE, DST >= s)
	FUSED(JLT, DST < s)
	FUSED(JLE, DST <= s)
	FUSED(JSET, (DST & s) != 0)
	FUSED(JSGT, (int64_t)DST > (int64_t)s)
	FUSED(JSGE, (int64_t)DST >= (int64_t)s)
	FUSED(JSLT, (int64_t)DST < (int64_t)s)
	FUSED(JSLE, (int64_t)DST <= (int64_t)s)
#undef FUSED
#endif

	/* ---- calls ---- */
op_CALL_HELPER:
op_CALL_KFUNC:
	/* What bee_run_callback needs, should the helper start a callback;
	 * and in checked mode, whether that callback stopped the run. */
	st->depth = depth;
#if BEE_CHECKED
	st->executed = executed;
	st->call_pc = pc - base;
	reg[0] = ((bee_helper_fn)(uintptr_t)IMM)(reg[1], reg[2], reg[3], reg[4], reg[5]);
	executed = st->executed;
	if (st->aborted)
		goto aborted;
#else
	reg[0] = ((bee_helper_fn)(uintptr_t)IMM)(reg[1], reg[2], reg[3], reg[4], reg[5]);
#endif
	NEXT();

	/*
	 * bpf_tail_call(ctx, map, index): on success the target replaces the
	 * program, as the kernel's interpreter does (JMP_TAIL_CALL): its
	 * instruction 0 next, r1 kept, a fresh frame; its exit ends the run.
	 * On failure, the next instruction with r0 = 0.  See vm.h.
	 */
tail_call: {
	if (depth != 0)
		goto fault_tail_call;
	const struct bee_code *target = tail_call_target(st, st->tail_calls, reg[2], reg[3]);
	reg[0] = 0;
	if (!target)
		NEXT();
	st->tail_calls++;
	st->code = target;
	base = pc = target->x[BEE_CHECKED ? XMODE_CHECKED : XMODE_FAST];
	uint64_t ctx = reg[1];
	memset(reg, 0, sizeof(reg));
	reg[1] = ctx;
	reg[10] = (uint64_t)(uintptr_t)stack_top;
#if BEE_CHECKED
	memset(stack_top - BEE_STACK_SIZE, 0, BEE_STACK_SIZE);
#endif
	COUNT();
	DISPATCH();
}

op_CALL_LOCAL:
	if (depth + 1 >= BEE_MAX_CALL_FRAMES)
		goto fault_depth;
	frames[depth].ret = pc + 1;
	frames[depth].r6 = reg[6];
	frames[depth].r7 = reg[7];
	frames[depth].r8 = reg[8];
	frames[depth].r9 = reg[9];
	frames[depth].r10 = reg[10];
	depth++;
	reg[10] -= BEE_STACK_SIZE;
#if BEE_CHECKED
	/* The live stack grows to include the callee's frame. */
	st->regions[0].start -= BEE_STACK_SIZE;
	st->regions[0].len += BEE_STACK_SIZE;
#endif
	pc = JUMP_TARGET();
	COUNT();
	DISPATCH();

op_EXIT:
	if (depth == entry_depth)
		goto done;
	depth--;
	reg[6] = frames[depth].r6;
	reg[7] = frames[depth].r7;
	reg[8] = frames[depth].r8;
	reg[9] = frames[depth].r9;
	reg[10] = frames[depth].r10;
#if BEE_CHECKED
	st->regions[0].start += BEE_STACK_SIZE;
	st->regions[0].len -= BEE_STACK_SIZE;
#endif
	pc = frames[depth].ret;
	COUNT();
	DISPATCH();

done:
	*r0_out = reg[0];
#if BEE_CHECKED
	st->executed = executed;
	if (!entry)
		st->result->insns = executed;
#endif
	return 0;

	/* (these two leave result->insns alone, in both engines) */
fault_depth:
	return bee_run_fault_depth(st, (long)(pc - base), depth);
fault_tail_call:
	return bee_run_fault_tail_call(st, (long)(pc - base), depth);
#if BEE_CHECKED
aborted:
	/* The callback's fault recorded the error and the count. */
	return st->aborted;
fault_budget:
	st->result->insns = executed - 1;
	return bee_run_fault_budget(st, (long)(pc - base));
fault_mem:
	st->result->insns = executed;
	return bee_run_fault_mem(st, (long)(pc - base), fault_addr, fault_size, fault_write,
				 fault_base, reg[fault_base], pc->off, stack_top);
fault_align:
	st->result->insns = executed;
	return bee_run_fault_align(st, (long)(pc - base), fault_addr, fault_size, stack_top);
#endif

#undef DST
#undef SRC
#undef IMM
#undef OFF
#undef D32
#undef S32
#undef I32
#undef COUNT
#undef MEM_CHECK
#undef ALIGN_CHECK
#undef DISPATCH
#undef NEXT
#undef JUMP_IF
#undef JUMP_TARGET
}

#undef RUN_FN
