/* test-channels.c - demo `channels`: the four strings arrive once each and
 * in the order sent, the receive loop ends on the sender's drop (and only
 * then), and every string is freed once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "stress.h"
#include "util.h"

/* The point glyphs recorded on timeline lane `name`, in time order. */
static void lane_points(json_t *j, const char *name, char *out, size_t n)
{
    size_t len = 0, i, e;
    json_t *lane, *ev;
    out[0] = '\0';
    json_array_foreach(json_object_get(j, "timeline"), i, lane) {
        if (strcmp(json_string_value(json_object_get(lane, "lane")), name) != 0)
            continue;
        json_array_foreach(json_object_get(lane, "events"), e, ev) {
            const char *p = json_string_value(json_object_get(ev, "point"));
            if (p && len + 1 < n) {
                out[len++] = p[0];
                out[len] = '\0';
            }
        }
    }
}

static void test_strings_arrive_in_order_then_close(void **state)
{
    (void)state;
    static const char *const words[] = { "hello", "from", "the", "thread" };
    for (int round = 0; round < CT_STRESS(10, 3); round++) {
        int code;
        json_t *j = ct_demo_json("channels", (const char *const[]){ "gap=2", NULL }, &code);
        assert_non_null(j);
        assert_int_equal(code, 0);
        assert_int_equal(dj_assert_checks(j), 4);
        /* exactly the four strings, each once, in the order they were sent */
        json_t *rows = dj_table(j, "received"), *r;
        assert_int_equal(json_array_size(rows), 4);
        size_t i;
        json_array_foreach(rows, i, r)
            assert_string_equal(dj_cell_text(r, "text"), words[i]);
        assert_int_equal(dj_int(j, "sent"), 4);
        /* main's lane: four receives, then one 'closed', nothing after */
        char pts[16];
        lane_points(j, "main", pts, sizeof pts);
        assert_string_equal(pts, "rrrrx");
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings_arrive_in_order_then_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
