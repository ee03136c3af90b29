/* test-gate.c - the starting gate lets nobody through before everybody
 * has arrived, and gives way to cancellation or an explicit open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>

#include "gate.h"

enum { PARTIES = 6, ROUNDS = 300 };

struct arg {
    struct ct_gate *gate;
    struct ct_event *cancel;
    bool passed;
    int seen_arrived;   /* arrivals counted when this worker got through */
};

static void *worker(void *p)
{
    struct arg *a = p;
    a->passed = ct_gate_wait(a->gate, a->cancel);
    a->seen_arrived = atomic_load(&a->gate->arrived);
    return NULL;
}

static void test_nobody_passes_early(void **state)
{
    (void)state;
    for (int round = 0; round < ROUNDS; round++) {
        struct ct_gate g;
        pthread_t t[PARTIES];
        struct arg a[PARTIES];
        ct_gate_init(&g, PARTIES);
        for (int i = 0; i < PARTIES; i++) {
            a[i] = (struct arg){ &g, NULL, false, 0 };
            assert_int_equal(pthread_create(&t[i], NULL, worker, &a[i]), 0);
        }
        for (int i = 0; i < PARTIES; i++)
            assert_int_equal(pthread_join(t[i], NULL), 0);
        for (int i = 0; i < PARTIES; i++) {
            assert_true(a[i].passed);
            assert_int_equal(a[i].seen_arrived, PARTIES);
        }
    }
}

static void test_open_and_cancel(void **state)
{
    (void)state;
    struct ct_gate g;
    struct ct_event cancel;
    pthread_t t;
    struct arg a;
    assert_int_equal(ct_event_init(&cancel), 0);

    /* one of three parties shows up; cancellation lets it go, unpassed */
    ct_gate_init(&g, 3);
    a = (struct arg){ &g, &cancel, true, 0 };
    assert_int_equal(pthread_create(&t, NULL, worker, &a), 0);
    ct_event_set(&cancel);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_false(a.passed);
    ct_event_destroy(&cancel);

    /* opening the gate lets a lone worker through */
    ct_gate_init(&g, 3);
    a = (struct arg){ &g, NULL, false, 0 };
    assert_int_equal(pthread_create(&t, NULL, worker, &a), 0);
    ct_gate_open(&g);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_true(a.passed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nobody_passes_early),
        cmocka_unit_test(test_open_and_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
