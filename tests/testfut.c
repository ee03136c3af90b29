/* testfut.c - see testfut.h. */
#include "testfut.h"

#include <errno.h>
#include <stdlib.h>

#include "clock.h"
#include "combinators.h"

static enum ct_poll yield_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct tf_yield *y = (struct tf_yield *)f;
    atomic_fetch_add(&y->st->polls, 1);
    if (y->left > 0) {
        y->left--;
        ct_waker_wake(cx->waker);
        return CT_PENDING;
    }
    if (y->panic)
        ct_task_panic(cx, "test panic %ld", (long)y->out_value);
    atomic_fetch_add(&y->st->completions, 1);
    f->value = y->out_value;
    f->error = y->out_error;
    return CT_READY;
}

static void yield_drop(struct ct_future *f)
{
    atomic_fetch_add(&((struct tf_yield *)f)->st->drops, 1);
}

static const struct ct_future_ops yield_ops = { "tf_yield", yield_poll, yield_drop };

void tf_yield_init(struct tf_yield *f, int yields, intptr_t value, struct tf_stats *st)
{
    *f = (struct tf_yield){ .base = { .ops = &yield_ops }, .left = yields, .out_value = value,
                            .st = st };
}

static enum ct_poll forever_poll(struct ct_future *f, struct ct_cx *cx)
{
    (void)cx;
    atomic_fetch_add(&((struct tf_forever *)f)->st->polls, 1);
    return CT_PENDING;
}

static void forever_drop(struct ct_future *f)
{
    atomic_fetch_add(&((struct tf_forever *)f)->st->drops, 1);
}

static const struct ct_future_ops forever_ops = { "tf_forever", forever_poll, forever_drop };

void tf_forever_init(struct tf_forever *f, struct tf_stats *st)
{
    *f = (struct tf_forever){ .base = { .ops = &forever_ops }, .st = st };
}

static enum ct_poll remote_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct tf_remote *r = (struct tf_remote *)f;
    atomic_fetch_add(&r->st->polls, 1);
    if (atomic_load(r->counter) < r->target) {
        ct_waker_slot_register(r->slot, cx->waker);
        if (atomic_load(r->counter) < r->target)
            return CT_PENDING;
    }
    atomic_fetch_add(&r->st->completions, 1);
    f->value = atomic_load(r->counter);
    return CT_READY;
}

static void remote_drop(struct ct_future *f)
{
    atomic_fetch_add(&((struct tf_remote *)f)->st->drops, 1);
}

static const struct ct_future_ops remote_ops = { "tf_remote", remote_poll, remote_drop };

void tf_remote_init(struct tf_remote *f, atomic_int *counter, int target,
                    struct ct_waker_slot *slot, struct tf_stats *st)
{
    *f = (struct tf_remote){ .base = { .ops = &remote_ops }, .counter = counter,
                             .target = target, .slot = slot, .st = st };
}

static void tw_clone(void *p)
{
    atomic_fetch_add(&((struct tf_waker *)p)->refs, 1);
}

static void tw_wake(void *p)
{
    atomic_fetch_add(&((struct tf_waker *)p)->wakes, 1);
}

static void tw_drop(void *p)
{
    atomic_fetch_sub(&((struct tf_waker *)p)->refs, 1);
}

static const struct ct_waker_ops tw_ops = { tw_clone, tw_wake, tw_drop };

void tf_waker_init(struct tf_waker *w)
{
    atomic_init(&w->wakes, 0);
    atomic_init(&w->refs, 0);
    w->waker = (struct ct_waker){ &tw_ops, w };
    w->cx = (struct ct_cx){ .waker = &w->waker, .worker = -1 };
}

int tf_block_on(struct ct_exec *ex, struct ct_future *f, double seconds)
{
    struct ct_timeout t;
    ct_timeout_init(&t, f, (int64_t)(seconds * 1e9));
    int rc = ct_block_on(ex, &t.base);
    ct_future_drop(&t.base);
    /* the deadline won (not: the future itself failed with ETIMEDOUT) */
    if (rc == 0 && t.race.winner == 1)
        return -ETIMEDOUT;
    return rc;
}

struct ct_exec *tf_exec(enum ct_exec_flavor flavor, int workers)
{
    struct ct_exec *ex = NULL;
    struct ct_exec_config cfg = { .flavor = flavor, .workers = workers };
    if (ct_exec_new(&ex, &cfg) != 0)
        abort();
    return ex;
}
