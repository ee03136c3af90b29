/* test-producers.c - demo `producers`: with the original sender dropped the
 * loop ends by itself; with it kept, the hang is reported with exactly one
 * live sender, and dropping it late closes the channel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>

#include "util.h"
#include "demo-json.h"

static void test_both_runs(void **state)
{
    (void)state;
    static const char *const counts[] = { "producers=1", "producers=5", "producers=32" };
    for (size_t k = 0; k < 3; k++) {
        int code;
        json_t *j = ct_demo_json("producers",
                                 (const char *const[]){ counts[k], "jitter=5", "wait=20", NULL },
                                 &code);
        assert_int_equal(code, 0);
        assert_int_equal(ct_json_assert_checks_ok(j), 5);
        int n;
        assert_int_equal(sscanf(counts[k], "producers=%d", &n), 1);
        assert_int_equal(ct_json_result_int(j, "dropped_received"), n);
        assert_int_equal(ct_json_result_int(j, "forgotten_received"), n);
        assert_int_equal(ct_json_result_int(j, "senders_at_hang"), 1);
        assert_true(ct_json_result_int(j, "hang_wait_ms") >= 0);
        json_decref(j);
    }
}

static void test_scenario_selection(void **state)
{
    (void)state;
    int code;
    json_t *j = ct_demo_json("producers",
                             (const char *const[]){ "scenarios=dropped", "jitter=0", NULL }, &code);
    assert_int_equal(code, 0);
    assert_int_equal(ct_json_assert_checks_ok(j), 2);
    assert_null(json_object_get(json_object_get(j, "results"), "senders_at_hang"));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_both_runs),
        cmocka_unit_test(test_scenario_selection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
