/* bulkhead.c - see bulkhead.h. */
#include "bulkhead.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wait.h"

/* ---- the built-in pool (a stand-in for semaphore.h) -------------------- */

/* Take a free permit if there is one.  seq_cst, as park.h's protocol
 * requires of the condition a sleeper re-checks. */
static bool pool_try(struct ct_compartment *c)
{
    int f = atomic_load(&c->free);
    while (f > 0) {
        if (atomic_compare_exchange_weak(&c->free, &f, f - 1))
            return true;
    }
    return false;
}

static int pool_acquire(void *arg, int64_t timeout_ns, struct ct_event *cancel)
{
    struct ct_compartment *c = arg;
    int64_t deadline = ct_deadline_after(timeout_ns);
    for (;;) {
        if (pool_try(c))
            return 0;
        uint32_t key = ct_park_prepare(&c->park);
        if (pool_try(c)) {
            ct_park_abort(&c->park);
            return 0;
        }
        int rc = timeout_ns == 0 ? -ETIMEDOUT : 0;
        if (rc)
            ct_park_abort(&c->park);
        else
            rc = ct_park_wait(&c->park, key, deadline, cancel);
        if (rc) {
            /* a release may have woken us just as we gave up: pass that
             * wake-up on, or a sleeper could miss a free permit */
            if (atomic_load(&c->free) > 0)
                ct_park_notify_one(&c->park);
            return rc;
        }
    }
}

static void pool_release(void *arg)
{
    struct ct_compartment *c = arg;
    atomic_fetch_add(&c->free, 1);
    ct_park_notify_one(&c->park);
}

/* ---- compartments ------------------------------------------------------- */

void ct_bulkhead_init(struct ct_bulkhead *b)
{
    b->n = 0;
}

void ct_bulkhead_destroy(struct ct_bulkhead *b)
{
    b->n = 0;
}

int ct_bulkhead_add_permits(struct ct_bulkhead *b, const char *name, int limit,
                            const struct ct_permits *permits)
{
    if (limit < 1 || !permits || !permits->acquire || !permits->release)
        return -EINVAL;
    if (b->n >= CT_BULKHEAD_MAX)
        return -ENOSPC;
    struct ct_compartment *c = &b->c[b->n];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name ? name : "");
    c->limit = limit;
    c->permits = *permits;
    atomic_init(&c->free, 0);
    ct_park_init(&c->park);
    atomic_init(&c->in_use, 0);
    atomic_init(&c->max_in_use, 0);
    atomic_init(&c->entered, 0);
    atomic_init(&c->waited, 0);
    atomic_init(&c->gave_up, 0);
    return b->n++;
}

int ct_bulkhead_add(struct ct_bulkhead *b, const char *name, int limit)
{
    if (b->n >= CT_BULKHEAD_MAX)
        return -ENOSPC;
    struct ct_permits own = { pool_acquire, pool_release, &b->c[b->n] };
    int i = ct_bulkhead_add_permits(b, name, limit, &own);
    if (i >= 0)
        atomic_store(&b->c[i].free, limit);
    return i;
}

int ct_bulkhead_enter(struct ct_bulkhead *b, int i, int64_t timeout_ns,
                      struct ct_event *cancel, bool *waited)
{
    struct ct_compartment *c = &b->c[i];
    const struct ct_permits *p = &c->permits;
    /* a first look that never waits tells whether this one had to */
    int rc = p->acquire(p->pool, 0, cancel);
    bool full = rc == -ETIMEDOUT;
    if (full && timeout_ns != 0)
        rc = p->acquire(p->pool, timeout_ns, cancel);
    if (waited)
        *waited = full;
    if (rc) {
        atomic_fetch_add_explicit(&c->gave_up, 1, memory_order_relaxed);
        return rc;
    }
    atomic_fetch_add_explicit(&c->entered, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->waited, full, memory_order_relaxed);
    int now = atomic_fetch_add_explicit(&c->in_use, 1, memory_order_relaxed) + 1;
    int max = atomic_load_explicit(&c->max_in_use, memory_order_relaxed);
    while (now > max && !atomic_compare_exchange_weak_explicit(&c->max_in_use, &max, now,
                                                               memory_order_relaxed,
                                                               memory_order_relaxed))
        ;
    return 0;
}

void ct_bulkhead_leave(struct ct_bulkhead *b, int i)
{
    struct ct_compartment *c = &b->c[i];
    /* count out before the permit goes back, so in_use never overshoots */
    atomic_fetch_sub_explicit(&c->in_use, 1, memory_order_relaxed);
    c->permits.release(c->permits.pool);
}

void ct_bulkhead_get_stats(struct ct_bulkhead *b, int i, struct ct_compartment_stats *st)
{
    struct ct_compartment *c = &b->c[i];
    *st = (struct ct_compartment_stats){
        .limit = c->limit,
        .in_use = atomic_load(&c->in_use),
        .max_in_use = atomic_load(&c->max_in_use),
        .entered = atomic_load(&c->entered),
        .waited = atomic_load(&c->waited),
        .gave_up = atomic_load(&c->gave_up),
    };
}
