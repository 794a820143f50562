/*
 * diff_maps.c - bee's map commands against the real kernel's, operation
 * by operation.
 *
 * Theory.  bee_bpf() claims to answer the kernel's bpf() map commands as
 * the kernel does.  The strongest cheap check of that claim is to replay
 * one sequence of commands on both and compare every answer: the return
 * value (or negative errno), the count a batch command writes back, and
 * every byte a lookup reads.  The test code never knows which side it
 * talks to: a `struct target` carries one function with the bpf() shape,
 *     long (*bpf)(void *self, int cmd, union bpf_attr *attr, unsigned size)
 * (bee: bee_bpf on a struct bee; kernel: syscall(__NR_bpf) returning
 * -errno on failure) and a close function, and every step builds its own
 * union bpf_attr for each side (the commands write results back into it).
 *
 * What is compared, and what is deliberately not:
 *  - Random sequences, seeded (the seed is printed; --seed, --ops and
 *    --type replay one), over ARRAY, PERCPU_ARRAY, HASH, PERCPU_HASH,
 *    LRU_HASH, QUEUE, STACK, BLOOM_FILTER, LPM_TRIE, PROG_ARRAY,
 *    ARRAY_OF_MAPS and HASH_OF_MAPS: updates with BPF_ANY / NOEXIST /
 *    EXIST / BPF_F_LOCK / undefined flags, lookups (also with flags),
 *    deletes, get_next_key, full iterations, lookup_and_delete, batch
 *    commands, and a freeze near the end of some sequences.
 *  - Hash iteration order is the kernel's bucket order, which bee need not
 *    share: full iterations of hashes and tries are compared as sets (then
 *    every element's value), arrays in order.  A single get_next_key on a
 *    hash compares only the return value.  Hash batch lookups are done in
 *    one call big enough for the whole map (the kernel's cursor for a hash
 *    is a bucket number, bee's the last key: opaque either way).
 *  - LRU_HASH sequences keep at most 64 live keys in a map of 1024, so the
 *    kernel never evicts (its per-CPU free lists can evict before the map
 *    is full when they run low; 1024 keeps them far from that).
 *  - Per-CPU values: bee is given as many CPUs as the kernel has possible
 *    CPUs (/sys/devices/system/cpu/possible), so host buffers have the
 *    same size (ncpus values of round_up(value_size, 8) bytes).
 *  - BLOOM_FILTER: bee hashes differently (documented in bloom.c), so a
 *    false positive on one side only is counted and reported, not a
 *    mismatch; a "not present" for a value that was pushed is one.
 *  - fd-valued maps: values written are each side's own handles of
 *    equivalent objects; lookups return ids, which differ, so only the
 *    return value is compared.
 *  - Fixed cases: map creation rules (sizes, max_entries 0, flags per
 *    type, names, ring buffer sizes), NULL key/value, bad handles,
 *    BPF_F_RDONLY / BPF_F_WRONLY, freeze twice, non-zero attribute bytes
 *    past a command's last field, attr larger than the union.
 *  - Program tags: bpf_prog_info.tag and xlated_prog_len of a few programs
 *    loaded in both.  Only programs without helper calls and without
 *    context accesses: the kernel's verifier rewrites those (inlined map
 *    lookups, ctx field conversions), so its xlated code legitimately
 *    differs there.  A map reference (lddw map fd) is fine: the tag
 *    ignores the fd and xlated keeps the two slots.
 *
 * Any mismatch fails the test and prints the operations that led to it and
 * the command line replaying the sequence; the rest of that sequence is
 * skipped (the two sides have diverged), other map types go on.
 * Exit 77 with "SKIP: reason" when the kernel's bpf() is not usable.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "../common.h"
#include "bee/bee.h"
#include "kbpf.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif

/* ---- the two targets ------------------------------------------------------ */

struct target {
	const char *name;
	long (*bpf)(void *self, int cmd, union bpf_attr *attr, unsigned size);
	int (*close)(void *self, int fd);
	void *self;
};


static long bee_target_bpf(void *self, int cmd, union bpf_attr *attr, unsigned size)
{
	return bee_bpf(self, cmd, attr, size);
}

static int bee_target_close(void *self, int fd)
{
	return fd >= 0 ? bee_close(self, fd) : 0;
}

enum { BEE, KERN, NT };
static struct target tg[NT];

/* ---- bookkeeping: op log, mismatches ---------------------------------------- */

static unsigned long ops_compared, mismatches, bloom_fp_diffs;
static bool seq_failed;       /* the running sequence diverged */
static char **oplog;
static size_t oplog_n, oplog_cap;
static const char *seq_name = "";
static uint64_t seq_seed;
static unsigned seq_ops;

static unsigned seq_mismatches;
static char seen_msgs[64][160];
static unsigned seen_count[64], n_seen;

static void log_op(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_op(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (oplog_n == oplog_cap) {
		oplog_cap = oplog_cap ? oplog_cap * 2 : 256;
		oplog = realloc(oplog, oplog_cap * sizeof(*oplog));
		if (!oplog)
			abort();
	}
	oplog[oplog_n++] = strdup(buf);
}

static void log_reset(const char *name)
{
	for (size_t i = 0; i < oplog_n; i++)
		free(oplog[i]);
	oplog_n = 0;
	seq_name = name;
	seq_failed = false;
	seq_mismatches = 0;
	n_seen = 0;
}

/*
 * Report a mismatch.  The first one of a sequence prints the operations
 * that led to it; later ones one line each (at most 3 of the same text).
 * Only a divergence (one side changed state, the other did not) stops the
 * sequence: two different errnos leave both maps as they were, so the
 * comparison goes on and finds what else differs.
 */

static void mismatch_ex(bool diverged, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	mismatches++;
	if (diverged)
		seq_failed = true;
	/* the same kind of mismatch (text up to its first ':') at most 3 times */
	size_t kl = strcspn(msg, ":");
	if (kl >= sizeof(seen_msgs[0]))
		kl = sizeof(seen_msgs[0]) - 1;
	unsigned slot = n_seen;
	for (unsigned i = 0; i < n_seen; i++)
		if (strlen(seen_msgs[i]) == kl && !strncmp(seen_msgs[i], msg, kl))
			slot = i;
	if (slot == n_seen && n_seen < 64) {
		memcpy(seen_msgs[n_seen], msg, kl);
		seen_msgs[n_seen][kl] = 0;
		seen_count[n_seen++] = 0;
	}
	if (slot < 64 && ++seen_count[slot] > 3 && !diverged)
		return;
	printf("MISMATCH [%s] at operation %zu (%s): %s%s\n", seq_name, oplog_n ? oplog_n - 1 : 0,
	       oplog_n ? oplog[oplog_n - 1] : "-", msg,
	       diverged ? " (the maps diverged: rest of the sequence skipped)" : "");
	if (seq_mismatches++)
		return;
	printf("  the sequence that led to it (%s):\n", seq_name);
	size_t from = oplog_n > 60 ? oplog_n - 60 : 0;
	if (from)
		printf("    ... %zu earlier operations (replay them all with the command below)\n",
		       from);
	for (size_t i = from; i < oplog_n; i++)
		printf("    %4zu  %s\n", i, oplog[i]);
	if (seq_seed)
		printf("  replay: diff_maps --type %s --seed %" PRIu64 " --ops %u\n", seq_name,
		       seq_seed, seq_ops);
}

static void mismatch(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void mismatch(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	mismatch_ex(false, fmt, ap);
	va_end(ap);
}

static void divergence(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void divergence(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	mismatch_ex(true, fmt, ap);
	va_end(ap);
}

static const char *err_name(long e)
{
	static char buf[8][32];
	static int slot;
	char *b = buf[slot++ % 8];
	if (e >= 0)
		snprintf(b, 32, "%ld", e);
	else if (e == -ENOTSUPP)
		snprintf(b, 32, "-ENOTSUPP");
	else {
		const char *n = strerrorname_np((int)-e);
		snprintf(b, 32, "-%s", n ? n : "?");
	}
	return b;
}

/* Compare two return values: equal, or both successful handles when
 * `handles` (fds differ between the targets).  True when they agree. */
static bool same_ret(const char *what, long b, long k, bool handles)
{
	ops_compared++;
	bool ok = handles ? ((b >= 0) == (k >= 0) && (b >= 0 || b == k)) : b == k;
	if (ok)
		return true;
	if ((b >= 0) != (k >= 0))
		divergence("%s: bee %s, kernel %s", what, err_name(b), err_name(k));
	else
		mismatch("%s: bee %s, kernel %s", what, err_name(b), err_name(k));
	return false;
}

static bool same_bytes(const char *what, const void *b, const void *k, size_t n)
{
	if (!memcmp(b, k, n))
		return true;
	const unsigned char *x = b, *y = k;
	size_t i = 0;
	while (x[i] == y[i])
		i++;
	mismatch("%s: bytes differ at %zu of %zu (bee %02x, kernel %02x)", what, i, n, x[i], y[i]);
	return false;
}

/* ---- random numbers (xorshift64*, seeded) ------------------------------------ */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint32_t rnd_below(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

static void rnd_fill(void *p, size_t n)
{
	unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		c[i] = (unsigned char)rnd();
}

/* ---- attribute builders ---------------------------------------------------- */

static inline uint64_t ptr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

struct create_args {
	uint32_t type, key_size, value_size, max_entries, flags;
	uint64_t extra;
	const char *name;
	int inner[NT]; /* map-in-map template, per target (-1: none) */
};

static long map_create(int t, const struct create_args *c)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = c->type;
	a.key_size = c->key_size;
	a.value_size = c->value_size;
	a.max_entries = c->max_entries;
	a.map_flags = c->flags;
	a.map_extra = c->extra;
	if (c->inner[t] >= 0)
		a.inner_map_fd = (uint32_t)c->inner[t];
	if (c->name)
		strncpy(a.map_name, c->name, sizeof(a.map_name) - 1);
	return tg[t].bpf(tg[t].self, BPF_MAP_CREATE, &a, sizeof(a));
}

/* One element command; value doubles as next_key for GET_NEXT_KEY. */
static long elem(int t, int cmd, int fd, const void *key, void *value, uint64_t flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = ptr(key);
	a.value = ptr(value);
	a.flags = flags;
	return tg[t].bpf(tg[t].self, cmd, &a, sizeof(a));
}

static long freeze(int t, int fd)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	return tg[t].bpf(tg[t].self, BPF_MAP_FREEZE, &a, sizeof(a));
}

static long batch(int t, int cmd, int fd, void *in, void *out, void *keys, void *values,
		  uint32_t *count, uint64_t elem_flags, uint64_t flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.batch.map_fd = (uint32_t)fd;
	a.batch.in_batch = ptr(in);
	a.batch.out_batch = ptr(out);
	a.batch.keys = ptr(keys);
	a.batch.values = ptr(values);
	a.batch.count = *count;
	a.batch.elem_flags = elem_flags;
	a.batch.flags = flags;
	long r = tg[t].bpf(tg[t].self, cmd, &a, sizeof(a));
	*count = a.batch.count;
	return r;
}

static void close_pair(const int fd[NT])
{
	for (int t = 0; t < NT; t++)
		tg[t].close(tg[t].self, fd[t]);
}

static const char *flags_name(uint64_t f)
{
	static char b[4][24];
	static int slot;
	char *s = b[slot++ % 4];
	switch (f) {
	case BPF_ANY: return "ANY";
	case BPF_NOEXIST: return "NOEXIST";
	case BPF_EXIST: return "EXIST";
	case BPF_F_LOCK: return "F_LOCK";
	default: snprintf(s, 24, "0x%" PRIx64, f); return s;
	}
}

static void hex(char *out, size_t cap, const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t o = 0;
	if (!p) {
		snprintf(out, cap, "NULL");
		return;
	}
	for (size_t i = 0; i < n && o + 3 < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%02x", c[i]);
	if (!n)
		snprintf(out, cap, "-");
}

/* ---- programs, for prog arrays and tags --------------------------------------- */

#define I(c, d, s, o, i) ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define R0_IMM(i) I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, i)
#define EXIT_ I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static long prog_load(int t, uint32_t type, const struct bpf_insn *insns, uint32_t n)
{
	static const char license[] = "GPL";
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.insns = ptr(insns);
	a.insn_cnt = n;
	a.license = ptr(license);
	return tg[t].bpf(tg[t].self, BPF_PROG_LOAD, &a, sizeof(a));
}

/* ---- the random sequences -------------------------------------------------- */

enum kind { K_ARRAY, K_HASH, K_QUEUE, K_BLOOM, K_LPM, K_FD };

struct spec {
	const char *name;
	enum kind kind;
	struct create_args c;
	uint32_t nkeys;        /* key space the sequence draws from */
	bool percpu, lru, ordered;
};

static unsigned ncpus = 1;

static uint32_t sys_value_size(const struct spec *s)
{
	if (s->kind == K_FD)
		return 4;
	return s->percpu ? ((s->c.value_size + 7) & ~7u) * ncpus : s->c.value_size;
}

/* Keys: index i of the key space written into key_size bytes.  LPM keys:
 * prefixlen then 4 data bytes from a few overlapping prefixes. */
static void make_key(const struct spec *s, uint32_t i, void *key)
{
	memset(key, 0, s->c.key_size);
	if (s->kind == K_LPM) {
		static const uint8_t bases[][4] = {{10, 0, 0, 0}, {10, 1, 0, 0}, {10, 1, 2, 0},
						   {192, 168, 1, 0}, {192, 168, 0, 0}, {0, 0, 0, 0}};
		uint32_t prefixlen = i % 34; /* 33: invalid */
		memcpy(key, &prefixlen, 4);
		memcpy((char *)key + 4, bases[(i / 34) % 6], 4);
		((uint8_t *)key)[7] ^= (uint8_t)(i / 204); /* low bits vary */
		return;
	}
	memcpy(key, &i, s->c.key_size < 4 ? s->c.key_size : 4);
	if (s->c.key_size > 4)
		((uint8_t *)key)[s->c.key_size - 1] = (uint8_t)(i * 37 + 1);
}

/* fd-valued maps: the value written is one of these per-target handles. */
struct fd_pool {
	int fd[8][NT];
	const char *what[8];
	int n;
};

static int cmp_keys_ks;
static int cmp_keys(const void *a, const void *b)
{
	return memcmp(a, b, (size_t)cmp_keys_ks);
}

/* Walk the map with get_next_key from NULL; returns the number of keys
 * (capped at cap) and the final return code in *end. */
static size_t iterate(int t, int fd, uint32_t ks, unsigned char *keys, size_t cap, long *end)
{
	size_t n = 0;
	unsigned char *prev = NULL;
	for (;;) {
		if (n == cap) {
			*end = -ERANGE;
			break;
		}
		long r = elem(t, BPF_MAP_GET_NEXT_KEY, fd, prev, keys + n * ks, 0);
		if (r) {
			*end = r;
			break;
		}
		prev = keys + n * ks;
		n++;
	}
	return n;
}

static void op_iterate(const struct spec *s, const int fd[NT])
{
	uint32_t ks = s->c.key_size;
	size_t cap = s->c.max_entries + 16;
	unsigned char *keys[NT];
	size_t n[NT];
	long end[NT];
	log_op("iterate all keys with get_next_key");
	for (int t = 0; t < NT; t++) {
		keys[t] = calloc(cap, ks ? ks : 1);
		n[t] = iterate(t, fd[t], ks, keys[t], cap, &end[t]);
	}
	if (!same_ret("iteration end", end[BEE], end[KERN], false))
		goto out;
	ops_compared++;
	if (n[BEE] != n[KERN]) {
		divergence("iteration: bee saw %zu keys, kernel %zu", n[BEE], n[KERN]);
		goto out;
	}
	if (!s->ordered) {
		cmp_keys_ks = (int)ks;
		for (int t = 0; t < NT; t++)
			qsort(keys[t], n[t], ks, cmp_keys);
	}
	if (!same_bytes(s->ordered ? "iteration keys (in order)" : "iteration keys (as sets)",
			keys[BEE], keys[KERN], n[BEE] * ks)) {
		seq_failed = true; /* different contents */
		goto out;
	}
	/* every element's value (fd maps: ids differ, presence only) */
	uint32_t vs = sys_value_size(s);
	unsigned char *v[NT] = {malloc(vs), malloc(vs)};
	for (size_t i = 0; i < n[BEE] && !seq_failed && s->kind != K_LPM; i++) {
		long r[NT];
		for (int t = 0; t < NT; t++) {
			memset(v[t], 0xa5, vs);
			r[t] = elem(t, BPF_MAP_LOOKUP_ELEM, fd[t], keys[t] + i * ks, v[t], 0);
		}
		if (same_ret("lookup of an iterated key", r[BEE], r[KERN], false) && !r[BEE] &&
		    s->kind != K_FD)
			same_bytes("value of an iterated key", v[BEE], v[KERN], vs);
	}
	free(v[BEE]);
	free(v[KERN]);
out:
	for (int t = 0; t < NT; t++)
		free(keys[t]);
}

/* Batch lookup (and delete) of the whole map, compared as sets of
 * key+value records; arrays in small steps, in order. */
static void op_batch_lookup(const struct spec *s, const int fd[NT], bool del)
{
	int cmd = del ? BPF_MAP_LOOKUP_AND_DELETE_BATCH : BPF_MAP_LOOKUP_BATCH;
	uint32_t ks = s->c.key_size, vs = sys_value_size(s);
	uint32_t cap = s->c.max_entries + 8;
	uint32_t step = s->ordered ? 1 + rnd_below(5) : cap;
	unsigned char *keys[NT], *vals[NT];
	uint32_t total[NT] = {0, 0};
	log_op("%s, %u per call", del ? "lookup_and_delete_batch" : "lookup_batch", step);
	for (int t = 0; t < NT; t++) {
		keys[t] = calloc(cap, ks);
		vals[t] = calloc(cap, vs);
	}
	uint64_t in[NT][4], out[NT][4]; /* cursors: at least key_size bytes */
	bool first = true;
	for (int round = 0; round < 4096 && !seq_failed; round++) {
		long r[NT];
		uint32_t cnt[NT];
		for (int t = 0; t < NT; t++) {
			cnt[t] = step;
			if (total[t] + step > cap)
				cnt[t] = cap - total[t];
			r[t] = batch(t, cmd, fd[t], first ? NULL : in[t], out[t],
				     keys[t] + (size_t)total[t] * ks, vals[t] + (size_t)total[t] * vs,
				     &cnt[t], 0, 0);
		}
		if (!same_ret("batch return", r[BEE], r[KERN], false))
			break;
		ops_compared++;
		if (cnt[BEE] != cnt[KERN]) {
			if (r[BEE] < 0 && cnt[BEE] == 0)
				mismatch("batch count after a failure: bee %u, kernel %u (return %s)",
					 cnt[BEE], cnt[KERN], err_name(r[BEE]));
			else
				divergence("batch count: bee %u, kernel %u (return %s)", cnt[BEE],
					   cnt[KERN], err_name(r[BEE]));
			break;
		}
		for (int t = 0; t < NT; t++) {
			total[t] += cnt[t];
			memcpy(in[t], out[t], sizeof(in[t]));
		}
		first = false;
		if (r[BEE] || !s->ordered || cnt[BEE] == 0)
			break;
	}
	if (!seq_failed) {
		/* records as sets: sort (key, value) pairs by key */
		size_t rs = (size_t)ks + vs;
		unsigned char *rec[NT];
		for (int t = 0; t < NT; t++) {
			rec[t] = malloc((size_t)total[t] * rs + 1);
			for (uint32_t i = 0; i < total[t]; i++) {
				memcpy(rec[t] + i * rs, keys[t] + (size_t)i * ks, ks);
				/* fd maps: values are ids, which differ; keys only */
				if (s->kind == K_FD)
					memset(rec[t] + i * rs + ks, 0, vs);
				else
					memcpy(rec[t] + i * rs + ks, vals[t] + (size_t)i * vs, vs);
			}
			if (!s->ordered) {
				cmp_keys_ks = (int)ks;
				qsort(rec[t], total[t], rs, cmp_keys);
			}
		}
		same_bytes("batch records", rec[BEE], rec[KERN], (size_t)total[BEE] * rs);
		free(rec[BEE]);
		free(rec[KERN]);
	}
	for (int t = 0; t < NT; t++) {
		free(keys[t]);
		free(vals[t]);
	}
}

static void op_batch_write(const struct spec *s, const int fd[NT], bool update)
{
	uint32_t ks = s->c.key_size, vs = sys_value_size(s);
	uint32_t n = 1 + rnd_below(4);
	unsigned char keys[4][16], vals[4 * 256];
	/* NOEXIST / EXIST as elem_flags: a fixed case (the kernel refuses them) */
	uint64_t ef = (uint64_t[]){BPF_ANY, BPF_ANY, BPF_ANY, 4}[rnd_below(4)];
	char kh[4][40];
	for (uint32_t i = 0; i < n; i++) {
		make_key(s, rnd_below(s->nkeys), keys[i]);
		hex(kh[i], sizeof(kh[i]), keys[i], ks);
	}
	rnd_fill(vals, (size_t)n * vs);
	if (s->percpu) {
		uint32_t one = (s->c.value_size + 7) & ~7u;
		for (unsigned c = 0; c < n * ncpus; c++)
			memset(vals + c * one + s->c.value_size, 0, one - s->c.value_size);
	}
	unsigned char flat[4 * 16];
	for (uint32_t i = 0; i < n; i++)
		memcpy(flat + i * ks, keys[i], ks);
	if (update)
		log_op("update_batch %u keys [%s %s %s %s] elem_flags %s", n, kh[0], n > 1 ? kh[1] : "",
		       n > 2 ? kh[2] : "", n > 3 ? kh[3] : "", flags_name(ef));
	else
		log_op("delete_batch %u keys [%s %s %s %s]", n, kh[0], n > 1 ? kh[1] : "",
		       n > 2 ? kh[2] : "", n > 3 ? kh[3] : "");
	long r[NT];
	uint32_t cnt[NT];
	for (int t = 0; t < NT; t++) {
		cnt[t] = n;
		r[t] = batch(t, update ? BPF_MAP_UPDATE_BATCH : BPF_MAP_DELETE_BATCH, fd[t], NULL,
			     NULL, flat, update ? vals : NULL, &cnt[t], update ? ef : 0, 0);
	}
	if (r[BEE] != r[KERN] && cnt[BEE] != cnt[KERN] && !(cnt[BEE] == 0 && cnt[KERN] == n) &&
	    !(cnt[KERN] == 0 && cnt[BEE] == n)) {
		/* both may have failed, but after doing different amounts */
		ops_compared++;
		divergence("%s: bee %s count %u, kernel %s count %u",
			   update ? "update_batch" : "delete_batch", err_name(r[BEE]), cnt[BEE],
			   err_name(r[KERN]), cnt[KERN]);
	} else if (same_ret(update ? "update_batch" : "delete_batch", r[BEE], r[KERN], false) &&
		   cnt[BEE] != cnt[KERN]) {
		ops_compared++;
		if (r[BEE] < 0 && ((cnt[BEE] == 0 && cnt[KERN] == n) || (cnt[BEE] == n && cnt[KERN] == 0)))
			mismatch("%s count after a failure: bee %u, kernel %u (return %s)",
				 update ? "update_batch" : "delete_batch", cnt[BEE], cnt[KERN],
				 err_name(r[BEE]));
		else
			divergence("%s count: bee %u, kernel %u", update ? "update_batch" : "delete_batch",
				   cnt[BEE], cnt[KERN]);
	}
}

/* A value to write: random bytes, or a handle from the pool for fd maps. */
static int pick_value(const struct spec *s, const struct fd_pool *pool, unsigned char *v[NT],
		      char *desc, size_t dcap)
{
	uint32_t vs = sys_value_size(s);
	if (s->kind == K_FD) {
		int i = (int)rnd_below((uint32_t)pool->n);
		for (int t = 0; t < NT; t++)
			memcpy(v[t], &pool->fd[i][t], 4);
		snprintf(desc, dcap, "<%s>", pool->what[i]);
		return i;
	}
	rnd_fill(v[BEE], vs);
	if (s->percpu) {
		/* padding after each CPU's value: zero here, a fixed case
		 * checks what happens to non-zero padding */
		uint32_t one = (s->c.value_size + 7) & ~7u;
		for (unsigned c = 0; c < ncpus; c++)
			memset(v[BEE] + c * one + s->c.value_size, 0, one - s->c.value_size);
	}
	memcpy(v[KERN], v[BEE], vs);
	hex(desc, dcap, v[BEE], vs < 24 ? vs : 24);
	return -1;
}

struct bloom_model {
	uint64_t pushed[512];
	int n;
};

static bool bloom_has(const struct bloom_model *m, uint64_t v)
{
	for (int i = 0; i < m->n; i++)
		if (m->pushed[i] == v)
			return true;
	return false;
}

static void run_sequence(const struct spec *s, const struct fd_pool *pool, unsigned nops,
			 bool do_freeze)
{
	int fd[NT];
	char what[640], kh[64], vh[80];
	log_op("create %s key %u value %u max %u flags 0x%x extra %" PRIu64, s->name,
	       s->c.key_size, s->c.value_size, s->c.max_entries, s->c.flags, s->c.extra);
	for (int t = 0; t < NT; t++)
		fd[t] = (int)map_create(t, &s->c);
	if (!same_ret("create", fd[BEE], fd[KERN], true) || fd[BEE] < 0) {
		close_pair(fd);
		return;
	}
	uint32_t ks = s->c.key_size, vs = sys_value_size(s);
	unsigned char *val[NT], *out[NT];
	for (int t = 0; t < NT; t++) {
		val[t] = calloc(1, vs + 8);
		out[t] = calloc(1, vs + 8);
	}
	unsigned char key[64], key2[64];
	struct bloom_model bloom = {.n = 0};
	unsigned freeze_at = do_freeze ? nops - nops / 8 : ~0u;

	for (unsigned i = 0; i < nops && !seq_failed; i++) {
		if (i == freeze_at) {
			log_op("freeze");
			long r[NT] = {freeze(BEE, fd[BEE]), freeze(KERN, fd[KERN])};
			same_ret("freeze", r[BEE], r[KERN], false);
			continue;
		}
		uint32_t pick = rnd_below(100);
		uint32_t ki = rnd_below(s->nkeys);
		make_key(s, ki, key);
		hex(kh, sizeof(kh), ks ? key : NULL, ks);
		const void *kp = ks ? key : NULL;
		long r[NT];

		if (s->kind == K_QUEUE || s->kind == K_BLOOM) {
			/* keyless maps: push, peek, pop, and what they refuse */
			if (pick < 45) {
				uint64_t f = s->kind == K_BLOOM
						     ? (uint64_t[]){BPF_ANY, BPF_ANY, BPF_ANY, BPF_EXIST, 8}[rnd_below(5)]
						     : (uint64_t[]){BPF_ANY, BPF_ANY, BPF_EXIST, BPF_NOEXIST, 4}[rnd_below(5)];
				uint64_t v = s->kind == K_BLOOM ? rnd_below(200) : rnd();
				memcpy(val[BEE], &v, 8);
				memcpy(val[KERN], &v, 8);
				log_op("push (update, NULL key) %" PRIu64 " flags %s", v, flags_name(f));
				for (int t = 0; t < NT; t++)
					r[t] = elem(t, BPF_MAP_UPDATE_ELEM, fd[t], NULL, val[t], f);
				if (same_ret("push", r[BEE], r[KERN], false) && !r[BEE] &&
				    s->kind == K_BLOOM && bloom.n < 512)
					bloom.pushed[bloom.n++] = v;
			} else if (pick < 75) {
				uint64_t v = rnd_below(200);
				uint64_t f = rnd_below(10) ? 0 : BPF_F_LOCK;
				for (int t = 0; t < NT; t++) {
					memset(out[t], 0, vs);
					if (s->kind == K_BLOOM)
						memcpy(out[t], &v, 8);
				}
				if (s->kind == K_BLOOM)
					log_op("peek (lookup) %" PRIu64 " flags %s", v, flags_name(f));
				else
					log_op("peek (lookup) flags %s", flags_name(f));
				for (int t = 0; t < NT; t++)
					r[t] = elem(t, BPF_MAP_LOOKUP_ELEM, fd[t], NULL, out[t], f);
				if (s->kind == K_BLOOM && f == 0 && r[BEE] != r[KERN] &&
				    !bloom_has(&bloom, v) && (r[BEE] == 0 || r[KERN] == 0) &&
				    (r[BEE] == -ENOENT || r[KERN] == -ENOENT)) {
					/* a false positive on one side: different hashes */
					bloom_fp_diffs++;
					ops_compared++;
				} else if (same_ret("peek", r[BEE], r[KERN], false) && !r[BEE] &&
					   s->kind == K_QUEUE) {
					same_bytes("peeked value", out[BEE], out[KERN], vs);
				}
			} else if (pick < 90) {
				uint64_t f = rnd_below(8) ? 0 : 1;
				log_op("pop (lookup_and_delete) flags %s", flags_name(f));
				for (int t = 0; t < NT; t++)
					r[t] = elem(t, BPF_MAP_LOOKUP_AND_DELETE_ELEM, fd[t], NULL, out[t], f);
				if (same_ret("pop", r[BEE], r[KERN], false) && !r[BEE])
					same_bytes("popped value", out[BEE], out[KERN], vs);
			} else if (pick < 94) {
				log_op("delete (NULL key)");
				for (int t = 0; t < NT; t++)
					r[t] = elem(t, BPF_MAP_DELETE_ELEM, fd[t], NULL, NULL, 0);
				same_ret("delete", r[BEE], r[KERN], false);
			} else if (pick < 97) {
				log_op("get_next_key (NULL key)");
				for (int t = 0; t < NT; t++)
					r[t] = elem(t, BPF_MAP_GET_NEXT_KEY, fd[t], NULL, out[t], 0);
				same_ret("get_next_key", r[BEE], r[KERN], false);
			} else {
				uint32_t cnt[NT] = {4, 4};
				uint64_t cur[NT];
				log_op("lookup_batch count 4");
				for (int t = 0; t < NT; t++)
					r[t] = batch(t, BPF_MAP_LOOKUP_BATCH, fd[t], NULL, &cur[t], out[t],
						     val[t], &cnt[t], 0, 0);
				same_ret("lookup_batch", r[BEE], r[KERN], false);
			}
			continue;
		}

		if (pick < 34) {
			static const uint64_t fl[] = {BPF_ANY, BPF_ANY, BPF_NOEXIST, BPF_NOEXIST,
						      BPF_EXIST, BPF_EXIST, BPF_F_LOCK, 3, 8};
			uint64_t f = fl[rnd_below(sizeof(fl) / sizeof(fl[0]))];
			pick_value(s, pool, val, vh, sizeof(vh));
			snprintf(what, sizeof(what), "update key %s value %s flags %s", kh, vh,
				 flags_name(f));
			log_op("%s", what);
			for (int t = 0; t < NT; t++)
				r[t] = elem(t, BPF_MAP_UPDATE_ELEM, fd[t], kp, val[t], f);
			same_ret("update", r[BEE], r[KERN], false);
		} else if (pick < 58) {
			uint64_t f = rnd_below(12) ? 0 : (rnd_below(2) ? BPF_F_LOCK : 2);
			log_op("lookup key %s flags %s", kh, flags_name(f));
			for (int t = 0; t < NT; t++) {
				memset(out[t], 0x5a, vs);
				r[t] = elem(t, BPF_MAP_LOOKUP_ELEM, fd[t], kp, out[t], f);
			}
			if (same_ret("lookup", r[BEE], r[KERN], false) && !r[BEE] && s->kind != K_FD)
				same_bytes("looked-up value", out[BEE], out[KERN], vs);
		} else if (pick < 70) {
			log_op("delete key %s", kh);
			for (int t = 0; t < NT; t++)
				r[t] = elem(t, BPF_MAP_DELETE_ELEM, fd[t], kp, NULL, 0);
			same_ret("delete", r[BEE], r[KERN], false);
		} else if (pick < 79) {
			bool null_key = rnd_below(5) == 0;
			if (!s->ordered && !null_key) {
				/* unordered maps: from a present key the answer depends
				 * on the iteration order; compare only from absent keys
				 * (the first key, or -ENOENT when empty).  Tries: from
				 * NULL only (lookup is longest-prefix, not exact). */
				long present = elem(KERN, BPF_MAP_LOOKUP_ELEM, fd[KERN], kp, out[KERN], 0);
				if (s->kind == K_LPM || present != -ENOENT)
					null_key = true;
			}
			log_op("get_next_key from %s", null_key ? "NULL" : kh);
			for (int t = 0; t < NT; t++) {
				memset(out[t], 0, ks + 8);
				r[t] = elem(t, BPF_MAP_GET_NEXT_KEY, fd[t], null_key ? NULL : kp, out[t], 0);
			}
			if (same_ret("get_next_key", r[BEE], r[KERN], false) && !r[BEE] && s->ordered)
				same_bytes("next key", out[BEE], out[KERN], ks);
		} else if (pick < 86) {
			uint64_t f = rnd_below(10) ? 0 : (rnd_below(2) ? BPF_F_LOCK : 2);
			log_op("lookup_and_delete key %s flags %s", kh, flags_name(f));
			for (int t = 0; t < NT; t++) {
				memset(out[t], 0x3c, vs);
				r[t] = elem(t, BPF_MAP_LOOKUP_AND_DELETE_ELEM, fd[t], kp, out[t], f);
			}
			if (same_ret("lookup_and_delete", r[BEE], r[KERN], false) && !r[BEE] &&
			    s->kind != K_FD)
				same_bytes("lookup_and_delete value", out[BEE], out[KERN], vs);
		} else if (pick < 89) {
			op_iterate(s, fd);
		} else if (pick < 92) {
			op_batch_write(s, fd, true);
		} else if (pick < 94) {
			op_batch_write(s, fd, false);
		} else if (pick < 96) {
			op_batch_lookup(s, fd, false);
		} else if (pick < 97) {
			op_batch_lookup(s, fd, true);
		} else {
			/* lookup of a second key, keeping the value buffers busy */
			make_key(s, rnd_below(s->nkeys), key2);
			hex(kh, sizeof(kh), key2, ks);
			log_op("lookup key %s", kh);
			for (int t = 0; t < NT; t++) {
				memset(out[t], 0x77, vs);
				r[t] = elem(t, BPF_MAP_LOOKUP_ELEM, fd[t], key2, out[t], 0);
			}
			if (same_ret("lookup", r[BEE], r[KERN], false) && !r[BEE] && s->kind != K_FD)
				same_bytes("looked-up value", out[BEE], out[KERN], vs);
		}
	}
	if (!seq_failed)
		op_iterate(s, fd);
	for (int t = 0; t < NT; t++) {
		free(val[t]);
		free(out[t]);
	}
	close_pair(fd);
}

/* ---- fixed cases ---------------------------------------------------------- */

static void fixed_create_cases(void)
{
	static const struct {
		const char *what;
		uint32_t type, ks, vs, max, flags;
		uint64_t extra;
		const char *name;
	} cases[] = {
		{"array ok", BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 0, "ok"},
		{"array key 8", BPF_MAP_TYPE_ARRAY, 8, 8, 4, 0, 0, NULL},
		{"array key 0", BPF_MAP_TYPE_ARRAY, 0, 8, 4, 0, 0, NULL},
		{"array value 0", BPF_MAP_TYPE_ARRAY, 4, 0, 4, 0, 0, NULL},
		{"array max 0", BPF_MAP_TYPE_ARRAY, 4, 8, 0, 0, 0, NULL},
		{"array flags 1<<31", BPF_MAP_TYPE_ARRAY, 4, 8, 4, 1u << 31, 0, NULL},
		{"array NO_PREALLOC", BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_NO_PREALLOC, 0, NULL},
		{"array MMAPABLE", BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_MMAPABLE, 0, NULL},
		{"array RDONLY|WRONLY", BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_RDONLY | BPF_F_WRONLY, 0, NULL},
		{"array map_extra", BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 1, NULL},
		{"array bad name", BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 0, "a-b"},
		{"array value 1<<20", BPF_MAP_TYPE_ARRAY, 4, 1u << 20, 1, 0, 0, NULL},
		{"array value 4G-1", BPF_MAP_TYPE_ARRAY, 4, 0xffffffffu, 1, 0, 0, NULL},
		{"percpu array value 32k+1", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 32769, 1, 0, 0, NULL},
		{"percpu array MMAPABLE", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1, BPF_F_MMAPABLE, 0, NULL},
		{"hash ok", BPF_MAP_TYPE_HASH, 3, 5, 7, 0, 0, NULL},
		{"hash key 0", BPF_MAP_TYPE_HASH, 0, 8, 4, 0, 0, NULL},
		{"hash value 0", BPF_MAP_TYPE_HASH, 4, 0, 4, 0, 0, NULL},
		{"hash max 0", BPF_MAP_TYPE_HASH, 4, 8, 0, 0, 0, NULL},
		{"hash key 513", BPF_MAP_TYPE_HASH, 513, 8, 4, 0, 0, NULL},
		{"hash key 512", BPF_MAP_TYPE_HASH, 512, 8, 4, 0, 0, NULL},
		{"hash NO_PREALLOC", BPF_MAP_TYPE_HASH, 4, 8, 4, BPF_F_NO_PREALLOC, 0, NULL},
		{"hash MMAPABLE", BPF_MAP_TYPE_HASH, 4, 8, 4, BPF_F_MMAPABLE, 0, NULL},
		{"hash NO_COMMON_LRU", BPF_MAP_TYPE_HASH, 4, 8, 4, BPF_F_NO_COMMON_LRU, 0, NULL},
		{"hash ZERO_SEED", BPF_MAP_TYPE_HASH, 4, 8, 4, BPF_F_ZERO_SEED, 0, NULL},
		{"hash flags 1<<31", BPF_MAP_TYPE_HASH, 4, 8, 4, 1u << 31, 0, NULL},
		{"percpu hash value 32k+1", BPF_MAP_TYPE_PERCPU_HASH, 4, 32769, 4, 0, 0, NULL},
		{"lru NO_PREALLOC", BPF_MAP_TYPE_LRU_HASH, 4, 8, 4, BPF_F_NO_PREALLOC, 0, NULL},
		{"lru NO_COMMON_LRU", BPF_MAP_TYPE_LRU_HASH, 4, 8, 4, BPF_F_NO_COMMON_LRU, 0, NULL},
		{"lru max 0", BPF_MAP_TYPE_LRU_HASH, 4, 8, 0, 0, 0, NULL},
		{"queue ok", BPF_MAP_TYPE_QUEUE, 0, 8, 4, 0, 0, NULL},
		{"queue key 4", BPF_MAP_TYPE_QUEUE, 4, 8, 4, 0, 0, NULL},
		{"queue value 0", BPF_MAP_TYPE_QUEUE, 0, 0, 4, 0, 0, NULL},
		{"queue max 0", BPF_MAP_TYPE_QUEUE, 0, 8, 0, 0, 0, NULL},
		{"queue NO_PREALLOC", BPF_MAP_TYPE_QUEUE, 0, 8, 4, BPF_F_NO_PREALLOC, 0, NULL},
		{"stack ZERO_SEED", BPF_MAP_TYPE_STACK, 0, 8, 4, BPF_F_ZERO_SEED, 0, NULL},
		{"bloom ok", BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 16, 0, 3, NULL},
		{"bloom key 4", BPF_MAP_TYPE_BLOOM_FILTER, 4, 8, 16, 0, 3, NULL},
		{"bloom extra 16", BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 16, 0, 16, NULL},
		{"bloom extra 15", BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 16, 0, 15, NULL},
		{"bloom extra 0", BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 16, 0, 0, NULL},
		{"bloom extra 1<<32", BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 16, 0, 1ull << 32, NULL},
		{"bloom max 0", BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 0, 0, 3, NULL},
		{"bloom value 0", BPF_MAP_TYPE_BLOOM_FILTER, 0, 0, 16, 0, 3, NULL},
		{"lpm ok", BPF_MAP_TYPE_LPM_TRIE, 8, 8, 16, BPF_F_NO_PREALLOC, 0, NULL},
		{"lpm prealloc", BPF_MAP_TYPE_LPM_TRIE, 8, 8, 16, 0, 0, NULL},
		{"lpm key 4", BPF_MAP_TYPE_LPM_TRIE, 4, 8, 16, BPF_F_NO_PREALLOC, 0, NULL},
		{"lpm key 5", BPF_MAP_TYPE_LPM_TRIE, 5, 8, 16, BPF_F_NO_PREALLOC, 0, NULL},
		{"lpm key 260", BPF_MAP_TYPE_LPM_TRIE, 260, 8, 16, BPF_F_NO_PREALLOC, 0, NULL},
		{"lpm key 261", BPF_MAP_TYPE_LPM_TRIE, 261, 8, 16, BPF_F_NO_PREALLOC, 0, NULL},
		{"lpm value 0", BPF_MAP_TYPE_LPM_TRIE, 8, 0, 16, BPF_F_NO_PREALLOC, 0, NULL},
		{"lpm max 0", BPF_MAP_TYPE_LPM_TRIE, 8, 8, 0, BPF_F_NO_PREALLOC, 0, NULL},
		{"prog array ok", BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0, 0, NULL},
		{"prog array value 8", BPF_MAP_TYPE_PROG_ARRAY, 4, 8, 4, 0, 0, NULL},
		{"prog array key 8", BPF_MAP_TYPE_PROG_ARRAY, 8, 4, 4, 0, 0, NULL},
		{"prog array max 0", BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 0, 0, 0, NULL},
		{"ringbuf 4096", BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0, 0, NULL},
		{"ringbuf 65536", BPF_MAP_TYPE_RINGBUF, 0, 0, 65536, 0, 0, NULL},
		{"ringbuf 0", BPF_MAP_TYPE_RINGBUF, 0, 0, 0, 0, 0, NULL},
		{"ringbuf 4097", BPF_MAP_TYPE_RINGBUF, 0, 0, 4097, 0, 0, NULL},
		{"ringbuf 12288", BPF_MAP_TYPE_RINGBUF, 0, 0, 12288, 0, 0, NULL},
		{"ringbuf 2048", BPF_MAP_TYPE_RINGBUF, 0, 0, 2048, 0, 0, NULL},
		{"ringbuf key 4", BPF_MAP_TYPE_RINGBUF, 4, 0, 4096, 0, 0, NULL},
		{"ringbuf value 4", BPF_MAP_TYPE_RINGBUF, 0, 4, 4096, 0, 0, NULL},
		{"ringbuf NO_PREALLOC", BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, BPF_F_NO_PREALLOC, 0, NULL},
		{"ringbuf RDONLY_PROG", BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, BPF_F_RDONLY_PROG, 0, NULL},
		{"unknown type 1000", 1000, 4, 8, 4, 0, 0, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct create_args c = {cases[i].type, cases[i].ks, cases[i].vs, cases[i].max,
					cases[i].flags, cases[i].extra, cases[i].name, {-1, -1}};
		int fd[NT];
		for (int t = 0; t < NT; t++)
			fd[t] = (int)map_create(t, &c);
		log_reset("create-rules");
		log_op("create %s", cases[i].what);
		same_ret(cases[i].what, fd[BEE], fd[KERN], true);
		if (fd[BEE] >= 0 && fd[KERN] >= 0 && cases[i].type == BPF_MAP_TYPE_RINGBUF) {
			/* what a ring buffer refuses from the host */
			uint64_t v = 0;
			static const int cmds[] = {BPF_MAP_LOOKUP_ELEM, BPF_MAP_UPDATE_ELEM,
						   BPF_MAP_DELETE_ELEM, BPF_MAP_GET_NEXT_KEY,
						   BPF_MAP_LOOKUP_AND_DELETE_ELEM};
			for (size_t j = 0; j < 5; j++) {
				long r[NT];
				log_op("ringbuf command %d", cmds[j]);
				for (int t = 0; t < NT; t++)
					r[t] = elem(t, cmds[j], fd[t], NULL, &v, 0);
				same_ret("ringbuf element command", r[BEE], r[KERN], false);
			}
		}
		close_pair(fd);
	}
}

/* Element commands with bad arguments, on one map of each common kind. */
static void fixed_elem_cases(int prog_fd[NT])
{
	struct create_args arr = {BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 0, "a", {-1, -1}};
	struct create_args hash = {BPF_MAP_TYPE_HASH, 4, 8, 4, 0, 0, "h", {-1, -1}};
	const struct create_args *maps[] = {&arr, &hash};
	log_reset("elem-errors");
	for (int m = 0; m < 2; m++) {
		int fd[NT];
		for (int t = 0; t < NT; t++)
			fd[t] = (int)map_create(t, maps[m]);
		log_op("create %s", m ? "hash" : "array");
		if (!same_ret("create", fd[BEE], fd[KERN], true) || fd[BEE] < 0)
			continue;
		uint32_t k = 1;
		uint64_t v = 7;
		long r[NT];
		struct {
			const char *what;
			int cmd;
			bool null_key, null_value;
			uint64_t flags;
		} ec[] = {
			{"update NULL key", BPF_MAP_UPDATE_ELEM, true, false, 0},
			{"update NULL value", BPF_MAP_UPDATE_ELEM, false, true, 0},
			{"lookup NULL key", BPF_MAP_LOOKUP_ELEM, true, false, 0},
			{"lookup NULL value", BPF_MAP_LOOKUP_ELEM, false, true, 0},
			{"delete NULL key", BPF_MAP_DELETE_ELEM, true, false, 0},
			{"get_next_key NULL next", BPF_MAP_GET_NEXT_KEY, false, true, 0},
			{"lookup_and_delete NULL value", BPF_MAP_LOOKUP_AND_DELETE_ELEM, false, true, 0},
			{"update", BPF_MAP_UPDATE_ELEM, false, false, 0},
			{"delete with flags (past its last field)", BPF_MAP_DELETE_ELEM, false, false, 1},
			{"get_next_key with flags (past its last field)", BPF_MAP_GET_NEXT_KEY, false, false, 1},
		};
		for (size_t i = 0; i < sizeof(ec) / sizeof(ec[0]); i++) {
			uint64_t out[NT] = {0, 0};
			log_op("%s", ec[i].what);
			for (int t = 0; t < NT; t++) {
				void *val = ec[i].null_value ? NULL
					    : ec[i].cmd == BPF_MAP_UPDATE_ELEM ? (void *)&v
									      : (void *)&out[t];
				r[t] = elem(t, ec[i].cmd, fd[t], ec[i].null_key ? NULL : &k, val,
					    ec[i].flags);
			}
			same_ret(ec[i].what, r[BEE], r[KERN], false);
		}
		/* bad handles: never opened, negative, a program's */
		int bad[NT][3] = {{100000, -1, prog_fd[BEE]}, {100000, -1, prog_fd[KERN]}};
		const char *bn[] = {"unused fd", "fd -1", "a program's fd"};
		for (int b = 0; b < 3; b++) {
			static const int cmds[] = {BPF_MAP_LOOKUP_ELEM, BPF_MAP_UPDATE_ELEM,
						   BPF_MAP_DELETE_ELEM, BPF_MAP_GET_NEXT_KEY,
						   BPF_MAP_FREEZE};
			for (int c = 0; c < 5; c++) {
				uint64_t out[NT];
				log_op("command %d on %s", cmds[c], bn[b]);
				for (int t = 0; t < NT; t++)
					r[t] = cmds[c] == BPF_MAP_FREEZE
						       ? freeze(t, bad[t][b])
						       : elem(t, cmds[c], bad[t][b], &k,
							      cmds[c] == BPF_MAP_UPDATE_ELEM ? (void *)&v
											     : (void *)&out[t],
							      0);
				same_ret(bn[b], r[BEE], r[KERN], false);
			}
		}
		/* a byte past the command's last field, and attr larger than the union */
		static const int cmds[] = {BPF_MAP_LOOKUP_ELEM, BPF_MAP_UPDATE_ELEM,
					   BPF_MAP_DELETE_ELEM, BPF_MAP_GET_NEXT_KEY, BPF_MAP_FREEZE,
					   BPF_MAP_CREATE};
		for (int c = 0; c < 6; c++) {
			for (int variant = 0; variant < 3; variant++) {
				/* 0: last byte of the union set; 1: 1024-byte attr, zero
				 * tail; 2: 1024-byte attr, byte 1000 set */
				uint64_t out[NT];
				log_op("command %d, %s", cmds[c],
				       variant == 0   ? "last byte of union bpf_attr set"
				       : variant == 1 ? "1024-byte attr, zero tail"
						      : "1024-byte attr, byte 1000 set");
				for (int t = 0; t < NT; t++) {
					union {
						union bpf_attr a;
						unsigned char b[1024];
					} u;
					memset(&u, 0, sizeof(u));
					if (cmds[c] == BPF_MAP_CREATE) {
						u.a.map_type = BPF_MAP_TYPE_ARRAY;
						u.a.key_size = 4;
						u.a.value_size = 8;
						u.a.max_entries = 2;
					} else {
						u.a.map_fd = (uint32_t)fd[t];
						u.a.key = ptr(&k);
						u.a.value = cmds[c] == BPF_MAP_UPDATE_ELEM ? ptr(&v)
											   : ptr(&out[t]);
					}
					if (cmds[c] == BPF_MAP_DELETE_ELEM || cmds[c] == BPF_MAP_FREEZE ||
					    cmds[c] == BPF_MAP_CREATE)
						u.a.value = cmds[c] == BPF_MAP_CREATE ? u.a.value : 0;
					if (cmds[c] == BPF_MAP_FREEZE)
						u.a.key = 0;
					unsigned size = sizeof(union bpf_attr);
					if (variant == 0)
						u.b[sizeof(union bpf_attr) - 1] = 1;
					else
						size = sizeof(u.b);
					if (variant == 2)
						u.b[1000] = 1;
					r[t] = tg[t].bpf(tg[t].self, cmds[c], &u.a, size);
				}
				same_ret("attr rules", r[BEE], r[KERN], cmds[c] == BPF_MAP_CREATE);
				if (cmds[c] == BPF_MAP_CREATE)
					close_pair((int[]){(int)r[BEE], (int)r[KERN]});
				if (cmds[c] == BPF_MAP_FREEZE && r[BEE] == 0 && r[KERN] == 0) {
					/* frozen: recreate the map for the next commands */
					close_pair(fd);
					for (int t = 0; t < NT; t++)
						fd[t] = (int)map_create(t, maps[m]);
				}
			}
		}
		/* freeze: twice, then write, read, iterate, batch */
		log_op("freeze");
		for (int t = 0; t < NT; t++)
			r[t] = freeze(t, fd[t]);
		same_ret("freeze", r[BEE], r[KERN], false);
		log_op("freeze again");
		for (int t = 0; t < NT; t++)
			r[t] = freeze(t, fd[t]);
		same_ret("freeze twice", r[BEE], r[KERN], false);
		static const int after[] = {BPF_MAP_UPDATE_ELEM, BPF_MAP_LOOKUP_ELEM,
					    BPF_MAP_DELETE_ELEM, BPF_MAP_GET_NEXT_KEY,
					    BPF_MAP_LOOKUP_AND_DELETE_ELEM};
		for (int c = 0; c < 5; c++) {
			uint64_t out[NT];
			log_op("command %d on a frozen map", after[c]);
			for (int t = 0; t < NT; t++)
				r[t] = elem(t, after[c], fd[t], &k,
					    after[c] == BPF_MAP_UPDATE_ELEM ? (void *)&v : (void *)&out[t], 0);
			same_ret("frozen map", r[BEE], r[KERN], false);
		}
		uint32_t cnt[NT] = {1, 1};
		log_op("update_batch on a frozen map");
		for (int t = 0; t < NT; t++)
			r[t] = batch(t, BPF_MAP_UPDATE_BATCH, fd[t], NULL, NULL, &k, &v, &cnt[t], 0, 0);
		same_ret("update_batch on a frozen map", r[BEE], r[KERN], false);
		close_pair(fd);

		/* BPF_F_RDONLY and BPF_F_WRONLY maps (host access rights) */
		uint32_t rw[] = {BPF_F_RDONLY, BPF_F_WRONLY, BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG};
		const char *rwn[] = {"RDONLY", "WRONLY", "RDONLY_PROG", "WRONLY_PROG"};
		for (int f = 0; f < 4; f++) {
			struct create_args c = *maps[m];
			c.flags = rw[f];
			for (int t = 0; t < NT; t++)
				fd[t] = (int)map_create(t, &c);
			log_op("create %s map", rwn[f]);
			if (!same_ret("create", fd[BEE], fd[KERN], true) || fd[BEE] < 0)
				continue;
			static const int cmds2[] = {BPF_MAP_UPDATE_ELEM, BPF_MAP_LOOKUP_ELEM,
						    BPF_MAP_DELETE_ELEM, BPF_MAP_GET_NEXT_KEY,
						    BPF_MAP_LOOKUP_AND_DELETE_ELEM, BPF_MAP_FREEZE};
			for (int c2 = 0; c2 < 6; c2++) {
				uint64_t out[NT];
				log_op("command %d on a %s map", cmds2[c2], rwn[f]);
				for (int t = 0; t < NT; t++)
					r[t] = cmds2[c2] == BPF_MAP_FREEZE
						       ? freeze(t, fd[t])
						       : elem(t, cmds2[c2], fd[t], &k,
							      cmds2[c2] == BPF_MAP_UPDATE_ELEM ? (void *)&v
											       : (void *)&out[t],
							      0);
				same_ret(rwn[f], r[BEE], r[KERN], false);
			}
			for (int b = 0; b < 2; b++) {
				uint32_t keys[2] = {0, 1}, cnt2[NT] = {2, 2};
				uint64_t vals[NT][2], cur[NT][2];
				int bc = b ? BPF_MAP_LOOKUP_BATCH : BPF_MAP_UPDATE_BATCH;
				log_op("batch %d on a %s map", bc, rwn[f]);
				for (int t = 0; t < NT; t++)
					r[t] = batch(t, bc, fd[t], NULL, cur[t], keys, vals[t], &cnt2[t], 0, 0);
				same_ret("batch on a RDONLY/WRONLY map", r[BEE], r[KERN], false);
			}
			close_pair(fd);
		}
	}
}

/* Cases the random sequences avoid because they make the maps diverge. */
static void fixed_divergent_cases(void)
{
	log_reset("divergent-cases");
	/* update_batch with elem_flags NOEXIST / EXIST on a hash */
	struct create_args hash = {BPF_MAP_TYPE_HASH, 4, 8, 8, 0, 0, NULL, {-1, -1}};
	for (uint64_t ef = BPF_NOEXIST; ef <= BPF_EXIST; ef++) {
		int fd[NT];
		for (int t = 0; t < NT; t++)
			fd[t] = (int)map_create(t, &hash);
		log_op("create hash key 4 value 8 max 8");
		if (!same_ret("create", fd[BEE], fd[KERN], true) || fd[BEE] < 0)
			continue;
		uint32_t keys[2] = {1, 2}, cnt[NT];
		uint64_t vals[2] = {10, 20};
		long r[NT];
		if (ef == BPF_EXIST) {
			log_op("update key 1 value 10 flags ANY");
			for (int t = 0; t < NT; t++)
				r[t] = elem(t, BPF_MAP_UPDATE_ELEM, fd[t], &keys[0], &vals[0], BPF_ANY);
			same_ret("update", r[BEE], r[KERN], false);
		}
		log_op("update_batch keys [1 2] elem_flags %s", flags_name(ef));
		for (int t = 0; t < NT; t++) {
			cnt[t] = 2;
			r[t] = batch(t, BPF_MAP_UPDATE_BATCH, fd[t], NULL, NULL, keys, vals, &cnt[t], ef, 0);
		}
		if (same_ret("update_batch with elem_flags NOEXIST/EXIST", r[BEE], r[KERN], false)) {
			ops_compared++;
			if (cnt[BEE] != cnt[KERN])
				mismatch("update_batch count: bee %u, kernel %u", cnt[BEE], cnt[KERN]);
		}
		close_pair(fd);
	}
	/* per-CPU values: what becomes of the padding after value_size */
	struct create_args pc[] = {
		{BPF_MAP_TYPE_PERCPU_ARRAY, 4, 12, 2, 0, 0, NULL, {-1, -1}},
		{BPF_MAP_TYPE_PERCPU_HASH, 4, 12, 2, 0, 0, NULL, {-1, -1}},
	};
	for (int m = 0; m < 2; m++) {
		int fd[NT];
		for (int t = 0; t < NT; t++)
			fd[t] = (int)map_create(t, &pc[m]);
		log_op("create %s key 4 value 12", m ? "percpu hash" : "percpu array");
		if (!same_ret("create", fd[BEE], fd[KERN], true) || fd[BEE] < 0)
			continue;
		uint32_t k = 1, vs = 16 * ncpus;
		unsigned char *in = malloc(vs), *out[NT] = {malloc(vs), malloc(vs)};
		memset(in, 0xab, vs); /* padding bytes 12..15 of each CPU non-zero */
		long r[NT];
		log_op("update key 1 with every byte 0xab, padding included");
		for (int t = 0; t < NT; t++)
			r[t] = elem(t, BPF_MAP_UPDATE_ELEM, fd[t], &k, in, BPF_ANY);
		same_ret("update", r[BEE], r[KERN], false);
		log_op("lookup key 1");
		for (int t = 0; t < NT; t++) {
			memset(out[t], 0x11, vs);
			r[t] = elem(t, BPF_MAP_LOOKUP_ELEM, fd[t], &k, out[t], 0);
		}
		if (same_ret("lookup", r[BEE], r[KERN], false) && !r[BEE])
			same_bytes("per-CPU value with padding", out[BEE], out[KERN], vs);
		free(in);
		free(out[BEE]);
		free(out[KERN]);
		close_pair(fd);
	}
}

/* Map-in-map creation rules against inner templates. */
static void fixed_map_in_map_cases(int prog_fd[NT])
{
	log_reset("map-in-map-create");
	struct create_args inners[] = {
		{BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 0, NULL, {-1, -1}},
		{BPF_MAP_TYPE_HASH, 4, 8, 4, 0, 0, NULL, {-1, -1}},
		{BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0, 0, NULL, {-1, -1}},
		{BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_INNER_MAP, 0, NULL, {-1, -1}},
		{BPF_MAP_TYPE_QUEUE, 0, 8, 4, 0, 0, NULL, {-1, -1}},
	};
	for (size_t i = 0; i < sizeof(inners) / sizeof(inners[0]); i++) {
		int in[NT];
		for (int t = 0; t < NT; t++)
			in[t] = (int)map_create(t, &inners[i]);
		log_op("create inner template type %u flags 0x%x", inners[i].type, inners[i].flags);
		if (!same_ret("inner create", in[BEE], in[KERN], true) || in[BEE] < 0)
			continue;
		for (int outer = 0; outer < 2; outer++) {
			for (int vsz = 0; vsz < 2; vsz++) {
				struct create_args c = {outer ? BPF_MAP_TYPE_HASH_OF_MAPS
							      : BPF_MAP_TYPE_ARRAY_OF_MAPS,
							4, vsz ? 8 : 4, 4, 0, 0, NULL, {in[BEE], in[KERN]}};
				int fd[NT];
				for (int t = 0; t < NT; t++)
					fd[t] = (int)map_create(t, &c);
				log_op("create %s value %u on it", outer ? "hash of maps" : "array of maps",
				       c.value_size);
				same_ret("map-in-map create", fd[BEE], fd[KERN], true);
				close_pair(fd);
			}
		}
		close_pair(in);
	}
	/* inner_map_fd on a type that takes none; a program as the template */
	struct create_args c = {BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 0, NULL, {prog_fd[BEE], prog_fd[KERN]}};
	int fd[NT];
	for (int t = 0; t < NT; t++)
		fd[t] = (int)map_create(t, &c);
	log_op("create array with inner_map_fd = a program");
	same_ret("inner_map_fd on an array", fd[BEE], fd[KERN], true);
	close_pair(fd);
	c.type = BPF_MAP_TYPE_ARRAY_OF_MAPS;
	c.value_size = 4;
	for (int t = 0; t < NT; t++)
		fd[t] = (int)map_create(t, &c);
	log_op("create array of maps with inner_map_fd = a program");
	same_ret("program as inner template", fd[BEE], fd[KERN], true);
	close_pair(fd);
}

/* ---- program tags ------------------------------------------------------------ */

static int prog_info(int t, int fd, struct bpf_prog_info *info)
{
	union bpf_attr a;
	memset(info, 0, sizeof(*info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (uint32_t)fd;
	a.info.info_len = sizeof(*info);
	a.info.info = ptr(info);
	return (int)tg[t].bpf(tg[t].self, BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a));
}

static void compare_tags(void)
{
	log_reset("prog-tags");
	struct create_args arr = {BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 0, "tagmap", {-1, -1}};
	int map[NT];
	for (int t = 0; t < NT; t++)
		map[t] = (int)map_create(t, &arr);
	if (!same_ret("create", map[BEE], map[KERN], true) || map[BEE] < 0)
		return;
	/* No helper calls, no context accesses, no dead code: the kernel's
	 * xlated code is then the program as given (lddw map keeps its two
	 * slots), so the tag and the length must match exactly. */
	struct {
		const char *what;
		uint32_t type;
		struct bpf_insn insns[16];
		uint32_t n;
		int map_at; /* index of an lddw map fd, or -1 */
		bool same_len; /* the kernel's xlated keeps every instruction */
	} progs[] = {
		{"r0 = 0; exit", BPF_PROG_TYPE_SOCKET_FILTER, {R0_IMM(0), EXIT_}, 2, -1, true},
		{"alu, no branches", BPF_PROG_TYPE_SOCKET_FILTER,
		 {R0_IMM(5), I(BPF_ALU64 | BPF_MUL | BPF_K, 0, 0, 0, 7),
		  I(BPF_ALU64 | BPF_ADD | BPF_K, 0, 0, 0, 1), I(BPF_ALU | BPF_AND | BPF_K, 0, 0, 0, 0xff),
		  EXIT_},
		 5, -1, true},
		/* the verifier knows r0 = 35 and removes the dead add: tag
		 * only (it is computed on the program as loaded) */
		{"alu and a constant branch", BPF_PROG_TYPE_SOCKET_FILTER,
		 {R0_IMM(5), I(BPF_ALU64 | BPF_MUL | BPF_K, 0, 0, 0, 7),
		  I(BPF_JMP | BPF_JGT | BPF_K, 0, 0, 1, 30), I(BPF_ALU64 | BPF_ADD | BPF_K, 0, 0, 0, 1),
		  I(BPF_ALU | BPF_AND | BPF_K, 0, 0, 0, 0xff), EXIT_},
		 6, -1, false},
		{"stack store and load", BPF_PROG_TYPE_XDP,
		 {I(BPF_ST | BPF_MEM | BPF_DW, 10, 0, -8, 42), I(BPF_LDX | BPF_MEM | BPF_DW, 0, 10, -8, 0),
		  EXIT_},
		 3, -1, true},
		{"lddw map fd, unused", BPF_PROG_TYPE_SOCKET_FILTER,
		 {I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD, 0, 0), I(0, 0, 0, 0, 0), R0_IMM(0),
		  EXIT_},
		 4, 0, true},
		{"lddw 64-bit constant", BPF_PROG_TYPE_XDP,
		 {I(BPF_LD | BPF_IMM | BPF_DW, 0, 0, 0, 0x12345678), I(0, 0, 0, 0, 0x9abcdef), EXIT_},
		 3, -1, true},
	};
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		int fd[NT];
		struct bpf_prog_info info[NT];
		log_op("load %s and compare tag and xlated_prog_len", progs[i].what);
		for (int t = 0; t < NT; t++) {
			struct bpf_insn insns[16];
			memcpy(insns, progs[i].insns, sizeof(insns));
			if (progs[i].map_at >= 0)
				insns[progs[i].map_at].imm = map[t];
			fd[t] = (int)prog_load(t, progs[i].type, insns, progs[i].n);
		}
		if (same_ret(progs[i].what, fd[BEE], fd[KERN], true) && fd[BEE] >= 0) {
			long r[NT] = {prog_info(BEE, fd[BEE], &info[BEE]),
				      prog_info(KERN, fd[KERN], &info[KERN])};
			if (same_ret("prog info", r[BEE], r[KERN], false) && !r[BEE]) {
				same_bytes("program tag", info[BEE].tag, info[KERN].tag, 8);
				ops_compared++;
				if (progs[i].same_len &&
				    info[BEE].xlated_prog_len != info[KERN].xlated_prog_len)
					mismatch("%s: xlated_prog_len bee %u, kernel %u", progs[i].what,
						 info[BEE].xlated_prog_len, info[KERN].xlated_prog_len);
			}
		}
		close_pair(fd);
	}
	close_pair(map);
}

/* ---- main ---------------------------------------------------------------- */

static unsigned possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	char buf[256];
	unsigned n = 0;
	if (f && fgets(buf, sizeof(buf), f)) {
		/* "0-3,5,7-8" */
		for (char *p = buf; *p && *p != '\n';) {
			unsigned a = (unsigned)strtoul(p, &p, 10), b = a;
			if (*p == '-')
				b = (unsigned)strtoul(p + 1, &p, 10);
			n += b - a + 1;
			if (*p == ',')
				p++;
		}
	}
	if (f)
		fclose(f);
	return n ? n : 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: diff_maps [--ops N] [--seed S] [--type NAME]\n"
			"  --ops N     operations per map type (default 2000)\n"
			"  --seed S    seed of the random sequences (default: time)\n"
			"  --type NAME only this sequence (e.g. HASH, LPM_TRIE)\n");
}

int main(int argc, char **argv)
{
	uint64_t nops = 2000, seed = 0;
	const char *only = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ops") && i + 1 < argc) {
			if (!test_parse_u64(argv[++i], &nops) || nops == 0 || nops > 100000000) {
				usage();
				return 2;
			}
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			if (!test_parse_u64(argv[++i], &seed)) {
				usage();
				return 2;
			}
		} else if (!strcmp(argv[i], "--type") && i + 1 < argc) {
			only = argv[++i];
		} else {
			usage();
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	char why[256];
	if (kbpf_probe(why, sizeof(why)) < 0) {
		printf("SKIP: the kernel's bpf() is not usable here: %s\n", why);
		return 77;
	}
	if (!seed) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		seed = ((uint64_t)ts.tv_sec * 1000003u) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
		if (!seed)
			seed = 1;
	}
	ncpus = possible_cpus();
	char pin_dir[64];
	snprintf(pin_dir, sizeof(pin_dir), "/tmp/bee-diff-maps-%d", (int)getpid());
	struct bee_opts o = {.sz = sizeof(o), .pin_dir = pin_dir, .ncpus = ncpus};
	struct bee *bee = bee_new(&o);
	if (!bee) {
		printf("bee_new failed: %s\n", strerror(errno));
		return 1;
	}
	tg[BEE] = (struct target){"bee", bee_target_bpf, bee_target_close, bee};
	tg[KERN] = (struct target){"kernel", kbpf_target_bpf, kbpf_target_close, NULL};
	printf("diff_maps: seed %" PRIu64 ", %" PRIu64 " operations per map type, %u possible CPUs\n",
	       seed, nops, ncpus);

	/* programs both sides load: prog array values, bad-fd cases */
	static const struct bpf_insn ret0[] = {R0_IMM(0), EXIT_};
	static const struct bpf_insn ret1[] = {R0_IMM(1), EXIT_};
	int sf0[NT], sf1[NT], xdp[NT];
	for (int t = 0; t < NT; t++) {
		sf0[t] = (int)prog_load(t, BPF_PROG_TYPE_SOCKET_FILTER, ret0, 2);
		sf1[t] = (int)prog_load(t, BPF_PROG_TYPE_SOCKET_FILTER, ret1, 2);
		xdp[t] = (int)prog_load(t, BPF_PROG_TYPE_XDP, ret0, 2);
		if (sf0[t] < 0 || sf1[t] < 0 || xdp[t] < 0) {
			printf("%s: loading a trivial program failed: %s %s %s\n", tg[t].name,
			       err_name(sf0[t]), err_name(sf1[t]), err_name(xdp[t]));
			return 1;
		}
	}

	if (!only) {
		fixed_create_cases();
		fixed_elem_cases(sf0);
		fixed_map_in_map_cases(sf0);
		fixed_divergent_cases();
		compare_tags();
		printf("fixed cases: %lu compared, %lu mismatches\n", ops_compared, mismatches);
	}

	/* fd pools for the fd-valued maps */
	struct fd_pool progs = {.n = 0};
	int inner_a[NT], inner_b[NT], inner_wrong[NT], inner_hash[NT];
	struct create_args tmpl = {BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 0, NULL, {-1, -1}};
	struct create_args wrong = {BPF_MAP_TYPE_ARRAY, 4, 16, 4, 0, 0, NULL, {-1, -1}};
	struct create_args hsh = {BPF_MAP_TYPE_HASH, 4, 8, 4, 0, 0, NULL, {-1, -1}};
	for (int t = 0; t < NT; t++) {
		inner_a[t] = (int)map_create(t, &tmpl);
		inner_b[t] = (int)map_create(t, &tmpl);
		inner_wrong[t] = (int)map_create(t, &wrong);
		inner_hash[t] = (int)map_create(t, &hsh);
	}
#define POOL_ADD(p, name, b, k)                                                   \
	do {                                                                      \
		(p).fd[(p).n][BEE] = (b);                                         \
		(p).fd[(p).n][KERN] = (k);                                        \
		(p).what[(p).n++] = (name);                                       \
	} while (0)
	POOL_ADD(progs, "socket filter A", sf0[BEE], sf0[KERN]);
	POOL_ADD(progs, "socket filter B", sf1[BEE], sf1[KERN]);
	POOL_ADD(progs, "xdp program", xdp[BEE], xdp[KERN]);
	POOL_ADD(progs, "a map's fd", inner_a[BEE], inner_a[KERN]);
	POOL_ADD(progs, "fd 100000", 100000, 100000);
	struct fd_pool maps = {.n = 0};
	POOL_ADD(maps, "inner array A", inner_a[BEE], inner_a[KERN]);
	POOL_ADD(maps, "inner array B", inner_b[BEE], inner_b[KERN]);
	POOL_ADD(maps, "array of another value size", inner_wrong[BEE], inner_wrong[KERN]);
	POOL_ADD(maps, "hash map", inner_hash[BEE], inner_hash[KERN]);
	POOL_ADD(maps, "a program's fd", sf0[BEE], sf0[KERN]);
	POOL_ADD(maps, "fd 100000", 100000, 100000);

	struct spec specs[] = {
		{"ARRAY", K_ARRAY, {BPF_MAP_TYPE_ARRAY, 4, 12, 32, 0, 0, "arr", {-1, -1}}, 36, false, false, true},
		{"PERCPU_ARRAY", K_ARRAY, {BPF_MAP_TYPE_PERCPU_ARRAY, 4, 12, 16, 0, 0, "parr", {-1, -1}}, 19, true, false, true},
		{"HASH", K_HASH, {BPF_MAP_TYPE_HASH, 8, 12, 48, 0, 0, "hash", {-1, -1}}, 64, false, false, false},
		{"HASH_NO_PREALLOC", K_HASH, {BPF_MAP_TYPE_HASH, 5, 8, 24, BPF_F_NO_PREALLOC, 0, "hnp", {-1, -1}}, 40, false, false, false},
		{"PERCPU_HASH", K_HASH, {BPF_MAP_TYPE_PERCPU_HASH, 4, 12, 32, 0, 0, "phash", {-1, -1}}, 48, true, false, false},
		{"LRU_HASH", K_HASH, {BPF_MAP_TYPE_LRU_HASH, 4, 16, 1024, 0, 0, "lru", {-1, -1}}, 64, false, true, false},
		{"QUEUE", K_QUEUE, {BPF_MAP_TYPE_QUEUE, 0, 8, 16, 0, 0, "q", {-1, -1}}, 1, false, false, true},
		{"STACK", K_QUEUE, {BPF_MAP_TYPE_STACK, 0, 8, 16, 0, 0, "s", {-1, -1}}, 1, false, false, true},
		{"BLOOM_FILTER", K_BLOOM, {BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 64, 0, 3, "bloom", {-1, -1}}, 1, false, false, true},
		{"LPM_TRIE", K_LPM, {BPF_MAP_TYPE_LPM_TRIE, 8, 8, 24, BPF_F_NO_PREALLOC, 0, "lpm", {-1, -1}}, 34 * 6 * 3, false, false, false},
		{"PROG_ARRAY", K_FD, {BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 8, 0, 0, "jmp", {-1, -1}}, 10, false, false, true},
		{"ARRAY_OF_MAPS", K_FD, {BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 8, 0, 0, "aom", {inner_a[BEE], inner_a[KERN]}}, 10, false, false, true},
		{"HASH_OF_MAPS", K_FD, {BPF_MAP_TYPE_HASH_OF_MAPS, 4, 4, 8, 0, 0, "hom", {inner_a[BEE], inner_a[KERN]}}, 12, false, false, false},
	};
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		if (only && strcmp(only, specs[i].name))
			continue;
		/* one seed per type, derived from the run's: --type replays it */
		rng_state = seed * 0x9e3779b97f4a7c15ull + (uint64_t)i * 0x632be59bd9b4e019ull + 1;
		if (!rng_state)
			rng_state = 1;
		log_reset(specs[i].name);
		seq_seed = seed;
		seq_ops = (unsigned)nops;
		unsigned long m0 = mismatches, o0 = ops_compared;
		const struct fd_pool *pool = specs[i].c.type == BPF_MAP_TYPE_PROG_ARRAY ? &progs : &maps;
		bool do_freeze = (seed >> (i % 60)) & 1;
		run_sequence(&specs[i], pool, (unsigned)nops, do_freeze);
		printf("  %-16s %7lu compared, %lu mismatch%s%s\n", specs[i].name, ops_compared - o0,
		       mismatches - m0, mismatches - m0 == 1 ? "" : "es",
		       seq_failed ? " (sequence stopped at the first)" : "");
	}
	if (bloom_fp_diffs)
		printf("bloom filter: %lu lookups where one side only reported a false positive "
		       "(different hash functions; not mismatches)\n",
		       bloom_fp_diffs);

	for (int t = 0; t < NT; t++) {
		int fds[] = {sf0[t], sf1[t], xdp[t], inner_a[t], inner_b[t], inner_wrong[t], inner_hash[t]};
		for (size_t j = 0; j < sizeof(fds) / sizeof(fds[0]); j++)
			tg[t].close(tg[t].self, fds[j]);
	}
	log_reset("");
	free(oplog);
	bee_free(bee);
	rmdir(pin_dir);
	printf("diff_maps: %lu operations compared, %lu mismatches (seed %" PRIu64 ")\n",
	       ops_compared, mismatches, seed);
	return mismatches ? 1 : 0;
}
