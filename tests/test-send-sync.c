/* test-send-sync.c - demo `send-sync`: every part's counts are exact and
 * self-consistent over many runs; the fixed versions never show a
 * violation; nested strtok finds exactly the wrong fields and strtok_r
 * exactly the right ones; one thread never races with itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "util.h"

#define ROUNDS 8

static const char *const strtok_wrong = "host=db1 port=5432";
static const char *const strtok_right =
    "host=db1 port=5432 host=db2 port=5433 host=db3 port=5434";

/* The row of `t` whose column `col` is `value` (and, if threads > 0, whose
 * threads column is `threads`), or NULL. */
static json_t *row(json_t *t, const char *col, const char *value, long long threads)
{
    size_t i;
    json_t *r;
    json_array_foreach(t, i, r) {
        if (strcmp(dj_cell_text(r, col), value) == 0 &&
            (threads <= 0 || dj_cell_int(r, "threads") == threads))
            return r;
    }
    return NULL;
}

static json_t *run_demo(const char *const *args)
{
    int code;
    json_t *j = ct_demo_json("send-sync", args, &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    dj_assert_checks(j);
    return j;
}

/* The borrow rows: totals add up, and nothing exceeds what could happen. */
static void assert_borrow_rows(json_t *j, int threads, long long per_thread)
{
    json_t *t = dj_table(j, "borrows");
    assert_int_equal(json_array_size(t), threads > 1 ? 4 : 2);
    size_t i;
    json_t *r;
    json_array_foreach(t, i, r) {
        long long n = dj_cell_int(r, "threads");
        long long borrows = dj_cell_int(r, "borrows"), overlaps = dj_cell_int(r, "overlaps");
        long long value = dj_cell_int(r, "value"), lost = dj_cell_int(r, "lost");
        long long holders = dj_cell_int(r, "max_holders");
        bool exact = strcmp(dj_cell_text(r, "flag"), "cas") == 0 || n == 1;
        assert_true(n == 1 || n == threads);
        assert_int_equal(borrows, n * per_thread);
        assert_int_equal(value + lost, borrows);
        assert_true(value >= 1 && value <= borrows);
        assert_true(overlaps >= 0 && overlaps <= borrows);
        assert_true(holders >= 1 && holders <= n);
        /* a second holder was seen exactly when an overlap was counted */
        assert_int_equal(holders > 1, overlaps > 0);
        /* a lost update needs two holders at once */
        if (lost > 0)
            assert_true(overlaps > 0);
        if (exact) {
            assert_int_equal(overlaps, 0);
            assert_int_equal(lost, 0);
            assert_int_equal(holders, 1);
        }
        if (n == 1)
            assert_int_equal(dj_cell_int(r, "refused"), 0);
    }
    assert_non_null(row(t, "flag", "plain", 1));
    assert_non_null(row(t, "flag", "cas", 1));
}

static void assert_stamp_rows(json_t *j, int threads, long long per_thread)
{
    json_t *t = dj_table(j, "stamps");
    assert_int_equal(json_array_size(t), 3);
    static const char *const names[] = { "static", "caller", "thread-local" };
    for (int k = 0; k < 3; k++) {
        json_t *r = row(t, "storage", names[k], 0);
        assert_non_null(r);
        long long calls = dj_cell_int(r, "calls"), bad = dj_cell_int(r, "corrupted");
        assert_int_equal(calls, threads * per_thread);
        assert_true(bad >= 0 && bad <= calls);
        if (k > 0 || threads == 1)
            assert_int_equal(bad, 0);
    }
}

static void test_all_parts_exact(void **state)
{
    (void)state;
    const char *const args[] = { "threads=4", "size-kb=32", "reads=10", "borrows=20000",
                                 "slow-borrows=1", "hold-ms=2", "calls=2000", NULL };
    char checksum[32] = "";
    for (int round = 0; round < ROUNDS; round++) {
        json_t *j = run_demo(args);

        /* (a) every parcel moved, freed once by its receiver, no handle left */
        assert_int_equal(dj_int(j, "send_parcels"), 4);
        assert_int_equal(dj_int(j, "send_freed"), 4);
        assert_int_equal(dj_int(j, "send_handles_left"), 0);

        /* (b) every read correct, every reader agrees, the same bytes each run */
        assert_int_equal(dj_int(j, "sync_readers"), 4);
        assert_int_equal(dj_int(j, "sync_passes"), 40);
        assert_int_equal(dj_int(j, "sync_passes_ok"), 40);
        assert_int_equal(dj_int(j, "sync_readers_agree"), 4);
        long long max = dj_int(j, "sync_max_readers");
        assert_true(max >= 1 && max <= 4);
        if (round == 0)
            snprintf(checksum, sizeof checksum, "%s", dj_text(j, "sync_checksum"));
        assert_string_equal(dj_text(j, "sync_checksum"), checksum);

        /* (c) */
        assert_borrow_rows(j, 4, 20000);
        assert_int_equal(dj_int(j, "slow_cas_overlaps"), 0);
        long long slow_plain = dj_int(j, "slow_plain_overlaps");
        assert_true(slow_plain >= 0 && slow_plain <= 3);
        json_t *cost = dj_table(j, "flag_cost");
        assert_int_equal(json_array_size(cost), 2);
        for (size_t i = 0; i < 2; i++) {
            json_t *r = json_array_get(cost, i);
            assert_true(dj_cell_num(r, "ns_min") > 0);
            assert_true(dj_cell_num(r, "ns_min") <= dj_cell_num(r, "ns_median"));
            assert_true(dj_cell_num(r, "ns_median") <= dj_cell_num(r, "ns_max"));
        }

        /* (d) */
        assert_int_equal(dj_int(j, "strtok_records"), 1);
        assert_string_equal(dj_text(j, "strtok_fields"), strtok_wrong);
        assert_int_equal(dj_int(j, "strtok_r_records"), 3);
        assert_string_equal(dj_text(j, "strtok_r_fields"), strtok_right);
        assert_stamp_rows(j, 4, 2000);
        json_decref(j);
    }
}

/* One thread cannot race with itself: every racy count is exactly zero. */
static void test_one_thread_never_races(void **state)
{
    (void)state;
    const char *const args[] = { "threads=1", "size-kb=8", "reads=5", "borrows=50000",
                                 "slow-borrows=2", "hold-ms=1", "calls=5000", NULL };
    for (int round = 0; round < 3; round++) {
        json_t *j = run_demo(args);
        assert_int_equal(dj_int(j, "send_freed"), 1);
        assert_int_equal(dj_int(j, "sync_max_readers"), 1);
        assert_int_equal(dj_int(j, "slow_plain_overlaps"), 0);
        assert_int_equal(dj_int(j, "slow_cas_overlaps"), 0);
        assert_borrow_rows(j, 1, 50000);
        assert_stamp_rows(j, 1, 5000);
        json_decref(j);
    }
}

/* The strtok results do not depend on threads or timing: exact every time. */
static void test_strtok_exact(void **state)
{
    (void)state;
    const char *const args[] = { "parts=reentrant", "threads=2", "calls=1", NULL };
    for (int round = 0; round < 20; round++) {
        json_t *j = run_demo(args);
        assert_int_equal(dj_int(j, "strtok_records"), 1);
        assert_string_equal(dj_text(j, "strtok_fields"), strtok_wrong);
        assert_int_equal(dj_int(j, "strtok_r_records"), 3);
        assert_string_equal(dj_text(j, "strtok_r_fields"), strtok_right);
        json_decref(j);
    }
}

static void test_parts_selection(void **state)
{
    (void)state;
    json_t *j = run_demo((const char *const[]){ "parts=send,sync", "threads=2", "size-kb=4",
                                                "reads=2", NULL });
    assert_int_equal(dj_int(j, "send_parcels"), 2);
    assert_int_equal(dj_int(j, "sync_passes_ok"), 4);
    assert_null(dj_table(j, "borrows"));
    assert_null(dj_table(j, "stamps"));
    assert_null(json_object_get(json_object_get(j, "results"), "strtok_records"));
    json_decref(j);

    j = run_demo((const char *const[]){ "parts=not-sync", "threads=2", "borrows=1000",
                                        "slow-borrows=0", NULL });
    assert_null(json_object_get(json_object_get(j, "results"), "send_parcels"));
    assert_null(json_object_get(json_object_get(j, "results"), "slow_cas_overlaps"));
    assert_null(dj_table(j, "stamps"));
    assert_borrow_rows(j, 2, 1000);
    /* no slow-motion round, so nothing on the timeline */
    assert_int_equal(json_array_size(json_object_get(j, "timeline")), 0);
    json_decref(j);
}

/* The slow-motion round draws one lane per thread for each flag. */
static void test_slow_motion_timeline(void **state)
{
    (void)state;
    json_t *j = run_demo((const char *const[]){ "parts=not-sync", "threads=5", "borrows=100",
                                                "slow-borrows=2", "hold-ms=2", NULL });
    json_t *lanes = json_object_get(j, "timeline"), *l;
    size_t i;
    int plain = 0, cas = 0;
    json_array_foreach(lanes, i, l) {
        const char *name = json_string_value(json_object_get(l, "lane"));
        plain += strncmp(name, "plain-", 6) == 0;
        cas += strncmp(name, "cas-", 4) == 0;
        assert_true(json_array_size(json_object_get(l, "events")) > 0);
    }
    assert_int_equal(plain, 3);     /* the slow round uses at most 3 threads */
    assert_int_equal(cas, 3);
    assert_int_equal(json_array_size(lanes), 6);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_parts_exact),
        cmocka_unit_test(test_one_thread_never_races),
        cmocka_unit_test(test_strtok_exact),
        cmocka_unit_test(test_parts_selection),
        cmocka_unit_test(test_slow_motion_timeline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
