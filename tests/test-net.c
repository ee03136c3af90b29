/* test-net.c - TCP on the executor: listen, accept, connect, read, write.
 * Every byte written arrives once and in order, however the kernel splits
 * it; end of file, refusal and timeouts come back as the documented
 * values; a dropped operation leaves no waker and no stale wake-up; 500
 * connections at once each get exactly their own lines back; and no test
 * leaves a descriptor open.  The example in net.h's header is compiled and
 * run here as it stands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "combinators.h"
#include "exec.h"
#include "fds.h"
#include "net.h"
#include "reactor.h"
#include "stress.h"
#include "testfut.h"

/* Every socket opened since the snapshot is non-blocking and close-on-exec. */
static void assert_new_sockets_flagged(void)
{
    int sockets = 0;
    for (int fd = 0; fd < FDS_MAX; fd++) {
        struct stat st;
        if (fds_before.open[fd] || fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
            continue;
        sockets++;
        assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    }
    assert_true(sockets > 0);
}

/* Two connected streams over a socketpair. */
static void stream_pair(struct ct_tcp_stream **a, struct ct_tcp_stream **b)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(ct_tcp_stream_from_fd(a, sv[0]), 0);
    assert_int_equal(ct_tcp_stream_from_fd(b, sv[1]), 0);
}

/* Run `f` to the end on `ex` (60 s bound), then drop it. */
static void run(struct ct_exec *ex, struct ct_future *f)
{
    assert_int_equal(tf_block_on(ex, f, 60), 0);
}

/* ==== the example from net.h, as it stands ================================= */

struct conn {
    struct ct_future base;
    int pc;
    struct ct_tcp_stream *s;        // owned: closed by conn_drop
    struct ct_tcp_op op;            // the operation in flight
    char line[256];
};

static enum ct_poll conn_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct conn *c = (struct conn *)f;
    CT_ASYNC_BEGIN(c->pc);
    for (;;) {
        ct_tcp_read_line_init(&c->op, c->s, c->line, sizeof c->line);
        CT_AWAIT(c->pc, &c->op.base, cx);
        if (c->op.base.error || c->op.base.value == 0)
            break;                  // an error, or the client left
        ct_tcp_write_all_init(&c->op, c->s, c->line, (size_t)c->op.base.value);
        CT_AWAIT(c->pc, &c->op.base, cx);
        if (c->op.base.error)
            break;
    }
    f->error = c->op.base.error;
    CT_ASYNC_END(c->pc);
    return CT_READY;
}

static void conn_drop(struct ct_future *f)     // finished or cancelled
{
    struct conn *c = (struct conn *)f;
    ct_future_drop(&c->op.base);    // nothing if already dropped
    ct_tcp_close(c->s);
}

static const struct ct_future_ops conn_ops = { "conn", conn_poll, conn_drop };

/* The server task around the header's accept loop. */
struct server {
    struct ct_future base;
    int pc;
    struct ct_tcp_listener *listener;
    struct ct_tcp_accept acc;
};

static enum ct_poll server_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct server *sv = (struct server *)f;
    CT_ASYNC_BEGIN(sv->pc);
    for (;;) {
        ct_tcp_accept_init(&sv->acc, sv->listener);
        CT_AWAIT(sv->pc, &sv->acc.base, cx);
        if (sv->acc.base.error)
            break;                  // e.g. -EMFILE
        struct conn c = { .base = { .ops = &conn_ops },
                          .s = ct_tcp_stream_of(&sv->acc.base) };
        ct_spawn(cx->exec, &c, NULL);   // on failure c is dropped: closed
    }
    f->error = sv->acc.base.error;
    CT_ASYNC_END(sv->pc);
    return CT_READY;
}

static void server_drop(struct ct_future *f)
{
    struct server *sv = (struct server *)f;
    ct_future_drop(&sv->acc.base);
    ct_tcp_listener_close(sv->listener);
}

static const struct ct_future_ops server_ops = { "server", server_poll, server_drop };

/* ==== an echo client ======================================================= */

/* Connects, sends `lines` lines and reads each back.  value = lines that
 * came back intact; error = the first error. */
struct client {
    struct ct_future base;
    int pc;
    int port, id, lines, i, intact;
    struct ct_tcp_connect conn;
    struct ct_tcp_stream *s;
    struct ct_tcp_op op;
    char out[64], in[64];
};

static enum ct_poll client_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct client *c = (struct client *)f;
    CT_ASYNC_BEGIN(c->pc);
    ct_tcp_connect_init(&c->conn, c->port);
    CT_AWAIT(c->pc, &c->conn.base, cx);
    if (c->conn.base.error) {
        f->error = c->conn.base.error;
        return CT_READY;
    }
    c->s = ct_tcp_stream_of(&c->conn.base);
    for (c->i = 0; c->i < c->lines; c->i++) {
        snprintf(c->out, sizeof c->out, "client %d line %d\n", c->id, c->i);
        ct_tcp_write_all_init(&c->op, c->s, c->out, strlen(c->out));
        CT_AWAIT(c->pc, &c->op.base, cx);
        if (c->op.base.error)
            break;
        ct_tcp_read_line_init(&c->op, c->s, c->in, sizeof c->in);
        CT_AWAIT(c->pc, &c->op.base, cx);
        if (c->op.base.error || c->op.base.value == 0)
            break;
        c->intact += strcmp(c->in, c->out) == 0;
    }
    f->value = c->intact;
    f->error = c->op.base.error;
    CT_ASYNC_END(c->pc);
    return CT_READY;
}

static void client_drop(struct ct_future *f)
{
    struct client *c = (struct client *)f;
    ct_future_drop(&c->conn.base);
    ct_future_drop(&c->op.base);
    ct_tcp_close(c->s);
}

static const struct ct_future_ops client_ops = { "client", client_poll, client_drop };

static struct client client_new(int port, int id, int lines)
{
    return (struct client){ .base = { .ops = &client_ops }, .port = port, .id = id,
                            .lines = lines };
}

/* ==== listen =============================================================== */

/* One connection accepted and echoed; the server closes first (its side
 * goes to TIME_WAIT), and SO_REUSEADDR lets the port be bound again. */
static void test_listen_and_reuse_port(void **state)
{
    (void)state;
    struct ct_tcp_listener *l, *l2;
    assert_int_equal(ct_tcp_listen(&l, -1), -EINVAL);
    assert_int_equal(ct_tcp_listen(&l, 65536), -EINVAL);
    assert_int_equal(ct_tcp_listen(&l, 0), 0);
    int port = ct_tcp_listener_port(l);
    assert_true(port > 0 && port < 65536);
    assert_int_equal(ct_tcp_listen(&l2, port), -EADDRINUSE);

    struct ct_exec *ex = tf_exec(CT_EXEC_CURRENT_THREAD, 1);
    struct ct_tcp_accept acc;
    ct_tcp_accept_init(&acc, l);
    struct ct_join_handle h;
    assert_int_equal(ct_spawn(ex, &acc, &h), 0);
    struct client c = client_new(port, 1, 0);
    run(ex, &c.base);
    assert_int_equal(c.base.error, 0);
    run(ex, &h.base);
    assert_int_equal(h.status, CT_JOIN_OK);
    struct ct_tcp_stream *srv = (struct ct_tcp_stream *)h.base.value;
    assert_non_null(srv);
    assert_true(ct_tcp_peer_port(srv) > 0 && ct_tcp_peer_port(srv) != port);
    assert_new_sockets_flagged();
    ct_tcp_close(srv);                  /* the server closes first */
    ct_tcp_listener_close(l);
    ct_exec_free(ex);

    assert_int_equal(ct_tcp_listen(&l2, port), 0);
    assert_int_equal(ct_tcp_listener_port(l2), port);
    ct_tcp_listener_close(l2);
}

/* ==== the example, end to end ============================================== */

static void test_header_example(void **state)
{
    (void)state;
    enum { CLIENTS = 8, LINES = 50 };
    struct ct_exec *ex = tf_exec(CT_EXEC_MULTI_THREAD, 2);
    struct server sv = { .base = { .ops = &server_ops } };
    assert_int_equal(ct_tcp_listen(&sv.listener, 0), 0);
    int port = ct_tcp_listener_port(sv.listener);
    struct ct_join_handle hs, hc[CLIENTS];
    assert_int_equal(ct_spawn(ex, &sv, &hs), 0);
    for (int i = 0; i < CLIENTS; i++) {
        struct client c = client_new(port, i, LINES);
        assert_int_equal(ct_spawn(ex, &c, &hc[i]), 0);
    }
    struct ct_await_all all;
    ct_await_all_init(&all, hc, CLIENTS);
    run(ex, &all.base);
    for (int i = 0; i < CLIENTS; i++) {
        assert_int_equal(hc[i].status, CT_JOIN_OK);
        assert_int_equal(hc[i].base.value, LINES);
        ct_future_drop(&hc[i].base);
    }
    /* the server and its connection tasks are cancelled here */
    ct_exec_free(ex);
    assert_int_equal(hs.status, CT_JOIN_OK);        /* never polled: untouched */
    ct_future_drop(&hs.base);
}

/* ==== bytes in order ======================================================= */

/* The byte at offset i of the stream. */
static unsigned char pattern(size_t i)
{
    return (unsigned char)(i * 131 + (i >> 9) * 7 + (i >> 17));
}

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * UINT64_C(1099511628211);
    return h;
}

#define FNV_START UINT64_C(14695981039346656037)

/* What the writer and the reader saw, kept outside their tasks. */
struct xfer {
    size_t written, total, misplaced, reads, longest;
    uint64_t sum;
    unsigned writer_waits;
    int write_error, read_error;
};

/* Writes `len` pattern bytes with one write_all, then shuts its side. */
struct writer {
    struct ct_future base;
    int pc;
    struct ct_tcp_stream *s;
    unsigned char *data;
    size_t len;
    struct ct_tcp_op op;
    struct xfer *x;
};

static enum ct_poll writer_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct writer *w = (struct writer *)f;
    CT_ASYNC_BEGIN(w->pc);
    ct_tcp_write_all_init(&w->op, w->s, w->data, w->len);
    CT_AWAIT(w->pc, &w->op.base, cx);
    w->x->writer_waits = w->op.waits;
    w->x->written = (size_t)w->op.base.value;
    w->x->write_error = w->op.base.error ? w->op.base.error : ct_tcp_shutdown_write(w->s);
    CT_ASYNC_END(w->pc);
    return CT_READY;
}

static void writer_drop(struct ct_future *f)
{
    ct_future_drop(&((struct writer *)f)->op.base);
}

static const struct ct_future_ops writer_ops = { "writer", writer_poll, writer_drop };

/* Reads `chunk` bytes at a time, yielding after each read (a slow
 * reader), until end of file; counts, checks the order, sums. */
struct reader {
    struct ct_future base;
    int pc;
    struct ct_tcp_stream *s;
    size_t chunk;
    struct xfer *x;
    unsigned char buf[1500];
    struct ct_tcp_op op;
    struct ct_yield y;
};

static enum ct_poll reader_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct reader *r = (struct reader *)f;
    CT_ASYNC_BEGIN(r->pc);
    r->x->sum = FNV_START;
    for (;;) {
        ct_tcp_read_init(&r->op, r->s, r->buf, r->chunk);
        CT_AWAIT(r->pc, &r->op.base, cx);
        if (r->op.base.error || r->op.base.value == 0)
            break;
        struct xfer *x = r->x;
        size_t n = (size_t)r->op.base.value;
        for (size_t i = 0; i < n; i++)
            x->misplaced += r->buf[i] != pattern(x->total + i);
        x->sum = fnv1a(x->sum, r->buf, n);
        x->total += n;
        x->reads++;
        if (n > x->longest)
            x->longest = n;
        ct_yield_init(&r->y);
        CT_AWAIT(r->pc, &r->y.base, cx);
    }
    r->x->read_error = r->op.base.error;
    CT_ASYNC_END(r->pc);
    return CT_READY;
}

static void reader_drop(struct ct_future *f)
{
    ct_future_drop(&((struct reader *)f)->op.base);
}

static const struct ct_future_ops reader_ops = { "reader", reader_poll, reader_drop };

/* A connected pair of TCP streams on loopback. */
static void tcp_pair(struct ct_exec *ex, struct ct_tcp_stream **a, struct ct_tcp_stream **b)
{
    struct ct_tcp_listener *l;
    assert_int_equal(ct_tcp_listen(&l, 0), 0);
    struct ct_tcp_accept acc;
    ct_tcp_accept_init(&acc, l);
    struct ct_join_handle h;
    assert_int_equal(ct_spawn(ex, &acc, &h), 0);
    struct ct_tcp_connect con;
    ct_tcp_connect_init(&con, ct_tcp_listener_port(l));
    run(ex, &con.base);
    run(ex, &h.base);
    *a = ct_tcp_stream_of(&con.base);
    *b = ct_tcp_stream_of(&h.base);
    assert_non_null(*a);
    assert_non_null(*b);
    ct_tcp_listener_close(l);
}

static void big_write_slow_reader(enum ct_exec_flavor flavor)
{
    const size_t len = CT_STRESS(8u << 20, 1u << 20);
    struct ct_exec *ex = tf_exec(flavor, 2);
    struct ct_tcp_stream *a, *b;
    tcp_pair(ex, &a, &b);
    /* A small send buffer, far below len.  The receive buffer is left
     * alone: one smaller than loopback's 64 KiB segment makes TCP stall on
     * zero-window probes, whose timer backs off to seconds. */
    int small = 8192;
    assert_int_equal(setsockopt(ct_tcp_fd(a), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
    unsigned char *data = malloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = pattern(i);
    struct xfer x = { 0 };
    struct writer w = { .base = { .ops = &writer_ops }, .s = a, .data = data, .len = len,
                        .x = &x };
    struct reader r = { .base = { .ops = &reader_ops }, .s = b, .chunk = 1000, .x = &x };
    struct ct_join_handle hw, hr;
    assert_int_equal(ct_spawn(ex, &w, &hw), 0);
    assert_int_equal(ct_spawn(ex, &r, &hr), 0);
    run(ex, &hw.base);
    run(ex, &hr.base);
    assert_int_equal(hw.status, CT_JOIN_OK);
    assert_int_equal(hr.status, CT_JOIN_OK);
    /* every byte handed over, arrived once, in order */
    assert_int_equal(x.write_error, 0);
    assert_int_equal(x.read_error, 0);
    assert_int_equal(x.written, len);
    assert_int_equal(x.total, len);
    assert_int_equal(x.misplaced, 0);
    assert_true(x.sum == fnv1a(FNV_START, data, len));
    /* partial reads: never more than asked, so many of them */
    assert_true(x.longest <= 1000);
    assert_true(x.reads >= len / 1000);
    /* the buffers hold a few hundred KiB at most: the writer had to wait
     * (on the current-thread executor it runs alone until EAGAIN) */
    if (flavor == CT_EXEC_CURRENT_THREAD)
        assert_true(x.writer_waits > 0);
    assert_int_equal(ct_reactor_io_waiting(ct_exec_reactor(ex)), 0);
    ct_exec_free(ex);
    ct_tcp_close(a);
    ct_tcp_close(b);
    free(data);
}

static void test_big_write_slow_reader_current_thread(void **state)
{
    (void)state;
    big_write_slow_reader(CT_EXEC_CURRENT_THREAD);
}

static void test_big_write_slow_reader_multi_thread(void **state)
{
    (void)state;
    big_write_slow_reader(CT_EXEC_MULTI_THREAD);
}


/* ==== read_exact, read_line, end of file ================================== */

/* Sends its chunks one by one, yielding between them, then (if `shut`)
 * shuts its side. */
struct dribble {
    struct ct_future base;
    int pc;
    struct ct_tcp_stream *s;
    const char *const *chunks;
    int n, i;
    bool shut;
    struct ct_tcp_op op;
    struct ct_yield y;
};

static enum ct_poll dribble_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct dribble *d = (struct dribble *)f;
    CT_ASYNC_BEGIN(d->pc);
    for (d->i = 0; d->i < d->n; d->i++) {
        ct_tcp_write_all_init(&d->op, d->s, d->chunks[d->i], strlen(d->chunks[d->i]));
        CT_AWAIT(d->pc, &d->op.base, cx);
        if (d->op.base.error) {
            f->error = d->op.base.error;
            return CT_READY;
        }
        ct_yield_init(&d->y);
        CT_AWAIT(d->pc, &d->y.base, cx);
    }
    if (d->shut)
        f->error = ct_tcp_shutdown_write(d->s);
    CT_ASYNC_END(d->pc);
    return CT_READY;
}

static void dribble_drop(struct ct_future *f)
{
    struct dribble *d = (struct dribble *)f;
    ct_future_drop(&d->op.base);
    ct_future_drop(&d->y.base);
}

static const struct ct_future_ops dribble_ops = { "dribble", dribble_poll, dribble_drop };

static struct dribble dribble_new(struct ct_tcp_stream *s, const char *const *chunks, int n,
                                  bool shut)
{
    return (struct dribble){ .base = { .ops = &dribble_ops }, .s = s, .chunks = chunks,
                             .n = n, .shut = shut };
}

/* Await `op` (already initialised) on the executor, dropping it after. */
static struct ct_future await_op(struct ct_exec *ex, struct ct_tcp_op *op)
{
    run(ex, &op->base);
    return op->base;
}

static void test_read_exact_across_chunks(void **state)
{
    (void)state;
    static const char *const chunks[] = { "0123", "45", "6789abc", "def", "tail" };
    struct ct_exec *ex = tf_exec(CT_EXEC_CURRENT_THREAD, 1);
    struct ct_tcp_stream *a, *b;
    stream_pair(&a, &b);
    struct dribble d = dribble_new(a, chunks, 5, true);
    struct ct_join_handle h;
    assert_int_equal(ct_spawn(ex, &d, &h), 0);

    char buf[32] = { 0 };
    struct ct_tcp_op op;
    ct_tcp_read_exact_init(&op, b, buf, 16);
    struct ct_future r = await_op(ex, &op);
    assert_int_equal(r.error, 0);
    assert_int_equal(r.value, 16);
    assert_memory_equal(buf, "0123456789abcdef", 16);
    assert_true(op.waits > 0);          /* it ran first and found nothing */

    /* 4 bytes left, then end of file: 10 asked for */
    memset(buf, 0, sizeof buf);
    ct_tcp_read_exact_init(&op, b, buf, 10);
    r = await_op(ex, &op);
    assert_int_equal(r.error, -ENODATA);
    assert_int_equal(r.value, 4);
    assert_string_equal(buf, "tail");
    run(ex, &h.base);
    assert_int_equal(h.status, CT_JOIN_OK);
    /* and a read after end of file is 0, again and again */
    for (int i = 0; i < 2; i++) {
        ct_tcp_read_init(&op, b, buf, sizeof buf);
        r = await_op(ex, &op);
        assert_int_equal(r.error, 0);
        assert_int_equal(r.value, 0);
    }
    ct_exec_free(ex);
    ct_tcp_close(a);
    ct_tcp_close(b);
}

static void test_read_line_and_eof(void **state)
{
    (void)state;
    /* lines split across writes, two in one write, a long one, an
     * unterminated last one */
    static const char *const chunks[] = { "al", "pha\nbe", "ta\ngamma\n", "0123456789012345\n",
                                          "last" };
    struct ct_exec *ex = tf_exec(CT_EXEC_CURRENT_THREAD, 1);
    struct ct_tcp_stream *a, *b;
    stream_pair(&a, &b);
    struct dribble d = dribble_new(a, chunks, 5, true);
    struct ct_join_handle h;
    assert_int_equal(ct_spawn(ex, &d, &h), 0);

    char line[64];
    struct ct_tcp_op op;
    static const char *const want[] = { "alpha\n", "beta\n", "gamma\n" };
    for (int i = 0; i < 3; i++) {
        ct_tcp_read_line_init(&op, b, line, sizeof line);
        struct ct_future r = await_op(ex, &op);
        assert_int_equal(r.error, 0);
        assert_int_equal(r.value, (intptr_t)strlen(want[i]));
        assert_string_equal(line, want[i]);
    }
    /* 17 bytes with the newline do not fit in 8: refused, left unread */
    ct_tcp_read_line_init(&op, b, line, 8);
    assert_int_equal(await_op(ex, &op).error, -EMSGSIZE);
    ct_tcp_read_line_init(&op, b, line, sizeof line);
    assert_int_equal(await_op(ex, &op).value, 17);
    assert_string_equal(line, "0123456789012345\n");
    /* the last line has no newline; then end of file, twice */
    ct_tcp_read_line_init(&op, b, line, sizeof line);
    assert_int_equal(await_op(ex, &op).value, 4);
    assert_string_equal(line, "last");
    for (int i = 0; i < 2; i++) {
        ct_tcp_read_line_init(&op, b, line, sizeof line);
        struct ct_future r = await_op(ex, &op);
        assert_int_equal(r.error, 0);
        assert_int_equal(r.value, 0);
        assert_string_equal(line, "");
    }
    run(ex, &h.base);
    assert_int_equal(h.status, CT_JOIN_OK);
    ct_exec_free(ex);
    ct_tcp_close(a);
    ct_tcp_close(b);
}

/* read after read_line: the bytes read ahead come first, none twice */
static void test_read_after_read_line(void **state)
{
    (void)state;
    struct ct_exec *ex = tf_exec(CT_EXEC_CURRENT_THREAD, 1);
    struct ct_tcp_stream *a, *b;
    stream_pair(&a, &b);
    assert_int_equal(write(ct_tcp_fd(a), "head\nbody-bytes", 15), 15);
    ct_tcp_shutdown_write(a);
    char line[16], rest[16] = { 0 };
    struct ct_tcp_op op;
    ct_tcp_read_line_init(&op, b, line, sizeof line);
    assert_int_equal(await_op(ex, &op).value, 5);
    ct_tcp_read_init(&op, b, rest, 4);
    assert_int_equal(await_op(ex, &op).value, 4);
    ct_tcp_read_exact_init(&op, b, rest + 4, 6);
    assert_int_equal(await_op(ex, &op).value, 6);
    assert_string_equal(rest, "body-bytes");
    ct_tcp_read_init(&op, b, rest, sizeof rest);
    assert_int_equal(await_op(ex, &op).value, 0);
    ct_exec_free(ex);
    ct_tcp_close(a);
    ct_tcp_close(b);
}

/* ==== errors ================================================================ */

/* A port that is bound but not listening answers a SYN with a reset. */
static void test_connection_refused(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    struct ct_exec *ex = tf_exec(CT_EXEC_MULTI_THREAD, 2);
    for (int i = 0; i < 3; i++) {
        struct ct_tcp_connect c;
        ct_tcp_connect_init(&c, ntohs(a.sin_port));
        run(ex, &c.base);
        assert_int_equal(c.base.error, -ECONNREFUSED);
        assert_null(ct_tcp_stream_of(&c.base));
    }
    assert_int_equal(ct_reactor_io_registered(ct_exec_reactor(ex)), 0);
    ct_exec_free(ex);
    close(fd);
}

/* The peer is gone: writing fails with -EPIPE or -ECONNRESET, no signal. */
static void test_write_to_closed_peer(void **state)
{
    (void)state;
    struct ct_exec *ex = tf_exec(CT_EXEC_CURRENT_THREAD, 1);
    struct ct_tcp_stream *a, *b;
    tcp_pair(ex, &a, &b);
    ct_tcp_close(b);
    static char big[1 << 20];
    struct ct_tcp_op op;
    int err = 0;
    /* the first write may still be taken; the reset ends the next */
    for (int i = 0; i < 4 && !err; i++) {
        ct_tcp_write_all_init(&op, a, big, sizeof big);
        err = await_op(ex, &op).error;
    }
    assert_true(err == -EPIPE || err == -ECONNRESET);
    ct_exec_free(ex);
    ct_tcp_close(a);
}

/* ==== timeouts and cancellation ============================================= */

/* Nothing arrives: the timeout fires, the read is dropped, nothing waits
 * any more, and nothing was lost: what comes later is read whole. */
static void test_read_timeout_loses_nothing(void **state)
{
    (void)state;
    struct ct_exec *ex = tf_exec(CT_EXEC_MULTI_THREAD, 2);
    struct ct_reactor *r = ct_exec_reactor(ex);
    struct ct_tcp_stream *a, *b;
    stream_pair(&a, &b);
    char buf[32] = { 0 };
    struct ct_tcp_op op;
    struct ct_timeout t;
    ct_tcp_read_init(&op, b, buf, sizeof buf);
    ct_timeout_init(&t, &op.base, 20 * CT_NS_PER_MS);
    run(ex, &t.base);
    assert_int_equal(t.base.error, -ETIMEDOUT);
    assert_true(op.waits >= 1);
    assert_int_equal(ct_reactor_io_waiting(r), 0);

    /* half a line, then the deadline: the half stays in the stream */
    assert_int_equal(write(ct_tcp_fd(a), "par", 3), 3);
    ct_tcp_read_line_init(&op, b, buf, sizeof buf);
    ct_timeout_init(&t, &op.base, 20 * CT_NS_PER_MS);
    run(ex, &t.base);
    assert_int_equal(t.base.error, -ETIMEDOUT);
    assert_int_equal(ct_reactor_io_waiting(r), 0);
    assert_int_equal(write(ct_tcp_fd(a), "tial\n", 5), 5);
    ct_tcp_read_line_init(&op, b, buf, sizeof buf);
    ct_timeout_init(&t, &op.base, 10 * CT_NS_PER_S);
    run(ex, &t.base);
    assert_int_equal(t.base.error, 0);
    assert_int_equal(t.base.value, 8);
    assert_string_equal(buf, "partial\n");

    /* accept with nobody coming */
    struct ct_tcp_listener *l;
    assert_int_equal(ct_tcp_listen(&l, 0), 0);
    struct ct_tcp_accept acc;
    ct_tcp_accept_init(&acc, l);
    ct_timeout_init(&t, &acc.base, 20 * CT_NS_PER_MS);
    run(ex, &t.base);
    assert_int_equal(t.base.error, -ETIMEDOUT);
    assert_int_equal(ct_reactor_io_waiting(r), 0);
    ct_tcp_listener_close(l);
    ct_exec_free(ex);
    ct_tcp_close(a);
    ct_tcp_close(b);
}

/* A listener whose queue is full (backlog 0 and one connection waiting)
 * drops the next SYN: that connect stays in progress until the timeout
 * drops it, and its socket is closed. */
static void test_connect_timeout(void **state)
{
    (void)state;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(lfd, 0), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
    struct ct_exec *ex = tf_exec(CT_EXEC_MULTI_THREAD, 2);
    struct ct_tcp_connect first;
    ct_tcp_connect_init(&first, ntohs(a.sin_port));
    run(ex, &first.base);
    assert_int_equal(first.base.error, 0);
    struct ct_tcp_connect second;
    struct ct_timeout t;
    ct_tcp_connect_init(&second, ntohs(a.sin_port));
    ct_timeout_init(&t, &second.base, 50 * CT_NS_PER_MS);
    run(ex, &t.base);
    assert_int_equal(t.base.error, -ETIMEDOUT);
    assert_null(second.s);
    assert_int_equal(ct_reactor_io_waiting(ct_exec_reactor(ex)), 0);
    assert_int_equal(ct_reactor_io_registered(ct_exec_reactor(ex)), 0);
    ct_exec_free(ex);
    ct_tcp_close(ct_tcp_stream_of(&first.base));
    close(lfd);
}

/* By hand: drop a pending read, close the stream, reuse its number; the
 * old readiness reaches nobody. */
static void test_drop_pending_read_then_reuse(void **state)
{
    (void)state;
    struct ct_reactor r;
    assert_int_equal(ct_reactor_init(&r), 0);
    struct tf_waker wa, wb;
    tf_waker_init(&wa);
    tf_waker_init(&wb);
    wa.cx.reactor = wb.cx.reactor = &r;
    struct ct_tcp_stream *a, *b;
    stream_pair(&a, &b);
    char buf[8];
    struct ct_tcp_op op;
    ct_tcp_read_init(&op, a, buf, sizeof buf);
    assert_int_equal(ct_future_poll(&op.base, &wa.cx), CT_PENDING);
    assert_int_equal(ct_reactor_io_waiting(&r), 1);
    assert_int_equal(atomic_load(&wa.refs), 1);
    ct_future_drop(&op.base);
    assert_int_equal(ct_reactor_io_waiting(&r), 0);
    assert_int_equal(atomic_load(&wa.refs), 0);
    /* readiness now, for a stream nobody reads */
    assert_int_equal(write(ct_tcp_fd(b), "x", 1), 1);
    int old = ct_tcp_fd(a);
    ct_tcp_close(a);
    assert_int_equal(ct_reactor_io_registered(&r), 0);

    struct ct_tcp_stream *c, *d;
    stream_pair(&c, &d);
    assert_int_equal(ct_tcp_fd(c), old);
    ct_tcp_read_init(&op, c, buf, sizeof buf);
    assert_int_equal(ct_future_poll(&op.base, &wb.cx), CT_PENDING);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ct_reactor_turn(&r, 0), 0);
    assert_int_equal(atomic_load(&wa.wakes) + atomic_load(&wb.wakes), 0);
    assert_int_equal(write(ct_tcp_fd(d), "y", 1), 1);
    int woken = 0;
    for (int i = 0; i < 50 && !woken; i++)
        woken = ct_reactor_turn(&r, 100 * CT_NS_PER_MS);
    assert_int_equal(woken, 1);
    assert_int_equal(atomic_load(&wb.wakes), 1);
    assert_int_equal(ct_future_poll(&op.base, &wb.cx), CT_READY);
    assert_int_equal(op.base.value, 1);
    assert_int_equal(buf[0], 'y');
    ct_future_drop(&op.base);
    assert_int_equal(atomic_load(&wa.wakes), 0);
    assert_int_equal(atomic_load(&wb.refs), 0);

    /* a pending accept and a connect never polled: dropped, nothing left */
    struct ct_tcp_listener *l;
    assert_int_equal(ct_tcp_listen(&l, 0), 0);
    struct ct_tcp_accept acc;
    ct_tcp_accept_init(&acc, l);
    assert_int_equal(ct_future_poll(&acc.base, &wa.cx), CT_PENDING);
    struct ct_tcp_connect con;
    ct_tcp_connect_init(&con, ct_tcp_listener_port(l));
    ct_future_drop(&acc.base);
    ct_future_drop(&con.base);
    assert_int_equal(ct_reactor_io_waiting(&r), 0);
    assert_int_equal(atomic_load(&wa.refs), 0);
    ct_tcp_listener_close(l);
    ct_tcp_close(b);
    ct_tcp_close(c);
    ct_tcp_close(d);
    assert_int_equal(ct_reactor_io_registered(&r), 0);
    ct_reactor_destroy(&r);
}

/* ==== many connections ====================================================== */

/* Accepts `n` connections, one task each running the example's conn
 * (handles in h[]). */
struct acceptor {
    struct ct_future base;
    int pc;
    struct ct_tcp_listener *l;
    struct ct_tcp_accept acc;
    struct ct_join_handle *h;
    int n, accepted;
};

static enum ct_poll acceptor_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct acceptor *a = (struct acceptor *)f;
    CT_ASYNC_BEGIN(a->pc);
    while (a->accepted < a->n) {
        ct_tcp_accept_init(&a->acc, a->l);
        CT_AWAIT(a->pc, &a->acc.base, cx);
        if (a->acc.base.error) {
            f->error = a->acc.base.error;
            return CT_READY;
        }
        struct conn c = { .base = { .ops = &conn_ops }, .s = ct_tcp_stream_of(&a->acc.base) };
        int rc = ct_spawn(cx->exec, &c, &a->h[a->accepted]);
        if (rc) {
            f->error = rc;
            return CT_READY;
        }
        a->accepted++;
    }
    f->value = a->accepted;
    CT_ASYNC_END(a->pc);
    return CT_READY;
}

static void acceptor_drop(struct ct_future *f)
{
    ct_future_drop(&((struct acceptor *)f)->acc.base);
}

static const struct ct_future_ops acceptor_ops = { "acceptor", acceptor_poll, acceptor_drop };

static void test_many_connections(void **state)
{
    (void)state;
    const int n = CT_STRESS(500, 100), lines = CT_STRESS(20, 5);
    struct ct_exec *ex = tf_exec(CT_EXEC_MULTI_THREAD, 2);
    struct ct_tcp_listener *l;
    assert_int_equal(ct_tcp_listen(&l, 0), 0);
    struct ct_join_handle *hs = calloc((size_t)n, sizeof *hs);
    struct ct_join_handle *hc = calloc((size_t)n, sizeof *hc);
    struct acceptor acc = { .base = { .ops = &acceptor_ops }, .l = l, .h = hs, .n = n };
    struct ct_join_handle ha;
    assert_int_equal(ct_spawn(ex, &acc, &ha), 0);
    /* The listener joins the reactor at its first wait.  Let the acceptor
     * get there before any client connects; otherwise, if every accept
     * found a connection waiting, the count below would be 0. */
    struct ct_reactor *r = ct_exec_reactor(ex);
    int64_t deadline = ct_clock_ns() + 10 * CT_NS_PER_S;
    while (ct_reactor_io_waiting(r) == 0 && ct_clock_ns() < deadline)
        sched_yield();
    assert_int_equal(ct_reactor_io_waiting(r), 1);
    for (int i = 0; i < n; i++) {
        struct client c = client_new(ct_tcp_listener_port(l), i, lines);
        assert_int_equal(ct_spawn(ex, &c, &hc[i]), 0);
    }
    struct ct_await_all all;
    ct_await_all_init(&all, hc, (size_t)n);
    run(ex, &all.base);
    run(ex, &ha.base);
    assert_int_equal(ha.status, CT_JOIN_OK);
    assert_int_equal(ha.base.value, n);
    ct_await_all_init(&all, hs, (size_t)n);
    run(ex, &all.base);
    /* every connection task saw its client leave (end of file, no error);
     * every client got each of its lines back intact, in order: a line
     * lost, doubled or crossed with another connection's fails the count */
    long intact = 0;
    int ok = 0;
    for (int i = 0; i < n; i++) {
        ok += hc[i].status == CT_JOIN_OK && hs[i].status == CT_JOIN_OK;
        intact += hc[i].base.value;
        ct_future_drop(&hc[i].base);
        ct_future_drop(&hs[i].base);
    }
    assert_int_equal(ok, n);
    assert_int_equal(intact, (long)n * lines);
    assert_int_equal(ct_reactor_io_waiting(r), 0);
    assert_int_equal(ct_reactor_io_registered(r), 1);   /* the listener */
    ct_tcp_listener_close(l);
    assert_int_equal(ct_reactor_io_registered(r), 0);
    ct_exec_free(ex);
    free(hs);
    free(hc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FDS_TEST(test_listen_and_reuse_port),
        FDS_TEST(test_header_example),
        FDS_TEST(test_big_write_slow_reader_current_thread),
        FDS_TEST(test_big_write_slow_reader_multi_thread),
        FDS_TEST(test_read_exact_across_chunks),
        FDS_TEST(test_read_line_and_eof),
        FDS_TEST(test_read_after_read_line),
        FDS_TEST(test_connection_refused),
        FDS_TEST(test_write_to_closed_peer),
        FDS_TEST(test_read_timeout_loses_nothing),
        FDS_TEST(test_connect_timeout),
        FDS_TEST(test_drop_pending_read_then_reuse),
        FDS_TEST(test_many_connections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
