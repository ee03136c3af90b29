/* test-rwlock.c - demo `rwlock` with every lock choice: the checks hold,
 * the write happens once, every actor holds the lock exactly once and the
 * writer's hold overlaps no other (the marks are made inside the lock),
 * and when the late reader found the writer waiting with readers inside,
 * its place in the order is the lock's documented policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "stress.h"
#include "util.h"

static const struct {
    const char *lock;
    bool readers_first;         /* a new reader passes a waiting writer */
} kinds[] = {
    { "teach-rw", false },
    { "brlock", false },
    { "rwlock", true },         /* glibc's default: PTHREAD_RWLOCK_PREFER_READER_NP */
    { "rwlock-wp", false },
};

static void assert_writer_alone(json_t *j, int actors)
{
    struct dj_span s[16];
    int n = dj_hold_spans(j, s, 16);
    assert_int_equal(n, actors);
    int writers = 0;
    for (int a = 0; a < n; a++) {
        writers += s[a].exclusive;
        for (int b = 0; b < n; b++) {
            if (a != b && s[a].exclusive)
                assert_true(s[a].to <= s[b].from || s[b].to <= s[a].from);
        }
    }
    assert_int_equal(writers, 1);
}

/* The late reader's order against the writer's, when the run set up the
 * situation that decides it; returns whether it did. */
static bool check_policy(json_t *j, bool readers_first)
{
    if (strcmp(dj_text(j, "late_saw_writer"), "yes") != 0 || dj_int(j, "late_saw_readers") == 0)
        return false;
    long long late = dj_cell_int(dj_row(j, "threads", "thread", "late-reader"), "order");
    long long writer = dj_cell_int(dj_row(j, "threads", "thread", "writer"), "order");
    assert_int_equal(late < writer, readers_first);
    assert_string_equal(dj_text(j, "late_before_writer"), readers_first ? "yes" : "no");
    return true;
}

static void test_each_lock(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        int decided = 0, rounds = CT_STRESS(3, 2);
        for (int round = 0; round < rounds; round++) {
            char lock[32];
            snprintf(lock, sizeof lock, "lock=%s", kinds[k].lock);
            int code;
            /* late reader at (10 + 60) / 2 = 35 ms: 25 ms from either edge */
            json_t *j = ct_demo_json("rwlock",
                                     (const char *const[]){ lock, "readers=4", "hold-ms=60",
                                                            "writer-at-ms=10", "write-ms=5",
                                                            NULL },
                                     &code);
            assert_non_null(j);
            assert_int_equal(code, 0);
            assert_int_equal(dj_assert_checks(j), 3);
            assert_string_equal(dj_text(j, "final"), "[1, 2, 3, 4, 5, 6]");
            assert_writer_alone(j, 6);      /* 4 readers, the late reader, the writer */
            decided += check_policy(j, kinds[k].readers_first);
            json_decref(j);
        }
        printf("# %s: the policy was put to the test in %d of %d runs\n", kinds[k].lock,
               decided, rounds);
    }
}

static void test_without_late_reader(void **state)
{
    (void)state;
    int code;
    json_t *j = ct_demo_json("rwlock",
                             (const char *const[]){ "readers=1", "hold-ms=5", "writer-at-ms=0",
                                                    "write-ms=0", "late-reader=no", NULL },
                             &code);
    assert_int_equal(code, 0);
    assert_int_equal(dj_assert_checks(j), 3);
    assert_null(dj_row(j, "threads", "thread", "late-reader"));
    assert_null(json_object_get(json_object_get(j, "results"), "late_saw_writer"));
    assert_writer_alone(j, 2);
    json_decref(j);
}

/* The lane called `name` in the JSON timeline. */
static json_t *lane_of(json_t *j, const char *name)
{
    json_t *lane;
    size_t i;
    json_array_foreach(json_object_get(j, "timeline"), i, lane) {
        if (strcmp(json_string_value(json_object_get(lane, "lane")), name) == 0)
            return lane;
    }
    fail_msg("no timeline lane %s", name);
    return NULL;
}

/* The time of the first `state` event on `lane`. */
static double state_at(json_t *lane, const char *state)
{
    json_t *ev;
    size_t i;
    json_array_foreach(json_object_get(lane, "events"), i, ev) {
        const char *st = json_string_value(json_object_get(ev, "state"));
        if (st && strcmp(st, state) == 0)
            return json_number_value(json_object_get(ev, "t_ms"));
    }
    fail_msg("no %s event", state);
    return -1;
}

/* The table and the timeline tell one story on one clock: each actor's
 * lane starts waiting when the table says it arrived, holds from "got it"
 * and ends at "left".  (Once the table counted from the start gate and the
 * lanes from the run's start, and with 32 readers the lanes showed waits
 * that were the timeline's own mutex, not the rwlock.) */
static void test_one_clock(void **state)
{
    (void)state;
    int code;
    json_t *j = ct_demo_json("rwlock",
                             (const char *const[]){ "readers=32", "hold-ms=1",
                                                    "writer-at-ms=5", "write-ms=0", NULL },
                             &code);
    assert_int_equal(code, 0);
    json_t *row;
    size_t i, rows = 0;
    json_array_foreach(dj_table(j, "threads"), i, row) {
        const char *name = dj_cell_text(row, "thread");
        json_t *lane = lane_of(j, name);
        bool writer = strcmp(name, "writer") == 0;
        double arrived = dj_cell_num(row, "arrived_ms"), got = dj_cell_num(row, "locked_ms");
        assert_float_equal(state_at(lane, "waiting"), arrived, 1e-4);
        assert_float_equal(state_at(lane, writer ? "holding" : "holding shared"), got, 1e-4);
        assert_float_equal(state_at(lane, "idle"), dj_cell_num(row, "left_ms"), 1e-4);
        assert_float_equal(dj_cell_num(row, "waited_ms"), got - arrived, 1e-4);
        rows++;
    }
    assert_int_equal(rows, 34);
    json_decref(j);
}

/* A count of 1 takes the singular, and the intro does not promise five
 * readers when there is one. */
static void test_singular(void **state)
{
    (void)state;
    struct ct_proc p;
    assert_int_equal(ct_tutor(&p, (const char *const[]){ "run", "rwlock", "readers=1",
                                                         "hold-ms=20", "writer-at-ms=0",
                                                         "write-ms=0", "late-reader=no",
                                                         NULL }),
                     0);
    assert_int_equal(p.status, 0);
    assert_null(strstr(p.out, "(s)"));
    assert_null(strstr(p.out, " 1 readers"));
    assert_null(strstr(p.out, "Five readers"));
    assert_non_null(strstr(p.out, "Only 1 reader held the read lock"));
    ct_proc_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_lock),
        cmocka_unit_test(test_without_late_reader),
        cmocka_unit_test(test_one_clock),
        cmocka_unit_test(test_singular),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
