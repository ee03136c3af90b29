/* rwlock.h - a reader-writer lock written to be read: a mutex, two
 * condition variables and three counters.
 *
 * Any number of readers may hold it together; a writer holds it alone.
 *
 * Policy: writer-preferring.  A reader that arrives while a writer holds
 * the lock OR is waiting for it queues behind that writer, so a steady
 * stream of readers cannot keep a writer out forever (writer starvation,
 * the weakness of a reader-preferring lock such as glibc's default
 * pthread_rwlock_t).  The price is the opposite risk: a steady stream of
 * writers can starve readers, and a thread that takes the read lock twice
 * deadlocks if a writer arrives in between (the lock is not recursive).
 * On release, a writer hands over to the next waiting writer if there is
 * one, otherwise it wakes all waiting readers at once.
 *
 * Every lock operation comes in three forms: blocking (give up only on
 * `cancel`), _timeout (wait.h: < 0 forever, 0 only if free now, > 0 at
 * most that long) and try.  `cancel` may be NULL.  Blocking and _timeout
 * forms return 0 when the lock is held, -ETIMEDOUT or -ECANCELED when not.
 *
 * Ordering: lock acquires, unlock releases (the internal mutex does both).
 * A write unlock happens-before every later read or write lock; a read
 * unlock happens-before the next write lock.  Two readers inside together
 * are not ordered with each other: they may only read.
 *
 * Cost: every operation, read or write, takes the internal mutex, so all
 * threads write to one cache line; this lock shows the policy, not speed.
 * See brlock.h for a lock whose readers scale.
 */
#ifndef CT_RWLOCK_H
#define CT_RWLOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "event.h"

struct ct_rwlock {
    pthread_mutex_t mu;         /* guards the fields below */
    pthread_cond_t readers_cv;  /* readers wait here for writers to go */
    pthread_cond_t writers_cv;  /* writers wait here for the lock to empty */
    int readers;                /* readers holding the lock */
    bool writer;                /* a writer holds the lock */
    int writers_waiting;        /* writers blocked in write_lock */
};

/* 0 or a negative errno. */
int ct_rwlock_init(struct ct_rwlock *l);
/* The lock must be free. */
void ct_rwlock_destroy(struct ct_rwlock *l);

int ct_rwlock_read_lock(struct ct_rwlock *l, struct ct_event *cancel);
int ct_rwlock_read_lock_timeout(struct ct_rwlock *l, int64_t timeout_ns,
                              struct ct_event *cancel);
bool ct_rwlock_try_read_lock(struct ct_rwlock *l);
void ct_rwlock_read_unlock(struct ct_rwlock *l);

int ct_rwlock_write_lock(struct ct_rwlock *l, struct ct_event *cancel);
int ct_rwlock_write_lock_timeout(struct ct_rwlock *l, int64_t timeout_ns,
                               struct ct_event *cancel);
bool ct_rwlock_try_write_lock(struct ct_rwlock *l);
void ct_rwlock_write_unlock(struct ct_rwlock *l);

/* Writers blocked waiting for the lock right now (for demos and tests). */
int ct_rwlock_writers_waiting(struct ct_rwlock *l);

#endif
