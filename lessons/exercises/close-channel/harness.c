/* close-channel checker: the consumer's receive loop must end by itself
 * after the last number, with every number received. */
#include "exercise.h"
#define main student_main
#include EX_STUDENT
#undef main

static struct chan chan;
static long received, sum;

static void *consume(void *arg)
{
    (void)arg;
    int v;
    while (chan_recv(&chan, &v)) {
        received++;
        sum += v;
    }
    return NULL;
}

int main(void)
{
    int rounds = EX_N(50, 10);
    for (int r = 1; r <= rounds; r++) {
        int n = 1 + r % 8, per = 400;
        struct producers p;
        received = sum = 0;
        chan_init(&chan);
        pthread_t consumer = ex_spawn(consume, NULL);
        producers_start(&p, &chan, n, per);
        ex_watch(2, "round %d: every producer was done, but the consumer's 'while "
                    "(chan_recv(...))' loop was still waiting: nobody closed the channel", r);
        producers_finish(&p);
        ex_join(consumer);
        ex_watch_off();
        long want = (long)n * per * (per + 1) / 2;
        if (received != (long)n * per || sum != want)
            ex_fail("round %d: %d producers sent %d numbers each, but the consumer received "
                    "%ld (sum %ld, expected %ld)", r, n, per, received, sum, want);
        pthread_cond_destroy(&chan.ready);
        pthread_mutex_destroy(&chan.lock);
    }
    ex_pass("%d rounds with 1 to 8 producers: the consumer got every number and its loop "
            "ended by itself", rounds);
}
