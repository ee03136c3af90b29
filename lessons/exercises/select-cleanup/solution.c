/* select-cleanup, solved: whichever wins, both operations are dropped
 * before returning; dropping the loser is what cancels it. */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>

struct op {
    bool (*poll)(struct op *op, int *out);
    void (*drop)(struct op *op);
};

int select2(struct op *a, struct op *b, int *winner)
{
    int v;
    for (;;) {
        if (a->poll(a, &v)) {
            *winner = 0;
            break;
        }
        if (b->poll(b, &v)) {
            *winner = 1;
            break;
        }
    }
    a->drop(a);
    b->drop(b);
    return v;
}
