/* sem.h - a counting semaphore for threads and for tasks.
 *
 * tokio::sync::Semaphore in C: a number of permits; acquiring takes one
 * (waiting while none is free), releasing gives it back.  With N permits,
 * at most N holders run the code between acquire and release at once: a
 * concurrency limit (three requests to the payment service at a time, five
 * database connections, ...).
 *
 * Fair, first come first served.  Waiters queue in arrival order, threads
 * and tasks in the same queue.  A release hands its permit straight to the
 * first waiter (it never passes through the free count), and while anyone
 * waits, a newcomer (try_acquire included) does not take a free permit
 * ahead of them.  So a stream of newcomers cannot starve a waiter.
 *
 * Threads wait with ct_sem_acquire / ct_sem_acquire_timeout (wait.h: a
 * timeout < 0 waits for ever, 0 only takes a permit free right now, > 0
 * waits at most that long; `cancel` may be NULL).  A task awaits a
 * ct_sem_acquire future: while it waits, its worker runs other tasks.  A
 * timeout for a task is the ct_timeout combinator around that future.
 *
 * The holder of a permit releases it with ct_sem_release (exactly once per
 * successful acquire); nothing checks that it is the holder.  Unlike
 * POSIX's sem_t, waits here are cancellable, fair, and counted.
 *
 * Ordering: acquire acquires, release releases (the internal mutex does
 * both).  Everything a holder did before ct_sem_release happens-before the
 * acquire, thread or task, that receives that permit.  Holders that are
 * inside together are not ordered with each other: a semaphore with more
 * than one permit is not a lock for the data they share.
 */
#ifndef CT_SEMAPHORE_H
#define CT_SEMAPHORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "future.h"

/* A waiter's place in the queue: on a waiting thread's stack, or inside a
 * task's acquire future. */
struct ct_sem_waiter {
    struct ct_sem_waiter *prev, *next;
    pthread_cond_t *cv;         /* a thread waits here, or NULL */
    struct ct_waker waker;      /* a task is woken through this */
    bool queued;
    bool granted;               /* a release handed it a permit */
};

struct ct_semaphore {
    pthread_mutex_t mu;         /* guards everything below */
    long permits;               /* free permits */
    long limit;                 /* permits given to ct_sem_init */
    struct ct_sem_waiter *head, *tail;
    int waiting;                /* waiters queued now */
    long max_in_use;            /* the most ever held at once */
    uint64_t acquired;          /* successful acquires of every form */
    uint64_t waited;            /* of those, how many had to queue */
    uint64_t timed_out, cancelled;  /* waits that gave up */
};

/* `permits` >= 0.  0 or a negative errno. */
int ct_sem_init(struct ct_semaphore *s, long permits);
/* Nobody may be waiting; permits still held are simply forgotten. */
void ct_sem_destroy(struct ct_semaphore *s);

/* Take a permit, waiting as long as it takes.  0 or -ECANCELED. */
int ct_sem_acquire(struct ct_semaphore *s, struct ct_event *cancel);
/* Take a permit, waiting at most `timeout_ns`.  0, -ETIMEDOUT or
 * -ECANCELED.  A permit handed over just as the wait gives up is kept
 * (returns 0): a permit is never lost between a release and a timeout. */
int ct_sem_acquire_timeout(struct ct_semaphore *s, int64_t timeout_ns,
                           struct ct_event *cancel);
/* Take a permit if one is free and nobody is queued; never waits. */
bool ct_sem_try_acquire(struct ct_semaphore *s);
/* Give a permit back: to the first waiter if there is one. */
void ct_sem_release(struct ct_semaphore *s);

/* Snapshots for reports and tests (stale as soon as they return). */
long ct_sem_available(struct ct_semaphore *s);
int ct_sem_waiting(struct ct_semaphore *s);

struct ct_sem_stats {
    long limit, available, max_in_use;
    int waiting;
    uint64_t acquired, waited, timed_out, cancelled;
};
void ct_sem_get_stats(struct ct_semaphore *s, struct ct_sem_stats *st);

/* The acquire future, for tasks: ready when the task holds a permit (then
 * call ct_sem_release when done).  Dropped while it still waits, it leaves
 * the queue (counted as cancelled); dropped after a permit was handed to it
 * but before it noticed, it passes that permit on.  Dropping it after it
 * was READY does nothing: the permit is the task's to release. */
struct ct_sem_acquire {
    struct ct_future base;
    struct ct_semaphore *s;
    struct ct_sem_waiter w;
    bool acquired;
};
void ct_sem_acquire_init(struct ct_sem_acquire *a, struct ct_semaphore *s);

#endif
