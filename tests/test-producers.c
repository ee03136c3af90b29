/* test-producers.c - demo `producers`: every producer's messages arrive
 * exactly once and in the order that producer sent them, in both runs;
 * with the original sender dropped the loop ends by itself; with it kept,
 * the hang is reported with exactly one live sender, and dropping it late
 * closes the channel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stress.h"
#include "util.h"

/* One run's per-producer table: a row for each producer 0..n-1, in that
 * order; each got all `m` messages, every one in sequence; and the arrival
 * positions of the n*m messages hand out each position to one producer
 * only (a producer's first and last arrivals are distinct from everyone
 * else's). */
static void assert_delivery(json_t *j, const char *run, int n, int m)
{
    json_t *rows = dj_table(j, run), *r;
    assert_non_null(rows);
    assert_int_equal(json_array_size(rows), (size_t)n);
    char *taken = calloc((size_t)(n * m) + 1, 1);
    assert_non_null(taken);
    size_t i;
    json_array_foreach(rows, i, r) {
        assert_int_equal(dj_cell_int(r, "producer"), (long long)i);
        assert_int_equal(dj_cell_int(r, "received"), m);
        assert_int_equal(dj_cell_int(r, "in_sequence"), m);
        long long first = dj_cell_int(r, "first"), last = dj_cell_int(r, "last");
        assert_in_range(first, 1, n * m);
        assert_in_range(last, first, n * m);
        assert_int_equal(taken[first]++, 0);
        if (last != first)
            assert_int_equal(taken[last]++, 0);
        /* m messages need at least m positions */
        assert_true(last - first + 1 >= m);
    }
    free(taken);
}

static json_t *run_producers(const char *producers, const char *messages, const char *jitter,
                             const char *scenarios)
{
    int code;
    json_t *j = ct_demo_json("producers",
                             (const char *const[]){ producers, messages, jitter, "wait=20",
                                                    scenarios, NULL },
                             &code);
    assert_non_null(j);
    if (code != 0)
        dj_assert_checks(j);        /* names the failed check */
    assert_int_equal(code, 0);
    return j;
}

static void test_both_runs(void **state)
{
    (void)state;
    static const struct {
        int n, m;
        const char *producers, *messages;
    } cases[] = {
        { 1, 1, "producers=1", "messages=1" },
        { 5, 1, "producers=5", "messages=1" },
        { 5, 7, "producers=5", "messages=7" },
        { 32, 3, "producers=32", "messages=3" },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        json_t *j = run_producers(cases[k].producers, cases[k].messages, "jitter=5",
                                  "scenarios=all");
        assert_int_equal(dj_assert_checks(j), 5);
        assert_delivery(j, "dropped", cases[k].n, cases[k].m);
        assert_delivery(j, "forgotten", cases[k].n, cases[k].m);
        assert_int_equal(dj_int(j, "dropped_received"), cases[k].n * cases[k].m);
        assert_int_equal(dj_int(j, "forgotten_received"), cases[k].n * cases[k].m);
        /* run 1 ended when the channel closed; run 2 only by the hang
         * timeout, with main's original the one sender keeping it open */
        assert_string_equal(dj_text(j, "dropped_end"), "closed");
        assert_string_equal(dj_text(j, "forgotten_end"), "hang");
        assert_int_equal(dj_int(j, "senders_at_hang"), 1);
        json_decref(j);
    }
}

/* Many producers sending flat out into one channel: per-producer order
 * and exactly-once delivery under real contention. */
static void test_order_per_producer_under_contention(void **state)
{
    (void)state;
    char messages[32];
    int m = CT_STRESS(300, 30);
    snprintf(messages, sizeof messages, "messages=%d", m);
    for (int round = 0; round < CT_STRESS(3, 1); round++) {
        json_t *j = run_producers("producers=16", messages, "jitter=0", "scenarios=dropped");
        assert_int_equal(dj_assert_checks(j), 2);
        assert_delivery(j, "dropped", 16, m);
        assert_string_equal(dj_text(j, "dropped_end"), "closed");
        json_decref(j);
    }
}

static void test_scenario_selection(void **state)
{
    (void)state;
    json_t *j = run_producers("producers=5", "messages=1", "jitter=0", "scenarios=dropped");
    assert_int_equal(dj_assert_checks(j), 2);
    assert_non_null(dj_table(j, "dropped"));
    assert_null(dj_table(j, "forgotten"));
    assert_null(json_object_get(json_object_get(j, "results"), "senders_at_hang"));
    json_decref(j);
}

/* With one message each, the takeaway says "not producer order" only when
 * the arrivals were not in producer order. */
static void test_one_message_order_as_arrived(void **state)
{
    (void)state;
    int in_order = 0;
    for (int round = 0; round < 20; round++) {
        int code;
        json_t *j = ct_demo_json("producers",
                                 (const char *const[]){ "producers=2", "messages=1",
                                                        "jitter=0", "scenarios=dropped",
                                                        NULL },
                                 &code);
        assert_non_null(j);
        assert_int_equal(code, 0);
        dj_assert_checks(j);
        bool by_producer = true;
        json_t *r;
        size_t i;
        json_array_foreach(dj_table(j, "dropped"), i, r)
            by_producer = by_producer && dj_cell_int(r, "first") == (long long)i + 1;
        const char *t = dj_takeaway(j);
        if (by_producer) {
            assert_null(strstr(t, "not producer order"));
            assert_non_null(strstr(t, "this time that was producer order"));
            in_order++;
        } else {
            assert_non_null(strstr(t, "not producer order"));
        }
        json_decref(j);
    }
    print_message("arrived in producer order: %d of 20 runs\n", in_order);
}

/* With counts of 1 every count takes the singular. */
static void test_counts_of_one_singular(void **state)
{
    (void)state;
    struct ct_proc p;
    assert_int_equal(ct_tutor(&p, (const char *const[]){ "run", "producers", "producers=1", NULL }), 0);
    assert_int_equal(p.status, 0);
    assert_null(strstr(p.out, "the 1 clones"));
    assert_null(strstr(p.out, " 1 producers"));
    assert_null(strstr(p.out, "all 1 messages"));
    assert_null(strstr(p.out, "all 1 producers"));
    ct_proc_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_of_one_singular),
        cmocka_unit_test(test_both_runs),
        cmocka_unit_test(test_order_per_producer_under_contention),
        cmocka_unit_test(test_scenario_selection),
        cmocka_unit_test(test_one_message_order_as_arrived),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
