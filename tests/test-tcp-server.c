/* test-tcp-server.c - demo `tcp-server`: every request accounted in a small
 * run; both servers (run as the demo runs them, `__child tcp-server`) keep
 * answering a good client through garbage, over-long lines, silent
 * clients, clients gone mid-line and a thousand connect-and-close, and
 * stop cleanly; Ctrl-C at several points leaves the tutor holding what it
 * held before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tutor-pty.h"
#include "procsnap.h"
#include "stress.h"
#include "util.h"

extern char **environ;

static void test_small_run(void **state)
{
    (void)state;
    snap_settle_threads();
    struct proc_snap before = snap_snapshot(0);
    int code;
    json_t *j = ct_demo_json("tcp-server",
                             (const char *const[]){ "clients=60", "slow=6", "requests=4",
                                                    "reps=2", "workers=2", NULL },
                             &code);
    assert_non_null(j);
    assert_true(dj_assert_checks(j) >= 14);
    assert_int_equal(code, 0);
    /* both servers, by exact name, and nothing else */
    assert_int_equal(json_array_size(dj_table(j, "servers")), 2);
    json_t *x = dj_row(j, "memory", "server", "executor");
    json_t *t = dj_row(j, "memory", "server", "threads");
    assert_non_null(x);
    assert_non_null(t);
    /* a thread per connection there, none here */
    assert_int_equal(dj_cell_int(t, "threads_peak") - dj_cell_int(t, "threads_idle"), 60);
    assert_int_equal(dj_cell_int(x, "threads_peak"), dj_cell_int(x, "threads_idle"));
    /* 6 slow clients, 2 rounds with them: at least one PONG each per round */
    assert_true(dj_cell_int(dj_row(j, "slow", "server", "threads"), "slow_pongs") >= 12);
    json_decref(j);
    struct proc_snap after = snap_snapshot(0);
    assert_true(snap_same(&before, &after, "after the run"));
}

/* ---- one server process, poked with raw sockets ------------------------- */

struct server {
    pid_t pid;
    int out;                    /* its stdout */
    int port;
};

static int read_line_fd(int fd, char *buf, size_t n)
{
    size_t have = 0;
    while (have < n - 1) {
        ssize_t r = read(fd, buf + have, 1);
        if (r <= 0)
            return r == 0 && have == 0 ? 0 : r < 0 ? -1 : (int)have;
        if (buf[have++] == '\n')
            break;
    }
    buf[have] = '\0';
    return (int)have;
}

static void server_start(struct server *s, const char *kind)
{
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
    char parent[24];
    snprintf(parent, sizeof parent, "%d", (int)getpid());
    char *argv[] = { (char *)ct_test_binary(), "__child", "tcp-server", (char *)kind, "0", "2",
                     parent, NULL };
    assert_int_equal(posix_spawn(&s->pid, ct_test_binary(), &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    s->out = p[0];
    char line[128];
    assert_true(read_line_fd(s->out, line, sizeof line) > 0);
    assert_int_equal(sscanf(line, "listening %d", &s->port), 1);
}

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct timeval tv = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void say(int fd, const char *text)
{
    size_t n = strlen(text);
    assert_int_equal(send(fd, text, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Send `req` and expect exactly `want` back. */
static void ask(int fd, const char *req, const char *want)
{
    char line[256];
    say(fd, req);
    assert_true(read_line_fd(fd, line, sizeof line) > 0);
    assert_string_equal(line, want);
}

/* Whether the server has accepted `accepted` connections in all and has
 * `open` of them open now. */
static bool server_holds(int good, long long accepted, int open, bool tell)
{
    char line[256];
    int o = -1, peak;
    long long a = -1;
    say(good, "STATS\n");
    assert_true(read_line_fd(good, line, sizeof line) > 0);
    assert_int_equal(sscanf(line, "STATS open=%d peak=%d accepted=%lld", &o, &peak, &a), 3);
    if (tell && (a != accepted || o != open))
        fprintf(stderr, "server: %s", line);
    return a == accepted && o == open;
}

static void abuse(const struct server *s)
{
    int good = dial(s->port), silent = dial(s->port);
    ask(good, "HELLO\n", "HI\n");
    int fd = dial(s->port);                     /* garbage, then a good line */
    ask(fd, "GARBAGE\n", "ERR unknown request\n");
    ask(fd, "PING 1\n", "PONG 1\n");
    close(fd);
    ask(good, "PING 2\n", "PONG 2\n");
    fd = dial(s->port);                         /* a line too long: answered, closed */
    char longline[400];
    memset(longline, 'x', sizeof longline - 2);
    longline[sizeof longline - 2] = '\n';
    longline[sizeof longline - 1] = '\0';
    ask(fd, longline, "ERR line too long\n");
    char rest[16];                              /* closed: end of file, or a reset */
    assert_true(read_line_fd(fd, rest, sizeof rest) <= 0);
    close(fd);
    fd = dial(s->port);                         /* gone in the middle of a line */
    say(fd, "PIN");
    close(fd);
    int quick = CT_STRESS(1000, 200);
    for (int i = 0; i < quick; i++)
        close(dial(s->port));                   /* connect and leave at once */
    ask(good, "PING 3\n", "PONG 3\n");
    /* all accepted (some may still wait in the listen queue for a moment),
     * and every one gone again but the silent one and ours */
    double deadline = pty_now_ms() + 20000;
    while (!server_holds(good, 5 + quick, 2, false) && pty_now_ms() < deadline)
        usleep(10000);
    assert_true(server_holds(good, 5 + quick, 2, true));
    close(good);
    close(silent);
}

static void server_stop(struct server *s)
{
    assert_int_equal(kill(s->pid, SIGTERM), 0);
    char line[256];
    int open, left = -1;
    long long acc, pings, errs;
    assert_true(read_line_fd(s->out, line, sizeof line) > 0);
    assert_int_equal(sscanf(line, "stopped open=%d accepted=%lld pings=%lld errors=%lld left=%d",
                            &open, &acc, &pings, &errs, &left),
                     5);
    assert_int_equal(left, 0);
    assert_int_equal(pings, 3);                 /* PING 1, 2, 3 and nothing else */
    assert_int_equal(errs, 2);                  /* GARBAGE and the long line */
    int status;
    assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(s->out);
}

/* Every client slow would leave none to time the answers: a usage error,
 * before any server starts. */
static void test_slow_below_clients(void **state)
{
    (void)state;
    struct ct_proc p;
    assert_int_equal(ct_tutor(&p, (const char *const[]){ "run", "tcp-server", "clients=5",
                                                         "slow=5", NULL }), 0);
    assert_int_equal(p.status, 2);
    assert_string_equal(p.out, "");
    assert_non_null(strstr(p.err, "slow=5 must be below clients=5 (0..4)"));
    ct_proc_free(&p);
}

static void test_bad_clients(void **state)
{
    (void)state;
    static const char *const kinds[] = { "executor", "threads" };
    for (int k = 0; k < 2; k++) {
        struct proc_snap before = snap_snapshot(0);
        struct server s;
        server_start(&s, kinds[k]);
        abuse(&s);
        server_stop(&s);
        struct proc_snap after = snap_snapshot(0);
        assert_true(snap_same(&before, &after, kinds[k]));
    }
}

/* ---- Ctrl-C on the prompt, at several points ---------------------------- */

static void test_ctrl_c_leaves_nothing(void **state)
{
    (void)state;
    static const char *const points[] = { "pid ", "connected:", "round 1", "threads: one" };
    struct pty t;
    char *dir = ct_tmpdir();
    assert_non_null(dir);
    pty_open(&t, 100, dir);
    pty_prompt(&t);
    pty_settle(&t);
    struct proc_snap before = snap_snapshot(t.pid);
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
        pty_send(&t, "run tcp-server clients=100 slow=10 requests=100 reps=1\r");
        pty_expect(&t, points[i], 60000);
        pty_send(&t, "\x03");
        pty_expect(&t, "Cancelled after", 10000);
        pty_prompt(&t);
        struct proc_snap after = snap_snapshot(t.pid);
        if (!snap_same(&before, &after, points[i]))
            fail_msg("Ctrl-C after \"%s\" left something behind", points[i]);
    }
    assert_int_equal(pty_close(&t), 0);
    ct_tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_run),
        cmocka_unit_test(test_slow_below_clients),
        cmocka_unit_test(test_bad_clients),
        cmocka_unit_test(test_ctrl_c_leaves_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
