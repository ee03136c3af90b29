/* wording.h - checks on the words a demo prints, for its test.
 *
 * ct_plural_after_one(text, nouns) finds "1 NOUNs" on one line of `text`
 * (runs of spaces count as one): a count of 1 takes the singular.  Lines
 * are taken one by one, since a summary's label and the value below it
 * are not one sentence; give it a takeaway from the JSON report, which is
 * not wrapped, to check sentences whole.  `nouns` is a NULL-terminated
 * list of singular nouns.  Returns the offending noun, or NULL. */
#ifndef CT_TEST_WORDING_H
#define CT_TEST_WORDING_H

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* `text` with every run of spaces and tabs made one space (caller frees);
 * newlines are kept. */
static inline char *ct_squash_space(const char *text)
{
    char *out = malloc(strlen(text) + 1);
    size_t o = 0;
    for (const char *p = text; out && *p; p++) {
        if (*p == ' ' || *p == '\t') {
            if (o > 0 && out[o - 1] != ' ' && out[o - 1] != '\n')
                out[o++] = ' ';
        } else {
            out[o++] = *p;
        }
    }
    if (out)
        out[o] = '\0';
    return out;
}

static inline const char *ct_plural_after_one(const char *text, const char *const *nouns)
{
    char *flat = ct_squash_space(text);
    const char *bad = NULL;
    for (const char *p = flat; p && !bad && (p = strstr(p, "1 ")) != NULL; p++) {
        /* "1" must be a word of its own: not "21", "0.1" or "reads=1" */
        if (p > flat && p[-1] != ' ' && p[-1] != '\n' && p[-1] != '(')
            continue;
        const char *w = p + 2;
        for (int i = 0; nouns[i] && !bad; i++) {
            size_t n = strlen(nouns[i]);
            if (strncmp(w, nouns[i], n) == 0 && w[n] == 's' && !isalpha((unsigned char)w[n + 1]))
                bad = nouns[i];
        }
    }
    free(flat);
    return bad;
}

/* The same over a JSON report's takeaway and checks, whole sentences. */
static inline const char *ct_report_plural_after_one(json_t *j, const char *const *nouns)
{
    const char *t = json_string_value(json_object_get(j, "takeaway"));
    const char *bad = t ? ct_plural_after_one(t, nouns) : NULL;
    json_t *c;
    size_t i;
    json_array_foreach(json_object_get(j, "checks"), i, c) {
        const char *what = json_string_value(json_object_get(c, "what"));
        if (!bad && what)
            bad = ct_plural_after_one(what, nouns);
    }
    return bad;
}

/* Run `demo` with `params` twice, as a user sees it (text) and as a
 * report (JSON), and fail the test on any "1 NOUNs" in either.  Needs
 * cmocka and util.h included before this header. */
static inline void ct_assert_singular_after_one(const char *demo, const char *const *params,
                                                const char *const *nouns)
{
    const char *args[32] = { "run", demo };
    int n = 2;
    for (; params[n - 2] && n < 31; n++)
        args[n] = params[n - 2];
    args[n] = NULL;
    struct ct_proc p;
    assert_int_equal(ct_tutor(&p, args), 0);
    assert_int_equal(p.status, 0);
    const char *bad = ct_plural_after_one(p.out, nouns);
    if (bad)
        fail_msg("'1 %ss' in:\n%s", bad, p.out);
    ct_proc_free(&p);
    int code;
    json_t *j = ct_demo_json(demo, params, &code);
    assert_int_equal(code, 0);
    bad = ct_report_plural_after_one(j, nouns);
    if (bad)
        fail_msg("'1 %ss' in the takeaway or checks", bad);
    json_decref(j);
}

#endif
