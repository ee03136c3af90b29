/* test-poisoning.c - demo `poisoning`: the poison-aware mutex reports the
 * panic and hands out the broken data; the robust mutex reports
 * EOWNERDEAD after the child's death (reported as the signal it was),
 * works again after pthread_mutex_consistent, and is ENOTRECOVERABLE when
 * not repaired. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "util.h"

static json_t *results(json_t *j)
{
    return json_object_get(j, "results");
}

static void test_both_parts(void **state)
{
    (void)state;
    for (int round = 0; round < 5; round++) {
        int code;
        json_t *j = ct_demo_json("poisoning", NULL, &code);
        assert_non_null(j);
        assert_int_equal(code, 0);
        assert_int_equal(dj_assert_checks(j), 8);
        assert_string_equal(dj_text(j, "poison_lock_status"), "POISONED");
        assert_int_equal(dj_int(j, "poison_broken_total"), 70);
        assert_string_equal(dj_text(j, "poison_after_clear"), "OK");
        assert_string_equal(dj_text(j, "poison_panic_outside"), "OK");
        assert_string_equal(dj_text(j, "robust_child_end"), "killed by signal 9 (SIGKILL)");
        assert_string_equal(dj_text(j, "robust_lock"), "EOWNERDEAD");
        assert_int_equal(dj_int(j, "robust_broken_total"), 70);
        assert_string_equal(dj_text(j, "robust_after_consistent"), "0 (locked)");
        assert_string_equal(dj_text(j, "robust_not_repaired"), "ENOTRECOVERABLE");
        json_decref(j);
    }
}

static void test_without_robust(void **state)
{
    (void)state;
    int code;
    json_t *j = ct_demo_json("poisoning", (const char *const[]){ "robust=no", NULL }, &code);
    assert_int_equal(code, 0);
    assert_int_equal(dj_assert_checks(j), 4);
    assert_string_equal(dj_text(j, "poison_lock_status"), "POISONED");
    assert_null(json_object_get(results(j), "robust_lock"));
    json_decref(j);
}

/* The child is an internal command: without its argument it refuses, and
 * with a descriptor it cannot map it says so and exits 1 (no signal). */
static void test_child_usage(void **state)
{
    (void)state;
    struct ct_proc p;
    assert_int_equal(ct_tutor(&p, (const char *const[]){ "__child", "poisoning", NULL }), 0);
    assert_int_equal(p.status, 2);
    assert_string_equal(p.err, "usage: __child poisoning FD\n");
    ct_proc_free(&p);
    assert_int_equal(ct_tutor(&p, (const char *const[]){ "__child", "poisoning", "999", NULL }),
                     0);
    assert_int_equal(p.status, 1);
    ct_proc_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_both_parts),
        cmocka_unit_test(test_without_robust),
        cmocka_unit_test(test_child_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
