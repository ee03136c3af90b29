/* test-rwlock-bench.c - demo `rwlock-bench` with tiny parameters: every
 * mode runs, its JSON parses and has the tables it promises, every
 * repetition's correctness check holds, and with a fixed number of
 * operations the reads and writes add up exactly.  No speed is asserted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static json_t *run_bench(const char *const *args)
{
    int code;
    json_t *j = ct_demo_json("rwlock-bench", args, &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    json_t *c;
    size_t i;
    assert_true(json_array_size(json_object_get(j, "checks")) > 0);
    json_array_foreach(json_object_get(j, "checks"), i, c) {
        if (!json_is_true(json_object_get(c, "ok")))
            fail_msg("check failed: %s", json_string_value(json_object_get(c, "what")));
    }
    assert_true(json_string_length(json_object_get(j, "takeaway")) > 0);
    return j;
}

static void test_compare_exact_counts(void **state)
{
    (void)state;
    json_t *j = run_bench((const char *const[]){ "ops=3000", "threads=3", "write-pct=30",
                                                 "reps=2", NULL });
    json_t *rows = dj_table(j, "results"), *r;
    size_t i;
    assert_int_equal(json_array_size(rows), 6);
    json_array_foreach(rows, i, r) {
        long long reads = json_integer_value(json_object_get(r, "reads"));
        long long writes = json_integer_value(json_object_get(r, "writes"));
        assert_int_equal(reads + writes, 3LL * 3000 * 2);
        assert_true(writes > 0 && reads > 0);
        assert_true(json_real_value(json_object_get(r, "mops")) > 0);
    }
    assert_int_equal(json_array_size(dj_table(j, "repetitions")), 6);
    assert_int_equal(json_array_size(json_object_get(j, "checks")), 6);
    json_decref(j);
}

static void test_kinds_and_extremes(void **state)
{
    (void)state;
    json_t *j = run_bench((const char *const[]){ "kinds=mutex,brlock", "ops=500",
                                                 "write-pct=100", "reps=1", "cs-ns=50", NULL });
    json_t *rows = dj_table(j, "results");
    assert_int_equal(json_array_size(rows), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 1), "kind")),
                        "brlock");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 1), "reads")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 1), "writes")),
                     2 * 500);
    json_decref(j);
    j = run_bench((const char *const[]){ "kinds=rwlock", "duration-ms=2", "write-pct=0",
                                         "reps=1", NULL });
    assert_int_equal(json_integer_value(json_object_get(json_array_get(dj_table(j, "results"), 0),
                                                        "writes")), 0);
    json_decref(j);
}

/* Where each thread's time went, from the scheduler: CPUs busy never above
 * the threads, and a lock that never sleeps (the spinlock yields, which
 * leaves a thread runnable) shows its threads almost never asleep. */
static void test_cpu_accounting(void **state)
{
    (void)state;
    json_t *j = run_bench((const char *const[]){ "kinds=spin,mutex", "threads=2",
                                                 "duration-ms=40", "write-pct=10", "reps=2",
                                                 NULL });
    json_t *rows = dj_table(j, "results"), *r;
    size_t i;
    assert_int_equal(json_array_size(rows), 2);
    json_array_foreach(rows, i, r) {
        double cpus = json_number_value(json_object_get(r, "cpus"));
        double asleep = json_number_value(json_object_get(r, "asleep_pct"));
        assert_true(cpus > 0 && cpus <= 2.05);
        assert_true(asleep >= 0 && asleep <= 100);
    }
    /* a page fault counts as asleep too, hence the margin; a thread
     * waiting for a CPU counted as asleep would blow through it on a
     * loaded machine */
    assert_true(json_number_value(json_object_get(dj_row(j, "results", "kind", "spin"),
                                                  "asleep_pct")) < 25);
    json_decref(j);
    /* one thread alone: at most one CPU, and nothing to sleep for */
    j = run_bench((const char *const[]){ "kinds=mutex,spin", "threads=1", "duration-ms=40",
                                         "write-pct=10", "reps=2", NULL });
    json_array_foreach(dj_table(j, "results"), i, r) {
        assert_true(json_number_value(json_object_get(r, "cpus")) <= 1.02);
        assert_true(json_number_value(json_object_get(r, "asleep_pct")) < 25);
    }
    json_decref(j);
}

static void test_sweeps(void **state)
{
    (void)state;
    json_t *j = run_bench((const char *const[]){ "mode=threads", "max-threads=3",
                                                 "duration-ms=2", "reps=1",
                                                 "kinds=mutex,spin,brlock", NULL });
    json_t *rows = dj_table(j, "sweep");
    assert_int_equal(json_array_size(rows), 3);            /* 1, 2, 3 threads */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 2), "threads")), 3);
    assert_non_null(json_object_get(json_array_get(rows, 0), "brlock"));
    assert_int_equal(json_array_size(dj_table(j, "repetitions")), 9);
    json_decref(j);

    j = run_bench((const char *const[]){ "mode=writes", "duration-ms=2", "reps=1",
                                         "kinds=rwlock,brlock", NULL });
    rows = dj_table(j, "sweep");
    assert_int_equal(json_array_size(rows), 6);            /* 0 .. 50 % */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 5), "write_pct")),
                     50);
    json_decref(j);
}

static void test_classic(void **state)
{
    (void)state;
    json_t *j = run_bench((const char *const[]){ "mode=classic", "kinds=mutex,rwlock", "reps=1",
                                                 NULL });
    json_t *rows = dj_table(j, "classic");
    assert_int_equal(json_array_size(rows), 2);
    json_t *r;
    size_t i;
    json_array_foreach(rows, i, r) {
        assert_true(json_real_value(json_object_get(r, "guide_ms")) > 0);
        assert_true(json_real_value(json_object_get(r, "gated_ms")) > 0);
    }
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "results"),
                                                        "max_threads")), 100);
    /* the takeaway says what share of the guide's timing went to the
     * threads, and that share is the one reported */
    double share = dj_num(j, "spawn_share_pct");
    assert_true(share >= 0 && share <= 100);
    char want[96];
    snprintf(want, sizeof want, "about %.0f%% went to creating and joining the 100 threads",
             share);
    assert_non_null(strstr(json_string_value(json_object_get(j, "takeaway")), want));
    json_decref(j);
}

/* With more threads than cores the spinlock sentence must follow this
 * run's figures: slower, faster, or too close to call. */
static void test_spin_takeaway_follows_numbers(void **state)
{
    (void)state;
    char threads[32];
    snprintf(threads, sizeof threads, "threads=%ld", 3 * sysconf(_SC_NPROCESSORS_ONLN));
    json_t *j = run_bench((const char *const[]){ "kinds=mutex,spin", threads, "ops=2000",
                                                 "reps=3", NULL });
    json_t *rows = dj_table(j, "results");
    assert_int_equal(json_array_size(rows), 2);
    json_t *mu = json_array_get(rows, 0), *sp = json_array_get(rows, 1);
    assert_string_equal(json_string_value(json_object_get(sp, "kind")), "spin");
    double mu_min = json_number_value(json_object_get(mu, "min"));
    double mu_max = json_number_value(json_object_get(mu, "max"));
    double sp_min = json_number_value(json_object_get(sp, "min"));
    double sp_max = json_number_value(json_object_get(sp, "max"));
    assert_true(mu_min > 0 && sp_min > 0);
    const char *want = sp_min > mu_max   ? "the spinlock still ran at"
                       : sp_max < mu_min ? "a waiter spins while the holder may not"
                                         : "this run cannot tell them apart";
    const char *t = json_string_value(json_object_get(j, "takeaway"));
    if (!strstr(t, want))
        fail_msg("takeaway lacks \"%s\": %s", want, t);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compare_exact_counts),
        cmocka_unit_test(test_kinds_and_extremes),
        cmocka_unit_test(test_cpu_accounting),
        cmocka_unit_test(test_sweeps),
        cmocka_unit_test(test_classic),
        cmocka_unit_test(test_spin_takeaway_follows_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
