/* spinlock.c - see spinlock.h. */
#include "spinlock.h"

#include <errno.h>

#include "backoff.h"
#include "clock.h"
#include "wait.h"

/* Failed attempts between looks at the clock and the cancel event: rare
 * enough to cost nothing, frequent enough to stop within microseconds
 * (once the backoff yields, each attempt takes a sched_yield). */
#define CHECK_EVERY 64

void ct_spin_init(struct ct_spinlock *s)
{
    atomic_init(&s->locked, false);
}

void ct_spin_destroy(struct ct_spinlock *s)
{
    (void)s;
}

/* Test (a load, which leaves the cache line shared), and only if the
 * lock looks free, test-and-set (an exchange, which takes the line). */
bool ct_spin_try_lock(struct ct_spinlock *s)
{
    /* acquire: the holder's critical section starts after this */
    return !atomic_load_explicit(&s->locked, memory_order_relaxed) &&
           !atomic_exchange_explicit(&s->locked, true, memory_order_acquire);
}

int ct_spin_lock_timeout(struct ct_spinlock *s, int64_t timeout_ns,
                       struct ct_event *cancel)
{
    if (ct_spin_try_lock(s))
        return 0;
    int64_t deadline = ct_deadline_after(timeout_ns);
    struct ct_backoff b = CT_BACKOFF_INIT;
    for (unsigned tries = 1;; tries++) {
        ct_backoff_snooze(&b);
        if (ct_spin_try_lock(s))
            return 0;
        if (tries % CHECK_EVERY == 0) {
            if (cancel && ct_event_is_set(cancel))
                return -ECANCELED;
            if (deadline != CT_FOREVER && ct_clock_ns() >= deadline)
                return -ETIMEDOUT;
        }
    }
}

int ct_spin_lock(struct ct_spinlock *s, struct ct_event *cancel)
{
    return ct_spin_lock_timeout(s, -1, cancel);
}

void ct_spin_unlock(struct ct_spinlock *s)
{
    atomic_store_explicit(&s->locked, false, memory_order_release);
}
