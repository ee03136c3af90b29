/* spinlock.h - a test-and-test-and-set spinlock with exponential backoff.
 *
 * A waiting thread never sleeps: it keeps its core busy re-reading the
 * lock word until the holder releases it.  That is the fastest possible
 * hand-over when every thread has a core of its own and critical sections
 * are a few instructions long, and a disaster when threads outnumber cores:
 * a spinner may burn its whole time slice waiting for a holder that the
 * scheduler has taken off the CPU.  It is in the project for contrast with
 * the blocking locks (see the rwlock-bench demo).
 *
 * "Test and test-and-set": a waiter first reads the word (a plain load
 * keeps the cache line shared among all waiters) and tries the atomic
 * exchange only when the lock looks free, instead of hammering the line
 * with exchanges.  After each failed attempt it backs off (backoff.h), and
 * past the backoff cap it calls sched_yield() on every retry.
 *
 * Blocking forms give up on `cancel` (checked now and then while spinning;
 * may be NULL) and return 0 or -ECANCELED; the _timeout form (wait.h's
 * meaning) also -ETIMEDOUT.
 *
 * Ordering: a successful lock is an acquire exchange and unlock a release
 * store, so everything a holder did before unlocking happens-before the
 * next holder's lock returns.
 */
#ifndef CT_SPINLOCK_H
#define CT_SPINLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "event.h"

struct ct_spinlock {
    atomic_bool locked;
};

void ct_spin_init(struct ct_spinlock *s);
void ct_spin_destroy(struct ct_spinlock *s);

int ct_spin_lock(struct ct_spinlock *s, struct ct_event *cancel);
int ct_spin_lock_timeout(struct ct_spinlock *s, int64_t timeout_ns,
                       struct ct_event *cancel);
bool ct_spin_try_lock(struct ct_spinlock *s);
void ct_spin_unlock(struct ct_spinlock *s);

#endif
