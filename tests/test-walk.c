/* test-walk.c - the presenter mode, driven through a pseudo-terminal of
 * 80 x 24 (a projector's), and printed through a pipe as a handout.
 *
 * The walks run over a small chapter written here (two lessons, a long
 * section, the fast `select` demo), so that every screen is known: every
 * key, a resize in the middle of a section, Ctrl-C in a demo, q from every
 * kind of screen, the terminal given back on every way out (q, SIGTERM,
 * SIGHUP during a demo), resuming where the class stopped, and the
 * handout's structure, for that chapter and for the real chapter 1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "ptys.h"
#include "text.h"
#include "util.h"

static char *dir;           /* the lessons and the state */
static char lessons[512], state_env[600];

static const char lesson_text[] =
    "::: chapter 6\ntitle: Test chapter\nsummary: For the walk tests\n:::\n\n"
    "::: lesson first\ntitle: The first lesson\nsummary: Two sections and a demo\n"
    "demos: select\n:::\n\n"
    "# Alpha section\n\nAlpha text.\n\n```c fragment\n# not a heading inside code\n```\n\n"
    "## Beta section\n\nBETA-START\n\n";

static const char lesson_tail[] =
    "BETA-END\n\n"
    "::: lesson second\ntitle: The second lesson\nsummary: No demo\n:::\n\n"
    "# Gamma section\n\nGamma text.\n";

/* A chapter with an introduction and no demo at all. */
static const char intro_chapter[] =
    "::: chapter 7\ntitle: Intro chapter\nsummary: An introduction, no demo\n:::\n\n"
    "Delta introduction text.\n\n"
    "::: lesson third\ntitle: The third lesson\nsummary: No demo\n:::\n\n"
    "# Epsilon section\n\nEpsilon text.\n";

static void write_lessons(void)
{
    snprintf(lessons, sizeof lessons, "%s/lessons", dir);
    char path[600];
    snprintf(path, sizeof path, "%s/06-test.md", lessons);
    assert_int_equal(mkdir(lessons, 0700), 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(lesson_text, f);
    /* taller than a 24-row screen: the section takes two screenfuls */
    for (int i = 1; i <= 15; i++)
        fprintf(f, "Line %d of the long section.\n\n", i);
    fputs(lesson_tail, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/07-intro.md", lessons);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(intro_chapter, f);
    fclose(f);
}

static void start_walk(struct pty *t, const char *a1, const char *a2)
{
    const char *argv[] = { "concur-tutor", "--lessons", lessons, "walk", a1, a2, NULL };
    const char *env[] = { state_env, NULL };
    pty_start(t, 24, 80, argv, env);
    pty_wait_keys(t);
}

/* Every line of the screen fits `cols`, and there are at most `rows`. */
static void check_screen(const struct pty *t, int rows, int cols)
{
    char **lines;
    int n = pty_screen_lines(t, &lines);
    if (n > rows)
        fail_msg("the screen has %d lines, more than %d", n, rows);
    for (int i = 0; i < n; i++) {
        int w = ct_text_width(lines[i], strlen(lines[i]));
        if (w > cols)
            fail_msg("screen line %d is %d columns wide, more than %d:\n%s", i + 1, w, cols,
                     lines[i]);
    }
    free(lines[0]);
    free(lines);
}

static void finish(struct pty *t, int want)
{
    int status = pty_wait(t);
    if (status != want)
        fail_msg("exit status %d, want %d; the terminal ended with:\n%s", status, want,
                 t->len > 800 ? t->seen + t->len - 800 : t->seen);
    if (!pty_cooked(t))
        fail_msg("the walk left the terminal in raw mode");
    if (!pty_cursor_shown(t))
        fail_msg("the walk left the cursor hidden");
    pty_close(t);
}

/* Every key, in order, through the whole chapter. */
static void test_every_key(void **state)
{
    (void)state;
    struct pty t;
    start_walk(&t, "6", "--from-start");
    pty_expect(&t, "Alpha section", 5000);
    pty_expect(&t, "chapter 6 - lesson 1 of 2 - section 1 of 2", 5000);
    check_screen(&t, 24, 80);
    pty_send(&t, "\r");                                 /* Enter */
    pty_expect(&t, "BETA-START", 5000);
    pty_expect(&t, "section 2 of 2 (page 1 of 2)", 5000);
    check_screen(&t, 24, 80);
    pty_send(&t, " ");                                  /* Space */
    pty_expect(&t, "(page 2 of 2)", 5000);
    pty_send(&t, "p");                                  /* back */
    pty_expect(&t, "(page 1 of 2)", 5000);
    pty_send(&t, "\033[C");                             /* right arrow */
    pty_expect(&t, "BETA-END", 5000);
    pty_send(&t, "\033[D");                             /* left arrow */
    pty_expect(&t, "(page 1 of 2)", 5000);
    pty_send(&t, "n n");                                /* page 2, then the demo runs */
    pty_expect(&t, "select: Racing futures", 5000);
    pty_expect(&t, "Summary (wall time", 10000);
    pty_expect(&t, "r again", 5000);                    /* the status line, after it */
    pty_send(&t, "\r");                                 /* the takeaway */
    pty_expect(&t, "Takeaway of the demo select", 5000);
    pty_expect(&t, "checks held", 5000);
    pty_send(&t, "s");                                  /* the source */
    pty_expect(&t, "demos/select.c", 5000);
    pty_expect(&t, "source select - lines 1-23", 5000);
    check_screen(&t, 24, 80);
    pty_send(&t, "n");
    pty_expect(&t, "lines 24-46", 5000);
    pty_send(&t, "s");                                  /* back to the walk */
    pty_expect(&t, "Takeaway of the demo select", 5000);
    pty_send(&t, "r");                                  /* again, with parameters */
    pty_expect(&t, "run select with", 5000);
    pty_send(&t, "one-ms=5000 two-ms=5000\r");
    pty_expect(&t, "parameters: one-ms=5000 two-ms=5000", 5000);
    pty_expect(&t, "operation two: started", 5000);
    pty_send(&t, "\003");                               /* Ctrl-C in the demo */
    pty_expect(&t, "Cancelled after", 5000);
    pty_expect(&t, "demo cancelled", 5000);
    pty_send(&t, "\r");
    pty_expect(&t, "The run was cancelled", 5000);
    pty_send(&t, "\003");                               /* Ctrl-C between demos: stays */
    pty_expect(&t, "q leaves the walk", 5000);
    pty_send(&t, "n");
    pty_expect(&t, "Gamma section", 5000);
    pty_expect(&t, "lesson 2 of 2 - section 1 of 1", 5000);
    pty_send(&t, "r");
    pty_expect(&t, "this lesson has no demo", 5000);
    pty_send(&t, "n");
    pty_expect(&t, "End of chapter 6", 5000);
    pty_send(&t, "n");                                  /* past the end: stays there */
    pty_expect(&t, "the end", 5000);
    pty_send(&t, "q");
    pty_expect(&t, "'walk 6' starts it again", 5000);
    finish(&t, 0);
}

/* A resize in the middle of a section: the page is laid out again for the
 * new width and height. */
static void test_resize(void **state)
{
    (void)state;
    struct pty t;
    start_walk(&t, "6", "--from-start");
    pty_expect(&t, "section 1 of 2", 5000);
    pty_send(&t, "\r");
    pty_expect(&t, "(page 1 of 2)", 5000);
    pty_resize(&t, 16, 44);
    /* narrower and shorter: more pages, and the status line in brief */
    pty_expect(&t, "ch 6 - 1/2 - 2/2 1/3", 5000);
    pty_drain(&t, 200);
    check_screen(&t, 16, 44);
    pty_resize(&t, 40, 120);
    pty_expect(&t, "section 2 of 2", 5000);
    pty_drain(&t, 200);
    check_screen(&t, 40, 120);
    pty_send(&t, "q");
    finish(&t, 0);
}

/* q leaves from every kind of screen, and the terminal comes back. */
static void test_q_from_everywhere(void **state)
{
    (void)state;
    /* the keys that lead to each screen, and a word on it; '|' waits for
     * a demo to end (keys pressed while it runs are thrown away) */
    static const struct {
        const char *keys, *see;
    } where[] = {
        { "", NULL },                           /* a section */
        { "\r ", "(page 2 of 2)" },             /* the second screenful of one */
        { "\r  |", NULL },                      /* a demo's output, and its status */
        { "\r  |\r", "Takeaway of the demo" },  /* a takeaway */
        { "\r  |\rs", "source select" },        /* the source */
        { "\r  |\rnn", "End of chapter 6" },    /* the end */
    };
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        struct pty t;
        start_walk(&t, "6", "--from-start");
        pty_expect(&t, "Alpha section", 5000);
        for (const char *k = where[i].keys; *k; k++) {
            char key[2] = { *k, 0 };
            if (*k == '|') {
                pty_expect(&t, "r again", 10000);
                continue;
            }
            pty_send(&t, key);
            pty_drain(&t, 100);
        }
        if (where[i].see)
            pty_expect(&t, where[i].see, 10000);
        pty_send(&t, "q");
        finish(&t, 0);
    }
}

/* SIGTERM on a page and SIGHUP during a demo: the walk dies of the signal
 * (after the demo's threads are joined) and gives the terminal back. */
static void test_signals_restore_terminal(void **state)
{
    (void)state;
#if defined(__SANITIZE_THREAD__)
    /* TSan defers signals to its own moment and can leave them blocked
     * when a handler raises one (google/sanitizers#1855): a SIGTERM then
     * never arrives.  The walk is single-threaded; the plain and ASan
     * suites test this */
    skip();
#endif
    struct pty t;
    start_walk(&t, "6", "--from-start");
    pty_expect(&t, "Alpha section", 5000);
    kill(t.pid, SIGTERM);
    finish(&t, 128 + SIGTERM);

    start_walk(&t, "first", NULL);
    pty_expect(&t, "Alpha section", 5000);
    pty_send(&t, "r");
    pty_expect(&t, "run select with", 5000);
    pty_send(&t, "one-ms=5000 two-ms=5000\r");
    pty_expect(&t, "operation two: started", 5000);
    kill(t.pid, SIGHUP);
    pty_expect(&t, "Cancelled after", 5000);
    finish(&t, 128 + SIGHUP);
}

/* `walk 6` goes on where the class stopped; --from-start does not. */
static void test_resume(void **state)
{
    (void)state;
    struct pty t;
    start_walk(&t, "6", "--from-start");
    pty_expect(&t, "section 1 of 2", 5000);
    pty_send(&t, "\r");
    pty_expect(&t, "section 2 of 2", 5000);
    pty_send(&t, "q");
    pty_expect(&t, "goes on from here", 5000);
    finish(&t, 0);

    start_walk(&t, "6", NULL);
    pty_expect(&t, "section 2 of 2", 5000);
    pty_send(&t, "q");
    finish(&t, 0);

    start_walk(&t, "6", "--from-start");
    pty_expect(&t, "section 1 of 2", 5000);
    pty_send(&t, "q");
    finish(&t, 0);
}

/* The last line of the screen: the status line. */
static char *status_line(const struct pty *t)
{
    char **lines;
    int n = pty_screen_lines(t, &lines);
    char *last = strdup(n > 0 ? lines[n - 1] : "");
    free(lines[0]);
    free(lines);
    assert_non_null(last);
    for (size_t k = strlen(last); k > 0 && last[k - 1] == ' '; k--)
        last[k - 1] = '\0';
    return last;
}

/* Does the status line end with exactly these key hints? */
static void expect_hints(struct pty *t, const char *hints)
{
    pty_drain(t, 200);
    char *line = status_line(t);
    size_t n = strlen(line), k = strlen(hints);
    if (n < k + 2 || strcmp(line + n - k, hints) != 0 || line[n - k - 1] != ' ')
        fail_msg("the status line is \"%s\", want it to end with \"%s\"", line, hints);
    free(line);
}

/* Ctrl-C in the source view goes back to the walk, as on a page: it
 * never ends the walk. */
static void test_ctrl_c_in_source(void **state)
{
    (void)state;
    struct pty t;
    start_walk(&t, "first", NULL);
    pty_expect(&t, "section 1 of 2", 5000);
    pty_send(&t, "s");
    pty_expect(&t, "source select - lines 1-23", 5000);
    pty_send(&t, "\003");
    pty_expect(&t, "q leaves the walk", 5000);
    pty_send(&t, "\r");                                /* still walking */
    pty_expect(&t, "section 2 of 2 (page 1 of 2)", 5000);
    pty_send(&t, "q");
    pty_expect(&t, "goes on from here", 5000);
    finish(&t, 0);
}

/* Esc at the parameter prompt cancels it, as Ctrl-C does, and the walk
 * stays on the page where r was pressed. */
static void test_esc_cancels_prompt(void **state)
{
    (void)state;
    struct pty t;
    start_walk(&t, "first", NULL);
    pty_expect(&t, "section 1 of 2", 5000);
    pty_send(&t, "r");
    pty_expect(&t, "run select with", 5000);
    pty_send(&t, "\033");
    pty_expect(&t, "not run", 5000);
    pty_send(&t, "r");
    pty_expect(&t, "run select with", 5000);
    pty_send(&t, "x=1\033[A");                         /* an arrow key too */
    pty_expect(&t, "not run", 5000);
    pty_send(&t, "\r");                                /* from section 1, not the demo */
    pty_expect(&t, "section 2 of 2 (page 1 of 2)", 5000);
    if (strstr(t.seen, "expected key=value") || strstr(t.seen, "were refused"))
        fail_msg("the Esc reached the demo's parameters:\n%s", t.seen);
    pty_send(&t, "q");
    finish(&t, 0);
}

/* r and s are offered only where there is a demo; where there is none
 * they say why, in the words of the page. */
static void test_keys_without_demo(void **state)
{
    (void)state;
    struct pty t;
    start_walk(&t, "7", "--from-start");
    pty_expect(&t, "Delta introduction text.", 5000);
    pty_expect(&t, "chapter 7 - introduction", 5000);
    expect_hints(&t, "Enter next  p back  q quit");
    pty_send(&t, "r");
    pty_expect(&t, "the chapter's introduction has no demo", 5000);
    pty_send(&t, "s");
    pty_expect(&t, "the chapter's introduction has no demo, so no source", 5000);
    pty_send(&t, "\r");
    pty_expect(&t, "lesson 1 of 1 - section 1 of 1", 5000);
    expect_hints(&t, "Enter next  p back  q quit");
    pty_send(&t, "s");
    pty_expect(&t, "this lesson has no demo, so no source", 5000);
    pty_send(&t, "q");
    finish(&t, 0);

    start_walk(&t, "first", NULL);                      /* a lesson with a demo */
    pty_expect(&t, "section 1 of 2", 5000);
    expect_hints(&t, "n next p back r s q");          /* the long hints do not fit */
    pty_send(&t, "q");
    finish(&t, 0);
}

/* `progress` and `progress --json` say where a walk stopped in the
 * numbers of its status line: section 2 of 2, page 2 of 2. */
static void test_progress_place(void **state)
{
    (void)state;
    struct pty t;
    start_walk(&t, "6", "--from-start");
    pty_expect(&t, "section 1 of 2", 5000);
    pty_send(&t, "\r");
    pty_expect(&t, "section 2 of 2 (page 1 of 2)", 5000);
    pty_send(&t, " ");
    pty_expect(&t, "section 2 of 2 (page 2 of 2)", 5000);
    pty_send(&t, "q");
    finish(&t, 0);

    const char *argv[] = { ct_test_binary(), "--lessons", lessons, "progress", NULL, NULL };
    const char *env[] = { "NO_COLOR=1", "COLUMNS=80", state_env, NULL };
    struct ct_proc p;
    assert_int_equal(ct_proc_run(&p, argv, NULL, env, 60, 0), 0);
    assert_int_equal(p.status, 0);
    if (!strstr(p.out, "`walk 6` stopped at `first`, section 2 of 2 (page 2 of 2)."))
        fail_msg("progress does not say where the walk stopped:\n%s", p.out);
    ct_proc_free(&p);

    argv[4] = "--json";
    assert_int_equal(ct_proc_run(&p, argv, NULL, env, 60, 0), 0);
    assert_int_equal(p.status, 0);
    json_t *j = ct_json_parse(p.out), *w = NULL, *x;
    size_t i;
    json_array_foreach(json_object_get(j, "walks"), i, x) {
        if (json_integer_value(json_object_get(x, "chapter")) == 6)
            w = x;
    }
    assert_non_null(w);
    assert_string_equal(json_string_value(json_object_get(w, "lesson")), "first");
    assert_string_equal(json_string_value(json_object_get(w, "place")), "section");
    assert_int_equal(json_integer_value(json_object_get(w, "section")), 2);
    assert_int_equal(json_integer_value(json_object_get(w, "sections")), 2);
    assert_int_equal(json_integer_value(json_object_get(w, "page")), 2);
    assert_int_equal(json_integer_value(json_object_get(w, "pages")), 2);
    assert_true(json_is_null(json_object_get(w, "demo")));
    json_decref(j);
    ct_proc_free(&p);

    start_walk(&t, "6", NULL);                          /* goes on at that page */
    pty_expect(&t, "section 2 of 2 (page 2 of 2)", 5000);
    pty_send(&t, "q");
    finish(&t, 0);
}

/* The positions of `words` in `text`, which must come in this order. */
static void expect_in_order(const char *text, const char *const *words)
{
    const char *at = text;
    for (const char *const *w = words; *w; w++) {
        const char *hit = strstr(at, *w);
        if (!hit)
            fail_msg("\"%s\" missing, or out of order, in the handout:\n%.3000s", *w, text);
        at = hit + strlen(*w);
    }
}

/* Piped, the walk is a handout: the chapter straight through. */
static void test_piped_handout(void **state)
{
    (void)state;
    const char *argv[] = { ct_test_binary(), "--lessons", lessons, "walk", "6", NULL };
    const char *env[] = { "NO_COLOR=1", "COLUMNS=80", state_env, NULL };
    struct ct_proc p;
    assert_int_equal(ct_proc_run(&p, argv, NULL, env, 120, 0), 0);
    if (p.status != 0)
        fail_msg("walk 6 piped: exit %d\n%s", p.status, p.err);
    static const char *const order[] = {
        "Chapter 6: Test chapter\n",
        "Lesson 1 of 2: The first lesson (first)\n",
        "Alpha section", "# not a heading inside code", "Beta section", "BETA-START",
        "Line 15 of the long section.", "BETA-END",
        "Demo: select\n", "select: Racing futures", "Summary (wall time", "Checks",
        "Takeaway", "Timeline",
        "Lesson 2 of 2: The second lesson (second)\n", "Gamma section",
        "End of chapter 6.\n", NULL,
    };
    expect_in_order(p.out, order);
    assert_null(strstr(p.out, "\033"));     /* no escapes, no screen control */
    ct_proc_free(&p);
}

/* The real chapter 1 as a handout: every lesson in order, each followed
 * by its demos, each demo's output whole. */
static void test_real_chapter(void **state)
{
    (void)state;
    const char *argv[] = { ct_test_binary(), "walk", "1", NULL };
    const char *env[] = { "NO_COLOR=1", "COLUMNS=80", state_env, NULL };
    struct ct_proc p;
    assert_int_equal(ct_proc_run(&p, argv, NULL, env, 240, 0), 0);
    if (p.status != 0)
        fail_msg("walk 1 piped: exit %d\n%s", p.status, p.err);
    struct ct_ctx ctx = { .opt = { .scale = 1.0 } };
    const struct ct_library *lib = ct_ctx_lessons(&ctx, true);
    const char *order[64];
    char head[32][160];
    int n = 0, h = 0;
    order[n++] = "Chapter 1: ";
    for (int i = 0; i < lib->nlessons && n < 56; i++) {
        const struct ct_lesson *l = &lib->lessons[i];
        if (l->chapter != 1)
            continue;
        snprintf(head[h], sizeof head[h], "(%s)\n", l->id);
        order[n++] = head[h++];
        for (int d = 0; d < l->ndemos && h < 32; d++) {
            snprintf(head[h], sizeof head[h], "Demo: %s\n", l->demos[d]);
            order[n++] = head[h++];
            order[n++] = "Summary (wall time";
            order[n++] = "Takeaway";
        }
    }
    order[n++] = "End of chapter 1.";
    order[n] = NULL;
    expect_in_order(p.out, order);
    ct_ctx_free(&ctx);
    ct_proc_free(&p);
}

static int setup(void **state)
{
    (void)state;
    dir = ct_tmpdir();
    if (!dir)
        return -1;
    snprintf(state_env, sizeof state_env, "XDG_STATE_HOME=%s/state", dir);
    write_lessons();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ct_tmpdir_remove(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_resize),
        cmocka_unit_test(test_q_from_everywhere),
        cmocka_unit_test(test_signals_restore_terminal),
        cmocka_unit_test(test_resume),
        cmocka_unit_test(test_ctrl_c_in_source),
        cmocka_unit_test(test_esc_cancels_prompt),
        cmocka_unit_test(test_keys_without_demo),
        cmocka_unit_test(test_progress_place),
        cmocka_unit_test(test_piped_handout),
        cmocka_unit_test(test_real_chapter),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
