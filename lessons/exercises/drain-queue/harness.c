/* drain-queue checker: the first jobs each worker runs are held until the
 * shutdown has begun, so the queue is full when the workers hear it; every
 * submitted job must still run exactly once. */
#include "exercise.h"

enum { JOBS = 200, WORKERS = 4 };
static atomic_int ran[JOBS];
static atomic_int shutting_down;

void run_job(int job);
void run_job(int job)
{
    ex_wait_for(&shutting_down, 1, 300);
    if (job >= 0 && job < JOBS)
        atomic_fetch_add(&ran[job], 1);
}

#define main student_main
#include EX_STUDENT
#undef main

int main(void)
{
    ex_watch(4, "pool_shutdown did not return: are the workers still waiting for work?");
    for (int r = 1; r <= EX_N(10, 3); r++) {
        struct pool p;
        for (int j = 0; j < JOBS; j++)
            atomic_store(&ran[j], 0);
        atomic_store(&shutting_down, 0);
        pool_start(&p, WORKERS);
        for (int j = 0; j < JOBS; j++)
            pool_submit(&p, j);
        atomic_store(&shutting_down, 1);
        pool_shutdown(&p);
        int missing = 0, twice = 0, first = -1;
        for (int j = 0; j < JOBS; j++) {
            int k = atomic_load(&ran[j]);
            missing += k == 0;
            twice += k > 1;
            if (k != 1 && first < 0)
                first = j;
        }
        if (missing || twice)
            ex_fail("round %d: %d jobs were submitted before the shutdown; %d never ran and %d "
                    "ran more than once (job %d first): the workers left with work still "
                    "queued", r, JOBS, missing, twice, first);
    }
    ex_watch_off();
    ex_pass("every job submitted before the shutdown ran exactly once, and the workers left");
}
