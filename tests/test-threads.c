/* test-threads.c - demo `threads`: the joined thread always prints all of
 * its lines, in order, before pthread_join returns; the child whose main
 * does not join loses the end of its thread's count, and its figures agree
 * with the lines it printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "util.h"
#include "wording.h"

static int count_char(const char *s, char c)
{
    int n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

/* The lines `thread` logged that read "line I of N": they must be exactly
 * 1..n, in that order. */
static void assert_numbered_lines(json_t *j, const char *thread, int n)
{
    json_t *log = json_object_get(j, "log"), *e;
    size_t i;
    int next = 1;
    json_array_foreach(log, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "thread")), thread) != 0)
            continue;
        int k, of;
        if (sscanf(json_string_value(json_object_get(e, "text")), "line %d of %d", &k, &of) != 2)
            continue;
        assert_int_equal(of, n);
        assert_int_equal(k, next);
        next++;
    }
    assert_int_equal(next - 1, n);
}

/* Main says "joined" once, after every line the spawned thread logged:
 * that is what pthread_join waits for. */
static void assert_joined_after_spawned(json_t *j)
{
    json_t *log = json_object_get(j, "log"), *e;
    size_t i;
    int joined = 0, spawned_after = 0;
    json_array_foreach(log, i, e) {
        const char *thread = json_string_value(json_object_get(e, "thread"));
        const char *text = json_string_value(json_object_get(e, "text"));
        if (strcmp(thread, "main") == 0 && strncmp(text, "joined after ", 13) == 0)
            joined++;
        else if (strcmp(thread, "spawned") == 0 && joined)
            spawned_after++;
    }
    assert_int_equal(joined, 1);
    assert_int_equal(spawned_after, 0);
}

static json_t *run_threads(const char *const *args)
{
    int code;
    json_t *j = ct_demo_json("threads", args, &code);
    assert_non_null(j);
    if (code != 0) {
        /* say which check failed, and anything unexpected the child wrote */
        json_t *e;
        size_t i;
        json_array_foreach(json_object_get(j, "checks"), i, e) {
            if (!json_is_true(json_object_get(e, "ok")))
                fprintf(stderr, "failed check: %s\n",
                        json_string_value(json_object_get(e, "what")));
        }
        json_array_foreach(json_object_get(j, "log"), i, e) {
            const char *text = json_string_value(json_object_get(e, "text"));
            if (strstr(text, "unexpected") || strstr(text, "killing"))
                fprintf(stderr, "log: %s\n", text);
        }
        fail_msg("threads exited %d", code);
    }
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    return j;
}

static void test_join_prints_everything_in_order(void **state)
{
    (void)state;
    static const struct { const char *spawned, *main, *sleep; int ns, nm; } cases[] = {
        { "spawned=9", "main=4", "sleep-ms=1", 9, 4 },
        { "spawned=3", "main=7", "sleep-ms=0", 3, 7 },
        { "spawned=1", "main=1", "sleep-ms=0.5", 1, 1 },
        { "spawned=40", "main=2", "sleep-ms=0", 40, 2 },
    };
    for (int round = 0; round < 10; round++) {
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            json_t *j = run_threads((const char *const[]){ cases[c].spawned, cases[c].main,
                                                           cases[c].sleep, "parts=join", NULL });
            int ns = cases[c].ns, nm = cases[c].nm;
            assert_int_equal(dj_int(j, "spawned_lines"), ns);
            assert_int_equal(dj_int(j, "main_lines"), nm);
            assert_int_equal(dj_int(j, "join_value"), ns);
            const char *order = dj_text(j, "order");
            /* in groups of ten, for the screen */
            assert_int_equal(strlen(order) - (size_t)count_char(order, ' '), (size_t)(ns + nm));
            assert_int_equal(count_char(order, 'S'), ns);
            assert_int_equal(count_char(order, 'M'), nm);
            assert_numbered_lines(j, "spawned", ns);
            assert_numbered_lines(j, "main", nm);
            assert_joined_after_spawned(j);
            /* the joined run never starts a child */
            assert_null(json_object_get(json_object_get(j, "results"), "child_order"));
            json_decref(j);
        }
    }
}

/* The child's figures must match its order string, whatever the timing. */
static void assert_child_consistent(json_t *j, int ns, int nm)
{
    const char *order = dj_text(j, "child_order");
    int s = (int)dj_int(j, "child_spawned_lines");
    assert_int_equal(dj_int(j, "child_status"), 0);
    assert_int_equal(dj_int(j, "child_unexpected_lines"), 0);
    assert_int_equal(dj_int(j, "child_main_lines"), nm);
    assert_int_equal(count_char(order, 'M'), nm);
    assert_int_equal(count_char(order, 'S'), s);
    assert_true(s <= ns);
    /* main returned once, after its last line; the exit handler came after */
    const char *r = strchr(order, 'R');
    assert_non_null(r);
    assert_int_equal(count_char(order, 'R'), 1);
    assert_null(strchr(r, 'M'));
    const char *x = strchr(order, 'X');
    assert_non_null(x);
    assert_true(x > r);
    /* the thread says "done" only after its last line */
    const char *d = strchr(order, 'D');
    if (d) {
        assert_int_equal(s, ns);
        assert_null(strchr(d, 'S'));
    }
    assert_int_equal(dj_int(j, "child_spawned_after_return"), count_char(r, 'S'));
}

static void test_no_join_loses_lines(void **state)
{
    (void)state;
    /* main returns after one 100 ms line while the thread still has 800 ms
     * of counting ahead: far more than even a sanitizer's exit takes (at
     * 10 ms sleeps, ASan's leak check at exit let all 9 lines out, once) */
    for (int round = 0; round < 12; round++) {
        json_t *j = run_threads((const char *const[]){ "spawned=9", "main=1", "sleep-ms=100",
                                                       "parts=no-join", NULL });
        assert_child_consistent(j, 9, 1);
        assert_true(dj_int(j, "child_spawned_lines") < 9);
        assert_null(strchr(dj_text(j, "child_order"), 'D'));
        assert_null(json_object_get(json_object_get(j, "results"), "order"));
        json_decref(j);
    }
}

static void test_no_join_consistent_any_timing(void **state)
{
    (void)state;
    static const struct { const char *spawned, *main, *sleep; int ns, nm; } cases[] = {
        { "spawned=9", "main=4", "sleep-ms=1", 9, 4 },
        { "spawned=2", "main=6", "sleep-ms=1", 2, 6 },
        { "spawned=5", "main=5", "sleep-ms=0", 5, 5 },
        { "spawned=100", "main=1", "sleep-ms=0", 100, 1 },
    };
    for (int round = 0; round < 5; round++) {
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            json_t *j = run_threads((const char *const[]){ cases[c].spawned, cases[c].main,
                                                           cases[c].sleep, NULL });
            assert_child_consistent(j, cases[c].ns, cases[c].nm);
            assert_int_equal(dj_int(j, "spawned_lines"), cases[c].ns);
            json_decref(j);
        }
    }
}

/* When a thread with more lines than main still finishes first, the
 * takeaway must not advise giving it more lines than main. */
static void test_no_join_more_lines_finished_first(void **state)
{
    (void)state;
    int seen = 0;
    for (int round = 0; round < 10; round++) {
        json_t *j = run_threads((const char *const[]){ "spawned=3", "main=2", "sleep-ms=0",
                                                       "parts=no-join", NULL });
        assert_child_consistent(j, 3, 2);
        const char *t = dj_takeaway(j);
        if (strstr(t, "finished all 3 lines before its main returned")) {
            assert_null(strstr(t, "Give the thread more lines than main"));
            assert_non_null(strstr(t, "had more lines than main and still finished first"));
            seen++;
        }
        json_decref(j);
    }
    print_message("thread finished before main returned: %d of 10 runs\n", seen);
}

/* With one line each, whichever way the run goes, the takeaway counts in
 * the singular: no "all 1 lines", "1 lines" or "1 times"; and the number
 * of switches it gives is the one in the results. */
static void test_one_line_each_singular(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        json_t *j = run_threads((const char *const[]){ "spawned=1", "main=1", NULL });
        const char *t = dj_takeaway(j);
        assert_null(strstr(t, "all 1 "));
        assert_null(strstr(t, " 1 lines"));
        assert_null(strstr(t, " 1 times"));
        long long sw = dj_int(j, "switches");
        char want[64];
        snprintf(want, sizeof want, "between the two threads %lld time%s,", sw,
                 sw == 1 ? "" : "s");
        assert_non_null(strstr(t, want));
        json_decref(j);
    }
}

static void test_child_rejects_bad_arguments(void **state)
{
    (void)state;
    static const char *const bad[][4] = {
        { "9", "4", NULL, NULL },
        { "0", "4", "1000", NULL },
        { "9", "x", "1000", NULL },
        { "9", "4", "-1", NULL },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *argv[8] = { ct_test_binary(), "__child", "threads" };
        for (int k = 0; k < 3 && bad[i][k]; k++)
            argv[3 + k] = bad[i][k];
        struct ct_proc p;
        assert_int_equal(ct_proc_run(&p, argv, NULL, NULL, 30, 0), 0);
        assert_int_equal(p.status, 2);
        assert_non_null(strstr(p.err, "usage: __child threads"));
        ct_proc_free(&p);
    }
}

/* The longest orders (100 lines each side) still fit 80 columns: they are
 * written in groups of ten, which wrap. */
static void test_long_order_fits(void **state)
{
    (void)state;
    struct ct_proc p;
    assert_int_equal(ct_tutor(&p, (const char *const[]){ "run", "threads", "spawned=100",
                                                         "main=100", "sleep-ms=0", NULL }),
                     0);
    assert_int_equal(p.status, 0);
    int lines = 0;
    for (const char *l = p.out; *l;) {
        size_t n = strcspn(l, "\n");
        if (n > 80)
            fail_msg("a line of %zu columns: %.*s", n, (int)n, l);
        l += n + (l[n] == '\n');
        lines++;
    }
    assert_true(lines > 10);
    ct_proc_free(&p);
}

/* A count of 1 takes the singular in everything the run prints. */
static void test_one_line_singular(void **state)
{
    (void)state;
    const char *const nouns[] = { "line", "time", NULL };
    ct_assert_singular_after_one("threads", (const char *const[]){ "spawned=1", "main=1", NULL }, nouns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_prints_everything_in_order),
        cmocka_unit_test(test_long_order_fits),
        cmocka_unit_test(test_no_join_loses_lines),
        cmocka_unit_test(test_no_join_consistent_any_timing),
        cmocka_unit_test(test_no_join_more_lines_finished_first),
        cmocka_unit_test(test_one_line_each_singular),
        cmocka_unit_test(test_child_rejects_bad_arguments),
        cmocka_unit_test(test_one_line_singular),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
