/* test-joinset-lib.c - the join set primitive (demos/lib/joinset.h; the
 * demo `joinset` has test-joinset.c): results come out in completion order,
 * each task exactly once, outcomes told apart; dropping the set cancels
 * exactly the tasks that had not finished, even while they are being
 * polled on other workers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "exec.h"
#include "joinset.h"
#include "testfut.h"

#define MAX_TASKS 64

/* The next result, awaited from the test's thread. */
static int next_result(struct ct_exec *ex, struct ct_joinset *s, struct ct_joinset_next *out)
{
    ct_joinset_next_init(out, s);
    return tf_block_on(ex, &out->base, 10);
}

/* Tasks released one at a time in a shuffled order come out in exactly
 * that order, whatever their spawn order. */
static void test_completion_order(void **state)
{
    (void)state;
    enum { N = 12 };
    struct ct_exec *ex = tf_exec(CT_EXEC_MULTI_THREAD, 2);
    struct ct_joinset s;
    assert_int_equal(ct_joinset_init(&s, ex), 0);
    atomic_int counter;
    atomic_init(&counter, 0);
    struct ct_waker_slot slots[N];
    struct tf_stats st = { 0 };
    int target[N];
    for (int i = 0; i < N; i++)
        target[i] = (i * 5) % N + 1;        /* a permutation of 1..N */
    for (int i = 0; i < N; i++) {
        assert_int_equal(ct_waker_slot_init(&slots[i]), 0);
        struct tf_remote r;
        tf_remote_init(&r, &counter, target[i], &slots[i], &st);
        size_t slot;
        assert_int_equal(ct_joinset_spawn(&s, &r, &slot), 0);
        assert_int_equal(slot, i);
        assert_null(r.base.ops);            /* moved into the task */
    }
    assert_int_equal(ct_joinset_len(&s), N);
    for (int k = 1; k <= N; k++) {
        atomic_store(&counter, k);
        for (int i = 0; i < N; i++)
            ct_waker_slot_wake(&slots[i]);
        struct ct_joinset_next nx;
        assert_int_equal(next_result(ex, &s, &nx), 0);
        assert_false(nx.empty);
        assert_int_equal(target[nx.slot], k);
        assert_int_equal(nx.status, CT_JOIN_OK);
        assert_int_equal(ct_joinset_len(&s), N - k);
    }
    struct ct_joinset_next nx;
    assert_int_equal(next_result(ex, &s, &nx), 0);
    assert_true(nx.empty);
    size_t discarded = 99;
    assert_int_equal(ct_joinset_drop(&s, &discarded), 0);
    assert_int_equal(discarded, 0);
    ct_exec_free(ex);
    for (int i = 0; i < N; i++)
        ct_waker_slot_destroy(&slots[i]);
    assert_int_equal(atomic_load(&st.completions), N);
    assert_int_equal(atomic_load(&st.drops), N);
}

/* Ok, failed and panicked tasks are told apart, each reported once, with
 * its own output. */
static void test_outcomes(void **state)
{
    (void)state;
    for (int flavor = 0; flavor < 2; flavor++) {
        enum { N = 30 };
        struct ct_exec *ex = tf_exec(flavor ? CT_EXEC_MULTI_THREAD : CT_EXEC_CURRENT_THREAD, 2);
        struct ct_joinset s;
        assert_int_equal(ct_joinset_init(&s, ex), 0);
        struct tf_stats st = { 0 };
        for (int i = 0; i < N; i++) {
            struct tf_yield y;
            tf_yield_init(&y, i % 4, 1000 + i, &st);
            y.out_error = i % 5 == 0 ? -EIO : 0;
            y.panic = i % 7 == 3;
            assert_int_equal(ct_joinset_spawn(&s, &y, NULL), 0);
        }
        bool seen[N] = { false };
        int ok = 0, failed = 0, panicked = 0;
        for (int k = 0; k < N; k++) {
            struct ct_joinset_next nx;
            assert_int_equal(next_result(ex, &s, &nx), 0);
            assert_false(nx.empty);
            assert_true(nx.slot >= 0 && nx.slot < N);
            assert_false(seen[nx.slot]);
            seen[nx.slot] = true;
            int i = (int)nx.slot;
            if (i % 7 == 3) {
                assert_int_equal(nx.status, CT_JOIN_PANICKED);
                assert_non_null(strstr(nx.panic, "test panic"));
                panicked++;
            } else if (i % 5 == 0) {
                assert_int_equal(nx.status, CT_JOIN_FAILED);
                assert_int_equal(nx.base.error, -EIO);
                failed++;
            } else {
                assert_int_equal(nx.status, CT_JOIN_OK);
                assert_int_equal(nx.base.value, 1000 + i);
                ok++;
            }
        }
        assert_int_equal(ok + failed + panicked, N);
        assert_int_equal(panicked, 4);      /* 3, 10, 17, 24 */
        assert_int_equal(failed, 6 - 1);    /* 0, 5, 15, 20, 25 (10 panics) */
        struct ct_joinset_next nx;
        assert_int_equal(next_result(ex, &s, &nx), 0);
        assert_true(nx.empty);
        assert_int_equal(ct_joinset_drop(&s, NULL), 0);
        ct_exec_free(ex);
        assert_int_equal(atomic_load(&st.drops), N);
    }
}

/* Tasks that never finish are cancelled by the drop: counted, dropped. */
static void test_drop_cancels_the_rest(void **state)
{
    (void)state;
    enum { FOREVER = 7, QUICK = 5 };
    struct ct_exec *ex = tf_exec(CT_EXEC_MULTI_THREAD, 2);
    struct ct_joinset s;
    assert_int_equal(ct_joinset_init(&s, ex), 0);
    struct tf_stats forever = { 0 }, quick = { 0 };
    int nf = 0;
    for (int i = 0; i < FOREVER + QUICK; i++) {
        /* alternate while both kinds are left, then the rest */
        if (nf < FOREVER && (i % 2 == 0 || i - nf >= QUICK)) {
            nf++;
            struct tf_forever f;
            tf_forever_init(&f, &forever);
            assert_int_equal(ct_joinset_spawn(&s, &f, NULL), 0);
        } else {
            struct tf_yield y;
            tf_yield_init(&y, 1, i, &quick);
            assert_int_equal(ct_joinset_spawn(&s, &y, NULL), 0);
        }
    }
    for (int k = 0; k < QUICK; k++) {
        struct ct_joinset_next nx;
        assert_int_equal(next_result(ex, &s, &nx), 0);
        assert_int_equal(nx.status, CT_JOIN_OK);
    }
    size_t discarded = 99;
    assert_int_equal(ct_joinset_drop(&s, &discarded), FOREVER);
    assert_int_equal(discarded, 0);
    /* the cancelled tasks' futures are dropped on their next turn */
    int64_t deadline = ct_clock_ns() + 10 * CT_NS_PER_S;
    while (atomic_load(&forever.drops) < FOREVER && ct_clock_ns() < deadline)
        ;
    assert_int_equal(atomic_load(&forever.drops), FOREVER);
    ct_exec_free(ex);
    assert_int_equal(atomic_load(&quick.completions), QUICK);
    assert_int_equal(atomic_load(&quick.drops), QUICK);
}

/* Finished but never joined: discarded, not cancelled. */
static void test_drop_discards_finished(void **state)
{
    (void)state;
    enum { N = 9 };
    struct ct_exec *ex = tf_exec(CT_EXEC_MULTI_THREAD, 2);
    struct ct_joinset s;
    assert_int_equal(ct_joinset_init(&s, ex), 0);
    struct tf_stats st = { 0 };
    for (int i = 0; i < N; i++) {
        struct tf_yield y;
        tf_yield_init(&y, 0, i, &st);
        assert_int_equal(ct_joinset_spawn(&s, &y, NULL), 0);
    }
    int64_t deadline = ct_clock_ns() + 10 * CT_NS_PER_S;
    while (atomic_load(&st.drops) < N && ct_clock_ns() < deadline)
        ;
    assert_int_equal(atomic_load(&st.drops), N);
    size_t discarded = 0;
    assert_int_equal(ct_joinset_drop(&s, &discarded), 0);
    assert_int_equal(discarded, N);
    ct_exec_free(ex);
}

/* The drop races with tasks finishing on two workers: joined + cancelled
 * + discarded is every task, and the cancelled count is exactly the tasks
 * whose own future never finished. */
static void test_drop_races_with_completion(void **state)
{
    (void)state;
    int rounds = TF_SCALE(300, 40);
    unsigned seed = 12345;
    struct ct_exec *ex = tf_exec(CT_EXEC_MULTI_THREAD, 2);
    for (int r = 0; r < rounds; r++) {
        int n = 1 + (int)(rand_r(&seed) % MAX_TASKS);
        int take = (int)(rand_r(&seed) % (unsigned)(n + 1));
        struct tf_stats st = { 0 };
        struct ct_joinset s;
        assert_int_equal(ct_joinset_init(&s, ex), 0);
        for (int i = 0; i < n; i++) {
            struct tf_yield y;
            tf_yield_init(&y, (int)(rand_r(&seed) % 40), i, &st);
            assert_int_equal(ct_joinset_spawn(&s, &y, NULL), 0);
        }
        for (int k = 0; k < take; k++) {
            struct ct_joinset_next nx;
            assert_int_equal(next_result(ex, &s, &nx), 0);
            assert_int_equal(nx.status, CT_JOIN_OK);
        }
        size_t discarded;
        size_t cancelled = ct_joinset_drop(&s, &discarded);
        assert_int_equal((size_t)take + cancelled + discarded, (size_t)n);
        /* every future is dropped in the end; count once they all are */
        int64_t deadline = ct_clock_ns() + 10 * CT_NS_PER_S;
        while (atomic_load(&st.drops) < n && ct_clock_ns() < deadline)
            ;
        assert_int_equal(atomic_load(&st.drops), n);
        assert_int_equal(atomic_load(&st.completions), n - (int)cancelled);
    }
    ct_exec_free(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_completion_order),
        cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_drop_cancels_the_rest),
        cmocka_unit_test(test_drop_discards_finished),
        cmocka_unit_test(test_drop_races_with_completion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
