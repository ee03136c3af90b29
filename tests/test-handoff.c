/* test-handoff.c - the runner's cache-line hand-off probe (demo.h): a
 * plausible figure with two CPUs, none with one, the caller's CPUs given
 * back afterwards, and the rule for "the CPUs moved during the run". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sched.h>
#include <stdbool.h>

#include "demo.h"

bool ct_handoff_changed(double start_ns, double end_ns);

static int usable_cpus(cpu_set_t *set)
{
    assert_int_equal(sched_getaffinity(0, sizeof *set, set), 0);
    return CPU_COUNT(set);
}

static void test_two_cpus(void **state)
{
    (void)state;
    cpu_set_t before, after;
    if (usable_cpus(&before) < 2)
        skip();
    double ns = ct_line_handoff_ns();
    /* a real hand-off takes tens to hundreds of ns; under a sanitizer
     * more, but never a millisecond (the partner would have given up) */
    assert_true(ns > 0 && ns < 1e6);
    assert_int_equal(usable_cpus(&after), CPU_COUNT(&before));
    assert_true(CPU_EQUAL(&before, &after));
}

static void test_one_cpu(void **state)
{
    (void)state;
    cpu_set_t all, one;
    usable_cpus(&all);
    int first = 0;
    while (!CPU_ISSET(first, &all))
        first++;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    assert_int_equal(sched_setaffinity(0, sizeof one, &one), 0);
    double ns = ct_line_handoff_ns();
    assert_int_equal(sched_setaffinity(0, sizeof all, &all), 0);
    assert_true(ns == -1);
}

static void test_changed(void **state)
{
    (void)state;
    assert_true(ct_handoff_changed(30, 170));
    assert_true(ct_handoff_changed(170, 30));
    assert_true(ct_handoff_changed(30, 60));
    assert_false(ct_handoff_changed(30, 59));
    assert_false(ct_handoff_changed(-1, 170));
    assert_false(ct_handoff_changed(30, -1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_cpus),
        cmocka_unit_test(test_one_cpu),
        cmocka_unit_test(test_changed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
