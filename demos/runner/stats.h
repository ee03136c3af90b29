/* stats.h - summary statistics of a small sample (repetitions of a
 * benchmark, waits of a few threads): min, max, mean and median; and a
 * running maximum that threads can update together. */
#ifndef CT_STATS_H
#define CT_STATS_H

#include <stdatomic.h>
#include <stddef.h>

struct ct_stats {
    size_t n;
    double min, max, mean, median;
};

/* Summarise v[0..n-1] (left unchanged).  All zero when n == 0.  0, or
 * -ENOMEM if the sorted copy cannot be made. */
int ct_stats_of(const double *v, size_t n, struct ct_stats *out);

/* Raise *max to v if v is larger (several threads may call this at once). */
static inline void ct_atomic_max(atomic_int *max, int v)
{
    int m = atomic_load_explicit(max, memory_order_relaxed);
    while (v > m && !atomic_compare_exchange_weak_explicit(max, &m, v, memory_order_relaxed,
                                                           memory_order_relaxed))
        ;
}

#endif
