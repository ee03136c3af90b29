/* lucky-test checker: the student's test is run 10 times against a broken
 * counter (it must say 1 every time) and 3 times against a correct one
 * (0 every time).  The broken add loses updates whenever the threads'
 * adds interleave: no undefined behaviour, just the race made certain. */
#include "exercise.h"

struct counter {
    atomic_long value;
    _Atomic(void *) last;       /* the thread that added last */
};

static void *counter_create(void)
{
    struct counter *c = calloc(1, sizeof *c);
    if (!c)
        ex_fail("out of memory");
    return c;
}

/* Loses the update of a thread that resumes adding after another thread
 * added in between: what a real racy read-modify-write does when threads
 * interleave, on one CPU or two.  Threads that run one after the other
 * never lose anything. */
static _Thread_local void *tl_counter;
static _Thread_local long tl_adds;

static void broken_add(void *p)
{
    struct counter *c = p;
    if (tl_counter != p) {
        tl_counter = p;
        tl_adds = 0;
    }
    void *self = &tl_adds;
    void *prev = atomic_exchange(&c->last, self);
    bool interleaved = prev != NULL && prev != self && tl_adds > 0;
    tl_adds++;
    if (!interleaved)
        atomic_fetch_add(&c->value, 1);
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
