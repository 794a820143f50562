/*
 * hash.c - BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH and
 * HASH_OF_MAPS.
 *
 * Theory of operation
 * -------------------
 * Layout.  A power-of-two array of buckets (roundup_pow_of_two(max_entries),
 * as in the kernel); each bucket is an atomic head pointer, and writers
 * take one of up to 16K small spinlocks (bucket index modulo their
 * number).  Elements sit in a few large chunks with one fixed stride:
 *
 *     [ header 32 B | key, rounded up to 8 | value copies ]
 *
 * with one value copy (rounded up to 8) per CPU for per-CPU maps, else one.
 * Values are therefore 8-byte aligned, and bee_value_ok is a range check
 * per chunk plus one modulo.  HASH_OF_MAPS keeps a struct bee_obj pointer
 * in its 8-byte value slot.
 *
 * Why lookups take no lock.  A writer fills an element completely (hash,
 * key, value) while no reader can reach it, then publishes it with a
 * release store into a bucket head or a predecessor's next pointer.
 * Readers follow head and next pointers with acquire loads, so everything
 * written before publication is visible to them.  While an element is
 * reachable its hash and key never change; replacing a key's value
 * allocates a new element and swaps it into the old one's position with a
 * single release store (a reader sees the old element or the new one, never
 * a mix, and the key is never missing in between, which the kernel also
 * guarantees).  An unlinked element keeps its next pointer, so a reader
 * standing on it walks on into the rest of the chain.  Writers serialise
 * per bucket (per lock stripe) and never hold two stripes at once.
 *
 * How memory is reclaimed.  An unlinked element is retired with
 * bee_epoch_defer: it goes back to the map's free list only after every
 * reader that could have seen it has left its read section (the RCU grace
 * period the kernel waits for with call_rcu).  So a program holding a
 * value pointer never sees that memory become another key's element during
 * its run -- unlike the kernel's preallocated maps, which reuse an element
 * at once.  The free list and chunks form a "pool" with its own reference
 * count (one for the map, one per element waiting in the epoch queue), so a
 * deferred reclaim that runs after the map was freed still finds its pool.
 * Elements are never returned to the allocator before the map goes.  The
 * free list sits under a spinlock (a few instructions are held under it);
 * only adding a chunk takes a mutex.
 *
 * Counting.  `count` is live elements plus reservations in flight, never
 * above max_entries.  A non-LRU insert of a new key reserves under its
 * bucket lock and fails with -E2BIG when full; replacing an existing key
 * needs no reservation, so a full map can still be updated (the kernel's
 * extra_elems play that role).  Because retired elements spend a grace
 * period in limbo (and wait in the epoch's per-thread batches before it
 * starts: up to 64 per thread, of all maps), the pool holds some slack
 * beyond max_entries and grows by further chunks if limbo outruns it; preallocated maps get their first
 * chunk at creation (BPF_F_NO_PREALLOC: chunks grow geometrically on
 * demand).  Chunks are zeroed lazily by the OS (calloc, or mmap with
 * huge-page advice for big ones), so untouched slots cost no memory.
 *
 * LRU.  Approximate, like the kernel's: a lookup by a program sets the
 * element's reference bit (only if clear, so hot keys do not bounce cache
 * lines).  When an LRU insert finds the map full it runs a CLOCK (second
 * chance) sweep over the element slots: the shared hand is an atomic
 * counter, each evicting thread claims slots with fetch_add; a live slot
 * with its bit set has it cleared and is passed over, the first live slot
 * with the bit clear is evicted (looked up by pointer under its bucket
 * lock, then retired like a delete).  New keys start unreferenced, an
 * element replacing an existing key starts referenced (as the kernel marks
 * it), so keys used since the hand last passed survive.  Host lookups do not count as use (the
 * kernel's lookup_elem_sys_only).  Eviction happens before the inserting
 * thread takes its own bucket lock, so no thread ever holds two bucket
 * locks.  BPF_F_NO_COMMON_LRU is accepted and shares the one clock.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>

#include "maps/map.h"
#include "util/spinlock.h"
#include "util/epoch.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's internal "operation not supported" */
#endif

#define HTAB_CREATE_FLAGS                                                                    \
	(BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU | BPF_F_NUMA_NODE | BPF_F_RDONLY |           \
	 BPF_F_WRONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG | BPF_F_ZERO_SEED)

#define HTAB_MAX_KEY_SIZE 512          /* MAX_BPF_STACK: keys are built on the stack */
#define HTAB_KMALLOC_MAX (1ull << 22)  /* KMALLOC_MAX_SIZE on x86-64 */
#define HTAB_KERNEL_ELEM_HDR 48        /* sizeof(struct htab_elem) in the kernel */
#define HTAB_PCPU_MAX_VALUE 32768      /* PCPU_MIN_UNIT_SIZE */
#define HTAB_KERNEL_BUCKET_SIZE 16     /* sizeof(struct bucket) in the kernel */
#define HTAB_MAX_CHUNKS 48
#define HTAB_MIN_CHUNK 64

/* ---- zeroed memory for big tables ---- */

/*
 * Large bucket arrays and element chunks are touched at random: on a
 * 1M-entry map most lookups would miss the TLB twice.  Regions of a few
 * megabytes and more are mapped 2 MB-aligned and offered to transparent
 * huge pages; smaller ones come from calloc.
 */
#define BIG_ALLOC_MIN (4ul << 20)
#define HUGE_PAGE (2ul << 20)

static void *zalloc_big(size_t n, size_t size, size_t *mapped)
{
	size_t bytes;
	*mapped = 0;
	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	if (bytes < BIG_ALLOC_MIN)
		return calloc(1, bytes ? bytes : 1);
	bytes = (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	unsigned char *p = mmap(NULL, bytes + HUGE_PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	unsigned char *start = (unsigned char *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
	if (start > p)
		munmap(p, (size_t)(start - p));
	if (start + bytes < p + bytes + HUGE_PAGE)
		munmap(start + bytes, (size_t)(p + bytes + HUGE_PAGE - (start + bytes)));
#ifdef MADV_HUGEPAGE
	madvise(start, bytes, MADV_HUGEPAGE); /* advice only: failure is fine */
#endif
	*mapped = bytes;
	return start;
}

static void free_big(void *p, size_t mapped)
{
	if (mapped)
		munmap(p, mapped);
	else
		free(p);
}

/* ---- elements and the pool they come from ---- */

struct htab_pool;

struct htab_elem {
	struct htab_elem *_Atomic next; /* bucket chain; kept intact after unlink */
	struct htab_pool *pool;         /* set when the slot is first handed out */
	struct htab_elem *free_next;    /* free list (under the pool free_lock) */
	_Atomic uint32_t hash;          /* atomic: the LRU clock peeks at any slot */
	_Atomic uint8_t live;           /* LRU: linked into a bucket */
	_Atomic uint8_t ref;            /* LRU: used since the clock hand passed */
	uint8_t pad[2];
	_Alignas(8) unsigned char key[]; /* key, then the value copies */
};

_Static_assert(sizeof(struct htab_elem) == 32, "element header is 32 bytes");

struct htab_chunk {
	unsigned char *base;    /* written before nchunks publishes it */
	size_t cap;             /* slots */
	size_t mapped;          /* zalloc_big's mapping length, or 0 */
	_Atomic size_t used;    /* slots ever handed out (only grows) */
};

struct htab_pool {
	_Atomic long refs;      /* the map's, plus one per element in limbo */
	_Atomic int free_lock;  /* spinlock: free list and the newest chunk's tail */
	struct htab_elem *free_head;
	pthread_mutex_t grow_lock; /* one thread adds a chunk at a time */
	size_t elem_size;
	size_t total_cap;       /* under grow_lock */
	size_t min_grow;
	_Atomic unsigned nchunks;
	struct htab_chunk chunks[HTAB_MAX_CHUNKS];
};

static struct htab_pool *pool_create(size_t elem_size, size_t first_cap, size_t min_grow)
{
	struct htab_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	atomic_init(&p->refs, 1);
	atomic_init(&p->free_lock, 0);
	pthread_mutex_init(&p->grow_lock, NULL);
	p->elem_size = elem_size;
	p->min_grow = min_grow;
	if (first_cap) {
		p->chunks[0].base = zalloc_big(first_cap, elem_size, &p->chunks[0].mapped);
		if (!p->chunks[0].base) {
			pthread_mutex_destroy(&p->grow_lock);
			free(p);
			return NULL;
		}
		p->chunks[0].cap = first_cap;
		p->total_cap = first_cap;
		atomic_init(&p->nchunks, 1);
	}
	return p;
}

static void pool_put(struct htab_pool *p)
{
	if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
		return;
	unsigned n = atomic_load_explicit(&p->nchunks, memory_order_acquire);
	for (unsigned i = 0; i < n; i++)
		free_big(p->chunks[i].base, p->chunks[i].mapped);
	pthread_mutex_destroy(&p->grow_lock);
	free(p);
}

/* Under free_lock: the free list's first slot, else the newest chunk's
 * next unused one, else NULL. */
static struct htab_elem *pool_take_locked(struct htab_pool *p)
{
	struct htab_elem *e = p->free_head;
	if (e) {
		p->free_head = e->free_next;
		/* The next alloc reads its link and then fills it. */
		if (p->free_head)
			__builtin_prefetch(p->free_head, 1);
		return e;
	}
	unsigned n = atomic_load_explicit(&p->nchunks, memory_order_relaxed);
	if (!n)
		return NULL;
	struct htab_chunk *c = &p->chunks[n - 1];
	size_t used = atomic_load_explicit(&c->used, memory_order_relaxed);
	if (used == c->cap)
		return NULL;
	e = (struct htab_elem *)(c->base + used * p->elem_size);
	e->pool = p;
	atomic_store_explicit(&c->used, used + 1, memory_order_release);
	return e;
}

/* A free slot: the free list first, then the newest chunk's unused tail,
 * then a new chunk as large as everything so far.  NULL when out of
 * memory.  The common cases take only the spinlock (a few instructions
 * under it); a new chunk is mapped under grow_lock, outside the spinlock. */
static struct htab_elem *pool_alloc(struct htab_pool *p)
{
	bee_spin_lock(&p->free_lock);
	struct htab_elem *e = pool_take_locked(p);
	bee_spin_unlock(&p->free_lock);
	if (e)
		return e;
	pthread_mutex_lock(&p->grow_lock);
	bee_spin_lock(&p->free_lock); /* another thread may have grown it meanwhile */
	e = pool_take_locked(p);
	bee_spin_unlock(&p->free_lock);
	if (e) {
		pthread_mutex_unlock(&p->grow_lock);
		return e;
	}
	/* Only grow_lock holders change nchunks and the chunks past it. */
	unsigned n = atomic_load_explicit(&p->nchunks, memory_order_relaxed);
	size_t cap = p->total_cap > p->min_grow ? p->total_cap : p->min_grow;
	if (n == HTAB_MAX_CHUNKS || cap > SIZE_MAX / p->elem_size) {
		pthread_mutex_unlock(&p->grow_lock);
		return NULL;
	}
	struct htab_chunk *c = &p->chunks[n];
	c->base = zalloc_big(cap, p->elem_size, &c->mapped);
	if (!c->base) {
		pthread_mutex_unlock(&p->grow_lock);
		return NULL;
	}
	c->cap = cap;
	atomic_store_explicit(&c->used, 0, memory_order_relaxed);
	p->total_cap += cap;
	bee_spin_lock(&p->free_lock);
	atomic_store_explicit(&p->nchunks, n + 1, memory_order_release);
	e = pool_take_locked(p);
	bee_spin_unlock(&p->free_lock);
	pthread_mutex_unlock(&p->grow_lock);
	return e;
}

/* Give back a slot no reader can reach (never published, or past its grace
 * period). */
static void pool_free(struct htab_pool *p, struct htab_elem *e)
{
	bee_spin_lock(&p->free_lock);
	e->free_next = p->free_head;
	p->free_head = e;
	bee_spin_unlock(&p->free_lock);
}

/* The epoch callback of a retired element. */
static void elem_reclaim(void *arg)
{
	struct htab_elem *e = arg;
	struct htab_pool *p = e->pool;
	pool_free(p, e);
	pool_put(p);
}

static void elem_retire(struct htab_elem *e)
{
	atomic_fetch_add_explicit(&e->pool->refs, 1, memory_order_relaxed);
	bee_epoch_defer(elem_reclaim, e);
}

/* ---- the table ---- */

/* Just the head, so that a big table's buckets stay dense in the cache;
 * writers lock a stripe of buckets (bucket index modulo the stripes). */
struct htab_bucket {
	struct htab_elem *_Atomic head;
};

#define HTAB_MAX_LOCKS 16384

struct htab {
	struct bee_map map;
	struct htab_bucket *buckets;
	size_t buckets_mapped;
	_Atomic int *locks;
	uint32_t lock_mask;
	uint32_t bucket_mask;
	uint32_t key_size;
	uint32_t value_off;    /* from the element's start */
	uint32_t value_size;
	uint32_t value_stride; /* one per-CPU copy: value_size rounded up to 8 */
	uint32_t copies;       /* ncpus for per-CPU maps, else 1 */
	uint32_t capacity;     /* max_entries */
	bool percpu, lru, fd_map;
	uint64_t seed;
	struct htab_pool *pool;
	_Atomic uint32_t count;
	_Atomic uint64_t clock_hand;
};

static inline struct htab *htab_of(const struct bee_map *map)
{
	return (struct htab *)map;
}

static inline _Atomic int *lock_of(const struct htab *h, const struct htab_bucket *b)
{
	return &h->locks[(size_t)(b - h->buckets) & h->lock_mask];
}

static inline unsigned char *elem_value(const struct htab *h, struct htab_elem *e, unsigned cpu)
{
	return (unsigned char *)e + h->value_off + (size_t)cpu * h->value_stride;
}

static inline unsigned this_cpu(const struct htab *h)
{
	unsigned cpu = bee_cpu_current();
	return cpu < h->copies ? cpu : 0;
}

/* ---- hashing: a multiply-rotate accumulation over 8-byte words with
 * MurmurHash3's 64-bit finalizer, seeded per map ---- */

#define HASH_K1 0x9e3779b97f4a7c15ull /* 2^64 / golden ratio */
#define HASH_K2 0xc2b2ae3d27d4eb4full

static inline uint64_t fmix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static inline uint64_t hash_round(uint64_t acc, uint64_t w)
{
	acc ^= w * HASH_K2;
	acc = (acc << 31) | (acc >> 33);
	return acc * HASH_K1;
}

static inline uint32_t htab_hash(const struct htab *h, const void *key)
{
	const unsigned char *p = key;
	uint32_t n = h->key_size;
	uint64_t acc = h->seed ^ ((uint64_t)n * HASH_K1), w;
	if (n == 4) {
		uint32_t w32;
		memcpy(&w32, p, 4);
		return (uint32_t)fmix64(acc ^ w32);
	}
	if (n == 8) {
		memcpy(&w, p, 8);
		return (uint32_t)fmix64(hash_round(acc, w));
	}
	for (; n >= 8; n -= 8, p += 8) {
		memcpy(&w, p, 8);
		acc = hash_round(acc, w);
	}
	if (n) {
		w = 0;
		memcpy(&w, p, n);
		acc = hash_round(acc, w);
	}
	return (uint32_t)fmix64(acc);
}

static inline bool key_equal(const unsigned char *elem_key, const void *key, uint32_t n)
{
	if (n == 4) {
		uint32_t a, b;
		memcpy(&a, elem_key, 4);
		memcpy(&b, key, 4);
		return a == b;
	}
	if (n == 8) {
		uint64_t a, b;
		memcpy(&a, elem_key, 8);
		memcpy(&b, key, 8);
		return a == b;
	}
	return memcmp(elem_key, key, n) == 0;
}

static inline struct htab_bucket *bucket_of(const struct htab *h, uint32_t hash)
{
	return &h->buckets[hash & h->bucket_mask];
}

/* Lock-free: the caller is in a read section. */
static inline struct htab_elem *chain_find(const struct htab *h, struct htab_bucket *b,
					   const void *key, uint32_t hash)
{
	struct htab_elem *e = atomic_load_explicit(&b->head, memory_order_acquire);
	for (; e; e = atomic_load_explicit(&e->next, memory_order_acquire))
		if (atomic_load_explicit(&e->hash, memory_order_relaxed) == hash &&
		    key_equal(e->key, key, h->key_size))
			return e;
	return NULL;
}

static inline struct htab_elem *htab_find(const struct htab *h, const void *key)
{
	uint32_t hash = htab_hash(h, key);
	return chain_find(h, bucket_of(h, hash), key, hash);
}

/* Under the bucket lock: the element and the link that points at it. */
static struct htab_elem *chain_find_locked(const struct htab *h, struct htab_bucket *b,
					   const void *key, uint32_t hash,
					   struct htab_elem *_Atomic **link)
{
	struct htab_elem *_Atomic *pp = &b->head;
	struct htab_elem *e;
	while ((e = atomic_load_explicit(pp, memory_order_relaxed))) {
		if (atomic_load_explicit(&e->hash, memory_order_relaxed) == hash &&
		    key_equal(e->key, key, h->key_size)) {
			*link = pp;
			return e;
		}
		pp = &e->next;
	}
	return NULL;
}

/* Under the bucket lock: take e out of the chain.  Its own next pointer
 * stays, for readers standing on it. */
static inline void chain_unlink(struct htab_elem *_Atomic *link, struct htab_elem *e)
{
	atomic_store_explicit(link, atomic_load_explicit(&e->next, memory_order_relaxed),
			      memory_order_release);
	atomic_store_explicit(&e->live, 0, memory_order_relaxed);
}

static inline struct bee_obj *elem_obj(const struct htab *h, struct htab_elem *e)
{
	struct bee_obj *obj;
	memcpy(&obj, elem_value(h, e, 0), sizeof(obj));
	return obj;
}

/* ---- counting and LRU eviction ---- */

static bool count_reserve(struct htab *h)
{
	uint32_t c = atomic_load_explicit(&h->count, memory_order_relaxed);
	do {
		if (c >= h->capacity)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&h->count, &c, c + 1, memory_order_relaxed,
							memory_order_relaxed));
	return true;
}

static inline void count_release(struct htab *h)
{
	atomic_fetch_sub_explicit(&h->count, 1, memory_order_relaxed);
}

/* Evict e if it is still linked (it may have been deleted or replaced
 * since the clock looked at it: then it is in no chain, or another key's
 * element in another chain). */
static bool lru_try_evict(struct htab *h, struct htab_elem *e)
{
	struct htab_bucket *b = bucket_of(h, atomic_load_explicit(&e->hash, memory_order_relaxed));
	struct htab_elem *_Atomic *pp = &b->head, *x;
	bee_spin_lock(lock_of(h, b));
	while ((x = atomic_load_explicit(pp, memory_order_relaxed)) && x != e)
		pp = &x->next;
	if (!x || atomic_load_explicit(&e->ref, memory_order_relaxed)) {
		bee_spin_unlock(lock_of(h, b));
		return false;
	}
	chain_unlink(pp, e);
	count_release(h);
	bee_spin_unlock(lock_of(h, b));
	elem_retire(e);
	return true;
}

/* One CLOCK sweep step after another until an element is evicted; false if
 * two full turns found nothing to evict (every slot free, in limbo or
 * reserved by inserts in flight). */
static bool lru_evict_one(struct htab *h)
{
	struct htab_pool *p = h->pool;
	size_t used[HTAB_MAX_CHUNKS], total = 0;
	unsigned n = atomic_load_explicit(&p->nchunks, memory_order_acquire);
	for (unsigned i = 0; i < n; i++) {
		used[i] = atomic_load_explicit(&p->chunks[i].used, memory_order_acquire);
		total += used[i];
	}
	if (!total)
		return false;
	for (uint64_t budget = 2 * (uint64_t)total + 8; budget; budget--) {
		uint64_t slot =
			atomic_fetch_add_explicit(&h->clock_hand, 1, memory_order_relaxed) % total;
		unsigned i = 0;
		while (slot >= used[i])
			slot -= used[i++];
		struct htab_elem *e = (struct htab_elem *)(p->chunks[i].base + slot * p->elem_size);
		if (!atomic_load_explicit(&e->live, memory_order_relaxed))
			continue;
		if (atomic_load_explicit(&e->ref, memory_order_relaxed)) {
			atomic_store_explicit(&e->ref, 0, memory_order_relaxed);
			continue;
		}
		if (lru_try_evict(h, e))
			return true;
	}
	return false;
}

/* Room for one more element in an LRU map, evicting if it is full. */
static int lru_reserve(struct htab *h)
{
	for (int tries = 0; tries < 64; tries++) {
		if (count_reserve(h))
			return 0;
		if (!lru_evict_one(h))
			sched_yield(); /* everything is in flight elsewhere */
	}
	return -ENOMEM; /* as the kernel's LRU says when it finds no node */
}

/* ---- update ---- */

/* Where an update's value comes from. */
enum htab_src {
	SRC_PROG, /* one value: this CPU's copy (others zeroed in a new element) */
	SRC_HOST, /* per-CPU maps: ncpus values, each rounded up to 8 bytes */
	SRC_OBJ,  /* HASH_OF_MAPS: a struct bee_obj * */
};

static void write_value(const struct htab *h, struct htab_elem *e, const void *value,
			enum htab_src src, bool fresh)
{
	switch (src) {
	case SRC_PROG:
		if (!h->percpu) {
			bee_value_copy(elem_value(h, e, 0), value, h->value_size);
			return;
		}
		/* A new element from a program: every other CPU's copy starts
		 * at zero, as the kernel's pcpu_init_value does. */
		if (fresh)
			memset(elem_value(h, e, 0), 0, (size_t)h->copies * h->value_stride);
		bee_value_copy(elem_value(h, e, this_cpu(h)), value, h->value_size);
		return;
	case SRC_HOST:
		/* whole 8-byte-rounded copies, padding included: the kernel
		 * keeps the host's padding bytes and returns them on lookup */
		for (unsigned cpu = 0; cpu < h->copies; cpu++)
			bee_value_copy(elem_value(h, e, cpu),
				       (const unsigned char *)value + (size_t)cpu * h->value_stride,
				       h->percpu ? h->value_stride : h->value_size);
		return;
	case SRC_OBJ:
		memcpy(elem_value(h, e, 0), &value, sizeof(value));
		return;
	}
}

/* A filled element nobody can see yet, or NULL with *err. */
static struct htab_elem *prepare_elem(struct htab *h, const void *key, uint32_t hash,
				      const void *value, enum htab_src src, int *err)
{
	if (h->lru && (*err = lru_reserve(h)))
		return NULL;
	struct htab_elem *e = pool_alloc(h->pool);
	if (!e) {
		if (h->lru)
			count_release(h);
		*err = -ENOMEM;
		return NULL;
	}
	atomic_store_explicit(&e->next, NULL, memory_order_relaxed);
	atomic_store_explicit(&e->hash, hash, memory_order_relaxed);
	atomic_store_explicit(&e->ref, 0, memory_order_relaxed);
	/* The key may live in memory other threads write (a map value). */
	bee_value_copy(e->key, key, h->key_size);
	write_value(h, e, value, src, true);
	return e;
}

/* An element that was never published goes straight back. */
static void discard_elem(struct htab *h, struct htab_elem *e)
{
	if (h->lru)
		count_release(h);
	pool_free(h->pool, e);
}

static int htab_update_elem(struct htab *h, const void *key, const void *value, uint64_t flags,
			    enum htab_src src)
{
	int err = bee_map_check_update_flags(flags);
	if (err)
		return err;
	uint32_t hash = htab_hash(h, key);
	struct htab_bucket *b = bucket_of(h, hash);

	/* In a big table the bucket is a cache miss: start it while the new
	 * element is prepared (a prefetch, unlike a load, does not hold up
	 * the locked instructions on the way). */
	__builtin_prefetch(b);

	/* Cheap early answers (each true at the moment of the lookup), so a
	 * failing update neither allocates nor evicts. */
	if (flags != BPF_ANY) {
		bool present = chain_find(h, b, key, hash) != NULL;
		if (flags == BPF_NOEXIST && present)
			return -EEXIST;
		if (flags == BPF_EXIST && !present)
			return -ENOENT;
	}

	/* Per-CPU maps update an existing element in place (as the kernel
	 * does), so they only build a new one once they know they need it;
	 * the others always replace. */
	struct htab_elem *new = NULL, *old, *_Atomic *link = NULL;
	if (!h->percpu && !(new = prepare_elem(h, key, hash, value, src, &err)))
		return err;
	for (;;) {
		bee_spin_lock(lock_of(h, b));
		old = chain_find_locked(h, b, key, hash, &link);
		if (old && flags == BPF_NOEXIST) {
			err = -EEXIST;
			goto fail;
		}
		if (!old && flags == BPF_EXIST) {
			err = -ENOENT;
			goto fail;
		}
		if (old && h->percpu) {
			write_value(h, old, value, src, false);
			if (h->lru && !atomic_load_explicit(&old->ref, memory_order_relaxed))
				atomic_store_explicit(&old->ref, 1, memory_order_relaxed);
			bee_spin_unlock(lock_of(h, b));
			if (new)
				discard_elem(h, new);
			return 0;
		}
		if (new)
			break;
		bee_spin_unlock(lock_of(h, b));
		if (!(new = prepare_elem(h, key, hash, value, src, &err)))
			return err;
	}
	if (!old && !h->lru && !count_reserve(h)) {
		err = -E2BIG;
		goto fail;
	}
	if (old && h->lru)
		count_release(h); /* replacing: the reservation is not needed */
	atomic_store_explicit(&new->ref, old != NULL, memory_order_relaxed);
	atomic_store_explicit(&new->live, 1, memory_order_relaxed);
	if (old) {
		/* Take old's place in the chain in one store. */
		atomic_store_explicit(&new->next,
				      atomic_load_explicit(&old->next, memory_order_relaxed),
				      memory_order_relaxed);
		atomic_store_explicit(link, new, memory_order_release);
		atomic_store_explicit(&old->live, 0, memory_order_relaxed);
	} else {
		atomic_store_explicit(&new->next,
				      atomic_load_explicit(&b->head, memory_order_relaxed),
				      memory_order_relaxed);
		atomic_store_explicit(&b->head, new, memory_order_release);
	}
	bee_spin_unlock(lock_of(h, b));
	if (old) {
		struct bee_obj *obj = h->fd_map ? elem_obj(h, old) : NULL;
		elem_retire(old);
		if (obj)
			bee_obj_put(obj);
	}
	return 0;
fail:
	bee_spin_unlock(lock_of(h, b));
	if (new)
		discard_elem(h, new);
	return err;
}

/* ---- delete ---- */

/* Unlink key's element; copy its value(s) out first when value is not
 * NULL (host layout). */
static int htab_remove(struct htab *h, const void *key, void *value)
{
	uint32_t hash = htab_hash(h, key);
	struct htab_bucket *b = bucket_of(h, hash);
	struct htab_elem *_Atomic *link, *e;
	bee_spin_lock(lock_of(h, b));
	e = chain_find_locked(h, b, key, hash, &link);
	if (!e) {
		bee_spin_unlock(lock_of(h, b));
		return -ENOENT;
	}
	if (value) {
		if (h->percpu) {
			for (unsigned cpu = 0; cpu < h->copies; cpu++) {
				unsigned char *dst = (unsigned char *)value + (size_t)cpu * h->value_stride;
				bee_value_copy(dst, elem_value(h, e, cpu), h->value_stride);
			}
		} else {
			bee_value_copy(value, elem_value(h, e, 0), h->value_size);
		}
	}
	chain_unlink(link, e);
	count_release(h);
	bee_spin_unlock(lock_of(h, b));
	struct bee_obj *obj = h->fd_map ? elem_obj(h, e) : NULL;
	elem_retire(e);
	if (obj)
		bee_obj_put(obj);
	return 0;
}

static long htab_delete(struct bee_map *map, const void *key)
{
	return htab_remove(htab_of(map), key, NULL);
}

static int htab_sys_lookup_and_delete(struct bee_map *map, const void *key, void *value,
				      uint64_t flags)
{
	if (flags)
		return -EINVAL; /* BPF_F_LOCK too: no value has a bpf_spin_lock */
	return htab_remove(htab_of(map), key, value);
}

/* ---- lookups (programs) ---- */

static void *htab_lookup(struct bee_map *map, const void *key)
{
	struct htab *h = htab_of(map);
	struct htab_elem *e = htab_find(h, key);
	return e ? elem_value(h, e, 0) : NULL;
}

static void *percpu_htab_lookup(struct bee_map *map, const void *key)
{
	struct htab *h = htab_of(map);
	struct htab_elem *e = htab_find(h, key);
	return e ? elem_value(h, e, this_cpu(h)) : NULL;
}

static inline void lru_mark_used(struct htab_elem *e)
{
	if (!atomic_load_explicit(&e->ref, memory_order_relaxed))
		atomic_store_explicit(&e->ref, 1, memory_order_relaxed);
}

static void *lru_htab_lookup(struct bee_map *map, const void *key)
{
	struct htab *h = htab_of(map);
	struct htab_elem *e = htab_find(h, key);
	if (!e)
		return NULL;
	lru_mark_used(e);
	return elem_value(h, e, 0);
}

static void *lru_percpu_htab_lookup(struct bee_map *map, const void *key)
{
	struct htab *h = htab_of(map);
	struct htab_elem *e = htab_find(h, key);
	if (!e)
		return NULL;
	lru_mark_used(e);
	return elem_value(h, e, this_cpu(h));
}

/* The inner map itself, as the kernel's htab_of_map_lookup_elem returns. */
static void *htab_of_maps_lookup(struct bee_map *map, const void *key)
{
	struct htab *h = htab_of(map);
	struct htab_elem *e = htab_find(h, key);
	return e ? (void *)elem_obj(h, e) : NULL;
}

static long htab_update(struct bee_map *map, const void *key, const void *value, uint64_t flags)
{
	return htab_update_elem(htab_of(map), key, value, flags, SRC_PROG);
}

/* ---- the host ---- */

static int htab_sys_lookup(struct bee_map *map, const void *key, void *value, uint64_t flags)
{
	(void)flags; /* map.c refused every flag already */
	struct htab *h = htab_of(map);
	struct htab_elem *e = htab_find(h, key); /* not a use: no LRU mark */
	if (!e)
		return -ENOENT;
	if (h->fd_map) {
		uint32_t id = elem_obj(h, e)->id; /* a handle in, an id out */
		memcpy(value, &id, sizeof(id));
	} else if (h->percpu) {
		for (unsigned cpu = 0; cpu < h->copies; cpu++) {
			unsigned char *dst = (unsigned char *)value + (size_t)cpu * h->value_stride;
			bee_value_copy(dst, elem_value(h, e, cpu), h->value_stride);
		}
	} else {
		bee_value_copy(value, elem_value(h, e, 0), h->value_size);
	}
	return 0;
}

static int htab_sys_update(struct bee_map *map, const void *key, const void *value,
			   uint64_t flags)
{
	return htab_update_elem(htab_of(map), key, value, flags, SRC_HOST);
}

static int htab_fd_update(struct bee_map *map, const void *key, struct bee_obj *obj,
			  uint64_t flags)
{
	/* On failure the caller keeps (and drops) its reference. */
	return htab_update_elem(htab_of(map), key, obj, flags, SRC_OBJ);
}

static struct bee_obj *htab_fd_lookup(struct bee_map *map, const void *key)
{
	struct htab *h = htab_of(map);
	struct htab_elem *e = htab_find(h, key);
	return e ? elem_obj(h, e) : NULL;
}

/*
 * The kernel's order: key's successor in its chain, else the first element
 * of the next non-empty bucket.  A key that is not there (never was, or was
 * deleted meanwhile) restarts from the first bucket, so a walk always makes
 * progress though it may repeat keys when elements vanish under it.
 */
static int htab_get_next_key(struct bee_map *map, const void *key, void *next_key)
{
	struct htab *h = htab_of(map);
	uint32_t start = 0;
	if (key) {
		uint32_t hash = htab_hash(h, key);
		struct htab_elem *e = chain_find(h, bucket_of(h, hash), key, hash);
		if (e) {
			struct htab_elem *n = atomic_load_explicit(&e->next, memory_order_acquire);
			if (n) {
				memcpy(next_key, n->key, h->key_size);
				return 0;
			}
			start = (hash & h->bucket_mask) + 1;
		}
	}
	for (uint64_t i = start; i <= h->bucket_mask; i++) {
		struct htab_elem *e = atomic_load_explicit(&h->buckets[i].head, memory_order_acquire);
		if (e) {
			memcpy(next_key, e->key, h->key_size);
			return 0;
		}
	}
	return -ENOENT;
}

static long htab_for_each(struct bee_map *map, bee_map_each_fn fn, void *ctx, uint64_t flags)
{
	if (flags)
		return -EINVAL;
	struct htab *h = htab_of(map);
	unsigned cpu = h->percpu ? this_cpu(h) : 0;
	long n = 0;
	for (uint64_t i = 0; i <= h->bucket_mask; i++) {
		struct htab_elem *e = atomic_load_explicit(&h->buckets[i].head, memory_order_acquire);
		for (; e; e = atomic_load_explicit(&e->next, memory_order_acquire)) {
			n++;
			if (fn(map, e->key, elem_value(h, e, cpu), ctx))
				return n;
		}
	}
	return n;
}

/* Value bytes of any slot ever handed out: live elements, and freed ones a
 * program may still hold a pointer to (their memory stays the map's). */
static bool htab_value_ok(const struct bee_map *map, uintptr_t addr, size_t size)
{
	const struct htab *h = htab_of(map);
	const struct htab_pool *p = h->pool;
	if (size == 0 || size > h->value_size)
		return false;
	unsigned n = atomic_load_explicit(&p->nchunks, memory_order_acquire);
	for (unsigned i = 0; i < n; i++) {
		uintptr_t base = (uintptr_t)p->chunks[i].base;
		if (addr < base)
			continue;
		size_t used = atomic_load_explicit(&p->chunks[i].used, memory_order_acquire);
		size_t off = addr - base;
		if (off / p->elem_size >= used)
			continue;
		size_t in_elem = off % p->elem_size;
		if (in_elem < h->value_off)
			return false;
		size_t in_copy = (in_elem - h->value_off) % h->value_stride;
		return in_copy + size <= h->value_size;
	}
	return false;
}

static bool htab_of_maps_value_ok(const struct bee_map *map, uintptr_t addr, size_t size)
{
	(void)map, (void)addr, (void)size;
	return false; /* programs get the inner map, never the slot */
}

/* ---- creation and destruction ---- */

/*
 * The kernel's htab_map_alloc_check (and fd_htab_map_alloc_check), in its
 * order, plus htab_map_alloc's size limits.  BPF_F_INNER_MAP is not among
 * the kernel's hash flags (only arrays take it), so it is -EINVAL here too.
 * key_size > MAX_BPF_STACK is fine, as in kernels since 5.11 (older ones refused it;
 * only bound key_size + value_size); bee's programs build keys on their
 * 512-byte stack, so larger keys would be unusable from programs anyway.
 * BPF_F_NO_COMMON_LRU does not round max_entries up to a multiple of the
 * CPU count (the kernel does, for its per-CPU lists; bee has one clock).
 */
static int htab_check_attr(const union bpf_attr *attr)
{
	bool percpu = attr->map_type == BPF_MAP_TYPE_PERCPU_HASH ||
		      attr->map_type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	bool lru = attr->map_type == BPF_MAP_TYPE_LRU_HASH ||
		   attr->map_type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	bool percpu_lru = attr->map_flags & BPF_F_NO_COMMON_LRU;
	bool prealloc = !(attr->map_flags & BPF_F_NO_PREALLOC);
	bool numa = attr->map_flags & BPF_F_NUMA_NODE;

	if (attr->map_type == BPF_MAP_TYPE_HASH_OF_MAPS && attr->value_size != 4)
		return -EINVAL;
	if (attr->map_flags & ~HTAB_CREATE_FLAGS)
		return -EINVAL;
	if (!lru && percpu_lru)
		return -EINVAL;
	if (lru && !prealloc)
		return -ENOTSUPP;
	if (numa && (percpu || percpu_lru))
		return -EINVAL;
	if (numa && attr->numa_node != 0)
		return -EINVAL; /* one node here: map_create's node_online() */
	if (attr->max_entries == 0 || attr->key_size == 0 || attr->value_size == 0)
		return -EINVAL;
	if ((uint64_t)attr->key_size + attr->value_size >= HTAB_KMALLOC_MAX - HTAB_KERNEL_ELEM_HDR)
		return -E2BIG;
	if (percpu && ((attr->value_size + 7ull) & ~7ull) > HTAB_PCPU_MAX_VALUE)
		return -E2BIG;
	if (attr->max_entries > (1u << 31))
		return -E2BIG;
	uint64_t nbuckets = 1;
	while (nbuckets < attr->max_entries)
		nbuckets <<= 1;
	if (nbuckets > UINT32_MAX / HTAB_KERNEL_BUCKET_SIZE)
		return -E2BIG;
	return 0;
}

static uint64_t random_seed(void)
{
	uint64_t seed;
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
		return seed;
	/* No entropy yet: anything that differs between maps and runs. */
	static _Atomic uint64_t counter;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return fmix64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
		      (atomic_fetch_add(&counter, 1) * HASH_K1) ^ (uintptr_t)&seed);
}

static struct bee_map *htab_alloc(const union bpf_attr *attr, unsigned ncpus, int *err)
{
	if ((*err = htab_check_attr(attr)) < 0)
		return NULL;
	struct htab *h = calloc(1, sizeof(*h));
	if (!h) {
		*err = -ENOMEM;
		return NULL;
	}
	enum bpf_map_type type = attr->map_type;
	h->percpu = type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	h->lru = type == BPF_MAP_TYPE_LRU_HASH || type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	h->fd_map = type == BPF_MAP_TYPE_HASH_OF_MAPS;
	h->key_size = attr->key_size;
	h->value_size = h->fd_map ? sizeof(void *) : attr->value_size;
	h->value_stride = (h->value_size + 7) & ~7u;
	h->copies = h->percpu ? (ncpus ? ncpus : 1) : 1;
	h->value_off = sizeof(struct htab_elem) + ((attr->key_size + 7) & ~7u);
	h->capacity = attr->max_entries;
	h->seed = (attr->map_flags & BPF_F_ZERO_SEED) ? 0 : random_seed();
	atomic_init(&h->count, 0);
	atomic_init(&h->clock_hand, 0);

	uint64_t nbuckets = 1;
	while (nbuckets < attr->max_entries)
		nbuckets <<= 1;
	h->bucket_mask = (uint32_t)(nbuckets - 1);
	size_t nlocks = nbuckets < HTAB_MAX_LOCKS ? nbuckets : HTAB_MAX_LOCKS;
	h->lock_mask = (uint32_t)(nlocks - 1);
	h->locks = calloc(nlocks, sizeof(*h->locks));
	h->buckets = zalloc_big(nbuckets, sizeof(*h->buckets), &h->buckets_mapped);

	/* Preallocated maps get every element now, plus slack for elements
	 * waiting out a grace period after a delete or a replacement. */
	size_t elem_size = h->value_off + (size_t)h->copies * h->value_stride;
	size_t first = 0, min_grow = HTAB_MIN_CHUNK;
	if (!(attr->map_flags & BPF_F_NO_PREALLOC))
		first = (size_t)attr->max_entries + attr->max_entries / 16 + 16;
	else if (attr->max_entries < HTAB_MIN_CHUNK)
		min_grow = (size_t)attr->max_entries + 4;
	h->pool = h->buckets && h->locks ? pool_create(elem_size, first, min_grow) : NULL;
	if (!h->pool) {
		free(h->locks);
		if (h->buckets)
			free_big(h->buckets, h->buckets_mapped);
		free(h);
		*err = -ENOMEM;
		return NULL;
	}
	return &h->map;
}

static void htab_free(struct bee_map *map)
{
	struct htab *h = htab_of(map);
	if (h->fd_map) {
		for (uint64_t i = 0; i <= h->bucket_mask; i++) {
			struct htab_elem *e =
				atomic_load_explicit(&h->buckets[i].head, memory_order_acquire);
			for (; e; e = atomic_load_explicit(&e->next, memory_order_acquire))
				bee_obj_put(elem_obj(h, e));
		}
	}
	free_big(h->buckets, h->buckets_mapped);
	free(h->locks);
	pool_put(h->pool); /* the last retired element may outlive the map */
	free(h);
}

/* ---- the ops tables ---- */

/* What the four value-carrying hash types share; they differ in how a
 * program's lookup finds its value (per-CPU copy, LRU reference bit) and
 * in the host's per-CPU buffers. */
#define HTAB_OPS(lookup_fn, sys_update_fn)                        \
	.alloc = htab_alloc, .free = htab_free, .lookup = lookup_fn, \
	.update = htab_update, .delete = htab_delete,                \
	.for_each = htab_for_each, .sys_lookup = htab_sys_lookup,    \
	.sys_update = sys_update_fn,                                 \
	.sys_lookup_and_delete = htab_sys_lookup_and_delete,         \
	.get_next_key = htab_get_next_key, .value_ok = htab_value_ok

const struct bee_map_ops bee_htab_map_ops = {HTAB_OPS(htab_lookup, NULL)};
const struct bee_map_ops bee_percpu_htab_map_ops = {HTAB_OPS(percpu_htab_lookup, htab_sys_update)};
const struct bee_map_ops bee_lru_htab_map_ops = {HTAB_OPS(lru_htab_lookup, NULL)};
const struct bee_map_ops bee_lru_percpu_htab_map_ops = {
	HTAB_OPS(lru_percpu_htab_lookup, htab_sys_update)};

/* Programs may only look up (the verifier's rule for map-in-map); the host
 * updates through fd_update, deletes and walks keys. */
const struct bee_map_ops bee_htab_of_maps_map_ops = {
	.alloc = htab_alloc,
	.free = htab_free,
	.lookup = htab_of_maps_lookup,
	.delete = htab_delete,
	.sys_lookup = htab_sys_lookup,
	.get_next_key = htab_get_next_key,
	.value_ok = htab_of_maps_value_ok,
	.fd_valued = true,
	.fd_update = htab_fd_update,
	.fd_lookup = htab_fd_lookup,
};
