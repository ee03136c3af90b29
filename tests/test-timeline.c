/* test-timeline.c - recording lanes and drawing them as ASCII. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeline.h"

#define MS 1000000LL

static char *draw(const struct ct_timeline *tl, int width, int64_t end)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ct_timeline_draw(tl, f, width, end, false);
    fclose(f);
    return buf;
}

/* The drawn row of the lane called `name`, between the bars. */
static char *row(const char *text, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "  %s", name);
    const char *p = strstr(text, key);
    assert_non_null(p);
    const char *a = strchr(p, '|'), *b = a ? strchr(a + 1, '|') : NULL;
    assert_non_null(b);
    return strndup(a + 1, (size_t)(b - a - 1));
}

static void test_lanes_and_columns(void **state)
{
    (void)state;
    struct ct_timeline tl;
    assert_int_equal(ct_timeline_init(&tl, 1000 * MS), 0);
    int a = ct_timeline_lane(&tl, "aaaa");
    int b = ct_timeline_lane(&tl, "bbbb");
    assert_int_equal(a, 0);
    assert_int_equal(b, 1);
    /* a holds for the first half; b waits, then holds the second half */
    ct_timeline_state(&tl, a, CT_HOLD, 1000 * MS);
    ct_timeline_state(&tl, a, CT_IDLE, 1050 * MS);
    ct_timeline_state(&tl, b, CT_WAIT, 1010 * MS);
    ct_timeline_state(&tl, b, CT_HOLD, 1050 * MS);
    ct_timeline_state(&tl, b, CT_IDLE, 1100 * MS);
    ct_timeline_label(&tl, CT_HOLD, "holds the lock");

    /* width 59 leaves exactly 50 columns: 2 ms each */
    char *text = draw(&tl, 59, 1100 * MS);
    char *ra = row(text, "aaaa"), *rb = row(text, "bbbb");
    char want_a[51], want_b[51];
    memset(want_a, ' ', 50);
    memset(want_a, '#', 25);
    memset(want_b, '#', 50);
    memset(want_b, ' ', 5);
    memset(want_b + 5, '.', 20);
    want_a[50] = want_b[50] = '\0';
    assert_string_equal(ra, want_a);
    assert_string_equal(rb, want_b);
    assert_non_null(strstr(text, "# holds the lock"));
    assert_non_null(strstr(text, ". waiting"));
    assert_null(strstr(text, "= running"));     /* only states that appear */
    assert_non_null(strstr(text, "1 column = 2.00 ms"));
    free(ra);
    free(rb);
    free(text);
    ct_timeline_destroy(&tl);
}

static void test_points_and_order(void **state)
{
    (void)state;
    struct ct_timeline tl;
    assert_int_equal(ct_timeline_init(&tl, 0), 0);
    int a = ct_timeline_lane(&tl, "lane");
    ct_timeline_state(&tl, a, CT_RUN, 0);
    ct_timeline_point(&tl, a, '!', 20 * MS);
    /* an out-of-order mark is clamped to the previous event's time */
    ct_timeline_state(&tl, a, CT_SLEEP, 10 * MS);
    ct_timeline_point_label(&tl, '!', "panicked");
    assert_int_equal(tl.lanes[a].ev[2].t_ns, 20 * MS);

    char *text = draw(&tl, 59, 100 * MS);   /* 50 columns of 2 ms */
    char *r = row(text, "lane");
    assert_int_equal(strlen(r), 50);
    assert_int_equal(r[0], '=');
    assert_int_equal(r[9], '=');
    assert_int_equal(r[10], '!');
    assert_int_equal(r[11], '~');
    assert_int_equal(r[49], '~');
    assert_non_null(strstr(text, "! panicked"));
    free(r);
    free(text);
    ct_timeline_destroy(&tl);
}

/* A state covering a third of a column beats idle (idle counts half). */
static void test_short_holds_show(void **state)
{
    (void)state;
    struct ct_timeline tl;
    assert_int_equal(ct_timeline_init(&tl, 0), 0);
    int a = ct_timeline_lane(&tl, "lane");
    for (int c = 0; c < 50; c += 2) {
        ct_timeline_state(&tl, a, CT_HOLD, (int64_t)c * 2 * MS);
        ct_timeline_state(&tl, a, CT_IDLE, (int64_t)c * 2 * MS + MS * 7 / 10);
    }
    ct_timeline_state(&tl, a, CT_IDLE, 100 * MS);   /* the window ends here */
    char *text = draw(&tl, 59, 100 * MS);
    char *r = row(text, "lane");
    for (int c = 0; c < 50; c++)
        assert_int_equal(r[c], c % 2 == 0 ? '#' : ' ');
    free(r);
    free(text);
    ct_timeline_destroy(&tl);
}

/* Only the stretch with events is drawn: a timeline recorded in the middle
 * of a long run fills the width, and the axis says where it lies. */
static void test_window(void **state)
{
    (void)state;
    struct ct_timeline tl;
    assert_int_equal(ct_timeline_init(&tl, 0), 0);
    int a = ct_timeline_lane(&tl, "lane");
    ct_timeline_state(&tl, a, CT_HOLD, 500 * MS);
    ct_timeline_state(&tl, a, CT_WAIT, 550 * MS);
    ct_timeline_state(&tl, a, CT_IDLE, 600 * MS);
    char *text = draw(&tl, 59, 1000 * MS);
    char *r = row(text, "lane");
    for (int c = 0; c < 50; c++)
        assert_int_equal(r[c], c < 25 ? '#' : '.');
    assert_non_null(strstr(text, "500 ms"));
    assert_non_null(strstr(text, "600 ms"));
    free(r);
    free(text);
    ct_timeline_destroy(&tl);
}

/* A run shorter than 1 ms gets a window of the run, not 1 ms of times that
 * never happened: the axis ends where the run did. */
static void test_window_inside_run(void **state)
{
    (void)state;
    struct ct_timeline tl;
    assert_int_equal(ct_timeline_init(&tl, 0), 0);
    int a = ct_timeline_lane(&tl, "lane");
    ct_timeline_state(&tl, a, CT_WAIT, 140 * 1000);
    ct_timeline_state(&tl, a, CT_HOLD, 180 * 1000);
    ct_timeline_state(&tl, a, CT_IDLE, 200 * 1000);
    int64_t lo, hi;
    ct_timeline_window(&tl, 300 * 1000, &lo, &hi);
    assert_int_equal(lo, 0);
    assert_int_equal(hi, 300 * 1000);
    char *text = draw(&tl, 59, 300 * 1000);
    assert_non_null(strstr(text, "0.30 ms\n"));
    assert_null(strstr(text, "1.14 ms"));
    free(text);
    /* a longer run keeps the 1 ms floor, still inside the run */
    ct_timeline_window(&tl, 5 * MS, &lo, &hi);
    assert_int_equal(lo, 140 * 1000);
    assert_int_equal(hi, 1140 * 1000);
    ct_timeline_destroy(&tl);
}

/* A lock held for microseconds, at the very end of the window, is still
 * drawn: the writer of `rwlock write-ms=0` is seen holding the lock. */
static void test_brief_hold_drawn(void **state)
{
    (void)state;
    struct ct_timeline tl;
    assert_int_equal(ct_timeline_init(&tl, 0), 0);
    int a = ct_timeline_lane(&tl, "writer");
    int b = ct_timeline_lane(&tl, "reader");
    ct_timeline_state(&tl, a, CT_WAIT, 0);
    ct_timeline_state(&tl, a, CT_HOLD, 2 * MS);
    ct_timeline_state(&tl, a, CT_IDLE, 2 * MS + 1000);
    /* a wait as brief is noise, not drawn */
    ct_timeline_state(&tl, b, CT_WAIT, 0);
    ct_timeline_state(&tl, b, CT_SHARED, 1000);
    ct_timeline_state(&tl, b, CT_IDLE, 1 * MS);
    char *text = draw(&tl, 59, 2 * MS + 1000);
    char *ra = row(text, "writer"), *rb = row(text, "reader");
    assert_non_null(strchr(ra, '#'));
    assert_int_equal(ra[strlen(ra) - 1], '#');    /* where it happened */
    assert_null(strchr(rb, '.'));
    assert_non_null(strstr(text, "# holding"));
    free(ra);
    free(rb);
    free(text);
    ct_timeline_destroy(&tl);
}

/* Lanes but no events: one line, no empty axis. */
static void test_no_events(void **state)
{
    (void)state;
    struct ct_timeline tl;
    assert_int_equal(ct_timeline_init(&tl, 0), 0);
    ct_timeline_lane(&tl, "idle");
    char *text = draw(&tl, 59, 1 * MS);
    assert_non_null(strstr(text, "Timeline: no thread recorded"));
    assert_null(strchr(text, '|'));
    /* one line, nothing after it */
    assert_int_equal(strcspn(text, "\n") + 1, strlen(text));
    free(text);
    ct_timeline_destroy(&tl);
}

static void test_lane_limit(void **state)
{
    (void)state;
    struct ct_timeline tl;
    assert_int_equal(ct_timeline_init(&tl, 0), 0);
    for (int i = 0; i < CT_TL_MAX_LANES; i++)
        assert_int_equal(ct_timeline_lane(&tl, "x"), i);
    assert_true(ct_timeline_lane(&tl, "one too many") < 0);
    /* marks on a lane that does not exist are ignored, not a crash */
    ct_timeline_state(&tl, -1, CT_RUN, 0);
    ct_timeline_state(&tl, CT_TL_MAX_LANES, CT_RUN, 0);
    ct_timeline_destroy(&tl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lanes_and_columns),
        cmocka_unit_test(test_points_and_order),
        cmocka_unit_test(test_short_holds_show),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_window_inside_run),
        cmocka_unit_test(test_brief_hold_drawn),
        cmocka_unit_test(test_no_events),
        cmocka_unit_test(test_lane_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
