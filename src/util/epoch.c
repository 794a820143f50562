/*
 * epoch.c - epoch-based reclamation (see epoch.h).
 *
 * Theory: a global epoch G only moves from e to e+1 when every reader
 * inside a section entered at e.  An object unlinked while G == r can only
 * be seen by readers that entered at an epoch <= r; once G reaches r + 2
 * all of them have left (the move to r+1 waited for those at < r+1... and
 * the move to r+2 for those at r+1), so it can be freed.  A reader that
 * stored a stale epoch (G moved between its read and its store) only
 * blocks G from moving further, which is safe.
 *
 * Readers: one seq_cst store on entry, one release store on exit.
 * Writers: a mutex around the list of deferred objects; each defer tries
 * to move the epoch and frees what has become safe.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/epoch.h"

struct epoch_rec {
	_Atomic uint64_t local; /* epoch this thread's section entered at; 0 outside */
	_Atomic bool in_use;    /* owned by a live thread */
	unsigned nest;          /* section depth (owner thread only) */
	struct epoch_rec *next; /* never unlinked */
};

struct deferred {
	void (*fn)(void *);
	void *arg;
	uint64_t epoch;
	struct deferred *next;
};

static _Atomic uint64_t global_epoch = 1;
static struct epoch_rec *_Atomic records;
static pthread_mutex_t defer_lock = PTHREAD_MUTEX_INITIALIZER;
static struct deferred *deferred_head, **deferred_tail = &deferred_head;
static pthread_key_t rec_key;
static pthread_once_t rec_key_once = PTHREAD_ONCE_INIT;
static __thread struct epoch_rec *my_rec;

static void rec_release(void *p)
{
	struct epoch_rec *r = p;
	atomic_store_explicit(&r->local, 0, memory_order_release);
	r->nest = 0;
	atomic_store_explicit(&r->in_use, false, memory_order_release);
}

static void rec_key_init(void)
{
	pthread_key_create(&rec_key, rec_release);
}

static struct epoch_rec *rec_get(void)
{
	if (my_rec)
		return my_rec;
	pthread_once(&rec_key_once, rec_key_init);
	struct epoch_rec *r;
	for (r = atomic_load(&records); r; r = r->next) {
		bool expected = false;
		if (!atomic_load_explicit(&r->in_use, memory_order_relaxed) &&
		    atomic_compare_exchange_strong(&r->in_use, &expected, true))
			break;
	}
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			abort(); /* a few bytes once per thread; nothing sane to do */
		atomic_store(&r->in_use, true);
		struct epoch_rec *head = atomic_load(&records);
		do
			r->next = head;
		while (!atomic_compare_exchange_weak(&records, &head, r));
	}
	pthread_setspecific(rec_key, r);
	my_rec = r;
	return r;
}

void bee_epoch_enter(void)
{
	struct epoch_rec *r = rec_get();
	if (r->nest++ == 0)
		atomic_store(&r->local, atomic_load(&global_epoch)); /* seq_cst */
}

void bee_epoch_exit(void)
{
	struct epoch_rec *r = my_rec;
	if (--r->nest == 0)
		atomic_store_explicit(&r->local, 0, memory_order_release);
}

/* Move the epoch on if every reader inside entered at the current one. */
static uint64_t try_advance(void)
{
	uint64_t g = atomic_load(&global_epoch);
	for (struct epoch_rec *r = atomic_load(&records); r; r = r->next) {
		uint64_t l = atomic_load(&r->local);
		if (l != 0 && l != g)
			return g;
	}
	uint64_t expected = g;
	atomic_compare_exchange_strong(&global_epoch, &expected, g + 1);
	return atomic_load(&global_epoch);
}

/* Unlink the deferred objects that are safe to free now.  Caller holds
 * defer_lock; the returned list is freed outside it. */
static struct deferred *collect_locked(void)
{
	uint64_t g = try_advance();
	struct deferred *ready = NULL, **ready_tail = &ready;
	struct deferred **pp = &deferred_head;
	/* The list is in epoch order: stop at the first one too young. */
	while (*pp && (*pp)->epoch + 2 <= g) {
		struct deferred *d = *pp;
		*pp = d->next;
		d->next = NULL;
		*ready_tail = d;
		ready_tail = &d->next;
	}
	if (!deferred_head)
		deferred_tail = &deferred_head;
	return ready;
}

static void run_ready(struct deferred *d)
{
	while (d) {
		struct deferred *next = d->next;
		d->fn(d->arg);
		free(d);
		d = next;
	}
}

void bee_epoch_defer(void (*fn)(void *arg), void *arg)
{
	struct deferred *d = malloc(sizeof(*d));
	if (!d) {
		/* Out of memory: wait for the readers instead of queueing. */
		bee_epoch_barrier();
		uint64_t target = atomic_load(&global_epoch) + 2;
		while (atomic_load(&global_epoch) < target) {
			pthread_mutex_lock(&defer_lock);
			try_advance();
			pthread_mutex_unlock(&defer_lock);
			sched_yield();
		}
		fn(arg);
		return;
	}
	d->fn = fn;
	d->arg = arg;
	d->next = NULL;
	pthread_mutex_lock(&defer_lock);
	d->epoch = atomic_load(&global_epoch);
	*deferred_tail = d;
	deferred_tail = &d->next;
	struct deferred *ready = collect_locked();
	pthread_mutex_unlock(&defer_lock);
	run_ready(ready);
}

void bee_epoch_barrier(void)
{
	for (;;) {
		pthread_mutex_lock(&defer_lock);
		struct deferred *ready = collect_locked();
		bool empty = deferred_head == NULL;
		pthread_mutex_unlock(&defer_lock);
		run_ready(ready);
		if (empty)
			return;
		sched_yield();
	}
}
