/* tutor-pty.h - the tutor's prompt on a pseudo-terminal, for tests that press
 * Ctrl-C in the middle of a demo and look at what the process holds
 * afterwards (resources.h).  Include cmocka.h and util.h first.
 * Header-only, small. */
#ifndef CT_TEST_TUTOR_PTY_H
#define CT_TEST_TUTOR_PTY_H

#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

struct pty {
    int fd;
    pid_t pid;
    char *seen;                 /* everything read, escape sequences dropped */
    size_t len, mark;           /* mark: where the next expect starts */
    int esc;
};

static inline double pty_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Start the tutor's prompt (no arguments) on a terminal `cols` wide, its
 * history kept under `state_dir`. */
static inline void pty_open(struct pty *t, int cols, const char *state_dir)
{
    struct winsize ws = { .ws_row = 40, .ws_col = (unsigned short)cols };
    memset(t, 0, sizeof *t);
    t->seen = calloc(1, 1);
    t->pid = forkpty(&t->fd, NULL, NULL, &ws);
    assert_true(t->pid >= 0);
    if (t->pid == 0) {
        setenv("TERM", "xterm", 1);
        setenv("NO_COLOR", "1", 1);
        setenv("PAGER", "cat", 1);
        setenv("XDG_STATE_HOME", state_dir, 1);
        unsetenv("COLUMNS");
        signal(SIGINT, SIG_DFL);
        execl(ct_test_binary(), ct_test_binary(), (char *)NULL);
        _exit(127);
    }
}

static inline void pty_take(struct pty *t, const char *buf, size_t n)
{
    char *s = realloc(t->seen, t->len + n + 1);
    assert_non_null(s);
    t->seen = s;
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        if (t->esc == 1)
            t->esc = c == '[' ? 2 : 0;
        else if (t->esc == 2)
            t->esc = c >= 0x40 && c <= 0x7e ? 0 : 2;
        else if (c == '\033')
            t->esc = 1;
        else if (c != '\r')
            s[t->len++] = c;
    }
    s[t->len] = '\0';
}

/* Read until `want` shows up after the mark (the mark moves past it);
 * false if it has not after `ms`. */
static inline bool pty_wait_for(struct pty *t, const char *want, double ms)
{
    double deadline = pty_now_ms() + ms;
    for (;;) {
        char *hit = strstr(t->seen + t->mark, want);
        if (hit) {
            t->mark = (size_t)(hit - t->seen) + strlen(want);
            return true;
        }
        double left = deadline - pty_now_ms();
        if (left <= 0)
            return false;
        struct pollfd p = { t->fd, POLLIN, 0 };
        char buf[4096];
        ssize_t n;
        if (poll(&p, 1, (int)left + 1) > 0 && (n = read(t->fd, buf, sizeof buf)) > 0)
            pty_take(t, buf, (size_t)n);
        else if (p.revents & (POLLHUP | POLLERR))
            return false;
    }
}

/* Read until `want` shows up after the mark (the mark moves past it), or
 * fail after `ms`. */
static inline void pty_expect(struct pty *t, const char *want, double ms)
{
    double deadline = pty_now_ms() + ms;
    for (;;) {
        char *hit = strstr(t->seen + t->mark, want);
        if (hit) {
            t->mark = (size_t)(hit - t->seen) + strlen(want);
            return;
        }
        double left = deadline - pty_now_ms();
        if (left <= 0)
            fail_msg("waited %.0f ms for \"%s\"; the terminal ended with:\n%s", ms, want,
                     t->len - t->mark > 800 ? t->seen + t->len - 800 : t->seen + t->mark);
        struct pollfd p = { t->fd, POLLIN, 0 };
        char buf[4096];
        ssize_t n;
        if (poll(&p, 1, (int)left + 1) > 0 && (n = read(t->fd, buf, sizeof buf)) > 0)
            pty_take(t, buf, (size_t)n);
        else if (p.revents & (POLLHUP | POLLERR))
            fail_msg("the program closed the terminal while we waited for \"%s\":\n%s", want,
                     t->len > 3000 ? t->seen + t->len - 3000 : t->seen);
    }
}

static inline void pty_send(struct pty *t, const char *keys)
{
    size_t n = strlen(keys);
    assert_int_equal(write(t->fd, keys, n), (ssize_t)n);
}

/* Wait for the prompt and for the line editor to have taken the terminal
 * (keys sent before that are read in cooked mode). */
static inline void pty_prompt(struct pty *t)
{
    pty_expect(t, "concur> ", 30000);       /* not a timing test: a loaded machine */
    struct timespec ms = { 0, 50 * 1000000L };
    nanosleep(&ms, NULL);
}

/* Run a small demo that starts threads, and wait for the prompt again:
 * then the tutor has whatever threads a sanitizer adds for good (see
 * res_settle_threads in resources.h), and a snapshot can be taken. */
static inline void pty_settle(struct pty *t)
{
    pty_send(t, "run race threads=2 iters=20000\r");
    pty_expect(t, "Takeaway", 60000);
    pty_prompt(t);
}

/* Quit and reap; the exit status. */
static inline int pty_close(struct pty *t)
{
    pty_send(t, "quit\r");
    int status = -1;
    double deadline = pty_now_ms() + 10000;
    char buf[4096];
    while (waitpid(t->pid, &status, WNOHANG) != t->pid) {
        if (pty_now_ms() > deadline) {
            kill(t->pid, SIGKILL);
            waitpid(t->pid, &status, 0);
            break;
        }
        struct pollfd p = { t->fd, POLLIN, 0 };
        if (poll(&p, 1, 20) > 0)
            (void)!read(t->fd, buf, sizeof buf);
    }
    close(t->fd);
    free(t->seen);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#endif
