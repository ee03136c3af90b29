/* ptys.c - see ptys.h. */
#include "ptys.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void pty_start(struct pty *t, int rows, int cols, const char *const *argv,
               const char *const *env)
{
    struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
    memset(t, 0, sizeof *t);
    t->seen = calloc(1, 1);
    t->raw = calloc(1, 1);
    t->pid = forkpty(&t->fd, NULL, NULL, &ws);
    assert_true(t->pid >= 0);
    if (t->pid == 0) {
        setenv("TERM", "xterm", 1);
        setenv("NO_COLOR", "1", 1);
        setenv("PAGER", "cat", 1);
        setenv("LC_ALL", "C", 1);       /* ASCII rules and separators */
        unsetenv("COLUMNS");
        unsetenv("LINES");
        for (const char *const *e = env; e && *e; e++)
            putenv((char *)*e);
        signal(SIGINT, SIG_DFL);
        const char *args[64];
        int n = 0;
        args[n++] = ct_test_binary();
        for (int i = 1; argv && argv[i] && n < 63; i++)
            args[n++] = argv[i];
        args[n] = NULL;
        execv(args[0], (char *const *)args);
        _exit(127);
    }
}

/* Read once (waiting up to ms); false when the terminal is closed. */
static bool read_some(struct pty *t, double ms)
{
    struct pollfd p = { t->fd, POLLIN, 0 };
    if (poll(&p, 1, (int)ms + 1) <= 0)
        return true;
    char buf[4096];
    ssize_t n = read(t->fd, buf, sizeof buf);
    if (n <= 0)
        return false;
    char *r = realloc(t->raw, t->raw_len + (size_t)n + 1);
    char *s = realloc(t->seen, t->len + (size_t)n + 1);
    assert_non_null(r);
    assert_non_null(s);
    t->raw = r;
    t->seen = s;
    memcpy(r + t->raw_len, buf, (size_t)n);
    t->raw_len += (size_t)n;
    r[t->raw_len] = '\0';
    for (ssize_t i = 0; i < n; i++) {
        char c = buf[i];
        if (t->esc == 1) {
            t->esc = c == '[' ? 2 : 0;
        } else if (t->esc == 2) {
            if (c >= 0x40 && c <= 0x7e)
                t->esc = 0;
        } else if (c == '\033') {
            t->esc = 1;
        } else if (c != '\r') {
            s[t->len++] = c;
        }
    }
    s[t->len] = '\0';
    return true;
}

void pty_expect(struct pty *t, const char *want, double timeout_ms)
{
    double deadline = now_ms() + timeout_ms;
    for (;;) {
        char *hit = strstr(t->seen + t->mark, want);
        if (hit) {
            t->mark = (size_t)(hit - t->seen) + strlen(want);
            return;
        }
        double left = deadline - now_ms();
        if (left <= 0)
            fail_msg("waited %.0f ms for \"%s\"; the terminal ended with:\n%s", timeout_ms,
                     want, t->len - t->mark > 800 ? t->seen + t->len - 800 : t->seen + t->mark);
        if (!read_some(t, left))
            fail_msg("the program closed the terminal while we waited for \"%s\":\n%s", want,
                     t->len - t->mark > 800 ? t->seen + t->len - 800 : t->seen + t->mark);
    }
}

void pty_drain(struct pty *t, double ms)
{
    double deadline = now_ms() + ms;
    while (now_ms() < deadline && read_some(t, deadline - now_ms()))
        ;
}

void pty_send(struct pty *t, const char *keys)
{
    size_t n = strlen(keys);
    assert_int_equal(write(t->fd, keys, n), (ssize_t)n);
}

void pty_wait_keys(struct pty *t)
{
    double deadline = now_ms() + 5000;
    struct termios tio;
    while (tcgetattr(t->fd, &tio) == 0 && (tio.c_lflag & ICANON)) {
        if (now_ms() > deadline)
            fail_msg("the terminal never left canonical mode");
        read_some(t, 1);
    }
}

bool pty_cooked(struct pty *t)
{
    struct termios tio;
    assert_int_equal(tcgetattr(t->fd, &tio), 0);
    return (tio.c_lflag & ICANON) && (tio.c_lflag & ECHO);
}

bool pty_cursor_shown(const struct pty *t)
{
    const char *hide = NULL, *show = NULL;
    for (const char *p = t->raw; (p = strstr(p, "\033[?25")); p++) {
        if (p[5] == 'l')
            hide = p;
        else if (p[5] == 'h')
            show = p;
    }
    return !hide || (show && show > hide);
}

void pty_resize(struct pty *t, int rows, int cols)
{
    struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
    assert_int_equal(ioctl(t->fd, TIOCSWINSZ, &ws), 0);
}

int pty_wait(struct pty *t)
{
    int status = -1;
    double deadline = now_ms() + 15000;
    while (waitpid(t->pid, &status, WNOHANG) != t->pid) {
        if (now_ms() > deadline) {
            kill(t->pid, SIGKILL);
            waitpid(t->pid, &status, 0);
            return -1;
        }
        read_some(t, 20);
    }
    pty_drain(t, 50);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void pty_close(struct pty *t)
{
    int status;
    if (waitpid(t->pid, &status, WNOHANG) == 0) {
        kill(t->pid, SIGKILL);
        waitpid(t->pid, &status, 0);
    }
    close(t->fd);
    free(t->seen);
    free(t->raw);
    memset(t, 0, sizeof *t);
}

int pty_screen_lines(const struct pty *t, char ***lines)
{
    const char *from = t->raw;
    for (const char *p = t->raw; (p = strstr(p, "\033[2J")); p++)
        from = p + 4;
    char *text = malloc(strlen(from) + 1);
    size_t o = 0;
    int esc = 0;
    for (const char *p = from; text && *p; p++) {
        if (esc == 1) {
            esc = *p == '[' ? 2 : 0;
        } else if (esc == 2) {
            if (*p >= 0x40 && *p <= 0x7e) {
                /* a cursor move to a row of its own starts a new line */
                if (*p == 'H' && o > 0 && text[o - 1] != '\n')
                    text[o++] = '\n';
                esc = 0;
            }
        } else if (*p == '\033') {
            esc = 1;
        } else if (*p != '\r') {
            text[o++] = *p;
        }
    }
    if (!text)
        return 0;
    text[o] = '\0';
    int n = 1;
    for (size_t i = 0; i < o; i++)
        n += text[i] == '\n';
    *lines = calloc((size_t)n + 1, sizeof **lines);
    int k = 0;
    (*lines)[k++] = text;
    for (size_t i = 0; i < o; i++) {
        if (text[i] == '\n') {
            text[i] = '\0';
            (*lines)[k++] = text + i + 1;
        }
    }
    return k;
}
