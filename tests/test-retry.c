/* test-retry.c - demo `retry`: the outcomes add up to the number of
 * operations, invalid data is never retried, the extremes of the failure
 * rates give the outcomes they must, and a seed replays the same
 * histories whatever the timings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "stress.h"
#include "util.h"

/* Short timings: outcomes do not depend on them, except when a reply loses
 * a race with its deadline (the demo counts those: "races"); the wide gap
 * between work and deadline makes that rare. */
#define FAST "work-ms=2", "timeout-ms=30", "base-ms=2", "cap-ms=8"

static json_t *run(const char *const *args)
{
    int code;
    json_t *j = ct_demo_json("retry", args, &code);
    assert_non_null(j);
    assert_int_equal(dj_assert_checks(j), 5);   /* names a failed check */
    if (code != 0)
        fail_msg("exit %d: %.3000s", code, json_dumps(j, JSON_COMPACT));
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    return j;
}

static long long outcome(json_t *j, const char *name)
{
    return dj_cell_int(dj_row(j, "outcomes", "outcome", name), "ops");
}

static long long outcomes_total(json_t *j)
{
    json_t *r;
    size_t i;
    long long sum = 0;
    json_array_foreach(dj_table(j, "outcomes"), i, r)
        sum += json_integer_value(json_object_get(r, "ops"));
    return sum;
}

static void test_outcomes_add_up(void **state)
{
    (void)state;
    static const char *const seeds[] = { "seed=1", "seed=155", "seed=9999", "seed=31337" };
    for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
        json_t *j = run((const char *const[]){ FAST, "ops=20", seeds[k], NULL });
        assert_int_equal(outcomes_total(j), 20);
        assert_int_equal(json_array_size(dj_table(j, "ops")), 20);
        /* attempts per op add up to the total */
        json_t *r;
        size_t i;
        long long attempts = 0;
        json_array_foreach(dj_table(j, "ops"), i, r) {
            long long a = json_integer_value(json_object_get(r, "attempts"));
            assert_true(a >= 1 && a <= 4);
            attempts += a;
        }
        assert_int_equal(attempts, dj_int(j, "attempts"));
        json_decref(j);
    }
}

/* A run in which no reply lost a race with its deadline (which would turn
 * one attempt into a timeout): retried a few times if need be. */
static json_t *run_raceless(const char *const *args)
{
    for (int i = 0;; i++) {
        json_t *j = run(args);
        if (dj_int(j, "races") == 0 || i == 5)
            return j;
        json_decref(j);
    }
}

static void test_extremes(void **state)
{
    (void)state;
    json_t *j = run_raceless((const char *const[]){ FAST, "ops=8", "invalid-pct=100", NULL });
    assert_int_equal(outcome(j, "not retryable"), 8);
    assert_int_equal(dj_int(j, "attempts"), 8);
    json_decref(j);
    /* every attempt hangs: no race can change that */
    j = run((const char *const[]){ FAST, "ops=6", "attempts=3", "invalid-pct=0",
                                   "timeout-pct=100", NULL });
    assert_int_equal(outcome(j, "gave up (timeouts)"), 6);
    assert_int_equal(dj_int(j, "timeouts"), 18);
    json_decref(j);
    j = run_raceless((const char *const[]){ FAST, "ops=6", "attempts=2", "invalid-pct=0",
                                            "timeout-pct=0", "network-pct=100", NULL });
    assert_int_equal(outcome(j, "gave up (network)"), 6);
    assert_int_equal(dj_int(j, "network"), 12);
    json_decref(j);
    j = run_raceless((const char *const[]){ FAST, "ops=5", "invalid-pct=0", "timeout-pct=0",
                                            "network-pct=0", NULL });
    assert_int_equal(outcome(j, "ok first time"), 5);
    assert_int_equal(dj_int(j, "bunched"), 0);      /* no retries at all */
    json_decref(j);
}

/* The same seed, at different timings, gives the same history per op
 * (when no reply lost a race with its deadline: then there is nothing to
 * compare, and the next round tries again). */
static void test_replay(void **state)
{
    (void)state;
    int compared = 0;
    for (int round = 0; round < 10 && compared < CT_STRESS(3, 1); round++) {
        json_t *a = run((const char *const[]){ FAST, "ops=16", "seed=4242", NULL });
        json_t *b = run((const char *const[]){ "work-ms=1", "timeout-ms=25", "base-ms=1",
                                               "cap-ms=3", "jitter=off", "ops=16", "seed=4242",
                                               NULL });
        if (dj_int(a, "races") + dj_int(b, "races") > 0) {
            json_decref(a);
            json_decref(b);
            continue;
        }
        compared++;
        json_t *ra = dj_table(a, "ops"), *rb = dj_table(b, "ops");
        assert_int_equal(json_array_size(ra), 16);
        for (size_t i = 0; i < 16; i++) {
            json_t *x = json_array_get(ra, i), *y = json_array_get(rb, i);
            assert_string_equal(dj_cell_text(x, "history"), dj_cell_text(y, "history"));
            assert_string_equal(dj_cell_text(x, "outcome"), dj_cell_text(y, "outcome"));
        }
        assert_int_equal(dj_int(a, "seed"), 4242);
        json_decref(a);
        json_decref(b);
    }
    assert_true(compared > 0);
}

static const char *takeaway(json_t *j)
{
    const char *t = dj_takeaway(j);
    return t;
}

/* The backoff paragraph follows what happened: no retries, no talk of
 * doubling or jitter; a base at or above the cap never doubles. */
static void test_takeaway_backoff(void **state)
{
    (void)state;
    json_t *j = run((const char *const[]){ FAST, "ops=6", "attempts=1", NULL });
    assert_int_equal(dj_int(j, "attempts"), 6);
    assert_non_null(strstr(takeaway(j), "attempts=1 no operation could retry"));
    assert_null(strstr(takeaway(j), "doubling"));
    assert_null(strstr(takeaway(j), "jitter=off"));
    json_decref(j);
    j = run((const char *const[]){ FAST, "ops=5", "invalid-pct=0", "timeout-pct=0",
                                   "network-pct=0", "jitter=off", NULL });
    assert_int_equal(dj_int(j, "attempts"), 5);
    assert_non_null(strstr(takeaway(j), "nothing was retried"));
    assert_null(strstr(takeaway(j), "doubling"));
    assert_null(strstr(takeaway(j), "jitter=on"));
    json_decref(j);
    /* every attempt meets a network error, so each op retries once */
    j = run((const char *const[]){ "work-ms=2", "timeout-ms=30", "base-ms=8", "cap-ms=2",
                                   "ops=4", "attempts=2", "invalid-pct=0", "timeout-pct=0",
                                   "network-pct=100", NULL });
    char want[64];
    long long retries = dj_int(j, "attempts") - 4;
    assert_true(retries >= 4);
    snprintf(want, sizeof want, "%lld retries waited", retries);
    assert_non_null(strstr(takeaway(j), want));
    assert_non_null(strstr(takeaway(j), "capped at 2 ms"));
    assert_null(strstr(takeaway(j), "doubling"));
    json_decref(j);
}

/* One operation, one attempt, nothing going wrong: counts of 1 take the
 * singular, a count of 0 gets no clause about what "those" did, and the
 * outcome bars carry no "ops" unit to read "1 ops". */
static void test_counts_of_one_and_none(void **state)
{
    (void)state;
    struct ct_proc p;
    assert_int_equal(ct_tutor(&p, (const char *const[]){ "run", "retry", "ops=1", "attempts=1",
                                                         "invalid-pct=0", "timeout-pct=0",
                                                         "network-pct=0", NULL }),
                     0);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "Of 1 operation, 1 succeeded first time"));
    assert_non_null(strstr(p.out, "none had invalid data"));
    assert_non_null(strstr(p.out, "No attempt hung."));
    assert_null(strstr(p.out, "0 had invalid data"));
    assert_null(strstr(p.out, "1 operations"));
    assert_null(strstr(p.out, " 1 ops"));
    assert_null(strstr(p.out, " 1 attempts"));
    assert_null(strstr(p.out, " 1 results"));
    ct_proc_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outcomes_add_up),
        cmocka_unit_test(test_extremes),
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_takeaway_backoff),
        cmocka_unit_test(test_counts_of_one_and_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
