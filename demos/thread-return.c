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
            ct_say(job->run, "summed %zu ints in %.1f us: %lld; freeing the buffer", i,
                   (double)(res->end_ns - res->start_ns) / 1e3, sum);
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

/* One handoff: fill, move, start, try the old handle, join, check.
 * 0 or a negative errno. */
static int one_rep(struct ct_run *run, size_t n, bool verbose, struct rep *r)
{
    struct int_buf mine = { malloc(n * sizeof(int)), n };
    if (!mine.data)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        mine.data[i] = (int)(i + 1);
    struct sum_job *job = malloc(sizeof *job);
    if (!job) {
        free(mine.data);
        return -ENOMEM;
    }
    if (verbose)
        ct_say(run, "filled %zu ints (%.1f MB) with 1..%zu; moving them into the thread's job",
               n, (double)(n * sizeof(int)) / 1e6, n);
    *job = (struct sum_job){ run, int_buf_move(&mine), verbose };

    struct ct_thread t;
    int64_t t0 = ct_clock_ns();
    int rc = ct_thread_start(run, &t, sum_main, job, "summer");
    if (rc) {
        /* nothing started, so the job never changed hands: free it here */
        free(job->buf.data);
        free(job);
        return rc;
    }
    job = NULL;     /* the job went with the thread too */

    int first;
    r->refused = !int_buf_get(&mine, 0, &first);
    if (verbose)
        ct_say(run, "my handle after the move: data=%s; reading element 0 through it: %s",
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
        ct_say(run, "pthread_join handed back sum=%lld; n(n+1)/2 = %lld: %s", r->sum, expected,
               r->exact ? "exact" : "WRONG");

    /* the bare cost of a thread: create one that does nothing, join it */
    t0 = ct_clock_ns();
    rc = ct_thread_start(run, &t, empty_main, NULL, "empty");
    if (rc)
        return rc;
    rc = ct_thread_join(&t, NULL);
    r->empty_us = (double)(ct_clock_ns() - t0) / 1e3;
    return rc;
}

static int thread_return_run(struct ct_run *run)
{
    size_t n = (size_t)ct_param_int(run, "n");
    int reps = (int)ct_param_int(run, "reps");
    struct rep r[MAX_REPS];
    double work[MAX_REPS], freed[MAX_REPS], total[MAX_REPS], over[MAX_REPS], empty[MAX_REPS];

    ct_section(run, "the handoff, step by step (a warm-up round, not timed)");
    struct rep warm;
    int rc = one_rep(run, n, true, &warm);
    if (rc || ct_cancelled(run))
        return rc;

    ct_section(run, "%d timed round%s", reps, reps == 1 ? "" : "s");
    int exact = warm.exact, refused = warm.refused;
    for (int i = 0; i < reps; i++) {
        rc = one_rep(run, n, false, &r[i]);
        if (rc || ct_cancelled(run))
            return rc;
        exact += r[i].exact;
        refused += r[i].refused;
        work[i] = r[i].work_us;
        total[i] = r[i].total_us;
        freed[i] = r[i].free_us;
        over[i] = r[i].total_us - r[i].work_us - r[i].free_us;
        empty[i] = r[i].empty_us;
        ct_say(run,
               "round %d: sum %s; summing %.1f us, free %.1f us, create-to-join %.1f us, "
               "empty thread %.1f us",
               i + 1, r[i].exact ? "exact" : "WRONG", work[i], freed[i], total[i], empty[i]);
    }

    struct ct_stats s_work, s_free, s_total, s_over, s_empty;
    if ((rc = ct_stats_of(work, (size_t)reps, &s_work)) ||
        (rc = ct_stats_of(freed, (size_t)reps, &s_free)) ||
        (rc = ct_stats_of(total, (size_t)reps, &s_total)) ||
        (rc = ct_stats_of(over, (size_t)reps, &s_over)) ||
        (rc = ct_stats_of(empty, (size_t)reps, &s_empty)))
        return rc;

    static const char *const cols[] = { "what", "median_us|median us", "min_us|min us",
                                        "max_us|max us", NULL };
    struct ct_table *t = ct_table_new(run, "timings", "per round, over the timed rounds", cols);
    const struct { const char *what; struct ct_stats s; } rows[] = {
        { "sum inside the thread", s_work },
        { "free() of the buffer (thread)", s_free },
        { "create to join (creator)", s_total },
        { "left over: thread overhead", s_over },
        { "empty thread create+join", s_empty },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        ct_table_row(t, CT_TEXT(rows[i].what), CT_NUM(rows[i].s.median, 1),
                     CT_NUM(rows[i].s.min, 1), CT_NUM(rows[i].s.max, 1));
    ct_bars(run, t, "median per round", 0, 1, "us");

    long long expected = (long long)n * ((long long)n + 1) / 2;
    ct_result_int(run, "n", "integers per buffer", (long long)n, NULL);
    ct_result_int(run, "rounds", "handoffs (warm-up included)", reps + 1, NULL);
    ct_result_int(run, "expected_sum", "n(n+1)/2", expected, NULL);
    ct_result_int(run, "sums_exact", "handoffs whose sum was exact", exact, NULL);
    ct_result_int(run, "reads_refused", "reads through a moved-from handle refused", refused,
                  NULL);
    ct_result_num(run, "work_us", "sum inside the thread (median)", s_work.median, 1, "us");
    ct_result_num(run, "overhead_us", "thread overhead (median)", s_over.median, 1, "us");
    ct_result_num(run, "empty_us", "empty thread create+join (median)", s_empty.median, 1, "us");
    ct_result_int(run, "cpus", "CPUs online", ct_cpus(), NULL);

    ct_check(run, exact == reps + 1, "every sum came back exact: %d of %d equal %lld", exact,
             reps + 1, expected);
    ct_check(run, refused == reps + 1,
             "every read through the creator's moved-from handle was refused: %d of %d", refused,
             reps + 1);

    ct_takeaway(run,
                "The buffer changed hands %d times, and each time the creator's handle was left "
                "empty, so its read attempt was refused instead of touching memory the thread "
                "had freed. The thread's answer came back through pthread_join as a heap result "
                "the creator then owned; every sum equalled n(n+1)/2 = %lld.",
                reps + 1, expected);
    double ratio = s_over.median > 0 ? s_work.median / s_over.median : 0;
    char costs[256];
    snprintf(costs, sizeof costs,
             "Summing %zu ints took %.1f us inside the thread (and freeing them %.1f us), "
             "against %.1f us of overhead for starting and joining it (an empty thread: %.1f us)",
             n, s_work.median, s_free.median, s_over.median, s_empty.median);
    if (ratio >= 2)
        ct_takeaway(run, "%s: the work is %.0f times the overhead, so at this size a thread "
                    "pays for itself.", costs, ratio);
    else if (ratio >= 0.5)
        ct_takeaway(run, "%s: at this size the thread costs about as much as the work it "
                    "does. Give a thread work that is large compared with its start-up.", costs);
    else
        ct_takeaway(run, "%s: starting the thread cost %.0f times the work it did. For work "
                    "this small, do it in place, or hand it to threads that already exist (the "
                    "worker pools of chapter 7).", costs, ratio > 0 ? 1 / ratio : 0);
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
