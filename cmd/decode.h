/* decode.h - keyboard bytes to characters, never losing one.
 *
 * The prompt reads its input a byte at a time and turns it into wide
 * characters in the current locale (UTF-8 in practice).  Bytes that are
 * not a character become U+FFFD, and the byte that showed they were not
 * is decoded afresh: "caf\xe9" + Enter gives "caf", U+FFFD, Enter, so a
 * bad byte can never swallow the key after it. */
#ifndef CT_DECODE_H
#define CT_DECODE_H

#include <limits.h>
#include <stddef.h>
#include <wchar.h>

#define CT_REPLACEMENT_CHAR ((wchar_t)0xfffd)

struct ct_decoder {
    char buf[MB_LEN_MAX];
    size_t n;               /* bytes of an unfinished character */
};

/* Feed one byte; the characters it completes go to out[] (at most two: a
 * U+FFFD for bad bytes before it, and the byte's own).  Returns how many. */
int ct_decoder_feed(struct ct_decoder *d, unsigned char byte, wchar_t out[2]);

/* At the end of input: a character cut short becomes U+FFFD (1), or 0. */
int ct_decoder_finish(struct ct_decoder *d, wchar_t *out);

#endif
