/* test-future.c - futures polled by hand: nothing runs until the first
 * poll, CT_AWAIT resumes where it left off, drops run once, wakers are
 * counted references, panics are caught. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "future.h"
#include "testfut.h"

/* An async function with three awaits, written with the macros. */
struct steps {
    struct ct_future base;
    int pc;
    int step;                   /* how far the body has got */
    struct ct_yield y;
    int drops;
};

static enum ct_poll steps_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct steps *s = (struct steps *)f;
    CT_ASYNC_BEGIN(s->pc);
    s->step = 1;
    ct_yield_init(&s->y);
    CT_AWAIT(s->pc, &s->y.base, cx);
    s->step = 2;
    ct_yield_init(&s->y);
    CT_AWAIT(s->pc, &s->y.base, cx);
    s->step = 3;
    ct_yield_init(&s->y);
    CT_AWAIT(s->pc, &s->y.base, cx);
    s->step = 4;
    CT_ASYNC_END(s->pc);
    f->value = 99;
    return CT_READY;
}

static void steps_drop(struct ct_future *f)
{
    struct steps *s = (struct steps *)f;
    ct_future_drop(&s->y.base);
    s->drops++;
}

static const struct ct_future_ops steps_ops = { "steps", steps_poll, steps_drop };

static void test_await_resumes(void **state)
{
    (void)state;
    struct tf_waker w;
    tf_waker_init(&w);
    struct steps s = { .base = { .ops = &steps_ops } };
    /* created: nothing has run */
    assert_int_equal(s.step, 0);
    for (int poll = 1; poll <= 3; poll++) {
        assert_int_equal(ct_future_poll(&s.base, &w.cx), CT_PENDING);
        assert_int_equal(s.step, poll);
        /* each PENDING came with a wake-up: the yield asked to be polled */
        assert_int_equal(atomic_load(&w.wakes), poll);
    }
    assert_int_equal(ct_future_poll(&s.base, &w.cx), CT_READY);
    assert_int_equal(s.step, 4);
    assert_int_equal(s.base.value, 99);
    ct_future_drop(&s.base);
    ct_future_drop(&s.base);            /* a second drop is a no-op */
    assert_int_equal(s.drops, 1);
    assert_null(s.base.ops);
    assert_int_equal(s.base.value, 99); /* the output outlives the drop */
    assert_int_equal(atomic_load(&w.refs), 0);
}

static void test_never_polled(void **state)
{
    (void)state;
    struct steps s = { .base = { .ops = &steps_ops } };
    ct_future_drop(&s.base);
    assert_int_equal(s.step, 0);        /* its body never ran */
    assert_int_equal(s.drops, 1);       /* its cleanup did */
    struct ct_future empty = { 0 };
    ct_future_drop(&empty);             /* an empty slot: nothing to do */
}

static void test_waker_slot(void **state)
{
    (void)state;
    struct tf_waker a, b;
    tf_waker_init(&a);
    tf_waker_init(&b);
    struct ct_waker_slot slot;
    assert_int_equal(ct_waker_slot_init(&slot), 0);
    assert_false(ct_waker_slot_wake(&slot));
    ct_waker_slot_register(&slot, &a.waker);
    ct_waker_slot_register(&slot, &a.waker);   /* same waker: not cloned again */
    assert_int_equal(atomic_load(&a.refs), 1);
    ct_waker_slot_register(&slot, &b.waker);   /* replaced: a's clone dropped */
    assert_int_equal(atomic_load(&a.refs), 0);
    assert_int_equal(atomic_load(&b.refs), 1);
    assert_true(ct_waker_slot_wake(&slot));
    assert_false(ct_waker_slot_wake(&slot));   /* the slot is empty again */
    assert_int_equal(atomic_load(&b.wakes), 1);
    assert_int_equal(atomic_load(&a.wakes), 0);
    assert_int_equal(atomic_load(&b.refs), 0);
    ct_waker_slot_register(&slot, &a.waker);
    ct_waker_slot_destroy(&slot);               /* drops what it holds */
    assert_int_equal(atomic_load(&a.refs), 0);
    assert_int_equal(atomic_load(&a.wakes), 0);
}

static void test_panic_caught(void **state)
{
    (void)state;
    struct tf_waker w;
    tf_waker_init(&w);
    struct tf_stats st = { 0 };
    struct tf_yield y;
    tf_yield_init(&y, 1, 5, &st);
    y.panic = true;
    bool panicked = true;
    char msg[64];
    assert_int_equal(ct_future_poll_catch(&y.base, &w.cx, &panicked, msg, sizeof msg), CT_PENDING);
    assert_false(panicked);
    assert_int_equal(ct_future_poll_catch(&y.base, &w.cx, &panicked, msg, sizeof msg), CT_READY);
    assert_true(panicked);
    assert_string_equal(msg, "test panic 5");
    assert_int_equal(atomic_load(&st.completions), 0);
    assert_null(w.cx.panic_);           /* the catcher cleaned up after itself */
    ct_future_drop(&y.base);
    assert_int_equal(atomic_load(&st.drops), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_await_resumes),
        cmocka_unit_test(test_never_polled),
        cmocka_unit_test(test_waker_slot),
        cmocka_unit_test(test_panic_caught),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
