/* loop-variable, solved: each thread gets its own int that nobody writes
 * after the thread starts, and that lives until the thread is joined. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

void record(int id);

static void *worker(void *arg)
{
    int id = *(int *)arg;
    record(id);
    return NULL;
}

void start_workers(int n)
{
    pthread_t threads[64];
    int ids[64];
    for (int i = 0; i < n; i++) {
        ids[i] = i;
        pthread_create(&threads[i], NULL, worker, &ids[i]);
    }
    for (int i = 0; i < n; i++)
        pthread_join(threads[i], NULL);
}
