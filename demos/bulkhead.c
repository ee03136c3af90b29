/* bulkhead.c - demo `bulkhead`: a flood of low-priority work, with one
 * shared permit pool and then with a compartment per priority.
 *
 * Shows: `low` threads run slow batch jobs back to back, enough to keep
 * every permit they can get busy; `high` threads send short requests now
 * and then.  Phase one: both draw from one pool of high-permits +
 * low-permits permits, so a request queues behind the batch jobs.  Phase
 * two: a bulkhead (bulkhead.h) gives each priority its own compartment of
 * the same total; the batch jobs flood theirs, and a request finds its
 * own as free as if there were no flood.  The same threads run both
 * phases.
 * Watch for: the high requests that found no permit free (many, then
 * none), their p99 latency with and without, and what isolation costs the
 * batch jobs (they may no longer borrow the high-priority permits).
 * Lesson: performance-patterns (chapter 10).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "demo.h"
#include "bulkhead.h"
#include "clock.h"

#define MAX_HIGH 16
#define MAX_LOW 32
#define MAX_SAMPLES 10000       /* request latencies kept per thread and phase */

enum { SHARED, ISOLATED, NPHASES };
enum { HIGH, LOW };

static const char *const phase_name[NPHASES] = { "shared pool", "bulkhead" };

struct config {
    int high, low, high_permits, low_permits;
    double high_work, low_work, high_gap, low_gap, phase_ms;    /* as given */
};

struct shop {
    struct ct_run *run;
    struct config cfg;
    struct ct_bulkhead bh[NPHASES];
    int comp[NPHASES][2];       /* compartment of each class, per phase */
    struct ct_event go[NPHASES], done[NPHASES];
    double end_ms[NPHASES];     /* elapsed time at which a phase stops */
    atomic_int running;         /* threads still in the current phase */
};

struct tally {
    long requests, waited, dropped;
    int n;                      /* samples kept */
    double *total_ms, *wait_ms; /* per request */
};

struct worker {
    struct shop *s;
    int cls, id;
    struct ct_thread thread;
    struct tally t[NPHASES];
};

/* One request or job: enter the compartment, work, leave.  False when
 * the run was cancelled. */
static bool one_request(struct worker *w, int ph)
{
    struct shop *s = w->s;
    struct tally *t = &w->t[ph];
    int c = s->comp[ph][w->cls];
    bool waited;
    int64_t t0 = ct_clock_ns();
    ct_mark(s->run, CT_WAIT);
    if (ct_bulkhead_enter(&s->bh[ph], c, -1, ct_cancel_event(s->run), &waited) != 0)
        return false;
    int64_t t1 = ct_clock_ns();
    ct_mark(s->run, CT_HOLD);
    bool whole = ct_sleep_ms(s->run, w->cls == HIGH ? s->cfg.high_work : s->cfg.low_work);
    ct_bulkhead_leave(&s->bh[ph], c);
    ct_mark(s->run, CT_IDLE);
    if (!whole)
        return false;
    t->requests++;
    t->waited += waited;
    /* batch jobs are only counted; requests keep their latencies */
    if (w->cls == HIGH && t->n == MAX_SAMPLES) {
        t->dropped++;
    } else if (w->cls == HIGH) {
        t->wait_ms[t->n] = (double)(t1 - t0) / 1e6;
        t->total_ms[t->n++] = (double)(ct_clock_ns() - t0) / 1e6;
    }
    return true;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct shop *s = w->s;
    for (int ph = 0; ph < NPHASES; ph++) {
        if (!ct_wait(s->run, &s->go[ph]))
            break;
        bool ok = true;
        while (ok && ct_elapsed_ms(s->run) < s->end_ms[ph]) {
            ok = one_request(w, ph);
            /* requests arrive now and then, batch jobs nearly back to back */
            if (ok)
                ok = ct_sleep_ms(s->run, w->cls == HIGH ? s->cfg.high_gap : s->cfg.low_gap);
        }
        if (w->cls == HIGH && ok)
            ct_say(s->run, "%s: %ld requests, %ld found no permit", phase_name[ph],
                   w->t[ph].requests, w->t[ph].waited);
        if (atomic_fetch_sub(&s->running, 1) == 1)
            ct_event_set(&s->done[ph]);
        if (!ok)
            break;
    }
    return NULL;
}

/* ---- the result -------------------------------------------------------- */

struct class_figures {
    long requests, waited;
    double p50, p99, max;       /* total latency, ms */
    double wait_p99;            /* time waiting for a permit, ms */
};

struct phase_result {
    struct class_figures f[2];
    struct ct_compartment_stats st[2];      /* per class (the same one if shared) */
    double low_per_s;
};

struct bh_result {
    struct phase_result ph[NPHASES];
    long dropped;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The value at quantile q of v[0..n-1], sorted in place; 0 if n == 0. */
static double quantile(double *v, int n, double q)
{
    if (n == 0)
        return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int i = (int)(q * (n - 1) + 0.5);
    return v[i];
}

/* Pool the samples of every worker of one class in one phase. */
static int figures(struct worker *ws, int nw, int cls, int ph, struct class_figures *f,
                   long *dropped)
{
    int n = 0;
    for (int i = 0; i < nw; i++)
        if (ws[i].cls == cls)
            n += ws[i].t[ph].n;
    double *tot = malloc(sizeof(double) * (size_t)(n ? n : 1));
    double *wt = malloc(sizeof(double) * (size_t)(n ? n : 1));
    if (!tot || !wt) {
        free(tot), free(wt);
        return -ENOMEM;
    }
    int k = 0;
    for (int i = 0; i < nw; i++) {
        const struct tally *t = &ws[i].t[ph];
        if (ws[i].cls != cls)
            continue;
        f->requests += t->requests;
        f->waited += t->waited;
        *dropped += t->dropped;
        for (int j = 0; j < t->n; j++, k++) {
            tot[k] = t->total_ms[j];
            wt[k] = t->wait_ms[j];
        }
    }
    f->p50 = quantile(tot, n, 0.5);
    f->p99 = quantile(tot, n, 0.99);
    f->max = n ? tot[n - 1] : 0;
    f->wait_p99 = quantile(wt, n, 0.99);
    free(tot), free(wt);
    return 0;
}

static int fill_result(struct shop *s, struct worker *ws, int nw, struct bh_result *r)
{
    for (int ph = 0; ph < NPHASES; ph++) {
        struct phase_result *p = &r->ph[ph];
        for (int cls = HIGH; cls <= LOW; cls++) {
            int rc = figures(ws, nw, cls, ph, &p->f[cls], &r->dropped);
            if (rc)
                return rc;
            ct_bulkhead_get_stats(&s->bh[ph], s->comp[ph][cls], &p->st[cls]);
        }
        p->low_per_s = (double)p->f[LOW].requests / (s->cfg.phase_ms * ct_scale(s->run) / 1e3);
    }
    return 0;
}

/* ---- the report -------------------------------------------------------- */

static void report_tables(struct ct_run *run, const struct bh_result *r)
{
    static const char *const cols[] = {
        "phase", "requests", "waited|found full", "p50_ms|p50 ms", "p99_ms|p99 ms",
        "max_ms|max ms", "wait_p99_ms|wait p99", NULL,
    };
    struct ct_table *t = ct_table_new(run, "high", "high-priority requests", cols);
    for (int ph = 0; ph < NPHASES; ph++) {
        const struct class_figures *f = &r->ph[ph].f[HIGH];
        ct_table_row(t, CT_TEXT(phase_name[ph]), CT_INT(f->requests), CT_INT(f->waited),
                     CT_NUM(f->p50, 1), CT_NUM(f->p99, 1), CT_NUM(f->max, 1),
                     CT_NUM(f->wait_p99, 1));
    }
    static const char *const lcols[] = {
        "phase", "jobs", "waited|found full", "per_s|jobs/s", "max_in|most inside", NULL,
    };
    struct ct_table *l = ct_table_new(run, "low", "low-priority batch jobs", lcols);
    for (int ph = 0; ph < NPHASES; ph++) {
        const struct phase_result *p = &r->ph[ph];
        ct_table_row(l, CT_TEXT(phase_name[ph]), CT_INT(p->f[LOW].requests),
                     CT_INT(p->f[LOW].waited), CT_NUM(p->low_per_s, 0),
                     CT_INT(p->st[LOW].max_in_use));
    }
    ct_bars(run, t, "high-priority p99 latency", 0, 4, "ms");
    ct_result_num(run, "p99_shared_ms", "high p99, shared pool", r->ph[SHARED].f[HIGH].p99, 1,
                  "ms");
    ct_result_num(run, "p99_bulkhead_ms", "high p99, bulkhead", r->ph[ISOLATED].f[HIGH].p99, 1,
                  "ms");
    ct_result_int(run, "high_waited_bulkhead", "high requests that found no permit",
                  r->ph[ISOLATED].f[HIGH].waited, NULL);
    ct_result_int(run, "samples_dropped", "latencies not kept (too many)", r->dropped, NULL);
}

static void report_checks(struct ct_run *run, const struct bh_result *r, const struct config *cfg)
{
    for (int ph = 0; ph < NPHASES; ph++) {
        const struct phase_result *p = &r->ph[ph];
        int over = 0, left = 0;
        long entered = 0, done = p->f[HIGH].requests + p->f[LOW].requests;
        for (int cls = HIGH; cls <= LOW; cls++) {
            if (ph == SHARED && cls == LOW)
                break;              /* one compartment for both */
            over += p->st[cls].max_in_use > p->st[cls].limit;
            left += p->st[cls].in_use;
            entered += (long)p->st[cls].entered;
        }
        ct_check(run, over == 0 && left == 0 && entered == done,
                 "%s: %ld entered = %ld done; never over a limit", phase_name[ph], entered, done);
    }
    const struct phase_result *iso = &r->ph[ISOLATED];
    if (cfg->high <= cfg->high_permits)
        ct_check(run, iso->f[HIGH].waited == 0 && iso->f[HIGH].requests > 0,
                 "bulkhead: 0 of %ld high requests found no permit (%ld did)",
                 iso->f[HIGH].requests, iso->f[HIGH].waited);
    if (cfg->low > cfg->low_permits)
        ct_check(run, iso->f[LOW].waited > 0 && iso->st[LOW].max_in_use == cfg->low_permits,
                 "bulkhead: the batch jobs filled their %d permits (%ld found them full)",
                 cfg->low_permits, iso->f[LOW].waited);
}

static void report_takeaway(struct ct_run *run, const struct bh_result *r, const struct config *cfg)
{
    const struct class_figures *sh = &r->ph[SHARED].f[HIGH], *iso = &r->ph[ISOLATED].f[HIGH];
    ct_takeaway(run,
                "With one shared pool, %ld of %ld high-priority requests found no permit "
                "free, and their p99 latency was %.1f ms. With a compartment of their own, "
                "%ld of %ld did, and the p99 was %.1f ms, against %.0f ms of work per "
                "request.",
                sh->waited, sh->requests, sh->p99, iso->waited, iso->requests, iso->p99,
                cfg->high_work);
    if (cfg->high > cfg->high_permits)
        ct_takeaway(run, "With %d high threads for %d high permit%s, requests can queue "
                    "behind each other (never behind a batch job): size a compartment for "
                    "its own peak.", cfg->high, cfg->high_permits,
                    cfg->high_permits == 1 ? "" : "s");
    double shared = r->ph[SHARED].low_per_s, boxed = r->ph[ISOLATED].low_per_s;
    if (cfg->low > cfg->low_permits && boxed < shared)
        ct_takeaway(run,
                    "The price: batch jobs ran at %.0f jobs/s sharing the pool and %.0f jobs/s "
                    "boxed into %d permit%s, since they may no longer borrow the permits high "
                    "priority leaves idle. Single runs on a shared machine: repeat for a "
                    "steadier picture.",
                    shared, boxed, cfg->low_permits, cfg->low_permits == 1 ? "" : "s");
    else if (cfg->low <= cfg->low_permits)
        ct_takeaway(run,
                    "Batch jobs ran at %.0f jobs/s sharing the pool and %.0f jobs/s in their "
                    "compartment: with %d batch thread%s for %d permit%s they never needed "
                    "more, so isolation cost them nothing and any gap is noise.",
                    shared, boxed, cfg->low, cfg->low == 1 ? "" : "s", cfg->low_permits,
                    cfg->low_permits == 1 ? "" : "s");
    else
        ct_takeaway(run,
                    "Batch jobs ran at %.0f jobs/s sharing the pool and %.0f jobs/s boxed "
                    "into %d permit%s: in this run isolation cost them nothing. Single runs "
                    "on a shared machine: repeat for a steadier picture.",
                    shared, boxed, cfg->low_permits, cfg->low_permits == 1 ? "" : "s");
}

/* ---- the run ----------------------------------------------------------- */

static int setup(struct shop *s)
{
    const struct config *c = &s->cfg;
    for (int ph = 0; ph < NPHASES; ph++)
        ct_bulkhead_init(&s->bh[ph]);
    int shared = ct_bulkhead_add(&s->bh[SHARED], "shared", c->high_permits + c->low_permits);
    s->comp[SHARED][HIGH] = s->comp[SHARED][LOW] = shared;
    s->comp[ISOLATED][HIGH] = ct_bulkhead_add(&s->bh[ISOLATED], "high", c->high_permits);
    s->comp[ISOLATED][LOW] = ct_bulkhead_add(&s->bh[ISOLATED], "low", c->low_permits);
    struct ct_event *ev[2 * NPHASES] = { &s->go[SHARED], &s->go[ISOLATED], &s->done[SHARED],
                                         &s->done[ISOLATED] };
    int rc = 0, k = 0;
    while (k < 2 * NPHASES && (rc = ct_event_init(ev[k])) == 0)
        k++;
    if (rc)
        while (k-- > 0)
            ct_event_destroy(ev[k]);
    return rc;
}

static void teardown(struct shop *s)
{
    for (int ph = 0; ph < NPHASES; ph++) {
        ct_event_destroy(&s->go[ph]);
        ct_event_destroy(&s->done[ph]);
        ct_bulkhead_destroy(&s->bh[ph]);
    }
}

static int start_workers(struct shop *s, struct worker *ws, int nw, int *started)
{
    for (int i = 0; i < nw; i++) {
        struct worker *w = &ws[i];
        w->s = s;
        w->cls = i < s->cfg.high ? HIGH : LOW;
        w->id = w->cls == HIGH ? i + 1 : i + 1 - s->cfg.high;
        for (int ph = 0; ph < NPHASES && w->cls == HIGH; ph++) {
            w->t[ph].total_ms = malloc(MAX_SAMPLES * sizeof(double));
            w->t[ph].wait_ms = malloc(MAX_SAMPLES * sizeof(double));
            if (!w->t[ph].total_ms || !w->t[ph].wait_ms)
                return -ENOMEM;
        }
        int rc = ct_thread_start(s->run, &w->thread, worker_main, w, "%s-%d",
                                 w->cls == HIGH ? "high" : "low", w->id);
        if (rc)
            return rc;
        (*started)++;
    }
    return 0;
}

/* Run the phases one after the other; false if cancelled. */
static bool run_phases(struct shop *s, int nw)
{
    struct ct_run *run = s->run;
    const struct config *c = &s->cfg;
    for (int ph = 0; ph < NPHASES; ph++) {
        if (ph == SHARED)
            ct_section(run, "one pool of %d permits for everyone",
                       c->high_permits + c->low_permits);
        else
            ct_section(run, "bulkhead: %d permits for high, %d for low", c->high_permits,
                       c->low_permits);
        atomic_store(&s->running, nw);
        s->end_ms[ph] = ct_elapsed_ms(run) + c->phase_ms * ct_scale(run);
        ct_point(run, ph == SHARED ? 'S' : 'B');
        ct_event_set(&s->go[ph]);
        if (!ct_wait(run, &s->done[ph]))
            return false;
    }
    return true;
}

static int bulkhead_run(struct ct_run *run)
{
    struct shop *s = calloc(1, sizeof *s);
    struct worker *ws = calloc(MAX_HIGH + MAX_LOW, sizeof *ws);
    struct bh_result *r = calloc(1, sizeof *r);
    int rc = s && ws && r ? 0 : -ENOMEM, started = 0;
    if (rc == 0) {
        s->run = run;
        s->cfg = (struct config){
            .high = (int)ct_param_int(run, "high"), .low = (int)ct_param_int(run, "low"),
            .high_permits = (int)ct_param_int(run, "high-permits"),
            .low_permits = (int)ct_param_int(run, "low-permits"),
            .high_work = ct_param_num(run, "high-work"), .low_work = ct_param_num(run, "low-work"),
            .high_gap = ct_param_num(run, "high-gap"),
            .low_gap = ct_param_num(run, "low-gap"), .phase_ms = ct_param_num(run, "phase"),
        };
        rc = setup(s);
    }
    if (rc == 0) {
        ct_legend(run, CT_WAIT, "waiting for a permit");
        ct_legend(run, CT_HOLD, "holding a permit");
        ct_point_legend(run, 'S', "shared pool starts");
        ct_point_legend(run, 'B', "bulkhead starts");
        int nw = s->cfg.high + s->cfg.low;
        rc = start_workers(s, ws, nw, &started);
        if (rc == 0 && run_phases(s, nw)) {
            ct_say(run, "both phases done");
        } else {
            for (int ph = 0; ph < NPHASES; ph++)
                ct_event_set(&s->go[ph]);       /* let every thread out */
        }
        for (int i = 0; i < started; i++)
            ct_thread_join(&ws[i].thread, NULL);
        if (rc == 0 && !ct_cancelled(run) && (rc = fill_result(s, ws, nw, r)) == 0) {
            report_tables(run, r);
            report_checks(run, r, &s->cfg);
            report_takeaway(run, r, &s->cfg);
        }
        teardown(s);
    }
    for (int i = 0; ws && i < MAX_HIGH + MAX_LOW; i++)
        for (int ph = 0; ph < NPHASES; ph++) {
            free(ws[i].t[ph].total_ms);
            free(ws[i].t[ph].wait_ms);
        }
    free(s), free(ws), free(r);
    return rc;
}

static const struct ct_param_spec bulkhead_params[] = {
    { "high", CT_PARAM_INT, "2", 1, MAX_HIGH, NULL, "threads sending high-priority requests" },
    { "low", CT_PARAM_INT, "6", 1, MAX_LOW, NULL, "threads running low-priority batch jobs" },
    { "high-permits", CT_PARAM_INT, "2", 1, 64, NULL, "permits of the high compartment" },
    { "low-permits", CT_PARAM_INT, "2", 1, 64, NULL, "permits of the low compartment" },
    { "high-work", CT_PARAM_NUM, "5", 0, 10000, NULL, "ms one request holds its permit" },
    { "low-work", CT_PARAM_NUM, "40", 0, 10000, NULL, "ms one batch job holds its permit" },
    { "high-gap", CT_PARAM_NUM, "5", 0, 10000, NULL, "ms between a thread's requests" },
    { "low-gap", CT_PARAM_NUM, "2", 0, 10000, NULL, "ms between a thread's batch jobs" },
    { "phase", CT_PARAM_NUM, "700", 10, 600000, NULL, "ms each phase lasts" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_bulkhead = {
    .name = "bulkhead",
    .chapter = 10,
    .title = "A bulkhead keeps a flood of batch jobs from starving requests",
    .summary = "Separate permit pools per priority: low-priority floods never delay high",
    .intro = "Six threads flood the system with slow batch jobs while two send short, "
             "urgent requests. First everyone shares one pool of permits, and requests "
             "queue behind the batch jobs; then a bulkhead gives each priority a pool of its "
             "own, and the flood stays in its compartment.",
    .params = bulkhead_params,
    .smoke = "phase=200 low-work=20 high-work=2 high-gap=2",
    .run = bulkhead_run,
};
