/* test-reactor-io.c - the reactor's file-descriptor readiness: a waiter is
 * woken by the next edge in its direction and by nothing else, exactly
 * once; cancelling and deregistering leave no waker and no registration
 * behind; and an event for a descriptor that was closed never reaches the
 * registration that reuses its number, even while another thread turns
 * the loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "exec.h"
#include "fds.h"
#include "reactor.h"
#include "stress.h"
#include "testfut.h"
#include "timer.h"

/* A counting waker whose context names reactor `r`. */
static void waker_for(struct tf_waker *w, struct ct_reactor *r)
{
    tf_waker_init(w);
    w->cx.reactor = r;
}

/* What a future does on EAGAIN, by hand: 1 parked, 0 retry, < 0 error. */
static int park(struct ct_io *io, enum ct_io_dir dir, struct tf_waker *w)
{
    unsigned seen = ct_io_ticks(io, dir);
    return ct_io_wait(io, dir, seen, &w->cx);
}

/* Turn until something is woken, at most ~5 s: the event is already in
 * the kernel, so the first turn normally finds it. */
static int turn_until_woken(struct ct_reactor *r)
{
    int woken = 0;
    for (int i = 0; i < 50 && woken == 0; i++)
        woken = ct_reactor_turn(r, 100 * CT_NS_PER_MS);
    return woken;
}

static void fill(int fd)
{
    char junk[4096] = { 0 };
    while (write(fd, junk, sizeof junk) > 0)
        ;
    assert_int_equal(errno, EAGAIN);
}

static void drain(int fd)
{
    char junk[4096];
    while (read(fd, junk, sizeof junk) > 0)
        ;
}

/* ---- a pipe ----------------------------------------------------------------- */

static void test_pipe_readiness(void **state)
{
    (void)state;
    struct ct_reactor r;
    assert_int_equal(ct_reactor_init(&r), 0);
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    struct ct_io rd, wr;
    ct_io_init(&rd, p[0]);
    ct_io_init(&wr, p[1]);
    struct tf_waker w;
    waker_for(&w, &r);

    /* empty: the reader waits, and nothing wakes it */
    char c;
    assert_int_equal(read(p[0], &c, 1), -1);
    assert_int_equal(park(&rd, CT_IO_READ, &w), 1);
    assert_int_equal(ct_reactor_io_registered(&r), 1);
    assert_int_equal(ct_reactor_io_waiting(&r), 1);
    assert_int_equal(atomic_load(&w.refs), 1);
    assert_int_equal(ct_reactor_turn(&r, 0), 0);
    assert_int_equal(atomic_load(&w.wakes), 0);

    /* a byte: one wake-up, and the waker is given back */
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(turn_until_woken(&r), 1);
    assert_int_equal(atomic_load(&w.wakes), 1);
    assert_int_equal(atomic_load(&w.refs), 0);
    assert_int_equal(ct_reactor_io_waiting(&r), 0);
    assert_int_equal(read(p[0], &c, 1), 1);
    assert_int_equal(c, 'x');

    /* full: the writer waits until the reader drains */
    assert_true(fcntl(p[1], F_SETPIPE_SZ, 4096) > 0);
    fill(p[1]);
    assert_int_equal(park(&wr, CT_IO_WRITE, &w), 1);
    assert_int_equal(ct_reactor_io_registered(&r), 2);
    assert_int_equal(ct_reactor_turn(&r, 0), 0);
    assert_int_equal(atomic_load(&w.wakes), 1);
    drain(p[0]);
    assert_int_equal(turn_until_woken(&r), 1);
    assert_int_equal(atomic_load(&w.wakes), 2);

    /* the other end closed: the reader is woken (EOF is readiness) */
    assert_int_equal(park(&rd, CT_IO_READ, &w), 1);
    ct_io_deregister(&wr);
    close(p[1]);
    assert_int_equal(turn_until_woken(&r), 1);
    assert_int_equal(atomic_load(&w.wakes), 3);
    assert_int_equal(read(p[0], &c, 1), 0);

    ct_io_deregister(&rd);
    close(p[0]);
    assert_int_equal(ct_reactor_io_woken(&r), 3);
    assert_int_equal(ct_reactor_io_registered(&r), 0);
    assert_int_equal(atomic_load(&w.refs), 0);
    ct_reactor_destroy(&r);
}

/* ---- both directions of one socket --------------------------------------- */

static void test_socketpair_directions(void **state)
{
    (void)state;
    struct ct_reactor r;
    assert_int_equal(ct_reactor_init(&r), 0);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    struct ct_io io;
    ct_io_init(&io, sv[0]);
    struct tf_waker wr, ww;
    waker_for(&wr, &r);
    waker_for(&ww, &r);

    fill(sv[0]);                        /* not writable, not readable */
    assert_int_equal(park(&io, CT_IO_READ, &wr), 1);
    assert_int_equal(park(&io, CT_IO_WRITE, &ww), 1);
    assert_int_equal(ct_reactor_io_registered(&r), 1);     /* one fd, once */
    assert_int_equal(ct_reactor_io_waiting(&r), 2);
    assert_int_equal(ct_reactor_turn(&r, 0), 0);

    /* readable: only the reader */
    assert_int_equal(write(sv[1], "y", 1), 1);
    assert_int_equal(turn_until_woken(&r), 1);
    assert_int_equal(atomic_load(&wr.wakes), 1);
    assert_int_equal(atomic_load(&ww.wakes), 0);

    /* writable again: only the writer */
    drain(sv[1]);
    assert_int_equal(turn_until_woken(&r), 1);
    assert_int_equal(atomic_load(&wr.wakes), 1);
    assert_int_equal(atomic_load(&ww.wakes), 1);
    assert_int_equal(ct_reactor_io_waiting(&r), 0);

    /* an edge between the tick and the wait: "try again", nothing stored */
    char c;
    assert_int_equal(read(sv[0], &c, 1), 1);
    unsigned seen = ct_io_ticks(&io, CT_IO_READ);
    assert_int_equal(read(sv[0], &c, 1), -1);
    assert_int_equal(write(sv[1], "z", 1), 1);
    assert_int_equal(ct_reactor_turn(&r, 1000 * CT_NS_PER_MS), 0);  /* counted, nobody waiting */
    assert_int_equal(ct_io_wait(&io, CT_IO_READ, seen, &wr.cx), 0);
    assert_int_equal(ct_reactor_io_waiting(&r), 0);
    assert_int_equal(read(sv[0], &c, 1), 1);
    assert_int_equal(c, 'z');

    ct_io_deregister(&io);
    close(sv[0]);
    close(sv[1]);
    assert_int_equal(atomic_load(&wr.refs) + atomic_load(&ww.refs), 0);
    ct_reactor_destroy(&r);
}

/* ---- cancel, close, reuse the number ---------------------------------------- */

static void test_cancel_then_reuse_fd(void **state)
{
    (void)state;
    struct ct_reactor r;
    assert_int_equal(ct_reactor_init(&r), 0);
    struct tf_waker wa, wb;
    waker_for(&wa, &r);
    waker_for(&wb, &r);

    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    struct ct_io a;
    ct_io_init(&a, sv[0]);
    assert_int_equal(park(&a, CT_IO_READ, &wa), 1);
    /* readiness arrives while it waits, but nobody turns the loop yet */
    assert_int_equal(write(sv[1], "x", 1), 1);
    ct_io_cancel(&a, CT_IO_READ);
    assert_int_equal(atomic_load(&wa.refs), 0);
    assert_int_equal(ct_reactor_io_waiting(&r), 0);
    ct_io_deregister(&a);
    assert_int_equal(ct_reactor_io_registered(&r), 0);
    int old = sv[0];
    close(sv[0]);

    /* the lowest free number is the one just closed */
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    assert_int_equal(p[0], old);
    struct ct_io b;
    ct_io_init(&b, p[0]);
    assert_int_equal(park(&b, CT_IO_READ, &wb), 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ct_reactor_turn(&r, 0), 0);
    assert_int_equal(atomic_load(&wa.wakes), 0);
    assert_int_equal(atomic_load(&wb.wakes), 0);
    assert_int_equal(write(p[1], "y", 1), 1);
    assert_int_equal(turn_until_woken(&r), 1);
    assert_int_equal(atomic_load(&wa.wakes), 0);
    assert_int_equal(atomic_load(&wb.wakes), 1);

    ct_io_deregister(&b);
    close(p[0]);
    close(p[1]);
    close(sv[1]);
    assert_int_equal(atomic_load(&wb.refs), 0);
    ct_reactor_destroy(&r);
}

/* The case the tokens are for: a turn has taken an event for descriptor N
 * out of the kernel; before it dispatches, N's owner deregisters and closes
 * it, and N is reused and registered by someone else.  The event must wake
 * nobody.  The turn hook runs exactly in that gap. */
struct reuse {
    struct ct_reactor *r;
    struct ct_io *old, *fresh;
    struct tf_waker *w_fresh;
    int old_peer, p[2];
    int calls, reused_fd;
};

static void reuse_in_gap(void *arg)
{
    struct reuse *u = arg;
    if (u->calls++)
        return;
    int n = u->old->fd;
    ct_io_cancel(u->old, CT_IO_READ);
    ct_io_deregister(u->old);
    close(n);
    close(u->old_peer);
    if (pipe2(u->p, O_NONBLOCK | O_CLOEXEC) != 0)
        return;
    u->reused_fd = u->p[0];
    ct_io_init(u->fresh, u->p[0]);
    ct_io_wait(u->fresh, CT_IO_READ, ct_io_ticks(u->fresh, CT_IO_READ), &u->w_fresh->cx);
}

static void test_event_in_flight_for_reused_fd(void **state)
{
    (void)state;
    struct ct_reactor r;
    assert_int_equal(ct_reactor_init(&r), 0);
    struct tf_waker wa, wb;
    waker_for(&wa, &r);
    waker_for(&wb, &r);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    struct ct_io a, b;
    ct_io_init(&a, sv[0]);
    assert_int_equal(park(&a, CT_IO_READ, &wa), 1);
    assert_int_equal(write(sv[1], "x", 1), 1);
    struct reuse u = { .r = &r, .old = &a, .fresh = &b, .w_fresh = &wb, .old_peer = sv[1],
                       .p = { -1, -1 }, .reused_fd = -1 };
    r.turn_hook = reuse_in_gap;
    r.turn_hook_arg = &u;
    /* this turn takes out the event for sv[0], then the hook runs */
    assert_int_equal(ct_reactor_turn(&r, 1000 * CT_NS_PER_MS), 0);
    r.turn_hook = NULL;
    assert_int_equal(u.calls, 1);
    assert_int_equal(u.reused_fd, sv[0]);       /* the same number, another file */
    assert_int_equal(atomic_load(&wa.wakes), 0);
    assert_int_equal(atomic_load(&wb.wakes), 0);
    assert_int_equal(atomic_load(&wa.refs), 0);
    assert_int_equal(ct_reactor_io_waiting(&r), 1);     /* the new reader, still waiting */
    assert_int_equal(write(u.p[1], "y", 1), 1);
    assert_int_equal(turn_until_woken(&r), 1);
    assert_int_equal(atomic_load(&wb.wakes), 1);
    ct_io_deregister(&b);
    close(u.p[0]);
    close(u.p[1]);
    assert_int_equal(atomic_load(&wb.refs), 0);
    ct_reactor_destroy(&r);
}

/* While a thread turns the loop, the main thread registers socket after
 * socket on the same descriptor number.  Even rounds get a byte (an event
 * the turning thread may hold on to after the deregistration); odd rounds
 * never get anything, so an odd round's reader must never be woken: if
 * events were matched by descriptor number, a late even-round event would
 * wake it. */
struct turner {
    struct ct_reactor *r;
    atomic_bool stop;
};

static void *turn_loop(void *arg)
{
    struct turner *t = arg;
    while (!atomic_load(&t->stop))
        ct_reactor_turn(t->r, 10 * CT_NS_PER_MS);
    return NULL;
}

static void test_stale_events_threaded(void **state)
{
    (void)state;
    const int rounds = CT_STRESS(4000, 600);
    struct ct_reactor r;
    assert_int_equal(ct_reactor_init(&r), 0);
    struct turner t = { .r = &r };
    atomic_init(&t.stop, false);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, turn_loop, &t), 0);
    struct tf_waker *w = calloc((size_t)rounds, sizeof *w);
    int first_fd = -1, same_number = 0, parked = 0;
    for (int i = 0; i < rounds; i++) {
        waker_for(&w[i], &r);
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
            break;
        if (first_fd < 0)
            first_fd = sv[0];
        same_number += sv[0] == first_fd;
        struct ct_io io;
        ct_io_init(&io, sv[0]);
        int rc;
        while ((rc = park(&io, CT_IO_READ, &w[i])) == 0)
            ;
        parked += rc == 1;
        if (i % 2 == 0 && write(sv[1], "x", 1) != 1)
            break;
        ct_io_cancel(&io, CT_IO_READ);
        ct_io_deregister(&io);          /* before either end closes */
        close(sv[0]);
        close(sv[1]);
    }
    atomic_store(&t.stop, true);
    ct_reactor_unpark(&r);
    assert_int_equal(pthread_join(th, NULL), 0);

    assert_int_equal(parked, rounds);
    assert_int_equal(same_number, rounds);
    int odd_wakes = 0, refs = 0;
    for (int i = 0; i < rounds; i++) {
        if (i % 2)
            odd_wakes += atomic_load(&w[i].wakes);
        refs += atomic_load(&w[i].refs);
    }
    assert_int_equal(odd_wakes, 0);
    assert_int_equal(refs, 0);
    assert_int_equal(ct_reactor_io_registered(&r), 0);
    assert_int_equal(ct_reactor_io_waiting(&r), 0);
    free(w);
    ct_reactor_destroy(&r);
}

/* ---- one reactor per descriptor; destroy detaches ------------------------- */

static void test_other_reactor_and_destroy(void **state)
{
    (void)state;
    struct ct_reactor r1, r2;
    assert_int_equal(ct_reactor_init(&r1), 0);
    assert_int_equal(ct_reactor_init(&r2), 0);
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    struct ct_io io;
    ct_io_init(&io, p[0]);
    struct tf_waker w1, w2;
    waker_for(&w1, &r1);
    waker_for(&w2, &r2);
    assert_int_equal(park(&io, CT_IO_READ, &w1), 1);
    assert_int_equal(park(&io, CT_IO_READ, &w2), -EXDEV);
    assert_int_equal(atomic_load(&w2.refs), 0);

    /* the reactor goes first: the waker is dropped, the io detached */
    ct_reactor_destroy(&r1);
    assert_int_equal(atomic_load(&w1.refs), 0);
    assert_int_equal(atomic_load(&w1.wakes), 0);
    ct_io_deregister(&io);              /* does nothing now */
    /* and the io may join another reactor */
    assert_int_equal(park(&io, CT_IO_READ, &w2), 1);
    assert_int_equal(ct_reactor_io_registered(&r2), 1);
    ct_io_deregister(&io);
    assert_int_equal(ct_reactor_io_registered(&r2), 0);
    assert_int_equal(atomic_load(&w2.refs), 0);
    close(p[0]);
    close(p[1]);
    ct_reactor_destroy(&r2);
}

/* ---- on the executors: ping-pong through two pipes ----------------------- */

/* Reads one byte from `in` and writes it back to `out`, `n` times (or
 * starts by writing, if `serve` is false), waiting in the reactor. */
struct pinger {
    struct ct_future base;
    struct ct_io *in, *out;
    int n, done;
    bool serve, need_write;
    bool parked_in, parked_out;
};

static enum ct_poll pinger_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct pinger *p = (struct pinger *)f;
    while (p->done < p->n) {
        struct ct_io *io = p->need_write ? p->out : p->in;
        enum ct_io_dir dir = p->need_write ? CT_IO_WRITE : CT_IO_READ;
        unsigned seen = ct_io_ticks(io, dir);
        char c = 'p';
        ssize_t k = p->need_write ? write(io->fd, &c, 1) : read(io->fd, &c, 1);
        if (k == 1) {
            if (!p->need_write && !p->serve)
                p->done++;      /* the client counts a round trip when the byte is back */
            if (p->need_write && p->serve)
                p->done++;
            p->need_write = !p->need_write;
            continue;
        }
        if (k == 0 || errno != EAGAIN) {
            f->error = k == 0 ? -EPIPE : -errno;
            return CT_READY;
        }
        int w = ct_io_wait(io, dir, seen, cx);
        if (w < 0) {
            f->error = w;
            return CT_READY;
        }
        if (w > 0) {
            *(dir == CT_IO_READ ? &p->parked_in : &p->parked_out) = true;
            return CT_PENDING;
        }
    }
    f->value = p->done;
    return CT_READY;
}

static void pinger_drop(struct ct_future *f)
{
    struct pinger *p = (struct pinger *)f;
    if (p->parked_in)
        ct_io_cancel(p->in, CT_IO_READ);
    if (p->parked_out)
        ct_io_cancel(p->out, CT_IO_WRITE);
}

static const struct ct_future_ops pinger_ops = { "pinger", pinger_poll, pinger_drop };

static void ping_pong(enum ct_exec_flavor flavor)
{
    const int n = CT_STRESS(20000, 2000);
    struct ct_exec *ex = tf_exec(flavor, 2);
    int ab[2], ba[2];
    assert_int_equal(pipe2(ab, O_NONBLOCK | O_CLOEXEC), 0);
    assert_int_equal(pipe2(ba, O_NONBLOCK | O_CLOEXEC), 0);
    struct ct_io io[4];
    for (int i = 0; i < 2; i++) {
        ct_io_init(&io[i], ab[i]);
        ct_io_init(&io[2 + i], ba[i]);
    }
    struct pinger client = { .base = { .ops = &pinger_ops }, .in = &io[2], .out = &io[1],
                             .n = n, .need_write = true };
    struct pinger server = { .base = { .ops = &pinger_ops }, .in = &io[0], .out = &io[3],
                             .n = n, .serve = true };
    struct ct_join_handle hc, hs;
    assert_int_equal(ct_spawn(ex, &server, &hs), 0);
    assert_int_equal(ct_spawn(ex, &client, &hc), 0);
    assert_int_equal(tf_block_on(ex, &hc.base, 60), 0);
    assert_int_equal(tf_block_on(ex, &hs.base, 60), 0);
    assert_int_equal(hc.status, CT_JOIN_OK);
    assert_int_equal(hs.status, CT_JOIN_OK);
    assert_int_equal(hc.base.value, n);
    assert_int_equal(hs.base.value, n);
    struct ct_reactor *r = ct_exec_reactor(ex);
    assert_int_equal(ct_reactor_io_waiting(r), 0);
    for (int i = 0; i < 4; i++) {
        ct_io_deregister(&io[i]);
        close(io[i].fd);
    }
    assert_int_equal(ct_reactor_io_registered(r), 0);
    ct_exec_free(ex);
}

static void test_ping_pong_current_thread(void **state)
{
    (void)state;
    ping_pong(CT_EXEC_CURRENT_THREAD);
}

static void test_ping_pong_multi_thread(void **state)
{
    (void)state;
    ping_pong(CT_EXEC_MULTI_THREAD);
}

/* A task still waiting on a descriptor when the executor shuts down is
 * cancelled: its cleanup takes the waker back, so the task is freed and
 * nothing is left (AddressSanitizer would report the task otherwise). */
static void test_shutdown_with_waiter(void **state)
{
    (void)state;
    struct ct_exec *ex = tf_exec(CT_EXEC_CURRENT_THREAD, 1);
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    struct ct_io in, out;
    ct_io_init(&in, p[0]);
    ct_io_init(&out, p[1]);
    struct pinger waiter = { .base = { .ops = &pinger_ops }, .in = &in, .out = &out,
                             .n = 1, .serve = true };
    struct ct_join_handle h;
    assert_int_equal(ct_spawn(ex, &waiter, &h), 0);
    /* the run queue comes before the reactor: the task has parked by the
     * time this sleep's timer fires */
    struct ct_sleep nap;
    ct_sleep_init(&nap, CT_NS_PER_MS);
    assert_int_equal(ct_block_on(ex, &nap.base), 0);
    ct_future_drop(&nap.base);
    struct ct_reactor *r = ct_exec_reactor(ex);
    assert_int_equal(ct_reactor_io_waiting(r), 1);
    assert_int_equal(ct_reactor_io_registered(r), 1);
    ct_exec_free(ex);

    struct tf_waker w;
    tf_waker_init(&w);
    assert_int_equal(ct_future_poll(&h.base, &w.cx), CT_READY);
    assert_int_equal(h.status, CT_JOIN_CANCELLED);
    ct_future_drop(&h.base);
    ct_io_deregister(&in);                      /* detached by the reactor's destroy */
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FDS_TEST(test_pipe_readiness),
        FDS_TEST(test_socketpair_directions),
        FDS_TEST(test_cancel_then_reuse_fd),
        FDS_TEST(test_event_in_flight_for_reused_fd),
        FDS_TEST(test_stale_events_threaded),
        FDS_TEST(test_other_reactor_and_destroy),
        FDS_TEST(test_ping_pong_current_thread),
        FDS_TEST(test_ping_pong_multi_thread),
        FDS_TEST(test_shutdown_with_waiter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
