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
 * An object's r is read when the batch holding it is sealed (below), some
 * time after the object was unlinked.  Any G read after the unlink will do:
 * a later, larger r only delays the free.
 *
 * Readers: one seq_cst store on entry, one release store on exit.
 *
 * Writers batch.  Each thread's record holds a batch of up to BATCH_CAP
 * deferred (fn, arg) pairs, appended under a spinlock of the record's own
 * (uncontended: only a barrier takes it from another thread), so a defer
 * costs no allocation and touches no line other threads write.  When the batch fills, the thread seals it: it stamps the batch
 * with G, tries to move G (a lock-free scan of the records and one CAS),
 * then, under the global mutex, appends the batch to the global list (in
 * stamp order) and unlinks the batches at the head whose stamp + 2 <= G.
 * Their callbacks run outside every lock; one emptied batch becomes the
 * thread's next one.  So the mutex, the scan and any malloc happen once
 * per BATCH_CAP defers.
 *
 * The cost: up to BATCH_CAP objects per thread wait, unsealed, until the
 * thread defers again, exits or someone calls bee_epoch_barrier.
 * Thread exit (the key's destructor) seals the thread's batch onto the
 * global list; a barrier steals and seals every thread's batch, then frees
 * until everything deferred before it (and by the callbacks it ran) is
 * gone, and waits for callbacks other threads are still running.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/epoch.h"

#define BATCH_CAP 64   /* defers per seal: one mutex, one scan */
#define MAX_SPARES 64  /* emptied batches kept for reuse, beyond which they are freed */

struct retired {
	void (*fn)(void *);
	void *arg;
};

struct batch {
	struct batch *next;     /* global list, or spares */
	uint64_t epoch;         /* G when sealed, read after every entry was unlinked */
	unsigned n;
	struct retired ent[BATCH_CAP];
};

struct epoch_rec {
	/* The readers' side, scanned by every try_advance. */
	_Atomic uint64_t local; /* epoch this thread's section entered at; 0 outside */
	_Atomic bool in_use;    /* owned by a live thread */
	unsigned nest;          /* section depth (owner thread only) */
	struct epoch_rec *next; /* never unlinked */
	/* The writers' side, on a line of its own so that appends do not
	 * disturb the scanners of `local`. */
	_Alignas(64) _Atomic int lock; /* cur: the owner appends, a barrier steals */
	struct batch *cur;             /* not yet sealed; NULL until the first defer */
};

static _Atomic uint64_t global_epoch = 1;
static struct epoch_rec *_Atomic records;
static pthread_key_t rec_key;
static pthread_once_t rec_key_once = PTHREAD_ONCE_INIT;
static __thread struct epoch_rec *my_rec;

/* Under defer_lock: sealed batches in stamp order, and emptied ones. */
static pthread_mutex_t defer_lock = PTHREAD_MUTEX_INITIALIZER;
static struct batch *sealed_head, **sealed_tail = &sealed_head;
static uint64_t sealed_seq, collected_seq; /* batches ever sealed / ever unlinked */
static uint64_t last_stamp;                 /* the newest sealed batch's */
static struct batch *spares;
static unsigned nspares;

/* Batches unlinked from the list whose callbacks are still running, and
 * how many of those this thread runs (a barrier called from a callback
 * must not wait for itself). */
static _Atomic long running;
static __thread long my_running;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static __attribute__((noinline)) void rec_lock_wait(struct epoch_rec *r)
{
	unsigned spins = 0;
	do {
		while (atomic_load_explicit(&r->lock, memory_order_relaxed)) {
			if (++spins > 64)
				sched_yield(); /* the holder may be preempted */
			else
				cpu_relax();
		}
	} while (atomic_exchange_explicit(&r->lock, 1, memory_order_acquire));
}

static inline void rec_lock(struct epoch_rec *r)
{
	if (__builtin_expect(atomic_exchange_explicit(&r->lock, 1, memory_order_acquire), 0))
		rec_lock_wait(r);
}

static inline void rec_unlock(struct epoch_rec *r)
{
	atomic_store_explicit(&r->lock, 0, memory_order_release);
}

static void seal(struct batch *b);

/* Thread exit: hand the batch to the global list, give the record back. */
static void rec_release(void *p)
{
	struct epoch_rec *r = p;
	for (;;) { /* again if a callback run by seal deferred more */
		rec_lock(r);
		struct batch *b = r->cur;
		if (b && b->n)
			r->cur = NULL;
		else
			b = NULL; /* an empty batch stays for the record's next owner */
		rec_unlock(r);
		if (!b)
			break;
		seal(b);
	}
	atomic_store_explicit(&r->local, 0, memory_order_release);
	r->nest = 0;
	my_rec = NULL; /* a later destructor that enters takes a record anew */
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
		r = aligned_alloc(_Alignof(struct epoch_rec), sizeof(*r));
		if (!r)
			abort(); /* a few bytes once per thread; nothing sane to do */
		memset(r, 0, sizeof(*r));
		atomic_init(&r->local, 0);
		atomic_init(&r->lock, 0);
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

/* Move the epoch on if every reader inside entered at the current one.
 * Lock-free: a lost CAS means someone else moved it. */
static void try_advance(void)
{
	uint64_t g = atomic_load(&global_epoch);
	for (struct epoch_rec *r = atomic_load(&records); r; r = r->next) {
		uint64_t l = atomic_load(&r->local);
		if (l != 0 && l != g)
			return;
	}
	atomic_compare_exchange_strong(&global_epoch, &g, g + 1);
}

/* Under defer_lock: unlink the batches that are safe to free now, counted
 * in `running` until run_ready is done with them. */
static struct batch *collect_locked(void)
{
	uint64_t g = atomic_load(&global_epoch);
	struct batch *ready = NULL, **ready_tail = &ready;
	long n = 0;
	/* The list is in stamp order: stop at the first one too young. */
	while (sealed_head && sealed_head->epoch + 2 <= g) {
		struct batch *b = sealed_head;
		sealed_head = b->next;
		b->next = NULL;
		*ready_tail = b;
		ready_tail = &b->next;
		n++;
	}
	if (!sealed_head)
		sealed_tail = &sealed_head;
	collected_seq += (uint64_t)n;
	if (n) {
		atomic_fetch_add_explicit(&running, n, memory_order_relaxed);
		my_running += n;
	}
	return ready;
}

/* Read b's stamp: after every unlink of its objects (the fence orders
 * them before the load; x86's locked instructions give this anyway).  It
 * is read before the sealer tries to move the epoch, so that the batch
 * needs no more than the two moves the theory asks for. */
static void stamp(struct batch *b)
{
	atomic_thread_fence(memory_order_seq_cst);
	b->epoch = atomic_load(&global_epoch);
}

/* Under defer_lock: put b, stamped, on the global list.  Stamps read
 * outside the lock may arrive out of order: raising one to the newest so
 * far keeps the list sorted, and a later stamp is always safe. */
static void seal_locked(struct batch *b)
{
	if (b->epoch < last_stamp)
		b->epoch = last_stamp;
	last_stamp = b->epoch;
	b->next = NULL;
	*sealed_tail = b;
	sealed_tail = &b->next;
	sealed_seq++;
}

/* Run the callbacks of ready batches; keep one emptied batch for the
 * caller (when keep is not NULL), give the rest to the spares.  Callbacks
 * may defer again: no lock is held here. */
static void run_ready(struct batch *b, struct batch **keep)
{
	if (!b)
		return;
	struct batch *done = NULL;
	while (b) {
		struct batch *next = b->next;
		for (unsigned i = 0; i < b->n; i++)
			b->ent[i].fn(b->ent[i].arg);
		b->n = 0;
		if (keep && !*keep) {
			*keep = b;
		} else {
			b->next = done;
			done = b;
		}
		/* release: a barrier that sees the count drop sees the frees */
		atomic_fetch_sub_explicit(&running, 1, memory_order_release);
		my_running--;
		b = next;
	}
	if (!done)
		return;
	pthread_mutex_lock(&defer_lock);
	while (done && nspares < MAX_SPARES) {
		struct batch *next = done->next;
		done->next = spares;
		spares = done;
		nspares++;
		done = next;
	}
	pthread_mutex_unlock(&defer_lock);
	while (done) {
		struct batch *next = done->next;
		free(done);
		done = next;
	}
}

/* Seal b (full, or stolen by a barrier or an exit), try to move the epoch,
 * free what has become safe. */
static void seal(struct batch *b)
{
	stamp(b);
	try_advance();
	pthread_mutex_lock(&defer_lock);
	seal_locked(b);
	struct batch *ready = collect_locked();
	pthread_mutex_unlock(&defer_lock);
	run_ready(ready, NULL);
}

/* Wait out a grace period from now, then call fn(arg): the last resort
 * when no batch can be had.  Only outside a section (else this thread's
 * own section would stop G). */
static void defer_sync(void (*fn)(void *), void *arg)
{
	atomic_thread_fence(memory_order_seq_cst); /* the unlink before the read */
	uint64_t target = atomic_load(&global_epoch) + 2;
	while (atomic_load(&global_epoch) < target) {
		try_advance();
		if (atomic_load(&global_epoch) < target)
			sched_yield();
	}
	fn(arg);
}

/* The thread's batch is full (or it has none): seal it, free what is safe,
 * and find an empty batch to go on with. */
static void defer_slow(struct epoch_rec *r, void (*fn)(void *), void *arg)
{
	for (;;) {
		rec_lock(r);
		struct batch *b = r->cur;
		if (b && b->n < BATCH_CAP) {
			/* A callback run below deferred and installed one. */
			b->ent[b->n++] = (struct retired){fn, arg};
			rec_unlock(r);
			return;
		}
		r->cur = NULL;
		rec_unlock(r);

		struct batch *fresh = NULL;
		if (b)
			stamp(b);
		try_advance();
		pthread_mutex_lock(&defer_lock);
		if (b)
			seal_locked(b);
		struct batch *ready = collect_locked();
		if (!ready && spares) { /* else one of the ready ones */
			fresh = spares;
			spares = fresh->next;
			nspares--;
		}
		pthread_mutex_unlock(&defer_lock);
		run_ready(ready, fresh ? NULL : &fresh);
		if (!fresh && !(fresh = malloc(sizeof(*fresh)))) {
			/* Out of memory, nothing to recycle.  Outside a section,
			 * wait for the readers; inside one that cannot end, so
			 * arg is never freed: a leak, never a use after free. */
			if (r->nest == 0)
				defer_sync(fn, arg);
			return;
		}
		fresh->n = 0;
		fresh->next = NULL;
		rec_lock(r);
		if (!r->cur) {
			r->cur = fresh;
			fresh = NULL;
		}
		rec_unlock(r);
		if (fresh) { /* a callback installed one meanwhile */
			pthread_mutex_lock(&defer_lock);
			fresh->next = spares;
			spares = fresh;
			nspares++;
			pthread_mutex_unlock(&defer_lock);
		}
	}
}

void bee_epoch_defer(void (*fn)(void *arg), void *arg)
{
	struct epoch_rec *r = rec_get();
	rec_lock(r);
	struct batch *b = r->cur;
	if (__builtin_expect(b && b->n < BATCH_CAP, 1)) {
		b->ent[b->n++] = (struct retired){fn, arg};
		rec_unlock(r);
		return;
	}
	rec_unlock(r);
	defer_slow(r, fn, arg);
}

/* Steal and seal every thread's batch; true if any held something. */
static bool seal_all(void)
{
	bool found = false;
	for (struct epoch_rec *r = atomic_load(&records); r; r = r->next) {
		rec_lock(r);
		struct batch *b = r->cur;
		if (b && b->n)
			r->cur = NULL;
		else
			b = NULL;
		rec_unlock(r);
		if (b) {
			stamp(b);
			pthread_mutex_lock(&defer_lock);
			seal_locked(b);
			pthread_mutex_unlock(&defer_lock);
			found = true;
		}
	}
	return found;
}

void bee_epoch_barrier(void)
{
	/* Rounds until one finds nothing: callbacks run in a round (here or
	 * on other threads) may have deferred more. */
	for (bool again = true; again;) {
		again = seal_all();
		pthread_mutex_lock(&defer_lock);
		uint64_t target = sealed_seq;
		pthread_mutex_unlock(&defer_lock);
		for (;;) {
			try_advance();
			pthread_mutex_lock(&defer_lock);
			struct batch *ready = collect_locked();
			bool done = collected_seq >= target;
			pthread_mutex_unlock(&defer_lock);
			if (ready)
				again = true;
			run_ready(ready, NULL);
			if (done)
				break;
			sched_yield();
		}
		while (atomic_load_explicit(&running, memory_order_acquire) != my_running) {
			again = true;
			sched_yield();
		}
	}
}
