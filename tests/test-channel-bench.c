/* test-channel-bench.c - demo `channel-bench`: the configurations asked for
 * are the ones run, each is compared with the right baseline, every run
 * delivered every message exactly once (never a speed assertion), a
 * message count is shared out exactly (remainder included), a count below
 * the producers is refused, and the cost table counts what it says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "util.h"

/* The label's capacity word: "chan rendezvous x3" -> "rendezvous". */
static bool label_has(json_t *row, const char *word)
{
    char label[64];
    snprintf(label, sizeof label, "%s", dj_cell_text(row, "config"));
    for (char *tok = strtok(label, " "); tok; tok = strtok(NULL, " "))
        if (strcmp(tok, word) == 0)
            return true;
    return false;
}

static void test_configs_and_counts(void **state)
{
    (void)state;
    int code;
    /* 6001 messages: 3 producers get 2001, 2000, 2000; 2 get 3001, 3000 */
    json_t *j = ct_demo_json("channel-bench",
                             (const char *const[]){ "producers=3", "msgs=6001", "reps=3",
                                                    "capacities=0,1,16", NULL },
                             &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    assert_int_equal(dj_assert_checks(j), 3 * 7);  /* one per configuration */
    dj_assert_handoff(j);
    /* every message of every run arrived: 6001 per timed run, and the
     * warm-up's quarter (1501), over all 4 runs */
    json_t *c;
    size_t i;
    json_array_foreach(json_object_get(j, "checks"), i, c) {
        char want[64];
        snprintf(want, sizeof want, ": %d of %d msgs,", 3 * 6001 + 1501, 3 * 6001 + 1501);
        const char *what = json_string_value(json_object_get(c, "what"));
        assert_non_null(strstr(what, want));
        /* the runs counted are the ones the total covers, warm-up named */
        assert_non_null(strstr(what, "(warm-up + 3 timed runs)"));
    }
    /* per producer count: chan+mutex unbounded, chan rendezvous (no mutex
     * twin), chan+mutex for 1 and 16 */
    json_t *rows = dj_table(j, "configs"), *r;
    assert_int_equal(json_array_size(rows), 3 * 7);
    json_array_foreach(rows, i, r) {
        assert_string_equal(dj_cell_text(r, "verified"), "yes");
        double med = dj_cell_num(r, "mmsgs_median");
        assert_true(dj_cell_num(r, "mmsgs_min") > 0);
        assert_true(dj_cell_num(r, "mmsgs_min") <= med && med <= dj_cell_num(r, "mmsgs_max"));
        json_t *ratio = json_object_get(r, "vs_mutex");
        if (label_has(r, "chan") && label_has(r, "rendezvous"))
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
    /* the cost table: one row per channel, blocks only for the unbounded */
    json_t *costs = dj_table(j, "costs");
    assert_int_equal(json_array_size(costs), 3 * 4);
    json_array_foreach(costs, i, r) {
        assert_true(label_has(r, "chan"));
        json_t *blocks = json_object_get(r, "blocks_per_k");
        if (label_has(r, "unbounded")) {
            /* each run opens a new channel with one block, and 6001
             * messages fill at most 94 more of 64 (fewer when the
             * consumer's recycled blocks are reused) */
            double per_k = json_number_value(blocks);
            assert_true(per_k >= 1000.0 / 6001 && per_k <= 1000.0 * 95 / 6001);
        } else {
            assert_true(json_is_null(blocks));
        }
    }
    json_decref(j);
}

/* A count below the producers would give some producer nothing to send,
 * which would mean "send for the duration": refused as a usage error
 * (exit 2) before anything runs, with the range. */
static void test_msgs_below_producers(void **state)
{
    (void)state;
    struct ct_proc p;
    assert_int_equal(ct_tutor(&p, (const char *const[]){ "run", "channel-bench", "producers=4",
                                                         "msgs=3", "reps=1", NULL }),
                     0);
    assert_int_equal(p.status, 2);
    assert_non_null(strstr(p.err, "run channel-bench: msgs=3 is fewer than producers=4"));
    assert_non_null(strstr(p.err, "msgs=4..100000000"));
    assert_string_equal(p.out, "");
    ct_proc_free(&p);
    /* exactly one each is fine */
    int code;
    json_t *j = ct_demo_json("channel-bench",
                             (const char *const[]){ "producers=4", "msgs=4", "reps=1",
                                                    "kinds=unbounded", NULL },
                             &code);
    assert_int_equal(code, 0);
    assert_int_equal(dj_assert_checks(j), 4);
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
    /* one timed run: singular */
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(
                               json_object_get(j, "checks"), 0), "what")),
                           "(warm-up + 1 timed run)"));
    json_t *rows = dj_table(j, "configs");
    assert_int_equal(json_array_size(rows), 1);
    json_t *r = json_array_get(rows, 0);
    assert_string_equal(json_string_value(json_object_get(r, "config")), "chan bounded(1024) x1");
    assert_true(json_is_null(json_object_get(r, "vs_mutex")));
    assert_true(dj_cell_num(r, "cpu_ns_per_msg") > 0);
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
        cmocka_unit_test(test_msgs_below_producers),
        cmocka_unit_test(test_duration_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
