/* test-compartments.c - bulkhead.h (named apart from demo `bulkhead`,
 * whose test is test-bulkhead.c).  Compartments: never more holders than
 * permits, a full compartment leaves the others untouched, waits end by
 * timeout or cancel with nothing taken, and a compartment backed by an
 * outside pool takes and gives back its permits through that pool,
 * balanced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "bulkhead.h"
#include "clock.h"
#include "stress.h"

static void test_limit_and_independence(void **state)
{
    (void)state;
    struct ct_bulkhead b;
    ct_bulkhead_init(&b);
    int hi = ct_bulkhead_add(&b, "high", 2);
    int lo = ct_bulkhead_add(&b, "low", 3);
    assert_int_equal(hi, 0);
    assert_int_equal(lo, 1);
    assert_int_equal(ct_bulkhead_add(&b, "bad", 0), -EINVAL);

    /* fill low: three in, the fourth finds it full */
    bool waited = true;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ct_bulkhead_enter(&b, lo, 0, NULL, &waited), 0);
        assert_false(waited);
    }
    assert_int_equal(ct_bulkhead_enter(&b, lo, 0, NULL, &waited), -ETIMEDOUT);
    assert_true(waited);
    /* high is as free as ever */
    assert_int_equal(ct_bulkhead_enter(&b, hi, 0, NULL, &waited), 0);
    assert_false(waited);
    assert_int_equal(ct_bulkhead_enter(&b, hi, 0, NULL, &waited), 0);
    assert_int_equal(ct_bulkhead_enter(&b, hi, 0, NULL, &waited), -ETIMEDOUT);

    /* a bounded wait gives up after its timeout, holding nothing */
    int64_t t0 = ct_clock_ns();
    assert_int_equal(ct_bulkhead_enter(&b, lo, 20 * CT_NS_PER_MS, NULL, &waited), -ETIMEDOUT);
    assert_true(ct_clock_ns() - t0 >= 20 * CT_NS_PER_MS);

    /* one leaves: one more gets in */
    ct_bulkhead_leave(&b, lo);
    assert_int_equal(ct_bulkhead_enter(&b, lo, 0, NULL, &waited), 0);

    struct ct_compartment_stats st;
    ct_bulkhead_get_stats(&b, lo, &st);
    assert_int_equal(st.limit, 3);
    assert_int_equal(st.in_use, 3);
    assert_int_equal(st.max_in_use, 3);
    assert_int_equal(st.entered, 4);
    assert_int_equal(st.gave_up, 2);
    ct_bulkhead_get_stats(&b, hi, &st);
    assert_int_equal(st.entered, 2);
    assert_int_equal(st.gave_up, 1);
    for (int i = 0; i < 3; i++)
        ct_bulkhead_leave(&b, lo);
    for (int i = 0; i < 2; i++)
        ct_bulkhead_leave(&b, hi);
    ct_bulkhead_destroy(&b);
}

struct waiter {
    struct ct_bulkhead *b;
    int c;
    struct ct_event *cancel;
    int rc;
    bool waited;
};

static void *wait_in(void *arg)
{
    struct waiter *w = arg;
    w->rc = ct_bulkhead_enter(w->b, w->c, -1, w->cancel, &w->waited);
    return NULL;
}

/* A waiter on a full compartment: cancelled, it takes nothing; released
 * to, it gets in. */
static void test_cancel_and_handover(void **state)
{
    (void)state;
    struct ct_bulkhead b;
    struct ct_event cancel;
    assert_int_equal(ct_event_init(&cancel), 0);
    ct_bulkhead_init(&b);
    int c = ct_bulkhead_add(&b, "one", 1);
    assert_int_equal(ct_bulkhead_enter(&b, c, -1, NULL, NULL), 0);

    pthread_t t;
    struct waiter w = { &b, c, &cancel, 1, false };
    assert_int_equal(pthread_create(&t, NULL, wait_in, &w), 0);
    ct_event_set(&cancel);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(w.rc, -ECANCELED);

    w = (struct waiter){ &b, c, NULL, 1, false };
    assert_int_equal(pthread_create(&t, NULL, wait_in, &w), 0);
    ct_bulkhead_leave(&b, c);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(w.rc, 0);
    ct_bulkhead_leave(&b, c);

    struct ct_compartment_stats st;
    ct_bulkhead_get_stats(&b, c, &st);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.max_in_use, 1);
    assert_int_equal(st.gave_up, 1);
    ct_bulkhead_destroy(&b);
    ct_event_destroy(&cancel);
}

/* ---- many threads, two compartments ------------------------------------- */

enum { PER_COMPARTMENT = 5, LIMIT_A = 2, LIMIT_B = 3 };

struct occupancy {
    atomic_int inside, max;
};

struct hammer {
    struct ct_bulkhead *b;
    int c;
    struct occupancy *occ;
    int rounds;
    int entered, waited;
};

static void *hammer(void *arg)
{
    struct hammer *h = arg;
    for (int i = 0; i < h->rounds; i++) {
        bool waited;
        if (ct_bulkhead_enter(h->b, h->c, -1, NULL, &waited) != 0)
            continue;
        int n = atomic_fetch_add(&h->occ->inside, 1) + 1;
        int m = atomic_load(&h->occ->max);
        while (n > m && !atomic_compare_exchange_weak(&h->occ->max, &m, n))
            ;
        if (i % 8 == 0)
            sched_yield();          /* hold it a little while, now and then */
        atomic_fetch_sub(&h->occ->inside, 1);
        ct_bulkhead_leave(h->b, h->c);
        h->entered++;
        h->waited += waited;
    }
    return NULL;
}

/* Counts its calls, so the test can see that every acquire was paired
 * with a release; the permits themselves come from a built-in pool. */
struct counted {
    struct ct_bulkhead inner;
    atomic_long acquired, released;
};

static int counted_acquire(void *pool, int64_t timeout_ns, struct ct_event *cancel)
{
    struct counted *p = pool;
    int rc = ct_bulkhead_enter(&p->inner, 0, timeout_ns, cancel, NULL);
    if (rc == 0)
        atomic_fetch_add(&p->acquired, 1);
    return rc;
}

static void counted_release(void *pool)
{
    struct counted *p = pool;
    atomic_fetch_add(&p->released, 1);
    ct_bulkhead_leave(&p->inner, 0);
}

static void test_never_over_the_limit(void **state)
{
    (void)state;
    struct ct_bulkhead b;
    struct counted *outside = calloc(1, sizeof *outside);
    ct_bulkhead_init(&outside->inner);
    assert_int_equal(ct_bulkhead_add(&outside->inner, "pool", LIMIT_B), 0);
    ct_bulkhead_init(&b);
    assert_int_equal(ct_bulkhead_add(&b, "a", LIMIT_A), 0);
    struct ct_permits p = { counted_acquire, counted_release, outside };
    assert_int_equal(ct_bulkhead_add_permits(&b, "b", LIMIT_B, &p), 1);

    struct occupancy occ[2] = { 0 };
    pthread_t t[2 * PER_COMPARTMENT];
    struct hammer h[2 * PER_COMPARTMENT];
    int rounds = CT_STRESS(20000, 2000);
    for (int i = 0; i < 2 * PER_COMPARTMENT; i++) {
        h[i] = (struct hammer){ &b, i % 2, &occ[i % 2], rounds, 0, 0 };
        assert_int_equal(pthread_create(&t[i], NULL, hammer, &h[i]), 0);
    }
    int entered[2] = { 0, 0 }, waited[2] = { 0, 0 };
    for (int i = 0; i < 2 * PER_COMPARTMENT; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        entered[i % 2] += h[i].entered;
        waited[i % 2] += h[i].waited;
    }
    static const int limit[2] = { LIMIT_A, LIMIT_B };
    for (int c = 0; c < 2; c++) {
        struct ct_compartment_stats st;
        ct_bulkhead_get_stats(&b, c, &st);
        assert_int_equal(entered[c], PER_COMPARTMENT * rounds);
        assert_int_equal(st.entered, (uint64_t)entered[c]);
        assert_int_equal(st.waited, (uint64_t)waited[c]);
        assert_int_equal(st.in_use, 0);
        assert_true(st.max_in_use <= limit[c]);
        assert_true(atomic_load(&occ[c].max) <= limit[c]);
        assert_int_equal(atomic_load(&occ[c].inside), 0);
    }
    assert_int_equal(atomic_load(&outside->acquired), PER_COMPARTMENT * rounds);
    assert_int_equal(atomic_load(&outside->released), PER_COMPARTMENT * rounds);
    ct_bulkhead_destroy(&b);
    ct_bulkhead_destroy(&outside->inner);
    free(outside);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit_and_independence),
        cmocka_unit_test(test_cancel_and_handover),
        cmocka_unit_test(test_never_over_the_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
