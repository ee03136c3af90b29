/* poisoned-mutex: two balances behind a robust mutex. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>

struct ledger {
    pthread_mutex_t lock;   /* robust */
    long a, b;              /* a + b == 100 whenever the lock is free */
    long moving;            /* taken from a, not yet added to b (0 if none) */
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

/* a + b, read with the lock held; -1 if the lock cannot be had. */
long ledger_total(struct ledger *l)
{
    pthread_mutex_lock(&l->lock);
    long total = l->a + l->b;
    pthread_mutex_unlock(&l->lock);
    return total;
}
