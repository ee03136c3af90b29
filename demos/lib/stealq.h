/* stealq.h - a worker's run queue that other workers can steal from.
 *
 * A ring of CT_STEALQ_CAP pointers between two counters that only grow,
 * head and tail.  Only the owner pushes (at tail).  Items are taken from
 * head, by the owner and by thieves alike, each claiming them with one
 * compare-and-swap on head, so the queue is first in, first out for
 * everyone.  A thief reads the slots before its CAS; if the owner has
 * meanwhile wrapped around and reused one, head has moved and the CAS
 * fails.  The slots are atomics so that such a doomed read is not a data
 * race.
 *
 * Ordering, from the user's side:
 *   - a push happens-before the pop or steal that returns that item, so
 *     whatever the owner wrote to the item before pushing it, the taker
 *     sees;
 *   - every item pushed is returned exactly once (by pop, steal or
 *     take_half), never lost, never twice.
 * The tail is stored seq_cst so that an executor can pair "push, then look
 * for sleeping workers" with "announce sleep, then look at queues" (the
 * store-buffering pattern) and never lose a wake-up.
 */
#ifndef CT_STEALQ_H
#define CT_STEALQ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CT_STEALQ_CAP 256           /* a power of two */
#define CT_STEALQ_HALF (CT_STEALQ_CAP / 2)

struct ct_stealq {
    atomic_uint_fast64_t head;
    atomic_uint_fast64_t tail;
    _Atomic(void *) slot[CT_STEALQ_CAP];
};

void ct_stealq_init(struct ct_stealq *q);

/* Owner only: append `item`.  False when the queue is full. */
static inline bool ct_stealq_push(struct ct_stealq *q, void *item)
{
    uint_fast64_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    /* acquire: a thief that moved head has finished reading the slot */
    uint_fast64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
    if (tail - head >= CT_STEALQ_CAP)
        return false;
    atomic_store_explicit(&q->slot[tail % CT_STEALQ_CAP], item, memory_order_relaxed);
    atomic_store_explicit(&q->tail, tail + 1, memory_order_seq_cst);
    return true;
}

/* Anyone: the oldest item, or NULL when empty. */
static inline void *ct_stealq_pop(struct ct_stealq *q)
{
    uint_fast64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
    for (;;) {
        /* acquire: the slot below tail was written before tail moved */
        uint_fast64_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
        if (head == tail)
            return NULL;
        void *item = atomic_load_explicit(&q->slot[head % CT_STEALQ_CAP], memory_order_relaxed);
        if (atomic_compare_exchange_weak_explicit(&q->head, &head, head + 1,
                                                  memory_order_acq_rel, memory_order_acquire))
            return item;
    }
}

/* Items queued now (a snapshot). */
static inline size_t ct_stealq_len(struct ct_stealq *q)
{
    uint_fast64_t head = atomic_load(&q->head);
    uint_fast64_t tail = atomic_load(&q->tail);
    return tail > head ? (size_t)(tail - head) : 0;
}

/* A thief: take half of `victim`'s items (rounded up, at most `max`,
 * which is at most CT_STEALQ_HALF).  The first is returned; the rest are
 * pushed onto `mine`, which must belong to the caller and be empty.  *n
 * receives how many were taken.  NULL (and *n untouched) when there was
 * nothing to take or other takers kept winning the race. */
void *ct_stealq_steal(struct ct_stealq *victim, struct ct_stealq *mine, size_t max, size_t *n);

/* Owner only, when push failed: take the oldest CT_STEALQ_HALF items into
 * out[] (for moving them to a shared queue in one go).  Returns
 * CT_STEALQ_HALF, or 0 when the queue had room after all (thieves took
 * some): push again. */
size_t ct_stealq_take_half(struct ct_stealq *q, void *out[CT_STEALQ_HALF]);

#endif
