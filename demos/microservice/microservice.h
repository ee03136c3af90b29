/* microservice.h - the parts of the orders service behind demo `microservice`
 * (demos/microservice.c), one file each:
 *
 *   store.c   the SQLite file and a pool of connections to it (pool.h)
 *   cache.c   a read-through cache of orders behind a reader-writer lock
 *   jobs.c    the job channel's workers: pending -> processing -> final
 *   api.c     the HTTP API on libmicrohttpd's threads
 *   client.c  the demo's own concurrent client on libcurl's multi interface
 *
 * The service is the guide's axum + sqlx + tokio example taken apart into
 * the C pieces it stands for.  Every function returns 0 or a negative
 * errno unless it says otherwise; none of them exits.
 */
#ifndef CT_MICROSERVICE_H
#define CT_MICROSERVICE_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broadcast.h"
#include "chan.h"
#include "demo.h"
#include "pool.h"

/* ---- orders ------------------------------------------------------------ */

/* pending -> processing -> completed | failed.  The last two are final:
 * nothing moves an order out of them. */
enum order_status { ST_PENDING, ST_PROCESSING, ST_COMPLETED, ST_FAILED, ST_COUNT };

extern const char *const micro_status_name[ST_COUNT];
/* The status named `s`, or -1. */
int micro_status_parse(const char *s);

struct order {
    int64_t id, user_id, product_id;
    int quantity;
    enum order_status status;
    int64_t version;            /* 0 when created, +1 at every status change */
};

/* ---- store.c: SQLite and the connection pool ---------------------------- */

struct store {
    struct ct_run *run;
    char dir[PATH_MAX];         /* the temporary directory, or "" for db=PATH */
    char path[PATH_MAX];
    int busy_ms;                /* how long a writer waits for the write lock */
    bool pool_up;
    struct ct_pool pool;
    atomic_llong busy_waits;    /* naps taken waiting for the write lock */
};

struct db;                      /* one pooled connection */

/* Open the database (db_param "temp": a new file in a fresh temporary
 * directory), create the table, and make a pool of up to `pool_max`
 * connections.  On failure nothing is left open (store_close is safe). */
int store_open(struct store *st, struct ct_run *run, const char *db_param, int pool_max,
               int busy_ms);
/* Destroy the pool and remove the temporary directory.  True when no
 * temporary directory is left. */
bool store_close(struct store *st);

/* Borrow a connection (waiting up to a second, or until `cancel`). */
int store_acquire(struct store *st, struct db **db, struct ct_event *cancel);
void store_release(struct store *st, struct db *db);
void store_stats(struct store *st, struct ct_pool_stats *out);

/* INSERT a pending order; *out gets the row as stored. */
int db_insert(struct db *db, const struct order *in, struct order *out);
/* 0, -ENOENT, or -EIO. */
int db_get(struct db *db, int64_t id, struct order *out);
/* The newest `max` orders into out[], their number into *n. */
int db_list(struct db *db, int max, struct order *out, int *n);
/* Move order `id` to `to` if its status is `from1` or `from2` (-1: no
 * second one), in one statement.  0 with *out the new row; -ENOENT; or
 * -EBUSY with *out the order as it is (the move is not allowed from
 * there); -EIO. */
int db_move(struct db *db, int64_t id, int from1, int from2, enum order_status to,
            struct order *out);
/* Orders with id > after_id, counted by status. */
int db_count(struct db *db, int64_t after_id, long long counts[ST_COUNT]);
/* The largest id (0 if none). */
int db_max_id(struct db *db, int64_t *id);
/* Recovery after a hard stop: put orders left `processing` back to
 * `pending`, then list every pending id (malloc'd, *n of them). */
int db_recover(struct db *db, long long *reset, int64_t **ids, size_t *n);

/* ---- cache.c: the read-through cache ------------------------------------ */

/* A slot per order id ever seen.  An invalidation leaves the slot invalid
 * but remembers the version that invalidated it, so that a reader that
 * fetched an older row before the update cannot put it back afterwards
 * (the "stale fill" race); such a fill is refused and counted. */
struct cache_slot {
    int64_t id;                 /* 0: empty */
    bool valid;
    struct order order;         /* order.version: the newest version seen */
};

struct cache {
    pthread_rwlock_t lock;      /* writers preferred: fills get their turn */
    struct cache_slot *slots;
    size_t cap, used, valid;    /* slots, slots with an id, valid entries */
    atomic_bool on;             /* off: every read goes to the database */
    atomic_llong hits, misses, fills, refused, invalidations;
};

int cache_init(struct cache *c);
void cache_destroy(struct cache *c);
/* A valid entry for `id` into *out (true), or false. */
bool cache_get(struct cache *c, int64_t id, struct order *out);
/* Store a row read from the database, unless a newer version is known. */
void cache_fill(struct cache *c, const struct order *o);
/* The row changed to `version`: the entry stops serving reads. */
void cache_invalidate(struct cache *c, int64_t id, int64_t version);
size_t cache_entries(struct cache *c);
/* The valid entries, copied (malloc'd), for the audit. */
int cache_snapshot(struct cache *c, struct order **out, size_t *n);

/* ---- the service --------------------------------------------------------- */

struct job {
    int64_t order_id;
    int64_t queued_ns;
    bool recovered;             /* left unfinished by an earlier run */
};

#define MICRO_MAX_WORKERS 32

struct worker {
    struct service *svc;
    int id;
    struct ct_thread thread;
    struct ct_receiver rx;
    struct ct_bcast_sub stop;
    bool up;
    long long done, skipped, raced;     /* settled; found settled; settled under it */
    long long settled[ST_COUNT];        /* what it set: completed or failed */
    long long recovered;                /* recovered orders among `done` */
    long long done_at_stop;
    double *lat_ms;                     /* queued -> settled, per job done */
    size_t nlat, cap;
    bool got_stop, drained, lost_db;
    int64_t stop_ns, exit_ns;
    long queued_at_stop;
};

enum route { RT_GET, RT_CREATE, RT_STATUS, RT_LIST, RT_HEALTH, RT_METRICS, RT_OTHER,
             RT_COUNT };
extern const char *const micro_route_name[RT_COUNT];

struct api {
    struct service *svc;
    struct MHD_Daemon *d;
    int port;
    int quiesced_fd;            /* the listening socket after quiesce, or -1 */
    atomic_int conns, max_conns;
    atomic_llong req[RT_COUNT], status_class[6];    /* by route; 1xx..5xx */
    atomic_llong created, rejected, settled[ST_COUNT];
    atomic_llong hit_ns, hit_n, db_ns, db_n;        /* GET /orders/:id handler time */
};

struct service {
    struct ct_run *run;
    struct store store;
    struct cache cache;
    struct api api;
    struct ct_sender jobs_tx;   /* main's; every HTTP connection clones it */
    struct ct_receiver jobs_rx; /* main's; every worker clones it */
    long queue_cap;
    struct ct_bcast_sender stop_tx;
    double work_ms;
    int fail_pct;
    int64_t start_ns;
    atomic_llong jobs_queued;
    struct worker workers[MICRO_MAX_WORKERS];
    int nworkers;
};

/* jobs.c: start `n` workers on clones of jobs_rx, subscribed to stop_tx.
 * 0 or a negative errno (the ones that started keep running). */
int jobs_start(struct service *svc, int n);
/* Join every worker (they leave when the channel is closed and empty, or
 * on cancel). */
void jobs_join(struct service *svc);
/* Queue one job; waits at most `timeout_ns` while the queue is full. */
int jobs_send(struct service *svc, struct ct_sender *tx, int64_t order_id, bool recovered,
              int64_t timeout_ns);

/* api.c: listen on 127.0.0.1:port (0: any free port) with `threads`
 * server threads. */
int api_start(struct service *svc, int port, int threads);
/* Stop accepting connections; requests on open ones go on. */
void api_quiesce(struct service *svc);
int api_connections(struct service *svc);
/* Close every connection and join the server's threads. */
void api_stop(struct service *svc);

/* ---- client.c: the demo's own clients ------------------------------------ */

/* One request and its answer, for the bad-input phase: the status code
 * into *code (0 if there was no answer) and up to n-1 bytes of the body
 * into resp.  0 or -EIO. */
int micro_call(int port, const char *method, const char *path, const char *body, long *code,
               char *resp, size_t n);

struct sample {
    uint32_t us;                /* latency, microseconds */
    uint8_t route;
    uint8_t phase;
};

#define LOAD_PHASES 8

struct loadgen {
    struct ct_run *run;
    int port, clients, write_pct;
    uint64_t rng;
    double grace_ms;            /* after the stop, how long in-flight requests get */
    bool reads_only[LOAD_PHASES];   /* phases of GET /orders/ID alone */
    bool cache_off[LOAD_PHASES];    /* for its timeline lane only */
    struct ct_thread thread;
    struct ct_bcast_sub stop;
    bool up;
    atomic_int phase;           /* main moves it on: 0, 1, ... */
    atomic_llong completed;     /* answers so far, for live progress */
    /* results, read after the join */
    int rc;
    struct sample *lat;
    size_t nlat, cap;
    int64_t *ids;               /* orders accepted (201), in order */
    size_t nids, cap_ids;
    long long rejected, conflicts, unexpected, errors, abandoned, abandoned_creates;
    long long settled[ST_COUNT];
    long long phase_req[LOAD_PHASES];
    int64_t phase_t0[LOAD_PHASES], phase_t1[LOAD_PHASES];
    int64_t phase_cpu0[LOAD_PHASES], phase_cpu1[LOAD_PHASES];  /* its own CPU time */
    int phases_run;
    bool got_stop;
    int64_t stop_ns, exit_ns;
    char first_bad[120];        /* the first unexpected answer, for the report */
};

/* Start the client thread: `clients` connections, each sending its next
 * request as soon as the last is answered, until the stop broadcast. */
int load_start(struct ct_run *run, struct loadgen *lg, struct ct_bcast_sender *stop_tx);
void load_join(struct loadgen *lg);
void load_free(struct loadgen *lg);

#endif
