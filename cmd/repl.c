/* repl.c - the only file that knows libedit.
 *
 * libedit's native API (histedit.h) is used rather than its readline
 * emulation, whose completion hooks misbehave.  Ctrl-C at the prompt makes
 * el_gets() return NULL with EINTR (see read_wchar): the line is dropped
 * and a fresh prompt shown.  During a demo the runner blocks SIGINT and
 * handles it itself (see demos/runner/run.c).
 */
#include "repl.h"

#include <errno.h>
#include <histedit.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <wchar.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "complete.h"
#include "decode.h"
#include "ct-config.h"
#include "exit.h"
#include "files.h"
#include "term.h"
#include "text.h"

#define MAX_CANDS 200
#define HISTORY_MAX (1u << 20)      /* 1 MiB: some 20,000 lines */

/* Signals at the prompt.
 *
 * The handlers only write the signal's number to a pipe, except where the
 * terminal itself is at stake: the character reader below polls the
 * terminal and that pipe together, so a signal is never lost between a
 * check and a blocking read, whatever libedit was doing when it came.
 *   SIGINT    forget the line being typed, prompt again
 *   SIGWINCH  lay the line out again for the new width
 *   SIGTSTP   (Ctrl-Z) give the terminal back as it was, stop; on `fg`,
 *             take it again and redraw the prompt and the line
 *   SIGTERM, SIGHUP, SIGQUIT  give the terminal back, then die of the
 *             signal as if it were not handled (history is saved per line)
 * SA_RESTART keeps the signals from failing libedit's own terminal writes
 * with EINTR.  During a demo the runner blocks the signals that stop a
 * demo and handles them itself (demos/runner/run.c). */
static int sig_pipe[2] = { -1, -1 };
static struct termios cooked;           /* the terminal as we found it */
static bool have_cooked;
static volatile sig_atomic_t at_prompt; /* inside el_gets: terminal is raw */

/* The character that read_wchar returns to ask for a redisplay.  Ctrl-\ is
 * never read as a character (the terminal turns it into SIGQUIT). */
#define REDRAW_CHAR L'\034'

static void restore_terminal(void)
{
    if (have_cooked)
        tcsetattr(STDIN_FILENO, TCSANOW, &cooked);
}

static void on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT) {
        restore_terminal();
        signal(sig, SIG_DFL);
        raise(sig);             /* blocked until this handler returns */
    } else if (sig == SIGTSTP) {
        struct termios raw;
        bool raw_now = at_prompt && have_cooked && tcgetattr(STDIN_FILENO, &raw) == 0;
        if (raw_now)
            restore_terminal();
        signal(SIGTSTP, SIG_DFL);
        sigset_t tstp;
        sigemptyset(&tstp);
        sigaddset(&tstp, SIGTSTP);
        sigprocmask(SIG_UNBLOCK, &tstp, NULL);
        raise(SIGTSTP);         /* stops here until SIGCONT */
        sigprocmask(SIG_BLOCK, &tstp, NULL);
        struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTSTP, &sa, NULL);
        if (raw_now) {
            tcsetattr(STDIN_FILENO, TCSANOW, &raw);
            unsigned char b = SIGWINCH;     /* redraw, as after a resize */
            ssize_t n = write(sig_pipe[1], &b, 1);
            (void)n;
        }
    } else {
        unsigned char b = (unsigned char)sig;
        ssize_t n = write(sig_pipe[1], &b, 1);
        (void)n;
    }
    errno = saved;
}

static const int handled[] = { SIGINT, SIGWINCH, SIGTSTP, SIGTERM, SIGHUP, SIGQUIT };
#define NHANDLED (sizeof handled / sizeof handled[0])

static void install_handlers(struct sigaction *old)
{
    struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NHANDLED; i++)
        sigaction(handled[i], &sa, &old[i]);
}

static void restore_handlers(const struct sigaction *old)
{
    for (size_t i = 0; i < NHANDLED; i++)
        sigaction(handled[i], &old[i], NULL);
}

/* The signal waiting in the pipe, or 0. */
static int take_signal(void)
{
    unsigned char b;
    return read(sig_pipe[0], &b, 1) == 1 ? b : 0;
}

static void drain_signals(void)
{
    while (take_signal())
        ;
}

/* Characters decoded but not yet handed to libedit (a byte can complete
 * two: see decode.h). */
static struct ct_decoder decoder;
static wchar_t queued[2];
static int nqueued, next_queued;

/* libedit's character reader, replaced: returns 1 with a character, 0 at
 * end of input, -1 with errno EINTR on Ctrl-C (el_gets then returns NULL
 * with count -1). */
static int read_wchar(EditLine *el, wchar_t *wc)
{
    for (;;) {
        if (next_queued < nqueued) {
            *wc = queued[next_queued++];
            return 1;
        }
        struct pollfd fds[2] = { { STDIN_FILENO, POLLIN, 0 }, { sig_pipe[0], POLLIN, 0 } };
        int ready = poll(fds, 2, CT_KEY_POLL_MS);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (ready == 0)
            continue;           /* nothing yet: look again */
        if (fds[1].revents & POLLIN) {
            int sig = take_signal();
            if (sig == SIGINT) {
                decoder.n = 0;
                errno = EINTR;
                return -1;
            }
            if (sig == SIGWINCH) {
                el_resize(el);
                *wc = REDRAW_CHAR;
                return 1;
            }
            continue;
        }
        unsigned char byte;
        ssize_t r = read(STDIN_FILENO, &byte, 1);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -1;
        }
        next_queued = 0;
        nqueued = r == 0 ? ct_decoder_finish(&decoder, queued)
                         : ct_decoder_feed(&decoder, byte, queued);
        if (r == 0 && nqueued == 0)
            return 0;
    }
}

static unsigned char redraw(EditLine *el, int ch)
{
    (void)el, (void)ch;
    return CC_REDISPLAY;
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
        ct_error("concur-tutor: cannot start line editing");
        return CT_EXIT_FAILED;
    }
    HistEvent ev;
    history(hist, &ev, H_SETSIZE, 1000);
    history(hist, &ev, H_SETUNIQUE, 1);
    char *hpath = history_path();
    char why[256];
    int hrc = hpath ? ct_check_regular_file(hpath, HISTORY_MAX, why, sizeof why) : 0;
    if (hrc == 0 && hpath) {
        history(hist, &ev, H_LOAD, hpath);
    } else if (hrc != -ENOENT) {
        /* a FIFO, a device, a huge file: do not touch it */
        ct_error("concur-tutor: history %s: %s; not keeping history this time",
                 hpath, why);
        free(hpath);
        hpath = NULL;
    }

    /* no EL_SIGNAL: SIGINT is ours (above); libedit's handler would put
     * the terminal in cooked mode and re-send the signal to the group */
    el_set(el, EL_EDITOR, "emacs");
    el_set(el, EL_GETCFN, read_wchar);
    el_set(el, EL_PROMPT, prompt);
    el_set(el, EL_HIST, history, hist);
    el_set(el, EL_CLIENTDATA, ctx);
    el_set(el, EL_ADDFN, "ct-complete", "complete a command, demo, lesson or parameter",
           complete);
    el_set(el, EL_BIND, "^I", "ct-complete", NULL);
    el_source(el, NULL);

    el_set(el, EL_ADDFN, "ct-redraw", "redraw the prompt and the line", redraw);
    el_set(el, EL_BIND, "\\034", "ct-redraw", NULL);

    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        ct_error("concur-tutor: cannot set up signal handling: %s", strerror(errno));
        free(hpath);
        history_end(hist);
        el_end(el);
        return CT_EXIT_FAILED;
    }
    have_cooked = tcgetattr(STDIN_FILENO, &cooked) == 0;
    struct sigaction old[NHANDLED];
    install_handlers(old);

    /* two short lines: each fits the narrowest terminal we support */
    printf("concur-tutor %s: 'list' shows the chapters, 'help' the commands;\n"
           "TAB completes, Ctrl-D leaves.\n", CT_VERSION);
    /* a broken lesson directory is worth knowing about at once; the
     * commands that need lessons will say so again */
    ct_ctx_lessons(ctx, true);
    int status = CT_EXIT_OK;
    for (;;) {
        int count;
        drain_signals();        /* a signal from before this prompt is spent */
        at_prompt = 1;
        const char *line = el_gets(el, &count);
        at_prompt = 0;
        if (!line) {
            if (count == -1 && errno == EINTR) {
                /* Ctrl-C at the prompt: forget the line, prompt again */
                fputc('\n', stdout);
                continue;
            }
            fputc('\n', stdout);
            break;      /* Ctrl-D on an empty line (count 0), or input closed */
        }
        char *copy = strdup(line);
        if (!copy)
            break;
        copy[strcspn(copy, "\r\n")] = '\0';
        int rc = CT_EXIT_OK;
        if (copy[strspn(copy, " \t")] != '\0') {
            history(hist, &ev, H_ENTER, copy);
            if (hpath)
                history(hist, &ev, H_SAVE, hpath);
            rc = ct_exec_line(ctx, copy);
        }
        free(copy);
        if (rc == 128 + SIGTERM || rc == 128 + SIGHUP) {
            status = rc;        /* a demo was stopped by it: so is the tutor */
            break;
        }
        if (ctx->quit)
            break;
    }

    restore_handlers(old);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    free(hpath);
    history_end(hist);
    el_end(el);
    return status;
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
        if (rc == CT_EXIT_INTERRUPTED || rc == 128 + SIGTERM || rc == 128 + SIGHUP) {
            status = rc;
            break;
        }
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
