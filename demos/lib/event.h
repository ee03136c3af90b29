/* event.h - a one-shot event: a flag that, once set, wakes every waiter.
 *
 * It serves as a cancellation token (set on Ctrl-C, checked by every wait in
 * a demo) and as a starting pistol (workers wait for it so that they all
 * begin together).  Setting is idempotent; checking is one atomic load,
 * cheap enough for an inner loop.  It cannot be set from a signal handler
 * (it takes a mutex): the demo runner turns SIGINT into ct_event_set() on an
 * ordinary thread that waits in sigwait().
 */
#ifndef CT_EVENT_H
#define CT_EVENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct ct_event {
    atomic_bool set;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* timed waits use CLOCK_MONOTONIC */
};

/* 0 or a negative errno. */
int ct_event_init(struct ct_event *e);
void ct_event_destroy(struct ct_event *e);

/* Set the event and wake all waiters.  Safe to call any number of times,
 * from any thread (not from a signal handler).  Everything the setter did
 * before its first set happens-before every is_set / wait that returns
 * true. */
void ct_event_set(struct ct_event *e);

/* Has the event been set?  One acquire load: cheap in an inner loop. */
static inline bool ct_event_is_set(struct ct_event *e)
{
    return atomic_load_explicit(&e->set, memory_order_acquire);
}

/* Wait until the event is set (true) or the timeout passes (false).
 * timeout_ns as everywhere in demos/lib (wait.h): < 0 forever, 0 just
 * look, > 0 at most that long. */
bool ct_event_wait_timeout(struct ct_event *e, int64_t timeout_ns);

#endif
