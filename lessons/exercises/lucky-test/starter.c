/* lucky-test: a test of a counter shared by threads. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

struct counter_ops {
    void *(*create)(void);
    void (*add)(void *counter);         /* one more */
    long (*get)(void *counter);
    void (*destroy)(void *counter);
};

struct job {
    const struct counter_ops *ops;
    void *counter;
    long n;
};

static void *bump(void *arg)
{
    struct job *j = arg;
    for (long i = 0; i < j->n; i++)
        j->ops->add(j->counter);
    return NULL;
}

/* 1 if the counter lost updates, 0 if it counted right. */
int test_counter(const struct counter_ops *ops)
{
    void *c = ops->create();
    struct job job = { ops, c, 100 };
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, bump, &job);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    long got = ops->get(c);
    ops->destroy(c);
    return got == 2 * job.n ? 0 : 1;
}
