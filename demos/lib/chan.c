/* chan.c - see chan.h.
 *
 * Three implementations behind one set of handles:
 *
 *   RING (capacity N >= 1).  N slots, each a stamp and a message.  Senders
 *   share `tail`, receivers share `head`; both are positions that only grow.
 *   A slot's stamp says what it is ready for: "write at position p" or "read
 *   at position p".  A sender whose slot is ready to be written claims the
 *   position by moving `tail` on with a compare-and-swap, copies its message
 *   in with no lock held, then flips the stamp to "read at p"; a receiver
 *   does the mirror image on `head`.  (The idea is Dmitry Vyukov's bounded
 *   MPMC queue; the code is ours.)  To avoid a division per message a
 *   position is (lap << shift) | index, with 2^shift > N.
 *
 *   LIST (unbounded).  Messages go into blocks of LIST_SLOTS slots chained
 *   by `next`.  Positions count messages (shifted left one bit; the low bit
 *   marks "busy: the next block is being linked in", during which others
 *   wait).  Whoever claims the last slot of a block links the next one in,
 *   so the chain never holds an empty block for long.  A block is recycled
 *   by the receiver that reads its last unread slot (a counter per block).
 *   Receivers look at the senders' `tail` only when they catch up with the
 *   last tail they saw, and a lone receiver uses plain stores where several
 *   would need read-modify-writes.
 *
 *   ZERO (capacity 0, rendezvous).  Nothing is buffered: a sender and a
 *   receiver meet under a mutex; whichever comes first waits in a queue
 *   with a pointer to its own buffer, and the second copies straight from
 *   or into it (after dropping the mutex), then tells the first it is done.
 *
 * Waiting (RING and LIST): try, spin a few rounds with the CPU's pause hint,
 * yield a few times, then park on a futex (park.h).  Notifying is a single
 * load when nobody is parked.
 */
#include "chan.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "check.h"
#include "clock.h"
#include "park.h"

#define CACHE_LINE 64
#define LIST_SLOTS 64           /* slots per block of the unbounded list */
#define LIST_BUSY 1u            /* low bit of a list position */
#define SPIN_ROUNDS 7           /* rounds of pause: 1, 2, 4 ... 64 pauses */
#define YIELD_ROUNDS 3          /* then this many sched_yield() before parking */

enum kind { RING, LIST, ZERO };

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
    enum kind kind;
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
static void backoff(unsigned *round)
{
    if (*round < SPIN_ROUNDS) {
        for (unsigned i = 0; i < 1u << *round; i++)
            ct_cpu_relax();
    } else {
        sched_yield();
    }
    if (*round < SPIN_ROUNDS + YIELD_ROUNDS)
        (*round)++;
}

/* After losing a compare-and-swap to another thread: wait a little longer
 * each time, so that contending threads stop taking the cache line from
 * each other on every attempt. */
static void cas_backoff(unsigned *fails)
{
    unsigned n = 1u << (*fails < 6 ? *fails : 6);
    for (unsigned i = 0; i < n; i++)
        ct_cpu_relax();
    (*fails)++;
}

static bool backoff_done(unsigned round)
{
    return round >= SPIN_ROUNDS + YIELD_ROUNDS;
}

/* The deadline `timeout_ns` from now (a negative timeout is 0: do not
 * wait); a timeout too long to add up is no deadline at all. */
static int64_t deadline_after(int64_t timeout_ns)
{
    if (timeout_ns > INT64_MAX / 2)
        return CT_PARK_FOREVER;
    return ct_clock_ns() + (timeout_ns > 0 ? timeout_ns : 0);
}

static struct slot *slot_at(unsigned char *base, size_t stride, uint64_t i)
{
    return (struct slot *)(base + i * stride);
}

/* ---- RING --------------------------------------------------------------- */

static uint64_t ring_next(const struct ct_chan *ch, uint64_t pos)
{
    uint64_t idx = pos & ch->mask;
    return idx + 1 < (uint64_t)ch->capacity ? pos + 1 : (pos & ~ch->mask) + ch->lap;
}

/* Messages sent before position `pos`. */
static uint64_t ring_count(const struct ct_chan *ch, uint64_t pos)
{
    return (pos >> ch->shift) * (uint64_t)ch->capacity + (pos & ch->mask);
}

/* 0 sent, -EAGAIN full, -EBUSY a receiver is still copying out of the slot
 * we need (try again in a moment). */
static int ring_try_send(struct ct_chan *ch, const void *msg)
{
    unsigned fails = 0;
    uint64_t t = atomic_load_explicit(&ch->tail, memory_order_relaxed);
    for (;;) {
        struct slot *s = slot_at(ch->ring, ch->stride, t & ch->mask);
        uint64_t stamp = atomic_load_explicit(&s->stamp, memory_order_acquire);
        if (stamp == t) {
            /* free for position t: claim it.  seq_cst pairs with a parked
             * receiver's look at tail (park.h). */
            if (atomic_compare_exchange_weak_explicit(&ch->tail, &t, ring_next(ch, t),
                                                      memory_order_seq_cst,
                                                      memory_order_relaxed)) {
                memcpy(s->msg, msg, ch->msg_size);
                atomic_store_explicit(&s->stamp, t + 1, memory_order_release);
                ct_park_notify_one(&ch->recv_park);
                return 0;
            }
            cas_backoff(&fails);    /* another sender took t; t holds the new tail */
        } else if ((int64_t)(stamp - t) < 0) {
            /* the slot is still busy with position t - lap: claimed and not
             * yet written, or written and not yet read.  Full, unless a
             * receiver has claimed it and is copying it out right now. */
            uint64_t h = atomic_load_explicit(&ch->head, memory_order_seq_cst);
            return h + ch->lap == t ? -EAGAIN : -EBUSY;
        } else {
            t = atomic_load_explicit(&ch->tail, memory_order_relaxed);
        }
    }
}

/* 0 received, -EAGAIN empty, -EBUSY a sender is still copying into the slot
 * we need. */
static int ring_try_recv(struct ct_chan *ch, void *out)
{
    unsigned fails = 0;
    uint64_t h = atomic_load_explicit(&ch->head, memory_order_relaxed);
    for (;;) {
        struct slot *s = slot_at(ch->ring, ch->stride, h & ch->mask);
        uint64_t stamp = atomic_load_explicit(&s->stamp, memory_order_acquire);
        if (stamp == h + 1) {
            if (atomic_compare_exchange_weak_explicit(&ch->head, &h, ring_next(ch, h),
                                                      memory_order_seq_cst,
                                                      memory_order_relaxed)) {
                memcpy(out, s->msg, ch->msg_size);
                /* free for the same index one lap later */
                atomic_store_explicit(&s->stamp, h + ch->lap, memory_order_release);
                ct_park_notify_one(&ch->send_park);
                return 0;
            }
            cas_backoff(&fails);
        } else if (stamp == h) {
            /* not written at this position yet */
            uint64_t t = atomic_load_explicit(&ch->tail, memory_order_seq_cst);
            return t == h ? -EAGAIN : -EBUSY;
        } else {
            h = atomic_load_explicit(&ch->head, memory_order_relaxed);
        }
    }
}

static size_t ring_len(const struct ct_chan *ch)
{
    /* head first: tail only grows, so the difference cannot go negative */
    uint64_t h = atomic_load_explicit(&ch->head, memory_order_seq_cst);
    uint64_t t = atomic_load_explicit(&ch->tail, memory_order_seq_cst);
    return (size_t)(ring_count(ch, t) - ring_count(ch, h));
}

static int ring_open(struct ct_chan *ch)
{
    ch->shift = 1;
    while ((UINT64_C(1) << ch->shift) <= (uint64_t)ch->capacity)
        ch->shift++;
    ch->lap = UINT64_C(1) << ch->shift;
    ch->mask = ch->lap - 1;
    size_t bytes = (size_t)ch->capacity * ch->stride;
    bytes = (bytes + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
    ch->ring = aligned_alloc(CACHE_LINE, bytes);
    if (!ch->ring)
        return -ENOMEM;
    for (long i = 0; i < ch->capacity; i++)
        atomic_init(&slot_at(ch->ring, ch->stride, (uint64_t)i)->stamp, (uint64_t)i);
    return 0;
}

/* Called when no handle is left: drop what nobody received. */
static void ring_free(struct ct_chan *ch)
{
    uint64_t h = atomic_load(&ch->head), t = atomic_load(&ch->tail);
    for (; ch->drop_msg && h != t; h = ring_next(ch, h))
        ch->drop_msg(slot_at(ch->ring, ch->stride, h & ch->mask)->msg);
    free(ch->ring);
}

/* ---- LIST --------------------------------------------------------------- */

static size_t block_bytes(const struct ct_chan *ch)
{
    return sizeof(struct block) + LIST_SLOTS * ch->stride;
}

/* A clean block: the recycled spare if there is one, else a new one. */
static struct block *block_new(struct ct_chan *ch)
{
    struct block *b = atomic_exchange_explicit(&ch->spare, NULL, memory_order_acquire);
    if (!b) {
        size_t bytes = (block_bytes(ch) + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
        b = aligned_alloc(CACHE_LINE, bytes);
        if (!b)
            return NULL;
    }
    atomic_init(&b->next, NULL);
    atomic_init(&b->reads, 0);
    for (unsigned i = 0; i < LIST_SLOTS; i++)
        atomic_init(&slot_at(b->slots, ch->stride, i)->stamp, 0);
    return b;
}

/* A block nobody will touch again: keep one for reuse, free the rest. */
static void block_recycle(struct ct_chan *ch, struct block *b)
{
    b = atomic_exchange_explicit(&ch->spare, b, memory_order_acq_rel);
    free(b);
}

/* 0 sent, -ENOMEM (could not grow). */
static int list_try_send(struct ct_chan *ch, const void *msg)
{
    struct block *spare = NULL;
    unsigned round = 0, fails = 0;
    uint64_t v = atomic_load_explicit(&ch->tail, memory_order_acquire);
    for (;;) {
        if (v & LIST_BUSY) {
            /* the sender that took the last slot is linking the next block */
            backoff(&round);
            v = atomic_load_explicit(&ch->tail, memory_order_acquire);
            continue;
        }
        /* loaded after v: the block holding position v, or a later one (in
         * which case the compare-and-swap below fails) */
        struct block *b = atomic_load_explicit(&ch->tail_block, memory_order_acquire);
        uint64_t i = v >> 1;
        unsigned off = (unsigned)(i % LIST_SLOTS);
        bool last = off == LIST_SLOTS - 1;
        if (last && !spare && !(spare = block_new(ch)))
            return -ENOMEM;     /* allocate before claiming: others wait meanwhile */
        uint64_t nv = ((i + 1) << 1) | (last ? LIST_BUSY : 0);
        if (!atomic_compare_exchange_weak_explicit(&ch->tail, &v, nv, memory_order_seq_cst,
                                                   memory_order_acquire)) {
            cas_backoff(&fails);
            continue;
        }
        if (last) {
            atomic_store_explicit(&b->next, spare, memory_order_release);
            atomic_store_explicit(&ch->tail_block, spare, memory_order_release);
            atomic_store_explicit(&ch->tail, nv & ~(uint64_t)LIST_BUSY, memory_order_release);
            spare = NULL;
        }
        struct slot *s = slot_at(b->slots, ch->stride, off);
        memcpy(s->msg, msg, ch->msg_size);
        atomic_store_explicit(&s->stamp, LIST_WRITTEN, memory_order_release);
        if (spare)
            block_recycle(ch, spare);
        ct_park_notify_one(&ch->recv_park);
        return 0;
    }
}

/* 0 received, -EAGAIN empty.  Once it has claimed a position it waits for
 * that slot's sender to finish copying (a short, bounded wait). */
static int list_try_recv(struct ct_chan *ch, void *out)
{
    /* With one receiver, its handle is in our hands (handles are used by
     * one thread at a time), so no other receiver can appear while we run:
     * plain stores can replace the two read-modify-writes below. */
    bool solo = atomic_load_explicit(&ch->receivers, memory_order_acquire) == 1;
    unsigned round = 0, fails = 0;
    uint64_t v = atomic_load_explicit(&ch->head, memory_order_acquire);
    for (;;) {
        if (v & LIST_BUSY) {
            backoff(&round);
            v = atomic_load_explicit(&ch->head, memory_order_acquire);
            continue;
        }
        struct block *b = atomic_load_explicit(&ch->head_block, memory_order_acquire);
        uint64_t i = v >> 1;
        /* Below a tail index seen before, position i is certainly claimed
         * by a sender; only past it must we look at the senders' cache line
         * (which would otherwise bounce between the cores on every message). */
        if (i >= atomic_load_explicit(&ch->tail_seen, memory_order_relaxed)) {
            uint64_t t = atomic_load_explicit(&ch->tail, memory_order_seq_cst) >> 1;
            if (i == t)
                return -EAGAIN;
            atomic_store_explicit(&ch->tail_seen, t, memory_order_relaxed);
        }
        unsigned off = (unsigned)(i % LIST_SLOTS);
        bool last = off == LIST_SLOTS - 1;
        uint64_t nv = ((i + 1) << 1) | (last ? LIST_BUSY : 0);
        if (solo)
            atomic_store_explicit(&ch->head, nv, memory_order_release);
        else if (!atomic_compare_exchange_weak_explicit(&ch->head, &v, nv, memory_order_seq_cst,
                                                        memory_order_acquire)) {
            cas_backoff(&fails);
            continue;
        }
        if (last) {
            /* the sender of this slot links the next block before it
             * writes the slot; it has claimed it, so it is on its way */
            struct block *next;
            round = 0;
            while (!(next = atomic_load_explicit(&b->next, memory_order_acquire)))
                backoff(&round);
            atomic_store_explicit(&ch->head_block, next, memory_order_release);
            atomic_store_explicit(&ch->head, nv & ~(uint64_t)LIST_BUSY, memory_order_release);
        }
        struct slot *s = slot_at(b->slots, ch->stride, off);
        round = 0;
        while (!(atomic_load_explicit(&s->stamp, memory_order_acquire) & LIST_WRITTEN))
            backoff(&round);
        memcpy(out, s->msg, ch->msg_size);
        /* the reader of the block's last unread slot recycles it; every
         * other access to the block by anyone happens before that */
        unsigned reads;
        if (solo) {
            reads = atomic_load_explicit(&b->reads, memory_order_relaxed);
            atomic_store_explicit(&b->reads, reads + 1, memory_order_relaxed);
        } else {
            reads = atomic_fetch_add_explicit(&b->reads, 1, memory_order_acq_rel);
        }
        if (reads == LIST_SLOTS - 1)
            block_recycle(ch, b);
        return 0;
    }
}

static size_t list_len(const struct ct_chan *ch)
{
    uint64_t h = atomic_load_explicit(&ch->head, memory_order_seq_cst) >> 1;
    uint64_t t = atomic_load_explicit(&ch->tail, memory_order_seq_cst) >> 1;
    return (size_t)(t - h);
}

static int list_open(struct ct_chan *ch)
{
    atomic_init(&ch->spare, NULL);
    atomic_init(&ch->tail_seen, 0);
    struct block *b = block_new(ch);
    if (!b)
        return -ENOMEM;
    atomic_init(&ch->head_block, b);
    atomic_init(&ch->tail_block, b);
    return 0;
}

static void list_free(struct ct_chan *ch)
{
    uint64_t i = atomic_load(&ch->head) >> 1, t = atomic_load(&ch->tail) >> 1;
    struct block *b = atomic_load(&ch->head_block);
    for (; i < t; i++) {
        if (ch->drop_msg)
            ch->drop_msg(slot_at(b->slots, ch->stride, i % LIST_SLOTS)->msg);
        if (i % LIST_SLOTS == LIST_SLOTS - 1) {
            struct block *next = atomic_load(&b->next);
            free(b);
            b = next;
        }
    }
    free(b);
    free(atomic_load(&ch->spare));
}

/* ---- waiting in RING and LIST --------------------------------------------- */

static int try_send_now(struct ct_chan *ch, const void *msg)
{
    return ch->kind == RING ? ring_try_send(ch, msg) : list_try_send(ch, msg);
}

static int try_recv_now(struct ct_chan *ch, void *out)
{
    return ch->kind == RING ? ring_try_recv(ch, out) : list_try_recv(ch, out);
}

static size_t queued(const struct ct_chan *ch)
{
    switch (ch->kind) {
    case RING: return ring_len(ch);
    case LIST: return list_len(ch);
    case ZERO: break;
    }
    return 0;
}

static bool no_receivers(struct ct_chan *ch)
{
    return atomic_load_explicit(&ch->receivers, memory_order_seq_cst) == 0;
}

static bool no_senders(struct ct_chan *ch)
{
    return atomic_load_explicit(&ch->senders, memory_order_seq_cst) == 0;
}

static int queue_send(struct ct_chan *ch, const void *msg, int64_t deadline, struct ct_event *cancel,
                      bool block)
{
    unsigned round = 0;
    for (;;) {
        if (no_receivers(ch))
            return -EPIPE;
        int rc = try_send_now(ch, msg);
        if (rc != -EAGAIN && rc != -EBUSY)
            return rc;
        if (rc == -EAGAIN && !block)
            return rc;
        if (rc == -EBUSY || !backoff_done(round)) {
            backoff(&round);
            continue;
        }
        uint32_t key = ct_park_prepare(&ch->send_park);
        if (queued(ch) < (size_t)ch->capacity || no_receivers(ch)) {
            ct_park_abort(&ch->send_park);
            continue;
        }
        rc = ct_park_wait(&ch->send_park, key, deadline, cancel);
        if (rc < 0) {
            /* we may have swallowed a wake-up meant for the next sender */
            if (queued(ch) < (size_t)ch->capacity)
                ct_park_notify_one(&ch->send_park);
            return rc;
        }
        round = SPIN_ROUNDS;    /* woken: try, yield, try, then sleep again */
    }
}

static int queue_recv(struct ct_chan *ch, void *out, int64_t deadline, struct ct_event *cancel,
                      bool block)
{
    unsigned round = 0;
    for (;;) {
        int rc = try_recv_now(ch, out);
        if (rc != -EAGAIN && rc != -EBUSY)
            return rc;
        if (rc == -EAGAIN && no_senders(ch)) {
            /* every send happened before the last sender's drop, which we
             * have just seen: one more look finds anything still queued */
            rc = try_recv_now(ch, out);
            return rc == -EAGAIN ? -EPIPE : rc;
        }
        if (rc == -EAGAIN && !block)
            return rc;
        if (rc == -EBUSY || !backoff_done(round)) {
            backoff(&round);
            continue;
        }
        uint32_t key = ct_park_prepare(&ch->recv_park);
        if (queued(ch) > 0 || no_senders(ch)) {
            ct_park_abort(&ch->recv_park);
            continue;
        }
        rc = ct_park_wait(&ch->recv_park, key, deadline, cancel);
        if (rc < 0) {
            if (queued(ch) > 0)
                ct_park_notify_one(&ch->recv_park);
            return rc;
        }
        round = SPIN_ROUNDS;
    }
}

/* ---- ZERO --------------------------------------------------------------- */

static void waitq_push(struct waitq *q, struct waiter *w)
{
    w->next = NULL;
    if (q->last)
        q->last->next = w;
    else
        q->first = w;
    q->last = w;
}

static struct waiter *waitq_pop(struct waitq *q)
{
    struct waiter *w = q->first;
    if (w) {
        q->first = w->next;
        if (!q->first)
            q->last = NULL;
    }
    return w;
}

static void waitq_remove(struct waitq *q, struct waiter *w)
{
    struct waiter *prev = NULL;
    for (struct waiter *p = q->first; p; prev = p, p = p->next) {
        if (p != w)
            continue;
        if (prev)
            prev->next = p->next;
        else
            q->first = p->next;
        if (q->last == p)
            q->last = prev;
        return;
    }
}

/* Wake every waiter of `q` with W_CLOSED; call with ch->mu held. */
static void waitq_close(struct waitq *q)
{
    for (struct waiter *w; (w = waitq_pop(q));) {
        w->state = W_CLOSED;
        CT_PT(pthread_cond_signal(&w->cv));
    }
}

/* We popped `w` (state W_CLAIMED) with the mutex held and dropped it; copy
 * `n` bytes from `src` to `dst` (one of them is w's buffer) and tell it. */
static void hand_over(struct ct_chan *ch, struct waiter *w, void *dst, const void *src)
{
    memcpy(dst, src, ch->msg_size);
    CT_PT(pthread_mutex_lock(&ch->mu));
    w->state = W_DONE;
    CT_PT(pthread_cond_signal(&w->cv));
    CT_PT(pthread_mutex_unlock(&ch->mu));
}

/* Queue `me` on `q` and wait for a partner (ch->mu held on entry and on
 * return).  0 when the partner copied, -EPIPE when the other side left,
 * -ETIMEDOUT / -ECANCELED when we gave up before anyone claimed us. */
static int zero_wait(struct ct_chan *ch, struct waitq *q, struct waiter *me, int64_t deadline,
                     struct ct_event *cancel)
{
    pthread_condattr_t ca;
    CT_PT(pthread_condattr_init(&ca));
    CT_PT(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC));
    int rc = pthread_cond_init(&me->cv, &ca);
    CT_PT(pthread_condattr_destroy(&ca));
    if (rc != 0)
        return -rc;
    me->state = W_WAITING;
    waitq_push(q, me);
    for (;;) {
        if (me->state == W_DONE) {
            rc = 0;
            break;
        }
        if (me->state == W_CLOSED) {
            rc = -EPIPE;
            break;
        }
        int64_t now = ct_clock_ns();
        if (me->state == W_WAITING) {
            /* nobody has claimed us yet: we may still leave */
            rc = cancel && ct_event_is_set(cancel) ? -ECANCELED
                 : now >= deadline                ? -ETIMEDOUT
                                                  : 0;
            if (rc) {
                waitq_remove(q, me);
                break;
            }
        }
        /* once claimed we cannot back out: the partner is copying and will
         * signal, which takes as long as one memcpy */
        int64_t until = now + CT_PARK_SLICE_NS;
        if (me->state == W_WAITING && deadline < until)
            until = deadline;
        struct timespec ts = { .tv_sec = (time_t)(until / CT_NS_PER_S),
                               .tv_nsec = (long)(until % CT_NS_PER_S) };
        int e = pthread_cond_timedwait(&me->cv, &ch->mu, &ts);
        if (e != ETIMEDOUT)
            CT_PT(e);
    }
    CT_PT(pthread_cond_destroy(&me->cv));
    return rc;
}

static int zero_send(struct ct_chan *ch, void *msg, int64_t deadline, struct ct_event *cancel,
                     bool block)
{
    CT_PT(pthread_mutex_lock(&ch->mu));
    if (no_receivers(ch)) {
        CT_PT(pthread_mutex_unlock(&ch->mu));
        return -EPIPE;
    }
    struct waiter *r = waitq_pop(&ch->recvq);
    if (r) {
        r->state = W_CLAIMED;
        CT_PT(pthread_mutex_unlock(&ch->mu));
        hand_over(ch, r, r->buf, msg);
        return 0;
    }
    int rc = -EAGAIN;
    if (block) {
        struct waiter me = { .buf = msg };
        rc = zero_wait(ch, &ch->sendq, &me, deadline, cancel);
    }
    CT_PT(pthread_mutex_unlock(&ch->mu));
    return rc;
}

static int zero_recv(struct ct_chan *ch, void *out, int64_t deadline, struct ct_event *cancel,
                     bool block)
{
    CT_PT(pthread_mutex_lock(&ch->mu));
    struct waiter *s = waitq_pop(&ch->sendq);
    if (s) {
        s->state = W_CLAIMED;
        CT_PT(pthread_mutex_unlock(&ch->mu));
        hand_over(ch, s, out, s->buf);
        return 0;
    }
    int rc = no_senders(ch) ? -EPIPE : -EAGAIN;
    if (rc == -EAGAIN && block) {
        struct waiter me = { .buf = out };
        rc = zero_wait(ch, &ch->recvq, &me, deadline, cancel);
    }
    CT_PT(pthread_mutex_unlock(&ch->mu));
    return rc;
}

/* ---- handles ------------------------------------------------------------ */

int ct_chan_open(struct ct_sender *tx, struct ct_receiver *rx, size_t msg_size,
                 long capacity, void (*drop_msg)(void *msg))
{
    tx->chan = NULL;
    rx->chan = NULL;
    if (msg_size == 0 || msg_size > CT_CHAN_MAX_MSG ||
        (capacity != CT_CHAN_UNBOUNDED && (capacity < 0 || capacity > CT_CHAN_MAX_CAPACITY)))
        return -EINVAL;
    struct ct_chan *ch = aligned_alloc(CACHE_LINE, sizeof *ch);
    if (!ch)
        return -ENOMEM;
    memset(ch, 0, sizeof *ch);
    ch->kind = capacity == CT_CHAN_UNBOUNDED ? LIST : capacity == 0 ? ZERO : RING;
    ch->msg_size = msg_size;
    ch->stride = sizeof(struct slot) + (msg_size + 7) / 8 * 8;
    ch->capacity = capacity;
    ch->drop_msg = drop_msg;
    atomic_init(&ch->tail, 0);
    atomic_init(&ch->head, 0);
    ct_park_init(&ch->recv_park);
    ct_park_init(&ch->send_park);
    atomic_init(&ch->senders, 1);
    atomic_init(&ch->receivers, 1);
    atomic_init(&ch->handles, 2);
    int rc = pthread_mutex_init(&ch->mu, NULL);
    if (rc != 0) {
        free(ch);
        return -rc;
    }
    rc = ch->kind == RING ? ring_open(ch) : ch->kind == LIST ? list_open(ch) : 0;
    if (rc < 0) {
        CT_PT(pthread_mutex_destroy(&ch->mu));
        free(ch);
        return rc;
    }
    tx->chan = ch;
    rx->chan = ch;
    return 0;
}

static void release(struct ct_chan *ch)
{
    if (atomic_fetch_sub_explicit(&ch->handles, 1, memory_order_acq_rel) != 1)
        return;
    switch (ch->kind) {
    case RING: ring_free(ch); break;
    case LIST: list_free(ch); break;
    case ZERO: break;
    }
    CT_PT(pthread_mutex_destroy(&ch->mu));
    free(ch);
}

int ct_chan_clone_sender(const struct ct_sender *tx, struct ct_sender *copy)
{
    copy->chan = tx->chan;
    if (!tx->chan)
        return -EBADF;
    atomic_fetch_add_explicit(&tx->chan->handles, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&tx->chan->senders, 1, memory_order_relaxed);
    return 0;
}

int ct_chan_clone_receiver(const struct ct_receiver *rx, struct ct_receiver *copy)
{
    copy->chan = rx->chan;
    if (!rx->chan)
        return -EBADF;
    atomic_fetch_add_explicit(&rx->chan->handles, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&rx->chan->receivers, 1, memory_order_relaxed);
    return 0;
}

void ct_chan_drop_sender(struct ct_sender *tx)
{
    struct ct_chan *ch = tx->chan;
    if (!ch)
        return;
    tx->chan = NULL;
    if (atomic_fetch_sub_explicit(&ch->senders, 1, memory_order_seq_cst) == 1) {
        /* closed: wake every receiver so it can drain and see it */
        if (ch->kind == ZERO) {
            CT_PT(pthread_mutex_lock(&ch->mu));
            waitq_close(&ch->recvq);
            CT_PT(pthread_mutex_unlock(&ch->mu));
        }
        ct_park_notify_all(&ch->recv_park);
    }
    release(ch);
}

void ct_chan_drop_receiver(struct ct_receiver *rx)
{
    struct ct_chan *ch = rx->chan;
    if (!ch)
        return;
    rx->chan = NULL;
    if (atomic_fetch_sub_explicit(&ch->receivers, 1, memory_order_seq_cst) == 1) {
        if (ch->kind == ZERO) {
            CT_PT(pthread_mutex_lock(&ch->mu));
            waitq_close(&ch->sendq);
            CT_PT(pthread_mutex_unlock(&ch->mu));
        }
        ct_park_notify_all(&ch->send_park);
    }
    release(ch);
}

/* ---- sending and receiving ---------------------------------------------- */

static int send_until(struct ct_sender *tx, void *msg, int64_t deadline, struct ct_event *cancel,
                      bool block)
{
    struct ct_chan *ch = tx->chan;
    if (!ch)
        return -EBADF;
    int rc = ch->kind == ZERO ? zero_send(ch, msg, deadline, cancel, block)
                              : queue_send(ch, msg, deadline, cancel, block);
    if (rc == 0)
        memset(msg, 0, ch->msg_size);   /* moved: the caller's copy is gone */
    return rc;
}

static int recv_until(struct ct_receiver *rx, void *out, int64_t deadline,
                      struct ct_event *cancel, bool block)
{
    struct ct_chan *ch = rx->chan;
    if (!ch)
        return -EBADF;
    return ch->kind == ZERO ? zero_recv(ch, out, deadline, cancel, block)
                            : queue_recv(ch, out, deadline, cancel, block);
}

int ct_chan_send(struct ct_sender *tx, void *msg, struct ct_event *cancel)
{
    return send_until(tx, msg, CT_PARK_FOREVER, cancel, true);
}

int ct_chan_send_timeout(struct ct_sender *tx, void *msg, int64_t timeout_ns,
                         struct ct_event *cancel)
{
    return send_until(tx, msg, deadline_after(timeout_ns), cancel, true);
}

int ct_chan_try_send(struct ct_sender *tx, void *msg)
{
    return send_until(tx, msg, 0, NULL, false);
}

int ct_chan_recv(struct ct_receiver *rx, void *out, struct ct_event *cancel)
{
    return recv_until(rx, out, CT_PARK_FOREVER, cancel, true);
}

int ct_chan_recv_timeout(struct ct_receiver *rx, void *out, int64_t timeout_ns,
                         struct ct_event *cancel)
{
    return recv_until(rx, out, deadline_after(timeout_ns), cancel, true);
}

int ct_chan_try_recv(struct ct_receiver *rx, void *out)
{
    return recv_until(rx, out, 0, NULL, false);
}

size_t ct_chan_len(const struct ct_chan *ch)
{
    return queued(ch);
}

long ct_chan_capacity(const struct ct_chan *ch)
{
    return ch->capacity;
}

int ct_chan_senders(const struct ct_chan *ch)
{
    return atomic_load(&((struct ct_chan *)ch)->senders);
}

int ct_chan_receivers(const struct ct_chan *ch)
{
    return atomic_load(&((struct ct_chan *)ch)->receivers);
}
