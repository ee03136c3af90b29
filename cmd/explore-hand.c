/* explore-hand.c - the by-hand mode of explore: the student is the
 * scheduler.
 *
 * The screen (80x24) shows each thread's real code with a cursor on the
 * step it will make next, the shared state and the goal.  A digit steps
 * that thread (or a store-buffer actor), n steps the same thread again, u
 * undoes, r restarts, q leaves.  The tutor says when the invariant breaks
 * or when every thread is blocked (drawn as its wait-for cycle).
 *
 * On a terminal, keys are read one at a time in raw mode; the terminal is
 * restored on every way out (q, Ctrl-C, Ctrl-D, errors, and SIGTERM or
 * SIGHUP, after which the signal is raised again).  Otherwise the keys
 * come from keys=... or from stdin, and each one's outcome is printed as
 * a line, then the final screen.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "exit.h"
#include "explore-cmd.h"
#include "json.h"
#include "text.h"

#define SCREEN_COLS 80
#define SCREEN_ROWS 24
#define MAX_BODY 40
#define MAX_SAY 6

/* One thread function's body as it stands in the scenario's source. */
struct view {
    const struct ct_ex_code *code;
    uint32_t threads;               /* which threads run it */
    int first;                      /* source line number of lines[0] */
    int n;
    const char *line[MAX_BODY];
    int len[MAX_BODY];
};

struct hand {
    const struct ct_ex_args *a;
    const struct ct_ex_world *w;
    struct ct_ex_state st[CT_EX_MAX_STEPS + 1];     /* st[0]: the start */
    uint8_t sched[CT_EX_MAX_STEPS];
    int len;
    int last;                       /* the thread picked last, or -1 */
    char say[MAX_SAY][96];          /* what the tutor says after a key */
    int nsay;
    bool help;
    struct view view[CT_EX_MAX_THREADS];
    int nview;
    int rejected;                   /* keys refused, for the exit summary */
};

/* ---- the scenario's source ---------------------------------------------------- */

/* Find "static void NAME(" and the lines between its EX_BEGIN and EX_END. */
static void load_view(struct view *v, const char *src, const char *fn)
{
    char head[96];
    snprintf(head, sizeof head, "static void %s(", fn);
    int lineno = 1, state = 0;
    for (const char *p = src; p && *p;) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        if (state == 0 && strncmp(p, head, strlen(head)) == 0) {
            state = 1;
        } else if (state == 1 && memmem(p, (size_t)len, "EX_BEGIN", 8)) {
            state = 2;
            v->first = lineno + 1;
        } else if (state == 2 && memmem(p, (size_t)len, "EX_END", 6)) {
            return;
        } else if (state == 2 && v->n < MAX_BODY) {
            v->line[v->n] = p;
            v->len[v->n++] = len;
        }
        lineno++;
        p = nl ? nl + 1 : NULL;
    }
}

static void load_views(struct hand *h)
{
    const char *src = ct_ex_source(h->w->sc->source);
    for (int t = 0; t < h->w->nthreads; t++) {
        int k = 0;
        while (k < h->nview && h->view[k].code != h->w->code[t])
            k++;
        if (k == h->nview) {
            memset(&h->view[k], 0, sizeof h->view[k]);
            h->view[k].code = h->w->code[t];
            if (src)
                load_view(&h->view[k], src, h->w->code[t]->fn_name);
            h->nview++;
        }
        h->view[k].threads |= 1u << t;
    }
}

/* A body line for the screen: the function's own indent removed, halved
 * when columns are narrow, runs of blanks before a comment squeezed. */
static void tidy(const char *p, int len, bool narrow, char *out, size_t n)
{
    int lead = 0;
    while (lead < len && p[lead] == ' ')
        lead++;
    int indent = lead > 4 ? lead - 4 : 0;
    size_t o = 0;
    for (int i = 0; i < (narrow ? indent / 2 : indent) && o + 1 < n; i++)
        out[o++] = ' ';
    for (int i = lead; i < len && o + 1 < n; i++) {
        if (p[i] == ' ' && i + 2 < len && p[i + 1] == ' ') {
            int j = i;
            while (j < len && p[j] == ' ')
                j++;
            if (j + 1 < len && p[j] == '/' && p[j + 1] == '*') {
                for (int k = 0; k < 2 && o + 1 < n; k++)
                    out[o++] = ' ';
                i = j - 1;
                continue;
            }
        }
        out[o++] = p[i];
    }
    out[o] = '\0';
}

/* ---- drawing ------------------------------------------------------------------------ */

static const struct ct_ex_state *cur(const struct hand *h)
{
    return &h->st[h->len];
}

static int margin_width(const struct hand *h, const struct view *v);

/* The margin of body line i of view v: the threads whose cursor is there
 * ("01> "), or just "> " when the view has one thread. */
static void margin(const struct hand *h, const struct view *v, int i, char *out, int width)
{
    int k = 0, here = 0;
    bool one = margin_width(h, v) == 2;
    for (int t = 0; t < h->w->nthreads; t++) {
        const struct ct_ex_thread *th = &cur(h)->th[t];
        if (!(v->threads & (1u << t)) || th->done || th->pc / 4 != v->first + i)
            continue;
        here++;
        if (!one && k < width - 2)
            out[k++] = (char)('0' + t);
    }
    if (here)
        out[k++] = '>';
    while (k < width)
        out[k++] = ' ';
    out[k] = '\0';
}

/* The first line to show of view v in `rows` rows: the cursor of the
 * thread that moved last in sight, the others if they fit. */
static int window_start(const struct hand *h, const struct view *v, int rows)
{
    if (v->n <= rows)
        return 0;
    int lo = v->n, hi = -1, focus = -1;
    for (int t = 0; t < h->w->nthreads; t++) {
        const struct ct_ex_thread *th = &cur(h)->th[t];
        if (!(v->threads & (1u << t)) || th->done)
            continue;
        int i = th->pc / 4 - v->first;
        lo = i < lo ? i : lo;
        hi = i > hi ? i : hi;
        if (t == h->last || focus < 0)
            focus = i;
    }
    if (focus < 0)
        return v->n - rows;
    int start = hi - lo < rows ? lo - (rows - (hi - lo) - 1) / 2 : focus - rows / 2;
    if (start < 0)
        start = 0;
    if (start > v->n - rows)
        start = v->n - rows;
    return start;
}

static int margin_width(const struct hand *h, const struct view *v)
{
    int k = 0;
    for (int t = 0; t < h->w->nthreads; t++)
        k += (v->threads >> t) & 1;
    return k == 1 ? 2 : k + 2;
}

static void view_title(const struct hand *h, const struct view *v, char *out, size_t n)
{
    size_t off = 0;
    char name[32];
    for (int t = 0; t < h->w->nthreads && off < n; t++) {
        if (!(v->threads & (1u << t)))
            continue;
        ct_ex_actor_name(h->w, t, name, sizeof name);
        off += (size_t)snprintf(out + off, n - off, "%s[%d] %s", off ? ", " : "", t, name);
    }
    if (off < n)
        snprintf(out + off, n - off, ": %s()", v->code->fn_name);
}

/* Body line i of v as a cell of `width` columns, appended to row (of
 * size n); `narrow` halves the indent.  The cell is padded to its width
 * (the row is stripped of trailing blanks when printed). */
static void code_cell(char *row, size_t n, const struct hand *h, const struct view *v, int i,
                      int width, bool narrow)
{
    char mg[CT_EX_MAX_THREADS + 3], text[160];
    size_t off = strlen(row);
    int mw = margin_width(h, v);
    if (i >= v->n) {
        snprintf(row + off, n - off, "%-*s", width, "");
        return;
    }
    margin(h, v, i, mg, mw);
    tidy(v->line[i], v->len[i], narrow, text, sizeof text);
    int shown = (int)strlen(text) < width - mw ? (int)strlen(text) : width - mw;
    if (h->a->color && mg[0] != ' ')
        snprintf(row + off, n - off, "\033[1;33m%s\033[0;1m%.*s\033[0m%*s", mg, shown, text,
                 width - mw - shown, "");
    else
        snprintf(row + off, n - off, "%s%.*s%*s", mg, shown, text, width - mw - shown, "");
}

static void put_row(FILE *out, char *row)
{
    size_t len = strlen(row);
    while (len > 0 && row[len - 1] == ' ')
        row[--len] = '\0';
    fprintf(out, "%s\n", row);
}

/* Code views in `rows` rows: two side by side, else one above the other. */
static void draw_code(FILE *out, const struct hand *h, int rows)
{
    char title[96];
    if (h->nview == 2) {
        int start[2];
        for (int k = 0; k < 2; k++)
            start[k] = window_start(h, &h->view[k], rows - 1);
        int most = h->view[0].n > h->view[1].n ? h->view[0].n : h->view[1].n;
        view_title(h, &h->view[0], title, sizeof title);
        fprintf(out, "%-40.40s", title);
        view_title(h, &h->view[1], title, sizeof title);
        fprintf(out, "%.40s\n", title);
        for (int r = 0; r < rows - 1 && r < most; r++) {
            char row[256] = "";
            code_cell(row, sizeof row, h, &h->view[0], start[0] + r, 40, true);
            code_cell(row, sizeof row, h, &h->view[1], start[1] + r, 40, true);
            put_row(out, row);
        }
        return;
    }
    int per = rows / (h->nview ? h->nview : 1);
    for (int k = 0; k < h->nview; k++) {
        const struct view *v = &h->view[k];
        int shown = per - 1 < v->n ? per - 1 : v->n;
        int start = window_start(h, v, shown);
        view_title(h, v, title, sizeof title);
        fprintf(out, "%.80s\n", title);
        for (int r = 0; r < shown; r++) {
            char row[256] = "";
            code_cell(row, sizeof row, h, v, start + r, SCREEN_COLS, false);
            put_row(out, row);
        }
    }
}

static void draw_threads(FILE *out, const struct hand *h)
{
    const struct ct_ex_world *w = h->w;
    const struct ct_ex_state *s = cur(h);
    uint32_t en = ct_ex_enabled(w, s);
    char name[32], what[96], locals[96], line[256];
    for (int t = 0; t < w->nthreads; t++) {
        ct_ex_actor_name(w, t, name, sizeof name);
        if (s->th[t].done)
            snprintf(what, sizeof what, "finished");
        else if (en & (1u << t))
            ct_ex_describe_next(w, s, t, what, sizeof what);
        else
            ct_ex_describe_blocked(w, s, t, what, sizeof what);
        ct_ex_describe_locals(w, s, t, locals, sizeof locals);
        snprintf(line, sizeof line, "[%d] %-8s %s%s%s%s", t, name,
                 (en & (1u << t)) ? "next: " : "", what, locals[0] ? "   " : "", locals);
        fprintf(out, "%.80s\n", line);
    }
    /* pending stores as actors of their own */
    for (int a = w->nthreads; a < w->nactors; a++) {
        if (!(en & (1u << a)))
            continue;
        ct_ex_actor_name(w, a, name, sizeof name);
        ct_ex_describe_next(w, s, a, what, sizeof what);
        fprintf(out, "[%d] %-8s %s\n", a, name, what);
    }
}

static int count_buffer_lines(const struct hand *h)
{
    uint32_t en = ct_ex_enabled(h->w, cur(h));
    int n = 0;
    for (int a = h->w->nthreads; a < h->w->nactors; a++)
        n += (en >> a) & 1;
    return n;
}

static const char keys_line[] =
    "keys: 0-9 step that thread  n same again  u undo  r restart  q quit  ? help";

static const char *const help_text[] = {
    "You are the scheduler: each key lets one thread make its next shared access",
    "(the line its cursor is on). Pick threads so that the goal comes true; the",
    "tutor says when the invariant breaks, or when every thread is stuck.",
    "Then try 'explore NAME search': the tutor tries every schedule.",
};

static void draw(FILE *out, const struct hand *h)
{
    const struct ct_ex_world *w = h->w;
    const struct ct_ex_scenario *sc = w->sc;
    char head[160], sched[3 * CT_EX_MAX_STEPS + 1];
    snprintf(head, sizeof head, "explore %s (%s): %s", sc->name,
             w->cfg.fixed ? "fixed" : "broken", sc->title);
    fprintf(out, h->a->color ? "\033[1m%.80s\033[0m\n" : "%.80s\n", head);
    fprintf(out, "goal: %.74s\ninvariant: %.69s\n", sc->goal, sc->invariant);
    /* head, blank, shared, threads, stores, schedule, messages, keys and
     * the row the cursor rests on */
    int fixed_rows = 3 + 1 + 1 + w->nthreads + count_buffer_lines(h) + 1 + h->nsay + 1 + 1;
    if (h->help) {
        for (size_t i = 0; i < sizeof help_text / sizeof help_text[0]; i++)
            fprintf(out, "%s\n", help_text[i]);
        fixed_rows += 4;
    }
    fputc('\n', out);
    draw_code(out, h, SCREEN_ROWS - fixed_rows < 3 ? 3 : SCREEN_ROWS - fixed_rows);
    char shared[256];
    ct_ex_describe_shared(w, cur(h), shared, sizeof shared);
    fprintf(out, "shared: %.72s\n", shared[0] ? shared : "(nothing yet)");
    draw_threads(out, h);
    ct_ex_format_schedule(h->sched, h->len, sched, sizeof sched);
    if (h->len)
        fprintf(out, "schedule: %.50s  (%d step%s, %d preemption%s)\n", sched, h->len,
                h->len == 1 ? "" : "s", cur(h)->preemptions,
                cur(h)->preemptions == 1 ? "" : "s");
    else
        fprintf(out, "schedule: (no steps yet)\n");
    for (int i = 0; i < h->nsay; i++) {
        bool alarm = strncmp(h->say[i], "BROKEN", 6) == 0 || strncmp(h->say[i], "DEADLOCK", 8) == 0;
        fprintf(out, h->a->color && alarm ? "\033[1;31m%.80s\033[0m\n" : "%.80s\n", h->say[i]);
    }
    fprintf(out, "%s\n", keys_line);
}

/* ---- keys ------------------------------------------------------------------------------ */

static void say(struct hand *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct hand *h, const char *fmt, ...)
{
    if (h->nsay >= MAX_SAY)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->say[h->nsay++], sizeof h->say[0], fmt, ap);
    va_end(ap);
}

/* After a step: announce a break, a deadlock or the end. */
static void announce(struct hand *h)
{
    char msg[160], sched[3 * CT_EX_MAX_STEPS + 1];
    enum ct_ex_status st = ct_ex_status(h->w, cur(h), msg, sizeof msg);
    ct_ex_format_schedule(h->sched, h->len, sched, sizeof sched);
    if (st == CT_EX_BROKEN) {
        say(h, "BROKEN: %s", msg);
        say(h, "replay it: explore %s%s schedule=%s", h->w->sc->name,
            h->w->cfg.fixed ? " fixed" : "", sched);
    } else if (st == CT_EX_DEADLOCK) {
        char lines[4][96];
        int n = ct_ex_wait_for(h->w, cur(h), lines, 4);
        say(h, "DEADLOCK: every thread that has not finished is blocked");
        for (int i = 0; i < n; i++)
            say(h, "  %s", lines[i]);
    } else if (st == CT_EX_FINISHED) {
        say(h, "every thread finished and the invariant held: u undoes, r restarts");
    }
}

static void step(struct hand *h, int a)
{
    const struct ct_ex_world *w = h->w;
    char name[32], why[96], did[96], msg[160];
    if (ct_ex_status(w, cur(h), msg, sizeof msg) != CT_EX_RUNNING) {
        say(h, "the run is over: u undoes the last step, r starts again, q quits");
        h->rejected++;
        return;
    }
    if (a >= w->nactors) {
        say(h, "there is no thread %d here: pick 0..%d", a, w->nactors - 1);
        h->rejected++;
        return;
    }
    ct_ex_actor_name(w, a, name, sizeof name);
    if (!(ct_ex_enabled(w, cur(h)) & (1u << a))) {
        if (a < w->nthreads)
            ct_ex_describe_blocked(w, cur(h), a, why, sizeof why);
        else
            snprintf(why, sizeof why, "no store of its own is waiting");
        say(h, "thread %d (%s) cannot step: %s", a, name, why);
        h->rejected++;
        return;
    }
    memcpy(&h->st[h->len + 1], cur(h), sizeof h->st[0]);
    ct_ex_step(w, &h->st[h->len + 1], a);
    h->sched[h->len++] = (uint8_t)a;
    if (a < w->nthreads)
        h->last = a;
    ct_ex_describe_done(w, &h->st[h->len - 1], cur(h), a, did, sizeof did);
    say(h, "step %d: %s %s", h->len, name, did);
    announce(h);
}

/* n: the thread picked last if it can go on, else the first that can. */
static int same_thread(const struct hand *h)
{
    uint32_t en = ct_ex_enabled(h->w, cur(h));
    if (h->last >= 0 && (en & (1u << h->last)))
        return h->last;
    for (int a = 0; a < h->w->nactors; a++) {
        if (en & (1u << a))
            return a;
    }
    return h->last >= 0 ? h->last : 0;
}

/* One key; false when it asks to leave. */
static bool key(struct hand *h, int c)
{
    h->nsay = 0;
    if (c >= '0' && c <= '9') {
        step(h, c - '0');
    } else if (c == 'n') {
        step(h, same_thread(h));
    } else if (c == 'u') {
        if (h->len == 0) {
            say(h, "nothing to undo: this is the start");
            h->rejected++;
        } else {
            h->len--;
            h->last = -1;
            for (int i = h->len - 1; i >= 0 && h->last < 0; i--)
                h->last = h->sched[i] < h->w->nthreads ? h->sched[i] : -1;
            say(h, "undone: back to step %d", h->len);
        }
    } else if (c == 'r') {
        h->len = 0;
        h->last = -1;
        say(h, "restarted: every thread is back at its first step");
    } else if (c == '?' || c == 'h') {
        h->help = !h->help;
    } else if (c == 'q' || c == 3 || c == 4) {
        return false;
    } else {
        char k[8];
        snprintf(k, sizeof k, c >= 32 && c < 127 ? "'%c'" : "\\x%02x", c);
        say(h, "unknown key %s: %s", k, keys_line + 6);
        h->rejected++;
    }
    return true;
}

/* ---- a terminal in raw mode ------------------------------------------------------------ */

static struct termios saved_tio;
static volatile sig_atomic_t raw_on, got_sigint;

static void tty_restore(void)
{
    if (raw_on) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
        raw_on = 0;
    }
}

static void on_signal(int sig)
{
    tty_restore();
    if (sig == SIGINT) {        /* only by kill: raw mode turns Ctrl-C into a key */
        got_sigint = 1;
        return;
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static int tty_raw(void)
{
    struct termios t;
    if (tcgetattr(STDIN_FILENO, &saved_tio) != 0)
        return -errno;
    t = saved_tio;
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG | IEXTEN);
    t.c_iflag &= ~(tcflag_t)(IXON | ICRNL);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    raw_on = 1;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &t) != 0) {
        raw_on = 0;
        return -errno;
    }
    return 0;
}

/* The next key, or -1 at the end of input or on a signal.  Escape
 * sequences (arrow keys) are skipped. */
static int read_key(void)
{
    unsigned char c;
    for (;;) {
        ssize_t r = read(STDIN_FILENO, &c, 1);
        if (r < 0 && errno == EINTR && !got_sigint)
            continue;
        if (r <= 0)
            return -1;
        if (c != 27)
            return c;
        unsigned char seq[8];
        struct termios t;
        tcgetattr(STDIN_FILENO, &t);
        t.c_cc[VMIN] = 0;
        t.c_cc[VTIME] = 1;      /* the rest of a sequence comes at once */
        tcsetattr(STDIN_FILENO, TCSANOW, &t);
        ssize_t n = read(STDIN_FILENO, seq, sizeof seq);
        (void)n;
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        tcsetattr(STDIN_FILENO, TCSANOW, &t);
    }
}

static int interactive(struct hand *h)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    struct sigaction sa = { .sa_handler = on_signal }, old[3];
    sigemptyset(&sa.sa_mask);
    got_sigint = 0;
    for (int i = 0; i < 3; i++)
        sigaction(sigs[i], &sa, &old[i]);
    int rc = tty_raw();
    if (rc == 0) {
        say(h, "you are the scheduler: press a thread's number to let it step");
        for (;;) {
            fputs("\033[H\033[2J", stdout);
            draw(stdout, h);
            fflush(stdout);
            int c = read_key();
            if (c < 0 || !key(h, c))
                break;
        }
        tty_restore();
        fputc('\n', stdout);
    } else {
        ct_error("concur-tutor: explore: cannot set up the terminal: %s",
                 strerror(-rc));
    }
    for (int i = 0; i < 3; i++)
        sigaction(sigs[i], &old[i], NULL);
    return rc == 0 ? CT_EXIT_OK : CT_EXIT_FAILED;
}

/* ---- scripted -------------------------------------------------------------------------- */

/* Keys from the string, or from stdin up to q or the end of input (the
 * rest of the line holding q is skipped, so that a script goes on with
 * its next command).  Blanks and commas separate keys; # starts a
 * comment to the end of the line. */
static int next_scripted(const char **keys)
{
    for (;;) {
        int c;
        if (*keys) {
            c = (unsigned char)**keys;
            if (!c)
                return -1;
            (*keys)++;
        } else {
            c = getchar();
            if (c == EOF)
                return -1;
        }
        if (c == '#') {
            while (*keys ? (**keys && *(*keys)++ != '\n') : ((c = getchar()) != EOF && c != '\n'))
                ;
            continue;
        }
        if (c == ' ' || c == ',' || c == '\t' || c == '\n' || c == '\r')
            continue;
        if (c == 'q' && !*keys) {
            while ((c = getchar()) != EOF && c != '\n')
                ;
            return 'q';
        }
        return c;
    }
}

static void json_report(const struct hand *h, const char *keys_seen)
{
    char msg[160], sched[3 * CT_EX_MAX_STEPS + 1];
    static const char *const names[] = { "running", "finished", "broken", "deadlock" };
    enum ct_ex_status st = ct_ex_status(h->w, cur(h), msg, sizeof msg);
    struct ct_json j;
    ct_json_init(&j, stdout);
    ct_json_object_begin(&j);
    ct_json_kv_str(&j, "scenario", h->w->sc->name);
    ct_json_kv_str(&j, "mode", "hand");
    ct_json_kv_str(&j, "version", h->w->cfg.fixed ? "fixed" : "broken");
    ct_json_kv_str(&j, "keys", keys_seen);
    ct_json_kv_int(&j, "rejected", h->rejected);
    ct_ex_format_schedule(h->sched, h->len, sched, sizeof sched);
    ct_json_kv_str(&j, "schedule", sched);
    ct_json_key(&j, "steps");
    ct_json_array_begin(&j);
    for (int i = 0; i < h->len; i++)
        ct_ex_json_step(&j, h->w, &h->st[i], &h->st[i + 1], i + 1, h->sched[i]);
    ct_json_array_end(&j);
    ct_json_kv_str(&j, "status", names[st]);
    if (st == CT_EX_BROKEN || st == CT_EX_DEADLOCK)
        ct_json_kv_str(&j, "message", msg);
    if (st == CT_EX_DEADLOCK) {
        char lines[8][96];
        int n = ct_ex_wait_for(h->w, cur(h), lines, 8);
        ct_json_key(&j, "wait_for");
        ct_json_array_begin(&j);
        for (int i = 0; i < n; i++)
            ct_json_str(&j, lines[i]);
        ct_json_array_end(&j);
    }
    ct_json_object_end(&j);
    ct_json_finish(&j);
}

static int scripted(struct hand *h)
{
    const char *keys = h->a->keys;
    char seen[256];
    size_t nseen = 0;
    if (!h->a->json) {
        draw(stdout, h);
        fputc('\n', stdout);
    }
    for (;;) {
        int c = next_scripted(&keys);
        if (c < 0 || c == 'q')
            break;
        if (nseen + 1 < sizeof seen)
            seen[nseen++] = (char)c;
        key(h, c);
        for (int i = 0; !h->a->json && i < h->nsay; i++)
            printf("%c  %s\n", i ? ' ' : c, h->say[i]);
    }
    seen[nseen] = '\0';
    if (h->a->json) {
        json_report(h, seen);
    } else if (nseen > 0) {
        h->nsay = 0;
        announce(h);
        fputc('\n', stdout);
        draw(stdout, h);
    }
    return CT_EXIT_OK;
}

int ct_ex_by_hand(const struct ct_ex_args *a)
{
    struct hand *h = calloc(1, sizeof *h);
    if (!h)
        return CT_EXIT_FAILED;
    h->a = a;
    h->w = a->w;
    h->last = -1;
    ct_ex_start(h->w, &h->st[0]);
    load_views(h);
    bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    int rc = tty && !a->keys && !a->json ? interactive(h) : scripted(h);
    free(h);
    return rc;
}
