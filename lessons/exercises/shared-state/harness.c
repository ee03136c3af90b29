/* shared-state checker.  Phase 1: four readers at once; lookup_cost waits
 * (up to a second) for a second reader to be inside with it.  Phase 2:
 * readers and writers; ThreadSanitizer watches that writes stay exclusive,
 * and every value read is one that was written. */
#include "exercise.h"

enum { READERS = 4 };
static atomic_int inside, shared_seen, readers_done;
static atomic_int phase;

void lookup_cost(void);
void lookup_cost(void)
{
    int now = atomic_fetch_add(&inside, 1) + 1;
    if (atomic_load(&phase) == 1) {
        double end = ex_now_ms() + 1000 * EX_N(1, 2);
        /* wait for another reader, while some have yet to look */
        while (now < 2 && atomic_load(&inside) < 2 && atomic_load(&readers_done) < READERS - 1) {
            if (ex_now_ms() > end)
                ex_fail("%d readers called store_get at once, and a lookup stayed alone under "
                        "the lock for a second: each lookup waits for the one before it to "
                        "finish", READERS);
            ex_sleep_ms(0.2);
        }
        if (now >= 2 || atomic_load(&inside) >= 2)
            atomic_store(&shared_seen, 1);
    }
    atomic_fetch_sub(&inside, 1);
}

#define main student_main
#include EX_STUDENT
#undef main

static struct store st;
static pthread_barrier_t start;
static atomic_int bad_value;

static void *reader(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&start);
    int n = atomic_load(&phase) == 1 ? 1 : EX_N(20000, 2000);
    for (int i = 0; i < n; i++) {
        int v = store_get(&st, i % KEYS);
        if (v % 7 != 0)
            atomic_store(&bad_value, v);
    }
    atomic_fetch_add(&readers_done, 1);
    return NULL;
}

static void *writer(void *arg)
{
    (void)arg;
    for (int i = 0; i < EX_N(2000, 200); i++)
        store_put(&st, i % KEYS, 7 * i);
    return NULL;
}

int main(void)
{
    ex_watch(4, "the store's threads did not finish");
    store_init(&st);
    pthread_barrier_init(&start, NULL, READERS);
    atomic_store(&phase, 1);
    pthread_t t[READERS + 1];
    for (int i = 0; i < READERS; i++)
        t[i] = ex_spawn(reader, NULL);
    for (int i = 0; i < READERS; i++)
        ex_join(t[i]);
    if (!atomic_load(&shared_seen))
        ex_fail("%d readers called store_get at once, and no two were ever inside together: "
                "each lookup waited for the one before it to finish", READERS);
    atomic_store(&phase, 2);
    for (int i = 0; i < READERS; i++)
        t[i] = ex_spawn(reader, NULL);
    t[READERS] = ex_spawn(writer, NULL);
    for (int i = 0; i <= READERS; i++)
        ex_join(t[i]);
    ex_watch_off();
    if (atomic_load(&bad_value))
        ex_fail("a reader saw %d, a value no writer wrote", atomic_load(&bad_value));
    store_destroy(&st);
    pthread_barrier_destroy(&start);
    ex_pass("readers shared the lock, and writes stayed exclusive under readers and a writer");
}
