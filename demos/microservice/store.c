/* store.c - the orders table in an SQLite file, reached through a pool of
 * connections (pool.h), as sqlx's PgPool is in the guide.
 *
 * The file is in WAL mode, so readers never wait for the writer; each
 * connection keeps its statements prepared.  SQLite admits one writer at
 * a time: a writer that finds the write lock taken naps and retries (the
 * busy handler below) for up to busy_ms.  Its naps start at 20 us: the
 * stock busy_timeout starts at 1 ms, longer than most writes here take.
 */
#include <dirent.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "microservice.h"

const char *const micro_status_name[ST_COUNT] = { "pending", "processing", "completed",
                                                   "failed" };

int micro_status_parse(const char *s)
{
    for (int i = 0; i < ST_COUNT; i++)
        if (strcmp(s, micro_status_name[i]) == 0)
            return i;
    return -1;
}

#define COLS "id, user_id, product_id, quantity, status, version"

struct db {
    sqlite3 *h;
    struct store *st;
    sqlite3_stmt *insert, *get, *list, *move;
};

/* ---- connections ------------------------------------------------------- */

/* SQLite calls this when the write lock is taken; n counts the calls for
 * this statement.  Nonzero: try again. */
static int on_busy(void *ctx, int n)
{
    struct store *st = ctx;
    if (ct_cancelled(st->run))
        return 0;
    long us = n < 6 ? 20L << n : 1000;
    /* 20 + 40 + ... + 640 us, then 1 ms naps up to busy_ms */
    if (n >= 6 + st->busy_ms)
        return 0;
    atomic_fetch_add_explicit(&st->busy_waits, 1, memory_order_relaxed);
    nanosleep(&(struct timespec){ .tv_nsec = us * 1000 }, NULL);
    return 1;
}

static void db_free(struct db *d)
{
    sqlite3_finalize(d->insert);
    sqlite3_finalize(d->get);
    sqlite3_finalize(d->list);
    sqlite3_finalize(d->move);
    sqlite3_close(d->h);
    free(d);
}

/* Pool callback: open one connection with its statements prepared. */
static int conn_open(void *ctx, void **out)
{
    struct store *st = ctx;
    struct db *d = calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    d->st = st;
    int rc = sqlite3_open_v2(st->path, &d->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_handler(d->h, on_busy, st);
    /* WAL with synchronous=NORMAL: a commit is not fsynced, the checkpoint
     * is; a crash of the program loses nothing, a power cut the last few */
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(d->h, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(d->h, "INSERT INTO orders(status, user_id, product_id, quantity) "
                                "VALUES('pending', ?1, ?2, ?3) RETURNING " COLS, -1,
                                &d->insert, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(d->h, "SELECT " COLS " FROM orders WHERE id = ?1", -1, &d->get,
                                NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(d->h, "SELECT " COLS " FROM orders ORDER BY id DESC LIMIT ?1",
                                -1, &d->list, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(d->h, "UPDATE orders SET status = ?2, version = version + 1 "
                                "WHERE id = ?1 AND status IN (?3, ?4) RETURNING " COLS, -1,
                                &d->move, NULL);
    if (rc != SQLITE_OK) {
        ct_say(st->run, "cannot open %s: %s", st->path, sqlite3_errmsg(d->h));
        db_free(d);
        return -EIO;
    }
    *out = d;
    return 0;
}

static void conn_close(void *ctx, void *res)
{
    (void)ctx;
    db_free(res);
}

/* ---- opening and closing ------------------------------------------------ */

static int exec_setup(struct store *st, sqlite3 *h, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(h, sql, NULL, NULL, &err) == SQLITE_OK)
        return 0;
    ct_say(st->run, "sqlite: %s", err ? err : sqlite3_errmsg(h));
    sqlite3_free(err);
    return -EIO;
}

/* Create the file (or open db=PATH), switch it to WAL, create the table. */
static int store_setup(struct store *st)
{
    sqlite3 *h = NULL;
    int rc = 0;
    if (sqlite3_open_v2(st->path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        ct_say(st->run, "cannot open %s: %s", st->path, sqlite3_errmsg(h));
        rc = -EIO;
    }
    if (rc == 0)
        sqlite3_busy_timeout(h, st->busy_ms);
    if (rc == 0)
        rc = exec_setup(st, h, "PRAGMA journal_mode=WAL");
    if (rc == 0)
        rc = exec_setup(st, h,
                        "CREATE TABLE IF NOT EXISTS orders("
                        "id INTEGER PRIMARY KEY, "
                        "user_id INTEGER NOT NULL, "
                        "product_id INTEGER NOT NULL, "
                        "quantity INTEGER NOT NULL CHECK (quantity > 0), "
                        "status TEXT NOT NULL CHECK (status IN "
                        "('pending', 'processing', 'completed', 'failed')), "
                        "version INTEGER NOT NULL DEFAULT 0)");
    sqlite3_close(h);
    return rc;
}

static int make_temp_path(struct store *st)
{
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(st->dir, sizeof st->dir, "%s/ct-micro-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (n < 0 || n >= (int)sizeof st->dir - 16) {
        st->dir[0] = '\0';
        return -ENAMETOOLONG;
    }
    if (!mkdtemp(st->dir)) {
        int e = errno;
        ct_say(st->run, "cannot make a temporary directory: %s", strerror(e));
        st->dir[0] = '\0';
        return -e;
    }
    if (snprintf(st->path, sizeof st->path, "%s/orders.db", st->dir) >= (int)sizeof st->path)
        return -ENAMETOOLONG;
    return 0;
}

int store_open(struct store *st, struct ct_run *run, const char *db_param, int pool_max,
               int busy_ms)
{
    *st = (struct store){ .run = run, .busy_ms = busy_ms };
    int rc = 0;
    if (strcmp(db_param, "temp") == 0)
        rc = make_temp_path(st);
    else if (snprintf(st->path, sizeof st->path, "%s", db_param) >= (int)sizeof st->path)
        rc = -ENAMETOOLONG;
    if (rc == 0)
        rc = store_setup(st);
    if (rc == 0) {
        struct ct_pool_config cfg = { .max = pool_max, .create = conn_open,
                                      .destroy = conn_close, .ctx = st };
        rc = ct_pool_init(&st->pool, &cfg);
        st->pool_up = rc == 0;
    }
    return rc;
}

/* Remove the temporary directory and what SQLite left in it. */
static bool remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                unlinkat(dirfd(d), e->d_name, 0);
        closedir(d);
    }
    rmdir(dir);
    struct stat sb;
    return stat(dir, &sb) != 0 && errno == ENOENT;
}

bool store_close(struct store *st)
{
    if (st->pool_up && ct_pool_destroy(&st->pool) == 0)
        st->pool_up = false;
    if (!st->dir[0])
        return true;
    bool gone = remove_dir(st->dir);
    if (gone)
        st->dir[0] = '\0';
    return gone;
}

int store_acquire(struct store *st, struct db **db, struct ct_event *cancel)
{
    void *res;
    int rc = ct_pool_acquire_timeout(&st->pool, &res, 1000 * 1000 * 1000LL, cancel);
    if (rc == 0)
        *db = res;
    return rc;
}

void store_release(struct store *st, struct db *db)
{
    ct_pool_release(&st->pool, db);
}

void store_stats(struct store *st, struct ct_pool_stats *out)
{
    ct_pool_get_stats(&st->pool, out);
}

/* ---- queries ------------------------------------------------------------ */

static void read_row(sqlite3_stmt *s, struct order *o)
{
    o->id = sqlite3_column_int64(s, 0);
    o->user_id = sqlite3_column_int64(s, 1);
    o->product_id = sqlite3_column_int64(s, 2);
    o->quantity = sqlite3_column_int(s, 3);
    const unsigned char *name = sqlite3_column_text(s, 4);
    int st = name ? micro_status_parse((const char *)name) : -1;
    o->status = st < 0 ? ST_FAILED : (enum order_status)st;
    o->version = sqlite3_column_int64(s, 5);
}

/* Step `s` for at most one row into *o, then to the end (a RETURNING
 * statement's change is complete only then), and reset it.  1 for a row,
 * 0 for none, -EIO. */
static int step_one(struct db *d, sqlite3_stmt *s, struct order *o)
{
    int got = 0, rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (!got)
            read_row(s, o);
        got = 1;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE) {
        if (!ct_cancelled(d->st->run))
            ct_say(d->st->run, "sqlite: %s", sqlite3_errstr(rc));
        return -EIO;
    }
    return got;
}

int db_insert(struct db *d, const struct order *in, struct order *out)
{
    sqlite3_bind_int64(d->insert, 1, in->user_id);
    sqlite3_bind_int64(d->insert, 2, in->product_id);
    sqlite3_bind_int(d->insert, 3, in->quantity);
    int rc = step_one(d, d->insert, out);
    return rc < 0 ? rc : rc == 1 ? 0 : -EIO;
}

int db_get(struct db *d, int64_t id, struct order *out)
{
    sqlite3_bind_int64(d->get, 1, id);
    int rc = step_one(d, d->get, out);
    return rc < 0 ? rc : rc == 1 ? 0 : -ENOENT;
}

int db_list(struct db *d, int max, struct order *out, int *n)
{
    sqlite3_bind_int(d->list, 1, max);
    int rc;
    *n = 0;
    while ((rc = sqlite3_step(d->list)) == SQLITE_ROW && *n < max)
        read_row(d->list, &out[(*n)++]);
    sqlite3_reset(d->list);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -EIO;
}

int db_move(struct db *d, int64_t id, int from1, int from2, enum order_status to,
            struct order *out)
{
    sqlite3_bind_int64(d->move, 1, id);
    sqlite3_bind_text(d->move, 2, micro_status_name[to], -1, SQLITE_STATIC);
    sqlite3_bind_text(d->move, 3, micro_status_name[from1], -1, SQLITE_STATIC);
    if (from2 >= 0)
        sqlite3_bind_text(d->move, 4, micro_status_name[from2], -1, SQLITE_STATIC);
    int rc = step_one(d, d->move, out);
    if (rc < 0)
        return rc;
    if (rc == 1)
        return 0;
    /* no row moved: tell "no such order" from "not from its status" */
    rc = db_get(d, id, out);
    return rc == 0 ? -EBUSY : rc;
}

/* Prepare `sql`, bind ?1 to `arg` if the statement has it, and step it
 * once: 1 with a row (left for the caller to read), 0 when done; the
 * statement is in *s for the caller to finalize.  -EIO on error. */
static int query(struct db *d, const char *sql, int64_t arg, sqlite3_stmt **s)
{
    if (sqlite3_prepare_v2(d->h, sql, -1, s, NULL) != SQLITE_OK) {
        ct_say(d->st->run, "sqlite: %s", sqlite3_errmsg(d->h));
        return -EIO;
    }
    if (sqlite3_bind_parameter_count(*s) > 0)
        sqlite3_bind_int64(*s, 1, arg);
    int rc = sqlite3_step(*s);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -EIO;
}

int db_count(struct db *d, int64_t after_id, long long counts[ST_COUNT])
{
    sqlite3_stmt *s = NULL;
    for (int i = 0; i < ST_COUNT; i++)
        counts[i] = 0;
    int rc = query(d, "SELECT status, count(*) FROM orders WHERE id > ?1 GROUP BY status",
                   after_id, &s);
    while (rc == 1) {
        const unsigned char *name = sqlite3_column_text(s, 0);
        int st = name ? micro_status_parse((const char *)name) : -1;
        if (st >= 0)
            counts[st] = sqlite3_column_int64(s, 1);
        rc = sqlite3_step(s) == SQLITE_ROW ? 1 : 0;
    }
    sqlite3_finalize(s);
    return rc < 0 ? rc : 0;
}

int db_max_id(struct db *d, int64_t *id)
{
    sqlite3_stmt *s = NULL;
    int rc = query(d, "SELECT coalesce(max(id), 0) FROM orders", 0, &s);
    if (rc == 1)
        *id = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return rc == 1 ? 0 : -EIO;
}

static int push_id(int64_t **ids, size_t *n, size_t *cap, int64_t id)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 256;
        int64_t *p = realloc(*ids, c * sizeof *p);
        if (!p)
            return -ENOMEM;
        *ids = p;
        *cap = c;
    }
    (*ids)[(*n)++] = id;
    return 0;
}

int db_recover(struct db *d, long long *reset, int64_t **ids, size_t *n)
{
    sqlite3_stmt *s = NULL;
    size_t cap = 0;
    *ids = NULL;
    *n = 0;
    *reset = 0;
    int rc = query(d, "UPDATE orders SET status = 'pending', version = version + 1 "
                   "WHERE status = 'processing'", 0, &s);
    sqlite3_finalize(s);
    if (rc < 0)
        return rc;
    *reset = sqlite3_changes(d->h);
    rc = query(d, "SELECT id FROM orders WHERE status = 'pending' ORDER BY id", 0, &s);
    while (rc == 1) {
        if (push_id(ids, n, &cap, sqlite3_column_int64(s, 0)) != 0) {
            rc = -ENOMEM;
            break;
        }
        rc = sqlite3_step(s) == SQLITE_ROW ? 1 : 0;
    }
    sqlite3_finalize(s);
    if (rc < 0) {
        free(*ids);
        *ids = NULL;
        *n = 0;
    }
    return rc < 0 ? rc : 0;
}
