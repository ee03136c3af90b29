/* circuit-breaker checker: trip the breaker, check that it fails fast,
 * then after the cooldown release 8 callers at once while the trial call
 * is held inside the backend: only one call may reach it. */
#include "exercise.h"

static atomic_int failing;          /* the backend is down */
static atomic_int calls, in_trial, others_done;
static atomic_int hold_trial;

int backend_call(int arg);
int backend_call(int arg)
{
    atomic_fetch_add(&calls, 1);
    if (atomic_load(&hold_trial)) {
        atomic_fetch_add(&in_trial, 1);
        /* stay inside until the other callers have had their answer */
        ex_wait_for(&others_done, 7, 1000 * EX_N(1, 2));
    }
    return atomic_load(&failing) ? -5 : arg;
}

#define main student_main
#include EX_STUDENT
#undef main

enum { CALLERS = 8 };
static struct breaker br;
static pthread_barrier_t start;
static atomic_int fast_fails;

static void *caller(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&start);
    int r = breaker_call(&br, 1);
    if (r == -EAGAIN)
        atomic_fetch_add(&fast_fails, 1);
    atomic_fetch_add(&others_done, 1);
    return NULL;
}

int main(void)
{
    ex_watch(8, "breaker_call did not return");
    for (int round = 1; round <= 5; round++) {
        breaker_init(&br, 3, 30);
        atomic_store(&failing, 1);
        atomic_store(&hold_trial, 0);
        for (int i = 0; i < 3; i++)
            breaker_call(&br, 1);
        atomic_store(&calls, 0);
        for (int i = 0; i < 5; i++) {
            if (breaker_call(&br, 1) != -EAGAIN || atomic_load(&calls) != 0)
                ex_fail("after 3 failures the breaker should be open and fail fast, but a "
                        "call reached the backend");
        }
        ex_sleep_ms(40);                /* past the cooldown */
        atomic_store(&failing, 0);
        atomic_store(&hold_trial, 1);
        atomic_store(&others_done, 0);
        atomic_store(&fast_fails, 0);
        pthread_barrier_init(&start, NULL, CALLERS);
        pthread_t t[CALLERS];
        for (int i = 0; i < CALLERS; i++)
            t[i] = ex_spawn(caller, NULL);
        for (int i = 0; i < CALLERS; i++)
            ex_join(t[i]);
        pthread_barrier_destroy(&start);
        if (atomic_load(&calls) != 1)
            ex_fail("round %d: after the cooldown %d callers arrived together and %d of them "
                    "reached the backend; a half-open breaker lets one trial call through",
                    round, CALLERS, atomic_load(&calls));
        atomic_store(&hold_trial, 0);
        if (breaker_call(&br, 9) != 9)
            ex_fail("round %d: the trial call succeeded, but the breaker did not close", round);
        pthread_mutex_destroy(&br.lock);
    }
    ex_watch_off();
    ex_pass("the breaker opened after 3 failures, failed fast, and each time let exactly one "
            "of %d simultaneous callers try the backend", CALLERS);
}
