/* chan.h - a channel with Rust's semantics: messages are moved from senders
 * to receivers, and the channel closes itself when one side is gone.
 *
 * Three kinds, chosen by the capacity given to ct_chan_open:
 *
 *   CT_CHAN_UNBOUNDED   like std::sync::mpsc::channel(): sends never block;
 *                       messages wait in a linked list of blocks.
 *   N >= 1              like sync_channel(N): a ring of N slots; a send
 *                       blocks while all N are full (backpressure).
 *   0                   like sync_channel(0), a rendezvous: a send blocks
 *                       until a receiver takes the message from its hands.
 *
 * Handles.  ct_chan_open gives one sender and one receiver.  Senders (and
 * receivers: this channel, like crossbeam's, lets several threads receive)
 * are cloned with ct_chan_clone_* and every handle is dropped exactly once
 * with ct_chan_drop_*.  A handle is a small struct that you pass by pointer;
 * copying the struct does NOT make a new handle (that is what clone is for),
 * and dropping it clears it so that a second drop is harmless.  The memory
 * is freed when the last handle of either kind is dropped.
 *
 *   - When every sender is gone, receivers get the messages still queued and
 *     then -EPIPE: the channel is closed.  (A sender you forget to drop keeps
 *     the channel open, and a receiver waiting for the close waits forever.)
 *   - When every receiver is gone, sends fail with -EPIPE and the message
 *     stays with the sender.
 *
 * Ownership of a message.  A message is `msg_size` bytes, copied in and out
 * (a struct, or a pointer to heap data that travels with it).
 *   1. Before send: the sender owns it.
 *   2. A successful send moves it into the channel and ZEROES the caller's
 *      buffer, so a moved-from pointer reads as NULL: the sender no longer
 *      owns it and must not free it.
 *   3. A failed send (-EPIPE, -EAGAIN, -ETIMEDOUT, -ECANCELED) leaves the
 *      message untouched: it is still the sender's, to retry or to free.
 *   4. A successful receive moves it to the receiver, who owns it now.
 *   5. Messages still queued when the channel is freed are passed to the
 *      `drop_msg` function given to ct_chan_open (if not NULL), which must
 *      release whatever they own; then they are gone.
 *
 * Blocking.  Every blocking call takes a `cancel` event (may be NULL): when
 * it is set, the call returns -ECANCELED within CT_PARK_SLICE_NS.  The
 * *_timeout calls also give up after `timeout_ns` with -ETIMEDOUT (0 or
 * less: do not wait).  The try_* calls never sleep and return -EAGAIN
 * instead (they may spin for the moment another thread needs to finish
 * copying into or out of the slot they want).  They return an int, not a
 * bool, because like Rust's TrySendError/TryRecvError they have two
 * different ways to fail (nothing now, or never again).
 *
 * Speed.  In the ring and the list, senders and receivers claim positions
 * with one compare-and-swap on their own index (head and tail live on
 * separate cache lines) and copy the message with no lock held; a slot's
 * stamp tells the other side when the copy is complete.  A thread that must
 * wait spins briefly, then yields, then sleeps on a futex (park.h); a send
 * or receive with nobody asleep makes no system call.  In a rendezvous the
 * first waiter in line spins on a word of its own for an adaptive bound
 * before it sleeps (chan-zero.c says why), so two running threads hand
 * messages over without the scheduler.  ct_chan_stats counts the sleeps,
 * wake-ups, yields and allocations.
 */
#ifndef CT_CHAN_H
#define CT_CHAN_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define CT_CHAN_UNBOUNDED (-1L)
/* The largest capacity and message size ct_chan_open accepts. */
#define CT_CHAN_MAX_CAPACITY (1L << 24)
#define CT_CHAN_MAX_MSG      ((size_t)1 << 16)

struct ct_chan;

/* A sending handle.  Not to be used by two threads at once: clone it. */
struct ct_sender {
    struct ct_chan *chan;       /* NULL once dropped */
};

/* A receiving handle.  Not to be used by two threads at once: clone it. */
struct ct_receiver {
    struct ct_chan *chan;       /* NULL once dropped */
};

/* Open a channel of `msg_size`-byte messages (1..CT_CHAN_MAX_MSG) with the
 * given capacity (CT_CHAN_UNBOUNDED, 0, or 1..CT_CHAN_MAX_CAPACITY), and
 * hand out its first sender and receiver.  `drop_msg` (may be NULL)
 * releases a message that is never received.  0, -EINVAL or -ENOMEM. */
int ct_chan_open(struct ct_sender *tx, struct ct_receiver *rx, size_t msg_size,
                 long capacity, void (*drop_msg)(void *msg));

/* A new handle on the same channel, in *copy.  0, or -EBADF if `tx`/`rx`
 * was already dropped. */
int ct_chan_clone_sender(const struct ct_sender *tx, struct ct_sender *copy);
int ct_chan_clone_receiver(const struct ct_receiver *rx, struct ct_receiver *copy);

/* Give the handle up (and clear it).  Dropping the last sender closes the
 * channel for receivers; dropping the last receiver makes sends fail.
 * Dropping an already dropped handle does nothing. */
void ct_chan_drop_sender(struct ct_sender *tx);
void ct_chan_drop_receiver(struct ct_receiver *rx);

/* Send `msg` (msg_size bytes; zeroed on success, see above).  Blocks while
 * a bounded channel is full.  0, -EPIPE (no receiver left), -ECANCELED,
 * -ETIMEDOUT (the _timeout form), -EBADF (dropped handle). */
int ct_chan_send(struct ct_sender *tx, void *msg, struct ct_event *cancel);
int ct_chan_send_timeout(struct ct_sender *tx, void *msg, int64_t timeout_ns,
                         struct ct_event *cancel);
/* Send only if it can be done now: 0, -EAGAIN (full, or for a rendezvous
 * no receiver is waiting), -EPIPE, -EBADF. */
int ct_chan_try_send(struct ct_sender *tx, void *msg);

/* Receive the next message into `out` (msg_size bytes).  Blocks while the
 * channel is empty.  0, -EPIPE (every sender is gone and nothing is left),
 * -ECANCELED, -ETIMEDOUT (the _timeout form), -EBADF. */
int ct_chan_recv(struct ct_receiver *rx, void *out, struct ct_event *cancel);
int ct_chan_recv_timeout(struct ct_receiver *rx, void *out, int64_t timeout_ns,
                         struct ct_event *cancel);
/* Receive only if a message is there now: 0, -EAGAIN, -EPIPE, -EBADF. */
int ct_chan_try_recv(struct ct_receiver *rx, void *out);

/* Snapshots, for reports and tests (they may be stale on return): messages
 * queued (sent and not yet taken), the capacity (CT_CHAN_UNBOUNDED for an
 * unbounded channel), and live senders / receivers. */
size_t ct_chan_len(const struct ct_chan *ch);
long ct_chan_capacity(const struct ct_chan *ch);
int ct_chan_senders(const struct ct_chan *ch);
int ct_chan_receivers(const struct ct_chan *ch);

/* Where a channel's time went, counted on the slow paths only (the fast
 * paths stay free of shared writes): every sleep and wake-up is a system
 * call, and so is every yield. */
struct ct_chan_stats {
    uint64_t send_sleeps;       /* senders put to sleep (full, or no partner) */
    uint64_t recv_sleeps;       /* receivers put to sleep (empty) */
    uint64_t wakeups;           /* wake-up system calls made for sleepers */
    uint64_t yields;            /* sched_yield() calls while waiting */
    uint64_t blocks;            /* unbounded: blocks allocated (not recycled) */
};

/* A snapshot of the counters since the channel was opened. */
void ct_chan_stats(const struct ct_chan *ch, struct ct_chan_stats *out);

#endif
