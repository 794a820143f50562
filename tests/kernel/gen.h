/*
 * gen.h - a random generator of small eBPF programs that the kernel's
 * verifier accepts, for differential testing (bee's interpreter against
 * the kernel today; interpreter, JIT and kernel three ways later).
 *
 * Every program has the same three parts:
 *
 *   prologue  r0..r9 get random 64-bit constants (lddw, mov, mov32; r1 is
 *             overwritten, so the context pointer never escapes), then
 *             2..8 eight-byte stack slots r10-8, r10-16, ... are written
 *             with stxdw from those registers
 *   body      min_body..max_body random instructions: ALU and ALU64 with
 *             immediate and register sources, neg, movsx, byte swaps,
 *             lddw, stack loads (also sign-extending), stores (register
 *             and immediate), atomics, load-acquire and store-release on
 *             the stack, JMP and JMP32
 *             conditional forward branches, and if/else diamonds whose
 *             "else" jump is a ja or a gotol (ja32)
 *   epilogue  every register r0..r9 and every initialised stack slot is
 *             folded into r0 with an invertible mix, then exit
 *
 * The body only touches initialised stack bytes with naturally aligned
 * accesses, shifts immediates stay in range, divisors given as immediates
 * are never zero, and every jump goes forward to an instruction of the
 * body or to the epilogue.  No jump targets the final exit, so
 * gen_high_half() can insert "r0 >>= 32" in front of it: a socket filter
 * returns only 32 bits, and the two runs together give all 64.
 *
 * With GEN_F_CALLS the program is a main function (frame 1) followed by
 * up to 7 subprograms, each shaped like the above (its own prologue, stack
 * slots, body and epilogue ending in exit).  Subprogram k takes nargs(k)
 * arguments in r1..r<nargs>: its prologue writes r0, the other argument
 * registers and r6..r9 before anything reads them (the kernel refuses to
 * read registers a callee has not written), so only r1..r<nargs> flow in.
 * Function i calls only functions j > i, so there is no recursion and a
 * chain is at most 8 frames deep; every subprogram has at least one call
 * site, whose position in the instruction stream may be before or after
 * it (backward and forward calls).  A call is followed by writes of r1..r5
 * (the caller's r1..r5 are clobbered by a call; r6..r9 survive it), and
 * the caller goes on using r0 (the callee's result) and r6..r9.  Each
 * function has at most 8 stack slots (64 bytes), so the deepest chain
 * uses at most 512 bytes of stack, the verifier's limit on the sum of the
 * frames.  The instructions executed, summed over all calls, stay below
 * about GEN_MAX_COST.
 *
 * With GEN_F_HELPERS (for bee only: the kernel has no such helpers) the
 * body also calls helpers GEN_HELPER_ID(0) .. GEN_HELPER_ID(5) that take
 * 0..5 arguments and return gen_helper()'s mix of them.
 *
 * Programs are a pure function of their seed (xoshiro256** seeded by
 * splitmix64), so a failure is reproduced from the seed alone.
 */
#ifndef BEE_TESTS_GEN_H
#define BEE_TESTS_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/bpf.h>

/* A xoshiro256** generator. */
struct gen_rng {
	uint64_t s[4];
};

void gen_rng_seed(struct gen_rng *rng, uint64_t seed);
uint64_t gen_rng_next(struct gen_rng *rng);
/* Uniform in [0, n); n must not be 0. */
uint64_t gen_rng_below(struct gen_rng *rng, uint64_t n);

/*
 * The seed of program number index of a run seeded run_seed: programs of
 * one run are independent, and any one can be regenerated on its own.
 */
uint64_t gen_program_seed(uint64_t run_seed, uint64_t index);

/* Instruction families the generator may use (gen_opts.features). */
enum {
	GEN_F_ATOMICS = 1 << 0, /* atomic add/or/and/xor (fetch), xchg, cmpxchg on the stack */
	GEN_F_CPUV4 = 1 << 1,   /* sdiv, smod, movsx, bswap, ldxs*, gotol (Linux 6.6) */
	GEN_F_JMP32 = 1 << 2,   /* JMP32 conditional branches (Linux 5.1) */
	GEN_F_ACQ_REL = 1 << 3, /* load-acquire and store-release on the stack (Linux 6.15) */
	GEN_F_CALLS = 1 << 4,   /* bpf-to-bpf calls: up to 7 subprograms, 8 frames deep */
	GEN_F_HELPERS = 1 << 5, /* calls to the test helpers GEN_HELPER_ID(0..5) (not in GEN_F_ALL) */
	GEN_F_ALL = GEN_F_ATOMICS | GEN_F_CPUV4 | GEN_F_JMP32 | GEN_F_ACQ_REL | GEN_F_CALLS,
};

/* The helper taking nargs (0..5) arguments, as a call's imm. */
#define GEN_HELPER_ID(nargs) (0x4000 + (int32_t)(nargs))
#define GEN_MAX_HELPER_ARGS 5

/*
 * What helper GEN_HELPER_ID(nargs) returns: a mix of args[0..nargs-1] in
 * which every argument and every bit of it matters (the others are not
 * read).
 */
uint64_t gen_helper(unsigned nargs, const uint64_t args[5]);

struct gen_opts {
	size_t sz;          /* sizeof(struct gen_opts) */
	unsigned min_body;  /* body length in instructions (lddw counts once); */
	unsigned max_body;  /*   0 and 0 mean 10..60; max_body is capped at GEN_MAX_BODY */
	unsigned features;  /* GEN_F_*; 0 means GEN_F_ALL */
};

#define GEN_MAX_BODY 256   /* items per function */
#define GEN_MAX_FUNCS 8    /* main and up to 7 subprograms */
#define GEN_MAX_COST 6000  /* about the most instructions a run executes */
/* per function: prologue (<= 28) + body (<= 6 slots an item: a call and
 * five register writes) + epilogue (<= 94) */
#define GEN_MAX_INSNS (GEN_MAX_FUNCS * (32 + 6 * GEN_MAX_BODY + 128))

/* What a generated program contains (gen_prog.has). */
enum {
	GEN_HAS_ATOMIC = 1 << 0,       /* any atomic on the stack */
	GEN_HAS_ATOMIC_FETCH = 1 << 1, /* an atomic fetch-op, xchg or cmpxchg on the stack */
	GEN_HAS_BRANCH = 1 << 2,       /* a conditional branch */
	GEN_HAS_CALL = 1 << 3,         /* a bpf-to-bpf call */
	GEN_HAS_HELPER = 1 << 4,       /* a helper call */
};

struct gen_prog {
	uint64_t seed;
	size_t n;                /* instructions (slots) in insns */
	size_t body_start;       /* first slot of main's body */
	size_t body_end;         /* first slot of main's epilogue */
	size_t main_exit;        /* main's exit, where gen_high_half inserts */
	unsigned nslots;         /* main's initialised 8-byte stack slots: r10-8 .. r10-8*nslots */
	unsigned has;            /* GEN_HAS_* */
	unsigned nfuncs;         /* main and its subprograms */
	unsigned depth;          /* frames of the deepest static call chain (1: no calls) */
	unsigned calls;          /* bpf-to-bpf call instructions */
	unsigned helper_calls[GEN_MAX_HELPER_ARGS + 1]; /* helper calls by argument count */
	uint64_t cost;           /* instructions executed at most (about) */
	bool in_body[GEN_MAX_INSNS]; /* slot i belongs to some function's body */
	struct bpf_insn insns[GEN_MAX_INSNS];
};

/* Generate the program of seed into *out (opts may be NULL). */
void gen_program(uint64_t seed, const struct gen_opts *opts, struct gen_prog *out);

/*
 * Copy prog into out (room for prog->n + 1 instructions) with "r0 >>= 32"
 * inserted before main's exit (calls across it re-aimed).  Returns the new
 * length.
 */
size_t gen_high_half(const struct gen_prog *prog, struct bpf_insn *out);

/* A jump or a bpf-to-bpf call: an instruction whose target is relative.
 * (An lddw's second slot has code 0, so it is never one.) */
bool gen_is_call_or_jump(const struct bpf_insn *in);

/* For such an instruction: its displacement is in imm (calls, gotol)
 * rather than in off. */
bool gen_offset_in_imm(const struct bpf_insn *in);

/* The program's bytes as one run of hex, replayable with bee run --program. */
void gen_print_hex(FILE *out, const struct bpf_insn *insns, size_t n);

#endif
