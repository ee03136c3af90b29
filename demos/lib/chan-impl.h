/* chan-impl.h - the inside of a channel, shared by chan.c (handles and
 * waiting) and the three flavours: chan-array.c (bounded), chan-list.c
 * (unbounded) and chan-zero.c (rendezvous).  Not part of the API: include
 * chan.h instead.
 */
#ifndef CT_CHAN_IMPL_H
#define CT_CHAN_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* ---- rendezvous waiters ------------------------------------------------- */

enum { W_WAITING, W_CLAIMED, W_DONE, W_CLOSED };

/* A thread blocked in a rendezvous; lives on its own stack.  All fields are
 * guarded by the channel's mutex. */
struct waiter {
    struct waiter *next;
    void *buf;                  /* sender: its message; receiver: where to put one */
    int state;
    pthread_cond_t cv;
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

    _Alignas(CACHE_LINE) atomic_int senders;
    atomic_int receivers;
    atomic_int handles;         /* senders + receivers; the last one frees */
    _Atomic(struct block *) spare;          /* LIST: one recycled block */

    /* ZERO */
    pthread_mutex_t mu;
    struct waitq sendq, recvq;
};

/* One round of waiting before trying again: spin 2^round pauses, or yield
 * the CPU once the spins are used up (the thread we wait for may need it). */
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

/* Rendezvous: the whole operation, waiting included (it waits on a
 * condition variable under the channel's mutex, not on a park).
 * `deadline` is absolute (wait.h); with `block` false it only pairs with a
 * partner already waiting. */
int ct_chan_zero_send(struct ct_chan *ch, void *msg, int64_t deadline, struct ct_event *cancel,
                      bool block);
int ct_chan_zero_recv(struct ct_chan *ch, void *out, int64_t deadline, struct ct_event *cancel,
                      bool block);
/* The last handle of one side is gone: wake everyone waiting in `q` with
 * -EPIPE.  Call with ch->mu held. */
void ct_chan_zero_close_queue(struct waitq *q);

#endif
