/* demojson.c - see demojson.h. */
#include "demojson.h"

#include <stdio.h>
#include <string.h>

static double num(json_t *v)
{
    return json_is_integer(v) ? (double)json_integer_value(v) : json_number_value(v);
}

double dj_num(json_t *j, const char *key)
{
    return num(json_object_get(json_object_get(j, "results"), key));
}

const char *dj_text(json_t *j, const char *key)
{
    const char *s = json_string_value(json_object_get(json_object_get(j, "results"), key));
    return s ? s : "";
}

json_t *dj_table(json_t *j, const char *name)
{
    return json_object_get(json_object_get(j, "tables"), name);
}

json_t *dj_row(json_t *j, const char *name, const char *col, const char *value)
{
    json_t *row;
    size_t i;
    json_array_foreach(dj_table(j, name), i, row) {
        const char *s = json_string_value(json_object_get(row, col));
        if (s && strcmp(s, value) == 0)
            return row;
    }
    return NULL;
}

double dj_cell_num(json_t *row, const char *col)
{
    return num(json_object_get(row, col));
}

const char *dj_cell_text(json_t *row, const char *col)
{
    const char *s = json_string_value(json_object_get(row, col));
    return s ? s : "";
}

bool dj_checks_ok(json_t *j)
{
    json_t *checks = json_object_get(j, "checks"), *c;
    size_t i;
    if (json_array_size(checks) == 0)
        return false;
    json_array_foreach(checks, i, c) {
        if (!json_is_true(json_object_get(c, "ok"))) {
            fprintf(stderr, "check failed: %s\n", json_string_value(json_object_get(c, "what")));
            return false;
        }
    }
    return true;
}
