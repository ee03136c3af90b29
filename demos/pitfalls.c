/* pitfalls.c - demo `pitfalls`: three classic mistakes in async code, each
 * next to its fix, with the effect measured.
 *
 * Shows:
 *   1. A lock held across a suspension point.  Five tasks each append two
 *      entries to a shared log behind the async mutex, with a slow fetch
 *      (a timer) in between.  Bad: lock, append, await the fetch, append,
 *      unlock: the tasks queue behind whoever is fetching.  Good: fetch
 *      first, then lock, append both, unlock.
 *   2. Errors and panics lost in detached tasks.  Bad: tasks spawned with
 *      no join handle; some fail, one panics, and the spawner hears of
 *      none of it (the executor's own counters show what happened).  Good:
 *      keep the handles, await them, look at each status.
 *   3. Blocking the runtime.  On a one-worker executor a ticker ticks while
 *      another task sleeps for 100 ms.  Bad: a thread sleep inside the
 *      task.  Good: the same sleep handed to the blocking pool.
 * Watch for: the staircase of lock holds in the timeline (bad) against the
 * overlapping fetches (good); "reported 0 of N" failures; the ticker's gap.
 * Lesson: pitfalls (chapter 9).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "amutex.h"
#include "blocking.h"
#include "clock.h"
#include "exec.h"
#include "tasks.h"
#include "timer.h"

#define MAX_TASKS 16

enum { BAD, GOOD, NVERSIONS };

static const char *const version_name[NVERSIONS] = { "bad", "good" };

struct config {
    struct ct_run *run;
    int tasks;
    double fetch_ms, block_ms, tick_ms;
    int lanes[MAX_TASKS], ticker_lane;
};

/* ---- 1. a lock held across an await ------------------------------------------ */

struct shared_log {
    struct ct_amutex mu;
    int entries[2 * MAX_TASKS];     /* guarded by mu */
    int n;
};

struct p1_result {
    double all_ms, max_wait_ms, held_ms;
    int pairs_ok, entries;
};

struct logger {
    struct ct_future base;
    int pc, id, lane;
    bool bad;
    int64_t t0, got;
    struct ct_amutex_lock lk;
    struct ct_sleep fetch;
    struct shared_log *log;
    double *wait_ms, *held_ms;
    const struct config *cfg;
};

static void append(struct shared_log *l, int v)
{
    l->entries[l->n++] = v;
}

static enum ct_poll logger_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct logger *t = (struct logger *)f;
    struct ct_run *run = t->cfg->run;
    CT_ASYNC_BEGIN(t->pc);
    if (!t->bad) {
        /* the fix: do the slow part before taking the lock */
        ct_mark_lane(run, t->lane, CT_SLEEP);
        ct_sleep_init(&t->fetch, ct_demo_ns(run, t->cfg->fetch_ms));
        CT_AWAIT(t->pc, &t->fetch.base, cx);
    }
    t->t0 = ct_clock_ns();
    ct_mark_lane(run, t->lane, CT_WAIT);
    ct_amutex_lock_init(&t->lk, &t->log->mu);
    CT_AWAIT(t->pc, &t->lk.base, cx);
    t->got = ct_clock_ns();
    *t->wait_ms = (double)(t->got - t->t0) / 1e6;
    ct_mark_lane(run, t->lane, CT_HOLD);
    ct_say(run, "task %d: lock after %.1f ms; %s", t->id, *t->wait_ms,
           t->bad ? "fetch, holding it" : "append, unlock");
    append(t->log, 2 * t->id);
    if (t->bad) {
        /* the mistake: an await while holding the lock */
        ct_sleep_init(&t->fetch, ct_demo_ns(run, t->cfg->fetch_ms));
        CT_AWAIT(t->pc, &t->fetch.base, cx);
    }
    append(t->log, 2 * t->id + 1);
    *t->held_ms = (double)(ct_clock_ns() - t->got) / 1e6;
    ct_amutex_unlock(&t->log->mu);
    ct_mark_lane(run, t->lane, CT_IDLE);
    CT_ASYNC_END(t->pc);
    return CT_READY;
}

static void logger_drop(struct ct_future *f)
{
    struct logger *t = (struct logger *)f;
    ct_future_drop(&t->lk.base);
    ct_future_drop(&t->fetch.base);
}

static const struct ct_future_ops logger_ops = { "logger", logger_poll, logger_drop };

/* Every task's two entries side by side, in order. */
static int pairs_in_order(const struct shared_log *l, int tasks)
{
    int ok = 0;
    bool seen[MAX_TASKS] = { false };
    for (int i = 0; i + 1 < l->n; i += 2) {
        int a = l->entries[i], b = l->entries[i + 1];
        if (a % 2 == 0 && b == a + 1 && a / 2 < tasks && !seen[a / 2]) {
            seen[a / 2] = true;
            ok++;
        }
    }
    return ok;
}

/* ---- 2. errors and panics in detached tasks ---------------------------------- */

enum risk { RISK_OK, RISK_ERROR, RISK_PANIC };

/* Task i: every third fails, and the second one panics. */
static enum risk risk_of(int i)
{
    return i == 1 ? RISK_PANIC : i % 3 == 2 ? RISK_ERROR : RISK_OK;
}

struct risky {
    struct ct_future base;
    int pc, id;
    struct ct_sleep nap;
    struct ct_run *run;
};

static enum ct_poll risky_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct risky *t = (struct risky *)f;
    CT_ASYNC_BEGIN(t->pc);
    ct_sleep_init(&t->nap, ct_demo_ns(t->run, 5 + 3 * t->id));
    CT_AWAIT(t->pc, &t->nap.base, cx);
    if (risk_of(t->id) == RISK_PANIC)
        ct_task_panic(cx, "task %d: unwrap on an empty value", t->id);
    if (risk_of(t->id) == RISK_ERROR)
        f->error = -EIO;
    CT_ASYNC_END(t->pc);
    return CT_READY;
}

static void risky_drop(struct ct_future *f)
{
    ct_future_drop(&((struct risky *)f)->nap.base);
}

static const struct ct_future_ops risky_ops = { "risky", risky_poll, risky_drop };

struct p2_result {
    int failed, panicked;           /* what happened, by the executor's counters */
    int heard_failed, heard_panicked;   /* what the spawner was told */
};

/* ---- 3. blocking the runtime --------------------------------------------------- */

struct p3_result {
    int ticks;
    double max_gap_ms;
    char ran_on[CT_LABEL_MAX];      /* the thread the sleep blocked */
    bool slept;
};

struct ticker {
    struct ct_future base;
    int pc, k, lane;
    int64_t start, period;
    double last_ms;
    const atomic_bool *stop;     /* set by the driver on another thread */
    struct ct_sleep nap;
    struct ct_run *run;
    struct p3_result *out;
};

static enum ct_poll ticker_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct ticker *t = (struct ticker *)f;
    CT_ASYNC_BEGIN(t->pc);
    t->start = ct_clock_ns();
    for (t->k = 1; !atomic_load(t->stop); t->k++) {
        ct_sleep_until_init(&t->nap, t->start + t->k * t->period);
        CT_AWAIT(t->pc, &t->nap.base, cx);
        {
            double now = ct_elapsed_ms(t->run);
            if (t->out->ticks++ > 0 && now - t->last_ms > t->out->max_gap_ms)
                t->out->max_gap_ms = now - t->last_ms;
            t->last_ms = now;
            ct_point_lane(t->run, t->lane, '|');
        }
    }
    CT_ASYNC_END(t->pc);
    return CT_READY;
}

static void ticker_drop(struct ct_future *f)
{
    ct_future_drop(&((struct ticker *)f)->nap.base);
}

static const struct ct_future_ops ticker_ops = { "ticker", ticker_poll, ticker_drop };

struct sleep_job {
    struct ct_run *run;
    double ms;
    struct p3_result *out;
};

/* The blocking work: a thread sleep, on whatever thread runs it. */
static intptr_t sleep_job(void *arg)
{
    struct sleep_job *j = arg;
    snprintf(j->out->ran_on, sizeof j->out->ran_on, "%s", ct_thread_label());
    ct_say(j->run, "sleeping %.0f ms on this thread", j->ms * ct_scale(j->run));
    ct_mark(j->run, CT_HOLD);
    j->out->slept = ct_sleep_ms(j->run, j->ms);
    ct_mark(j->run, CT_IDLE);
    return 0;
}

struct sleeper {
    struct ct_future base;
    bool bad, handed;
    struct sleep_job *job;
    struct ct_blocking h;
};

static enum ct_poll sleeper_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct sleeper *s = (struct sleeper *)f;
    if (s->bad) {
        sleep_job(s->job);          /* the mistake: the only worker sleeps */
        return CT_READY;
    }
    if (!s->handed) {
        s->handed = true;
        f->error = ct_spawn_blocking(ct_exec_blocking(cx->exec), sleep_job, s->job, NULL,
                                     &s->h);
        if (f->error)
            return CT_READY;
    }
    return ct_future_poll(&s->h.base, cx);
}

static void sleeper_drop(struct ct_future *f)
{
    ct_future_drop(&((struct sleeper *)f)->h.base);
}

static const struct ct_future_ops sleeper_ops = { "sleeper", sleeper_poll, sleeper_drop };

/* ---- the drivers, one per pitfall, each run by block_on ---------------------- */

struct driver {
    struct ct_future base;
    int pc, which, version;
    const struct config *cfg;
    struct ct_join_handle h[MAX_TASKS], th;
    struct ct_await_all all;
    struct ct_sleep nap;
    /* 1 */
    struct shared_log *log;
    double wait_ms[MAX_TASKS], held_ms[MAX_TASKS];
    int64_t t0;
    /* 2 */
    struct ct_exec_stats before;
    int64_t deadline;
    /* 3 */
    atomic_bool stop;
    struct sleep_job job;
    struct ticker ticker;
    void *out;
};

static int spawn_loggers(struct driver *d, struct ct_cx *cx)
{
    for (int i = 0; i < d->cfg->tasks; i++) {
        struct logger t = {
            .base = { .ops = &logger_ops }, .id = i, .lane = d->cfg->lanes[i],
            .bad = d->version == BAD, .log = d->log, .wait_ms = &d->wait_ms[i],
            .held_ms = &d->held_ms[i], .cfg = d->cfg,
        };
        int rc = ct_spawn(cx->exec, &t, &d->h[i]);
        if (rc)
            return rc;
    }
    return 0;
}

static int spawn_risky(struct driver *d, struct ct_cx *cx)
{
    for (int i = 0; i < d->cfg->tasks; i++) {
        struct risky t = { .base = { .ops = &risky_ops }, .id = i, .run = d->cfg->run };
        /* bad: no handle, so nobody can ever ask how it ended */
        int rc = ct_spawn(cx->exec, &t, d->version == BAD ? NULL : &d->h[i]);
        if (rc)
            return rc;
    }
    return 0;
}

/* Pitfall 2, bad version: the detached tasks are done when the executor's
 * counters say so (the spawner itself has no way to know). */
static bool detached_done(struct driver *d, struct ct_cx *cx)
{
    struct ct_exec_stats now;
    ct_exec_get_stats(cx->exec, &now);
    uint64_t ended = (now.completed + now.failed + now.panicked) -
                     (d->before.completed + d->before.failed + d->before.panicked);
    struct p2_result *r = d->out;
    r->failed = (int)(now.failed - d->before.failed);
    r->panicked = (int)(now.panicked - d->before.panicked);
    return ended >= (uint64_t)d->cfg->tasks || ct_clock_ns() > d->deadline;
}

static void tally_handles(struct driver *d)
{
    struct p2_result *r = d->out;
    for (int i = 0; i < d->cfg->tasks; i++) {
        r->heard_failed += d->h[i].status == CT_JOIN_FAILED;
        r->heard_panicked += d->h[i].status == CT_JOIN_PANICKED;
        r->failed += d->h[i].status == CT_JOIN_FAILED;
        r->panicked += d->h[i].status == CT_JOIN_PANICKED;
        if (d->h[i].status == CT_JOIN_PANICKED)
            ct_say(d->cfg->run, "task %d panicked: %s", i, d->h[i].panic);
        else if (d->h[i].status == CT_JOIN_FAILED)
            ct_say(d->cfg->run, "task %d failed: %s", i, strerror(-d->h[i].base.error));
    }
}

static enum ct_poll driver_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct driver *d = (struct driver *)f;
    const struct config *cfg = d->cfg;
    CT_ASYNC_BEGIN(d->pc);
    if (d->which == 1) {
        d->t0 = ct_clock_ns();
        if ((f->error = spawn_loggers(d, cx)) != 0)
            return CT_READY;
        ct_await_all_init(&d->all, d->h, (size_t)cfg->tasks);
        CT_AWAIT(d->pc, &d->all.base, cx);
        ((struct p1_result *)d->out)->all_ms = (double)(ct_clock_ns() - d->t0) / 1e6;
    } else if (d->which == 2) {
        ct_exec_get_stats(cx->exec, &d->before);
        if ((f->error = spawn_risky(d, cx)) != 0)
            return CT_READY;
        if (d->version == BAD) {
            d->deadline = ct_clock_ns() + 30 * CT_NS_PER_S;    /* a bound, for a bug */
            while (!detached_done(d, cx)) {
                ct_sleep_init(&d->nap, CT_NS_PER_MS);
                CT_AWAIT(d->pc, &d->nap.base, cx);
            }
        } else {
            ct_await_all_init(&d->all, d->h, (size_t)cfg->tasks);
            CT_AWAIT(d->pc, &d->all.base, cx);
            tally_handles(d);
        }
    } else {
        if ((f->error = ct_spawn(cx->exec, &d->ticker, &d->th)) != 0)
            return CT_READY;
        ct_sleep_init(&d->nap, ct_demo_ns(cfg->run, 3 * cfg->tick_ms));
        CT_AWAIT(d->pc, &d->nap.base, cx);
        {
            struct sleeper s = { .base = { .ops = &sleeper_ops }, .bad = d->version == BAD,
                                 .job = &d->job };
            if ((f->error = ct_spawn(cx->exec, &s, &d->h[0])) != 0)
                return CT_READY;
        }
        CT_AWAIT(d->pc, &d->h[0].base, cx);
        ct_sleep_init(&d->nap, ct_demo_ns(cfg->run, 3 * cfg->tick_ms));
        CT_AWAIT(d->pc, &d->nap.base, cx);
        atomic_store(&d->stop, true);
        CT_AWAIT(d->pc, &d->th.base, cx);
    }
    CT_ASYNC_END(d->pc);
    return CT_READY;
}

static void driver_drop(struct ct_future *f)
{
    struct driver *d = (struct driver *)f;
    for (int i = 0; i < MAX_TASKS; i++)
        ct_future_drop(&d->h[i].base);
    ct_future_drop(&d->th.base);
    ct_future_drop(&d->ticker.base);
    ct_future_drop(&d->all.base);
    ct_future_drop(&d->nap.base);
}

static const struct ct_future_ops driver_ops = { "driver", driver_poll, driver_drop };

/* Run pitfall `which` in `version` on a new executor of `workers`.  0 or a
 * negative errno. */
static int run_one(const struct config *cfg, int which, int version, int workers, void *out,
                   struct shared_log *log)
{
    struct ct_run *run = cfg->run;
    struct ct_exec *ex;
    int rc = ct_demo_executor(run, CT_EXEC_MULTI_THREAD, workers, &ex);
    if (rc)
        return rc;
    struct driver *d = calloc(1, sizeof *d);
    if (!d) {
        ct_exec_free(ex);
        return -ENOMEM;
    }
    *d = (struct driver){
        .base = { .ops = &driver_ops }, .which = which, .version = version, .cfg = cfg,
        .log = log, .out = out,
        .job = { .run = run, .ms = cfg->block_ms, .out = out },
    };
    d->ticker = (struct ticker){ .base = { .ops = &ticker_ops }, .lane = cfg->ticker_lane,
                                 .period = ct_demo_ns(run, cfg->tick_ms), .stop = &d->stop,
                                 .run = run, .out = out };
    rc = ct_block_on(ex, &d->base);
    if (rc == 0)
        rc = d->base.error;
    ct_future_drop(&d->base);
    ct_exec_free(ex);
    if (which == 1 && rc == 0) {
        struct p1_result *r = out;
        for (int i = 0; i < cfg->tasks; i++) {
            r->max_wait_ms = d->wait_ms[i] > r->max_wait_ms ? d->wait_ms[i] : r->max_wait_ms;
            r->held_ms += d->held_ms[i];
        }
        r->entries = log->n;
        r->pairs_ok = pairs_in_order(log, cfg->tasks);
    }
    free(d);
    return rc;
}

/* ---- reporting ------------------------------------------------------------------ */

struct results {
    struct p1_result p1[NVERSIONS];
    struct p2_result p2[NVERSIONS];
    struct p3_result p3[NVERSIONS];
};

static void report_checks(const struct config *cfg, const struct results *r)
{
    struct ct_run *run = cfg->run;
    int n = cfg->tasks, fails = 0, panics = 0;
    for (int i = 0; i < n; i++) {
        fails += risk_of(i) == RISK_ERROR;
        panics += risk_of(i) == RISK_PANIC;
    }
    for (int v = 0; v < NVERSIONS; v++) {
        const struct p1_result *a = &r->p1[v];
        ct_check(run, a->entries == 2 * n && a->pairs_ok == n,
                 "lock across await, %s: %d entries, %d of %d tasks' pairs side by side",
                 version_name[v], a->entries, a->pairs_ok, n);
        const struct p2_result *b = &r->p2[v];
        ct_check(run, b->failed == fails && b->panicked == panics,
                 "detached tasks, %s: %d failed and %d panicked, as planned (%d, %d)",
                 version_name[v], b->failed, b->panicked, fails, panics);
        const struct p3_result *c = &r->p3[v];
        bool where = strncmp(c->ran_on, v == BAD ? "worker-" : "blocking-",
                             v == BAD ? 7 : 9) == 0;
        ct_check(run, c->slept && where, "blocking, %s: the sleep ran to its end on %s",
                 version_name[v], c->ran_on);
    }
    ct_check(run, r->p2[GOOD].heard_failed == fails && r->p2[GOOD].heard_panicked == panics,
             "with the handles kept, the spawner heard of every failure (%d) and panic (%d)",
             r->p2[GOOD].heard_failed, r->p2[GOOD].heard_panicked);
}

static void report_table(const struct config *cfg, const struct results *r)
{
    static const char *const cols[] = { "pitfall", "version", "measure", "value", NULL };
    struct ct_table *t = ct_table_new(cfg->run, "pitfalls", NULL, cols);
    for (int v = 0; v < NVERSIONS; v++)
        ct_table_row(t, CT_TEXT("lock across await"), CT_TEXT(version_name[v]),
                     CT_TEXT("all tasks done, ms"), CT_NUM(r->p1[v].all_ms, 1));
    for (int v = 0; v < NVERSIONS; v++)
        ct_table_row(t, CT_TEXT("lost errors"), CT_TEXT(version_name[v]),
                     CT_TEXT("failures reported"),
                     CT_INT(r->p2[v].heard_failed + r->p2[v].heard_panicked));
    for (int v = 0; v < NVERSIONS; v++)
        ct_table_row(t, CT_TEXT("blocking the runtime"), CT_TEXT(version_name[v]),
                     CT_TEXT("longest tick gap, ms"), CT_NUM(r->p3[v].max_gap_ms, 1));
}

static void report(const struct config *cfg, const struct results *r)
{
    struct ct_run *run = cfg->run;
    report_table(cfg, r);
    report_checks(cfg, r);
    const struct p1_result *a = r->p1;
    ct_takeaway(run,
                "Awaiting a %.0f ms fetch while holding the lock, %d tasks took %.0f ms: "
                "each waited for the one fetching (the longest wait %.0f ms), and the lock "
                "was held %.0f ms in all. Fetching first and locking only to append took "
                "%.0f ms, with the lock held %.2f ms in all. Same log, same pairs.",
                cfg->fetch_ms * ct_scale(run), cfg->tasks, a[BAD].all_ms, a[BAD].max_wait_ms,
                a[BAD].held_ms, a[GOOD].all_ms, a[GOOD].held_ms);
    const struct p2_result *b = r->p2;
    ct_takeaway(run,
                "Of %d detached tasks, %d failed and %d panicked, and the spawner was told "
                "of %d: only the executor's counters saw them. Keeping the handles and "
                "awaiting them, it heard of all %d and could tell panics from errors.",
                cfg->tasks, b[BAD].failed, b[BAD].panicked,
                b[BAD].heard_failed + b[BAD].heard_panicked, b[GOOD].failed + b[GOOD].panicked);
    const struct p3_result *c = r->p3;
    double period = cfg->tick_ms * ct_scale(run);
    /* a stall is a gap well past one period, and longer than the fix's */
    if (c[BAD].max_gap_ms > 1.5 * period && c[BAD].max_gap_ms > c[GOOD].max_gap_ms) {
        ct_takeaway(run,
                    "With one worker, a %.0f ms thread sleep inside a task left the ticker "
                    "silent for %.1f ms (its period is %.0f ms). Handed to the blocking pool, "
                    "the same sleep ran on %s and the longest gap was %.1f ms.",
                    cfg->block_ms * ct_scale(run), c[BAD].max_gap_ms, period, c[GOOD].ran_on,
                    c[GOOD].max_gap_ms);
        return;
    }
    int longer = cfg->tick_ms * 10 < 5000 ? (int)cfg->tick_ms * 10 : 5000;
    char hint[80] = "";
    if (longer > cfg->block_ms)
        snprintf(hint, sizeof hint, " A sleep of several periods, say block-ms=%d, shows the "
                 "stall.", longer);
    ct_takeaway(run,
                "With one worker, a %.0f ms thread sleep inside a task hardly held up a "
                "ticker with a %.0f ms period: the longest gap was %.1f ms, and %.1f ms with "
                "the sleep handed to the blocking pool (on %s).%s",
                cfg->block_ms * ct_scale(run), period, c[BAD].max_gap_ms, c[GOOD].max_gap_ms,
                c[GOOD].ran_on, hint);
}

static int pitfalls_run(struct ct_run *run)
{
    struct config cfg = {
        .run = run, .tasks = (int)ct_param_int(run, "tasks"),
        .fetch_ms = (double)ct_param_int(run, "fetch-ms"),
        .block_ms = (double)ct_param_int(run, "block-ms"),
        .tick_ms = (double)ct_param_int(run, "tick-ms"),
    };
    for (int i = 0; i < cfg.tasks; i++)
        cfg.lanes[i] = ct_lane(run, "task %d", i);
    cfg.ticker_lane = ct_lane(run, "ticker (a task)");
    ct_legend(run, CT_WAIT, "waiting for the lock");
    ct_legend(run, CT_HOLD, "task: holds the lock; worker: blocked in a sleep");
    ct_legend(run, CT_SLEEP, "fetching, lock not held");
    ct_point_legend(run, '|', "a tick");
    struct results *r = calloc(1, sizeof *r);
    struct shared_log *log = calloc(1, sizeof *log);
    int rc = r && log ? 0 : -ENOMEM;
    static const char *const title[] = { "", "1. a lock held across an await",
                                         "2. errors in detached tasks",
                                         "3. blocking the runtime (one worker)" };
    for (int which = 1; which <= 3 && rc == 0; which++) {
        for (int v = 0; v < NVERSIONS && rc == 0 && !ct_cancelled(run); v++) {
            ct_section(run, "%s: %s", title[which], version_name[v]);
            void *out = which == 1 ? (void *)&r->p1[v]
                        : which == 2 ? (void *)&r->p2[v] : (void *)&r->p3[v];
            if (which == 1) {
                memset(log, 0, sizeof *log);
                if ((rc = ct_amutex_init(&log->mu)) != 0)
                    break;
            }
            rc = run_one(&cfg, which, v, which == 3 ? 1 : 2, out, log);
            if (which == 1)
                ct_amutex_destroy(&log->mu);
            if (which == 2 && rc == 0 && v == BAD)
                ct_say(run, "spawner: %d tasks spawned without handles, all gone; errors "
                       "heard of: none", cfg.tasks);
            if (which == 1 && rc == 0)
                ct_say(run, "%d tasks done in %.1f ms", cfg.tasks, r->p1[v].all_ms);
        }
    }
    if (rc == 0 && !ct_cancelled(run))
        report(&cfg, r);
    free(r);
    free(log);
    return rc == -ECANCELED ? 0 : rc;
}

static const struct ct_param_spec pitfalls_params[] = {
    { "tasks", CT_PARAM_INT, "6", 2, MAX_TASKS, NULL, "tasks in pitfalls 1 and 2" },
    { "fetch-ms", CT_PARAM_INT, "40", 1, 5000, NULL,
      "pitfall 1: the slow fetch (the guide's 1 s)" },
    { "block-ms", CT_PARAM_INT, "100", 1, 5000, NULL,
      "pitfall 3: the blocking sleep (the guide's 5 s)" },
    { "tick-ms", CT_PARAM_INT, "10", 1, 1000, NULL, "pitfall 3: the ticker's period" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_pitfalls = {
    .name = "pitfalls",
    .chapter = 9,
    .title = "Common pitfalls, each beside its fix",
    .summary = "A lock across an await, errors lost in detached tasks, blocking the runtime",
    .intro = "Three classic mistakes in async code, each run next to its fix: a lock held "
             "across an await, tasks spawned without keeping their handles (their errors "
             "and panics vanish), and a blocking call on the runtime's only worker.",
    .params = pitfalls_params,
    .smoke = "fetch-ms=10 block-ms=30 tick-ms=5",
    .run = pitfalls_run,
};
