/* files.c - see files.h. */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind(mode_t m)
{
    return S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
           : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket"
           : S_ISDIR(m) ? "a directory" : "not a plain file";
}

/* Open `path` for reading without blocking and check it; the fd or -1. */
static int open_checked(const char *path, size_t max, struct stat *st, char *why,
                        size_t whylen, int *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        *err = -errno;
        snprintf(why, whylen, "%s", strerror(errno));
        return -1;
    }
    if (fstat(fd, st) != 0) {
        *err = -errno;
        snprintf(why, whylen, "%s", strerror(errno));
    } else if (!S_ISREG(st->st_mode)) {
        *err = -EINVAL;
        snprintf(why, whylen, "not a regular file (%s)", kind(st->st_mode));
    } else if ((unsigned long long)st->st_size > max) {
        *err = -EFBIG;
        snprintf(why, whylen, "larger than %zu KiB", max >> 10);
    } else {
        return fd;
    }
    close(fd);
    return -1;
}

char *ct_read_regular_file(const char *path, size_t max, size_t *len, char *why,
                           size_t whylen)
{
    struct stat st;
    int err;
    if (whylen)
        why[0] = '\0';
    int fd = open_checked(path, max, &st, why, whylen, &err);
    if (fd < 0)
        return NULL;
    /* read at most max + 1 bytes: a file that grows meanwhile still ends */
    size_t cap = (size_t)st.st_size + 1, got = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        ssize_t n = read(fd, buf + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(why, whylen, "%s", strerror(errno));
            free(buf);
            buf = NULL;
            break;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        if (got == cap) {
            if (cap > max) {
                snprintf(why, whylen, "larger than %zu KiB", max >> 10);
                free(buf);
                buf = NULL;
                break;
            }
            char *p = realloc(buf, cap * 2 + 1);
            if (!p) {
                free(buf);
                buf = NULL;
            }
            buf = p;
            cap *= 2;
        }
    }
    if (!buf && why[0] == '\0')
        snprintf(why, whylen, "out of memory");
    close(fd);
    if (buf) {
        buf[got] = '\0';
        *len = got;
    }
    return buf;
}

int ct_check_regular_file(const char *path, size_t max, char *why, size_t whylen)
{
    struct stat st;
    int err;
    int fd = open_checked(path, max, &st, why, whylen, &err);
    if (fd < 0)
        return err;
    close(fd);
    return 0;
}

int ct_state_dir(char *buf, size_t n, bool create, char *why, size_t whylen)
{
    const char *state = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    int len;
    if (state && *state == '/')
        len = snprintf(buf, n, "%s/concur-tutor", state);
    else if (home && *home)
        len = snprintf(buf, n, "%s/.local/state/concur-tutor", home);
    else {
        snprintf(why, whylen, "neither XDG_STATE_HOME nor HOME is set");
        return -ENOENT;
    }
    if (len < 0 || (size_t)len >= n) {
        snprintf(why, whylen, "the path is too long");
        return -ENAMETOOLONG;
    }
    if (!create)
        return 0;
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0700);
            *p = '/';
        }
    }
    struct stat st;
    if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
        int e = errno;
        snprintf(why, whylen, "cannot create %s: %s", buf, strerror(e));
        return -e;
    }
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(why, whylen, "%s is not a directory", buf);
        return -ENOTDIR;
    }
    return 0;
}
