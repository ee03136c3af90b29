/* test-mutex.c - demo `mutex`: exact counts in every phase, one holder at a
 * time (by the demo's own occupancy counter and by its timeline, where each
 * thread holds the lock exactly once), a single thread never contended,
 * and the tight loop skipped when asked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "stress.h"
#include "util.h"

/* The "holding" intervals of all lanes, from the JSON timeline: one per
 * thread, and pairwise disjoint (the marks are made inside the lock). */
static void assert_holds_disjoint(json_t *j, int threads)
{
    struct dj_span s[64];
    int n = dj_hold_spans(j, s, 64);
    assert_int_equal(n, threads);
    for (int a = 0; a < n; a++) {
        assert_true(s[a].exclusive);
        for (int b = a + 1; b < n; b++)
            assert_true(s[a].to <= s[b].from || s[b].to <= s[a].from);
    }
}

static void test_counts_and_exclusion(void **state)
{
    (void)state;
    for (int round = 0; round < CT_STRESS(5, 2); round++) {
        int code;
        json_t *j = ct_demo_json("mutex",
                                 (const char *const[]){ "threads=6", "hold-ms=1", "iters=20000",
                                                        NULL },
                                 &code);
        assert_non_null(j);
        assert_int_equal(code, 0);
        assert_int_equal(dj_assert_checks(j), 5);
        assert_int_equal(dj_int(j, "once_count"), 6);
        assert_int_equal(dj_int(j, "once_max_holders"), 1);
        assert_int_equal(dj_int(j, "alone_count"), 20000);
        assert_int_equal(dj_int(j, "loop_count"), 6 * 20000);
        assert_holds_disjoint(j, 6);
        json_decref(j);
    }
}

/* One thread: the loop runs alone only, and nothing waits. */
static void test_one_thread(void **state)
{
    (void)state;
    int code;
    json_t *j = ct_demo_json("mutex",
                             (const char *const[]){ "threads=1", "hold-ms=0", "iters=3000", NULL },
                             &code);
    assert_int_equal(code, 0);
    assert_int_equal(dj_assert_checks(j), 4);
    assert_int_equal(dj_int(j, "once_count"), 1);
    assert_int_equal(dj_int(j, "alone_count"), 3000);
    assert_null(json_object_get(json_object_get(j, "results"), "loop_count"));
    assert_holds_disjoint(j, 1);
    /* a count of one takes the singular */
    const char *what = json_string_value(json_object_get(json_array_get(
        json_object_get(j, "checks"), 0), "what"));
    assert_string_equal(what, "one increment each: counter 1 == 1 thread");
    json_decref(j);
    j = ct_demo_json("mutex", (const char *const[]){ "threads=1", "hold-ms=0", "iters=1", NULL },
                     &code);
    assert_int_equal(code, 0);
    what = json_string_value(json_object_get(json_array_get(json_object_get(j, "checks"), 2),
                                             "what"));
    assert_non_null(strstr(what, "counter 1 == 1 increment made,"));
    json_decref(j);
}

static void test_loop_skipped(void **state)
{
    (void)state;
    int code;
    json_t *j = ct_demo_json("mutex",
                             (const char *const[]){ "threads=2", "hold-ms=0", "iters=0", NULL },
                             &code);
    assert_int_equal(code, 0);
    assert_int_equal(dj_assert_checks(j), 2);
    assert_int_equal(dj_int(j, "once_count"), 2);
    json_t *res = json_object_get(j, "results");
    assert_null(json_object_get(res, "alone_count"));
    assert_null(json_object_get(res, "loop_count"));
    json_decref(j);
}

/* Many threads, a few increments each: the loop is much slower than one
 * thread alone although no lock ever found the mutex taken.  The takeaway
 * must not call that cheap, nor blame the lock. */
static void test_slow_without_contention(void **state)
{
    (void)state;
    int seen = 0;
    for (int round = 0; round < 5; round++) {
        int code;
        json_t *j = ct_demo_json("mutex",
                                 (const char *const[]){ "threads=64", "hold-ms=0", "iters=10",
                                                        NULL },
                                 &code);
        assert_non_null(j);
        assert_int_equal(code, 0);
        dj_assert_checks(j);
        double ratio = dj_num(j, "loop_ns_per_op") / dj_num(j, "alone_ns_per_op");
        const char *t = dj_takeaway(j);
        if (ratio >= 1.6) {
            assert_null(strstr(t, "Contention cost little extra"));
            if (dj_num(j, "loop_contended_pct") == 0) {
                assert_non_null(strstr(t, "no lock found the mutex taken"));
                seen++;
            }
        }
        json_decref(j);
    }
    print_message("slower with no lock found taken: %d of 5 runs\n", seen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_exclusion),
        cmocka_unit_test(test_one_thread),
        cmocka_unit_test(test_loop_skipped),
        cmocka_unit_test(test_slow_without_contention),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
