/* test-repl.c - the interactive prompt driven through a pseudo-terminal:
 * completion, history across runs, Ctrl-C at the prompt and during a demo,
 * Ctrl-D. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
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
    size_t len, mark;   /* mark: where the next expect starts looking */
    int esc;            /* inside an escape sequence: 1 after ESC, 2 in CSI */
};

static char *state_dir;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void pty_start(struct pty *t)
{
    struct winsize ws = { .ws_row = 40, .ws_col = 100 };
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

/* Read what the program wrote within `ms` milliseconds into t->seen;
 * false if it closed the terminal. */
static bool pump(struct pty *t, int ms)
{
    struct pollfd p = { t->fd, POLLIN, 0 };
    if (poll(&p, 1, ms) <= 0)
        return true;
    char buf[4096];
    ssize_t n = read(t->fd, buf, sizeof buf);
    if (n <= 0)
        return false;
    char *s = realloc(t->seen, t->len + (size_t)n + 1);
    assert_non_null(s);
    t->seen = s;
    /* libedit redraws with cursor movements ("li" ESC[11G "st "):
     * drop escape sequences so that what is matched is the text */
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

/* Read until `want` appears after the mark (then move the mark past it),
 * or fail after `timeout_ms`. */
static void expect(struct pty *t, const char *want, double timeout_ms)
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
            fail_msg("waited %.0f ms for \"%s\"; the terminal showed:\n%s", timeout_ms, want,
                     t->seen + t->mark);
        if (!pump(t, (int)left + 1))
            fail_msg("the program closed the terminal while we waited for \"%s\":\n%s",
                     want, t->seen + t->mark);
    }
}

static void send_keys(struct pty *t, const char *keys)
{
    size_t n = strlen(keys);
    assert_int_equal(write(t->fd, keys, n), (ssize_t)n);
}

/* Wait for the program to exit; its exit status. */
static int pty_finish(struct pty *t)
{
    int status = -1;
    double deadline = now_ms() + 10000;
    char buf[4096];
    while (now_ms() < deadline) {
        if (waitpid(t->pid, &status, WNOHANG) == t->pid)
            break;
        struct pollfd p = { t->fd, POLLIN, 0 };
        if (poll(&p, 1, 20) > 0 && read(t->fd, buf, sizeof buf) <= 0) {
            waitpid(t->pid, &status, 0);
            break;
        }
    }
    if (waitpid(t->pid, &status, WNOHANG) == 0) {
        kill(t->pid, SIGKILL);
        waitpid(t->pid, &status, 0);
        fail_msg("the program did not exit; it showed:\n%s", t->seen);
    }
    close(t->fd);
    free(t->seen);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#define PROMPT "concur> "

/* Wait for the prompt, then until the line editor has the terminal in raw
 * mode.  libedit 3.1-20221030 writes the prompt before it switches the tty
 * out of canonical mode, so keys sent the moment the prompt shows would be
 * handled by the cooked tty: ^C turns into a signal before libedit reads,
 * ^D into a canonical end-of-file that the mode switch discards.  On a pty
 * master, TCGETS reports the slave's settings. */
static void expect_prompt(struct pty *t, double timeout_ms)
{
    expect(t, PROMPT, timeout_ms);
    double deadline = now_ms() + timeout_ms;
    for (;;) {
        struct termios tio;
        assert_int_equal(tcgetattr(t->fd, &tio), 0);
        if (!(tio.c_lflag & ICANON))
            return;
        if (now_ms() > deadline)
            fail_msg("the prompt showed but the terminal stayed in canonical mode:\n%s",
                     t->seen + t->mark);
        if (!pump(t, 1))
            fail_msg("the program closed the terminal after its prompt:\n%s",
                     t->seen + t->mark);
    }
}

static void test_start_and_ctrl_d(void **state)
{
    (void)state;
    struct pty t;
    pty_start(&t);
    expect(&t, "TAB completes", 5000);
    expect_prompt(&t, 5000);
    send_keys(&t, "list 1\r");
    expect(&t, "Introduction", 5000);
    expect_prompt(&t, 5000);
    send_keys(&t, "\x04");      /* Ctrl-D on an empty line */
    assert_int_equal(pty_finish(&t), 0);
}

static void test_completion(void **state)
{
    (void)state;
    struct pty t;
    pty_start(&t);
    expect_prompt(&t, 5000);
    /* a unique command completes and gets its space */
    send_keys(&t, "li\t");
    expect(&t, "list ", 5000);
    send_keys(&t, "\x15");      /* Ctrl-U: kill the line */
    /* a demo name, then a parameter name that waits for its value */
    send_keys(&t, "run rac\t");
    expect(&t, "race ", 5000);
    send_keys(&t, "thr\t");
    expect(&t, "threads=", 5000);
    send_keys(&t, "2 ite\t");
    expect(&t, "iters=", 5000);
    send_keys(&t, "500 variants=at\t");
    expect(&t, "variants=atomic", 5000);
    send_keys(&t, "\r");
    expect(&t, "Summary (wall time", 10000);
    expect_prompt(&t, 5000);
    /* several candidates are listed */
    send_keys(&t, "run race \t");
    expect(&t, "threads=", 5000);
    expect(&t, "iters=", 5000);
    expect(&t, "--json", 5000);
    expect_prompt(&t, 5000);
    send_keys(&t, "\x15quit\r");
    assert_int_equal(pty_finish(&t), 0);
}

static void test_history_kept(void **state)
{
    (void)state;
    struct pty t;
    pty_start(&t);
    expect_prompt(&t, 5000);
    send_keys(&t, "help show\r");
    expect(&t, "usage: show", 5000);
    expect_prompt(&t, 5000);
    send_keys(&t, "exit\r");
    assert_int_equal(pty_finish(&t), 0);

    char path[512];
    snprintf(path, sizeof path, "%s/concur-tutor/history", state_dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char buf[4096] = { 0 };
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_non_null(strstr(buf, "help"));

    /* a new session recalls it with the up arrow */
    pty_start(&t);
    expect_prompt(&t, 5000);
    send_keys(&t, "\033[A");
    expect(&t, "exit", 5000);   /* the most recent line */
    send_keys(&t, "\033[A");
    expect(&t, "help show", 5000);
    send_keys(&t, "\r");
    expect(&t, "usage: show", 5000);
    expect_prompt(&t, 5000);
    send_keys(&t, "quit\r");
    assert_int_equal(pty_finish(&t), 0);
}

static void test_ctrl_c_at_prompt(void **state)
{
    (void)state;
    struct pty t;
    pty_start(&t);
    expect_prompt(&t, 5000);
    send_keys(&t, "bogus-command");
    expect(&t, "bogus-command", 5000);
    send_keys(&t, "\x03");      /* Ctrl-C: drop the line */
    expect_prompt(&t, 5000);
    send_keys(&t, "list 1\r");
    expect(&t, "Introduction", 5000);
    expect_prompt(&t, 5000);
    assert_null(strstr(t.seen, "unknown command"));
    send_keys(&t, "quit\r");
    assert_int_equal(pty_finish(&t), 0);
}

static void test_ctrl_c_cancels_demo(void **state)
{
    (void)state;
    struct pty t;
    pty_start(&t);
    expect_prompt(&t, 5000);
    send_keys(&t, "run race threads=2 iters=100000000\r");
    expect(&t, "-- racy", 10000);
    double sent = now_ms();
    send_keys(&t, "\x03");
    expect(&t, "Cancelled after", 5000);
    expect_prompt(&t, 5000);
    assert_true(now_ms() - sent < 5000);
    /* the tutor is still alive and well */
    send_keys(&t, "list 1\r");
    expect(&t, "Introduction", 5000);
    /* keys typed before the prompt is back may be read in cooked mode */
    expect_prompt(&t, 5000);
    send_keys(&t, "\x04");
    assert_int_equal(pty_finish(&t), 0);
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
        cmocka_unit_test(test_start_and_ctrl_d),
        cmocka_unit_test(test_completion),
        cmocka_unit_test(test_history_kept),
        cmocka_unit_test(test_ctrl_c_at_prompt),
        cmocka_unit_test(test_ctrl_c_cancels_demo),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
