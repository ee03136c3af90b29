/* test-lessons.c - lesson files: parsing, errors, rendering, and that the
 * built-in lessons cover every demo. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lessons.h"
#include "registry.h"
#include "render.h"
#include "text.h"
#include "util.h"

static char err[1024];

static const char good[] =
    "::: chapter 1\n"
    "title: Introduction\n"
    "summary: First things\n"
    ":::\n"
    "Chapter text.\n"
    "\n"
    "::: lesson intro\n"
    "title: The beginning\n"
    "summary: Where it starts\n"
    "demos: race\n"
    ":::\n"
    "Body of the intro.\n"
    "::: lesson second-one\n"
    "title: Second\n"
    "summary: More\n"
    ":::\n"
    "Second body.\n";

static void test_parse_good(void **state)
{
    (void)state;
    struct ct_library lib = { 0 };
    assert_int_equal(ct_library_parse(&lib, "x.md", good, err, sizeof err), 0);
    ct_library_finish(&lib);
    assert_int_equal(lib.nchapters, 1);
    assert_int_equal(lib.nlessons, 2);
    assert_string_equal(lib.chapters[0].title, "Introduction");
    assert_non_null(strstr(lib.chapters[0].body, "Chapter text."));
    const struct ct_lesson *l = ct_lesson_find(&lib, "intro");
    assert_non_null(l);
    assert_int_equal(l->chapter, 1);
    assert_string_equal(l->title, "The beginning");
    assert_int_equal(l->ndemos, 1);
    assert_string_equal(l->demos[0], "race");
    assert_int_equal(l->body_len, strlen("Body of the intro.\n"));
    assert_memory_equal(l->body, "Body of the intro.\n", l->body_len);
    assert_ptr_equal(ct_lesson_for_demo(&lib, "race"), l);
    assert_string_equal(lib.lessons[1].id, "second-one");
    assert_null(ct_lesson_find(&lib, "nope"));
    ct_library_free(&lib);
}

struct bad {
    const char *text;
    const char *message;    /* the error must contain this */
};

static void test_parse_errors(void **state)
{
    (void)state;
    static const struct bad cases[] = {
        { "::: chapter 1\ntitle: A\n", "x.md:1: the chapter header opened here has no closing ':::' line" },
        { "::: chapter 1\ntitel: A\n:::\n", "x.md:2: unknown key 'titel' in the chapter header (accepted: title, summary)" },
        { "::: chapter 1\nsummary: s\n:::\n", "x.md:1: chapter 1 has no 'title:'" },
        { "::: chapter x\ntitle: A\n:::\n", "x.md:1: chapter number must be 1..99, got 'x'" },
        { "hello\n::: chapter 1\ntitle: A\n:::\n", "x.md:1: text before the first header" },
        { "::: lesson a\ntitle: A\nsummary: s\n:::\n", "x.md:1: lesson 'a' comes before the file's '::: chapter' header" },
        { "::: chapter 1\ntitle: A\n:::\n::: lesson Bad_Id\ntitle: A\nsummary: s\n:::\n", "x.md:4: lesson id 'Bad_Id' must be kebab-case" },
        { "::: chapter 1\ntitle: A\n:::\n::: lesson a\ntitle: A\n:::\n", "x.md:4: lesson 'a' has no 'summary:'" },
        { "::: chapter 1\ntitle: A\n:::\n::: lesson a\ntitle: A\ntitle: B\n:::\n", "x.md:6: 'title' given twice" },
        { "::: chapter 1\ntitle: A\n:::\n::: lesson a\ntitle A\n:::\n", "x.md:5: expected 'key: value' in the lesson header, got 'title A'" },
        { "::: chapter 1\ntitle: A\n:::\n::: lesson a\ntitle: A\nsummary: s\ndemos: rcae\n:::\n", "x.md:4: lesson 'a' lists unknown demo 'rcae'" },
        { "::: chapter 2\ntitle: A\n:::\n::: lesson a\ntitle: A\nsummary: s\ndemos: race\n:::\n", "demo 'race' belongs to chapter 1, not 2" },
        { "::: chapter 1\ntitle: A\n:::\n::: lesson a\ntitle: A\nsummary: s\n:::\n::: lesson a\ntitle: B\nsummary: s\n:::\n", "x.md:8: lesson 'a' is defined twice" },
        { "::: chapter 1\ntitle: A\n:::\n:::\n", "x.md:4: ':::' closes nothing" },
        { "::: chapter 1\ntitle: A\n:::\n::: section b\n:::\n", "x.md:4: unknown header kind 'section' (accepted: chapter, lesson)" },
        { "::: chapter 1\ntitle: A\n:::\n::: chapter 2\ntitle: B\n:::\n", "x.md:4: a second chapter header" },
        { "\n\n", "x.md: no '::: chapter N' header" },
        { "::: chapter 1\ntitle: A\nsummary:\n:::\n", "x.md:3: 'summary' has no value" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct ct_library lib = { 0 };
        err[0] = '\0';
        int rc = ct_library_parse(&lib, "x.md", cases[i].text, err, sizeof err);
        ct_library_free(&lib);
        if (rc == 0)
            fail_msg("case %zu parsed but should fail with \"%s\"", i, cases[i].message);
        if (!strstr(err, cases[i].message))
            fail_msg("case %zu: expected \"%s\", got \"%s\"", i, cases[i].message, err);
    }
}

static void test_two_files_same_chapter(void **state)
{
    (void)state;
    struct ct_library lib = { 0 };
    assert_int_equal(ct_library_parse(&lib, "a.md", good, err, sizeof err), 0);
    assert_int_not_equal(ct_library_parse(&lib, "b.md", "::: chapter 1\ntitle: X\n:::\n", err,
                                           sizeof err), 0);
    assert_non_null(strstr(err, "b.md:1: chapter 1 is defined twice"));
    ct_library_free(&lib);
}

static void test_load_dir(void **state)
{
    (void)state;
    char *dir = ct_tmpdir();
    char path[512];
    struct ct_library lib;
    assert_non_null(dir);
    assert_int_not_equal(ct_library_load_dir(&lib, dir, err, sizeof err), 0);
    assert_non_null(strstr(err, "no lesson files"));

    snprintf(path, sizeof path, "%s/01-a.md", dir);
    FILE *f = fopen(path, "w");
    fputs(good, f);
    fclose(f);
    assert_int_equal(ct_library_load_dir(&lib, dir, err, sizeof err), 0);
    assert_int_equal(lib.nlessons, 2);
    ct_library_free(&lib);

    snprintf(path, sizeof path, "%s/02-b.md", dir);
    f = fopen(path, "w");
    fputs("::: chapter 2\ntitle: B\n:::\n::: lesson x\ntitle: T\nsumary: s\n:::\n", f);
    fclose(f);
    assert_int_not_equal(ct_library_load_dir(&lib, dir, err, sizeof err), 0);
    assert_non_null(strstr(err, "02-b.md:6: unknown key 'sumary'"));

    assert_int_not_equal(ct_library_load_dir(&lib, "/nonexistent/dir", err, sizeof err), 0);
    assert_non_null(strstr(err, "/nonexistent/dir: No such file or directory"));
    ct_tmpdir_remove(dir);
}

/* The built-in lessons load, and every demo is explained by exactly one
 * lesson of its own chapter (the loader rejects duplicates). */
static void test_embedded_cover_demos(void **state)
{
    (void)state;
    struct ct_library lib;
    if (ct_library_load_embedded(&lib, err, sizeof err) != 0)
        fail_msg("built-in lessons: %s", err);
    for (size_t i = 0; i < ct_demo_count; i++) {
        const struct ct_lesson *l = ct_lesson_for_demo(&lib, ct_demos[i]->name);
        if (!l)
            fail_msg("demo %s has no lesson", ct_demos[i]->name);
        assert_non_null(ct_chapter_find(&lib, ct_demos[i]->chapter));
    }
    for (int c = 0; c < lib.nchapters; c++) {
        int lessons = 0;
        for (int i = 0; i < lib.nlessons; i++)
            lessons += lib.lessons[i].chapter == lib.chapters[c].number;
        if (lessons == 0)
            fail_msg("chapter %d has no lessons", lib.chapters[c].number);
    }
    for (int i = 0; i < lib.nlessons; i++) {
        /* no placeholder lessons: every lesson has real text */
        if (lib.lessons[i].body_len < 400)
            fail_msg("lesson %s is only %zu bytes long", lib.lessons[i].id,
                     lib.lessons[i].body_len);
    }
    ct_library_free(&lib);
}

static char *render(const char *md, int width, bool color)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct ct_render_opts o = { .width = width, .color = color, .utf8 = false };
    ct_render(f, md, strlen(md), &o);
    fclose(f);
    return buf;
}

static void test_render_blocks(void **state)
{
    (void)state;
    char *s = render("# Title\n\nSome **bold** and *soft* and `code` words.\n", 80, false);
    assert_string_equal(s, "Title\n=====\n\n  Some bold and soft and `code` words.\n");
    free(s);

    s = render("Some **bold** text\n", 80, true);
    assert_string_equal(s, "  Some \033[1mbold\033[0m text\n");
    free(s);

    /* a code line too long for the width is broken with backslash-newline
     * continuations (after a blank where one is near), which C and the
     * shell both read as one line */
    s = render("```\nint very_long_line_that_does_not_fit = 1; /* ... */\n```\n", 30, false);
    assert_string_equal(s, "    int very_long_line_that_d\\\n"
                           "    oes_not_fit = 1; /* ... \\\n"
                           "    */\n");
    free(s);
    s = render("```\nshort(line);\n```\n", 30, false);
    assert_string_equal(s, "    short(line);\n");
    free(s);

    s = render("- one two three four five six\n- seven\n", 20, false);
    assert_string_equal(s, "  - one two three\n    four five six\n  - seven\n");
    free(s);

    s = render("1. first item\n2. second\n", 80, false);
    assert_string_equal(s, "  1. first item\n  2. second\n");
    free(s);

    s = render("> quoted text\n", 80, false);
    assert_string_equal(s, "  | quoted text\n");
    free(s);

    s = render("a \\*literal\\* star and a * b\n", 80, false);
    assert_string_equal(s, "  a *literal* star and a * b\n");
    free(s);

    s = render("Para one\ncontinues.\n\nPara two.\n", 80, false);
    assert_string_equal(s, "  Para one continues.\n\n  Para two.\n");
    free(s);
}

static void test_render_table(void **state)
{
    (void)state;
    char *s = render("| Rust | C |\n|---|---|\n| `Arc` | atomic count |\n| Mutex | pthread_mutex_t |\n",
                     80, false);
    assert_string_equal(s,
                        "  Rust   C\n"
                        "  -----  ---------------\n"
                        "  `Arc`  atomic count\n"
                        "  Mutex  pthread_mutex_t\n");
    free(s);

    /* too wide: the widest column wraps, nothing exceeds the width */
    s = render("| a | b |\n|---|---|\n| x | one two three four five six seven eight nine ten |\n",
               30, false);
    for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n"))
        assert_true(strlen(line) <= 30);
    free(s);
}

static void test_render_wraps_to_width(void **state)
{
    (void)state;
    const char *md = "A paragraph with enough words in it to need several lines when the "
                     "terminal is narrow, including **bold words that span** a break.\n\n"
                     "- a list item that also needs wrapping across more than one line\n";
    for (int width = 30; width <= 80; width += 7) {
        char *s = render(md, width, true);
        for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
            if (ct_text_width(line, strlen(line)) > width)
                fail_msg("line wider than %d: '%s'", width, line);
        }
        free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_two_files_same_chapter),
        cmocka_unit_test(test_load_dir),
        cmocka_unit_test(test_embedded_cover_demos),
        cmocka_unit_test(test_render_blocks),
        cmocka_unit_test(test_render_table),
        cmocka_unit_test(test_render_wraps_to_width),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
