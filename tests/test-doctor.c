/* test-doctor.c - `doctor` says what this machine can show: every check is
 * there with ok, warn or fail; pinned to one CPU (as taskset -c 0 does) it
 * fails the CPU check and says why; the sanitizer finding matches the
 * build; an unwritable state directory is a warning. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static json_t *doctor_json(const char *state_env, int *status)
{
    const char *argv[] = { ct_test_binary(), "doctor", "--json", NULL };
    const char *env[] = { "NO_COLOR=1", state_env, NULL };
    struct ct_proc p;
    assert_int_equal(ct_proc_run(&p, argv, NULL, env, 60, 0), 0);
    *status = p.status;
    json_t *j = ct_json_parse(p.out);
    ct_proc_free(&p);
    assert_non_null(j);
    return j;
}

/* The finding of check `name`, which must be there once. */
static json_t *finding(json_t *j, const char *name)
{
    json_t *f, *found = NULL;
    size_t i;
    json_array_foreach(json_object_get(j, "findings"), i, f) {
        if (strcmp(json_string_value(json_object_get(f, "check")), name) == 0) {
            assert_null(found);
            found = f;
        }
    }
    if (!found)
        fail_msg("doctor has no check '%s'", name);
    return found;
}

static const char *status_of(json_t *j, const char *name)
{
    return json_string_value(json_object_get(finding(j, name), "status"));
}

static void test_every_check(void **state)
{
    (void)state;
    int status;
    json_t *j = doctor_json("XDG_STATE_HOME=/tmp", &status);
    static const char *const checks[] = { "CPUs", "sanitizers", "terminal", "ulimit -n",
                                          "ulimit -u", "state dir", "load" };
    bool failed = false;
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        const char *st = status_of(j, checks[i]);
        assert_true(strcmp(st, "ok") == 0 || strcmp(st, "warn") == 0 || strcmp(st, "fail") == 0);
        failed |= strcmp(st, "fail") == 0;
        /* a warning or a failure says what to do */
        if (strcmp(st, "ok") != 0 && strcmp(checks[i], "load") != 0 &&
            !*json_string_value(json_object_get(finding(j, checks[i]), "todo")))
            fail_msg("check %s is %s but says nothing to do", checks[i], st);
    }
    assert_int_equal(status, failed ? 1 : 0);
    /* the build's sanitizer, as this test was built the same way */
    bool sanitized = false;
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
    sanitized = true;
#endif
    assert_string_equal(status_of(j, "sanitizers"), sanitized ? "warn" : "ok");
    assert_string_equal(status_of(j, "terminal"), "ok");       /* not a terminal here */
    json_decref(j);
}

/* Pinned to CPU 0, as `taskset -c 0 concur-tutor doctor` would be. */
static void test_one_cpu(void **state)
{
    (void)state;
    cpu_set_t old, one;
    assert_int_equal(sched_getaffinity(0, sizeof old, &old), 0);
    int cpu0 = 0;
    while (cpu0 < CPU_SETSIZE && !CPU_ISSET(cpu0, &old))
        cpu0++;
    CPU_ZERO(&one);
    CPU_SET(cpu0, &one);
    assert_int_equal(sched_setaffinity(0, sizeof one, &one), 0);
    int status;
    json_t *j = doctor_json("XDG_STATE_HOME=/tmp", &status);
    const char *argv[] = { ct_test_binary(), "doctor", NULL };
    const char *env[] = { "NO_COLOR=1", "COLUMNS=80", "XDG_STATE_HOME=/tmp", NULL };
    struct ct_proc p;
    assert_int_equal(ct_proc_run(&p, argv, NULL, env, 60, 0), 0);
    assert_int_equal(sched_setaffinity(0, sizeof old, &old), 0);

    assert_string_equal(status_of(j, "CPUs"), "fail");
    assert_non_null(strstr(json_string_value(json_object_get(finding(j, "CPUs"), "finding")),
                           "1 allowed to this process"));
    assert_int_equal(status, 1);
    json_decref(j);
    assert_int_equal(p.status, 1);
    assert_non_null(strstr(p.out, "  fail  CPUs"));
    assert_non_null(strstr(p.out, "give the tutor 2 or more CPUs"));
    ct_proc_free(&p);
}

static void test_unwritable_state(void **state)
{
    (void)state;
    int status;
    json_t *j = doctor_json("XDG_STATE_HOME=/dev/null/state", &status);
    assert_string_equal(status_of(j, "state dir"), "warn");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_check),
        cmocka_unit_test(test_one_cpu),
        cmocka_unit_test(test_unwritable_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
