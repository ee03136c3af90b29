/* joinset.h - a set of tasks, joined in the order they finish; dropping
 * the set cancels the ones still running.
 *
 * tokio::task::JoinSet in C.  The owner spawns tasks into the set and
 * awaits ct_joinset_next futures, each ready with the next task to finish,
 * in completion order (not spawn order), its outcome told apart as the
 * executor's join handle tells it: ok, failed, panicked, or cancelled by
 * an executor shutdown.  When nothing is left, the next future is ready
 * with `empty` set.
 *
 * Dropping the set (ct_joinset_drop) is the structured part: no task
 * outlives it unnoticed.  Every task that has not finished is cancelled:
 * it is never polled for progress again, and its future is dropped (its
 * cleanup runs) on its next turn on a worker.  The drop counts exactly:
 * a task being polled on another worker at that moment is counted as
 * cancelled or finished according to how that poll ends, and the drop
 * waits for it (a poll is short by the executor's rules).  Results that
 * had finished but were not yet joined are discarded and counted apart.
 *
 * Each task runs inside a small wrapper future that records when it ends.
 * A task the set cancelled ends with error -ECANCELED, so the executor's
 * own statistics count it as failed, not as cancelled (that word is kept
 * for its shutdown).
 *
 * One owner: spawn, next and drop are called by one thread or task at a
 * time (as Rust's &mut self), and at most one next future exists at a
 * time.  Never drop the set from inside one of its own tasks.
 *
 * Ordering: everything a task did happens-before the next future that
 * returns its result (through the join handle).  Results come out in the
 * order the tasks' wrappers recorded their end.
 */
#ifndef CT_JOINSET_H
#define CT_JOINSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exec.h"
#include "future.h"

struct ct_joinset_core;

struct ct_joinset {
    struct ct_exec *ex;
    struct ct_joinset_core *core;   /* shared with the tasks' wrappers */
    struct ct_join_handle **h;      /* by slot (spawn order); NULL once joined */
    size_t n, cap;
    size_t unjoined;                /* spawned and not yet joined */
};

/* 0 or a negative errno. */
int ct_joinset_init(struct ct_joinset *s, struct ct_exec *ex);

/* Move the future `f` (`size` bytes, never polled yet) into a new task of
 * the set, as ct_spawn does; `f` is left empty.  *slot (may be NULL)
 * receives its slot: 0 for the first task spawned, then 1, 2, ...
 * Returns 0 or a negative errno (then `f` has been dropped). */
int ct_joinset_spawn_(struct ct_joinset *s, struct ct_future *f, size_t size,
                      size_t *slot);
#define ct_joinset_spawn(s, fut, slot) \
    ct_joinset_spawn_((s), &(fut)->base, sizeof *(fut), (slot))

/* Tasks spawned and not yet joined (finished or not). */
size_t ct_joinset_len(const struct ct_joinset *s);

/* The next task to finish.  Once ready: `empty` if the set had nothing
 * left to join; otherwise `slot`, `id` (the executor's task number),
 * `status` and `panic` describe the task, and base.value / base.error are
 * its output, as its join handle reported them. */
struct ct_joinset_next {
    struct ct_future base;
    struct ct_joinset *set;
    long slot;                      /* -1 until a finished task is taken */
    bool empty;
    uint64_t id;
    enum ct_join_status status;
    char panic[80];
};
void ct_joinset_next_init(struct ct_joinset_next *n, struct ct_joinset *s);

/* Cancel every task of the set that has not finished, detach the rest,
 * and free the set.  Returns how many it cancelled; *discarded (may be
 * NULL) receives how many had finished but were never joined. */
size_t ct_joinset_drop(struct ct_joinset *s, size_t *discarded);

#endif
