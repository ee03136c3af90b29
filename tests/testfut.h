/* testfut.h - small futures for the tests of the async primitives: ones
 * that count their polls, completions and drops, so a test can check that
 * every future finished or was cancelled exactly once. */
#ifndef CT_TESTFUT_H
#define CT_TESTFUT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "exec.h"
#include "future.h"

struct tf_stats {
    atomic_int polls, completions, drops;
};

/* Returns PENDING `yields` times (waking itself each time), then READY with
 * `value` and `error`; or calls ct_panic instead of finishing if `panic`. */
struct tf_yield {
    struct ct_future base;
    int left;
    intptr_t out_value;
    int out_error;
    bool panic;
    struct tf_stats *st;
};
void tf_yield_init(struct tf_yield *f, int yields, intptr_t value, struct tf_stats *st);

/* Never ready, never wakes anyone: only a drop ends it. */
struct tf_forever {
    struct ct_future base;
    struct tf_stats *st;
};
void tf_forever_init(struct tf_forever *f, struct tf_stats *st);

/* Ready once *counter >= target; waits with its waker in `slot`, which
 * another thread fires after bumping the counter. */
struct tf_remote {
    struct ct_future base;
    atomic_int *counter;
    int target;
    struct ct_waker_slot *slot;
    struct tf_stats *st;
};
void tf_remote_init(struct tf_remote *f, atomic_int *counter, int target,
                    struct ct_waker_slot *slot, struct tf_stats *st);

/* A waker that counts its wake-ups and references, and a context around
 * it, for polling futures by hand without an executor. */
struct tf_waker {
    atomic_int wakes, refs;
    struct ct_waker waker;
    struct ct_cx cx;
};
void tf_waker_init(struct tf_waker *w);

/* block_on with a generous deadline, so that a lost wake-up fails the test
 * instead of hanging it.  `f` is dropped afterwards (its output stays).
 * Returns the block_on result, or -ETIMEDOUT. */
int tf_block_on(struct ct_exec *ex, struct ct_future *f, double seconds);

/* Executors for the tests: plain pthreads. */
struct ct_exec *tf_exec(enum ct_exec_flavor flavor, int workers);

/* Smaller counts under ThreadSanitizer, which is ~10x slower. */
#if defined(__SANITIZE_THREAD__)
#define TF_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TF_TSAN 1
#endif
#endif
#ifndef TF_TSAN
#define TF_TSAN 0
#endif
#define TF_SCALE(n, tsan_n) (TF_TSAN ? (tsan_n) : (n))

#endif
