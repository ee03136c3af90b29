/* test-producers.c - demo `producers`: with the original sender dropped the
 * loop ends by itself; with it kept, the hang is reported with exactly one
 * live sender, and dropping it late closes the channel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>

#include "util.h"

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
        assert_int_equal(dj_assert_checks(j), 5);
        int n;
        assert_int_equal(sscanf(counts[k], "producers=%d", &n), 1);
        assert_int_equal(dj_int(j, "dropped_received"), n);
        assert_int_equal(dj_int(j, "forgotten_received"), n);
        assert_int_equal(dj_int(j, "senders_at_hang"), 1);
        /* a hang is called only after a whole timed wait of wait=20 ms */
        assert_true(dj_num(j, "hang_wait_ms") >= 20);
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
    assert_int_equal(dj_assert_checks(j), 2);
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
