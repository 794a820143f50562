/*
 * kbpf_bench.h - small private helpers for the benchmarks in bench/:
 * building instructions in C, and timing.  The kernel side (loading,
 * test runs, reading back the JIT image) is tests/kernel/kbpf.c, which
 * bench/CMakeLists.txt compiles into every benchmark.
 *
 * This is a header (every function static) because bench/CMakeLists.txt
 * builds each .c file in bench/ as its own executable; a helper .c file
 * there would become a program of its own.
 *
 * The instruction builders mirror the encoding of RFC 9669 section 3 and
 * are deliberately tiny: a benchmark states its program as an array of
 * these, which the kernel and bee then receive byte for byte the same.
 */
#ifndef BEE_BENCH_KBPF_BENCH_H
#define BEE_BENCH_KBPF_BENCH_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>

/* ---- instruction builders ---------------------------------------------- */

static inline struct bpf_insn kb_insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off,
				      int32_t imm)
{
	struct bpf_insn i;
	memset(&i, 0, sizeof(i));
	i.code = code;
	i.dst_reg = dst & 0xf;
	i.src_reg = src & 0xf;
	i.off = off;
	i.imm = imm;
	return i;
}

/* dst op= imm / dst op= src, 64-bit (op is BPF_ADD, BPF_MUL, ...). */
#define KB_ALU64_IMM(op, dst, imm) kb_insn(BPF_ALU64 | (op) | BPF_K, (dst), 0, 0, (imm))
#define KB_ALU64_REG(op, dst, src) kb_insn(BPF_ALU64 | (op) | BPF_X, (dst), (src), 0, 0)
#define KB_MOV64_IMM(dst, imm) KB_ALU64_IMM(BPF_MOV, (dst), (imm))
#define KB_MOV64_REG(dst, src) KB_ALU64_REG(BPF_MOV, (dst), (src))
/* dst = *(size *)(src + off) and *(size *)(dst + off) = src / imm. */
#define KB_LDX(size, dst, src, off) kb_insn(BPF_LDX | BPF_MEM | (size), (dst), (src), (off), 0)
#define KB_STX(size, dst, src, off) kb_insn(BPF_STX | BPF_MEM | (size), (dst), (src), (off), 0)
#define KB_ST(size, dst, off, imm) kb_insn(BPF_ST | BPF_MEM | (size), (dst), 0, (off), (imm))
/* if dst op imm goto pc + off; if dst op src goto pc + off; goto pc + off. */
#define KB_JMP_IMM(op, dst, imm, off) kb_insn(BPF_JMP | (op) | BPF_K, (dst), 0, (off), (imm))
#define KB_JMP_REG(op, dst, src, off) kb_insn(BPF_JMP | (op) | BPF_X, (dst), (src), (off), 0)
#define KB_JA(off) kb_insn(BPF_JMP | BPF_JA, 0, 0, (off), 0)
#define KB_EXIT() kb_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
/* dst = imm64: two slots. */
#define KB_LDDW_LO(dst, imm64) kb_insn(BPF_LD | BPF_IMM | BPF_DW, (dst), 0, 0, (int32_t)(uint32_t)(imm64))
#define KB_LDDW_HI(imm64) kb_insn(0, 0, 0, 0, (int32_t)(uint32_t)((uint64_t)(imm64) >> 32))

/*
 * A growing instruction buffer with labels, so that loops can be written
 * without counting jump offsets by hand: kb_here() remembers a position
 * and kb_jump_back() encodes "goto that position" from the current one.
 */
#define KB_MAX_INSNS 256

struct kb_prog {
	struct bpf_insn insns[KB_MAX_INSNS];
	size_t n;
	int overflow; /* set when a program outgrew KB_MAX_INSNS */
};

static inline void kb_emit(struct kb_prog *p, struct bpf_insn insn)
{
	if (p->n >= KB_MAX_INSNS) {
		p->overflow = 1;
		return;
	}
	p->insns[p->n++] = insn;
}

static inline void kb_lddw(struct kb_prog *p, uint8_t dst, uint64_t imm64)
{
	kb_emit(p, KB_LDDW_LO(dst, imm64));
	kb_emit(p, KB_LDDW_HI(imm64));
}

static inline size_t kb_here(const struct kb_prog *p)
{
	return p->n;
}

/* Offset of a jump emitted now (at index p->n) that lands on target. */
static inline int16_t kb_off_to(const struct kb_prog *p, size_t target)
{
	return (int16_t)((long)target - (long)p->n - 1);
}

/* A forward jump whose offset is filled in later by kb_patch_here(). */
static inline size_t kb_emit_fwd(struct kb_prog *p, struct bpf_insn jump)
{
	size_t at = p->n;
	kb_emit(p, jump);
	return at;
}

static inline void kb_patch_here(struct kb_prog *p, size_t at)
{
	if (at < p->n)
		p->insns[at].off = (int16_t)((long)p->n - (long)at - 1);
}

/* ---- timing ------------------------------------------------------------- */

static inline uint64_t kb_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * CPU time of the calling thread: time the thread spent off the CPU (the
 * VM running something else) is left out, as the kernel's test-run
 * duration leaves out the time it yields the CPU.
 */
static inline uint64_t kb_thread_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * How long the calling thread has waited, runnable but not running, on a
 * run queue since it started: the second field of
 * /proc/thread-self/schedstat (CONFIG_SCHED_INFO), in ns.  fd is that file
 * opened by the caller; returns 0 when it cannot be read.
 *
 * Wall time minus this wait is the time a thread that never sleeps spent
 * on the CPU, measured with the wall clock: what the kernel's own test-run
 * timer measures (ktime_get_ns, stopped while the test run yields the CPU).
 */
static inline uint64_t kb_run_delay_ns(int fd)
{
	char text[128];
	ssize_t n = fd >= 0 ? pread(fd, text, sizeof(text) - 1, 0) : -1;
	if (n <= 0)
		return 0;
	text[n] = '\0';
	char *end;
	strtoull(text, &end, 10); /* time on the CPU */
	return strtoull(end, NULL, 10);
}

static inline int kb_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median of v[0..n) (sorts v in place); 0 for n == 0. */
static inline double kb_median(double *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), kb_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif
