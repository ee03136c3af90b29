/* predict.c - see predict.h. */
#include "predict.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "text.h"

/* ---- the question ------------------------------------------------------ */

/* Append the value of "{...}" (the text between the braces) to buf. */
static size_t fill_placeholder(const struct ct_params *params, const char *name, size_t len,
                               char *buf, size_t n)
{
    char key[64], val[128];
    const char *star = memchr(name, '*', len);
    if (star) {
        /* "{a*b}": the product of two whole-number parameters */
        int a = -1, b = -1;
        snprintf(key, sizeof key, "%.*s", (int)(star - name), name);
        a = ct_params_find(params, key);
        snprintf(key, sizeof key, "%.*s", (int)(name + len - star - 1), star + 1);
        b = ct_params_find(params, key);
        if (a >= 0 && b >= 0 && params->spec[a].type == CT_PARAM_INT &&
            params->spec[b].type == CT_PARAM_INT) {
            ct_group_digits(params->v[a].i * params->v[b].i, val, sizeof val);
            return (size_t)snprintf(buf, n, "%s", val);
        }
        return (size_t)snprintf(buf, n, "{%.*s}", (int)len, name);
    }
    snprintf(key, sizeof key, "%.*s", (int)len, name);
    int i = ct_params_find(params, key);
    if (i < 0)
        return (size_t)snprintf(buf, n, "{%s}", key);
    if (params->spec[i].type == CT_PARAM_INT)
        ct_group_digits(params->v[i].i, val, sizeof val);
    else
        ct_params_format(params, i, val, sizeof val);
    return (size_t)snprintf(buf, n, "%s", val);
}

void ct_predict_question(const struct ct_predict *p, const struct ct_params *params,
                         char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = '\0';
    for (const char *s = p->question; *s && o + 1 < n;) {
        const char *close = *s == '{' ? strchr(s, '}') : NULL;
        if (close) {
            o += fill_placeholder(params, s + 1, (size_t)(close - s - 1), buf + o, n - o);
            if (o >= n)
                o = n - 1;
            s = close + 1;
        } else {
            buf[o++] = *s++;
            buf[o] = '\0';
        }
    }
}

/* ---- choices ------------------------------------------------------------ */

/* `s` into buf, cut to fit. */
static void copy_str(char *buf, size_t n, const char *s)
{
    size_t len = strlen(s);
    if (len >= n)
        len = n - 1;
    memcpy(buf, s, len);
    buf[len] = '\0';
}

/* Choice `idx` of "word=value,...": its word and the result it stands for. */
static bool choice_at(const char *choices, int idx, char *word, size_t wn, char *value,
                      size_t vn)
{
    char item[160];
    if (!ct_choice_word(choices, idx, item, sizeof item))
        return false;
    char *eq = strchr(item, '=');
    if (eq)
        *eq = '\0';
    copy_str(word, wn, item);
    copy_str(value, vn, eq ? eq + 1 : item);
    return true;
}

/* The word of the choice whose result text is `value`, or `value` itself. */
static const char *word_for(const char *choices, const char *value, char *buf, size_t n)
{
    char w[64], v[64];
    for (int i = 0; choice_at(choices, i, w, sizeof w, v, sizeof v); i++) {
        if (strcmp(v, value) == 0) {
            snprintf(buf, n, "%s", w);
            return buf;
        }
    }
    return value;
}

/* "before or after", "one, two or three". */
static void choices_words(const char *choices, char *buf, size_t n)
{
    char w[64], v[64];
    int count = 0;
    while (choice_at(choices, count, w, sizeof w, v, sizeof v))
        count++;
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < count && o < n; i++) {
        choice_at(choices, i, w, sizeof w, v, sizeof v);
        o += (size_t)snprintf(buf + o, n - o, "%s%s", i == 0 ? "" : i + 1 == count ? " or " : ", ",
                              w);
    }
}

/* ---- asking -------------------------------------------------------------- */

static volatile sig_atomic_t ask_interrupted;

static void on_ask_sigint(int sig)
{
    (void)sig;
    ask_interrupted = 1;
}

/* One line from `in` into buf, without its newline.  On a terminal the
 * bytes are read one by one with a SIGINT handler of our own (no
 * SA_RESTART), so that Ctrl-C ends the wait: -ECANCELED.  Elsewhere the
 * line comes through stdio, the next line of a script.  -ENODATA at the
 * end of input. */
static int read_line(FILE *in, char *buf, size_t n)
{
    int fd = fileno(in);
    if (fd < 0 || !isatty(fd)) {
        if (!fgets(buf, (int)n, in))
            return -ENODATA;
        buf[strcspn(buf, "\r\n")] = '\0';
        return 0;
    }
    struct sigaction sa = { .sa_handler = on_ask_sigint }, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    ask_interrupted = 0;
    size_t len = 0;
    int rc = 0;
    for (;;) {
        if (ask_interrupted) {
            rc = -ECANCELED;
            break;
        }
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = len ? 0 : -ENODATA;
            break;
        }
        if (c == '\n')
            break;
        if (len + 1 < n)
            buf[len++] = c;
    }
    buf[len] = '\0';
    sigaction(SIGINT, &old, NULL);
    return rc;
}

/* A number as people type it: "1,234,567", "1_000", "12.5", "-3".  */
static bool parse_number(const char *s, double *out)
{
    char clean[64];
    size_t o = 0;
    while (*s == ' ')
        s++;
    for (; *s && o + 1 < sizeof clean; s++) {
        if (*s == ',' || *s == '_' || *s == '\'')
            continue;
        if (*s == ' ') {
            if (s[strspn(s, " ")] != '\0')
                return false;
            break;
        }
        if (!strchr("0123456789.-", *s))
            return false;
        clean[o++] = *s;
    }
    clean[o] = '\0';
    char *end;
    errno = 0;
    double v = strtod(clean, &end);
    if (o == 0 || *end || errno || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* The answer `line` as a choice: an exact word, or a unique prefix. */
static bool parse_choice(const char *choices, const char *line, struct ct_answer *a)
{
    char w[64], v[64];
    int found = -1, matches = 0;
    size_t len = strlen(line);
    while (len && line[len - 1] == ' ')
        len--;
    for (int i = 0; choice_at(choices, i, w, sizeof w, v, sizeof v); i++) {
        if (strlen(w) == len && strncasecmp(w, line, len) == 0) {
            found = i;
            matches = 1;
            break;
        }
        if (len && strncasecmp(w, line, len) == 0) {
            found = i;
            matches++;
        }
    }
    if (matches != 1)
        return false;
    choice_at(choices, found, a->word, sizeof a->word, a->expect, sizeof a->expect);
    return true;
}

int ct_predict_ask(const struct ct_predict *p, const char *question, FILE *in, FILE *out,
                   int width, bool color, struct ct_answer *a)
{
    char kind[256], line[256], head[64];
    memset(a, 0, sizeof *a);
    a->number = !p->choices;
    if (p->choices)
        choices_words(p->choices, kind, sizeof kind);
    else
        snprintf(kind, sizeof kind, "a number");
    snprintf(head, sizeof head, color ? "\033[1;35mPredict:\033[0m" : "Predict:");
    char q[1200];
    snprintf(q, sizeof q, "%s (Enter without an answer skips the prediction.)", question);
    ct_wrap_item(out, head, 0, 9, q, width);
    bool echo = fileno(in) < 0 || !isatty(fileno(in));
    for (int tries = 0; tries < 5; tries++) {
        fprintf(out, "  your answer (%s): ", kind);
        fflush(out);
        int rc = read_line(in, line, sizeof line);
        if (rc == -ECANCELED) {
            fputc('\n', out);
            return rc;
        }
        if (echo)
            fprintf(out, "%s\n", rc == 0 ? line : "");
        if (rc != 0 || line[strspn(line, " ")] == '\0') {
            ct_wrap(out, "No prediction this time: the demo runs anyway.", width, 2);
            fputc('\n', out);
            return 0;
        }
        bool ok = a->number ? parse_number(line, &a->value) : parse_choice(p->choices, line, a);
        if (ok) {
            a->given = true;
            fputc('\n', out);
            fflush(out);
            return 0;
        }
        char msg[400];
        snprintf(msg, sizeof msg, "%s is not %s%s.", CT_Q(line), a->number ? "" : "one of ",
                 kind);
        ct_wrap(out, msg, width, 2);
    }
    ct_wrap(out, "No prediction this time: the demo runs anyway.", width, 2);
    fputc('\n', out);
    return 0;
}

/* ---- collecting the runs ------------------------------------------------ */

void ct_repeats_init(struct ct_repeats *r, const struct ct_predict *p)
{
    memset(r, 0, sizeof *r);
    r->predict = p;
    r->numeric = !p || !p->choices;
    snprintf(r->label, sizeof r->label, "%s", p ? p->result : "wall time ms");
}

void ct_repeats_free(struct ct_repeats *r)
{
    for (int i = 0; i < r->n; i++) {
        free(r->text[i]);
        free(r->status[i]);
    }
    free(r->num);
    free(r->text);
    free(r->status);
    memset(r, 0, sizeof *r);
}

/* The label the report gives result `key`, if any. */
static const char *result_label(const struct ct_report *rep, const char *key)
{
    struct ct_report_item it;
    for (size_t i = 0; i < ct_report_count(rep); i++) {
        ct_report_get(rep, i, &it);
        if (it.kind <= CT_ITEM_TEXT && it.key && strcmp(it.key, key) == 0)
            return it.label;
    }
    return NULL;
}

void ct_repeats_add(struct ct_repeats *r, const struct ct_report *rep, const char *status,
                    double wall_ms)
{
    if (r->n == r->cap) {
        int cap = r->cap ? r->cap * 2 : 16;
        double *num = realloc(r->num, (size_t)cap * sizeof *num);
        if (num)
            r->num = num;
        char **text = realloc(r->text, (size_t)cap * sizeof *text);
        if (text)
            r->text = text;
        char **st = realloc(r->status, (size_t)cap * sizeof *st);
        if (st)
            r->status = st;
        if (!num || !text || !st)
            return;
        r->cap = cap;
    }
    double v = NAN;
    const char *t = NULL;
    if (!r->predict) {
        v = wall_ms;
    } else if (ct_report_result(rep, r->predict->result, &v, &t)) {
        const char *label = result_label(rep, r->predict->result);
        if (label)
            snprintf(r->label, sizeof r->label, "%s", label);
    }
    int passed, checks = ct_report_checks(rep, &passed);
    r->checks_held += checks > 0 && passed == checks;
    r->num[r->n] = t ? NAN : v;
    r->text[r->n] = t ? strdup(t) : NULL;
    r->status[r->n] = strdup(status);
    r->n++;
}

/* What the figure counts, for sentences: the question's unit, else the
 * result's label. */
static const char *what(const struct ct_repeats *r)
{
    return r->predict && r->predict->unit ? r->predict->unit : r->label;
}

/* The figure of run i as text: "1,234", "0.52", "after". */
static void figure_text(const struct ct_repeats *r, int i, char *buf, size_t n)
{
    char w[64];
    if (r->text[i])
        snprintf(buf, n, "%s",
                 r->predict && r->predict->choices ? word_for(r->predict->choices, r->text[i], w,
                                                              sizeof w)
                                                   : r->text[i]);
    else if (isnan(r->num[i]))
        snprintf(buf, n, "-");
    else if (r->num[i] == floor(r->num[i]) && fabs(r->num[i]) < 1e15)
        ct_group_digits((long long)r->num[i], buf, n);
    else
        snprintf(buf, n, "%.1f", r->num[i]);
}

void ct_repeats_say(const struct ct_repeats *r, int i, int of, FILE *out, int width)
{
    char head[32], fig[64], text[256];
    snprintf(head, sizeof head, "run %*d of %d", of >= 100 ? 3 : of >= 10 ? 2 : 1, i + 1, of);
    figure_text(r, i, fig, sizeof fig);
    snprintf(text, sizeof text, "%s: %s (%s)", r->label, fig, r->status[i]);
    ct_wrap_item(out, head, 2, (int)strlen(head) + 4, text, width);
    fflush(out);
}

/* ---- the histogram ------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* "1,234" for whole numbers, "1.5" otherwise. */
static void fmt_value(double v, bool whole, char *buf, size_t n)
{
    if (whole)
        ct_group_digits((long long)llround(v), buf, n);
    else
        snprintf(buf, n, "%.1f", v);
}

static void hist_numeric(const struct ct_repeats *r, const struct ct_answer *a,
                         struct ct_hist *h)
{
    double *v = malloc((size_t)(r->n ? r->n : 1) * sizeof *v);
    int n = 0;
    bool whole = true;
    for (int i = 0; v && i < r->n; i++) {
        if (!isnan(r->num[i])) {
            v[n++] = r->num[i];
            whole &= r->num[i] == floor(r->num[i]);
        }
    }
    if (n == 0) {
        free(v);
        return;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int distinct = 1;
    for (int i = 1; i < n; i++)
        distinct += v[i] != v[i - 1];
    bool guess = a && a->given && a->number;
    double lo = v[0], hi = v[n - 1];
    if (whole && hi - lo < CT_HIST_MAX_BINS) {
        /* a few small whole numbers (a winner, a count of switches): one
         * bin per value seen */
        for (int i = 0; i < n; i++) {
            if (i > 0 && v[i] == v[i - 1]) {
                h->count[h->nbins - 1]++;
                continue;
            }
            fmt_value(v[i], whole, h->label[h->nbins], sizeof h->label[0]);
            h->count[h->nbins++] = 1;
            if (guess && a->value == v[i])
                h->guess_bin = h->nbins - 1;
        }
    } else {
        /* bins of equal width from the least to the greatest, about as
         * many as the square root of the runs */
        int nb = 1;
        while (nb * nb < n)
            nb++;
        nb = distinct < 2 ? 1 : nb + 1 < 3 ? 3 : nb + 1 > 10 ? 10 : nb + 1;
        double step = whole ? ceil((hi - lo + 1) / nb) : (hi - lo) / nb;
        h->nbins = nb;
        for (int b = 0; b < nb; b++) {
            char x[32], y[32];
            double from = lo + step * b, to = whole ? from + step - 1 : from + step;
            fmt_value(from, whole, x, sizeof x);
            fmt_value(b + 1 == nb ? hi : to, whole, y, sizeof y);
            snprintf(h->label[b], sizeof h->label[b], "%s-%s", x, y);
            if (guess && a->value >= from &&
                (b + 1 == nb ? a->value <= hi : whole ? a->value <= to : a->value < to))
                h->guess_bin = b;
        }
        for (int i = 0; i < n; i++) {
            int b = step > 0 ? (int)((v[i] - lo) / step) : 0;
            h->count[b < nb ? b : nb - 1]++;
        }
    }
    free(v);
}

static void hist_text(const struct ct_repeats *r, const struct ct_answer *a, struct ct_hist *h)
{
    char w[64], val[64];
    /* the choices first, in their order, even those no run gave */
    if (r->predict && r->predict->choices) {
        for (int i = 0; h->nbins < CT_HIST_MAX_BINS &&
                        choice_at(r->predict->choices, i, w, sizeof w, val, sizeof val); i++) {
            snprintf(h->label[h->nbins], sizeof h->label[0], "%s", w);
            if (a && a->given && strcmp(a->word, w) == 0)
                h->guess_bin = h->nbins;
            h->nbins++;
        }
    }
    for (int i = 0; i < r->n; i++) {
        if (!r->text[i])
            continue;
        figure_text(r, i, w, sizeof w);
        int b = 0;
        while (b < h->nbins && strcmp(h->label[b], w) != 0)
            b++;
        if (b == h->nbins) {
            if (h->nbins == CT_HIST_MAX_BINS)
                continue;
            snprintf(h->label[h->nbins++], sizeof h->label[0], "%s", w);
        }
        h->count[b]++;
    }
}

void ct_repeats_hist(const struct ct_repeats *r, const struct ct_answer *a, struct ct_hist *h)
{
    memset(h, 0, sizeof *h);
    h->guess_bin = -1;
    if (r->numeric)
        hist_numeric(r, a, h);
    else
        hist_text(r, a, h);
}

/* ---- verdicts ------------------------------------------------------------ */

struct spread {
    int n;
    double min, max, median;
    bool whole;
};

static bool numeric_spread(const struct ct_repeats *r, struct spread *s)
{
    double *v = malloc((size_t)(r->n ? r->n : 1) * sizeof *v);
    s->n = 0;
    s->whole = true;
    for (int i = 0; v && i < r->n; i++) {
        if (!isnan(r->num[i])) {
            v[s->n++] = r->num[i];
            s->whole &= r->num[i] == floor(r->num[i]);
        }
    }
    if (s->n > 0) {
        qsort(v, (size_t)s->n, sizeof *v, cmp_double);
        s->min = v[0];
        s->max = v[s->n - 1];
        s->median = s->n % 2 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
    }
    free(v);
    return s->n > 0;
}

static void verdict_number(const struct ct_repeats *r, const struct ct_answer *a, char *buf,
                           size_t n)
{
    struct spread s;
    char g[32], x[32], y[32], m[32], d[32];
    if (!numeric_spread(r, &s))
        return;
    fmt_value(a->value, a->value == floor(a->value), g, sizeof g);
    if (s.n == 1) {
        fmt_value(s.min, s.whole, x, sizeof x);
        double diff = fabs(s.min - a->value);
        fmt_value(diff, s.whole && a->value == floor(a->value), d, sizeof d);
        if (diff == 0) {
            snprintf(buf, n, "You predicted %s, and the run gave exactly %s (%s).", g, x,
                     what(r));
            return;
        }
        char ratio[64] = "";
        double big = s.min > a->value ? s.min : a->value;
        double small = s.min > a->value ? a->value : s.min;
        if (small > 0 && big / small >= 2)
            snprintf(ratio, sizeof ratio, ", about %.0f times %s", big / small,
                     s.min > a->value ? "the guess" : "the result");
        snprintf(buf, n, "You predicted %s; the run gave %s (%s): %s than the guess by %s%s.",
                 g, x, what(r), s.min > a->value ? "more" : "less", d, ratio);
        return;
    }
    int at_or_below = 0;
    for (int i = 0; i < r->n; i++)
        at_or_below += !isnan(r->num[i]) && r->num[i] <= a->value;
    fmt_value(s.min, s.whole, x, sizeof x);
    fmt_value(s.max, s.whole, y, sizeof y);
    fmt_value(s.median, s.whole && s.median == floor(s.median), m, sizeof m);
    const char *where = a->value < s.min   ? "below every run"
                        : a->value > s.max ? "above every run"
                                           : "inside that range";
    snprintf(buf, n,
             "You predicted %s. Over %d runs the %s ranged from %s to %s (median %s): the "
             "guess was %s, with %d of the %d runs at or below it.",
             g, s.n, what(r), x, y, m, where, at_or_below, s.n);
}

static void verdict_choice(const struct ct_repeats *r, const struct ct_answer *a, char *buf,
                           size_t n)
{
    int seen = 0, right = 0;
    char w[64];
    const char *last = NULL;
    for (int i = 0; i < r->n; i++) {
        if (!r->text[i])
            continue;
        seen++;
        right += strcmp(r->text[i], a->expect) == 0;
        last = word_for(r->predict->choices, r->text[i], w, sizeof w);
    }
    if (seen == 0)
        return;
    if (seen == 1)
        snprintf(buf, n, "You predicted '%s'; the run's answer was '%s': %s.", a->word, last,
                 right ? "right" : "not this time");
    else
        snprintf(buf, n, "You predicted '%s': right in %d of %d runs.", a->word, right, seen);
}

void ct_predict_verdict(const struct ct_repeats *r, const struct ct_answer *a, char *buf,
                        size_t n)
{
    buf[0] = '\0';
    if (!a->given)
        return;
    if (a->number)
        verdict_number(r, a, buf, n);
    else
        verdict_choice(r, a, buf, n);
    if (!*buf)
        snprintf(buf, n, "You predicted %s%s%s, but the run recorded no %s: with these "
                 "parameters there was nothing to compare.", a->number ? "" : "'",
                 a->number ? "a number" : a->word, a->number ? "" : "'",
                 r->predict ? r->predict->result : "result");
}

void ct_repeats_summary(const struct ct_repeats *r, char *buf, size_t n)
{
    struct spread s;
    char x[32], y[32], m[32];
    buf[0] = '\0';
    if (r->numeric) {
        if (!numeric_spread(r, &s))
            return;
        fmt_value(s.min, s.whole, x, sizeof x);
        fmt_value(s.max, s.whole, y, sizeof y);
        fmt_value(s.median, s.whole && s.median == floor(s.median), m, sizeof m);
        if (s.min == s.max)
            snprintf(buf, n, "All %d runs gave the same %s: %s.", s.n, what(r), x);
        else if (r->predict)
            snprintf(buf, n,
                     "Over %d runs the %s ranged from %s to %s (median %s): the same program "
                     "with the same parameters gave a different answer from run to run. The "
                     "result is a distribution, not a number.",
                     s.n, what(r), x, y, m);
        else
            snprintf(buf, n, "Over %d runs the %s ranged from %s to %s (median %s).", s.n,
                     what(r), x, y, m);
        return;
    }
    struct ct_hist h;
    ct_repeats_hist(r, NULL, &h);
    size_t o = (size_t)snprintf(buf, n, "Over %d runs:", r->n);
    int shown = 0;
    for (int b = 0; b < h.nbins && o < n; b++) {
        if (h.count[b])
            o += (size_t)snprintf(buf + o, n - o, "%s '%s' %d time%s", shown++ ? "," : "",
                                  h.label[b], h.count[b], h.count[b] == 1 ? "" : "s");
    }
    if (o < n)
        snprintf(buf + o, n - o, "%s", shown > 1 ? ": the outcome changed from run to run."
                                                 : ": the same outcome every time.");
}

/* ---- printing ------------------------------------------------------------ */

static void heading(FILE *out, const char *text, bool color)
{
    fprintf(out, color ? "\n\033[1m%s\033[0m\n" : "\n%s\n", text);
}

void ct_repeats_print(const struct ct_repeats *r, const struct ct_hist *h, FILE *out,
                      int width, bool color)
{
    char line[512];
    snprintf(line, sizeof line, "Over %d runs", r->n);
    heading(out, line, color);
    snprintf(line, sizeof line, "how many runs gave each %s (%s):", r->numeric ? "value" : "answer",
             r->label);
    ct_wrap(out, line, width, 2);
    int label_w = 0, most = 0;
    for (int b = 0; b < h->nbins; b++) {
        int w = ct_text_width(h->label[b], strlen(h->label[b]));
        label_w = w > label_w ? w : label_w;
        most = h->count[b] > most ? h->count[b] : most;
    }
    /* "  label |#####   12  <- your guess" */
    int mark_w = h->guess_bin >= 0 ? 15 : 0;
    int bar_w = width - 2 - label_w - 2 - 5 - mark_w;
    bool stacked = bar_w < 8;
    if (stacked)
        bar_w = width - 4 - 5 - mark_w;
    if (bar_w < 1)
        bar_w = 1;
    for (int b = 0; b < h->nbins; b++) {
        int len = most ? (int)lround((double)h->count[b] / most * bar_w) : 0;
        if (len == 0 && h->count[b] > 0)
            len = 1;
        if (stacked)
            fprintf(out, "  %s\n  |", h->label[b]);
        else
            fprintf(out, "  %*s |", label_w, h->label[b]);
        fputs(color ? "\033[36m" : "", out);
        for (int i = 0; i < len; i++)
            fputc('#', out);
        fputs(color ? "\033[0m" : "", out);
        fprintf(out, "%*s %4d%s\n", bar_w - len, "", h->count[b],
                b == h->guess_bin ? (color ? "  \033[1;35m<- your guess\033[0m" : "  <- your guess")
                                  : "");
    }
    snprintf(line, sizeof line, "every check held in %d of %d runs", r->checks_held, r->n);
    fputc('\n', out);
    ct_wrap(out, line, width, 2);
    ct_repeats_summary(r, line, sizeof line);
    if (*line) {
        fputc('\n', out);
        ct_wrap(out, line, width, 2);
    }
}

void ct_predict_print(const char *question, const char *verdict, FILE *out, int width,
                      bool color)
{
    heading(out, "Your prediction", color);
    ct_wrap(out, question, width, 2);
    fputc('\n', out);
    ct_wrap(out, *verdict ? verdict : "No answer was given, so there is nothing to compare.",
            width, 2);
}

/* ---- JSON ------------------------------------------------------------------ */

void ct_predict_json(struct ct_json *j, const char *question, const struct ct_answer *a,
                     const char *verdict, const struct ct_repeats *r)
{
    ct_json_key(j, "prediction");
    ct_json_object_begin(j);
    ct_json_kv_str(j, "question", question);
    ct_json_kv_str(j, "result", r->predict ? r->predict->result : "");
    ct_json_key(j, "answer");
    if (!a->given)
        ct_json_null(j);
    else if (a->number)
        ct_json_num(j, a->value);
    else
        ct_json_str(j, a->word);
    ct_json_key(j, "actual");
    ct_json_array_begin(j);
    char w[64];
    for (int i = 0; i < r->n; i++) {
        if (r->text[i])
            ct_json_str(j, r->predict && r->predict->choices
                               ? word_for(r->predict->choices, r->text[i], w, sizeof w)
                               : r->text[i]);
        else
            ct_json_num(j, r->num[i]);
    }
    ct_json_array_end(j);
    if (a->given && !a->number) {
        int right = 0;
        for (int i = 0; i < r->n; i++)
            right += r->text[i] && strcmp(r->text[i], a->expect) == 0;
        ct_json_kv_int(j, "right", right);
    }
    ct_json_kv_str(j, "verdict", verdict);
    ct_json_object_end(j);
}

void ct_repeats_json(struct ct_json *j, const struct ct_repeats *r, const struct ct_hist *h)
{
    char w[64], summary[512];
    ct_json_key(j, "repeats");
    ct_json_object_begin(j);
    ct_json_kv_int(j, "runs", r->n);
    ct_json_key(j, "figure");
    if (r->predict)
        ct_json_str(j, r->predict->result);
    else
        ct_json_str(j, "wall_ms");
    ct_json_kv_str(j, "label", r->label);
    ct_json_key(j, "values");
    ct_json_array_begin(j);
    for (int i = 0; i < r->n; i++) {
        if (r->text[i])
            ct_json_str(j, r->predict && r->predict->choices
                               ? word_for(r->predict->choices, r->text[i], w, sizeof w)
                               : r->text[i]);
        else
            ct_json_num(j, r->num[i]);
    }
    ct_json_array_end(j);
    ct_json_key(j, "statuses");
    ct_json_array_begin(j);
    for (int i = 0; i < r->n; i++)
        ct_json_str(j, r->status[i]);
    ct_json_array_end(j);
    ct_json_kv_int(j, "checks_held", r->checks_held);
    ct_json_key(j, "histogram");
    ct_json_array_begin(j);
    for (int b = 0; b < h->nbins; b++) {
        ct_json_object_begin(j);
        ct_json_kv_str(j, "bin", h->label[b]);
        ct_json_kv_int(j, "runs", h->count[b]);
        ct_json_object_end(j);
    }
    ct_json_array_end(j);
    ct_repeats_summary(r, summary, sizeof summary);
    ct_json_kv_str(j, "summary", summary);
    ct_json_object_end(j);
}
