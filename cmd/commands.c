/* commands.c - the command table and what each command does. */
#include "commands.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "registry.h"
#include "report.h"
#include "run.h"
#include "text.h"
#include "ct-config.h"
#include "man.h"
#include "render.h"
#include "term.h"

#define PROG "concur-tutor"

CT_PRINTF(1, 2)
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CT_EXIT_USAGE;
}

static bool use_color(const struct ct_options *opt)
{
    return !opt->json && ct_term_color(opt->no_color);
}

static struct ct_render_opts render_opts(const struct ct_options *opt)
{
    return (struct ct_render_opts){
        .width = ct_term_width() > 100 ? 100 : ct_term_width(),
        .color = use_color(opt),
        .utf8 = MB_CUR_MAX > 1,
    };
}

/* "race, threads, thread-return, ..." for messages. */
static void demo_names(char *buf, size_t n)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ct_demo_count && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%s", i ? ", " : "", ct_demos[i]->name);
}

/* ---- list ------------------------------------------------------------- */

static bool parse_chapter(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end || v < 1 || v > 99)
        return false;
    *out = (int)v;
    return true;
}

static void list_json(const struct ct_library *lib, int only)
{
    fputs("{\"chapters\":[", stdout);
    bool first_ch = true;
    for (int c = 0; c < lib->nchapters; c++) {
        const struct ct_chapter *ch = &lib->chapters[c];
        if (only && ch->number != only)
            continue;
        printf("%s{\"number\":%d,\"title\":", first_ch ? "" : ",", ch->number);
        first_ch = false;
        ct_json_string(stdout, ch->title);
        fputs(",\"lessons\":[", stdout);
        bool first = true;
        for (int i = 0; i < lib->nlessons; i++) {
            const struct ct_lesson *l = &lib->lessons[i];
            if (l->chapter != ch->number)
                continue;
            fputs(first ? "{\"id\":" : ",{\"id\":", stdout);
            first = false;
            ct_json_string(stdout, l->id);
            fputs(",\"title\":", stdout);
            ct_json_string(stdout, l->title);
            fputs(",\"summary\":", stdout);
            ct_json_string(stdout, l->summary);
            fputs(",\"demos\":[", stdout);
            for (int d = 0; d < l->ndemos; d++) {
                fputs(d ? "," : "", stdout);
                ct_json_string(stdout, l->demos[d]);
            }
            fputs("]}", stdout);
        }
        fputs("],\"demos\":[", stdout);
        first = true;
        for (size_t i = 0; i < ct_demo_count; i++) {
            const struct ct_demo *d = ct_demos[i];
            if (d->chapter != ch->number)
                continue;
            fputs(first ? "{\"name\":" : ",{\"name\":", stdout);
            first = false;
            ct_json_string(stdout, d->name);
            fputs(",\"summary\":", stdout);
            ct_json_string(stdout, d->summary);
            fputs("}", stdout);
        }
        fputs("]}", stdout);
    }
    fputs("]}\n", stdout);
}

static void list_row(bool color, const char *kind, const char *id, int id_w,
                     const char *summary, int width)
{
    /* "    lesson  mutex        Summary text, wrapped under itself" */
    int lead = 4 + 6 + 2 + id_w + 2;
    const char *kc = strcmp(kind, "demo") == 0 ? "\033[32m" : "\033[36m";
    if (color)
        printf("    %s%-6s\033[0m  \033[1m%-*s\033[0m  ", kc, kind, id_w, id);
    else
        printf("    %-6s  %-*s  ", kind, id_w, id);
    int col = lead;
    for (const char *p = summary; *p;) {
        size_t len = strcspn(p, " ");
        int w = ct_text_width(p, len);
        if (col > lead && col + 1 + w > width) {
            printf("\n%*s", lead, "");
            col = lead;
        } else if (col > lead) {
            putchar(' ');
            col++;
        }
        printf("%.*s", (int)len, p);
        col += w;
        p += len;
        p += strspn(p, " ");
    }
    putchar('\n');
}

static int cmd_list(struct ct_ctx *ctx, const struct ct_options *opt, int argc,
                    char **argv)
{
    const struct ct_library *lib = ctx->lib;
    int only = 0;
    if (argc > 1 && (!parse_chapter(argv[1], &only) || !ct_chapter_find(lib, only))) {
        int lo = lib->nchapters ? lib->chapters[0].number : 0;
        int hi = lib->nchapters ? lib->chapters[lib->nchapters - 1].number : 0;
        return usage_error("list: unknown chapter '%s'; chapters are %d..%d", argv[1], lo, hi);
    }
    if (opt->json) {
        list_json(lib, only);
        return CT_EXIT_OK;
    }

    bool color = use_color(opt);
    int width = ct_term_width();
    int id_w = 0;
    for (int i = 0; i < lib->nlessons; i++) {
        int w = (int)strlen(lib->lessons[i].id);
        id_w = w > id_w ? w : id_w;
    }
    for (size_t i = 0; i < ct_demo_count; i++) {
        int w = (int)strlen(ct_demos[i]->name);
        id_w = w > id_w ? w : id_w;
    }

    for (int c = 0; c < lib->nchapters; c++) {
        const struct ct_chapter *ch = &lib->chapters[c];
        if (only && ch->number != only)
            continue;
        printf(color ? "\033[1m%2d  %s\033[0m\n" : "%2d  %s\n", ch->number, ch->title);
        for (int i = 0; i < lib->nlessons; i++) {
            const struct ct_lesson *l = &lib->lessons[i];
            if (l->chapter != ch->number)
                continue;
            list_row(color, "lesson", l->id, id_w, l->summary, width);
            for (int d = 0; d < l->ndemos; d++) {
                const struct ct_demo *demo = ct_demo_find(l->demos[d]);
                list_row(color, "demo", demo->name, id_w, demo->summary, width);
            }
        }
        /* demos of this chapter that no loaded lesson explains */
        for (size_t i = 0; i < ct_demo_count; i++) {
            const struct ct_demo *d = ct_demos[i];
            if (d->chapter == ch->number && !ct_lesson_for_demo(lib, d->name))
                list_row(color, "demo", d->name, id_w, d->summary, width);
        }
    }
    if (!only && !ctx->repl)
        printf("\nshow LESSON to read, run DEMO to watch it run, help for more.\n");
    return CT_EXIT_OK;
}

/* ---- show ------------------------------------------------------------- */

/* The parameters of a demo as a Markdown table, rendered like lesson text. */
static void print_demo_params(FILE *out, const struct ct_demo *d,
                              const struct ct_render_opts *ro)
{
    char *md = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&md, &len);
    if (!m)
        return;
    fprintf(m, "### Demo `%s`: %s\n\n%s\n\n", d->name, d->title, d->intro);
    if (d->params && d->params[0].name) {
        fprintf(m, "| parameter | default | accepts | meaning |\n|---|---|---|---|\n");
        for (const struct ct_param_spec *sp = d->params; sp->name; sp++) {
            char range[256];
            ct_param_range(sp, range, sizeof range);
            fprintf(m, "| `%s` | %s | %s | %s |\n", sp->name, sp->def, range, sp->help);
        }
        fprintf(m, "\nRun it: `run %s` (defaults) or, for example, `run %s %s`.\n",
                d->name, d->name, d->smoke && *d->smoke ? d->smoke : "");
    } else {
        fprintf(m, "Run it: `run %s` (it takes no parameters).\n", d->name);
    }
    fclose(m);
    fputc('\n', out);
    ct_render(out, md, len, ro);
    free(md);
}

static void show_lesson(FILE *out, const struct ct_library *lib,
                        const struct ct_lesson *l, const struct ct_render_opts *ro)
{
    const struct ct_chapter *ch = ct_chapter_find(lib, l->chapter);
    fprintf(out, ro->color ? "\033[2mChapter %d: %s\033[0m\n" : "Chapter %d: %s\n",
            l->chapter, ch ? ch->title : "");
    fprintf(out, ro->color ? "\033[1;4m%s\033[0m  (%s)\n\n" : "%s  (%s)\n\n", l->title, l->id);
    ct_render(out, l->body, l->body_len, ro);
    for (int d = 0; d < l->ndemos; d++)
        print_demo_params(out, ct_demo_find(l->demos[d]), ro);
}

static void show_json(FILE *out, const struct ct_lesson *l)
{
    fprintf(out, "{\"id\":");
    ct_json_string(out, l->id);
    fprintf(out, ",\"chapter\":%d,\"title\":", l->chapter);
    ct_json_string(out, l->title);
    fputs(",\"summary\":", out);
    ct_json_string(out, l->summary);
    fputs(",\"demos\":[", out);
    for (int d = 0; d < l->ndemos; d++) {
        fputs(d ? "," : "", out);
        ct_json_string(out, l->demos[d]);
    }
    fputs("],\"text\":", out);
    char *body = strndup(l->body, l->body_len);
    ct_json_string(out, body ? body : "");
    free(body);
    fputs("}\n", out);
}

static const char *suggest_topic(const struct ct_library *lib, const char *word)
{
    struct ct_suggest s;
    ct_suggest_init(&s, word);
    for (int i = 0; i < lib->nlessons; i++)
        ct_suggest_add(&s, lib->lessons[i].id);
    for (size_t i = 0; i < ct_demo_count; i++)
        ct_suggest_add(&s, ct_demos[i]->name);
    return ct_suggest_result(&s);
}

static int cmd_show(struct ct_ctx *ctx, const struct ct_options *opt, int argc,
                    char **argv)
{
    (void)argc;
    const struct ct_library *lib = ctx->lib;
    const char *topic = argv[1];
    const struct ct_lesson *lesson = ct_lesson_find(lib, topic);
    const struct ct_demo *demo = ct_demo_find(topic);
    int chapter = 0;
    const struct ct_chapter *ch = parse_chapter(topic, &chapter) ? ct_chapter_find(lib, chapter) : NULL;
    if (!lesson && demo)
        lesson = ct_lesson_for_demo(lib, demo->name);
    if (!lesson && !demo && !ch) {
        const char *s = suggest_topic(lib, topic);
        if (s)
            return usage_error("show: unknown lesson or demo '%s' (did you mean '%s'?); try 'list'",
                               topic, s);
        return usage_error("show: unknown lesson or demo '%s'; 'list' shows them all", topic);
    }
    if (opt->json) {
        if (lesson) {
            show_json(stdout, lesson);
            return CT_EXIT_OK;
        }
        if (ch) {
            fputs("[", stdout);
            bool first = true;
            for (int i = 0; i < lib->nlessons; i++) {
                if (lib->lessons[i].chapter != chapter)
                    continue;
                fputs(first ? "" : ",", stdout);
                first = false;
                show_json(stdout, &lib->lessons[i]);
            }
            fputs("]\n", stdout);
            return CT_EXIT_OK;
        }
        return usage_error("show: demo '%s' has no lesson in the loaded lessons", topic);
    }

    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return CT_EXIT_FAILED;
    struct ct_render_opts ro = render_opts(opt);
    if (lesson) {
        show_lesson(m, lib, lesson, &ro);
    } else if (ch) {
        fprintf(m, ro.color ? "\033[1;4mChapter %d: %s\033[0m\n\n" : "Chapter %d: %s\n\n",
                ch->number, ch->title);
        if (ch->body_len)
            ct_render(m, ch->body, ch->body_len, &ro);
        for (int i = 0; i < lib->nlessons; i++) {
            if (lib->lessons[i].chapter == chapter) {
                fputc('\n', m);
                show_lesson(m, lib, &lib->lessons[i], &ro);
            }
        }
    } else {
        print_demo_params(m, demo, &ro);
    }
    fclose(m);
    int rc = ct_term_page(text, len);
    free(text);
    return rc ? CT_EXIT_FAILED : CT_EXIT_OK;
}

/* ---- run -------------------------------------------------------------- */

static int unknown_demo(const char *name)
{
    struct ct_suggest s;
    ct_suggest_init(&s, name);
    for (size_t i = 0; i < ct_demo_count; i++)
        ct_suggest_add(&s, ct_demos[i]->name);
    if (ct_suggest_result(&s))
        return usage_error("unknown demo '%s' (did you mean '%s'?)", name, ct_suggest_result(&s));
    char names[1024];
    demo_names(names, sizeof names);
    return usage_error("unknown demo '%s'; demos: %s", name, names);
}

static int cmd_run(struct ct_ctx *ctx, const struct ct_options *opt, int argc,
                   char **argv)
{
    const struct ct_demo *d = ct_demo_find(argv[1]);
    if (!d)
        return unknown_demo(argv[1]);
    struct ct_run_opts ro = {
        .out = stdout,
        .json = opt->json,
        .color = use_color(opt),
        .scale = opt->scale,
        .width = ct_term_width(),
        .self = ctx->self,
        .progname = PROG,
    };
    return ct_demo_exec(d, argc - 2, argv + 2, &ro);
}

/* ---- help, quit, __child ---------------------------------------------- */

static void print_command_help(FILE *out, const struct ct_command *c)
{
    fprintf(out, "usage: %s%s%s\n\n", c->name, c->args ? " " : "", c->args ? c->args : "");
    ct_wrap(out, c->summary, ct_term_width(), 2);
    if (c->help) {
        fputc('\n', out);
        ct_wrap(out, c->help, ct_term_width(), 2);
    }
}

static int cmd_help(struct ct_ctx *ctx, const struct ct_options *opt, int argc,
                    char **argv)
{
    (void)ctx;
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
        struct ct_render_opts ro = render_opts(opt);
        print_demo_params(stdout, d, &ro);
        return CT_EXIT_OK;
    }
    struct ct_suggest s;
    ct_suggest_init(&s, argv[1]);
    for (const struct ct_command *k = ct_commands; k->name; k++) {
        if (!(k->flags & CT_CMD_HIDDEN))
            ct_suggest_add(&s, k->name);
    }
    for (size_t i = 0; i < ct_demo_count; i++)
        ct_suggest_add(&s, ct_demos[i]->name);
    if (ct_suggest_result(&s))
        return usage_error("help: no command or demo '%s' (did you mean '%s'?)", argv[1],
                           ct_suggest_result(&s));
    return usage_error("help: no command or demo '%s'; commands: list, show, run, help", argv[1]);
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
        return usage_error("__child: '%s' is not a demo with a child process", argv[1]);
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
      0, 1, CT_COMPLETE_CHAPTER, 0, cmd_list },
    { "show", "LESSON|DEMO|CHAPTER", "Read a lesson (a demo's id shows the lesson that explains it).",
      "Lessons are rendered for the terminal and paged through $PAGER (default "
      "'less -FIRX') when the output is a terminal. A chapter number shows the "
      "whole chapter. The parameters of the lesson's demos are listed at the end.",
      1, 1, CT_COMPLETE_TOPIC, 0, cmd_show },
    { "run", "DEMO [KEY=VALUE ...]", "Run a demo live, then print its summary, takeaway and timeline.",
      "Parameters are given as key=value, --key value or --key=value; 'help DEMO' "
      "lists them with their defaults and ranges. --json prints one JSON object "
      "with the parameters and results instead; --scale X multiplies the demo's "
      "sleeps by X. Ctrl-C cancels the demo (its threads are joined first) and "
      "returns to the prompt.",
      1, -1, CT_COMPLETE_DEMO, 0, cmd_run },
    { "help", "[COMMAND|DEMO]", "Show help for a command, or a demo's parameters.",
      NULL, 0, 1, CT_COMPLETE_HELP, 0, cmd_help },
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
    fprintf(out,
            "concur-tutor %s: learn concurrency in C, following a Rust guide chapter by chapter\n\n"
            "usage: concur-tutor [OPTIONS] [COMMAND [ARGS...]]\n\n"
            "With no command, starts an interactive prompt (or, when input is not a\n"
            "terminal, reads one command per line from it).\n\n"
            "Commands:\n",
            CT_VERSION);
    for (const struct ct_command *c = ct_commands; c->name; c++) {
        if (c->flags & CT_CMD_HIDDEN)
            continue;
        char head[64];
        snprintf(head, sizeof head, "%s%s%s", c->name, c->args ? " " : "", c->args ? c->args : "");
        fprintf(out, "  %-28s %s\n", head, c->summary);
    }
    fprintf(out,
            "\nOptions (anywhere on the line):\n"
            "  --json                       print results as JSON\n"
            "  --no-color                   no colours (also NO_COLOR=1, or output not a terminal)\n"
            "  --scale X                    multiply demo sleeps by X (0.01..100; default 1)\n"
            "  --lessons DIR                read lesson files from DIR instead of the built-in ones\n"
            "  --help, --version\n\n"
            "Exit codes: 0 ok, 1 a demo or command failed, 2 usage error, 130 interrupted.\n"
            "Start with: concur-tutor list\n");
}

/* ---- options and dispatch --------------------------------------------- */

int ct_parse_options(int *argc, char **argv, struct ct_options *opt,
                     const char **lessons_dir, char *info)
{
    int out = 1;
    int i = 1;
    for (; i < *argc; i++) {
        char *a = argv[i];
        const char *value = NULL;
        if (strcmp(a, "--") == 0)
            break;
        if (strcmp(a, "--json") == 0) {
            opt->json = true;
        } else if (strcmp(a, "--no-color") == 0 || strcmp(a, "--no-colour") == 0) {
            opt->no_color = true;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            *info = 'h';
        } else if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
            *info = 'v';
        } else if (strncmp(a, "--scale", 7) == 0 && (a[7] == '\0' || a[7] == '=')) {
            if (a[7] == '=')
                value = a + 8;
            else if (i + 1 < *argc)
                value = argv[++i];
            else
                return usage_error("--scale needs a value, e.g. --scale 0.5");
            char *end;
            errno = 0;
            double s = strtod(value, &end);
            if (errno || end == value || *end || !(s >= 0.01 && s <= 100))
                return usage_error("--scale must be a number in 0.01..100, got '%s'", value);
            opt->scale = s;
        } else if (strncmp(a, "--lessons", 9) == 0 && (a[9] == '\0' || a[9] == '=')) {
            if (!lessons_dir)
                return usage_error("--lessons can only be given when concur-tutor starts");
            if (a[9] == '=')
                value = a + 10;
            else if (i + 1 < *argc)
                value = argv[++i];
            else
                return usage_error("--lessons needs a directory, e.g. --lessons ./my-lessons");
            *lessons_dir = value;
        } else {
            argv[out++] = a;
        }
    }
    for (; i < *argc; i++)
        argv[out++] = argv[i];
    argv[out] = NULL;
    *argc = out;
    return 0;
}

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
            return usage_error("unknown command '%s' (to run the demo: run %s)", argv[0], argv[0]);
        if (ct_suggest_result(&s))
            return usage_error("unknown command '%s' (did you mean '%s'?)", argv[0],
                               ct_suggest_result(&s));
        if (argv[0][0] == '-')
            return usage_error("unknown option '%s'; see --help", argv[0]);
        return usage_error("unknown command '%s'; commands: list, show, run, help%s", argv[0],
                           ctx->repl ? ", quit" : "");
    }
    if ((c->flags & CT_CMD_REPL_ONLY) && !ctx->repl)
        return usage_error("'%s' only means something at the interactive prompt", c->name);
    int nargs = argc - 1;
    if (nargs < c->min_args) {
        if (c->complete == CT_COMPLETE_DEMO) {
            char names[1024];
            demo_names(names, sizeof names);
            return usage_error("%s: missing DEMO (usage: %s %s); demos: %s", c->name, c->name,
                               c->args, names);
        }
        return usage_error("%s: missing %s (usage: %s %s)", c->name, c->args, c->name, c->args);
    }
    if (c->max_args >= 0 && nargs > c->max_args)
        return usage_error("%s: unexpected argument '%s' (usage: %s%s%s)", c->name,
                           argv[c->max_args + 1], c->name, c->args ? " " : "",
                           c->args ? c->args : "");
    return c->fn(ctx, opt, argc, argv);
}

int ct_split_line(char *line, char **argv, int max)
{
    int n = 0;
    char *r = line, *w = line;
    while (*r) {
        while (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r')
            r++;
        if (!*r || *r == '#')
            break;
        if (n == max)
            return n;
        argv[n++] = w;
        while (*r && *r != ' ' && *r != '\t' && *r != '\n' && *r != '\r') {
            if (*r == '\'' || *r == '"') {
                char q = *r++;
                while (*r && *r != q)
                    *w++ = *r++;
                if (!*r)
                    return -1;
                r++;
            } else {
                *w++ = *r++;
            }
        }
        if (*r)
            r++;
        *w++ = '\0';       /* w never passes r: the word ends in place */
    }
    argv[n] = NULL;
    return n;
}

int ct_exec_line(struct ct_ctx *ctx, const char *line)
{
    enum { MAX_WORDS = 64 };
    char *copy = strdup(line);
    char *words[MAX_WORDS + 2];
    if (!copy)
        return CT_EXIT_FAILED;
    /* words[0] is a placeholder program name so that the option parser
     * sees the same shape as main's argv */
    words[0] = (char *)PROG;
    int n = ct_split_line(copy, words + 1, MAX_WORDS);
    int rc = CT_EXIT_OK;
    if (n < 0) {
        rc = usage_error("unclosed quote in: %s", line);
    } else if (n > 0) {
        int argc = n + 1;
        struct ct_options opt = ctx->opt;
        char info = 0;
        rc = ct_parse_options(&argc, words, &opt, NULL, &info);
        if (rc == 0) {
            if (info == 'v') {
                printf("concur-tutor %s\n", CT_VERSION);
            } else if (info == 'h') {
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

/* ---- completion ------------------------------------------------------- */

struct cands {
    const char *prefix;
    size_t plen;
    char (*out)[CT_COMPLETE_LEN];
    int max, n;
};

static void offer(struct cands *c, const char *s)
{
    if (strncmp(s, c->prefix, c->plen) != 0 || strlen(s) >= CT_COMPLETE_LEN)
        return;
    for (int i = 0; i < c->n && i < c->max; i++) {
        if (strcmp(c->out[i], s) == 0)
            return;
    }
    if (c->n < c->max)
        strcpy(c->out[c->n], s);
    c->n++;
}

/* Completion of the words after `run DEMO`: parameter names not given
 * yet (as "name="), then the values of choice and boolean parameters. */
static void complete_params(const struct ct_demo *d, char **words, int nwords,
                            const char *cur, struct cands *c)
{
    char buf[CT_COMPLETE_LEN], w[64];
    const char *eq = strchr(cur, '=');
    if (eq) {
        size_t klen = (size_t)(eq - cur);
        for (const struct ct_param_spec *sp = d->params; sp && sp->name; sp++) {
            if (strlen(sp->name) != klen || strncmp(sp->name, cur, klen) != 0)
                continue;
            const char *choices = sp->type == CT_PARAM_BOOL ? "true,false" : sp->choices;
            if (!choices)
                return;
            /* in a set, complete the item after the last comma */
            const char *comma = strrchr(cur, ',');
            size_t keep = comma && sp->type == CT_PARAM_SET ? (size_t)(comma - cur) + 1
                                                            : klen + 1;
            for (int k = 0; ct_choice_word(choices, k, w, sizeof w); k++) {
                if (snprintf(buf, sizeof buf, "%.*s%s", (int)keep, cur, w) < (int)sizeof buf)
                    offer(c, buf);
            }
            return;
        }
        return;
    }
    for (const struct ct_param_spec *sp = d->params; sp && sp->name; sp++) {
        size_t len = strlen(sp->name);
        bool given = false;
        for (int i = 0; i < nwords; i++)
            given |= strncmp(words[i], sp->name, len) == 0 && words[i][len] == '=';
        if (given)
            continue;
        snprintf(buf, sizeof buf, "%s=", sp->name);
        offer(c, buf);
    }
    offer(c, "--json");
    offer(c, "--scale");
    offer(c, "--no-color");
}

int ct_complete(const struct ct_ctx *ctx, const char *line, size_t *word_start,
                char (*out)[CT_COMPLETE_LEN], int max)
{
    enum { MAX_WORDS = 32 };
    char *copy = strdup(line);
    char *words[MAX_WORDS + 1];
    char num[8];
    if (!copy)
        return 0;
    size_t len = strlen(line);
    bool at_new_word = len == 0 || line[len - 1] == ' ' || line[len - 1] == '\t';
    int n = ct_split_line(copy, words, MAX_WORDS);
    if (n < 0)
        n = 0;
    const char *cur = at_new_word || n == 0 ? "" : words[n - 1];
    int done = at_new_word ? n : n - 1;     /* whole words before the cursor */
    *word_start = len - strlen(cur);

    struct cands c = { cur, strlen(cur), out, max, 0 };
    const struct ct_command *cmd = done > 0 ? ct_command_find(words[0]) : NULL;
    enum ct_complete kind = cmd ? cmd->complete : CT_COMPLETE_NONE;
    if (done == 0) {
        for (const struct ct_command *k = ct_commands; k->name; k++) {
            if (!(k->flags & CT_CMD_HIDDEN) && (ctx->repl || !(k->flags & CT_CMD_REPL_ONLY)))
                offer(&c, k->name);
        }
    } else if (kind == CT_COMPLETE_DEMO && done >= 2) {
        const struct ct_demo *d = ct_demo_find(words[1]);
        if (d)
            complete_params(d, words + 2, done - 2, cur, &c);
    } else if (done == 1) {
        if (kind == CT_COMPLETE_HELP) {
            for (const struct ct_command *k = ct_commands; k->name; k++) {
                if (!(k->flags & CT_CMD_HIDDEN))
                    offer(&c, k->name);
            }
        }
        if (kind == CT_COMPLETE_TOPIC) {
            for (int i = 0; i < ctx->lib->nlessons; i++)
                offer(&c, ctx->lib->lessons[i].id);
        }
        if (kind == CT_COMPLETE_TOPIC || kind == CT_COMPLETE_DEMO || kind == CT_COMPLETE_HELP) {
            for (size_t i = 0; i < ct_demo_count; i++)
                offer(&c, ct_demos[i]->name);
        }
        if (kind == CT_COMPLETE_TOPIC || kind == CT_COMPLETE_CHAPTER) {
            for (int i = 0; i < ctx->lib->nchapters; i++) {
                snprintf(num, sizeof num, "%d", ctx->lib->chapters[i].number);
                offer(&c, num);
            }
        }
    }
    free(copy);
    return c.n;
}
