/*
 * notify.h - a consumer waiting for producers, for the maps that carry
 * events to the host (ringbuf.c, perf_event_array.c).
 *
 * A futex on a sequence number: producers bump it and wake sleepers (a
 * syscall only when someone sleeps); a waiter sleeps on the value it saw,
 * so a bump between its check and its sleep is never lost.  Every step is
 * a seq_cst atomic: a producer that publishes data, then bumps seq, then
 * reads waiters, and a waiter that increments waiters, then reads seq, then
 * checks for data, cannot both miss each other.
 */
#ifndef BEE_MAPS_NOTIFY_H
#define BEE_MAPS_NOTIFY_H

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct bee_notify {
	_Atomic uint32_t seq;
	_Atomic uint32_t waiters;
};

static inline void bee_notify_wake(struct bee_notify *n)
{
	atomic_fetch_add(&n->seq, 1);
	if (atomic_load(&n->waiters))
		syscall(SYS_futex, (uint32_t *)&n->seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static inline int64_t bee_notify_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Wait until ready(arg), a wake, or timeout_ms (< 0: none).  1 for ready
 * or woken, 0 for timeout. */
static inline int bee_notify_wait(struct bee_notify *n, int timeout_ms, bool (*ready)(void *),
				  void *arg)
{
	int64_t deadline = timeout_ms < 0 ? 0 : bee_notify_now_ns() + (int64_t)timeout_ms * 1000000;
	int ret;
	atomic_fetch_add(&n->waiters, 1);
	uint32_t start = atomic_load(&n->seq);
	for (;;) {
		uint32_t s = atomic_load(&n->seq);
		if (s != start || ready(arg)) {
			ret = 1;
			break;
		}
		struct timespec rel, *relp = NULL;
		if (timeout_ms >= 0) {
			int64_t left = deadline - bee_notify_now_ns();
			if (left <= 0) {
				ret = 0;
				break;
			}
			rel.tv_sec = left / 1000000000;
			rel.tv_nsec = left % 1000000000;
			relp = &rel;
		}
		/* EAGAIN (seq moved), EINTR, ETIMEDOUT: all re-check above. */
		syscall(SYS_futex, (uint32_t *)&n->seq, FUTEX_WAIT_PRIVATE, s, relp, NULL, 0);
	}
	atomic_fetch_sub(&n->waiters, 1);
	return ret;
}

#endif
