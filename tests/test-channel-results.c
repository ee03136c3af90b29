/* test-channel-results.c - demo `channel-results`: one result per job, each
 * the square of its input, sorted by id, arrival positions a permutation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "util.h"

static void test_results_complete_and_sorted(void **state)
{
    (void)state;
    static const int jobs[] = { 1, 8, 64 };
    for (size_t k = 0; k < 3; k++) {
        char arg[32];
        snprintf(arg, sizeof arg, "jobs=%d", jobs[k]);
        int code;
        json_t *j = ct_demo_json("channel-results", (const char *const[]){ arg, "pause=15", NULL },
                                 &code);
        assert_int_equal(code, 0);
        json_t *rows = json_object_get(json_object_get(j, "tables"), "results"), *r;
        assert_int_equal(json_array_size(rows), jobs[k]);
        char seen[64] = { 0 };
        size_t i;
        json_array_foreach(rows, i, r) {
            long long id = json_integer_value(json_object_get(r, "id"));
            long long in = json_integer_value(json_object_get(r, "input"));
            long long arrived = json_integer_value(json_object_get(r, "arrived"));
            assert_int_equal(id, (long long)i);
            assert_int_equal(in, id + 1);
            assert_int_equal(json_integer_value(json_object_get(r, "square")), in * in);
            assert_true(arrived >= 1 && arrived <= jobs[k]);
            assert_int_equal(seen[arrived - 1]++, 0);
        }
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_results_complete_and_sorted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
