/* join-threads: add up square(i) for i = 1..n on a few threads. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

long square(long i);            /* the checker's: slow */

struct part {
    long first, step, last;
    long sum;
};

static void *sum_part(void *arg)
{
    struct part *p = arg;
    for (long i = p->first; i <= p->last; i += p->step)
        p->sum += square(i);
    return NULL;
}

/* The sum of square(1) .. square(n), on nthreads threads (1..8). */
long parallel_sum(long n, int nthreads)
{
    pthread_t threads[8];
    struct part parts[8];
    for (int k = 0; k < nthreads; k++) {
        parts[k] = (struct part){ k + 1, nthreads, n, 0 };
        pthread_create(&threads[k], NULL, sum_part, &parts[k]);
    }
    long total = 0;
    for (int k = 0; k < nthreads; k++)
        total += parts[k].sum;
    return total;
}
