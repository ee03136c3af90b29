/* test-explore-tty.c - explore's by-hand mode on a pseudo-terminal of 80x24:
 * breaking lost-update key by key, undo, a deadlock and its wait-for
 * cycle, and the terminal given back in its old mode on every way out
 * (q, Ctrl-C, Ctrl-D, SIGTERM), also when started from the prompt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

struct pty {
    int fd;
    pid_t pid;
    char *seen;         /* everything read so far, escape sequences removed */
    size_t len, mark;
    int esc;
};

static char *state_dir;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Start the program on a new 80x24 terminal with `args` (NULL: none). */
static void pty_start(struct pty *t, const char *a1, const char *a2)
{
    struct winsize ws = { .ws_row = 24, .ws_col = 80 };
    memset(t, 0, sizeof *t);
    t->seen = calloc(1, 1);
    t->pid = forkpty(&t->fd, NULL, NULL, &ws);
    assert_true(t->pid >= 0);
    if (t->pid == 0) {
        setenv("TERM", "xterm", 1);
        setenv("NO_COLOR", "1", 1);
        setenv("XDG_STATE_HOME", state_dir, 1);
        unsetenv("COLUMNS");
        signal(SIGINT, SIG_DFL);
        execl(ct_test_binary(), ct_test_binary(), a1, a2, (char *)NULL);
        _exit(127);
    }
}

static void pty_read(struct pty *t, int timeout_ms)
{
    struct pollfd p = { t->fd, POLLIN, 0 };
    if (poll(&p, 1, timeout_ms) <= 0)
        return;
    char buf[4096];
    ssize_t n = read(t->fd, buf, sizeof buf);
    if (n <= 0)
        return;
    char *s = realloc(t->seen, t->len + (size_t)n + 1);
    assert_non_null(s);
    t->seen = s;
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
}

/* Read until `want` appears after the mark, then move the mark past it. */
static void expect(struct pty *t, const char *want)
{
    double deadline = now_ms() + 10000;
    for (;;) {
        char *hit = strstr(t->seen + t->mark, want);
        if (hit) {
            t->mark = (size_t)(hit - t->seen) + strlen(want);
            return;
        }
        if (now_ms() > deadline)
            fail_msg("waited for \"%s\"; the terminal ended with:\n%s", want,
                     t->len - t->mark > 600 ? t->seen + t->len - 600 : t->seen + t->mark);
        pty_read(t, 50);
    }
}

/* Wait until the terminal is in raw mode (canonical mode off): keys sent
 * before that would wait for a newline.  The master reads the slave's
 * termios. */
static void raw_mode(struct pty *t)
{
    double deadline = now_ms() + 10000;
    struct termios tio;
    while (tcgetattr(t->fd, &tio) == 0 && (tio.c_lflag & ICANON)) {
        if (now_ms() > deadline)
            fail_msg("the terminal never left canonical mode");
        pty_read(t, 1);
    }
}

/* Whether the terminal is back in canonical mode with echo. */
static bool cooked(const struct pty *t)
{
    struct termios tio;
    return tcgetattr(t->fd, &tio) == 0 && (tio.c_lflag & ICANON) && (tio.c_lflag & ECHO);
}

static void send_keys(struct pty *t, const char *keys)
{
    size_t n = strlen(keys);
    assert_int_equal(write(t->fd, keys, n), (ssize_t)n);
}

/* Wait for the program to exit; its exit status (128 + signal if killed).
 * The terminal's mode is checked before the master is closed. */
static int pty_finish(struct pty *t, bool *was_cooked)
{
    int status = -1;
    double deadline = now_ms() + 10000;
    while (now_ms() < deadline) {
        if (waitpid(t->pid, &status, WNOHANG) == t->pid)
            break;
        pty_read(t, 20);
    }
    if (waitpid(t->pid, &status, WNOHANG) == 0) {
        kill(t->pid, SIGKILL);
        waitpid(t->pid, &status, 0);
        fail_msg("the program did not exit; the terminal ended with:\n%s",
                 t->len > 600 ? t->seen + t->len - 600 : t->seen);
    }
    if (was_cooked)
        *was_cooked = cooked(t);
    close(t->fd);
    free(t->seen);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_break_lost_update(void **state)
{
    (void)state;
    struct pty t;
    bool ok;
    pty_start(&t, "explore", "lost-update");
    expect(&t, "goal: make an update get lost");
    raw_mode(&t);
    send_keys(&t, "0");
    expect(&t, "step 1: t0 load counter -> 0");
    send_keys(&t, "1");
    expect(&t, "step 2: t1 load counter -> 0");
    send_keys(&t, "0");
    expect(&t, "step 3: t0 store counter=1");
    send_keys(&t, "n");         /* t0 has finished: n goes to t1 */
    expect(&t, "step 4: t1 store counter=1");
    expect(&t, "BROKEN: counter is 1 after 2 increments: 1 lost");
    expect(&t, "replay it: explore lost-update schedule=0,1,0,1");
    send_keys(&t, "u");
    expect(&t, "undone: back to step 3");
    send_keys(&t, "0");
    expect(&t, "thread 0 (t0) cannot step: it has finished");
    send_keys(&t, "7");
    expect(&t, "there is no thread 7 here: pick 0..1");
    send_keys(&t, "1");
    expect(&t, "BROKEN");
    send_keys(&t, "q");
    assert_int_equal(pty_finish(&t, &ok), 0);
    assert_true(ok);
}

static void test_deadlock_and_ctrl_c(void **state)
{
    (void)state;
    struct pty t;
    bool ok;
    pty_start(&t, "explore", "deadlock");
    expect(&t, "goal: make every thread wait forever");
    raw_mode(&t);
    send_keys(&t, "0");
    expect(&t, "step 1: t0 lock a");
    send_keys(&t, "1");
    expect(&t, "DEADLOCK: every thread that has not finished is blocked");
    expect(&t, "t0 holds a, waits for b (held by t1)");
    expect(&t, "t1 holds b, waits for a (held by t0)");
    expect(&t, "cycle: t0 -> t1 -> t0");
    send_keys(&t, "0");
    expect(&t, "the run is over");
    send_keys(&t, "\x03");      /* Ctrl-C leaves */
    assert_int_equal(pty_finish(&t, &ok), 0);
    assert_true(ok);
}

static void test_ctrl_d_and_sigterm(void **state)
{
    (void)state;
    struct pty t;
    bool ok;
    pty_start(&t, "explore", "store-buffering");
    expect(&t, "goal: make both threads read 0");
    raw_mode(&t);
    send_keys(&t, "\x04");
    assert_int_equal(pty_finish(&t, &ok), 0);
    assert_true(ok);

    pty_start(&t, "explore", "aba");
    expect(&t, "goal: stop t0 before its cas");
    raw_mode(&t);
    send_keys(&t, "0");
    expect(&t, "step 1: t0 load top -> 1");
    kill(t.pid, SIGTERM);
    assert_int_equal(pty_finish(&t, &ok), 128 + SIGTERM);
    assert_true(ok);            /* restored before dying */
}

/* From the prompt: the by-hand screen, then the prompt again. */
static void test_from_the_prompt(void **state)
{
    (void)state;
    struct pty t;
    pty_start(&t, NULL, NULL);
    expect(&t, "concur> ");
    raw_mode(&t);               /* libedit's */
    send_keys(&t, "explore lost-wakeup\r");
    expect(&t, "goal: wake the waiter too early");
    raw_mode(&t);               /* explore's, set before it draws */
    send_keys(&t, "1");
    expect(&t, "step 1: notifier signal cv (nobody waits: lost)");
    send_keys(&t, "q");
    expect(&t, "concur> ");
    raw_mode(&t);
    send_keys(&t, "quit\r");
    assert_int_equal(pty_finish(&t, NULL), 0);
}

static int setup(void **state)
{
    (void)state;
    state_dir = ct_tmpdir();
    return state_dir ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ct_tmpdir_remove(state_dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_break_lost_update),
        cmocka_unit_test(test_deadlock_and_ctrl_c),
        cmocka_unit_test(test_ctrl_d_and_sigterm),
        cmocka_unit_test(test_from_the_prompt),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
