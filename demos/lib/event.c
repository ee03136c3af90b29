/* event.c - see event.h. */
#include "event.h"

#include <errno.h>

#include "check.h"
#include "clock.h"
#include "wait.h"

int ct_event_init(struct ct_event *e)
{
    atomic_init(&e->set, false);
    int rc = pthread_mutex_init(&e->mu, NULL);
    if (rc != 0)
        return -rc;
    rc = ct_cond_init_monotonic(&e->cv);
    if (rc != 0)
        pthread_mutex_destroy(&e->mu);
    return rc;
}

void ct_event_destroy(struct ct_event *e)
{
    CT_PT(pthread_cond_destroy(&e->cv));
    CT_PT(pthread_mutex_destroy(&e->mu));
}

void ct_event_set(struct ct_event *e)
{
    /* Set the flag under the mutex so a waiter cannot check it, miss the
     * store and then sleep through the broadcast. */
    CT_PT(pthread_mutex_lock(&e->mu));
    atomic_store_explicit(&e->set, true, memory_order_release);
    CT_PT(pthread_cond_broadcast(&e->cv));
    CT_PT(pthread_mutex_unlock(&e->mu));
}

bool ct_event_wait_timeout(struct ct_event *e, int64_t timeout_ns)
{
    if (ct_event_is_set(e))
        return true;
    if (timeout_ns == 0)
        return false;

    struct timespec deadline = ct_clock_after_ns(timeout_ns);
    CT_PT(pthread_mutex_lock(&e->mu));
    while (!atomic_load_explicit(&e->set, memory_order_relaxed)) {
        int rc = timeout_ns < 0 ? pthread_cond_wait(&e->cv, &e->mu)
                                : pthread_cond_timedwait(&e->cv, &e->mu, &deadline);
        if (rc == ETIMEDOUT)
            break;
        CT_PT(rc);
    }
    bool set = atomic_load_explicit(&e->set, memory_order_acquire);
    CT_PT(pthread_mutex_unlock(&e->mu));
    return set;
}
