/* threads-vs-tasks.c - demo `threads-vs-tasks`: what OS threads cost next
 * to tasks, in time and in memory, what one task costs the executor, and
 * what really limits how many threads this machine can have.
 *
 * Shows: (1) `count` threads started with ct_thread_start, each waiting at
 * a gate so that a batch of them is alive at once, then released and
 * joined; while a batch is alive the demo measures what each thread added:
 * VmSize and VmRSS (/proc/self/status), mappings (/proc/self/maps) and the
 * kernel's stacks (KernelStack in /proc/meminfo); (2) `count` tasks on the
 * multi-threaded executor, each awaiting an async gate, then released and
 * awaited through their join handles, with the heap and VmRSS they add;
 * (3) the executor's own overhead: trivial tasks spawned and completed,
 * from outside the executor, from inside a task, and on a current-thread
 * executor; (4) the limits on threads, read from this machine
 * (vm.max_map_count, kernel.threads-max, kernel.pid_max, RLIMIT_NPROC,
 * cgroup pids.max, address space, available memory), each with the number
 * of threads it allows given what one thread was measured to take.
 * Watch for: time per thread against per task; the stack reservation
 * (address space) against what is resident; and which limit comes first:
 * it is not the 8 MiB stacks.
 * Lesson: async-vs-threads (chapter 6).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "demo.h"
#include "aevent.h"
#include "clock.h"
#include "exec.h"
#include "stats.h"
#include "tasks.h"
#include "text.h"

#define MAX_REPS 20
#define KIB 1024.0
#define PL(n) ((n) == 1 ? "" : "s")     /* plural ending for a count */
#define MIB (1024.0 * 1024.0)

/* ---- reading the system --------------------------------------------------- */

/* A "Name:   123 kB" field of a /proc file, in bytes (a field without a
 * unit, as a plain number); -1 if unreadable. */
static long long proc_field(const char *path, const char *field)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[256];
    long long v = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            char *end;
            v = strtoll(line + n + 1, &end, 10);
            if (strstr(end, "kB"))
                v *= 1024;
            break;
        }
    }
    fclose(f);
    return v;
}

/* The first number in a file (a sysctl, a cgroup limit); -1 if the file is
 * missing, -2 if it says "max". */
static long long file_number(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char buf[64] = "";
    long long v = -1;
    if (fgets(buf, sizeof buf, f))
        v = strncmp(buf, "max", 3) == 0 ? -2 : strtoll(buf, NULL, 10);
    fclose(f);
    return v;
}

/* Mappings of this process, and the end of the highest one below the
 * kernel's half (the top of the user address space, rounded up). */
static long long count_maps(uint64_t *top)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return -1;
    char line[512];
    long long n = 0;
    uint64_t hi = 0;
    while (fgets(line, sizeof line, f)) {
        uint64_t lo_addr, hi_addr;
        if (sscanf(line, "%" SCNx64 "-%" SCNx64, &lo_addr, &hi_addr) == 2 &&
            hi_addr < (UINT64_C(1) << 63) && hi_addr > hi)
            hi = hi_addr;
        n += strchr(line, '\n') != NULL;
    }
    fclose(f);
    if (top)
        *top = hi;
    return n;
}

static long long heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (long long)mi.uordblks;
}

/* /proc/loadavg: the 1-minute load, and the number of threads on the whole
 * system (the denominator of its fourth field). */
static double load_average(long long *threads)
{
    double la = -1;
    long long run = 0, all = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf %*f %*f %lld/%lld", &la, &run, &all) != 3)
            la = -1;
        fclose(f);
    }
    if (threads)
        *threads = all;
    return la;
}

/* Threads that belong to processes of this real user id, all told. */
static long long user_threads(void)
{
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    long long total = 0;
    uid_t me = getuid();
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/%s/status", e->d_name);
        if (proc_field(path, "Uid") == (long long)me) {
            long long t = proc_field(path, "Threads");
            total += t > 0 ? t : 0;
        }
    }
    closedir(d);
    return total;
}

/* The tightest pids.max on the way from this process's cgroup up to the
 * top (v2, or v1's pids hierarchy), with that group's pids.current.
 * *max is -1 when no group sets one. */
static void cgroup_pids(long long *max, long long *current)
{
    *max = *current = -1;
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        /* "0::/a/b" (v2) or "8:pids:/a/b" (v1) */
        char *ctl = strchr(line, ':');
        char *path = ctl ? strchr(ctl + 1, ':') : NULL;
        if (!path)
            continue;
        const char *root = strncmp(ctl, "::", 2) == 0 && line[0] == '0' ? "/sys/fs/cgroup"
                           : strncmp(ctl, ":pids:", 6) == 0 ? "/sys/fs/cgroup/pids" : NULL;
        if (!root)
            continue;
        path++;
        size_t len = strcspn(path, "\n");
        for (len = len == 1 ? 0 : len;; len--) {
            char p[800];
            snprintf(p, sizeof p, "%s%.*s/pids.max", root, (int)len, path);
            long long m = file_number(p);
            if (m >= 0 && (*max < 0 || m < *max)) {
                *max = m;
                snprintf(p, sizeof p, "%s%.*s/pids.current", root, (int)len, path);
                *current = file_number(p);
            }
            if (len == 0)
                break;
            while (len > 0 && path[len - 1] != '/')
                len--;          /* up one group: drop the last name, then its slash */
        }
    }
    fclose(f);
}

/* ---- 1. threads --------------------------------------------------------- */

/* What the process (and the kernel) held at one moment. */
struct snapshot {
    long long vm, rss, maps, kstack;    /* bytes, bytes, mappings, bytes (whole system) */
};

static struct snapshot snap(void)
{
    return (struct snapshot){ proc_field("/proc/self/status", "VmSize"),
                              proc_field("/proc/self/status", "VmRSS"), count_maps(NULL),
                              proc_field("/proc/meminfo", "KernelStack") };
}

/* (b - a) / n, or NAN (printed "n/a") when either side is unknown or
 * nothing grew (KernelStack is the whole system's, so other programs can
 * shrink it while a few threads start). */
static double per(long long a, long long b, int n)
{
    return a < 0 || b < 0 || b <= a || n <= 0 ? NAN : (double)(b - a) / n;
}

/* "+" `bytes / div` with `decimals` and `unit`, or "n/a" when not measured. */
static const char *fmt_per(char *buf, size_t len, double bytes, double div, int decimals,
                           const char *unit)
{
    if (isnan(bytes))
        snprintf(buf, len, "n/a");
    else
        snprintf(buf, len, "+%.*f%s%s", decimals, bytes / div, *unit ? " " : "", unit);
    return buf;
}

/* What one thread takes of a limit: `v` `unit`, or "n/a" when a
 * started thread grew nothing measurable (glibc may hand it a cached
 * stack, so VmSize and the mappings stay as they were). */
static void fmt_cost(char *buf, size_t len, double v, int decimals, const char *unit)
{
    if (isnan(v))
        snprintf(buf, len, "n/a");
    else
        snprintf(buf, len, "%.*f %s", decimals, v, unit);
}

/* A per-thread figure as a result: a number, or the text "n/a". */
static void result_per(struct ct_run *run, const char *key, const char *label, double v,
                       int decimals, const char *unit)
{
    if (isnan(v))
        ct_result_text(run, key, label, "n/a");
    else
        ct_result_num(run, key, label, v, decimals, unit);
}

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
    size_t stack, guard;        /* the default attributes' sizes */
    int created, counted, batches, peak_alive;
    struct ct_stats us;         /* per thread, over the batches */
    double vm_per, rss_per, maps_per, kstack_per;   /* per live thread; NAN unknown */
    bool eagain;
};

/* Start one batch of up to `want` threads held at `gate`; returns how many
 * started, with *err set if one failed to start (other than by EAGAIN
 * after the first, which only cuts the batch short). */
static int start_batch(struct ct_run *run, struct ct_thread *th, struct gate_thread *arg,
                       struct ct_event *gate, atomic_int *done, int want, int first,
                       bool *eagain, int *err)
{
    int n = 0;
    for (; n < want && !ct_cancelled(run); n++) {
        arg[n] = (struct gate_thread){ gate, done };
        int e = ct_thread_start(run, &th[n], gated_thread, &arg[n], "thread-%d", first + n);
        if (e == -EAGAIN && n > 0) {
            *eagain = true;     /* the system's thread limit: this batch ends here */
            break;
        }
        if (e) {
            *err = e;
            break;
        }
    }
    return n;
}

/* Start `count` threads in batches of `batch` alive at once; each batch
 * waits at its gate until the whole batch exists, then all go and are
 * joined.  Snapshots before and after each batch starts say what a live
 * thread adds.  0 or a negative errno. */
static int run_threads(struct ct_run *run, int count, int batch, struct thread_result *r)
{
    struct ct_thread *th = calloc((size_t)batch, sizeof *th);
    struct gate_thread *arg = calloc((size_t)batch, sizeof *arg);
    double *us = calloc((size_t)count, sizeof *us);
    atomic_int done = 0;
    int rc = th && arg && us ? 0 : -ENOMEM;
    while (rc == 0 && r->created < count && !ct_cancelled(run)) {
        struct ct_event gate;
        if ((rc = ct_event_init(&gate)) != 0)
            break;
        int want = count - r->created < batch ? count - r->created : batch;
        struct snapshot s0 = snap();
        int64_t t0 = ct_clock_ns();
        int n = start_batch(run, th, arg, &gate, &done, want, r->created + 1, &r->eagain, &rc);
        struct snapshot s1 = snap();
        ct_event_set(&gate);
        for (int i = 0; i < n; i++)
            ct_thread_join(&th[i], NULL);
        int64_t t1 = ct_clock_ns();
        ct_event_destroy(&gate);
        if (n == 0)
            break;
        us[r->batches++] = (double)(t1 - t0) / 1e3 / n;
        if (n > r->peak_alive) {
            r->peak_alive = n;
            r->vm_per = per(s0.vm, s1.vm, n);
            r->rss_per = per(s0.rss, s1.rss, n);
            r->maps_per = per(s0.maps, s1.maps, n);
            r->kstack_per = per(s0.kstack, s1.kstack, n);
        }
        r->created += n;
    }
    r->counted = atomic_load(&done);
    if (rc == 0 && r->batches > 0)
        rc = ct_stats_of(us, (size_t)r->batches, &r->us);
    free(us);
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
    struct ct_stats us;             /* per task, over the repetitions */
    double heap_per, rss_per;       /* growth per live task, bytes; NAN unknown */
    size_t task_bytes;              /* the executor's allocation per task */
    bool all_counted;
};

/* One repetition: spawn `count` gated tasks, measure, release, await.
 * Returns 0 or a negative errno; *us is the time per task. */
static int task_rep(struct ct_exec *ex, int count, struct ct_join_handle *h, bool measure,
                    struct task_result *r, double *us)
{
    struct ct_aevent gate;
    int rc = ct_aevent_init(&gate);
    if (rc)
        return rc;
    atomic_int done = 0;
    long long heap0 = heap_in_use(), rss0 = proc_field("/proc/self/status", "VmRSS");
    int64_t t0 = ct_clock_ns();
    int spawned = 0;
    for (; spawned < count && rc == 0; spawned++) {
        struct gated_task g = { .base = { .ops = &gated_ops }, .done = &done };
        ct_aevent_wait_init(&g.wait, &gate);
        rc = ct_spawn(ex, &g, &h[spawned]);
    }
    /* all spawned and (soon) parked at the gate: what do they weigh? */
    long long heap1 = heap_in_use(), rss1 = proc_field("/proc/self/status", "VmRSS");
    ct_aevent_set(&gate);
    struct ct_await_all all;
    ct_await_all_init(&all, h, (size_t)spawned);
    int brc = ct_block_on(ex, &all.base);
    *us = (double)(ct_clock_ns() - t0) / 1e3 / count;
    for (int i = 0; i < spawned; i++)
        ct_future_drop(&h[i].base);
    ct_aevent_destroy(&gate);
    if (measure) {
        r->heap_per = per(heap0, heap1, count);
        r->rss_per = per(rss0, rss1, count);
    }
    r->all_counted &= atomic_load(&done) == count;
    return rc ? rc : brc;
}

static int run_tasks(struct ct_exec *ex, int count, int reps, struct ct_join_handle *h,
                     struct task_result *r)
{
    double us[MAX_REPS];
    int rc = 0;
    r->all_counted = true;
    r->task_bytes = ct_task_bytes(sizeof(struct gated_task));
    for (int rep = 0; rep < reps && rc == 0; rep++) {
        rc = task_rep(ex, count, h, rep == 0, r, &us[r->reps]);
        r->reps += rc == 0;
    }
    if (rc == 0)
        rc = ct_stats_of(us, (size_t)r->reps, &r->us);
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
    "multi-thread, from main",
    "multi-thread, from a task",
    "current-thread, from a task",
};

/* Spawn n trivial tasks from main and await them all; 0 or a negative errno. */
static int spawn_from_main(struct ct_exec *ex, int n, struct ct_join_handle *h, int64_t *t0,
                           int64_t *t1)
{
    int err = 0;
    *t0 = ct_clock_ns();
    for (int i = 0; i < n && !err; i++) {
        struct trivial t = { .base = { .ops = &trivial_ops }, .i = i };
        err = ct_spawn(ex, &t, &h[i]);
    }
    struct ct_await_all all;
    ct_await_all_init(&all, h, (size_t)n);
    if (!err)
        err = ct_block_on(ex, &all.base);
    *t1 = ct_clock_ns();
    return err;
}

/* One measured round of n trivial tasks: ns per task into *ns; *ok says
 * whether every task reported its own number back.  0 or a negative errno. */
static int overhead_round(struct ct_exec *ex, int variant, int n, struct ct_join_handle *h,
                          double *ns, bool *ok)
{
    int64_t t0 = 0, t1 = 0;
    int err;
    if (variant == FROM_OUTSIDE) {
        err = spawn_from_main(ex, n, h, &t0, &t1);
    } else {
        /* the spawner times itself, from inside the executor */
        struct spawner s = { .base = { .ops = &spawner_ops }, .n = n, .h = h, .t0 = &t0,
                             .t1 = &t1 };
        struct ct_join_handle root;
        err = ct_spawn(ex, &s, &root);
        if (!err)
            err = ct_block_on(ex, &root.base);
        if (!err)
            err = root.base.error;
        ct_future_drop(&root.base);
        if (err)
            return err;         /* h[] belongs to the spawner until it is cancelled */
    }
    long long sum = 0;
    for (int i = 0; i < n; i++) {
        sum += h[i].base.value;
        ct_future_drop(&h[i].base);
    }
    *ok = err == 0 && sum == (long long)n * (n - 1) / 2;
    *ns = (double)(t1 - t0) / n;
    return err;
}

/* ---- 4. the limits on threads ------------------------------------------- */

enum { LIM_ADDR, LIM_MAPS, LIM_THREADS_MAX, LIM_PID_MAX, LIM_NPROC, LIM_CGROUP, LIM_MEMORY,
       NLIMITS };

static const char *const limit_name[NLIMITS] = {
    "address space", "vm.max_map_count", "kernel.threads-max", "kernel.pid_max",
    "ulimit -u (NPROC)", "cgroup pids.max", "memory available",
};

struct limit {
    long long setting;          /* -1: none applies */
    char shown[24];             /* the setting as printed */
    char cost[24];              /* what one thread takes of it */
    long long allows;           /* more threads it allows, -1: no limit */
};

struct limits {
    struct limit l[NLIMITS];
    int first, second;          /* the two that allow fewest, or -1 */
};

/* Fill one limit: `free_units` of it left, `cost` units per thread. */
static void set_limit(struct limit *l, long long setting, double free_units, double cost)
{
    l->setting = setting;
    /* !(cost > 0) also catches a cost that was not measured (NAN) */
    l->allows = setting < 0 || !(cost > 0) || free_units < 0 ? -1
              : (long long)(free_units / cost);
}

static void read_limits(const struct thread_result *tr, struct limits *lim)
{
    struct limit *l = lim->l;
    uint64_t top = 0;
    long long maps = count_maps(&top), sys_threads = -1;
    load_average(&sys_threads);
    int bits = 1;
    while (bits < 63 && (UINT64_C(1) << bits) < top)
        bits++;
    double space = (double)(UINT64_C(1) << bits);
    set_limit(&l[LIM_ADDR], (long long)bits,
              space - (double)proc_field("/proc/self/status", "VmSize"), tr->vm_per);
    snprintf(l[LIM_ADDR].shown, sizeof l->shown, "%.0f TiB", space / (MIB * MIB));
    fmt_cost(l[LIM_ADDR].cost, sizeof l->cost, tr->vm_per / MIB, 1, "MiB");

    long long mmc = file_number("/proc/sys/vm/max_map_count");
    set_limit(&l[LIM_MAPS], mmc, (double)(mmc - maps), tr->maps_per);
    fmt_cost(l[LIM_MAPS].cost, sizeof l->cost, tr->maps_per, 2, "maps");

    long long tmax = file_number("/proc/sys/kernel/threads-max");
    long long pmax = file_number("/proc/sys/kernel/pid_max");
    set_limit(&l[LIM_THREADS_MAX], tmax, (double)(tmax - sys_threads), sys_threads < 0 ? -1 : 1);
    set_limit(&l[LIM_PID_MAX], pmax, (double)(pmax - sys_threads), sys_threads < 0 ? -1 : 1);
    snprintf(l[LIM_THREADS_MAX].cost, sizeof l->cost, "1 thread");
    snprintf(l[LIM_PID_MAX].cost, sizeof l->cost, "1 pid");

    struct rlimit rl = { 0 };
    bool nproc_set = getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY;
    long long mine = user_threads();
    /* the kernel does not apply RLIMIT_NPROC to root */
    set_limit(&l[LIM_NPROC], nproc_set ? (long long)rl.rlim_cur : -1,
              getuid() == 0 ? -1 : (double)((long long)rl.rlim_cur - mine), mine < 0 ? -1 : 1);
    snprintf(l[LIM_NPROC].cost, sizeof l->cost, getuid() == 0 ? "root: exempt" : "1 thread");

    long long cmax, ccur;
    cgroup_pids(&cmax, &ccur);
    set_limit(&l[LIM_CGROUP], cmax, (double)(cmax - ccur), ccur < 0 ? -1 : 1);
    snprintf(l[LIM_CGROUP].cost, sizeof l->cost, "1 pid");

    long long avail = proc_field("/proc/meminfo", "MemAvailable");
    double mem = (tr->kstack_per > 0 ? tr->kstack_per : 0) + (tr->rss_per > 0 ? tr->rss_per : 0);
    set_limit(&l[LIM_MEMORY], avail, (double)avail, mem);
    snprintf(l[LIM_MEMORY].shown, sizeof l->shown, "%.1f GiB", (double)avail / (MIB * KIB));
    snprintf(l[LIM_MEMORY].cost, sizeof l->cost, "%.1f KiB", mem / KIB);

    lim->first = lim->second = -1;
    for (int i = 0; i < NLIMITS; i++) {
        if (i != LIM_ADDR && i != LIM_MEMORY && l[i].setting < 0)
            snprintf(l[i].shown, sizeof l->shown, "none");
        else if (i != LIM_ADDR && i != LIM_MEMORY)
            ct_group_digits(l[i].setting, l[i].shown, sizeof l->shown);
        if (l[i].allows < 0)
            continue;
        if (lim->first < 0 || l[i].allows < l[lim->first].allows) {
            lim->second = lim->first;
            lim->first = i;
        } else if (lim->second < 0 || l[i].allows < l[lim->second].allows) {
            lim->second = i;
        }
    }
}

/* ---- the run ------------------------------------------------------------- */

struct tvt_config {
    int count, batch, reps, workers, bench_n;
};

struct tvt_result {
    double load;
    struct thread_result tr;
    struct task_result kr;
    struct ct_stats over[NVARIANTS];
    bool over_ok;
    struct limits lim;
    double speedup, speedup_lo, speedup_hi;
};

static int phase_threads(struct ct_run *run, const struct tvt_config *c, struct tvt_result *r)
{
    struct thread_result *tr = &r->tr;
    pthread_attr_t attr;
    if (pthread_getattr_default_np(&attr) == 0) {
        pthread_attr_getstacksize(&attr, &tr->stack);
        pthread_attr_getguardsize(&attr, &tr->guard);
        pthread_attr_destroy(&attr);
    }
    ct_section(run, "1. %d OS threads, %d alive at a time", c->count, c->batch);
    ct_say(run, "default stack %zu KiB, guard %zu KiB", tr->stack / 1024, tr->guard / 1024);
    int rc = run_threads(run, c->count, c->batch, tr);
    if (rc || ct_cancelled(run))
        return rc ? rc : -ECANCELED;
    if (tr->eagain)
        ct_say(run, "EAGAIN: batches cut short at %d", tr->peak_alive);
    ct_say(run, "%d thread%s: %.1f us each (median)", tr->created, PL(tr->created),
           tr->us.median);
    char vm[32], rss[32], ks[32], maps[32];
    ct_say(run, "each live thread: VmSize %s", fmt_per(vm, sizeof vm, tr->vm_per, MIB, 1, "MiB"));
    ct_say(run, "  VmRSS %s, kernel stack %s", fmt_per(rss, sizeof rss, tr->rss_per, KIB, 1,
           "KiB"), fmt_per(ks, sizeof ks, tr->kstack_per, KIB, 1, "KiB"));
    ct_say(run, "  mappings %s", fmt_per(maps, sizeof maps, tr->maps_per, 1, 2, ""));
    return 0;
}

static int phase_overhead(struct ct_run *run, const struct tvt_config *c, struct ct_exec *ex,
                          struct ct_join_handle *h, struct tvt_result *r)
{
    ct_section(run, "3. executor overhead: %d trivial task%s, %d rep%s", c->bench_n,
               PL(c->bench_n), c->reps, PL(c->reps));
    struct ct_exec *ct = NULL;
    int rc = ct_demo_executor(run, CT_EXEC_CURRENT_THREAD, 1, &ct);
    r->over_ok = true;
    for (int v = 0; v < NVARIANTS && rc == 0; v++) {
        struct ct_exec *e = v == CURRENT_THREAD ? ct : ex;
        double ns[MAX_REPS + 1];
        for (int rep = 0; rep <= c->reps && rc == 0; rep++) {
            bool ok = false;
            rc = overhead_round(e, v, c->bench_n, h, &ns[rep], &ok);
            r->over_ok &= ok;
        }
        if (rc == 0)
            rc = ct_stats_of(ns + 1, (size_t)c->reps, &r->over[v]);   /* ns[0]: warm-up */
        if (rc == 0)
            ct_say(run, "%s: %.0f ns per task", variant_name[v], r->over[v].median);
    }
    if (ct)
        ct_exec_free(ct);
    return rc;
}

/* Tasks and overhead, on one multi-threaded executor. */
static int phase_tasks(struct ct_run *run, const struct tvt_config *c, struct ct_join_handle *h,
                       struct tvt_result *r)
{
    struct ct_exec *ex;
    int rc = ct_demo_executor(run, CT_EXEC_MULTI_THREAD, c->workers, &ex);
    if (rc)
        return rc;
    ct_section(run, "2. %d task%s, %d worker%s, all alive at once", c->count, PL(c->count),
               c->workers, PL(c->workers));
    rc = run_tasks(ex, c->count, c->reps, h, &r->kr);
    if (rc == 0) {
        ct_say(run, "%d task%s: %.3f us each (median of %d)", c->count, PL(c->count), r->kr.us.median,
               r->kr.reps);
        char heap[32];      /* malloc's statistics are not kept under ASan: n/a */
        ct_say(run, "each: %zu B allocated, heap %s", r->kr.task_bytes,
               fmt_per(heap, sizeof heap, r->kr.heap_per, 1, 0, "B"));
        rc = phase_overhead(run, c, ex, h, r);
    }
    ct_exec_free(ex);
    return rc;
}

static void report_tables(struct ct_run *run, const struct tvt_config *c,
                          const struct tvt_result *r)
{
    const struct thread_result *tr = &r->tr;
    const struct task_result *kr = &r->kr;
    static const char *const cols[] = {
        "kind", "count", "alive", "us_each|us each", "us_min|min", "us_max|max",
        "vm_kib|VM KiB each", "rss_kib|RSS KiB each", NULL,
    };
    struct ct_table *t = ct_table_new(run, "threads_vs_tasks", NULL, cols);
    ct_table_row(t, CT_TEXT("OS threads"), CT_INT(tr->created), CT_INT(tr->peak_alive),
                 CT_NUM(tr->us.median, 2), CT_NUM(tr->us.min, 2), CT_NUM(tr->us.max, 2),
                 CT_NUM(tr->vm_per / KIB, 1), CT_NUM(tr->rss_per / KIB, 1));
    ct_table_row(t, CT_TEXT("tasks"), CT_INT(c->count), CT_INT(c->count),
                 CT_NUM(kr->us.median, 3), CT_NUM(kr->us.min, 3), CT_NUM(kr->us.max, 3),
                 CT_NUM(kr->heap_per / KIB, 2), CT_NUM(kr->rss_per / KIB, 2));
    ct_bars(run, t, "time per item (median)", 0, 3, "us");

    static const char *const ocols[] = { "variant", "ns|ns per task", "min", "max", NULL };
    struct ct_table *o = ct_table_new(run, "overhead", "executor overhead per trivial task",
                                      ocols);
    for (int v = 0; v < NVARIANTS; v++)
        ct_table_row(o, CT_TEXT(variant_name[v]), CT_NUM(r->over[v].median, 0),
                     CT_NUM(r->over[v].min, 0), CT_NUM(r->over[v].max, 0));

    static const char *const lcols[] = { "limit", "setting", "cost|per thread",
                                         "allows|threads it allows", NULL };
    struct ct_table *l = ct_table_new(run, "limits", "what limits threads here", lcols);
    for (int i = 0; i < NLIMITS; i++) {
        const struct limit *x = &r->lim.l[i];
        ct_table_row(l, CT_TEXT(limit_name[i]), CT_TEXT(x->shown),
                     CT_TEXT(x->setting < 0 && i != LIM_NPROC ? "-" : x->cost),
                     x->allows >= 0 ? CT_INT(x->allows) : CT_TEXT("no limit"));
    }
}

static void report_results(struct ct_run *run, const struct tvt_config *c,
                           const struct tvt_result *r)
{
    const struct thread_result *tr = &r->tr;
    char label[64];
    ct_result_int(run, "cpus", "CPUs online", ct_cpus(), NULL);
    ct_result_num(run, "load_avg", "load average at the start", r->load, 2, NULL);
    ct_result_int(run, "workers", "executor workers", c->workers, NULL);
    ct_result_int(run, "thread_stack", "stack reserved per thread", (long long)tr->stack, "B");
    result_per(run, "thread_vm_per", "VmSize per live thread", tr->vm_per, 0, "B");
    result_per(run, "thread_rss_per", "VmRSS per live thread", tr->rss_per, 0, "B");
    result_per(run, "thread_kstack_per", "kernel stack per live thread", tr->kstack_per, 0,
               "B");
    result_per(run, "thread_maps_per", "mappings per live thread", tr->maps_per, 2, NULL);
    ct_result_num(run, "thread_us", "time per thread (median)", tr->us.median, 2, "us");
    ct_result_int(run, "task_bytes", "executor allocation per task",
                  (long long)r->kr.task_bytes, "B");
    result_per(run, "task_heap_per", "heap per live task", r->kr.heap_per, 0, "B");
    ct_result_num(run, "task_us", "time per task (median)", r->kr.us.median, 3, "us");
    snprintf(label, sizeof label, "%d task%s, fastest rep", c->count, PL(c->count));
    ct_result_num(run, "tasks_ms_min", label, r->kr.us.min * c->count / 1e3, 2, "ms");
    snprintf(label, sizeof label, "%d task%s, slowest rep", c->count, PL(c->count));
    ct_result_num(run, "tasks_ms_max", label, r->kr.us.max * c->count / 1e3, 2, "ms");
    ct_result_num(run, "speedup", "tasks faster than threads by", r->speedup, 1, "x");
    ct_result_num(run, "overhead_ns", "overhead per task, from a task", r->over[FROM_INSIDE].median,
                  0, "ns");
    for (int i = LIM_MAPS; i <= LIM_PID_MAX; i++)
        ct_result_int(run, i == LIM_MAPS ? "max_map_count" : i == LIM_THREADS_MAX
                                                               ? "threads_max" : "pid_max",
                      limit_name[i], r->lim.l[i].setting, NULL);
    ct_result_text(run, "first_limit", "first limit on threads",
                   r->lim.first >= 0 ? limit_name[r->lim.first] : "none found");
    ct_result_int(run, "threads_allowed", "more threads it allows",
                  r->lim.first >= 0 ? r->lim.l[r->lim.first].allows : -1, NULL);
}

static void report_checks(struct ct_run *run, const struct tvt_config *c,
                          const struct tvt_result *r)
{
    ct_check(run, r->tr.counted == r->tr.created && r->tr.created == c->count,
             "%s %d thread%s ran and %s joined (%d counted)", c->count == 1 ? "the" : "all",
             c->count, PL(c->count), c->count == 1 ? "was" : "were", r->tr.counted);
    ct_check(run, r->kr.all_counted && r->kr.reps == c->reps,
             "%s %d task%s ran, in each of %d rep%s", c->count == 1 ? "the" : "all", c->count,
             PL(c->count), r->kr.reps, PL(r->kr.reps));
    ct_check(run, r->over_ok, "every trivial task returned its own number");
    /* false too when either was not measured (NAN compares false) */
    char ratio[32] = "not measured";
    if (!isnan(r->tr.vm_per) && !isnan(r->tr.rss_per))
        snprintf(ratio, sizeof ratio, "%.0fx", r->tr.vm_per / r->tr.rss_per);
    ct_check(run, r->tr.vm_per > r->tr.rss_per,
             "a live thread reserved more than it made resident (%s)", ratio);
    ct_check(run, r->lim.first >= 0, "found at least one limit on threads (%s)",
             r->lim.first >= 0 ? limit_name[r->lim.first] : "none");
}

static void report_takeaway(struct ct_run *run, const struct tvt_config *c,
                            const struct tvt_result *r)
{
    const struct thread_result *tr = &r->tr;
    const struct task_result *kr = &r->kr;
    char tspan[64] = "one batch", kspan[64] = "one rep";
    if (r->tr.batches != 1)
        snprintf(tspan, sizeof tspan, "median of %d batches, %.1f to %.1f", r->tr.batches,
                 tr->us.min, tr->us.max);
    if (kr->reps != 1)
        snprintf(kspan, sizeof kspan, "median of %d reps, %.3f to %.3f", kr->reps, kr->us.min,
                 kr->us.max);
    /* a side measured once has no spread: a range from it would look
     * like a bound and be none */
    if (tr->batches < 2 || kr->reps < 2)
        ct_takeaway(run,
                    "Time: a thread took %.1f us to start, release and join (%s), a task "
                    "%.3f us (%s): tasks were %.0fx faster in this run (%d worker%s, %d CPU%s, "
                    "load %.2f at the start). With one %s there is no spread to say how "
                    "far that ratio can be trusted; %s.",
                    tr->us.median, tspan, kr->us.median, kspan, r->speedup, c->workers,
                    PL(c->workers), ct_cpus(), PL(ct_cpus()), r->load, tr->batches < 2 ? "batch" : "rep",
                    tr->batches < 2 ? "raise count= above batch= for several"
                                    : "raise reps= to 2 or more");
    else
        ct_takeaway(run,
                    "Time: a thread took %.1f us to start, release and join (%s), a task "
                    "%.3f us (%s). Tasks were %.0fx faster; taking the worst and best cases "
                    "of both, between %.0fx and %.0fx (%d worker%s, %d CPU%s, load %.2f at "
                    "the start).%s",
                    tr->us.median, tspan, kr->us.median, kspan, r->speedup, r->speedup_lo,
                    r->speedup_hi, c->workers, PL(c->workers), ct_cpus(), PL(ct_cpus()), r->load,
                    r->speedup_lo < 1 ? " The spread is too wide to tell which is faster; "
                    "raise reps and run on a quieter machine." : "");
    char kstack[64] = "";
    if (!isnan(tr->kstack_per))
        snprintf(kstack, sizeof kstack, ", plus %.1f KiB of kernel stack", tr->kstack_per / KIB);
    if (isnan(tr->vm_per) || isnan(tr->rss_per))
        ct_takeaway(run, "Memory: this run could not tell what a live thread added to VmSize "
                    "and VmRSS (nothing measurable grew); a task was one %zu-byte "
                    "allocation. Raise batch= for a measurable step.", kr->task_bytes);
    else
        ct_takeaway(run,
                    "Memory: each live thread added %.1f MiB to VmSize (its %zu KiB stack "
                    "reservation), but only %.1f KiB to VmRSS%s; a task was one %zu-byte "
                    "allocation. The reservation is address space, not memory: 100,000 such "
                    "threads would reserve %.0f GiB, %.1f%% of the %s this process can "
                    "address, and commit only what they touch.",
                    tr->vm_per / MIB, tr->stack / 1024, tr->rss_per / KIB, kstack,
                    kr->task_bytes, tr->vm_per * 1e5 / (MIB * KIB),
                    100 * tr->vm_per * 1e5 / ldexp(1, (int)r->lim.l[LIM_ADDR].setting),
                    r->lim.l[LIM_ADDR].shown);
    if (r->lim.first >= 0) {
        const struct limit *f = &r->lim.l[r->lim.first];
        char first[32], next[96] = "";
        ct_group_digits(f->allows, first, sizeof first);
        if (r->lim.second >= 0) {
            char n[32];
            ct_group_digits(r->lim.l[r->lim.second].allows, n, sizeof n);
            snprintf(next, sizeof next, "; next comes %s, at %s", limit_name[r->lim.second], n);
        }
        ct_takeaway(run,
                    "What stops threads first on this machine is %s (%s; %s per thread): "
                    "it allows about %s more%s. So 100,000 waiting threads %s here, while "
                    "100,000 tasks would take about %.0f MiB of heap.",
                    limit_name[r->lim.first], f->shown, f->cost, first, next,
                    f->allows >= 100000 ? "would fit" : "would not fit",
                    (double)kr->task_bytes * 100000 / MIB);
    }
    ct_takeaway(run,
                "The executor's own cost per spawned-and-completed task was %.0f ns from a "
                "task (local queues, stealing), %.0f ns from main (the shared injection "
                "queue) and %.0f ns on the current-thread executor.",
                r->over[FROM_INSIDE].median, r->over[FROM_OUTSIDE].median,
                r->over[CURRENT_THREAD].median);
    if (c->workers > ct_cpus())
        ct_takeaway(run, "Note: %d workers on %d CPUs: the workers take turns on the cores.",
                    c->workers, ct_cpus());
}

static int tvt_run(struct ct_run *run)
{
    struct tvt_config c = {
        .count = (int)ct_param_int(run, "count"),
        .batch = (int)ct_param_int(run, "batch"),
        .reps = (int)ct_param_int(run, "reps"),
        .workers = (int)ct_param_int(run, "workers"),
        .bench_n = (int)ct_param_int(run, "bench-tasks"),
    };
    if (c.workers == 0)
        c.workers = ct_cpus();
    if (c.batch > c.count)
        c.batch = c.count;
    struct tvt_result r = { .load = load_average(NULL) };
    int most = c.bench_n > c.count ? c.bench_n : c.count;
    struct ct_join_handle *h = calloc((size_t)most, sizeof *h);
    if (!h)
        return -ENOMEM;
    int rc = phase_threads(run, &c, &r);
    if (rc == 0)
        rc = phase_tasks(run, &c, h, &r);
    free(h);
    if (rc)
        return rc == -ECANCELED ? 0 : rc;
    read_limits(&r.tr, &r.lim);
    r.speedup = r.tr.us.median / r.kr.us.median;
    r.speedup_lo = r.tr.us.min / r.kr.us.max;
    r.speedup_hi = r.tr.us.max / r.kr.us.min;
    report_tables(run, &c, &r);
    report_results(run, &c, &r);
    report_checks(run, &c, &r);
    report_takeaway(run, &c, &r);
    return 0;
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
    .title = "OS threads versus tasks",
    .summary = "Time and memory to start and finish OS threads, against tasks on an executor",
    .intro = "OS threads are started, released and joined, in batches that are alive at "
             "once; then as many tasks do the same on the executor. Time and memory are "
             "measured for both, so is the executor's overhead per task, and the limits on "
             "threads are read from this machine.",
    .params = tvt_params,
    .smoke = "count=200 batch=100 reps=2 bench-tasks=2000",
    .flags = CT_DEMO_BENCH,
    .run = tvt_run,
};
