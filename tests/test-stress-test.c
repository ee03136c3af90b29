/* test-stress-test.c - demo `stress-test`, run as a process: the correct
 * map passes every history of every case (free and scheduled: exactly
 * cases x (schedules + 1) of them) and the locked counter is exact every
 * round; the buggy map's planted bug is found and shrunk, from several
 * seeds and sizes, to exactly the known minimal case (a remove on one
 * thread, a put of the same key on another, replayed in that order); the
 * same seed gives the same search, shrink and replay, and the command the
 * demo prints for a fresh seed repeats it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Quick counter rounds and no pauses in the replay, then `params`. */
static json_t *run_stress(const char *const *params)
{
    const char *args[32] = { "step=0", "rounds=3", "increments=300" };
    int n = 3;
    for (; params && *params && n < 31; params++)
        args[n++] = *params;
    args[n] = NULL;
    json_t *j = ct_demo_proc_json("stress-test", args, 120);
    dj_assert_checks(j);
    return j;
}

static void assert_counter_exact(json_t *j)
{
    json_t *m = dj_row(j, "counter", "counter", "mutex");
    assert_non_null(m);
    assert_int_equal(dj_cell_int(m, "rounds"), 3);
    assert_int_equal(dj_cell_int(m, "exact"), 3);
    assert_int_equal(dj_cell_int(m, "lost"), 0);
    assert_non_null(dj_row(j, "counter", "counter", "racy"));
}

static void test_correct_map_passes_every_history(void **state)
{
    (void)state;
    static const char *const sizes[][4] = {
        { "threads=2", "keys=1", NULL },
        { "threads=4", "keys=3", "max-ops=20", NULL },
    };
    for (size_t k = 0; k < 2; k++) {
        const char *args[8] = { "cases=20", "schedules=4", "seed=7" };
        for (int i = 0; sizes[k][i]; i++)
            args[3 + i] = sizes[k][i];
        json_t *j = run_stress(args);
        assert_counter_exact(j);
        assert_int_equal(dj_int(j, "cases"), 20);
        assert_int_equal(dj_int(j, "histories"), 20 * (4 + 1));
        assert_int_equal(dj_int(j, "free_runs"), 20);
        assert_int_equal(dj_int(j, "free_failed"), 0);
        assert_int_equal(dj_int(j, "seed"), 7);
        assert_null(dj_table(j, "minimal"));
        json_decref(j);
    }
}

/* The replayed minimal case, row by row: remove(0) on map-1 looks, the
 * put on map-2 lands, the final read finds nothing. */
static void assert_minimal(json_t *j)
{
    assert_string_equal(dj_text(j, "minimal"), "map-1: remove(0); map-2: put(0, 1)");
    assert_int_equal(dj_int(j, "minimal_ops"), 2);
    static const char *const want[][3] = {
        { "map-1", "remove(0)", "absent" },
        { "map-2", "put(0, 1)", "absent" },
        { "final", "get(0)", "absent" },
    };
    json_t *rows = dj_table(j, "minimal");
    assert_int_equal(json_array_size(rows), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *r = json_array_get(rows, i);
        assert_int_equal(dj_cell_int(r, "step"), (long long)i + 1);
        assert_string_equal(dj_cell_text(r, "thread"), want[i][0]);
        assert_string_equal(dj_cell_text(r, "op"), want[i][1]);
        assert_string_equal(dj_cell_text(r, "returned"), want[i][2]);
    }
    assert_true(dj_int(j, "original_ops") >= 2);
    assert_true(dj_int(j, "shrink_steps") >= 0);
}

static void test_buggy_shrinks_to_the_minimal_case(void **state)
{
    (void)state;
    static const char *const runs[][4] = {
        { "seed=1", NULL },
        { "seed=2", "threads=2", NULL },
        { "seed=3", "threads=4", "keys=5", NULL },
        { "seed=42", "max-ops=20", NULL },
        { "seed=1000", "keys=1", NULL },
    };
    for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) {
        const char *args[8] = { "variant=buggy" };
        for (int i = 0; runs[k][i]; i++)
            args[1 + i] = runs[k][i];
        json_t *j = run_stress(args);
        assert_counter_exact(j);
        assert_minimal(j);
        json_decref(j);
    }
}

/* The same seed: the same case found, the same shrink, the same schedule. */
static void test_same_seed_same_everything(void **state)
{
    (void)state;
    json_t *a = run_stress((const char *const[]){ "variant=buggy", "seed=31337", NULL });
    json_t *b = run_stress((const char *const[]){ "variant=buggy", "seed=31337", NULL });
    static const char *const keys[] = { "case", "original_ops", "shrink_steps", "shrink_tried",
                                        "schedule", "histories" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_int_equal(dj_int(a, keys[i]), dj_int(b, keys[i]));
    assert_string_equal(dj_text(a, "minimal"), dj_text(b, "minimal"));
    json_decref(a);
    json_decref(b);
}

/* A fresh seed is printed in a command that repeats the run exactly. */
static void test_printed_command_repeats_the_run(void **state)
{
    (void)state;
    json_t *a = run_stress((const char *const[]){ "variant=buggy", "threads=2", NULL });
    const char *again = dj_text(a, "again");
    char buf[256], *save = NULL;
    snprintf(buf, sizeof buf, "%s", again);
    const char *args[16];
    int n = 0;
    char *w = strtok_r(buf, " ", &save);
    assert_string_equal(w, "run");
    assert_string_equal(strtok_r(NULL, " ", &save), "stress-test");
    while ((w = strtok_r(NULL, " ", &save)) && n < 15)
        args[n++] = w;
    args[n] = NULL;
    char want_seed[40];
    snprintf(want_seed, sizeof want_seed, "seed=%lld", dj_int(a, "seed"));
    bool has_seed = false, has_threads = false;
    for (int i = 0; i < n; i++) {
        has_seed |= strcmp(args[i], want_seed) == 0;
        has_threads |= strcmp(args[i], "threads=2") == 0;
    }
    assert_true(has_seed && has_threads);
    json_t *b = run_stress(args);
    assert_int_equal(dj_int(a, "case"), dj_int(b, "case"));
    assert_int_equal(dj_int(a, "shrink_tried"), dj_int(b, "shrink_tried"));
    assert_string_equal(dj_text(a, "minimal"), dj_text(b, "minimal"));
    json_decref(a);
    json_decref(b);
}

/* One counter thread: nothing races, so the takeaway must not promise
 * that more rounds or ThreadSanitizer would catch a race; both counters
 * are exact in every round. */
static void test_one_counter_thread_no_race_claimed(void **state)
{
    (void)state;
    json_t *j = run_stress((const char *const[]){ "counter-threads=1", "cases=2",
                                                  "schedules=1", NULL });
    json_t *racy = dj_row(j, "counter", "counter", "racy");
    assert_non_null(racy);
    assert_int_equal(dj_cell_int(racy, "exact"), 3);
    const char *t = dj_takeaway(j);
    assert_null(strstr(t, "would catch it"));
    assert_non_null(strstr(t, "no race"));
    json_decref(j);
}

/* variant=buggy with one operation per list can never find the bug:
 * refused before the run instead of a failed check. */
static void test_buggy_needs_two_ops(void **state)
{
    (void)state;
    struct ct_proc p;
    assert_int_equal(ct_tutor(&p, (const char *const[]){ "run", "stress-test", "variant=buggy",
                                                         "max-ops=1", "cases=1", NULL }), 0);
    assert_int_equal(p.status, 2);
    assert_non_null(strstr(p.err, "max-ops=2 or more"));
    ct_proc_free(&p);
}

/* A search too small to meet the planted bug (one 2-op case, one
 * schedule, a seed whose case the schedule does not break) is a lesson,
 * not a failure: the run passes, reports no case, and says what it shows. */
static void test_buggy_missed_is_said_not_failed(void **state)
{
    (void)state;
    json_t *j = run_stress((const char *const[]){ "variant=buggy", "cases=1", "max-ops=2",
                                                  "schedules=1", "seed=1", NULL });
    assert_null(json_object_get(json_object_get(j, "results"), "case"));
    const char *t = dj_takeaway(j);
    if (dj_int(j, "free_failed") > 0)  /* the one free run met it by luck */
        assert_non_null(strstr(t, "luck of timing alone"));
    else
        assert_non_null(strstr(t, "evidence, not proof"));
    assert_null(strstr(t, "1 cases"));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_correct_map_passes_every_history),
        cmocka_unit_test(test_buggy_shrinks_to_the_minimal_case),
        cmocka_unit_test(test_same_seed_same_everything),
        cmocka_unit_test(test_printed_command_repeats_the_run),
        cmocka_unit_test(test_one_counter_thread_no_race_claimed),
        cmocka_unit_test(test_buggy_needs_two_ops),
        cmocka_unit_test(test_buggy_missed_is_said_not_failed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
