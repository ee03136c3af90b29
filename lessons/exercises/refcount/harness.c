/* refcount checker: threads retain and release one object many times;
 * it must be freed exactly once, after the last release. */
#include "exercise.h"

enum { THREADS = 4 };
static atomic_int frees, freed_early;
static atomic_int done_threads;

struct shared;
void shared_free(struct shared *s);
void shared_free(struct shared *s)
{
    (void)s;
    if (atomic_load(&done_threads) < THREADS)
        atomic_store(&freed_early, 1);
    atomic_fetch_add(&frees, 1);
}

#define main student_main
#include EX_STUDENT
#undef main

static struct shared obj;
static pthread_barrier_t start;
static int ops;

static void *user(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&start);
    for (int i = 0; i < ops; i++) {
        shared_retain(&obj);
        volatile int use = obj.payload[i % 4];  /* a use: reads only */
        (void)use;
        shared_release(&obj);
    }
    atomic_fetch_add(&done_threads, 1);
    return NULL;
}

int main(void)
{
    int rounds = EX_N(20, 3);
    ops = EX_N(50000, 5000);
    pthread_barrier_init(&start, NULL, THREADS);
    ex_watch(3, "the threads did not finish");
    for (int r = 1; r <= rounds; r++) {
        atomic_store(&frees, 0);
        atomic_store(&freed_early, 0);
        atomic_store(&done_threads, 0);
        shared_init(&obj);
        pthread_t t[THREADS];
        for (int k = 0; k < THREADS; k++)
            t[k] = ex_spawn(user, NULL);
        for (int k = 0; k < THREADS; k++)
            ex_join(t[k]);
        if (atomic_load(&freed_early))
            ex_fail("round %d: shared_free was called while threads still held references",
                    r);
        shared_release(&obj);   /* the creator's reference: now it must go */
        int f = atomic_load(&frees);
        if (f != 1)
            ex_fail("round %d: after every reference was released, shared_free had been "
                    "called %d times (once is right)", r, f);
    }
    ex_watch_off();
    ex_pass("%d rounds of %d threads x %d retain/release pairs: freed once, at the end",
            rounds, THREADS, ops);
}
