/* semaphore-limit: at most max queries at the same time. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <semaphore.h>

void query(int id);             /* the checker's: slow */

struct limiter {
    int max;
};

void limiter_init(struct limiter *l, int max)
{
    l->max = max;
}

void limiter_destroy(struct limiter *l)
{
    (void)l;
}

/* Called by many threads at once. */
void limited_query(struct limiter *l, int id)
{
    (void)l;
    query(id);
}
