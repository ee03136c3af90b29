/* test-cancel.c - demo `cancel`: far outside or inside its timeout an
 * operation is dropped or finishes; a token cancelled early stops the
 * parent at a check and the racing child mid-step, one cancelled late
 * stops nobody; a select's loser is dropped; the takeaway tells which of
 * these happened; every cleanup runs once and everything taken is given
 * back.  Nothing is left behind, also after Ctrl-C. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "resources.h"
#include "util.h"

static json_t *run(const char *const *args)
{
    struct resources res;
    res_begin(&res);
    int code;
    json_t *j = ct_demo_json("cancel", args, &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    assert_true(dj_assert_checks(j) >= 8);
    assert_int_equal(dj_int(j, "taken"), 5);
    assert_int_equal(dj_int(j, "given_back"), 5);
    json_t *rows = dj_table(j, "operations"), *row;
    size_t i;
    assert_int_equal(json_array_size(rows), 5);
    json_array_foreach(rows, i, row) {
        assert_int_equal(dj_cell_int(row, "cleanups"), 1);
        long long done = dj_cell_int(row, "steps_done"), in = dj_cell_int(row, "stopped_in");
        if (strcmp(dj_cell_text(row, "how"), "finished") == 0)
            assert_int_equal(done, in);
        else
            assert_int_equal(done, in - 1);     /* stopped in the step after the last done */
    }
    assert_true(res_end(&res));
    return j;
}

static const char *how(json_t *j, const char *op)
{
    json_t *row = dj_row(j, "operations", "op", op);
    assert_non_null(row);
    return dj_cell_text(row, "how");
}

static void test_stopped_early(void **state)
{
    (void)state;
    json_t *j = run((const char *const[]){ "steps=4", "step-ms=1000", "timeout-ms=20",
                                           "token-step-ms=150", "cancel-ms=10",
                                           "deadline-ms=15", NULL });
    assert_string_equal(dj_text(j, "timeout_how"), "dropped");
    assert_string_equal(dj_text(j, "token_how"), "token, at a check");
    assert_string_equal(how(j, "child-check"), "token, at a check");
    assert_string_equal(how(j, "child-race"), "token, mid-step");
    assert_string_equal(dj_text(j, "race_how"), "dropped");
    const char *t = json_string_value(json_object_get(j, "takeaway"));
    assert_non_null(strstr(t, "1. The timeout dropped the operation in step 1 of 4"));
    assert_non_null(strstr(t, "2. A token is cooperative"));
    assert_non_null(strstr(t, "the operation was dropped in step 1 of 4"));
    json_decref(j);
}

static void test_nothing_stopped(void **state)
{
    (void)state;
    json_t *j = run((const char *const[]){ "steps=3", "step-ms=1", "timeout-ms=5000",
                                           "token-step-ms=1", "cancel-ms=3000",
                                           "deadline-ms=4000", NULL });
    assert_string_equal(dj_text(j, "timeout_how"), "finished");
    assert_string_equal(dj_text(j, "token_how"), "finished");
    assert_string_equal(how(j, "child-check"), "finished");
    assert_string_equal(how(j, "child-race"), "finished");
    assert_string_equal(dj_text(j, "race_how"), "finished");
    /* the takeaway tells what happened, not what usually happens */
    const char *t = json_string_value(json_object_get(j, "takeaway"));
    assert_null(strstr(t, "dropped the operation"));
    assert_null(strstr(t, "was dropped in step"));
    assert_null(strstr(t, "noticed the cancel"));
    assert_non_null(strstr(t, "1. The operation finished all 3 steps inside the 5000 ms"));
    assert_non_null(strstr(t, "2. All 3 operations finished every step before the cancel"));
    assert_non_null(strstr(t, "3. The operation finished all 3 steps before the 4000 ms"));
    json_decref(j);
}

static void test_sigint(void **state)
{
    (void)state;
    static const double at_ms[] = { 50, 320, 540, 650 };
    for (size_t k = 0; k < sizeof at_ms / sizeof at_ms[0]; k++)
        res_sigint("cancel", NULL, at_ms[k]);
}

int main(int argc, char **argv)
{
    int child = res_child_main(argc, argv);
    if (child >= 0)
        return child;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stopped_early),
        cmocka_unit_test(test_nothing_stopped),
        cmocka_unit_test(test_sigint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
