/* lucky-test, solved: the threads wait at a barrier so that they start
 * together, each does enough increments to stay overlapped for a while,
 * and rounds repeat for a fixed time (200 ms), so that even on a busy
 * machine, where threads mostly take turns, some round overlaps.  Any
 * loss fails the test at once. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <time.h>

struct counter_ops {
    void *(*create)(void);
    void (*add)(void *counter);
    long (*get)(void *counter);
    void (*destroy)(void *counter);
};

enum { THREADS = 4 };

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
    for (long i = 0; i < j->n; i++)
        j->ops->add(j->counter);
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
        job.n = 100000;
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
