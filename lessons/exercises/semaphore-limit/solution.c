/* semaphore-limit, solved: a semaphore starts with max permits; a query
 * takes one (sem_wait blocks while none is left) and gives it back. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>

void query(int id);

struct limiter {
    int max;
    sem_t permits;
};

void limiter_init(struct limiter *l, int max)
{
    l->max = max;
    sem_init(&l->permits, 0, (unsigned)max);
}

void limiter_destroy(struct limiter *l)
{
    sem_destroy(&l->permits);
}

void limited_query(struct limiter *l, int id)
{
    while (sem_wait(&l->permits) != 0 && errno == EINTR)
        ;
    query(id);
    sem_post(&l->permits);
}
