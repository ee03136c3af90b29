/* test-text.c - did-you-mean suggestions, display width, wrapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

static void test_distance(void **state)
{
    (void)state;
    assert_int_equal(ct_edit_distance("rwlock", "rwlock", 3), 0);
    assert_int_equal(ct_edit_distance("rwlok", "rwlock", 3), 1);
    assert_int_equal(ct_edit_distance("thraeds", "threads", 3), 1);   /* a swap */
    assert_int_equal(ct_edit_distance("RACE", "race", 3), 0);
    assert_int_equal(ct_edit_distance("abc", "xyz", 2), 3);           /* limit + 1 */
    assert_int_equal(ct_edit_distance("a", "abcdefgh", 2), 3);
}

static const char *suggest(const char *word)
{
    static const char *const names[] = { "race", "threads", "thread-return", "refcount",
                                         "rwlock", "rwlock-bench", "send-sync" };
    struct ct_suggest s;
    ct_suggest_init(&s, word);
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        ct_suggest_add(&s, names[i]);
    return ct_suggest_result(&s);
}

static void test_suggest(void **state)
{
    (void)state;
    assert_string_equal(suggest("rwlok-bench"), "rwlock-bench");
    assert_string_equal(suggest("rac"), "race");
    assert_string_equal(suggest("thread"), "threads");
    assert_string_equal(suggest("refcnt"), "refcount");
    assert_string_equal(suggest("send-snyc"), "send-sync");
    assert_null(suggest("zzzzzzzz"));
    assert_null(suggest(""));
}

static void test_width(void **state)
{
    (void)state;
    assert_int_equal(ct_text_width("hello", 5), 5);
    assert_int_equal(ct_text_width("\033[1mhi\033[0m", strlen("\033[1mhi\033[0m")), 2);
    assert_int_equal(ct_text_width("caf\xc3\xa9", 5), 4);      /* é is one column */
}

static char *wrapped(const char *text, int width, int indent)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ct_wrap(f, text, width, indent);
    fclose(f);
    return buf;
}

static void test_wrap(void **state)
{
    (void)state;
    char *s = wrapped("the quick brown fox jumps over the lazy dog", 20, 2);
    assert_string_equal(s, "  the quick brown\n  fox jumps over the\n  lazy dog\n");
    free(s);
    for (int width = 10; width < 40; width++) {
        s = wrapped("a bb ccc dddd eeeee ffffff ggggggg", width, 0);
        for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n"))
            assert_true((int)strlen(line) <= width);
        free(s);
    }
    s = wrapped("one\ntwo", 40, 0);
    assert_string_equal(s, "one\ntwo\n");
    free(s);
}

static void test_group_digits(void **state)
{
    (void)state;
    char buf[32];
    ct_group_digits(0, buf, sizeof buf);
    assert_string_equal(buf, "0");
    ct_group_digits(999, buf, sizeof buf);
    assert_string_equal(buf, "999");
    ct_group_digits(1000, buf, sizeof buf);
    assert_string_equal(buf, "1,000");
    ct_group_digits(-1234567, buf, sizeof buf);
    assert_string_equal(buf, "-1,234,567");
    ct_group_digits(-9223372036854775807LL - 1, buf, sizeof buf);
    assert_string_equal(buf, "-9,223,372,036,854,775,808");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_suggest),
        cmocka_unit_test(test_width),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_group_digits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
