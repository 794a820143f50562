/*
 * test_map_misc.c - queue, stack, bloom filter, LPM trie, ring buffer and
 * perf event array maps: every operation, every error the kernel gives,
 * and the concurrent paths (ring buffer producer/consumer, LPM readers
 * against a writer, perf channels with loss).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "maps/map.h"
#include "maps/perf_event_array.h"
#include "maps/ringbuf.h"
#include "util/epoch.h"
#include "unit.h"

#define ENOTSUPP 524
#define NCPUS 4

/* ---- map lifetime ---- */

static void free_cb(void *p)
{
	struct bee_map *m = p;
	m->ops->free(m);
}

static void destroy_map(struct bee_obj *obj)
{
	bee_epoch_defer(free_cb, obj);
}

static struct bee_map *mk(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max, uint32_t flags,
			  uint64_t extra, int *err)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = ks;
	a.value_size = vs;
	a.max_entries = max;
	a.map_flags = flags;
	a.map_extra = extra;
	struct bee_map *m = bee_map_create_attr(&a, NCPUS, NULL, err);
	if (m)
		m->obj.destroy = destroy_map;
	return m;
}

/* The errno of a create that must fail (0 if it succeeded). */
static int mk_err(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max, uint32_t flags,
		  uint64_t extra)
{
	int err;
	struct bee_map *m = mk(type, ks, vs, max, flags, extra, &err);
	if (m) {
		bee_obj_put(&m->obj);
		return 0;
	}
	return err;
}

static void put(struct bee_map *m)
{
	if (m)
		bee_obj_put(&m->obj);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* ---- queue and stack ---- */

static void test_queue_stack_create(void)
{
	for (uint32_t t = BPF_MAP_TYPE_QUEUE; t <= BPF_MAP_TYPE_STACK; t++) {
		CHECK(mk_err(t, 4, 4, 4, 0, 0) == -EINVAL, "qs key_size 4");
		CHECK(mk_err(t, 0, 0, 4, 0, 0) == -EINVAL, "qs value_size 0");
		CHECK(mk_err(t, 0, 4, 0, 0, 0) == -EINVAL, "qs max_entries 0");
		CHECK(mk_err(t, 0, 4, 4, BPF_F_NO_PREALLOC, 0) == -EINVAL, "qs flags");
		CHECK(mk_err(t, 0, 4, 4, 0, 1) == -EINVAL, "qs map_extra");
		CHECK(mk_err(t, 0, 4, 4, BPF_F_RDONLY_PROG, 0) == 0, "qs access flags");
	}
}

static void test_queue(void)
{
	int err;
	struct bee_map *q = mk(BPF_MAP_TYPE_QUEUE, 0, 4, 3, 0, 0, &err);
	CHECK(q && err == 0, "queue create %d", err);
	if (!q)
		return;
	uint32_t v;
	CHECK(q->ops->pop(q, &v) == -ENOENT, "queue pop empty");
	CHECK(q->ops->peek(q, &v) == -ENOENT, "queue peek empty");
	for (v = 1; v <= 3; v++)
		CHECK(q->ops->push(q, &v, BPF_ANY) == 0, "queue push %u", v);
	v = 4;
	CHECK(q->ops->push(q, &v, BPF_ANY) == -E2BIG, "queue full");
	CHECK(q->ops->push(q, &v, BPF_NOEXIST) == -EINVAL, "queue NOEXIST");
	CHECK(q->ops->push(q, &v, 4) == -EINVAL, "queue flags 4");
	CHECK(q->ops->push(q, &v, BPF_EXIST) == 0, "queue EXIST overwrites");
	CHECK(q->ops->peek(q, &v) == 0 && v == 2, "queue peek oldest: %u", v);
	/* Host commands: lookup = peek, lookup_and_delete = pop, update = push. */
	CHECK(bee_map_sys_lookup(q, NULL, &v, 0) == 0 && v == 2, "queue sys lookup");
	CHECK(bee_map_sys_lookup_and_delete(q, NULL, &v, 0) == 0 && v == 2, "queue sys pop");
	CHECK(bee_map_sys_lookup_and_delete(q, NULL, &v, BPF_F_LOCK) == -EINVAL, "queue pop flags");
	CHECK(q->ops->pop(q, &v) == 0 && v == 3, "queue pop 3");
	CHECK(q->ops->pop(q, &v) == 0 && v == 4, "queue pop 4");
	CHECK(q->ops->pop(q, &v) == -ENOENT, "queue empty again");
	v = 7;
	CHECK(bee_map_sys_update(q, NULL, &v, BPF_ANY) == 0, "queue sys push");
	CHECK(bee_map_sys_lookup(q, NULL, &v, 0) == 0 && v == 7, "queue sys peek");
	CHECK(bee_map_sys_delete(q, NULL) == -EINVAL, "queue delete");
	uint32_t k;
	CHECK(bee_map_sys_get_next_key(q, NULL, &k) == -EINVAL, "queue get_next_key");
	CHECK(q->ops->lookup(q, NULL) == NULL, "queue prog lookup");
	CHECK(q->ops->update(q, NULL, &v, 0) == -EINVAL, "queue prog update");
	CHECK(q->ops->pop(q, &v) == 0, "drain");
	/* Wrap the circular array many times. */
	int bad = 0;
	for (uint32_t i = 0; i < 1000; i++) {
		uint32_t a = i, b = i + 1;
		q->ops->push(q, &a, 0);
		q->ops->push(q, &b, 0);
		if (q->ops->pop(q, &v) || v != a || q->ops->pop(q, &v) || v != b)
			bad++;
	}
	CHECK(bad == 0, "queue wrap order");
	put(q);

	/* Odd value size: 12 bytes. */
	q = mk(BPF_MAP_TYPE_QUEUE, 0, 12, 5, 0, 0, &err);
	CHECK(q != NULL, "queue 12-byte values");
	if (q) {
		unsigned char in[12], out[12];
		for (int i = 0; i < 5; i++) {
			memset(in, i + 1, sizeof(in));
			q->ops->push(q, in, 0);
		}
		bad = 0;
		for (int i = 0; i < 5; i++) {
			memset(in, i + 1, sizeof(in));
			if (q->ops->pop(q, out) || memcmp(in, out, 12))
				bad++;
		}
		CHECK(bad == 0, "queue 12-byte values round trip");
		put(q);
	}
}

static void test_stack(void)
{
	int err;
	struct bee_map *s = mk(BPF_MAP_TYPE_STACK, 0, 8, 3, 0, 0, &err);
	CHECK(s && err == 0, "stack create %d", err);
	if (!s)
		return;
	uint64_t v;
	CHECK(s->ops->pop(s, &v) == -ENOENT, "stack pop empty");
	for (v = 1; v <= 3; v++)
		CHECK(s->ops->push(s, &v, BPF_ANY) == 0, "stack push");
	v = 4;
	CHECK(s->ops->push(s, &v, BPF_ANY) == -E2BIG, "stack full");
	CHECK(s->ops->push(s, &v, BPF_EXIST) == 0, "stack EXIST drops the oldest");
	CHECK(s->ops->peek(s, &v) == 0 && v == 4, "stack peek top");
	CHECK(bee_map_sys_lookup(s, NULL, &v, 0) == 0 && v == 4, "stack sys peek");
	uint64_t want[] = {4, 3, 2};
	for (int i = 0; i < 3; i++)
		CHECK(bee_map_sys_lookup_and_delete(s, NULL, &v, 0) == 0 && v == want[i],
		      "stack pop %d: %llu", i, (unsigned long long)v);
	CHECK(s->ops->pop(s, &v) == -ENOENT, "stack empty");
	CHECK(s->ops->peek(s, &v) == -ENOENT, "stack peek empty");
	int bad = 0;
	for (uint64_t i = 0; i < 1000; i++) {
		uint64_t a = i, b = i * 3;
		s->ops->push(s, &a, 0);
		s->ops->push(s, &b, 0);
		if (s->ops->pop(s, &v) || v != b || s->ops->pop(s, &v) || v != a)
			bad++;
	}
	CHECK(bad == 0, "stack wrap order");
	put(s);
}

/* ---- bloom filter ---- */

static void test_bloom(void)
{
	const uint32_t T = BPF_MAP_TYPE_BLOOM_FILTER;
	CHECK(mk_err(T, 4, 4, 100, 0, 0) == -EINVAL, "bloom key_size");
	CHECK(mk_err(T, 0, 0, 100, 0, 0) == -EINVAL, "bloom value_size 0");
	CHECK(mk_err(T, 0, 4, 0, 0, 0) == -EINVAL, "bloom max_entries 0");
	CHECK(mk_err(T, 0, 4, 100, 0, 16) == -EINVAL, "bloom map_extra > 15");
	CHECK(mk_err(T, 0, 4, 100, BPF_F_NO_PREALLOC, 0) == -EINVAL, "bloom flags");
	CHECK(mk_err(T, 0, 4, 100, BPF_F_ZERO_SEED, 3) == 0, "bloom zero seed, 3 hashes");
	CHECK(mk_err(BPF_MAP_TYPE_QUEUE, 0, 4, 100, 0, 3) == -EINVAL, "map_extra elsewhere");

	for (uint64_t extra = 0; extra <= 15; extra += 5) {
		int err;
		struct bee_map *b = mk(T, 0, 8, 1000, extra == 5 ? BPF_F_ZERO_SEED : 0, extra, &err);
		CHECK(b && err == 0, "bloom create extra %llu", (unsigned long long)extra);
		if (!b)
			continue;
		uint64_t v = 12345;
		CHECK(bee_map_sys_lookup(b, NULL, &v, 0) == -ENOENT, "bloom empty says absent");
		int bad = 0;
		for (uint64_t i = 0; i < 1000; i++) {
			v = i * 7919 + 1;
			if (b->ops->push(b, &v, BPF_ANY))
				bad++;
		}
		CHECK(bad == 0, "bloom push");
		v = 5;
		CHECK(b->ops->push(b, &v, BPF_EXIST) == -EINVAL, "bloom push EXIST");
		CHECK(b->ops->push(b, &v, BPF_NOEXIST) == -EINVAL, "bloom push NOEXIST");
		bad = 0;
		for (uint64_t i = 0; i < 1000; i++) {
			v = i * 7919 + 1;
			if (b->ops->peek(b, &v) != 0)
				bad++;
		}
		CHECK(bad == 0, "bloom: no false negatives (%d)", bad);
		int fp = 0;
		for (uint64_t i = 0; i < 10000; i++) {
			v = 0x100000000ull + i;
			if (b->ops->peek(b, &v) == 0)
				fp++;
		}
		CHECK(fp < 1000, "bloom false positives %d / 10000", fp);
		v = 1;
		CHECK(bee_map_sys_lookup(b, NULL, &v, 0) == 0, "bloom sys lookup present");
		v = 9;
		CHECK(bee_map_sys_update(b, NULL, &v, BPF_ANY) == 0, "bloom sys update");
		CHECK(bee_map_sys_lookup(b, NULL, &v, 0) == 0, "bloom sys lookup after update");
		CHECK(bee_map_sys_update(b, NULL, &v, BPF_EXIST) == -EINVAL, "bloom sys update EXIST");
		CHECK(bee_map_sys_delete(b, NULL) == -EOPNOTSUPP, "bloom delete");
		CHECK(bee_map_sys_get_next_key(b, NULL, &v) == -EOPNOTSUPP, "bloom get_next_key");
		CHECK(b->ops->pop(b, &v) == -EOPNOTSUPP, "bloom pop");
		CHECK(bee_map_sys_lookup_and_delete(b, NULL, &v, 0) == -ENOTSUPP,
		      "bloom lookup_and_delete");
		put(b);
	}

	/* Odd-sized values (3 bytes), hashed bytewise. */
	int err;
	struct bee_map *b = mk(T, 0, 3, 50, 0, 0, &err);
	CHECK(b != NULL, "bloom 3-byte values");
	if (b) {
		int bad = 0;
		for (int i = 0; i < 50; i++) {
			unsigned char v[3] = {(unsigned char)i, 0xaa, (unsigned char)(i * 3)};
			b->ops->push(b, v, 0);
		}
		for (int i = 0; i < 50; i++) {
			unsigned char v[3] = {(unsigned char)i, 0xaa, (unsigned char)(i * 3)};
			bad += b->ops->peek(b, v) != 0;
		}
		CHECK(bad == 0, "bloom 3-byte: all present");
		put(b);
	}
}

/* ---- LPM trie ---- */

struct key4 {
	uint32_t prefixlen;
	unsigned char d[4];
};

struct key16 {
	uint32_t prefixlen;
	unsigned char d[16];
};

static struct key4 k4(unsigned a, unsigned b, unsigned c, unsigned d, uint32_t plen)
{
	struct key4 k = {plen, {(unsigned char)a, (unsigned char)b, (unsigned char)c, (unsigned char)d}};
	return k;
}

/* Host lookup of an IPv4 address: the value (a u64), or 0 if none. */
static uint64_t lpm4_get(struct bee_map *m, unsigned a, unsigned b, unsigned c, unsigned d)
{
	struct key4 k = k4(a, b, c, d, 32);
	uint64_t v = 0;
	if (bee_map_sys_lookup(m, &k, &v, 0) < 0)
		return 0;
	return v;
}

static int lpm4_put(struct bee_map *m, struct key4 k, uint64_t v, uint64_t flags)
{
	return bee_map_sys_update(m, &k, &v, flags);
}

static void test_lpm_create(void)
{
	const uint32_t T = BPF_MAP_TYPE_LPM_TRIE, NP = BPF_F_NO_PREALLOC;
	CHECK(mk_err(T, 8, 8, 16, 0, 0) == -EINVAL, "lpm without NO_PREALLOC");
	CHECK(mk_err(T, 4, 8, 16, NP, 0) == -EINVAL, "lpm key_size 4");
	CHECK(mk_err(T, 261, 8, 16, NP, 0) == -EINVAL, "lpm key_size 261");
	CHECK(mk_err(T, 8, 0, 16, NP, 0) == -EINVAL, "lpm value_size 0");
	CHECK(mk_err(T, 8, 8, 0, NP, 0) == -EINVAL, "lpm max_entries 0");
	CHECK(mk_err(T, 8, 8, 16, NP | BPF_F_ZERO_SEED, 0) == -EINVAL, "lpm bad flag");
	CHECK(mk_err(T, 5, 8, 16, NP, 0) == 0, "lpm key_size 5");
	CHECK(mk_err(T, 260, 8, 16, NP, 0) == 0, "lpm key_size 260");
}

static void test_lpm_ipv4(void)
{
	int err;
	struct bee_map *m = mk(BPF_MAP_TYPE_LPM_TRIE, 8, 8, 16, BPF_F_NO_PREALLOC, 0, &err);
	CHECK(m && err == 0, "lpm create %d", err);
	if (!m)
		return;
	CHECK(lpm4_get(m, 10, 0, 0, 1) == 0, "empty trie");
	struct key4 nk;
	CHECK(bee_map_sys_get_next_key(m, NULL, &nk) == -ENOENT, "empty trie get_next_key");
	CHECK(lpm4_put(m, k4(10, 0, 0, 0, 8), 8, BPF_ANY) == 0, "put /8");
	CHECK(lpm4_put(m, k4(10, 1, 0, 0, 16), 16, BPF_NOEXIST) == 0, "put /16");
	CHECK(lpm4_put(m, k4(10, 1, 2, 0, 24), 24, BPF_ANY) == 0, "put /24");
	CHECK(lpm4_put(m, k4(10, 1, 2, 3, 32), 32, BPF_ANY) == 0, "put /32");
	CHECK(lpm4_put(m, k4(192, 168, 0, 0, 16), 1616, BPF_ANY) == 0, "put 192.168/16");
	/* Bits past the prefix length do not matter. */
	CHECK(lpm4_put(m, k4(172, 16, 99, 99, 12), 12, BPF_ANY) == 0, "put 172.16/12");

	CHECK(lpm4_get(m, 10, 1, 2, 3) == 32, "lookup /32");
	CHECK(lpm4_get(m, 10, 1, 2, 4) == 24, "lookup -> /24");
	CHECK(lpm4_get(m, 10, 1, 3, 1) == 16, "lookup -> /16");
	CHECK(lpm4_get(m, 10, 2, 0, 0) == 8, "lookup -> /8");
	CHECK(lpm4_get(m, 11, 0, 0, 0) == 0, "lookup miss");
	CHECK(lpm4_get(m, 192, 168, 200, 1) == 1616, "lookup 192.168/16");
	CHECK(lpm4_get(m, 172, 31, 0, 1) == 12, "lookup 172.31 in /12");
	CHECK(lpm4_get(m, 172, 32, 0, 1) == 0, "lookup 172.32 outside /12");
	/* The key's own prefix length bounds the match. */
	struct key4 q = k4(10, 1, 2, 3, 20);
	uint64_t v = 0;
	CHECK(bee_map_sys_lookup(m, &q, &v, 0) == 0 && v == 16, "lookup /20 key -> /16: %llu",
	      (unsigned long long)v);

	/* Flags and bounds. */
	CHECK(lpm4_put(m, k4(10, 1, 0, 0, 16), 99, BPF_NOEXIST) == -EEXIST, "NOEXIST on existing");
	CHECK(lpm4_put(m, k4(10, 9, 0, 0, 16), 99, BPF_EXIST) == -ENOENT, "EXIST on missing");
	CHECK(lpm4_put(m, k4(10, 1, 0, 0, 16), 161, BPF_EXIST) == 0, "EXIST replaces");
	CHECK(lpm4_get(m, 10, 1, 3, 1) == 161, "replaced value");
	CHECK(lpm4_get(m, 10, 1, 2, 9) == 24, "children survive replace");
	CHECK(lpm4_put(m, k4(10, 0, 0, 0, 33), 1, BPF_ANY) == -EINVAL, "prefixlen 33");
	CHECK(lpm4_put(m, k4(10, 0, 0, 0, 8), 1, 4) == -EINVAL, "bad flags");

	/* Program lookup: a pointer into the value, which value_ok accepts. */
	bee_epoch_enter();
	q = k4(10, 1, 2, 3, 32);
	uint64_t *pv = m->ops->lookup(m, &q);
	CHECK(pv && *pv == 32, "prog lookup");
	if (pv) {
		CHECK(m->ops->value_ok(m, (uintptr_t)pv, 8), "value_ok whole value");
		CHECK(m->ops->value_ok(m, (uintptr_t)pv + 4, 4), "value_ok tail");
		CHECK(!m->ops->value_ok(m, (uintptr_t)pv + 4, 8), "value_ok past the end");
		CHECK(!m->ops->value_ok(m, (uintptr_t)pv - 4, 4), "value_ok key bytes");
	}
	CHECK(!m->ops->value_ok(m, (uintptr_t)&q, 4), "value_ok elsewhere");
	bee_epoch_exit();

	/* get_next_key: postorder, more specific first. */
	struct key4 order[] = {
		k4(10, 1, 2, 3, 32), k4(10, 1, 2, 0, 24), k4(10, 1, 0, 0, 16), k4(10, 0, 0, 0, 8),
		k4(172, 16, 99, 99, 12), k4(192, 168, 0, 0, 16),
	};
	int n = 0, bad = 0;
	struct key4 cur;
	void *prev = NULL;
	while (bee_map_sys_get_next_key(m, prev, &nk) == 0 && n < 20) {
		if (n < (int)LEN(order) &&
		    (nk.prefixlen != order[n].prefixlen || memcmp(nk.d, order[n].d, 4)))
			bad++;
		n++;
		cur = nk;
		prev = &cur;
	}
	CHECK(n == (int)LEN(order) && bad == 0, "get_next_key order: %d keys, %d wrong", n, bad);
	struct key4 unknown = k4(1, 2, 3, 4, 32);
	CHECK(bee_map_sys_get_next_key(m, &unknown, &nk) == 0 && nk.prefixlen == 32 && nk.d[3] == 3,
	      "unknown key -> leftmost");
	unknown.prefixlen = 40;
	CHECK(bee_map_sys_get_next_key(m, &unknown, &nk) == 0 && nk.prefixlen == 32,
	      "bad prefixlen -> leftmost");

	/* Delete. */
	struct key4 dk = k4(10, 1, 0, 0, 17);
	CHECK(bee_map_sys_delete(m, &dk) == -ENOENT, "delete missing length");
	dk = k4(10, 1, 0, 0, 33);
	CHECK(bee_map_sys_delete(m, &dk) == -EINVAL, "delete prefixlen 33");
	dk = k4(10, 1, 0, 0, 16);
	CHECK(bee_map_sys_delete(m, &dk) == 0, "delete /16");
	CHECK(bee_map_sys_delete(m, &dk) == -ENOENT, "delete /16 twice");
	CHECK(lpm4_get(m, 10, 1, 3, 1) == 8, "after delete /16 -> /8");
	CHECK(lpm4_get(m, 10, 1, 2, 3) == 32, "after delete /16, /32 still");
	dk = k4(10, 1, 2, 3, 32);
	CHECK(bee_map_sys_delete(m, &dk) == 0, "delete /32");
	CHECK(lpm4_get(m, 10, 1, 2, 3) == 24, "after delete /32 -> /24");
	dk = k4(10, 0, 0, 0, 8);
	CHECK(bee_map_sys_delete(m, &dk) == 0, "delete /8");
	CHECK(lpm4_get(m, 10, 2, 0, 0) == 0, "after delete /8: miss");
	CHECK(lpm4_get(m, 10, 1, 2, 200) == 24, "after delete /8 -> /24");
	put(m);

	/* max_entries: -ENOSPC for a new prefix, replacing still works. */
	m = mk(BPF_MAP_TYPE_LPM_TRIE, 8, 8, 2, BPF_F_NO_PREALLOC, 0, &err);
	if (m) {
		CHECK(lpm4_put(m, k4(1, 0, 0, 0, 8), 1, 0) == 0, "fill 1");
		CHECK(lpm4_put(m, k4(2, 0, 0, 0, 8), 2, 0) == 0, "fill 2");
		CHECK(lpm4_put(m, k4(3, 0, 0, 0, 8), 3, 0) == -ENOSPC, "full: ENOSPC");
		CHECK(lpm4_put(m, k4(2, 0, 0, 0, 8), 22, 0) == 0, "full: replace ok");
		CHECK(lpm4_get(m, 2, 0, 0, 1) == 22, "replaced");
		dk = k4(1, 0, 0, 0, 8);
		CHECK(bee_map_sys_delete(m, &dk) == 0, "delete frees room");
		CHECK(lpm4_put(m, k4(3, 0, 0, 0, 8), 3, 0) == 0, "room again");
		/* The default route. */
		dk = k4(0, 0, 0, 0, 0);
		CHECK(bee_map_sys_delete(m, &dk) == -ENOENT, "no /0");
		put(m);
	}
}

/* The kernel's own example: 192.168.0.0/16 with three /24s under it. */
static void test_lpm_kernel_order(void)
{
	int err;
	struct bee_map *m = mk(BPF_MAP_TYPE_LPM_TRIE, 8, 8, 16, BPF_F_NO_PREALLOC, 0, &err);
	if (!m)
		return;
	lpm4_put(m, k4(192, 168, 0, 0, 16), 1, 0);
	lpm4_put(m, k4(192, 168, 0, 0, 24), 2, 0);
	lpm4_put(m, k4(192, 168, 1, 0, 24), 3, 0);
	lpm4_put(m, k4(192, 168, 128, 0, 24), 4, 0);
	struct key4 want[] = {k4(192, 168, 0, 0, 24), k4(192, 168, 1, 0, 24),
			      k4(192, 168, 128, 0, 24), k4(192, 168, 0, 0, 16)};
	struct key4 nk, cur;
	void *prev = NULL;
	int n = 0, bad = 0;
	while (bee_map_sys_get_next_key(m, prev, &nk) == 0 && n < 10) {
		if (n < 4 && (nk.prefixlen != want[n].prefixlen || memcmp(nk.d, want[n].d, 4)))
			bad++;
		n++;
		cur = nk;
		prev = &cur;
	}
	CHECK(n == 4 && bad == 0, "kernel example order (%d keys, %d wrong)", n, bad);
	/* Delete while iterating, the way tools empty a trie: delete the
	 * key, then ask for the one after it (unknown now: the leftmost). */
	n = 0;
	while (bee_map_sys_get_next_key(m, NULL, &nk) == 0 && n < 10) {
		CHECK(bee_map_sys_delete(m, &nk) == 0, "delete during iteration");
		n++;
	}
	CHECK(n == 4, "emptied by iteration: %d", n);
	CHECK(lpm4_get(m, 192, 168, 1, 1) == 0, "empty");
	put(m);
}

static void test_lpm_ipv6(void)
{
	int err;
	struct bee_map *m = mk(BPF_MAP_TYPE_LPM_TRIE, 20, 4, 64, BPF_F_NO_PREALLOC, 0, &err);
	CHECK(m && err == 0, "lpm ipv6 create");
	if (!m)
		return;
	struct key16 k = {0};
	uint32_t v;
	/* ::/0 -> 1, 2001:db8::/32 -> 2, 2001:db8:1::/48 -> 3,
	 * 2001:db8:1:2::/64 -> 4, 2001:db8:1:2::1/128 -> 5, 2001:db8:1:3::/63 -> 6 */
	static const unsigned char a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1};
	struct {
		uint32_t plen;
		unsigned char last4_7[4];
		uint32_t v;
	} routes[] = {
		{0, {0, 0, 0, 0}, 1},     {32, {0, 0, 0, 0}, 2}, {48, {0, 1, 0, 0}, 3},
		{64, {0, 1, 0, 2}, 4},    {128, {0, 1, 0, 2}, 5}, {63, {0, 1, 0, 2}, 6},
	};
	for (size_t i = 0; i < LEN(routes); i++) {
		memset(&k, 0, sizeof(k));
		k.prefixlen = routes[i].plen;
		memcpy(k.d, a, 4);
		memcpy(k.d + 4, routes[i].last4_7, 4);
		if (routes[i].plen == 128)
			k.d[15] = 1;
		v = routes[i].v;
		CHECK(bee_map_sys_update(m, &k, &v, BPF_NOEXIST) == 0, "ipv6 put %zu", i);
	}
	/* Replacing /63 by value 6 shadows /48 for 2001:db8:1:2/3::, and the
	 * /64 is more specific for 2001:db8:1:2::. */
	struct {
		unsigned char d[16];
		uint32_t want;
	} q[] = {
		{{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1}, 5},
		{{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2}, 4},
		{{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 3, 0xff, 0, 0, 0, 0, 0, 0, 0}, 6},
		{{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0}, 3},
		{{0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 2},
		{{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 1},
	};
	for (size_t i = 0; i < LEN(q); i++) {
		k.prefixlen = 128;
		memcpy(k.d, q[i].d, 16);
		v = 0;
		CHECK(bee_map_sys_lookup(m, &k, &v, 0) == 0 && v == q[i].want,
		      "ipv6 lookup %zu: %u want %u", i, v, q[i].want);
	}
	/* Order: every key comes before the prefixes that contain it. */
	struct key16 keys[8], cur;
	int n = 0;
	void *prev = NULL;
	while (n < 8 && bee_map_sys_get_next_key(m, prev, &keys[n]) == 0) {
		cur = keys[n++];
		prev = &cur;
	}
	CHECK(n == 6, "ipv6 keys %d", n);
	CHECK(n == 6 && keys[n - 1].prefixlen == 0, "::/0 comes last");
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			CHECK(keys[i].prefixlen >= keys[j].prefixlen ||
			      memcmp(keys[i].d, keys[j].d, 8) != 0 || keys[j].prefixlen > 64,
			      "ipv6 postorder %d %d", i, j);
	put(m);
}

/* Random prefixes against a brute-force reference. */
struct ref_route {
	uint32_t plen, addr, v;
	bool live;
};

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

static uint32_t pmask(uint32_t plen)
{
	return plen ? ~0u << (32 - plen) : 0;
}

static struct key4 key_of(uint32_t addr, uint32_t plen)
{
	return k4(addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255, addr & 255, plen);
}

static void test_lpm_random(void)
{
	enum { N = 300 };
	int err;
	struct bee_map *m = mk(BPF_MAP_TYPE_LPM_TRIE, 8, 8, N, BPF_F_NO_PREALLOC, 0, &err);
	if (!m)
		return;
	static struct ref_route r[N];
	int nlive = 0;
	for (int i = 0; i < N; i++) {
		/* Few distinct top bits, so prefixes nest and share. */
		r[i].plen = rnd() % 33;
		r[i].addr = ((rnd() % 4) << 30 | (rnd() & 0x00ffffff) | (rnd() % 3) << 24) &
			    pmask(r[i].plen);
		r[i].v = i + 1;
		bool dup = false;
		for (int j = 0; j < i; j++)
			if (r[j].live && r[j].plen == r[i].plen && r[j].addr == r[i].addr)
				dup = true;
		r[i].live = !dup;
		int e = lpm4_put(m, key_of(r[i].addr, r[i].plen), r[i].v, BPF_NOEXIST);
		CHECK(e == (dup ? -EEXIST : 0), "random put %d: %d", i, e);
		nlive += !dup;
	}
	for (int round = 0; round < 2; round++) {
		int bad = 0;
		for (int t = 0; t < 3000; t++) {
			uint32_t addr = t < N ? r[t].addr | (rnd() & ~pmask(r[t].plen))
					      : ((rnd() % 4) << 30 | (rnd() & 0x03ffffff));
			int best = -1;
			for (int i = 0; i < N; i++)
				if (r[i].live && (addr & pmask(r[i].plen)) == r[i].addr &&
				    (best < 0 || r[i].plen > r[best].plen))
					best = i;
			uint64_t got = lpm4_get(m, addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255,
						addr & 255);
			if (got != (best < 0 ? 0 : r[best].v))
				bad++;
		}
		CHECK(bad == 0, "random lookups round %d: %d wrong", round, bad);
		/* Iteration: every live key once, none before a key it contains. */
		struct key4 nk, cur;
		void *prev = NULL;
		int n = 0, order_bad = 0;
		static struct key4 seen[N + 1];
		while (n <= N && bee_map_sys_get_next_key(m, prev, &nk) == 0) {
			seen[n++] = nk;
			cur = nk;
			prev = &cur;
		}
		CHECK(n == nlive, "iteration count %d want %d", n, nlive);
		for (int i = 0; i < n; i++) {
			uint32_t ai = (uint32_t)seen[i].d[0] << 24 | seen[i].d[1] << 16 |
				      seen[i].d[2] << 8 | seen[i].d[3];
			for (int j = i + 1; j < n; j++) {
				uint32_t aj = (uint32_t)seen[j].d[0] << 24 | seen[j].d[1] << 16 |
					      seen[j].d[2] << 8 | seen[j].d[3];
				/* j after i must not be strictly inside i's prefix. */
				if (seen[j].prefixlen > seen[i].prefixlen &&
				    (aj & pmask(seen[i].prefixlen)) == ai)
					order_bad++;
			}
		}
		CHECK(order_bad == 0, "postorder violations %d", order_bad);
		/* Delete half, then check again. */
		for (int i = 0; i < N && round == 0; i += 2) {
			struct key4 dk = key_of(r[i].addr, r[i].plen);
			int e = bee_map_sys_delete(m, &dk);
			/* The live entry with this key (r[i] or an earlier twin). */
			int live = -1;
			for (int j = 0; j < N; j++)
				if (r[j].live && r[j].plen == r[i].plen && r[j].addr == r[i].addr)
					live = j;
			CHECK(e == (live >= 0 ? 0 : -ENOENT), "random delete %d: %d", i, e);
			if (live >= 0) {
				r[live].live = false;
				nlive--;
			}
		}
	}
	put(m);
}

/* Readers look up while a writer inserts, replaces and deletes. */
struct lpm_race {
	struct bee_map *m;
	_Atomic bool stop;
	_Atomic int bad;
};

static void *lpm_reader(void *arg)
{
	struct lpm_race *r = arg;
	uint32_t s = 99;
	while (!atomic_load(&r->stop)) {
		s = s * 1103515245 + 12345;
		struct key4 k = k4(10, (s >> 8) & 15, (s >> 16) & 255, 1, 32);
		bee_epoch_enter();
		uint64_t *v = r->m->ops->lookup(r->m, &k);
		/* Every value stored is its prefix length times 1000 plus a
		 * counter below 1000; /8 is always there. */
		uint64_t got = v ? __atomic_load_n(v, __ATOMIC_RELAXED) : 0;
		bee_epoch_exit();
		uint64_t plen = got / 1000;
		if (!v || (plen != 8 && plen != 16 && plen != 24))
			atomic_fetch_add(&r->bad, 1);
	}
	return NULL;
}

static void test_lpm_concurrent(void)
{
	int err;
	struct lpm_race r = {0};
	r.m = mk(BPF_MAP_TYPE_LPM_TRIE, 8, 8, 1024, BPF_F_NO_PREALLOC, 0, &err);
	if (!r.m)
		return;
	lpm4_put(r.m, k4(10, 0, 0, 0, 8), 8000, 0);
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, lpm_reader, &r);
	int iters = SANITIZED ? 3000 : 20000;
	uint32_t s = 7;
	for (int i = 0; i < iters; i++) {
		s = s * 1103515245 + 12345;
		unsigned b = (s >> 8) & 15, c = (s >> 16) & 255;
		switch (s % 4) {
		case 0: lpm4_put(r.m, k4(10, b, 0, 0, 16), 16000 + i % 1000, 0); break;
		case 1: lpm4_put(r.m, k4(10, b, c, 0, 24), 24000 + i % 1000, 0); break;
		case 2: {
			struct key4 dk = k4(10, b, 0, 0, 16);
			bee_map_sys_delete(r.m, &dk);
			break;
		}
		default: {
			struct key4 dk = k4(10, b, c, 0, 24);
			bee_map_sys_delete(r.m, &dk);
		}
		}
	}
	atomic_store(&r.stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	CHECK(atomic_load(&r.bad) == 0, "concurrent lookups saw %d bad values", atomic_load(&r.bad));
	put(r.m);
}

/* ---- ring buffer ---- */

struct rec_log {
	int n;
	size_t sizes[64];
	unsigned char first[64];
	int stop_after; /* return -42 after this many (0: never) */
};

static int log_cb(void *ctx, void *data, size_t size)
{
	struct rec_log *l = ctx;
	if (l->n < 64) {
		l->sizes[l->n] = size;
		l->first[l->n] = size ? *(unsigned char *)data : 0;
	}
	l->n++;
	if (l->stop_after && l->n == l->stop_after)
		return -42;
	return 0;
}

static void test_ringbuf_basic(void)
{
	const uint32_t T = BPF_MAP_TYPE_RINGBUF;
	CHECK(mk_err(T, 0, 0, 0, 0, 0) == -EINVAL, "rb size 0");
	CHECK(mk_err(T, 0, 0, 1000, 0, 0) == -EINVAL, "rb size 1000");
	CHECK(mk_err(T, 0, 0, 3 * 4096, 0, 0) == -EINVAL, "rb not a power of 2");
	CHECK(mk_err(T, 0, 0, 2048, 0, 0) == -EINVAL, "rb below a page");
	CHECK(mk_err(T, 4, 0, 4096, 0, 0) == -EINVAL, "rb key_size");
	CHECK(mk_err(T, 0, 4, 4096, 0, 0) == -EINVAL, "rb value_size");
	CHECK(mk_err(T, 0, 0, 4096, BPF_F_NO_PREALLOC, 0) == -EINVAL, "rb flags");
	CHECK(mk_err(T, 0, 0, 4096, BPF_F_NUMA_NODE, 0) == 0, "rb NUMA flag ok");

	int err;
	struct bee_map *m = mk(T, 0, 0, 4096, 0, 0, &err);
	CHECK(m && err == 0, "rb create %d", err);
	if (!m)
		return;
	CHECK(bee_ringbuf_query(m, BPF_RB_RING_SIZE) == 4096, "ring size");
	CHECK(bee_ringbuf_query(m, BPF_RB_AVAIL_DATA) == 0, "empty");
	CHECK(bee_ringbuf_query(m, 99) == 0, "unknown query");
	CHECK(bee_ringbuf_reserve(m, 8, 1) == NULL, "reserve flags");
	CHECK(bee_ringbuf_reserve(m, 4096, 0) == NULL, "reserve too big");
	CHECK(bee_ringbuf_reserve(m, 1ull << 40, 0) == NULL, "reserve huge");
	uint32_t k;
	CHECK(bee_map_sys_lookup(m, NULL, &k, 0) == -ENOTSUPP, "rb lookup");
	CHECK(bee_map_sys_update(m, NULL, &k, 0) == -ENOTSUPP, "rb update");
	CHECK(bee_map_sys_delete(m, NULL) == -ENOTSUPP, "rb delete");
	CHECK(bee_map_sys_get_next_key(m, NULL, &k) == -ENOTSUPP, "rb get_next_key");

	/* One record: header + 10 bytes -> 24. */
	unsigned char *p = bee_ringbuf_reserve(m, 10, 0);
	CHECK(p != NULL && ((uintptr_t)p & 7) == 0, "reserve 10");
	if (!p)
		goto out;
	CHECK(m->ops->value_ok(m, (uintptr_t)p, 10), "value_ok record");
	CHECK(!m->ops->value_ok(m, (uintptr_t)&k, 4), "value_ok elsewhere");
	memset(p, 0xab, 10);
	struct rec_log log = {0};
	CHECK(bee_ringbuf_query(m, BPF_RB_PROD_POS) == 24, "prod pos 24");
	CHECK(bee_ringbuf_consume(m, log_cb, &log) == 0 && log.n == 0, "busy record not consumed");
	CHECK(bee_ringbuf_wait(m, 0) == 0, "busy record: nothing ready");
	bee_ringbuf_submit(p, 0);
	bee_ringbuf_submit(p, 0); /* a second submit changes nothing */
	CHECK(bee_ringbuf_wait(m, -1) == 1, "committed record ready");
	CHECK(bee_ringbuf_consume(m, log_cb, &log) == 1 && log.n == 1 && log.sizes[0] == 10 &&
		      log.first[0] == 0xab,
	      "consume one");
	CHECK(bee_ringbuf_query(m, BPF_RB_CONS_POS) == 24, "cons pos 24");
	CHECK(bee_ringbuf_query(m, BPF_RB_AVAIL_DATA) == 0, "avail 0");
	CHECK(bee_ringbuf_wait(m, 5) == 0, "wait times out when empty");

	/* Discard, and a busy record holds back later committed ones. */
	unsigned char *a = bee_ringbuf_reserve(m, 1, 0), *b = bee_ringbuf_reserve(m, 2, 0),
		      *c = bee_ringbuf_reserve(m, 3, 0);
	CHECK(a && b && c, "reserve three");
	if (!a || !b || !c)
		goto out;
	*a = 1;
	*b = 2;
	*c = 3;
	CHECK(bee_ringbuf_query(m, BPF_RB_AVAIL_DATA) == 48, "avail 48");
	bee_ringbuf_discard(b, 0);
	bee_ringbuf_submit(c, BPF_RB_NO_WAKEUP);
	memset(&log, 0, sizeof(log));
	CHECK(bee_ringbuf_consume(m, log_cb, &log) == 0, "stops at busy a");
	bee_ringbuf_submit(a, BPF_RB_FORCE_WAKEUP);
	CHECK(bee_ringbuf_consume(m, log_cb, &log) == 2 && log.n == 2 && log.first[0] == 1 &&
		      log.first[1] == 3 && log.sizes[1] == 3,
	      "a then c, b discarded");
	/* A pointer that is no record is ignored. */
	bee_ringbuf_submit(&k, 0);
	bee_ringbuf_discard(NULL, 0);

	/* Fill: 16-byte records; room for 255 (usage must stay below 4096). */
	int n = 0;
	while (n < 1000 && (p = bee_ringbuf_reserve(m, 8, 0))) {
		memcpy(p, &n, sizeof(n));
		bee_ringbuf_submit(p, 0);
		n++;
	}
	CHECK(n == 255, "filled with %d records", n);
	CHECK(bee_ringbuf_output(m, &n, 4, 0) == -EAGAIN, "output when full");
	CHECK(bee_ringbuf_output(m, &n, 4, 4) == -EINVAL, "output bad flags");
	memset(&log, 0, sizeof(log));
	log.stop_after = 10;
	CHECK(bee_ringbuf_consume(m, log_cb, &log) == -42, "callback error stops");
	CHECK(bee_ringbuf_query(m, BPF_RB_AVAIL_DATA) == 245 * 16, "10 consumed");
	log.stop_after = 0;
	CHECK(bee_ringbuf_consume(m, log_cb, &log) == 245, "rest consumed");
	CHECK(bee_ringbuf_output(m, &n, 4, BPF_RB_FORCE_WAKEUP) == 0, "output");
	CHECK(bee_ringbuf_consume(m, log_cb, &log) == 1, "output consumed");

	/* A checked program scribbling over a header: the consumer notices. */
	p = bee_ringbuf_reserve(m, 16, 0);
	if (p) {
		bee_ringbuf_submit(p, 0);
		uint32_t evil = 0x3fffff00;
		memcpy(p - 8, &evil, 4);
		CHECK(bee_ringbuf_consume(m, log_cb, &log) == -EBADMSG, "corrupt header");
		CHECK(bee_ringbuf_query(m, BPF_RB_AVAIL_DATA) == 0, "dropped");
		CHECK(bee_ringbuf_output(m, &n, 4, 0) == 0, "usable after");
		CHECK(bee_ringbuf_consume(m, log_cb, &log) == 1, "consumed after");
	}
out:
	put(m);
}

/* Sizes 0..300 through a one-page ring: most records wrap somewhere. */
struct wrap_ctx {
	uint32_t next;
	int bad;
};

static int wrap_cb(void *ctx, void *data, size_t size)
{
	struct wrap_ctx *w = ctx;
	uint32_t seq = w->next++;
	if (size != seq % 301) {
		w->bad++;
		return 0;
	}
	const unsigned char *d = data;
	for (size_t i = 0; i < size; i++)
		if (d[i] != (unsigned char)(seq + i))
			w->bad++;
	return 0;
}

static void test_ringbuf_wrap(void)
{
	int err;
	struct bee_map *m = mk(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0, 0, &err);
	if (!m)
		return;
	struct wrap_ctx w = {0};
	uint32_t seq = 0;
	for (int round = 0; round < 2000; round++) {
		for (int j = 0; j < 7; j++) {
			size_t size = seq % 301;
			unsigned char *p = bee_ringbuf_reserve(m, size, 0);
			if (!p)
				break;
			for (size_t i = 0; i < size; i++)
				p[i] = (unsigned char)(seq + i);
			seq++;
			bee_ringbuf_submit(p, 0);
		}
		bee_ringbuf_consume(m, wrap_cb, &w);
	}
	bee_ringbuf_consume(m, wrap_cb, &w);
	CHECK(w.bad == 0 && w.next == seq, "wrap: %u of %u records, %d bad", w.next, seq, w.bad);
	CHECK(bee_ringbuf_query(m, BPF_RB_CONS_POS) > 100 * 4096, "wrapped %llu bytes",
	      (unsigned long long)bee_ringbuf_query(m, BPF_RB_CONS_POS));
	put(m);
}

/* Wakeups: a record at the consumer position wakes a waiter; one behind a
 * busy record does only with FORCE_WAKEUP; NO_WAKEUP never does. */
struct waiter {
	struct bee_map *m;
	int timeout_ms;
	_Atomic int result; /* -100 while waiting */
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;
	atomic_store(&w->result, bee_ringbuf_wait(w->m, w->timeout_ms));
	return NULL;
}

static void test_ringbuf_wakeup(void)
{
	int err;
	struct bee_map *m = mk(BPF_MAP_TYPE_RINGBUF, 0, 0, 1 << 16, 0, 0, &err);
	if (!m)
		return;
	struct rec_log log = {0};
	pthread_t th;

	/* Plain submit at the consumer position wakes a waiter. */
	struct waiter w = {m, 10000, -100};
	double t0 = now_s();
	pthread_create(&th, NULL, wait_thread, &w);
	sleep_ms(20);
	int v = 1;
	bee_ringbuf_output(m, &v, 4, 0);
	pthread_join(th, NULL);
	CHECK(atomic_load(&w.result) == 1 && now_s() - t0 < 5, "woken by submit");
	bee_ringbuf_consume(m, log_cb, &log);

	/* Behind a busy record: NO_WAKEUP and plain submits wake nobody. */
	void *busy = bee_ringbuf_reserve(m, 8, 0);
	w.timeout_ms = 150;
	atomic_store(&w.result, -100);
	pthread_create(&th, NULL, wait_thread, &w);
	for (int i = 0; i < 10; i++) {
		bee_ringbuf_output(m, &v, 4, BPF_RB_NO_WAKEUP);
		bee_ringbuf_output(m, &v, 4, 0);
		sleep_ms(5);
	}
	pthread_join(th, NULL);
	CHECK(atomic_load(&w.result) == 0, "no wakeup behind a busy record: %d",
	      atomic_load(&w.result));

	/* FORCE_WAKEUP wakes it even so. */
	w.timeout_ms = 10000;
	atomic_store(&w.result, -100);
	t0 = now_s();
	pthread_create(&th, NULL, wait_thread, &w);
	for (int i = 0; i < 400 && atomic_load(&w.result) == -100; i++) {
		bee_ringbuf_output(m, &v, 4, BPF_RB_FORCE_WAKEUP);
		sleep_ms(5);
	}
	pthread_join(th, NULL);
	CHECK(atomic_load(&w.result) == 1 && now_s() - t0 < 5, "FORCE_WAKEUP wakes");
	bee_ringbuf_submit(busy, 0);
	CHECK(bee_ringbuf_consume(m, log_cb, &log) > 20, "drained");
	put(m);
}

/* One producer, one consumer, in order. */
struct pc {
	struct bee_map *m;
	uint32_t total;
	_Atomic bool done;
	uint32_t next;
	int bad;
};

static void *rb_producer(void *arg)
{
	struct pc *pc = arg;
	for (uint32_t seq = 0; seq < pc->total;) {
		size_t size = 8 + (seq % 7) * 8 + seq % 5;
		uint32_t *p = bee_ringbuf_reserve(pc->m, size, 0);
		if (!p) {
			sched_yield();
			continue;
		}
		p[0] = seq;
		p[1] = seq ^ 0xdeadbeef;
		if (seq % 11 == 10) {
			bee_ringbuf_discard(p, 0);
		} else {
			unsigned char *b = (unsigned char *)p;
			for (size_t i = 8; i < size; i++)
				b[i] = (unsigned char)(seq * 7 + i);
			bee_ringbuf_submit(p, seq % 3 ? BPF_RB_NO_WAKEUP : 0);
		}
		seq++;
	}
	atomic_store(&pc->done, true);
	return NULL;
}

static int pc_cb(void *ctx, void *data, size_t size)
{
	struct pc *pc = ctx;
	const uint32_t *p = data;
	uint32_t want = pc->next;
	if (want % 11 == 10)
		want++; /* discarded by the producer */
	if (size < 8 || p[0] != want || p[1] != (want ^ 0xdeadbeef) ||
	    size != 8 + (want % 7) * 8 + want % 5) {
		if (pc->bad++ < 5)
			printf("  record %u: got seq %u size %zu\n", want, size >= 4 ? p[0] : 0, size);
		pc->next = p[0] + 1;
		return 0;
	}
	const unsigned char *b = data;
	for (size_t i = 8; i < size; i++)
		if (b[i] != (unsigned char)(want * 7 + i)) {
			pc->bad++;
			break;
		}
	pc->next = want + 1;
	return 0;
}

static void test_ringbuf_threads(void)
{
	int err;
	struct pc pc = {0};
	pc.m = mk(BPF_MAP_TYPE_RINGBUF, 0, 0, 1 << 16, 0, 0, &err);
	if (!pc.m)
		return;
	pc.total = SANITIZED ? 30000 : 100000;
	double t0 = now_s();
	pthread_t th;
	pthread_create(&th, NULL, rb_producer, &pc);
	for (;;) {
		bool done = atomic_load(&pc.done);
		bee_ringbuf_consume(pc.m, pc_cb, &pc);
		if (done && bee_ringbuf_query(pc.m, BPF_RB_AVAIL_DATA) == 0)
			break;
		bee_ringbuf_wait(pc.m, 10);
	}
	pthread_join(th, NULL);
	bee_ringbuf_consume(pc.m, pc_cb, &pc);
	uint32_t last = pc.total - 1;
	if (last % 11 == 10)
		last--; /* discarded */
	CHECK(pc.bad == 0, "producer/consumer: %d bad records", pc.bad);
	CHECK(pc.next == last + 1, "producer/consumer: reached %u of %u", pc.next, pc.total);
	printf("ringbuf: %u records in %.3f s\n", pc.total, now_s() - t0);
	put(pc.m);
}

/* ---- perf event array ---- */

struct perf_log {
	int n[NCPUS];
	int bad;
	uint64_t lost[NCPUS];
	uint32_t next[NCPUS];
	int lost_events;
};

static int perf_cb(void *ctx, int cpu, void *data, size_t size)
{
	struct perf_log *l = ctx;
	if (cpu < 0 || cpu >= NCPUS || size < 4) {
		l->bad++;
		return 0;
	}
	uint32_t seq;
	memcpy(&seq, data, 4);
	if (seq < l->next[cpu])
		l->bad++;
	l->next[cpu] = seq + 1;
	const unsigned char *d = data;
	for (size_t i = 4; i < size; i++)
		if (d[i] != (unsigned char)(seq + i))
			l->bad++;
	l->n[cpu]++;
	return 0;
}

static int perf_lost_cb(void *ctx, int cpu, uint64_t lost)
{
	struct perf_log *l = ctx;
	if (cpu >= 0 && cpu < NCPUS)
		l->lost[cpu] += lost;
	l->lost_events++;
	return 0;
}

static long perf_out(struct bee_map *m, uint64_t flags, uint32_t seq, size_t size)
{
	unsigned char buf[4096];
	memcpy(buf, &seq, 4);
	for (size_t i = 4; i < size; i++)
		buf[i] = (unsigned char)(seq + i);
	return bee_perf_event_output(m, flags, buf, size);
}

static void test_perf_array(void)
{
	const uint32_t T = BPF_MAP_TYPE_PERF_EVENT_ARRAY;
	CHECK(mk_err(T, 8, 4, 4, 0, 0) == -EINVAL, "perf key_size 8");
	CHECK(mk_err(T, 4, 8, 4, 0, 0) == -EINVAL, "perf value_size 8");
	CHECK(mk_err(T, 4, 4, 0, 0, 0) == -EINVAL, "perf max_entries 0");
	CHECK(mk_err(T, 4, 4, 4, BPF_F_RDONLY_PROG, 0) == -EINVAL, "perf RDONLY_PROG");
	CHECK(mk_err(T, 4, 4, 4, BPF_F_PRESERVE_ELEMS, 0) == 0, "perf PRESERVE_ELEMS");

	int err;
	struct bee_map *m = mk(T, 4, 4, NCPUS, 0, 0, &err);
	CHECK(m && err == 0, "perf create %d", err);
	if (!m)
		return;
	uint32_t key = 0, val = 33;
	CHECK(perf_out(m, 0, 1, 8) == -ENOENT, "output to a closed slot");
	CHECK(perf_out(m, NCPUS, 1, 8) == -E2BIG, "output index too big");
	CHECK(perf_out(m, 1ull << 32, 1, 8) == -EINVAL, "output ctxlen flags");
	CHECK(bee_map_sys_lookup(m, &key, &val, 0) == -ENOTSUPP, "perf lookup");
	CHECK(bee_map_sys_update(m, &key, &val, BPF_EXIST) == -EINVAL, "perf update EXIST");
	key = NCPUS;
	CHECK(bee_map_sys_update(m, &key, &val, BPF_ANY) == -E2BIG, "perf update index");
	CHECK(bee_map_sys_delete(m, &key) == -E2BIG, "perf delete index");
	key = 3;
	CHECK(bee_map_sys_delete(m, &key) == -ENOENT, "perf delete closed");
	for (key = 0; key < NCPUS; key++)
		CHECK(bee_map_sys_update(m, &key, &val, BPF_ANY) == 0, "open %u", key);
	uint32_t nk;
	CHECK(bee_map_sys_get_next_key(m, NULL, &nk) == 0 && nk == 0, "get_next_key first");
	key = NCPUS - 1;
	CHECK(bee_map_sys_get_next_key(m, &key, &nk) == -ENOENT, "get_next_key last");
	CHECK(bee_perf_event_wait(m, 5) == 0, "perf wait: nothing");

	/* Per-CPU output. */
	struct perf_log log = {0};
	bee_cpu_set_current(2);
	CHECK(perf_out(m, BPF_F_CURRENT_CPU, 0, 20) == 0, "output current CPU");
	bee_cpu_set_current(0);
	CHECK(perf_out(m, 1, 0, 4) == 0, "output index 1");
	CHECK(perf_out(m, 1, 1, 100) == 0, "output index 1 again");
	CHECK(bee_perf_event_wait(m, -1) == 1, "perf wait: data");
	CHECK(bee_perf_event_read(m, perf_cb, &log) == 3, "read 3");
	CHECK(log.n[2] == 1 && log.n[1] == 2 && log.n[0] == 0 && log.bad == 0, "per CPU routing");

	/* Close slot 3: output refused, earlier records still readable. */
	CHECK(perf_out(m, 3, 0, 8) == 0, "output 3");
	key = 3;
	CHECK(bee_map_sys_delete(m, &key) == 0, "close 3");
	CHECK(perf_out(m, 3, 1, 8) == -ENOENT, "closed 3");
	CHECK(bee_perf_event_read(m, perf_cb, &log) == 1 && log.n[3] == 1, "read after close");

	/* Loss: fill channel 0 with 1000-byte samples. */
	int ok = 0;
	uint32_t seq = 0;
	while (perf_out(m, 0, seq, 1000) == 0 && ok < 1000) {
		ok++;
		seq++;
	}
	CHECK(ok == BEE_PERF_CHANNEL_BYTES / 1008, "fitted %d samples", ok);
	for (int i = 0; i < 5; i++)
		CHECK(perf_out(m, 0, seq + 1 + i, 1000) == -ENOSPC, "lost %d", i);
	CHECK(bee_perf_event_lost(m, 0) == 6, "lost count %llu",
	      (unsigned long long)bee_perf_event_lost(m, 0));
	CHECK(bee_perf_event_read_ex(m, perf_cb, perf_lost_cb, &log) == ok, "drain");
	CHECK(log.lost_events == 0, "no lost record yet");
	seq += 100;
	CHECK(perf_out(m, 0, seq, 1000) == 0, "output after drain");
	CHECK(bee_perf_event_read_ex(m, perf_cb, perf_lost_cb, &log) == 1, "one more sample");
	CHECK(log.lost_events == 1 && log.lost[0] == 6, "lost record reports 6: %d %llu",
	      log.lost_events, (unsigned long long)log.lost[0]);
	CHECK(log.bad == 0, "perf contents");

	/* Wrap each channel many times with odd sizes. */
	memset(&log, 0, sizeof(log));
	int sent = 0;
	for (uint32_t i = 0; i < 3000; i++) {
		for (uint32_t c = 0; c < 3; c++)
			sent += perf_out(m, c, i, 4 + (i * 37 + c) % 900) == 0;
		if (i % 20 == 19)
			bee_perf_event_read(m, perf_cb, &log);
	}
	bee_perf_event_read(m, perf_cb, &log);
	CHECK(sent == 9000 && log.n[0] + log.n[1] + log.n[2] == 9000 && log.bad == 0,
	      "perf wrap: sent %d read %d bad %d", sent, log.n[0] + log.n[1] + log.n[2], log.bad);
	put(m);
}

/* A producer thread against a reader: received + lost = sent, in order. */
struct perf_pc {
	struct bee_map *m;
	uint32_t total;
	_Atomic bool done;
};

static void *perf_producer(void *arg)
{
	struct perf_pc *pc = arg;
	bee_cpu_set_current(1);
	for (uint32_t i = 0; i < pc->total; i++)
		perf_out(pc->m, BPF_F_CURRENT_CPU, i, 16 + i % 200);
	atomic_store(&pc->done, true);
	return NULL;
}

static void test_perf_threads(void)
{
	int err;
	struct perf_pc pc = {0};
	pc.m = mk(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, NCPUS, 0, 0, &err);
	if (!pc.m)
		return;
	uint32_t key = 1, val = 0;
	bee_map_sys_update(pc.m, &key, &val, 0);
	pc.total = SANITIZED ? 20000 : 100000;
	struct perf_log log = {0};
	pthread_t th;
	pthread_create(&th, NULL, perf_producer, &pc);
	for (;;) {
		bool done = atomic_load(&pc.done);
		bee_perf_event_read_ex(pc.m, perf_cb, perf_lost_cb, &log);
		if (done)
			break;
		bee_perf_event_wait(pc.m, 10);
	}
	pthread_join(th, NULL);
	bee_perf_event_read_ex(pc.m, perf_cb, perf_lost_cb, &log);
	uint64_t lost = bee_perf_event_lost(pc.m, 1);
	CHECK(log.bad == 0, "perf threads: %d bad", log.bad);
	CHECK(log.n[1] + lost == pc.total, "perf threads: %d read + %llu lost != %u", log.n[1],
	      (unsigned long long)lost, pc.total);
	CHECK(log.lost[1] <= lost, "lost records report at most the total");
	put(pc.m);
}

int main(int argc, char **argv)
{
	bool only_threads = argc > 1 && strcmp(argv[1], "threads") == 0;
	if (!only_threads) {
		test_queue_stack_create();
		test_queue();
		test_stack();
		test_bloom();
		test_lpm_create();
		test_lpm_ipv4();
		test_lpm_kernel_order();
		test_lpm_ipv6();
		test_lpm_random();
		test_ringbuf_basic();
		test_ringbuf_wrap();
		test_ringbuf_wakeup();
		test_perf_array();
	}
	test_lpm_concurrent();
	test_ringbuf_threads();
	test_perf_threads();
	bee_epoch_barrier();
	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
