/* chan-zero.c - the rendezvous channel (capacity 0).
 *
 * Nothing is buffered: a sender and a receiver meet under a mutex;
 * whichever comes first waits in a queue with a pointer to its own buffer,
 * and the second copies straight from or into it (after dropping the
 * mutex), then tells the first it is done.
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "chan-impl.h"
#include "clock.h"
#include "wait.h"

static void waitq_push(struct waitq *q, struct waiter *w)
{
    w->next = NULL;
    if (q->last)
        q->last->next = w;
    else
        q->first = w;
    q->last = w;
}

static struct waiter *waitq_pop(struct waitq *q)
{
    struct waiter *w = q->first;
    if (w) {
        q->first = w->next;
        if (!q->first)
            q->last = NULL;
    }
    return w;
}

static void waitq_remove(struct waitq *q, struct waiter *w)
{
    struct waiter *prev = NULL;
    for (struct waiter *p = q->first; p; prev = p, p = p->next) {
        if (p != w)
            continue;
        if (prev)
            prev->next = p->next;
        else
            q->first = p->next;
        if (q->last == p)
            q->last = prev;
        return;
    }
}

/* Wake every waiter of `q` with W_CLOSED; call with ch->mu held. */
void ct_chan_zero_close_queue(struct waitq *q)
{
    for (struct waiter *w; (w = waitq_pop(q));) {
        w->state = W_CLOSED;
        CT_PT(pthread_cond_signal(&w->cv));
    }
}

/* We popped `w` (state W_CLAIMED) with the mutex held and dropped it; copy
 * `n` bytes from `src` to `dst` (one of them is w's buffer) and tell it. */
static void hand_over(struct ct_chan *ch, struct waiter *w, void *dst, const void *src)
{
    memcpy(dst, src, ch->msg_size);
    CT_PT(pthread_mutex_lock(&ch->mu));
    w->state = W_DONE;
    CT_PT(pthread_cond_signal(&w->cv));
    CT_PT(pthread_mutex_unlock(&ch->mu));
}

/* Queue `me` on `q` and wait for a partner (ch->mu held on entry and on
 * return).  0 when the partner copied, -EPIPE when the other side left,
 * -ETIMEDOUT / -ECANCELED when we gave up before anyone claimed us. */
static int zero_wait(struct ct_chan *ch, struct waitq *q, struct waiter *me, int64_t deadline,
                     struct ct_event *cancel)
{
    int rc = ct_cond_init_monotonic(&me->cv);
    if (rc != 0)
        return rc;
    me->state = W_WAITING;
    waitq_push(q, me);
    for (;;) {
        if (me->state == W_DONE) {
            rc = 0;
            break;
        }
        if (me->state == W_CLOSED) {
            rc = -EPIPE;
            break;
        }
        int64_t now = ct_clock_ns();
        if (me->state == W_WAITING) {
            /* nobody has claimed us yet: we may still leave */
            rc = cancel && ct_event_is_set(cancel) ? -ECANCELED
                 : now >= deadline                ? -ETIMEDOUT
                                                  : 0;
            if (rc) {
                waitq_remove(q, me);
                break;
            }
        }
        /* once claimed we cannot back out: the partner is copying and will
         * signal, which takes as long as one memcpy */
        int64_t until = now + CT_WAIT_SLICE_NS;
        if (me->state == W_WAITING && deadline < until)
            until = deadline;
        struct timespec ts = { .tv_sec = (time_t)(until / CT_NS_PER_S),
                               .tv_nsec = (long)(until % CT_NS_PER_S) };
        int e = pthread_cond_timedwait(&me->cv, &ch->mu, &ts);
        if (e != ETIMEDOUT)
            CT_PT(e);
    }
    CT_PT(pthread_cond_destroy(&me->cv));
    return rc;
}

int ct_chan_zero_send(struct ct_chan *ch, void *msg, int64_t deadline, struct ct_event *cancel,
                     bool block)
{
    CT_PT(pthread_mutex_lock(&ch->mu));
    if (no_receivers(ch)) {
        CT_PT(pthread_mutex_unlock(&ch->mu));
        return -EPIPE;
    }
    struct waiter *r = waitq_pop(&ch->recvq);
    if (r) {
        r->state = W_CLAIMED;
        CT_PT(pthread_mutex_unlock(&ch->mu));
        hand_over(ch, r, r->buf, msg);
        return 0;
    }
    int rc = -EAGAIN;
    if (block) {
        struct waiter me = { .buf = msg };
        rc = zero_wait(ch, &ch->sendq, &me, deadline, cancel);
    }
    CT_PT(pthread_mutex_unlock(&ch->mu));
    return rc;
}

int ct_chan_zero_recv(struct ct_chan *ch, void *out, int64_t deadline, struct ct_event *cancel,
                     bool block)
{
    CT_PT(pthread_mutex_lock(&ch->mu));
    struct waiter *s = waitq_pop(&ch->sendq);
    if (s) {
        s->state = W_CLAIMED;
        CT_PT(pthread_mutex_unlock(&ch->mu));
        hand_over(ch, s, out, s->buf);
        return 0;
    }
    int rc = no_senders(ch) ? -EPIPE : -EAGAIN;
    if (rc == -EAGAIN && block) {
        struct waiter me = { .buf = out };
        rc = zero_wait(ch, &ch->recvq, &me, deadline, cancel);
    }
    CT_PT(pthread_mutex_unlock(&ch->mu));
    return rc;
}

