/* reactor.c - see reactor.h. */
#include "reactor.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "check.h"
#include "clock.h"

#define FIRE_BATCH 64               /* wakers collected per pass under the lock */

int ct_reactor_init(struct ct_reactor *r)
{
    *r = (struct ct_reactor){ .epfd = -1, .timerfd = -1, .eventfd = -1 };
    int rc = -pthread_mutex_init(&r->mu, NULL);
    if (rc)
        return rc;
    r->epfd = epoll_create1(EPOLL_CLOEXEC);
    r->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    r->eventfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (r->epfd < 0 || r->timerfd < 0 || r->eventfd < 0) {
        rc = -errno;
        goto fail;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = r->timerfd };
    if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->timerfd, &ev) != 0) {
        rc = -errno;
        goto fail;
    }
    ev.data.fd = r->eventfd;
    if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->eventfd, &ev) != 0) {
        rc = -errno;
        goto fail;
    }
    return 0;
fail:
    if (r->epfd >= 0)
        close(r->epfd);
    if (r->timerfd >= 0)
        close(r->timerfd);
    if (r->eventfd >= 0)
        close(r->eventfd);
    CT_PT(pthread_mutex_destroy(&r->mu));
    return rc;
}

void ct_reactor_destroy(struct ct_reactor *r)
{
    for (size_t i = 1; i <= r->n; i++) {
        r->heap[i]->heap_index = 0;
        r->heap[i]->reactor = NULL;
        ct_waker_drop(&r->heap[i]->waker);
    }
    free(r->heap);
    close(r->epfd);
    close(r->timerfd);
    close(r->eventfd);
    CT_PT(pthread_mutex_destroy(&r->mu));
}

/* ---- the heap (call with mu held) ----------------------------------------- */

static void heap_set(struct ct_reactor *r, size_t i, struct ct_timer *t)
{
    r->heap[i] = t;
    t->heap_index = i;
}

static void sift_up(struct ct_reactor *r, size_t i)
{
    struct ct_timer *t = r->heap[i];
    while (i > 1 && r->heap[i / 2]->deadline > t->deadline) {
        heap_set(r, i, r->heap[i / 2]);
        i /= 2;
    }
    heap_set(r, i, t);
}

static void sift_down(struct ct_reactor *r, size_t i)
{
    struct ct_timer *t = r->heap[i];
    for (;;) {
        size_t c = 2 * i;
        if (c > r->n)
            break;
        if (c < r->n && r->heap[c + 1]->deadline < r->heap[c]->deadline)
            c++;
        if (r->heap[c]->deadline >= t->deadline)
            break;
        heap_set(r, i, r->heap[c]);
        i = c;
    }
    heap_set(r, i, t);
}

static void heap_remove(struct ct_reactor *r, struct ct_timer *t)
{
    size_t i = t->heap_index;
    struct ct_timer *last = r->heap[r->n--];
    t->heap_index = 0;
    if (last != t) {
        heap_set(r, i, last);
        sift_up(r, i);
        sift_down(r, last->heap_index);
    }
}

/* Point the timerfd at the earliest deadline (or disarm it). */
static void rearm(struct ct_reactor *r)
{
    int64_t want = r->n ? r->heap[1]->deadline : 0;
    if (want == r->armed)
        return;
    struct itimerspec its = { 0 };
    if (want) {
        /* a deadline already past still has to fire: 1 ns is "at once" */
        int64_t at = want > 0 ? want : 1;
        its.it_value.tv_sec = (time_t)(at / CT_NS_PER_S);
        its.it_value.tv_nsec = (long)(at % CT_NS_PER_S);
    }
    if (timerfd_settime(r->timerfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
        r->armed = want;
}

/* ---- timers ------------------------------------------------------------- */

int ct_reactor_timer_arm(struct ct_reactor *r, struct ct_timer *t,
                         int64_t deadline, const struct ct_waker *w)
{
    struct ct_waker old = { 0 };
    int rc = 0;
    CT_PT(pthread_mutex_lock(&r->mu));
    if (t->heap_index) {
        if (!ct_waker_same(&t->waker, w)) {
            old = t->waker;
            t->waker = ct_waker_clone(w);
        }
        if (t->deadline != deadline) {
            t->deadline = deadline;
            sift_up(r, t->heap_index);
            sift_down(r, t->heap_index);
        }
    } else {
        if (r->n + 1 >= r->cap) {
            size_t cap = r->cap ? r->cap * 2 : 64;
            struct ct_timer **h = realloc(r->heap, cap * sizeof *h);
            if (!h) {
                rc = -ENOMEM;
                goto out;
            }
            r->heap = h;
            r->cap = cap;
        }
        t->deadline = deadline;
        t->waker = ct_waker_clone(w);
        t->reactor = r;
        r->heap[++r->n] = t;
        sift_up(r, r->n);
    }
    rearm(r);
out:
    CT_PT(pthread_mutex_unlock(&r->mu));
    ct_waker_drop(&old);
    return rc;
}

bool ct_reactor_timer_cancel(struct ct_timer *t)
{
    struct ct_reactor *r = t->reactor;
    if (!r)
        return false;
    struct ct_waker old = { 0 };
    bool was = false;
    CT_PT(pthread_mutex_lock(&r->mu));
    if (t->heap_index) {
        heap_remove(r, t);
        old = t->waker;
        t->waker = (struct ct_waker){ 0 };
        was = true;
        rearm(r);
    }
    t->reactor = NULL;
    CT_PT(pthread_mutex_unlock(&r->mu));
    ct_waker_drop(&old);
    return was;
}

size_t ct_reactor_pending(struct ct_reactor *r)
{
    CT_PT(pthread_mutex_lock(&r->mu));
    size_t n = r->n;
    CT_PT(pthread_mutex_unlock(&r->mu));
    return n;
}

/* ---- the loop ----------------------------------------------------------- */

/* Take the due timers' wakers out under the lock, wake them outside it (a
 * wake-up may take the executor's locks, and a waker drop may free a task
 * whose future holds one of these timers). */
static int fire_due(struct ct_reactor *r)
{
    int total = 0;
    for (;;) {
        struct ct_waker due[FIRE_BATCH];
        int n = 0;
        int64_t now = ct_clock_ns();
        CT_PT(pthread_mutex_lock(&r->mu));
        while (n < FIRE_BATCH && r->n && r->heap[1]->deadline <= now) {
            struct ct_timer *t = r->heap[1];
            heap_remove(r, t);
            due[n++] = t->waker;
            t->waker = (struct ct_waker){ 0 };
        }
        r->fired += (uint64_t)n;
        bool more = n == FIRE_BATCH;
        if (!more)
            rearm(r);
        CT_PT(pthread_mutex_unlock(&r->mu));
        for (int i = 0; i < n; i++) {
            ct_waker_wake(&due[i]);
            ct_waker_drop(&due[i]);
        }
        total += n;
        if (!more)
            return total;
    }
}

int ct_reactor_turn(struct ct_reactor *r, int64_t timeout_ns)
{
    struct epoll_event evs[4];
    int ms = timeout_ns < 0 ? -1 : (int)((timeout_ns + CT_NS_PER_MS - 1) / CT_NS_PER_MS);
    int n = epoll_wait(r->epfd, evs, 4, ms);
    if (n < 0 && errno != EINTR)
        return -errno;
    for (int i = 0; i < n; i++) {
        uint64_t v;
        /* both are non-blocking: reading just resets them */
        if (read(evs[i].data.fd, &v, sizeof v) < 0 && errno != EAGAIN)
            return -errno;
        if (evs[i].data.fd == r->timerfd) {
            /* the kernel disarmed it when it expired */
            CT_PT(pthread_mutex_lock(&r->mu));
            r->armed = 0;
            CT_PT(pthread_mutex_unlock(&r->mu));
        }
    }
    return fire_due(r);
}

void ct_reactor_unpark(struct ct_reactor *r)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is already non-zero: a wake-up is pending */
    ssize_t w = write(r->eventfd, &one, sizeof one);
    (void)w;
}
