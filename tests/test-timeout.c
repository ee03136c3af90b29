/* test-timeout.c - demo `timeout`: an operation far inside its deadline
 * completes, one far outside it times out, each cleaned up exactly once
 * (and the demo's checks: never both outcomes, no timer left). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "util.h"

static json_t *run(const char *deadline, const char *fast, const char *slow)
{
    json_t *j = ct_demo_ok("timeout", (const char *const[]){ deadline, fast, slow, NULL });
    json_t *row;
    size_t i;
    json_array_foreach(dj_table(j, "operations"), i, row)
        assert_int_equal(dj_cell_num(row, "cleanups"), 1);
    return j;
}

static void test_in_time_and_not(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        json_t *j = run("deadline-ms=100", "fast-ms=2", "slow-ms=3000");
        assert_string_equal(dj_text(j, "fast_outcome"), "completed");
        assert_string_equal(dj_text(j, "slow_outcome"), "timed out");
        json_decref(j);
    }
    json_t *j = run("deadline-ms=2000", "fast-ms=1", "slow-ms=2");
    assert_string_equal(dj_text(j, "fast_outcome"), "completed");
    assert_string_equal(dj_text(j, "slow_outcome"), "completed");
    json_decref(j);
    j = run("deadline-ms=5", "fast-ms=3000", "slow-ms=3000");
    assert_string_equal(dj_text(j, "fast_outcome"), "timed out");
    assert_string_equal(dj_text(j, "slow_outcome"), "timed out");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_time_and_not),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
