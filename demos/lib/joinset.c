/* joinset.c - see joinset.h.
 *
 * The set and its tasks share a core: one small record per task (its
 * state, and its waker so that a cancel can wake it), a FIFO of finished
 * slots, and the waker of the owner awaiting the next result.  Each task
 * is the user's future inside a wrapper that updates its record around
 * every poll and when it is dropped.  A record's state changes only under
 * the core's mutex:
 *
 *   NEW --poll--> POLLING --pending--> IDLE --poll--> POLLING ...
 *   POLLING --ready, or panic (seen at the drop)--> DONE  (queued as finished)
 *   NEW / IDLE --set dropped--> ABORTED  (never polled for progress again)
 *   POLLING --set dropped--> the poll's end decides: DONE or ABORTED
 *   NEW / IDLE --executor shutdown (the wrapper dropped)--> DONE
 */
#include "joinset.h"

#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

enum { E_NEW, E_IDLE, E_POLLING, E_DONE, E_ABORTED };

struct entry {
    int state;
    bool armed;                 /* spawned for good: its end may be queued */
    bool abort_requested;       /* the set was dropped during its poll */
    long next_ready;            /* link in the finished FIFO */
    struct ct_waker waker;      /* the task's, for the cancel */
};

struct ct_joinset_core {
    atomic_uint refs;           /* the set's, and one per live wrapper */
    pthread_mutex_t mu;
    pthread_cond_t settled;     /* a poll the drop waits for has ended */
    struct entry *e;            /* by slot */
    size_t n, cap;
    long ready_head, ready_tail;
    struct ct_waker waiter;     /* the next future waiting for a result */
    bool dropped;
    size_t polls_to_settle;
};

/* The wrapper: the user's future follows it in the same task block. */
struct member {
    struct ct_future base;
    struct ct_joinset_core *core;
    size_t slot;
    alignas(max_align_t) unsigned char inner[];
};

static struct ct_future *member_inner(struct member *m)
{
    return (struct ct_future *)(void *)m->inner;
}

static void core_unref(struct ct_joinset_core *c)
{
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
        return;
    CT_PT(pthread_cond_destroy(&c->settled));
    CT_PT(pthread_mutex_destroy(&c->mu));
    free(c->e);
    free(c);
}

/* With mu held: queue `slot` as finished and hand back the owner's waker
 * (to wake once mu is released). */
static struct ct_waker push_ready(struct ct_joinset_core *c, size_t slot)
{
    struct entry *e = &c->e[slot];
    e->state = E_DONE;
    if (!e->armed || c->dropped)
        return (struct ct_waker){ 0 };
    e->next_ready = -1;
    if (c->ready_tail >= 0)
        c->e[c->ready_tail].next_ready = (long)slot;
    else
        c->ready_head = (long)slot;
    c->ready_tail = (long)slot;
    struct ct_waker w = c->waiter;
    c->waiter = (struct ct_waker){ 0 };
    return w;
}

static void wake_and_drop(struct ct_waker *w)
{
    if (w->ops) {
        ct_waker_wake(w);
        ct_waker_drop(w);
    }
}

/* ---- the wrapper ---------------------------------------------------------- */

static enum ct_poll member_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct member *m = (struct member *)f;
    struct ct_joinset_core *c = m->core;
    struct ct_waker old = { 0 }, owner = { 0 };
    CT_PT(pthread_mutex_lock(&c->mu));
    struct entry *e = &c->e[m->slot];
    bool cancelled = e->state == E_ABORTED;
    if (!cancelled) {
        e->state = E_POLLING;
        if (!ct_waker_same(&e->waker, cx->waker)) {
            old = e->waker;
            e->waker = ct_waker_clone(cx->waker);
        }
    }
    CT_PT(pthread_mutex_unlock(&c->mu));
    ct_waker_drop(&old);
    if (cancelled) {
        /* the user's future is dropped with the wrapper, unfinished */
        f->error = -ECANCELED;
        return CT_READY;
    }

    /* a panic jumps from here straight to the executor; member_drop then
     * settles the record */
    enum ct_poll r = ct_future_poll(member_inner(m), cx);

    CT_PT(pthread_mutex_lock(&c->mu));
    e = &c->e[m->slot];         /* the array may have grown meanwhile */
    if (r == CT_READY) {
        owner = push_ready(c, m->slot);
    } else {
        e->state = e->abort_requested ? E_ABORTED : E_IDLE;
        cancelled = e->abort_requested;
    }
    if (e->abort_requested) {
        e->abort_requested = false;
        c->polls_to_settle--;
        CT_PT(pthread_cond_broadcast(&c->settled));
    }
    CT_PT(pthread_mutex_unlock(&c->mu));
    wake_and_drop(&owner);
    if (cancelled) {
        f->error = -ECANCELED;
        return CT_READY;
    }
    if (r == CT_READY) {
        f->value = member_inner(m)->value;
        f->error = member_inner(m)->error;
    }
    return r;
}

/* Runs once, however the task ended: finished, cancelled by the set,
 * panicked, or cancelled by an executor shutdown. */
static void member_drop(struct ct_future *f)
{
    struct member *m = (struct member *)f;
    struct ct_joinset_core *c = m->core;
    ct_future_drop(member_inner(m));
    struct ct_waker owner = { 0 }, mine;
    CT_PT(pthread_mutex_lock(&c->mu));
    struct entry *e = &c->e[m->slot];
    if (e->abort_requested) {
        /* it panicked during the poll the drop was waiting for */
        e->abort_requested = false;
        c->polls_to_settle--;
        CT_PT(pthread_cond_broadcast(&c->settled));
    }
    if (e->state != E_DONE && e->state != E_ABORTED)
        owner = push_ready(c, m->slot);
    mine = e->waker;
    e->waker = (struct ct_waker){ 0 };
    CT_PT(pthread_mutex_unlock(&c->mu));
    ct_waker_drop(&mine);
    wake_and_drop(&owner);
    core_unref(c);
}

static const struct ct_future_ops member_ops = { "join set member", member_poll, member_drop };

/* ---- the set -------------------------------------------------------------- */

int ct_joinset_init(struct ct_joinset *s, struct ct_exec *ex)
{
    *s = (struct ct_joinset){ .ex = ex };
    struct ct_joinset_core *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    int rc = -pthread_mutex_init(&c->mu, NULL);
    if (rc) {
        free(c);
        return rc;
    }
    if ((rc = -pthread_cond_init(&c->settled, NULL)) != 0) {
        CT_PT(pthread_mutex_destroy(&c->mu));
        free(c);
        return rc;
    }
    atomic_init(&c->refs, 1);
    c->ready_head = c->ready_tail = -1;
    s->core = c;
    return 0;
}

/* Room for one more slot in the set and in the core.  0 or -ENOMEM. */
static int grow(struct ct_joinset *s)
{
    struct ct_joinset_core *c = s->core;
    if (s->n < s->cap)
        return 0;
    size_t cap = s->cap ? 2 * s->cap : 16;
    struct ct_join_handle **h = realloc(s->h, cap * sizeof *h);
    if (!h)
        return -ENOMEM;
    s->h = h;
    CT_PT(pthread_mutex_lock(&c->mu));
    struct entry *e = realloc(c->e, cap * sizeof *e);
    if (e) {
        c->e = e;
        c->cap = cap;
    }
    CT_PT(pthread_mutex_unlock(&c->mu));
    if (!e)
        return -ENOMEM;
    s->cap = cap;
    return 0;
}

int ct_joinset_spawn_(struct ct_joinset *s, struct ct_future *f, size_t size, size_t *slot)
{
    struct ct_joinset_core *c = s->core;
    size_t bytes = sizeof(struct member) + size;
    struct ct_join_handle *h = malloc(sizeof *h);
    struct member *m = malloc(bytes);
    int rc = h && m ? grow(s) : -ENOMEM;
    if (rc) {
        free(h);
        free(m);
        ct_future_drop(f);
        return rc;
    }
    size_t k = s->n;
    CT_PT(pthread_mutex_lock(&c->mu));
    c->e[k] = (struct entry){ .state = E_NEW, .next_ready = -1 };
    c->n = k + 1;
    CT_PT(pthread_mutex_unlock(&c->mu));
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);   /* the wrapper's */
    *m = (struct member){ .base = { .ops = &member_ops }, .core = c, .slot = k };
    memcpy(m->inner, f, size);      /* the move, before its first poll */
    f->ops = NULL;
    rc = ct_spawn_(s->ex, &m->base, bytes, h);
    free(m);                        /* the task has its own copy now */
    if (rc) {
        /* the wrapper was dropped already (unarmed, so nothing was queued) */
        CT_PT(pthread_mutex_lock(&c->mu));
        c->n = k;
        CT_PT(pthread_mutex_unlock(&c->mu));
        free(h);
        return rc;
    }
    /* from now on its end is queued; if it ended already (a shutdown
     * racing with the spawn), queue it now */
    struct ct_waker owner = { 0 };
    CT_PT(pthread_mutex_lock(&c->mu));
    c->e[k].armed = true;
    if (c->e[k].state == E_DONE)
        owner = push_ready(c, k);
    CT_PT(pthread_mutex_unlock(&c->mu));
    wake_and_drop(&owner);
    s->h[k] = h;
    s->n = k + 1;
    s->unjoined++;
    if (slot)
        *slot = k;
    return 0;
}

size_t ct_joinset_len(const struct ct_joinset *s)
{
    return s->unjoined;
}

/* ---- the next result ------------------------------------------------------ */

static enum ct_poll next_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct ct_joinset_next *n = (struct ct_joinset_next *)f;
    struct ct_joinset *s = n->set;
    struct ct_joinset_core *c = s->core;
    if (n->slot < 0) {
        struct ct_waker old = { 0 };
        CT_PT(pthread_mutex_lock(&c->mu));
        if (c->ready_head >= 0) {
            n->slot = c->ready_head;
            c->ready_head = c->e[n->slot].next_ready;
            if (c->ready_head < 0)
                c->ready_tail = -1;
        } else if (s->unjoined > 0 && !ct_waker_same(&c->waiter, cx->waker)) {
            old = c->waiter;
            c->waiter = ct_waker_clone(cx->waker);
        }
        CT_PT(pthread_mutex_unlock(&c->mu));
        ct_waker_drop(&old);
        if (n->slot < 0) {
            if (s->unjoined > 0)
                return CT_PENDING;
            n->empty = true;
            return CT_READY;
        }
    }
    /* finished: its handle is ready, or will be in a moment */
    struct ct_join_handle *h = s->h[n->slot];
    if (ct_future_poll(&h->base, cx) == CT_PENDING)
        return CT_PENDING;
    n->id = h->id;
    n->status = h->status;
    snprintf(n->panic, sizeof n->panic, "%s", h->panic);
    f->value = h->base.value;
    f->error = h->base.error;
    ct_future_drop(&h->base);
    free(h);
    s->h[n->slot] = NULL;
    s->unjoined--;
    return CT_READY;
}

/* Dropped unfinished: give back a result it took, stop waiting. */
static void next_drop(struct ct_future *f)
{
    struct ct_joinset_next *n = (struct ct_joinset_next *)f;
    struct ct_joinset_core *c = n->set->core;
    struct ct_waker old;
    CT_PT(pthread_mutex_lock(&c->mu));
    if (n->slot >= 0 && n->set->h[n->slot]) {
        c->e[n->slot].next_ready = c->ready_head;
        c->ready_head = n->slot;
        if (c->ready_tail < 0)
            c->ready_tail = n->slot;
    }
    old = c->waiter;
    c->waiter = (struct ct_waker){ 0 };
    CT_PT(pthread_mutex_unlock(&c->mu));
    ct_waker_drop(&old);
}

static const struct ct_future_ops next_ops = { "join set next", next_poll, next_drop };

void ct_joinset_next_init(struct ct_joinset_next *n, struct ct_joinset *s)
{
    *n = (struct ct_joinset_next){ .base = { .ops = &next_ops }, .set = s, .slot = -1,
                                   .status = CT_JOIN_OK };
}

/* ---- dropping the set ----------------------------------------------------- */

size_t ct_joinset_drop(struct ct_joinset *s, size_t *discarded)
{
    struct ct_joinset_core *c = s->core;
    size_t cancelled = 0, done = 0;
    if (!c) {
        if (discarded)
            *discarded = 0;
        return 0;
    }
    /* wakers to call once the mutex is released: at most one per slot */
    struct ct_waker *wake = calloc(s->n ? s->n : 1, sizeof *wake);
    size_t nwake = 0;
    CT_PT(pthread_mutex_lock(&c->mu));
    c->dropped = true;
    for (size_t i = 0; i < s->n; i++) {
        struct entry *e = &c->e[i];
        if (!s->h[i] || e->state == E_DONE)
            continue;
        if (e->state == E_POLLING) {
            e->abort_requested = true;      /* its poll's end decides */
            c->polls_to_settle++;
            continue;
        }
        e->state = E_ABORTED;
        if (e->waker.ops && wake) {
            wake[nwake++] = e->waker;       /* the reference moves to wake[] */
            e->waker = (struct ct_waker){ 0 };
        } else if (e->waker.ops) {
            ct_waker_wake(&e->waker);       /* out of memory: wake it here */
        }
    }
    while (c->polls_to_settle > 0)
        CT_PT(pthread_cond_wait(&c->settled, &c->mu));
    for (size_t i = 0; i < s->n; i++) {
        if (s->h[i]) {
            cancelled += c->e[i].state == E_ABORTED;
            done += c->e[i].state == E_DONE;
        }
    }
    CT_PT(pthread_mutex_unlock(&c->mu));
    for (size_t i = 0; i < nwake; i++)
        wake_and_drop(&wake[i]);
    free(wake);
    for (size_t i = 0; i < s->n; i++) {
        if (s->h[i]) {
            ct_future_drop(&s->h[i]->base);     /* detach */
            free(s->h[i]);
        }
    }
    free(s->h);
    core_unref(c);
    *s = (struct ct_joinset){ .ex = s->ex };
    if (discarded)
        *discarded = done;
    return cancelled;
}
