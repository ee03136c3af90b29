/* test-threads-vs-tasks.c - demo `threads-vs-tasks`: every thread and task
 * counted, the memory figures consistent with what was measured.  (Speed
 * is the benchmark's business, not the test's.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "util.h"

static void test_counts_and_memory(void **state)
{
    (void)state;
    int code;
    json_t *j = ct_demo_json("threads-vs-tasks",
                             (const char *const[]){ "count=300", "batch=120", "reps=2",
                                                    "workers=2", "bench-tasks=3000", NULL },
                             &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    assert_true(dj_checks_ok(j));
    json_t *threads = dj_row(j, "threads_vs_tasks", "kind", "OS threads");
    json_t *tasks = dj_row(j, "threads_vs_tasks", "kind", "tasks");
    assert_int_equal(dj_cell_num(threads, "count"), 300);
    assert_int_equal(dj_cell_num(threads, "alive"), 120);   /* batches of 120 */
    assert_int_equal(dj_cell_num(tasks, "count"), 300);
    assert_int_equal(dj_cell_num(tasks, "alive"), 300);
    /* a task is one small allocation; a thread reserves a whole stack */
    double task_bytes = dj_num(j, "task_bytes");
    assert_true(task_bytes > 0 && task_bytes < 4096);
    assert_true(dj_num(j, "thread_stack") >= 16384);
    assert_true(dj_num(j, "memory_ratio") >= dj_num(j, "thread_stack") / task_bytes - 1);
    assert_int_equal(json_array_size(dj_table(j, "overhead")), 3);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
