/* bulkhead, solved: one semaphore per priority, so low-priority work can
 * use up only its own permits and never the high-priority ones. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <semaphore.h>

enum { LOW = 0, HIGH = 1 };

struct bulkhead {
    sem_t permits[2];               /* [LOW], [HIGH] */
};

void bulkhead_init(struct bulkhead *b, int high, int low)
{
    sem_init(&b->permits[HIGH], 0, (unsigned)high);
    sem_init(&b->permits[LOW], 0, (unsigned)low);
}

void bulkhead_destroy(struct bulkhead *b)
{
    sem_destroy(&b->permits[HIGH]);
    sem_destroy(&b->permits[LOW]);
}

void bulkhead_run(struct bulkhead *b, int priority, void (*work)(void *), void *arg)
{
    sem_t *s = &b->permits[priority == HIGH ? HIGH : LOW];
    while (sem_wait(s) != 0 && errno == EINTR)
        ;
    work(arg);
    sem_post(s);
}
