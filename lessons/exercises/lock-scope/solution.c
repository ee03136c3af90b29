/* lock-scope, solved: look under the lock, fetch without it, store under
 * it again.  A second thread that misses the same key meanwhile fetches it
 * too; both store the same answer, which is harmless. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdbool.h>

int fetch(int key);

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
    bool have = c->have[key];
    int v = c->value[key];
    pthread_mutex_unlock(&c->lock);
    if (have)
        return v;
    v = fetch(key);
    pthread_mutex_lock(&c->lock);
    c->value[key] = v;
    c->have[key] = true;
    pthread_mutex_unlock(&c->lock);
    return v;
}
