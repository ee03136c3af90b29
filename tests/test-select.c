/* test-select.c - demo `select`: the shorter operation wins, the loser's
 * cleanup runs exactly once, and nothing is left open or armed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>

#include "util.h"

static json_t *race(int one, int two)
{
    char a[32], b[32];
    snprintf(a, sizeof a, "one-ms=%d", one);
    snprintf(b, sizeof b, "two-ms=%d", two);
    json_t *j = ct_demo_ok("select", (const char *const[]){ a, b, NULL });
    assert_int_equal(dj_num(j, "loser_cleanups"), 1);
    assert_int_equal(dj_num(j, "open_after"), 0);
    assert_int_equal(dj_num(j, "timers_left"), 0);
    return j;
}

static void test_shorter_wins_loser_cleaned(void **state)
{
    (void)state;
    for (int round = 0; round < 5; round++) {
        /* generous gaps: the order cannot flip on a slow machine */
        json_t *j = race(300, 5);
        assert_string_equal(dj_text(j, "winner"), "operation two");
        json_t *loser = dj_row(j, "operations", "op", "operation one");
        assert_string_equal(dj_cell_text(loser, "outcome"), "cancelled");
        assert_int_equal(dj_cell_num(loser, "cleanups"), 1);
        json_decref(j);

        j = race(5, 300);
        assert_string_equal(dj_text(j, "winner"), "operation one");
        loser = dj_row(j, "operations", "op", "operation two");
        assert_string_equal(dj_cell_text(loser, "outcome"), "cancelled");
        json_decref(j);
    }
}

/* A tie goes to the first branch: select polls in order. */
static void test_tie_goes_to_first(void **state)
{
    (void)state;
    json_t *j = race(10, 10);
    assert_string_equal(dj_text(j, "winner"), "operation one");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shorter_wins_loser_cleaned),
        cmocka_unit_test(test_tie_goes_to_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
