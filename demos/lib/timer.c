/* timer.c - see timer.h. */
#include "timer.h"

#include "clock.h"

static enum ct_poll sleep_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct ct_sleep *s = (struct ct_sleep *)f;
    if (ct_clock_ns() >= s->deadline) {
        ct_reactor_timer_cancel(&s->timer);
        return CT_READY;
    }
    int rc = ct_reactor_timer_arm(cx->reactor, &s->timer, s->deadline, cx->waker);
    if (rc) {
        /* no memory for the timer: finish now, with the error */
        f->error = rc;
        return CT_READY;
    }
    return CT_PENDING;
}

static void sleep_drop(struct ct_future *f)
{
    struct ct_sleep *s = (struct ct_sleep *)f;
    ct_reactor_timer_cancel(&s->timer);
}

static const struct ct_future_ops sleep_ops = { "sleep", sleep_poll, sleep_drop };

void ct_sleep_until_init(struct ct_sleep *s, int64_t deadline)
{
    *s = (struct ct_sleep){ .base = { .ops = &sleep_ops }, .deadline = deadline };
}

void ct_sleep_init(struct ct_sleep *s, int64_t ns)
{
    ct_sleep_until_init(s, ct_clock_ns() + (ns > 0 ? ns : 0));
}
