/* park.c - see park.h. */
#include "park.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#ifndef __linux__
#error "park.c parks threads with futex(2), which only Linux has"
#endif

/* futex(2) has no glibc wrapper.  Returns 0 or an errno value. */
static int futex(_Atomic uint32_t *word, int op, uint32_t val, const struct timespec *ts)
{
    long rc = syscall(SYS_futex, (uint32_t *)word, op, val, ts, NULL, 0);
    return rc < 0 ? errno : 0;
}

#define SLEEPER (UINT64_C(1) << 32)
#define WOKEN_MASK (SLEEPER - 1)

void ct_park_init(struct ct_park *p)
{
    atomic_init(&p->word, 0);
    atomic_init(&p->state, 0);
    atomic_init(&p->sleeps, 0);
    atomic_init(&p->wakes, 0);
}

uint32_t ct_park_prepare(struct ct_park *p)
{
    /* The key first, then the count.  A notify that counts us (and so
     * claims a wake-up for us) bumps the word after it has counted us, so
     * our key is then out of date and our wait returns at once: the
     * wake-up reaches us.  Read the other way round, a notify could count
     * us and bump the word before we read it; we would then sleep on the
     * new word, with a wake-up recorded as on its way that never comes,
     * and every later notify would skip us (a sleeper looks woken while
     * woken >= sleepers).  With competing waiters that hung a channel: a
     * sender asleep on a free slot, the receiver asleep on an empty queue.
     * seq_cst: the increment and the caller's second look at its condition
     * pair with the notifier's write and its load of the counts. */
    uint32_t key = atomic_load_explicit(&p->word, memory_order_seq_cst);
    atomic_fetch_add_explicit(&p->state, SLEEPER, memory_order_seq_cst);
    return key;
}

/* Leave the sleepers, taking one pending wake-up with us if there is one
 * (it may have been meant for us, or for a sleeper that the word's change
 * lets go anyway: counting too few pending wake-ups only costs a spare
 * system call later, too many would lose one). */
static void leave(struct ct_park *p)
{
    uint64_t s = atomic_load_explicit(&p->state, memory_order_seq_cst), n;
    do
        n = s - SLEEPER - ((s & WOKEN_MASK) != 0);
    while (!atomic_compare_exchange_weak_explicit(&p->state, &s, n, memory_order_seq_cst,
                                                  memory_order_seq_cst));
}

void ct_park_abort(struct ct_park *p)
{
    leave(p);
}

int ct_park_wait(struct ct_park *p, uint32_t key, int64_t deadline_ns,
                 struct ct_event *cancel)
{
    int rc = 0;
    for (;;) {
        if (atomic_load_explicit(&p->word, memory_order_acquire) != key)
            break;      /* notified since prepare */
        if (cancel && ct_event_is_set(cancel)) {
            rc = -ECANCELED;
            break;
        }
        struct timespec ts, *tsp = NULL;
        if (deadline_ns != CT_FOREVER || cancel) {
            /* with a cancel event, sleep one slice at a time */
            int64_t left = cancel ? ct_slice_ns(deadline_ns) : deadline_ns - ct_clock_ns();
            if (left <= 0) {
                rc = -ETIMEDOUT;
                break;
            }
            ts.tv_sec = (time_t)(left / CT_NS_PER_S);
            ts.tv_nsec = (long)(left % CT_NS_PER_S);
            tsp = &ts;
        }
        /* sleeps only if the word still equals key: a notify between our
         * check and this call makes it return EAGAIN at once */
        atomic_fetch_add_explicit(&p->sleeps, 1, memory_order_relaxed);
        int e = futex(&p->word, FUTEX_WAIT_PRIVATE, key, tsp);
        if (e == 0)
            break;      /* woken (or spuriously: the caller re-checks) */
        /* A slice ended: let the caller look at its condition again.  If
         * a wake-up was ever lost (as one was, see ct_park_prepare), a
         * waiter with a cancel event then stalls for a slice instead of
         * sleeping for ever. */
        if (e == ETIMEDOUT && cancel)
            break;
        /* EAGAIN: the word moved; ETIMEDOUT: the deadline passed; EINTR: a
         * signal.  The top of the loop sorts them out. */
    }
    leave(p);
    return rc;
}

int ct_futex_wait(_Atomic uint32_t *word, uint32_t val, int64_t deadline_ns, bool sliced)
{
    struct timespec ts, *tsp = NULL;
    if (deadline_ns != CT_FOREVER || sliced) {
        int64_t left = sliced ? ct_slice_ns(deadline_ns) : deadline_ns - ct_clock_ns();
        if (left <= 0)
            return -ETIMEDOUT;
        ts.tv_sec = (time_t)(left / CT_NS_PER_S);
        ts.tv_nsec = (long)(left % CT_NS_PER_S);
        tsp = &ts;
    }
    futex(word, FUTEX_WAIT_PRIVATE, val, tsp);
    return 0;
}

void ct_futex_wake(_Atomic uint32_t *word, int n)
{
    futex(word, FUTEX_WAKE_PRIVATE, (uint32_t)n, NULL);
}

/* Claim wake-ups for up to `n` sleepers that have none on the way yet;
 * false if every sleeper already has one (or nobody sleeps). */
static bool claim(struct ct_park *p, uint64_t n)
{
    uint64_t s = atomic_load_explicit(&p->state, memory_order_seq_cst);
    for (;;) {
        uint64_t sleepers = s >> 32, woken = s & WOKEN_MASK;
        if (woken >= sleepers)
            return false;
        uint64_t more = sleepers - woken < n ? sleepers - woken : n;
        if (atomic_compare_exchange_weak_explicit(&p->state, &s, s + more, memory_order_seq_cst,
                                                  memory_order_seq_cst))
            return true;
    }
}

/* Someone may be asleep.  Moving the word makes every sleeper that has not
 * reached the kernel yet return at once. */
static void wake(struct ct_park *p, uint64_t n)
{
    if (!claim(p, n))
        return;
    atomic_fetch_add_explicit(&p->word, 1, memory_order_seq_cst);
    atomic_fetch_add_explicit(&p->wakes, 1, memory_order_relaxed);
    futex(&p->word, FUTEX_WAKE_PRIVATE, n > INT_MAX ? INT_MAX : (uint32_t)n, NULL);
}

/* The fast path: a sleeper without a wake-up on its way? */
static bool someone_to_wake(struct ct_park *p)
{
    uint64_t s = atomic_load_explicit(&p->state, memory_order_seq_cst);
    return (s >> 32) > (s & WOKEN_MASK);
}

void ct_park_notify_one(struct ct_park *p)
{
    if (someone_to_wake(p))
        wake(p, 1);
}

void ct_park_notify_all(struct ct_park *p)
{
    if (someone_to_wake(p))
        wake(p, UINT32_MAX);
}
