/* test-runtime.c - demo `runtime`: every task runs once on each executor
 * and returns i * 2; the current-thread one runs them all on main; the
 * multi-threaded one's per-worker figures add up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "util.h"

static void test_tasks_and_workers(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        int code;
        json_t *j = ct_demo_json("runtime", (const char *const[]){ "tasks=20", "workers=3",
                                                                   "sleep-ms=5", "work-us=300",
                                                                   NULL }, &code);
        assert_non_null(j);
        assert_int_equal(code, 0);
        assert_true(dj_checks_ok(j));
        json_t *rows = dj_table(j, "tasks"), *row;
        size_t i;
        assert_int_equal(json_array_size(rows), 20);
        json_array_foreach(rows, i, row) {
            assert_int_equal(dj_cell_num(row, "result"), 2 * (double)i);
            assert_string_equal(dj_cell_text(row, "ct_ran_on"), "main");
            assert_memory_equal(dj_cell_text(row, "mt_started"), "worker-", 7);
            assert_memory_equal(dj_cell_text(row, "mt_finished"), "worker-", 7);
        }
        /* 20 tasks + the root, each polled at least twice but the root */
        double polls = 0, completed = 0, stolen = 0;
        json_array_foreach(dj_table(j, "workers"), i, row) {
            polls += dj_cell_num(row, "polls");
            completed += dj_cell_num(row, "completed");
            stolen += dj_cell_num(row, "stolen");
        }
        assert_int_equal(json_array_size(dj_table(j, "workers")), 3);
        assert_int_equal(completed, 21);
        assert_true(polls >= 2 * 20 + 1);
        assert_int_equal(stolen, dj_num(j, "stolen"));
        assert_true(dj_num(j, "workers_used") >= 1 && dj_num(j, "workers_used") <= 3);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tasks_and_workers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
