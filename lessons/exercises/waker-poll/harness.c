/* waker-poll checker: a one-future executor that polls, and after PENDING
 * sleeps until its waker is called.  The timer fires after 0 to 2 ms, so
 * it also fires while timer_poll runs.  If nobody wakes the executor
 * within two seconds, the future was lost. */
#include "exercise.h"
#define main student_main
#include EX_STUDENT
#undef main

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int wakes;

static void wake(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    wakes++;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

static struct timer_future fut;
static double delay_ms;

static void *timer_thread(void *arg)
{
    (void)arg;
    if (delay_ms > 0)
        ex_sleep_ms(delay_ms);
    timer_fire(&fut);
    return NULL;
}

/* Poll until READY; false if a PENDING was never followed by a wake. */
static bool block_on(int *polls)
{
    struct waker w = { wake, NULL };
    for (;;) {
        pthread_mutex_lock(&mu);
        int seen = wakes;
        pthread_mutex_unlock(&mu);
        ++*polls;
        if (timer_poll(&fut, &w) == READY)
            return true;
        double end = ex_now_ms() + 2000 * EX_N(1, 2);
        pthread_mutex_lock(&mu);
        while (wakes == seen && ex_now_ms() < end) {
            pthread_mutex_unlock(&mu);
            ex_sleep_ms(0.05);
            pthread_mutex_lock(&mu);
        }
        bool woken = wakes != seen;
        pthread_mutex_unlock(&mu);
        if (!woken)
            return false;
    }
}

int main(void)
{
    int rounds = EX_N(300, 60);
    for (int r = 1; r <= rounds; r++) {
        timer_init(&fut);
        delay_ms = r % 3 == 0 ? 0 : (r % 7) * 0.3;
        pthread_t t = ex_spawn(timer_thread, NULL);
        int polls = 0;
        if (!block_on(&polls))
            ex_fail("round %d: timer_poll returned PENDING, the timer fired %.1f ms later, and "
                    "the executor was never woken: the future will never be polled again",
                    r, delay_ms);
        ex_join(t);
        pthread_mutex_destroy(&fut.lock);
    }
    ex_pass("%d timers, fired before, during and after a poll: every one woke its executor",
            rounds);
}
