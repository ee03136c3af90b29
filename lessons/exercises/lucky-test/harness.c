/* lucky-test checker: the student's test is run 10 times against a broken
 * counter (it must say 1 every time) and 3 times against a correct one
 * (0 every time).  The broken add loses its update whenever another add is
 * running at the same moment: no undefined behaviour, just bad luck made
 * certain by overlap. */
#include "exercise.h"

struct counter {
    atomic_long value;
    atomic_int inside;
};

static void *counter_create(void)
{
    struct counter *c = calloc(1, sizeof *c);
    if (!c)
        ex_fail("out of memory");
    return c;
}

static void broken_add(void *p)
{
    struct counter *c = p;
    long v = atomic_load_explicit(&c->value, memory_order_relaxed);
    bool crowded = atomic_fetch_add(&c->inside, 1) > 0;
    for (volatile int spin = 0; spin < 20; spin++)
        ;
    if (!crowded)
        atomic_store_explicit(&c->value, v + 1, memory_order_relaxed);
    atomic_fetch_sub(&c->inside, 1);
}

static void good_add(void *p)
{
    struct counter *c = p;
    atomic_fetch_add(&c->value, 1);
}

static long counter_get(void *p)
{
    return atomic_load(&((struct counter *)p)->value);
}

static void counter_destroy(void *p)
{
    free(p);
}

#define main student_main
#include EX_STUDENT
#undef main

int main(void)
{
    const struct counter_ops broken = { counter_create, broken_add, counter_get,
                                        counter_destroy };
    const struct counter_ops good = { counter_create, good_add, counter_get, counter_destroy };
    int runs = EX_N(10, 3), good_runs = EX_N(3, 1);
    ex_watch(1.5 * (runs + good_runs), "your test took too long: keep it under a second a "
                                       "run");
    int caught = 0, false_alarms = 0;
    for (int i = 0; i < runs; i++)
        caught += test_counter(&broken) != 0;
    for (int i = 0; i < good_runs; i++)
        false_alarms += test_counter(&good) != 0;
    ex_watch_off();
    if (caught < runs)
        ex_fail("against the broken counter your test failed %d of %d times and passed %d: a "
                "test that passes a broken counter is passing by luck", caught, runs,
                runs - caught);
    if (false_alarms)
        ex_fail("against a correct counter your test failed %d of %d times: a test must not "
                "cry wolf either", false_alarms, good_runs);
    ex_pass("your test caught the broken counter %d times out of %d and passed the correct "
            "one every time", runs, runs);
}
