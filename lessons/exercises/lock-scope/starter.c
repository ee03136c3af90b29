/* lock-scope: a cache in front of a slow service. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdbool.h>

int fetch(int key);             /* the checker's: slow */

#define KEYS 256

struct cache {
    pthread_mutex_t lock;
    bool have[KEYS];
    int value[KEYS];
};

void cache_init(struct cache *c)
{
    pthread_mutex_init(&c->lock, NULL);
    for (int k = 0; k < KEYS; k++)
        c->have[k] = false;
}

void cache_destroy(struct cache *c)
{
    pthread_mutex_destroy(&c->lock);
}

int cache_get(struct cache *c, int key)
{
    pthread_mutex_lock(&c->lock);
    if (!c->have[key]) {
        c->value[key] = fetch(key);
        c->have[key] = true;
    }
    int v = c->value[key];
    pthread_mutex_unlock(&c->lock);
    return v;
}
