/* test-mutex.c - demo `mutex`: exact counts in both phases, one holder at
 * a time (by the demo's own counter and by its timeline), and the tight
 * loop skipped when asked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "util.h"

/* The "holding" intervals of all lanes, from the JSON timeline, must be
 * disjoint: the marks are made inside the critical section. */
static void assert_holds_disjoint(json_t *j, int expect_lanes)
{
    struct dj_span s[64];
    int n = dj_hold_spans(j, s, 64);
    assert_int_equal(n, expect_lanes);
    for (int a = 0; a < n; a++) {
        for (int b = a + 1; b < n; b++)
            assert_true(s[a].to <= s[b].from || s[b].to <= s[a].from);
    }
}

static void test_counts_and_exclusion(void **state)
{
    (void)state;
    for (int round = 0; round < 5; round++) {
        int code;
        json_t *j = ct_demo_json("mutex",
                                 (const char *const[]){ "threads=6", "hold-ms=1", "iters=20000",
                                                        NULL },
                                 &code);
        assert_non_null(j);
        assert_int_equal(code, 0);
        assert_true(dj_assert_checks(j) > 0);
        assert_int_equal(dj_int(j, "once_count"), 6);
        assert_int_equal(dj_int(j, "once_max_holders"), 1);
        assert_int_equal(dj_int(j, "loop_count"), 6 * 20000);
        assert_int_equal(json_array_size(json_object_get(json_object_get(j, "tables"), "once")),
                         2);
        assert_holds_disjoint(j, 6);
        json_decref(j);
    }
}

static void test_loop_skipped(void **state)
{
    (void)state;
    int code;
    json_t *j = ct_demo_json("mutex",
                             (const char *const[]){ "threads=1", "hold-ms=0", "iters=0", NULL },
                             &code);
    assert_int_equal(code, 0);
    assert_true(dj_assert_checks(j) > 0);
    assert_int_equal(dj_int(j, "once_count"), 1);
    assert_null(json_object_get(json_object_get(j, "results"), "loop_count"));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_exclusion),
        cmocka_unit_test(test_loop_skipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
