/*
 * bench_interp.c - how fast bee runs CPU-bound eBPF loops on its JIT and
 * its interpreter, each in fast and checked mode, measured against the
 * kernel's JIT on the same programs in the same run.
 *
 * Each benchmark program is built once as an instruction array and given,
 * byte for byte, to the kernel (BPF_PROG_LOAD as XDP, then
 * BPF_PROG_TEST_RUN with a repeat count) and to bee (bee_code_load, then
 * bee_code_run on each engine in each mode).  Every program is a bounded
 * loop the kernel's verifier accepts (Linux >= 5.3): the loop counter is
 * compared with a constant, so the verifier walks every iteration, which
 * caps iterations x body length near its 1M-instruction budget; calls are
 * repeated to get long enough measurements.
 *
 * The figure reported is nanoseconds per loop iteration, and both sides
 * are timed the same way: wall time (CLOCK_MONOTONIC) around a series of
 * runs, less the time the thread was off the CPU, divided by the runs.
 *
 *  - kernel: the kernel's own `duration` from BPF_PROG_TEST_RUN with a
 *    repeat count.  The kernel reads ktime_get_ns (CLOCK_MONOTONIC) right
 *    before and after its loop of runs, stops the clock while it yields
 *    the CPU (cond_resched on need_resched), and divides by the repeat
 *    count.  Its per-run loop work (the XDP dispatcher's call, the
 *    need_resched check) is included; the syscall's set-up is not.
 *  - bee: CLOCK_MONOTONIC read in this thread right before and after a
 *    series of bee_code_run calls, less the time the thread waited on a
 *    run queue meanwhile (/proc/thread-self/schedstat): the same clock,
 *    stopped for the same reason.  bee_code_run's per-call set-up is
 *    included.  (--clock cpu: the thread's CPU time instead, which agrees
 *    within 0.1% here; it is the fallback without schedstat.)
 *
 * Why not time the kernel from outside the syscall: each
 * BPF_PROG_TEST_RUN with repeat > 1 first installs the program in the XDP
 * dispatcher and removes it after, 0.2 to 0.4 ms of CPU and ~30 ms of wall
 * time (an RCU grace period) per syscall on the project's VM, which is no
 * part of running the program.  That figure is printed for reference only.
 *
 * Each round cuts every column's measurement into --slices pieces
 * (default 10, ~10 ms each) and interleaves them: kernel, JIT fast, ...,
 * interpreter checked, then the reverse order, and so on.  A round's
 * figure per column is its fastest slice (--stat min; --stat mean: the
 * mean over its slices): on a shared machine a disturbance only ever adds
 * time, to either side, so the fastest slice is each side's least
 * disturbed measure.  Each column is the median over --runs rounds, and
 * the kernel program is loaded anew every round, because its JIT places
 * the code somewhere new each time and a tight loop's speed depends on
 * the placement (2x for csum): the median spans placements.  bee's JIT
 * compiles on a program's first run in each mode, which happens while
 * the answers are checked, before any timing.  Pin the process to one
 * CPU (taskset -c 1): the vCPUs of the project's machines differ up to 2x.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "bee/error.h"
#include "bee/vm.h"
#include "kbpf.h" /* tests/kernel: the raw bpf(2) calls */
#include "kbpf_bench.h"

/* Loop trip counts: iterations x body length must stay well under the
 * kernel verifier's 1,000,000 processed instructions. */
#define COUNT_ITERS 250000u  /* 2-insn body */
#define HASH_ITERS 50000u    /* 13-insn body */
#define CSUM_LEN 1500u       /* bytes per pass: one Ethernet MTU */
#define CSUM_PASSES 40u      /* 6-insn body, 60,000 bytes per call */
#define STACK_ITERS 40000u   /* 12-insn body */

#define HASH_SEED 0x243f6a8885a308d3ull
#define HASH_MUL 0x9e3779b97f4a7c15ull

enum target { FOR_KERNEL, FOR_BEE };

struct bench_prog {
	const char *name;
	const char *what;
	uint64_t iters;                                     /* loop iterations per call */
	void (*build)(struct kb_prog *p, enum target t);
	uint64_t (*reference)(const uint8_t *buf, size_t len); /* the same in C */
};

/* ---- the programs -------------------------------------------------------- */

/*
 *   r0 = 0
 * loop:
 *   r0 += 1
 *   if r0 < COUNT_ITERS goto loop
 *   exit
 */
static void build_count(struct kb_prog *p, enum target t)
{
	(void)t;
	kb_emit(p, KB_MOV64_IMM(BPF_REG_0, 0));
	size_t loop = kb_here(p);
	kb_emit(p, KB_ALU64_IMM(BPF_ADD, BPF_REG_0, 1));
	kb_emit(p, KB_JMP_IMM(BPF_JLT, BPF_REG_0, COUNT_ITERS, kb_off_to(p, loop)));
	kb_emit(p, KB_EXIT());
}

static uint64_t ref_count(const uint8_t *buf, size_t len)
{
	(void)buf, (void)len;
	return COUNT_ITERS;
}

/*
 *   r0 = HASH_SEED ll
 *   r6 = HASH_MUL ll
 *   r5 = 0
 * loop:
 *   r0 ^= r5                       mix in the counter
 *   r0 *= r6
 *   r2 = r0; r2 >>= 29; r0 ^= r2   xorshift
 *   r3 = r0; r3 <<= 17             rotate left by 17, emulated:
 *   r4 = r0; r4 >>= 47; r3 |= r4   eBPF has no rotate instruction
 *   r0 += r3
 *   r5 += 1
 *   if r5 < HASH_ITERS goto loop
 *   exit
 */
static void build_hash(struct kb_prog *p, enum target t)
{
	(void)t;
	kb_lddw(p, BPF_REG_0, HASH_SEED);
	kb_lddw(p, BPF_REG_6, HASH_MUL);
	kb_emit(p, KB_MOV64_IMM(BPF_REG_5, 0));
	size_t loop = kb_here(p);
	kb_emit(p, KB_ALU64_REG(BPF_XOR, BPF_REG_0, BPF_REG_5));
	kb_emit(p, KB_ALU64_REG(BPF_MUL, BPF_REG_0, BPF_REG_6));
	kb_emit(p, KB_MOV64_REG(BPF_REG_2, BPF_REG_0));
	kb_emit(p, KB_ALU64_IMM(BPF_RSH, BPF_REG_2, 29));
	kb_emit(p, KB_ALU64_REG(BPF_XOR, BPF_REG_0, BPF_REG_2));
	kb_emit(p, KB_MOV64_REG(BPF_REG_3, BPF_REG_0));
	kb_emit(p, KB_ALU64_IMM(BPF_LSH, BPF_REG_3, 17));
	kb_emit(p, KB_MOV64_REG(BPF_REG_4, BPF_REG_0));
	kb_emit(p, KB_ALU64_IMM(BPF_RSH, BPF_REG_4, 47));
	kb_emit(p, KB_ALU64_REG(BPF_OR, BPF_REG_3, BPF_REG_4));
	kb_emit(p, KB_ALU64_REG(BPF_ADD, BPF_REG_0, BPF_REG_3));
	kb_emit(p, KB_ALU64_IMM(BPF_ADD, BPF_REG_5, 1));
	kb_emit(p, KB_JMP_IMM(BPF_JLT, BPF_REG_5, HASH_ITERS, kb_off_to(p, loop)));
	kb_emit(p, KB_EXIT());
}

static uint64_t ref_hash(const uint8_t *buf, size_t len)
{
	(void)buf, (void)len;
	uint64_t h = HASH_SEED;
	for (uint64_t i = 0; i < HASH_ITERS; i++) {
		h ^= i;
		h *= HASH_MUL;
		h ^= h >> 29;
		h += (h << 17) | (h >> 47);
	}
	return h;
}

/*
 * A Fletcher-style byte checksum (two running 64-bit sums, no modulo)
 * over CSUM_LEN bytes, CSUM_PASSES times.  Only the first instructions
 * differ: the kernel's XDP program reads data and data_end from its
 * struct xdp_md, bee's program gets the memory in r1 and its length in r2.
 * From there on both are the same: one bounds check up front (which the
 * kernel's verifier needs to allow the loads), then the loop.
 *
 * kernel:  r2 = *(u32 *)(r1 + 0)       xdp_md->data
 *          r3 = *(u32 *)(r1 + 4)       xdp_md->data_end
 * bee:     r3 = r1; r3 += r2; r2 = r1  end = mem + len; p = mem
 * both:    r0 = 0; r6 = 0
 *          r4 = r2; r4 += CSUM_LEN
 *          if r4 > r3 goto out
 *          r8 = r2; r7 = 0
 * outer:   r2 = r8; r5 = 0
 * inner:   r4 = *(u8 *)(r2 + 0)
 *          r0 += r4
 *          r6 += r0
 *          r2 += 1
 *          r5 += 1
 *          if r5 < CSUM_LEN goto inner
 *          r7 += 1
 *          if r7 < CSUM_PASSES goto outer
 *          r6 <<= 16; r0 ^= r6
 * out:     exit
 */
static void build_csum(struct kb_prog *p, enum target t)
{
	if (t == FOR_KERNEL) {
		kb_emit(p, KB_LDX(BPF_W, BPF_REG_2, BPF_REG_1, 0));
		kb_emit(p, KB_LDX(BPF_W, BPF_REG_3, BPF_REG_1, 4));
	} else {
		kb_emit(p, KB_MOV64_REG(BPF_REG_3, BPF_REG_1));
		kb_emit(p, KB_ALU64_REG(BPF_ADD, BPF_REG_3, BPF_REG_2));
		kb_emit(p, KB_MOV64_REG(BPF_REG_2, BPF_REG_1));
	}
	kb_emit(p, KB_MOV64_IMM(BPF_REG_0, 0));
	kb_emit(p, KB_MOV64_IMM(BPF_REG_6, 0));
	kb_emit(p, KB_MOV64_REG(BPF_REG_4, BPF_REG_2));
	kb_emit(p, KB_ALU64_IMM(BPF_ADD, BPF_REG_4, CSUM_LEN));
	size_t to_out = kb_emit_fwd(p, KB_JMP_REG(BPF_JGT, BPF_REG_4, BPF_REG_3, 0));
	kb_emit(p, KB_MOV64_REG(BPF_REG_8, BPF_REG_2));
	kb_emit(p, KB_MOV64_IMM(BPF_REG_7, 0));
	size_t outer = kb_here(p);
	kb_emit(p, KB_MOV64_REG(BPF_REG_2, BPF_REG_8));
	kb_emit(p, KB_MOV64_IMM(BPF_REG_5, 0));
	size_t inner = kb_here(p);
	kb_emit(p, KB_LDX(BPF_B, BPF_REG_4, BPF_REG_2, 0));
	kb_emit(p, KB_ALU64_REG(BPF_ADD, BPF_REG_0, BPF_REG_4));
	kb_emit(p, KB_ALU64_REG(BPF_ADD, BPF_REG_6, BPF_REG_0));
	kb_emit(p, KB_ALU64_IMM(BPF_ADD, BPF_REG_2, 1));
	kb_emit(p, KB_ALU64_IMM(BPF_ADD, BPF_REG_5, 1));
	kb_emit(p, KB_JMP_IMM(BPF_JLT, BPF_REG_5, CSUM_LEN, kb_off_to(p, inner)));
	kb_emit(p, KB_ALU64_IMM(BPF_ADD, BPF_REG_7, 1));
	kb_emit(p, KB_JMP_IMM(BPF_JLT, BPF_REG_7, CSUM_PASSES, kb_off_to(p, outer)));
	kb_emit(p, KB_ALU64_IMM(BPF_LSH, BPF_REG_6, 16));
	kb_emit(p, KB_ALU64_REG(BPF_XOR, BPF_REG_0, BPF_REG_6));
	kb_patch_here(p, to_out);
	kb_emit(p, KB_EXIT());
}

static uint64_t ref_csum(const uint8_t *buf, size_t len)
{
	if (len < CSUM_LEN)
		return 0;
	uint64_t a = 0, b = 0;
	for (unsigned pass = 0; pass < CSUM_PASSES; pass++)
		for (size_t i = 0; i < CSUM_LEN; i++) {
			a += buf[i];
			b += a;
		}
	return a ^ (b << 16);
}

/*
 * A four-slot shift register kept on the stack: every iteration loads
 * three slots, stores four, and computes one new value.
 *
 *   *(u64 *)(r10 -8) = 1; ... *(u64 *)(r10 -32) = 4     s0..s3
 *   r5 = 0
 * loop:
 *   r2 = *(u64 *)(r10 -8)          s0
 *   r3 = *(u64 *)(r10 -32)         s3
 *   r3 += r2
 *   r3 ^= r5                       t = (s3 + s0) ^ i
 *   r4 = *(u64 *)(r10 -24)
 *   *(u64 *)(r10 -32) = r4         s3 = s2
 *   r4 = *(u64 *)(r10 -16)
 *   *(u64 *)(r10 -24) = r4         s2 = s1
 *   *(u64 *)(r10 -16) = r2         s1 = s0
 *   *(u64 *)(r10 -8) = r3          s0 = t
 *   r5 += 1
 *   if r5 < STACK_ITERS goto loop
 *   r0 = *(u64 *)(r10 -8)
 *   exit
 */
static void build_stack(struct kb_prog *p, enum target t)
{
	(void)t;
	kb_emit(p, KB_ST(BPF_DW, BPF_REG_10, -8, 1));
	kb_emit(p, KB_ST(BPF_DW, BPF_REG_10, -16, 2));
	kb_emit(p, KB_ST(BPF_DW, BPF_REG_10, -24, 3));
	kb_emit(p, KB_ST(BPF_DW, BPF_REG_10, -32, 4));
	kb_emit(p, KB_MOV64_IMM(BPF_REG_5, 0));
	size_t loop = kb_here(p);
	kb_emit(p, KB_LDX(BPF_DW, BPF_REG_2, BPF_REG_10, -8));
	kb_emit(p, KB_LDX(BPF_DW, BPF_REG_3, BPF_REG_10, -32));
	kb_emit(p, KB_ALU64_REG(BPF_ADD, BPF_REG_3, BPF_REG_2));
	kb_emit(p, KB_ALU64_REG(BPF_XOR, BPF_REG_3, BPF_REG_5));
	kb_emit(p, KB_LDX(BPF_DW, BPF_REG_4, BPF_REG_10, -24));
	kb_emit(p, KB_STX(BPF_DW, BPF_REG_10, BPF_REG_4, -32));
	kb_emit(p, KB_LDX(BPF_DW, BPF_REG_4, BPF_REG_10, -16));
	kb_emit(p, KB_STX(BPF_DW, BPF_REG_10, BPF_REG_4, -24));
	kb_emit(p, KB_STX(BPF_DW, BPF_REG_10, BPF_REG_2, -16));
	kb_emit(p, KB_STX(BPF_DW, BPF_REG_10, BPF_REG_3, -8));
	kb_emit(p, KB_ALU64_IMM(BPF_ADD, BPF_REG_5, 1));
	kb_emit(p, KB_JMP_IMM(BPF_JLT, BPF_REG_5, STACK_ITERS, kb_off_to(p, loop)));
	kb_emit(p, KB_LDX(BPF_DW, BPF_REG_0, BPF_REG_10, -8));
	kb_emit(p, KB_EXIT());
}

static uint64_t ref_stack(const uint8_t *buf, size_t len)
{
	(void)buf, (void)len;
	uint64_t s0 = 1, s1 = 2, s2 = 3, s3 = 4;
	for (uint64_t i = 0; i < STACK_ITERS; i++) {
		uint64_t t = (s3 + s0) ^ i;
		s3 = s2;
		s2 = s1;
		s1 = s0;
		s0 = t;
	}
	return s0;
}

static const struct bench_prog programs[] = {
	{"count", "r0 += 1 until a bound", COUNT_ITERS, build_count, ref_count},
	{"hash", "64-bit multiply/xorshift/rotate mix", HASH_ITERS, build_hash, ref_hash},
	{"csum", "byte checksum over 1500 bytes x 40", (uint64_t)CSUM_LEN * CSUM_PASSES, build_csum,
	 ref_csum},
	{"stack", "r10-relative loads and stores", STACK_ITERS, build_stack, ref_stack},
};
#define N_PROGRAMS (sizeof(programs) / sizeof(programs[0]))

/* ---- measuring ----------------------------------------------------------- */

struct options {
	unsigned runs;
	const char *only;
	unsigned target_ms; /* time aimed at for one measurement */
	const char *dump;   /* directory to write the programs and images to, or NULL */
	bool thread_cpu;    /* --clock cpu: bee timed with its thread's CPU time */
	int schedstat_fd;   /* /proc/thread-self/schedstat, or -1 */
	unsigned slices;    /* pieces each measurement is cut into (--slices) */
	bool mean;          /* --stat mean: a round's figure is its slices' mean, not the fastest */
};

/* The columns, in the order of each round. */
enum column { COL_KERNEL, COL_JIT_FAST, COL_JIT_CHECKED, COL_INT_FAST, COL_INT_CHECKED, N_COLUMNS };

static const struct {
	const char *head;         /* table heading */
	const char *name;         /* in notes */
	enum bee_engine engine;
	unsigned flags;
} columns[N_COLUMNS] = {
	[COL_KERNEL] = {"kernel JIT", "kernel", BEE_ENGINE_INTERP, 0},
	[COL_JIT_FAST] = {"JIT fast", "bee JIT fast", BEE_ENGINE_JIT, 0},
	[COL_JIT_CHECKED] = {"JIT chk", "bee JIT checked", BEE_ENGINE_JIT, BEE_RUN_CHECKED},
	[COL_INT_FAST] = {"intp fast", "bee interpreter fast", BEE_ENGINE_INTERP, 0},
	[COL_INT_CHECKED] = {"intp chk", "bee interpreter checked", BEE_ENGINE_INTERP,
			     BEE_RUN_CHECKED},
};

struct bee_side {
	struct bee_code *code;
	struct bee_run_opts run;
};

/* One bee_code_run of column c; returns its result (r0) through *r0. */
static int bee_run_once(const struct bee_side *b, enum column c, uint64_t *r0, char *why,
			size_t why_len)
{
	struct bee_run_opts o = b->run;
	o.engine = columns[c].engine;
	o.flags = columns[c].flags;
	struct bee_run_result res;
	memset(&res, 0, sizeof(res));
	int ret = bee_code_run(b->code, &o, &res);
	if (ret < 0) {
		char buf[320];
		snprintf(why, why_len, "%s", bee_error_format(&res.err, NULL, buf, sizeof(buf)));
		return ret;
	}
	*r0 = res.r0;
	return 0;
}

/*
 * Average ns of one call of column c over reps calls.  By default timed as
 * the kernel times its test runs: wall time (CLOCK_MONOTONIC, the clock of
 * the kernel's ktime_get_ns) around the calls, less the time the thread
 * waited on a run queue meanwhile (the kernel's timer stops while it
 * yields).  The clock is read first and last, so that the two reads of
 * schedstat count against bee, never for it.  With --clock cpu: the
 * thread's CPU time around the calls.
 */
static int bee_time(const struct bee_side *b, enum column c, uint64_t reps,
		    const struct options *opt, double *ns_per_call, char *why, size_t why_len)
{
	struct bee_run_opts o = b->run;
	o.engine = columns[c].engine;
	o.flags = columns[c].flags;
	struct bee_run_result res;
	uint64_t t0 = opt->thread_cpu ? kb_thread_ns() : kb_now_ns();
	uint64_t wait0 = opt->thread_cpu ? 0 : kb_run_delay_ns(opt->schedstat_fd);
	for (uint64_t i = 0; i < reps; i++) {
		int ret = bee_code_run(b->code, &o, &res);
		if (ret < 0) {
			char buf[320];
			snprintf(why, why_len, "%s",
				 bee_error_format(&res.err, NULL, buf, sizeof(buf)));
			return ret;
		}
	}
	uint64_t ns;
	if (opt->thread_cpu) {
		ns = kb_thread_ns() - t0;
	} else {
		uint64_t wait = kb_run_delay_ns(opt->schedstat_fd) - wait0;
		ns = kb_now_ns() - t0;
		ns = wait < ns ? ns - wait : 0;
	}
	*ns_per_call = (double)ns / (double)reps;
	return 0;
}

/*
 * Average ns of one kernel run over reps runs of one BPF_PROG_TEST_RUN:
 * the kernel's own `duration`, measured inside the kernel around its
 * repeat loop (see the header comment).  *syscall_ns gets, for reference,
 * the thread's CPU time around the whole syscall divided by reps, which
 * also counts the syscall's set-up.
 */
static int kernel_time(int kfd, uint8_t *buf, uint32_t buf_len, uint32_t reps, double *ns_per_run,
		       double *syscall_ns)
{
	uint32_t retval = 0, dur = 0;
	uint64_t t0 = kb_thread_ns();
	int ret = kbpf_test_run(kfd, buf, buf_len, reps, &retval, &dur);
	uint64_t t1 = kb_thread_ns();
	if (ret < 0)
		return ret;
	*ns_per_run = dur;
	*syscall_ns = (double)(t1 - t0) / (double)reps;
	return 0;
}

static uint64_t reps_for(double ns_per_call, unsigned target_ms)
{
	double want = (double)target_ms * 1e6 / (ns_per_call > 1 ? ns_per_call : 1);
	if (want < 1)
		return 1;
	if (want > 1e9)
		return 1000000000;
	return (uint64_t)want;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench_interp [--runs N] [--only NAME] [--ms N] [--slices N]\n"
		"                    [--stat min|mean] [--clock ktime|cpu] [--dump DIR]\n"
		"  --runs N     rounds per program; each column is the median (default 5)\n"
		"  --only NAME  run one program:");
	for (size_t i = 0; i < N_PROGRAMS; i++)
		fprintf(f, " %s", programs[i].name);
	fprintf(f, "\n  --ms N       aim each measurement at N ms (default 100)\n"
		   "  --slices N   cut each measurement into N pieces, interleaved with the\n"
		   "               other columns' pieces (default 10)\n"
		   "  --stat S     a round's figure per column: its fastest slice (min, the\n"
		   "               default) or the mean over its slices (mean)\n"
		   "  --clock C    time bee as the kernel times itself (ktime, the default: wall\n"
		   "               time less run-queue waits) or by its thread's CPU time (cpu)\n"
		   "  --dump DIR   also write DIR/NAME.bee (bee's program, raw), DIR/NAME.kernel\n"
		   "               (the kernel's program) and DIR/NAME.kjit (the kernel's JIT image)\n"
		   "Pin it to one CPU: taskset -c 1 build/bench/bench_interp\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
	o->runs = 5;
	o->only = NULL;
	o->target_ms = 100;
	o->dump = NULL;
	o->thread_cpu = false;
	o->slices = 10;
	o->mean = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			exit(0);
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "bench_interp: %s: missing argument or unknown option\n", a);
			return -1;
		}
		const char *v = argv[++i];
		char *end;
		if (!strcmp(a, "--runs")) {
			unsigned long n = strtoul(v, &end, 10);
			if (*end || n == 0 || n > 1000) {
				fprintf(stderr, "bench_interp: --runs wants 1..1000, got '%s'\n", v);
				return -1;
			}
			o->runs = (unsigned)n;
		} else if (!strcmp(a, "--ms")) {
			unsigned long n = strtoul(v, &end, 10);
			if (*end || n == 0 || n > 60000) {
				fprintf(stderr, "bench_interp: --ms wants 1..60000, got '%s'\n", v);
				return -1;
			}
			o->target_ms = (unsigned)n;
		} else if (!strcmp(a, "--only")) {
			bool known = false;
			for (size_t k = 0; k < N_PROGRAMS; k++)
				known |= !strcmp(v, programs[k].name);
			if (!known) {
				fprintf(stderr, "bench_interp: --only: no program named '%s'\n", v);
				return -1;
			}
			o->only = v;
		} else if (!strcmp(a, "--slices")) {
			unsigned long n = strtoul(v, &end, 10);
			if (*end || n == 0 || n > 1000) {
				fprintf(stderr, "bench_interp: --slices wants 1..1000, got '%s'\n", v);
				return -1;
			}
			o->slices = (unsigned)n;
		} else if (!strcmp(a, "--stat")) {
			if (strcmp(v, "min") && strcmp(v, "mean")) {
				fprintf(stderr, "bench_interp: --stat wants min or mean, got '%s'\n", v);
				return -1;
			}
			o->mean = !strcmp(v, "mean");
		} else if (!strcmp(a, "--clock")) {
			if (!strcmp(v, "ktime") || !strcmp(v, "cpu")) {
				o->thread_cpu = !strcmp(v, "cpu");
			} else {
				fprintf(stderr, "bench_interp: --clock wants ktime or cpu, got '%s'\n", v);
				return -1;
			}
		} else if (!strcmp(a, "--dump")) {
			o->dump = v;
		} else {
			fprintf(stderr, "bench_interp: unknown option '%s'\n", a);
			return -1;
		}
	}
	return 0;
}

/* Why the kernel cannot be used at all, or NULL when it can: a minimal
 * XDP program must load and test-run. */
static const char *kernel_probe(char *why, size_t why_len, uint8_t *buf, uint32_t len)
{
	struct bpf_insn probe[] = {KB_MOV64_IMM(BPF_REG_0, 2), KB_EXIT()};
	int fd = kbpf_prog_load(BPF_PROG_TYPE_XDP, probe, 2, NULL, 0);
	if (fd < 0) {
		snprintf(why, why_len, "BPF_PROG_LOAD: %s", strerror(-fd));
		return why;
	}
	uint32_t retval = 0, dur = 0;
	int ret = kbpf_test_run(fd, buf, len, 1, &retval, &dur);
	close(fd);
	if (ret < 0) {
		snprintf(why, why_len, "BPF_PROG_TEST_RUN: %s", strerror(-ret));
		return why;
	}
	return NULL;
}

/* The last few lines of a verifier log, for a refusal. */
static void print_log_tail(const char *log)
{
	size_t len = strlen(log);
	const char *p = log + len;
	int lines = 0;
	while (p > log && lines < 8) {
		p--;
		if (*p == '\n' && p + 1 < log + len)
			lines++;
	}
	fprintf(stderr, "  verifier log (tail):\n%s\n", p);
}

struct row {
	const struct bench_prog *prog;
	double ns[N_COLUMNS]; /* per iteration, median; < 0 when not measured */
	double kernel_around; /* thread CPU time around the test-run syscall, per iteration */
	char note[1024];
};

/* Notes accumulate: a row can have more than one thing to say. */
static void add_note(struct row *row, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_note(struct row *row, const char *fmt, ...)
{
	size_t used = strlen(row->note);
	if (used && used + 2 < sizeof(row->note)) {
		memcpy(row->note + used, "; ", 3);
		used += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(row->note + used, sizeof(row->note) - used, fmt, ap);
	va_end(ap);
}

/* Write len bytes to DIR/NAME.EXT (for --dump). */
static void dump_file(const char *dir, const char *name, const char *ext, const void *p, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len)
		fprintf(stderr, "bench_interp: cannot write %s: %s\n", path, strerror(errno));
	else
		fprintf(stderr, "bench_interp: wrote %s (%zu bytes)\n", path, len);
	if (f)
		fclose(f);
}

static void run_program(const struct bench_prog *bp, const struct options *opt, bool kernel_ok,
			uint8_t *buf, uint32_t buf_len, struct row *row)
{
	row->prog = bp;
	row->note[0] = '\0';
	for (int c = 0; c < N_COLUMNS; c++)
		row->ns[c] = -1;
	row->kernel_around = -1;
	char why[320];

	/* bee: one code object, run by both engines in both modes. */
	struct kb_prog bee_prog = {.n = 0};
	bp->build(&bee_prog, FOR_BEE);
	struct bee_code_opts copts = {.sz = sizeof(copts), .trusted = true};
	struct bee_error err;
	bee_error_clear(&err);
	struct bee_side bee = {.code = NULL};
	if (bee_prog.overflow) {
		add_note(row, "program too long for the builder");
		return;
	}
	bee.code = bee_code_load(bee_prog.insns, bee_prog.n, &copts, &err);
	if (!bee.code) {
		char b[320];
		add_note(row, "bee_code_load: %s", bee_error_format(&err, NULL, b, sizeof(b)));
		return;
	}
	bee.run = (struct bee_run_opts){
		.sz = sizeof(bee.run),
		.engine = BEE_ENGINE_INTERP,
		.mem = buf,
		.mem_len = buf_len,
		.mem_readonly = true,
	};

	/* The kernel: the same program but for the XDP prologue. */
	int kfd = -1;
	static struct kb_prog kprog;
	if (kernel_ok) {
		memset(&kprog, 0, sizeof(kprog));
		bp->build(&kprog, FOR_KERNEL);
		static char log[1 << 20];
		log[0] = '\0';
		kfd = kprog.overflow ? -E2BIG
				     : kbpf_prog_load(BPF_PROG_TYPE_XDP, kprog.insns, kprog.n, NULL, 0);
		if (kfd < 0 && !kprog.overflow) /* again, for the verifier's log */
			kbpf_close(kbpf_prog_load(BPF_PROG_TYPE_XDP, kprog.insns, kprog.n, log,
						  sizeof(log)));
		if (kfd < 0) {
			add_note(row, "kernel refused it: %s", strerror(-kfd));
			print_log_tail(log);
		}
	}
	if (opt->dump) {
		dump_file(opt->dump, bp->name, "bee", bee_prog.insns,
			  bee_prog.n * sizeof(bee_prog.insns[0]));
		if (kernel_ok)
			dump_file(opt->dump, bp->name, "kernel", kprog.insns,
				  kprog.n * sizeof(kprog.insns[0]));
		static uint8_t kjit[1 << 16];
		long klen = kfd >= 0 ? kbpf_prog_jited(kfd, kjit, sizeof(kjit)) : -1;
		if (klen > 0 && (size_t)klen <= sizeof(kjit))
			dump_file(opt->dump, bp->name, "kjit", kjit, (size_t)klen);
	}

	/* Check the answers before timing anything.  The first JIT run of each
	 * mode compiles it: compilation stays out of the timings. */
	uint64_t want = bp->reference(buf, buf_len);
	bool ok[N_COLUMNS] = {false};
	for (int c = COL_KERNEL + 1; c < N_COLUMNS; c++) {
		uint64_t got = 0;
		ok[c] = bee_run_once(&bee, (enum column)c, &got, why, sizeof(why)) == 0;
		if (!ok[c])
			add_note(row, "%s run failed: %s", columns[c].name, why);
		else if (got != want)
			add_note(row, "WRONG: %s gave 0x%" PRIx64 ", expected 0x%" PRIx64,
				 columns[c].name, got, want);
	}
	if (kfd >= 0) {
		uint32_t retval = 0, dur = 0;
		int ret = kbpf_test_run(kfd, buf, buf_len, 1, &retval, &dur);
		if (ret < 0) {
			add_note(row, "kernel test run: %s", strerror(-ret));
			close(kfd);
			kfd = -1;
		} else if (retval != (uint32_t)want) {
			add_note(row, "WRONG: kernel gave 0x%08" PRIx32 ", expected 0x%08" PRIx32,
				 retval, (uint32_t)want);
		}
	}

	/* Calibrate the repeat counts on a short timed series each. */
	uint64_t reps[N_COLUMNS] = {0};
	double one, around;
	if (kfd >= 0 && kernel_time(kfd, buf, buf_len, 4, &one, &around) == 0)
		reps[COL_KERNEL] = reps_for(one, opt->target_ms);
	for (int c = COL_KERNEL + 1; c < N_COLUMNS; c++)
		if (ok[c] && bee_time(&bee, (enum column)c, 4, opt, &one, why, sizeof(why)) == 0)
			reps[c] = reps_for(one, opt->target_ms);
	if (reps[COL_KERNEL] > UINT32_MAX)
		reps[COL_KERNEL] = UINT32_MAX;

	/* Per slice: a round's measurement of a column comes in opt->slices
	 * pieces, interleaved with the other columns' pieces. */
	uint64_t slice_reps[N_COLUMNS];
	for (int c = 0; c < N_COLUMNS; c++)
		slice_reps[c] = reps[c] ? (reps[c] + opt->slices - 1) / opt->slices : 0;

	double samples[N_COLUMNS][1000], around_samples[1000];
	unsigned nsamples[N_COLUMNS] = {0};
	for (unsigned r = 0; r < opt->runs; r++) {
		/* A fresh load each round: the JIT places the code anew, and a
		 * tight loop's speed can depend on that placement (2x seen for
		 * csum), so the median should span several placements. */
		if (reps[COL_KERNEL] && r > 0) {
			close(kfd);
			kfd = kbpf_prog_load(BPF_PROG_TYPE_XDP, kprog.insns, kprog.n, NULL, 0);
			if (kfd < 0) {
				add_note(row, "kernel reload failed: %s", strerror(-kfd));
				slice_reps[COL_KERNEL] = reps[COL_KERNEL] = 0;
			}
		}
		/* The slices go kernel, JIT fast, ..., interpreter checked, then
		 * back in the reverse order, and so on: a slow spell of the
		 * machine longer than a few slices hits every column alike, and
		 * no column always runs right after the same other one. */
		double total[N_COLUMNS] = {0}, fastest[N_COLUMNS], around_total = 0;
		bool failed[N_COLUMNS] = {false};
		for (unsigned sl = 0; sl < opt->slices; sl++)
			for (int k = 0; k < N_COLUMNS; k++) {
				int c = sl % 2 ? N_COLUMNS - 1 - k : k;
				if (!slice_reps[c] || failed[c])
					continue;
				if (c == COL_KERNEL)
					failed[c] = kernel_time(kfd, buf, buf_len,
								(uint32_t)slice_reps[c], &one,
								&around) < 0;
				else
					failed[c] = bee_time(&bee, (enum column)c, slice_reps[c], opt,
							     &one, why, sizeof(why)) < 0;
				total[c] += one * (double)slice_reps[c];
				if (sl == 0 || one < fastest[c])
					fastest[c] = one;
				if (c == COL_KERNEL)
					around_total += around * (double)slice_reps[c];
			}
		for (int c = 0; c < N_COLUMNS; c++) {
			if (!slice_reps[c] || failed[c])
				continue;
			double per_iter = (double)opt->slices * (double)slice_reps[c] * (double)bp->iters;
			if (c == COL_KERNEL)
				around_samples[nsamples[c]] = around_total / per_iter;
			samples[c][nsamples[c]++] = opt->mean ? total[c] / per_iter
							      : fastest[c] / (double)bp->iters;
		}
	}
	for (int c = 0; c < N_COLUMNS; c++)
		if (nsamples[c])
			row->ns[c] = kb_median(samples[c], nsamples[c]);
	if (nsamples[COL_KERNEL])
		row->kernel_around = kb_median(around_samples, nsamples[COL_KERNEL]);

	if (kfd >= 0)
		close(kfd);
	bee_code_free(bee.code);
}

static void print_ns(double v)
{
	if (v < 0)
		printf(" %9s", "-");
	else
		printf(" %9.3f", v);
}

static void print_ratio(double a, double b)
{
	if (a < 0 || b <= 0)
		printf(" %10s", "-");
	else
		printf(" %10.2f", a / b);
}

int main(int argc, char **argv)
{
	struct options opt;
	if (parse_args(argc, argv, &opt) < 0) {
		usage(stderr);
		return 2;
	}
	opt.schedstat_fd = -1;
	if (!opt.thread_cpu) {
		char probe[128];
		opt.schedstat_fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
		if (opt.schedstat_fd >= 0 && pread(opt.schedstat_fd, probe, sizeof(probe), 0) <= 0) {
			close(opt.schedstat_fd);
			opt.schedstat_fd = -1;
		}
		opt.thread_cpu = opt.schedstat_fd < 0; /* the nearest we have */
	}

	/* The input memory (and XDP packet): fixed pseudo-random bytes. */
	static uint8_t buf[CSUM_LEN];
	uint32_t x = 0x12345678;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		buf[i] = (uint8_t)x;
	}

	cpu_set_t set;
	int cpu = sched_getcpu();
	bool pinned = sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) == 1;

	char kwhy[320];
	const char *kernel_down = kernel_probe(kwhy, sizeof(kwhy), buf, sizeof(buf));

	printf("bench_interp: ns per loop iteration, median of %u rounds (each the %s of %u "
	       "interleaved slices), cpu %d%s\n",
	       opt.runs, opt.mean ? "mean" : "fastest", opt.slices, cpu,
	       pinned ? " (pinned)" : " (NOT pinned: use taskset -c 1)");
	printf("kernel: %s%s%s\n",
	       kernel_down ? "unavailable ("
			   : "JIT via BPF_PROG_TEST_RUN (XDP) with repeat N, its own duration "
			     "(ktime around its loop, stopped while it yields)",
	       kernel_down ? kernel_down : "", kernel_down ? ")" : "");
	printf("bee: %s\n", opt.thread_cpu ? "thread CPU time around N runs (--clock cpu)"
		   : opt.schedstat_fd >= 0
		       ? "wall time around N runs less the thread's run-queue waits (as the kernel)"
		       : "thread CPU time around N runs (no /proc/thread-self/schedstat)");
	fflush(stdout);

	struct row rows[N_PROGRAMS];
	size_t nrows = 0;
	for (size_t i = 0; i < N_PROGRAMS; i++) {
		if (opt.only && strcmp(opt.only, programs[i].name))
			continue;
		run_program(&programs[i], &opt, !kernel_down, buf, sizeof(buf), &rows[nrows++]);
	}

	printf("\n%-7s %10s", "program", "iters/call");
	for (int c = 0; c < N_COLUMNS; c++)
		printf(" %9s", columns[c].head);
	printf(" %10s %10s %10s %10s\n", "jitF/kern", "jitC/jitF", "intF/jitF", "intF/kern");
	bool jit_met = true, int_met = true, any_kernel = false;
	for (size_t i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];
		printf("%-7s %10" PRIu64, r->prog->name, r->prog->iters);
		for (int c = 0; c < N_COLUMNS; c++)
			print_ns(r->ns[c]);
		print_ratio(r->ns[COL_JIT_FAST], r->ns[COL_KERNEL]);
		print_ratio(r->ns[COL_JIT_CHECKED], r->ns[COL_JIT_FAST]);
		print_ratio(r->ns[COL_INT_FAST], r->ns[COL_JIT_FAST]);
		print_ratio(r->ns[COL_INT_FAST], r->ns[COL_KERNEL]);
		printf("\n");
		if (r->ns[COL_KERNEL] > 0 && r->ns[COL_JIT_FAST] >= 0 && r->ns[COL_INT_FAST] >= 0) {
			any_kernel = true;
			/* at the table's precision: a ratio printed as 1.00 is a tie */
			jit_met &= r->ns[COL_JIT_FAST] / r->ns[COL_KERNEL] < 1.005;
			int_met &= r->ns[COL_INT_FAST] <= 10 * r->ns[COL_KERNEL];
		}
		if (r->note[0])
			printf("        note: %s\n", r->note);
	}
	if (any_kernel) {
		/* For reference only: timing the kernel from outside the
		 * syscall also counts each test run's set-up (README). */
		printf("\nfor reference, the kernel timed by thread CPU time around the whole "
		       "BPF_PROG_TEST_RUN syscall\n(adds the syscall's set-up, once per slice, %u a "
		       "round; not what the ratios use):\n",
		       opt.slices);
		printf("%-7s %10s %10s %10s\n", "program", "syscall", "sysc/kern", "jitF/sysc");
		for (size_t i = 0; i < nrows; i++) {
			const struct row *r = &rows[i];
			if (r->kernel_around < 0)
				continue;
			printf("%-7s %10.3f", r->prog->name, r->kernel_around);
			print_ratio(r->kernel_around, r->ns[COL_KERNEL]);
			print_ratio(r->ns[COL_JIT_FAST], r->kernel_around);
			printf("\n");
		}
		printf("\ngoal: bee JIT fast no slower than the kernel JIT on every loop (jitF/kern <= 1.00): %s\n",
		       jit_met ? "met" : "NOT met");
		printf("goal: bee interpreter fast within 10x of the kernel JIT on every loop (intF/kern <= 10): %s\n",
		       int_met ? "met" : "NOT met");
	}
	for (size_t i = 0; i < nrows; i++)
		if (strstr(rows[i].note, "WRONG") || strstr(rows[i].note, "failed"))
			return 1;
	return 0;
}
