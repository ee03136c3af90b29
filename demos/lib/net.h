/* net.h - TCP on 127.0.0.1 for the executor: a listener, streams, and
 * futures to accept, connect, read and write.
 *
 * tokio's TcpListener and TcpStream in C.  Every descriptor is created
 * non-blocking and close-on-exec; an operation tries its system call at
 * once and, only on EAGAIN, parks its task in the reactor (reactor.h)
 * until the socket is ready.  No thread blocks on behalf of a connection,
 * so thousands of connections need no more threads than the executor has.
 * Only the loopback address is ever bound or dialled.
 *
 * A connection task, one per client (an echo server for lines):
 *
 *     struct conn {
 *         struct ct_future base;
 *         int pc;
 *         struct ct_tcp_stream *s;        // owned: closed by conn_drop
 *         struct ct_tcp_op op;            // the operation in flight
 *         char line[256];
 *     };
 *
 *     static enum ct_poll conn_poll(struct ct_future *f, struct ct_cx *cx)
 *     {
 *         struct conn *c = (struct conn *)f;
 *         CT_ASYNC_BEGIN(c->pc);
 *         for (;;) {
 *             ct_tcp_read_line_init(&c->op, c->s, c->line, sizeof c->line);
 *             CT_AWAIT(c->pc, &c->op.base, cx);
 *             if (c->op.base.error || c->op.base.value == 0)
 *                 break;                  // an error, or the client left
 *             ct_tcp_write_all_init(&c->op, c->s, c->line, (size_t)c->op.base.value);
 *             CT_AWAIT(c->pc, &c->op.base, cx);
 *             if (c->op.base.error)
 *                 break;
 *         }
 *         f->error = c->op.base.error;
 *         CT_ASYNC_END(c->pc);
 *         return CT_READY;
 *     }
 *
 *     static void conn_drop(struct ct_future *f)     // finished or cancelled
 *     {
 *         struct conn *c = (struct conn *)f;
 *         ct_future_drop(&c->op.base);    // nothing if already dropped
 *         ct_tcp_close(c->s);
 *     }
 *
 *     static const struct ct_future_ops conn_ops = { "conn", conn_poll, conn_drop };
 *
 * and the accept loop, in the server task's poll (acc is a struct
 * ct_tcp_accept member; the listener came from ct_tcp_listen):
 *
 *         for (;;) {
 *             ct_tcp_accept_init(&sv->acc, sv->listener);
 *             CT_AWAIT(sv->pc, &sv->acc.base, cx);
 *             if (sv->acc.base.error)
 *                 break;                  // e.g. -EMFILE
 *             struct conn c = { .base = { .ops = &conn_ops },
 *                               .s = ct_tcp_stream_of(&sv->acc.base) };
 *             ct_spawn(cx->exec, &c, NULL);   // on failure c is dropped: closed
 *         }
 *
 * The contract, from the user's side:
 *
 *  - Ownership.  Listeners and streams are heap objects owned by whoever
 *    holds the pointer, closed exactly once (ct_tcp_close(NULL) does
 *    nothing).  A finished accept or connect hands its stream over in its
 *    output (ct_tcp_stream_of); from then on the future's drop leaves it
 *    alone.  A connect dropped before it finished closes its half-made
 *    socket.  Futures borrow the stream or listener they were given: drop
 *    them before closing it.
 *  - One at a time.  A stream may have one pending read-side operation
 *    (read, read_exact, read_line) and one pending write_all at once,
 *    possibly in different tasks (a reader task and a writer task, like
 *    tokio's split); a listener one pending accept.
 *  - Order.  A write_all that completes has handed every byte to the
 *    kernel, in order; the peer may not have read them yet.  Bytes of
 *    consecutive write_alls reach the peer in the order written.  A read
 *    that completes with n has consumed exactly those n bytes and no
 *    more (read_line keeps what follows the newline for the next read).
 *    An accept or connect that completes has an established connection.
 *  - Dropping.  Dropping a pending operation removes its waker from the
 *    reactor before the drop returns.  A dropped pending accept, read or
 *    read_line has consumed nothing: try again later and nothing is lost
 *    (safe under ct_timeout and ct_select).  A dropped read_exact or
 *    write_all may have moved `done` bytes (into buf, or to the kernel).
 *  - Results: base.value and base.error.  0 bytes from read or read_line
 *    is end of file (the peer closed or shut down its writing side).
 *    Errors are negative errnos: -ECONNREFUSED (connect: nobody listens),
 *    -ECONNRESET or -EPIPE (the peer is gone), -ETIMEDOUT (only from a
 *    ct_timeout around the operation), -ENODATA (read_exact met end of
 *    file first), -EMSGSIZE (a line longer than the buffer or than
 *    CT_TCP_LINE_MAX), -EADDRINUSE (listen), -EMFILE (accept: out of
 *    descriptors), -EXDEV (a socket used from two executors).
 *  - Fairness.  An operation that never has to wait never yields: a task
 *    whose peer always has more for it keeps its worker.  Put a
 *    ct_yield (future.h) in such a loop if other tasks must run.
 */
#ifndef CT_NET_H
#define CT_NET_H

#include <stdbool.h>
#include <stddef.h>

#include "future.h"

/* The longest line read_line can return, newline included. */
#define CT_TCP_LINE_MAX 4096

struct ct_tcp_listener;
struct ct_tcp_stream;

/* ---- listener ----------------------------------------------------------- */

/* Listen on 127.0.0.1:`port` (0: an ephemeral port the kernel picks), with
 * SO_REUSEADDR, so a port freed a moment ago can be bound again.  0 or a
 * negative errno (-EINVAL for a port outside 0..65535, -EADDRINUSE). */
int ct_tcp_listen(struct ct_tcp_listener **out, int port);
/* The port it is bound to. */
int ct_tcp_listener_port(const struct ct_tcp_listener *l);
/* Stop listening and free it; NULL does nothing. */
void ct_tcp_listener_close(struct ct_tcp_listener *l);

/* ---- streams ------------------------------------------------------------ */

/* Adopt `fd`, a connected stream socket (a socketpair end, say): it is made
 * non-blocking and close-on-exec and belongs to the stream from now on.
 * 0, or a negative errno and `fd` is still the caller's. */
int ct_tcp_stream_from_fd(struct ct_tcp_stream **out, int fd);
/* Close and free; NULL does nothing. */
void ct_tcp_close(struct ct_tcp_stream *s);
/* Shut the writing side: the peer reads end of file after what was sent.
 * Reading goes on.  0 or a negative errno. */
int ct_tcp_shutdown_write(struct ct_tcp_stream *s);
/* TCP_NODELAY: send small writes at once instead of gathering them. */
int ct_tcp_set_nodelay(struct ct_tcp_stream *s, bool on);
/* Its descriptor (to inspect or tune it; do not read, write or close it). */
int ct_tcp_fd(const struct ct_tcp_stream *s);
/* The peer's port (0 if unknown, e.g. a socketpair). */
int ct_tcp_peer_port(const struct ct_tcp_stream *s);

/* ---- futures ------------------------------------------------------------ */

/* Accept one connection.  Output: value is the new stream (ct_tcp_stream_of),
 * now the caller's. */
struct ct_tcp_accept {
    struct ct_future base;
    struct ct_tcp_listener *l;
    bool waiting;               /* a waker of ours may be in the reactor */
};
void ct_tcp_accept_init(struct ct_tcp_accept *f, struct ct_tcp_listener *l);

/* Connect to 127.0.0.1:`port`.  Output: value is the new stream, now the
 * caller's; or -ECONNREFUSED and friends. */
struct ct_tcp_connect {
    struct ct_future base;
    int port;
    struct ct_tcp_stream *s;    /* the socket being connected, until handed over */
    bool waiting;
};
void ct_tcp_connect_init(struct ct_tcp_connect *f, int port);

/* The stream a finished accept or connect (or a timeout or select around
 * one) produced, or NULL if it failed. */
static inline struct ct_tcp_stream *ct_tcp_stream_of(const struct ct_future *f)
{
    return f->error ? NULL : (struct ct_tcp_stream *)f->value;
}

/* One operation on a stream.  One struct serves them all, so a connection
 * task can reuse one member for its reads and writes in turn.  Output:
 * value = bytes (see each init), error = 0 or a negative errno. */
struct ct_tcp_op {
    struct ct_future base;
    struct ct_tcp_stream *s;
    union {
        void *in;
        const void *out;
    } buf;
    size_t len;                 /* bytes asked for (read_line: the buffer's size) */
    size_t done;                /* bytes moved so far */
    unsigned waits;             /* times it parked for readiness */
    bool waiting;               /* a waker of ours may be in the reactor */
};

/* Read some bytes: ready with 1..len as soon as any are there, or 0 at end
 * of file (len 0: ready at once with 0).  Cancel-safe. */
void ct_tcp_read_init(struct ct_tcp_op *f, struct ct_tcp_stream *s, void *buf, size_t len);
/* Read exactly len bytes: value = len, or -ENODATA (value = bytes before
 * end of file) or another error. */
void ct_tcp_read_exact_init(struct ct_tcp_op *f, struct ct_tcp_stream *s, void *buf, size_t len);
/* Read one line, up to and including '\n', into buf (cap bytes, >= 2),
 * NUL-terminated.  value = its length with the newline; a last line that
 * end of file cut short comes without one; 0 = end of file.  A line longer
 * than cap - 1 or CT_TCP_LINE_MAX fails with -EMSGSIZE and is left unread.
 * Cancel-safe: a partial line waits in the stream. */
void ct_tcp_read_line_init(struct ct_tcp_op *f, struct ct_tcp_stream *s, char *buf, size_t cap);
/* Write all len bytes, however many system calls and waits it takes.
 * value = len, or an error (value = bytes handed over before it). */
void ct_tcp_write_all_init(struct ct_tcp_op *f, struct ct_tcp_stream *s, const void *buf,
                           size_t len);

#endif
