/* test-rwlock.c - demo `rwlock` with every lock choice: the checks hold,
 * the write happens once, and the timeline never shows the writer holding
 * the lock while a reader holds it (the marks are made inside the lock). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "util.h"


static void test_each_lock(void **state)
{
    (void)state;
    static const char *const locks[] = { "teach-rw", "brlock", "rwlock", "rwlock-wp" };
    for (size_t l = 0; l < sizeof locks / sizeof locks[0]; l++) {
        for (int round = 0; round < 3; round++) {
            char lock[32];
            snprintf(lock, sizeof lock, "lock=%s", locks[l]);
            int code;
            json_t *j = ct_demo_json("rwlock",
                                     (const char *const[]){ lock, "readers=4", "hold-ms=30",
                                                            "writer-at-ms=10", "write-ms=5",
                                                            NULL },
                                     &code);
            assert_non_null(j);
            assert_int_equal(code, 0);
            json_t *c;
            size_t i;
            assert_int_equal(json_array_size(json_object_get(j, "checks")), 3);
            json_array_foreach(json_object_get(j, "checks"), i, c)
                assert_true(json_is_true(json_object_get(c, "ok")));
            json_t *res = json_object_get(j, "results");
            assert_string_equal(json_string_value(json_object_get(res, "final")),
                                "[1, 2, 3, 4, 5, 6]");
            assert_true(json_integer_value(json_object_get(res, "max_readers")) >= 1);
            assert_int_equal(json_array_size(json_object_get(json_object_get(j, "tables"),
                                                             "threads")), 6);
            struct dj_span s[16];
            int n = dj_hold_spans(j, s, 16);
            assert_int_equal(n, 6);     /* 4 readers, the late reader, the writer */
            int writers = 0;
            for (int a = 0; a < n; a++) {
                writers += s[a].exclusive;
                for (int b = 0; b < n; b++) {
                    if (a != b && s[a].exclusive)
                        assert_true(s[a].to <= s[b].from || s[b].to <= s[a].from);
                }
            }
            assert_int_equal(writers, 1);
            json_decref(j);
        }
    }
}

static void test_without_late_reader(void **state)
{
    (void)state;
    int code;
    json_t *j = ct_demo_json("rwlock",
                             (const char *const[]){ "readers=1", "hold-ms=5", "writer-at-ms=0",
                                                    "write-ms=0", "late-reader=no", NULL },
                             &code);
    assert_int_equal(code, 0);
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "tables"), "threads")),
                     2);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_lock),
        cmocka_unit_test(test_without_late_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
