/* contention.c - demo `contention`: take the lock less often.
 *
 * Shows: the guide's 100 threads x 1,000 increments of one shared counter,
 * four ways.  lock-each locks a pthread mutex around every increment;
 * local-once counts in a local variable and locks once to add the result;
 * sharded gives each thread its own counter on its own cache line, summed
 * after the join; atomic does one atomic_fetch_add per increment.  Each
 * way is warmed up once and then repeated (the ways take turns within a
 * repetition, so a burst of load hits them all alike); the workers start
 * together at a gate and time themselves, and every repetition's total is
 * verified.  Lock acquisitions are counted, and so are the ones that found
 * the mutex taken (a failed trylock before the real lock).
 * Watch for: the speedup of local-once over lock-each, next to the number
 * of lock acquisitions (threads instead of threads x ops), and how far
 * apart the repetitions are (min and max) on a busy machine.
 * Lesson: lock-contention (chapter 9).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "check.h"
#include "crew.h"
#include "stats.h"

#define MAX_THREADS 256
#define MAX_REPS 15
#define CHECK_EVERY 4096        /* increments between looks at the cancel flag */

enum way { LOCK_EACH, LOCAL_ONCE, SHARDED, ATOMIC, NWAYS };

static const char *const way_name[NWAYS] = { "lock-each", "local-once", "sharded", "atomic" };

/* What the threads share.  Each counter sits on its own cache lines, so
 * that one way's traffic does not disturb another's. */
struct slot {
    _Alignas(128) atomic_llong n;   /* one writer; relaxed, so a reader may sum */
};

struct bench {
    enum way way;
    long long ops;
    pthread_mutex_t mu;
    _Alignas(128) long long total;  /* guarded by mu */
    _Alignas(128) atomic_llong atomic_total;
    struct slot *slots;             /* sharded: one per thread */
};

struct worker {
    struct ct_member m;             /* first: the crew's part */
    struct bench *b;
    long long locks, waits;         /* acquisitions, and those that found it taken */
};

/* One way's repetitions: the crew's span (first start to last finish,
 * waiting for cores included) and the median thread's own time. */
struct measure {
    double ms[MAX_REPS], thread_us[MAX_REPS];
    double busy_ms[MAX_REPS];       /* all threads' own times added up */
    struct ct_stats st, th, busy;
    long long locks, waits;         /* over all measured repetitions */
    int verified;                   /* repetitions whose total was exact */
    int reps_done;
    long long last_total;
};

struct config {
    struct ct_run *run;
    int threads, reps;
    long long ops;
    bool ways[NWAYS];
};

/* Keeps the compiler from folding a loop of `x++` into one addition: the
 * local count is really made one increment at a time, as the guide's is. */
static inline void opaque(long long *x)
{
    __asm__ volatile("" : "+r"(*x));
}

/* Lock, noting whether the mutex was free. */
static void lock_counted(pthread_mutex_t *mu, long long *waits)
{
    if (pthread_mutex_trylock(mu) != 0) {
        (*waits)++;
        CT_PT(pthread_mutex_lock(mu));
    }
}

static void add_each(struct worker *w, struct ct_run *run)
{
    struct bench *b = w->b;
    struct slot *mine = &b->slots[w->m.id - 1];
    for (long long i = 0; i < b->ops; i++) {
        if (i % CHECK_EVERY == CHECK_EVERY - 1 && ct_cancelled(run))
            return;
        if (b->way == LOCK_EACH) {
            lock_counted(&b->mu, &w->waits);
            b->total++;
            CT_PT(pthread_mutex_unlock(&b->mu));
            w->locks++;
        } else if (b->way == ATOMIC) {
            atomic_fetch_add_explicit(&b->atomic_total, 1, memory_order_relaxed);
        } else {
            long long v = atomic_load_explicit(&mine->n, memory_order_relaxed);
            atomic_store_explicit(&mine->n, v + 1, memory_order_relaxed);
        }
    }
}

static void *work(void *arg)
{
    struct worker *w = arg;
    struct bench *b = w->b;
    struct ct_run *run = w->m.run;
    if (!ct_member_begin(&w->m))
        return NULL;
    if (b->way == LOCAL_ONCE) {
        long long local = 0;
        for (long long i = 0; i < b->ops; i++) {
            local++;
            opaque(&local);
        }
        lock_counted(&b->mu, &w->waits);
        b->total += local;
        CT_PT(pthread_mutex_unlock(&b->mu));
        w->locks++;
    } else {
        add_each(w, run);
    }
    ct_member_end(&w->m);
    return NULL;
}

/* The median of the workers' own start-to-finish times, in us; *sum_ms
 * receives their total. */
static double thread_median_us(const struct worker *w, int n, double *sum_ms)
{
    double *d = malloc((size_t)n * sizeof *d);
    struct ct_stats st = { 0 };
    if (!d)
        return 0;
    for (int i = 0; i < n; i++)
        d[i] = (double)(w[i].m.end_ns - w[i].m.start_ns) / 1e3;
    ct_stats_of(d, (size_t)n, &st);
    free(d);
    *sum_ms = st.mean * n / 1e3;
    return st.median;
}

/* One repetition of `way`: run the crew, add up, verify.  *ms receives
 * the crew's span; `m` (NULL for a warm-up) the rest.  0 or a negative
 * errno. */
static int run_rep(struct config *cfg, enum way way, long long ops, double *ms,
                   double *thread_us, struct measure *m)
{
    struct bench *b = aligned_alloc(128, sizeof *b);
    struct worker *w = calloc((size_t)cfg->threads, sizeof *w);
    struct slot *slots = aligned_alloc(128, (size_t)cfg->threads * sizeof *slots);
    int rc = b && w && slots ? 0 : -ENOMEM;
    if (rc == 0) {
        memset(b, 0, sizeof *b);
        rc = -pthread_mutex_init(&b->mu, NULL);
    }
    if (rc) {
        free(b);
        free(w);
        free(slots);
        return rc;
    }
    b->way = way;
    b->ops = ops;
    b->slots = slots;
    atomic_init(&b->atomic_total, 0);
    for (int i = 0; i < cfg->threads; i++) {
        atomic_init(&slots[i].n, 0);
        w[i].b = b;
    }
    rc = ct_crew_run(cfg->run, w, sizeof w[0], cfg->threads, work, "thread", ms);
    if (rc == 0 && m && !ct_cancelled(cfg->run)) {
        /* the joins ordered every worker's writes before these reads */
        long long total = way == ATOMIC ? atomic_load(&b->atomic_total) : b->total;
        for (int i = 0; way == SHARDED && i < cfg->threads; i++)
            total += atomic_load_explicit(&slots[i].n, memory_order_relaxed);
        for (int i = 0; i < cfg->threads; i++) {
            m->locks += w[i].locks;
            m->waits += w[i].waits;
        }
        m->verified += total == (long long)cfg->threads * ops;
        m->last_total = total;
        *thread_us = thread_median_us(w, cfg->threads, &m->busy_ms[m->reps_done++]);
    }
    CT_PT(pthread_mutex_destroy(&b->mu));
    free(b);
    free(w);
    free(slots);
    return rc;
}

/* Warm every way up once, then run the repetitions, the ways taking turns
 * within each. */
static int measure_all(struct config *cfg, struct measure *m)
{
    struct ct_run *run = cfg->run;
    double ms, us;
    for (int k = 0; k < NWAYS; k++) {
        int rc = cfg->ways[k] ? run_rep(cfg, (enum way)k, cfg->ops, &ms, &us, NULL) : 0;
        if (rc || ct_cancelled(run))
            return rc;
    }
    ct_say(run, "warmed up; now %d repetition%s of each way", cfg->reps,
           cfg->reps == 1 ? "" : "s");
    for (int r = 0; r < cfg->reps; r++) {
        for (int k = 0; k < NWAYS; k++) {
            if (!cfg->ways[k])
                continue;
            int rc = run_rep(cfg, (enum way)k, cfg->ops, &m[k].ms[r], &m[k].thread_us[r], &m[k]);
            if (rc || ct_cancelled(run))
                return rc;
            ct_say(run, "rep %d %-10s %7.3f ms %8.2f us/thr  %lld%s", r + 1, way_name[k],
                   m[k].ms[r], m[k].thread_us[r], m[k].last_total,
                   m[k].last_total == (long long)cfg->threads * cfg->ops ? "" : "  WRONG");
        }
    }
    for (int k = 0; k < NWAYS; k++) {
        if (!cfg->ways[k])
            continue;
        int rc = ct_stats_of(m[k].ms, (size_t)cfg->reps, &m[k].st);
        if (rc || (rc = ct_stats_of(m[k].thread_us, (size_t)cfg->reps, &m[k].th)) != 0 ||
            (rc = ct_stats_of(m[k].busy_ms, (size_t)cfg->reps, &m[k].busy)) != 0)
            return rc;
    }
    return 0;
}

/* ---- reporting --------------------------------------------------------- */

static double ratio(double a, double b)
{
    return b > 0 ? a / b : 0;
}

/* The plural ending for a count: "1 slot", "2 slots". */
static const char *plural(long long n)
{
    return n == 1 ? "" : "s";
}

static void report_tables(struct config *cfg, struct measure *m)
{
    struct ct_run *run = cfg->run;
    static const char *const cols[] = {
        "way", "median_ms|wall ms", "min_ms|min", "max_ms|max", "speedup|x lock-each",
        "locks|locks/rep", "taken_pct|found taken %", NULL,
    };
    static const char *const thread_cols[] = {
        "way", "median_us|median us", "min_us|min", "max_us|max", "speedup|x lock-each", NULL,
    };
    char title[96];
    snprintf(title, sizeof title, "%d thread%s x %lld, first start to last end", cfg->threads,
             plural(cfg->threads), cfg->ops);
    struct ct_table *t = ct_table_new(run, "results", title, cols);
    struct ct_table *pt = ct_table_new(run, "per_thread",
                                       "one thread's own start to end (median thread)",
                                       thread_cols);
    bool base = cfg->ways[LOCK_EACH];
    for (int k = 0; k < NWAYS; k++) {
        if (!cfg->ways[k])
            continue;
        bool locked = k == LOCK_EACH || k == LOCAL_ONCE;
        double taken = 100.0 * (double)m[k].waits / (double)(m[k].locks ? m[k].locks : 1);
        ct_table_row(t, CT_TEXT(way_name[k]), CT_NUM(m[k].st.median, 3),
                     CT_NUM(m[k].st.min, 3), CT_NUM(m[k].st.max, 3),
                     base ? CT_NUM(ratio(m[LOCK_EACH].st.median, m[k].st.median), 1)
                          : CT_TEXT("-"),
                     CT_INT(m[k].locks / cfg->reps), locked ? CT_NUM(taken, 1) : CT_TEXT("-"));
        ct_table_row(pt, CT_TEXT(way_name[k]), CT_NUM(m[k].th.median, 2),
                     CT_NUM(m[k].th.min, 2), CT_NUM(m[k].th.max, 2),
                     base ? CT_NUM(ratio(m[LOCK_EACH].th.median, m[k].th.median), 1)
                          : CT_TEXT("-"));
    }
    ct_bars(run, t, "wall time, median of the reps (shorter is faster)", 0, 1, "ms");
    ct_bars(run, pt, "one thread's time, median (shorter is faster)", 0, 1, "us");
}

/* Exposed for tests/test-contention.c, which checks it on made-up ranges. */
int ct_contention_order(double a_min, double a_max, double b_min, double b_max, size_t reps);

/* Which of two timings was faster, by the ranges of their repetitions (the
 * min and max the tables print): -1 when a's slowest beat b's fastest, 1
 * the other way round, 0 when the ranges overlap.  One repetition has no
 * range, so it can never tell. */
int ct_contention_order(double a_min, double a_max, double b_min, double b_max, size_t reps)
{
    if (reps < 2)
        return 0;
    return a_max < b_min ? -1 : b_max < a_min ? 1 : 0;
}

/* Whether a's repetitions were all faster than b's: their ranges do not
 * overlap. */
static bool clearly_faster(const struct ct_stats *a, const struct ct_stats *b)
{
    return ct_contention_order(a->min, a->max, b->min, b->max, a->n) < 0;
}

/* What this run's numbers say about local-once against lock-each. */
static void takeaway_local(struct config *cfg, struct measure *m)
{
    struct ct_run *run = cfg->run;
    const struct measure *le = &m[LOCK_EACH], *lo = &m[LOCAL_ONCE];
    long long lo_locks = lo->locks / cfg->reps, le_locks = le->locks / cfg->reps;
    double taken = 100.0 * (double)le->waits / (double)(le->locks ? le->locks : 1);
    if (lo_locks >= le_locks) {
        ct_takeaway(run,
                    "With %lld increment per thread, counting locally saved no locks: both "
                    "ways took the mutex %lld time%s per repetition and did the same work, so "
                    "there was no gain to find (%.2f us per thread against %.2f us). Try "
                    "ops=1000.",
                    cfg->ops, lo_locks, plural(lo_locks), lo->th.median, le->th.median);
        return;
    }
    bool clear = clearly_faster(&lo->th, &le->th);
    char speed[48] = "";
    if (clear)
        snprintf(speed, sizeof speed, ": %.1fx faster", ratio(le->th.median, lo->th.median));
    ct_takeaway(run,
                "Counting locally and locking once took the mutex %lld time%s per "
                "repetition instead of %lld. Each thread's own work took %.2f us instead of "
                "%.2f us%s. Of the per-increment locks, %.1f%% found the mutex taken.",
                lo_locks, plural(lo_locks), le_locks, lo->th.median, le->th.median, speed, taken);

    char wall[160];
    if (clearly_faster(&lo->st, &le->st))
        snprintf(wall, sizeof wall, "In wall time the gain was %.1fx (%.3f ms against %.3f ms).",
                 ratio(le->st.median, lo->st.median), lo->st.median, le->st.median);
    else if (clearly_faster(&le->st, &lo->st))
        snprintf(wall, sizeof wall, "In wall time local-once was slower (%.3f ms against %.3f "
                 "ms).", lo->st.median, le->st.median);
    else
        snprintf(wall, sizeof wall, "In wall time there was no clear gain (%.3f ms against "
                 "%.3f ms, %s).", lo->st.median, le->st.median,
                 cfg->reps < 2 ? "one repetition each, no range to judge by"
                               : "the repetitions overlap");
    int cpus = ct_cpus();
    int fight = cpus < MAX_THREADS ? cpus : MAX_THREADS;
    if (cfg->threads > cpus && lo->busy.median < lo->st.median)
        ct_takeaway(run,
                    "%s With %d threads on %d CPU%s, local-once's threads worked %.3f ms in all "
                    "(their own times added up) of its %.3f ms: the rest was threads waiting "
                    "for a core, which no lock can save. Only %d ran at once, so the mutex was "
                    "fought over by %d thread%s at a time, not %d; try threads=%d ops=50000 to "
                    "see them fight.",
                    wall, cfg->threads, cpus, plural(cpus), lo->busy.median, lo->st.median,
                    cpus, cpus, plural(cpus), cfg->threads, fight);
    else if (cfg->threads > cpus)
        ct_takeaway(run,
                    "%s With %d threads on %d CPU%s, local-once's threads' own times added up "
                    "to %.3f ms, more than its %.3f ms of wall time: they ran side by side. "
                    "Only %d ran at once, so the mutex was fought over by %d thread%s at a "
                    "time, not %d; try threads=%d ops=50000 to see them fight.",
                    wall, cfg->threads, cpus, plural(cpus), lo->busy.median, lo->st.median,
                    cpus, cpus, plural(cpus), cfg->threads, fight);
    else
        ct_takeaway(run, "%s", wall);
    if (clear)
        ct_takeaway(run,
                    "Even lock-each's fastest repetition was %.1fx slower per thread than "
                    "local-once's slowest, so the gap is not noise.",
                    ratio(le->th.min, lo->th.max));
    else if (clearly_faster(&le->th, &lo->th))
        ct_takeaway(run,
                    "Per thread, every lock-each repetition (%.2f .. %.2f us) beat every "
                    "local-once one (%.2f .. %.2f us) in this run.",
                    le->th.min, le->th.max, lo->th.min, lo->th.max);
    else if (cfg->reps < 2)
        ct_takeaway(run,
                    "From one repetition of each way there is no range to judge the gap by: "
                    "run with reps=3 or more.");
    else
        ct_takeaway(run,
                    "The repetitions overlap (lock-each's fastest %.2f us per thread, "
                    "local-once's slowest %.2f us): too noisy to call. Run %swhen the load "
                    "average is low.",
                    le->th.min, lo->th.max, cfg->reps < MAX_REPS ? "with more reps, or " : "");
}

static void report_takeaway(struct config *cfg, struct measure *m)
{
    if (cfg->ways[LOCK_EACH] && cfg->ways[LOCAL_ONCE])
        takeaway_local(cfg, m);
    if (!cfg->ways[ATOMIC] || !cfg->ways[SHARDED])
        return;
    const struct ct_stats *at = &m[ATOMIC].th, *sh = &m[SHARDED].th;
    int order = ct_contention_order(sh->min, sh->max, at->min, at->max, sh->n);
    char slots[48];
    snprintf(slots, sizeof slots, "adding up %d slot%s", cfg->threads, plural(cfg->threads));
    if (order < 0)
        ct_takeaway(cfg->run,
                    "An atomic increment needs no lock, but every thread still writes one "
                    "shared cache line: %.2f .. %.2f us per thread. With a counter of its own "
                    "(sharded) a thread took %.2f .. %.2f us, every repetition faster; the "
                    "price is that reading the count means %s.",
                    at->min, at->max, sh->min, sh->max, slots);
    else if (order > 0)
        ct_takeaway(cfg->run,
                    "An atomic increment needs no lock: %.2f .. %.2f us per thread. With a "
                    "counter of its own (sharded) a thread took %.2f .. %.2f us, every "
                    "repetition slower here, and reading the count means %s.",
                    at->min, at->max, sh->min, sh->max, slots);
    else
        ct_takeaway(cfg->run,
                    "An atomic increment needs no lock: %.2f us per thread. With a counter of "
                    "its own (sharded) a thread took %.2f us, %s, and reading the count means "
                    "%s.",
                    at->median, sh->median,
                    cfg->reps < 2 ? "but one repetition each cannot tell them apart"
                                  : "no clear difference (the repetitions overlap)",
                    slots);
}

static void report(struct config *cfg, struct measure *m)
{
    struct ct_run *run = cfg->run;
    long long want = (long long)cfg->threads * cfg->ops;
    for (int k = 0; k < NWAYS; k++) {
        if (cfg->ways[k])
            ct_check(run, m[k].verified == cfg->reps,
                     "%s: %d of %d repetition%s counted exactly %lld", way_name[k],
                     m[k].verified, cfg->reps, plural(cfg->reps), want);
    }
    int cpus = ct_cpus();
    double load = 0;
    ct_result_int(run, "cpus", "CPUs online", cpus, NULL);
    ct_result_text(run, "oversubscribed", "threads outnumber cores",
                   cfg->threads > cpus ? "yes" : "no");
    if (getloadavg(&load, 1) == 1)
        ct_result_num(run, "load", "load average (1 min) after the run", load, 2, NULL);
    ct_result_int(run, "increments", "increments per repetition", want, NULL);
    if (cfg->ways[LOCK_EACH] && cfg->ways[LOCAL_ONCE]) {
        ct_result_num(run, "speedup_thread", "local-once vs lock-each, per thread",
                      ratio(m[LOCK_EACH].th.median, m[LOCAL_ONCE].th.median), 1, "x");
        ct_result_num(run, "speedup_wall", "local-once vs lock-each, wall time",
                      ratio(m[LOCK_EACH].st.median, m[LOCAL_ONCE].st.median), 1, "x");
    }
    report_tables(cfg, m);
    report_takeaway(cfg, m);
}

static int contention_run(struct ct_run *run)
{
    struct config cfg = {
        .run = run,
        .threads = (int)ct_param_int(run, "threads"),
        .ops = ct_param_int(run, "ops"),
        .reps = (int)ct_param_int(run, "reps"),
    };
    int nways = 0;
    for (int k = 0; k < NWAYS; k++)
        nways += cfg.ways[k] = ct_param_has(run, "ways", way_name[k]);
    if (nways == 0) {
        ct_check(run, false, "at least one way to measure (ways=...)");
        return 0;
    }
    int cpus = ct_cpus();
    ct_say(run, "%d thread%s x %lld increment%s on %d CPU%s", cfg.threads,
           plural(cfg.threads), cfg.ops, plural(cfg.ops), cpus, plural(cpus));
    if (cfg.threads > cpus)
        ct_say(run, "more threads than cores: they take turns on them");
    struct measure *m = calloc(NWAYS, sizeof *m);
    if (!m)
        return -ENOMEM;
    int rc = measure_all(&cfg, m);
    if (rc == 0 && !ct_cancelled(run))
        report(&cfg, m);
    free(m);
    return rc;
}

static const struct ct_param_spec contention_params[] = {
    { "threads", CT_PARAM_INT, "100", 1, MAX_THREADS, NULL, "threads (the guide's 100)" },
    { "ops", CT_PARAM_INT, "1000", 1, 10000000, NULL,
      "increments per thread (the guide's 1000)" },
    { "reps", CT_PARAM_INT, "7", 1, MAX_REPS, NULL, "measured repetitions of each way" },
    { "ways", CT_PARAM_SET, "all", 0, 0, "lock-each,local-once,sharded,atomic",
      "ways to count" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_contention = {
    .name = "contention",
    .chapter = 9,
    .title = "Minimise lock contention",
    .summary = "100 threads x 1000 increments: a lock per increment vs count locally, lock once",
    .intro = "A hundred threads each add 1,000 to one shared counter: with a lock around every "
             "increment, by counting locally and locking once, with a counter per thread, "
             "and with an atomic. Every way is repeated and every total is checked.",
    .params = contention_params,
    .smoke = "threads=8 ops=200 reps=2",
    .flags = CT_DEMO_BENCH,
    .run = contention_run,
};
