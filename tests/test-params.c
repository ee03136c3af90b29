/* test-params.c - parsing and validating demo parameters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "params.h"
#include "registry.h"

static const struct ct_param_spec spec[] = {
    { "threads", CT_PARAM_INT, "4", 1, 1024, NULL, "threads" },
    { "write-pct", CT_PARAM_NUM, "5", 0, 100, NULL, "percent writes" },
    { "join", CT_PARAM_BOOL, "true", 0, 0, NULL, "join or not" },
    { "mode", CT_PARAM_CHOICE, "fast", 0, 0, "fast,slow,classic", "mode" },
    { "locks", CT_PARAM_SET, "mutex,spin", 0, 0, "mutex,rwlock,spin", "kinds" },
    CT_PARAMS_END,
};

static char err[512];

static struct ct_params fresh(void)
{
    struct ct_params p;
    assert_int_equal(ct_params_defaults(&p, spec, err, sizeof err), 0);
    return p;
}

static void test_defaults(void **state)
{
    (void)state;
    struct ct_params p = fresh();
    assert_int_equal(p.n, 5);
    assert_int_equal(p.v[0].i, 4);
    assert_true(p.v[1].d == 5.0);
    assert_true(p.v[2].b);
    assert_int_equal(p.v[3].choice, 0);
    assert_int_equal(p.v[4].set, 0x5u);     /* mutex (bit 0) and spin (bit 2) */
    for (int i = 0; i < p.n; i++)
        assert_false(p.v[i].given);
}

static void test_forms(void **state)
{
    (void)state;
    struct ct_params p = fresh();
    char *args[] = { "threads=8", "--write-pct", "2.5", "--mode=slow", "--join", "false",
                     "locks=all" };
    assert_int_equal(ct_params_parse(&p, 7, args, err, sizeof err), 0);
    assert_int_equal(p.v[0].i, 8);
    assert_true(p.v[1].d == 2.5);
    assert_false(p.v[2].b);
    assert_int_equal(p.v[3].choice, 1);
    assert_int_equal(p.v[4].set, 0x7u);
    assert_true(p.v[0].given && p.v[4].given);

    /* a bare --flag means true for a boolean */
    p = fresh();
    char *flag[] = { "join=no", };
    assert_int_equal(ct_params_parse(&p, 1, flag, err, sizeof err), 0);
    assert_false(p.v[2].b);
    p = fresh();
    char *bare[] = { "--join", "threads=2" };
    assert_int_equal(ct_params_parse(&p, 2, bare, err, sizeof err), 0);
    assert_true(p.v[2].b);
    assert_int_equal(p.v[0].i, 2);
}

/* Each bad input fails with a message containing `want`. */
static void expect_error(const char *arg, const char *want)
{
    struct ct_params p = fresh();
    char *args[] = { (char *)arg };
    err[0] = '\0';
    assert_int_not_equal(ct_params_parse(&p, 1, args, err, sizeof err), 0);
    if (!strstr(err, want))
        fail_msg("for '%s' expected a message containing \"%s\", got \"%s\"", arg, want, err);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("threads=0", "threads must be 1..1024, got '0'");
    expect_error("threads=2000", "threads must be 1..1024, got '2000'");
    expect_error("threads=abc", "threads must be a whole number in 1..1024 (digits, e.g. 1), "
                                "got 'abc'");
    /* one plain form of number, nothing lenient */
    expect_error("threads= 8", "whole number");
    expect_error("threads=+8", "whole number");
    expect_error("threads=8 ", "whole number");
    expect_error("threads=0x10", "whole number");
    expect_error("threads=010x", "whole number");
    expect_error("threads=-", "whole number");
    expect_error("write-pct=1e1", "(digits with an optional fraction, e.g. 100), got '1e1'");
    expect_error("write-pct=0x1p-6", "must be a number");
    expect_error("write-pct=+5", "must be a number");
    expect_error("write-pct= 5", "must be a number");
    expect_error("write-pct=.", "must be a number");
    expect_error("write-pct=inf", "must be a number");
    /* what is echoed back is quoted, escaped and cut */
    expect_error("threads=\033[31mred", "got '\\e[31mred'");
    expect_error("thread\n=1", "unknown parameter 'thread\\n'");
    expect_error("threads=3.5", "whole number");
    expect_error("threads=", "threads needs a value");
    expect_error("write-pct=101", "write-pct must be 0..100, got '101'");
    expect_error("write-pct=nan", "must be a number");
    expect_error("join=maybe", "join must be true or false");
    expect_error("mode=slwo", "mode must be one of fast, slow, classic; got 'slwo' (did you mean 'slow'?)");
    expect_error("mode=zzzzzz", "mode must be one of fast, slow, classic; got 'zzzzzz'");
    expect_error("locks=mutex,spinn", "unknown item 'spinn' (did you mean 'spin'?)");
    expect_error("locks=mutex,,spin", "empty item");
    expect_error("thread=3", "unknown parameter 'thread' (did you mean 'threads'?)");
    expect_error("bogus=1", "unknown parameter 'bogus'; accepted: threads, write-pct, join, mode, locks");
    expect_error("fast", "expected key=value, got 'fast'");
    expect_error("=3", "missing parameter name");
    expect_error("--threads", "--threads needs a value");
}

static void test_number_forms(void **state)
{
    (void)state;
    static const struct { const char *arg; double want; } ok[] = {
        { "write-pct=5", 5 }, { "write-pct=2.5", 2.5 }, { "write-pct=.5", 0.5 },
        { "write-pct=3.", 3 }, { "write-pct=0", 0 }, { "write-pct=100.000", 100 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct ct_params p = fresh();
        char *args[] = { (char *)ok[i].arg };
        if (ct_params_parse(&p, 1, args, err, sizeof err) != 0)
            fail_msg("%s refused: %s", ok[i].arg, err);
        assert_true(p.v[1].d == ok[i].want);
    }
    /* a long value is cut in the message, not echoed whole */
    char big[2000] = "threads=";
    memset(big + 8, '7', sizeof big - 9);
    big[sizeof big - 1] = '\0';
    expect_error(big, "...'");
    assert_true(strlen(err) < 200);
}

static void test_given_twice(void **state)
{
    (void)state;
    struct ct_params p = fresh();
    char *args[] = { "threads=2", "threads=3" };
    assert_int_not_equal(ct_params_parse(&p, 2, args, err, sizeof err), 0);
    assert_non_null(strstr(err, "threads given twice"));
}

static void test_format_round_trip(void **state)
{
    (void)state;
    struct ct_params p = fresh(), q = fresh();
    char *args[] = { "threads=16", "write-pct=0.5", "join=off", "mode=classic", "locks=rwlock,spin" };
    assert_int_equal(ct_params_parse(&p, 5, args, err, sizeof err), 0);
    for (int i = 0; i < p.n; i++) {
        char buf[128];
        ct_params_format(&p, i, buf, sizeof buf);
        assert_int_equal(ct_params_set(&q, spec[i].name, buf, err, sizeof err), 0);
    }
    assert_memory_equal(&p.v[0].i, &q.v[0].i, sizeof p.v[0].i);
    assert_true(p.v[1].d == q.v[1].d);
    assert_int_equal(p.v[2].b, q.v[2].b);
    assert_int_equal(p.v[3].choice, q.v[3].choice);
    assert_int_equal(p.v[4].set, q.v[4].set);
}

/* TEXT: any printable text up to the limit, kept as given, round-trips. */
static void test_text(void **state)
{
    (void)state;
    static const struct ct_param_spec tspec[] = {
        { "db", CT_PARAM_TEXT, "temp", 0, 0, NULL, "a path" },
        CT_PARAMS_END,
    };
    struct ct_params p, q;
    assert_int_equal(ct_params_defaults(&p, tspec, err, sizeof err), 0);
    assert_string_equal(p.v[0].text, "temp");
    char *args[] = { "db=/tmp/a b/c=d.db" };
    assert_int_equal(ct_params_parse(&p, 1, args, err, sizeof err), 0);
    assert_string_equal(p.v[0].text, "/tmp/a b/c=d.db");
    char buf[CT_PARAM_TEXT_MAX];
    ct_params_format(&p, 0, buf, sizeof buf);
    assert_int_equal(ct_params_defaults(&q, tspec, err, sizeof err), 0);
    assert_int_equal(ct_params_set(&q, "db", buf, err, sizeof err), 0);
    assert_string_equal(q.v[0].text, p.v[0].text);

    char bad[] = "db=a\tb";
    bad[4] = '\t';
    char *ctl[] = { bad };
    assert_int_equal(ct_params_defaults(&p, tspec, err, sizeof err), 0);
    assert_int_not_equal(ct_params_parse(&p, 1, ctl, err, sizeof err), 0);
    assert_non_null(strstr(err, "control characters"));
    char big[CT_PARAM_TEXT_MAX + 8] = "db=";
    memset(big + 3, 'x', CT_PARAM_TEXT_MAX);
    big[3 + CT_PARAM_TEXT_MAX] = '\0';
    char *longer[] = { big };
    assert_int_equal(ct_params_defaults(&p, tspec, err, sizeof err), 0);
    assert_int_not_equal(ct_params_parse(&p, 1, longer, err, sizeof err), 0);
    assert_non_null(strstr(err, "at most 255 characters"));
}

/* `help` shows a default as written next to "true or false": a BOOL
 * default spelled yes/on would contradict it, so the spec is refused (and
 * test_registry_specs holds every demo to it). */
static void test_bool_default_spelling(void **state)
{
    (void)state;
    static const struct ct_param_spec yes[] = {
        { "robust", CT_PARAM_BOOL, "yes", 0, 0, NULL, "robust" },
        CT_PARAMS_END,
    };
    static const struct ct_param_spec off[] = {
        { "jitter", CT_PARAM_BOOL, "off", 0, 0, NULL, "jitter" },
        CT_PARAMS_END,
    };
    struct ct_params p;
    assert_int_not_equal(ct_params_defaults(&p, yes, err, sizeof err), 0);
    assert_non_null(strstr(err, "robust: a default must be written true or false"));
    assert_int_not_equal(ct_params_defaults(&p, off, err, sizeof err), 0);
    assert_non_null(strstr(err, "jitter:"));
    /* users may still type any spelling */
    assert_int_equal(ct_params_defaults(&p, spec, err, sizeof err), 0);
    assert_int_equal(ct_params_set(&p, "join", "off", err, sizeof err), 0);
    assert_false(p.v[2].b);
}

/* Every registered demo's defaults and smoke parameters must parse. */
static void test_registry_specs(void **state)
{
    (void)state;
    for (size_t i = 0; i < ct_demo_count; i++) {
        const struct ct_demo *d = ct_demos[i];
        struct ct_params p;
        if (ct_params_defaults(&p, d->params, err, sizeof err) != 0)
            fail_msg("demo %s: bad default: %s", d->name, err);
        char smoke[512], *words[32];
        int n = 0;
        snprintf(smoke, sizeof smoke, "%s", d->smoke ? d->smoke : "");
        for (char *save = NULL, *w = strtok_r(smoke, " ", &save); w && n < 32;
             w = strtok_r(NULL, " ", &save))
            words[n++] = w;
        if (ct_params_parse(&p, n, words, err, sizeof err) != 0)
            fail_msg("demo %s: bad smoke parameters: %s", d->name, err);
        for (int k = 0; k < p.n; k++) {
            if (!d->params[k].help || !*d->params[k].help)
                fail_msg("demo %s: parameter %s has no help", d->name, d->params[k].name);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_bool_default_spelling),
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_number_forms),
        cmocka_unit_test(test_given_twice),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_registry_specs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
