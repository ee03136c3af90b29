/* report.h - what a demo run found: results, tables, checks, takeaway.
 *
 * The runner keeps one report per run and renders it twice over: as the
 * text summary a student reads, and as the JSON object `--json` prints.
 * Every recording function takes the report's lock, so worker threads may
 * record too (a ct_table_row on one table from two threads interleaves
 * rows, nothing worse).
 */
#ifndef CT_REPORT_H
#define CT_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "demo.h"
#include "json.h"

struct ct_report;

struct ct_report *ct_report_new(void);
void ct_report_free(struct ct_report *rep);

void ct_report_int(struct ct_report *rep, const char *key, const char *label,
                   long long value, const char *unit);
void ct_report_num(struct ct_report *rep, const char *key, const char *label,
                   double value, int decimals, const char *unit);
void ct_report_text(struct ct_report *rep, const char *key, const char *label,
                    const char *text);
struct ct_table *ct_report_table(struct ct_report *rep, const char *key,
                                 const char *title, const char *const *cols);
void ct_report_bars(struct ct_report *rep, const struct ct_table *t,
                    const char *title, int label_col, int value_col,
                    const char *unit);
void ct_report_check(struct ct_report *rep, bool ok, const char *text);
void ct_report_takeaway(struct ct_report *rep, const char *text);

/* True if any recorded check failed. */
bool ct_report_failed(const struct ct_report *rep);
/* Number of checks recorded, and of those that passed. */
int ct_report_checks(const struct ct_report *rep, int *passed);

/* The value of result `key`: true with *num set for an int or a number
 * (and *text NULL), or with *text set for a text result; false when the
 * report has no such result. */
bool ct_report_result(const struct ct_report *rep, const char *key, double *num,
                      const char **text);
/* The takeaway's paragraphs joined by `sep`, in a new string (NULL when
 * out of memory); "" when there is none. */
char *ct_report_takeaway_join(const struct ct_report *rep, const char *sep);

/* ---- Walking a report, for renderers other than text and JSON (html.c).
 * Items come in the order they were recorded. */
enum ct_item_kind { CT_ITEM_INT, CT_ITEM_NUM, CT_ITEM_TEXT, CT_ITEM_TABLE, CT_ITEM_BARS };
struct ct_report_item {
    enum ct_item_kind kind;
    const char *key, *label, *unit, *text;  /* BARS: label is the chart's title */
    long long i;
    double d;
    int decimals;
    const struct ct_table *table;           /* TABLE, and BARS: the table drawn */
    int label_col, value_col;               /* BARS */
};
size_t ct_report_count(const struct ct_report *rep);
void ct_report_get(const struct ct_report *rep, size_t i, struct ct_report_item *out);
/* Check i's text, and whether it held. */
const char *ct_report_check_at(const struct ct_report *rep, size_t i, bool *ok);
size_t ct_report_takeaway_count(const struct ct_report *rep);
const char *ct_report_takeaway_at(const struct ct_report *rep, size_t i);

const char *ct_table_title(const struct ct_table *t);  /* may be NULL */
int ct_table_ncols(const struct ct_table *t);
size_t ct_table_nrows(const struct ct_table *t);
const char *ct_table_col_title(const struct ct_table *t, int c);
const struct ct_cell *ct_table_cell(const struct ct_table *t, size_t r, int c);
/* A cell as the text summary shows it ("1,234", "0.52", "-" for NaN). */
void ct_cell_format(const struct ct_cell *c, char *buf, size_t n);
/* A number cell's value; NaN for text. */
double ct_cell_value(const struct ct_cell *c);

/* Text: the "Summary" section (scalars, tables, bar charts in the order
 * they were recorded) and the "Checks" section. */
void ct_report_print_summary(const struct ct_report *rep, FILE *out,
                             int width, bool color);
/* Text: the "Takeaway" section. */
void ct_report_print_takeaway(const struct ct_report *rep, FILE *out,
                              int width, bool color);
/* JSON: the members "results", "tables", "checks" and "takeaway" of the
 * object `j` is writing. */
void ct_report_json(const struct ct_report *rep, struct ct_json *j);

#endif
