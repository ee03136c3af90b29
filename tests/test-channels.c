/* test-channels.c - demo `channels`: all four strings arrive in order, the
 * receive loop ends on the sender's drop, and every string is freed once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "util.h"

static void test_strings_arrive_and_close(void **state)
{
    (void)state;
    for (int round = 0; round < 5; round++) {
        int code;
        json_t *j = ct_demo_json("channels", (const char *const[]){ "gap=3", NULL }, &code);
        assert_non_null(j);
        assert_int_equal(code, 0);
        assert_int_equal(dj_int(j, "sent"), 4);
        assert_int_equal(dj_int(j, "received"), 4);
        assert_true(json_number_value(json_object_get(json_object_get(j, "results"),
                                                      "close_latency_ms")) >= 0);
        assert_int_equal(dj_assert_checks(j), 4);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings_arrive_and_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
