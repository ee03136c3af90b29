/* amutex.h - a mutex for tasks: waiting for it yields the worker.
 *
 * tokio::sync::Mutex in C.  A task that finds a pthread mutex taken blocks
 * its whole worker thread, and with it every task queued there, possibly
 * the very task that holds the lock.  A task that finds this mutex taken
 * gets PENDING from the lock future, joins a FIFO of waiters, and its
 * worker goes on with other tasks.  Unlock hands the mutex straight to the
 * first waiter (so nobody barges in and waiters are served in order) and
 * wakes it.
 *
 * It may be held across awaits, which is its reason to exist; it costs a
 * little more than a pthread mutex, so for short critical sections with no
 * await inside, a pthread mutex is the better choice even in a task.
 *
 * Ordering: lock acquires, unlock releases.  Everything the holder did
 * before unlocking happens-before the next holder's lock future returning
 * READY, on whatever worker that task runs (the hand-over goes through the
 * internal mutex, and the wake-up through the executor's queues).
 */
#ifndef CT_AMUTEX_H
#define CT_AMUTEX_H

#include <pthread.h>
#include <stdbool.h>

#include "future.h"

struct ct_amutex_waiter {
    struct ct_amutex_waiter *prev, *next;
    struct ct_waker waker;
    bool queued;
    bool granted;               /* unlock handed the mutex to us */
};

struct ct_amutex {
    pthread_mutex_t mu;         /* guards the fields below, briefly */
    bool locked;
    struct ct_amutex_waiter *head, *tail;
    unsigned long contended;    /* lock futures that had to wait */
};

/* 0 or a negative errno. */
int ct_amutex_init(struct ct_amutex *m);
void ct_amutex_destroy(struct ct_amutex *m);
/* Take it if it is free and nobody is queued; never waits. */
bool ct_amutex_try_lock(struct ct_amutex *m);
/* Release it: to the first waiter if there is one. */
void ct_amutex_unlock(struct ct_amutex *m);

/* A future that is ready when the caller holds the mutex (then call
 * ct_amutex_unlock when done).  Dropped while still waiting, it leaves the
 * queue; if the mutex had just been handed to it, it passes it on. */
struct ct_amutex_lock {
    struct ct_future base;
    struct ct_amutex *m;
    struct ct_amutex_waiter w;
    bool acquired;
};
void ct_amutex_lock_init(struct ct_amutex_lock *l, struct ct_amutex *m);

#endif
