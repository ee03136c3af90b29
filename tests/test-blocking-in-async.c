/* test-blocking-in-async.c - demo `blocking-in-async` with short times:
 * every scenario runs and its checks hold (sleeps finished, one lock
 * holder at a time, every contender got the lock or gave up, exact
 * counter totals), with one worker or several and any subset of the
 * scenarios.  Gaps and missed ticks are timings: reported, not asserted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "stress.h"
#include "util.h"

static json_t *run(const char *const *args, int rows)
{
    int code;
    json_t *j = ct_demo_json("blocking-in-async", args, &code);
    assert_non_null(j);
    dj_assert_checks(j);        /* before the exit code: names a failed check */
    assert_int_equal(code, 0);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    assert_int_equal(json_array_size(dj_table(j, "scenarios")), rows);
    return j;
}

static void test_all_scenarios(void **state)
{
    (void)state;
    for (int round = 0; round < CT_STRESS(3, 1); round++) {
        json_t *j = run((const char *const[]){ "tick-ms=5", "hold-ms=30", "give-up-ms=60",
                                               "iters=3000", NULL }, 5);
        /* 2 + 2 + 2 + 3 + 1 checks */
        assert_int_equal(json_array_size(json_object_get(j, "checks")), 10);
        assert_int_equal(dj_cell_int(dj_row(j, "scenarios", "scenario", "async-mutex"),
                                     "gave_up"), 0);
        json_decref(j);
    }
}

/* One worker, three contenders: with the async mutex all of them get it. */
static void test_one_worker(void **state)
{
    (void)state;
    json_t *j = run((const char *const[]){ "workers=1", "jobs=3", "tick-ms=5", "hold-ms=20",
                                           "give-up-ms=40", "iters=500",
                                           "scenarios=blocking-lock,async-mutex,short-lock",
                                           NULL }, 3);
    assert_null(dj_row(j, "scenarios", "scenario", "thread-sleep"));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_scenarios),
        cmocka_unit_test(test_one_worker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
