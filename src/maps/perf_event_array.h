/*
 * perf_event_array.h - BPF_MAP_TYPE_PERF_EVENT_ARRAY: the program side
 * (bpf_perf_event_output) and the host side (read the channels, wait).
 * See perf_event_array.c for how bee replaces perf events.
 */
#ifndef BEE_MAPS_PERF_EVENT_ARRAY_H
#define BEE_MAPS_PERF_EVENT_ARRAY_H

#include <stddef.h>
#include <stdint.h>

#include "maps/map.h"

/* Bytes of one channel's buffer (record headers included). */
#define BEE_PERF_CHANNEL_BYTES (64u * 1024)

/*
 * bpf_perf_event_output: append a sample of size bytes to channel
 * flags & BPF_F_INDEX_MASK (BPF_F_CURRENT_CPU: bee_cpu_current()).
 * 0, -EINVAL (other flag bits), -E2BIG (index >= max_entries), -ENOENT
 * (channel not opened), -ENOSPC (no room: the sample is counted lost).
 */
long bee_perf_event_output(struct bee_map *map, uint64_t flags, const void *data, uint64_t size);

/*
 * Drain every channel, in index order, each in the order of its records:
 * sample_cb gets (ctx, channel index, data, size) with data valid during
 * the call; lost_cb (may be NULL) gets the number of samples lost at that
 * point of the stream.  Returns the number of samples delivered, or the
 * first negative value a callback returned (that record counts as read),
 * or -EINVAL if map is not a perf event array.
 */
int bee_perf_event_read_ex(struct bee_map *map,
			   int (*sample_cb)(void *ctx, int cpu, void *data, size_t size),
			   int (*lost_cb)(void *ctx, int cpu, uint64_t lost), void *ctx);
int bee_perf_event_read(struct bee_map *map,
			int (*cb)(void *ctx, int cpu, void *data, size_t size), void *ctx);

/* Samples lost on channel index since the map was created. */
uint64_t bee_perf_event_lost(struct bee_map *map, uint32_t index);

/* Block until some channel holds a record or timeout_ms passes (< 0: no
 * timeout).  1: data (or a wakeup), 0: timeout, -EINVAL: not this map type. */
int bee_perf_event_wait(struct bee_map *map, int timeout_ms);

#endif
