/* waker-poll, solved: PENDING is returned only with the waker stored, and
 * the check of `fired` and the storing happen under one lock, so the timer
 * cannot fire in between and find no waker. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdbool.h>

enum { PENDING = 0, READY = 1 };

struct waker {
    void (*wake)(void *arg);        /* tells the executor: poll again */
    void *arg;
};

struct timer_future {
    pthread_mutex_t lock;
    bool fired;                     /* set by the timer thread */
    bool has_waker;
    struct waker waker;             /* whom to wake when it fires */
};

void timer_init(struct timer_future *f)
{
    pthread_mutex_init(&f->lock, NULL);
    f->fired = false;
    f->has_waker = false;
}

/* Called once by the timer thread when the time is up. */
void timer_fire(struct timer_future *f)
{
    pthread_mutex_lock(&f->lock);
    f->fired = true;
    bool wake = f->has_waker;
    struct waker w = f->waker;
    f->has_waker = false;
    pthread_mutex_unlock(&f->lock);
    if (wake)
        w.wake(w.arg);
}

/* Called by the executor: READY once fired; otherwise PENDING, and then
 * w->wake(w->arg) must be called once the timer fires. */
int timer_poll(struct timer_future *f, const struct waker *w)
{
    pthread_mutex_lock(&f->lock);
    bool fired = f->fired;
    if (!fired) {
        f->waker = *w;          /* the latest waker replaces an older one */
        f->has_waker = true;
    }
    pthread_mutex_unlock(&f->lock);
    return fired ? READY : PENDING;
}
