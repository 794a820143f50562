/*
 * bench_compile.c - how long the JIT takes to compile a large program,
 * in its fast and its checked flavour (the JIT issue's goal: a
 * 100,000-instruction program in under 50 ms).
 *
 * The program is a deterministic mix of what real programs are made of:
 * ALU on every register with immediates and registers, 64-bit immediates,
 * stack loads and stores, helper calls, and forward conditional jumps of
 * every distance (short ones that fit rel8 and long ones that do not), so
 * the layout passes have work to do.  Each measurement loads the code
 * afresh (compilation is lazy and cached per code) and times
 * bee_code_jited alone; the figure is the median of --runs.
 *
 *   taskset -c 1 build/bench/bench_compile [--insns N] [--runs N]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bee/vm.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

#define INSN(c, d, s, o, i) ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

static uint64_t helper_mix(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	return a ^ (b << 1) ^ (c << 2) ^ (d << 3) ^ (e << 4);
}

static struct bpf_insn *build(size_t n)
{
	struct bpf_insn *p = calloc(n, sizeof(*p));
	if (!p)
		return NULL;
	static const uint8_t alu[] = {BPF_ADD, BPF_SUB, BPF_MUL, BPF_OR, BPF_AND, BPF_XOR, BPF_MOV, BPF_LSH, BPF_RSH, BPF_ARSH};
	static const uint8_t jcc[] = {BPF_JEQ, BPF_JNE, BPF_JGT, BPF_JGE, BPF_JLT, BPF_JLE, BPF_JSGT, BPF_JSLT};
	size_t pc = 0;
	for (uint8_t r = 0; r <= 9; r++)
		p[pc++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, r, 0, 0, (int32_t)rnd(1000));
	for (int s = 1; s <= 8; s++)
		p[pc++] = INSN(BPF_STX | BPF_MEM | BPF_DW, 10, (uint8_t)rnd(10), (int16_t)(-8 * s), 0);
	while (pc < n - 3) {
		uint8_t dst = (uint8_t)rnd(10), src = (uint8_t)rnd(10);
		uint32_t kind = rnd(100);
		if (kind < 50) {
			uint8_t op = alu[rnd(sizeof(alu))];
			bool shift = op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH;
			bool is32 = rnd(4) == 0;
			p[pc++] = rnd(2) ? INSN((is32 ? BPF_ALU : BPF_ALU64) | op | BPF_K, dst, 0, 0,
						(int32_t)(shift ? rnd(32) : rnd(1u << 20)))
					 : INSN((is32 ? BPF_ALU : BPF_ALU64) | op | BPF_X, dst, src, 0, 0);
		} else if (kind < 60) {
			p[pc++] = INSN(BPF_LDX | BPF_MEM | BPF_DW, dst, 10, (int16_t)(-8 * (1 + (int)rnd(8))), 0);
		} else if (kind < 70) {
			p[pc++] = INSN(BPF_STX | BPF_MEM | BPF_DW, 10, src, (int16_t)(-8 * (1 + (int)rnd(8))), 0);
		} else if (kind < 73) {
			p[pc++] = INSN(BPF_LD | BPF_IMM | BPF_DW, dst, 0, 0, (int32_t)rnd(1u << 30));
			p[pc++] = INSN(0, 0, 0, 0, (int32_t)rnd(1u << 30));
		} else if (kind < 75) {
			p[pc++] = INSN(BPF_JMP | BPF_CALL, 0, 0, 0, 1000);
		} else {
			/* forward jumps: mostly short, some beyond rel8 reach */
			size_t room = n - 3 - pc - 1;
			uint32_t dist = rnd(10) ? rnd(20) : 20 + rnd(400);
			if (dist > room)
				dist = (uint32_t)room;
			p[pc++] = rnd(2) ? INSN(BPF_JMP | jcc[rnd(sizeof(jcc))] | BPF_K, dst, 0, (int16_t)dist, (int32_t)rnd(2000))
					 : INSN(BPF_JMP | jcc[rnd(sizeof(jcc))] | BPF_X, dst, src, (int16_t)dist, 0);
		}
	}
	while (pc < n - 1)
		p[pc++] = INSN(BPF_ALU64 | BPF_ADD | BPF_X, 0, (uint8_t)rnd(10), 0, 0);
	p[pc++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	/* a jump that lands on an lddw's second half moves one further */
	for (size_t i = 0; i < n; i++) {
		if (BPF_CLASS(p[i].code) != BPF_JMP || BPF_OP(p[i].code) == BPF_CALL ||
		    BPF_OP(p[i].code) == BPF_EXIT)
			continue;
		size_t target = i + 1 + (size_t)p[i].off;
		if (target > 0 && p[target - 1].code == (BPF_LD | BPF_IMM | BPF_DW))
			p[i].off++;
	}
	return p;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	size_t n = 100000;
	int runs = 5;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--insns") && i + 1 < argc)
			n = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: bench_compile [--insns N] [--runs N]\n");
			return 2;
		}
	}
	if (n < 64 || runs < 1 || runs > 101) {
		fprintf(stderr, "bench_compile: need --insns >= 64 and 1 <= --runs <= 101\n");
		return 2;
	}
	struct bpf_insn *prog = build(n);
	struct bee_helper_table *t = bee_helper_table_new();
	struct bee_helper h = {.id = 1000, .name = "mix", .fn = helper_mix};
	if (!prog || !t || bee_helper_table_add(t, &h)) {
		fprintf(stderr, "bench_compile: out of memory\n");
		return 1;
	}
	printf("bench_compile: JIT compile time of a %zu-instruction program, median of %d\n", n, runs);
	for (int checked = 0; checked < 2; checked++) {
		double ms[101];
		size_t len = 0;
		for (int r = 0; r < runs; r++) {
			struct bee_error err;
			struct bee_code_opts copts = {.sz = sizeof(copts), .helpers = t, .trusted = true};
			struct bee_code *code = bee_code_load(prog, n, &copts, &err);
			if (!code) {
				fprintf(stderr, "bench_compile: load: insn %ld: %s\n", err.insn, err.msg);
				return 1;
			}
			double t0 = now_ms();
			int ret = bee_code_jited(code, checked, NULL, &len, NULL);
			ms[r] = now_ms() - t0;
			bee_code_free(code);
			if (ret) {
				fprintf(stderr, "bench_compile: JIT failed: %d\n", ret);
				return 1;
			}
		}
		qsort(ms, (size_t)runs, sizeof(ms[0]), cmp_double);
		printf("  %-7s %8.2f ms  (%zu bytes of x86-64, %.1f ns per instruction)%s\n",
		       checked ? "checked" : "fast", ms[runs / 2], len, ms[runs / 2] * 1e6 / (double)n,
		       ms[runs / 2] < 50 ? "" : "  above the 50 ms goal");
	}
	bee_helper_table_free(t);
	free(prog);
	return 0;
}
