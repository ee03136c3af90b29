/* commands.h - the one command table, shared by argv mode and the REPL.
 *
 * `help`, usage errors, tab completion, the man page and the REPL all read
 * the table; nothing about a command is written twice.  A command's
 * function lives in the file of its kind (show.c: list and show; run.c:
 * run) and is declared here.
 */
#ifndef CT_COMMANDS_H
#define CT_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lessons.h"
#include "options.h"

/* What the program knows between commands. */
struct ct_ctx {
    struct ct_options opt;      /* as given at start-up */
    const char *self;           /* path of this program, for child demos */
    bool repl;                  /* reading commands from a prompt or script */
    bool quit;                  /* set by quit/exit */
    /* the lessons, loaded by the first command that needs them */
    struct ct_library lib;
    int lib_state;              /* 0 not tried, 1 loaded, -1 failed */
    char lib_err[512];
};

/* The lessons: loaded on first use.  NULL if they cannot be loaded; with
 * `report`, the error has then been printed on stderr. */
const struct ct_library *ct_ctx_lessons(struct ct_ctx *ctx, bool report);
/* The exit code for a failure of ct_ctx_lessons: a bad --lessons
 * directory is a usage error, a broken build a failure. */
int ct_ctx_lessons_error(const struct ct_ctx *ctx);
void ct_ctx_free(struct ct_ctx *ctx);

/* What a command's arguments complete to. */
enum ct_complete {
    CT_COMPLETE_NONE,
    CT_COMPLETE_CHAPTER,    /* list */
    CT_COMPLETE_TOPIC,      /* show: lessons, demos, chapters */
    CT_COMPLETE_DEMO,       /* run: a demo, then its parameters */
    CT_COMPLETE_HELP,       /* help: commands and demos */
    CT_COMPLETE_SCENARIO,   /* explore: a scenario, then its words */
    CT_COMPLETE_EXERCISE,   /* exercise, check, hint, solution, watch */
    CT_COMPLETE_EX_CHAPTER, /* exercises: chapters that have exercises */
    CT_COMPLETE_WALK,       /* walk: chapters and lessons */
    CT_COMPLETE_SOURCE,     /* source: demos and modules, then their functions */
    CT_COMPLETE_PROGRESS,   /* progress: reset */
};

enum {
    CT_CMD_REPL_ONLY = 1u << 0,     /* quit, exit */
    CT_CMD_HIDDEN = 1u << 1,        /* internal: not listed or completed */
    CT_CMD_LESSONS = 1u << 2,       /* needs the lessons loaded */
    CT_CMD_HTML = 1u << 3,          /* takes --html FILE */
    CT_CMD_JSON = 1u << 4,          /* has a JSON form: takes --json */
};

typedef int ct_command_fn(struct ct_ctx *ctx, const struct ct_options *opt, int argc,
                          char **argv);

struct ct_command {
    const char *name;
    const char *args;       /* usage, e.g. "DEMO [KEY=VALUE ...]" */
    const char *summary;    /* one line */
    const char *help;       /* paragraphs for `help NAME` */
    int min_args, max_args; /* max -1: any number */
    enum ct_complete complete;
    unsigned flags;
    /* argv[0] is the command name.  Returns an exit code (exit.h). */
    ct_command_fn *fn;
};

extern const struct ct_command ct_commands[];

const struct ct_command *ct_command_find(const char *name);

/* Run one command (argv[0] is its name) with the options in force. */
int ct_dispatch(struct ct_ctx *ctx, const struct ct_options *opt, int argc,
                char **argv);

/* Run one line typed at the prompt or read from a script. */
int ct_exec_line(struct ct_ctx *ctx, const char *line);

/* The usage line and help text of the whole program. */
void ct_print_usage(FILE *out);

/* Print "concur-tutor: MESSAGE" on stderr; returns CT_EXIT_USAGE. */
int ct_usage_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* If `name` is a demo id that was retired (renamed or split), print what
 * replaced it, prefixed with "CMD: " unless cmd is NULL, and return
 * CT_EXIT_USAGE; else 0. */
int ct_retired_demo_error(const char *cmd, const char *name);

/* Whether text output gets colours. */
bool ct_use_color(const struct ct_options *opt);

/* Commands that live in files of their own. */
ct_command_fn ct_cmd_list, ct_cmd_show;        /* show.c */
ct_command_fn ct_cmd_explore;                  /* explore.c */
ct_command_fn ct_cmd_exercises, ct_cmd_exercise, ct_cmd_check, ct_cmd_hint,
    ct_cmd_solution, ct_cmd_watch;              /* exercise.c */
/* The classroom commands. */
ct_command_fn ct_cmd_walk;                      /* walk.c */
ct_command_fn ct_cmd_source;                    /* source.c */
/* `source WHAT [FN]` rendered into `out` (the walk shows a demo's source
 * through it): 0, or an exit code with the message in err. */
int ct_source_render(FILE *out, const char *what, const char *fn, int width, bool color,
                     bool utf8, char *err, size_t errlen);
/* Words for completing `source`: with `what` NULL, the modules besides the
 * demos; else the names FUNCTION may take in `what`. */
void ct_source_words(const char *what, void (*offer)(void *arg, const char *word), void *arg);
ct_command_fn ct_cmd_progress;                  /* progress.c */
ct_command_fn ct_cmd_doctor;                    /* doctor.c */
ct_command_fn ct_cmd_completion;                /* completion.c: __completion */

/* Run demo `d` with the arguments `argv` (key=value ...) as `run` does,
 * recording it in the progress file; `outcome` (may be NULL) receives what
 * the run found.  Returns the exit code. */
struct ct_run_outcome;
struct ct_demo;
int ct_exec_demo(struct ct_ctx *ctx, const struct ct_options *opt, const struct ct_demo *d,
                int argc, char **argv, struct ct_run_outcome *outcome);

/* A demo's title, intro and parameter table, rendered like lesson text
 * (show.c; `help DEMO` uses it too). */
struct ct_demo;
struct ct_render_opts;
void ct_print_demo_params(FILE *out, const struct ct_demo *d,
                          const struct ct_render_opts *ro);
/* Render options for text output under `opt`. */
struct ct_render_opts ct_render_opts_for(const struct ct_options *opt);

#endif
