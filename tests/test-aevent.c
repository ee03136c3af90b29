/* test-aevent.c - the async event: every waiting task wakes when another
 * thread sets it, and a waiter dropped while waiting leaves the list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>

#include "aevent.h"
#include "exec.h"
#include "testfut.h"

struct setter {
    struct ct_aevent *ev;
    atomic_int *parked;
    int want;
};

/* Sets the event once `want` tasks are waiting, or at once: either way
 * every waiter must finish. */
static void *set_main(void *arg)
{
    struct setter *s = arg;
    for (long spins = 0; atomic_load(s->parked) < s->want && spins < 100000000L; spins++)
        ;
    ct_aevent_set(s->ev);
    return NULL;
}

/* Counts itself as parked on its first PENDING, then waits. */
struct waiter {
    struct ct_future base;
    struct ct_aevent_wait w;
    atomic_int *parked;
    bool counted;
};

static enum ct_poll waiter_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct waiter *w = (struct waiter *)f;
    if (ct_future_poll(&w->w.base, cx) == CT_READY)
        return CT_READY;
    if (!w->counted)
        atomic_fetch_add(w->parked, 1);
    w->counted = true;
    return CT_PENDING;
}

static void waiter_drop(struct ct_future *f)
{
    ct_future_drop(&((struct waiter *)f)->w.base);
}

static const struct ct_future_ops waiter_ops = { "waiter", waiter_poll, waiter_drop };

static void test_wakes_every_task(void **state)
{
    (void)state;
    const int n = TF_SCALE(5000, 500);
    for (int fl = 0; fl < 2; fl++) {
        for (int round = 0; round < 3; round++) {
            struct ct_exec *ex = tf_exec(fl ? CT_EXEC_MULTI_THREAD : CT_EXEC_CURRENT_THREAD, 2);
            struct ct_aevent ev;
            assert_int_equal(ct_aevent_init(&ev), 0);
            atomic_int parked = 0;
            struct ct_join_handle *h = calloc((size_t)n, sizeof *h);
            for (int i = 0; i < n; i++) {
                struct waiter w = { .base = { .ops = &waiter_ops }, .parked = &parked };
                ct_aevent_wait_init(&w.w, &ev);
                assert_int_equal(ct_spawn(ex, &w, &h[i]), 0);
            }
            /* round 0 sets it after all wait, the others race with them */
            struct setter s = { &ev, &parked, round == 0 ? n : 0 };
            pthread_t t;
            assert_int_equal(pthread_create(&t, NULL, set_main, &s), 0);
            int done = 0;
            for (int i = 0; i < n; i++)
                done += tf_block_on(ex, &h[i].base, 30) == 0 && h[i].status == CT_JOIN_OK;
            assert_int_equal(pthread_join(t, NULL), 0);
            assert_int_equal(done, n);
            assert_true(ct_aevent_is_set(&ev));
            assert_null(ev.head);
            ct_exec_free(ex);
            free(h);
            ct_aevent_destroy(&ev);
        }
    }
}

static void test_dropped_waiter_leaves(void **state)
{
    (void)state;
    struct tf_waker tw;
    tf_waker_init(&tw);
    struct ct_aevent ev;
    assert_int_equal(ct_aevent_init(&ev), 0);
    struct ct_aevent_wait w[3];
    for (int i = 0; i < 3; i++) {
        ct_aevent_wait_init(&w[i], &ev);
        assert_int_equal(ct_future_poll(&w[i].base, &tw.cx), CT_PENDING);
    }
    assert_int_equal(atomic_load(&tw.refs), 3);
    ct_future_drop(&w[1].base);
    assert_int_equal(atomic_load(&tw.refs), 2);
    ct_aevent_set(&ev);
    assert_int_equal(atomic_load(&tw.wakes), 2);        /* only the two still waiting */
    assert_int_equal(atomic_load(&tw.refs), 0);
    assert_int_equal(ct_future_poll(&w[0].base, &tw.cx), CT_READY);
    assert_int_equal(ct_future_poll(&w[2].base, &tw.cx), CT_READY);
    ct_future_drop(&w[0].base);
    ct_future_drop(&w[2].base);
    /* once set, a new waiter is ready at once */
    struct ct_aevent_wait late;
    ct_aevent_wait_init(&late, &ev);
    assert_int_equal(ct_future_poll(&late.base, &tw.cx), CT_READY);
    ct_future_drop(&late.base);
    ct_aevent_destroy(&ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wakes_every_task),
        cmocka_unit_test(test_dropped_waiter_leaves),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
