/* demojson.h - reading a demo's JSON report in tests: results by key,
 * table rows by a column's value, and whether every check passed. */
#ifndef CT_DEMOJSON_H
#define CT_DEMOJSON_H

#include <jansson.h>
#include <stdbool.h>

/* results.KEY as a number (integer or real); 0 if absent. */
double dj_num(json_t *j, const char *key);
/* results.KEY as a string; "" if absent. */
const char *dj_text(json_t *j, const char *key);
/* The rows of tables.NAME (an array; NULL if absent). */
json_t *dj_table(json_t *j, const char *name);
/* The first row of tables.NAME whose column COL is the string VALUE. */
json_t *dj_row(json_t *j, const char *name, const char *col, const char *value);
/* A row's column as a number / string. */
double dj_cell_num(json_t *row, const char *col);
const char *dj_cell_text(json_t *row, const char *col);
/* Every check passed (and there was at least one); prints the first
 * failure to stderr. */
bool dj_checks_ok(json_t *j);

#endif
