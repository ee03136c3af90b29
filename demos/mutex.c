/* mutex.c - demo `mutex`: ten threads, one counter, one pthread mutex.
 *
 * Shows: the chapter's first program in C.  Each thread locks the mutex,
 * adds 1 to the counter, keeps the lock for a moment (so that holding is
 * visible) and unlocks; the final count is exact and the timeline shows
 * one holder at a time while the others queue.  A second phase runs the
 * increments in a tight loop, first on one thread alone (the uncontended
 * price), then on all of them, counting how often a thread found the mutex
 * taken and how long it then waited.
 * Watch for: the staircase on the timeline (never two '#' in one column),
 * the waits growing thread by thread, and how much dearer an increment
 * gets when the threads share the lock.
 * Lesson: mutual-exclusion (chapter 4).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>

#include "crew.h"
#include "demo.h"
#include "check.h"
#include "clock.h"
#include "stats.h"

#define MAX_THREADS 64
#define CANCEL_EVERY 1024   /* increments between looks at the cancel flag */

/* The plural ending for a count: "1 thread", "2 threads". */
static const char *plural(long long n)
{
    return n == 1 ? "" : "s";
}

struct config {
    int threads;
    double hold_ms;
    long long iters;        /* per thread in the tight loop; 0 skips it */
};

struct shared {
    struct ct_run *run;
    pthread_mutex_t mu;
    long long counter;          /* guarded by mu */
    atomic_int holders;         /* threads inside the critical section now */
    atomic_int max_holders;
    double hold_ms;
    long long iters;
};

struct worker {
    struct ct_member m;         /* first: the crew starts and times it */
    struct shared *sh;
    /* phase 1: when it asked, got and released the lock */
    int64_t asked_ns, got_ns, left_ns;
    long long saw;              /* the counter's value when this thread got in */
    /* phase 2 */
    long long done, contended;
    int64_t wait_ns;
};

/* What phase 1 measured. */
struct once_result {
    int threads;
    long long counter;
    int max_holders;
    struct ct_stats wait, hold;     /* per thread, ms */
    double busy_ms;                 /* first request to last release */
    double hold_sum_ms;             /* the holds added up */
};

/* One run of the tight loop. */
struct loop_result {
    int threads;
    long long counter, done, contended;
    int max_holders;
    int64_t wait_ns;
    double ms;                      /* first start to last finish */
};

/* Count ourselves into the critical section, keeping the maximum seen. */
static void enter(struct shared *sh)
{
    ct_atomic_max(&sh->max_holders, atomic_fetch_add(&sh->holders, 1) + 1);
}

static void leave(struct shared *sh)
{
    atomic_fetch_sub(&sh->holders, 1);
}

static double ns_to_ms(int64_t ns)
{
    return (double)ns / 1e6;
}

/* Phase 1: the guide's thread body, with the lock held long enough to see. */
static void *once_main(void *arg)
{
    struct worker *w = arg;
    struct shared *sh = w->sh;
    if (!ct_member_begin(&w->m))
        return NULL;
    ct_mark(sh->run, CT_WAIT);
    w->asked_ns = ct_clock_ns();
    CT_PT(pthread_mutex_lock(&sh->mu));
    w->got_ns = ct_clock_ns();
    ct_mark(sh->run, CT_HOLD);
    enter(sh);
    w->saw = sh->counter;
    sh->counter = w->saw + 1;
    ct_say(sh->run, "locked after waiting %.1f ms; counter %lld -> %lld",
           ns_to_ms(w->got_ns - w->asked_ns), w->saw, w->saw + 1);
    /* sleeping with a lock held is a bug in real code; here it makes the
     * holding visible (and the sleep ends at once on Ctrl-C) */
    ct_sleep_ms(sh->run, sh->hold_ms);
    leave(sh);
    w->left_ns = ct_clock_ns();
    ct_mark(sh->run, CT_IDLE);  /* before the unlock: the lanes never overlap */
    CT_PT(pthread_mutex_unlock(&sh->mu));
    return NULL;
}

/* Phase 2: increments in a tight loop.  A failed trylock means the mutex
 * was taken when we came: count it and time the wait that follows.
 * (pthread_mutex_lock begins with the same attempt, so this measures
 * rather than changes the lock's behaviour.) */
static void *loop_main(void *arg)
{
    struct worker *w = arg;
    struct shared *sh = w->sh;
    if (!ct_member_begin(&w->m))
        return NULL;
    long long i = 0;
    for (; i < sh->iters; i++) {
        if (i % CANCEL_EVERY == 0 && ct_cancelled(sh->run))
            break;
        int rc = pthread_mutex_trylock(&sh->mu);
        if (rc == EBUSY) {
            int64_t t0 = ct_clock_ns();
            CT_PT(pthread_mutex_lock(&sh->mu));
            w->wait_ns += ct_clock_ns() - t0;
            w->contended++;
        } else {
            CT_PT(rc);
        }
        enter(sh);
        sh->counter++;
        leave(sh);
        CT_PT(pthread_mutex_unlock(&sh->mu));
    }
    w->done = i;
    ct_member_end(&w->m);
    return NULL;
}

/* Summarise the phase-1 workers into *out.  0 or -ENOMEM. */
static int once_summary(const struct worker *w, int n, struct once_result *out)
{
    double waits[MAX_THREADS], holds[MAX_THREADS];
    int64_t lo = INT64_MAX, hi = 0;
    out->hold_sum_ms = 0;
    for (int i = 0; i < n; i++) {
        waits[i] = ns_to_ms(w[i].got_ns - w[i].asked_ns);
        holds[i] = ns_to_ms(w[i].left_ns - w[i].got_ns);
        out->hold_sum_ms += holds[i];
        lo = w[i].asked_ns < lo ? w[i].asked_ns : lo;
        hi = w[i].left_ns > hi ? w[i].left_ns : hi;
    }
    out->busy_ms = hi > lo ? ns_to_ms(hi - lo) : 0;
    int rc = ct_stats_of(waits, (size_t)n, &out->wait);
    return rc ? rc : ct_stats_of(holds, (size_t)n, &out->hold);
}

/* Phase 1: each thread locks once and holds the lock `hold_ms`. */
static int phase_once(struct ct_run *run, const struct config *cfg, struct once_result *out)
{
    int n = cfg->threads;
    struct shared sh = { .run = run, .hold_ms = cfg->hold_ms };
    struct worker w[MAX_THREADS] = { 0 };
    for (int i = 0; i < n; i++)
        w[i].sh = &sh;
    CT_PT(pthread_mutex_init(&sh.mu, NULL));
    ct_section(run, "%d thread%s each lock, add 1, hold %.0f ms, unlock", n, plural(n),
               cfg->hold_ms);
    double span;
    int rc = ct_crew_run(run, w, sizeof w[0], n, once_main, "thread", &span);
    CT_PT(pthread_mutex_destroy(&sh.mu));
    if (rc || ct_cancelled(run))
        return rc;
    out->threads = n;
    out->counter = sh.counter;
    out->max_holders = atomic_load(&sh.max_holders);
    ct_say(run, "final count %lld", sh.counter);
    return once_summary(w, n, out);
}

/* The tight loop with `n` threads of `iters` increments each. */
static int loop_round(struct ct_run *run, int n, long long iters, const char *prefix,
                      struct loop_result *out)
{
    struct shared sh = { .run = run, .iters = iters };
    struct worker w[MAX_THREADS] = { 0 };
    for (int i = 0; i < n; i++)
        w[i].sh = &sh;
    CT_PT(pthread_mutex_init(&sh.mu, NULL));
    int rc = ct_crew_run(run, w, sizeof w[0], n, loop_main, prefix, &out->ms);
    CT_PT(pthread_mutex_destroy(&sh.mu));
    if (rc || ct_cancelled(run))
        return rc;
    *out = (struct loop_result){ .threads = n, .counter = sh.counter, .ms = out->ms,
                                 .max_holders = atomic_load(&sh.max_holders) };
    for (int i = 0; i < n; i++) {
        out->done += w[i].done;
        out->contended += w[i].contended;
        out->wait_ns += w[i].wait_ns;
    }
    ct_say(run, "%lld increment%s, %.1f ms; %lld found it taken", out->done,
           plural(out->done), out->ms, out->contended);
    return 0;
}

/* Phase 2: one thread alone (what an uncontended lock costs), then all. */
static int phase_loop(struct ct_run *run, const struct config *cfg, struct loop_result *alone,
                      struct loop_result *all)
{
    ct_section(run, "1 thread x %lld increment%s in a tight loop", cfg->iters,
               plural(cfg->iters));
    int rc = loop_round(run, 1, cfg->iters, "alone", alone);
    if (rc || ct_cancelled(run) || cfg->threads == 1)
        return rc;
    ct_section(run, "%d threads x %lld increment%s in a tight loop", cfg->threads, cfg->iters,
               plural(cfg->iters));
    return loop_round(run, cfg->threads, cfg->iters, "loop", all);
}

static void report_once(struct ct_run *run, const struct once_result *r)
{
    static const char *const cols[] = {
        "what", "min_ms|min ms", "median_ms|median ms", "max_ms|max ms", "total_ms|total ms", NULL,
    };
    struct ct_table *t = ct_table_new(run, "once", "one increment each (times per thread)", cols);
    ct_table_row(t, CT_TEXT("waiting for the lock"), CT_NUM(r->wait.min, 1),
                 CT_NUM(r->wait.median, 1), CT_NUM(r->wait.max, 1),
                 CT_NUM(r->wait.mean * r->threads, 1));
    ct_table_row(t, CT_TEXT("holding the lock"), CT_NUM(r->hold.min, 1),
                 CT_NUM(r->hold.median, 1), CT_NUM(r->hold.max, 1), CT_NUM(r->hold_sum_ms, 1));
    ct_result_int(run, "once_count", "final count", r->counter, NULL);
    ct_result_num(run, "once_busy_ms", "first request to last release", r->busy_ms, 1, "ms");
    ct_result_int(run, "once_max_holders", "most threads ever inside at once", r->max_holders,
                  NULL);
    ct_check(run, r->counter == r->threads, "one increment each: counter %lld == %d thread%s",
             r->counter, r->threads, plural(r->threads));
    ct_check(run, r->max_holders == 1, "never more than one thread inside the lock (max seen %d)",
             r->max_holders);
    if (r->threads == 1) {
        ct_takeaway(run, "One thread alone held the lock for %.1f ms; it waited %.2f ms to get "
                    "it.", r->hold.max, r->wait.max);
        return;
    }
    ct_takeaway(run,
                "The %d holds added up to %.1f ms and the lock was in demand for %.1f ms, "
                "from the first request to the last release: the holds came one after "
                "another, never side by side (at most %d inside). The last thread in line "
                "waited %.1f ms for a hold of %.1f ms.",
                r->threads, r->hold_sum_ms, r->busy_ms, r->max_holders, r->wait.max,
                r->hold.median);
}

static double ns_per_op(const struct loop_result *r)
{
    return r->done ? r->ms * 1e6 / (double)r->done : 0;
}

static void report_loop_round(struct ct_run *run, const struct loop_result *r, const char *key,
                              const char *what)
{
    char k[32], label[64];
    snprintf(k, sizeof k, "%s_count", key);
    snprintf(label, sizeof label, "%s: final count", what);
    ct_result_int(run, k, label, r->counter, NULL);
    snprintf(k, sizeof k, "%s_ns_per_op", key);
    snprintf(label, sizeof label, "%s: time per increment", what);
    ct_result_num(run, k, label, ns_per_op(r), 1, "ns");
    ct_check(run, r->counter == r->done && r->max_holders == 1,
             "%s: counter %lld == %lld increment%s made, at most %d inside", what,
             r->counter, r->done, plural(r->done), r->max_holders);
}

static void report_loop(struct ct_run *run, const struct loop_result *alone,
                        const struct loop_result *all)
{
    report_loop_round(run, alone, "alone", "1 thread");
    ct_check(run, alone->contended == 0, "1 thread: never found the mutex taken (%lld time%s)",
             alone->contended, plural(alone->contended));
    if (all->threads == 0) {
        ct_takeaway(run,
                    "Alone, a thread paid %.1f ns per increment (lock, add, the demo's "
                    "occupancy count and unlock) and never found the lock taken.",
                    ns_per_op(alone));
        ct_result_int(run, "cpus", "CPUs online", ct_cpus(), NULL);
        return;
    }
    char what[32];
    snprintf(what, sizeof what, "%d threads", all->threads);
    report_loop_round(run, all, "loop", what);
    double pct = all->done ? 100.0 * (double)all->contended / (double)all->done : 0;
    double wait = all->contended ? (double)all->wait_ns / (double)all->contended : 0;
    ct_result_num(run, "loop_contended_pct", "locks that found it taken", pct, 1, "%");
    ct_result_num(run, "loop_wait_ns", "average wait when taken", wait, 0, "ns");

    double a = ns_per_op(alone), m = ns_per_op(all), ratio = a > 0 ? m / a : 0;
    /* the waits explain the slowdown if they add up to at least half of it */
    double waited = all->done ? (double)all->wait_ns / (double)all->done : 0;
    bool lock_cost = all->contended > 0 && 2 * waited >= m - a;
    char why[320], waits[128];
    if (ratio >= 1.5 && lock_cost)
        snprintf(why, sizeof why,
                 "Only %.1f%% of the locks had to wait, but a wait cost %.0f ns, the price "
                 "of %.0f increments by a thread alone.",
                 pct, wait, a > 0 ? wait / a : 0);
    else if (ratio >= 1.5) {
        /* slower, but not because threads waited for the lock */
        if (all->contended > 0)
            snprintf(waits, sizeof waits,
                     "the waits for the mutex came to %.1f ns per increment of the %.1f ns "
                     "extra", waited, m - a);
        else
            snprintf(waits, sizeof waits, "no lock found the mutex taken");
        long long each = all->done / all->threads;
        if (each < 10000)
            snprintf(why, sizeof why,
                     "Yet %s, so waiting for it is not what cost the extra time: %lld "
                     "increment%s per thread %s too few to hide the cost of getting %d "
                     "threads onto %d CPU%s.",
                     waits, each, plural(each), each == 1 ? "is" : "are", all->threads,
                     ct_cpus(), plural(ct_cpus()));
        else
            snprintf(why, sizeof why,
                     "Yet %s, so waiting for it is not what cost the extra time; what remains "
                     "is the lock's and the counter's cache lines moving between cores.",
                     waits);
    }
    else if (ratio > 0.67)
        snprintf(why, sizeof why, "Contention cost little extra in this run.");
    else
        snprintf(why, sizeof why,
                 "Contention cannot make increments cheaper: the machine was busier "
                 "during the 1-thread run.");
    ct_takeaway(run,
                "In the tight loop an increment cost %.1f ns with %d threads on %d CPU%s "
                "against %.1f ns for one thread alone (%.1fx). %s These are single runs on a "
                "shared machine: raise iters, or repeat, for steadier figures.",
                m, all->threads, ct_cpus(), plural(ct_cpus()), a, ratio, why);
    ct_result_int(run, "cpus", "CPUs online", ct_cpus(), NULL);
}

static int mutex_run(struct ct_run *run)
{
    struct config cfg = {
        .threads = (int)ct_param_int(run, "threads"),
        .hold_ms = ct_param_num(run, "hold-ms"),
        .iters = ct_param_int(run, "iters"),
    };
    ct_legend(run, CT_WAIT, "waiting for the mutex");
    ct_legend(run, CT_HOLD, "holding the mutex");
    struct once_result once = { 0 };
    int rc = phase_once(run, &cfg, &once);
    if (rc || ct_cancelled(run))
        return rc;
    report_once(run, &once);
    if (cfg.iters == 0)
        return 0;
    struct loop_result alone = { 0 }, all = { 0 };
    rc = phase_loop(run, &cfg, &alone, &all);
    if (rc || ct_cancelled(run))
        return rc;
    report_loop(run, &alone, &all);
    return 0;
}

static const struct ct_param_spec mutex_params[] = {
    { "threads", CT_PARAM_INT, "10", 1, MAX_THREADS, NULL, "threads sharing the counter" },
    { "hold-ms", CT_PARAM_NUM, "10", 0, 1000, NULL,
      "how long each thread keeps the lock in the first phase (scaled)" },
    { "iters", CT_PARAM_INT, "200000", 0, 100000000, NULL,
      "increments per thread in the tight loop (0 skips it)" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_mutex = {
    .name = "mutex",
    .chapter = 4,
    .title = "Ten threads, one counter, one mutex",
    .summary = "Threads increment a counter under a pthread mutex: exact count, waits and holds",
    .intro = "Ten threads each lock a pthread mutex, add 1 to a shared counter and unlock, as in "
             "the chapter's first example; each keeps the lock a few milliseconds so the "
             "timeline can show who holds it and who queues. Then a tight loop of increments "
             "runs on one thread alone and on all of them, and the demo counts how often a "
             "lock was contended and what that did to the price of an increment.",
    .params = mutex_params,
    .smoke = "threads=3 hold-ms=2 iters=5000",
    .run = mutex_run,
};
