/* bulkhead checker: 6 slow low-priority calls (2 high and 3 low permits);
 * each holds its permit until the high-priority call has finished (or a
 * second).  Once 3 are inside, a high-priority call must get in at once: if a
 * low call had to give up waiting first, high work starved. */
#include "exercise.h"

static atomic_int high_done, low_inside, low_gave_up, most_low;

static void low_work(void *arg)
{
    (void)arg;
    int now = atomic_fetch_add(&low_inside, 1) + 1;
    int m = atomic_load(&most_low);
    while (now > m && !atomic_compare_exchange_weak(&most_low, &m, now))
        ;
    if (!ex_wait_for(&high_done, 1, 1000 * EX_N(1, 2)))
        atomic_store(&low_gave_up, 1);
    atomic_fetch_sub(&low_inside, 1);
}

static void high_work(void *arg)
{
    (void)arg;
    if (atomic_load(&low_gave_up))
        ex_fail("the high-priority call got a permit only after low-priority work had held "
                "every permit for %d ms: low-priority load starved high-priority work",
                1000 * EX_N(1, 2));
    atomic_store(&high_done, 1);
}

#define main student_main
#include EX_STUDENT
#undef main

enum { LOWS = 6 };
static struct bulkhead bh;

static void *low_caller(void *arg)
{
    (void)arg;
    bulkhead_run(&bh, LOW, low_work, NULL);
    return NULL;
}

int main(void)
{
    ex_watch(8, "the calls never finished");
    for (int r = 1; r <= 3; r++) {
        atomic_store(&high_done, 0);
        atomic_store(&low_gave_up, 0);
        atomic_store(&most_low, 0);
        bulkhead_init(&bh, 2, 3);
        pthread_t t[LOWS];
        for (int i = 0; i < LOWS; i++)
            t[i] = ex_spawn(low_caller, NULL);
        ex_wait_for(&low_inside, 3, 1000);
        bulkhead_run(&bh, HIGH, high_work, NULL);
        for (int i = 0; i < LOWS; i++)
            ex_join(t[i]);
        bulkhead_destroy(&bh);
        if (atomic_load(&most_low) > 3)
            ex_fail("round %d: %d low-priority calls ran at once; low priority has 3 permits",
                    r, atomic_load(&most_low));
    }
    ex_watch_off();
    ex_pass("with low-priority work using all its permits, high-priority calls still got in "
            "at once, and low priority never ran more than 3 at a time");
}
