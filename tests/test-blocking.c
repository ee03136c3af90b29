/* test-blocking.c - the blocking pool: jobs run once each on pool threads
 * (never on a worker), the pool grows only to its maximum, and shutdown
 * drops the jobs that never started, running their cleanup once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "blocking.h"
#include "exec.h"
#include "testfut.h"

struct job {
    atomic_int runs, cleanups;
    pthread_t ran_on;
    struct ct_blocking_pool *pool;  /* the slow job watches it for shutdown */
};

static intptr_t double_it(void *arg)
{
    struct job *j = arg;
    atomic_fetch_add(&j->runs, 1);
    j->ran_on = pthread_self();
    return 21 * 2;
}

static void cleanup(void *arg)
{
    atomic_fetch_add(&((struct job *)arg)->cleanups, 1);
}

/* A task that hands a job to the pool and awaits it; notes its own thread. */
struct offload {
    struct ct_future base;
    struct job *job;
    struct ct_blocking h;
    pthread_t task_thread;
    bool started;
};

static enum ct_poll offload_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct offload *o = (struct offload *)f;
    if (!o->started) {
        o->started = true;
        o->task_thread = pthread_self();
        f->error = ct_spawn_blocking(ct_exec_blocking(cx->exec), double_it, o->job, cleanup,
                                     &o->h);
        if (f->error)
            return CT_READY;
    }
    if (ct_future_poll(&o->h.base, cx) == CT_PENDING)
        return CT_PENDING;
    f->value = o->h.base.value;
    return CT_READY;
}

static void offload_drop(struct ct_future *f)
{
    ct_future_drop(&((struct offload *)f)->h.base);
}

static const struct ct_future_ops offload_ops = { "offload", offload_poll, offload_drop };

static void test_runs_off_the_worker(void **state)
{
    (void)state;
    for (int fl = 0; fl < 2; fl++) {
        struct ct_exec *ex = tf_exec(fl ? CT_EXEC_MULTI_THREAD : CT_EXEC_CURRENT_THREAD, 2);
        struct job j = { 0 };
        struct offload o = { .base = { .ops = &offload_ops }, .job = &j };
        assert_int_equal(tf_block_on(ex, &o.base, 30), 0);
        assert_int_equal(o.base.error, 0);
        assert_int_equal(o.base.value, 42);
        assert_int_equal(atomic_load(&j.runs), 1);
        assert_int_equal(atomic_load(&j.cleanups), 1);
        assert_false(pthread_equal(j.ran_on, o.task_thread));
        ct_exec_free(ex);
    }
}

static void test_many_jobs_bounded_threads(void **state)
{
    (void)state;
    enum { JOBS = 200, MAX = 3 };
    struct ct_blocking_pool p;
    assert_int_equal(ct_blocking_pool_init(&p, MAX, NULL), 0);
    struct job *j = calloc(JOBS, sizeof *j);
    struct ct_blocking *h = calloc(JOBS, sizeof *h);
    for (int i = 0; i < JOBS; i++)
        assert_int_equal(ct_spawn_blocking(&p, double_it, &j[i], cleanup, &h[i]), 0);
    struct tf_waker w;
    tf_waker_init(&w);
    for (int i = 0; i < JOBS; i++) {
        /* wait for each by polling; bounded */
        int spins = 0;
        while (ct_future_poll(&h[i].base, &w.cx) == CT_PENDING && spins++ < 100000) {
            struct timespec ts = { 0, 100000 };
            nanosleep(&ts, NULL);
        }
        assert_int_equal(h[i].base.value, 42);
        ct_future_drop(&h[i].base);
    }
    assert_true(p.nthreads >= 1 && p.nthreads <= MAX);
    ct_blocking_pool_destroy(&p);
    for (int i = 0; i < JOBS; i++) {
        assert_int_equal(atomic_load(&j[i].runs), 1);
        assert_int_equal(atomic_load(&j[i].cleanups), 1);
    }
    assert_int_equal(atomic_load(&w.refs), 0);
    free(h);
    free(j);
}

/* Runs until the pool is shutting down (bounded), so the jobs queued
 * behind it are still queued when shutdown comes. */
static intptr_t hold_until_shutdown(void *arg)
{
    struct job *j = arg;
    atomic_fetch_add(&j->runs, 1);
    for (int i = 0; i < 100000; i++) {
        pthread_mutex_lock(&j->pool->mu);
        bool down = j->pool->shutdown;
        pthread_mutex_unlock(&j->pool->mu);
        if (down)
            break;
        struct timespec ts = { 0, 100000 };
        nanosleep(&ts, NULL);
    }
    return 1;
}

struct destroyer {
    struct ct_blocking_pool *p;
};

static void *destroy_main(void *arg)
{
    ct_blocking_pool_destroy(((struct destroyer *)arg)->p);
    return NULL;
}

static void test_shutdown_drops_queued(void **state)
{
    (void)state;
    enum { QUEUED = 5 };
    struct ct_blocking_pool p;
    assert_int_equal(ct_blocking_pool_init(&p, 1, NULL), 0);
    struct job slow = { .pool = &p }, j[QUEUED] = { 0 };
    struct ct_blocking hs, h[QUEUED];
    assert_int_equal(ct_spawn_blocking(&p, hold_until_shutdown, &slow, cleanup, &hs), 0);
    for (int i = 0; i < QUEUED; i++)
        assert_int_equal(ct_spawn_blocking(&p, double_it, &j[i], cleanup, &h[i]), 0);
    /* shut down only once the slow job holds the one thread */
    for (int i = 0; i < 100000 && atomic_load(&slow.runs) == 0; i++) {
        struct timespec ts = { 0, 100000 };
        nanosleep(&ts, NULL);
    }
    pthread_t t;
    struct destroyer d = { &p };
    assert_int_equal(pthread_create(&t, NULL, destroy_main, &d), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    struct tf_waker w;
    tf_waker_init(&w);
    assert_int_equal(ct_future_poll(&hs.base, &w.cx), CT_READY);
    assert_int_equal(hs.base.value, 1);
    assert_int_equal(atomic_load(&slow.cleanups), 1);
    int ran = atomic_load(&slow.runs);
    for (int i = 0; i < QUEUED; i++) {
        assert_int_equal(ct_future_poll(&h[i].base, &w.cx), CT_READY);
        /* never ran (the one thread was busy until shutdown); cleaned up */
        assert_int_equal(h[i].base.error, -ECANCELED);
        assert_int_equal(atomic_load(&j[i].runs), 0);
        assert_int_equal(atomic_load(&j[i].cleanups), 1);
        ct_future_drop(&h[i].base);
    }
    assert_int_equal(ran, 1);
    ct_future_drop(&hs.base);
    assert_int_equal(atomic_load(&w.refs), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs_off_the_worker),
        cmocka_unit_test(test_many_jobs_bounded_threads),
        cmocka_unit_test(test_shutdown_drops_queued),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
