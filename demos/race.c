/* race.c - demo `race`: lost updates on a shared counter, and two fixes.
 *
 * Shows: N threads each add 1 to one counter M times.  Done as a plain
 * read-modify-write (a relaxed atomic load, then a relaxed atomic store: the
 * lost updates are real, yet there is no undefined behaviour and the
 * sanitizers stay quiet), increments vanish; the same code on one thread
 * loses none; done with atomic_fetch_add or under a mutex, none vanish
 * either.  Each variant runs several rounds, so its cost per increment comes
 * with a spread.  Every count is read back, not assumed.
 * Watch for: "lost" in the racy rows against zero on one thread and in the
 * fixes, and whether the fixes' cost ranges overlap.
 * Lesson: intro (chapter 1).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>

#include "crew.h"
#include "demo.h"
#include "check.h"
#include "stats.h"

#define MAX_THREADS 64
#define MAX_ROUNDS 20
#define CANCEL_EVERY 4096   /* increments between looks at the cancel flag */

enum variant { RACY, ATOMIC, MUTEX, NVARIANTS };

static const char *const variant_name[NVARIANTS] = { "racy", "atomic", "mutex" };
static const char *const variant_how[NVARIANTS] = {
    "load, +1, store",
    "atomic_fetch_add",
    "lock, ++, unlock",
};

struct shared {
    struct ct_run *run;
    enum variant variant;
    long long iters;
    bool quiet;
    atomic_llong counter;       /* racy and atomic variants */
    long long locked_counter;   /* mutex variant; guarded by mu */
    pthread_mutex_t mu;
};

struct worker {
    struct ct_member m;         /* first: the crew starts and times it */
    struct shared *sh;
    long long done;             /* increments this worker performed */
};

static void increment(struct shared *sh)
{
    switch (sh->variant) {
    case RACY: {
        /* the bug: between this load and the store another thread may
         * store, and its increment is then overwritten */
        long long v = atomic_load_explicit(&sh->counter, memory_order_relaxed);
        atomic_store_explicit(&sh->counter, v + 1, memory_order_relaxed);
        break;
    }
    case ATOMIC:
        atomic_fetch_add_explicit(&sh->counter, 1, memory_order_relaxed);
        break;
    case MUTEX:
        CT_PT(pthread_mutex_lock(&sh->mu));
        sh->locked_counter++;
        CT_PT(pthread_mutex_unlock(&sh->mu));
        break;
    case NVARIANTS:
        break;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct shared *sh = w->sh;
    if (!ct_member_begin(&w->m))
        return NULL;
    long long i = 0;
    for (; i < sh->iters; i++) {
        if (i % CANCEL_EVERY == 0 && ct_cancelled(sh->run))
            break;
        increment(sh);
    }
    ct_member_end(&w->m);
    w->done = i;
    if (!sh->quiet)
        ct_say(sh->run, "did its %lld increments in %.1f ms", i,
               (double)(w->m.end_ns - w->m.start_ns) / 1e6);
    return NULL;
}

/* One run of one variant: what was done, what the counter held, how long. */
struct outcome {
    enum variant variant;
    int threads, round;         /* round 0: the one-thread control */
    long long made, counted;
    double ms;
};

/* Run one variant with `n` threads; 0 or a negative errno. */
static int run_variant(struct ct_run *run, enum variant v, int n, long long iters, bool quiet,
                       struct outcome *out)
{
    struct shared sh = { .run = run, .variant = v, .iters = iters, .quiet = quiet };
    struct worker w[MAX_THREADS] = { 0 };
    atomic_init(&sh.counter, 0);
    CT_PT(pthread_mutex_init(&sh.mu, NULL));
    for (int i = 0; i < n; i++)
        w[i].sh = &sh;

    out->variant = v;
    out->threads = n;
    int rc = ct_crew_run(run, w, sizeof w[0], n, worker_main, variant_name[v], &out->ms);
    if (rc == 0) {
        out->made = 0;
        for (int i = 0; i < n; i++)
            out->made += w[i].done;
        out->counted = v == MUTEX ? sh.locked_counter : atomic_load(&sh.counter);
    }
    CT_PT(pthread_mutex_destroy(&sh.mu));
    return rc;
}

struct config {
    int threads, rounds;
    long long iters;
    bool want[NVARIANTS];
};

struct result {
    struct outcome control;     /* racy on one thread; made == 0 if not run */
    struct outcome runs[MAX_ROUNDS * NVARIANTS];
    int nruns;
};

static double ns_per_incr(const struct outcome *o)
{
    return o->made ? o->ms * 1e6 / (double)o->made : 0;
}

static void say_outcome(struct ct_run *run, const struct outcome *o)
{
    long long lost = o->made - o->counted;
    ct_say(run, "%s: made %lld, counter %lld, lost %lld", variant_name[o->variant], o->made,
           o->counted, lost);
}

/* The rounds, variants interleaved so that a burst of load on the machine
 * hits them all.  0 or a negative errno; stops quietly on cancel. */
static int run_phases(struct ct_run *run, const struct config *cfg, struct result *res)
{
    int rc;
    if (cfg->want[RACY] && cfg->threads > 1) {
        ct_section(run, "racy on one thread, as a control");
        rc = run_variant(run, RACY, 1, cfg->iters, false, &res->control);
        if (rc || ct_cancelled(run))
            return rc;
        say_outcome(run, &res->control);
    }
    for (int r = 1; r <= cfg->rounds; r++) {
        ct_section(run, "round %d of %d, %d threads", r, cfg->rounds, cfg->threads);
        for (int v = 0; v < NVARIANTS; v++) {
            if (!cfg->want[v])
                continue;
            struct outcome *o = &res->runs[res->nruns];
            if (r == 1)
                ct_say(run, "%s: %s", variant_name[v], variant_how[v]);
            rc = run_variant(run, (enum variant)v, cfg->threads, cfg->iters, r > 1, o);
            if (rc || ct_cancelled(run))
                return rc;
            o->round = r;
            res->nruns++;
            say_outcome(run, o);
        }
    }
    return 0;
}

/* Over the rounds of one variant: the increments lost and the spread of
 * the cost per increment. */
struct summary {
    bool ran;
    long long made, lost;
    int lossy_rounds;
    double med, min, max;       /* ns per increment */
};

/* Summarise the rounds of variant `v` into *s; 0 or a negative errno. */
static int summarise(const struct result *res, enum variant v, struct summary *s)
{
    double ns[MAX_ROUNDS];
    size_t n = 0;
    *s = (struct summary){ .ran = false };
    for (int i = 0; i < res->nruns; i++) {
        const struct outcome *o = &res->runs[i];
        if (o->variant != v)
            continue;
        s->made += o->made;
        s->lost += o->made - o->counted;
        s->lossy_rounds += o->counted != o->made;
        ns[n++] = ns_per_incr(o);
    }
    if (n == 0)
        return 0;
    struct ct_stats st;
    int rc = ct_stats_of(ns, n, &st);
    if (rc)
        return rc;
    s->ran = true;
    s->med = st.median;
    s->min = st.min;
    s->max = st.max;
    return 0;
}

static void report_tables(struct ct_run *run, const struct result *res,
                          const struct summary *sum)
{
    static const char *const round_cols[] = {
        "variant", "threads", "round", "made", "counted", "lost", "ns_per_op|ns/incr", NULL,
    };
    struct ct_table *rt = ct_table_new(run, "rounds", "each run (round 0: one-thread control)",
                                       round_cols);
    for (int i = -1; i < res->nruns; i++) {
        const struct outcome *o = i < 0 ? &res->control : &res->runs[i];
        if (i < 0 && o->made == 0)
            continue;
        ct_table_row(rt, CT_TEXT(variant_name[o->variant]), CT_INT(o->threads),
                     CT_INT(o->round), CT_INT(o->made), CT_INT(o->counted),
                     CT_INT(o->made - o->counted), CT_NUM(ns_per_incr(o), 2));
    }
    static const char *const var_cols[] = {
        "variant", "how", "lost", "median_ns|median ns", "min_ns|min", "max_ns|max", NULL,
    };
    struct ct_table *vt = ct_table_new(run, "variants", "per variant, over the rounds",
                                       var_cols);
    for (int v = 0; v < NVARIANTS; v++) {
        if (sum[v].ran)
            ct_table_row(vt, CT_TEXT(variant_name[v]), CT_TEXT(variant_how[v]),
                         CT_INT(sum[v].lost), CT_NUM(sum[v].med, 2), CT_NUM(sum[v].min, 2),
                         CT_NUM(sum[v].max, 2));
    }
    ct_bars(run, vt, "median ns per increment (shorter is cheaper)", 0, 3, "ns");
    ct_result_int(run, "cpus", "CPUs online", ct_cpus(), NULL);
    for (int i = 0; i < res->nruns; i++) {
        const struct outcome *o = &res->runs[i];
        if (o->variant == RACY && o->round == 1) {
            /* the figure predict=true asks about */
            ct_result_int(run, "racy_lost_first", "racy, round 1: increments lost",
                          o->made - o->counted, NULL);
            break;
        }
    }
}

/* Every check compares what the counter held with the increments the
 * workers made.  The racy loop on several threads promises nothing, so it
 * has no check; on one thread it must be exact. */
static void report_checks(struct ct_run *run, const struct config *cfg, const struct result *res,
                          const struct summary *sum)
{
    if (res->control.made > 0)
        ct_check(run, res->control.counted == res->control.made,
                 "racy, 1 thread: counted %lld of %lld increments", res->control.counted,
                 res->control.made);
    for (int v = 0; v < NVARIANTS; v++) {
        if (!sum[v].ran || (v == RACY && cfg->threads > 1))
            continue;
        ct_check(run, sum[v].lost == 0, "%s, %d thread%s: counted %lld of %lld over %d round%s",
                 variant_name[v], cfg->threads, cfg->threads == 1 ? "" : "s",
                 sum[v].made - sum[v].lost, sum[v].made, cfg->rounds,
                 cfg->rounds == 1 ? "" : "s");
    }
}

/* How two cost ranges compare: -1 a was below b in every round, 1 above,
 * 0 the ranges overlap and this run cannot tell. */
static int compare_ranges(const struct summary *a, const struct summary *b)
{
    return a->max < b->min ? -1 : a->min > b->max ? 1 : 0;
}

static void takeaway_racy(struct ct_run *run, const struct config *cfg, const struct result *res,
                          const struct summary *racy)
{
    const char *rs = cfg->rounds == 1 ? "" : "s";
    if (racy->lost > 0) {
        char control[96] = "";
        if (res->control.made > 0)
            snprintf(control, sizeof control, ", while the same loop on one thread lost %lld",
                     res->control.made - res->control.counted);
        ct_takeaway(run,
                    "Without synchronisation %lld of %lld increments (%.2f%%) vanished, in %d "
                    "of %d round%s%s: two threads loaded the same value, both stored value+1, "
                    "and one increment was overwritten. Nothing crashed and nothing warned; "
                    "the total was wrong.",
                    racy->lost, racy->made, 100.0 * (double)racy->lost / (double)racy->made,
                    racy->lossy_rounds, cfg->rounds, rs, control);
    } else if (cfg->threads == 1) {
        ct_takeaway(run, "With one thread the racy loop lost nothing in %d round%s: a thread "
                    "cannot race with itself. Run it with threads=2 or more to see the bug.",
                    cfg->rounds, rs);
    } else {
        ct_takeaway(run,
                    "This run's racy counter happened to lose nothing in %d round%s: with %d "
                    "threads on %d CPU%s they did not collide. That is luck, not correctness: "
                    "try more threads or iters, or a quieter machine where they run at once.",
                    cfg->rounds, rs, cfg->threads, ct_cpus(), ct_cpus() == 1 ? "" : "s");
    }
}

/* With fewer than 3 rounds a range is one or two samples: too few to call
 * one variant cheaper "in every round".  What to say instead, or NULL. */
static const char *too_few(int rounds)
{
    if (rounds == 1)
        return "that is one timing of each, too few to say which is cheaper; run rounds=3 "
               "or more to compare them";
    if (rounds < 3)
        return "two timings of each are too few to say which is cheaper; run rounds=3 or "
               "more to compare them";
    return NULL;
}

static void takeaway_costs(struct ct_run *run, const struct summary *sum, int rounds)
{
    const struct summary *a = &sum[ATOMIC], *m = &sum[MUTEX], *r = &sum[RACY];
    static const char *const steadier = "the ranges overlap, so this run cannot tell them "
                                        "apart; more rounds or iters, on a quieter machine, "
                                        "give a steadier figure";
    const char *few = too_few(rounds);
    if (a->ran && m->ran) {
        int c = compare_ranges(a, m);
        const char *fixes = a->lost == 0 && m->lost == 0 ? "Both fixes were exact."
                                                         : "A fix lost increments: see the "
                                                           "checks.";
        if (rounds == 1)
            ct_takeaway(run,
                        "%s Cost per increment: atomic_fetch_add %.2f ns, the mutex %.2f ns: "
                        "%s.",
                        fixes, a->med, m->med, few);
        else
            ct_takeaway(run,
                        "%s Median cost per increment: atomic_fetch_add %.2f ns (%.2f-%.2f), "
                        "the mutex %.2f ns (%.2f-%.2f): %s.",
                        fixes, a->med, a->min, a->max, m->med, m->min, m->max,
                        few       ? few
                        : c < 0   ? "the atomic was cheaper in every round"
                        : c > 0   ? "the mutex was cheaper in every round of this run"
                                  : steadier);
    }
    if (r->ran && a->ran) {
        int c = compare_ranges(r, a);
        ct_takeaway(run, "The racy loop took %.2f ns per increment%s against %.2f ns for "
                    "the atomic one: %s.", r->med, rounds == 1 ? "" : " (median)", a->med,
                    few     ? (rounds == 1 ? "one timing of each, too few to say whether "
                                             "being wrong was faster"
                                           : "two timings of each, too few to say whether "
                                             "being wrong was faster")
                    : c < 0 ? "being wrong was faster in every round, which is how such bugs "
                              "survive benchmarks"
                    : c > 0 ? "being wrong was slower in every round, so it did not even buy "
                              "speed"
                            : steadier);
    }
}

static int race_run(struct ct_run *run)
{
    struct config cfg = {
        .threads = (int)ct_param_int(run, "threads"),
        .iters = ct_param_int(run, "iters"),
        .rounds = (int)ct_param_int(run, "rounds"),
    };
    for (int v = 0; v < NVARIANTS; v++)
        cfg.want[v] = ct_param_has(run, "variants", variant_name[v]);

    struct result res = { .nruns = 0 };
    int rc = run_phases(run, &cfg, &res);
    if (rc || ct_cancelled(run))
        return rc;

    struct summary sum[NVARIANTS];
    for (int v = 0; v < NVARIANTS; v++) {
        if ((rc = summarise(&res, (enum variant)v, &sum[v])))
            return rc;
    }
    report_tables(run, &res, sum);
    report_checks(run, &cfg, &res, sum);
    if (sum[RACY].ran)
        takeaway_racy(run, &cfg, &res, &sum[RACY]);
    takeaway_costs(run, sum, cfg.rounds);
    return 0;
}

static const struct ct_param_spec race_params[] = {
    { "threads", CT_PARAM_INT, "4", 1, MAX_THREADS, NULL, "threads incrementing the counter" },
    { "iters", CT_PARAM_INT, "1000000", 1, 100000000, NULL, "increments per thread" },
    { "rounds", CT_PARAM_INT, "3", 1, MAX_ROUNDS, NULL, "timed rounds of each variant" },
    { "variants", CT_PARAM_SET, "all", 0, 0, "racy,atomic,mutex", "which versions to run" },
    CT_PARAMS_END,
};

static const struct ct_predict race_predict = {
    .question = "{threads} threads each add 1 to one counter {iters} times with a plain "
                "load-then-store: {threads*iters} increments in a round. How many of them "
                "will the first racy round lose?",
    .result = "racy_lost_first",
    .unit = "lost updates in round 1",
};

const struct ct_demo ct_demo_race = {
    .name = "race",
    .chapter = 1,
    .title = "Lost updates on a shared counter",
    .summary = "Threads bump one counter with no synchronisation, then with an atomic and a mutex",
    .intro = "Several threads add 1 to the same counter, first with a plain load-then-store "
             "that C will happily compile, then with atomic_fetch_add, then under a mutex. "
             "Compare the count each version ends with against the number of increments "
             "made (and the racy loop on one thread), and what each fix costs.",
    .params = race_params,
    .smoke = "threads=2 iters=20000 rounds=2",
    .run = race_run,
    .predict = &race_predict,
};
