/* poisoned-mutex checker: a thread dies holding the lock in the middle of
 * a transfer; ledger_total must still say 100, and the lock must work
 * afterwards.  Also a round where nobody died. */
#include "exercise.h"
#define main student_main
#include EX_STUDENT
#undef main

static struct ledger ledger;

/* A transfer that dies half-way, holding the lock. */
static void *dying_transfer(void *arg)
{
    long amount = (long)arg;
    if (pthread_mutex_lock(&ledger.lock) != 0)
        return NULL;
    ledger.a -= amount;
    ledger.moving = amount;
    pthread_exit(NULL);
}

static void after_death(int round, long amount)
{
    ledger_init(&ledger);
    ex_join(ex_spawn(dying_transfer, (void *)amount));
    long total = ledger_total(&ledger);
    if (total != 100)
        ex_fail("round %d: a thread died holding the lock after taking %ld from a; "
                "ledger_total then returned %ld, not 100", round, amount, total);
    int rc = pthread_mutex_lock(&ledger.lock);
    if (rc != 0)
        ex_fail("round %d: after ledger_total, locking the ledger gives %s: the mutex was "
                "unlocked without pthread_mutex_consistent and can never be used again",
                round, rc == ENOTRECOVERABLE ? "ENOTRECOVERABLE" : strerror(rc));
    if (ledger.a + ledger.b != 100 || ledger.moving != 0)
        ex_fail("round %d: after the repair a = %ld, b = %ld, moving = %ld", round, ledger.a,
                ledger.b, ledger.moving);
    pthread_mutex_unlock(&ledger.lock);
    pthread_mutex_destroy(&ledger.lock);
}

int main(void)
{
    ex_watch(3, "ledger_total did not return: did it keep the lock?");
    ledger_init(&ledger);
    if (ledger_total(&ledger) != 100)
        ex_fail("ledger_total of a fresh ledger returned %ld, not 100", ledger_total(&ledger));
    pthread_mutex_destroy(&ledger.lock);
    for (int r = 1; r <= 20; r++)
        after_death(r, 5 * r);
    ex_watch_off();
    ex_pass("20 owners died mid-transfer: the total was 100 each time and the lock stayed "
            "usable");
}
