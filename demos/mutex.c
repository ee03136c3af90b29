/* mutex.c - demo `mutex`: ten threads, one counter, one pthread mutex.
 *
 * Shows: the chapter's first program in C.  Each thread locks the mutex,
 * adds 1 to the counter, keeps the lock for a moment (so that holding is
 * visible) and unlocks; the final count is exact and the timeline shows
 * one holder at a time while the others queue.  A second phase repeats
 * the increments in a tight loop and counts how often a thread found the
 * mutex taken and how long it then waited.
 * Watch for: the staircase on the timeline (never two '#' in one column),
 * the waits growing thread by thread, and the share of contended locks in
 * the tight loop.
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
    /* phase 1 */
    double wait_ms, held_ms;
    long long saw;              /* the counter's value when this thread got in */
    /* phase 2 */
    long long done, contended;
    int64_t wait_ns;
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

/* Phase 1: the guide's thread body, with the lock held long enough to see. */
static void *once_main(void *arg)
{
    struct worker *w = arg;
    struct shared *sh = w->sh;
    if (!ct_member_begin(&w->m))
        return NULL;
    ct_mark(sh->run, CT_WAIT);
    int64_t t0 = ct_clock_ns();
    CT_PT(pthread_mutex_lock(&sh->mu));
    int64_t t1 = ct_clock_ns();
    ct_mark(sh->run, CT_HOLD);
    enter(sh);
    w->saw = sh->counter;
    sh->counter = w->saw + 1;
    w->wait_ms = (double)(t1 - t0) / 1e6;
    ct_say(sh->run, "locked after waiting %.1f ms; counter %lld -> %lld", w->wait_ms, w->saw,
           w->saw + 1);
    /* sleeping with a lock held is a bug in real code; here it makes the
     * holding visible (and the sleep ends at once on Ctrl-C) */
    ct_sleep_ms(sh->run, sh->hold_ms);
    leave(sh);
    w->held_ms = (double)(ct_clock_ns() - t1) / 1e6;
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

static int phase_once(struct ct_run *run, int n, double hold_ms)
{
    struct shared sh = { .run = run, .hold_ms = hold_ms };
    struct worker w[MAX_THREADS] = { 0 };
    for (int i = 0; i < n; i++)
        w[i].sh = &sh;
    CT_PT(pthread_mutex_init(&sh.mu, NULL));
    ct_section(run, "%d threads each lock, add 1, hold %.0f ms, unlock", n, hold_ms);
    int64_t t0 = ct_clock_ns();
    double span;
    int rc = ct_crew_run(run, w, sizeof w[0], n, once_main, "thread", &span);
    double wall = (double)(ct_clock_ns() - t0) / 1e6;
    CT_PT(pthread_mutex_destroy(&sh.mu));
    if (rc || ct_cancelled(run))
        return rc;

    double waits[MAX_THREADS], holds[MAX_THREADS];
    for (int i = 0; i < n; i++) {
        waits[i] = w[i].wait_ms;
        holds[i] = w[i].held_ms;
    }
    struct ct_stats ws, hs;
    if ((rc = ct_stats_of(waits, (size_t)n, &ws)) || (rc = ct_stats_of(holds, (size_t)n, &hs)))
        return rc;
    ct_say(run, "final count %lld (expected %d)", sh.counter, n);

    static const char *const cols[] = {
        "what", "min_ms|min ms", "median_ms|median ms", "max_ms|max ms", "total_ms|total ms", NULL,
    };
    struct ct_table *t = ct_table_new(run, "once", "one increment each (times per thread)", cols);
    ct_table_row(t, CT_TEXT("waiting for the lock"), CT_NUM(ws.min, 1), CT_NUM(ws.median, 1),
                 CT_NUM(ws.max, 1), CT_NUM(ws.mean * n, 1));
    ct_table_row(t, CT_TEXT("holding the lock"), CT_NUM(hs.min, 1), CT_NUM(hs.median, 1),
                 CT_NUM(hs.max, 1), CT_NUM(hs.mean * n, 1));
    ct_result_int(run, "once_count", "final count", sh.counter, NULL);
    ct_result_num(run, "once_wall_ms", "wall time of the phase", wall, 1, "ms");
    ct_result_int(run, "once_max_holders", "most threads ever inside at once",
                  atomic_load(&sh.max_holders), NULL);
    ct_check(run, sh.counter == n, "one increment each: counter %lld == %d threads", sh.counter,
             n);
    ct_check(run, atomic_load(&sh.max_holders) == 1,
             "never more than one thread inside the lock (max seen %d)",
             atomic_load(&sh.max_holders));

    double serial = hs.mean * n;
    ct_takeaway(run,
                "%d threads each held the lock about %.1f ms, and the phase took %.1f ms: "
                "%.0f%% of the sum of the holds. The mutex turned the threads into a queue; "
                "the last one in line waited %.1f ms for %.1f ms of work.",
                n, hs.median, wall, serial > 0 ? 100.0 * wall / serial : 0.0, ws.max,
                hs.median);
    return 0;
}

static int phase_loop(struct ct_run *run, int n, long long iters)
{
    struct shared sh = { .run = run, .iters = iters };
    struct worker w[MAX_THREADS] = { 0 };
    for (int i = 0; i < n; i++)
        w[i].sh = &sh;
    CT_PT(pthread_mutex_init(&sh.mu, NULL));
    ct_section(run, "%d threads x %lld increments in a tight loop", n, iters);
    double ms;
    int rc = ct_crew_run(run, w, sizeof w[0], n, loop_main, "loop", &ms);
    CT_PT(pthread_mutex_destroy(&sh.mu));
    if (rc || ct_cancelled(run))
        return rc;

    long long done = 0, contended = 0;
    int64_t wait_ns = 0;
    for (int i = 0; i < n; i++) {
        done += w[i].done;
        contended += w[i].contended;
        wait_ns += w[i].wait_ns;
    }
    double ns_op = done ? ms * 1e6 / (double)done : 0;
    double pct = done ? 100.0 * (double)contended / (double)done : 0;
    double wait_avg = contended ? (double)wait_ns / (double)contended : 0;
    ct_say(run, "%lld increments in %.1f ms; %lld found the mutex taken", done, ms, contended);

    ct_result_int(run, "loop_count", "tight loop: final count", sh.counter, NULL);
    ct_result_num(run, "loop_ms", "tight loop: time (first start to last finish)", ms, 1, "ms");
    ct_result_num(run, "loop_ns_per_op", "tight loop: time per increment", ns_op, 1, "ns");
    ct_result_num(run, "loop_contended_pct", "tight loop: locks that found it taken", pct, 1,
                  "%");
    ct_result_num(run, "loop_wait_ns", "tight loop: average wait when taken", wait_avg, 0, "ns");
    ct_result_int(run, "cpus", "CPUs online", ct_cpus(), NULL);
    ct_check(run, sh.counter == done, "tight loop: counter %lld == %lld increments made",
             sh.counter, done);
    ct_check(run, atomic_load(&sh.max_holders) == 1,
             "tight loop: never more than one thread inside (max seen %d)",
             atomic_load(&sh.max_holders));

    if (n == 1)
        ct_takeaway(run,
                    "With a single thread no lock was ever contended: %.1f ns per increment is "
                    "the bare price of lock plus unlock.",
                    ns_op);
    else
        ct_takeaway(run,
                    "In the tight loop %.1f%% of the %lld locks found the mutex taken; those "
                    "waited %.0f ns on average, and an increment cost %.1f ns overall. %s",
                    pct, done, wait_avg, ns_op,
                    pct >= 10 ? "When the work inside the lock is this short, the lock itself "
                                "is the work: the threads spend their time handing it over."
                              : "Most locks were uncontended, which is when a mutex is cheap.");
    return 0;
}

static int mutex_run(struct ct_run *run)
{
    int n = (int)ct_param_int(run, "threads");
    ct_legend(run, CT_WAIT, "waiting for the mutex");
    ct_legend(run, CT_HOLD, "holding the mutex");
    int rc = phase_once(run, n, ct_param_num(run, "hold-ms"));
    if (rc || ct_cancelled(run))
        return rc;
    long long iters = ct_param_int(run, "iters");
    return iters > 0 ? phase_loop(run, n, iters) : 0;
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
             "timeline can show who holds it and who queues. Then the same threads hammer the "
             "counter in a tight loop while the demo counts how often a lock was contended.",
    .params = mutex_params,
    .smoke = "threads=3 hold-ms=2 iters=5000",
    .run = mutex_run,
};
