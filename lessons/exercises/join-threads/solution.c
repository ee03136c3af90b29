/* join-threads, solved: pthread_join waits for each thread to finish, and
 * everything the thread wrote happens-before the join returns, so the
 * parts can be read safely afterwards. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

long square(long i);

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

long parallel_sum(long n, int nthreads)
{
    pthread_t threads[8];
    struct part parts[8];
    int started = 0;
    for (int k = 0; k < nthreads; k++) {
        parts[k] = (struct part){ k + 1, nthreads, n, 0 };
        if (pthread_create(&threads[k], NULL, sum_part, &parts[k]) != 0)
            break;
        started++;
    }
    long total = 0;
    for (int k = 0; k < started; k++) {
        pthread_join(threads[k], NULL);
        total += parts[k].sum;
    }
    return started == nthreads ? total : -1;
}
