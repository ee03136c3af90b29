/* params.c - see params.h. */
#include "params.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "text.h"

CT_PRINTF(3, 4)
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

bool ct_choice_word(const char *choices, int idx, char *buf, size_t n)
{
    const char *p = choices;
    for (int i = 0; p && *p; i++) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (i == idx) {
            snprintf(buf, n, "%.*s", (int)len, p);
            return true;
        }
        p = end ? end + 1 : NULL;
    }
    return false;
}

/* Index of `word` (of length len) in the choices list, or -1. */
static int choice_index(const char *choices, const char *word, size_t len)
{
    char w[64];
    for (int i = 0; ct_choice_word(choices, i, w, sizeof w); i++) {
        if (strlen(w) == len && strncmp(w, word, len) == 0)
            return i;
    }
    return -1;
}

/* "a, b, c" for messages. */
static void choices_list(const char *choices, char *buf, size_t n)
{
    char w[64];
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; ct_choice_word(choices, i, w, sizeof w) && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%s", i ? ", " : "", w);
}

static const char *suggest_choice(const char *choices, const char *word,
                                  char *store, size_t n)
{
    struct ct_suggest s;
    char w[CT_MAX_CHOICES][64];
    int count = 0;
    ct_suggest_init(&s, word);
    while (count < CT_MAX_CHOICES && ct_choice_word(choices, count, w[count], 64)) {
        ct_suggest_add(&s, w[count]);
        count++;
    }
    if (!ct_suggest_result(&s))
        return NULL;
    snprintf(store, n, "%s", ct_suggest_result(&s));
    return store;
}

/* The one accepted form of a whole number: an optional '-', then digits.
 * No blanks, no '+', no hex or octal prefixes. */
static bool parse_ll(const char *s, long long *out)
{
    const char *d = s + (*s == '-');
    if (!*d || strspn(d, "0123456789") != strlen(d))
        return false;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno)
        return false;
    *out = v;
    return true;
}

/* The one accepted form of a number: an optional '-', digits, and an
 * optional fraction ("2", "0.25", ".5", "3."), but no exponent, no hex
 * float, no blanks, no '+', no inf or nan. */
static bool parse_double(const char *s, double *out)
{
    const char *d = s + (*s == '-');
    size_t whole = strspn(d, "0123456789");
    size_t frac = d[whole] == '.' ? strspn(d + whole + 1, "0123456789") : 0;
    size_t len = whole + (d[whole] == '.' ? 1 + frac : 0);
    if (whole + frac == 0 || d[len] != '\0')
        return false;
    errno = 0;
    double v = strtod(s, NULL);
    if (errno || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* Shortest text that reads back as the same number: "0.5", "100", "1e-06". */
/* A number in the one form the parser accepts: plain decimal, no
 * exponent ("0.25", "1000000"), trailing zeros dropped. */
static void fmt_num(double v, char *buf, size_t n)
{
    snprintf(buf, n, "%.9f", v);
    char *dot = strchr(buf, '.');
    if (!dot)
        return;
    char *end = buf + strlen(buf);
    while (end > dot + 1 && end[-1] == '0')
        *--end = '\0';
    if (end == dot + 1)
        *dot = '\0';
}

/* A range bound as a user would type it: integers in full, not 1e+08. */
static void fmt_bound(const struct ct_param_spec *sp, double v, char *buf, size_t n)
{
    if (sp->type == CT_PARAM_INT)
        snprintf(buf, n, "%.0f", v);
    else
        fmt_num(v, buf, n);
}

void ct_param_range(const struct ct_param_spec *sp, char *buf, size_t n)
{
    char lo[32], hi[32], list[512];
    switch (sp->type) {
    case CT_PARAM_INT:
    case CT_PARAM_NUM:
        fmt_bound(sp, sp->min, lo, sizeof lo);
        fmt_bound(sp, sp->max, hi, sizeof hi);
        snprintf(buf, n, "%s..%s", lo, hi);
        break;
    case CT_PARAM_BOOL:
        snprintf(buf, n, "true or false");
        break;
    case CT_PARAM_CHOICE:
        choices_list(sp->choices, list, sizeof list);
        snprintf(buf, n, "one of %s", list);
        break;
    case CT_PARAM_SET:
        choices_list(sp->choices, list, sizeof list);
        snprintf(buf, n, "any of %s, or all", list);
        break;
    case CT_PARAM_TEXT:
        snprintf(buf, n, "text");
        break;
    }
}

/* Free text: any bytes but control characters, and short enough to keep. */
static int set_text(const struct ct_param_spec *sp, struct ct_param_value *v,
                    const char *text, char *err, size_t errlen)
{
    size_t len = strlen(text);
    if (len >= sizeof v->text)
        return fail(err, errlen, "%s must be at most %zu characters, got %zu", sp->name,
                    sizeof v->text - 1, len);
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
            return fail(err, errlen, "%s must not contain control characters, got %s",
                        sp->name, CT_Q(text));
    }
    memcpy(v->text, text, len + 1);
    return 0;
}

static int set_value(const struct ct_param_spec *sp, struct ct_param_value *v,
                     const char *text, char *err, size_t errlen)
{
    char lo[32], hi[32], list[256], sug[64];
    const char *s;
    fmt_bound(sp, sp->min, lo, sizeof lo);
    fmt_bound(sp, sp->max, hi, sizeof hi);

    switch (sp->type) {
    case CT_PARAM_INT: {
        long long x;
        if (!parse_ll(text, &x))
            return fail(err, errlen, "%s must be a whole number in %s..%s (digits, e.g. %s), "
                        "got %s", sp->name, lo, hi, lo, CT_Q(text));
        if ((double)x < sp->min || (double)x > sp->max)
            return fail(err, errlen, "%s must be %s..%s, got %s", sp->name,
                        lo, hi, CT_Q(text));
        v->i = x;
        return 0;
    }
    case CT_PARAM_NUM: {
        double x;
        if (!parse_double(text, &x))
            return fail(err, errlen, "%s must be a number in %s..%s (digits with an "
                        "optional fraction, e.g. %s), got %s", sp->name, lo, hi, hi, CT_Q(text));
        if (x < sp->min || x > sp->max)
            return fail(err, errlen, "%s must be %s..%s, got %s", sp->name,
                        lo, hi, CT_Q(text));
        v->d = x;
        return 0;
    }
    case CT_PARAM_BOOL:
        if (!parse_bool(text, &v->b))
            return fail(err, errlen,
                        "%s must be true or false (also yes/no, on/off, 1/0), got %s",
                        sp->name, CT_Q(text));
        return 0;
    case CT_PARAM_CHOICE: {
        int idx = choice_index(sp->choices, text, strlen(text));
        if (idx < 0) {
            choices_list(sp->choices, list, sizeof list);
            if ((s = suggest_choice(sp->choices, text, sug, sizeof sug)))
                return fail(err, errlen,
                            "%s must be one of %s; got %s (did you mean '%s'?)",
                            sp->name, list, CT_Q(text), s);
            return fail(err, errlen, "%s must be one of %s; got %s", sp->name,
                        list, CT_Q(text));
        }
        v->choice = idx;
        return 0;
    }
    case CT_PARAM_SET: {
        unsigned set = 0;
        if (strcmp(text, "all") == 0) {
            char w[64];
            for (int i = 0; i < CT_MAX_CHOICES && ct_choice_word(sp->choices, i, w, sizeof w); i++)
                set |= 1u << i;
            v->set = set;
            return 0;
        }
        for (const char *p = text;;) {
            const char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            int idx = choice_index(sp->choices, p, len);
            if (idx < 0) {
                char word[64];
                snprintf(word, sizeof word, "%.*s", (int)len, p);
                choices_list(sp->choices, list, sizeof list);
                if (len == 0)
                    return fail(err, errlen,
                                "%s: empty item in %s; accepted: %s (comma-separated), or all",
                                sp->name, CT_Q(text), list);
                if ((s = suggest_choice(sp->choices, word, sug, sizeof sug)))
                    return fail(err, errlen,
                                "%s: unknown item %s (did you mean '%s'?); accepted: %s (comma-separated), or all",
                                sp->name, CT_Q(word), s, list);
                return fail(err, errlen,
                            "%s: unknown item %s; accepted: %s (comma-separated), or all",
                            sp->name, CT_Q(word), list);
            }
            set |= 1u << idx;
            if (!end)
                break;
            p = end + 1;
        }
        v->set = set;
        return 0;
    }
    case CT_PARAM_TEXT:
        return set_text(sp, v, text, err, errlen);
    }
    return fail(err, errlen, "%s: unknown parameter type", sp->name);
}

int ct_params_defaults(struct ct_params *p, const struct ct_param_spec *spec,
                       char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->spec = spec;
    for (p->n = 0; spec && spec[p->n].name; p->n++) {
        if (p->n == CT_MAX_PARAMS)
            return fail(err, errlen, "too many parameters (at most %d)", CT_MAX_PARAMS);
        const struct ct_param_spec *sp = &spec[p->n];
        int rc = set_value(sp, &p->v[p->n], sp->def, err, errlen);
        if (rc)
            return rc;
        /* help prints the default as written and says a BOOL accepts "true
         * or false": a default of "yes" or "on" would contradict it */
        if (sp->type == CT_PARAM_BOOL && strcmp(sp->def, p->v[p->n].b ? "true" : "false") != 0)
            return fail(err, errlen, "%s: a default must be written true or false, not %s",
                        sp->name, CT_Q(sp->def));
    }
    return 0;
}

int ct_params_find(const struct ct_params *p, const char *name)
{
    for (int i = 0; i < p->n; i++) {
        if (strcmp(p->spec[i].name, name) == 0)
            return i;
    }
    return -1;
}

int ct_params_set(struct ct_params *p, const char *key, const char *value,
                  char *err, size_t errlen)
{
    int i = ct_params_find(p, key);
    if (i < 0) {
        if (p->n == 0)
            return fail(err, errlen, "unknown parameter %s; this demo takes none", CT_Q(key));
        char list[512];
        size_t off = 0;
        struct ct_suggest s;
        ct_suggest_init(&s, key);
        for (int j = 0; j < p->n && off < sizeof list; j++) {
            ct_suggest_add(&s, p->spec[j].name);
            off += (size_t)snprintf(list + off, sizeof list - off, "%s%s",
                                    j ? ", " : "", p->spec[j].name);
        }
        if (ct_suggest_result(&s))
            return fail(err, errlen,
                        "unknown parameter %s (did you mean '%s'?); accepted: %s",
                        CT_Q(key), ct_suggest_result(&s), list);
        return fail(err, errlen, "unknown parameter %s; accepted: %s", CT_Q(key), list);
    }
    if (p->v[i].given)
        return fail(err, errlen, "%s given twice", key);
    if (*value == '\0')
        return fail(err, errlen, "%s needs a value, e.g. %s=%s", key, key,
                    p->spec[i].def);
    int rc = set_value(&p->spec[i], &p->v[i], value, err, errlen);
    if (rc == 0)
        p->v[i].given = true;
    return rc;
}

int ct_params_parse(struct ct_params *p, int argc, char **argv, char *err,
                    size_t errlen)
{
    for (int a = 0; a < argc; a++) {
        const char *arg = argv[a];
        char key[64];
        const char *value;
        const char *eq;

        if (strncmp(arg, "--", 2) == 0) {
            arg += 2;
            if ((eq = strchr(arg, '='))) {
                value = eq + 1;
            } else {
                int i = ct_params_find(p, arg);
                bool next_is_value = a + 1 < argc && strncmp(argv[a + 1], "--", 2) != 0 &&
                                     !strchr(argv[a + 1], '=');
                if (i >= 0 && p->spec[i].type == CT_PARAM_BOOL && !next_is_value) {
                    value = "true";
                } else if (i >= 0 && a + 1 >= argc) {
                    return fail(err, errlen, "--%s needs a value, e.g. --%s %s",
                                arg, arg, p->spec[i].def);
                } else if (i >= 0) {
                    value = argv[++a];
                } else {
                    value = "";     /* let ct_params_set name the unknown key */
                }
            }
        } else if ((eq = strchr(arg, '='))) {
            value = eq + 1;
        } else {
            return fail(err, errlen,
                        "expected key=value, got %s (try 'help run' for the form)",
                        CT_Q(arg));
        }
        size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);
        if (klen == 0)
            return fail(err, errlen, "missing parameter name in %s", CT_Q(argv[a]));
        if (klen >= sizeof key)
            return fail(err, errlen, "unknown parameter %s", CT_Q(arg));
        memcpy(key, arg, klen);
        key[klen] = '\0';
        int rc = ct_params_set(p, key, value, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

void ct_params_format(const struct ct_params *p, int i, char *buf, size_t n)
{
    const struct ct_param_spec *sp = &p->spec[i];
    const struct ct_param_value *v = &p->v[i];
    switch (sp->type) {
    case CT_PARAM_INT:
        snprintf(buf, n, "%lld", v->i);
        break;
    case CT_PARAM_NUM:
        fmt_num(v->d, buf, n);
        break;
    case CT_PARAM_BOOL:
        snprintf(buf, n, "%s", v->b ? "true" : "false");
        break;
    case CT_PARAM_CHOICE:
        ct_choice_word(sp->choices, v->choice, buf, n);
        break;
    case CT_PARAM_SET: {
        char w[64];
        size_t off = 0;
        buf[0] = '\0';
        for (int c = 0; c < CT_MAX_CHOICES && ct_choice_word(sp->choices, c, w, sizeof w); c++) {
            if ((v->set & (1u << c)) && off < n)
                off += (size_t)snprintf(buf + off, n - off, "%s%s", off ? "," : "", w);
        }
        break;
    }
    case CT_PARAM_TEXT:
        snprintf(buf, n, "%s", v->text);
        break;
    }
}

void ct_params_json(const struct ct_params *p, struct ct_json *j)
{
    char w[64];
    ct_json_object_begin(j);
    for (int i = 0; i < p->n; i++) {
        const struct ct_param_spec *sp = &p->spec[i];
        const struct ct_param_value *v = &p->v[i];
        ct_json_key(j, sp->name);
        switch (sp->type) {
        case CT_PARAM_INT:
            ct_json_int(j, v->i);
            break;
        case CT_PARAM_NUM:
            ct_json_num(j, v->d);
            break;
        case CT_PARAM_BOOL:
            ct_json_bool(j, v->b);
            break;
        case CT_PARAM_CHOICE:
            ct_choice_word(sp->choices, v->choice, w, sizeof w);
            ct_json_str(j, w);
            break;
        case CT_PARAM_SET:
            ct_json_array_begin(j);
            for (int c = 0; c < CT_MAX_CHOICES && ct_choice_word(sp->choices, c, w, sizeof w); c++) {
                if (v->set & (1u << c))
                    ct_json_str(j, w);
            }
            ct_json_array_end(j);
            break;
        case CT_PARAM_TEXT:
            ct_json_str(j, v->text);
            break;
        }
    }
    ct_json_object_end(j);
}

const struct ct_param_spec ct_runner_params[] = {
    { "predict", CT_PARAM_BOOL, "false", 0, 0, NULL,
      "ask the class the demo's question first, then compare (demos with a question)" },
    { "runs", CT_PARAM_INT, "1", 1, 500, NULL,
      "run the demo this many times and draw the spread of its result" },
    CT_PARAMS_END,
};

/* The spec of `extra` that names the parameter `arg` sets, or NULL. */
static const struct ct_param_spec *extra_spec(const struct ct_param_spec *extra,
                                              const char *arg)
{
    const char *key = strncmp(arg, "--", 2) == 0 ? arg + 2 : arg;
    size_t klen = strcspn(key, "=");
    if (key == arg && key[klen] != '=')
        return NULL;        /* neither key=value nor --key */
    for (const struct ct_param_spec *sp = extra; sp->name; sp++) {
        if (strlen(sp->name) == klen && strncmp(sp->name, key, klen) == 0)
            return sp;
    }
    return NULL;
}

void ct_params_split(const struct ct_param_spec *extra, int argc, char **argv, char **mine,
                     int *nmine, char **rest, int *nrest)
{
    *nmine = *nrest = 0;
    for (int a = 0; a < argc; a++) {
        const struct ct_param_spec *sp = extra_spec(extra, argv[a]);
        if (!sp) {
            rest[(*nrest)++] = argv[a];
            continue;
        }
        mine[(*nmine)++] = argv[a];
        /* "--runs 5": the value is the next word, as ct_params_parse reads it */
        bool bare = strncmp(argv[a], "--", 2) == 0 && !strchr(argv[a], '=');
        bool next_is_value = a + 1 < argc && strncmp(argv[a + 1], "--", 2) != 0 &&
                             !strchr(argv[a + 1], '=');
        if (bare && next_is_value)
            mine[(*nmine)++] = argv[++a];
    }
}
