/* commands.c - the command table, dispatch, and the small commands (run,
 * help, quit and the internal ones); list and show are in show.c. */
#include "commands.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct-config.h"
#include "exit.h"
#include "man.h"
#include "params.h"
#include "progress.h"
#include "registry.h"
#include "render.h"
#include "run.h"
#include "term.h"
#include "text.h"
#include "words.h"

#define PROG "concur-tutor"

int ct_usage_error(const char *fmt, ...)
{
    char prefixed[512];
    va_list ap;
    /* the prefix joins the format, so that the message wraps as one */
    int n = snprintf(prefixed, sizeof prefixed, PROG ": %s", fmt);
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof prefixed) {
        ct_verror(prefixed, ap);
    } else {
        fputs(PROG ": ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    }
    va_end(ap);
    return CT_EXIT_USAGE;
}

bool ct_use_color(const struct ct_options *opt)
{
    return !opt->json && ct_term_color(opt->no_color);
}

struct ct_render_opts ct_render_opts_for(const struct ct_options *opt)
{
    int width = ct_term_width();
    bool color = ct_use_color(opt);
    /* box-drawing rules and bullets only on a colour terminal in a UTF-8
     * locale; piped and --no-color output stays plain ASCII */
    return (struct ct_render_opts){
        .width = width > 100 ? 100 : width,
        .color = color,
        .utf8 = color && MB_CUR_MAX > 1,
    };
}

/* ---- the lessons, loaded when first needed ------------------------------ */

const struct ct_library *ct_ctx_lessons(struct ct_ctx *ctx, bool report)
{
    if (ctx->lib_state == 0) {
        const char *dir = ctx->opt.lessons_dir;
        int rc = dir ? ct_library_load_dir(&ctx->lib, dir, ctx->lib_err, sizeof ctx->lib_err)
                     : ct_library_load_embedded(&ctx->lib, ctx->lib_err, sizeof ctx->lib_err);
        ctx->lib_state = rc == 0 ? 1 : -1;
    }
    if (ctx->lib_state > 0)
        return &ctx->lib;
    if (report)
        ct_error(PROG ": lessons: %s", ctx->lib_err);
    return NULL;
}

int ct_ctx_lessons_error(const struct ct_ctx *ctx)
{
    return ctx->opt.lessons_dir ? CT_EXIT_USAGE : CT_EXIT_FAILED;
}

void ct_ctx_free(struct ct_ctx *ctx)
{
    if (ctx->lib_state > 0)
        ct_library_free(&ctx->lib);
    ctx->lib_state = 0;
}

/* "race, threads, thread-return, ..." for messages. */
static void demo_names(char *buf, size_t n)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ct_demo_count && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%s", i ? ", " : "", ct_demos[i]->name);
}

/* Demo ids the curriculum or older versions used, and the demos that took
 * their place: `run`, `help`, `show` and `source` explain the move instead
 * of calling the name unknown. */
static const struct retired {
    const char *name;
    const char *now[4];         /* NULL-terminated */
} retired_demos[] = {
    { "send-sync", { "send", "sync", "not-sync", NULL } },      /* one per lesson */
};

int ct_retired_demo_error(const char *cmd, const char *name)
{
    static const char *const count_word[] = { "no", "one", "two", "three", "four" };
    for (size_t i = 0; i < sizeof retired_demos / sizeof *retired_demos; i++) {
        const struct retired *r = &retired_demos[i];
        if (strcmp(r->name, name) != 0)
            continue;
        char list[256] = "";
        size_t n = 0, off = 0;
        for (; r->now[n]; n++)
            off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", n ? ", " : "",
                                    r->now[n]);
        if (n == 1)
            return ct_usage_error("%s%s%s is now called %s", cmd ? cmd : "", cmd ? ": " : "",
                                  r->name, list);
        return ct_usage_error("%s%s%s is now %s demos: %s", cmd ? cmd : "", cmd ? ": " : "",
                              r->name, count_word[n], list);
    }
    return 0;
}

/* "list, show, run, ..." from the command table: the commands a user can
 * type here (quit and exit only at the prompt) that have every flag of
 * `need`. */
static void command_names(char *buf, size_t n, bool repl, unsigned need)
{
    size_t off = 0;
    buf[0] = '\0';
    for (const struct ct_command *c = ct_commands; c->name && off < n; c++) {
        if ((c->flags & CT_CMD_HIDDEN) || ((c->flags & CT_CMD_REPL_ONLY) && !repl) ||
            (c->flags & need) != need)
            continue;
        off += (size_t)snprintf(buf + off, n - off, "%s%s", off ? ", " : "", c->name);
    }
}

/* ---- run -------------------------------------------------------------- */

static int unknown_demo(const char *name)
{
    int rc = ct_retired_demo_error(NULL, name);
    if (rc)
        return rc;
    struct ct_suggest s;
    ct_suggest_init(&s, name);
    for (size_t i = 0; i < ct_demo_count; i++)
        ct_suggest_add(&s, ct_demos[i]->name);
    if (ct_suggest_result(&s))
        return ct_usage_error("unknown demo %s (did you mean '%s'?)", CT_Q(name),
                              ct_suggest_result(&s));
    char names[1024];
    demo_names(names, sizeof names);
    return ct_usage_error("unknown demo %s; demos: %s", CT_Q(name), names);
}

int ct_exec_demo(struct ct_ctx *ctx, const struct ct_options *opt, const struct ct_demo *d,
                int argc, char **argv, struct ct_run_outcome *outcome)
{
    struct ct_run_outcome mine = { .status = "" };
    struct ct_run_opts ro = {
        .out = stdout,
        .json = opt->json,
        .color = ct_use_color(opt),
        .scale = opt->scale,
        .width = ct_term_width(),
        .self = ctx->self,
        .progname = PROG,
        .in = stdin,
        .html = opt->html,
        .outcome = outcome ? outcome : &mine,
    };
    int rc = ct_demo_exec(d, argc, argv, &ro);
    if (*ro.outcome->status)
        ct_progress_demo_ran(d->name, ro.outcome->status, ro.outcome->runs);
    free(mine.takeaway);
    return rc;
}

static int cmd_run(struct ct_ctx *ctx, const struct ct_options *opt, int argc,
                   char **argv)
{
    const struct ct_demo *d = ct_demo_find(argv[1]);
    if (!d)
        return unknown_demo(argv[1]);
    return ct_exec_demo(ctx, opt, d, argc - 2, argv + 2, NULL);
}

/* ---- help, quit, __child ---------------------------------------------- */

static void print_command_help(FILE *out, const struct ct_command *c)
{
    char usage[256];
    snprintf(usage, sizeof usage, "%s%s%s", c->name, c->args ? " " : "", c->args ? c->args : "");
    ct_wrap_item(out, "usage:", 0, 7, usage, ct_term_width());
    fputc('\n', out);
    ct_wrap(out, c->summary, ct_term_width(), 2);
    if (c->help) {
        fputc('\n', out);
        ct_wrap(out, c->help, ct_term_width(), 2);
    }
    if (c->complete == CT_COMPLETE_DEMO) {
        /* the demos that ask a question, from the registry */
        char names[1024] = "Demos with a question for predict=true:";
        size_t off = strlen(names);
        for (size_t i = 0; i < ct_demo_count && off < sizeof names; i++) {
            if (ct_demos[i]->predict)
                off += (size_t)snprintf(names + off, sizeof names - off, " %s",
                                        ct_demos[i]->name);
        }
        fputc('\n', out);
        ct_wrap(out, names, ct_term_width(), 2);
    }
}

static int cmd_help(struct ct_ctx *ctx, const struct ct_options *opt, int argc,
                    char **argv)
{
    if (argc < 2) {
        ct_print_usage(stdout);
        return CT_EXIT_OK;
    }
    const struct ct_command *c = ct_command_find(argv[1]);
    if (c && !(c->flags & CT_CMD_HIDDEN)) {
        print_command_help(stdout, c);
        return CT_EXIT_OK;
    }
    const struct ct_demo *d = ct_demo_find(argv[1]);
    if (d) {
        struct ct_render_opts ro = ct_render_opts_for(opt);
        ct_print_demo_params(stdout, d, &ro);
        return CT_EXIT_OK;
    }
    int rc = ct_retired_demo_error("help", argv[1]);
    if (rc)
        return rc;
    struct ct_suggest s;
    ct_suggest_init(&s, argv[1]);
    for (const struct ct_command *k = ct_commands; k->name; k++) {
        if (!(k->flags & CT_CMD_HIDDEN))
            ct_suggest_add(&s, k->name);
    }
    for (size_t i = 0; i < ct_demo_count; i++)
        ct_suggest_add(&s, ct_demos[i]->name);
    if (ct_suggest_result(&s))
        return ct_usage_error("help: no command or demo %s (did you mean '%s'?)", CT_Q(argv[1]),
                              ct_suggest_result(&s));
    char names[512];
    command_names(names, sizeof names, ctx->repl, 0);
    return ct_usage_error("help: no command or demo %s; commands: %s", CT_Q(argv[1]), names);
}

static int cmd_quit(struct ct_ctx *ctx, const struct ct_options *opt, int argc,
                    char **argv)
{
    (void)opt, (void)argc, (void)argv;
    ctx->quit = true;
    return CT_EXIT_OK;
}

static int cmd_child(struct ct_ctx *ctx, const struct ct_options *opt, int argc,
                     char **argv)
{
    (void)ctx, (void)opt;
    const struct ct_demo *d = ct_demo_find(argv[1]);
    if (!d || !d->child)
        return ct_usage_error("__child: %s is not a demo with a child process", CT_Q(argv[1]));
    return d->child(argc - 2, argv + 2);
}

static int cmd_man(struct ct_ctx *ctx, const struct ct_options *opt, int argc,
                   char **argv)
{
    (void)ctx, (void)opt, (void)argc, (void)argv;
    ct_print_man(stdout);
    return CT_EXIT_OK;
}

static int cmd_benchmarks(struct ct_ctx *ctx, const struct ct_options *opt, int argc,
                          char **argv)
{
    (void)ctx, (void)opt, (void)argc, (void)argv;
    for (size_t i = 0; i < ct_demo_count; i++) {
        if (ct_demos[i]->flags & CT_DEMO_BENCH)
            printf("%s\n", ct_demos[i]->name);
    }
    return CT_EXIT_OK;
}

const struct ct_command ct_commands[] = {
    { "list", "[CHAPTER]", "List chapters with their lessons and demos.",
      "With a chapter number, list only that chapter. --json prints the same as JSON.",
      0, 1, CT_COMPLETE_CHAPTER, CT_CMD_LESSONS | CT_CMD_JSON, ct_cmd_list },
    { "show", "LESSON|DEMO|CHAPTER", "Read a lesson (a demo's id shows the lesson that explains it).",
      "Lessons are rendered for the terminal and paged through $PAGER (default "
      "'less -FIRX') when the output is a terminal. A chapter number shows the "
      "whole chapter. The parameters of the lesson's demos are listed at the end.",
      1, 1, CT_COMPLETE_TOPIC, CT_CMD_LESSONS | CT_CMD_JSON, ct_cmd_show },
    { "run", "DEMO [KEY=VALUE ...]", "Run a demo live, then print its summary, takeaway and timeline.",
      "Parameters are given as key=value, --key value or --key=value; 'help DEMO' "
      "lists them with their defaults and ranges. --json prints one JSON object "
      "with the parameters and results instead; --scale X multiplies the demo's "
      "sleeps by X; --html FILE also writes the run as one self-contained web page. "
      "Every demo also takes predict=true (ask the class the demo's question first, "
      "then compare; the answer is read from the terminal, or from the next line of "
      "a script) and runs=N (run it N times and draw the spread of its result). "
      "Ctrl-C cancels the demo (its threads are joined first) and returns to the "
      "prompt.",
      1, -1, CT_COMPLETE_DEMO, CT_CMD_HTML | CT_CMD_JSON, cmd_run },
    { "explore", "[SCENARIO [search] [fixed] [KEY=VALUE ...]]",
      "Play the scheduler over a small concurrent program, or search every interleaving.",
      "Without a scenario, lists them. 'explore NAME' shows each thread's code with "
      "a cursor on its next step: a digit steps that thread, n the same one again, "
      "u undoes, r restarts, q quits; with input from a pipe (or keys=0,1,u) the "
      "keys are read as a script. 'explore NAME search' tries every schedule "
      "within preemptions=N (default 2; none for no bound), skipping orders of "
      "independent steps (sleep sets), and prints the shortest one that breaks "
      "the invariant; 'schedule=0,1,0' replays one. 'fixed' picks the repaired "
      "version; threads=N and iters=N size some scenarios; limit=N stops a "
      "search after N schedules. Search and replay exit with 1 when a schedule "
      "breaks the invariant.",
      0, -1, CT_COMPLETE_SCENARIO, CT_CMD_JSON, ct_cmd_explore },
    { "exercises", "[CHAPTER]", "List the exercises with your progress: done, started, not started.",
      "With a chapter number, only that chapter's. Your files live in "
      "$CONCUR_TUTOR_WORKSPACE (default ~/concur-tutor-exercises); progress in "
      "$XDG_STATE_HOME/concur-tutor/exercises. --json prints the same as JSON.",
      0, 1, CT_COMPLETE_EX_CHAPTER, CT_CMD_JSON, ct_cmd_exercises },
    { "exercise", "EXERCISE", "Start an exercise: print the task and write the broken program for you to fix.",
      "The starter goes to your workspace as EXERCISE.c; a file you have changed is "
      "never overwritten. Then edit it with $EDITOR and run 'check EXERCISE'.",
      1, 1, CT_COMPLETE_EXERCISE, CT_CMD_JSON, ct_cmd_exercise },
    { "check", "EXERCISE", "Compile your file, run it under the exercise's checker and sanitizers, say what failed.",
      "Compiles with the system compiler (-std=c17 -Wall -Wextra -pthread; a warning "
      "fails), runs the hidden checker that calls your functions many times, then "
      "again under ThreadSanitizer (or ASan+UBSan where the bug is about memory). A "
      "hung program is stopped after a few seconds and reported as a deadlock. Exit "
      "status 0 on a pass, 1 on a failure. --json prints the outcome as JSON.",
      1, 1, CT_COMPLETE_EXERCISE, CT_CMD_JSON, ct_cmd_check },
    { "hint", "EXERCISE", "Show the next hint for an exercise (up to three).", NULL,
      1, 1, CT_COMPLETE_EXERCISE, CT_CMD_JSON, ct_cmd_hint },
    { "watch", "[EXERCISE]", "Check on every save; on a pass, move on to the next exercise.",
      "Without a name, starts at the first exercise not done yet. Ctrl-C stops.",
      0, 1, CT_COMPLETE_EXERCISE, 0, ct_cmd_watch },
    { "solution", "EXERCISE", "Show a reference solution, once you passed or read every hint.", NULL,
      1, 1, CT_COMPLETE_EXERCISE, CT_CMD_JSON, ct_cmd_solution },
    { "help", "[COMMAND|DEMO]", "Show help for a command, or a demo's parameters.",
      NULL, 0, 1, CT_COMPLETE_HELP, 0, cmd_help },
    /* the classroom: walk, source, progress, doctor */
    { "walk", "CHAPTER|LESSON [--from-start]",
      "Present a chapter: each lesson a screen at a time, its demo live, then the takeaway.",
      "Keys: Enter, Space or n next; p back; r run the demo again (you may give new "
      "key=value parameters, or Esc to cancel); s the demo's source; q back to the "
      "prompt. Ctrl-C during a demo cancels the demo and stays in the walk. 'walk 4' "
      "goes on where the class stopped last time; --from-start starts the chapter "
      "again; a lesson id starts at that lesson. When the output is not a terminal, "
      "the whole chapter is printed straight through, demos included, as a handout.",
      1, 2, CT_COMPLETE_WALK, CT_CMD_LESSONS, ct_cmd_walk },
    { "source", "DEMO|MODULE [FUNCTION]",
      "Show a demo's C source, or a primitive's, with line numbers.",
      "A demo id shows demos/DEMO.c; a primitive (chan, rwlock, park, ...) shows its "
      "header and code in demos/lib; a runner module (run, report, crew, ...) those in "
      "demos/runner. Where a name is both, the demo wins: write lib/rwlock or "
      "runner/run to mean the module. FUNCTION picks one definition, matched in this "
      "order: the exact name, ct_MODULE_FUNCTION (source chan send), FUNCTION_main "
      "(source run watcher), ct_FUNCTION, then a unique name containing it; a demo's "
      "search goes on into the primitives it includes. Coloured on a terminal "
      "(--no-color for none), paged like show.",
      1, 2, CT_COMPLETE_SOURCE, 0, ct_cmd_source },
    { "progress", "[reset]", "Which lessons were read and which demos were run.",
      "A table per chapter; --json prints the same for an instructor to collect; "
      "'progress reset' forgets it all. Kept in ${XDG_STATE_HOME:-~/.local/state}/"
      "concur-tutor/progress. Where each walk stopped is said as its status line "
      "said it; in --json, \"place\" is introduction, section, demo, takeaway or end, "
      "\"section\" of \"sections\" and \"page\" of \"pages\" count from 1 (null where "
      "they do not apply), and \"demo\" names the demo of a demo or takeaway page.",
      0, 1, CT_COMPLETE_PROGRESS, CT_CMD_LESSONS | CT_CMD_JSON, ct_cmd_progress },
    { "doctor", NULL, "Check that this machine can show what the demos teach.",
      "CPUs online and allowed (affinity and cgroup quota), sanitizers in this build, the "
      "terminal, the limits on open files and threads, the state directory and the load. "
      "Each finding is ok, warn or fail, with what to do. --json prints the findings.",
      0, 0, CT_COMPLETE_NONE, CT_CMD_JSON, ct_cmd_doctor },
    { "quit", NULL, "Leave the tutor (Ctrl-D does the same).", NULL,
      0, 0, CT_COMPLETE_NONE, CT_CMD_REPL_ONLY, cmd_quit },
    { "exit", NULL, "Leave the tutor.", NULL,
      0, 0, CT_COMPLETE_NONE, CT_CMD_REPL_ONLY, cmd_quit },
    { "__child", "DEMO [ARGS...]", "Internal: a demo's helper process.", NULL,
      1, -1, CT_COMPLETE_NONE, CT_CMD_HIDDEN, cmd_child },
    { "__man", NULL, "Internal: print the manual page (roff).", NULL,
      0, 0, CT_COMPLETE_NONE, CT_CMD_HIDDEN, cmd_man },
    { "__benchmarks", NULL, "Internal: the names of the benchmark demos, for make bench.",
      NULL, 0, 0, CT_COMPLETE_NONE, CT_CMD_HIDDEN, cmd_benchmarks },
    { "__completion", "bash|zsh", "Internal: print a shell completion script.", NULL,
      1, 1, CT_COMPLETE_NONE, CT_CMD_HIDDEN | CT_CMD_LESSONS, ct_cmd_completion },
    { NULL, NULL, NULL, NULL, 0, 0, CT_COMPLETE_NONE, 0, NULL },
};

const struct ct_command *ct_command_find(const char *name)
{
    for (const struct ct_command *c = ct_commands; c->name; c++) {
        if (strcmp(c->name, name) == 0)
            return c;
    }
    return NULL;
}

void ct_print_usage(FILE *out)
{
    char head[64];
    int width = ct_term_width();
    ct_wrap(out, "concur-tutor " CT_VERSION ": learn concurrency in C, following a Rust "
                 "guide chapter by chapter", width, 0);
    fputc('\n', out);
    ct_wrap_item(out, "usage:", 0, 7, "concur-tutor [OPTIONS] [COMMAND [ARGS...]]", width);
    fputc('\n', out);
    ct_wrap(out, "With no command, starts an interactive prompt (or, when input is not a "
                 "terminal, reads one command per line from it).", width, 0);
    fputs("\nCommands:\n", out);
    for (const struct ct_command *c = ct_commands; c->name; c++) {
        if (c->flags & CT_CMD_HIDDEN)
            continue;
        snprintf(head, sizeof head, "%s%s%s", c->name, c->args ? " " : "", c->args ? c->args : "");
        ct_wrap_item(out, head, 2, 28, c->summary, width);
    }
    fputc('\n', out);
    ct_wrap(out, "Options (anywhere on the line; -- ends them):", width, 0);
    for (const struct ct_option *o = ct_option_table; o->name; o++) {
        ct_option_usage(o, head, sizeof head);
        ct_wrap_item(out, head, 2, 28, o->help, width);
    }
    fputc('\n', out);
    ct_wrap(out, "Exit codes: 0 ok, 1 a demo or command failed, 2 usage error, "
                 "130 interrupted.", width, 0);
    fputs("Start with: concur-tutor list\n", out);
}

/* ---- dispatch ---------------------------------------------------------- */

int ct_dispatch(struct ct_ctx *ctx, const struct ct_options *opt, int argc,
                char **argv)
{
    const struct ct_command *c = ct_command_find(argv[0]);
    if (!c) {
        struct ct_suggest s;
        ct_suggest_init(&s, argv[0]);
        for (const struct ct_command *k = ct_commands; k->name; k++) {
            if (!(k->flags & CT_CMD_HIDDEN) && (ctx->repl || !(k->flags & CT_CMD_REPL_ONLY)))
                ct_suggest_add(&s, k->name);
        }
        if (ct_demo_find(argv[0]))
            return ct_usage_error("unknown command '%s' (to run the demo: run %s)", argv[0], argv[0]);
        if (ct_suggest_result(&s))
            return ct_usage_error("unknown command %s (did you mean '%s'?)", CT_Q(argv[0]),
                               ct_suggest_result(&s));
        if (argv[0][0] == '-')
            return ct_usage_error("unknown option %s; see --help", CT_Q(argv[0]));
        char names[512];
        command_names(names, sizeof names, ctx->repl, 0);
        return ct_usage_error("unknown command %s; commands: %s", CT_Q(argv[0]), names);
    }
    if ((c->flags & CT_CMD_REPL_ONLY) && !ctx->repl)
        return ct_usage_error("'%s' only means something at the interactive prompt", c->name);
    int nargs = argc - 1;
    if (nargs < c->min_args) {
        if (c->complete == CT_COMPLETE_DEMO) {
            char names[1024];
            demo_names(names, sizeof names);
            return ct_usage_error("%s: missing DEMO (usage: %s %s); demos: %s", c->name, c->name,
                               c->args, names);
        }
        return ct_usage_error("%s: missing %s (usage: %s %s)", c->name, c->args, c->name, c->args);
    }
    if (c->max_args >= 0 && nargs > c->max_args)
        return ct_usage_error("%s: unexpected argument %s (usage: %s%s%s)", c->name,
                           CT_Q(argv[c->max_args + 1]), c->name, c->args ? " " : "",
                           c->args ? c->args : "");
    if (opt->json && !(c->flags & (CT_CMD_JSON | CT_CMD_HIDDEN | CT_CMD_REPL_ONLY))) {
        char names[512];
        command_names(names, sizeof names, ctx->repl, CT_CMD_JSON);
        return ct_usage_error("%s: --json does not go with %s (it has no JSON form); "
                              "commands that take --json: %s", c->name, c->name, names);
    }
    if (opt->html && !(c->flags & CT_CMD_HTML))
        return ct_usage_error("%s: --html only goes with run (run DEMO --html FILE)", c->name);
    if ((c->flags & CT_CMD_LESSONS) && !ct_ctx_lessons(ctx, true))
        return ct_ctx_lessons_error(ctx);
    return c->fn(ctx, opt, argc, argv);
}

int ct_exec_line(struct ct_ctx *ctx, const char *line)
{
    enum { MAX_WORDS = 256 };
    char *copy = strdup(line);
    char *words[MAX_WORDS + 2];
    char q[80];
    if (!copy)
        return CT_EXIT_FAILED;
    /* words[0] is a placeholder program name so that the option parser
     * sees the same shape as main's argv */
    words[0] = (char *)PROG;
    int n = ct_split_line(copy, words + 1, MAX_WORDS);
    int rc = CT_EXIT_OK;
    if (n == -EINVAL) {
        rc = ct_usage_error("unclosed quote in %s", ct_quote(line, q, sizeof q));
    } else if (n == -E2BIG) {
        rc = ct_usage_error("too many words on one line (at most %d)", MAX_WORDS);
    } else if (n > 0) {
        int argc = n + 1;
        struct ct_options opt = ctx->opt;
        opt.info = 0;
        rc = ct_parse_options(&argc, words, &opt, false);
        if (rc == 0) {
            if (opt.info == 'v') {
                printf("concur-tutor %s\n", CT_VERSION);
            } else if (opt.info == 'h') {
                char *help[3] = { (char *)"help", argc > 1 ? words[1] : NULL, NULL };
                rc = ct_dispatch(ctx, &opt, argc > 1 ? 2 : 1, help);
            } else if (argc > 1) {
                rc = ct_dispatch(ctx, &opt, argc - 1, words + 1);
            }
        }
    }
    free(copy);
    fflush(stdout);
    return rc;
}

