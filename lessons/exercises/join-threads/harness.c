/* join-threads checker: square() holds each thread at its first call
 * until parallel_sum has returned (or 100 ms passed), so a version that
 * does not wait for its threads reads the parts before they are done. */
#include "exercise.h"

static atomic_int returned;

long square(long i);
long square(long i)
{
    static _Thread_local int calls;
    if (calls++ == 0)
        ex_wait_for(&returned, 1, 100);
    return i * i;
}

#define main student_main
#include EX_STUDENT
#undef main

int main(void)
{
    static const int threads[] = { 1, 2, 4, 8 };
    int rounds = 4;
    ex_watch(3, "parallel_sum did not return: is a thread waiting for something?");
    for (int r = 0; r < rounds; r++) {
        long n = 1000 + 37 * r;
        long want = n * (n + 1) * (2 * n + 1) / 6;
        atomic_store(&returned, 0);
        long got = parallel_sum(n, threads[r]);
        if (got != want)
            ex_fail("parallel_sum(%ld, %d) returned %ld, but the sum of the squares is %ld: "
                    "it returned before its threads had finished", n, threads[r], got, want);
        atomic_store(&returned, 1);
    }
    ex_watch_off();
    ex_pass("parallel_sum was exact with 1, 2, 4 and 8 threads, though the threads were slow");
}
