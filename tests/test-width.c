/* test-width.c - everything the program prints fits the terminal.
 *
 * At widths 40, 60, 80, 100 and 132 (COLUMNS, output not a terminal) it
 * runs list, help, help for every command and demo, show for every lesson
 * and every demo with its small parameters, the classroom commands (walk
 * as a handout, source for every demo, progress, doctor, a prediction over
 * several runs), and fails on any line wider than the width.  A line is excused only when one word on it is too long
 * for any line (a path, a long identifier); those are counted and printed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "registry.h"
#include "text.h"
#include "util.h"

static const int widths[] = { 40, 60, 80, 100, 132 };
#define NWIDTHS (sizeof widths / sizeof widths[0])

static int excused;

/* The widest word of the line, in columns. */
static int widest_word(const char *line, size_t len)
{
    int best = 0;
    for (size_t i = 0; i < len;) {
        while (i < len && line[i] == ' ')
            i++;
        size_t j = i;
        while (j < len && line[j] != ' ')
            j++;
        int w = ct_text_width(line + i, j - i);
        best = w > best ? w : best;
        i = j;
    }
    return best;
}

/* Fail on the first line of `out` wider than `width`, naming the command. */
static void check_lines(const char *what, int width, const char *out)
{
    int lineno = 0;
    for (const char *p = out; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        int w = ct_text_width(p, len);
        if (w > width) {
            /* excused only if one word alone is too long for the line */
            if (widest_word(p, len) > width - 8) {
                excused++;
                fprintf(stderr, "excused at %d columns (%s, line %d): %.*s\n", width, what,
                        lineno, (int)len, p);
            } else {
                fail_msg("%s at %d columns: line %d is %d columns wide:\n%.*s", what, width,
                         lineno, w, (int)len, p);
            }
        }
        p = nl ? nl + 1 : p + len;
    }
}

/* Run the program with `args` and `input` at each width and check every
 * line; exit status 1 is accepted when `may_fail` (doctor on a machine
 * that cannot show everything). */
static void check_command_with(const char *const *args, const char *input, bool may_fail)
{
    char what[256] = "";
    for (const char *const *a = args; *a; a++) {
        strncat(what, *a, sizeof what - strlen(what) - 2);
        strcat(what, " ");
    }
    for (size_t k = 0; k < NWIDTHS; k++) {
        char columns[32];
        snprintf(columns, sizeof columns, "COLUMNS=%d", widths[k]);
        const char *env[] = { "NO_COLOR=1", "PAGER=cat", columns, NULL };
        const char *argv[48];
        int n = 0;
        argv[n++] = ct_test_binary();
        for (const char *const *a = args; *a && n < 47; a++)
            argv[n++] = *a;
        argv[n] = NULL;
        struct ct_proc p;
        assert_int_equal(ct_proc_run(&p, argv, input, env, 120, 0), 0);
        if (p.status != 0 && !(may_fail && p.status == 1))
            fail_msg("%s: exit %d\n%s", what, p.status, p.err);
        check_lines(what, widths[k], p.out);
        ct_proc_free(&p);
    }
}

static void check_command(const char *const *args)
{
    check_command_with(args, NULL, false);
}

static void test_list_and_help(void **state)
{
    (void)state;
    check_command((const char *[]){ "list", NULL });
    check_command((const char *[]){ "help", NULL });
    check_command((const char *[]){ "--help", NULL });
    for (const struct ct_command *c = ct_commands; c->name; c++) {
        if (!(c->flags & (CT_CMD_HIDDEN | CT_CMD_REPL_ONLY)))
            check_command((const char *[]){ "help", c->name, NULL });
    }
    for (size_t i = 0; i < ct_demo_count; i++)
        check_command((const char *[]){ "help", ct_demos[i]->name, NULL });
}

static void test_show_every_lesson(void **state)
{
    (void)state;
    struct ct_ctx ctx = { .opt = { .scale = 1.0 } };
    const struct ct_library *lib = ct_ctx_lessons(&ctx, true);
    assert_non_null(lib);
    for (int i = 0; i < lib->nlessons; i++)
        check_command((const char *[]){ "show", lib->lessons[i].id, NULL });
    ct_ctx_free(&ctx);
}

static void test_run_every_demo(void **state)
{
    (void)state;
    for (size_t i = 0; i < ct_demo_count; i++) {
        const struct ct_demo *d = ct_demos[i];
        char smoke[512];
        const char *args[40] = { "run", d->name };
        int n = 2;
        snprintf(smoke, sizeof smoke, "%s", d->smoke ? d->smoke : "");
        for (char *save = NULL, *w = strtok_r(smoke, " ", &save); w && n < 38;
             w = strtok_r(NULL, " ", &save))
            args[n++] = w;
        args[n] = NULL;
        check_command(args);
    }
    if (excused)
        fprintf(stderr, "%d line(s) excused for one overlong word\n", excused);
}

static void test_classroom(void **state)
{
    (void)state;
    check_command((const char *[]){ "walk", "using-the-tutor", NULL });
    for (size_t i = 0; i < ct_demo_count; i++)
        check_command((const char *[]){ "source", ct_demos[i]->name, NULL });
    check_command((const char *[]){ "source", "run", "watcher", NULL });
    check_command((const char *[]){ "source", "chan", "send", NULL });
    check_command((const char *[]){ "progress", NULL });
    check_command_with((const char *[]){ "doctor", NULL }, NULL, true);
    check_command_with((const char *[]){ "run", "race", "predict=true", "runs=3", "threads=2",
                                         "iters=20000", "rounds=1", NULL },
                       "2,500\n", false);
    check_command_with((const char *[]){ "run", "rwlock", "predict=true", "runs=2", NULL },
                       "before\n", false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_and_help),
        cmocka_unit_test(test_show_every_lesson),
        cmocka_unit_test(test_run_every_demo),
        cmocka_unit_test(test_classroom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
