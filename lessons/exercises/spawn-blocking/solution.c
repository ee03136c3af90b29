/* spawn-blocking, solved: the first step starts a thread for the blocking
 * call; later steps only look (without blocking) whether it has finished,
 * and the step that sees it finished joins the thread. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

int blocking_read(void);

struct reader_task {
    int result;
    pthread_t thread;
    bool started;
    atomic_bool finished;       /* release: result is written */
    int value;                  /* written by the thread */
};

void reader_init(struct reader_task *t)
{
    t->result = 0;
    t->started = false;
    atomic_init(&t->finished, false);
}

static void *run_blocking(void *arg)
{
    struct reader_task *t = arg;
    t->value = blocking_read();
    atomic_store_explicit(&t->finished, true, memory_order_release);
    return NULL;
}

int reader_step(struct reader_task *t)
{
    if (!t->started) {
        if (pthread_create(&t->thread, NULL, run_blocking, t) != 0)
            return 0;           /* try again on the next step */
        t->started = true;
        return 0;
    }
    if (!atomic_load_explicit(&t->finished, memory_order_acquire))
        return 0;
    pthread_join(t->thread, NULL);
    t->result = t->value;
    return 1;
}
