/* fix-race checker: rounds of four threads started together, each adding
 * CALLS hits; the total must be exact in every round. */
#include "exercise.h"
#define main student_main
#include EX_STUDENT
#undef main

enum { THREADS = 4 };

static struct counter counter;
static pthread_barrier_t start;
static long calls;
/* through a volatile pointer, so the compiler cannot fold the loop */
static void (*volatile add)(struct counter *) = counter_add;

static void *worker(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&start);
    for (long i = 0; i < calls; i++)
        add(&counter);
    return NULL;
}

int main(void)
{
    int rounds = EX_N(40, 4);
    calls = EX_N(20000, 4000);
    pthread_barrier_init(&start, NULL, THREADS);
    ex_watch(3, "the threads never finished counting: is a lock never unlocked?");
    for (int r = 1; r <= rounds; r++) {
        pthread_t t[THREADS];
        counter_init(&counter);
        for (int i = 0; i < THREADS; i++)
            t[i] = ex_spawn(worker, NULL);
        for (int i = 0; i < THREADS; i++)
            ex_join(t[i]);
        long got = counter_get(&counter), want = THREADS * calls;
        counter_destroy(&counter);
        if (got != want)
            ex_fail("in round %d of %d, %d threads made %ld calls to counter_add in all, but "
                    "counter_get says %ld: %ld hits were lost", r, rounds, THREADS, want, got,
                    want - got);
    }
    ex_watch_off();
    pthread_barrier_destroy(&start);
    ex_pass("%d rounds of %d threads x %ld calls: the count was exact every time", rounds,
            THREADS, calls);
}
