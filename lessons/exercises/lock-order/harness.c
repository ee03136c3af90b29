/* lock-order checker: two threads transfer in opposite directions many
 * times; a deadlock is caught by the watchdog, and ThreadSanitizer reports
 * the inverted lock order even in a run that did not deadlock. */
#include "exercise.h"
#define main student_main
#include EX_STUDENT
#undef main

static struct account a, b;
static pthread_barrier_t start;
static int moves;

static void *mover(void *arg)
{
    int dir = (int)(long)arg;
    pthread_barrier_wait(&start);
    for (int i = 0; i < moves; i++) {
        if (dir)
            transfer(&a, &b, 3);
        else
            transfer(&b, &a, 2);
    }
    return NULL;
}

int main(void)
{
    moves = EX_N(200000, 20000);
    account_init(&a, 1, 1000000);
    account_init(&b, 2, 1000000);
    pthread_barrier_init(&start, NULL, 2);
    ex_watch(3, "the two transfer threads stopped making progress: each holds one account's "
                "lock and waits for the other's, a deadlock");
    pthread_t t1 = ex_spawn(mover, (void *)1L), t2 = ex_spawn(mover, (void *)0L);
    ex_join(t1);
    ex_join(t2);
    ex_watch_off();
    long want_a = 1000000 - 3L * moves + 2L * moves, want_b = 1000000 + 3L * moves - 2L * moves;
    if (a.balance != want_a || b.balance != want_b)
        ex_fail("after the transfers the balances are %ld and %ld; they should be %ld and %ld",
                a.balance, b.balance, want_a, want_b);
    /* a transfer from an account to the one with the lower id, then back */
    struct account c;
    account_init(&c, 0, 10);
    transfer(&a, &c, 5);
    transfer(&c, &a, 5);
    if (c.balance != 10)
        ex_fail("transfer to and from a third account lost money: %ld", c.balance);
    account_destroy(&a);
    account_destroy(&b);
    account_destroy(&c);
    ex_pass("2 threads x %d transfers in opposite directions: no deadlock, no money lost",
            moves);
}
