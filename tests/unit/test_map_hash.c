/*
 * test_map_hash.c - the hash map family (src/maps/hash.c): HASH,
 * PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH and HASH_OF_MAPS.
 *
 * Attribute checks and errno values as the kernel's htab_map_alloc_check
 * gives them, every operation and its error cases per type, per-CPU host
 * buffers, LRU eviction keeping used keys, get_next_key walks, the
 * map-in-map references, and a multi-threaded run (two program-like
 * threads against the host walking the map) meant for ThreadSanitizer.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maps/map.h"
#include "util/epoch.h"
#include "unit.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif

/* Scale down under any sanitizer (tests/common.h sees TSan too). */
#define SLOW_BUILD SANITIZED

#define NCPUS 4

static void free_deferred(void *arg)
{
	struct bee_map *map = arg;
	map->ops->free(map);
}

/* What the core's destroy does: free once no reader can see the map. */
static void test_destroy(struct bee_obj *obj)
{
	bee_epoch_defer(free_deferred, obj);
}

static struct bee_map *create_inner(enum bpf_map_type type, uint32_t key_size,
				    uint32_t value_size, uint32_t max_entries, uint32_t flags,
				    const struct bee_map *inner, int *err)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.map_type = type;
	attr.key_size = key_size;
	attr.value_size = value_size;
	attr.max_entries = max_entries;
	attr.map_flags = flags;
	struct bee_map *map = bee_map_create_attr(&attr, NCPUS, inner, err);
	if (map)
		map->obj.destroy = test_destroy;
	return map;
}

static struct bee_map *create(enum bpf_map_type type, uint32_t key_size, uint32_t value_size,
			      uint32_t max_entries, uint32_t flags, int *err)
{
	return create_inner(type, key_size, value_size, max_entries, flags, NULL, err);
}

static int create_err(enum bpf_map_type type, uint32_t key_size, uint32_t value_size,
		      uint32_t max_entries, uint32_t flags)
{
	int err;
	struct bee_map *map = create(type, key_size, value_size, max_entries, flags, &err);
	if (map)
		bee_obj_put(&map->obj);
	return err;
}

/* Program-side calls run inside a read section, as a program run does. */
static void *prog_lookup(struct bee_map *map, const void *key)
{
	bee_epoch_enter();
	void *v = map->ops->lookup(map, key);
	bee_epoch_exit();
	return v;
}

static long prog_update(struct bee_map *map, const void *key, const void *value, uint64_t flags)
{
	bee_epoch_enter();
	long r = map->ops->update(map, key, value, flags);
	bee_epoch_exit();
	return r;
}

static long prog_delete(struct bee_map *map, const void *key)
{
	bee_epoch_enter();
	long r = map->ops->delete(map, key);
	bee_epoch_exit();
	return r;
}

static uint32_t count_keys(struct bee_map *map)
{
	unsigned char key[512], next[512];
	uint32_t n = 0;
	const void *prev = NULL;
	while (bee_map_sys_get_next_key(map, prev, next) == 0) {
		n++;
		memcpy(key, next, map->key_size);
		prev = key;
		if (n > 10 * map->max_entries + 100)
			break;
	}
	return n;
}

/* ---- attributes ---- */

static void test_attr_checks(void)
{
	const enum bpf_map_type all[] = {BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PERCPU_HASH,
					 BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH};
	for (size_t i = 0; i < LEN(all); i++) {
		enum bpf_map_type t = all[i];
		CHECK(create_err(t, 4, 8, 16, 0) == 0, "type %d plain", t);
		CHECK(create_err(t, 0, 8, 16, 0) == -EINVAL, "type %d key_size 0", t);
		CHECK(create_err(t, 4, 0, 16, 0) == -EINVAL, "type %d value_size 0", t);
		CHECK(create_err(t, 4, 8, 0, 0) == -EINVAL, "type %d max_entries 0", t);
		CHECK(create_err(t, 512, 8, 4, 0) == 0, "type %d key_size 512", t);
		/* Linux 5.11 and later limit key + value only (the kernel here
		 * accepts a 513-byte key: tests/kernel/diff_maps) */
		CHECK(create_err(t, 513, 8, 4, 0) == 0, "type %d key_size 513", t);
		CHECK(create_err(t, 4, 1u << 22, 4, 0) == -E2BIG, "type %d huge value", t);
		CHECK(create_err(t, 4, 8, 16, BPF_F_MMAPABLE) == -EINVAL, "type %d mmapable", t);
		CHECK(create_err(t, 4, 8, 16, BPF_F_INNER_MAP) == -EINVAL, "type %d inner_map", t);
		CHECK(create_err(t, 4, 8, 16, BPF_F_ZERO_SEED) == 0, "type %d zero seed", t);
		CHECK(create_err(t, 4, 8, 16, BPF_F_RDONLY_PROG) == 0, "type %d rdonly prog", t);
		CHECK(create_err(t, 4, 8, 16, BPF_F_WRONLY) == 0, "type %d wronly", t);
		CHECK(create_err(t, 4, 8, 1u << 30, 0) == -E2BIG, "type %d too many buckets", t);
	}
	/* BPF_F_NO_COMMON_LRU: LRU maps only. */
	CHECK(create_err(BPF_MAP_TYPE_HASH, 4, 8, 16, BPF_F_NO_COMMON_LRU) == -EINVAL, "common lru");
	CHECK(create_err(BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 16, BPF_F_NO_COMMON_LRU) == -EINVAL,
	      "percpu common lru");
	CHECK(create_err(BPF_MAP_TYPE_LRU_HASH, 4, 8, 16, BPF_F_NO_COMMON_LRU) == 0, "lru nocommon");
	/* LRU maps are always preallocated. */
	CHECK(create_err(BPF_MAP_TYPE_LRU_HASH, 4, 8, 16, BPF_F_NO_PREALLOC) == -ENOTSUPP,
	      "lru no prealloc");
	CHECK(create_err(BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 8, 16, BPF_F_NO_PREALLOC) == -ENOTSUPP,
	      "lru percpu no prealloc");
	CHECK(create_err(BPF_MAP_TYPE_HASH, 4, 8, 16, BPF_F_NO_PREALLOC) == 0, "no prealloc");
	/* NUMA placement: not for per-CPU data. */
	CHECK(create_err(BPF_MAP_TYPE_HASH, 4, 8, 16, BPF_F_NUMA_NODE) == 0, "numa");
	CHECK(create_err(BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 16, BPF_F_NUMA_NODE) == -EINVAL,
	      "percpu numa");
	CHECK(create_err(BPF_MAP_TYPE_LRU_HASH, 4, 8, 16, BPF_F_NUMA_NODE | BPF_F_NO_COMMON_LRU) ==
		      -EINVAL,
	      "percpu lru numa");
	/* Per-CPU values are bounded by PCPU_MIN_UNIT_SIZE. */
	CHECK(create_err(BPF_MAP_TYPE_PERCPU_HASH, 4, 32768, 2, 0) == 0, "percpu 32K");
	CHECK(create_err(BPF_MAP_TYPE_PERCPU_HASH, 4, 32761, 2, 0) == 0, "percpu 32K - 7");
	CHECK(create_err(BPF_MAP_TYPE_PERCPU_HASH, 4, 32769, 2, 0) == -E2BIG, "percpu >32K");
	CHECK(create_err(BPF_MAP_TYPE_HASH, 4, 32769, 2, 0) == 0, "hash 32K+");
	/* Map-in-map values are 4-byte handles. */
	int err;
	struct bee_map *inner = create(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, &err);
	CHECK(inner, "inner array: %d", err);
	struct bee_map *m = create_inner(BPF_MAP_TYPE_HASH_OF_MAPS, 4, 8, 4, 0, inner, &err);
	CHECK(!m && err == -EINVAL, "hash of maps value_size 8: %d", err);
	m = create_inner(BPF_MAP_TYPE_HASH_OF_MAPS, 4, 4, 4, 0, inner, &err);
	CHECK(m && err == 0, "hash of maps: %d", err);
	if (m) {
		CHECK(m->ops->fd_valued, "fd_valued");
		bee_obj_put(&m->obj);
	}
	bee_obj_put(&inner->obj);
}

/* ---- one map's operations, for HASH and LRU_HASH ---- */

struct val {
	uint64_t a, b;
};

static long count_cb(struct bee_map *map, const void *key, void *value, void *ctx)
{
	(void)map;
	struct val *v = value;
	uint32_t k;
	memcpy(&k, key, 4);
	uint64_t *sum = ctx;
	*sum += k;
	CHECK(v->b == k * 10ull, "for_each value of %u", k);
	return 0;
}

static long stop_cb(struct bee_map *map, const void *key, void *value, void *ctx)
{
	(void)map, (void)key, (void)value;
	return ++*(int *)ctx == 3;
}

static void test_basic_ops(enum bpf_map_type type, uint32_t flags)
{
	int err;
	const uint32_t max = 64;
	struct bee_map *map = create(type, 4, sizeof(struct val), max, flags, &err);
	CHECK(map, "create type %d flags %#x: %d", type, flags, err);
	if (!map)
		return;
	bool lru = type == BPF_MAP_TYPE_LRU_HASH;
	uint32_t k = 7;
	struct val v = {1, 70}, out;
	CHECK(prog_lookup(map, &k) == NULL, "empty lookup");
	CHECK(bee_map_sys_lookup(map, &k, &out, 0) == -ENOENT, "empty sys lookup");
	CHECK(prog_delete(map, &k) == -ENOENT, "delete missing");
	CHECK(prog_update(map, &k, &v, BPF_EXIST) == -ENOENT, "EXIST on missing");
	CHECK(prog_update(map, &k, &v, 8) == -EINVAL, "bad flags");
	CHECK(prog_update(map, &k, &v, BPF_F_LOCK) == bee_map_check_update_flags(BPF_F_LOCK) &&
		      bee_map_check_update_flags(BPF_F_LOCK) < 0,
	      "F_LOCK refused as every map refuses it");
	CHECK(prog_update(map, &k, &v, BPF_NOEXIST) == 0, "NOEXIST on missing");
	CHECK(prog_update(map, &k, &v, BPF_NOEXIST) == -EEXIST, "NOEXIST on existing");
	/* Hold a value pointer across a replacement, as a running program
	 * may: the old element must not change under it. */
	bee_epoch_enter();
	struct val *p = prog_lookup(map, &k);
	CHECK(p && p->a == 1 && p->b == 70, "lookup after update");
	CHECK(p && (uintptr_t)p % 8 == 0, "value aligned");
	if (p && map->ops->value_ok) {
		CHECK(map->ops->value_ok(map, (uintptr_t)p, sizeof(*p)), "value_ok whole value");
		CHECK(map->ops->value_ok(map, (uintptr_t)p + 8, 8), "value_ok second word");
		CHECK(!map->ops->value_ok(map, (uintptr_t)p + 8, 9), "value_ok past the end");
		CHECK(!map->ops->value_ok(map, (uintptr_t)p - 4, 4), "value_ok key bytes");
		CHECK(!map->ops->value_ok(map, (uintptr_t)&v, 8), "value_ok stack");
	}
	v.a = 2;
	CHECK(prog_update(map, &k, &v, BPF_EXIST) == 0, "EXIST on existing");
	CHECK(bee_map_sys_lookup(map, &k, &out, 0) == 0 && out.a == 2, "replaced value");
	/* A program holding the old value still reads the old element. */
	CHECK(p && p->a == 1 && p->b == 70, "old element intact during the read section");
	bee_epoch_exit();
	v.a = 3;
	CHECK(bee_map_sys_update(map, &k, &v, BPF_ANY) == 0, "sys update");
	CHECK(bee_map_sys_lookup(map, &k, &out, 0) == 0 && out.a == 3, "sys update value");
	CHECK(bee_map_sys_lookup(map, &k, &out, BPF_F_LOCK) == -EINVAL, "sys lookup F_LOCK");

	/* lookup_and_delete */
	CHECK(bee_map_sys_lookup_and_delete(map, &k, &out, 1) == -EINVAL, "lad flags");
	CHECK(bee_map_sys_lookup_and_delete(map, &k, &out, BPF_F_LOCK) == -EINVAL, "lad lock");
	memset(&out, 0, sizeof(out));
	CHECK(bee_map_sys_lookup_and_delete(map, &k, &out, 0) == 0 && out.a == 3 && out.b == 70,
	      "lookup_and_delete");
	CHECK(bee_map_sys_lookup_and_delete(map, &k, &out, 0) == -ENOENT, "lad missing");
	CHECK(prog_lookup(map, &k) == NULL, "gone after lookup_and_delete");

	/* Fill it. */
	for (uint32_t i = 0; i < max; i++) {
		struct val w = {i, i * 10ull};
		CHECK(prog_update(map, &i, &w, BPF_ANY) == 0, "fill %u", i);
	}
	k = max;
	v.b = max * 10ull;
	if (lru) {
		CHECK(prog_update(map, &k, &v, BPF_ANY) == 0, "lru full evicts");
		CHECK(count_keys(map) == max, "lru holds max_entries: %u", count_keys(map));
		CHECK(prog_lookup(map, &k) != NULL, "new key in");
		CHECK(prog_delete(map, &k) == 0, "delete the new key");
		/* Put back whichever key was evicted. */
		for (uint32_t i = 0; i < max; i++) {
			struct val w = {i, i * 10ull};
			if (!prog_lookup(map, &i))
				CHECK(prog_update(map, &i, &w, BPF_NOEXIST) == 0, "refill %u", i);
		}
	} else {
		CHECK(prog_update(map, &k, &v, BPF_ANY) == -E2BIG, "full map");
		CHECK(prog_update(map, &k, &v, BPF_NOEXIST) == -E2BIG, "full map NOEXIST");
		uint32_t k0 = 0;
		struct val w = {5, 0};
		CHECK(prog_update(map, &k0, &w, BPF_ANY) == 0, "replace in a full map");
		w.a = 0;
		CHECK(prog_update(map, &k0, &w, BPF_EXIST) == 0, "EXIST in a full map");
		/* delete + insert right away: the slot in limbo is not needed */
		for (int round = 0; round < 200; round++) {
			uint32_t d = (uint32_t)round % max;
			struct val wd = {d, d * 10ull};
			CHECK(prog_delete(map, &d) == 0, "churn delete %u", d);
			CHECK(prog_update(map, &d, &wd, BPF_NOEXIST) == 0, "churn insert %u", d);
		}
	}
	CHECK(count_keys(map) == max, "count %u", count_keys(map));

	/* get_next_key: every key exactly once, NULL and unknown keys give
	 * the first, the last gives -ENOENT. */
	unsigned char seen[64 + 1] = {0};
	uint32_t cur, next, first, n = 0;
	int r = bee_map_sys_get_next_key(map, NULL, &first);
	CHECK(r == 0, "first key");
	uint32_t unknown = 12345;
	CHECK(bee_map_sys_get_next_key(map, &unknown, &next) == 0 && next == first,
	      "unknown key restarts");
	for (r = bee_map_sys_get_next_key(map, NULL, &next); r == 0;
	     r = bee_map_sys_get_next_key(map, &cur, &next)) {
		CHECK(next < max && !seen[next], "key %u once", next);
		if (next < max)
			seen[next] = 1;
		cur = next;
		if (++n > 2 * max)
			break;
	}
	CHECK(r == -ENOENT && n == max, "walk: %d after %u keys", r, n);

	/* for_each */
	uint64_t sum = 0;
	bee_epoch_enter();
	long visited = map->ops->for_each(map, count_cb, &sum, 0);
	bee_epoch_exit();
	CHECK(visited == max && sum == (uint64_t)max * (max - 1) / 2, "for_each %ld %llu", visited,
	      (unsigned long long)sum);
	int calls = 0;
	bee_epoch_enter();
	visited = map->ops->for_each(map, stop_cb, &calls, 0);
	long bad = map->ops->for_each(map, stop_cb, &calls, 1);
	bee_epoch_exit();
	CHECK(visited == 3 && calls == 3, "for_each stops: %ld", visited);
	CHECK(bad == -EINVAL, "for_each flags");

	/* Empty it. */
	for (uint32_t i = 0; i < max; i++)
		CHECK(bee_map_sys_delete(map, &i) == 0, "delete %u", i);
	CHECK(bee_map_sys_get_next_key(map, NULL, &next) == -ENOENT, "empty walk");
	CHECK(bee_map_sys_delete(map, &k) == -ENOENT, "delete from empty");
	bee_obj_put(&map->obj);
}

/* Odd key and value sizes: keys compared and hashed whole, values not a
 * multiple of 8 still 8-byte aligned. */
static void test_odd_sizes(void)
{
	const uint32_t key_sizes[] = {1, 3, 8, 13, 40, 512};
	for (size_t s = 0; s < LEN(key_sizes); s++) {
		uint32_t ks = key_sizes[s], vs = 5 + (uint32_t)s;
		int err;
		uint32_t max = ks == 1 ? 256 : 300;
		struct bee_map *map = create(BPF_MAP_TYPE_HASH, ks, vs, max, BPF_F_NO_PREALLOC, &err);
		CHECK(map, "create ks %u: %d", ks, err);
		if (!map)
			continue;
		unsigned char key[512], val[16], out[16];
		for (uint32_t i = 0; i < max; i++) {
			memset(key, 0xa5, ks);
			memcpy(key + ks - (ks < 4 ? ks : 4), &i, ks < 4 ? ks : 4);
			memset(val, (int)i, vs);
			CHECK(prog_update(map, key, val, BPF_NOEXIST) == 0, "ks %u insert %u", ks, i);
		}
		CHECK(count_keys(map) == max, "ks %u count", ks);
		for (uint32_t i = 0; i < max; i++) {
			memset(key, 0xa5, ks);
			memcpy(key + ks - (ks < 4 ? ks : 4), &i, ks < 4 ? ks : 4);
			unsigned char *v = prog_lookup(map, key);
			CHECK(v && (uintptr_t)v % 8 == 0, "ks %u lookup %u", ks, i);
			memset(val, (int)i, vs);
			CHECK(bee_map_sys_lookup(map, key, out, 0) == 0 && !memcmp(out, val, vs),
			      "ks %u value %u", ks, i);
		}
		key[0] ^= 0x40; /* a key that differs in its first byte only */
		CHECK(prog_lookup(map, key) == NULL || ks == 1, "ks %u near miss", ks);
		bee_obj_put(&map->obj);
	}
}

/* Many entries, NO_PREALLOC growing chunk by chunk, and churn through the
 * epoch: the pool must not grow without bound. */
static void test_large(uint32_t flags)
{
	const uint32_t n = SLOW_BUILD ? 20000 : 200000;
	int err;
	struct bee_map *map = create(BPF_MAP_TYPE_HASH, 8, 8, n, flags, &err);
	CHECK(map, "large: %d", err);
	if (!map)
		return;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t v = i * 3;
		if (prog_update(map, &i, &v, BPF_NOEXIST)) {
			CHECK(0, "large insert %llu", (unsigned long long)i);
			break;
		}
	}
	uint64_t extra = n;
	CHECK(prog_update(map, &extra, &extra, BPF_ANY) == -E2BIG, "large full");
	uint32_t misses = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t *v = prog_lookup(map, &i);
		misses += !v || *v != i * 3;
	}
	CHECK(misses == 0, "large lookups: %u misses", misses);
	CHECK(count_keys(map) == n, "large walk");
	uint32_t fails = 0;
	for (uint64_t i = 0; i < n; i += 2)
		fails += prog_delete(map, &i) != 0;
	CHECK(fails == 0 && count_keys(map) == n / 2, "large half walk");
	for (uint64_t i = 0; i < n; i += 2)
		fails += prog_update(map, &i, &i, BPF_NOEXIST) != 0;
	CHECK(fails == 0 && count_keys(map) == n, "large reinsert");
	bee_obj_put(&map->obj);
}

/* ---- per-CPU ---- */

static void test_percpu(enum bpf_map_type type)
{
	int err;
	const uint32_t vs = 12, stride = 16; /* host buffer: values rounded up to 8 */
	struct bee_map *map = create(type, 4, vs, 32, 0, &err);
	CHECK(map, "percpu create: %d", err);
	if (!map)
		return;
	CHECK(bee_map_sys_value_size(map) == NCPUS * stride, "sys value size");
	unsigned char buf[NCPUS * 16], out[NCPUS * 16];
	for (unsigned cpu = 0; cpu < NCPUS; cpu++)
		memset(buf + cpu * stride, 0x10 + cpu, stride);
	uint32_t k = 1;
	CHECK(bee_map_sys_update(map, &k, buf, BPF_NOEXIST) == 0, "percpu sys update");
	CHECK(bee_map_sys_update(map, &k, buf, BPF_NOEXIST) == -EEXIST, "percpu sys NOEXIST");
	memset(out, 0xff, sizeof(out));
	CHECK(bee_map_sys_lookup(map, &k, out, 0) == 0, "percpu sys lookup");
	for (unsigned cpu = 0; cpu < NCPUS; cpu++) {
		unsigned char want[16];
		memset(want, 0x10 + cpu, vs);
		/* padding comes back as the host wrote it, as the kernel keeps it */
		memset(want + vs, 0x10 + cpu, stride - vs);
		CHECK(!memcmp(out + cpu * stride, want, stride), "cpu %u copy", cpu);
	}
	/* Programs see and write their own CPU's copy only. */
	for (unsigned cpu = 0; cpu < NCPUS; cpu++) {
		bee_cpu_set_current(cpu);
		unsigned char *v = prog_lookup(map, &k);
		CHECK(v && v[0] == 0x10 + cpu && (uintptr_t)v % 8 == 0, "cpu %u view", cpu);
		if (v && map->ops->value_ok) {
			CHECK(map->ops->value_ok(map, (uintptr_t)v, vs), "value_ok cpu %u", cpu);
			CHECK(!map->ops->value_ok(map, (uintptr_t)v + 8, 8), "value_ok pad cpu %u", cpu);
		}
	}
	unsigned char pv[12];
	memset(pv, 0x77, sizeof(pv));
	bee_cpu_set_current(2);
	CHECK(prog_update(map, &k, pv, BPF_EXIST) == 0, "percpu prog update");
	CHECK(bee_map_sys_lookup(map, &k, out, 0) == 0, "lookup after prog update");
	CHECK(out[2 * stride] == 0x77 && out[1 * stride] == 0x11 && out[3 * stride] == 0x13,
	      "only cpu 2 changed");
	/* A new element from a program: the other CPUs' copies are zero. */
	uint32_t k2 = 2;
	bee_cpu_set_current(1);
	CHECK(prog_update(map, &k2, pv, BPF_ANY) == 0, "percpu prog insert");
	CHECK(bee_map_sys_lookup(map, &k2, out, 0) == 0, "lookup new");
	for (unsigned cpu = 0; cpu < NCPUS; cpu++)
		CHECK(out[cpu * stride] == (cpu == 1 ? 0x77 : 0) &&
			      out[cpu * stride + vs - 1] == (cpu == 1 ? 0x77 : 0),
		      "new element cpu %u", cpu);
	/* ... and that holds for a recycled element too. */
	CHECK(bee_map_sys_delete(map, &k2) == 0, "delete k2");
	bee_epoch_barrier();
	for (uint32_t i = 100; i < 120; i++) {
		CHECK(bee_map_sys_update(map, &i, buf, BPF_ANY) == 0, "fill %u", i);
		CHECK(bee_map_sys_delete(map, &i) == 0, "drain %u", i);
	}
	bee_epoch_barrier();
	CHECK(prog_update(map, &k2, pv, BPF_ANY) == 0, "percpu prog insert again");
	CHECK(bee_map_sys_lookup(map, &k2, out, 0) == 0, "lookup recycled");
	for (unsigned cpu = 0; cpu < NCPUS; cpu++)
		CHECK(out[cpu * stride] == (cpu == 1 ? 0x77 : 0), "recycled cpu %u", cpu);
	bee_cpu_set_current(0);
	/* lookup_and_delete hands back every CPU's copy. */
	memset(out, 0, sizeof(out));
	CHECK(bee_map_sys_lookup_and_delete(map, &k, out, 0) == 0, "percpu lad");
	CHECK(out[0] == 0x10 && out[2 * stride] == 0x77 && out[3 * stride] == 0x13, "lad values");
	CHECK(bee_map_sys_lookup(map, &k, out, 0) == -ENOENT, "lad removed");
	bee_obj_put(&map->obj);
}

/* ---- LRU ---- */

static void test_lru(enum bpf_map_type type)
{
	int err;
	const uint32_t max = 128, hot = 32;
	struct bee_map *map = create(type, 4, 8, max, 0, &err);
	CHECK(map, "lru create: %d", err);
	if (!map)
		return;
	uint64_t v = 1;
	for (uint32_t i = 0; i < max; i++)
		CHECK(prog_update(map, &i, &v, BPF_NOEXIST) == 0, "lru fill %u", i);
	/* Use the hot keys, then insert as many new keys as there are cold
	 * ones: the hot keys must survive. */
	for (int round = 0; round < 3; round++) {
		for (uint32_t i = 0; i < hot; i++)
			CHECK(prog_lookup(map, &i) != NULL, "hot %u present", i);
		for (uint32_t i = 0; i < max - hot; i++) {
			uint32_t k = 1000 + (uint32_t)round * 1000 + i;
			CHECK(prog_update(map, &k, &v, BPF_NOEXIST) == 0, "lru insert %u", k);
		}
		uint32_t n = count_keys(map);
		CHECK(n == max, "lru round %d: %u keys", round, n);
	}
	for (uint32_t i = 0; i < hot; i++)
		CHECK(prog_lookup(map, &i) != NULL, "hot key %u kept", i);
	/* Host lookups are not uses: with no program lookups, old keys go
	 * first (roughly). */
	for (uint32_t i = 0; i < 10 * max; i++) {
		uint32_t k = 100000 + i;
		CHECK(prog_update(map, &k, &v, BPF_ANY) == 0, "lru churn %u", k);
	}
	CHECK(count_keys(map) == max, "lru after churn");
	bee_obj_put(&map->obj);
}

/* ---- map-in-map ---- */

static long refs(struct bee_map *m)
{
	return atomic_load(&m->obj.refcnt);
}

static void test_hash_of_maps(void)
{
	int err;
	struct bee_map *a = create(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, &err);
	struct bee_map *b = create(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, &err);
	CHECK(a && b, "inner maps");
	if (!a || !b)
		return;
	a->obj.id = 11;
	b->obj.id = 22;
	struct bee_map *outer = create_inner(BPF_MAP_TYPE_HASH_OF_MAPS, 8, 4, 4, 0, a, &err);
	CHECK(outer, "outer: %d", err);
	if (!outer)
		return;
	CHECK(bee_map_sys_value_size(outer) == 4, "fd-valued host value");
	uint64_t k1 = 1, k2 = 2;
	bee_epoch_enter();
	bee_obj_hold(&a->obj);
	CHECK(outer->ops->fd_update(outer, &k1, &a->obj, BPF_ANY) == 0, "fd_update a");
	CHECK(outer->ops->fd_lookup(outer, &k1) == &a->obj, "fd_lookup a");
	CHECK(outer->ops->lookup(outer, &k1) == (void *)a, "program lookup gives the inner map");
	CHECK(outer->ops->lookup(outer, &k2) == NULL, "missing");
	CHECK(outer->ops->fd_lookup(outer, &k2) == NULL, "fd_lookup missing");
	CHECK(outer->ops->update == NULL, "programs cannot update map-in-map");
	/* Failures leave the reference with the caller. */
	bee_obj_hold(&b->obj);
	CHECK(outer->ops->fd_update(outer, &k1, &b->obj, BPF_NOEXIST) == -EEXIST, "fd NOEXIST");
	CHECK(outer->ops->fd_update(outer, &k2, &b->obj, BPF_EXIST) == -ENOENT, "fd EXIST");
	CHECK(outer->ops->fd_update(outer, &k2, &b->obj, 3) == -EINVAL, "fd flags");
	CHECK(refs(b) == 2, "failed updates took no reference: %ld", refs(b));
	/* Replacing drops the old reference. */
	CHECK(outer->ops->fd_update(outer, &k1, &b->obj, BPF_EXIST) == 0, "fd replace");
	bee_epoch_exit();
	CHECK(refs(a) == 1 && refs(b) == 2, "replace dropped a: %ld %ld", refs(a), refs(b));
	uint32_t id = 0;
	CHECK(bee_map_sys_lookup(outer, &k1, &id, 0) == 0 && id == 22, "host lookup gives the id");
	bee_epoch_enter();
	bee_obj_hold(&a->obj);
	CHECK(outer->ops->fd_update(outer, &k2, &a->obj, BPF_NOEXIST) == 0, "fd insert a");
	bee_epoch_exit();
	uint64_t next;
	CHECK(count_keys(outer) == 2, "two inner maps");
	CHECK(bee_map_sys_get_next_key(outer, NULL, &next) == 0 && (next == 1 || next == 2), "walk");
	CHECK(bee_map_sys_delete(outer, &k1) == 0 && refs(b) == 1, "delete drops b");
	CHECK(bee_map_sys_delete(outer, &k1) == -ENOENT, "delete missing");
	CHECK(bee_map_sys_lookup_and_delete(outer, &k2, &id, 0) == -ENOTSUPP,
	      "no lookup_and_delete for map-in-map");
	CHECK(refs(a) == 2, "a held by the outer map");
	/* Freeing the outer map drops what it holds. */
	bee_obj_put(&outer->obj);
	bee_epoch_barrier();
	CHECK(refs(a) == 1, "free dropped a: %ld", refs(a));
	bee_obj_put(&a->obj);
	bee_obj_put(&b->obj);
}

/* ---- concurrency ---- */

struct stress_arg {
	struct bee_map *map;
	unsigned cpu;
	uint32_t ops, keys;
	bool percpu;
	_Atomic int *running;
	int errors;
};

/* Program threads start together, once the host is about to walk. */
static _Atomic bool stress_go;

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* A program-like thread: values are {counter, key}; the key half never
 * changes while an element is visible, whatever else happens. */
static void *stress_prog(void *p)
{
	struct stress_arg *a = p;
	struct bee_map *map = a->map;
	uint64_t seed = 0x9e3779b97f4a7c15ull * (a->cpu + 1);
	bee_cpu_set_current(a->cpu);
	while (!atomic_load(&stress_go))
		sched_yield();
	for (uint32_t i = 0; i < a->ops; i++) {
		uint64_t r = xorshift(&seed);
		uint32_t key = (uint32_t)(r >> 32) % a->keys;
		uint64_t val[2] = {1, key};
		long ret;
		bee_epoch_enter();
		switch (r % 8) {
		case 0:
		case 1:
		case 2: {
			uint64_t *v = map->ops->lookup(map, &key);
			if (v) {
				uint64_t tag = __atomic_load_n(&v[1], __ATOMIC_RELAXED);
				if ((uintptr_t)v % 8 || (tag != key && !(a->percpu && tag == 0)))
					a->errors++;
				__atomic_fetch_add(&v[0], 1, __ATOMIC_RELAXED);
				if (__atomic_load_n(&v[1], __ATOMIC_RELAXED) != tag)
					a->errors++; /* the element changed under us */
			}
			break;
		}
		case 3:
		case 4:
			ret = map->ops->update(map, &key, val, BPF_ANY);
			a->errors += ret != 0;
			break;
		case 5:
			ret = map->ops->update(map, &key, val, BPF_NOEXIST);
			a->errors += ret != 0 && ret != -EEXIST;
			break;
		case 6:
			ret = map->ops->delete(map, &key);
			a->errors += ret != 0 && ret != -ENOENT;
			break;
		case 7:
			ret = map->ops->update(map, &key, val, BPF_EXIST);
			a->errors += ret != 0 && ret != -ENOENT;
			break;
		}
		bee_epoch_exit();
	}
	atomic_fetch_sub(a->running, 1);
	return NULL;
}

/* Operations per program thread (argv[1] overrides, for longer runs under
 * ThreadSanitizer). */
static uint32_t stress_ops = SLOW_BUILD ? 6000 : 60000;

static void stress(enum bpf_map_type type, uint32_t flags, uint32_t max, uint32_t keys)
{
	int err;
	struct bee_map *map = create(type, 4, 16, max, flags, &err);
	CHECK(map, "stress create %d: %d", type, err);
	if (!map)
		return;
	bool percpu = bee_map_is_percpu(type);
	_Atomic int running = 2;
	struct stress_arg args[2];
	pthread_t th[2];
	for (unsigned t = 0; t < 2; t++) {
		args[t] = (struct stress_arg){.map = map,
					      .cpu = t,
					      .ops = stress_ops,
					      .keys = keys,
					      .percpu = percpu,
					      .running = &running};
		pthread_create(&th[t], NULL, stress_prog, &args[t]);
	}
	/* The host walks and reads meanwhile. */
	uint64_t buf[NCPUS * 2];
	uint32_t cur, next, walks = 0, host_errors = 0;
	atomic_store(&stress_go, true);
	do {
		int r = bee_map_sys_get_next_key(map, NULL, &next);
		for (uint32_t steps = 0; r == 0 && steps < 4 * keys; steps++) {
			if (next >= keys)
				host_errors++;
			int lr = bee_map_sys_lookup(map, &next, buf, 0);
			if (lr == 0) {
				for (unsigned c = 0; c < (percpu ? NCPUS : 1); c++)
					if (buf[c * 2 + 1] != next && !(percpu && buf[c * 2 + 1] == 0))
						host_errors++;
			} else if (lr != -ENOENT) {
				host_errors++;
			}
			cur = next;
			r = bee_map_sys_get_next_key(map, &cur, &next);
		}
		walks++;
		if (walks % 8 == 1) {
			uint32_t k = (walks * 7) % keys;
			int lr = bee_map_sys_lookup_and_delete(map, &k, buf, 0);
			if (lr == 0) {
				for (unsigned c = 0; c < (percpu ? NCPUS : 1); c++)
					if (buf[c * 2 + 1] != k && !(percpu && buf[c * 2 + 1] == 0))
						host_errors++;
			} else if (lr != -ENOENT) {
				host_errors++;
			}
		}
		if (walks % 4 == 0) {
			uint32_t k = walks % keys;
			uint64_t v[NCPUS * 2] = {0};
			for (unsigned c = 0; c < NCPUS; c++)
				v[c * 2 + 1] = k;
			if (bee_map_sys_update(map, &k, v, BPF_ANY) != 0)
				host_errors++;
		}
	} while (atomic_load(&running) > 0);
	atomic_store(&stress_go, false);
	for (unsigned t = 0; t < 2; t++) {
		pthread_join(th[t], NULL);
		CHECK(args[t].errors == 0, "stress %d thread %u: %d errors", type, t, args[t].errors);
	}
	CHECK(host_errors == 0, "stress %d host: %u errors", type, host_errors);
	/* Quiescent now: the walk and lookups agree. */
	unsigned char *seen = calloc(keys, 1);
	uint32_t n = 0;
	for (int r = bee_map_sys_get_next_key(map, NULL, &next); r == 0;
	     r = bee_map_sys_get_next_key(map, &cur, &next)) {
		if (next >= keys || seen[next]) {
			CHECK(0, "stress %d: key %u repeated or bogus", type, next);
			break;
		}
		seen[next] = 1;
		n++;
		cur = next;
	}
	uint32_t present = 0;
	for (uint32_t k = 0; k < keys; k++) {
		bool in = bee_map_sys_lookup(map, &k, buf, 0) == 0;
		present += in;
		CHECK(in == seen[k], "stress %d: key %u walk/lookup disagree", type, k);
	}
	CHECK(n == present && n <= max, "stress %d: %u keys, %u present", type, n, present);
	free(seen);
	bee_obj_put(&map->obj);
}

int main(int argc, char **argv)
{
	uint64_t ops;
	if (argc > 1) {
		if (!test_parse_u64(argv[1], &ops) || !ops || ops > UINT32_MAX) {
			fprintf(stderr, "usage: %s [operations per stress thread]\n", argv[0]);
			return 2;
		}
		stress_ops = (uint32_t)ops;
	}
	test_attr_checks();
	test_basic_ops(BPF_MAP_TYPE_HASH, 0);
	test_basic_ops(BPF_MAP_TYPE_HASH, BPF_F_NO_PREALLOC);
	test_basic_ops(BPF_MAP_TYPE_HASH, BPF_F_ZERO_SEED);
	test_basic_ops(BPF_MAP_TYPE_LRU_HASH, 0);
	test_basic_ops(BPF_MAP_TYPE_LRU_HASH, BPF_F_NO_COMMON_LRU);
	test_odd_sizes();
	test_large(0);
	test_large(BPF_F_NO_PREALLOC);
	test_percpu(BPF_MAP_TYPE_PERCPU_HASH);
	test_percpu(BPF_MAP_TYPE_LRU_PERCPU_HASH);
	test_lru(BPF_MAP_TYPE_LRU_HASH);
	test_lru(BPF_MAP_TYPE_LRU_PERCPU_HASH);
	test_hash_of_maps();
	stress(BPF_MAP_TYPE_HASH, 0, 256, 256);
	stress(BPF_MAP_TYPE_HASH, BPF_F_NO_PREALLOC, 64, 64);
	stress(BPF_MAP_TYPE_PERCPU_HASH, 0, 128, 128);
	stress(BPF_MAP_TYPE_LRU_HASH, 0, 32, 96);
	stress(BPF_MAP_TYPE_LRU_PERCPU_HASH, 0, 32, 96);
	bee_epoch_barrier();
	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
