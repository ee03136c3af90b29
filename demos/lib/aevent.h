/* aevent.h - a one-shot event that tasks await without blocking a thread.
 *
 * The async twin of event.h (tokio's Notify used as a gate): any thread
 * sets it; every task waiting on it is woken.  A waiting task costs one
 * list node inside its wait future, and no thread.
 *
 * Ordering: everything the setter did before the set happens-before every
 * wait future that completes because of it.
 */
#ifndef CT_AEVENT_H
#define CT_AEVENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "future.h"

/* A waiter's place in the event's list; lives in its wait future. */
struct ct_aevent_node {
    struct ct_aevent_node *prev, *next;
    struct ct_waker waker;
    bool queued;
};

struct ct_aevent {
    atomic_bool set;
    pthread_mutex_t mu;         /* guards the list */
    struct ct_aevent_node *head;
};

/* 0 or a negative errno. */
int ct_aevent_init(struct ct_aevent *e);
/* Call only when no wait future is left on it. */
void ct_aevent_destroy(struct ct_aevent *e);
/* Set it and wake every waiter; idempotent; any thread. */
void ct_aevent_set(struct ct_aevent *e);
bool ct_aevent_is_set(struct ct_aevent *e);

/* A future that is ready once the event is set.  Dropping it while it
 * waits takes it off the list. */
struct ct_aevent_wait {
    struct ct_future base;
    struct ct_aevent *ev;
    struct ct_aevent_node node;
};
void ct_aevent_wait_init(struct ct_aevent_wait *w, struct ct_aevent *ev);

#endif
