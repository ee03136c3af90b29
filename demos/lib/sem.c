/* sem.c - see sem.h. */
#include "sem.h"

#include <errno.h>

#include "check.h"
#include "wait.h"

int ct_sem_init(struct ct_semaphore *s, long permits)
{
    if (permits < 0)
        return -EINVAL;
    *s = (struct ct_semaphore){ .permits = permits, .limit = permits };
    return -pthread_mutex_init(&s->mu, NULL);
}

void ct_sem_destroy(struct ct_semaphore *s)
{
    CT_PT(pthread_mutex_destroy(&s->mu));
}

/* With mu held: one more permit is in a holder's hands. */
static void took(struct ct_semaphore *s, bool waited)
{
    s->acquired++;
    s->waited += waited;
    /* a handed-over permit never comes back to `permits`, so in use is
     * always limit - permits */
    if (s->limit - s->permits > s->max_in_use)
        s->max_in_use = s->limit - s->permits;
}

/* With mu held: a free permit for a newcomer?  Not while anyone queues. */
static bool take_free(struct ct_semaphore *s)
{
    if (s->permits == 0 || s->head)
        return false;
    s->permits--;
    return true;
}

static void enqueue(struct ct_semaphore *s, struct ct_sem_waiter *w)
{
    w->prev = s->tail;
    w->next = NULL;
    if (s->tail)
        s->tail->next = w;
    else
        s->head = w;
    s->tail = w;
    w->queued = true;
    s->waiting++;
}

static void unlink_waiter(struct ct_semaphore *s, struct ct_sem_waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        s->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        s->tail = w->prev;
    w->prev = w->next = NULL;
    w->queued = false;
    s->waiting--;
}

/* With mu held: give a permit to the first waiter, or make it free.  A
 * thread waiter is signalled here (under mu, so its condition variable
 * cannot be gone yet); a task's waker is returned, to wake with mu
 * released. */
static struct ct_waker hand_over(struct ct_semaphore *s)
{
    struct ct_sem_waiter *w = s->head;
    if (!w) {
        s->permits++;
        return (struct ct_waker){ 0 };
    }
    unlink_waiter(s, w);
    w->granted = true;
    if (w->cv)
        CT_PT(pthread_cond_signal(w->cv));
    struct ct_waker k = w->waker;
    w->waker = (struct ct_waker){ 0 };
    return k;
}

static void wake_and_drop(struct ct_waker *k)
{
    ct_waker_wake(k);
    ct_waker_drop(k);
}

void ct_sem_release(struct ct_semaphore *s)
{
    CT_PT(pthread_mutex_lock(&s->mu));
    struct ct_waker k = hand_over(s);
    CT_PT(pthread_mutex_unlock(&s->mu));
    wake_and_drop(&k);
}

bool ct_sem_try_acquire(struct ct_semaphore *s)
{
    CT_PT(pthread_mutex_lock(&s->mu));
    bool ok = take_free(s);
    if (ok)
        took(s, false);
    CT_PT(pthread_mutex_unlock(&s->mu));
    return ok;
}

/* With mu held and `w` queued: wait until granted, the deadline or cancel.
 * Returns 0 when granted, else -ETIMEDOUT / -ECANCELED with `w` unlinked. */
static int wait_granted(struct ct_semaphore *s, struct ct_sem_waiter *w, int64_t deadline,
                        struct ct_event *cancel)
{
    while (!w->granted) {
        int rc = ct_cond_wait_bounded(w->cv, &s->mu, deadline, cancel);
        if (rc != 0 && !w->granted) {
            unlink_waiter(s, w);
            if (rc == -ECANCELED)
                s->cancelled++;
            else
                s->timed_out++;
            return rc == -ECANCELED ? rc : -ETIMEDOUT;
        }
    }
    return 0;
}

int ct_sem_acquire_timeout(struct ct_semaphore *s, int64_t timeout_ns,
                           struct ct_event *cancel)
{
    int64_t deadline = ct_deadline_after(timeout_ns);
    CT_PT(pthread_mutex_lock(&s->mu));
    if (take_free(s)) {
        took(s, false);
        CT_PT(pthread_mutex_unlock(&s->mu));
        return 0;
    }
    if (timeout_ns == 0) {
        s->timed_out++;
        CT_PT(pthread_mutex_unlock(&s->mu));
        return -ETIMEDOUT;
    }
    pthread_cond_t cv;
    int rc = ct_cond_init_monotonic(&cv);
    if (rc) {
        CT_PT(pthread_mutex_unlock(&s->mu));
        return rc;
    }
    struct ct_sem_waiter w = { .cv = &cv };
    enqueue(s, &w);
    rc = wait_granted(s, &w, deadline, cancel);
    if (rc == 0)
        took(s, true);
    CT_PT(pthread_mutex_unlock(&s->mu));
    /* hand_over signalled under mu, and we saw `granted` under mu since:
     * nobody touches cv any more */
    CT_PT(pthread_cond_destroy(&cv));
    return rc;
}

int ct_sem_acquire(struct ct_semaphore *s, struct ct_event *cancel)
{
    return ct_sem_acquire_timeout(s, -1, cancel);
}

long ct_sem_available(struct ct_semaphore *s)
{
    CT_PT(pthread_mutex_lock(&s->mu));
    long n = s->permits;
    CT_PT(pthread_mutex_unlock(&s->mu));
    return n;
}

int ct_sem_waiting(struct ct_semaphore *s)
{
    CT_PT(pthread_mutex_lock(&s->mu));
    int n = s->waiting;
    CT_PT(pthread_mutex_unlock(&s->mu));
    return n;
}

void ct_sem_get_stats(struct ct_semaphore *s, struct ct_sem_stats *st)
{
    CT_PT(pthread_mutex_lock(&s->mu));
    *st = (struct ct_sem_stats){ .limit = s->limit, .available = s->permits,
                                 .max_in_use = s->max_in_use, .waiting = s->waiting,
                                 .acquired = s->acquired, .waited = s->waited,
                                 .timed_out = s->timed_out, .cancelled = s->cancelled };
    CT_PT(pthread_mutex_unlock(&s->mu));
}

/* ---- the acquire future ------------------------------------------------- */

static enum ct_poll acquire_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct ct_sem_acquire *a = (struct ct_sem_acquire *)f;
    struct ct_semaphore *s = a->s;
    struct ct_waker old = { 0 };
    CT_PT(pthread_mutex_lock(&s->mu));
    if (a->w.granted) {
        a->acquired = true;
        took(s, true);
    } else if (!a->w.queued) {
        if (take_free(s)) {
            a->acquired = true;
            took(s, false);
        } else {
            a->w.waker = ct_waker_clone(cx->waker);
            enqueue(s, &a->w);
        }
    } else if (!ct_waker_same(&a->w.waker, cx->waker)) {
        /* polled from another task or worker since: wake that one */
        old = a->w.waker;
        a->w.waker = ct_waker_clone(cx->waker);
    }
    CT_PT(pthread_mutex_unlock(&s->mu));
    ct_waker_drop(&old);
    return a->acquired ? CT_READY : CT_PENDING;
}

static void acquire_drop(struct ct_future *f)
{
    struct ct_sem_acquire *a = (struct ct_sem_acquire *)f;
    struct ct_semaphore *s = a->s;
    struct ct_waker old = { 0 }, next = { 0 };
    CT_PT(pthread_mutex_lock(&s->mu));
    if (a->w.queued) {
        unlink_waiter(s, &a->w);
        s->cancelled++;
        old = a->w.waker;
        a->w.waker = (struct ct_waker){ 0 };
    } else if (a->w.granted && !a->acquired) {
        /* handed a permit, but cancelled before it noticed: pass it on */
        s->cancelled++;
        next = hand_over(s);
    }
    CT_PT(pthread_mutex_unlock(&s->mu));
    ct_waker_drop(&old);
    wake_and_drop(&next);
}

static const struct ct_future_ops acquire_ops = { "semaphore acquire", acquire_poll,
                                                  acquire_drop };

void ct_sem_acquire_init(struct ct_sem_acquire *a, struct ct_semaphore *s)
{
    *a = (struct ct_sem_acquire){ .base = { .ops = &acquire_ops }, .s = s };
}
