/*
 * diff_kernel.c - differential test of bee's engines against the real
 * kernel.
 *
 *   diff_kernel [--count N] [--seed S] [--first F] [--index I] [--min-body A] [--max-body B]
 *               [--calls-every K] [--no-calls] [--verbose]
 *
 * Each program comes from the random generator (gen.h; every K-th program,
 * default 4, with bpf-to-bpf calls up to 8 frames deep: the kernel loads
 * those about 5 times slower; --calls-every 1 gives every program calls,
 * --no-calls none), is loaded into the
 * kernel as a socket filter and run once with BPF_PROG_TEST_RUN on a
 * zeroed 64-byte packet.  A socket filter returns 32 bits, so each program
 * is loaded twice, the second time with "r0 >>= 32" before its exit, and
 * the halves are put together.  bee runs the same program on each of its
 * engines and modes: the interpreter and the JIT, checked and fast.  They
 * must all give the same r0 (and the two checked runs the same
 * instruction count) before "bee" has an answer to compare.
 *
 * A third opinion settles disagreements: refeval.c, a plain evaluator of
 * RFC 9669 sharing no code with bee.  It also runs on every program, so a
 * case where bee and the kernel agree with each other but not with it is
 * caught too.  The outcomes:
 *
 *   agree              kernel, bee and refeval give the same r0
 *   known-kernel-bug   the kernel differs, bee and refeval agree, and the
 *                      program has an atomic fetch/xchg/cmpxchg on the
 *                      stack: the missing upstream fix 179ee84a8911 (state
 *                      pruning after such an atomic); reported, not failed
 *   disagree           anything else: fails the test
 *
 * A program the kernel's verifier refuses is a generator bug and fails the
 * test too.  Failures print the seed, the program index, the program
 * (disassembled when bee has a disassembler, and always as hex for
 * "bee run --program"), every engine's r0, and a minimised program that
 * still shows the difference.
 *
 * Exits 0 when everything agrees, 1 on a failure, 2 on a usage error and
 * 77 (CTest's skip) when this machine cannot load BPF programs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bee/error.h"
#include "bee/vm.h"
#ifdef DIFF_HAVE_DISASM
#include "bee/insn.h"
#endif
#include "isa/isa.h"

#include "../common.h"
#include "gen.h"
#include "kbpf.h"
#include "refeval.h"

#define PACKET_LEN 64
#define MAX_REPORTED 3          /* programs printed in full per kind of failure */
#define MAX_STEPS 1000000       /* refeval and bee: forward-only code needs far fewer */

static bool verbose;

/* ---- running one program three ways ---- */

struct kernel_result {
	int err;          /* 0, or negative errno of the load (verifier) or the run */
	bool load_failed; /* err came from BPF_PROG_LOAD */
	uint64_t r0;
};

static int kernel_run_once(const struct bpf_insn *insns, size_t n, uint32_t *ret32)
{
	unsigned char packet[PACKET_LEN] = {0};
	int fd = kbpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, insns, n, NULL, 0);
	if (fd < 0)
		return fd;
	int err = kbpf_test_run(fd, packet, sizeof(packet), 1, ret32, NULL);
	kbpf_close(fd);
	return err < 0 ? err : 1; /* 1: loaded and ran */
}

/* Both halves of r0: the program as it is, then with "r0 >>= 32" before exit. */
static struct kernel_result kernel_run(const struct gen_prog *prog)
{
	static struct bpf_insn high[GEN_MAX_INSNS + 1];
	struct kernel_result kr = {0};
	uint32_t lo = 0, hi = 0;
	size_t nh = gen_high_half(prog, high);

	int e = kernel_run_once(prog->insns, prog->n, &lo);
	if (e == 1)
		e = kernel_run_once(high, nh, &hi);
	if (e < 0) {
		kr.err = e;
		/* a failed test run is rare; tell it from a refusal by reloading */
		int fd = kbpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, prog->insns, prog->n, NULL, 0);
		int fd2 = kbpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, high, nh, NULL, 0);
		kr.load_failed = fd < 0 || fd2 < 0;
		kbpf_close(fd);
		kbpf_close(fd2);
		return kr;
	}
	kr.r0 = (uint64_t)hi << 32 | lo;
	return kr;
}

struct bee_result {
	int err; /* 0, or negative errno from bee_code_load or bee_code_run */
	uint64_t r0;
	struct bee_error why;
	const char *stage; /* "load" or "run" when err != 0 */
};

/* bee's engines and modes; every program runs on each. */
static const struct {
	const char *name;
	enum bee_engine engine;
	bool checked;
} bee_configs[] = {
	{"interpreter (checked)", BEE_ENGINE_INTERP, true},
	{"JIT (checked)", BEE_ENGINE_JIT, true},
	{"interpreter (fast)", BEE_ENGINE_INTERP, false},
	{"JIT (fast)", BEE_ENGINE_JIT, false},
};
#define N_BEE_CONFIGS (sizeof(bee_configs) / sizeof(bee_configs[0]))

static double bee_seconds[N_BEE_CONFIGS]; /* time spent running, per config */

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * Run on every bee engine and mode: the checked interpreter first, and
 * the others must agree with it on r0 (the checked JIT on the instruction
 * count too).  The fast paths run only after the checked run completed
 * without a fault: they have no checks (the generator's programs are also
 * verified by the kernel in the same test), and runs are deterministic.
 */
static struct bee_result bee_run(const struct bpf_insn *insns, size_t n)
{
	struct bee_result br = {0};
	unsigned char packet[PACKET_LEN] = {0};
	struct bee_code_opts copts = {.sz = sizeof(copts)};
	struct bee_code *code[2] = {NULL, NULL}; /* untrusted (checked), trusted (fast) */
	uint64_t checked_insns = 0;

	for (size_t c = 0; c < N_BEE_CONFIGS; c++) {
		int k = bee_configs[c].checked ? 0 : 1;
		if (!code[k]) {
			copts.trusted = k == 1;
			code[k] = bee_code_load(insns, n, &copts, &br.why);
			if (!code[k]) {
				br.err = br.why.code ? br.why.code : -EINVAL;
				br.stage = k ? "load (trusted)" : "load";
				break;
			}
		}
		struct bee_run_opts ropts = {
			.sz = sizeof(ropts),
			.engine = bee_configs[c].engine,
			.flags = bee_configs[c].checked ? BEE_RUN_CHECKED : 0,
			.mem = packet,
			.mem_len = sizeof(packet),
			.max_insns = MAX_STEPS,
		};
		struct bee_run_result res;
		memset(&res, 0, sizeof(res));
		memset(packet, 0, sizeof(packet));
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		int err = bee_code_run(code[k], &ropts, &res);
		bee_seconds[c] += seconds_since(&t0);
		if (c == 0) {
			if (err) {
				br.err = err;
				br.why = res.err;
				br.stage = "run";
				break;
			}
			br.r0 = res.r0;
			checked_insns = res.insns;
			continue;
		}
		bool insns_differ = bee_configs[c].checked && res.insns != checked_insns;
		if (err || res.r0 != br.r0 || insns_differ) {
			br.err = err ? err : -EDOM;
			br.why = res.err;
			if (!err && insns_differ)
				snprintf(br.why.msg, sizeof(br.why.msg),
					 "%s executed %llu instructions, %s %llu", bee_configs[c].name,
					 (unsigned long long)res.insns, bee_configs[0].name,
					 (unsigned long long)checked_insns);
			else if (!err)
				snprintf(br.why.msg, sizeof(br.why.msg), "%s returned 0x%llx, %s 0x%llx",
					 bee_configs[c].name, (unsigned long long)res.r0,
					 bee_configs[0].name, (unsigned long long)br.r0);
			br.stage = bee_configs[c].name;
			break;
		}
	}
	bee_code_free(code[0]);
	bee_code_free(code[1]);
	return br;
}

struct ref_result {
	int err;
	uint64_t r0;
	char why[160];
};

static struct ref_result ref_run(const struct bpf_insn *insns, size_t n)
{
	struct ref_result rr = {0};
	unsigned char packet[PACKET_LEN] = {0};
	rr.err = refeval_run(insns, n, packet, sizeof(packet), MAX_STEPS, &rr.r0, rr.why,
			     sizeof(rr.why));
	return rr;
}

/* ---- printing programs ---- */

/* What a three-way difference most likely means. */
static const char *verdict(uint64_t kernel, uint64_t bee, uint64_t ref, bool fetch)
{
	if (bee == ref)
		return fetch ? "known kernel bug (atomic fetch on the stack, fix 179ee84a8911 missing)"
			     : "DISAGREE: the kernel differs from bee and refeval, with no atomic "
			       "fetch in the program (a kernel bug not known yet?)";
	if (kernel == ref)
		return "DISAGREE: bee differs from the kernel and refeval (bee bug)";
	if (kernel == bee)
		return "DISAGREE: bee and the kernel agree, refeval differs (refeval bug?)";
	return "DISAGREE: kernel, bee and refeval all differ";
}

static void print_program(FILE *out, const struct bpf_insn *insns, size_t n)
{
#ifdef DIFF_HAVE_DISASM
	struct bee_error err;
	bee_error_clear(&err);
	if (bee_disasm(insns, n, BEE_SYNTAX_C, BEE_DISASM_INDEX, out, &err) < 0)
		fprintf(out, "  (disassembly stopped: %s)\n", err.msg);
#else
	for (size_t i = 0; i < n; i++) {
		const struct bpf_insn *in = &insns[i];
		struct bee_dinsn d;
		const char *name = "?";
		if (bee_decode(insns, n, i, &d, NULL) > 0)
			name = bee_op_info[d.op].mnemonic;
		fprintf(out, "%5zu: code %02x dst r%u src r%u off %6d imm %11d   %s\n", i,
			in->code, in->dst_reg, in->src_reg, in->off, in->imm, name);
	}
#endif
	fprintf(out, "  hex: ");
	gen_print_hex(out, insns, n);
	fprintf(out, "\n");
}

static void print_verifier_log(const struct gen_prog *prog)
{
	static char log[1 << 20];
	static struct bpf_insn high[GEN_MAX_INSNS + 1];
	size_t nh = gen_high_half(prog, high);

	int fd = kbpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, prog->insns, prog->n, log,
				sizeof(log));
	if (fd >= 0) {
		kbpf_close(fd);
		fd = kbpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, high, nh, log, sizeof(log));
		kbpf_close(fd);
		if (fd >= 0) {
			fprintf(stderr, "  (both variants load now; the failure was transient)\n");
			return;
		}
		fprintf(stderr, "  (the program loads, its \"r0 >>= 32\" variant does not)\n");
	}
	/* the verdict is at the end of the log; the start is the long trace */
	size_t len = strlen(log);
	const char *tail = log;
	if (len > 4000) {
		tail = log + len - 4000;
		fprintf(stderr, "  verifier log (last 4000 of %zu bytes):\n", len);
	} else {
		fprintf(stderr, "  verifier log:\n");
	}
	fprintf(stderr, "%s\n", tail);
}

/* ---- minimising a failing program ---- */

enum difference {
	DIFF_KERNEL_VS_REF, /* the kernel's r0 differs from refeval's */
	DIFF_BEE_VS_REF,    /* bee's r0 (or error) differs from refeval's */
};

static bool still_differs(const struct gen_prog *p, enum difference kind)
{
	struct ref_result rr = ref_run(p->insns, p->n);
	if (rr.err)
		return false; /* a broken candidate, not a smaller witness */
	if (kind == DIFF_KERNEL_VS_REF) {
		struct kernel_result kr = kernel_run(p);
		return !kr.err && kr.r0 != rr.r0;
	}
	struct bee_result br = bee_run(p->insns, p->n);
	return br.err || br.r0 != rr.r0;
}

static bool is_lddw(const struct bpf_insn *in)
{
	return in->code == (BPF_LD | BPF_IMM | BPF_DW);
}

/* Where the jump at i goes, as a slot index. */
static long jump_target(const struct bpf_insn *in, size_t i)
{
	return (long)i + 1 + (gen_offset_in_imm(in) ? in->imm : in->off);
}

/*
 * Drop slots [from, from + count) of a body, re-aiming jumps and calls: a
 * jump to a dropped slot goes to the first slot after the dropped range
 * (calls never target a body: a function starts with its prologue).
 */
static void drop_slots(struct gen_prog *p, size_t from, size_t count)
{
	struct bpf_insn old[GEN_MAX_INSNS];
	size_t n = p->n;
	memcpy(old, p->insns, n * sizeof(old[0]));

	/* new index of each old slot; a dropped slot maps to its successor */
	size_t map[GEN_MAX_INSNS + 1];
	for (size_t i = 0; i <= n; i++)
		map[i] = i < from ? i : i < from + count ? from : i - count;

	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (i >= from && i < from + count)
			continue;
		struct bpf_insn in = old[i];
		if (gen_is_call_or_jump(&in)) { /* an lddw's second slot has code 0: never a jump */
			long t = jump_target(&in, i);
			long off = (long)map[t] - (long)(k + 1);
			if (gen_offset_in_imm(&in))
				in.imm = (int32_t)off;
			else
				in.off = (int16_t)off;
		}
		p->in_body[k] = p->in_body[i];
		p->insns[k++] = in;
	}
	p->n = k;
	if (from < p->body_end)
		p->body_end -= count;
	if (from < p->main_exit)
		p->main_exit -= count;
}

static size_t body_slots(const struct gen_prog *p)
{
	size_t k = 0;
	for (size_t i = 0; i < p->n; i++)
		k += p->in_body[i];
	return k;
}

/*
 * Greedy one-at-a-time deletion from the bodies (lddw counts as one) while
 * the difference persists.  The prologues and the epilogues stay: they are
 * what makes every program verifiable and every register observable.
 */
static void minimise(struct gen_prog *p, enum difference kind)
{
	static struct gen_prog trial;
	bool progress = true;
	while (progress) {
		progress = false;
		for (size_t i = 0; i < p->n;) {
			size_t len = is_lddw(&p->insns[i]) ? 2 : 1;
			if (!p->in_body[i]) {
				i += len;
				continue;
			}
			trial = *p;
			drop_slots(&trial, i, len);
			if (still_differs(&trial, kind)) {
				*p = trial;
				progress = true;
			} else {
				i += len;
			}
		}
	}
}

/* ---- coverage: which decoded instruction kinds the run exercised ---- */

static uint64_t op_seen[BEE_OP__COUNT];

static void count_coverage(const struct gen_prog *p)
{
	for (size_t i = 0; i < p->n;) {
		struct bee_dinsn d;
		int slots = bee_decode(p->insns, p->n, i, &d, NULL);
		if (slots <= 0)
			break;
		op_seen[d.op]++;
		i += (size_t)slots;
	}
}

static void print_coverage(void)
{
	unsigned seen = 0;
	for (unsigned op = 0; op < BEE_OP__COUNT; op++)
		seen += op_seen[op] != 0;
	printf("coverage: %u of %u instruction kinds; never generated:", seen,
	       (unsigned)BEE_OP__COUNT);
	for (unsigned op = 0; op < BEE_OP__COUNT; op++)
		if (!op_seen[op])
			printf(" %s", bee_op_info[op].name);
	printf("\n");
}

/* ---- the test ---- */

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: diff_kernel [--count N] [--seed S] [--first F] [--index I] [--min-body A]\n"
		"                   [--max-body B] [--calls-every K] [--no-calls] [--verbose]\n"
		"Run N random programs (default 10000) from seed S (default 1) on the kernel\n"
		"and on bee's engines (interpreter and JIT, checked and fast) and compare\n"
		"their results; --first starts at program F (a long run split in parts);\n"
		"--index runs program I of the seed alone and prints it.\n"
		"Programs I with I %% K == 0 (K default 4) may have bpf-to-bpf calls.\n");
}

int main(int argc, char **argv)
{
	uint64_t count = 10000, seed = 1, only = 0, min_body = 0, max_body = 0, calls_every = 4;
	uint64_t first_idx = 0;
	bool have_only = false, calls = true;

	setvbuf(stdout, NULL, _IOLBF, 0);

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		uint64_t *target = NULL;
		if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
			verbose = true;
			continue;
		}
		if (!strcmp(a, "--no-calls")) {
			calls = false;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--count"))
			target = &count;
		else if (!strcmp(a, "--seed"))
			target = &seed;
		else if (!strcmp(a, "--index"))
			target = &only, have_only = true;
		else if (!strcmp(a, "--min-body"))
			target = &min_body;
		else if (!strcmp(a, "--max-body"))
			target = &max_body;
		else if (!strcmp(a, "--calls-every"))
			target = &calls_every;
		else if (!strcmp(a, "--first"))
			target = &first_idx;
		if (!target || i + 1 >= argc || !test_parse_u64(argv[i + 1], target)) {
			fprintf(stderr, "diff_kernel: bad argument '%s'\n", a);
			usage(stderr);
			return 2;
		}
		i++;
	}
	if (calls_every == 0) {
		fprintf(stderr, "diff_kernel: --calls-every must be at least 1\n");
		return 2;
	}
	if (min_body > GEN_MAX_BODY || max_body > GEN_MAX_BODY || min_body > max_body) {
		fprintf(stderr, "diff_kernel: body lengths must satisfy min <= max <= %d\n",
			GEN_MAX_BODY);
		return 2;
	}

	char why[256];
	if (kbpf_probe(why, sizeof(why)) < 0) {
		printf("SKIP: %s\n", why);
		return 77;
	}

	struct gen_opts gopts = {
		.sz = sizeof(gopts),
		.min_body = (unsigned)min_body,
		.max_body = (unsigned)max_body,
	};
	uint64_t by_depth[GEN_MAX_FUNCS + 1] = {0}, call_insns = 0;
	static struct gen_prog prog;
	uint64_t first = have_only ? only : first_idx, last = have_only ? only + 1 : first_idx + count;
	uint64_t ran = 0, agree = 0, known_bug = 0, disagree = 0, rejected = 0;
	uint64_t bee_vs_ref = 0, ref_errors = 0, bee_errors = 0, kernel_errors = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	for (uint64_t idx = first; idx < last; idx++) {
		/* long runs say how far they got, so a run stopped early still counts */
		if (idx > first && (idx - first) % 50000 == 0)
			printf("diff_kernel: progress: seed %" PRIu64 ": %" PRIu64 " programs, %" PRIu64
			       " agree, %" PRIu64 " known-kernel-bug, %" PRIu64 " disagree, %" PRIu64
			       " other failures\n",
			       seed, ran, agree, known_bug, disagree,
			       rejected + kernel_errors + ref_errors + bee_errors);
		gopts.features = calls && idx % calls_every == 0 ? GEN_F_ALL
								 : GEN_F_ALL & ~GEN_F_CALLS;
		gen_program(gen_program_seed(seed, idx), &gopts, &prog);
		count_coverage(&prog);
		ran++;
		by_depth[prog.depth <= GEN_MAX_FUNCS ? prog.depth : 0]++;
		call_insns += prog.calls;
		if (have_only) {
			printf("program %" PRIu64 " of seed %" PRIu64 " (%zu slots):\n", idx, seed,
			       prog.n);
			print_program(stdout, prog.insns, prog.n);
		}

		struct kernel_result kr = kernel_run(&prog);
		if (kr.err && kr.load_failed) {
			if (++rejected <= MAX_REPORTED) {
				fprintf(stderr,
					"diff_kernel: seed %" PRIu64 " program %" PRIu64
					": the kernel refuses it (%s): generator bug\n",
					seed, idx, strerror(-kr.err));
				print_program(stderr, prog.insns, prog.n);
				print_verifier_log(&prog);
			}
			continue;
		}
		if (kr.err) {
			if (++kernel_errors <= MAX_REPORTED)
				fprintf(stderr,
					"diff_kernel: seed %" PRIu64 " program %" PRIu64
					": BPF_PROG_TEST_RUN failed: %s\n",
					seed, idx, strerror(-kr.err));
			continue;
		}

		struct bee_result br = bee_run(prog.insns, prog.n);
		struct ref_result rr = ref_run(prog.insns, prog.n);

		if (rr.err) {
			/* refeval knows everything the generator emits */
			if (++ref_errors <= MAX_REPORTED) {
				fprintf(stderr,
					"diff_kernel: seed %" PRIu64 " program %" PRIu64
					": refeval failed: %s\n", seed, idx, rr.why);
				print_program(stderr, prog.insns, prog.n);
			}
			continue;
		}
		if (br.err) {
			char buf[300];
			if (++bee_errors <= MAX_REPORTED) {
				fprintf(stderr,
					"diff_kernel: seed %" PRIu64 " program %" PRIu64
					": bee %s failed: %s\n", seed, idx, br.stage,
					bee_error_format(&br.why, NULL, buf, sizeof(buf)));
				print_program(stderr, prog.insns, prog.n);
			}
			continue;
		}

		if (kr.r0 == br.r0 && br.r0 == rr.r0) {
			agree++;
			if (have_only)
				printf("kernel, bee and refeval agree: r0 = %#" PRIx64 "\n", br.r0);
			continue;
		}
		bool fetch = prog.has & GEN_HAS_ATOMIC_FETCH;
		bool kernel_bug = kr.r0 != br.r0 && br.r0 == rr.r0 && fetch;
		if (br.r0 != rr.r0)
			bee_vs_ref++;
		if (kernel_bug)
			known_bug++;
		else
			disagree++;

		uint64_t reported = kernel_bug ? known_bug : disagree;
		bool show = have_only || (kernel_bug ? verbose && reported <= MAX_REPORTED
						     : reported <= MAX_REPORTED);
		if (!show) {
			if (kernel_bug)
				fprintf(verbose ? stdout : stderr,
					"diff_kernel: seed %" PRIu64 " program %" PRIu64
					": known kernel bug (atomic fetch on the stack, fix "
					"179ee84a8911 missing)\n", seed, idx);
			continue;
		}
		FILE *out = kernel_bug ? stdout : stderr;
		fprintf(out,
			"diff_kernel: seed %" PRIu64 " program %" PRIu64 ": %s\n"
			"  kernel  r0 = %#018" PRIx64 "\n"
			"  bee     r0 = %#018" PRIx64 "\n"
			"  refeval r0 = %#018" PRIx64 "\n",
			seed, idx, verdict(kr.r0, br.r0, rr.r0, fetch), kr.r0, br.r0, rr.r0);
		print_program(out, prog.insns, prog.n);

		enum difference kind = br.r0 != rr.r0 ? DIFF_BEE_VS_REF : DIFF_KERNEL_VS_REF;
		static struct gen_prog small;
		small = prog;
		minimise(&small, kind);
		struct kernel_result skr = kernel_run(&small);
		struct bee_result sbr = bee_run(small.insns, small.n);
		struct ref_result srr = ref_run(small.insns, small.n);
		fprintf(out,
			"  minimised (%s still differs; bodies %zu of %zu slots):\n"
			"    kernel r0 = %#018" PRIx64 "%s, bee r0 = %#018" PRIx64
			", refeval r0 = %#018" PRIx64 "\n",
			kind == DIFF_BEE_VS_REF ? "bee vs refeval" : "kernel vs refeval",
			body_slots(&small), body_slots(&prog),
			skr.r0, skr.err ? " (kernel error)" : "", sbr.r0, srr.r0);
		print_program(out, small.insns, small.n);
	}

	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	uint64_t failed_other = rejected + kernel_errors + ref_errors + bee_errors;
	printf("diff_kernel: seed %" PRIu64 ": %" PRIu64 " programs", seed, ran);
	if (first_idx && !have_only)
		printf(" (%" PRIu64 " to %" PRIu64 ")", first, last - 1);
	printf(", %" PRIu64 " agree, %" PRIu64 " known-kernel-bug, %" PRIu64 " disagree", agree,
	       known_bug, disagree);
	if (failed_other)
		printf(", %" PRIu64 " refused by the kernel, %" PRIu64 " kernel run errors, %" PRIu64
		       " bee errors, %" PRIu64 " refeval errors",
		       rejected, kernel_errors, bee_errors, ref_errors);
	printf("\n");
	if (bee_vs_ref)
		printf("diff_kernel: bee differs from refeval on %" PRIu64 " programs\n", bee_vs_ref);
	if (calls) {
		printf("diff_kernel: %" PRIu64 " bpf-to-bpf call instructions; programs by frames of"
		       " the deepest chain:", call_insns);
		for (unsigned d = 1; d <= GEN_MAX_FUNCS; d++)
			printf(" %u: %" PRIu64, d, by_depth[d]);
		printf("\n");
	}
	printf("diff_kernel: %.1f s, %.0f programs/s; time running bee:", secs,
	       secs > 0 ? (double)ran / secs : 0.0);
	for (size_t c = 0; c < N_BEE_CONFIGS; c++)
		printf("%s %s %.2f s", c ? "," : "", bee_configs[c].name, bee_seconds[c]);
	printf("\n");
	if (verbose)
		print_coverage();
	return disagree || failed_other || bee_vs_ref ? 1 : 0;
}
