/* test-repl.c - the interactive prompt driven through a pseudo-terminal:
 * completion, history across runs, Ctrl-C at the prompt and during a demo,
 * Ctrl-D. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
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

static void exec_tutor(void)
{
    setenv("TERM", "xterm", 1);
    setenv("NO_COLOR", "1", 1);
    setenv("PAGER", "cat", 1);
    setenv("XDG_STATE_HOME", state_dir, 1);
    unsetenv("COLUMNS");
    signal(SIGINT, SIG_DFL);
    signal(SIGTTOU, SIG_DFL);
    execl(ct_test_binary(), ct_test_binary(), (char *)NULL);
    _exit(127);
}

/* A very small job-control shell in the session of the pty: the tutor runs
 * as its foreground job; when the job stops, the shell says "[stopped]",
 * waits a moment (the test looks at the terminal meanwhile) and continues
 * it in the foreground, as `fg` would.  Exits with the job's status. */
static _Noreturn void job_shell(void)
{
    signal(SIGTTOU, SIG_IGN);
    pid_t job = fork();
    if (job == 0) {
        setpgid(0, 0);
        tcsetpgrp(STDIN_FILENO, getpid());
        exec_tutor();
    }
    setpgid(job, job);
    tcsetpgrp(STDIN_FILENO, job);
    for (;;) {
        int st;
        if (waitpid(job, &st, WUNTRACED) < 0)
            _exit(126);
        if (WIFSTOPPED(st)) {
            ssize_t n = write(STDOUT_FILENO, "[stopped]\n", 10);
            (void)n;
            struct timespec ts = { 0, 300 * 1000000L };
            nanosleep(&ts, NULL);
            tcsetpgrp(STDIN_FILENO, job);
            kill(-job, SIGCONT);
            continue;
        }
        _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    }
}

static void pty_start_at(struct pty *t, int cols, bool with_shell)
{
    struct winsize ws = { .ws_row = 40, .ws_col = (unsigned short)cols };
    memset(t, 0, sizeof *t);
    t->seen = calloc(1, 1);
    t->pid = forkpty(&t->fd, NULL, NULL, &ws);
    assert_true(t->pid >= 0);
    if (t->pid == 0) {
        if (with_shell)
            job_shell();
        exec_tutor();
    }
}

static void pty_start(struct pty *t)
{
    pty_start_at(t, 100, false);
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
            fail_msg("waited %.0f ms for \"%s\"; the terminal ended with:\n%s", timeout_ms,
                     want, t->len - t->mark > 600 ? t->seen + t->len - 600 : t->seen + t->mark);
        struct pollfd p = { t->fd, POLLIN, 0 };
        if (poll(&p, 1, (int)left + 1) > 0) {
            char buf[4096];
            ssize_t n = read(t->fd, buf, sizeof buf);
            if (n <= 0)
                fail_msg("the program closed the terminal while we waited for \"%s\":\n%s",
                         want, t->seen + t->mark);
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
        }
    }
}

/* Wait for the prompt, and for libedit to have put the terminal in raw
 * mode: libedit prints the prompt a moment before it switches, and keys
 * sent in between are read in cooked mode (echoed twice; a Ctrl-D there is
 * lost).  On Linux the master side reads the slave's termios. */
static void wait_raw(struct pty *t)
{
    double deadline = now_ms() + 5000;
    struct termios tio;
    while (tcgetattr(t->fd, &tio) == 0 && (tio.c_lflag & ICANON)) {
        if (now_ms() > deadline)
            fail_msg("the terminal never left canonical mode at the prompt");
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
}

static void at_prompt(struct pty *t)
{
    expect(t, "concur> ", 5000);
    wait_raw(t);
}

static void send_keys(struct pty *t, const char *keys)
{
    size_t n = strlen(keys);
    assert_int_equal(write(t->fd, keys, n), (ssize_t)n);
}

/* Is the terminal back in its ordinary mode (line editing and echo on)? */
static bool terminal_cooked(struct pty *t)
{
    struct termios tio;
    assert_int_equal(tcgetattr(t->fd, &tio), 0);
    return (tio.c_lflag & ICANON) && (tio.c_lflag & ECHO);
}

/* Wait for the program to exit without closing the terminal; its status. */
static int pty_wait_exit(struct pty *t)
{
    int status = -1;
    double deadline = now_ms() + 10000;
    char buf[4096];
    while (waitpid(t->pid, &status, WNOHANG) != t->pid) {
        if (now_ms() > deadline) {
            kill(t->pid, SIGKILL);
            waitpid(t->pid, &status, 0);
            fail_msg("the program did not exit");
        }
        struct pollfd p = { t->fd, POLLIN, 0 };
        if (poll(&p, 1, 20) > 0)
            (void)!read(t->fd, buf, sizeof buf);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
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
        /* cmocka cuts long messages: show the end, where the trouble is */
        fail_msg("the program did not exit; the terminal ended with:\n%s",
                 t->len > 600 ? t->seen + t->len - 600 : t->seen);
    }
    close(t->fd);
    free(t->seen);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_start_and_ctrl_d(void **state)
{
    (void)state;
    struct pty t;
    pty_start(&t);
    expect(&t, "TAB completes", 5000);
    at_prompt(&t);
    /* the banner fits 80 columns (the terminal is 100 wide) */
    for (const char *l = t.seen; l < t.seen + t.mark;) {
        size_t n = strcspn(l, "\n");
        if (n > 80)
            fail_msg("a banner line of %zu columns: \"%.*s\"", n, (int)n, l);
        l += n + (l[n] == '\n');
    }
    send_keys(&t, "list 1\r");
    expect(&t, "Introduction", 5000);
    at_prompt(&t);
    send_keys(&t, "\x04");      /* Ctrl-D on an empty line */
    assert_int_equal(pty_finish(&t), 0);
}

static void test_completion(void **state)
{
    (void)state;
    struct pty t;
    pty_start(&t);
    at_prompt(&t);
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
    at_prompt(&t);
    /* several candidates are listed, in columns (down, then across) */
    send_keys(&t, "run race \t");
    expect(&t, "threads=", 5000);
    expect(&t, "--json", 5000);
    expect(&t, "iters=", 5000);
    at_prompt(&t);
    send_keys(&t, "\x15quit\r");
    assert_int_equal(pty_finish(&t), 0);
}

static void test_history_kept(void **state)
{
    (void)state;
    struct pty t;
    pty_start(&t);
    at_prompt(&t);
    send_keys(&t, "help show\r");
    expect(&t, "usage: show", 5000);
    at_prompt(&t);
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
    at_prompt(&t);
    send_keys(&t, "\033[A");
    expect(&t, "exit", 5000);   /* the most recent line */
    send_keys(&t, "\033[A");
    expect(&t, "help show", 5000);
    send_keys(&t, "\r");
    expect(&t, "usage: show", 5000);
    at_prompt(&t);
    send_keys(&t, "quit\r");
    assert_int_equal(pty_finish(&t), 0);
}

static void test_ctrl_c_at_prompt(void **state)
{
    (void)state;
    struct pty t;
    pty_start(&t);
    at_prompt(&t);
    send_keys(&t, "bogus-command");
    expect(&t, "bogus-command", 5000);
    send_keys(&t, "\x03");      /* Ctrl-C: drop the line */
    at_prompt(&t);
    send_keys(&t, "list 1\r");
    expect(&t, "Introduction", 5000);
    at_prompt(&t);
    assert_null(strstr(t.seen, "unknown command"));
    send_keys(&t, "quit\r");
    assert_int_equal(pty_finish(&t), 0);
}

static void test_ctrl_c_cancels_demo(void **state)
{
    (void)state;
    struct pty t;
    pty_start(&t);
    at_prompt(&t);
    send_keys(&t, "run race threads=2 iters=100000000\r");
    expect(&t, "-- racy", 10000);
    double sent = now_ms();
    send_keys(&t, "\x03");
    expect(&t, "Cancelled after", 5000);
    /* the cancel line starts a line of its own: no "^C" echoed in front */
    const char *cancel = strstr(t.seen, "Ctrl-C: cancelling");
    assert_non_null(cancel);
    const char *bol = cancel;
    while (bol > t.seen && bol[-1] != '\n')
        bol--;
    if (*bol != '[')
        fail_msg("the cancel line does not start with its time stamp: \"%.*s\"",
                 (int)(cancel - bol) + 18, bol);
    at_prompt(&t);
    assert_true(now_ms() - sent < 5000);
    /* the tutor is still alive and well */
    send_keys(&t, "list 1\r");
    expect(&t, "Introduction", 5000);
    /* keys typed before the prompt is back may be read in cooked mode */
    at_prompt(&t);
    send_keys(&t, "\x04");
    assert_int_equal(pty_finish(&t), 0);
}

/* SIGTERM, SIGHUP or SIGQUIT at the prompt: the tutor dies of the signal
 * and leaves the terminal as it found it. */
static void test_fatal_signals_restore_terminal(void **state)
{
    (void)state;
    static const int sigs[] = { SIGTERM, SIGHUP, SIGQUIT };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct pty t;
        pty_start(&t);
        at_prompt(&t);
        send_keys(&t, "lis");
        expect(&t, "lis", 5000);
        assert_false(terminal_cooked(&t));      /* raw while editing */
        kill(t.pid, sigs[i]);
        assert_int_equal(pty_wait_exit(&t), 128 + sigs[i]);
        if (!terminal_cooked(&t))
            fail_msg("signal %d left the terminal raw", sigs[i]);
        close(t.fd);
        free(t.seen);
    }
}

/* SIGTERM while a demo runs: the demo stops as on Ctrl-C, says so, and the
 * tutor exits with 128 + SIGTERM, the terminal restored. */
static void test_sigterm_during_demo(void **state)
{
    (void)state;
    struct pty t;
    pty_start(&t);
    at_prompt(&t);
    send_keys(&t, "run race threads=2 iters=100000000\r");
    expect(&t, "-- racy", 10000);
    kill(t.pid, SIGTERM);
    expect(&t, "Cancelled after", 5000);
    expect(&t, "Stopped by SIGTERM", 5000);
    assert_int_equal(pty_wait_exit(&t), 128 + SIGTERM);
    assert_true(terminal_cooked(&t));
    close(t.fd);
    free(t.seen);
}

/* Ctrl-Z, then fg: the terminal is given back while stopped, and taken
 * again after, with the prompt and the half-typed line redrawn and
 * completion working. */
static void test_ctrl_z_and_fg(void **state)
{
    (void)state;
    struct pty t;
    pty_start_at(&t, 100, true);
    at_prompt(&t);
    send_keys(&t, "list");
    expect(&t, "list", 5000);
    send_keys(&t, "\x1a");                      /* Ctrl-Z */
    expect(&t, "[stopped]", 5000);
    assert_true(terminal_cooked(&t));           /* given back while stopped */
    expect(&t, "concur> list", 5000);           /* redrawn after fg */
    wait_raw(&t);
    send_keys(&t, " 1\r");                      /* the line was kept */
    expect(&t, "Introduction", 5000);
    at_prompt(&t);
    send_keys(&t, "he\t");
    expect(&t, "help ", 5000);
    send_keys(&t, "\x15quit\r");
    assert_int_equal(pty_finish(&t), 0);
}

/* A resize while editing: the line is laid out again and what was typed
 * is what runs. */
static void test_resize(void **state)
{
    (void)state;
#if defined(__SANITIZE_THREAD__)
    /* TSan runs a signal's handler at its own later moment, and now and
     * then not at all (google/sanitizers#1855); the front end is single-
     * threaded, so the plain and ASan suites test this */
    skip();
#endif
    struct pty t;
    pty_start_at(&t, 120, false);
    at_prompt(&t);
    struct winsize ws = { .ws_row = 40, .ws_col = 50 };
    assert_int_equal(ioctl(t.fd, TIOCSWINSZ, &ws), 0);
    /* the REPL redraws its line once it has taken the resize in; keys
     * typed before that may be laid out for the old width (under TSan a
     * signal's handler can run after the next read) */
    expect(&t, "concur> ", 5000);
    /* 70 characters on a 50-column terminal, then an edit at the start */
    send_keys(&t, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    /* libedit wraps at the margin it knows of with " \b": at 50 columns,
     * which it only knows if it was told of the resize */
    expect(&t, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx \b", 5000);
    send_keys(&t, "\x01y\r");                  /* Ctrl-A, y, Enter */
    /* the message wraps at 50 columns: the long name goes on a line of its own */
    expect(&t, "unknown command", 5000);
    expect(&t, "'yxxxx", 5000);
    at_prompt(&t);
    send_keys(&t, "quit\r");
    assert_int_equal(pty_finish(&t), 0);
}

/* Invalid UTF-8 never eats the byte after it, Enter least of all. */
static void test_invalid_utf8(void **state)
{
    (void)state;
    struct pty t;
    pty_start(&t);
    at_prompt(&t);
    send_keys(&t, "show caf\xe9\r");
    expect(&t, "unknown lesson or demo", 5000);
    at_prompt(&t);
    send_keys(&t, "help\xe9 race\r");            /* the space survives */
    expect(&t, "unknown command", 5000);
    at_prompt(&t);
    send_keys(&t, "list 1\r");                  /* not merged with the above */
    expect(&t, "Introduction", 5000);
    at_prompt(&t);
    send_keys(&t, "quit\r");
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
        cmocka_unit_test(test_fatal_signals_restore_terminal),
        cmocka_unit_test(test_sigterm_during_demo),
        cmocka_unit_test(test_ctrl_z_and_fg),
        cmocka_unit_test(test_resize),
        cmocka_unit_test(test_invalid_utf8),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
