/* test-robust.c - the program at its edges, as a hostile or unlucky user
 * would meet them: closed or full standard streams, FIFOs and devices
 * where files are expected, failing pagers, signals from outside, odd
 * numbers, control characters and huge arguments, broken lesson files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static char *tmp;

/* Run the tutor with `args` (its path is added), "NAME=value" entries in
 * env, and the standard fds closed or pointed where `fds` says: for each
 * of 0, 1, 2: 'c' closed, 'f' /dev/full, 'n' /dev/null, '-' as is.
 * Returns the exit status (128 + signal when killed). */
static int run_with_fds(const char *const *args, const char *const *env, const char fds[3])
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        const char *argv[40] = { ct_test_binary() };
        int n = 1;
        for (const char *const *a = args; *a && n < 39; a++)
            argv[n++] = *a;
        argv[n] = NULL;
        for (const char *const *e = env; e && *e; e++)
            putenv((char *)*e);
        for (int fd = 0; fd < 3; fd++) {
            if (fds[fd] == 'c') {
                close(fd);
            } else if (fds[fd] == 'f' || fds[fd] == 'n') {
                int f = open(fds[fd] == 'f' ? "/dev/full" : "/dev/null", fd ? O_WRONLY : O_RDONLY);
                dup2(f, fd);
                close(f);
            }
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Run the tutor on a pseudo-terminal (so that it pages and colours as on
 * a real one); the output in *out (caller frees), the exit status. */
static int run_on_pty(const char *const *args, const char *const *env, char **out)
{
    int fd;
    struct winsize ws = { .ws_row = 24, .ws_col = 80 };
    pid_t pid = forkpty(&fd, NULL, NULL, &ws);
    assert_true(pid >= 0);
    if (pid == 0) {
        const char *argv[40] = { ct_test_binary() };
        int n = 1;
        for (const char *const *a = args; *a && n < 39; a++)
            argv[n++] = *a;
        argv[n] = NULL;
        unsetenv("NO_COLOR");
        setenv("TERM", "xterm", 1);
        for (const char *const *e = env; e && *e; e++)
            putenv((char *)*e);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    size_t len = 0;
    char *buf = calloc(1, 1);
    char chunk[4096];
    for (;;) {
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, 20000) <= 0)
            break;
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n <= 0)
            break;
        buf = realloc(buf, len + (size_t)n + 1);
        memcpy(buf + len, chunk, (size_t)n);
        len += (size_t)n;
        buf[len] = '\0';
    }
    close(fd);
    int status;
    waitpid(pid, &status, 0);
    *out = buf;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void write_file(const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A fresh lesson directory holding one file with `text`. */
static char *lesson_dir(const char *text)
{
    char *dir = ct_tmpdir();
    char path[1024];
    snprintf(path, sizeof path, "%s/01-test.md", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return dir;
}

static const char *const HEADER =
    "::: chapter 1\ntitle: Test\n:::\n::: lesson one\ntitle: One\nsummary: S\n"
    "demos: race\n:::\n";

/* ---- standard streams --------------------------------------------------- */

/* Every command that writes reports a full disk, --version included. */
static void test_full_stdout(void **state)
{
    (void)state;
    const char *const *cmds[] = {
        ARGS("--version"), ARGS("--help"), ARGS("help"), ARGS("help", "run"), ARGS("list"),
        ARGS("list", "--json"), ARGS("show", "intro"), ARGS("run", "race", "iters=100"),
        ARGS("run", "race", "iters=100", "--json"), ARGS("__man"),
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        int st = run_with_fds(cmds[i], ARGS("PAGER=cat"), "-f-");
        if (st != 1)
            fail_msg("'%s' with stdout on /dev/full: exit %d, wanted 1", cmds[i][0], st);
    }
}

/* Started with a standard fd closed, nothing internal takes its number:
 * the poisoning demo's memfd used to land on fd 1. */
static void test_closed_standard_fds(void **state)
{
    (void)state;
    static const char *const cases[] = { "-c-", "c--", "--c", "ccc" };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int st = run_with_fds(ARGS("run", "poisoning"), NULL, cases[i]);
        if (st != 0)
            fail_msg("run poisoning with fds '%s' closed: exit %d", cases[i], st);
    }
}

/* ---- files that are not plain files ------------------------------------ */

static void test_fifo_and_device_lessons(void **state)
{
    (void)state;
    char *dir = ct_tmpdir();
    char path[1024];
    snprintf(path, sizeof path, "%s/01-fifo.md", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    struct ct_proc p;
    assert_int_equal(ct_tutor(&p, ARGS("--lessons", dir, "list")), 0);
    assert_int_equal(p.status, 2);              /* not a hang: ct_tutor's timeout is 60 s */
    assert_true(p.ms < 10000);
    char *err = ct_unwrap(p.err);
    assert_non_null(strstr(err, "not a regular file (a FIFO)"));
    free(err);
    ct_proc_free(&p);
    unlink(path);

    snprintf(path, sizeof path, "%s/01-zero.md", dir);
    assert_int_equal(symlink("/dev/zero", path), 0);
    assert_int_equal(ct_tutor(&p, ARGS("--lessons", dir, "list")), 0);
    assert_int_equal(p.status, 2);
    {
        char *uw = ct_unwrap(p.err);
        assert_non_null(strstr(uw, "not a regular file (a character device)"));
        free(uw);
    }
    ct_proc_free(&p);
    unlink(path);

    /* a lesson file too big to be one */
    snprintf(path, sizeof path, "%s/01-big.md", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), 5 << 20), 0);
    fclose(f);
    assert_int_equal(ct_tutor(&p, ARGS("--lessons", dir, "list")), 0);
    assert_int_equal(p.status, 2);
    {
        char *uw = ct_unwrap(p.err);
        assert_non_null(strstr(uw, "larger than 4096 KiB"));
        free(uw);
    }
    ct_proc_free(&p);
    ct_tmpdir_remove(dir);
}

/* ---- pagers ------------------------------------------------------------- */

/* A pager that fails or dies never makes `show` print nothing. */
static void test_failing_pager(void **state)
{
    (void)state;
    static const char *const pagers[] = { "PAGER=false", "PAGER=exit 3",
                                          "PAGER=kill -9 $$", "PAGER=no-such-pager-x" };
    for (size_t i = 0; i < sizeof pagers / sizeof pagers[0]; i++) {
        char *out;
        int st = run_on_pty(ARGS("--no-color", "show", "intro"),
                            (const char *const[]){ pagers[i], NULL }, &out);
        if (st != 0 || !strstr(out, "(intro)") ||
            !strstr(out, "showing the text directly"))
            fail_msg("%s: exit %d, output:\n%.400s", pagers[i], st, out);
        free(out);
    }
    /* the ordinary ones keep working, without a word about it */
    static const char *const good[] = { "PAGER=cat", "PAGER=" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char *out;
        assert_int_equal(run_on_pty(ARGS("--no-color", "show", "intro"),
                                    (const char *const[]){ good[i], NULL }, &out), 0);
        assert_non_null(strstr(out, "(intro)"));
        assert_null(strstr(out, "showing the text directly"));
        free(out);
    }
}

/* TERM="" means no colour; so does NO_COLOR. */
static void test_no_colour_without_term(void **state)
{
    (void)state;
    char *out;
    assert_int_equal(run_on_pty(ARGS("list", "1"), ARGS("TERM="), &out), 0);
    assert_null(strchr(out, '\033'));
    free(out);
    assert_int_equal(run_on_pty(ARGS("list", "1"), NULL, &out), 0);
    assert_non_null(strchr(out, '\033'));       /* the control: colour on a tty */
    free(out);
}

/* ---- signals from outside ---------------------------------------------- */

static void test_sigterm_sighup_during_demo(void **state)
{
    (void)state;
    static const int sigs[] = { SIGTERM, SIGHUP };
    static const char *const names[] = { "SIGTERM", "SIGHUP" };
    for (size_t i = 0; i < 2; i++) {
        struct ct_proc p;
        const char *argv[] = { ct_test_binary(), "run", "race", "iters=100000000", "threads=2",
                               NULL };
        assert_int_equal(ct_proc_run_signal(&p, argv, NULL, ARGS("NO_COLOR=1"), 60, sigs[i],
                                            300), 0);
        assert_int_equal(p.status, 128 + sigs[i]);
        assert_non_null(strstr(p.out, "Cancelled after"));
        char want[64];
        snprintf(want, sizeof want, "Stopped by %s", names[i]);
        assert_non_null(strstr(p.out, want));
        ct_proc_free(&p);
    }
    /* the graceful demo finishes its work, prints its summary, then says */
    struct ct_proc p;
    const char *argv[] = { ct_test_binary(), "run", "shutdown", NULL };
    assert_int_equal(ct_proc_run_signal(&p, argv, NULL, ARGS("NO_COLOR=1"), 60, SIGTERM, 300),
                     0);
    assert_int_equal(p.status, 128 + SIGTERM);
    assert_non_null(strstr(p.out, "Summary (wall time"));
    assert_non_null(strstr(p.out, "Stopped by SIGTERM"));
    ct_proc_free(&p);
    /* a script stops at the demo the signal stopped */
    const char *sh[] = { ct_test_binary(), NULL };
    assert_int_equal(ct_proc_run_signal(&p, sh, "run race iters=100000000 threads=2\nlist 1\n",
                                        ARGS("NO_COLOR=1"), 60, SIGTERM, 300), 0);
    assert_int_equal(p.status, 128 + SIGTERM);
    assert_null(strstr(p.out, "Introduction"));
    ct_proc_free(&p);
}

/* ---- parsing ------------------------------------------------------------ */

static void expect_usage(const char *const *args, const char *env, const char *want)
{
    struct ct_proc p;
    const char *argv[40] = { ct_test_binary() };
    int n = 1;
    for (const char *const *a = args; *a; a++)
        argv[n++] = *a;
    argv[n] = NULL;
    const char *envv[] = { "NO_COLOR=1", env, NULL };
    assert_int_equal(ct_proc_run(&p, argv, NULL, envv, 60, 0), 0);
    char *err = ct_unwrap(p.err);
    if (p.status != 2 || !strstr(err, want) || strchr(p.err, '\033'))
        fail_msg("%s ...: exit %d, stderr '%s'; wanted exit 2 and '%s'", args[0], p.status,
                 p.err, want);
    free(err);
    ct_proc_free(&p);
}

static void test_options_and_numbers(void **state)
{
    (void)state;
    struct ct_proc p;
    /* -- ends the options */
    assert_int_equal(ct_tutor(&p, ARGS("--", "list", "1")), 0);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "Introduction"));
    ct_proc_free(&p);
    expect_usage(ARGS("run", "race", "--", "--json"), NULL, "unknown parameter 'json'");
    /* one plain form of number */
    expect_usage(ARGS("list", "01"), NULL, "unknown chapter '01'");
    expect_usage(ARGS("list", "+1"), NULL, "unknown chapter '+1'");
    expect_usage(ARGS("list", "99"), NULL, "the chapters are 1, 2, 3, 4, 5, 6, 7, 8, 9");
    expect_usage(ARGS("run", "race", "threads=+2"), NULL, "whole number");
    expect_usage(ARGS("run", "race", "threads= 2"), NULL, "whole number");
    /* an empty lesson directory name is an error, not the built-in lessons */
    expect_usage(ARGS("--lessons", "", "list"), NULL, "--lessons needs a directory");
    expect_usage(ARGS("list"), "CONCUR_TUTOR_LESSONS=", "CONCUR_TUTOR_LESSONS is set but empty");
    /* --help works whatever the lesson directory */
    const char *argv[] = { ct_test_binary(), "--help", NULL };
    const char *env[] = { "NO_COLOR=1", "CONCUR_TUTOR_LESSONS=/nonexistent", NULL };
    assert_int_equal(ct_proc_run(&p, argv, NULL, env, 60, 0), 0);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "usage: concur-tutor"));
    ct_proc_free(&p);
}

/* What the user typed comes back escaped and cut, never raw. */
static void test_echoed_input(void **state)
{
    (void)state;
    expect_usage(ARGS("run", "ra\033[31mce"), NULL, "unknown demo 'ra\\e[31mce'");
    expect_usage(ARGS("show", "a\nb"), NULL, "unknown lesson or demo 'a\\nb'");
    expect_usage(ARGS("frob\x01nicate"), NULL, "unknown command 'frob\\x01nicate'");
    char *big = malloc(100001);
    memset(big, 'x', 100000);
    big[100000] = '\0';
    struct ct_proc p;
    assert_int_equal(ct_tutor(&p, ARGS("show", big)), 0);
    assert_int_equal(p.status, 2);
    assert_true(p.err_len < 300);
    {
        char *uw = ct_unwrap(p.err);
        assert_non_null(strstr(uw, "...'"));
        free(uw);
    }
    ct_proc_free(&p);
    free(big);

    /* control characters in a lesson file are shown, not obeyed */
    char text[512];
    snprintf(text, sizeof text, "%sA \033[31mred\033[0m word and a bell\a.\n", HEADER);
    char *dir = lesson_dir(text);
    assert_int_equal(ct_tutor(&p, ARGS("--lessons", dir, "show", "one")), 0);
    assert_int_equal(p.status, 0);
    assert_null(strchr(p.out, '\033'));
    assert_null(strchr(p.out, '\a'));
    assert_non_null(strstr(p.out, "^[[31mred"));
    ct_proc_free(&p);
    ct_tmpdir_remove(dir);
}

/* ---- lesson files ------------------------------------------------------- */

static void test_lesson_file_edges(void **state)
{
    (void)state;
    struct ct_proc p;
    char text[16384];
    /* a table of 70 rows shows all 70; 10 columns say 2 were cut */
    int off = snprintf(text, sizeof text, "%s| n | x |\n|---|---|\n", HEADER);
    for (int i = 1; i <= 70; i++)
        off += snprintf(text + off, sizeof text - (size_t)off, "| row%d | y |\n", i);
    off += snprintf(text + off, sizeof text - (size_t)off,
                    "\n| a | b | c | d | e | f | g | h | i | j |\n");
    char *dir = lesson_dir(text);
    assert_int_equal(ct_tutor(&p, ARGS("--lessons", dir, "show", "one")), 0);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "row1 "));
    assert_non_null(strstr(p.out, "row70 "));
    assert_non_null(strstr(p.out, "(2 more columns not shown"));
    ct_proc_free(&p);
    ct_tmpdir_remove(dir);

    /* a demo listed twice is refused */
    dir = lesson_dir("::: chapter 1\ntitle: T\n:::\n::: lesson one\ntitle: O\nsummary: S\n"
                     "demos: race, race\n:::\n");
    assert_int_equal(ct_tutor(&p, ARGS("--lessons", dir, "list")), 0);
    assert_int_equal(p.status, 2);
    char *err = ct_unwrap(p.err);
    assert_non_null(strstr(err, "demo 'race' is listed twice"));
    free(err);
    ct_proc_free(&p);
    ct_tmpdir_remove(dir);

    /* a closing fence with trailing blanks closes */
    dir = lesson_dir("::: chapter 1\ntitle: T\n:::   \n::: lesson one\ntitle: O\nsummary: S\n"
                     "demos: race\n:::  \nText.\n");
    assert_int_equal(ct_tutor(&p, ARGS("--lessons", dir, "list")), 0);
    assert_int_equal(p.status, 0);
    ct_proc_free(&p);
    ct_tmpdir_remove(dir);

    /* a very long path still shows the reason whole */
    char longdir[1400];
    int n = snprintf(longdir, sizeof longdir, "%s", tmp);
    while (n < 1100) {
        n += snprintf(longdir + n, sizeof longdir - (size_t)n, "/dddddddddddddddddddddddddddddd");
        mkdir(longdir, 0700);
    }
    snprintf(text, sizeof text, "%s/01-x.md", longdir);
    FILE *f = fopen(text, "w");
    assert_non_null(f);
    fputs("::: chapter 1\ntitle: T\n:::\n::: lesson one\ntitle: O\nsumary: S\n:::\n", f);
    fclose(f);
    assert_int_equal(ct_tutor(&p, ARGS("--lessons", longdir, "list")), 0);
    assert_int_equal(p.status, 2);
    {
        char *uw = ct_unwrap(p.err);
        assert_non_null(strstr(uw, "unknown key 'sumary' in the lesson header (accepted: "
                                  "title, summary, demos)"));
        free(uw);
    }
    ct_proc_free(&p);
}

static int setup(void **state)
{
    (void)state;
    tmp = ct_tmpdir();
    write_file(".keep", "");
    return tmp ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ct_tmpdir_remove(tmp);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_stdout),
        cmocka_unit_test(test_closed_standard_fds),
        cmocka_unit_test(test_fifo_and_device_lessons),
        cmocka_unit_test(test_failing_pager),
        cmocka_unit_test(test_no_colour_without_term),
        cmocka_unit_test(test_sigterm_sighup_during_demo),
        cmocka_unit_test(test_options_and_numbers),
        cmocka_unit_test(test_echoed_input),
        cmocka_unit_test(test_lesson_file_edges),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
