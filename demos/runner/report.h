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
