/* test-sync-channel.c - demo `sync-channel`: messages arrive in order, the
 * queue never holds more than the capacity, and only sends beyond the
 * capacity can find it full. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>

#include "util.h"

static void test_capacities(void **state)
{
    (void)state;
    static const int caps[] = { 0, 1, 2, 5, 16 };
    for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++) {
        char cap[32];
        snprintf(cap, sizeof cap, "capacity=%d", caps[k]);
        int code;
        json_t *j = ct_demo_json("sync-channel",
                                 (const char *const[]){ cap, "messages=8", "delay=10", "work=2",
                                                        NULL },
                                 &code);
        assert_int_equal(code, 0);
        dj_assert_checks(j);
        assert_true(dj_int(j, "max_queued") <= caps[k]);
        /* the first `capacity` sends go into an empty buffer: they cannot
         * find it full, so at most the others can */
        assert_true(dj_int(j, "found_full") <= 8 - caps[k] || caps[k] > 8);
        if (caps[k] >= 8)
            assert_int_equal(dj_int(j, "found_full"), 0);
        assert_int_equal(json_array_size(json_object_get(json_object_get(j, "tables"), "sends")), 8);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacities),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
