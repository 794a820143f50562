/*
 * fuzz_bpf.c - libFuzzer target for the core's command interface: the
 * input is a sequence of bpf() commands run on one fresh instance.
 *
 * What must hold, whatever the sequence: bee_bpf never crashes, hangs,
 * leaks or trips ASan/UBSan, and every answer is a handle, 0 (or another
 * non-negative result) or a negative errno.  The instance is freed after
 * each input, so objects left behind must go with it (the leak checker
 * runs at exit and on -detect_leaks inputs).
 *
 * The host is trusted not to pass wild pointers (syscall.c), so this
 * target keeps one rule when it fills union bpf_attr from the input:
 * every pointer is NULL or points at a buffer exactly as big as what the
 * command may read or write (keys and values sized from the map, batches
 * from count, info structs from info_len and their arrays from their own
 * counts, logs from log_size, test-run buffers from their sizes).  Buffers
 * come from malloc one by one, so ASan sees one byte too many.  Everything
 * else (sizes, flags, types, handles, names, instructions, paths) comes
 * from the input, often through a small table of interesting values.
 *
 * Input layout: byte 0 settings (bits 0-1: ncpus - 1, bit 2: JIT engine),
 * then steps, each a command byte and what that command's builder reads.
 * Reads past the end give zeros, so every input is a valid sequence.
 *
 * Programs run checked with an instruction budget of 1<<16 per run (the
 * instance's max_insns), so a program that loops ends with -ETIME.
 *
 * Pins go under a per-process temporary directory, emptied before each
 * input (so an input's outcome does not depend on the ones before it) and
 * removed at exit.
 *
 * BEE_FUZZ_SEEDS=DIR: write a few hand-made inputs to DIR and exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/btf.h>

#include "bee/bee.h"
#include "core/core.h"

#include "fuzz_common.h"

/* ---- the instance under test and what the input has created ---- */

#define MAX_FDS 48

struct state {
	struct fuzz_in in;
	struct bee *bee;
	unsigned ncpus;
	int fds[MAX_FDS];
	int n_fds;
	struct fuzz_bufs bufs;
};

static char pin_dir[64];

static void remember(struct state *s, long ret)
{
	if (ret < 0 || s->n_fds == MAX_FDS)
		return;
	s->fds[s->n_fds++] = (int)ret;
}

/* A handle: mostly one the input created, sometimes any number. */
static int pick_fd(struct state *s)
{
	uint8_t b = fuzz_u8(&s->in);
	if (b < 200 && s->n_fds)
		return s->fds[b % s->n_fds];
	if (b < 250)
		return b % 40;
	return (int)fuzz_u32(&s->in);
}

/* Shape of the map behind fd (trusted side: read through the core), so
 * that key and value buffers have the size bee will use. */
struct shape {
	bool is_map;
	enum bee_obj_kind kind;
	uint32_t key_size, value_size; /* value_size: the host's value buffer */
	enum bpf_map_type type;
};

static struct shape shape_of(struct state *s, int fd)
{
	struct shape sh = {.key_size = 8, .value_size = 8};
	struct bee_obj *o = bee_handle_get(s->bee, fd, 0);
	if (!o)
		return sh;
	sh.kind = o->kind;
	if (o->kind == BEE_OBJ_MAP) {
		struct bee_map *m = (struct bee_map *)o;
		sh.is_map = true;
		sh.type = m->type;
		sh.key_size = m->key_size;
		sh.value_size = m->value_size;
		if (m->type == BPF_MAP_TYPE_PERCPU_ARRAY || m->type == BPF_MAP_TYPE_PERCPU_HASH ||
		    m->type == BPF_MAP_TYPE_LRU_PERCPU_HASH)
			sh.value_size = ((m->value_size + 7) & ~7u) * s->ncpus;
	}
	bee_obj_put(o);
	return sh;
}

/* A buffer of n bytes filled from the input (NULL about 1 time in 16). */
static void *buf_or_null(struct state *s, size_t n)
{
	if ((fuzz_u8(&s->in) & 15) == 15)
		return NULL;
	return fuzz_buf_fill(&s->bufs, &s->in, n);
}

/*
 * Call bee_bpf with a size chosen by the input, and check the promise.
 * end is where the command's fields end: a size below it would cut a
 * pointer in two, and a stray byte before it could make one wild, which
 * the host never does; from end on, both must be refused cleanly.
 */
static long call(struct state *s, int cmd, union bpf_attr *attr, size_t end)
{
	struct {
		union bpf_attr a;
		unsigned char tail[16];
	} big;
	memset(&big, 0, sizeof(big));
	big.a = *attr;
	unsigned size = sizeof(union bpf_attr);
	uint8_t mode = fuzz_u8(&s->in);
	if (mode >= 248) {
		switch (mode & 7) {
		case 0: size = (unsigned)(end + fuzz_u8(&s->in) % (sizeof(union bpf_attr) - end)); break;
		case 1: size = sizeof(union bpf_attr) + 1 + fuzz_u8(&s->in) % 16; break;
		case 2: /* a stray byte past the command's fields */
			((unsigned char *)&big.a)[end + fuzz_u8(&s->in) % (sizeof(union bpf_attr) - end)] =
				fuzz_u8(&s->in);
			break;
		case 3: /* non-zero bytes beyond the union */
			size = sizeof(big);
			big.tail[fuzz_u8(&s->in) % 16] = 1;
			break;
		default: break;
		}
	}
	long ret = bee_bpf(s->bee, cmd, &big.a, size);
	if (ret < -4095 || (ret > 65536 && cmd != BPF_PROG_TEST_RUN)) {
		fprintf(stderr, "fuzz_bpf: command %d answered %ld\n", cmd, ret);
		abort();
	}
	*attr = big.a;
	return ret;
}

/* ---- map commands ---- */

static const uint32_t map_types[] = {
	BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PROG_ARRAY,
	BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_ARRAY,
	BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_MAP_TYPE_LPM_TRIE,
	BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS, BPF_MAP_TYPE_QUEUE,
	BPF_MAP_TYPE_STACK, BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_BLOOM_FILTER,
};

static uint32_t small_size(struct state *s)
{
	static const uint32_t v[] = {0, 1, 2, 3, 4, 5, 8, 12, 16, 20, 24, 32, 64, 100, 256};
	uint8_t b = fuzz_u8(&s->in);
	if (b == 255)
		return fuzz_u32(&s->in) % 4096 + (fuzz_u8(&s->in) == 255 ? 1u << 30 : 0);
	return v[b % (sizeof(v) / sizeof(v[0]))];
}

static void do_map_create(struct state *s)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	uint8_t t = fuzz_u8(&s->in);
	a.map_type = t < 240 ? map_types[t % (sizeof(map_types) / sizeof(map_types[0]))] : t - 240u + 16;
	a.key_size = small_size(s);
	a.value_size = small_size(s);
	uint8_t m = fuzz_u8(&s->in);
	static const uint32_t maxes[] = {1, 2, 3, 4, 8, 16, 64, 0, 4096, 8192, 100};
	a.max_entries = m < 250 ? maxes[m % (sizeof(maxes) / sizeof(maxes[0]))] : fuzz_u32(&s->in);
	/* Whatever the input says, nothing is allocated by the gigabyte. */
	if ((uint64_t)a.max_entries * ((uint64_t)a.key_size + a.value_size + 64) * s->ncpus >
	    (64u << 20))
		a.max_entries = 16;
	uint8_t f = fuzz_u8(&s->in);
	a.map_flags = f < 128 ? 0 : f < 200 ? (1u << (f % 13)) : fuzz_u16(&s->in) & 0x3fff;
	a.inner_map_fd = fuzz_u8(&s->in) & 1 ? (uint32_t)pick_fd(s) : 0;
	uint8_t x = fuzz_u8(&s->in);
	a.map_extra = x < 200 ? 0 : x < 250 ? x % 16 : fuzz_u64(&s->in);
	if (fuzz_u8(&s->in) == 255)
		a.numa_node = fuzz_u8(&s->in);
	if (fuzz_u8(&s->in) & 1)
		fuzz_fill(&s->in, a.map_name, sizeof(a.map_name));
	remember(s, call(s, BPF_MAP_CREATE, &a, ATTR_END(map_extra)));
}

static uint64_t elem_flags(struct state *s)
{
	uint8_t f = fuzz_u8(&s->in);
	if (f < 200)
		return f % 4;
	if (f < 250)
		return BPF_F_LOCK | (f % 4);
	return fuzz_u64(&s->in);
}

static void do_map_elem(struct state *s, int cmd)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	int fd = pick_fd(s);
	struct shape sh = shape_of(s, fd);
	a.map_fd = (uint32_t)fd;
	a.key = fuzz_ptr(buf_or_null(s, sh.key_size));
	if (cmd == BPF_MAP_GET_NEXT_KEY)
		a.next_key = fuzz_ptr(buf_or_null(s, sh.key_size));
	else if (cmd != BPF_MAP_DELETE_ELEM)
		a.value = fuzz_ptr(buf_or_null(s, sh.value_size));
	if (cmd != BPF_MAP_DELETE_ELEM && cmd != BPF_MAP_GET_NEXT_KEY)
		a.flags = elem_flags(s);
	/* fd-valued maps take a handle as the value: often a real one */
	if (sh.is_map && a.value && cmd == BPF_MAP_UPDATE_ELEM && sh.value_size == 4 &&
	    (fuzz_u8(&s->in) & 1)) {
		int v = pick_fd(s);
		memcpy(u64_to_ptr(a.value), &v, 4);
	}
	call(s, cmd, &a, ATTR_END(flags));
}

static void do_map_batch(struct state *s, int cmd)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	int fd = pick_fd(s);
	struct shape sh = shape_of(s, fd);
	uint8_t c = fuzz_u8(&s->in);
	uint32_t count = c < 250 ? c % 10 : c % 64 + 10;
	a.batch.map_fd = (uint32_t)fd;
	a.batch.count = count;
	a.batch.keys = fuzz_ptr(buf_or_null(s, (size_t)count * sh.key_size));
	a.batch.values = fuzz_ptr(buf_or_null(s, (size_t)count * sh.value_size));
	if (cmd == BPF_MAP_LOOKUP_BATCH || cmd == BPF_MAP_LOOKUP_AND_DELETE_BATCH) {
		a.batch.in_batch = (fuzz_u8(&s->in) & 1) ? fuzz_ptr(buf_or_null(s, sh.key_size)) : 0;
		a.batch.out_batch = fuzz_ptr(buf_or_null(s, sh.key_size));
	}
	a.batch.elem_flags = fuzz_u8(&s->in) < 230 ? 0 : elem_flags(s);
	a.batch.flags = fuzz_u8(&s->in) < 250 ? 0 : fuzz_u64(&s->in);
	call(s, cmd, &a, ATTR_END(batch));
}

static void do_map_freeze(struct state *s)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)pick_fd(s);
	call(s, BPF_MAP_FREEZE, &a, ATTR_END(map_fd));
}

/* ---- programs ---- */

#define MAX_INSNS 64
#define FD_ARRAY_LEN 16

static const int32_t helper_ids[] = {
	BPF_FUNC_map_lookup_elem, BPF_FUNC_map_update_elem, BPF_FUNC_map_delete_elem,
	BPF_FUNC_probe_read, BPF_FUNC_ktime_get_ns, BPF_FUNC_trace_printk,
	BPF_FUNC_get_prandom_u32, BPF_FUNC_get_smp_processor_id, BPF_FUNC_tail_call,
	BPF_FUNC_get_current_pid_tgid, BPF_FUNC_get_current_uid_gid, BPF_FUNC_get_current_comm,
	BPF_FUNC_perf_event_output, BPF_FUNC_map_push_elem, BPF_FUNC_map_pop_elem,
	BPF_FUNC_map_peek_elem, BPF_FUNC_probe_read_str, BPF_FUNC_ringbuf_output,
	BPF_FUNC_ringbuf_reserve, BPF_FUNC_ringbuf_submit, BPF_FUNC_ringbuf_discard,
	BPF_FUNC_ringbuf_query, BPF_FUNC_for_each_map_elem, BPF_FUNC_snprintf, BPF_FUNC_loop,
	BPF_FUNC_strtol, BPF_FUNC_strtoul, BPF_FUNC_map_lookup_percpu_elem,
	BPF_FUNC_probe_read_kernel, BPF_FUNC_probe_read_user_str, BPF_FUNC_trace_vprintk,
	BPF_FUNC_get_current_task, BPF_FUNC_jiffies64, BPF_FUNC_ktime_get_boot_ns,
	BPF_FUNC_skb_load_bytes, BPF_FUNC_xdp_adjust_head,
};

#define INS(c, d, sr, o, i) ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (sr), .off = (o), .imm = (i)})

static void emit(struct bpf_insn *v, int *n, struct bpf_insn in)
{
	if (*n < MAX_INSNS)
		v[(*n)++] = in;
}

static void emit_lddw(struct bpf_insn *v, int *n, uint8_t dst, uint8_t src, int32_t lo, int32_t hi)
{
	if (*n + 2 > MAX_INSNS)
		return;
	v[(*n)++] = INS(BPF_LD | BPF_IMM | BPF_DW, dst, src, 0, lo);
	v[(*n)++] = INS(0, 0, 0, 0, hi);
}

/* Instructions from the input: raw ones and small idioms (map
 * references, helper calls, local calls, bpf_loop, tail calls). */
static int build_prog(struct state *s, struct bpf_insn *v)
{
	int n = 0;
	int want = 1 + fuzz_u8(&s->in) % MAX_INSNS;
	while (n < want && !fuzz_empty(&s->in)) {
		uint8_t op = fuzz_u8(&s->in);
		uint8_t r = fuzz_u8(&s->in);
		uint8_t dst = r % 11, src = (r >> 4) % 11;
		switch (op % 16) {
		case 0: { /* raw */
			struct bpf_insn in;
			fuzz_fill(&s->in, &in, sizeof(in));
			emit(v, &n, in);
			break;
		}
		case 1: /* r = small immediate */
			emit(v, &n, INS(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, (int8_t)fuzz_u8(&s->in)));
			break;
		case 2: /* lddw map by handle, or a map value */
			if (fuzz_u8(&s->in) & 1)
				emit_lddw(v, &n, dst % 10, BPF_PSEUDO_MAP_FD, pick_fd(s), 0);
			else
				emit_lddw(v, &n, dst % 10, BPF_PSEUDO_MAP_VALUE, pick_fd(s),
					  fuzz_u8(&s->in) % 32);
			break;
		case 3: /* lddw through fd_array */
			emit_lddw(v, &n, dst % 10,
				  (fuzz_u8(&s->in) & 1) ? BPF_PSEUDO_MAP_IDX : BPF_PSEUDO_MAP_IDX_VALUE,
				  fuzz_u8(&s->in) % FD_ARRAY_LEN, fuzz_u8(&s->in) % 4 * 8);
			break;
		case 4: case 5: /* helper call */
			emit(v, &n, INS(BPF_JMP | BPF_CALL, 0, 0, 0,
					helper_ids[fuzz_u8(&s->in) %
						   (sizeof(helper_ids) / sizeof(helper_ids[0]))]));
			break;
		case 6: /* local call */
			emit(v, &n, INS(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0,
					(int8_t)fuzz_u8(&s->in) % 16));
			break;
		case 7: /* bpf_loop(nr, callback, ctx, 0) */
			emit(v, &n, INS(BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, fuzz_u8(&s->in) % 40));
			emit_lddw(v, &n, 2, BPF_PSEUDO_FUNC, (int8_t)fuzz_u8(&s->in) % 16, 0);
			emit(v, &n, INS(BPF_ALU64 | BPF_MOV | BPF_X, 3, 10, 0, 0));
			emit(v, &n, INS(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, 0));
			emit(v, &n, INS(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_loop));
			break;
		case 8: /* bpf_tail_call(ctx, map, index) */
			emit_lddw(v, &n, 2, BPF_PSEUDO_MAP_FD, pick_fd(s), 0);
			emit(v, &n, INS(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, fuzz_u8(&s->in) % 4));
			emit(v, &n, INS(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_tail_call));
			break;
		case 9: /* a stack slot: rX = r10 - k */
			emit(v, &n, INS(BPF_ALU64 | BPF_MOV | BPF_X, dst % 10, 10, 0, 0));
			emit(v, &n, INS(BPF_ALU64 | BPF_ADD | BPF_K, dst % 10, 0, 0,
					-8 * (1 + fuzz_u8(&s->in) % 64)));
			break;
		case 10: { /* load or store through a register */
			static const uint8_t sz[] = {BPF_B, BPF_H, BPF_W, BPF_DW};
			uint8_t k = fuzz_u8(&s->in);
			int16_t off = (int16_t)((int8_t)fuzz_u8(&s->in));
			uint8_t cls = k & 1 ? BPF_LDX : (k & 2 ? BPF_STX : BPF_ST);
			emit(v, &n, INS(cls | BPF_MEM | sz[(k >> 2) % 4], dst, src, off,
					(int8_t)fuzz_u8(&s->in)));
			break;
		}
		case 11: /* conditional jump, short */
			emit(v, &n, INS(BPF_JMP | (uint8_t)((fuzz_u8(&s->in) % 14) << 4) |
						(r & 8 ? BPF_X : BPF_K),
					dst % 10, src % 10, (int8_t)fuzz_u8(&s->in) % 8,
					(int8_t)fuzz_u8(&s->in)));
			break;
		case 12: /* alu */
			emit(v, &n, INS((r & 1 ? BPF_ALU64 : BPF_ALU) |
						(uint8_t)((fuzz_u8(&s->in) % 14) << 4) |
						(r & 2 ? BPF_X : BPF_K),
					dst % 10, src % 10, 0, (int8_t)fuzz_u8(&s->in)));
			break;
		case 13: /* r0 = k; exit */
			emit(v, &n, INS(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, fuzz_u8(&s->in) % 4));
			emit(v, &n, INS(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
			break;
		case 14: /* a backward jump: loops the budget must end */
			emit(v, &n, INS(BPF_JMP | BPF_JA, 0, 0, -(int16_t)(fuzz_u8(&s->in) % 4 + 1), 0));
			break;
		case 15: /* ld abs / ind */
			emit(v, &n, INS(BPF_LD | (r & 1 ? BPF_IND : BPF_ABS) | (r & 2 ? BPF_W : BPF_B),
					0, src % 10, 0, fuzz_u8(&s->in) % 64));
			break;
		}
	}
	if (n == 0 || (fuzz_u8(&s->in) & 3)) {
		if (n + 2 > MAX_INSNS)
			n = MAX_INSNS - 2;
		emit(v, &n, INS(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0));
		emit(v, &n, INS(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	}
	/* fd_array holds FD_ARRAY_LEN handles: index forms stay inside it
	 * (the host passes a big enough array, as with every pointer) */
	for (int i = 0; i < n; i++)
		if (v[i].code == (BPF_LD | BPF_IMM | BPF_DW) &&
		    (v[i].src_reg == BPF_PSEUDO_MAP_IDX || v[i].src_reg == BPF_PSEUDO_MAP_IDX_VALUE))
			v[i].imm = (int32_t)((uint32_t)v[i].imm % FD_ARRAY_LEN);
	return n;
}

static const uint32_t prog_types[] = {
	BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_XDP, BPF_PROG_TYPE_SCHED_CLS,
	BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_PROG_TYPE_SYSCALL, BPF_PROG_TYPE_KPROBE,
	BPF_PROG_TYPE_TRACEPOINT, BPF_PROG_TYPE_CGROUP_SKB, BPF_PROG_TYPE_TRACING,
	BPF_PROG_TYPE_PERF_EVENT, BPF_PROG_TYPE_LWT_IN, BPF_PROG_TYPE_SCHED_ACT,
};

static void do_prog_load(struct state *s)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	uint8_t t = fuzz_u8(&s->in);
	a.prog_type = t < 240 ? prog_types[t % (sizeof(prog_types) / sizeof(prog_types[0]))]
			      : t - 240u + 20;
	struct bpf_insn *insns = fuzz_buf(&s->bufs, MAX_INSNS * sizeof(*insns));
	int n = build_prog(s, insns);
	uint8_t c = fuzz_u8(&s->in);
	a.insn_cnt = c < 250 ? (uint32_t)n : c == 250 ? 0 : 1000001;
	a.insns = c == 251 ? 0 : fuzz_ptr(insns);
	static const char *const licenses[] = {"GPL", "Dual BSD/GPL", "MIT", ""};
	uint8_t l = fuzz_u8(&s->in);
	if (l < 250) {
		const char *lic = licenses[l % 4];
		char *p = fuzz_buf(&s->bufs, strlen(lic) + 1);
		memcpy(p, lic, strlen(lic) + 1);
		a.license = fuzz_ptr(p);
	} else if (l < 253) {
		char *p = fuzz_buf(&s->bufs, 128); /* no NUL in reach */
		memset(p, 'G', 128);
		a.license = fuzz_ptr(p);
	}
	uint8_t lg = fuzz_u8(&s->in);
	if (lg >= 128) {
		static const uint32_t sizes[] = {0, 1, 127, 128, 200, 1024};
		a.log_size = lg >= 250 ? fuzz_u32(&s->in) % 4096 : sizes[lg % 6];
		a.log_level = lg % 5 == 0 ? 0 : lg % 3 + 1;
		a.log_buf = lg % 7 == 0 ? 0 : fuzz_ptr(fuzz_buf(&s->bufs, a.log_size));
	}
	uint8_t f = fuzz_u8(&s->in);
	a.prog_flags = f < 200 ? 0 : f < 250 ? 1u << (f % 8) : fuzz_u32(&s->in);
	a.expected_attach_type = fuzz_u8(&s->in) % 48;
	if (fuzz_u8(&s->in) & 1)
		fuzz_fill(&s->in, a.prog_name, sizeof(a.prog_name));
	if (fuzz_u8(&s->in) & 1) {
		int *fda = fuzz_buf(&s->bufs, FD_ARRAY_LEN * sizeof(int));
		for (int i = 0; i < FD_ARRAY_LEN; i++)
			fda[i] = pick_fd(s);
		a.fd_array = fuzz_ptr(fda);
	}
	remember(s, call(s, BPF_PROG_LOAD, &a, ATTR_END(core_relo_rec_size)));
}

static uint32_t run_size(struct state *s)
{
	static const uint32_t v[] = {0, 1, 8, 14, 16, 24, 32, 60, 64, 96, 100, 192, 200, 1500};
	uint8_t b = fuzz_u8(&s->in);
	if (b == 255)
		return fuzz_u8(&s->in) & 1 ? 65536 : fuzz_u16(&s->in);
	return v[b % (sizeof(v) / sizeof(v[0]))];
}

static void do_test_run(struct state *s)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (uint32_t)pick_fd(s);
	a.test.data_size_in = run_size(s);
	a.test.data_in = fuzz_ptr(buf_or_null(s, a.test.data_size_in));
	a.test.ctx_size_in = run_size(s);
	a.test.ctx_in = fuzz_ptr(buf_or_null(s, a.test.ctx_size_in));
	uint8_t o = fuzz_u8(&s->in);
	/* Outputs: a size of 0 means "big enough" (the kernel's rule), so
	 * the buffer then has room for all bee may write. */
	if (o & 1) {
		a.test.data_size_out = (o & 2) ? run_size(s) : 0;
		size_t room = a.test.data_size_out ? a.test.data_size_out : a.test.data_size_in;
		a.test.data_out = fuzz_ptr(fuzz_buf(&s->bufs, room));
	}
	if (o & 4) {
		a.test.ctx_size_out = (o & 8) ? run_size(s) : 0;
		size_t need = a.test.ctx_size_in > sizeof(struct __sk_buff) ? a.test.ctx_size_in
									     : sizeof(struct __sk_buff);
		a.test.ctx_out =
			fuzz_ptr(fuzz_buf(&s->bufs, a.test.ctx_size_out ? a.test.ctx_size_out : need));
	}
	a.test.repeat = fuzz_u8(&s->in) % 4;
	uint8_t f = fuzz_u8(&s->in);
	if (f >= 200) {
		a.test.flags = f >= 250 ? fuzz_u32(&s->in) : BPF_F_TEST_RUN_ON_CPU;
		a.test.cpu = fuzz_u8(&s->in) % 8;
	}
	call(s, BPF_PROG_TEST_RUN, &a, ATTR_END(test.batch_size));
}

/* ---- pins ---- */

/* A path from the input: pieces that matter to pin_path, and bytes. */
static char *make_path(struct state *s)
{
	static const char *const pieces[] = {
		"a", "b/", "..", ".", "/", "/sys/fs/bpf/", "/etc/passwd", "dir/", "x.tmp1",
		"//", "../", "./", "map", "prog",
	};
	size_t cap = 5000;
	char *p = fuzz_buf(&s->bufs, cap);
	size_t len = 0;
	int parts = 1 + fuzz_u8(&s->in) % 6;
	for (int i = 0; i < parts; i++) {
		uint8_t b = fuzz_u8(&s->in);
		char tmp[4200];
		size_t n;
		if (b < 140) {
			n = (size_t)snprintf(tmp, sizeof(tmp), "%s",
					     pieces[b % (sizeof(pieces) / sizeof(pieces[0]))]);
		} else if (b < 160) {
			n = (size_t)snprintf(tmp, sizeof(tmp), "%s/", pin_dir);
		} else if (b < 170) { /* long names */
			n = b & 1 ? 300 : 4100;
			memset(tmp, 'x', n);
			tmp[n] = 0;
		} else { /* bytes */
			n = fuzz_u8(&s->in) % 12;
			for (size_t k = 0; k < n; k++) {
				tmp[k] = (char)fuzz_u8(&s->in);
				if (!tmp[k])
					tmp[k] = '_';
			}
			tmp[n] = 0;
		}
		if (len + n >= cap)
			break;
		memcpy(p + len, tmp, n);
		len += n;
	}
	p[len] = 0;
	return p;
}

static void do_obj_pin(struct state *s)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.bpf_fd = (uint32_t)pick_fd(s);
	a.pathname = (fuzz_u8(&s->in) == 255) ? 0 : fuzz_ptr(make_path(s));
	a.file_flags = fuzz_u8(&s->in) < 250 ? 0 : fuzz_u32(&s->in);
	call(s, BPF_OBJ_PIN, &a, ATTR_END(file_flags));
}

static void do_obj_get(struct state *s)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.pathname = (fuzz_u8(&s->in) == 255) ? 0 : fuzz_ptr(make_path(s));
	uint8_t f = fuzz_u8(&s->in);
	a.file_flags = f < 200 ? 0 : f < 250 ? f % 4 * BPF_F_RDONLY : fuzz_u32(&s->in);
	if (fuzz_u8(&s->in) == 255)
		a.bpf_fd = fuzz_u8(&s->in);
	remember(s, call(s, BPF_OBJ_GET, &a, ATTR_END(file_flags)));
}

/* ---- ids and info ---- */

static void do_next_id(struct state *s)
{
	static const int cmds[] = {BPF_PROG_GET_NEXT_ID, BPF_MAP_GET_NEXT_ID, BPF_BTF_GET_NEXT_ID,
				   BPF_LINK_GET_NEXT_ID};
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	uint8_t b = fuzz_u8(&s->in);
	a.start_id = b < 250 ? b % 8 : fuzz_u32(&s->in);
	call(s, cmds[fuzz_u8(&s->in) % 4], &a, ATTR_END(next_id));
}

static void do_fd_by_id(struct state *s)
{
	static const int cmds[] = {BPF_PROG_GET_FD_BY_ID, BPF_MAP_GET_FD_BY_ID,
				   BPF_BTF_GET_FD_BY_ID, BPF_LINK_GET_FD_BY_ID};
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	uint8_t b = fuzz_u8(&s->in);
	a.start_id = b < 250 ? b % 8 : fuzz_u32(&s->in);
	uint8_t f = fuzz_u8(&s->in);
	a.open_flags = f < 200 ? 0 : f < 250 ? f % 4 * BPF_F_RDONLY : fuzz_u32(&s->in);
	remember(s, call(s, cmds[fuzz_u8(&s->in) % 4], &a, ATTR_END(open_flags)));
}

/* An array the info struct points at: count elements of elem bytes. */
static uint64_t info_array(struct state *s, uint32_t *count, size_t elem)
{
	uint8_t b = fuzz_u8(&s->in);
	*count = b < 200 ? b % 8 : b < 250 ? (b % 4) * 64 : fuzz_u16(&s->in);
	if ((b & 7) == 7)
		return 0;
	return fuzz_ptr(fuzz_buf(&s->bufs, (size_t)*count * elem));
}

static void do_get_info(struct state *s)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	int fd = pick_fd(s);
	struct shape sh = shape_of(s, fd);
	a.info.bpf_fd = (uint32_t)fd;
	uint8_t b = fuzz_u8(&s->in);
	a.info.info_len = b < 250 ? b % (sizeof(struct bpf_prog_info) + 24) : fuzz_u16(&s->in);
	if (fuzz_u8(&s->in) == 255) {
		call(s, BPF_OBJ_GET_INFO_BY_FD, &a, ATTR_END(info)); /* info NULL */
		return;
	}
	/* The caller's struct, as big as info_len says, its pointers to
	 * buffers as big as its counts say. */
	union {
		struct bpf_prog_info prog;
		struct bpf_btf_info btf;
		unsigned char raw[sizeof(struct bpf_prog_info) + 64];
	} u;
	memset(&u, 0, sizeof(u));
	if (sh.kind == BEE_OBJ_PROG) {
		u.prog.xlated_prog_insns = info_array(s, &u.prog.xlated_prog_len, 1);
		u.prog.jited_prog_insns = info_array(s, &u.prog.jited_prog_len, 1);
		u.prog.map_ids = info_array(s, &u.prog.nr_map_ids, 4);
		u.prog.jited_ksyms = info_array(s, &u.prog.nr_jited_ksyms, 8);
		u.prog.jited_func_lens = info_array(s, &u.prog.nr_jited_func_lens, 4);
	} else if (sh.kind == BEE_OBJ_BTF) {
		u.btf.btf = info_array(s, &u.btf.btf_size, 1);
	}
	/* A struct cut short by info_len holds no half pointers: the host's
	 * struct is info_len bytes, so an array whose pointer is not in it
	 * is absent (its count may still be, as bee reads it). */
#define CUT(ptr) \
	if (offsetof(struct bpf_prog_info, ptr) + 8 > a.info.info_len) \
		u.prog.ptr = 0
	if (sh.kind == BEE_OBJ_PROG) {
		CUT(xlated_prog_insns);
		CUT(jited_prog_insns);
		CUT(map_ids);
		CUT(jited_ksyms);
		CUT(jited_func_lens);
	} else if (sh.kind == BEE_OBJ_BTF &&
		   offsetof(struct bpf_btf_info, btf) + 8 > a.info.info_len) {
		u.btf.btf = 0;
	}
#undef CUT
	if (fuzz_u8(&s->in) == 255) /* a newer caller's field bee does not know */
		u.raw[sizeof(struct bpf_prog_info) + fuzz_u8(&s->in) % 64] = 1;
	unsigned char *info = fuzz_buf(&s->bufs, a.info.info_len);
	memcpy(info, &u, a.info.info_len < sizeof(u) ? a.info.info_len : sizeof(u));
	if (a.info.info_len > sizeof(u))
		fuzz_fill(&s->in, info + sizeof(u), a.info.info_len - sizeof(u));
	a.info.info = fuzz_ptr(info);
	call(s, BPF_OBJ_GET_INFO_BY_FD, &a, ATTR_END(info));
}

/* ---- BTF, links, stats, close ---- */

static void do_btf_load(struct state *s)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	uint8_t b = fuzz_u8(&s->in);
	uint32_t size = b < 250 ? b : fuzz_u16(&s->in);
	unsigned char *blob = fuzz_buf(&s->bufs, size);
	fuzz_fill(&s->in, blob, size);
	if ((b & 1) && size >= sizeof(struct btf_header)) {
		/* a header that passes the first checks */
		struct btf_header h = {.magic = BTF_MAGIC, .version = BTF_VERSION,
				       .hdr_len = sizeof(h)};
		uint32_t body = size - (uint32_t)sizeof(h);
		h.type_off = 0;
		h.type_len = body ? fuzz_u8(&s->in) % (body + 1) / 4 * 4 : 0;
		h.str_off = h.type_len;
		h.str_len = body - h.type_len;
		if (fuzz_u8(&s->in) & 1)
			h.str_len = fuzz_u32(&s->in);
		memcpy(blob, &h, sizeof(h));
		if (h.str_len && (uint64_t)h.str_off + h.str_len <= body) {
			blob[sizeof(h) + h.str_off] = 0;
			blob[sizeof(h) + h.str_off + h.str_len - 1] = 0;
		}
	}
	a.btf = fuzz_u8(&s->in) == 255 ? 0 : fuzz_ptr(blob);
	a.btf_size = fuzz_u8(&s->in) == 255 ? (1u << 25) : size;
	if (a.btf_size > size && a.btf)
		a.btf_size = size; /* E2BIG only where bee need not read */
	if (fuzz_u8(&s->in) == 255) {
		a.btf_log_size = 256;
		a.btf_log_level = 1;
		a.btf_log_buf = fuzz_ptr(fuzz_buf(&s->bufs, 256));
	}
	remember(s, call(s, BPF_BTF_LOAD, &a, ATTR_END(btf_log_level)));
}

static void do_link_create(struct state *s)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (uint32_t)pick_fd(s);
	a.link_create.target_fd = fuzz_u8(&s->in) % 4;
	a.link_create.attach_type = fuzz_u8(&s->in) % 48;
	a.link_create.flags = fuzz_u8(&s->in) < 250 ? 0 : fuzz_u32(&s->in);
	remember(s, call(s, BPF_LINK_CREATE, &a, ATTR_END(link_create)));
}

static void do_link_detach(struct state *s)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.link_detach.link_fd = (uint32_t)pick_fd(s);
	call(s, BPF_LINK_DETACH, &a, ATTR_END(link_detach));
}

static void do_enable_stats(struct state *s)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.enable_stats.type = fuzz_u8(&s->in) < 250 ? BPF_STATS_RUN_TIME : fuzz_u32(&s->in);
	remember(s, call(s, BPF_ENABLE_STATS, &a, ATTR_END(enable_stats)));
}

static void do_close(struct state *s)
{
	int fd = pick_fd(s);
	int ret = bee_close(s->bee, fd);
	if (ret != 0 && ret != -EBADF)
		abort();
}

/* Fire a hook that links may be attached to (the embedder's side). */
static void do_link_run(struct state *s)
{
	uint64_t args[4] = {1, 2, 3, 4};
	uint8_t t = fuzz_u8(&s->in);
	int ret = bee_link_run(s->bee, t % 48, fuzz_u8(&s->in) % 4, args, sizeof(args));
	if (ret < -4095)
		abort();
}

static void do_step(struct state *s)
{
	uint8_t c = fuzz_u8(&s->in);
	switch (c % 26) {
	case 0: case 1: case 2: do_map_create(s); break;
	case 3: do_map_elem(s, BPF_MAP_LOOKUP_ELEM); break;
	case 4: case 5: do_map_elem(s, BPF_MAP_UPDATE_ELEM); break;
	case 6: do_map_elem(s, BPF_MAP_DELETE_ELEM); break;
	case 7: do_map_elem(s, BPF_MAP_GET_NEXT_KEY); break;
	case 8: do_map_elem(s, BPF_MAP_LOOKUP_AND_DELETE_ELEM); break;
	case 9: do_map_freeze(s); break;
	case 10: {
		static const int cmds[] = {BPF_MAP_LOOKUP_BATCH, BPF_MAP_LOOKUP_AND_DELETE_BATCH,
					   BPF_MAP_UPDATE_BATCH, BPF_MAP_DELETE_BATCH};
		do_map_batch(s, cmds[fuzz_u8(&s->in) % 4]);
		break;
	}
	case 11: case 12: case 13: do_prog_load(s); break;
	case 14: case 15: do_test_run(s); break;
	case 16: do_obj_pin(s); break;
	case 17: do_obj_get(s); break;
	case 18: do_next_id(s); break;
	case 19: do_fd_by_id(s); break;
	case 20: do_get_info(s); break;
	case 21: do_btf_load(s); break;
	case 22: do_link_create(s); break;
	case 23: c & 32 ? do_link_detach(s) : do_link_run(s); break;
	case 24: do_enable_stats(s); break;
	case 25: do_close(s); break;
	}
}

/* ---- seeds ---- */

/* Hand-made inputs: a map with elements, a program using it run on a
 * packet, pinned and read back; a loop the budget ends; BTF and info. */
static const uint8_t seed_map_prog[] = {
	0x00,
	/* map create: HASH (t=0), key 4 (idx 4), value 8 (idx 6), max 8 (idx 4), flags 0,
	 * inner no, extra 0, numa no, name no, size mode 0 */
	0, 0, 4, 6, 4, 0, 0, 0, 0, 0, 0,
	/* update: fd pick 0, key buf, value buf, flags */
	4, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* prog load XDP: lddw map (op 2), call lookup (op 4), exit */
	11, 1, 3, 2, 0x11, 1, 0, 4, 0, 0, 13, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* test run on the program (fd pick 1), packet 64 */
	14, 1, 8, 0, 0, 0, 0, 0, 0, 0, 0,
	/* pin map as "map" */
	16, 0, 0, 1, 12, 0, 0,
	/* get it back */
	17, 0, 1, 12, 0, 0, 0,
};

static const uint8_t seed_loop[] = {
	0x04,
	/* prog load SOCKET_FILTER: r0 = 0; ja -1 */
	11, 0, 2, 1, 0, 0, 14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* test run, packet 64, repeat 2 */
	14, 0, 8, 0, 0, 0, 0, 2, 0, 0,
	/* info of the program */
	20, 0, 100, 0, 3, 3, 3, 3, 3, 0, 0,
};

static const uint8_t seed_btf_link[] = {
	0x01,
	21, 64, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	11, 3, 1, 13, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	22, 1, 0, 0, 0, 0,
	23, 0, 0, 0,
	24, 0, 0,
	18, 0, 0, 0, 19, 1, 0, 0, 0,
	25, 0,
};

static int write_seeds(const char *dir)
{
	static const struct {
		const char *name;
		const uint8_t *data;
		size_t len;
	} seeds[] = {
		{"map_prog", seed_map_prog, sizeof(seed_map_prog)},
		{"loop", seed_loop, sizeof(seed_loop)},
		{"btf_link", seed_btf_link, sizeof(seed_btf_link)},
	};
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		if (fuzz_write_file(dir, seeds[i].name, seeds[i].data, seeds[i].len))
			return 1;
	return 0;
}

/* ---- libFuzzer ---- */

static void remove_pin_dir(void)
{
	fuzz_rm_tree(pin_dir, true);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	const char *seed_dir = getenv("BEE_FUZZ_SEEDS");
	if (seed_dir && *seed_dir)
		exit(write_seeds(seed_dir));
	snprintf(pin_dir, sizeof(pin_dir), "/tmp/bee-fuzz-bpf-%d", (int)getpid());
	atexit(remove_pin_dir);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state s = {.in = {data, size}};
	fuzz_rm_tree(pin_dir, false);
	uint8_t settings = fuzz_u8(&s.in);
	s.ncpus = 1 + (settings & 3);
	struct bee_opts o = {.sz = sizeof(o), .pin_dir = pin_dir, .ncpus = s.ncpus,
			     .engine = settings & 4 ? BEE_ENGINE_JIT : BEE_ENGINE_INTERP,
			     .max_insns = 1u << 16};
	s.bee = bee_new(&o);
	if (!s.bee)
		abort();
	for (int steps = 0; steps < 64 && !fuzz_empty(&s.in); steps++) {
		do_step(&s);
		fuzz_bufs_free(&s.bufs);
	}
	fuzz_bufs_free(&s.bufs);
	bee_free(s.bee);
	return 0;
}
