/* term.h - terminal decisions: colour, width, paging. */
#ifndef CT_TERM_H
#define CT_TERM_H

#include <stdbool.h>
#include <stddef.h>

/* Colour only on a terminal, and not when --no-color was given, NO_COLOR
 * is set to anything non-empty (no-color.org), or TERM is "dumb". */
bool ct_term_color(bool no_color_option);

/* Columns to wrap to: the terminal's width, else $COLUMNS, else 80;
 * clamped to 40..160 so that text stays readable on a projector. */
int ct_term_width(void);

/* How long a wait for a key (or a signal's byte in a self-pipe) lasts
 * before it looks again.  Every wait is bounded: a sanitizer that defers
 * a signal arriving just before poll() handles it only when the call
 * returns, so an unbounded poll could sleep through a SIGTERM. */
#define CT_KEY_POLL_MS 500

/* Is stdout a terminal (so that paging makes sense)? */
bool ct_term_is_tty(void);

/* Write `text` to stdout, through $PAGER (default "less -FIRX") when
 * stdout is a terminal.  Falls back to plain output when the pager cannot
 * run.  0, or -EIO if the output could not be written. */
int ct_term_page(const char *text, size_t len);

#endif
