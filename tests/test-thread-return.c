/* test-thread-return.c - demo `thread-return`: every buffer handed to a
 * thread comes back summed exactly, the creator's moved-from handle always
 * refuses the read, and the timing table is well formed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "util.h"

/* Run with `n` and `reps`; check everything that must hold exactly. */
static void check_run(long long n, int reps)
{
    char a_n[32], a_reps[32];
    snprintf(a_n, sizeof a_n, "n=%lld", n);
    snprintf(a_reps, sizeof a_reps, "reps=%d", reps);
    int code;
    json_t *j = ct_demo_json("thread-return", (const char *const[]){ a_n, a_reps, NULL }, &code);
    assert_non_null(j);
    if (code != 0)
        fail_msg("thread-return %s %s exited %d", a_n, a_reps, code);
    long long rounds = reps + 1;   /* the warm-up is a real handoff too */
    assert_int_equal(dj_int(j, "n"), n);
    assert_int_equal(dj_int(j, "rounds"), rounds);
    assert_int_equal(dj_int(j, "expected_sum"), n * (n + 1) / 2);
    assert_int_equal(dj_int(j, "sums_exact"), rounds);
    assert_int_equal(dj_int(j, "reads_refused"), rounds);

    json_t *rows = json_object_get(json_object_get(j, "tables"), "timings"), *r;
    assert_int_equal(json_array_size(rows), 5);
    size_t i;
    json_array_foreach(rows, i, r) {
        double lo = dj_cell_num(r, "min_us"), med = dj_cell_num(r, "median_us"),
               hi = dj_cell_num(r, "max_us");
        assert_true(lo <= med && med <= hi);
        /* only the difference row may dip below zero (clock jitter) */
        if (strncmp(json_string_value(json_object_get(r, "what")), "left over", 9) != 0)
            assert_true(lo >= 0);
    }
    /* one line per timed round, and the warm-up's handoff narrated */
    int round_lines = 0, refused_lines = 0;
    json_t *e;
    json_array_foreach(json_object_get(j, "log"), i, e) {
        const char *text = json_string_value(json_object_get(e, "text"));
        round_lines += strncmp(text, "round ", 6) == 0 && strstr(text, "sum exact") != NULL;
        refused_lines += strstr(text, "data=NULL") && strstr(text, ": refused");
    }
    assert_int_equal(round_lines, reps);
    assert_int_equal(refused_lines, 1);
    json_decref(j);
}

static void test_sums_exact_for_many_sizes(void **state)
{
    (void)state;
    static const long long sizes[] = { 1, 2, 3, 7, 10, 999, 1000, 4096, 65535, 65536,
                                       1048576 + 7, 3000001 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        check_run(sizes[i], 3);
}

static void test_many_handoffs(void **state)
{
    (void)state;
    for (int round = 0; round < 30; round++)
        check_run(1000 + round, 5);
}

static void test_largest_buffer(void **state)
{
    (void)state;
    /* n(n+1)/2 for the top of the range needs 64 bits */
    check_run(10000000, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sums_exact_for_many_sizes),
        cmocka_unit_test(test_many_handoffs),
        cmocka_unit_test(test_largest_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
