/* test-futures.c - demo `futures`: the poll and drop counts it reports are
 * the ones a correct executor must produce, on every run; the guide's
 * TimerFuture, which never touches its waker, is detected as never woken. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "util.h"

static json_t *run_futures(const char *grace)
{
    json_t *j = ct_demo_ok("futures",
                           (const char *const[]){ "sleep-ms=10", "timer-ms=5", grace, "wake-ms=5",
                                                  NULL });
    return j;
}

static void test_poll_and_drop_counts(void **state)
{
    (void)state;
    for (int round = 0; round < 5; round++) {
        json_t *j = run_futures("grace-ms=200");
        assert_int_equal(dj_int(j, "hello_polls"), 2);     /* one per side of the await */
        assert_int_equal(dj_int(j, "fixed_polls"), 2);     /* PENDING, then woken: READY */
        assert_string_equal(dj_text(j, "fixed_outcome"), "completed");
        assert_int_equal(dj_int(j, "fixed_drops"), 1);
        assert_int_equal(dj_int(j, "remote_polls"), 2);
        json_decref(j);
    }
}

/* The guide's TimerFuture: one poll, then nothing, however long main
 * waits; the executor's shutdown drops it, once.  (The waits are long
 * enough for the fixed timer, checked in the same run, to finish.) */
static void test_guide_future_never_woken(void **state)
{
    (void)state;
    static const char *const grace[] = { "grace-ms=150", "grace-ms=400" };
    for (size_t k = 0; k < sizeof grace / sizeof grace[0]; k++) {
        json_t *j = run_futures(grace[k]);
        assert_int_equal(dj_int(j, "guide_polls"), 1);
        assert_string_equal(dj_text(j, "guide_outcome"), "never woken");
        assert_int_equal(dj_int(j, "guide_drops"), 1);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_poll_and_drop_counts),
        cmocka_unit_test(test_guide_future_never_woken),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
