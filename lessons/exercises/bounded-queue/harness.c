/* bounded-queue checker.  Phase 1: the consumer starts only after the
 * producer has returned from push number CAP + 1 (or 500 ms passed, for a
 * producer that waits as it should); nothing may be missing.  Phase 2:
 * many items at full speed, in order, none lost, never more than CAP. */
#include "exercise.h"
#define main student_main
#include EX_STUDENT
#undef main

static struct bq q;
static atomic_int pushed;
static int items;

static void *producer(void *arg)
{
    (void)arg;
    for (int i = 1; i <= items; i++) {
        bq_push(&q, i);
        atomic_store(&pushed, i);
    }
    return NULL;
}

static void run(int n, bool slow_start)
{
    items = n;
    atomic_store(&pushed, 0);
    bq_init(&q);
    pthread_t t = ex_spawn(producer, NULL);
    if (slow_start)
        ex_wait_for(&pushed, CAP + 1, 500);
    ex_watch(3, "the producer was done, but the consumer still waited for an item: bq_push "
                "dropped it when the queue was full (a slow consumer must make the producer "
                "wait), or a thread is stuck");
    for (int i = 1; i <= n; i++) {
        int v = bq_pop(&q);
        if (v != i)
            ex_fail("the consumer expected item %d and got %d: bq_push dropped %s when the "
                    "queue was full (a slow consumer must make the producer wait)", i, v,
                    v > i + 1 ? "items" : "an item");
        pthread_mutex_lock(&q.lock);
        int count = q.count;
        pthread_mutex_unlock(&q.lock);
        if (count > CAP || count < 0)
            ex_fail("the queue held %d items; its capacity is %d", count, CAP);
    }
    ex_join(t);
    ex_watch_off();
    bq_destroy(&q);
}

int main(void)
{
    run(CAP * 3, true);
    int n = EX_N(100000, 10000);
    run(n, false);
    ex_pass("a slow consumer lost nothing, and %d items went through at full speed in order",
            n);
}
