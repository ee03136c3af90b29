/* test-refcount.c - demo `refcount`: the atomic count always ends at 1 with
 * no early free and no use after free; the racy count's figures always agree
 * with each other; on one thread even the racy count is exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "util.h"

static json_t *results(json_t *j)
{
    return json_object_get(j, "results");
}

static json_t *run_refcount(const char *const *args)
{
    int code;
    json_t *j = ct_demo_json("refcount", args, &code);
    assert_non_null(j);
    if (code != 0)
        fail_msg("refcount exited %d", code);
    return j;
}

/* Per-variant sums over the rows of the rounds table. */
struct sums {
    int rows, ok_rows;
    long long frees, uaf;
    long long min_final, max_final;
};

static struct sums check_rows(json_t *j, const char *variant)
{
    struct sums s = { 0, 0, 0, 0, 0, 0 };
    json_t *rows = json_object_get(json_object_get(j, "tables"), "rounds"), *r;
    size_t i;
    json_array_foreach(rows, i, r) {
        if (strcmp(json_string_value(json_object_get(r, "variant")), variant) != 0)
            continue;
        long long fin = dj_cell_int(r, "final"), frees = dj_cell_int(r, "frees"), uaf = dj_cell_int(r, "uaf");
        const char *verdict = json_string_value(json_object_get(r, "verdict"));
        /* what holds whatever the timing: the object is used after a free
         * only if a free happened, and the count reaches 0 or below only
         * through a drop from 1, which is a free */
        assert_true(frees >= 0 && uaf >= 0);
        if (uaf > 0)
            assert_true(frees > 0);
        if (fin <= 0)
            assert_true(frees > 0);
        const char *want = frees > 0 || fin < 1 ? "early free" : fin > 1 ? "leak" : "ok";
        assert_string_equal(verdict, want);
        if (s.rows == 0)
            s.min_final = s.max_final = fin;
        s.min_final = fin < s.min_final ? fin : s.min_final;
        s.max_final = fin > s.max_final ? fin : s.max_final;
        s.rows++;
        s.ok_rows += strcmp(verdict, "ok") == 0;
        s.frees += frees;
        s.uaf += uaf;
    }
    return s;
}

/* Every one of `rows` rounds ended at exactly 1 with nothing freed early. */
static void assert_all_exact(struct sums s, int rows)
{
    assert_int_equal(s.rows, rows);
    assert_int_equal(s.ok_rows, rows);
    assert_int_equal(s.min_final, 1);
    assert_int_equal(s.max_final, 1);
    assert_int_equal(s.frees, 0);
    assert_int_equal(s.uaf, 0);
}

static void test_atomic_always_exact(void **state)
{
    (void)state;
    for (int round = 0; round < 15; round++) {
        json_t *j = run_refcount((const char *const[]){ "threads=4", "iters=30000", "rounds=4",
                                                        "variants=arc", NULL });
        assert_all_exact(check_rows(j, "arc"), 4);
        assert_int_equal(dj_cell_int(results(j), "arc_exact_rounds"), 4);
        assert_int_equal(dj_cell_int(results(j), "arc_frees"), 0);
        assert_int_equal(dj_cell_int(results(j), "arc_uaf"), 0);
        json_decref(j);
    }
}

static void test_racy_figures_agree(void **state)
{
    (void)state;
    for (int round = 0; round < 10; round++) {
        json_t *j = run_refcount((const char *const[]){ "threads=4", "iters=30000", "rounds=3",
                                                        NULL });
        struct sums rc = check_rows(j, "rc"), arc = check_rows(j, "arc");
        assert_int_equal(rc.rows, 3);
        assert_int_equal(arc.ok_rows, 3);
        json_t *res = results(j);
        assert_int_equal(dj_cell_int(res, "rc_exact_rounds"), rc.ok_rows);
        assert_int_equal(dj_cell_int(res, "rc_frees"), rc.frees);
        assert_int_equal(dj_cell_int(res, "rc_uaf"), rc.uaf);
        assert_int_equal(dj_cell_int(res, "rc_min_final"), rc.min_final);
        assert_int_equal(dj_cell_int(res, "rc_max_final"), rc.max_final);
        /* the per-variant table adds up the rounds */
        json_t *rows = json_object_get(json_object_get(j, "tables"), "variants"), *r;
        size_t i;
        assert_int_equal(json_array_size(rows), 2);
        json_array_foreach(rows, i, r) {
            const struct sums *s = strcmp(json_string_value(json_object_get(r, "variant")),
                                          "rc") == 0 ? &rc : &arc;
            assert_int_equal(dj_cell_int(r, "frees"), s->frees);
            assert_int_equal(dj_cell_int(r, "uaf"), s->uaf);
            char ok[32];
            snprintf(ok, sizeof ok, "%d of %d", s->ok_rows, s->rows);
            assert_string_equal(json_string_value(json_object_get(r, "exact")), ok);
        }
        json_decref(j);
    }
}

static void test_one_thread_cannot_race(void **state)
{
    (void)state;
    json_t *j = run_refcount((const char *const[]){ "threads=1", "iters=200000", "rounds=3",
                                                    "variants=rc", NULL });
    assert_all_exact(check_rows(j, "rc"), 3);
    assert_null(json_object_get(results(j), "arc_frees"));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_atomic_always_exact),
        cmocka_unit_test(test_racy_figures_agree),
        cmocka_unit_test(test_one_thread_cannot_race),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
