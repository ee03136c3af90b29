/* test-channel-bench.c - demo `channel-bench`: the configurations asked for
 * are the ones run, each is compared with the right baseline, and every
 * run delivered every message exactly once (never a speed assertion). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "util.h"

static void test_configs_and_counts(void **state)
{
    (void)state;
    int code;
    json_t *j = ct_demo_json("channel-bench",
                             (const char *const[]){ "producers=3", "msgs=6000", "reps=3",
                                                    "capacities=0,1,16", NULL },
                             &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    assert_int_equal(dj_assert_checks(j), 3 * 7);  /* one per configuration */
    /* per producer count: chan+mutex unbounded, chan rendezvous (no mutex
     * twin), chan+mutex for 1 and 16 */
    json_t *rows = dj_table(j, "configs"), *r;
    assert_int_equal(json_array_size(rows), 3 * 7);
    size_t i;
    json_array_foreach(rows, i, r) {
        assert_string_equal(json_string_value(json_object_get(r, "verified")), "yes");
        double med = json_number_value(json_object_get(r, "mmsgs_median"));
        double lo = json_number_value(json_object_get(r, "mmsgs_min"));
        double hi = json_number_value(json_object_get(r, "mmsgs_max"));
        assert_true(lo > 0 && lo <= med && med <= hi);
        const char *queue = json_string_value(json_object_get(r, "queue"));
        json_t *ratio = json_object_get(r, "vs_mutex");
        if (strcmp(queue, "chan") == 0 && json_integer_value(json_object_get(r, "capacity")) == 0)
            assert_true(json_is_null(ratio));           /* nothing to compare with */
        else
            assert_true(json_is_number(ratio));
    }
    /* every repetition is there */
    json_array_foreach(dj_table(j, "runs"), i, r) {
        for (int k = 1; k <= 3; k++) {
            char key[8];
            snprintf(key, sizeof key, "r%d", k);
            assert_true(json_number_value(json_object_get(r, key)) > 0);
        }
    }
    assert_int_equal(json_array_size(dj_table(j, "runs")), 3 * 7);
    json_decref(j);
}

static void test_kind_selection(void **state)
{
    (void)state;
    int code;
    json_t *j = ct_demo_json("channel-bench",
                             (const char *const[]){ "producers=1", "msgs=4000", "reps=1",
                                                    "kinds=bounded", "msg-size=256", NULL },
                             &code);
    assert_int_equal(code, 0);
    assert_int_equal(dj_assert_checks(j), 1);
    json_t *rows = dj_table(j, "configs");
    assert_int_equal(json_array_size(rows), 1);
    json_t *r = json_array_get(rows, 0);
    assert_string_equal(json_string_value(json_object_get(r, "config")), "chan bounded(1024) x1");
    assert_true(json_is_null(json_object_get(r, "vs_mutex")));
    json_decref(j);
}

/* The default mode: producers send for a while, however many messages
 * that is; whatever was sent must still arrive exactly once, in order. */
static void test_duration_mode(void **state)
{
    (void)state;
    for (int round = 0; round < 5; round++) {
        int code;
        json_t *j = ct_demo_json("channel-bench",
                                 (const char *const[]){ "producers=2", "duration-ms=3", "reps=2",
                                                        "capacities=1,1024", NULL },
                                 &code);
        assert_int_equal(code, 0);
        assert_int_equal(dj_assert_checks(j), 2 * 6);
        assert_int_equal(dj_int(j, "duration_ms"), 3);
        json_t *r;
        size_t i;
        json_array_foreach(dj_table(j, "configs"), i, r)
            assert_string_equal(dj_cell_text(r, "verified"), "yes");
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_configs_and_counts),
        cmocka_unit_test(test_kind_selection),
        cmocka_unit_test(test_duration_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
