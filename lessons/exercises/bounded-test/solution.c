/* bounded-test, solved: the test waits with a timeout, generous for a
 * working latch (a release takes microseconds) and short enough for a
 * suite; a timeout is the failure it reports. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

struct latch_ops {
    void *(*create)(void);
    void (*release)(void *latch);
    void (*wait)(void *latch);
    int (*wait_timeout)(void *latch, int ms);
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

int test_latch(const struct latch_ops *ops)
{
    struct job job = { ops, ops->create() };
    pthread_t t;
    if (pthread_create(&t, NULL, releaser, &job) != 0) {
        ops->destroy(job.latch);
        return 1;
    }
    int failed = ops->wait_timeout(job.latch, 500) != 0;
    pthread_join(t, NULL);
    ops->destroy(job.latch);
    return failed;
}
