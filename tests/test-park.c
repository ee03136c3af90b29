/* test-park.c - the futex event count (demos/lib/park.h): no lost wake-ups,
 * timeouts, cancel, and notify_all reaching every sleeper. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "clock.h"
#include "wait.h"
#include "park.h"
#include "stress.h"

static void test_timeout_and_cancel(void **state)
{
    (void)state;
    struct ct_park p;
    ct_park_init(&p);
    assert_false(ct_park_has_sleepers(&p));
    uint32_t key = ct_park_prepare(&p);
    assert_true(ct_park_has_sleepers(&p));
    int64_t t0 = ct_clock_ns();
    assert_int_equal(ct_park_wait(&p, key, t0 + 15 * CT_NS_PER_MS, NULL), -ETIMEDOUT);
    assert_true(ct_clock_ns() - t0 >= 15 * CT_NS_PER_MS);
    assert_false(ct_park_has_sleepers(&p));

    struct ct_event cancel;
    assert_int_equal(ct_event_init(&cancel), 0);
    ct_event_set(&cancel);
    key = ct_park_prepare(&p);
    assert_int_equal(ct_park_wait(&p, key, CT_FOREVER, &cancel), -ECANCELED);
    ct_event_destroy(&cancel);

    /* a notify between prepare and wait is not lost */
    key = ct_park_prepare(&p);
    ct_park_notify_one(&p);
    assert_int_equal(ct_park_wait(&p, key, CT_FOREVER, NULL), 0);

    /* with nobody prepared, notify changes nothing */
    uint32_t before = atomic_load(&p.word);
    ct_park_notify_all(&p);
    assert_int_equal(atomic_load(&p.word), before);
    key = ct_park_prepare(&p);
    ct_park_abort(&p);
    assert_false(ct_park_has_sleepers(&p));
}

/* With a cancel event a wait returns at the end of each slice, so its
 * caller looks at its condition again: a condition that came true without
 * a notify (a lost wake-up) costs a slice, not the whole wait. */
static void test_slices_return(void **state)
{
    (void)state;
    struct ct_park p;
    ct_park_init(&p);
    struct ct_event cancel;
    assert_int_equal(ct_event_init(&cancel), 0);
    uint32_t key = ct_park_prepare(&p);
    int64_t t0 = ct_clock_ns();
    assert_int_equal(ct_park_wait(&p, key, t0 + 2 * CT_NS_PER_S, &cancel), 0);
    int64_t took = ct_clock_ns() - t0;
    assert_true(took >= CT_WAIT_SLICE_NS / 2);
    assert_true(took < CT_NS_PER_S);
    assert_false(ct_park_has_sleepers(&p));
    /* the deadline still ends the wait */
    key = ct_park_prepare(&p);
    assert_int_equal(ct_park_wait(&p, key, ct_clock_ns() - 1, &cancel), -ETIMEDOUT);
    ct_event_destroy(&cancel);
}

/* However often a busy notifier calls, a sleeper gets one wake-up system
 * call: the second and later notifies see it already has one on its way. */
static void test_one_wake_per_sleeper(void **state)
{
    (void)state;
    struct ct_park p;
    ct_park_init(&p);
    uint32_t key = ct_park_prepare(&p);
    for (int i = 0; i < 100; i++)
        ct_park_notify_one(&p);
    assert_int_equal(ct_park_wakes(&p), 1);
    /* the word moved: the wait returns at once, without sleeping */
    assert_int_equal(ct_park_wait(&p, key, CT_FOREVER, NULL), 0);
    assert_int_equal(ct_park_sleeps(&p), 0);
    assert_false(ct_park_has_sleepers(&p));
    ct_park_notify_all(&p);
    assert_int_equal(ct_park_wakes(&p), 1);
    /* two sleepers: notify_one twice wakes both, a third call nobody */
    uint32_t k1 = ct_park_prepare(&p), k2 = ct_park_prepare(&p);
    for (int i = 0; i < 3; i++)
        ct_park_notify_one(&p);
    assert_int_equal(ct_park_wakes(&p), 3);
    assert_int_equal(ct_park_wait(&p, k1, CT_FOREVER, NULL), 0);
    assert_int_equal(ct_park_wait(&p, k2, CT_FOREVER, NULL), 0);
    /* an aborted sleeper takes its pending wake-up with it */
    key = ct_park_prepare(&p);
    ct_park_notify_one(&p);
    ct_park_abort(&p);
    key = ct_park_prepare(&p);
    ct_park_notify_one(&p);
    assert_int_equal(ct_park_wakes(&p), 5);
    ct_park_abort(&p);
    (void)key;
}

/* Ping-pong through two event counts guarding two flags: a lost wake-up
 * would hang (the waits have no timeout, so the test's timeout catches it). */
struct pingpong {
    struct ct_park park[2];
    atomic_long turn;           /* whose move: even = thread 0, odd = thread 1 */
    long rounds;
};

struct player {
    struct pingpong *pp;
    int me;
};

static void *player_main(void *arg)
{
    struct player *pl = arg;
    struct pingpong *pp = pl->pp;
    for (long r = pl->me; r < 2 * pp->rounds; r += 2) {
        struct ct_park *mine = &pp->park[pl->me];
        for (;;) {
            if (atomic_load(&pp->turn) == r)
                break;
            uint32_t key = ct_park_prepare(mine);
            if (atomic_load(&pp->turn) == r) {
                ct_park_abort(mine);
                break;
            }
            ct_park_wait(mine, key, CT_FOREVER, NULL);
        }
        atomic_store(&pp->turn, r + 1);
        ct_park_notify_one(&pp->park[1 - pl->me]);
    }
    return NULL;
}

static void test_no_lost_wakeups(void **state)
{
    (void)state;
    struct pingpong pp = { .rounds = CT_STRESS(50000, 2000) };
    ct_park_init(&pp.park[0]);
    ct_park_init(&pp.park[1]);
    atomic_init(&pp.turn, 0);
    struct player pl[2] = { { &pp, 0 }, { &pp, 1 } };
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, player_main, &pl[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_int_equal(atomic_load(&pp.turn), 2 * pp.rounds);
}

enum { SLEEPERS = 6 };

struct crowd {
    struct ct_park park;
    atomic_bool go;
    atomic_int woke;
};

static void *sleeper_main(void *arg)
{
    struct crowd *c = arg;
    for (;;) {
        if (atomic_load(&c->go))
            break;
        uint32_t key = ct_park_prepare(&c->park);
        if (atomic_load(&c->go)) {
            ct_park_abort(&c->park);
            break;
        }
        ct_park_wait(&c->park, key, CT_FOREVER, NULL);
    }
    atomic_fetch_add(&c->woke, 1);
    return NULL;
}

static void test_notify_all(void **state)
{
    (void)state;
    for (int round = 0; round < CT_STRESS(200, 20); round++) {
        struct crowd c;
        ct_park_init(&c.park);
        atomic_init(&c.go, false);
        atomic_init(&c.woke, 0);
        pthread_t t[SLEEPERS];
        for (int i = 0; i < SLEEPERS; i++)
            assert_int_equal(pthread_create(&t[i], NULL, sleeper_main, &c), 0);
        atomic_store(&c.go, true);
        ct_park_notify_all(&c.park);
        for (int i = 0; i < SLEEPERS; i++)
            assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(atomic_load(&c.woke), SLEEPERS);
        assert_false(ct_park_has_sleepers(&c.park));
    }
}

/* Waiters that compete for what a notify announces, as a channel's senders
 * compete for a freed slot: the waiter a notify counted must still be
 * released when another takes the token first and it goes back to sleep.
 * A lost wake-up shows as a wait that runs into its deadline (the waits
 * are bounded, so the test cannot hang). */
enum { TAKERS = 4 };

struct tokens {
    struct ct_park park;
    atomic_long tokens;         /* announced and not yet taken */
    atomic_long taken;
    atomic_long timeouts;       /* waits that ran out: lost wake-ups */
    long total;
};

static bool all_taken(struct tokens *tk)
{
    return atomic_load(&tk->taken) == tk->total;
}

static bool take(struct tokens *tk)
{
    long t = atomic_load(&tk->tokens);
    while (t > 0) {
        if (atomic_compare_exchange_weak(&tk->tokens, &t, t - 1)) {
            atomic_fetch_add(&tk->taken, 1);
            return true;
        }
    }
    return false;
}

static void *taker_main(void *arg)
{
    struct tokens *tk = arg;
    while (!all_taken(tk)) {
        if (take(tk))
            continue;
        uint32_t key = ct_park_prepare(&tk->park);
        if (atomic_load(&tk->tokens) > 0 || all_taken(tk)) {
            ct_park_abort(&tk->park);
            continue;
        }
        if (ct_park_wait(&tk->park, key, ct_clock_ns() + 2 * CT_NS_PER_S, NULL) == -ETIMEDOUT)
            atomic_fetch_add(&tk->timeouts, 1);
    }
    return NULL;
}

static void test_competing_waiters(void **state)
{
    (void)state;
    for (int round = 0; round < CT_STRESS(20, 3); round++) {
        struct tokens tk = { .total = CT_STRESS(20000, 2000) };
        ct_park_init(&tk.park);
        pthread_t t[TAKERS];
        for (int i = 0; i < TAKERS; i++)
            assert_int_equal(pthread_create(&t[i], NULL, taker_main, &tk), 0);
        int64_t deadline = ct_clock_ns() + 60 * CT_NS_PER_S;
        for (long i = 0; i < tk.total && ct_clock_ns() < deadline; i++) {
            /* one token at a time, like a channel of capacity 1 */
            while (atomic_load(&tk.tokens) > 0 && ct_clock_ns() < deadline)
                sched_yield();
            atomic_fetch_add(&tk.tokens, 1);
            ct_park_notify_one(&tk.park);
        }
        while (!all_taken(&tk) && ct_clock_ns() < deadline)
            sched_yield();
        ct_park_notify_all(&tk.park);
        for (int i = 0; i < TAKERS; i++)
            assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(atomic_load(&tk.taken), tk.total);
        assert_int_equal(atomic_load(&tk.timeouts), 0);
        assert_false(ct_park_has_sleepers(&tk.park));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timeout_and_cancel),
        cmocka_unit_test(test_slices_return),
        cmocka_unit_test(test_one_wake_per_sleeper),
        cmocka_unit_test(test_no_lost_wakeups),
        cmocka_unit_test(test_notify_all),
        cmocka_unit_test(test_competing_waiters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
