/* html.c - see html.h.  Every piece of text goes through esc(); every
 * element is closed, so that the page is well-formed XML as well as HTML.
 */
#include "html.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "text.h"

/* Text for an element or a quoted attribute. */
static void esc(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        default:
            /* control characters are not allowed in XML 1.0 */
            if (c >= 0x20 || c == '\n' || c == '\t')
                fputc(c, out);
        }
    }
}

static const char css[] =
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
    "color:#222;line-height:1.45}"
    "h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;"
    "border-bottom:1px solid #ccc}"
    ".meta{color:#666;font-size:.9rem}"
    "table{border-collapse:collapse;margin:.5rem 0}"
    "th,td{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "caption{text-align:left;font-weight:600;padding:.3rem 0}"
    "pre.log{background:#f6f6f6;padding:.6rem;overflow-x:auto;font-size:.85rem;"
    "max-height:30rem;overflow-y:auto}"
    ".t{color:#888}.sec{font-weight:700}"
    ".l0{color:#333;font-weight:600}.l1{color:#0a7f8f}.l2{color:#9a6b00}.l3{color:#8a2f9a}"
    ".l4{color:#2e7d32}.l5{color:#1f5fbf}.l6{color:#b3261e}"
    "ul.checks{list-style:none;padding-left:0}"
    ".ok{color:#fff;background:#2e7d32;border-radius:3px;padding:0 .4rem;font-size:.8rem}"
    ".fail{color:#fff;background:#b3261e;border-radius:3px;padding:0 .4rem;font-size:.8rem}"
    ".takeaway p{background:#eef6ee;padding:.5rem .8rem;border-left:4px solid #2e7d32}"
    ".predict{background:#f7eefa;padding:.5rem .8rem;border-left:4px solid #8a2f9a}"
    "figure{margin:1rem 0}svg{max-width:100%;height:auto}"
    "svg text{font-family:system-ui,sans-serif;font-size:12px;fill:#222}"
    "svg .axis{stroke:#999;stroke-width:1}"
    "footer{margin-top:3rem;color:#888;font-size:.8rem}";

/* The fill of each timeline state (idle is not drawn). */
static const char *const state_fill[CT_STATE_COUNT] = {
    [CT_IDLE] = "none",     [CT_RUN] = "#4caf50",   [CT_WAIT] = "#f2b33d",
    [CT_HOLD] = "#d9534f",  [CT_SHARED] = "#3fb6c6", [CT_SLEEP] = "#7b9fe0",
};

/* ---- header, parameters, log ------------------------------------------- */

static void page_head(FILE *out, const struct ct_run_view *v)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>",
          out);
    esc(out, v->demo->name);
    fputs(": ", out);
    esc(out, v->demo->title);
    fprintf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n<header>\n<h1>", css);
    esc(out, v->demo->name);
    fputs(": ", out);
    esc(out, v->demo->title);
    char when[64] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (localtime_r(&now, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
    fprintf(out, "</h1>\n<p class=\"meta\">Chapter %d &#183; status <b>", v->demo->chapter);
    esc(out, v->status);
    fprintf(out, "</b> &#183; wall time %.1f ms &#183; %d CPU%s online &#183; time scale %g "
                 "&#183; run on %s</p>\n</header>\n<p>",
            v->wall_ms, v->cpus, v->cpus == 1 ? "" : "s", v->scale, when);
    esc(out, v->demo->intro);
    fputs("</p>\n", out);
}

static void page_params(FILE *out, const struct ct_run_view *v)
{
    if (v->params->n == 0)
        return;
    char val[256], range[256];
    fputs("<h2>Parameters</h2>\n<table>\n<tr><th>parameter</th><th>value</th><th>default</th>"
          "<th>accepts</th><th>meaning</th></tr>\n", out);
    for (int i = 0; i < v->params->n; i++) {
        const struct ct_param_spec *sp = &v->params->spec[i];
        ct_params_format(v->params, i, val, sizeof val);
        ct_param_range(sp, range, sizeof range);
        fputs("<tr><td><code>", out);
        esc(out, sp->name);
        fputs("</code></td><td><b>", out);
        esc(out, val);
        fputs("</b></td><td>", out);
        esc(out, sp->def);
        fputs("</td><td>", out);
        esc(out, range);
        fputs("</td><td>", out);
        esc(out, sp->help);
        fputs("</td></tr>\n", out);
    }
    fputs("</table>\n", out);
}

static void page_prediction(FILE *out, const struct ct_run_view *v)
{
    if (!v->question)
        return;
    fputs("<h2>Prediction</h2>\n<div class=\"predict\"><p>", out);
    esc(out, v->question);
    fputs("</p><p>", out);
    esc(out, v->verdict && *v->verdict ? v->verdict
                                       : "No answer was given, so there is nothing to compare.");
    fputs("</p></div>\n", out);
}

/* The class (colour) of a label: the same label always gets the same. */
static int label_class(const struct ct_run_view *v, const char *label)
{
    if (strcmp(label, "main") == 0)
        return 0;
    for (int i = 0; i < v->tl->nlanes; i++) {
        if (strcmp(v->tl->lanes[i].name, label) == 0)
            return 1 + (i % 6);
    }
    unsigned h = 0;
    for (const char *p = label; *p; p++)
        h = h * 31 + (unsigned char)*p;
    return 1 + (int)(h % 6);
}

static void page_log(FILE *out, const struct ct_run_view *v)
{
    enum { MAX_SHOWN = 3000 };
    if (v->nlog == 0)
        return;
    fputs("<h2>Live log</h2>\n<pre class=\"log\">", out);
    for (size_t i = 0; i < v->nlog && i < MAX_SHOWN; i++) {
        const struct ct_logline *l = &v->log[i];
        if (strcmp(l->label, "--") == 0) {
            fputs("<span class=\"sec\">-- ", out);
            esc(out, l->text);
            fputs(" --</span>\n", out);
            continue;
        }
        fprintf(out, "<span class=\"t\">[%8.1f ms]</span> <span class=\"l%d\">",
                l->t_ms, label_class(v, l->label));
        esc(out, l->label);
        fputs("</span>  ", out);
        esc(out, l->text);
        fputc('\n', out);
    }
    if (v->nlog > MAX_SHOWN || v->log_dropped)
        fprintf(out, "(%zu more lines not shown)\n",
                (v->nlog > MAX_SHOWN ? v->nlog - MAX_SHOWN : 0) + v->log_dropped);
    fputs("</pre>\n", out);
}

/* ---- results, tables, bars ---------------------------------------------- */

static void page_table(FILE *out, const struct ct_table *t)
{
    char buf[128];
    int nc = ct_table_ncols(t);
    fputs("<table>\n", out);
    if (ct_table_title(t)) {
        fputs("<caption>", out);
        esc(out, ct_table_title(t));
        fputs("</caption>\n", out);
    }
    fputs("<tr>", out);
    for (int c = 0; c < nc; c++) {
        fputs("<th>", out);
        esc(out, ct_table_col_title(t, c));
        fputs("</th>", out);
    }
    fputs("</tr>\n", out);
    for (size_t r = 0; r < ct_table_nrows(t); r++) {
        fputs("<tr>", out);
        for (int c = 0; c < nc; c++) {
            const struct ct_cell *cell = ct_table_cell(t, r, c);
            ct_cell_format(cell, buf, sizeof buf);
            fputs(cell->kind == CT_CELL_TEXT ? "<td>" : "<td class=\"n\">", out);
            esc(out, buf);
            fputs("</td>", out);
        }
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
}

/* A horizontal bar chart: one bar per row, labels left, values right. */
static void svg_bars(FILE *out, const char *title, const char (*labels)[64], const double *values,
                     const char (*shown)[64], int n, const char *unit, int mark)
{
    enum { W = 720, LABEL_W = 170, VALUE_W = 150, ROW = 24 };
    double max = 0;
    for (int i = 0; i < n; i++)
        max = isfinite(values[i]) && values[i] > max ? values[i] : max;
    int h = ROW * n + 8;
    fprintf(out, "<figure>\n<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n",
            W, h, W, h);
    if (title) {
        fputs("<title>", out);
        esc(out, title);
        fputs("</title>\n", out);
    }
    for (int i = 0; i < n; i++) {
        double len = max > 0 && isfinite(values[i]) && values[i] > 0
                         ? values[i] / max * (W - LABEL_W - VALUE_W) : 0;
        if (len > 0 && len < 2)
            len = 2;
        int y = 4 + i * ROW;
        fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", LABEL_W - 8, y + 16);
        esc(out, labels[i]);
        fprintf(out, "</text>\n<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
                     "fill=\"%s\"/>\n",
                LABEL_W, y + 3, len, ROW - 6, i == mark ? "#8a2f9a" : "#3f8fc6");
        fprintf(out, "<text x=\"%.1f\" y=\"%d\">", LABEL_W + len + 6, y + 16);
        esc(out, shown[i]);
        if (unit) {
            fputc(' ', out);
            esc(out, unit);
        }
        if (i == mark)
            fputs(" &#8592; your guess", out);
        fputs("</text>\n", out);
    }
    fputs("</svg>\n", out);
    if (title) {
        fputs("<figcaption>", out);
        esc(out, title);
        fputs("</figcaption>\n", out);
    }
    fputs("</figure>\n", out);
}

static void page_bars(FILE *out, const struct ct_report_item *it)
{
    const struct ct_table *t = it->table;
    size_t n = ct_table_nrows(t);
    char (*labels)[64] = calloc(n ? n : 1, sizeof *labels);
    char (*shown)[64] = calloc(n ? n : 1, sizeof *shown);
    double *values = calloc(n ? n : 1, sizeof *values);
    if (labels && shown && values) {
        for (size_t r = 0; r < n; r++) {
            ct_cell_format(ct_table_cell(t, r, it->label_col), labels[r], sizeof labels[r]);
            ct_cell_format(ct_table_cell(t, r, it->value_col), shown[r], sizeof shown[r]);
            values[r] = ct_cell_value(ct_table_cell(t, r, it->value_col));
        }
        svg_bars(out, it->label, (const char (*)[64])labels, values,
                 (const char (*)[64])shown, (int)n, it->unit, -1);
    }
    free(labels);
    free(shown);
    free(values);
}

static void page_results(FILE *out, const struct ct_run_view *v)
{
    struct ct_report_item it;
    char buf[64];
    bool in_list = false;
    fputs("<h2>Results</h2>\n", out);
    for (size_t i = 0; i < ct_report_count(v->rep); i++) {
        ct_report_get(v->rep, i, &it);
        bool scalar = it.kind <= CT_ITEM_TEXT;
        if (scalar && !in_list)
            fputs("<table class=\"results\">\n", out);
        if (!scalar && in_list)
            fputs("</table>\n", out);
        in_list = scalar;
        if (!scalar) {
            if (it.kind == CT_ITEM_TABLE)
                page_table(out, it.table);
            else
                page_bars(out, &it);
            continue;
        }
        if (it.kind == CT_ITEM_INT)
            ct_group_digits(it.i, buf, sizeof buf);
        else if (it.kind == CT_ITEM_NUM)
            snprintf(buf, sizeof buf, "%.*f", it.decimals, it.d);
        fputs("<tr><th>", out);
        esc(out, it.label);
        fputs(it.kind == CT_ITEM_TEXT ? "</th><td>" : "</th><td class=\"n\">", out);
        esc(out, it.kind == CT_ITEM_TEXT ? it.text : buf);
        if (it.unit) {
            fputc(' ', out);
            esc(out, it.unit);
        }
        fputs("</td></tr>\n", out);
    }
    if (in_list)
        fputs("</table>\n", out);
}

static void page_checks(FILE *out, const struct ct_run_view *v)
{
    int passed, n = ct_report_checks(v->rep, &passed);
    if (n == 0)
        return;
    fprintf(out, "<h2>Checks (%d of %d held)</h2>\n<ul class=\"checks\">\n", passed, n);
    for (int i = 0; i < n; i++) {
        bool ok;
        const char *text = ct_report_check_at(v->rep, (size_t)i, &ok);
        fputs(ok ? "<li><span class=\"ok\">ok</span> " : "<li><span class=\"fail\">FAIL</span> ",
              out);
        esc(out, text);
        fputs("</li>\n", out);
    }
    fputs("</ul>\n", out);
}

static void page_takeaway(FILE *out, const struct ct_run_view *v)
{
    size_t n = ct_report_takeaway_count(v->rep);
    if (n == 0)
        return;
    fputs("<h2>Takeaway</h2>\n<div class=\"takeaway\">\n", out);
    for (size_t i = 0; i < n; i++) {
        fputs("<p>", out);
        esc(out, ct_report_takeaway_at(v->rep, i));
        fputs("</p>\n", out);
    }
    fputs("</div>\n", out);
}

/* ---- the timeline --------------------------------------------------------- */

/* A round step for about `want` ticks over `span` ms: 1, 2 or 5 times a
 * power of ten. */
static double tick_step(double span, int want)
{
    double raw = span / want, p = pow(10, floor(log10(raw)));
    double m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void svg_lane(FILE *out, const struct ct_tl_lane *l, double lo, double hi, double x0,
                     double scale, int y, int h, bool used[CT_STATE_COUNT])
{
    int cur = CT_IDLE;
    double from = lo;
    for (size_t e = 0; e <= l->n; e++) {
        double t = e < l->n ? (double)l->ev[e].t_ns / 1e6 : hi;
        if (e < l->n && l->ev[e].glyph)
            continue;
        double a = from < lo ? lo : from, b = t > hi ? hi : t;
        if (cur != CT_IDLE && b > a) {
            used[cur] = true;
            fprintf(out, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\">"
                         "<title>%s %.1f-%.1f ms</title></rect>\n",
                    x0 + (a - lo) * scale, y, (b - a) * scale < 0.5 ? 0.5 : (b - a) * scale, h,
                    state_fill[cur], ct_state_name((enum ct_state)cur), a, b);
        }
        if (e < l->n) {
            cur = l->ev[e].state;
            from = t;
        }
    }
    for (size_t e = 0; e < l->n; e++) {
        if (!l->ev[e].glyph)
            continue;
        double t = (double)l->ev[e].t_ns / 1e6, x = x0 + (t - lo) * scale;
        char g[2] = { l->ev[e].glyph, 0 };
        fprintf(out, "<path d=\"M%.2f %d l-4 -7 h8 z\" fill=\"#8a2f9a\"><title>", x, y + 1);
        esc(out, g);
        fprintf(out, " at %.1f ms</title></path>\n", t);
    }
}

static void svg_legend(FILE *out, const struct ct_timeline *tl, const bool used[CT_STATE_COUNT],
                       int y)
{
    int x = 10;
    for (int s = 1; s < CT_STATE_COUNT; s++) {
        if (!used[s])
            continue;
        const char *label = tl->state_label[s] ? tl->state_label[s] : ct_state_name((enum ct_state)s);
        if (x > 600) {
            x = 10;
            y += 18;
        }
        fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                     "<text x=\"%d\" y=\"%d\">", x, y, state_fill[s], x + 16, y + 11);
        esc(out, label);
        fputs("</text>\n", out);
        x += 16 + 7 * (int)strlen(label) + 20;
    }
    for (int i = 0; i < tl->npoints; i++) {
        char g[2] = { tl->point_glyph[i], 0 };
        if (x > 600) {
            x = 10;
            y += 18;
        }
        fprintf(out, "<path d=\"M%d %d l-4 -7 h8 z\" fill=\"#8a2f9a\"/><text x=\"%d\" y=\"%d\">",
                x + 5, y + 10, x + 16, y + 11);
        esc(out, g);
        fputs(": ", out);
        esc(out, tl->point_label[i]);
        fputs("</text>\n", out);
        x += 16 + 7 * (int)(strlen(tl->point_label[i]) + 3) + 20;
    }
}

static void page_timeline(FILE *out, const struct ct_run_view *v)
{
    enum { W = 900, NAME_W = 130, LANE = 22, TOP = 10 };
    const struct ct_timeline *tl = v->tl;
    int nl = 0;
    for (int i = 0; i < tl->nlanes; i++)
        nl += tl->lanes[i].n > 0;
    if (nl == 0)
        return;
    int64_t lo_ns, hi_ns;
    ct_timeline_window(tl, v->end_ns - tl->origin_ns, &lo_ns, &hi_ns);
    double lo = (double)lo_ns / 1e6, hi = (double)hi_ns / 1e6;
    double x0 = NAME_W, scale = (W - NAME_W - 20) / (hi - lo);
    int axis_y = TOP + nl * LANE + 4;
    int h = axis_y + 30 + 18 * 3;
    fprintf(out, "<h2>Timeline</h2>\n<figure>\n<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d "
                 "%d\" role=\"img\">\n<title>who held and who waited, ms since the start</title>\n",
            W, h, W, h);
    bool used[CT_STATE_COUNT] = { false };
    int row = 0;
    for (int i = 0; i < tl->nlanes; i++) {
        const struct ct_tl_lane *l = &tl->lanes[i];
        if (l->n == 0)
            continue;
        int y = TOP + row++ * LANE;
        fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", NAME_W - 8, y + 15);
        esc(out, l->name);
        fprintf(out, "</text>\n<rect x=\"%.0f\" y=\"%d\" width=\"%d\" height=\"%d\" "
                     "fill=\"#f4f4f4\"/>\n", x0, y + 2, W - NAME_W - 20, LANE - 4);
        svg_lane(out, l, lo, hi, x0, scale, y + 2, LANE - 4, used);
    }
    fprintf(out, "<line class=\"axis\" x1=\"%.0f\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", x0, axis_y,
            W - 20, axis_y);
    double step = tick_step(hi - lo, 8);
    for (double t = ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
        double x = x0 + (t - lo) * scale;
        fprintf(out, "<line class=\"axis\" x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\"/>"
                     "<text x=\"%.2f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
                x, axis_y, x, axis_y + 5, x, axis_y + 18, t);
    }
    fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">ms</text>\n", NAME_W - 8,
            axis_y + 18);
    svg_legend(out, tl, used, axis_y + 30);
    fputs("</svg>\n<figcaption>Time runs left to right; hover a bar for its times.</figcaption>\n"
          "</figure>\n", out);
}

/* ---- runs=N ------------------------------------------------------------- */

static void page_repeats(FILE *out, const struct ct_run_view *v)
{
    if (!v->repeats || !v->hist)
        return;
    const struct ct_hist *h = v->hist;
    char title[256], summary[1024];
    char shown[CT_HIST_MAX_BINS][64];
    double values[CT_HIST_MAX_BINS];
    for (int b = 0; b < h->nbins; b++) {
        values[b] = h->count[b];
        snprintf(shown[b], sizeof shown[b], "%d run%s", h->count[b], h->count[b] == 1 ? "" : "s");
    }
    fprintf(out, "<h2>Over %d runs</h2>\n", v->repeats->n);
    snprintf(title, sizeof title, "how many runs gave each %s (%s)",
             v->repeats->numeric ? "value" : "answer", v->repeats->label);
    svg_bars(out, title, (const char (*)[64])h->label, values, (const char (*)[64])shown,
             h->nbins, NULL, h->guess_bin);
    ct_repeats_summary(v->repeats, summary, sizeof summary);
    fprintf(out, "<p>Every check held in %d of %d runs. ", v->repeats->checks_held,
            v->repeats->n);
    esc(out, summary);
    fputs(" The sections below show the last run.</p>\n", out);
}

void ct_html_page(FILE *out, const struct ct_run_view *v)
{
    page_head(out, v);
    page_params(out, v);
    page_prediction(out, v);
    page_repeats(out, v);
    page_log(out, v);
    page_results(out, v);
    page_checks(out, v);
    page_takeaway(out, v);
    page_timeline(out, v);
    fputs("<footer>Written by ", out);
    esc(out, v->generator ? v->generator : "concur-tutor");
    fputs(" from the run above; every figure on this page was measured in that run.</footer>\n"
          "</body>\n</html>\n", out);
}

int ct_html_write(const char *path, const struct ct_run_view *v, char *err, size_t n)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 32);
    if (!tmp) {
        snprintf(err, n, "out of memory");
        return -ENOMEM;
    }
    snprintf(tmp, len + 32, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        int e = errno;
        snprintf(err, n, "%s", strerror(e));
        free(tmp);
        return -e;
    }
    ct_html_page(f, v);
    int e = ferror(f) ? EIO : 0;
    if (fclose(f) != 0 && !e)
        e = errno;
    if (!e && rename(tmp, path) != 0)
        e = errno;
    if (e) {
        unlink(tmp);
        snprintf(err, n, "%s", strerror(e));
    }
    free(tmp);
    return -e;
}
