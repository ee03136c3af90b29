/* static-buffer: order labels, "ORD-000042", made by many threads. */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <string.h>

/* Write "ORD-" and id as six digits into out (11 bytes with the NUL). */
static void format_label(char *out, int id)
{
    memcpy(out, "ORD-", 4);
    for (int i = 9; i >= 4; i--) {
        out[i] = (char)('0' + id % 10);
        id /= 10;
    }
    out[10] = '\0';
}

/* The label of `id`, in a buffer that stays valid until the next call. */
static const char *order_label(int id)
{
    static char buf[16];
    format_label(buf, id);
    return buf;
}

/* The label of `id` in the caller's `out` (n bytes, at least 11). */
char *order_label_r(int id, char *out, size_t n)
{
    const char *label = order_label(id);
    for (size_t i = 0; i < n; i++) {
        out[i] = label[i];
        if (label[i] == '\0')
            break;
    }
    return out;
}
