/* test-commands.c - the command table's pure parts: splitting lines,
 * global options, the JSON writer, and what TAB completion offers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "complete.h"
#include "json.h"
#include "registry.h"
#include "text.h"
#include "util.h"
#include "words.h"

static void test_split_line(void **state)
{
    (void)state;
    char *argv[8];
    char line[] = "  run  race 'a b' \"c d\"x  # comment";
    assert_int_equal(ct_split_line(line, argv, 7), 4);
    assert_string_equal(argv[0], "run");
    assert_string_equal(argv[1], "race");
    assert_string_equal(argv[2], "a b");
    assert_string_equal(argv[3], "c dx");
    assert_null(argv[4]);

    char exact[] = "list 1";        /* the last word ends at the string's end */
    assert_int_equal(ct_split_line(exact, argv, 7), 2);
    assert_string_equal(argv[1], "1");

    char empty[] = "   ";
    assert_int_equal(ct_split_line(empty, argv, 7), 0);
    char open[] = "run 'race";
    assert_int_equal(ct_split_line(open, argv, 7), -EINVAL);

    /* more words than room: an error, never a silent cut */
    char many[] = "a b c d e f g h";
    assert_int_equal(ct_split_line(many, argv, 7), -E2BIG);
    char seven[] = "a b c d e f g";
    assert_int_equal(ct_split_line(seven, argv, 7), 7);
    assert_string_equal(argv[6], "g");
    assert_null(argv[7]);
}

/* A line of 66 words ending in a bad value is refused as too long, not
 * cut at the 64th word and run. */
static void test_long_line(void **state)
{
    (void)state;
    char line[2048] = "run race iters=10";
    for (int i = 0; i < 62; i++)
        strcat(line, " threads=1");
    strcat(line, " threads=999");
    struct ct_ctx ctx = { .opt = { .scale = 1.0 } };
    assert_int_equal(ct_exec_line(&ctx, line), 2);
    ct_ctx_free(&ctx);
}

static void test_parse_options(void **state)
{
    (void)state;
    struct ct_options opt = { .scale = 1.0 };
    char *argv[] = { "prog", "run", "--json", "race", "--scale=0.5", "threads=2",
                     "--lessons", "d", "--", "--json", NULL };
    int argc = 10;
    assert_int_equal(ct_parse_options(&argc, argv, &opt, true), 0);
    assert_true(opt.json);
    assert_true(opt.scale == 0.5);
    assert_string_equal(opt.lessons_dir, "d");
    assert_int_equal(argc, 5);
    assert_string_equal(argv[1], "run");
    assert_string_equal(argv[2], "race");
    assert_string_equal(argv[3], "threads=2");
    assert_string_equal(argv[4], "--json");     /* after --, left alone */
    assert_null(argv[5]);

    /* --lessons is for start-up only; -h and --no-colour are aliases */
    struct ct_options line = { .scale = 1.0 };
    char *argv2[] = { "prog", "-h", "--no-colour", "--lessons", "d", NULL };
    argc = 5;
    assert_int_equal(ct_parse_options(&argc, argv2, &line, false), 2);
    argc = 3;
    assert_int_equal(ct_parse_options(&argc, argv2, &line, false), 0);
    assert_int_equal(line.info, 'h');
    assert_true(line.no_color);
    assert_int_equal(argc, 1);

    /* bad values name the option and the accepted range */
    char *argv3[] = { "prog", "--scale", "0", NULL };
    argc = 3;
    assert_int_equal(ct_parse_options(&argc, argv3, &line, false), 2);
    char *argv4[] = { "prog", "--lessons=", NULL };
    argc = 2;
    assert_int_equal(ct_parse_options(&argc, argv4, &line, true), 2);
}

static void test_json_writer(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    struct ct_json j;
    ct_json_init(&j, m);
    ct_json_object_begin(&j);
    ct_json_kv_str(&j, "s", "a\"b\\c\n\x01\x7f");
    ct_json_kv_int(&j, "i", -3);
    ct_json_kv_num(&j, "inf", 1.0 / 0.0);
    ct_json_key(&j, "a");
    ct_json_array_begin(&j);
    ct_json_bool(&j, true);
    ct_json_object_begin(&j);
    ct_json_object_end(&j);
    ct_json_array_begin(&j);
    ct_json_array_end(&j);
    ct_json_null(&j);
    ct_json_array_end(&j);
    ct_json_kv_str(&j, "n", NULL);
    ct_json_object_end(&j);
    ct_json_finish(&j);
    fclose(m);
    assert_string_equal(buf, "{\"s\":\"a\\\"b\\\\c\\n\\u0001\\u007f\",\"i\":-3,"
                             "\"inf\":null,\"a\":[true,{},[],null],\"n\":null}\n");
    json_t *parsed = ct_json_parse(buf);
    assert_non_null(parsed);
    assert_string_equal(json_string_value(json_object_get(parsed, "s")), "a\"b\\c\n\x01\x7f");
    json_decref(parsed);
    free(buf);
}

static void test_quote(void **state)
{
    (void)state;
    char q[80];
    assert_string_equal(ct_quote("race", q, sizeof q), "'race'");
    assert_string_equal(ct_quote("a\033[31mb\n", q, sizeof q), "'a\\e[31mb\\n'");
    assert_string_equal(ct_quote("\x01", q, sizeof q), "'\\x01'");
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ct_quote(big, q, sizeof q);
    assert_int_equal(strlen(q), 1 + 60 + 3 + 1);
    assert_string_equal(q + 61, "...'");
}

/* The candidates offered for `line`, sorted into one string. */
static char *complete(const char *line, bool repl)
{
    struct ct_ctx ctx = { .repl = repl, .opt = { .scale = 1.0 } };
    char cands[200][CT_COMPLETE_LEN];
    size_t start;
    int n = ct_complete(&ctx, line, &start, cands, 200);
    assert_true(n <= 200);
    assert_true(start <= strlen(line));
    char *out = calloc(1, 200 * CT_COMPLETE_LEN);
    for (int i = 0; i < n; i++) {
        strcat(out, cands[i]);
        strcat(out, " ");
    }
    ct_ctx_free(&ctx);
    return out;
}

static void expect_candidates(const char *line, bool repl, const char *want)
{
    char *got = complete(line, repl);
    if (strcmp(got, want) != 0)
        fail_msg("completing \"%s\": got \"%s\", want \"%s\"", line, got, want);
    free(got);
}

static void test_complete(void **state)
{
    (void)state;
    expect_candidates("li", true, "list ");
    expect_candidates("q", true, "quit ");
    expect_candidates("q", false, "");              /* quit only at the prompt */
    expect_candidates("run rac", true, "race ");
    expect_candidates("run race thr", true, "threads= ");
    expect_candidates("run race threads=2 ", true,
                      "iters= rounds= variants= predict= runs= --json --no-color --scale --html ");
    expect_candidates("run race variants=at", true, "variants=atomic ");
    expect_candidates("run race variants=racy,m", true, "variants=racy,mutex ");
    expect_candidates("show intr", true, "intro ");
    char *chapters = complete("list ", true);
    assert_int_equal(strncmp(chapters, "1 ", 2), 0);  /* chapter numbers */
    free(chapters);
    expect_candidates("help ru", true, "run runtime ");   /* a command and a demo */
    expect_candidates("bogus x", true, "");
    /* every demo is offered after "run ", as a whole word */
    char *all = complete("run ", true);
    for (size_t i = 0; i < ct_demo_count; i++) {
        char word[80];
        snprintf(word, sizeof word, " %s ", ct_demos[i]->name);
        char *spaced = calloc(1, strlen(all) + 2);
        spaced[0] = ' ';
        strcat(spaced, all);
        if (!strstr(spaced, word))
            fail_msg("'%s' is not among the demos offered: %s", ct_demos[i]->name, all);
        free(spaced);
    }
    free(all);

    /* the word under the cursor, however many words come before it */
    char line[2048] = "run race";
    for (int i = 0; i < 40; i++)
        strcat(line, " --json");
    strcat(line, " thr");
    expect_candidates(line, true, "threads= ");
}

/* The commands named after "commands: " in the message (wrapping undone)
 * are exactly those of the table a user can type there. */
static void expect_command_list(const char *err, bool repl)
{
    char *u = ct_unwrap(err);
    const char *at = strstr(u, "; commands: ");
    if (!at)
        fail_msg("no list of commands in \"%s\"", err);
    char *list = strdup(at + strlen("; commands: "));
    list[strcspn(list, "\n")] = '\0';
    size_t listed = 0;
    for (char *save = NULL, *w = strtok_r(list, ", ", &save); w; w = strtok_r(NULL, ", ", &save)) {
        const struct ct_command *c = ct_command_find(w);
        if (!c || (c->flags & CT_CMD_HIDDEN) || (!repl && (c->flags & CT_CMD_REPL_ONLY)))
            fail_msg("'%s' listed as a command in \"%s\"", w, err);
        listed++;
    }
    size_t want = 0;
    for (const struct ct_command *c = ct_commands; c->name; c++)
        want += !(c->flags & CT_CMD_HIDDEN) && (repl || !(c->flags & CT_CMD_REPL_ONLY));
    if (listed != want)
        fail_msg("%zu commands listed, the table has %zu: \"%s\"", listed, want, err);
    free(list);
    free(u);
}

/* An unknown command, or help for one, lists every command of the table. */
static void test_unknown_command_lists_all(void **state)
{
    (void)state;
    struct ct_proc p;
    assert_int_equal(ct_tutor(&p, (const char *const[]){ "frobnicate", NULL }), 0);
    assert_int_equal(p.status, 2);
    expect_command_list(p.err, false);
    ct_proc_free(&p);
    assert_int_equal(ct_tutor(&p, (const char *const[]){ "help", "nosuch", NULL }), 0);
    assert_int_equal(p.status, 2);
    expect_command_list(p.err, false);
    ct_proc_free(&p);
    /* at the prompt (here a script) quit and exit are commands too */
    const char *argv[] = { ct_test_binary(), NULL };
    assert_int_equal(ct_proc_run(&p, argv, "frobnicate\nhelp nosuch\n", NULL, 60, 0), 0);
    assert_int_equal(p.status, 2);
    expect_command_list(p.err, true);
    expect_command_list(strstr(p.err, "help: no command"), true);
    ct_proc_free(&p);
    /* a near miss still gets its suggestion */
    assert_int_equal(ct_tutor(&p, (const char *const[]){ "docter", NULL }), 0);
    assert_non_null(strstr(p.err, "(did you mean 'doctor'?)"));
    ct_proc_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_line),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_parse_options),
        cmocka_unit_test(test_json_writer),
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_complete),
        cmocka_unit_test(test_unknown_command_lists_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
