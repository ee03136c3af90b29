/* publish-flag checker: rounds of one sender and one receiver; the
 * receiver must get exactly the message sent, within the time limit. */
#include "exercise.h"

#include <sched.h>
#define main student_main
#include EX_STUDENT
#undef main

static struct mailbox box;
static pthread_barrier_t start;
static int sent;

static void *sender(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&start);
    mailbox_put(&box, sent);
    return NULL;
}

int main(void)
{
    int rounds = EX_N(300, 60);
    pthread_barrier_init(&start, NULL, 2);
    for (int r = 1; r <= rounds; r++) {
        sent = 1000 + r;
        mailbox_init(&box);
        pthread_t t = ex_spawn(sender, NULL);
        pthread_barrier_wait(&start);
        ex_watch(2, "round %d: mailbox_take still said 'empty' long after mailbox_put: the "
                    "compiler may read the plain flag once and never again", r);
        int got = -1;
        for (long spins = 0; !mailbox_take(&box, &got); spins++) {
            if (spins > 100000)
                sched_yield();  /* a loaded machine: let the sender run */
        }
        ex_watch_off();
        ex_join(t);
        if (got != sent)
            ex_fail("round %d: the message sent was %d, the receiver got %d", r, sent, got);
    }
    pthread_barrier_destroy(&start);
    ex_pass("%d rounds: every message arrived intact", rounds);
}
