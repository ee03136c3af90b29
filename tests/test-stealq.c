/* test-stealq.c - the work-stealing queue on its own: every operation,
 * wrap-around, overflow, and stealing under contention with exact counts
 * (every item taken exactly once). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "stealq.h"
#include "stress.h"

/* Items are small integers disguised as pointers (never 0). */
#define ITEM(i) ((void *)(uintptr_t)(i))
#define VALUE(p) ((size_t)(uintptr_t)(p))

static void test_push_pop_fifo(void **state)
{
    (void)state;
    struct ct_stealq q;
    ct_stealq_init(&q);
    assert_null(ct_stealq_pop(&q));
    assert_int_equal(ct_stealq_len(&q), 0);
    for (size_t i = 1; i <= 10; i++)
        assert_true(ct_stealq_push(&q, ITEM(i)));
    assert_int_equal(ct_stealq_len(&q), 10);
    for (size_t i = 1; i <= 10; i++)
        assert_int_equal(VALUE(ct_stealq_pop(&q)), i);
    assert_null(ct_stealq_pop(&q));
}

static void test_full_and_wrap_around(void **state)
{
    (void)state;
    struct ct_stealq q;
    ct_stealq_init(&q);
    /* many laps around the ring: the order holds across the wrap */
    size_t next_in = 1, next_out = 1;
    for (int lap = 0; lap < 10; lap++) {
        while (ct_stealq_push(&q, ITEM(next_in)))
            next_in++;
        assert_int_equal(ct_stealq_len(&q), CT_STEALQ_CAP);
        /* take a third out, leaving the rest for the next lap */
        for (int k = 0; k < CT_STEALQ_CAP / 3 + lap; k++)
            assert_int_equal(VALUE(ct_stealq_pop(&q)), next_out++);
    }
    while (next_out < next_in)
        assert_int_equal(VALUE(ct_stealq_pop(&q)), next_out++);
    assert_null(ct_stealq_pop(&q));
}

static void test_take_half(void **state)
{
    (void)state;
    struct ct_stealq q;
    ct_stealq_init(&q);
    void *out[CT_STEALQ_HALF];
    assert_true(ct_stealq_push(&q, ITEM(1)));
    assert_int_equal(ct_stealq_take_half(&q, out), 0);     /* not full */
    for (size_t i = 2; i <= CT_STEALQ_CAP; i++)
        assert_true(ct_stealq_push(&q, ITEM(i)));
    assert_false(ct_stealq_push(&q, ITEM(999)));
    assert_int_equal(ct_stealq_take_half(&q, out), CT_STEALQ_HALF);
    for (size_t i = 0; i < CT_STEALQ_HALF; i++)
        assert_int_equal(VALUE(out[i]), i + 1);
    assert_int_equal(ct_stealq_len(&q), CT_STEALQ_CAP - CT_STEALQ_HALF);
    assert_int_equal(VALUE(ct_stealq_pop(&q)), CT_STEALQ_HALF + 1);
}

static void test_steal_half(void **state)
{
    (void)state;
    struct ct_stealq victim, mine;
    ct_stealq_init(&victim);
    ct_stealq_init(&mine);
    size_t n = 0;
    assert_null(ct_stealq_steal(&victim, &mine, CT_STEALQ_HALF, &n));
    for (size_t i = 1; i <= 7; i++)
        ct_stealq_push(&victim, ITEM(i));
    /* half of 7, rounded up: 4; the first comes back, three land in mine */
    assert_int_equal(VALUE(ct_stealq_steal(&victim, &mine, CT_STEALQ_HALF, &n)), 1);
    assert_int_equal(n, 4);
    assert_int_equal(ct_stealq_len(&mine), 3);
    assert_int_equal(ct_stealq_len(&victim), 3);
    for (size_t i = 2; i <= 4; i++)
        assert_int_equal(VALUE(ct_stealq_pop(&mine)), i);
    for (size_t i = 5; i <= 7; i++)
        assert_int_equal(VALUE(ct_stealq_pop(&victim)), i);
    /* a cap on how many */
    for (size_t i = 1; i <= 100; i++)
        ct_stealq_push(&victim, ITEM(i));
    assert_non_null(ct_stealq_steal(&victim, &mine, 5, &n));
    assert_int_equal(n, 5);
}

/* The owner pushes and pops; thieves steal into queues of their own and
 * drain them.  Each item must be seen exactly once. */
#define THIEVES 3

struct shared {
    struct ct_stealq owner_q;
    struct ct_gate gate;
    atomic_bool done;
    size_t items;
    _Atomic unsigned char *seen;    /* per item: times taken */
};

struct thief {
    struct shared *sh;
    struct ct_stealq mine;
    size_t taken;
    pthread_t tid;
};

static void take(struct shared *sh, void *item, size_t *count)
{
    atomic_fetch_add_explicit(&sh->seen[VALUE(item)], 1, memory_order_relaxed);
    (*count)++;
}

static void *thief_main(void *arg)
{
    struct thief *t = arg;
    ct_gate_wait(&t->sh->gate, NULL);
    for (;;) {
        bool done = atomic_load_explicit(&t->sh->done, memory_order_acquire);
        size_t n = 0;
        void *item = ct_stealq_steal(&t->sh->owner_q, &t->mine, CT_STEALQ_HALF, &n);
        if (item) {
            take(t->sh, item, &t->taken);
            while ((item = ct_stealq_pop(&t->mine)))
                take(t->sh, item, &t->taken);
        } else if (done) {
            return NULL;
        }
    }
}

static void test_steal_under_contention(void **state)
{
    (void)state;
    struct shared sh = { .items = CT_STRESS(400000, 40000) };
    ct_stealq_init(&sh.owner_q);
    sh.seen = calloc(sh.items + 1, 1);
    assert_non_null(sh.seen);
    atomic_init(&sh.done, false);
    ct_gate_init(&sh.gate, THIEVES + 1);
    struct thief th[THIEVES];
    for (int i = 0; i < THIEVES; i++) {
        th[i] = (struct thief){ .sh = &sh };
        ct_stealq_init(&th[i].mine);
        assert_int_equal(pthread_create(&th[i].tid, NULL, thief_main, &th[i]), 0);
    }
    ct_gate_wait(&sh.gate, NULL);
    size_t owner_taken = 0, overflowed = 0;
    void *spill[CT_STEALQ_HALF];
    for (size_t i = 1; i <= sh.items; i++) {
        while (!ct_stealq_push(&sh.owner_q, ITEM(i))) {
            /* full: what an executor moves to its shared queue, taken here */
            size_t k = ct_stealq_take_half(&sh.owner_q, spill);
            for (size_t j = 0; j < k; j++)
                take(&sh, spill[j], &overflowed);
        }
        if (i % 3 == 0) {
            void *item = ct_stealq_pop(&sh.owner_q);
            if (item)
                take(&sh, item, &owner_taken);
        }
    }
    for (void *item; (item = ct_stealq_pop(&sh.owner_q));)
        take(&sh, item, &owner_taken);
    atomic_store_explicit(&sh.done, true, memory_order_release);
    size_t stolen = 0;
    for (int i = 0; i < THIEVES; i++) {
        assert_int_equal(pthread_join(th[i].tid, NULL), 0);
        stolen += th[i].taken;
    }
    assert_int_equal(owner_taken + stolen + overflowed, sh.items);
    for (size_t i = 1; i <= sh.items; i++) {
        if (sh.seen[i] != 1)
            fail_msg("item %zu taken %u times", i, (unsigned)sh.seen[i]);
    }
    free((void *)sh.seen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_pop_fifo),
        cmocka_unit_test(test_full_and_wrap_around),
        cmocka_unit_test(test_take_half),
        cmocka_unit_test(test_steal_half),
        cmocka_unit_test(test_steal_under_contention),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
