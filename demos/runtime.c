/* runtime.c - demo `runtime`: the same tasks on a current-thread executor
 * and on a multi-threaded, work-stealing one.
 *
 * Shows: a root task spawns 10 tasks; each does a little CPU work (1 ms),
 * sleeps 100 ms (the guide's example, scaled from its own numbers), and
 * returns i * 2, which the root collects through the join handles.  On the
 * current-thread executor everything runs on main.  On the multi-threaded
 * one (4 workers) the 10 tasks land in the root's worker's own queue; the
 * other workers, woken because there is work, steal from it.  Each task
 * reports the worker it started on and the one that finished it (after a
 * sleep a task can resume anywhere).
 * Watch for: the "started on" column, the per-worker table's "stolen"
 * figures, and the worker lanes of the timeline.
 * Lesson: multi-thread (chapter 7).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "clock.h"
#include "exec.h"
#include "timer.h"
#include "tasks.h"

#define MAX_TASKS 64

struct task_record {
    char started_on[CT_LABEL_MAX], finished_on[CT_LABEL_MAX];
    int runs;
    long result;                /* what the root got through the join handle */
};

struct job {
    struct ct_future base;
    int pc, i;
    double work_us;
    int64_t sleep_ns;
    struct ct_sleep nap;
    struct ct_run *run;
    struct task_record *rec;
};

/* Busy for `us` microseconds of this thread's CPU time: stands for real
 * work between awaits.  CPU time, not wall time: with more workers than
 * CPUs a worker waiting for a core must not count that wait as work done,
 * or sixteen workers on two CPUs would seem to work sixteen times as fast. */
static void compute(double us)
{
    int64_t until = ct_thread_cpu_ns() + (int64_t)(us * 1e3);
    while (ct_thread_cpu_ns() < until)
        ;
}

static enum ct_poll job_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct job *j = (struct job *)f;
    CT_ASYNC_BEGIN(j->pc);
    snprintf(j->rec->started_on, sizeof j->rec->started_on, "%s", ct_thread_label());
    ct_mark(j->run, CT_RUN);
    ct_say(j->run, "task %d starting", j->i);
    compute(j->work_us);
    ct_mark(j->run, CT_IDLE);
    ct_sleep_init(&j->nap, j->sleep_ns);
    CT_AWAIT(j->pc, &j->nap.base, cx);
    snprintf(j->rec->finished_on, sizeof j->rec->finished_on, "%s", ct_thread_label());
    j->rec->runs++;
    ct_point(j->run, '*');
    ct_say(j->run, "task %d finished (started on %s)", j->i, j->rec->started_on);
    CT_ASYNC_END(j->pc);
    f->value = j->i * 2;
    return CT_READY;
}

static void job_drop(struct ct_future *f)
{
    ct_future_drop(&((struct job *)f)->nap.base);
}

static const struct ct_future_ops job_ops = { "job", job_poll, job_drop };

/* The root: spawn every job, then await the handles in order. */
struct root {
    struct ct_future base;
    int pc, n, next;
    double work_us;
    int64_t sleep_ns;
    struct ct_run *run;
    struct task_record *rec;
    struct ct_join_handle h[MAX_TASKS];
    int results_ok;
    char *spawned_on;           /* CT_LABEL_MAX bytes: the thread that spawned them */
};

static enum ct_poll root_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct root *r = (struct root *)f;
    CT_ASYNC_BEGIN(r->pc);
    snprintf(r->spawned_on, CT_LABEL_MAX, "%s", ct_thread_label());
    ct_say(r->run, "root task: spawning %d task%s", r->n, r->n == 1 ? "" : "s");
    for (int i = 0; i < r->n; i++) {
        struct job j = { .base = { .ops = &job_ops }, .i = i, .work_us = r->work_us,
                         .sleep_ns = r->sleep_ns, .run = r->run, .rec = &r->rec[i] };
        f->error = ct_spawn(cx->exec, &j, &r->h[i]);
        if (f->error)
            return CT_READY;
    }
    for (r->next = 0; r->next < r->n; r->next++) {
        CT_AWAIT(r->pc, &r->h[r->next].base, cx);
        r->rec[r->next].result = (long)r->h[r->next].base.value;
        r->results_ok += r->h[r->next].status == CT_JOIN_OK &&
                         r->h[r->next].base.value == r->next * 2;
        ct_say(r->run, "root task: got result %ld from task %d",
               (long)r->h[r->next].base.value, r->next);
    }
    CT_ASYNC_END(r->pc);
    f->value = r->results_ok;
    return CT_READY;
}

static void root_drop(struct ct_future *f)
{
    struct root *r = (struct root *)f;
    for (int i = 0; i < r->n; i++)
        ct_future_drop(&r->h[i].base);
}

static const struct ct_future_ops root_ops = { "root", root_poll, root_drop };

struct flavour_result {
    double ms;
    int results_ok, runs;
    char spawned_on[CT_LABEL_MAX];  /* where the root spawned the tasks */
    struct ct_exec_stats st;
};

/* Run the root on a fresh executor of `flavor`; the root is spawned from
 * main and awaited through its handle. */
static int run_flavour(struct ct_run *run, enum ct_exec_flavor flavor, int workers, int n,
                       double work_us, int64_t sleep_ns, struct task_record *rec,
                       struct flavour_result *out)
{
    struct ct_exec *ex;
    int rc = ct_demo_executor(run, flavor, workers, &ex);
    if (rc)
        return rc;
    /* the root is big (its handles live in it): spawn moves it to the heap */
    struct root *r = calloc(1, sizeof *r);
    if (!r) {
        ct_exec_free(ex);
        return -ENOMEM;
    }
    *r = (struct root){ .base = { .ops = &root_ops }, .n = n, .work_us = work_us,
                        .sleep_ns = sleep_ns, .run = run, .rec = rec,
                        .spawned_on = out->spawned_on };
    struct ct_join_handle h;
    int64_t t0 = ct_clock_ns();
    rc = ct_spawn(ex, r, &h);
    free(r);
    if (rc == 0)
        rc = ct_block_on(ex, &h.base);
    out->ms = (double)(ct_clock_ns() - t0) / 1e6;
    if (rc == 0 && h.base.error)
        rc = h.base.error;
    out->results_ok = (int)h.base.value;
    ct_future_drop(&h.base);
    ct_exec_get_stats(ex, &out->st);
    ct_exec_free(ex);
    for (int i = 0; i < n; i++)
        out->runs += rec[i].runs;
    return rc;
}

struct runtime_config {
    int n, workers;
    double work_us;
    int64_t sleep_ns;
};

struct runtime_result {
    struct task_record ct_rec[MAX_TASKS], mt_rec[MAX_TASKS];
    struct flavour_result ctr, mtr;
    int moved;                  /* multi: tasks finished on another worker */
    int distinct;               /* multi: workers that started a task */
    uint64_t stolen;
    bool ct_main;               /* current-thread: every task on main */
};

static int run_both(struct ct_run *run, const struct runtime_config *c, struct runtime_result *r)
{
    ct_legend(run, CT_RUN, "polling a task (its CPU work)");
    ct_point_legend(run, '*', "a task finished here");
    ct_section(run, "current-thread executor: every task on main");
    int rc = run_flavour(run, CT_EXEC_CURRENT_THREAD, 1, c->n, c->work_us, c->sleep_ns,
                         r->ct_rec, &r->ctr);
    if (rc)
        return rc;
    ct_say(run, "current-thread: %d task%s done in %.1f ms", c->n, c->n == 1 ? "" : "s",
           r->ctr.ms);
    ct_section(run, "multi-threaded executor: %d worker%s, work stealing", c->workers,
               c->workers == 1 ? "" : "s");
    rc = run_flavour(run, CT_EXEC_MULTI_THREAD, c->workers, c->n, c->work_us, c->sleep_ns,
                     r->mt_rec, &r->mtr);
    if (rc == 0)
        ct_say(run, "multi-threaded: %d task%s done in %.1f ms", c->n, c->n == 1 ? "" : "s",
               r->mtr.ms);
    return rc;
}

/* Where the tasks ran: counted from the records. */
static void tally(const struct runtime_config *c, struct runtime_result *r)
{
    char seen[CT_EXEC_MAX_WORKERS][CT_LABEL_MAX];
    r->ct_main = true;
    for (int i = 0; i < c->n; i++) {
        const struct task_record *m = &r->mt_rec[i], *t = &r->ct_rec[i];
        r->ct_main &= strcmp(t->started_on, "main") == 0 && strcmp(t->finished_on, "main") == 0;
        r->moved += strcmp(m->started_on, m->finished_on) != 0;
        bool known = false;
        for (int k = 0; k < r->distinct; k++)
            known |= strcmp(seen[k], m->started_on) == 0;
        if (!known && r->distinct < CT_EXEC_MAX_WORKERS)
            memcpy(seen[r->distinct++], m->started_on, CT_LABEL_MAX);
    }
    for (int i = 0; i < r->mtr.st.workers; i++)
        r->stolen += r->mtr.st.w[i].stolen;
}

static void report_tables(struct ct_run *run, const struct runtime_config *c,
                          const struct runtime_result *r)
{
    static const char *const cols[] = { "task", "ct_ran_on|current-thread ran on",
                                        "mt_started|multi: started on",
                                        "mt_finished|multi: finished on", "result", NULL };
    struct ct_table *t = ct_table_new(run, "tasks", NULL, cols);
    for (int i = 0; i < c->n; i++)
        ct_table_row(t, CT_INT(i), CT_TEXT(r->ct_rec[i].started_on),
                     CT_TEXT(r->mt_rec[i].started_on), CT_TEXT(r->mt_rec[i].finished_on),
                     CT_INT(r->mt_rec[i].result));

    static const char *const wcols[] = { "worker", "polls", "completed", "stolen",
                                         "from_injector|from injection queue", "parks", NULL };
    struct ct_table *w = ct_table_new(run, "workers", "multi-threaded executor, per worker",
                                      wcols);
    for (int i = 0; i < r->mtr.st.workers; i++) {
        char name[CT_LABEL_MAX];
        snprintf(name, sizeof name, "worker-%d", i + 1);
        const struct ct_worker_stats *s = &r->mtr.st.w[i];
        ct_table_row(w, CT_TEXT(name), CT_INT((long long)s->polls),
                     CT_INT((long long)s->completed), CT_INT((long long)s->stolen),
                     CT_INT((long long)s->from_injector), CT_INT((long long)s->parks));
    }
    ct_result_num(run, "current_thread_ms", "current-thread wall time", r->ctr.ms, 1, "ms");
    ct_result_num(run, "multi_thread_ms", "multi-threaded wall time", r->mtr.ms, 1, "ms");
    ct_result_int(run, "stolen", "tasks stolen between workers", (long long)r->stolen, NULL);
    ct_result_int(run, "workers_used", "workers that started a task", r->distinct, NULL);
    ct_result_int(run, "moved", "tasks that finished on another worker", r->moved, NULL);
    ct_result_text(run, "spawned_on", "the root spawned them on", r->mtr.spawned_on);
    ct_result_int(run, "cpus", "CPUs online", ct_cpus(), NULL);
}

static void report_checks(struct ct_run *run, const struct runtime_config *c,
                          const struct runtime_result *r)
{
    double sleep_ms = (double)c->sleep_ns / 1e6;
    ct_check(run, r->ctr.runs == c->n && r->mtr.runs == c->n,
             "every task ran to the end once on each executor (%d, %d of %d)", r->ctr.runs,
             r->mtr.runs, c->n);
    ct_check(run, r->ctr.results_ok == c->n && r->mtr.results_ok == c->n,
             "the root got i * 2 from every join handle (%d, %d of %d)", r->ctr.results_ok,
             r->mtr.results_ok, c->n);
    ct_check(run, r->ct_main, "on the current-thread executor every task ran on main");
    ct_check(run, r->ctr.ms >= sleep_ms && r->mtr.ms >= sleep_ms,
             "no run beat its tasks' sleep (%.0f ms)", sleep_ms);
}

/* How the multi-threaded time compares with the current-thread one, judged
 * against the most that sharing the CPU work can save: on `sharing` CPUs
 * (or workers, the fewer) the work takes 1/sharing of its time, so at most
 * cpu_ms * (1 - 1/sharing) comes off.  Gaps within `tol` (0.5 ms plus 5 %
 * of the slower run) are noise.  One of "same", "slower", "shared" (half
 * or more of what sharing can save), "partial" (less), "beyond" (more than
 * sharing can explain).  Not static: tests/test-runtime.c calls it. */
const char *ct_runtime_verdict(double ct_ms, double mt_ms, double cpu_ms, int sharing);
const char *ct_runtime_verdict(double ct_ms, double mt_ms, double cpu_ms, int sharing)
{
    double diff = ct_ms - mt_ms, save = sharing > 1 ? cpu_ms * (1 - 1.0 / sharing) : 0;
    double tol = 0.5 + 0.05 * (ct_ms > mt_ms ? ct_ms : mt_ms);
    if (diff >= -tol && diff <= tol)
        return "same";
    if (diff < 0)
        return "slower";
    if (diff > save + tol)
        return "beyond";
    return diff >= save / 2 ? "shared" : "partial";
}

/* The sentence for ct_runtime_verdict's answer, into buf. */
static void verdict_text(char *buf, size_t len, const struct runtime_config *c,
                         const struct runtime_result *r, int sharing)
{
    double cpu_ms = c->n * c->work_us / 1e3, diff = r->ctr.ms - r->mtr.ms;
    double save = sharing > 1 ? cpu_ms * (1 - 1.0 / sharing) : 0;
    const char *v = ct_runtime_verdict(r->ctr.ms, r->mtr.ms, cpu_ms, sharing);
    char over[48];
    snprintf(over, sizeof over, "%d %s%s", sharing, sharing == c->workers ? "worker" : "CPU",
             sharing == 1 ? "" : "s");
    const char *again = "repeat the run for a steadier comparison.";
    if (strcmp(v, "same") == 0 && sharing == 1)
        snprintf(buf, len, "No measurable difference, as expected: on %s the CPU work "
                 "is not shared out.", over);
    else if (strcmp(v, "same") == 0 && save <= 0.5 + 0.05 * r->ctr.ms)
        snprintf(buf, len, "No measurable difference, as expected: sharing %.1f ms of CPU "
                 "work over %s saves at most %.1f ms.", cpu_ms, over, save);
    else if (strcmp(v, "same") == 0)
        snprintf(buf, len, "No measurable difference, though sharing the CPU work over %s "
                 "could save up to %.1f ms: the workers got little more than one CPU's time "
                 "(other load on the machine?); %s", over, save, again);
    else if (strcmp(v, "slower") == 0)
        snprintf(buf, len, "It was %.1f ms slower: sharing work cannot cost time, so that "
                 "is the workers' overhead or this run's noise; %s", -diff, again);
    else if (strcmp(v, "beyond") == 0)
        snprintf(buf, len, "It was %.1f ms faster, more than the %.1f ms that sharing the "
                 "CPU work over %s can save: the rest is this run's noise; %s", diff, save,
                 over, again);
    else if (strcmp(v, "shared") == 0)
        snprintf(buf, len, "It was %.1f ms faster: that fits the CPU work being shared out "
                 "over %s, which saves up to %.1f ms.", diff, over, save);
    else
        snprintf(buf, len, "It was %.1f ms faster, under half of the %.1f ms that sharing "
                 "the CPU work over %s can save: the workers did not get every CPU all "
                 "the time (other load on the machine?); %s", diff, save, over, again);
}

static void report_takeaway(struct ct_run *run, const struct runtime_config *c,
                            const struct runtime_result *r)
{
    double sleep_ms = (double)c->sleep_ns / 1e6, cpu_ms = c->n * c->work_us / 1e3;
    /* the CPU work is the only part that more workers can shorten, and only
     * by sharing it over as many of them as there are CPUs */
    int sharing = c->workers < ct_cpus() ? c->workers : ct_cpus();
    char verdict[400];
    verdict_text(verdict, sizeof verdict, c, r, sharing);
    /* in turn, sleeps and work would add up; less than that is overlap */
    char sleeps[160];
    if (c->n == 1)
        snprintf(sleeps, sizeof sleeps, "Its one %.0f ms sleep had nothing to overlap with.",
                 sleep_ms);
    else if (r->ctr.ms < c->n * sleep_ms + cpu_ms)
        snprintf(sleeps, sizeof sleeps, "Slept in turn, their %.0f ms sleeps would have taken "
                 "%.0f ms: they overlapped.", sleep_ms, c->n * sleep_ms);
    else
        snprintf(sleeps, sizeof sleeps, "Their %.0f ms sleeps, %.0f ms in turn, did not "
                 "measurably overlap this time.", sleep_ms, c->n * sleep_ms);
    ct_takeaway(run,
                "Current-thread: %d task%s in %.1f ms on one thread. %s %s CPU work, "
                "%.1f ms in all, cannot overlap on one thread. Multi-threaded: %.1f ms, with "
                "tasks started on %d of %d worker%s. %s",
                c->n, c->n == 1 ? "" : "s", r->ctr.ms, sleeps, c->n == 1 ? "Its" : "Their",
                cpu_ms, r->mtr.ms, r->distinct, c->workers, c->workers == 1 ? "" : "s",
                verdict);
    if (r->stolen > 0)
        ct_takeaway(run,
                    "The root spawned all %d tasks from %s, so they went to that worker's "
                    "own queue; workers that ran out of work stole %llu times from the "
                    "others (a task goes back on a queue each time it is woken, so one task "
                    "can be stolen more than once). "
                    "%d finished on a different worker than they started on: a timer wakes "
                    "a task from outside the workers, into the shared queue, and any worker "
                    "may pick it up.",
                    c->n, r->mtr.spawned_on, (unsigned long long)r->stolen, r->moved);
    else if (c->workers == 1)
        ct_takeaway(run,
                    "No task was stolen: with one worker there is no other worker to steal, "
                    "so %s ran %s %d task%s. Raise workers to see stealing.",
                    r->mtr.spawned_on, c->n == 1 ? "its" : "all", c->n, c->n == 1 ? "" : "s");
    else
        ct_takeaway(run,
                    "No task was stolen this time: %s, where the root spawned them, got "
                    "through all %d before another worker looked (more tasks, or more "
                    "work-us, make stealing likelier).", r->mtr.spawned_on, c->n);
    if (c->workers > ct_cpus())
        ct_takeaway(run, "%d workers share %d CPUs here, so some workers wait for a core.",
                    c->workers, ct_cpus());
}

static int runtime_run(struct ct_run *run)
{
    struct runtime_config c = {
        .n = (int)ct_param_int(run, "tasks"),
        .workers = (int)ct_param_int(run, "workers"),
        .work_us = (double)ct_param_int(run, "work-us"),
        .sleep_ns = ct_demo_ns(run, (double)ct_param_int(run, "sleep-ms")),
    };
    struct runtime_result *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    int rc = run_both(run, &c, r);
    if (rc == 0) {
        tally(&c, r);
        report_tables(run, &c, r);
        report_checks(run, &c, r);
        report_takeaway(run, &c, r);
    }
    free(r);
    return rc == -ECANCELED ? 0 : rc;
}

static const struct ct_param_spec runtime_params[] = {
    { "tasks", CT_PARAM_INT, "10", 1, MAX_TASKS, NULL, "tasks the root spawns" },
    { "workers", CT_PARAM_INT, "4", 1, 16, NULL, "multi-threaded executor's workers" },
    { "sleep-ms", CT_PARAM_INT, "100", 1, 5000, NULL, "each task's sleep (the guide's 100 ms)" },
    { "work-us", CT_PARAM_INT, "1000", 0, 100000, NULL,
      "CPU work each task does before sleeping, in microseconds" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_runtime = {
    .name = "runtime",
    .chapter = 7,
    .title = "Current-thread and multi-threaded executors",
    .summary = "The same 10 tasks on one thread, then on 4 work-stealing workers",
    .intro = "A root task spawns ten tasks that compute briefly, sleep and return a number. "
             "They run first on a current-thread executor, then on a multi-threaded one with "
             "four workers. See which worker ran each task, and how many were stolen.",
    .params = runtime_params,
    .smoke = "tasks=6 workers=2 sleep-ms=10 work-us=200",
    .run = runtime_run,
};
