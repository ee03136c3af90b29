/* test-commands.c - the command table's pure parts: splitting lines,
 * global options, and what TAB completion offers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "registry.h"

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
    assert_int_equal(ct_split_line(open, argv, 7), -1);
}

static void test_parse_options(void **state)
{
    (void)state;
    struct ct_options opt = { .scale = 1.0 };
    const char *dir = NULL;
    char info = 0;
    char *argv[] = { "prog", "run", "--json", "race", "--scale=0.5", "threads=2",
                     "--lessons", "d", "--", "--json", NULL };
    int argc = 10;
    assert_int_equal(ct_parse_options(&argc, argv, &opt, &dir, &info), 0);
    assert_true(opt.json);
    assert_true(opt.scale == 0.5);
    assert_string_equal(dir, "d");
    assert_int_equal(argc, 6);
    assert_string_equal(argv[1], "run");
    assert_string_equal(argv[2], "race");
    assert_string_equal(argv[3], "threads=2");
    assert_string_equal(argv[4], "--");
    assert_string_equal(argv[5], "--json");     /* after --, left alone */
}

/* The candidates offered for `line`, sorted into one string. */
static char *complete(const char *line, bool repl)
{
    struct ct_library lib;
    char err[256];
    assert_int_equal(ct_library_load_embedded(&lib, err, sizeof err), 0);
    struct ct_ctx ctx = { .lib = &lib, .repl = repl };
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
    ct_library_free(&lib);
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
                      "iters= variants= --json --scale --no-color ");
    expect_candidates("run race variants=at", true, "variants=atomic ");
    expect_candidates("run race variants=racy,m", true, "variants=racy,mutex ");
    expect_candidates("show intr", true, "intro ");
    char *chapters = complete("list ", true);
    assert_int_equal(strncmp(chapters, "1 ", 2), 0);  /* chapter numbers */
    free(chapters);
    expect_candidates("help ru", true, "run runtime ");   /* a command and a demo */
    expect_candidates("bogus x", true, "");
    /* every demo is offered after "run " */
    char *all = complete("run ", true);
    for (size_t i = 0; i < ct_demo_count; i++)
        assert_non_null(strstr(all, ct_demos[i]->name));
    free(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_line),
        cmocka_unit_test(test_parse_options),
        cmocka_unit_test(test_complete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
