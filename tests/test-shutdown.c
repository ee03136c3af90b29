/* test-shutdown.c - demo `shutdown`, run as a process under a timeout:
 * stopped by its timer or by a SIGINT at various moments, every worker
 * stops, every accepted item is accounted for, and none is half-done. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "util.h"

/* Run the demo with --json, optionally sending SIGINT after `sigint_ms`;
 * check the exit code, the checks and the item accounting. */
static void run_and_account(const char *const *params, double sigint_ms, const char *trigger)
{
    const char *argv[20];
    int n = 0;
    argv[n++] = ct_test_binary();
    argv[n++] = "run";
    argv[n++] = "shutdown";
    argv[n++] = "--json";
    for (; params && *params && n < 19; params++)
        argv[n++] = *params;
    argv[n] = NULL;
    static const char *const env[] = { "NO_COLOR=1", NULL };
    struct ct_proc p;
    assert_int_equal(ct_proc_run(&p, argv, NULL, env, 30, sigint_ms), 0);
    if (p.status != 0)
        fail_msg("shutdown exited %d\nstderr:\n%s\nstdout:\n%s", p.status, p.err, p.out);
    json_t *j = ct_json_parse(p.out);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    dj_assert_checks(j);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "results"), "trigger")),
                        trigger);
    /* the accounting, recomputed here from the reported numbers */
    long long accepted = dj_int(j, "accepted");
    assert_true(accepted >= 0);
    assert_int_equal(accepted, dj_int(j, "finished") + dj_int(j, "left_queued") +
                                   dj_int(j, "handed_back"));
    assert_int_equal(dj_int(j, "half_done"), 0);
    /* one row per worker, each within its deadline */
    json_t *rows = json_object_get(json_object_get(j, "tables"), "workers"), *r;
    long long done = 0;
    size_t i;
    json_array_foreach(rows, i, r) {
        assert_string_equal(json_string_value(json_object_get(r, "in_time")), "yes");
        done += json_integer_value(json_object_get(r, "items"));
    }
    assert_int_equal(json_array_size(rows), 5);
    assert_int_equal(done, dj_int(j, "finished"));
    json_decref(j);
    ct_proc_free(&p);
}

/* No Ctrl-C: the timer stops it. */
static void test_timer(void **state)
{
    (void)state;
    run_and_account((const char *const[]){ "after=300", "tick=40", "work=30", "rate=10",
                                           "cleanup=20", NULL },
                    0, "the timer");
}

/* Ctrl-C at different moments of a default run (not too early: the
 * process must be running the demo, or SIGINT just kills it): always a
 * clean, complete shutdown with exit 0. */
static void test_sigint_at_various_moments(void **state)
{
    (void)state;
    static const double at_ms[] = { 150, 230, 450, 700 };
    for (size_t k = 0; k < sizeof at_ms / sizeof at_ms[0]; k++)
        run_and_account(NULL, at_ms[k], "Ctrl-C");
}

/* A busy queue: items pile up, so some are still queued at the stop. */
static void test_backlog_accounted(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++)
        run_and_account((const char *const[]){ "after=250", "tick=40", "work=60", "rate=2",
                                               "cleanup=10", NULL },
                        0, "the timer");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timer),
        cmocka_unit_test(test_sigint_at_various_moments),
        cmocka_unit_test(test_backlog_accounted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
