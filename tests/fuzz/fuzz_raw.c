/*
 * fuzz_raw.c - libFuzzer target: arbitrary bytes as eBPF bytecode, through
 * the syntax check, bee_code_load, the checked interpreter and the checked
 * JIT, and then, where that proves the program safe on its input, the fast
 * interpreter and the fast JIT.
 *
 * Input layout (one 8-byte slot of settings, then the program):
 *
 *   byte 0     length of the input memory, 0..255 bytes
 *   byte 1     bit 0: the memory is read-only
 *              bit 1: give no memory at all (r1 = NULL, r2 = 0)
 *              bit 2: load the code as trusted (it still runs checked)
 *              bit 3: no instruction budget for a program without
 *                     backward jumps or local calls (else max_insns = 10000)
 *              bit 4: load with jit_blind (constant blinding in the JIT)
 *   bytes 2-7  seed of the memory's contents
 *   bytes 8-   instructions; a trailing partial instruction is dropped
 *
 * What must hold, whatever the bytes: nothing crashes, hangs or trips a
 * sanitizer.  The input memory is a heap block of exactly its length, so
 * AddressSanitizer sees any access the checked interpreter lets through
 * outside it.  Beyond that the target checks the API's promises:
 *
 *  - bee_code_load refuses whatever bee_check_program refuses;
 *  - a refusal or a stopped run sets the error record to the returned code;
 *  - a run that stops early stops with one of the documented errors;
 *  - a checked run executes no more instructions than its budget;
 *  - the checked JIT gives what the checked interpreter gives: return
 *    code, r0, error code, instruction index, instruction count, memory
 *    and message, where the outcome depends on r10's value once both
 *    engines get the same r10 (compare_checked_jit);
 *  - where the checked loop shows a program safe on its input, the fast
 *    loop and the fast JIT compute the same result and memory
 *    (run_fast_vs_checked).
 *
 * The helpers are the builtins (bpf_loop among them, so that `lddw rX,
 * subprog` values and garbage reach bee_run_callback), with deterministic
 * stand-ins for the clock, random and CPU ones (fake_helpers), so that
 * runs can be compared, and the target's own fuzz_grant, which grants a
 * region.  Tail calls (`call 12`) reach a fixed set of small programs
 * (tail_targets: one that returns, one that reads its ctx, one that
 * tail-calls itself to the limit, one that loops, one that runs a
 * callback, one that faults), whatever map operand the program passes.
 *
 * A broken promise aborts, so libFuzzer records it as a crash.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "bee/error.h"
#include "bee/vm.h"
#include "isa/isa.h"

#define MAX_INSNS_BUDGET 10000
#define HEADER_LEN 8

static struct bee_helper_table *helpers;
static bool verbose; /* BEE_FUZZ_VERBOSE=1: print what every comparison sees */
static struct bee_code *r10_probe; /* r0 = r10; exit (see run_with_same_r10) */

/* ---- the seed corpus ----------------------------------------------------
 *
 * A few valid programs covering each family of instructions.  With the
 * environment variable BEE_FUZZ_SEEDS=DIR, the target writes them to DIR
 * (each behind its settings header) and exits, after checking that every
 * one loads and runs to its exit.
 */
#define I(code, dst, src, off, imm) {(code), (dst), (src), (off), (imm)}
#define LDDW(dst, v) I(0x18, dst, 0, 0, (int32_t)(uint32_t)(v)), I(0, 0, 0, 0, (int32_t)((uint64_t)(v) >> 32))
#define EXIT I(0x95, 0, 0, 0, 0)

struct seed {
	const char *name;
	uint8_t mem_len, flags;
	size_t n;
	struct bpf_insn insns[16];
};

#define SEED(NAME, MEM_LEN, FLAGS, ...)                                                        \
	{NAME, MEM_LEN, FLAGS, sizeof((struct bpf_insn[]){__VA_ARGS__}) / sizeof(struct bpf_insn), \
	 {__VA_ARGS__}}

static const struct seed seeds[] = {
	SEED("ret1", 0, 0, I(0xb7, 0, 0, 0, 1), EXIT),
	/* r0 = 0; loop: r0 += 1; if r0 < 100 goto loop */
	SEED("count", 0, 0, I(0xb7, 0, 0, 0, 0), I(0x07, 0, 0, 0, 1), I(0xa5, 0, 0, -2, 100), EXIT),
	/* loads of every width from the input memory */
	SEED("load_mem", 16, 1, I(0x71, 0, 1, 0, 0), I(0x69, 2, 1, 2, 0), I(0x0f, 0, 2, 0, 0),
	     I(0x61, 2, 1, 4, 0), I(0x0f, 0, 2, 0, 0), I(0x79, 2, 1, 8, 0), I(0x0f, 0, 2, 0, 0), EXIT),
	/* stores into it, then a load back */
	SEED("store_mem", 16, 0, I(0x72, 1, 0, 0, 7), I(0x7b, 1, 2, 8, 0), I(0x61, 0, 1, 0, 0), EXIT),
	/* stack: st, ldx, stx at two widths */
	SEED("stack", 0, 0, I(0x7a, 10, 0, -8, 5), I(0x79, 0, 10, -8, 0), I(0x63, 10, 0, -12, 0),
	     I(0x61, 1, 10, -12, 0), I(0x0f, 0, 1, 0, 0), EXIT),
	/* the built-in helpers without pointer arguments */
	SEED("helpers", 0, 0, I(0x85, 0, 0, 0, 5), I(0xbf, 6, 0, 0, 0), I(0x85, 0, 0, 0, 7),
	     I(0x85, 0, 0, 0, 8), I(0x85, 0, 0, 0, 125), I(0x0f, 0, 6, 0, 0), EXIT),
	SEED("lddw", 0, 0, LDDW(0, 0x1122334455667788ull), LDDW(1, 0xffffffff00000001ull),
	     I(0x2f, 0, 1, 0, 0), EXIT),
	/* r1 = 3; call f; r0 += 1; exit; f: r0 = r1; r0 *= 2; exit */
	SEED("local_call", 0, 0, I(0xb7, 1, 0, 0, 3), I(0x85, 0, 1, 0, 2), I(0x07, 0, 0, 0, 1), EXIT,
	     I(0xbf, 0, 1, 0, 0), I(0x27, 0, 0, 0, 2), EXIT),
	/* atomic add, or, fetch-xchg and cmpxchg on a stack slot */
	SEED("atomics", 0, 0, I(0x7a, 10, 0, -8, 1), I(0xb7, 1, 0, 0, 2), I(0xdb, 10, 1, -8, 0x00),
	     I(0xdb, 10, 1, -8, 0x40), I(0xdb, 10, 1, -8, 0xe1), I(0xb7, 0, 0, 0, 3),
	     I(0xdb, 10, 1, -8, 0xf1), I(0x79, 0, 10, -8, 0), EXIT),
	/* legacy packet loads: ld_abs b/h, ld_ind w */
	SEED("ld_abs", 32, 1, I(0xbf, 6, 1, 0, 0), I(0x30, 0, 0, 0, 0), I(0x28, 0, 0, 0, 2),
	     I(0xb7, 2, 0, 0, 4), I(0x40, 0, 2, 0, 4), EXIT),
	/* div, mod, sdiv, and a 32-bit mod by zero */
	SEED("divmod", 0, 0, I(0xb7, 0, 0, 0, 100), I(0xb7, 1, 0, 0, 7), I(0x3f, 0, 1, 0, 0),
	     I(0x97, 0, 0, 0, 3), I(0x37, 0, 0, 1, -1), I(0x3c, 0, 1, 0, 0), I(0xb4, 2, 0, 0, 0),
	     I(0x9c, 0, 2, 0, 0), EXIT),
	/* conditional jumps on a value from memory, and a gotol */
	SEED("jumps", 8, 0, I(0x61, 2, 1, 0, 0), I(0xb7, 0, 0, 0, 0), I(0x15, 2, 0, 2, 0),
	     I(0x65, 2, 0, 1, -1), I(0x07, 0, 0, 0, 1), I(0x2d, 2, 0, 1, 0), I(0x07, 0, 0, 0, 2),
	     I(0x06, 0, 0, 0, 0), EXIT),
	/* be16, bswap64, movsx8, movsx16 (32-bit) */
	SEED("bswap_movsx", 0, 0, LDDW(0, 0x0102030405060708ull), I(0xdc, 0, 0, 0, 16),
	     I(0xd7, 0, 0, 0, 64), I(0xbf, 1, 0, 8, 0), I(0xbc, 2, 1, 16, 0), I(0x0f, 0, 2, 0, 0),
	     EXIT),
	/* bpf_trace_printk("x = %d\n", 8, 42) with the format on the stack */
	SEED("printk", 0, 0, LDDW(1, 0x000a6425203d2078ull), I(0x7b, 10, 1, -8, 0),
	     I(0xbf, 1, 10, 0, 0), I(0x07, 1, 0, 0, -8), I(0xb7, 2, 0, 0, 8), I(0xb7, 3, 0, 0, 42),
	     I(0x85, 0, 0, 0, 6), EXIT),
	/* a byte sum over the whole input memory: p = r1, end = r1 + r2 */
	SEED("csum", 64, 1, I(0xbf, 3, 1, 0, 0), I(0x0f, 3, 2, 0, 0), I(0xb7, 0, 0, 0, 0),
	     I(0x3d, 1, 3, 4, 0), I(0x71, 4, 1, 0, 0), I(0x0f, 0, 4, 0, 0), I(0x07, 1, 0, 0, 1),
	     I(0x05, 0, 0, -5, 0), EXIT),
	/* fuzz_grant, a store to its writable half, a load from its read-only one */
	SEED("grant", 0, 0, I(0x85, 0, 0, 0, 0x10000), I(0x62, 0, 0, 4, 5), I(0x79, 0, 0, 40, 0),
	     EXIT),
	/* tail call to the target that chains itself to the limit, then r0 = 5 if it fails */
	SEED("tail_call", 8, 0, I(0xb7, 2, 0, 0, 0), I(0xb7, 3, 0, 0, 2), I(0x85, 0, 0, 0, 12),
	     I(0xb7, 0, 0, 0, 5), EXIT),
	/* bpf_loop(4, f, r10 - 8, 0) with f adding i into the caller's stack slot */
	SEED("bpf_loop", 0, 0, I(0x7a, 10, 0, -8, 0), I(0xb7, 1, 0, 0, 4), I(0x18, 2, 4, 0, 7),
	     I(0, 0, 0, 0, 0), I(0xbf, 3, 10, 0, 0), I(0x07, 3, 0, 0, -8), I(0xb7, 4, 0, 0, 0),
	     I(0x85, 0, 0, 0, 181), I(0x79, 0, 10, -8, 0), EXIT,
	     /* 10: f(i, ctx) */
	     I(0x79, 3, 2, 0, 0), I(0x0f, 3, 1, 0, 0), I(0x7b, 2, 3, 0, 0), I(0xb7, 0, 0, 0, 0), EXIT),
};

/*
 * The programs tail calls reach: index r3 of any "map" r2.  Each is loaded
 * untrusted (a checked run runs them all; a fast one refuses them, which
 * phase 2 never reaches as it leaves tail calls out).
 */
static const struct seed tail_target_src[] = {
	SEED("ret1", 0, 0, I(0xb7, 0, 0, 0, 1), EXIT),
	SEED("read_ctx", 0, 0, I(0x71, 0, 1, 0, 0), EXIT),
	SEED("chain", 0, 0, I(0xb7, 2, 0, 0, 0), I(0xb7, 3, 0, 0, 2), I(0x85, 0, 0, 0, 12),
	     I(0xb7, 0, 0, 0, 2), EXIT),
	SEED("spin", 0, 0, I(0x05, 0, 0, -1, 0), EXIT),
	SEED("loop", 0, 0, I(0xb7, 1, 0, 0, 3), I(0x18, 2, 4, 0, 5), I(0, 0, 0, 0, 0),
	     I(0xbf, 3, 10, 0, 0), I(0xb7, 4, 0, 0, 0), I(0x85, 0, 0, 0, 181), EXIT,
	     /* 7: the callback stores i in the caller's frame */
	     I(0x7b, 2, 1, -8, 0), I(0xb7, 0, 0, 0, 0), EXIT),
	SEED("fault", 0, 0, I(0xb7, 1, 0, 0, 0), I(0x7a, 1, 0, 0, 1), EXIT),
};

#define N_TAIL_TARGETS (sizeof(tail_target_src) / sizeof(tail_target_src[0]))
static struct bee_code *tail_targets[N_TAIL_TARGETS];
static size_t tail_target_max_len; /* the longest: errors may name its instructions */

static const struct bee_code *fuzz_tail_call(void *user, uint64_t map, uint64_t index)
{
	(void)user, (void)map;
	return index < N_TAIL_TARGETS ? tail_targets[index] : NULL;
}

static const uint8_t seed_mem_seed[HEADER_LEN - 2] = {0x13, 0x37, 0xc0, 0xde, 0x42, 0x99};

static int write_seeds(const char *dir)
{
	int bad = 0;
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		const struct seed *s = &seeds[i];
		struct bee_error err;
		struct bee_code_opts copts = {.sz = sizeof(copts), .helpers = helpers};
		struct bee_code *code = bee_code_load(s->insns, s->n, &copts, &err);
		if (!code) {
			fprintf(stderr, "fuzz_raw: seed %s does not load: insn %ld: %s\n", s->name,
				err.insn, err.msg);
			bad = 1;
			continue;
		}
		uint8_t mem[256] = {0};
		struct bee_run_opts ropts = {.sz = sizeof(ropts), .flags = BEE_RUN_CHECKED, .mem = mem,
					     .mem_len = s->mem_len, .mem_readonly = s->flags & 1,
					     .max_insns = MAX_INSNS_BUDGET, .tail_call = fuzz_tail_call};
		struct bee_run_result res;
		int ret = bee_code_run(code, &ropts, &res);
		bee_code_free(code);
		if (ret < 0) {
			fprintf(stderr, "fuzz_raw: seed %s does not run: insn %ld: %s\n", s->name,
				res.err.insn, res.err.msg);
			bad = 1;
			continue;
		}
		char path[4096];
		snprintf(path, sizeof(path), "%s/seed-%s", dir, s->name);
		FILE *f = fopen(path, "wb");
		if (!f) {
			perror(path);
			return 1;
		}
		uint8_t hdr[HEADER_LEN] = {s->mem_len, s->flags};
		memcpy(hdr + 2, seed_mem_seed, sizeof(seed_mem_seed));
		fwrite(hdr, 1, sizeof(hdr), f);
		fwrite(s->insns, sizeof(struct bpf_insn), s->n, f);
		if (fclose(f) != 0) {
			perror(path);
			return 1;
		}
	}
	if (!bad)
		printf("fuzz_raw: wrote %zu seeds to %s\n", sizeof(seeds) / sizeof(seeds[0]), dir);
	return bad;
}

/*
 * The builtin helpers that do not read memory return what the clock, the
 * random generator or the scheduler say, which differs from one run to
 * the next.  Comparing runs needs them deterministic: these replace them,
 * each returning a value that depends only on how many of them the run
 * has called so far (fake_calls, reset before every run).
 */
static uint64_t fake_calls;

static uint64_t fake_ktime(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	return 1000000000ull + 1000 * ++fake_calls;
}

static uint64_t fake_prandom(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	return (uint32_t)((++fake_calls * 0x9e3779b97f4a7c15ull) >> 32);
}

static uint64_t fake_cpu(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	return ++fake_calls & 1;
}

static const struct bee_helper fake_helpers[] = {
	{.id = BPF_FUNC_ktime_get_ns, .name = "fake_ktime_get_ns", .fn = fake_ktime},
	{.id = BPF_FUNC_get_prandom_u32, .name = "fake_get_prandom_u32", .fn = fake_prandom},
	{.id = BPF_FUNC_get_smp_processor_id, .name = "fake_get_smp_processor_id", .fn = fake_cpu},
	{.id = BPF_FUNC_ktime_get_boot_ns, .name = "fake_ktime_get_boot_ns", .fn = fake_ktime},
};

/*
 * And one helper of the target's own, fuzz_grant (id FUZZ_GRANT_ID): it
 * grants the running program grant_buf, its first half writable and its
 * second half read-only, and returns its address, so that accesses reach
 * the engines' checks of granted regions too.  grant_buf is restored
 * before every run and compared after it, like the input memory.
 */
#define FUZZ_GRANT_ID 0x10000
#define GRANT_HALF 32
static uint8_t grant_buf[2 * GRANT_HALF] __attribute__((aligned(64)));

static uint64_t fuzz_grant(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	++fake_calls;
	if (bee_run_grant(grant_buf, GRANT_HALF, true) != 0 ||
	    bee_run_grant(grant_buf + GRANT_HALF, GRANT_HALF, false) != 0)
		return 0;
	return (uint64_t)(uintptr_t)grant_buf;
}

static void reset_grant_buf(void)
{
	for (size_t i = 0; i < sizeof(grant_buf); i++)
		grant_buf[i] = (uint8_t)(i * 37 + 11);
}

/* Is id one of the helpers above (no pointer arguments, deterministic)? */
static bool helper_without_pointers(int32_t id)
{
	for (size_t i = 0; i < sizeof(fake_helpers) / sizeof(fake_helpers[0]); i++)
		if (fake_helpers[i].id == id)
			return true;
	return id == FUZZ_GRANT_ID;
}

/*
 * Both engines keep the BPF stack in a local array, which run_at_depth
 * moves by growing the native stack.  ASan's detect_stack_use_after_return
 * would put such arrays on its own fake stack instead, where they do not
 * move; keep it off whatever ASAN_OPTIONS says by default.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_stack_use_after_return=0";
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	helpers = bee_helper_table_new();
	if (!helpers || bee_helper_table_add_builtins(helpers) != 0) {
		fprintf(stderr, "fuzz_raw: cannot set up the helper table\n");
		abort();
	}
	for (size_t i = 0; i < sizeof(fake_helpers) / sizeof(fake_helpers[0]); i++)
		if (bee_helper_table_add(helpers, &fake_helpers[i]) != 0)
			abort();
	struct bee_helper grant = {.id = FUZZ_GRANT_ID, .name = "fuzz_grant", .fn = fuzz_grant};
	if (bee_helper_table_add(helpers, &grant) != 0)
		abort();
	static const struct bpf_insn probe[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 0, .src_reg = 10},
		{.code = BPF_JMP | BPF_EXIT},
	};
	struct bee_code_opts popts = {.sz = sizeof(popts)};
	r10_probe = bee_code_load(probe, 2, &popts, NULL);
	if (!r10_probe)
		abort();
	for (size_t i = 0; i < N_TAIL_TARGETS; i++) {
		struct bee_code_opts topts = {.sz = sizeof(topts), .helpers = helpers};
		struct bee_error err;
		tail_targets[i] = bee_code_load(tail_target_src[i].insns, tail_target_src[i].n, &topts,
						&err);
		if (!tail_targets[i]) {
			fprintf(stderr, "fuzz_raw: tail call target %s does not load: insn %ld: %s\n",
				tail_target_src[i].name, err.insn, err.msg);
			abort();
		}
		if (tail_target_src[i].n > tail_target_max_len)
			tail_target_max_len = tail_target_src[i].n;
	}
	const char *v = getenv("BEE_FUZZ_VERBOSE");
	verbose = v && *v && *v != '0';
	const char *seed_dir = getenv("BEE_FUZZ_SEEDS");
	if (seed_dir && *seed_dir)
		exit(write_seeds(seed_dir));
	return 0;
}

static void broken_promise(const char *what, int code, const struct bee_error *err)
{
	fprintf(stderr, "fuzz_raw: %s (code %d, err.code %d, insn %ld: %s)\n", what, code,
		err ? err->code : 0, err ? err->insn : -1L, err ? err->msg : "");
	abort();
}

/* True when no jump goes backwards and there are no local calls: such a
 * program ends within n instructions, so running it without a budget
 * cannot hang.  (Forward calls alone are not enough: a function that
 * calls the next one k times, eight frames deep, runs k^8 times.) */
static bool straight_line(const struct bee_dinsn *d, size_t n)
{
	for (size_t pc = 0; pc < n; pc++) {
		if (d[pc].slots == 0)
			continue;
		if (bee_op_info[d[pc].op].shape == BEE_SH_CALL_LOCAL)
			return false;
		/* a tail call may reach "spin"; bpf_loop repeats callbacks */
		if (d[pc].op == BEE_OP_CALL_HELPER &&
		    (d[pc].imm == BPF_FUNC_tail_call || d[pc].imm == BPF_FUNC_loop))
			return false;
		if (bee_op_is_jump(d[pc].op) && bee_jump_target(&d[pc], pc) <= (long)pc)
			return false;
	}
	return true;
}

static bool documented_run_error(int code)
{
	return code == -EFAULT || code == -E2BIG || code == -ETIME || code == -EINVAL ||
	       code == -EOPNOTSUPP;
}

/* The input memory: an exactly-sized heap block (so ASan sees any access
 * past its end) filled from the seed; NULL when there is to be none. */
static uint8_t *new_mem(size_t len, bool none, uint64_t seed)
{
	if (none)
		return NULL;
	uint8_t *mem = malloc(len ? len : 1); /* malloc(0) may give NULL */
	if (!mem)
		abort();
	for (size_t i = 0; i < len; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		mem[i] = (uint8_t)(seed >> 56);
	}
	return mem;
}

struct settings {
	size_t mem_len;
	bool readonly, no_mem, trusted, unlimited, blind;
	uint64_t seed;
};

/* ---- running one loaded program several times ----------------------------
 *
 * Every run of a program gets the same input memory block, its contents
 * restored first, so that values and branches derived from r1 agree, and
 * so do addresses inside it that an error message prints.
 */
struct machine {
	const struct bee_code *code;
	size_t n;              /* instructions, for the promises about err.insn */
	uint8_t *mem;          /* the input memory block, or NULL */
	const uint8_t *orig;   /* its contents before any run */
	size_t mem_len;
	bool readonly;
	uint64_t budget;       /* max_insns of a checked run */
};

/* What a run left behind. */
struct outcome {
	int ret;
	uint64_t r0, insns;
	struct bee_error err;
	uint8_t mem[256]; /* the input memory after the run (mem_len bytes) */
	uint8_t granted[sizeof(grant_buf)]; /* grant_buf after the run */
};

/*
 * Run with the native stack `shift` bytes deeper than usual.  Both engines
 * keep the BPF stack in a local array of the function they run in, so this
 * moves r10 and nothing else: a program whose outcome changes with it
 * depends on where its stack happens to be (see compare_checked_jit).
 * (Not instrumented: ASan would pad the block and round it to 32 bytes.)
 */
__attribute__((noinline, no_sanitize("address"))) static int
run_at_depth(const struct bee_code *code, const struct bee_run_opts *ropts,
	     struct bee_run_result *res, size_t shift)
{
	volatile uint8_t *pad = __builtin_alloca(shift + 1);
	pad[0] = 0;
	pad[shift] = 0;
	int ret = bee_code_run(code, ropts, res);
	(void)pad[0]; /* keeps the pad alive across the call */
	return ret;
}

/* Not inlined: every run_once called from one function then reaches
 * run_at_depth at the same depth, which run_with_same_r10 relies on. */
__attribute__((noinline)) static void run_once(const struct machine *m, enum bee_engine engine,
					       bool checked, size_t shift, struct outcome *out)
{
	if (m->mem)
		memcpy(m->mem, m->orig, m->mem_len);
	struct bee_run_opts ropts = {
		.sz = sizeof(ropts),
		.engine = engine,
		.flags = checked ? BEE_RUN_CHECKED : 0,
		.mem = m->mem,
		.mem_len = m->mem ? m->mem_len : 0,
		.mem_readonly = m->readonly,
		.max_insns = checked ? m->budget : 0,
		.tail_call = fuzz_tail_call,
	};
	struct bee_run_result res;
	memset(&res, 0xa5, sizeof(res)); /* the run must fill it in */
	fake_calls = 0;
	reset_grant_buf();
	out->ret = run_at_depth(m->code, &ropts, &res, shift);
	out->r0 = res.r0;
	out->insns = res.insns;
	out->err = res.err;
	if (m->mem)
		memcpy(out->mem, m->mem, m->mem_len);
	memcpy(out->granted, grant_buf, sizeof(grant_buf));
}

/* The promises of every checked run, whatever the engine. */
static void check_checked_run(const struct machine *m, const struct outcome *o)
{
	if (o->ret > 0)
		broken_promise("bee_code_run returned a positive value", o->ret, &o->err);
	if (o->ret < 0) {
		if (o->err.code != o->ret)
			broken_promise("a stopped run's error record disagrees with its return",
				       o->ret, &o->err);
		if (!documented_run_error(o->ret))
			broken_promise("a run stopped with an undocumented error", o->ret, &o->err);
		/* after a tail call, the instruction is the target's */
		size_t n = m->n > tail_target_max_len ? m->n : tail_target_max_len;
		if (o->err.insn < -1 || o->err.insn >= (long)n)
			broken_promise("a run's error names an instruction outside the program",
				       o->ret, &o->err);
	}
	if (m->budget && o->insns > m->budget)
		broken_promise("a checked run went past its instruction budget", (int)o->insns,
			       &o->err);
}

/* A message with every hexadecimal number ("0x...") replaced by "0x?". */
static void mask_hex(const char *msg, char *out, size_t len)
{
	size_t k = 0;
	for (const char *p = msg; *p && k + 4 < len;) {
		if (p[0] == '0' && p[1] == 'x') {
			memcpy(out + k, "0x?", 3);
			k += 3;
			p += 2;
			while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
				p++;
		} else {
			out[k++] = *p++;
		}
	}
	out[k] = '\0';
}

enum {
	DIFF_FLOW = 1 << 0,  /* return code, error code, instruction index or count */
	DIFF_R0 = 1 << 1,    /* r0 of a run that reached its exit */
	DIFF_MEM = 1 << 2,   /* the input memory left behind */
	DIFF_MSG = 1 << 3,   /* the error message */
	DIFF_SHAPE = 1 << 4, /* the error message, its hexadecimal numbers aside */
};

static unsigned outcome_diff(const struct machine *m, const struct outcome *a,
			     const struct outcome *b)
{
	unsigned d = 0;
	if (a->ret != b->ret || a->err.code != b->err.code || a->err.insn != b->err.insn ||
	    a->insns != b->insns)
		d |= DIFF_FLOW;
	if (a->ret == 0 && b->ret == 0 && a->r0 != b->r0)
		d |= DIFF_R0;
	if ((m->mem && memcmp(a->mem, b->mem, m->mem_len) != 0) ||
	    memcmp(a->granted, b->granted, sizeof(a->granted)) != 0)
		d |= DIFF_MEM;
	if (strcmp(a->err.msg, b->err.msg) != 0) {
		d |= DIFF_MSG;
		char ma[sizeof(a->err.msg)], mb[sizeof(b->err.msg)];
		mask_hex(a->err.msg, ma, sizeof(ma));
		mask_hex(b->err.msg, mb, sizeof(mb));
		if (strcmp(ma, mb) != 0)
			d |= DIFF_SHAPE;
	}
	return d;
}

static void print_outcome(const char *name, const struct machine *m, const struct outcome *o)
{
	fprintf(stderr, "fuzz_raw:   %-16s ret %d r0 0x%llx insns %llu err.code %d insn %ld: %s\n",
		name, o->ret, (unsigned long long)o->r0, (unsigned long long)o->insns, o->err.code,
		o->err.insn, o->err.msg);
	if (m->mem) {
		fprintf(stderr, "fuzz_raw:   %-16s input memory", "");
		for (size_t i = 0; i < m->mem_len; i++)
			fprintf(stderr, "%s%02x", i % 32 ? "" : "\nfuzz_raw:     ", o->mem[i]);
		fprintf(stderr, "\n");
	}
	fprintf(stderr, "fuzz_raw:   %-16s grant_buf", "");
	for (size_t i = 0; i < sizeof(o->granted); i++)
		fprintf(stderr, "%s%02x", i % 32 ? "" : "\nfuzz_raw:     ", o->granted[i]);
	fprintf(stderr, "\n");
}

static void engines_disagree(const char *what, unsigned diff, const struct machine *m,
			     const char *name_a, const struct outcome *a, const char *name_b,
			     const struct outcome *b)
{
	const char *msg = diff & DIFF_MSG     ? " the message"
			  : diff & DIFF_SHAPE ? " the message, hexadecimal numbers aside"
					      : "";
	fprintf(stderr, "fuzz_raw: %s disagree on%s%s%s%s\n", what,
		diff & DIFF_FLOW ? " the return, error code, instruction or count" : "",
		diff & DIFF_R0 ? " r0" : "", diff & DIFF_MEM ? " the memory" : "", msg);
	print_outcome(name_a, m, a);
	print_outcome(name_b, m, b);
	abort();
}

/*
 * Run the program on both engines (checked) at depths of the native stack
 * (run_at_depth) that give both the same r10; false if that cannot be
 * arranged.  The depths come from r10_probe, run from this same function
 * (so from the same depth) as the program.  The JIT aligns its stack to
 * 64 bytes, the interpreter to 16 (32 under ASan, which aligns its
 * frame), so the meeting point is the 64-byte boundary at or below the
 * lower of the two; probes at the chosen depths confirm it.
 */
static bool run_with_same_r10(const struct machine *m, struct outcome *interp,
			      struct outcome *jit, size_t *interp_shift, size_t *jit_shift)
{
	const struct machine pm = {.code = r10_probe, .n = 2};
	run_once(&pm, BEE_ENGINE_INTERP, true, 0, interp);
	run_once(&pm, BEE_ENGINE_JIT, true, 0, jit);
	if (interp->ret != 0 || jit->ret != 0)
		broken_promise("the r10 probe does not run", interp->ret ? interp->ret : jit->ret,
			       interp->ret ? &interp->err : &jit->err);
	uint64_t i0 = interp->r0, j0 = jit->r0;
	uint64_t meet = (i0 < j0 ? i0 : j0) & ~(uint64_t)63;
	*interp_shift = (size_t)(i0 - meet);
	*jit_shift = (size_t)(j0 - meet);
	run_once(&pm, BEE_ENGINE_INTERP, true, *interp_shift, interp);
	run_once(&pm, BEE_ENGINE_JIT, true, *jit_shift, jit);
	if (interp->ret != 0 || jit->ret != 0 || interp->r0 != meet || jit->r0 != meet)
		return false;
	run_once(m, BEE_ENGINE_INTERP, true, *interp_shift, interp);
	run_once(m, BEE_ENGINE_JIT, true, *jit_shift, jit);
	return true;
}

/* Moves of the interpreter's stack for the fallback stability test: one
 * per bit of r10 from 5 up (below, both engines' stacks are aligned). */
static const size_t stack_shifts[] = {0x20,    0x40,    0x80,     0x100,    0x200,   0x400,
				      0x800,   0x1000,  0x2000,   0x4000,   0x8000,  0x10000,
				      0x20000, 0x40000, 0x80000, 0x100000, 0x200000};

/*
 * The checked JIT against the checked interpreter: the same return code,
 * r0, error code, instruction index, instruction count, memory and
 * message.  Run as they are, the two engines keep their stacks at
 * different addresses, so a program whose outcome depends on the value of
 * r10 legitimately differs: r10 copied into r0, into memory, into a branch
 * condition, or a wild access through a copied stack pointer far from the
 * stack (whose message prints an absolute address, the documented
 * exception).  So when the engines disagree, both run again at depths of
 * the native stack that give them the same r10 (run_with_same_r10), and
 * must then agree on everything, messages included.
 *
 * Should the depths not line up (a change in how an engine places its
 * stack), the fallback finds out which parts of the outcome depend on r10
 * by moving the interpreter's stack alone, once per bit of r10:
 *
 *  - the interpreter's path (return, error code, instruction index, count)
 *    changes: the program branches on r10, nothing can be compared;
 *  - otherwise the path must agree, and r0, the memory and the message
 *    must each agree unless the interpreter's changes too.  A message that
 *    changes only in its hexadecimal numbers (an absolute address) must
 *    keep its shape: the same kind of access, size, register and offset.
 */
static void compare_checked_jit(const struct machine *m, const struct outcome *interp,
				const struct outcome *jit)
{
	unsigned diff = outcome_diff(m, interp, jit);
	if (verbose) {
		print_outcome("checked interp", m, interp);
		print_outcome("checked JIT", m, jit);
	}
	if (!diff)
		return;
	size_t interp_shift, jit_shift;
	struct outcome a, b;
	if (run_with_same_r10(m, &a, &b, &interp_shift, &jit_shift)) {
		diff = outcome_diff(m, &a, &b);
		if (verbose) {
			fprintf(stderr, "fuzz_raw: with the same r10 (shifts 0x%zx, 0x%zx):\n",
				interp_shift, jit_shift);
			print_outcome("checked interp", m, &a);
			print_outcome("checked JIT", m, &b);
		}
		if (diff)
			engines_disagree("with the same r10, the checked JIT and the checked "
					 "interpreter",
					 diff, m, "interpreter", &a, "JIT", &b);
		return;
	}
	if (verbose)
		fprintf(stderr, "fuzz_raw: cannot give both engines the same r10\n");
	unsigned unstable = 0;
	for (size_t i = 0; i < sizeof(stack_shifts) / sizeof(stack_shifts[0]); i++) {
		run_once(m, BEE_ENGINE_INTERP, true, stack_shifts[i], &a);
		unstable |= outcome_diff(m, interp, &a);
	}
	if (verbose)
		fprintf(stderr, "fuzz_raw: the engines differ in 0x%x, moving the stack changes 0x%x\n",
			diff, unstable);
	if (unstable & DIFF_FLOW)
		return;
	diff &= ~unstable;
	if (diff)
		engines_disagree("the checked JIT and the checked interpreter", diff, m,
				 "interpreter", interp, "JIT", jit);
}

/*
 * Phase 1: the bytes as they are, in checked mode only (fast mode is for
 * trusted code, and random bytes are anything but): the interpreter, then
 * the JIT.
 */
static void run_raw(const struct bpf_insn *insns, size_t n, const struct settings *set)
{
	struct bee_dinsn *d = malloc(n * sizeof(*d));
	if (!d)
		abort();
	struct bee_error check_err, load_err;
	bee_error_clear(&check_err);
	bee_error_clear(&load_err);
	int check = bee_check_program(insns, n, d, &check_err);
	if (check < 0 && check_err.code != check)
		broken_promise("bee_check_program's error record disagrees with its return", check,
			       &check_err);

	struct bee_code_opts copts = {.sz = sizeof(copts), .helpers = helpers,
				      .trusted = set->trusted, .jit_blind = set->blind};
	struct bee_code *code = bee_code_load(insns, n, &copts, &load_err);
	if (!code) {
		if (load_err.code >= 0)
			broken_promise("bee_code_load failed without an error code", load_err.code,
				       &load_err);
		free(d);
		return;
	}
	if (check < 0)
		broken_promise("bee_code_load accepted what bee_check_program refused", check,
			       &check_err);
	if (bee_code_len(code) != n)
		broken_promise("bee_code_len differs from the instruction count", (int)n, NULL);

	uint8_t *mem = new_mem(set->mem_len, set->no_mem, set->seed);
	uint8_t *orig = new_mem(set->mem_len, set->no_mem, set->seed);
	struct machine m = {
		.code = code,
		.n = n,
		.mem = mem,
		.orig = orig,
		.mem_len = mem ? set->mem_len : 0,
		.readonly = set->readonly,
		.budget = set->unlimited && straight_line(d, n) ? 0 : MAX_INSNS_BUDGET,
	};
	struct outcome interp, jit;
	run_once(&m, BEE_ENGINE_INTERP, true, 0, &interp);
	check_checked_run(&m, &interp);
	run_once(&m, BEE_ENGINE_JIT, true, 0, &jit);
	check_checked_run(&m, &jit);
	compare_checked_jit(&m, &interp, &jit);
	free(orig);
	free(mem);
	bee_code_free(code);
	free(d);
}

/*
 * Phase 2: fast against checked.  The fast loop may only run code that is
 * safe, and random code is not; but a program whose checked run reached
 * its exit is safe on that input, as long as a second run takes the same
 * path.  So that it does:
 *
 *  - the program gets a prologue that zeroes r0, r3-r9 and its 512-byte
 *    stack (the checked loop zeroes them, the fast one does not);
 *  - programs that call local functions (each frame is a new
 *    uninitialised stack) or bpf_trace_printk (unchecked, it reads through
 *    whatever pointer it is given) are left out; the clock, random and CPU
 *    helpers are the target's deterministic ones (fake_helpers), so a
 *    second run takes the same path through them;
 *  - so are programs that use r10's value other than as the address of a
 *    load or store: the two loops keep their stacks at different
 *    addresses, so a value or a branch that depends on r10 differs;
 *  - both runs get the same input memory block (restored in between), so
 *    values and branches derived from r1 agree.
 *
 * Then both loops must return the same r0 and leave the same memory, and
 * so must the fast JIT, run last.  This reaches what the checked loop
 * lacks, such as the fast loop's fused instruction pairs and the fast
 * JIT's unchecked memory operands.
 */
#define PROLOGUE_LEN (8 + BEE_STACK_SIZE / 8)

static bool fast_vs_checked_eligible(const struct bee_dinsn *d, size_t n)
{
	for (size_t pc = 0; pc < n; pc++) {
		if (d[pc].slots == 0)
			continue;
		switch ((enum bee_shape)bee_op_info[d[pc].op].shape) {
		case BEE_SH_CALL_HELPER:
			if (!helper_without_pointers(d[pc].imm))
				return false;
			break;
		case BEE_SH_CALL_KFUNC:
		case BEE_SH_CALL_LOCAL:
			return false;
		case BEE_SH_ALU_REG:
		case BEE_SH_MOVSX:
		case BEE_SH_JCC_REG:
			if (d[pc].src == 10 || d[pc].dst == 10)
				return false;
			break;
		case BEE_SH_JCC_IMM:
			if (d[pc].dst == 10)
				return false;
			break;
		case BEE_SH_STX:
		case BEE_SH_ATOMIC:
		case BEE_SH_STORE_REL:
		case BEE_SH_LD_IND:
			if (d[pc].src == 10) /* r10 as the value stored or the index */
				return false;
			break;
		case BEE_SH_ALU_IMM:
		case BEE_SH_NEG:
		case BEE_SH_END:
		case BEE_SH_LDX:
		case BEE_SH_ST:
		case BEE_SH_LOAD_ACQ:
		case BEE_SH_LDDW:
		case BEE_SH_LD_ABS:
		case BEE_SH_JA:
		case BEE_SH_JA32:
		case BEE_SH_EXIT:
		case BEE_SH__COUNT:
			break; /* r10 can only be an address here (writing it is refused) */
		}
	}
	return true;
}

static void run_fast_vs_checked(const struct bpf_insn *body, size_t n_body,
				const struct settings *set)
{
	size_t n = PROLOGUE_LEN + n_body;
	struct bpf_insn *insns = malloc(n * sizeof(*insns));
	struct bee_dinsn *d = malloc(n * sizeof(*d));
	if (!insns || !d)
		abort();
	size_t k = 0;
	static const uint8_t zeroed[] = {0, 3, 4, 5, 6, 7, 8, 9};
	for (size_t i = 0; i < sizeof(zeroed); i++)
		insns[k++] = (struct bpf_insn){.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = zeroed[i]};
	for (int off = -8; off >= -BEE_STACK_SIZE; off -= 8)
		insns[k++] = (struct bpf_insn){.code = BPF_ST | BPF_MEM | BPF_DW, .dst_reg = 10,
					       .off = (int16_t)off};
	memcpy(insns + k, body, n_body * sizeof(*insns));

	struct bee_code *code = NULL;
	uint8_t *mem = NULL, *orig = NULL;
	if (bee_check_program(insns, n, d, NULL) < 0 || !fast_vs_checked_eligible(d, n))
		goto out;
	struct bee_code_opts copts = {.sz = sizeof(copts), .helpers = helpers, .trusted = true,
				      .jit_blind = set->blind};
	code = bee_code_load(insns, n, &copts, NULL);
	if (!code)
		goto out;

	mem = new_mem(set->mem_len, set->no_mem, set->seed);
	orig = new_mem(set->mem_len, set->no_mem, set->seed);
	struct machine m = {
		.code = code,
		.n = n,
		.mem = mem,
		.orig = orig,
		.mem_len = mem ? set->mem_len : 0,
		.readonly = set->readonly,
		.budget = MAX_INSNS_BUDGET + PROLOGUE_LEN,
	};
	struct outcome checked, fast, fast_jit;
	run_once(&m, BEE_ENGINE_INTERP, true, 0, &checked);
	if (checked.ret != 0)
		goto out; /* stopped: not known to be safe, so not for the fast loop */
	run_once(&m, BEE_ENGINE_INTERP, false, 0, &fast);
	if (fast.ret != 0)
		broken_promise("the fast loop failed where the checked loop ran to exit", fast.ret,
			       &fast.err);
	/* Fast runs count no instructions: compare r0 and memory only. */
	unsigned diff = outcome_diff(&m, &checked, &fast) & (DIFF_R0 | DIFF_MEM);
	if (diff)
		engines_disagree("the fast and the checked interpreter", diff, &m, "checked interp",
				 &checked, "fast interp", &fast);
	run_once(&m, BEE_ENGINE_JIT, false, 0, &fast_jit);
	if (fast_jit.ret != 0)
		broken_promise("the fast JIT failed where the checked loop ran to exit",
			       fast_jit.ret, &fast_jit.err);
	diff = outcome_diff(&m, &fast, &fast_jit) & (DIFF_R0 | DIFF_MEM);
	if (diff)
		engines_disagree("the fast JIT and the fast interpreter", diff, &m, "fast interp",
				 &fast, "fast JIT", &fast_jit);
out:
	free(mem);
	free(orig);
	bee_code_free(code);
	free(d);
	free(insns);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < HEADER_LEN + sizeof(struct bpf_insn))
		return 0;
	struct settings set = {
		.mem_len = data[0],
		.readonly = data[1] & 1,
		.no_mem = data[1] & 2,
		.trusted = data[1] & 4,
		.unlimited = data[1] & 8,
		.blind = data[1] & 16,
	};
	for (int i = 2; i < HEADER_LEN; i++)
		set.seed = set.seed << 8 | data[i];

	size_t n = (size - HEADER_LEN) / sizeof(struct bpf_insn);
	/* Copy into an exactly-sized block so ASan catches reads past the end. */
	struct bpf_insn *insns = malloc(n * sizeof(*insns));
	if (!insns)
		abort();
	memcpy(insns, data + HEADER_LEN, n * sizeof(*insns));
	run_raw(insns, n, &set);
	run_fast_vs_checked(insns, n, &set);
	free(insns);
	return 0;
}
