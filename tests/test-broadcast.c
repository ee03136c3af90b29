/* test-broadcast.c - the broadcast channel (demos/lib/broadcast.h): every
 * subscriber gets every message sent after it subscribed; a subscriber
 * that falls behind is told exactly how many it missed; close, timeouts
 * and cancel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#include "broadcast.h"
#include "clock.h"
#include "stress.h"

/* Lag, counted exactly, with no threads involved. */
static void test_lag_exact(void **state)
{
    (void)state;
    struct ct_bcast_sender tx;
    struct ct_bcast_sub early, late;
    assert_int_equal(ct_bcast_open(&tx, sizeof(int), 4), 0);
    int v = 99;
    assert_int_equal(ct_bcast_send(&tx, &v), -EPIPE);  /* nobody listens: not kept */
    assert_int_equal(ct_bcast_subscribe(&tx, &early), 0);
    for (v = 0; v < 10; v++)
        assert_int_equal(ct_bcast_send(&tx, &v), 1);
    assert_int_equal(ct_bcast_subscribe(&tx, &late), 0);
    uint64_t missed = 0;
    int out;
    /* 10 sent into 4 slots: 0..5 are gone, 6..9 are kept */
    assert_int_equal(ct_bcast_try_recv(&early, &out, &missed), -EOVERFLOW);
    assert_int_equal(missed, 6);
    for (int want = 6; want < 10; want++) {
        assert_int_equal(ct_bcast_recv(&early, &out, &missed, NULL), 0);
        assert_int_equal(out, want);
    }
    assert_int_equal(ct_bcast_try_recv(&early, &out, &missed), -EAGAIN);
    /* the late subscriber sees only what comes after it subscribed */
    assert_int_equal(ct_bcast_try_recv(&late, &out, &missed), -EAGAIN);
    v = 10;
    assert_int_equal(ct_bcast_send(&tx, &v), 2);
    assert_int_equal(ct_bcast_try_recv(&late, &out, &missed), 0);
    assert_int_equal(out, 10);
    assert_int_equal(ct_bcast_try_recv(&early, &out, &missed), 0);
    assert_int_equal(out, 10);
    /* exactly one lap behind is not lagging */
    for (v = 11; v < 15; v++)
        ct_bcast_send(&tx, &v);
    for (int want = 11; want < 15; want++) {
        assert_int_equal(ct_bcast_try_recv(&late, &out, &missed), 0);
        assert_int_equal(out, want);
    }
    /* and one more than a lap is one missed */
    for (v = 15; v < 20; v++)
        ct_bcast_send(&tx, &v);
    assert_int_equal(ct_bcast_try_recv(&late, &out, &missed), -EOVERFLOW);
    assert_int_equal(missed, 1);
    assert_int_equal(ct_bcast_subscribers(tx.b), 2);
    ct_bcast_unsubscribe(&late);
    ct_bcast_unsubscribe(&late);        /* harmless twice */
    assert_int_equal(ct_bcast_subscribers(tx.b), 1);
    /* closed: what is kept is still delivered, then -EPIPE */
    ct_bcast_drop_sender(&tx);
    assert_int_equal(ct_bcast_try_recv(&early, &out, &missed), -EOVERFLOW);
    assert_int_equal(missed, 5);        /* 11..15 */
    for (int want = 16; want < 20; want++) {
        assert_int_equal(ct_bcast_recv(&early, &out, &missed, NULL), 0);
        assert_int_equal(out, want);
    }
    assert_int_equal(ct_bcast_recv(&early, &out, &missed, NULL), -EPIPE);
    ct_bcast_unsubscribe(&early);
    assert_int_equal(ct_bcast_recv(&early, &out, &missed, NULL), -EBADF);
}

/* ---- concurrent --------------------------------------------------------- */

enum { MAX_SUBS = 6, SENDERS = 2 };

struct bmsg {
    uint32_t sender;
    uint32_t seq;
};

struct listener {
    struct ct_bcast_sub sub;
    int senders;
    long received;
    long missed;
    long lag_reports;
    long inconsistent;          /* a message that contradicts the accounting */
    int end_rc;
    int spin;                   /* work per message, to make a slow subscriber */
};

static void *listener_main(void *arg)
{
    struct listener *l = arg;
    int64_t last[SENDERS] = { -1, -1 };
    uint64_t expect = 0;        /* one sender: the next message's number */
    struct bmsg m;
    uint64_t missed;
    for (;;) {
        l->end_rc = ct_bcast_recv(&l->sub, &m, &missed, NULL);
        if (l->end_rc == -EOVERFLOW) {
            l->lag_reports++;
            l->missed += (long)missed;
            expect += missed;
            continue;
        }
        if (l->end_rc != 0)
            break;
        l->received++;
        /* per sender, sequence numbers only go up; with a single sender
         * the lag reports say exactly which message comes next */
        if (m.sender >= SENDERS || (int64_t)m.seq <= last[m.sender] ||
            (l->senders == 1 && m.seq != expect))
            l->inconsistent++;
        else
            last[m.sender] = m.seq;
        expect = m.seq + 1;
        for (volatile int i = 0; i < l->spin; i++)
            ;
    }
    ct_bcast_unsubscribe(&l->sub);
    return NULL;
}

struct sender {
    struct ct_bcast_sender tx;
    uint32_t id;
    long count;
    long sent;
};

static void *sender_main(void *arg)
{
    struct sender *s = arg;
    for (long i = 0; i < s->count; i++) {
        struct bmsg m = { s->id, (uint32_t)i };
        if (ct_bcast_send(&s->tx, &m) > 0)
            s->sent++;
        if (i % 64 == 0)
            sched_yield();
    }
    ct_bcast_drop_sender(&s->tx);
    return NULL;
}

static void run_fanout(size_t capacity, int senders, int subs, long per_sender, bool slow)
{
    struct ct_bcast_sender tx;
    assert_int_equal(ct_bcast_open(&tx, sizeof(struct bmsg), capacity), 0);
    struct listener l[MAX_SUBS] = { 0 };
    struct sender s[SENDERS];
    for (int i = 0; i < subs; i++) {
        assert_int_equal(ct_bcast_subscribe(&tx, &l[i].sub), 0);
        l[i].senders = senders;
        l[i].spin = slow && i % 2 ? 2000 : 0;
    }
    for (int i = 0; i < senders; i++) {
        s[i] = (struct sender){ .id = (uint32_t)i, .count = per_sender };
        assert_int_equal(ct_bcast_clone_sender(&tx, &s[i].tx), 0);
    }
    ct_bcast_drop_sender(&tx);
    pthread_t lt[MAX_SUBS], st[SENDERS];
    for (int i = 0; i < subs; i++)
        assert_int_equal(pthread_create(&lt[i], NULL, listener_main, &l[i]), 0);
    for (int i = 0; i < senders; i++)
        assert_int_equal(pthread_create(&st[i], NULL, sender_main, &s[i]), 0);
    for (int i = 0; i < senders; i++)
        assert_int_equal(pthread_join(st[i], NULL), 0);
    for (int i = 0; i < subs; i++)
        assert_int_equal(pthread_join(lt[i], NULL), 0);
    long total = 0;
    for (int i = 0; i < senders; i++) {
        assert_int_equal(s[i].sent, per_sender);    /* subscribers were always there */
        total += s[i].sent;
    }
    for (int i = 0; i < subs; i++) {
        assert_int_equal(l[i].end_rc, -EPIPE);
        assert_int_equal(l[i].inconsistent, 0);
        /* exact: every message either arrived or was counted as missed */
        assert_int_equal(l[i].received + l[i].missed, total);
        if (capacity >= (size_t)total)
            assert_int_equal(l[i].lag_reports, 0);
    }
}

/* A buffer big enough for everything: every subscriber gets every message. */
static void test_every_subscriber_gets_everything(void **state)
{
    (void)state;
    long n = CT_STRESS(2000, 300);
    for (int round = 0; round < 5; round++) {
        run_fanout(2 * (size_t)n, 1 + round % 2, 4, n, false);
    }
}

/* A small buffer and slow subscribers: they lag, and the lag adds up. */
static void test_lag_accounting_concurrent(void **state)
{
    (void)state;
    for (int round = 0; round < 6; round++)
        run_fanout(8, 1 + round % 2, MAX_SUBS, CT_STRESS(20000, 1000), true);
}

struct waiting {
    struct ct_bcast_sub sub;
    struct ct_event *cancel;
    int rc;
};

static void *waiting_main(void *arg)
{
    struct waiting *w = arg;
    int out;
    w->rc = ct_bcast_recv(&w->sub, &out, NULL, w->cancel);
    return NULL;
}

static void test_timeout_cancel_close(void **state)
{
    (void)state;
    struct ct_bcast_sender tx;
    assert_int_equal(ct_bcast_open(&tx, sizeof(int), 2), 0);
    struct waiting w = { 0 };
    assert_int_equal(ct_bcast_subscribe(&tx, &w.sub), 0);
    int out;
    int64_t t0 = ct_clock_ns();
    assert_int_equal(ct_bcast_recv_timeout(&w.sub, &out, NULL, 10 * CT_NS_PER_MS, NULL), -ETIMEDOUT);
    assert_true(ct_clock_ns() - t0 >= 10 * CT_NS_PER_MS);

    struct ct_event cancel;
    assert_int_equal(ct_event_init(&cancel), 0);
    w.cancel = &cancel;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, waiting_main, &w), 0);
    ct_event_set(&cancel);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(w.rc, -ECANCELED);
    ct_event_destroy(&cancel);

    /* the last sender leaving wakes a waiting subscriber with -EPIPE */
    w.cancel = NULL;
    assert_int_equal(pthread_create(&t, NULL, waiting_main, &w), 0);
    ct_bcast_drop_sender(&tx);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(w.rc, -EPIPE);
    ct_bcast_unsubscribe(&w.sub);

    assert_int_equal(ct_bcast_open(&tx, 0, 2), -EINVAL);
    assert_int_equal(ct_bcast_open(&tx, 4, 0), -EINVAL);
    assert_int_equal(ct_bcast_subscribe(&tx, &w.sub), -EBADF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lag_exact),
        cmocka_unit_test(test_timeout_cancel_close),
        cmocka_unit_test(test_every_subscriber_gets_everything),
        cmocka_unit_test(test_lag_accounting_concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
