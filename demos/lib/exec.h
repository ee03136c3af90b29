/* exec.h - an executor: tasks, spawn, join handles and block_on.
 *
 * The runtime part of tokio, small enough to read in one sitting.  A task
 * is a future moved into a heap block with a little bookkeeping (state,
 * reference count, the join handle's waker).  Spawning one puts it on a
 * run queue; a thread pops it and polls it; if it returns PENDING it sits
 * in no queue at all until its waker is called, which puts it back.  No
 * thread ever blocks on behalf of one task.
 *
 * Two flavours:
 *
 *  - CT_EXEC_CURRENT_THREAD: no threads of its own.  Tasks run on the
 *    thread that calls ct_block_on(), interleaved with the future it was
 *    given; when nothing is runnable that thread waits in the reactor
 *    (reactor.h) for the next timer or wake-up.
 *  - CT_EXEC_MULTI_THREAD: N worker threads, each with its own bounded
 *    run queue (a ring that only its owner pushes to), a shared injection
 *    queue for tasks spawned or woken from outside, and work stealing: a
 *    worker whose queue is empty takes half of another worker's.  An idle
 *    worker waits in the reactor itself if no other thread is in it (so
 *    the tasks its sockets wake run where the event was seen); the other
 *    idle workers sleep until work appears.  Busy workers look at the
 *    reactor now and then, and a reactor thread turns it whenever nobody
 *    has for a millisecond, so timers fire even if every worker is stuck.
 *
 * Both own a blocking pool (blocking.h) for work that must block.
 *
 * Shutdown (ct_exec_free) stops the workers, drops every task that has not
 * finished (its future's cleanup runs; its join handle reports
 * CT_JOIN_CANCELLED), and joins every thread it started, the blocking
 * pool's included.  Nothing may wake one of its tasks from another thread
 * while it is being freed, except threads it owns.
 */
#ifndef CT_EXEC_H
#define CT_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "future.h"
#include "threadhooks.h"

#define CT_EXEC_MAX_WORKERS 64

enum ct_exec_flavor { CT_EXEC_CURRENT_THREAD, CT_EXEC_MULTI_THREAD };

struct ct_exec_config {
    enum ct_exec_flavor flavor;
    int workers;                /* multi-thread: 1..CT_EXEC_MAX_WORKERS, 0 = one per CPU */
    int max_blocking;           /* blocking pool threads at most, 0 = 16 */
    struct ct_event *cancel;    /* optional: ct_block_on gives up once it is set */
    struct ct_thread_hooks hooks;   /* how threads are started; zero = pthreads */
};

struct ct_exec;
struct ct_task;
struct ct_blocking_pool;

/* 0 or a negative errno.  The config is copied. */
int ct_exec_new(struct ct_exec **out, const struct ct_exec_config *cfg);
/* Shut down as described above, then free.  Call from outside the
 * executor (not from one of its tasks). */
void ct_exec_free(struct ct_exec *ex);

/* ---- Spawning ----------------------------------------------------------- */

/* How a task ended, as its join handle reports it. */
enum ct_join_status {
    CT_JOIN_OK,         /* finished; `value` is its output */
    CT_JOIN_FAILED,     /* finished with an error (the future's `error`) */
    CT_JOIN_PANICKED,   /* called ct_task_panic(); `panic` says why */
    CT_JOIN_CANCELLED,  /* dropped unfinished: the executor shut down */
};

/* A join handle is a future: ready once the task has ended.  Then
 * base.value is the task's output and base.error its error (0 if OK,
 * -ENOTRECOVERABLE if it panicked, -ECANCELED if cancelled); `status`
 * says which.  Dropping the handle detaches the task; it keeps running. */
struct ct_join_handle {
    struct ct_future base;
    struct ct_task *task;
    uint64_t id;                /* the task's number, from 1 */
    enum ct_join_status status;
    char panic[80];             /* the panic message, if it panicked */
};

/* Move the future `f` (`size` bytes: the whole struct it begins) into a
 * new task and schedule it.  The task owns it from now on; `f` is left
 * empty (base.ops = NULL).  `h` (may be NULL: detached) receives the join
 * handle.  Returns 0, -ENOMEM, or -ESHUTDOWN if the executor is shutting
 * down; on an error the future has been dropped and `h` is empty.  Callable
 * from any thread, inside a task too: there the new task goes to the
 * calling worker's own queue. */
int ct_spawn_(struct ct_exec *ex, struct ct_future *f, size_t size,
              struct ct_join_handle *h);
#define ct_spawn(ex, fut, h) ct_spawn_((ex), &(fut)->base, sizeof *(fut), (h))

/* Drive `f` to completion on the calling thread, which is not one of the
 * executor's (a plain C program's main, a demo, a test).  The current-
 * thread flavour runs its tasks meanwhile.  `f` stays where it is and is
 * not dropped.  Returns 0 when it is ready, -ECANCELED if the config's
 * cancel event was set first, -ENOTRECOVERABLE if it panicked, -EDEADLK if
 * called from inside an executor, -EBUSY if another thread is already
 * driving this current-thread executor. */
int ct_block_on(struct ct_exec *ex, struct ct_future *f);

const char *ct_join_status_name(enum ct_join_status s);

/* A future ready when every handle in h[0..n) is: it awaits them in order
 * (the handles are not dropped; their outputs stay readable).  Unlike
 * ct_join (combinators.h), a wake-up polls only the first unfinished
 * handle, so awaiting thousands of tasks costs O(n), not O(n^2). */
struct ct_await_all {
    struct ct_future base;
    struct ct_join_handle *h;
    size_t n, next;
};
void ct_await_all_init(struct ct_await_all *a, struct ct_join_handle *h, size_t n);

/* ---- Introspection ------------------------------------------------------ */

struct ct_worker_stats {
    uint64_t polls;             /* polls of tasks on this worker */
    uint64_t completed;         /* tasks that finished here */
    uint64_t from_injector;     /* tasks it took from the injection queue */
    uint64_t stolen;            /* tasks it stole from other workers */
    uint64_t steals;            /* successful steal operations */
    uint64_t parks;             /* times it went to sleep for lack of work */
};

struct ct_exec_stats {
    enum ct_exec_flavor flavor;
    int workers;                /* 1 for the current-thread flavour */
    struct ct_worker_stats w[CT_EXEC_MAX_WORKERS];
    uint64_t spawned, completed, failed, panicked, cancelled;
    uint64_t task_bytes;        /* bytes allocated for tasks, all told */
    uint64_t timers_fired;
};

void ct_exec_get_stats(struct ct_exec *ex, struct ct_exec_stats *st);
/* Bytes one task takes on the heap when its future is `future_size`. */
size_t ct_task_bytes(size_t future_size);
int ct_exec_workers(const struct ct_exec *ex);
struct ct_blocking_pool *ct_exec_blocking(struct ct_exec *ex);
struct ct_reactor *ct_exec_reactor(struct ct_exec *ex);

#endif
