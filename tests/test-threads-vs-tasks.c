/* test-threads-vs-tasks.c - demo `threads-vs-tasks`: every thread and task
 * counted; the limits it reports are the ones this machine has, read here
 * independently; the limit it names first is the tightest in its own
 * table.  (Speed is the benchmark's business, not the test's.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static json_t *run_small(void)
{
    json_t *j = ct_demo_ok("threads-vs-tasks",
                           (const char *const[]){ "count=300", "batch=120", "reps=2", "workers=2",
                                                  "bench-tasks=3000", NULL });
    return j;
}

static long long read_sysctl(const char *path)
{
    long long v = -1;
    FILE *f = fopen(path, "r");
    if (f) {
        if (fscanf(f, "%lld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

static void test_counts_and_stack(void **state)
{
    (void)state;
    json_t *j = run_small();
    /* batches of 120, 120 and 60: the first two had 120 alive at once */
    json_t *threads = dj_row(j, "threads_vs_tasks", "kind", "OS threads");
    assert_non_null(threads);
    assert_int_equal(dj_cell_int(threads, "alive"), 120);
    assert_non_null(dj_row(j, "threads_vs_tasks", "kind", "tasks"));
    /* the stack size it reports is the default this process really has */
    pthread_attr_t attr;
    size_t stack = 0;
    assert_int_equal(pthread_getattr_default_np(&attr), 0);
    assert_int_equal(pthread_attr_getstacksize(&attr, &stack), 0);
    pthread_attr_destroy(&attr);
    assert_int_equal(dj_int(j, "thread_stack"), (long long)stack);
    /* the three executor variants, by exact name */
    assert_int_equal(json_array_size(dj_table(j, "overhead")), 3);
    assert_non_null(dj_row(j, "overhead", "variant", "multi-thread, from main"));
    assert_non_null(dj_row(j, "overhead", "variant", "multi-thread, from a task"));
    assert_non_null(dj_row(j, "overhead", "variant", "current-thread, from a task"));
    json_decref(j);
}

static void test_limits_are_this_machines(void **state)
{
    (void)state;
    json_t *j = run_small();
    assert_int_equal(dj_int(j, "max_map_count"), read_sysctl("/proc/sys/vm/max_map_count"));
    assert_int_equal(dj_int(j, "threads_max"), read_sysctl("/proc/sys/kernel/threads-max"));
    assert_int_equal(dj_int(j, "pid_max"), read_sysctl("/proc/sys/kernel/pid_max"));
    /* each thread takes at least one mapping, so fewer threads than maps */
    json_t *maps = dj_row(j, "limits", "limit", "vm.max_map_count");
    assert_non_null(maps);
    long long by_maps = dj_cell_int(maps, "allows");
    assert_true(by_maps > 0 && by_maps < dj_int(j, "max_map_count"));
    /* the limit named first is a row of the table, and no row allows fewer */
    const char *first = dj_text(j, "first_limit");
    json_t *row = dj_row(j, "limits", "limit", first);
    assert_non_null(row);
    assert_int_equal(dj_cell_int(row, "allows"), dj_int(j, "threads_allowed"));
    size_t i;
    json_array_foreach(dj_table(j, "limits"), i, row) {
        json_t *allows = json_object_get(row, "allows");
        if (json_is_integer(allows))
            assert_true(json_integer_value(allows) >= dj_int(j, "threads_allowed"));
    }
    json_decref(j);
}

/* One batch and one rep: the takeaway says so, with no "median of 1
 * batches" or "median of 1 reps", and gives no range for the ratio. */
static void test_one_batch_one_rep(void **state)
{
    (void)state;
    json_t *j = ct_demo_ok("threads-vs-tasks",
                           (const char *const[]){ "count=10", "batch=10", "reps=1", "workers=2",
                                                  "bench-tasks=100", NULL });
    const char *t = dj_takeaway(j);
    assert_non_null(strstr(t, "join (one batch), a task"));
    assert_non_null(strstr(t, " us (one rep): tasks were"));
    assert_non_null(strstr(t, "With one batch there is no spread"));
    assert_null(strstr(t, "between"));
    assert_null(strstr(t, "of 1 batches"));
    assert_null(strstr(t, "of 1 reps"));
    json_decref(j);
}

/* Several batches but one rep: still no range, and the advice names
 * the side that was measured once. */
static void test_one_rep_no_range(void **state)
{
    (void)state;
    int code;
    json_t *j = ct_demo_json("threads-vs-tasks",
                             (const char *const[]){ "count=20", "batch=10", "reps=1",
                                                    "workers=2", "bench-tasks=100", NULL },
                             &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    const char *t = dj_takeaway(j);
    assert_non_null(strstr(t, "(median of 2 batches, "));
    assert_non_null(strstr(t, "With one rep there is no spread"));
    assert_non_null(strstr(t, "raise reps= to 2 or more"));
    assert_null(strstr(t, "between"));
    json_decref(j);
}

/* Does `word` occur in `s` as a whole word (no letter or digit either
 * side)? */
static bool has_word(const char *s, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = strstr(s, word); p; p = strstr(p + 1, word)) {
        bool before = p > s && isalnum((unsigned char)p[-1]);
        bool after = isalnum((unsigned char)p[n]);
        if (!before && !after)
            return true;
    }
    return false;
}

/* With one thread the system-wide KernelStack often does not grow while
 * it starts (other programs' stacks come and go): that figure is then
 * unknown, and the output says "n/a" rather than printing "nan". */
static void test_unmeasured_is_not_nan(void **state)
{
    (void)state;
    int unmeasured = 0;
    for (int i = 0; i < 12; i++) {
        struct ct_proc p;
        assert_int_equal(ct_tutor(&p, (const char *const[]){ "run", "threads-vs-tasks",
                                                             "count=1", "batch=1", "reps=1",
                                                             "workers=1", "bench-tasks=1",
                                                             NULL }),
                         0);
        assert_int_equal(p.status, 0);
        assert_false(has_word(p.out, "nan"));
        assert_false(has_word(p.out, "+nan"));
        unmeasured += has_word(p.out, "n/a");
        ct_proc_free(&p);
    }
    if (unmeasured == 0)
        print_message("KernelStack grew every time: the n/a case was not exercised\n");
}

/* With counts of 1 every count takes the singular. */
static void test_counts_of_one_singular(void **state)
{
    (void)state;
    struct ct_proc p;
    assert_int_equal(ct_tutor(&p, (const char *const[]){ "run", "threads-vs-tasks", "count=1", "batch=1", "reps=1", "workers=1", "bench-tasks=1", NULL }), 0);
    assert_int_equal(p.status, 0);
    assert_null(strstr(p.out, " 1 threads"));
    assert_null(strstr(p.out, " 1 tasks"));
    assert_null(strstr(p.out, " 1 workers"));
    assert_null(strstr(p.out, " 1 reps"));
    assert_null(strstr(p.out, "all 1 "));
    ct_proc_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_of_one_singular),
        cmocka_unit_test(test_counts_and_stack),
        cmocka_unit_test(test_limits_are_this_machines),
        cmocka_unit_test(test_one_batch_one_rep),
        cmocka_unit_test(test_one_rep_no_range),
        cmocka_unit_test(test_unmeasured_is_not_nan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
