/* bounded-test checker: the student's test against a working latch (must
 * return 0) and a latch whose release is lost (must return 1, within 2 s,
 * not hang). */
#include "exercise.h"

struct latch {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open;
    bool lossy;             /* the broken latch forgets its releases */
};

static void *latch_create_good(void)
{
    struct latch *l = calloc(1, sizeof *l);
    if (!l)
        ex_fail("out of memory");
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    return l;
}

static void *latch_create_lossy(void)
{
    struct latch *l = latch_create_good();
    l->lossy = true;
    return l;
}

static void latch_release(void *p)
{
    struct latch *l = p;
    pthread_mutex_lock(&l->mu);
    if (!l->lossy)
        l->open = true;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

static void latch_wait(void *p)
{
    struct latch *l = p;
    pthread_mutex_lock(&l->mu);
    while (!l->open)
        pthread_cond_wait(&l->cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
}

static int latch_wait_timeout(void *p, int ms)
{
    struct latch *l = p;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    int rc = 0;
    pthread_mutex_lock(&l->mu);
    while (!l->open && rc == 0)
        rc = pthread_cond_timedwait(&l->cv, &l->mu, &ts);
    rc = l->open ? 0 : rc;
    pthread_mutex_unlock(&l->mu);
    return rc;
}

static void latch_destroy(void *p)
{
    struct latch *l = p;
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

#define main student_main
#include EX_STUDENT
#undef main

int main(void)
{
    const struct latch_ops good = { latch_create_good, latch_release, latch_wait,
                                    latch_wait_timeout, latch_destroy };
    const struct latch_ops lossy = { latch_create_lossy, latch_release, latch_wait,
                                     latch_wait_timeout, latch_destroy };
    ex_watch(3, "your test did not return against a working latch");
    for (int i = 0; i < 5; i++) {
        if (test_latch(&good) != 0)
            ex_fail("your test failed a working latch");
    }
    ex_watch(2, "your test hung on a latch whose release is lost: a test must fail within a "
                "bound, not wait for ever");
    int r = test_latch(&lossy);
    ex_watch_off();
    if (r != 1)
        ex_fail("against a latch whose release is lost, your test returned %d; it should "
                "return 1", r);
    ex_pass("your test passed a working latch and failed a broken one within its bound");
}
