/* test-rwlock-bench.c - demo `rwlock-bench` with tiny parameters: every
 * mode runs, its JSON parses and has the tables it promises, every
 * repetition's correctness check holds, and with a fixed number of
 * operations the reads and writes add up exactly.  No speed is asserted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "text.h"
#include "util.h"

/* The demo's verdicts (demos/rwlock-bench.c), pure functions of figures. */
int ct_rwbench_change(double lo0, double hi0, double lo1, double hi1, int reps);
bool ct_rwbench_extreme(const double *lo, const double *hi, const double *med, int n, int reps,
                        bool fastest, int *top, bool *level);

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
    assert_int_equal(json_array_size(rows), 8);
    json_array_foreach(rows, i, r) {
        long long reads = json_integer_value(json_object_get(r, "reads"));
        long long writes = json_integer_value(json_object_get(r, "writes"));
        assert_int_equal(reads + writes, 3LL * 3000 * 2);
        assert_true(writes > 0 && reads > 0);
        assert_true(json_real_value(json_object_get(r, "mops")) > 0);
    }
    /* a fixed count per thread: each did a third of the operations */
    json_array_foreach(dj_table(j, "repetitions"), i, r)
        assert_float_equal(json_number_value(json_object_get(r, "busiest_pct")), 100.0 / 3, 1e-9);
    assert_int_equal(json_array_size(dj_table(j, "repetitions")), 8);
    assert_int_equal(json_array_size(json_object_get(j, "checks")), 8);
    assert_null(strstr(json_string_value(json_object_get(j, "takeaway")), "took turns"));
    dj_assert_handoff(j);
    json_decref(j);
}

/* With a time limit instead of a count, the threads' shares are whatever
 * they did; they add up to the whole, so the busiest did between its fair
 * share and all of it, and a lone thread did everything. */
static void test_busiest_share(void **state)
{
    (void)state;
    for (int threads = 1; threads <= 2; threads++) {
        char th[32];
        snprintf(th, sizeof th, "threads=%d", threads);
        json_t *j = run_bench((const char *const[]){ "kinds=mutex,hslock", th, "write-pct=10",
                                                     "duration-ms=20", "reps=2", NULL });
        json_t *r;
        size_t i;
        json_array_foreach(dj_table(j, "repetitions"), i, r) {
            double b = json_number_value(json_object_get(r, "busiest_pct"));
            if (threads == 1)
                assert_float_equal(b, 100, 0);
            else
                assert_true(b >= 50 - 1e-9 && b <= 100);
        }
        json_decref(j);
    }
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

/* The seqlock's readers take nothing and retry: every read still counts
 * once, no read that passed the check is torn (the demo's check), and the
 * takeaway states the retries the summary reports. */
static void test_seqlock(void **state)
{
    (void)state;
    json_t *j = run_bench((const char *const[]){ "kinds=brlock,seqlock", "ops=20000",
                                                 "threads=2", "write-pct=50", "reps=2", NULL });
    json_t *row = dj_row(j, "results", "kind", "seqlock");
    assert_non_null(row);
    long long reads = json_integer_value(json_object_get(row, "reads"));
    long long writes = json_integer_value(json_object_get(row, "writes"));
    assert_int_equal(reads + writes, 2LL * 20000 * 2);
    json_t *again = json_object_get(json_object_get(j, "results"), "seqlock_retries");
    assert_true(json_is_integer(again));
    long long n = json_integer_value(again);
    assert_true(n >= 0);
    const char *take = json_string_value(json_object_get(j, "takeaway"));
    if (n == 0) {
        assert_non_null(strstr(take, "No seqlock read had to be done again in this run"));
    } else {
        char want[96], digits[32];
        ct_group_digits(n, digits, sizeof digits);
        snprintf(want, sizeof want, "The price: %s of its ", digits);
        if (!strstr(take, want))
            fail_msg("takeaway without \"%s\": %s", want, take);
    }
    assert_null(json_object_get(json_object_get(j, "results"), "brlock_retries"));
    json_decref(j);

    /* no writes: nothing to retry, and the takeaway says why */
    j = run_bench((const char *const[]){ "kinds=seqlock", "ops=5000", "write-pct=0", "reps=1",
                                         NULL });
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "results"),
                                                        "seqlock_retries")), 0);
    assert_non_null(strstr(json_string_value(json_object_get(j, "takeaway")),
                           "No seqlock read had to be done again (there were no writes)"));
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
    json_t *rows = dj_table(j, "repetitions");
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

/* A kind is named fastest only when its slowest repetition beat every
 * other kind's fastest: the review's run had brlock 128.0 .. 157.8 and
 * spin 111.3 .. 157.2, which are level. */
static void test_extreme_verdict(void **state)
{
    (void)state;
    double lo[] = { 60.0, 128.0, 111.3 }, hi[] = { 70.0, 157.8, 157.2 };
    double med[] = { 65.0, 154.3, 150.0 };
    bool level[3];
    int top = -1;
    assert_false(ct_rwbench_extreme(lo, hi, med, 3, 5, true, &top, level));
    assert_int_equal(top, 1);
    assert_false(level[0]);
    assert_true(level[1] && level[2]);
    /* the slowest is clear: its fastest rep is below every other slowest */
    assert_true(ct_rwbench_extreme(lo, hi, med, 3, 5, false, &top, level));
    assert_int_equal(top, 0);
    /* spin's best rep below brlock's worst: brlock is fastest */
    hi[2] = 127.9;
    assert_true(ct_rwbench_extreme(lo, hi, med, 3, 5, true, &top, level));
    assert_int_equal(top, 1);
    assert_false(level[0] || level[2]);
    /* one repetition has no spread: never a winner */
    assert_false(ct_rwbench_extreme(lo, hi, med, 3, 1, true, &top, level));
    assert_false(ct_rwbench_extreme(lo, hi, med, 3, 1, false, &top, level));
}

static void test_change_verdict(void **state)
{
    (void)state;
    assert_int_equal(ct_rwbench_change(80, 90, 120, 130, 2), 1);
    assert_int_equal(ct_rwbench_change(120, 130, 80, 90, 2), -1);
    assert_int_equal(ct_rwbench_change(80, 125, 120, 130, 2), 0);
    assert_int_equal(ct_rwbench_change(85.5, 85.5, 127.3, 127.3, 1), 0);
}

/* The range of a kind's repetitions at a point, from the repetitions table. */
static void rep_range(json_t *j, const char *kind, long threads, double *lo, double *hi)
{
    json_t *r;
    size_t i;
    json_array_foreach(dj_table(j, "repetitions"), i, r) {
        if (strcmp(dj_cell_text(r, "kind"), kind) == 0 &&
            (threads < 0 || dj_cell_int(r, "threads") == threads)) {
            *lo = dj_cell_num(r, "min");
            *hi = dj_cell_num(r, "max");
            return;
        }
    }
    fail_msg("no repetitions row for %s at %ld threads", kind, threads);
}

/* The fastest claim follows the ranges of this run. */
static void test_fastest_follows_ranges(void **state)
{
    (void)state;
    static const char *const kinds[] = { "mutex", "spin", "brlock" };
    json_t *j = run_bench((const char *const[]){ "kinds=mutex,spin,brlock", "duration-ms=5",
                                                 "reps=3", NULL });
    double lo[3], hi[3];
    int best = 0;
    for (int k = 0; k < 3; k++) {
        rep_range(j, kinds[k], -1, &lo[k], &hi[k]);
        double med = dj_cell_num(dj_row(j, "results", "kind", kinds[k]), "mops");
        if (med > dj_cell_num(dj_row(j, "results", "kind", kinds[best]), "mops"))
            best = k;
    }
    bool clear = true;
    for (int k = 0; k < 3; k++)
        clear &= k == best || hi[k] < lo[best];
    const char *t = json_string_value(json_object_get(j, "takeaway"));
    char want[64];
    snprintf(want, sizeof want, "%s was fastest", kinds[best]);
    if (clear != (strstr(t, want) != NULL) || clear == (strstr(t, "no kind was clearly fastest") != NULL))
        fail_msg("ranges %s, takeaway: %s", clear ? "apart" : "overlap", t);
    json_decref(j);

    /* one repetition: no fastest, no spread */
    j = run_bench((const char *const[]){ "kinds=mutex,brlock", "duration-ms=2", "reps=1", NULL });
    t = json_string_value(json_object_get(j, "takeaway"));
    assert_null(strstr(t, "was fastest"));
    assert_non_null(strstr(t, "one repetition"));
    assert_true(json_is_null(json_object_get(json_array_get(dj_table(j, "repetitions"), 0),
                                             "spread_pct")));
    json_decref(j);
}

/* Past the CPU count the threads sweep says, kind by kind, what the
 * ranges show, never that no lock can gain. */
static void test_threads_past_cpus(void **state)
{
    (void)state;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    long top = 1;
    while (top <= cpus)
        top *= 2;
    long at = top / 2;          /* the last point of the sweep not above the CPUs */
    char max[48];
    snprintf(max, sizeof max, "max-threads=%ld", top);
    json_t *j = run_bench((const char *const[]){ "mode=threads", max, "duration-ms=5", "reps=2",
                                                 "kinds=mutex,brlock", NULL });
    const char *t = json_string_value(json_object_get(j, "takeaway"));
    assert_null(strstr(t, "no lock can gain"));
    static const char *const kinds[] = { "mutex", "brlock" };
    for (int k = 0; k < 2; k++) {
        double lo0, hi0, lo1, hi1;
        rep_range(j, kinds[k], at, &lo0, &hi0);
        rep_range(j, kinds[k], top, &lo1, &hi1);
        char rose[32], fell[32];
        snprintf(rose, sizeof rose, "%s rose from", kinds[k]);
        snprintf(fell, sizeof fell, "%s fell from", kinds[k]);
        if ((lo1 > hi0) != (strstr(t, rose) != NULL) || (hi1 < lo0) != (strstr(t, fell) != NULL))
            fail_msg("%s %.1f..%.1f then %.1f..%.1f, takeaway: %s", kinds[k], lo0, hi0, lo1,
                     hi1, t);
    }
    json_decref(j);
}

/* One rep names no winner of the guide's timing, and the checks count the
 * runs they cover: two per rep in classic mode (both timings), one per rep
 * and point otherwise, singular for one. */
static void test_one_rep_and_run_counts(void **state)
{
    (void)state;
    json_t *j = run_bench((const char *const[]){ "mode=classic", "kinds=mutex,rwlock", "reps=1",
                                                 NULL });
    const char *t = json_string_value(json_object_get(j, "takeaway"));
    assert_null(strstr(t, "won"));
    assert_non_null(strstr(t, "cannot tell a winner"));
    assert_true(json_is_null(json_object_get(json_array_get(dj_table(j, "classic"), 0),
                                             "spread_pct")));
    const char *what = json_string_value(json_object_get(json_array_get(
        json_object_get(j, "checks"), 0), "what"));
    assert_non_null(strstr(what, "in all 2 runs (1 rep, 2 timings each)"));
    json_decref(j);

    j = run_bench((const char *const[]){ "kinds=mutex", "ops=100", "reps=1", NULL });
    what = json_string_value(json_object_get(json_array_get(json_object_get(j, "checks"), 0),
                                             "what"));
    assert_non_null(strstr(what, "in its 1 run;"));
    json_decref(j);

    j = run_bench((const char *const[]){ "mode=writes", "kinds=mutex", "ops=100", "reps=2",
                                         NULL });
    what = json_string_value(json_object_get(json_array_get(json_object_get(j, "checks"), 0),
                                             "what"));
    assert_non_null(strstr(what, "in all 12 runs (2 reps x 6 points)"));
    json_decref(j);
}

/* The line right after `title` (NULL if absent). */
static const char *line_after(const char *out, const char *title)
{
    const char *p = strstr(out, title);
    if (!p || !(p = strchr(p, '\n')))
        return NULL;
    return p + 1;
}

/* Whether the line at p begins with "  " then `word` then a space. */
static bool starts_with_word(const char *p, const char *word)
{
    size_t n = strlen(word);
    return strncmp(p, "  ", 2) == 0 && strncmp(p + 2, word, n) == 0 && p[2 + n] == ' ';
}

/* Text output at 80 columns: no line wider, the summary tables side by
 * side (a header row, then one line per kind, no label wrapping onto a
 * line of its own), and each summary value on its label's line. */
static void check_text(const char *const *args, const char *header_word)
{
    static const char *const kinds[] = { "mutex", "rwlock", "rwlock-wp", "spin", "teach-rw",
                                         "brlock", "hslock", "seqlock" };
    const char *env[] = { "NO_COLOR=1", "COLUMNS=80", NULL };
    struct ct_proc p;
    assert_int_equal(ct_proc_run(&p, args, NULL, env, 120, 0), 0);
    assert_int_equal(p.status, 0);
    for (const char *l = p.out; *l;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        if (len > 80)
            fail_msg("line of %zu columns: %.*s", len, (int)len, l);
        l = nl ? nl + 1 : l + len;
    }
    /* CPUs online and its value on one line */
    const char *c = strstr(p.out, "  CPUs online ");
    assert_non_null(c);
    const char *v = c + strlen("  CPUs online ");
    while (*v == ' ')
        v++;
    if (strtol(v, NULL, 10) != sysconf(_SC_NPROCESSORS_ONLN))
        fail_msg("CPUs online without its value: %.40s", c);
    /* the kind tables: header row, then one line per kind */
    const char *titles[] = { header_word, "every repetition at " };
    for (int t = 0; t < 2; t++) {
        const char *l = line_after(p.out, titles[t]);
        assert_non_null(l);
        if (!starts_with_word(l, "kind"))
            fail_msg("no header row after \"%s\": %.60s", titles[t], l);
        for (int k = 0; k < 8; k++) {
            l = strchr(l, '\n') + 1;
            if (!starts_with_word(l, kinds[k]))
                fail_msg("row %d after \"%s\" is not %s's: %.60s", k, titles[t], kinds[k], l);
        }
    }
    ct_proc_free(&p);
}

static void test_text_fits_80(void **state)
{
    (void)state;
    const char *bin = ct_test_binary();
    check_text((const char *const[]){ bin, "run", "rwlock-bench", NULL },
               "median of 5 repetitions");
    check_text((const char *const[]){ bin, "run", "rwlock-bench", "mode=classic", NULL },
               "100 threads x 1000 reads, median");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compare_exact_counts),
        cmocka_unit_test(test_busiest_share),
        cmocka_unit_test(test_kinds_and_extremes),
        cmocka_unit_test(test_cpu_accounting),
        cmocka_unit_test(test_sweeps),
        cmocka_unit_test(test_seqlock),
        cmocka_unit_test(test_classic),
        cmocka_unit_test(test_spin_takeaway_follows_numbers),
        cmocka_unit_test(test_extreme_verdict),
        cmocka_unit_test(test_change_verdict),
        cmocka_unit_test(test_fastest_follows_ranges),
        cmocka_unit_test(test_threads_past_cpus),
        cmocka_unit_test(test_one_rep_and_run_counts),
        cmocka_unit_test(test_text_fits_80),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
