/* blocking.h - a thread pool for work that blocks, apart from the workers.
 *
 * tokio::task::spawn_blocking in C.  An executor's worker must never block:
 * while it sleeps in read() or crunches numbers for 200 ms, every task
 * queued behind it waits.  Work like that goes to this pool instead.  It
 * starts threads on demand (up to a maximum, then jobs queue), and a task
 * awaits the job through a handle future, so the worker is free meanwhile.
 *
 * A job cannot be interrupted once it runs (neither can tokio's); pass it
 * what it needs to notice a cancellation (the demos' jobs sleep with
 * ct_sleep_ms, which returns on Ctrl-C).  Shutdown drops the jobs that
 * have not started (their `cleanup` runs, their handles report
 * -ECANCELED) and joins every thread after its current job.
 *
 * Ordering: spawning a job happens-before the job runs, and the job's run
 * (its return value and everything it wrote) happens-before its handle
 * future returns READY.
 */
#ifndef CT_BLOCKING_H
#define CT_BLOCKING_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "future.h"
#include "threadhooks.h"

struct ct_blocking_job;

struct ct_blocking_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;          /* jobs arrived, or shutdown */
    struct ct_blocking_job *head, *tail;   /* queued, not started */
    int max, nthreads, idle, queued;
    bool shutdown;
    void **threads;             /* hook handles, `nthreads` of them */
    uint64_t jobs_run;
    struct ct_thread_hooks hooks;
};

/* 0 or a negative errno.  Threads are named "blocking-1", ... */
int ct_blocking_pool_init(struct ct_blocking_pool *p, int max_threads,
                          const struct ct_thread_hooks *hooks);
/* Shut down as described above; returns once every thread is joined. */
void ct_blocking_pool_destroy(struct ct_blocking_pool *p);

/* The handle: ready when the job has run; base.value is what `fn`
 * returned, base.error is 0 (or -ECANCELED if it never ran).  Dropping it
 * does not stop the job. */
struct ct_blocking {
    struct ct_future base;
    struct ct_blocking_job *job;
};

/* Run fn(arg) on a pool thread.  `cleanup(arg)` (may be NULL) runs once
 * after fn, or instead of it if the job is dropped unstarted.  0, or a
 * negative errno with cleanup already run and `h` empty. */
int ct_spawn_blocking(struct ct_blocking_pool *p, intptr_t (*fn)(void *arg),
                      void *arg, void (*cleanup)(void *arg),
                      struct ct_blocking *h);

#endif
