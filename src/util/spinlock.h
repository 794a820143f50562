/*
 * spinlock.h - a small test-and-test-and-set spinlock for short critical
 * sections on shared-memory paths (hash buckets, ring buffer producers,
 * perf channels), as the kernel uses raw spinlocks there.
 *
 * User space has no preemption control: a holder may be descheduled (more
 * runnable threads than cores), so after a short spin with pause the waiter
 * yields its CPU rather than burning the holder's time slice.
 */
#ifndef BEE_UTIL_SPINLOCK_H
#define BEE_UTIL_SPINLOCK_H

#include <sched.h>
#include <stdatomic.h>

static inline void bee_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static inline void bee_spin_lock(_Atomic int *lock)
{
	unsigned spins = 0;
	while (atomic_exchange_explicit(lock, 1, memory_order_acquire)) {
		while (atomic_load_explicit(lock, memory_order_relaxed)) {
			if (++spins > 64)
				sched_yield();
			else
				bee_cpu_relax();
		}
	}
}

static inline void bee_spin_unlock(_Atomic int *lock)
{
	atomic_store_explicit(lock, 0, memory_order_release);
}

#endif
