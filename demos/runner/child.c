/* child.c - helper child processes for demos: this program re-run as
 * `__child DEMO ARGS...`, its output read back line by line, and reaped
 * (or killed) within a bound.  See demo.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "demo.h"

extern char **environ;

int ct_child_spawn(struct ct_run *run, const char *const *args,
                   struct ct_child *c)
{
    const char *argv[32];
    int n = 0;
    argv[n++] = ct_run_program(run);
    argv[n++] = "__child";
    argv[n++] = ct_run_demo(run)->name;
    for (; args && *args && n < 31; args++)
        argv[n++] = *args;
    argv[n] = NULL;

    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return -errno;

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, dflt;
    sigemptyset(&none);
    sigemptyset(&dflt);
    sigaddset(&dflt, SIGINT);
    sigaddset(&dflt, SIGPIPE);
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc == 0) {
        rc = posix_spawnattr_init(&attr);
        if (rc == 0) {
            if (!(rc = posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO)) &&
                !(rc = posix_spawn_file_actions_adddup2(&fa, p[1], STDERR_FILENO)) &&
                !(rc = posix_spawnattr_setsigmask(&attr, &none)) &&
                !(rc = posix_spawnattr_setsigdefault(&attr, &dflt)) &&
                !(rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
                                                           POSIX_SPAWN_SETSIGDEF))) {
                pid_t pid;
                rc = posix_spawn(&pid, ct_run_program(run), &fa, &attr,
                                 (char *const *)argv, environ);
                if (rc == 0)
                    c->pid = pid;
            }
            posix_spawnattr_destroy(&attr);
        }
        posix_spawn_file_actions_destroy(&fa);
    }
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        return -rc;
    }
    c->fd = p[0];
    c->len = 0;
    c->eof = false;
    return 0;
}

int ct_child_readline(struct ct_run *run, struct ct_child *c, char *line,
                      size_t n, double timeout_ms)
{
    int64_t deadline = ct_clock_ns() + (int64_t)(timeout_ms * 1e6);
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl || (c->eof && c->len > 0) || c->len == sizeof c->buf) {
            size_t len = nl ? (size_t)(nl - c->buf) : c->len;
            size_t take = len < n - 1 ? len : n - 1;
            memcpy(line, c->buf, take);
            line[take] = '\0';
            size_t used = nl ? len + 1 : len;
            memmove(c->buf, c->buf + used, c->len - used);
            c->len -= used;
            return 1;
        }
        if (c->eof)
            return 0;
        if (ct_cancelled(run))
            return -ECANCELED;
        int64_t left = deadline - ct_clock_ns();
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
        int ms = (int)(left / CT_NS_PER_MS) + 1;
        int pr = poll(&pfd, 1, ms < 20 ? ms : 20);
        if (pr < 0 && errno != EINTR)
            return -errno;
        if (pr <= 0)
            continue;
        ssize_t got = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
        if (got < 0 && errno != EINTR && errno != EAGAIN)
            return -errno;
        if (got == 0)
            c->eof = true;
        else if (got > 0)
            c->len += (size_t)got;
    }
}

int ct_child_wait(struct ct_run *run, struct ct_child *c, double timeout_ms)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    int64_t deadline = ct_clock_ns() + (int64_t)(timeout_ms * 1e6);
    int status;
    for (;;) {
        pid_t w = waitpid(c->pid, &status, WNOHANG);
        if (w == c->pid)
            break;
        if (w < 0 && errno != EINTR)
            return -errno;
        if (ct_cancelled(run) || ct_clock_ns() >= deadline) {
            kill(c->pid, SIGKILL);
            while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
                ;
            break;
        }
        struct timespec ts = { 0, 2 * CT_NS_PER_MS };
        nanosleep(&ts, NULL);
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}

