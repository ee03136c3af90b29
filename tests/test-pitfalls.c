/* test-pitfalls.c - demo `pitfalls`: both versions of each pitfall keep
 * the log intact (every task's pair side by side), the failures and
 * panics happen as planned, the detached version reports none of them
 * and the kept handles report all, and the blocking sleep runs on a
 * worker (bad) or a blocking-pool thread (good).  Times are reported, not
 * asserted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "stress.h"
#include "util.h"

static long long reported(json_t *j, const char *version)
{
    json_t *r;
    size_t i;
    json_array_foreach(dj_table(j, "pitfalls"), i, r) {
        if (strcmp(dj_cell_text(r, "pitfall"), "lost errors") == 0 &&
            strcmp(dj_cell_text(r, "version"), version) == 0)
            return dj_cell_int(r, "value");
    }
    fail_msg("no 'lost errors' row for %s", version);
    return -1;
}

static void run_case(const char *tasks, long long failures)
{
    int code;
    json_t *j = ct_demo_json("pitfalls", (const char *const[]){ tasks, "fetch-ms=8",
                                                               "block-ms=25", "tick-ms=5",
                                                               NULL }, &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    assert_int_equal(dj_assert_checks(j), 7);
    assert_int_equal(json_array_size(dj_table(j, "pitfalls")), 6);
    assert_int_equal(reported(j, "bad"), 0);
    assert_int_equal(reported(j, "good"), failures);
    json_decref(j);
}

static void test_sizes(void **state)
{
    (void)state;
    for (int round = 0; round < CT_STRESS(2, 1); round++) {
        run_case("tasks=2", 1);         /* task 1 panics */
        run_case("tasks=6", 3);         /* and tasks 2 and 5 fail */
        run_case("tasks=16", 6);        /* 1 panic, failures at 2, 5, 8, 11, 14 */
    }
}

static double gap(json_t *j, const char *version)
{
    json_t *r;
    size_t i;
    json_array_foreach(dj_table(j, "pitfalls"), i, r) {
        if (strcmp(dj_cell_text(r, "pitfall"), "blocking the runtime") == 0 &&
            strcmp(dj_cell_text(r, "version"), version) == 0)
            return dj_cell_num(r, "value");
    }
    fail_msg("no 'blocking the runtime' row for %s", version);
    return -1;
}

/* A sleep shorter than the ticker's period does not stall it: the
 * takeaway may blame the sleep for a silence only when the run's own
 * longest gap is well past a period and longer than the fix's. */
static void test_short_sleep_no_stall_claimed(void **state)
{
    (void)state;
    int code;
    json_t *j = ct_demo_json("pitfalls", (const char *const[]){ "tasks=2", "fetch-ms=1",
                                                               "block-ms=1", "tick-ms=20",
                                                               NULL }, &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    double period = 20 * json_number_value(json_object_get(j, "scale"));
    double bad = gap(j, "bad"), good = gap(j, "good");
    const char *t = dj_takeaway(j);
    bool stalled = bad > 1.5 * period + 0.1 && bad > good + 0.1;
    bool calm = bad < 1.5 * period - 0.1 || bad < good - 0.1;
    if (strstr(t, "left the ticker silent"))
        assert_false(calm);
    else
        assert_false(stalled);
    assert_true(strstr(t, "left the ticker silent") || strstr(t, "hardly held up"));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_short_sleep_no_stall_claimed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
