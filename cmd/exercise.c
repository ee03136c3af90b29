/* exercise.c - the exercise commands: exercises, exercise, check, hint,
 * solution, watch.  The registry and progress are in exercises.c, the
 * compiling and running in excheck.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "excheck.h"
#include "exercises.h"
#include "exit.h"
#include "files.h"
#include "json.h"
#include "render.h"
#include "term.h"
#include "text.h"

#define PROG "concur-tutor"

/* Chapters that have no lesson file yet still have exercises. */
static const struct { int number; const char *title; } spare_titles[] = {
    { 8, "Real-world backend development" },
    { 10, "Real-world backend architecture" },
    { 11, "Testing concurrent code" },
};

static const char *chapter_title(struct ct_ctx *ctx, int number)
{
    const struct ct_library *lib = ct_ctx_lessons(ctx, false);
    const struct ct_chapter *ch = lib ? ct_chapter_find(lib, number) : NULL;
    if (ch)
        return ch->title;
    for (size_t i = 0; i < sizeof spare_titles / sizeof spare_titles[0]; i++) {
        if (spare_titles[i].number == number)
            return spare_titles[i].title;
    }
    return "";
}

static const struct ct_exercise *all_exercises(size_t *n)
{
    char err[256];
    const struct ct_exercise *all = ct_exercises(n, err, sizeof err);
    if (!all)
        fprintf(stderr, PROG ": exercises: %s\n", err);
    return all;
}

/* The exercise called `name`, or a usage error (with a suggestion). */
static const struct ct_exercise *lookup(const char *cmd, const char *name, int *rc)
{
    size_t n;
    const struct ct_exercise *all = all_exercises(&n);
    *rc = CT_EXIT_FAILED;
    if (!all)
        return NULL;
    const struct ct_exercise *ex = ct_exercise_find(name);
    if (ex)
        return ex;
    struct ct_suggest s;
    ct_suggest_init(&s, name);
    for (size_t i = 0; i < n; i++)
        ct_suggest_add(&s, all[i].name);
    if (ct_suggest_result(&s))
        *rc = ct_usage_error("%s: unknown exercise %s (did you mean '%s'?)", cmd, CT_Q(name),
                             ct_suggest_result(&s));
    else
        *rc = ct_usage_error("%s: unknown exercise %s; 'exercises' lists them", cmd, CT_Q(name));
    return NULL;
}

static void render_md(FILE *out, const struct ct_options *opt, const char *s, size_t len)
{
    struct ct_render_opts ro = ct_render_opts_for(opt);
    ct_render(out, s, len, &ro);
}

static void say(const char *text)
{
    ct_wrap(stdout, text, ct_term_width(), 2);
}

/* ---- signals while a command waits on a child or a file ------------------ */

struct sigguard {
    sigset_t old;
    int fd;
};

static void guard_begin(struct sigguard *g)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, &g->old);
    g->fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Restore the mask; a SIGTERM or SIGHUP taken meanwhile is raised again so
 * that it ends the program as it would have. */
static void guard_end(struct sigguard *g)
{
    struct signalfd_siginfo si;
    int again = 0;
    while (g->fd >= 0 && read(g->fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo != SIGINT)
            again = (int)si.ssi_signo;
    }
    if (g->fd >= 0)
        close(g->fd);
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
    if (again)
        raise(again);
}

/* ---- exercises [CHAPTER] -------------------------------------------------- */

static bool parse_number(const char *s, int *out)
{
    size_t n = strspn(s, "0123456789");
    if (n == 0 || n > 2 || s[n] != '\0' || s[0] == '0')
        return false;
    *out = atoi(s);
    return true;
}

static void exercises_json(const struct ct_exercise *all, size_t n,
                           const struct ct_progress_entry *pr, int only)
{
    struct ct_json j;
    char ws[PATH_MAX];
    ct_json_init(&j, stdout);
    ct_json_object_begin(&j);
    ct_json_kv_str(&j, "workspace", ct_workspace_dir(ws, sizeof ws) ? ws : "");
    ct_json_key(&j, "exercises");
    ct_json_array_begin(&j);
    for (size_t i = 0; i < n; i++) {
        if (only && all[i].chapter != only)
            continue;
        ct_json_object_begin(&j);
        ct_json_kv_str(&j, "name", all[i].name);
        ct_json_kv_int(&j, "chapter", all[i].chapter);
        ct_json_kv_str(&j, "title", all[i].title);
        ct_json_key(&j, "lesson");
        if (all[i].lesson[0])
            ct_json_str(&j, all[i].lesson);
        else
            ct_json_null(&j);
        ct_json_kv_str(&j, "status", ct_exercise_status_name(pr[i].status));
        ct_json_kv_int(&j, "hints_shown", pr[i].hints);
        ct_json_kv_int(&j, "hints", all[i].nhints);
        ct_json_object_end(&j);
    }
    ct_json_array_end(&j);
    ct_json_object_end(&j);
    ct_json_finish(&j);
}

static void exercises_text(struct ct_ctx *ctx, const struct ct_options *opt,
                           const struct ct_exercise *all, size_t n,
                           const struct ct_progress_entry *pr, int only)
{
    bool color = ct_use_color(opt);
    int width = ct_term_width(), last = 0;
    const struct ct_exercise *first_open = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct ct_exercise *ex = &all[i];
        if (only && ex->chapter != only)
            continue;
        if (!first_open && pr[i].status != CT_EXERCISE_DONE)
            first_open = ex;
        if (ex->chapter != last) {
            printf(color ? "\033[1m%2d  %s\033[0m\n" : "%2d  %s\n", ex->chapter,
                   chapter_title(ctx, ex->chapter));
            last = ex->chapter;
        }
        char head[128];
        const char *st = ct_exercise_status_name(pr[i].status);
        const char *sc = pr[i].status == CT_EXERCISE_DONE ? "\033[32m"
                         : pr[i].status == CT_EXERCISE_STARTED ? "\033[33m" : "\033[2m";
        if (color)
            snprintf(head, sizeof head, "\033[1m%-18s\033[0m %s%-11s\033[0m", ex->name, sc, st);
        else
            snprintf(head, sizeof head, "%-18s %-11s", ex->name, st);
        ct_wrap_item(stdout, head, 4, 4 + 18 + 1 + 11 + 2, ex->title, width);
    }
    char ws[PATH_MAX], line[PATH_MAX + 64];
    if (ct_workspace_dir(ws, sizeof ws)) {
        snprintf(line, sizeof line, "Your files: %s", ws);
        printf("\n");
        ct_wrap(stdout, line, width, 0);
    }
    if (first_open) {
        snprintf(line, sizeof line, "Next: exercise %s", first_open->name);
        ct_wrap(stdout, line, width, 0);
    }
}

int ct_cmd_exercises(struct ct_ctx *ctx, const struct ct_options *opt, int argc, char **argv)
{
    size_t n;
    const struct ct_exercise *all = all_exercises(&n);
    if (!all)
        return CT_EXIT_FAILED;
    int only = 0;
    bool found = false;
    if (argc > 1 && parse_number(argv[1], &only)) {
        for (size_t i = 0; i < n; i++)
            found |= all[i].chapter == only;
    }
    if (argc > 1 && !found) {
        /* name the chapters that have exercises: not every chapter does */
        char list[256] = "";
        size_t len = 0;
        for (size_t i = 0; i < n && len < sizeof list; i++)
            if (i == 0 || all[i].chapter != all[i - 1].chapter)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%d", i ? ", " : "",
                                        all[i].chapter);
        return ct_usage_error("exercises: no exercises in chapter %s; the chapters with "
                              "exercises are %s", CT_Q(argv[1]), list);
    }
    struct ct_progress_entry pr[CT_EXERCISE_MAX];
    ct_progress_load(pr, n);
    if (opt->json)
        exercises_json(all, n, pr, only);
    else
        exercises_text(ctx, opt, all, n, pr, only);
    return CT_EXIT_OK;
}

/* ---- exercise NAME ---------------------------------------------------------- */

enum handout { HANDED_OUT, UNCHANGED, KEPT };

static int mkdir_p(const char *dir)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -errno;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -errno;
    struct stat st;
    if (stat(tmp, &st) != 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static int write_new(const char *path, const struct ct_text *t)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    size_t off = 0;
    while (off < t->len) {
        ssize_t w = write(fd, t->s + off, t->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int err = w < 0 ? errno : EIO;
            close(fd);
            unlink(path);
            return -err;
        }
        off += (size_t)w;
    }
    if (close(fd) != 0) {
        int err = errno;
        unlink(path);
        return -err;
    }
    return 0;
}

/* Put the starter into the workspace unless the student's file is there.
 * 0 with *how, or a negative errno with the message printed. */
static int hand_out(const struct ct_exercise *ex, char *path, size_t n, enum handout *how)
{
    char dir[PATH_MAX], why[128];
    if (!ct_workspace_dir(dir, sizeof dir) || !ct_workspace_file(ex, path, n)) {
        fprintf(stderr, PROG ": exercise: no workspace: set CONCUR_TUTOR_WORKSPACE or HOME\n");
        return -ENOENT;
    }
    int rc = mkdir_p(dir);
    if (rc == 0) {
        rc = write_new(path, &ex->starter);
        *how = HANDED_OUT;
    }
    if (rc == -EEXIST) {
        size_t len;
        char *text = ct_read_regular_file(path, 1 << 20, &len, why, sizeof why);
        if (!text) {
            fprintf(stderr, PROG ": exercise: %s is there but cannot be read: %s\n", path, why);
            return -EINVAL;
        }
        *how = len == ex->starter.len && memcmp(text, ex->starter.s, len) == 0 ? UNCHANGED : KEPT;
        free(text);
        return 0;
    }
    if (rc)
        fprintf(stderr, PROG ": exercise: cannot write %s: %s (set CONCUR_TUTOR_WORKSPACE to "
                        "a directory you can write)\n", path, strerror(-rc));
    return rc;
}

static const char *editor(void)
{
    const char *e = getenv("VISUAL");
    if (!e || !*e)
        e = getenv("EDITOR");
    return e && *e ? e : NULL;
}

static void print_task(const struct ct_options *opt, const struct ct_exercise *ex)
{
    char line[256];
    bool color = ct_use_color(opt);
    snprintf(line, sizeof line, color ? "\033[1;4mExercise %s\033[0m: %s (chapter %d)"
                                      : "Exercise %s: %s (chapter %d)",
             ex->name, ex->title, ex->chapter);
    ct_wrap(stdout, line, ct_term_width(), 0);
    putchar('\n');
    render_md(stdout, opt, ex->task.s, ex->task.len);
}

static void print_handout(const struct ct_exercise *ex, const char *path, enum handout how)
{
    char line[PATH_MAX + 160];
    putchar('\n');
    if (how == HANDED_OUT)
        snprintf(line, sizeof line, "Your file: %s (written now)", path);
    else if (how == UNCHANGED)
        snprintf(line, sizeof line, "Your file: %s (as handed out)", path);
    else
        snprintf(line, sizeof line, "Your file: %s (kept with your changes; delete it to "
                                    "start again)", path);
    say(line);
    if (editor())
        printf("  Edit it:   %s %s\n", editor(), path);
    else
        printf("  Edit it:   vi %s\n             (set $EDITOR to have your editor named here)\n",
               path);
    printf("  Then:      check %s\n", ex->name);
    printf("  Or:        watch %s   (checks again on every save)\n", ex->name);
    printf("  Stuck:     hint %s\n", ex->name);
    if (ex->lesson[0])
        printf("  Read:      show %s\n", ex->lesson);
}

int ct_cmd_exercise(struct ct_ctx *ctx, const struct ct_options *opt, int argc, char **argv)
{
    (void)ctx, (void)argc;
    int rc;
    const struct ct_exercise *ex = lookup("exercise", argv[1], &rc);
    if (!ex)
        return rc;
    char path[PATH_MAX];
    enum handout how;
    if (hand_out(ex, path, sizeof path, &how) != 0)
        return CT_EXIT_FAILED;
    ct_progress_update(ex, CT_EXERCISE_STARTED, 0);
    if (opt->json) {
        struct ct_json j;
        ct_json_init(&j, stdout);
        ct_json_object_begin(&j);
        ct_json_kv_str(&j, "name", ex->name);
        ct_json_kv_int(&j, "chapter", ex->chapter);
        ct_json_kv_str(&j, "title", ex->title);
        ct_json_kv_str(&j, "path", path);
        ct_json_kv_str(&j, "file", how == HANDED_OUT ? "written" : how == UNCHANGED ? "unchanged"
                                                                                    : "kept");
        ct_json_key(&j, "task");
        ct_json_strn(&j, ex->task.s, ex->task.len);
        ct_json_object_end(&j);
        ct_json_finish(&j);
        return CT_EXIT_OK;
    }
    print_task(opt, ex);
    print_handout(ex, path, how);
    return CT_EXIT_OK;
}

/* ---- check NAME ------------------------------------------------------------ */

static void details_json(struct ct_json *j, const char *details)
{
    ct_json_array_begin(j);
    for (const char *p = details; *p;) {
        size_t len = strcspn(p, "\n");
        ct_json_strn(j, p, len);
        p += len + (p[len] == '\n');
    }
    ct_json_array_end(j);
}

static void report_json(const struct ct_exercise *ex, const char *path,
                        const struct ct_check_result *r)
{
    struct ct_json j;
    ct_json_init(&j, stdout);
    ct_json_object_begin(&j);
    ct_json_kv_str(&j, "exercise", ex->name);
    ct_json_kv_str(&j, "path", path);
    ct_json_kv_bool(&j, "passed", r->passed);
    ct_json_kv_str(&j, "stage", r->stage);
    ct_json_kv_str(&j, "reason", r->reason);
    ct_json_key(&j, "details");
    details_json(&j, r->details);
    ct_json_kv_str(&j, "sanitizers", r->sanitizers);
    ct_json_kv_str(&j, "note", r->note);
    ct_json_kv_num(&j, "ms", r->ms);
    ct_json_object_end(&j);
    ct_json_finish(&j);
}

static void report_text(const struct ct_options *opt, const struct ct_exercise *ex,
                        const struct ct_check_result *r, const struct ct_progress_entry *pr)
{
    bool color = ct_use_color(opt);
    char line[2048];
    const char *mark = r->passed ? (color ? "\033[1;32mPASS\033[0m" : "PASS")
                                 : (color ? "\033[1;31mFAIL\033[0m" : "FAIL");
    printf("check %s: %s (%.1f s)\n", ex->name, mark, r->ms / 1e3);
    say(r->reason);
    if (r->details[0]) {
        for (const char *p = r->details; *p;) {
            size_t len = strcspn(p, "\n");
            printf("    %.*s\n", (int)len, p);
            p += len + (p[len] == '\n');
        }
    }
    if (r->note[0]) {
        snprintf(line, sizeof line, "Note: %s.", r->note);
        say(line);
    }
    if (r->passed) {
        snprintf(line, sizeof line, "Compiled without a warning (-std=c17 -Wall -Wextra "
                                    "-pthread)%s%s.", r->sanitizers[0] ? "; clean under " : "",
                 r->sanitizers);
        say(line);
        const struct ct_exercise *next = ct_exercise_next(ex);
        if (next)
            snprintf(line, sizeof line, "Next: exercise %s   ('solution %s' shows a reference "
                                        "solution to compare with)", next->name, ex->name);
        else
            snprintf(line, sizeof line, "That was the last exercise. 'solution %s' shows a "
                                        "reference solution.", ex->name);
        say(line);
    } else if (strcmp(r->stage, "setup") != 0 && pr->hints < ex->nhints) {
        snprintf(line, sizeof line, "Stuck? 'hint %s' gives hint %d of %d.", ex->name,
                 pr->hints + 1, ex->nhints);
        say(line);
    } else if (strcmp(r->stage, "setup") != 0) {
        snprintf(line, sizeof line, "You have read every hint: 'solution %s' shows a "
                                    "reference solution.", ex->name);
        say(line);
    }
}

static struct ct_progress_entry progress_of(const struct ct_exercise *ex)
{
    size_t n;
    struct ct_progress_entry pr[CT_EXERCISE_MAX];
    const struct ct_exercise *all = ct_exercises(&n, NULL, 0);
    ct_progress_load(pr, n);
    return pr[ex - all];
}

/* Check `ex` and print the outcome: CT_EXIT_OK on a pass. */
static int check_one(const struct ct_options *opt, const struct ct_exercise *ex, int sigfd)
{
    char path[PATH_MAX];
    struct ct_check_result r;
    if (!ct_workspace_file(ex, path, sizeof path)) {
        fprintf(stderr, PROG ": check: no workspace: set CONCUR_TUTOR_WORKSPACE or HOME\n");
        return CT_EXIT_FAILED;
    }
    if (!opt->json) {
        printf("Checking %s ...\n", path);
        fflush(stdout);
    }
    int rc = ct_check_file(ex, path, sigfd, &r);
    if (rc == -EINTR) {
        fprintf(stderr, PROG ": check %s: interrupted\n", ex->name);
        return CT_EXIT_INTERRUPTED;
    }
    if (rc) {
        fprintf(stderr, PROG ": check %s: %s\n", ex->name, r.reason[0] ? r.reason : strerror(-rc));
        return CT_EXIT_FAILED;
    }
    if (r.passed)
        ct_progress_update(ex, CT_EXERCISE_DONE, 0);
    struct ct_progress_entry pr = progress_of(ex);
    if (opt->json)
        report_json(ex, path, &r);
    else
        report_text(opt, ex, &r, &pr);
    fflush(stdout);
    return r.passed ? CT_EXIT_OK : CT_EXIT_FAILED;
}

int ct_cmd_check(struct ct_ctx *ctx, const struct ct_options *opt, int argc, char **argv)
{
    (void)ctx, (void)argc;
    int rc;
    const struct ct_exercise *ex = lookup("check", argv[1], &rc);
    if (!ex)
        return rc;
    struct sigguard g;
    guard_begin(&g);
    rc = check_one(opt, ex, g.fd);
    guard_end(&g);
    return rc;
}

/* ---- hint NAME, solution NAME --------------------------------------------- */

int ct_cmd_hint(struct ct_ctx *ctx, const struct ct_options *opt, int argc, char **argv)
{
    (void)ctx, (void)argc;
    int rc;
    const struct ct_exercise *ex = lookup("hint", argv[1], &rc);
    if (!ex)
        return rc;
    struct ct_progress_entry pr = progress_of(ex);
    int k = pr.hints < ex->nhints ? pr.hints + 1 : ex->nhints;
    ct_progress_update(ex, CT_EXERCISE_STARTED, k);
    const struct ct_text *h = &ex->hints[k - 1];
    if (opt->json) {
        struct ct_json j;
        ct_json_init(&j, stdout);
        ct_json_object_begin(&j);
        ct_json_kv_str(&j, "exercise", ex->name);
        ct_json_kv_int(&j, "hint", k);
        ct_json_kv_int(&j, "of", ex->nhints);
        ct_json_key(&j, "text");
        ct_json_strn(&j, h->s, h->len);
        ct_json_object_end(&j);
        ct_json_finish(&j);
        return CT_EXIT_OK;
    }
    char line[256];
    printf(ct_use_color(opt) ? "\033[1mHint %d of %d for %s\033[0m\n\n" : "Hint %d of %d for %s\n\n",
           k, ex->nhints, ex->name);
    render_md(stdout, opt, h->s, h->len);
    if (k < ex->nhints)
        snprintf(line, sizeof line, "\nStill stuck after trying it? 'hint %s' again gives the "
                                    "next one.", ex->name);
    else
        snprintf(line, sizeof line, "\nThat was the last hint: 'solution %s' now shows a "
                                    "reference solution.", ex->name);
    ct_wrap(stdout, line, ct_term_width(), 0);
    return CT_EXIT_OK;
}

int ct_cmd_solution(struct ct_ctx *ctx, const struct ct_options *opt, int argc, char **argv)
{
    (void)ctx, (void)argc;
    int rc;
    const struct ct_exercise *ex = lookup("solution", argv[1], &rc);
    if (!ex)
        return rc;
    struct ct_progress_entry pr = progress_of(ex);
    if (pr.status != CT_EXERCISE_DONE && pr.hints < ex->nhints) {
        fprintf(stderr, PROG ": solution %s: not yet: pass 'check %s' first, or read all %d "
                        "hints ('hint %s'; %d shown so far)\n",
                ex->name, ex->name, ex->nhints, ex->name, pr.hints);
        return CT_EXIT_FAILED;
    }
    if (opt->json) {
        struct ct_json j;
        ct_json_init(&j, stdout);
        ct_json_object_begin(&j);
        ct_json_kv_str(&j, "exercise", ex->name);
        ct_json_key(&j, "solution");
        ct_json_strn(&j, ex->solution.s, ex->solution.len);
        ct_json_object_end(&j);
        ct_json_finish(&j);
        return CT_EXIT_OK;
    }
    return ct_term_page(ex->solution.s, ex->solution.len) ? CT_EXIT_FAILED : CT_EXIT_OK;
}

/* ---- watch [NAME] -------------------------------------------------------------- */

/* The first exercise not done, from `from` on (wrapping round), or NULL. */
static const struct ct_exercise *first_open(const struct ct_exercise *from)
{
    size_t n;
    struct ct_progress_entry pr[CT_EXERCISE_MAX];
    const struct ct_exercise *all = ct_exercises(&n, NULL, 0);
    ct_progress_load(pr, n);
    size_t start = from ? (size_t)(from - all) : 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = (start + k) % n;
        if (pr[i].status != CT_EXERCISE_DONE)
            return &all[i];
    }
    return NULL;
}

/* An inotify fd watching the workspace, set up before the first check so
 * that a save made while a check runs (or just after "waiting" is
 * printed) is never missed; -errno on failure. */
static int watch_workspace(void)
{
    char dir[PATH_MAX];
    if (!ct_workspace_dir(dir, sizeof dir))
        return -ENOENT;
    int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (in < 0)
        return -errno;
    if (inotify_add_watch(in, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0) {
        int err = -errno;
        close(in);
        return err;
    }
    return in;
}

/* Wait until NAME.c in the workspace is written (or renamed into place):
 * 0, CT_EXIT_INTERRUPTED on a signal, or -errno. */
static int wait_for_save(const struct ct_exercise *ex, int in, int sigfd)
{
    char file[96];
    snprintf(file, sizeof file, "%s.c", ex->name);
    int rc = 1;
    while (rc == 1) {
        struct pollfd fds[2] = { { in, POLLIN, 0 }, { sigfd, POLLIN, 0 } };
        if (poll(fds, 2, CT_KEY_POLL_MS) < 0 && errno != EINTR)
            return -errno;
        if (fds[1].revents & POLLIN)
            return CT_EXIT_INTERRUPTED;
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        ssize_t len;
        while ((len = read(in, buf, sizeof buf)) > 0) {
            for (char *p = buf; p < buf + len;) {
                struct inotify_event *e = (struct inotify_event *)p;
                if (e->len && strcmp(e->name, file) == 0)
                    rc = 0;
                p += sizeof *e + e->len;
            }
        }
    }
    /* editors write in several steps: let them finish, then forget the
     * events of those steps */
    struct timespec settle = { 0, 150 * 1000000L };
    nanosleep(&settle, NULL);
    char drain[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (read(in, drain, sizeof drain) > 0)
        ;
    return rc;
}

static int watch_loop(const struct ct_options *opt, const struct ct_exercise *ex, int sigfd)
{
    char path[PATH_MAX];
    while (ex) {
        enum handout how;
        if (hand_out(ex, path, sizeof path, &how) != 0)
            return CT_EXIT_FAILED;
        ct_progress_update(ex, CT_EXERCISE_STARTED, 0);
        int in = watch_workspace();
        if (in < 0) {
            fprintf(stderr, PROG ": watch: cannot watch the workspace: %s\n", strerror(-in));
            return CT_EXIT_FAILED;
        }
        print_task(opt, ex);
        print_handout(ex, path, how);
        printf("\nWatching %s: save it to check again; Ctrl-C stops.\n\n", path);
        fflush(stdout);
        int rc = check_one(opt, ex, sigfd);
        while (rc == CT_EXIT_FAILED) {
            printf("\nWaiting for you to save %s.c ...\n", ex->name);
            fflush(stdout);
            int w = wait_for_save(ex, in, sigfd);
            if (w == CT_EXIT_INTERRUPTED || w < 0) {
                close(in);
                if (w < 0)
                    fprintf(stderr, PROG ": watch: %s\n", strerror(-w));
                return w < 0 ? CT_EXIT_FAILED : w;
            }
            printf("\n--- %s.c changed ---\n", ex->name);
            rc = check_one(opt, ex, sigfd);
        }
        close(in);
        if (rc != CT_EXIT_OK)
            return rc;
        const struct ct_exercise *next = first_open(ex);
        if (next)
            printf("\n=== %s passed; on to %s ===\n\n", ex->name, next->name);
        ex = next;
    }
    printf("\nEvery exercise is done. Well done.\n");
    return CT_EXIT_OK;
}

int ct_cmd_watch(struct ct_ctx *ctx, const struct ct_options *opt, int argc, char **argv)
{
    (void)ctx;
    int rc;
    size_t n;
    if (!all_exercises(&n))
        return CT_EXIT_FAILED;
    const struct ct_exercise *ex = NULL;
    if (argc > 1 && !(ex = lookup("watch", argv[1], &rc)))
        return rc;
    if (opt->json)
        return ct_usage_error("watch: --json is not supported (use 'check NAME --json')");
    if (!ex)
        ex = first_open(NULL);
    if (!ex) {
        printf("Every exercise is done; 'exercises' lists them, 'watch NAME' checks one again.\n");
        return CT_EXIT_OK;
    }
    struct sigguard g;
    guard_begin(&g);
    rc = watch_loop(opt, ex, g.fd);
    guard_end(&g);
    if (rc == CT_EXIT_INTERRUPTED)
        printf("\nwatch: stopped.\n");
    return rc;
}
