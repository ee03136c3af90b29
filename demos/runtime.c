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
 * Lesson: runtime-flavours (chapter 7).
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

/* Busy for `us` microseconds: stands for real work between awaits. */
static void compute(double us)
{
    int64_t until = ct_clock_ns() + (int64_t)(us * 1e3);
    while (ct_clock_ns() < until)
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
};

static enum ct_poll root_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct root *r = (struct root *)f;
    CT_ASYNC_BEGIN(r->pc);
    ct_say(r->run, "root task: spawning %d tasks", r->n);
    for (int i = 0; i < r->n; i++) {
        struct job j = { .base = { .ops = &job_ops }, .i = i, .work_us = r->work_us,
                         .sleep_ns = r->sleep_ns, .run = r->run, .rec = &r->rec[i] };
        f->error = ct_spawn(cx->exec, &j, &r->h[i]);
        if (f->error)
            return CT_READY;
    }
    for (r->next = 0; r->next < r->n; r->next++) {
        CT_AWAIT(r->pc, &r->h[r->next].base, cx);
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
                        .sleep_ns = sleep_ns, .run = run, .rec = rec };
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

static int runtime_run(struct ct_run *run)
{
    int n = (int)ct_param_int(run, "tasks");
    int workers = (int)ct_param_int(run, "workers");
    double work_us = (double)ct_param_int(run, "work-us");
    int64_t sleep_ns = ct_demo_ns(run, (double)ct_param_int(run, "sleep-ms"));
    struct task_record ct_rec[MAX_TASKS] = { 0 }, mt_rec[MAX_TASKS] = { 0 };
    struct flavour_result ctr = { 0 }, mtr = { 0 };
    ct_legend(run, CT_RUN, "polling a task (its CPU work)");
    ct_point_legend(run, '*', "a task finished here");

    ct_section(run, "current-thread executor: every task on main");
    int rc = run_flavour(run, CT_EXEC_CURRENT_THREAD, 1, n, work_us, sleep_ns, ct_rec, &ctr);
    if (rc)
        return rc == -ECANCELED ? 0 : rc;
    ct_say(run, "current-thread: %d tasks done in %.1f ms", n, ctr.ms);

    ct_section(run, "multi-threaded executor: %d workers, work stealing", workers);
    rc = run_flavour(run, CT_EXEC_MULTI_THREAD, workers, n, work_us, sleep_ns, mt_rec, &mtr);
    if (rc)
        return rc == -ECANCELED ? 0 : rc;
    ct_say(run, "multi-threaded: %d tasks done in %.1f ms", n, mtr.ms);

    static const char *const cols[] = { "task", "ct_ran_on|current-thread ran on",
                                        "mt_started|multi: started on",
                                        "mt_finished|multi: finished on", "result", NULL };
    struct ct_table *t = ct_table_new(run, "tasks", NULL, cols);
    int moved = 0, distinct = 0;
    char seen[CT_EXEC_MAX_WORKERS][CT_LABEL_MAX];
    for (int i = 0; i < n; i++) {
        ct_table_row(t, CT_INT(i), CT_TEXT(ct_rec[i].started_on), CT_TEXT(mt_rec[i].started_on),
                     CT_TEXT(mt_rec[i].finished_on), CT_INT(i * 2));
        moved += strcmp(mt_rec[i].started_on, mt_rec[i].finished_on) != 0;
        bool known = false;
        for (int k = 0; k < distinct; k++)
            known |= strcmp(seen[k], mt_rec[i].started_on) == 0;
        if (!known && distinct < CT_EXEC_MAX_WORKERS)
            memcpy(seen[distinct++], mt_rec[i].started_on, CT_LABEL_MAX);
    }

    static const char *const wcols[] = { "worker", "polls", "completed", "stolen",
                                         "from_injector|from injection queue", "parks", NULL };
    struct ct_table *w = ct_table_new(run, "workers", "multi-threaded executor, per worker",
                                      wcols);
    uint64_t stolen = 0;
    for (int i = 0; i < mtr.st.workers; i++) {
        char name[CT_LABEL_MAX];
        snprintf(name, sizeof name, "worker-%d", i + 1);
        const struct ct_worker_stats *s = &mtr.st.w[i];
        ct_table_row(w, CT_TEXT(name), CT_INT((long long)s->polls),
                     CT_INT((long long)s->completed), CT_INT((long long)s->stolen),
                     CT_INT((long long)s->from_injector), CT_INT((long long)s->parks));
        stolen += s->stolen;
    }

    ct_result_num(run, "current_thread_ms", "current-thread wall time", ctr.ms, 1, "ms");
    ct_result_num(run, "multi_thread_ms", "multi-threaded wall time", mtr.ms, 1, "ms");
    ct_result_int(run, "stolen", "tasks stolen between workers", (long long)stolen, NULL);
    ct_result_int(run, "workers_used", "workers that started a task", distinct, NULL);
    ct_result_int(run, "moved", "tasks that finished on another worker", moved, NULL);
    ct_result_int(run, "cpus", "CPUs online", ct_cpus(), NULL);

    bool ct_main = true;
    for (int i = 0; i < n; i++)
        ct_main &= strcmp(ct_rec[i].started_on, "main") == 0 &&
                   strcmp(ct_rec[i].finished_on, "main") == 0;
    ct_check(run, ctr.runs == n && mtr.runs == n, "every task ran to the end once on each "
             "executor (%d and %d of %d)", ctr.runs, mtr.runs, n);
    ct_check(run, ctr.results_ok == n && mtr.results_ok == n,
             "the root got i * 2 back from every task's join handle (%d and %d of %d)",
             ctr.results_ok, mtr.results_ok, n);
    ct_check(run, ct_main, "on the current-thread executor every task ran on main");
    ct_check(run, ctr.ms >= (double)sleep_ns / 1e6 && mtr.ms >= (double)sleep_ns / 1e6,
             "no run beat its tasks' sleep");

    ct_takeaway(run,
                "Current-thread: %d tasks in %.1f ms on one thread; their %.0f ms sleeps "
                "overlapped, only the %.1f ms of CPU work each added up. Multi-threaded: "
                "%.1f ms, with tasks started on %d of %d workers.",
                n, ctr.ms, (double)sleep_ns / 1e6, work_us / 1e3, mtr.ms, distinct, workers);
    if (stolen > 0)
        ct_takeaway(run,
                    "All %d tasks were spawned onto the root's worker's own queue; %llu of "
                    "them were stolen by workers that ran out of work, which is how the load "
                    "spread. %d of them finished on a different worker than they started on: "
                    "after a sleep the timer wakes a task into the shared queue, and any "
                    "worker may pick it up.",
                    n, (unsigned long long)stolen, moved);
    else
        ct_takeaway(run,
                    "No task was stolen this time: the root's worker got through all %d "
                    "before another worker looked (more tasks, or more work-us, make "
                    "stealing likelier).", n);
    if (workers > ct_cpus())
        ct_takeaway(run, "%d workers share %d CPUs here, so some workers wait for a core.",
                    workers, ct_cpus());
    return 0;
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
