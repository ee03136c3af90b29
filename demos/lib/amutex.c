/* amutex.c - see amutex.h. */
#include "amutex.h"

#include "check.h"

int ct_amutex_init(struct ct_amutex *m)
{
    *m = (struct ct_amutex){ .locked = false };
    return -pthread_mutex_init(&m->mu, NULL);
}

void ct_amutex_destroy(struct ct_amutex *m)
{
    CT_PT(pthread_mutex_destroy(&m->mu));
}

bool ct_amutex_try_lock(struct ct_amutex *m)
{
    CT_PT(pthread_mutex_lock(&m->mu));
    bool ok = !m->locked && !m->head;
    if (ok)
        m->locked = true;
    CT_PT(pthread_mutex_unlock(&m->mu));
    return ok;
}

/* Call with mu held: give the mutex to the first waiter, or free it.
 * Returns the waker to call once mu is released. */
static struct ct_waker hand_over(struct ct_amutex *m)
{
    struct ct_amutex_waiter *w = m->head;
    if (!w) {
        m->locked = false;
        return (struct ct_waker){ 0 };
    }
    m->head = w->next;
    if (m->head)
        m->head->prev = NULL;
    else
        m->tail = NULL;
    w->queued = false;
    w->granted = true;          /* still locked: it is the waiter's now */
    struct ct_waker k = w->waker;
    w->waker = (struct ct_waker){ 0 };
    return k;
}

static void wake_and_drop(struct ct_waker *k)
{
    ct_waker_wake(k);
    ct_waker_drop(k);
}

void ct_amutex_unlock(struct ct_amutex *m)
{
    CT_PT(pthread_mutex_lock(&m->mu));
    struct ct_waker k = hand_over(m);
    CT_PT(pthread_mutex_unlock(&m->mu));
    wake_and_drop(&k);
}

static enum ct_poll lock_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct ct_amutex_lock *l = (struct ct_amutex_lock *)f;
    struct ct_amutex *m = l->m;
    struct ct_waker old = { 0 };
    CT_PT(pthread_mutex_lock(&m->mu));
    if (l->w.granted || (!l->w.queued && !m->locked && !m->head)) {
        m->locked = true;
        l->acquired = true;
    } else if (!l->w.queued) {
        /* to the back of the queue */
        l->w.prev = m->tail;
        l->w.next = NULL;
        if (m->tail)
            m->tail->next = &l->w;
        else
            m->head = &l->w;
        m->tail = &l->w;
        l->w.queued = true;
        l->w.waker = ct_waker_clone(cx->waker);
        m->contended++;
    } else if (!ct_waker_same(&l->w.waker, cx->waker)) {
        old = l->w.waker;
        l->w.waker = ct_waker_clone(cx->waker);
    }
    CT_PT(pthread_mutex_unlock(&m->mu));
    ct_waker_drop(&old);
    return l->acquired ? CT_READY : CT_PENDING;
}

static void lock_drop(struct ct_future *f)
{
    struct ct_amutex_lock *l = (struct ct_amutex_lock *)f;
    struct ct_amutex *m = l->m;
    struct ct_waker old = { 0 }, next = { 0 };
    CT_PT(pthread_mutex_lock(&m->mu));
    if (l->w.queued) {
        if (l->w.prev)
            l->w.prev->next = l->w.next;
        else
            m->head = l->w.next;
        if (l->w.next)
            l->w.next->prev = l->w.prev;
        else
            m->tail = l->w.prev;
        l->w.queued = false;
        old = l->w.waker;
        l->w.waker = (struct ct_waker){ 0 };
    } else if (l->w.granted && !l->acquired) {
        /* handed to us, but we are cancelled before we noticed: pass it on */
        next = hand_over(m);
    }
    CT_PT(pthread_mutex_unlock(&m->mu));
    ct_waker_drop(&old);
    wake_and_drop(&next);
}

static const struct ct_future_ops lock_ops = { "amutex lock", lock_poll, lock_drop };

void ct_amutex_lock_init(struct ct_amutex_lock *l, struct ct_amutex *m)
{
    *l = (struct ct_amutex_lock){ .base = { .ops = &lock_ops }, .m = m };
}
