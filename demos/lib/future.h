/* future.h - futures as explicit state machines, wakers, and panics.
 *
 * C has no async/await, so this header spells out what Rust's compiler
 * generates.  A future is a struct whose first member is a `struct
 * ct_future`; its `poll` function advances it as far as it can without
 * blocking and answers CT_READY (the output is in `value` and `error`) or
 * CT_PENDING (not yet; it has arranged to be woken).  Nothing happens until
 * something polls it: creating a future runs none of its code.
 *
 *     struct hello {
 *         struct ct_future base;      // must come first
 *         int pc;                     // where to resume
 *         struct ct_sleep nap;        // a child future, embedded by value
 *     };
 *
 *     static enum ct_poll hello_poll(struct ct_future *f, struct ct_cx *cx)
 *     {
 *         struct hello *h = (struct hello *)f;
 *         CT_ASYNC_BEGIN(h->pc);
 *         puts("hello");
 *         ct_sleep_init(&h->nap, 100 * CT_NS_PER_MS);
 *         CT_AWAIT(h->pc, &h->nap.base, cx);     // may return CT_PENDING
 *         puts("world");
 *         CT_ASYNC_END(h->pc);
 *         return CT_READY;
 *     }
 *
 * The rules, which Rust's type system enforces and C leaves to you:
 *
 *  - Poll only from an executor (it supplies `cx`), never after READY.
 *  - PENDING is a promise: before returning it, the future has handed a
 *    clone of cx->waker to whatever will make progress possible (a timer,
 *    another task, a thread).  A future that returns PENDING without doing
 *    so is never polled again.
 *  - A future may be copied (moved) only before its first poll; from then
 *    on it stays put (Rust's Pin), because it may have given out pointers
 *    into itself.  So *_init functions take plain values and a future wires
 *    up pointers to its own members in its first poll.
 *  - Every future is dropped exactly once, finished or not: ct_future_drop
 *    runs its cleanup (cancelling timers, unlinking waiters, freeing).  A
 *    future dropped before it finishes is cancelled; it is never polled
 *    again.  A zeroed `struct ct_future` is an empty slot; dropping an empty
 *    or already-dropped future does nothing, and the output fields stay
 *    readable after the drop.
 */
#ifndef CT_FUTURE_H
#define CT_FUTURE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ct_poll { CT_PENDING, CT_READY };

/* ---- Wakers -------------------------------------------------------------
 *
 * A waker is a reference to "whatever must poll me again" (usually a task
 * of an executor), with a small table of functions like Rust's RawWaker.
 * Holders clone it, call wake when there is progress to make, and drop
 * it.  Waking is cheap, may happen on any thread, and may happen more than
 * once: the executor polls the task once more per wake-up it has not yet
 * acted on, never concurrently with itself.
 */
struct ct_waker_ops {
    void (*clone)(void *data);     /* take one more reference */
    void (*wake)(void *data);      /* schedule a poll; keeps the reference */
    void (*drop)(void *data);      /* give the reference back */
};

struct ct_waker {
    const struct ct_waker_ops *ops; /* NULL: no waker */
    void *data;
};

/* A new reference to the same waker. */
struct ct_waker ct_waker_clone(const struct ct_waker *w);
/* Schedule a poll.  Whatever the waking thread did before the wake
 * happens-before that poll (the executor's queues and task state carry the
 * ordering), so a producer can store a result, then wake, and the poll
 * will see the result. */
void ct_waker_wake(const struct ct_waker *w);
/* Release `*w` and leave it empty. */
void ct_waker_drop(struct ct_waker *w);
/* Would `a` and `b` wake the same thing? (Lets a future skip re-cloning.) */
bool ct_waker_same(const struct ct_waker *a, const struct ct_waker *b);

/* One waker slot that any thread may fill and fire: the usual way for a
 * leaf future to park its waker where a producer will find it. */
struct ct_waker_slot {
    pthread_mutex_t mu;
    struct ct_waker w;              /* guarded by mu */
};

int ct_waker_slot_init(struct ct_waker_slot *s);
/* Drops a waker still stored. */
void ct_waker_slot_destroy(struct ct_waker_slot *s);
/* Store a clone of `w` (replacing, and dropping, an older one). */
void ct_waker_slot_register(struct ct_waker_slot *s, const struct ct_waker *w);
/* Wake the stored waker, if any, and empty the slot.  Returns whether
 * there was one.  A register and a wake are ordered by the slot's mutex:
 * a wake that finds the slot empty came before the register, so a future
 * must register first and then look at its condition again (or it can
 * miss the wake-up, the async form of a lost wake-up). */
bool ct_waker_slot_wake(struct ct_waker_slot *s);

/* ---- Futures ------------------------------------------------------------ */

struct ct_exec;
struct ct_reactor;

/* What a poll gets from the executor polling it. */
struct ct_cx {
    const struct ct_waker *waker;   /* clone it to be polled again */
    struct ct_exec *exec;           /* for spawning from inside a task */
    struct ct_reactor *reactor;     /* the executor's timers */
    int worker;                     /* worker index, or -1 (block_on's thread) */
    void *panic_;                   /* internal: where ct_panic jumps to */
};

struct ct_future;

struct ct_future_ops {
    const char *name;
    enum ct_poll (*poll)(struct ct_future *self, struct ct_cx *cx);
    /* Cleanup, finished or not; may be NULL.  Must not block. */
    void (*drop)(struct ct_future *self);
};

struct ct_future {
    const struct ct_future_ops *ops;   /* NULL: empty or dropped */
    intptr_t value;                 /* the output, once READY */
    int error;                      /* 0, or a negative errno: it failed */
};

/* Poll `f` once.  Aborts on an empty or dropped future (a bug). */
enum ct_poll ct_future_poll(struct ct_future *f, struct ct_cx *cx);
/* Run `f`'s cleanup (once) and mark it dropped; `value` and `error` stay. */
void ct_future_drop(struct ct_future *f);

/* ---- Panics -------------------------------------------------------------
 *
 * Rust unwinds a panicking task to the executor, which reports it through
 * the task's join handle and keeps running other tasks.  Here ct_task_panic()
 * longjmp()s out of the poll to the executor's ct_future_poll_catch().
 * Code between the two is skipped, so a panicking poll must not hold a
 * lock or half-updated shared state; the task's future is still dropped.
 */
_Noreturn void ct_task_panic(struct ct_cx *cx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Poll `f`, catching a ct_task_panic.  On a panic returns CT_READY with
 * *panicked set and the message in msg (msglen bytes, may be 0). */
enum ct_poll ct_future_poll_catch(struct ct_future *f, struct ct_cx *cx,
                                  bool *panicked, char *msg, size_t msglen);

/* ---- async/await, by hand ----------------------------------------------
 *
 * An async function is a state machine with one state per await.  These
 * macros write that switch for you (Duff's device): `pc` is an int member
 * of the future, zero at first; CT_AWAIT stores its own line number in it,
 * and the next poll jumps straight back to that line.  Locals do not
 * survive a CT_AWAIT (each poll is a new call): keep state in the struct.
 * CT_AWAIT drops the awaited future once it is ready, as .await consumes
 * it; its `value` and `error` stay readable.
 */
#define CT_ASYNC_BEGIN(pc)  switch (pc) { case 0:
#define CT_AWAIT(pc, fut, cx)                                               \
    do {                                                                    \
        (pc) = __LINE__;                                                    \
        __attribute__((fallthrough));                                       \
    case __LINE__:                                                          \
        if (ct_future_poll((fut), (cx)) == CT_PENDING)                      \
            return CT_PENDING;                                              \
        ct_future_drop(fut);                                                \
    } while (0)
#define CT_ASYNC_END(pc)    (pc) = -1; __attribute__((fallthrough)); default: break; }

/* ---- Small futures ------------------------------------------------------ */

/* Ready on its second poll: the first wakes itself and returns PENDING,
 * giving the executor's other tasks a turn (tokio's yield_now). */
struct ct_yield {
    struct ct_future base;
    bool yielded;
};
void ct_yield_init(struct ct_yield *y);

#endif
