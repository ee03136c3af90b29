/* semaphore-limit checker: inside query(), each call waits (up to a second)
 * until as many queries run as the limit allows, then notes the most that
 * ever ran at once.  Too many is a failure; so is running alone while
 * others wait (the limit is 3, not 1). */
#include "exercise.h"

enum { THREADS = 10, MAX = 3 };
static atomic_int inside, most, finished;
static atomic_int alone;

void query(int id);
void query(int id)
{
    (void)id;
    int now = atomic_fetch_add(&inside, 1) + 1;
    int m = atomic_load(&most);
    while (now > m && !atomic_compare_exchange_weak(&most, &m, now))
        ;
    double end = ex_now_ms() + 1000 * EX_N(1, 2);
    for (;;) {
        int left = THREADS - atomic_load(&finished);
        int want = left < MAX ? left : MAX;
        if (atomic_load(&inside) >= want)
            break;
        if (ex_now_ms() > end)
            ex_fail("a query ran with only %d of the %d allowed beside it for a second while "
                    "%d callers waited: the limit is %d, not %d", atomic_load(&inside), MAX,
                    left - atomic_load(&inside), MAX, atomic_load(&inside));
        ex_sleep_ms(0.2);
    }
    now = atomic_load(&inside);
    m = atomic_load(&most);
    while (now > m && !atomic_compare_exchange_weak(&most, &m, now))
        ;
    ex_sleep_ms(1);
    atomic_fetch_sub(&inside, 1);
    atomic_fetch_add(&finished, 1);
}

#define main student_main
#include EX_STUDENT
#undef main

static struct limiter lim;
static pthread_barrier_t start;

static void *caller(void *arg)
{
    pthread_barrier_wait(&start);
    limited_query(&lim, (int)(long)arg);
    return NULL;
}

int main(void)
{
    pthread_barrier_init(&start, NULL, THREADS);
    ex_watch(8, "the queries never finished: is a permit never given back?");
    for (int r = 1; r <= 5; r++) {
        atomic_store(&inside, 0);
        atomic_store(&most, 0);
        atomic_store(&finished, 0);
        atomic_store(&alone, 0);
        limiter_init(&lim, MAX);
        pthread_t t[THREADS];
        for (int i = 0; i < THREADS; i++)
            t[i] = ex_spawn(caller, (void *)(long)i);
        for (int i = 0; i < THREADS; i++)
            ex_join(t[i]);
        limiter_destroy(&lim);
        if (atomic_load(&most) > MAX)
            ex_fail("round %d: %d queries ran at the same time; the limit is %d", r,
                    atomic_load(&most), MAX);
        if (atomic_load(&alone))
            ex_fail("round %d: queries ran only %d at a time while others waited: the limit "
                    "is %d, so %d should run together", r, atomic_load(&alone), MAX, MAX);
    }
    ex_watch_off();
    ex_pass("5 rounds of %d callers: never more than %d queries at once, and %d together",
            THREADS, MAX, MAX);
}
