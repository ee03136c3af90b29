/* test-html.c - `run DEMO --html FILE` for every demo: the page is
 * well-formed (every element closed and nested, attributes quoted, text
 * escaped), refers to nothing outside itself, and shows what the same
 * run's JSON holds: the checks, the tables, the takeaway, one timeline
 * lane per lane with events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "run.h"
#include "util.h"

static char *dir;

/* ---- a small XML well-formedness checker ------------------------------ */

static bool name_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_' || c == ':' || c == '.';
}

/* An entity at p ("&amp;", "&#183;"): its length, or 0 if it is none. */
static size_t entity(const char *p)
{
    static const char *const named[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&apos;" };
    for (size_t i = 0; i < 5; i++) {
        if (strncmp(p, named[i], strlen(named[i])) == 0)
            return strlen(named[i]);
    }
    if (p[1] == '#') {
        size_t n = strspn(p + 2, "0123456789");
        if (n > 0 && p[2 + n] == ';')
            return n + 3;
    }
    return 0;
}

/* NULL if `s` is well-formed, else what is wrong (a static string). */
static const char *xml_problem(const char *s, char *where, size_t wn)
{
    char stack[64][32];
    int depth = 0;
    const char *p = s;
    if (strncmp(p, "<!DOCTYPE html>", 15) == 0)
        p += 15;
    while (*p) {
        snprintf(where, wn, "%.60s", p);
        if (*p == '&') {
            size_t n = entity(p);
            if (!n)
                return "a bare '&'";
            p += n;
        } else if (*p == '>') {
            return "a bare '>'";
        } else if (*p != '<') {
            p++;
        } else if (p[1] == '/') {
            const char *q = p + 2;
            size_t n = 0;
            while (name_char(q[n]))
                n++;
            if (depth == 0 || strlen(stack[depth - 1]) != n || strncmp(stack[depth - 1], q, n))
                return "a closing tag that does not match";
            depth--;
            if (q[n] != '>')
                return "junk in a closing tag";
            p = q + n + 1;
        } else {
            const char *q = p + 1;
            size_t n = 0;
            while (name_char(q[n]))
                n++;
            if (n == 0 || n >= 32)
                return "a bare '<' or a bad tag name";
            char name[32];
            snprintf(name, sizeof name, "%.*s", (int)n, q);
            q += n;
            /* attributes: name="value", the value free of '<' */
            for (;;) {
                q += strspn(q, " \n\t");
                if (*q == '>' || (*q == '/' && q[1] == '>'))
                    break;
                size_t an = 0;
                while (name_char(q[an]))
                    an++;
                if (an == 0 || q[an] != '=' || q[an + 1] != '"')
                    return "an attribute that is not name=\"value\"";
                const char *end = strchr(q + an + 2, '"');
                if (!end || memchr(q, '<', (size_t)(end - q)))
                    return "an unclosed attribute value";
                for (const char *a = q + an + 2; a < end; a++) {
                    if (*a == '&' && !entity(a))
                        return "a bare '&' in an attribute";
                }
                q = end + 1;
            }
            if (*q == '/') {
                p = q + 2;          /* <meta .../> */
            } else {
                if (depth == 64)
                    return "nested too deep";
                snprintf(stack[depth++], 32, "%s", name);
                p = q + 1;
                if (strcmp(name, "style") == 0) {
                    const char *end = strstr(p, "</style>");
                    if (!end || memchr(p, '<', (size_t)(end - p)))
                        return "a '<' inside the style sheet";
                    p = end;
                }
            }
        }
    }
    return depth == 0 ? NULL : "an element left open";
}

/* Anything that would make a browser fetch something. */
/* A reference that would make the browser fetch something: looked for in
 * the markup (tags and their attributes) and in style sheets, not in the
 * page's text, where a log line may well mention "http://127.0.0.1:...". */
static const char *external_reference(const char *s)
{
    static const char *const in_tags[] = {
        "http:", "https:", "ftp:", "file:", "src=", "href=", "<script", "<link", "<img",
        "<iframe", "<object", "<embed", "url(", "xlink", "//",
    };
    static const char *const in_style[] = { "url(", "@import", "http:", "https:" };
    for (const char *p = s; (p = strchr(p, '<'));) {
        const char *end = strchr(p, '>');
        if (!end)
            return "an unclosed tag";
        size_t len = (size_t)(end - p + 1);
        char *tag = strndup(p, len);
        const char *hit = NULL;
        for (size_t i = 0; !hit && i < sizeof in_tags / sizeof in_tags[0]; i++)
            hit = strstr(tag, in_tags[i]) ? in_tags[i] : NULL;
        bool style = strncmp(tag, "<style", 6) == 0;
        free(tag);
        if (hit)
            return hit;
        p = end + 1;
        if (style) {
            const char *close = strstr(p, "</style>");
            char *css = strndup(p, close ? (size_t)(close - p) : strlen(p));
            for (size_t i = 0; !hit && i < sizeof in_style / sizeof in_style[0]; i++)
                hit = strstr(css, in_style[i]) ? in_style[i] : NULL;
            free(css);
            if (hit)
                return hit;
        }
    }
    return NULL;
}

/* `text` as the page writes it (escaped). */
static bool page_has(const char *page, const char *text)
{
    char *esc = malloc(strlen(text) * 6 + 1);
    size_t o = 0;
    for (const char *p = text; *p; p++) {
        const char *e = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;"
                        : *p == '"' ? "&quot;" : NULL;
        if (e) {
            strcpy(esc + o, e);
            o += strlen(e);
        } else {
            esc[o++] = *p;
        }
    }
    esc[o] = '\0';
    bool found = strstr(page, esc) != NULL;
    free(esc);
    return found;
}

static int count(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

/* Run `d` with its smoke parameters (and `extra`), writing the page and
 * the JSON; check one against the other. */
static void check_demo(const struct ct_demo *d, const char *extra, const char *answers)
{
    char path[600], smoke[512], where[80];
    snprintf(path, sizeof path, "%s/%s.html", dir, d->name);
    char *argv[40];
    int argc = 0;
    snprintf(smoke, sizeof smoke, "%s %s", d->smoke ? d->smoke : "", extra ? extra : "");
    for (char *save = NULL, *w = strtok_r(smoke, " ", &save); w && argc < 38;
         w = strtok_r(NULL, " ", &save))
        argv[argc++] = w;
    argv[argc] = NULL;
    char *json = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&json, &len);
    FILE *in = fmemopen((void *)answers, strlen(answers) + 1, "r");
    struct ct_run_opts o = {
        .out = out, .json = true, .scale = 1.0, .width = 80, .self = ct_test_binary(),
        .progname = "concur-tutor", .html = path, .in = in,
    };
    int code = ct_demo_exec(d, argc, argv, &o);
    fclose(out);
    fclose(in);
    if (code != 0)
        fail_msg("%s: exit %d", d->name, code);
    json_t *j = ct_json_parse(json);
    free(json);
    assert_non_null(j);

    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *page = calloc(1, 1 << 23);
    fread(page, 1, (1 << 23) - 1, f);
    fclose(f);

    const char *why = xml_problem(page, where, sizeof where);
    if (why)
        fail_msg("%s: the page is not well-formed: %s, at: %s", d->name, why, where);
    const char *ext = external_reference(page);
    if (ext)
        fail_msg("%s: the page refers outside itself (%s)", d->name, ext);

    assert_true(page_has(page, d->title));
    assert_true(page_has(page, d->intro));
    json_t *c, *lane;
    size_t i;
    json_array_foreach(json_object_get(j, "checks"), i, c) {
        if (!page_has(page, json_string_value(json_object_get(c, "what"))))
            fail_msg("%s: check '%s' is not on the page", d->name,
                     json_string_value(json_object_get(c, "what")));
    }
    assert_int_equal(count(page, "<span class=\"ok\">") + count(page, "<span class=\"fail\">"),
                     (int)json_array_size(json_object_get(j, "checks")));
    /* the takeaway, paragraph by paragraph */
    char *take = strdup(json_string_value(json_object_get(j, "takeaway")));
    for (char *save = NULL, *para = strtok_r(take, "\n", &save); para;
         para = strtok_r(NULL, "\n", &save)) {
        if (!page_has(page, para))
            fail_msg("%s: a takeaway paragraph is not on the page: %s", d->name, para);
    }
    free(take);
    /* one lane name per timeline lane, in the timeline's SVG */
    size_t lanes = json_array_size(json_object_get(j, "timeline"));
    const char *tl = strstr(page, "<h2>Timeline</h2>");
    assert_true((lanes > 0) == (tl != NULL));
    json_array_foreach(json_object_get(j, "timeline"), i, lane) {
        char text[128];
        snprintf(text, sizeof text, "text-anchor=\"end\">%s</text>",
                 json_string_value(json_object_get(lane, "lane")));
        if (!strstr(tl, text))
            fail_msg("%s: lane %s is not in the timeline", d->name,
                     json_string_value(json_object_get(lane, "lane")));
    }
    if (json_object_get(j, "repeats"))
        assert_non_null(strstr(page, "<h2>Over "));
    if (json_object_get(j, "prediction"))
        assert_non_null(strstr(page, "<h2>Prediction</h2>"));
    json_decref(j);
    free(page);
}

static void test_every_demo(void **state)
{
    (void)state;
    for (size_t i = 0; i < ct_demo_count; i++)
        check_demo(ct_demos[i], NULL, "");
}

static void test_prediction_and_runs(void **state)
{
    (void)state;
    check_demo(ct_demo_find("race"), "predict=true runs=3", "100\n");
    check_demo(ct_demo_find("rwlock"), "predict=true", "after\n");
}

/* The checker itself catches what it must. */
static void test_checker(void **state)
{
    (void)state;
    char where[80];
    assert_null(xml_problem("<p>a &amp; b<br/></p>", where, sizeof where));
    assert_non_null(xml_problem("<p>a & b</p>", where, sizeof where));
    assert_non_null(xml_problem("<p><b>x</p></b>", where, sizeof where));
    assert_non_null(xml_problem("<p class=x>y</p>", where, sizeof where));
    assert_non_null(xml_problem("<p>", where, sizeof where));
    assert_non_null(external_reference("<img src=\"a.png\"/>"));
    assert_non_null(external_reference("<style>x{background:url(a.png)}</style>"));
    assert_non_null(external_reference("<style>@import 'a.css';</style>"));
    assert_non_null(external_reference("<a href=\"#x\">x</a>"));
    /* a log line that mentions an address is text, not a reference */
    assert_null(external_reference("<pre>listening on http://127.0.0.1:80 // here</pre>"));
}

/* A file that cannot be written: refused before the run (a long run must
 * not end in "cannot write"), as a usage error naming the path and why. */
static void test_unwritable_page(void **state)
{
    (void)state;
    const char *argv[] = { ct_test_binary(), "run", "select", "--html", "/dev/null/x.html", NULL };
    struct ct_proc p;
    assert_int_equal(ct_proc_run(&p, argv, NULL, NULL, 60, 0), 0);
    assert_int_equal(p.status, 2);
    assert_int_equal(p.out_len, 0);
    char *err = ct_unwrap(p.err);
    assert_non_null(strstr(err, "--html /dev/null/x.html: Not a directory"));
    free(err);
    ct_proc_free(&p);
    /* --html goes with run only */
    const char *list[] = { ct_test_binary(), "list", "--html", "x.html", NULL };
    assert_int_equal(ct_proc_run(&p, list, NULL, NULL, 60, 0), 0);
    assert_int_equal(p.status, 2);
    ct_proc_free(&p);
}

static int setup(void **state)
{
    (void)state;
    dir = ct_tmpdir();
    return dir ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ct_tmpdir_remove(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checker),
        cmocka_unit_test(test_every_demo),
        cmocka_unit_test(test_prediction_and_runs),
        cmocka_unit_test(test_unwritable_page),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
