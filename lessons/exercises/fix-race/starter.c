/* fix-race: four threads count hits on one shared counter.
 * Some of the hits get lost.  Make the counter safe to share. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

struct counter {
    long value;
};

void counter_init(struct counter *c)
{
    c->value = 0;
}

void counter_destroy(struct counter *c)
{
    (void)c;
}

/* Called by many threads at the same time: one more hit. */
void counter_add(struct counter *c)
{
    c->value++;
}

/* Called once every thread has finished. */
long counter_get(struct counter *c)
{
    return c->value;
}
