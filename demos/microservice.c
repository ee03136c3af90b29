/* microservice.c - demo `microservice`: the guide's orders service, built
 * from the parts of chapters 4 to 9, serving HTTP on loopback under load.
 *
 * Shows: an HTTP API (libmicrohttpd's server threads) over SQLite (a pool
 * of connections, chapter 8), a read-through cache behind a reader-writer
 * lock with invalidation on every status change, and a bounded job channel
 * drained by worker threads that move each order pending -> processing ->
 * completed or failed.  The demo first sends bad requests (each must get
 * its 4xx and change nothing), then drives the service with `clients`
 * concurrent connections of its own (libcurl's multi interface): a mixed
 * load of reads and writes, then reads alone with the cache on, off, off,
 * on; and stops it gracefully: a broadcast, the client finishing what it
 * sent, the server closing, the job channel draining.
 * Last it audits the database: every order the clients were promised is
 * there, in exactly one final state, settled exactly once.
 * Watch for: requests per second and p99 of the mixed load; the cache's
 * effect on reads (handler time, CPU per request, end to end); the job
 * latency against work-ms; the drain after the stop in the timeline.  Ctrl-C once stops it gracefully (and still audits), twice
 * cancels; with db=PATH, the next run recovers what a cancel left behind.
 * serve=true keeps it up for curl and wrk.
 * Lesson: microservice (chapter 10).
 */
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "demo.h"
#include "microservice.h"

#define BAD_MAX 16

struct config {
    int clients, load_ms, write_pct, threads, pool, workers, fail_pct, port;
    long queue;
    double work_ms;
    bool serve;
    const char *db;
    uint64_t seed;
    /* the load's phases: a warm-up, the mixed load, then reads alone
     * with the cache on and off in turn */
    int nph;
    bool cache_on[LOAD_PHASES], warm[LOAD_PHASES], reads[LOAD_PHASES];
    double phase_ms[LOAD_PHASES];
};

/* Counters of the server's, read by main at the edges of each phase. */
struct snap {
    int64_t t, cpu;             /* the process's CPU time, ns */
    long long done, hits, misses, hit_ns, hit_n, db_ns, db_n;
};

/* One phase, or several pooled: the mixed load, or the reads-only phases
 * with the cache on, or off. */
struct phase_figs {
    bool cache_on, warm, reads, present;
    long long req;
    double ms, rps, p50, p99, get_p50, get_p99, write_p99;
    double rps_lo, rps_hi;      /* the slowest and fastest of the phases pooled */
    double hit_rate;            /* % of reads by id served from the cache */
    double srv_us;              /* CPU per request outside the client */
    double client_pct;          /* the client thread's share of one CPU */
    double hit_us, db_us;       /* GET handler time: cache hit, SQLite read */
};

struct bad_row {
    char what[28];
    long expect, got;
};

struct worker_row {
    char name[CT_LABEL_MAX];
    long long done, completed, failed, skipped, after_stop;
};

struct micro_result {
    int port, clients, nworkers;
    double work_ms;
    bool temp, removed, ctrl_c, serve;
    double loadavg;
    int64_t before_id;
    long long reset;
    size_t recovered;
    /* bad input */
    bool bad_ran, bad_db_ok;
    int bad_created;            /* the one good order it made (201) */
    long long bad_settled[ST_COUNT];    /* status changes it made (200) */
    int bad_n, bad_ok;
    struct bad_row bad[BAD_MAX];
    /* load */
    int nph;
    struct phase_figs ph[LOAD_PHASES], mixed, reads[2];     /* reads[1]: cache on */
    long long conflicts, rejected_seen, errors, unexpected, abandoned, client_settled[ST_COUNT];
    size_t accepted;
    char first_bad[120];
    /* shutdown, in ms from the stop broadcast */
    double client_ms, server_ms, drain_ms;
    /* jobs */
    long long queued, done, skipped, raced, w_settled[ST_COUNT], w_recovered, after_stop;
    int drained;
    double job_p50, job_p99;
    struct worker_row w[MICRO_MAX_WORKERS];
    double hit_us, db_us;
    /* the audit */
    long long db_new[ST_COUNT], db_new_total, db_unfinished;
    size_t accepted_final, accepted_missing;
    size_t cached, stale;
    struct ct_pool_stats pool;
    long long created, rejected, settled[ST_COUNT], requests;
    long long refused, invalidations, busy_waits;
};

struct micro {
    struct ct_run *run;
    struct config cfg;
    struct service svc;
    struct loadgen lg;
    bool store_up, cache_up, chan_up, bcast_up;
    int64_t *recover_ids;
    struct snap snaps[LOAD_PHASES + 1];
    struct micro_result r;
};

static double ms_since(int64_t t0)
{
    return (double)(ct_clock_ns() - t0) / 1e6;
}

static int64_t process_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * CT_NS_PER_S + ts.tv_nsec;
}

static void take_snap(struct micro *m, struct snap *s)
{
    struct service *svc = &m->svc;
    struct api *a = &svc->api;
    *s = (struct snap){ .t = ct_clock_ns(), .cpu = process_cpu_ns(),
                        .done = atomic_load(&m->lg.completed),
                        .hits = atomic_load(&svc->cache.hits),
                        .misses = atomic_load(&svc->cache.misses),
                        .hit_ns = atomic_load(&a->hit_ns), .hit_n = atomic_load(&a->hit_n),
                        .db_ns = atomic_load(&a->db_ns), .db_n = atomic_load(&a->db_n) };
}

static double read_loadavg(void)
{
    double v = -1;
    FILE *f = fopen("/proc/loadavg", "re");
    if (f) {
        if (fscanf(f, "%lf", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

/* ---- bringing the service up --------------------------------------------- */

/* The database (and what an earlier, cancelled run left unfinished), the
 * cache, the job channel and the stop broadcast. */
static int parts_up(struct micro *m)
{
    struct service *svc = &m->svc;
    const struct config *cfg = &m->cfg;
    int rc = store_open(&svc->store, m->run, cfg->db, cfg->pool, 1000);
    m->store_up = true;
    m->r.temp = svc->store.dir[0] != '\0';
    if (rc)
        return rc;
    ct_say(m->run, "database: %s", svc->store.path);
    struct db *db;
    if ((rc = store_acquire(&svc->store, &db, ct_cancel_event(m->run))) != 0)
        return rc;
    rc = db_max_id(db, &m->r.before_id);
    if (rc == 0)
        rc = db_recover(db, &m->r.reset, &m->recover_ids, &m->r.recovered);
    store_release(&svc->store, db);
    if (rc)
        return rc;
    if (m->r.recovered)
        ct_say(m->run, "recovered %zu unfinished orders from an earlier run (%lld mid-job)",
               m->r.recovered, m->r.reset);
    if ((rc = cache_init(&svc->cache)) != 0)
        return rc;
    m->cache_up = true;
    rc = ct_chan_open(&svc->jobs_tx, &svc->jobs_rx, sizeof(struct job), cfg->queue, NULL);
    m->chan_up = rc == 0;
    if (rc == 0)
        rc = ct_bcast_open(&svc->stop_tx, 1, 1);
    m->bcast_up = m->chan_up && rc == 0;
    return rc;
}

static int service_up(struct micro *m)
{
    struct service *svc = &m->svc;
    svc->run = m->run;
    svc->work_ms = m->cfg.work_ms;
    svc->fail_pct = m->cfg.fail_pct;
    svc->queue_cap = m->cfg.queue;
    svc->start_ns = ct_clock_ns();
    int rc = parts_up(m);
    if (rc == 0)
        rc = api_start(svc, m->cfg.port, m->cfg.threads);
    if (rc == 0) {
        m->r.port = svc->api.port;
        ct_say(m->run, "listening on http://127.0.0.1:%d (%d server threads)", m->r.port,
               m->cfg.threads);
    }
    return rc;
}

/* Workers, then the jobs of recovered orders (which may outnumber the
 * queue's slots: the workers make room). */
static int workers_up(struct micro *m)
{
    struct service *svc = &m->svc;
    int rc = jobs_start(svc, m->cfg.workers);
    if (rc)
        return rc;
    ct_say(m->run, "%d job workers started, queue of %ld", m->cfg.workers, m->cfg.queue);
    for (size_t i = 0; i < m->r.recovered && rc == 0; i++)
        rc = jobs_send(svc, &svc->jobs_tx, m->recover_ids[i], true, -1);
    return rc == -ECANCELED ? 0 : rc;
}

/* ---- bad input -------------------------------------------------------------- */

/* Send the bad requests around order `id` (made for them, still pending:
 * the workers have not started), recording what each got. */
static int send_bad(struct micro *m, long long id)
{
    char big[5000];
    memset(big, ' ', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char own[40], own_status[48];
    snprintf(own, sizeof own, "/orders/%lld", id);
    snprintf(own_status, sizeof own_status, "/orders/%lld/status", id);
    /* `to`: what the request would settle the order as, if it got 200 */
    const struct { const char *what, *method, *path, *body; long expect; int to; } cases[] = {
        { "malformed JSON", "POST", "/orders", "{\"user_id\": 1, \"product_id\": ", 400, -1 },
        { "a missing field", "POST", "/orders", "{\"user_id\":1,\"product_id\":2}", 422, -1 },
        { "quantity 0", "POST", "/orders", "{\"user_id\":1,\"product_id\":2,\"quantity\":0}",
          422, -1 },
        { "not an object", "POST", "/orders", "[1, 2, 3]", 422, -1 },
        { "a 5 kB body", "POST", "/orders", big, 413, -1 },
        { "id not a number", "GET", "/orders/abc", NULL, 400, -1 },
        { "unknown id", "GET", "/orders/999999999", NULL, 404, -1 },
        { "unknown path", "GET", "/order", NULL, 404, -1 },
        { "DELETE an order", "DELETE", own, NULL, 405, -1 },
        { "unknown status", "POST", own_status, "\"shipped\"", 422, -1 },
        { "back to pending", "POST", own_status, "\"pending\"", 409, -1 },
        { "cancel: allowed", "POST", own_status, "{\"status\":\"failed\"}", 200, ST_FAILED },
        { "complete it now", "POST", own_status, "\"completed\"", 409, ST_COMPLETED },
        { "unknown id status", "POST", "/orders/999999999/status", "\"failed\"", 404, ST_FAILED },
    };
    char resp[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0] && !ct_stop_requested(m->run); i++) {
        struct bad_row *b = &m->r.bad[m->r.bad_n++];
        snprintf(b->what, sizeof b->what, "%s", cases[i].what);
        b->expect = cases[i].expect;
        micro_call(m->r.port, cases[i].method, cases[i].path, cases[i].body, &b->got, resp,
                   sizeof resp);
        m->r.bad_ok += b->got == b->expect;
        if (b->got == 200 && cases[i].to >= 0)
            m->r.bad_settled[cases[i].to]++;
    }
    return (int)(sizeof cases / sizeof cases[0]);
}

/* One good order, the bad requests, then a look at the database: the
 * only change is that order, created and cancelled once. */
static void bad_input(struct micro *m)
{
    struct micro_result *r = &m->r;
    ct_section(m->run, "bad input: each must get its 4xx and change nothing");
    long code;
    char resp[256];
    micro_call(r->port, "POST", "/orders", "{\"user_id\":1,\"product_id\":7,\"quantity\":2}",
               &code, resp, sizeof resp);
    char *at = strstr(resp, "\"id\":");
    long long id = at ? strtoll(at + 5, NULL, 10) : 0;
    r->bad_created = code == 201;
    if (code != 201 || id <= 0) {
        ct_say(m->run, "POST /orders answered %ld: %s", code, resp);
        return;
    }
    r->bad_ran = send_bad(m, id) == r->bad_n;
    struct db *db;
    struct order o = { 0 };
    long long counts[ST_COUNT];
    if (store_acquire(&m->svc.store, &db, ct_cancel_event(m->run)) != 0)
        return;
    int rc = db_count(db, r->before_id, counts);
    if (rc == 0)
        rc = db_get(db, id, &o);
    store_release(&m->svc.store, db);
    long long total = counts[0] + counts[1] + counts[2] + counts[3];
    r->bad_db_ok = rc == 0 && total == 1 && o.status == ST_FAILED && o.version == 1;
    ct_say(m->run, "%d bad requests: %d got the expected status; order %lld is %s, "
           "version %lld", r->bad_n, r->bad_ok, id, micro_status_name[o.status],
           (long long)o.version);
}

/* ---- load, or serving ----------------------------------------------------- */

/* The phase just over (or cut short by a stop), in one line. */
static void say_phase(struct micro *m, int p, bool cut)
{
    const struct snap *a = &m->snaps[p], *b = &m->snaps[p + 1];
    double sec = (double)(b->t - a->t) / 1e9;
    long long h = b->hits - a->hits, n = h + b->misses - a->misses;
    char hits[32] = "";
    if (m->cfg.cache_on[p])
        snprintf(hits, sizeof hits, ", %.0f%% cache hits", n ? 100.0 * (double)h / (double)n : 0);
    size_t queued = ct_chan_len(m->svc.jobs_rx.chan);
    ct_say(m->run, "%s, %s, cache %s: %.0f req/s%s, %zu job%s queued",
           cut ? "cut short" : m->cfg.warm[p] ? "warm-up" : "phase",
           m->cfg.reads[p] ? "reads" : "mixed", m->cfg.cache_on[p] ? "on" : "off",
           sec > 0 ? (double)(b->done - a->done) / sec : 0, hits, queued,
           queued == 1 ? "" : "s");
}

static void run_load(struct micro *m)
{
    struct config *cfg = &m->cfg;
    struct loadgen *lg = &m->lg;
    *lg = (struct loadgen){ .port = m->r.port, .clients = cfg->clients,
                            .write_pct = cfg->write_pct, .rng = cfg->seed * 2 + 1,
                            .grace_ms = 1000 };
    for (int p = 0; p < cfg->nph; p++) {
        lg->cache_off[p] = !cfg->cache_on[p];
        lg->reads_only[p] = cfg->reads[p];
    }
    atomic_store(&m->svc.cache.on, cfg->cache_on[0]);
    ct_section(m->run, "load: %d clients, %d ms mixed, then reads alone", cfg->clients,
               cfg->load_ms);
    take_snap(m, &m->snaps[0]);
    if (load_start(m->run, lg, &m->svc.stop_tx) != 0)
        return;
    ct_mark(m->run, CT_SLEEP);
    for (int p = 0; p < cfg->nph; p++) {
        if (p > 0) {
            atomic_store(&m->svc.cache.on, cfg->cache_on[p]);
            atomic_store(&lg->phase, p);
        }
        m->r.nph = p + 1;
        bool stop = ct_wait_stop_ms(m->run, cfg->phase_ms[p]);
        take_snap(m, &m->snaps[p + 1]);
        if (!ct_cancelled(m->run))
            say_phase(m, p, stop);
        if (stop)
            break;
    }
}

static void serve(struct micro *m)
{
    struct ct_run *run = m->run;
    atomic_store(&m->svc.cache.on, m->cfg.cache_on[0]);     /* cache=off: off */
    ct_section(run, "serving on 127.0.0.1:%d until Ctrl-C; try:", m->r.port);
    ct_say(run, "S=127.0.0.1:%d", m->r.port);
    ct_say(run, "curl $S/health");
    ct_say(run, "B='{\"user_id\":1,\"product_id\":7,\"quantity\":2}'");
    ct_say(run, "curl -d \"$B\" $S/orders");
    ct_say(run, "curl $S/orders/1");
    ct_say(run, "curl -d '\"failed\"' $S/orders/1/status");
    ct_say(run, "curl $S/orders; curl $S/metrics");
    ct_say(run, "wrk -t2 -c32 -d5s http://$S/orders/1");
    ct_mark(run, CT_SLEEP);
    while (!ct_wait_stop_ms(run, 1000))
        ;
}

/* ---- stopping -------------------------------------------------------------- */

/* The graceful stop: broadcast, the client finishes what it sent, the
 * server stops accepting and then closes, the job channel is closed and
 * the workers drain it.  After a cancel the same steps just go fast. */
static void service_down(struct micro *m)
{
    struct service *svc = &m->svc;
    struct micro_result *r = &m->r;
    struct ct_run *run = m->run;
    int64_t t0 = ct_clock_ns();
    if (m->bcast_up) {
        ct_mark(run, CT_RUN);
        ct_point(run, 'B');
        ct_bcast_send(&svc->stop_tx, "s");
        if (!ct_cancelled(run))
            ct_say(run, "stop: broadcast to the client and %d workers", svc->nworkers);
    }
    load_join(&m->lg);
    r->client_ms = ms_since(t0);
    if (svc->api.d) {
        api_quiesce(svc);
        for (int i = 0; i < 100 && api_connections(svc) > 0 && !ct_cancelled(run); i++)
            ct_sleep_ms(run, 5 / ct_scale(run));
        api_stop(svc);
    }
    r->server_ms = ms_since(t0);
    if (m->chan_up)
        ct_chan_drop_sender(&svc->jobs_tx);
    if (svc->nworkers > 0)
        ct_mark(run, CT_WAIT);
    jobs_join(svc);
    r->drain_ms = ms_since(t0);
    if (m->bcast_up)
        ct_mark(run, CT_IDLE);
    if (m->bcast_up)
        ct_bcast_drop_sender(&svc->stop_tx);
    if (!ct_cancelled(run) && svc->nworkers > 0)
        ct_say(run, "server closed after %.1f ms, jobs drained after %.1f ms", r->server_ms,
               r->drain_ms);
}

static void service_free(struct micro *m)
{
    struct service *svc = &m->svc;
    if (m->chan_up)
        ct_chan_drop_receiver(&svc->jobs_rx);
    if (m->cache_up)
        cache_destroy(&svc->cache);
    if (m->store_up) {
        store_stats(&svc->store, &m->r.pool);
        m->r.busy_waits = atomic_load(&svc->store.busy_waits);
        m->r.removed = store_close(&svc->store);
    }
    for (int i = 0; i < svc->nworkers; i++)
        free(svc->workers[i].lat_ms);
    load_free(&m->lg);
    free(m->recover_ids);
}

/* ---- the audit ------------------------------------------------------------- */

/* Every order a client got a 201 for: in the database, settled. */
static int audit_accepted(struct micro *m, struct db *db)
{
    struct micro_result *r = &m->r;
    for (size_t i = 0; i < m->lg.nids; i++) {
        struct order o;
        int rc = db_get(db, m->lg.ids[i], &o);
        if (rc == -ENOENT)
            r->accepted_missing++;
        else if (rc)
            return rc;
        else
            r->accepted_final += o.status == ST_COMPLETED || o.status == ST_FAILED;
    }
    return 0;
}

/* Every valid cache entry against its row. */
static int audit_cache(struct micro *m, struct db *db)
{
    struct order *v;
    size_t n;
    int rc = cache_snapshot(&m->svc.cache, &v, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct order o;
        rc = db_get(db, v[i].id, &o);
        m->r.stale += rc == 0 && (o.status != v[i].status || o.version != v[i].version);
    }
    m->r.cached = n;
    free(v);
    return rc;
}

static int audit(struct micro *m)
{
    struct micro_result *r = &m->r;
    struct db *db;
    long long all[ST_COUNT];
    int rc = store_acquire(&m->svc.store, &db, ct_cancel_event(m->run));
    if (rc)
        return rc;
    rc = db_count(db, r->before_id, r->db_new);
    if (rc == 0)
        rc = db_count(db, 0, all);
    if (rc == 0)
        rc = audit_accepted(m, db);
    if (rc == 0)
        rc = audit_cache(m, db);
    store_release(&m->svc.store, db);
    for (int s = 0; s < ST_COUNT; s++)
        r->db_new_total += r->db_new[s];
    r->db_unfinished = all[ST_PENDING] + all[ST_PROCESSING];
    ct_say(m->run, "audit: %lld new orders, %lld completed, %lld failed, %lld unfinished",
           r->db_new_total, r->db_new[ST_COMPLETED], r->db_new[ST_FAILED],
           r->db_new[ST_PENDING] + r->db_new[ST_PROCESSING]);
    return rc;
}

/* ---- figures ---------------------------------------------------------------- */

static int by_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The p-th percentile (nearest rank) of sorted v[0..n-1], in ms. */
static double pct_ms(const uint32_t *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t k = (size_t)(p / 100.0 * (double)n);
    return (double)v[k < n ? k : n - 1] / 1000.0;
}

/* Latencies of the phases in `phases` (a bit each) whose route is in
 * `routes` (a bit each), sorted, into v; their number. */
static size_t pick(const struct loadgen *lg, unsigned phases, unsigned routes, uint32_t *v)
{
    size_t n = 0;
    for (size_t i = 0; i < lg->nlat; i++)
        if ((phases >> lg->lat[i].phase & 1u) && (routes >> lg->lat[i].route & 1u))
            v[n++] = lg->lat[i].us;
    qsort(v, n, sizeof *v, by_u32);
    return n;
}

/* Figures of the phases in `phases`, pooled: latencies from the client,
 * rates and CPU from the snapshots. */
static void pool_figures(struct micro *m, unsigned phases, uint32_t *v, struct phase_figs *f)
{
    const struct loadgen *lg = &m->lg;
    long long h = 0, mi = 0, hit_ns = 0, db_ns = 0, hit_n = 0, db_n = 0;
    double cpu_ns = 0, client_ns = 0;
    for (int p = 0; p < m->r.nph; p++) {
        if (!(phases >> p & 1u))
            continue;
        const struct snap *a = &m->snaps[p], *b = &m->snaps[p + 1];
        /* answers counted between main's snapshots, the figure its live
         * line printed at the end of the phase (latencies below are of the
         * requests the clients sent in the phase) */
        double ms = (double)(b->t - a->t) / 1e6;
        long long req = b->done - a->done;
        double rps = ms > 0 ? (double)req / (ms / 1e3) : 0;
        f->rps_lo = f->present && f->rps_lo < rps ? f->rps_lo : rps;
        f->rps_hi = f->present && f->rps_hi > rps ? f->rps_hi : rps;
        f->present = true;
        f->cache_on = m->cfg.cache_on[p];
        f->warm = m->cfg.warm[p];
        f->reads = m->cfg.reads[p];
        f->req += req;
        f->ms += ms;
        client_ns += (double)(lg->phase_cpu1[p] - lg->phase_cpu0[p]);
        cpu_ns += (double)(b->cpu - a->cpu);
        h += b->hits - a->hits;
        mi += b->misses - a->misses;
        hit_ns += b->hit_ns - a->hit_ns;
        hit_n += b->hit_n - a->hit_n;
        db_ns += b->db_ns - a->db_ns;
        db_n += b->db_n - a->db_n;
    }
    f->rps = f->ms > 0 ? (double)f->req / (f->ms / 1e3) : 0;
    size_t n = pick(lg, phases, ~0u, v);
    f->p50 = pct_ms(v, n, 50);
    f->p99 = pct_ms(v, n, 99);
    n = pick(lg, phases, 1u << RT_GET, v);
    f->get_p50 = pct_ms(v, n, 50);
    f->get_p99 = pct_ms(v, n, 99);
    n = pick(lg, phases, 1u << RT_CREATE | 1u << RT_STATUS, v);
    f->write_p99 = pct_ms(v, n, 99);
    /* with the cache off nothing is looked up: a hit or two counted there
     * came in before the client saw the switch */
    f->hit_rate = f->cache_on && h + mi ? 100.0 * (double)h / (double)(h + mi) : 0;
    f->srv_us = f->req ? (cpu_ns - client_ns) / (double)f->req / 1e3 : 0;
    f->client_pct = f->ms > 0 ? client_ns / 1e6 / f->ms * 100 : 0;
    f->hit_us = hit_n ? (double)hit_ns / (double)hit_n / 1e3 : 0;
    f->db_us = db_n ? (double)db_ns / (double)db_n / 1e3 : 0;
}

static void load_figures(struct micro *m)
{
    struct micro_result *r = &m->r;
    uint32_t *v = malloc((m->lg.nlat ? m->lg.nlat : 1) * sizeof *v);
    if (!v)
        return;
    unsigned mixed = 0, on = 0, off = 0;
    for (int p = 0; p < r->nph; p++) {
        pool_figures(m, 1u << p, v, &r->ph[p]);
        if (!m->cfg.warm[p])
            *(!m->cfg.reads[p] ? &mixed : m->cfg.cache_on[p] ? &on : &off) |= 1u << p;
    }
    if (!mixed)                 /* stopped during the warm-up: it is all there is */
        mixed = 1u;
    pool_figures(m, mixed, v, &r->mixed);
    if (off)
        pool_figures(m, off, v, &r->reads[0]);
    if (on)
        pool_figures(m, on, v, &r->reads[1]);
    free(v);
}

static void job_figures(struct micro *m)
{
    struct service *svc = &m->svc;
    struct micro_result *r = &m->r;
    size_t n = 0;
    for (int i = 0; i < svc->nworkers; i++)
        n += svc->workers[i].nlat;
    double *v = malloc((n ? n : 1) * sizeof *v);
    size_t k = 0;
    r->nworkers = svc->nworkers;
    for (int i = 0; v && i < svc->nworkers; i++) {
        const struct worker *w = &svc->workers[i];
        struct worker_row *row = &r->w[i];
        *row = (struct worker_row){ .done = w->done, .completed = w->settled[ST_COMPLETED],
                                    .failed = w->settled[ST_FAILED], .skipped = w->skipped,
                                    .after_stop = w->got_stop ? w->done - w->done_at_stop : 0 };
        snprintf(row->name, sizeof row->name, "%s", w->thread.label);
        r->after_stop += row->after_stop;
        if (w->nlat)
            memcpy(v + k, w->lat_ms, w->nlat * sizeof *v);
        k += w->nlat;
        r->done += w->done;
        r->skipped += w->skipped;
        r->raced += w->raced;
        r->w_recovered += w->recovered;
        r->drained += w->drained;
        for (int s = 0; s < ST_COUNT; s++)
            r->w_settled[s] += w->settled[s];
    }
    qsort(v, k, sizeof *v, by_double);
    r->job_p50 = k ? v[k / 2] : 0;
    r->job_p99 = k ? v[(size_t)(0.99 * (double)k) < k ? (size_t)(0.99 * (double)k) : k - 1] : 0;
    free(v);
}

static void figures(struct micro *m)
{
    struct service *svc = &m->svc;
    struct micro_result *r = &m->r;
    const struct loadgen *lg = &m->lg;
    load_figures(m);
    job_figures(m);
    r->accepted = lg->nids;
    r->conflicts = lg->conflicts;
    r->rejected_seen = lg->rejected;
    r->errors = lg->errors;
    r->unexpected = lg->unexpected;
    r->abandoned = lg->abandoned;
    memcpy(r->client_settled, lg->settled, sizeof r->client_settled);
    snprintf(r->first_bad, sizeof r->first_bad, "%s", lg->first_bad);
    r->queued = atomic_load(&svc->jobs_queued);
    r->created = atomic_load(&svc->api.created);
    r->rejected = atomic_load(&svc->api.rejected);
    for (int s = 0; s < ST_COUNT; s++)
        r->settled[s] = atomic_load(&svc->api.settled[s]);
    for (int i = 0; i < RT_COUNT; i++)
        r->requests += atomic_load(&svc->api.req[i]);
    r->refused = atomic_load(&svc->cache.refused);
    r->invalidations = atomic_load(&svc->cache.invalidations);
    long long hn = atomic_load(&svc->api.hit_n), dn = atomic_load(&svc->api.db_n);
    r->hit_us = hn ? (double)atomic_load(&svc->api.hit_ns) / (double)hn / 1e3 : 0;
    r->db_us = dn ? (double)atomic_load(&svc->api.db_ns) / (double)dn / 1e3 : 0;
}

/* ---- the report ------------------------------------------------------------ */

static void table_load(struct ct_run *run, const struct micro_result *r)
{
    static const char *const ph_cols[] = { "phase", "load", "cache", "requests", "rps|req/s",
                                           "p50_ms|p50 ms", "p99_ms|p99 ms", NULL };
    static const char *const rd_cols[] = { "cache", "rps|req/s", "p50_ms|p50 ms",
                                           "p99_ms|p99 ms", "cpu_us|CPU us/req",
                                           "hits|hits %", NULL };
    struct ct_table *t = ct_table_new(run, "phases", "load, phase by phase", ph_cols);
    for (int p = 0; p < r->nph; p++) {
        const struct phase_figs *f = &r->ph[p];
        char name[16];
        snprintf(name, sizeof name, f->warm ? "warm-up" : "%d", p);
        ct_table_row(t, CT_TEXT(name), CT_TEXT(f->reads ? "reads" : "mixed"),
                     CT_TEXT(f->cache_on ? "on" : "off"), CT_INT(f->req), CT_NUM(f->rps, 0),
                     CT_NUM(f->p50, 2), CT_NUM(f->p99, 2));
    }
    if (!r->reads[0].present && !r->reads[1].present)
        return;
    t = ct_table_new(run, "reads", "reads alone, phases pooled", rd_cols);
    for (int k = 1; k >= 0; k--) {
        const struct phase_figs *f = &r->reads[k];
        if (f->present)
            ct_table_row(t, CT_TEXT(k ? "on" : "off"), CT_NUM(f->rps, 0), CT_NUM(f->p50, 2),
                         CT_NUM(f->p99, 2), CT_NUM(f->srv_us, 1), CT_NUM(f->hit_rate, 1));
    }
}

static void report_tables(struct ct_run *run, const struct micro_result *r)
{
    static const char *const bad_cols[] = { "request", "expected", "got", NULL };
    static const char *const w_cols[] = { "worker", "jobs", "completed", "failed", "skipped",
                                          "after_stop|after stop", NULL };
    if (r->bad_n) {
        struct ct_table *t = ct_table_new(run, "bad_input", "bad input", bad_cols);
        for (int i = 0; i < r->bad_n; i++)
            ct_table_row(t, CT_TEXT(r->bad[i].what), CT_INT(r->bad[i].expect),
                         CT_INT(r->bad[i].got));
    }
    if (r->nph)
        table_load(run, r);
    struct ct_table *t = ct_table_new(run, "workers", "job workers", w_cols);
    for (int i = 0; i < r->nworkers; i++) {
        const struct worker_row *w = &r->w[i];
        ct_table_row(t, CT_TEXT(w->name), CT_INT(w->done), CT_INT(w->completed),
                     CT_INT(w->failed), CT_INT(w->skipped), CT_INT(w->after_stop));
    }
}

static void report_results(struct ct_run *run, const struct micro_result *r)
{
    const struct phase_figs *x = &r->mixed;
    if (r->nph) {
        ct_result_num(run, "rps", "requests per second, mixed load", x->rps, 0, NULL);
        ct_result_num(run, "p50_ms", "mixed load: latency p50", x->p50, 2, "ms");
        ct_result_num(run, "p99_ms", "mixed load: latency p99", x->p99, 2, "ms");
        ct_result_num(run, "write_p99_ms", "mixed load: writes' p99", x->write_p99, 2, "ms");
        if (x->cache_on)
            ct_result_num(run, "hit_rate", "mixed load: reads by id from the cache",
                          x->hit_rate, 1, "%");
    }
    for (int k = 1; k >= 0; k--) {
        const struct phase_figs *f = &r->reads[k];
        if (!f->present)
            continue;
        ct_result_num(run, k ? "reads_rps" : "reads_rps_nocache",
                      k ? "reads alone, cache on: req/s" : "reads alone, cache off: req/s",
                      f->rps, 0, NULL);
        ct_result_num(run, k ? "reads_p50_ms" : "reads_p50_ms_nocache",
                      k ? "reads alone, cache on: p50" : "reads alone, cache off: p50", f->p50,
                      2, "ms");
    }
    ct_result_num(run, "hit_us", "handler time of a GET, cache hit", r->hit_us, 1, "us");
    ct_result_num(run, "db_us", "handler time of a GET from SQLite", r->db_us, 1, "us");
    ct_result_int(run, "refused", "stale cache fills refused", r->refused, NULL);
    ct_result_int(run, "invalidations", "cache invalidations", r->invalidations, NULL);
    ct_result_int(run, "busy_waits", "naps waiting for SQLite's write lock", r->busy_waits,
                  NULL);
    ct_result_int(run, "requests", "requests the server answered", r->requests, NULL);
    ct_result_int(run, "accepted", "orders accepted (201)", (long long)r->accepted, NULL);
    ct_result_int(run, "conflicts", "status moves refused (409)", r->conflicts, NULL);
    ct_result_int(run, "rejected", "creates refused, queue full (503)", r->rejected, NULL);
    ct_result_int(run, "completed", "new orders completed", r->db_new[ST_COMPLETED], NULL);
    ct_result_int(run, "failed", "new orders failed or cancelled", r->db_new[ST_FAILED], NULL);
    ct_result_int(run, "unfinished", "orders left pending or processing", r->db_unfinished,
                  NULL);
    ct_result_int(run, "recovered", "orders recovered from an earlier run",
                  (long long)r->recovered, NULL);
    ct_result_int(run, "jobs", "jobs done", r->done, NULL);
    ct_result_int(run, "raced", "orders a client settled mid-job", r->raced, NULL);
    ct_result_num(run, "job_p50_ms", "job latency p50, queued to settled", r->job_p50, 1, "ms");
    ct_result_num(run, "job_p99_ms", "job latency p99", r->job_p99, 1, "ms");
    ct_result_int(run, "after_stop", "jobs done after the stop", r->after_stop, NULL);
    ct_result_text(run, "stopped_by", "stopped by", r->ctrl_c ? "Ctrl-C" : "end of load");
    ct_result_num(run, "client_ms", "stop to the client's last answer", r->client_ms, 1, "ms");
    ct_result_num(run, "drain_ms", "stop to last worker out", r->drain_ms, 1, "ms");
    ct_result_num(run, "loadavg", "load average at the start", r->loadavg, 2, NULL);
}

static void report_checks(struct ct_run *run, const struct micro_result *r)
{
    if (r->bad_ran) {
        ct_check(run, r->bad_ok == r->bad_n, "bad input: %d of %d requests got the expected "
                 "status", r->bad_ok, r->bad_n);
        ct_check(run, r->bad_db_ok, "bad input changed nothing: one order made, cancelled once");
    }
    if (r->nph)
        ct_check(run, r->errors == 0 && r->unexpected == 0,
                 "every answer was one its route allows (%lld errors, %lld unexpected%s%s)",
                 r->errors, r->unexpected, r->first_bad[0] ? ": " : "", r->first_bad);
    if (!r->serve && r->accepted > 0)
        ct_check(run, r->accepted_final == r->accepted,
                 "all %zu accepted orders are in the database and settled (%zu missing)",
                 r->accepted, r->accepted_missing);
    ct_check(run, r->db_unfinished == 0, "no order in the database is left pending or "
             "processing (%lld are)", r->db_unfinished);
    long long done_c = r->w_settled[ST_COMPLETED] + r->settled[ST_COMPLETED];
    long long done_f = r->w_settled[ST_FAILED] + r->settled[ST_FAILED] + r->rejected;
    ct_check(run, r->db_new[ST_COMPLETED] == done_c && r->db_new[ST_FAILED] == done_f,
             "each order settled once: %lld completed = %lld by workers + %lld by clients; "
             "%lld failed = %lld + %lld + %lld refused", r->db_new[ST_COMPLETED],
             r->w_settled[ST_COMPLETED], r->settled[ST_COMPLETED], r->db_new[ST_FAILED],
             r->w_settled[ST_FAILED], r->settled[ST_FAILED], r->rejected);
    ct_check(run, r->db_new_total == r->created + r->rejected,
             "%lld rows added = %lld created (201) + %lld refused (503)", r->db_new_total,
             r->created, r->rejected);
    /* both sides' counts agree: what the server sent, the clients got */
    long long cl_c = r->client_settled[ST_COMPLETED], cl_f = r->client_settled[ST_FAILED];
    if (!r->serve && r->abandoned == 0)
        ct_check(run, (long long)r->accepted + r->bad_created == r->created &&
                      r->rejected_seen == r->rejected &&
                      cl_c + r->bad_settled[ST_COMPLETED] == r->settled[ST_COMPLETED] &&
                      cl_f + r->bad_settled[ST_FAILED] == r->settled[ST_FAILED],
                 "the clients saw what the server sent: %zu + %d created, %lld + %lld "
                 "settled, %lld refused", r->accepted, r->bad_created, cl_c, cl_f,
                 r->rejected_seen);
    if (r->recovered > 0 && !r->serve)
        ct_check(run, r->w_recovered == (long long)r->recovered,
                 "the workers settled all %zu recovered orders (%lld)", r->recovered,
                 r->w_recovered);
    if (r->cached > 0)
        ct_check(run, r->stale == 0, "all %zu cached orders match the database (%zu stale)",
                 r->cached, r->stale);
    ct_check(run, r->queued == r->done + r->skipped && r->drained == r->nworkers,
             "every queued job was taken (%lld = %lld done + %lld skipped) and all %d workers "
             "left an empty, closed channel", r->queued, r->done, r->skipped, r->nworkers);
    ct_check(run, r->pool.in_use == 0 && r->pool.acquired == r->pool.released,
             "every pool connection came back (%llu lent, %llu returned)",
             (unsigned long long)r->pool.acquired, (unsigned long long)r->pool.released);
    if (r->temp)
        ct_check(run, r->removed, "the temporary database was removed");
}

static void takeaway_load(struct ct_run *run, const struct micro_result *r)
{
    const struct phase_figs *x = &r->mixed, *on = &r->reads[1], *off = &r->reads[0];
    char hits[64] = "";
    if (x->cache_on)
        snprintf(hits, sizeof hits, "; the cache served %.0f%% of its reads by id",
                 x->hit_rate);
    ct_takeaway(run,
                "%d clients on %d CPUs (load average %.1f at the start) got %.0f requests/s "
                "from the mixed load with the cache %s: p50 %.2f ms, p99 %.2f ms, writes' p99 "
                "%.2f ms%s. The client thread alone kept %.0f%% of a CPU busy.",
                r->clients, ct_cpus(), r->loadavg, x->rps, x->cache_on ? "on" : "off", x->p50,
                x->p99, x->write_p99, hits, x->client_pct);
    if (!on->present || !off->present)
        return;
    double gain = off->rps > 0 ? on->rps / off->rps : 0;
    /* how far apart two phases of the same kind were: the run's own noise */
    double spread = fmax(on->rps > 0 ? (on->rps_hi - on->rps_lo) / on->rps : 0,
                         off->rps > 0 ? (off->rps_hi - off->rps_lo) / off->rps : 0);
    /* what the cache saves the server, against all a request costs in CPU */
    double client_us = on->rps > 0 ? on->client_pct / 100 * 1e6 / on->rps : 0;
    double saved = off->srv_us - on->srv_us;
    double bound = on->srv_us + client_us > 0 ? 100 * saved / (on->srv_us + client_us) : 0;
    ct_takeaway(run,
                "Reads alone, the cache served %.0f%% of them. In the handler a hit took %.1f "
                "us, a read from SQLite through the pool %.1f us; per request the server spent "
                "%.1f us of CPU with the cache and %.1f us without. End to end: p50 %.2f "
                "against %.2f ms, %.0f against %.0f requests/s (x%.2f). %s (two phases of the "
                "same kind differed by up to %.0f%%).",
                on->hit_rate, r->hit_us, r->db_us, on->srv_us, off->srv_us, on->p50, off->p50,
                on->rps, off->rps, gain,
                fabs(gain - 1) <= spread ? "That is within this run's noise"
                : gain > 1 ? "The cache's phases were faster by more than this run's noise"
                           : "The phases without it were faster by more than this run's "
                             "noise, so something else on the machine changed between them",
                spread * 100);
    char why[320];
    if (saved > 0)
        snprintf(why, sizeof why, "With the cache the server's CPU per request fell by %.1f "
                 "us, while each request also cost the client %.1f us: when the CPUs are the "
                 "limit, that is worth about %.0f%% more requests per second.%s", saved,
                 client_us, bound,
                 100 * (gain - 1) > bound + 100 * spread
                     ? " The gap measured end to end is wider than that: the machine's other "
                       "work weighed differently on the phases." : "");
    else
        snprintf(why, sizeof why, "The server's CPU per request did not fall measurably with "
                 "the cache (%.1f against %.1f us); each request also cost the client %.1f us.",
                 on->srv_us, off->srv_us, client_us);
    ct_takeaway(run,
                "%s A cache pays most where the read it saves is dear (a database across the "
                "network, a slow query) and the server is the bottleneck; wrk against "
                "serve=true puts less client cost into each request.", why);
}

static const char *plural(long long n)
{
    return n == 1 ? "" : "s";
}

static void takeaway_rest(struct ct_run *run, const struct micro_result *r)
{
    if (r->refused)
        ct_takeaway(run,
                    "%lld read%s lost the race against an update: fetched a row, saw an "
                    "update invalidate it, then tried to cache the old row. The version check "
                    "refused %s; a plain remove-on-update would have served a stale order "
                    "until its next change.",
                    r->refused, plural(r->refused), r->refused == 1 ? "it" : "them");
    else
        ct_takeaway(run,
                    "No read lost the race against an update in this run (fetch a row, an "
                    "update invalidates it, cache the old row); more clients or a higher "
                    "write-pct make it likelier, and the version check then refuses the "
                    "stale fill.");
    /* a finished job either settled its order, found a client had settled
     * it meanwhile (raced), or settled one left over from a killed run */
    long long settled = r->w_settled[ST_COMPLETED] + r->w_settled[ST_FAILED];
    char beside[160] = "";
    if (r->raced && r->w_recovered)
        snprintf(beside, sizeof beside, "; in %lld a client settled the order while they "
                 "worked, and %lld were left over from an earlier run", r->raced,
                 r->w_recovered);
    else if (r->raced)
        snprintf(beside, sizeof beside, "; in %lld a client settled the order while they "
                 "worked", r->raced);
    else if (r->w_recovered)
        snprintf(beside, sizeof beside, "; %lld %s left over from an earlier run",
                 r->w_recovered, r->w_recovered == 1 ? "was" : "were");
    ct_takeaway(run,
                "The workers finished %lld job%s, from queued to final p50 %.1f ms and p99 "
                "%.1f ms (work-ms is %.0f): they settled %lld order%s (%lld completed, %lld "
                "failed)%s. After the stop broadcast they finished %lld more: the server had "
                "closed %.1f ms after the stop, dropping the last job senders but main's, and "
                "the channel was closed and empty %.1f ms after it.",
                r->done, plural(r->done), r->job_p50, r->job_p99, r->work_ms, settled,
                plural(settled), r->w_settled[ST_COMPLETED], r->w_settled[ST_FAILED], beside,
                r->after_stop, r->server_ms, r->drain_ms);
    if (r->serve)
        ct_takeaway(run,
                    "While serving, the server answered %lld requests and created %lld "
                    "order%s; the audit found every new order settled once: %lld completed, "
                    "%lld failed.",
                    r->requests, r->created, plural(r->created), r->db_new[ST_COMPLETED],
                    r->db_new[ST_FAILED]);
    else {
        /* rows beyond the promises: the bad-input client's one good order,
         * and creates refused with 503 (stored as failed) */
        char others[192] = "";
        long long extra = r->db_new_total - (long long)r->accepted;
        long long unanswered = extra - r->bad_created - r->rejected;
        if (unanswered > 0)
            snprintf(others, sizeof others,
                     " (the other %lld: %d from the bad-input client, %lld refused with 503, "
                     "%lld whose client stopped waiting)",
                     extra, r->bad_created, r->rejected, unanswered);
        else if (extra > 0)
            snprintf(others, sizeof others,
                     " (the other %lld: %d from the bad-input client, %lld refused with 503)",
                     extra, r->bad_created, r->rejected);
        ct_takeaway(run,
                    "The audit found all %zu orders the clients were promised in the "
                    "database, each settled once: %lld completed and %lld failed among the "
                    "%lld new rows%s. %lld status change%s got 409 because a worker or an "
                    "earlier change had settled the order first: the conditional UPDATE, not "
                    "a lock held across requests, decides who wins.",
                    r->accepted, r->db_new[ST_COMPLETED], r->db_new[ST_FAILED],
                    r->db_new_total, others, r->conflicts, plural(r->conflicts));
    }
}

static void report(struct ct_run *run, struct micro_result *r, const struct config *cfg)
{
    r->clients = cfg->clients;
    r->work_ms = cfg->work_ms;
    report_tables(run, r);
    report_results(run, r);
    report_checks(run, r);
    if (r->nph)
        takeaway_load(run, r);
    takeaway_rest(run, r);
}

/* ---- the run ------------------------------------------------------------------ */

static void read_config(struct ct_run *run, struct config *c)
{
    *c = (struct config){
        .clients = (int)ct_param_int(run, "clients"),
        .load_ms = (int)(ct_param_int(run, "load-ms") * ct_scale(run)),
        .write_pct = (int)ct_param_int(run, "write-pct"),
        .threads = (int)ct_param_int(run, "threads"),
        .pool = (int)ct_param_int(run, "pool"),
        .workers = (int)ct_param_int(run, "workers"),
        .fail_pct = (int)ct_param_int(run, "fail-pct"),
        .port = (int)ct_param_int(run, "port"),
        .queue = (long)ct_param_int(run, "queue"),
        .work_ms = (double)ct_param_int(run, "work-ms"),
        .serve = ct_param_bool(run, "serve"),
        .db = ct_param_text(run, "db"),
        .seed = (uint64_t)ct_param_int(run, "seed"),
    };
    /* reads alone with the cache on, off, off, on: a drift over the run
     * (the machine getting busier) falls on both alike */
    static const bool abba[] = { true, false, false, true };
    const char *cache = ct_param_choice(run, "cache");
    bool both = strcmp(cache, "both") == 0, on = strcmp(cache, "off") != 0;
    c->nph = 6;
    for (int p = 0; p < c->nph; p++) {
        c->warm[p] = p == 0;
        c->reads[p] = p >= 2;
        c->cache_on[p] = p >= 2 && both ? abba[p - 2] : on;
        c->phase_ms[p] = p == 0 ? c->load_ms / 4.0 : p == 1 ? c->load_ms : c->load_ms / 3.0;
    }
}

static void legends(struct ct_run *run)
{
    ct_legend(run, CT_RUN, "client: mixed load; worker: an order; main: stopping");
    ct_legend(run, CT_SHARED, "client: reads alone, cache on");
    ct_legend(run, CT_HOLD, "client: cache off");
    ct_legend(run, CT_WAIT, "waiting: client for answers, worker for a job, main for them");
    ct_legend(run, CT_SLEEP, "main: letting the load run");
    ct_point_legend(run, 'B', "stop broadcast");
    ct_point_legend(run, 'S', "stop received");
    ct_point_legend(run, 'E', "job channel closed and empty: worker exits");
}

static int micro_run(struct ct_run *run)
{
    struct micro *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->run = run;
    read_config(run, &m->cfg);
    m->r.serve = m->cfg.serve;
    m->r.loadavg = read_loadavg();
    legends(run);
    int rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
    if (rc == 0)
        rc = service_up(m);
    if (rc == 0 && !ct_stop_requested(run))
        bad_input(m);
    if (rc == 0)
        rc = workers_up(m);
    if (rc == 0 && !ct_stop_requested(run)) {
        if (m->cfg.serve)
            serve(m);
        else
            run_load(m);
    }
    m->r.ctrl_c = ct_stop_requested(run);
    service_down(m);
    if (rc == 0 && !ct_cancelled(run))
        rc = audit(m);
    if (rc == 0 && !ct_cancelled(run))
        figures(m);
    service_free(m);
    if (rc == 0 && m->r.temp && m->r.removed && !ct_cancelled(run))
        ct_say(run, "removed the temporary database");
    if (rc == 0 && !ct_cancelled(run))
        report(run, &m->r, &m->cfg);
    curl_global_cleanup();
    free(m);
    return rc == -ECANCELED ? 0 : rc;
}

static const struct ct_param_spec micro_params[] = {
    { "clients", CT_PARAM_INT, "32", 1, 512, NULL, "concurrent client connections" },
    { "load-ms", CT_PARAM_INT, "600", 20, 600000, NULL,
      "ms of mixed load; a quarter of it warms up, four thirds of it are reads" },
    { "cache", CT_PARAM_CHOICE, "both", 0, 0, "both,on,off",
      "both: mixed load with it, then reads with it and without; on, off: all so" },
    { "write-pct", CT_PARAM_INT, "20", 0, 100, NULL,
      "% of requests that write: 2/3 creates, 1/3 status moves" },
    { "threads", CT_PARAM_INT, "4", 1, 64, NULL, "server threads" },
    { "pool", CT_PARAM_INT, "8", 1, 64, NULL, "SQLite connections in the pool" },
    { "workers", CT_PARAM_INT, "4", 1, MICRO_MAX_WORKERS, NULL, "job workers" },
    { "work-ms", CT_PARAM_INT, "1", 0, 10000, NULL, "ms a worker spends on one order" },
    { "fail-pct", CT_PARAM_INT, "10", 0, 100, NULL, "% of orders whose processing fails" },
    { "queue", CT_PARAM_INT, "1000", 1, 1000000, NULL, "job channel capacity" },
    { "port", CT_PARAM_INT, "0", 0, 65535, NULL, "port on 127.0.0.1; 0: any free one" },
    { "db", CT_PARAM_TEXT, "temp", 0, 0, NULL,
      "database file (kept); temp: a new one, removed at the end" },
    { "serve", CT_PARAM_BOOL, "false", 0, 0, NULL,
      "no load: serve until Ctrl-C, for curl and wrk" },
    { "seed", CT_PARAM_INT, "1", 0, 1000000000, NULL, "seed of the clients' request mix" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_microservice = {
    .name = "microservice",
    .chapter = 10,
    .title = "An orders service under load",
    .summary = "HTTP API, SQLite pool, rwlock cache and job workers, driven by 32 clients",
    .intro = "An orders service on 127.0.0.1: an HTTP API over SQLite through a connection "
             "pool, a cache behind a reader-writer lock, and a job channel drained by "
             "workers that settle each order. The demo sends it bad requests, then a mixed "
             "load, then reads with the cache on and off; then it stops it gracefully and "
             "checks every order against the database. Ctrl-C stops it the same way.",
    .params = micro_params,
    .smoke = "clients=4 load-ms=150 threads=2 pool=4 workers=2",
    .flags = CT_DEMO_GRACEFUL,
    .run = micro_run,
};
