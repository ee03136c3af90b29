/* reactor.h - the executor's event loop: where idle threads block, and
 * what fires timers.
 *
 * Tokio's "driver" in miniature, on Linux primitives: one epoll instance
 * watching a timerfd (armed, with nanosecond precision, for the earliest
 * deadline of a min-heap of timers) and an eventfd (written to interrupt a
 * thread blocked in the loop).  However many futures sleep, no thread is
 * parked per timer: a turn of the loop blocks in epoll_wait() until the
 * first deadline, then wakes every timer that is due.
 *
 * A current-thread executor turns the loop itself whenever it has nothing
 * to run; a multi-threaded one gives it a thread of its own.  Timers are
 * normally used through the sleep future (timer.h).
 */
#ifndef CT_REACTOR_H
#define CT_REACTOR_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "future.h"

/* One timer: lives inside the future that waits for it.  Zero it (or let
 * its owner's init do so) before first use. */
struct ct_timer {
    int64_t deadline;           /* CLOCK_MONOTONIC ns (clock.h) */
    size_t heap_index;          /* position in the heap, 0 = not in it */
    struct ct_waker waker;      /* woken when the deadline passes */
    struct ct_reactor *reactor; /* where it is registered, if anywhere */
};

struct ct_reactor {
    int epfd, timerfd, eventfd;
    pthread_mutex_t mu;         /* guards the fields below */
    struct ct_timer **heap;     /* 1-based min-heap by deadline */
    size_t n, cap;
    int64_t armed;              /* deadline the timerfd is set for, 0 = none */
    uint64_t fired;             /* timers fired so far */
};

/* 0 or a negative errno. */
int ct_reactor_init(struct ct_reactor *r);
/* Drops the wakers of timers still registered. */
void ct_reactor_destroy(struct ct_reactor *r);

/* Ask for `w` to be woken at `deadline` (a clone is kept).  Re-arming a
 * registered timer updates its waker; a timer is registered with at most
 * one reactor at a time.  0 or -ENOMEM. */
int ct_reactor_timer_arm(struct ct_reactor *r, struct ct_timer *t,
                         int64_t deadline, const struct ct_waker *w);
/* Unregister `t` if it is registered (its waker is dropped unwoken).
 * Returns whether it was. */
bool ct_reactor_timer_cancel(struct ct_timer *t);

/* One turn of the loop: block up to `timeout_ns` (-1: until something
 * happens) for a deadline or an unpark, then wake every due timer.
 * Returns the number of timers fired, or a negative errno. */
int ct_reactor_turn(struct ct_reactor *r, int64_t timeout_ns);
/* Make a thread blocked in ct_reactor_turn() (now or next) return. */
void ct_reactor_unpark(struct ct_reactor *r);

/* Timers registered right now. */
size_t ct_reactor_pending(struct ct_reactor *r);

#endif
