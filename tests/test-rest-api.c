/* test-rest-api.c - demo `rest-api`: a small run against all three server
 * configurations, every request accounted; the server in serve=true mode
 * keeps answering a good client through malformed request lines, oversize
 * headers, bad JSON, silent clients, clients gone mid-body and a thousand
 * connect-and-close, then stops on Ctrl-C with every thread joined; Ctrl-C
 * at several points on the prompt leaves nothing behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procsnap.h"
#include "stress.h"
#include "tutor-pty.h"
#include "util.h"

extern char **environ;

static void test_small_run(void **state)
{
    (void)state;
    snap_settle_threads();
    struct proc_snap before = snap_snapshot(0);
    int code;
    json_t *j = ct_demo_json("rest-api",
                             (const char *const[]){ "clients=4", "requests=300", "reps=2",
                                                    "servers=pool,single,per-connection",
                                                    NULL },
                             &code);
    assert_non_null(j);
    assert_true(dj_assert_checks(j) >= 9);
    assert_int_equal(code, 0);
    assert_int_equal(json_array_size(dj_table(j, "load")), 3);
    /* one thread for the single server, more for the pool */
    assert_int_equal(dj_cell_int(dj_row(j, "load", "server", "single"), "threads"), 1);
    assert_true(dj_cell_int(dj_row(j, "load", "server", "pool"), "threads") >= 1);
    /* the walk's 14 requests and 3 x 2 x 300 of load, each answered once */
    assert_int_equal(dj_int(j, "served"), 14 + 1800);
    json_decref(j);
    struct proc_snap after = snap_snapshot(0);
    assert_true(snap_same(&before, &after, "after the run"));
}

/* ---- the server in serve mode, poked with raw sockets ------------------- */

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct timeval tv = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Send `req` on a new connection; the status of the answer, or 0 if the
 * server closed (or reset) it without one. */
static int http_status(int port, const char *req, size_t len)
{
    int fd = dial(port);
    assert_true(fd >= 0);
    (void)!send(fd, req, len, MSG_NOSIGNAL);
    char buf[256] = "";
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    close(fd);
    int status = 0;
    if (n > 0)
        sscanf(buf, "HTTP/1.%*d %d", &status);
    return status;
}

static int good(int port)
{
    static const char req[] = "GET /items HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    return http_status(port, req, sizeof req - 1);
}

static void abuse(int port)
{
    int silent = dial(port);
    assert_true(silent >= 0);
    assert_int_equal(good(port), 200);
    static const char garbage[] = "BLAH\r\n\r\n";     /* 400, or just closed */
    int st = http_status(port, garbage, sizeof garbage - 1);
    assert_true(st == 0 || st == 400);
    assert_int_equal(good(port), 200);
    size_t big = 40000;                         /* headers far over the server's 16 KiB */
    char *req = malloc(big + 64);
    assert_non_null(req);
    int off = sprintf(req, "GET /items HTTP/1.1\r\nHost: t\r\nX-Big: ");
    memset(req + off, 'x', big);
    memcpy(req + off + big, "\r\n\r\n", 4);
    st = http_status(port, req, (size_t)off + big + 4);
    assert_true(st == 0 || (st >= 400 && st < 500));
    free(req);
    static const char bad_json[] = "POST /items HTTP/1.1\r\nHost: t\r\nContent-Type: "
                                   "application/json\r\nContent-Length: 1\r\n\r\n{";
    assert_int_equal(http_status(port, bad_json, sizeof bad_json - 1), 400);
    int fd = dial(port);                        /* gone halfway through a body */
    static const char half[] = "POST /items HTTP/1.1\r\nHost: t\r\nContent-Type: "
                               "application/json\r\nContent-Length: 100\r\n\r\n{\"name\"";
    (void)!send(fd, half, sizeof half - 1, MSG_NOSIGNAL);
    close(fd);
    for (int i = 0; i < CT_STRESS(1000, 200); i++) {
        fd = dial(port);                        /* connect and leave at once */
        assert_true(fd >= 0);
        close(fd);
    }
    assert_int_equal(good(port), 200);
    close(silent);
}

static pid_t serving = -1;       /* killed by the teardown if a check failed */

static int kill_server(void **state)
{
    (void)state;
    if (serving > 0 && waitpid(serving, NULL, WNOHANG) == 0) {
        kill(serving, SIGKILL);
        waitpid(serving, NULL, 0);
    }
    serving = -1;
    return 0;
}

static void test_serve_under_bad_input(void **state)
{
    (void)state;
    int port = free_port(), p[2];
    char portarg[32];
    snprintf(portarg, sizeof portarg, "port=%d", port);
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
    char *argv[] = { (char *)ct_test_binary(), "--json", "run", "rest-api", "serve=true",
                     portarg, NULL };
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, ct_test_binary(), &fa, NULL, argv, environ), 0);
    serving = pid;
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    int fd = -1;
    for (int i = 0; i < 1000 && fd < 0; i++)    /* up to 10 s to come up */
        if ((fd = dial(port)) < 0)
            usleep(10000);
    assert_true(fd >= 0);
    close(fd);
    abuse(port);
    assert_int_equal(kill(pid, SIGINT), 0);     /* the first Ctrl-C: a graceful stop */
    char *out = calloc(1, 1 << 20);
    size_t len = 0;
    ssize_t n;
    while (len < (1 << 20) - 1 && (n = read(p[0], out + len, (1 << 20) - 1 - len)) > 0)
        len += (size_t)n;
    close(p[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    serving = -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fprintf(stderr, "status %d; it printed:\n%s\n", status, out);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    json_t *j = ct_json_parse(out);
    assert_non_null(j);
    dj_assert_checks(j);
    /* the walk may still have been going when the Ctrl-C came */
    assert_int_equal(dj_int(j, "walk_as_promised"), dj_int(j, "walk_steps"));
    json_decref(j);
    free(out);
}

/* ---- Ctrl-C on the prompt, at several points ---------------------------- */

static void test_ctrl_c_leaves_nothing(void **state)
{
    (void)state;
    /* each point is a line the demo prints (not its intro: a Ctrl-C then
     * comes before the runner listens for it, and goes to the prompt) */
    static const char *const points[] = { "listening on", "-> 201", "pool, rep 1",
                                          "single: libmicrohttpd", "serving on" };
    struct pty t;
    char *dir = ct_tmpdir();
    assert_non_null(dir);
    pty_open(&t, 100, dir);
    pty_prompt(&t);
    pty_settle(&t);
    struct proc_snap before = snap_snapshot(t.pid);
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
        pty_send(&t, i + 1 < sizeof points / sizeof points[0]
                         ? "run rest-api requests=3000 reps=3\r"
                         : "run rest-api serve=true\r");
        pty_expect(&t, points[i], 60000);
        pty_send(&t, "\x03");
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
        cmocka_unit_test_teardown(test_serve_under_bad_input, kill_server),
        cmocka_unit_test(test_ctrl_c_leaves_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
