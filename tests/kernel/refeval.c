/*
 * refeval.c - reference evaluation of RFC 9669 semantics (see refeval.h).
 *
 * Written to be read against the RFC, not to be fast: every instruction is
 * looked at afresh through its raw fields.  Section numbers below are RFC
 * 9669's.  The host is little-endian (x86-64), which is what "le" and
 * "be" in section 4.2 are relative to.
 */
#include "refeval.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "isa/bpf_ext.h"

#define STACK_BYTES 512
#define MAX_FRAMES 8 /* the kernel's MAX_CALL_FRAMES */

/* What a bpf-to-bpf call saves: the caller's r6..r10 and where to return. */
struct frame {
	uint64_t saved[5];
	size_t ret_pc;
};

struct machine {
	uint64_t r[11];
	uint8_t stack[MAX_FRAMES][STACK_BYTES]; /* frame k's stack is stack[k] */
	struct frame frames[MAX_FRAMES];
	unsigned depth;                         /* frames active beyond the first */
	uint8_t *mem;
	size_t mem_len;
	char *why;
	size_t why_len;
};

static int fail(struct machine *m, int code, size_t pc, const char *fmt, ...)
{
	if (m->why && m->why_len) {
		int k = snprintf(m->why, m->why_len, "insn %zu: ", pc);
		va_list ap;
		va_start(ap, fmt);
		if (k >= 0 && (size_t)k < m->why_len)
			vsnprintf(m->why + k, m->why_len - (size_t)k, fmt, ap);
		va_end(ap);
	}
	return code;
}

/*
 * The host address of [addr, addr+size) if it lies in the stack of a live
 * frame or in mem.
 */
static uint8_t *host_ptr(struct machine *m, uint64_t addr, unsigned size)
{
	uint64_t s = (uint64_t)(uintptr_t)m->stack[0];
	if (addr >= s && addr + size <= s + STACK_BYTES * (m->depth + 1) && addr + size > addr)
		return (uint8_t *)(uintptr_t)addr;
	uint64_t b = (uint64_t)(uintptr_t)m->mem;
	if (m->mem && addr >= b && addr + size <= b + m->mem_len && addr + size > addr)
		return (uint8_t *)(uintptr_t)addr;
	return NULL;
}

static uint64_t load(const uint8_t *p, unsigned size)
{
	uint8_t b8;
	uint16_t b16;
	uint32_t b32;
	uint64_t b64;
	switch (size) {
	case 1: memcpy(&b8, p, 1); return b8;
	case 2: memcpy(&b16, p, 2); return b16;
	case 4: memcpy(&b32, p, 4); return b32;
	default: memcpy(&b64, p, 8); return b64;
	}
}

static void store(uint8_t *p, unsigned size, uint64_t v)
{
	uint8_t b8 = (uint8_t)v;
	uint16_t b16 = (uint16_t)v;
	uint32_t b32 = (uint32_t)v;
	switch (size) {
	case 1: memcpy(p, &b8, 1); break;
	case 2: memcpy(p, &b16, 2); break;
	case 4: memcpy(p, &b32, 4); break;
	default: memcpy(p, &v, 8); break;
	}
}

static unsigned size_of(uint8_t code)
{
	switch (BPF_SIZE(code)) {
	case BPF_B: return 1;
	case BPF_H: return 2;
	case BPF_W: return 4;
	default:    return 8;
	}
}

static uint64_t sext(uint64_t v, unsigned bits)
{
	if (bits == 8)
		return (uint64_t)(int64_t)(int8_t)v;
	if (bits == 16)
		return (uint64_t)(int64_t)(int16_t)v;
	if (bits == 32)
		return (uint64_t)(int64_t)(int32_t)v;
	return v;
}

static uint64_t bswap(uint64_t v, int32_t width)
{
	switch (width) {
	case 16: return __builtin_bswap16((uint16_t)v);
	case 32: return __builtin_bswap32((uint32_t)v);
	default: return __builtin_bswap64(v);
	}
}

static uint64_t truncate(uint64_t v, int32_t width)
{
	switch (width) {
	case 16: return (uint16_t)v;
	case 32: return (uint32_t)v;
	default: return v;
	}
}

/*
 * Section 4.1, 64-bit.  Returns false for a reserved encoding.
 * Division by zero gives 0; modulo by zero leaves dst unchanged.
 */
static bool alu64(uint8_t op, int16_t off, uint64_t *dstp, uint64_t src)
{
	uint64_t dst = *dstp;
	int64_t sd = (int64_t)dst, ss = (int64_t)src;

	if (off != 0 && op != BPF_DIV && op != BPF_MOD && op != BPF_MOV)
		return false;
	switch (op) {
	case BPF_ADD: dst += src; break;
	case BPF_SUB: dst -= src; break;
	case BPF_MUL: dst *= src; break;
	case BPF_DIV:
		if (off == 0)
			dst = src ? dst / src : 0;
		else if (off == 1)
			dst = src == 0 ? 0 : ss == -1 ? 0 - dst : (uint64_t)(sd / ss);
		else
			return false;
		break;
	case BPF_MOD:
		if (off == 0)
			dst = src ? dst % src : dst;
		else if (off == 1)
			dst = src == 0 ? dst : ss == -1 ? 0 : (uint64_t)(sd % ss);
		else
			return false;
		break;
	case BPF_OR:  dst |= src; break;
	case BPF_AND: dst &= src; break;
	case BPF_XOR: dst ^= src; break;
	case BPF_LSH: dst <<= (src & 63); break;
	case BPF_RSH: dst >>= (src & 63); break;
	case BPF_ARSH: dst = (uint64_t)(sd >> (src & 63)); break;
	case BPF_MOV:
		/* off 8/16/32: sign-extending move (section 4.1.1) */
		if (off != 0 && off != 8 && off != 16 && off != 32)
			return false;
		dst = off ? sext(src, (unsigned)off) : src;
		break;
	default:
		return false;
	}
	*dstp = dst;
	return true;
}

/* Section 4.1, 32-bit: operands are the low halves, the result is zero-extended. */
static bool alu32(uint8_t op, int16_t off, uint64_t *dstp, uint64_t src64)
{
	uint32_t dst = (uint32_t)*dstp, src = (uint32_t)src64;
	int32_t sd = (int32_t)dst, ss = (int32_t)src;

	if (off != 0 && op != BPF_DIV && op != BPF_MOD && op != BPF_MOV)
		return false;
	switch (op) {
	case BPF_ADD: dst += src; break;
	case BPF_SUB: dst -= src; break;
	case BPF_MUL: dst *= src; break;
	case BPF_DIV:
		if (off == 0)
			dst = src ? dst / src : 0;
		else if (off == 1)
			dst = src == 0 ? 0 : ss == -1 ? 0 - dst : (uint32_t)(sd / ss);
		else
			return false;
		break;
	case BPF_MOD:
		/* modulo by zero: the upper half is zeroed, the lower kept */
		if (off == 0)
			dst = src ? dst % src : dst;
		else if (off == 1)
			dst = src == 0 ? dst : ss == -1 ? 0 : (uint32_t)(sd % ss);
		else
			return false;
		break;
	case BPF_OR:  dst |= src; break;
	case BPF_AND: dst &= src; break;
	case BPF_XOR: dst ^= src; break;
	case BPF_LSH: dst <<= (src & 31); break;
	case BPF_RSH: dst >>= (src & 31); break;
	case BPF_ARSH: dst = (uint32_t)(sd >> (src & 31)); break;
	case BPF_MOV:
		if (off != 0 && off != 8 && off != 16)
			return false;
		dst = off ? (uint32_t)sext(src64, (unsigned)off) : src;
		break;
	default:
		return false;
	}
	*dstp = dst;
	return true;
}

/* Section 4.3: does the condition of a conditional jump hold? */
static bool condition(uint8_t op, uint64_t a, uint64_t b, bool is32, bool *taken)
{
	if (is32) {
		a = (uint32_t)a;
		b = (uint32_t)b;
	}
	int64_t sa = is32 ? (int32_t)a : (int64_t)a;
	int64_t sb = is32 ? (int32_t)b : (int64_t)b;
	switch (op) {
	case BPF_JEQ:  *taken = a == b; break;
	case BPF_JNE:  *taken = a != b; break;
	case BPF_JGT:  *taken = a > b; break;
	case BPF_JGE:  *taken = a >= b; break;
	case BPF_JLT:  *taken = a < b; break;
	case BPF_JLE:  *taken = a <= b; break;
	case BPF_JSET: *taken = (a & b) != 0; break;
	case BPF_JSGT: *taken = sa > sb; break;
	case BPF_JSGE: *taken = sa >= sb; break;
	case BPF_JSLT: *taken = sa < sb; break;
	case BPF_JSLE: *taken = sa <= sb; break;
	default:       return false;
	}
	return true;
}

/* Section 5.3: the atomic operation imm on the size-byte word at p. */
static bool atomic(struct machine *m, uint8_t *p, unsigned size, int32_t imm, uint8_t src)
{
	uint64_t old = load(p, size);
	uint64_t val = size == 4 ? (uint32_t)m->r[src] : m->r[src];
	uint64_t res;

	switch (imm & ~BPF_FETCH) {
	case BPF_ADD: res = old + val; break;
	case BPF_OR:  res = old | val; break;
	case BPF_AND: res = old & val; break;
	case BPF_XOR: res = old ^ val; break;
	default:
		if (imm == BPF_XCHG) {
			store(p, size, val);
			m->r[src] = old; /* load() already zero-extends a word */
			return true;
		}
		if (imm == BPF_CMPXCHG) {
			uint64_t expect = size == 4 ? (uint32_t)m->r[0] : m->r[0];
			if (old == expect)
				store(p, size, val);
			m->r[0] = old;
			return true;
		}
		return false;
	}
	store(p, size, res);
	if (imm & BPF_FETCH)
		m->r[src] = old;
	return true;
}

int refeval_run(const struct bpf_insn *insns, size_t n, void *mem, size_t mem_len,
		uint64_t max_steps, uint64_t *r0, char *why, size_t why_len)
{
	return refeval_run_helpers(insns, n, mem, mem_len, max_steps, NULL, NULL, r0, NULL, why,
				   why_len);
}

int refeval_run_helpers(const struct bpf_insn *insns, size_t n, void *mem, size_t mem_len,
			uint64_t max_steps, refeval_helper_fn helper, void *helper_ctx,
			uint64_t *r0, uint64_t *steps_out, char *why, size_t why_len)
{
	static __thread struct machine storage;
	struct machine *m = &storage;
	size_t pc = 0;
	uint64_t steps = 0;

	memset(m, 0, sizeof(*m));
	m->mem = mem;
	m->mem_len = mem_len;
	m->why = why;
	m->why_len = why_len;
	m->r[1] = (uint64_t)(uintptr_t)mem;
	m->r[2] = mem_len;
	m->r[10] = (uint64_t)(uintptr_t)(m->stack[0] + STACK_BYTES);
	if (why && why_len)
		why[0] = '\0';

	for (;;) {
		if (pc >= n)
			return fail(m, -EFAULT, pc, "ran off the end of the program");
		if (max_steps && steps >= max_steps)
			return fail(m, -ETIME, pc, "more than %llu steps",
				    (unsigned long long)max_steps);
		steps++;
		const struct bpf_insn *in = &insns[pc];
		uint8_t code = in->code, cls = BPF_CLASS(code);
		uint8_t d = in->dst_reg, s = in->src_reg;

		if (d > 10 || s > 10)
			return fail(m, -EINVAL, pc, "bad register");
		bool writes_dst = cls == BPF_ALU || cls == BPF_ALU64 || cls == BPF_LDX ||
				  (cls == BPF_LD && code == (BPF_LD | BPF_IMM | BPF_DW));
		if (writes_dst && d == 10)
			return fail(m, -EINVAL, pc, "write to r10");

		switch (cls) {
		case BPF_ALU64:
		case BPF_ALU: {
			bool is64 = cls == BPF_ALU64;
			uint8_t op = BPF_OP(code);
			if (op == BPF_NEG) {
				if (BPF_SRC(code) != BPF_K || s || in->off || in->imm)
					return fail(m, -EINVAL, pc, "bad neg");
				m->r[d] = is64 ? 0 - m->r[d] : (uint32_t)(0 - (uint32_t)m->r[d]);
				break;
			}
			if (op == BPF_END) {
				int32_t w = in->imm;
				if ((w != 16 && w != 32 && w != 64) || s || in->off)
					return fail(m, -EINVAL, pc, "bad byte swap");
				if (is64) {
					if (BPF_SRC(code) != BPF_TO_LE)
						return fail(m, -EINVAL, pc, "bad bswap");
					m->r[d] = bswap(m->r[d], w);
				} else if (BPF_SRC(code) == BPF_TO_LE) {
					m->r[d] = truncate(m->r[d], w);
				} else {
					m->r[d] = bswap(m->r[d], w);
				}
				break;
			}
			uint64_t src;
			if (BPF_SRC(code) == BPF_X) {
				if (in->imm || s == 10)
					return fail(m, -EINVAL, pc, "bad register-source ALU");
				src = m->r[s];
			} else {
				if (s)
					return fail(m, -EINVAL, pc, "bad immediate ALU");
				/* ALU64: imm is sign-extended; ALU: its 32 bits are used */
				src = is64 ? (uint64_t)(int64_t)in->imm : (uint32_t)in->imm;
				if (op == BPF_MOV && in->off)
					return fail(m, -EINVAL, pc, "movsx needs a register");
			}
			bool ok = is64 ? alu64(op, in->off, &m->r[d], src)
				       : alu32(op, in->off, &m->r[d], src);
			if (!ok)
				return fail(m, -EINVAL, pc, "unknown ALU opcode 0x%02x off %d", code,
					    in->off);
			break;
		}
		case BPF_JMP:
		case BPF_JMP32: {
			bool is32 = cls == BPF_JMP32;
			uint8_t op = BPF_OP(code);
			if (op == BPF_EXIT && !is32) {
				if (m->depth == 0) {
					*r0 = m->r[0];
					if (steps_out)
						*steps_out = steps;
					return 0;
				}
				/* back to the caller: its r6..r10 as they were */
				struct frame *fr = &m->frames[--m->depth];
				memcpy(&m->r[6], fr->saved, sizeof(fr->saved));
				pc = fr->ret_pc;
				continue;
			}
			if (op == BPF_CALL && !is32 && s == BPF_PSEUDO_CALL) {
				/* bpf-to-bpf: imm is relative to the next instruction;
				 * r1..r5 are passed as they are, r0 comes back */
				if (d || in->off)
					return fail(m, -EINVAL, pc, "bad local call");
				if (m->depth + 1 >= MAX_FRAMES)
					return fail(m, -E2BIG, pc, "more than %d frames", MAX_FRAMES);
				long target = (long)pc + 1 + in->imm;
				if (target < 0 || (size_t)target >= n)
					return fail(m, -EINVAL, pc, "call outside the program");
				struct frame *fr = &m->frames[m->depth++];
				memcpy(fr->saved, &m->r[6], sizeof(fr->saved));
				fr->ret_pc = pc + 1;
				/* the callee's stack is zeroed, like the first frame's */
				memset(m->stack[m->depth], 0, STACK_BYTES);
				m->r[10] = (uint64_t)(uintptr_t)(m->stack[m->depth] + STACK_BYTES);
				pc = (size_t)target;
				continue;
			}
			if (op == BPF_CALL && !is32 && s == 0) {
				if (d || in->off || !helper)
					return fail(m, -EINVAL, pc, "helper call %d not supported", in->imm);
				uint64_t res;
				int e = helper(helper_ctx, in->imm, &m->r[1], &res);
				if (e)
					return fail(m, e, pc, "helper %d failed", in->imm);
				m->r[0] = res;
				break;
			}
			if (op == BPF_CALL)
				return fail(m, -EINVAL, pc, "unsupported call");
			if (op == BPF_JA) {
				/* ja uses off; the JMP32 form (gotol) uses imm */
				long off = is32 ? in->imm : in->off;
				pc = (size_t)((long)pc + 1 + off);
				continue;
			}
			uint64_t b;
			if (BPF_SRC(code) == BPF_X) {
				if (s == 10)
					return fail(m, -EINVAL, pc, "comparison with r10");
				b = m->r[s];
			} else {
				b = (uint64_t)(int64_t)in->imm;
			}
			bool taken;
			if (!condition(op, m->r[d], b, is32, &taken))
				return fail(m, -EINVAL, pc, "unknown jump opcode 0x%02x", code);
			if (taken) {
				pc = (size_t)((long)pc + 1 + in->off);
				continue;
			}
			break;
		}
		case BPF_LD:
			if (code != (BPF_LD | BPF_IMM | BPF_DW) || s != 0 || pc + 1 >= n)
				return fail(m, -EINVAL, pc, "unsupported ld 0x%02x src %u", code, s);
			m->r[d] = (uint32_t)in->imm | ((uint64_t)(uint32_t)insns[pc + 1].imm << 32);
			pc += 2;
			continue;
		case BPF_LDX: {
			unsigned size = size_of(code);
			uint8_t *p = host_ptr(m, m->r[s] + (uint64_t)(int64_t)in->off, size);
			if (!p)
				return fail(m, -EFAULT, pc, "load outside memory");
			if (BPF_MODE(code) == BPF_MEM)
				m->r[d] = load(p, size);
			else if (BPF_MODE(code) == BPF_MEMSX && size < 8)
				m->r[d] = sext(load(p, size), size * 8);
			else
				return fail(m, -EINVAL, pc, "unknown load 0x%02x", code);
			break;
		}
		case BPF_ST:
		case BPF_STX: {
			unsigned size = size_of(code);
			bool atomic_mode = cls == BPF_STX && BPF_MODE(code) == BPF_ATOMIC;
			if (atomic_mode && in->imm == BPF_LOAD_ACQ) {
				/* Linux 6.15: dst = *(src + off), zero-extended; with
				 * one thread it is an ordinary load */
				uint8_t *p = host_ptr(m, m->r[s] + (uint64_t)(int64_t)in->off, size);
				if (d == 10)
					return fail(m, -EINVAL, pc, "write to r10");
				if (!p)
					return fail(m, -EFAULT, pc, "load outside memory");
				m->r[d] = load(p, size);
				break;
			}
			uint8_t *p = host_ptr(m, m->r[d] + (uint64_t)(int64_t)in->off, size);
			if (!p)
				return fail(m, -EFAULT, pc, "store outside memory");
			if (cls == BPF_ST && BPF_MODE(code) == BPF_MEM) {
				/* the immediate is sign-extended, then truncated to size */
				store(p, size, (uint64_t)(int64_t)in->imm);
			} else if (cls == BPF_STX && BPF_MODE(code) == BPF_MEM) {
				store(p, size, m->r[s]);
			} else if (atomic_mode && in->imm == BPF_STORE_REL) {
				store(p, size, m->r[s]);
			} else if (atomic_mode && (size == 4 || size == 8)) {
				if (s == 10 || !atomic(m, p, size, in->imm, s))
					return fail(m, -EINVAL, pc, "unknown atomic imm 0x%x", in->imm);
			} else {
				return fail(m, -EINVAL, pc, "unknown store 0x%02x", code);
			}
			break;
		}
		default:
			return fail(m, -EINVAL, pc, "unknown opcode 0x%02x", code);
		}
		pc++;
	}
}
