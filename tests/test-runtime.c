/* test-runtime.c - demo `runtime`: every task runs once on each executor
 * and hands i * 2 back through its join handle; the current-thread one
 * runs them all on main; on the multi-threaded one each task runs on one
 * of its workers (an exact "worker-N" label, N within the worker count),
 * and the per-worker counts add up to every task plus the root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* Is `s` exactly "worker-N" with 1 <= N <= workers? */
static bool is_worker(const char *s, int workers)
{
    int n = 0, end = 0;
    return sscanf(s, "worker-%d%n", &n, &end) == 1 && s[end] == '\0' && n >= 1 &&
           n <= workers;
}

static void test_tasks_and_workers(void **state)
{
    (void)state;
    enum { TASKS = 20, WORKERS = 3 };
    for (int round = 0; round < 3; round++) {
        json_t *j = ct_demo_ok("runtime",
                               (const char *const[]){ "tasks=20", "workers=3", "sleep-ms=5",
                                                      "work-us=300", NULL });
        json_t *rows = dj_table(j, "tasks"), *row;
        size_t i;
        assert_int_equal(json_array_size(rows), TASKS);
        json_array_foreach(rows, i, row) {
            assert_int_equal(dj_cell_int(row, "task"), (long long)i);
            assert_int_equal(dj_cell_int(row, "result"), 2 * (long long)i);
            assert_string_equal(dj_cell_text(row, "ct_ran_on"), "main");
            assert_true(is_worker(dj_cell_text(row, "mt_started"), WORKERS));
            assert_true(is_worker(dj_cell_text(row, "mt_finished"), WORKERS));
        }
        assert_true(is_worker(dj_text(j, "spawned_on"), WORKERS));
        /* 20 tasks and the root completed; each task was polled at least
         * twice (before and after its sleep), the root at least once */
        long long polls = 0, completed = 0;
        json_array_foreach(dj_table(j, "workers"), i, row) {
            char name[32];
            snprintf(name, sizeof name, "worker-%zu", i + 1);
            assert_string_equal(dj_cell_text(row, "worker"), name);
            polls += dj_cell_int(row, "polls");
            completed += dj_cell_int(row, "completed");
        }
        assert_int_equal(json_array_size(dj_table(j, "workers")), WORKERS);
        assert_int_equal(completed, TASKS + 1);
        assert_true(polls >= 2 * TASKS + 1);
        json_decref(j);
    }
}

/* One task on one worker: nothing overlapped and nobody could steal, and
 * the takeaway says so instead of the usual story. */
static void test_takeaway_one_task_one_worker(void **state)
{
    (void)state;
    int code;
    json_t *j = ct_demo_json("runtime", (const char *const[]){ "tasks=1", "workers=1",
                                                               "sleep-ms=5", "work-us=0",
                                                               NULL }, &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    assert_int_equal(dj_int(j, "stolen"), 0);
    const char *t = dj_takeaway(j);
    assert_null(strstr(t, "they overlapped"));
    assert_null(strstr(t, "before another worker looked"));
    assert_non_null(strstr(t, "had nothing to overlap with"));
    assert_non_null(strstr(t, "no other worker to steal"));
    json_decref(j);
}

/* The tasks' work is CPU time: eight workers on this machine's CPUs get
 * through it no faster than the CPUs allow, and the takeaway credits the
 * CPUs, not the workers. */
static void test_work_is_cpu_bound(void **state)
{
    (void)state;
    int code;
    json_t *j = ct_demo_json("runtime", (const char *const[]){ "tasks=8", "workers=8",
                                                               "sleep-ms=1", "work-us=15000",
                                                               NULL }, &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    double floor_ms = 8 * 15.0 / (cpus < 8 ? cpus : 8);
    assert_true(dj_num(j, "multi_thread_ms") >= 0.95 * floor_ms);
    assert_true(dj_num(j, "current_thread_ms") >= 0.95 * 8 * 15.0);
    const char *t = json_string_value(json_object_get(j, "takeaway"));
    if (cpus < 8)
        assert_null(strstr(t, "shared out over 8 workers"));
    json_decref(j);
}

/* demos/runtime.c's verdict on the gap between the two executors. */
const char *ct_runtime_verdict(double ct_ms, double mt_ms, double cpu_ms, int sharing);

/* The verdict follows the gap against what sharing the CPU work over
 * `sharing` CPUs can save (cpu_ms / 2 on two), not merely its sign. */
static void test_verdict(void **state)
{
    (void)state;
    /* 800 ms of work on 2 CPUs can save 400 ms: 13 ms is no difference */
    assert_string_equal(ct_runtime_verdict(817.9, 804.5, 800, 2), "same");
    /* 3391 ms off 6400 ms of work on 2 CPUs is the sharing, give or take */
    assert_string_equal(ct_runtime_verdict(7020.9, 3629.6, 6400, 2), "shared");
    /* nothing to share and no gap */
    assert_string_equal(ct_runtime_verdict(1.1, 1.1, 0, 1), "same");
    assert_string_equal(ct_runtime_verdict(1.1, 1.2, 0, 1), "same");
    /* a gap with nothing to share is noise, whichever way */
    assert_string_equal(ct_runtime_verdict(100, 50, 0, 1), "beyond");
    assert_string_equal(ct_runtime_verdict(50, 100, 0, 1), "slower");
    /* faster, but by less than half of the 400 ms sharing could save */
    assert_string_equal(ct_runtime_verdict(900, 800, 800, 2), "partial");
    /* more than 400 ms off 800 ms of work on 2 CPUs */
    assert_string_equal(ct_runtime_verdict(900, 300, 800, 2), "beyond");
}

/* With counts of 1 every count takes the singular. */
static void test_counts_of_one_singular(void **state)
{
    (void)state;
    struct ct_proc p;
    assert_int_equal(ct_tutor(&p, (const char *const[]){ "run", "runtime", "tasks=1", "workers=1", "sleep-ms=1", "work-us=0", NULL }), 0);
    assert_int_equal(p.status, 0);
    assert_null(strstr(p.out, " 1 tasks"));
    assert_null(strstr(p.out, " 1 workers"));
    assert_null(strstr(p.out, "all 1 "));
    ct_proc_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_of_one_singular),
        cmocka_unit_test(test_tasks_and_workers),
        cmocka_unit_test(test_takeaway_one_task_one_worker),
        cmocka_unit_test(test_work_is_cpu_bound),
        cmocka_unit_test(test_verdict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
