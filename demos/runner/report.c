/* report.c - see report.h. */
#include "report.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "text.h"

#define MAX_COLS 12

struct ct_table {
    struct ct_report *rep;
    char *key, *title;
    int ncols;
    char *col_key[MAX_COLS], *col_title[MAX_COLS];
    struct ct_cell *cells;      /* nrows * ncols; text cells own a copy */
    size_t nrows, cap;
};

enum item_kind { IT_INT, IT_NUM, IT_TEXT, IT_TABLE, IT_BARS };

struct item {
    enum item_kind kind;
    char *key, *label, *unit, *text;
    long long i;
    double d;
    int decimals;
    struct ct_table *table;         /* IT_TABLE owns it; IT_BARS points */
    int label_col, value_col;       /* IT_BARS */
};

struct check {
    bool ok;
    char *text;
};

struct ct_report {
    pthread_mutex_t mu;
    struct item *items;
    size_t nitems, items_cap;
    struct check *checks;
    size_t nchecks, checks_cap;
    char **takeaway;
    size_t ntake, take_cap;
};

/* Grow *arr (of *cap elements of `size`) so that one more fits. */
static bool grow(void *arr, size_t *cap, size_t used, size_t size)
{
    if (used < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *p = realloc(*(void **)arr, ncap * size);
    if (!p)
        return false;
    *(void **)arr = p;
    *cap = ncap;
    return true;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

struct ct_report *ct_report_new(void)
{
    struct ct_report *rep = calloc(1, sizeof *rep);
    if (rep && pthread_mutex_init(&rep->mu, NULL) != 0) {
        free(rep);
        return NULL;
    }
    return rep;
}

static void table_free(struct ct_table *t)
{
    for (size_t r = 0; r < t->nrows * (size_t)t->ncols; r++) {
        if (t->cells[r].kind == CT_CELL_TEXT)
            free((char *)t->cells[r].text);
    }
    for (int c = 0; c < t->ncols; c++) {
        free(t->col_key[c]);
        free(t->col_title[c]);
    }
    free(t->cells);
    free(t->key);
    free(t->title);
    free(t);
}

void ct_report_free(struct ct_report *rep)
{
    if (!rep)
        return;
    for (size_t i = 0; i < rep->nitems; i++) {
        struct item *it = &rep->items[i];
        free(it->key);
        free(it->label);
        free(it->unit);
        free(it->text);
        if (it->kind == IT_TABLE)
            table_free(it->table);
    }
    for (size_t i = 0; i < rep->nchecks; i++)
        free(rep->checks[i].text);
    for (size_t i = 0; i < rep->ntake; i++)
        free(rep->takeaway[i]);
    free(rep->items);
    free(rep->checks);
    free(rep->takeaway);
    CT_PT(pthread_mutex_destroy(&rep->mu));
    free(rep);
}

/* Append an item (copying its strings); NULL when out of memory. */
static struct item *add_item(struct ct_report *rep, struct item it)
{
    struct item *slot = NULL;
    CT_PT(pthread_mutex_lock(&rep->mu));
    if (grow(&rep->items, &rep->items_cap, rep->nitems, sizeof *rep->items)) {
        slot = &rep->items[rep->nitems++];
        *slot = it;
        slot->key = dup_or_null(it.key);
        slot->label = dup_or_null(it.label);
        slot->unit = dup_or_null(it.unit);
        slot->text = dup_or_null(it.text);
    }
    CT_PT(pthread_mutex_unlock(&rep->mu));
    return slot;
}

void ct_report_int(struct ct_report *rep, const char *key, const char *label,
                   long long value, const char *unit)
{
    add_item(rep, (struct item){ .kind = IT_INT, .key = (char *)key,
                                 .label = (char *)label, .unit = (char *)unit,
                                 .i = value });
}

void ct_report_num(struct ct_report *rep, const char *key, const char *label,
                   double value, int decimals, const char *unit)
{
    add_item(rep, (struct item){ .kind = IT_NUM, .key = (char *)key,
                                 .label = (char *)label, .unit = (char *)unit,
                                 .d = value, .decimals = decimals });
}

void ct_report_text(struct ct_report *rep, const char *key, const char *label,
                    const char *text)
{
    add_item(rep, (struct item){ .kind = IT_TEXT, .key = (char *)key,
                                 .label = (char *)label, .text = (char *)text });
}

struct ct_table *ct_report_table(struct ct_report *rep, const char *key,
                                 const char *title, const char *const *cols)
{
    struct ct_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->rep = rep;
    t->key = strdup(key);
    t->title = dup_or_null(title);
    for (; cols[t->ncols] && t->ncols < MAX_COLS; t->ncols++) {
        const char *c = cols[t->ncols];
        const char *bar = strchr(c, '|');
        t->col_key[t->ncols] = bar ? strndup(c, (size_t)(bar - c)) : strdup(c);
        t->col_title[t->ncols] = strdup(bar ? bar + 1 : c);
    }
    if (!add_item(rep, (struct item){ .kind = IT_TABLE, .table = t })) {
        table_free(t);
        return NULL;
    }
    return t;
}

void ct_table_row_(struct ct_table *t, size_t n, const struct ct_cell *cells)
{
    if (!t)
        return;
    CT_PT(pthread_mutex_lock(&t->rep->mu));
    size_t need = (t->nrows + 1) * (size_t)t->ncols;
    if (need > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : (size_t)t->ncols * 8;
        while (cap < need)
            cap *= 2;
        struct ct_cell *p = realloc(t->cells, cap * sizeof *p);
        if (!p)
            goto out;
        t->cells = p;
        t->cap = cap;
    }
    struct ct_cell *row = &t->cells[t->nrows * (size_t)t->ncols];
    for (int c = 0; c < t->ncols; c++) {
        row[c] = (size_t)c < n ? cells[c] : CT_TEXT("");
        if (row[c].kind == CT_CELL_TEXT)
            row[c].text = strdup(row[c].text ? row[c].text : "");
    }
    t->nrows++;
out:
    CT_PT(pthread_mutex_unlock(&t->rep->mu));
}

void ct_report_bars(struct ct_report *rep, const struct ct_table *t,
                    const char *title, int label_col, int value_col,
                    const char *unit)
{
    if (!t || label_col >= t->ncols || value_col >= t->ncols)
        return;
    add_item(rep, (struct item){ .kind = IT_BARS, .table = (struct ct_table *)t,
                                 .label = (char *)title, .unit = (char *)unit,
                                 .label_col = label_col, .value_col = value_col });
}

void ct_report_check(struct ct_report *rep, bool ok, const char *text)
{
    CT_PT(pthread_mutex_lock(&rep->mu));
    if (grow(&rep->checks, &rep->checks_cap, rep->nchecks, sizeof *rep->checks))
        rep->checks[rep->nchecks++] = (struct check){ ok, strdup(text) };
    CT_PT(pthread_mutex_unlock(&rep->mu));
}

void ct_report_takeaway(struct ct_report *rep, const char *text)
{
    CT_PT(pthread_mutex_lock(&rep->mu));
    if (grow(&rep->takeaway, &rep->take_cap, rep->ntake, sizeof *rep->takeaway))
        rep->takeaway[rep->ntake++] = strdup(text);
    CT_PT(pthread_mutex_unlock(&rep->mu));
}

bool ct_report_failed(const struct ct_report *rep)
{
    int passed, n = ct_report_checks(rep, &passed);
    return passed != n;
}

int ct_report_checks(const struct ct_report *rep, int *passed)
{
    int ok = 0;
    for (size_t i = 0; i < rep->nchecks; i++)
        ok += rep->checks[i].ok;
    *passed = ok;
    return (int)rep->nchecks;
}

/* ---- text ------------------------------------------------------------- */

static void fmt_cell(const struct ct_cell *c, char *buf, size_t n)
{
    switch (c->kind) {
    case CT_CELL_TEXT:
        snprintf(buf, n, "%s", c->text);
        break;
    case CT_CELL_INT:
        ct_group_digits(c->i, buf, n);
        break;
    case CT_CELL_NUM:
        if (!isfinite(c->d))
            snprintf(buf, n, "-");
        else
            snprintf(buf, n, "%.*f", c->decimals, c->d);
        break;
    }
}

static double cell_value(const struct ct_cell *c)
{
    return c->kind == CT_CELL_INT ? (double)c->i : c->kind == CT_CELL_NUM ? c->d : NAN;
}

static void heading(FILE *out, const char *text, bool color)
{
    fprintf(out, color ? "\n\033[1m%s\033[0m\n" : "\n%s\n", text);
}

/* Greedy word wrap of `text` into lines of at most `w` columns: line k is
 * text[starts[k] .. ends[k]).  Returns the number of lines (at least 1). */
static int wrap_cell(const char *text, int w, size_t *starts, size_t *ends, int max)
{
    int n = 0;
    size_t i = 0, len = strlen(text);
    while (n < max) {
        while (i < len && text[i] == ' ')
            i++;
        starts[n] = ends[n] = i;
        int col = 0;
        while (i < len) {
            size_t j = i;
            while (j < len && text[j] != ' ')
                j++;
            int ww = ct_text_width(text + i, j - i);
            if (col > 0 && col + 1 + ww > w)
                break;
            col += (col > 0) + ww;
            ends[n] = j;
            i = j;
            while (i < len && text[i] == ' ')
                i++;
        }
        n++;
        if (i >= len)
            break;
    }
    return n;
}

/* One row per line block, each cell under its column's title:
 *     variant: racy
 *       how: load, add 1, store (no synchronisation)
 * for tables too wide to fit side by side. */
static void print_stacked(const struct ct_table *t, FILE *out, int width, bool color)
{
    char buf[128], head[160];
    for (size_t r = 0; r < t->nrows; r++) {
        if (r)
            fputc('\n', out);
        for (int c = 0; c < t->ncols; c++) {
            fmt_cell(&t->cells[r * (size_t)t->ncols + (size_t)c], buf, sizeof buf);
            snprintf(head, sizeof head, color ? "\033[1m%s:\033[0m" : "%s:", t->col_title[c]);
            int indent = c ? 4 : 2;
            int col = indent + ct_text_width(t->col_title[c], strlen(t->col_title[c])) + 2;
            if (col + 12 > width)
                col = indent + 2;
            ct_wrap_item(out, head, indent, col, buf, width);
        }
    }
}

static void print_table(const struct ct_table *t, FILE *out, int width, bool color)
{
    enum { GAP = 2, INDENT = 2, MAX_LINES = 16 };
    int w[MAX_COLS], least[MAX_COLS];
    bool text[MAX_COLS];
    char buf[128];
    for (int c = 0; c < t->ncols; c++) {
        /* a text column may wrap down to its longest word, a number not at all */
        text[c] = t->nrows && t->cells[c].kind == CT_CELL_TEXT;
        w[c] = least[c] = ct_text_width(t->col_title[c], strlen(t->col_title[c]));
        for (size_t r = 0; r < t->nrows; r++) {
            const struct ct_cell *cell = &t->cells[r * (size_t)t->ncols + (size_t)c];
            fmt_cell(cell, buf, sizeof buf);
            int cw = ct_text_width(buf, strlen(buf));
            if (cw > w[c])
                w[c] = cw;
            int longest = cw;
            if (cell->kind == CT_CELL_TEXT) {
                size_t st[MAX_LINES], en[MAX_LINES];
                int n = wrap_cell(buf, 1, st, en, MAX_LINES);
                longest = 0;
                for (int k = 0; k < n; k++) {
                    int lw = ct_text_width(buf + st[k], en[k] - st[k]);
                    longest = lw > longest ? lw : longest;
                }
            }
            if (longest > least[c])
                least[c] = longest;
        }
    }
    /* shrink the widest text column, one column of text at a time */
    int sum = INDENT + GAP * (t->ncols - 1);
    for (int c = 0; c < t->ncols; c++)
        sum += w[c];
    while (sum > width) {
        int widest = -1;
        for (int c = 0; c < t->ncols; c++) {
            if (text[c] && w[c] > least[c] && (widest < 0 || w[c] > w[widest]))
                widest = c;
        }
        if (widest < 0)
            break;
        w[widest]--;
        sum--;
    }
    if (t->title)
        ct_wrap(out, t->title, width, 2);
    if (sum > width) {
        print_stacked(t, out, width, color);
        return;
    }
    /* headers align like their column's data: numbers right, text left */
    fputs(color ? "  \033[1m" : "  ", out);
    for (int c = 0; c < t->ncols; c++) {
        int pad = w[c] - ct_text_width(t->col_title[c], strlen(t->col_title[c]));
        fprintf(out, "%s%*s%s%*s", c ? "  " : "", text[c] ? 0 : pad, "",
                t->col_title[c], text[c] && c + 1 < t->ncols ? pad : 0, "");
    }
    fputs(color ? "\033[0m\n" : "\n", out);
    for (size_t r = 0; r < t->nrows; r++) {
        char cellbuf[MAX_COLS][128];
        size_t st[MAX_COLS][MAX_LINES], en[MAX_COLS][MAX_LINES];
        int lines[MAX_COLS], height = 1;
        for (int c = 0; c < t->ncols; c++) {
            const struct ct_cell *cell = &t->cells[r * (size_t)t->ncols + (size_t)c];
            fmt_cell(cell, cellbuf[c], sizeof cellbuf[c]);
            if (cell->kind == CT_CELL_TEXT) {
                lines[c] = wrap_cell(cellbuf[c], w[c], st[c], en[c], MAX_LINES);
            } else {
                lines[c] = 1;
                st[c][0] = 0;
                en[c][0] = strlen(cellbuf[c]);
            }
            height = lines[c] > height ? lines[c] : height;
        }
        for (int ln = 0; ln < height; ln++) {
            /* the last column with something on this line: no padding after it */
            int end = 0;
            for (int c = 0; c < t->ncols; c++) {
                if (ln < lines[c] && en[c][ln] > st[c][ln])
                    end = c;
            }
            fputs("  ", out);
            for (int c = 0; c <= end; c++) {
                const char *piece = cellbuf[c] + (ln < lines[c] ? st[c][ln] : 0);
                int plen = ln < lines[c] ? (int)(en[c][ln] - st[c][ln]) : 0;
                int pad = w[c] - ct_text_width(piece, (size_t)plen);
                bool last = c == end;
                if (t->cells[r * (size_t)t->ncols + (size_t)c].kind == CT_CELL_TEXT)
                    fprintf(out, "%s%.*s%*s", c ? "  " : "", plen, piece, last ? 0 : pad, "");
                else
                    fprintf(out, "%s%*s%.*s", c ? "  " : "", pad, "", plen, piece);
            }
            fputc('\n', out);
        }
    }
}

static void print_bars(const struct item *it, FILE *out, int width, bool color)
{
    const struct ct_table *t = it->table;
    char buf[128];
    int label_w = 0, value_w = 0;
    double max = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        const struct ct_cell *row = &t->cells[r * (size_t)t->ncols];
        fmt_cell(&row[it->label_col], buf, sizeof buf);
        int lw = ct_text_width(buf, strlen(buf));
        label_w = lw > label_w ? lw : label_w;
        fmt_cell(&row[it->value_col], buf, sizeof buf);
        int vw = ct_text_width(buf, strlen(buf));
        value_w = vw > value_w ? vw : value_w;
        double v = cell_value(&row[it->value_col]);
        if (isfinite(v) && v > max)
            max = v;
    }
    if (it->unit)
        value_w += 1 + ct_text_width(it->unit, strlen(it->unit));
    /* "  label |#####      value unit" */
    int bar_w = width - 2 - label_w - 2 - 1 - value_w;
    if (bar_w < 4) {
        /* narrow: labels get a line of their own */
        label_w = 0;
        bar_w = width - 2 - 2 - 1 - value_w;
    }
    if (bar_w < 1)
        bar_w = 1;
    if (it->label)
        ct_wrap(out, it->label, width, 2);
    for (size_t r = 0; r < t->nrows; r++) {
        const struct ct_cell *row = &t->cells[r * (size_t)t->ncols];
        double v = cell_value(&row[it->value_col]);
        int n = max > 0 && isfinite(v) && v > 0 ? (int)lround(v / max * bar_w) : 0;
        if (n == 0 && isfinite(v) && v > 0)
            n = 1;  /* a small value still shows */
        fmt_cell(&row[it->label_col], buf, sizeof buf);
        if (label_w == 0)
            fprintf(out, "  %s\n  |", buf);
        else
            fprintf(out, "  %s%*s |", buf, label_w - ct_text_width(buf, strlen(buf)), "");
        if (color)
            fputs("\033[36m", out);
        for (int i = 0; i < n; i++)
            fputc('#', out);
        if (color)
            fputs("\033[0m", out);
        fmt_cell(&row[it->value_col], buf, sizeof buf);
        fprintf(out, "%*s %s%s%s\n", bar_w - n, "", buf, it->unit ? " " : "",
                it->unit ? it->unit : "");
    }
}

void ct_report_print_summary(const struct ct_report *rep, FILE *out, int width,
                             bool color)
{
    int label_w = 0;
    for (size_t i = 0; i < rep->nitems; i++) {
        const struct item *it = &rep->items[i];
        if (it->kind <= IT_TEXT) {
            int w = ct_text_width(it->label, strlen(it->label));
            if (w > label_w)
                label_w = w;
        }
    }
    /* values start after the longest label, unless that leaves too little */
    int col = 2 + label_w + 2;
    if (col + 16 > width)
        col = 6;
    char buf[64], value[1024], head[256];
    bool after_block = false;
    for (size_t i = 0; i < rep->nitems; i++) {
        const struct item *it = &rep->items[i];
        if (after_block || (it->kind > IT_TEXT && i > 0))
            fputc('\n', out);
        after_block = it->kind > IT_TEXT;
        switch (it->kind) {
        case IT_INT:
        case IT_NUM:
        case IT_TEXT:
            if (it->kind == IT_INT)
                ct_group_digits(it->i, buf, sizeof buf);
            else if (it->kind == IT_NUM)
                snprintf(buf, sizeof buf, "%.*f", it->decimals, it->d);
            snprintf(value, sizeof value, "%s%s%s", it->kind == IT_TEXT ? it->text : buf,
                     it->unit ? " " : "", it->unit ? it->unit : "");
            snprintf(head, sizeof head, "%s", it->label);
            ct_wrap_item(out, head, 2, col, value, width);
            break;
        case IT_TABLE:
            print_table(it->table, out, width, color);
            break;
        case IT_BARS:
            print_bars(it, out, width, color);
            break;
        }
    }
    if (rep->nchecks == 0)
        return;
    heading(out, "Checks", color);
    for (size_t i = 0; i < rep->nchecks; i++) {
        const struct check *c = &rep->checks[i];
        if (color)
            snprintf(head, sizeof head, "%s%s\033[0m", c->ok ? "\033[32m" : "\033[1;31m",
                     c->ok ? "ok" : "FAIL");
        else
            snprintf(head, sizeof head, "%s", c->ok ? "ok" : "FAIL");
        ct_wrap_item(out, head, 2, 8, c->text, width);
    }
}

void ct_report_print_takeaway(const struct ct_report *rep, FILE *out, int width,
                              bool color)
{
    if (rep->ntake == 0)
        return;
    heading(out, "Takeaway", color);
    for (size_t i = 0; i < rep->ntake; i++) {
        if (i)
            fputc('\n', out);
        ct_wrap(out, rep->takeaway[i], width, 2);
    }
}

/* ---- reading it back ------------------------------------------------- */

bool ct_report_result(const struct ct_report *rep, const char *key, double *num,
                      const char **text)
{
    /* the last one recorded under the key, as JSON readers see it */
    for (size_t i = rep->nitems; i-- > 0;) {
        const struct item *it = &rep->items[i];
        if (it->kind > IT_TEXT || !it->key || strcmp(it->key, key) != 0)
            continue;
        *text = it->kind == IT_TEXT ? it->text : NULL;
        *num = it->kind == IT_INT ? (double)it->i : it->kind == IT_NUM ? it->d : NAN;
        return true;
    }
    return false;
}

char *ct_report_takeaway_join(const struct ct_report *rep, const char *sep)
{
    size_t len = 1;
    for (size_t i = 0; i < rep->ntake; i++)
        len += strlen(rep->takeaway[i]) + strlen(sep);
    char *all = calloc(1, len);
    for (size_t i = 0; all && i < rep->ntake; i++) {
        if (i)
            strcat(all, sep);
        strcat(all, rep->takeaway[i]);
    }
    return all;
}

size_t ct_report_count(const struct ct_report *rep)
{
    return rep->nitems;
}

void ct_report_get(const struct ct_report *rep, size_t i, struct ct_report_item *out)
{
    static const enum ct_item_kind kinds[] = {
        [IT_INT] = CT_ITEM_INT, [IT_NUM] = CT_ITEM_NUM, [IT_TEXT] = CT_ITEM_TEXT,
        [IT_TABLE] = CT_ITEM_TABLE, [IT_BARS] = CT_ITEM_BARS,
    };
    const struct item *it = &rep->items[i];
    *out = (struct ct_report_item){
        .kind = kinds[it->kind], .key = it->key, .label = it->label, .unit = it->unit,
        .text = it->text, .i = it->i, .d = it->d, .decimals = it->decimals,
        .table = it->table, .label_col = it->label_col, .value_col = it->value_col,
    };
}

const char *ct_report_check_at(const struct ct_report *rep, size_t i, bool *ok)
{
    *ok = rep->checks[i].ok;
    return rep->checks[i].text;
}

size_t ct_report_takeaway_count(const struct ct_report *rep)
{
    return rep->ntake;
}

const char *ct_report_takeaway_at(const struct ct_report *rep, size_t i)
{
    return rep->takeaway[i];
}

const char *ct_table_title(const struct ct_table *t)
{
    return t->title;
}

int ct_table_ncols(const struct ct_table *t)
{
    return t->ncols;
}

size_t ct_table_nrows(const struct ct_table *t)
{
    return t->nrows;
}

const char *ct_table_col_title(const struct ct_table *t, int c)
{
    return t->col_title[c];
}

const struct ct_cell *ct_table_cell(const struct ct_table *t, size_t r, int c)
{
    return &t->cells[r * (size_t)t->ncols + (size_t)c];
}

void ct_cell_format(const struct ct_cell *c, char *buf, size_t n)
{
    fmt_cell(c, buf, n);
}

double ct_cell_value(const struct ct_cell *c)
{
    return cell_value(c);
}

/* ---- JSON ------------------------------------------------------------- */

static void json_cell(struct ct_json *j, const struct ct_cell *c)
{
    switch (c->kind) {
    case CT_CELL_TEXT: ct_json_str(j, c->text); break;
    case CT_CELL_INT:  ct_json_int(j, c->i); break;
    case CT_CELL_NUM:  ct_json_num(j, c->d); break;
    }
}

static void json_table(struct ct_json *j, const struct ct_table *t)
{
    ct_json_key(j, t->key);
    ct_json_array_begin(j);
    for (size_t r = 0; r < t->nrows; r++) {
        ct_json_object_begin(j);
        for (int c = 0; c < t->ncols; c++) {
            ct_json_key(j, t->col_key[c]);
            json_cell(j, &t->cells[r * (size_t)t->ncols + (size_t)c]);
        }
        ct_json_object_end(j);
    }
    ct_json_array_end(j);
}

void ct_report_json(const struct ct_report *rep, struct ct_json *j)
{
    ct_json_key(j, "results");
    ct_json_object_begin(j);
    for (size_t i = 0; i < rep->nitems; i++) {
        const struct item *it = &rep->items[i];
        if (it->kind == IT_INT)
            ct_json_kv_int(j, it->key, it->i);
        else if (it->kind == IT_NUM)
            ct_json_kv_num(j, it->key, it->d);
        else if (it->kind == IT_TEXT)
            ct_json_kv_str(j, it->key, it->text);
    }
    ct_json_object_end(j);

    ct_json_key(j, "tables");
    ct_json_object_begin(j);
    for (size_t i = 0; i < rep->nitems; i++) {
        if (rep->items[i].kind == IT_TABLE)
            json_table(j, rep->items[i].table);
    }
    ct_json_object_end(j);

    ct_json_key(j, "checks");
    ct_json_array_begin(j);
    for (size_t i = 0; i < rep->nchecks; i++) {
        ct_json_object_begin(j);
        ct_json_kv_bool(j, "ok", rep->checks[i].ok);
        ct_json_kv_str(j, "what", rep->checks[i].text);
        ct_json_object_end(j);
    }
    ct_json_array_end(j);

    /* the takeaway's paragraphs, one string with a newline between */
    char *all = ct_report_takeaway_join(rep, "\n");
    ct_json_kv_str(j, "takeaway", all ? all : "");
    free(all);
}
