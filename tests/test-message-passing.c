/* test-message-passing.c - demo `message-passing`: both ways deliver
 * every value exactly once and each producer's values in order, at
 * several sizes and channel capacities (a rendezvous and an unbounded
 * channel included), with one check per claim. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "stress.h"
#include "util.h"

static void run_case(const char *const *args, long long values)
{
    int code;
    json_t *j = ct_demo_json("message-passing", args, &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    assert_int_equal(dj_assert_checks(j), 5);
    assert_int_equal(dj_int(j, "values"), values);
    assert_int_equal(json_array_size(dj_table(j, "results")), 3);
    /* a lone producer never finds the lock taken */
    if (values == 3000)
        assert_int_equal(dj_cell_int(dj_row(j, "results", "way", "shared-vector"),
                                     "lock_waits"), 0);
    json_decref(j);
}

static void test_sizes_and_capacities(void **state)
{
    (void)state;
    run_case((const char *const[]){ "producers=1", "values=3000", "reps=2", NULL }, 3000);
    for (int round = 0; round < CT_STRESS(3, 1); round++)
        run_case((const char *const[]){ "producers=4", "values=5000", "capacity=1", "reps=2",
                                        NULL }, 20000);
    run_case((const char *const[]){ "producers=6", "values=1500", "capacity=-1", "reps=1",
                                    NULL }, 9000);
}

static void test_rendezvous(void **state)
{
    (void)state;
    run_case((const char *const[]){ "producers=3", "values=400", "capacity=0", "reps=1",
                                    NULL }, 1200);
}

/* One repetition shows no spread: the takeaway says so, and calls a way
 * faster or slower only when the medians are 1.5x apart.  With batch=1
 * it does not claim batching saved anything. */
static void test_takeaway_one_rep(void **state)
{
    (void)state;
    int code;
    json_t *j = ct_demo_json("message-passing", (const char *const[]){ "producers=2",
                             "values=500", "batch=1", "reps=1", NULL }, &code);
    assert_non_null(j);
    dj_assert_checks(j);
    assert_int_equal(code, 0);
    const char *t = dj_takeaway(j);
    assert_non_null(strstr(t, "With reps=1"));
    assert_non_null(strstr(t, "sent one value per message, so it saved no hand-overs"));
    assert_null(strstr(t, "once per 1 values"));
    double sh = dj_cell_num(dj_row(j, "results", "way", "shared-vector"), "median_ms");
    double ch = dj_cell_num(dj_row(j, "results", "way", "channel"), "median_ms");
    double hi = sh > ch ? sh : ch, lo = sh < ch ? sh : ch;
    /* medians rounded to 0.01 ms in the table */
    if (lo - 0.005 >= 0.1 && hi + 0.005 < 1.5 * (lo - 0.005))
        assert_non_null(strstr(t, "(not clearly faster or slower than the shared vector)"));
    json_decref(j);
}

/* One value per producer with batch=256: no message held 256 values, so
 * the takeaway does not say so; times too short to read (the table shows
 * 0.0x ms) are not ranked. */
static void test_batch_above_values(void **state)
{
    (void)state;
    int code;
    json_t *j = ct_demo_json("message-passing", (const char *const[]){ "producers=1",
                             "values=1", "capacity=-1", "batch=256", "reps=1", NULL }, &code);
    assert_non_null(j);
    dj_assert_checks(j);
    assert_int_equal(code, 0);
    const char *t = dj_takeaway(j);
    assert_null(strstr(t, "256 values per message"));
    assert_null(strstr(t, "once per 256 values"));
    assert_non_null(strstr(t, "(batch=256, but each producer sent only 1 value)"));
    assert_int_equal(dj_int(j, "batch"), 1);
    double sh = dj_cell_num(dj_row(j, "results", "way", "shared-vector"), "median_ms");
    if (sh + 0.005 < 0.1) {
        assert_non_null(strstr(t, "too brief to rank against the shared vector"));
        assert_null(strstr(t, "x slower than the shared vector"));
        assert_null(strstr(t, "x faster than the shared vector"));
    }
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_and_capacities),
        cmocka_unit_test(test_rendezvous),
        cmocka_unit_test(test_takeaway_one_rep),
        cmocka_unit_test(test_batch_above_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
