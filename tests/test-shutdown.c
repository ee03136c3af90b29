/* test-shutdown.c - demo `shutdown`, run as a process under a timeout:
 * stopped by its timer or by a SIGINT at various moments, every worker
 * stops and every accepted item gets exactly one fate; and a deadline that
 * is too short for the parameters is a lesson, not a failure: exit 0, the
 * late workers forced out, nothing lost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "util.h"

#define WORKERS 5

/* Run the demo with --json and `params`, optionally sending SIGINT after
 * `sigint_ms`; it must exit 0 with every check passing and the given
 * trigger.  Returns the parsed report (json_decref it). */
static json_t *run_shutdown(const char *const *params, double sigint_ms, const char *trigger)
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
    ct_proc_free(&p);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    /* broadcast reached all, every worker stopped, forced only after the
     * deadline (when forced at all), each item one fate, none half-done */
    size_t checks = dj_assert_checks(j);
    assert_in_range(checks, 4, 5);
    assert_string_equal(dj_text(j, "trigger"), trigger);
    /* the item audit, per item id: none lost, none counted twice */
    assert_int_equal(dj_int(j, "lost"), 0);
    assert_int_equal(dj_int(j, "duplicated"), 0);
    assert_int_equal(dj_int(j, "half_done"), 0);
    return j;
}

/* One row per worker, worker-0 .. worker-4 in order, each with the given
 * verdict (NULL: any). */
static void assert_workers(json_t *j, const char *verdict)
{
    json_t *rows = dj_table(j, "workers"), *r;
    assert_int_equal(json_array_size(rows), WORKERS);
    size_t i;
    json_array_foreach(rows, i, r) {
        char name[32];
        snprintf(name, sizeof name, "worker-%zu", i);
        assert_string_equal(dj_cell_text(r, "worker"), name);
        if (verdict)
            assert_string_equal(dj_cell_text(r, "verdict"), verdict);
    }
}

/* No Ctrl-C: the timer stops it.  The deadline is far beyond anything the
 * workers can take, so none may be forced and nothing rolled back. */
static void test_timer(void **state)
{
    (void)state;
    json_t *j = run_shutdown((const char *const[]){ "after=300", "tick=40", "work=30", "rate=10",
                                                    "cleanup=20", "deadline=60000", NULL },
                             0, "the timer");
    assert_workers(j, "in time");
    assert_int_equal(dj_int(j, "forced"), 0);
    assert_int_equal(dj_int(j, "rolled_back"), 0);
    json_decref(j);
}

/* Ctrl-C at different moments (not too early: the process must be running
 * the demo, or SIGINT just kills it): always a clean, complete shutdown
 * with exit 0. */
static void test_sigint_at_various_moments(void **state)
{
    (void)state;
    static const double at_ms[] = { 150, 230, 450, 700 };
    for (size_t k = 0; k < sizeof at_ms / sizeof at_ms[0]; k++) {
        json_t *j = run_shutdown((const char *const[]){ "deadline=60000", NULL }, at_ms[k],
                                 "Ctrl-C");
        assert_workers(j, "in time");
        assert_int_equal(dj_int(j, "rolled_back"), 0);
        json_decref(j);
    }
}

/* A busy queue: items pile up and the stop finds some queued or in hand;
 * each still gets exactly one fate (the demo's audit, a check). */
static void test_backlog_accounted(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        json_t *j = run_shutdown((const char *const[]){ "after=250", "tick=40", "work=60",
                                                        "rate=2", "cleanup=10",
                                                        "deadline=60000", NULL },
                                 0, "the timer");
        assert_workers(j, "in time");
        json_decref(j);
    }
}

/* Deadlines too short for the work and the cleanup, at the edges of the
 * parameter ranges: still exit 0 and every check passing.  No worker can
 * be out in time (its cleanup alone outlasts the deadline). */
static void test_missed_deadline_is_a_lesson(void **state)
{
    (void)state;
    static const char *const cases[][8] = {
        { "deadline=1", "after=300", NULL },                    /* with the default cleanup */
        { "cleanup=1000", "after=300", NULL },                   /* with the default deadline */
        { "deadline=1", "work=10000", "cleanup=10000", "after=300", NULL },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        json_t *j = run_shutdown(cases[k], 0, "the timer");
        assert_workers(j, NULL);
        assert_int_equal(dj_int(j, "in_time"), 0);
        json_decref(j);
    }
}

/* Work and cleanup far longer than a 1 ms deadline: main must force every
 * worker out, whatever it was doing. */
static void test_every_worker_forced(void **state)
{
    (void)state;
    json_t *j = run_shutdown((const char *const[]){ "deadline=1", "work=5000", "cleanup=5000",
                                                    "rate=10", "after=300", NULL },
                             0, "the timer");
    assert_workers(j, "forced");
    assert_int_equal(dj_int(j, "forced"), WORKERS);
    assert_int_equal(dj_int(j, "in_time"), 0);
    assert_int_equal(dj_int(j, "finished"), 0);
    json_decref(j);
}

/* No work and no cleanup: a stop takes only thread wake-ups, and the
 * takeaway blames a busy machine only if the slowest worker in the
 * table took more than a few ms. */
static void test_instant_stop_not_blamed_on_load(void **state)
{
    (void)state;
    json_t *j = run_shutdown((const char *const[]){ "after=100", "work=0", "cleanup=0",
                                                    "deadline=60000", NULL },
                             0, "the timer");
    double slowest = 0;
    json_t *row;
    size_t i;
    json_array_foreach(dj_table(j, "workers"), i, row) {
        double ms = dj_cell_num(row, "stopped_ms");
        slowest = ms > slowest ? ms : slowest;
    }
    const char *t = dj_takeaway(j);
    if (strstr(t, "busy machine"))
        assert_true(slowest > 4.9);
    else
        assert_true(slowest < 5.1);
    json_decref(j);
}

/* With counts of 1 every count takes the singular. */
static void test_counts_of_one_singular(void **state)
{
    (void)state;
    struct ct_proc p;
    assert_int_equal(ct_tutor(&p, (const char *const[]){ "run", "shutdown", "workers=1", "after=0", NULL }), 0);
    assert_int_equal(p.status, 0);
    assert_null(strstr(p.out, " 1 were"));
    assert_null(strstr(p.out, " 1 workers"));
    assert_null(strstr(p.out, "all 1 workers"));
    assert_null(strstr(p.out, " 1 items"));
    assert_null(strstr(p.out, " 1 accepted items"));
    ct_proc_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_of_one_singular),
        cmocka_unit_test(test_timer),
        cmocka_unit_test(test_sigint_at_various_moments),
        cmocka_unit_test(test_backlog_accounted),
        cmocka_unit_test(test_missed_deadline_is_a_lesson),
        cmocka_unit_test(test_every_worker_forced),
        cmocka_unit_test(test_instant_stop_not_blamed_on_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
