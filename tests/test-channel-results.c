/* test-channel-results.c - demo `channel-results`: exactly one result per
 * job, each the square of its own job's number, sorted by id, and the
 * arrival positions a permutation (every result received once). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>

#include "util.h"
#include "wording.h"

static void test_results_complete_and_sorted(void **state)
{
    (void)state;
    static const int jobs[] = { 1, 8, 64 };
    for (size_t k = 0; k < sizeof jobs / sizeof jobs[0]; k++) {
        char arg[32];
        snprintf(arg, sizeof arg, "jobs=%d", jobs[k]);
        int code;
        json_t *j = ct_demo_json("channel-results", (const char *const[]){ arg, "pause=15", NULL },
                                 &code);
        assert_non_null(j);
        assert_int_equal(dj_assert_checks(j), 2);
        assert_int_equal(code, 0);
        /* no result lost and none duplicated on the way in */
        assert_int_equal(dj_int(j, "received"), jobs[k]);
        json_t *rows = dj_table(j, "results"), *r;
        assert_int_equal(json_array_size(rows), (size_t)jobs[k]);
        char seen[64] = { 0 };
        size_t i;
        json_array_foreach(rows, i, r) {
            /* sorted: row i is job i, and job i squares i + 1 */
            assert_int_equal(dj_cell_int(r, "id"), (long long)i);
            assert_int_equal(dj_cell_int(r, "square"), (long long)((i + 1) * (i + 1)));
            long long arrived = dj_cell_int(r, "arrived");
            assert_in_range(arrived, 1, jobs[k]);
            assert_int_equal(seen[arrived - 1]++, 0);
        }
        json_decref(j);
    }
}

/* A count of 1 takes the singular in everything the run prints. */
static void test_one_job_singular(void **state)
{
    (void)state;
    const char *const nouns[] = { "job", "result", NULL };
    ct_assert_singular_after_one("channel-results", (const char *const[]){ "jobs=1", "pause=0", NULL }, nouns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_results_complete_and_sorted),
        cmocka_unit_test(test_one_job_singular),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
