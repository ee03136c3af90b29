/* test-contention.c - demo `contention` with small parameters: every
 * repetition of every way counts exactly threads x ops, the lock is taken
 * once per increment by lock-each and once per thread by local-once, and
 * a lone thread never finds the lock taken.  No speed is asserted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "stress.h"
#include "util.h"

/* demos/contention.c's verdict on two ranges of repetitions. */
int ct_contention_order(double a_min, double a_max, double b_min, double b_max, size_t reps);

static json_t *run(const char *const *args)
{
    int code;
    json_t *j = ct_demo_json("contention", args, &code);
    assert_non_null(j);
    dj_assert_checks(j);        /* before the exit code: names a failed check */
    assert_int_equal(code, 0);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    return j;
}

static void test_exact_counts(void **state)
{
    (void)state;
    for (int round = 0; round < CT_STRESS(3, 1); round++) {
        json_t *j = run((const char *const[]){ "threads=12", "ops=3000", "reps=2", NULL });
        json_t *rows = dj_table(j, "results");
        assert_int_equal(json_array_size(rows), 4);
        assert_int_equal(dj_cell_int(dj_row(j, "results", "way", "lock-each"), "locks"),
                         12 * 3000);
        assert_int_equal(dj_cell_int(dj_row(j, "results", "way", "local-once"), "locks"), 12);
        assert_int_equal(dj_cell_int(dj_row(j, "results", "way", "atomic"), "locks"), 0);
        assert_int_equal(dj_cell_int(dj_row(j, "results", "way", "sharded"), "locks"), 0);
        /* one check per way, each over every repetition */
        assert_int_equal(json_array_size(json_object_get(j, "checks")), 4);
        assert_string_equal(dj_text(j, "oversubscribed"), dj_int(j, "cpus") < 12 ? "yes" : "no");
        json_decref(j);
    }
}

/* One thread: nothing to contend with, so no lock is ever found taken. */
static void test_single_thread_never_waits(void **state)
{
    (void)state;
    json_t *j = run((const char *const[]){ "threads=1", "ops=5000", "reps=3",
                                           "ways=lock-each,local-once", NULL });
    assert_int_equal(json_array_size(dj_table(j, "results")), 2);
    assert_true(dj_cell_num(dj_row(j, "results", "way", "lock-each"), "taken_pct") == 0);
    assert_true(dj_cell_num(dj_row(j, "results", "way", "local-once"), "taken_pct") == 0);
    json_decref(j);
}

/* A subset of the ways: only those run and are checked; no speedup
 * without lock-each to compare with. */
static void test_subset(void **state)
{
    (void)state;
    json_t *j = run((const char *const[]){ "threads=4", "ops=100", "reps=1",
                                           "ways=atomic,sharded", NULL });
    assert_int_equal(json_array_size(dj_table(j, "results")), 2);
    assert_null(dj_row(j, "results", "way", "lock-each"));
    assert_null(json_object_get(json_object_get(j, "results"), "speedup_thread"));
    assert_int_equal(json_array_size(json_object_get(j, "checks")), 2);
    json_decref(j);
}

static const char *takeaway(json_t *j)
{
    const char *t = dj_takeaway(j);
    return t;
}

/* One increment per thread: both ways lock once per thread, and the
 * takeaway claims no saving and no speed-up. */
static void test_takeaway_nothing_saved(void **state)
{
    (void)state;
    json_t *j = run((const char *const[]){ "threads=2", "ops=1", "reps=2",
                                           "ways=lock-each,local-once", NULL });
    assert_int_equal(dj_cell_int(dj_row(j, "results", "way", "lock-each"), "locks"), 2);
    assert_int_equal(dj_cell_int(dj_row(j, "results", "way", "local-once"), "locks"), 2);
    assert_non_null(strstr(takeaway(j), "saved no locks"));
    assert_null(strstr(takeaway(j), "x faster"));
    assert_null(strstr(takeaway(j), "instead of"));
    json_decref(j);
}

/* Whatever the timings, "faster" and "not noise" come with repetitions
 * whose ranges do not overlap (the per-thread table, rounded to 0.01 us),
 * and the time threads waited for a core is never negative. */
static void test_takeaway_follows_numbers(void **state)
{
    (void)state;
    json_t *j = run((const char *const[]){ "threads=3", "ops=20000", "reps=2",
                                           "ways=lock-each,local-once", NULL });
    const char *t = takeaway(j);
    double le_min = dj_cell_num(dj_row(j, "per_thread", "way", "lock-each"), "min_us");
    double lo_max = dj_cell_num(dj_row(j, "per_thread", "way", "local-once"), "max_us");
    double le_max = dj_cell_num(dj_row(j, "per_thread", "way", "lock-each"), "max_us");
    double lo_min = dj_cell_num(dj_row(j, "per_thread", "way", "local-once"), "min_us");
    bool faster = strstr(t, "x faster") != NULL;
    bool noisy = strstr(t, "too noisy to call") != NULL;
    assert_true(faster == (strstr(t, "so the gap is not noise") != NULL));
    assert_false(faster && noisy);
    if (faster)
        assert_true(le_min + 0.005 > lo_max - 0.005);
    else if (noisy)
        assert_true(le_min - 0.005 <= lo_max + 0.005 && lo_min - 0.005 <= le_max + 0.005);
    const char *p = strstr(t, "local-once's threads worked ");
    double busy, wall;
    if (p) {
        assert_int_equal(sscanf(p, "local-once's threads worked %lf ms in all (their own "
                                   "times added up) of its %lf ms", &busy, &wall), 2);
        assert_true(busy <= wall);
    }
    p = strstr(t, "own times added up to ");
    if (p) {
        assert_int_equal(sscanf(p, "own times added up to %lf ms, more than its %lf ms",
                                &busy, &wall), 2);
        assert_true(busy >= wall);
    }
    json_decref(j);
}

/* The review's run: sharded 0.78 .. 1.35 us, atomic 1.69 .. 2.64 us, 7
 * reps.  Ranges that do not overlap are a difference; one rep never is. */
static void test_order_verdict(void **state)
{
    (void)state;
    assert_int_equal(ct_contention_order(0.78, 1.35, 1.69, 2.64, 7), -1);
    assert_int_equal(ct_contention_order(1.69, 2.64, 0.78, 1.35, 7), 1);
    assert_int_equal(ct_contention_order(0.78, 1.70, 1.69, 2.64, 7), 0);
    assert_int_equal(ct_contention_order(0.79, 0.79, 1.69, 1.69, 1), 0);
}

/* The sharded-against-atomic sentence follows the per-thread ranges. */
static void test_sharded_follows_ranges(void **state)
{
    (void)state;
    json_t *j = run((const char *const[]){ "threads=4", "ops=5000", "reps=3",
                                           "ways=sharded,atomic", NULL });
    json_t *sh = dj_row(j, "per_thread", "way", "sharded");
    json_t *at = dj_row(j, "per_thread", "way", "atomic");
    double sh_min = dj_cell_num(sh, "min_us"), sh_max = dj_cell_num(sh, "max_us");
    double at_min = dj_cell_num(at, "min_us"), at_max = dj_cell_num(at, "max_us");
    const char *t = takeaway(j);
    bool faster = strstr(t, "every repetition faster") != NULL;
    bool slower = strstr(t, "every repetition slower") != NULL;
    bool level = strstr(t, "no clear difference (the repetitions overlap)") != NULL;
    assert_int_equal(faster + slower + level, 1);
    /* the table rounds to 0.01 us: allow for it */
    if (faster)
        assert_true(sh_max - 0.005 < at_min + 0.005);
    if (slower)
        assert_true(at_max - 0.005 < sh_min + 0.005);
    if (level)
        assert_true(sh_max + 0.005 >= at_min - 0.005 && at_max + 0.005 >= sh_min - 0.005);
    json_decref(j);
}

/* A count of one takes the singular. */
static void test_singular(void **state)
{
    (void)state;
    json_t *j = run((const char *const[]){ "threads=1", "ops=1", "reps=1", NULL });
    const char *t = takeaway(j);
    assert_non_null(strstr(t, "the mutex 1 time per repetition"));
    assert_non_null(strstr(t, "adding up 1 slot."));
    assert_non_null(strstr(t, "one repetition each cannot tell them apart"));
    const char *what = json_string_value(json_object_get(json_array_get(
        json_object_get(j, "checks"), 0), "what"));
    assert_non_null(strstr(what, "1 of 1 repetition counted"));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_counts),
        cmocka_unit_test(test_single_thread_never_waits),
        cmocka_unit_test(test_subset),
        cmocka_unit_test(test_takeaway_nothing_saved),
        cmocka_unit_test(test_takeaway_follows_numbers),
        cmocka_unit_test(test_order_verdict),
        cmocka_unit_test(test_sharded_follows_ranges),
        cmocka_unit_test(test_singular),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
