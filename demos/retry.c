/* retry.c - demo `retry`: errors in concurrent code.
 *
 * Shows: ten operations run as tasks in a join set, each retrying its
 * unreliable step: every attempt has a deadline (a timeout future that
 * cancels it), a transient failure (a timeout or a network error) is
 * retried after an exponential backoff with jitter, up to a number of
 * attempts, and invalid data is reported at once, never retried.  What
 * each attempt does is drawn from a seeded generator, so a run can be
 * replayed exactly with its seed.  Every outcome is aggregated: succeeded
 * first time, after N retries, gave up, not retryable.
 * Watch for: the timeouts cutting hung attempts off; invalid data failing
 * after one attempt; the backoff delays growing; and how close together
 * the retries start (try jitter=off).
 * Lesson: errors-and-retries (chapter 9).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "clock.h"
#include "combinators.h"
#include "exec.h"
#include "joinset.h"
#include "tasks.h"
#include "timer.h"

#define MAX_OPS 64
#define MAX_ATTEMPTS 8
#define BUNCH_MS 5.0            /* retries starting this close count as together */

/* What one attempt does. */
enum step { STEP_OK, STEP_NETWORK, STEP_HANG, STEP_INVALID };

static const char step_glyph[] = { '*', 'N', 'T', 'I' };

/* How an operation ended. */
enum outcome { OUT_OK, OUT_GAVE_UP, OUT_NOT_RETRYABLE, OUT_NONE };

struct config {
    struct ct_run *run;
    int ops, attempts;
    unsigned long long seed;
    double invalid_pct, timeout_pct, network_pct;
    double work_ms, timeout_ms, base_ms, cap_ms;
    bool jitter;
    int lanes[MAX_OPS];
};

/* One operation's own account. */
struct op_record {
    int attempts;
    enum step steps[MAX_ATTEMPTS];  /* what each attempt met */
    enum outcome outcome;
    double backoff_ms;              /* slept between attempts, planned */
    double retry_at_ms[MAX_ATTEMPTS];   /* when each retry began */
    int retries_started;
    int cleanups;
};

/* ---- the seeded draws ------------------------------------------------------ */

/* splitmix64: a good 64-bit mix, so nearby inputs give unrelated outputs. */
static unsigned long long mix(unsigned long long x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* A number in [0, 1) that depends only on the seed, the op, the attempt
 * and what it is for: the same run, replayed, draws the same numbers. */
static double draw(const struct config *cfg, int op, int attempt, int what)
{
    unsigned long long h = mix(cfg->seed ^ mix((unsigned long long)op * 1000003u +
                                               (unsigned long long)attempt * 131u +
                                               (unsigned long long)what));
    return (double)(h >> 11) / 9007199254740992.0;
}

/* What attempt `attempt` (from 1) of `op` does. */
static enum step step_for(const struct config *cfg, int op, int attempt)
{
    if (draw(cfg, op, 0, 'I') * 100 < cfg->invalid_pct)
        return STEP_INVALID;        /* the data itself is bad: every attempt */
    double r = draw(cfg, op, attempt, 'A') * 100;
    if (r < cfg->timeout_pct)
        return STEP_HANG;
    if (r < cfg->timeout_pct + cfg->network_pct)
        return STEP_NETWORK;
    return STEP_OK;
}

/* The wait before retry number `attempt` (after attempt `attempt` failed):
 * base x 2^(attempt-1), capped, then with jitter a uniform draw from the
 * upper half of that (half of it fixed, half random). */
static double backoff_ms(const struct config *cfg, int op, int attempt)
{
    double d = cfg->base_ms;
    for (int i = 1; i < attempt && d < cfg->cap_ms; i++)
        d *= 2;
    if (d > cfg->cap_ms)
        d = cfg->cap_ms;
    if (cfg->jitter)
        d = d / 2 + d / 2 * draw(cfg, op, attempt, 'J');
    return d;
}

/* ---- one attempt: the unreliable step -------------------------------------- */

struct attempt {
    struct ct_future base;
    enum step step;
    struct ct_sleep nap;
};

static enum ct_poll attempt_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct attempt *a = (struct attempt *)f;
    if (ct_future_poll(&a->nap.base, cx) == CT_PENDING)
        return CT_PENDING;
    f->error = a->step == STEP_NETWORK ? -ECONNRESET : a->step == STEP_INVALID ? -EINVAL : 0;
    return CT_READY;
}

static void attempt_drop(struct ct_future *f)
{
    ct_future_drop(&((struct attempt *)f)->nap.base);
}

static const struct ct_future_ops attempt_ops = { "attempt", attempt_poll, attempt_drop };

/* A hung attempt sleeps far past any deadline; the others take `work`. */
static void attempt_init(struct attempt *a, const struct config *cfg, enum step step)
{
    *a = (struct attempt){ .base = { .ops = &attempt_ops }, .step = step };
    double ms = step == STEP_HANG ? cfg->timeout_ms * 20 : cfg->work_ms;
    ct_sleep_init(&a->nap, ct_demo_ns(cfg->run, ms));
}

/* ---- an operation: attempts, deadlines, backoff ----------------------------- */

struct op {
    struct ct_future base;
    int pc, id, lane, k;            /* k: the attempt, from 1 */
    const struct config *cfg;
    struct op_record *rec;
    struct attempt at;
    struct ct_timeout deadline;
    struct ct_sleep pause;
};

static const char *what_failed(enum step s)
{
    return s == STEP_HANG ? "timed out" : s == STEP_NETWORK ? "network error" : "invalid data";
}

/* After attempt k failed with `s`: true if it is worth another attempt. */
static bool retry_after(struct op *o, enum step s)
{
    struct ct_run *run = o->cfg->run;
    if (s == STEP_INVALID) {
        o->rec->outcome = OUT_NOT_RETRYABLE;
        ct_say(run, "op %d: invalid data: not retryable, reported at once", o->id);
        return false;
    }
    if (o->k == o->cfg->attempts) {
        o->rec->outcome = OUT_GAVE_UP;
        ct_say(run, "op %d: attempt %d %s: gave up", o->id, o->k, what_failed(s));
        return false;
    }
    double wait = backoff_ms(o->cfg, o->id, o->k);
    o->rec->backoff_ms += wait;
    ct_say(run, "op %d: attempt %d %s, retry in %.0f ms", o->id, o->k, what_failed(s),
           wait * ct_scale(run));
    ct_sleep_init(&o->pause, ct_demo_ns(run, wait));
    return true;
}

static enum ct_poll op_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct op *o = (struct op *)f;
    struct ct_run *run = o->cfg->run;
    CT_ASYNC_BEGIN(o->pc);
    for (o->k = 1;; o->k++) {
        if (o->k > 1)
            o->rec->retry_at_ms[o->rec->retries_started++] = ct_elapsed_ms(run);
        enum step s = step_for(o->cfg, o->id, o->k);
        attempt_init(&o->at, o->cfg, s);
        ct_timeout_init(&o->deadline, &o->at.base, ct_demo_ns(run, o->cfg->timeout_ms));
        ct_mark_lane(run, o->lane, CT_RUN);
        CT_AWAIT(o->pc, &o->deadline.base, cx);
        ct_mark_lane(run, o->lane, CT_IDLE);
        /* what happened, as the deadline saw it */
        s = o->deadline.base.error == -ETIMEDOUT ? STEP_HANG
            : o->deadline.base.error == -ECONNRESET ? STEP_NETWORK
            : o->deadline.base.error == -EINVAL ? STEP_INVALID : STEP_OK;
        o->rec->steps[o->rec->attempts++] = s;
        ct_point_lane(run, o->lane, step_glyph[s]);
        if (s == STEP_OK) {
            o->rec->outcome = OUT_OK;
            if (o->k > 1)
                ct_say(run, "op %d: ok on attempt %d", o->id, o->k);
            break;
        }
        if (!retry_after(o, s))
            break;
        ct_mark_lane(run, o->lane, CT_SLEEP);
        CT_AWAIT(o->pc, &o->pause.base, cx);
        ct_mark_lane(run, o->lane, CT_IDLE);
    }
    CT_ASYNC_END(o->pc);
    f->value = o->rec->outcome;
    return CT_READY;
}

static void op_drop(struct ct_future *f)
{
    struct op *o = (struct op *)f;
    ct_future_drop(&o->deadline.base);
    ct_future_drop(&o->at.base);
    ct_future_drop(&o->pause.base);
    o->rec->cleanups++;
}

static const struct ct_future_ops op_ops = { "op", op_poll, op_drop };

/* ---- the owner: a join set of operations ------------------------------------ */

struct driver {
    struct ct_future base;
    int pc, handled;
    const struct config *cfg;
    struct op_record *rec;
    struct ct_joinset set;
    bool set_live;
    struct ct_joinset_next next;
    int by_set[OUT_NONE + 1];       /* outcomes as the results reported them */
};

static enum ct_poll driver_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct driver *d = (struct driver *)f;
    CT_ASYNC_BEGIN(d->pc);
    if ((f->error = ct_joinset_init(&d->set, cx->exec)) != 0)
        return CT_READY;
    d->set_live = true;
    for (int i = 0; i < d->cfg->ops; i++) {
        struct op o = { .base = { .ops = &op_ops }, .id = i, .lane = d->cfg->lanes[i],
                        .cfg = d->cfg, .rec = &d->rec[i] };
        if ((f->error = ct_joinset_spawn(&d->set, &o, NULL)) != 0)
            return CT_READY;
    }
    for (;;) {
        ct_joinset_next_init(&d->next, &d->set);
        CT_AWAIT(d->pc, &d->next.base, cx);
        if (d->next.empty)
            break;
        d->handled++;
        bool ok = d->next.status == CT_JOIN_OK && d->next.base.value >= 0 &&
                  d->next.base.value < OUT_NONE;
        d->by_set[ok ? (int)d->next.base.value : OUT_NONE]++;
    }
    d->set_live = false;
    ct_joinset_drop(&d->set, NULL);
    CT_ASYNC_END(d->pc);
    return CT_READY;
}

static void driver_drop(struct ct_future *f)
{
    struct driver *d = (struct driver *)f;
    ct_future_drop(&d->next.base);
    if (d->set_live)
        ct_joinset_drop(&d->set, NULL);
    d->set_live = false;
}

static const struct ct_future_ops driver_ops = { "owner", driver_poll, driver_drop };

/* ---- reporting ---------------------------------------------------------------- */

/* Does the record follow the seed's draws and the retry rules?  A reply
 * can lose a close race with its deadline (a thread preempted between the
 * two looks at the clock): such an attempt is recorded as a timeout though
 * the seed drew another step, and is counted in *races, not as wrong. */
static bool as_prescribed(const struct config *cfg, int op, const struct op_record *r,
                          int *races)
{
    for (int k = 0; k < r->attempts; k++) {
        enum step want = step_for(cfg, op, k + 1), got = r->steps[k];
        if (got != want && got != STEP_HANG)
            return false;
        *races += got != want;
        bool last = k + 1 == r->attempts;
        bool stops = got == STEP_OK || got == STEP_INVALID || k + 1 == cfg->attempts;
        if (stops != last)
            return false;           /* stopped too early, or went on too long */
    }
    return r->attempts > 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The most retries that began within BUNCH_MS of one another. */
static int bunched(const struct config *cfg, const struct op_record *rec)
{
    double t[MAX_OPS * MAX_ATTEMPTS];
    int n = 0, best = 0;
    for (int i = 0; i < cfg->ops; i++)
        for (int k = 0; k < rec[i].retries_started; k++)
            t[n++] = rec[i].retry_at_ms[k];
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    for (int i = 0, j = 0; i < n; i++) {
        while (t[i] - t[j] > BUNCH_MS * ct_scale(cfg->run))
            j++;
        best = i - j + 1 > best ? i - j + 1 : best;
    }
    return best;
}

struct tally {
    int first, retried[MAX_ATTEMPTS], gave_up_timeout, gave_up_network, invalid;
    int attempts, timeouts, network, cleanups, prescribed, invalid_once, invalid_met, over, races;
    double backoff_ms;
};

static void tally_of(const struct config *cfg, const struct op_record *rec, struct tally *t)
{
    memset(t, 0, sizeof *t);
    for (int i = 0; i < cfg->ops; i++) {
        const struct op_record *r = &rec[i];
        enum step last = r->attempts ? r->steps[r->attempts - 1] : STEP_OK;
        if (r->outcome == OUT_OK && r->attempts == 1)
            t->first++;
        else if (r->outcome == OUT_OK)
            t->retried[r->attempts - 1]++;
        else if (r->outcome == OUT_GAVE_UP)
            *(last == STEP_HANG ? &t->gave_up_timeout : &t->gave_up_network) += 1;
        else if (r->outcome == OUT_NOT_RETRYABLE)
            t->invalid++;
        int invalid_seen = 0;
        for (int k = 0; k < r->attempts; k++)
            invalid_seen += r->steps[k] == STEP_INVALID;
        /* invalid data, if met, ended the op at once */
        t->invalid_met += invalid_seen > 0;
        t->invalid_once += invalid_seen == 1 && last == STEP_INVALID &&
                           r->outcome == OUT_NOT_RETRYABLE;
        for (int k = 0; k < r->attempts; k++) {
            t->timeouts += r->steps[k] == STEP_HANG;
            t->network += r->steps[k] == STEP_NETWORK;
        }
        t->attempts += r->attempts;
        t->over += r->attempts > cfg->attempts;
        t->cleanups += r->cleanups == 1;
        t->prescribed += as_prescribed(cfg, i, r, &t->races);
        t->backoff_ms += r->backoff_ms;
    }
}

static void report_ops(const struct config *cfg, const struct op_record *rec)
{
    static const char *const cols[] = { "op", "attempts", "history", "outcome",
                                        "backoff_ms|backoff ms", NULL };
    struct ct_table *t = ct_table_new(cfg->run, "ops",
                                      "T timed out, N network error, I invalid, * ok", cols);
    for (int i = 0; i < cfg->ops; i++) {
        const struct op_record *r = &rec[i];
        char hist[2 * MAX_ATTEMPTS + 1] = "", out[32];
        for (int k = 0; k < r->attempts; k++) {
            hist[2 * k] = step_glyph[r->steps[k]];
            hist[2 * k + 1] = k + 1 < r->attempts ? ' ' : '\0';
        }
        if (r->outcome == OUT_OK)
            snprintf(out, sizeof out, r->attempts == 1 ? "ok first time" : "ok after %d %s",
                     r->attempts - 1, r->attempts == 2 ? "retry" : "retries");
        else
            snprintf(out, sizeof out, "%s", r->outcome == OUT_GAVE_UP ? "gave up"
                                           : r->outcome == OUT_NOT_RETRYABLE ? "not retryable"
                                                                             : "unfinished");
        ct_table_row(t, CT_INT(i), CT_INT(r->attempts), CT_TEXT(hist), CT_TEXT(out),
                     CT_NUM(r->backoff_ms * ct_scale(cfg->run), 1));
    }
}

static void report_outcomes(const struct config *cfg, const struct tally *t)
{
    static const char *const cols[] = { "outcome", "ops", NULL };
    struct ct_table *o = ct_table_new(cfg->run, "outcomes", "every operation, once", cols);
    char name[MAX_ATTEMPTS][32];
    ct_table_row(o, CT_TEXT("ok first time"), CT_INT(t->first));
    for (int k = 1; k < cfg->attempts; k++) {
        snprintf(name[k], sizeof name[k], "ok after %d %s", k, k == 1 ? "retry" : "retries");
        ct_table_row(o, CT_TEXT(name[k]), CT_INT(t->retried[k]));
    }
    ct_table_row(o, CT_TEXT("gave up (timeouts)"), CT_INT(t->gave_up_timeout));
    ct_table_row(o, CT_TEXT("gave up (network)"), CT_INT(t->gave_up_network));
    ct_table_row(o, CT_TEXT("not retryable"), CT_INT(t->invalid));
    /* no unit: "1 ops" would read wrong, and the title says what is counted */
    ct_bars(cfg->run, o, "number of operations by outcome", 0, 1, NULL);
}

static void report(const struct config *cfg, const struct op_record *rec, const struct driver *d)
{
    struct ct_run *run = cfg->run;
    struct tally t;
    tally_of(cfg, rec, &t);
    int retried = 0;
    for (int k = 1; k < cfg->attempts; k++)
        retried += t.retried[k];
    int sum = t.first + retried + t.gave_up_timeout + t.gave_up_network + t.invalid;
    report_ops(cfg, rec);
    report_outcomes(cfg, &t);
    ct_result_int(run, "seed", "seed (replay with seed=)", (long long)cfg->seed, NULL);
    ct_result_int(run, "attempts", "attempts made", t.attempts, NULL);
    ct_result_int(run, "timeouts", "attempts cut off by their deadline", t.timeouts, NULL);
    ct_result_int(run, "network", "attempts that met a network error", t.network, NULL);
    ct_result_num(run, "backoff_ms", "time spent backing off, all ops", t.backoff_ms * ct_scale(run),
                  1, "ms");
    int bunch = bunched(cfg, rec);
    ct_result_int(run, "races", "replies that lost a close race with the deadline", t.races,
                  NULL);
    ct_result_int(run, "bunched", "most retries starting within 5 ms", bunch, NULL);

    ct_check(run, sum == cfg->ops && d->handled == cfg->ops,
             "%d first time + %d retried + %d gave up + %d not retryable = %d of %d op%s, "
             "%d result%s joined", t.first, retried, t.gave_up_timeout + t.gave_up_network,
             t.invalid, sum, cfg->ops, cfg->ops == 1 ? "" : "s", d->handled,
             d->handled == 1 ? "" : "s");
    ct_check(run, d->by_set[OUT_OK] == t.first + retried &&
                  d->by_set[OUT_GAVE_UP] == t.gave_up_timeout + t.gave_up_network &&
                  d->by_set[OUT_NOT_RETRYABLE] == t.invalid && d->by_set[OUT_NONE] == 0,
             "the results the join set returned agree with the ops' own records");
    ct_check(run, t.invalid_once == t.invalid_met, "invalid data was never retried (%d of %d "
             "op%s that met it stopped right there)", t.invalid_once, t.invalid_met,
             t.invalid_met == 1 ? "" : "s");
    ct_check(run, t.over == 0 && t.prescribed == cfg->ops,
             "every op made at most %d attempt%s, the ones seed %llu draws (%d of %d op%s; "
             "%d repl%s lost a race with %s deadline)",
             cfg->attempts, cfg->attempts == 1 ? "" : "s", cfg->seed, t.prescribed, cfg->ops,
             cfg->ops == 1 ? "" : "s", t.races, t.races == 1 ? "y" : "ies",
             t.races == 1 ? "its" : "their");
    ct_check(run, t.cleanups == cfg->ops, "every op's cleanup ran once (%d of %d)", t.cleanups,
             cfg->ops);

    char invalid[160], hung[160];
    if (t.invalid == 0)
        snprintf(invalid, sizeof invalid, "none had invalid data");
    else
        snprintf(invalid, sizeof invalid, "%d had invalid data: %s failed once and %s "
                 "reported at once, since retrying cannot fix bad input", t.invalid,
                 t.invalid == 1 ? "it" : "those", t.invalid == 1 ? "was" : "were");
    if (t.timeouts == 0)
        snprintf(hung, sizeof hung, "No attempt hung.");
    else
        snprintf(hung, sizeof hung, "%d attempt%s hung and %s cut off by %s %.0f ms deadline "
                 "instead of being waited for.", t.timeouts, t.timeouts == 1 ? "" : "s",
                 t.timeouts == 1 ? "was" : "were", t.timeouts == 1 ? "its" : "their",
                 cfg->timeout_ms * ct_scale(run));
    ct_takeaway(run,
                "Of %d operation%s, %d succeeded first time, %d after retries, %d gave up "
                "after %d attempt%s and %s. %s",
                cfg->ops, cfg->ops == 1 ? "" : "s", t.first, retried,
                t.gave_up_timeout + t.gave_up_network, cfg->attempts,
                cfg->attempts == 1 ? "" : "s", invalid, hung);
    int retries = t.attempts - cfg->ops;
    double base = cfg->base_ms * ct_scale(run), cap = cfg->cap_ms * ct_scale(run);
    char growth[96];
    if (cfg->base_ms < cfg->cap_ms)
        snprintf(growth, sizeof growth, "doubling from %.0f ms up to %.0f ms", base, cap);
    else
        snprintf(growth, sizeof growth, "each capped at %.0f ms (base-ms is not below cap-ms)",
                 cap);
    char bunched_text[96] = "No two retries began within 5 ms of one another";
    if (bunch > 1)
        snprintf(bunched_text, sizeof bunched_text,
                 "At most %d retries began within 5 ms of one another", bunch);
    if (retries > 0)
        ct_takeaway(run, "%d retr%s waited %.0f ms in all, %s%s. %s%s.",
                    retries, retries == 1 ? "y" : "ies", t.backoff_ms * ct_scale(run), growth,
                    cfg->jitter ? ", each with jitter" : ", no jitter", bunched_text,
                    retries == 1 ? ""
                    : cfg->jitter ? "; run with jitter=off to see them retry in lockstep"
                                  : "; with jitter=on they spread out");
    else if (cfg->attempts == 1)
        ct_takeaway(run,
                    "With attempts=1 no operation could retry, so nothing backed off: every "
                    "failure was final. Raise attempts to see the backoff.");
    else
        ct_takeaway(run,
                    "No attempt hung or met a network error, so nothing was retried and "
                    "nothing backed off. Raise timeout-pct or network-pct to see retries.");
    if (t.races == 0)
        ct_takeaway(run, "seed=%llu replays exactly these outcomes; seed=0 draws a new seed.",
                    cfg->seed);
    else
        ct_takeaway(run,
                    "seed=%llu replays these draws, but %d repl%s lost a close race with %s "
                    "deadline this time (the thread was held up between its two looks at the "
                    "clock), so a replay may differ there. A timeout is a race.",
                    cfg->seed, t.races, t.races == 1 ? "y" : "ies",
                    t.races == 1 ? "its" : "their");
}

static int retry_run(struct ct_run *run)
{
    struct config cfg = {
        .run = run, .ops = (int)ct_param_int(run, "ops"),
        .attempts = (int)ct_param_int(run, "attempts"),
        .seed = (unsigned long long)ct_param_int(run, "seed"),
        .invalid_pct = ct_param_num(run, "invalid-pct"),
        .timeout_pct = ct_param_num(run, "timeout-pct"),
        .network_pct = ct_param_num(run, "network-pct"),
        .work_ms = (double)ct_param_int(run, "work-ms"),
        .timeout_ms = (double)ct_param_int(run, "timeout-ms"),
        .base_ms = (double)ct_param_int(run, "base-ms"),
        .cap_ms = (double)ct_param_int(run, "cap-ms"), .jitter = ct_param_bool(run, "jitter"),
    };
    if (cfg.seed == 0)
        cfg.seed = mix((unsigned long long)ct_clock_ns()) % 1000000 + 1;
    ct_say(run, "seed %llu: %d op%s, up to %d attempt%s each, deadline %.0f ms", cfg.seed,
           cfg.ops, cfg.ops == 1 ? "" : "s", cfg.attempts, cfg.attempts == 1 ? "" : "s",
           cfg.timeout_ms * ct_scale(run));
    if (cfg.work_ms >= cfg.timeout_ms)
        ct_say(run, "note: work-ms >= timeout-ms, so every attempt times out");
    for (int i = 0; i < cfg.ops; i++)
        cfg.lanes[i] = ct_lane(run, "op %d", i);
    ct_legend(run, CT_RUN, "an attempt");
    ct_legend(run, CT_SLEEP, "backing off");
    ct_point_legend(run, '*', "ok");
    ct_point_legend(run, 'T', "timed out");
    ct_point_legend(run, 'N', "network error");
    ct_point_legend(run, 'I', "invalid data");
    struct op_record *rec = calloc((size_t)cfg.ops, sizeof *rec);
    struct ct_exec *ex = NULL;
    int rc = rec ? ct_demo_executor(run, CT_EXEC_MULTI_THREAD, 2, &ex) : -ENOMEM;
    struct driver d = { .base = { .ops = &driver_ops }, .cfg = &cfg, .rec = rec };
    if (rc == 0) {
        for (int i = 0; i < cfg.ops; i++)
            rec[i].outcome = OUT_NONE;
        rc = ct_block_on(ex, &d.base);
        if (rc == 0)
            rc = d.base.error;
        ct_future_drop(&d.base);
        ct_exec_free(ex);           /* every op is dropped: the records are final */
    }
    if (rc == 0 && !ct_cancelled(run))
        report(&cfg, rec, &d);
    free(rec);
    return rc == -ECANCELED ? 0 : rc;
}

static const struct ct_param_spec retry_params[] = {
    { "ops", CT_PARAM_INT, "10", 1, MAX_OPS, NULL, "operations (the guide's 10)" },
    { "attempts", CT_PARAM_INT, "4", 1, MAX_ATTEMPTS, NULL, "attempts per operation, at most" },
    { "seed", CT_PARAM_INT, "155", 0, 1000000000, NULL,
      "seed of the failure draws (0: a new one, printed)" },
    { "invalid-pct", CT_PARAM_NUM, "10", 0, 100, NULL, "ops whose data is invalid, in %" },
    { "timeout-pct", CT_PARAM_NUM, "15", 0, 100, NULL, "attempts that hang, in %" },
    { "network-pct", CT_PARAM_NUM, "25", 0, 100, NULL,
      "attempts that meet a network error, in %" },
    { "work-ms", CT_PARAM_INT, "20", 1, 5000, NULL, "how long an attempt takes" },
    { "timeout-ms", CT_PARAM_INT, "50", 1, 10000, NULL, "each attempt's deadline" },
    { "base-ms", CT_PARAM_INT, "20", 1, 5000, NULL, "the first backoff" },
    { "cap-ms", CT_PARAM_INT, "160", 1, 60000, NULL, "the longest backoff" },
    { "jitter", CT_PARAM_BOOL, "true", 0, 0, NULL, "randomise each backoff (upper half)" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_retry = {
    .name = "retry",
    .chapter = 9,
    .title = "Errors in concurrent code: timeouts and retries",
    .summary = "Ten operations with deadlines, retries with backoff and jitter, outcomes tallied",
    .intro = "Ten tasks each run an unreliable step that may hang, fail on the network, or "
             "find invalid data. Each attempt has a deadline, transient failures are retried "
             "after a growing, jittered backoff, invalid data is not retried, and every "
             "outcome is counted. A seed makes the run replayable.",
    .params = retry_params,
    .smoke = "work-ms=3 timeout-ms=25 base-ms=5 cap-ms=20",
    .run = retry_run,
};
