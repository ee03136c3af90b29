/* test-predict.c - predict=true and runs=N, which every demo takes: the
 * question asked, scripted answers read and compared, bad answers asked
 * again, the spread of a result over runs, and the JSON of both. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "run.h"
#include "util.h"

/* Run `demo` in this process with `answers` as its input; JSON (parsed)
 * or, with json false, the text in *text. */
static json_t *run_with(const char *demo, const char *const *args, const char *answers,
                        bool json, char **text, int *code)
{
    char *out = NULL;
    size_t len = 0;
    FILE *o = open_memstream(&out, &len);
    FILE *in = fmemopen((void *)answers, strlen(answers) + 1, "r");
    assert_non_null(o);
    assert_non_null(in);
    struct ct_run_opts opts = {
        .out = o, .json = json, .scale = 1.0, .width = 80, .self = ct_test_binary(),
        .progname = "concur-tutor", .in = in,
    };
    char *argv[32];
    int argc = 0;
    for (; args[argc] && argc < 31; argc++)
        argv[argc] = (char *)args[argc];
    argv[argc] = NULL;
    *code = ct_demo_exec(ct_demo_find(demo), argc, argv, &opts);
    fclose(o);
    fclose(in);
    json_t *j = NULL;
    if (json && len)
        j = ct_json_parse(out);
    if (text)
        *text = out;
    else
        free(out);
    return j;
}

static void test_number_answer(void **state)
{
    (void)state;
    int code;
    const char *args[] = { "threads=2", "iters=20000", "rounds=1", "predict=true", NULL };
    json_t *j = run_with("race", args, "1,000\n", true, NULL, &code);
    assert_int_equal(code, 0);
    assert_non_null(j);
    json_t *pr = json_object_get(j, "prediction");
    assert_non_null(pr);
    assert_int_equal(json_number_value(json_object_get(pr, "answer")), 1000);
    /* the question was filled in from the parameters */
    const char *q = json_string_value(json_object_get(pr, "question"));
    assert_non_null(strstr(q, "2 threads each add 1 to one counter 20,000 times"));
    assert_non_null(strstr(q, "40,000 increments"));
    /* the figure compared is the demo's own result */
    json_t *actual = json_object_get(pr, "actual");
    assert_int_equal(json_array_size(actual), 1);
    assert_int_equal((long long)json_number_value(json_array_get(actual, 0)),
                     dj_int(j, "racy_lost_first"));
    assert_non_null(strstr(json_string_value(json_object_get(pr, "verdict")), "You predicted 1,000"));
    json_decref(j);
}

static void test_choice_and_bad_answers(void **state)
{
    (void)state;
    int code;
    char *text;
    const char *args[] = { "predict=true", "hold-ms=40", "writer-at-ms=10", NULL };
    /* a word that is no answer, then a prefix of one */
    run_with("rwlock", args, "sideways\naft\n", false, &text, &code);
    assert_int_equal(code, 0);
    assert_non_null(strstr(text, "Predict: A writer waits for 5 readers"));
    assert_non_null(strstr(text, "'sideways' is not one of before or after"));
    assert_non_null(strstr(text, "Your prediction"));
    assert_non_null(strstr(text, "You predicted 'after'"));
    free(text);

    const char *two[] = { "predict=yes", "runs=2", "hold-ms=40", "writer-at-ms=10", NULL };
    json_t *j = run_with("rwlock", two, "before\n", true, NULL, &code);
    assert_int_equal(code, 0);
    json_t *pr = json_object_get(j, "prediction");
    assert_string_equal(json_string_value(json_object_get(pr, "answer")), "before");
    json_t *actual = json_object_get(pr, "actual"), *v;
    size_t i;
    long long right = 0;
    json_array_foreach(actual, i, v) {
        const char *s = json_string_value(v);
        assert_true(strcmp(s, "before") == 0 || strcmp(s, "after") == 0);
        right += strcmp(s, "before") == 0;
    }
    assert_int_equal(json_array_size(actual), 2);
    assert_int_equal(json_integer_value(json_object_get(pr, "right")), right);
    json_decref(j);
}

static void test_no_answer(void **state)
{
    (void)state;
    static const char *const inputs[] = { "\n", "" };   /* an empty line; no input at all */
    for (int k = 0; k < 2; k++) {
        int code;
        const char *args[] = { "predict=true", NULL };
        json_t *j = run_with("select", args, inputs[k], true, NULL, &code);
        assert_int_equal(code, 0);
        json_t *pr = json_object_get(j, "prediction");
        assert_true(json_is_null(json_object_get(pr, "answer")));
        assert_string_equal(json_string_value(json_object_get(pr, "verdict")), "");
        assert_true(dj_checks_ok(j));   /* the demo ran anyway */
        json_decref(j);
    }
}

/* runs=N: one figure per run, a histogram that adds up, every status. */
static void test_runs(void **state)
{
    (void)state;
    int code;
    const char *args[] = { "threads=2", "iters=20000", "rounds=1", "--runs", "4", NULL };
    json_t *j = run_with("race", args, "", true, NULL, &code);
    assert_int_equal(code, 0);
    json_t *rep = json_object_get(j, "repeats"), *v;
    assert_non_null(rep);
    assert_int_equal(json_integer_value(json_object_get(rep, "runs")), 4);
    assert_string_equal(json_string_value(json_object_get(rep, "figure")), "racy_lost_first");
    assert_int_equal(json_array_size(json_object_get(rep, "values")), 4);
    size_t i;
    json_array_foreach(json_object_get(rep, "statuses"), i, v)
        assert_string_equal(json_string_value(v), "ok");
    long long sum = 0;
    json_array_foreach(json_object_get(rep, "histogram"), i, v)
        sum += json_integer_value(json_object_get(v, "runs"));
    assert_int_equal(sum, 4);
    assert_int_equal(json_integer_value(json_object_get(rep, "checks_held")), 4);
    assert_null(json_object_get(j, "prediction"));
    json_decref(j);

    /* a demo with no question: the spread of its wall time */
    const char *sel[] = { "runs=2", NULL };
    j = run_with("join", sel, "", true, NULL, &code);
    assert_int_equal(code, 0);
    rep = json_object_get(j, "repeats");
    assert_string_equal(json_string_value(json_object_get(rep, "figure")), "wall_ms");
    json_decref(j);

    /* the text: one line per run, then the histogram */
    char *text;
    run_with("race", args, "", false, &text, &code);
    assert_non_null(strstr(text, "run 1 of 4"));
    assert_non_null(strstr(text, "run 4 of 4"));
    assert_non_null(strstr(text, "Over 4 runs"));
    assert_non_null(strstr(text, "every check held in 4 of 4 runs"));
    free(text);
}

static void test_usage(void **state)
{
    (void)state;
    int code;
    const char *q[] = { "predict=true", NULL };
    run_with("mutex", q, "1\n", true, NULL, &code);     /* asks no question */
    assert_int_equal(code, 2);
    const char *zero[] = { "runs=0", NULL };
    run_with("select", zero, "", true, NULL, &code);
    assert_int_equal(code, 2);
    const char *bad[] = { "predict=maybe", NULL };
    run_with("select", bad, "", true, NULL, &code);
    assert_int_equal(code, 2);
}

/* Every question names a result its demo records, and every placeholder
 * is filled. */
static void test_every_question(void **state)
{
    (void)state;
    for (size_t i = 0; i < ct_demo_count; i++) {
        const struct ct_demo *d = ct_demos[i];
        if (!d->predict)
            continue;
        char smoke[512];
        const char *args[40];
        int n = 0;
        snprintf(smoke, sizeof smoke, "%s", d->smoke ? d->smoke : "");
        for (char *save = NULL, *w = strtok_r(smoke, " ", &save); w && n < 37;
             w = strtok_r(NULL, " ", &save))
            args[n++] = w;
        args[n++] = "predict=true";
        args[n] = NULL;
        int code;
        json_t *j = run_with(d->name, args, d->predict->choices ? "\n" : "0\n", true, NULL, &code);
        if (code != 0)
            fail_msg("%s predict=true: exit %d", d->name, code);
        json_t *res = json_object_get(json_object_get(j, "results"), d->predict->result);
        if (!res)
            fail_msg("%s asks about result '%s', which it did not record", d->name,
                     d->predict->result);
        assert_true(d->predict->choices ? json_is_string(res) : json_is_number(res));
        const char *q = json_string_value(json_object_get(json_object_get(j, "prediction"),
                                                          "question"));
        if (strchr(q, '{'))
            fail_msg("%s: a placeholder was not filled in: %s", d->name, q);
        json_decref(j);
    }
}

/* Answers from a script read by the prompt: the line after the command. */
static void test_scripted(void **state)
{
    (void)state;
    const char *argv[] = { ct_test_binary(), NULL };
    const char *env[] = { "NO_COLOR=1", NULL };
    struct ct_proc p;
    assert_int_equal(ct_proc_run(&p, argv, "run select predict=true\ntwo\nlist 1\n", env, 60, 0),
                     0);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "your answer (one or two): two\n"));
    assert_non_null(strstr(p.out, "You predicted 'two'"));
    assert_non_null(strstr(p.out, "Introduction"));     /* the next command ran */
    ct_proc_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_number_answer),
        cmocka_unit_test(test_choice_and_bad_answers),
        cmocka_unit_test(test_no_answer),
        cmocka_unit_test(test_runs),
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_every_question),
        cmocka_unit_test(test_scripted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
