/* chan-impl.h - the inside of a channel, shared by chan.c (handles and
 * waiting) and the three flavours: chan-array.c (bounded), chan-list.c
 * (unbounded) and chan-zero.c (rendezvous).  Not part of the API: include
 * chan.h instead.
 */
#ifndef CT_CHAN_IMPL_H
#define CT_CHAN_IMPL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "chan.h"
#include "park.h"

#define CACHE_LINE 64
#define LIST_SLOTS 64           /* slots per block of the unbounded list */
#define LIST_BUSY 1u            /* low bit of a list position */

enum chan_kind { RING, LIST, ZERO };

/* ---- slots -------------------------------------------------------------- */

/* A slot is an 8-byte atomic header (a ring stamp, or a list state) then the
 * message, padded so the next header is aligned. */
struct slot {
    _Atomic uint64_t stamp;
    unsigned char msg[];
};

#define LIST_WRITTEN 1u         /* list slot state: the message is in */

struct block {
    _Atomic(struct block *) next;
    atomic_uint reads;          /* slots of this block read so far */
    _Alignas(CACHE_LINE) unsigned char slots[];
};

/* Copy one message, and clear a sent one.  With the size known only at
 * run time the compiler must call memcpy and memset; most messages are a
 * word or two, and fixed-size copies of those are a move or two inline.
 * (Those two calls were a fifth of a one-producer channel's time.) */
static inline void msg_copy(void *dst, const void *src, size_t n)
{
    switch (n) {
    case 8:
        memcpy(dst, src, 8);
        break;
    case 16:
        memcpy(dst, src, 16);
        break;
    default:
        memcpy(dst, src, n);
    }
}

static inline void msg_clear(void *msg, size_t n)
{
    switch (n) {
    case 8:
        memset(msg, 0, 8);
        break;
    case 16:
        memset(msg, 0, 16);
        break;
    default:
        memset(msg, 0, n);
    }
}

/* ---- rendezvous waiters ------------------------------------------------- */

/* A waiter's state, which is also the futex it sleeps on: W_WAITING (with
 * W_ASLEEP once it sleeps or is about to), then W_DONE or W_CLOSED, written
 * once by whoever took it off its queue. */
enum { W_WAITING = 0, W_DONE = 1, W_CLOSED = 2, W_ASLEEP = 4 };

/* A thread blocked in a rendezvous; lives on its own stack.  `next` and
 * `queued` are guarded by the channel's queue lock.  A message that fits
 * travels in `small`, on the same cache line as the state word, so a
 * hand-over moves one line between the cores instead of two. */
#define W_SMALL 40
struct waiter {
    _Alignas(CACHE_LINE) _Atomic uint32_t state;
    bool queued;                /* still on its queue: nobody has claimed it */
    struct waiter *next;
    void *buf;                  /* sender: its message; receiver: where to put one */
    unsigned char small[W_SMALL];
};

struct waitq {
    struct waiter *first, *last;
};

/* ---- the channel -------------------------------------------------------- */

struct ct_chan {
    /* set by ct_chan_open, read-only afterwards */
    enum chan_kind kind;
    size_t msg_size;
    size_t stride;              /* bytes from one slot to the next */
    long capacity;
    void (*drop_msg)(void *msg);
    unsigned char *ring;        /* RING: capacity slots */
    uint64_t lap;               /* RING: 2^shift, > capacity */
    uint64_t mask;              /* RING: lap - 1 */
    unsigned shift;

    /* senders' side */
    _Alignas(CACHE_LINE) _Atomic uint64_t tail;
    _Atomic(struct block *) tail_block;     /* LIST */

    /* receivers' side */
    _Alignas(CACHE_LINE) _Atomic uint64_t head;
    _Atomic(struct block *) head_block;     /* LIST */
    _Atomic uint64_t tail_seen;             /* LIST: a tail index some receiver saw */

    _Alignas(CACHE_LINE) struct ct_park recv_park;  /* receivers wait for messages */
    _Alignas(CACHE_LINE) struct ct_park send_park;  /* senders wait for room */

    /* read on every send and receive, written only when handles come and go */
    _Alignas(CACHE_LINE) atomic_int senders;
    atomic_int receivers;
    atomic_int handles;         /* senders + receivers; the last one frees */

    /* touched once per block or per slow wait: kept off the lines above */
    _Alignas(CACHE_LINE) _Atomic(struct block *) spare;    /* LIST: one recycled block */
    _Atomic uint64_t yields;                /* slow-path counters (ct_chan_stats) */
    _Atomic uint64_t blocks;                /* LIST: blocks allocated */

    /* ZERO: the waiters, under a spinlock held for a few instructions */
    _Alignas(CACHE_LINE) atomic_bool qlock;
    struct waitq sendq, recvq;
    _Atomic int64_t spin_ns[2];             /* how long a sender / receiver spins */
    _Atomic uint64_t zero_sleeps[2];        /* [0] senders, [1] receivers */
    _Atomic uint64_t zero_wakes;
    _Atomic int64_t woken_ns[2];            /* when a sleeping sender / receiver was last woken */
};

/* Count a slow-path event (relaxed: a statistic, not a synchronisation). */
static inline void chan_count(_Atomic uint64_t *counter, uint64_t n)
{
    if (n)
        atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

static inline struct slot *slot_at(unsigned char *base, size_t stride, uint64_t i)
{
    return (struct slot *)(base + i * stride);
}

static inline bool no_receivers(struct ct_chan *ch)
{
    return atomic_load_explicit(&ch->receivers, memory_order_seq_cst) == 0;
}

static inline bool no_senders(struct ct_chan *ch)
{
    return atomic_load_explicit(&ch->senders, memory_order_seq_cst) == 0;
}

/* ---- the flavours --------------------------------------------------------
 * try_send / try_recv never sleep: 0 done, -EAGAIN full (or empty), -EBUSY
 * the other side is half-way through the slot we need (try again soon),
 * -ENOMEM (list: could not grow).  chan.c does the waiting around them. */

int ct_chan_array_open(struct ct_chan *ch);
void ct_chan_array_free(struct ct_chan *ch);
int ct_chan_array_try_send(struct ct_chan *ch, const void *msg);
int ct_chan_array_try_recv(struct ct_chan *ch, void *out);
size_t ct_chan_array_len(const struct ct_chan *ch);

int ct_chan_list_open(struct ct_chan *ch);
void ct_chan_list_free(struct ct_chan *ch);
int ct_chan_list_try_send(struct ct_chan *ch, const void *msg);
int ct_chan_list_try_recv(struct ct_chan *ch, void *out);
size_t ct_chan_list_len(const struct ct_chan *ch);

/* Rendezvous: the whole operation, waiting included (a waiter spins, then
 * sleeps on a futex of its own, not on a park).  `deadline` is absolute
 * (wait.h); with `block` false it only pairs with a partner already
 * waiting. */
int ct_chan_zero_send(struct ct_chan *ch, void *msg, int64_t deadline, struct ct_event *cancel,
                      bool block);
int ct_chan_zero_recv(struct ct_chan *ch, void *out, int64_t deadline, struct ct_event *cancel,
                      bool block);
void ct_chan_zero_open(struct ct_chan *ch);
/* The last handle of one side is gone: wake everyone waiting in `q` with
 * -EPIPE. */
void ct_chan_zero_close_queue(struct ct_chan *ch, struct waitq *q);

#endif
