/* lockq.h - the textbook queue: a ring buffer behind one mutex and two
 * condition variables.  channel-bench's baseline.
 *
 * This is what most C code reaches for, written the way a careful
 * programmer would: no allocation per message (the ring only grows, by
 * doubling, when unbounded), waiters counted so that a send or receive
 * signals a condition variable only when someone is actually waiting, the
 * signal given after the mutex is released, and one message per call (no
 * batching).  Every operation still takes the one lock, and every message
 * is copied while holding it: that is the cost the lock-free channel in
 * chan.h avoids.
 *
 * Unlike chan.h there are no handles: the owner closes the queue (for
 * example, the last producer when it is done), after which sends fail and
 * receivers drain what is left and then get -EPIPE.
 *
 * Ordering: the mutex orders everything.  A send happens-before the
 * receive that returns its message; the close happens-before a receive's
 * -EPIPE.  Messages leave in the order they were sent (one FIFO).
 */
#ifndef CT_LOCKQ_H
#define CT_LOCKQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define CT_LOCKQ_UNBOUNDED 0

struct ct_lockq {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;     /* timed on CLOCK_MONOTONIC */
    unsigned char *buf;
    size_t msg_size;
    size_t capacity;            /* CT_LOCKQ_UNBOUNDED or the bound */
    size_t alloc;               /* slots allocated */
    size_t head, len;
    int recv_waiting, send_waiting;
    bool closed;
};

/* 0, -EINVAL (msg_size 0) or -ENOMEM.  `capacity` may be
 * CT_LOCKQ_UNBOUNDED. */
int ct_lockq_init(struct ct_lockq *q, size_t msg_size, size_t capacity);
void ct_lockq_destroy(struct ct_lockq *q);

/* Copy `msg` in, waiting while a bounded queue is full.  0, -EPIPE
 * (closed), -ECANCELED, -ENOMEM (could not grow). */
int ct_lockq_send(struct ct_lockq *q, const void *msg, struct ct_event *cancel);

/* Copy the oldest message out, waiting while empty.  0, -EPIPE (closed
 * and empty), -ECANCELED. */
int ct_lockq_recv(struct ct_lockq *q, void *out, struct ct_event *cancel);

/* No more sends; wakes every waiter. */
void ct_lockq_close(struct ct_lockq *q);

#endif
