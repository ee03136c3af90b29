/* rest-api.c - demo `rest-api`: the guide's items API (list, get, create,
 * update, delete) over HTTP on 127.0.0.1, with the items in one shared
 * store behind the project's reader-writer lock.
 *
 * Shows: libmicrohttpd serving the API from its own threads (an epoll
 * loop per thread, `threads` of them) and every handler reading or
 * writing the one store; libcurl as the client: first a walk through the
 * API, every request and response printed, wrong ones included (bad JSON,
 * a wrong field, an unknown id, a wrong method, an oversize body, a wrong
 * content type), then a load phase of `clients` concurrent keep-alive
 * connections on curl's multi interface, GETs with some PUTs, against the
 * pool of threads and against a single-threaded server.  serve=true keeps
 * the server up for curl until Ctrl-C.
 * Watch for: each status code against the one the API promises; req/s and
 * p99 of the pool against the single thread; connections opened against
 * requests sent (keep-alive).
 * Lesson: rest-api (chapter 8).
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "demo.h"
#include "clock.h"
#include "rwlock.h"
#include "stats.h"
#include "text.h"

#define NAME_MAX_LEN 64
#define BODY_MAX 1024           /* the largest request body the API takes */
#define NBUCKETS 1024
#define MAX_REPS 20
#define SEED_ITEMS 100          /* items in the store before the load phase */
#define PUT_EVERY 10            /* one request in ten is a PUT */

/* ==== the shared state: items behind a reader-writer lock ================ */

struct item {
    uint64_t id;
    uint32_t quantity;
    char name[NAME_MAX_LEN + 1];
    struct item *next;          /* in its bucket */
};

struct store {
    struct ct_rwlock lock;      /* guards everything below */
    struct item *bucket[NBUCKETS];
    size_t count;
    uint64_t next_id;
    atomic_llong reads, writes; /* lock acquisitions, for the report */
};

static struct item **find_slot(struct store *s, uint64_t id)
{
    struct item **p = &s->bucket[id % NBUCKETS];
    while (*p && (*p)->id != id)
        p = &(*p)->next;
    return p;
}

static void store_read_lock(struct store *s)
{
    ct_rwlock_read_lock(&s->lock, NULL);
    atomic_fetch_add_explicit(&s->reads, 1, memory_order_relaxed);
}

static void store_write_lock(struct store *s)
{
    ct_rwlock_write_lock(&s->lock, NULL);
    atomic_fetch_add_explicit(&s->writes, 1, memory_order_relaxed);
}

/* A copy of item `id` into *out; false if there is none. */
static bool store_get(struct store *s, uint64_t id, struct item *out)
{
    store_read_lock(s);
    struct item *it = *find_slot(s, id);
    if (it)
        *out = *it;
    ct_rwlock_read_unlock(&s->lock);
    return it != NULL;
}

static int by_id(const void *a, const void *b)
{
    uint64_t x = ((const struct item *)a)->id, y = ((const struct item *)b)->id;
    return (x > y) - (x < y);
}

/* A copy of every item, sorted by id (caller frees); NULL if out of memory. */
static struct item *store_list(struct store *s, size_t *n)
{
    store_read_lock(s);
    struct item *all = malloc((s->count ? s->count : 1) * sizeof *all);
    *n = 0;
    for (size_t b = 0; all && b < NBUCKETS; b++)
        for (struct item *it = s->bucket[b]; it; it = it->next)
            all[(*n)++] = *it;
    ct_rwlock_read_unlock(&s->lock);
    if (all)
        qsort(all, *n, sizeof *all, by_id);
    return all;
}

/* Insert *it (id 0: the next free one, written back).  0, -EEXIST, -ENOMEM. */
static int store_create(struct store *s, struct item *it)
{
    struct item *copy = malloc(sizeof *copy);
    if (!copy)
        return -ENOMEM;
    store_write_lock(s);
    if (it->id == 0)
        while (*find_slot(s, it->id = ++s->next_id))
            ;
    struct item **slot = find_slot(s, it->id);
    int rc = *slot ? -EEXIST : 0;
    if (rc == 0) {
        *copy = *it;
        copy->next = NULL;
        *slot = copy;
        s->count++;
        if (it->id > s->next_id)
            s->next_id = it->id;
    }
    ct_rwlock_write_unlock(&s->lock);
    if (rc)
        free(copy);
    return rc;
}

/* Change the fields given (name NULL, quantity < 0: keep); the result in
 * *out.  false if there is no such item. */
static bool store_update(struct store *s, uint64_t id, const char *name, long long quantity,
                         struct item *out)
{
    store_write_lock(s);
    struct item *it = *find_slot(s, id);
    if (it) {
        if (name)
            snprintf(it->name, sizeof it->name, "%s", name);
        if (quantity >= 0)
            it->quantity = (uint32_t)quantity;
        *out = *it;
    }
    ct_rwlock_write_unlock(&s->lock);
    return it != NULL;
}

static bool store_delete(struct store *s, uint64_t id)
{
    store_write_lock(s);
    struct item **slot = find_slot(s, id), *it = *slot;
    if (it) {
        *slot = it->next;
        s->count--;
    }
    ct_rwlock_write_unlock(&s->lock);
    free(it);
    return it != NULL;
}

static size_t store_count(struct store *s)
{
    store_read_lock(s);
    size_t n = s->count;
    ct_rwlock_read_unlock(&s->lock);
    return n;
}

static int store_init(struct store *s)
{
    memset(s, 0, sizeof *s);
    return ct_rwlock_init(&s->lock);
}

static void store_destroy(struct store *s)
{
    for (size_t b = 0; b < NBUCKETS; b++) {
        while (s->bucket[b]) {
            struct item *it = s->bucket[b];
            s->bucket[b] = it->next;
            free(it);
        }
    }
    ct_rwlock_destroy(&s->lock);
}

/* ==== the HTTP side: libmicrohttpd calls these on its threads ============ */

/* What the server counts, by status class. */
struct served {
    atomic_llong requests, ok, client_errors, server_errors;
};

struct api {
    struct store store;
    struct served served;
};

/* One request's body, gathered across calls of the handler. */
struct body {
    size_t len;
    bool too_big;
    char buf[BODY_MAX];
};

static json_t *item_json(const struct item *it)
{
    return json_pack("{sI ss sI}", "id", (json_int_t)it->id, "name", it->name, "quantity",
                     (json_int_t)it->quantity);
}

/* Queue `status` with `body` (stolen; NULL: no body).  Counts it. */
static enum MHD_Result reply(struct api *api, struct MHD_Connection *c, unsigned status,
                             json_t *body, const char *allow)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    size_t len = text ? strlen(text) : 0;
    struct MHD_Response *r =
        text ? MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE)
             : MHD_create_response_from_buffer(0, (char *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    if (text)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    atomic_fetch_add(&api->served.requests, 1);
    atomic_fetch_add(status < 400   ? &api->served.ok
                     : status < 500 ? &api->served.client_errors
                                    : &api->served.server_errors,
                     1);
    return ok;
}

static enum MHD_Result fail(struct api *api, struct MHD_Connection *c, unsigned status,
                            const char *allow, const char *fmt, ...) CT_PRINTF(5, 6);
static enum MHD_Result fail(struct api *api, struct MHD_Connection *c, unsigned status,
                            const char *allow, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return reply(api, c, status, json_pack("{ss}", "error", msg), allow);
}

/* "/items" (id 0) or "/items/<id>"; false for anything else. */
static bool parse_path(const char *url, uint64_t *id)
{
    *id = 0;
    if (strcmp(url, "/items") == 0)
        return true;
    if (strncmp(url, "/items/", 7) != 0 || !url[7] || strlen(url + 7) > 19)
        return false;
    for (const char *p = url + 7; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        *id = *id * 10 + (uint64_t)(*p - '0');
    }
    return *id > 0;
}

/* The fields of a create or update body.  Returns NULL when they are
 * right, else what is wrong (for a 422). */
struct fields {
    const char *name;           /* borrowed from the JSON */
    long long quantity;         /* -1: absent */
    uint64_t id;                /* 0: absent */
};

static const char *read_fields(json_t *j, bool create, struct fields *f)
{
    *f = (struct fields){ .quantity = -1 };
    if (!json_is_object(j))
        return "the body must be a JSON object";
    json_t *name = json_object_get(j, "name"), *q = json_object_get(j, "quantity"),
           *id = json_object_get(j, "id");
    if (name && (!json_is_string(name) || json_string_length(name) == 0 ||
                 json_string_length(name) > NAME_MAX_LEN))
        return "name must be a string of 1 to 64 bytes";
    if (q && (!json_is_integer(q) || json_integer_value(q) < 0 ||
              json_integer_value(q) > UINT32_MAX))
        return "quantity must be an integer from 0 to 4294967295";
    if (id && (!create || !json_is_integer(id) || json_integer_value(id) <= 0))
        return create ? "id must be a positive integer" : "the id is in the path";
    if (create && (!name || !q))
        return "name and quantity are required";
    if (!create && !name && !q)
        return "give name, quantity or both";
    f->name = name ? json_string_value(name) : NULL;
    f->quantity = q ? json_integer_value(q) : -1;
    f->id = id ? (uint64_t)json_integer_value(id) : 0;
    return NULL;
}

/* Parse the gathered body: its fields, or a reply already queued. */
static json_t *parse_body(struct api *api, struct MHD_Connection *c, const struct body *b,
                          enum MHD_Result *queued)
{
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!type || strncmp(type, "application/json", 16) != 0) {
        *queued = fail(api, c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, NULL,
                       "send the body as application/json");
        return NULL;
    }
    json_error_t err;
    json_t *j = json_loadb(b->buf, b->len, JSON_REJECT_DUPLICATES, &err);
    if (!j)
        *queued = fail(api, c, MHD_HTTP_BAD_REQUEST, NULL, "invalid JSON at %d:%d: %s",
                       err.line, err.column, err.text);
    return j;
}

static enum MHD_Result on_items(struct api *api, struct MHD_Connection *c, const char *method,
                                const struct body *b)
{
    if (strcmp(method, "GET") == 0) {
        size_t n;
        struct item *all = store_list(&api->store, &n);
        json_t *arr = all ? json_array() : NULL;
        for (size_t i = 0; arr && i < n; i++)
            json_array_append_new(arr, item_json(&all[i]));
        free(all);
        return arr ? reply(api, c, MHD_HTTP_OK, arr, NULL)
                   : fail(api, c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "out of memory");
    }
    if (strcmp(method, "POST") != 0)
        return fail(api, c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET, POST",
                    "%.16s is not allowed on /items", method);
    enum MHD_Result q = MHD_NO;
    json_t *j = parse_body(api, c, b, &q);
    if (!j)
        return q;
    struct fields f;
    const char *wrong = read_fields(j, true, &f);
    struct item it = { .id = f.id, .quantity = (uint32_t)f.quantity };
    if (!wrong)
        snprintf(it.name, sizeof it.name, "%s", f.name);
    json_decref(j);
    if (wrong)
        return fail(api, c, MHD_HTTP_UNPROCESSABLE_CONTENT, NULL, "%s", wrong);
    int rc = store_create(&api->store, &it);
    if (rc == -EEXIST)
        return fail(api, c, MHD_HTTP_CONFLICT, NULL, "item %" PRIu64 " exists", it.id);
    if (rc)
        return fail(api, c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "out of memory");
    return reply(api, c, MHD_HTTP_CREATED, item_json(&it), NULL);
}

static enum MHD_Result on_item(struct api *api, struct MHD_Connection *c, const char *method,
                               uint64_t id, const struct body *b)
{
    struct item it;
    if (strcmp(method, "GET") == 0)
        return store_get(&api->store, id, &it)
                   ? reply(api, c, MHD_HTTP_OK, item_json(&it), NULL)
                   : fail(api, c, MHD_HTTP_NOT_FOUND, NULL, "no item %" PRIu64, id);
    if (strcmp(method, "DELETE") == 0)
        return store_delete(&api->store, id)
                   ? reply(api, c, MHD_HTTP_NO_CONTENT, NULL, NULL)
                   : fail(api, c, MHD_HTTP_NOT_FOUND, NULL, "no item %" PRIu64, id);
    if (strcmp(method, "PUT") != 0)
        return fail(api, c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET, PUT, DELETE",
                    "%.16s is not allowed on /items/%" PRIu64, method, id);
    enum MHD_Result q = MHD_NO;
    json_t *j = parse_body(api, c, b, &q);
    if (!j)
        return q;
    struct fields f;
    const char *wrong = read_fields(j, false, &f);
    bool found = !wrong && store_update(&api->store, id, f.name, f.quantity, &it);
    json_decref(j);
    if (wrong)
        return fail(api, c, MHD_HTTP_UNPROCESSABLE_CONTENT, NULL, "%s", wrong);
    return found ? reply(api, c, MHD_HTTP_OK, item_json(&it), NULL)
                 : fail(api, c, MHD_HTTP_NOT_FOUND, NULL, "no item %" PRIu64, id);
}

/* libmicrohttpd's access handler: called once when the headers are in,
 * again for each piece of the body, and a last time with none left. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **ctx)
{
    (void)version;
    struct api *api = cls;
    struct body *b = *ctx;
    if (!b) {
        const char *len = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                      MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (len && strtoull(len, NULL, 10) > BODY_MAX)  /* refuse before reading it */
            return fail(api, c, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
                        "the body is over %d bytes", BODY_MAX);
        if (!(b = calloc(1, sizeof *b)))
            return MHD_NO;
        *ctx = b;
        return MHD_YES;
    }
    if (*upload_size > 0) {     /* a chunked body has no length to check first */
        if (b->len + *upload_size > BODY_MAX)
            b->too_big = true;
        else
            memcpy(b->buf + b->len, upload, *upload_size);
        b->len += b->too_big ? 0 : *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    uint64_t id;
    if (b->too_big)
        return fail(api, c, MHD_HTTP_CONTENT_TOO_LARGE, NULL, "the body is over %d bytes",
                    BODY_MAX);
    if (!parse_path(url, &id))
        return fail(api, c, MHD_HTTP_NOT_FOUND, NULL, "no such path; try /items");
    return id ? on_item(api, c, method, id, b) : on_items(api, c, method, b);
}

static void request_done(void *cls, struct MHD_Connection *c, void **ctx,
                         enum MHD_RequestTerminationCode why)
{
    (void)cls, (void)c, (void)why;
    free(*ctx);
    *ctx = NULL;
}

enum mode { POOL, SINGLE, PER_CONNECTION, NMODES };
static const char *const mode_name[NMODES] = { "pool", "single", "per-connection" };

/* Start the daemon on 127.0.0.1:port in `mode` (`threads` for the pool).
 * NULL on failure, with *err set. */
static struct MHD_Daemon *server_start(struct api *api, enum mode mode, int threads, int port,
                                       int *bound, int *err)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    unsigned flags = mode == PER_CONNECTION
                         ? MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                               MHD_USE_POLL
                         : MHD_USE_EPOLL_INTERNAL_THREAD;
    unsigned pool = mode == POOL && threads > 1 ? (unsigned)threads : 0;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, handle, api, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a,
        MHD_OPTION_THREAD_POOL_SIZE, pool, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
        MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_CONNECTION_LIMIT, 2000u,
        MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL, MHD_OPTION_END);
    if (!d) {
        *err = errno ? -errno : -EIO;
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *bound = info ? info->port : port;
    return d;
}

/* Stop the daemon: MHD_stop_daemon joins every thread it started. */
static void server_stop(struct MHD_Daemon *d)
{
    if (d)
        MHD_stop_daemon(d);
}

/* Threads of this process right now (/proc/self/task). */
static int task_count(void)
{
    char line[256];
    int n = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    fclose(f);
    return n;
}

/* ==== the client: libcurl ================================================ */

struct reply_text {
    char text[200];
    size_t len;
};

static size_t gather(char *p, size_t size, size_t n, void *arg)
{
    struct reply_text *r = arg;
    size_t take = size * n;
    if (take > sizeof r->text - 1 - r->len)
        take = sizeof r->text - 1 - r->len;
    memcpy(r->text + r->len, p, take);
    r->len += take;
    r->text[r->len] = '\0';
    return size * n;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p, (void)arg;
    return size * n;
}

/* One step of the walk through the API. */
struct step {
    const char *method, *path, *body;
    long expect;
    const char *type;           /* NULL: application/json when there is a body */
    size_t big;                 /* > 0: send this many bytes of JSON instead */
};

static const struct step walk[] = {
    { "POST", "/items", "{\"name\":\"widget\",\"quantity\":5}", 201, NULL, 0 },
    { "POST", "/items", "{\"name\":\"gadget\",\"quantity\":2}", 201, NULL, 0 },
    { "GET", "/items", NULL, 200, NULL, 0 },
    { "GET", "/items/1", NULL, 200, NULL, 0 },
    { "PUT", "/items/1", "{\"quantity\":7}", 200, NULL, 0 },
    { "DELETE", "/items/2", NULL, 204, NULL, 0 },
    { "GET", "/items/2", NULL, 404, NULL, 0 },
    { "POST", "/items", "{\"name\":\"bolt\",", 400, NULL, 0 },
    { "POST", "/items", "{\"name\":\"bolt\",\"quantity\":-1}", 422, NULL, 0 },
    { "POST", "/items", "{\"id\":1,\"name\":\"nut\",\"quantity\":1}", 409, NULL, 0 },
    { "POST", "/items", "name=bolt&quantity=1", 415, "application/x-www-form-urlencoded", 0 },
    { "PATCH", "/items/1", "{\"quantity\":1}", 405, NULL, 0 },
    { "POST", "/items", NULL, 413, NULL, 4096 },
    { "GET", "/users", NULL, 404, NULL, 0 },
};
#define NWALK (sizeof walk / sizeof walk[0])

/* Send one step on `h` (a kept-alive connection); its status, or < 0. */
static long call(CURL *h, int port, const struct step *s, struct reply_text *out)
{
    char url[96], type[96], *big = NULL;
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, s->path);
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, gather);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, s->method);
    struct curl_slist *hdr = NULL;
    if (s->body || s->big) {
        if (s->big && (big = malloc(s->big))) {
            memset(big, ' ', s->big);
            big[0] = '[', big[s->big - 1] = ']';
        }
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, s->big ? big : s->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(s->big ? s->big : strlen(s->body)));
        snprintf(type, sizeof type, "Content-Type: %s", s->type ? s->type : "application/json");
        hdr = curl_slist_append(NULL, type);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    }
    out->len = 0;
    out->text[0] = '\0';
    long status = -1;
    CURLcode rc = (s->big && !big) ? CURLE_OUT_OF_MEMORY : curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    else
        snprintf(out->text, sizeof out->text, "%s", curl_easy_strerror(rc));
    curl_slist_free_all(hdr);
    free(big);
    return status;
}

struct walk_result {
    int steps, as_promised;
    bool cut;                   /* Ctrl-C came before the last step */
    long status[NWALK];
};

/* Walk through the API, printing each request and its response. */
static void run_walk(struct ct_run *run, int port, struct walk_result *w)
{
    CURL *h = curl_easy_init();
    for (size_t i = 0; h && i < NWALK; i++) {
        if ((w->cut = ct_cancelled(run) || ct_stop_requested(run)))
            break;
        const struct step *s = &walk[i];
        struct reply_text r;
        char shown[48];
        if (s->big)
            snprintf(shown, sizeof shown, "(%zu bytes of JSON)", s->big);
        ct_say(run, "%s %s %s", s->method, s->path, s->big ? shown : s->body ? s->body : "");
        long st = call(h, port, s, &r);
        /* the body as sent, but with spaces after its commas, so it wraps */
        json_t *j = json_loadb(r.text, r.len, 0, NULL);
        char *spaced = j ? json_dumps(j, JSON_PRESERVE_ORDER) : NULL;
        ct_say(run, "-> %ld %s", st, spaced ? spaced : r.text);
        free(spaced);
        json_decref(j);
        w->status[w->steps++] = st;
        w->as_promised += st == s->expect;
    }
    if (h)
        curl_easy_cleanup(h);
}

/* ---- the load phase: curl's multi interface, `clients` at once ---------- */

struct slot {
    CURL *h;
    int64_t t0;
    char url[96], body[48];
};

struct load_result {
    double req_s, p50, p99, max;
    long long sent, answered, ok, connects;
};

/* Aim `s` at request number n: a GET of a seeded item, or every
 * PUT_EVERY-th time a PUT of its quantity; then hand it to the multi. */
static void slot_start(CURLM *m, struct slot *s, int port, const uint64_t *ids, long long n,
                       struct curl_slist *json)
{
    uint64_t id = ids[n % SEED_ITEMS];
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d/items/%" PRIu64, port, id);
    curl_easy_setopt(s->h, CURLOPT_URL, s->url);
    if (n % PUT_EVERY == PUT_EVERY - 1) {
        snprintf(s->body, sizeof s->body, "{\"quantity\":%lld}", n);
        curl_easy_setopt(s->h, CURLOPT_CUSTOMREQUEST, "PUT");
        curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->body);
        curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, json);
    } else {
        curl_easy_setopt(s->h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(s->h, CURLOPT_CUSTOMREQUEST, NULL);
        curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, NULL);
    }
    s->t0 = ct_clock_ns();
    curl_multi_add_handle(m, s->h);
}

/* Take the finished transfers out of the multi; start the next requests
 * on the same handles (so on the same kept-alive connections). */
static void reap(CURLM *m, int port, const uint64_t *ids, long long total,
                 struct curl_slist *json, double *lat, struct load_result *res)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct slot *s;
        long status = 0, connects = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(s->h, CURLINFO_NUM_CONNECTS, &connects);
        lat[res->answered++] = (double)(ct_clock_ns() - s->t0) / 1e3;
        res->ok += msg->data.result == CURLE_OK && status == 200;
        res->connects += connects;
        curl_multi_remove_handle(m, s->h);
        if (res->sent < total)
            slot_start(m, s, port, ids, res->sent++, json);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void latency_figures(double *lat, size_t n, struct load_result *res)
{
    qsort(lat, n, sizeof *lat, cmp_double);
    size_t k50 = (size_t)ceil(0.50 * (double)n), k99 = (size_t)ceil(0.99 * (double)n);
    res->p50 = n ? lat[k50 ? k50 - 1 : 0] / 1e3 : NAN;
    res->p99 = n ? lat[k99 ? k99 - 1 : 0] / 1e3 : NAN;
    res->max = n ? lat[n - 1] / 1e3 : NAN;
}

/* One repetition: `total` requests, `clients` in flight at a time. */
static int load_rep(struct ct_run *run, int port, int clients, long long total,
                    const uint64_t *ids, double *lat, struct load_result *res)
{
    CURLM *m = curl_multi_init();
    struct slot *slots = calloc((size_t)clients, sizeof *slots);
    struct curl_slist *json = curl_slist_append(NULL, "Content-Type: application/json");
    int rc = m && slots && json ? 0 : -ENOMEM;
    if (rc == 0)
        curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)clients);
    for (int i = 0; rc == 0 && i < clients; i++) {
        if (!(slots[i].h = curl_easy_init())) {
            rc = -ENOMEM;
            break;
        }
        curl_easy_setopt(slots[i].h, CURLOPT_PRIVATE, &slots[i]);
        curl_easy_setopt(slots[i].h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(slots[i].h, CURLOPT_TIMEOUT_MS, 10000L);
        curl_easy_setopt(slots[i].h, CURLOPT_WRITEFUNCTION, discard);
    }
    int64_t t0 = ct_clock_ns();
    for (int i = 0; rc == 0 && i < clients && res->sent < total; i++)
        slot_start(m, &slots[i], port, ids, res->sent++, json);
    while (rc == 0 && res->answered < res->sent) {
        int running;
        curl_multi_perform(m, &running);
        reap(m, port, ids, total, json, lat, res);
        if (ct_cancelled(run) || ct_stop_requested(run))
            rc = -ECANCELED;
        else if (res->answered < res->sent)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    res->req_s = (double)res->answered / ((double)(ct_clock_ns() - t0) / 1e9);
    latency_figures(lat, (size_t)res->answered, res);
    for (int i = 0; slots && i < clients; i++) {
        if (slots[i].h) {
            curl_multi_remove_handle(m, slots[i].h);
            curl_easy_cleanup(slots[i].h);
        }
    }
    curl_slist_free_all(json);
    free(slots);
    if (m)
        curl_multi_cleanup(m);
    return rc;
}

/* ==== the run ============================================================ */

struct config {
    int clients, threads, reps, port;
    long long requests;
    bool serve, mode[NMODES];
};

struct mode_result {
    bool ran;
    int threads_added, nreps;
    struct load_result rep[MAX_REPS];
    double req_s, req_lo, req_hi, p50, p99, max;    /* medians over reps */
    long long sent, ok, connects;
};

struct api_result {
    double load;
    int tasks_before, tasks_after;
    struct walk_result walk;
    struct mode_result m[NMODES];
    size_t items_before, items_after;
    long long client_total, served_total, reads, writes;
    bool served;                /* serve=true ran until Ctrl-C */
};

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

/* Items the load phase reads and updates, put straight into the store. */
static int seed(struct store *s, uint64_t *ids)
{
    for (int i = 0; i < SEED_ITEMS; i++) {
        struct item it = { .quantity = (uint32_t)i };
        snprintf(it.name, sizeof it.name, "part-%d", i);
        int rc = store_create(s, &it);
        if (rc)
            return rc;
        ids[i] = it.id;
    }
    return 0;
}

static double median_of(const struct load_result *r, int n, int which, double *lo, double *hi)
{
    double v[MAX_REPS] = { 0 };
    for (int i = 0; i < n; i++)
        v[i] = which == 0 ? r[i].req_s : which == 1 ? r[i].p50 : which == 2 ? r[i].p99 : r[i].max;
    struct ct_stats st;
    if (ct_stats_of(v, (size_t)n, &st) != 0)
        return NAN;
    if (lo)
        *lo = st.min, *hi = st.max;
    return st.median;
}

static int run_load(struct ct_run *run, const struct config *c, int port, const uint64_t *ids,
                    enum mode mode, struct mode_result *mr)
{
    double *lat = malloc((size_t)c->requests * sizeof *lat);
    if (!lat)
        return -ENOMEM;
    int rc = 0;
    for (int k = 0; k < c->reps && rc == 0; k++) {
        struct load_result *res = &mr->rep[mr->nreps++];
        rc = load_rep(run, port, c->clients, c->requests, ids, lat, res);
        mr->sent += res->answered;
        mr->ok += res->ok;
        mr->connects += res->connects;
        if (rc == 0)
            ct_say(run, "%s, rep %d: %.0f req/s, p99 %.2f ms, %lld conns", mode_name[mode],
                   k + 1, res->req_s, res->p99, res->connects);
    }
    free(lat);
    mr->req_s = median_of(mr->rep, mr->nreps, 0, &mr->req_lo, &mr->req_hi);
    mr->p50 = median_of(mr->rep, mr->nreps, 1, NULL, NULL);
    mr->p99 = median_of(mr->rep, mr->nreps, 2, NULL, NULL);
    mr->max = median_of(mr->rep, mr->nreps, 3, NULL, NULL);
    return rc;
}

/* serve=true: say how to reach it, then wait for Ctrl-C. */
static void serve(struct ct_run *run, int port)
{
    ct_section(run, "serving on 127.0.0.1:%d until Ctrl-C; try:", port);
    ct_say(run, "U=http://127.0.0.1:%d", port);
    ct_say(run, "curl $U/items");
    ct_say(run, "curl --json '{\"name\":\"nut\",\"quantity\":9}' $U/items");
    ct_say(run, "curl -X PUT --json '{\"quantity\":1}' $U/items/1");
    ct_say(run, "curl -i -X DELETE $U/items/1");
    ct_say(run, "curl -i $U/items/1");
    ct_say(run, "curl -i --json '{\"name\":' $U/items");
    while (!ct_wait_stop_ms(run, 200) && !ct_cancelled(run))
        ;
}

/* One server configuration: start it, (walk,) load it or serve, stop it. */
static int run_mode(struct ct_run *run, const struct config *c, struct api *api,
                    enum mode mode, bool first, uint64_t *ids, struct api_result *r)
{
    int port = 0, err = 0;
    ct_section(run, "%s: libmicrohttpd, %s", mode_name[mode],
               mode == POOL ? "an epoll loop on each of its threads"
               : mode == SINGLE ? "one epoll loop on one thread"
                                : "a thread for each connection");
    struct MHD_Daemon *d = server_start(api, mode, c->threads, c->port, &port, &err);
    if (!d)
        return err;
    struct mode_result *mr = &r->m[mode];
    mr->threads_added = task_count() - r->tasks_before;
    ct_say(run, "listening on 127.0.0.1:%d; its threads: %d", port, mr->threads_added);
    int rc = 0;
    if (first)
        run_walk(run, port, &r->walk);
    if (c->serve) {
        serve(run, port);
        r->served = !ct_cancelled(run);
    } else {
        if (first && (rc = seed(&api->store, ids)) == 0)
            r->items_before = store_count(&api->store);
        if (rc == 0)
            rc = run_load(run, c, port, ids, mode, mr);
    }
    server_stop(d);
    mr->ran = rc == 0;
    return rc;
}

static void report(struct ct_run *run, const struct config *c, const struct api_result *r)
{
    static const char *const cols[] = { "server", "threads", "req_s|req/s", "p50_ms|p50 ms",
                                        "p99_ms|p99 ms", "max_ms|max ms", "conns", NULL };
    struct ct_table *t = c->serve ? NULL : ct_table_new(run, "load", NULL, cols);
    for (int m = 0; t && m < NMODES; m++)
        if (r->m[m].ran)
            ct_table_row(t, CT_TEXT(mode_name[m]), CT_INT(r->m[m].threads_added),
                         CT_NUM(r->m[m].req_s, 0), CT_NUM(r->m[m].p50, 2),
                         CT_NUM(r->m[m].p99, 2), CT_NUM(r->m[m].max, 2),
                         CT_INT(r->m[m].connects));
    if (t)
        ct_bars(run, t, "requests/s (median)", 0, 2, "req/s");
    ct_result_int(run, "cpus", "CPUs online", ct_cpus(), NULL);
    ct_result_num(run, "load_avg", "load average at the start", r->load, 2, NULL);
    ct_result_int(run, "walk_steps", "requests in the walk", r->walk.steps, NULL);
    ct_result_int(run, "walk_as_promised", "answered as the API promises",
                  r->walk.as_promised, NULL);
    ct_result_int(run, "client_requests", "requests the clients sent", r->client_total, NULL);
    ct_result_int(run, "served", "requests the server answered", r->served_total, NULL);
    ct_result_int(run, "reads", "read locks taken", r->reads, NULL);
    ct_result_int(run, "writes", "write locks taken", r->writes, NULL);
}

static void report_checks(struct ct_run *run, const struct config *c, const struct api_result *r)
{
    ct_check(run, (r->walk.steps == (int)NWALK || r->walk.cut) &&
                      r->walk.as_promised == r->walk.steps,
             "each of the %d requests of the walk got the status the API promises (%d did%s)",
             r->walk.steps, r->walk.as_promised, r->walk.cut ? "; Ctrl-C cut the walk" : "");
    for (int m = 0; m < NMODES && !c->serve; m++) {
        const struct mode_result *mr = &r->m[m];
        if (!mr->ran)
            continue;
        long long want = c->requests * c->reps;
        ct_check(run, mr->sent == want && mr->ok == want,
                 "%s: %lld of %lld load requests answered 200", mode_name[m], mr->ok, want);
        ct_check(run, mr->connects <= (long long)c->clients * c->reps,
                 "%s: at most %d connections per rep (%lld in %d reps)", mode_name[m],
                 c->clients, mr->connects, c->reps);
    }
    if (!c->serve)              /* served, it answers whoever asks */
        ct_check(run, r->served_total == r->client_total,
                 "the server answered exactly the %lld requests sent (%lld)", r->client_total,
                 r->served_total);
    if (!c->serve)
        ct_check(run, r->items_after == r->items_before,
                 "the load's PUTs changed items, not their number (%zu, %zu before)",
                 r->items_after, r->items_before);
    ct_check(run, r->tasks_after == r->tasks_before,
             "every libmicrohttpd thread was joined (%d threads now, %d before)",
             r->tasks_after, r->tasks_before);
}

static void report_takeaway(struct ct_run *run, const struct config *c,
                            const struct api_result *r)
{
    const struct mode_result *p = &r->m[POOL], *s = &r->m[SINGLE];
    if (p->ran && s->ran) {
        bool clear = p->req_lo > s->req_hi || s->req_lo > p->req_hi;
        ct_takeaway(run,
                    "%d keep-alive clients: the pool of %d threads answered %.0f requests/s "
                    "(p99 %.2f ms), one thread %.0f (p99 %.2f ms): %.2fx, medians of %d reps "
                    "of %lld requests (load %.2f on %d CPUs). %s",
                    c->clients, p->threads_added, p->req_s, p->p99, s->req_s, s->p99,
                    p->req_s / s->req_s, c->reps, c->requests, r->load, ct_cpus(),
                    clear ? "The reps' ranges do not overlap."
                          : "The reps' ranges overlap: this run does not settle the order; "
                            "raise reps and requests on a quieter machine.");
    }
    for (int m = 0; m < NMODES && !c->serve; m++)
        if (r->m[m].ran)
            ct_takeaway(run,
                        "%s: %lld requests over %lld connections: curl kept each one alive "
                        "and sent request after request on it.",
                        mode_name[m], r->m[m].sent, r->m[m].connects);
    ct_takeaway(run,
                "Every handler went through the one store: %lld read locks (GET) and %lld "
                "write locks (POST, PUT, DELETE), readers together, writers alone.",
                r->reads, r->writes);
}

static void api_finish(struct api *api, struct api_result *r)
{
    r->items_after = store_count(&api->store);
    r->tasks_after = task_count();
    r->served_total = atomic_load(&api->served.requests);
    r->client_total = r->walk.steps;
    for (int m = 0; m < NMODES; m++)
        r->client_total += r->m[m].sent;
    r->reads = atomic_load(&api->store.reads);
    r->writes = atomic_load(&api->store.writes);
}

static int api_run(struct ct_run *run)
{
    struct config c = {
        .clients = (int)ct_param_int(run, "clients"),
        .threads = (int)ct_param_int(run, "threads"),
        .reps = (int)ct_param_int(run, "reps"),
        .port = (int)ct_param_int(run, "port"),
        .requests = ct_param_int(run, "requests"),
        .serve = ct_param_bool(run, "serve"),
    };
    for (int m = 0; m < NMODES; m++)
        c.mode[m] = ct_param_has(run, "servers", mode_name[m]);
    if (c.threads == 0)
        c.threads = ct_cpus();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        return -EIO;
    struct api *api = calloc(1, sizeof *api);
    struct api_result *r = calloc(1, sizeof *r);
    uint64_t ids[SEED_ITEMS];
    int rc = api && r ? store_init(&api->store) : -ENOMEM;
    if (rc == 0) {
        r->load = load_average();
        r->tasks_before = task_count();
        bool first = true;
        for (int m = 0; m < NMODES && rc == 0; m++) {
            if (!c.mode[m])
                continue;
            rc = run_mode(run, &c, api, (enum mode)m, first, ids, r);
            first = false;
            if (c.serve)
                break;
        }
        api_finish(api, r);
        store_destroy(&api->store);
    }
    curl_global_cleanup();
    if (rc == 0 && !ct_cancelled(run)) {
        report(run, &c, r);
        report_checks(run, &c, r);
        report_takeaway(run, &c, r);
    }
    free(r);
    free(api);
    return rc == -ECANCELED || ct_cancelled(run) ? 0 : rc;
}

static const struct ct_param_spec api_params[] = {
    { "clients", CT_PARAM_INT, "16", 1, 1000, NULL,
      "concurrent keep-alive connections in the load phase" },
    { "requests", CT_PARAM_INT, "4000", 1, 10000000, NULL, "requests per rep of the load" },
    { "reps", CT_PARAM_INT, "3", 1, MAX_REPS, NULL, "repetitions of the load per server" },
    { "threads", CT_PARAM_INT, "0", 0, 64, NULL, "the pool's threads (0: one per CPU)" },
    { "servers", CT_PARAM_SET, "pool,single", 0, 0, "pool,single,per-connection",
      "server configurations to load" },
    { "serve", CT_PARAM_BOOL, "false", 0, 0, NULL,
      "after the walk, keep serving for curl until Ctrl-C" },
    { "port", CT_PARAM_INT, "0", 0, 65535, NULL, "port to listen on (0: any free one)" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_rest_api = {
    .name = "rest-api",
    .chapter = 8,
    .title = "A REST API with shared state",
    .summary = "An HTTP items API over a store behind a rwlock; libcurl as the client",
    .intro = "An items API (list, get, create, update, delete) is served on 127.0.0.1 by "
             "libmicrohttpd; every handler goes through one store behind a reader-writer "
             "lock. libcurl walks through the API, wrong requests included, then loads it "
             "with concurrent keep-alive clients, against a pool of threads and a single "
             "thread. With serve=true it stays up for curl until Ctrl-C.",
    .params = api_params,
    .smoke = "clients=4 requests=200 reps=1",
    .flags = CT_DEMO_GRACEFUL | CT_DEMO_BENCH,
    .run = api_run,
};
