/* decode.c - see decode.h. */
#include "decode.h"

#include <string.h>

/* Decode buf[0..n): 1 with a character, 0 if more bytes may complete it,
 * -1 if they are not a character. */
static int decode(const char *buf, size_t n, wchar_t *wc)
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t k = mbrtowc(wc, buf, n, &st);
    if (k == (size_t)-2)
        return n < MB_LEN_MAX ? 0 : -1;
    if (k == (size_t)-1)
        return -1;
    if (k == 0)
        *wc = L'\0';
    return 1;
}

int ct_decoder_feed(struct ct_decoder *d, unsigned char byte, wchar_t out[2])
{
    int produced = 0;
    d->buf[d->n++] = (char)byte;
    int r = decode(d->buf, d->n, &out[0]);
    if (r == 1) {
        d->n = 0;
        return 1;
    }
    if (r == 0)
        return 0;
    /* not a character: the bytes before this one are replaced, and this
     * one starts over on its own */
    if (d->n > 1) {
        out[produced++] = CT_REPLACEMENT_CHAR;
        d->buf[0] = (char)byte;
        d->n = 1;
        r = decode(d->buf, 1, &out[produced]);
        if (r == 0)
            return produced;
        if (r == 1) {
            d->n = 0;
            return produced + 1;
        }
    }
    out[produced++] = CT_REPLACEMENT_CHAR;
    d->n = 0;
    return produced;
}

int ct_decoder_finish(struct ct_decoder *d, wchar_t *out)
{
    if (d->n == 0)
        return 0;
    d->n = 0;
    *out = CT_REPLACEMENT_CHAR;
    return 1;
}
