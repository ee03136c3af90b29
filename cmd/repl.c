/* repl.c - the only file that knows libedit.
 *
 * libedit's native API (histedit.h) is used rather than its readline
 * emulation, whose completion hooks misbehave.  SIGINT is caught without
 * SA_RESTART so that Ctrl-C at the prompt makes el_gets() return NULL with
 * EINTR: the line is dropped and a fresh prompt shown.  libedit reads keys
 * through read_key() below, so that a Ctrl-C is never missed.  During a demo
 * the runner blocks SIGINT and handles it itself (see demos/run.c).
 */
#include "repl.h"

#include <errno.h>
#include <histedit.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#include "../demos/run.h"
#include "ct-config.h"
#include "term.h"

#define MAX_CANDS 200

static volatile sig_atomic_t got_sigint;

static void on_sigint(int sig)
{
    (void)sig;
    got_sigint = 1;
}

/* libedit's own reader notices Ctrl-C only when the signal interrupts its
 * read(2).  One that lands while libedit is busy (echoing the previous key)
 * runs the handler between system calls, and the next read blocks with the
 * line still there.  So the waiting is done here: with SIGINT blocked, look
 * at the flag, then wait in ppoll() with SIGINT unblocked, so that a signal
 * at any moment ends the wait.  Returns 1 with the character, 0 at end of
 * input, or -1 with errno (EINTR after Ctrl-C). */
static int read_key(EditLine *el, wchar_t *wc)
{
    static mbstate_t mbs;
    (void)el;
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    for (;;) {
        if (pthread_sigmask(SIG_BLOCK, &block, &old) != 0)
            return -1;
        if (got_sigint) {
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            errno = EINTR;
            return -1;
        }
        struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
        int r = ppoll(&p, 1, NULL, &old);
        int e = errno;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r < 0) {
            if (e == EINTR)
                continue;       /* Ctrl-C is seen above; other signals: wait on */
            errno = e;
            return -1;
        }
        char ch;
        ssize_t n = read(STDIN_FILENO, &ch, 1);
        if (n == 0)
            return 0;
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -1;
        }
        size_t k = mbrtowc(wc, &ch, 1, &mbs);
        if (k == (size_t)-2)
            continue;           /* inside a multibyte character */
        if (k == (size_t)-1) {  /* invalid here: hand libedit the byte */
            memset(&mbs, 0, sizeof mbs);
            *wc = (wchar_t)(unsigned char)ch;
        }
        return 1;
    }
}

/* ${XDG_STATE_HOME:-~/.local/state}/concur-tutor/history, creating the
 * directory; NULL when there is no home to keep it in. */
static char *history_path(void)
{
    char dir[PATH_MAX];
    const char *state = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    if (state && *state == '/')
        snprintf(dir, sizeof dir, "%s/concur-tutor", state);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.local/state/concur-tutor", home);
    else
        return NULL;
    for (char *p = dir + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0700);
            *p = '/';
        }
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return NULL;
    char *path = malloc(strlen(dir) + sizeof "/history");
    if (path)
        sprintf(path, "%s/history", dir);
    return path;
}

static const char *prompt(EditLine *el)
{
    (void)el;
    return "concur> ";
}

/* Print candidates in columns under the line being edited. */
static void list_candidates(char (*c)[CT_COMPLETE_LEN], int n, int total)
{
    int w = 0;
    for (int i = 0; i < n; i++) {
        int len = (int)strlen(c[i]);
        w = len > w ? len : w;
    }
    w += 2;
    int cols = ct_term_width() / w;
    if (cols < 1)
        cols = 1;
    int rows = (n + cols - 1) / cols;
    fputc('\n', stdout);
    for (int r = 0; r < rows; r++) {
        for (int k = 0; k < cols; k++) {
            int i = k * rows + r;
            if (i < n)
                printf("%-*s", k + 1 < cols ? w : 0, c[i]);
        }
        fputc('\n', stdout);
    }
    if (total > n)
        printf("(and %d more)\n", total - n);
}

static unsigned char complete(EditLine *el, int ch)
{
    (void)ch;
    struct ct_ctx *ctx;
    el_get(el, EL_CLIENTDATA, &ctx);
    const LineInfo *li = el_line(el);
    char *line = strndup(li->buffer, (size_t)(li->cursor - li->buffer));
    static char cands[MAX_CANDS][CT_COMPLETE_LEN];
    if (!line)
        return CC_ERROR;
    size_t start;
    int total = ct_complete(ctx, line, &start, cands, MAX_CANDS);
    int n = total < MAX_CANDS ? total : MAX_CANDS;
    size_t typed = strlen(line) - start;
    free(line);
    if (n == 0)
        return CC_ERROR;

    size_t common = strlen(cands[0]);
    for (int i = 1; i < n; i++) {
        size_t k = 0;
        while (k < common && cands[i][k] == cands[0][k])
            k++;
        common = k;
    }
    if (n == 1) {
        char add[CT_COMPLETE_LEN + 1];
        size_t len = strlen(cands[0]);
        /* a finished word gets its space; "threads=" waits for a value */
        snprintf(add, sizeof add, "%s%s", cands[0] + typed,
                 cands[0][len - 1] == '=' ? "" : " ");
        if (*add)
            el_insertstr(el, add);
        return CC_REFRESH;
    }
    if (common > typed) {
        char add[CT_COMPLETE_LEN];
        snprintf(add, sizeof add, "%.*s", (int)(common - typed), cands[0] + typed);
        el_insertstr(el, add);
        return CC_REFRESH;
    }
    list_candidates(cands, n, total);
    return CC_REDISPLAY;
}

static int interactive(struct ct_ctx *ctx)
{
    EditLine *el = el_init("concur-tutor", stdin, stdout, stderr);
    History *hist = history_init();
    if (!el || !hist) {
        if (el)
            el_end(el);
        if (hist)
            history_end(hist);
        fprintf(stderr, "concur-tutor: cannot start line editing\n");
        return CT_EXIT_FAILED;
    }
    HistEvent ev;
    history(hist, &ev, H_SETSIZE, 1000);
    history(hist, &ev, H_SETUNIQUE, 1);
    char *hpath = history_path();
    if (hpath)
        history(hist, &ev, H_LOAD, hpath);

    el_set(el, EL_EDITOR, "emacs");
    el_set(el, EL_SIGNAL, 1);
    el_set(el, EL_PROMPT, prompt);
    el_set(el, EL_HIST, history, hist);
    el_set(el, EL_CLIENTDATA, ctx);
    el_set(el, EL_ADDFN, "ct-complete", "complete a command, demo, lesson or parameter",
           complete);
    el_set(el, EL_BIND, "^I", "ct-complete", NULL);
    el_set(el, EL_GETCFN, read_key);
    el_source(el, NULL);

    struct sigaction sa = { .sa_handler = on_sigint }, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);

    printf("concur-tutor %s: 'list' shows the chapters, 'help' the commands, "
           "TAB completes, Ctrl-D leaves.\n", CT_VERSION);
    for (;;) {
        int count;
        errno = 0;
        got_sigint = 0;     /* a Ctrl-C during the last command is spent */
        const char *line = el_gets(el, &count);
        if (!line) {
            if (got_sigint || errno == EINTR) {
                /* Ctrl-C at the prompt: forget the line, prompt again */
                got_sigint = 0;
                fputc('\n', stdout);
                continue;
            }
            fputc('\n', stdout);
            break;      /* Ctrl-D on an empty line, or input closed */
        }
        got_sigint = 0;
        char *copy = strdup(line);
        if (!copy)
            break;
        copy[strcspn(copy, "\r\n")] = '\0';
        if (copy[strspn(copy, " \t")] != '\0') {
            history(hist, &ev, H_ENTER, copy);
            if (hpath)
                history(hist, &ev, H_SAVE, hpath);
            ct_exec_line(ctx, copy);
        }
        free(copy);
        if (ctx->quit)
            break;
    }

    sigaction(SIGINT, &old, NULL);
    free(hpath);
    history_end(hist);
    el_end(el);
    return CT_EXIT_OK;
}

static int script(struct ct_ctx *ctx)
{
    char *line = NULL;
    size_t cap = 0;
    int status = CT_EXIT_OK;
    while (!ctx->quit && getline(&line, &cap, stdin) > 0) {
        int rc = ct_exec_line(ctx, line);
        if (rc != CT_EXIT_OK && status == CT_EXIT_OK)
            status = rc;
        if (rc == CT_EXIT_INTERRUPTED)
            break;
    }
    free(line);
    return status;
}

int ct_repl(struct ct_ctx *ctx)
{
    ctx->repl = true;
    if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
        return interactive(ctx);
    return script(ctx);
}
