/* options.c - see options.h. */
#include "options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exit.h"
#include "text.h"

static int set_json(struct ct_options *o, const char *v, char *err, size_t n)
{
    (void)v, (void)err, (void)n;
    o->json = true;
    return 0;
}

static int set_no_color(struct ct_options *o, const char *v, char *err, size_t n)
{
    (void)v, (void)err, (void)n;
    o->no_color = true;
    return 0;
}

static int set_scale(struct ct_options *o, const char *v, char *err, size_t n)
{
    char *end;
    errno = 0;
    double s = strtod(v, &end);
    if (errno || end == v || *end || !(s >= 0.01 && s <= 100)) {
        char q[80];
        snprintf(err, n, "--scale must be a number in 0.01..100, got %s",
                 ct_quote(v, q, sizeof q));
        return -EINVAL;
    }
    o->scale = s;
    return 0;
}

static int set_lessons(struct ct_options *o, const char *v, char *err, size_t n)
{
    if (!*v) {
        snprintf(err, n, "--lessons needs a directory, got an empty name");
        return -EINVAL;
    }
    o->lessons_dir = v;
    return 0;
}

static int set_html(struct ct_options *o, const char *v, char *err, size_t n)
{
    if (!*v) {
        snprintf(err, n, "--html needs a file name, got an empty one");
        return -EINVAL;
    }
    o->html = v;
    return 0;
}

static int set_help(struct ct_options *o, const char *v, char *err, size_t n)
{
    (void)v, (void)err, (void)n;
    o->info = 'h';
    return 0;
}

static int set_version(struct ct_options *o, const char *v, char *err, size_t n)
{
    (void)v, (void)err, (void)n;
    o->info = 'v';
    return 0;
}

const struct ct_option ct_option_table[] = {
    { "--json", NULL, NULL, "print results as JSON", 0, set_json },
    { "--no-color", "--no-colour", NULL,
      "no colours (also NO_COLOR=1, or when output is not a terminal)", 0, set_no_color },
    { "--scale", NULL, "X", "multiply demo sleeps by X (0.01..100; default 1)", 0, set_scale },
    { "--html", NULL, "FILE",
      "with run: also write the run as one self-contained HTML page to FILE", 0, set_html },
    { "--lessons", NULL, "DIR",
      "read lesson files from DIR instead of the built-in ones (also CONCUR_TUTOR_LESSONS)",
      CT_OPT_STARTUP, set_lessons },
    { "--help", "-h", NULL, "usage, or help for the command named with it", CT_OPT_INFO,
      set_help },
    { "--version", "-V", NULL, "the version", CT_OPT_INFO, set_version },
    { NULL, NULL, NULL, NULL, 0, NULL },
};

void ct_option_usage(const struct ct_option *o, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
}

/* The option `a` names (as "--name" or "--name=value"), or NULL; *inline_value
 * points after the '=' when there is one. */
static const struct ct_option *match(const char *a, const char **inline_value)
{
    *inline_value = NULL;
    for (const struct ct_option *o = ct_option_table; o->name; o++) {
        const char *names[2] = { o->name, o->alias };
        for (int k = 0; k < 2 && names[k]; k++) {
            size_t len = strlen(names[k]);
            if (strncmp(a, names[k], len) != 0)
                continue;
            if (a[len] == '\0')
                return o;
            if (a[len] == '=' && o->arg) {
                *inline_value = a + len + 1;
                return o;
            }
        }
    }
    return NULL;
}

int ct_parse_options(int *argc, char **argv, struct ct_options *opt, bool startup)
{
    char err[256];
    int out = 1, i = 1;
    for (; i < *argc; i++) {
        const char *a = argv[i], *value;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        const struct ct_option *o = match(a, &value);
        if (!o) {
            argv[out++] = argv[i];
            continue;
        }
        if ((o->flags & CT_OPT_STARTUP) && !startup) {
            ct_error("concur-tutor: %s can only be given when concur-tutor starts",
                     o->name);
            return CT_EXIT_USAGE;
        }
        if (o->arg && !value) {
            if (i + 1 >= *argc) {
                ct_error("concur-tutor: %s needs a value (%s %s)", o->name, o->name,
                         o->arg);
                return CT_EXIT_USAGE;
            }
            value = argv[++i];
        }
        if (o->set(opt, value, err, sizeof err) != 0) {
            ct_error("concur-tutor: %s", err);
            return CT_EXIT_USAGE;
        }
    }
    for (; i < *argc; i++)
        argv[out++] = argv[i];
    argv[out] = NULL;
    *argc = out;
    return 0;
}
