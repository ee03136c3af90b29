/* test-semaphore.c - the counting semaphore (semaphore.h) and the demo
 * `semaphore` built on it, one file for both (suites lib and demo).
 *
 * The semaphore: never more holders than permits (threads and tasks),
 * every permit comes back, timeouts and cancellations are exact, and the
 * queue is first come first served across threads and tasks, with no
 * permit lost to a waiter that gives up or is dropped just as it is handed
 * one.
 *
 * The demo: the holding intervals drawn on its timeline never overlap more
 * than the permits, counted here from its JSON; the token phase never
 * starts tasks faster than the bucket allows; and it leaves no descriptor,
 * thread or file behind, also when stopped by Ctrl-C. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "exec.h"
#include "resources.h"
#include "sem.h"
#include "stress.h"
#include "testfut.h"
#include "timer.h"
#include "util.h"

enum { PERMITS = 3, THREADS = 8 };

struct shared {
    struct ct_semaphore sem;
    atomic_int inside, max_inside;
    atomic_long entries;
};

static void enter(struct shared *sh)
{
    int now = atomic_fetch_add(&sh->inside, 1) + 1;
    int seen = atomic_load(&sh->max_inside);
    while (now > seen && !atomic_compare_exchange_weak(&sh->max_inside, &seen, now))
        ;
    atomic_fetch_add(&sh->entries, 1);
}

static void leave(struct shared *sh)
{
    atomic_fetch_sub(&sh->inside, 1);
}

struct worker {
    pthread_t tid;
    struct shared *sh;
    int id, iters;
    long got, timeouts, errors;
};

/* Each iteration uses one of the three forms, by turn. */
static void *contend(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < w->iters; i++) {
        int rc;
        switch ((i + w->id) % 3) {
        case 0:
            rc = ct_sem_acquire(&w->sh->sem, NULL);
            break;
        case 1:
            rc = ct_sem_acquire_timeout(&w->sh->sem, 50 * CT_NS_PER_MS, NULL);
            break;
        default:
            rc = ct_sem_try_acquire(&w->sh->sem) ? 0 : -EAGAIN;
            break;
        }
        if (rc == -ETIMEDOUT || rc == -EAGAIN) {
            w->timeouts += rc == -ETIMEDOUT;
            continue;
        }
        if (rc) {
            w->errors++;
            continue;
        }
        enter(w->sh);
        if (i % 16 == 0)
            sched_yield();
        leave(w->sh);
        w->got++;
        ct_sem_release(&w->sh->sem);
    }
    return NULL;
}

static void test_limit_under_contention(void **state)
{
    (void)state;
    struct shared sh = { 0 };
    assert_int_equal(ct_sem_init(&sh.sem, PERMITS), 0);
    struct worker w[THREADS];
    const int iters = CT_STRESS(20000, 2000);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){ .sh = &sh, .id = i, .iters = iters };
        assert_int_equal(pthread_create(&w[i].tid, NULL, contend, &w[i]), 0);
    }
    long got = 0, timeouts = 0;
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(w[i].tid, NULL), 0);
        assert_int_equal(w[i].errors, 0);
        got += w[i].got;
        timeouts += w[i].timeouts;
    }
    assert_true(atomic_load(&sh.max_inside) <= PERMITS);
    assert_int_equal(atomic_load(&sh.entries), got);
    struct ct_sem_stats st;
    ct_sem_get_stats(&sh.sem, &st);
    assert_int_equal(st.acquired, (uint64_t)got);
    assert_int_equal(st.timed_out, (uint64_t)timeouts);
    assert_true(st.max_in_use <= PERMITS);
    assert_int_equal(st.available, PERMITS);       /* every permit came back */
    assert_int_equal(st.waiting, 0);
    ct_sem_destroy(&sh.sem);
}

struct timed {
    pthread_t tid;
    struct ct_semaphore *sem;
    struct ct_event *cancel;
    int64_t timeout_ns;
    int rc;
};

static void *timed_acquire(void *arg)
{
    struct timed *t = arg;
    t->rc = ct_sem_acquire_timeout(t->sem, t->timeout_ns, t->cancel);
    return NULL;
}

/* All permits held: every bounded wait times out, each counted once. */
static void test_timeouts_exact(void **state)
{
    (void)state;
    struct ct_semaphore sem;
    assert_int_equal(ct_sem_init(&sem, 2), 0);
    assert_true(ct_sem_try_acquire(&sem));
    assert_int_equal(ct_sem_acquire_timeout(&sem, 0, NULL), 0);
    assert_false(ct_sem_try_acquire(&sem));             /* not counted */
    assert_int_equal(ct_sem_acquire_timeout(&sem, 0, NULL), -ETIMEDOUT);
    enum { K = 5 };
    struct timed t[K];
    for (int i = 0; i < K; i++) {
        t[i] = (struct timed){ .sem = &sem, .timeout_ns = (i + 1) * 5 * CT_NS_PER_MS };
        assert_int_equal(pthread_create(&t[i].tid, NULL, timed_acquire, &t[i]), 0);
    }
    for (int i = 0; i < K; i++) {
        assert_int_equal(pthread_join(t[i].tid, NULL), 0);
        assert_int_equal(t[i].rc, -ETIMEDOUT);
    }
    struct ct_sem_stats st;
    ct_sem_get_stats(&sem, &st);
    assert_int_equal(st.timed_out, K + 1);
    assert_int_equal(st.acquired, 2);
    assert_int_equal(st.waiting, 0);
    assert_int_equal(st.available, 0);
    ct_sem_release(&sem);
    ct_sem_release(&sem);
    assert_int_equal(ct_sem_available(&sem), 2);
    ct_sem_destroy(&sem);
}

/* A thread waiting for ever leaves on cancel. */
static void test_cancel(void **state)
{
    (void)state;
    struct ct_semaphore sem;
    struct ct_event cancel;
    assert_int_equal(ct_sem_init(&sem, 0), 0);
    assert_int_equal(ct_event_init(&cancel), 0);
    struct timed t = { .sem = &sem, .cancel = &cancel, .timeout_ns = -1 };
    assert_int_equal(pthread_create(&t.tid, NULL, timed_acquire, &t), 0);
    while (ct_sem_waiting(&sem) == 0)
        sched_yield();
    ct_event_set(&cancel);
    assert_int_equal(pthread_join(t.tid, NULL), 0);
    assert_int_equal(t.rc, -ECANCELED);
    struct ct_sem_stats st;
    ct_sem_get_stats(&sem, &st);
    assert_int_equal(st.cancelled, 1);
    assert_int_equal(st.waiting, 0);
    assert_int_equal(ct_sem_acquire(&sem, &cancel), -ECANCELED);   /* set already */
    ct_event_destroy(&cancel);
    ct_sem_destroy(&sem);
}

/* By hand: a thread and three task futures in one queue, served in order;
 * no barging; a waiter dropped before or after its grant loses nothing. */
static void test_fifo_threads_and_tasks(void **state)
{
    (void)state;
    struct ct_semaphore sem;
    assert_int_equal(ct_sem_init(&sem, 1), 0);
    assert_true(ct_sem_try_acquire(&sem));
    struct timed t = { .sem = &sem, .timeout_ns = -1, .rc = 1 };
    assert_int_equal(pthread_create(&t.tid, NULL, timed_acquire, &t), 0);
    while (ct_sem_waiting(&sem) == 0)
        sched_yield();
    struct tf_waker w[3];
    struct ct_sem_acquire a[3];
    for (int i = 0; i < 3; i++) {
        tf_waker_init(&w[i]);
        ct_sem_acquire_init(&a[i], &sem);
        assert_int_equal(ct_future_poll(&a[i].base, &w[i].cx), CT_PENDING);
    }
    assert_int_equal(ct_sem_waiting(&sem), 4);

    /* the thread came first: the permit goes to it, not to the free
     * count, so main cannot take it back before the thread wakes */
    ct_sem_release(&sem);
    assert_false(ct_sem_try_acquire(&sem));
    assert_int_equal(pthread_join(t.tid, NULL), 0);
    assert_int_equal(t.rc, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(atomic_load(&w[i].wakes), 0);

    /* the thread's permit: a[0] is handed it but dropped before it looks: a[1]
     * gets it; a[2] gives up while queued */
    ct_sem_release(&sem);
    assert_int_equal(atomic_load(&w[0].wakes), 1);
    ct_future_drop(&a[0].base);
    assert_int_equal(atomic_load(&w[1].wakes), 1);
    ct_future_drop(&a[2].base);
    assert_int_equal(atomic_load(&w[2].wakes), 0);
    assert_int_equal(ct_future_poll(&a[1].base, &w[1].cx), CT_READY);
    ct_future_drop(&a[1].base);                 /* READY: the permit stays */
    assert_int_equal(ct_sem_available(&sem), 0);
    ct_sem_release(&sem);
    assert_int_equal(ct_sem_available(&sem), 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(atomic_load(&w[i].refs), 0);
    struct ct_sem_stats st;
    ct_sem_get_stats(&sem, &st);
    assert_int_equal(st.cancelled, 2);
    assert_int_equal(st.acquired, 3);           /* main, the thread, a[1] */
    ct_sem_destroy(&sem);
}

/* Tasks: hold a permit across a sleep (an await), so they overlap. */
struct holder {
    struct ct_future base;
    int pc, left;
    struct shared *sh;
    struct ct_sem_acquire acq;
    struct ct_sleep nap;
};

static enum ct_poll holder_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct holder *h = (struct holder *)f;
    CT_ASYNC_BEGIN(h->pc);
    while (h->left > 0) {
        ct_sem_acquire_init(&h->acq, &h->sh->sem);
        CT_AWAIT(h->pc, &h->acq.base, cx);
        enter(h->sh);
        ct_sleep_init(&h->nap, 200 * 1000);
        CT_AWAIT(h->pc, &h->nap.base, cx);
        leave(h->sh);
        ct_sem_release(&h->sh->sem);
        h->left--;
    }
    CT_ASYNC_END(h->pc);
    return CT_READY;
}

static void holder_drop(struct ct_future *f)
{
    struct holder *h = (struct holder *)f;
    ct_future_drop(&h->acq.base);
    ct_future_drop(&h->nap.base);
}

static const struct ct_future_ops holder_ops = { "holder", holder_poll, holder_drop };

static void test_tasks_limit(void **state)
{
    (void)state;
    enum { TASKS = 10 };
    const int iters = CT_STRESS(50, 10);
    for (int fl = 0; fl < 2; fl++) {
        struct ct_exec *ex = tf_exec(fl ? CT_EXEC_MULTI_THREAD : CT_EXEC_CURRENT_THREAD, 2);
        struct shared sh = { 0 };
        assert_int_equal(ct_sem_init(&sh.sem, PERMITS), 0);
        struct ct_join_handle h[TASKS];
        for (int i = 0; i < TASKS; i++) {
            struct holder t = { .base = { .ops = &holder_ops }, .left = iters, .sh = &sh };
            assert_int_equal(ct_spawn(ex, &t, &h[i]), 0);
        }
        for (int i = 0; i < TASKS; i++) {
            assert_int_equal(tf_block_on(ex, &h[i].base, 60), 0);
            assert_int_equal(h[i].status, CT_JOIN_OK);
        }
        ct_exec_free(ex);
        assert_true(atomic_load(&sh.max_inside) <= PERMITS);
        assert_int_equal(atomic_load(&sh.entries), (long)TASKS * iters);
        struct ct_sem_stats st;
        ct_sem_get_stats(&sh.sem, &st);
        assert_int_equal(st.available, PERMITS);
        assert_int_equal(st.acquired, (uint64_t)TASKS * iters);
        assert_true(st.waited > 0);     /* 10 tasks, 3 permits: some queued */
        ct_sem_destroy(&sh.sem);
    }
}

/* Short timeouts racing releases: a permit handed over as a wait gives up
 * is never lost, so every permit is back at the end. */
struct racer {
    pthread_t tid;
    struct ct_semaphore *sem;
    int iters;
    long got, timeouts;
};

static void *race_timeouts(void *arg)
{
    struct racer *r = arg;
    for (int i = 0; i < r->iters; i++) {
        int rc = ct_sem_acquire_timeout(r->sem, 20 * 1000, NULL);
        if (rc == -ETIMEDOUT) {
            r->timeouts++;
            continue;
        }
        r->got++;
        ct_sem_release(r->sem);
    }
    return NULL;
}

static void test_timeout_release_race(void **state)
{
    (void)state;
    struct ct_semaphore sem;
    assert_int_equal(ct_sem_init(&sem, 1), 0);
    struct racer r[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (struct racer){ .sem = &sem, .iters = CT_STRESS(20000, 2000) };
        assert_int_equal(pthread_create(&r[i].tid, NULL, race_timeouts, &r[i]), 0);
    }
    long got = 0, timeouts = 0;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(r[i].tid, NULL), 0);
        got += r[i].got;
        timeouts += r[i].timeouts;
    }
    struct ct_sem_stats st;
    ct_sem_get_stats(&sem, &st);
    assert_int_equal(st.acquired, (uint64_t)got);
    assert_int_equal(st.timed_out, (uint64_t)timeouts);
    assert_int_equal(st.available, 1);
    assert_int_equal(st.waiting, 0);
    ct_sem_destroy(&sem);
}

/* ---- the demo ----------------------------------------------------------- */

/* The most "holding" spans of the timeline that overlap at any instant. */
static int spans_overlap(json_t *j, int *nspans)
{
    struct dj_span sp[64];
    int n = dj_hold_spans(j, sp, 64), most = 0;
    for (int i = 0; i < n; i++) {
        int depth = 0;
        for (int k = 0; k < n; k++)     /* spans alive just after sp[i] starts */
            depth += sp[k].from <= sp[i].from && sp[i].from < sp[k].to;
        most = depth > most ? depth : most;
    }
    *nspans = n;
    return most;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void check_demo(json_t *j, int tasks, int permits, int rate, int burst)
{
    assert_true(dj_assert_checks(j) > 0);
    int nspans;
    int most = spans_overlap(j, &nspans);
    assert_int_equal(nspans, tasks);            /* phase 1: one hold per task */
    assert_true(most <= permits);
    assert_true(dj_int(j, "p1_max_running") <= permits);
    json_t *rows = dj_table(j, "tasks"), *row;
    assert_int_equal(json_array_size(rows), tasks);
    /* phase 2: the bucket cannot start tasks faster than burst + rate * t,
     * so the last of them starts at least (tasks - burst) / rate after the
     * first (less the table's 0.1 ms rounding) */
    double start[64];
    size_t i;
    json_array_foreach(rows, i, row)
        start[i] = dj_cell_num(row, "p2_start");
    qsort(start, (size_t)tasks, sizeof start[0], cmp_double);
    if (tasks > burst)
        assert_true(start[tasks - 1] - start[0] >= (tasks - burst) * 1000.0 / rate - 0.2);
}

static void test_demo_runs(void **state)
{
    (void)state;
    static const struct { const char *args[6]; int tasks, permits, rate, burst; } cases[] = {
        { { "tasks=6", "permits=2", "work-ms=10", "rate=200", "burst=2", NULL }, 6, 2, 200, 2 },
        { { "tasks=8", "permits=1", "work-ms=3", "rate=500", "burst=1", NULL }, 8, 1, 500, 1 },
        { { "tasks=4", "permits=4", "work-ms=5", "rate=100", "burst=4", NULL }, 4, 4, 100, 4 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct resources r;
        res_begin(&r);
        int code;
        json_t *j = ct_demo_json("semaphore", cases[k].args, &code);
        assert_non_null(j);
        assert_int_equal(code, 0);
        check_demo(j, cases[k].tasks, cases[k].permits, cases[k].rate, cases[k].burst);
        if (cases[k].tasks <= cases[k].permits)
            assert_int_equal(dj_int(j, "p1_waited"), 0);   /* a permit for everyone */
        json_decref(j);
        assert_true(res_end(&r));
    }
}

/* A bucket as large as the task count: all start at once, and the
 * takeaway does not tell of "the rest" starting at the rate. */
static void test_demo_takeaway_big_burst(void **state)
{
    (void)state;
    int code;
    json_t *j = ct_demo_json("semaphore", (const char *const[]){ "tasks=3", "permits=3",
                                                                 "work-ms=0", "burst=40",
                                                                 NULL }, &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    const char *t = dj_takeaway(j);
    assert_null(strstr(t, "then the rest"));
    assert_non_null(strstr(t, "let all 3 start at once"));
    json_decref(j);
}

/* Ctrl-C in phase 1, between the phases and in phase 2. */
static void test_demo_sigint(void **state)
{
    (void)state;
    static const double at_ms[] = { 60, 250, 420, 650 };
    for (size_t k = 0; k < sizeof at_ms / sizeof at_ms[0]; k++)
        res_sigint("semaphore", NULL, at_ms[k]);
}

int main(int argc, char **argv)
{
    int child = res_child_main(argc, argv);
    if (child >= 0)
        return child;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit_under_contention),
        cmocka_unit_test(test_timeouts_exact),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_fifo_threads_and_tasks),
        cmocka_unit_test(test_tasks_limit),
        cmocka_unit_test(test_timeout_release_race),
        cmocka_unit_test(test_demo_runs),
        cmocka_unit_test(test_demo_takeaway_big_burst),
        cmocka_unit_test(test_demo_sigint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
