/* circuit-breaker.c - demo `circuit-breaker`: fail fast while a service is
 * down, probe it now and then, and close again once it answers.
 *
 * Shows: a simulated downstream service answers in `work` ms, until it goes
 * down for `down-for` ms; a call to it then hangs until the caller's
 * `timeout` and fails.  Callers call it through one circuit breaker
 * (breaker.h): after `threshold` failures in a row the breaker opens and
 * refuses calls at once; after `open` ms it lets one probe through
 * (half-open), which closes it if the service answers and opens it again
 * if not.  As many callers call the same service with no breaker, for
 * comparison.
 * Watch for: the timeline's three breaker lanes against the service's
 * outage, the calls failed fast (microseconds each, against a timeout's
 * hundred milliseconds), and the caller time each group lost.
 * Lesson: performance-patterns (chapter 10).
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "demo.h"
#include "breaker.h"
#include "clock.h"

#define MAX_CALLERS 16
#define MAX_CHANGES 256

static const enum ct_state state_glyph[] = {
    [CT_BREAKER_CLOSED] = CT_RUN,
    [CT_BREAKER_OPEN] = CT_HOLD,
    [CT_BREAKER_HALF_OPEN] = CT_WAIT,
};

struct config {
    int callers, threshold;
    bool compare;
    /* as given (ct_sleep_ms scales them) */
    double open_ms, timeout_ms, work_ms, gap_ms, down_at_ms, down_ms, duration_ms;
};

/* One change of the breaker's state, as the hook saw it. */
struct change {
    double at_ms;
    enum ct_breaker_state from, to;
    uint64_t rejected;          /* calls refused so far */
};

struct plant {
    struct ct_run *run;
    struct config cfg;
    struct ct_breaker breaker;
    int lane[3];                /* per breaker state */
    int service_lane;
    atomic_bool down;           /* set and cleared by main, on its lane */
    double recovered_ms;        /* when main brought it back */
    atomic_int probes_in, max_probes_in;    /* probes inside the service */
    atomic_llong received[2];   /* calls the service saw: [with breaker] */
    int nchanges;               /* written by the hook, mutex held */
    struct change changes[MAX_CHANGES];
};

struct caller {
    struct plant *p;
    bool guarded;               /* goes through the breaker */
    struct ct_thread thread;
    long calls, ok, failed, fast;
    int64_t failed_ns, fast_ns, ok_ns;
};

/* Set by the hook on the thread whose call moved the breaker. */
static _Thread_local int tl_change = -1;

/* Runs with the breaker's mutex held: log, mark the lanes, tell the
 * calling thread.  No printing here: that waits until the lock is free. */
static void on_change(void *arg, enum ct_breaker_state from, enum ct_breaker_state to,
                      int64_t now_ns)
{
    struct plant *p = arg;
    (void)now_ns;
    ct_mark_lane(p->run, p->lane[from], CT_IDLE);
    ct_mark_lane(p->run, p->lane[to], state_glyph[to]);
    if (p->nchanges == MAX_CHANGES)
        return;
    p->changes[p->nchanges] = (struct change){ .at_ms = ct_elapsed_ms(p->run), .from = from,
                                               .to = to, .rejected = p->breaker.st.rejected };
    tl_change = p->nchanges++;
}

/* The downstream service: up, it answers in work ms; down, the call hangs
 * until the caller's timeout.  0, -ETIMEDOUT, or -ECANCELED. */
static int call_service(struct plant *p, bool guarded, bool probe)
{
    bool down = atomic_load(&p->down);
    atomic_fetch_add(&p->received[guarded], 1);
    if (probe) {
        int n = atomic_fetch_add(&p->probes_in, 1) + 1;
        int m = atomic_load(&p->max_probes_in);
        while (n > m && !atomic_compare_exchange_weak(&p->max_probes_in, &m, n))
            ;
    }
    bool whole = ct_sleep_ms(p->run, down ? p->cfg.timeout_ms : p->cfg.work_ms);
    if (probe)
        atomic_fetch_sub(&p->probes_in, 1);
    return !whole ? -ECANCELED : down ? -ETIMEDOUT : 0;
}

/* Say what this caller's call did to the breaker, if anything. */
static void tell_change(struct plant *p, int64_t call_ns)
{
    if (tl_change < 0)
        return;
    const struct change *c = &p->changes[tl_change];
    const struct change *prev = tl_change > 0 ? c - 1 : NULL;
    tl_change = -1;
    if (c->to == CT_BREAKER_HALF_OPEN)
        ct_say(p->run, "half-open: %llu failed fast; this call probes",
               (unsigned long long)(c->rejected - (prev ? prev->rejected : 0)));
    else if (c->to == CT_BREAKER_CLOSED)
        ct_say(p->run, "probe answered in %.0f ms: closed", (double)call_ns / 1e6);
    else if (c->from == CT_BREAKER_HALF_OPEN)
        ct_say(p->run, "probe failed: open for %.0f ms more", p->cfg.open_ms);
    else
        ct_say(p->run, "tripped: open, failing fast for %.0f ms", p->cfg.open_ms);
}

/* One call through the breaker (or straight, for the comparison group). */
static bool one_call(struct caller *c)
{
    struct plant *p = c->p;
    int64_t t0 = ct_clock_ns();
    struct ct_breaker_ticket t = { 0, CT_BREAKER_CLOSED };
    if (c->guarded && ct_breaker_enter(&p->breaker, t0, &t) != 0) {
        c->fast++;
        c->fast_ns += ct_clock_ns() - t0;
        tell_change(p, 0);
        return true;
    }
    c->calls++;
    tell_change(p, 0);
    int rc = call_service(p, c->guarded, t.state == CT_BREAKER_HALF_OPEN);
    int64_t took = ct_clock_ns() - t0;
    if (rc == -ECANCELED) {
        c->calls--;             /* neither answered nor failed: not counted */
        if (c->guarded)
            ct_breaker_abandon(&p->breaker, &t);
        return false;
    }
    if (rc == 0) {
        c->ok++;
        c->ok_ns += took;
        if (c->guarded)
            ct_breaker_success(&p->breaker, &t, ct_clock_ns());
    } else {
        c->failed++;
        c->failed_ns += took;
        if (c->guarded)
            ct_breaker_failure(&p->breaker, &t, ct_clock_ns());
    }
    tell_change(p, took);
    return true;
}

static void *caller_main(void *arg)
{
    struct caller *c = arg;
    struct plant *p = c->p;
    double end_ms = p->cfg.duration_ms * ct_scale(p->run);
    while (ct_elapsed_ms(p->run) < end_ms && one_call(c))
        if (!ct_sleep_ms(p->run, p->cfg.gap_ms))
            break;
    c->calls += c->fast;        /* from here on: every attempt */
    return NULL;
}

/* main's part: play the service's outage on its lane, within the time
 * the callers call (an outage past the end is cut short). */
static void run_outage(struct plant *p)
{
    struct ct_run *run = p->run;
    const struct config *cfg = &p->cfg;
    double end = cfg->duration_ms, up_at = cfg->down_at_ms + cfg->down_ms;
    if (cfg->down_at_ms >= end) {
        ct_sleep_ms(run, end);
        return;
    }
    if (!ct_sleep_ms(run, cfg->down_at_ms))
        return;
    atomic_store(&p->down, true);
    ct_mark_lane(run, p->service_lane, CT_SLEEP);
    ct_say(run, "service down: calls hang for the %.0f ms timeout", cfg->timeout_ms);
    if (!ct_sleep_ms(run, (up_at < end ? up_at : end) - cfg->down_at_ms) || up_at >= end)
        return;
    atomic_store(&p->down, false);
    ct_mark_lane(run, p->service_lane, CT_IDLE);
    p->recovered_ms = ct_elapsed_ms(run);
    ct_say(run, "service back up");
}

/* ---- the result and the report ----------------------------------------- */

struct group {
    long calls, ok, failed, fast, received;
    double failed_ms, fast_us, ok_ms;      /* means per call */
    double lost_ms;                        /* per caller, in failing calls */
};

struct cb_result {
    struct group g[2];          /* [0] no breaker, [1] through it */
    struct ct_breaker_stats st;
    enum ct_breaker_state final;
    int nchanges, max_probes_in, bad_moves;
    bool trip_expected, close_expected;
    double recovered_ms, closed_ms;        /* service back; breaker closed */
    double saved_ms;            /* per caller: no breaker's loss minus ours */
};

static void sum_group(const struct caller *cs, int n, long received, struct group *g)
{
    int64_t failed_ns = 0, fast_ns = 0, ok_ns = 0;
    for (int i = 0; i < n; i++) {
        g->calls += cs[i].calls;
        g->ok += cs[i].ok;
        g->failed += cs[i].failed;
        g->fast += cs[i].fast;
        failed_ns += cs[i].failed_ns;
        fast_ns += cs[i].fast_ns;
        ok_ns += cs[i].ok_ns;
    }
    g->received = received;
    g->failed_ms = g->failed ? (double)failed_ns / 1e6 / (double)g->failed : 0;
    g->fast_us = g->fast ? (double)fast_ns / 1e3 / (double)g->fast : 0;
    g->ok_ms = g->ok ? (double)ok_ns / 1e6 / (double)g->ok : 0;
    g->lost_ms = n ? (double)failed_ns / 1e6 / n : 0;
}

static void fill_result(struct plant *p, struct caller *cs, struct cb_result *r)
{
    const struct config *cfg = &p->cfg;
    int n = cfg->callers;
    sum_group(cs, n, atomic_load(&p->received[1]), &r->g[1]);
    if (cfg->compare)
        sum_group(cs + n, n, atomic_load(&p->received[0]), &r->g[0]);
    ct_breaker_get_stats(&p->breaker, &r->st);
    r->final = ct_breaker_state(&p->breaker);
    r->nchanges = p->nchanges;
    r->max_probes_in = atomic_load(&p->max_probes_in);
    enum ct_breaker_state at = CT_BREAKER_CLOSED;
    for (int i = 0; i < p->nchanges; i++) {
        const struct change *c = &p->changes[i];
        bool allowed = c->from == CT_BREAKER_CLOSED ? c->to == CT_BREAKER_OPEN
                       : c->from == CT_BREAKER_OPEN ? c->to == CT_BREAKER_HALF_OPEN
                                                    : c->to != CT_BREAKER_HALF_OPEN;
        r->bad_moves += c->from != at || !allowed;
        at = c->to;
        if (c->to == CT_BREAKER_CLOSED)
            r->closed_ms = c->at_ms;
    }
    /* threshold failures need this many rounds of timeouts, one per caller,
     * then one more call to meet the open breaker; half as much again
     * for a busy machine */
    int rounds = (cfg->threshold + n - 1) / n;
    double outage = fmin(cfg->down_ms, cfg->duration_ms - cfg->down_at_ms);
    double need = rounds * (cfg->timeout_ms + cfg->gap_ms) + cfg->timeout_ms + cfg->gap_ms;
    r->trip_expected = outage >= 1.5 * need;
    r->recovered_ms = p->recovered_ms;
    /* after the recovery: at most one open time, one timeout, one probe */
    double settle = cfg->open_ms + 2 * cfg->timeout_ms + cfg->work_ms + 2 * cfg->gap_ms;
    r->close_expected = r->st.trips > 0 &&
                        cfg->duration_ms >= cfg->down_at_ms + cfg->down_ms + settle;
    /* measured, not estimated: what each group lost to failing calls */
    r->saved_ms = cfg->compare ? r->g[0].lost_ms - r->g[1].lost_ms : 0;
    if (fabs(r->saved_ms) < 0.5)
        r->saved_ms = 0;        /* no "-0 ms" */
}

static void report_table(struct ct_run *run, const struct cb_result *r, bool compare)
{
    static const char *const cols[] = {
        "group", "calls", "ok", "failed", "fast|failed fast", "failed_ms|ms/failure",
        "lost_ms|lost ms/caller", NULL,
    };
    struct ct_table *t = ct_table_new(run, "callers", "calls by group", cols);
    for (int i = compare ? 0 : 1; i < 2; i++) {
        const struct group *g = &r->g[i];
        ct_table_row(t, CT_TEXT(i ? "breaker" : "no breaker"), CT_INT(g->calls), CT_INT(g->ok),
                     CT_INT(g->failed), CT_INT(g->fast), CT_NUM(g->failed_ms, 1),
                     CT_NUM(g->lost_ms, 0));
    }
    ct_result_int(run, "trips", "times it tripped (closed -> open)", (long long)r->st.trips,
                  NULL);
    ct_result_int(run, "probes", "probes sent (open -> half-open)", (long long)r->st.probes,
                  NULL);
    ct_result_int(run, "reopened", "probes that failed (reopened)", (long long)r->st.reopened,
                  NULL);
    ct_result_int(run, "closed", "probes that closed it", (long long)r->st.closed, NULL);
    ct_result_int(run, "failed_fast", "calls failed fast", r->g[1].fast, NULL);
    ct_result_num(run, "fast_us", "time per fast failure", r->g[1].fast_us, 1, "us");
    ct_result_num(run, "failure_ms", "time per real failure", r->g[1].failed_ms, 1, "ms");
    if (compare)
        ct_result_num(run, "saved_ms", "time saved per caller", r->saved_ms, 0, "ms");
    ct_result_int(run, "stale", "outcomes from an earlier stint", (long long)r->st.stale, NULL);
    ct_result_text(run, "final_state", "state at the end", ct_breaker_state_name(r->final));
}

static void report_checks(struct ct_run *run, const struct cb_result *r, const struct config *cfg)
{
    for (int i = cfg->compare ? 0 : 1; i < 2; i++) {
        const struct group *g = &r->g[i];
        ct_check(run, g->calls == g->ok + g->failed + g->fast && g->received == g->ok + g->failed,
                 "%s: %ld calls = %ld ok + %ld failed + %ld fast; service saw %ld",
                 i ? "breaker" : "no breaker", g->calls, g->ok, g->failed, g->fast, g->received);
    }
    ct_check(run, r->bad_moves == 0 && r->nchanges < MAX_CHANGES,
             "%d state change%s, each one of the three allowed moves", r->nchanges,
             r->nchanges == 1 ? "" : "s");
    ct_check(run, r->max_probes_in <= 1 && r->st.probes == r->st.reopened + r->st.closed +
                  (r->final == CT_BREAKER_HALF_OPEN),
             "one probe at a time (at most %d inside); each probe settled", r->max_probes_in);
    if (r->trip_expected)
        ct_check(run, r->st.trips > 0 && r->g[1].fast > 0,
                 "the outage tripped it (%llu trip%s) and %ld calls failed fast",
                 (unsigned long long)r->st.trips, r->st.trips == 1 ? "" : "s", r->g[1].fast);
    if (r->close_expected)
        ct_check(run, r->final == CT_BREAKER_CLOSED,
                 "closed again after the service came back (%s at the end)",
                 ct_breaker_state_name(r->final));
}

/* Why it never tripped, and a change of parameters, in range, that would. */
static void report_no_trip(struct ct_run *run, const struct cb_result *r,
                           const struct config *cfg)
{
    const struct group *b = &r->g[1];
    char hint[160];
    if (cfg->down_at_ms >= cfg->duration_ms)
        snprintf(hint, sizeof hint, "The outage was due at %.0f ms, after the calls end at "
                 "%.0f ms: lower down-at=.", cfg->down_at_ms, cfg->duration_ms);
    else if (cfg->down_ms == 0)
        snprintf(hint, sizeof hint, "down-for=0: give the service an outage.");
    else if (cfg->down_at_ms + cfg->down_ms >= cfg->duration_ms)
        snprintf(hint, sizeof hint, "The calls ended during the outage: lengthen "
                 "duration=%s.", cfg->threshold > 1 ? " or lower threshold=" : "");
    else
        snprintf(hint, sizeof hint, "Lengthen down-for=%s.",
                 cfg->threshold > 1 ? " or lower threshold=" : "");
    if (b->failed == 0)
        ct_takeaway(run, "The breaker never tripped: no call through it met the service "
                    "down. %s", hint);
    else
        ct_takeaway(run, "The breaker never tripped: the outage gave it %ld failure%s, "
                    "never %d in a row. %s", b->failed, b->failed == 1 ? "" : "s",
                    cfg->threshold, hint);
}

static void report_takeaway(struct ct_run *run, const struct cb_result *r,
                            const struct config *cfg)
{
    const struct group *b = &r->g[1], *nb = &r->g[0];
    if (r->st.trips == 0) {
        report_no_trip(run, r, cfg);
        return;
    }
    if (b->fast == 0) {
        ct_takeaway(run, "The breaker tripped, but the callers stopped before any call "
                    "met it open: lengthen duration= to see it fail fast.");
        return;
    }
    ct_takeaway(run,
                "While the breaker was open, %ld calls failed fast, in %.1f us each, where a "
                "call that reached the dead service took %.0f ms to fail.",
                b->fast, b->fast_us, b->failed_ms);
    if (!cfg->compare)
        ct_takeaway(run, "Run it with compare=true to measure the time that saved.");
    else if (r->saved_ms > 0 && b->failed < nb->failed)
        ct_takeaway(run,
                    "Callers without a breaker lost %.0f ms each to failing calls; callers "
                    "with it lost %.0f ms (the failures it took to trip%s): %.0f ms saved per "
                    "caller. The dead service got %ld failing calls from them, against %ld "
                    "from the others.",
                    nb->lost_ms, b->lost_ms,
                    r->st.reopened ? ", and the probes that found the service still down" : "",
                    r->saved_ms, b->failed, nb->failed);
    else
        ct_takeaway(run,
                    "Callers without a breaker lost %.0f ms each to failing calls, and "
                    "callers with it %.0f ms: no time saved here. The dead service got %ld "
                    "failing calls from them, against %ld from the others.",
                    nb->lost_ms, b->lost_ms, b->failed, nb->failed);
    if (r->final == CT_BREAKER_CLOSED && r->st.closed > 0)
        ct_takeaway(run,
                    "%llu probe%s went out; the service came back at %.0f ms and the "
                    "breaker closed at %.0f ms. Probing sooner recovers sooner but sends "
                    "more calls to a service that may still be down: open= is that trade.",
                    (unsigned long long)r->st.probes, r->st.probes == 1 ? "" : "s",
                    r->recovered_ms, r->closed_ms);
}

/* ---- the run ----------------------------------------------------------- */

static int start_callers(struct plant *p, struct caller *cs, int n, int *started)
{
    for (int i = 0; i < n; i++) {
        bool guarded = i < p->cfg.callers;
        cs[i] = (struct caller){ .p = p, .guarded = guarded };
        int id = guarded ? i + 1 : i + 1 - p->cfg.callers;
        int rc = ct_thread_start(p->run, &cs[i].thread, caller_main, &cs[i], "%s-%d",
                                 guarded ? "caller" : "direct", id);
        if (rc)
            return rc;
        (*started)++;
    }
    return 0;
}

static void setup_lanes(struct ct_run *run, struct plant *p)
{
    p->service_lane = ct_lane(run, "service");
    p->lane[CT_BREAKER_CLOSED] = ct_lane(run, "closed");
    p->lane[CT_BREAKER_OPEN] = ct_lane(run, "open");
    p->lane[CT_BREAKER_HALF_OPEN] = ct_lane(run, "half-open");
    ct_legend(run, CT_RUN, "closed: calls go through");
    ct_legend(run, CT_HOLD, "open: calls fail fast");
    ct_legend(run, CT_WAIT, "half-open: a probe is out");
    ct_legend(run, CT_SLEEP, "service down");
    ct_mark_lane(run, p->service_lane, CT_IDLE);
    ct_mark_lane(run, p->lane[CT_BREAKER_CLOSED], CT_RUN);
}

static int breaker_run(struct ct_run *run)
{
    struct plant *p = calloc(1, sizeof *p);
    struct caller *cs = calloc(2 * MAX_CALLERS, sizeof *cs);
    struct cb_result *r = calloc(1, sizeof *r);
    if (!p || !cs || !r) {
        free(p), free(cs), free(r);
        return -ENOMEM;
    }
    double s = ct_scale(run);
    p->run = run;
    atomic_init(&p->down, false);
    p->cfg = (struct config){
        .callers = (int)ct_param_int(run, "callers"),
        .threshold = (int)ct_param_int(run, "threshold"),
        .compare = ct_param_bool(run, "compare"),
        .open_ms = ct_param_num(run, "open"), .timeout_ms = ct_param_num(run, "timeout"),
        .work_ms = ct_param_num(run, "work"), .gap_ms = ct_param_num(run, "gap"),
        .down_at_ms = ct_param_num(run, "down-at"), .down_ms = ct_param_num(run, "down-for"),
        .duration_ms = ct_param_num(run, "duration"),
    };
    int rc = ct_breaker_init(&p->breaker, p->cfg.threshold,
                             (int64_t)(p->cfg.open_ms * s * 1e6));
    if (rc == 0) {
        setup_lanes(run, p);
        ct_breaker_on_change(&p->breaker, on_change, p);
        int n = p->cfg.callers * (p->cfg.compare ? 2 : 1), started = 0;
        rc = start_callers(p, cs, n, &started);
        if (rc == 0)
            run_outage(p);
        for (int i = 0; i < started; i++)
            ct_thread_join(&cs[i].thread, NULL);
        if (rc == 0 && !ct_cancelled(run)) {
            fill_result(p, cs, r);
            report_table(run, r, p->cfg.compare);
            report_checks(run, r, &p->cfg);
            report_takeaway(run, r, &p->cfg);
        }
        ct_breaker_destroy(&p->breaker);
    }
    free(p), free(cs), free(r);
    return rc;
}

static const struct ct_param_spec breaker_params[] = {
    { "callers", CT_PARAM_INT, "3", 1, MAX_CALLERS, NULL, "callers through the breaker" },
    { "threshold", CT_PARAM_INT, "5", 1, 1000, NULL, "failures in a row that trip it" },
    { "open", CT_PARAM_NUM, "250", 0, 60000, NULL, "ms it stays open before a probe" },
    { "timeout", CT_PARAM_NUM, "100", 1, 60000, NULL,
      "ms a call to the dead service waits before it fails" },
    { "work", CT_PARAM_NUM, "10", 0, 60000, NULL, "ms a healthy call takes" },
    { "gap", CT_PARAM_NUM, "20", 0, 60000, NULL, "ms each caller pauses between calls" },
    { "down-at", CT_PARAM_NUM, "300", 0, 600000, NULL, "ms into the run the service dies" },
    { "down-for", CT_PARAM_NUM, "900", 0, 600000, NULL, "ms the service stays down" },
    { "duration", CT_PARAM_NUM, "1800", 1, 600000, NULL, "ms the callers keep calling" },
    { "compare", CT_PARAM_BOOL, "true", 0, 0, NULL,
      "also run as many callers with no breaker" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_circuit_breaker = {
    .name = "circuit-breaker",
    .chapter = 10,
    .title = "A circuit breaker fails fast while a service is down",
    .summary = "Failures trip the breaker; calls fail fast; a probe closes it again",
    .intro = "Three callers call a service that dies for a while; each call to it then hangs "
             "until a timeout. A circuit breaker counts failures in a row, trips open and "
             "refuses calls at once, then lets one probe through now and then until the "
             "service answers. Three more callers without a breaker show what it saved.",
    .params = breaker_params,
    .smoke = "duration=600 down-at=100 down-for=250 open=80 timeout=30 work=5 gap=5",
    .run = breaker_run,
};
