/* test-thread-return.c - demo `thread-return`: every buffer handed to a
 * thread comes back summed exactly (checked against the test's own
 * n(n+1)/2 and the sum the thread logged), and the creator's moved-from
 * handle always refuses the read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "util.h"
#include "wording.h"

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
    long long handoffs = reps + 1;     /* the warm-up is a real handoff too */
    assert_int_equal(dj_int(j, "sums_exact"), handoffs);
    assert_int_equal(dj_int(j, "reads_refused"), handoffs);
    assert_int_equal(json_array_size(dj_table(j, "timings")), 5);

    /* the warm-up narrated: the handle emptied, the thread's own sum */
    int refused_lines = 0, sum_lines = 0, round_lines = 0;
    json_t *e;
    size_t i;
    json_array_foreach(json_object_get(j, "log"), i, e) {
        const char *text = json_string_value(json_object_get(e, "text"));
        const char *thread = json_string_value(json_object_get(e, "thread"));
        long long summed, sum;
        refused_lines += strcmp(text, "my handle: data=NULL; a read through it: refused") == 0;
        const char *colon = strchr(text, ':');     /* "sum of N int(s): SUM" */
        if (strcmp(thread, "summer") == 0 && colon &&
            sscanf(text, "sum of %lld int", &summed) == 1 && sscanf(colon, ": %lld", &sum) == 1) {
            assert_int_equal(summed, n);
            assert_int_equal(sum, n * (n + 1) / 2);
            sum_lines++;
        }
        round_lines += strncmp(text, "round ", 6) == 0 && strstr(text, " exact: ") != NULL;
    }
    assert_int_equal(refused_lines, 1);
    assert_int_equal(sum_lines, 1);
    assert_int_equal(round_lines, reps);
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

/* One timed round: the takeaway says "over 1 round" and, one timing
 * being too few, compares nothing. */
static void test_one_round_singular(void **state)
{
    (void)state;
    int code;
    json_t *j = ct_demo_json("thread-return", (const char *const[]){ "n=1000", "reps=1", NULL },
                             &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    const char *t = dj_takeaway(j);
    assert_non_null(strstr(t, " over 1 round);"));
    assert_null(strstr(t, "1 rounds"));
    assert_non_null(strstr(t, "too few to judge"));
    json_decref(j);
}

/* A count of 1 takes the singular in everything the run prints. */
static void test_one_int_singular(void **state)
{
    (void)state;
    const char *const nouns[] = { "int", "time", "round", NULL };
    ct_assert_singular_after_one("thread-return", (const char *const[]){ "n=1", "reps=1", NULL }, nouns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sums_exact_for_many_sizes),
        cmocka_unit_test(test_many_handoffs),
        cmocka_unit_test(test_largest_buffer),
        cmocka_unit_test(test_one_round_singular),
        cmocka_unit_test(test_one_int_singular),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
