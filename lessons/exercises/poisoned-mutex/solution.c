/* poisoned-mutex, solved: EOWNERDEAD means "you have the lock, but the
 * data may be half-changed".  Finish or undo the change, then call
 * pthread_mutex_consistent before unlocking; unlocking without it makes
 * the mutex unusable (ENOTRECOVERABLE) for everyone. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>

struct ledger {
    pthread_mutex_t lock;
    long a, b;
    long moving;
};

void ledger_init(struct ledger *l)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&l->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    l->a = 100;
    l->b = 0;
    l->moving = 0;
}

long ledger_total(struct ledger *l)
{
    int rc = pthread_mutex_lock(&l->lock);
    if (rc == EOWNERDEAD) {
        l->a += l->moving;      /* undo the transfer that died half-way */
        l->moving = 0;
        pthread_mutex_consistent(&l->lock);
    } else if (rc != 0) {
        return -1;
    }
    long total = l->a + l->b;
    pthread_mutex_unlock(&l->lock);
    return total;
}
