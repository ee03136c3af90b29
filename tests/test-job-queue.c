/* test-job-queue.c - demo `job-queue`: with one or many workers, a queue
 * of one slot or many, no failures or all of them, every job appears once
 * in the table, the failed ones are exactly those meant to fail, the
 * outcomes add up to what was submitted, and every worker stopped on the
 * close.  Nothing is left behind, also after Ctrl-C. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "resources.h"
#include "util.h"

static void run_and_check(int jobs, int workers, int capacity, int fail_every)
{
    char a[4][40];
    snprintf(a[0], sizeof a[0], "jobs=%d", jobs);
    snprintf(a[1], sizeof a[1], "workers=%d", workers);
    snprintf(a[2], sizeof a[2], "capacity=%d", capacity);
    snprintf(a[3], sizeof a[3], "fail-every=%d", fail_every);
    const char *const args[] = { a[0], a[1], a[2], a[3], "email-ms=4", "image-ms=6",
                                 "report-ms=2", NULL };
    struct resources res;
    res_begin(&res);
    int code;
    json_t *j = ct_demo_json("job-queue", args, &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    assert_true(dj_assert_checks(j) >= 4);
    long long submitted = dj_int(j, "submitted"), done = dj_int(j, "done");
    long long failed = dj_int(j, "failed");
    assert_int_equal(submitted, jobs);
    assert_int_equal(done + failed, submitted);
    assert_int_equal(dj_int(j, "stopped_on_close"), workers);

    /* the table: each id once; failures exactly where the rule says */
    int seen[65] = { 0 };
    long long rows_done = 0, rows_failed = 0;
    json_t *rows = dj_table(j, "jobs"), *row;
    size_t i;
    assert_int_equal(json_array_size(rows), jobs);
    json_array_foreach(rows, i, row) {
        long long id = dj_cell_int(row, "id");
        assert_true(id >= 1 && id <= jobs);
        seen[id]++;
        bool ok = strcmp(dj_cell_text(row, "outcome"), "done") == 0;
        rows_done += ok;
        rows_failed += !ok;
        assert_int_equal(!ok, fail_every > 0 && id % fail_every == 0);
        assert_true(dj_cell_num(row, "latency_ms") >= dj_cell_num(row, "queued_ms"));
    }
    for (int id = 1; id <= jobs; id++)
        assert_int_equal(seen[id], 1);
    assert_int_equal(rows_done, done);
    assert_int_equal(rows_failed, failed);
    long long per_kind = 0;
    json_array_foreach(dj_table(j, "kinds"), i, row)
        per_kind += dj_cell_int(row, "jobs");
    assert_int_equal(per_kind, jobs);

    /* main waits for room only when the queue can fill, and the takeaway
     * says which happened */
    long long full = dj_int(j, "full_waits");
    if (capacity >= jobs)
        assert_int_equal(full, 0);
    const char *t = json_string_value(json_object_get(j, "takeaway"));
    char want[64];
    snprintf(want, sizeof want, "full %lld time", full);
    assert_non_null(full ? strstr(t, want) : strstr(t, "was free again"));
    assert_null(full ? strstr(t, "was free again") : strstr(t, "waited"));
    json_decref(j);
    assert_true(res_end(&res));
}

static void test_accounting(void **state)
{
    (void)state;
    run_and_check(12, 2, 100, 5);
    run_and_check(20, 1, 1, 3);     /* one slot: main waits for the worker */
    run_and_check(30, 8, 4, 0);     /* no failures */
    run_and_check(9, 3, 2, 1);      /* every job fails */
    run_and_check(1, 4, 1, 0);      /* more workers than jobs */
}

static void test_sigint(void **state)
{
    (void)state;
    static const double at_ms[] = { 20, 150, 400, 650 };
    for (size_t k = 0; k < sizeof at_ms / sizeof at_ms[0]; k++)
        res_sigint("job-queue", NULL, at_ms[k]);
}

int main(int argc, char **argv)
{
    int child = res_child_main(argc, argv);
    if (child >= 0)
        return child;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accounting),
        cmocka_unit_test(test_sigint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
