/* bounded-test: a test of a latch, released by another thread. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

struct latch_ops {
    void *(*create)(void);
    void (*release)(void *latch);
    void (*wait)(void *latch);                  /* blocks until released */
    int (*wait_timeout)(void *latch, int ms);   /* 0 released, else timed out */
    void (*destroy)(void *latch);
};

struct job {
    const struct latch_ops *ops;
    void *latch;
};

static void *releaser(void *arg)
{
    struct job *j = arg;
    j->ops->release(j->latch);
    return NULL;
}

/* 0 if the latch let the waiter through after the release, 1 if not. */
int test_latch(const struct latch_ops *ops)
{
    struct job job = { ops, ops->create() };
    pthread_t t;
    pthread_create(&t, NULL, releaser, &job);
    ops->wait(job.latch);
    pthread_join(t, NULL);
    ops->destroy(job.latch);
    return 0;
}
