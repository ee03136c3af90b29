/* test-send.c - demo `send`: every parcel reaches the thread it was made
 * for (the address main printed is the one that thread took), arrives whole,
 * is freed once by that thread, and main keeps no handle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "util.h"

#define MAX 16

static json_t *run_send(int threads)
{
    char arg[32];
    snprintf(arg, sizeof arg, "threads=%d", threads);
    int code;
    json_t *j = ct_demo_json("send", (const char *const[]){ arg, NULL }, &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    dj_assert_checks(j);
    return j;
}

/* From the log: the address main made parcel k at, and the one the thread
 * send-k took; each must be logged exactly once and be the same. */
static void assert_moves_match(json_t *j, int threads)
{
    char made[MAX + 1][32] = { { 0 } }, took[MAX + 1][32] = { { 0 } };
    json_t *e;
    size_t i;
    json_array_foreach(json_object_get(j, "log"), i, e) {
        const char *thread = json_string_value(json_object_get(e, "thread"));
        const char *text = json_string_value(json_object_get(e, "text"));
        int k;
        char addr[32];
        if (strcmp(thread, "main") == 0 &&
            sscanf(text, "made parcel %d at %31s", &k, addr) == 2) {
            assert_true(k >= 1 && k <= threads);
            assert_int_equal(made[k][0], 0);
            addr[strcspn(addr, ";")] = '\0';
            snprintf(made[k], sizeof made[k], "%s", addr);
        } else if (sscanf(thread, "send-%d", &k) == 1 && sscanf(text, "took %31s", addr) == 1) {
            assert_true(k >= 1 && k <= threads);
            assert_int_equal(took[k][0], 0);
            snprintf(took[k], sizeof took[k], "%s", addr);
        }
    }
    for (int k = 1; k <= threads; k++) {
        assert_true(made[k][0] != 0);
        assert_string_equal(made[k], took[k]);
    }
}

static void test_every_parcel_moves_once(void **state)
{
    (void)state;
    for (int round = 0; round < 20; round++) {
        int threads = 1 + round % MAX;
        json_t *j = run_send(threads);
        long long parcels = dj_int(j, "parcels");
        assert_int_equal(parcels, threads);
        assert_int_equal(dj_int(j, "freed"), parcels);
        assert_int_equal(dj_int(j, "intact"), parcels);
        assert_int_equal(dj_int(j, "handles_left"), 0);
        assert_moves_match(j, threads);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_parcel_moves_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
