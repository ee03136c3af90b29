/* wait.c - see wait.h. */
#include "wait.h"

#include <errno.h>
#include <time.h>

#include "clock.h"

int64_t ct_deadline_after(int64_t timeout_ns)
{
    if (timeout_ns < 0)
        return CT_FOREVER;
    int64_t now = ct_clock_ns();
    return timeout_ns > CT_FOREVER - now ? CT_FOREVER : now + timeout_ns;
}

int ct_cond_init_monotonic(pthread_cond_t *cv)
{
    pthread_condattr_t ca;
    int rc = pthread_condattr_init(&ca);
    if (rc != 0)
        return -rc;
    rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
    return -rc;
}

int64_t ct_slice_ns(int64_t deadline_ns)
{
    int64_t left = deadline_ns == CT_FOREVER ? CT_WAIT_SLICE_NS : deadline_ns - ct_clock_ns();
    if (left <= 0)
        return 0;
    return left < CT_WAIT_SLICE_NS ? left : CT_WAIT_SLICE_NS;
}

int ct_cond_wait_bounded(pthread_cond_t *cv, pthread_mutex_t *mu,
                         int64_t deadline_ns, struct ct_event *cancel)
{
    if (cancel && ct_event_is_set(cancel))
        return -ECANCELED;
    int64_t ns = ct_slice_ns(deadline_ns);
    if (ns == 0)
        return -ETIMEDOUT;
    struct timespec until = ct_clock_after_ns(ns);
    int rc = pthread_cond_timedwait(cv, mu, &until);
    if (rc != 0 && rc != ETIMEDOUT)
        return -rc;
    return 0;
}

bool ct_realtime_slice(int64_t deadline_ns, struct timespec *until)
{
    int64_t ns = ct_slice_ns(deadline_ns);
    if (ns == 0)
        return false;
    clock_gettime(CLOCK_REALTIME, until);
    until->tv_nsec += (long)ns;
    while (until->tv_nsec >= 1000000000L) {
        until->tv_nsec -= 1000000000L;
        until->tv_sec++;
    }
    return true;
}

int ct_mutex_lock_bounded(pthread_mutex_t *mu, int64_t deadline_ns,
                          struct ct_event *cancel)
{
    int rc = pthread_mutex_trylock(mu);
    if (rc != EBUSY)
        return -rc;
    for (;;) {
        if (cancel && ct_event_is_set(cancel))
            return -ECANCELED;
        struct timespec until;
        if (!ct_realtime_slice(deadline_ns, &until))
            return -ETIMEDOUT;
        rc = pthread_mutex_timedlock(mu, &until);
        if (rc != ETIMEDOUT)
            return -rc;
    }
}
