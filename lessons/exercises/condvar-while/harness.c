/* condvar-while checker.  Phase 1: a consumer waits on an empty queue
 * while the checker broadcasts `nonempty` with nothing pushed (a spurious
 * wake-up, which POSIX allows): queue_pop must keep waiting.  Phase 2:
 * consumers and producers; every value arrives exactly once. */
#include "exercise.h"
#define main student_main
#include EX_STUDENT
#undef main

enum { CONSUMERS = 3, PRODUCERS = 2 };
static struct queue q;
static atomic_int entered, returned;
static int popped;
static int per_producer;
static atomic_long sum, count;

static void *lone_consumer(void *arg)
{
    (void)arg;
    atomic_store(&entered, 1);
    popped = queue_pop(&q);
    atomic_store(&returned, 1);
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    for (;;) {
        int v = queue_pop(&q);
        if (v < 0)
            return NULL;
        atomic_fetch_add(&sum, v);
        atomic_fetch_add(&count, 1);
    }
}

static void *producer(void *arg)
{
    int base = (int)(long)arg;
    for (int i = 1; i <= per_producer; i++)
        queue_push(&q, base + i);
    return NULL;
}

static void spurious_phase(void)
{
    queue_init(&q);
    pthread_t t = ex_spawn(lone_consumer, NULL);
    ex_wait_for(&entered, 1, 2000);
    for (int i = 0; i < EX_N(300, 400); i++) {
        pthread_mutex_lock(&q.lock);
        pthread_cond_broadcast(&q.nonempty);
        pthread_mutex_unlock(&q.lock);
        ex_sleep_ms(1);
        if (atomic_load(&returned))
            ex_fail("queue_pop returned %d though nothing had been pushed: it woke up (POSIX "
                    "allows wake-ups without a signal) and did not check the queue again",
                    popped);
    }
    queue_push(&q, 42);
    ex_join(t);
    if (popped != 42)
        ex_fail("queue_pop returned %d; 42 was pushed", popped);
    queue_destroy(&q);
}

static void round_of_consumers(int r)
{
    atomic_store(&sum, 0);
    atomic_store(&count, 0);
    queue_init(&q);
    pthread_t c[CONSUMERS], p[PRODUCERS];
    for (int i = 0; i < CONSUMERS; i++)
        c[i] = ex_spawn(consumer, NULL);
    for (int i = 0; i < PRODUCERS; i++)
        p[i] = ex_spawn(producer, (void *)(long)(i * 1000000));
    for (int i = 0; i < PRODUCERS; i++)
        ex_join(p[i]);
    for (int i = 0; i < CONSUMERS; i++)
        queue_push(&q, -1);     /* one stop marker per consumer */
    for (int i = 0; i < CONSUMERS; i++)
        ex_join(c[i]);
    long n = (long)PRODUCERS * per_producer, want = 0;
    for (int k = 0; k < PRODUCERS; k++)
        want += (long)per_producer * k * 1000000 + (long)per_producer * (per_producer + 1) / 2;
    if (atomic_load(&count) != n || atomic_load(&sum) != want)
        ex_fail("round %d: %ld values were pushed, the consumers took %ld (sum %ld, expected "
                "%ld)", r, n, atomic_load(&count), atomic_load(&sum), want);
    queue_destroy(&q);
}

int main(void)
{
    ex_watch(4, "queue_pop kept waiting though items had been pushed");
    spurious_phase();
    per_producer = 500;         /* at most 1003 items queued: under CAPACITY */
    int rounds = EX_N(30, 5);
    for (int r = 1; r <= rounds; r++)
        round_of_consumers(r);
    ex_watch_off();
    ex_pass("queue_pop slept through spurious wake-ups, and in %d rounds %d consumers took "
            "every value exactly once", rounds, CONSUMERS);
}
