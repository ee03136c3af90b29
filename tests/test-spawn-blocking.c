/* test-spawn-blocking.c - demo `spawn-blocking`: every tick arrives in both
 * runs, and the blocking work ran on worker threads in the first and on
 * blocking-pool threads in the second.  (The gaps are timings: reported,
 * not asserted.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "util.h"

static void test_ticks_and_threads(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        int code;
        json_t *j = ct_demo_json("spawn-blocking",
                                 (const char *const[]){ "ticks=8", "tick-ms=5", "block-ms=20",
                                                        round == 2 ? "jobs=1" : "jobs=0", NULL },
                                 &code);
        assert_non_null(j);
        assert_int_equal(code, 0);
        assert_true(dj_checks_ok(j));
        json_t *in_task = dj_row(j, "modes", "mode", "blocking inside the task");
        json_t *in_pool = dj_row(j, "modes", "mode", "ct_spawn_blocking");
        assert_int_equal(dj_cell_num(in_task, "ticks"), 8);
        assert_int_equal(dj_cell_num(in_pool, "ticks"), 8);
        assert_memory_equal(dj_cell_text(in_task, "work_on"), "worker-", 7);
        assert_memory_equal(dj_cell_text(in_pool, "work_on"), "blocking-", 9);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ticks_and_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
