/* procsnap.h - what a process holds, read from /proc, for tests that must
 * leave nothing behind: descriptors, threads, child processes, listening
 * TCP sockets, files a demo named.  Take a snapshot of a process (this one, or
 * the tutor running on a pty) before, another after, and compare.
 * Header-only; each function is small and independent. */
#ifndef CT_TEST_PROCSNAP_H
#define CT_TEST_PROCSNAP_H

#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* Entries in /proc/PID/DIR ("fd" or "task"), or -1; `pid` 0 means this
 * process (the listing's own descriptor is left out). */
static inline int snap_count(pid_t pid, const char *dir)
{
    char path[64];
    if (pid)
        snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, dir);
    else
        snprintf(path, sizeof path, "/proc/self/%s", dir);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.' && !(pid == 0 && atoi(e->d_name) == dirfd(d) &&
                                      strcmp(dir, "fd") == 0);
    closedir(d);
    return n;
}

/* Children of `pid` alive now (all its threads' lists), or -1. */
static inline int snap_children(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char cp[384];
        snprintf(cp, sizeof cp, "/proc/%d/task/%s/children", (int)pid, e->d_name);
        FILE *f = fopen(cp, "r");
        int c;
        while (f && fscanf(f, "%d", &c) == 1)
            n++;
        if (f)
            fclose(f);
    }
    closedir(d);
    return n;
}

/* Whether socket inode `ino` is one of `pid`'s descriptors. */
static inline bool snap_owns_inode(pid_t pid, unsigned long ino)
{
    char path[64], link[64], want[48];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    snprintf(want, sizeof want, "socket:[%lu]", ino);
    DIR *d = opendir(path);
    if (!d)
        return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        char fdp[384];
        snprintf(fdp, sizeof fdp, "%s/%s", path, e->d_name);
        ssize_t n = readlink(fdp, link, sizeof link - 1);
        if (n > 0) {
            link[n] = '\0';
            found = strcmp(link, want) == 0;
        }
    }
    closedir(d);
    return found;
}

/* TCP sockets in LISTEN state (/proc/net/tcp and tcp6) that `pid` holds. */
static inline int snap_listening(pid_t pid)
{
    static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
    int n = 0;
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(files[i], "r");
        char line[512];
        while (f && fgets(line, sizeof line, f)) {
            unsigned st;
            unsigned long ino;
            /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
            if (sscanf(line, " %*s %*s %*s %x %*s %*s %*s %*s %*s %lu", &st, &ino) == 2 &&
                st == 0x0A && snap_owns_inode(pid, ino))
                n++;
        }
        if (f)
            fclose(f);
    }
    return n;
}

/* Files in `dir` whose names start with `prefix`: for a demo that makes
 * temp files under a name of its own (a shared /tmp has other users'). */
static inline int snap_files(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

/* Start and join one thread that does nothing.  Call it before the first
 * snapshot of this process: ThreadSanitizer starts a helper thread of its
 * own with the process's first thread, and it should count as there
 * before. */
static inline void *snap_nothing(void *arg)
{
    return arg;
}

static inline void snap_settle_threads(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, snap_nothing, NULL) == 0)
        pthread_join(t, NULL);
}

/* Everything above for one process, to compare before and after. */
enum { RES_FDS, RES_TASKS, RES_CHILDREN, RES_LISTENING, RES_N };
struct proc_snap {
    int v[RES_N];
};

static inline struct proc_snap snap_snapshot(pid_t pid)
{
    pid_t p = pid ? pid : getpid();
    return (struct proc_snap){ { snap_count(pid, "fd"), snap_count(pid, "task"), snap_children(p),
                                snap_listening(p) } };
}

/* Whether `now` matches `before`; names the first difference on stderr. */
static inline bool snap_same(const struct proc_snap *before, const struct proc_snap *now,
                            const char *when)
{
    static const char *const what[RES_N] = { "descriptors", "threads", "child processes",
                                             "listening sockets" };
    for (int i = 0; i < RES_N; i++) {
        if (before->v[i] != now->v[i]) {
            fprintf(stderr, "%s: %d %s, %d before\n", when, now->v[i], what[i],
                    before->v[i]);
            return false;
        }
    }
    return true;
}

#endif
