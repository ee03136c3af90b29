/* test-race.c - demo `race`: the fixes and the one-thread racy loop count
 * every increment the workers made, over many runs; the rows are the ones
 * asked for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "util.h"

static json_t *run_race(const char *const *args)
{
    int code;
    json_t *j = ct_demo_json("race", args, &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    dj_assert_checks(j);
    return j;
}

/* Rows of the rounds table for `variant` run on `threads` threads. */
static int rows_of(json_t *j, const char *variant, long long threads, json_t **out, int max)
{
    json_t *r;
    size_t i;
    int n = 0;
    json_array_foreach(dj_table(j, "rounds"), i, r) {
        if (strcmp(dj_cell_text(r, "variant"), variant) == 0 &&
            dj_cell_int(r, "threads") == threads) {
            assert_true(n < max);
            out[n++] = r;
        }
    }
    return n;
}

static void test_fixes_count_every_increment(void **state)
{
    (void)state;
    const long long made = 4 * 50000;
    for (int round = 0; round < 10; round++) {
        json_t *j = run_race((const char *const[]){ "threads=4", "iters=50000", "rounds=2",
                                                    NULL });
        json_t *r[4];
        for (int v = 0; v < 2; v++) {
            const char *name = v ? "mutex" : "atomic";
            assert_int_equal(rows_of(j, name, 4, r, 4), 2);
            for (int k = 0; k < 2; k++) {
                assert_int_equal(dj_cell_int(r[k], "made"), made);
                assert_int_equal(dj_cell_int(r[k], "counted"), made);
            }
        }
        /* the racy loop on several threads promises only to do the work */
        assert_int_equal(rows_of(j, "racy", 4, r, 4), 2);
        assert_int_equal(dj_cell_int(r[0], "made"), made);
        assert_int_equal(dj_cell_int(r[1], "made"), made);
        /* the same racy loop alone is exact */
        assert_int_equal(rows_of(j, "racy", 1, r, 4), 1);
        assert_int_equal(dj_cell_int(r[0], "made"), 50000);
        assert_int_equal(dj_cell_int(r[0], "counted"), 50000);
        assert_int_equal(json_array_size(dj_table(j, "rounds")), 7);
        json_decref(j);
    }
}

static void test_one_thread_cannot_race(void **state)
{
    (void)state;
    json_t *j = run_race((const char *const[]){ "threads=1", "iters=100000", "rounds=3",
                                                "variants=racy", NULL });
    json_t *r[4];
    /* no separate control when the run itself has one thread */
    assert_int_equal(rows_of(j, "racy", 1, r, 4), 3);
    for (int k = 0; k < 3; k++)
        assert_int_equal(dj_cell_int(r[k], "counted"), 100000);
    assert_int_equal(json_array_size(dj_table(j, "rounds")), 3);
    json_decref(j);
}

static void test_variant_selection(void **state)
{
    (void)state;
    json_t *j = run_race((const char *const[]){ "threads=2", "iters=1000", "rounds=1",
                                                "variants=mutex", NULL });
    assert_int_equal(json_array_size(dj_table(j, "rounds")), 1);
    assert_int_equal(json_array_size(dj_table(j, "variants")), 1);
    assert_non_null(dj_row(j, "variants", "variant", "mutex"));
    assert_null(dj_row(j, "rounds", "variant", "racy"));
    assert_null(dj_row(j, "rounds", "variant", "atomic"));
    json_decref(j);
}

/* One or two rounds give one or two timings of each variant: the takeaway
 * says they are too few to compare, and calls nothing cheaper or faster
 * "in every round". */
static void test_few_rounds_judge_nothing(void **state)
{
    (void)state;
    for (int rounds = 1; rounds <= 2; rounds++) {
        char arg[16];
        snprintf(arg, sizeof arg, "rounds=%d", rounds);
        json_t *j = run_race((const char *const[]){ "threads=2", "iters=1000", arg, NULL });
        const char *t = dj_takeaway(j);
        assert_null(strstr(t, "every round"));
        assert_non_null(strstr(t, rounds == 1 ? "that is one timing of each, too few to say "
                                                "which is cheaper"
                                              : "two timings of each are too few to say "
                                                "which is cheaper"));
        assert_non_null(strstr(t, rounds == 1 ? "one timing of each, too few to say whether "
                                                "being wrong was faster"
                                              : "two timings of each, too few to say whether "
                                                "being wrong was faster"));
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixes_count_every_increment),
        cmocka_unit_test(test_one_thread_cannot_race),
        cmocka_unit_test(test_variant_selection),
        cmocka_unit_test(test_few_rounds_judge_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
