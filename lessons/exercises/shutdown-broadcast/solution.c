/* shutdown-broadcast, solved: a stop concerns every worker, so it is
 * broadcast; pthread_cond_signal wakes only one waiter. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

void tick(int id);              /* the checker's: one unit of work */

struct crew {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    pthread_t threads[8];
    int ids[8], n;
};

static struct crew *the_crew;

static void *worker(void *arg)
{
    int id = *(int *)arg;
    struct crew *c = the_crew;
    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        pthread_mutex_unlock(&c->lock);
        tick(id);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 10;     /* next unit of work in ten seconds */
        pthread_mutex_lock(&c->lock);
        while (!c->stop && pthread_cond_timedwait(&c->wake, &c->lock, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

void crew_start(struct crew *c, int n)
{
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    c->stop = false;
    c->n = n;
    the_crew = c;
    for (int i = 0; i < n; i++) {
        c->ids[i] = i;
        pthread_create(&c->threads[i], NULL, worker, &c->ids[i]);
    }
}

void crew_stop(struct crew *c)
{
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_cond_broadcast(&c->wake);
    pthread_mutex_unlock(&c->lock);
    for (int i = 0; i < c->n; i++)
        pthread_join(c->threads[i], NULL);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
}
