/* fds.h - the set of open file descriptors, for tests that must leave none
 * behind: take a snapshot before, another after, and compare them.
 * FDS_TEST(f) is a cmocka test that does so around `f` (include cmocka.h
 * first). */
#ifndef CT_TEST_FDS_H
#define CT_TEST_FDS_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FDS_MAX 4096

struct fds {
    int n;
    bool open[FDS_MAX];         /* descriptors at or past FDS_MAX count in `n` only */
};

/* Fill `s` from /proc/self/fd (the listing's own descriptor left out). */
static inline void fds_snapshot(struct fds *s)
{
    memset(s, 0, sizeof *s);
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        abort();
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        if (fd == dirfd(d))
            continue;
        s->n++;
        if (fd < FDS_MAX)
            s->open[fd] = true;
    }
    closedir(d);
}

/* Whether the same descriptors are open as in `before`; names the first
 * difference on stderr. */
static inline bool fds_same(const struct fds *before)
{
    struct fds *now = malloc(sizeof *now);
    if (!now)
        abort();
    fds_snapshot(now);
    bool same = now->n == before->n;
    for (int fd = 0; fd < FDS_MAX; fd++) {
        if (now->open[fd] != before->open[fd]) {
            /* what it is (socket, eventpoll, a path) says who opened it */
            char link[64], what[256] = "";
            snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
            ssize_t len = now->open[fd] ? readlink(link, what, sizeof what - 1) : -1;
            what[len > 0 ? len : 0] = '\0';
            fprintf(stderr, "fd %d: %s%s%s\n", fd, now->open[fd] ? "left open" : "closed",
                    what[0] ? ", " : "", what);
            same = false;
            break;
        }
    }
    if (now->n != before->n)
        fprintf(stderr, "%d descriptors open, %d before\n", now->n, before->n);
    free(now);
    return same;
}

#ifdef cmocka_unit_test_setup_teardown
static struct fds fds_before;

static inline int fds_setup(void **state)
{
    (void)state;
    fds_snapshot(&fds_before);
    return 0;
}

static inline int fds_teardown(void **state)
{
    (void)state;
    return fds_same(&fds_before) ? 0 : -1;
}

#define FDS_TEST(f) cmocka_unit_test_setup_teardown(f, fds_setup, fds_teardown)
#endif

#endif
