/* excheck.c - see excheck.h. */
#include "excheck.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "files.h"

extern char **environ;

#define OUT_MAX (64 * 1024)         /* bytes kept of each output stream */
#define COMPILE_LIMIT_MS 60000.0    /* a compiler on a loaded machine */
#define PLAIN_LIMIT_MS 8000.0       /* the harness's own watchdog is ~3 s */
#define SAN_LIMIT_MS 15000.0
#define REAP_GRACE_MS 300.0         /* output pipes held open by a grandchild */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- running processes with limits -------------------------------------- */

struct buf {
    char *s;
    size_t len;
    bool cut;
};

struct proc {
    char *argv[24];
    double limit_ms;
    pid_t pid;
    int fd[2];              /* stdout, stderr (ours); -1 when closed */
    struct buf out[2];
    int status;             /* from waitpid */
    bool reaped, timed_out;
    double start, ms, reaped_at;
};

static void buf_add(struct buf *b, const char *data, size_t n)
{
    if (b->len + n > OUT_MAX) {
        b->cut = true;
        n = OUT_MAX - b->len;
    }
    if (n == 0)
        return;
    char *p = realloc(b->s, b->len + n + 1);
    if (!p) {
        b->cut = true;
        return;
    }
    memcpy(p + b->len, data, n);
    b->len += n;
    p[b->len] = '\0';
    b->s = p;
}

static void proc_free(struct proc *p)
{
    for (int i = 0; i < 2; i++) {
        free(p->out[i].s);
        p->out[i] = (struct buf){ 0 };
        if (p->fd[i] >= 0)
            close(p->fd[i]);
        p->fd[i] = -1;
    }
}

static const char *proc_text(const struct proc *p, int which)
{
    return p->out[which].s ? p->out[which].s : "";
}

/* Start `p` in `cwd`: its own process group, default signal handling,
 * stdin from /dev/null, stdout and stderr into pipes, nothing else open. */
static int proc_start(struct proc *p, const char *cwd, char **envp)
{
    int pipes[2][2], rc;
    p->fd[0] = p->fd[1] = -1;
    if (pipe2(pipes[0], O_CLOEXEC) != 0)
        return -errno;
    if (pipe2(pipes[1], O_CLOEXEC) != 0) {
        rc = -errno;
        close(pipes[0][0]), close(pipes[0][1]);
        return rc;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, dfl;
    sigemptyset(&none);
    sigemptyset(&dfl);
    int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU,
                   SIGCHLD, SIGWINCH, SIGUSR1, SIGUSR2, SIGALRM };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&dfl, sigs[i]);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pipes[0][1], 1);
    posix_spawn_file_actions_adddup2(&fa, pipes[1][1], 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawn_file_actions_addchdir_np(&fa, cwd);
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &dfl);
    p->start = now_ms();
    rc = -posix_spawnp(&p->pid, p->argv[0], &fa, &at, p->argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(pipes[0][1]);
    close(pipes[1][1]);
    if (rc != 0) {
        close(pipes[0][0]);
        close(pipes[1][0]);
        return rc;
    }
    p->fd[0] = pipes[0][0];
    p->fd[1] = pipes[1][0];
    return 0;
}

static bool proc_done(const struct proc *p)
{
    return p->reaped && p->fd[0] < 0 && p->fd[1] < 0;
}

static void proc_kill(struct proc *p)
{
    kill(-p->pid, SIGKILL);
    kill(p->pid, SIGKILL);
}

/* Read what is there, reap, and enforce the limit. */
static void proc_pump(struct proc *p, const struct pollfd *fds)
{
    char chunk[8192];
    for (int i = 0; i < 2; i++) {
        if (p->fd[i] < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        ssize_t n = read(p->fd[i], chunk, sizeof chunk);
        if (n > 0) {
            buf_add(&p->out[i], chunk, (size_t)n);
        } else if (n == 0 || errno != EINTR) {
            close(p->fd[i]);
            p->fd[i] = -1;
        }
    }
    double now = now_ms();
    if (!p->reaped && waitpid(p->pid, &p->status, WNOHANG) == p->pid) {
        p->reaped = true;
        p->reaped_at = now;
        p->ms = now - p->start;
        kill(-p->pid, SIGKILL);     /* whatever it left behind in its group */
    }
    if (!p->reaped && !p->timed_out && now - p->start > p->limit_ms) {
        p->timed_out = true;
        proc_kill(p);
    }
    if (p->reaped && now - p->reaped_at > REAP_GRACE_MS) {
        for (int i = 0; i < 2; i++) {
            if (p->fd[i] >= 0)
                close(p->fd[i]);
            p->fd[i] = -1;
        }
    }
}

/* Run the started processes `ps` until all are done; -EINTR if `sigfd`
 * became readable (they are killed and reaped first). */
static int procs_wait(struct proc *ps, int n, int sigfd)
{
    for (;;) {
        struct pollfd fds[2 * 4 + 1];
        int nf = 0;
        bool all_done = true;
        for (int i = 0; i < n; i++) {
            all_done &= proc_done(&ps[i]);
            for (int k = 0; k < 2; k++)
                fds[nf++] = (struct pollfd){ ps[i].fd[k], POLLIN, 0 };
        }
        if (all_done)
            return 0;
        fds[nf++] = (struct pollfd){ sigfd, POLLIN, 0 };
        if (poll(fds, (nfds_t)nf, 20) < 0 && errno != EINTR)
            return -errno;
        if (sigfd >= 0 && (fds[nf - 1].revents & POLLIN)) {
            for (int i = 0; i < n; i++) {
                if (!ps[i].reaped) {
                    proc_kill(&ps[i]);
                    while (waitpid(ps[i].pid, &ps[i].status, 0) < 0 && errno == EINTR)
                        ;
                    ps[i].reaped = true;
                }
            }
            return -EINTR;
        }
        for (int i = 0; i < n; i++)
            proc_pump(&ps[i], &fds[2 * i]);
    }
}

/* ---- the temporary directory -------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void remove_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int write_file(const char *dir, const char *name, const char *text, size_t len)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int err = errno;
            close(fd);
            return -err;
        }
        off += (size_t)w;
    }
    return close(fd) == 0 ? 0 : -errno;
}

/* ---- the builds ---------------------------------------------------------- */

enum build { B_PLAIN, B_THREAD, B_ADDRESS, B_COUNT };
static const char *const build_out[B_COUNT] = { "plain", "tsan", "asan" };
static const char *const build_words[B_COUNT] = { "plain build", "ThreadSanitizer",
                                                  "ASan+UBSan" };

struct check {
    const struct ct_exercise *ex;
    const char *dir;
    char student[64];           /* "fix-race.c" */
    char define[96];            /* -DEX_STUDENT="fix-race.c" */
    char **envp;
    int sigfd;
    struct proc cc[B_COUNT];
    bool compiled[B_COUNT];
    struct ct_check_result *r;
};

static const char *compiler(void)
{
    const char *cc = getenv("CONCUR_TUTOR_CC");
    return cc && *cc ? cc : "cc";
}

static void compile_argv(struct check *c, enum build b, struct proc *p)
{
    int n = 0;
    char **a = p->argv;
    a[n++] = (char *)compiler();
    a[n++] = (char *)"-std=c17";
    a[n++] = (char *)"-Wall";
    a[n++] = (char *)"-Wextra";
    a[n++] = (char *)"-pthread";
    a[n++] = (char *)"-O1";
    a[n++] = (char *)"-g";
    a[n++] = (char *)"-fdiagnostics-color=never";
    a[n++] = (char *)"-fmax-errors=10";
    if (b == B_THREAD)
        a[n++] = (char *)"-fsanitize=thread";
    if (b == B_ADDRESS) {
        a[n++] = (char *)"-fsanitize=address,undefined";
        a[n++] = (char *)"-fno-sanitize-recover=all";
        a[n++] = (char *)"-fno-omit-frame-pointer";
    }
    a[n++] = c->define;
    a[n++] = (char *)"harness.c";
    a[n++] = (char *)"-o";
    a[n++] = (char *)build_out[b];
    a[n] = NULL;
    p->limit_ms = COMPILE_LIMIT_MS;
}

/* Compile the builds in `want` at the same time. */
static int compile(struct check *c, const bool want[B_COUNT])
{
    struct proc ps[B_COUNT];
    enum build which[B_COUNT];
    int n = 0, rc = 0;
    for (int b = 0; b < B_COUNT; b++) {
        if (!want[b] || c->compiled[b])
            continue;
        memset(&ps[n], 0, sizeof ps[n]);
        compile_argv(c, (enum build)b, &ps[n]);
        rc = proc_start(&ps[n], c->dir, c->envp);
        if (rc) {
            snprintf(c->r->reason, sizeof c->r->reason,
                     "the compiler '%s' could not be started: %s", compiler(), strerror(-rc));
            break;
        }
        which[n++] = (enum build)b;
    }
    int wrc = procs_wait(ps, n, c->sigfd);
    for (int i = 0; i < n; i++) {
        c->cc[which[i]] = ps[i];
        c->compiled[which[i]] = true;
    }
    return rc ? rc : wrc;
}

/* Append a line to `out` (of size n), minus the temporary directory. */
static void add_line(char *out, size_t n, const char *line, size_t len, const char *dir)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%.*s", (int)(len < 400 ? len : 400), line);
    size_t dl = strlen(dir);
    char *hit;
    while ((hit = strstr(tmp, dir)) != NULL) {
        size_t skip = dl + (hit[dl] == '/');
        memmove(hit, hit + skip, strlen(hit + skip) + 1);
    }
    size_t used = strlen(out);
    snprintf(out + used, n - used, "%s\n", tmp);
}

/* The compiler's messages that matter: no "In file included from". */
static void compiler_lines(const struct check *c, const char *err, char *out, size_t n)
{
    int kept = 0;
    out[0] = '\0';
    for (const char *p = err; *p && kept < 14;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (strncmp(p, "In file included from", 21) != 0 && strncmp(p, "                 from", 21) != 0) {
            add_line(out, n, p, len, c->dir);
            kept++;
        }
        p = nl ? nl + 1 : p + len;
    }
}

/* The harness up to the line that includes the student's file, as a
 * header for compiling that file alone: HARNESS_HEAD; false if the
 * harness has no such line. */
#define HARNESS_HEAD "harness-head.h"

static bool write_harness_head(const struct check *c)
{
    const char *h = c->ex->harness.s, *hit = h;
    while ((hit = strstr(hit, "#include EX_STUDENT")) != NULL && hit > h && hit[-1] != '\n')
        hit++;
    return hit && write_file(c->dir, HARNESS_HEAD, h, (size_t)(hit - h)) == 0;
}

/* Compile the student's file as the main file, with the harness's head
 * in front (-include), so that an error, even one at the end of the file
 * (a missing '}'), is reported against the student's file rather than
 * the harness that follows it.  The unused-function warning is off: the
 * head's helpers are used only by the part of the harness left out.
 * True with the compiler's messages in `err` if this fails. */
static bool student_alone_fails(struct check *c, struct buf *err)
{
    struct proc p;
    memset(&p, 0, sizeof p);
    compile_argv(c, B_PLAIN, &p);
    int n = 0;
    while (p.argv[n] && strcmp(p.argv[n], "harness.c") != 0)
        n++;
    p.argv[n++] = (char *)"-fsyntax-only";
    p.argv[n++] = (char *)"-Wno-unused-function";
    p.argv[n++] = (char *)"-include";
    p.argv[n++] = (char *)HARNESS_HEAD;
    p.argv[n++] = c->student;
    p.argv[n] = NULL;
    if (!write_harness_head(c) || proc_start(&p, c->dir, c->envp) != 0)
        return false;
    bool failed = procs_wait(&p, 1, c->sigfd) == 0 && !p.timed_out && p.reaped &&
                  WIFEXITED(p.status) && WEXITSTATUS(p.status) != 0 && p.out[1].s;
    if (failed) {
        *err = p.out[1];
        p.out[1] = (struct buf){ 0 };
    }
    proc_free(&p);
    return failed;
}

/* The plain build failed with errors: say whether they are in the
 * student's file, in plain words, with the compiler's lines about it. */
static void explain_errors(struct check *c, const char *harness_err)
{
    struct ct_check_result *r = c->r;
    struct buf mine = { 0 };
    if (student_alone_fails(c, &mine)) {
        if (strstr(mine.s, "at end of input"))
            snprintf(r->reason, sizeof r->reason,
                     "your file does not compile: it ends inside a function or a "
                     "declaration, so a closing '}' or ')' is missing somewhere");
        else
            snprintf(r->reason, sizeof r->reason, "your file does not compile");
        compiler_lines(c, mine.s, r->details, sizeof r->details);
        free(mine.s);
        return;
    }
    snprintf(r->reason, sizeof r->reason,
             "your file compiles on its own, but not with the checker's code that calls "
             "it: keep the names, types and parameters the task gives");
    compiler_lines(c, harness_err, r->details, sizeof r->details);
}

static bool compile_failed(struct check *c, enum build b)
{
    struct proc *p = &c->cc[b];
    const char *err = proc_text(p, 1);
    bool failed = !p->reaped || p->timed_out || !WIFEXITED(p->status) ||
                  WEXITSTATUS(p->status) != 0;
    bool warned = strstr(err, "warning:") != NULL;
    if (!failed && !warned)
        return false;
    struct ct_check_result *r = c->r;
    r->stage = "compile";
    if (p->timed_out)
        snprintf(r->reason, sizeof r->reason, "the compiler did not finish within %.0f s",
                 COMPILE_LIMIT_MS / 1e3);
    else if (failed && strstr(err, "undefined reference"))
        snprintf(r->reason, sizeof r->reason,
                 "your file compiled but did not link: a function the checker calls is "
                 "missing or misspelt");
    else if (failed && b == B_PLAIN)
        explain_errors(c, err);
    else if (failed)
        snprintf(r->reason, sizeof r->reason, "your file does not compile");
    else
        snprintf(r->reason, sizeof r->reason,
                 "the compiler warned; a warning fails the check, as it does in this "
                 "project's own build");
    if (!failed || b != B_PLAIN || p->timed_out || strstr(err, "undefined reference"))
        compiler_lines(c, err, r->details, sizeof r->details);
    return true;
}

/* ---- reading a run -------------------------------------------------------- */

struct san_kind {
    const char *match, *words;
};

static const struct san_kind san_kinds[] = {
    { "data race", "two threads used the same memory at the same time, at least one of "
                   "them writing, and nothing ordered the two accesses" },
    { "lock-order-inversion", "two threads take the same locks in opposite orders: a "
                              "deadlock waiting to happen, even if this run got lucky" },
    { "thread leak", "a thread was started and never joined" },
    { "heap-use-after-free", "memory was used after it was freed" },
    { "double-free", "the same memory was freed twice" },
    { "detected memory leaks", "memory was allocated and never freed" },
    { "stack-use-after-return", "a thread used a local variable of a function that had "
                                "already returned" },
    { "stack-use-after-scope", "memory of a variable was used after its block ended" },
    { "unlock of an unlocked mutex", "a mutex was unlocked that was not locked" },
    { "destroy of a locked mutex", "a mutex was destroyed while it was locked" },
    { "runtime error", "undefined behaviour" },
    { "SEGV", "the program touched memory it does not own" },
    { NULL, "the sanitizer found a bug" },
};

static const char *san_words(const char *line)
{
    const struct san_kind *k = san_kinds;
    while (k->match && !strstr(line, k->match))
        k++;
    return k->words;
}

static bool is_frame(const char *p, size_t len)
{
    while (len && *p == ' ')
        p++, len--;
    return len > 1 && p[0] == '#' && p[1] >= '0' && p[1] <= '9';
}

/* The lines of the first sanitizer report in `err`: each heading line,
 * and under it the first frames that are in the student's file (else one
 * in the checker's).  Returns the report's first line, or NULL. */
static const char *sanitizer_report(const struct check *c, const char *err, char *out, size_t n)
{
    const char *start = NULL;
    static const char *const marks[] = { "WARNING: ThreadSanitizer:", "ERROR: AddressSanitizer:",
                                         "ERROR: LeakSanitizer:", ": runtime error:" };
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
        const char *hit = strstr(err, marks[i]);
        if (hit && (!start || hit < start))
            start = hit;
    }
    if (!start)
        return NULL;
    while (start > err && start[-1] != '\n')
        start--;
    out[0] = '\0';
    int kept = 0, frames = 0;
    bool in_student = false;
    for (const char *p = start; *p && kept < 16;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(len < 500 ? len : 500), p);
        p = nl ? nl + 1 : p + len;
        if (strncmp(line, "SUMMARY:", 8) == 0)
            break;
        if (len == 0 || line[0] == '=')
            continue;
        /* drop "(binary+0x1234)" and "(pid=123)": noise to a student */
        char *paren = strstr(line, " (");
        if (paren && (strstr(paren, "+0x") || strncmp(paren, " (pid=", 6) == 0))
            *paren = '\0';
        if ((paren = strstr(line, " (pid=")) != NULL)
            *paren = '\0';
        for (char *a; (a = strstr(line, " (0x")) != NULL;) {   /* "M1 (0x55a3...)" */
            char *close = strchr(a, ')');
            if (!close)
                break;
            memmove(a, close + 1, strlen(close + 1) + 1);
        }
        if (strstr(line, "global '<null>'"))    /* TSan's empty guess about a stack slot */
            continue;
        len = strlen(line);
        if (!is_frame(line, len)) {
            frames = 0;
            in_student = false;
            add_line(out, n, line, len, c->dir);
            kept++;
            continue;
        }
        /* a frame: keep the useful ones */
        bool mine = strstr(line, c->student) != NULL;
        bool checker = strstr(line, "harness.c") != NULL;
        if ((mine && frames < 2) || (checker && !in_student && frames == 0)) {
            add_line(out, n, line, len, c->dir);
            kept++;
            frames++;
            in_student |= mine;
        }
    }
    return start;
}

/* The last "CT-VERDICT PASS|FAIL text" line of the program's output. */
static const char *verdict(const char *out, bool *pass)
{
    const char *v = NULL, *p = out;
    while ((p = strstr(p, "CT-VERDICT ")) != NULL) {
        if (p == out || p[-1] == '\n')
            v = p;
        p += 11;
    }
    if (!v)
        return NULL;
    v += 11;
    *pass = strncmp(v, "PASS ", 5) == 0;
    return v + 5;
}

static void copy_line(char *dst, size_t n, const char *src)
{
    size_t len = strcspn(src, "\n");
    snprintf(dst, n, "%.*s", (int)len, src);
}

/* The last few lines of the program's own output, for a run that ended
 * without a verdict. */
static void tail_lines(const char *text, char *out, size_t n, const char *dir)
{
    const char *p = text + strlen(text);
    int lines = 0;
    while (p > text && lines < 6) {
        p--;
        if (*p == '\n' && p[1])
            lines++;
    }
    out[0] = '\0';
    for (; *p && strlen(out) + 2 < n;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len)
            add_line(out, n, p, len, dir);
        p = nl ? nl + 1 : p + len;
    }
}

static void describe_signal(int sig, char *buf, size_t n)
{
    const char *what = sig == SIGSEGV  ? " (a segmentation fault: a bad pointer, or memory "
                                         "already freed)"
                       : sig == SIGABRT ? " (abort: an assertion, or the C library found "
                                          "its heap corrupted)"
                       : sig == SIGBUS  ? " (a bus error: a bad pointer)"
                       : sig == SIGFPE  ? " (an arithmetic error, such as division by zero)"
                                        : "";
    snprintf(buf, n, "the program crashed with signal %d, %s%s", sig, strsignal(sig), what);
}

/* Judge one finished run; true if it passed.  `limit` for messages. */
static bool judge(struct check *c, enum build b, struct proc *p)
{
    struct ct_check_result *r = c->r;
    const char *out = proc_text(p, 0), *err = proc_text(p, 1);
    bool pass = false;
    const char *v = verdict(out, &pass);
    const char *san = sanitizer_report(c, err, r->details, sizeof r->details);
    char crash[256];
    r->stage = b == B_PLAIN ? "plain" : b == B_THREAD ? "thread" : "address";
    if (p->timed_out) {
        snprintf(r->reason, sizeof r->reason,
                 "the program (%s) did not finish within %.0f s and was stopped: a deadlock, "
                 "a lost wake-up or an endless loop", build_words[b], p->limit_ms / 1e3);
        tail_lines(out, r->details, sizeof r->details, c->dir);
        return false;
    }
    if (san) {
        char first[300];
        copy_line(first, sizeof first, san);
        snprintf(r->reason, sizeof r->reason, "%s reports: %s%s%s", build_words[b],
                 san_words(first), v && !pass ? ". The checker also found: " : "",
                 v && !pass ? v : "");
        if (strchr(r->reason, '\n'))
            *strchr(r->reason, '\n') = '\0';
        return false;
    }
    r->details[0] = '\0';
    if (WIFSIGNALED(p->status)) {
        describe_signal(WTERMSIG(p->status), crash, sizeof crash);
        snprintf(r->reason, sizeof r->reason, "%s (%s)", crash, build_words[b]);
        tail_lines(err, r->details, sizeof r->details, c->dir);
        return false;
    }
    if (v && !pass) {
        copy_line(r->reason, sizeof r->reason, v);
        return false;
    }
    if (!v) {
        int code = WIFEXITED(p->status) ? WEXITSTATUS(p->status) : -1;
        snprintf(r->reason, sizeof r->reason,
                 "the program ended (exit status %d) before the checker could finish%s: does "
                 "your code call exit() or abort(), or end the process another way?",
                 code, out[0] || err[0] ? "" : ", and printed nothing");
        tail_lines(err[0] ? err : out, r->details, sizeof r->details, c->dir);
        return false;
    }
    if (!WIFEXITED(p->status) || WEXITSTATUS(p->status) != 0) {
        snprintf(r->reason, sizeof r->reason,
                 "the checks held, but the program then exited with status %d (%s)",
                 WIFEXITED(p->status) ? WEXITSTATUS(p->status) : -1, build_words[b]);
        tail_lines(err, r->details, sizeof r->details, c->dir);
        return false;
    }
    copy_line(r->reason, sizeof r->reason, v);
    return true;
}

/* TSan refusing to start (memory layout, missing runtime) is not the
 * student's fault. */
static bool tsan_broken(const struct proc *p)
{
    const char *err = proc_text(p, 1);
    return strstr(err, "FATAL: ThreadSanitizer") != NULL ||
           (p->reaped && WIFEXITED(p->status) && WEXITSTATUS(p->status) == 127);
}

static int run_build(struct check *c, enum build b, struct proc *p)
{
    char path[PATH_MAX];
    memset(p, 0, sizeof *p);
    snprintf(path, sizeof path, "%s/%s", c->dir, build_out[b]);
    p->argv[0] = path;
    p->argv[1] = NULL;
    p->limit_ms = b == B_PLAIN ? PLAIN_LIMIT_MS : SAN_LIMIT_MS;
    int rc = proc_start(p, c->dir, c->envp);
    if (rc) {
        snprintf(c->r->reason, sizeof c->r->reason, "could not start the program: %s",
                 strerror(-rc));
        return rc;
    }
    return procs_wait(p, 1, c->sigfd);
}

/* ---- the environment of the student's program ---------------------------- */

static char **child_env(void)
{
    static const char *const ours[] = {
        "TSAN_OPTIONS=halt_on_error=1:exitcode=66:report_thread_leaks=1:"
        "second_deadlock_stack=1:detect_deadlocks=1:history_size=4",
        "ASAN_OPTIONS=detect_leaks=1:exitcode=66:halt_on_error=1:abort_on_error=0:"
        "detect_stack_use_after_return=1",
        "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=66",
        "LSAN_OPTIONS=exitcode=66",
    };
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 5, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *e = environ[i];
        if (strncmp(e, "TSAN_OPTIONS=", 13) && strncmp(e, "ASAN_OPTIONS=", 13) &&
            strncmp(e, "UBSAN_OPTIONS=", 14) && strncmp(e, "LSAN_OPTIONS=", 13) &&
            strncmp(e, "LD_PRELOAD=", 11))
            env[k++] = (char *)e;
    }
    for (size_t i = 0; i < 4; i++)
        env[k++] = (char *)ours[i];
    env[k] = NULL;
    return env;
}

/* ---- the check ------------------------------------------------------------ */

static int setup(struct check *c, const char *path, char *dir)
{
    struct ct_check_result *r = c->r;
    char why[128];
    size_t len;
    char *text = ct_read_regular_file(path, 256 * 1024, &len, why, sizeof why);
    if (!text) {
        r->stage = "setup";
        if (access(path, F_OK) != 0)
            snprintf(r->reason, sizeof r->reason,
                     "there is no file %s yet: 'exercise %s' writes the starter there", path,
                     c->ex->name);
        else
            snprintf(r->reason, sizeof r->reason, "cannot read %s: %s", path, why);
        return -ENOENT;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, PATH_MAX, "%s/concur-tutor-check-XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
    int rc = mkdtemp(dir) ? 0 : -errno;
    struct ct_text h = ct_exercise_header();
    if (rc == 0)
        rc = write_file(dir, c->student, text, len);
    if (rc == 0)
        rc = write_file(dir, "harness.c", c->ex->harness.s, c->ex->harness.len);
    if (rc == 0)
        rc = write_file(dir, "exercise.h", h.s, h.len);
    free(text);
    if (rc) {
        r->stage = "setup";
        snprintf(r->reason, sizeof r->reason, "cannot prepare a temporary directory: %s",
                 strerror(-rc));
    }
    return rc;
}

static void add_sanitizer(struct ct_check_result *r, const char *what)
{
    size_t used = strlen(r->sanitizers);
    snprintf(r->sanitizers + used, sizeof r->sanitizers - used, "%s%s", used ? " and " : "", what);
}

/* Run the sanitizer build `b`; 1 passed, 0 failed, -1 TSan cannot run. */
static int run_sanitized(struct check *c, enum build b, int *rc)
{
    struct proc p;
    bool want[B_COUNT] = { 0 };
    want[b] = true;
    *rc = compile(c, want);
    if (*rc)
        return 0;
    if (compile_failed(c, b)) {
        /* the plain build compiled: the sanitizer's runtime is missing */
        if (b == B_THREAD)
            return -1;
        c->r->stage = "setup";
        snprintf(c->r->reason, sizeof c->r->reason,
                 "the compiler cannot build with %s here", build_words[b]);
        return 0;
    }
    *rc = run_build(c, b, &p);
    int result = 0;
    if (*rc == 0) {
        if (b == B_THREAD && tsan_broken(&p))
            result = -1;
        else
            result = judge(c, b, &p) ? 1 : 0;
    }
    proc_free(&p);
    return result;
}

/* Whether build `b` was compiled, without an error or a warning. */
static bool built(const struct check *c, enum build b)
{
    const struct proc *p = &c->cc[b];
    return c->compiled[b] && p->reaped && !p->timed_out && WIFEXITED(p->status) &&
           WEXITSTATUS(p->status) == 0 && !strstr(proc_text(p, 1), "warning:");
}

/* The plain run failed its checks in an exercise whose bug is one that
 * ThreadSanitizer names: run the TSan build as well, so that the report
 * shows the race (the lines of the student's file) behind the symptom.
 * A TSan run that finds nothing, or cannot run here, adds nothing. */
static int add_race_report(struct check *c)
{
    struct ct_check_result *r = c->r;
    if (!c->ex->race_report || !built(c, B_THREAD))
        return 0;
    char reason[sizeof r->reason], report[sizeof r->details];
    snprintf(reason, sizeof reason, "%s", r->reason);
    struct proc p;
    int rc = run_build(c, B_THREAD, &p);
    const char *san = NULL;
    if (rc == 0 && !tsan_broken(&p))
        san = sanitizer_report(c, proc_text(&p, 1), report, sizeof report);
    if (san) {
        char first[300];
        copy_line(first, sizeof first, san);
        size_t len = strlen(reason);
        snprintf(reason + len, sizeof reason - len, "%s ThreadSanitizer, run on the same "
                 "file, shows why: %s.", len && reason[len - 1] == '.' ? "" : ".",
                 san_words(first));
        snprintf(r->details, sizeof r->details, "%s", report);
    }
    snprintf(r->reason, sizeof r->reason, "%s", reason);
    proc_free(&p);
    return rc == -EINTR ? rc : 0;
}

static int run_all(struct check *c)
{
    bool no_tsan = getenv("CONCUR_TUTOR_NO_TSAN") && *getenv("CONCUR_TUTOR_NO_TSAN");
    bool want[B_COUNT] = { true, false, false };
    want[B_THREAD] = (c->ex->sanitize & CT_SAN_THREAD) && !no_tsan;
    want[B_ADDRESS] = (c->ex->sanitize & CT_SAN_ADDRESS) ||
                      ((c->ex->sanitize & CT_SAN_THREAD) && no_tsan);
    if (no_tsan && (c->ex->sanitize & CT_SAN_THREAD))
        snprintf(c->r->note, sizeof c->r->note,
                 "ThreadSanitizer is turned off (CONCUR_TUTOR_NO_TSAN); checked with ASan+UBSan "
                 "instead, which cannot see data races");
    int rc = compile(c, want);
    if (rc || compile_failed(c, B_PLAIN))
        return rc;
    struct proc p;
    rc = run_build(c, B_PLAIN, &p);
    bool ok = rc == 0 && judge(c, B_PLAIN, &p), pass = false;
    bool checks_failed = rc == 0 && !p.timed_out && verdict(proc_text(&p, 0), &pass) && !pass;
    char plain_reason[1024];
    snprintf(plain_reason, sizeof plain_reason, "%s", c->r->reason);
    proc_free(&p);
    if (!ok && checks_failed && want[B_THREAD])
        return add_race_report(c);
    if (!ok)
        return rc;
    for (int b = B_THREAD; b < B_COUNT; b++) {
        if (!want[b])
            continue;
        int res = run_sanitized(c, (enum build)b, &rc);
        if (res < 0) {
            snprintf(c->r->note, sizeof c->r->note,
                     "ThreadSanitizer cannot run on this machine; checked with ASan+UBSan "
                     "instead, which cannot see data races");
            if (!want[B_ADDRESS]) {
                want[B_ADDRESS] = true;
                continue;
            }
            res = 1;
        } else if (res == 1) {
            add_sanitizer(c->r, build_words[b]);
        }
        if (res == 0 || rc)
            return rc;
    }
    snprintf(c->r->reason, sizeof c->r->reason, "%s", plain_reason);
    c->r->passed = true;
    c->r->stage = "pass";
    return 0;
}

int ct_check_file(const struct ct_exercise *ex, const char *path, int sigfd,
                  struct ct_check_result *r)
{
    char dir[PATH_MAX];
    struct check c = { .ex = ex, .dir = dir, .sigfd = sigfd, .r = r };
    double t0 = now_ms();
    memset(r, 0, sizeof *r);
    snprintf(c.student, sizeof c.student, "%s.c", ex->name);
    snprintf(c.define, sizeof c.define, "-DEX_STUDENT=\"%s\"", c.student);
    dir[0] = '\0';
    int rc = setup(&c, path, dir);
    bool made = rc == 0 || (dir[0] && access(dir, F_OK) == 0 && !strstr(dir, "XXXXXX"));
    if (rc == -ENOENT) {
        r->ms = now_ms() - t0;
        return 0;
    }
    c.envp = rc == 0 ? child_env() : NULL;
    if (rc == 0 && !c.envp)
        rc = -ENOMEM;
    if (rc == 0)
        rc = run_all(&c);
    for (int b = 0; b < B_COUNT; b++)
        proc_free(&c.cc[b]);
    free(c.envp);
    if (made)
        remove_tree(dir);
    r->ms = now_ms() - t0;
    if (!r->stage)
        r->stage = "setup";
    return rc;
}
