/* timeout checker: replies in time, replies never, and spurious wake-ups
 * (the checker broadcasts `arrived` with no reply).  Only lower bounds on
 * time are checked as exact: never give up before the timeout. */
#include "exercise.h"
#define main student_main
#include EX_STUDENT
#undef main

static struct reply rep;
static atomic_int stop_noise;

static void *late_reply(void *arg)
{
    ex_sleep_ms((double)(long)arg);
    reply_set(&rep, 7);
    return NULL;
}

static void *noise(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_noise)) {
        pthread_mutex_lock(&rep.lock);
        pthread_cond_broadcast(&rep.arrived);
        pthread_mutex_unlock(&rep.lock);
        ex_sleep_ms(2);
    }
    return NULL;
}

static void no_reply(int timeout_ms, bool with_noise)
{
    reply_init(&rep);
    atomic_store(&stop_noise, 0);
    pthread_t t = with_noise ? ex_spawn(noise, NULL) : 0;
    ex_watch(2, "reply_wait(timeout %d ms) had not returned after 2 s with no reply coming: "
                "it ignores its timeout", timeout_ms);
    int v = -1;
    double t0 = ex_now_ms();
    int rc = reply_wait(&rep, timeout_ms, &v);
    double took = ex_now_ms() - t0;
    ex_watch_off();
    atomic_store(&stop_noise, 1);
    if (with_noise)
        ex_join(t);
    if (rc != ETIMEDOUT)
        ex_fail("with no reply, reply_wait(timeout %d ms) returned %d (value %d) after %.0f "
                "ms; it should return ETIMEDOUT (%d)%s", timeout_ms, rc, v, took, ETIMEDOUT,
                with_noise ? ", also when woken without a reply" : "");
    if (took < timeout_ms - 1)
        ex_fail("reply_wait(timeout %d ms) gave up after only %.1f ms", timeout_ms, took);
}

int main(void)
{
    no_reply(50, false);
    no_reply(120, true);
    for (int r = 0; r < 10; r++) {
        reply_init(&rep);
        pthread_t t = ex_spawn(late_reply, (void *)(long)(r % 3));
        int v = -1;
        ex_watch(3, "reply_wait did not return though the reply was set");
        int rc = reply_wait(&rep, 2000, &v);
        ex_watch_off();
        ex_join(t);
        if (rc != 0 || v != 7)
            ex_fail("the reply (7) came after %d ms, well inside the 2 s timeout, but "
                    "reply_wait returned %d with value %d", r % 3, rc, v);
    }
    ex_pass("replies in time were delivered; with no reply, reply_wait gave up at its "
            "deadline and not before, through spurious wake-ups");
}
