/* test-cli.c - the program run as a process: every command, JSON output,
 * every bad-input case with its message and exit code, scripts on stdin,
 * and Ctrl-C (SIGINT) during a demo. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry.h"
#include "util.h"

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static struct ct_proc run_ok(const char *const *args)
{
    struct ct_proc p;
    assert_int_equal(ct_tutor(&p, args), 0);
    if (p.status != 0)
        fail_msg("exit %d\nstdout:\n%s\nstderr:\n%s", p.status, p.out, p.err);
    assert_int_equal(p.err_len, 0);
    return p;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("expected to find \"%s\" in:\n%s", needle, hay);
}

static void test_version_and_help(void **state)
{
    (void)state;
    struct ct_proc p = run_ok(ARGS("--version"));
    assert_contains(p.out, "concur-tutor 0.");
    ct_proc_free(&p);
    p = run_ok(ARGS("--help"));
    assert_contains(p.out, "usage: concur-tutor");
    assert_contains(p.out, "run DEMO [KEY=VALUE ...]");
    assert_contains(p.out, "Exit codes");
    ct_proc_free(&p);
    p = run_ok(ARGS("help", "run"));
    assert_contains(p.out, "usage: run DEMO [KEY=VALUE ...]");
    ct_proc_free(&p);
    p = run_ok(ARGS("run", "--help"));
    assert_contains(p.out, "usage: run DEMO");
    ct_proc_free(&p);
    p = run_ok(ARGS("help", "race"));
    assert_contains(p.out, "threads");
    assert_contains(p.out, "1..64");
    ct_proc_free(&p);
}

static void test_list(void **state)
{
    (void)state;
    struct ct_proc p = run_ok(ARGS("list"));
    assert_contains(p.out, " 1  Introduction");
    for (size_t i = 0; i < ct_demo_count; i++)
        assert_contains(p.out, ct_demos[i]->name);
    assert_null(strchr(p.out, '\033'));     /* not a terminal: no colour */
    ct_proc_free(&p);

    p = run_ok(ARGS("list", "1"));
    assert_contains(p.out, "Introduction");
    assert_null(strstr(p.out, " 2  "));
    ct_proc_free(&p);

    p = run_ok(ARGS("list", "--json"));
    json_t *j = ct_json_parse(p.out);
    assert_non_null(j);
    json_t *chapters = json_object_get(j, "chapters");
    assert_true(json_is_array(chapters) && json_array_size(chapters) >= 1);
    size_t demos = 0, i;
    json_t *ch;
    json_array_foreach(chapters, i, ch) {
        assert_true(json_is_integer(json_object_get(ch, "number")));
        assert_true(json_is_string(json_object_get(ch, "title")));
        assert_true(json_array_size(json_object_get(ch, "lessons")) >= 1);
        demos += json_array_size(json_object_get(ch, "demos"));
    }
    assert_int_equal(demos, ct_demo_count);
    json_decref(j);
    ct_proc_free(&p);
}

static void test_show(void **state)
{
    (void)state;
    struct ct_proc p = run_ok(ARGS("show", "intro"));
    assert_contains(p.out, "Chapter 1: Introduction");
    ct_proc_free(&p);

    /* a demo's id shows the lesson that explains it, with its parameters */
    p = run_ok(ARGS("show", "race"));
    assert_contains(p.out, "(intro)");
    assert_contains(p.out, "Demo `race`");
    assert_contains(p.out, "iters");
    ct_proc_free(&p);

    p = run_ok(ARGS("show", "1"));
    assert_contains(p.out, "Chapter 1: Introduction");
    ct_proc_free(&p);

    p = run_ok(ARGS("show", "intro", "--json"));
    json_t *j = ct_json_parse(p.out);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "id")), "intro");
    assert_true(json_string_length(json_object_get(j, "text")) > 100);
    json_decref(j);
    ct_proc_free(&p);
}

/* Every JSON the front end prints parses: show for each lesson and chapter,
 * list for each chapter.  (Every demo's JSON is parsed by test-demos.) */
static void test_every_json_parses(void **state)
{
    (void)state;
    struct ct_proc p = run_ok(ARGS("list", "--json"));
    json_t *all = ct_json_parse(p.out);
    assert_non_null(all);
    ct_proc_free(&p);
    size_t i, k;
    json_t *ch, *lesson;
    json_array_foreach(json_object_get(all, "chapters"), i, ch) {
        char num[16];
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(json_object_get(ch, "number")));
        const char *views[][3] = { { "list", num, "--json" }, { "show", num, "--json" } };
        for (size_t v = 0; v < 2; v++) {
            p = run_ok(ARGS(views[v][0], views[v][1], views[v][2]));
            json_t *j = ct_json_parse(p.out);
            if (!j)
                fail_msg("%s %s --json printed what is not JSON", views[v][0], num);
            json_decref(j);
            ct_proc_free(&p);
        }
        json_array_foreach(json_object_get(ch, "lessons"), k, lesson) {
            const char *id = json_string_value(json_object_get(lesson, "id"));
            p = run_ok(ARGS("show", id, "--json"));
            json_t *j = ct_json_parse(p.out);
            if (!j || strcmp(json_string_value(json_object_get(j, "id")), id) != 0)
                fail_msg("show %s --json: not JSON, or not that lesson", id);
            json_decref(j);
            ct_proc_free(&p);
        }
    }
    json_decref(all);
}

static void test_run_text_and_json(void **state)
{
    (void)state;
    struct ct_proc p = run_ok(ARGS("run", "race", "threads=2", "iters=2000"));
    assert_contains(p.out, "race: Lost updates");
    assert_contains(p.out, "parameters: threads=2 iters=2000");
    assert_contains(p.out, "[");
    assert_contains(p.out, " ms] ");
    assert_contains(p.out, "Summary (wall time");
    assert_contains(p.out, "Takeaway");
    assert_contains(p.out, "Checks");
    ct_proc_free(&p);

    p = run_ok(ARGS("--json", "run", "race", "--threads", "3", "iters=1000"));
    json_t *j = ct_json_parse(p.out);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "demo")), "race");
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "params"), "threads")), 3);
    assert_true(json_number_value(json_object_get(j, "wall_ms")) > 0);
    json_t *checks = json_object_get(j, "checks"), *c;
    size_t i;
    assert_true(json_array_size(checks) >= 2);
    json_array_foreach(checks, i, c)
        assert_true(json_is_true(json_object_get(c, "ok")));
    assert_true(json_array_size(json_object_get(j, "log")) > 0);
    json_decref(j);
    ct_proc_free(&p);

    /* --scale is accepted and reported */
    p = run_ok(ARGS("run", "race", "threads=1", "iters=10", "--scale", "0.5", "--json"));
    j = ct_json_parse(p.out);
    assert_true(json_number_value(json_object_get(j, "scale")) == 0.5);
    json_decref(j);
    ct_proc_free(&p);
}

/* The manual page is generated from the tables: it lists everything. */
static void test_man_page(void **state)
{
    (void)state;
    struct ct_proc p = run_ok(ARGS("__man"));
    assert_contains(p.out, ".TH CONCUR\\-TUTOR 1");
    for (size_t i = 0; i < ct_demo_count; i++) {
        /* ".SS thread\-return": roff escapes the dashes */
        char want[128];
        size_t o = (size_t)snprintf(want, sizeof want, ".SS ");
        for (const char *c = ct_demos[i]->name; *c && o < sizeof want; c++)
            o += (size_t)snprintf(want + o, sizeof want - o, *c == '-' ? "\\-" : "%c", *c);
        assert_contains(p.out, want);
    }
    assert_contains(p.out, ".B list");
    assert_contains(p.out, ".B run");
    assert_null(strstr(p.out, "__child"));
    ct_proc_free(&p);
}

struct usage_case {
    const char *const *args;
    const char *message;
};

/* Bad input: one message on stderr naming the problem, exit 2, no stdout. */
static void test_usage_errors(void **state)
{
    (void)state;
    const struct usage_case cases[] = {
        { ARGS("frobnicate"), "concur-tutor: unknown command 'frobnicate'" },
        { ARGS("lsit"), "unknown command 'lsit' (did you mean 'list'?)" },
        { ARGS("race"), "unknown command 'race' (to run the demo: run race)" },
        { ARGS("run"), "run: missing DEMO (usage: run DEMO [KEY=VALUE ...]); demos: race" },
        { ARGS("run", "rcae"), "unknown demo 'rcae' (did you mean 'race'?)" },
        { ARGS("run", "zzzzzz"), "unknown demo 'zzzzzz'; demos: race" },
        { ARGS("run", "race", "threads=0"), "concur-tutor: run race: threads must be 1..64, got '0'" },
        { ARGS("run", "race", "threads=x"), "threads must be a whole number in 1..64 (digits, e.g. 1), got 'x'" },
        { ARGS("run", "race", "thread=2"), "unknown parameter 'thread' (did you mean 'threads'?)" },
        { ARGS("run", "race", "fast"), "expected key=value, got 'fast'" },
        { ARGS("run", "race", "variants=racy,atomc"), "unknown item 'atomc' (did you mean 'atomic'?)" },
        { ARGS("show"), "show: missing LESSON|DEMO|CHAPTER" },
        { ARGS("show", "nosuchthing"), "show: unknown lesson or demo 'nosuchthing'" },
        { ARGS("show", "intr"), "(did you mean 'intro'?)" },
        { ARGS("list", "99"), "list: unknown chapter '99'" },
        { ARGS("list", "1", "2"), "list: unexpected argument '2' (usage: list [CHAPTER])" },
        { ARGS("help", "nosuch"), "help: no command or demo 'nosuch'" },
        { ARGS("--scale", "0", "list"), "--scale must be a number in 0.01..100, got '0'" },
        { ARGS("--scale"), "--scale needs a value" },
        { ARGS("--bogus"), "unknown option '--bogus'" },
        { ARGS("quit"), "'quit' only means something at the interactive prompt" },
        { ARGS("--lessons", "/nonexistent", "list"), "lessons: /nonexistent: No such file or directory" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct ct_proc p;
        assert_int_equal(ct_tutor(&p, cases[i].args), 0);
        char *err = ct_unwrap(p.err);
        if (p.status != 2 || !strstr(err, cases[i].message) || p.out_len != 0 ||
            strchr(err, '\n') != err + strlen(err) - 1)
            fail_msg("case %zu (%s ...): exit %d, stderr \"%s\", stdout \"%s\"; wanted exit 2 "
                     "and one message containing \"%s\"",
                     i, cases[i].args[0], p.status, p.err, p.out, cases[i].message);
        free(err);
        ct_proc_free(&p);
    }
}

static void test_lessons_dir(void **state)
{
    (void)state;
    char *dir = ct_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/01-mine.md", dir);
    FILE *f = fopen(path, "w");
    fputs("::: chapter 1\ntitle: My own chapter\n:::\n::: lesson mine\ntitle: Mine\n"
          "summary: An instructor's lesson\ndemos: race\n:::\nHello class.\n", f);
    fclose(f);
    struct ct_proc p = run_ok(ARGS("--lessons", dir, "list"));
    assert_contains(p.out, "My own chapter");
    assert_contains(p.out, "An instructor's lesson");
    ct_proc_free(&p);
    p = run_ok(ARGS("show", "mine", "--lessons", dir));
    assert_contains(p.out, "Hello class.");
    ct_proc_free(&p);

    f = fopen(path, "w");
    fputs("::: chapter 1\ntitle: X\n:::\n::: lesson mine\ntitle: Mine\n:::\n", f);
    fclose(f);
    assert_int_equal(ct_tutor(&p, ARGS("--lessons", dir, "list")), 0);
    assert_int_equal(p.status, 2);
    char *err = ct_unwrap(p.err);
    assert_contains(err, "01-mine.md:4: lesson 'mine' has no 'summary:'");
    free(err);
    ct_proc_free(&p);
    ct_tmpdir_remove(dir);
}

static struct ct_proc script(const char *input)
{
    struct ct_proc p;
    const char *argv[] = { ct_test_binary(), NULL };
    static const char *const env[] = { "NO_COLOR=1", "PAGER=cat", NULL };
    assert_int_equal(ct_proc_run(&p, argv, input, env, 60, 0), 0);
    return p;
}

static void test_scripts(void **state)
{
    (void)state;
    struct ct_proc p = script("# an instructor's script\nlist 1\nrun race threads=2 iters=1000\n");
    assert_int_equal(p.status, 0);
    assert_contains(p.out, "Introduction");
    assert_contains(p.out, "Summary (wall time");
    assert_null(strstr(p.out, "concur>"));  /* no prompt when not interactive */
    ct_proc_free(&p);

    /* an error is reported, the script goes on, the exit code remembers */
    p = script("list 1\nbogus\nshow intro\n");
    assert_int_equal(p.status, 2);
    assert_contains(p.err, "unknown command 'bogus'");
    assert_contains(p.out, "Chapter 1: Introduction");
    ct_proc_free(&p);

    p = script("quit\nlist\n");
    assert_int_equal(p.status, 0);
    assert_int_equal(p.out_len, 0);
    ct_proc_free(&p);

    p = script("run race 'threads=2' \"iters=500\" --json\n");
    assert_int_equal(p.status, 0);
    json_t *j = ct_json_parse(p.out);
    assert_non_null(j);
    json_decref(j);
    ct_proc_free(&p);

    p = script("run race 'threads=2\n");
    assert_int_equal(p.status, 2);
    assert_contains(p.err, "unclosed quote");
    ct_proc_free(&p);
}

/* The widest line of `text`, in bytes (the messages are ASCII). */
static size_t widest_line(const char *text, const char **where)
{
    size_t best = 0;
    for (const char *l = text; *l;) {
        size_t n = strcspn(l, "\n");
        if (n > best)
            best = n, *where = l;
        l += n + (l[n] == '\n');
    }
    return best;
}

/* Every error fits 80 columns, however long what it lists: the error
 * printer wraps, with a hanging indent. */
static void test_errors_fit_80_columns(void **state)
{
    (void)state;
    const char *const *cases[] = {
        ARGS("run", "nope"), ARGS("run"), ARGS("explore", "nope"), ARGS("source", "nope"),
        ARGS("run", "deadlock", "foo=1"), ARGS("run", "race", "thread=4"),
        ARGS("frobnicate"), ARGS("help", "nosuch"), ARGS("walk", "4", "--json"),
    };
    static const char *const env[] = { "NO_COLOR=1", "COLUMNS=80", NULL };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *argv[8] = { ct_test_binary() };
        for (size_t k = 0; cases[i][k]; k++)
            argv[k + 1] = cases[i][k];
        struct ct_proc p;
        assert_int_equal(ct_proc_run(&p, argv, NULL, env, 60, 0), 0);
        const char *at = p.err;
        size_t w = widest_line(p.err, &at);
        if (p.status != 2 || w > 80 || p.err_len == 0)
            fail_msg("%s ...: exit %d, a line of %zu columns: \"%.*s\"", cases[i][0],
                     p.status, w, (int)w, at);
        ct_proc_free(&p);
    }
    /* the same at the prompt (a script), where quit and exit join the list */
    struct ct_proc p;
    const char *argv[] = { ct_test_binary(), NULL };
    assert_int_equal(ct_proc_run(&p, argv, "frobnicate\n", env, 60, 0), 0);
    const char *at = p.err;
    assert_int_equal(p.status, 2);
    assert_true(widest_line(p.err, &at) <= 80);
    ct_proc_free(&p);
}

/* --html names a file that cannot be written: refused before the demo
 * runs (nothing on stdout), exit 2, naming the path and why; a usable path
 * is not created until the page is written. */
static void test_html_path_checked_first(void **state)
{
    (void)state;
    struct ct_proc p;
    assert_int_equal(ct_tutor(&p, ARGS("run", "mutex", "--html", "/nonexistent/x.html")), 0);
    char *err = ct_unwrap(p.err);
    assert_int_equal(p.status, 2);
    assert_int_equal(p.out_len, 0);
    assert_contains(err, "run mutex: --html /nonexistent/x.html: No such file or directory");
    free(err);
    ct_proc_free(&p);

    char *dir = ct_tmpdir();
    assert_int_equal(ct_tutor(&p, ARGS("run", "mutex", "--html", dir)), 0);
    assert_int_equal(p.status, 2);
    assert_int_equal(p.out_len, 0);
    assert_contains(p.err, "Is a directory");
    ct_proc_free(&p);

    /* a bad parameter after a good path: no file is left behind */
    char path[512];
    snprintf(path, sizeof path, "%s/page.html", dir);
    assert_int_equal(ct_tutor(&p, ARGS("run", "race", "--html", path, "threads=0")), 0);
    assert_int_equal(p.status, 2);
    assert_int_equal(access(path, F_OK), -1);
    ct_proc_free(&p);
    p = run_ok(ARGS("run", "race", "iters=100", "--html", path));
    assert_int_equal(access(path, F_OK), 0);
    ct_proc_free(&p);
    ct_tmpdir_remove(dir);
}

/* One rule for --json: a command without a JSON form refuses it. */
static void test_json_refused_without_json_form(void **state)
{
    (void)state;
    const char *const *refused[] = {
        ARGS("source", "race", "--json"), ARGS("source", "race", "worker", "--json"),
        ARGS("progress", "reset", "--json"), ARGS("walk", "4", "--json"),
        ARGS("help", "--json"), ARGS("help", "run", "--json"),
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        struct ct_proc p;
        assert_int_equal(ct_tutor(&p, refused[i]), 0);
        char *err = ct_unwrap(p.err);
        char want[64];
        snprintf(want, sizeof want, "--json does not go with %s",
                 strcmp(refused[i][1], "reset") == 0 ? "reset" : refused[i][0]);
        if (p.status != 2 || p.out_len != 0 || !strstr(err, want))
            fail_msg("%s %s --json: exit %d, stdout \"%.60s\", stderr \"%s\"", refused[i][0],
                     refused[i][1], p.status, p.out, p.err);
        free(err);
        ct_proc_free(&p);
    }
    /* the commands that have a JSON form keep it */
    struct ct_proc p = run_ok(ARGS("progress", "--json"));
    json_t *j = ct_json_parse(p.out);
    assert_non_null(j);
    json_decref(j);
    ct_proc_free(&p);
}

/* A demo id the curriculum used, since split up: its new names, exit 2. */
static void test_retired_demo_names(void **state)
{
    (void)state;
    const char *const *cases[] = {
        ARGS("run", "send-sync"), ARGS("help", "send-sync"), ARGS("source", "send-sync"),
        ARGS("show", "send-sync"),
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct ct_proc p;
        assert_int_equal(ct_tutor(&p, cases[i]), 0);
        char *err = ct_unwrap(p.err);
        if (p.status != 2 || p.out_len != 0 ||
            !strstr(err, "send-sync is now three demos: send, sync, not-sync\n"))
            fail_msg("%s send-sync: exit %d, stderr \"%s\"", cases[i][0], p.status, p.err);
        free(err);
        ct_proc_free(&p);
    }
}

/* SIGINT during a demo cancels it: threads joined, exit 130, promptly. */
static void test_sigint_cancels_run(void **state)
{
    (void)state;
    struct ct_proc p;
    const char *argv[] = { ct_test_binary(), "run", "race", "iters=100000000", "threads=2", NULL };
    static const char *const env[] = { "NO_COLOR=1", NULL };
    assert_int_equal(ct_proc_run(&p, argv, NULL, env, 60, 300), 0);
    assert_int_equal(p.status, 130);
    assert_contains(p.out, "Cancelled after");
    assert_contains(p.out, "cancelling");
    assert_true(p.ms < 300 + 5000);
    ct_proc_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_and_help),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_show),
        cmocka_unit_test(test_every_json_parses),
        cmocka_unit_test(test_run_text_and_json),
        cmocka_unit_test(test_man_page),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_lessons_dir),
        cmocka_unit_test(test_scripts),
        cmocka_unit_test(test_sigint_cancels_run),
        cmocka_unit_test(test_errors_fit_80_columns),
        cmocka_unit_test(test_html_path_checked_first),
        cmocka_unit_test(test_json_refused_without_json_form),
        cmocka_unit_test(test_retired_demo_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
