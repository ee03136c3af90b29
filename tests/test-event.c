/* test-event.c - the one-shot event behind cancellation and start gates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>

#include "clock.h"
#include "event.h"

static void test_timeout_and_set(void **state)
{
    (void)state;
    struct ct_event e;
    assert_int_equal(ct_event_init(&e), 0);
    assert_false(ct_event_is_set(&e));
    int64_t t0 = ct_clock_ns();
    assert_false(ct_event_wait_timeout(&e, 20 * CT_NS_PER_MS));
    assert_true(ct_clock_ns() - t0 >= 20 * CT_NS_PER_MS);   /* a timed wait waits */
    assert_false(ct_event_wait_timeout(&e, 0));
    ct_event_set(&e);
    ct_event_set(&e);                                       /* idempotent */
    assert_true(ct_event_is_set(&e));
    assert_true(ct_event_wait_timeout(&e, 0));
    assert_true(ct_event_wait_timeout(&e, CT_NS_PER_S));
    ct_event_destroy(&e);
}

enum { WAITERS = 8, ROUNDS = 200 };

struct waiter {
    struct ct_event *ev;
    atomic_int *woken;
    bool saw_set;
};

static void *wait_main(void *arg)
{
    struct waiter *w = arg;
    /* generous bound: only a lost wake-up would come near it */
    w->saw_set = ct_event_wait_timeout(w->ev, 10 * CT_NS_PER_S);
    atomic_fetch_add(w->woken, 1);
    return NULL;
}

/* Every waiter wakes on set, however the set races with their waits. */
static void test_wakes_all_waiters(void **state)
{
    (void)state;
    for (int round = 0; round < ROUNDS; round++) {
        struct ct_event e;
        atomic_int woken = 0;
        pthread_t t[WAITERS];
        struct waiter w[WAITERS];
        assert_int_equal(ct_event_init(&e), 0);
        for (int i = 0; i < WAITERS; i++) {
            w[i] = (struct waiter){ &e, &woken, false };
            assert_int_equal(pthread_create(&t[i], NULL, wait_main, &w[i]), 0);
        }
        ct_event_set(&e);
        for (int i = 0; i < WAITERS; i++)
            assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(atomic_load(&woken), WAITERS);
        for (int i = 0; i < WAITERS; i++)
            assert_true(w[i].saw_set);
        ct_event_destroy(&e);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timeout_and_set),
        cmocka_unit_test(test_wakes_all_waiters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
