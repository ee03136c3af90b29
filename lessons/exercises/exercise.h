/* exercise.h - what every exercise's harness shares.
 *
 * A harness (lessons/exercises/NAME/harness.c) includes this header, then
 * the student's file, and has the main() that calls the student's
 * functions many times and checks exact invariants.  It ends by printing
 * one verdict line that the tutor parses:
 *
 *     CT-VERDICT PASS what was checked, in plain words
 *     CT-VERDICT FAIL what went wrong, in plain words
 *
 * A harness must finish within a second or two, also under a sanitizer on
 * a loaded machine: size loops with EX_N(plain, sanitized).  Anything that
 * can hang is watched by ex_watch(), which fails the run with a clear
 * message instead of letting the tutor's hard limit kill it.
 */
#ifndef EX_EXERCISE_H
#define EX_EXERCISE_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define EX_SANITIZED 1
#else
#define EX_SANITIZED 0
#endif
/* Loop sizes: sanitizers slow a program down five to twenty times. */
#define EX_N(plain, sanitized) (EX_SANITIZED ? (sanitized) : (plain))

static inline double ex_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static inline void ex_sleep_ms(double ms)
{
    struct timespec ts = { (time_t)(ms / 1e3), (long)((ms - (double)(time_t)(ms / 1e3) * 1e3) * 1e6) };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static inline void ex_verdict(const char *word, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    for (char *p = msg; *p; p++) {
        if (*p == '\n')
            *p = ' ';
    }
    printf("\nCT-VERDICT %s %s\n", word, msg);
    fflush(stdout);
}

/* The run passed: print the verdict and exit normally, so that the
 * sanitizers still look for leaks and unjoined threads. */
static inline _Noreturn void ex_pass(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ex_verdict("PASS", fmt, ap);
    va_end(ap);
    exit(0);
}

/* The run failed: print the verdict and leave at once (other threads may
 * be stuck holding locks that exit() would need). */
static inline _Noreturn void ex_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ex_verdict("FAIL", fmt, ap);
    va_end(ap);
    _exit(1);
}

/* ---- the watchdog: a hang becomes a failure with a message ------------ */

static pthread_mutex_t ex_wd_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ex_wd_cv = PTHREAD_COND_INITIALIZER;
static double ex_wd_deadline;           /* 0: not watching */
static char ex_wd_what[512];
static bool ex_wd_started;

static inline void *ex_wd_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&ex_wd_mu);
    for (;;) {
        double now = ex_now_ms();
        if (ex_wd_deadline > 0 && now >= ex_wd_deadline)
            ex_fail("%s", ex_wd_what);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&ex_wd_cv, &ex_wd_mu, &ts);
    }
    return NULL;
}

/* Fail with `fmt` unless ex_watch_off() is called within `seconds`
 * (doubled under a sanitizer).  The message should say what the program
 * was waiting for, e.g. "the two transfers never finished: a deadlock". */
static inline void ex_watch(double seconds, const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&ex_wd_mu);
    va_start(ap, fmt);
    vsnprintf(ex_wd_what, sizeof ex_wd_what, fmt, ap);
    va_end(ap);
    ex_wd_deadline = ex_now_ms() + seconds * 1e3 * EX_N(1, 2);
    if (!ex_wd_started) {
        pthread_t t;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &a, ex_wd_main, NULL) == 0)
            ex_wd_started = true;
        pthread_attr_destroy(&a);
    }
    pthread_mutex_unlock(&ex_wd_mu);
}

static inline void ex_watch_off(void)
{
    pthread_mutex_lock(&ex_wd_mu);
    ex_wd_deadline = 0;
    pthread_mutex_unlock(&ex_wd_mu);
}

/* ---- threads ----------------------------------------------------------- */

static inline pthread_t ex_spawn(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    int rc = pthread_create(&t, NULL, fn, arg);
    if (rc != 0)
        ex_fail("the checker could not start a thread: %s", strerror(rc));
    return t;
}

static inline void ex_join(pthread_t t)
{
    int rc = pthread_join(t, NULL);
    if (rc != 0)
        ex_fail("the checker could not join a thread: %s", strerror(rc));
}

/* Wait until `*flag` (an atomic int) reaches `value` or `ms` pass; true if
 * it did.  For hooks that hold a thread until something else happened. */
static inline bool ex_wait_for(atomic_int *flag, int value, double ms)
{
    double end = ex_now_ms() + ms;
    while (atomic_load(flag) < value) {
        if (ex_now_ms() >= end)
            return false;
        ex_sleep_ms(0.2);
    }
    return true;
}

#endif
