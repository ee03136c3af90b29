/* commands.h - the one command table, shared by argv mode and the REPL.
 *
 * `help`, usage errors, tab completion and the REPL all read the table;
 * nothing about a command is written twice.
 */
#ifndef CT_COMMANDS_H
#define CT_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lessons.h"

/* Options that apply to a whole invocation (argv) or to one REPL line. */
struct ct_options {
    bool json;
    bool no_color;
    double scale;
};

struct ct_ctx {
    struct ct_library *lib;
    struct ct_options opt;      /* as given at start-up */
    const char *self;           /* path of this program, for child demos */
    bool repl;                  /* reading commands from a prompt or script */
    bool quit;                  /* set by quit/exit */
};

/* What a command's arguments complete to. */
enum ct_complete {
    CT_COMPLETE_NONE,
    CT_COMPLETE_CHAPTER,    /* list */
    CT_COMPLETE_TOPIC,      /* show: lessons, demos, chapters */
    CT_COMPLETE_DEMO,       /* run: a demo, then its parameters */
    CT_COMPLETE_HELP,       /* help: commands and demos */
};

enum {
    CT_CMD_REPL_ONLY = 1u << 0,     /* quit, exit */
    CT_CMD_HIDDEN = 1u << 1,        /* internal: not listed or completed */
};

struct ct_command {
    const char *name;
    const char *args;       /* usage, e.g. "DEMO [KEY=VALUE ...]" */
    const char *summary;    /* one line */
    const char *help;       /* paragraphs for `help NAME` */
    int min_args, max_args; /* max -1: any number */
    enum ct_complete complete;
    unsigned flags;
    /* argv[0] is the command name.  Returns an exit code (run.h). */
    int (*fn)(struct ct_ctx *ctx, const struct ct_options *opt, int argc,
              char **argv);
};

extern const struct ct_command ct_commands[];

const struct ct_command *ct_command_find(const char *name);

/* Remove global options (--json, --no-color, --scale X) from argv wherever
 * they stand, updating `opt`; `--lessons DIR` is accepted only when
 * `lessons_dir` is non-NULL (start-up), `--help`/`--version` only when
 * `info` is non-NULL (set to 'h' or 'v').  Stops at "--".  Returns 0 or
 * CT_EXIT_USAGE after printing the error. */
int ct_parse_options(int *argc, char **argv, struct ct_options *opt,
                     const char **lessons_dir, char *info);

/* Run one command (argv[0] is its name) with the options in force. */
int ct_dispatch(struct ct_ctx *ctx, const struct ct_options *opt, int argc,
                char **argv);

/* Split a command line into words in place: blanks separate words, '...'
 * and "..." quote, a word starting with # ends the line.  Returns the
 * number of words or -1 for an unclosed quote. */
int ct_split_line(char *line, char **argv, int max);

/* Run one line typed at the prompt or read from a script. */
int ct_exec_line(struct ct_ctx *ctx, const char *line);

/* Tab completion.  For the text `line` (everything left of the cursor),
 * copies up to `max` candidates for the word being typed (which starts at
 * line + *word_start) into `out` and returns how many there are (more than
 * max means some were left out).  A parameter name is offered as "name=",
 * ready for its value. */
#define CT_COMPLETE_LEN 64
int ct_complete(const struct ct_ctx *ctx, const char *line, size_t *word_start,
                char (*out)[CT_COMPLETE_LEN], int max);

/* The usage line and help text of the whole program. */
void ct_print_usage(FILE *out);

#endif
