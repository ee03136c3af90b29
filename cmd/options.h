/* options.h - the one table of global options.
 *
 * Options may stand anywhere on the command line or on a line typed at the
 * prompt.  The parser, the usage text, `help`, the man page and TAB
 * completion all read ct_option_table, so an option is described once.
 */
#ifndef CT_OPTIONS_H
#define CT_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Options in force for one invocation, or for one line at the prompt. */
struct ct_options {
    bool json;
    bool no_color;
    double scale;
    const char *lessons_dir;    /* --lessons or $CONCUR_TUTOR_LESSONS; NULL: built in */
    const char *html;           /* --html FILE: run writes the run as a page */
    char info;                  /* 'h' after --help, 'v' after --version */
};

enum {
    CT_OPT_STARTUP = 1u << 0,   /* only when the program starts (--lessons) */
    CT_OPT_INFO = 1u << 1,      /* prints something instead of running (--help) */
};

struct ct_option {
    const char *name;           /* "--scale" */
    const char *alias;          /* another spelling ("-h"), or NULL */
    const char *arg;            /* the value's placeholder ("X"), NULL for a flag */
    const char *help;           /* one line, for usage and the man page */
    unsigned flags;
    /* Apply the option; `value` is NULL for a flag.  0, or -EINVAL with a
     * one-line message in `err`. */
    int (*set)(struct ct_options *o, const char *value, char *err, size_t n);
};

/* The options, ended by an entry whose name is NULL. */
extern const struct ct_option ct_option_table[];

/* Take the options out of argv[1..] wherever they stand, applying them to
 * `opt`; "--" ends the options (and is removed).  `startup` allows the
 * CT_OPT_STARTUP ones.  Returns 0, or CT_EXIT_USAGE after printing the
 * error on stderr. */
int ct_parse_options(int *argc, char **argv, struct ct_options *opt, bool startup);

/* "--scale X" as shown in usage; `buf` gets at most n bytes. */
void ct_option_usage(const struct ct_option *o, char *buf, size_t n);

#endif
