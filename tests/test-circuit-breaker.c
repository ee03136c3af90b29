/* test-circuit-breaker.c - demo `circuit-breaker`, run as a process with
 * small parameters: an outage trips the breaker exactly once, the probes
 * that fail reopen it and the one that succeeds closes it; every call is
 * accounted for and the service saw exactly the calls let through; with
 * one caller the failures are exactly the threshold plus the failed
 * probes; with no outage nothing trips and nothing fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static json_t *run_breaker(const char *const *params)
{
    json_t *j = ct_demo_proc_json("circuit-breaker", params, 60);
    dj_assert_checks(j);
    return j;
}

/* calls = ok + failed + fast for a row; returns the row. */
static json_t *group(json_t *j, const char *name)
{
    json_t *row = dj_row(j, "callers", "group", name);
    assert_non_null(row);
    assert_int_equal(dj_cell_int(row, "calls"),
                     dj_cell_int(row, "ok") + dj_cell_int(row, "failed") +
                         dj_cell_int(row, "fast"));
    return row;
}

/* Small, quick times; the outage is long enough for a trip and a failed
 * probe, and the run goes on long enough for the recovery. */
#define TIMES "open=60", "timeout=25", "work=3", "gap=4", "down-at=60", "duration=600"
#define QUICK TIMES, "down-for=200"

static void test_outage_trips_once_and_recovers(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        json_t *j = run_breaker((const char *const[]){ QUICK, NULL });
        assert_int_equal(dj_int(j, "trips"), 1);
        assert_int_equal(dj_int(j, "closed"), 1);
        assert_int_equal(dj_int(j, "probes"), dj_int(j, "reopened") + 1);
        assert_string_equal(dj_text(j, "final_state"), "closed");
        assert_true(dj_int(j, "failed_fast") > 0);
        json_t *b = group(j, "breaker"), *nb = group(j, "no breaker");
        assert_int_equal(dj_cell_int(b, "fast"), dj_int(j, "failed_fast"));
        assert_int_equal(dj_cell_int(nb, "fast"), 0);
        assert_true(dj_cell_int(nb, "failed") > 0);
        assert_int_equal(json_array_size(dj_table(j, "callers")), 2);
        dj_num(j, "saved_ms");
        json_decref(j);
    }
}

/* One caller: nothing is ever in flight when another call moves the
 * breaker, so no outcome is stale, and the failures that reached the
 * service are exactly the trip's threshold plus the failed probes. */
static void test_one_caller_exact_failures(void **state)
{
    (void)state;
    static const char *const thresholds[] = { "threshold=1", "threshold=3" };
    for (int k = 0; k < 2; k++) {
        json_t *j = run_breaker((const char *const[]){ QUICK, "callers=1", thresholds[k],
                                                       NULL });
        long long threshold = json_integer_value(
            json_object_get(json_object_get(j, "params"), "threshold"));
        json_t *b = group(j, "breaker");
        assert_int_equal(dj_int(j, "stale"), 0);
        assert_int_equal(dj_int(j, "trips"), 1);
        assert_int_equal(dj_cell_int(b, "failed"), threshold + dj_int(j, "reopened"));
        json_decref(j);
    }
}

/* No outage: nothing trips, nothing fails, nothing fails fast; and with
 * compare=false only the breaker's callers run, with no time saved.  The
 * call timeout is far above the 3 ms of work, so that a loaded machine
 * (ASan, other jobs) cannot turn a slow call into a failure. */
static void test_no_outage(void **state)
{
    (void)state;
    json_t *j = run_breaker((const char *const[]){ "open=60", "timeout=250", "work=3", "gap=4",
                                                   "down-at=60", "duration=600", "down-for=0",
                                                   "compare=false", NULL });
    assert_int_equal(dj_int(j, "trips"), 0);
    assert_int_equal(dj_int(j, "probes"), 0);
    assert_int_equal(dj_int(j, "failed_fast"), 0);
    assert_string_equal(dj_text(j, "final_state"), "closed");
    json_t *b = group(j, "breaker");
    assert_int_equal(dj_cell_int(b, "failed"), 0);
    assert_int_equal(json_array_size(dj_table(j, "callers")), 1);
    assert_null(json_object_get(json_object_get(j, "results"), "saved_ms"));
    json_decref(j);
}

static const char *takeaway(json_t *j)
{
    const char *t = dj_takeaway(j);
    return t;
}

/* No trip: the advice fits the cause and stays in range (threshold=1 is
 * as low as it goes; an outage due after the end needs down-at=). */
static void test_no_trip_advice_in_range(void **state)
{
    (void)state;
    json_t *j = run_breaker((const char *const[]){ "threshold=1", "down-for=0",
                                                   "duration=200", "compare=false", NULL });
    assert_int_equal(dj_int(j, "trips"), 0);
    assert_null(strstr(takeaway(j), "threshold="));
    json_decref(j);
    j = run_breaker((const char *const[]){ "down-at=300", "duration=200", "compare=false",
                                           NULL });
    assert_int_equal(dj_int(j, "trips"), 0);
    assert_non_null(strstr(takeaway(j), "down-at="));
    assert_null(strstr(takeaway(j), "down-for="));
    json_decref(j);
}

/* An outage shorter than one timeout: each group's one caller meets it
 * once, the breaker trips on that failure and then refuses calls a healthy
 * service would have answered.  Time saved is claimed only when the run
 * measured some and the breaker's callers had fewer failing calls. */
static void test_saving_claimed_only_when_measured(void **state)
{
    (void)state;
    json_t *j = run_breaker((const char *const[]){ "callers=1", "threshold=1", "open=60",
                                                   "timeout=25", "work=3", "gap=4",
                                                   "down-at=60", "down-for=10",
                                                   "duration=400", NULL });
    long long bf = dj_cell_int(group(j, "breaker"), "failed");
    long long nbf = dj_cell_int(group(j, "no breaker"), "failed");
    double saved = dj_num(j, "saved_ms");
    const char *t = takeaway(j);
    if (dj_int(j, "trips") > 0 && dj_int(j, "failed_fast") > 0) {
        bool claims = strstr(t, "saved per caller") != NULL;
        assert_true(claims != (strstr(t, "no time saved") != NULL));
        assert_int_equal(claims, saved > 0 && bf < nbf);
    }
    json_decref(j);
}

/* The events of one lane that are state changes: times, and busy or not. */
static int lane_states(json_t *lane, double *t, int *busy, int max)
{
    json_t *ev;
    size_t e;
    int n = 0;
    json_array_foreach(json_object_get(lane, "events"), e, ev) {
        const char *st = json_string_value(json_object_get(ev, "state"));
        if (!st)
            continue;
        assert_true(n < max);
        t[n] = json_number_value(json_object_get(ev, "t_ms"));
        busy[n++] = strcmp(st, "idle") != 0;
    }
    return n;
}

/* The timeline has the service lane and the three state lanes.  The state
 * lanes take turns (never two busy at once: the hook clears the old state
 * before it marks the new one), and the order in which they turn busy is
 * closed first, then only the allowed moves, once per counted change. */
static void test_timeline_lanes_take_turns(void **state)
{
    (void)state;
    json_t *j = run_breaker((const char *const[]){ QUICK, NULL });
    json_t *tl = json_object_get(j, "timeline");
    static const char *const names[] = { "service", "closed", "open", "half-open" };
    assert_int_equal(json_array_size(tl), 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(tl, i), "lane")),
                            names[i]);
    double t[3][64];
    int busy[3][64], n[3];
    for (int l = 0; l < 3; l++)
        n[l] = lane_states(json_array_get(tl, l + 1), t[l], busy[l], 64);
    int at[3] = { 0 }, on[3] = { 0 }, seq[192], nseq = 0;
    for (;;) {
        int next = -1;
        for (int l = 0; l < 3; l++)
            if (at[l] < n[l] && (next < 0 || t[l][at[l]] < t[next][at[next]]))
                next = l;
        if (next < 0)
            break;
        /* every event at this very instant, then judge */
        double now = t[next][at[next]];
        for (int l = 0; l < 3; l++)
            for (; at[l] < n[l] && t[l][at[l]] <= now; at[l]++) {
                if (busy[l][at[l]] && !on[l])
                    seq[nseq++] = l;
                on[l] = busy[l][at[l]];
            }
        assert_true(on[0] + on[1] + on[2] <= 1);
    }
    /* 0 closed, 1 open, 2 half-open */
    assert_true(nseq > 0);
    assert_int_equal(seq[0], 0);
    for (int i = 1; i < nseq; i++) {
        if (seq[i - 1] == 0)
            assert_int_equal(seq[i], 1);
        else if (seq[i - 1] == 1)
            assert_int_equal(seq[i], 2);
        else
            assert_true(seq[i] == 0 || seq[i] == 1);
    }
    assert_int_equal(nseq - 1, dj_int(j, "trips") + dj_int(j, "probes") + dj_int(j, "reopened") +
                                   dj_int(j, "closed"));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outage_trips_once_and_recovers),
        cmocka_unit_test(test_one_caller_exact_failures),
        cmocka_unit_test(test_no_outage),
        cmocka_unit_test(test_no_trip_advice_in_range),
        cmocka_unit_test(test_saving_claimed_only_when_measured),
        cmocka_unit_test(test_timeline_lanes_take_turns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
