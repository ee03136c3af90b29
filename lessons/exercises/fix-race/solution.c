/* fix-race, solved: a mutex makes each read-modify-write one step that no
 * other thread can split.  (An _Atomic long with atomic_fetch_add would
 * do as well, and costs less when only one number is shared.) */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

struct counter {
    pthread_mutex_t lock;   /* guards value */
    long value;
};

void counter_init(struct counter *c)
{
    pthread_mutex_init(&c->lock, NULL);
    c->value = 0;
}

void counter_destroy(struct counter *c)
{
    pthread_mutex_destroy(&c->lock);
}

void counter_add(struct counter *c)
{
    pthread_mutex_lock(&c->lock);
    c->value++;
    pthread_mutex_unlock(&c->lock);
}

long counter_get(struct counter *c)
{
    pthread_mutex_lock(&c->lock);
    long v = c->value;
    pthread_mutex_unlock(&c->lock);
    return v;
}
