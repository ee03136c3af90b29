/* json.c - see json.h. */
#include "json.h"

#include <assert.h>
#include <math.h>
#include <string.h>

void ct_json_init(struct ct_json *j, FILE *out)
{
    *j = (struct ct_json){ .out = out };
}

void ct_json_finish(struct ct_json *j)
{
    assert(j->depth == 0 && !j->after_key);
    fputc('\n', j->out);
}

/* Before a value: the comma that separates it from the previous element,
 * unless it is the value of a key just written. */
static void before_value(struct ct_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    assert(j->depth == 0 || !j->in_object[j->depth]);
    if (j->depth > 0 && j->count[j->depth]++ > 0)
        fputc(',', j->out);
}

static void open_container(struct ct_json *j, bool object)
{
    before_value(j);
    assert(j->depth + 1 < CT_JSON_MAX_DEPTH);
    j->depth++;
    j->in_object[j->depth] = object;
    j->count[j->depth] = 0;
    fputc(object ? '{' : '[', j->out);
}

static void close_container(struct ct_json *j, bool object)
{
    assert(j->depth > 0 && j->in_object[j->depth] == object && !j->after_key);
    j->depth--;
    fputc(object ? '}' : ']', j->out);
}

void ct_json_object_begin(struct ct_json *j) { open_container(j, true); }
void ct_json_object_end(struct ct_json *j) { close_container(j, true); }
void ct_json_array_begin(struct ct_json *j) { open_container(j, false); }
void ct_json_array_end(struct ct_json *j) { close_container(j, false); }

static void write_string(FILE *out, const char *s, size_t len)
{
    fputc('"', out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':  fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\t': fputs("\\t", out); break;
        case '\r': fputs("\\r", out); break;
        default:
            if (c < 0x20 || c == 0x7f)
                fprintf(out, "\\u%04x", c);
            else
                fputc(c, out);
        }
    }
    fputc('"', out);
}

void ct_json_key(struct ct_json *j, const char *key)
{
    assert(j->depth > 0 && j->in_object[j->depth] && !j->after_key);
    if (j->count[j->depth]++ > 0)
        fputc(',', j->out);
    write_string(j->out, key, strlen(key));
    fputc(':', j->out);
    j->after_key = true;
}

void ct_json_strn(struct ct_json *j, const char *s, size_t len)
{
    before_value(j);
    write_string(j->out, s, len);
}

void ct_json_str(struct ct_json *j, const char *s)
{
    if (!s) {
        ct_json_null(j);
        return;
    }
    ct_json_strn(j, s, strlen(s));
}

void ct_json_int(struct ct_json *j, long long v)
{
    before_value(j);
    fprintf(j->out, "%lld", v);
}

void ct_json_num(struct ct_json *j, double v)
{
    before_value(j);
    if (isfinite(v))
        fprintf(j->out, "%.10g", v);
    else
        fputs("null", j->out);
}

void ct_json_bool(struct ct_json *j, bool v)
{
    before_value(j);
    fputs(v ? "true" : "false", j->out);
}

void ct_json_null(struct ct_json *j)
{
    before_value(j);
    fputs("null", j->out);
}

void ct_json_kv_str(struct ct_json *j, const char *key, const char *s)
{
    ct_json_key(j, key);
    ct_json_str(j, s);
}

void ct_json_kv_int(struct ct_json *j, const char *key, long long v)
{
    ct_json_key(j, key);
    ct_json_int(j, v);
}

void ct_json_kv_num(struct ct_json *j, const char *key, double v)
{
    ct_json_key(j, key);
    ct_json_num(j, v);
}

void ct_json_kv_bool(struct ct_json *j, const char *key, bool v)
{
    ct_json_key(j, key);
    ct_json_bool(j, v);
}
