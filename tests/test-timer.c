/* test-timer.c - the reactor and the sleep future: timers fire in deadline
 * order, never early, all of them, and a dropped sleep leaves no timer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>

#include "clock.h"
#include "exec.h"
#include "reactor.h"
#include "testfut.h"
#include "timer.h"

/* What a sleeper saw. */
struct outcome {
    int64_t deadline, woke_at;
    int position;               /* in the order of finishing */
    bool waited;                /* its first poll was PENDING */
};

/* Sleeps until its deadline, then records when it finished and in which
 * position. */
struct sleeper {
    struct ct_future base;
    struct ct_sleep s;
    int pc;
    struct outcome *out;
    atomic_int *order;
};

static enum ct_poll sleeper_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct sleeper *z = (struct sleeper *)f;
    CT_ASYNC_BEGIN(z->pc);
    ct_sleep_until_init(&z->s, z->out->deadline);
    if (ct_future_poll(&z->s.base, cx) == CT_PENDING) {
        z->out->waited = true;
        CT_AWAIT(z->pc, &z->s.base, cx);
    }
    ct_future_drop(&z->s.base);
    z->out->woke_at = ct_clock_ns();
    z->out->position = atomic_fetch_add(z->order, 1);
    CT_ASYNC_END(z->pc);
    return CT_READY;
}

static void sleeper_drop(struct ct_future *f)
{
    ct_future_drop(&((struct sleeper *)f)->s.base);
}

static const struct ct_future_ops sleeper_ops = { "sleeper", sleeper_poll, sleeper_drop };

/* Each sleeper is its own task: the reactor wakes due timers in deadline
 * order and the current-thread run queue is FIFO, so tasks that waited
 * finish in deadline order, however late the thread gets to them. */
static void test_deadline_order(void **state)
{
    (void)state;
    enum { N = 200 };
    struct ct_exec *ex = tf_exec(CT_EXEC_CURRENT_THREAD, 1);
    struct outcome *out = calloc(N, sizeof *out);
    struct ct_join_handle *h = calloc(N, sizeof *h);
    atomic_int order = 0;
    unsigned seed = 12345;
    int64_t base = ct_clock_ns() + 20 * CT_NS_PER_MS;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        out[i].deadline = base + (int64_t)((seed >> 16) % 40) * CT_NS_PER_MS;
        struct sleeper z = { .base = { .ops = &sleeper_ops }, .out = &out[i], .order = &order };
        assert_int_equal(ct_spawn(ex, &z, &h[i]), 0);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(tf_block_on(ex, &h[i].base, 30), 0);
    int waited = 0;
    for (int i = 0; i < N; i++) {
        assert_true(out[i].woke_at >= out[i].deadline);     /* never early */
        waited += out[i].waited;
        for (int j = 0; j < N; j++) {
            /* an earlier deadline never finishes after a later one */
            if (out[i].waited && out[j].waited && out[i].deadline < out[j].deadline)
                assert_true(out[i].position < out[j].position);
        }
    }
    assert_true(waited > 0);
    assert_int_equal(ct_reactor_pending(ct_exec_reactor(ex)), 0);
    ct_exec_free(ex);
    free(h);
    free(out);
}

static void test_many_timers_multi_thread(void **state)
{
    (void)state;
    const int n = TF_SCALE(10000, 2000);
    struct ct_exec *ex = tf_exec(CT_EXEC_MULTI_THREAD, 2);
    struct ct_join_handle *h = calloc((size_t)n, sizeof *h);
    struct outcome *out = calloc((size_t)n, sizeof *out);
    int64_t now = ct_clock_ns();
    atomic_int order = 0;
    for (int i = 0; i < n; i++) {
        out[i].deadline = now + (i % 50) * CT_NS_PER_MS;
        struct sleeper z = { .base = { .ops = &sleeper_ops }, .out = &out[i], .order = &order };
        assert_int_equal(ct_spawn(ex, &z, &h[i]), 0);
    }
    for (int i = 0; i < n; i++) {
        assert_int_equal(tf_block_on(ex, &h[i].base, 30), 0);
        assert_int_equal(h[i].status, CT_JOIN_OK);
        assert_true(out[i].woke_at >= out[i].deadline);
    }
    free(out);
    assert_int_equal(atomic_load(&order), n);
    assert_int_equal(ct_reactor_pending(ct_exec_reactor(ex)), 0);
    ct_exec_free(ex);
    free(h);
}

static void test_drop_unregisters(void **state)
{
    (void)state;
    struct ct_reactor r;
    assert_int_equal(ct_reactor_init(&r), 0);
    struct tf_waker w;
    tf_waker_init(&w);
    w.cx.reactor = &r;
    struct ct_sleep s[3];
    for (int i = 0; i < 3; i++) {
        ct_sleep_init(&s[i], (i + 1) * 3600 * CT_NS_PER_S);
        assert_int_equal(ct_future_poll(&s[i].base, &w.cx), CT_PENDING);
    }
    assert_int_equal(ct_reactor_pending(&r), 3);
    assert_int_equal(atomic_load(&w.refs), 3);          /* one clone per timer */
    ct_future_drop(&s[1].base);                          /* from the middle */
    assert_int_equal(ct_reactor_pending(&r), 2);
    assert_int_equal(atomic_load(&w.refs), 2);
    ct_future_drop(&s[0].base);
    ct_future_drop(&s[2].base);
    assert_int_equal(ct_reactor_pending(&r), 0);
    assert_int_equal(atomic_load(&w.refs), 0);
    assert_int_equal(atomic_load(&w.wakes), 0);

    /* a due timer fires on the next turn, and only once */
    struct ct_sleep now;
    ct_sleep_init(&now, 1 * CT_NS_PER_MS);
    assert_int_equal(ct_future_poll(&now.base, &w.cx), CT_PENDING);
    int fired = 0;
    for (int i = 0; i < 1000 && fired == 0; i++)
        fired = ct_reactor_turn(&r, 100 * CT_NS_PER_MS);
    assert_int_equal(fired, 1);
    assert_int_equal(atomic_load(&w.wakes), 1);
    assert_int_equal(ct_future_poll(&now.base, &w.cx), CT_READY);
    assert_int_equal(ct_reactor_turn(&r, 0), 0);
    ct_future_drop(&now.base);
    assert_int_equal(atomic_load(&w.refs), 0);
    ct_reactor_destroy(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deadline_order),
        cmocka_unit_test(test_many_timers_multi_thread),
        cmocka_unit_test(test_drop_unregisters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
