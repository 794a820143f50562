/*
 * bench_verify.c - how long bee's verifier takes to prove large programs
 * safe, against the kernel's own verifier on the same bytes in the same
 * run (issue 6: "bee is no slower; a program that hits the complexity
 * limit is refused within 2 seconds").
 *
 *   taskset -c 1 bench_verify [--runs N] [--only NAME] [--verbose]
 *
 * The programs are generated here, deterministically (a fixed xorshift
 * seed), each a few thousand instructions shaped like code a compiler
 * emits for real filters: context loads and forward branches, map lookups
 * with null checks, bounded loops, if/else chains, packet parsing with
 * data/data_end checks, and one loop the verifier cannot bound.
 *
 * Kernel side: BPF_PROG_LOAD at log_level BPF_LOG_STATS (4), which makes
 * the kernel print its own measure ("verification time N usec", ktime
 * around bpf_check) and its counters ("processed N insns ... total_states
 * N peak_states N") without the per-instruction trace of level 1, whose
 * printing would dominate the time.  Maps are created with
 * BPF_MAP_CREATE and referenced as BPF_PSEUDO_MAP_FD with the real fd.
 *
 * bee side: bee_verify() at log_level 4 (the refusal and the statistics)
 * on the same instructions, maps given through opts.maps and referenced
 * as BPF_PSEUDO_MAP_IDX (the generator writes map index N; the two
 * encodings are derived from that one source).  Timed with CLOCK_MONOTONIC
 * around the call, as the kernel takes ktime around its own.
 *
 * Each column is the median of --runs rounds; within a round the kernel
 * and bee alternate.  Pin to one CPU (taskset -c 1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "bee/progtype.h"
#include "bee/vm.h"
#include "core/core.h"
#include "kbpf.h"
#include "kbpf_bench.h"
#include "verify/verify.h"

#define KLOG_SIZE (1u << 20)
#define KLOG_STATS 4 /* BPF_LOG_STATS (kernel-internal name) */
#define BLOG_SIZE (64u << 10)
#define MAX_MAPS 4

/* ---- a growing program with forward and backward jumps ------------------- */

struct gen {
	struct bpf_insn *v;
	size_t n, cap;
	bool bad; /* out of memory or a jump out of int16 range */
	uint64_t seed;
};

static void emit(struct gen *g, struct bpf_insn i)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 1024;
		struct bpf_insn *v = realloc(g->v, cap * sizeof(*v));
		if (!v) {
			g->bad = true;
			return;
		}
		g->v = v;
		g->cap = cap;
	}
	g->v[g->n++] = i;
}

/* Emit a jump whose target is not known yet; land() fixes it. */
static size_t fwd(struct gen *g, struct bpf_insn j)
{
	emit(g, j);
	return g->n - 1;
}

/* The jump emitted at `at` goes to the next instruction emitted. */
static void land(struct gen *g, size_t at)
{
	long off = (long)g->n - (long)at - 1;
	if (g->bad || at >= g->n || off > INT16_MAX)
		g->bad = true;
	else
		g->v[at].off = (int16_t)off;
}

/* A jump to an earlier position. */
static void back(struct gen *g, struct bpf_insn j, size_t target)
{
	j.off = (int16_t)((long)target - (long)g->n - 1);
	emit(g, j);
}

/* r<dst> = map[idx:N] ll: map index N; the kernel copy gets the fd. */
static void ld_map(struct gen *g, uint8_t dst, int idx)
{
	emit(g, kb_insn(BPF_LD | BPF_IMM | BPF_DW, dst, BPF_PSEUDO_MAP_IDX, 0, idx));
	emit(g, kb_insn(0, 0, 0, 0, 0));
}

static void call(struct gen *g, int32_t helper)
{
	emit(g, kb_insn(BPF_JMP | BPF_CALL, 0, 0, 0, helper));
}

/* Deterministic pseudo-random numbers (xorshift64). */
static uint32_t rnd(struct gen *g)
{
	g->seed ^= g->seed << 13;
	g->seed ^= g->seed >> 7;
	g->seed ^= g->seed << 17;
	return (uint32_t)(g->seed >> 16);
}

#define SKB_OFF(f) ((int16_t)offsetof(struct __sk_buff, f))

/* __sk_buff fields a socket filter may read (u32 each). */
static const int16_t skb_fields[] = {
	SKB_OFF(len),	   SKB_OFF(pkt_type), SKB_OFF(mark),	     SKB_OFF(queue_mapping),
	SKB_OFF(protocol), SKB_OFF(vlan_tci), SKB_OFF(vlan_proto),   SKB_OFF(priority),
	SKB_OFF(ifindex),  SKB_OFF(hash),     SKB_OFF(ingress_ifindex), SKB_OFF(napi_id),
};
#define N_SKB_FIELDS (sizeof(skb_fields) / sizeof(skb_fields[0]))

/* ---- the programs -------------------------------------------------------- */

struct bench_map {
	enum bpf_map_type type;
	uint32_t key_size, value_size, max_entries;
};

struct prog_spec {
	const char *name;
	const char *what;
	enum bpf_prog_type type;
	void (*gen)(struct gen *g);
	struct bench_map maps[MAX_MAPS];
	unsigned n_maps;
	bool expect_refusal; /* the complexity-limit program */
};

/*
 * straight: a classifier's feature computation.  Each block reads an
 * __sk_buff field, loads an accumulator from the stack, and adds the
 * field into it only when the field is below a threshold; the paths meet
 * again after the block and the accumulator goes back to the stack.  ~460
 * such joins on unknown values: the kernel prunes the second path at each
 * join (the differing scalars are not precise), without pruning the paths
 * double at every block.
 */
static void gen_straight(struct gen *g)
{
	emit(g, KB_MOV64_REG(BPF_REG_6, BPF_REG_1));
	emit(g, KB_MOV64_IMM(BPF_REG_7, 0));
	emit(g, KB_MOV64_IMM(BPF_REG_8, 0));
	for (int s = 1; s <= 8; s++)
		emit(g, KB_ST(BPF_DW, BPF_REG_10, (int16_t)(-8 * s), 0));
	for (unsigned b = 0; g->n < 4200; b++) {
		int16_t slot = (int16_t)(-8 * (1 + (int)(b % 8)));
		emit(g, KB_LDX(BPF_W, BPF_REG_2, BPF_REG_6, skb_fields[b % N_SKB_FIELDS]));
		emit(g, KB_LDX(BPF_DW, BPF_REG_3, BPF_REG_10, slot));
		size_t j = fwd(g, KB_JMP_IMM(BPF_JGT, BPF_REG_2, (int32_t)(rnd(g) & 0xffff), 0));
		emit(g, KB_ALU64_REG(BPF_ADD, BPF_REG_3, BPF_REG_2));
		emit(g, KB_ALU64_IMM(BPF_XOR, BPF_REG_3, (int32_t)(rnd(g) & 0x7fffffff)));
		emit(g, KB_ALU64_IMM(BPF_ADD, BPF_REG_7, 1));
		land(g, j);
		emit(g, KB_ALU64_IMM(BPF_LSH, BPF_REG_3, 1));
		emit(g, KB_STX(BPF_DW, BPF_REG_10, BPF_REG_3, slot));
		emit(g, KB_ALU64_REG(BPF_ADD, BPF_REG_8, BPF_REG_2));
	}
	emit(g, KB_MOV64_REG(BPF_REG_0, BPF_REG_7));
	emit(g, KB_ALU64_REG(BPF_ADD, BPF_REG_0, BPF_REG_8));
	emit(g, KB_EXIT());
}

/*
 * maps: per-field statistics kept in two maps.  Each block looks up a
 * fixed slot of an array map (null check: give up), reads a counter from
 * the value, bounds it to pick one of its 8 u64 cells, adds to that cell;
 * then looks a __sk_buff field up in a hash map (missing: insert it and
 * give up) and bumps its count.  Every null check leaves by an exit, as
 * "if (!v) return 0;" does.  Two encodings of the map arguments: reloaded
 * with lddw before each call (what clang emits: "maps"), or loaded once
 * into r8/r9 ("maps-r89").
 */
static void map_arg(struct gen *g, int idx, bool hoisted)
{
	if (hoisted)
		emit(g, KB_MOV64_REG(BPF_REG_1, idx ? BPF_REG_9 : BPF_REG_8));
	else
		ld_map(g, BPF_REG_1, idx);
}

static void gen_maps_common(struct gen *g, bool hoisted)
{
	emit(g, KB_MOV64_REG(BPF_REG_6, BPF_REG_1));
	emit(g, KB_MOV64_IMM(BPF_REG_7, 0));
	if (hoisted) {
		ld_map(g, BPF_REG_8, 0);
		ld_map(g, BPF_REG_9, 1);
	}
	for (unsigned b = 0; g->n < 4000; b++) {
		/* v = array[b % 16]; if (!v) return 0; */
		emit(g, KB_ST(BPF_W, BPF_REG_10, -4, (int32_t)(b % 16)));
		emit(g, KB_MOV64_REG(BPF_REG_2, BPF_REG_10));
		emit(g, KB_ALU64_IMM(BPF_ADD, BPF_REG_2, -4));
		map_arg(g, 0, hoisted);
		call(g, BPF_FUNC_map_lookup_elem);
		size_t n1 = fwd(g, KB_JMP_IMM(BPF_JNE, BPF_REG_0, 0, 0));
		emit(g, KB_MOV64_IMM(BPF_REG_0, 0));
		emit(g, KB_EXIT());
		land(g, n1);
		/* i = v->sel & 7; v->cell[i] += r7 */
		emit(g, KB_LDX(BPF_W, BPF_REG_1, BPF_REG_0, 0));
		emit(g, KB_ALU64_IMM(BPF_AND, BPF_REG_1, 7));
		emit(g, KB_ALU64_IMM(BPF_LSH, BPF_REG_1, 3));
		emit(g, KB_ALU64_REG(BPF_ADD, BPF_REG_0, BPF_REG_1));
		emit(g, KB_LDX(BPF_DW, BPF_REG_2, BPF_REG_0, 0));
		emit(g, KB_ALU64_REG(BPF_ADD, BPF_REG_2, BPF_REG_7));
		emit(g, KB_STX(BPF_DW, BPF_REG_0, BPF_REG_2, 0));
		emit(g, KB_ALU64_REG(BPF_ADD, BPF_REG_7, BPF_REG_2));
		/* key = skb->field; c = hash[key]; if (!c) { insert; return 0; } c->n++ */
		emit(g, KB_LDX(BPF_W, BPF_REG_1, BPF_REG_6, skb_fields[b % N_SKB_FIELDS]));
		emit(g, KB_STX(BPF_W, BPF_REG_10, BPF_REG_1, -8));
		emit(g, KB_MOV64_REG(BPF_REG_2, BPF_REG_10));
		emit(g, KB_ALU64_IMM(BPF_ADD, BPF_REG_2, -8));
		map_arg(g, 1, hoisted);
		call(g, BPF_FUNC_map_lookup_elem);
		size_t n2 = fwd(g, KB_JMP_IMM(BPF_JNE, BPF_REG_0, 0, 0));
		emit(g, KB_ST(BPF_DW, BPF_REG_10, -24, 1));
		emit(g, KB_ST(BPF_DW, BPF_REG_10, -16, 0));
		emit(g, KB_MOV64_REG(BPF_REG_2, BPF_REG_10));
		emit(g, KB_ALU64_IMM(BPF_ADD, BPF_REG_2, -8));
		emit(g, KB_MOV64_REG(BPF_REG_3, BPF_REG_10));
		emit(g, KB_ALU64_IMM(BPF_ADD, BPF_REG_3, -24));
		emit(g, KB_MOV64_IMM(BPF_REG_4, BPF_NOEXIST));
		map_arg(g, 1, hoisted);
		call(g, BPF_FUNC_map_update_elem);
		emit(g, KB_MOV64_IMM(BPF_REG_0, 0));
		emit(g, KB_EXIT());
		land(g, n2);
		emit(g, KB_LDX(BPF_DW, BPF_REG_1, BPF_REG_0, 0));
		emit(g, KB_ALU64_IMM(BPF_ADD, BPF_REG_1, 1));
		emit(g, KB_STX(BPF_DW, BPF_REG_0, BPF_REG_1, 0));
		emit(g, KB_LDX(BPF_DW, BPF_REG_1, BPF_REG_0, 8));
		emit(g, KB_ALU64_REG(BPF_ADD, BPF_REG_1, BPF_REG_7));
		emit(g, KB_STX(BPF_DW, BPF_REG_0, BPF_REG_1, 8));
	}
	emit(g, KB_MOV64_REG(BPF_REG_0, BPF_REG_7));
	emit(g, KB_EXIT());
}

/* The form clang emits: "r1 = map ll" again before every helper call. */
static void gen_maps(struct gen *g)
{
	gen_maps_common(g, false);
}

/* The same with both map pointers loaded once, kept in r8 and r9. */
static void gen_maps_hoisted(struct gen *g)
{
	gen_maps_common(g, true);
}

/*
 * loops: eight hashing loops in sequence, each "for (i = 0; i < 16; i++)"
 * over a 16-slot u64 table on the stack with an unrolled mixing body of
 * ~170 instructions whose branches test the counter (decided on every
 * iteration: i & 1, i == 0, i < 8) and an early exit on an unknown value.
 */
static void gen_loops(struct gen *g)
{
	emit(g, KB_MOV64_REG(BPF_REG_6, BPF_REG_1));
	for (int s = 1; s <= 16; s++)
		emit(g, KB_ST(BPF_DW, BPF_REG_10, (int16_t)(-8 * s), (int32_t)(rnd(g) & 0xffffff)));
	emit(g, KB_LDX(BPF_W, BPF_REG_7, BPF_REG_6, SKB_OFF(hash)));
	for (int l = 0; l < 8; l++) {
		emit(g, KB_MOV64_IMM(BPF_REG_9, 0));
		size_t top = g->n;
		/* r3 = &table[i]: the stack pointer plus the (known) counter */
		emit(g, KB_MOV64_REG(BPF_REG_3, BPF_REG_9));
		emit(g, KB_ALU64_IMM(BPF_LSH, BPF_REG_3, 3));
		emit(g, KB_ALU64_REG(BPF_ADD, BPF_REG_3, BPF_REG_10));
		emit(g, KB_ALU64_IMM(BPF_ADD, BPF_REG_3, -128));
		emit(g, KB_LDX(BPF_DW, BPF_REG_4, BPF_REG_3, 0));
		for (int k = 0; k < 40; k++) {
			switch (rnd(g) % 4) {
			case 0: { /* if (i & bit) mix */
				size_t j = fwd(g, kb_insn(BPF_JMP | BPF_JSET | BPF_K, BPF_REG_9, 0, 0,
							  1 << (rnd(g) % 4)));
				emit(g, KB_ALU64_IMM(BPF_XOR, BPF_REG_4, (int32_t)rnd(g)));
				emit(g, KB_ALU64_IMM(BPF_MUL, BPF_REG_4, (int32_t)(rnd(g) | 1)));
				land(g, j);
				break;
			}
			case 1: { /* if (i < K) ... else ... */
				size_t j = fwd(g, KB_JMP_IMM(BPF_JLT, BPF_REG_9, (int32_t)(rnd(g) % 16), 0));
				emit(g, KB_ALU64_IMM(BPF_RSH, BPF_REG_4, 7));
				size_t j2 = fwd(g, KB_JA(0));
				land(g, j);
				emit(g, KB_ALU64_IMM(BPF_LSH, BPF_REG_4, 5));
				land(g, j2);
				break;
			}
			case 2: /* mix with the unknown seed */
				emit(g, KB_ALU64_REG(BPF_XOR, BPF_REG_4, BPF_REG_7));
				emit(g, KB_MOV64_REG(BPF_REG_5, BPF_REG_4));
				emit(g, KB_ALU64_IMM(BPF_RSH, BPF_REG_5, 29));
				emit(g, KB_ALU64_REG(BPF_XOR, BPF_REG_4, BPF_REG_5));
				emit(g, KB_ALU64_IMM(BPF_MUL, BPF_REG_4, (int32_t)(rnd(g) | 1)));
				emit(g, KB_ALU64_REG(BPF_ADD, BPF_REG_7, BPF_REG_4));
				break;
			default: /* a neighbour cell, on the known counter */
				emit(g, KB_LDX(BPF_DW, BPF_REG_5, BPF_REG_3, 0));
				emit(g, KB_ALU64_REG(BPF_ADD, BPF_REG_4, BPF_REG_5));
				emit(g, KB_ALU64_IMM(BPF_ADD, BPF_REG_4, (int32_t)rnd(g)));
				break;
			}
		}
		emit(g, KB_STX(BPF_DW, BPF_REG_3, BPF_REG_4, 0));
		/* an early exit on an unknown: if (skb->len == magic) return 1 */
		emit(g, KB_LDX(BPF_W, BPF_REG_5, BPF_REG_6, SKB_OFF(len)));
		size_t j = fwd(g, KB_JMP_IMM(BPF_JNE, BPF_REG_5, 0x7fff0000 + l, 0));
		emit(g, KB_MOV64_IMM(BPF_REG_0, 1));
		emit(g, KB_EXIT());
		land(g, j);
		emit(g, KB_ALU64_IMM(BPF_ADD, BPF_REG_9, 1));
		back(g, KB_JMP_IMM(BPF_JLT, BPF_REG_9, 16, 0), top);
	}
	emit(g, KB_MOV64_REG(BPF_REG_0, BPF_REG_7));
	emit(g, KB_EXIT());
}

/*
 * minmax: "for (i = 0; i < 24; i++) { v = val->x[i]; if (v > max) max =
 * v; if (v < min) min = v; }" over a map value, four such loops.  The
 * kernel prunes each if's second path at the join (min and max are not
 * precise); a verifier without that explores 4^24 paths per loop.
 */
static void gen_minmax(struct gen *g)
{
	emit(g, KB_MOV64_REG(BPF_REG_6, BPF_REG_1));
	emit(g, KB_ST(BPF_W, BPF_REG_10, -4, 0));
	emit(g, KB_MOV64_REG(BPF_REG_2, BPF_REG_10));
	emit(g, KB_ALU64_IMM(BPF_ADD, BPF_REG_2, -4));
	ld_map(g, BPF_REG_1, 0);
	call(g, BPF_FUNC_map_lookup_elem);
	size_t nn = fwd(g, KB_JMP_IMM(BPF_JNE, BPF_REG_0, 0, 0));
	emit(g, KB_EXIT());
	land(g, nn);
	emit(g, KB_MOV64_REG(BPF_REG_6, BPF_REG_0));
	emit(g, KB_MOV64_IMM(BPF_REG_7, 0));
	for (int l = 0; l < 4; l++) {
		emit(g, KB_MOV64_IMM(BPF_REG_8, 0));	    /* max */
		emit(g, KB_MOV64_IMM(BPF_REG_9, -1));	    /* min */
		emit(g, KB_ALU64_IMM(BPF_RSH, BPF_REG_9, 1)); /* INT64_MAX */
		emit(g, KB_MOV64_IMM(BPF_REG_1, 0));
		size_t top = g->n;
		emit(g, KB_MOV64_REG(BPF_REG_3, BPF_REG_1));
		emit(g, KB_ALU64_IMM(BPF_LSH, BPF_REG_3, 3));
		emit(g, KB_ALU64_REG(BPF_ADD, BPF_REG_3, BPF_REG_6));
		emit(g, KB_LDX(BPF_DW, BPF_REG_2, BPF_REG_3, 0));
		size_t a = fwd(g, KB_JMP_REG(BPF_JSLE, BPF_REG_2, BPF_REG_8, 0));
		emit(g, KB_MOV64_REG(BPF_REG_8, BPF_REG_2));
		land(g, a);
		size_t b = fwd(g, KB_JMP_REG(BPF_JSGE, BPF_REG_2, BPF_REG_9, 0));
		emit(g, KB_MOV64_REG(BPF_REG_9, BPF_REG_2));
		land(g, b);
		emit(g, KB_ALU64_IMM(BPF_ADD, BPF_REG_1, 1));
		back(g, KB_JMP_IMM(BPF_JLT, BPF_REG_1, 24, 0), top);
		emit(g, KB_ALU64_REG(BPF_SUB, BPF_REG_8, BPF_REG_9));
		emit(g, KB_ALU64_REG(BPF_ADD, BPF_REG_7, BPF_REG_8));
		emit(g, KB_STX(BPF_DW, BPF_REG_6, BPF_REG_7, 192 + 8 * l));
	}
	emit(g, KB_MOV64_IMM(BPF_REG_0, 0));
	emit(g, KB_EXIT());
}

/*
 * diamonds: a chain of 320 if/else on __sk_buff fields, each side
 * computing a different contribution to an accumulator, joined after:
 * 2^320 paths, that only pruning at the joins keeps linear.
 */
static void gen_diamonds(struct gen *g)
{
	emit(g, KB_MOV64_REG(BPF_REG_6, BPF_REG_1));
	emit(g, KB_MOV64_IMM(BPF_REG_7, 0));
	for (unsigned d = 0; d < 320; d++) {
		emit(g, KB_LDX(BPF_W, BPF_REG_2, BPF_REG_6, skb_fields[d % N_SKB_FIELDS]));
		size_t e = fwd(g, KB_JMP_IMM(BPF_JGT, BPF_REG_2, (int32_t)(rnd(g) & 0xfff), 0));
		emit(g, KB_MOV64_REG(BPF_REG_3, BPF_REG_2));
		emit(g, KB_ALU64_IMM(BPF_MUL, BPF_REG_3, (int32_t)(rnd(g) & 0xff)));
		emit(g, KB_ALU64_REG(BPF_ADD, BPF_REG_7, BPF_REG_3));
		size_t j = fwd(g, KB_JA(0));
		land(g, e);
		emit(g, KB_MOV64_REG(BPF_REG_3, BPF_REG_2));
		emit(g, KB_ALU64_IMM(BPF_RSH, BPF_REG_3, (int32_t)(rnd(g) % 8)));
		emit(g, KB_ALU64_REG(BPF_XOR, BPF_REG_7, BPF_REG_3));
		land(g, j);
	}
	emit(g, KB_MOV64_REG(BPF_REG_0, BPF_REG_7));
	emit(g, KB_EXIT());
}

/*
 * packet: an XDP firewall.  Parses Ethernet, an optional 802.1Q tag,
 * IPv4 (variable header length) or IPv6, then TCP or UDP ports with
 * data/data_end checks, and dispatches on the destination port as a
 * compiler lowers a switch: a chain of "if dport == P goto case_P", each
 * case reading more of the packet (checked again), matching the source
 * address against a prefix and returning its verdict.
 */
#define XDP_OFF(f) ((int16_t)offsetof(struct xdp_md, f))

static void packet_drop(struct gen *g, size_t *fix, size_t *n_fix, struct bpf_insn j)
{
	fix[(*n_fix)++] = fwd(g, j);
}

static void gen_packet(struct gen *g)
{
	size_t pass[4096], n_pass = 0;
	size_t drop[64], n_drop = 0;

	emit(g, KB_MOV64_REG(BPF_REG_6, BPF_REG_1));
	emit(g, KB_LDX(BPF_W, BPF_REG_2, BPF_REG_6, XDP_OFF(data)));
	emit(g, KB_LDX(BPF_W, BPF_REG_3, BPF_REG_6, XDP_OFF(data_end)));
	/* Ethernet */
	emit(g, KB_MOV64_REG(BPF_REG_4, BPF_REG_2));
	emit(g, KB_ALU64_IMM(BPF_ADD, BPF_REG_4, 14));
	packet_drop(g, pass, &n_pass, KB_JMP_REG(BPF_JGT, BPF_REG_4, BPF_REG_3, 0));
	emit(g, KB_LDX(BPF_H, BPF_REG_5, BPF_REG_2, 12));
	/* 802.1Q: skip the tag, r2 then points 4 bytes further */
	size_t novlan = fwd(g, KB_JMP_IMM(BPF_JNE, BPF_REG_5, 0x0081, 0));
	emit(g, KB_MOV64_REG(BPF_REG_4, BPF_REG_2));
	emit(g, KB_ALU64_IMM(BPF_ADD, BPF_REG_4, 18));
	packet_drop(g, pass, &n_pass, KB_JMP_REG(BPF_JGT, BPF_REG_4, BPF_REG_3, 0));
	emit(g, KB_LDX(BPF_H, BPF_REG_5, BPF_REG_2, 16));
	emit(g, KB_ALU64_IMM(BPF_ADD, BPF_REG_2, 4));
	land(g, novlan);
	size_t v6 = fwd(g, KB_JMP_IMM(BPF_JEQ, BPF_REG_5, 0xdd86, 0));
	packet_drop(g, pass, &n_pass, KB_JMP_IMM(BPF_JNE, BPF_REG_5, 0x0008, 0));
	/* IPv4: proto, saddr, header length from IHL */
	emit(g, KB_MOV64_REG(BPF_REG_4, BPF_REG_2));
	emit(g, KB_ALU64_IMM(BPF_ADD, BPF_REG_4, 34));
	packet_drop(g, pass, &n_pass, KB_JMP_REG(BPF_JGT, BPF_REG_4, BPF_REG_3, 0));
	emit(g, KB_LDX(BPF_B, BPF_REG_8, BPF_REG_2, 23));
	emit(g, KB_LDX(BPF_W, BPF_REG_9, BPF_REG_2, 26));
	emit(g, KB_LDX(BPF_B, BPF_REG_7, BPF_REG_2, 14));
	emit(g, KB_ALU64_IMM(BPF_AND, BPF_REG_7, 0xf));
	emit(g, KB_ALU64_IMM(BPF_LSH, BPF_REG_7, 2));
	packet_drop(g, drop, &n_drop, KB_JMP_IMM(BPF_JLT, BPF_REG_7, 20, 0));
	emit(g, KB_MOV64_REG(BPF_REG_4, BPF_REG_2));
	emit(g, KB_ALU64_IMM(BPF_ADD, BPF_REG_4, 14));
	emit(g, KB_ALU64_REG(BPF_ADD, BPF_REG_4, BPF_REG_7));
	size_t l4 = fwd(g, KB_JA(0));
	/* IPv6: next header, low word of the source address */
	land(g, v6);
	emit(g, KB_MOV64_REG(BPF_REG_4, BPF_REG_2));
	emit(g, KB_ALU64_IMM(BPF_ADD, BPF_REG_4, 54));
	packet_drop(g, pass, &n_pass, KB_JMP_REG(BPF_JGT, BPF_REG_4, BPF_REG_3, 0));
	emit(g, KB_LDX(BPF_B, BPF_REG_8, BPF_REG_2, 20));
	emit(g, KB_LDX(BPF_W, BPF_REG_9, BPF_REG_2, 34));
	land(g, l4);
	/* L4: ports (r4 = transport header) */
	emit(g, KB_MOV64_REG(BPF_REG_5, BPF_REG_4));
	emit(g, KB_ALU64_IMM(BPF_ADD, BPF_REG_5, 8));
	packet_drop(g, pass, &n_pass, KB_JMP_REG(BPF_JGT, BPF_REG_5, BPF_REG_3, 0));
	emit(g, KB_LDX(BPF_H, BPF_REG_7, BPF_REG_4, 2));
	size_t udp = fwd(g, KB_JMP_IMM(BPF_JEQ, BPF_REG_8, 17, 0));
	packet_drop(g, pass, &n_pass, KB_JMP_IMM(BPF_JNE, BPF_REG_8, 6, 0));

	for (int proto = 0; proto < 2; proto++) {
		if (proto == 1)
			land(g, udp);
		enum { CASES = 110 };
		size_t jcase[CASES];
		uint32_t port[CASES];
		for (int c = 0; c < CASES; c++) {
			port[c] = (uint32_t)(proto ? 5000 + 7 * c : 20 + 3 * c);
			uint32_t be = ((port[c] & 0xff) << 8) | (port[c] >> 8);
			jcase[c] = fwd(g, KB_JMP_IMM(BPF_JEQ, BPF_REG_7, (int32_t)be, 0));
		}
		emit(g, KB_MOV64_IMM(BPF_REG_0, XDP_PASS));
		emit(g, KB_EXIT());
		for (int c = 0; c < CASES; c++) {
			land(g, jcase[c]);
			/* read the first bytes after the header: check, load */
			int need = proto ? 8 + 4 : 20 + 4;
			emit(g, KB_MOV64_REG(BPF_REG_5, BPF_REG_4));
			emit(g, KB_ALU64_IMM(BPF_ADD, BPF_REG_5, need));
			packet_drop(g, pass, &n_pass, KB_JMP_REG(BPF_JGT, BPF_REG_5, BPF_REG_3, 0));
			emit(g, KB_LDX(BPF_W, BPF_REG_0, BPF_REG_4, (int16_t)(need - 4)));
			if (!proto) { /* TCP: flags byte, no SYN-only scans */
				emit(g, KB_LDX(BPF_B, BPF_REG_1, BPF_REG_4, 13));
				packet_drop(g, drop, &n_drop, KB_JMP_IMM(BPF_JEQ, BPF_REG_1, 0x02 | 0x01, 0));
			}
			/* source prefix match */
			emit(g, KB_MOV64_REG(BPF_REG_1, BPF_REG_9));
			emit(g, KB_ALU64_IMM(BPF_AND, BPF_REG_1, 0x00ffffff));
			packet_drop(g, drop, &n_drop,
				    KB_JMP_IMM(BPF_JEQ, BPF_REG_1, (int32_t)(rnd(g) & 0x00ffffff), 0));
			emit(g, KB_ALU64_IMM(BPF_AND, BPF_REG_0, 0xff));
			size_t pj = fwd(g, KB_JMP_IMM(BPF_JGT, BPF_REG_0, (int32_t)(rnd(g) & 0xff), 0));
			emit(g, KB_MOV64_IMM(BPF_REG_0, XDP_TX));
			emit(g, KB_EXIT());
			land(g, pj);
			emit(g, KB_MOV64_IMM(BPF_REG_0, XDP_PASS));
			emit(g, KB_EXIT());
			if (n_drop > 48) { /* keep drop targets within jump range */
				for (size_t i = 0; i < n_drop; i++)
					land(g, drop[i]);
				n_drop = 0;
				emit(g, KB_MOV64_IMM(BPF_REG_0, XDP_DROP));
				emit(g, KB_EXIT());
			}
		}
	}
	for (size_t i = 0; i < n_drop; i++)
		land(g, drop[i]);
	emit(g, KB_MOV64_IMM(BPF_REG_0, XDP_DROP));
	emit(g, KB_EXIT());
	for (size_t i = 0; i < n_pass; i++)
		land(g, pass[i]);
	emit(g, KB_MOV64_IMM(BPF_REG_0, XDP_PASS));
	emit(g, KB_EXIT());
}

/*
 * limit: "for (i = 0; i < skb->len; i++) sum = sum * 31 + i ^ skb->hash"
 * with a body of a few mixing steps: the bound is an unknown u32, so the
 * verifier walks iteration after iteration until its budget of 1,000,000
 * processed instructions runs out (the kernel: "BPF program is too
 * large").  Must be refused, by bee within 2 seconds.
 */
static void gen_limit(struct gen *g)
{
	emit(g, KB_MOV64_REG(BPF_REG_6, BPF_REG_1));
	emit(g, KB_LDX(BPF_W, BPF_REG_7, BPF_REG_6, SKB_OFF(len)));
	emit(g, KB_LDX(BPF_W, BPF_REG_8, BPF_REG_6, SKB_OFF(hash)));
	emit(g, KB_MOV64_IMM(BPF_REG_0, 0));
	emit(g, KB_MOV64_IMM(BPF_REG_1, 0));
	size_t top = g->n;
	for (int k = 0; k < 4; k++) {
		emit(g, KB_ALU64_IMM(BPF_MUL, BPF_REG_0, 31));
		emit(g, KB_ALU64_REG(BPF_ADD, BPF_REG_0, BPF_REG_1));
		emit(g, KB_ALU64_REG(BPF_XOR, BPF_REG_0, BPF_REG_8));
	}
	emit(g, KB_ALU64_IMM(BPF_ADD, BPF_REG_1, 1));
	back(g, KB_JMP_REG(BPF_JLT, BPF_REG_1, BPF_REG_7, 0), top);
	emit(g, KB_EXIT());
}

/*
 * limit-nested: a 128 x 128 table walk "for (i...) for (j...) acc +=
 * f(i, j)" with constant bounds, repeated over 4 tables: every bound is
 * provable, but the walk is 4 x 16384 iterations of a ~22-instruction
 * body, 1.4 million instructions, over the budget.  Refused by both.
 */
static void gen_limit_nested(struct gen *g)
{
	emit(g, KB_MOV64_REG(BPF_REG_6, BPF_REG_1));
	emit(g, KB_LDX(BPF_W, BPF_REG_7, BPF_REG_6, SKB_OFF(hash)));
	emit(g, KB_MOV64_IMM(BPF_REG_0, 0));
	for (int t = 0; t < 4; t++) {
		emit(g, KB_MOV64_IMM(BPF_REG_8, 0));
		size_t outer = g->n;
		emit(g, KB_MOV64_IMM(BPF_REG_9, 0));
		size_t inner = g->n;
		for (int k = 0; k < 6; k++) {
			emit(g, KB_MOV64_REG(BPF_REG_2, BPF_REG_8));
			emit(g, KB_ALU64_REG(BPF_XOR, BPF_REG_2, BPF_REG_9));
			emit(g, KB_ALU64_IMM(BPF_MUL, BPF_REG_2, (int32_t)(rnd(g) | 1)));
		}
		emit(g, KB_ALU64_REG(BPF_ADD, BPF_REG_0, BPF_REG_2));
		emit(g, KB_ALU64_REG(BPF_XOR, BPF_REG_0, BPF_REG_7));
		emit(g, KB_ALU64_IMM(BPF_ADD, BPF_REG_9, 1));
		back(g, KB_JMP_IMM(BPF_JLT, BPF_REG_9, 128, 0), inner);
		emit(g, KB_ALU64_IMM(BPF_ADD, BPF_REG_8, 1));
		back(g, KB_JMP_IMM(BPF_JLT, BPF_REG_8, 128, 0), outer);
	}
	emit(g, KB_EXIT());
}

#define HASH_MAP(k, v, n) {BPF_MAP_TYPE_HASH, (k), (v), (n)}
#define ARRAY_MAP(v, n) {BPF_MAP_TYPE_ARRAY, 4, (v), (n)}

static const struct prog_spec progs[] = {
	{"straight", "ALU+stack, 460 forward-branch joins on ctx fields", BPF_PROG_TYPE_SOCKET_FILTER,
	 gen_straight, {{0}}, 0, false},
	{"maps", "array+hash lookups, null checks that exit, bounded cells", BPF_PROG_TYPE_SOCKET_FILTER,
	 gen_maps, {ARRAY_MAP(64, 16), HASH_MAP(4, 16, 1024)}, 2, false},
	{"maps-r89", "the same, map pointers loaded once into r8/r9", BPF_PROG_TYPE_SOCKET_FILTER,
	 gen_maps_hoisted, {ARRAY_MAP(64, 16), HASH_MAP(4, 16, 1024)}, 2, false},
	{"loops", "8 loops x 16 iterations, branches on the counter", BPF_PROG_TYPE_SOCKET_FILTER,
	 gen_loops, {{0}}, 0, false},
	{"minmax", "4 loops x 24: min/max over a map value (joins in loops)",
	 BPF_PROG_TYPE_SOCKET_FILTER, gen_minmax, {ARRAY_MAP(256, 1)}, 1, false},
	{"diamonds", "320 if/else diamonds on ctx fields", BPF_PROG_TYPE_SOCKET_FILTER, gen_diamonds,
	 {{0}}, 0, false},
	{"packet", "XDP: eth/vlan/ipv4/ipv6/tcp/udp, 2x110-case port switch", BPF_PROG_TYPE_XDP,
	 gen_packet, {{0}}, 0, false},
	{"limit", "loop bounded only by skb->len (unknown): complexity limit",
	 BPF_PROG_TYPE_SOCKET_FILTER, gen_limit, {{0}}, 0, true},
	{"limit-nested", "4 x (128 x 128) nested constant-bound loops: over the budget",
	 BPF_PROG_TYPE_SOCKET_FILTER, gen_limit_nested, {{0}}, 0, true},
};
#define N_PROGS (sizeof(progs) / sizeof(progs[0]))

/* ---- the kernel side ------------------------------------------------------ */

struct kstats {
	bool have;	    /* the log had the statistics */
	long usec;	    /* verification time N usec */
	long processed, total_states, peak_states;
};

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static long num_after(const char *log, const char *key)
{
	const char *p = strstr(log, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* Load with the kernel's statistics; returns the fd or -errno. */
static int kernel_load(const struct prog_spec *ps, const struct bpf_insn *insns, size_t n,
		       unsigned log_level, char *log, struct kstats *st)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = ps->type;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = (uint32_t)n;
	a.license = (uint64_t)(uintptr_t) "GPL";
	log[0] = '\0';
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = KLOG_SIZE;
	a.log_level = log_level;
	long fd = sys_bpf(BPF_PROG_LOAD, &a);
	int err = fd < 0 ? -errno : 0;
	if (st) {
		st->usec = num_after(log, "verification time ");
		st->processed = num_after(log, "processed ");
		st->total_states = num_after(log, "total_states ");
		st->peak_states = num_after(log, "peak_states ");
		st->have = st->usec >= 0 && st->processed >= 0;
	}
	return fd < 0 ? err : (int)fd;
}

/* The kernel's reason for a refusal: the last log line before the stats. */
static void kernel_reason(const char *log, char *out, size_t len)
{
	const char *end = strstr(log, "processed ");
	if (!end)
		end = strstr(log, "verification time");
	if (!end)
		end = log + strlen(log);
	const char *p = end;
	while (p > log && (p[-1] == '\n'))
		p--;
	const char *e = p;
	while (p > log && p[-1] != '\n')
		p--;
	snprintf(out, len, "%.*s", (int)(e - p), p);
}

/* ---- running ------------------------------------------------------------------ */

struct options {
	unsigned runs;
	const char *only;
	bool verbose;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_verify [--runs N] [--only NAME] [--verbose]\n"
		   "  --runs N     rounds per program; time columns are medians (default 5)\n"
		   "  --only NAME  one program:");
	for (size_t i = 0; i < N_PROGS; i++)
		fprintf(f, " %s", progs[i].name);
	fprintf(f, "\n  --verbose    the programs' descriptions and both refusal messages\n"
		   "Pin it to one CPU: taskset -c 1 bench_verify\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
	o->runs = 5;
	o->only = NULL;
	o->verbose = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--verbose")) {
			o->verbose = true;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			return -1;
		if (i + 1 >= argc) {
			fprintf(stderr, "bench_verify: %s wants a value\n", a);
			return -1;
		}
		const char *v = argv[++i];
		if (!strcmp(a, "--runs")) {
			char *end;
			unsigned long r = strtoul(v, &end, 10);
			if (*end || r < 1 || r > 1000) {
				fprintf(stderr, "bench_verify: --runs wants 1..1000, got '%s'\n", v);
				return -1;
			}
			o->runs = (unsigned)r;
		} else if (!strcmp(a, "--only")) {
			bool found = false;
			for (size_t p = 0; p < N_PROGS; p++)
				found |= !strcmp(progs[p].name, v);
			if (!found) {
				fprintf(stderr, "bench_verify: --only: no program named '%s'\n", v);
				return -1;
			}
			o->only = v;
		} else {
			fprintf(stderr, "bench_verify: unknown option '%s'\n", a);
			return -1;
		}
	}
	return 0;
}

static const char *errname(int err)
{
	const char *s = err ? strerrorname_np(-err) : "ok";
	return s ? s : "?";
}

struct row {
	size_t insns;
	/* kernel */
	bool k_avail;
	int k_err;
	struct kstats k;
	double k_us;
	char k_msg[160];
	/* bee */
	int b_err;
	struct bee_verify_result b;
	double b_us;
};

static int run_one(const struct prog_spec *ps, const struct options *opt, bool kernel_ok,
		   struct bee_helper_table *helpers, char *klog, char *blog, struct row *row)
{
	struct gen g = {.seed = 0x9e3779b97f4a7c15ull};
	ps->gen(&g);
	if (g.bad) {
		fprintf(stderr, "bench_verify: %s: generator failed\n", ps->name);
		free(g.v);
		return -1;
	}
	memset(row, 0, sizeof(*row));
	row->insns = g.n;

	/* maps: in the kernel (fds into the kernel copy), described for bee */
	struct bee_verify_map bmaps[MAX_MAPS];
	int fds[MAX_MAPS];
	for (unsigned m = 0; m < ps->n_maps; m++) {
		const struct bench_map *bm = &ps->maps[m];
		bmaps[m] = (struct bee_verify_map){.type = bm->type,
						   .key_size = bm->key_size,
						   .value_size = bm->value_size,
						   .max_entries = bm->max_entries};
		fds[m] = -1;
	}
	struct bpf_insn *kinsns = malloc(g.n * sizeof(*kinsns));
	if (!kinsns) {
		free(g.v);
		return -1;
	}
	memcpy(kinsns, g.v, g.n * sizeof(*kinsns));
	row->k_avail = kernel_ok;
	if (kernel_ok) {
		for (unsigned m = 0; m < ps->n_maps && row->k_avail; m++) {
			const struct bench_map *bm = &ps->maps[m];
			fds[m] = kbpf_map_create(bm->type, bm->key_size, bm->value_size,
						 bm->max_entries, 0);
			if (fds[m] < 0) {
				snprintf(row->k_msg, sizeof(row->k_msg), "map create: %s",
					 strerror(-fds[m]));
				row->k_avail = false;
			}
		}
		for (size_t i = 0; i < g.n; i++)
			if (kinsns[i].code == (BPF_LD | BPF_IMM | BPF_DW) &&
			    kinsns[i].src_reg == BPF_PSEUDO_MAP_IDX) {
				kinsns[i].src_reg = BPF_PSEUDO_MAP_FD;
				kinsns[i].imm = fds[kinsns[i].imm];
			}
	}

	const struct bee_prog_type_desc *pt = bee_prog_type_builtin(ps->type);
	struct bee_verify_opts bo = {
		.sz = sizeof(bo),
		.prog_type = pt,
		.helpers = helpers,
		.maps = bmaps,
		.n_maps = ps->n_maps,
		.log_buf = blog,
		.log_size = BLOG_SIZE,
		.log_level = 4, /* the statistics, as the kernel side: no trace */
	};

	double *kt = calloc(opt->runs, sizeof(double));
	double *bt = calloc(opt->runs, sizeof(double));
	unsigned nk = 0;
	for (unsigned r = 0; r < opt->runs && kt && bt; r++) {
		if (row->k_avail) {
			struct kstats st;
			int fd = kernel_load(ps, kinsns, g.n, KLOG_STATS, klog, &st);
			row->k_err = fd < 0 ? fd : 0;
			kbpf_close(fd);
			if (st.have) {
				row->k = st;
				kt[nk++] = (double)st.usec;
			}
		}
		uint64_t t0 = kb_now_ns();
		row->b_err = bee_verify(g.v, g.n, &bo, &row->b);
		uint64_t t1 = kb_now_ns();
		bt[r] = (double)(t1 - t0) / 1000.0;
	}
	row->k_us = kb_median(kt, nk);
	row->b_us = kt && bt ? kb_median(bt, opt->runs) : 0;
	free(kt);
	free(bt);

	if (row->k_avail && row->k_err) {
		/* the reason, from an untimed load with the level-1 log's tail */
		kernel_load(ps, kinsns, g.n, 1, klog, NULL);
		kernel_reason(klog, row->k_msg, sizeof(row->k_msg));
	}
	for (unsigned m = 0; m < ps->n_maps; m++)
		kbpf_close(fds[m]);
	free(kinsns);
	free(g.v);
	return 0;
}

int main(int argc, char **argv)
{
	struct options opt;
	if (parse_args(argc, argv, &opt) < 0) {
		usage(stderr);
		return 2;
	}
	char why[256] = "";
	bool kernel_ok = kbpf_probe(why, sizeof(why)) == 0;

	struct bee_helper_table *helpers = bee_helper_table_new();
	if (!helpers || bee_helper_table_add_builtins(helpers) < 0 ||
	    bee_core_add_helpers(helpers) < 0) {
		fprintf(stderr, "bench_verify: cannot build the helper table\n");
		return 1;
	}
	char *klog = malloc(KLOG_SIZE), *blog = malloc(BLOG_SIZE);
	if (!klog || !blog) {
		fprintf(stderr, "bench_verify: out of memory\n");
		return 1;
	}

	cpu_set_t set;
	int cpu = sched_getcpu();
	bool pinned = sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) == 1;
	printf("bench_verify: verification time, median of %u rounds, cpu %d%s\n", opt.runs, cpu,
	       pinned ? " (pinned)" : " (NOT pinned: use taskset -c 1)");
	printf("kernel: %s%s%s\n",
	       kernel_ok ? "BPF_PROG_LOAD log_level 4, its own \"verification time\""
			 : "unavailable (",
	       kernel_ok ? "" : why, kernel_ok ? "" : "), SKIP");
	printf("bee: bee_verify log_level 4, CLOCK_MONOTONIC around the call\n\n");
	printf("%-12s %6s %-10s %-10s %9s %9s %9s %9s %7s %8s %8s\n", "program", "insns", "kernel",
	       "bee", "k-proc", "bee-proc", "kernel us", "bee us", "bee/k", "b-states", "b-peak");

	int status = 0;
	for (size_t p = 0; p < N_PROGS; p++) {
		const struct prog_spec *ps = &progs[p];
		if (opt.only && strcmp(opt.only, ps->name))
			continue;
		struct row row;
		if (run_one(ps, &opt, kernel_ok, helpers, klog, blog, &row) < 0) {
			status = 1;
			continue;
		}
		char kv[16], kp[16], kus[16], ratio[16];
		if (!row.k_avail) {
			snprintf(kv, sizeof(kv), "SKIP");
			snprintf(kp, sizeof(kp), "-");
			snprintf(kus, sizeof(kus), "-");
			snprintf(ratio, sizeof(ratio), "-");
		} else {
			snprintf(kv, sizeof(kv), "%s", row.k_err ? errname(row.k_err) : "accept");
			snprintf(kp, sizeof(kp), "%ld", row.k.processed);
			snprintf(kus, sizeof(kus), "%.0f", row.k_us);
			if (row.k_us > 0)
				snprintf(ratio, sizeof(ratio), "%.2f", row.b_us / row.k_us);
			else
				snprintf(ratio, sizeof(ratio), "-");
		}
		printf("%-12s %6zu %-10s %-10s %9s %9llu %9s %9.0f %7s %8u %8u\n", ps->name, row.insns, kv,
		       row.b_err ? errname(row.b_err) : "accept", kp,
		       (unsigned long long)row.b.processed, kus, row.b_us, ratio, row.b.total_states,
		       row.b.peak_states);
		if (opt.verbose)
			printf("    %s\n", ps->what);
		if (row.k_avail && row.k_err)
			printf("    kernel: %s (total_states %ld peak_states %ld)\n", row.k_msg,
			       row.k.total_states, row.k.peak_states);
		else if (opt.verbose && row.k_avail)
			printf("    kernel: total_states %ld peak_states %ld\n", row.k.total_states,
			       row.k.peak_states);
		if (opt.verbose) {
			printf("    per processed insn: bee %.0f ns", row.b.processed
				   ? row.b_us * 1000.0 / (double)row.b.processed : 0.0);
			if (row.k_avail && row.k.processed > 0)
				printf(", kernel %.0f ns", row.k_us * 1000.0 / (double)row.k.processed);
			printf("\n");
		}
		if (row.b_err)
			printf("    bee: %s (insn %ld, max_states_per_insn %u)\n", row.b.msg, row.b.insn,
			       row.b.max_states_per_insn);
		if (ps->expect_refusal) {
			bool ok = row.b_err != 0 && row.b_us < 2e6;
			printf("    limit check: bee %s in %.3f s (must refuse within 2 s): %s\n",
			       row.b_err ? "refuses" : "ACCEPTS", row.b_us / 1e6, ok ? "ok" : "FAIL");
			if (!ok)
				status = 1;
		}
	}
	bee_helper_table_free(helpers);
	free(klog);
	free(blog);
	return status;
}
