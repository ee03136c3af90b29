/* test-shared-state.c - demo `shared-state`: with either lock no record is
 * torn, every reader finishes every round, the store ends whole; on the
 * timeline no write span overlaps any other span (counted here from the
 * JSON), and a mutex never has two readers inside.  Nothing is left
 * behind, also after Ctrl-C. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "resources.h"
#include "util.h"

/* Write spans overlapping anything, and the most read spans at once. */
static void spans(json_t *j, int *write_overlaps, int *max_readers)
{
    struct dj_span sp[512];
    int n = dj_hold_spans(j, sp, 512);
    *write_overlaps = 0;
    *max_readers = 0;
    for (int i = 0; i < n; i++) {
        int readers = 0;
        for (int k = 0; k < n; k++) {
            bool overlap = k != i && sp[k].from < sp[i].to && sp[i].from < sp[k].to;
            if (sp[i].exclusive)
                *write_overlaps += overlap;
            else if (!sp[k].exclusive)
                readers += sp[k].from <= sp[i].from && sp[i].from < sp[k].to;
        }
        if (readers > *max_readers)
            *max_readers = readers;
    }
}

static void run_and_check(const char *lock, const char *const *extra, int writers, int readers,
                          int updates, int rounds)
{
    const char *args[12];
    int n = 0;
    char w[32], r[32], u[32], ro[32], l[32];
    snprintf(w, sizeof w, "writers=%d", writers);
    snprintf(r, sizeof r, "readers=%d", readers);
    snprintf(u, sizeof u, "updates=%d", updates);
    snprintf(ro, sizeof ro, "rounds=%d", rounds);
    snprintf(l, sizeof l, "lock=%s", lock);
    args[n++] = w;
    args[n++] = r;
    args[n++] = u;
    args[n++] = ro;
    args[n++] = l;
    for (; extra && *extra && n < 11; extra++)
        args[n++] = *extra;
    args[n] = NULL;

    struct resources res;
    res_begin(&res);
    int code;
    json_t *j = ct_demo_json("shared-state", args, &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    assert_true(dj_assert_checks(j) >= 4);
    assert_int_equal(dj_int(j, "torn"), 0);
    assert_int_equal(dj_int(j, "users"), writers);
    assert_int_equal(dj_int(j, "lookups"), readers * rounds);
    json_t *row = dj_row(j, "roles", "role", "writers");
    assert_non_null(row);
    assert_int_equal(dj_cell_int(row, "locks"), writers * (1 + updates));
    row = dj_row(j, "roles", "role", "readers");
    assert_non_null(row);
    assert_int_equal(dj_cell_int(row, "locks"), 2 * readers * rounds);

    int write_overlaps, max_readers;
    spans(j, &write_overlaps, &max_readers);
    assert_int_equal(write_overlaps, 0);
    assert_true(max_readers <= readers);
    assert_true(dj_int(j, "max_readers") <= readers);
    if (strcmp(lock, "mutex") == 0) {
        assert_true(max_readers <= 1);
        assert_int_equal(dj_int(j, "max_readers"), 1);
    }

    /* the takeaway tells the run's own story: readers inside together only
     * if two were, renames only if there were any, no 0 ms pause */
    const char *t = dj_takeaway(j);
    bool together = strstr(t, "readers were inside together") != NULL;
    assert_true(together == (strcmp(lock, "rwlock") == 0 && dj_int(j, "max_readers") >= 2));
    assert_true((strstr(t, "every add and rename") != NULL) == (updates > 0));
    assert_null(strstr(t, "paused 0 ms"));
    json_decref(j);
    assert_true(res_end(&res));
}

static void test_rwlock(void **state)
{
    (void)state;
    static const char *const fast[] = { "read-ms=2", "write-ms=1", "pause-ms=2", "start-ms=3",
                                        NULL };
    run_and_check("rwlock", fast, 5, 10, 2, 2);
    run_and_check("rwlock", fast, 3, 12, 4, 3);
    static const char *const no_wait[] = { "read-ms=0", "write-ms=0", "pause-ms=0",
                                           "start-ms=0", NULL };
    run_and_check("rwlock", no_wait, 8, 8, 10, 10);
}

/* One reader, no renames, no pause in a write: nothing to share, and
 * nothing to tear. */
static void test_nothing_to_share(void **state)
{
    (void)state;
    static const char *const no_pause[] = { "read-ms=1", "write-ms=0", "pause-ms=1",
                                            "start-ms=1", NULL };
    run_and_check("rwlock", no_pause, 2, 1, 0, 1);
    run_and_check("mutex", no_pause, 2, 1, 0, 1);
}

static void test_mutex(void **state)
{
    (void)state;
    static const char *const fast[] = { "read-ms=1", "write-ms=1", "pause-ms=2", "start-ms=3",
                                        NULL };
    run_and_check("mutex", fast, 5, 10, 2, 2);
}

static void test_sigint(void **state)
{
    (void)state;
    static const double at_ms[] = { 30, 80, 140 };
    for (size_t k = 0; k < sizeof at_ms / sizeof at_ms[0]; k++)
        res_sigint("shared-state", (const char *const[]){ "lock=mutex", NULL }, at_ms[k]);
}

int main(int argc, char **argv)
{
    int child = res_child_main(argc, argv);
    if (child >= 0)
        return child;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rwlock),
        cmocka_unit_test(test_mutex),
        cmocka_unit_test(test_nothing_to_share),
        cmocka_unit_test(test_sigint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
