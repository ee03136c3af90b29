/* test-race.c - demo `race`: the fixes never lose an update, the racy
 * version never invents one, and the rows count what was done. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "util.h"

static json_t *row(json_t *j, const char *variant)
{
    return dj_row(j, "variants", "variant", variant);
}

static long long field(json_t *r, const char *key)
{
    return (long long)dj_cell_num(r, key);
}

static void test_counts_exact(void **state)
{
    (void)state;
    for (int round = 0; round < 10; round++) {
        int code;
        json_t *j = ct_demo_json("race", (const char *const[]){ "threads=4", "iters=50000", NULL },
                                 &code);
        assert_non_null(j);
        assert_int_equal(code, 0);
        json_t *racy = row(j, "racy"), *atomic = row(j, "atomic"), *mutex = row(j, "mutex");
        assert_non_null(racy);
        assert_non_null(atomic);
        assert_non_null(mutex);
        for (json_t *r = racy; r; r = r == racy ? atomic : r == atomic ? mutex : NULL) {
            assert_int_equal(field(r, "expected"), 200000);
            assert_int_equal(field(r, "expected") - field(r, "counted"), field(r, "lost"));
        }
        assert_int_equal(field(atomic, "counted"), 200000);
        assert_int_equal(field(mutex, "counted"), 200000);
        assert_true(field(racy, "counted") <= 200000);
        assert_true(field(racy, "counted") >= 1);
        assert_int_equal(dj_int(j, "racy_lost"), field(racy, "lost"));
        json_decref(j);
    }
}

static void test_variant_selection(void **state)
{
    (void)state;
    int code;
    json_t *j = ct_demo_json("race",
                             (const char *const[]){ "threads=1", "iters=1000", "variants=mutex", NULL },
                             &code);
    assert_int_equal(code, 0);
    assert_int_equal(json_array_size(dj_table(j, "variants")), 1);
    assert_null(row(j, "racy"));
    /* one thread cannot race with itself */
    json_decref(j);
    j = ct_demo_json("race", (const char *const[]){ "threads=1", "iters=100000", NULL }, &code);
    assert_int_equal(field(row(j, "racy"), "lost"), 0);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_exact),
        cmocka_unit_test(test_variant_selection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
