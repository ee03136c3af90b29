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
 * compare=false only the breaker's callers run, with no time saved. */
static void test_no_outage(void **state)
{
    (void)state;
    json_t *j = run_breaker((const char *const[]){ TIMES, "down-for=0", "compare=false",
                                                   NULL });
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

/* The timeline has the service lane and the three state lanes, and the
 * state lanes take turns: at any instant exactly one is not idle. */
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
    /* merge the three state lanes' events in time order: busy count 1 */
    double t[3][64];
    int busy[3][64], n[3] = { 0 };
    for (int l = 0; l < 3; l++) {
        json_t *ev;
        size_t e;
        json_array_foreach(json_object_get(json_array_get(tl, l + 1), "events"), e, ev) {
            const char *st = json_string_value(json_object_get(ev, "state"));
            if (!st)
                continue;
            assert_true(n[l] < 64);
            t[l][n[l]] = json_number_value(json_object_get(ev, "t_ms"));
            busy[l][n[l]++] = strcmp(st, "idle") != 0;
        }
    }
    int at[3] = { 0 }, on[3] = { 0 };
    for (;;) {
        int next = -1;
        for (int l = 0; l < 3; l++)
            if (at[l] < n[l] && (next < 0 || t[l][at[l]] < t[next][at[next]]))
                next = l;
        if (next < 0)
            break;
        double now = t[next][at[next]];
        /* apply every event at this instant before judging */
        for (int l = 0; l < 3; l++)
            while (at[l] < n[l] && t[l][at[l]] <= now + 0.05) {
                on[l] = busy[l][at[l]];
                at[l]++;
            }
        assert_int_equal(on[0] + on[1] + on[2], 1);
    }
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outage_trips_once_and_recovers),
        cmocka_unit_test(test_one_caller_exact_failures),
        cmocka_unit_test(test_no_outage),
        cmocka_unit_test(test_timeline_lanes_take_turns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
