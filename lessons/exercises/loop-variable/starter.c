/* loop-variable: start n workers, each reporting its own number once. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

void record(int id);            /* the checker's */

static void *worker(void *arg)
{
    int id = *(int *)arg;
    record(id);
    return NULL;
}

/* Start workers 0 .. n-1 (n is at most 64), then join them. */
void start_workers(int n)
{
    pthread_t threads[64];
    for (int i = 0; i < n; i++)
        pthread_create(&threads[i], NULL, worker, &i);
    for (int i = 0; i < n; i++)
        pthread_join(threads[i], NULL);
}
