/* client.c - the demo's own clients: one thread driving `clients` HTTP
 * connections at once through libcurl's multi interface, each sending its
 * next request the moment the last is answered (a closed loop), with a
 * mix of reads and writes; and micro_call, one request at a time, for the
 * bad-input phase.
 *
 * The mix, per request: write_pct percent writes (two thirds creates, one
 * third status moves on one of the 32 newest orders), the rest reads:
 * mostly GET /orders/ID of an order created so far, a few lists, health
 * and metrics.  A reads-only phase sends GET /orders/ID alone, for the
 * cache's effect on reads.  Every answer is checked against what its route may
 * answer; a create's 201 adds the id to the accepted list, which the demo
 * later looks up in the database one by one.
 */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "microservice.h"

#define RECENT 32

/* ---- one request at a time ---------------------------------------------- */

struct buf {
    char *p;
    size_t len, cap;            /* cap includes room for the '\0' */
};

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
    struct buf *b = arg;
    size_t len = size * n, room = b->cap > b->len + 1 ? b->cap - b->len - 1 : 0;
    size_t k = len < room ? len : room;
    memcpy(b->p + b->len, data, k);
    b->len += k;
    b->p[b->len] = '\0';
    return len;                 /* the rest is not needed: dropped */
}

/* Options every request of ours has: loopback only, never a proxy from
 * the environment, no signals (we are not the main thread). */
static void common_opts(CURL *h, struct buf *b, long timeout_ms)
{
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
}

int micro_call(int port, const char *method, const char *path, const char *body, long *code,
               char *resp, size_t n)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    struct buf b = { .p = resp, .cap = n };
    resp[0] = '\0';
    *code = 0;
    CURL *h = curl_easy_init();
    if (!h)
        return -ENOMEM;
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    common_opts(h, &b, 2000);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdr);
    return rc == CURLE_OK ? 0 : -EIO;
}

/* ---- the load ------------------------------------------------------------ */

struct slot {
    struct loadgen *lg;
    CURL *h;
    bool busy;
    enum route route;
    int to;                     /* a status move's target */
    int phase;
    int64_t t0;
    struct buf b;
    char resp[512];
    char url[96];
    char body[96];
};

static uint64_t next_rand(struct loadgen *lg)
{
    uint64_t x = lg->rng;       /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    lg->rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static int64_t pick_id(struct loadgen *lg, bool recent)
{
    size_t n = recent && lg->nids > RECENT ? RECENT : lg->nids;
    return lg->ids[lg->nids - 1 - next_rand(lg) % n];
}

/* Choose the slot's next request in `phase` and set its URL and body. */
static void choose(struct loadgen *lg, struct slot *s, int phase)
{
    unsigned r = (unsigned)(next_rand(lg) % 300);
    const char *path = "/orders";
    s->body[0] = '\0';
    if (lg->reads_only[phase] && lg->nids > 0) {
        s->route = RT_GET;
    } else if (lg->nids == 0 || r < (unsigned)lg->write_pct * 2) {
        s->route = RT_CREATE;
        snprintf(s->body, sizeof s->body, "{\"user_id\":%u,\"product_id\":%u,\"quantity\":%u}",
                 (unsigned)(next_rand(lg) % 1000) + 1, (unsigned)(next_rand(lg) % 50) + 1,
                 (unsigned)(next_rand(lg) % 5) + 1);
    } else if (r < (unsigned)lg->write_pct * 3) {
        s->route = RT_STATUS;
        s->to = next_rand(lg) % 3 ? ST_FAILED : ST_COMPLETED;
        snprintf(s->body, sizeof s->body, "{\"status\":\"%s\"}", micro_status_name[s->to]);
    } else {
        unsigned q = (unsigned)(next_rand(lg) % 100);
        s->route = q < 2 ? RT_LIST : q < 3 ? RT_HEALTH : q < 4 ? RT_METRICS : RT_GET;
        path = s->route == RT_HEALTH ? "/health" : s->route == RT_METRICS ? "/metrics"
                                                                           : "/orders";
    }
    if (s->route == RT_GET || s->route == RT_STATUS)
        snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d/orders/%lld%s", lg->port,
                 (long long)pick_id(lg, s->route == RT_STATUS),
                 s->route == RT_STATUS ? "/status" : "");
    else
        snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d%s", lg->port, path);
}

static int start(struct loadgen *lg, CURLM *m, struct slot *s, int phase)
{
    choose(lg, s, phase);
    s->b.len = 0;
    s->resp[0] = '\0';
    curl_easy_setopt(s->h, CURLOPT_URL, s->url);
    if (s->body[0])
        curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->body);
    else
        curl_easy_setopt(s->h, CURLOPT_HTTPGET, 1L);
    s->phase = phase;
    s->t0 = ct_clock_ns();
    if (curl_multi_add_handle(m, s->h) != CURLM_OK)
        return -EIO;
    s->busy = true;
    return 0;
}

/* Keep the first unexpected answer, for the report. */
static void note_bad(struct loadgen *lg, const struct slot *s, const char *what, long n)
{
    if (!lg->first_bad[0])
        snprintf(lg->first_bad, sizeof lg->first_bad, "%s: %s %ld", micro_route_name[s->route],
                 what, n);
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 4096;
    void *q = realloc(*p, c * size);
    if (!q)
        return -ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

/* A create's answer: the new id, for later reads and the final audit. */
static void accept_order(struct loadgen *lg, const struct slot *s)
{
    json_t *j = json_loadb(s->resp, s->b.len, 0, NULL);
    json_t *id = json_object_get(j, "id");
    if (json_is_integer(id) && grow((void **)&lg->ids, &lg->cap_ids, lg->nids + 1,
                                    sizeof *lg->ids) == 0)
        lg->ids[lg->nids++] = json_integer_value(id);
    else
        note_bad(lg, s, "a 201 without an id, body bytes", (long)s->b.len);
    json_decref(j);
}

/* Sort one answer: latency sample, and whether its status is one that
 * its route may answer. */
static void record(struct loadgen *lg, struct slot *s, CURLcode cc)
{
    long code = 0;
    int64_t now = ct_clock_ns();
    atomic_fetch_add_explicit(&lg->completed, 1, memory_order_relaxed);
    if (cc != CURLE_OK) {
        lg->errors++;
        note_bad(lg, s, "no answer, curl error", (long)cc);
        return;
    }
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
    if (grow((void **)&lg->lat, &lg->cap, lg->nlat + 1, sizeof *lg->lat) == 0)
        lg->lat[lg->nlat++] = (struct sample){ .us = (uint32_t)((now - s->t0) / 1000),
                                               .route = (uint8_t)s->route,
                                               .phase = (uint8_t)s->phase };
    lg->phase_req[s->phase]++;
    if (s->route == RT_CREATE && code == 201)
        accept_order(lg, s);
    else if (s->route == RT_CREATE && code == 503)
        lg->rejected++;
    else if (s->route == RT_STATUS && code == 200)
        lg->settled[s->to]++;
    else if (s->route == RT_STATUS && code == 409)
        lg->conflicts++;
    else if (code != 200 || s->route == RT_CREATE || s->route == RT_STATUS) {
        lg->unexpected++;
        note_bad(lg, s, "answered", code);
    }
}

/* Take every finished transfer off the multi handle; start the next one
 * on that connection unless we are stopping. */
static void reap(struct loadgen *lg, CURLM *m, bool stopping, int phase, int *busy)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct slot *s;
        CURLcode cc = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        curl_multi_remove_handle(m, s->h);
        s->busy = false;
        (*busy)--;
        record(lg, s, cc);
        if (!stopping && start(lg, m, s, phase) == 0)
            (*busy)++;
    }
}

static int slots_open(struct loadgen *lg, struct slot *slots, struct curl_slist *hdr)
{
    for (int i = 0; i < lg->clients; i++) {
        struct slot *s = &slots[i];
        s->lg = lg;
        s->b = (struct buf){ .p = s->resp, .cap = sizeof s->resp };
        if (!(s->h = curl_easy_init()))
            return -ENOMEM;
        common_opts(s->h, &s->b, 5000);
        curl_easy_setopt(s->h, CURLOPT_PRIVATE, (char *)s);
        curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, hdr);
    }
    return 0;
}

static void slots_close(struct loadgen *lg, CURLM *m, struct slot *slots)
{
    for (int i = 0; i < lg->clients; i++) {
        if (slots[i].busy)
            curl_multi_remove_handle(m, slots[i].h);
        if (slots[i].h)
            curl_easy_cleanup(slots[i].h);
    }
}

/* The client's lane: mixed load, reads with the cache, or cache off. */
static void mark_phase(struct loadgen *lg, int p)
{
    ct_mark(lg->run, lg->cache_off[p] ? CT_HOLD : lg->reads_only[p] ? CT_SHARED : CT_RUN);
}

/* Has main moved the phase on, or broadcast the stop?  Marks both. */
static void watch_main(struct loadgen *lg, int *phase, bool *stopping)
{
    struct ct_run *run = lg->run;
    int p = atomic_load(&lg->phase);
    int64_t now = ct_clock_ns();
    if (p != *phase && p < LOAD_PHASES) {
        int64_t cpu = ct_thread_cpu_ns();
        lg->phase_t1[*phase] = now;
        lg->phase_cpu1[*phase] = cpu;
        *phase = p;
        lg->phase_t0[p] = now;
        lg->phase_cpu0[p] = cpu;
        lg->phases_run = p + 1;
        mark_phase(lg, p);
    }
    char msg;
    int rc = ct_bcast_try_recv(&lg->stop, &msg, NULL);
    if (rc == 0 || rc == -EOVERFLOW || rc == -EPIPE) {
        *stopping = lg->got_stop = true;
        lg->stop_ns = now;
        lg->phase_t1[*phase] = now;
        lg->phase_cpu1[*phase] = ct_thread_cpu_ns();
        ct_point(run, 'S');
        ct_mark(run, CT_WAIT);
    }
}

/* The closed loop, until the stop and the last answer (or the grace
 * period, or a cancel). */
static void drive(struct loadgen *lg, CURLM *m, struct slot *slots)
{
    struct ct_run *run = lg->run;
    int phase = 0, busy = 0, running;
    bool stopping = false;
    lg->phase_t0[0] = ct_clock_ns();
    lg->phase_cpu0[0] = ct_thread_cpu_ns();
    lg->phases_run = 1;
    mark_phase(lg, 0);
    for (int i = 0; i < lg->clients; i++)
        busy += start(lg, m, &slots[i], 0) == 0;
    while (!ct_cancelled(run)) {
        curl_multi_perform(m, &running);
        reap(lg, m, stopping, phase, &busy);
        if (!stopping)
            watch_main(lg, &phase, &stopping);
        if (stopping && busy == 0)
            break;
        if (stopping && (double)(ct_clock_ns() - lg->stop_ns) / 1e6 > lg->grace_ms) {
            for (int i = 0; i < lg->clients; i++)
                if (slots[i].busy) {
                    lg->abandoned++;
                    lg->abandoned_creates += slots[i].route == RT_CREATE;
                }
            break;
        }
        curl_multi_poll(m, NULL, 0, 10, NULL);
    }
    if (!lg->got_stop) {
        lg->phase_t1[phase] = ct_clock_ns();
        lg->phase_cpu1[phase] = ct_thread_cpu_ns();
    }
}

static void *load_main(void *arg)
{
    struct loadgen *lg = arg;
    struct slot *slots = calloc((size_t)lg->clients, sizeof *slots);
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    CURLM *m = curl_multi_init();
    lg->rc = slots && hdr && m ? slots_open(lg, slots, hdr) : -ENOMEM;
    if (lg->rc == 0)
        drive(lg, m, slots);
    if (slots)
        slots_close(lg, m, slots);
    curl_multi_cleanup(m);
    curl_slist_free_all(hdr);
    free(slots);
    lg->exit_ns = ct_clock_ns();
    ct_mark(lg->run, CT_IDLE);
    return NULL;
}

int load_start(struct ct_run *run, struct loadgen *lg, struct ct_bcast_sender *stop_tx)
{
    lg->run = run;
    atomic_init(&lg->phase, 0);
    atomic_init(&lg->completed, 0);
    int rc = ct_bcast_subscribe(stop_tx, &lg->stop);
    if (rc == 0)
        rc = ct_thread_start(run, &lg->thread, load_main, lg, "client");
    if (rc)
        ct_bcast_unsubscribe(&lg->stop);
    lg->up = rc == 0;
    return rc;
}

void load_join(struct loadgen *lg)
{
    if (lg->up)
        ct_thread_join(&lg->thread, NULL);
    if (lg->up)
        ct_bcast_unsubscribe(&lg->stop);
    lg->up = false;
}

void load_free(struct loadgen *lg)
{
    free(lg->lat);
    free(lg->ids);
    lg->lat = NULL;
    lg->ids = NULL;
}
