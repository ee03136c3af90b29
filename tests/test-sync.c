/* test-sync.c - demo `sync`: every read of the shared object matches the
 * checksum main computed before the readers started, each reader's own
 * logged checksum is that one, and the contents are the same every run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "util.h"
#include "wording.h"

static json_t *run_sync(const char *const *args)
{
    int code;
    json_t *j = ct_demo_json("sync", args, &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    dj_assert_checks(j);
    return j;
}

/* Every reader logged its pass count and checksum once: `reads` passes,
 * the published checksum, steady.  Returns how many readers logged. */
static int reader_lines(json_t *j, long long reads)
{
    const char *sum = dj_text(j, "checksum");
    json_t *e;
    size_t i;
    int n = 0;
    json_array_foreach(json_object_get(j, "log"), i, e) {
        const char *thread = json_string_value(json_object_get(e, "thread"));
        const char *text = json_string_value(json_object_get(e, "text"));
        long long passes;
        char hex[20], tail[20];
        if (strncmp(thread, "reader-", 7) != 0)
            continue;
        assert_int_equal(sscanf(text, "%lld reads, checksum %19s %19s", &passes, hex,
                                tail), 3);
        assert_int_equal(passes, reads);
        assert_string_equal(hex, sum);
        assert_string_equal(tail, "every");
        n++;
    }
    return n;
}

static void test_every_read_matches(void **state)
{
    (void)state;
    char first[32] = "";
    for (int round = 0; round < 10; round++) {
        json_t *j = run_sync((const char *const[]){ "threads=4", "size-kb=32", "reads=10",
                                                    NULL });
        assert_int_equal(dj_int(j, "passes"), 40);
        assert_int_equal(dj_int(j, "passes_ok"), 40);
        assert_int_equal(dj_int(j, "readers_agree"), 4);
        assert_int_equal(reader_lines(j, 10), 4);
        long long most = dj_int(j, "max_readers");
        assert_true(most >= 1 && most <= 4);
        if (round == 0)
            snprintf(first, sizeof first, "%s", dj_text(j, "checksum"));
        assert_string_equal(dj_text(j, "checksum"), first);
        json_decref(j);
    }
    /* a different size is different contents */
    json_t *j = run_sync((const char *const[]){ "threads=2", "size-kb=33", "reads=2", NULL });
    assert_string_not_equal(dj_text(j, "checksum"), first);
    assert_int_equal(reader_lines(j, 2), 2);
    json_decref(j);
}

static void test_one_reader_is_alone(void **state)
{
    (void)state;
    json_t *j = run_sync((const char *const[]){ "threads=1", "size-kb=8", "reads=20", NULL });
    assert_int_equal(dj_int(j, "max_readers"), 1);
    assert_int_equal(dj_int(j, "passes_ok"), 20);
    assert_int_equal(reader_lines(j, 20), 1);
    json_decref(j);
}

/* A count of 1 takes the singular in everything the run prints. */
static void test_one_of_each_singular(void **state)
{
    (void)state;
    const char *const nouns[] = { "read", "reader", "time", NULL };
    ct_assert_singular_after_one("sync", (const char *const[]){ "threads=1", "size-kb=1", "reads=1", NULL }, nouns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_read_matches),
        cmocka_unit_test(test_one_reader_is_alone),
        cmocka_unit_test(test_one_of_each_singular),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
