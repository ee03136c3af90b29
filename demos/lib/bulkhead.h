/* bulkhead.h - separate permit pools, so one kind of work cannot use up
 * what another kind needs.
 *
 * A ship's bulkheads split the hull into compartments: one flooded
 * compartment does not sink the ship.  Here a compartment is a pool of
 * permits for one kind of work (high-priority requests, batch jobs, calls
 * to one downstream service, ...).  Work enters its compartment, taking a
 * permit (waiting while all are in use), and leaves it, giving the permit
 * back.  When batch jobs flood in, they queue for *their* permits only;
 * requests in another compartment find theirs as free as before.  With one
 * shared pool, the flood would hold every permit and a request would queue
 * behind it.
 *
 *     int c = ct_bulkhead_add(&b, "high", 2);
 *     bool waited;
 *     if (ct_bulkhead_enter(&b, c, timeout_ns, cancel, &waited) == 0) {
 *         handle_request();
 *         ct_bulkhead_leave(&b, c);
 *     }
 *
 * Where permits come from.  A compartment takes its permits through
 * struct ct_permits, two functions with the shape of a counting
 * semaphore's timed acquire and release (semaphore.h's
 * ct_sem_acquire_timeout and ct_sem_release fit it as they are), so that
 * a compartment can be backed by any pool: ct_bulkhead_add_permits takes
 * one.  ct_bulkhead_add makes a compartment with a small built-in pool (a
 * permit count and a futex to sleep on, park.h); it is a stand-in until
 * the semaphore is in every tree, and is neither fair nor first-come
 * first-served: a thread that arrives as a permit is freed may take it
 * ahead of one that has been waiting.
 *
 * Waiting follows wait.h: `timeout_ns` < 0 waits for ever, 0 only takes a
 * permit that is free now, > 0 waits at most that long; `cancel` (may be
 * NULL) ends the wait within CT_WAIT_SLICE_NS.
 *
 * Ordering: leaving releases and entering acquires, through the pool:
 * everything a holder did before ct_bulkhead_leave happens-before the
 * ct_bulkhead_enter that receives that permit.  Holders inside a
 * compartment together are not ordered with each other; nothing at all
 * orders work in different compartments.  The counters are statistics,
 * read without stopping anyone.
 */
#ifndef CT_BULKHEAD_H
#define CT_BULKHEAD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "park.h"

/* A source of permits: a counting semaphore's timed acquire (0,
 * -ETIMEDOUT or -ECANCELED, with wait.h's timeout) and its release. */
struct ct_permits {
    int (*acquire)(void *pool, int64_t timeout_ns, struct ct_event *cancel);
    void (*release)(void *pool);
    void *pool;
};

#define CT_BULKHEAD_MAX 8
#define CT_BULKHEAD_NAME_MAX 16

struct ct_compartment {
    char name[CT_BULKHEAD_NAME_MAX];
    int limit;                      /* permits in its pool */
    struct ct_permits permits;
    /* the built-in pool, when ct_bulkhead_add made the compartment */
    atomic_int free;
    struct ct_park park;
    /* statistics */
    atomic_int in_use, max_in_use;
    atomic_ullong entered;          /* enters that got a permit */
    atomic_ullong waited;           /* of those, found no permit free */
    atomic_ullong gave_up;          /* timed out or cancelled */
};

struct ct_bulkhead {
    int n;
    struct ct_compartment c[CT_BULKHEAD_MAX];
};

struct ct_compartment_stats {
    int limit, in_use, max_in_use;
    uint64_t entered, waited, gave_up;
};

void ct_bulkhead_init(struct ct_bulkhead *b);
/* Nobody may be inside or waiting. */
void ct_bulkhead_destroy(struct ct_bulkhead *b);

/* A compartment with `limit` >= 1 permits of its own (the built-in pool).
 * Returns its index, -EINVAL or -ENOSPC (CT_BULKHEAD_MAX reached). */
int ct_bulkhead_add(struct ct_bulkhead *b, const char *name, int limit);
/* A compartment drawing from `permits`, a pool of `limit` permits that the
 * caller set up, owns and outlives the bulkhead. */
int ct_bulkhead_add_permits(struct ct_bulkhead *b, const char *name, int limit,
                            const struct ct_permits *permits);

/* Take a permit of compartment `c`.  0: inside (leave exactly once);
 * -ETIMEDOUT or -ECANCELED: not inside.  *waited (may be NULL) tells
 * whether no permit was free on arrival. */
int ct_bulkhead_enter(struct ct_bulkhead *b, int c, int64_t timeout_ns,
                      struct ct_event *cancel, bool *waited);
void ct_bulkhead_leave(struct ct_bulkhead *b, int c);

void ct_bulkhead_get_stats(struct ct_bulkhead *b, int c, struct ct_compartment_stats *st);

#endif
