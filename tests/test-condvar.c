/* test-condvar.c - demo `condvar`: every item is taken exactly once in
 * every variant; what the consumers detected matches what the producer
 * provoked (stolen wake-ups, lost wake-ups), the bugs are provoked at all,
 * and the timeline shows each lost wake-up: a consumer asleep from before
 * the item was queued until its bounded wait ran out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "stress.h"
#include "util.h"

#define ITEMS 4

static json_t *row(json_t *j, const char *variant)
{
    return dj_row(j, "variants", "variant", variant);
}

/* Points with glyph `g` on lane `lane` (any lane if NULL): their times go
 * into t[0..max-1]; returns how many there were. */
static int points(json_t *j, const char *lane, char g, double *t, int max)
{
    int n = 0;
    json_t *l, *ev;
    size_t i, e;
    char want[2] = { g, 0 };
    json_array_foreach(json_object_get(j, "timeline"), i, l) {
        if (lane && strcmp(json_string_value(json_object_get(l, "lane")), lane) != 0)
            continue;
        json_array_foreach(json_object_get(l, "events"), e, ev) {
            const char *p = json_string_value(json_object_get(ev, "point"));
            if (p && strcmp(p, want) == 0) {
                if (n < max)
                    t[n] = json_number_value(json_object_get(ev, "t_ms"));
                n++;
            }
        }
    }
    return n;
}

/* On the lane holding point `g` at time `at`: did the wait that ended just
 * before it (the bounded wait that ran out) cover the instant `since`? */
static bool slept_through(json_t *j, char g, double at, double since)
{
    json_t *l, *ev;
    size_t i, e;
    char want[2] = { g, 0 };
    json_array_foreach(json_object_get(j, "timeline"), i, l) {
        const char *state = "idle";
        double entered = 0, wait_from = -1, wait_to = -1;
        json_array_foreach(json_object_get(l, "events"), e, ev) {
            double t = json_number_value(json_object_get(ev, "t_ms"));
            const char *st = json_string_value(json_object_get(ev, "state"));
            const char *p = json_string_value(json_object_get(ev, "point"));
            if (p && strcmp(p, want) == 0 && t == at)
                return wait_from >= 0 && wait_from <= since && wait_to >= since;
            if (st) {
                if (strcmp(state, "waiting") == 0) {
                    wait_from = entered;
                    wait_to = t;
                }
                state = st;
                entered = t;
            }
        }
    }
    return false;
}

static void test_counts_and_detection(void **state)
{
    (void)state;
    int stolen = 0, lost = 0, rounds = CT_STRESS(4, 2);
    for (int round = 0; round < rounds; round++) {
        int code;
        json_t *j = ct_demo_json("condvar",
                                 (const char *const[]){ "items=4", "patience-ms=80",
                                                        "window-ms=5", NULL },
                                 &code);
        assert_non_null(j);
        assert_int_equal(code, 0);
        assert_int_equal(dj_assert_checks(j), 6);
        json_t *right = row(j, "right"), *iff = row(j, "if"), *sf = row(j, "signal-first");
        assert_non_null(right);
        assert_non_null(iff);
        assert_non_null(sf);
        assert_int_equal(dj_cell_int(right, "once"), ITEMS);
        assert_int_equal(dj_cell_int(iff, "once"), ITEMS);
        assert_int_equal(dj_cell_int(sf, "once"), ITEMS);
        /* the while loop never goes on with an empty queue; if does, once per steal */
        assert_int_equal(dj_cell_int(right, "ran_on_empty"), 0);
        assert_int_equal(dj_cell_int(right, "woke_empty"), dj_cell_int(right, "stolen"));
        assert_int_equal(dj_cell_int(iff, "ran_on_empty"), dj_cell_int(iff, "stolen"));
        /* right and if signal after the change: nothing is ever lost */
        assert_int_equal(dj_cell_int(right, "lost") + dj_cell_int(right, "caught"), 0);
        assert_int_equal(dj_cell_int(iff, "lost") + dj_cell_int(iff, "caught"), 0);
        assert_int_equal(dj_cell_int(sf, "caught"), dj_cell_int(sf, "lost"));

        /* the timeline draws signal-first: one 'L' per lost wake-up, on a
         * consumer that was asleep from before its item was queued */
        double queued[ITEMS], caught[ITEMS];
        int np = points(j, "producer", 'p', queued, ITEMS);
        int nl = points(j, NULL, 'L', caught, ITEMS);
        assert_int_equal(np, ITEMS);
        assert_int_equal(nl, dj_cell_int(sf, "caught"));
        assert_int_equal(points(j, NULL, '!', NULL, 0), 0);
        for (int k = 0; k < nl; k++) {
            double last_p = -1;
            for (int q = 0; q < np; q++) {
                if (queued[q] <= caught[k] && queued[q] > last_p)
                    last_p = queued[q];
            }
            assert_true(last_p >= 0);
            assert_true(slept_through(j, 'L', caught[k], last_p));
        }
        stolen += (int)(dj_cell_int(right, "stolen") + dj_cell_int(iff, "stolen"));
        lost += (int)dj_cell_int(sf, "lost");
        json_decref(j);
    }
    /* the staging provokes the bugs: a run of zeros would test nothing */
    assert_true(stolen > 0);
    assert_true(lost > 0);
}

/* Without signal-first the timeline draws `if`: one '!' per consumer that
 * went on with an empty queue, and no lost wake-up anywhere. */
static void test_if_drawn(void **state)
{
    (void)state;
    int code;
    json_t *j = ct_demo_json("condvar",
                             (const char *const[]){ "variants=right,if", "items=3",
                                                    "patience-ms=80", "window-ms=5", NULL },
                             &code);
    assert_int_equal(code, 0);
    assert_int_equal(dj_assert_checks(j), 4);
    assert_null(row(j, "signal-first"));
    assert_int_equal(points(j, NULL, '!', NULL, 0), dj_cell_int(row(j, "if"), "ran_on_empty"));
    assert_int_equal(points(j, NULL, 'e', NULL, 0), 0);    /* right's marks are not drawn */
    assert_int_equal(points(j, NULL, 'L', NULL, 0), 0);
    json_decref(j);
}

/* A bound shorter than the producer's window would report wake-ups as
 * lost that were only stolen: refused before the run, naming both
 * parameters and the --scale it applied; just inside the rule, every check
 * holds. */
static void test_patience_outlasts_window(void **state)
{
    (void)state;
    struct ct_proc p;
    assert_int_equal(ct_tutor(&p, (const char *const[]){ "run", "condvar", "window-ms=200",
                                                         "patience-ms=20", NULL }), 0);
    assert_int_equal(p.status, 2);
    assert_string_equal(p.out, "");
    char *err = ct_unwrap(p.err);       /* the message wraps at 80 columns */
    assert_non_null(strstr(err, "patience-ms=20 must be at least 1.25 x window-ms (200 ms"));
    assert_non_null(strstr(err, "give patience-ms=250 or more"));
    free(err);
    ct_proc_free(&p);
    /* the window is scaled, the patience is not */
    assert_int_equal(ct_tutor(&p, (const char *const[]){ "--scale", "0.5", "run", "condvar",
                                                         "window-ms=100", "patience-ms=70",
                                                         "items=2", NULL }), 0);
    assert_int_equal(p.status, 0);
    ct_proc_free(&p);
    int code;
    json_t *j = ct_demo_json("condvar", (const char *const[]){ "items=3", "window-ms=40",
                                                               "patience-ms=50", NULL }, &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    assert_int_equal(dj_assert_checks(j), 6);
    json_decref(j);
}

/* For every "N <noun>" in `text`: singular when N is 1, plural otherwise. */
static void assert_number_agrees(const char *text, const char *noun)
{
    size_t n = strlen(noun);
    for (const char *p = strstr(text, noun); p; p = strstr(p + 1, noun)) {
        const char *d = p - 1;
        if (d < text || *d != ' ')
            continue;
        while (d > text && d[-1] >= '0' && d[-1] <= '9')
            d--;
        if (d == p - 1)
            continue;                   /* no number before it */
        long count = strtol(d, NULL, 10);
        bool plural = p[n] == 's';
        if (plural != (count != 1))
            fail_msg("\"%.*s\" in: %s", (int)(p + n + plural - d), d, text);
    }
}

/* One item, with the windows that make each bug show: every count the
 * checks and takeaway give (mostly 1 here) agrees with its noun. */
static void test_singular(void **state)
{
    (void)state;
    int code;
    json_t *j = ct_demo_json("condvar", (const char *const[]){ "items=1", "patience-ms=20",
                                                               NULL }, &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    dj_assert_checks(j);
    json_t *c;
    size_t i;
    json_array_foreach(json_object_get(j, "checks"), i, c) {
        const char *what = json_string_value(json_object_get(c, "what"));
        assert_number_agrees(what, "stolen wake-up");
        assert_number_agrees(what, "wake-up");
    }
    const char *t = json_string_value(json_object_get(j, "takeaway"));
    assert_number_agrees(t, "item");
    assert_number_agrees(t, "signal");
    assert_number_agrees(t, "time");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_detection),
        cmocka_unit_test(test_if_drawn),
        cmocka_unit_test(test_patience_outlasts_window),
        cmocka_unit_test(test_singular),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
