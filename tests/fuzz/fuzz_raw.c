/*
 * fuzz_raw.c - libFuzzer target: arbitrary bytes as eBPF bytecode, through
 * the syntax check, bee_code_load and the checked interpreter, and then,
 * where that proves the program safe on its input, the fast interpreter.
 *
 * Input layout (one 8-byte slot of settings, then the program):
 *
 *   byte 0     length of the input memory, 0..255 bytes
 *   byte 1     bit 0: the memory is read-only
 *              bit 1: give no memory at all (r1 = NULL, r2 = 0)
 *              bit 2: load the code as trusted (it still runs checked)
 *              bit 3: no instruction budget for a program without
 *                     backward jumps or local calls (else max_insns = 10000)
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
 *  - where the checked loop shows a program safe on its input, the fast
 *    loop computes the same result and memory (run_fast_vs_checked).
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
};

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
					     .max_insns = MAX_INSNS_BUDGET};
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

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	helpers = bee_helper_table_new();
	if (!helpers || bee_helper_table_add_builtins(helpers) != 0) {
		fprintf(stderr, "fuzz_raw: cannot set up the helper table\n");
		abort();
	}
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
		if (bee_op_is_jump(d[pc].op) && bee_jump_target(&d[pc], pc) <= (long)pc)
			return false;
	}
	return true;
}

static bool documented_run_error(int code)
{
	return code == -EFAULT || code == -E2BIG || code == -ETIME || code == -EINVAL;
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
	bool readonly, no_mem, trusted, unlimited;
	uint64_t seed;
};

/*
 * Phase 1: the bytes as they are, in checked mode only (fast mode is for
 * trusted code, and random bytes are anything but).
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
				      .trusted = set->trusted};
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
	uint64_t budget = set->unlimited && straight_line(d, n) ? 0 : MAX_INSNS_BUDGET;
	struct bee_run_opts ropts = {
		.sz = sizeof(ropts),
		.engine = BEE_ENGINE_INTERP,
		.flags = BEE_RUN_CHECKED,
		.mem = mem,
		.mem_len = mem ? set->mem_len : 0,
		.mem_readonly = set->readonly,
		.max_insns = budget,
	};
	struct bee_run_result res;
	memset(&res, 0xa5, sizeof(res)); /* the run must fill it in */
	int ret = bee_code_run(code, &ropts, &res);
	if (ret > 0)
		broken_promise("bee_code_run returned a positive value", ret, &res.err);
	if (ret < 0) {
		if (res.err.code != ret)
			broken_promise("a stopped run's error record disagrees with its return", ret,
				       &res.err);
		if (!documented_run_error(ret))
			broken_promise("a run stopped with an undocumented error", ret, &res.err);
		if (res.err.insn < -1 || res.err.insn >= (long)n)
			broken_promise("a run's error names an instruction outside the program", ret,
				       &res.err);
	}
	if (budget && res.insns > budget)
		broken_promise("a checked run went past its instruction budget", (int)res.insns,
			       &res.err);
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
 *  - programs that call helpers (the clock and random helpers change the
 *    path) or local functions (each frame is a new uninitialised stack)
 *    are left out;
 *  - so are programs that use r10's value other than as the address of a
 *    load or store: the two loops keep their stacks at different
 *    addresses, so a value or a branch that depends on r10 differs;
 *  - both runs get the same input memory block (restored in between), so
 *    values and branches derived from r1 agree.
 *
 * Then both loops must return the same r0 and leave the same memory.  This
 * reaches what the checked loop lacks, such as the fast loop's fused
 * instruction pairs.
 */
#define PROLOGUE_LEN (8 + BEE_STACK_SIZE / 8)

static bool fast_vs_checked_eligible(const struct bee_dinsn *d, size_t n)
{
	for (size_t pc = 0; pc < n; pc++) {
		if (d[pc].slots == 0)
			continue;
		switch ((enum bee_shape)bee_op_info[d[pc].op].shape) {
		case BEE_SH_CALL_HELPER:
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
	uint8_t *mem = NULL, *orig = NULL, *after_checked = NULL;
	if (bee_check_program(insns, n, d, NULL) < 0 || !fast_vs_checked_eligible(d, n))
		goto out;
	struct bee_code_opts copts = {.sz = sizeof(copts), .helpers = helpers, .trusted = true};
	code = bee_code_load(insns, n, &copts, NULL);
	if (!code)
		goto out;

	mem = new_mem(set->mem_len, set->no_mem, set->seed);
	orig = new_mem(set->mem_len, set->no_mem, set->seed);
	struct bee_run_opts ropts = {
		.sz = sizeof(ropts),
		.engine = BEE_ENGINE_INTERP,
		.flags = BEE_RUN_CHECKED,
		.mem = mem,
		.mem_len = mem ? set->mem_len : 0,
		.mem_readonly = set->readonly,
		.max_insns = MAX_INSNS_BUDGET + PROLOGUE_LEN,
	};
	struct bee_run_result checked, fast;
	if (bee_code_run(code, &ropts, &checked) != 0)
		goto out; /* stopped: not known to be safe, so not for the fast loop */
	if (mem) {
		after_checked = new_mem(set->mem_len, false, 0);
		memcpy(after_checked, mem, set->mem_len);
		memcpy(mem, orig, set->mem_len);
	}
	ropts.flags = 0;
	ropts.max_insns = 0;
	int ret = bee_code_run(code, &ropts, &fast);
	if (ret != 0)
		broken_promise("the fast loop failed where the checked loop ran to exit", ret,
			       &fast.err);
	if (fast.r0 != checked.r0) {
		fprintf(stderr, "fuzz_raw: fast r0 0x%llx, checked r0 0x%llx\n",
			(unsigned long long)fast.r0, (unsigned long long)checked.r0);
		broken_promise("the fast and the checked loop disagree on r0", 0, NULL);
	}
	if (mem && memcmp(mem, after_checked, set->mem_len) != 0)
		broken_promise("the fast and the checked loop leave different memory", 0, NULL);
out:
	free(mem);
	free(orig);
	free(after_checked);
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
