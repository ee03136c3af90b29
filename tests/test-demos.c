/* test-demos.c - every registered demo, each in its own process under a
 * timeout: its smoke parameters must run to exit 0 with valid JSON and
 * every check passing; and SIGINT in the middle of a default run must
 * cancel it promptly.  New demos are picked up from the registry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "util.h"

/* argv: the binary, run, the demo, its smoke parameters, extra... */
static int build_argv(const struct ct_demo *d, char *smoke, const char **argv, int max,
                      const char *extra)
{
    int n = 0;
    argv[n++] = ct_test_binary();
    argv[n++] = "run";
    argv[n++] = d->name;
    snprintf(smoke, 512, "%s", d->smoke ? d->smoke : "");
    for (char *save = NULL, *w = strtok_r(smoke, " ", &save); w && n < max - 2;
         w = strtok_r(NULL, " ", &save))
        argv[n++] = w;
    if (extra)
        argv[n++] = extra;
    argv[n] = NULL;
    return n;
}

static void test_smoke(void **state)
{
    const struct ct_demo *d = *state;
    char smoke[512];
    const char *argv[40];
    build_argv(d, smoke, argv, 40, "--json");
    static const char *const env[] = { "NO_COLOR=1", NULL };
    struct ct_proc p;
    assert_int_equal(ct_proc_run(&p, argv, NULL, env, 120, 0), 0);
    if (p.status != 0)
        fail_msg("run %s %s: exit %d\nstderr:\n%s\nstdout:\n%s", d->name, d->smoke, p.status,
                 p.err, p.out);
    json_t *j = ct_json_parse(p.out);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    assert_string_equal(json_string_value(json_object_get(j, "demo")), d->name);
    json_t *checks = json_object_get(j, "checks"), *c;
    size_t i;
    /* every demo counts at least one thing it claims */
    if (json_array_size(checks) == 0)
        fail_msg("%s: the run recorded no checks", d->name);
    json_array_foreach(checks, i, c) {
        if (!json_is_true(json_object_get(c, "ok")))
            fail_msg("%s: check failed: %s", d->name,
                     json_string_value(json_object_get(c, "what")));
    }
    /* every demo says what its numbers mean */
    assert_true(json_string_length(json_object_get(j, "takeaway")) > 0);
    json_decref(j);
    ct_proc_free(&p);
}

static void test_text_output(void **state)
{
    const struct ct_demo *d = *state;
    char smoke[512];
    const char *argv[40];
    build_argv(d, smoke, argv, 40, NULL);
    static const char *const env[] = { "NO_COLOR=1", NULL };
    struct ct_proc p;
    assert_int_equal(ct_proc_run(&p, argv, NULL, env, 120, 0), 0);
    if (p.status != 0)
        fail_msg("run %s: exit %d\n%s", d->name, p.status, p.err);
    assert_non_null(strstr(p.out, "Summary (wall time"));
    assert_non_null(strstr(p.out, "Takeaway"));
    assert_non_null(strstr(p.out, " ms] "));        /* live, stamped lines */
    assert_null(strchr(p.out, '\033'));
    ct_proc_free(&p);
}

/* SIGINT 200 ms into a default run: cancelled (130) or already done (0),
 * and either way quickly. */
static void test_sigint(void **state)
{
    const struct ct_demo *d = *state;
    const char *argv[] = { ct_test_binary(), "run", d->name, NULL };
    static const char *const env[] = { "NO_COLOR=1", NULL };
    struct ct_proc p;
    assert_int_equal(ct_proc_run(&p, argv, NULL, env, 60, 200), 0);
    if (d->flags & CT_DEMO_GRACEFUL) {
        if (p.status != 0)
            fail_msg("%s: a graceful demo should finish cleanly on Ctrl-C, exit %d\n%s",
                     d->name, p.status, p.err);
    } else if (p.status != 130 && p.status != 0) {
        fail_msg("%s: exit %d after SIGINT\n%s", d->name, p.status, p.err);
    }
    if (p.ms > 200 + 3000)
        fail_msg("%s: took %.0f ms to stop after SIGINT", d->name, p.ms - 200);
    ct_proc_free(&p);
}

int main(void)
{
    size_t n = ct_demo_count * 3;
    struct CMUnitTest *tests = calloc(n, sizeof *tests);
    char (*names)[80] = calloc(n, sizeof *names);
    if (!tests || !names)
        return 1;
    for (size_t i = 0; i < ct_demo_count; i++) {
        static void (*const fns[3])(void **) = { test_smoke, test_text_output, test_sigint };
        static const char *const kinds[3] = { "smoke", "text", "sigint" };
        for (int k = 0; k < 3; k++) {
            size_t t = i * 3 + (size_t)k;
            snprintf(names[t], sizeof names[t], "%s/%s", ct_demos[i]->name, kinds[k]);
            tests[t] = (struct CMUnitTest){ .name = names[t], .test_func = fns[k],
                                            .initial_state = (void *)ct_demos[i] };
        }
    }
    int rc = _cmocka_run_group_tests("demos", tests, n, NULL, NULL);
    free(tests);
    free(names);
    return rc;
}
