/* threads-vs-tasks.c - demo `threads-vs-tasks`: what 10,000 OS threads
 * cost next to 10,000 tasks, in time and in memory, and what one task
 * costs the executor.
 *
 * Shows: (1) 10,000 threads started with ct_thread_start, each waiting at a
 * gate so that a batch of them is alive at once, then released and joined;
 * (2) 10,000 tasks on the multi-threaded executor, each awaiting an async
 * gate, then released and awaited through their join handles; (3) the
 * executor's own overhead: trivial tasks spawned and completed, from
 * outside the executor, from inside a task, and on a current-thread
 * executor.  Memory is measured: the default stack size from
 * pthread_getattr_default_np, VmSize and VmRSS growth from /proc/self/status
 * while the threads (or tasks) are alive, the executor's allocation per
 * task, and heap growth from mallinfo2.
 * Watch for: time per thread vs per task (tens of microseconds vs well
 * under one), reserved memory per thread (megabytes) vs bytes per task.
 * Lesson: async-vs-threads (chapter 6).
 */
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "aevent.h"
#include "clock.h"
#include "exec.h"
#include "tasks.h"

#define MAX_REPS 20

/* ---- measuring ------------------------------------------------------------ */

/* A "VmSize:" style field of /proc/self/status, in bytes; -1 if unreadable. */
static long long status_bytes(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long long kb = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            kb = strtoll(line + n + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

static long long heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (long long)mi.uordblks;
}

static double load_average(void)
{
    double la = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &la) != 1)
            la = -1;
        fclose(f);
    }
    return la;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct spread {
    double median, min, max;
};

static struct spread spread_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return (struct spread){ n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v[0], v[n - 1] };
}

/* ---- 1. threads --------------------------------------------------------- */

struct gate_thread {
    struct ct_event *gate;
    atomic_int *done;
};

static void *gated_thread(void *arg)
{
    struct gate_thread *g = arg;
    /* bounded; the demo sets the gate itself on cancel, so no polling */
    if (ct_event_wait_timeout(g->gate, 30 * CT_NS_PER_S))
        atomic_fetch_add(g->done, 1);
    return NULL;
}

struct thread_result {
    int created, counted, batches, peak_alive;
    double total_ms;
    struct spread us_each;      /* per thread, over the batches */
    long long vm_per, rss_per;  /* growth per live thread, bytes */
    bool eagain;
};

/* Start `count` threads in batches of `batch` alive at once; each batch
 * waits at its gate until the whole batch exists, then all go and are
 * joined.  0 or a negative errno. */
static int run_threads(struct ct_run *run, int count, int batch, struct thread_result *r)
{
    struct ct_thread *th = calloc((size_t)batch, sizeof *th);
    struct gate_thread *arg = calloc((size_t)batch, sizeof *arg);
    double *per = calloc((size_t)count, sizeof *per);
    atomic_int done = 0;
    int rc = th && arg && per ? 0 : -ENOMEM;
    int64_t t0 = ct_clock_ns();
    while (rc == 0 && r->created < count && !ct_cancelled(run)) {
        struct ct_event gate;
        if ((rc = ct_event_init(&gate)) != 0)
            break;
        long long vm0 = status_bytes("VmSize"), rss0 = status_bytes("VmRSS");
        int want = count - r->created < batch ? count - r->created : batch, n = 0;
        int64_t b0 = ct_clock_ns();
        for (; n < want && !ct_cancelled(run); n++) {
            arg[n] = (struct gate_thread){ &gate, &done };
            int err = ct_thread_start(run, &th[n], gated_thread, &arg[n], "thread-%d",
                                      r->created + n + 1);
            if (err == -EAGAIN && n > 0) {
                /* the system's thread limit: this batch ends here */
                r->eagain = true;
                break;
            }
            if (err) {
                rc = err;
                break;
            }
        }
        long long vm1 = status_bytes("VmSize"), rss1 = status_bytes("VmRSS");
        ct_event_set(&gate);
        for (int i = 0; i < n; i++)
            ct_thread_join(&th[i], NULL);
        int64_t b1 = ct_clock_ns();
        ct_event_destroy(&gate);
        if (n > 0) {
            per[r->batches++] = (double)(b1 - b0) / 1e3 / n;
            if (n > r->peak_alive) {
                r->peak_alive = n;
                r->vm_per = vm0 >= 0 && vm1 >= 0 ? (vm1 - vm0) / n : -1;
                r->rss_per = rss0 >= 0 && rss1 >= 0 ? (rss1 - rss0) / n : -1;
            }
        }
        r->created += n;
    }
    r->total_ms = (double)(ct_clock_ns() - t0) / 1e6;
    r->counted = atomic_load(&done);
    if (r->batches > 0)
        r->us_each = spread_of(per, r->batches);
    free(per);
    free(arg);
    free(th);
    return rc;
}

/* ---- 2. tasks ------------------------------------------------------------ */

/* async { gate.await; done += 1 } */
struct gated_task {
    struct ct_future base;
    struct ct_aevent_wait wait;
    atomic_int *done;
};

static enum ct_poll gated_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct gated_task *g = (struct gated_task *)f;
    if (ct_future_poll(&g->wait.base, cx) == CT_PENDING)
        return CT_PENDING;
    atomic_fetch_add_explicit(g->done, 1, memory_order_relaxed);
    return CT_READY;
}

static void gated_drop(struct ct_future *f)
{
    ct_future_drop(&((struct gated_task *)f)->wait.base);
}

static const struct ct_future_ops gated_ops = { "gated", gated_poll, gated_drop };

struct task_result {
    int reps;
    struct spread ms;
    long long heap_per, rss_per;    /* growth per live task, bytes; -1 unknown */
    size_t task_bytes;              /* the executor's allocation per task */
    bool all_counted;
};

static int run_tasks(struct ct_exec *ex, int count, int reps,
                     struct ct_join_handle *h, struct task_result *r)
{
    double ms[MAX_REPS];
    int rc = 0;
    r->all_counted = true;
    r->heap_per = r->rss_per = -1;
    r->task_bytes = ct_task_bytes(sizeof(struct gated_task));
    for (int rep = 0; rep < reps && rc == 0; rep++) {
        struct ct_aevent gate;
        if ((rc = ct_aevent_init(&gate)) != 0)
            break;
        atomic_int done = 0;
        long long heap0 = heap_in_use(), rss0 = status_bytes("VmRSS");
        int64_t t0 = ct_clock_ns();
        int spawned = 0;
        for (; spawned < count && rc == 0; spawned++) {
            struct gated_task g = { .base = { .ops = &gated_ops }, .done = &done };
            ct_aevent_wait_init(&g.wait, &gate);
            rc = ct_spawn(ex, &g, &h[spawned]);
        }
        /* all spawned and (soon) parked at the gate: what do they weigh? */
        long long heap1 = heap_in_use(), rss1 = status_bytes("VmRSS");
        ct_aevent_set(&gate);
        struct ct_await_all all;
        ct_await_all_init(&all, h, (size_t)spawned);
        int brc = ct_block_on(ex, &all.base);
        ms[r->reps] = (double)(ct_clock_ns() - t0) / 1e6;
        for (int i = 0; i < spawned; i++)
            ct_future_drop(&h[i].base);
        ct_aevent_destroy(&gate);
        rc = rc ? rc : brc;
        if (rc)
            break;
        if (rep == 0) {
            r->heap_per = heap1 > heap0 ? (heap1 - heap0) / count : -1;
            r->rss_per = rss1 > rss0 && rss0 >= 0 ? (rss1 - rss0) / count : -1;
        }
        r->all_counted &= atomic_load(&done) == count;
        r->reps++;
    }
    if (r->reps > 0)
        r->ms = spread_of(ms, r->reps);
    return rc;
}

/* ---- 3. executor overhead ------------------------------------------------ */

/* The cheapest task there is: ready on its first poll. */
struct trivial {
    struct ct_future base;
    int i;
};

static enum ct_poll trivial_poll(struct ct_future *f, struct ct_cx *cx)
{
    (void)cx;
    f->value = ((struct trivial *)f)->i;
    return CT_READY;
}

static const struct ct_future_ops trivial_ops = { "trivial", trivial_poll, NULL };

/* A task that spawns n trivial tasks and awaits them all, timing itself
 * (into *t0 and *t1: the task owns a moved copy of this struct). */
struct spawner {
    struct ct_future base;
    int n, pc, spawned;
    struct ct_join_handle *h;
    struct ct_await_all all;
    int64_t *t0, *t1;
};

static enum ct_poll spawner_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct spawner *s = (struct spawner *)f;
    if (s->pc == 0) {
        *s->t0 = ct_clock_ns();
        for (; s->spawned < s->n && !f->error; s->spawned++) {
            struct trivial t = { .base = { .ops = &trivial_ops }, .i = s->spawned };
            f->error = ct_spawn(cx->exec, &t, &s->h[s->spawned]);
        }
        ct_await_all_init(&s->all, s->h, (size_t)s->spawned);
        s->pc = 1;
    }
    if (ct_future_poll(&s->all.base, cx) == CT_PENDING)
        return CT_PENDING;
    *s->t1 = ct_clock_ns();
    return CT_READY;
}

/* The handles are the spawner's: if it is cancelled, it drops them. */
static void spawner_drop(struct ct_future *f)
{
    struct spawner *s = (struct spawner *)f;
    for (int i = 0; i < s->spawned; i++)
        ct_future_drop(&s->h[i].base);
}

static const struct ct_future_ops spawner_ops = { "spawner", spawner_poll, spawner_drop };

enum { FROM_OUTSIDE, FROM_INSIDE, CURRENT_THREAD, NVARIANTS };

static const char *const variant_name[NVARIANTS] = {
    "multi-thread, spawned from main",
    "multi-thread, spawned by a task",
    "current-thread, spawned by a task",
};

/* One measured round of n trivial tasks: ns per task, or a negative errno;
 * *ok says whether every task reported its own number back. */
static double overhead_round(struct ct_exec *ex, int variant, int n, struct ct_join_handle *h,
                             bool *ok, int *err)
{
    int64_t t0 = 0, t1 = 0;
    *err = 0;
    if (variant == FROM_OUTSIDE) {
        t0 = ct_clock_ns();
        for (int i = 0; i < n && !*err; i++) {
            struct trivial t = { .base = { .ops = &trivial_ops }, .i = i };
            *err = ct_spawn(ex, &t, &h[i]);
        }
        struct ct_await_all all;
        ct_await_all_init(&all, h, (size_t)n);
        if (!*err)
            *err = ct_block_on(ex, &all.base);
        t1 = ct_clock_ns();
    } else {
        /* the spawner times itself, from inside the executor */
        struct spawner s = { .base = { .ops = &spawner_ops }, .n = n, .h = h, .t0 = &t0,
                             .t1 = &t1 };
        struct ct_join_handle root;
        *err = ct_spawn(ex, &s, &root);
        if (!*err)
            *err = ct_block_on(ex, &root.base);
        if (!*err)
            *err = root.base.error;
        ct_future_drop(&root.base);
        if (*err)
            return 0;           /* h[] belongs to the spawner until it is cancelled */
    }
    long long sum = 0;
    for (int i = 0; i < n; i++) {
        sum += h[i].base.value;
        ct_future_drop(&h[i].base);
    }
    *ok = *err == 0 && sum == (long long)n * (n - 1) / 2;
    return (double)(t1 - t0) / n;
}

/* ---- the run ------------------------------------------------------------- */

static int tvt_run(struct ct_run *run)
{
    int count = (int)ct_param_int(run, "count");
    int batch = (int)ct_param_int(run, "batch");
    int reps = (int)ct_param_int(run, "reps");
    int workers = (int)ct_param_int(run, "workers");
    int bench_n = (int)ct_param_int(run, "bench-tasks");
    if (workers == 0)
        workers = ct_cpus();
    if (batch > count)
        batch = count;
    double load = load_average();
    int bench_max = bench_n > count ? bench_n : count;
    struct ct_join_handle *h = calloc((size_t)bench_max, sizeof *h);
    if (!h)
        return -ENOMEM;
    int rc = 0;

    /* -- threads -- */
    pthread_attr_t attr;
    size_t stack = 0, guard = 0;
    if (pthread_getattr_default_np(&attr) == 0) {
        pthread_attr_getstacksize(&attr, &stack);
        pthread_attr_getguardsize(&attr, &guard);
        pthread_attr_destroy(&attr);
    }
    ct_section(run, "%d OS threads, %d alive at a time", count, batch);
    ct_say(run, "each thread reserves a %zu KiB stack (+%zu KiB guard), per "
           "pthread_getattr_default_np", stack / 1024, guard / 1024);
    struct thread_result tr = { 0 };
    rc = run_threads(run, count, batch, &tr);
    if (rc || ct_cancelled(run))
        goto out;
    if (tr.eagain)
        ct_say(run, "pthread_create said EAGAIN (the system's thread limit), so batches "
               "were cut short; peak alive at once: %d", tr.peak_alive);
    ct_say(run, "%d threads started, released and joined in %.1f ms (%.1f us each); "
           "with %d alive, VmSize grew %.1f MiB and VmRSS %.1f KiB per thread",
           tr.created, tr.total_ms, tr.total_ms * 1e3 / tr.created, tr.peak_alive,
           (double)tr.vm_per / 1048576.0, (double)tr.rss_per / 1024.0);

    /* -- tasks -- */
    struct ct_exec *ex;
    rc = ct_demo_executor(run, CT_EXEC_MULTI_THREAD, workers, &ex);
    if (rc)
        goto out;
    ct_section(run, "%d tasks on a multi-threaded executor with %d workers, all alive at once",
               count, workers);
    struct task_result kr = { 0 };
    rc = run_tasks(ex, count, reps, h, &kr);
    if (rc)
        goto out_exec;
    ct_say(run, "%d tasks spawned, released and awaited in %.2f ms (median of %d; %.3f us "
           "each); %zu bytes allocated per task",
           count, kr.ms.median, kr.reps, kr.ms.median * 1e3 / count, kr.task_bytes);

    /* -- executor overhead -- */
    ct_section(run, "executor overhead: %d trivial tasks spawned and completed, %d "
               "repetitions after a warm-up", bench_n, reps);
    struct ct_exec *ct;
    rc = ct_demo_executor(run, CT_EXEC_CURRENT_THREAD, 1, &ct);
    if (rc)
        goto out_exec;
    struct spread over[NVARIANTS];
    bool over_ok = true;
    for (int v = 0; v < NVARIANTS && rc == 0; v++) {
        struct ct_exec *e = v == CURRENT_THREAD ? ct : ex;
        double ns[MAX_REPS + 1];
        for (int rep = 0; rep <= reps && rc == 0; rep++) {
            bool ok;
            ns[rep] = overhead_round(e, v, bench_n, h, &ok, &rc);
            over_ok &= ok;
        }
        if (rc)
            break;
        over[v] = spread_of(ns + 1, reps);         /* ns[0] was the warm-up */
        ct_say(run, "%s: %.0f ns per task (median; min %.0f, max %.0f)", variant_name[v],
               over[v].median, over[v].min, over[v].max);
    }
    ct_exec_free(ct);
    if (rc)
        goto out_exec;

    /* -- report -- */
    double thread_us = tr.total_ms * 1e3 / tr.created;
    double task_us = kr.ms.median * 1e3 / count;
    double speedup = tr.total_ms / kr.ms.median;
    double mem_ratio = (double)stack / (double)kr.task_bytes;

    static const char *const cols[] = {
        "kind", "count", "alive|alive at once", "ms|total ms", "us_each|us each",
        "reserved|reserved B each", "rss|VmRSS growth B each", NULL,
    };
    struct ct_table *t = ct_table_new(run, "threads_vs_tasks", NULL, cols);
    ct_table_row(t, CT_TEXT("OS threads"), CT_INT(tr.created), CT_INT(tr.peak_alive),
                 CT_NUM(tr.total_ms, 1), CT_NUM(thread_us, 2), CT_INT((long long)stack),
                 CT_INT(tr.rss_per));
    ct_table_row(t, CT_TEXT("tasks"), CT_INT(count), CT_INT(count), CT_NUM(kr.ms.median, 2),
                 CT_NUM(task_us, 3), CT_INT((long long)kr.task_bytes),
                 CT_INT(kr.rss_per));
    ct_bars(run, t, "time per item", 0, 4, "us");

    static const char *const ocols[] = { "variant", "ns|ns per task (median)", "min", "max",
                                         NULL };
    struct ct_table *o = ct_table_new(run, "overhead", "executor overhead per trivial task",
                                      ocols);
    for (int v = 0; v < NVARIANTS; v++)
        ct_table_row(o, CT_TEXT(variant_name[v]), CT_NUM(over[v].median, 0),
                     CT_NUM(over[v].min, 0), CT_NUM(over[v].max, 0));
    ct_bars(run, o, "ns per spawned-and-completed task", 0, 1, "ns");

    ct_result_int(run, "cpus", "CPUs online", ct_cpus(), NULL);
    ct_result_num(run, "load_avg", "load average (1 min) when the run began", load, 2, NULL);
    ct_result_int(run, "workers", "executor workers", workers, NULL);
    ct_result_int(run, "thread_stack", "stack reserved per thread", (long long)stack, "B");
    ct_result_int(run, "thread_vm_per", "VmSize growth per live thread", tr.vm_per, "B");
    ct_result_int(run, "thread_rss_per", "VmRSS growth per live thread", tr.rss_per, "B");
    ct_result_num(run, "thread_us", "time per thread (start, release, join)", thread_us, 2, "us");
    ct_result_num(run, "thread_batch_us_median", "per thread, median over batches",
                  tr.us_each.median, 2, "us");
    ct_result_num(run, "thread_batch_us_min", "per thread, fastest batch", tr.us_each.min, 2, "us");
    ct_result_num(run, "thread_batch_us_max", "per thread, slowest batch", tr.us_each.max, 2, "us");
    ct_result_int(run, "task_bytes", "bytes the executor allocates per task",
                  (long long)kr.task_bytes, "B");
    ct_result_int(run, "task_heap_per", "heap growth per live task (mallinfo2)", kr.heap_per, "B");
    ct_result_int(run, "task_rss_per", "VmRSS growth per live task", kr.rss_per, "B");
    ct_result_num(run, "task_us", "time per task (spawn, release, await)", task_us, 3, "us");
    ct_result_num(run, "tasks_ms_min", "10k tasks, fastest repetition", kr.ms.min, 2, "ms");
    ct_result_num(run, "tasks_ms_max", "10k tasks, slowest repetition", kr.ms.max, 2, "ms");
    ct_result_num(run, "speedup", "tasks faster than threads by", speedup, 1, "x");
    ct_result_num(run, "memory_ratio", "stack reservation / task size", mem_ratio, 0, "x");
    ct_result_num(run, "overhead_ns", "executor overhead per task (multi-thread, in a task)",
                  over[FROM_INSIDE].median, 0, "ns");
    ct_result_num(run, "overhead_outside_ns", "... spawned from main", over[FROM_OUTSIDE].median,
                  0, "ns");
    ct_result_num(run, "overhead_ct_ns", "... current-thread", over[CURRENT_THREAD].median, 0, "ns");

    ct_check(run, tr.counted == tr.created && tr.created == count,
             "all %d threads ran and were joined (%d counted)", count, tr.counted);
    ct_check(run, kr.all_counted, "all %d tasks ran in each of %d repetitions", count, kr.reps);
    ct_check(run, over_ok, "every trivial task returned its own number, every repetition");

    ct_takeaway(run,
                "A thread cost %.1f us to start, release and join; a task %.3f us: tasks "
                "were %.0fx faster here (%d workers on %d CPUs, load average %.2f at the "
                "start)%s.",
                thread_us, task_us, speedup, workers, ct_cpus(), load,
                speedup >= 20 ? "" : ", short of the 20x this machine usually shows; a busy "
                "machine hurts the threads' numbers least, so try again when it is quieter");
    ct_takeaway(run,
                "Memory: each thread reserved %zu KiB of address space for its stack "
                "(VmSize grew %.1f MiB per live thread, though only %.1f KiB per thread "
                "was resident); each task was one %zu-byte allocation, %.0fx less than the "
                "reservation. That is why a server can keep 100,000 waiting tasks but not "
                "100,000 waiting threads.",
                stack / 1024, (double)tr.vm_per / 1048576.0, (double)tr.rss_per / 1024.0,
                kr.task_bytes, mem_ratio);
    ct_takeaway(run,
                "The executor's own cost per spawned-and-completed task was %.0f ns when a "
                "task spawned them (local queues, stealing), %.0f ns from main (the shared "
                "injection queue) and %.0f ns on the current-thread executor: %s.",
                over[FROM_INSIDE].median, over[FROM_OUTSIDE].median,
                over[CURRENT_THREAD].median,
                over[FROM_INSIDE].median < 1000 ? "under a microsecond, the goal"
                                                 : "above the microsecond goal on this run");
    if (workers > ct_cpus())
        ct_takeaway(run, "Note: %d workers on %d CPUs: the workers take turns on the cores.",
                    workers, ct_cpus());
out_exec:
    ct_exec_free(ex);
out:
    free(h);
    return rc == -ECANCELED ? 0 : rc;
}

static const struct ct_param_spec tvt_params[] = {
    { "count", CT_PARAM_INT, "10000", 1, 100000, NULL, "threads, and tasks, to start" },
    { "batch", CT_PARAM_INT, "1000", 1, 100000, NULL,
      "threads alive at once (started, then released and joined together)" },
    { "reps", CT_PARAM_INT, "5", 1, MAX_REPS, NULL, "repetitions of the task measurements" },
    { "workers", CT_PARAM_INT, "0", 0, CT_EXEC_MAX_WORKERS, NULL,
      "executor workers (0: one per CPU)" },
    { "bench-tasks", CT_PARAM_INT, "100000", 1, 1000000, NULL,
      "trivial tasks per overhead measurement" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_threads_vs_tasks = {
    .name = "threads-vs-tasks",
    .chapter = 6,
    .title = "10,000 threads versus 10,000 tasks",
    .summary = "Time and memory to start and finish OS threads, against tasks on an executor",
    .intro = "Ten thousand OS threads are started, released and joined, in batches that are "
             "alive at once; then ten thousand tasks do the same on the executor. Time and "
             "memory are measured for both, and so is the executor's overhead per task.",
    .params = tvt_params,
    .smoke = "count=200 batch=100 reps=2 bench-tasks=2000",
    .flags = CT_DEMO_BENCH,
    .run = tvt_run,
};
