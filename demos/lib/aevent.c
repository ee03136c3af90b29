/* aevent.c - see aevent.h. */
#include "aevent.h"

#include "check.h"

int ct_aevent_init(struct ct_aevent *e)
{
    atomic_init(&e->set, false);
    e->head = NULL;
    return -pthread_mutex_init(&e->mu, NULL);
}

void ct_aevent_destroy(struct ct_aevent *e)
{
    CT_PT(pthread_mutex_destroy(&e->mu));
}

bool ct_aevent_is_set(struct ct_aevent *e)
{
    return atomic_load_explicit(&e->set, memory_order_acquire);
}

void ct_aevent_set(struct ct_aevent *e)
{
    CT_PT(pthread_mutex_lock(&e->mu));
    atomic_store_explicit(&e->set, true, memory_order_release);
    /* waking under the lock keeps each node alive while we use it (a
     * waiter's drop takes this lock to unlink); a wake only queues a task */
    for (struct ct_aevent_node *n = e->head; n; n = n->next) {
        n->queued = false;
        ct_waker_wake(&n->waker);
        ct_waker_drop(&n->waker);
    }
    e->head = NULL;
    CT_PT(pthread_mutex_unlock(&e->mu));
}

static void unlink_node(struct ct_aevent *e, struct ct_aevent_node *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        e->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    n->queued = false;
}

static enum ct_poll wait_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct ct_aevent_wait *w = (struct ct_aevent_wait *)f;
    struct ct_aevent *e = w->ev;
    if (ct_aevent_is_set(e))
        return CT_READY;
    struct ct_waker old = { 0 };
    CT_PT(pthread_mutex_lock(&e->mu));
    bool ready = atomic_load_explicit(&e->set, memory_order_relaxed);
    if (!ready) {
        if (!w->node.queued) {
            w->node.prev = NULL;
            w->node.next = e->head;
            if (e->head)
                e->head->prev = &w->node;
            e->head = &w->node;
            w->node.queued = true;
            w->node.waker = ct_waker_clone(cx->waker);
        } else if (!ct_waker_same(&w->node.waker, cx->waker)) {
            old = w->node.waker;
            w->node.waker = ct_waker_clone(cx->waker);
        }
    }
    CT_PT(pthread_mutex_unlock(&e->mu));
    ct_waker_drop(&old);
    return ready ? CT_READY : CT_PENDING;
}

static void wait_drop(struct ct_future *f)
{
    struct ct_aevent_wait *w = (struct ct_aevent_wait *)f;
    struct ct_waker old = { 0 };
    CT_PT(pthread_mutex_lock(&w->ev->mu));
    if (w->node.queued) {
        unlink_node(w->ev, &w->node);
        old = w->node.waker;
        w->node.waker = (struct ct_waker){ 0 };
    }
    CT_PT(pthread_mutex_unlock(&w->ev->mu));
    ct_waker_drop(&old);
}

static const struct ct_future_ops wait_ops = { "aevent wait", wait_poll, wait_drop };

void ct_aevent_wait_init(struct ct_aevent_wait *w, struct ct_aevent *ev)
{
    *w = (struct ct_aevent_wait){ .base = { .ops = &wait_ops }, .ev = ev };
}
