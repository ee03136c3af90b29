/* json.h - the one JSON writer: every JSON the program prints goes through it.
 *
 * The writer keeps track of nesting and commas, so callers only say what
 * comes next:
 *
 *     struct ct_json j;
 *     ct_json_init(&j, stdout);
 *     ct_json_object_begin(&j);
 *     ct_json_kv_str(&j, "demo", "race");
 *     ct_json_key(&j, "lost");
 *     ct_json_array_begin(&j);
 *     ct_json_int(&j, 3);
 *     ct_json_int(&j, 0);
 *     ct_json_array_end(&j);
 *     ct_json_object_end(&j);      // {"demo":"race","lost":[3,0]}
 *     ct_json_finish(&j);          // newline after the top-level value
 *
 * Strings are escaped as RFC 8259 requires (quotes, backslash, control
 * characters); numbers that are not finite are written as null.  Misuse
 * (a key outside an object, a value where a key is due, too deep) is a bug
 * and trips an assertion.
 */
#ifndef CT_JSON_H
#define CT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CT_JSON_MAX_DEPTH 32

struct ct_json {
    FILE *out;
    int depth;                          /* 0: at top level */
    bool after_key;                     /* a key was written, its value is due */
    bool in_object[CT_JSON_MAX_DEPTH];  /* per level: object (true) or array */
    unsigned count[CT_JSON_MAX_DEPTH];  /* per level: members written so far */
};

void ct_json_init(struct ct_json *j, FILE *out);
/* End the top-level value with a newline (all containers must be closed). */
void ct_json_finish(struct ct_json *j);

void ct_json_object_begin(struct ct_json *j);
void ct_json_object_end(struct ct_json *j);
void ct_json_array_begin(struct ct_json *j);
void ct_json_array_end(struct ct_json *j);

/* The key of the next member of the current object. */
void ct_json_key(struct ct_json *j, const char *key);

/* Values: as an array element, or as the value of the key just written. */
void ct_json_str(struct ct_json *j, const char *s);
void ct_json_strn(struct ct_json *j, const char *s, size_t len);
void ct_json_int(struct ct_json *j, long long v);
void ct_json_num(struct ct_json *j, double v);
void ct_json_bool(struct ct_json *j, bool v);
void ct_json_null(struct ct_json *j);

/* A key and its value in one call. */
void ct_json_kv_str(struct ct_json *j, const char *key, const char *s);
void ct_json_kv_int(struct ct_json *j, const char *key, long long v);
void ct_json_kv_num(struct ct_json *j, const char *key, double v);
void ct_json_kv_bool(struct ct_json *j, const char *key, bool v);

#endif
