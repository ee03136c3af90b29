/* test-futures.c - demo `futures`: the poll counts it reports are the
 * ones a correct executor must produce, on every run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "util.h"

static void test_poll_counts(void **state)
{
    (void)state;
    for (int round = 0; round < 5; round++) {
        int code;
        json_t *j = ct_demo_json("futures", (const char *const[]){ "sleep-ms=10", "wake-ms=5",
                                                                   NULL }, &code);
        assert_non_null(j);
        assert_int_equal(code, 0);
        assert_true(dj_checks_ok(j));
        assert_int_equal(dj_num(j, "hello_polls"), 2);      /* one per side of the await */
        assert_int_equal(dj_num(j, "once_polls"), 2);
        assert_int_equal(dj_num(j, "forgetful_polls"), 1);  /* never woken, never re-polled */
        assert_int_equal(dj_num(j, "remote_polls"), 2);
        assert_true(dj_num(j, "hello_ms") >= 10);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_poll_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
