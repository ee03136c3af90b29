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

void ct_park_init(struct ct_park *p)
{
    atomic_init(&p->word, 0);
    atomic_init(&p->sleepers, 0);
}

uint32_t ct_park_prepare(struct ct_park *p)
{
    /* seq_cst: this increment and the caller's second look at its
     * condition pair with the notifier's write and its sleepers load */
    atomic_fetch_add_explicit(&p->sleepers, 1, memory_order_seq_cst);
    return atomic_load_explicit(&p->word, memory_order_seq_cst);
}

void ct_park_abort(struct ct_park *p)
{
    atomic_fetch_sub_explicit(&p->sleepers, 1, memory_order_seq_cst);
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
        int e = futex(&p->word, FUTEX_WAIT_PRIVATE, key, tsp);
        if (e == 0)
            break;      /* woken (or spuriously: the caller re-checks) */
        /* EAGAIN: the word moved; ETIMEDOUT: a slice ended; EINTR: a
         * signal.  The top of the loop sorts them out. */
    }
    atomic_fetch_sub_explicit(&p->sleepers, 1, memory_order_seq_cst);
    return rc;
}

/* The slow path: someone may be asleep.  Moving the word makes every
 * sleeper that has not reached the kernel yet return at once. */
static void wake(struct ct_park *p, int n)
{
    atomic_fetch_add_explicit(&p->word, 1, memory_order_seq_cst);
    futex(&p->word, FUTEX_WAKE_PRIVATE, (uint32_t)n, NULL);
}

void ct_park_notify_one(struct ct_park *p)
{
    if (atomic_load_explicit(&p->sleepers, memory_order_seq_cst) != 0)
        wake(p, 1);
}

void ct_park_notify_all(struct ct_park *p)
{
    if (atomic_load_explicit(&p->sleepers, memory_order_seq_cst) != 0)
        wake(p, INT_MAX);
}
