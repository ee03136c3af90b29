/* breaker.h - a circuit breaker: stop calling a service that keeps failing.
 *
 * A call to a dead service usually fails slowly: it waits for its timeout.
 * The breaker counts failures in a row; at `threshold` it *trips* (opens)
 * and from then on refuses calls at once, so callers fail fast instead of
 * queueing on a service that cannot answer.  After `open_ns` it lets one
 * trial call through (*half-open*): if that probe succeeds the breaker
 * closes again, if it fails the breaker stays open for another `open_ns`.
 *
 *     closed --threshold failures in a row--> open
 *     open   --open_ns passed, next call-->   half-open (that call is the probe)
 *     half-open --probe succeeds-->           closed
 *     half-open --probe fails-->              open
 *
 * A caller asks first and reports after:
 *
 *     struct ct_breaker_ticket t;
 *     if (ct_breaker_enter(&b, ct_clock_ns(), &t) != 0)
 *         return fallback();              // open: failed fast, no call made
 *     int rc = call_the_service();
 *     if (rc == 0)
 *         ct_breaker_success(&b, &t, ct_clock_ns());
 *     else
 *         ct_breaker_failure(&b, &t, ct_clock_ns());
 *
 * Time is the caller's: every function takes `now_ns` (ct_clock_ns() in
 * real use), so a test can drive the breaker through its states with a
 * made-up clock and no sleeping.
 *
 * Stale outcomes.  Each change of state starts a new *stint* (the ticket
 * remembers which).  An outcome reported for a call admitted in an earlier
 * stint is counted as stale and moves nothing: a slow call that was let in
 * while closed and succeeds after the trip must not close the breaker, and
 * one that fails after the probe closed it must not count towards the next
 * trip.  A caller that gives up on an admitted call without an outcome
 * (it was cancelled) calls ct_breaker_abandon, so a probe's place is freed.
 *
 * Ordering: one mutex serialises every call, so the calls form one total
 * order, and each sees the state the previous one left.  A failure report
 * that trips the breaker happens-before every enter that is refused
 * because of it.  The `on_change` hook runs inside that order, with the
 * mutex held: it sees the transitions one at a time in the order they
 * happened, and must not call back into the breaker.
 */
#ifndef CT_BREAKER_H
#define CT_BREAKER_H

#include <pthread.h>
#include <stdint.h>

enum ct_breaker_state {
    CT_BREAKER_CLOSED,
    CT_BREAKER_OPEN,
    CT_BREAKER_HALF_OPEN,
};

/* What ct_breaker_enter gave an admitted call; pass it to the report. */
struct ct_breaker_ticket {
    uint64_t stint;
    enum ct_breaker_state state;    /* CLOSED, or HALF_OPEN for the probe */
};

/* Called on every change of state, with the breaker's mutex held. */
typedef void (*ct_breaker_hook)(void *arg, enum ct_breaker_state from,
                                enum ct_breaker_state to, int64_t now_ns);

struct ct_breaker_stats {
    uint64_t admitted;      /* calls let through (probes included) */
    uint64_t rejected;      /* calls refused: failed fast */
    uint64_t succeeded, failed;     /* outcomes that counted */
    uint64_t stale;         /* outcomes from an earlier stint, ignored */
    uint64_t abandoned;     /* admitted calls given up without an outcome */
    uint64_t trips;         /* closed -> open */
    uint64_t probes;        /* open -> half-open */
    uint64_t reopened;      /* half-open -> open: the probe failed */
    uint64_t closed;        /* half-open -> closed: the probe succeeded */
};

struct ct_breaker {
    pthread_mutex_t mu;             /* guards everything below */
    int threshold;
    int64_t open_ns;
    enum ct_breaker_state state;
    int failures;                   /* in a row, while closed */
    int64_t opened_at_ns;
    int probe_out;                  /* 1 while the half-open probe runs */
    uint64_t stint;                 /* bumped on every change of state */
    ct_breaker_hook hook;
    void *hook_arg;
    struct ct_breaker_stats st;
};

/* `threshold` >= 1 failures in a row trip it; it stays open `open_ns` >= 0
 * before the next call becomes a probe.  0 or a negative errno. */
int ct_breaker_init(struct ct_breaker *b, int threshold, int64_t open_ns);
void ct_breaker_destroy(struct ct_breaker *b);

/* Install the hook (may be NULL) before the breaker is shared. */
void ct_breaker_on_change(struct ct_breaker *b, ct_breaker_hook hook, void *arg);

/* May a call go ahead at `now_ns`?  0 and a filled ticket: make the call,
 * then report its outcome.  -EAGAIN: refused (open, or half-open with the
 * probe still out); make no call. */
int ct_breaker_enter(struct ct_breaker *b, int64_t now_ns, struct ct_breaker_ticket *t);

/* Report an admitted call's outcome.  Both return the state afterwards. */
enum ct_breaker_state ct_breaker_success(struct ct_breaker *b,
                                         const struct ct_breaker_ticket *t, int64_t now_ns);
enum ct_breaker_state ct_breaker_failure(struct ct_breaker *b,
                                         const struct ct_breaker_ticket *t, int64_t now_ns);
/* An admitted call ends with no outcome (cancelled): frees a probe's place. */
void ct_breaker_abandon(struct ct_breaker *b, const struct ct_breaker_ticket *t);

/* Snapshots, stale as soon as they return.  The state is the one recorded
 * (an open breaker whose time is up stays "open" until the next enter). */
enum ct_breaker_state ct_breaker_state(struct ct_breaker *b);
void ct_breaker_get_stats(struct ct_breaker *b, struct ct_breaker_stats *st);

/* "closed", "open", "half-open". */
const char *ct_breaker_state_name(enum ct_breaker_state s);

#endif
