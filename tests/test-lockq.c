/* test-lockq.c - the mutex + condvar baseline queue (demos/lib/lockq.h):
 * exactly once and in order per producer, bounded and growing, close and
 * cancel.  A baseline that lost messages would make the benchmark lie. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "lockq.h"
#include "stress.h"

enum { PRODUCERS = 4 };

struct shared {
    struct ct_lockq q;
    long per_producer;
    atomic_int left;
    atomic_long sent_done;
};

struct producer {
    struct shared *sh;
    uint32_t id;
    int rc;
};

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    for (long i = 0; i < p->sh->per_producer && p->rc == 0; i++) {
        uint64_t m = (uint64_t)p->id << 32 | (uint64_t)i;
        p->rc = ct_lockq_send(&p->sh->q, &m, NULL);
        atomic_fetch_add(&p->sh->sent_done, 1);
    }
    if (atomic_fetch_sub(&p->sh->left, 1) == 1)
        ct_lockq_close(&p->sh->q);
    return NULL;
}

static void run(size_t capacity, long per_producer)
{
    struct shared sh = { .per_producer = per_producer };
    atomic_init(&sh.left, PRODUCERS);
    atomic_init(&sh.sent_done, 0);
    assert_int_equal(ct_lockq_init(&sh.q, sizeof(uint64_t), capacity), 0);
    struct producer p[PRODUCERS];
    pthread_t t[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
        p[i] = (struct producer){ &sh, (uint32_t)i, 0 };
        assert_int_equal(pthread_create(&t[i], NULL, producer_main, &p[i]), 0);
    }
    long next[PRODUCERS] = { 0 }, wrong = 0, received = 0, over = 0;
    uint64_t m;
    int rc;
    while ((rc = ct_lockq_recv(&sh.q, &m, NULL)) == 0) {
        uint32_t id = (uint32_t)(m >> 32);
        if (id >= PRODUCERS || (long)(uint32_t)m != next[id]++)
            wrong++;
        received++;
        if (capacity != CT_LOCKQ_UNBOUNDED &&
            atomic_load(&sh.sent_done) - received > (long)capacity)
            over++;
    }
    for (int i = 0; i < PRODUCERS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(p[i].rc, 0);
        assert_int_equal(next[i], per_producer);
    }
    assert_int_equal(rc, -EPIPE);
    assert_int_equal(wrong, 0);
    assert_int_equal(over, 0);
    assert_int_equal(received, PRODUCERS * per_producer);
    ct_lockq_destroy(&sh.q);
}

static void test_stress(void **state)
{
    (void)state;
    long n = CT_STRESS(100000, 5000);
    run(CT_LOCKQ_UNBOUNDED, n);
    run(1, n / 4);
    run(1024, n);
}

static void test_close_and_cancel(void **state)
{
    (void)state;
    struct ct_lockq q;
    assert_int_equal(ct_lockq_init(&q, sizeof(int), 2), 0);
    int v = 1;
    assert_int_equal(ct_lockq_send(&q, &v, NULL), 0);
    v = 2;
    assert_int_equal(ct_lockq_send(&q, &v, NULL), 0);
    struct ct_event cancel;
    assert_int_equal(ct_event_init(&cancel), 0);
    ct_event_set(&cancel);
    v = 3;
    assert_int_equal(ct_lockq_send(&q, &v, &cancel), -ECANCELED);    /* full */
    ct_lockq_close(&q);
    assert_int_equal(ct_lockq_send(&q, &v, NULL), -EPIPE);
    assert_int_equal(ct_lockq_recv(&q, &v, NULL), 0);
    assert_int_equal(v, 1);
    assert_int_equal(ct_lockq_recv(&q, &v, NULL), 0);
    assert_int_equal(v, 2);
    assert_int_equal(ct_lockq_recv(&q, &v, NULL), -EPIPE);
    ct_lockq_destroy(&q);

    assert_int_equal(ct_lockq_init(&q, sizeof(int), CT_LOCKQ_UNBOUNDED), 0);
    assert_int_equal(ct_lockq_recv(&q, &v, &cancel), -ECANCELED);     /* empty */
    for (v = 0; v < 1000; v++)      /* grows past its first allocation, wrapped */
        assert_int_equal(ct_lockq_send(&q, &v, NULL), 0);
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(ct_lockq_recv(&q, &v, NULL), 0);
        assert_int_equal(v, i);
        if (i % 3 == 0) {
            int w = 1000 + i;
            assert_int_equal(ct_lockq_send(&q, &w, NULL), 0);
        }
    }
    ct_event_destroy(&cancel);
    ct_lockq_destroy(&q);
    assert_int_equal(ct_lockq_init(&q, 0, 4), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_and_cancel),
        cmocka_unit_test(test_stress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
