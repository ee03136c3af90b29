/* static-buffer checker: four threads label different orders at once;
 * every label must carry its own number. */
#include "exercise.h"
#define main student_main
#include EX_STUDENT
#undef main

enum { THREADS = 4 };
static pthread_barrier_t start;
static int calls;
static char wrong[THREADS][64];

static void *labeller(void *arg)
{
    int k = (int)(long)arg;
    pthread_barrier_wait(&start);
    for (int i = 0; i < calls && !wrong[k][0]; i++) {
        int id = k * 100000 + i;
        char out[16], want[16];
        snprintf(want, sizeof want, "ORD-%06d", id);
        order_label_r(id, out, sizeof out);
        if (strcmp(out, want) != 0)
            snprintf(wrong[k], sizeof wrong[k], "order %d was labelled '%.11s'", id, out);
    }
    return NULL;
}

int main(void)
{
    calls = EX_N(200000, 20000);
    pthread_barrier_init(&start, NULL, THREADS);
    pthread_t t[THREADS];
    ex_watch(3, "the labelling threads did not finish");
    for (int k = 0; k < THREADS; k++)
        t[k] = ex_spawn(labeller, (void *)(long)k);
    for (int k = 0; k < THREADS; k++)
        ex_join(t[k]);
    ex_watch_off();
    for (int k = 0; k < THREADS; k++) {
        if (wrong[k][0])
            ex_fail("%s: another thread wrote its label into the same buffer", wrong[k]);
    }
    pthread_barrier_destroy(&start);
    ex_pass("%d threads x %d labels, made at the same time: every one right", THREADS, calls);
}
