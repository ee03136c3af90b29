/* test-sync-channel.c - demo `sync-channel`: every message arrives once and
 * in order, the queue never holds more than the capacity, only sends
 * beyond the capacity can find it full (none when the capacity covers
 * every message), and the unbounded comparison queues everything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>

#include "util.h"
#include "wording.h"

#define MESSAGES 8

static void test_capacities(void **state)
{
    (void)state;
    static const int caps[] = { 0, 1, 2, 5, 8, 16 };
    for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++) {
        int cap = caps[k];
        char capacity[32], messages[32];
        snprintf(capacity, sizeof capacity, "capacity=%d", cap);
        snprintf(messages, sizeof messages, "messages=%d", MESSAGES);
        int code;
        json_t *j = ct_demo_json("sync-channel",
                                 (const char *const[]){ capacity, messages, "delay=10", "work=2",
                                                        NULL },
                                 &code);
        assert_non_null(j);
        size_t checks = dj_assert_checks(j);
        assert_int_equal(code, 0);
        assert_in_range(checks, 3, 4);

        /* exactly messages 0..7, each once, in the order sent; the first
         * `cap` sends went into room that was free, so they never blocked */
        json_t *rows = dj_table(j, "received"), *r;
        assert_int_equal(json_array_size(rows), MESSAGES);
        size_t i;
        json_array_foreach(rows, i, r) {
            assert_int_equal(dj_cell_int(r, "msg"), (long long)i);
            if ((int)i < cap)
                assert_true(dj_cell_num(r, "blocked_ms") == 0.0);
        }
        assert_in_range(dj_int(j, "max_queued"), 0, cap);
        if (cap >= MESSAGES)
            assert_int_equal(dj_int(j, "found_full"), 0);
        else
            assert_in_range(dj_int(j, "found_full"), 0, MESSAGES - cap);
        /* with nobody receiving, an unbounded channel holds all of them */
        assert_int_equal(dj_int(j, "unbounded_queued"), MESSAGES);
        json_decref(j);
    }
}

/* A count of 1 takes the singular in everything the run prints. */
static void test_one_message_singular(void **state)
{
    (void)state;
    const char *const nouns[] = { "send", "message", NULL };
    ct_assert_singular_after_one("sync-channel", (const char *const[]){ "capacity=0", "messages=1", "delay=0", "work=0", NULL }, nouns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacities),
        cmocka_unit_test(test_one_message_singular),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
