/* seqlock.c - see seqlock.h. */
#include "seqlock.h"

#include <errno.h>

#include "backoff.h"
#include "clock.h"
#include "wait.h"

/* Retries count as frequent after FREQUENT_STREAK in a row, each within
 * FREQUENT_WITHIN reads of the last; the reader then pauses BACKOFF_FIRST
 * times, doubling with each further one up to BACKOFF_MAX (tens of
 * microseconds to 0.2 ms at most, by CPU).  Measured in rwlock-bench on 2 CPUs, 2
 * threads, medians of 3 to 7 alternating rounds against the same code
 * without it: at 10% writes 105 -> 180 M ops/s, at 25% 67 -> 139, at 50%
 * 45 -> 120; at 1% unchanged (397 and 392). */
#define FREQUENT_WITHIN 64
#define FREQUENT_STREAK 4
#define BACKOFF_FIRST 256
#define BACKOFF_MAX 4096

_Thread_local struct ct_seqlock_thread ct_seqlock_self;

/* See "Retrying" in seqlock.h. */
void ct_seqlock_retrying(void)
{
    struct ct_seqlock_thread *self = &ct_seqlock_self;
    self->soon_streak = self->reads_since_retry < FREQUENT_WITHIN ? self->soon_streak + 1 : 0;
    self->reads_since_retry = 0;
    if (self->soon_streak < FREQUENT_STREAK)
        return;
    unsigned shift = self->soon_streak - FREQUENT_STREAK;
    unsigned n = shift >= 4 ? BACKOFF_MAX : BACKOFF_FIRST << shift;     /* 4096 = 256 << 4 */
    for (unsigned i = 0; i < n; i++)
        ct_cpu_relax();
}

void ct_seqlock_init(struct ct_seqlock *l)
{
    atomic_init(&l->seq, 0);
    ct_park_init(&l->park);
}

/* Wait until seq is even (no writer inside) and return it: spin, then
 * sleep on the park.  With a deadline, 0 when even and *out set, else
 * -ETIMEDOUT or -ECANCELED. */
static int wait_even(struct ct_seqlock *l, int64_t deadline, struct ct_event *cancel,
                     uint32_t *out)
{
    struct ct_backoff b = CT_BACKOFF_INIT;
    for (;;) {
        /* seq_cst: the second look after ct_park_prepare must pair with
         * the unlock's store (park.h) */
        uint32_t s = atomic_load_explicit(&l->seq, memory_order_seq_cst);
        if (!(s & 1)) {
            *out = s;
            return 0;
        }
        if (!ct_backoff_is_completed(&b)) {
            ct_backoff_snooze(&b);
            continue;
        }
        uint32_t key = ct_park_prepare(&l->park);
        if (!(atomic_load_explicit(&l->seq, memory_order_seq_cst) & 1)) {
            ct_park_abort(&l->park);
            continue;
        }
        int rc = ct_park_wait(&l->park, key, deadline, cancel);
        if (rc != 0)
            return rc;
        ct_backoff_yield_again(&b);
    }
}

uint32_t ct_seqlock_read_wait(struct ct_seqlock *l)
{
    uint32_t s;
    wait_even(l, CT_FOREVER, NULL, &s);
    atomic_thread_fence(memory_order_acquire);
    return s;
}

int ct_seqlock_write_lock_timeout(struct ct_seqlock *l, int64_t timeout_ns,
                                  struct ct_event *cancel)
{
    int64_t deadline = ct_deadline_after(timeout_ns);
    for (;;) {
        uint32_t s = atomic_load_explicit(&l->seq, memory_order_relaxed);
        if (!(s & 1)) {
            if (atomic_compare_exchange_weak_explicit(&l->seq, &s, s + 1, memory_order_acquire,
                                                      memory_order_relaxed)) {
                /* a reader that sees any of what we write next must also
                 * see the odd number on its second look */
                atomic_thread_fence(memory_order_release);
                return 0;
            }
            continue;
        }
        if (ct_clock_ns() >= deadline)
            return -ETIMEDOUT;
        int rc = wait_even(l, deadline, cancel, &s);
        if (rc != 0)
            return rc;
    }
}

void ct_seqlock_write_unlock(struct ct_seqlock *l)
{
    /* release: the data written is visible to whoever sees the new even
     * number; seq_cst because sleepers' second look pairs with it */
    uint32_t s = atomic_load_explicit(&l->seq, memory_order_relaxed);
    atomic_store_explicit(&l->seq, s + 1, memory_order_seq_cst);
    ct_park_notify_all(&l->park);
}
