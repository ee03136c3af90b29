/* test-explore.c - the explore engine and command: exact counts for tiny
 * scenarios against numbers worked out by hand, the search's reduction
 * checked against running every schedule, each broken scenario caught
 * within the default bound and each fixed one clean, replay of the
 * search's counterexample, scripted by-hand sessions, bad schedules, JSON,
 * the links from `show`, completion, and 80 columns everywhere. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complete.h"
#include "explore.h"
#include "util.h"

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void world(struct ct_ex_world *w, const char *name, bool fixed, int threads, int iters)
{
    const struct ct_ex_scenario *sc = ct_ex_scenario_find(name);
    assert_non_null(sc);
    struct ct_ex_config cfg = { .threads = threads, .iters = iters, .fixed = fixed };
    assert_int_equal(ct_ex_world_init(w, sc, &cfg), 0);
}

static struct ct_ex_search_result search(const struct ct_ex_world *w, int bound, bool reduce)
{
    struct ct_ex_search_opts o = { .bound = bound, .reduce = reduce, .count_naive = true };
    struct ct_ex_search_result r;
    assert_int_equal(ct_ex_search(w, &o, &r), 0);
    assert_false(r.stopped);
    assert_int_equal(r.too_long, 0);
    return r;
}

/* ---- exact counts ------------------------------------------------------------ */

/* Two threads, one increment each: load+store per thread, so C(4,2) = 6
 * interleavings; the 4 with both loads before both stores lose an
 * update.  Classes of equivalent schedules (loads commute with each
 * other, nothing else does): t0 done before t1 loads, the reverse, and
 * both loads first with either store first: 4, of which 2 lose. */
static void test_lost_update_2x1(void **state)
{
    (void)state;
    struct ct_ex_world w;
    world(&w, "lost-update", false, 2, 1);
    for (int bound = -1; bound <= 2; bound += 3) {
        struct ct_ex_search_result r = search(&w, bound, true);
        assert_int_equal(r.naive, 6);
        assert_int_equal(r.naive_violating, 4);
        assert_int_equal(r.explored, 4);
        assert_int_equal(r.violating, 2);
        assert_int_equal(r.shortest, 4);
        struct ct_ex_search_result all = search(&w, bound, false);
        assert_int_equal(all.explored, 6);
        assert_int_equal(all.violating, 4);
    }
    /* without preemptions each thread runs to its end: 2 orders, no loss */
    struct ct_ex_search_result r = search(&w, 0, true);
    assert_int_equal(r.naive, 2);
    assert_int_equal(r.naive_violating, 0);
    assert_int_equal(r.violating, 0);
    /* one preemption: also 0,1,1,0 and 1,0,0,1, which both lose one
     * (0,1,0,1 switches away twice from a thread that could go on) */
    r = search(&w, 1, true);
    assert_int_equal(r.naive, 4);
    assert_int_equal(r.naive_violating, 2);
    assert_true(r.violating > 0);
    world(&w, "lost-update", true, 2, 1);
    r = search(&w, -1, true);
    assert_int_equal(r.naive, 2);       /* one fetch_add each: 2 orders */
    assert_int_equal(r.violating, 0);
    assert_int_equal(r.shortest, 0);
}

/* Hand counts of other small scenarios (unbounded, plain enumeration). */
static void test_more_hand_counts(void **state)
{
    (void)state;
    struct ct_ex_world w;
    /* check-then-act: load + withdraw each, like lost-update: 6 orders,
     * 4 with both checks before both withdrawals */
    world(&w, "check-then-act", false, 2, 1);
    struct ct_ex_search_result r = search(&w, -1, true);
    assert_int_equal(r.naive, 6);
    assert_int_equal(r.naive_violating, 4);
    /* deadlock: t0 first then t1 locks b after t0's unlock b, before or
     * after t0's unlock a (2), the same the other way (2), and the two
     * schedules where each takes its first lock (2 deadlocks) */
    world(&w, "deadlock", false, 2, 1);
    r = search(&w, -1, true);
    assert_int_equal(r.naive, 6);
    assert_int_equal(r.naive_violating, 2);
    assert_int_equal(r.deadlocks, r.violating);
    assert_int_equal(r.shortest, 2);
    /* forgotten-sender: the worker's send 1, send 2, drop, with main's
     * two receives each after its send: 5 orders, every one stuck */
    world(&w, "forgotten-sender", false, 2, 1);
    r = search(&w, -1, true);
    assert_int_equal(r.naive, 5);
    assert_int_equal(r.naive_violating, 5);
    assert_int_equal(r.deadlocks, r.violating);
    /* store-buffering: store, load, and a landing per thread; both read
     * 0 exactly when both loads come before both landings */
    world(&w, "store-buffering", false, 2, 1);
    r = search(&w, -1, true);
    assert_int_equal(r.violating, 1);   /* one class of schedules */
    assert_int_equal(r.shortest, 6);
}

/* The counted plain enumeration equals running every schedule, and the
 * reduced search finds a break exactly when one exists, as short. */
static void test_reduction_against_all(void **state)
{
    (void)state;
    for (size_t i = 0; i < ct_ex_scenario_count; i++) {
        for (int fixed = 0; fixed < 2; fixed++) {
            for (int bound = -1; bound <= 2; bound += 3) {
                struct ct_ex_world w;
                world(&w, ct_ex_scenarios[i]->name, fixed, 0, 0);
                struct ct_ex_search_result red = search(&w, bound, true);
                struct ct_ex_search_result all = search(&w, bound, false);
                if (all.explored != red.naive || all.violating != red.naive_violating)
                    fail_msg("%s %d: counted %llu/%llu, ran %llu/%llu", w.sc->name, fixed,
                             (unsigned long long)red.naive,
                             (unsigned long long)red.naive_violating,
                             (unsigned long long)all.explored,
                             (unsigned long long)all.violating);
                assert_true(red.explored <= all.explored);
                assert_int_equal(red.violating > 0, all.violating > 0);
                assert_int_equal(red.shortest, all.shortest);
                assert_int_equal(red.shortest, red.naive_shortest);
            }
        }
    }
}

/* Each broken scenario breaks within the default bound; each fixed one
 * stays clean, with and without a bound. */
static void test_broken_found_fixed_clean(void **state)
{
    (void)state;
    for (size_t i = 0; i < ct_ex_scenario_count; i++) {
        struct ct_ex_world w;
        world(&w, ct_ex_scenarios[i]->name, false, 0, 0);
        struct ct_ex_search_result r = search(&w, 2, true);
        if (r.violating == 0)
            fail_msg("%s: no breaking schedule within 2 preemptions", w.sc->name);
        world(&w, ct_ex_scenarios[i]->name, true, 0, 0);
        for (int bound = -1; bound <= 2; bound += 3) {
            r = search(&w, bound, true);
            if (r.violating)
                fail_msg("%s fixed: %s", w.sc->name, r.message);
        }
    }
}

/* Replaying the search's shortest schedule ends in the same break. */
static void test_replay_reproduces(void **state)
{
    (void)state;
    for (size_t i = 0; i < ct_ex_scenario_count; i++) {
        struct ct_ex_world w;
        world(&w, ct_ex_scenarios[i]->name, false, 0, 0);
        struct ct_ex_search_result r = search(&w, 2, true);
        struct ct_ex_state *st = calloc((size_t)r.shortest + 1, sizeof *st);
        char err[200], msg[160];
        assert_int_equal(ct_ex_replay(&w, r.sched, r.shortest, st, err, sizeof err),
                         r.shortest);
        assert_int_equal(ct_ex_status(&w, &st[r.shortest], msg, sizeof msg), r.how);
        assert_string_equal(msg, r.message);
        /* and not one step earlier */
        if (r.shortest > 0)
            assert_int_equal(ct_ex_status(&w, &st[r.shortest - 1], msg, sizeof msg),
                             CT_EX_RUNNING);
        free(st);
    }
}

/* Bigger spaces: the sleep sets cut the work well below the plain count. */
static void test_reduction_ratio(void **state)
{
    (void)state;
    struct ct_ex_world w;
    world(&w, "lost-update", false, 2, 4);
    struct ct_ex_search_result r = search(&w, -1, true);
    assert_int_equal(r.naive, 12870);   /* C(16, 8) */
    assert_true(r.explored * 3 < r.naive);
    assert_true(r.violating > 0);
    world(&w, "aba", false, 0, 0);
    r = search(&w, -1, true);
    assert_true(r.explored * 10 < r.naive);
}

/* Parsing schedules, and replaying bad ones. */
static void test_bad_schedules_engine(void **state)
{
    (void)state;
    uint8_t s[8];
    size_t bad;
    assert_int_equal(ct_ex_parse_schedule("0,1,0", s, 8, &bad), 3);
    assert_int_equal(ct_ex_parse_schedule("0,,1", s, 8, &bad), -EINVAL);
    assert_int_equal(bad, 2);
    assert_int_equal(ct_ex_parse_schedule("0,", s, 8, &bad), -EINVAL);
    assert_int_equal(ct_ex_parse_schedule("x", s, 8, &bad), -EINVAL);
    assert_int_equal(ct_ex_parse_schedule("123", s, 8, &bad), -EINVAL);
    assert_int_equal(ct_ex_parse_schedule("0,0,0,0,0,0,0,0,0", s, 8, &bad), -EINVAL);

    struct ct_ex_world w;
    char err[200];
    world(&w, "deadlock", false, 0, 0);
    uint8_t blocked[] = { 0, 0, 1 };
    assert_int_equal(ct_ex_replay(&w, blocked, 3, NULL, err, sizeof err), 2);
    assert_non_null(strstr(err, "waits for b (held by t0)"));
    world(&w, "lost-update", false, 2, 1);
    uint8_t finished[] = { 0, 0, 0 };
    assert_int_equal(ct_ex_replay(&w, finished, 3, NULL, err, sizeof err), 2);
    assert_non_null(strstr(err, "finished"));
    uint8_t range[] = { 5 };
    assert_int_equal(ct_ex_replay(&w, range, 1, NULL, err, sizeof err), 0);
    assert_non_null(strstr(err, "no thread 5"));
}

/* ---- the command as a process ----------------------------------------------------- */

static struct ct_proc tutor(const char *const *args, int want)
{
    struct ct_proc p;
    assert_int_equal(ct_tutor(&p, args), 0);
    if (p.status != want)
        fail_msg("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", p.status, want, p.out, p.err);
    return p;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("expected to find \"%s\" in:\n%s", needle, hay);
}

/* A line of `text` equal to `line`, as a whole. */
static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
            return true;
    }
    return false;
}

static void assert_fits_80(const char *text)
{
    int col = 0;
    for (const char *p = text; *p; p++) {
        col = *p == '\n' ? 0 : col + 1;
        if (col > 80)
            fail_msg("a line is over 80 columns:\n%.200s", p - 80);
    }
}

static void test_cli_search_and_replay(void **state)
{
    (void)state;
    struct ct_proc p = tutor(ARGS("explore", "lost-update", "search"), 1);
    assert_contains(p.out, "reduction: sleep sets");
    assert_contains(p.out, "Replay it: explore lost-update schedule=0,1,0,1");
    ct_proc_free(&p);
    p = tutor(ARGS("explore", "lost-update", "search", "fixed"), 0);
    assert_true(has_line(p.out, "No schedule within the bound breaks the invariant."));
    ct_proc_free(&p);
    p = tutor(ARGS("explore", "lost-update", "schedule=0,1,0,1"), 1);
    assert_contains(p.out, "broken: counter is 1 after 2 increments: 1 lost");
    ct_proc_free(&p);
    p = tutor(ARGS("explore", "lost-update", "schedule=0,0,1,1"), 0);
    assert_contains(p.out, "every thread finished; the invariant held");
    ct_proc_free(&p);
    p = tutor(ARGS("explore", "deadlock", "search"), 1);
    assert_contains(p.out, "cycle: t0 -> t1 -> t0");
    ct_proc_free(&p);
}

static void expect_usage(const char *const *args, const char *msg)
{
    struct ct_proc p = tutor(args, 2);
    char *err = ct_unwrap(p.err);
    assert_contains(err, msg);
    free(err);
    assert_int_equal(p.out_len, 0);
    ct_proc_free(&p);
}

static void test_cli_errors(void **state)
{
    (void)state;
    expect_usage(ARGS("explore", "lost-updat"), "unknown scenario 'lost-updat' (did you "
                                                "mean 'lost-update'?)");
    expect_usage(ARGS("explore", "lost-update", "bogus"), "unknown word 'bogus'; accepted:");
    expect_usage(ARGS("explore", "lost-update", "threads=9"),
                 "threads must be 2..4, got '9'");
    expect_usage(ARGS("explore", "lost-update", "preemptions=x"), "preemptions must be");
    expect_usage(ARGS("explore", "lost-update", "schedule=0,7"),
                 "step 2: no thread 7 (this scenario has 2, numbered 0..1)");
    expect_usage(ARGS("explore", "lost-update", "schedule=0,0,0"),
                 "step 3: thread 0 (t0) cannot step: it has finished");
    expect_usage(ARGS("explore", "deadlock", "schedule=0,0,1"),
                 "step 3: thread 1 (t1) cannot step: waits for b (held by t0)");
    expect_usage(ARGS("explore", "deadlock", "schedule=0,1,0"),
                 "step 3: the run is already over (deadlock");
    expect_usage(ARGS("explore", "lost-update", "schedule=0,,1"), "bad at ',1'");
    expect_usage(ARGS("explore", "lost-update", "schedule=0,1,0,1,0"),
                 "step 5: the run is already over");
    expect_usage(ARGS("explore", "lost-update", "search", "schedule=0"),
                 "do not go together");
    /* contradictions and repeats are refused, never "the last one wins" */
    expect_usage(ARGS("explore", "lost-update", "search", "fixed", "broken"),
                 "explore: 'fixed' and 'broken' do not go together; use one");
    expect_usage(ARGS("explore", "lost-update", "broken", "version=fixed"),
                 "explore: 'broken' and 'version=' do not go together; use one");
    expect_usage(ARGS("explore", "lost-update", "search", "search"),
                 "explore: 'search' given twice; give it once");
    expect_usage(ARGS("explore", "lost-update", "fixed", "fixed"),
                 "explore: 'fixed' given twice; give it once");
    expect_usage(ARGS("explore", "lost-update", "search", "threads=2", "threads=3"),
                 "explore: 'threads=' given twice; give it once");
    expect_usage(ARGS("explore", "lost-update", "hand", "search"),
                 "explore: 'hand' and 'search' do not go together; use one");
}

static void test_cli_json(void **state)
{
    (void)state;
    struct ct_proc p = tutor(ARGS("explore", "lost-update", "search", "--json"), 1);
    json_t *j = ct_json_parse(p.out);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "explored")), 4);
    assert_int_equal(json_integer_value(json_object_get(j, "naive")), 6);
    assert_int_equal(json_integer_value(json_object_get(j, "violating")), 2);
    json_t *sh = json_object_get(j, "shortest");
    assert_string_equal(json_string_value(json_object_get(sh, "schedule")), "0,1,0,1");
    assert_int_equal(json_array_size(json_object_get(sh, "steps")), 4);
    json_decref(j);
    ct_proc_free(&p);

    p = tutor(ARGS("explore", "deadlock", "schedule=0,1", "--json"), 1);
    j = ct_json_parse(p.out);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "deadlock");
    json_decref(j);
    ct_proc_free(&p);

    p = tutor(ARGS("explore", "deadlock", "keys=0,1,u,0,0,1", "--json"), 0);
    j = ct_json_parse(p.out);
    assert_string_equal(json_string_value(json_object_get(j, "mode")), "hand");
    assert_string_equal(json_string_value(json_object_get(j, "schedule")), "0,0,0");
    assert_int_equal(json_integer_value(json_object_get(j, "rejected")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "running");
    json_decref(j);
    ct_proc_free(&p);

    p = tutor(ARGS("explore", "--json"), 0);
    j = ct_json_parse(p.out);
    assert_int_equal(json_array_size(json_object_get(j, "scenarios")), ct_ex_scenario_count);
    json_decref(j);
    ct_proc_free(&p);
}

/* Keys piped on stdin: the student breaks lost-update, undoes, tries again. */
static void test_cli_scripted(void **state)
{
    (void)state;
    const char *argv[] = { ct_test_binary(), "explore", "lost-update", NULL };
    const char *env[] = { "NO_COLOR=1", NULL };
    struct ct_proc p;
    assert_int_equal(ct_proc_run(&p, argv, "0 1 0 1\nu u\n0 0 1 1\nq\n", env, 60, 0), 0);
    assert_int_equal(p.status, 0);
    assert_true(has_line(p.out, "1  step 4: t1 store counter=1"));
    assert_true(has_line(p.out, "   BROKEN: counter is 1 after 2 increments: 1 lost"));
    assert_true(has_line(p.out, "u  undone: back to step 2"));
    assert_true(has_line(p.out, "0  thread 0 (t0) cannot step: it has finished"));
    assert_true(has_line(p.out, "schedule: 0,1,0,1  (4 steps, 2 preemptions)"));
    ct_proc_free(&p);

    /* inside a script of commands, the keys end at q and the script goes on */
    const char *repl[] = { ct_test_binary(), NULL };
    assert_int_equal(ct_proc_run(&p, repl, "explore deadlock\n0 1 q\nexplore\n", env, 60, 0), 0);
    assert_int_equal(p.status, 0);
    assert_true(has_line(p.out, "  cycle: t0 -> t1 -> t0"));
    assert_contains(p.out, "Scenarios: explore NAME");
    ct_proc_free(&p);
}

/* Every mode of every scenario fits 80 columns. */
static void test_fits_80_columns(void **state)
{
    (void)state;
    for (size_t i = 0; i < ct_ex_scenario_count; i++) {
        const char *name = ct_ex_scenarios[i]->name;
        struct ct_proc p;
        assert_int_equal(ct_tutor(&p, ARGS("explore", name, "search")), 0);
        assert_int_equal(p.status, 1);
        assert_fits_80(p.out);
        ct_proc_free(&p);
        assert_int_equal(ct_tutor(&p, ARGS("explore", name, "keys=0,1,1,0,n,n,1,1,n,0,0")), 0);
        assert_int_equal(p.status, 0);
        assert_fits_80(p.out);
        ct_proc_free(&p);
    }
    struct ct_proc p;
    assert_int_equal(ct_tutor(&p, ARGS("explore")), 0);
    assert_fits_80(p.out);
    ct_proc_free(&p);
}

/* `show LESSON` ends with its scenarios, from the scenario table. */
static void test_show_links(void **state)
{
    (void)state;
    struct ct_proc p = tutor(ARGS("show", "intro"), 0);
    assert_contains(p.out, "Explore it: `explore lost-update`");
    ct_proc_free(&p);
    p = tutor(ARGS("show", "intro", "--json"), 0);
    json_t *j = ct_json_parse(p.out);
    json_t *ex = json_object_get(j, "explore");
    assert_int_equal(json_array_size(ex), 1);
    assert_string_equal(json_string_value(json_array_get(ex, 0)), "lost-update");
    json_decref(j);
    ct_proc_free(&p);
    /* every scenario names a lesson that exists */
    for (size_t i = 0; i < ct_ex_scenario_count; i++) {
        struct ct_proc q = tutor(ARGS("show", ct_ex_scenarios[i]->lesson), 0);
        char want[96];
        snprintf(want, sizeof want, "`explore %s`", ct_ex_scenarios[i]->name);
        assert_contains(q.out, want);
        ct_proc_free(&q);
    }
}

static void test_completion(void **state)
{
    (void)state;
    struct ct_ctx ctx = { .repl = true, .opt = { .scale = 1.0 } };
    char c[64][CT_COMPLETE_LEN];
    size_t start;
    int n = ct_complete(&ctx, "explore lost-u", &start, c, 64);
    assert_int_equal(n, 1);
    assert_string_equal(c[0], "lost-update");
    n = ct_complete(&ctx, "explore aba s", &start, c, 64);
    assert_int_equal(n, 2);
    assert_string_equal(c[0], "search");
    assert_string_equal(c[1], "schedule=");
    n = ct_complete(&ctx, "explore ", &start, c, 64);
    assert_int_equal(n, (int)ct_ex_scenario_count);
    ct_ctx_free(&ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lost_update_2x1),
        cmocka_unit_test(test_more_hand_counts),
        cmocka_unit_test(test_reduction_against_all),
        cmocka_unit_test(test_broken_found_fixed_clean),
        cmocka_unit_test(test_replay_reproduces),
        cmocka_unit_test(test_reduction_ratio),
        cmocka_unit_test(test_bad_schedules_engine),
        cmocka_unit_test(test_cli_search_and_replay),
        cmocka_unit_test(test_cli_errors),
        cmocka_unit_test(test_cli_json),
        cmocka_unit_test(test_cli_scripted),
        cmocka_unit_test(test_fits_80_columns),
        cmocka_unit_test(test_show_links),
        cmocka_unit_test(test_completion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
