/* timeout, solved: the deadline is computed once, as an absolute time,
 * before waiting; pthread_cond_timedwait then returns ETIMEDOUT when it
 * passes.  The condition variable measures on CLOCK_MONOTONIC, so setting
 * the wall clock cannot stretch or cut the wait. */
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
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->arrived, &attr);
    pthread_condattr_destroy(&attr);
    r->ready = false;
}

void reply_set(struct reply *r, int value)
{
    pthread_mutex_lock(&r->lock);
    r->value = value;
    r->ready = true;
    pthread_cond_signal(&r->arrived);
    pthread_mutex_unlock(&r->lock);
}

int reply_wait(struct reply *r, int timeout_ms, int *out)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    int rc = 0;
    pthread_mutex_lock(&r->lock);
    while (!r->ready && rc == 0)
        rc = pthread_cond_timedwait(&r->arrived, &r->lock, &deadline);
    if (r->ready) {
        *out = r->value;
        rc = 0;
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}
