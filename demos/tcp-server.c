/* tcp-server.c - demo `tcp-server`: one line-protocol server written twice,
 * as one task per connection on the executor and as one thread per
 * connection, each run in a process of its own on 127.0.0.1 and loaded by
 * the same concurrent clients.
 *
 * Shows: `clients` connections opened at once against each server; after
 * every client has said HELLO (so each connection has its task or thread)
 * the demo reads the server's threads and memory from /proc, then the
 * fast clients send `requests` PINGs each, one at a time, and time every
 * answer.  `slow` of the clients dribble their PING one byte every 100 ms
 * meanwhile.  Rounds with and without the slow clients alternate, `reps`
 * of each; figures are medians.  The server processes count what they did
 * (a STATS request on a control connection) so every reply is accounted.
 * Watch for: requests/s and p99 of the two servers, threads and KiB per
 * connection, and the fast clients' p99 with and without the slow ones.
 * Lesson: concurrent-server (chapter 8).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"
#include "aevent.h"
#include "clock.h"
#include "combinators.h"
#include "exec.h"
#include "net.h"
#include "stats.h"
#include "tasks.h"
#include "text.h"

#define LINE_CAP 128            /* a request line, newline included, is shorter */
#define REPLY_CAP 160
#define SLOW_BASE 100000000     /* slow clients PING numbers from here */
#define SLOW_GAP_MS 100         /* a slow client's pause between bytes */
#define MAX_REPS 20
#define FD_SPARE 64             /* descriptors beyond one per client */
#define KIB 1024.0

enum { EXECUTOR, THREADS, NSERVERS };
static const char *const server_name[NSERVERS] = { "executor", "threads" };

/* ==== the protocol, the same for both servers ============================ */

/* What a server process counts; one server per process. */
static struct {
    atomic_int open, peak;
    atomic_llong accepted, pings, errors;
} sv;

static void conn_opened(void)
{
    atomic_fetch_add(&sv.accepted, 1);
    ct_atomic_max(&sv.peak, atomic_fetch_add(&sv.open, 1) + 1);
}

static void conn_closed(void)
{
    atomic_fetch_sub(&sv.open, 1);
}

/* "PING <digits>": the number, or -1. */
static long long ping_number(const char *s, size_t len)
{
    if (len < 6 || len > 24 || memcmp(s, "PING ", 5) != 0)
        return -1;
    long long v = 0;
    for (size_t i = 5; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* The reply to one request line (`len` bytes, its newline included) in
 * `out`; returns its length.  *bye: close the connection after it. */
static size_t answer(const char *line, size_t len, char *out, size_t cap, bool *bye)
{
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    long long n = ping_number(line, len);
    *bye = false;
    int w;
    if (n >= 0) {
        atomic_fetch_add(&sv.pings, 1);
        w = snprintf(out, cap, "PONG %lld\n", n);
    } else if (len == 5 && memcmp(line, "HELLO", 5) == 0) {
        w = snprintf(out, cap, "HI\n");
    } else if (len == 5 && memcmp(line, "STATS", 5) == 0) {
        w = snprintf(out, cap, "STATS open=%d peak=%d accepted=%lld pings=%lld errors=%lld\n",
                     atomic_load(&sv.open), atomic_load(&sv.peak), atomic_load(&sv.accepted),
                     atomic_load(&sv.pings), atomic_load(&sv.errors));
    } else if (len == 4 && memcmp(line, "QUIT", 4) == 0) {
        *bye = true;
        w = snprintf(out, cap, "BYE\n");
    } else {
        atomic_fetch_add(&sv.errors, 1);
        w = snprintf(out, cap, "ERR unknown request\n");
    }
    return (size_t)w < cap ? (size_t)w : cap - 1;
}

static size_t too_long(char *out, size_t cap)
{
    atomic_fetch_add(&sv.errors, 1);
    return (size_t)snprintf(out, cap, "ERR line too long\n");
}

/* ==== server 1: one task per connection ================================== */

struct xconn {
    struct ct_future base;
    int pc;
    bool bye;
    int streak;                 /* answers in a row that never had to wait */
    struct ct_tcp_stream *s;    /* owned: closed by the drop */
    struct ct_tcp_op op;
    struct ct_yield yield;
    size_t outlen;
    char line[LINE_CAP];
    char out[REPLY_CAP];
};

static enum ct_poll xconn_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct xconn *c = (struct xconn *)f;
    CT_ASYNC_BEGIN(c->pc);
    for (;;) {
        ct_tcp_read_line_init(&c->op, c->s, c->line, sizeof c->line);
        CT_AWAIT(c->pc, &c->op.base, cx);
        if (c->op.base.error == -EMSGSIZE) {
            c->outlen = too_long(c->out, sizeof c->out);
            c->bye = true;
        } else if (c->op.base.error || c->op.base.value == 0 ||
                   c->line[c->op.base.value - 1] != '\n') {
            break;              /* reset, or the client closed (mid-line, maybe) */
        } else {
            c->outlen = answer(c->line, (size_t)c->op.base.value, c->out, sizeof c->out,
                               &c->bye);
        }
        c->streak = c->op.waits ? 0 : c->streak + 1;
        ct_tcp_write_all_init(&c->op, c->s, c->out, c->outlen);
        CT_AWAIT(c->pc, &c->op.base, cx);
        if (c->op.base.error || c->bye)
            break;
        if (c->streak >= 32) {  /* a client that never lets us wait: let others run */
            c->streak = 0;
            ct_yield_init(&c->yield);
            CT_AWAIT(c->pc, &c->yield.base, cx);
        }
    }
    CT_ASYNC_END(c->pc);
    return CT_READY;
}

static void xconn_drop(struct ct_future *f)
{
    struct xconn *c = (struct xconn *)f;
    ct_future_drop(&c->op.base);
    ct_future_drop(&c->yield.base);
    ct_tcp_close(c->s);
    conn_closed();
}

static const struct ct_future_ops xconn_ops = { "connection", xconn_poll, xconn_drop };

struct xaccept {
    struct ct_future base;
    int pc;
    struct ct_tcp_listener *l; /* owned: closed by the drop */
    struct ct_tcp_accept acc;
    struct ct_sleep pause;
};

static bool out_of_something(int e)
{
    return e == -EMFILE || e == -ENFILE || e == -ENOMEM || e == -ENOBUFS;
}

/* The accept loop: one task spawned per connection. */
static enum ct_poll xaccept_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct xaccept *a = (struct xaccept *)f;
    CT_ASYNC_BEGIN(a->pc);
    for (;;) {
        ct_tcp_accept_init(&a->acc, a->l);
        CT_AWAIT(a->pc, &a->acc.base, cx);
        if (out_of_something(a->acc.base.error)) {
            atomic_fetch_add(&sv.errors, 1);    /* back off; the client waits in the queue */
            ct_sleep_init(&a->pause, 10 * CT_NS_PER_MS);
            CT_AWAIT(a->pc, &a->pause.base, cx);
            continue;
        }
        if (a->acc.base.error) {
            f->error = a->acc.base.error;
            break;
        }
        struct xconn c = { .base = { .ops = &xconn_ops },
                           .s = ct_tcp_stream_of(&a->acc.base) };
        ct_tcp_set_nodelay(c.s, true);
        conn_opened();
        if (ct_spawn(cx->exec, &c, NULL) != 0)
            atomic_fetch_add(&sv.errors, 1);    /* c was dropped: closed and counted */
    }
    CT_ASYNC_END(a->pc);
    return CT_READY;
}

static void xaccept_drop(struct ct_future *f)
{
    struct xaccept *a = (struct xaccept *)f;
    ct_future_drop(&a->acc.base);
    ct_future_drop(&a->pause.base);
    ct_tcp_listener_close(a->l);
}

static const struct ct_future_ops xaccept_ops = { "accept loop", xaccept_poll, xaccept_drop };

static int xserver_start(int port, int workers, struct ct_exec **ex, int *bound)
{
    struct ct_exec_config cfg = { .flavor = CT_EXEC_MULTI_THREAD, .workers = workers };
    int rc = ct_exec_new(ex, &cfg);
    if (rc)
        return rc;
    struct xaccept a = { .base = { .ops = &xaccept_ops } };
    if ((rc = ct_tcp_listen(&a.l, port)) == 0) {
        *bound = ct_tcp_listener_port(a.l);
        rc = ct_spawn(*ex, &a, NULL);
    }
    if (rc) {
        ct_exec_free(*ex);
        *ex = NULL;
    }
    return rc;
}

/* ==== server 2: one thread per connection ================================ */

static struct {
    int lfd;
    atomic_bool stop;
    pthread_t acceptor;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int live;                   /* connection threads not yet finished */
} ts = { .lfd = -1, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN && !atomic_load(&ts.stop))
            continue;           /* the send timeout: look at the stop flag */
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One client, start to end, with blocking calls.  The socket's 100 ms
 * timeouts only let the thread see the stop flag. */
static void *tconn_main(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[LINE_CAP], out[REPLY_CAP];
    size_t have = 0;
    bool bye = false;
    while (!bye) {
        char *nl = memchr(buf, '\n', have);
        if (!nl && have >= sizeof buf - 1) {
            size_t m = too_long(out, sizeof out);
            send_all(fd, out, m);
            break;
        }
        if (!nl) {
            ssize_t n = recv(fd, buf + have, sizeof buf - 1 - have, 0);
            if (n > 0)
                have += (size_t)n;
            else if (n == 0 || (errno != EINTR && errno != EAGAIN) || atomic_load(&ts.stop))
                break;
            continue;
        }
        size_t len = (size_t)(nl - buf) + 1;
        size_t m = answer(buf, len, out, sizeof out, &bye);
        if (send_all(fd, out, m) != 0)
            break;
        memmove(buf, buf + len, have - len);
        have -= len;
    }
    close(fd);
    conn_closed();
    pthread_mutex_lock(&ts.mu);
    if (--ts.live == 0)
        pthread_cond_broadcast(&ts.cv);
    pthread_mutex_unlock(&ts.mu);
    return NULL;
}

static void tserver_spawn(int fd)
{
    struct timeval tv = { 0, 100000 };
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn_opened();
    pthread_mutex_lock(&ts.mu);
    ts.live++;
    pthread_mutex_unlock(&ts.mu);
    pthread_attr_t attr;
    pthread_t t;
    int rc = pthread_attr_init(&attr);
    if (rc == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        rc = pthread_create(&t, &attr, tconn_main, (void *)(intptr_t)fd);
        pthread_attr_destroy(&attr);
    }
    if (rc != 0) {              /* no thread, no service: as tconn_main would end */
        atomic_fetch_add(&sv.errors, 1);
        close(fd);
        conn_closed();
        pthread_mutex_lock(&ts.mu);
        ts.live--;
        pthread_mutex_unlock(&ts.mu);
    }
}

/* The accept loop: one thread started per connection. */
static void *tacceptor_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&ts.stop)) {
        struct pollfd p = { .fd = ts.lfd, .events = POLLIN };
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept4(ts.lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) {
            tserver_spawn(fd);
        } else if (out_of_something(-errno)) {
            atomic_fetch_add(&sv.errors, 1);
            struct timespec pause = { 0, 10 * CT_NS_PER_MS };
            nanosleep(&pause, NULL);
        }
    }
    return NULL;
}

static int tserver_start(int port, int *bound)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, SOMAXCONN) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    *bound = ntohs(a.sin_port);
    ts.lfd = fd;
    int rc = pthread_create(&ts.acceptor, NULL, tacceptor_main, NULL);
    if (rc) {
        close(fd);
        ts.lfd = -1;
    }
    return -rc;
}

/* Stop accepting, then wait (boundedly) for every connection thread. */
static int tserver_stop(void)
{
    atomic_store(&ts.stop, true);
    pthread_join(ts.acceptor, NULL);
    close(ts.lfd);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    int rc = 0;
    pthread_mutex_lock(&ts.mu);
    while (ts.live > 0 && rc == 0)
        rc = pthread_cond_timedwait(&ts.cv, &ts.mu, &until);
    int left = ts.live;
    pthread_mutex_unlock(&ts.mu);
    return left;
}

/* ==== the server process ================================================= */

/* `__child tcp-server KIND PORT WORKERS PARENT`: serve until SIGTERM (or
 * until the parent is gone), then print the counts and exit. */
static int server_child(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[0], "executor") != 0 && strcmp(argv[0], "threads") != 0)) {
        fprintf(stderr, "usage: __child tcp-server executor|threads PORT WORKERS PARENT\n");
        return 2;
    }
    bool threads = strcmp(argv[0], "threads") == 0;
    int port = atoi(argv[1]), workers = atoi(argv[2]);
    pid_t parent = (pid_t)atol(argv[3]);
    prctl(PR_SET_PDEATHSIG, SIGKILL);   /* never outlive the demo */
    if (getppid() != parent)
        return 1;
    /* Ctrl-C is the demo's to handle (it stops or kills us); dying of it
     * here would only race the demo's own cancel with a reset connection */
    signal(SIGINT, SIG_IGN);
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &term, NULL);    /* every thread inherits it */
    struct ct_exec *ex = NULL;
    int bound = 0;
    int rc = threads ? tserver_start(port, &bound) : xserver_start(port, workers, &ex, &bound);
    if (rc) {
        printf("error %d %s\n", -rc, strerror(-rc));
        return 1;
    }
    printf("listening %d\n", bound);
    fflush(stdout);
    for (;;) {
        struct timespec slice = { 0, 200 * CT_NS_PER_MS };
        if (sigtimedwait(&term, NULL, &slice) == SIGTERM || getppid() != parent)
            break;
    }
    int left = 0;
    if (threads)
        left = tserver_stop();
    else
        ct_exec_free(ex);       /* drops the accept loop and every connection */
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    printf("stopped open=%d accepted=%lld pings=%lld errors=%lld left=%d cpu_ms=%.1f\n",
           atomic_load(&sv.open), atomic_load(&sv.accepted), atomic_load(&sv.pings),
           atomic_load(&sv.errors), left, cpu_ms);
    fflush(stdout);
    return left == 0 ? 0 : 1;
}

/* ==== the demo's side: the server process, seen from outside ============= */

struct remote_stats {
    int open, peak;
    long long accepted, pings, errors;
};

/* Bounded, blocking socket calls for the control connection. */
static int ctl_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct timeval tv = { 2, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

static int ctl_stats(int fd, struct remote_stats *st)
{
    if (send(fd, "STATS\n", 6, MSG_NOSIGNAL) != 6)
        return -EIO;
    char line[256];
    size_t have = 0;
    while (have < sizeof line - 1 && !memchr(line, '\n', have)) {
        ssize_t n = recv(fd, line + have, sizeof line - 1 - have, 0);
        if (n <= 0)
            return n == 0 ? -ECONNRESET : -errno;
        have += (size_t)n;
    }
    line[have] = '\0';
    return sscanf(line, "STATS open=%d peak=%d accepted=%lld pings=%lld errors=%lld", &st->open,
                  &st->peak, &st->accepted, &st->pings, &st->errors) == 5 ? 0 : -EPROTO;
}

/* Wait until only the control connection is open at the server. */
static int ctl_drained(struct ct_run *run, int fd, struct remote_stats *st)
{
    int64_t until = ct_clock_ns() + 10 * CT_NS_PER_S;
    for (;;) {
        int rc = ctl_stats(fd, st);
        if (rc || st->open == 1)
            return rc;
        if (ct_cancelled(run))
            return -ECANCELED;
        if (ct_clock_ns() > until)
            return -ETIMEDOUT;
        struct timespec ms = { 0, CT_NS_PER_MS };
        nanosleep(&ms, NULL);
    }
}

struct proc_snap {
    long long rss, vm, threads, kstack;     /* bytes, bytes, count, bytes */
};

static long long status_field(const char *path, const char *field)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[256];
    long long v = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            char *end;
            v = strtoll(line + n + 1, &end, 10);
            if (strstr(end, "kB"))
                v *= 1024;
            break;
        }
    }
    fclose(f);
    return v;
}

static struct proc_snap proc_snap(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    return (struct proc_snap){ status_field(path, "VmRSS"), status_field(path, "VmSize"),
                               status_field(path, "Threads"),
                               status_field("/proc/meminfo", "KernelStack") };
}

/* ==== the clients ======================================================== */

#define MAX_ROUNDS (2 * MAX_REPS)

/* One round of requests, as the clients see it. */
struct round {
    bool with_slow;             /* do the slow clients dribble this round? */
    struct ct_aevent go, done, stop, slow_done;
    atomic_int finished, slow_finished;     /* clients through this round */
    atomic_llong pongs, slow_pongs, bad;
    atomic_llong done_ns;       /* when the last fast client finished */
    double *lat;                /* fast * requests answer times, us; < 0 unset */
};

/* What one server's clients share.  They connect once and stay connected
 * for every round. */
struct load {
    int port, fast, slow, requests, nrounds;
    atomic_int settled;         /* clients greeted, or failed to be */
    atomic_int failed;          /* clients that could not finish */
    atomic_int first_error;
    atomic_llong connected_ns;
    struct ct_aevent all_ready;
    struct round round[MAX_ROUNDS];
};

static void client_settled(struct load *ld)
{
    if (atomic_fetch_add(&ld->settled, 1) + 1 == ld->fast + ld->slow) {
        atomic_store(&ld->connected_ns, ct_clock_ns());
        ct_aevent_set(&ld->all_ready);
    }
}

static void fast_finished(struct load *ld, int k)
{
    struct round *r = &ld->round[k];
    if (atomic_fetch_add(&r->finished, 1) + 1 == ld->fast) {
        atomic_store(&r->done_ns, ct_clock_ns());
        ct_aevent_set(&r->done);
    }
}

static void slow_finished(struct load *ld, int k)
{
    struct round *r = &ld->round[k];
    if (atomic_fetch_add(&r->slow_finished, 1) + 1 == ld->slow)
        ct_aevent_set(&r->slow_done);
}

/* async fn greet(port) -> stream: connect, send HELLO, expect HI. */
struct greet {
    struct ct_future base;
    int pc, port;
    struct ct_tcp_connect conn;
    struct ct_tcp_stream *s;    /* ours until handed over as the output */
    struct ct_tcp_op op;
    char line[32];
};

static enum ct_poll greet_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct greet *g = (struct greet *)f;
    CT_ASYNC_BEGIN(g->pc);
    ct_tcp_connect_init(&g->conn, g->port);
    CT_AWAIT(g->pc, &g->conn.base, cx);
    if (!(g->s = ct_tcp_stream_of(&g->conn.base))) {
        f->error = g->conn.base.error;
        return CT_READY;
    }
    ct_tcp_set_nodelay(g->s, true);
    ct_tcp_write_all_init(&g->op, g->s, "HELLO\n", 6);
    CT_AWAIT(g->pc, &g->op.base, cx);
    if (!g->op.base.error) {
        ct_tcp_read_line_init(&g->op, g->s, g->line, sizeof g->line);
        CT_AWAIT(g->pc, &g->op.base, cx);
    }
    if (g->op.base.error || strcmp(g->line, "HI\n") != 0) {
        f->error = g->op.base.error ? g->op.base.error : -EPROTO;
        return CT_READY;
    }
    f->value = (intptr_t)g->s;
    g->s = NULL;
    CT_ASYNC_END(g->pc);
    return CT_READY;
}

static void greet_drop(struct ct_future *f)
{
    struct greet *g = (struct greet *)f;
    ct_future_drop(&g->conn.base);
    ct_future_drop(&g->op.base);
    ct_tcp_close(g->s);
}

static const struct ct_future_ops greet_ops = { "greet", greet_poll, greet_drop };

struct client {
    struct ct_future base;
    int pc, id, k, i;           /* k: the round it is in */
    bool slow, stopping;
    size_t len, sent;
    int64_t t0;
    struct load *ld;
    struct greet g;
    struct ct_tcp_stream *s;    /* owned: closed by the drop */
    struct ct_tcp_op op;
    struct ct_aevent_wait wait;
    struct ct_timeout to;
    char req[32], line[64];
};

#define ROUND(c) (&(c)->ld->round[(c)->k])

/* A client that gives up counts as through this round and every later
 * one, so that nobody waits for it. */
static enum ct_poll client_failed(struct client *c, int err, bool settled)
{
    struct load *ld = c->ld;
    atomic_fetch_add(&ld->failed, 1);
    atomic_store(&ld->first_error, err ? err : -EPROTO);
    if (!settled)
        client_settled(ld);
    for (int k = c->k; k < ld->nrounds; k++) {
        if (!c->slow)
            fast_finished(ld, k);
        else if (ld->round[k].with_slow)
            slow_finished(ld, k);
    }
    return CT_READY;
}

static bool pong_matches(const struct client *c)
{
    char want[48];
    snprintf(want, sizeof want, "PONG %.*s", (int)(c->len - 5), c->req + 5);
    return strcmp(c->line, want) == 0;
}

/* Connect and greet (returns only on error). */
#define CLIENT_START(c, cx)                                                 \
    do {                                                                    \
        (c)->g = (struct greet){ .base = { .ops = &greet_ops }, .port = (c)->ld->port }; \
        CT_AWAIT((c)->pc, &(c)->g.base, (cx));                              \
        if (!((c)->s = ct_tcp_stream_of(&(c)->g.base)))                     \
            return client_failed((c), (c)->g.base.error, false);            \
        client_settled((c)->ld);                                            \
    } while (0)

/* A fast client: in each round, PING after PING, each one timed. */
static enum ct_poll fast_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct client *c = (struct client *)f;
    CT_ASYNC_BEGIN(c->pc);
    CLIENT_START(c, cx);
    for (c->k = 0; c->k < c->ld->nrounds; c->k++) {
        ct_aevent_wait_init(&c->wait, &ROUND(c)->go);
        CT_AWAIT(c->pc, &c->wait.base, cx);
        for (c->i = 0; c->i < c->ld->requests; c->i++) {
            c->len = (size_t)snprintf(c->req, sizeof c->req, "PING %d\n",
                                      c->id * c->ld->requests + c->i);
            c->t0 = ct_clock_ns();
            ct_tcp_write_all_init(&c->op, c->s, c->req, c->len);
            CT_AWAIT(c->pc, &c->op.base, cx);
            if (!c->op.base.error) {
                ct_tcp_read_line_init(&c->op, c->s, c->line, sizeof c->line);
                CT_AWAIT(c->pc, &c->op.base, cx);
            }
            if (c->op.base.error || c->op.base.value == 0)
                return client_failed(c, c->op.base.error ? c->op.base.error : -ECONNRESET,
                                     true);
            ROUND(c)->lat[c->id * c->ld->requests + c->i] =
                (double)(ct_clock_ns() - c->t0) / 1e3;
            atomic_fetch_add(pong_matches(c) ? &ROUND(c)->pongs : &ROUND(c)->bad, 1);
        }
        fast_finished(c->ld, c->k);
    }
    CT_ASYNC_END(c->pc);
    return CT_READY;
}

/* A slow client: in the rounds with slow clients, it sends its PING one
 * byte every 100 ms, over and over, until told to stop; then it sends the
 * rest of its line at once and reads the answer.  Silent in the others. */
static enum ct_poll slow_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct client *c = (struct client *)f;
    CT_ASYNC_BEGIN(c->pc);
    CLIENT_START(c, cx);
    for (c->k = 0; c->k < c->ld->nrounds; c->k++) {
        ct_aevent_wait_init(&c->wait, &ROUND(c)->go);
        CT_AWAIT(c->pc, &c->wait.base, cx);
        for (c->stopping = !ROUND(c)->with_slow; !c->stopping;) {
            c->len = (size_t)snprintf(c->req, sizeof c->req, "PING %d\n", SLOW_BASE + c->id);
            for (c->sent = 0; c->sent < c->len - 1; c->sent++) {
                ct_aevent_wait_init(&c->wait, &ROUND(c)->stop);
                ct_timeout_init(&c->to, &c->wait.base, SLOW_GAP_MS * CT_NS_PER_MS);
                CT_AWAIT(c->pc, &c->to.base, cx);
                if ((c->stopping = c->to.base.error != -ETIMEDOUT))
                    break;
                ct_tcp_write_all_init(&c->op, c->s, c->req + c->sent, 1);
                CT_AWAIT(c->pc, &c->op.base, cx);
                if (c->op.base.error)
                    return client_failed(c, c->op.base.error, true);
            }
            ct_tcp_write_all_init(&c->op, c->s, c->req + c->sent, c->len - c->sent);
            CT_AWAIT(c->pc, &c->op.base, cx);   /* the rest at once */
            if (!c->op.base.error) {
                ct_tcp_read_line_init(&c->op, c->s, c->line, sizeof c->line);
                CT_AWAIT(c->pc, &c->op.base, cx);
            }
            if (c->op.base.error || c->op.base.value == 0)
                return client_failed(c, c->op.base.error ? c->op.base.error : -ECONNRESET,
                                     true);
            atomic_fetch_add(pong_matches(c) ? &ROUND(c)->slow_pongs : &ROUND(c)->bad, 1);
        }
        if (ROUND(c)->with_slow)
            slow_finished(c->ld, c->k);
    }
    CT_ASYNC_END(c->pc);
    return CT_READY;
}

static void client_drop(struct ct_future *f)
{
    struct client *c = (struct client *)f;
    ct_future_drop(&c->g.base);
    ct_future_drop(&c->op.base);
    ct_future_drop(&c->to.base);
    ct_future_drop(&c->wait.base);
    ct_tcp_close(c->s);
}

static const struct ct_future_ops fast_ops = { "fast client", fast_poll, client_drop };
static const struct ct_future_ops slow_ops = { "slow client", slow_poll, client_drop };

/* ==== one server's load: connect everyone, snapshot, rounds ============== */

struct round_result {
    double req_per_s, p50_ms, p99_ms, max_ms;
    long long pongs, slow_pongs, bad;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sort v and return its p50, p99 and max in ms, over the answered
 * requests only (v < 0: never answered).  NAN when there are none. */
static void latencies(double *v, size_t n, struct round_result *out)
{
    qsort(v, n, sizeof *v, cmp_double);
    size_t skip = 0;
    while (skip < n && v[skip] < 0)
        skip++;
    size_t m = n - skip;
    double q[2] = { 0.50, 0.99 };
    double *dst[2] = { &out->p50_ms, &out->p99_ms };
    for (int i = 0; i < 2; i++) {
        size_t k = (size_t)ceil(q[i] * (double)m);
        *dst[i] = m ? v[skip + (k ? k - 1 : 0)] / 1e3 : NAN;
    }
    out->max_ms = m ? v[n - 1] / 1e3 : NAN;
}

/* One server process, seen from the demo. */
struct session {
    int kind, port, ctl;
    struct ct_child child;
    bool spawned;
};

/* From main: wait for `ev`, up to 30 s (or until the run is cancelled). */
static int await_event(struct ct_exec *ex, struct ct_aevent *ev)
{
    struct ct_aevent_wait w;
    struct ct_timeout t;
    ct_aevent_wait_init(&w, ev);
    ct_timeout_init(&t, &w.base, 30 * CT_NS_PER_S);
    int rc = ct_block_on(ex, &t.base);
    ct_future_drop(&t.base);
    return rc ? rc : t.base.error;
}

static int await_handles(struct ct_exec *ex, struct ct_join_handle *h, int n)
{
    struct ct_await_all all;
    ct_await_all_init(&all, h, (size_t)n);
    int rc = ct_block_on(ex, &all.base);
    ct_future_drop(&all.base);
    return rc;
}

static int load_spawn(struct ct_exec *ex, struct load *ld, struct ct_join_handle *h, int *n)
{
    for (*n = 0; *n < ld->fast + ld->slow; ++*n) {
        bool slow = *n >= ld->fast;
        struct client c = { .base = { .ops = slow ? &slow_ops : &fast_ops },
                            .id = slow ? *n - ld->fast : *n, .slow = slow, .ld = ld };
        int rc = ct_spawn(ex, &c, &h[*n]);
        if (rc)
            return rc;
    }
    return 0;
}

/* Round k: let everyone go, wait for the fast clients, stop the slow. */
static int round_go(struct ct_exec *ex, struct load *ld, int k, struct round_result *res)
{
    struct round *r = &ld->round[k];
    int64_t t_go = ct_clock_ns();
    ct_aevent_set(&r->go);
    int rc = await_event(ex, &r->done);
    ct_aevent_set(&r->stop);
    if (rc == 0 && r->with_slow)
        rc = await_event(ex, &r->slow_done);
    if (rc)
        return rc;              /* cancelled: the clients may still be writing */
    int64_t t_done = atomic_load(&r->done_ns);
    res->pongs = atomic_load(&r->pongs);
    res->slow_pongs = atomic_load(&r->slow_pongs);
    res->bad = atomic_load(&r->bad);
    res->req_per_s = t_done > t_go ? (double)res->pongs / ((double)(t_done - t_go) / 1e9) : NAN;
    latencies(r->lat, (size_t)ld->fast * (size_t)ld->requests, res);
    return rc;
}
/* ==== one server, start to end =========================================== */

struct config {
    int clients, slow, requests, reps, workers, port;
    bool run[NSERVERS];
};

struct server_result {
    bool ran, stopped;
    double cpu_ms;              /* the server process's CPU time, all told */
    double client_cpu_ms;       /* this process's, meanwhile */
    int nalone, nslow, exit_status, left;
    struct round_result alone[MAX_REPS], slow[MAX_REPS];  /* without, with slow clients */
    double conn_s;              /* connected and greeted, per second */
    struct proc_snap idle, peak;
    struct remote_stats at_peak;  /* with every client connected */
    struct remote_stats final;  /* after the clients had all gone */
    long long pongs, slow_pongs, bad, connections;
    int failed, first_error;
    /* medians over the rounds with every client busy (with slow ones) */
    double req_s, p50, p99, max;
    double alone_p50, alone_p99, slow_p50, slow_p99, req_lo, req_hi;
    double rss_per, vm_per, kstack_per, mem_per;      /* bytes per connection */
    double cpu_us;              /* the server's CPU time per request, us */
};

static int session_start(struct ct_run *run, const struct config *c, int kind,
                         struct session *s)
{
    char port[16], workers[16], parent[24], line[160];
    snprintf(port, sizeof port, "%d", c->port);
    snprintf(workers, sizeof workers, "%d", c->workers);
    snprintf(parent, sizeof parent, "%ld", (long)getpid());
    const char *args[] = { server_name[kind], port, workers, parent, NULL };
    *s = (struct session){ .kind = kind, .ctl = -1 };
    int rc = ct_child_spawn(run, args, &s->child);
    if (rc)
        return rc;
    s->spawned = true;
    rc = ct_child_readline(run, &s->child, line, sizeof line, 10000);
    if (rc == 1 && sscanf(line, "listening %d", &s->port) == 1) {
        s->ctl = ctl_open(s->port);
        return s->ctl < 0 ? s->ctl : 0;
    }
    int err = 0;
    if (rc == 1 && sscanf(line, "error %d", &err) == 1 && err > 0)
        return -err;
    return rc < 0 ? rc : -EIO;
}

/* SIGTERM, the server's last words, and its exit status. */
static void session_stop(struct ct_run *run, struct session *s, struct server_result *sr)
{
    if (s->ctl >= 0)
        close(s->ctl);
    if (!s->spawned)
        return;
    kill(s->child.pid, SIGTERM);
    char line[200];
    int open;
    long long acc, pings, errs;
    /* anything else it says (a sanitizer's report, say) is shown */
    for (int n = 0; n < 60 && ct_child_readline(run, &s->child, line, sizeof line, 10000) == 1;
         n++) {
        if (sscanf(line, "stopped open=%d accepted=%lld pings=%lld errors=%lld left=%d cpu_ms=%lf",
                   &open, &acc, &pings, &errs, &sr->left, &sr->cpu_ms) == 6) {
            sr->stopped = true;
            break;
        }
        ct_say(run, "server: %s", line);
    }
    sr->exit_status = ct_child_wait(run, &s->child, 5000);
}

static double cpu_ms_self(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static void tally(struct server_result *sr, const struct round_result *res)
{
    sr->pongs += res->pongs;
    sr->slow_pongs += res->slow_pongs;
    sr->bad += res->bad;
}

static void round_say(struct ct_run *run, const struct load *ld, int k,
                      const struct round_result *res)
{
    char rate[32];
    ct_group_digits(llround(res->req_per_s), rate, sizeof rate);
    ct_say(run, "round %d, %s: %s req/s, p99 %.2f ms", k + 1,
           ld->round[k].with_slow ? "slow ones too" : "fast only", rate, res->p99_ms);
}

/* Everyone connects and greets; the server is measured; then the rounds. */
static int load_rounds(struct ct_run *run, const struct session *s, struct load *ld,
                       struct ct_exec *ex, struct server_result *sr)
{
    int rc = await_event(ex, &ld->all_ready);
    if (rc)
        return rc;
    sr->peak = proc_snap(s->child.pid);
    if ((rc = ctl_stats(s->ctl, &sr->at_peak)) != 0)
        return rc;
    ct_say(run, "%d connected: %lld threads, RSS +%.1f MiB", sr->at_peak.open - 1,
           sr->peak.threads, (double)(sr->peak.rss - sr->idle.rss) / (KIB * KIB));
    for (int k = 0; k < ld->nrounds && rc == 0; k++) {
        bool slow = ld->round[k].with_slow;
        struct round_result *res = slow ? &sr->slow[sr->nslow++] : &sr->alone[sr->nalone++];
        if ((rc = round_go(ex, ld, k, res)) == 0)
            round_say(run, ld, k, res);
        tally(sr, res);
    }
    return rc;
}

/* The clients, on an executor of their own in this process. */
static int load_run(struct ct_run *run, const struct session *s, struct load *ld,
                    struct server_result *sr)
{
    int n = ld->fast + ld->slow, spawned = 0;
    struct ct_join_handle *h = calloc((size_t)n, sizeof *h);
    struct ct_exec *ex = NULL;
    int rc = h ? ct_demo_executor(run, CT_EXEC_MULTI_THREAD, 0, &ex) : -ENOMEM;
    int64_t t0 = ct_clock_ns();
    if (rc == 0)
        rc = load_spawn(ex, ld, h, &spawned);
    if (rc == 0)
        rc = load_rounds(run, s, ld, ex, sr);
    if (rc == 0)
        rc = await_handles(ex, h, n);
    for (int i = 0; i < spawned; i++)
        ct_future_drop(&h[i].base);
    if (ex)
        ct_exec_free(ex);       /* drops what is left: every client socket closed */
    free(h);
    int64_t t1 = atomic_load(&ld->connected_ns);
    sr->conn_s = t1 > t0 ? n / ((double)(t1 - t0) / 1e9) : NAN;
    sr->failed = atomic_load(&ld->failed);
    sr->first_error = atomic_load(&ld->first_error);
    sr->connections = n;
    return rc;
}

static int load_init(const struct config *c, int port, struct load *ld, int *nev)
{
    *ld = (struct load){ .port = port, .fast = c->clients - c->slow, .slow = c->slow,
                         .requests = c->requests,
                         .nrounds = c->slow > 0 ? 2 * c->reps : c->reps };
    size_t nlat = (size_t)ld->fast * (size_t)c->requests;
    int rc = ct_aevent_init(&ld->all_ready);
    if (rc)
        return rc;
    *nev = 0;
    for (int k = 0; k < ld->nrounds; k++) {
        struct round *r = &ld->round[k];
        r->with_slow = c->slow > 0 && k % 2 == 1;
        if (!(r->lat = malloc(nlat * sizeof *r->lat)))
            return -ENOMEM;
        for (size_t i = 0; i < nlat; i++)
            r->lat[i] = -1;
        struct ct_aevent *ev[] = { &r->go, &r->done, &r->stop, &r->slow_done };
        for (int e = 0; e < 4; e++) {
            if ((rc = ct_aevent_init(ev[e])) != 0) {
                while (e-- > 0)
                    ct_aevent_destroy(ev[e]);
                return rc;
            }
        }
        ++*nev;
    }
    return 0;
}

/* nev: rounds whose events were all made (-1: not even all_ready). */
static void load_destroy(struct load *ld, int nev)
{
    for (int k = 0; k < ld->nrounds; k++) {
        struct round *r = &ld->round[k];
        if (k < nev) {
            ct_aevent_destroy(&r->go);
            ct_aevent_destroy(&r->done);
            ct_aevent_destroy(&r->stop);
            ct_aevent_destroy(&r->slow_done);
        }
        free(r->lat);
    }
    if (nev >= 0)
        ct_aevent_destroy(&ld->all_ready);
}

static int run_server(struct ct_run *run, const struct config *c, int kind,
                      struct server_result *sr)
{
    double cpu0 = cpu_ms_self();
    struct session s;
    struct load *ld = calloc(1, sizeof *ld);
    int rc = ld ? session_start(run, c, kind, &s) : -ENOMEM;
    int nev = -1;
    if (rc == 0) {
        rc = ctl_stats(s.ctl, &sr->final);      /* its connection has its thread now */
        sr->idle = proc_snap(s.child.pid);
        ct_say(run, "pid %d, port %d, %lld threads", s.child.pid, s.port, sr->idle.threads);
    }
    if (rc == 0)
        rc = load_init(c, s.port, ld, &nev);
    if (rc == 0)
        rc = load_run(run, &s, ld, sr);
    if (rc == 0)
        rc = ctl_drained(run, s.ctl, &sr->final);
    if (ld)
        session_stop(run, &s, sr);
    sr->client_cpu_ms = cpu_ms_self() - cpu0;
    if (ld)
        load_destroy(ld, nev);
    free(ld);
    sr->ran = rc == 0;
    return rc;
}

/* ==== the figures ======================================================== */

enum fig { F_REQ, F_P50, F_P99, F_MAX };

static double fig(const struct round_result *r, enum fig f)
{
    switch (f) {
    case F_REQ: return r->req_per_s;
    case F_P50: return r->p50_ms;
    case F_P99: return r->p99_ms;
    default: return r->max_ms;
    }
}

static struct ct_stats stats_of(const struct round_result *r, int n, enum fig f)
{
    double v[MAX_REPS] = { 0 };
    struct ct_stats st = { 0 };
    for (int i = 0; i < n; i++)
        v[i] = fig(r, f), r++;
    if (ct_stats_of(v, (size_t)n, &st) != 0)
        st.median = st.min = st.max = NAN;
    return st;
}

static void summarise(const struct config *c, struct server_result *sr)
{
    const struct round_result *all = c->slow > 0 ? sr->slow : sr->alone;
    int n = c->slow > 0 ? sr->nslow : sr->nalone;
    struct ct_stats req = stats_of(all, n, F_REQ);
    sr->req_s = req.median;
    sr->req_lo = req.min;
    sr->req_hi = req.max;
    sr->p50 = stats_of(all, n, F_P50).median;
    sr->p99 = stats_of(all, n, F_P99).median;
    sr->max = stats_of(all, n, F_MAX).median;
    sr->alone_p50 = stats_of(sr->alone, sr->nalone, F_P50).median;
    sr->alone_p99 = stats_of(sr->alone, sr->nalone, F_P99).median;
    sr->slow_p50 = stats_of(sr->slow, sr->nslow, F_P50).median;
    sr->slow_p99 = stats_of(sr->slow, sr->nslow, F_P99).median;
    const struct proc_snap *p = &sr->peak, *i = &sr->idle;
    sr->rss_per = (double)(p->rss - i->rss) / c->clients;
    sr->vm_per = (double)(p->vm - i->vm) / c->clients;
    /* kernel stacks: the system's total moves with every process; charge it
     * to the server only when the server itself added threads */
    sr->kstack_per = p->threads > i->threads ? (double)(p->kstack - i->kstack) / c->clients : 0;
    sr->mem_per = sr->rss_per + sr->kstack_per;
    /* every PING, and the HELLO that opened each connection */
    sr->cpu_us = sr->cpu_ms * 1e3 / (double)(sr->final.pings + sr->connections);
}

/* ==== the descriptor limit =============================================== */

struct fd_limit {
    struct rlimit before;
    rlim_t used;
    bool raised;
};

/* Each client needs a descriptor here and its server one there: raise the
 * soft limit as far as needed (the server processes inherit it), if the
 * hard limit allows. */
static int fd_limit_raise(struct ct_run *run, int clients, struct fd_limit *fl)
{
    if (getrlimit(RLIMIT_NOFILE, &fl->before) != 0)
        return -errno;
    rlim_t need = (rlim_t)clients + FD_SPARE;
    fl->used = fl->before.rlim_cur;
    if (fl->before.rlim_cur != RLIM_INFINITY && fl->before.rlim_cur < need) {
        if (fl->before.rlim_max != RLIM_INFINITY && fl->before.rlim_max < need) {
            ct_say(run, "clients=%d needs %llu descriptors; the hard limit is %llu", clients,
                   (unsigned long long)need, (unsigned long long)fl->before.rlim_max);
            return -EMFILE;
        }
        struct rlimit up = { need, fl->before.rlim_max };
        if (setrlimit(RLIMIT_NOFILE, &up) != 0)
            return -errno;
        fl->used = need;
        fl->raised = true;
        ct_say(run, "descriptor limit raised from %llu to %llu (hard %llu)",
               (unsigned long long)fl->before.rlim_cur, (unsigned long long)need,
               (unsigned long long)fl->before.rlim_max);
    }
    return 0;
}

static void fd_limit_restore(const struct fd_limit *fl)
{
    if (fl->raised)
        setrlimit(RLIMIT_NOFILE, &fl->before);
}

/* ==== the report ========================================================= */

struct tcp_result {
    double load;
    struct fd_limit fd;
    struct server_result s[NSERVERS];
};

static void report_tables(struct ct_run *run, const struct config *c, const struct tcp_result *r)
{
    static const char *const cols[] = { "server", "conn_s|conn/s", "req_s|req/s",
                                        "p50_ms|p50 ms", "p99_ms|p99 ms", "max_ms|max ms",
                                        "threads", "kib_per_conn|KiB/conn", NULL };
    struct ct_table *t = ct_table_new(run, "servers", NULL, cols);
    static const char *const mcols[] = { "server", "threads_idle|threads idle",
                                         "threads_peak|at peak", "rss_kib|RSS KiB",
                                         "kstack_kib|kstack KiB", "vm_kib|VM KiB",
                                         "cpu_us|CPU us/req", NULL };
    struct ct_table *m = ct_table_new(run, "memory", "per connection at peak; CPU per request",
                                      mcols);
    for (int k = 0; k < NSERVERS; k++) {
        const struct server_result *s = &r->s[k];
        if (!s->ran)
            continue;
        ct_table_row(t, CT_TEXT(server_name[k]), CT_NUM(s->conn_s, 0), CT_NUM(s->req_s, 0),
                     CT_NUM(s->p50, 2), CT_NUM(s->p99, 2), CT_NUM(s->max, 2),
                     CT_INT(s->peak.threads), CT_NUM(s->mem_per / KIB, 2));
        ct_table_row(m, CT_TEXT(server_name[k]), CT_INT(s->idle.threads),
                     CT_INT(s->peak.threads), CT_NUM(s->rss_per / KIB, 2),
                     CT_NUM(s->kstack_per / KIB, 2), CT_NUM(s->vm_per / KIB, 1),
                     CT_NUM(s->cpu_us, 1));
    }
    ct_bars(run, t, "requests/s (median)", 0, 2, "req/s");
    if (c->slow == 0)
        return;
    static const char *const scols[] = { "server", "p50_alone|p50 alone", "p50_slow|p50 w/ slow",
                                         "p99_alone|p99 alone", "p99_slow|p99 w/ slow",
                                         "slow_pongs|slow PONGs", NULL };
    struct ct_table *sl = ct_table_new(run, "slow", "fast clients, ms", scols);
    for (int k = 0; k < NSERVERS; k++) {
        const struct server_result *s = &r->s[k];
        if (s->ran)
            ct_table_row(sl, CT_TEXT(server_name[k]), CT_NUM(s->alone_p50, 2),
                         CT_NUM(s->slow_p50, 2), CT_NUM(s->alone_p99, 2),
                         CT_NUM(s->slow_p99, 2), CT_INT(s->slow_pongs));
    }
}

static void report_results(struct ct_run *run, const struct config *c, const struct tcp_result *r)
{
    ct_result_int(run, "cpus", "CPUs online", ct_cpus(), NULL);
    ct_result_num(run, "load_avg", "load average at the start", r->load, 2, NULL);
    ct_result_int(run, "fd_limit", "descriptor limit used", (long long)r->fd.used, NULL);
    ct_result_int(run, "fd_limit_before", "descriptor limit before",
                  (long long)r->fd.before.rlim_cur, NULL);
    const struct server_result *x = &r->s[EXECUTOR], *t = &r->s[THREADS];
    if (x->ran && t->ran) {
        ct_result_num(run, "req_ratio", "executor req/s over threads'", x->req_s / t->req_s, 2,
                      "x");
        ct_result_num(run, "mem_ratio", "threads' memory/conn over executor's",
                      t->mem_per / x->mem_per, 1, "x");
    }
    (void)c;
}

/* Each server's accounting, exact. */
static void report_checks(struct ct_run *run, const struct config *c, const struct tcp_result *r)
{
    for (int k = 0; k < NSERVERS; k++) {
        const struct server_result *s = &r->s[k];
        if (!s->ran)
            continue;
        const char *n = server_name[k];
        long long want = (long long)(c->clients - c->slow) * c->requests * (s->nalone + s->nslow);
        ct_check(run, s->pongs == want && s->bad == 0 && s->failed == 0,
                 "%s: every fast client got its own PONGs (%lld of %lld, %d failed%s%s)", n,
                 s->pongs, want, s->failed, s->failed ? ": " : "",
                 s->failed ? strerror(-s->first_error) : "");
        if (c->slow > 0)
            ct_check(run, s->slow_pongs >= (long long)c->slow * s->nslow,
                     "%s: every slow client got its PONG (%lld for %d)", n, s->slow_pongs,
                     c->slow * s->nslow);
        ct_check(run, s->final.pings == s->pongs + s->slow_pongs,
                 "%s: the server answered the %lld PINGs the clients counted (%lld)", n,
                 s->pongs + s->slow_pongs, s->final.pings);
        ct_check(run, s->final.accepted - 1 == s->connections,
                 "%s: it accepted all %lld connections (%lld)", n, s->connections,
                 s->final.accepted - 1);
        ct_check(run, s->at_peak.open - 1 == c->clients,
                 "%s: all %d clients were connected at once (%d)", n, c->clients,
                 s->at_peak.open - 1);
        long long added = s->peak.threads - s->idle.threads;
        ct_check(run, added == (k == THREADS ? c->clients : 0),
                 "%s: %lld threads added for %d connections", n, added, c->clients);
        ct_check(run, s->stopped && s->left == 0 && s->exit_status == 0,
                 "%s: stopped on SIGTERM, exit status %d, %d connections left", n,
                 s->exit_status, s->left);
    }
}

static void report_takeaway(struct ct_run *run, const struct config *c,
                            const struct tcp_result *r)
{
    const struct server_result *x = &r->s[EXECUTOR], *t = &r->s[THREADS];
    int rounds = c->slow > 0 ? x->nslow + t->nslow : x->nalone + t->nalone;
    if (x->ran && t->ran) {
        bool clear = x->req_lo > t->req_hi || t->req_lo > x->req_hi;
        ct_takeaway(run,
                    "With %d clients connected, the executor server answered %.0f requests/s "
                    "and the thread-per-connection server %.0f: %.2fx (medians of %d rounds "
                    "each; load %.2f on %d CPUs). %s",
                    c->clients, x->req_s, t->req_s, x->req_s / t->req_s, rounds / 2, r->load,
                    ct_cpus(),
                    clear ? "The ranges of the rounds do not overlap."
                          : "The ranges of the rounds overlap, so the order is not settled "
                            "by this run: raise reps and requests, on a quieter machine.");
        ct_takeaway(run,
                    "CPU: the executor server spent %.1f us per request, the threaded one "
                    "%.1f us (its process's CPU time over every PING and HELLO it "
                    "answered). On this %d-CPU machine the clients run here too and take "
                    "their share, so requests/s moves less than CPU per request.",
                    x->cpu_us, t->cpu_us, ct_cpus());
        ct_takeaway(run,
                    "Memory: a connection cost the executor server %.2f KiB (a task and a "
                    "socket, no thread: %lld threads for all %d), and the threaded server "
                    "%.2f KiB (%.2f resident plus %.2f of kernel stack) and %.0f KiB of "
                    "address space for its stack: %.0fx more.",
                    x->mem_per / KIB, x->peak.threads, c->clients, t->mem_per / KIB,
                    t->rss_per / KIB, t->kstack_per / KIB, t->vm_per / KIB,
                    t->mem_per / x->mem_per);
    }
    for (int k = 0; k < NSERVERS && c->slow > 0; k++) {
        const struct server_result *s = &r->s[k];
        if (!s->ran)
            continue;
        struct ct_stats a = stats_of(s->alone, s->nalone, F_P99);
        bool within = s->slow_p99 <= a.max;
        ct_takeaway(run,
                    "%s: the fast clients' p99 was %.2f ms without the %d slow clients "
                    "(rounds from %.2f to %.2f) and %.2f ms with them. %s",
                    server_name[k], s->alone_p99, c->slow, a.min, a.max, s->slow_p99,
                    within ? "That is within the spread of the rounds without them: a slow "
                             "client holds its own task or thread, and the others do not "
                             "wait for it."
                           : "That is above every round without them; on a loaded machine "
                             "p99 moves a lot between rounds: raise reps to tell.");
    }
    if (r->fd.raised)
        ct_takeaway(run, "The descriptor limit was raised from %llu to %llu for the run and "
                         "put back after.",
                    (unsigned long long)r->fd.before.rlim_cur, (unsigned long long)r->fd.used);
}

static double load_average(void)
{
    double la = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &la) != 1)
            la = -1;
        fclose(f);
    }
    return la;
}

static int tcp_run(struct ct_run *run)
{
    struct config c = {
        .clients = (int)ct_param_int(run, "clients"),
        .slow = (int)ct_param_int(run, "slow"),
        .requests = (int)ct_param_int(run, "requests"),
        .reps = (int)ct_param_int(run, "reps"),
        .workers = (int)ct_param_int(run, "workers"),
        .port = (int)ct_param_int(run, "port"),
    };
    for (int k = 0; k < NSERVERS; k++)
        c.run[k] = ct_param_has(run, "servers", server_name[k]);
    if (c.workers == 0)
        c.workers = ct_cpus();
    struct tcp_result *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->load = load_average();
    int rc = fd_limit_raise(run, c.clients, &r->fd);
    for (int k = 0; k < NSERVERS && rc == 0; k++) {
        if (c.run[k]) {
            ct_section(run, "%s: one %s per connection", server_name[k],
                       k == EXECUTOR ? "task" : "thread");
            rc = run_server(run, &c, k, &r->s[k]);
        }
    }
    fd_limit_restore(&r->fd);
    if (rc == 0) {
        for (int k = 0; k < NSERVERS; k++)
            if (r->s[k].ran)
                summarise(&c, &r->s[k]);
        report_tables(run, &c, r);
        report_results(run, &c, r);
        report_checks(run, &c, r);
        report_takeaway(run, &c, r);
    }
    free(r);
    return rc == -ECANCELED || ct_cancelled(run) ? 0 : rc;
}

static const struct ct_param_spec tcp_params[] = {
    { "clients", CT_PARAM_INT, "1000", 2, 10000, NULL,
      "connections open at once, slow ones included" },
    { "slow", CT_PARAM_INT, "100", 0, 9999, NULL,
      "of them, clients that send one byte every 100 ms" },
    { "requests", CT_PARAM_INT, "4", 1, 100000, NULL, "PINGs per fast client per round" },
    { "reps", CT_PARAM_INT, "3", 1, MAX_REPS, NULL,
      "rounds with the slow clients, and as many without" },
    { "workers", CT_PARAM_INT, "0", 0, CT_EXEC_MAX_WORKERS, NULL,
      "the executor server's workers (0: one per CPU)" },
    { "servers", CT_PARAM_SET, "all", 0, 0, "executor,threads", "which servers to run" },
    { "port", CT_PARAM_INT, "0", 0, 65535, NULL, "port to listen on (0: any free one)" },
    CT_PARAMS_END,
};

/* At least one fast client must be left to time the answers. */
static int tcp_check(const struct ct_run *run, char *err, size_t errlen)
{
    long long slow = ct_param_int(run, "slow"), clients = ct_param_int(run, "clients");
    if (slow >= clients) {
        snprintf(err, errlen, "slow=%lld must be below clients=%lld (0..%lld)", slow, clients,
                 clients - 1);
        return -EINVAL;
    }
    return 0;
}

const struct ct_demo ct_demo_tcp_server = {
    .name = "tcp-server",
    .chapter = 8,
    .title = "A concurrent server: tasks or threads",
    .summary = "A line server: a task or a thread per connection, under load",
    .intro = "The same line-protocol server runs twice in a process of its own: one task "
             "per connection on the executor, then one thread per connection. The demo's "
             "clients connect all at once, some of them slow (a byte every 100 ms), and the "
             "fast ones time every answer; the servers' threads and memory are read from "
             "/proc while every connection is open.",
    .params = tcp_params,
    .smoke = "clients=40 slow=4 requests=3 reps=1",
    .flags = CT_DEMO_BENCH,
    .run = tcp_run,
    .check = tcp_check,
    .child = server_child,
};
