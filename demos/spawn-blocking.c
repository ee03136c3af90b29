/* spawn-blocking.c - demo `spawn-blocking`: blocking work inside a task
 * stalls its worker; handed to the blocking pool, it does not.
 *
 * Shows: a ticker task ticks every 20 ms on a 2-worker executor.  Then as
 * many tasks as there are workers each do 200 ms of blocking work (a plain
 * thread sleep, standing for a file read, a synchronous database call or a
 * long computation; the guide's 2 s, scaled).  First they do it right
 * inside the task, blocking a worker each: the ticker, which needs a worker
 * to run its next tick, falls silent.  Then they hand the same work to
 * ct_spawn_blocking and await it: the work runs on blocking-pool threads and
 * the ticks keep coming.
 * Watch for: the gap in the first run's ticks, and the longest gap between
 * ticks in each run; the timeline shows which threads were blocked.
 * Lesson: spawn-blocking (chapter 7).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "blocking.h"
#include "check.h"
#include "clock.h"
#include "exec.h"
#include "timer.h"
#include "tasks.h"

#define MAX_JOBS 16
#define MAX_TICKS 200

enum mode { IN_TASK, IN_POOL, NMODES };

static const char *const mode_name[NMODES] = { "blocking inside the task",
                                               "ct_spawn_blocking" };

struct tick_log {
    int count;
    double at_ms[MAX_TICKS];
    double max_gap_ms, max_late_ms;
    double max_poll_us;         /* the ticker's longest single poll */
};

/* Ticks every `period` ns on a fixed schedule, as tokio's interval does:
 * a late tick does not push the later ones back. */
struct ticker {
    struct ct_future base;
    int pc, k, ticks, lane;
    int64_t start, period;
    struct ct_sleep nap;
    struct ct_run *run;
    struct tick_log *log;
};

static enum ct_poll ticker_body(struct ticker *t, struct ct_cx *cx)
{
    CT_ASYNC_BEGIN(t->pc);
    t->start = ct_clock_ns();
    for (t->k = 1; t->k <= t->ticks; t->k++) {
        ct_sleep_until_init(&t->nap, t->start + t->k * t->period);
        CT_AWAIT(t->pc, &t->nap.base, cx);
        {
            double late = (double)(ct_clock_ns() - t->nap.deadline) / 1e6;
            struct tick_log *l = t->log;
            l->at_ms[l->count] = ct_elapsed_ms(t->run);
            if (l->count > 0 && l->at_ms[l->count] - l->at_ms[l->count - 1] > l->max_gap_ms)
                l->max_gap_ms = l->at_ms[l->count] - l->at_ms[l->count - 1];
            if (late > l->max_late_ms)
                l->max_late_ms = late;
            l->count++;
            ct_point_lane(t->run, t->lane, '|');
            ct_say(t->run, "tick %2d, %.1f ms late", t->k, late);
        }
    }
    CT_ASYNC_END(t->pc);
    return CT_READY;
}

/* The ticker's poll, timed: how long it needs a worker for. */
static enum ct_poll ticker_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct ticker *t = (struct ticker *)f;
    int64_t t0 = ct_clock_ns();
    enum ct_poll p = ticker_body(t, cx);
    double us = (double)(ct_clock_ns() - t0) / 1e3;
    if (us > t->log->max_poll_us)
        t->log->max_poll_us = us;
    return p;
}

static void ticker_drop(struct ct_future *f)
{
    ct_future_drop(&((struct ticker *)f)->nap.base);
}

static const struct ct_future_ops ticker_ops = { "ticker", ticker_poll, ticker_drop };

/* The blocking work: a thread sleep.  Records which thread it blocked. */
struct work {
    struct ct_run *run;
    double ms;
    char thread[CT_LABEL_MAX];
    int64_t start_ns, end_ns;   /* when the blocking call began and ended */
    bool done;
};

static intptr_t blocking_work(void *arg)
{
    struct work *w = arg;
    snprintf(w->thread, sizeof w->thread, "%s", ct_thread_label());
    ct_mark(w->run, CT_HOLD);
    ct_say(w->run, "blocking for %.0f ms", w->ms * ct_scale(w->run));
    w->start_ns = ct_clock_ns();
    w->done = ct_sleep_ms(w->run, w->ms);
    w->end_ns = ct_clock_ns();
    ct_mark(w->run, CT_IDLE);
    return 0;
}

/* A task with blocking work to do, either in place or through the pool. */
struct blocker {
    struct ct_future base;
    enum mode mode;
    struct work *work;
    struct ct_blocking h;
    bool handed;
};

static enum ct_poll blocker_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct blocker *b = (struct blocker *)f;
    if (b->mode == IN_TASK) {
        blocking_work(b->work);         /* the mistake: the worker sleeps */
        return CT_READY;
    }
    if (!b->handed) {
        b->handed = true;
        f->error = ct_spawn_blocking(ct_exec_blocking(cx->exec), blocking_work, b->work, NULL,
                                     &b->h);
        if (f->error)
            return CT_READY;
    }
    return ct_future_poll(&b->h.base, cx);  /* the worker is free meanwhile */
}

static void blocker_drop(struct ct_future *f)
{
    ct_future_drop(&((struct blocker *)f)->h.base);
}

static const struct ct_future_ops blocker_ops = { "blocker", blocker_poll, blocker_drop };

/* Driven by block_on on main: start the ticker, let it tick a few times,
 * start the blockers, await everything. */
struct scenario {
    struct ct_future base;
    int pc, jobs, next;
    enum mode mode;
    int64_t lead_ns;
    struct ticker ticker;
    struct ct_join_handle th, bh[MAX_JOBS];
    struct work *work;
    struct ct_sleep nap;
    struct ct_run *run;
};

static enum ct_poll scenario_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct scenario *s = (struct scenario *)f;
    CT_ASYNC_BEGIN(s->pc);
    f->error = ct_spawn(cx->exec, &s->ticker, &s->th);
    if (f->error)
        return CT_READY;
    ct_sleep_init(&s->nap, s->lead_ns);
    CT_AWAIT(s->pc, &s->nap.base, cx);
    ct_say(s->run, "spawning %d task%s with blocking work", s->jobs, s->jobs == 1 ? "" : "s");
    for (int i = 0; i < s->jobs; i++) {
        struct blocker b = { .base = { .ops = &blocker_ops }, .mode = s->mode,
                             .work = &s->work[i] };
        f->error = ct_spawn(cx->exec, &b, &s->bh[i]);
        if (f->error)
            return CT_READY;
    }
    CT_AWAIT(s->pc, &s->th.base, cx);
    for (s->next = 0; s->next < s->jobs; s->next++)
        CT_AWAIT(s->pc, &s->bh[s->next].base, cx);
    CT_ASYNC_END(s->pc);
    return CT_READY;
}

static void scenario_drop(struct ct_future *f)
{
    struct scenario *s = (struct scenario *)f;
    ct_future_drop(&s->ticker.base);
    ct_future_drop(&s->th.base);
    for (int i = 0; i < s->jobs; i++)
        ct_future_drop(&s->bh[i].base);
    ct_future_drop(&s->nap.base);
}

static const struct ct_future_ops scenario_ops = { "scenario", scenario_poll, scenario_drop };

/* Is `label` exactly PREFIX-N, with 1 <= N <= max? */
static bool is_label(const char *label, const char *prefix, int max)
{
    size_t n = strlen(prefix);
    if (strncmp(label, prefix, n) != 0 || label[n] != '-')
        return false;
    char *end;
    long k = strtol(label + n + 1, &end, 10);
    return end != label + n + 1 && *end == '\0' && k >= 1 && k <= max;
}

struct sb_config {
    int workers, ticks, jobs, lane;
    double tick_ms, block_ms;   /* as given; ct_scale applies */
};

struct sb_result {
    struct tick_log log[NMODES];
    struct work work[NMODES][MAX_JOBS];
    int done[NMODES];           /* blocking jobs that finished */
    bool where[NMODES];         /* every job ran on the expected kind of thread */
    double busy_ms[NMODES];     /* first blocking call's start to last one's end */
    int pool_started;           /* threads the blocking pool started */
    int pool_used;              /* of them, threads that ran a job */
    char pool_idle[CT_LABEL_MAX];   /* the first one that ran none, or "" */
};

/* How long the blocking calls kept threads busy, from the first start to
 * the last end. */
static double busy_span_ms(const struct work *w, int jobs)
{
    int64_t first = 0, last = 0;
    for (int i = 0; i < jobs; i++) {
        if (i == 0 || w[i].start_ns < first)
            first = w[i].start_ns;
        if (i == 0 || w[i].end_ns > last)
            last = w[i].end_ns;
    }
    return last > first ? (double)(last - first) / 1e6 : 0;
}

/* Which pool threads ran a job.  The pool starts a thread for a job when
 * none is idle, but a thread that finishes early takes the next queued
 * job itself: a thread started late may find the queue empty, run
 * nothing, and so mark no lane of the timeline. */
static void tally_pool(struct ct_exec *ex, const struct sb_config *c, struct sb_result *r)
{
    struct ct_blocking_pool *p = ct_exec_blocking(ex);
    CT_PT(pthread_mutex_lock(&p->mu));
    r->pool_started = p->nthreads;
    CT_PT(pthread_mutex_unlock(&p->mu));
    r->pool_idle[0] = '\0';
    for (int k = 1; k <= r->pool_started; k++) {
        char name[CT_LABEL_MAX];
        snprintf(name, sizeof name, "blocking-%d", k);
        bool ran = false;
        for (int i = 0; i < c->jobs && !ran; i++)
            ran = strcmp(r->work[IN_POOL][i].thread, name) == 0;
        r->pool_used += ran;
        if (!ran && r->pool_idle[0] == '\0')
            memcpy(r->pool_idle, name, sizeof name);
    }
}

static int run_mode(struct ct_run *run, struct ct_exec *ex, const struct sb_config *c,
                    enum mode m, struct sb_result *r)
{
    ct_section(run, "%s: %d worker%s, a tick every %.0f ms", mode_name[m], c->workers,
               c->workers == 1 ? "" : "s", c->tick_ms * ct_scale(run));
    for (int i = 0; i < c->jobs; i++)
        r->work[m][i] = (struct work){ .run = run, .ms = c->block_ms };
    struct scenario s = {
        .base = { .ops = &scenario_ops }, .jobs = c->jobs, .mode = m,
        .lead_ns = ct_demo_ns(run, c->tick_ms * 3.5), .work = r->work[m], .run = run,
        .ticker = { .base = { .ops = &ticker_ops }, .ticks = c->ticks, .lane = c->lane,
                    .period = ct_demo_ns(run, c->tick_ms), .run = run, .log = &r->log[m] },
    };
    int rc = ct_block_on(ex, &s.base);
    if (rc == 0)
        rc = s.base.error;
    ct_future_drop(&s.base);
    if (rc == 0)
        ct_say(run, "longest gap between ticks: %.1f ms", r->log[m].max_gap_ms);
    return rc;
}

static void report_sb(struct ct_run *run, const struct sb_config *c, struct sb_result *r)
{
    static const char *const cols[] = { "mode", "ticks", "max_gap_ms|longest gap ms",
                                        "max_late_ms|latest tick ms", "work_on|work ran on",
                                        NULL };
    struct ct_table *t = ct_table_new(run, "modes", NULL, cols);
    for (int m = 0; m < NMODES; m++)
        ct_table_row(t, CT_TEXT(mode_name[m]), CT_INT(r->log[m].count),
                     CT_NUM(r->log[m].max_gap_ms, 1), CT_NUM(r->log[m].max_late_ms, 1),
                     CT_TEXT(r->work[m][0].thread));
    ct_bars(run, t, "longest silence of the ticker", 0, 2, "ms");
    ct_result_num(run, "gap_in_task_ms", "longest gap, blocking inside tasks",
                  r->log[IN_TASK].max_gap_ms, 1, "ms");
    ct_result_num(run, "gap_in_pool_ms", "longest gap, with spawn_blocking",
                  r->log[IN_POOL].max_gap_ms, 1, "ms");
    ct_result_num(run, "ticker_poll_us", "the ticker's longest poll, pool run",
                  r->log[IN_POOL].max_poll_us, 1, "us");
    ct_result_num(run, "busy_in_task_ms", "workers blocked, first call to last",
                  r->busy_ms[IN_TASK], 1, "ms");
    ct_result_int(run, "pool_threads", "blocking-pool threads started", r->pool_started, NULL);
    ct_result_int(run, "pool_threads_used", "pool threads that ran a job", r->pool_used, NULL);
    ct_result_int(run, "cpus", "CPUs online", ct_cpus(), NULL);

    for (int m = 0; m < NMODES; m++) {
        r->where[m] = true;
        for (int i = 0; i < c->jobs; i++) {
            r->done[m] += r->work[m][i].done;
            r->where[m] &= m == IN_TASK ? is_label(r->work[m][i].thread, "worker", c->workers)
                                        : is_label(r->work[m][i].thread, "blocking", 1 << 20);
        }
        ct_check(run, r->log[m].count == c->ticks, "%s: all %d ticks arrived (%d)",
                 mode_name[m], c->ticks, r->log[m].count);
        ct_check(run, r->done[m] == c->jobs, "%s: %d of %d blocking jobs finished",
                 mode_name[m], r->done[m], c->jobs);
        ct_check(run, r->where[m], "%s: the work ran on %s threads", mode_name[m],
                 m == IN_TASK ? "worker" : "blocking-pool");
    }
}

static void report_sb_takeaway(struct ct_run *run, const struct sb_config *c,
                               const struct sb_result *r)
{
    double bad = r->log[IN_TASK].max_gap_ms, good = r->log[IN_POOL].max_gap_ms;
    double tick = c->tick_ms * ct_scale(run), block = c->block_ms * ct_scale(run);
    double busy = r->busy_ms[IN_TASK];
    /* one tick per poll when nothing blocks: what a tick needs of a worker */
    double poll_us = r->log[IN_POOL].max_poll_us;
    /* a gap within a tenth of a tick of another is timer noise */
    double noise = tick / 10;
    char tied[64];
    if (c->workers == 1)
        snprintf(tied, sizeof tied, "the one worker");
    else if (c->jobs >= c->workers)
        snprintf(tied, sizeof tied, "all %d workers", c->workers);
    else
        snprintf(tied, sizeof tied, "%d of the %d workers", c->jobs, c->workers);
    char what[192];
    snprintf(what, sizeof what, "%d blocking call%s of %.0f ms kept %s busy for %.1f ms",
             c->jobs, c->jobs == 1 ? "" : "s", block, tied, busy);
    if (c->jobs >= c->workers && bad <= tick + noise)
        ct_takeaway(run,
                    "Inside the tasks, %s, with none that long at a time: the ticker, which "
                    "needed a worker for at most %.1f us per tick, still kept to its %.0f ms "
                    "schedule (longest gap %.1f ms). Raise block-ms above tick-ms to see it "
                    "fall behind.", what, poll_us, tick, bad);
    else if (c->jobs >= c->workers)
        ct_takeaway(run,
                    "Inside the tasks, %s, and the ticker, which needed a worker for at most "
                    "%.1f us per tick when nothing blocked, went %s for %.1f ms against a "
                    "%.0f ms schedule.",
                    what, poll_us, bad > 2 * tick ? "silent" : "late", bad, tick);
    else
        ct_takeaway(run,
                    "Inside the tasks, %s; the ticker could run on a free one and its longest "
                    "gap was %.1f ms against a %.0f ms schedule.%s", what, bad, tick,
                    bad <= 2 * tick ? " Blocking eats capacity first; it stops everything "
                                      "once every worker is stuck." : "");
    ct_takeaway(run,
                "Handed to ct_spawn_blocking, the same work ran on blocking-pool threads and "
                "the longest gap between ticks was %.1f ms against the %.0f ms schedule%s",
                good, tick,
                good < bad - noise
                    ? ", shorter than with the work inside the tasks."
                    : bad <= tick + noise
                          ? ", the same as with the work inside the tasks, which had not "
                            "delayed the ticker either."
                          : ", no shorter than with the work inside the tasks: this run's "
                            "noise; repeat it, or raise block-ms, to see the difference.");
    if (r->pool_used < r->pool_started)
        ct_takeaway(run,
                    "The pool started %d thread%s for %d job%s, but only %d ran one: a "
                    "thread that finished its job took the next queued one before %s was "
                    "scheduled, so %s blocked on nothing and has no lane in the timeline.",
                    r->pool_started, r->pool_started == 1 ? "" : "s", c->jobs,
                    c->jobs == 1 ? "" : "s", r->pool_used, r->pool_idle, r->pool_idle);
}

static int spawn_blocking_run(struct ct_run *run)
{
    struct sb_config c = {
        .workers = (int)ct_param_int(run, "workers"),
        .ticks = (int)ct_param_int(run, "ticks"),
        .tick_ms = (double)ct_param_int(run, "tick-ms"),
        .block_ms = (double)ct_param_int(run, "block-ms"),
        .jobs = (int)ct_param_int(run, "jobs"),
        .lane = ct_lane(run, "ticker (a task)"),
    };
    if (c.jobs == 0)
        c.jobs = c.workers;
    ct_legend(run, CT_HOLD, "thread blocked in a blocking call");
    ct_point_legend(run, '|', "a tick");

    struct sb_result *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    struct ct_exec *ex = NULL;
    int rc = ct_demo_executor(run, CT_EXEC_MULTI_THREAD, c.workers, &ex);
    for (int m = 0; m < NMODES && rc == 0; m++) {
        rc = run_mode(run, ex, &c, (enum mode)m, r);
        /* only after a whole run: a cancelled one may leave blocking calls
         * still writing their times until the executor is freed */
        if (rc == 0)
            r->busy_ms[m] = busy_span_ms(r->work[m], c.jobs);
    }
    if (rc == 0)
        tally_pool(ex, &c, r);
    if (ex)
        ct_exec_free(ex);
    if (rc == 0) {
        report_sb(run, &c, r);
        report_sb_takeaway(run, &c, r);
    }
    free(r);
    return rc == -ECANCELED ? 0 : rc;
}

static const struct ct_param_spec spawn_blocking_params[] = {
    { "workers", CT_PARAM_INT, "2", 1, 8, NULL, "executor workers" },
    { "ticks", CT_PARAM_INT, "15", 4, MAX_TICKS, NULL, "ticks per run" },
    { "tick-ms", CT_PARAM_INT, "20", 1, 1000, NULL, "ticker period" },
    { "block-ms", CT_PARAM_INT, "200", 1, 5000, NULL,
      "length of each blocking call (the guide's 2 s)" },
    { "jobs", CT_PARAM_INT, "0", 0, MAX_JOBS, NULL,
      "tasks with blocking work (0: one per worker)" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_spawn_blocking = {
    .name = "spawn-blocking",
    .chapter = 7,
    .title = "Blocking work and the blocking pool",
    .summary = "Blocking calls inside tasks stall the ticker; spawn_blocking keeps it ticking",
    .intro = "A ticker task ticks at a steady period while other tasks do blocking work, "
             "first right inside the task (blocking its worker), then handed to the blocking "
             "pool. Compare the gaps between ticks with the period.",
    .params = spawn_blocking_params,
    .smoke = "ticks=6 tick-ms=5 block-ms=30",
    .run = spawn_blocking_run,
};
