/* loop-variable checker: every worker number reported exactly once. */
#include "exercise.h"

enum { MAX = 64 };
static atomic_int seen[MAX + 1];
static atomic_int bad;

void record(int id);
void record(int id)
{
    if (id < 0 || id >= MAX)
        atomic_store(&bad, id == 0 ? -1 : id);
    else
        atomic_fetch_add(&seen[id], 1);
}

#define main student_main
#include EX_STUDENT
#undef main

int main(void)
{
    int rounds = EX_N(200, 20);
    ex_watch(3, "start_workers did not return");
    for (int r = 1; r <= rounds; r++) {
        int n = 8 + r % 9;
        for (int i = 0; i < MAX; i++)
            atomic_store(&seen[i], 0);
        start_workers(n);
        if (atomic_load(&bad))
            ex_fail("round %d: a worker reported number %d, outside 0..%d", r, atomic_load(&bad),
                    n - 1);
        for (int i = 0; i < n; i++) {
            int k = atomic_load(&seen[i]);
            if (k != 1)
                ex_fail("round %d with %d workers: number %d was reported %d times (once "
                        "each is right): the threads read the loop variable as it changed",
                        r, n, i, k);
        }
    }
    ex_watch_off();
    ex_pass("%d rounds of 8 to 16 workers: each number reported exactly once", rounds);
}
