/* doctor.c - `doctor`: can this machine show what the demos teach?
 *
 * A race needs two threads running at the same instant, a benchmark a
 * quiet machine, tcp-server and threads-vs-tasks their file and thread
 * limits.  Each check measures one of those things here and now and says
 * ok, warn or fail, with what to do.  Exit status 1 when any check fails.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "commands.h"
#include "exit.h"
#include "files.h"
#include "json.h"
#include "registry.h"
#include "term.h"
#include "text.h"

enum level { OK, WARN, FAIL };
static const char *const level_name[] = { "ok", "warn", "fail" };

struct finding {
    const char *check;
    enum level level;
    char what[512];     /* what was found */
    char todo[512];     /* what to do about it, or "" */
};

#define MAX_FINDINGS 12

struct doctor {
    struct finding f[MAX_FINDINGS];
    int n;
};

static struct finding *add(struct doctor *d, const char *check, enum level level)
{
    struct finding *f = &d->f[d->n < MAX_FINDINGS - 1 ? d->n++ : d->n];
    memset(f, 0, sizeof *f);
    f->check = check;
    f->level = level;
    return f;
}

/* The first line of a small file, or false. */
static bool read_line(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool ok = fgets(buf, (int)n, f) != NULL;
    fclose(f);
    if (ok)
        buf[strcspn(buf, "\n")] = '\0';
    return ok;
}

/* This process's cgroup path for `controller` ("" is the unified v2 one),
 * from /proc/self/cgroup. */
static bool cgroup_path(const char *controller, char *buf, size_t n)
{
    FILE *f = fopen("/proc/self/cgroup", "r");
    char line[512];
    bool found = false;
    while (f && !found && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        const char *list = c1 + 1;
        bool match = !*controller ? !*list : false;
        for (char *save = NULL, *w = strtok_r(c1 + 1, ",", &save); *controller && w;
             w = strtok_r(NULL, ",", &save))
            match |= strcmp(w, controller) == 0;
        if (match) {
            snprintf(buf, n, "%s", c2 + 1);
            found = true;
        }
    }
    if (f)
        fclose(f);
    return found;
}

/* The tightest CPU quota on this process's cgroup or its parents, in
 * CPUs (1.5 for "150000 100000"); 0 when there is none. */
static double cpu_quota(void)
{
    char path[PATH_MAX], rel[PATH_MAX - 64], line[128];
    double best = 0;
    /* cgroup v2: cpu.max is "QUOTA PERIOD" or "max PERIOD" */
    if (cgroup_path("", rel, sizeof rel)) {
        for (;;) {
            snprintf(path, sizeof path, "/sys/fs/cgroup%s/cpu.max",
                     strcmp(rel, "/") == 0 ? "" : rel);
            long long q, p;
            if (read_line(path, line, sizeof line) && sscanf(line, "%lld %lld", &q, &p) == 2 &&
                p > 0 && (best == 0 || (double)q / p < best))
                best = (double)q / (double)p;
            char *slash = strrchr(rel, '/');
            if (!slash || slash == rel)
                break;
            *slash = '\0';
        }
    }
    /* cgroup v1: cpu.cfs_quota_us (-1: none) over cpu.cfs_period_us */
    static const char *const mounts[] = { "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct" };
    if (cgroup_path("cpu", rel, sizeof rel)) {
        for (size_t m = 0; m < 2; m++) {
            char qline[64], pline[64];
            snprintf(path, sizeof path, "%s%s/cpu.cfs_quota_us", mounts[m],
                     strcmp(rel, "/") == 0 ? "" : rel);
            if (!read_line(path, qline, sizeof qline))
                continue;
            snprintf(path, sizeof path, "%s%s/cpu.cfs_period_us", mounts[m],
                     strcmp(rel, "/") == 0 ? "" : rel);
            long long q = atoll(qline), p = read_line(path, pline, sizeof pline) ? atoll(pline) : 0;
            if (q > 0 && p > 0 && (best == 0 || (double)q / p < best))
                best = (double)q / (double)p;
        }
    }
    return best;
}

static void check_cpus(struct doctor *d)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    int allowed = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : (int)online;
    double quota = cpu_quota();
    int usable = allowed;
    if (quota > 0 && (int)ceil(quota) < usable)
        usable = (int)ceil(quota);
    char q[64] = "no CPU quota";
    if (quota > 0)
        snprintf(q, sizeof q, "a cgroup quota of %.2f CPU%s", quota, quota == 1 ? "" : "s");
    struct finding *f = add(d, "CPUs", usable >= 2 ? OK : FAIL);
    snprintf(f->what, sizeof f->what, "%ld online, %d allowed to this process, %s: %s", online,
             allowed, q,
             usable >= 2 ? "threads can run at the same instant"
                         : "only one thread runs at a time, so a race can hardly lose an "
                           "update and contention figures mean little");
    if (usable < 2)
        snprintf(f->todo, sizeof f->todo,
                 "give the tutor 2 or more CPUs: run it without taskset or numactl, or start "
                 "the container with more (docker run --cpus=2)");
    else if (quota > 0 && quota < allowed)
        snprintf(f->todo, sizeof f->todo,
                 "the quota lets threads run together but throttles them: benchmark figures "
                 "will be lower than the CPU count suggests");
}

static void check_sanitizers(struct doctor *d)
{
    bool tsan = false, asan = false;
#if defined(__SANITIZE_THREAD__)
    tsan = true;
#endif
#if defined(__SANITIZE_ADDRESS__)
    asan = true;
#endif
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
    tsan = true;
#endif
#if __has_feature(address_sanitizer)
    asan = true;
#endif
#endif
    struct finding *f = add(d, "sanitizers", tsan || asan ? WARN : OK);
    if (tsan || asan) {
        snprintf(f->what, sizeof f->what,
                 "this build has %s: every memory access is checked, so demos run several "
                 "times slower and timing figures are not the program's own",
                 tsan ? "ThreadSanitizer" : "AddressSanitizer");
        snprintf(f->todo, sizeof f->todo,
                 "use the plain build (build/cmd/concur-tutor) for timings and benchmarks");
    } else {
        snprintf(f->what, sizeof f->what,
                 "a plain build without ThreadSanitizer: timings are the program's own");
        snprintf(f->todo, sizeof f->todo,
                 "to watch ThreadSanitizer report a race, build the lesson's example with "
                 "-fsanitize=thread (or run build-tsan/cmd/concur-tutor after make test)");
    }
}

static void check_terminal(struct doctor *d, const struct ct_options *opt)
{
    struct winsize ws;
    bool tty = ct_term_is_tty() && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0;
    bool color = ct_term_color(opt->no_color);
    const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
    const char *why = color ? "colours on"
                      : opt->no_color ? "colours off (--no-color)"
                      : nc && *nc ? "colours off (NO_COLOR is set)"
                      : !term || !*term || strcmp(term, "dumb") == 0 ? "colours off (TERM is dumb or unset)"
                      : "colours off (not a terminal)";
    if (!tty) {
        struct finding *f = add(d, "terminal", OK);
        snprintf(f->what, sizeof f->what, "output is not a terminal: plain text wrapped to %d "
                 "columns; %s", ct_term_width(), why);
        return;
    }
    bool narrow = ws.ws_col < 80, short_ = ws.ws_row < 24;
    struct finding *f = add(d, "terminal", narrow || short_ ? WARN : OK);
    snprintf(f->what, sizeof f->what, "%d columns by %d rows, TERM=%s; %s", ws.ws_col,
             ws.ws_row, term ? term : "", why);
    if (narrow || short_)
        snprintf(f->todo, sizeof f->todo,
                 "tables and timelines are laid out for 80x24 or more: widen the window or "
                 "use a smaller font on the projector");
}

/* A demo parameter's default, or `fallback` when the demo is not built. */
static long long param_default(const char *demo, const char *param, long long fallback)
{
    const struct ct_demo *dm = ct_demo_find(demo);
    for (const struct ct_param_spec *sp = dm ? dm->params : NULL; sp && sp->name; sp++) {
        if (strcmp(sp->name, param) == 0)
            return atoll(sp->def);
    }
    return fallback;
}

static void fmt_limit(rlim_t v, char *buf, size_t n)
{
    if (v == RLIM_INFINITY)
        snprintf(buf, n, "unlimited");
    else
        ct_group_digits((long long)v, buf, n);
}

static void check_limits(struct doctor *d)
{
    struct rlimit nofile, nproc;
    char cur[32], need_s[32];
    getrlimit(RLIMIT_NOFILE, &nofile);
    getrlimit(RLIMIT_NPROC, &nproc);

    /* tcp-server: two descriptors a connection (ours and the client's),
     * plus the program's own */
    bool have_tcp = ct_demo_find("tcp-server") != NULL;
    long long conns = param_default("tcp-server", "connections", 500);
    rlim_t need = (rlim_t)(2 * conns + 64);
    fmt_limit(nofile.rlim_cur, cur, sizeof cur);
    ct_group_digits((long long)need, need_s, sizeof need_s);
    struct finding *f = add(d, "ulimit -n", nofile.rlim_cur >= need ? OK : WARN);
    if (have_tcp)
        snprintf(f->what, sizeof f->what, "%s open files; tcp-server's default of %lld "
                 "connections needs about %s", cur, conns, need_s);
    else
        snprintf(f->what, sizeof f->what, "%s open files; tcp-server is not in this build, "
                 "but %lld connections (as many as the async TCP tests open) would need about "
                 "%s", cur, conns, need_s);
    if (nofile.rlim_cur < need)
        snprintf(f->todo, sizeof f->todo, "raise it before starting the tutor: ulimit -n %s "
                 "(up to the hard limit), or run the demo with fewer connections", need_s);

    /* threads-vs-tasks keeps `batch` threads alive at once */
    long long batch = param_default("threads-vs-tasks", "batch", 1000);
    need = (rlim_t)(batch + 64);
    fmt_limit(nproc.rlim_cur, cur, sizeof cur);
    ct_group_digits((long long)need, need_s, sizeof need_s);
    bool root = geteuid() == 0;
    f = add(d, "ulimit -u", root || nproc.rlim_cur >= need ? OK : WARN);
    snprintf(f->what, sizeof f->what, "%s processes and threads%s; threads-vs-tasks keeps %lld "
             "threads alive at once and needs about %s", cur,
             root ? " (not enforced for root)" : "", batch, need_s);
    if (!root && nproc.rlim_cur < need)
        snprintf(f->todo, sizeof f->todo, "raise it (ulimit -u %s) or run threads-vs-tasks "
                 "with a smaller batch=", need_s);
}

static void check_state_dir(struct doctor *d)
{
    char dir[256], why[400], tmp[300];
    int rc = ct_state_dir(dir, sizeof dir, true, why, sizeof why);
    if (rc == 0) {
        snprintf(tmp, sizeof tmp, "%s/.doctor-XXXXXX", dir);
        int fd = mkstemp(tmp);
        if (fd < 0) {
            snprintf(why, sizeof why, "cannot write in %s: %s", dir, strerror(errno));
            rc = -1;
        } else {
            bool wrote = write(fd, "ok\n", 3) == 3;
            close(fd);
            unlink(tmp);
            if (!wrote) {
                snprintf(why, sizeof why, "cannot write in %s", dir);
                rc = -1;
            }
        }
    }
    struct finding *f = add(d, "state dir", rc == 0 ? OK : WARN);
    if (rc == 0) {
        snprintf(f->what, sizeof f->what, "%s is writable: history and progress are kept", dir);
        return;
    }
    snprintf(f->what, sizeof f->what, "%s: history and progress will not be kept", why);
    snprintf(f->todo, sizeof f->todo, "point XDG_STATE_HOME at a writable directory");
}

static void check_load(struct doctor *d)
{
    double load[3];
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (getloadavg(load, 3) < 1) {
        struct finding *f = add(d, "load", WARN);
        snprintf(f->what, sizeof f->what, "the load average cannot be read here");
        return;
    }
    bool busy = load[0] > (double)cpus * 0.75;
    struct finding *f = add(d, "load", busy ? WARN : OK);
    snprintf(f->what, sizeof f->what, "%.2f %.2f %.2f (1, 5, 15 min) on %ld CPU%s: %s", load[0],
             load[1], load[2], cpus, cpus == 1 ? "" : "s",
             busy ? "the CPUs are busy with other work, so timings and lost-update counts will "
                    "wobble from run to run"
                  : "quiet enough for steady timings");
    if (busy)
        snprintf(f->todo, sizeof f->todo, "for benchmarks, wait for a quieter moment or use "
                 "runs=N and compare medians");
}

static void print_findings(const struct doctor *d, const struct ct_options *opt)
{
    int width = ct_term_width();
    bool color = ct_use_color(opt);
    static const char *const sgr[] = { "\033[32m", "\033[33m", "\033[1;31m" };
    int count[3] = { 0 };
    char head[64];
    ct_wrap(stdout, "concur-tutor doctor: can this machine show what the demos teach?", width, 0);
    fputc('\n', stdout);
    for (int i = 0; i < d->n; i++) {
        const struct finding *f = &d->f[i];
        count[f->level]++;
        if (color)
            snprintf(head, sizeof head, "%s%-4s\033[0m  %s", sgr[f->level],
                     level_name[f->level], f->check);
        else
            snprintf(head, sizeof head, "%-4s  %s", level_name[f->level], f->check);
        ct_wrap_item(stdout, head, 2, 20, f->what, width);
        if (*f->todo) {
            char todo[560];
            snprintf(todo, sizeof todo, "-> %s", f->todo);
            ct_wrap_item(stdout, "", 2, 20, todo, width);
        }
    }
    char line[128];
    snprintf(line, sizeof line, "%d ok, %d warn, %d fail", count[OK], count[WARN], count[FAIL]);
    fputc('\n', stdout);
    ct_wrap(stdout, line, width, 0);
}

static void json_findings(const struct doctor *d)
{
    struct ct_json j;
    ct_json_init(&j, stdout);
    ct_json_object_begin(&j);
    ct_json_key(&j, "findings");
    ct_json_array_begin(&j);
    for (int i = 0; i < d->n; i++) {
        ct_json_object_begin(&j);
        ct_json_kv_str(&j, "check", d->f[i].check);
        ct_json_kv_str(&j, "status", level_name[d->f[i].level]);
        ct_json_kv_str(&j, "finding", d->f[i].what);
        ct_json_kv_str(&j, "todo", d->f[i].todo);
        ct_json_object_end(&j);
    }
    ct_json_array_end(&j);
    ct_json_object_end(&j);
    ct_json_finish(&j);
}

int ct_cmd_doctor(struct ct_ctx *ctx, const struct ct_options *opt, int argc, char **argv)
{
    (void)ctx, (void)argc, (void)argv;
    struct doctor d = { .n = 0 };
    check_cpus(&d);
    check_sanitizers(&d);
    check_terminal(&d, opt);
    check_limits(&d);
    check_state_dir(&d);
    check_load(&d);
    if (opt->json)
        json_findings(&d);
    else
        print_findings(&d, opt);
    for (int i = 0; i < d.n; i++) {
        if (d.f[i].level == FAIL)
            return CT_EXIT_FAILED;
    }
    return CT_EXIT_OK;
}
