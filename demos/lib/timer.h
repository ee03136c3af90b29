/* timer.h - the sleep future: ready once a deadline has passed.
 *
 * tokio::time::sleep in C.  Polling it before its deadline registers a
 * timer with the executor's reactor (reactor.h) and returns PENDING; the
 * reactor wakes the task when the deadline passes, and the next poll is
 * READY.  No thread sleeps on its behalf.  Dropping it early (a select or
 * a timeout that gave up on it) unregisters the timer.
 *
 * Durations are plain nanoseconds: a demo applies its time scale before
 * it calls ct_sleep_init.
 */
#ifndef CT_TIMER_H
#define CT_TIMER_H

#include <stdint.h>

#include "future.h"
#include "reactor.h"

struct ct_sleep {
    struct ct_future base;
    int64_t deadline;           /* CLOCK_MONOTONIC ns */
    struct ct_timer timer;
};

/* A future that is ready `ns` nanoseconds from now (from this call, not
 * from the first poll). */
void ct_sleep_init(struct ct_sleep *s, int64_t ns);
/* ... or at the CLOCK_MONOTONIC instant `deadline` (ct_clock_ns()). */
void ct_sleep_until_init(struct ct_sleep *s, int64_t deadline);

#endif
