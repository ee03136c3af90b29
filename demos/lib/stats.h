/* stats.h - median, min and max of a handful of measurements, for demos
 * that repeat a timing and report its spread (warm-up, several runs, the
 * median with min/max, never a single lucky run). */
#ifndef CT_STATS_H
#define CT_STATS_H

#include <stddef.h>
#include <stdlib.h>

struct ct_stats {
    double median, min, max;
};

static inline int ct_stats_cmp_(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median (the mean of the middle two for an even count), min and max of
 * v[0..n).  Sorts `v` in place.  All zero when n is 0. */
static inline struct ct_stats ct_stats_of(double *v, size_t n)
{
    struct ct_stats s = { 0, 0, 0 };
    if (n == 0)
        return s;
    qsort(v, n, sizeof *v, ct_stats_cmp_);
    s.min = v[0];
    s.max = v[n - 1];
    s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    return s;
}

#endif
