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
#define EVENT_BATCH 64              /* epoll events taken per turn */

/* epoll tokens.  A registration's token is its slot's generation (never 0)
 * in the high half and its slot index in the low half; generation 0 names
 * the reactor's own two descriptors. */
#define TOKEN_TIMER  UINT64_C(0)
#define TOKEN_UNPARK UINT64_C(1)

/* One entry of the table epoll's tokens point into. */
struct ct_io_slot {
    struct ct_io *io;               /* NULL: free */
    uint32_t gen;                   /* bumped when freed: old tokens stop matching */
    uint32_t next_free;             /* free list link, index + 1 */
};

#define IO_READ_EVENTS  (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)
#define IO_WRITE_EVENTS (EPOLLOUT | EPOLLHUP | EPOLLERR)

int ct_reactor_init(struct ct_reactor *r)
{
    *r = (struct ct_reactor){ .epfd = -1, .timerfd = -1, .eventfd = -1 };
    int rc = -pthread_mutex_init(&r->mu, NULL);
    if (rc)
        return rc;
    rc = -pthread_mutex_init(&r->io_mu, NULL);
    if (rc) {
        CT_PT(pthread_mutex_destroy(&r->mu));
        return rc;
    }
    r->epfd = epoll_create1(EPOLL_CLOEXEC);
    r->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    r->eventfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (r->epfd < 0 || r->timerfd < 0 || r->eventfd < 0) {
        rc = -errno;
        goto fail;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TOKEN_TIMER };
    if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->timerfd, &ev) != 0) {
        rc = -errno;
        goto fail;
    }
    ev.data.u64 = TOKEN_UNPARK;
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
    CT_PT(pthread_mutex_destroy(&r->io_mu));
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
    for (uint32_t i = 0; i < r->nslots; i++) {
        struct ct_io *io = r->slots[i].io;
        if (!io)
            continue;
        io->slot = 0;
        ct_waker_drop(&io->waker[CT_IO_READ]);
        ct_waker_drop(&io->waker[CT_IO_WRITE]);
        atomic_store(&io->reactor, NULL);
    }
    free(r->slots);
    close(r->epfd);
    close(r->timerfd);
    close(r->eventfd);
    CT_PT(pthread_mutex_destroy(&r->io_mu));
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

/* ---- firing timers ------------------------------------------------------ */

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

/* ---- file descriptors --------------------------------------------------- */

void ct_io_init(struct ct_io *io, int fd)
{
    *io = (struct ct_io){ .fd = fd };
    atomic_init(&io->reactor, NULL);
    atomic_init(&io->ticks[CT_IO_READ], 0);
    atomic_init(&io->ticks[CT_IO_WRITE], 0);
}

unsigned ct_io_ticks(struct ct_io *io, enum ct_io_dir dir)
{
    /* pairs with the increment in dispatch_io: an event counted here
     * happened before the system call that follows */
    return atomic_load_explicit(&io->ticks[dir], memory_order_acquire);
}

static uint64_t slot_token(struct ct_reactor *r, uint32_t index)
{
    return (uint64_t)r->slots[index].gen << 32 | index;
}

/* Take a free slot for `io` and add its descriptor to epoll (io_mu held).
 * The slot is in place before epoll_ctl, so an event it reports at once
 * (the descriptor was ready already) finds it. */
static int io_add(struct ct_reactor *r, struct ct_io *io)
{
    if (!r->free_slot) {
        uint32_t n = r->nslots ? r->nslots * 2 : 64;
        struct ct_io_slot *s = realloc(r->slots, n * sizeof *s);
        if (!s)
            return -ENOMEM;
        for (uint32_t i = r->nslots; i < n; i++)
            s[i] = (struct ct_io_slot){ .gen = 1, .next_free = i + 1 < n ? i + 2 : 0 };
        r->slots = s;
        r->free_slot = r->nslots + 1;
        r->nslots = n;
    }
    uint32_t i = r->free_slot - 1;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                              .data.u64 = slot_token(r, i) };
    if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, io->fd, &ev) != 0)
        return -errno;
    r->free_slot = r->slots[i].next_free;
    r->slots[i].io = io;
    io->slot = i + 1;
    r->io_registered++;
    return 0;
}

/* Free `io`'s slot (io_mu held): its generation moves on, so a token still
 * on its way matches nothing. */
static void io_remove(struct ct_reactor *r, struct ct_io *io)
{
    uint32_t i = io->slot - 1;
    r->slots[i].io = NULL;
    r->slots[i].gen = r->slots[i].gen == UINT32_MAX ? 1 : r->slots[i].gen + 1;
    r->slots[i].next_free = r->free_slot;
    r->free_slot = i + 1;
    io->slot = 0;
    r->io_registered--;
}

/* Take the waker stored for `dir` out of `io` (io_mu held). */
static struct ct_waker io_take(struct ct_reactor *r, struct ct_io *io, enum ct_io_dir dir)
{
    struct ct_waker w = io->waker[dir];
    if (w.ops) {
        io->waker[dir] = (struct ct_waker){ 0 };
        r->io_waiting--;
    }
    return w;
}

int ct_io_wait(struct ct_io *io, enum ct_io_dir dir, unsigned seen, struct ct_cx *cx)
{
    struct ct_reactor *r = NULL;
    /* the first wait decides the reactor; any later one must agree */
    if (!atomic_compare_exchange_strong(&io->reactor, &r, cx->reactor) && r != cx->reactor)
        return -EXDEV;
    r = cx->reactor;
    struct ct_waker old = { 0 };
    int rc = 1;
    CT_PT(pthread_mutex_lock(&r->io_mu));
    if (!io->slot && (rc = io_add(r, io)) != 0)
        goto out;
    if (atomic_load_explicit(&io->ticks[dir], memory_order_relaxed) != seen) {
        rc = 0;                 /* an edge came since the caller looked: retry */
        goto out;
    }
    rc = 1;
    if (!io->waker[dir].ops) {
        io->waker[dir] = ct_waker_clone(cx->waker);
        r->io_waiting++;
    } else if (!ct_waker_same(&io->waker[dir], cx->waker)) {
        old = io->waker[dir];
        io->waker[dir] = ct_waker_clone(cx->waker);
    }
out:
    CT_PT(pthread_mutex_unlock(&r->io_mu));
    ct_waker_drop(&old);
    return rc;
}

void ct_io_cancel(struct ct_io *io, enum ct_io_dir dir)
{
    struct ct_reactor *r = atomic_load(&io->reactor);
    if (!r)
        return;
    CT_PT(pthread_mutex_lock(&r->io_mu));
    struct ct_waker w = io_take(r, io, dir);
    CT_PT(pthread_mutex_unlock(&r->io_mu));
    /* outside the lock: dropping the last reference may free a task */
    ct_waker_drop(&w);
}

void ct_io_deregister(struct ct_io *io)
{
    struct ct_reactor *r = atomic_load(&io->reactor);
    if (!r)
        return;
    struct ct_waker w[2] = { { 0 } };
    CT_PT(pthread_mutex_lock(&r->io_mu));
    if (io->slot) {
        /* fails only if the caller closed the descriptor first (a bug);
         * the slot goes anyway, so no event can reach `io` again */
        epoll_ctl(r->epfd, EPOLL_CTL_DEL, io->fd, NULL);
        io_remove(r, io);
    }
    w[0] = io_take(r, io, CT_IO_READ);
    w[1] = io_take(r, io, CT_IO_WRITE);
    atomic_store(&io->ticks[CT_IO_READ], 0);
    atomic_store(&io->ticks[CT_IO_WRITE], 0);
    atomic_store(&io->reactor, NULL);
    CT_PT(pthread_mutex_unlock(&r->io_mu));
    ct_waker_drop(&w[0]);
    ct_waker_drop(&w[1]);
}

size_t ct_reactor_io_registered(struct ct_reactor *r)
{
    CT_PT(pthread_mutex_lock(&r->io_mu));
    size_t n = r->io_registered;
    CT_PT(pthread_mutex_unlock(&r->io_mu));
    return n;
}

size_t ct_reactor_io_waiting(struct ct_reactor *r)
{
    CT_PT(pthread_mutex_lock(&r->io_mu));
    size_t n = r->io_waiting;
    CT_PT(pthread_mutex_unlock(&r->io_mu));
    return n;
}

uint64_t ct_reactor_io_woken(struct ct_reactor *r)
{
    CT_PT(pthread_mutex_lock(&r->io_mu));
    uint64_t n = r->io_woken;
    CT_PT(pthread_mutex_unlock(&r->io_mu));
    return n;
}

/* Count the events of a turn into their registrations and take out the
 * wakers they release (under io_mu); wake those outside it.  A token whose
 * generation no longer matches belongs to a registration that is gone. */
static int dispatch_io(struct ct_reactor *r, const struct epoll_event *evs, int n)
{
    struct ct_waker due[2 * EVENT_BATCH];
    int nd = 0;
    CT_PT(pthread_mutex_lock(&r->io_mu));
    for (int i = 0; i < n; i++) {
        uint64_t token = evs[i].data.u64;
        uint32_t index = (uint32_t)token, gen = (uint32_t)(token >> 32);
        if (gen == 0 || index >= r->nslots || r->slots[index].gen != gen || !r->slots[index].io)
            continue;
        struct ct_io *io = r->slots[index].io;
        if (evs[i].events & IO_READ_EVENTS) {
            atomic_fetch_add_explicit(&io->ticks[CT_IO_READ], 1, memory_order_release);
            if ((due[nd] = io_take(r, io, CT_IO_READ)).ops)
                nd++;
        }
        if (evs[i].events & IO_WRITE_EVENTS) {
            atomic_fetch_add_explicit(&io->ticks[CT_IO_WRITE], 1, memory_order_release);
            if ((due[nd] = io_take(r, io, CT_IO_WRITE)).ops)
                nd++;
        }
    }
    r->io_woken += (uint64_t)nd;
    CT_PT(pthread_mutex_unlock(&r->io_mu));
    for (int i = 0; i < nd; i++) {
        ct_waker_wake(&due[i]);
        ct_waker_drop(&due[i]);
    }
    return nd;
}

/* ---- the loop ----------------------------------------------------------- */

int ct_reactor_turn(struct ct_reactor *r, int64_t timeout_ns)
{
    struct epoll_event evs[EVENT_BATCH];
    int ms = timeout_ns < 0 ? -1 : (int)((timeout_ns + CT_NS_PER_MS - 1) / CT_NS_PER_MS);
    int n = epoll_wait(r->epfd, evs, EVENT_BATCH, ms);
    if (n < 0) {
        if (errno != EINTR)
            return -errno;
        n = 0;
    }
    if (r->turn_hook)
        r->turn_hook(r->turn_hook_arg);
    int nio = 0, err = 0;
    for (int i = 0; i < n; i++) {
        uint64_t v;
        if (evs[i].data.u64 == TOKEN_TIMER) {
            /* non-blocking: reading just resets it */
            if (read(r->timerfd, &v, sizeof v) < 0 && errno != EAGAIN)
                err = -errno;
            /* the kernel disarmed it when it expired */
            CT_PT(pthread_mutex_lock(&r->mu));
            r->armed = 0;
            CT_PT(pthread_mutex_unlock(&r->mu));
        } else if (evs[i].data.u64 == TOKEN_UNPARK) {
            if (read(r->eventfd, &v, sizeof v) < 0 && errno != EAGAIN)
                err = -errno;
        } else {
            nio++;
        }
    }
    /* whatever happened above, the edges taken out must be delivered:
     * epoll will not report them again */
    int woken = nio ? dispatch_io(r, evs, n) : 0;
    woken += fire_due(r);
    return err ? err : woken;
}

void ct_reactor_unpark(struct ct_reactor *r)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is already non-zero: a wake-up is pending */
    ssize_t w = write(r->eventfd, &one, sizeof one);
    (void)w;
}
