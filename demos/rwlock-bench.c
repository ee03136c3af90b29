/* rwlock-bench.c - demo `rwlock-bench`: which lock for read-mostly data?
 *
 * Shows: the guide's Mutex-versus-RwLock benchmark, generalised.  Threads
 * hammer one shared value through each lock kind of locks.h (pthread
 * mutex, pthread rwlock with glibc's default and writer-preferring policy,
 * a spinlock, the teaching rwlock, the scalable brlock, hslock whose
 * readers pay no fence, the seqlock whose readers write nothing and retry
 * instead); a chosen share of the operations write, the rest read.  Each
 * measurement is warmed up and repeated; the median is reported with its
 * spread.  Modes:
 *   compare   every kind at one thread count and write share
 *   threads   a sweep over 1, 2, 4, ... max-threads
 *   writes    a sweep over 0, 1, 5, 10, 25, 50 % writes
 *   classic   the guide's setup: 100 threads x 1000 reads, timed both the
 *             guide's way (spawn to join) and with a start gate
 * Every repetition is verified: the guarded counter must equal the number
 * of writes made, and no reader may see it half-updated.
 * Watch for: how far apart the reader-writer locks are at 0% writes (who
 * writes to a shared cache line on every read, and who does not), how
 * quickly brlock's lead shrinks as writes grow, the seqlock's retries as
 * they grow, and the spinlock when threads outnumber cores.
 * Lesson: mutex-or-rwlock (chapter 4).
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "check.h"
#include "clock.h"
#include "lock-table.h"
#include "stats.h"
#include "text.h"

#define MAX_THREADS 256
#define MAX_REPS 8
#define MAX_KINDS 8
#define MAX_POINTS 12
#define CHECK_EVERY 256         /* operations between looks at clock and cancel */
#define CLASSIC_THREADS 100
#define CLASSIC_OPS 1000

static const double sweep_writes[] = { 0, 1, 5, 10, 25, 50 };

/* What the lock guards: two counters that writers keep equal, alone on
 * their cache lines so that the lock's own traffic is all that is
 * measured.  Atomics, read and written relaxed (a plain load or store on
 * x86 and Arm), because a seqlock's readers read them while a writer
 * writes. */
struct guarded {
    _Alignas(128) _Atomic long long a;
    _Atomic long long b;
};

#define RELAXED memory_order_relaxed

struct config {
    struct ct_run *run;
    const struct ct_lock_kind *kinds[MAX_KINDS];
    int nkinds;
    int reps;
    long long ops;              /* per thread; 0: run for duration_ns */
    int64_t duration_ns;
    long cs_iters;              /* busy-loop iterations inside each section */
    bool point_in_say;          /* a sweep: live lines name the point */
};

struct point {
    int threads;
    double write_pct;
    char label[32];
};

/* One repetition. */
struct bench {
    struct config *cfg;
    const struct ct_lock_kind *kind;
    void *lock;
    struct guarded *g;
    long long ops;
    int64_t duration_ns;
    uint32_t write_below;       /* an op writes if its random number is below this */
    struct ct_event go;
    bool gated;
};

struct bworker {
    struct bench *b;
    struct ct_thread thread;
    uint64_t seed;
    int64_t start_ns, end_ns;
    struct ct_sched sched;      /* what the loop's time went to */
    long long reads, writes, torn, retries;
};

struct rep_result {
    long long reads, writes, torn, retries;
    int64_t span_ns;            /* first start to last finish */
    /* the workers' loops added up: on a CPU, waiting for one (-1 when
     * unknown), and all of it */
    int64_t cpu_ns, runq_ns, life_ns;
    int64_t wall_ns;            /* spawning the first thread to joining the last */
    double busiest;             /* the busiest thread's share of the operations */
    bool verified;              /* counter == writes, no torn reads */
};

/* A (point, kind) measurement over the repetitions. */
struct measure {
    double mops[MAX_REPS];
    double ns_op[MAX_REPS];
    double wall_ms[MAX_REPS];   /* classic: the guide's way of timing */
    double span_ms[MAX_REPS];
    double cpus[MAX_REPS];      /* CPUs kept busy: CPU time / span */
    double asleep[MAX_REPS];    /* share of the loops' time asleep */
    double runq[MAX_REPS];      /* share waiting for a CPU (-1: unknown) */
    double busiest[MAX_REPS];   /* the busiest thread's share of the operations */
    struct ct_stats st, ns, wall, span, cpu, sleep, rq, bz;
    long long reads, writes, retries;
    bool done;
};

/* Every repetition of a kind, for its correctness check. */
struct kind_total {
    long long reads, writes, torn, retries, reps;
    bool verified;
};

static void add_total(struct kind_total *tot, const struct rep_result *r)
{
    tot->verified &= r->verified;
    tot->reads += r->reads;
    tot->writes += r->writes;
    tot->torn += r->torn;
    tot->retries += r->retries;
    tot->reps++;
}

/* ---- the measured loop ------------------------------------------------- */

static void busy(long n)
{
    for (volatile long i = 0; i < n; i++)
        ;
}

static uint64_t next_random(uint64_t *s)
{
    /* xorshift64: cheap, and each thread has its own state */
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* What one worker's loop counted. */
struct tally {
    long long reads, writes, torn, retries;
};

/* An optimistic kind's read: read, then check that no writer came in, and
 * start over if one did.  Whether the pair read was torn (never, if the
 * kind is right). */
static inline __attribute__((always_inline)) bool
optimistic_read(const struct ct_lock_kind *k, void *l, struct guarded *g, long cs,
                long long *retries)
{
    for (;;) {
        uint32_t s = k->read_begin(l);
        long long x = atomic_load_explicit(&g->a, RELAXED);
        busy(cs);
        long long y = atomic_load_explicit(&g->b, RELAXED);
        if (!k->read_retry(l, s))
            return x != y;
        ++*retries;
    }
}

/* The measured loop, for kind `k`, a row of ct_lock_table picked by a
 * constant index: always inlined, so that the compiler sees which
 * functions the row holds and calls the lock directly, as a program using
 * that lock would (through the function pointers, every operation paid
 * two indirect calls and an adapter's, as much as a brlock read itself),
 * and each kind gets a loop of its own. */
static inline __attribute__((always_inline)) struct tally
bench_loop(struct bench *b, uint64_t seed, int64_t end, const struct ct_lock_kind *k)
{
    struct ct_run *run = b->cfg->run;
    void *l = b->lock;
    struct guarded *g = b->g;
    long cs = b->cfg->cs_iters;
    struct tally t = { 0 };
    /* no timeouts or cancel events for the lock calls: holds here are a
     * few instructions long, so every wait is short; cancellation is
     * checked between operations */
    for (long long i = 0;; i++) {
        if (i % CHECK_EVERY == 0) {
            if (ct_cancelled(run))
                break;
            if (b->ops == 0 && ct_clock_ns() >= end)
                break;
        }
        if (b->ops != 0 && i == b->ops)
            break;
        if ((uint32_t)next_random(&seed) < b->write_below) {
            k->write_lock(l, -1, NULL);
            atomic_store_explicit(&g->a, atomic_load_explicit(&g->a, RELAXED) + 1, RELAXED);
            busy(cs);
            atomic_store_explicit(&g->b, atomic_load_explicit(&g->b, RELAXED) + 1, RELAXED);
            k->write_unlock(l);
            t.writes++;
        } else if (k->read_begin) {
            t.torn += optimistic_read(k, l, g, cs, &t.retries);
            t.reads++;
        } else {
            k->read_lock(l, -1, NULL);
            long long x = atomic_load_explicit(&g->a, RELAXED);
            busy(cs);
            t.torn += atomic_load_explicit(&g->b, RELAXED) != x;
            k->read_unlock(l);
            t.reads++;
        }
    }
    return t;
}

typedef struct tally kind_loop_fn(struct bench *b, uint64_t seed, int64_t end);

#define KIND_LOOP(i)                                                                   \
    static struct tally kind_loop_##i(struct bench *b, uint64_t seed, int64_t end)     \
    {                                                                                  \
        return bench_loop(b, seed, end, &ct_lock_table[i]);                            \
    }
KIND_LOOP(0)
KIND_LOOP(1)
KIND_LOOP(2)
KIND_LOOP(3)
KIND_LOOP(4)
KIND_LOOP(5)
KIND_LOOP(6)
KIND_LOOP(7)

/* kind_loops[i] measures ct_lock_kinds[i] */
static kind_loop_fn *const kind_loops[] = {
    kind_loop_0, kind_loop_1, kind_loop_2, kind_loop_3, kind_loop_4, kind_loop_5, kind_loop_6,
    kind_loop_7,
};
_Static_assert(sizeof kind_loops / sizeof kind_loops[0] == CT_LOCK_TABLE_SIZE,
               "a KIND_LOOP for every lock kind");
_Static_assert(MAX_KINDS >= CT_LOCK_TABLE_SIZE, "room for every lock kind");

static void *bench_main(void *arg)
{
    struct bworker *w = arg;
    struct bench *b = w->b;
    if (b->gated && !ct_wait(b->cfg->run, &b->go))
        return NULL;
    /* everything the loop updates stays in registers or on this thread's
     * stack: the workers' structs sit side by side, and writing them on
     * every operation would add false sharing to what is measured */
    int64_t start = ct_clock_ns(), end = start + b->duration_ns;
    struct ct_sched s0 = ct_thread_sched();
    struct tally t = kind_loops[b->kind - ct_lock_kinds](b, w->seed, end);
    w->start_ns = start;
    w->end_ns = ct_clock_ns();
    struct ct_sched s1 = ct_thread_sched();
    w->sched = (struct ct_sched){ s1.cpu_ns - s0.cpu_ns,
                                  s0.runq_ns < 0 ? -1 : s1.runq_ns - s0.runq_ns };
    w->reads = t.reads;
    w->writes = t.writes;
    w->torn = t.torn;
    w->retries = t.retries;
    return NULL;
}

/* Run one repetition: start the threads (gated or, for the guide's
 * timing, running as soon as they exist), join them, add up.  0 or a
 * negative errno. */
static int run_rep(struct config *cfg, const struct ct_lock_kind *k, const struct point *p,
                   long long ops, int64_t duration_ns, bool gated, struct rep_result *out)
{
    struct ct_run *run = cfg->run;
    struct bench b = {
        .cfg = cfg, .kind = k, .ops = ops, .duration_ns = duration_ns, .gated = gated,
        .write_below = (uint32_t)fmin(p->write_pct / 100.0 * 4294967296.0, 4294967295.0),
    };
    struct bworker *w = calloc((size_t)p->threads, sizeof *w);
    b.g = aligned_alloc(128, sizeof *b.g);
    int rc = w && b.g ? 0 : -ENOMEM;
    if (rc == 0) {
        memset(b.g, 0, sizeof *b.g);
        rc = ct_event_init(&b.go);
    }
    if (rc) {
        free(w);
        free(b.g);
        return rc;
    }
    if ((rc = ct_lock_new(k, &b.lock)) != 0)
        goto out_event;

    int started = 0;
    int64_t t0 = ct_clock_ns();
    for (; started < p->threads; started++) {
        w[started].b = &b;
        w[started].seed = 0x9e3779b97f4a7c15ull * (uint64_t)(started + 1);
        rc = ct_thread_start(run, &w[started].thread, bench_main, &w[started], "worker-%d",
                             started + 1);
        if (rc)
            break;
    }
    ct_event_set(&b.go);
    for (int i = 0; i < started; i++)
        ct_thread_join(&w[i].thread, NULL);
    int64_t t1 = ct_clock_ns();

    if (rc == 0) {
        *out = (struct rep_result){ .wall_ns = t1 - t0 };
        int64_t first = w[0].start_ns, last = w[0].end_ns;
        long long most = 0;
        for (int i = 0; i < p->threads; i++) {
            out->reads += w[i].reads;
            out->writes += w[i].writes;
            most = w[i].reads + w[i].writes > most ? w[i].reads + w[i].writes : most;
            out->torn += w[i].torn;
            out->retries += w[i].retries;
            out->cpu_ns += w[i].sched.cpu_ns;
            out->runq_ns = out->runq_ns < 0 || w[i].sched.runq_ns < 0
                               ? -1 : out->runq_ns + w[i].sched.runq_ns;
            out->life_ns += w[i].end_ns - w[i].start_ns;
            first = w[i].start_ns < first ? w[i].start_ns : first;
            last = w[i].end_ns > last ? w[i].end_ns : last;
        }
        out->span_ns = last - first;
        long long all = out->reads + out->writes;
        out->busiest = all > 0 ? (double)most / (double)all : 0;
        /* the joins ordered every worker's writes before this read */
        out->verified = atomic_load_explicit(&b.g->a, RELAXED) == out->writes &&
                        atomic_load_explicit(&b.g->b, RELAXED) == out->writes && out->torn == 0;
    }
    ct_lock_free(k, b.lock);
out_event:
    ct_event_destroy(&b.go);
    free(b.g);
    free(w);
    return rc;
}

/* Warm up once, then measure cfg->reps repetitions of (p, k). */
static int measure(struct config *cfg, const struct ct_lock_kind *k, const struct point *p,
                   bool classic, struct measure *m, struct kind_total *tot)
{
    struct ct_run *run = cfg->run;
    struct rep_result r;
    long long ops = classic ? CLASSIC_OPS : cfg->ops;
    int rc = run_rep(cfg, k, p, ops ? (ops + 3) / 4 : 0, cfg->duration_ns / 4, true, &r);
    if (rc || ct_cancelled(run))
        return rc;
    memset(m, 0, sizeof *m);
    for (int i = 0; i < cfg->reps; i++) {
        if (classic) {
            /* the guide's timing: from spawning the first thread to
             * joining the last, threads starting as soon as they exist */
            if ((rc = run_rep(cfg, k, p, ops, 0, false, &r)) != 0 || ct_cancelled(run))
                return rc;
            m->wall_ms[i] = (double)r.wall_ns / 1e6;
            add_total(tot, &r);
        }
        if ((rc = run_rep(cfg, k, p, ops, cfg->duration_ns, true, &r)) != 0 || ct_cancelled(run))
            return rc;
        long long n = r.reads + r.writes;
        m->mops[i] = r.span_ns > 0 ? (double)n / (double)r.span_ns * 1e3 : 0;
        m->ns_op[i] = n ? (double)r.span_ns * p->threads / (double)n : 0;
        m->span_ms[i] = (double)r.span_ns / 1e6;
        m->cpus[i] = r.span_ns > 0 ? (double)r.cpu_ns / (double)r.span_ns : 0;
        double life = r.life_ns > 0 ? (double)r.life_ns : 1;
        m->runq[i] = r.runq_ns < 0 ? -1 : (double)r.runq_ns / life;
        m->asleep[i] = r.runq_ns < 0 ? -1 : fmax(0, 1 - (double)(r.cpu_ns + r.runq_ns) / life);
        m->busiest[i] = r.busiest;
        m->reads += r.reads;
        m->writes += r.writes;
        m->retries += r.retries;
        add_total(tot, &r);
    }
    size_t n = (size_t)cfg->reps;
    if ((rc = ct_stats_of(m->mops, n, &m->st)) || (rc = ct_stats_of(m->ns_op, n, &m->ns)) ||
        (rc = ct_stats_of(m->wall_ms, n, &m->wall)) || (rc = ct_stats_of(m->span_ms, n, &m->span)) ||
        (rc = ct_stats_of(m->cpus, n, &m->cpu)) || (rc = ct_stats_of(m->asleep, n, &m->sleep)) ||
        (rc = ct_stats_of(m->runq, n, &m->rq)) || (rc = ct_stats_of(m->busiest, n, &m->bz)))
        return rc;
    m->done = true;
    /* one point: the announcement named it, and the number of reps */
    char at[40] = "";
    if (cfg->point_in_say)
        snprintf(at, sizeof at, ", %s", p->label);
    if (cfg->reps == 1)
        ct_say(run, "%s%s: %.1f M ops/s (1 rep)", k->name, at, m->st.median);
    else
        /* the range without spaces, so that a wrapped live line keeps it whole */
        ct_say(run, "%s%s: median %.1f M ops/s (%.1f..%.1f)", k->name, at, m->st.median,
               m->st.min, m->st.max);
    return 0;
}

/* ---- the whole run's result ------------------------------------------ */

struct result {
    struct config cfg;
    const char *mode;
    bool classic;
    struct point pts[MAX_POINTS];
    int npts;
    int max_threads;
    struct measure (*m)[MAX_KINDS];     /* [point][kind] */
    struct kind_total tot[MAX_KINDS];
    double handoff_ns[2];               /* the probe before and after (-1: none) */
};

/* ---- reporting --------------------------------------------------------- */

/* The plural ending for a count: "1 CPU", "2 CPUs". */
static const char *plural(long long n)
{
    return n == 1 ? "" : "s";
}

/* The range of the repetitions as a share of their median; none (NAN,
 * printed "-") from a single repetition. */
static double spread_pct(const struct ct_stats *s)
{
    if (s->n < 2)
        return NAN;
    return s->median > 0 ? 100.0 * (s->max - s->min) / s->median : 0;
}

/* The verdicts below are pure functions of the figures, declared here and
 * in tests/test-rwlock-bench.c, which checks them on made-up ranges. */
int ct_rwbench_change(double lo0, double hi0, double lo1, double hi1, int reps);
bool ct_rwbench_extreme(const double *lo, const double *hi, const double *med, int n, int reps,
                        bool fastest, int *top, bool *level);

/* How a figure measured twice moved, by the ranges of its repetitions:
 * +1 when every repetition of the second beat every one of the first, -1
 * when every one fell short, 0 when the ranges overlap.  One repetition
 * has no range, so it can never tell (0). */
int ct_rwbench_change(double lo0, double hi0, double lo1, double hi1, int reps)
{
    if (reps < 2)
        return 0;
    return lo1 > hi0 ? 1 : hi1 < lo0 ? -1 : 0;
}

/* The kind with the highest (fastest) or lowest median goes in *top;
 * returns true only when it is clearly so: its every repetition beat every
 * repetition of every other kind (which needs two or more).  level[k] is
 * set for each kind whose range reaches the top kind's, the top included. */
bool ct_rwbench_extreme(const double *lo, const double *hi, const double *med, int n, int reps,
                        bool fastest, int *top, bool *level)
{
    int t = 0;
    for (int k = 1; k < n; k++) {
        if (fastest ? med[k] > med[t] : med[k] < med[t])
            t = k;
    }
    bool clear = reps >= 2 && n > 1;
    for (int k = 0; k < n; k++) {
        level[k] = k == t || (fastest ? hi[k] >= lo[t] : lo[k] <= hi[t]);
        clear &= k == t || !level[k];
    }
    *top = t;
    return clear;
}

/* Whether the repetitions of two measurements do not overlap: only then
 * can this run say which was faster, let alone why. */
static bool apart(const struct measure *a, const struct measure *b)
{
    return ct_rwbench_change(a->st.min, a->st.max, b->st.min, b->st.max, (int)a->st.n) != 0;
}

/* The kind to compare against: the mutex if it ran, else the first. */
static int base_kind(const struct config *cfg)
{
    for (int i = 0; i < cfg->nkinds; i++) {
        if (strcmp(cfg->kinds[i]->name, "mutex") == 0)
            return i;
    }
    return 0;
}

static int kind_index(const struct config *cfg, const char *name)
{
    for (int i = 0; i < cfg->nkinds; i++) {
        if (strcmp(cfg->kinds[i]->name, name) == 0)
            return i;
    }
    return -1;
}

/* The raw repetitions: one row per (point, kind), the repetitions in the
 * order run as one cell, so that any number of them fits the width.  One
 * point: it goes in the title; a sweep: the swept figure is a column.
 * "busiest %" is the busiest thread's share of the operations (median
 * over the repetitions): 100 / threads when they ran side by side. */
static void table_reps(const struct result *res)
{
    const struct config *cfg = &res->cfg;
    bool sweep = res->npts > 1, by_threads = strcmp(res->mode, "threads") == 0;
    const char *cols[9];
    int nc = 0;
    if (sweep)
        cols[nc++] = by_threads ? "threads" : "write_pct|write %";
    cols[nc++] = "kind";
    cols[nc++] = "min";
    cols[nc++] = "median";
    cols[nc++] = "max";
    cols[nc++] = "spread_pct|spread %";
    cols[nc++] = "busiest_pct|busiest %";
    cols[nc++] = "reps|each repetition";
    cols[nc] = NULL;
    char title[96];
    snprintf(title, sizeof title, "every repetition%s%s (%s)", sweep ? "" : " at ",
             sweep ? "" : res->pts[0].label, res->classic ? "gated M reads/s" : "M ops/s");
    struct ct_table *t = ct_table_new(cfg->run, "repetitions", title, cols);
    for (int p = 0; p < res->npts; p++) {
        for (int k = 0; k < cfg->nkinds; k++) {
            const struct measure *x = &res->m[p][k];
            char reps[MAX_REPS * 12] = "";
            size_t off = 0;
            /* three figures are plenty for one repetition, and keep the row
             * on one line at 80 columns */
            for (int r = 0; r < cfg->reps && off < sizeof reps; r++)
                off += (size_t)snprintf(reps + off, sizeof reps - off, "%s%.*f", r ? " " : "",
                                        x->mops[r] >= 100 ? 0 : 1, x->mops[r]);
            struct ct_cell row[8];
            int c = 0;
            if (sweep)
                row[c++] = by_threads ? CT_INT(res->pts[p].threads)
                                      : CT_NUM(res->pts[p].write_pct, 0);
            row[c++] = CT_TEXT(cfg->kinds[k]->name);
            row[c++] = CT_NUM(x->st.min, 1);
            row[c++] = CT_NUM(x->st.median, 1);
            row[c++] = CT_NUM(x->st.max, 1);
            row[c++] = CT_NUM(spread_pct(&x->st), 0);
            row[c++] = CT_NUM(100 * x->bz.median, 0);
            row[c++] = CT_TEXT(reps);
            ct_table_row_(t, (size_t)c, row);
        }
    }
}

/* What each kind is, for the modes that compare kinds at one point. */
static void table_kinds(const struct config *cfg)
{
    static const char *const cols[] = { "kind", "how", NULL };
    struct ct_table *t = ct_table_new(cfg->run, "kinds", "the locks", cols);
    for (int k = 0; k < cfg->nkinds; k++)
        ct_table_row(t, CT_TEXT(cfg->kinds[k]->name), CT_TEXT(cfg->kinds[k]->how));
}

/* Compare mode: one row per kind and a bar chart.  What each kind is and
 * the range of its repetitions have tables of their own, so this one fits
 * 80 columns. */
static void compare_table(const struct config *cfg, const struct point *p,
                          const struct measure *m)
{
    int base = base_kind(cfg);
    char rel[48];
    snprintf(rel, sizeof rel, "relative|x %s", cfg->kinds[base]->name);
    const char *const cols[] = {
        "kind", "mops|M ops/s", rel, "ns_per_op|ns/op", "cpus|CPUs",
        "asleep_pct|asleep %", "reads", "writes", NULL,
    };
    char title[96];
    if (cfg->reps == 1)
        snprintf(title, sizeof title, "%s: one repetition (ns/op as one thread sees it)",
                 p->label);
    else
        snprintf(title, sizeof title, "%s: median of %d repetitions (ns/op as one thread sees it)",
                 p->label, cfg->reps);
    struct ct_table *t = ct_table_new(cfg->run, "results", title, cols);
    for (int k = 0; k < cfg->nkinds; k++)
        ct_table_row(t, CT_TEXT(cfg->kinds[k]->name), CT_NUM(m[k].st.median, 1),
                     CT_NUM(m[base].st.median > 0 ? m[k].st.median / m[base].st.median : 0, 2),
                     CT_NUM(m[k].ns.median, 1), CT_NUM(m[k].cpu.median, 2),
                     CT_NUM(100 * m[k].sleep.median, 0), CT_INT(m[k].reads),
                     CT_INT(m[k].writes));
    ct_bars(cfg->run, t, "throughput, median (longer is faster)", 0, 1, "M ops/s");
}

/* Say that the spread hides the difference between kinds a and b, and how
 * to get a steadier figure. */
static void cannot_tell(struct ct_run *run, const char *a, const char *b, double ratio,
                        const struct measure *ma, const struct measure *mb)
{
    if (ma->st.n < 2) {
        ct_takeaway(run,
                    "%s ran at %.2fx %s's rate, but from one repetition each: with no "
                    "spread to judge by, this run cannot tell the two apart. Use reps=3 or "
                    "more.",
                    a, ratio, b);
        return;
    }
    ct_takeaway(run,
                "%s ran at %.2fx %s's median, but their repetitions overlap (spread %.0f%% "
                "and %.0f%% of the median): this run cannot tell the two apart, let alone "
                "say why. For a steadier figure use more reps and a longer duration-ms, on "
                "a quieter machine.",
                a, ratio, b, spread_pct(&ma->st), spread_pct(&mb->st));
}

/* The guide's question: did the reader-writer lock beat the mutex? */
static void takeaway_rwlock_vs_mutex(struct ct_run *run, const struct measure *rw,
                                     const struct measure *mu)
{
    double r = rw->st.median / mu->st.median;
    if (!apart(rw, mu))
        cannot_tell(run, "pthread_rwlock_t", "the mutex", r, rw, mu);
    else if (r >= 1.15)
        ct_takeaway(run,
                    "pthread_rwlock_t did %.2fx the mutex's operations: here the guide's "
                    "advice holds, readers gained from sharing the lock.", r);
    else if (r <= 0.87)
        ct_takeaway(run,
                    "pthread_rwlock_t managed only %.2fx the mutex's rate, and the "
                    "repetitions do not overlap. Its readers never wait for each other, but "
                    "each still writes the lock's reader count, so with critical sections "
                    "this short both locks are bound by one cache line moving between "
                    "cores, and the rwlock does more work per trip.", r);
    else
        ct_takeaway(run,
                    "pthread_rwlock_t and the mutex were within 15%% of each other (%.2fx): "
                    "letting readers share bought little, because every read still writes "
                    "the lock's shared state.", r);
}

/* Spinning bets that the holder is on a CPU and about to let go; with more
 * threads than cores that bet can lose, so say which way it went. */
static void takeaway_spin(struct ct_run *run, const struct point *p, const struct measure *sp,
                          const struct measure *mu)
{
    double x = sp->st.median / mu->st.median;
    if (!apart(sp, mu))
        ct_takeaway(run,
                    "With %d threads on %d core%s the spinlock ran at %.2fx the mutex, but %s: "
                    "this run cannot tell them apart.",
                    p->threads, ct_cpus(), plural(ct_cpus()), x,
                    sp->st.n < 2 ? "each was timed once" : "their repetitions overlap");
    else if (x < 1)
        ct_takeaway(run,
                    "With %d threads on %d core%s the spinlock ran at %.2fx the mutex: a waiter "
                    "spins while the holder may not even be on a CPU.",
                    p->threads, ct_cpus(), plural(ct_cpus()), x);
    else
        ct_takeaway(run,
                    "With %d threads on %d core%s the spinlock still ran at %.2fx the mutex: "
                    "spinning bets that the holder is running and lets go soon, and in this "
                    "run that bet cost less than the mutex's sleeps and wake-ups.",
                    p->threads, ct_cpus(), plural(ct_cpus()), x);
}

static void takeaway_brlock(struct ct_run *run, const struct point *p, const struct measure *br,
                            const struct measure *rw)
{
    double r = br->st.median / rw->st.median;
    if (!apart(br, rw)) {
        cannot_tell(run, "brlock", "pthread_rwlock_t", r, br, rw);
        return;
    }
    ct_takeaway(run, "brlock got through %.1fx as many operations as pthread_rwlock_t%s. %s", r,
                p->write_pct > 0 ? " even with writes mixed in" : "",
                r >= 1.5   ? "Its readers write only a counter on their own cache line, so "
                             "they do not slow each other down; the bill goes to writers, "
                             "which must take the flag's line from every reader and look at "
                             "every slot in use."
                : r >= 1.0 ? "Its advantage is small here: with this many writes (or this "
                             "few threads) what each write costs every reader eats into the "
                             "readers' savings."
                           : "At this write share what each write costs every reader "
                             "outweighs what the readers save.");
}

/* The seqlock against the best holding kind there is to compare it with
 * (brlock, else pthread_rwlock_t), and what its readers paid instead. */
static void takeaway_seqlock(struct ct_run *run, const struct point *p, const struct measure *sq,
                             const struct measure *other, const char *other_name)
{
    if (other && other->st.median > 0) {
        double r = sq->st.median / other->st.median;
        if (!apart(sq, other))
            cannot_tell(run, "seqlock", other_name, r, sq, other);
        else if (r >= 1)
            ct_takeaway(run,
                        "seqlock got through %.1fx as many operations as %s. Its readers "
                        "write no shared memory at all, so a write takes no reader's cache "
                        "line and never waits for a reader to leave.",
                        r, other_name);
        else
            ct_takeaway(run,
                        "seqlock managed only %.2fx %s's rate: at %g%% writes its readers "
                        "had to start over too often.",
                        r, other_name, p->write_pct);
    }
    if (sq->reads == 0)
        return;
    if (sq->retries == 0)
        ct_takeaway(run,
                    "No seqlock read had to be done again%s: the price of writing nothing "
                    "is paid only when a writer comes in during a read.",
                    p->write_pct > 0 ? " in this run" : " (there were no writes)");
    else {
        char again[32], reads[32];
        ct_group_digits(sq->retries, again, sizeof again);
        ct_group_digits(sq->reads, reads, sizeof reads);
        ct_takeaway(run,
                    "The price: %s of its %s reads (%.1f per 1,000) saw a writer come in "
                    "and were read again, and its readers may read only atomics and must "
                    "throw away what they read until the check passes.",
                    again, reads, 1000.0 * (double)sq->retries / (double)sq->reads);
    }
}

/* Threads that take turns do not add up: say so when the busiest thread
 * did far more than its share (at least half of all the operations, and
 * half again its fair share). */
static void takeaway_turns(const struct config *cfg, const struct point *p,
                           const struct measure *m)
{
    if (p->threads < 2)
        return;
    double fair = 1.0 / p->threads, at_least = fmax(0.5, 1.5 * fair);
    char names[256] = "", shares[128] = "";
    size_t on = 0, os = 0;
    int n = 0, shown = 0;
    for (int k = 0; k < cfg->nkinds; k++)
        n += m[k].bz.median >= at_least;
    if (n == 0)
        return;
    for (int k = 0; k < cfg->nkinds; k++) {
        if (m[k].bz.median < at_least)
            continue;
        const char *sep = shown == 0 ? "" : shown == n - 1 ? " and " : ", ";
        on += (size_t)snprintf(names + on, on < sizeof names ? sizeof names - on : 0, "%s%s",
                               sep, cfg->kinds[k]->name);
        os += (size_t)snprintf(shares + os, os < sizeof shares ? sizeof shares - os : 0,
                               "%s%.0f%%", sep, 100 * m[k].bz.median);
        shown++;
    }
    ct_takeaway(cfg->run,
                "%s took turns more than %s side by side: the busiest of the %d threads did "
                "%s of the operations (\"busiest %%\", a fair share being %.0f%%). Threads "
                "that take turns do not add up; threads=1 shows what one does alone.",
                names, n == 1 ? "it ran" : "they ran", p->threads, shares, 100 * fair);
}

/* Operations per second and CPUs kept busy are two questions: a lock whose
 * waiters sleep leaves a core idle, and a thread running alone never waits
 * for a cache line.  The scheduler's own accounting tells a thread asleep
 * in the lock from one waiting for a CPU that something else holds. */
static void takeaway_cpus(const struct config *cfg, const struct point *p,
                          const struct measure *m, int best)
{
    int avail = p->threads < ct_cpus() ? p->threads : ct_cpus();
    int idle = 0, queued = 0;
    for (int k = 1; k < cfg->nkinds; k++) {
        idle = m[k].cpu.median < m[idle].cpu.median ? k : idle;
        queued = m[k].rq.median > m[queued].rq.median ? k : queued;
    }
    if (p->threads <= ct_cpus() && m[queued].rq.median >= 0.10)
        ct_takeaway(cfg->run,
                    "The machine was busy: %s's threads spent %.0f%% of their time ready to "
                    "run but waiting for a CPU, which %d thread%s on %d CPU%s would not do if "
                    "nothing else ran. Threads taking turns on one CPU do not fight over "
                    "cache lines, so these figures measure the machine's load as much as the "
                    "locks: run again on a quiet machine.",
                    cfg->kinds[queued]->name, 100 * m[queued].rq.median, p->threads,
                    plural(p->threads), ct_cpus(), plural(ct_cpus()));
    if (avail < 2 || m[idle].sleep.median < 0.25 || m[idle].cpu.median >= 0.75 * avail ||
        m[best].cpu.median <= 0)
        return;
    double idle_per_cpu = m[idle].st.median / m[idle].cpu.median;
    double best_per_cpu = m[best].st.median / m[best].cpu.median;
    char head[160];
    snprintf(head, sizeof head,
             "%s kept only %.2f of the %d CPUs busy: its threads spent %.0f%% of their time "
             "asleep in the lock.",
             cfg->kinds[idle]->name, m[idle].cpu.median, avail, 100 * m[idle].sleep.median);
    if (idle_per_cpu >= best_per_cpu)
        ct_takeaway(cfg->run,
                    "%s Yet per CPU-second it did %.1f M operations, more than the %.1f M of "
                    "%s, the best median: a thread running alone while the other sleeps never "
                    "waits for a cache line. Ask how many cores a figure used.",
                    head, idle_per_cpu, best_per_cpu, cfg->kinds[best]->name);
    else
        ct_takeaway(cfg->run,
                    "%s Per CPU-second it did %.1f M operations, against %.1f M for %s, the "
                    "best median: here sleeping did not pay, since each sleep costs a wake-up "
                    "system call by the thread that lets go.",
                    head, idle_per_cpu, best_per_cpu, cfg->kinds[best]->name);
}

/* "a (1.0 .. 2.0), b (1.5 .. 2.5) and c (..)": the kinds marked in `on`
 * with the range of their repetitions. */
static void list_ranges(const struct config *cfg, const struct measure *m, const bool *on,
                        char *buf, size_t size)
{
    int n = 0, left = 0;
    for (int k = 0; k < cfg->nkinds; k++)
        left += on[k];
    size_t off = 0;
    buf[0] = '\0';
    for (int k = 0; k < cfg->nkinds && off < size; k++) {
        if (!on[k])
            continue;
        n++;
        off += (size_t)snprintf(buf + off, size - off, "%s%s (%.1f .. %.1f)",
                                n == 1 ? "" : n == left ? " and " : ", ", cfg->kinds[k]->name,
                                m[k].st.min, m[k].st.max);
    }
}

/* Which kind was fastest and which slowest, named only when the ranges of
 * the repetitions say so; otherwise which kinds are level. */
static void takeaway_extremes(const struct config *cfg, const struct point *p,
                              const struct measure *m)
{
    struct ct_run *run = cfg->run;
    double lo[MAX_KINDS], hi[MAX_KINDS], med[MAX_KINDS];
    bool level[MAX_KINDS];
    char list[512];
    for (int k = 0; k < cfg->nkinds; k++) {
        lo[k] = m[k].st.min;
        hi[k] = m[k].st.max;
        med[k] = m[k].st.median;
    }
    int top, bottom;
    if (cfg->reps < 2) {
        ct_rwbench_extreme(lo, hi, med, cfg->nkinds, cfg->reps, true, &top, level);
        ct_rwbench_extreme(lo, hi, med, cfg->nkinds, cfg->reps, false, &bottom, level);
        ct_takeaway(run,
                    "With %s, %s had the highest rate (%.1f M ops/s) and %s the lowest "
                    "(%.1f), but from one repetition per kind: with no spread to judge by, "
                    "this run names no fastest or slowest kind. Use reps=3 or more.",
                    p->label, cfg->kinds[top]->name, med[top], cfg->kinds[bottom]->name,
                    med[bottom]);
        return;
    }
    if (ct_rwbench_extreme(lo, hi, med, cfg->nkinds, cfg->reps, true, &top, level))
        ct_takeaway(run,
                    "With %s, %s was fastest: its slowest repetition (%.1f M ops/s) beat every "
                    "other kind's fastest.",
                    p->label, cfg->kinds[top]->name, lo[top]);
    else {
        list_ranges(cfg, m, level, list, sizeof list);
        ct_takeaway(run,
                    "With %s no kind was clearly fastest: the repetitions (M ops/s) of %s "
                    "overlap, so they are level at the top.",
                    p->label, list);
    }
    if (ct_rwbench_extreme(lo, hi, med, cfg->nkinds, cfg->reps, false, &bottom, level))
        ct_takeaway(run,
                    "%s was slowest: its fastest repetition (%.1f M ops/s) fell short of every "
                    "other kind's slowest.",
                    cfg->kinds[bottom]->name, hi[bottom]);
    else {
        list_ranges(cfg, m, level, list, sizeof list);
        ct_takeaway(run, "At the bottom, %s overlap: no kind was clearly slowest.", list);
    }
}

static void compare_takeaways(const struct config *cfg, const struct point *p,
                              const struct measure *m)
{
    struct ct_run *run = cfg->run;
    int best = 0;
    for (int k = 1; k < cfg->nkinds; k++)
        best = m[k].st.median > m[best].st.median ? k : best;
    if (cfg->nkinds == 1)
        ct_takeaway(run,
                    "With %s, %s ran at %.1f M ops/s, %.1f ns per operation as each thread saw "
                    "it. Add kinds (kinds=all) to have something to compare it with.",
                    p->label, cfg->kinds[0]->name, m[0].st.median, m[0].ns.median);
    else
        takeaway_extremes(cfg, p, m);
    int mu = kind_index(cfg, "mutex"), rw = kind_index(cfg, "rwlock"),
        br = kind_index(cfg, "brlock"), sp = kind_index(cfg, "spin"),
        sq = kind_index(cfg, "seqlock");
    if (mu >= 0 && rw >= 0 && m[mu].st.median > 0)
        takeaway_rwlock_vs_mutex(run, &m[rw], &m[mu]);
    if (br >= 0 && rw >= 0 && m[rw].st.median > 0)
        takeaway_brlock(run, p, &m[br], &m[rw]);
    if (sp >= 0 && mu >= 0 && p->threads > ct_cpus() && m[mu].st.median > 0)
        takeaway_spin(run, p, &m[sp], &m[mu]);
    if (sq >= 0) {
        int vs = br >= 0 ? br : rw;
        takeaway_seqlock(run, p, &m[sq], vs >= 0 ? &m[vs] : NULL,
                         vs == br ? "brlock" : "pthread_rwlock_t");
    }
    takeaway_turns(cfg, p, m);
    if (cfg->nkinds > 1)
        takeaway_cpus(cfg, p, m, best);
}

/* Sweep modes: a table with one column per kind and a chart per kind. */
static void sweep_table(const struct result *res, bool by_threads)
{
    const struct config *cfg = &res->cfg;
    const char *cols[2 + MAX_KINDS + 1];
    char names[MAX_KINDS][40];
    int nc = 0;
    cols[nc++] = "threads";
    cols[nc++] = "write_pct|write %";
    for (int k = 0; k < cfg->nkinds; k++) {
        snprintf(names[k], sizeof names[k], "%s|%s", cfg->kinds[k]->name, cfg->kinds[k]->name);
        cols[nc++] = names[k];
    }
    cols[nc] = NULL;
    struct ct_table *t = ct_table_new(cfg->run, "sweep", "median M ops/s at each point", cols);
    for (int p = 0; p < res->npts; p++) {
        struct ct_cell row[2 + MAX_KINDS];
        row[0] = CT_INT(res->pts[p].threads);
        row[1] = CT_NUM(res->pts[p].write_pct, 0);
        for (int k = 0; k < cfg->nkinds; k++)
            row[2 + k] = CT_NUM(res->m[p][k].st.median, 1);
        ct_table_row_(t, (size_t)(2 + cfg->nkinds), row);
    }
    for (int k = 0; k < cfg->nkinds; k++) {
        char title[64];
        snprintf(title, sizeof title, "%s, M ops/s by %s", cfg->kinds[k]->name,
                 by_threads ? "threads" : "write share");
        ct_bars(cfg->run, t, title, by_threads ? 0 : 1, 2 + k, "M ops/s");
    }
}

/* brlock against pthread_rwlock_t along the write-share sweep. */
static void sweep_brlock(const struct result *res, int br, int rw)
{
    const struct point *pts = res->pts;
    int last = res->npts - 1, cross = -1;
    for (int p = 0; p <= last && cross < 0; p++) {
        if (res->m[p][br].st.median < res->m[p][rw].st.median &&
            apart(&res->m[p][br], &res->m[p][rw]))
            cross = p;
    }
    double first_r = res->m[0][rw].st.median > 0
                         ? res->m[0][br].st.median / res->m[0][rw].st.median : 0;
    double last_r = res->m[last][rw].st.median > 0
                        ? res->m[last][br].st.median / res->m[last][rw].st.median : 0;
    if (cross < 0)
        ct_takeaway(res->cfg.run,
                    "brlock was never clearly behind pthread_rwlock_t at the write shares "
                    "tried; its lead went from %.1fx at %g%% writes to %.1fx at %g%%.",
                    first_r, pts[0].write_pct, last_r, pts[last].write_pct);
    else
        ct_takeaway(res->cfg.run,
                    "brlock fell clearly behind pthread_rwlock_t at %g%% writes: from there "
                    "on, what each write costs (taking the flag's line from every reader, "
                    "reading every slot in use, and holding every reader back meanwhile) "
                    "outweighs what its cheap reads save. A read-mostly lock is for data "
                    "that is read-mostly.",
                    pts[cross].write_pct);
}

/* Threads sweep: what happened past the machine's CPU count, kind by
 * kind, as the ranges of the repetitions show it (with the CPUs each kept
 * busy, which tells more threads that filled idle cores from more threads
 * taking turns). */
static void sweep_past_cpus(const struct result *res)
{
    const struct config *cfg = &res->cfg;
    int cpus = ct_cpus(), last = res->npts - 1, c = -1;
    for (int p = 0; p <= last; p++)
        c = res->pts[p].threads <= cpus ? p : c;
    if (c < 0 || c == last || res->pts[last].threads <= cpus)
        return;
    char line[1024], level[256] = "";
    size_t off = 0, loff = 0;
    for (int k = 0; k < cfg->nkinds; k++) {
        const struct measure *a = &res->m[c][k], *b = &res->m[last][k];
        int ch = ct_rwbench_change(a->st.min, a->st.max, b->st.min, b->st.max, cfg->reps);
        if (ch == 0 && loff < sizeof level)
            loff += (size_t)snprintf(level + loff, sizeof level - loff, "%s%s",
                                     loff ? ", " : "", cfg->kinds[k]->name);
        else if (ch != 0 && off < sizeof line)
            off += (size_t)snprintf(line + off, sizeof line - off,
                                    "%s%s %s from %.1f to %.1f M ops/s (CPUs busy %.2f to %.2f)",
                                    off ? "; " : "", cfg->kinds[k]->name,
                                    ch > 0 ? "rose" : "fell", a->st.median, b->st.median,
                                    a->cpu.median, b->cpu.median);
    }
    if (off == 0)
        snprintf(line, sizeof line, "%s",
                 cfg->reps < 2 ? "from one repetition per point this run cannot tell a "
                                 "change from noise (use reps=3 or more)"
                               : "no kind clearly rose or fell: every kind's repetitions "
                                 "overlap");
    else if (loff > 0 && off < sizeof line)
        snprintf(line + off, sizeof line - off, "; level (repetitions overlap): %s", level);
    ct_takeaway(cfg->run,
                "This machine has %d CPU%s, so from %d to %d threads the extra threads take "
                "turns on the cores. In this run: %s.",
                cpus, cpus == 1 ? "" : "s", res->pts[c].threads, res->pts[last].threads, line);
}

static void sweep_takeaways(const struct result *res, bool by_threads)
{
    const struct config *cfg = &res->cfg;
    const struct point *pts = res->pts;
    int last = res->npts - 1, best = 0, worst = 0;
    char line[1024];
    size_t off = 0;
    double ratio[MAX_KINDS];
    for (int k = 0; k < cfg->nkinds; k++) {
        double first = res->m[0][k].st.median;
        ratio[k] = first > 0 ? res->m[last][k].st.median / first : 0;
        best = ratio[k] > ratio[best] ? k : best;
        worst = ratio[k] < ratio[worst] ? k : worst;
        if (off < sizeof line)
            off += (size_t)snprintf(line + off, sizeof line - off, "%s%s %.2fx", k ? ", " : "",
                                    cfg->kinds[k]->name, ratio[k]);
    }
    if (by_threads) {
        ct_takeaway(cfg->run, "From %d to %d threads, throughput changed by: %s.",
                    pts[0].threads, pts[last].threads, line);
        if (cfg->nkinds > 1)
            ct_takeaway(cfg->run, "By median, %s scaled best (%.2fx) and %s worst (%.2fx).",
                        cfg->kinds[best]->name, ratio[best], cfg->kinds[worst]->name,
                        ratio[worst]);
        sweep_past_cpus(res);
        return;
    }
    ct_takeaway(cfg->run, "From %g%% to %g%% writes, throughput changed by: %s.",
                pts[0].write_pct, pts[last].write_pct, line);
    int br = kind_index(cfg, "brlock"), rw = kind_index(cfg, "rwlock");
    if (br >= 0 && rw >= 0)
        sweep_brlock(res, br, rw);
}

/* Classic mode: the guide's numbers, timed its way and with a gate. */
static void classic_table(const struct config *cfg, const struct measure *m)
{
    int base = base_kind(cfg);
    char rel[48];
    snprintf(rel, sizeof rel, "relative|x %s", cfg->kinds[base]->name);
    const char *const cols[] = {
        "kind", "guide_ms|spawn..join ms", "gated_ms|reads only ms",
        "mreads|M reads/s", rel, "spread_pct|spread %", NULL,
    };
    struct ct_table *t = ct_table_new(cfg->run, "classic",
                                      cfg->reps == 1
                                          ? "100 threads x 1000 reads, one repetition"
                                          : "100 threads x 1000 reads, median of the repetitions",
                                      cols);
    for (int k = 0; k < cfg->nkinds; k++)
        ct_table_row(t, CT_TEXT(cfg->kinds[k]->name),
                     CT_NUM(m[k].wall.median, 2), CT_NUM(m[k].span.median, 2),
                     CT_NUM(m[k].st.median, 1),
                     CT_NUM(m[base].st.median > 0 ? m[k].st.median / m[base].st.median : 0, 2),
                     CT_NUM(spread_pct(&m[k].st), 0));
    ct_bars(cfg->run, t, "the guide's timing: spawn 100 threads .. join them (shorter is faster)",
            0, 1, "ms");
    ct_bars(cfg->run, t, "the reads alone, threads released together (shorter is faster)", 0, 2,
            "ms");
}

static void report_classic(const struct config *cfg, const struct measure *m)
{
    struct ct_run *run = cfg->run;
    classic_table(cfg, m);
    /* the spawn-to-join runs and the gated runs are separate runs of the
     * same work, so their difference estimates the cost of spawning and
     * joining 100 threads */
    double share = 0;
    for (int k = 0; k < cfg->nkinds; k++)
        share += m[k].wall.median > 0 ? 1 - m[k].span.median / m[k].wall.median : 0;
    share = fmax(0, 100 * share / cfg->nkinds);
    ct_result_num(run, "spawn_share_pct", "spawn..join not spent reading (est.)", share, 0,
                  "%");
    int mu = kind_index(cfg, "mutex"), rw = kind_index(cfg, "rwlock");
    if (mu >= 0 && rw >= 0) {
        /* a longer time is a loss: +1 when the rwlock's every run took
         * longer than the mutex's every run */
        int ch = ct_rwbench_change(m[mu].wall.min, m[mu].wall.max, m[rw].wall.min,
                                   m[rw].wall.max, cfg->reps);
        ct_takeaway(run,
                    "Timed the guide's way, the mutex took %.2f ms and pthread_rwlock_t %.2f ms "
                    "(%s); with the threads started first and released together, the reads "
                    "alone took %.2f and %.2f ms.",
                    m[mu].wall.median, m[rw].wall.median,
                    cfg->reps < 2 ? "timed once each, which cannot tell a winner: use reps=3"
                    : ch > 0      ? "the mutex won"
                    : ch < 0      ? "the rwlock won"
                                  : "no winner: the repetitions overlap",
                    m[mu].span.median, m[rw].span.median);
    }
    ct_takeaway(run,
                "Of the guide's spawn-to-join time, about %.0f%% went to creating and joining "
                "the 100 threads (spawn-to-join minus the gated reads, averaged over the "
                "kinds) and %.0f%% to the reads themselves, so the guide's timing measured "
                "%s. To compare locks, start the threads first, release them together, and "
                "let each one time itself.",
                share, 100 - share,
                share >= 50 ? "thread creation more than locking"
                            : "locking more than thread creation");
}

/* How many measured runs each kind made (warm-ups are not checked). */
static long long runs_per_kind(const struct result *res)
{
    return (long long)res->cfg.reps * res->npts * (res->classic ? 2 : 1);
}

/* What the check of one kind covers, in words: "in its 1 run", "in all 5
 * runs", "in all 30 runs (5 reps x 6 points)", "in all 2 runs (1 rep, 2
 * timings each)". */
static void runs_text(const struct result *res, char *buf, size_t size)
{
    long long n = runs_per_kind(res);
    int reps = res->cfg.reps;
    int off = snprintf(buf, size, n == 1 ? "in its 1 run" : "in all %lld runs", n);
    if (off < 0 || (size_t)off >= size)
        return;
    if (res->classic)
        snprintf(buf + off, size - (size_t)off, " (%d rep%s, 2 timings each)", reps,
                 plural(reps));
    else if (res->npts > 1)
        snprintf(buf + off, size - (size_t)off, " (%d rep%s x %d points)", reps, plural(reps),
                 res->npts);
}

/* The correctness checks and the run's facts, whatever the mode. */
static void report_facts(const struct result *res)
{
    const struct config *cfg = &res->cfg;
    struct ct_run *run = cfg->run;
    int cpus = ct_cpus();
    ct_result_int(run, "cpus", "CPUs online", cpus, NULL);
    ct_result_handoff(run, res->handoff_ns[0], res->handoff_ns[1]);
    ct_result_int(run, "max_threads", "threads (most at one point)", res->max_threads, NULL);
    if (res->max_threads > cpus) {
        char warn[160];
        snprintf(warn, sizeof warn, "%d threads on %d CPU%s: threads take turns, spinning hurts",
                 res->max_threads, cpus, plural(cpus));
        ct_result_text(run, "warning", "warning", warn);
    }
    ct_result_int(run, "reps", "repetitions per measurement", cfg->reps, NULL);
    if (cfg->cs_iters > 0)
        ct_result_int(run, "cs_iters", "busy-loop iterations per critical section",
                      cfg->cs_iters, NULL);
    for (int k = 0; k < cfg->nkinds; k++) {
        if (!cfg->kinds[k]->read_begin)
            continue;
        /* what an optimistic kind's readers paid instead of waiting */
        char key[48], label[64];
        snprintf(key, sizeof key, "%s_retries", cfg->kinds[k]->name);
        snprintf(label, sizeof label, "%s reads read again", cfg->kinds[k]->name);
        ct_result_int(run, key, label, res->tot[k].retries, NULL);
    }
    char runs[96];
    runs_text(res, runs, sizeof runs);
    for (int k = 0; k < cfg->nkinds; k++)
        ct_check(run, res->tot[k].verified && res->tot[k].reps == runs_per_kind(res),
                 "%s: counter = writes %s; %lld torn read%s, %lld write%s",
                 cfg->kinds[k]->name, runs, res->tot[k].torn, plural(res->tot[k].torn),
                 res->tot[k].writes, plural(res->tot[k].writes));
}

static void report(const struct result *res)
{
    const struct config *cfg = &res->cfg;
    struct ct_run *run = cfg->run;
    int cpus = ct_cpus();
    report_facts(res);
    if (res->npts == 1)
        table_kinds(cfg);
    if (res->classic)
        report_classic(cfg, res->m[0]);
    else if (res->npts == 1) {
        compare_table(cfg, &res->pts[0], res->m[0]);
        compare_takeaways(cfg, &res->pts[0], res->m[0]);
    } else {
        bool by_threads = strcmp(res->mode, "threads") == 0;
        sweep_table(res, by_threads);
        sweep_takeaways(res, by_threads);
    }
    table_reps(res);
    ct_takeaway_handoff(run, res->handoff_ns[0], res->handoff_ns[1]);
    if (res->max_threads > cpus && !res->classic)
        ct_takeaway(run,
                    "Caution: with more threads (%d) than CPUs (%d) part of every figure is "
                    "waiting for a core, not for a lock.",
                    res->max_threads, cpus);
    else if (cpus <= 2)
        ct_takeaway(run,
                    "This machine has %d CPU%s: contention and scaling look very different on "
                    "16 or 64 cores, where a shared cache line is passed among many more.",
                    cpus, cpus == 1 ? "" : "s");
}

/* ---- the run ----------------------------------------------------------- */

/* Busy-loop iterations per nanosecond, measured now. */
static double calibrate(void)
{
    long n = 1 << 20;
    int64_t t0 = ct_clock_ns();
    busy(n);
    int64_t dt = ct_clock_ns() - t0;
    return dt > 0 ? (double)n / (double)dt : 1;
}

static int make_points(struct ct_run *run, const char *mode, struct point *pts)
{
    int n = 0;
    int threads = (int)ct_param_int(run, "threads");
    double wp = ct_param_num(run, "write-pct");
    if (strcmp(mode, "threads") == 0) {
        int max = (int)ct_param_int(run, "max-threads");
        for (int t = 1; n < MAX_POINTS; t *= 2) {
            pts[n++] = (struct point){ .threads = t < max ? t : max, .write_pct = wp };
            if (t >= max)
                break;
        }
    } else if (strcmp(mode, "writes") == 0) {
        for (size_t i = 0; i < sizeof sweep_writes / sizeof sweep_writes[0]; i++)
            pts[n++] = (struct point){ .threads = threads, .write_pct = sweep_writes[i] };
    } else if (strcmp(mode, "classic") == 0) {
        pts[n++] = (struct point){ .threads = CLASSIC_THREADS, .write_pct = 0 };
    } else {
        pts[n++] = (struct point){ .threads = threads, .write_pct = wp };
    }
    for (int i = 0; i < n; i++)
        snprintf(pts[i].label, sizeof pts[i].label, "%d thr, %g%% writes", pts[i].threads,
                 pts[i].write_pct);
    return n;
}

/* Read the parameters into res (kinds, mode, points, the calibrated
 * critical section). */
static void read_params(struct ct_run *run, struct result *res)
{
    struct config *cfg = &res->cfg;
    *cfg = (struct config){
        .run = run,
        .reps = (int)ct_param_int(run, "reps"),
        .ops = ct_param_int(run, "ops"),
        .duration_ns = ct_param_int(run, "duration-ms") * CT_NS_PER_MS,
    };
    for (size_t i = 0; i < ct_lock_kind_count && cfg->nkinds < MAX_KINDS; i++) {
        if (ct_param_has(run, "kinds", ct_lock_kinds[i].name))
            cfg->kinds[cfg->nkinds++] = &ct_lock_kinds[i];
    }
    res->mode = ct_param_choice(run, "mode");
    res->classic = strcmp(res->mode, "classic") == 0;
    res->npts = make_points(run, res->mode, res->pts);
    cfg->point_in_say = res->npts > 1;
    res->max_threads = 0;
    for (int p = 0; p < res->npts; p++)
        res->max_threads = res->pts[p].threads > res->max_threads ? res->pts[p].threads
                                                                  : res->max_threads;
    long cs_ns = (long)ct_param_int(run, "cs-ns");
    cfg->cs_iters = cs_ns > 0 ? (long)((double)cs_ns * calibrate() + 0.5) : 0;
}

/* Say what is about to be measured. */
static void announce(const struct result *res)
{
    const struct config *cfg = &res->cfg;
    struct ct_run *run = cfg->run;
    long cs_ns = (long)ct_param_int(run, "cs-ns");
    if (res->classic)
        ct_say(run, "classic: %d threads x %d reads, no writes, as in the guide (threads, ops, "
                    "duration-ms and write-pct are not used)",
               CLASSIC_THREADS, CLASSIC_OPS);
    else if (cfg->ops == 0)
        ct_say(run, "about %.1f s: %d point%s, %d kind%s, %d rep%s of %lld ms (+ warm-up)",
               (double)res->npts * cfg->nkinds * (cfg->reps + 0.25) *
                   (double)cfg->duration_ns / 1e9,
               res->npts, res->npts == 1 ? "" : "s", cfg->nkinds, cfg->nkinds == 1 ? "" : "s",
               cfg->reps, cfg->reps == 1 ? "" : "s", (long long)(cfg->duration_ns / CT_NS_PER_MS));
    if (cs_ns > 0)
        ct_say(run, "critical section: %ld busy-loop iterations for ~%ld ns", cfg->cs_iters,
               cs_ns);
    if (res->max_threads > ct_cpus())
        ct_say(run, "note: up to %d threads on %d CPU%s; threads will take turns",
               res->max_threads, ct_cpus(), ct_cpus() == 1 ? "" : "s");
}

static int bench_run(struct ct_run *run)
{
    struct result *res = calloc(1, sizeof *res);
    if (!res)
        return -ENOMEM;
    read_params(run, res);
    struct config *cfg = &res->cfg;
    int rc = 0;
    if (cfg->nkinds == 0) {
        ct_say(run, "no lock kinds chosen: nothing to measure");
        ct_check(run, false, "at least one lock kind to measure");
        ct_takeaway(run, "Choose some kinds, e.g. kinds=mutex,rwlock,brlock.");
        goto out;
    }
    announce(res);
    res->m = calloc((size_t)res->npts, sizeof *res->m);
    if (!res->m) {
        rc = -ENOMEM;
        goto out;
    }
    for (int k = 0; k < cfg->nkinds; k++)
        res->tot[k] = (struct kind_total){ .verified = true };
    res->handoff_ns[0] = ct_line_handoff_ns();
    for (int p = 0; p < res->npts && rc == 0 && !ct_cancelled(run); p++) {
        for (int k = 0; k < cfg->nkinds && rc == 0 && !ct_cancelled(run); k++)
            rc = measure(cfg, cfg->kinds[k], &res->pts[p], res->classic, &res->m[p][k],
                         &res->tot[k]);
    }
    res->handoff_ns[1] = rc == 0 && !ct_cancelled(run) ? ct_line_handoff_ns() : -1;
    if (rc == 0 && !ct_cancelled(run))
        report(res);
out:
    free(res->m);
    free(res);
    return rc;
}

static const struct ct_param_spec bench_params[] = {
    { "mode", CT_PARAM_CHOICE, "compare", 0, 0, "compare,threads,writes,classic",
      "compare kinds at one point, sweep threads or write share, or the guide's classic" },
    { "kinds", CT_PARAM_SET, "all", 0, 0, CT_LOCK_KIND_NAMES, "lock kinds to measure" },
    { "threads", CT_PARAM_INT, "2", 1, MAX_THREADS, NULL, "threads (compare and writes modes)" },
    { "max-threads", CT_PARAM_INT, "8", 1, MAX_THREADS, NULL,
      "threads sweep: 1, 2, 4, ... up to this" },
    { "write-pct", CT_PARAM_NUM, "1", 0, 100, NULL, "share of operations that write, in %" },
    { "duration-ms", CT_PARAM_INT, "60", 1, 10000, NULL,
      "length of each repetition (when ops=0)" },
    { "ops", CT_PARAM_INT, "0", 0, 100000000, NULL,
      "operations per thread per repetition; 0 runs for duration-ms instead" },
    { "cs-ns", CT_PARAM_INT, "0", 0, 100000, NULL,
      "extra work inside each critical section, in ns (a calibrated busy loop)" },
    { "reps", CT_PARAM_INT, "5", 1, MAX_REPS, NULL, "repetitions per measurement" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_rwlock_bench = {
    .name = "rwlock-bench",
    .chapter = 4,
    .title = "Mutex or RwLock? Measure it",
    .summary = "Throughput of eight locks on read-mostly work; sweeps over threads and writes",
    .intro = "Threads read (and now and then write) one shared value through each kind of "
             "lock: pthread mutex, pthread rwlock (two policies), a spinlock, the teaching "
             "rwlock, the scalable brlock, hslock, whose readers pay no fence, and the "
             "seqlock, whose readers read and then check. Each figure is the median of "
             "several warmed-up repetitions, every repetition is checked, and mode=classic "
             "replays the guide's 100 threads x 1000 reads.",
    .params = bench_params,
    .smoke = "duration-ms=5 reps=2 threads=2",
    .flags = CT_DEMO_BENCH,
    .run = bench_run,
};
