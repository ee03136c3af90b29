/* words.h - splitting a typed line into words, the way a shell would for
 * the simple cases: blanks separate words, '...' and "..." quote, and a
 * word starting with # begins a comment that runs to the end. */
#ifndef CT_WORDS_H
#define CT_WORDS_H

#include <stddef.h>

/* Split `line` in place into at most `max` words stored in argv (which
 * must have room for max + 1 pointers; argv[n] is set to NULL).  Returns
 * the number of words, -EINVAL for an unclosed quote, or -E2BIG when the
 * line has more than `max` words (never a silent cut). */
int ct_split_line(char *line, char **argv, int max);

/* The most words a line of `len` bytes can hold: enough for argv to never
 * be too small. */
static inline int ct_max_words(size_t len)
{
    return (int)(len / 2 + 1);
}

#endif
