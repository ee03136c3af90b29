/* test-deadlock.c - demo `deadlock`: in opposite every provoked deadlock is
 * found as the two-thread cycle and broken, and every round finishes; in
 * ordered and trylock no cycle ever forms and every round finishes; the
 * timeline shows each deadlock as both threads waiting at once, and never
 * shows both threads holding both mutexes at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "stress.h"
#include "util.h"

static json_t *row(json_t *j, const char *variant)
{
    return dj_row(j, "variants", "variant", variant);
}

/* The state of `lane` just before time `at` (events at `at` excluded). */
static const char *state_at(json_t *lane, double at)
{
    const char *state = "idle";
    json_t *ev;
    size_t e;
    json_array_foreach(json_object_get(lane, "events"), e, ev) {
        const char *st = json_string_value(json_object_get(ev, "state"));
        if (json_number_value(json_object_get(ev, "t_ms")) >= at)
            break;
        if (st)
            state = st;
    }
    return state;
}

/* Each 'D' point: at that instant both lanes were waiting.  Returns the
 * number of 'D' points. */
static int deadlocks_drawn(json_t *j)
{
    json_t *tl = json_object_get(j, "timeline"), *lane, *ev;
    size_t i, e;
    int n = 0;
    assert_int_equal(json_array_size(tl), 2);
    json_array_foreach(tl, i, lane) {
        json_array_foreach(json_object_get(lane, "events"), e, ev) {
            const char *p = json_string_value(json_object_get(ev, "point"));
            if (!p || strcmp(p, "D") != 0)
                continue;
            double t = json_number_value(json_object_get(ev, "t_ms"));
            assert_string_equal(state_at(json_array_get(tl, 0), t), "waiting");
            assert_string_equal(state_at(json_array_get(tl, 1), t), "waiting");
            n++;
        }
    }
    return n;
}

/* The "running" (holding both) intervals of the two lanes never overlap. */
static void assert_both_held_alone(json_t *j)
{
    double from[2][64], to[2][64];
    int n[2] = { 0, 0 };
    json_t *lane, *ev;
    size_t i, e;
    json_array_foreach(json_object_get(j, "timeline"), i, lane) {
        assert_true(i < 2);
        double start = -1;
        json_array_foreach(json_object_get(lane, "events"), e, ev) {
            const char *st = json_string_value(json_object_get(ev, "state"));
            double t = json_number_value(json_object_get(ev, "t_ms"));
            if (!st)
                continue;
            if (strcmp(st, "running") == 0) {
                start = t;
            } else if (start >= 0) {
                assert_true(n[i] < 64);
                from[i][n[i]] = start;
                to[i][n[i]++] = t;
                start = -1;
            }
        }
    }
    assert_true(n[0] > 0 && n[1] > 0);
    for (int a = 0; a < n[0]; a++) {
        for (int b = 0; b < n[1]; b++)
            assert_true(to[0][a] <= from[1][b] || to[1][b] <= from[0][a]);
    }
}

static void test_all_variants(void **state)
{
    (void)state;
    static const char *const cycles[] = {
        "thread-1 holds A, waits for B; thread-2 holds B, waits for A",
        "thread-2 holds B, waits for A; thread-1 holds A, waits for B",
    };
    for (int round = 0; round < CT_STRESS(3, 2); round++) {
        int code;
        json_t *j = ct_demo_json("deadlock",
                                 (const char *const[]){ "deadlocks=2", "rounds=300",
                                                        "patience-ms=40", NULL },
                                 &code);
        assert_non_null(j);
        assert_int_equal(code, 0);
        assert_int_equal(dj_assert_checks(j), 6);
        json_t *opp = row(j, "opposite"), *ord = row(j, "ordered"), *tr = row(j, "trylock");
        assert_int_equal(dj_cell_int(opp, "provoked"), 2);
        assert_int_equal(dj_cell_int(opp, "cycles"), 2);
        assert_int_equal(dj_cell_int(opp, "rounds"), 2 * 2);
        assert_int_equal(dj_cell_int(ord, "cycles"), 0);
        assert_int_equal(dj_cell_int(ord, "rounds"), 2 * 300);
        assert_int_equal(dj_cell_int(tr, "cycles"), 0);
        assert_int_equal(dj_cell_int(tr, "rounds"), 2 * 300);
        /* the gate sets up the conflict in every round, and the first try
         * made in it must fail */
        assert_int_equal(dj_cell_int(tr, "provoked"), 300);
        assert_true(dj_cell_int(tr, "retries") >= 300);
        assert_int_equal(dj_cell_int(ord, "provoked"), 0);
        const char *cycle = dj_text(j, "cycle");
        assert_true(strcmp(cycle, cycles[0]) == 0 || strcmp(cycle, cycles[1]) == 0);
        /* the timeline draws opposite: one 'D' per deadlock, both waiting */
        assert_int_equal(deadlocks_drawn(j), 2);
        assert_both_held_alone(j);
        json_decref(j);
    }
}

/* Each fixed variant alone, drawn: no deadlock on its timeline, and the
 * two threads never hold both mutexes at the same time. */
/* One deadlock and one round: the takeaway counts in the singular ("1
 * deadlock", "in the one round"), with the cycle count the table shows. */
static void test_one_round_singular(void **state)
{
    (void)state;
    int code;
    json_t *j = ct_demo_json("deadlock", (const char *const[]){ "deadlocks=1", "rounds=1",
                                                                "patience-ms=20", NULL },
                             &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    dj_assert_checks(j);
    long long cycles = dj_cell_int(row(j, "opposite"), "cycles");
    assert_int_equal(cycles, 1);
    const char *t = dj_takeaway(j);
    assert_non_null(strstr(t, "in the one round each then waited"));
    assert_non_null(strstr(t, "held: 1 deadlock, each found"));
    assert_non_null(strstr(t, "conflict in the one round,"));
    assert_null(strstr(t, "1 deadlocks"));
    assert_null(strstr(t, "all 1 rounds"));
    /* and so do the checks */
    json_t *c;
    size_t i;
    bool seen = false;
    json_array_foreach(json_object_get(j, "checks"), i, c) {
        const char *what = json_string_value(json_object_get(c, "what"));
        if (strncmp(what, "opposite: 1 deadlock", 20) == 0) {
            assert_string_equal(what, "opposite: 1 deadlock provoked, 1 cycle found, "
                                      "1 thread backed out");
            seen = true;
        }
    }
    assert_true(seen);
    json_decref(j);
}

static void test_fixed_variants_drawn(void **state)
{
    (void)state;
    static const char *const vs[] = { "variants=ordered", "variants=trylock" };
    for (size_t k = 0; k < 2; k++) {
        int code;
        json_t *j = ct_demo_json("deadlock",
                                 (const char *const[]){ vs[k], "rounds=100", "patience-ms=40",
                                                        NULL },
                                 &code);
        assert_int_equal(code, 0);
        assert_int_equal(dj_assert_checks(j), 2);
        assert_null(row(j, "opposite"));
        assert_null(json_object_get(json_object_get(j, "results"), "cycle"));
        assert_int_equal(deadlocks_drawn(j), 0);
        assert_both_held_alone(j);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_variants),
        cmocka_unit_test(test_fixed_variants_drawn),
        cmocka_unit_test(test_one_round_singular),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
