/* tty.h - single keys from the terminal, for the presenter mode (walk.c).
 *
 * ct_tty_begin() saves the terminal as it is and puts it in key mode: no
 * line editing, no echo, cursor hidden; Ctrl-C and Ctrl-Z still make
 * signals.  From then until ct_tty_end() the terminal is given back as it
 * was on every way out: ct_tty_end(), a fatal signal (SIGTERM, SIGHUP,
 * SIGQUIT: restored, then the program dies of the signal as it would
 * have), and Ctrl-Z (restored while stopped, key mode again after `fg`).
 * repl.c keeps the same rules for the prompt; this is the walk's half.
 */
#ifndef CT_TTY_H
#define CT_TTY_H

#include <stdbool.h>
#include <stddef.h>

enum {
    CT_KEY_EOF = -1,        /* the terminal is gone */
    CT_KEY_RESIZE = -2,     /* SIGWINCH, or back from Ctrl-Z: draw again */
    CT_KEY_INTR = -3,       /* Ctrl-C */
    CT_KEY_NEXT = -4,       /* right, down, Page Down */
    CT_KEY_BACK = -5,       /* left, up, Page Up */
    CT_KEY_ESC = -6,        /* Escape alone */
};

/* Enter key mode.  0, or a negative errno (not a terminal). */
int ct_tty_begin(void);
/* Give the terminal back as it was and restore the signal handlers. */
void ct_tty_end(void);

/* For a demo: the terminal as it was, but without echo (keys pressed
 * during the demo are thrown away afterwards), cursor shown. */
void ct_tty_demo_mode(void);
/* Back to key mode, discarding what was typed meanwhile. */
void ct_tty_key_mode(void);

/* The next key (a byte, or one of CT_KEY_*). */
int ct_tty_key(void);

/* Read a line with echo and line editing, as the terminal does it.  0, or
 * -ECANCELED on Ctrl-C or Esc, -ENODATA at the end of input. */
int ct_tty_read_line(char *buf, size_t n);

/* The terminal's size (24 x 80 when it cannot be had). */
void ct_tty_size(int *rows, int *cols);

#endif
