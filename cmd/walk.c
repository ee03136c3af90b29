/* walk.c - `walk CHAPTER|LESSON`: the presenter mode.
 *
 * A chapter becomes a row of steps: the chapter's introduction, then for
 * each lesson its sections (the lesson split at its # and ## headings; a
 * section taller than the screen is shown a screenful at a time), then
 * each of its demos run live, each followed by its takeaway on a page of
 * its own, and an end page.  One key moves one screenful; the status line
 * at the bottom says where the class is.  On a terminal the keys come
 * through tty.h, which gives the terminal back on every way out; when the
 * output (or the input) is not a terminal the whole chapter is printed
 * straight through as a handout, demos included.  Where a walk stopped is
 * kept in the progress file, so that `walk 4` goes on from there.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "exit.h"
#include "progress.h"
#include "registry.h"
#include "render.h"
#include "run.h"
#include "term.h"
#include "text.h"
#include "tty.h"
#include "words.h"

enum kind { K_INTRO, K_SECTION, K_DEMO, K_TAKEAWAY, K_END };

struct step {
    enum kind kind;
    int lesson;             /* index in lib->lessons, or -1 */
    int lesson_no;          /* 1-based within the chapter, 0 for intro and end */
    int section, nsections; /* K_SECTION, 1-based */
    const char *text;       /* K_INTRO, K_SECTION: Markdown */
    size_t len;
    int demo;               /* K_DEMO, K_TAKEAWAY: index in walk.demos */
};

struct demo_state {
    const struct ct_demo *d;
    bool ran;
    struct ct_run_outcome out;
    int code;
    char args[256];         /* the key=value words of the last run */
};

struct walk {
    struct ct_ctx *ctx;
    const struct ct_options *opt;
    const struct ct_library *lib;
    const struct ct_chapter *ch;
    struct step *steps;
    int nsteps, cap;
    struct demo_state *demos;
    int ndemos;
    int nlessons;           /* in the chapter */
    int cur, sub;           /* the step, and the screenful within it */
    int rows, cols;
    bool color, utf8;
    char **lines;           /* the current step, rendered */
    int nlines;
    bool output_on_screen;  /* a demo's output is showing, not a page */
    int code;               /* a signal that ended a demo ends the walk */
    char note[160];         /* said once on the status line */
};

/* ---- the steps ------------------------------------------------------------ */

static struct step *add_step(struct walk *w, enum kind kind, int lesson, int lesson_no)
{
    if (w->nsteps == w->cap) {
        int cap = w->cap ? w->cap * 2 : 32;
        struct step *s = realloc(w->steps, (size_t)cap * sizeof *s);
        if (!s)
            return NULL;
        w->steps = s;
        w->cap = cap;
    }
    struct step *s = &w->steps[w->nsteps++];
    *s = (struct step){ .kind = kind, .lesson = lesson, .lesson_no = lesson_no, .demo = -1 };
    return s;
}

/* Is line [p, p+len) a # or ## heading? */
static bool section_heading(const char *p, size_t len)
{
    return (len >= 2 && p[0] == '#' && p[1] == ' ') ||
           (len >= 3 && p[0] == '#' && p[1] == '#' && p[2] == ' ');
}

/* Split a lesson's body at its # and ## headings (not inside code) into
 * section steps. */
static void add_sections(struct walk *w, int lesson, int lesson_no, const char *body, size_t len)
{
    const char *start = body, *end = body + len;
    int first = w->nsteps;
    bool fence = false, seen_text = false;
    for (const char *p = body; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t llen = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (llen >= 3 && strncmp(p, "```", 3) == 0)
            fence = !fence;
        if (!fence && section_heading(p, llen) && seen_text && p > start) {
            struct step *s = add_step(w, K_SECTION, lesson, lesson_no);
            if (s) {
                s->text = start;
                s->len = (size_t)(p - start);
            }
            start = p;
        }
        if (llen && strncmp(p, "<!--", 4) != 0)
            seen_text = true;
        p = nl ? nl + 1 : end;
    }
    if (end > start) {
        struct step *s = add_step(w, K_SECTION, lesson, lesson_no);
        if (s) {
            s->text = start;
            s->len = (size_t)(end - start);
        }
    }
    for (int i = first; i < w->nsteps; i++) {
        w->steps[i].section = i - first + 1;
        w->steps[i].nsections = w->nsteps - first;
    }
}

static int build_steps(struct walk *w)
{
    const struct ct_chapter *ch = w->ch;
    if (ch->body_len && ch->body[strspn(ch->body, " \n")] && strspn(ch->body, " \n") < ch->body_len) {
        struct step *s = add_step(w, K_INTRO, -1, 0);
        if (s) {
            s->text = ch->body;
            s->len = ch->body_len;
        }
    }
    w->demos = calloc(64, sizeof *w->demos);
    if (!w->demos)
        return -ENOMEM;
    for (int i = 0; i < w->lib->nlessons; i++) {
        const struct ct_lesson *l = &w->lib->lessons[i];
        if (l->chapter != ch->number)
            continue;
        int no = ++w->nlessons;
        add_sections(w, i, no, l->body, l->body_len);
        for (int d = 0; d < l->ndemos && w->ndemos < 64; d++) {
            struct demo_state *ds = &w->demos[w->ndemos];
            ds->d = ct_demo_find(l->demos[d]);
            if (!ds->d)
                continue;
            struct step *s = add_step(w, K_DEMO, i, no);
            if (s)
                s->demo = w->ndemos;
            s = add_step(w, K_TAKEAWAY, i, no);
            if (s)
                s->demo = w->ndemos;
            w->ndemos++;
        }
    }
    add_step(w, K_END, -1, 0);
    return w->steps ? 0 : -ENOMEM;
}

static void walk_free(struct walk *w)
{
    for (int i = 0; i < w->nlines; i++)
        free(w->lines[i]);
    free(w->lines);
    for (int i = 0; i < w->ndemos; i++)
        free(w->demos[i].out.takeaway);
    free(w->demos);
    free(w->steps);
}

/* The first step of lesson `lesson` (an index in lib->lessons), or -1. */
static int lesson_start(const struct walk *w, int lesson)
{
    for (int i = 0; i < w->nsteps; i++) {
        if (w->steps[i].lesson == lesson)
            return i;
    }
    return -1;
}

/* ---- rendering a step ------------------------------------------------------ */

static const char *dot(const struct walk *w)
{
    return w->utf8 ? " \xc2\xb7 " : " - ";
}

static void takeaway_text(FILE *m, const struct walk *w, const struct demo_state *ds)
{
    fprintf(m, "# Takeaway of the demo %s\n\n", ds->d->name);
    if (!ds->ran) {
        fprintf(m, "The demo has not run yet in this walk: `r` runs it.\n");
        return;
    }
    if (strcmp(ds->out.status, "cancelled") == 0) {
        fprintf(m, "The run was cancelled, so it has no takeaway: `r` runs it again.\n");
        return;
    }
    fprintf(m, "%s: %d of %d checks held.\n\n", ds->out.status, ds->out.passed,
            ds->out.checks);
    const char *t = ds->out.takeaway && *ds->out.takeaway ? ds->out.takeaway
                                                          : "The demo stated no takeaway.";
    /* paragraphs as they are: the renderer wraps them */
    fputs(t, m);
    fputc('\n', m);
    (void)w;
}

static void demo_page(FILE *m, const struct demo_state *ds)
{
    fprintf(m, "# Demo %s: %s\n\n%s\n\n", ds->d->name, ds->d->title, ds->d->intro);
    if (ds->ran)
        fprintf(m, "It ran in this walk: %s, %d of %d checks held. `r` runs it again "
                   "(with new `key=value` parameters if you like); Enter goes on.\n",
                ds->out.status, ds->out.passed, ds->out.checks);
    else
        fprintf(m, "Enter runs it; `r` asks for `key=value` parameters first.\n");
}

/* The current step as Markdown, rendered into lines. */
static void render_step(struct walk *w)
{
    for (int i = 0; i < w->nlines; i++)
        free(w->lines[i]);
    free(w->lines);
    w->lines = NULL;
    w->nlines = 0;
    const struct step *s = &w->steps[w->cur];
    char *md = NULL, *out = NULL;
    size_t mdlen = 0, outlen = 0;
    FILE *m = open_memstream(&md, &mdlen);
    if (!m)
        return;
    const struct ct_lesson *l = s->lesson >= 0 ? &w->lib->lessons[s->lesson] : NULL;
    switch (s->kind) {
    case K_INTRO:
        fprintf(m, "# Chapter %d: %s\n\n", w->ch->number, w->ch->title);
        fwrite(s->text, 1, s->len, m);
        break;
    case K_SECTION:
        fwrite(s->text, 1, s->len, m);
        break;
    case K_DEMO:
        demo_page(m, &w->demos[s->demo]);
        break;
    case K_TAKEAWAY:
        takeaway_text(m, w, &w->demos[s->demo]);
        break;
    case K_END:
        fprintf(m, "# End of chapter %d: %s\n\nThat was the whole chapter. `p` goes back; "
                   "`q` returns to the prompt, and the next `walk %d` starts it again.\n",
                w->ch->number, w->ch->title, w->ch->number);
        break;
    }
    fclose(m);
    FILE *o = open_memstream(&out, &outlen);
    if (!o) {
        free(md);
        return;
    }
    if (l) {
        /* a dim line over every page of a lesson: where we are */
        char head[256];
        snprintf(head, sizeof head, w->color ? "\033[2mChapter %d: %s%s%s\033[0m"
                                             : "Chapter %d: %s%s%s",
                 w->ch->number, w->ch->title, dot(w), l->title);
        ct_wrap(o, head, w->cols - 1, 0);
        fputc('\n', o);
    }
    struct ct_render_opts ro = { .width = w->cols - 1 > 100 ? 100 : w->cols - 1,
                                 .color = w->color, .utf8 = w->utf8 };
    ct_render(o, md, mdlen, &ro);
    fclose(o);
    free(md);
    int cap = 0;
    for (char *p = out, *nl; p && *p; p = nl + 1) {
        nl = strchr(p, '\n');
        if (!nl)
            nl = p + strlen(p) - 1;
        if (w->nlines == cap) {
            cap = cap ? cap * 2 : 64;
            char **q = realloc(w->lines, (size_t)cap * sizeof *q);
            if (!q)
                break;
            w->lines = q;
        }
        w->lines[w->nlines++] = strndup(p, (size_t)(nl - p + (*nl != '\n')));
    }
    free(out);
}

static int page_height(const struct walk *w)
{
    return w->rows - 1;
}

static int subpages(const struct walk *w)
{
    int h = page_height(w);
    return w->nlines ? (w->nlines + h - 1) / h : 1;
}

/* ---- drawing ---------------------------------------------------------------- */

/* The position, as long as it fits in `room` columns. */
static void position(const struct walk *w, char *buf, size_t n, bool brief)
{
    const struct step *s = &w->steps[w->cur];
    const char *d = dot(w);
    char where[96] = "";
    int nsub = subpages(w);
    char more[32] = "";
    if (nsub > 1)
        snprintf(more, sizeof more, brief ? " %d/%d" : " (page %d of %d)", w->sub + 1, nsub);
    switch (s->kind) {
    case K_INTRO:
        snprintf(where, sizeof where, "introduction%s", more);
        break;
    case K_SECTION:
        snprintf(where, sizeof where, brief ? "%d/%d%s%d/%d%s" : "lesson %d of %d%ssection %d of %d%s",
                 s->lesson_no, w->nlessons, d, s->section, s->nsections, more);
        break;
    case K_DEMO:
        snprintf(where, sizeof where, brief ? "%d/%d%s%s" : "lesson %d of %d%sdemo %s",
                 s->lesson_no, w->nlessons, d, w->demos[s->demo].d->name);
        break;
    case K_TAKEAWAY:
        snprintf(where, sizeof where, brief ? "%d/%d%stakeaway" : "lesson %d of %d%stakeaway",
                 s->lesson_no, w->nlessons, d);
        break;
    case K_END:
        snprintf(where, sizeof where, "the end");
        break;
    }
    snprintf(buf, n, brief ? "ch %d%s%s" : "chapter %d%s%s", w->ch->number, d, where);
}

static const char *const hints_page[] = {
    "Enter next  p back  r demo  s source  q quit", "n next p back r s q", "n p r s q", "",
};
static const char *const hints_page_no_demo[] = {   /* r and s would be refused */
    "Enter next  p back  q quit", "n next p back q", "n p q", "",
};
static const char *const hints_demo[] = {
    "Enter takeaway  r run again  s source  q quit", "Enter on  r again  s  q", "n r s q", "",
};
static const char *const hints_end[] = { "p back  q back to the prompt", "p back  q quit", "p q", "" };

/* The demo the keys r and s mean on the current step: this step's, or the
 * first of the current lesson; -1 if the lesson has none. */
static int current_demo(const struct walk *w, int *demo_step)
{
    const struct step *s = &w->steps[w->cur];
    for (int i = w->cur; i < w->nsteps && w->steps[i].lesson == s->lesson && s->lesson >= 0;
         i++) {
        if (w->steps[i].kind == K_DEMO) {
            *demo_step = i;
            return w->steps[i].demo;
        }
    }
    if (s->kind == K_TAKEAWAY) {
        *demo_step = w->cur - 1;
        return s->demo;
    }
    return -1;
}

/* The keys of the current page: r and s only where they have a demo. */
static const char *const *page_hints(const struct walk *w)
{
    int ds_step;
    enum kind k = w->steps[w->cur].kind;
    if (k == K_END)
        return hints_end;
    if (k == K_DEMO)
        return hints_demo;
    return current_demo(w, &ds_step) >= 0 ? hints_page : hints_page_no_demo;
}

/* The status line on the last row: where we are, and the keys that fit. */
static void draw_status(struct walk *w, const char *const *hints)
{
    char pos[160], line[512];
    int room = w->cols - 1;
    position(w, pos, sizeof pos, false);
    if (ct_text_width(pos, strlen(pos)) > room - 10)
        position(w, pos, sizeof pos, true);
    const char *hint = "";
    for (int i = 0; hints[i]; i++) {
        hint = hints[i];
        if (ct_text_width(pos, strlen(pos)) + 3 + (int)strlen(hint) <= room)
            break;
    }
    if (*w->note) {
        snprintf(line, sizeof line, "%s", w->note);
        w->note[0] = '\0';
    } else {
        int gap = room - ct_text_width(pos, strlen(pos)) - (int)strlen(hint);
        snprintf(line, sizeof line, "%s%*s%s", pos, gap > 1 ? gap : 1, "", hint);
    }
    printf("\033[%d;1H\033[2K%s%s%s", w->rows, w->color ? "\033[7m" : "", line,
           w->color ? "\033[0m" : "");
    fflush(stdout);
}

static void draw(struct walk *w)
{
    render_step(w);
    int nsub = subpages(w);
    if (w->sub >= nsub)
        w->sub = nsub - 1;
    if (w->sub < 0)
        w->sub = 0;
    int h = page_height(w);
    fputs("\033[H\033[2J", stdout);
    for (int i = w->sub * h; i < w->nlines && i < (w->sub + 1) * h; i++)
        printf("%s\n", w->lines[i]);
    draw_status(w, page_hints(w));
    w->output_on_screen = false;
}

/* ---- demos ------------------------------------------------------------------- */

/* Run demo `ds` live, with its last parameters.  The screen is the demo's
 * until a key is pressed. */
static void run_demo(struct walk *w, struct demo_state *ds)
{
    char args[256], *argv[64];
    snprintf(args, sizeof args, "%s", ds->args);
    int argc = ct_split_line(args, argv, 63);
    if (argc < 0)
        argc = 0;
    fputs("\033[H\033[2J", stdout);
    printf(w->color ? "\033[2mChapter %d%sdemo %s%s\033[0m\n\n" : "Chapter %d%sdemo %s%s\n\n",
           w->ch->number, dot(w), ds->d->name, *ds->args ? " (with your parameters)" : "");
    fflush(stdout);
    ct_tty_demo_mode();
    struct ct_options opt = *w->opt;
    struct ct_run_outcome out = { .status = "" };
    int code = ct_exec_demo(w->ctx, &opt, ds->d, argc, argv, &out);
    ct_tty_key_mode();
    if (*out.status) {
        free(ds->out.takeaway);
        ds->out = out;
        ds->ran = true;
    } else {
        free(out.takeaway);
    }
    ds->code = code;
    if (code > 128 && code != CT_EXIT_INTERRUPTED)
        w->code = code;         /* SIGTERM or SIGHUP stopped the demo: stop too */
    else if (code == CT_EXIT_INTERRUPTED)
        snprintf(w->note, sizeof w->note, "demo cancelled (Ctrl-C); r runs it again, Enter goes on");
    else if (code == CT_EXIT_USAGE)
        snprintf(w->note, sizeof w->note, "those parameters were refused (see above); r to try again");
    fputc('\n', stdout);
    w->output_on_screen = true;
    draw_status(w, hints_demo);
}

/* Ask for new parameters on the status line, then run the demo of step
 * `demo_step` again; cancelled (Ctrl-C, Esc), the walk stays where it
 * was. */
static void rerun(struct walk *w, int demo_step)
{
    struct demo_state *ds = &w->demos[w->steps[demo_step].demo];
    char line[256];
    printf("\033[%d;1H\033[2Krun %s with (key=value ..., Enter: %s): ", w->rows, ds->d->name,
           *ds->args ? "the same" : "the defaults");
    fflush(stdout);
    int rc = ct_tty_read_line(line, sizeof line);
    if (rc == -ECANCELED) {
        snprintf(w->note, sizeof w->note, ds->ran ? "not run again" : "not run");
        if (w->output_on_screen)
            draw_status(w, hints_demo);
        else
            draw(w);
        return;
    }
    if (rc == 0 && line[strspn(line, " ")])
        snprintf(ds->args, sizeof ds->args, "%s", line);
    w->cur = demo_step;
    w->sub = 0;
    run_demo(w, ds);
}

/* ---- the source viewer ------------------------------------------------------ */

static const char intr_note[] = "Ctrl-C stops a demo while it runs; q leaves the walk";

/* Page through the demo's source: n/p, s, Esc or Ctrl-C back to the walk.
 * Returns true when q was pressed (leave the walk). */
static bool show_source(struct walk *w, const struct ct_demo *d)
{
    char *text = NULL, err[256];
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return false;
    ct_source_render(m, d->name, NULL, w->cols - 1, w->color, w->utf8, err, sizeof err);
    fclose(m);
    int n = 0;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    char **lines = calloc((size_t)n + 1, sizeof *lines);
    int k = 0;
    for (char *p = text, *save = NULL, *l = lines ? strtok_r(p, "\n", &save) : NULL; l;
         l = strtok_r(NULL, "\n", &save))
        lines[k++] = l;
    int top = 0;
    bool quit = false;
    for (bool done = false; lines && !done;) {
        int h = page_height(w);
        fputs("\033[H\033[2J", stdout);
        for (int i = top; i < k && i < top + h; i++)
            printf("%s\n", lines[i]);
        char status[256];
        snprintf(status, sizeof status, "source %s%slines %d-%d of %d%sn/p page  s back  q quit",
                 d->name, dot(w), top + 1, top + h < k ? top + h : k, k, dot(w));
        printf("\033[%d;1H\033[2K%s%.*s%s", w->rows, w->color ? "\033[7m" : "", w->cols - 1,
               status, w->color ? "\033[0m" : "");
        fflush(stdout);
        int key = ct_tty_key();
        switch (key) {
        case ' ': case '\n': case '\r': case 'n': case CT_KEY_NEXT:
            if (top + h < k)
                top += h;
            break;
        case 'p': case CT_KEY_BACK: case 0x7f:
            top = top > h ? top - h : 0;
            break;
        case 'q': case CT_KEY_EOF:
            quit = true;
            done = true;
            break;
        case CT_KEY_INTR:
            /* as on a page: Ctrl-C is for a running demo, never the walk */
            snprintf(w->note, sizeof w->note, "%s", intr_note);
            done = true;
            break;
        case 's': case CT_KEY_ESC:
            done = true;
            break;
        case CT_KEY_RESIZE:
            ct_tty_size(&w->rows, &w->cols);
            break;
        default:
            break;
        }
    }
    free(lines);
    free(text);
    return quit;
}

/* ---- moving ------------------------------------------------------------------ */

static void mark_read_upto(struct walk *w, int step)
{
    const struct step *s = &w->steps[step];
    if (s->kind == K_SECTION && s->section == s->nsections)
        ct_progress_lesson_read(w->lib->lessons[s->lesson].id);
}

/* Go forward one screenful: the next page of this step, or the next step
 * (running a demo on the way in). */
static void next(struct walk *w)
{
    if (!w->output_on_screen && w->sub + 1 < subpages(w)) {
        w->sub++;
        draw(w);
        return;
    }
    if (w->cur + 1 >= w->nsteps) {
        draw(w);
        return;
    }
    mark_read_upto(w, w->cur);
    w->cur++;
    w->sub = 0;
    const struct step *s = &w->steps[w->cur];
    if (s->kind == K_DEMO)
        run_demo(w, &w->demos[s->demo]);
    else
        draw(w);
}

static void back(struct walk *w)
{
    if (!w->output_on_screen && w->sub > 0) {
        w->sub--;
    } else if (w->output_on_screen) {
        w->sub = 0;             /* from the demo's output to its page */
    } else if (w->cur > 0) {
        w->cur--;
        w->sub = 1 << 20;       /* the last screenful of the step before */
    }
    draw(w);
}

/* Where this walk is, for the next `walk CHAPTER` and for `progress`: a
 * lesson and the step within it, and the place as the status line says
 * it; the end means starting again. */
static void save_position(const struct walk *w)
{
    static const char *const kinds[] = {
        [K_INTRO] = "introduction", [K_SECTION] = "section", [K_DEMO] = "demo",
        [K_TAKEAWAY] = "takeaway", [K_END] = "end",
    };
    const struct step *s = &w->steps[w->cur];
    int lesson = s->lesson, offset = 0;
    struct ct_walk_place pl = { .section = s->section, .sections = s->nsections,
                                .page = w->sub + 1, .pages = subpages(w) };
    snprintf(pl.kind, sizeof pl.kind, "%s", kinds[s->kind]);
    if (s->kind == K_DEMO || s->kind == K_TAKEAWAY) {
        snprintf(pl.demo, sizeof pl.demo, "%s", w->demos[s->demo].d->name);
        pl.page = pl.pages = 1;     /* the demo's output, or its page */
    }
    if (s->kind == K_END || lesson < 0) {
        for (int i = 0; i < w->nsteps && lesson < 0; i++)
            lesson = w->steps[i].lesson;
        if (lesson < 0)
            return;
    } else {
        offset = w->cur - lesson_start(w, lesson);
    }
    ct_progress_walk_set(w->ch->number, w->lib->lessons[lesson].id, offset, &pl);
}

/* r or s where there is no demo to run or show. */
static void refuse_no_demo(struct walk *w, bool source)
{
    enum kind k = w->steps[w->cur].kind;
    const char *what = k == K_INTRO ? "the chapter's introduction"
                       : k == K_END ? "the end of the chapter" : "this lesson";
    snprintf(w->note, sizeof w->note, "%s has no demo%s", what, source ? ", so no source" : "");
    draw_status(w, page_hints(w));
}

static int key_loop(struct walk *w)
{
    const struct step *s = &w->steps[w->cur];
    if (s->kind == K_DEMO && !w->demos[s->demo].ran)
        run_demo(w, &w->demos[s->demo]);
    else
        draw(w);
    while (!w->code) {
        int key = ct_tty_key(), ds_step;
        switch (key) {
        case ' ': case '\n': case '\r': case 'n': case CT_KEY_NEXT:
            next(w);
            break;
        case 'p': case 0x7f: case CT_KEY_BACK:
            back(w);
            break;
        case 'r':
            if (current_demo(w, &ds_step) < 0)
                refuse_no_demo(w, false);
            else
                rerun(w, ds_step);
            break;
        case 's': {
            int d = current_demo(w, &ds_step);
            if (d < 0) {
                refuse_no_demo(w, true);
            } else if (show_source(w, w->demos[d].d)) {
                return CT_EXIT_OK;
            } else {
                draw(w);
            }
            break;
        }
        case 'q': case CT_KEY_EOF:
            return CT_EXIT_OK;
        case CT_KEY_INTR:
            /* a Ctrl-C meant for a demo that had just ended must not end
             * the lesson */
            snprintf(w->note, sizeof w->note, "%s", intr_note);
            draw_status(w, w->output_on_screen ? hints_demo : page_hints(w));
            break;
        case CT_KEY_RESIZE:
            ct_tty_size(&w->rows, &w->cols);
            if (w->output_on_screen)
                draw_status(w, hints_demo);
            else
                draw(w);
            break;
        default:
            break;
        }
    }
    return w->code;
}

static int interactive(struct walk *w)
{
    if (ct_tty_begin() != 0)
        return CT_EXIT_FAILED;
    ct_tty_size(&w->rows, &w->cols);
    int code = key_loop(w);
    save_position(w);
    printf("\033[%d;1H\033[2K", w->rows);
    ct_tty_end();
    const struct step *s = &w->steps[w->cur];
    if (s->kind == K_END)
        printf("End of chapter %d; 'walk %d' starts it again.\n", w->ch->number,
               w->ch->number);
    else
        printf("Stopped in chapter %d at %s; 'walk %d' goes on from here.\n", w->ch->number,
               s->lesson >= 0 ? w->lib->lessons[s->lesson].id : "the introduction",
               w->ch->number);
    return code;
}

/* ---- the handout -------------------------------------------------------------- */

static int handout(struct walk *w)
{
    struct ct_render_opts ro = ct_render_opts_for(w->opt);
    int width = ct_term_width(), code = CT_EXIT_OK;
    char line[512];
    snprintf(line, sizeof line, "Chapter %d: %s", w->ch->number, w->ch->title);
    ct_wrap(stdout, line, width, 0);
    for (int i = 0; i < (int)strlen(line) && i < width; i++)
        putchar('=');
    putchar('\n');
    int last_lesson = -2;
    for (int i = w->cur; i < w->nsteps; i++) {
        const struct step *s = &w->steps[i];
        if (s->lesson != last_lesson && s->lesson >= 0) {
            const struct ct_lesson *l = &w->lib->lessons[s->lesson];
            snprintf(line, sizeof line, "Lesson %d of %d: %s (%s)", s->lesson_no, w->nlessons,
                     l->title, l->id);
            printf("\n\n");
            ct_wrap(stdout, line, width, 0);
            putchar('\n');
            last_lesson = s->lesson;
        }
        if (s->kind == K_INTRO || s->kind == K_SECTION) {
            ct_render(stdout, s->text, s->len, &ro);
            putchar('\n');
        } else if (s->kind == K_DEMO) {
            struct demo_state *ds = &w->demos[s->demo];
            snprintf(line, sizeof line, "Demo: %s", ds->d->name);
            printf("\n");
            ct_wrap(stdout, line, width, 0);
            printf("\n");
            fflush(stdout);
            int rc = ct_exec_demo(w->ctx, w->opt, ds->d, 0, NULL, NULL);
            if (rc == CT_EXIT_INTERRUPTED || rc > 128)
                return rc;
            if (rc != CT_EXIT_OK && code == CT_EXIT_OK)
                code = rc;
        }
    }
    printf("\n");
    snprintf(line, sizeof line, "End of chapter %d.", w->ch->number);
    ct_wrap(stdout, line, width, 0);
    return code;
}

/* ---- the command ----------------------------------------------------------------- */

static bool parse_chapter(const char *s, int *out)
{
    size_t n = strspn(s, "0123456789");
    if (n == 0 || n > 2 || s[n] != '\0' || s[0] == '0')
        return false;
    *out = atoi(s);
    return true;
}

/* The chapter and the lesson (or -1) that `topic` names; false with the
 * error printed when it names none. */
static bool find_topic(const struct ct_library *lib, const char *topic, int *chapter,
                       int *lesson)
{
    *lesson = -1;
    if (parse_chapter(topic, chapter) && ct_chapter_find(lib, *chapter))
        return true;
    const struct ct_lesson *l = ct_lesson_find(lib, topic);
    if (!l && ct_demo_find(topic))
        l = ct_lesson_for_demo(lib, topic);
    if (l) {
        *chapter = l->chapter;
        *lesson = (int)(l - lib->lessons);
        return true;
    }
    struct ct_suggest s;
    ct_suggest_init(&s, topic);
    for (int i = 0; i < lib->nlessons; i++)
        ct_suggest_add(&s, lib->lessons[i].id);
    if (ct_suggest_result(&s))
        ct_usage_error("walk: no chapter or lesson %s (did you mean '%s'?)", CT_Q(topic),
                       ct_suggest_result(&s));
    else
        ct_usage_error("walk: no chapter or lesson %s; 'list' shows them", CT_Q(topic));
    return false;
}

/* Where to start: a lesson's first step, where the class stopped (the
 * step, and the screenful within it), or the beginning. */
static void start_step(struct walk *w, int lesson, bool from_start)
{
    w->cur = w->sub = 0;
    if (lesson >= 0) {
        w->cur = lesson_start(w, lesson) >= 0 ? lesson_start(w, lesson) : 0;
        return;
    }
    char id[64];
    int offset;
    struct ct_walk_place pl;
    if (from_start || !ct_progress_walk_get(w->ch->number, id, sizeof id, &offset, &pl) ||
        strcmp(pl.kind, "introduction") == 0 || strcmp(pl.kind, "end") == 0)
        return;
    const struct ct_lesson *l = ct_lesson_find(w->lib, id);
    int first = l ? lesson_start(w, (int)(l - w->lib->lessons)) : -1;
    if (first < 0 || first + offset >= w->nsteps)
        return;
    w->cur = first + offset;
    if (strcmp(pl.kind, "section") == 0 && pl.page > 1)
        w->sub = pl.page - 1;   /* draw() keeps it within the section */
}

int ct_cmd_walk(struct ct_ctx *ctx, const struct ct_options *opt, int argc, char **argv)
{
    const char *topic = NULL;
    bool from_start = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--from-start") == 0)
            from_start = true;
        else if (!topic)
            topic = argv[i];
        else
            return ct_usage_error("walk: unexpected argument %s (usage: walk CHAPTER|LESSON "
                                  "[--from-start])", CT_Q(argv[i]));
    }
    if (!topic)
        return ct_usage_error("walk: missing CHAPTER|LESSON (usage: walk CHAPTER|LESSON "
                              "[--from-start])");
    if (opt->json)
        return ct_usage_error("walk: --json does not go with walk; 'show --json' gives the "
                              "lessons, 'run DEMO --json' a demo");
    const struct ct_library *lib = ct_ctx_lessons(ctx, true);
    int chapter, lesson;
    if (!find_topic(lib, topic, &chapter, &lesson))
        return CT_EXIT_USAGE;
    struct walk w = {
        .ctx = ctx, .opt = opt, .lib = lib, .ch = ct_chapter_find(lib, chapter),
        .color = ct_use_color(opt), .utf8 = MB_CUR_MAX > 1,
    };
    if (build_steps(&w) != 0) {
        walk_free(&w);
        return CT_EXIT_FAILED;
    }
    start_step(&w, lesson, from_start);
    bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    if (!tty && lesson < 0)
        w.cur = 0;      /* a handout is the whole chapter */
    int code = tty ? interactive(&w) : handout(&w);
    walk_free(&w);
    return code;
}
