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

static int channel_results_run(struct ct_run *run)
{
    int n = (int)ct_param_int(run, "jobs");
    double pause = ct_param_num(run, "pause");
    struct job *jobs = calloc((size_t)n, sizeof *jobs);
    struct job_result *got = calloc((size_t)n, sizeof *got);
    int *arrival = calloc((size_t)n, sizeof *arrival);
    struct ct_sender tx;
    struct ct_receiver rx;
    int rc = jobs && got && arrival ? ct_chan_open(&tx, &rx, sizeof(struct job_result),
                                                   CT_CHAN_UNBOUNDED, NULL)
                                    : -ENOMEM;
    if (rc) {
        free(jobs);
        free(got);
        free(arrival);
        return rc;
    }
    ct_legend(run, CT_SLEEP, "working (a pause standing for real work)");
    ct_legend(run, CT_WAIT, "waiting for a result");
    ct_point_legend(run, 's', "result sent");
    ct_point_legend(run, 'r', "result received");

    int started = 0;
    for (; started < n; started++) {
        struct job *j = &jobs[started];
        j->run = run;
        j->id = started;
        j->input = started + 1;
        /* a shuffled spread of pauses between pause/n and pause */
        j->pause_ms = pause * (double)((started * 5 + 3) % n + 1) / n;
        ct_chan_clone_sender(&tx, &j->tx);
        if ((rc = ct_thread_start(run, &j->thread, job_main, j, "job-%d", started)) != 0) {
            ct_chan_drop_sender(&j->tx);
            break;
        }
    }
    ct_chan_drop_sender(&tx);   /* only the jobs' clones keep it open now */
    ct_say(run, "started %d jobs, dropped my own sender, collecting results", started);

    int count = 0;
    int64_t t0 = ct_clock_ns();
    for (;;) {
        struct job_result r;
        ct_mark(run, CT_WAIT);
        int rr = ct_chan_recv(&rx, &r, ct_cancel_event(run));
        ct_mark(run, CT_RUN);
        if (rr)
            break;              /* -EPIPE once every job is done; or cancelled */
        ct_point(run, 'r');
        if (count < n)
            got[count++] = r;
    }
    double wall = (double)(ct_clock_ns() - t0) / 1e6;
    ct_mark(run, CT_IDLE);
    for (int i = 0; i < started; i++)
        ct_thread_join(&jobs[i].thread, NULL);
    ct_chan_drop_receiver(&rx);
    if (rc || ct_cancelled(run))
        goto out;

    char order[4 * MAX_JOBS] = "";
    size_t off = 0;
    double sum_ms = 0, longest = 0;
    for (int i = 0; i < count; i++) {
        arrival[got[i].id] = i + 1;
        off += (size_t)snprintf(order + off, sizeof order - off, "%s%d", i ? " " : "", got[i].id);
        sum_ms += got[i].ms;
        longest = got[i].ms > longest ? got[i].ms : longest;
    }
    ct_say(run, "arrival order of the job ids: %s", order);
    qsort(got, (size_t)count, sizeof *got, by_id);
    ct_say(run, "sorted by id; every job's result is in its place");

    static const char *const cols[] = { "id|job", "input", "square|result", "arrived|arrived #",
                                        "ms|job ms", NULL };
    struct ct_table *t = ct_table_new(run, "results", "results sorted by job id", cols);
    int right = 0, ids_ok = 0, displaced = 0;
    for (int i = 0; i < count; i++) {
        right += got[i].square == got[i].input * got[i].input && got[i].input == got[i].id + 1;
        ids_ok += got[i].id == i;
        displaced += arrival[got[i].id] != i + 1;
        ct_table_row(t, CT_INT(got[i].id), CT_INT(got[i].input), CT_INT(got[i].square),
                     CT_INT(arrival[got[i].id]), CT_NUM(got[i].ms, 1));
    }
    ct_result_int(run, "jobs", "jobs", n, NULL);
    ct_result_int(run, "out_of_place", "results that arrived out of id order", displaced, NULL);
    ct_result_num(run, "collect_ms", "time to collect every result", wall, 1, "ms");
    ct_result_num(run, "sum_ms", "the jobs' times added up", sum_ms, 1, "ms");
    ct_check(run, count == n && ids_ok == n, "one result from each of the %d jobs (%d received)", n,
             count);
    ct_check(run, right == count, "every result is its input squared (%d of %d)", right, count);

    ct_takeaway(run,
                "The results arrived in the order the jobs finished (%s), %d of %d out of id "
                "order; each carried its job id, so sorting put them back. Arrival order on a "
                "channel with many senders is whatever the threads made it.",
                order, displaced, n);
    ct_takeaway(run,
                "Collecting took %.0f ms against %.0f ms for the longest job and %.0f ms for all "
                "of them added up: %s No lock was needed: each result was moved through the "
                "channel and only main ever touched the array.",
                wall, longest, sum_ms,
                wall < (longest + sum_ms) / 2 ? "the jobs ran at once, so the wait was set by "
                                                "the slowest one, not by their sum."
                                              : "the jobs overlapped less than they could "
                                                "have (a busy machine?).");
out:
    free(jobs);
    free(got);
    free(arrival);
    return rc;
}

static const struct ct_param_spec channel_results_params[] = {
    { "jobs", CT_PARAM_INT, "8", 1, MAX_JOBS, NULL, "jobs, one thread each; job i squares i+1" },
    { "pause", CT_PARAM_NUM, "300", 0, 10000, NULL, "ms the slowest job works" },
    CT_PARAMS_END,
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
};
