/* test-join.c - demo `join`: awaiting in turn never has two operations in
 * flight; join has all three in flight at once; every operation completes
 * once in each mode (the demo's checks), whatever the three lengths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>

#include "util.h"

static void test_in_flight(void **state)
{
    (void)state;
    static const int ms[][3] = { { 20, 10, 5 }, { 5, 10, 20 }, { 10, 10, 10 }, { 1, 30, 2 } };
    for (size_t k = 0; k < sizeof ms / sizeof ms[0]; k++) {
        char a[32], b[32], c[32];
        snprintf(a, sizeof a, "one-ms=%d", ms[k][0]);
        snprintf(b, sizeof b, "two-ms=%d", ms[k][1]);
        snprintf(c, sizeof c, "three-ms=%d", ms[k][2]);
        int code;
        json_t *j = ct_demo_json("join", (const char *const[]){ a, b, c, NULL }, &code);
        assert_non_null(j);
        assert_true(dj_assert_checks(j) > 0);
        assert_int_equal(code, 0);
        json_t *seq = dj_row(j, "modes", "mode", "sequential (sum)");
        json_t *join = dj_row(j, "modes", "mode", "join (max)");
        assert_non_null(seq);
        assert_non_null(join);
        assert_int_equal(dj_cell_int(seq, "in_flight"), 1);
        assert_int_equal(dj_cell_int(join, "in_flight"), 3);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
