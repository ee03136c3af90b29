/* reactor.h - the executor's event loop: where idle threads block, what
 * fires timers, and what tells a task that its socket is ready.
 *
 * Tokio's "driver" in miniature, on Linux primitives: one epoll instance
 * watching a timerfd (armed, with nanosecond precision, for the earliest
 * deadline of a min-heap of timers), an eventfd (written to interrupt a
 * thread blocked in the loop), and every file descriptor a future has
 * waited on.  However many futures sleep or wait for I/O, no thread is
 * parked per timer or per socket: a turn of the loop blocks in epoll_wait()
 * until the first deadline or the first ready descriptor, then wakes the
 * tasks concerned.
 *
 * A current-thread executor turns the loop itself whenever it has nothing
 * to run; in a multi-threaded one an idle worker waits in it, one thread
 * at a time, with a reactor thread as the fallback (exec.h).  Timers are
 * normally used through the sleep future (timer.h), descriptors through
 * the socket futures (net.h).
 *
 * File descriptors: edge-triggered.  A descriptor is added to epoll once,
 * for reading and writing together (EPOLLIN | EPOLLOUT | EPOLLRDHUP |
 * EPOLLET), the first time a future has to wait on it, and stays until
 * ct_io_deregister().  Edge-triggered because futures always try the
 * system call first and wait only after EAGAIN: epoll then has only to
 * report the next change, once.  Level-triggered would report a socket
 * again on every turn until its task had run and drained it (a busy loop
 * in the reactor thread while the task waits in a run queue), or need an
 * epoll_ctl() call per wait to re-arm a one-shot registration.
 *
 * The race edge-triggering leaves open (data arrives after the EAGAIN but
 * before the waker is stored, and its one edge finds nobody) is closed
 * with a counter of readiness events per direction, the "tick": take
 * ct_io_ticks() before the system call, pass it to ct_io_wait() after the
 * EAGAIN, and ct_io_wait() stores the waker only if no event came in
 * between; otherwise it says "try again".
 *
 *     for (;;) {
 *         unsigned seen = ct_io_ticks(io, CT_IO_READ);
 *         ssize_t n = read(io->fd, buf, len);
 *         if (n >= 0 || errno != EAGAIN)
 *             return finish(n);               // data, EOF or an error
 *         int w = ct_io_wait(io, CT_IO_READ, seen, cx);
 *         if (w > 0)
 *             return CT_PENDING;              // woken on the next edge
 *         if (w < 0)
 *             return fail(w);
 *     }                                       // w == 0: an edge came: retry
 *
 * epoll reports each registration with a token (a slot in the reactor's
 * table and that slot's generation), never with the bare descriptor
 * number: once a descriptor is deregistered and closed, its number may be
 * reused at once by someone else, and an event for the old one that a
 * turn had already taken out of the kernel finds a stale generation and
 * wakes nobody.
 */
#ifndef CT_REACTOR_H
#define CT_REACTOR_H

#include <pthread.h>
#include <stdatomic.h>
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

/* Which readiness a future waits for. */
enum ct_io_dir { CT_IO_READ, CT_IO_WRITE };

/* One file descriptor's registration: lives inside the object that owns
 * the descriptor (a socket, net.h).  Set up with ct_io_init(); it joins a
 * reactor at its first ct_io_wait() and must stay put (not be copied or
 * freed) from then until ct_io_deregister(). */
struct ct_io {
    int fd;
    _Atomic(struct ct_reactor *) reactor;  /* joined at the first wait */
    atomic_uint ticks[2];       /* readiness events seen, per direction */
    /* guarded by the reactor's io_mu: */
    uint32_t slot;              /* its slot in the reactor's table + 1, 0 = none */
    struct ct_waker waker[2];   /* who waits, per direction */
};

struct ct_io_slot;

struct ct_reactor {
    int epfd, timerfd, eventfd;
    pthread_mutex_t mu;         /* guards the timer fields below */
    struct ct_timer **heap;     /* 1-based min-heap by deadline */
    size_t n, cap;
    int64_t armed;              /* deadline the timerfd is set for, 0 = none */
    uint64_t fired;             /* timers fired so far */
    pthread_mutex_t io_mu;      /* guards the table and every ct_io's slot and wakers */
    struct ct_io_slot *slots;   /* the table epoll's tokens point into */
    uint32_t nslots, free_slot; /* free_slot: head of the free list, + 1 */
    size_t io_registered;       /* descriptors in epoll now */
    size_t io_waiting;          /* wakers stored in them now */
    uint64_t io_woken;          /* wakers woken for readiness so far */
    /* Test seam: if set, called by each turn after epoll_wait() returns and
     * before its events are dispatched, with no lock held (so a test can
     * close and reuse a descriptor whose event is already taken out). */
    void (*turn_hook)(void *arg);
    void *turn_hook_arg;
};

/* 0 or a negative errno. */
int ct_reactor_init(struct ct_reactor *r);
/* Drops the wakers of timers and descriptors still registered; a ct_io
 * still registered is left detached (its deregistration does nothing). */
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
 * happens) for a deadline, a ready descriptor or an unpark, then wake the
 * waiters of every ready descriptor and every due timer.  Returns the
 * number of wakers woken, or a negative errno. */
int ct_reactor_turn(struct ct_reactor *r, int64_t timeout_ns);
/* Make a thread blocked in ct_reactor_turn() (now or next) return. */
void ct_reactor_unpark(struct ct_reactor *r);

/* Timers registered right now. */
size_t ct_reactor_pending(struct ct_reactor *r);

/* ---- file descriptors ---------------------------------------------------
 *
 * The contract, from a future's side (net.c is the worked example):
 *  - a waker stored by ct_io_wait() is woken by the first readiness event
 *    for that direction after the tick it was given, then forgotten (one
 *    wake-up per wait, like a timer);
 *  - one waiter per direction: a second ct_io_wait() on the same direction
 *    replaces the first one's waker (dropped, not woken), so at most one
 *    future may wait to read and one to write on a descriptor at a time;
 *  - ct_io_cancel() and ct_io_deregister() have removed the waker(s) from
 *    the reactor when they return.  A wake-up that a turn on another thread
 *    had already taken out may still arrive afterwards (a spurious poll,
 *    harmless); nothing stored is left behind, and no event for this
 *    registration ever reaches another one, even one on the same number;
 *  - readiness is a hint: after a wake-up the system call may still say
 *    EAGAIN (someone else drained it), and the future simply waits again.
 */

/* Prepare `io` for `fd` (not yet in any reactor). */
void ct_io_init(struct ct_io *io, int fd);

/* Readiness events seen so far for `dir`: read it before the system call
 * whose EAGAIN may lead to ct_io_wait(). */
unsigned ct_io_ticks(struct ct_io *io, enum ct_io_dir dir);

/* The system call said EAGAIN, having started at tick `seen`.  Adds the
 * descriptor to cx->reactor if it is not in it yet, then stores a clone of
 * cx->waker for `dir` unless an event has come since `seen`.  Returns 1:
 * stored, return CT_PENDING; 0: an event came, try the call again; or a
 * negative errno (-EXDEV: `io` already belongs to another reactor; what
 * epoll_ctl or malloc said). */
int ct_io_wait(struct ct_io *io, enum ct_io_dir dir, unsigned seen, struct ct_cx *cx);

/* Forget the waker stored for `dir`, if any (a future that waited is being
 * dropped, or finished after a spurious poll).  It is dropped unwoken. */
void ct_io_cancel(struct ct_io *io, enum ct_io_dir dir);

/* Remove the descriptor from its reactor, if it is in one, and drop its
 * wakers unwoken.  Call it before close(io->fd): the descriptor number is
 * what epoll_ctl() names.  Afterwards `io` may be moved, reused or freed. */
void ct_io_deregister(struct ct_io *io);

/* Descriptors registered right now, wakers waiting in them, and wakers
 * woken by readiness so far. */
size_t ct_reactor_io_registered(struct ct_reactor *r);
size_t ct_reactor_io_waiting(struct ct_reactor *r);
uint64_t ct_reactor_io_woken(struct ct_reactor *r);

#endif
