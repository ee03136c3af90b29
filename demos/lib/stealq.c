/* stealq.c - see stealq.h. */
#include "stealq.h"

void ct_stealq_init(struct ct_stealq *q)
{
    atomic_init(&q->head, 0);
    atomic_init(&q->tail, 0);
    for (size_t i = 0; i < CT_STEALQ_CAP; i++)
        atomic_init(&q->slot[i], NULL);
}

void *ct_stealq_steal(struct ct_stealq *victim, struct ct_stealq *mine, size_t max, size_t *n)
{
    void *got[CT_STEALQ_HALF];
    if (max > CT_STEALQ_HALF)
        max = CT_STEALQ_HALF;
    for (int attempt = 0; attempt < 4; attempt++) {
        uint_fast64_t head = atomic_load_explicit(&victim->head, memory_order_acquire);
        /* acquire: the slots below tail were written before it */
        uint_fast64_t tail = atomic_load_explicit(&victim->tail, memory_order_acquire);
        if (tail <= head)
            return NULL;
        size_t k = (size_t)(tail - head);
        k -= k / 2;
        if (k > max)
            k = max;
        for (size_t i = 0; i < k; i++)
            got[i] = atomic_load_explicit(&victim->slot[(head + i) % CT_STEALQ_CAP],
                                          memory_order_relaxed);
        if (atomic_compare_exchange_strong_explicit(&victim->head, &head, head + k,
                                                    memory_order_acq_rel,
                                                    memory_order_acquire)) {
            for (size_t i = 1; i < k; i++)
                ct_stealq_push(mine, got[i]);
            *n = k;
            return got[0];
        }
    }
    return NULL;
}

size_t ct_stealq_take_half(struct ct_stealq *q, void *out[CT_STEALQ_HALF])
{
    uint_fast64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
    uint_fast64_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    if (tail - head < CT_STEALQ_CAP)
        return 0;
    for (size_t i = 0; i < CT_STEALQ_HALF; i++)
        out[i] = atomic_load_explicit(&q->slot[(head + i) % CT_STEALQ_CAP], memory_order_relaxed);
    if (!atomic_compare_exchange_strong_explicit(&q->head, &head, head + CT_STEALQ_HALF,
                                                 memory_order_acq_rel, memory_order_acquire))
        return 0;           /* a thief made room */
    return CT_STEALQ_HALF;
}
