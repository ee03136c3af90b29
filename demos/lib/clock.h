/* clock.h - monotonic time helpers shared by demos, primitives and tests. */
#ifndef CT_CLOCK_H
#define CT_CLOCK_H

#include <stdint.h>
#include <time.h>

#define CT_NS_PER_MS INT64_C(1000000)
#define CT_NS_PER_S  INT64_C(1000000000)

/* Nanoseconds on CLOCK_MONOTONIC: never jumps, only differences mean anything. */
static inline int64_t ct_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * CT_NS_PER_S + ts.tv_nsec;
}

/* CPU time the calling thread has used, in ns: with ct_clock_ns() around
 * the same stretch, it tells working from waiting (asleep or preempted). */
static inline int64_t ct_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * CT_NS_PER_S + ts.tv_nsec;
}

/* The CLOCK_MONOTONIC instant `ns` from now, for pthread_cond_timedwait on a
 * condition variable whose clock was set to CLOCK_MONOTONIC. */
static inline struct timespec ct_clock_after_ns(int64_t ns)
{
    int64_t t = ct_clock_ns() + (ns > 0 ? ns : 0);
    struct timespec ts = { .tv_sec = (time_t)(t / CT_NS_PER_S),
                           .tv_nsec = (long)(t % CT_NS_PER_S) };
    return ts;
}

#endif
