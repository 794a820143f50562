/*
 * soundness.c - the verifier soundness fuzzer (issue 6): every program
 * bee_verify accepts must run through the checked interpreter, on any
 * input, without a single fault.
 *
 *   soundness [--seed N] [--count N] [--first K] [--runs R] [--kind 0|1|2]
 *             [--corpus DIR | --no-corpus] [--rdonly] [--kernel]
 *             [--known SUBSTR] [--max-faults N] [--no-minimize] [--save FILE]
 *             [--verbose] [--dump]
 *   soundness --regressions FILE
 *
 * (tests/verifier/README.md, "The soundness fuzzer", explains each option.)
 *
 * Programs come from a seed, deterministically: program K of seed N is the
 * same whatever --first and --count select, so a fault is replayed with
 * `--seed N --first K --count 1`.  Three kinds:
 *
 *  - generated: random instruction sequences built from snippets biased
 *    toward what the verifier accepts (scalar ALU work, stack stores and
 *    loads at fp-8..fp-512, context loads at the type's field offsets,
 *    packet accesses after a data_end comparison, map lookups with null
 *    checks, value accesses with constant and bounded variable offsets,
 *    atomics on map values, direct map value addresses, helper calls,
 *    bounded loops, branches over snippets, bpf-to-bpf calls, bpf_loop
 *    callbacks, tail calls, legacy packet loads, pointer spills), each
 *    choice now and then slightly wrong (one byte too far, the wrong
 *    register, a missing check): the near misses are where a verifier
 *    goes wrong;
 *  - generated then mutated;
 *  - mutations of the accepted programs of the corpus (tests/verifier/
 *    *.vdata): offsets, immediates, registers, jump targets, conditions,
 *    sizes, classes flipped, instructions dropped, duplicated or swapped
 *    (jumps fixed up so the structure survives).
 *
 * Features the verifier refuses as "not supported yet" are generated all
 * the same, so they are fuzzed as soon as support lands.
 *
 * Every program goes through bee_verify with its type's descriptor and the
 * maps it names.  Every accepted one is loaded into a bee instance the
 * ordinary way (default bee_opts: checked runs, not trusted_fast_path; the
 * maps are real maps of that instance, passed through fd_array) and
 * test-run (BPF_PROG_TEST_RUN) --runs times with random packets, contexts
 * and map contents.  A soundness bug is any of:
 *
 *  - a run that stops with an error of the checked engine (out-of-bounds
 *    or misaligned access, instruction budget, call depth...);
 *  - a helper given memory it may not touch or a map that is not one: the
 *    instance's helpers are wrapped (wrap_helper) to check every pointer
 *    argument against their prototype and stop the run (bee_run_abort)
 *    where the plain helper would quietly return an error;
 *  - a byte of the context that the program type does not let programs
 *    write that changed (compared with a run of `r0 = 0; exit` on the same
 *    input), or a packet changed by a type that may not write packets.
 *
 * Each is printed with the program (disassembled), the verifier's log, the
 * error and a minimised program (instructions replaced by no-ops while the
 * fault stays), and makes the exit status 1.
 *
 * Not soundness bugs, filtered (see is_engine_limit and the comments there):
 * a helper returning an error code (a normal return); a tail call from a
 * bpf-to-bpf function (-EOPNOTSUPP: bee's engines do not do what the
 * kernel allows there); the instruction budget in a program that runs
 * callbacks (bpf_loop may run 8M iterations legitimately); uninitialised
 * stack and registers (the checked engine zeroes them, and root may read
 * uninitialised stack in the kernel).
 *
 * --regressions FILE reads programs in the .vdata format (the labels are
 * the kernel's) and checks each the same way: bee may refuse them; if it
 * accepts one, every run must be clean.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "bee/bee.h"
#include "bee/error.h"
#include "bee/insn.h"
#include "bee/progtype.h"
#include "bee/vm.h"
#include "core/core.h"
#include "isa/bpf_ext.h"
#include "maps/map.h"
#include "verify/verify.h"

#include "sound_wrap.h"
#include "kbpf.h"
#include "vdata.h"

#define MAX_INSNS 512
#define MAX_PKT 512
#define MAX_PLAIN_CTX 8192
#define LOG_SIZE (1u << 16)

/* ---- random numbers ----------------------------------------------------------- */

struct rng {
	uint64_t s;
};

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd(struct rng *r)
{
	return splitmix(&r->s);
}

/* 0..n-1 */
static uint32_t below(struct rng *r, uint32_t n)
{
	return n ? (uint32_t)(rnd(r) % n) : 0;
}

/* true with probability pct% */
static bool chance(struct rng *r, unsigned pct)
{
	return below(r, 100) < pct;
}

static void rng_seed(struct rng *r, uint64_t seed, uint64_t index, uint64_t stream)
{
	r->s = seed * 0x9e3779b97f4a7c15ull ^ (index + 1) * 0xd1b54a32d192ed03ull ^
	       (stream + 1) * 0x8cb92ba72f3d8dd7ull;
	rnd(r);
}

static void fill_random(struct rng *r, void *p, size_t n)
{
	uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		if (i % 8 == 0) {
			uint64_t v = rnd(r);
			size_t k = n - i < 8 ? n - i : 8;
			/* small values are what bounds checks compare with; the
			 * edges of the signed and unsigned ranges are where
			 * bounds go wrong */
			switch (v & 15) {
			case 0: case 1: case 2: case 3: v = (v >> 8) & 0xff; break;
			case 4: v = (v >> 8) & 0xffff; break;
			case 5: v = ~0ull << ((v >> 8) & 63); break;
			case 6: v = 1ull << ((v >> 8) & 63); break;
			case 7: v = (1ull << ((v >> 8) & 63)) - 1; break;
			case 8: v = (uint64_t)-(int64_t)((v >> 8) & 0xff); break;
			case 9: v = 0x80000000ull + ((v >> 8) & 3) - 2; break;
			default: break;
			}
			memcpy(b + i, &v, k);
			i += k - 1;
		}
	}
}

/* ---- instructions ----------------------------------------------------------- */

static struct bpf_insn mk(uint8_t code, int dst, int src, int16_t off, int32_t imm)
{
	struct bpf_insn i;
	memset(&i, 0, sizeof(i));
	i.code = code;
	i.dst_reg = (uint8_t)dst & 0xf;
	i.src_reg = (uint8_t)src & 0xf;
	i.off = off;
	i.imm = imm;
	return i;
}

static bool is_lddw(const struct bpf_insn *i)
{
	return i->code == (BPF_LD | BPF_IMM | BPF_DW);
}

static bool is_jump_with_off(const struct bpf_insn *i)
{
	uint8_t cls = BPF_CLASS(i->code);
	if (cls != BPF_JMP && cls != BPF_JMP32)
		return false;
	uint8_t op = BPF_OP(i->code);
	return op != BPF_CALL && op != BPF_EXIT;
}

/* Does insn i carry an instruction-relative target (jump off or call imm)?
 * *field: 0 for off, 1 for imm. */
static bool has_target(const struct bpf_insn *i, int *field)
{
	if (is_jump_with_off(i)) {
		/* gotol (BPF_JMP32 | BPF_JA) keeps its target in imm */
		*field = (BPF_CLASS(i->code) == BPF_JMP32 && BPF_OP(i->code) == BPF_JA) ? 1 : 0;
		return true;
	}
	if (i->code == (BPF_JMP | BPF_CALL) && i->src_reg == BPF_PSEUDO_CALL) {
		*field = 1;
		return true;
	}
	if (is_lddw(i) && i->src_reg == BPF_PSEUDO_FUNC) {
		*field = 1;
		return true;
	}
	return false;
}

/* ---- the program being built ------------------------------------------------ */

struct prog {
	struct bpf_insn v[MAX_INSNS];
	size_t n;
	bool overflow;
	const struct bee_prog_type_desc *pt;
	uint32_t attach;
	uint32_t prog_flags;
	const int *map_fds; /* fd_array: map[idx:N] */
	const struct bee_verify_map *maps;
	size_t n_maps;
	bool has_func_info; /* as if loaded with BTF func_info (callbacks need it) */
	struct seed *seed;  /* the corpus program it came from, or NULL */
	char origin[96];
};

static void emit(struct prog *p, struct bpf_insn i)
{
	if (p->n >= MAX_INSNS) {
		p->overflow = true;
		return;
	}
	p->v[p->n++] = i;
}

static void emit_lddw(struct prog *p, int dst, int src, int32_t lo, int32_t hi)
{
	emit(p, mk(BPF_LD | BPF_IMM | BPF_DW, dst, src, 0, lo));
	emit(p, mk(0, 0, 0, 0, hi));
}

static void mov64_imm(struct prog *p, int dst, int32_t imm)
{
	emit(p, mk(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm));
}

static void mov64_reg(struct prog *p, int dst, int src)
{
	emit(p, mk(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0));
}

static void add64_imm(struct prog *p, int dst, int32_t imm)
{
	emit(p, mk(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm));
}

static void call_helper(struct prog *p, int32_t id)
{
	emit(p, mk(BPF_JMP | BPF_CALL, 0, 0, 0, id));
}

static const uint8_t size_codes[4] = {BPF_B, BPF_H, BPF_W, BPF_DW};

static uint8_t size_code(unsigned size)
{
	return size == 1 ? BPF_B : size == 2 ? BPF_H : size == 4 ? BPF_W : BPF_DW;
}

static void ldx(struct prog *p, unsigned size, int dst, int src, int16_t off)
{
	emit(p, mk(BPF_LDX | BPF_MEM | size_code(size), dst, src, off, 0));
}

static void stx(struct prog *p, unsigned size, int dst, int src, int16_t off)
{
	emit(p, mk(BPF_STX | BPF_MEM | size_code(size), dst, src, off, 0));
}

static void st_imm(struct prog *p, unsigned size, int dst, int16_t off, int32_t imm)
{
	emit(p, mk(BPF_ST | BPF_MEM | size_code(size), dst, 0, off, imm));
}

/* A forward jump whose target is patched by jump_here. */
static size_t jump_fwd(struct prog *p, uint8_t code, int dst, int src, int32_t imm)
{
	size_t at = p->n;
	emit(p, mk(code, dst, src, 0, imm));
	return at;
}

static void jump_here(struct prog *p, size_t at)
{
	if (at < p->n && !p->overflow)
		p->v[at].off = (int16_t)(p->n - at - 1);
}

/* ---- maps of the random programs ------------------------------------------- */

enum {
	M_HASH, M_ARRAY, M_ARRAY1, M_PCPU_ARRAY, M_LRU, M_QUEUE, M_RINGBUF, M_PROG_ARRAY,
	M_PERF, M_STACK, M_HASH_ODD, M_RDONLY, N_GEN_MAPS
};

static const struct vmap gen_map_defs[N_GEN_MAPS] = {
	[M_HASH] = {BPF_MAP_TYPE_HASH, 4, 16, 16, 0},
	[M_ARRAY] = {BPF_MAP_TYPE_ARRAY, 4, 48, 4, 0},
	[M_ARRAY1] = {BPF_MAP_TYPE_ARRAY, 4, 64, 1, 0},
	[M_PCPU_ARRAY] = {BPF_MAP_TYPE_PERCPU_ARRAY, 4, 24, 2, 0},
	[M_LRU] = {BPF_MAP_TYPE_LRU_HASH, 8, 8, 8, 0},
	[M_QUEUE] = {BPF_MAP_TYPE_QUEUE, 0, 8, 8, 0},
	[M_RINGBUF] = {BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0},
	[M_PROG_ARRAY] = {BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0},
	[M_PERF] = {BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 4, 0},
	[M_STACK] = {BPF_MAP_TYPE_STACK, 0, 16, 4, 0},
	[M_HASH_ODD] = {BPF_MAP_TYPE_HASH, 8, 3, 4, 0},
	/* BPF_F_RDONLY_PROG: programs may read its values, never write them */
	[M_RDONLY] = {BPF_MAP_TYPE_ARRAY, 4, 32, 1, BPF_F_RDONLY_PROG},
};

/* ---- the harness: instance, helpers, maps ------------------------------------- */

static struct bee *bee;
static struct bee_helper_table *verify_helpers; /* prototypes for bee_verify */
static int gen_fds[N_GEN_MAPS];
static struct bee_verify_map gen_vmaps[N_GEN_MAPS];
static size_t n_gen_maps = N_GEN_MAPS - 1; /* M_RDONLY only with --rdonly */

static int create_map(const struct vmap *m)
{
	struct bee_map_create_opts o = {.sz = sizeof(o), .map_flags = m->flags};
	return bee_map_create(bee, m->type, "m", m->key_size, m->value_size, m->max_entries, &o);
}

/* Random map contents before a run: values of arrays, a few keys of
 * hashes, queue/stack elements; ring buffers drained. */
static int drain_cb(void *ctx, void *data, size_t size)
{
	(void)ctx, (void)data, (void)size;
	return 0;
}

static void randomize_map(struct rng *r, int fd, const struct bee_verify_map *m)
{
	uint8_t key[64], val[256];
	switch (m->type) {
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY: {
		if (m->value_size > 64 || m->max_entries > 16)
			return;
		uint8_t pv[64 * 8 + 64];
		for (uint32_t k = 0; k < m->max_entries; k++) {
			/* percpu maps take one value per CPU, rounded up to 8 bytes */
			size_t vs = m->type == BPF_MAP_TYPE_PERCPU_ARRAY
					    ? ((m->value_size + 7) & ~7u) * (size_t)bee->ncpus
					    : m->value_size;
			if (vs > sizeof(pv))
				return;
			fill_random(r, pv, vs);
			bee_map_update(bee, fd, &k, pv, BPF_ANY);
		}
		return;
	}
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
		if (m->key_size > sizeof(key) || m->value_size > sizeof(val))
			return;
		for (uint32_t k = 0; k < 4; k++) {
			memset(key, 0, m->key_size);
			memcpy(key, &k, m->key_size < 4 ? m->key_size : 4);
			if (chance(r, 30)) {
				bee_map_delete(bee, fd, key);
				continue;
			}
			fill_random(r, val, m->value_size);
			bee_map_update(bee, fd, key, val, BPF_ANY);
		}
		return;
	case BPF_MAP_TYPE_QUEUE:
	case BPF_MAP_TYPE_STACK: {
		if (m->value_size > sizeof(val))
			return;
		while (bee_map_lookup_and_delete(bee, fd, NULL, val) == 0)
			;
		unsigned k = below(r, m->max_entries + 1);
		for (unsigned i = 0; i < k; i++) {
			fill_random(r, val, m->value_size);
			bee_map_update(bee, fd, NULL, val, BPF_ANY);
		}
		return;
	}
	case BPF_MAP_TYPE_RINGBUF:
		bee_ringbuf_poll(bee, fd, drain_cb, NULL, 0);
		return;
	default:
		return;
	}
}

/* ---- program types -------------------------------------------------------------- */

struct ptype {
	uint32_t id;
	unsigned weight;
	uint32_t attach;
	const struct bee_prog_type_desc *d;
	int pkt_off, pkt_end_off; /* context offsets of data/data_end, -1: none */
	bool skb, xdp, plain;
	int baseline_fd;          /* `r0 = 0; exit` of this type, for context comparisons */
};

static struct ptype ptypes[] = {
	{BPF_PROG_TYPE_SOCKET_FILTER, 14, 0, NULL, -1, -1, true, false, false, -1},
	{BPF_PROG_TYPE_XDP, 20, 0, NULL, -1, -1, false, true, false, -1},
	{BPF_PROG_TYPE_SCHED_CLS, 20, 0, NULL, -1, -1, true, false, false, -1},
	{BPF_PROG_TYPE_SCHED_ACT, 3, 0, NULL, -1, -1, true, false, false, -1},
	{BPF_PROG_TYPE_CGROUP_SKB, 5, BPF_CGROUP_INET_INGRESS, NULL, -1, -1, true, false, false, -1},
	{BPF_PROG_TYPE_CGROUP_SKB, 3, BPF_CGROUP_INET_EGRESS, NULL, -1, -1, true, false, false, -1},
	{BPF_PROG_TYPE_KPROBE, 10, 0, NULL, -1, -1, false, false, true, -1},
	{BPF_PROG_TYPE_TRACEPOINT, 6, 0, NULL, -1, -1, false, false, true, -1},
	{BPF_PROG_TYPE_RAW_TRACEPOINT, 8, 0, NULL, -1, -1, false, false, true, -1},
	{BPF_PROG_TYPE_PERF_EVENT, 4, 0, NULL, -1, -1, false, false, true, -1},
	{BPF_PROG_TYPE_SYSCALL, 7, 0, NULL, -1, -1, false, false, true, -1},
};
#define N_PTYPES (sizeof(ptypes) / sizeof(ptypes[0]))
static unsigned ptype_weight_total;

static struct ptype *ptype_of(uint32_t id, uint32_t attach)
{
	for (size_t i = 0; i < N_PTYPES; i++)
		if (ptypes[i].id == id && ptypes[i].d && (!attach || ptypes[i].attach == attach))
			return &ptypes[i];
	for (size_t i = 0; i < N_PTYPES; i++)
		if (ptypes[i].id == id && ptypes[i].d)
			return &ptypes[i];
	return NULL;
}

static struct ptype *pick_ptype(struct rng *r)
{
	unsigned w = below(r, ptype_weight_total);
	for (size_t i = 0; i < N_PTYPES; i++) {
		if (!ptypes[i].d)
			continue;
		if (w < ptypes[i].weight)
			return &ptypes[i];
		w -= ptypes[i].weight;
	}
	return &ptypes[0];
}

static bool helper_ok(const struct ptype *t, int32_t id)
{
	return bee_prog_type_helper_ok(t->d, id);
}

/* ---- the generator: snippets --------------------------------------------------- */

struct gen {
	struct rng *r;
	struct prog *p;
	struct ptype *t;
	unsigned depth;        /* nesting of branches/loops */
	unsigned budget;       /* snippets left */
	bool in_sub;           /* generating a subprogram (r6 is not the context) */
	bool uses_callbacks;
	size_t pending_subs[8]; /* call sites to patch to subprograms */
	int pending_kind[8];    /* 0: call, 1: lddw subprog (callback) */
	unsigned n_pending;
};

/* The scalar registers the snippets compute with (r6 keeps the context in
 * the main program; r7..r9 survive helper calls). */
static int scalar_reg(struct gen *g)
{
	if (chance(g->r, 1))
		return (int)below(g->r, 10); /* anything: a near miss or a clobber */
	return 7 + (int)below(g->r, 3);
}

static int32_t interesting_imm(struct rng *r)
{
	static const int32_t v[] = {0, 1, -1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64, 255, 256,
				    4095, 4096, 0x7fff, 0xffff, 0x7fffffff, INT32_MIN, -8, -16,
				    -512, 512, 511, 1024};
	if (chance(r, 70))
		return v[below(r, sizeof(v) / sizeof(v[0]))];
	return (int32_t)rnd(r);
}

static void snip_alu(struct gen *g)
{
	struct rng *r = g->r;
	static const uint8_t ops[] = {BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR,  BPF_AND,
				      BPF_LSH, BPF_RSH, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH};
	int dst = scalar_reg(g);
	bool is64 = chance(r, 65);
	unsigned kind = below(r, 20);
	uint8_t cls = is64 ? BPF_ALU64 : BPF_ALU;
	if (kind == 0) { /* neg */
		emit(g->p, mk(cls | BPF_NEG | BPF_K, dst, 0, 0, 0));
	} else if (kind == 1) { /* byte swaps */
		static const int32_t w[] = {16, 32, 64};
		/* bswap is ALU64 | END | TO_LE (RFC 9669 4.2) */
		if (chance(r, 30))
			emit(g->p, mk(BPF_ALU64 | BPF_END | BPF_TO_LE, dst, 0, 0, w[below(r, 3)]));
		else
			emit(g->p, mk(BPF_ALU | BPF_END | (chance(r, 50) ? BPF_TO_BE : BPF_TO_LE), dst, 0,
				      0, w[below(r, 3)]));
	} else if (kind == 2) { /* movsx */
		static const int16_t w[] = {8, 16, 32};
		emit(g->p, mk(cls | BPF_MOV | BPF_X, dst, scalar_reg(g), w[below(r, is64 ? 3 : 2)], 0));
	} else if (kind == 3) { /* sdiv / smod */
		bool reg = chance(r, 50);
		int32_t imm = interesting_imm(r);
		if (!reg && imm == 0 && chance(r, 90))
			imm = 3;
		emit(g->p, mk(cls | (chance(r, 50) ? BPF_DIV : BPF_MOD) | (reg ? BPF_X : BPF_K), dst,
			      reg ? scalar_reg(g) : 0, 1, reg ? 0 : imm));
	} else {
		uint8_t op = ops[below(r, sizeof(ops) / sizeof(ops[0]))];
		if (chance(r, 45)) {
			emit(g->p, mk(cls | op | BPF_X, dst, scalar_reg(g), 0, 0));
		} else {
			int32_t imm = interesting_imm(r);
			if ((op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH) && chance(r, 97))
				imm = (int32_t)below(r, is64 ? 64 : 32);
			if ((op == BPF_DIV || op == BPF_MOD) && imm == 0 && chance(r, 90))
				imm = 7;
			emit(g->p, mk(cls | op | BPF_K, dst, 0, 0, imm));
		}
	}
}

/* A random value the verifier cannot know: a helper's result. */
static void snip_unknown(struct gen *g)
{
	int dst = 7 + (int)below(g->r, 3);
	if (helper_ok(g->t, BPF_FUNC_get_prandom_u32) && chance(g->r, 80))
		call_helper(g->p, BPF_FUNC_get_prandom_u32);
	else
		call_helper(g->p, BPF_FUNC_ktime_get_ns);
	mov64_reg(g->p, dst, 0);
	if (chance(g->r, 50)) /* bounded */
		emit(g->p, mk(BPF_ALU64 | BPF_AND | BPF_K, dst, 0, 0, (int32_t)(below(g->r, 256) | 1)));
}

static int16_t stack_off(struct rng *r, unsigned size)
{
	if (chance(r, 2)) { /* near misses */
		static const int16_t bad[] = {0, 8, -513, -520, -1, 4, -516};
		return bad[below(r, sizeof(bad) / sizeof(bad[0]))];
	}
	int off = -(int)size * (1 + (int)below(r, 512 / size));
	if (chance(r, 2))
		off += (int)below(r, size); /* misaligned */
	if (chance(r, 60))
		off = -(int)size * (1 + (int)below(r, 8)); /* near the top: reused slots */
	return (int16_t)off;
}

static void snip_stack_store(struct gen *g)
{
	struct rng *r = g->r;
	unsigned size = 1u << below(r, 4);
	int16_t off = stack_off(r, size);
	if (chance(r, 40))
		st_imm(g->p, size, 10, off, interesting_imm(r));
	else if (chance(r, 10) && !g->in_sub)
		stx(g->p, 8, 10, 6, (int16_t)(off & ~7)); /* spill the context pointer */
	else
		stx(g->p, size, 10, scalar_reg(g), off);
}

static void snip_stack_load(struct gen *g)
{
	struct rng *r = g->r;
	unsigned size = 1u << below(r, 4);
	int16_t off = stack_off(r, size);
	bool sx = size < 8 && chance(r, 15);
	emit(g->p, mk(BPF_LDX | (sx ? BPF_MEMSX : BPF_MEM) | size_code(size), scalar_reg(g), 10,
		      off, 0));
}

/* Stack bytes [off, off + len) made initialised (8-byte stores). */
static void init_stack(struct gen *g, int off, unsigned len)
{
	for (unsigned k = 0; k < len; k += 8)
		st_imm(g->p, 8, 10, (int16_t)(off + (int)k), (int32_t)below(g->r, 5));
}

static void snip_ctx_load(struct gen *g)
{
	struct rng *r = g->r;
	const struct bee_prog_type_desc *d = g->t->d;
	int base = 6;
	if (g->in_sub) /* r1 of a subprogram is not the context */
		return;
	if (!d->n_fields || chance(r, 2)) { /* anywhere */
		unsigned size = 1u << below(r, 4);
		ldx(g->p, size, scalar_reg(g), base, (int16_t)(below(r, d->ctx_size + 16) & ~(size - 1)));
		return;
	}
	const struct bee_ctx_field *f = &d->fields[below(r, (uint32_t)d->n_fields)];
	unsigned sizes[4], ns = 0;
	for (unsigned s = 1; s <= 8; s <<= 1)
		if (f->read_sizes & s)
			sizes[ns++] = s;
	unsigned size = ns ? sizes[below(r, ns)] : 4;
	uint32_t span = f->size >= size ? f->size / size : 1;
	uint32_t off = f->off + size * below(r, span > 64 ? 64 : span);
	if (chance(r, 2))
		off += f->size; /* just past the field */
	int dst = f->kind == BEE_CTX_SCALAR ? scalar_reg(g) : 2 + (int)below(r, 4);
	ldx(g->p, size, dst, base, (int16_t)off);
}

static void snip_ctx_store(struct gen *g)
{
	struct rng *r = g->r;
	const struct bee_prog_type_desc *d = g->t->d;
	if (g->in_sub)
		return;
	const struct bee_ctx_field *w[64];
	unsigned nw = 0;
	for (size_t i = 0; i < d->n_fields && nw < 64; i++)
		if (d->fields[i].write_sizes || chance(r, 2))
			w[nw++] = &d->fields[i];
	if (!nw)
		return;
	const struct bee_ctx_field *f = w[below(r, nw)];
	unsigned size = 4;
	for (unsigned s = 8; s; s >>= 1)
		if ((f->write_sizes & s) && chance(r, 60))
			size = s;
	uint32_t span = f->size >= size ? f->size / size : 1;
	uint32_t off = f->off + size * below(r, span > 32 ? 32 : span);
	if (chance(r, 50))
		st_imm(g->p, size, 6, (int16_t)off, interesting_imm(r));
	else
		stx(g->p, size, 6, scalar_reg(g), (int16_t)off);
}

static void snip_body(struct gen *g); /* forward: nested snippets */

/* Jump conditions (op nibble) */
static const uint8_t jops[] = {BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT,
			       BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE};

/*
 * Direct packet access: data and data_end from the context, a comparison
 * proving N bytes (one of its forms), then accesses inside (or, now and
 * then, one byte beyond) the proven range, maybe at a variable offset.
 */
static void snip_packet(struct gen *g)
{
	struct rng *r = g->r;
	struct ptype *t = g->t;
	if (t->pkt_off < 0 || g->in_sub)
		return;
	struct prog *p = g->p;
	ldx(p, 4, 2, 6, (int16_t)t->pkt_off);
	ldx(p, 4, 3, 6, (int16_t)t->pkt_end_off);
	if (chance(r, 25)) { /* variable offset: bounded scalar added first */
		mov64_reg(p, 4, 7 + (int)below(r, 3));
		if (chance(r, 85))
			emit(p, mk(BPF_ALU64 | BPF_AND | BPF_K, 4, 0, 0, (int32_t)(below(r, 64) | 1)));
		else
			emit(p, mk(BPF_ALU64 | BPF_RSH | BPF_K, 4, 0, 0, 56));
		emit(p, mk(BPF_ALU64 | BPF_ADD | BPF_X, 2, 4, 0, 0));
	}
	int32_t n = 1 + (int32_t)below(r, 40);
	mov64_reg(p, 4, 2);
	add64_imm(p, 4, n);
	size_t skip;
	switch (below(r, 11)) {
	case 0: skip = jump_fwd(p, BPF_JMP | BPF_JGT | BPF_X, 4, 3, 0); break;
	case 1: skip = jump_fwd(p, BPF_JMP | BPF_JLT | BPF_X, 3, 4, 0); break;
	case 2: skip = jump_fwd(p, BPF_JMP | BPF_JGE | BPF_X, 4, 3, 0); break; /* off by one */
	case 3: skip = jump_fwd(p, BPF_JMP | BPF_JLE | BPF_X, 3, 4, 0); break;
	case 5: case 6: case 7: case 8: case 9:
		skip = jump_fwd(p, BPF_JMP | BPF_JGT | BPF_X, 4, 3, 0);
		break;
	case 4: /* if r4 <= r3 goto body; goto skip */
		emit(p, mk(BPF_JMP | BPF_JLE | BPF_X, 4, 3, 1, 0));
		skip = jump_fwd(p, BPF_JMP | BPF_JA, 0, 0, 0);
		break;
	default: /* a wrong comparison now and then */
		skip = jump_fwd(p, (chance(r, 50) ? BPF_JMP32 : BPF_JMP) |
					   jops[below(r, sizeof(jops))] | BPF_X,
				4, 3, 0);
		break;
	}
	unsigned k = 1 + below(r, 4);
	for (unsigned i = 0; i < k; i++) {
		unsigned size = 1u << below(r, 4);
		int32_t room = n - (int32_t)size;
		int32_t off = room >= 0 ? (int32_t)below(r, (uint32_t)room + 1) : 0;
		if (chance(r, 4))
			off = room + 1; /* one byte too far */
		if (chance(r, 1))
			off = -1;
		bool write = (t->d->flags & BEE_PT_PKT_WRITE) ? chance(r, 35) : chance(r, 3);
		if (write) {
			if (chance(r, 50))
				st_imm(p, size, 2, (int16_t)off, interesting_imm(r));
			else
				stx(p, size, 2, 7 + (int)below(r, 3), (int16_t)off);
		} else {
			ldx(p, size, 7 + (int)below(r, 3), 2, (int16_t)off);
		}
	}
	if (chance(r, 20)) { /* keep a packet pointer across a helper call */
		mov64_reg(p, 9, 2);
		call_helper(p, BPF_FUNC_ktime_get_ns);
		ldx(p, 1, 8, 9, 0);
		if (chance(r, 90))
			mov64_imm(p, 9, 1);
	}
	if (chance(r, 25) && g->depth < 3) {
		g->depth++;
		snip_body(g);
		g->depth--;
	}
	jump_here(p, skip);
}

static int kv_map(struct rng *r)
{
	static const int kv[] = {M_HASH, M_ARRAY, M_ARRAY1, M_PCPU_ARRAY, M_LRU, M_HASH_ODD,
				 M_RDONLY};
	int m = kv[below(r, (uint32_t)n_gen_maps > M_RDONLY ? 7 : 6)];
	if (chance(r, 2))
		m = (int)below(r, (uint32_t)n_gen_maps); /* any map: wrong type for the helper */
	return m;
}

/* key at fp-keyoff (key_size bytes, small values so lookups hit) */
static void put_key(struct gen *g, int m, int keyoff)
{
	uint32_t ks = gen_vmaps[m].key_size;
	if (ks <= 4 && ks) {
		st_imm(g->p, 4, 10, (int16_t)-keyoff, (int32_t)below(g->r, 6));
	} else {
		init_stack(g, -keyoff, ks ? ks : 8);
	}
}

/* Accesses through register reg, a map value of map m (non-null). */
static void value_accesses(struct gen *g, int reg, int m)
{
	struct rng *r = g->r;
	struct prog *p = g->p;
	uint32_t vs = gen_vmaps[m].value_size;
	unsigned k = 1 + below(r, 4);
	for (unsigned i = 0; i < k; i++) {
		unsigned size = 1u << below(r, 4);
		int32_t room = (int32_t)vs - (int32_t)size;
		int32_t off = room >= 0 ? (int32_t)(below(r, (uint32_t)room / size + 1) * size) : 0;
		if (chance(r, 3))
			off = room + 1;
		if (chance(r, 2))
			off = -(int32_t)size;
		switch (below(r, 6)) {
		case 0:
		case 1:
			ldx(p, size, 7 + (int)below(r, 3), reg, (int16_t)off);
			break;
		case 2:
			stx(p, size, reg, 7 + (int)below(r, 3), (int16_t)off);
			break;
		case 3:
			st_imm(p, size, reg, (int16_t)off, interesting_imm(r));
			break;
		case 4: { /* atomics */
			static const int32_t aops[] = {BPF_ADD, BPF_OR, BPF_AND, BPF_XOR,
						       BPF_ADD | BPF_FETCH, BPF_OR | BPF_FETCH,
						       BPF_AND | BPF_FETCH, BPF_XOR | BPF_FETCH,
						       BPF_XCHG, BPF_CMPXCHG};
			unsigned asz = chance(r, 50) ? 4 : 8;
			int32_t aoff = room >= 0 ? (int32_t)(below(r, (uint32_t)((int32_t)vs - (int32_t)asz) / asz + 1) * asz) : 0;
			if ((int32_t)vs < (int32_t)asz || chance(r, 3))
				aoff += (int32_t)below(r, asz); /* misaligned or beyond */
			emit(p, mk(BPF_STX | BPF_ATOMIC | (asz == 4 ? BPF_W : BPF_DW), reg,
				   7 + (int)below(r, 3), (int16_t)aoff,
				   aops[below(r, sizeof(aops) / sizeof(aops[0]))]));
			break;
		}
		default: { /* variable offset, bounded by a mask or a comparison */
			/* index in r5, pointer copy in r4 (reg is r0, r1 or r6..r9),
			 * the index computed from an unknown by a few ALU steps:
			 * the scalar domain's transfer functions and branch
			 * refinements decide whether the access is proven */
			int s = 7 + (int)below(r, 3);
			mov64_reg(p, 5, s);
			unsigned steps = chance(r, 50) ? 0 : 1 + below(r, 3);
			for (unsigned q = 0; q < steps; q++) {
				static const uint8_t iops[] = {BPF_AND, BPF_RSH, BPF_LSH, BPF_ADD, BPF_SUB,
							       BPF_MUL, BPF_MOD, BPF_DIV, BPF_XOR, BPF_OR,
							       BPF_ARSH, BPF_MOV};
				uint8_t op = iops[below(r, sizeof(iops))];
				uint8_t c = chance(r, 25) ? BPF_ALU : BPF_ALU64;
				int32_t imm = op == BPF_RSH || op == BPF_LSH || op == BPF_ARSH
						      ? (int32_t)below(r, 40)
						      : (int32_t)below(r, 300) - (chance(r, 20) ? 150 : 0);
				if ((op == BPF_DIV || op == BPF_MOD) && imm == 0)
					imm = 5;
				if (op == BPF_MOV) /* a sign-extending move */
					emit(p, mk(c | BPF_MOV | BPF_X, 5, 5, (int16_t)(8 << below(r, c == BPF_ALU ? 2 : 3)), 0));
				else if (chance(r, 15))
					emit(p, mk(c | op | BPF_X, 5, 7 + (int)below(r, 3), 0, 0));
				else
					emit(p, mk(c | op | BPF_K, 5, 0, 0, imm));
			}
			size_t skip = SIZE_MAX;
			uint32_t lim = vs > size ? vs - size : 0;
			if (chance(r, 50)) {
				uint32_t mask = 1;
				while (mask * 2 <= lim + 1 && mask < 4096)
					mask *= 2;
				mask -= 1;
				if (chance(r, 5))
					mask = mask * 2 + 1;
				emit(p, mk(BPF_ALU64 | BPF_AND | BPF_K, 5, 0, 0, (int32_t)mask));
			} else {
				uint8_t c = chance(r, 80) ? BPF_JGT : jops[below(r, sizeof(jops))];
				int32_t bound = (int32_t)lim + (chance(r, 5) ? 1 : 0);
				if (chance(r, 20)) { /* a lower bound first */
					size_t lo = jump_fwd(p, (chance(r, 30) ? BPF_JMP32 : BPF_JMP) |
								    (chance(r, 70) ? BPF_JSLT : BPF_JLT) | BPF_K,
							     5, 0, (int32_t)below(r, 3) - 1);
					jump_here(p, lo); /* patched again below */
					p->v[lo].off = 0;
					skip = lo; /* both skip the access: chained below */
					size_t hi = jump_fwd(p, (chance(r, 10) ? BPF_JMP32 : BPF_JMP) | c | BPF_K,
							     5, 0, bound);
					(void)hi;
				} else {
					skip = jump_fwd(p, (chance(r, 10) ? BPF_JMP32 : BPF_JMP) | c | BPF_K, 5, 0,
							bound);
				}
				if (chance(r, 8)) /* a signed check only: min unbounded */
					p->v[skip].code = (uint8_t)((p->v[skip].code & ~0xf0) | BPF_JSGT);
			}
			mov64_reg(p, 4, reg);
			emit(p, mk(BPF_ALU64 | BPF_ADD | BPF_X, 4, 5, 0, 0));
			if (chance(r, 50))
				ldx(p, size, 7 + (int)below(r, 3), 4, 0);
			else
				stx(p, size, 4, 7 + (int)below(r, 3), 0);
			if (skip != SIZE_MAX) {
				jump_here(p, skip);
				/* a second check right after the first skips too */
				if (skip + 1 < p->n && is_jump_with_off(&p->v[skip + 1]) &&
				    p->v[skip + 1].off == 0 && BPF_OP(p->v[skip + 1].code) != BPF_JA)
					jump_here(p, skip + 1);
			}
			break;
		}
		}
	}
}

static void snip_map_lookup(struct gen *g)
{
	struct rng *r = g->r;
	struct prog *p = g->p;
	if (!helper_ok(g->t, BPF_FUNC_map_lookup_elem))
		return;
	int m = kv_map(r);
	int keyoff = 8 * (1 + (int)below(r, 4));
	put_key(g, m, keyoff + (gen_vmaps[m].key_size > 8 ? 8 : 0));
	mov64_reg(p, 2, 10);
	add64_imm(p, 2, -keyoff - (gen_vmaps[m].key_size > 8 ? 8 : 0));
	if (chance(r, 2))
		add64_imm(p, 2, chance(r, 50) ? 4 : -4);
	emit_lddw(p, 1, BPF_PSEUDO_MAP_IDX, m, 0);
	call_helper(p, m == M_PCPU_ARRAY && chance(r, 30) &&
				       helper_ok(g->t, BPF_FUNC_map_lookup_percpu_elem)
			       ? BPF_FUNC_map_lookup_percpu_elem
			       : BPF_FUNC_map_lookup_elem);
	if (p->v[p->n - 1].imm == BPF_FUNC_map_lookup_percpu_elem) {
		/* r3 = cpu: must be set before the call */
		struct bpf_insn call = p->v[p->n - 1];
		p->n--;
		mov64_imm(p, 3, (int32_t)below(r, 3));
		emit(p, call);
	}
	int reg = 0;
	if (chance(r, 15)) { /* a copy, checked or used */
		reg = 6 + (int)below(r, 4);
		if (g->in_sub && reg == 6)
			reg = 7;
		if (!g->in_sub && reg == 6)
			reg = 9;
		mov64_reg(p, reg, 0);
	}
	size_t skip = SIZE_MAX;
	unsigned form = below(r, 60);
	if (form == 0) {
		/* no null check */
	} else if (form == 1) {
		skip = jump_fwd(p, BPF_JMP | BPF_JNE | BPF_K, 0, 0, 0); /* inverted */
	} else if (form == 2) {
		skip = jump_fwd(p, BPF_JMP32 | BPF_JEQ | BPF_K, 0, 0, 0);
	} else if (form == 3) {
		skip = jump_fwd(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1);
	} else {
		skip = jump_fwd(p, BPF_JMP | BPF_JEQ | BPF_K, reg, 0, 0);
	}
	if (chance(r, 15)) { /* spill the value pointer and fill it back */
		int16_t so = (int16_t)(-8 * (1 + (int)below(r, 8)));
		stx(p, 8, 10, reg, so);
		if (chance(r, 10))
			st_imm(p, chance(r, 50) ? 4 : 1, 10, so, 0); /* clobber part of the spill */
		ldx(p, 8, 1, 10, so);
		reg = 1;
	}
	value_accesses(g, reg, m);
	if (chance(r, 10) && g->depth < 3) {
		g->depth++;
		snip_body(g);
		g->depth--;
		/* the pointer may have been clobbered by a helper: accessed again */
		if (chance(r, 50))
			value_accesses(g, reg, m);
	}
	if (skip != SIZE_MAX)
		jump_here(p, skip);
	/* what follows computes with r7..r9: a pointer left there is mostly
	 * a scalar again (the rest tests pointer arithmetic) */
	if (reg >= 7 && chance(r, 85))
		mov64_imm(p, reg, (int32_t)below(r, 16));
}

static void snip_direct_value(struct gen *g)
{
	struct rng *r = g->r;
	int m = chance(r, 95) ? M_ARRAY1 : kv_map(r);
	if (n_gen_maps > M_RDONLY && chance(r, 30))
		m = M_RDONLY;
	uint32_t vs = gen_vmaps[m].value_size;
	int32_t off = (int32_t)(below(r, vs / 8 + (chance(r, 3) ? 1 : 0)) * 8);
	emit_lddw(g->p, 1, BPF_PSEUDO_MAP_IDX_VALUE, m, 0);
	g->p->v[g->p->n - 1].imm = off;
	(void)vs;
	/* accesses relative to the value's start */
	if (off)
		add64_imm(g->p, 1, -off);
	value_accesses(g, 1, m);
}

static void snip_map_update(struct gen *g)
{
	struct rng *r = g->r;
	struct prog *p = g->p;
	static const int ms[] = {M_HASH, M_ARRAY, M_LRU, M_HASH_ODD, M_PCPU_ARRAY};
	int m = ms[below(r, 5)];
	bool del = chance(r, 25);
	int32_t id = del ? BPF_FUNC_map_delete_elem : BPF_FUNC_map_update_elem;
	if (!helper_ok(g->t, id))
		return;
	put_key(g, m, 8);
	init_stack(g, -80, gen_vmaps[m].value_size + (chance(r, 5) ? 0 : 8) - 8 + 8);
	mov64_reg(p, 2, 10);
	add64_imm(p, 2, -8);
	emit_lddw(p, 1, BPF_PSEUDO_MAP_IDX, m, 0);
	if (!del) {
		mov64_reg(p, 3, 10);
		add64_imm(p, 3, chance(r, 4) ? -8 : -80);
		mov64_imm(p, 4, (int32_t)below(r, 3));
	}
	call_helper(p, id);
	if (chance(r, 50))
		mov64_reg(p, 7 + (int)below(r, 3), 0);
}

static void snip_queue(struct gen *g)
{
	struct rng *r = g->r;
	struct prog *p = g->p;
	int m = chance(r, 50) ? M_QUEUE : M_STACK;
	if (chance(r, 5))
		m = M_ARRAY;
	static const int32_t ids[] = {BPF_FUNC_map_push_elem, BPF_FUNC_map_pop_elem,
				      BPF_FUNC_map_peek_elem};
	int32_t id = ids[below(r, 3)];
	if (!helper_ok(g->t, id))
		return;
	init_stack(g, -32, 16 + (chance(r, 5) ? 0 : 16));
	emit_lddw(p, 1, BPF_PSEUDO_MAP_IDX, m, 0);
	mov64_reg(p, 2, 10);
	add64_imm(p, 2, chance(r, 5) ? -8 : -32);
	if (id == BPF_FUNC_map_push_elem)
		mov64_imm(p, 3, 0);
	call_helper(p, id);
	if (id != BPF_FUNC_map_push_elem && chance(r, 60))
		ldx(p, 8, 7 + (int)below(r, 3), 10, -32);
}

static void snip_helper_misc(struct gen *g)
{
	struct rng *r = g->r;
	struct prog *p = g->p;
	switch (below(r, 9)) {
	case 0: /* ringbuf_output(map, data, size, flags) */
		if (!helper_ok(g->t, BPF_FUNC_ringbuf_output))
			return;
		init_stack(g, -32, 32);
		emit_lddw(p, 1, BPF_PSEUDO_MAP_IDX, chance(r, 95) ? M_RINGBUF : M_ARRAY, 0);
		mov64_reg(p, 2, 10);
		add64_imm(p, 2, -32);
		mov64_imm(p, 3, (int32_t)below(r, 34));
		mov64_imm(p, 4, 0);
		call_helper(p, BPF_FUNC_ringbuf_output);
		return;
	case 1: /* trace_printk("%d\n", r7) */
		if (!helper_ok(g->t, BPF_FUNC_trace_printk) || chance(r, 70))
			return;
		st_imm(p, 4, 10, -8, 0x000a6425); /* "%d\n\0" */
		mov64_reg(p, 1, 10);
		add64_imm(p, 1, -8);
		mov64_imm(p, 2, chance(r, 90) ? 4 : 9);
		mov64_reg(p, 3, 7);
		call_helper(p, BPF_FUNC_trace_printk);
		return;
	case 2: /* probe_read_kernel(dst, size, src) */
		if (!helper_ok(g->t, BPF_FUNC_probe_read_kernel) || chance(r, 60))
			return;
		mov64_reg(p, 1, 10);
		add64_imm(p, 1, -16);
		mov64_imm(p, 2, chance(r, 90) ? (int32_t)below(r, 17) : 24);
		mov64_reg(p, 3, chance(r, 50) ? 10 : 7);
		call_helper(p, BPF_FUNC_probe_read_kernel);
		return;
	case 3: /* strtol(buf, len, flags, &res) */
		if (!helper_ok(g->t, BPF_FUNC_strtol))
			return;
		st_imm(p, 8, 10, -16, 0x3231);
		mov64_reg(p, 1, 10);
		add64_imm(p, 1, -16);
		mov64_imm(p, 2, 1 + (int32_t)below(r, chance(r, 90) ? 8 : 20));
		mov64_imm(p, 3, 0);
		mov64_reg(p, 4, 10);
		add64_imm(p, 4, chance(r, 90) ? -8 : -4);
		call_helper(p, BPF_FUNC_strtol);
		if (chance(r, 50))
			ldx(p, 8, 7, 10, -8);
		return;
	case 4: /* get_current_comm(buf, size) */
		if (!helper_ok(g->t, BPF_FUNC_get_current_comm))
			return;
		mov64_reg(p, 1, 10);
		add64_imm(p, 1, -16);
		mov64_imm(p, 2, chance(r, 90) ? 16 : 17);
		call_helper(p, BPF_FUNC_get_current_comm);
		return;
	case 5: /* perf_event_output(ctx, map, flags, data, size) */
		if (!helper_ok(g->t, BPF_FUNC_perf_event_output) || g->in_sub)
			return;
		init_stack(g, -16, 16);
		mov64_reg(p, 1, 6);
		emit_lddw(p, 2, BPF_PSEUDO_MAP_IDX, M_PERF, 0);
		emit_lddw(p, 3, 0, -1, 0); /* BPF_F_CURRENT_CPU */
		p->v[p->n - 1].imm = 0;
		p->v[p->n - 2].imm = (int32_t)0xffffffff;
		mov64_reg(p, 4, 10);
		add64_imm(p, 4, -16);
		mov64_imm(p, 5, (int32_t)below(r, 18));
		call_helper(p, BPF_FUNC_perf_event_output);
		return;
	case 6: /* tail call */
		if (!helper_ok(g->t, BPF_FUNC_tail_call) || g->in_sub)
			return;
		mov64_reg(p, 1, 6);
		emit_lddw(p, 2, BPF_PSEUDO_MAP_IDX, M_PROG_ARRAY, 0);
		mov64_imm(p, 3, (int32_t)below(r, 5));
		call_helper(p, BPF_FUNC_tail_call);
		return;
	case 7: /* legacy packet loads */
		if (!(g->t->d->flags & BEE_PT_LD_ABS) || g->in_sub)
			return;
		if (chance(r, 50)) {
			emit(p, mk(BPF_LD | BPF_ABS | size_codes[below(r, 3)], 0, 0, 0,
				   (int32_t)below(r, 80)));
		} else {
			mov64_reg(p, 1, 7);
			emit(p, mk(BPF_LD | BPF_IND | size_codes[below(r, 3)], 0, 1, 0,
				   (int32_t)below(r, 40)));
		}
		mov64_reg(p, 7, 0);
		return;
	default:
		snip_unknown(g);
		return;
	}
}

/* bpf_ringbuf_reserve, writes into the record, submit or discard; now and
 * then the null check, the release or the bounds go wrong, or the record
 * is used after it was released. */
static void snip_ringbuf(struct gen *g)
{
	struct rng *r = g->r;
	struct prog *p = g->p;
	if (!helper_ok(g->t, BPF_FUNC_ringbuf_reserve))
		return;
	int32_t size = 8 * (1 + (int32_t)below(r, 8));
	emit_lddw(p, 1, BPF_PSEUDO_MAP_IDX, chance(r, 97) ? M_RINGBUF : M_ARRAY, 0);
	mov64_imm(p, 2, size);
	mov64_imm(p, 3, 0);
	call_helper(p, BPF_FUNC_ringbuf_reserve);
	size_t skip = chance(r, 97) ? jump_fwd(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0) : SIZE_MAX;
	unsigned k = 1 + below(r, 3);
	for (unsigned i = 0; i < k; i++) {
		unsigned sz = 1u << below(r, 4);
		int32_t off = (int32_t)(below(r, (uint32_t)(size / (int32_t)sz)) * sz);
		if (chance(r, 4))
			off = size - (int32_t)sz + (int32_t)sz; /* just past the record */
		if (chance(r, 60))
			stx(p, sz, 0, 7 + (int)below(r, 3), (int16_t)off);
		else
			ldx(p, sz, 7 + (int)below(r, 3), 0, (int16_t)off);
	}
	if (chance(r, 15)) { /* a copy survives the release */
		mov64_reg(p, 9, 0);
	}
	if (!chance(r, 3)) { /* else: leaked */
		mov64_reg(p, 1, 0);
		mov64_imm(p, 2, 0);
		call_helper(p, chance(r, 50) ? BPF_FUNC_ringbuf_submit : BPF_FUNC_ringbuf_discard);
	}
	if (p->n && chance(r, 3)) /* use after release */
		ldx(p, 8, 7, 9, 0);
	if (skip != SIZE_MAX)
		jump_here(p, skip);
	if (chance(r, 90))
		mov64_imm(p, 9, 3);
}

/* Atomics, load-acquire and store-release on the stack. */
static void snip_stack_atomic(struct gen *g)
{
	struct rng *r = g->r;
	struct prog *p = g->p;
	unsigned size = chance(r, 50) ? 8 : 4;
	int16_t off = (int16_t)(-(int)size * (1 + (int)below(r, 8)));
	if (chance(r, 3))
		off = (int16_t)(off + 2);
	if (chance(r, 70))
		st_imm(p, size, 10, off, (int32_t)below(r, 9));
	static const int32_t aops[] = {BPF_ADD, BPF_OR | BPF_FETCH, BPF_XCHG, BPF_CMPXCHG,
				       BPF_LOAD_ACQ, BPF_STORE_REL, BPF_AND};
	int32_t op = aops[below(r, sizeof(aops) / sizeof(aops[0]))];
	if (op == BPF_LOAD_ACQ) /* dst = load_acquire(src + off) */
		emit(p, mk(BPF_STX | BPF_ATOMIC | size_code(size), 7 + (int)below(r, 3), 10, off, op));
	else
		emit(p, mk(BPF_STX | BPF_ATOMIC | size_code(size), 10, 7 + (int)below(r, 3), off, op));
}

/* Pointer arithmetic a verifier must follow or refuse. */
static void snip_ptr_games(struct gen *g)
{
	struct rng *r = g->r;
	struct prog *p = g->p;
	switch (below(r, 6)) {
	case 0: /* variable stack offset */
		mov64_reg(p, 1, 7 + (int)below(r, 3));
		emit(p, mk(BPF_ALU64 | BPF_AND | BPF_K, 1, 0, 0, (int32_t)(below(r, 8) * 8 + 7)));
		emit(p, mk(BPF_ALU64 | BPF_SUB | BPF_K, 1, 0, 0, 64));
		emit(p, mk(BPF_ALU64 | BPF_ADD | BPF_X, 1, 10, 0, 0));
		if (chance(r, 50))
			ldx(p, 1, 7, 1, 0);
		else
			st_imm(p, 1, 1, 0, 1);
		return;
	case 1: /* stack pointer moved then used */
		mov64_reg(p, 1, 10);
		add64_imm(p, 1, -(int32_t)(chance(r, 80) ? 8 * below(r, 64) : below(r, 520)));
		ldx(p, 1u << below(r, 4), 7, 1, (int16_t)-(int32_t)(8 * below(r, 2)));
		return;
	case 2: /* modified context pointer */
		if (g->in_sub)
			return;
		mov64_reg(p, 1, 6);
		add64_imm(p, 1, (int32_t)below(r, 16));
		ldx(p, 4, 7, 1, 0);
		return;
	case 3: /* pointer comparisons and subtraction */
		mov64_reg(p, 1, 10);
		mov64_reg(p, 2, 10);
		add64_imm(p, 2, -16);
		emit(p, mk(BPF_ALU64 | BPF_SUB | BPF_X, 1, 2, 0, 0));
		mov64_reg(p, 7, 1);
		return;
	case 4: /* 32-bit ops on a pointer */
		mov64_reg(p, 1, 10);
		emit(p, mk(BPF_ALU | BPF_ADD | BPF_K, 1, 0, 0, -8));
		ldx(p, 8, 7, 1, 0);
		return;
	default: /* spill a stack pointer, narrow overwrite, fill, deref */
		mov64_reg(p, 1, 10);
		add64_imm(p, 1, -64);
		stx(p, 8, 10, 1, -8);
		if (chance(r, 10))
			stx(p, 1u << below(r, 3), 10, 7, (int16_t)(-8 + (int)below(r, 4)));
		ldx(p, 8, 2, 10, -8);
		ldx(p, 8, 7, 2, (int16_t)-(int32_t)(8 * below(r, 8)));
		return;
	}
}

/* A counted loop over a few snippets (r9 is the counter; bodies are
 * helper-free so it survives). */
static void snip_loop(struct gen *g)
{
	struct rng *r = g->r;
	struct prog *p = g->p;
	if (g->depth >= 2)
		return;
	int32_t n = 1 + (int32_t)below(r, 8);
	mov64_imm(p, 9, 0);
	size_t head = p->n;
	unsigned k = 1 + below(r, 3);
	for (unsigned i = 0; i < k; i++) {
		switch (below(r, 4)) {
		case 0: snip_alu(g); break;
		case 1: snip_stack_store(g); break;
		case 2: snip_stack_load(g); break;
		default: /* an index bounded by the counter */
			mov64_reg(p, 1, 10);
			mov64_reg(p, 2, 9);
			emit(p, mk(BPF_ALU64 | BPF_LSH | BPF_K, 2, 0, 0, 3));
			emit(p, mk(BPF_ALU64 | BPF_SUB | BPF_X, 1, 2, 0, 0));
			ldx(p, 8, 7, 1, -8);
			break;
		}
	}
	unsigned form = below(r, 30);
	int32_t step = form == 0 ? 2 : form == 1 ? -1 : 1; /* 0, 1: maybe endless */
	add64_imm(p, 9, step);
	uint8_t cond = form == 2 ? BPF_JNE : form == 3 ? BPF_JSLT : BPF_JLT;
	emit(p, mk((form == 4 ? BPF_JMP32 : BPF_JMP) | cond | BPF_K, 9, 0,
		   (int16_t)((int)head - (int)p->n - 1), n));
}

/* A branch over a nested snippet. */
static void snip_branch(struct gen *g)
{
	struct rng *r = g->r;
	struct prog *p = g->p;
	if (g->depth >= 3)
		return;
	uint8_t cls = chance(r, 25) ? BPF_JMP32 : BPF_JMP;
	uint8_t op = jops[below(r, sizeof(jops))];
	size_t skip;
	if (chance(r, 50))
		skip = jump_fwd(p, cls | op | BPF_K, scalar_reg(g), 0, interesting_imm(r));
	else
		skip = jump_fwd(p, cls | op | BPF_X, scalar_reg(g), scalar_reg(g), 0);
	g->depth++;
	snip_body(g);
	if (chance(r, 30)) { /* an else branch */
		size_t over = jump_fwd(p, BPF_JMP | BPF_JA, 0, 0, 0);
		jump_here(p, skip);
		skip = over;
		snip_body(g);
	}
	g->depth--;
	jump_here(p, skip);
}

/* bpf-to-bpf call or a bpf_loop callback to a subprogram emitted later. */
static void snip_call(struct gen *g)
{
	struct rng *r = g->r;
	struct prog *p = g->p;
	if (g->n_pending >= 8 || (g->in_sub && chance(r, 70)))
		return;
	if (g->in_sub || chance(r, 60)) {
		/* r1 = a pointer into our stack, r2 = a scalar */
		init_stack(g, -64, 64);
		mov64_reg(p, 1, 10);
		add64_imm(p, 1, -64);
		mov64_reg(p, 2, 7);
		g->pending_kind[g->n_pending] = 0;
		g->pending_subs[g->n_pending++] = p->n;
		emit(p, mk(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 0));
		if (chance(r, 3)) /* whatever came back, used as a pointer */
			ldx(p, 8, 7, 0, 0);
		if (chance(r, 60))
			mov64_reg(p, 7, 0);
	} else {
		if (!helper_ok(g->t, BPF_FUNC_loop))
			return;
		g->uses_callbacks = true;
		mov64_imm(p, 1, (int32_t)below(r, 10));
		g->pending_kind[g->n_pending] = 1;
		g->pending_subs[g->n_pending++] = p->n;
		emit_lddw(p, 2, BPF_PSEUDO_FUNC, 0, 0);
		init_stack(g, -64, 64);
		if (chance(r, 70)) {
			mov64_reg(p, 3, 10);
			add64_imm(p, 3, -64);
		} else {
			mov64_imm(p, 3, 0);
		}
		mov64_imm(p, 4, 0);
		call_helper(p, BPF_FUNC_loop);
	}
}

static void snip_body(struct gen *g)
{
	if (!g->budget)
		return;
	g->budget--;
	unsigned k = below(g->r, 100);
	if (k < 16) snip_alu(g);
	else if (k < 22) snip_unknown(g);
	else if (k < 30) snip_stack_store(g);
	else if (k < 35) snip_stack_load(g);
	else if (k < 42) snip_ctx_load(g);
	else if (k < 44) snip_ctx_store(g);
	else if (k < 54) snip_packet(g);
	else if (k < 65) snip_map_lookup(g);
	else if (k < 68) snip_direct_value(g);
	else if (k < 72) snip_map_update(g);
	else if (k < 74) snip_queue(g);
	else if (k < 80) snip_helper_misc(g);
	else if (k < 84) snip_ptr_games(g);
	else if (k < 88) snip_loop(g);
	else if (k < 94) snip_branch(g);
	else if (k < 95) snip_ringbuf(g);
	else if (k < 96) snip_stack_atomic(g);
	else snip_call(g);
}

static void emit_return(struct gen *g)
{
	struct rng *r = g->r;
	int64_t lo = 0, hi = 0;
	bool ranged = bee_prog_type_ret_range(g->t->d, g->t->attach, &lo, &hi);
	if (!ranged) {
		lo = 0;
		hi = 3;
	}
	switch (below(r, 12)) {
	case 0: /* a scalar, maybe out of range */
		mov64_reg(g->p, 0, 7);
		if (chance(r, 70))
			emit(g->p, mk(BPF_ALU64 | BPF_AND | BPF_K, 0, 0, 0, (int32_t)(hi > 0 ? 1 : 0)));
		break;
	case 1: /* leave r0 as it is */
		break;
	default:
		mov64_imm(g->p, 0, (int32_t)(lo + (int64_t)below(r, (uint32_t)(hi - lo + 1))));
		break;
	}
	emit(g->p, mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
}

static void generate(struct rng *r, struct prog *p, struct ptype *t)
{
	memset(p, 0, offsetof(struct prog, v) + 0);
	p->n = 0;
	p->overflow = false;
	p->pt = t->d;
	p->attach = t->attach;
	p->prog_flags = t->id == BPF_PROG_TYPE_SYSCALL ? BPF_F_SLEEPABLE : 0;
	if (chance(r, 4))
		p->prog_flags |= BPF_F_STRICT_ALIGNMENT;
	p->map_fds = gen_fds;
	p->seed = NULL;
	p->maps = gen_vmaps;
	p->n_maps = n_gen_maps;
	p->has_func_info = chance(r, 95);
	struct gen g = {.r = r, .p = p, .t = t, .budget = 3 + below(r, 14)};
	mov64_reg(p, 6, 1);
	for (int reg = 7; reg <= 9; reg++) {
		const struct bee_ctx_field *f = t->d->n_fields ? &t->d->fields[below(r, (uint32_t)t->d->n_fields)] : NULL;
		if (f && f->kind == BEE_CTX_SCALAR && (f->read_sizes & (BEE_SZ_4 | BEE_SZ_8)) && chance(r, 50)) {
			/* a value the verifier does not know, the run's random context */
			unsigned size = (f->read_sizes & BEE_SZ_8) && chance(r, 50) ? 8 : 4;
			if (!(f->read_sizes & size))
				size = 4;
			uint32_t span = f->size / size;
			ldx(p, size, reg, 1, (int16_t)(f->off + size * below(r, span > 16 ? 16 : span)));
		} else if (chance(r, 99)) {
			mov64_imm(p, reg, interesting_imm(r));
		}
	}
	mov64_imm(p, 0, 0);
	if (chance(r, 70)) /* the top of the stack initialised: reads of it are fine */
		init_stack(&g, -64, 64);
	while (g.budget)
		snip_body(&g);
	emit_return(&g);
	/* subprograms: bodies of their own (which may call further ones: the
	 * list grows while it is walked), then r0 and exit */
	size_t sub_start[8];
	for (unsigned i = 0; i < g.n_pending; i++) {
		size_t at = g.pending_subs[i];
		sub_start[i] = p->n;
		int32_t rel = (int32_t)(p->n - at - 1);
		if (chance(r, 2) && i > 0) /* recursion: a call to a function already emitted */
			rel = (int32_t)(sub_start[below(r, i)] - at - 1);
		if (is_lddw(&p->v[at]) || p->v[at].src_reg == BPF_PSEUDO_CALL)
			p->v[at].imm = rel;
		struct gen sg = {.r = r, .p = p, .t = t, .budget = 1 + below(r, 4), .in_sub = true};
		sg.n_pending = g.n_pending;
		memcpy(sg.pending_subs, g.pending_subs, sizeof(g.pending_subs));
		memcpy(sg.pending_kind, g.pending_kind, sizeof(g.pending_kind));
		if (g.pending_kind[i] == 0 && chance(r, 60)) { /* use the caller's stack */
			int16_t off = (int16_t)(chance(r, 95) ? 8 * below(r, 8) : 64);
			if (chance(r, 50))
				ldx(p, 8, 7, 1, off);
			else
				stx(p, 8, 1, chance(r, 90) ? 2 : 10, off);
		}
		if (g.pending_kind[i] == 1 && chance(r, 50)) /* the callback's context */
			ldx(p, 8, 7, 2, (int16_t)(chance(r, 95) ? 8 * below(r, 8) : 64));
		mov64_imm(p, 7, (int32_t)below(r, 100));
		mov64_imm(p, 8, 1);
		mov64_imm(p, 9, 2);
		while (sg.budget)
			snip_body(&sg);
		g.n_pending = sg.n_pending;
		memcpy(g.pending_subs, sg.pending_subs, sizeof(g.pending_subs));
		memcpy(g.pending_kind, sg.pending_kind, sizeof(g.pending_kind));
		if (chance(r, 2)) { /* return a pointer to our own stack */
			mov64_reg(p, 0, 10);
			add64_imm(p, 0, -8);
		} else {
			mov64_imm(p, 0, g.pending_kind[i] == 1 ? (int32_t)below(r, chance(r, 95) ? 2 : 5)
							     : (int32_t)below(r, 7));
		}
		emit(p, mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	}
	snprintf(p->origin, sizeof(p->origin), "generated %s", t->d->name);
}

/* ---- mutation ----------------------------------------------------------------- */

/* Re-target every relative jump after inserting (ins = true) a slot at pos,
 * or deleting the slot at pos. */
static void fix_targets(struct bpf_insn *v, size_t n_old, size_t pos, bool ins)
{
	for (size_t j = 0; j < n_old; j++) {
		int field;
		if (!has_target(&v[j], &field))
			continue;
		long t = (long)j + 1 + (field ? v[j].imm : v[j].off);
		long nj = (long)j, nt = t;
		if (ins) {
			if ((long)j >= (long)pos)
				nj++;
			if (t >= (long)pos)
				nt++;
		} else {
			if ((long)j > (long)pos)
				nj--;
			if (t > (long)pos)
				nt--;
		}
		long rel = nt - nj - 1;
		if (field)
			v[j].imm = (int32_t)rel;
		else if (rel >= INT16_MIN && rel <= INT16_MAX)
			v[j].off = (int16_t)rel;
	}
}

static void insert_slot(struct prog *p, size_t pos, struct bpf_insn in)
{
	if (p->n >= MAX_INSNS)
		return;
	fix_targets(p->v, p->n, pos, true);
	memmove(&p->v[pos + 1], &p->v[pos], (p->n - pos) * sizeof(p->v[0]));
	p->v[pos] = in;
	p->n++;
}

static void delete_slot(struct prog *p, size_t pos)
{
	if (p->n <= 1)
		return;
	fix_targets(p->v, p->n, pos, false);
	memmove(&p->v[pos], &p->v[pos + 1], (p->n - pos - 1) * sizeof(p->v[0]));
	p->n--;
}

/* Pick an instruction start (not the second slot of an lddw). */
static size_t pick_insn(struct rng *r, const struct prog *p)
{
	for (int tries = 0; tries < 8; tries++) {
		size_t i = below(r, (uint32_t)p->n);
		if (i == 0 || !is_lddw(&p->v[i - 1]))
			return i;
	}
	return 0;
}

static void mutate_one(struct rng *r, struct prog *p)
{
	if (!p->n)
		return;
	size_t i = pick_insn(r, p);
	struct bpf_insn *in = &p->v[i];
	uint8_t cls = BPF_CLASS(in->code);
	switch (below(r, 14)) {
	case 0: { /* offset */
		static const int d[] = {1, -1, 2, -2, 4, -4, 8, -8, 16, -16};
		if (chance(r, 80))
			in->off = (int16_t)(in->off + d[below(r, 10)]);
		else
			in->off = (int16_t)interesting_imm(r);
		break;
	}
	case 1: /* immediate */
		switch (below(r, 5)) {
		case 0: in->imm = (int32_t)((uint32_t)in->imm + 1); break;
		case 1: in->imm = (int32_t)((uint32_t)in->imm - 1); break;
		case 2: in->imm = (int32_t)(0u - (uint32_t)in->imm); break;
		case 3: in->imm = (int32_t)((uint32_t)in->imm << 1); break;
		default: in->imm = interesting_imm(r); break;
		}
		break;
	case 2: /* registers */
		if (chance(r, 50))
			in->dst_reg = (uint8_t)below(r, 11);
		else
			in->src_reg = (uint8_t)below(r, 11);
		break;
	case 3: /* jump target */
		if (is_jump_with_off(in))
			in->off = (int16_t)(in->off + (chance(r, 50) ? 1 : -1) * (int)(1 + below(r, 3)));
		break;
	case 4: /* condition / 32-bit jump */
		if (is_jump_with_off(in) && BPF_OP(in->code) != BPF_JA) {
			if (chance(r, 70))
				in->code = (uint8_t)((in->code & 0x0f) | jops[below(r, sizeof(jops))]);
			else
				in->code ^= (BPF_JMP ^ BPF_JMP32);
		}
		break;
	case 5: /* access size */
		if (cls == BPF_LDX || cls == BPF_ST || cls == BPF_STX)
			in->code = (uint8_t)((in->code & ~0x18) | size_codes[below(r, 4)]);
		break;
	case 6: /* ALU class / operand source */
		if (cls == BPF_ALU || cls == BPF_ALU64) {
			if (chance(r, 50))
				in->code ^= (BPF_ALU ^ BPF_ALU64);
			else
				in->code ^= BPF_X;
		} else if (is_jump_with_off(in)) {
			in->code ^= BPF_X;
		}
		break;
	case 7: /* ALU operation */
		if (cls == BPF_ALU || cls == BPF_ALU64) {
			static const uint8_t ops[] = {BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR,
						      BPF_AND, BPF_LSH, BPF_RSH, BPF_MOD, BPF_XOR,
						      BPF_MOV, BPF_ARSH, BPF_NEG};
			in->code = (uint8_t)((in->code & 0x0f) | ops[below(r, sizeof(ops))]);
		}
		break;
	case 8: /* drop */
		if (!is_lddw(in) && p->n > 2)
			delete_slot(p, i);
		break;
	case 9: /* duplicate */
		if (!is_lddw(in))
			insert_slot(p, i + 1, *in);
		break;
	case 10: /* swap with the next */
		if (i + 2 < p->n && !is_lddw(in) && !is_lddw(&p->v[i + 1]) && !has_target(in, &(int){0}) &&
		    !has_target(&p->v[i + 1], &(int){0})) {
			struct bpf_insn tmp = p->v[i];
			p->v[i] = p->v[i + 1];
			p->v[i + 1] = tmp;
		}
		break;
	case 11: /* a check dropped: conditional jump made a no-op */
		if (is_jump_with_off(in) && BPF_OP(in->code) != BPF_JA)
			*in = mk(BPF_JMP | BPF_JA, 0, 0, 0, 0);
		break;
	case 12: /* a load or store mode change (memsx, atomic) */
		if (cls == BPF_LDX)
			in->code ^= (BPF_MEM ^ BPF_MEMSX);
		else if (cls == BPF_STX && chance(r, 50))
			in->code = (uint8_t)((in->code & ~0xe0) | BPF_ATOMIC), in->imm = BPF_ADD;
		break;
	default: /* a store inserted before */
		insert_slot(p, i, chance(r, 50) ? mk(BPF_ST | BPF_MEM | size_codes[below(r, 4)], 10, 0,
						       stack_off(r, 8), interesting_imm(r))
						: mk(BPF_ALU64 | BPF_MOV | BPF_K, (int)below(r, 10), 0, 0,
						     interesting_imm(r)));
		break;
	}
}

static void mutate(struct rng *r, struct prog *p)
{
	unsigned k = 1 + below(r, 3);
	if (chance(r, 10))
		k += below(r, 6);
	for (unsigned i = 0; i < k; i++)
		mutate_one(r, p);
}

/* ---- the corpus as seeds ------------------------------------------------------- */

struct seed {
	struct bpf_insn *insns;
	size_t n;
	struct ptype *t;
	uint32_t attach, prog_flags;
	int fds[VDATA_MAX_MAPS];
	struct bee_verify_map maps[VDATA_MAX_MAPS];
	size_t n_maps;
	const char *name;
	bool accept, btf;
	int kfds[VDATA_MAX_MAPS]; /* --kernel: the kernel's copies of the maps */
	struct vmap vmaps[VDATA_MAX_MAPS];
	bool kmade;
};

static struct seed *seeds;
static size_t n_seeds, n_seeds_accept;

static void load_corpus(const char *dir)
{
	struct vcorpus c = {0};
	vdata_parse_path(&c, dir);
	seeds = calloc(c.n ? c.n : 1, sizeof(*seeds));
	if (!seeds)
		exit(1);
	/* labelled accept first: they are picked more often */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < c.n; i++) {
			struct vtest *t = &c.tests[i];
			if (t->expect_accept != (pass == 0) || t->slow)
				continue;
			struct ptype *pt = ptype_of(t->prog_type, t->has_attach_type ? t->attach_type : 0);
			if (!pt)
				continue;
			struct bee_error e;
			struct seed *s = &seeds[n_seeds];
			if (bee_asm(t->asm_text, &s->insns, &s->n, &e) < 0 || s->n == 0 || s->n > MAX_INSNS)
				continue;
			bool ok = true;
			for (unsigned m = 0; m < t->n_maps; m++) {
				s->fds[m] = create_map(&t->maps[m]);
				if (s->fds[m] < 0)
					ok = false;
				s->maps[m] = (struct bee_verify_map){.type = t->maps[m].type,
								     .key_size = t->maps[m].key_size,
								     .value_size = t->maps[m].value_size,
								     .max_entries = t->maps[m].max_entries,
								     .map_flags = t->maps[m].flags};
				s->vmaps[m] = t->maps[m];
			}
			if (!ok) {
				free(s->insns);
				continue;
			}
			s->n_maps = t->n_maps;
			s->t = pt;
			s->attach = t->has_attach_type ? t->attach_type : pt->attach;
			s->prog_flags = t->prog_flags;
			if (asprintf((char **)&s->name, "%s/%s", t->file, t->name) < 0)
				exit(1);
			s->accept = t->expect_accept;
			s->btf = t->btf;
			n_seeds++;
			if (s->accept)
				n_seeds_accept++;
		}
	}
	vdata_free(&c);
}

static void from_seed(struct prog *p, struct seed *s)
{
	p->seed = s;
	p->n = s->n;
	p->overflow = false;
	memcpy(p->v, s->insns, s->n * sizeof(p->v[0]));
	p->pt = s->t->d;
	p->attach = s->attach;
	p->prog_flags = s->prog_flags;
	p->map_fds = s->fds;
	p->maps = s->maps;
	p->n_maps = s->n_maps;
	p->has_func_info = s->btf;
	snprintf(p->origin, sizeof(p->origin), "corpus %s mutated", s->name);
}

/* ---- statistics --------------------------------------------------------------- */

struct reason {
	char *msg;
	uint64_t count;
};

#define N_REASON_SLOTS 4096
struct reason_table {
	struct reason v[N_REASON_SLOTS];
	unsigned n;
};
static struct reason_table reasons, kernel_reasons;

/* A refusal's class: its message with numbers replaced by N. */
static void count_reason(struct reason_table *tab, const char *msg)
{
	char key[96];
	size_t k = 0;
	for (const char *s = msg; *s && k + 1 < sizeof(key); s++) {
		if ((*s >= '0' && *s <= '9') || (*s == '-' && s[1] >= '0' && s[1] <= '9')) {
			if (!k || key[k - 1] != 'N')
				key[k++] = 'N';
			continue;
		}
		key[k++] = *s;
	}
	key[k] = '\0';
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < k; i++)
		h = (h ^ (uint8_t)key[i]) * 1099511628211ull;
	for (unsigned probe = 0; probe < N_REASON_SLOTS; probe++) {
		struct reason *rs = &tab->v[(h + probe) % N_REASON_SLOTS];
		if (!rs->msg) {
			if (tab->n > N_REASON_SLOTS * 3 / 4)
				return;
			rs->msg = strdup(key);
			rs->count = 1;
			tab->n++;
			return;
		}
		if (strcmp(rs->msg, key) == 0) {
			rs->count++;
			return;
		}
	}
}

static int cmp_reason(const void *a, const void *b)
{
	const struct reason *x = a, *y = b;
	if (!x->msg || !y->msg)
		return !x->msg - !y->msg;
	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

struct stats {
	uint64_t generated, accepted, rejected, unsupported, runs, faults, engine_limits,
		harness_errors, load_refused, known_faults, slowest_index, by_kind[3], acc_by_kind[3];
	double slowest_verify;
};
static struct stats st;

/* What the accepted programs exercised (how many have at least one). */
enum { F_CALL, F_CALLBACK, F_TAIL_CALL, F_LD_ABS, F_ATOMIC, F_BACK_JUMP, F_HELPER, F_MAP_VALUE,
       F_VAR_OFF, F_JMP32, N_FEATURES };
static const char *const feature_names[N_FEATURES] = {
	"bpf-to-bpf calls", "callbacks", "tail calls", "ld_abs/ld_ind", "atomics",
	"backward jumps", "helper calls", "direct map values", "reg+reg pointer adds", "jmp32"};
static uint64_t features[N_FEATURES];

static void count_features(const struct prog *p)
{
	bool f[N_FEATURES] = {0};
	for (size_t i = 0; i < p->n; i++) {
		const struct bpf_insn *in = &p->v[i];
		uint8_t cls = BPF_CLASS(in->code);
		if (in->code == (BPF_JMP | BPF_CALL)) {
			if (in->src_reg == BPF_PSEUDO_CALL)
				f[F_CALL] = true;
			else if (in->imm == BPF_FUNC_tail_call)
				f[F_TAIL_CALL] = true;
			else
				f[F_HELPER] = true;
		}
		if (is_lddw(in) && in->src_reg == BPF_PSEUDO_FUNC)
			f[F_CALLBACK] = true;
		if (is_lddw(in) && (in->src_reg == BPF_PSEUDO_MAP_IDX_VALUE ||
				    in->src_reg == BPF_PSEUDO_MAP_VALUE))
			f[F_MAP_VALUE] = true;
		if (cls == BPF_LD && (BPF_MODE(in->code) == BPF_ABS || BPF_MODE(in->code) == BPF_IND))
			f[F_LD_ABS] = true;
		if (cls == BPF_STX && BPF_MODE(in->code) == BPF_ATOMIC)
			f[F_ATOMIC] = true;
		if (is_jump_with_off(in) && in->off < 0)
			f[F_BACK_JUMP] = true;
		if (cls == BPF_JMP32)
			f[F_JMP32] = true;
		if (in->code == (BPF_ALU64 | BPF_ADD | BPF_X))
			f[F_VAR_OFF] = true;
		if (is_lddw(in))
			i++;
	}
	for (int k = 0; k < N_FEATURES; k++)
		features[k] += f[k];
}

/* ---- verifying and running ------------------------------------------------------- */

static bool verbose, dump, do_minimize = true;
static unsigned n_runs = 3;
static uint64_t opt_seed = 1;
static int opt_kind = -1; /* --kind: only generated (0), generated+mutated (1), corpus (2) */

static int verify_prog(const struct prog *p, char *log, size_t log_size,
		       struct bee_verify_result *res)
{
	struct bee_verify_opts o = {
		.sz = sizeof(o),
		.prog_type = p->pt,
		.expected_attach_type = p->attach,
		.helpers = verify_helpers,
		.maps = p->maps,
		.n_maps = p->n_maps,
		.log_buf = log,
		.log_size = log_size,
		.log_level = log ? 4 : 0, /* the refusal and statistics: no trace */
		.strict_alignment = (p->prog_flags & BPF_F_STRICT_ALIGNMENT) != 0,
		.has_func_info = p->has_func_info,
	};
	return bee_verify(p->v, p->n, &o, res);
}

static int load_prog(const struct prog *p, char *log, size_t log_size)
{
	struct bee_prog_load_opts o = {
		.sz = sizeof(o),
		.prog_flags = p->prog_flags,
		.expected_attach_type = (enum bpf_attach_type)p->attach,
		.fd_array = p->map_fds,
		.log_buf = log,
		.log_size = log ? (uint32_t)log_size : 0,
		.log_level = log ? 1 : 0,
	};
	return bee_prog_load(bee, (enum bpf_prog_type)p->pt->type_id, "sound", "GPL", p->v, p->n, &o);
}

static bool uses_callbacks(const struct prog *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (is_lddw(&p->v[i]) && p->v[i].src_reg == BPF_PSEUDO_FUNC)
			return true;
	return false;
}

/* Does the program call a helper that moves the packet's bounds
 * (bpf_xdp_adjust_head/tail/meta)?  Then data_end - data may change. */
static bool resizes_packet(const struct prog *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].code == (BPF_JMP | BPF_CALL) && p->v[i].src_reg == 0 &&
		    (p->v[i].imm == BPF_FUNC_xdp_adjust_head || p->v[i].imm == BPF_FUNC_xdp_adjust_tail ||
		     p->v[i].imm == BPF_FUNC_xdp_adjust_meta))
			return true;
	return false;
}

/* The inputs of one run and what came out. */
struct run_io {
	/* out: room for what bpf_xdp_adjust_head/meta/tail may add (a page) */
	uint8_t pkt_in[MAX_PKT], pkt_out[MAX_PKT + 4096], base_pkt_out[MAX_PKT + 4096];
	uint32_t pkt_len;
	uint8_t ctx_in[65536], ctx_out[65536], base_ctx_out[65536];
	uint32_t ctx_len;
};
static struct run_io io;

enum outcome { RUN_OK, RUN_FAULT, RUN_LIMIT, RUN_HARNESS, RUN_LOAD_REFUSED };

struct fault {
	char what[512];
	int code;
};

static void make_inputs(struct rng *r, const struct ptype *t)
{
	if (t->skb || t->xdp) {
		unsigned k = below(r, 10);
		io.pkt_len = k < 2 ? 14 + below(r, 2) : k < 5 ? 14 + below(r, 40) : 14 + below(r, MAX_PKT - 14 + 1);
		fill_random(r, io.pkt_in, io.pkt_len);
		if (t->skb) {
			struct __sk_buff skb;
			fill_random(r, &skb, sizeof(skb));
			/* pointer fields: the test run sets data/data_end/data_meta; a
			 * socket pointer bee has no socket for is NULL, as is flow_keys */
			skb.data = skb.data_end = skb.data_meta = 0;
			skb.sk = 0;
			skb.flow_keys = 0;
			memcpy(io.ctx_in, &skb, sizeof(skb));
			io.ctx_len = sizeof(skb);
		} else {
			struct xdp_md x;
			fill_random(r, &x, sizeof(x));
			x.data = x.data_end = x.data_meta = 0;
			memcpy(io.ctx_in, &x, sizeof(x));
			io.ctx_len = sizeof(x);
		}
	} else {
		io.pkt_len = 0;
		io.ctx_len = t->d->ctx_size > sizeof(io.ctx_in) ? (uint32_t)sizeof(io.ctx_in)
								 : t->d->ctx_size;
		io.ctx_len &= ~7u;
		/* syscall contexts are 64 KiB: most of it stays zero */
		fill_random(r, io.ctx_in, io.ctx_len < 512 ? io.ctx_len : 512);
		if (io.ctx_len > 512)
			memset(io.ctx_in + 512, 0, io.ctx_len - 512);
	}
}

static int test_run(int fd, const struct ptype *t, uint8_t *pkt_out, uint8_t *ctx_out,
		    uint32_t *retval)
{
	struct bee_test_run_opts o = {.sz = sizeof(o)};
	if (io.pkt_len) {
		o.data_in = io.pkt_in;
		o.data_size_in = io.pkt_len;
		o.data_out = pkt_out;
		o.data_size_out = (uint32_t)sizeof(io.pkt_out);
	}
	(void)t;
	if (io.ctx_len) {
		o.ctx_in = io.ctx_in;
		o.ctx_size_in = io.ctx_len;
		o.ctx_out = ctx_out;
		o.ctx_size_out = (uint32_t)sizeof(io.ctx_out);
	}
	int err = bee_prog_test_run(bee, fd, &o);
	*retval = o.retval;
	return err;
}

/* May programs of type t write context byte off?  (The packet pointer
 * fields hold addresses of this run's packet area, which differ between
 * the program's run and the baseline's: they are compared as data_end -
 * data instead.) */
static bool ctx_byte_writable(const struct ptype *t, uint32_t off)
{
	const struct bee_prog_type_desc *d = t->d;
	if (t->skb && ((off >= offsetof(struct __sk_buff, data) &&
			off < offsetof(struct __sk_buff, data_end) + 4) ||
		       (off >= offsetof(struct __sk_buff, data_meta) &&
			off < offsetof(struct __sk_buff, data_meta) + 4)))
		return true;
	if (t->xdp && off < offsetof(struct xdp_md, data_meta) + 4)
		return true;
	for (size_t i = 0; i < d->n_fields; i++) {
		const struct bee_ctx_field *f = &d->fields[i];
		if (off >= f->off && off < f->off + f->size)
			return f->write_sizes != 0 || f->kind != BEE_CTX_SCALAR;
	}
	return false;
}

/* One run of loaded program fd on fresh random inputs. */
static enum outcome run_once(const struct prog *p, const struct ptype *t, int fd, uint64_t index,
			     unsigned k, struct fault *f)
{
	struct rng r;
	rng_seed(&r, opt_seed, index, 1000 + k);
	for (size_t i = 0; i + 1 < p->n; i++)
		if (is_lddw(&p->v[i]) && (p->v[i].src_reg == BPF_PSEUDO_MAP_IDX ||
					  p->v[i].src_reg == BPF_PSEUDO_MAP_IDX_VALUE)) {
			int32_t m = p->v[i].imm;
			if (m >= 0 && (size_t)m < p->n_maps)
				randomize_map(&r, p->map_fds[m], &p->maps[m]);
		}
	make_inputs(&r, t);
	uint32_t retval = 0, base_ret = 0;
	int err = test_run(fd, t, io.pkt_out, io.ctx_out, &retval);
	st.runs++;
	if (err) {
		const struct bee_error *e = bee_last_run_error();
		if (!e || e->code != err) {
			snprintf(f->what, sizeof(f->what), "BPF_PROG_TEST_RUN failed before running: %d (%s)",
				 err, bee_strerror(err));
			return RUN_HARNESS;
		}
		char buf[400];
		snprintf(f->what, sizeof(f->what), "checked run fault: %s",
			 bee_error_format(e, NULL, buf, sizeof(buf)));
		f->code = err;
		/* Not the verifier's doing:
		 *  - a tail call from a bpf-to-bpf function stops bee's engines
		 *    with -EOPNOTSUPP (vm.h), where the kernel allows it under
		 *    conditions: an engine limit;
		 *  - bpf_loop runs up to 2^23 callbacks, which can legitimately
		 *    exceed the checked run's instruction budget. */
		if (err == -EOPNOTSUPP && strstr(e->msg, "tail call"))
			return RUN_LIMIT;
		if (err == -ETIME && uses_callbacks(p))
			return RUN_LIMIT;
		return RUN_FAULT;
	}
	/* What the type may not write must not have changed: compared with a
	 * run of `r0 = 0; exit` on the same input. */
	if (t->baseline_fd >= 0 && (io.ctx_len || io.pkt_len)) {
		int berr = test_run(t->baseline_fd, t, io.base_pkt_out, io.base_ctx_out, &base_ret);
		if (berr) {
			snprintf(f->what, sizeof(f->what), "baseline run failed: %d", berr);
			return RUN_HARNESS;
		}
		for (uint32_t off = 0; off < io.ctx_len; off++) {
			if (io.ctx_out[off] == io.base_ctx_out[off] || ctx_byte_writable(t, off))
				continue;
			snprintf(f->what, sizeof(f->what),
				 "context byte %u changed (0x%02x, 0x%02x without the program) but "
				 "type %s may not write it",
				 off, io.ctx_out[off], io.base_ctx_out[off], t->d->name);
			f->code = -EACCES;
			return RUN_FAULT;
		}
		if ((t->skb || t->xdp) && !resizes_packet(p)) {
			uint32_t d0, d1, b0, b1;
			size_t od = t->skb ? offsetof(struct __sk_buff, data) : offsetof(struct xdp_md, data);
			size_t oe = t->skb ? offsetof(struct __sk_buff, data_end)
					   : offsetof(struct xdp_md, data_end);
			memcpy(&d0, io.ctx_out + od, 4);
			memcpy(&d1, io.ctx_out + oe, 4);
			memcpy(&b0, io.base_ctx_out + od, 4);
			memcpy(&b1, io.base_ctx_out + oe, 4);
			if (d1 - d0 != b1 - b0) {
				snprintf(f->what, sizeof(f->what),
					 "context data/data_end changed: %u bytes, %u without the program",
					 d1 - d0, b1 - b0);
				f->code = -EACCES;
				return RUN_FAULT;
			}
		}
		if (io.pkt_len && !(t->d->flags & BEE_PT_PKT_WRITE) &&
		    memcmp(io.pkt_out, io.base_pkt_out, io.pkt_len) != 0) {
			uint32_t off = 0;
			while (io.pkt_out[off] == io.base_pkt_out[off])
				off++;
			snprintf(f->what, sizeof(f->what),
				 "packet byte %u changed but type %s may not write packets", off,
				 t->d->name);
			f->code = -EACCES;
			return RUN_FAULT;
		}
	}
	return RUN_OK;
}

/* Accepted by bee_verify, loaded and run n_runs (+extra) times: the worst outcome. */
static enum outcome check_runs(const struct prog *p, const struct ptype *t, uint64_t index,
			       unsigned runs, struct fault *f, unsigned *fault_run)
{
	/* bee_cmd_prog_load reads fd_array[imm] for every lddw map[idx:imm],
	 * dead code included, without knowing the array's length: an index
	 * past our array would read (and crash on) host memory.  A core bug
	 * (src/core/prog.c), not the verifier's: such programs are not
	 * loaded, and counted. */
	for (size_t i = 0; i + 1 < p->n; i++)
		if (is_lddw(&p->v[i]) && (p->v[i].src_reg == BPF_PSEUDO_MAP_IDX ||
					  p->v[i].src_reg == BPF_PSEUDO_MAP_IDX_VALUE) &&
		    (p->v[i].imm < 0 || (size_t)p->v[i].imm >= p->n_maps)) {
			snprintf(f->what, sizeof(f->what),
				 "not loaded: lddw map[idx:%d] outside fd_array (%zu maps)", p->v[i].imm,
				 p->n_maps);
			return RUN_LOAD_REFUSED;
		}
	int fd = load_prog(p, NULL, 0);
	if (fd < 0) {
		static char log[4096];
		load_prog(p, log, sizeof(log));
		snprintf(f->what, sizeof(f->what), "BPF_PROG_LOAD failed: %d (%s): %.300s", fd,
			 bee_strerror(fd), log);
		/* The load refuses what bee_verify never looked at, as the
		 * kernel's does before verifying: an lddw naming a map that
		 * cannot give a direct value address in dead code.  Safe. */
		return RUN_LOAD_REFUSED;
	}
	enum outcome worst = RUN_OK;
	for (unsigned k = 0; k < runs; k++) {
		struct fault one = {{0}, 0};
		enum outcome o = run_once(p, t, fd, index, k, &one);
		if (o == RUN_FAULT || o == RUN_HARNESS) {
			*f = one;
			*fault_run = k;
			worst = o;
			break;
		}
		if (o == RUN_LIMIT && worst == RUN_OK) {
			*f = one;
			worst = o;
		}
	}
	bee_close(bee, fd);
	return worst;
}

static bool still_faults(const struct prog *p, const struct ptype *t, uint64_t index)
{
	struct bee_verify_result res;
	if (verify_prog(p, NULL, 0, &res) != 0)
		return false;
	struct fault f;
	unsigned fr;
	return check_runs(p, t, index, n_runs + 5, &f, &fr) == RUN_FAULT;
}

/* Replace instructions by `ja +0` while the fault stays, then drop them. */
static void minimize(struct prog *p, const struct ptype *t, uint64_t index)
{
	for (size_t i = 0; i < p->n; i++) {
		struct bpf_insn save[2] = {p->v[i], i + 1 < p->n ? p->v[i + 1] : p->v[i]};
		bool wide = is_lddw(&p->v[i]) && i + 1 < p->n;
		bool nop = p->v[i].code == (BPF_JMP | BPF_JA) && p->v[i].off == 0;
		if (nop || p->v[i].code == (BPF_JMP | BPF_EXIT))
			continue;
		p->v[i] = mk(BPF_JMP | BPF_JA, 0, 0, 0, 0);
		if (wide)
			p->v[i + 1] = mk(BPF_JMP | BPF_JA, 0, 0, 0, 0);
		if (!still_faults(p, t, index)) {
			p->v[i] = save[0];
			if (wide)
				p->v[i + 1] = save[1];
		}
		if (wide)
			i++;
	}
	struct prog q = *p;
	for (size_t i = q.n; i-- > 0;)
		if (q.v[i].code == (BPF_JMP | BPF_JA) && q.v[i].off == 0 && q.v[i].imm == 0 &&
		    !(i > 0 && is_lddw(&q.v[i - 1])))
			delete_slot(&q, i);
	if (still_faults(&q, t, index))
		*p = q;
}

static FILE *regress_out;

static void print_bug(const struct prog *p, const struct ptype *t, uint64_t index, unsigned run,
		      const struct fault *f)
{
	static char log[LOG_SIZE];
	struct bee_verify_result res;
	verify_prog(p, log, sizeof(log), &res);
	printf("\n==== SOUNDNESS BUG: program %" PRIu64 " (seed %" PRIu64 ", %s), type %s, run %u\n",
	       index, opt_seed, p->origin, t->d->name, run);
	printf("  %s\n", f->what);
	printf("  replay: soundness --seed %" PRIu64 " --first %" PRIu64 " --count 1 --verbose\n",
	       opt_seed, index);
	printf("---- program (%zu insns)\n", p->n);
	struct bee_error e;
	fflush(stdout);
	bee_disasm(p->v, p->n, BEE_SYNTAX_C, BEE_DISASM_INDEX, stdout, &e);
	printf("---- verifier log\n%s\n", log);
	if (do_minimize) {
		struct prog m = *p;
		minimize(&m, t, index);
		printf("---- minimised (%zu insns)\n", m.n);
		fflush(stdout);
		bee_disasm(m.v, m.n, BEE_SYNTAX_C, BEE_DISASM_INDEX, stdout, &e);
		if (regress_out) {
			fprintf(regress_out, "# %s\n# %s\n", p->origin, f->what);
			fprintf(regress_out, "== seed%" PRIu64 "-prog%" PRIu64 "\n-- type %s\n", opt_seed,
				index, t->d->name);
			for (size_t i = 0; i < p->n_maps; i++)
				fprintf(regress_out, "-- map %u %u %u %u\n", p->maps[i].type,
					p->maps[i].key_size, p->maps[i].value_size, p->maps[i].max_entries);
			fprintf(regress_out, "-- asm\n");
			bee_disasm(m.v, m.n, BEE_SYNTAX_C, 0, regress_out, &e);
			fprintf(regress_out, "-- reject \"?\"\n\n");
			fflush(regress_out);
		}
	}
	fflush(stdout);
}

static unsigned max_faults = 20;
/* --known SUBSTR: faults whose message contains it are a bug already
 * reported: counted apart, so that a long run can look for others. */
static const char *known[16];
static unsigned n_known;

/*
 * Every program bee accepts is also loaded into the running kernel (root
 * needed) with the same maps.  A kernel refusal is not a fault by itself
 * (the kernel refuses helpers and forms bee allows, and what bee's runs
 * cannot see, such as leaked pointers, is harmless in a checked run), so
 * disagreements are counted by the kernel's message and the first few
 * printed, for a person to judge.  Programs with callbacks are not
 * compared: the kernel needs BTF for them.
 */
static bool kernel_diff;
static uint64_t k_compared, k_refused, k_printed;
static int k_gen_fds[N_GEN_MAPS];


static int kernel_setup(void)
{
	for (size_t i = 0; i < N_GEN_MAPS; i++) {
		k_gen_fds[i] = kbpf_map_create(gen_map_defs[i].type, gen_map_defs[i].key_size,
					       gen_map_defs[i].value_size,
					       gen_map_defs[i].max_entries, gen_map_defs[i].flags);
		if (k_gen_fds[i] < 0) {
			fprintf(stderr, "--kernel: cannot create kernel map %zu: %s\n", i,
				strerror(-k_gen_fds[i]));
			return -1;
		}
	}
	return 0;
}

static void kernel_compare(const struct prog *p, const int *kfds, uint64_t index)
{
	if (uses_callbacks(p))
		return;
	static char log[1 << 16];
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = p->pt->type_id;
	a.insns = (uint64_t)(uintptr_t)p->v;
	a.insn_cnt = (uint32_t)p->n;
	a.license = (uint64_t)(uintptr_t) "GPL";
	a.prog_flags = p->prog_flags;
	a.expected_attach_type = p->attach;
	a.fd_array = (uint64_t)(uintptr_t)kfds;
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	log[0] = '\0';
	long fd = kbpf_target_bpf(NULL, BPF_PROG_LOAD, &a, sizeof(a));
	k_compared++;
	if (fd >= 0) {
		close((int)fd);
		return;
	}
	k_refused++;
	if (fd == -ENOSPC) { /* the log was too small: the verdict again, without it */
		a.log_buf = 0;
		a.log_size = 0;
		a.log_level = 0;
		log[0] = '\0';
		fd = kbpf_target_bpf(NULL, BPF_PROG_LOAD, &a, sizeof(a));
		if (fd >= 0) {
			close((int)fd);
			k_refused--;
			return;
		}
	}
	/* the kernel's reason: the last line before "processed N insns" that
	 * is neither an instruction, a state dump nor a path note */
	char *end = strstr(log, "\nprocessed ");
	if (!end)
		end = log + strlen(log);
	*end = '\0';
	const char *line = "";
	for (;;) {
		char *nl = strrchr(log, '\n');
		char *l = nl ? nl + 1 : log;
		bool noise = (*l >= '0' && *l <= '9') || strncmp(l, "old state", 9) == 0 ||
			     strncmp(l, "cur state", 9) == 0 || strncmp(l, "from ", 5) == 0 ||
			     *l == ';' || *l == '\0' || strncmp(l, "R0", 2) == 0;
		if (!noise) {
			line = l;
			break;
		}
		if (!nl)
			break;
		*nl = '\0';
	}
	char msg[200];
	snprintf(msg, sizeof(msg), "%s", *line ? line : strerror((int)-fd));
	count_reason(&kernel_reasons, msg);
	if (k_printed++ < 10 || verbose) {
		struct bee_error e;
		printf("\n---- kernel refuses program %" PRIu64 " (%s, %s) that bee accepts: %s\n", index,
		       p->origin, p->pt->name, msg);
		fflush(stdout);
		bee_disasm(p->v, p->n, BEE_SYNTAX_C, BEE_DISASM_INDEX, stdout, &e);
	}
}

/* Verify one program; run it when accepted.  Returns true on a soundness bug. */
static bool check_program(struct prog *p, struct ptype *t, uint64_t index, int kind)
{
	st.generated++;
	st.by_kind[kind]++;
	if (p->overflow || p->n == 0)
		p->n = p->n ? p->n : 1;
	struct bee_verify_result res;
	if (dump) {
		struct bee_error e;
		printf("---- program %" PRIu64 " (%s, %s)\n", index, p->origin, t->d->name);
		fflush(stdout);
		bee_disasm(p->v, p->n, BEE_SYNTAX_C, BEE_DISASM_INDEX, stdout, &e);
	}
	struct timespec v0, v1;
	clock_gettime(CLOCK_MONOTONIC, &v0);
	int err = verify_prog(p, NULL, 0, &res);
	clock_gettime(CLOCK_MONOTONIC, &v1);
	double vsecs = (double)(v1.tv_sec - v0.tv_sec) + (double)(v1.tv_nsec - v0.tv_nsec) / 1e9;
	if (vsecs > st.slowest_verify) {
		st.slowest_verify = vsecs;
		st.slowest_index = index;
	}
	if (vsecs > 2.0)
		printf("note: program %" PRIu64 " (%s) took %.1f s to verify (%s, %" PRIu64
		       " insns processed)\n",
		       index, p->origin, vsecs, err ? res.msg : "accepted", res.processed);
	if (dump)
		printf("     verdict: %s at insn %ld\n", err ? res.msg : "accepted", res.insn);
	if (err) {
		st.rejected++;
		if (err == -ENOTSUP)
			st.unsupported++;
		count_reason(&reasons, res.msg);
		if (verbose)
			printf("%8" PRIu64 " %-9s %-15s reject: %s\n", index,
			       kind == 2 ? "corpus" : kind == 1 ? "gen+mut" : "generated", t->d->name,
			       res.msg);
		return false;
	}
	st.accepted++;
	st.acc_by_kind[kind]++;
	count_features(p);
	struct fault f = {{0}, 0};
	unsigned run = 0;
	enum outcome o = check_runs(p, t, index, n_runs, &f, &run);
	if (verbose)
		printf("%8" PRIu64 " %-9s %-15s accept (%zu insns): %s\n", index,
		       kind == 2 ? "corpus" : kind == 1 ? "gen+mut" : "generated", t->d->name, p->n,
		       o == RUN_OK ? "runs clean" : f.what);
	if (kernel_diff) {
		const int *kfds = k_gen_fds;
		if (p->seed) {
			if (!p->seed->kmade) {
				for (size_t m = 0; m < p->seed->n_maps; m++)
					p->seed->kfds[m] = kbpf_map_create(p->seed->vmaps[m].type, p->seed->vmaps[m].key_size, p->seed->vmaps[m].value_size, p->seed->vmaps[m].max_entries, p->seed->vmaps[m].flags);
				p->seed->kmade = true;
			}
			kfds = p->seed->kfds;
		}
		kernel_compare(p, kfds, index);
	}
	if (o == RUN_LIMIT)
		st.engine_limits++;
	if (o == RUN_LOAD_REFUSED) {
		if (st.load_refused++ < 3 || verbose) {
			printf("note: program %" PRIu64 " accepted by bee_verify, refused by the load: %s\n",
			       index, f.what);
			struct bee_error e;
			fflush(stdout);
			bee_disasm(p->v, p->n, BEE_SYNTAX_C, BEE_DISASM_INDEX, stdout, &e);
		}
		return false;
	}
	if (o == RUN_HARNESS) {
		if (st.harness_errors++ < 5)
			fprintf(stderr, "harness error on program %" PRIu64 " (%s): %s\n", index,
				p->origin, f.what);
		return false;
	}
	if (o != RUN_FAULT)
		return false;
	for (unsigned i = 0; i < n_known; i++)
		if (strstr(f.what, known[i])) {
			st.known_faults++;
			return false;
		}
	st.faults++;
	if (st.faults <= max_faults)
		print_bug(p, t, index, run, &f);
	return true;
}

/* Program index of the seed: what it is, deterministically. */
static void make_program(uint64_t index, struct prog *p, struct ptype **t, int *kind)
{
	struct rng r;
	rng_seed(&r, opt_seed, index, 0);
	unsigned k = below(&r, 100);
	if (opt_kind >= 0)
		k = opt_kind == 0 ? 0 : opt_kind == 1 ? 50 : 99;
	if (k >= 65 && n_seeds) {
		size_t i = chance(&r, 80) && n_seeds_accept ? below(&r, (uint32_t)n_seeds_accept)
							      : below(&r, (uint32_t)n_seeds);
		from_seed(p, &seeds[i]);
		*t = seeds[i].t;
		mutate(&r, p);
		*kind = 2;
		return;
	}
	*t = pick_ptype(&r);
	generate(&r, p, *t);
	*kind = 0;
	if (k >= 40) {
		mutate(&r, p);
		*kind = 1;
		snprintf(p->origin + strlen(p->origin), sizeof(p->origin) - strlen(p->origin),
			 " mutated");
	}
}

/* ---- regressions ----------------------------------------------------------------- */

static int check_regressions(const char *path)
{
	struct vcorpus c = {0};
	vdata_parse_path(&c, path);
	if (c.errors)
		return 1;
	unsigned bad = 0, accepted = 0;
	static struct prog p;
	for (size_t i = 0; i < c.n; i++) {
		struct vtest *t = &c.tests[i];
		struct ptype *pt = ptype_of(t->prog_type, t->has_attach_type ? t->attach_type : 0);
		if (!pt)
			continue;
		struct bpf_insn *insns;
		size_t n;
		struct bee_error e;
		if (bee_asm(t->asm_text, &insns, &n, &e) < 0 || n > MAX_INSNS) {
			fprintf(stderr, "%s: %s: cannot assemble: %s\n", path, t->name, e.msg);
			bad++;
			continue;
		}
		static struct seed s;
		memset(&s, 0, sizeof(s));
		for (unsigned m = 0; m < t->n_maps; m++) {
			s.fds[m] = create_map(&t->maps[m]);
			s.maps[m] = (struct bee_verify_map){.type = t->maps[m].type,
							    .key_size = t->maps[m].key_size,
							    .value_size = t->maps[m].value_size,
							    .max_entries = t->maps[m].max_entries,
								     .map_flags = t->maps[m].flags};
		}
		s.n_maps = t->n_maps;
		s.insns = insns;
		s.n = n;
		s.t = pt;
		s.attach = t->has_attach_type ? t->attach_type : pt->attach;
		s.prog_flags = t->prog_flags;
		s.name = t->name;
		s.btf = t->btf;
		from_seed(&p, &s);
		snprintf(p.origin, sizeof(p.origin), "regression %s", t->name);
		struct bee_verify_result res;
		if (verify_prog(&p, NULL, 0, &res) == 0) {
			accepted++;
			struct fault f;
			unsigned run;
			if (check_runs(&p, pt, i, 20, &f, &run) == RUN_FAULT) {
				printf("REGRESSION %s: accepted and faults: %s\n", t->name, f.what);
				bad++;
			}
		}
		for (unsigned m = 0; m < t->n_maps; m++)
			if (s.fds[m] >= 0)
				bee_close(bee, s.fds[m]);
		free(insns);
	}
	printf("regressions: %zu programs, %u accepted by bee, %u fault\n", c.n, accepted, bad);
	vdata_free(&c);
	return bad ? 1 : 0;
}

/* ---- main ----------------------------------------------------------------------- */

static int setup(bool rdonly)
{
	struct bee_opts o = {.sz = sizeof(o), .ncpus = 2}; /* default: every run checked */
	bee = bee_new(&o);
	verify_helpers = bee_helper_table_new();
	if (!bee || !verify_helpers || bee_helper_table_add_builtins(verify_helpers) < 0 ||
	    bee_core_add_helpers(verify_helpers) < 0) {
		fprintf(stderr, "cannot create the instance\n");
		return -1;
	}
	if (sound_wrap_helpers(bee, verify_helpers) < 0) {
		fprintf(stderr, "cannot wrap helpers\n");
		return -1;
	}
	if (rdonly)
		n_gen_maps = N_GEN_MAPS;
	for (size_t i = 0; i < N_GEN_MAPS; i++) {
		gen_fds[i] = create_map(&gen_map_defs[i]);
		if (gen_fds[i] < 0) {
			fprintf(stderr, "cannot create map %zu: %d\n", i, gen_fds[i]);
			return -1;
		}
		gen_vmaps[i] = (struct bee_verify_map){.type = gen_map_defs[i].type,
						       .key_size = gen_map_defs[i].key_size,
						       .value_size = gen_map_defs[i].value_size,
						       .max_entries = gen_map_defs[i].max_entries,
						       .map_flags = gen_map_defs[i].flags};
	}
	static const struct bpf_insn ret0[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	for (size_t i = 0; i < N_PTYPES; i++) {
		struct ptype *t = &ptypes[i];
		t->d = bee_prog_type_builtin(t->id);
		if (!t->d)
			continue;
		for (size_t f = 0; f < t->d->n_fields; f++) {
			if (t->d->fields[f].kind == BEE_CTX_PTR_PACKET)
				t->pkt_off = (int)t->d->fields[f].off;
			if (t->d->fields[f].kind == BEE_CTX_PTR_PACKET_END)
				t->pkt_end_off = (int)t->d->fields[f].off;
		}
		if (t->pkt_end_off < 0)
			t->pkt_off = -1;
		struct bee_prog_load_opts lo = {.sz = sizeof(lo), .expected_attach_type = t->attach,
						.prog_flags = t->id == BPF_PROG_TYPE_SYSCALL ? BPF_F_SLEEPABLE : 0};
		t->baseline_fd = bee_prog_load(bee, (enum bpf_prog_type)t->id, "base", "GPL", ret0, 2, &lo);
		ptype_weight_total += t->weight;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t count = 1000, first = 0;
	const char *corpus = BEE_VERIFIER_CORPUS_DIR, *regressions = NULL, *save = NULL;
	bool rdonly = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has = i + 1 < argc;
		if (strcmp(a, "--seed") == 0 && has)
			opt_seed = strtoull(argv[++i], NULL, 0);
		else if (strcmp(a, "--count") == 0 && has)
			count = strtoull(argv[++i], NULL, 0);
		else if (strcmp(a, "--first") == 0 && has)
			first = strtoull(argv[++i], NULL, 0);
		else if (strcmp(a, "--runs") == 0 && has)
			n_runs = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (strcmp(a, "--corpus") == 0 && has)
			corpus = argv[++i];
		else if (strcmp(a, "--no-corpus") == 0)
			corpus = NULL;
		else if (strcmp(a, "--max-faults") == 0 && has)
			max_faults = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (strcmp(a, "--regressions") == 0 && has)
			regressions = argv[++i];
		else if (strcmp(a, "--save") == 0 && has)
			save = argv[++i];
		else if (strcmp(a, "--known") == 0 && has && n_known < 16)
			known[n_known++] = argv[++i];
		else if (strcmp(a, "--kind") == 0 && has)
			opt_kind = atoi(argv[++i]);
		else if (strcmp(a, "--kernel") == 0)
			kernel_diff = true;
		else if (strcmp(a, "--rdonly") == 0)
			rdonly = true;
		else if (strcmp(a, "--no-minimize") == 0)
			do_minimize = false;
		else if (strcmp(a, "--dump") == 0)
			dump = verbose = true;
		else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0)
			verbose = true;
		else {
			fprintf(stderr,
				"usage: %s [--seed N] [--count N] [--first K] [--runs R] [--corpus DIR | "
				"--no-corpus] [--rdonly] [--max-faults N] [--no-minimize] [--save FILE] "
				"[--regressions FILE] [--kind 0|1|2] [--known SUBSTR] [--kernel] [--verbose] [--dump]\n",
				argv[0]);
			return 2;
		}
	}
	if (verbose) /* each line out before a sanitizer's report stops the process */
		setvbuf(stdout, NULL, _IOLBF, 0);
	if (setup(rdonly) < 0)
		return 1;
	if (regressions)
		return check_regressions(regressions);
	if (save) {
		regress_out = fopen(save, "a");
		if (!regress_out) {
			perror(save);
			return 1;
		}
	}
	if (kernel_diff && kernel_setup() < 0)
		return 77;
	if (corpus)
		load_corpus(corpus);
	printf("soundness: seed %" PRIu64 ", programs %" PRIu64 "..%" PRIu64 ", %u runs each, "
	       "%zu corpus seeds (%zu labelled accept)\n",
	       opt_seed, first, first + count - 1, n_runs, n_seeds, n_seeds_accept);
	fflush(stdout);
	static struct prog p;
	struct timespec t0, t1, tp;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	tp = t0;
	for (uint64_t i = first; i < first + count; i++) {
		struct ptype *t;
		int kind;
		make_program(i, &p, &t, &kind);
		check_program(&p, t, i, kind);
		if ((i - first + 1) % 100000 == 0) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
			printf("  %" PRIu64 " programs, %" PRIu64 " accepted, %" PRIu64 " runs, %" PRIu64
			       " faults, %.0f s\n",
			       st.generated, st.accepted, st.runs, st.faults, s);
			fflush(stdout);
			tp = t1;
		}
	}
	(void)tp;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	qsort(reasons.v, N_REASON_SLOTS, sizeof(reasons.v[0]), cmp_reason);
	printf("\nprograms: %" PRIu64 " (generated %" PRIu64 ", generated+mutated %" PRIu64
	       ", corpus mutated %" PRIu64 ")\n",
	       st.generated, st.by_kind[0], st.by_kind[1], st.by_kind[2]);
	printf("accepted: %" PRIu64 " (%.1f%%; generated %" PRIu64 ", generated+mutated %" PRIu64
	       ", corpus mutated %" PRIu64 ")\n",
	       st.accepted, st.generated ? 100.0 * (double)st.accepted / (double)st.generated : 0.0,
	       st.acc_by_kind[0], st.acc_by_kind[1], st.acc_by_kind[2]);
	printf("accepted programs with:");
	for (int k = 0; k < N_FEATURES; k++)
		printf("%s %s %" PRIu64, k ? "," : "", feature_names[k], features[k]);
	printf("\n");
	printf("rejected: %" PRIu64 " (%" PRIu64 " as not supported yet); top reasons:\n", st.rejected,
	       st.unsupported);
	for (unsigned i = 0; i < 25 && i < N_REASON_SLOTS && reasons.v[i].msg; i++)
		printf("  %9" PRIu64 "  %s\n", reasons.v[i].count, reasons.v[i].msg);
	printf("runs: %" PRIu64 ", faults (soundness bugs): %" PRIu64 ", engine limits (filtered): %" PRIu64
	       ", harness errors: %" PRIu64 "\n",
	       st.runs, st.faults, st.engine_limits, st.harness_errors);
	if (n_known)
		printf("faults matching --known (not counted): %" PRIu64 "\n", st.known_faults);
	printf("accepted by bee_verify but refused by BPF_PROG_LOAD (not run): %" PRIu64 "\n",
	       st.load_refused);
	if (kernel_diff) {
		qsort(kernel_reasons.v, N_REASON_SLOTS, sizeof(kernel_reasons.v[0]), cmp_reason);
		printf("kernel: %" PRIu64 " of bee's accepts compared, %" PRIu64 " refused; top kernel "
		       "messages:\n",
		       k_compared, k_refused);
		for (unsigned i = 0; i < 25 && kernel_reasons.v[i].msg; i++)
			printf("  %9" PRIu64 "  %s\n", kernel_reasons.v[i].count, kernel_reasons.v[i].msg);
	}
	printf("slowest verification: %.3f s (program %" PRIu64 ")\n", st.slowest_verify,
	       st.slowest_index);
	printf("time: %.1f s, %.0f programs/s\n", secs, secs > 0 ? (double)st.generated / secs : 0.0);
	if (regress_out)
		fclose(regress_out);
	for (size_t i = 0; i < n_seeds; i++) {
		free(seeds[i].insns);
		free((char *)seeds[i].name);
	}
	free(seeds);
	for (unsigned i = 0; i < N_REASON_SLOTS; i++) {
		free(reasons.v[i].msg);
		free(kernel_reasons.v[i].msg);
	}
	bee_free(bee);
	bee_helper_table_free(verify_helpers);
	return st.faults || st.harness_errors ? 1 : 0;
}
