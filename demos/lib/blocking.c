/* blocking.c - see blocking.h. */
#include "blocking.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"

enum { JOB_QUEUED, JOB_RUNNING, JOB_DONE };

/* Shared by the pool (while queued or running) and the handle. */
struct ct_blocking_job {
    atomic_int refs;
    atomic_int state;
    intptr_t (*fn)(void *);
    void *arg;
    void (*cleanup)(void *);
    intptr_t result;            /* written before state becomes DONE */
    int error;
    struct ct_waker_slot waiter;
    struct ct_blocking_job *next;
};

static void job_unref(struct ct_blocking_job *j)
{
    if (atomic_fetch_sub_explicit(&j->refs, 1, memory_order_acq_rel) == 1) {
        ct_waker_slot_destroy(&j->waiter);
        free(j);
    }
}

/* Publish the outcome and wake whoever awaits it. */
static void job_finish(struct ct_blocking_job *j, intptr_t result, int error)
{
    if (j->cleanup)
        j->cleanup(j->arg);
    j->result = result;
    j->error = error;
    atomic_store_explicit(&j->state, JOB_DONE, memory_order_release);
    ct_waker_slot_wake(&j->waiter);
    job_unref(j);               /* the pool's reference */
}

static void *pool_thread(void *arg)
{
    struct ct_blocking_pool *p = arg;
    CT_PT(pthread_mutex_lock(&p->mu));
    for (;;) {
        while (!p->head && !p->shutdown) {
            p->idle++;
            /* no timeout needed: shutdown broadcasts */
            CT_PT(pthread_cond_wait(&p->cv, &p->mu));
            p->idle--;
        }
        if (!p->head)
            break;              /* shutdown, and nothing left to run */
        struct ct_blocking_job *j = p->head;
        p->queued--;
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        p->jobs_run++;
        CT_PT(pthread_mutex_unlock(&p->mu));

        atomic_store_explicit(&j->state, JOB_RUNNING, memory_order_relaxed);
        job_finish(j, j->fn(j->arg), 0);

        CT_PT(pthread_mutex_lock(&p->mu));
        if (p->shutdown)
            break;              /* queued jobs are dropped by destroy */
    }
    CT_PT(pthread_mutex_unlock(&p->mu));
    return NULL;
}

int ct_blocking_pool_init(struct ct_blocking_pool *p, int max_threads,
                          const struct ct_thread_hooks *hooks)
{
    *p = (struct ct_blocking_pool){ .max = max_threads > 0 ? max_threads : 16 };
    if (hooks)
        p->hooks = *hooks;
    p->threads = calloc((size_t)p->max, sizeof *p->threads);
    if (!p->threads)
        return -ENOMEM;
    int rc = pthread_mutex_init(&p->mu, NULL);
    if (rc == 0) {
        rc = pthread_cond_init(&p->cv, NULL);
        if (rc == 0)
            return 0;
        CT_PT(pthread_mutex_destroy(&p->mu));
    }
    free(p->threads);
    return -rc;
}

void ct_blocking_pool_destroy(struct ct_blocking_pool *p)
{
    CT_PT(pthread_mutex_lock(&p->mu));
    p->shutdown = true;
    struct ct_blocking_job *dropped = p->head;
    p->head = p->tail = NULL;
    p->queued = 0;
    CT_PT(pthread_cond_broadcast(&p->cv));
    int n = p->nthreads;
    CT_PT(pthread_mutex_unlock(&p->mu));

    while (dropped) {
        struct ct_blocking_job *next = dropped->next;
        job_finish(dropped, 0, -ECANCELED);
        dropped = next;
    }
    for (int i = 0; i < n; i++)
        ct_hooks_join(&p->hooks, p->threads[i]);
    free(p->threads);
    CT_PT(pthread_cond_destroy(&p->cv));
    CT_PT(pthread_mutex_destroy(&p->mu));
}

/* ---- the handle future -------------------------------------------------- */

static enum ct_poll blocking_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct ct_blocking *h = (struct ct_blocking *)f;
    struct ct_blocking_job *j = h->job;
    if (atomic_load_explicit(&j->state, memory_order_acquire) != JOB_DONE) {
        ct_waker_slot_register(&j->waiter, cx->waker);
        /* checked again: the job may have finished before we registered */
        if (atomic_load_explicit(&j->state, memory_order_acquire) != JOB_DONE)
            return CT_PENDING;
    }
    f->value = j->result;
    f->error = j->error;
    return CT_READY;
}

static void blocking_drop(struct ct_future *f)
{
    struct ct_blocking *h = (struct ct_blocking *)f;
    if (h->job)
        job_unref(h->job);
    h->job = NULL;
}

static const struct ct_future_ops blocking_ops = { "spawn_blocking", blocking_poll, blocking_drop };

int ct_spawn_blocking(struct ct_blocking_pool *p, intptr_t (*fn)(void *arg),
                      void *arg, void (*cleanup)(void *arg),
                      struct ct_blocking *h)
{
    *h = (struct ct_blocking){ 0 };
    struct ct_blocking_job *j = calloc(1, sizeof *j);
    int rc = j ? ct_waker_slot_init(&j->waiter) : -ENOMEM;
    if (rc) {
        free(j);
        if (cleanup)
            cleanup(arg);
        return rc;
    }
    atomic_init(&j->refs, 2);           /* the pool's and the handle's */
    atomic_init(&j->state, JOB_QUEUED);
    j->fn = fn;
    j->arg = arg;
    j->cleanup = cleanup;

    CT_PT(pthread_mutex_lock(&p->mu));
    rc = p->shutdown ? -ESHUTDOWN : 0;
    /* a new thread when the queued jobs outnumber the idle threads: the
     * pool grows with demand.  It is started under the lock, so it cannot
     * race with destroy; it blocks on the lock until we are done. */
    if (rc == 0 && p->queued + 1 > p->idle && p->nthreads < p->max) {
        char name[24];
        snprintf(name, sizeof name, "blocking-%d", p->nthreads + 1);
        void *handle = NULL;
        rc = ct_hooks_start(&p->hooks, &handle, pool_thread, p, name);
        if (rc == 0)
            p->threads[p->nthreads++] = handle;
        else if (p->nthreads > 0)
            rc = 0;             /* the threads we have will get to it */
    }
    if (rc) {
        CT_PT(pthread_mutex_unlock(&p->mu));
        atomic_store(&j->refs, 1);
        job_finish(j, 0, rc);
        return rc;
    }
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    p->queued++;
    CT_PT(pthread_cond_signal(&p->cv));
    CT_PT(pthread_mutex_unlock(&p->mu));
    h->base.ops = &blocking_ops;
    h->job = j;
    return 0;
}
