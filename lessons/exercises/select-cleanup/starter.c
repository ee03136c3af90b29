/* select-cleanup: race two operations; the first one ready wins. */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>

struct op {
    /* true with the result in *out once done; false: not yet */
    bool (*poll)(struct op *op, int *out);
    /* cancel if not done, and release everything the op holds */
    void (*drop)(struct op *op);
};

/* Poll a and b in turn until one is done; return its result and set
 * *winner to 0 (a) or 1 (b). */
int select2(struct op *a, struct op *b, int *winner)
{
    for (;;) {
        int v;
        if (a->poll(a, &v)) {
            *winner = 0;
            a->drop(a);
            return v;
        }
        if (b->poll(b, &v)) {
            *winner = 1;
            b->drop(b);
            return v;
        }
    }
}
