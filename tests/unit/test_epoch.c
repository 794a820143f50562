/*
 * test_epoch.c - epoch-based reclamation (src/util/epoch.c).
 *
 * What must hold:
 *  - grace periods: an object retired while a reader is inside its section
 *    is not freed until that reader leaves, however many other objects are
 *    retired meanwhile (they fill and seal batches and move the epoch);
 *    bee_epoch_barrier, on another thread, waits for the reader too; after
 *    the exit everything is freed;
 *  - bee_epoch_barrier frees what other threads deferred and still hold in
 *    their unsealed batches, and what threads deferred before they exited;
 *    an exited thread's entries reach the global list (later defers by
 *    others free them, no barrier needed); callbacks that defer again are
 *    followed by the same barrier;
 *  - a stress run: threads swap objects in and out of shared slots and
 *    retire the old ones while others read them; a reader must never see
 *    an object its callback has poisoned (and ASan/TSan would see the free
 *    racing with the read).  Bounded to a fraction of a second.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "util/epoch.h"
#include "unit.h"


#define MAGIC_LIVE 0x1f0b1ec7ull
#define MAGIC_DEAD 0xdeadull

/* ---- a tracked object: a flag its callback sets ---- */

struct tracked {
	_Atomic int freed;
};

static void mark_freed(void *arg)
{
	struct tracked *t = arg;
	atomic_store(&t->freed, 1);
}

static _Atomic long dummies_freed;

static void count_free(void *arg)
{
	free(arg);
	atomic_fetch_add(&dummies_freed, 1);
}

/* Retire n heap objects: enough of them fill and seal batches (which
 * tries to move the epoch and frees what is safe). */
static void retire_dummies(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = malloc(16);
		if (!p)
			abort();
		bee_epoch_defer(count_free, p);
	}
}

static int count_freed(struct tracked *t, int n)
{
	int k = 0;
	for (int i = 0; i < n; i++)
		k += atomic_load(&t[i].freed);
	return k;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* ---- a reader holding its section until told ---- */

struct holder {
	_Atomic int inside, leave, left;
};

static void *hold_section(void *arg)
{
	struct holder *h = arg;
	bee_epoch_enter();
	atomic_store(&h->inside, 1);
	while (!atomic_load(&h->leave))
		sched_yield();
	bee_epoch_exit();
	atomic_store(&h->left, 1);
	return NULL;
}

static void *run_barrier(void *arg)
{
	_Atomic int *done = arg;
	bee_epoch_barrier();
	atomic_store(done, 1);
	return NULL;
}

static void test_reader_blocks_free(void)
{
	struct tracked before = {0}, after = {0};

	/* Retired with no reader inside: a barrier frees it. */
	bee_epoch_defer(mark_freed, &before);
	bee_epoch_barrier();
	CHECK(atomic_load(&before.freed), "retired with no reader: freed by the barrier");

	/* This thread gets a batch now (the barrier took its last one), so
	 * that the retiring below only stamps, seals and moves the epoch
	 * after `after` is in: the stamp can then equal the reader's epoch,
	 * the case that needs the full two moves. */
	retire_dummies(1);

	struct holder h = {0};
	pthread_t reader, barrier;
	pthread_create(&reader, NULL, hold_section, &h);
	while (!atomic_load(&h.inside))
		sched_yield();

	/* Retired after the reader entered: no amount of other retiring may
	 * free it (nor the dummies retired after it) while the reader stays. */
	bee_epoch_defer(mark_freed, &after);
	long freed0 = atomic_load(&dummies_freed); /* the one before may go, or not */
	retire_dummies(1000);
	CHECK(!atomic_load(&after.freed), "freed while a reader that may see it is inside");
	CHECK(atomic_load(&dummies_freed) - freed0 <= 1,
	      "%ld objects retired after the reader entered were freed while it was inside",
	      atomic_load(&dummies_freed) - freed0 - 1);

	/* A barrier on another thread waits for the reader. */
	_Atomic int barrier_done = 0;
	pthread_create(&barrier, NULL, run_barrier, &barrier_done);
	sleep_ms(30);
	CHECK(!atomic_load(&barrier_done), "barrier returned while a reader was inside");
	CHECK(!atomic_load(&after.freed), "freed (by the barrier) while the reader is inside");

	atomic_store(&h.leave, 1);
	pthread_join(reader, NULL);
	pthread_join(barrier, NULL);
	CHECK(atomic_load(&barrier_done), "barrier finished after the reader left");
	CHECK(atomic_load(&after.freed), "not freed after the reader left and a barrier");
	CHECK(atomic_load(&dummies_freed) == freed0 + 1000 ||
		      atomic_load(&dummies_freed) == freed0 + 1001,
	      "dummies freed: %ld of 1000", atomic_load(&dummies_freed) - freed0);

	/* Nested sections: the outer one still protects. */
	struct tracked nested = {0};
	bee_epoch_enter();
	bee_epoch_enter();
	bee_epoch_exit();
	bee_epoch_defer(mark_freed, &nested);
	retire_dummies(500);
	CHECK(!atomic_load(&nested.freed), "freed inside this thread's own outer section");
	bee_epoch_exit();
	bee_epoch_barrier();
	CHECK(atomic_load(&nested.freed), "not freed after the outer section ended");
}

/* ---- other threads' batches ---- */

#define FEW 10 /* fewer than a batch: they stay in the thread's own batch */

struct deferrer {
	struct tracked objs[FEW];
	_Atomic int deferred, release;
};

static void *defer_and_wait(void *arg)
{
	struct deferrer *d = arg;
	for (int i = 0; i < FEW; i++)
		bee_epoch_defer(mark_freed, &d->objs[i]);
	atomic_store(&d->deferred, 1);
	while (!atomic_load(&d->release))
		sched_yield();
	return NULL;
}

static void *defer_and_exit(void *arg)
{
	struct deferrer *d = arg;
	for (int i = 0; i < FEW; i++)
		bee_epoch_defer(mark_freed, &d->objs[i]);
	return NULL;
}

struct chain {
	struct tracked first, second;
};

static void defer_second(void *arg)
{
	struct chain *c = arg;
	atomic_store(&c->first.freed, 1);
	bee_epoch_defer(mark_freed, &c->second);
}

static void test_barrier_other_threads(void)
{
	/* A live thread's unsealed batch. */
	struct deferrer live = {0};
	pthread_t t;
	pthread_create(&t, NULL, defer_and_wait, &live);
	while (!atomic_load(&live.deferred))
		sched_yield();
	bee_epoch_barrier();
	CHECK(count_freed(live.objs, FEW) == FEW,
	      "barrier freed %d of %d objects in a live thread's batch", count_freed(live.objs, FEW),
	      FEW);
	atomic_store(&live.release, 1);
	pthread_join(t, NULL);

	/* An exited thread's entries: handed to the global list at exit, so
	 * this thread's own retiring frees them, without a barrier. */
	struct deferrer gone = {0};
	pthread_create(&t, NULL, defer_and_exit, &gone);
	pthread_join(t, NULL);
	retire_dummies(1000);
	CHECK(count_freed(gone.objs, FEW) == FEW,
	      "%d of %d objects of an exited thread freed by later defers",
	      count_freed(gone.objs, FEW), FEW);

	/* And by a barrier. */
	struct deferrer gone2 = {0};
	pthread_create(&t, NULL, defer_and_exit, &gone2);
	pthread_join(t, NULL);
	bee_epoch_barrier();
	CHECK(count_freed(gone2.objs, FEW) == FEW,
	      "barrier freed %d of %d objects of an exited thread", count_freed(gone2.objs, FEW),
	      FEW);

	/* A callback that defers again: the same barrier runs both. */
	struct chain c = {0};
	bee_epoch_defer(defer_second, &c);
	bee_epoch_barrier();
	CHECK(atomic_load(&c.first.freed) && atomic_load(&c.second.freed),
	      "barrier left what a callback deferred: first %d second %d",
	      atomic_load(&c.first.freed), atomic_load(&c.second.freed));
	bee_epoch_barrier(); /* nothing left: returns at once */
}

/* ---- stress ---- */

#define SLOTS 16
#define STRESS_THREADS 4

struct obj {
	_Atomic uint64_t magic;
	uint64_t payload;
};

static struct obj *_Atomic slots[SLOTS];
static _Atomic long objs_retired, objs_freed, bad_reads;
static _Atomic int stop;

static void obj_free(void *arg)
{
	struct obj *o = arg;
	atomic_store_explicit(&o->magic, MAGIC_DEAD, memory_order_relaxed);
	free(o);
	atomic_fetch_add(&objs_freed, 1);
}

static struct obj *obj_new(uint64_t payload)
{
	struct obj *o = malloc(sizeof(*o));
	if (!o)
		abort();
	o->payload = payload;
	atomic_init(&o->magic, MAGIC_LIVE);
	return o;
}

static void *stress_thread(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u + 1;
	for (long i = 0; !atomic_load_explicit(&stop, memory_order_relaxed); i++) {
		seed = seed * 1103515245u + 12345u;
		unsigned slot = (seed >> 16) % SLOTS;
		bee_epoch_enter();
		if ((seed >> 8) % 4 == 0) {
			/* Writer: swap a new object in, retire the old one. */
			struct obj *old = atomic_exchange_explicit(&slots[slot], obj_new((uint64_t)i),
								   memory_order_acq_rel);
			bee_epoch_defer(obj_free, old);
			atomic_fetch_add(&objs_retired, 1);
		} else {
			/* Reader: whatever it finds must stay valid until exit. */
			struct obj *o = atomic_load_explicit(&slots[slot], memory_order_acquire);
			for (int k = 0; k < 4; k++)
				if (atomic_load_explicit(&o->magic, memory_order_relaxed) != MAGIC_LIVE)
					atomic_fetch_add(&bad_reads, 1);
		}
		bee_epoch_exit();
		if (i % 64 == 0)
			sched_yield(); /* let sections interleave on few CPUs */
	}
	return NULL;
}

static void test_stress(void)
{
	for (int i = 0; i < SLOTS; i++)
		atomic_store(&slots[i], obj_new(0));
	pthread_t t[STRESS_THREADS];
	for (int i = 0; i < STRESS_THREADS; i++)
		pthread_create(&t[i], NULL, stress_thread, (void *)(uintptr_t)(i + 1));
	sleep_ms(SANITIZED ? 300 : 200);
	atomic_store(&stop, 1);
	for (int i = 0; i < STRESS_THREADS; i++)
		pthread_join(t[i], NULL);
	bee_epoch_barrier();
	CHECK(atomic_load(&bad_reads) == 0, "%ld reads of a freed object",
	      atomic_load(&bad_reads));
	CHECK(atomic_load(&objs_retired) > 0, "no object was retired");
	CHECK(atomic_load(&objs_freed) == atomic_load(&objs_retired),
	      "after the barrier: %ld retired, %ld freed", atomic_load(&objs_retired),
	      atomic_load(&objs_freed));
	for (int i = 0; i < SLOTS; i++)
		free(atomic_load(&slots[i]));
}

int main(void)
{
	test_reader_blocks_free();
	test_barrier_other_threads();
	test_stress();
	printf("test_epoch: %d checks, %d failures (%ld objects retired under stress)\n", checks,
	       failures, atomic_load(&objs_retired));
	return failures != 0;
}
