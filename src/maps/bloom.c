/*
 * bloom.c - BPF_MAP_TYPE_BLOOM_FILTER.
 *
 * Theory of operation.  A bloom filter answers "maybe present" or "surely
 * absent" for a value, using a bit array and k hash functions: adding a
 * value sets k bits, checking it tests them.  The map is keyless
 * (key_size 0); programs add with bpf_map_push_elem (flags BPF_ANY only)
 * and check with bpf_map_peek_elem (0: maybe present, -ENOENT: surely
 * absent), and the host's update and lookup do the same, as in the kernel
 * (kernel/bpf/bloom_filter.c).  Nothing is ever removed.
 *
 * Sizing mirrors the kernel: k = map_extra & 0xf (0 means 5), and the
 * array has max_entries * k / ln 2 bits (computed as * 7 / 5), rounded up
 * to a power of two so a hash maps to a bit with a mask; past 2^31 it is
 * 2^32 bits.
 *
 * Hashing: one seeded 64-bit hash of the value, split into h1 and h2; the
 * i-th bit is (h1 + i * h2) & mask (double hashing, which is as good for a
 * bloom filter as k independent hashes).  The seed is random unless
 * BPF_F_ZERO_SEED asks for reproducible bits, as the kernel's.  The hash
 * differs from the kernel's jhash: only membership answers are mirrored,
 * not bit positions.
 *
 * Concurrency: lock-free.  Adding is an atomic OR per bit; checking reads
 * each word with a relaxed load.  A check racing with an add may say
 * "absent" for the value being added, which is the kernel's behaviour too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "maps/map.h"

#define BLOOM_CREATE_FLAGS                                                                 \
	(BPF_F_NUMA_NODE | BPF_F_ZERO_SEED | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG | \
	 BPF_F_WRONLY_PROG)

struct bee_bloom {
	struct bee_map map;
	uint64_t seed;
	uint64_t bit_mask;   /* number of bits - 1 */
	unsigned nr_hashes;
	_Atomic uint64_t *words;
};

static struct bee_bloom *bloom_of(const struct bee_map *map)
{
	return (struct bee_bloom *)map;
}

static uint64_t random_seed(void)
{
	uint64_t seed;
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
		return seed;
	/* No entropy yet: the seed only spreads bits, a weak one is fine. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec ^
	       (uint64_t)(uintptr_t)&ts;
}

static struct bee_map *bloom_alloc(const union bpf_attr *attr, unsigned ncpus, int *err)
{
	if (attr->key_size != 0 || attr->value_size == 0 || attr->max_entries == 0 ||
	    (attr->map_flags & ~BLOOM_CREATE_FLAGS) || (attr->map_extra & ~0xfull)) {
		*err = -EINVAL;
		return NULL;
	}
	unsigned nr_hashes = attr->map_extra & 0xf;
	if (nr_hashes == 0)
		nr_hashes = 5;
	/* max_entries * k * 7 / 5 bits (about k / ln 2 per element, the
	 * optimum), as the kernel computes it, in 64 bits to see overflow. */
	uint64_t nr_bits = (uint64_t)attr->max_entries * nr_hashes;
	nr_bits = nr_bits / 5 * 7;
	if (nr_bits > (1ull << 31)) {
		nr_bits = 1ull << 32;
	} else if (nr_bits <= 64) {
		nr_bits = 64;
	} else {
		uint64_t p = 64;
		while (p < nr_bits)
			p <<= 1;
		nr_bits = p;
	}
	struct bee_bloom *b = calloc(1, sizeof(*b));
	if (!b) {
		*err = -ENOMEM;
		return NULL;
	}
	b->words = calloc(nr_bits / 64, sizeof(uint64_t));
	if (!b->words) {
		free(b);
		*err = -ENOMEM;
		return NULL;
	}
	b->bit_mask = nr_bits - 1;
	b->nr_hashes = nr_hashes;
	b->seed = (attr->map_flags & BPF_F_ZERO_SEED) ? 0 : random_seed();
	return &b->map;
}

static void bloom_free(struct bee_map *map)
{
	struct bee_bloom *b = bloom_of(map);
	free((void *)b->words);
	free(b);
}

static inline uint64_t rotl64(uint64_t x, unsigned r)
{
	return (x << r) | (x >> (64 - r));
}

/* A final avalanche so every input bit moves about half the output bits. */
static inline uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/* Seeded 64-bit hash of the value.  The value may be a map value that a
 * program writes concurrently, so it is read through bee_value_copy into a
 * private chunk first. */
static uint64_t hash_value(const struct bee_bloom *b, const void *value, size_t size)
{
	const unsigned char *src = value;
	uint64_t h = b->seed ^ (size * 0x9e3779b97f4a7c15ull);
	uint64_t chunk[8];
	while (size) {
		size_t n = size < sizeof(chunk) ? size : sizeof(chunk);
		memset(chunk, 0, sizeof(chunk));
		bee_value_copy(chunk, src, n);
		for (size_t i = 0; i < (n + 7) / 8; i++) {
			h ^= mix64(chunk[i] + 0x9e3779b97f4a7c15ull);
			h = rotl64(h, 27) * 0x87c37b91114253d5ull + 0x52dce729;
		}
		src += n;
		size -= n;
	}
	return mix64(h);
}

static long bloom_push(struct bee_map *map, const void *value, uint64_t flags)
{
	struct bee_bloom *b = bloom_of(map);
	if (flags != BPF_ANY)
		return -EINVAL;
	uint64_t h = hash_value(b, value, map->value_size);
	uint64_t h1 = h, h2 = (h >> 32) | 1; /* odd: steps visit distinct bits */
	for (unsigned i = 0; i < b->nr_hashes; i++) {
		uint64_t bit = (h1 + i * h2) & b->bit_mask;
		atomic_fetch_or_explicit(&b->words[bit / 64], 1ull << (bit % 64),
					 memory_order_relaxed);
	}
	return 0;
}

static long bloom_peek(struct bee_map *map, void *value)
{
	struct bee_bloom *b = bloom_of(map);
	uint64_t h = hash_value(b, value, map->value_size);
	uint64_t h1 = h, h2 = (h >> 32) | 1;
	for (unsigned i = 0; i < b->nr_hashes; i++) {
		uint64_t bit = (h1 + i * h2) & b->bit_mask;
		uint64_t w = atomic_load_explicit(&b->words[bit / 64], memory_order_relaxed);
		if (!(w & (1ull << (bit % 64))))
			return -ENOENT;
	}
	return 0;
}

/* The kernel's bloom_map_{pop,delete}_elem and get_next_key. */
static long bloom_pop(struct bee_map *map, void *value)
{
	return -EOPNOTSUPP;
}

static long bloom_delete(struct bee_map *map, const void *key)
{
	return -EOPNOTSUPP;
}

static int bloom_get_next_key(struct bee_map *map, const void *key, void *next_key)
{
	return -EOPNOTSUPP;
}

static long bloom_update(struct bee_map *map, const void *key, const void *value, uint64_t flags)
{
	return -EINVAL;
}

/* BPF_MAP_LOOKUP_ELEM on a bloom filter checks the value (the kernel's
 * map_lookup_elem calls map_peek_elem for it). */
static int bloom_sys_lookup(struct bee_map *map, const void *key, void *value, uint64_t flags)
{
	return (int)bloom_peek(map, value);
}

static bool bloom_value_ok(const struct bee_map *map, uintptr_t addr, size_t size)
{
	return false; /* programs never hold a pointer into the bit array */
}

const struct bee_map_ops bee_bloom_filter_map_ops = {
	.alloc = bloom_alloc,
	.free = bloom_free,
	.update = bloom_update,
	.delete = bloom_delete,
	.push = bloom_push,
	.pop = bloom_pop,
	.peek = bloom_peek,
	.sys_lookup = bloom_sys_lookup,
	.get_next_key = bloom_get_next_key,
	.value_ok = bloom_value_ok,
};
