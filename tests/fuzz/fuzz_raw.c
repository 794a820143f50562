/*
 * fuzz_raw.c - libFuzzer target: arbitrary bytes as eBPF bytecode, through
 * the syntax check, bee_code_load and the checked interpreter.
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
 *  - a checked run executes no more instructions than its budget.
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < HEADER_LEN + sizeof(struct bpf_insn))
		return 0;
	size_t mem_len = data[0];
	uint8_t flags = data[1];
	bool readonly = flags & 1, no_mem = flags & 2, trusted = flags & 4, unlimited = flags & 8;
	uint64_t seed = 0;
	for (int i = 2; i < HEADER_LEN; i++)
		seed = seed << 8 | data[i];

	size_t n = (size - HEADER_LEN) / sizeof(struct bpf_insn);
	/* Copy into an exactly-sized block so ASan catches reads past the end. */
	struct bpf_insn *insns = malloc(n * sizeof(*insns));
	struct bee_dinsn *d = malloc(n * sizeof(*d));
	if (!insns || !d)
		abort();
	memcpy(insns, data + HEADER_LEN, n * sizeof(*insns));

	struct bee_error check_err, load_err;
	bee_error_clear(&check_err);
	bee_error_clear(&load_err);
	int check = bee_check_program(insns, n, d, &check_err);
	if (check < 0 && check_err.code != check)
		broken_promise("bee_check_program's error record disagrees with its return", check,
			       &check_err);

	struct bee_code_opts copts = {.sz = sizeof(copts), .helpers = helpers, .trusted = trusted};
	struct bee_code *code = bee_code_load(insns, n, &copts, &load_err);
	if (!code) {
		if (load_err.code >= 0)
			broken_promise("bee_code_load failed without an error code", load_err.code,
				       &load_err);
		goto out;
	}
	if (check < 0)
		broken_promise("bee_code_load accepted what bee_check_program refused", check,
			       &check_err);
	if (bee_code_len(code) != n)
		broken_promise("bee_code_len differs from the instruction count", (int)n, NULL);

	uint8_t *mem = NULL;
	if (!no_mem) {
		/* malloc(0) may return NULL or a unique pointer; either is fine. */
		mem = malloc(mem_len ? mem_len : 1);
		if (!mem)
			abort();
		for (size_t i = 0; i < mem_len; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			mem[i] = (uint8_t)(seed >> 56);
		}
	}

	uint64_t budget = unlimited && straight_line(d, n) ? 0 : MAX_INSNS_BUDGET;
	struct bee_run_opts ropts = {
		.sz = sizeof(ropts),
		.engine = BEE_ENGINE_INTERP,
		.flags = BEE_RUN_CHECKED,
		.mem = mem,
		.mem_len = no_mem ? 0 : mem_len,
		.mem_readonly = readonly,
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
out:
	free(d);
	free(insns);
	return 0;
}
