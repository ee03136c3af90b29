/* semaphore.c - demo `semaphore`: two kinds of rate limiting on the same
 * ten tasks: a semaphore (how many at once) and a token bucket (how many
 * per second).
 *
 * Shows: the guide's example, scaled: ten tasks on a multi-threaded
 * executor, each awaiting a permit of a three-permit semaphore
 * (semaphore.h, tokio's Semaphore) before 100 ms of work.  The demo counts
 * the tasks running at once as they run, and again afterwards from the
 * start and end instants the timeline draws; both must stay at or under
 * the permits.  Then the same tasks through a token bucket (ratelimit.h:
 * 20 per second, bursts of 3) and no semaphore: starts are spaced by the
 * clock, and every window of time is checked against burst + rate * t;
 * since each task still takes 100 ms, more than three may run at once.
 * Watch for: the staircase of '#' in phase 1, never more than three deep;
 * the evenly spaced starts of phase 2 and its larger "running at once".
 * Lesson: rate-limiting (chapter 8).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "demo.h"
#include "check.h"
#include "clock.h"
#include "exec.h"
#include "ratelimit.h"
#include "sem.h"
#include "tasks.h"
#include "timer.h"

#define MAX_TASKS 40

enum mode { BY_PERMIT, BY_TOKEN };

struct task_rec {
    int runs;
    int64_t asked_ns, start_ns, end_ns;  /* asked: first poll */
};

/* What the tasks of one phase share. */
struct shared {
    struct ct_run *run;
    enum mode mode;
    struct ct_semaphore *sem;
    struct ct_bucket *bucket;
    pthread_mutex_t take_mu;    /* takes and their instants, in one order */
    int64_t work_ns;
    int lanes[MAX_TASKS];
    struct task_rec rec[MAX_TASKS];
    atomic_int running, max_running, released_on_cancel;
};

struct job {
    struct ct_future base;
    int pc, i;
    bool holding, counted;      /* a permit held; counted as running */
    struct shared *sh;
    struct ct_sem_acquire acq;
    struct ct_sleep nap;
};

/* A token, and the instant the bucket was given, recorded together so the
 * recorded instants are exactly the ones the bucket saw, in its order. */
static bool take_token(struct shared *sh, int64_t *at)
{
    CT_PT(pthread_mutex_lock(&sh->take_mu));
    int64_t now = ct_clock_ns();
    bool ok = ct_bucket_try_take_at(sh->bucket, now);
    if (ok)
        *at = now;
    CT_PT(pthread_mutex_unlock(&sh->take_mu));
    return ok;
}

static void start_running(struct job *j, struct task_rec *r)
{
    struct shared *sh = j->sh;
    int now = atomic_fetch_add(&sh->running, 1) + 1;
    int seen = atomic_load(&sh->max_running);
    while (now > seen && !atomic_compare_exchange_weak(&sh->max_running, &seen, now))
        ;
    j->counted = true;
    r->runs++;
    ct_mark_lane(sh->run, sh->lanes[j->i], sh->mode == BY_PERMIT ? CT_HOLD : CT_RUN);
    ct_say(sh->run, "task %d starts after %.1f ms (%d running)", j->i + 1,
           (double)(r->start_ns - r->asked_ns) / 1e6, now);
}

static enum ct_poll job_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct job *j = (struct job *)f;
    struct shared *sh = j->sh;
    struct task_rec *r = &sh->rec[j->i];
    CT_ASYNC_BEGIN(j->pc);
    r->asked_ns = ct_clock_ns();
    ct_mark_lane(sh->run, sh->lanes[j->i], CT_WAIT);
    if (sh->mode == BY_PERMIT) {
        ct_sem_acquire_init(&j->acq, sh->sem);
        CT_AWAIT(j->pc, &j->acq.base, cx);
        j->holding = true;
        r->start_ns = ct_clock_ns();
    } else {
        /* no token: sleep until the bucket says one is due, then try again */
        while (!take_token(sh, &r->start_ns)) {
            int64_t ns = ct_bucket_wait_ns(sh->bucket);
            ct_sleep_init(&j->nap, ns > 0 ? ns : 1000);
            CT_AWAIT(j->pc, &j->nap.base, cx);
        }
    }
    start_running(j, r);
    ct_sleep_init(&j->nap, sh->work_ns);
    CT_AWAIT(j->pc, &j->nap.base, cx);
    /* the end is noted before the permit goes: intervals never overlap
     * more than the permits allowed */
    r->end_ns = ct_clock_ns();
    atomic_fetch_sub(&sh->running, 1);
    j->counted = false;
    ct_mark_lane(sh->run, sh->lanes[j->i], CT_IDLE);
    ct_say(sh->run, "task %d done", j->i + 1);
    if (j->holding) {
        j->holding = false;
        ct_sem_release(sh->sem);
    }
    CT_ASYNC_END(j->pc);
    return CT_READY;
}

/* Runs once, however the task ends: a task cancelled mid-work (Ctrl-C)
 * gives its permit back here, like a dropped SemaphorePermit. */
static void job_drop(struct ct_future *f)
{
    struct job *j = (struct job *)f;
    ct_future_drop(&j->acq.base);
    ct_future_drop(&j->nap.base);
    if (j->counted)
        atomic_fetch_sub(&j->sh->running, 1);
    if (j->holding) {
        ct_sem_release(j->sh->sem);
        atomic_fetch_add(&j->sh->released_on_cancel, 1);
    }
}

static const struct ct_future_ops job_ops = { "limited task", job_poll, job_drop };

/* Spawn every task, then await them all from main. */
static int run_tasks(struct ct_exec *ex, struct shared *sh, int n)
{
    struct ct_join_handle *h = calloc((size_t)n, sizeof *h);
    if (!h)
        return -ENOMEM;
    int rc = 0, spawned = 0;
    for (; spawned < n && rc == 0; spawned++) {
        struct job j = { .base = { .ops = &job_ops }, .i = spawned, .sh = sh };
        rc = ct_spawn(ex, &j, &h[spawned]);
    }
    if (rc == 0) {
        struct ct_await_all all;
        ct_await_all_init(&all, h, (size_t)n);
        rc = ct_block_on(ex, &all.base);
        ct_future_drop(&all.base);
    }
    for (int i = 0; i < spawned; i++)
        ct_future_drop(&h[i].base);
    free(h);
    return rc;
}

/* ---- measuring ---------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The most intervals [start, end) of `rec` that overlap at any instant:
 * counted from the instants alone, ends first on a tie. */
static int max_overlap(const struct task_rec *rec, int n)
{
    int64_t ev[2 * MAX_TASKS];
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (rec[i].runs == 0)
            continue;
        ev[m++] = rec[i].start_ns * 2 + 1;      /* odd: a start */
        ev[m++] = rec[i].end_ns * 2;            /* even: an end, sorts first */
    }
    qsort(ev, (size_t)m, sizeof ev[0], cmp_i64);
    int depth = 0, most = 0;
    for (int k = 0; k < m; k++) {
        depth += (ev[k] & 1) ? 1 : -1;
        most = depth > most ? depth : most;
    }
    return most;
}

/* The start instants of the tasks that ran, in order, into t; how many. */
static int sorted_starts(const struct task_rec *rec, int n, int64_t *t)
{
    int m = 0;
    for (int i = 0; i < n; i++)
        if (rec[i].runs)
            t[m++] = rec[i].start_ns;
    qsort(t, (size_t)m, sizeof t[0], cmp_i64);
    return m;
}

/* Phase 2: in every window [t_i, t_j] of the sorted start instants, the
 * starts must not exceed burst + rate * (t_j - t_i).  Returns the window
 * with the least room to spare, as (starts - allowed), <= 0 when kept. */
static long worst_window(const struct task_rec *rec, int n, long rate, long burst)
{
    int64_t t[MAX_TASKS];
    int m = sorted_starts(rec, n, t);
    long worst = -burst;
    for (int i = 0; i < m; i++) {
        for (int j = i; j < m; j++) {
            long allowed = burst + (long)((t[j] - t[i]) * rate / CT_NS_PER_S);
            if ((j - i + 1) - allowed > worst)
                worst = (j - i + 1) - allowed;
        }
    }
    return worst;
}

/* Phase 2: the mean gap between starts after the first `burst`. */
static double mean_gap_ms(const struct task_rec *rec, int n, int burst)
{
    int64_t t[MAX_TASKS];
    int m = sorted_starts(rec, n, t);
    if (m <= burst)
        return 0;
    return (double)(t[m - 1] - t[burst - 1]) / 1e6 / (m - burst);
}

/* ---- run and report ----------------------------------------------------- */

struct phase_result {
    struct task_rec rec[MAX_TASKS];
    int runs, max_running, max_overlap, released_on_cancel;
    int64_t t0;                 /* the phase's start */
};

struct sem_result {
    int n, permits, workers;
    long rate, burst;
    double work_ms;
    struct phase_result p[2];
    struct ct_sem_stats sem;    /* after phase 1 */
    uint64_t granted, refused;  /* the bucket's, after phase 2 */
    long worst;                 /* worst_window() */
    double gap_ms;
};

static int run_phase(struct ct_exec *ex, struct shared *sh, struct sem_result *r, int p)
{
    struct phase_result *out = &r->p[p];
    atomic_store(&sh->running, 0);
    atomic_store(&sh->max_running, 0);
    atomic_store(&sh->released_on_cancel, 0);
    for (int i = 0; i < r->n; i++)
        sh->rec[i] = (struct task_rec){ 0 };
    out->t0 = ct_clock_ns();
    int rc = run_tasks(ex, sh, r->n);
    if (rc)
        return rc;      /* cancelled: tasks may still run until the executor is freed */
    for (int i = 0; i < r->n; i++) {
        out->rec[i] = sh->rec[i];
        out->runs += sh->rec[i].runs;
    }
    out->max_running = atomic_load(&sh->max_running);
    out->max_overlap = max_overlap(out->rec, r->n);
    out->released_on_cancel = atomic_load(&sh->released_on_cancel);
    return rc;
}

static int run_both(struct ct_run *run, struct sem_result *r)
{
    struct ct_semaphore sem;
    struct ct_bucket bucket;
    struct shared sh = { .run = run, .sem = &sem, .bucket = &bucket,
                         .work_ns = ct_demo_ns(run, r->work_ms) };
    int rc = ct_sem_init(&sem, r->permits);
    if (rc)
        return rc;
    CT_PT(pthread_mutex_init(&sh.take_mu, NULL));
    for (int i = 0; i < r->n; i++)
        sh.lanes[i] = ct_lane(run, "task-%d", i + 1);
    struct ct_exec *ex = NULL;
    rc = ct_demo_executor(run, CT_EXEC_MULTI_THREAD, r->workers, &ex);
    if (rc == 0) {
        ct_section(run, "phase 1: %d tasks, a semaphore of %d permits", r->n, r->permits);
        sh.mode = BY_PERMIT;
        rc = run_phase(ex, &sh, r, 0);
        ct_sem_get_stats(&sem, &r->sem);
    }
    if (rc == 0) {
        ct_section(run, "phase 2: the same tasks, a bucket of %ld/s, burst %ld", r->rate,
                   r->burst);
        rc = ct_bucket_init(&bucket, r->rate, r->burst);
        if (rc == 0) {
            sh.mode = BY_TOKEN;
            rc = run_phase(ex, &sh, r, 1);
            ct_bucket_counts(&bucket, &r->granted, &r->refused);
            r->worst = worst_window(r->p[1].rec, r->n, r->rate, r->burst);
            r->gap_ms = mean_gap_ms(r->p[1].rec, r->n, (int)r->burst);
            ct_bucket_destroy(&bucket);
        }
    }
    if (ex)
        ct_exec_free(ex);   /* drops unfinished tasks: their permits go back */
    if (rc == 0)
        ct_sem_get_stats(&sem, &r->sem);
    CT_PT(pthread_mutex_destroy(&sh.take_mu));
    ct_sem_destroy(&sem);
    return rc;
}

static void report_table(struct ct_run *run, const struct sem_result *r)
{
    static const char *const cols[] = { "task", "p1_wait|1: waited ms", "p1_start|1: start ms",
                                        "p2_wait|2: waited ms", "p2_start|2: start ms", NULL };
    struct ct_table *t = ct_table_new(run, "tasks", "phase 1 permits, phase 2 tokens", cols);
    char name[24];
    for (int i = 0; i < r->n; i++) {
        const struct task_rec *a = &r->p[0].rec[i], *b = &r->p[1].rec[i];
        snprintf(name, sizeof name, "task-%d", i + 1);
        ct_table_row(t, CT_TEXT(name), CT_NUM((double)(a->start_ns - a->asked_ns) / 1e6, 1),
                     CT_NUM((double)(a->start_ns - r->p[0].t0) / 1e6, 1),
                     CT_NUM((double)(b->start_ns - b->asked_ns) / 1e6, 1),
                     CT_NUM((double)(b->start_ns - r->p[1].t0) / 1e6, 1));
    }
}

static void report_checks(struct ct_run *run, const struct sem_result *r)
{
    const struct phase_result *p1 = &r->p[0], *p2 = &r->p[1];
    ct_check(run, p1->max_running <= r->permits,
             "phase 1: at most %d tasks ran at once, counted live (most: %d)", r->permits,
             p1->max_running);
    ct_check(run, p1->max_overlap <= r->permits,
             "phase 1: the start/end instants overlap at most %d deep (most: %d)", r->permits,
             p1->max_overlap);
    ct_check(run, p1->runs == r->n && r->sem.acquired == (uint64_t)r->n,
             "phase 1: %d of %d tasks ran, each once, with a permit (%llu given)", p1->runs,
             r->n, (unsigned long long)r->sem.acquired);
    ct_check(run, r->sem.available == r->permits && r->sem.waiting == 0,
             "every permit came back (%ld of %d free, %d waiting)", r->sem.available,
             r->permits, r->sem.waiting);
    ct_check(run, p2->runs == r->n && r->granted == (uint64_t)r->n,
             "phase 2: %d of %d tasks ran, each once, with a token (%llu given)", p2->runs,
             r->n, (unsigned long long)r->granted);
    ct_check(run, r->worst <= 0,
             "phase 2: no window of time had more starts than %ld + %ld per second allows",
             r->burst, r->rate);
}

static void report_sem(struct ct_run *run, const struct sem_result *r)
{
    const struct phase_result *p1 = &r->p[0], *p2 = &r->p[1];
    report_table(run, r);
    ct_result_int(run, "permits", "permits", r->permits, NULL);
    ct_result_int(run, "p1_max_running", "phase 1: most running at once", p1->max_running,
                  NULL);
    ct_result_int(run, "p1_max_overlap", "phase 1: most overlapping intervals",
                  p1->max_overlap, NULL);
    ct_result_int(run, "p1_waited", "phase 1: tasks that waited for a permit",
                  (long long)r->sem.waited, NULL);
    ct_result_int(run, "p2_max_running", "phase 2: most running at once", p2->max_running,
                  NULL);
    ct_result_num(run, "p2_gap_ms", "phase 2: mean gap between starts", r->gap_ms, 1, "ms");
    ct_result_int(run, "p2_refused", "phase 2: tries that found no token",
                  (long long)r->refused, NULL);
    report_checks(run, r);

    int64_t last = 0;
    for (int i = 0; i < r->n; i++)
        if (p1->rec[i].start_ns - p1->t0 > last)
            last = p1->rec[i].start_ns - p1->t0;
    ct_takeaway(run,
                "Phase 1: %d tasks, %d permits. At most %d ran at once, counted as they ran and "
                "again from the instants on the timeline; %llu waited for a permit, the last "
                "starting %.0f ms in. A semaphore bounds how many run at the same time, however "
                "long each one takes.",
                r->n, r->permits, p1->max_running, (unsigned long long)r->sem.waited,
                (double)last / 1e6);
    char starts[160];
    if (r->burst < r->n)
        snprintf(starts, sizeof starts, "the bucket let %ld start at once, then the rest one "
                 "every %.1f ms on average (%ld per second is one every %.1f ms)", r->burst,
                 r->gap_ms, r->rate, 1000.0 / r->rate);
    else
        snprintf(starts, sizeof starts, "the %ld-token bucket let all %d start at once, so "
                 "the rate never came into play", r->burst, r->n);
    ct_takeaway(run,
                "Phase 2: %s. Yet %d ran at the same time%s: "
                "a token bucket bounds how many start per second, not how many run at once. A "
                "backend usually wants both, one against bursts and one against overload.",
                starts, p2->max_running,
                p2->max_running > r->permits ? ", more than phase 1's permits allowed" : "");
}

static int semaphore_run(struct ct_run *run)
{
    struct sem_result r = {
        .n = (int)ct_param_int(run, "tasks"),
        .permits = (int)ct_param_int(run, "permits"),
        .workers = (int)ct_param_int(run, "workers"),
        .burst = (long)ct_param_int(run, "burst"),
        .work_ms = (double)ct_param_int(run, "work-ms"),
    };
    /* the rate on the run's time scale: --scale 2 halves it */
    double rate = (double)ct_param_int(run, "rate") / ct_scale(run);
    r.rate = rate < 1 ? 1 : rate > CT_BUCKET_MAX ? CT_BUCKET_MAX : (long)(rate + 0.5);
    ct_legend(run, CT_WAIT, "waiting for a permit (1) or a token (2)");
    ct_legend(run, CT_HOLD, "running, holding a permit");
    ct_legend(run, CT_RUN, "running, after taking a token");
    int rc = run_both(run, &r);
    if (rc)
        return rc == -ECANCELED ? 0 : rc;
    if (!ct_cancelled(run))
        report_sem(run, &r);
    return 0;
}

static const struct ct_param_spec semaphore_params[] = {
    { "tasks", CT_PARAM_INT, "10", 1, MAX_TASKS, NULL, "tasks (the guide's 10)" },
    { "permits", CT_PARAM_INT, "3", 1, MAX_TASKS, NULL, "semaphore permits (the guide's 3)" },
    { "work-ms", CT_PARAM_INT, "100", 0, 5000, NULL, "each task's work (the guide's 1 s)" },
    { "rate", CT_PARAM_INT, "20", 1, 1000, NULL, "phase 2: tokens per second" },
    { "burst", CT_PARAM_INT, "3", 1, MAX_TASKS, NULL, "phase 2: bucket size" },
    { "workers", CT_PARAM_INT, "2", 1, 8, NULL, "executor worker threads" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_semaphore = {
    .name = "semaphore",
    .chapter = 8,
    .title = "Rate limiting: permits and tokens",
    .summary = "Ten tasks, three permits: never more than three at once; then a token bucket",
    .intro = "Ten tasks each need a permit from a semaphore of three before their work: count "
             "how many ever run together. Then the same tasks pass a token bucket instead, "
             "which spaces their starts in time but does not cap how many run at once.",
    .params = semaphore_params,
    .smoke = "tasks=6 permits=2 work-ms=10 rate=200 burst=2",
    .run = semaphore_run,
};
