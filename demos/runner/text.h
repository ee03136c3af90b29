/* text.h - small text utilities shared by the runner and the front end:
 * "did you mean ...?" suggestions, display width and word wrapping. */
#ifndef CT_TEXT_H
#define CT_TEXT_H

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
