/* job-queue.c - demo `job-queue`: typed background jobs through a channel
 * to a pool of workers, drained and stopped by closing the channel.
 *
 * Shows: the guide's task queue: three kinds of job (send an e-mail,
 * process an image, generate a report; a tagged union, Rust's enum), sent
 * by main through a bounded channel (chan.h) to `workers` threads that
 * share the receiving end.  Each worker reports every outcome, done or
 * failed, through a second channel back to main.  Main enqueues them all,
 * then drops its sender: the workers finish what is queued, see the
 * channel closed, drop their result senders and stop; main, collecting
 * outcomes, sees that channel close in turn and knows nothing is left.
 * Every job whose id is a multiple of fail-every fails (a bounced e-mail,
 * a missing image, an unknown user) and is reported with its reason.
 * Watch for: main done enqueueing long before the work is done, each job's
 * time in the queue and its latency, the failures, and the accounting:
 * submitted = done + failed.
 * Lesson: background-jobs (chapter 8).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "chan.h"
#include "clock.h"

#define MAX_JOBS 64
#define MAX_WORKERS 8

enum job_kind { JOB_EMAIL, JOB_IMAGE, JOB_REPORT, NKINDS };

static const char *const kind_name[NKINDS] = { "email", "image", "report" };
/* Each kind its own glyph on the timeline, so job boundaries show. */
static const enum ct_state kind_state[NKINDS] = { CT_RUN, CT_HOLD, CT_SHARED };

/* One job: which kind, and the fields of that kind only. */
struct job {
    enum job_kind kind;
    int id;
    int64_t enqueued_ns;
    union {
        struct {
            char to[32], subject[24];
        } email;
        struct {
            char path[40];
        } image;
        struct {
            unsigned long long user_id;
        } report;
    } u;
};

/* What a worker sends back for every job it took. */
struct outcome {
    int id, worker;
    int err;                    /* 0: done; else why it failed */
    int64_t started_ns, ended_ns;
};

struct queue {
    struct ct_run *run;
    double ms[NKINDS];          /* how long each kind takes */
    int fail_every;
};

struct worker {
    struct ct_thread thread;
    struct queue *q;
    int id;                     /* 1-based */
    struct ct_receiver jobs;
    struct ct_sender results;
    int taken;
    bool saw_close;             /* stopped because the channel closed */
};

/* The jobs main submits: kinds in turn, as in the guide's list. */
static void make_job(struct job *j, int id)
{
    *j = (struct job){ .kind = (enum job_kind)((id - 1) % NKINDS), .id = id };
    switch (j->kind) {
    case JOB_EMAIL:
        snprintf(j->u.email.to, sizeof j->u.email.to, "user%d@example.com", id);
        snprintf(j->u.email.subject, sizeof j->u.email.subject, "%s",
                 id == 1 ? "Welcome!" : "Daily digest");
        break;
    case JOB_IMAGE:
        snprintf(j->u.image.path, sizeof j->u.image.path, "/images/photo-%d.jpg", id);
        break;
    default:
        j->u.report.user_id = 100 + (unsigned long long)id;
        break;
    }
}

static const char *failure(enum job_kind k)
{
    return k == JOB_EMAIL ? "mailbox unavailable" : k == JOB_IMAGE ? "no such file"
                                                                  : "unknown user";
}

static int failure_errno(enum job_kind k)
{
    return k == JOB_EMAIL ? -ECONNREFUSED : k == JOB_IMAGE ? -ENOENT : -ESRCH;
}

/* Do the job: sleep as long as its kind takes (half, if it fails part
 * way).  0, the job's failure, or -ECANCELED. */
static int do_job(struct worker *w, const struct job *j)
{
    struct ct_run *run = w->q->run;
    bool fails = w->q->fail_every > 0 && j->id % w->q->fail_every == 0;
    switch (j->kind) {
    case JOB_EMAIL:
        ct_say(run, "job %d: e-mail to %s: %s", j->id, j->u.email.to, j->u.email.subject);
        break;
    case JOB_IMAGE:
        ct_say(run, "job %d: image %s", j->id, j->u.image.path);
        break;
    default:
        ct_say(run, "job %d: report for user %llu", j->id, j->u.report.user_id);
        break;
    }
    if (!ct_sleep_ms(run, w->q->ms[j->kind] * (fails ? 0.5 : 1)))
        return -ECANCELED;
    return fails ? failure_errno(j->kind) : 0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct ct_run *run = w->q->run;
    struct ct_event *cancel = ct_cancel_event(run);
    for (;;) {
        struct job j;
        ct_mark(run, CT_WAIT);
        int rc = ct_chan_recv(&w->jobs, &j, cancel);
        if (rc == -EPIPE)
            w->saw_close = true;
        if (rc)
            break;
        w->taken++;
        struct outcome o = { .id = j.id, .worker = w->id, .started_ns = ct_clock_ns() };
        ct_mark(run, kind_state[j.kind]);
        o.err = do_job(w, &j);
        o.ended_ns = ct_clock_ns();
        if (o.err == -ECANCELED)
            break;
        if (o.err) {
            ct_point(run, 'x');
            ct_say(run, "job %d failed: %s", j.id, failure(j.kind));
        } else {
            ct_say(run, "job %d done after %.0f ms in all", j.id,
                   (double)(o.ended_ns - j.enqueued_ns) / 1e6);
        }
        /* unbounded: never blocks; fails only if main is gone */
        if (ct_chan_send(&w->results, &o, cancel))
            break;
    }
    ct_mark(run, CT_IDLE);
    if (w->saw_close)
        ct_say(run, "queue closed and empty: worker-%d stops after %d jobs", w->id, w->taken);
    ct_chan_drop_receiver(&w->jobs);
    ct_chan_drop_sender(&w->results);
    return NULL;
}

/* ---- main: submit, close, collect ---------------------------------------- */

struct jq_result {
    int n, workers, fail_every;
    long capacity;
    enum job_kind kind[MAX_JOBS + 1];   /* by job id */
    int64_t enqueued[MAX_JOBS + 1];
    struct outcome out[MAX_JOBS + 1];
    int reports[MAX_JOBS + 1];          /* outcomes received per id */
    int submitted, taken, stopped_on_close;
    int full_waits;                     /* sends that found the queue full */
    int64_t full_wait_ns;               /* main's time blocked in them */
    int64_t t0, all_enqueued, closed, collected;
};

/* Submit every job, then close the queue.  0 or -ECANCELED. */
static int submit(struct ct_run *run, struct ct_sender *tx, struct jq_result *r)
{
    int rc = 0;
    for (int id = 1; id <= r->n; id++) {
        struct job j;
        make_job(&j, id);
        j.enqueued_ns = ct_clock_ns();
        r->kind[id] = j.kind;
        r->enqueued[id] = j.enqueued_ns;
        /* try first, so that a wait for room is seen and timed */
        rc = ct_chan_try_send(tx, &j);
        if (rc == -EAGAIN) {
            int64_t w0 = ct_clock_ns();
            r->full_waits++;
            rc = ct_chan_send(tx, &j, ct_cancel_event(run));
            r->full_wait_ns += ct_clock_ns() - w0;
        }
        if (rc != 0)
            break;
        r->submitted++;
        /* the send moved the job out of `j` (and zeroed it): read our copy */
        ct_say(run, "job %d enqueued (%s)", id, kind_name[r->kind[id]]);
    }
    r->all_enqueued = ct_clock_ns();
    /* dropping the only sender closes the queue: the workers' stop signal */
    ct_chan_drop_sender(tx);
    r->closed = ct_clock_ns();
    ct_point(run, 'C');
    if (rc == 0)
        ct_say(run, "%d jobs enqueued in %.2f ms; queue closed", r->submitted,
               (double)(r->all_enqueued - r->t0) / 1e6);
    return rc;
}

/* Outcomes until every worker has dropped its result sender. */
static int collect(struct ct_run *run, struct ct_receiver *rx, struct jq_result *r)
{
    ct_mark(run, CT_WAIT);
    for (;;) {
        struct outcome o;
        int rc = ct_chan_recv(rx, &o, ct_cancel_event(run));
        if (rc == -EPIPE)
            break;
        if (rc)
            return rc;
        if (o.id >= 1 && o.id <= r->n) {
            r->out[o.id] = o;
            r->reports[o.id]++;
        }
    }
    r->collected = ct_clock_ns();
    ct_mark(run, CT_IDLE);
    ct_say(run, "results channel closed: every worker is done");
    return 0;
}

/* Start the workers on clones of the two channel ends; join them. */
static int run_queue(struct ct_run *run, struct queue *q, struct jq_result *r)
{
    struct ct_sender jobs_tx, results_tx;
    struct ct_receiver jobs_rx, results_rx;
    struct worker w[MAX_WORKERS];
    int rc = ct_chan_open(&jobs_tx, &jobs_rx, sizeof(struct job), r->capacity, NULL);
    if (rc)
        return rc;
    if ((rc = ct_chan_open(&results_tx, &results_rx, sizeof(struct outcome),
                           CT_CHAN_UNBOUNDED, NULL)) != 0) {
        ct_chan_drop_sender(&jobs_tx);
        ct_chan_drop_receiver(&jobs_rx);
        return rc;
    }
    int started = 0;
    for (; started < r->workers; started++) {
        w[started] = (struct worker){ .q = q, .id = started + 1 };
        ct_chan_clone_receiver(&jobs_rx, &w[started].jobs);
        ct_chan_clone_sender(&results_tx, &w[started].results);
        rc = ct_thread_start(run, &w[started].thread, worker_main, &w[started], "worker-%d",
                             started + 1);
        if (rc) {
            ct_chan_drop_receiver(&w[started].jobs);
            ct_chan_drop_sender(&w[started].results);
            break;
        }
    }
    /* main keeps only the ends it uses: the queue's sender, the results'
     * receiver; otherwise neither channel could ever close */
    ct_chan_drop_receiver(&jobs_rx);
    ct_chan_drop_sender(&results_tx);
    r->t0 = ct_clock_ns();
    int src = submit(run, &jobs_tx, r);
    if (rc == 0 && src == 0)
        rc = collect(run, &results_rx, r);
    for (int i = 0; i < started; i++) {
        ct_thread_join(&w[i].thread, NULL);
        r->taken += w[i].taken;
        r->stopped_on_close += w[i].saw_close;
    }
    ct_chan_drop_receiver(&results_rx);
    return rc ? rc : src;
}

struct jq_sums {
    int done, failed, should_fail, failed_right, dupes, missing;
    int kind_jobs[NKINDS], kind_failed[NKINDS];
    double kind_latency[NKINDS], min_latency, max_latency, max_queued;
    int slowest;                /* the job with the longest latency */
};

static void sum_jobs(struct ct_run *run, const struct jq_result *r, struct jq_sums *s)
{
    static const char *const cols[] = { "id", "kind", "worker", "queued_ms|queued ms",
                                        "latency_ms|latency ms", "outcome", NULL };
    struct ct_table *t = ct_table_new(run, "jobs", NULL, cols);
    char worker[24];
    *s = (struct jq_sums){ .min_latency = 1e300 };
    for (int id = 1; id <= r->submitted; id++) {
        const struct outcome *o = &r->out[id];
        bool fails = r->fail_every > 0 && id % r->fail_every == 0;
        s->should_fail += fails;
        s->dupes += r->reports[id] > 1;
        s->missing += r->reports[id] == 0;
        if (r->reports[id] == 0)
            continue;
        double queued = (double)(o->started_ns - r->enqueued[id]) / 1e6;
        double latency = (double)(o->ended_ns - r->enqueued[id]) / 1e6;
        snprintf(worker, sizeof worker, "worker-%d", o->worker);
        ct_table_row(t, CT_INT(id), CT_TEXT(kind_name[r->kind[id]]), CT_TEXT(worker),
                     CT_NUM(queued, 1), CT_NUM(latency, 1),
                     CT_TEXT(o->err ? failure(r->kind[id]) : "done"));
        s->done += o->err == 0;
        s->failed += o->err != 0;
        s->failed_right += fails && o->err != 0;
        s->kind_jobs[r->kind[id]]++;
        s->kind_failed[r->kind[id]] += o->err != 0;
        s->kind_latency[r->kind[id]] += latency;
        if (latency < s->min_latency)
            s->min_latency = latency;
        if (latency > s->max_latency) {
            s->max_latency = latency;
            s->slowest = id;
        }
        s->max_queued = queued > s->max_queued ? queued : s->max_queued;
    }
}

static void report_jobs(struct ct_run *run, const struct jq_result *r)
{
    struct jq_sums s;
    sum_jobs(run, r, &s);
    static const char *const cols[] = { "kind", "jobs", "failed",
                                        "latency_ms|mean latency ms", NULL };
    struct ct_table *t = ct_table_new(run, "kinds", NULL, cols);
    for (int k = 0; k < NKINDS; k++)
        ct_table_row(t, CT_TEXT(kind_name[k]), CT_INT(s.kind_jobs[k]), CT_INT(s.kind_failed[k]),
                     CT_NUM(s.kind_jobs[k] ? s.kind_latency[k] / s.kind_jobs[k] : 0, 1));
    double enqueue_ms = (double)(r->all_enqueued - r->t0) / 1e6;
    double full_ms = (double)r->full_wait_ns / 1e6;
    double drain_ms = (double)(r->collected - r->closed) / 1e6;
    ct_result_int(run, "submitted", "jobs submitted", r->submitted, NULL);
    ct_result_int(run, "done", "jobs done", s.done, NULL);
    ct_result_int(run, "failed", "jobs failed (reported)", s.failed, NULL);
    ct_result_num(run, "enqueue_ms", "main: time to enqueue them all", enqueue_ms, 2, "ms");
    ct_result_int(run, "full_waits", "main: sends that found the queue full", r->full_waits,
                  NULL);
    ct_result_num(run, "full_wait_ms", "main: time waiting for room", full_ms, 1, "ms");
    ct_result_num(run, "drain_ms", "from closing the queue to the last result", drain_ms, 1,
                  "ms");
    ct_result_int(run, "stopped_on_close", "workers that stopped on the close",
                  r->stopped_on_close, NULL);

    ct_check(run, r->submitted == s.done + s.failed,
             "submitted = done + failed: %d = %d + %d", r->submitted, s.done, s.failed);
    ct_check(run, s.dupes == 0 && s.missing == 0 && r->taken == r->submitted,
             "each job was taken once and reported once (%d taken, %d missing, %d twice)",
             r->taken, s.missing, s.dupes);
    ct_check(run, s.failed == s.should_fail && s.failed_right == s.should_fail,
             "the %d failing job%s came back as failures, none lost", s.should_fail,
             s.should_fail == 1 ? "" : "s");
    ct_check(run, r->stopped_on_close == r->workers,
             "every worker stopped because the queue closed (%d of %d)", r->stopped_on_close,
             r->workers);
    char main_part[320], more[64];
    if (r->full_waits == 0)
        snprintf(main_part, sizeof main_part,
                 "Main enqueued %d jobs in %.2f ms and was free again: a request handler "
                 "would already have answered.", r->submitted, enqueue_ms);
    else
        snprintf(main_part, sizeof main_part,
                 "Main found the queue (capacity %ld) full %d time%s and waited %.1f ms in all "
                 "for room, so enqueuing %d jobs took %.1f ms: a bounded queue pushes back on "
                 "its producer, and a request handler would have waited too.",
                 r->capacity, r->full_waits, r->full_waits == 1 ? "" : "s", full_ms,
                 r->submitted, enqueue_ms);
    if (r->workers < MAX_WORKERS)
        snprintf(more, sizeof more, "try workers=%d", 2 * r->workers < MAX_WORKERS
                                                          ? 2 * r->workers : MAX_WORKERS);
    else
        snprintf(more, sizeof more, "compare workers=1");
    ct_takeaway(run,
                "%s The %d worker%s needed %.0f ms more. Latency, enqueue to done, ran from "
                "%.0f to %.0f ms (job %d); up to %.0f ms of it was waiting in the queue. More "
                "workers cut the waiting, not the work: %s.",
                main_part, r->workers, r->workers == 1 ? "" : "s", drain_ms, s.min_latency,
                s.max_latency, s.slowest, s.max_queued, more);
    ct_takeaway(run,
                "%d job%s failed and came back as failed outcomes with their reason, so "
                "%d done + %d failed = %d submitted: nothing was lost. Closing the queue was "
                "the only stop signal needed: each worker emptied it, saw it closed and "
                "returned, and when the last one had gone, main's results channel closed too.",
                s.failed, s.failed == 1 ? "" : "s", s.done, s.failed, r->submitted);
}

static int jobs_run(struct ct_run *run)
{
    struct jq_result *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->n = (int)ct_param_int(run, "jobs");
    r->workers = (int)ct_param_int(run, "workers");
    r->capacity = (long)ct_param_int(run, "capacity");
    r->fail_every = (int)ct_param_int(run, "fail-every");
    struct queue q = { .run = run, .fail_every = r->fail_every,
                       .ms = { (double)ct_param_int(run, "email-ms"),
                               (double)ct_param_int(run, "image-ms"),
                               (double)ct_param_int(run, "report-ms") } };
    ct_legend(run, CT_RUN, "an e-mail job");
    ct_legend(run, CT_HOLD, "an image job");
    ct_legend(run, CT_SHARED, "a report job");
    ct_legend(run, CT_WAIT, "waiting for a job (main: for results)");
    ct_point_legend(run, 'C', "main closes the queue");
    ct_point_legend(run, 'x', "a job failed");
    int rc = run_queue(run, &q, r);
    if (rc == 0 && !ct_cancelled(run))
        report_jobs(run, r);
    free(r);
    return rc == -ECANCELED ? 0 : rc;
}

static const struct ct_param_spec jobs_params[] = {
    { "jobs", CT_PARAM_INT, "12", 1, MAX_JOBS, NULL, "jobs to submit (kinds in turn)" },
    { "workers", CT_PARAM_INT, "2", 1, MAX_WORKERS, NULL, "background worker threads" },
    { "capacity", CT_PARAM_INT, "100", 1, 1000, NULL, "queue capacity (the guide's 100)" },
    { "fail-every", CT_PARAM_INT, "5", 0, MAX_JOBS, NULL,
      "jobs whose id is a multiple of this fail (0: none)" },
    { "email-ms", CT_PARAM_INT, "100", 0, 5000, NULL, "an e-mail (the guide's 1 s)" },
    { "image-ms", CT_PARAM_INT, "200", 0, 5000, NULL, "an image (the guide's 2 s)" },
    { "report-ms", CT_PARAM_INT, "50", 0, 5000, NULL, "a report (the guide's 0.5 s)" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_job_queue = {
    .name = "job-queue",
    .chapter = 8,
    .title = "Background jobs through a channel",
    .summary = "Typed jobs to background workers; closing the channel drains and stops them",
    .intro = "Main puts e-mail, image and report jobs on a channel and moves on; two "
             "background workers take them, one at a time each, and report every outcome. "
             "Closing the channel is the stop signal: the workers finish the queue, then "
             "stop.",
    .params = jobs_params,
    .smoke = "jobs=7 workers=3 capacity=2 fail-every=3 email-ms=5 image-ms=8 report-ms=3",
    .run = jobs_run,
};
