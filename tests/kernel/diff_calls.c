/*
 * diff_calls.c - bee's engines against each other and against refeval on
 * random programs full of calls: helper calls with every argument count
 * (0..5) between random ALU, memory and jump code with all of r0..r9 live,
 * and bpf-to-bpf call chains up to 8 frames deep that call helpers at any
 * depth.
 *
 *   diff_calls [--count N] [--seed S] [--index I]   (N: 6000, 1000 with sanitizers)
 *
 * The programs come from the kernel test's generator (gen.h) with
 * GEN_F_CALLS and GEN_F_HELPERS; the kernel has no helpers with five
 * deterministic scalar arguments a socket filter may call, so this test
 * needs no kernel and registers its own: GEN_HELPER_ID(k) takes k
 * arguments and returns gen_helper()'s mix of all of them, so an argument
 * in the wrong register, or a register the call clobbered, changes r0.
 *
 * Every program runs on the interpreter and the JIT, checked and fast, and
 * on the JIT with constant blinding (checked and fast): all must give the
 * same r0, the checked runs the same instruction count, and refeval (a
 * plain evaluator sharing no code with bee) must agree with both.  The
 * seed is fixed, so a failure is reproduced with --index.
 *
 * Exits 0 when everything agrees, 1 on a failure, 2 on a usage error.
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

#include "../common.h"
#include "gen.h"
#include "refeval.h"


#define MEM_LEN 64
#define MAX_STEPS 1000000
#define MAX_REPORTED 5

/* ---- the helpers: bee's view and refeval's ---- */

/* helperK: the mix of gen_helper(K, ...), one function per argument count
 * (each needs an address of its own in the helper table). */
#define MIX_HELPER(k)                                                                  \
	static uint64_t helper##k(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e) \
	{                                                                              \
		const uint64_t args[5] = {a, b, c, d, e};                              \
		return gen_helper(k, args);                                            \
	}
MIX_HELPER(0)
MIX_HELPER(1)
MIX_HELPER(2)
MIX_HELPER(3)
MIX_HELPER(4)
MIX_HELPER(5)
#undef MIX_HELPER

static int ref_helper(void *ctx, int32_t id, const uint64_t args[5], uint64_t *r0)
{
	(void)ctx;
	int32_t k = id - GEN_HELPER_ID(0);
	if (k < 0 || k > GEN_MAX_HELPER_ARGS)
		return -EINVAL;
	*r0 = gen_helper((unsigned)k, args);
	return 0;
}

static struct bee_helper_table *make_helpers(void)
{
	static const bee_helper_fn fns[GEN_MAX_HELPER_ARGS + 1] = {
		helper0, helper1, helper2, helper3, helper4, helper5,
	};
	static const char *const names[GEN_MAX_HELPER_ARGS + 1] = {
		"mix0", "mix1", "mix2", "mix3", "mix4", "mix5",
	};
	struct bee_helper_table *t = bee_helper_table_new();
	if (!t)
		return NULL;
	for (unsigned k = 0; k <= GEN_MAX_HELPER_ARGS; k++) {
		struct bee_helper h = {.id = GEN_HELPER_ID(k), .name = names[k], .fn = fns[k]};
		if (bee_helper_table_add(t, &h) < 0) {
			bee_helper_table_free(t);
			return NULL;
		}
	}
	return t;
}

/* ---- bee's engines and modes ---- */

enum { CODE_CHECKED, CODE_TRUSTED, CODE_CHECKED_BLIND, CODE_TRUSTED_BLIND, N_CODES };

static const struct {
	const char *name;
	enum bee_engine engine;
	int code; /* CODE_* */
} configs[] = {
	{"interpreter (checked)", BEE_ENGINE_INTERP, CODE_CHECKED},
	{"JIT (checked)", BEE_ENGINE_JIT, CODE_CHECKED},
	{"JIT (checked, blinded)", BEE_ENGINE_JIT, CODE_CHECKED_BLIND},
	{"interpreter (fast)", BEE_ENGINE_INTERP, CODE_TRUSTED},
	{"JIT (fast)", BEE_ENGINE_JIT, CODE_TRUSTED},
	{"JIT (fast, blinded)", BEE_ENGINE_JIT, CODE_TRUSTED_BLIND},
};
#define N_CONFIGS (sizeof(configs) / sizeof(configs[0]))

struct run {
	int err;
	uint64_t r0, insns;
	char msg[sizeof(((struct bee_error *)0)->msg)];
};

/* Run insns on every config; out[c] gets each result.  Returns false if a load failed. */
static bool bee_all(const struct bpf_insn *insns, size_t n, const struct bee_helper_table *t,
		    struct run out[N_CONFIGS], char *why, size_t why_len)
{
	static uint8_t mem[MEM_LEN];
	struct bee_code *code[N_CODES] = {NULL};
	bool ok = true;

	for (int k = 0; k < N_CODES; k++) {
		struct bee_code_opts copts = {
			.sz = sizeof(copts),
			.helpers = t,
			.trusted = k == CODE_TRUSTED || k == CODE_TRUSTED_BLIND,
			.jit_blind = k == CODE_CHECKED_BLIND || k == CODE_TRUSTED_BLIND,
		};
		struct bee_error err;
		code[k] = bee_code_load(insns, n, &copts, &err);
		if (!code[k]) {
			snprintf(why, why_len, "load: %s", err.msg);
			ok = false;
			goto out;
		}
	}
	for (size_t c = 0; c < N_CONFIGS; c++) {
		bool checked = configs[c].code == CODE_CHECKED || configs[c].code == CODE_CHECKED_BLIND;
		struct bee_run_opts ropts = {
			.sz = sizeof(ropts),
			.engine = configs[c].engine,
			.flags = checked ? BEE_RUN_CHECKED : 0,
			.mem = mem,
			.mem_len = sizeof(mem),
			.max_insns = checked ? MAX_STEPS : 0,
		};
		struct bee_run_result res;
		memset(&res, 0, sizeof(res));
		memset(mem, 0, sizeof(mem));
		/* the fast runs only after the checked ones passed: they have no checks */
		if (!checked && (out[0].err || out[1].err)) {
			out[c].err = -ECANCELED;
			snprintf(out[c].msg, sizeof(out[c].msg), "not run: the checked run failed");
			continue;
		}
		out[c].err = bee_code_run(code[configs[c].code], &ropts, &res);
		out[c].r0 = res.r0;
		out[c].insns = checked ? res.insns : 0;
		memcpy(out[c].msg, res.err.msg, sizeof(out[c].msg));
	}
out:
	for (int k = 0; k < N_CODES; k++)
		bee_code_free(code[k]);
	return ok;
}

/* ---- the test ---- */

static void print_program(const struct gen_prog *p)
{
	printf("  program (%zu slots, %u functions, %u frames deep), hex: ", p->n, p->nfuncs,
	       p->depth);
	gen_print_hex(stdout, p->insns, p->n);
	printf("\n");
}

int main(int argc, char **argv)
{
	/* about 2 s, or 5 s with sanitizers */
	uint64_t count = SANITIZED ? 1000 : 6000, seed = 20261126, only = 0;
	bool have_only = false;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i += 2) { /* every option takes a value */
		uint64_t *target = NULL;
		if (!strcmp(argv[i], "--count"))
			target = &count;
		else if (!strcmp(argv[i], "--seed"))
			target = &seed;
		else if (!strcmp(argv[i], "--index"))
			target = &only, have_only = true;
		if (!target || i + 1 >= argc || !test_parse_u64(argv[i + 1], target)) {
			fprintf(stderr, "usage: diff_calls [--count N] [--seed S] [--index I]\n");
			return 2;
		}
	}

	struct bee_helper_table *t = make_helpers();
	if (!t) {
		printf("FAIL: cannot build the helper table\n");
		return 1;
	}
	struct gen_opts gopts = {.sz = sizeof(gopts), .features = GEN_F_ALL | GEN_F_HELPERS};
	static struct gen_prog prog;
	uint64_t first = have_only ? only : 0, last = have_only ? only + 1 : count;
	uint64_t ran = 0, agree = 0, failed = 0, runs = 0;
	uint64_t by_depth[GEN_MAX_FUNCS + 1] = {0}, helpers_by_args[GEN_MAX_HELPER_ARGS + 1] = {0};
	uint64_t local_calls = 0, deep_with_helpers = 0, five_args_in_callee = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	for (uint64_t idx = first; idx < last; idx++) {
		gen_program(gen_program_seed(seed, idx), &gopts, &prog);
		ran++;
		by_depth[prog.depth <= GEN_MAX_FUNCS ? prog.depth : 0]++;
		local_calls += prog.calls;
		for (unsigned k = 0; k <= GEN_MAX_HELPER_ARGS; k++)
			helpers_by_args[k] += prog.helper_calls[k];
		if (prog.depth == GEN_MAX_FUNCS && (prog.has & GEN_HAS_HELPER))
			deep_with_helpers++;
		/* a five-argument helper called outside main: in the main body's
		 * slots or not */
		for (size_t i = prog.body_end; i < prog.n; i++)
			if (prog.insns[i].code == (BPF_JMP | BPF_CALL) && prog.insns[i].src_reg == 0 &&
			    prog.insns[i].imm == GEN_HELPER_ID(5)) {
				five_args_in_callee++;
				break;
			}

		struct run r[N_CONFIGS];
		memset(r, 0, sizeof(r));
		char why[300] = "";
		uint8_t rmem[MEM_LEN] = {0};
		uint64_t ref_r0 = 0, ref_steps = 0;
		char ref_why[160];
		int ref_err = refeval_run_helpers(prog.insns, prog.n, rmem, sizeof(rmem), MAX_STEPS,
						  ref_helper, NULL, &ref_r0, &ref_steps, ref_why,
						  sizeof(ref_why));
		bool loaded = bee_all(prog.insns, prog.n, t, r, why, sizeof(why));
		runs += N_CONFIGS;

		if (loaded && ref_err) {
			snprintf(why, sizeof(why), "refeval failed: %s", ref_why);
			loaded = false;
		}
		if (loaded) {
			for (size_t c = 0; c < N_CONFIGS && !why[0]; c++) {
				bool checked = configs[c].code == CODE_CHECKED ||
					       configs[c].code == CODE_CHECKED_BLIND;
				if (r[c].err)
					snprintf(why, sizeof(why), "%s failed (%d): %s", configs[c].name,
						 r[c].err, r[c].msg);
				else if (r[c].r0 != ref_r0)
					snprintf(why, sizeof(why),
						 "%s returned %#" PRIx64 ", refeval %#" PRIx64,
						 configs[c].name, r[c].r0, ref_r0);
				else if (checked && r[c].insns != ref_steps)
					snprintf(why, sizeof(why),
						 "%s executed %" PRIu64 " instructions, refeval %" PRIu64,
						 configs[c].name, r[c].insns, ref_steps);
			}
		}
		if (!why[0]) {
			agree++;
			if (have_only) {
				print_program(&prog);
				printf("all agree: r0 = %#" PRIx64 ", %" PRIu64 " instructions\n", ref_r0,
				       ref_steps);
			}
			continue;
		}
		if (++failed <= MAX_REPORTED || have_only) {
			printf("FAIL diff_calls: seed %" PRIu64 " program %" PRIu64 ": %s\n", seed, idx,
			       why);
			print_program(&prog);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	printf("diff_calls: seed %" PRIu64 ": %" PRIu64 " programs (%" PRIu64
	       " runs on bee), %" PRIu64 " agree, %" PRIu64 " fail; %.2f s\n",
	       seed, ran, runs, agree, failed, secs);
	printf("diff_calls: %" PRIu64 " bpf-to-bpf calls; helper calls by argument count:", local_calls);
	for (unsigned k = 0; k <= GEN_MAX_HELPER_ARGS; k++)
		printf(" %u: %" PRIu64, k, helpers_by_args[k]);
	printf("\ndiff_calls: programs by frames of the deepest chain:");
	for (unsigned d = 1; d <= GEN_MAX_FUNCS; d++)
		printf(" %u: %" PRIu64, d, by_depth[d]);
	printf("; 8 frames deep with helper calls: %" PRIu64
	       "; a 5-argument helper called in a subprogram: %" PRIu64 "\n",
	       deep_with_helpers, five_args_in_callee);

	int rc = failed ? 1 : 0;
	/* a full run must have exercised what it is for */
	if (!have_only && count >= 1000) {
		for (unsigned k = 0; k <= GEN_MAX_HELPER_ARGS; k++)
			if (!helpers_by_args[k]) {
				printf("FAIL diff_calls: no helper call with %u arguments\n", k);
				rc = 1;
			}
		if (!by_depth[GEN_MAX_FUNCS] || !deep_with_helpers || !five_args_in_callee) {
			printf("FAIL diff_calls: no 8-frame chain, none with helpers, or no "
			       "5-argument helper in a subprogram\n");
			rc = 1;
		}
	}
	bee_helper_table_free(t);
	return rc;
}
