/* test-pool.c - the resource pool (pool.h) and the demo `pool` built on
 * it, one file for both (suites lib and demo).
 *
 * The pool: never more than `max` open, even under contention with
 * discards; no resource lent to two holders at once; every acquire
 * matched by a release or a discard; timeouts and cancellations exact; a
 * failed open gives its place back; destroy closes every resource it
 * opened, or refuses while some are out.
 *
 * The demo: its counts agree with each other and with the database file
 * (rows written = queries that ran), no connection id beyond `max`; and
 * it leaves no descriptor, thread or temporary file behind, whether it
 * finishes, fails to open its database, or is stopped by Ctrl-C. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "pool.h"
#include "resources.h"
#include "stress.h"
#include "util.h"

/* The resources: counted by the callbacks, independently of the pool. */
struct res {
    int id;
    atomic_int holders;         /* must only ever be 0 or 1 */
};

struct factory {
    atomic_int live, max_live, next_id;
    atomic_int created, destroyed;
    atomic_int fail_at;         /* the n-th create fails with -EIO (0: never) */
};

static int create(void *ctx, void **out)
{
    struct factory *f = ctx;
    int n = atomic_fetch_add(&f->created, 1) + 1;
    if (n == atomic_load(&f->fail_at)) {
        atomic_store(&f->fail_at, 0);           /* once */
        atomic_fetch_sub(&f->created, 1);
        return -EIO;
    }
    struct res *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->id = atomic_fetch_add(&f->next_id, 1) + 1;
    int live = atomic_fetch_add(&f->live, 1) + 1;
    int seen = atomic_load(&f->max_live);
    while (live > seen && !atomic_compare_exchange_weak(&f->max_live, &seen, live))
        ;
    *out = r;
    return 0;
}

static void destroy(void *ctx, void *res)
{
    struct factory *f = ctx;
    atomic_fetch_sub(&f->live, 1);
    atomic_fetch_add(&f->destroyed, 1);
    free(res);
}

static void pool_new(struct ct_pool *p, struct factory *f, int max)
{
    *f = (struct factory){ 0 };
    struct ct_pool_config cfg = { .max = max, .create = create, .destroy = destroy, .ctx = f };
    assert_int_equal(ct_pool_init(p, &cfg), 0);
}

struct user {
    pthread_t tid;
    struct ct_pool *pool;
    int id, iters;
    long got, released, discarded, timeouts, errors, doubles;
};

static void *use(void *arg)
{
    struct user *u = arg;
    for (int i = 0; i < u->iters; i++) {
        void *v;
        int64_t timeout = (i + u->id) % 2 ? -1 : 2 * CT_NS_PER_MS;
        int rc = ct_pool_acquire_timeout(u->pool, &v, timeout, NULL);
        if (rc == -ETIMEDOUT) {
            u->timeouts++;
            continue;
        }
        if (rc) {
            u->errors++;
            continue;
        }
        u->got++;
        struct res *r = v;
        if (atomic_fetch_add(&r->holders, 1) != 0)
            u->doubles++;
        if (i % 8 == 0)
            sched_yield();
        atomic_fetch_sub(&r->holders, 1);
        if (i % 97 == 0) {
            ct_pool_discard(u->pool, r);       /* "broken": closed, replaced later */
            u->discarded++;
        } else {
            ct_pool_release(u->pool, r);
            u->released++;
        }
    }
    return NULL;
}

static void test_contention(void **state)
{
    (void)state;
    enum { MAX = 3, USERS = 8 };
    struct ct_pool pool;
    struct factory f;
    pool_new(&pool, &f, MAX);
    struct user u[USERS];
    for (int i = 0; i < USERS; i++) {
        u[i] = (struct user){ .pool = &pool, .id = i, .iters = CT_STRESS(10000, 1000) };
        assert_int_equal(pthread_create(&u[i].tid, NULL, use, &u[i]), 0);
    }
    long got = 0, released = 0, discarded = 0, timeouts = 0;
    for (int i = 0; i < USERS; i++) {
        assert_int_equal(pthread_join(u[i].tid, NULL), 0);
        assert_int_equal(u[i].errors, 0);
        assert_int_equal(u[i].doubles, 0);
        got += u[i].got;
        released += u[i].released;
        discarded += u[i].discarded;
        timeouts += u[i].timeouts;
    }
    assert_true(atomic_load(&f.max_live) <= MAX);
    struct ct_pool_stats st;
    ct_pool_get_stats(&pool, &st);
    assert_true(st.max_open <= MAX);
    assert_int_equal(st.acquired, (uint64_t)got);
    assert_int_equal(st.released, (uint64_t)released);
    assert_int_equal(st.discarded, (uint64_t)discarded);
    assert_int_equal(got, released + discarded);  /* every acquire matched */
    assert_int_equal(st.timed_out, (uint64_t)timeouts);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.waiting, 0);
    assert_int_equal(st.open, st.idle);
    assert_int_equal(st.open, atomic_load(&f.live));
    assert_int_equal(st.created, (uint64_t)atomic_load(&f.created));
    assert_int_equal(ct_pool_destroy(&pool), 0);
    assert_int_equal(atomic_load(&f.live), 0);      /* nothing leaked */
    assert_int_equal(atomic_load(&f.created), atomic_load(&f.destroyed));
}

struct waiter {
    pthread_t tid;
    struct ct_pool *pool;
    struct ct_event *cancel;
    int64_t timeout_ns;
    int rc;
};

static void *wait_one(void *arg)
{
    struct waiter *w = arg;
    void *r;
    w->rc = ct_pool_acquire_timeout(w->pool, &r, w->timeout_ns, w->cancel);
    if (w->rc == 0)
        ct_pool_release(w->pool, r);
    return NULL;
}

/* Everything lent out: every bounded acquire times out, counted once. */
static void test_timeouts_exact(void **state)
{
    (void)state;
    struct ct_pool pool;
    struct factory f;
    pool_new(&pool, &f, 2);
    void *a, *b, *c;
    assert_int_equal(ct_pool_acquire(&pool, &a, NULL), 0);
    assert_int_equal(ct_pool_acquire_timeout(&pool, &b, 0, NULL), 0);
    assert_int_equal(ct_pool_acquire_timeout(&pool, &c, 0, NULL), -ETIMEDOUT);
    enum { K = 6 };
    struct waiter w[K];
    for (int i = 0; i < K; i++) {
        w[i] = (struct waiter){ .pool = &pool, .timeout_ns = (i + 1) * 4 * CT_NS_PER_MS };
        assert_int_equal(pthread_create(&w[i].tid, NULL, wait_one, &w[i]), 0);
    }
    for (int i = 0; i < K; i++) {
        assert_int_equal(pthread_join(w[i].tid, NULL), 0);
        assert_int_equal(w[i].rc, -ETIMEDOUT);
    }
    struct ct_pool_stats st;
    ct_pool_get_stats(&pool, &st);
    assert_int_equal(st.timed_out, K + 1);
    assert_int_equal(st.acquired, 2);
    assert_int_equal(st.open, 2);
    assert_int_equal(st.in_use, 2);
    assert_int_equal(st.waiting, 0);

    /* a holder still out: destroy refuses and frees nothing */
    ct_pool_release(&pool, a);
    assert_int_equal(ct_pool_destroy(&pool), -EBUSY);
    ct_pool_release(&pool, b);
    assert_int_equal(ct_pool_destroy(&pool), 0);
    assert_int_equal(atomic_load(&f.live), 0);
    assert_int_equal(atomic_load(&f.destroyed), 2);
}

static void test_cancel(void **state)
{
    (void)state;
    struct ct_pool pool;
    struct factory f;
    struct ct_event cancel;
    assert_int_equal(ct_event_init(&cancel), 0);
    pool_new(&pool, &f, 1);
    void *a;
    assert_int_equal(ct_pool_acquire(&pool, &a, NULL), 0);
    struct waiter w = { .pool = &pool, .cancel = &cancel, .timeout_ns = -1 };
    assert_int_equal(pthread_create(&w.tid, NULL, wait_one, &w), 0);
    struct ct_pool_stats st;
    do {
        sched_yield();
        ct_pool_get_stats(&pool, &st);
    } while (st.waiting == 0);
    ct_event_set(&cancel);
    assert_int_equal(pthread_join(w.tid, NULL), 0);
    assert_int_equal(w.rc, -ECANCELED);
    ct_pool_get_stats(&pool, &st);
    assert_int_equal(st.cancelled, 1);
    assert_int_equal(st.waiting, 0);
    ct_pool_release(&pool, a);
    assert_int_equal(ct_pool_destroy(&pool), 0);
    assert_int_equal(atomic_load(&f.live), 0);
    ct_event_destroy(&cancel);
}

/* Idle resources are reused newest first; a failed open gives its permit
 * back, so the pool still lends all `max` afterwards. */
static void test_reuse_and_failed_open(void **state)
{
    (void)state;
    struct ct_pool pool;
    struct factory f;
    pool_new(&pool, &f, 2);
    void *a, *b, *c;
    assert_int_equal(ct_pool_acquire(&pool, &a, NULL), 0);
    assert_int_equal(ct_pool_acquire(&pool, &b, NULL), 0);
    ct_pool_release(&pool, a);
    ct_pool_release(&pool, b);
    assert_int_equal(ct_pool_acquire(&pool, &c, NULL), 0);
    assert_ptr_equal(c, b);
    ct_pool_discard(&pool, c);                  /* one place free, one idle */

    atomic_store(&f.fail_at, atomic_load(&f.created) + 1);
    assert_int_equal(ct_pool_acquire(&pool, &c, NULL), 0);     /* the idle one */
    assert_ptr_equal(c, a);
    void *d;
    assert_int_equal(ct_pool_acquire_timeout(&pool, &d, 0, NULL), -EIO);
    struct ct_pool_stats st;
    ct_pool_get_stats(&pool, &st);
    assert_int_equal(st.create_failed, 1);
    assert_int_equal(st.open, 1);
    assert_int_equal(ct_pool_acquire_timeout(&pool, &d, 0, NULL), 0);    /* its place */
    ct_pool_get_stats(&pool, &st);
    assert_int_equal(st.open, 2);
    assert_int_equal(st.max_open, 2);
    assert_int_equal(st.created, 3);
    ct_pool_release(&pool, c);
    ct_pool_release(&pool, d);
    assert_int_equal(ct_pool_destroy(&pool), 0);
    assert_int_equal(atomic_load(&f.live), 0);
    assert_int_equal(atomic_load(&f.created), atomic_load(&f.destroyed));
}

static void test_bad_config(void **state)
{
    (void)state;
    struct ct_pool pool;
    struct ct_pool_config cfg = { .max = 0, .create = create, .destroy = destroy };
    assert_int_equal(ct_pool_init(&pool, &cfg), -EINVAL);
    cfg.max = CT_POOL_MAX + 1;
    assert_int_equal(ct_pool_init(&pool, &cfg), -EINVAL);
    cfg = (struct ct_pool_config){ .max = 1, .destroy = destroy };
    assert_int_equal(ct_pool_init(&pool, &cfg), -EINVAL);
}

/* ---- the demo ----------------------------------------------------------- */

/* The report's own consistency, and its agreement with the table. */
static void check_demo_report(json_t *j, int max, int queries)
{
    assert_true(dj_assert_checks(j) > 0);
    long long ok1 = dj_int(j, "phase1_ok"), ok2 = dj_int(j, "phase2_ok");
    long long to2 = dj_int(j, "phase2_timed_out"), opened = dj_int(j, "opened");
    assert_int_equal(dj_int(j, "rows_written"), ok1 + ok2);
    assert_true(dj_int(j, "max_open") <= max);
    assert_true(dj_int(j, "max_checked_out") <= max);
    assert_true(opened >= 1 && opened <= max);      /* the demo never discards */
    assert_int_equal(dj_int(j, "sqlite_busy"), 0);
    json_t *rows = dj_table(j, "queries"), *row;
    assert_int_equal(json_array_size(rows), 2 * queries);
    long long ran[2] = { 0, 0 }, timed_out[2] = { 0, 0 };
    size_t i;
    json_array_foreach(rows, i, row) {
        int phase = (int)dj_cell_int(row, "phase");
        assert_true(phase == 1 || phase == 2);
        const char *conn = dj_cell_text(row, "conn"), *out = dj_cell_text(row, "outcome");
        if (strcmp(out, "timed out") == 0) {
            timed_out[phase - 1]++;
            assert_string_equal(conn, "-");
        } else {
            assert_true(strncmp(out, "ok, ", 4) == 0);
            ran[phase - 1]++;
            int id = atoi(conn + 1);
            assert_true(conn[0] == '#' && id >= 1 && id <= opened);
        }
    }
    assert_int_equal(ran[0], ok1);
    assert_int_equal(ran[1], ok2);
    assert_int_equal(timed_out[0], queries - ok1);
    assert_int_equal(timed_out[1], to2);
}

static void test_demo_counts(void **state)
{
    (void)state;
    static const char *const args[][6] = {
        { "queries=6", "max=2", "hold-ms=20", "short-ms=5", NULL },
        { "queries=4", "max=4", "hold-ms=5", NULL },
        { "queries=5", "max=1", "hold-ms=10", "short-ms=0", NULL },
    };
    static const int max[] = { 2, 4, 1 }, queries[] = { 6, 4, 5 };
    for (size_t k = 0; k < sizeof max / sizeof max[0]; k++) {
        struct resources r;
        res_begin(&r);
        int code;
        json_t *j = ct_demo_json("pool", args[k], &code);
        assert_non_null(j);
        assert_int_equal(code, 0);
        check_demo_report(j, max[k], queries[k]);
        json_decref(j);
        assert_true(res_end(&r));
    }
}

/* Phase 1 with a 0 ms timeout and one connection: most queries time out,
 * and phase 2's timeout is longer than a hold.  The takeaway counts the
 * timeouts and does not call the timeout shorter than the hold. */
static void test_demo_takeaway_timeouts(void **state)
{
    (void)state;
    struct resources r;
    res_begin(&r);
    int code;
    json_t *j = ct_demo_json("pool", (const char *const[]){ "queries=6", "max=1",
                                                            "hold-ms=10", "timeout-ms=0",
                                                            "short-ms=15", NULL }, &code);
    assert_non_null(j);
    assert_int_equal(code, 0);
    long long ok1 = dj_int(j, "phase1_ok");
    assert_true(ok1 >= 1 && ok1 < 6);
    const char *t = dj_takeaway(j);
    char want[64];
    snprintf(want, sizeof want, "%lld ran, after waiting", ok1);
    assert_non_null(strstr(t, want));
    snprintf(want, sizeof want, "and %lld timed out", 6 - ok1);
    assert_non_null(strstr(t, want));
    assert_null(strstr(t, "got one at once"));
    assert_null(strstr(t, "shorter than a 10 ms hold,"));
    if (dj_int(j, "phase2_timed_out") > 0)
        assert_non_null(strstr(t, "no shorter than a 10 ms hold"));
    json_decref(j);
    assert_true(res_end(&r));
}

/* busy-ms=0: SQLite does not wait for the write lock, so the takeaway must
 * not say busy_timeout made anyone wait; it gives the SQLITE_BUSY count the
 * run reported.  Failed writes fail the demo's checks (every query ran or
 * timed out), so the exit code follows the checks.  With a busy timeout,
 * "made the others wait" only when no write failed with SQLITE_BUSY. */
static void test_demo_takeaway_busy(void **state)
{
    (void)state;
    static const char *const busy_ms[] = { "busy-ms=0", "busy-ms=1000" };
    for (int k = 0; k < 2; k++) {
        struct resources r;
        res_begin(&r);
        int code;
        json_t *j = ct_demo_json("pool", (const char *const[]){ "queries=6", "max=3",
                                                                "hold-ms=5", "short-ms=5",
                                                                busy_ms[k], NULL }, &code);
        assert_non_null(j);
        /* SQLITE_BUSY at busy-ms=0 is the setting at work, not a failed check */
        assert_int_equal(code, 0);
        dj_assert_checks(j);
        long long busy = dj_int(j, "sqlite_busy");
        const char *t = dj_takeaway(j);
        char want[64];
        if (k == 0) {
            assert_null(strstr(t, "made the others wait"));
            assert_non_null(strstr(t, "with busy_timeout 0 it does not wait for the write"));
            if (busy == 0) {
                assert_non_null(strstr(t, "None did in this run"));
            } else {
                snprintf(want, sizeof want, " %lld write%s did;", busy, busy == 1 ? "" : "s");
                assert_non_null(strstr(t, want));
            }
        } else if (busy == 0) {
            assert_non_null(strstr(t, "busy_timeout (1000 ms) made the others wait"));
            assert_non_null(strstr(t, "(none failed)"));
        } else {
            snprintf(want, sizeof want, "but %lld still failed with SQLITE_BUSY", busy);
            assert_non_null(strstr(t, want));
        }
        json_decref(j);
        assert_true(res_end(&r));
    }
}

static long long count_rows(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    long long n = -1;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM visits", -1, &st, NULL),
                     SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* db=PATH: the file is the user's, kept, and rows add up across runs;
 * nothing goes into TMPDIR. */
static void test_demo_db_path(void **state)
{
    (void)state;
    char *dir = ct_tmpdir();
    assert_non_null(dir);
    char path[512], arg[600];
    snprintf(path, sizeof path, "%s/kept.db", dir);
    snprintf(arg, sizeof arg, "db=%s", path);
    long long written = 0;
    for (int round = 0; round < 2; round++) {
        struct resources r;
        res_begin(&r);
        int code;
        json_t *j = ct_demo_json("pool", (const char *const[]){ "queries=3", "max=2",
                                                                "hold-ms=5", arg, NULL },
                                 &code);
        assert_non_null(j);
        assert_int_equal(code, 0);
        check_demo_report(j, 2, 3);
        written += dj_int(j, "rows_written");
        json_decref(j);
        assert_true(res_end(&r));
    }
    assert_int_equal(count_rows(path), written);
    ct_tmpdir_remove(dir);
}

/* A database that cannot be opened: an error, and nothing left behind. */
static void test_demo_bad_path(void **state)
{
    (void)state;
    struct resources r;
    res_begin(&r);
    const char *env[] = { res_tmpdir_env(&r), NULL };
    struct ct_proc p;
    res_run_demo(&p, "pool", (const char *const[]){ "db=/nonexistent/dir/x.db", NULL }, env, 0);
    assert_int_equal(p.status, 1);
    assert_non_null(strstr(p.out, "cannot open"));
    ct_proc_free(&p);
    assert_true(res_end(&r));
}

/* Ctrl-C while connections are opening, while queries wait and hold, in
 * phase 2: the run stops (130), or had finished (0), and the temporary
 * directory is gone either way. */
static void test_demo_sigint(void **state)
{
    (void)state;
    static const double at_ms[] = { 40, 120, 260, 420 };
    for (size_t k = 0; k < sizeof at_ms / sizeof at_ms[0]; k++)
        res_sigint("pool", NULL, at_ms[k]);
}

int main(int argc, char **argv)
{
    int child = res_child_main(argc, argv);
    if (child >= 0)
        return child;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contention),
        cmocka_unit_test(test_timeouts_exact),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_reuse_and_failed_open),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_demo_counts),
        cmocka_unit_test(test_demo_takeaway_timeouts),
        cmocka_unit_test(test_demo_takeaway_busy),
        cmocka_unit_test(test_demo_db_path),
        cmocka_unit_test(test_demo_bad_path),
        cmocka_unit_test(test_demo_sigint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
