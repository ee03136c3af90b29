/* pool.c - demo `pool`: a pool of five SQLite connections serving ten
 * concurrent queries, then the same queries with a short acquire timeout.
 *
 * Shows: the guide's connection pool (max_connections 5, an acquire
 * timeout, 10 concurrent queries) against a real database: an SQLite file
 * in WAL mode in a fresh temporary directory (or db=PATH, kept), one
 * sqlite3 connection per pooled resource, opened on demand by the pool
 * (pool.h) and closed when it is destroyed.  Each query borrows a
 * connection, writes one row and reads its own number back (the guide's
 * SELECT $1), then keeps the connection `hold-ms` more, standing for a
 * slow query.  Phase 1: the first five get connections, the other five
 * wait until one is handed back.  Phase 2: the acquire timeout is shorter
 * than a hold, so the late queries give up with an error instead of
 * hanging.  Afterwards the demo counts the rows in the file and removes
 * the temporary directory.
 * Watch for: "new" against "reused" connections, the waits in the second
 * wave, the timed-out queries of phase 2, and the counts: never more than
 * five open, every connection back, every row where it should be.
 * Lesson: connection-pool (chapter 8).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "demo.h"
#include "clock.h"
#include "crew.h"
#include "pool.h"

#define MAX_QUERIES 20

/* The database and what the pool's callbacks count, independently of the
 * pool's own figures. */
struct store {
    struct ct_run *run;
    char dir[PATH_MAX];         /* the temporary directory, or "" */
    char path[PATH_MAX];
    int busy_ms;
    atomic_int next_id, live, max_live, opened, closed;
    long long rows_before, rows_after;
};

/* One pooled connection: the sqlite3 handle and its prepared statements
 * (a real pool keeps them with the connection, so they are prepared once). */
struct conn {
    sqlite3 *db;
    sqlite3_stmt *insert, *select;
    int id, uses;
    double open_ms;             /* what opening it cost */
};

struct query_rec {
    int rc;                     /* 0, -ETIMEDOUT, -ECANCELED, or -EIO (SQL) */
    int sql_rc;                 /* SQLite's code when rc is -EIO */
    int conn;                   /* 0: it never got one */
    bool fresh;                 /* the pool opened the connection for it */
    bool wrote;                 /* its INSERT went in */
    bool open_busy;             /* opening its connection met SQLITE_BUSY */
    double waited_ms;           /* from asking to having a connection */
    double open_ms;             /* of that, opening it (fresh ones) */
    double write_ms;
    long long echo;             /* what SELECT ?1 returned */
};

struct phase {
    int n;
    double timeout_ms;
    struct query_rec q[MAX_QUERIES];
    int ok, timed_out, failed, busy, open_busy;
    struct ct_pool_stats after; /* the pool's counts when it was over */
};

struct shared {
    struct ct_run *run;
    struct ct_pool *pool;
    struct store *st;
    int lanes[MAX_QUERIES];
    double hold_ms;
    atomic_int out, max_out;    /* connections checked out, counted here */
};

struct query {
    struct ct_member m;         /* first: the crew's part */
    struct shared *sh;
    struct phase *ph;
    int phase_no;
};

/* ---- the database ------------------------------------------------------- */

static void close_conn(struct conn *c)
{
    sqlite3_finalize(c->insert);
    sqlite3_finalize(c->select);
    sqlite3_close(c->db);
    free(c);
}

/* Pool callback: open one connection.  0, -EAGAIN (SQLite was busy) or
 * -EIO (SQLite's message said). */
static int conn_open(void *ctx, void **out)
{
    struct store *st = ctx;
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    int64_t t0 = ct_clock_ns();
    int rc = sqlite3_open_v2(st->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(c->db, st->busy_ms);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(c->db, "INSERT INTO visits(phase, query, conn) VALUES(?1, ?2, ?3)",
                                -1, &c->insert, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(c->db, "SELECT ?1, count(*) FROM visits", -1, &c->select, NULL);
    if (rc != SQLITE_OK) {
        ct_say(st->run, "cannot open %s: %s", st->path, sqlite3_errmsg(c->db));
        close_conn(c);
        /* reading the schema meets a writer's lock like a query does: at
         * busy-ms=0 that is SQLITE_BUSY, the setting at work */
        return (rc & 0xff) == SQLITE_BUSY ? -EAGAIN : -EIO;
    }
    c->open_ms = (double)(ct_clock_ns() - t0) / 1e6;
    c->id = atomic_fetch_add(&st->next_id, 1) + 1;
    int live = atomic_fetch_add(&st->live, 1) + 1;
    int seen = atomic_load(&st->max_live);
    while (live > seen && !atomic_compare_exchange_weak(&st->max_live, &seen, live))
        ;
    atomic_fetch_add(&st->opened, 1);
    *out = c;
    return 0;
}

/* Pool callback: close one. */
static void conn_close(void *ctx, void *res)
{
    struct store *st = ctx;
    close_conn(res);
    atomic_fetch_sub(&st->live, 1);
    atomic_fetch_add(&st->closed, 1);
}

/* The query's SQL on a borrowed connection: record the visit, then read
 * back its own number.  Returns SQLITE_OK or SQLite's error code. */
static int run_sql(struct conn *c, int phase, int q, struct query_rec *r)
{
    int64_t t0 = ct_clock_ns();
    sqlite3_bind_int(c->insert, 1, phase);
    sqlite3_bind_int(c->insert, 2, q);
    sqlite3_bind_int(c->insert, 3, c->id);
    int rc = sqlite3_step(c->insert);
    sqlite3_reset(c->insert);
    r->write_ms = (double)(ct_clock_ns() - t0) / 1e6;
    if (rc != SQLITE_DONE)
        return rc;
    r->wrote = true;
    sqlite3_bind_int(c->select, 1, q);
    rc = sqlite3_step(c->select);
    if (rc == SQLITE_ROW)
        r->echo = sqlite3_column_int64(c->select, 0);
    sqlite3_reset(c->select);
    return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* Run one statement on `db`; with `count`, the first column of its row. */
static int exec1(struct store *st, sqlite3 *db, const char *sql, long long *count)
{
    sqlite3_stmt *s;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW && count)
            *count = sqlite3_column_int64(s, 0);
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
        sqlite3_finalize(s);
    }
    if (rc != SQLITE_OK)
        ct_say(st->run, "sqlite: %s: %s", sql, sqlite3_errmsg(db));
    return rc;
}

/* With a connection of our own (not the pool's): the set-up statements
 * when `setup`, then the row count into *rows. */
static int store_visit(struct store *st, bool setup, long long *rows)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(st->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        ct_say(st->run, "cannot open %s: %s", st->path, sqlite3_errmsg(db));
    } else {
        sqlite3_busy_timeout(db, st->busy_ms);
        /* WAL sticks to the file: the pool's connections find it on */
        if (setup)
            rc = exec1(st, db, "PRAGMA journal_mode=WAL", NULL);
        if (rc == SQLITE_OK && setup)
            rc = exec1(st, db, "CREATE TABLE IF NOT EXISTS visits(id INTEGER PRIMARY KEY, "
                       "phase INTEGER, query INTEGER, conn INTEGER)", NULL);
        if (rc == SQLITE_OK)
            rc = exec1(st, db, "SELECT count(*) FROM visits", rows);
    }
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -EIO;
}

/* The database file: db=PATH, or a fresh temporary directory. */
static int store_open(struct ct_run *run, struct store *st)
{
    const char *db = ct_param_text(run, "db");
    st->run = run;
    st->busy_ms = (int)ct_param_int(run, "busy-ms");
    const char *tmp = getenv("TMPDIR");
    if (strcmp(db, "temp") != 0) {
        snprintf(st->path, sizeof st->path, "%s", db);
    } else if (snprintf(st->dir, sizeof st->dir, "%s/ct-pool-XXXXXX",
                        tmp && *tmp ? tmp : "/tmp") >= (int)sizeof st->dir - 16) {
        st->dir[0] = '\0';
        return -ENAMETOOLONG;
    } else {
        if (!mkdtemp(st->dir)) {
            int e = errno;
            ct_say(run, "cannot make a temporary directory: %s", strerror(e));
            st->dir[0] = '\0';
            return -e;
        }
        if (snprintf(st->path, sizeof st->path, "%s/pool.db", st->dir) >= (int)sizeof st->path)
            return -ENAMETOOLONG;
    }
    ct_say(run, "database: %s", st->path);
    return store_visit(st, true, &st->rows_before);
}

/* Remove the temporary directory and whatever SQLite left in it (the
 * -wal and -shm files go when the last connection closes cleanly).
 * True if it is gone (or there was none). */
static bool store_remove(struct store *st)
{
    if (!st->dir[0])
        return true;
    DIR *d = opendir(st->dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                unlinkat(dirfd(d), e->d_name, 0);
        closedir(d);
    }
    rmdir(st->dir);
    struct stat sb;
    return stat(st->dir, &sb) != 0 && errno == ENOENT;
}

/* ---- the queries -------------------------------------------------------- */

static void checked_out(struct shared *sh, int delta)
{
    int now = atomic_fetch_add(&sh->out, delta) + delta;
    int seen = atomic_load(&sh->max_out);
    while (now > seen && !atomic_compare_exchange_weak(&sh->max_out, &seen, now))
        ;
}

/* With a connection in hand: the SQL, then the rest of a slow query. */
static void use_conn(struct query *q, struct conn *c, struct query_rec *r, int lane)
{
    struct shared *sh = q->sh;
    struct ct_run *run = sh->run;
    int64_t got = ct_clock_ns();
    checked_out(sh, 1);
    r->conn = c->id;
    r->fresh = c->uses++ == 0;
    ct_mark_lane(run, lane, CT_HOLD);
    if (r->fresh) {
        r->open_ms = c->open_ms;
        ct_point_lane(run, lane, 'n');
        ct_say(run, "conn #%d, new: opened in %.1f ms", c->id, c->open_ms);
    } else {
        ct_say(run, "conn #%d, reused, after waiting %.1f ms", c->id, r->waited_ms);
    }
    int rc = run_sql(c, q->phase_no, q->m.id, r);
    if (rc != SQLITE_OK) {
        r->rc = -EIO;
        r->sql_rc = rc;
        ct_say(run, "query failed: %s", sqlite3_errstr(rc));
    }
    bool slept = ct_sleep_ms(run, sh->hold_ms);
    checked_out(sh, -1);
    ct_mark_lane(run, lane, CT_IDLE);
    if (slept)
        ct_say(run, "hands conn #%d back after %.0f ms", c->id,
               (double)(ct_clock_ns() - got) / 1e6);
    else if (r->rc == 0)
        r->rc = -ECANCELED;
}

static void *query_main(void *arg)
{
    struct query *q = arg;
    struct shared *sh = q->sh;
    struct ct_run *run = sh->run;
    struct query_rec *r = &q->ph->q[q->m.id - 1];
    int lane = sh->lanes[q->m.id - 1];
    if (!ct_member_begin(&q->m)) {
        r->rc = -ECANCELED;
        return NULL;
    }
    ct_mark_lane(run, lane, CT_WAIT);
    void *res;
    r->rc = ct_pool_acquire_timeout(sh->pool, &res, (int64_t)(q->ph->timeout_ms * 1e6),
                                    ct_cancel_event(run));
    r->waited_ms = (double)(ct_clock_ns() - q->m.start_ns) / 1e6;
    if (r->rc == 0) {
        use_conn(q, res, r, lane);
        ct_pool_release(sh->pool, res);
    } else {
        ct_mark_lane(run, lane, CT_IDLE);
        if (r->rc == -EAGAIN) {        /* opening its connection met SQLITE_BUSY */
            r->rc = -EIO;
            r->sql_rc = SQLITE_BUSY;
            r->open_busy = true;
        }
        if (r->rc == -ETIMEDOUT) {
            ct_point_lane(run, lane, 'x');
            ct_say(run, "no connection in %.0f ms: error, pool timed out", r->waited_ms);
        }
    }
    ct_member_end(&q->m);
    return NULL;
}

/* All queries of one phase, started together. */
static int run_phase(struct shared *sh, struct phase *ph, int phase_no)
{
    struct query qs[MAX_QUERIES];
    for (int i = 0; i < ph->n; i++)
        qs[i] = (struct query){ .sh = sh, .ph = ph, .phase_no = phase_no };
    double ms;
    int rc = ct_crew_run(sh->run, qs, sizeof qs[0], ph->n, query_main, "query", &ms);
    for (int i = 0; i < ph->n; i++) {
        const struct query_rec *r = &ph->q[i];
        ph->ok += r->rc == 0;
        ph->timed_out += r->rc == -ETIMEDOUT;
        ph->failed += r->rc == -EIO;
        ph->busy += r->rc == -EIO && (r->sql_rc & 0xff) == SQLITE_BUSY && !r->open_busy;
        ph->open_busy += r->open_busy;
    }
    ct_pool_get_stats(sh->pool, &ph->after);
    return rc;
}

/* ---- run and report ----------------------------------------------------- */

struct pool_result {
    int max, n, busy_ms;
    double hold_ms;
    struct phase ph[2];
    int max_live, opened, closed, max_out;
    struct ct_pool_stats end;   /* the pool's counts before it was destroyed */
    int destroy_rc;
    long long rows_written;
    bool temp, removed;
};

/* Make the pool, run both phases, destroy the pool. */
static int run_pool(struct ct_run *run, struct store *st, struct pool_result *r)
{
    struct ct_pool pool;
    struct ct_pool_config cfg = { .max = r->max, .create = conn_open, .destroy = conn_close,
                                  .ctx = st };
    int rc = ct_pool_init(&pool, &cfg);
    if (rc)
        return rc;
    /* ct_sleep_ms applies the time scale itself: give it the parameter */
    struct shared sh = { .run = run, .pool = &pool, .st = st,
                         .hold_ms = (double)ct_param_int(run, "hold-ms") };
    for (int i = 0; i < r->n; i++)
        sh.lanes[i] = ct_lane(run, "query-%d", i + 1);
    ct_legend(run, CT_WAIT, "waiting for a connection");
    ct_legend(run, CT_HOLD, "holding a connection");
    ct_point_legend(run, 'n', "the pool opened a new connection");
    ct_point_legend(run, 'x', "acquire timed out: an error");

    ct_section(run, "phase 1: %d queries, %d connections, %.0f ms timeout", r->n, r->max,
               r->ph[0].timeout_ms);
    rc = run_phase(&sh, &r->ph[0], 1);
    if (rc == 0 && !ct_cancelled(run)) {
        ct_section(run, "phase 2: the same with a %.0f ms timeout", r->ph[1].timeout_ms);
        rc = run_phase(&sh, &r->ph[1], 2);
    }
    ct_pool_get_stats(&pool, &r->end);
    r->destroy_rc = ct_pool_destroy(&pool);
    r->max_out = atomic_load(&sh.max_out);
    r->max_live = atomic_load(&st->max_live);
    r->opened = atomic_load(&st->opened);
    r->closed = atomic_load(&st->closed);
    return rc;
}

static const char *outcome(const struct query_rec *q)
{
    if (q->rc == 0)
        return q->fresh ? "ok, new conn" : "ok, reused";
    return q->rc == -ETIMEDOUT ? "timed out" : q->rc == -EIO ? "SQL error" : "cancelled";
}

/* Per phase: the table rows, and what the takeaway needs. */
struct phase_sums {
    int waited, echo_ok;
    double longest_wait, min_timeout_wait, max_timeout_wait;
    double fastest_write, slowest_write;
    double min_open, max_open;
};

static void sum_phase(struct ct_table *t, int p, const struct phase *ph, struct phase_sums *s)
{
    char name[24], conn[24];
    *s = (struct phase_sums){ .min_timeout_wait = 1e300, .min_open = 1e300,
                              .fastest_write = 1e300 };
    for (int i = 0; i < ph->n; i++) {
        const struct query_rec *q = &ph->q[i];
        snprintf(name, sizeof name, "query-%d", i + 1);
        snprintf(conn, sizeof conn, q->conn ? "#%d" : "-", q->conn);
        ct_table_row(t, CT_INT(p + 1), CT_TEXT(name), CT_NUM(q->waited_ms, 1), CT_TEXT(conn),
                     CT_TEXT(outcome(q)));
        if (q->rc == 0) {
            s->echo_ok += q->echo == i + 1;
            if (q->waited_ms > s->longest_wait)
                s->longest_wait = q->waited_ms;
        }
        if (q->rc == -ETIMEDOUT) {
            if (q->waited_ms < s->min_timeout_wait)
                s->min_timeout_wait = q->waited_ms;
            if (q->waited_ms > s->max_timeout_wait)
                s->max_timeout_wait = q->waited_ms;
        }
        if (q->conn && q->write_ms > s->slowest_write)
            s->slowest_write = q->write_ms;
        if (q->conn && q->write_ms < s->fastest_write)
            s->fastest_write = q->write_ms;
        if (q->fresh && q->open_ms < s->min_open)
            s->min_open = q->open_ms;
        if (q->fresh && q->open_ms > s->max_open)
            s->max_open = q->open_ms;
    }
}

static void report_checks(struct ct_run *run, const struct pool_result *r,
                          const struct phase_sums *s)
{
    ct_check(run, r->max_live <= r->max, "never more than %d connections open (most: %d)",
             r->max, r->max_live);
    ct_check(run, r->max_out <= r->max,
             "never more than %d queries held a connection at once (most: %d)", r->max,
             r->max_out);
    ct_check(run, r->end.in_use == 0 && r->end.acquired == r->end.released && r->destroy_rc == 0,
             "every connection came back: %llu lent, %llu returned",
             (unsigned long long)r->end.acquired, (unsigned long long)r->end.released);
    int timeouts = 0, wrote = 0;
    for (int p = 0; p < 2; p++) {
        const struct phase *ph = &r->ph[p];
        /* with busy-ms=0 a write that meets another fails with SQLITE_BUSY:
         * that is what the setting does, not a fault */
        int busy_ok = r->busy_ms == 0 ? ph->busy + ph->open_busy : 0;
        if (busy_ok)
            ct_check(run, ph->ok + ph->timed_out + busy_ok == ph->n,
                     "phase %d: every query ran, timed out, or met busy-ms=0's SQLITE_BUSY "
                     "(%d ran, %d timed out, %d SQLITE_BUSY, %d failed otherwise)",
                     p + 1, ph->ok, ph->timed_out, busy_ok,
                     ph->n - ph->ok - ph->timed_out - busy_ok);
        else
            ct_check(run, ph->ok + ph->timed_out == ph->n,
                     "phase %d: every query ran or timed out (%d ran, %d timed out, %d failed)",
                     p + 1, ph->ok, ph->timed_out, ph->n - ph->ok - ph->timed_out);
        ct_check(run, s[p].echo_ok == ph->ok, "phase %d: every query read its own number back",
                 p + 1);
        ct_check(run, ph->timed_out == 0 || s[p].min_timeout_wait >= ph->timeout_ms,
                 "phase %d: no acquire gave up before its %.0f ms timeout", p + 1,
                 ph->timeout_ms);
        timeouts += ph->timed_out;
        for (int i = 0; i < ph->n; i++)
            wrote += ph->q[i].wrote;
    }
    ct_check(run, r->end.timed_out == (uint64_t)timeouts,
             "the pool counted the same %d timeouts as the queries", timeouts);
    ct_check(run, r->rows_written == wrote, "%lld rows written, one per query that wrote (%d)",
             r->rows_written, wrote);
    ct_check(run, r->opened == r->closed, "every connection closed at the end (%d opened, %d "
             "closed)", r->opened, r->closed);
    if (r->temp)
        ct_check(run, r->removed, "the temporary directory was removed");
}

/* "60 ms" or "60 to 64 ms": a range as it reads after rounding to `dec`
 * decimals. */
static const char *ms_range(char *buf, size_t n, double lo, double hi, int dec)
{
    char a[24], b[24];
    snprintf(a, sizeof a, "%.*f", dec, lo);
    snprintf(b, sizeof b, "%.*f", dec, hi);
    if (strcmp(a, b) == 0)
        snprintf(buf, n, "%s ms", a);
    else
        snprintf(buf, n, "%s to %s ms", a, b);
    return buf;
}

static void report_takeaway(struct ct_run *run, const struct pool_result *r,
                            const struct phase_sums *s)
{
    const struct phase *p1 = &r->ph[0], *p2 = &r->ph[1];
    double lo = s[0].min_open < s[1].min_open ? s[0].min_open : s[1].min_open;
    double hi = s[0].max_open > s[1].max_open ? s[0].max_open : s[1].max_open;
    char open[64], gave_up[64], first[200];
    if (p1->timed_out == 0 && p1->failed == 0)
        snprintf(first, sizeof first, "%d got one at once and %d waited, the longest %.0f ms, "
                 "until another query handed one back.", p1->n - (int)p1->after.waited,
                 (int)p1->after.waited, s[0].longest_wait);
    else
        snprintf(first, sizeof first, "%d ran, after waiting at most %.0f ms, and %d timed "
                 "out after %s (a %.0f ms timeout).", p1->ok, s[0].longest_wait,
                 p1->timed_out, ms_range(gave_up, sizeof gave_up, s[0].min_timeout_wait,
                                         s[0].max_timeout_wait, 0), p1->timeout_ms);
    ct_takeaway(run,
                "Phase 1: %d queries shared %d connections. %s The pool opened %d "
                "connection%s (each took %s) and lent them %llu times: the cost of opening was "
                "paid %d times, not once per query.",
                p1->n, r->max, first, r->opened, r->opened == 1 ? "" : "s",
                r->opened ? ms_range(open, sizeof open, lo, hi, 1) : "no time",
                (unsigned long long)r->end.acquired, r->opened);
    if (p2->timed_out > 0)
        ct_takeaway(run,
                    "Phase 2: with a %.0f ms timeout, %s than a %.0f ms hold%s, %d queries "
                    "gave up after %s and reported an error (sqlx's PoolTimedOut); none hung "
                    "and no connection leaked. The caller can retry or answer 503: a bounded "
                    "wait turns an overloaded pool into errors, not a growing queue.",
                    p2->timeout_ms,
                    p2->timeout_ms < r->hold_ms ? "shorter" : "no shorter", r->hold_ms,
                    p2->timeout_ms < r->hold_ms ? "" : " but shorter than the queue ahead",
                    p2->timed_out,
                    ms_range(gave_up, sizeof gave_up, s[1].min_timeout_wait,
                             s[1].max_timeout_wait, 0));
    else
        ct_takeaway(run,
                    "Phase 2: no acquire timed out in this run (%.0f ms timeout, %.0f ms "
                    "hold); make short-ms smaller than hold-ms, or queries larger than max, "
                    "to see timeouts.", p2->timeout_ms, r->hold_ms);
    double fast = s[0].fastest_write < s[1].fastest_write ? s[0].fastest_write
                                                          : s[1].fastest_write;
    double slow = s[0].slowest_write > s[1].slowest_write ? s[0].slowest_write
                                                          : s[1].slowest_write;
    if (fast > slow)
        fast = slow = 0;        /* no query got as far as writing */
    int busy = r->ph[0].busy + r->ph[1].busy;
    int open_busy = r->ph[0].open_busy + r->ph[1].open_busy;
    if (r->busy_ms == 0 && busy == 0)
        ct_takeaway(run,
                    "Every write went into one file. SQLite lets one writer at a time into a "
                    "WAL database, and with busy_timeout 0 it does not wait for the write "
                    "lock: a write that finds it taken fails at once with SQLITE_BUSY. None "
                    "did in this run: no write found the lock taken.");
    else if (r->busy_ms == 0)
        ct_takeaway(run,
                    "Every write went into one file. SQLite lets one writer at a time into a "
                    "WAL database, and with busy_timeout 0 it does not wait for the write "
                    "lock: a write that finds it taken fails at once with SQLITE_BUSY. %d "
                    "write%s did; %s the SQL errors in the queries table. With busy-ms above "
                    "0 a write waits its turn instead.",
                    busy, busy == 1 ? "" : "s", busy == 1 ? "it is one of" : "they are among");
    if (r->busy_ms == 0 && open_busy > 0)
        ct_takeaway(run,
                    "Opening a connection reads the schema, which meets the same lock: %d "
                    "new connection%s failed that way with busy_timeout 0, and %s quer%s "
                    "failed with %s.",
                    open_busy, open_busy == 1 ? "" : "s", open_busy == 1 ? "its" : "their",
                    open_busy == 1 ? "y" : "ies", open_busy == 1 ? "it" : "them");
    else if (busy == 0)
        ct_takeaway(run,
                    "Every write went into one file. SQLite lets one writer at a time into a "
                    "WAL database; busy_timeout (%d ms) made the others wait for the write "
                    "lock instead of failing with SQLITE_BUSY (none failed). Writes took from "
                    "%.1f to %.1f ms: a write waits for the writers ahead of it, then for its "
                    "own commit to reach the disk.",
                    r->busy_ms, fast, slow);
    else
        ct_takeaway(run,
                    "Every write went into one file. SQLite lets one writer at a time into a "
                    "WAL database; busy_timeout (%d ms) let the others wait for the write "
                    "lock, but %d still failed with SQLITE_BUSY: a larger busy-ms lets them "
                    "wait longer. Writes took from %.1f to %.1f ms.",
                    r->busy_ms, busy, fast, slow);
}

static void report_pool(struct ct_run *run, const struct pool_result *r)
{
    static const char *const cols[] = { "phase", "query", "wait_ms|waited ms", "conn",
                                        "outcome", NULL };
    struct ct_table *t = ct_table_new(run, "queries", NULL, cols);
    struct phase_sums s[2];
    for (int p = 0; p < 2; p++)
        sum_phase(t, p, &r->ph[p], &s[p]);
    ct_result_int(run, "max_open", "connections open at most", r->max_live, NULL);
    ct_result_int(run, "max_checked_out", "queries holding one at once, at most", r->max_out,
                  NULL);
    ct_result_int(run, "opened", "connections opened", r->opened, NULL);
    ct_result_int(run, "reused", "times a connection was reused",
                  (long long)r->end.acquired - r->opened, NULL);
    ct_result_int(run, "phase1_ok", "phase 1: queries that ran", r->ph[0].ok, NULL);
    ct_result_int(run, "phase1_waited", "phase 1: queries that waited",
                  (long long)r->ph[0].after.waited, NULL);
    ct_result_int(run, "phase2_ok", "phase 2: queries that ran", r->ph[1].ok, NULL);
    ct_result_int(run, "phase2_timed_out", "phase 2: acquires timed out", r->ph[1].timed_out,
                  NULL);
    ct_result_int(run, "rows_written", "rows written", r->rows_written, NULL);
    ct_result_int(run, "sqlite_busy", "writes failed with SQLITE_BUSY",
                  r->ph[0].busy + r->ph[1].busy, NULL);
    report_checks(run, r, s);
    report_takeaway(run, r, s);
}

static int pool_run(struct ct_run *run)
{
    double scale = ct_scale(run);
    struct pool_result r = {
        .max = (int)ct_param_int(run, "max"),
        .n = (int)ct_param_int(run, "queries"),
        .busy_ms = (int)ct_param_int(run, "busy-ms"),
        .hold_ms = (double)ct_param_int(run, "hold-ms") * scale,
    };
    /* durations on the run's time scale, as printed */
    r.ph[0] = (struct phase){ .n = r.n,
                              .timeout_ms = (double)ct_param_int(run, "timeout-ms") * scale };
    r.ph[1] = (struct phase){ .n = r.n,
                              .timeout_ms = (double)ct_param_int(run, "short-ms") * scale };
    struct store st = { .run = run };
    int rc = store_open(run, &st);
    r.temp = st.dir[0] != '\0';
    if (rc == 0)
        rc = run_pool(run, &st, &r);
    if (rc == 0 && !ct_cancelled(run))
        rc = store_visit(&st, false, &st.rows_after);
    r.rows_written = st.rows_after - st.rows_before;
    r.removed = store_remove(&st);
    if (rc == 0 && r.temp && !ct_cancelled(run))
        ct_say(run, "removed %s", st.dir);
    if (rc)
        return rc == -ECANCELED ? 0 : rc;
    if (!ct_cancelled(run))
        report_pool(run, &r);
    return 0;
}

static const struct ct_param_spec pool_params[] = {
    { "max", CT_PARAM_INT, "5", 1, 16, NULL, "connections in the pool (the guide's 5)" },
    { "queries", CT_PARAM_INT, "10", 1, MAX_QUERIES, NULL, "concurrent queries per phase" },
    { "hold-ms", CT_PARAM_INT, "150", 0, 5000, NULL, "ms each query keeps its connection" },
    { "timeout-ms", CT_PARAM_INT, "1000", 0, 60000, NULL, "acquire timeout, phase 1" },
    { "short-ms", CT_PARAM_INT, "60", 0, 60000, NULL, "acquire timeout, phase 2" },
    { "busy-ms", CT_PARAM_INT, "1000", 0, 1000, NULL,
      "SQLite busy_timeout (a wait Ctrl-C cannot cut short)" },
    { "db", CT_PARAM_TEXT, "temp", 0, 0, NULL,
      "database file; temp: a new one in a temporary directory, removed at the end" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_pool = {
    .name = "pool",
    .chapter = 8,
    .title = "A pool of database connections",
    .summary = "Ten queries share five SQLite connections; waits, reuse and timeouts counted",
    .intro = "Ten queries run at once against a real SQLite file, borrowing connections from "
             "a pool of five: half wait for a connection to be handed back. Then the same "
             "queries with an acquire timeout shorter than a query: the late ones fail with "
             "an error instead of waiting.",
    .params = pool_params,
    .smoke = "queries=6 max=2 hold-ms=20 short-ms=5",
    .run = pool_run,
};
