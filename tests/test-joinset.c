/* test-joinset.c - demo `joinset` (the primitive has test-joinset-lib.c):
 * every result is handled once and agrees with what the task recorded,
 * outcomes add up, and the second set's drop cancels exactly the tasks
 * that had not finished, for several sizes and drop points. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "stress.h"
#include "util.h"

static json_t *run(const char *const *args)
{
    int code;
    json_t *j = ct_demo_json("joinset", args, &code);
    assert_non_null(j);
    assert_int_equal(dj_assert_checks(j), 5);   /* names a failed check */
    assert_int_equal(code, 0);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    return j;
}

static long long cell(json_t *j, const char *phase, const char *col)
{
    return dj_cell_int(dj_row(j, "outcomes", "phase", phase), col);
}

/* The guide's numbers: ids 0..9, 0 and 5 fail, 7 panics. */
static void test_guide(void **state)
{
    (void)state;
    json_t *j = run((const char *const[]){ "work-ms=20", NULL });
    assert_int_equal(cell(j, "join all", "ok"), 7);
    assert_int_equal(cell(j, "join all", "errors"), 2);
    assert_int_equal(cell(j, "join all", "panics"), 1);
    assert_int_equal(cell(j, "join all", "cancelled"), 0);
    assert_int_equal(cell(j, "join all", "discarded"), 0);
    /* three taken; the other seven cancelled or discarded */
    assert_int_equal(cell(j, "drop early", "ok") + cell(j, "drop early", "errors") +
                         cell(j, "drop early", "panics"), 3);
    assert_int_equal(cell(j, "drop early", "cancelled") + cell(j, "drop early", "discarded"), 7);
    /* the completion order names every id once */
    const char *order = dj_text(j, "order");
    int seen[10] = { 0 }, id, used, n = 0;
    while (sscanf(order, "%d%n", &id, &used) == 1) {
        assert_true(id >= 0 && id < 10);
        seen[id]++;
        n++;
        order += used;
    }
    assert_int_equal(n, 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(seen[i], 1);
    json_decref(j);
}

/* Other sizes and drop points, no failures or panics: the drop's count
 * adds up with what was joined (the demo checks it against the tasks'
 * own records). */
static void test_drop_points(void **state)
{
    (void)state;
    static const char *const takes[] = { "take=0", "take=1", "take=5", "take=12" };
    for (int round = 0; round < CT_STRESS(2, 1); round++) {
        for (size_t k = 0; k < sizeof takes / sizeof takes[0]; k++) {
            json_t *j = run((const char *const[]){ "tasks=12", "work-ms=10", "fail-every=0",
                                                   "panic-id=-1", takes[k], NULL });
            long long took = cell(j, "drop early", "ok");
            assert_int_equal(took, k == 3 ? 12 : k == 2 ? 5 : (long long)k);
            assert_int_equal(took + cell(j, "drop early", "cancelled") +
                                 cell(j, "drop early", "discarded"), 12);
            assert_int_equal(cell(j, "join all", "ok"), 12);
            json_decref(j);
        }
    }
}

/* One task and no panic: the takeaway tells neither of a panicking task
 * nor of an order that differs from the spawn order. */
static void test_takeaway_no_panic(void **state)
{
    (void)state;
    json_t *j = run((const char *const[]){ "tasks=1", "panic-id=-1", "work-ms=5", "take=0",
                                           NULL });
    assert_int_equal(cell(j, "join all", "panics"), 0);
    const char *t = dj_takeaway(j);
    assert_null(strstr(t, "panicking task"));
    assert_null(strstr(t, "not the order"));
    assert_non_null(strstr(t, "No task panicked"));
    assert_non_null(strstr(t, "also the order they were spawned"));
    json_decref(j);
}

/* Two tasks, one result taken: usually one task is still running when the
 * set is dropped.  The drop sentence gives the cancelled count the
 * outcomes table shows, with its noun and verb in the right number. */
static void test_drop_one_singular(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        json_t *j = run((const char *const[]){ "tasks=2", "work-ms=20", "fail-every=0",
                                               "panic-id=-1", "take=1", NULL });
        long long n = cell(j, "drop early", "cancelled");
        const char *t = dj_takeaway(j);
        char want[64];
        snprintf(want, sizeof want, "dropped: %lld task%s still running %s cancelled", n,
                 n == 1 ? "" : "s", n == 1 ? "was" : "were");
        assert_non_null(strstr(t, want));
        assert_null(strstr(t, " 1 tasks"));
        json_decref(j);
    }
}

/* With counts of 1 every count takes the singular. */
static void test_counts_of_one_singular(void **state)
{
    (void)state;
    struct ct_proc p;
    assert_int_equal(ct_tutor(&p, (const char *const[]){ "run", "joinset", "tasks=1", NULL }), 0);
    assert_int_equal(p.status, 0);
    assert_null(strstr(p.out, " 1 successes"));
    assert_null(strstr(p.out, " 1 errors"));
    assert_null(strstr(p.out, " 1 tasks"));
    assert_null(strstr(p.out, " 1 results"));
    assert_null(strstr(p.out, " 1 different tasks"));
    ct_proc_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_of_one_singular),
        cmocka_unit_test(test_guide),
        cmocka_unit_test(test_drop_points),
        cmocka_unit_test(test_takeaway_no_panic),
        cmocka_unit_test(test_drop_one_singular),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
