/* test-not-sync.c - demo `not-sync`: the borrow flag panics on a nested
 * borrow on one thread; the CAS flag never lets two holders in and loses
 * nothing; every try is either taken or a panic; the plain flag loses
 * updates only where it let two in; the timeline marks exactly the panics
 * and the missed conflicts counted; nested strtok finds exactly the wrong
 * fields and strtok_r the right ones; the _r and _Thread_local stamps are
 * never corrupted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "util.h"

static const char *const strtok_wrong = "db1 5432";
static const char *const strtok_right = "db1 5432 db2 5433 db3 5434";

static json_t *run_demo(const char *const *args)
{
    int code;
    json_t *j = ct_demo_json("not-sync", args, &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    dj_assert_checks(j);
    return j;
}

/* The rows of table `name` (slow or borrows): every try taken or refused;
 * on one thread, or with the CAS, nothing missed and nothing lost; a lost
 * update only where a conflict was missed.  Returns the row count. */
static int assert_borrow_rows(json_t *j, const char *name, int threads, long long tries)
{
    json_t *r;
    size_t i;
    int rows = 0;
    json_array_foreach(dj_table(j, name), i, r) {
        long long n = dj_cell_int(r, "threads");
        long long taken = dj_cell_int(r, "taken"), panics = dj_cell_int(r, "panics");
        long long missed = dj_cell_int(r, "missed"), lost = dj_cell_int(r, "lost");
        assert_true(n == 1 || n == threads);
        assert_int_equal(dj_cell_int(r, "tries"), n * tries);
        assert_int_equal(taken + panics, n * tries);
        if (lost > 0)
            assert_true(missed > 0);
        if (strcmp(dj_cell_text(r, "flag"), "cas") == 0 || n == 1) {
            assert_int_equal(missed, 0);
            assert_int_equal(lost, 0);
        }
        if (n == 1)
            assert_int_equal(panics, 0);
        rows++;
    }
    return rows;
}

static void assert_stamp_rows(json_t *j, int threads, long long calls)
{
    static const char *const names[] = { "static", "caller", "thread-local" };
    assert_int_equal(json_array_size(dj_table(j, "stamps")), 3);
    for (int k = 0; k < 3; k++) {
        json_t *r = dj_row(j, "stamps", "storage", names[k]);
        assert_non_null(r);
        assert_int_equal(dj_cell_int(r, "calls"), threads * calls);
        if (k > 0 || threads == 1)
            assert_int_equal(dj_cell_int(r, "corrupted"), 0);
    }
}

static void assert_strtok(json_t *j)
{
    assert_int_equal(dj_int(j, "strtok_records"), 1);
    assert_string_equal(dj_text(j, "strtok_fields"), strtok_wrong);
    assert_int_equal(dj_int(j, "strtok_r_records"), 3);
    assert_string_equal(dj_text(j, "strtok_r_fields"), strtok_right);
}

static void test_all_parts(void **state)
{
    (void)state;
    const char *const args[] = { "threads=4", "borrows=20000", "slow-borrows=1",
                                 "hold-ms=2", "calls=2000", NULL };
    for (int round = 0; round < 8; round++) {
        json_t *j = run_demo(args);
        assert_int_equal(assert_borrow_rows(j, "borrows", 4, 20000), 4);
        assert_int_equal(assert_borrow_rows(j, "slow", 3, 1), 2);
        assert_int_equal(json_array_size(dj_table(j, "flag_cost")), 2);
        assert_strtok(j);
        assert_stamp_rows(j, 4, 2000);
        json_decref(j);
    }
}

/* One thread cannot race with itself: no panic, nothing missed or lost. */
static void test_one_thread(void **state)
{
    (void)state;
    const char *const args[] = { "threads=1", "borrows=50000", "slow-borrows=2",
                                 "hold-ms=1", "calls=5000", NULL };
    for (int round = 0; round < 3; round++) {
        json_t *j = run_demo(args);
        assert_int_equal(assert_borrow_rows(j, "borrows", 1, 50000), 2);
        assert_int_equal(assert_borrow_rows(j, "slow", 1, 2), 2);
        assert_stamp_rows(j, 1, 5000);
        json_decref(j);
    }
}

/* On one thread nothing can collide, and the takeaway must not call the
 * clean result luck or timing. */
static void test_one_thread_takeaway(void **state)
{
    (void)state;
    json_t *j = run_demo((const char *const[]){ "threads=1", "borrows=1000",
                                                "slow-borrows=1", "hold-ms=1",
                                                "calls=1000", NULL });
    const char *t = dj_takeaway(j);
    assert_non_null(strstr(t, "slow-motion round ran on one thread"));
    assert_null(strstr(t, "happened to show no missed conflict"));
    assert_null(strstr(t, "That is timing, not safety"));
    assert_non_null(strstr(t, "one thread cannot collide with itself"));
    assert_null(strstr(t, "the next run may interleave differently"));
    json_decref(j);
}

static void test_strtok_exact(void **state)
{
    (void)state;
    for (int round = 0; round < 20; round++) {
        json_t *j = run_demo((const char *const[]){ "parts=libc", "threads=2", "calls=1",
                                                    NULL });
        assert_strtok(j);
        assert_null(dj_table(j, "borrows"));
        json_decref(j);
    }
}

static void test_parts_selection(void **state)
{
    (void)state;
    json_t *j = run_demo((const char *const[]){ "parts=borrow", "threads=2", "borrows=1000",
                                                "slow-borrows=0", NULL });
    assert_null(dj_table(j, "stamps"));
    assert_null(dj_table(j, "slow"));
    assert_null(json_object_get(json_object_get(j, "results"), "strtok_records"));
    assert_int_equal(assert_borrow_rows(j, "borrows", 2, 1000), 4);
    /* no slow-motion round, so nothing on the timeline */
    assert_int_equal(json_array_size(json_object_get(j, "timeline")), 0);
    json_decref(j);
}

/* Points of glyph `g` on the lane named `lane`. */
static long long points(json_t *j, const char *lane, const char *g)
{
    json_t *l, *e;
    size_t i, k;
    long long n = 0;
    json_array_foreach(json_object_get(j, "timeline"), i, l) {
        if (strcmp(json_string_value(json_object_get(l, "lane")), lane) != 0)
            continue;
        json_array_foreach(json_object_get(l, "events"), k, e) {
            const char *p = json_string_value(json_object_get(e, "point"));
            n += p && strcmp(p, g) == 0;
        }
    }
    return n;
}

/* The slow-motion round draws one lane per thread (at most 3) for each
 * flag, and marks exactly the panics and missed conflicts it counted. */
static void test_slow_motion_timeline(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        json_t *j = run_demo((const char *const[]){ "parts=borrow", "threads=5", "borrows=100",
                                                    "slow-borrows=3", "hold-ms=4", NULL });
        static const char *const want[] = { "plain-1", "plain-2", "plain-3",
                                            "cas-1", "cas-2", "cas-3" };
        json_t *lanes = json_object_get(j, "timeline");
        assert_int_equal(json_array_size(lanes), 6);
        for (size_t i = 0; i < 6; i++)
            assert_string_equal(json_string_value(json_object_get(json_array_get(lanes, i),
                                                                   "lane")), want[i]);
        for (int k = 0; k < 2; k++) {
            json_t *r = dj_row(j, "slow", "flag", k ? "cas" : "plain");
            assert_non_null(r);
            long long panics = 0, missed = 0;
            for (int t = 0; t < 3; t++) {
                panics += points(j, want[3 * k + t], "P");
                missed += points(j, want[3 * k + t], "!");
            }
            assert_int_equal(panics, dj_cell_int(r, "panics"));
            assert_int_equal(missed, dj_cell_int(r, "missed"));
        }
        assert_int_equal(assert_borrow_rows(j, "slow", 3, 3), 2);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_parts),
        cmocka_unit_test(test_one_thread),
        cmocka_unit_test(test_one_thread_takeaway),
        cmocka_unit_test(test_strtok_exact),
        cmocka_unit_test(test_parts_selection),
        cmocka_unit_test(test_slow_motion_timeline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
