/* combinators.c - see combinators.h. */
#include "combinators.h"

#include <errno.h>

/* ---- join ---------------------------------------------------------------- */

static enum ct_poll join_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct ct_join *j = (struct ct_join *)f;
    for (size_t i = 0; i < j->n; i++) {
        struct ct_future *c = j->futs[i];
        if (!c->ops)
            continue;           /* finished (and dropped) earlier */
        if (ct_future_poll(c, cx) == CT_READY) {
            ct_future_drop(c);
            j->left--;
        }
    }
    if (j->left > 0)
        return CT_PENDING;
    f->value = (intptr_t)j->n;
    f->error = 0;
    for (size_t i = 0; i < j->n && !f->error; i++)
        f->error = j->futs[i]->error;
    return CT_READY;
}

static void join_drop(struct ct_future *f)
{
    struct ct_join *j = (struct ct_join *)f;
    for (size_t i = 0; i < j->n; i++)
        ct_future_drop(j->futs[i]);
}

static const struct ct_future_ops join_ops = { "join", join_poll, join_drop };

void ct_join_init(struct ct_join *j, struct ct_future **futs, size_t n)
{
    *j = (struct ct_join){ .base = { .ops = &join_ops }, .futs = futs, .n = n, .left = n };
}

/* ---- select -------------------------------------------------------------- */

static void select_drop(struct ct_future *f)
{
    struct ct_select *s = (struct ct_select *)f;
    for (size_t i = 0; i < s->n; i++)
        ct_future_drop(s->futs[i]);
}

static enum ct_poll select_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct ct_select *s = (struct ct_select *)f;
    for (size_t i = 0; i < s->n; i++) {
        if (ct_future_poll(s->futs[i], cx) == CT_PENDING)
            continue;
        s->winner = (int)i;
        f->value = s->futs[i]->value;
        f->error = s->futs[i]->error;
        /* the losers are cancelled now, not whenever the select is dropped */
        select_drop(f);
        return CT_READY;
    }
    return CT_PENDING;
}

static const struct ct_future_ops select_ops = { "select", select_poll, select_drop };

void ct_select_init(struct ct_select *s, struct ct_future **futs, size_t n)
{
    *s = (struct ct_select){ .base = { .ops = &select_ops }, .futs = futs, .n = n,
                             .winner = -1 };
}

/* ---- timeout ------------------------------------------------------------- */

static enum ct_poll timeout_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct ct_timeout *t = (struct ct_timeout *)f;
    if (t->pc == 0) {
        /* the first poll: we no longer move, so point at our own members */
        t->arms[0] = t->inner;
        t->arms[1] = &t->sleep.base;
        ct_select_init(&t->race, t->arms, 2);
        t->pc = 1;
    }
    if (ct_future_poll(&t->race.base, cx) == CT_PENDING)
        return CT_PENDING;
    if (t->race.winner == 0) {
        f->value = t->race.base.value;
        f->error = t->race.base.error;
    } else {
        f->value = 0;
        f->error = -ETIMEDOUT;
    }
    ct_future_drop(&t->race.base);
    return CT_READY;
}

static void timeout_drop(struct ct_future *f)
{
    struct ct_timeout *t = (struct ct_timeout *)f;
    if (t->pc == 0) {
        /* never polled: the race was never set up */
        ct_future_drop(t->inner);
        ct_future_drop(&t->sleep.base);
    } else {
        ct_future_drop(&t->race.base);
    }
}

static const struct ct_future_ops timeout_ops = { "timeout", timeout_poll, timeout_drop };

void ct_timeout_init(struct ct_timeout *t, struct ct_future *inner, int64_t ns)
{
    *t = (struct ct_timeout){ .base = { .ops = &timeout_ops }, .inner = inner };
    ct_sleep_init(&t->sleep, ns);
}
