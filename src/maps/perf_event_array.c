/*
 * perf_event_array.c - BPF_MAP_TYPE_PERF_EVENT_ARRAY.
 *
 * Theory of operation.  In the kernel each slot of this array holds a perf
 * event (a BPF_OUTPUT software event opened per CPU by the tool) and
 * bpf_perf_event_output appends a PERF_RECORD_SAMPLE to that event's
 * mmap'ed ring; when the ring is full the sample is dropped and counted,
 * and the next record that fits is preceded by a PERF_RECORD_LOST with the
 * count.  bee has no perf events, so each slot owns its output channel:
 * a bounded byte ring of BEE_PERF_CHANNEL_BYTES holding the same two kinds
 * of record (sample, lost) with an 8-byte header each.
 *
 * Slots start closed, as an array of perf events starts empty.  The host
 * opens one by updating it (any 4-byte value, flags BPF_ANY: the value is
 * kept as the slot's cookie, where the kernel would take a perf event fd)
 * and closes it by deleting it; output to a closed slot answers -ENOENT
 * like output to an empty slot does.  Records already in a closed
 * channel stay readable.  Host lookup is -ENOTSUPP (524), as the kernel
 * says for perf event arrays; get_next_key walks indexes like an array.
 * BPF_F_PRESERVE_ELEMS is accepted; slots are never cleared behind the
 * user's back (bee has no file descriptor lifetime to tie them to).
 *
 * Concurrency.  Producers on one channel serialise on a small spinlock
 * (in the kernel only the channel's own CPU may write it; bee lets any
 * index be written from anywhere, so it needs the lock).  The reader does
 * not take it: positions are free-running byte counts, the producer
 * publishes `head` with release after writing a record, the reader
 * publishes `tail` with release after copying one out, and each reads the
 * other's with acquire.  Readers serialise on a mutex per map.  A record
 * may wrap the end of the channel; both sides copy in two pieces, and the
 * reader hands the callback a private, contiguous copy.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "maps/array.h"
#include "maps/notify.h"
#include "maps/perf_event_array.h"
#include "util/spinlock.h"

#define PERF_REC_SAMPLE 1u
#define PERF_REC_LOST 2u
#define PERF_CHANNEL_MASK (BEE_PERF_CHANNEL_BYTES - 1)

_Static_assert((BEE_PERF_CHANNEL_BYTES & PERF_CHANNEL_MASK) == 0, "channel size: a power of 2");

struct perf_rec_hdr {
	uint32_t type;
	uint32_t size; /* payload bytes (the record is 8 + size, rounded up to 8) */
};

struct perf_channel {
	_Atomic int lock;             /* producers */
	_Atomic uint32_t opened;
	uint32_t cookie;              /* the value the host stored */
	uint64_t lost_pending;        /* lost, not yet reported in the ring (under lock) */
	_Atomic uint64_t lost_total;
	_Atomic uint64_t head;        /* producer position */
	_Atomic uint64_t tail;        /* consumer position */
	unsigned char *_Atomic buf;   /* allocated on first open */
};

struct bee_perf_array {
	struct bee_map map;
	pthread_mutex_t open_lock;    /* host updates/deletes */
	pthread_mutex_t read_lock;    /* readers */
	struct bee_notify notify;
	unsigned char *scratch;       /* one record's payload, for the reader */
	struct perf_channel *channels;
};

static struct bee_perf_array *pa_of(struct bee_map *map)
{
	return (struct bee_perf_array *)map;
}

static inline uint64_t rec_len(uint64_t size)
{
	return (sizeof(struct perf_rec_hdr) + size + 7) & ~7ull;
}

static struct bee_map *perf_array_alloc(const union bpf_attr *attr, unsigned ncpus, int *err)
{
	/* The kernel's fd_array_map_alloc_check: an array's checks, values
	 * are 4 bytes (an fd), programs neither read nor write slots. */
	if ((*err = bee_array_check_attr(attr)) < 0)
		return NULL;
	*err = -EINVAL;
	if (attr->value_size != 4 ||
	    (attr->map_flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG | BPF_F_MMAPABLE)))
		return NULL;
	*err = -ENOMEM;
	struct bee_perf_array *pa = calloc(1, sizeof(*pa));
	if (!pa)
		return NULL;
	pa->channels = calloc(attr->max_entries, sizeof(pa->channels[0]));
	pa->scratch = malloc(BEE_PERF_CHANNEL_BYTES);
	if (!pa->channels || !pa->scratch) {
		free(pa->channels);
		free(pa->scratch);
		free(pa);
		return NULL;
	}
	pthread_mutex_init(&pa->open_lock, NULL);
	pthread_mutex_init(&pa->read_lock, NULL);
	*err = 0;
	return &pa->map;
}

static void perf_array_free(struct bee_map *map)
{
	struct bee_perf_array *pa = pa_of(map);
	for (uint32_t i = 0; i < map->max_entries; i++)
		free(atomic_load_explicit(&pa->channels[i].buf, memory_order_relaxed));
	pthread_mutex_destroy(&pa->open_lock);
	pthread_mutex_destroy(&pa->read_lock);
	free(pa->channels);
	free(pa->scratch);
	free(pa);
}

/* ---- host slot operations ---- */

static int perf_array_sys_update(struct bee_map *map, const void *key, const void *value,
				 uint64_t flags)
{
	struct bee_perf_array *pa = pa_of(map);
	uint32_t index;
	memcpy(&index, key, sizeof(index));
	if (flags != BPF_ANY)
		return -EINVAL;
	if (index >= map->max_entries)
		return -E2BIG;
	struct perf_channel *ch = &pa->channels[index];
	pthread_mutex_lock(&pa->open_lock);
	if (!atomic_load_explicit(&ch->buf, memory_order_relaxed)) {
		unsigned char *buf = malloc(BEE_PERF_CHANNEL_BYTES);
		if (!buf) {
			pthread_mutex_unlock(&pa->open_lock);
			return -ENOMEM;
		}
		atomic_store_explicit(&ch->buf, buf, memory_order_release);
	}
	memcpy(&ch->cookie, value, sizeof(ch->cookie));
	atomic_store_explicit(&ch->opened, 1, memory_order_release);
	pthread_mutex_unlock(&pa->open_lock);
	return 0;
}

static long perf_array_delete(struct bee_map *map, const void *key)
{
	struct bee_perf_array *pa = pa_of(map);
	uint32_t index;
	memcpy(&index, key, sizeof(index));
	if (index >= map->max_entries)
		return -E2BIG;
	pthread_mutex_lock(&pa->open_lock);
	uint32_t was = atomic_exchange(&pa->channels[index].opened, 0);
	pthread_mutex_unlock(&pa->open_lock);
	return was ? 0 : -ENOENT;
}

static bool perf_array_value_ok(const struct bee_map *map, uintptr_t addr, size_t size)
{
	return false; /* programs never hold pointers into channels */
}

/* ---- programs ---- */

static void channel_lock(struct perf_channel *ch)
{
	bee_spin_lock(&ch->lock);
}

static void channel_unlock(struct perf_channel *ch)
{
	bee_spin_unlock(&ch->lock);
}

/* Copy n bytes into the channel at position pos, wrapping at the end.
 * src may be program memory another thread writes: bee_value_copy. */
static void channel_write(unsigned char *buf, uint64_t pos, const void *src, size_t n)
{
	size_t off = pos & PERF_CHANNEL_MASK, first = BEE_PERF_CHANNEL_BYTES - off;
	if (first > n)
		first = n;
	bee_value_copy(buf + off, src, first);
	bee_value_copy(buf, (const unsigned char *)src + first, n - first);
}

static void channel_read(const unsigned char *buf, uint64_t pos, void *dst, size_t n)
{
	size_t off = pos & PERF_CHANNEL_MASK, first = BEE_PERF_CHANNEL_BYTES - off;
	if (first > n)
		first = n;
	memcpy(dst, buf + off, first);
	memcpy((unsigned char *)dst + first, buf, n - first);
}

long bee_perf_event_output(struct bee_map *map, uint64_t flags, const void *data, uint64_t size)
{
	if (!map || map->type != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		return -EINVAL;
	/* BPF_F_CTXLEN_MASK is only meaningful for skb/xdp contexts, which
	 * bee's generic helper does not append: refuse it like the tracing
	 * variant of the helper does. */
	if (flags & ~(uint64_t)BPF_F_INDEX_MASK)
		return -EINVAL;
	uint64_t index = flags & BPF_F_INDEX_MASK;
	if (index == BPF_F_CURRENT_CPU)
		index = bee_cpu_current();
	if (index >= map->max_entries)
		return -E2BIG;
	struct bee_perf_array *pa = pa_of(map);
	struct perf_channel *ch = &pa->channels[index];
	if (!atomic_load_explicit(&ch->opened, memory_order_acquire))
		return -ENOENT;
	unsigned char *buf = atomic_load_explicit(&ch->buf, memory_order_acquire);
	uint64_t len = rec_len(size);

	channel_lock(ch);
	uint64_t head = atomic_load_explicit(&ch->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&ch->tail, memory_order_acquire);
	uint64_t room = BEE_PERF_CHANNEL_BYTES - (head - tail);
	uint64_t lost_len = ch->lost_pending ? rec_len(sizeof(uint64_t)) : 0;
	if (size > BEE_PERF_CHANNEL_BYTES || len + lost_len > room) {
		ch->lost_pending++;
		atomic_fetch_add_explicit(&ch->lost_total, 1, memory_order_relaxed);
		channel_unlock(ch);
		return -ENOSPC; /* perf_output_begin's answer when it drops */
	}
	if (lost_len) {
		struct perf_rec_hdr lh = {PERF_REC_LOST, sizeof(uint64_t)};
		channel_write(buf, head, &lh, sizeof(lh));
		channel_write(buf, head + sizeof(lh), &ch->lost_pending, sizeof(uint64_t));
		head += lost_len;
		ch->lost_pending = 0;
	}
	struct perf_rec_hdr h = {PERF_REC_SAMPLE, (uint32_t)size};
	channel_write(buf, head, &h, sizeof(h));
	channel_write(buf, head + sizeof(h), data, size);
	atomic_store_explicit(&ch->head, head + len, memory_order_release);
	channel_unlock(ch);
	/* libbpf opens its events with wakeup_events = 1: every sample wakes. */
	bee_notify_wake(&pa->notify);
	return 0;
}

/* ---- the host ---- */

int bee_perf_event_read_ex(struct bee_map *map,
			   int (*sample_cb)(void *ctx, int cpu, void *data, size_t size),
			   int (*lost_cb)(void *ctx, int cpu, uint64_t lost), void *ctx)
{
	if (!map || map->type != BPF_MAP_TYPE_PERF_EVENT_ARRAY || !sample_cb)
		return -EINVAL;
	struct bee_perf_array *pa = pa_of(map);
	int count = 0, ret = 0;
	pthread_mutex_lock(&pa->read_lock);
	for (uint32_t i = 0; i < map->max_entries && ret == 0; i++) {
		struct perf_channel *ch = &pa->channels[i];
		const unsigned char *buf = atomic_load_explicit(&ch->buf, memory_order_acquire);
		if (!buf)
			continue;
		uint64_t tail = atomic_load_explicit(&ch->tail, memory_order_relaxed);
		uint64_t head = atomic_load_explicit(&ch->head, memory_order_acquire);
		while (tail < head) {
			struct perf_rec_hdr h;
			channel_read(buf, tail, &h, sizeof(h));
			uint64_t len = rec_len(h.size);
			if (len > head - tail) { /* cannot happen: only output writes */
				tail = head;
				break;
			}
			int err = 0;
			if (h.type == PERF_REC_SAMPLE) {
				channel_read(buf, tail + sizeof(h), pa->scratch, h.size);
				err = sample_cb(ctx, (int)i, pa->scratch, h.size);
				if (count < INT32_MAX)
					count++;
			} else if (h.type == PERF_REC_LOST && lost_cb) {
				uint64_t lost;
				channel_read(buf, tail + sizeof(h), &lost, sizeof(lost));
				err = lost_cb(ctx, (int)i, lost);
			}
			tail += len;
			if (err < 0) {
				ret = err;
				break;
			}
		}
		atomic_store_explicit(&ch->tail, tail, memory_order_release);
	}
	pthread_mutex_unlock(&pa->read_lock);
	return ret < 0 ? ret : count;
}

int bee_perf_event_read(struct bee_map *map,
			int (*cb)(void *ctx, int cpu, void *data, size_t size), void *ctx)
{
	return bee_perf_event_read_ex(map, cb, NULL, ctx);
}

uint64_t bee_perf_event_lost(struct bee_map *map, uint32_t index)
{
	if (!map || map->type != BPF_MAP_TYPE_PERF_EVENT_ARRAY || index >= map->max_entries)
		return 0;
	return atomic_load_explicit(&pa_of(map)->channels[index].lost_total, memory_order_relaxed);
}

static bool perf_array_ready(void *arg)
{
	struct bee_perf_array *pa = arg;
	for (uint32_t i = 0; i < pa->map.max_entries; i++) {
		struct perf_channel *ch = &pa->channels[i];
		if (atomic_load(&ch->head) != atomic_load(&ch->tail))
			return true;
	}
	return false;
}

int bee_perf_event_wait(struct bee_map *map, int timeout_ms)
{
	if (!map || map->type != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		return -EINVAL;
	return bee_notify_wait(&pa_of(map)->notify, timeout_ms, perf_array_ready, pa_of(map));
}

const struct bee_map_ops bee_perf_event_array_map_ops = {
	.alloc = perf_array_alloc,
	.free = perf_array_free,
	.delete = perf_array_delete,
	.sys_update = perf_array_sys_update,
	.get_next_key = bee_array_get_next_key,
	.value_ok = perf_array_value_ok,
};
