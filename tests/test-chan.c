/* test-chan.c - the channel (demos/lib/chan.h): every message arrives exactly
 * once and in order per producer, in every kind of channel; close and drop
 * semantics; a failed send gives the message back; a bounded channel never
 * holds more than its capacity; timeouts, cancel wake-ups and rendezvous. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chan.h"
#include "clock.h"
#include "event.h"
#include "stress.h"

#define MAX_PRODUCERS 8
#define MAX_CONSUMERS 4

struct msg {
    uint32_t producer;
    uint32_t seq;
};

/* ---- the stress harness ------------------------------------------------- */

struct stress;

struct producer {
    struct stress *st;
    struct ct_sender tx;
    uint32_t id;
    int fail_rc;                /* first send error, 0 if none */
};

struct consumer {
    struct stress *st;
    struct ct_receiver rx;
    long received;
    long out_of_order;          /* seq not above this consumer's last from that producer */
    long bad;                   /* producer id or seq out of range */
    long over_capacity;         /* times more sends had returned than allowed */
    int end_rc;                 /* what ended the loop: -EPIPE expected */
    int64_t last[MAX_PRODUCERS];
};

struct stress {
    long capacity;
    long per_producer;
    int producers, consumers;
    atomic_long sent_done;      /* sends that have returned 0 */
    _Atomic unsigned char *seen;    /* [producer * per_producer + seq]: times received */
    struct producer p[MAX_PRODUCERS];
    struct consumer c[MAX_CONSUMERS];
};

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    for (long i = 0; i < p->st->per_producer; i++) {
        struct msg m = { p->id, (uint32_t)i };
        int rc = ct_chan_send(&p->tx, &m, NULL);
        if (rc != 0) {
            p->fail_rc = rc;
            break;
        }
        atomic_fetch_add(&p->st->sent_done, 1);
    }
    ct_chan_drop_sender(&p->tx);
    return NULL;
}

static void *consumer_main(void *arg)
{
    struct consumer *c = arg;
    struct stress *st = c->st;
    struct msg m;
    for (int i = 0; i < MAX_PRODUCERS; i++)
        c->last[i] = -1;
    while ((c->end_rc = ct_chan_recv(&c->rx, &m, NULL)) == 0) {
        c->received++;
        if (m.producer >= (uint32_t)st->producers || m.seq >= (uint64_t)st->per_producer) {
            c->bad++;
            continue;
        }
        if ((int64_t)m.seq <= c->last[m.producer])
            c->out_of_order++;
        c->last[m.producer] = m.seq;
        atomic_fetch_add(&st->seen[(long)m.producer * st->per_producer + m.seq], 1);
        /* the instrumentation: with one consumer, every send that has
         * returned is either received by now or in the buffer, so the
         * difference can never exceed the capacity */
        if (st->consumers == 1 && st->capacity != CT_CHAN_UNBOUNDED &&
            atomic_load(&st->sent_done) - c->received > st->capacity)
            c->over_capacity++;
    }
    ct_chan_drop_receiver(&c->rx);
    return NULL;
}

static void run_stress(long capacity, int producers, int consumers, long per_producer)
{
    struct stress *st = calloc(1, sizeof *st);
    assert_non_null(st);
    st->capacity = capacity;
    st->producers = producers;
    st->consumers = consumers;
    st->per_producer = per_producer;
    st->seen = calloc((size_t)(producers * per_producer), 1);
    assert_non_null(st->seen);

    struct ct_sender tx;
    struct ct_receiver rx;
    assert_int_equal(ct_chan_open(&tx, &rx, sizeof(struct msg), capacity, NULL), 0);
    for (int i = 0; i < producers; i++) {
        st->p[i] = (struct producer){ .st = st, .id = (uint32_t)i };
        assert_int_equal(ct_chan_clone_sender(&tx, &st->p[i].tx), 0);
    }
    for (int i = 0; i < consumers; i++) {
        st->c[i] = (struct consumer){ .st = st };
        assert_int_equal(ct_chan_clone_receiver(&rx, &st->c[i].rx), 0);
    }
    /* the originals go: the channel closes when the producers are done */
    ct_chan_drop_sender(&tx);
    ct_chan_drop_receiver(&rx);

    pthread_t pt[MAX_PRODUCERS], ctid[MAX_CONSUMERS];
    for (int i = 0; i < consumers; i++)
        assert_int_equal(pthread_create(&ctid[i], NULL, consumer_main, &st->c[i]), 0);
    for (int i = 0; i < producers; i++)
        assert_int_equal(pthread_create(&pt[i], NULL, producer_main, &st->p[i]), 0);
    for (int i = 0; i < producers; i++)
        assert_int_equal(pthread_join(pt[i], NULL), 0);
    for (int i = 0; i < consumers; i++)
        assert_int_equal(pthread_join(ctid[i], NULL), 0);

    long total = 0;
    for (int i = 0; i < producers; i++)
        assert_int_equal(st->p[i].fail_rc, 0);
    for (int i = 0; i < consumers; i++) {
        struct consumer *c = &st->c[i];
        assert_int_equal(c->end_rc, -EPIPE);
        assert_int_equal(c->bad, 0);
        assert_int_equal(c->out_of_order, 0);
        assert_int_equal(c->over_capacity, 0);
        total += c->received;
    }
    assert_int_equal(total, producers * per_producer);
    long wrong = 0;
    for (long i = 0; i < producers * per_producer; i++)
        wrong += atomic_load(&st->seen[i]) != 1;
    assert_int_equal(wrong, 0);     /* each message exactly once */
    free(st->seen);
    free(st);
}

static const long stress_caps[] = { CT_CHAN_UNBOUNDED, 1, 7, 1024, 0 };
#define NCAPS (sizeof stress_caps / sizeof stress_caps[0])

/* 4 producers x 250,000 messages, one consumer, through every kind. */
static void test_stress_mpsc(void **state)
{
    (void)state;
    for (size_t k = 0; k < NCAPS; k++) {
        /* a rendezvous is a thread hand-off per message: far slower */
        long n = stress_caps[k] == 0 ? CT_STRESS(50000, 2000) : CT_STRESS(250000, 10000);
        run_stress(stress_caps[k], 4, 1, n);
    }
}

/* Several receivers share the work: still exactly once, and each receiver
 * sees every producer's messages in order. */
static void test_stress_mpmc(void **state)
{
    (void)state;
    for (size_t k = 0; k < NCAPS; k++) {
        long n = stress_caps[k] == 0 ? CT_STRESS(20000, 1000) : CT_STRESS(100000, 5000);
        run_stress(stress_caps[k], 4, 3, n);
    }
}

/* ---- close and drop ----------------------------------------------------- */

static atomic_int dropped;

static void drop_counted(void *msg)
{
    char *p;
    memcpy(&p, msg, sizeof p);
    free(p);
    atomic_fetch_add(&dropped, 1);
}

/* Receivers get what is queued, then -EPIPE once every sender is gone. */
static void test_close_drains_then_epipe(void **state)
{
    (void)state;
    for (size_t k = 0; k < NCAPS; k++) {
        if (stress_caps[k] == 0)
            continue;   /* nothing queues in a rendezvous */
        struct ct_sender tx, tx2;
        struct ct_receiver rx;
        assert_int_equal(ct_chan_open(&tx, &rx, sizeof(int), stress_caps[k] == 1 ? 4 : stress_caps[k],
                                      NULL), 0);
        assert_int_equal(ct_chan_clone_sender(&tx, &tx2), 0);
        assert_int_equal(ct_chan_senders(tx.chan), 2);
        for (int i = 0; i < 3; i++) {
            int v = i;
            assert_int_equal(ct_chan_send(i % 2 ? &tx2 : &tx, &v, NULL), 0);
        }
        assert_int_equal(ct_chan_len(rx.chan), 3);
        ct_chan_drop_sender(&tx);
        assert_null(tx.chan);
        ct_chan_drop_sender(&tx);       /* a second drop is harmless */
        int v = -1;
        assert_int_equal(ct_chan_try_recv(&rx, &v), 0);
        assert_int_equal(v, 0);
        ct_chan_drop_sender(&tx2);      /* now closed, two still queued */
        assert_int_equal(ct_chan_senders(rx.chan), 0);
        assert_int_equal(ct_chan_recv(&rx, &v, NULL), 0);
        assert_int_equal(v, 1);
        assert_int_equal(ct_chan_recv_timeout(&rx, &v, CT_NS_PER_S, NULL), 0);
        assert_int_equal(v, 2);
        assert_int_equal(ct_chan_recv(&rx, &v, NULL), -EPIPE);
        assert_int_equal(ct_chan_try_recv(&rx, &v), -EPIPE);
        assert_int_equal(ct_chan_send(&tx, &v, NULL), -EBADF);
        ct_chan_drop_receiver(&rx);
        assert_int_equal(ct_chan_recv(&rx, &v, NULL), -EBADF);
    }
}

/* With the receiver gone a send fails and the message is still the
 * sender's; a successful send moves it (the caller's copy is zeroed). */
static void test_send_after_receiver_gone(void **state)
{
    (void)state;
    for (size_t k = 0; k < NCAPS; k++) {
        struct ct_sender tx;
        struct ct_receiver rx;
        atomic_store(&dropped, 0);
        assert_int_equal(ct_chan_open(&tx, &rx, sizeof(char *), stress_caps[k], drop_counted), 0);
        char *m = strdup("hello");
        if (stress_caps[k] != 0) {
            assert_int_equal(ct_chan_send(&tx, &m, NULL), 0);
            assert_null(m);                 /* moved into the channel */
            m = strdup("again");
        }
        ct_chan_drop_receiver(&rx);
        assert_int_equal(ct_chan_receivers(tx.chan), 0);
        char *keep = m;
        assert_int_equal(ct_chan_send(&tx, &m, NULL), -EPIPE);
        assert_ptr_equal(m, keep);          /* given back, untouched */
        assert_int_equal(ct_chan_try_send(&tx, &m), -EPIPE);
        assert_int_equal(ct_chan_send_timeout(&tx, &m, CT_NS_PER_S, NULL), -EPIPE);
        assert_string_equal(m, stress_caps[k] != 0 ? "again" : "hello");
        free(m);
        ct_chan_drop_sender(&tx);           /* frees the channel... */
        /* ...and hands the undelivered message to drop_msg */
        assert_int_equal(atomic_load(&dropped), stress_caps[k] != 0 ? 1 : 0);
    }
}

/* Undelivered messages across many list blocks all reach drop_msg. */
static void test_drop_frees_queued(void **state)
{
    (void)state;
    for (size_t k = 0; k < NCAPS; k++) {
        if (stress_caps[k] == 0)
            continue;
        long cap = stress_caps[k] == CT_CHAN_UNBOUNDED ? 1000 : stress_caps[k];
        struct ct_sender tx;
        struct ct_receiver rx;
        atomic_store(&dropped, 0);
        assert_int_equal(ct_chan_open(&tx, &rx, sizeof(char *), stress_caps[k], drop_counted), 0);
        for (long i = 0; i < cap; i++) {
            char *m = malloc(16);
            assert_int_equal(ct_chan_try_send(&tx, &m), 0);
        }
        long taken = cap / 3;
        for (long i = 0; i < taken; i++) {
            char *m;
            assert_int_equal(ct_chan_try_recv(&rx, &m), 0);
            free(m);
        }
        ct_chan_drop_sender(&tx);
        ct_chan_drop_receiver(&rx);
        assert_int_equal(atomic_load(&dropped), cap - taken);
    }
}

/* ---- capacity ----------------------------------------------------------- */

/* A bounded channel takes exactly `capacity` messages, then refuses. */
static void test_capacity_exact(void **state)
{
    (void)state;
    static const long caps[] = { 1, 2, 3, 7, 8, 1000, 1024 };
    for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++) {
        struct ct_sender tx;
        struct ct_receiver rx;
        assert_int_equal(ct_chan_open(&tx, &rx, sizeof(long), caps[k], NULL), 0);
        assert_int_equal(ct_chan_capacity(tx.chan), caps[k]);
        /* several laps round the ring */
        long next_in = 0, next_out = 0;
        for (int lap = 0; lap < 5; lap++) {
            long v;
            while ((v = next_in), ct_chan_try_send(&tx, &v) == 0)
                next_in++;
            assert_int_equal(next_in - next_out, caps[k]);
            assert_int_equal(ct_chan_len(tx.chan), caps[k]);
            v = next_in;
            assert_int_equal(ct_chan_send_timeout(&tx, &v, 2 * CT_NS_PER_MS, NULL), -ETIMEDOUT);
            assert_int_equal(v, next_in);
            /* take a few, which makes exactly that much room */
            long take = lap % 2 ? caps[k] : (caps[k] + 1) / 2;
            for (long i = 0; i < take; i++) {
                assert_int_equal(ct_chan_try_recv(&rx, &v), 0);
                assert_int_equal(v, next_out++);
            }
            assert_int_equal(ct_chan_len(tx.chan), caps[k] - take);
        }
        ct_chan_drop_sender(&tx);
        ct_chan_drop_receiver(&rx);
    }
}

/* ---- timeouts and cancellation ------------------------------------------ */

static void test_recv_timeout(void **state)
{
    (void)state;
    for (size_t k = 0; k < NCAPS; k++) {
        struct ct_sender tx;
        struct ct_receiver rx;
        assert_int_equal(ct_chan_open(&tx, &rx, sizeof(int), stress_caps[k], NULL), 0);
        int v;
        assert_int_equal(ct_chan_try_recv(&rx, &v), -EAGAIN);
        int64_t t0 = ct_clock_ns();
        assert_int_equal(ct_chan_recv_timeout(&rx, &v, 20 * CT_NS_PER_MS, NULL), -ETIMEDOUT);
        assert_true(ct_clock_ns() - t0 >= 20 * CT_NS_PER_MS);
        assert_int_equal(ct_chan_recv_timeout(&rx, &v, 0, NULL), -ETIMEDOUT);
        ct_chan_drop_sender(&tx);
        ct_chan_drop_receiver(&rx);
    }
}

struct blocked {
    struct ct_sender tx;
    struct ct_receiver rx;
    struct ct_event *cancel;
    bool sending;
    int rc;
    int value;
};

static void *blocked_main(void *arg)
{
    struct blocked *b = arg;
    b->rc = b->sending ? ct_chan_send(&b->tx, &b->value, b->cancel)
                       : ct_chan_recv(&b->rx, &b->value, b->cancel);
    return NULL;
}

/* A receive on an empty channel and a send on a full one (or a rendezvous
 * with nobody there) return -ECANCELED when the cancel event is set,
 * whether it is set before or while they wait. */
static void test_cancel_wakes_blocked(void **state)
{
    (void)state;
    for (int round = 0; round < 20; round++) {
        for (size_t k = 0; k < NCAPS; k++) {
            for (int sending = 0; sending < 2; sending++) {
                if (sending && stress_caps[k] == CT_CHAN_UNBOUNDED)
                    continue;   /* never full */
                struct ct_event cancel;
                assert_int_equal(ct_event_init(&cancel), 0);
                struct blocked b = { .cancel = &cancel, .sending = sending, .value = 42 };
                assert_int_equal(ct_chan_open(&b.tx, &b.rx, sizeof(int), stress_caps[k], NULL), 0);
                for (long i = 0; sending && i < stress_caps[k]; i++) {
                    int v = -1;
                    assert_int_equal(ct_chan_try_send(&b.tx, &v), 0);
                }
                pthread_t t;
                assert_int_equal(pthread_create(&t, NULL, blocked_main, &b), 0);
                if (round % 2)
                    sched_yield();
                ct_event_set(&cancel);
                assert_int_equal(pthread_join(t, NULL), 0);
                assert_int_equal(b.rc, -ECANCELED);
                if (sending)
                    assert_int_equal(b.value, 42);  /* still the sender's */
                ct_chan_drop_sender(&b.tx);
                ct_chan_drop_receiver(&b.rx);
                ct_event_destroy(&cancel);
            }
        }
    }
}

/* A receiver blocked on an empty channel wakes with -EPIPE when the last
 * sender goes; a sender blocked on a full one when the receiver goes. */
static void test_drop_wakes_blocked(void **state)
{
    (void)state;
    for (int round = 0; round < 20; round++) {
        for (size_t k = 0; k < NCAPS; k++) {
            for (int sending = 0; sending < 2; sending++) {
                if (sending && stress_caps[k] == CT_CHAN_UNBOUNDED)
                    continue;
                struct blocked b = { .sending = sending, .value = 7 };
                struct ct_sender tx;
                struct ct_receiver rx;
                assert_int_equal(ct_chan_open(&tx, &rx, sizeof(int), stress_caps[k], NULL), 0);
                for (long i = 0; sending && i < stress_caps[k]; i++) {
                    int v = -1;
                    assert_int_equal(ct_chan_try_send(&tx, &v), 0);
                }
                /* the thread gets its own handle; we drop the other side */
                if (sending) {
                    b.tx = tx;
                    tx.chan = NULL;
                } else {
                    b.rx = rx;
                    rx.chan = NULL;
                }
                pthread_t t;
                assert_int_equal(pthread_create(&t, NULL, blocked_main, &b), 0);
                if (round % 2)
                    sched_yield();
                if (sending)
                    ct_chan_drop_receiver(&rx);
                else
                    ct_chan_drop_sender(&tx);
                assert_int_equal(pthread_join(t, NULL), 0);
                assert_int_equal(b.rc, -EPIPE);
                ct_chan_drop_sender(sending ? &b.tx : &tx);
                ct_chan_drop_receiver(sending ? &rx : &b.rx);
            }
        }
    }
}

/* ---- rendezvous --------------------------------------------------------- */

static void *echo_main(void *arg)
{
    struct blocked *b = arg;
    /* receive numbers and send each one back doubled, until closed */
    int v;
    while ((b->rc = ct_chan_recv(&b->rx, &v, NULL)) == 0) {
        v *= 2;
        if (ct_chan_send(&b->tx, &v, NULL) != 0)
            break;
    }
    ct_chan_drop_sender(&b->tx);
    ct_chan_drop_receiver(&b->rx);
    return NULL;
}

/* Capacity 0: nothing is ever buffered; a send with nobody receiving does
 * not complete; a ping-pong of hand-offs stays in lockstep. */
static void test_rendezvous(void **state)
{
    (void)state;
    struct ct_sender tx, back_tx;
    struct ct_receiver rx, back_rx;
    assert_int_equal(ct_chan_open(&tx, &rx, sizeof(int), 0, NULL), 0);
    assert_int_equal(ct_chan_open(&back_tx, &back_rx, sizeof(int), 0, NULL), 0);
    int v = 5;
    assert_int_equal(ct_chan_try_send(&tx, &v), -EAGAIN);
    assert_int_equal(ct_chan_send_timeout(&tx, &v, 5 * CT_NS_PER_MS, NULL), -ETIMEDOUT);
    assert_int_equal(v, 5);
    assert_int_equal(ct_chan_len(tx.chan), 0);

    struct blocked b = { .tx = back_tx, .rx = rx };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, echo_main, &b), 0);
    long n = CT_STRESS(20000, 500);
    for (int i = 0; i < n; i++) {
        v = i;
        assert_int_equal(ct_chan_send(&tx, &v, NULL), 0);
        assert_int_equal(v, 0);
        assert_int_equal(ct_chan_len(tx.chan), 0);
        assert_int_equal(ct_chan_recv(&back_rx, &v, NULL), 0);
        assert_int_equal(v, 2 * i);
    }
    ct_chan_drop_sender(&tx);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(b.rc, -EPIPE);
    assert_int_equal(ct_chan_recv(&back_rx, &v, NULL), -EPIPE);
    ct_chan_drop_receiver(&back_rx);
}

/* Timeouts racing hand-overs: a sender whose wait ends just as a receiver
 * claims it must either have delivered (0) or still hold its message
 * (-ETIMEDOUT), never both and never neither.  Short random timeouts on
 * both sides, small and large messages (the waiter's inline buffer and the
 * caller's own): the receiver still gets every number exactly once, in
 * order. */
struct racer {
    struct ct_sender tx;
    struct ct_receiver rx;
    size_t size;
    long n;
    long timeouts, wrong;
    int rc;
};

static int64_t short_timeout(uint64_t *seed)
{
    *seed = *seed * 6364136223846793005u + 1442695040888963407u;
    return (int64_t)(*seed >> 33) % 20000;     /* 0 .. 20 us */
}

static void *timeout_receiver(void *arg)
{
    struct racer *r = arg;
    unsigned char buf[256];
    uint64_t seed = 7;
    long next = 0;
    for (;;) {
        memset(buf, 0xee, sizeof buf);
        int rc = ct_chan_recv_timeout(&r->rx, buf, short_timeout(&seed), NULL);
        if (rc == -ETIMEDOUT) {
            r->timeouts++;
            continue;
        }
        if (rc != 0) {
            r->rc = rc;
            break;
        }
        long v;
        memcpy(&v, buf, sizeof v);
        r->wrong += v != next || buf[r->size - 1] != (unsigned char)v;
        next = v + 1;
    }
    r->n = next;
    ct_chan_drop_receiver(&r->rx);
    return NULL;
}

static void test_rendezvous_timeouts_race(void **state)
{
    (void)state;
    static const size_t sizes[] = { 16, 200 };
    for (size_t k = 0; k < 2; k++) {
        struct racer r = { .size = sizes[k] };
        assert_int_equal(ct_chan_open(&r.tx, &r.rx, r.size, 0, NULL), 0);
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, timeout_receiver, &r), 0);
        long n = CT_STRESS(20000, 1000), sender_timeouts = 0, kept = 0;
        uint64_t seed = 3;
        unsigned char buf[256] = { 0 };
        for (long i = 0; i < n;) {
            memcpy(buf, &i, sizeof i);
            buf[r.size - 1] = (unsigned char)i;
            int rc = ct_chan_send_timeout(&r.tx, buf, short_timeout(&seed), NULL);
            if (rc == -ETIMEDOUT) {
                long v;
                memcpy(&v, buf, sizeof v);
                kept += v == i;         /* a failed send leaves the message */
                sender_timeouts++;
                continue;
            }
            assert_int_equal(rc, 0);
            assert_int_equal(buf[0], 0);    /* moved out: zeroed */
            i++;
        }
        ct_chan_drop_sender(&r.tx);
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_int_equal(r.rc, -EPIPE);
        assert_int_equal(r.n, n);
        assert_int_equal(r.wrong, 0);
        assert_int_equal(kept, sender_timeouts);
    }
}

/* The counters: a receiver that waits long enough to sleep is counted, and
 * so is the one wake-up its sender makes; an unbounded channel counts the
 * blocks it allocates. */
static void *slow_sender(void *arg)
{
    struct ct_sender *tx = arg;
    struct timespec pause = { 0, 30 * 1000 * 1000 };    /* 30 ms: longer than any spin */
    nanosleep(&pause, NULL);
    long v = 42;
    ct_chan_send(tx, &v, NULL);
    ct_chan_drop_sender(tx);
    return NULL;
}

static void test_stats(void **state)
{
    (void)state;
    struct ct_sender tx;
    struct ct_receiver rx;
    assert_int_equal(ct_chan_open(&tx, &rx, sizeof(long), 0, NULL), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, slow_sender, &tx), 0);
    long v = 0;
    assert_int_equal(ct_chan_recv(&rx, &v, NULL), 0);
    assert_int_equal(v, 42);
    assert_int_equal(pthread_join(t, NULL), 0);
    struct ct_chan_stats st;
    ct_chan_stats(rx.chan, &st);
    assert_true(st.recv_sleeps >= 1);
    assert_int_equal(st.send_sleeps, 0);
    assert_int_equal(st.wakeups, 1);
    ct_chan_drop_receiver(&rx);

    assert_int_equal(ct_chan_open(&tx, &rx, sizeof(long), CT_CHAN_UNBOUNDED, NULL), 0);
    for (long i = 0; i < 1000; i++) {
        v = i;      /* a send zeroes what it moved */
        assert_int_equal(ct_chan_send(&tx, &v, NULL), 0);
    }
    ct_chan_stats(rx.chan, &st);
    /* 1000 messages at 64 a block, none read yet: nothing to recycle */
    assert_int_equal(st.blocks, (1000 + 63) / 64);
    assert_int_equal(st.wakeups, 0);
    for (long i = 0; i < 1000; i++)
        assert_int_equal(ct_chan_recv(&rx, &v, NULL), 0);
    for (long i = 0; i < 1000; i++) {
        v = i;      /* a send zeroes what it moved */
        assert_int_equal(ct_chan_send(&tx, &v, NULL), 0);
    }
    ct_chan_stats(rx.chan, &st);
    /* the second thousand crossed 16 block boundaries: the first took
     * the one recycled spare, the other 15 allocated */
    assert_int_equal(st.blocks, 16 + 15);
    ct_chan_drop_sender(&tx);
    ct_chan_drop_receiver(&rx);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct ct_sender tx;
    struct ct_receiver rx;
    assert_int_equal(ct_chan_open(&tx, &rx, 0, 4, NULL), -EINVAL);
    assert_int_equal(ct_chan_open(&tx, &rx, 8, -2, NULL), -EINVAL);
    assert_int_equal(ct_chan_open(&tx, &rx, 8, CT_CHAN_MAX_CAPACITY + 1, NULL), -EINVAL);
    assert_int_equal(ct_chan_open(&tx, &rx, CT_CHAN_MAX_MSG + 1, 4, NULL), -EINVAL);
    assert_null(tx.chan);
    struct ct_sender copy;
    assert_int_equal(ct_chan_clone_sender(&tx, &copy), -EBADF);
    int v = 0;
    assert_int_equal(ct_chan_try_send(&tx, &v), -EBADF);
    assert_int_equal(ct_chan_try_recv(&rx, &v), -EBADF);
}

struct big_send {
    struct ct_sender *tx;
    void *msg;
    int rc;
};

static void *big_sender(void *arg)
{
    struct big_send *bs = arg;
    bs->rc = ct_chan_send(bs->tx, bs->msg, NULL);
    return NULL;
}

/* `rounds` messages of `size` bytes through a channel of capacity `cap`:
 * every byte arrives as sent. */
static void round_trip(size_t size, long cap, int rounds)
{
    struct ct_sender tx;
    struct ct_receiver rx;
    assert_int_equal(ct_chan_open(&tx, &rx, size, cap, NULL), 0);
    unsigned char *in = malloc(size), *want = malloc(size), *out = malloc(size);
    assert_non_null(in);
    assert_non_null(want);
    assert_non_null(out);
    for (int round = 0; round < rounds; round++) {
        for (size_t i = 0; i < size; i++)
            want[i] = in[i] = (unsigned char)(round * 31 + (int)i);
        memset(out, 0xee, size);
        if (cap == 0) {
            /* a rendezvous needs a receiver: let a thread send */
            struct big_send bs = { .tx = &tx, .msg = in };
            pthread_t t;
            assert_int_equal(pthread_create(&t, NULL, big_sender, &bs), 0);
            assert_int_equal(ct_chan_recv(&rx, out, NULL), 0);
            assert_int_equal(pthread_join(t, NULL), 0);
            assert_int_equal(bs.rc, 0);
        } else {
            assert_int_equal(ct_chan_send(&tx, in, NULL), 0);
            assert_int_equal(ct_chan_recv(&rx, out, NULL), 0);
        }
        assert_memory_equal(out, want, size);
        /* moved: the sender's copy is zeroed (chan.h) */
        for (size_t i = 0; i < size; i++)
            assert_int_equal(in[i], 0);
    }
    free(in);
    free(want);
    free(out);
    ct_chan_drop_sender(&tx);
    ct_chan_drop_receiver(&rx);
}

static const long flavour_caps[] = { CT_CHAN_UNBOUNDED, 3, 0 };

/* Large messages keep every byte through a ring, the list and a
 * rendezvous (too large for a waiter's inline buffer). */
static void test_large_messages(void **state)
{
    (void)state;
    for (size_t k = 0; k < 3; k++)
        round_trip(1000, flavour_caps[k], 200);
}

/* Every size keeps every byte, in each flavour: the word and two-word
 * sizes that are copied inline, and the sizes around them that go through
 * memcpy. */
static void test_message_sizes(void **state)
{
    (void)state;
    static const size_t sizes[] = { 1, 2, 4, 7, 8, 9, 15, 16, 17, 24, 40, 41, 64 };
    for (size_t k = 0; k < 3; k++) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            round_trip(sizes[i], flavour_caps[k], 20);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_close_drains_then_epipe),
        cmocka_unit_test(test_send_after_receiver_gone),
        cmocka_unit_test(test_drop_frees_queued),
        cmocka_unit_test(test_capacity_exact),
        cmocka_unit_test(test_large_messages),
        cmocka_unit_test(test_message_sizes),
        cmocka_unit_test(test_recv_timeout),
        cmocka_unit_test(test_cancel_wakes_blocked),
        cmocka_unit_test(test_drop_wakes_blocked),
        cmocka_unit_test(test_rendezvous),
        cmocka_unit_test(test_rendezvous_timeouts_race),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_stress_mpsc),
        cmocka_unit_test(test_stress_mpmc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
