/* stats.h - summary statistics of a small sample (repetitions of a
 * benchmark, waits of a few threads): min, max, mean and median. */
#ifndef CT_STATS_H
#define CT_STATS_H

#include <stddef.h>

struct ct_stats {
    size_t n;
    double min, max, mean, median;
};

/* Summarise v[0..n-1] (left unchanged).  All zero when n == 0.  0, or
 * -ENOMEM if the sorted copy cannot be made. */
int ct_stats_of(const double *v, size_t n, struct ct_stats *out);

#endif
