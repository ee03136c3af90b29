/* test-breaker.c - the circuit breaker, driven by a made-up clock: it trips
 * after exactly `threshold` failures in a row, refuses calls while open,
 * lets exactly one probe through once the open time has passed, closes on
 * the probe's success and reopens on its failure; outcomes from an earlier
 * stint move nothing; and under many threads the transitions reported to
 * the hook form one valid sequence that matches the counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "breaker.h"
#include "stress.h"

#define MS 1000000LL

struct change {
    enum ct_breaker_state from, to;
    int64_t at;
};

struct log {
    int n;
    struct change c[1 << 16];
    bool overflow;
};

/* Runs with the breaker's mutex held: no lock of its own needed. */
static void record(void *arg, enum ct_breaker_state from, enum ct_breaker_state to, int64_t now)
{
    struct log *l = arg;
    if (l->n < (int)(sizeof l->c / sizeof l->c[0]))
        l->c[l->n++] = (struct change){ from, to, now };
    else
        l->overflow = true;
}

static void fail_n(struct ct_breaker *b, int n, int64_t now)
{
    for (int i = 0; i < n; i++) {
        struct ct_breaker_ticket t;
        assert_int_equal(ct_breaker_enter(b, now, &t), 0);
        assert_int_equal(t.state, CT_BREAKER_CLOSED);
        ct_breaker_failure(b, &t, now);
    }
}

static void test_trips_after_threshold_in_a_row(void **state)
{
    (void)state;
    struct ct_breaker b;
    struct log *l = calloc(1, sizeof *l);
    assert_int_equal(ct_breaker_init(&b, 3, 100 * MS), 0);
    ct_breaker_on_change(&b, record, l);

    /* two failures, a success, two failures: never three in a row */
    fail_n(&b, 2, 0);
    struct ct_breaker_ticket t;
    assert_int_equal(ct_breaker_enter(&b, 1, &t), 0);
    assert_int_equal(ct_breaker_success(&b, &t, 1), CT_BREAKER_CLOSED);
    fail_n(&b, 2, 2);
    assert_int_equal(ct_breaker_state(&b), CT_BREAKER_CLOSED);
    assert_int_equal(l->n, 0);

    /* the third in a row trips it */
    assert_int_equal(ct_breaker_enter(&b, 3, &t), 0);
    assert_int_equal(ct_breaker_failure(&b, &t, 3), CT_BREAKER_OPEN);
    assert_int_equal(l->n, 1);
    assert_int_equal(l->c[0].from, CT_BREAKER_CLOSED);
    assert_int_equal(l->c[0].to, CT_BREAKER_OPEN);
    assert_int_equal(l->c[0].at, 3);

    /* open: refused, right up to the end of the open time */
    for (int64_t now = 3; now < 3 + 100 * MS; now += 7 * MS)
        assert_int_equal(ct_breaker_enter(&b, now, &t), -EAGAIN);
    assert_int_equal(ct_breaker_enter(&b, 3 + 100 * MS - 1, &t), -EAGAIN);

    struct ct_breaker_stats st;
    ct_breaker_get_stats(&b, &st);
    assert_int_equal(st.trips, 1);
    assert_int_equal(st.failed, 5);
    assert_int_equal(st.succeeded, 1);
    assert_int_equal(st.admitted, 6);
    assert_int_equal(st.rejected, 16);
    ct_breaker_destroy(&b);
    free(l);
}

static void test_half_open_probe(void **state)
{
    (void)state;
    struct ct_breaker b;
    struct log *l = calloc(1, sizeof *l);
    assert_int_equal(ct_breaker_init(&b, 1, 50 * MS), 0);
    ct_breaker_on_change(&b, record, l);
    fail_n(&b, 1, 0);                       /* open at 0 */

    /* at 50 ms the next call is the probe; others are refused meanwhile */
    struct ct_breaker_ticket probe, other;
    assert_int_equal(ct_breaker_enter(&b, 50 * MS, &probe), 0);
    assert_int_equal(probe.state, CT_BREAKER_HALF_OPEN);
    assert_int_equal(ct_breaker_enter(&b, 51 * MS, &other), -EAGAIN);
    assert_int_equal(ct_breaker_enter(&b, 500 * MS, &other), -EAGAIN);

    /* the probe fails: open again, from the failure's time */
    assert_int_equal(ct_breaker_failure(&b, &probe, 60 * MS), CT_BREAKER_OPEN);
    assert_int_equal(ct_breaker_enter(&b, 109 * MS, &other), -EAGAIN);
    assert_int_equal(ct_breaker_enter(&b, 110 * MS, &probe), 0);
    assert_int_equal(probe.state, CT_BREAKER_HALF_OPEN);

    /* this probe succeeds: closed, and calls go through again */
    assert_int_equal(ct_breaker_success(&b, &probe, 111 * MS), CT_BREAKER_CLOSED);
    assert_int_equal(ct_breaker_enter(&b, 112 * MS, &other), 0);
    assert_int_equal(other.state, CT_BREAKER_CLOSED);
    ct_breaker_success(&b, &other, 112 * MS);

    static const enum ct_breaker_state want[][2] = {
        { CT_BREAKER_CLOSED, CT_BREAKER_OPEN },
        { CT_BREAKER_OPEN, CT_BREAKER_HALF_OPEN },
        { CT_BREAKER_HALF_OPEN, CT_BREAKER_OPEN },
        { CT_BREAKER_OPEN, CT_BREAKER_HALF_OPEN },
        { CT_BREAKER_HALF_OPEN, CT_BREAKER_CLOSED },
    };
    assert_int_equal(l->n, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(l->c[i].from, want[i][0]);
        assert_int_equal(l->c[i].to, want[i][1]);
    }
    assert_int_equal(l->c[2].at, 60 * MS);

    struct ct_breaker_stats st;
    ct_breaker_get_stats(&b, &st);
    assert_int_equal(st.trips, 1);
    assert_int_equal(st.probes, 2);
    assert_int_equal(st.reopened, 1);
    assert_int_equal(st.closed, 1);
    assert_int_equal(st.rejected, 3);
    ct_breaker_destroy(&b);
    free(l);
}

/* Outcomes of calls admitted before a change of state move nothing. */
static void test_stale_outcomes_ignored(void **state)
{
    (void)state;
    struct ct_breaker b;
    assert_int_equal(ct_breaker_init(&b, 2, 10 * MS), 0);
    struct ct_breaker_ticket slow_ok, slow_bad, t;
    assert_int_equal(ct_breaker_enter(&b, 0, &slow_ok), 0);
    assert_int_equal(ct_breaker_enter(&b, 0, &slow_bad), 0);
    fail_n(&b, 2, 1);                       /* trips while both are out */

    /* the slow success must not close the open breaker */
    assert_int_equal(ct_breaker_success(&b, &slow_ok, 2), CT_BREAKER_OPEN);

    /* probe, close; then the other slow call fails: not counted */
    assert_int_equal(ct_breaker_enter(&b, 20 * MS, &t), 0);
    assert_int_equal(ct_breaker_success(&b, &t, 20 * MS), CT_BREAKER_CLOSED);
    assert_int_equal(ct_breaker_failure(&b, &slow_bad, 21 * MS), CT_BREAKER_CLOSED);
    fail_n(&b, 1, 22 * MS);
    assert_int_equal(ct_breaker_state(&b), CT_BREAKER_CLOSED);  /* 1 in a row, not 2 */

    struct ct_breaker_stats st;
    ct_breaker_get_stats(&b, &st);
    assert_int_equal(st.stale, 2);
    assert_int_equal(st.failed, 3);
    assert_int_equal(st.succeeded, 1);
    ct_breaker_destroy(&b);
}

static void test_abandoned_probe_frees_its_place(void **state)
{
    (void)state;
    struct ct_breaker b;
    assert_int_equal(ct_breaker_init(&b, 1, 0), 0);
    fail_n(&b, 1, 0);
    struct ct_breaker_ticket probe, next;
    assert_int_equal(ct_breaker_enter(&b, 1, &probe), 0);
    assert_int_equal(probe.state, CT_BREAKER_HALF_OPEN);
    assert_int_equal(ct_breaker_enter(&b, 2, &next), -EAGAIN);
    ct_breaker_abandon(&b, &probe);
    assert_int_equal(ct_breaker_enter(&b, 3, &next), 0);
    assert_int_equal(next.state, CT_BREAKER_HALF_OPEN);
    assert_int_equal(ct_breaker_success(&b, &next, 4), CT_BREAKER_CLOSED);
    assert_int_equal(ct_breaker_init(&b, 0, 0), -EINVAL);
    ct_breaker_destroy(&b);
}

/* ---- many threads at once ---------------------------------------------- */

enum { THREADS = 6 };

struct shared {
    struct ct_breaker b;
    atomic_llong clock;         /* the made-up time, moved by everyone */
    atomic_int probes_out, max_probes_out;
};

struct worker {
    struct shared *s;
    unsigned seed;
    int calls;
    long admitted, rejected, reported;
};

static void *hammer(void *arg)
{
    struct worker *w = arg;
    struct shared *s = w->s;
    for (int i = 0; i < w->calls; i++) {
        int64_t now = atomic_fetch_add(&s->clock, 1 + rand_r(&w->seed) % 3);
        struct ct_breaker_ticket t;
        if (ct_breaker_enter(&s->b, now, &t) != 0) {
            w->rejected++;
            continue;
        }
        w->admitted++;
        bool probe = t.state == CT_BREAKER_HALF_OPEN;
        if (probe) {
            int n = atomic_fetch_add(&s->probes_out, 1) + 1;
            int m = atomic_load(&s->max_probes_out);
            while (n > m && !atomic_compare_exchange_weak(&s->max_probes_out, &m, n))
                ;
        }
        /* fail often enough to trip, succeed often enough to close */
        int roll = rand_r(&w->seed) % 10;
        now = atomic_fetch_add(&s->clock, 1);
        if (probe)
            atomic_fetch_sub(&s->probes_out, 1);
        if (roll < 1)
            ct_breaker_abandon(&s->b, &t);
        else if (roll < 6)
            ct_breaker_failure(&s->b, &t, now);
        else
            ct_breaker_success(&s->b, &t, now);
        w->reported++;
    }
    return NULL;
}

static void test_concurrent_transitions_are_one_valid_sequence(void **state)
{
    (void)state;
    struct shared *s = calloc(1, sizeof *s);
    struct log *l = calloc(1, sizeof *l);
    assert_int_equal(ct_breaker_init(&s->b, 3, 40), 0);
    ct_breaker_on_change(&s->b, record, l);
    pthread_t t[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){ .s = s, .seed = 17u + (unsigned)i,
                                .calls = CT_STRESS(20000, 2000) };
        assert_int_equal(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
    }
    long admitted = 0, rejected = 0, calls = 0;
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        admitted += w[i].admitted;
        rejected += w[i].rejected;
        calls += w[i].calls;
        assert_int_equal(w[i].reported, w[i].admitted);
    }
    struct ct_breaker_stats st;
    ct_breaker_get_stats(&s->b, &st);
    assert_int_equal(st.admitted, admitted);
    assert_int_equal(st.rejected, rejected);
    assert_int_equal(admitted + rejected, calls);
    assert_int_equal(st.succeeded + st.failed + st.stale + st.abandoned, admitted);
    assert_int_equal(atomic_load(&s->max_probes_out), 1);

    /* the hook saw every change, each starting where the last one ended,
     * and only the three allowed moves, as many as the counters say */
    assert_false(l->overflow);
    assert_true(st.trips > 0 && st.closed > 0);
    enum ct_breaker_state at = CT_BREAKER_CLOSED;
    uint64_t trips = 0, probes = 0, reopened = 0, closed = 0;
    for (int i = 0; i < l->n; i++) {
        assert_int_equal(l->c[i].from, at);
        at = l->c[i].to;
        switch (l->c[i].from) {
        case CT_BREAKER_CLOSED:
            assert_int_equal(l->c[i].to, CT_BREAKER_OPEN);
            trips++;
            break;
        case CT_BREAKER_OPEN:
            assert_int_equal(l->c[i].to, CT_BREAKER_HALF_OPEN);
            probes++;
            break;
        case CT_BREAKER_HALF_OPEN:
            if (l->c[i].to == CT_BREAKER_OPEN)
                reopened++;
            else
                closed++;
            break;
        }
    }
    assert_int_equal(at, ct_breaker_state(&s->b));
    assert_int_equal(trips, st.trips);
    assert_int_equal(probes, st.probes);
    assert_int_equal(reopened, st.reopened);
    assert_int_equal(closed, st.closed);
    ct_breaker_destroy(&s->b);
    free(s);
    free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trips_after_threshold_in_a_row),
        cmocka_unit_test(test_half_open_probe),
        cmocka_unit_test(test_stale_outcomes_ignored),
        cmocka_unit_test(test_abandoned_probe_frees_its_place),
        cmocka_unit_test(test_concurrent_transitions_are_one_valid_sequence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
