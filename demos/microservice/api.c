/* api.c - the orders API on libmicrohttpd: the guide's axum Router.
 *
 *   GET  /health               {"status": "healthy", ...}
 *   GET  /metrics              pool, cache, job queue and request counts
 *   GET  /orders               the newest orders (?limit=N, at most 100)
 *   POST /orders               {"user_id", "product_id", "quantity"} -> 201
 *   GET  /orders/ID            through the cache
 *   POST /orders/ID/status     "completed" or {"status": "failed"}
 *
 * libmicrohttpd runs a pool of server threads, each with its own epoll
 * loop, and calls on_request on whichever thread owns the connection: that
 * is tokio's worker threads running axum's handlers.  A handler here may
 * block (on the pool, on SQLite's write lock, on a full job queue), so
 * every such wait is bounded.
 *
 * Answers: 400 for a body that is not JSON or an id that is not a
 * positive integer, 404 for an unknown order or path, 405 for a method a
 * path does not take, 409 for a status move the order's state forbids,
 * 413 for a body over 4 KiB, 422 for JSON that is well formed but wrong,
 * 503 when the pool or the job queue stays full.
 *
 * Each connection holds its own clone of the job sender (made when it
 * opens, dropped when it closes), as each axum handler holds a clone of
 * the mpsc::Sender: once the server has stopped, no sender is left but
 * main's, and dropping that closes the channel.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "microservice.h"
#include "stats.h"

#define MAX_BODY 4096
#define LIST_MAX 100
/* how long a create waits for room in a full job queue */
#define QUEUE_WAIT_NS (200 * CT_NS_PER_MS)

const char *const micro_route_name[RT_COUNT] = {
    "GET /orders/:id", "POST /orders", "POST .../status", "GET /orders", "GET /health",
    "GET /metrics", "other",
};

struct conn_ctx {
    struct ct_sender tx;        /* this connection's clone of the job sender */
};

struct req {
    int64_t t0;
    size_t len;
    bool too_big;
    char body[MAX_BODY];
};

/* ---- replies ------------------------------------------------------------ */

/* Send `j` (taken) as the body, with a newline for curl's sake. */
static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, json_t *j,
                             const char *hname, const char *hvalue)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text)
        return MHD_NO;          /* out of memory: MHD closes the connection */
    size_t len = strlen(text);
    char *body = realloc(text, len + 2);
    if (!body) {
        free(text);
        return MHD_NO;
    }
    body[len++] = '\n';
    body[len] = '\0';
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(len, body, free);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (hname)
        MHD_add_response_header(r, hname, hvalue);
    enum MHD_Result ok = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned code, const char *fmt, ...)
    CT_PRINTF(3, 4);

static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned code, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return reply(c, code, json_pack("{ss}", "error", msg), NULL, NULL);
}

static json_t *order_json(const struct order *o)
{
    return json_pack("{sI sI sI si ss sI}", "id", (json_int_t)o->id, "user_id",
                     (json_int_t)o->user_id, "product_id", (json_int_t)o->product_id,
                     "quantity", o->quantity, "status", micro_status_name[o->status], "version",
                     (json_int_t)o->version);
}

/* ---- handlers: each returns the status code it answered with ------------ */

struct call {
    struct api *api;
    struct service *svc;
    struct MHD_Connection *c;
    struct req *rq;
    int64_t id;
    enum MHD_Result res;
};

static unsigned answer(struct call *k, unsigned code, json_t *j)
{
    k->res = reply(k->c, code, j, NULL, NULL);
    return code;
}

static unsigned fail(struct call *k, unsigned code, const char *msg)
{
    k->res = reply_error(k->c, code, "%s", msg);
    return code;
}

static unsigned get_order(struct call *k)
{
    struct service *svc = k->svc;
    int64_t t0 = ct_clock_ns();
    struct order o;
    if (cache_get(&svc->cache, k->id, &o)) {
        atomic_fetch_add_explicit(&k->api->hit_ns, ct_clock_ns() - t0, memory_order_relaxed);
        atomic_fetch_add_explicit(&k->api->hit_n, 1, memory_order_relaxed);
        return answer(k, MHD_HTTP_OK, order_json(&o));
    }
    struct db *db;
    if (store_acquire(&svc->store, &db, ct_cancel_event(svc->run)) != 0)
        return fail(k, MHD_HTTP_SERVICE_UNAVAILABLE, "no database connection free");
    int rc = db_get(db, k->id, &o);
    store_release(&svc->store, db);
    if (rc == -ENOENT)
        return fail(k, MHD_HTTP_NOT_FOUND, "no such order");
    if (rc)
        return fail(k, MHD_HTTP_INTERNAL_SERVER_ERROR, "database error");
    cache_fill(&svc->cache, &o);
    atomic_fetch_add_explicit(&k->api->db_ns, ct_clock_ns() - t0, memory_order_relaxed);
    atomic_fetch_add_explicit(&k->api->db_n, 1, memory_order_relaxed);
    return answer(k, MHD_HTTP_OK, order_json(&o));
}

static unsigned list_orders(struct call *k)
{
    struct service *svc = k->svc;
    const char *arg = MHD_lookup_connection_value(k->c, MHD_GET_ARGUMENT_KIND, "limit");
    int max = LIST_MAX;
    if (arg) {
        char *end;
        long v = strtol(arg, &end, 10);
        if (*arg == '\0' || *end != '\0' || v < 1 || v > LIST_MAX)
            return fail(k, MHD_HTTP_BAD_REQUEST, "limit must be 1..100");
        max = (int)v;
    }
    struct order rows[LIST_MAX];
    int n = 0;
    struct db *db;
    if (store_acquire(&svc->store, &db, ct_cancel_event(svc->run)) != 0)
        return fail(k, MHD_HTTP_SERVICE_UNAVAILABLE, "no database connection free");
    int rc = db_list(db, max, rows, &n);
    store_release(&svc->store, db);
    if (rc)
        return fail(k, MHD_HTTP_INTERNAL_SERVER_ERROR, "database error");
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++)
        json_array_append_new(a, order_json(&rows[i]));
    return answer(k, MHD_HTTP_OK, a);
}

/* The create body's fields into *o; NULL, or what is wrong with it. */
static const char *parse_create(json_t *j, struct order *o, char *why, size_t n)
{
    static const char *const keys[] = { "user_id", "product_id", "quantity" };
    static const json_int_t max[] = { INT64_MAX, INT64_MAX, 1000 };
    json_int_t v[3];
    if (!json_is_object(j))
        return "expected an object: {\"user_id\", \"product_id\", \"quantity\"}";
    for (int i = 0; i < 3; i++) {
        json_t *x = json_object_get(j, keys[i]);
        if (!json_is_integer(x) || json_integer_value(x) < 1 || json_integer_value(x) > max[i]) {
            snprintf(why, n, "%s must be an integer from 1 to %lld", keys[i], (long long)max[i]);
            return why;
        }
        v[i] = json_integer_value(x);
    }
    *o = (struct order){ .user_id = v[0], .product_id = v[1], .quantity = (int)v[2] };
    return NULL;
}

/* The queue stayed full: settle the new order as failed, so that none is
 * left pending with no job to move it on. */
static void give_up_order(struct service *svc, int64_t id)
{
    struct db *db;
    struct order o;
    if (store_acquire(&svc->store, &db, NULL) != 0)
        return;
    if (db_move(db, id, ST_PENDING, -1, ST_FAILED, &o) == 0)
        cache_invalidate(&svc->cache, id, o.version);
    store_release(&svc->store, db);
}

static unsigned create_order(struct call *k)
{
    struct service *svc = k->svc;
    json_error_t err;
    json_t *j = json_loadb(k->rq->body, k->rq->len, JSON_DECODE_ANY, &err);
    if (!j) {
        k->res = reply_error(k->c, MHD_HTTP_BAD_REQUEST, "malformed JSON: %s", err.text);
        return MHD_HTTP_BAD_REQUEST;
    }
    struct order in, o;
    char why[128];
    const char *bad = parse_create(j, &in, why, sizeof why);
    json_decref(j);
    if (bad)
        return fail(k, MHD_HTTP_UNPROCESSABLE_CONTENT, bad);
    struct db *db;
    if (store_acquire(&svc->store, &db, ct_cancel_event(svc->run)) != 0)
        return fail(k, MHD_HTTP_SERVICE_UNAVAILABLE, "no database connection free");
    int rc = db_insert(db, &in, &o);
    store_release(&svc->store, db);
    if (rc)
        return fail(k, MHD_HTTP_INTERNAL_SERVER_ERROR, "database error");
    cache_fill(&svc->cache, &o);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(k->c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct conn_ctx *cc = ci ? ci->socket_context : NULL;
    rc = cc ? jobs_send(svc, &cc->tx, o.id, false, QUEUE_WAIT_NS) : -EPIPE;
    if (rc) {
        give_up_order(svc, o.id);
        atomic_fetch_add_explicit(&k->api->rejected, 1, memory_order_relaxed);
        return fail(k, MHD_HTTP_SERVICE_UNAVAILABLE, "job queue full: the order was failed");
    }
    atomic_fetch_add_explicit(&k->api->created, 1, memory_order_relaxed);
    char where[40];
    snprintf(where, sizeof where, "/orders/%lld", (long long)o.id);
    k->res = reply(k->c, MHD_HTTP_CREATED, order_json(&o), MHD_HTTP_HEADER_LOCATION, where);
    return MHD_HTTP_CREATED;
}

/* The status asked for: a JSON string or {"status": ...}; -1 if the body
 * is not JSON (400), -2 if it names no known status (422). */
static int parse_status(const struct req *rq, char *name, size_t n)
{
    json_error_t err;
    json_t *j = json_loadb(rq->body, rq->len, JSON_DECODE_ANY, &err);
    if (!j)
        return -1;
    json_t *s = json_is_object(j) ? json_object_get(j, "status") : j;
    snprintf(name, n, "%s", json_is_string(s) ? json_string_value(s) : "");
    json_decref(j);
    int st = micro_status_parse(name);
    return st < 0 ? -2 : st;
}

static unsigned set_status(struct call *k)
{
    struct service *svc = k->svc;
    char name[32], msg[160];
    int to = parse_status(k->rq, name, sizeof name);
    if (to == -1)
        return fail(k, MHD_HTTP_BAD_REQUEST, "malformed JSON");
    if (to == -2)
        return fail(k, MHD_HTTP_UNPROCESSABLE_CONTENT,
                    "status must be one of pending, processing, completed, failed");
    /* clients may only settle an order: completed once it is processing,
     * failed (cancelled) while it is pending or processing */
    int from1 = to == ST_COMPLETED ? ST_PROCESSING : to == ST_FAILED ? ST_PENDING : -1;
    int from2 = to == ST_FAILED ? ST_PROCESSING : -1;
    struct db *db;
    struct order o;
    if (store_acquire(&svc->store, &db, ct_cancel_event(svc->run)) != 0)
        return fail(k, MHD_HTTP_SERVICE_UNAVAILABLE, "no database connection free");
    int rc = from1 >= 0 ? db_move(db, k->id, from1, from2, (enum order_status)to, &o)
                        : db_get(db, k->id, &o) == 0 ? -EBUSY : -ENOENT;
    store_release(&svc->store, db);
    if (rc == -ENOENT)
        return fail(k, MHD_HTTP_NOT_FOUND, "no such order");
    if (rc == -EBUSY) {
        snprintf(msg, sizeof msg, "order %lld is %s: it cannot become %s", (long long)k->id,
                 micro_status_name[o.status], name);
        return fail(k, MHD_HTTP_CONFLICT, msg);
    }
    if (rc)
        return fail(k, MHD_HTTP_INTERNAL_SERVER_ERROR, "database error");
    cache_invalidate(&svc->cache, k->id, o.version);
    atomic_fetch_add_explicit(&k->api->settled[to], 1, memory_order_relaxed);
    return answer(k, MHD_HTTP_OK, order_json(&o));
}

static unsigned health(struct call *k)
{
    char stamp[32];
    struct tm tm;
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    double up = (double)(ct_clock_ns() - k->svc->start_ns) / 1e6;
    return answer(k, MHD_HTTP_OK,
                  json_pack("{ss ss sf}", "status", "healthy", "timestamp", stamp, "uptime_ms",
                            up));
}

static unsigned metrics(struct call *k)
{
    struct service *svc = k->svc;
    struct api *api = k->api;
    struct cache *c = &svc->cache;
    struct ct_pool_stats ps;
    store_stats(&svc->store, &ps);
    long long hits = atomic_load(&c->hits), misses = atomic_load(&c->misses), total = 0;
    for (int i = 0; i < RT_COUNT; i++)
        total += atomic_load(&api->req[i]);
    json_t *j = json_pack(
        "{sI sI s{sI sI sI sI sI sf} s{si si si si} s{sI sI}}", "requests", (json_int_t)total,
        "connections", (json_int_t)atomic_load(&api->conns), "cache", "entries",
        (json_int_t)cache_entries(c), "hits", (json_int_t)hits, "misses", (json_int_t)misses,
        "fills", (json_int_t)atomic_load(&c->fills), "refused_stale",
        (json_int_t)atomic_load(&c->refused), "hit_rate",
        hits + misses ? (double)hits / (double)(hits + misses) : 0.0, "pool", "size", ps.max,
        "open", ps.open, "in_use", ps.in_use, "waiting", ps.waiting, "jobs", "queued_total",
        (json_int_t)atomic_load(&svc->jobs_queued), "waiting",
        (json_int_t)ct_chan_len(svc->jobs_rx.chan));
    return answer(k, MHD_HTTP_OK, j);
}

/* ---- routing ------------------------------------------------------------- */

/* "/orders/123" and "/orders/123/status": the id into *id (0 if the
 * segment is not a positive integer) and what follows it into *rest. */
static void parse_id(const char *seg, int64_t *id, const char **rest)
{
    long long v = 0;
    const char *p = seg;
    while (*p >= '0' && *p <= '9' && v < INT64_MAX / 10)
        v = v * 10 + (*p++ - '0');
    *rest = strchr(seg, '/');
    if (!*rest)
        *rest = seg + strlen(seg);
    *id = p > seg && p == *rest ? v : 0;
}

static enum route route_of(const char *url, int64_t *id, bool *bad_id)
{
    *id = 0;
    *bad_id = false;
    if (strcmp(url, "/health") == 0)
        return RT_HEALTH;
    if (strcmp(url, "/metrics") == 0)
        return RT_METRICS;
    if (strcmp(url, "/orders") == 0 || strcmp(url, "/orders/") == 0)
        return RT_LIST;
    if (strncmp(url, "/orders/", 8) != 0)
        return RT_OTHER;
    const char *rest;
    parse_id(url + 8, id, &rest);
    enum route r = *rest == '\0' ? RT_GET : strcmp(rest, "/status") == 0 ? RT_STATUS : RT_OTHER;
    *bad_id = r != RT_OTHER && *id <= 0;
    return r;
}

static unsigned dispatch(struct call *k, const char *url, const char *method, enum route *rt)
{
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    bool post = strcmp(method, "POST") == 0;
    bool bad_id;
    *rt = route_of(url, &k->id, &bad_id);
    if (*rt == RT_LIST && post)
        *rt = RT_CREATE;
    if (*rt == RT_OTHER)
        return fail(k, MHD_HTTP_NOT_FOUND, "no such path");
    const char *allow = *rt == RT_STATUS ? "POST" : *rt == RT_LIST ? "GET, HEAD, POST"
                                                                  : "GET, HEAD";
    if ((*rt == RT_STATUS && !post) || (*rt != RT_STATUS && *rt != RT_CREATE && !get)) {
        k->res = reply(k->c, MHD_HTTP_METHOD_NOT_ALLOWED,
                       json_pack("{ss}", "error", "method not allowed"), MHD_HTTP_HEADER_ALLOW,
                       allow);
        return MHD_HTTP_METHOD_NOT_ALLOWED;
    }
    if (bad_id)
        return fail(k, MHD_HTTP_BAD_REQUEST, "an order id is a positive integer");
    if (k->rq->too_big)
        return fail(k, MHD_HTTP_CONTENT_TOO_LARGE, "the body is over 4 KiB");
    switch (*rt) {
    case RT_GET: return get_order(k);
    case RT_CREATE: return create_order(k);
    case RT_STATUS: return set_status(k);
    case RT_LIST: return list_orders(k);
    case RT_HEALTH: return health(k);
    default: return metrics(k);
    }
}

/* libmicrohttpd's request callback: called once with the headers, then
 * with each piece of the body, then once more with none to answer. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
    (void)version;
    struct api *api = cls;
    struct req *rq = *req_cls;
    if (!rq) {
        rq = malloc(sizeof *rq);
        if (!rq)
            return MHD_NO;
        rq->t0 = ct_clock_ns();
        rq->len = 0;
        rq->too_big = false;
        *req_cls = rq;
        return MHD_YES;
    }
    if (*upload_size) {
        if (rq->len + *upload_size > MAX_BODY) {
            rq->too_big = true;
        } else {
            memcpy(rq->body + rq->len, upload, *upload_size);
            rq->len += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    struct call k = { .api = api, .svc = api->svc, .c = c, .rq = rq, .res = MHD_YES };
    enum route rt;
    unsigned code = dispatch(&k, url, method, &rt);
    atomic_fetch_add_explicit(&api->req[rt], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&api->status_class[code / 100 % 6], 1, memory_order_relaxed);
    return k.res;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    free(*req_cls);
    *req_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)c;
    struct api *api = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        struct conn_ctx *cc = malloc(sizeof *cc);
        if (cc && ct_chan_clone_sender(&api->svc->jobs_tx, &cc->tx) != 0) {
            free(cc);
            cc = NULL;
        }
        *socket_context = cc;
        ct_atomic_max(&api->max_conns, atomic_fetch_add(&api->conns, 1) + 1);
    } else {
        struct conn_ctx *cc = *socket_context;
        if (cc) {
            ct_chan_drop_sender(&cc->tx);
            free(cc);
        }
        *socket_context = NULL;
        atomic_fetch_sub(&api->conns, 1);
    }
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
    struct api *api = cls;
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n')
        msg[--n] = '\0';
    if (!ct_cancelled(api->svc->run))
        ct_say(api->svc->run, "http: %s", msg);
}

/* ---- the daemon ---------------------------------------------------------- */

int api_start(struct service *svc, int port, int threads)
{
    struct api *api = &svc->api;
    api->svc = svc;
    api->quiesced_fd = -1;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    api->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, api,
                              MHD_OPTION_EXTERNAL_LOGGER, on_log, api,
                              MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                              MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
                              MHD_OPTION_CONNECTION_LIMIT, 1000u,
                              MHD_OPTION_CONNECTION_TIMEOUT, 10u,
                              MHD_OPTION_NOTIFY_CONNECTION, on_connection, api,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
                              MHD_OPTION_END);
    if (!api->d) {
        ct_say(svc->run, "cannot listen on 127.0.0.1:%d", port);
        return -EADDRINUSE;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(api->d, MHD_DAEMON_INFO_BIND_PORT);
    api->port = di ? di->port : port;
    return 0;
}

void api_quiesce(struct service *svc)
{
    struct api *api = &svc->api;
    if (api->d && api->quiesced_fd < 0)
        api->quiesced_fd = MHD_quiesce_daemon(api->d);
}

int api_connections(struct service *svc)
{
    return atomic_load(&svc->api.conns);
}

void api_stop(struct service *svc)
{
    struct api *api = &svc->api;
    if (api->d)
        MHD_stop_daemon(api->d);
    api->d = NULL;
    /* the quiesced socket is ours, but only once the threads are gone */
    if (api->quiesced_fd >= 0)
        close(api->quiesced_fd);
    api->quiesced_fd = -1;
}
