/* params.h - parsing and validating a demo's key=value parameters.
 *
 * Used by the runner, by tab completion and by the tests.  Errors are
 * written into a caller's buffer as one lowercase line that names the bad
 * thing and says what is accepted, e.g.
 *     threads must be 1..1024, got '0'
 *     unknown parameter 'thread' (did you mean 'threads'?); accepted: ...
 */
#ifndef CT_PARAMS_H
#define CT_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "demo.h"
#include "json.h"

#define CT_MAX_PARAMS 16
#define CT_MAX_CHOICES 32

struct ct_param_value {
    long long i;        /* INT */
    double d;           /* NUM */
    bool b;             /* BOOL */
    int choice;         /* CHOICE: index into the choices */
    unsigned set;       /* SET: bit i = choice i */
    char text[CT_PARAM_TEXT_MAX];   /* TEXT */
    bool given;         /* set by the user rather than the default */
};

struct ct_params {
    const struct ct_param_spec *spec;
    int n;
    struct ct_param_value v[CT_MAX_PARAMS];
};

/* Fill `p` with the defaults of `spec`.  Fails (-EINVAL, message in err)
 * only if the spec itself is broken, which the tests rule out. */
int ct_params_defaults(struct ct_params *p, const struct ct_param_spec *spec,
                       char *err, size_t errlen);

/* Set one parameter from text.  0 or -EINVAL with a message. */
int ct_params_set(struct ct_params *p, const char *key, const char *value,
                  char *err, size_t errlen);

/* Parse `key=value`, `--key value` and `--key=value` arguments (a BOOL may
 * be given bare, `--key`, meaning true).  0 or -EINVAL with a message. */
int ct_params_parse(struct ct_params *p, int argc, char **argv, char *err,
                    size_t errlen);

/* Index of the parameter called `name`, or -1. */
int ct_params_find(const struct ct_params *p, const char *name);

/* The value of parameter `i` as the user would type it. */
void ct_params_format(const struct ct_params *p, int i, char *buf, size_t n);

/* All the values as one JSON object: numbers, booleans, the chosen word,
 * or an array of the chosen words of a set. */
void ct_params_json(const struct ct_params *p, struct ct_json *j);

/* The parameters the runner understands for every demo, whatever its own
 * spec says: predict=true (ask the demo's question first) and runs=N
 * (repeat it and show the spread of its result).  No demo may declare a
 * parameter of these names. */
extern const struct ct_param_spec ct_runner_params[];

/* Sort a demo's arguments: those that set a parameter of `extra` (in any
 * of the forms ct_params_parse accepts, "--runs 5" taking its value along)
 * go to mine[], the others to rest[], each in order.  Both arrays must
 * have room for argc entries. */
void ct_params_split(const struct ct_param_spec *extra, int argc, char **argv, char **mine,
                     int *nmine, char **rest, int *nrest);

/* What a parameter accepts, for help and manuals: "1..1024", "true or
 * false", "one of a,b", "any of a,b, or all", "text". */
void ct_param_range(const struct ct_param_spec *sp, char *buf, size_t n);

/* The `idx`-th word of a comma-separated choices list, copied into buf;
 * false when there is no such word. */
bool ct_choice_word(const char *choices, int idx, char *buf, size_t n);

#endif
