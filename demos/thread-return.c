/* thread-return.c - demo `thread-return`: hand a heap buffer to a thread,
 * get its result back through pthread_join.
 *
 * Shows: the creator fills a malloc'd buffer with 1..n and moves it into a
 * job for a new thread, the C spelling of Rust's `move` closure: the handle
 * it held is left empty, so a later attempt to read through it is refused
 * (not a use-after-free).  The thread owns the buffer now: it sums it, frees
 * it, and returns a heap-allocated result, which pthread_join hands back to
 * the creator (who then owns and frees that).  Every sum is checked against
 * n(n+1)/2.  The work inside the thread is timed by the thread, the whole
 * create-to-join by the creator, and an empty thread gives the bare cost of
 * pthread_create + pthread_join.
 * Watch for: "refused" after the handoff, the exact sum, and how the thread
 * start-up cost compares with the work for your n.
 * Lesson: moving-data (chapter 2).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "demo.h"
#include "clock.h"
#include "stats.h"

#define MAX_REPS 50
#define CANCEL_EVERY (1u << 20)    /* elements summed between looks at the cancel flag */

/* An owned buffer of ints: whoever holds a handle with non-NULL `data` owns
 * the memory and must free it exactly once. */
struct int_buf {
    int *data;
    size_t n;
};

/* The move: returns the buffer and leaves `*from` empty, so the old owner
 * has nothing left to read or free.  Rust does this at compile time; in C
 * the empty handle is what turns a later mistake into a clean refusal. */
static struct int_buf int_buf_move(struct int_buf *from)
{
    struct int_buf b = *from;
    *from = (struct int_buf){ NULL, 0 };
    return b;
}

/* Read element i into *out.  False, with nothing read, when this handle owns
 * no buffer (it was moved from) or i is out of range. */
static bool int_buf_get(const struct int_buf *b, size_t i, int *out)
{
    if (!b->data || i >= b->n)
        return false;
    *out = b->data[i];
    return true;
}

/* What the creator hands to the thread; the thread frees it. */
struct sum_job {
    struct ct_run *run;
    struct int_buf buf;
    bool verbose;
};

/* What the thread hands back through pthread_join; the joiner frees it. */
struct sum_result {
    long long sum;
    size_t summed;
    int64_t start_ns, end_ns;       /* the summing loop, timed by the thread */
    int64_t free_ns;                /* how long free() of the buffer took */
};

static void *sum_main(void *arg)
{
    struct sum_job *job = arg;      /* ours now, and so is the buffer in it */
    struct sum_result *res = malloc(sizeof *res);
    if (res) {
        const int *v = job->buf.data;
        size_t n = job->buf.n, i = 0;
        long long sum = 0;
        res->start_ns = ct_clock_ns();
        /* in chunks, looking at the cancel flag between them; the inner loop
         * stays a plain loop the compiler can vectorise */
        while (i < n && !ct_cancelled(job->run)) {
            size_t end = n - i > CANCEL_EVERY ? i + CANCEL_EVERY : n;
            for (; i < end; i++)
                sum += v[i];
        }
        res->end_ns = ct_clock_ns();
        res->sum = sum;
        res->summed = i;
        if (job->verbose)
            ct_say(job->run, "sum of %zu int%s: %lld; freeing %s", i, i == 1 ? "" : "s", sum,
                   i == 1 ? "it" : "them");
    }
    int64_t f0 = ct_clock_ns();
    free(job->buf.data);
    if (res)
        res->free_ns = ct_clock_ns() - f0;
    free(job);
    return res;     /* NULL if out of memory: the joiner reports it */
}

static void *empty_main(void *arg)
{
    return arg;
}

struct rep {
    bool exact, refused;
    double work_us, free_us, total_us, empty_us;
    long long sum;
};

/* A buffer of 1..n, owned by *out.  0 or -ENOMEM. */
static int fill(struct int_buf *out, size_t n)
{
    *out = (struct int_buf){ malloc(n * sizeof(int)), n };
    if (!out->data)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        out->data[i] = (int)(i + 1);
    return 0;
}

/* A job for the summing thread, taking the buffer out of *mine (which is
 * left empty).  NULL if out of memory, and then *mine still owns it. */
static struct sum_job *job_new(struct ct_run *run, struct int_buf *mine, bool verbose)
{
    struct sum_job *job = malloc(sizeof *job);
    if (!job)
        return NULL;
    size_t bytes = mine->n * sizeof(int);
    if (verbose && bytes < 10240)
        ct_say(run, "filled %zu int%s (%zu bytes), moving %s", mine->n,
               mine->n == 1 ? "" : "s", bytes, mine->n == 1 ? "it" : "them");
    else if (verbose)
        ct_say(run, "filled %zu ints (%.0f KiB), moving them", mine->n, (double)bytes / 1024);
    *job = (struct sum_job){ run, int_buf_move(mine), verbose };
    return job;
}

/* The bare cost of a thread: create one that does nothing, join it.
 * 0 or a negative errno. */
static int empty_thread_us(struct ct_run *run, double *us)
{
    struct ct_thread t;
    int64_t t0 = ct_clock_ns();
    int rc = ct_thread_start(run, &t, empty_main, NULL, "empty");
    if (rc == 0)
        rc = ct_thread_join(&t, NULL);
    *us = (double)(ct_clock_ns() - t0) / 1e3;
    return rc;
}

/* One handoff: fill, move, start, try the old handle, join, check.
 * 0 or a negative errno. */
static int one_rep(struct ct_run *run, size_t n, bool verbose, struct rep *r)
{
    struct int_buf mine;
    if (fill(&mine, n))
        return -ENOMEM;
    struct sum_job *job = job_new(run, &mine, verbose);
    if (!job) {
        free(mine.data);
        return -ENOMEM;
    }

    struct ct_thread t;
    int64_t t0 = ct_clock_ns();
    int rc = ct_thread_start(run, &t, sum_main, job, "summer");
    if (rc) {
        /* nothing started, so the job never changed hands: free it here */
        free(job->buf.data);
        free(job);
        return rc;
    }
    job = NULL;     /* the job went with the thread */

    int first;
    r->refused = !int_buf_get(&mine, 0, &first);
    if (verbose)
        ct_say(run, "my handle: data=%s; a read through it: %s",
               mine.data ? "still set" : "NULL", r->refused ? "refused" : "allowed (a bug)");

    void *ret = NULL;
    rc = ct_thread_join(&t, &ret);
    int64_t t1 = ct_clock_ns();
    if (rc)
        return rc;
    struct sum_result *res = ret;   /* the joiner owns the result now */
    if (!res)
        return -ENOMEM;
    long long expected = (long long)n * ((long long)n + 1) / 2;
    r->sum = res->sum;
    r->exact = res->summed == n && res->sum == expected;
    r->work_us = (double)(res->end_ns - res->start_ns) / 1e3;
    r->free_us = (double)res->free_ns / 1e3;
    r->total_us = (double)(t1 - t0) / 1e3;
    free(res);
    if (verbose)
        ct_say(run, "joined; the sum %s n(n+1)/2 = %lld", r->exact ? "equals" : "DIFFERS from",
               expected);
    return empty_thread_us(run, &r->empty_us);
}

#define NSERIES 5

enum series { S_WORK, S_FREE, S_TOTAL, S_OVER, S_EMPTY };

static const char *const series_what[NSERIES] = {
    "sum inside the thread",
    "free() of the buffer (thread)",
    "create to join (creator)",
    "left over: thread overhead",
    "empty thread create+join",
};

struct config {
    size_t n;
    int reps;
};

struct result {
    int rounds, exact, refused;     /* the warm-up round included */
    double us[NSERIES][MAX_REPS];   /* the timed rounds */
    struct ct_stats st[NSERIES];
};

/* The warm-up handoff, narrated, then the timed rounds.  0 or a negative
 * errno; stops quietly on cancel. */
static int run_phases(struct ct_run *run, const struct config *cfg, struct result *res)
{
    ct_section(run, "the handoff, step by step (a warm-up round, not timed)");
    struct rep r;
    int rc = one_rep(run, cfg->n, true, &r);
    if (rc || ct_cancelled(run))
        return rc;
    res->rounds = 1;
    res->exact = r.exact;
    res->refused = r.refused;

    ct_section(run, "%d timed round%s", cfg->reps, cfg->reps == 1 ? "" : "s");
    for (int i = 0; i < cfg->reps; i++) {
        rc = one_rep(run, cfg->n, false, &r);
        if (rc || ct_cancelled(run))
            return rc;
        res->rounds++;
        res->exact += r.exact;
        res->refused += r.refused;
        res->us[S_WORK][i] = r.work_us;
        res->us[S_FREE][i] = r.free_us;
        res->us[S_TOTAL][i] = r.total_us;
        res->us[S_OVER][i] = r.total_us - r.work_us - r.free_us;
        res->us[S_EMPTY][i] = r.empty_us;
        ct_say(run, "round %d %s: work %.0f of %.0f us, empty %.0f us", i + 1,
               r.exact ? "exact" : "WRONG", r.work_us, r.total_us, r.empty_us);
    }
    for (int k = 0; k < NSERIES; k++) {
        if ((rc = ct_stats_of(res->us[k], (size_t)cfg->reps, &res->st[k])))
            return rc;
    }
    return 0;
}

static void report_numbers(struct ct_run *run, const struct config *cfg,
                           const struct result *res)
{
    static const char *const cols[] = { "what", "median_us|median us", "min_us|min us",
                                        "max_us|max us", NULL };
    struct ct_table *t = ct_table_new(run, "timings", "per round, over the timed rounds", cols);
    for (int k = 0; k < NSERIES; k++)
        ct_table_row(t, CT_TEXT(series_what[k]), CT_NUM(res->st[k].median, 1),
                     CT_NUM(res->st[k].min, 1), CT_NUM(res->st[k].max, 1));
    ct_bars(run, t, "median per round", 0, 1, "us");

    long long expected = (long long)cfg->n * ((long long)cfg->n + 1) / 2;
    ct_result_int(run, "rounds", "handoffs (warm-up included)", res->rounds, NULL);
    ct_result_int(run, "expected_sum", "n(n+1)/2", expected, NULL);
    ct_result_int(run, "sums_exact", "handoffs whose sum was exact", res->exact, NULL);
    ct_result_int(run, "reads_refused", "reads through a moved-from handle refused",
                  res->refused, NULL);
    ct_result_int(run, "cpus", "CPUs online", ct_cpus(), NULL);

    ct_check(run, res->exact == res->rounds, "every sum came back exact: %d of %d equal %lld",
             res->exact, res->rounds, expected);
    ct_check(run, res->refused == res->rounds,
             "every read through the creator's moved-from handle was refused: %d of %d",
             res->refused, res->rounds);
}

/* What the timings say, and no more: the thread ran alone, so this is the
 * cost of a thread against its work, not a speed-up. */
static void report_costs(struct ct_run *run, const struct config *cfg, const struct result *res)
{
    const struct ct_stats *w = &res->st[S_WORK], *o = &res->st[S_OVER];
    ct_takeaway(run,
                "Summing %zu int%s took %.1f us inside the thread (%.1f-%.1f over %d round%s); "
                "starting and joining it cost %.1f us beyond the work and the free "
                "(%.1f-%.1f), and an empty thread %.1f us.",
                cfg->n, cfg->n == 1 ? "" : "s", w->median, w->min, w->max, cfg->reps, cfg->reps == 1 ? "" : "s",
                o->median, o->min, o->max,
                res->st[S_EMPTY].median);
    if (cfg->reps < 3 || (w->max >= o->min && o->max >= w->min)) {
        ct_takeaway(run, "The two ranges overlap%s, so this run cannot say which was larger. "
                    "More rounds (reps=) on a quieter machine give a steadier figure.",
                    cfg->reps < 3 ? " or are too few to judge" : "");
    } else if (w->min > o->max) {
        ct_takeaway(run, "The work took %.1f times as long as the thread's own cost. Only "
                    "this one thread worked while main waited, so that is a ratio of costs, "
                    "not a speed-up: this run measured no parallel work.",
                    w->median / o->median);
    } else {
        ct_takeaway(run, "Starting and joining the thread cost %.1f times as much as the work "
                    "it did: for work this small the thread is the larger expense.",
                    w->median > 0 ? o->median / w->median : 0);
    }
}

static int thread_return_run(struct ct_run *run)
{
    const struct config cfg = {
        .n = (size_t)ct_param_int(run, "n"),
        .reps = (int)ct_param_int(run, "reps"),
    };
    struct result res = { .rounds = 0 };
    int rc = run_phases(run, &cfg, &res);
    if (rc || ct_cancelled(run))
        return rc;
    report_numbers(run, &cfg, &res);
    ct_takeaway(run,
                "The buffer changed hands %d time%s, and each time the creator's handle was left "
                "empty, so its read attempt was refused instead of touching memory the thread "
                "had freed. The sum came back through pthread_join as a heap result the "
                "creator then owned; %d of %d sums equalled n(n+1)/2.",
                res.rounds, res.rounds == 1 ? "" : "s", res.exact, res.rounds);
    report_costs(run, &cfg, &res);
    return 0;
}

static const struct ct_param_spec thread_return_params[] = {
    { "n", CT_PARAM_INT, "1000000", 1, 10000000, NULL, "integers in the buffer handed over" },
    { "reps", CT_PARAM_INT, "5", 1, MAX_REPS, NULL, "timed rounds after the warm-up" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_thread_return = {
    .name = "thread-return",
    .chapter = 2,
    .title = "Moving a buffer into a thread, and the result out",
    .summary = "Hand a heap buffer to a thread, which sums and frees it; the sum comes back via join",
    .intro = "The creator fills a heap buffer and moves it to a new thread: its own handle is "
             "left empty, so it can no longer reach the memory. The thread sums the buffer, "
             "frees it and returns the result, which pthread_join hands back. The rounds time "
             "the work against the cost of starting and joining a thread.",
    .params = thread_return_params,
    .smoke = "n=10000 reps=2",
    .run = thread_return_run,
};
