/* test-microservice.c - demo `microservice`, checked from outside: the
 * test reads the SQLite file itself and talks HTTP to the service itself.
 *
 *   - counts: a run's report agrees with the database it leaves behind
 *     (db=PATH), every order settled, every bad request its status, and
 *     no descriptor, thread or temporary file left behind;
 *   - bad input from the test's own client against serve=true: malformed
 *     JSON, wrong fields, odd ids, unknown orders, forbidden status moves;
 *     each gets its 4xx and the rows are exactly what the good requests
 *     made;
 *   - Ctrl-C during load: the graceful stop audits and exits 0 with every
 *     order settled; and with resources counted, at several moments;
 *   - Ctrl-C twice while the test itself creates orders: the cancel leaves
 *     orders unfinished, and the next run with the same db=PATH recovers
 *     them: every order the test got a 201 for ends in a final state;
 *   - a port already taken, a database that cannot be opened: an error,
 *     nothing left behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "resources.h"
#include "stress.h"
#include "util.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- the database, read by the test ------------------------------------ */

/* A database file in a scratch directory, and the db= parameter for it. */
struct dbfile {
    char *dir;
    char path[512];
    char arg[600];
};

static void dbfile_new(struct dbfile *f)
{
    f->dir = ct_tmpdir();
    assert_non_null(f->dir);
    snprintf(f->path, sizeof f->path, "%s/orders.db", f->dir);
    snprintf(f->arg, sizeof f->arg, "db=%s", f->path);
}

struct db_counts {
    long long total, pending, processing, completed, failed;
};

static struct db_counts db_counts(const char *path)
{
    struct db_counts c = { 0 };
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT status, count(*) FROM orders GROUP BY status",
                                        -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        long long n = sqlite3_column_int64(st, 1);
        c.total += n;
        if (strcmp(s, "pending") == 0)
            c.pending = n;
        else if (strcmp(s, "processing") == 0)
            c.processing = n;
        else if (strcmp(s, "completed") == 0)
            c.completed = n;
        else if (strcmp(s, "failed") == 0)
            c.failed = n;
        else
            fail_msg("unknown status '%s' in the database", s);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return c;
}

/* The status and version of order `id` ("" if there is none). */
static void db_order(const char *path, long long id, char *status, size_t n, long long *version)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    status[0] = '\0';
    *version = -1;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT status, version FROM orders WHERE id = ?1",
                                        -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(status, n, "%s", (const char *)sqlite3_column_text(st, 0));
        *version = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* ---- HTTP, from the test's side ------------------------------------------ */

struct body {
    char text[2048];
    size_t len;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct body *b = arg;
    size_t k = size * n;
    size_t room = sizeof b->text - 1 - b->len;
    memcpy(b->text + b->len, data, k < room ? k : room);
    b->len += k < room ? k : room;
    b->text[b->len] = '\0';
    return size * n;
}

static CURL *new_handle(struct body *b)
{
    CURL *h = curl_easy_init();
    assert_non_null(h);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
    return h;
}

/* One request; the status code (0: no answer), the body into *b. */
static long http(int port, const char *method, const char *path, const char *data,
                 struct body *b)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    b->len = 0;
    b->text[0] = '\0';
    CURL *h = new_handle(b);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (data)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, data);
    long code = 0;
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    return code;
}

static long long body_id(const struct body *b)
{
    json_t *j = json_loads(b->text, 0, NULL);
    json_t *id = json_object_get(j, "id");
    long long v = json_is_integer(id) ? json_integer_value(id) : 0;
    json_decref(j);
    return v;
}

static const char *body_status(const struct body *b, char *out, size_t n)
{
    json_t *j = json_loads(b->text, 0, NULL);
    json_t *s = json_object_get(j, "status");
    snprintf(out, n, "%s", json_is_string(s) ? json_string_value(s) : "");
    json_decref(j);
    return out;
}

/* ---- the program, live ----------------------------------------------------- */

/* The program run with its stdout and stderr on one pipe that the test
 * reads as it goes, so it can wait for a line before acting. */
struct live {
    pid_t pid;
    int fd;
    size_t len;
    char out[1 << 16];
};

static void live_start(struct live *l, const char *const *args, const char *tmp_env)
{
    const char *argv[40];
    int n = 0;
    argv[n++] = ct_test_binary();
    argv[n++] = "run";
    argv[n++] = "microservice";
    for (; *args && n < 39; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    memset(l, 0, sizeof *l);
    l->pid = fork();
    assert_true(l->pid >= 0);
    if (l->pid == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        putenv((char *)"NO_COLOR=1");
        putenv((char *)"COLUMNS=200");
        if (tmp_env)
            putenv((char *)tmp_env);
        signal(SIGINT, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    l->fd = p[0];
}

/* Read what there is, waiting up to `ms`.  False at end of output. */
static bool live_read(struct live *l, int ms)
{
    struct pollfd pfd = { l->fd, POLLIN, 0 };
    if (l->fd < 0 || poll(&pfd, 1, ms) <= 0)
        return l->fd >= 0;
    ssize_t k = read(l->fd, l->out + l->len, sizeof l->out - 1 - l->len);
    if (k <= 0) {
        close(l->fd);
        l->fd = -1;
        return false;
    }
    l->len += (size_t)k;
    l->out[l->len] = '\0';
    return true;
}

/* Wait (up to 30 s) for `needle` in the output; a pointer to it. */
static const char *live_wait_for(struct live *l, const char *needle)
{
    double end = now_ms() + 30000;
    const char *at;
    while (!(at = strstr(l->out, needle))) {
        if (now_ms() > end || !live_read(l, 50))
            fail_msg("no '%s' in the output:\n%s", needle, l->out);
    }
    return at;
}

/* The port from "listening on http://127.0.0.1:PORT". */
static int live_port(struct live *l)
{
    const char *at = live_wait_for(l, "listening on http://127.0.0.1:");
    live_wait_for(l, " server threads)");
    return atoi(at + strlen("listening on http://127.0.0.1:"));
}

/* Read to the end and reap it (killed after 60 s); its exit status. */
static int live_finish(struct live *l)
{
    double end = now_ms() + 60000;
    bool killed = false;
    while (live_read(l, 50))
        if (!killed && now_ms() > end) {
            kill(l->pid, SIGKILL);
            killed = true;
        }
    int st;
    while (waitpid(l->pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (killed)
        fail_msg("microservice did not stop:\n%s", l->out);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- counts ------------------------------------------------------------------ */

static const char *const SMALL[] = { "clients=4", "load-ms=60", "threads=2", "pool=4",
                                     "workers=2", NULL };

/* Every bad request got exactly the code expected of it, and among them
 * every 4xx the API gives. */
static void check_bad_input(json_t *j)
{
    json_t *rows = dj_table(j, "bad_input"), *row;
    assert_non_null(rows);
    bool seen[600] = { false };
    size_t i;
    json_array_foreach(rows, i, row) {
        long long want = dj_cell_int(row, "expected"), got = dj_cell_int(row, "got");
        if (want != got)
            fail_msg("%s: expected %lld, got %lld", dj_cell_text(row, "request"), want, got);
        seen[want] = true;
    }
    static const int codes[] = { 200, 400, 404, 405, 409, 413, 422 };
    for (size_t k = 0; k < sizeof codes / sizeof codes[0]; k++)
        if (!seen[codes[k]])
            fail_msg("no bad-input case expects %d", codes[k]);
}

/* The takeaway's "they settled N orders" is what the workers' table says
 * they completed and failed, not every job they finished. */
static void check_workers_sentence(json_t *j)
{
    long long settled = 0, jobs = 0;
    size_t i;
    json_t *row;
    json_array_foreach(dj_table(j, "workers"), i, row) {
        settled += dj_cell_int(row, "completed") + dj_cell_int(row, "failed");
        jobs += dj_cell_int(row, "jobs");
    }
    char want[96];
    snprintf(want, sizeof want, "they settled %lld order%s (", settled, settled == 1 ? "" : "s");
    const char *t = json_string_value(json_object_get(j, "takeaway"));
    assert_non_null(strstr(t, want));
    snprintf(want, sizeof want, "The workers finished %lld job%s,", jobs, jobs == 1 ? "" : "s");
    assert_non_null(strstr(t, want));
}

/* Each phase's live line prints the req/s its row of the phases table
 * holds: one measurement, not two. */
static void check_live_rates(json_t *j)
{
    json_t *phases = dj_table(j, "phases"), *line;
    size_t i, k = 0;
    json_array_foreach(json_object_get(j, "log"), i, line) {
        const char *text = json_string_value(json_object_get(line, "text"));
        const char *end = text ? strstr(text, " req/s") : NULL;
        if (!end)
            continue;
        const char *num = end;
        while (num > text && num[-1] != ' ')
            num--;
        double printed = strtod(num, NULL);
        assert_true(k < json_array_size(phases));
        double rps = dj_cell_num(json_array_get(phases, k++), "rps");
        if (printed < rps - 0.51 || printed > rps + 0.51)
            fail_msg("live line \"%s\" against %.1f req/s in the table", text, rps);
    }
    assert_int_equal(k, json_array_size(phases));
}

/* A run into a fresh db=PATH: its report against the file it leaves. */
static void test_counts_against_database(void **state)
{
    (void)state;
    struct dbfile f;
    dbfile_new(&f);
    const char *args[16];
    int n = 0;
    for (const char *const *a = SMALL; *a; a++)
        args[n++] = *a;
    args[n++] = f.arg;
    args[n] = NULL;
    struct resources r;
    res_begin(&r);
    int code;
    json_t *j = ct_demo_json("microservice", args, &code);
    assert_true(res_end(&r));
    assert_non_null(j);
    assert_int_equal(code, 0);
    dj_assert_checks(j);
    check_bad_input(j);
    struct db_counts c = db_counts(f.path);
    long long accepted = dj_int(j, "accepted"), rejected = dj_int(j, "rejected");
    assert_true(accepted > 0);
    /* the bad-input phase adds one order of its own, cancelled */
    assert_int_equal(c.total, accepted + 1 + rejected);
    assert_int_equal(c.pending + c.processing, 0);
    assert_int_equal(c.completed, dj_int(j, "completed"));
    assert_int_equal(c.failed, dj_int(j, "failed"));
    assert_int_equal(dj_int(j, "unfinished"), 0);
    assert_int_equal(dj_int(j, "recovered"), 0);
    /* the takeaway's rows add up to what the file holds */
    char want[160];
    snprintf(want, sizeof want, "among the %lld new rows (the other %lld: 1 from the bad-input "
             "client, %lld refused with 503)", c.total, c.total - accepted, rejected);
    assert_non_null(strstr(json_string_value(json_object_get(j, "takeaway")), want));
    check_workers_sentence(j);
    check_live_rates(j);
    json_decref(j);
    ct_tmpdir_remove(f.dir);
}

/* The default database: a temporary directory, gone afterwards, with
 * descriptors and threads as they were; twice, the cache each way. */
static void test_temp_database_removed(void **state)
{
    (void)state;
    static const char *const modes[] = { "cache=on", "cache=off" };
    for (int k = 0; k < 2; k++) {
        const char *args[] = { "clients=3", "load-ms=40", "threads=1", "pool=2", "workers=1",
                               modes[k], NULL };
        struct resources r;
        res_begin(&r);
        int code;
        json_t *j = ct_demo_json("microservice", args, &code);
        assert_true(res_end(&r));
        assert_non_null(j);
        assert_int_equal(code, 0);
        dj_assert_checks(j);
        json_decref(j);
    }
}

/* ---- bad input, from the test's own client -------------------------------- */

struct bad {
    const char *method, *path, *body;
    long expect;
};

static void expect_codes(int port, const struct bad *cases, size_t n)
{
    struct body b;
    for (size_t i = 0; i < n; i++) {
        long got = http(port, cases[i].method, cases[i].path, cases[i].body, &b);
        if (got != cases[i].expect)
            fail_msg("%s %s %s: expected %ld, got %ld: %s", cases[i].method, cases[i].path,
                     cases[i].body ? cases[i].body : "", cases[i].expect, got, b.text);
        /* every error says what is wrong, as JSON */
        if (got >= 400) {
            json_t *j = json_loads(b.text, 0, NULL);
            assert_true(json_is_string(json_object_get(j, "error")));
            json_decref(j);
        }
    }
}

/* Wait until order `id` is `status` (bounded). */
static void wait_status(int port, long long id, const char *status)
{
    char path[64], got[32] = "";
    struct body b;
    snprintf(path, sizeof path, "/orders/%lld", id);
    for (double end = now_ms() + 20000; now_ms() < end;) {
        assert_int_equal(http(port, "GET", path, NULL, &b), 200);
        if (strcmp(body_status(&b, got, sizeof got), status) == 0)
            return;
        nanosleep(&(struct timespec){ .tv_nsec = 5 * 1000 * 1000 }, NULL);
    }
    fail_msg("order %lld stayed '%s', never '%s'", id, got, status);
}

static long long create(int port)
{
    struct body b;
    assert_int_equal(http(port, "POST", "/orders",
                          "{\"user_id\":3,\"product_id\":4,\"quantity\":5}", &b), 201);
    long long id = body_id(&b);
    assert_true(id > 0);
    return id;
}

/* Malformed and wrong bodies, odd ids, methods: nothing is created. */
static void bad_requests(int port)
{
    static const struct bad cases[] = {
        { "POST", "/orders", "", 400 },
        { "POST", "/orders", "{", 400 },
        { "POST", "/orders", "{\"user_id\":1,,}", 400 },
        { "POST", "/orders", "\"just a string\"", 422 },
        { "POST", "/orders", "{\"user_id\":\"1\",\"product_id\":2,\"quantity\":3}", 422 },
        { "POST", "/orders", "{\"user_id\":1,\"product_id\":2,\"quantity\":-3}", 422 },
        { "POST", "/orders", "{\"user_id\":1,\"product_id\":2,\"quantity\":1001}", 422 },
        { "POST", "/orders", "{\"user_id\":1,\"product_id\":2,\"quantity\":1.5}", 422 },
        { "GET", "/orders/0", NULL, 400 },
        { "GET", "/orders/-4", NULL, 400 },
        { "GET", "/orders/12x", NULL, 400 },
        { "GET", "/orders/99999999999999999999", NULL, 400 },
        { "GET", "/orders/424242", NULL, 404 },
        { "GET", "/orders/1/status", NULL, 405 },
        { "PUT", "/orders", "{}", 405 },
        { "GET", "/", NULL, 404 },
        { "GET", "/orders/1/status/x", NULL, 404 },
        { "POST", "/orders/424242/status", "\"failed\"", 404 },
        { "POST", "/orders/1/status", "{\"status\":5}", 422 },
        { "POST", "/orders/1/status", "\"cancelled\"", 422 },
        { "POST", "/orders/1/status", "{\"status\":", 400 },
        { "GET", "/orders?limit=0", NULL, 400 },
        { "GET", "/orders?limit=101", NULL, 400 },
    };
    expect_codes(port, cases, sizeof cases / sizeof cases[0]);
}

static void status_moves(int port, long long a, long long b_id)
{
    char pa[48], pb[48];
    snprintf(pa, sizeof pa, "/orders/%lld/status", a);
    snprintf(pb, sizeof pb, "/orders/%lld/status", b_id);
    /* b is pending (the one worker is busy with a), a is processing */
    const struct bad cases[] = {
        { "POST", pb, "\"completed\"", 409 },   /* completed only from processing */
        { "POST", pb, "\"processing\"", 409 },  /* workers' moves, not clients' */
        { "POST", pb, "\"pending\"", 409 },
        { "POST", pb, "{\"status\":\"failed\"}", 200 },   /* a cancel */
        { "POST", pb, "\"failed\"", 409 },      /* final now */
        { "POST", pb, "\"completed\"", 409 },
        { "POST", pa, "\"pending\"", 409 },
        { "POST", pa, "\"completed\"", 200 },   /* settled under the worker */
        { "POST", pa, "\"failed\"", 409 },
    };
    expect_codes(port, cases, sizeof cases / sizeof cases[0]);
}

static void test_bad_input_from_outside(void **state)
{
    (void)state;
    struct dbfile f;
    dbfile_new(&f);
    /* one worker, slow: order a stays `processing` while the test works */
    const char *args[] = { "serve=true", "workers=1", "work-ms=3000", "threads=2", f.arg, NULL };
    struct live *l = malloc(sizeof *l);
    assert_non_null(l);
    live_start(l, args, NULL);
    int port = live_port(l);
    live_wait_for(l, "job workers started");
    long long before = db_counts(f.path).total;   /* the demo's own bad-input order */
    bad_requests(port);
    long long a = create(port);
    wait_status(port, a, "processing");
    long long b = create(port);
    status_moves(port, a, b);
    bad_requests(port);
    kill(l->pid, SIGINT);
    int st = live_finish(l);
    if (st != 0)
        fail_msg("exit %d after one Ctrl-C:\n%s", st, l->out);
    struct db_counts c = db_counts(f.path);
    assert_int_equal(c.total, before + 2);
    assert_int_equal(c.pending + c.processing, 0);
    char s[32];
    long long v;
    db_order(f.path, a, s, sizeof s, &v);
    assert_string_equal(s, "completed");
    assert_int_equal(v, 2);             /* processing, then completed: no more */
    db_order(f.path, b, s, sizeof s, &v);
    assert_string_equal(s, "failed");
    assert_int_equal(v, 1);
    free(l);
    ct_tmpdir_remove(f.dir);
}

/* ---- Ctrl-C -------------------------------------------------------------------- */

/* One Ctrl-C during the load: the stop is graceful, the audit runs, every
 * check passes and the database holds only settled orders. */
static void test_sigint_during_load(void **state)
{
    (void)state;
    static const double at_ms[] = { 250, 500 };
    for (size_t k = 0; k < sizeof at_ms / sizeof at_ms[0]; k++) {
        struct dbfile f;
        dbfile_new(&f);
        const char *params[] = { "load-ms=2000", "threads=2", "workers=2", f.arg, NULL };
        struct ct_proc p;
        res_run_demo(&p, "microservice", params, NULL, at_ms[k]);
        if (p.status != 0)
            fail_msg("exit %d after Ctrl-C at %.0f ms\n%s", p.status, at_ms[k], p.err);
        json_t *j = ct_json_parse(p.out);
        assert_non_null(j);
        dj_assert_checks(j);
        struct db_counts c = db_counts(f.path);
        assert_int_equal(c.pending + c.processing, 0);
        assert_int_equal(c.total, dj_int(j, "accepted") + 1 + dj_int(j, "rejected"));
        json_decref(j);
        ct_proc_free(&p);
        ct_tmpdir_remove(f.dir);
    }
}

/* Ctrl-C with every descriptor, thread and temporary file counted, in
 * set-up, the bad-input phase, the load and (serve=true) while serving. */
static void test_sigint_resources(void **state)
{
    (void)state;
    static const char *const load[] = { "load-ms=400", "threads=2", "workers=2", NULL };
    static const char *const serving[] = { "serve=true", "threads=2", NULL };
    static const double at_ms[] = { 30, 120, 400 };
    for (size_t k = 0; k < sizeof at_ms / sizeof at_ms[0]; k++)
        res_sigint("microservice", load, at_ms[k]);
    res_sigint("microservice", serving, 300);
}

/* Creates from the test's own connections: every 201's id into ids. */
struct creator {
    CURLM *m;
    CURL *h[8];
    struct body b[8];
    bool busy[8];
    long long *ids;
    size_t n, cap;
    int port;
};

static void creator_start(struct creator *c, int i)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/orders", c->port);
    c->b[i].len = 0;
    curl_easy_setopt(c->h[i], CURLOPT_URL, url);
    curl_easy_setopt(c->h[i], CURLOPT_POSTFIELDS,
                     "{\"user_id\":9,\"product_id\":9,\"quantity\":1}");
    c->busy[i] = curl_multi_add_handle(c->m, c->h[i]) == CURLM_OK;
}

/* Run the creators for `ms`, restarting each as it finishes if `more`;
 * returns how many are still in flight. */
static int creator_run(struct creator *c, double ms, bool more)
{
    double end = now_ms() + ms;
    int running = 0;
    while (now_ms() < end) {
        curl_multi_perform(c->m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(c->m, &left))) {
            int i = 0;
            while (c->h[i] != msg->easy_handle)
                i++;
            long code = 0;
            if (msg->data.result == CURLE_OK)
                curl_easy_getinfo(c->h[i], CURLINFO_RESPONSE_CODE, &code);
            curl_multi_remove_handle(c->m, c->h[i]);
            c->busy[i] = false;
            if (code == 201 && c->n < c->cap)
                c->ids[c->n++] = body_id(&c->b[i]);
            if (more)
                creator_start(c, i);
        }
        int busy = 0;
        for (int i = 0; i < 8; i++)
            busy += c->busy[i];
        if (!busy)
            return 0;
        curl_multi_poll(c->m, NULL, 0, 5, NULL);
    }
    return running;
}

/* Ctrl-C twice while orders pour in: the cancel leaves some unfinished;
 * the next start with the same file recovers and settles them all. */
static void test_cancel_then_recover(void **state)
{
    (void)state;
    struct dbfile f;
    dbfile_new(&f);
    const char *args[] = { "serve=true", "workers=1", "work-ms=100", "threads=2", f.arg, NULL };
    struct live *l = malloc(sizeof *l);
    struct creator *c = calloc(1, sizeof *c);
    assert_true(l && c);
    live_start(l, args, NULL);
    c->port = live_port(l);
    c->cap = 100000;
    c->ids = malloc(c->cap * sizeof *c->ids);
    c->m = curl_multi_init();
    for (int i = 0; i < 8; i++) {
        c->h[i] = new_handle(&c->b[i]);
        creator_start(c, i);
    }
    for (double end = now_ms() + 20000; c->n < 40 && now_ms() < end;)
        creator_run(c, 20, true);
    assert_true(c->n >= 40);
    kill(l->pid, SIGINT);               /* graceful: the drain begins */
    creator_run(c, 30, true);
    kill(l->pid, SIGINT);               /* and is cut short */
    creator_run(c, 3000, false);
    int st = live_finish(l);
    if (st != 130)
        fail_msg("exit %d after two Ctrl-Cs:\n%s", st, l->out);
    struct db_counts before = db_counts(f.path);
    /* one worker at 100 ms an order cannot have kept up with 40 */
    assert_true(before.pending + before.processing > 0);

    const char *again[] = { "clients=2", "load-ms=40", "threads=2", "workers=4", "work-ms=0",
                            f.arg, NULL };
    struct ct_proc p;
    res_run_demo(&p, "microservice", again, NULL, 0);
    assert_int_equal(p.status, 0);
    json_t *j = ct_json_parse(p.out);
    assert_non_null(j);
    dj_assert_checks(j);
    assert_int_equal(dj_int(j, "recovered"), before.pending + before.processing);
    json_decref(j);
    ct_proc_free(&p);
    struct db_counts after = db_counts(f.path);
    assert_int_equal(after.pending + after.processing, 0);
    for (size_t i = 0; i < c->n; i++) {
        char s[32];
        long long v;
        db_order(f.path, c->ids[i], s, sizeof s, &v);
        if (strcmp(s, "completed") != 0 && strcmp(s, "failed") != 0)
            fail_msg("accepted order %lld is '%s' after the restart", c->ids[i], s);
    }
    for (int i = 0; i < 8; i++) {
        if (c->busy[i])
            curl_multi_remove_handle(c->m, c->h[i]);
        curl_easy_cleanup(c->h[i]);
    }
    curl_multi_cleanup(c->m);
    free(c->ids);
    free(c);
    free(l);
    ct_tmpdir_remove(f.dir);
}

/* ---- a port already taken -------------------------------------------------- */

static void test_port_taken(void **state)
{
    (void)state;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s >= 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof sa;
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(s, 1), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &len), 0);
    char port[32];
    snprintf(port, sizeof port, "port=%d", ntohs(sa.sin_port));
    struct resources r;
    res_begin(&r);
    const char *env[] = { res_tmpdir_env(&r), NULL };
    struct ct_proc p;
    res_run_demo(&p, "microservice", (const char *const[]){ port, NULL }, env, 0);
    assert_int_equal(p.status, 1);
    assert_non_null(strstr(p.out, "cannot listen"));
    ct_proc_free(&p);
    assert_true(res_end(&r));
    close(s);
}

/* A database that cannot be opened: an error, nothing left behind. */
static void test_bad_db_path(void **state)
{
    (void)state;
    struct resources r;
    res_begin(&r);
    const char *env[] = { res_tmpdir_env(&r), NULL };
    struct ct_proc p;
    res_run_demo(&p, "microservice", (const char *const[]){ "db=/nonexistent/dir/x.db", NULL },
                 env, 0);
    assert_int_equal(p.status, 1);
    assert_non_null(strstr(p.out, "cannot open"));
    ct_proc_free(&p);
    assert_true(res_end(&r));
}

int main(int argc, char **argv)
{
    int child = res_child_main(argc, argv);
    if (child >= 0)
        return child;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_against_database),
        cmocka_unit_test(test_temp_database_removed),
        cmocka_unit_test(test_bad_input_from_outside),
        cmocka_unit_test(test_sigint_during_load),
        cmocka_unit_test(test_sigint_resources),
        cmocka_unit_test(test_cancel_then_recover),
        cmocka_unit_test(test_port_taken),
        cmocka_unit_test(test_bad_db_path),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
