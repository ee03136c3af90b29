/* wait.h - the one way to wait: a deadline, a cancel event, and a slice.
 *
 * Every blocking call in demos/lib takes a timeout with one meaning,
 *
 *     timeout_ns <  0   wait as long as it takes (CT_FOREVER)
 *     timeout_ns == 0   do not wait: succeed now or report -ETIMEDOUT
 *     timeout_ns >  0   wait at most that long, then -ETIMEDOUT
 *
 * and a cancel event (may be NULL: never set) that ends the wait with
 * -ECANCELED.  The plain forms (ct_chan_recv, ct_rwlock_read_lock, ...)
 * are the _timeout forms with a negative timeout.
 *
 * Internally a wait becomes an absolute CLOCK_MONOTONIC deadline
 * (ct_deadline_after) and is cut into slices of CT_WAIT_SLICE_NS: a
 * ct_event cannot wake a condition variable or futex it does not know, so
 * a blocked thread looks at its cancel event at least once per slice.
 * Cancellation is therefore noticed within CT_WAIT_SLICE_NS.
 */
#ifndef CT_WAIT_H
#define CT_WAIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "event.h"

/* A deadline that never comes. */
#define CT_FOREVER INT64_MAX
/* The longest a blocked thread goes without looking at its cancel event. */
#define CT_WAIT_SLICE_NS (10 * INT64_C(1000000))

/* The absolute deadline for a timeout given as above: CT_FOREVER for a
 * negative timeout, now for 0, now + timeout_ns otherwise (a timeout too
 * large to add is CT_FOREVER). */
int64_t ct_deadline_after(int64_t timeout_ns);

/* How long to sleep next: the time left to `deadline_ns`, but at most one
 * slice; 0 once the deadline has passed. */
int64_t ct_slice_ns(int64_t deadline_ns);

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
