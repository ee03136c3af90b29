/* combinators.h - futures made of futures: join, select, timeout.
 *
 * What tokio::join!, tokio::select! and tokio::time::timeout do, as plain
 * futures that poll their children.  None of them starts a thread or a
 * task: the children make progress inside the parent's poll, on whatever
 * thread polls the parent, so "concurrent" here means interleaved.
 *
 * A combinator owns its children (the caller keeps their storage, usually
 * in the same struct): it drops each child exactly once, as soon as the
 * child is no longer needed, and drops the ones still running when it is
 * dropped itself.  A child's `value` and `error` stay readable after that.
 * Because a combinator points at its children, initialise it in the
 * parent's first poll, not before a move (see future.h).
 *
 * Ordering: every child is polled on the thread that polls the parent, one
 * after another, so children never run at the same time and need nothing
 * to be ordered with each other; a child's output is ready for the parent
 * as soon as the child's poll returns READY.
 */
#ifndef CT_COMBINATORS_H
#define CT_COMBINATORS_H

#include <stddef.h>
#include <stdint.h>

#include "future.h"
#include "timer.h"

/* Ready when every child is.  Each poll polls the children that have not
 * finished, in order; a child is dropped as soon as it is ready.  Output:
 * value = number of children, error = the first failed child's error (in
 * order), or 0.  The children's own outputs stay in them. */
struct ct_join {
    struct ct_future base;
    struct ct_future **futs;
    size_t n, left;
};
void ct_join_init(struct ct_join *j, struct ct_future **futs, size_t n);

/* Ready when the first child is; the others are dropped at once (their
 * cleanup runs then, exactly once) and never polled again.  Children are
 * polled in order, so when several are ready the lowest index wins (tokio's
 * `biased;`).  Output: the winner's value and error; `winner` its index. */
struct ct_select {
    struct ct_future base;
    struct ct_future **futs;
    size_t n;
    int winner;                 /* -1 until ready */
};
void ct_select_init(struct ct_select *s, struct ct_future **futs, size_t n);

/* `inner` with a deadline `ns` from now (from this call, as tokio
 * computes it).  If the deadline passes first, inner is dropped (cancelled)
 * and the output is error -ETIMEDOUT; otherwise it is inner's output.  Built
 * as a select between inner and a sleep, inner first, so an operation that
 * is ready by the time anyone looks wins a tie with its deadline. */
struct ct_timeout {
    struct ct_future base;
    struct ct_future *inner;
    struct ct_sleep sleep;
    struct ct_select race;
    struct ct_future *arms[2];
    int pc;
};
void ct_timeout_init(struct ct_timeout *t, struct ct_future *inner, int64_t ns);

#endif
