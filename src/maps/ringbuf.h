/*
 * ringbuf.h - BPF_MAP_TYPE_RINGBUF: the program side (the helpers
 * bpf_ringbuf_reserve/submit/discard/output/query) and the host side
 * (consume records, wait for them).  See ringbuf.c for how it works.
 */
#ifndef BEE_MAPS_RINGBUF_H
#define BEE_MAPS_RINGBUF_H

#include <stddef.h>
#include <stdint.h>

#include "maps/map.h"

/* ---- programs (the helpers' semantics, kernel/bpf/ringbuf.c) ---- */

/* Reserve size bytes of record data.  NULL when flags is not 0, the
 * record can never fit, or the ring has no room now. */
void *bee_ringbuf_reserve(struct bee_map *map, uint64_t size, uint64_t flags);
/* Commit (submit) or drop (discard) a reserved record.  flags:
 * BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP or 0 (wake a waiting consumer if
 * it waits for this very record).  A pointer that is not a reserved
 * record of a live ring buffer is ignored. */
void bee_ringbuf_submit(void *data, uint64_t flags);
void bee_ringbuf_discard(void *data, uint64_t flags);
/* Reserve, copy and submit: 0, -EINVAL (bad flags) or -EAGAIN (no room). */
long bee_ringbuf_output(struct bee_map *map, const void *data, uint64_t size, uint64_t flags);
/* BPF_RB_AVAIL_DATA, BPF_RB_RING_SIZE, BPF_RB_CONS_POS, BPF_RB_PROD_POS;
 * 0 for anything else. */
uint64_t bee_ringbuf_query(struct bee_map *map, uint64_t flags);

/* ---- the host ---- */

/*
 * Hand every committed record to cb in order, skipping discarded ones and
 * stopping at the first record still being written.  The data pointer is
 * valid only during the call.  Returns how many records cb saw, cb's
 * value if it returned a negative one (the record counts as consumed),
 * -EBADMSG if a record header was overwritten with nonsense (what lay
 * before the producer position is then dropped), -EINVAL if map is not a
 * ring buffer.  Safe to call from several threads (they serialise).
 */
int bee_ringbuf_consume(struct bee_map *map, int (*cb)(void *ctx, void *data, size_t size),
			void *ctx);

/*
 * Block until a committed record is ready for consume, or until a
 * producer's wakeup (which may come with nothing consumable yet: the
 * record at the consumer position still being written), or timeout_ms
 * (negative: no timeout).  Returns 1 when woken or data is ready, 0 on
 * timeout, -EINVAL if map is not a ring buffer.  Records submitted with
 * BPF_RB_NO_WAKEUP wake nobody, as in the kernel.
 */
int bee_ringbuf_wait(struct bee_map *map, int timeout_ms);

#endif
