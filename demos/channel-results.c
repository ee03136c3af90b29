/* channel-results.c - demo `channel-results`: fan work out to threads, fan
 * the results back in through one channel, then put them in order.
 *
 * Shows: one thread per job squares a number (after a pause of its own, so
 * the jobs finish in a shuffled order) and sends back a struct carrying the
 * job id and the result.  Main drops its sender, collects until the channel
 * closes, then sorts the results by id.
 * Watch for: the arrival order, the sorted table, and the total time being
 * about the longest job rather than the sum of all of them.
 * Lesson: channel-results (chapter 5).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "demo.h"
#include "chan.h"
#include "clock.h"

#define MAX_JOBS 64
#define ORDER_IN_TAKEAWAY 16    /* longer arrival orders only in the table */

/* What a job sends back: plain values, copied into the channel. */
struct job_result {
    int id;
    long input;
    long square;
    double ms;                  /* how long the job took */
};

struct job {
    struct ct_run *run;
    struct ct_sender tx;        /* the job's own clone */
    int id;
    long input;
    double pause_ms;
    struct ct_thread thread;
};

static void *job_main(void *arg)
{
    struct job *j = arg;
    int64_t t0 = ct_clock_ns();
    ct_mark(j->run, CT_SLEEP);
    bool done = ct_sleep_ms(j->run, j->pause_ms);   /* stands for real work */
    ct_mark(j->run, CT_RUN);
    if (done) {
        struct job_result r = { .id = j->id, .input = j->input, .square = j->input * j->input,
                                .ms = (double)(ct_clock_ns() - t0) / 1e6 };
        ct_point(j->run, 's');
        if (ct_chan_send(&j->tx, &r, ct_cancel_event(j->run)) == 0)
            ct_say(j->run, "job %d: %ld squared is %ld, sent", j->id, j->input, j->input * j->input);
    }
    ct_chan_drop_sender(&j->tx);
    ct_mark(j->run, CT_IDLE);
    return NULL;
}

static int by_id(const void *a, const void *b)
{
    const struct job_result *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

struct cr_result {
    int n;
    int received;                       /* every message, even unexpected extras */
    int kept;                           /* those stored in got[] (at most n) */
    struct job_result got[MAX_JOBS];    /* in arrival order, then sorted by id */
    int arrival[MAX_JOBS];              /* per id: its arrival position, 1-based */
    char order[4 * MAX_JOBS];           /* the ids in arrival order, as text */
    double wall_ms, sum_ms, longest_ms;
};

/* Start job i on its own thread with its own clone of `tx`; the pauses are
 * a shuffled spread between pause/n and pause.  Returns how many started;
 * *rc is 0 or the error that stopped the rest. */
static int start_jobs(struct ct_run *run, struct job *jobs, int n, double pause,
                      const struct ct_sender *tx, int *rc)
{
    int started = 0;
    *rc = 0;
    for (; started < n; started++) {
        struct job *j = &jobs[started];
        j->run = run;
        j->id = started;
        j->input = started + 1;
        j->pause_ms = pause * (double)((started * 5 + 3) % n + 1) / n;
        ct_chan_clone_sender(tx, &j->tx);
        if ((*rc = ct_thread_start(run, &j->thread, job_main, j, "job-%d", started)) != 0) {
            ct_chan_drop_sender(&j->tx);
            break;
        }
    }
    return started;
}

/* Receive until the channel closes: every job dropped its clone. */
static void collect(struct ct_run *run, struct ct_receiver *rx, struct cr_result *r)
{
    int64_t t0 = ct_clock_ns();
    size_t off = 0;
    for (;;) {
        struct job_result m;
        ct_mark(run, CT_WAIT);
        int rc = ct_chan_recv(rx, &m, ct_cancel_event(run));
        ct_mark(run, CT_RUN);
        if (rc)
            break;              /* -EPIPE once every job is done; or cancelled */
        ct_point(run, 'r');
        r->received++;
        if (r->kept == r->n)
            continue;           /* more results than jobs: counted, not kept */
        r->got[r->kept++] = m;
        r->sum_ms += m.ms;
        r->longest_ms = m.ms > r->longest_ms ? m.ms : r->longest_ms;
        if (m.id >= 0 && m.id < r->n)
            r->arrival[m.id] = r->kept;
        off += (size_t)snprintf(r->order + off, sizeof r->order - off, "%s%d", off ? " " : "",
                                m.id);
    }
    r->wall_ms = (double)(ct_clock_ns() - t0) / 1e6;
    ct_mark(run, CT_IDLE);
}

/* Fan out, fan in, sort.  0 or a negative errno. */
static int run_jobs(struct ct_run *run, int n, double pause, struct cr_result *r)
{
    struct job *jobs = calloc((size_t)n, sizeof *jobs);
    struct ct_sender tx;
    struct ct_receiver rx;
    int rc = jobs ? ct_chan_open(&tx, &rx, sizeof(struct job_result), CT_CHAN_UNBOUNDED, NULL)
                  : -ENOMEM;
    if (rc) {
        free(jobs);
        return rc;
    }
    int started = start_jobs(run, jobs, n, pause, &tx, &rc);
    ct_chan_drop_sender(&tx);   /* only the jobs' clones keep it open now */
    ct_say(run, "started %d job%s, dropped my sender; collecting", started,
           started == 1 ? "" : "s");
    r->n = n;
    collect(run, &rx, r);
    for (int i = 0; i < started; i++)
        ct_thread_join(&jobs[i].thread, NULL);
    ct_chan_drop_receiver(&rx);
    free(jobs);
    if (rc || ct_cancelled(run))
        return rc;
    if (r->n <= ORDER_IN_TAKEAWAY)
        ct_say(run, "arrival order of the job ids: %s", r->order);
    else
        ct_say(run, "arrival order: see the arrived # column");
    qsort(r->got, (size_t)r->kept, sizeof r->got[0], by_id);
    ct_say(run, "sorted by id");
    return 0;
}

static void report_takeaway(struct ct_run *run, const struct cr_result *r, int displaced)
{
    if (r->n == 1) {
        ct_takeaway(run,
                    "One job, one result: with a single sender there is no order to lose and "
                    "nothing to overlap, so this run shows only the hand-over. Try jobs=8 "
                    "pause=300.");
        return;
    }
    bool show = r->n <= ORDER_IN_TAKEAWAY;
    ct_takeaway(run,
                "The results arrived in the order the jobs finished%s%s%s, %d of %d out of id "
                "order; each carried its job id, so sorting put them back. Arrival order on a "
                "channel with many senders is whatever the threads made it.",
                show ? " (" : "", show ? r->order : "", show ? ")" : "", displaced, r->n);
    if (r->longest_ms < 1)
        ct_takeaway(run,
                    "The jobs took under a millisecond each, too little to show them running "
                    "at once; try pause=300.");
    else
        ct_takeaway(run,
                    "Collecting took %.0f ms against %.0f ms for the longest job and %.0f ms for "
                    "all of them added up: %s No lock was needed: each result was moved through "
                    "the channel and only main ever touched the array.",
                    r->wall_ms, r->longest_ms, r->sum_ms,
                    r->wall_ms < (r->longest_ms + r->sum_ms) / 2
                        ? "the jobs ran at once, so the wait was set by the slowest one, not by "
                          "their sum."
                        : "the jobs overlapped less than they could have (a busy machine?); run "
                          "it again to see the wait fall to the slowest job's time.");
}

static void report(struct ct_run *run, const struct cr_result *r)
{
    static const char *const cols[] = { "id|job", "input", "square|result", "arrived|arrived #",
                                        "ms|job ms", NULL };
    struct ct_table *t = ct_table_new(run, "results", "results sorted by job id", cols);
    int right = 0, ids_ok = 0, displaced = 0;
    for (int i = 0; i < r->kept; i++) {
        const struct job_result *g = &r->got[i];
        int arrived = g->id >= 0 && g->id < r->n ? r->arrival[g->id] : 0;
        right += g->square == g->input * g->input && g->input == g->id + 1;
        ids_ok += g->id == i;
        displaced += arrived != i + 1;
        ct_table_row(t, CT_INT(g->id), CT_INT(g->input), CT_INT(g->square), CT_INT(arrived),
                     CT_NUM(g->ms, 1));
    }
    ct_result_int(run, "jobs", "jobs", r->n, NULL);
    ct_result_int(run, "received", "results received", r->received, NULL);
    ct_result_int(run, "out_of_place", "results that arrived out of id order", displaced, NULL);
    ct_result_num(run, "collect_ms", "time to collect every result", r->wall_ms, 1, "ms");
    ct_result_num(run, "sum_ms", "the jobs' times added up", r->sum_ms, 1, "ms");
    ct_check(run, r->received == r->n && ids_ok == r->n,
             "exactly one result from %s %d job%s (%d received)", r->n == 1 ? "the" : "each of the",
             r->n, r->n == 1 ? "" : "s", r->received);
    ct_check(run, right == r->kept && r->kept > 0,
             "every result is its own job's input squared (%d of %d)", right, r->kept);
    report_takeaway(run, r, displaced);
}

static int channel_results_run(struct ct_run *run)
{
    int n = (int)ct_param_int(run, "jobs");
    double pause = ct_param_num(run, "pause");
    ct_legend(run, CT_SLEEP, "working (a pause standing for real work)");
    ct_legend(run, CT_WAIT, "waiting for a result");
    ct_point_legend(run, 's', "result sent");
    ct_point_legend(run, 'r', "result received");

    struct cr_result *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    int rc = run_jobs(run, n, pause, r);
    if (rc == 0 && !ct_cancelled(run))
        report(run, r);
    free(r);
    return rc;
}

static const struct ct_param_spec channel_results_params[] = {
    { "jobs", CT_PARAM_INT, "8", 1, MAX_JOBS, NULL, "jobs, one thread each; job i squares i+1" },
    { "pause", CT_PARAM_NUM, "300", 0, 10000, NULL, "ms the slowest job works" },
    CT_PARAMS_END,
};

static const struct ct_predict channel_results_predict = {
    .question = "{jobs} jobs run on their own threads and send their results down one channel "
                "as they finish. How many results will arrive out of job-id order?",
    .result = "out_of_place",
    .unit = "results out of place",
};

const struct ct_demo ct_demo_channel_results = {
    .name = "channel-results",
    .chapter = 5,
    .title = "Collecting results through a channel",
    .summary = "Eight threads square numbers and send back (id, result); main sorts them by id",
    .intro = "Eight jobs, one thread each, square the numbers 1 to 8 and send back a struct "
             "with their id and result. Main collects until every sender is gone, then sorts "
             "by id.",
    .params = channel_results_params,
    .smoke = "pause=30",
    .run = channel_results_run,
    .predict = &channel_results_predict,
};
