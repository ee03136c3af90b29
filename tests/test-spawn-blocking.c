/* test-spawn-blocking.c - demo `spawn-blocking`: every tick arrives in both
 * runs, and the blocking work ran on a worker thread ("worker-N", N within
 * the worker count) in the first and on a blocking-pool thread
 * ("blocking-N") in the second.  (The gaps are timings: reported, not
 * asserted.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "util.h"

/* Is `s` exactly PREFIX-N with 1 <= N <= max? */
static bool is_label(const char *s, const char *prefix, int max)
{
    char fmt[32];
    int n = 0, end = 0;
    snprintf(fmt, sizeof fmt, "%s-%%d%%n", prefix);
    return sscanf(s, fmt, &n, &end) == 1 && end > 0 && s[end] == '\0' && n >= 1 && n <= max;
}

static void test_ticks_and_threads(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        json_t *j = ct_demo_ok("spawn-blocking",
                               (const char *const[]){ "ticks=8", "tick-ms=5", "block-ms=20",
                                                      "workers=2", round == 2 ? "jobs=1" : "jobs=0",
                                                      NULL });
        json_t *in_task = dj_row(j, "modes", "mode", "blocking inside the task");
        json_t *in_pool = dj_row(j, "modes", "mode", "ct_spawn_blocking");
        assert_non_null(in_task);
        assert_non_null(in_pool);
        assert_int_equal(dj_cell_int(in_task, "ticks"), 8);
        assert_int_equal(dj_cell_int(in_pool, "ticks"), 8);
        assert_true(is_label(dj_cell_text(in_task, "work_on"), "worker", 2));
        assert_true(is_label(dj_cell_text(in_pool, "work_on"), "blocking", 16));
        json_decref(j);
    }
}

/* A block far shorter than a tick: the ticker kept its schedule both ways,
 * and the takeaway must not call it late or call one gap shorter when the
 * two are within a tenth of a tick.  What it says follows the measured
 * gaps, so a slow machine reads the other branch, never a false one. */
static void test_takeaway_short_block(void **state)
{
    (void)state;
    json_t *j = ct_demo_ok("spawn-blocking",
                           (const char *const[]){ "ticks=4", "tick-ms=50", "block-ms=1",
                                                  "workers=1", NULL });
    double tick = 50 * json_number_value(json_object_get(j, "scale"));
    double bad = dj_num(j, "gap_in_task_ms"), good = dj_num(j, "gap_in_pool_ms");
    const char *t = dj_takeaway(j);
    if (bad <= tick * 1.1) {
        assert_null(strstr(t, "went late"));
        assert_null(strstr(t, "went silent"));
        assert_non_null(strstr(t, "still kept to its"));
    }
    if (good >= bad - tick / 10)
        assert_null(strstr(t, "shorter than with the work inside"));
    json_decref(j);
}

/* The intro is the same whatever the parameters, so it names none of
 * their values: not the default 20 ms tick nor the 200 ms block. */
static void test_intro_states_no_values(void **state)
{
    (void)state;
    struct ct_proc p;
    const char *argv[] = { ct_test_binary(), "help", "spawn-blocking", NULL };
    static const char *const env[] = { "NO_COLOR=1", "PAGER=cat", "COLUMNS=80", NULL };
    assert_int_equal(ct_proc_run(&p, argv, NULL, env, 30, 0), 0);
    assert_int_equal(p.status, 0);
    const char *intro = strstr(p.out, "Demo `spawn-blocking`");
    assert_non_null(intro);
    const char *end = strstr(intro, "parameter");
    assert_non_null(end);
    const char *ms = strstr(intro, " ms");
    assert_true(ms == NULL || ms > end);
    ct_proc_free(&p);
}

/* Four 20 ms blocking calls on one worker run one after another: the
 * takeaway counts the calls and the one worker (not "all 1 workers", not
 * one call's length).  A pool thread that ran no job is named, since it
 * has no lane in the timeline. */
static void test_takeaway_jobs_on_one_worker(void **state)
{
    (void)state;
    json_t *j = ct_demo_ok("spawn-blocking",
                           (const char *const[]){ "ticks=4", "tick-ms=5", "block-ms=20",
                                                  "workers=1", "jobs=4", NULL });
    const char *t = dj_takeaway(j);
    assert_null(strstr(t, "all 1 workers"));
    assert_non_null(strstr(t, "4 blocking calls of"));
    assert_non_null(strstr(t, "kept the one worker busy"));
    long long started = dj_int(j, "pool_threads"), used = dj_int(j, "pool_threads_used");
    assert_true(used >= 1 && used <= started && started <= 4);
    if (used < started)
        assert_non_null(strstr(t, "has no lane in the timeline"));
    else
        assert_null(strstr(t, "has no lane in the timeline"));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_takeaway_jobs_on_one_worker),
        cmocka_unit_test(test_ticks_and_threads),
        cmocka_unit_test(test_takeaway_short_block),
        cmocka_unit_test(test_intro_states_no_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
