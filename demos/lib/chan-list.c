/* chan-list.c - the unbounded channel: a linked list of blocks.
 *
 * Messages go into blocks of LIST_SLOTS slots chained by `next`.
 * Positions count messages (shifted left one bit; the low bit marks "busy:
 * the next block is being linked in", during which others wait).  Whoever
 * claims the last slot of a block links the next one in, so the chain never
 * holds an empty block for long.  A block is recycled by the receiver that
 * reads its last unread slot (a counter per block).  Receivers look at the
 * senders' `tail` only when they catch up with the last tail they saw, and
 * a lone receiver uses plain stores where several would need
 * read-modify-writes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "chan-impl.h"

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
        chan_count(&ch->blocks, 1);
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
int ct_chan_list_try_send(struct ct_chan *ch, const void *msg)
{
    struct block *spare = NULL;
    struct ct_backoff wait = CT_BACKOFF_INIT, cas = CT_BACKOFF_INIT;
    uint64_t v = atomic_load_explicit(&ch->tail, memory_order_acquire);
    for (;;) {
        if (v & LIST_BUSY) {
            /* the sender that took the last slot is linking the next block */
            ct_backoff_snooze(&wait);
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
            ct_backoff_spin(&cas);
            continue;
        }
        if (last) {
            atomic_store_explicit(&b->next, spare, memory_order_release);
            atomic_store_explicit(&ch->tail_block, spare, memory_order_release);
            atomic_store_explicit(&ch->tail, nv & ~(uint64_t)LIST_BUSY, memory_order_release);
            spare = NULL;
        }
        struct slot *s = slot_at(b->slots, ch->stride, off);
        msg_copy(s->msg, msg, ch->msg_size);
        atomic_store_explicit(&s->stamp, LIST_WRITTEN, memory_order_release);
        if (spare)
            block_recycle(ch, spare);
        ct_park_notify_one(&ch->recv_park);
        return 0;
    }
}

/* 0 received, -EAGAIN empty.  Once it has claimed a position it waits for
 * that slot's sender to finish copying (a short, bounded wait). */
int ct_chan_list_try_recv(struct ct_chan *ch, void *out)
{
    /* With one receiver, its handle is in our hands (handles are used by
     * one thread at a time), so no other receiver can appear while we run:
     * plain stores can replace the two read-modify-writes below. */
    bool solo = atomic_load_explicit(&ch->receivers, memory_order_acquire) == 1;
    struct ct_backoff wait = CT_BACKOFF_INIT, cas = CT_BACKOFF_INIT;
    uint64_t v = atomic_load_explicit(&ch->head, memory_order_acquire);
    for (;;) {
        if (v & LIST_BUSY) {
            ct_backoff_snooze(&wait);
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
            ct_backoff_spin(&cas);
            continue;
        }
        if (last) {
            /* the sender of this slot links the next block before it
             * writes the slot; it has claimed it, so it is on its way */
            struct block *next;
            wait = (struct ct_backoff)CT_BACKOFF_INIT;
            while (!(next = atomic_load_explicit(&b->next, memory_order_acquire)))
                ct_backoff_snooze(&wait);
            atomic_store_explicit(&ch->head_block, next, memory_order_release);
            atomic_store_explicit(&ch->head, nv & ~(uint64_t)LIST_BUSY, memory_order_release);
        }
        struct slot *s = slot_at(b->slots, ch->stride, off);
        wait = (struct ct_backoff)CT_BACKOFF_INIT;
        while (!(atomic_load_explicit(&s->stamp, memory_order_acquire) & LIST_WRITTEN))
            ct_backoff_snooze(&wait);
        msg_copy(out, s->msg, ch->msg_size);
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

size_t ct_chan_list_len(const struct ct_chan *ch)
{
    uint64_t h = atomic_load_explicit(&ch->head, memory_order_seq_cst) >> 1;
    uint64_t t = atomic_load_explicit(&ch->tail, memory_order_seq_cst) >> 1;
    return (size_t)(t - h);
}

int ct_chan_list_open(struct ct_chan *ch)
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

void ct_chan_list_free(struct ct_chan *ch)
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

