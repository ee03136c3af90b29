/* text.h - small text utilities shared by the runner and the front end:
 * "did you mean ...?" suggestions, display width and word wrapping. */
#ifndef CT_TEXT_H
#define CT_TEXT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Offer candidates one by one; the result is the closest one that is close
 * enough to be a likely typo (or of which `word` is a prefix), else NULL. */
struct ct_suggest {
    const char *word;
    const char *best;
    int best_score;
};

void ct_suggest_init(struct ct_suggest *s, const char *word);
void ct_suggest_add(struct ct_suggest *s, const char *candidate);
const char *ct_suggest_result(const struct ct_suggest *s);

/* Optimal string alignment distance (Levenshtein plus adjacent swaps),
 * case-insensitive; stops counting past `limit` and returns limit + 1. */
int ct_edit_distance(const char *a, const char *b, int limit);

/* Display columns of a UTF-8 string, skipping ANSI escape sequences (every
 * code point counts as one column; lesson text sticks to such characters). */
int ct_text_width(const char *s, size_t len);

/* Write `text` word-wrapped to `width` columns, every line starting with
 * `indent` spaces.  Runs of blanks collapse; "\n" in text starts a new
 * line.  Words longer than a line are not broken. */
void ct_wrap(FILE *out, const char *text, int width, int indent);

/* `head` at column `indent`, then `text` wrapped to `width` in a column
 * starting at `col` (a hanging indent):
 *     "  run DEMO [KEY=VALUE ...]  Run a demo live, then print ...
 *                                  wrapped here"
 * A head that reaches `col` puts the text on the next line. */
void ct_wrap_item(FILE *out, const char *head, int indent, int col, const char *text,
                  int width);

/* Print one error or usage message on stderr, "PROG: what went wrong"
 * (the caller writes the prefix), word-wrapped to the terminal's width (80
 * when stderr is not a terminal) with continuation lines indented by
 * CT_ERROR_HANG.  Every error message of the program goes through here, so
 * none is wider than the screen. */
#define CT_ERROR_HANG 2
void ct_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
void ct_verror(const char *fmt, va_list ap);
/* The width ct_error wraps to. */
int ct_error_width(void);
/* `text` (lines separated by "\n") to `out`: each line that is wider than
 * `width` word-wrapped, its continuation lines indented by `hang`; lines
 * that fit are written as they are. */
void ct_wrap_hanging(FILE *out, const char *text, int width, int hang);

/* "1,234,567": digits grouped in threes, for people reading counts. */
void ct_group_digits(long long v, char *buf, size_t n);

/* `s` quoted for an error message: in single quotes, control characters
 * escaped (\n, \e, \x01), cut after 60 characters with "...".  Returns
 * buf, which must hold at least 8 bytes (80 show the whole 60). */
const char *ct_quote(const char *s, char *buf, size_t n);
/* ct_quote into a temporary that lives to the end of the enclosing block:
 * for the arguments of one message. */
#define CT_Q(s) ct_quote((s), (char[80]){ 0 }, 80)

#endif
