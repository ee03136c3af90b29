/* shutdown-broadcast checker: start a crew, wait until every worker has
 * ticked once (so all are asleep or about to be), then stop it: crew_stop
 * must return well within the workers' ten-second nap. */
#include "exercise.h"

enum { WORKERS = 5 };
static atomic_int ticked[WORKERS];
static atomic_int total;

void tick(int id);
void tick(int id)
{
    if (id >= 0 && id < WORKERS)
        atomic_fetch_add(&ticked[id], 1);
    atomic_fetch_add(&total, 1);
}

#define main student_main
#include EX_STUDENT
#undef main

int main(void)
{
    for (int r = 1; r <= 3; r++) {
        struct crew c;
        atomic_store(&total, 0);
        for (int i = 0; i < WORKERS; i++)
            atomic_store(&ticked[i], 0);
        crew_start(&c, WORKERS);
        ex_wait_for(&total, WORKERS, 2000);
        ex_sleep_ms(20);        /* let them reach their nap */
        ex_watch(2, "round %d: crew_stop had not returned after 2 s: the workers asleep never "
                    "heard the stop and are sleeping out their ten seconds", r);
        crew_stop(&c);
        ex_watch_off();
        for (int i = 0; i < WORKERS; i++) {
            if (atomic_load(&ticked[i]) != 1)
                ex_fail("round %d: worker %d ticked %d times; once was expected", r, i,
                        atomic_load(&ticked[i]));
        }
    }
    ex_pass("3 crews of %d sleeping workers stopped at once", WORKERS);
}
