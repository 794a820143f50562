/*
 * epoch.h - epoch-based reclamation: free memory only once no reader can
 * still hold a pointer to it (the role RCU plays in the kernel).
 *
 * Readers (a program run, a host map lookup) bracket their work with
 * bee_epoch_enter/exit; they take no lock and write nothing shared but
 * their own thread's record.  A writer that unlinks an object (a hash
 * element, a replaced program, a map whose last handle closed) hands it to
 * bee_epoch_defer; it is freed after every reader that was inside when it
 * was unlinked has left.
 *
 * One process-wide domain: every thread that reads gets a record on first
 * use, reused after the thread exits.
 */
#ifndef BEE_UTIL_EPOCH_H
#define BEE_UTIL_EPOCH_H

/* Enter / leave a read-side section.  Sections nest. */
void bee_epoch_enter(void);
void bee_epoch_exit(void);

/* Call fn(arg) once no reader that may have seen arg is still inside.
 * Must be called after arg was unlinked from everything readers reach.
 * Takes no allocation and no shared lock but once per batch of
 * defers: fn may run much later (up to a batch's worth of objects per
 * thread waits until that thread defers more, exits, or a barrier), on
 * whichever thread frees that batch, possibly inside its read section. */
void bee_epoch_defer(void (*fn)(void *arg), void *arg);

/* Wait until everything deferred so far, by every thread (live or
 * exited), has been freed, including what those callbacks defer in turn.
 * Must not be called inside a read-side section. */
void bee_epoch_barrier(void);

#endif
