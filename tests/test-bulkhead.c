/* test-bulkhead.c - demo `bulkhead`, run as a process with small
 * parameters (the primitive itself is tested by test-compartments.c):
 * with a compartment of their own and no more threads than permits, no
 * high-priority request ever finds its compartment full, however hard the
 * batch jobs flood theirs; the flood really fills the low compartment;
 * nobody is ever over a limit and every entry is a finished request; and
 * with more high threads than permits the demo says so instead of
 * claiming the bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static json_t *run_bulkhead(const char *const *params, size_t want_checks)
{
    json_t *j = ct_demo_proc_json("bulkhead", params, 60);
    assert_int_equal(dj_assert_checks(j), want_checks);
    return j;
}

static json_t *phase_row(json_t *j, const char *table, const char *phase)
{
    json_t *row = dj_row(j, table, "phase", phase);
    assert_non_null(row);
    return row;
}

/* The takeaway blames batch jobs for nothing, and names a price for the
 * batch jobs only when they could use more than their compartment and
 * did fewer jobs in it than sharing the pool. */
static void assert_takeaway_fits(json_t *j, int low, int low_permits)
{
    const char *t = dj_takeaway(j);
    assert_null(strstr(t, "by batch jobs"));
    long long shared = dj_cell_int(phase_row(j, "low", "shared pool"), "jobs");
    long long boxed = dj_cell_int(phase_row(j, "low", "bulkhead"), "jobs");
    bool price = strstr(t, "The price") != NULL;
    assert_int_equal(price, low > low_permits && boxed < shared);
    assert_true(price || strstr(t, "cost them nothing"));
}

#define QUICK "phase=150", "low-work=10", "high-work=1", "high-gap=1", "low-gap=1"

static void test_high_never_finds_its_compartment_full(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        json_t *j = run_bulkhead((const char *const[]){ QUICK, NULL }, 4);
        json_t *hi = phase_row(j, "high", "bulkhead");
        json_t *lo = phase_row(j, "low", "bulkhead");
        assert_true(dj_cell_int(hi, "requests") > 0);
        assert_int_equal(dj_cell_int(hi, "waited"), 0);
        assert_int_equal(dj_int(j, "high_waited_bulkhead"), 0);
        /* six flooding threads, two permits: full, and filled to the brim */
        assert_true(dj_cell_int(lo, "waited") > 0);
        assert_int_equal(dj_cell_int(lo, "max_in"), 2);
        /* the shared pool of four was never over its limit either */
        assert_true(dj_cell_int(phase_row(j, "low", "shared pool"), "max_in") <= 4);
        assert_int_equal(json_array_size(dj_table(j, "high")), 2);
        assert_int_equal(dj_int(j, "samples_dropped"), 0);
        json_decref(j);
    }
}

/* Bigger compartments: the same holds with four high threads in four
 * permits against a flood of twelve in three. */
static void test_bigger_compartments(void **state)
{
    (void)state;
    json_t *j = run_bulkhead((const char *const[]){ QUICK, "high=4", "high-permits=4", "low=12",
                                                    "low-permits=3", NULL },
                             4);
    assert_int_equal(dj_cell_int(phase_row(j, "high", "bulkhead"), "waited"), 0);
    assert_int_equal(dj_cell_int(phase_row(j, "low", "bulkhead"), "max_in"), 3);
    json_decref(j);
}

/* More high threads than high permits: the no-wait claim is not made (one
 * check fewer); fewer flooding threads than low permits: nor is the
 * "filled" one. */
static void test_claims_only_what_the_sizes_allow(void **state)
{
    (void)state;
    json_t *j = run_bulkhead((const char *const[]){ QUICK, "high=3", "high-permits=2", NULL }, 3);
    json_decref(j);
    j = run_bulkhead((const char *const[]){ QUICK, "low=1", "low-permits=2", NULL }, 3);
    assert_int_equal(dj_cell_int(phase_row(j, "low", "bulkhead"), "max_in"), 1);
    assert_takeaway_fits(j, 1, 2);
    json_decref(j);
}

/* Many high threads for one high permit and a lone batch thread: the
 * requests that found no permit free met other requests, not batch jobs,
 * and the lone batch thread lost nothing to its compartment. */
static void test_takeaway_follows_the_sizes(void **state)
{
    (void)state;
    json_t *j = run_bulkhead((const char *const[]){ QUICK, "high=6", "high-permits=1", "low=1",
                                                    "low-permits=1", NULL }, 2);
    assert_takeaway_fits(j, 1, 1);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_high_never_finds_its_compartment_full),
        cmocka_unit_test(test_bigger_compartments),
        cmocka_unit_test(test_claims_only_what_the_sizes_allow),
        cmocka_unit_test(test_takeaway_follows_the_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
