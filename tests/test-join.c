/* test-join.c - demo `join`: awaiting in turn never has two operations in
 * flight; join has all three in flight at once; every operation completes
 * once in each mode (the demo's checks), whatever the three lengths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        json_t *j = ct_demo_ok("join", (const char *const[]){ a, b, c, NULL });
        json_t *seq = dj_row(j, "modes", "mode", "sequential (sum)");
        json_t *join = dj_row(j, "modes", "mode", "join (max)");
        assert_non_null(seq);
        assert_non_null(join);
        assert_int_equal(dj_cell_int(seq, "in_flight"), 1);
        assert_int_equal(dj_cell_int(join, "in_flight"), 3);
        json_decref(j);
    }
}

/* One long operation and two of 1 ms: joining saves about 2 ms of 202,
 * a ratio that prints as "1.0x faster" and reads as no gain.  The
 * takeaway says the saving in ms instead, the one the modes table shows;
 * only a ratio that rounds above 1.0x is given as "x faster". */
static void test_small_saving_in_ms(void **state)
{
    (void)state;
    int code;
    json_t *j = ct_demo_json("join", (const char *const[]){ "one-ms=200", "two-ms=1",
                                                            "three-ms=1", NULL }, &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    dj_assert_checks(j);
    double seq = dj_num(j, "sequential_ms"), join = dj_num(j, "join_ms");
    double speedup = dj_num(j, "speedup");
    const char *t = dj_takeaway(j);
    assert_null(strstr(t, "1.0x faster"));
    const char *sooner = strstr(t, " ms sooner"), *faster = strstr(t, "x faster");
    if (faster) {
        assert_true(speedup >= 1.04);
    } else if (sooner) {
        const char *p = sooner;
        while (p > t && p[-1] != ' ')
            p--;
        double ms = strtod(p, NULL);
        assert_true(ms > 0);
        assert_true(ms > seq - join - 0.15 && ms < seq - join + 0.15);
        assert_true(speedup <= 1.06);
    } else {
        assert_non_null(strstr(t, "no sooner"));
        assert_true(seq <= join + 0.1);
    }
    json_decref(j);
}

/* The summary's speed-up and the takeaway's "x faster" are one value
 * rounded one way (once they read "1.75 x" and "1.8x faster"). */
static void test_one_rounding(void **state)
{
    (void)state;
    struct ct_proc p;
    assert_int_equal(ct_tutor(&p, (const char *const[]){ "run", "join", "one-ms=70",
                                                         "two-ms=50", "three-ms=20", NULL }),
                     0);
    assert_int_equal(p.status, 0);
    const char *row = strstr(p.out, "join speed-up");
    assert_non_null(row);
    row += strlen("join speed-up");
    double summary = strtod(row, NULL);
    char shown[32];
    snprintf(shown, sizeof shown, "%.1f x\n", summary);
    assert_non_null(strstr(row, shown));    /* one decimal, then the unit */
    snprintf(shown, sizeof shown, ": %.1fx faster", summary);
    assert_non_null(strstr(p.out, shown));
    ct_proc_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_flight),
        cmocka_unit_test(test_small_saving_in_ms),
        cmocka_unit_test(test_one_rounding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
