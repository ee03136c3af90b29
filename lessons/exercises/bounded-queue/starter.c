/* bounded-queue: at most CAP items between producer and consumer. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#define CAP 4

struct bq {
    pthread_mutex_t lock;
    pthread_cond_t not_empty;
    int items[CAP];
    int head, count;
};

void bq_init(struct bq *q)
{
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    q->head = q->count = 0;
}

void bq_destroy(struct bq *q)
{
    pthread_cond_destroy(&q->not_empty);
    pthread_mutex_destroy(&q->lock);
}

/* Add v at the back. */
void bq_push(struct bq *q, int v)
{
    pthread_mutex_lock(&q->lock);
    if (q->count < CAP) {
        q->items[(q->head + q->count) % CAP] = v;
        q->count++;
        pthread_cond_signal(&q->not_empty);
    }
    pthread_mutex_unlock(&q->lock);
}

/* Take from the front, waiting while the queue is empty. */
int bq_pop(struct bq *q)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == 0)
        pthread_cond_wait(&q->not_empty, &q->lock);
    int v = q->items[q->head];
    q->head = (q->head + 1) % CAP;
    q->count--;
    pthread_mutex_unlock(&q->lock);
    return v;
}
