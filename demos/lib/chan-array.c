/* chan-array.c - the bounded channel: a ring of N slots with stamps.
 *
 * Senders share `tail`, receivers share `head`; both are positions that
 * only grow.  A slot's stamp says what it is ready for: "write at position
 * p" or "read at position p".  A sender whose slot is ready to be written
 * claims the position by moving `tail` on with a compare-and-swap, copies
 * its message in with no lock held, then flips the stamp to "read at p"; a
 * receiver does the mirror image on `head`.  (The idea is Dmitry Vyukov's
 * bounded MPMC queue; the code is ours.)  To avoid a division per message a
 * position is (lap << shift) | index, with 2^shift > N.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "chan-impl.h"

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
int ct_chan_array_try_send(struct ct_chan *ch, const void *msg)
{
    struct ct_backoff cas = CT_BACKOFF_INIT;
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
                msg_copy(s->msg, msg, ch->msg_size);
                atomic_store_explicit(&s->stamp, t + 1, memory_order_release);
                ct_park_notify_one(&ch->recv_park);
                return 0;
            }
            ct_backoff_spin(&cas);    /* another sender took t; t holds the new tail */
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
int ct_chan_array_try_recv(struct ct_chan *ch, void *out)
{
    struct ct_backoff cas = CT_BACKOFF_INIT;
    uint64_t h = atomic_load_explicit(&ch->head, memory_order_relaxed);
    for (;;) {
        struct slot *s = slot_at(ch->ring, ch->stride, h & ch->mask);
        uint64_t stamp = atomic_load_explicit(&s->stamp, memory_order_acquire);
        if (stamp == h + 1) {
            if (atomic_compare_exchange_weak_explicit(&ch->head, &h, ring_next(ch, h),
                                                      memory_order_seq_cst,
                                                      memory_order_relaxed)) {
                msg_copy(out, s->msg, ch->msg_size);
                /* free for the same index one lap later */
                atomic_store_explicit(&s->stamp, h + ch->lap, memory_order_release);
                ct_park_notify_one(&ch->send_park);
                return 0;
            }
            ct_backoff_spin(&cas);
        } else if (stamp == h) {
            /* not written at this position yet */
            uint64_t t = atomic_load_explicit(&ch->tail, memory_order_seq_cst);
            return t == h ? -EAGAIN : -EBUSY;
        } else {
            h = atomic_load_explicit(&ch->head, memory_order_relaxed);
        }
    }
}

size_t ct_chan_array_len(const struct ct_chan *ch)
{
    /* head first: tail only grows, so the difference cannot go negative */
    uint64_t h = atomic_load_explicit(&ch->head, memory_order_seq_cst);
    uint64_t t = atomic_load_explicit(&ch->tail, memory_order_seq_cst);
    return (size_t)(ring_count(ch, t) - ring_count(ch, h));
}

int ct_chan_array_open(struct ct_chan *ch)
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
void ct_chan_array_free(struct ct_chan *ch)
{
    uint64_t h = atomic_load(&ch->head), t = atomic_load(&ch->tail);
    for (; ch->drop_msg && h != t; h = ring_next(ch, h))
        ch->drop_msg(slot_at(ch->ring, ch->stride, h & ch->mask)->msg);
    free(ch->ring);
}

