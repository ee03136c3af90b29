/* broadcast.h - a broadcast channel: every subscriber gets every message.
 *
 * The C counterpart of tokio::sync::broadcast, used to tell many threads the
 * same thing at once (shut down, reload, a new configuration) and for
 * fan-out.  Messages sit in a ring of `capacity` slots.  A send never waits
 * for anyone: it overwrites the oldest slot.  A subscriber that falls more
 * than `capacity` messages behind has therefore lost some, and its next
 * receive says exactly how many (-EOVERFLOW with the count) and moves it to
 * the oldest message still kept, instead of the sender blocking on it.
 *
 * Messages are COPIED, not moved: each subscriber receives its own copy and
 * the sender keeps the original.  So send plain data (flags, numbers,
 * structs of values), never a pointer that someone must free.
 *
 * Handles work like chan.h's: ct_bcast_open gives the first sender; clone
 * and drop senders; subscribe from a sender handle; unsubscribe when done.
 * When every sender is gone, subscribers receive what is left and then
 * -EPIPE.  Memory is freed when the last handle of either kind goes.
 *
 * Senders take a mutex (broadcasts are control messages, not a hot path)
 * and copy into a slot under that slot's write lock; subscribers copy out
 * under its read lock, in parallel with each other.  Waiting subscribers
 * park on a futex (park.h) and wake on `cancel` within CT_WAIT_SLICE_NS.
 *
 * Ordering, from the user's side: a send happens-before every receive that
 * returns that message (so whatever the sender wrote before sending, every
 * subscriber that gets the message sees).  Each subscriber gets the
 * messages in the order they were sent, minus those it missed (counted).
 * Dropping the last sender happens-before a receive that returns -EPIPE.
 */
#ifndef CT_BROADCAST_H
#define CT_BROADCAST_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define CT_BCAST_MAX_CAPACITY 4096
#define CT_BCAST_MAX_MSG 4096

struct ct_bcast;

struct ct_bcast_sender {
    struct ct_bcast *b;         /* NULL once dropped */
};

/* One subscriber's place in the stream.  Used by one thread at a time. */
struct ct_bcast_sub {
    struct ct_bcast *b;         /* NULL once unsubscribed */
    uint64_t next;              /* position of the next message to read */
};

/* A broadcast channel of `msg_size`-byte messages (1..CT_BCAST_MAX_MSG)
 * keeping the last `capacity` (1..CT_BCAST_MAX_CAPACITY).  0, -EINVAL,
 * -ENOMEM. */
int ct_bcast_open(struct ct_bcast_sender *tx, size_t msg_size, size_t capacity);

/* 0 or -EBADF (a dropped handle). */
int ct_bcast_clone_sender(const struct ct_bcast_sender *tx, struct ct_bcast_sender *copy);
/* Dropping the last sender closes the channel.  Harmless on a dropped handle. */
void ct_bcast_drop_sender(struct ct_bcast_sender *tx);

/* A new subscriber that will receive every message sent from now on.  0 or
 * -EBADF. */
int ct_bcast_subscribe(const struct ct_bcast_sender *tx, struct ct_bcast_sub *sub);
void ct_bcast_unsubscribe(struct ct_bcast_sub *sub);

/* Copy `msg` to every current subscriber.  Never blocks on subscribers.
 * Returns how many subscribers will see it (>= 1), -EPIPE if there are
 * none (the message is not kept), or -EBADF. */
int ct_bcast_send(struct ct_bcast_sender *tx, const void *msg);

/* The subscriber's next message, into `out`.  Returns
 *   0            a message;
 *   -EOVERFLOW   it fell behind: *missed (if not NULL) is how many messages
 *                it will never see; the next call returns the oldest kept;
 *   -EPIPE       every sender is gone and nothing is left;
 *   -EAGAIN      (try form) nothing yet;
 *   -ETIMEDOUT, -ECANCELED, -EBADF. */
int ct_bcast_recv(struct ct_bcast_sub *sub, void *out, uint64_t *missed,
                  struct ct_event *cancel);
/* timeout_ns as in wait.h: < 0 forever, 0 only what is there, > 0 a bound. */
int ct_bcast_recv_timeout(struct ct_bcast_sub *sub, void *out, uint64_t *missed,
                          int64_t timeout_ns, struct ct_event *cancel);
int ct_bcast_try_recv(struct ct_bcast_sub *sub, void *out, uint64_t *missed);

/* Live subscribers (a snapshot). */
int ct_bcast_subscribers(const struct ct_bcast *b);

#endif
