/*
 * kbpf_bench.h - small private helpers for the benchmarks in bench/:
 * building instructions in C, loading and test-running programs in the
 * real kernel through bpf(2), and timing.
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
#include <sys/syscall.h>
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

/* ---- the kernel side ---------------------------------------------------- */

static inline long kb_sys_bpf(int cmd, union bpf_attr *attr, unsigned size)
{
	return syscall(__NR_bpf, cmd, attr, size);
}

/*
 * Load a program into the kernel.  Returns the fd, or a negative errno;
 * on failure the verifier's log (its tail when long) goes to log, which
 * may be NULL.
 */
static inline int kb_kernel_load(enum bpf_prog_type type, const struct bpf_insn *insns, size_t n,
				 char *log, size_t log_len)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = type;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = (uint32_t)n;
	attr.license = (uint64_t)(uintptr_t) "GPL";
	int fd = (int)kb_sys_bpf(BPF_PROG_LOAD, &attr, sizeof(attr));
	if (fd >= 0)
		return fd;
	int e = errno;
	if (log && log_len) {
		/* Load again with the log on: only the failure needs it, and a
		 * log large enough for a 1M-instruction verification is costly. */
		log[0] = '\0';
		attr.log_buf = (uint64_t)(uintptr_t)log;
		attr.log_size = (uint32_t)log_len;
		attr.log_level = 1;
		int fd2 = (int)kb_sys_bpf(BPF_PROG_LOAD, &attr, sizeof(attr));
		if (fd2 >= 0)
			close(fd2);
		log[log_len - 1] = '\0';
	}
	return -e;
}

/*
 * BPF_PROG_TEST_RUN: run fd repeat times on data.  On success *retval is
 * the program's (32-bit) return value and *duration_ns the kernel's own
 * measure, which is the average time of one run in nanoseconds (the
 * kernel divides its total by repeat).
 */
static inline int kb_kernel_test_run(int fd, void *data, uint32_t len, uint32_t repeat,
				     uint32_t *retval, uint32_t *duration_ns)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.test.prog_fd = (uint32_t)fd;
	attr.test.data_in = (uint64_t)(uintptr_t)data;
	attr.test.data_size_in = len;
	attr.test.repeat = repeat;
	if (kb_sys_bpf(BPF_PROG_TEST_RUN, &attr, sizeof(attr)) < 0)
		return -errno;
	*retval = attr.test.retval;
	*duration_ns = attr.test.duration;
	return 0;
}

/*
 * The native code the kernel's JIT made of fd (BPF_OBJ_GET_INFO_BY_FD with
 * jited_prog_insns): copies up to cap bytes to out and returns the image's
 * full length, or a negative errno.
 */
static inline long kb_kernel_jited(int fd, uint8_t *out, uint32_t cap)
{
	struct bpf_prog_info info;
	memset(&info, 0, sizeof(info));
	info.jited_prog_len = cap;
	info.jited_prog_insns = (uint64_t)(uintptr_t)out;
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (uint32_t)fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (uint64_t)(uintptr_t)&info;
	if (kb_sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)) < 0)
		return -errno;
	return (long)info.jited_prog_len;
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
