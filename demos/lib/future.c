/* future.c - see future.h. */
#include "future.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* ---- wakers ------------------------------------------------------------- */

struct ct_waker ct_waker_clone(const struct ct_waker *w)
{
    if (w->ops)
        w->ops->clone(w->data);
    return *w;
}

void ct_waker_wake(const struct ct_waker *w)
{
    if (w->ops)
        w->ops->wake(w->data);
}

void ct_waker_drop(struct ct_waker *w)
{
    if (w->ops)
        w->ops->drop(w->data);
    w->ops = NULL;
    w->data = NULL;
}

bool ct_waker_same(const struct ct_waker *a, const struct ct_waker *b)
{
    return a->ops == b->ops && a->data == b->data;
}

int ct_waker_slot_init(struct ct_waker_slot *s)
{
    s->w = (struct ct_waker){ 0 };
    return -pthread_mutex_init(&s->mu, NULL);
}

void ct_waker_slot_destroy(struct ct_waker_slot *s)
{
    ct_waker_drop(&s->w);
    CT_PT(pthread_mutex_destroy(&s->mu));
}

void ct_waker_slot_register(struct ct_waker_slot *s, const struct ct_waker *w)
{
    struct ct_waker old = { 0 };
    CT_PT(pthread_mutex_lock(&s->mu));
    if (!ct_waker_same(&s->w, w)) {
        old = s->w;
        s->w = ct_waker_clone(w);
    }
    CT_PT(pthread_mutex_unlock(&s->mu));
    ct_waker_drop(&old);        /* outside the lock: it may free a task */
}

bool ct_waker_slot_wake(struct ct_waker_slot *s)
{
    CT_PT(pthread_mutex_lock(&s->mu));
    struct ct_waker w = s->w;
    s->w = (struct ct_waker){ 0 };
    CT_PT(pthread_mutex_unlock(&s->mu));
    if (!w.ops)
        return false;
    ct_waker_wake(&w);
    ct_waker_drop(&w);
    return true;
}

/* ---- futures ------------------------------------------------------------ */

enum ct_poll ct_future_poll(struct ct_future *f, struct ct_cx *cx)
{
    if (!f->ops) {
        fprintf(stderr, "concur-tutor: bug: polled an empty or dropped future\n");
        abort();
    }
    return f->ops->poll(f, cx);
}

void ct_future_drop(struct ct_future *f)
{
    const struct ct_future_ops *ops = f->ops;
    /* marked first, so a drop that (indirectly) drops it again is a no-op */
    f->ops = NULL;
    if (ops && ops->drop)
        ops->drop(f);
}

/* ---- panics ------------------------------------------------------------- */

struct panic_frame {
    jmp_buf jb;
    char msg[200];
};

void ct_task_panic(struct ct_cx *cx, const char *fmt, ...)
{
    struct panic_frame *pf = cx->panic_;
    char msg[sizeof pf->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!pf) {
        fprintf(stderr, "concur-tutor: panic outside an executor: %s\n", msg);
        abort();
    }
    memcpy(pf->msg, msg, sizeof msg);
    longjmp(pf->jb, 1);
}

/* setjmp in a function of its own, with no locals changed after it: the
 * values the caller reads after a longjmp all live in *pf. */
static bool poll_guarded(struct ct_future *f, struct ct_cx *cx,
                         struct panic_frame *pf, enum ct_poll *out)
{
    if (setjmp(pf->jb) != 0)
        return false;
    *out = ct_future_poll(f, cx);
    return true;
}

enum ct_poll ct_future_poll_catch(struct ct_future *f, struct ct_cx *cx,
                                  bool *panicked, char *msg, size_t msglen)
{
    struct panic_frame pf;
    void *outer = cx->panic_;
    enum ct_poll r = CT_PENDING;
    cx->panic_ = &pf;
    bool ok = poll_guarded(f, cx, &pf, &r);
    cx->panic_ = outer;
    *panicked = !ok;
    if (ok)
        return r;
    if (msglen > 0)
        snprintf(msg, msglen, "%s", pf.msg);
    return CT_READY;
}

/* ---- yield -------------------------------------------------------------- */

static enum ct_poll yield_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct ct_yield *y = (struct ct_yield *)f;
    if (y->yielded)
        return CT_READY;
    y->yielded = true;
    ct_waker_wake(cx->waker);       /* runnable again at once, behind the others */
    return CT_PENDING;
}

static const struct ct_future_ops yield_ops = { "yield", yield_poll, NULL };

void ct_yield_init(struct ct_yield *y)
{
    *y = (struct ct_yield){ .base = { .ops = &yield_ops } };
}
