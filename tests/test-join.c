/* test-join.c - demo `join`: awaiting in turn never overlaps and takes at
 * least the sum; join overlaps all three and takes at least the longest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>

#include "util.h"

static void test_sum_and_max(void **state)
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
        assert_int_equal(code, 0);
        assert_true(dj_checks_ok(j));
        int sum = ms[k][0] + ms[k][1] + ms[k][2];
        int max = ms[k][0] > ms[k][1] ? ms[k][0] : ms[k][1];
        max = ms[k][2] > max ? ms[k][2] : max;
        assert_true(dj_num(j, "sequential_ms") >= sum);
        assert_true(dj_num(j, "join_ms") >= max);
        json_t *seq = dj_row(j, "modes", "mode", "sequential (sum)");
        json_t *join = dj_row(j, "modes", "mode", "join (max)");
        assert_non_null(seq);
        assert_non_null(join);
        assert_int_equal(dj_cell_num(seq, "in_flight"), 1);
        assert_int_equal(dj_cell_num(join, "in_flight"), 3);
        assert_int_equal(dj_cell_num(seq, "expect_ms"), sum);
        assert_int_equal(dj_cell_num(join, "expect_ms"), max);
        assert_int_equal(dj_num(j, "threads"), 1);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sum_and_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
