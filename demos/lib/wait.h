/* wait.h - blocking waits that always end: at a deadline, or on cancel.
 *
 * The project's locks block in pthread_cond_timedwait() or
 * pthread_mutex_timedlock(), never in an unbounded wait, so that a demo
 * can always be stopped.  A wait is sliced into short timed waits; after
 * each slice the caller's deadline and cancel event are looked at.  A
 * cancel event (ct_event) cannot wake a condition variable it does not
 * know, so cancellation is noticed within one slice (CT_WAIT_SLICE_NS).
 *
 * Deadlines are absolute CLOCK_MONOTONIC nanoseconds (ct_clock_ns());
 * CT_FOREVER means none.  A NULL cancel event is never set.
 */
#ifndef CT_WAIT_H
#define CT_WAIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "event.h"

#define CT_FOREVER INT64_MAX
#define CT_WAIT_SLICE_NS (20 * INT64_C(1000000))

/* The deadline `timeout_ns` from now; a negative timeout means CT_FOREVER. */
int64_t ct_deadline_after(int64_t timeout_ns);

/* Initialise a condition variable that times its waits on CLOCK_MONOTONIC
 * (which ct_cond_wait_bounded requires).  0 or a negative errno. */
int ct_cond_init_monotonic(pthread_cond_t *cv);

/* With `mu` held, wait on `cv` for at most one slice.  Returns 0 when
 * woken or when the slice ran out (the caller re-checks its condition and
 * calls again), -ETIMEDOUT once `deadline_ns` has passed, -ECANCELED when
 * `cancel` is set.  `mu` is held again on return, whatever the result. */
int ct_cond_wait_bounded(pthread_cond_t *cv, pthread_mutex_t *mu,
                         int64_t deadline_ns, struct ct_event *cancel);

/* For the POSIX timed waits that measure CLOCK_REALTIME
 * (pthread_mutex_timedlock, pthread_rwlock_timedrdlock, ...): fill `until`
 * with the realtime instant one slice from now, or `deadline_ns` if that
 * comes first.  False when the deadline has passed.  A slice is short, so a
 * step of the realtime clock can only stretch or shrink one slice. */
bool ct_realtime_slice(int64_t deadline_ns, struct timespec *until);

/* Lock `mu`, giving up at `deadline_ns` (-ETIMEDOUT) or on `cancel`
 * (-ECANCELED).  Returns 0 when locked; any other error of
 * pthread_mutex_timedlock() comes back negated, and for a robust mutex
 * -EOWNERDEAD means the lock IS held (its last owner died holding it). */
int ct_mutex_lock_bounded(pthread_mutex_t *mu, int64_t deadline_ns,
                          struct ct_event *cancel);

#endif
