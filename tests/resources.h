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
 * it. */
#ifndef CT_TEST_RESOURCES_H
#define CT_TEST_RESOURCES_H

#include <dirent.h>
#include <pthread.h>
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

#endif
