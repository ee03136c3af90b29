/* shared-state, solved.
 *
 * Why a reader-writer lock: lookups far outnumber updates, and each one
 * holds the lock for a while (lookup_cost), so letting readers overlap is
 * worth the rwlock's higher cost per acquisition.  A mutex would be the
 * better choice if the critical sections were a few instructions long, or
 * writes were frequent: then the bookkeeping of readers costs more than
 * the waiting it saves (see the rwlock-bench demo). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

void lookup_cost(void);

#define KEYS 64

struct store {
    pthread_rwlock_t lock;
    int values[KEYS];
};

void store_init(struct store *s)
{
    pthread_rwlock_init(&s->lock, NULL);
    for (int k = 0; k < KEYS; k++)
        s->values[k] = 0;
}

void store_destroy(struct store *s)
{
    pthread_rwlock_destroy(&s->lock);
}

int store_get(struct store *s, int key)
{
    pthread_rwlock_rdlock(&s->lock);
    int v = s->values[key];
    lookup_cost();
    pthread_rwlock_unlock(&s->lock);
    return v;
}

void store_put(struct store *s, int key, int value)
{
    pthread_rwlock_wrlock(&s->lock);
    s->values[key] = value;
    pthread_rwlock_unlock(&s->lock);
}
