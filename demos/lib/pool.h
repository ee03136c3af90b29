/* pool.h - a bounded pool of expensive resources (database connections).
 *
 * What sqlx's Pool or r2d2 do for a server: open at most `max` resources,
 * lend them out one holder at a time, take them back, and lend them again,
 * so that the cost of opening one (a TCP handshake, authentication, a file
 * and its schema) is paid once per resource, not once per request, and
 * the server never has more than `max` of them open.
 *
 * The pool is a semaphore of `max` permits plus a stack of idle resources:
 *
 *   acquire   take a permit (waiting, fairly, while all `max` are out),
 *             then the most recently returned idle resource, or, if there
 *             is none, open a new one with the `create` callback;
 *   release   push the resource back on the idle stack, then give the
 *             permit back, which hands it to the first waiter;
 *   discard   for a resource found broken: close it with `destroy`, and
 *             give the permit back, so the next holder opens a fresh one.
 *
 * Pushing before giving the permit back is what keeps the count honest: a
 * new resource is opened only by a permit holder that found the stack
 * empty, and then every open resource is in the hands of another permit
 * holder, so at most max - 1 were open.  Hence open <= max, always.
 *
 * Waiting follows wait.h: the timeout covers the wait for a permit (< 0
 * for ever, 0 only if one is free now, > 0 at most that long, then
 * -ETIMEDOUT, sqlx's PoolTimedOut); `cancel` (may be NULL) ends it with
 * -ECANCELED.  Opening a resource runs with no lock held and is not
 * covered by the timeout: a `create` that blocks must bound itself.
 * Idle resources are reused newest first (LIFO): the connection used last
 * is the one most likely to be warm.
 *
 * Ordering: release (and discard) happens-before the acquire that gets the
 * same resource, or the permit, next (the pool's mutex and the
 * semaphore's), so the next holder sees whatever the last one did to the
 * resource.  create and destroy run on the thread that calls acquire,
 * discard or ct_pool_destroy.
 */
#ifndef CT_POOL_H
#define CT_POOL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "sem.h"

#define CT_POOL_MAX 1024

struct ct_pool_config {
    int max;                    /* 1..CT_POOL_MAX resources open at most */
    /* Open one resource into *res: 0 or a negative errno.  Called with no
     * lock held, from the acquiring thread; may block. */
    int (*create)(void *ctx, void **res);
    /* Close one.  Called from the thread that discards it, or from
     * ct_pool_destroy. */
    void (*destroy)(void *ctx, void *res);
    void *ctx;
};

struct ct_pool {
    struct ct_pool_config cfg;
    struct ct_semaphore slots;  /* a permit per resource that may be out */
    pthread_mutex_t mu;         /* guards everything below */
    void **idle;                /* stack of cfg.max slots; top at nidle-1 */
    int nidle;
    int open;                   /* idle + lent out + being opened */
    int max_open;               /* the most ever open at once */
    uint64_t acquired, released, discarded;
    uint64_t created, create_failed, destroyed;
};

/* Ready to lend; nothing is opened yet.  0, -EINVAL (a bad config) or
 * -ENOMEM.  The config is copied. */
int ct_pool_init(struct ct_pool *p, const struct ct_pool_config *cfg);
/* Close every idle resource and free the pool.  Every resource must be
 * back and nobody waiting: otherwise nothing is freed and -EBUSY is
 * returned (the pool stays usable).  0 on success. */
int ct_pool_destroy(struct ct_pool *p);

/* Borrow a resource into *res, waiting as long as it takes.  0,
 * -ECANCELED, or create's error (the permit then goes back). */
int ct_pool_acquire(struct ct_pool *p, void **res, struct ct_event *cancel);
/* ... waiting at most `timeout_ns` for a permit: also -ETIMEDOUT. */
int ct_pool_acquire_timeout(struct ct_pool *p, void **res, int64_t timeout_ns,
                            struct ct_event *cancel);
/* Give a borrowed resource back for the next holder. */
void ct_pool_release(struct ct_pool *p, void *res);
/* A borrowed resource is broken: close it and free its place. */
void ct_pool_discard(struct ct_pool *p, void *res);

struct ct_pool_stats {
    int max;                    /* the limit */
    int open;                   /* open now: idle + in use + being opened */
    int idle;
    int in_use;                 /* lent out, or being opened for a holder */
    int waiting;                /* acquires queued for a permit now */
    int max_open;               /* the most ever open at once */
    uint64_t acquired, released, discarded;
    uint64_t created, create_failed, destroyed;
    uint64_t waited;            /* acquires that had to queue */
    uint64_t timed_out, cancelled;  /* acquires that gave up */
};
/* A consistent snapshot (taken under the pool's lock). */
void ct_pool_get_stats(struct ct_pool *p, struct ct_pool_stats *st);

#endif
