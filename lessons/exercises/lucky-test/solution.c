/* lucky-test, solved: the threads wait at a barrier so that they start
 * together, and each gives up its CPU every YIELD_EVERY increments, so
 * that even threads taking turns on one CPU of a busy machine (where a
 * thread could otherwise finish its whole loop in one time slice) are
 * interleaved, many times per round.  Rounds repeat for up to 200 ms; any
 * loss fails the test at once. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <time.h>

struct counter_ops {
    void *(*create)(void);
    void (*add)(void *counter);
    long (*get)(void *counter);
    void (*destroy)(void *counter);
};

enum { THREADS = 4, YIELD_EVERY = 64 };

struct job {
    const struct counter_ops *ops;
    void *counter;
    long n;
    pthread_barrier_t start;
};

static void *bump(void *arg)
{
    struct job *j = arg;
    pthread_barrier_wait(&j->start);
    for (long i = 0; i < j->n; i++) {
        j->ops->add(j->counter);
        if (i % YIELD_EVERY == YIELD_EVERY - 1)
            sched_yield();      /* let another thread in between two adds */
    }
    return NULL;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int test_counter(const struct counter_ops *ops)
{
    double end = now_ms() + 200;
    while (now_ms() < end) {
        struct job job;
        job.ops = ops;
        job.counter = ops->create();
        job.n = 20000;
        pthread_barrier_init(&job.start, NULL, THREADS);
        pthread_t t[THREADS];
        for (int i = 0; i < THREADS; i++)
            pthread_create(&t[i], NULL, bump, &job);
        for (int i = 0; i < THREADS; i++)
            pthread_join(t[i], NULL);
        long got = ops->get(job.counter);
        ops->destroy(job.counter);
        pthread_barrier_destroy(&job.start);
        if (got != THREADS * job.n)
            return 1;
    }
    return 0;
}
