/* lock-scope checker: fetch() waits (up to a second) until another fetch
 * is running too, as long as other threads have not finished; running
 * alone that long means the lock is held across it.  Every answer must be
 * right, and cached keys must not be fetched again. */
#include "exercise.h"

enum { THREADS = 4, PER = 8 };
static atomic_int in_fetch, finished_threads, overlapped, fetches;

int fetch(int key);
int fetch(int key)
{
    atomic_fetch_add(&fetches, 1);
    atomic_fetch_add(&in_fetch, 1);
    double end = ex_now_ms() + 1000 * EX_N(1, 2);
    for (;;) {
        if (atomic_load(&in_fetch) >= 2) {
            atomic_store(&overlapped, 1);
            break;
        }
        if (THREADS - atomic_load(&finished_threads) < 2)
            break;              /* nobody left to keep it company */
        if (ex_now_ms() > end)
            ex_fail("fetch(%d) ran alone for a second while other threads were still "
                    "waiting on the cache: the lock is held across the slow call", key);
        ex_sleep_ms(0.2);
    }
    atomic_fetch_sub(&in_fetch, 1);
    return key * 7 + 1;
}

#define main student_main
#include EX_STUDENT
#undef main

static struct cache cache;
static pthread_barrier_t start;
static atomic_int wrong;

static void *client(void *arg)
{
    int base = (int)(long)arg * PER;
    pthread_barrier_wait(&start);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < PER; i++) {
            int key = base + i;
            if (cache_get(&cache, key) != key * 7 + 1)
                atomic_store(&wrong, key + 1);
        }
    }
    atomic_fetch_add(&finished_threads, 1);
    return NULL;
}

int main(void)
{
    ex_watch(6, "the clients did not finish: is the lock never released?");
    cache_init(&cache);
    pthread_barrier_init(&start, NULL, THREADS);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        t[i] = ex_spawn(client, (void *)(long)i);
    for (int i = 0; i < THREADS; i++)
        ex_join(t[i]);
    ex_watch_off();
    if (atomic_load(&wrong))
        ex_fail("cache_get(%d) returned a wrong value", atomic_load(&wrong) - 1);
    if (!atomic_load(&overlapped))
        ex_fail("%d threads fetched %d different keys, and no two fetches ever ran at the "
                "same time: the lock is held across the slow call", THREADS,
                atomic_load(&fetches));
    if (atomic_load(&fetches) > THREADS * PER * 2)
        ex_fail("%d fetches for %d keys: cached answers are being fetched again",
                atomic_load(&fetches), THREADS * PER);
    cache_destroy(&cache);
    ex_pass("fetches ran side by side, every answer was right, and cached keys were not "
            "fetched again");
}
