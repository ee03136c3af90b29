/* circuit-breaker: fail fast while the backend is down. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <time.h>

int backend_call(int arg);      /* the checker's: < 0 on failure */

enum { CLOSED, OPEN, HALF_OPEN };

struct breaker {
    pthread_mutex_t lock;
    int state, failures, threshold;
    double cooldown_ms, opened_at;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void breaker_init(struct breaker *b, int threshold, double cooldown_ms)
{
    pthread_mutex_init(&b->lock, NULL);
    b->state = CLOSED;
    b->failures = 0;
    b->threshold = threshold;
    b->cooldown_ms = cooldown_ms;
}

/* The backend's answer, or -EAGAIN when failing fast. */
int breaker_call(struct breaker *b, int arg)
{
    pthread_mutex_lock(&b->lock);
    if (b->state == OPEN) {
        if (now_ms() - b->opened_at < b->cooldown_ms) {
            pthread_mutex_unlock(&b->lock);
            return -EAGAIN;
        }
        b->state = HALF_OPEN;
    }
    pthread_mutex_unlock(&b->lock);

    int r = backend_call(arg);

    pthread_mutex_lock(&b->lock);
    if (r < 0 && (b->state == HALF_OPEN || ++b->failures >= b->threshold)) {
        b->state = OPEN;
        b->opened_at = now_ms();
    } else if (r >= 0) {
        b->state = CLOSED;
        b->failures = 0;
    }
    pthread_mutex_unlock(&b->lock);
    return r;
}
