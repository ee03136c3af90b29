/* test-amutex.c - the async mutex: exclusive even when held across awaits,
 * waiting yields the thread, waiters are served in order, and a waiter
 * cancelled at any point neither loses the mutex nor keeps it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "amutex.h"
#include "exec.h"
#include "testfut.h"

/* Lock, read, yield (an await while holding it), write back, unlock. */
struct incr {
    struct ct_future base;
    int pc, left;
    struct ct_amutex *m;
    long *counter;              /* guarded by m, plain on purpose */
    atomic_int *holders, *max_holders;
    struct ct_amutex_lock lk;
    struct ct_yield y;
    long seen;
};

static enum ct_poll incr_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct incr *t = (struct incr *)f;
    CT_ASYNC_BEGIN(t->pc);
    while (t->left > 0) {
        ct_amutex_lock_init(&t->lk, t->m);
        CT_AWAIT(t->pc, &t->lk.base, cx);
        {
            int h = atomic_fetch_add(t->holders, 1) + 1;
            if (h > atomic_load(t->max_holders))
                atomic_store(t->max_holders, h);
        }
        t->seen = *t->counter;
        ct_yield_init(&t->y);
        CT_AWAIT(t->pc, &t->y.base, cx);
        *t->counter = t->seen + 1;
        atomic_fetch_sub(t->holders, 1);
        ct_amutex_unlock(t->m);
        t->left--;
    }
    CT_ASYNC_END(t->pc);
    return CT_READY;
}

static void incr_drop(struct ct_future *f)
{
    struct incr *t = (struct incr *)f;
    ct_future_drop(&t->lk.base);
    ct_future_drop(&t->y.base);
}

static const struct ct_future_ops incr_ops = { "incr", incr_poll, incr_drop };

static void test_exclusive_across_awaits(void **state)
{
    (void)state;
    enum { TASKS = 8 };
    const int iters = TF_SCALE(2000, 200);
    for (int fl = 0; fl < 2; fl++) {
        /* current-thread: if waiting blocked the thread, the holder could
         * never run again to unlock, and this would time out */
        struct ct_exec *ex = tf_exec(fl ? CT_EXEC_MULTI_THREAD : CT_EXEC_CURRENT_THREAD, 2);
        struct ct_amutex m;
        assert_int_equal(ct_amutex_init(&m), 0);
        long counter = 0;
        atomic_int holders = 0, max_holders = 0;
        struct ct_join_handle h[TASKS];
        for (int i = 0; i < TASKS; i++) {
            struct incr t = { .base = { .ops = &incr_ops }, .left = iters, .m = &m,
                              .counter = &counter, .holders = &holders,
                              .max_holders = &max_holders };
            assert_int_equal(ct_spawn(ex, &t, &h[i]), 0);
        }
        for (int i = 0; i < TASKS; i++) {
            assert_int_equal(tf_block_on(ex, &h[i].base, 60), 0);
            assert_int_equal(h[i].status, CT_JOIN_OK);
        }
        assert_int_equal(counter, (long)TASKS * iters);
        assert_int_equal(atomic_load(&max_holders), 1);
        assert_true(m.contended > 0);       /* they did wait for each other */
        assert_true(ct_amutex_try_lock(&m));
        ct_amutex_unlock(&m);
        ct_exec_free(ex);
        ct_amutex_destroy(&m);
    }
}

/* By hand: FIFO hand-over, and cancellation before and after a grant. */
static void test_fifo_and_cancel(void **state)
{
    (void)state;
    struct tf_waker w[4];
    for (int i = 0; i < 4; i++)
        tf_waker_init(&w[i]);
    struct ct_amutex m;
    assert_int_equal(ct_amutex_init(&m), 0);
    struct ct_amutex_lock l[4];
    for (int i = 0; i < 4; i++)
        ct_amutex_lock_init(&l[i], &m);
    assert_int_equal(ct_future_poll(&l[0].base, &w[0].cx), CT_READY);
    for (int i = 1; i < 4; i++)
        assert_int_equal(ct_future_poll(&l[i].base, &w[i].cx), CT_PENDING);
    assert_false(ct_amutex_try_lock(&m));

    /* l[1] gives up while queued: it simply leaves */
    ct_future_drop(&l[1].base);
    assert_int_equal(atomic_load(&w[1].refs), 0);

    /* unlock hands over to the first in line, l[2], and wakes only it */
    ct_amutex_unlock(&m);
    assert_int_equal(atomic_load(&w[2].wakes), 1);
    assert_int_equal(atomic_load(&w[3].wakes), 0);
    assert_false(ct_amutex_try_lock(&m));   /* no barging in */

    /* l[2] is cancelled after the grant, before it saw it: l[3] gets it */
    ct_future_drop(&l[2].base);
    assert_int_equal(atomic_load(&w[3].wakes), 1);
    assert_int_equal(ct_future_poll(&l[3].base, &w[3].cx), CT_READY);
    ct_amutex_unlock(&m);
    assert_true(ct_amutex_try_lock(&m));
    ct_amutex_unlock(&m);
    for (int i = 0; i < 4; i++) {
        ct_future_drop(&l[i].base);
        assert_int_equal(atomic_load(&w[i].refs), 0);
    }
    ct_amutex_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exclusive_across_awaits),
        cmocka_unit_test(test_fifo_and_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
