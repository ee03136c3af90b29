/* net.c - see net.h.
 *
 * Every operation has the same shape: take the direction's readiness tick,
 * try the system call, and on EAGAIN hand the tick to ct_io_wait(), which
 * parks the task unless an edge came in between (then: try again).
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "reactor.h"

struct ct_tcp_listener {
    struct ct_io io;
    int port;
};

struct ct_tcp_stream {
    struct ct_io io;
    int peer_port;
    /* bytes read from the socket but not yet given out: read_line reads
     * ahead, and the other reads take from here first.  The buffer
     * (CT_TCP_LINE_MAX bytes) exists only while read_line needs it: it is
     * freed whenever read_line parks with nothing in it, so an idle
     * connection costs this struct and not a page more. */
    size_t rpos, rlen;
    char *rbuf;
};

/* ---- waiting ------------------------------------------------------------- */

/* The call begun at tick `seen` said EAGAIN.  1: parked (return PENDING);
 * 0: an edge came meanwhile, try again; < 0: an error to finish with. */
static int park(struct ct_io *io, enum ct_io_dir dir, unsigned seen, struct ct_cx *cx,
                bool *waiting, unsigned *waits)
{
    int w = ct_io_wait(io, dir, seen, cx);
    if (w > 0) {
        *waiting = true;
        if (waits)
            (*waits)++;
    }
    return w;
}

/* Finished: a poll after a spurious wake-up may leave our waker in the
 * reactor; take it back so it cannot wake a later operation's task. */
static void unpark(struct ct_io *io, enum ct_io_dir dir, bool *waiting)
{
    if (*waiting)
        ct_io_cancel(io, dir);
    *waiting = false;
}

static bool would_block(int e)
{
    return e == EAGAIN || e == EWOULDBLOCK;
}

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/* ---- listener ----------------------------------------------------------- */

int ct_tcp_listen(struct ct_tcp_listener **out, int port)
{
    *out = NULL;
    if (port < 0 || port > 65535)
        return -EINVAL;
    struct ct_tcp_listener *l = malloc(sizeof *l);
    if (!l)
        return -ENOMEM;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int rc = -errno;
        free(l);
        return rc;
    }
    int one = 1;
    struct sockaddr_in a = loopback(port);
    socklen_t alen = sizeof a;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0
        || bind(fd, (struct sockaddr *)&a, sizeof a) != 0
        || listen(fd, SOMAXCONN) != 0
        || getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        int rc = -errno;
        close(fd);
        free(l);
        return rc;
    }
    ct_io_init(&l->io, fd);
    l->port = ntohs(a.sin_port);
    *out = l;
    return 0;
}

int ct_tcp_listener_port(const struct ct_tcp_listener *l)
{
    return l->port;
}

void ct_tcp_listener_close(struct ct_tcp_listener *l)
{
    if (!l)
        return;
    ct_io_deregister(&l->io);       /* before close: epoll names the number */
    close(l->io.fd);
    free(l);
}

/* ---- streams ------------------------------------------------------------ */

static struct ct_tcp_stream *stream_new(int fd, int peer_port)
{
    struct ct_tcp_stream *s = malloc(sizeof *s);
    if (!s)
        return NULL;
    ct_io_init(&s->io, fd);
    s->peer_port = peer_port;
    s->rpos = s->rlen = 0;
    s->rbuf = NULL;
    return s;
}

int ct_tcp_stream_from_fd(struct ct_tcp_stream **out, int fd)
{
    *out = NULL;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0
        || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
        return -errno;
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int peer = 0;
    if (getpeername(fd, (struct sockaddr *)&a, &alen) == 0 && a.sin_family == AF_INET)
        peer = ntohs(a.sin_port);
    *out = stream_new(fd, peer);
    return *out ? 0 : -ENOMEM;
}

void ct_tcp_close(struct ct_tcp_stream *s)
{
    if (!s)
        return;
    ct_io_deregister(&s->io);
    close(s->io.fd);
    free(s->rbuf);
    free(s);
}

int ct_tcp_shutdown_write(struct ct_tcp_stream *s)
{
    return shutdown(s->io.fd, SHUT_WR) == 0 ? 0 : -errno;
}

int ct_tcp_set_nodelay(struct ct_tcp_stream *s, bool on)
{
    int v = on;
    return setsockopt(s->io.fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) == 0 ? 0 : -errno;
}

int ct_tcp_fd(const struct ct_tcp_stream *s)
{
    return s->io.fd;
}

int ct_tcp_peer_port(const struct ct_tcp_stream *s)
{
    return s->peer_port;
}

/* ---- accept -------------------------------------------------------------- */

static enum ct_poll accept_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct ct_tcp_accept *a = (struct ct_tcp_accept *)f;
    struct ct_io *io = &a->l->io;
    for (;;) {
        unsigned seen = ct_io_ticks(io, CT_IO_READ);
        struct sockaddr_in peer;
        socklen_t plen = sizeof peer;
        int fd = accept4(io->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            struct ct_tcp_stream *s = stream_new(fd, ntohs(peer.sin_port));
            if (!s) {
                close(fd);
                f->error = -ENOMEM;
            }
            f->value = (intptr_t)s;
            break;
        }
        /* a client that gave up while queued is no reason to stop */
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (!would_block(errno)) {
            f->error = -errno;
            break;
        }
        int w = park(io, CT_IO_READ, seen, cx, &a->waiting, NULL);
        if (w > 0)
            return CT_PENDING;
        if (w < 0) {
            f->error = w;
            break;
        }
    }
    unpark(io, CT_IO_READ, &a->waiting);
    return CT_READY;
}

static void accept_drop(struct ct_future *f)
{
    struct ct_tcp_accept *a = (struct ct_tcp_accept *)f;
    unpark(&a->l->io, CT_IO_READ, &a->waiting);
}

static const struct ct_future_ops accept_ops = { "tcp accept", accept_poll, accept_drop };

void ct_tcp_accept_init(struct ct_tcp_accept *f, struct ct_tcp_listener *l)
{
    *f = (struct ct_tcp_accept){ .base = { .ops = &accept_ops }, .l = l };
}

/* ---- connect ------------------------------------------------------------- */

/* Create the socket and start connecting: 1 connected already, 0 in
 * progress, or a negative errno (nothing left open). */
static int connect_start(struct ct_tcp_connect *c)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    c->s = stream_new(fd, c->port);
    if (!c->s) {
        close(fd);
        return -ENOMEM;
    }
    struct sockaddr_in a = loopback(c->port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
        return 1;
    /* EINTR: the connection goes on in the background, as EINPROGRESS */
    if (errno == EINPROGRESS || errno == EINTR)
        return 0;
    int rc = -errno;
    ct_tcp_close(c->s);
    c->s = NULL;
    return rc;
}

/* Where the connection stands: 1 established, 0 still in progress, or the
 * error it failed with. */
static int connect_state(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        return -errno;
    if (err)
        return -err;
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    if (getpeername(fd, (struct sockaddr *)&a, &alen) == 0)
        return 1;
    return errno == ENOTCONN ? 0 : -errno;
}

static enum ct_poll connect_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct ct_tcp_connect *c = (struct ct_tcp_connect *)f;
    int st;
    if (!c->s) {
        st = connect_start(c);
        if (st < 0) {
            f->error = st;
            return CT_READY;
        }
    } else {
        st = 0;
    }
    while (st == 0) {
        /* connecting ends with the socket writable (or in error) */
        unsigned seen = ct_io_ticks(&c->s->io, CT_IO_WRITE);
        st = connect_state(c->s->io.fd);
        if (st != 0)
            break;
        int w = park(&c->s->io, CT_IO_WRITE, seen, cx, &c->waiting, NULL);
        if (w > 0)
            return CT_PENDING;
        st = w;                 /* 0: retry; < 0: give up */
    }
    unpark(&c->s->io, CT_IO_WRITE, &c->waiting);
    if (st < 0) {
        f->error = st;
        ct_tcp_close(c->s);
    } else {
        f->value = (intptr_t)c->s;      /* handed over */
    }
    c->s = NULL;
    return CT_READY;
}

static void connect_drop(struct ct_future *f)
{
    struct ct_tcp_connect *c = (struct ct_tcp_connect *)f;
    /* still ours: it never finished connecting */
    ct_tcp_close(c->s);         /* deregisters, waker included */
    c->s = NULL;
}

static const struct ct_future_ops connect_ops = { "tcp connect", connect_poll, connect_drop };

void ct_tcp_connect_init(struct ct_tcp_connect *f, int port)
{
    *f = (struct ct_tcp_connect){ .base = { .ops = &connect_ops }, .port = port };
}

/* ---- reading ------------------------------------------------------------- */

/* Move up to `len` read-ahead bytes into `dst`; returns how many. */
static size_t take_buffered(struct ct_tcp_stream *s, void *dst, size_t len)
{
    size_t n = s->rlen - s->rpos;
    if (n > len)
        n = len;
    if (n == 0)
        return 0;               /* the buffer may not even exist */
    memcpy(dst, s->rbuf + s->rpos, n);
    s->rpos += n;
    if (s->rpos == s->rlen)
        s->rpos = s->rlen = 0;
    return n;
}

/* One step of a read-side operation that needs more bytes: recv() into
 * dst, or park.  Returns > 0 bytes, 0 end of file, or one of: */
#define STEP_PENDING (-1000000)     /* parked: return CT_PENDING */
#define STEP_RETRY   (-1000001)     /* an edge came: call again */
static ssize_t recv_step(struct ct_tcp_op *op, void *dst, size_t len, struct ct_cx *cx)
{
    struct ct_io *io = &op->s->io;
    unsigned seen = ct_io_ticks(io, CT_IO_READ);
    ssize_t n = recv(io->fd, dst, len, 0);
    if (n >= 0)
        return n;
    if (errno == EINTR)
        return STEP_RETRY;
    if (!would_block(errno))
        return -errno;
    int w = park(io, CT_IO_READ, seen, cx, &op->waiting, &op->waits);
    return w > 0 ? STEP_PENDING : w == 0 ? STEP_RETRY : w;
}

/* Finish a read-side operation with `value` and `error`. */
static enum ct_poll read_done(struct ct_tcp_op *op, intptr_t value, int error)
{
    unpark(&op->s->io, CT_IO_READ, &op->waiting);
    op->base.value = value;
    op->base.error = error;
    return CT_READY;
}

static enum ct_poll read_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct ct_tcp_op *op = (struct ct_tcp_op *)f;
    if (op->len == 0)
        return read_done(op, 0, 0);
    if (op->s->rlen > op->s->rpos) {
        op->done = take_buffered(op->s, op->buf.in, op->len);
        return read_done(op, (intptr_t)op->done, 0);
    }
    for (;;) {
        ssize_t n = recv_step(op, op->buf.in, op->len, cx);
        if (n == STEP_PENDING)
            return CT_PENDING;
        if (n == STEP_RETRY)
            continue;
        if (n < 0)
            return read_done(op, 0, (int)n);
        op->done = (size_t)n;
        return read_done(op, n, 0);
    }
}

static enum ct_poll read_exact_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct ct_tcp_op *op = (struct ct_tcp_op *)f;
    char *buf = op->buf.in;
    if (op->done < op->len && op->s->rlen > op->s->rpos)
        op->done += take_buffered(op->s, buf + op->done, op->len - op->done);
    while (op->done < op->len) {
        ssize_t n = recv_step(op, buf + op->done, op->len - op->done, cx);
        if (n == STEP_PENDING)
            return CT_PENDING;
        if (n == STEP_RETRY)
            continue;
        if (n <= 0)
            return read_done(op, (intptr_t)op->done, n == 0 ? -ENODATA : (int)n);
        op->done += (size_t)n;
    }
    return read_done(op, (intptr_t)op->done, 0);
}

/* Give out the first `n` read-ahead bytes as a NUL-terminated line. */
static enum ct_poll line_done(struct ct_tcp_op *op, size_t n)
{
    char *buf = op->buf.in;
    take_buffered(op->s, buf, n);
    buf[n] = '\0';
    op->done = n;
    return read_done(op, (intptr_t)n, 0);
}

/* The line is gathered in the stream's read-ahead buffer and copied out
 * only once complete, so a dropped read_line loses nothing. */
static enum ct_poll read_line_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct ct_tcp_op *op = (struct ct_tcp_op *)f;
    struct ct_tcp_stream *s = op->s;
    if (op->len < 2)
        return read_done(op, 0, -EINVAL);
    size_t max = op->len - 1 < CT_TCP_LINE_MAX ? op->len - 1 : CT_TCP_LINE_MAX;
    for (;;) {
        size_t have = s->rlen - s->rpos;
        const char *nl = have ? memchr(s->rbuf + s->rpos, '\n', have) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - (s->rbuf + s->rpos)) + 1;
            return n > max ? read_done(op, 0, -EMSGSIZE) : line_done(op, n);
        }
        if (have >= max)
            return read_done(op, 0, -EMSGSIZE);
        if (s->rpos > 0) {      /* room at the end for what comes next */
            memmove(s->rbuf, s->rbuf + s->rpos, have);
            s->rpos = 0;
            s->rlen = have;
        }
        if (!s->rbuf && !(s->rbuf = malloc(CT_TCP_LINE_MAX)))
            return read_done(op, 0, -ENOMEM);
        ssize_t n = recv_step(op, s->rbuf + s->rlen, CT_TCP_LINE_MAX - s->rlen, cx);
        if (n == STEP_PENDING) {
            if (s->rlen == 0) { /* nothing kept: give the buffer back while idle */
                free(s->rbuf);
                s->rbuf = NULL;
            }
            return CT_PENDING;
        }
        if (n == STEP_RETRY)
            continue;
        if (n < 0)
            return read_done(op, 0, (int)n);
        if (n == 0)             /* end of file: what is left is the last line */
            return line_done(op, have);
        s->rlen += (size_t)n;
    }
}

static void read_drop(struct ct_future *f)
{
    struct ct_tcp_op *op = (struct ct_tcp_op *)f;
    unpark(&op->s->io, CT_IO_READ, &op->waiting);
}

static const struct ct_future_ops read_ops = { "tcp read", read_poll, read_drop };
static const struct ct_future_ops read_exact_ops = { "tcp read_exact", read_exact_poll, read_drop };
static const struct ct_future_ops read_line_ops = { "tcp read_line", read_line_poll, read_drop };

static void op_init(struct ct_tcp_op *f, const struct ct_future_ops *ops,
                    struct ct_tcp_stream *s, void *in, size_t len)
{
    *f = (struct ct_tcp_op){ .base = { .ops = ops }, .s = s, .buf.in = in, .len = len };
}

void ct_tcp_read_init(struct ct_tcp_op *f, struct ct_tcp_stream *s, void *buf, size_t len)
{
    op_init(f, &read_ops, s, buf, len);
}

void ct_tcp_read_exact_init(struct ct_tcp_op *f, struct ct_tcp_stream *s, void *buf, size_t len)
{
    op_init(f, &read_exact_ops, s, buf, len);
}

void ct_tcp_read_line_init(struct ct_tcp_op *f, struct ct_tcp_stream *s, char *buf, size_t cap)
{
    op_init(f, &read_line_ops, s, buf, cap);
}

/* ---- writing ------------------------------------------------------------- */

static enum ct_poll write_all_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct ct_tcp_op *op = (struct ct_tcp_op *)f;
    struct ct_io *io = &op->s->io;
    const char *buf = op->buf.out;
    int err = 0;
    while (op->done < op->len) {
        unsigned seen = ct_io_ticks(io, CT_IO_WRITE);
        /* MSG_NOSIGNAL: a peer that has gone is -EPIPE, not SIGPIPE */
        ssize_t n = send(io->fd, buf + op->done, op->len - op->done, MSG_NOSIGNAL);
        if (n >= 0) {
            op->done += (size_t)n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (!would_block(errno)) {
            err = -errno;
            break;
        }
        int w = park(io, CT_IO_WRITE, seen, cx, &op->waiting, &op->waits);
        if (w > 0)
            return CT_PENDING;
        if (w < 0) {
            err = w;
            break;
        }
    }
    unpark(io, CT_IO_WRITE, &op->waiting);
    f->value = (intptr_t)op->done;
    f->error = err;
    return CT_READY;
}

static void write_drop(struct ct_future *f)
{
    struct ct_tcp_op *op = (struct ct_tcp_op *)f;
    unpark(&op->s->io, CT_IO_WRITE, &op->waiting);
}

static const struct ct_future_ops write_all_ops = { "tcp write_all", write_all_poll, write_drop };

void ct_tcp_write_all_init(struct ct_tcp_op *f, struct ct_tcp_stream *s, const void *buf,
                           size_t len)
{
    op_init(f, &write_all_ops, s, NULL, len);
    f->buf.out = buf;
}
