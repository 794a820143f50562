/*
 * ringbuf.c - BPF_MAP_TYPE_RINGBUF: a multi-producer, single-consumer
 * ring of variable-length records from programs to the host.
 *
 * Theory of operation (the kernel's design, kernel/bpf/ringbuf.c and
 * Documentation/bpf/ringbuf.rst).  Two free-running 64-bit byte positions:
 * the producer position (where the next record goes) and the consumer
 * position (the oldest record not yet consumed); a position's offset in
 * the data area is pos & (size - 1).  A record is an 8-byte header
 * (struct bpf_ringbuf_hdr: u32 len, u32 pg_off) and len bytes of data,
 * rounded up to 8.  Bit 31 of len (BPF_RINGBUF_BUSY_BIT) says "still being
 * written", bit 30 (BPF_RINGBUF_DISCARD_BIT) "dropped by its producer".
 *
 *   reserve: under a spinlock shared by all producers, check the room
 *            (new producer position - consumer position < size), write the
 *            header with BUSY set, publish the new producer position.
 *            Records are thus ordered by reservation, not by commit.
 *   commit:  (submit or discard) lock-free: clear BUSY (and set DISCARD)
 *            in the header with one atomic exchange, then wake the
 *            consumer if it is waiting for exactly this record (its
 *            position equals the record's) or if BPF_RB_FORCE_WAKEUP says
 *            so, never with BPF_RB_NO_WAKEUP.
 *   consume: read records from the consumer position up to the producer
 *            position, stop at a BUSY one, skip discarded ones, and move
 *            the consumer position on after each record's callback.
 *
 * Wrapping.  A record may start near the end of the data area and run past
 * it.  As the kernel does, the data area is mapped twice, back to back (a
 * memfd mapped MAP_SHARED|MAP_FIXED at data and at data + size), so a
 * record is always contiguous in virtual memory: producers and the
 * consumer hand out plain pointers and nobody copies to unwrap.  The
 * alternative, padding to the end so no record is split, would waste room
 * and make reserve's room check depend on the offset; the double mapping
 * keeps the kernel's exact accounting (and positions) instead.
 *
 * Layout of one ring: [struct bee_ringbuf, page-rounded][data][data again].
 * The header's pg_off is the page offset of the header from the start of
 * that region, as in the kernel.  bee does not trust it, though: programs
 * run in checked mode may write anywhere in the data area (value_ok
 * allows all of it, headers included), so submit/discard find their ring
 * through a registry of live rings (an immutable sorted array swapped
 * under an epoch), and the consumer checks every header it reads: a length
 * past the producer position is a corrupted record, never a read past the
 * mapping (the double mapping covers any record of at most size bytes
 * that starts inside the first copy).
 *
 * Memory order: the producer position is published with release after the
 * header is written; a header's commit is a seq_cst exchange that orders
 * the record's data before it; the consumer position is stored seq_cst
 * after the callback, so a producer that reads it (acquire) may reuse the
 * room.  The wakeup (notify.h) pairs commit and wait without lost wakeups.
 */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "maps/notify.h"
#include "maps/ringbuf.h"
#include "util/spinlock.h"
#include "util/epoch.h"

#define RB_PAGE_SIZE 4096u
#define RINGBUF_MAX_RECORD_SZ (UINT32_MAX / 4)

struct rb_hdr {
	_Atomic uint32_t len; /* size | BUSY | DISCARD */
	uint32_t pg_off;
};

struct bee_ringbuf {
	struct bee_map map;
	uint64_t mask;                  /* size - 1 */
	size_t region_len;              /* the whole mapping */
	size_t meta_len;                /* this struct, page-rounded */
	unsigned char *data;            /* size bytes, then the same again */
	pthread_mutex_t consumer_lock;  /* consumers serialise */
	struct bee_notify notify;
	_Alignas(64) _Atomic int producer_lock;
	_Alignas(64) _Atomic uint64_t producer_pos;
	_Alignas(64) _Atomic uint64_t consumer_pos;
};

static struct bee_ringbuf *rb_of(struct bee_map *map)
{
	return (struct bee_ringbuf *)map;
}

/* ---- producers' spinlock (the kernel's rb->spinlock) ---- */

static void producer_lock(struct bee_ringbuf *rb)
{
	bee_spin_lock(&rb->producer_lock);
}

static void producer_unlock(struct bee_ringbuf *rb)
{
	bee_spin_unlock(&rb->producer_lock);
}

/* ---- registry of live rings: record address -> ring ---- */

struct rb_registry {
	size_t n;
	struct bee_ringbuf *rings[]; /* sorted by data address */
};

static _Atomic(struct rb_registry *) registry;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

static void registry_free(void *p)
{
	free(p);
}

/* Replace the registry by a copy with rb added (add) or removed. */
static int registry_change(struct bee_ringbuf *rb, bool add)
{
	pthread_mutex_lock(&registry_lock);
	struct rb_registry *old = atomic_load_explicit(&registry, memory_order_relaxed);
	size_t n = old ? old->n : 0, m = add ? n + 1 : n - 1;
	struct rb_registry *new = NULL;
	if (m) {
		new = malloc(sizeof(*new) + m * sizeof(new->rings[0]));
		if (!new) {
			pthread_mutex_unlock(&registry_lock);
			return -ENOMEM;
		}
		size_t j = 0;
		bool placed = !add;
		for (size_t i = 0; i < n; i++) {
			if (old->rings[i] == rb)
				continue;
			if (!placed && old->rings[i]->data > rb->data) {
				new->rings[j++] = rb;
				placed = true;
			}
			new->rings[j++] = old->rings[i];
		}
		if (!placed)
			new->rings[j++] = rb;
		new->n = j;
	}
	atomic_store_explicit(&registry, new, memory_order_release);
	pthread_mutex_unlock(&registry_lock);
	if (old)
		bee_epoch_defer(registry_free, old);
	return 0;
}

/* The ring whose first data copy holds the record header at hdr, or NULL.
 * Caller is inside an epoch section. */
static struct bee_ringbuf *registry_find(uintptr_t hdr)
{
	struct rb_registry *r = atomic_load_explicit(&registry, memory_order_acquire);
	if (!r)
		return NULL;
	size_t lo = 0, hi = r->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct bee_ringbuf *rb = r->rings[mid];
		uintptr_t start = (uintptr_t)rb->data;
		if (hdr < start)
			hi = mid;
		else if (hdr - start > rb->mask)
			lo = mid + 1;
		else
			return (hdr - start) % 8 == 0 ? rb : NULL;
	}
	return NULL;
}

/* ---- create, free ---- */

static struct bee_map *ringbuf_alloc(const union bpf_attr *attr, unsigned ncpus, int *err)
{
	uint32_t size = attr->max_entries;
	*err = -EINVAL;
	if (attr->map_flags & ~(uint32_t)BPF_F_NUMA_NODE)
		return NULL;
	if (attr->key_size || attr->value_size || size == 0 || (size & (size - 1)) ||
	    size % RB_PAGE_SIZE)
		return NULL;

	size_t meta_len = (sizeof(struct bee_ringbuf) + RB_PAGE_SIZE - 1) & ~(size_t)(RB_PAGE_SIZE - 1);
	size_t region_len = meta_len + 2 * (size_t)size;
	*err = -ENOMEM;
	int fd = memfd_create("bee-ringbuf", MFD_CLOEXEC);
	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	unsigned char *region = MAP_FAILED;
	if (ftruncate(fd, size) < 0)
		goto fail;
	/* Reserve the whole range first so the three fixed mappings cannot
	 * land on anything else. */
	region = mmap(NULL, region_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED)
		goto fail;
	if (mmap(region, meta_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		 -1, 0) == MAP_FAILED ||
	    mmap(region + meta_len, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) ==
		    MAP_FAILED ||
	    mmap(region + meta_len + size, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, 0) == MAP_FAILED)
		goto fail;
	close(fd);
	fd = -1;

	struct bee_ringbuf *rb = (struct bee_ringbuf *)region; /* zero-filled */
	rb->mask = size - 1;
	rb->region_len = region_len;
	rb->meta_len = meta_len;
	rb->data = region + meta_len;
	pthread_mutex_init(&rb->consumer_lock, NULL);
	if (registry_change(rb, true) < 0) {
		pthread_mutex_destroy(&rb->consumer_lock);
		goto fail;
	}
	*err = 0;
	return &rb->map;
fail:
	if (region != MAP_FAILED)
		munmap(region, region_len);
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void ringbuf_free(struct bee_map *map)
{
	struct bee_ringbuf *rb = rb_of(map);
	/* Removal cannot fail for want of memory forever; a ring left in the
	 * registry would point at unmapped memory, so retry. */
	while (registry_change(rb, false) < 0)
		sched_yield();
	pthread_mutex_destroy(&rb->consumer_lock);
	munmap(rb, rb->region_len);
}

/* ---- programs ---- */

void *bee_ringbuf_reserve(struct bee_map *map, uint64_t size, uint64_t flags)
{
	if (!map || map->type != BPF_MAP_TYPE_RINGBUF || flags || size > RINGBUF_MAX_RECORD_SZ)
		return NULL;
	struct bee_ringbuf *rb = rb_of(map);
	uint64_t len = (size + sizeof(struct rb_hdr) + 7) & ~7ull;
	if (len > rb->mask + 1)
		return NULL;
	uint64_t cons = atomic_load_explicit(&rb->consumer_pos, memory_order_acquire);
	producer_lock(rb);
	uint64_t prod = atomic_load_explicit(&rb->producer_pos, memory_order_relaxed);
	if (prod + len - cons > rb->mask) {
		producer_unlock(rb);
		return NULL;
	}
	struct rb_hdr *hdr = (struct rb_hdr *)(rb->data + (prod & rb->mask));
	atomic_store_explicit(&hdr->len, (uint32_t)size | BPF_RINGBUF_BUSY_BIT, memory_order_relaxed);
	hdr->pg_off = (uint32_t)(((uintptr_t)hdr - (uintptr_t)rb) / RB_PAGE_SIZE);
	atomic_store_explicit(&rb->producer_pos, prod + len, memory_order_release);
	producer_unlock(rb);
	return hdr + 1;
}

static void commit(struct bee_ringbuf *rb, struct rb_hdr *hdr, uint64_t flags, bool discard)
{
	uint32_t old = atomic_load_explicit(&hdr->len, memory_order_relaxed), new;
	do {
		if (!(old & BPF_RINGBUF_BUSY_BIT))
			return; /* committed already: a second submit is a no-op */
		new = (old & ~BPF_RINGBUF_BUSY_BIT) | (discard ? BPF_RINGBUF_DISCARD_BIT : 0);
	} while (!atomic_compare_exchange_weak(&hdr->len, &old, new));

	uint64_t rec_pos = (uintptr_t)hdr - (uintptr_t)rb->data;
	uint64_t cons_off = atomic_load(&rb->consumer_pos) & rb->mask;
	if (flags & BPF_RB_FORCE_WAKEUP)
		bee_notify_wake(&rb->notify);
	else if (cons_off == rec_pos && !(flags & BPF_RB_NO_WAKEUP))
		bee_notify_wake(&rb->notify);
}

static void commit_ptr(void *data, uint64_t flags, bool discard)
{
	if (!data)
		return;
	uintptr_t hdr = (uintptr_t)data - sizeof(struct rb_hdr);
	bee_epoch_enter();
	struct bee_ringbuf *rb = registry_find(hdr);
	if (rb)
		commit(rb, (struct rb_hdr *)hdr, flags, discard);
	bee_epoch_exit();
}

void bee_ringbuf_submit(void *data, uint64_t flags)
{
	commit_ptr(data, flags, false);
}

void bee_ringbuf_discard(void *data, uint64_t flags)
{
	commit_ptr(data, flags, true);
}

long bee_ringbuf_output(struct bee_map *map, const void *data, uint64_t size, uint64_t flags)
{
	if (flags & ~(uint64_t)(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP))
		return -EINVAL;
	void *rec = bee_ringbuf_reserve(map, size, 0);
	if (!rec)
		return -EAGAIN;
	bee_value_copy(rec, data, size);
	commit(rb_of(map), (struct rb_hdr *)rec - 1, flags, false);
	return 0;
}

uint64_t bee_ringbuf_query(struct bee_map *map, uint64_t flags)
{
	if (!map || map->type != BPF_MAP_TYPE_RINGBUF)
		return 0;
	struct bee_ringbuf *rb = rb_of(map);
	switch (flags) {
	case BPF_RB_AVAIL_DATA:
		return atomic_load_explicit(&rb->producer_pos, memory_order_acquire) -
		       atomic_load_explicit(&rb->consumer_pos, memory_order_acquire);
	case BPF_RB_RING_SIZE:
		return rb->mask + 1;
	case BPF_RB_CONS_POS:
		return atomic_load_explicit(&rb->consumer_pos, memory_order_acquire);
	case BPF_RB_PROD_POS:
		return atomic_load_explicit(&rb->producer_pos, memory_order_acquire);
	default:
		return 0;
	}
}

/* ---- the host ---- */

int bee_ringbuf_consume(struct bee_map *map, int (*cb)(void *ctx, void *data, size_t size),
			void *ctx)
{
	if (!map || map->type != BPF_MAP_TYPE_RINGBUF || !cb)
		return -EINVAL;
	struct bee_ringbuf *rb = rb_of(map);
	int count = 0, ret = 0;
	pthread_mutex_lock(&rb->consumer_lock);
	uint64_t cons = atomic_load_explicit(&rb->consumer_pos, memory_order_relaxed);
	for (;;) {
		bool progressed = false;
		uint64_t prod = atomic_load_explicit(&rb->producer_pos, memory_order_acquire);
		while (cons < prod) {
			struct rb_hdr *hdr = (struct rb_hdr *)(rb->data + (cons & rb->mask));
			uint32_t len = atomic_load(&hdr->len);
			if (len & BPF_RINGBUF_BUSY_BIT)
				goto out;
			uint32_t size = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
			uint64_t rec = ((uint64_t)size + sizeof(*hdr) + 7) & ~7ull;
			if (rec > prod - cons) {
				/* Not a header reserve wrote: a checked program
				 * scribbled on it.  Nothing up to prod can be
				 * delimited any more; drop it. */
				atomic_store(&rb->consumer_pos, prod);
				ret = -EBADMSG;
				goto out;
			}
			progressed = true;
			cons += rec;
			if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
				int err = cb(ctx, hdr + 1, size);
				if (count < INT32_MAX)
					count++;
				if (err < 0) {
					atomic_store(&rb->consumer_pos, cons);
					ret = err;
					goto out;
				}
			}
			atomic_store(&rb->consumer_pos, cons);
		}
		if (!progressed)
			break;
	}
out:
	pthread_mutex_unlock(&rb->consumer_lock);
	return ret < 0 ? ret : count;
}

/* Is the record at the consumer position committed (consumable now)? */
static bool ringbuf_ready(void *arg)
{
	struct bee_ringbuf *rb = arg;
	uint64_t cons = atomic_load(&rb->consumer_pos);
	uint64_t prod = atomic_load_explicit(&rb->producer_pos, memory_order_acquire);
	if (cons == prod)
		return false;
	struct rb_hdr *hdr = (struct rb_hdr *)(rb->data + (cons & rb->mask));
	return !(atomic_load(&hdr->len) & BPF_RINGBUF_BUSY_BIT);
}

int bee_ringbuf_wait(struct bee_map *map, int timeout_ms)
{
	if (!map || map->type != BPF_MAP_TYPE_RINGBUF)
		return -EINVAL;
	struct bee_ringbuf *rb = rb_of(map);
	return bee_notify_wait(&rb->notify, timeout_ms, ringbuf_ready, rb);
}

/* ---- checked runs ---- */

/* Any byte of either copy of the data area (see the top comment: this lets
 * a checked program write its reserved records, and also headers, which
 * the consumer and commit therefore never trust). */
static bool ringbuf_value_ok(const struct bee_map *map, uintptr_t addr, size_t size)
{
	const struct bee_ringbuf *rb = (const struct bee_ringbuf *)map;
	uintptr_t start = (uintptr_t)rb->data;
	size_t len = 2 * (size_t)(rb->mask + 1);
	return addr >= start && addr - start < len && size <= len - (addr - start);
}

const struct bee_map_ops bee_ringbuf_map_ops = {
	.alloc = ringbuf_alloc,
	.free = ringbuf_free,
	.value_ok = ringbuf_value_ok,
};
