/* run.c - running a demo: parameters, clock, live output, cancellation,
 * threads, and the final text or JSON report.  (Child processes: child.c.)
 */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "check.h"
#include "clock.h"
#include "html.h"
#include "params.h"
#include "predict.h"
#include "report.h"
#include "text.h"
#include "wait.h"

#define MAX_LOG 20000           /* JSON log lines kept per run */

struct ct_run {
    const struct ct_demo *demo;
    const struct ct_run_opts *opts;
    struct ct_params params;
    int64_t t0;
    struct ct_event cancel;         /* hard stop: every wait returns */
    struct ct_event stop;           /* graceful stop (also set on cancel) */
    struct ct_timeline tl;
    struct ct_report *rep;
    atomic_int live_threads;        /* started and not joined */
    atomic_int stopped_by;          /* SIGTERM or SIGHUP that stopped it, or 0 */
    pthread_mutex_t out_mu;         /* guards the output and the fields below */
    int label_w;
    bool fresh;                     /* nothing printed since the header */
    bool quiet;                     /* one of runs=N: live lines are not printed */
    bool keep_log;                  /* for JSON or HTML: keep the live lines */
    int demo_rc;                    /* what the demo's run function returned */
    int64_t end_ns;                 /* when it returned */
    struct ct_logline *log;
    size_t nlog, log_cap, log_dropped;
};

static _Thread_local const char *tls_label = "thread";
static _Thread_local int tls_lane = -1;

/* ---- parameters ------------------------------------------------------- */

static const struct ct_param_value *param(const struct ct_run *run,
                                          const char *name,
                                          enum ct_param_type type)
{
    int i = ct_params_find(&run->params, name);
    if (i < 0 || run->params.spec[i].type != type) {
        /* a demo asking for a parameter it never declared is a bug that
         * the automatic run of every demo catches at once */
        ct_error("concur-tutor: bug: demo %s reads undeclared parameter '%s'",
                 run->demo->name, name);
        abort();
    }
    return &run->params.v[i];
}

long long ct_param_int(const struct ct_run *run, const char *name)
{
    return param(run, name, CT_PARAM_INT)->i;
}

double ct_param_num(const struct ct_run *run, const char *name)
{
    return param(run, name, CT_PARAM_NUM)->d;
}

bool ct_param_bool(const struct ct_run *run, const char *name)
{
    return param(run, name, CT_PARAM_BOOL)->b;
}

const char *ct_param_choice(const struct ct_run *run, const char *name)
{
    /* the choices string is static; return a pointer to a word in a
     * per-parameter cache instead of copying on every call */
    static _Thread_local char word[CT_MAX_PARAMS][64];
    int i = ct_params_find(&run->params, name);
    const struct ct_param_value *v = param(run, name, CT_PARAM_CHOICE);
    ct_choice_word(run->params.spec[i].choices, v->choice, word[i], sizeof word[i]);
    return word[i];
}

const char *ct_param_text(const struct ct_run *run, const char *name)
{
    return param(run, name, CT_PARAM_TEXT)->text;
}

bool ct_param_has(const struct ct_run *run, const char *name, const char *word)
{
    int i = ct_params_find(&run->params, name);
    if (i >= 0 && run->params.spec[i].type == CT_PARAM_CHOICE)
        return strcmp(ct_param_choice(run, name), word) == 0;
    const struct ct_param_value *v = param(run, name, CT_PARAM_SET);
    char w[64];
    for (int c = 0; c < CT_MAX_CHOICES && ct_choice_word(run->params.spec[i].choices, c, w, sizeof w); c++) {
        if (strcmp(w, word) == 0)
            return (v->set >> c) & 1u;
    }
    return false;
}

double ct_scale(const struct ct_run *run)
{
    return run->opts->scale;
}

const struct ct_demo *ct_run_demo(const struct ct_run *run)
{
    return run->demo;
}

const char *ct_run_program(const struct ct_run *run)
{
    return run->opts->self;
}

int ct_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

struct ct_sched ct_thread_sched(void)
{
    struct ct_sched s = { -1, -1 };
    int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char buf[96];
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        long long cpu, runq;
        if (n > 0 && (buf[n] = '\0', sscanf(buf, "%lld %lld", &cpu, &runq) == 2))
            s = (struct ct_sched){ cpu, runq };
    }
    if (s.cpu_ns < 0)
        s.cpu_ns = ct_thread_cpu_ns();
    return s;
}

/* ---- time and cancellation -------------------------------------------- */

double ct_elapsed_ms(const struct ct_run *run)
{
    return (double)(ct_clock_ns() - run->t0) / 1e6;
}

bool ct_cancelled(struct ct_run *run)
{
    return ct_event_is_set(&run->cancel);
}

struct ct_event *ct_cancel_event(struct ct_run *run)
{
    return &run->cancel;
}

bool ct_sleep_ms(struct ct_run *run, double ms)
{
    int64_t ns = ms > 0 ? (int64_t)(ms * run->opts->scale * 1e6) : 0;
    return !ct_event_wait_timeout(&run->cancel, ns);
}

bool ct_wait(struct ct_run *run, struct ct_event *ev)
{
    while (!ct_event_wait_timeout(ev, CT_WAIT_SLICE_NS)) {
        if (ct_cancelled(run))
            return false;
    }
    return true;
}

bool ct_stop_requested(struct ct_run *run)
{
    return ct_event_is_set(&run->stop);
}

bool ct_wait_stop_ms(struct ct_run *run, double ms)
{
    return ct_event_wait_timeout(&run->stop, ms > 0 ? (int64_t)(ms * 1e6) : 0);
}

/* ---- threads ---------------------------------------------------------- */

static void note_label(struct ct_run *run, const char *label)
{
    int w = ct_text_width(label, strlen(label));
    CT_PT(pthread_mutex_lock(&run->out_mu));
    if (w > run->label_w)
        run->label_w = w;
    CT_PT(pthread_mutex_unlock(&run->out_mu));
}

static void *thread_main(void *arg)
{
    struct ct_thread *t = arg;
    tls_label = t->label;
    tls_lane = t->lane;
    return t->fn(t->arg);
}

int ct_thread_start(struct ct_run *run, struct ct_thread *t,
                    void *(*fn)(void *), void *arg, const char *fmt, ...)
{
    va_list ap;
    memset(t, 0, sizeof *t);
    va_start(ap, fmt);
    vsnprintf(t->label, sizeof t->label, fmt, ap);
    va_end(ap);
    t->run = run;
    t->fn = fn;
    t->arg = arg;
    t->lane = ct_timeline_lane(&run->tl, t->label);
    if (t->lane < 0)
        t->lane = -1;
    note_label(run, t->label);
    /* the new thread inherits this thread's signal mask, in which the
     * runner has blocked SIGINT: only the watcher thread ever sees it */
    int rc = pthread_create(&t->tid, NULL, thread_main, t);
    if (rc != 0)
        return -rc;
    t->live = true;
    atomic_fetch_add(&run->live_threads, 1);
    return 0;
}

int ct_thread_join(struct ct_thread *t, void **ret)
{
    if (!t->live)
        return -EINVAL;
    int rc = pthread_join(t->tid, ret);
    if (rc != 0)
        return -rc;
    t->live = false;
    atomic_fetch_sub(&t->run->live_threads, 1);
    return 0;
}

const char *ct_thread_label(void)
{
    return tls_label;
}

/* ---- live output ------------------------------------------------------ */

static const char *label_color(int lane)
{
    static const char *const palette[] = { "36", "33", "35", "32", "34", "31" };
    if (lane <= 0)
        return "1";
    return palette[(lane - 1) % 6];
}

/* Append a line to the JSON log; call with out_mu held. */
static void log_line(struct ct_run *run, double t_ms, const char *label,
                     const char *text)
{
    if (run->nlog == MAX_LOG) {
        run->log_dropped++;
        return;
    }
    if (run->nlog == run->log_cap) {
        size_t cap = run->log_cap ? run->log_cap * 2 : 64;
        struct ct_logline *p = realloc(run->log, cap * sizeof *p);
        if (!p) {
            run->log_dropped++;
            return;
        }
        run->log = p;
        run->log_cap = cap;
    }
    struct ct_logline *l = &run->log[run->nlog];
    l->text = strdup(text);
    if (!l->text) {
        run->log_dropped++;
        return;
    }
    l->t_ms = t_ms;
    snprintf(l->label, sizeof l->label, "%s", label);
    run->nlog++;
}

/* One stamped line: "[  12.3 ms] worker-2     text".  Text too long for
 * the width wraps under itself; on a terminal too narrow for that, it
 * goes on the lines below the stamp, indented. */
static void print_stamped(struct ct_run *run, double t, const char *text)
{
    FILE *out = run->opts->out;
    int width = run->opts->width;
    int pad = run->label_w - ct_text_width(tls_label, strlen(tls_label));
    char head[160];
    if (run->opts->color)
        snprintf(head, sizeof head, "\033[2m[%8.1f ms]\033[0m \033[%sm%s\033[0m%*s", t,
                 label_color(tls_lane), tls_label, pad, "");
    else
        snprintf(head, sizeof head, "[%8.1f ms] %s%*s", t, tls_label, pad, "");
    int col = ct_text_width(head, strlen(head)) + 2;
    int text_w = ct_text_width(text, strlen(text));
    if (col + text_w <= width) {
        fprintf(out, "%s  %s\n", head, text);     /* as written: keeps its spacing */
    } else if (col + 20 <= width) {
        ct_wrap_item(out, head, 0, col, text, width);
    } else {
        size_t n = strlen(head);
        while (n > 0 && head[n - 1] == ' ')
            n--;
        fprintf(out, "%.*s\n", (int)n, head);
        ct_wrap(out, text, width, 4);
    }
}

void ct_say(struct ct_run *run, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    double t = ct_elapsed_ms(run);

    CT_PT(pthread_mutex_lock(&run->out_mu));
    if (run->keep_log)
        log_line(run, t, tls_label, text);
    if (!run->opts->json && !run->quiet) {
        print_stamped(run, t, text);
        fflush(run->opts->out);
        run->fresh = false;
    }
    CT_PT(pthread_mutex_unlock(&run->out_mu));
}

void ct_section(struct ct_run *run, const char *fmt, ...)
{
    char text[512], line[560];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);

    CT_PT(pthread_mutex_lock(&run->out_mu));
    if (run->keep_log)
        log_line(run, ct_elapsed_ms(run), "--", text);
    if (!run->opts->json && !run->quiet) {
        FILE *out = run->opts->out;
        if (!run->fresh)
            fputc('\n', out);
        snprintf(line, sizeof line, "-- %s --", text);
        fputs(run->opts->color ? "\033[1m" : "", out);
        ct_wrap(out, line, run->opts->width, 0);
        fputs(run->opts->color ? "\033[0m" : "", out);
        fflush(out);
        run->fresh = false;
    }
    CT_PT(pthread_mutex_unlock(&run->out_mu));
}

/* ---- results ---------------------------------------------------------- */

void ct_result_int(struct ct_run *run, const char *key, const char *label,
                   long long value, const char *unit)
{
    ct_report_int(run->rep, key, label, value, unit);
}

void ct_result_num(struct ct_run *run, const char *key, const char *label,
                   double value, int decimals, const char *unit)
{
    ct_report_num(run->rep, key, label, value, decimals, unit);
}

void ct_result_text(struct ct_run *run, const char *key, const char *label,
                    const char *text)
{
    ct_report_text(run->rep, key, label, text);
}

bool ct_check(struct ct_run *run, bool ok, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    ct_report_check(run->rep, ok, text);
    return ok;
}

void ct_takeaway(struct ct_run *run, const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    ct_report_takeaway(run->rep, text);
}

struct ct_table *ct_table_new(struct ct_run *run, const char *key,
                              const char *title, const char *const *cols)
{
    return ct_report_table(run->rep, key, title, cols);
}

void ct_bars(struct ct_run *run, const struct ct_table *t, const char *title,
             int label_col, int value_col, const char *unit)
{
    ct_report_bars(run->rep, t, title, label_col, value_col, unit);
}

/* ---- timeline --------------------------------------------------------- */

void ct_mark(struct ct_run *run, enum ct_state state)
{
    if (tls_lane >= 0)
        ct_timeline_state(&run->tl, tls_lane, state, ct_clock_ns());
}

void ct_point(struct ct_run *run, char glyph)
{
    if (tls_lane >= 0)
        ct_timeline_point(&run->tl, tls_lane, glyph, ct_clock_ns());
}

void ct_legend(struct ct_run *run, enum ct_state state, const char *text)
{
    ct_timeline_label(&run->tl, state, text);
}

void ct_point_legend(struct ct_run *run, char glyph, const char *text)
{
    ct_timeline_point_label(&run->tl, glyph, text);
}

int ct_lane(struct ct_run *run, const char *fmt, ...)
{
    char name[CT_TL_NAME_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    int lane = ct_timeline_lane(&run->tl, name);
    return lane < 0 ? -1 : lane;
}

void ct_mark_lane(struct ct_run *run, int lane, enum ct_state state)
{
    if (lane >= 0)
        ct_timeline_state(&run->tl, lane, state, ct_clock_ns());
}

void ct_mark_lane_at(struct ct_run *run, int lane, enum ct_state state, double at_ms)
{
    if (lane >= 0)
        ct_timeline_state(&run->tl, lane, state, run->t0 + (int64_t)(at_ms * 1e6 + 0.5));
}

void ct_point_lane(struct ct_run *run, int lane, char glyph)
{
    if (lane >= 0)
        ct_timeline_point(&run->tl, lane, glyph, ct_clock_ns());
}

static bool timeline_has_events(const struct ct_timeline *tl)
{
    for (int i = 0; i < tl->nlanes; i++) {
        if (tl->lanes[i].n > 0)
            return true;
    }
    return false;
}

/* Only lanes with events are drawn: copy those into a trimmed timeline
 * view (sharing the event arrays) so that drawing stays oblivious. */
static void draw_timeline(struct ct_run *run, int64_t end_ns)
{
    struct ct_timeline view = run->tl;
    view.nlanes = 0;
    for (int i = 0; i < run->tl.nlanes; i++) {
        if (run->tl.lanes[i].n > 0)
            view.lanes[view.nlanes++] = run->tl.lanes[i];
    }
    fputc('\n', run->opts->out);
    ct_timeline_draw(&view, run->opts->out, run->opts->width, end_ns, run->opts->color);
}

/* ---- the run itself --------------------------------------------------- */

/* Waits for SIGINT, SIGTERM and SIGHUP on behalf of the whole run (every
 * other thread has them blocked) and turns them into a graceful stop or a
 * cancel; SIGUSR1 from the runner tells it the run is over.  SIGTERM and
 * SIGHUP (a supervisor, a closed terminal) stop the demo as Ctrl-C does,
 * and the runner then reports them in its exit status. */
static void *watcher_main(void *arg)
{
    struct ct_run *run = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    tls_label = "signal";
    for (;;) {
        int sig;
        if (sigwait(&set, &sig) != 0 || sig == SIGUSR1)
            break;
        const char *what = sig == SIGINT ? "Ctrl-C" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
        if (sig != SIGINT && atomic_load(&run->stopped_by) == 0)
            atomic_store(&run->stopped_by, sig);
        if ((run->demo->flags & CT_DEMO_GRACEFUL) && !ct_event_is_set(&run->stop)) {
            ct_say(run, "%s: finishing gracefully (Ctrl-C again cancels)", what);
            ct_event_set(&run->stop);
        } else {
            ct_say(run, "%s: cancelling; waiting for the demo's threads to finish", what);
            ct_event_set(&run->cancel);
            ct_event_set(&run->stop);
        }
    }
    return NULL;
}

/* The watcher, and the signal mask it needs around it. */
struct watch {
    pthread_t tid;
    sigset_t old;
};

static int watch_start(struct ct_run *run, struct watch *w)
{
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGUSR1);
    CT_PT(pthread_sigmask(SIG_BLOCK, &block, &w->old));
    int rc = pthread_create(&w->tid, NULL, watcher_main, run);
    if (rc != 0)
        CT_PT(pthread_sigmask(SIG_SETMASK, &w->old, NULL));
    return -rc;
}

static void watch_stop(struct watch *w)
{
    CT_PT(pthread_kill(w->tid, SIGUSR1));
    CT_PT(pthread_join(w->tid, NULL));
    CT_PT(pthread_sigmask(SIG_SETMASK, &w->old, NULL));
}

static void print_header(const struct ct_demo *d, const struct ct_params *params,
                         const struct ct_run_opts *opts)
{
    FILE *out = opts->out;
    bool color = opts->color;
    int width = opts->width;
    char line[1024], val[256], head[300];
    snprintf(head, sizeof head, color ? "\033[1m%s\033[0m:" : "%s:", d->name);
    ct_wrap_item(out, head, 0, (int)strlen(d->name) + 2, d->title, width);
    ct_wrap(out, d->intro, width, 2);
    if (params->n > 0) {
        size_t off = 0;
        for (int i = 0; i < params->n && off < sizeof line; i++) {
            ct_params_format(params, i, val, sizeof val);
            off += (size_t)snprintf(line + off, sizeof line - off, "%s%s=%s",
                                    i ? " " : "", params->spec[i].name, val);
        }
        fputs(color ? "\033[2m" : "", out);
        ct_wrap_item(out, "parameters:", 2, 14, line, width);
        fputs(color ? "\033[0m" : "", out);
    }
    if (opts->scale != 1.0) {
        snprintf(line, sizeof line, "time scale: %g (sleeps are %g times as long)",
                 opts->scale, opts->scale);
        ct_wrap(out, line, width, 2);
    }
    fputc('\n', out);
    fflush(out);
}

static void timeline_json(const struct ct_timeline *tl, struct ct_json *j)
{
    ct_json_key(j, "timeline");
    ct_json_array_begin(j);
    for (int i = 0; i < tl->nlanes; i++) {
        const struct ct_tl_lane *l = &tl->lanes[i];
        if (l->n == 0)
            continue;
        ct_json_object_begin(j);
        ct_json_kv_str(j, "lane", l->name);
        ct_json_key(j, "events");
        ct_json_array_begin(j);
        for (size_t e = 0; e < l->n; e++) {
            ct_json_object_begin(j);
            ct_json_kv_num(j, "t_ms", (double)l->ev[e].t_ns / 1e6);
            if (l->ev[e].glyph) {
                char g[2] = { l->ev[e].glyph, 0 };
                ct_json_kv_str(j, "point", g);
            } else {
                ct_json_kv_str(j, "state", ct_state_name((enum ct_state)l->ev[e].state));
            }
            ct_json_object_end(j);
        }
        ct_json_array_end(j);
        ct_json_object_end(j);
    }
    ct_json_array_end(j);
}

/* What predict=true and runs=N add to a run's report. */
struct extras {
    bool predict;
    const char *question;
    const struct ct_answer *answer;
    const char *verdict;
    const struct ct_repeats *repeats;   /* every run, even when there is one */
    const struct ct_hist *hist;
    int runs;                           /* asked for */
};

static const char *run_status(struct ct_run *run)
{
    return ct_cancelled(run) ? "cancelled"
           : run->demo_rc < 0 ? "error"
           : ct_report_failed(run->rep) ? "failed" : "ok";
}

static void print_json(struct ct_run *run, const struct extras *x)
{
    struct ct_json j;
    ct_json_init(&j, run->opts->out);
    ct_json_object_begin(&j);
    ct_json_kv_str(&j, "demo", run->demo->name);
    ct_json_kv_int(&j, "chapter", run->demo->chapter);
    ct_json_kv_str(&j, "title", run->demo->title);
    ct_json_kv_str(&j, "status", run_status(run));
    int sig = atomic_load(&run->stopped_by);
    if (sig)
        ct_json_kv_str(&j, "stopped_by", sig == SIGTERM ? "SIGTERM" : "SIGHUP");
    ct_json_kv_num(&j, "wall_ms", (double)(run->end_ns - run->t0) / 1e6);
    ct_json_kv_num(&j, "scale", run->opts->scale);
    ct_json_kv_int(&j, "cpus", ct_cpus());
    ct_json_key(&j, "params");
    ct_params_json(&run->params, &j);
    ct_report_json(run->rep, &j);
    timeline_json(&run->tl, &j);
    ct_json_key(&j, "log");
    ct_json_array_begin(&j);
    for (size_t i = 0; i < run->nlog; i++) {
        ct_json_object_begin(&j);
        ct_json_kv_num(&j, "t_ms", run->log[i].t_ms);
        ct_json_kv_str(&j, "thread", run->log[i].label);
        ct_json_kv_str(&j, "text", run->log[i].text);
        ct_json_object_end(&j);
    }
    ct_json_array_end(&j);
    ct_json_kv_int(&j, "log_dropped", (long long)run->log_dropped);
    if (x->predict)
        ct_predict_json(&j, x->question, x->answer, x->verdict, x->repeats);
    if (x->runs > 1)
        ct_repeats_json(&j, x->repeats, x->hist);
    ct_json_object_end(&j);
    ct_json_finish(&j);
}

static void free_run(struct ct_run *run)
{
    if (!run)
        return;
    for (size_t i = 0; i < run->nlog; i++)
        free(run->log[i].text);
    free(run->log);
    ct_report_free(run->rep);
    ct_timeline_destroy(&run->tl);
    ct_event_destroy(&run->cancel);
    ct_event_destroy(&run->stop);
    CT_PT(pthread_mutex_destroy(&run->out_mu));
    free(run);
}

static struct ct_run *new_run(const struct ct_demo *d,
                              const struct ct_run_opts *opts)
{
    struct ct_run *run = calloc(1, sizeof *run);
    if (!run)
        return NULL;
    run->demo = d;
    run->opts = opts;
    run->label_w = 11;     /* most labels fit, so columns rarely shift mid-run */
    run->fresh = true;
    run->keep_log = opts->json || opts->html;
    atomic_init(&run->live_threads, 0);
    atomic_init(&run->stopped_by, 0);
    run->rep = ct_report_new();
    if (!run->rep || ct_event_init(&run->cancel) != 0) {
        ct_report_free(run->rep);
        free(run);
        return NULL;
    }
    if (ct_event_init(&run->stop) != 0)
        goto fail_cancel;
    if (ct_timeline_init(&run->tl, ct_clock_ns()) != 0)
        goto fail_stop;
    if (pthread_mutex_init(&run->out_mu, NULL) != 0)
        goto fail_tl;
    return run;
fail_tl:
    ct_timeline_destroy(&run->tl);
fail_stop:
    ct_event_destroy(&run->stop);
fail_cancel:
    ct_event_destroy(&run->cancel);
    ct_report_free(run->rep);
    free(run);
    return NULL;
}

/* The exit code of a finished run. */
static int run_code(struct ct_run *run)
{
    int sig = atomic_load(&run->stopped_by);
    return sig ? 128 + sig
           : ct_cancelled(run) ? CT_EXIT_INTERRUPTED
           : (run->demo_rc < 0 || ct_report_failed(run->rep)) ? CT_EXIT_FAILED
           : CT_EXIT_OK;
}

/* Text: what one run found. */
static void print_text(struct ct_run *run)
{
    const struct ct_run_opts *opts = run->opts;
    FILE *out = opts->out;
    double wall_ms = (double)(run->end_ns - run->t0) / 1e6;
    char line[160];
    if (ct_cancelled(run)) {
        snprintf(line, sizeof line,
                 "Cancelled after %.1f ms; every thread the demo started has been joined.",
                 wall_ms);
        fputc('\n', out);
        ct_wrap(out, line, opts->width, 0);
        return;
    }
    fprintf(out, opts->color ? "\n\033[1mSummary\033[0m (wall time %.1f ms)\n"
                             : "\nSummary (wall time %.1f ms)\n", wall_ms);
    ct_report_print_summary(run->rep, out, opts->width, opts->color);
    ct_report_print_takeaway(run->rep, out, opts->width, opts->color);
    if (timeline_has_events(&run->tl))
        draw_timeline(run, run->end_ns);
}

/* Print what the run(s) found (text or JSON), write the page, and return
 * the exit code: that of the worst run. */
static int report_runs(struct ct_run *run, const struct extras *x, int code)
{
    const struct ct_run_opts *opts = run->opts;
    FILE *out = opts->out;
    int sig = atomic_load(&run->stopped_by);
    char line[160];
    if (opts->json) {
        print_json(run, x);
    } else {
        if (x->runs > 1)
            ct_repeats_print(x->repeats, x->hist, out, opts->width, opts->color);
        else
            print_text(run);
        if (x->predict)
            ct_predict_print(x->question, x->verdict, out, opts->width, opts->color);
    }
    if (sig && !opts->json) {
        snprintf(line, sizeof line, "Stopped by %s: exit status %d.",
                 sig == SIGTERM ? "SIGTERM" : "SIGHUP", code);
        fputc('\n', out);
        ct_wrap(out, line, opts->width, 0);
    }
    if (run->demo_rc < 0 && !ct_cancelled(run))
        ct_error("%s: run %s: %s", opts->progname, run->demo->name,
                 strerror(-run->demo_rc));
    fflush(out);
    return code;
}

/* Write the run as an HTML page if asked; false (with a message) if that
 * failed. */
static bool write_html(struct ct_run *run, const struct extras *x)
{
    const struct ct_run_opts *opts = run->opts;
    if (!opts->html)
        return true;
    struct ct_run_view v = {
        .demo = run->demo,
        .params = &run->params,
        .status = run_status(run),
        .wall_ms = (double)(run->end_ns - run->t0) / 1e6,
        .scale = opts->scale,
        .cpus = ct_cpus(),
        .rep = run->rep,
        .tl = &run->tl,
        .end_ns = run->end_ns,
        .log = run->log,
        .nlog = run->nlog,
        .log_dropped = run->log_dropped,
        .question = x->predict ? x->question : NULL,
        .verdict = x->predict ? x->verdict : NULL,
        .repeats = x->runs > 1 ? x->repeats : NULL,
        .hist = x->runs > 1 ? x->hist : NULL,
        .generator = opts->progname,
    };
    char err[256];
    if (ct_html_write(opts->html, &v, err, sizeof err) != 0) {
        ct_error("%s: run %s: --html %s: %s", opts->progname, run->demo->name,
                 opts->html, err);
        return false;
    }
    if (!opts->json && opts->out)
        fprintf(opts->out, "\nWrote %s\n", opts->html);
    return true;
}

static void fill_outcome(struct ct_run *run, const struct extras *x)
{
    struct ct_run_outcome *o = run->opts->outcome;
    if (!o)
        return;
    o->checks = ct_report_checks(run->rep, &o->passed);
    snprintf(o->status, sizeof o->status, "%s", run_status(run));
    free(o->takeaway);
    o->takeaway = ct_report_takeaway_join(run->rep, "\n\n");
    o->runs = x->repeats->n;
}

/* The terminal's echo is off while a demo runs: the terminal would
 * otherwise echo Ctrl-C as "^C" in front of the watcher's cancel line (and
 * stray keys into the live output).  Only when stdin is a terminal of which
 * we are the foreground (else tcsetattr stops us with SIGTTOU).  The walk
 * does the same for its demos (cmd/tty.c). */
struct echo {
    struct termios saved;
    bool changed;
};

static void echo_off(struct echo *e)
{
    e->changed = false;
    if (!isatty(STDIN_FILENO) || tcgetpgrp(STDIN_FILENO) != getpgrp() ||
        tcgetattr(STDIN_FILENO, &e->saved) != 0 || !(e->saved.c_lflag & ECHO))
        return;
    struct termios quiet = e->saved;
    quiet.c_lflag &= (tcflag_t)~ECHO;
    e->changed = tcsetattr(STDIN_FILENO, TCSANOW, &quiet) == 0;
}

static void echo_restore(const struct echo *e)
{
    if (e->changed)
        tcsetattr(STDIN_FILENO, TCSANOW, &e->saved);
}

/* One run of the demo with `params`: watcher, clock, the demo itself.
 * Returns 0, or a negative errno when it could not start; -EBUSY when the
 * demo left threads running (the run must then be leaked). */
static int exec_once(struct ct_run *run)
{
    const struct ct_run_opts *opts = run->opts;
    const struct ct_demo *d = run->demo;
    /* From here until the demo returns, the signals that stop a demo are
     * blocked in every thread but the watcher (see watcher_main).  The
     * clock starts before the watcher exists: it reads t0. */
    run->t0 = ct_clock_ns();
    run->tl.origin_ns = run->t0;
    struct watch watch;
    int rc = watch_start(run, &watch);
    if (rc != 0) {
        ct_error("%s: run %s: cannot start: %s", opts->progname, d->name,
                 strerror(-rc));
        return rc;
    }
    const char *saved_label = tls_label;
    int saved_lane = tls_lane;
    tls_label = "main";
    tls_lane = ct_timeline_lane(&run->tl, "main");
    struct echo echo;
    echo_off(&echo);
    run->demo_rc = d->run(run);
    run->end_ns = ct_clock_ns();
    echo_restore(&echo);
    tls_label = saved_label;
    tls_lane = saved_lane;
    watch_stop(&watch);

    int live = atomic_load(&run->live_threads);
    if (live != 0) {
        ct_error("%s: run %s: bug: %d thread(s) still running after the demo returned",
                 opts->progname, d->name, live);
        return -EBUSY;
    }
    return 0;
}

/* The worse of two exit codes: a signal, then Ctrl-C, then a failure. */
static int worse(int a, int b)
{
    int rank_a = a > 128 && a != CT_EXIT_INTERRUPTED ? 3 : a == CT_EXIT_INTERRUPTED ? 2 : a;
    int rank_b = b > 128 && b != CT_EXIT_INTERRUPTED ? 3 : b == CT_EXIT_INTERRUPTED ? 2 : b;
    return rank_b > rank_a ? b : a;
}

/* Parse the runner's own parameters and the demo's.  0, or an exit code
 * after printing the error. */
static int parse_all(const struct ct_demo *d, int argc, char **argv,
                     const struct ct_run_opts *opts, struct ct_params *rp,
                     struct ct_params *params)
{
    char err[512];
    char **mine = calloc((size_t)argc + 1, sizeof *mine);
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int nmine, nrest, code = 0;
    if (!mine || !rest) {
        free(mine);
        free(rest);
        return CT_EXIT_FAILED;
    }
    ct_params_split(ct_runner_params, argc, argv, mine, &nmine, rest, &nrest);
    if (ct_params_defaults(rp, ct_runner_params, err, sizeof err) != 0 ||
        ct_params_defaults(params, d->params, err, sizeof err) != 0) {
        ct_error("%s: run %s: bad default: %s", opts->progname, d->name, err);
        code = CT_EXIT_FAILED;
    } else if (ct_params_parse(rp, nmine, mine, err, sizeof err) != 0 ||
               ct_params_parse(params, nrest, rest, err, sizeof err) != 0) {
        ct_error("%s: run %s: %s", opts->progname, d->name, err);
        code = CT_EXIT_USAGE;
    }
    free(mine);
    free(rest);
    return code;
}

/* Whether the --html file can be written, found out before the run so
 * that a long run does not end in "No such file or directory".  The file
 * is only probed: created and removed again when it did not exist, opened
 * without truncating when it did.  The page itself is written at the end,
 * so a run that fails or is cancelled before then leaves no empty file
 * behind and an existing page untouched.  0, or a negative errno. */
static int html_probe(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd >= 0) {
        close(fd);
        return unlink(path) == 0 ? 0 : -errno;
    }
    if (errno != EEXIST)
        return -errno;
    /* O_NONBLOCK: a FIFO without a reader fails with ENXIO, not blocks */
    fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return errno == ENXIO ? 0 : -errno;
    close(fd);
    return 0;
}

int ct_demo_exec(const struct ct_demo *d, int argc, char **argv,
                 const struct ct_run_opts *opts)
{
    struct ct_params rp, params;
    int code = parse_all(d, argc, argv, opts, &rp, &params);
    if (code)
        return code;
    if (d->check) {
        /* only the parameters and the options are there to read */
        struct ct_run probe = { .demo = d, .opts = opts, .params = params };
        char err[256] = "";
        if (d->check(&probe, err, sizeof err) != 0) {
            ct_error("%s: run %s: %s", opts->progname, d->name, err);
            return CT_EXIT_USAGE;
        }
    }
    bool predict = rp.v[ct_params_find(&rp, "predict")].b;
    int runs = (int)rp.v[ct_params_find(&rp, "runs")].i;
    int hrc = opts->html ? html_probe(opts->html) : 0;
    if (hrc != 0) {
        ct_error("%s: run %s: --html %s: %s", opts->progname, d->name, opts->html,
                 strerror(-hrc));
        return CT_EXIT_USAGE;
    }
    if (predict && !d->predict) {
        ct_error("%s: run %s: predict=true: this demo asks no question ('help run' "
                 "names the demos that do)", opts->progname, d->name);
        return CT_EXIT_USAGE;
    }
    if (!opts->json)
        print_header(d, &params, opts);

    char question[1024] = "", verdict[1024] = "";
    struct ct_answer answer = { 0 };
    if (predict) {
        ct_predict_question(d->predict, &params, question, sizeof question);
        FILE *qout = opts->json ? stderr : opts->out;
        if (ct_predict_ask(d->predict, question, opts->in ? opts->in : stdin, qout, opts->width,
                           opts->color && !opts->json, &answer) == -ECANCELED) {
            if (!opts->json)
                fprintf(opts->out, "Cancelled before the run.\n");
            return CT_EXIT_INTERRUPTED;
        }
    }

    struct ct_repeats repeats;
    ct_repeats_init(&repeats, d->predict);
    struct ct_run *last = NULL;
    code = CT_EXIT_OK;
    for (int k = 0; k < runs; k++) {
        struct ct_run *run = new_run(d, opts);
        if (!run) {
            ct_error("%s: run %s: out of memory", opts->progname, d->name);
            code = worse(code, CT_EXIT_FAILED);
            break;
        }
        run->params = params;
        run->quiet = runs > 1;
        int rc = exec_once(run);
        if (rc == -EBUSY) {
            /* the threads may still touch the run: leak it rather than free it */
            free_run(last);
            ct_repeats_free(&repeats);
            return CT_EXIT_FAILED;
        }
        if (rc != 0) {
            free_run(run);
            code = worse(code, CT_EXIT_FAILED);
            break;
        }
        free_run(last);
        last = run;
        code = worse(code, run_code(run));
        ct_repeats_add(&repeats, run->rep, run_status(run),
                       (double)(run->end_ns - run->t0) / 1e6);
        if (runs > 1 && !opts->json)
            ct_repeats_say(&repeats, k, runs, opts->out, opts->width);
        if (ct_cancelled(run))
            break;
    }
    if (last) {
        struct ct_hist hist;
        ct_repeats_hist(&repeats, &answer, &hist);
        if (predict)
            ct_predict_verdict(&repeats, &answer, verdict, sizeof verdict);
        struct extras x = { predict, question, &answer, verdict, &repeats, &hist, runs };
        report_runs(last, &x, code);
        if (!write_html(last, &x))
            code = worse(code, CT_EXIT_FAILED);
        fill_outcome(last, &x);
    }
    free_run(last);
    ct_repeats_free(&repeats);
    return code;
}
