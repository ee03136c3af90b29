/* ptys.h - driving the program through a pseudo-terminal, for the tests of
 * what only happens on a terminal (the walk's keys and screens).
 *
 * Everything the program writes is kept twice: raw (escape sequences and
 * all, to look at the screen's structure) and as text with the escape
 * sequences dropped (to match words). */
#ifndef CT_TEST_PTY_H
#define CT_TEST_PTY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct pty {
    int fd;
    pid_t pid;
    char *seen;         /* text read so far, escape sequences removed */
    size_t len, mark;   /* mark: where the next expect starts looking */
    char *raw;          /* everything read so far, as written */
    size_t raw_len;
    int esc;            /* inside an escape sequence: 1 after ESC, 2 in CSI */
};

/* Start the program (argv[0] is ignored: the binary under test runs) on a
 * terminal of rows x cols, with `env` ("NAME=value", NULL-terminated) added
 * to TERM=xterm, NO_COLOR=1, PAGER=cat, LC_ALL=C. */
void pty_start(struct pty *t, int rows, int cols, const char *const *argv,
               const char *const *env);
/* Read until `want` appears after the mark (the mark then moves past it);
 * fail after timeout_ms. */
void pty_expect(struct pty *t, const char *want, double timeout_ms);
/* Read whatever comes within `ms`. */
void pty_drain(struct pty *t, double ms);
void pty_send(struct pty *t, const char *keys);
/* Wait until the terminal is out of canonical mode (the program reads
 * single keys). */
void pty_wait_keys(struct pty *t);
/* Is the terminal in its ordinary mode: line editing and echo on? */
bool pty_cooked(struct pty *t);
/* Was the cursor shown again after it was last hidden? */
bool pty_cursor_shown(const struct pty *t);
/* Resize the terminal (the program gets SIGWINCH). */
void pty_resize(struct pty *t, int rows, int cols);
/* Wait for the program to exit (reading what it writes); its status as
 * an exit code (128 + signal), -1 if it did not exit within 15 s.  The
 * terminal stays open for a look. */
int pty_wait(struct pty *t);
void pty_close(struct pty *t);

/* The text drawn since the last screen clear: escape sequences dropped,
 * one string per line (the caller frees the array and the buffer at
 * lines[0]).  Returns the number of lines. */
int pty_screen_lines(const struct pty *t, char ***lines);

#endif
