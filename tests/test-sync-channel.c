/* test-sync-channel.c - demo `sync-channel`: messages arrive in order, the
 * queue never holds more than the capacity, and only sends beyond the
 * capacity can find it full. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>

#include "util.h"

static long long result(json_t *j, const char *key)
{
    return json_integer_value(json_object_get(json_object_get(j, "results"), key));
}

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
        json_t *c;
        size_t i;
        json_array_foreach(json_object_get(j, "checks"), i, c)
            assert_true(json_is_true(json_object_get(c, "ok")));
        assert_true(result(j, "max_queued") <= caps[k]);
        /* the first `capacity` sends go into an empty buffer: they cannot
         * find it full, so at most the others can */
        assert_true(result(j, "found_full") <= 8 - caps[k] || caps[k] > 8);
        if (caps[k] >= 8)
            assert_int_equal(result(j, "found_full"), 0);
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
