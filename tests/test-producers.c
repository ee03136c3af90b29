/* test-producers.c - demo `producers`: with the original sender dropped the
 * loop ends by itself; with it kept, the hang is reported with exactly one
 * live sender, and dropping it late closes the channel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>

#include "util.h"

static long long result(json_t *j, const char *key)
{
    return json_integer_value(json_object_get(json_object_get(j, "results"), key));
}

static void assert_checks_ok(json_t *j)
{
    json_t *c;
    size_t i;
    json_array_foreach(json_object_get(j, "checks"), i, c) {
        if (!json_is_true(json_object_get(c, "ok")))
            fail_msg("check failed: %s", json_string_value(json_object_get(c, "what")));
    }
}

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
        assert_checks_ok(j);
        int n;
        assert_int_equal(sscanf(counts[k], "producers=%d", &n), 1);
        assert_int_equal(result(j, "dropped_received"), n);
        assert_int_equal(result(j, "forgotten_received"), n);
        assert_int_equal(result(j, "senders_at_hang"), 1);
        assert_true(result(j, "hang_wait_ms") >= 0);
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
    assert_checks_ok(j);
    assert_int_equal(json_array_size(json_object_get(j, "checks")), 2);
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
