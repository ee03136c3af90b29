/* drain-queue, solved: a worker leaves only when the pool is stopping
 * AND the queue is empty, so every job queued before the shutdown runs. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdbool.h>

void run_job(int job);          /* the checker's */

#define QCAP 1024

struct pool {
    pthread_mutex_t lock;
    pthread_cond_t work;
    int jobs[QCAP];
    int head, count;
    bool stopping;
    pthread_t workers[8];
    int nworkers;
};

static void *worker(void *arg)
{
    struct pool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->count == 0 && !p->stopping)
            pthread_cond_wait(&p->work, &p->lock);
        if (p->count == 0)
            break;              /* stopping, and nothing left to do */
        int job = p->jobs[p->head];
        p->head = (p->head + 1) % QCAP;
        p->count--;
        pthread_mutex_unlock(&p->lock);
        run_job(job);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

void pool_start(struct pool *p, int nworkers)
{
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    p->head = p->count = 0;
    p->stopping = false;
    p->nworkers = nworkers;
    for (int i = 0; i < nworkers; i++)
        pthread_create(&p->workers[i], NULL, worker, p);
}

/* Queue a job (the checker never queues more than QCAP). */
void pool_submit(struct pool *p, int job)
{
    pthread_mutex_lock(&p->lock);
    p->jobs[(p->head + p->count++) % QCAP] = job;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->lock);
}

/* Stop the workers once the queued jobs are done, and join them. */
void pool_shutdown(struct pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nworkers; i++)
        pthread_join(p->workers[i], NULL);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->lock);
}
