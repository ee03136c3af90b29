/* show.c - the commands about lessons: list and show. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "exit.h"
#include "explore.h"
#include "json.h"
#include "params.h"
#include "predict.h"
#include "progress.h"
#include "registry.h"
#include "render.h"
#include "term.h"
#include "text.h"

/* ---- list ------------------------------------------------------------- */

/* A chapter number as people write it: 1 to 99, no sign, no leading 0. */
static bool parse_chapter(const char *s, int *out)
{
    size_t n = strspn(s, "0123456789");
    if (n == 0 || n > 2 || s[n] != '\0' || s[0] == '0')
        return false;
    *out = atoi(s);
    return true;
}

/* "1, 2, 3, 4, 5, 6, 7, 9": the chapters that exist, for messages. */
static void chapter_numbers(const struct ct_library *lib, char *buf, size_t n)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < lib->nchapters && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%d", i ? ", " : "",
                                lib->chapters[i].number);
}

static void list_json(const struct ct_library *lib, int only)
{
    struct ct_json j;
    ct_json_init(&j, stdout);
    ct_json_object_begin(&j);
    ct_json_key(&j, "chapters");
    ct_json_array_begin(&j);
    for (int c = 0; c < lib->nchapters; c++) {
        const struct ct_chapter *ch = &lib->chapters[c];
        if (only && ch->number != only)
            continue;
        ct_json_object_begin(&j);
        ct_json_kv_int(&j, "number", ch->number);
        ct_json_kv_str(&j, "title", ch->title);
        ct_json_key(&j, "lessons");
        ct_json_array_begin(&j);
        for (int i = 0; i < lib->nlessons; i++) {
            const struct ct_lesson *l = &lib->lessons[i];
            if (l->chapter != ch->number)
                continue;
            ct_json_object_begin(&j);
            ct_json_kv_str(&j, "id", l->id);
            ct_json_kv_str(&j, "title", l->title);
            ct_json_kv_str(&j, "summary", l->summary);
            ct_json_key(&j, "demos");
            ct_json_array_begin(&j);
            for (int d = 0; d < l->ndemos; d++)
                ct_json_str(&j, l->demos[d]);
            ct_json_array_end(&j);
            ct_json_object_end(&j);
        }
        ct_json_array_end(&j);
        ct_json_key(&j, "demos");
        ct_json_array_begin(&j);
        for (size_t i = 0; i < ct_demo_count; i++) {
            const struct ct_demo *d = ct_demos[i];
            if (d->chapter != ch->number)
                continue;
            ct_json_object_begin(&j);
            ct_json_kv_str(&j, "name", d->name);
            ct_json_kv_str(&j, "summary", d->summary);
            ct_json_object_end(&j);
        }
        ct_json_array_end(&j);
        ct_json_object_end(&j);
    }
    ct_json_array_end(&j);
    ct_json_object_end(&j);
    ct_json_finish(&j);
}

static void list_row(bool color, const char *kind, const char *id, int id_w,
                     const char *summary, int width)
{
    /* "    lesson  mutex        Summary text, wrapped under itself"; on a
     * narrow terminal the summary goes under the id instead */
    int lead = 4 + 6 + 2 + id_w + 2;
    if (lead + 24 > width) {
        lead = 8;
        id_w = 0;
    }
    char head[128];
    const char *kc = strcmp(kind, "demo") == 0 ? "\033[32m" : "\033[36m";
    if (color)
        snprintf(head, sizeof head, "%s%-6s\033[0m  \033[1m%-*s\033[0m", kc, kind, id_w, id);
    else
        snprintf(head, sizeof head, "%-6s  %-*s", kind, id_w, id);
    ct_wrap_item(stdout, head, 4, lead, summary, width);
}

int ct_cmd_list(struct ct_ctx *ctx, const struct ct_options *opt, int argc, char **argv)
{
    const struct ct_library *lib = ct_ctx_lessons(ctx, true);
    int only = 0;
    if (argc > 1 && (!parse_chapter(argv[1], &only) || !ct_chapter_find(lib, only))) {
        char nums[256];
        chapter_numbers(lib, nums, sizeof nums);
        return ct_usage_error("list: unknown chapter %s; the chapters are %s", CT_Q(argv[1]),
                              nums);
    }
    if (opt->json) {
        list_json(lib, only);
        return CT_EXIT_OK;
    }

    bool color = ct_use_color(opt);
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
    {
        putchar('\n');
        ct_wrap(stdout, "show LESSON to read, run DEMO to watch it run, help for more.",
                ct_term_width(), 0);
    }
    return CT_EXIT_OK;
}

/* ---- show ------------------------------------------------------------- */

/* The parameters of a demo as a Markdown table, rendered like lesson text. */
void ct_print_demo_params(FILE *out, const struct ct_demo *d,
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
    struct ct_params defaults;
    char err[256], question[1024];
    if (d->predict && ct_params_defaults(&defaults, d->params, err, sizeof err) == 0) {
        ct_predict_question(d->predict, &defaults, question, sizeof question);
        fprintf(m, "\nAsk the class first with `run %s predict=true`, and add `runs=20` to see "
                   "the spread: *%s*\n", d->name, question);
    }
    fclose(m);
    fputc('\n', out);
    ct_render(out, md, len, ro);
    free(md);
}

/* The explore scenarios whose lesson is `l` (the scenario table is the
 * one place that links them), rendered like lesson text. */
static void print_explore_links(FILE *out, const struct ct_lesson *l,
                                const struct ct_render_opts *ro)
{
    for (size_t i = 0; i < ct_ex_scenario_count; i++) {
        const struct ct_ex_scenario *sc = ct_ex_scenarios[i];
        if (strcmp(sc->lesson, l->id) != 0)
            continue;
        char *md = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&md, &len);
        if (!m)
            return;
        fprintf(m, "### Explore `%s`: %s\n\n%s It must hold that %s.\n\n"
                   "Explore it: `explore %s` to play the scheduler by hand, "
                   "`explore %s search` to let the tutor try every interleaving, "
                   "and `explore %s search fixed` for the repaired version (%s).\n",
                sc->name, sc->title, sc->story, sc->invariant, sc->name, sc->name,
                sc->name, sc->fix);
        fclose(m);
        fputc('\n', out);
        ct_render(out, md, len, ro);
        free(md);
    }
}

static void show_lesson(FILE *out, const struct ct_library *lib,
                        const struct ct_lesson *l, const struct ct_render_opts *ro)
{
    const struct ct_chapter *ch = ct_chapter_find(lib, l->chapter);
    char line[512];
    snprintf(line, sizeof line, ro->color ? "\033[2mChapter %d: %s\033[0m" : "Chapter %d: %s",
             l->chapter, ch ? ch->title : "");
    ct_wrap(out, line, ro->width, 0);
    snprintf(line, sizeof line, ro->color ? "\033[1;4m%s\033[0m  (%s)" : "%s  (%s)", l->title,
             l->id);
    ct_wrap(out, line, ro->width, 0);
    fputc('\n', out);
    ct_render(out, l->body, l->body_len, ro);
    for (int d = 0; d < l->ndemos; d++)
        ct_print_demo_params(out, ct_demo_find(l->demos[d]), ro);
    print_explore_links(out, l, ro);
}

static void show_json(struct ct_json *j, const struct ct_lesson *l)
{
    ct_json_object_begin(j);
    ct_json_kv_str(j, "id", l->id);
    ct_json_kv_int(j, "chapter", l->chapter);
    ct_json_kv_str(j, "title", l->title);
    ct_json_kv_str(j, "summary", l->summary);
    ct_json_key(j, "demos");
    ct_json_array_begin(j);
    for (int d = 0; d < l->ndemos; d++)
        ct_json_str(j, l->demos[d]);
    ct_json_array_end(j);
    ct_json_key(j, "explore");
    ct_json_array_begin(j);
    for (size_t i = 0; i < ct_ex_scenario_count; i++) {
        if (strcmp(ct_ex_scenarios[i]->lesson, l->id) == 0)
            ct_json_str(j, ct_ex_scenarios[i]->name);
    }
    ct_json_array_end(j);
    ct_json_key(j, "text");
    ct_json_strn(j, l->body, l->body_len);
    ct_json_object_end(j);
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

int ct_cmd_show(struct ct_ctx *ctx, const struct ct_options *opt, int argc, char **argv)
{
    (void)argc;
    const struct ct_library *lib = ct_ctx_lessons(ctx, true);
    const char *topic = argv[1];
    const struct ct_lesson *lesson = ct_lesson_find(lib, topic);
    const struct ct_demo *demo = ct_demo_find(topic);
    int chapter = 0;
    const struct ct_chapter *ch = parse_chapter(topic, &chapter) ? ct_chapter_find(lib, chapter) : NULL;
    if (!lesson && demo)
        lesson = ct_lesson_for_demo(lib, demo->name);
    if (!lesson && !demo && !ch) {
        int rc = ct_retired_demo_error("show", topic);
        if (rc)
            return rc;
        const char *s = suggest_topic(lib, topic);
        if (s)
            return ct_usage_error("show: unknown lesson or demo %s (did you mean '%s'?); try 'list'",
                                  CT_Q(topic), s);
        return ct_usage_error("show: unknown lesson or demo %s; 'list' shows them all",
                              CT_Q(topic));
    }
    if (opt->json) {
        if (!lesson && !ch)
            return ct_usage_error("show: demo %s has no lesson in the loaded lessons", CT_Q(topic));
        struct ct_json j;
        ct_json_init(&j, stdout);
        if (lesson) {
            show_json(&j, lesson);
        } else {
            ct_json_array_begin(&j);
            for (int i = 0; i < lib->nlessons; i++) {
                if (lib->lessons[i].chapter == chapter)
                    show_json(&j, &lib->lessons[i]);
            }
            ct_json_array_end(&j);
        }
        ct_json_finish(&j);
        return CT_EXIT_OK;
    }

    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return CT_EXIT_FAILED;
    struct ct_render_opts ro = ct_render_opts_for(opt);
    if (lesson) {
        show_lesson(m, lib, lesson, &ro);
    } else if (ch) {
        char line[512];
        snprintf(line, sizeof line, ro.color ? "\033[1;4mChapter %d: %s\033[0m" : "Chapter %d: %s",
                 ch->number, ch->title);
        ct_wrap(m, line, ro.width, 0);
        fputc('\n', m);
        if (ch->body_len)
            ct_render(m, ch->body, ch->body_len, &ro);
        for (int i = 0; i < lib->nlessons; i++) {
            if (lib->lessons[i].chapter == chapter) {
                fputc('\n', m);
                show_lesson(m, lib, &lib->lessons[i], &ro);
            }
        }
    } else {
        ct_print_demo_params(m, demo, &ro);
    }
    fclose(m);
    int rc = ct_term_page(text, len);
    free(text);
    if (rc == 0 && lesson) {
        ct_progress_lesson_read(lesson->id);
    } else if (rc == 0 && ch) {
        for (int i = 0; i < lib->nlessons; i++) {
            if (lib->lessons[i].chapter == chapter)
                ct_progress_lesson_read(lib->lessons[i].id);
        }
    }
    return rc ? CT_EXIT_FAILED : CT_EXIT_OK;
}

