/* static-buffer, solved: format straight into the caller's buffer, so no
 * two callers share any memory.  (A _Thread_local buffer in order_label
 * would also work: one buffer per thread.) */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <string.h>

static void format_label(char *out, int id)
{
    memcpy(out, "ORD-", 4);
    for (int i = 9; i >= 4; i--) {
        out[i] = (char)('0' + id % 10);
        id /= 10;
    }
    out[10] = '\0';
}

char *order_label_r(int id, char *out, size_t n)
{
    char label[16];
    format_label(label, id);
    for (size_t i = 0; i < n; i++) {
        out[i] = label[i];
        if (label[i] == '\0')
            break;
    }
    return out;
}
