/* ratelimit.h - a token bucket: at most `rate` requests per second on
 * average, with bursts of up to `burst` at once.
 *
 * A semaphore limits how many requests run at the same time; a token
 * bucket limits how many start per second, however short they are.  The
 * bucket holds up to `burst` tokens and gains `rate` tokens per second,
 * continuously; a request takes one token or, if there is none, is
 * refused (an HTTP server answers 429 Too Many Requests) or waits for the
 * next one.  Over any stretch of time t, at most burst + rate * t requests
 * get through.
 *
 * The arithmetic is exact: the level is kept in billionths of a token, so
 * a bucket with rate r gains exactly one token every 1e9 / r ns of
 * CLOCK_MONOTONIC time, with no drift from rounding.  The _at forms take
 * the instant as an argument (a ct_clock_ns() value; instants passed must
 * not go backwards), for tests and for simulations; the others read the
 * clock.  Waiters are not queued: when several wait, whichever looks first
 * after a token arrives takes it.
 *
 * Ordering: every operation takes the bucket's mutex, so takes are totally
 * ordered; the bucket orders nothing else.
 */
#ifndef CT_RATELIMIT_H
#define CT_RATELIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "event.h"

#define CT_BUCKET_MAX 1000000   /* largest rate (per second) and burst */

struct ct_bucket {
    pthread_mutex_t mu;         /* guards everything below */
    int64_t rate;               /* tokens per second */
    int64_t cap;                /* burst, in billionths of a token */
    int64_t level;              /* tokens now, in billionths */
    int64_t last_ns;            /* when `level` was brought up to date */
    uint64_t granted, refused;
};

/* A full bucket: `burst` tokens now, `rate` more per second (both
 * 1..CT_BUCKET_MAX).  0 or a negative errno. */
int ct_bucket_init(struct ct_bucket *b, long rate, long burst);
int ct_bucket_init_at(struct ct_bucket *b, long rate, long burst, int64_t now_ns);
void ct_bucket_destroy(struct ct_bucket *b);

/* Take a token if there is one; never waits.  A refusal is counted. */
bool ct_bucket_try_take(struct ct_bucket *b);
bool ct_bucket_try_take_at(struct ct_bucket *b, int64_t now_ns);

/* Nanoseconds until a token is there (0: one is there now). */
int64_t ct_bucket_wait_ns(struct ct_bucket *b);
int64_t ct_bucket_wait_ns_at(struct ct_bucket *b, int64_t now_ns);

/* Take a token, waiting for it at most `timeout_ns` (wait.h: < 0 for
 * ever, 0 only if there is one now).  0, -ETIMEDOUT, or -ECANCELED once
 * `cancel` (may be NULL) is set.  When the next token cannot arrive
 * before the deadline it returns -ETIMEDOUT at once instead of sleeping
 * for nothing.  Only a take that ends in -ETIMEDOUT counts as refused. */
int ct_bucket_take_timeout(struct ct_bucket *b, int64_t timeout_ns,
                           struct ct_event *cancel);

/* Tokens granted and refused so far. */
void ct_bucket_counts(struct ct_bucket *b, uint64_t *granted, uint64_t *refused);

#endif
