/* breaker.c - see breaker.h. */
#include "breaker.h"

#include <errno.h>

#include "check.h"

int ct_breaker_init(struct ct_breaker *b, int threshold, int64_t open_ns)
{
    if (threshold < 1 || open_ns < 0)
        return -EINVAL;
    *b = (struct ct_breaker){ .threshold = threshold, .open_ns = open_ns,
                              .state = CT_BREAKER_CLOSED };
    int rc = pthread_mutex_init(&b->mu, NULL);
    return rc ? -rc : 0;
}

void ct_breaker_destroy(struct ct_breaker *b)
{
    CT_PT(pthread_mutex_destroy(&b->mu));
}

void ct_breaker_on_change(struct ct_breaker *b, ct_breaker_hook hook, void *arg)
{
    CT_PT(pthread_mutex_lock(&b->mu));
    b->hook = hook;
    b->hook_arg = arg;
    CT_PT(pthread_mutex_unlock(&b->mu));
}

/* With the mutex held: enter `to`, starting a new stint. */
static void move_to(struct ct_breaker *b, enum ct_breaker_state to, int64_t now_ns)
{
    enum ct_breaker_state from = b->state;
    b->state = to;
    b->stint++;
    b->failures = 0;
    b->probe_out = 0;
    if (to == CT_BREAKER_OPEN)
        b->opened_at_ns = now_ns;
    if (b->hook)
        b->hook(b->hook_arg, from, to, now_ns);
}

int ct_breaker_enter(struct ct_breaker *b, int64_t now_ns, struct ct_breaker_ticket *t)
{
    int rc = 0;
    CT_PT(pthread_mutex_lock(&b->mu));
    if (b->state == CT_BREAKER_OPEN && now_ns - b->opened_at_ns >= b->open_ns) {
        move_to(b, CT_BREAKER_HALF_OPEN, now_ns);
        b->st.probes++;
    }
    if (b->state == CT_BREAKER_OPEN || (b->state == CT_BREAKER_HALF_OPEN && b->probe_out)) {
        b->st.rejected++;
        rc = -EAGAIN;
    } else {
        if (b->state == CT_BREAKER_HALF_OPEN)
            b->probe_out = 1;
        b->st.admitted++;
        *t = (struct ct_breaker_ticket){ .stint = b->stint, .state = b->state };
    }
    CT_PT(pthread_mutex_unlock(&b->mu));
    return rc;
}

enum ct_breaker_state ct_breaker_success(struct ct_breaker *b,
                                         const struct ct_breaker_ticket *t, int64_t now_ns)
{
    CT_PT(pthread_mutex_lock(&b->mu));
    if (t->stint != b->stint) {
        b->st.stale++;
    } else {
        b->st.succeeded++;
        if (b->state == CT_BREAKER_HALF_OPEN) {
            move_to(b, CT_BREAKER_CLOSED, now_ns);
            b->st.closed++;
        } else {
            b->failures = 0;        /* the run of failures is broken */
        }
    }
    enum ct_breaker_state s = b->state;
    CT_PT(pthread_mutex_unlock(&b->mu));
    return s;
}

enum ct_breaker_state ct_breaker_failure(struct ct_breaker *b,
                                         const struct ct_breaker_ticket *t, int64_t now_ns)
{
    CT_PT(pthread_mutex_lock(&b->mu));
    if (t->stint != b->stint) {
        b->st.stale++;
    } else {
        b->st.failed++;
        if (b->state == CT_BREAKER_HALF_OPEN) {
            move_to(b, CT_BREAKER_OPEN, now_ns);
            b->st.reopened++;
        } else if (++b->failures >= b->threshold) {
            move_to(b, CT_BREAKER_OPEN, now_ns);
            b->st.trips++;
        }
    }
    enum ct_breaker_state s = b->state;
    CT_PT(pthread_mutex_unlock(&b->mu));
    return s;
}

void ct_breaker_abandon(struct ct_breaker *b, const struct ct_breaker_ticket *t)
{
    CT_PT(pthread_mutex_lock(&b->mu));
    b->st.abandoned++;
    if (t->stint == b->stint && b->state == CT_BREAKER_HALF_OPEN)
        b->probe_out = 0;           /* the next call may probe instead */
    CT_PT(pthread_mutex_unlock(&b->mu));
}

enum ct_breaker_state ct_breaker_state(struct ct_breaker *b)
{
    CT_PT(pthread_mutex_lock(&b->mu));
    enum ct_breaker_state s = b->state;
    CT_PT(pthread_mutex_unlock(&b->mu));
    return s;
}

void ct_breaker_get_stats(struct ct_breaker *b, struct ct_breaker_stats *st)
{
    CT_PT(pthread_mutex_lock(&b->mu));
    *st = b->st;
    CT_PT(pthread_mutex_unlock(&b->mu));
}

const char *ct_breaker_state_name(enum ct_breaker_state s)
{
    switch (s) {
    case CT_BREAKER_CLOSED:
        return "closed";
    case CT_BREAKER_OPEN:
        return "open";
    case CT_BREAKER_HALF_OPEN:
        return "half-open";
    }
    return "?";
}
