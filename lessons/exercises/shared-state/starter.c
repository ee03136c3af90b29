/* shared-state: a read-mostly store shared by request threads. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

void lookup_cost(void);         /* the checker's: work done under the lock */

#define KEYS 64

struct store {
    pthread_mutex_t lock;
    int values[KEYS];
};

void store_init(struct store *s)
{
    pthread_mutex_init(&s->lock, NULL);
    for (int k = 0; k < KEYS; k++)
        s->values[k] = 0;
}

void store_destroy(struct store *s)
{
    pthread_mutex_destroy(&s->lock);
}

int store_get(struct store *s, int key)
{
    pthread_mutex_lock(&s->lock);
    int v = s->values[key];
    lookup_cost();
    pthread_mutex_unlock(&s->lock);
    return v;
}

void store_put(struct store *s, int key, int value)
{
    pthread_mutex_lock(&s->lock);
    s->values[key] = value;
    pthread_mutex_unlock(&s->lock);
}
