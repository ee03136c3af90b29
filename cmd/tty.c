/* tty.c - see tty.h.
 *
 * The handlers only write to a pipe (SIGINT, SIGWINCH), except where the
 * terminal itself is at stake: SIGTERM, SIGHUP and SIGQUIT restore it and
 * die of the signal; SIGTSTP restores it, stops, and takes it again on
 * SIGCONT.  The key reader polls the terminal and the pipe together, so
 * that no signal is lost between a check and a blocking read.
 */
#include "tty.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "term.h"

#define SHOW_CURSOR "\033[?25h"
#define HIDE_CURSOR "\033[?25l"

static struct termios saved;            /* the terminal as we found it */
static struct termios keys;             /* key mode */
static volatile sig_atomic_t active;    /* between begin and end */
static volatile sig_atomic_t in_keys;   /* in key mode (else demo mode) */
static int sig_pipe[2] = { -1, -1 };

static const int handled[] = { SIGINT, SIGWINCH, SIGTSTP, SIGTERM, SIGHUP, SIGQUIT };
#define NHANDLED (sizeof handled / sizeof handled[0])
static struct sigaction old_actions[NHANDLED];

static void put(const char *s)
{
    ssize_t n = write(STDOUT_FILENO, s, strlen(s));
    (void)n;
}

/* Async-signal-safe: tcsetattr and write only. */
static void give_back(void)
{
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    put(SHOW_CURSOR);
}

static void take(void)
{
    if (in_keys) {
        tcsetattr(STDIN_FILENO, TCSANOW, &keys);
        put(HIDE_CURSOR);
    } else {
        struct termios demo = saved;
        demo.c_lflag &= (tcflag_t)~ECHO;
        tcsetattr(STDIN_FILENO, TCSANOW, &demo);
    }
}

static void notify(int sig)
{
    unsigned char b = (unsigned char)sig;
    ssize_t n = write(sig_pipe[1], &b, 1);
    (void)n;
}

static void on_signal(int sig);

static void install(int sig)
{
    struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void on_signal(int sig)
{
    int saved_errno = errno;
    if (sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT) {
        if (active)
            give_back();
        signal(sig, SIG_DFL);
        raise(sig);             /* delivered when this handler returns */
    } else if (sig == SIGTSTP) {
        if (active)
            give_back();
        signal(SIGTSTP, SIG_DFL);
        sigset_t tstp;
        sigemptyset(&tstp);
        sigaddset(&tstp, SIGTSTP);
        sigprocmask(SIG_UNBLOCK, &tstp, NULL);
        raise(SIGTSTP);         /* stops here until SIGCONT */
        sigprocmask(SIG_BLOCK, &tstp, NULL);
        install(SIGTSTP);
        if (active) {
            take();
            notify(SIGWINCH);   /* draw the page again */
        }
    } else {
        notify(sig);
    }
    errno = saved_errno;
}

int ct_tty_begin(void)
{
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved) != 0)
        return -ENOTTY;
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return -errno;
    keys = saved;
    keys.c_lflag &= (tcflag_t)~(ICANON | ECHO);
    keys.c_lflag |= ISIG;
    keys.c_cc[VMIN] = 1;
    keys.c_cc[VTIME] = 0;
    struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NHANDLED; i++)
        sigaction(handled[i], &sa, &old_actions[i]);
    in_keys = 1;
    active = 1;
    take();
    return 0;
}

void ct_tty_end(void)
{
    if (!active)
        return;
    active = 0;
    give_back();
    for (size_t i = 0; i < NHANDLED; i++)
        sigaction(handled[i], &old_actions[i], NULL);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    sig_pipe[0] = sig_pipe[1] = -1;
}

void ct_tty_demo_mode(void)
{
    in_keys = 0;
    take();
    put(SHOW_CURSOR);
}

void ct_tty_key_mode(void)
{
    tcflush(STDIN_FILENO, TCIFLUSH);
    in_keys = 1;
    take();
}

/* The signal waiting in the pipe, or 0. */
static int take_signal(void)
{
    unsigned char b;
    return read(sig_pipe[0], &b, 1) == 1 ? b : 0;
}

/* Wait up to `ms` for a byte; -1 if none came. */
static int byte_within(int ms)
{
    struct pollfd p = { STDIN_FILENO, POLLIN, 0 };
    unsigned char c;
    if (poll(&p, 1, ms) > 0 && read(STDIN_FILENO, &c, 1) == 1)
        return c;
    return -1;
}

/* After ESC: an arrow or paging key, or Escape alone. */
static int escape_sequence(void)
{
    int c = byte_within(30);
    if (c != '[' && c != 'O')
        return CT_KEY_ESC;
    int d = byte_within(30);
    switch (d) {
    case 'C': case 'B': return CT_KEY_NEXT;     /* right, down */
    case 'D': case 'A': return CT_KEY_BACK;     /* left, up */
    case '5': case '6':                         /* Page Up, Page Down: ESC [ 5 ~ */
        byte_within(30);
        return d == '6' ? CT_KEY_NEXT : CT_KEY_BACK;
    default:
        return CT_KEY_ESC;
    }
}

int ct_tty_key(void)
{
    for (;;) {
        struct pollfd fds[2] = { { STDIN_FILENO, POLLIN, 0 }, { sig_pipe[0], POLLIN, 0 } };
        int ready = poll(fds, 2, CT_KEY_POLL_MS);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            return CT_KEY_EOF;
        }
        if (ready == 0)
            continue;           /* nothing yet: look again */
        if (fds[1].revents & POLLIN) {
            int sig = take_signal();
            if (sig == SIGINT)
                return CT_KEY_INTR;
            if (sig == SIGWINCH)
                return CT_KEY_RESIZE;
            continue;
        }
        if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL) && !(fds[0].revents & POLLIN))
            return CT_KEY_EOF;
        unsigned char c;
        ssize_t r = read(STDIN_FILENO, &c, 1);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0)
            return CT_KEY_EOF;
        return c == 033 ? escape_sequence() : c;
    }
}

int ct_tty_read_line(char *buf, size_t n)
{
    struct termios line = saved;
    line.c_lflag |= ICANON | ECHO | ISIG;
    line.c_cc[VEOL] = 033;      /* Esc ends the line at once: it cancels */
    tcsetattr(STDIN_FILENO, TCSANOW, &line);
    put(SHOW_CURSOR);
    size_t len = 0;
    int rc = 0;
    for (;;) {
        struct pollfd fds[2] = { { STDIN_FILENO, POLLIN, 0 }, { sig_pipe[0], POLLIN, 0 } };
        if (poll(fds, 2, CT_KEY_POLL_MS) < 0 && errno != EINTR) {
            rc = -ENODATA;
            break;
        }
        if (fds[1].revents & POLLIN) {
            if (take_signal() == SIGINT) {
                rc = -ECANCELED;
                break;
            }
            continue;
        }
        if (!(fds[0].revents & (POLLIN | POLLHUP)))
            continue;
        char c;
        ssize_t r = read(STDIN_FILENO, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = len ? 0 : -ENODATA;
            break;
        }
        if (c == '\n')
            break;
        if (c == 033) {         /* Esc, alone or starting an arrow key */
            rc = -ECANCELED;
            break;
        }
        if (len + 1 < n)
            buf[len++] = c;
    }
    buf[len] = '\0';
    tcflush(STDIN_FILENO, TCIFLUSH);
    take();
    return rc;
}

void ct_tty_size(int *rows, int *cols)
{
    struct winsize ws;
    *rows = 24;
    *cols = 80;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
        *rows = ws.ws_row;
        *cols = ws.ws_col;
    }
    if (*rows < 8)
        *rows = 8;
    if (*cols < 40)
        *cols = 40;
}
