/* test-combinators.c - join waits for all; select picks the first and
 * cancels every loser exactly once; timeout fires, or does not, as it
 * should.  Order and counts are asserted, never timings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>

#include "clock.h"
#include "combinators.h"
#include "exec.h"
#include "testfut.h"

static void test_join_all(void **state)
{
    (void)state;
    struct ct_exec *ex = tf_exec(CT_EXEC_CURRENT_THREAD, 1);
    for (int round = 0; round < 50; round++) {
        struct tf_stats st = { 0 };
        struct tf_yield a, b, c;
        tf_yield_init(&a, round % 4, 1, &st);
        tf_yield_init(&b, (round + 1) % 3, 2, &st);
        tf_yield_init(&c, round % 5, 3, &st);
        if (round % 7 == 0)
            b.out_error = -EIO;
        struct ct_future *kids[] = { &a.base, &b.base, &c.base };
        struct ct_join j;
        ct_join_init(&j, kids, 3);
        assert_int_equal(tf_block_on(ex, &j.base, 30), 0);
        assert_int_equal(j.base.value, 3);
        assert_int_equal(j.base.error, round % 7 == 0 ? -EIO : 0);
        /* every child finished once and was dropped once; outputs kept */
        assert_int_equal(atomic_load(&st.completions), 3);
        assert_int_equal(atomic_load(&st.drops), 3);
        assert_int_equal(a.base.value + b.base.value + c.base.value, 6);
    }
    ct_exec_free(ex);
}

/* The first ready child wins: with children that become ready after k_i
 * polls, the winner is the smallest k_i (lowest index on a tie). */
static void test_select_cancels_losers(void **state)
{
    (void)state;
    enum { KIDS = 5 };
    struct ct_exec *ex = tf_exec(CT_EXEC_CURRENT_THREAD, 1);
    unsigned seed = 7;
    for (int round = 0; round < 200; round++) {
        struct tf_stats st[KIDS] = { 0 };
        struct tf_yield y[KIDS];
        struct ct_future *kids[KIDS];
        int best = 0, yields[KIDS];
        for (int i = 0; i < KIDS; i++) {
            seed = seed * 1103515245u + 12345u;
            yields[i] = (int)((seed >> 16) % 6);
            tf_yield_init(&y[i], yields[i], 100 + i, &st[i]);
            kids[i] = &y[i].base;
            if (yields[i] < yields[best])
                best = i;
        }
        struct ct_select s;
        ct_select_init(&s, kids, KIDS);
        assert_int_equal(tf_block_on(ex, &s.base, 30), 0);
        assert_int_equal(s.winner, best);
        assert_int_equal(s.base.value, 100 + best);
        for (int i = 0; i < KIDS; i++) {
            /* each child, winner or loser, was dropped exactly once */
            assert_int_equal(atomic_load(&st[i].drops), 1);
            assert_int_equal(atomic_load(&st[i].completions), i == best ? 1 : 0);
            /* and never polled after the race was decided */
            assert_true(atomic_load(&st[i].polls) <= yields[best] + 1);
            assert_null(kids[i]->ops);
        }
    }
    ct_exec_free(ex);
}

/* A select dropped before anything won drops every child once. */
static void test_select_dropped_early(void **state)
{
    (void)state;
    struct tf_waker w;
    tf_waker_init(&w);
    struct tf_stats st = { 0 };
    struct tf_forever a, b;
    tf_forever_init(&a, &st);
    tf_forever_init(&b, &st);
    struct ct_future *kids[] = { &a.base, &b.base };
    struct ct_select s;
    ct_select_init(&s, kids, 2);
    assert_int_equal(ct_future_poll(&s.base, &w.cx), CT_PENDING);
    assert_int_equal(ct_future_poll(&s.base, &w.cx), CT_PENDING);
    ct_future_drop(&s.base);
    ct_future_drop(&s.base);
    assert_int_equal(atomic_load(&st.drops), 2);
    assert_int_equal(atomic_load(&st.polls), 4);
    assert_int_equal(s.winner, -1);
}

static void test_timeout_fires(void **state)
{
    (void)state;
    for (int fl = 0; fl < 2; fl++) {
        struct ct_exec *ex = tf_exec(fl ? CT_EXEC_MULTI_THREAD : CT_EXEC_CURRENT_THREAD, 2);
        struct tf_stats st = { 0 };
        struct tf_forever never;
        tf_forever_init(&never, &st);
        struct ct_timeout t;
        ct_timeout_init(&t, &never.base, 5 * CT_NS_PER_MS);
        assert_int_equal(tf_block_on(ex, &t.base, 30), 0);
        assert_int_equal(t.base.error, -ETIMEDOUT);
        assert_int_equal(t.race.winner, 1);
        assert_int_equal(atomic_load(&st.drops), 1);      /* cancelled, once */
        assert_int_equal(atomic_load(&st.completions), 0);
        ct_future_drop(&t.base);
        assert_int_equal(atomic_load(&st.drops), 1);
        assert_int_equal(ct_reactor_pending(ct_exec_reactor(ex)), 0);
        ct_exec_free(ex);
    }
}

static void test_timeout_does_not_fire(void **state)
{
    (void)state;
    struct ct_exec *ex = tf_exec(CT_EXEC_CURRENT_THREAD, 1);
    for (int yields = 0; yields < 10; yields++) {
        struct tf_stats st = { 0 };
        struct tf_yield y;
        tf_yield_init(&y, yields, 77, &st);
        struct ct_timeout t;
        ct_timeout_init(&t, &y.base, 60 * CT_NS_PER_S);
        assert_int_equal(tf_block_on(ex, &t.base, 30), 0);
        assert_int_equal(t.base.error, 0);
        assert_int_equal(t.base.value, 77);
        assert_int_equal(atomic_load(&st.completions), 1);
        assert_int_equal(atomic_load(&st.drops), 1);
        /* the deadline's timer went with it */
        assert_int_equal(ct_reactor_pending(ct_exec_reactor(ex)), 0);
    }
    /* a tie goes to the operation: it is polled before its deadline */
    struct tf_stats st = { 0 };
    struct tf_yield y;
    tf_yield_init(&y, 0, 5, &st);
    struct ct_timeout t;
    ct_timeout_init(&t, &y.base, 0);
    assert_int_equal(tf_block_on(ex, &t.base, 30), 0);
    assert_int_equal(t.base.error, 0);
    assert_int_equal(t.base.value, 5);
    ct_exec_free(ex);
}

/* A timeout dropped before its first poll still cancels its operation. */
static void test_timeout_never_polled(void **state)
{
    (void)state;
    struct tf_stats st = { 0 };
    struct tf_forever f;
    tf_forever_init(&f, &st);
    struct ct_timeout t;
    ct_timeout_init(&t, &f.base, CT_NS_PER_S);
    ct_future_drop(&t.base);
    assert_int_equal(atomic_load(&st.drops), 1);
    assert_int_equal(atomic_load(&st.polls), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_all),
        cmocka_unit_test(test_select_cancels_losers),
        cmocka_unit_test(test_select_dropped_early),
        cmocka_unit_test(test_timeout_fires),
        cmocka_unit_test(test_timeout_does_not_fire),
        cmocka_unit_test(test_timeout_never_polled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
