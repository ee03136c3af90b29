/* resources.h - what a demo must leave as it found it: the open file
 * descriptors (fds.h), the threads of this process, and the files it put
 * in its temporary directory.
 *
 * In-process (ct_demo_json):
 *     struct resources r;
 *     res_begin(&r);              // snapshot; TMPDIR -> a fresh scratch dir
 *     ... run the demo ...
 *     assert_true(res_end(&r));   // same fds and threads, scratch dir empty
 *
 * As a process (ct_proc_run): res_tmpdir_env() gives "TMPDIR=<scratch>"
 * for its environment, and res_dir_empty() tells whether the demo cleaned
 * up; the process's threads are gone with it once ct_proc_run has reaped
 * it.
 *
 * Ctrl-C with everything counted: res_sigint_in_process() re-runs the test
 * binary itself as a child that runs the demo in-process between
 * res_begin and res_end, and sends that child SIGINT; the test's main()
 * must begin with `if (res_child_main(argc, argv) >= 0) return ...`.
 * res_sigint() does both, the program and the child, at one moment. */
#ifndef CT_TEST_RESOURCES_H
#define CT_TEST_RESOURCES_H

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fds.h"
#include "util.h"

/* Entries in /proc/self/task: this process's threads. */
static inline int res_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        abort();
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Whether `dir` holds no entries; names the first one on stderr. */
static inline bool res_dir_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool empty = true;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            fprintf(stderr, "left behind in %s: %s\n", dir, e->d_name);
            empty = false;
            break;
        }
    }
    closedir(d);
    return empty;
}

static inline void *res_nothing(void *arg)
{
    return arg;
}

/* ThreadSanitizer starts a thread of its own at the first pthread_create
 * in a process; start and join one thread first, so that the snapshot
 * already counts it and only the demo's threads are compared. */
static inline void res_warm_up(void)
{
    static bool warm;
    pthread_t t;
    if (!warm && pthread_create(&t, NULL, res_nothing, NULL) == 0) {
        pthread_join(t, NULL);
        warm = true;
    }
}

struct resources {
    struct fds *fds;
    int threads;
    char *tmp;                  /* the scratch TMPDIR */
    char *old_tmp;              /* TMPDIR before, to put back */
    char env[300];              /* "TMPDIR=<tmp>", for a process's environment */
};

/* Snapshot the descriptors and threads (the scratch directory made first,
 * so that its making is not counted), then set TMPDIR to it. */
static inline void res_begin(struct resources *r)
{
    memset(r, 0, sizeof *r);
    r->tmp = ct_tmpdir();
    if (!r->tmp)
        abort();
    snprintf(r->env, sizeof r->env, "TMPDIR=%s", r->tmp);
    const char *old = getenv("TMPDIR");
    r->old_tmp = old ? strdup(old) : NULL;
    setenv("TMPDIR", r->tmp, 1);
    r->fds = malloc(sizeof *r->fds);
    if (!r->fds)
        abort();
    res_warm_up();
    fds_snapshot(r->fds);
    r->threads = res_threads();
}

/* The "TMPDIR=<scratch>" entry for ct_proc_run's environment. */
static inline const char *res_tmpdir_env(const struct resources *r)
{
    return r->env;
}

/* Compare with the snapshot, put TMPDIR back and remove the scratch
 * directory.  A joined thread can linger in /proc/self/task for a moment
 * after pthread_join returns, so the thread count is given up to a second
 * to settle; the rest is compared at once.  True if all is as before;
 * the first difference is named on stderr. */
static inline bool res_end(struct resources *r)
{
    bool ok = fds_same(r->fds);
    int threads = res_threads();
    for (int i = 0; i < 100 && threads != r->threads; i++) {
        nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
        threads = res_threads();
    }
    if (threads != r->threads) {
        fprintf(stderr, "%d threads running, %d before\n", threads, r->threads);
        ok = false;
    }
    if (!res_dir_empty(r->tmp))
        ok = false;
    if (r->old_tmp)
        setenv("TMPDIR", r->old_tmp, 1);
    else
        unsetenv("TMPDIR");
    free(r->old_tmp);
    free(r->fds);
    ct_tmpdir_remove(r->tmp);
    memset(r, 0, sizeof *r);
    return ok;
}

/* Run `concur-tutor run DEMO --json PARAMS...` as a process with `env`
 * (NULL-terminated, may be NULL; NO_COLOR is added), sending SIGINT after
 * `sigint_ms` if > 0; 60 s at most.  Fails the test if it cannot start. */
static inline void res_run_demo(struct ct_proc *p, const char *demo, const char *const *params,
                                const char *const *env, double sigint_ms)
{
    const char *argv[32], *envv[16];
    int n = 0, e = 0;
    argv[n++] = ct_test_binary();
    argv[n++] = "run";
    argv[n++] = demo;
    argv[n++] = "--json";
    for (; params && *params && n < 31; params++)
        argv[n++] = *params;
    argv[n] = NULL;
    envv[e++] = "NO_COLOR=1";
    for (; env && *env && e < 15; env++)
        envv[e++] = *env;
    envv[e] = NULL;
    if (ct_proc_run(p, argv, NULL, envv, 60, sigint_ms) != 0)
        abort();
}

/* ---- Ctrl-C inside a process that counts its own resources ------------- */

#define RES_CHILD_FLAG "--resources-child"

/* In the child (argv: TEST --resources-child DEMO PARAMS...): SIGINT is
 * blocked (inherited from the parent, and blocked again here), so however
 * early it comes it stays pending until the demo runner's signal thread
 * takes it; run the demo in-process; exit 0
 * if it finished (0) or was cancelled (130) and left every descriptor,
 * thread and temporary file as it found them.  Returns -1 when this is not
 * the child, else the exit status. */
static inline int res_child_main(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[1], RES_CHILD_FLAG) != 0)
        return -1;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct resources r;
    res_begin(&r);
    int code = -1;
    json_t *j = ct_demo_json(argv[2], (const char *const *)argv + 3, &code);
    const char *status = j ? json_string_value(json_object_get(j, "status")) : NULL;
    bool ok = res_end(&r);
    printf("child: %s, exit %d, status %s, resources %s\n", argv[2], code,
           status ? status : "?", ok ? "as before" : "NOT as before");
    json_decref(j);
    return ok && (code == 0 || code == 130) ? 0 : 1;
}

/* Run `demo` with `params` in a child of this test (see above) and send it
 * SIGINT after `ms`; fail the test unless the child reports a clean stop
 * with its resources as before. */
static inline void res_sigint_in_process(const char *demo, const char *const *params, double ms)
{
    const char *argv[32];
    int n = 0;
    argv[n++] = "/proc/self/exe";
    argv[n++] = RES_CHILD_FLAG;
    argv[n++] = demo;
    for (; params && *params && n < 31; params++)
        argv[n++] = *params;
    argv[n] = NULL;
    /* the child inherits this mask through fork and exec: SIGINT waits for
     * it even before its main() runs */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    struct ct_proc p;
    int rc = ct_proc_run(&p, argv, NULL, NULL, 60, ms);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        abort();
    if (p.status != 0)
        fail_msg("%s, SIGINT at %.0f ms in-process: exit %d\n%s%s", demo, ms, p.status, p.out,
                 p.err);
    ct_proc_free(&p);
}

/* Ctrl-C `ms` into a run of `demo`, both ways: the real program (it
 * must exit 130, or 0 if it had finished, and leave its TMPDIR empty), and
 * a child of this test that counts everything (res_sigint_in_process). */
static inline void res_sigint(const char *demo, const char *const *params, double ms)
{
    struct resources r;
    res_begin(&r);
    const char *env[] = { res_tmpdir_env(&r), NULL };
    struct ct_proc p;
    res_run_demo(&p, demo, params, env, ms);
    if (p.status != 130 && p.status != 0)
        fail_msg("%s, SIGINT at %.0f ms: exit %d\n%s", demo, ms, p.status, p.err);
    ct_proc_free(&p);
    if (!res_end(&r))
        fail_msg("%s, SIGINT at %.0f ms: left something behind", demo, ms);
    res_sigint_in_process(demo, params, ms);
}

#endif
