/* poison.h - a mutex that remembers that its holder panicked.
 *
 * Rust's Mutex<T> is "poisoned" when a thread panics while holding it: the
 * panic may have left the data half-updated, so every later lock() returns
 * Err(PoisonError) instead of Ok(guard).  The error still carries the
 * guard (PoisonError::into_inner), so the data can be inspected and
 * repaired, and Mutex::clear_poison() declares it healthy again.  Poison
 * is advisory: it never blocks access, it only makes sure the next owner
 * hears about the panic.
 *
 * This is the same in C.  The mutex owns a pointer to the data it guards
 * (the `T` of Mutex<T>); ct_poison_lock() hands it out together with a
 * status: 0, or CT_POISONED when an earlier holder panicked (the lock is
 * held either way).  A panic (panic.h) poisons the mutex only if it
 * happens inside a guarded section, where a cleanup handler stands in for
 * the MutexGuard's destructor:
 *
 *     void *data;
 *     int rc = ct_poison_lock(&m, &data, cancel);
 *     if (rc < 0)
 *         return rc;                   // cancelled: not locked
 *     CT_POISON_GUARD(&m);             // a panic from here on poisons m
 *     ... use data; may call ct_panic() ...
 *     CT_POISON_GUARD_END();           // unlocks m (no poison)
 *
 * The two macros open and close a block (they are pthread_cleanup_push and
 * pthread_cleanup_pop), so they must pair up in the same scope.  In C,
 * glibc implements them with setjmp: a local variable of the enclosing
 * function that changes inside the block may be lost when a panic jumps
 * out (gcc's -Wclobbered says so).  Give the guarded section a small
 * function of its own.  A panic while the thread holds no guarded mutex
 * poisons nothing.
 */
#ifndef CT_POISON_H
#define CT_POISON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "event.h"

/* ct_poison_lock's "locked, but a holder panicked" status. */
#define CT_POISONED 1

struct ct_poison_mutex {
    pthread_mutex_t mu;
    atomic_bool poisoned;
    void *data;                 /* what the mutex guards; see ct_poison_lock */
};

/* Guard `data` (may be NULL).  0 or a negative errno. */
int ct_poison_init(struct ct_poison_mutex *m, void *data);
/* The mutex must be unlocked. */
void ct_poison_destroy(struct ct_poison_mutex *m);

/* Lock; `*data` (if `data` is not NULL) receives the guarded pointer.
 * Returns 0, or CT_POISONED (locked all the same), or -ECANCELED when
 * `cancel` (may be NULL) was set first (not locked).  Locking acquires,
 * unlocking releases: everything the last holder did before it unlocked
 * (or before its panic unlocked for it) happens-before this lock returns,
 * the poisoned flag included. */
int ct_poison_lock(struct ct_poison_mutex *m, void **data,
                   struct ct_event *cancel);
/* As ct_poison_lock, with a timeout (wait.h: < 0 forever, 0 only if free
 * now, > 0 at most that long): also -ETIMEDOUT. */
int ct_poison_lock_timeout(struct ct_poison_mutex *m, void **data,
                         int64_t timeout_ns, struct ct_event *cancel);
/* Lock if free; `*poisoned` (may be NULL) tells the status. */
bool ct_poison_try_lock(struct ct_poison_mutex *m, void **data, bool *poisoned);

/* Unlock.  Called while the thread is panicking (from a cleanup handler),
 * it poisons the mutex first. */
void ct_poison_unlock(struct ct_poison_mutex *m);
/* ct_poison_unlock with the signature of a cleanup handler. */
void ct_poison_unlock_cleanup(void *m);

#define CT_POISON_GUARD(m) pthread_cleanup_push(ct_poison_unlock_cleanup, (m))
#define CT_POISON_GUARD_END() pthread_cleanup_pop(1)

/* Whether a holder panicked since the last clear.  Without the lock this
 * is a snapshot; with it, it is exact. */
bool ct_poison_is_poisoned(struct ct_poison_mutex *m);
/* Declare the data repaired: later locks return 0 again.  Call it with the
 * lock held, after the repair, so that the next holder sees both. */
void ct_poison_clear(struct ct_poison_mutex *m);

#endif
