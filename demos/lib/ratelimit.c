/* ratelimit.c - see ratelimit.h. */
#include "ratelimit.h"

#include <errno.h>

#include "check.h"
#include "clock.h"
#include "wait.h"

#define ONE INT64_C(1000000000)     /* one token, in billionths */

int ct_bucket_init_at(struct ct_bucket *b, long rate, long burst, int64_t now_ns)
{
    if (rate < 1 || rate > CT_BUCKET_MAX || burst < 1 || burst > CT_BUCKET_MAX)
        return -EINVAL;
    *b = (struct ct_bucket){ .rate = rate, .cap = burst * ONE, .level = burst * ONE,
                             .last_ns = now_ns };
    return -pthread_mutex_init(&b->mu, NULL);
}

int ct_bucket_init(struct ct_bucket *b, long rate, long burst)
{
    return ct_bucket_init_at(b, rate, burst, ct_clock_ns());
}

void ct_bucket_destroy(struct ct_bucket *b)
{
    CT_PT(pthread_mutex_destroy(&b->mu));
}

/* With mu held: add what `now` - last_ns earned, up to the cap.  The
 * product is formed only when it stays below the room left, so it cannot
 * overflow (room <= 1e6 tokens = 1e15 billionths). */
static void refill(struct ct_bucket *b, int64_t now)
{
    if (now <= b->last_ns)
        return;
    int64_t dt = now - b->last_ns, room = b->cap - b->level;
    if (dt >= room / b->rate + 1)
        b->level = b->cap;
    else
        b->level += dt * b->rate;
    b->last_ns = now;
}

/* With mu held and refilled: ns until a whole token. */
static int64_t wait_locked(const struct ct_bucket *b)
{
    if (b->level >= ONE)
        return 0;
    return (ONE - b->level + b->rate - 1) / b->rate;
}

bool ct_bucket_try_take_at(struct ct_bucket *b, int64_t now_ns)
{
    CT_PT(pthread_mutex_lock(&b->mu));
    refill(b, now_ns);
    bool ok = b->level >= ONE;
    if (ok) {
        b->level -= ONE;
        b->granted++;
    } else {
        b->refused++;
    }
    CT_PT(pthread_mutex_unlock(&b->mu));
    return ok;
}

bool ct_bucket_try_take(struct ct_bucket *b)
{
    return ct_bucket_try_take_at(b, ct_clock_ns());
}

int64_t ct_bucket_wait_ns_at(struct ct_bucket *b, int64_t now_ns)
{
    CT_PT(pthread_mutex_lock(&b->mu));
    refill(b, now_ns);
    int64_t ns = wait_locked(b);
    CT_PT(pthread_mutex_unlock(&b->mu));
    return ns;
}

int64_t ct_bucket_wait_ns(struct ct_bucket *b)
{
    return ct_bucket_wait_ns_at(b, ct_clock_ns());
}

int ct_bucket_take_timeout(struct ct_bucket *b, int64_t timeout_ns, struct ct_event *cancel)
{
    int64_t deadline = ct_deadline_after(timeout_ns);
    for (;;) {
        if (cancel && ct_event_is_set(cancel))
            return -ECANCELED;
        int64_t now = ct_clock_ns();
        CT_PT(pthread_mutex_lock(&b->mu));
        refill(b, now);
        int64_t ns = wait_locked(b);
        if (ns == 0) {
            b->level -= ONE;
            b->granted++;
        } else if (deadline != CT_FOREVER && now + ns > deadline) {
            b->refused++;
            ns = -1;
        }
        CT_PT(pthread_mutex_unlock(&b->mu));
        if (ns == 0)
            return 0;
        if (ns < 0)
            return -ETIMEDOUT;
        /* sleep until the token is due, a slice at a time */
        int64_t nap = ns < CT_WAIT_SLICE_NS ? ns : CT_WAIT_SLICE_NS;
        if (cancel) {
            ct_event_wait_timeout(cancel, nap);
        } else {
            struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)nap };
            nanosleep(&ts, NULL);
        }
    }
}

void ct_bucket_counts(struct ct_bucket *b, uint64_t *granted, uint64_t *refused)
{
    CT_PT(pthread_mutex_lock(&b->mu));
    if (granted)
        *granted = b->granted;
    if (refused)
        *refused = b->refused;
    CT_PT(pthread_mutex_unlock(&b->mu));
}
