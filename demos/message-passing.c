/* message-passing.c - demo `message-passing`: a channel instead of a
 * shared, locked vector.
 *
 * Shows: first the guide's five threads, each handing over one number:
 * pushed into a vector behind a mutex, then sent through a channel to the
 * one thread that owns the vector.  Then the same at size: producers hand
 * over many values each, both ways, repeated.  The shared way counts the
 * pushes that found the mutex taken; the channel way counts the sends that
 * found the (bounded) channel full and the receives that found it empty.
 * Every value is checked to arrive exactly once, and each producer's
 * values in the order it sent them.
 * Watch for: both ways deliver the same values; where each way waits
 * (lock waits against full and empty channel); and which is faster here.
 * Lesson: message-passing (chapter 9).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "chan.h"
#include "check.h"
#include "clock.h"
#include "crew.h"
#include "stats.h"

#define GUIDE_THREADS 5
#define MAX_PRODUCERS 32
#define MAX_REPS 9

#define MAX_BATCH 256
#define PL(n) ((n) == 1 ? "" : "s")     /* plural ending for a count */

enum way { SHARED, CHANNEL, BATCHED, NWAYS };

static const char *const way_name[NWAYS] = { "shared-vector", "channel", "batched" };

/* The batched way's message: up to `batch` values at once. */
struct batch {
    int n;
    long v[MAX_BATCH];
};

/* A growable array of values. */
struct vec {
    long *v;
    size_t n, cap;
};

static int vec_push(struct vec *v, long x)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 64;
        long *p = realloc(v->v, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        v->v = p;
        v->cap = cap;
    }
    v->v[v->n++] = x;
    return 0;
}

/* One measured repetition's shared state. */
struct bench {
    struct ct_run *run;
    enum way way;
    long values;                    /* per producer */
    int batch;                      /* values per message, batched way */
    pthread_mutex_t mu;
    struct vec shared;              /* guarded by mu */
    struct ct_sender tx;            /* the channel way: clones for producers */
    struct ct_receiver rx;
    struct vec owned;               /* the consumer's, no lock */
    long long full, empty;          /* sends that found it full, receives empty */
    int64_t consumer_end_ns;
    int error;
};

struct producer {
    struct ct_member m;             /* first: the crew's part */
    struct bench *b;
    struct ct_sender tx;
    long long waits, full;
    int error;
};

struct verdict {
    long long got, missing, duplicates, out_of_order;
};

/* Does `v` hold every value p * per + q exactly once, each producer's in
 * order?  Counts what is wrong. */
static int verify(const struct vec *v, int producers, long per, struct verdict *out)
{
    size_t total = (size_t)producers * (size_t)per;
    unsigned char *seen = calloc(total ? total : 1, 1);
    long *last = malloc((size_t)producers * sizeof *last);
    if (!seen || !last) {
        free(seen);
        free(last);
        return -ENOMEM;
    }
    *out = (struct verdict){ .got = (long long)v->n };
    for (int p = 0; p < producers; p++)
        last[p] = -1;
    long long unique = 0;
    for (size_t i = 0; i < v->n; i++) {
        long x = v->v[i];
        if (x < 0 || (size_t)x >= total) {
            out->duplicates++;      /* a value nobody sent counts as extra */
            continue;
        }
        if (seen[x]++) {
            out->duplicates++;
            continue;
        }
        unique++;
        long p = x / per, q = x % per;
        out->out_of_order += q < last[p];
        last[p] = q;
    }
    out->missing = (long long)total - unique;
    free(seen);
    free(last);
    return 0;
}

/* ---- the guide's five values ------------------------------------------- */

struct guide {
    struct ct_run *run;
    int id;
    pthread_mutex_t *mu;
    struct vec *shared;
    struct ct_sender tx;
    struct ct_thread thread;
    int error;
};

static void *guide_shared(void *arg)
{
    struct guide *g = arg;
    CT_PT(pthread_mutex_lock(g->mu));
    g->error = vec_push(g->shared, g->id);
    ct_say(g->run, "pushed %d into the shared vector", g->id);
    CT_PT(pthread_mutex_unlock(g->mu));
    return NULL;
}

static void *guide_channel(void *arg)
{
    struct guide *g = arg;
    long x = g->id;
    g->error = ct_chan_send(&g->tx, &x, ct_cancel_event(g->run));
    if (g->error == 0)
        ct_say(g->run, "sent %d", g->id);
    ct_chan_drop_sender(&g->tx);    /* this thread's clone: the channel closes after the last */
    return NULL;
}

static void say_order(struct ct_run *run, const char *what, const struct vec *v)
{
    char line[96];
    size_t off = 0;
    for (size_t i = 0; i < v->n && off < sizeof line; i++)
        off += (size_t)snprintf(line + off, sizeof line - off, "%s%ld", i ? ", " : "", v->v[i]);
    ct_say(run, "%s: [%s]", what, v->n ? line : "");
}

/* The five threads of the shared way: each pushes its number under the
 * lock; main reads the vector after joining them all. */
static int guide_shared_run(struct ct_run *run, struct guide *g, struct vec *got)
{
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    int started = 0, rc = 0;
    while (started < GUIDE_THREADS) {
        g[started] = (struct guide){ .run = run, .id = started, .mu = &mu, .shared = got };
        if ((rc = ct_thread_start(run, &g[started].thread, guide_shared, &g[started],
                                  "thread-%d", started)) != 0)
            break;
        started++;
    }
    for (int i = 0; i < started; i++) {
        ct_thread_join(&g[i].thread, NULL);
        rc = rc ? rc : g[i].error;
    }
    if (rc == 0)
        say_order(run, "vector, read after the joins", got);
    return rc;
}

/* The channel way: each thread sends its number on its own clone of the
 * sender; main owns the vector and receives until the channel closes. */
static int guide_channel_run(struct ct_run *run, struct guide *g, struct vec *got)
{
    struct ct_sender tx;
    struct ct_receiver rx;
    int rc = ct_chan_open(&tx, &rx, sizeof(long), CT_CHAN_UNBOUNDED, NULL);
    if (rc)
        return rc;
    int started = 0;
    while (started < GUIDE_THREADS) {
        g[started] = (struct guide){ .run = run, .id = started };
        ct_chan_clone_sender(&tx, &g[started].tx);
        if ((rc = ct_thread_start(run, &g[started].thread, guide_channel, &g[started],
                                  "thread-%d", started)) != 0) {
            ct_chan_drop_sender(&g[started].tx);
            break;
        }
        started++;
    }
    ct_chan_drop_sender(&tx);       /* main's own sender, or the loop never ends */
    long x;
    while (ct_chan_recv(&rx, &x, ct_cancel_event(run)) == 0) {
        ct_say(run, "received %ld", x);
        if ((rc = vec_push(got, x)) != 0)
            break;
    }
    for (int i = 0; i < started; i++) {
        ct_thread_join(&g[i].thread, NULL);
        rc = rc ? rc : g[i].error;
    }
    ct_chan_drop_receiver(&rx);
    if (rc == 0 && !ct_cancelled(run))
        say_order(run, "channel, in the order received", got);
    return rc;
}

/* ---- at size ------------------------------------------------------------ */

/* Send, counting a full channel. */
static int send_counted(struct producer *p, void *msg, struct ct_event *cancel)
{
    int rc = ct_chan_try_send(&p->tx, msg);
    if (rc == -EAGAIN) {
        p->full++;
        rc = ct_chan_send(&p->tx, msg, cancel);
    }
    return rc;
}

static void *produce(void *arg)
{
    struct producer *p = arg;
    struct bench *b = p->b;
    struct ct_event *cancel = ct_cancel_event(b->run);
    long base = (long)(p->m.id - 1) * b->values;
    struct batch out = { 0 };
    if (!ct_member_begin(&p->m))
        goto done;
    for (long q = 0; q < b->values && p->error == 0; q++) {
        long x = base + q;
        if (b->way == SHARED) {
            if (pthread_mutex_trylock(&b->mu) != 0) {
                p->waits++;
                CT_PT(pthread_mutex_lock(&b->mu));
            }
            p->error = vec_push(&b->shared, x);
            CT_PT(pthread_mutex_unlock(&b->mu));
            if (q % 4096 == 4095 && ct_cancelled(b->run))
                break;
        } else if (b->way == CHANNEL) {
            p->error = send_counted(p, &x, cancel);
        } else {
            out.v[out.n++] = x;
            if (out.n == b->batch || q == b->values - 1)
                p->error = send_counted(p, &out, cancel);   /* zeroes `out` */
        }
    }
    ct_member_end(&p->m);
done:
    ct_chan_drop_sender(&p->tx);
    return NULL;
}

/* The channel's one receiver: owns the vector it fills, so it needs no
 * lock; stops when every sender is gone. */
static void *consume(void *arg)
{
    struct bench *b = arg;
    struct ct_event *cancel = ct_cancel_event(b->run);
    struct batch in;
    long *x = b->way == BATCHED ? in.v : (long *)&in;
    while (b->error == 0) {
        int rc = ct_chan_try_recv(&b->rx, &in);
        if (rc == -EAGAIN) {
            b->empty++;
            rc = ct_chan_recv(&b->rx, &in, cancel);
        }
        if (rc != 0) {
            b->error = rc == -EPIPE ? 0 : rc;
            break;
        }
        int n = b->way == BATCHED ? in.n : 1;
        for (int i = 0; i < n && b->error == 0; i++)
            b->error = vec_push(&b->owned, x[i]);
    }
    b->consumer_end_ns = ct_clock_ns();
    ct_chan_drop_receiver(&b->rx);
    return NULL;
}

struct config {
    struct ct_run *run;
    int producers, reps;
    long values;
    long capacity;
    int batch;                  /* values per message: batch=, at most `values` */
    int batch_asked;            /* batch= as given */
};

/* One way's repetitions. */
struct measure {
    double ms[MAX_REPS];
    struct ct_stats st;
    long long waits, full, empty;   /* over all repetitions */
    struct verdict worst;           /* the repetition with most wrong */
    int exact;                      /* repetitions with every value once, in order */
};

/* Start the consumer (channel way), run the producers, join; *ms is from
 * the first producer's start to the moment the last value was in a
 * vector.  0 or a negative errno. */
static int run_crew(struct config *cfg, struct bench *b, struct producer *p, double *ms)
{
    struct ct_run *run = cfg->run;
    struct ct_thread consumer;
    int rc = 0;
    for (int i = 0; i < cfg->producers; i++) {
        p[i].b = b;
        if (b->way != SHARED)
            ct_chan_clone_sender(&b->tx, &p[i].tx);
    }
    if (b->way != SHARED) {
        ct_chan_drop_sender(&b->tx);
        if ((rc = ct_thread_start(run, &consumer, consume, b, "consumer")) != 0) {
            for (int i = 0; i < cfg->producers; i++)
                ct_chan_drop_sender(&p[i].tx);
            return rc;
        }
    }
    double span;
    rc = ct_crew_run(run, p, sizeof p[0], cfg->producers, produce, "producer", &span);
    /* producers that never started still hold their clones: drop them, so
     * that the consumer sees the channel close (a second drop is a no-op) */
    for (int i = 0; i < cfg->producers; i++)
        ct_chan_drop_sender(&p[i].tx);
    if (b->way != SHARED)
        ct_thread_join(&consumer, NULL);
    int64_t first = INT64_MAX, last = 0;
    for (int i = 0; i < cfg->producers; i++) {
        first = p[i].m.start_ns && p[i].m.start_ns < first ? p[i].m.start_ns : first;
        last = p[i].m.end_ns > last ? p[i].m.end_ns : last;
        rc = rc ? rc : p[i].error;
    }
    if (b->way != SHARED)
        last = b->consumer_end_ns;
    *ms = first < last ? (double)(last - first) / 1e6 : 0;
    return rc ? rc : b->error;
}

/* One repetition of `way`, verified into `m` (NULL: a warm-up). */
static int run_rep(struct config *cfg, enum way way, double *ms, struct measure *m)
{
    struct bench b = { .run = cfg->run, .way = way, .values = cfg->values,
                       .batch = cfg->batch };
    /* a batch message carries its count and `batch` values, not room for
     * MAX_BATCH: the channel copies (and the send zeroes) every byte */
    size_t msg = way == BATCHED ? offsetof(struct batch, v) + (size_t)cfg->batch * sizeof(long)
                                : sizeof(long);
    struct producer *p = calloc((size_t)cfg->producers, sizeof *p);
    int rc = p ? -pthread_mutex_init(&b.mu, NULL) : -ENOMEM;
    if (rc == 0 && way != SHARED &&
        (rc = ct_chan_open(&b.tx, &b.rx, msg, cfg->capacity, NULL)) != 0)
        CT_PT(pthread_mutex_destroy(&b.mu));
    if (rc) {
        free(p);
        return rc;
    }
    rc = run_crew(cfg, &b, p, ms);
    if (rc == 0 && m && !ct_cancelled(cfg->run)) {
        struct verdict v;
        rc = verify(way == SHARED ? &b.shared : &b.owned, cfg->producers, cfg->values, &v);
        if (rc == 0) {
            bool exact = v.missing == 0 && v.duplicates == 0 && v.out_of_order == 0;
            m->exact += exact;
            if (!exact || m->worst.got == 0)
                m->worst = v;
            for (int i = 0; i < cfg->producers; i++) {
                m->waits += p[i].waits;
                m->full += p[i].full;
            }
            m->empty += b.empty;
        }
    }
    CT_PT(pthread_mutex_destroy(&b.mu));
    free(b.shared.v);
    free(b.owned.v);
    free(p);
    return rc;
}

static int measure_all(struct config *cfg, struct measure *m)
{
    struct ct_run *run = cfg->run;
    double ms;
    ct_section(run, "at size: %d producer%s x %ld value%s, %d rep%s", cfg->producers,
               PL(cfg->producers), cfg->values, PL(cfg->values), cfg->reps, PL(cfg->reps));
    for (int k = 0; k < NWAYS; k++) {
        int rc = run_rep(cfg, (enum way)k, &ms, NULL);     /* warm-up */
        if (rc || ct_cancelled(run))
            return rc;
    }
    for (int r = 0; r < cfg->reps; r++) {
        for (int k = 0; k < NWAYS; k++) {
            int rc = run_rep(cfg, (enum way)k, &m[k].ms[r], &m[k]);
            if (rc || ct_cancelled(run))
                return rc;
            ct_say(run, "rep %d %-13s %8.2f ms, %s", r + 1, way_name[k], m[k].ms[r],
                   m[k].exact == r + 1 ? "every value once" : "VALUES WRONG");
        }
    }
    for (int k = 0; k < NWAYS; k++) {
        int rc = ct_stats_of(m[k].ms, (size_t)cfg->reps, &m[k].st);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- reporting ---------------------------------------------------------- */

static void report(struct config *cfg, struct measure *m, const struct vec got[2])
{
    struct ct_run *run = cfg->run;
    long long n = (long long)cfg->producers * cfg->values;
    for (int k = 0; k < 2; k++) {
        struct verdict v;
        if (verify(&got[k], GUIDE_THREADS, 1, &v) == 0)
            ct_check(run, v.missing == 0 && v.duplicates == 0,
                     "the guide's example, %s: all %d values once (%lld missing, %lld extra)",
                     way_name[k], GUIDE_THREADS, v.missing, v.duplicates);
    }
    for (int k = 0; k < NWAYS; k++) {
        const struct verdict *w = &m[k].worst;
        ct_check(run, m[k].exact == cfg->reps,
                 "%s: in %d of %d rep%s %s %lld value%s arrived once, in each producer's "
                 "order (worst: %lld missing, %lld extra, %lld out of order)",
                 way_name[k], m[k].exact, cfg->reps, PL(cfg->reps), n == 1 ? "the" : "all", n,
                 PL(n), w->missing, w->duplicates,
                 w->out_of_order);
    }
    static const char *const cols[] = {
        "way", "median_ms|median ms", "min_ms|min", "max_ms|max", "ns_per_value|ns/value",
        "lock_waits|lock", "full", "empty", NULL,
    };
    char title[96];
    snprintf(title, sizeof title, "%lld value%s a rep; waits: lock taken, channel full or "
             "empty", n, PL(n));
    struct ct_table *t = ct_table_new(run, "results", title, cols);
    for (int k = 0; k < NWAYS; k++)
        ct_table_row(t, CT_TEXT(way_name[k]), CT_NUM(m[k].st.median, 2), CT_NUM(m[k].st.min, 2),
                     CT_NUM(m[k].st.max, 2), CT_NUM(m[k].st.median * 1e6 / (double)n, 1),
                     k == SHARED ? CT_INT(m[k].waits) : CT_TEXT("-"),
                     k != SHARED ? CT_INT(m[k].full) : CT_TEXT("-"),
                     k != SHARED ? CT_INT(m[k].empty) : CT_TEXT("-"));
    ct_bars(run, t, "time to collect every value, median (shorter is faster)", 0, 1, "ms");
    ct_result_int(run, "cpus", "CPUs online", ct_cpus(), NULL);
    ct_result_int(run, "values", "values per repetition", n, NULL);
    ct_result_int(run, "batch", "values per message, batched", cfg->batch, NULL);
    if (cfg->capacity == CT_CHAN_UNBOUNDED)
        ct_result_text(run, "capacity", "channel capacity", "unbounded");
    else
        ct_result_int(run, "capacity", "channel capacity", cfg->capacity, "messages");
}

/* Below this a time is a few thread wake-ups, printed as 0.0x ms: ratios
 * between such times say nothing. */
#define MIN_RANK_MS 0.1

/* "1.5x faster than", "2.0x slower than", or "about as fast as" when the
 * two ways' repetitions overlap.  A single repetition shows no spread, so
 * then less than 1.5x apart is "not clearly faster or slower than".
 * Either under MIN_RANK_MS: "too brief to rank against". */
static const char *compare(const struct ct_stats *a, const struct ct_stats *b, int reps,
                           char *buf, size_t len)
{
    double hi = a->median > b->median ? a->median : b->median;
    double lo = a->median < b->median ? a->median : b->median;
    if (lo < MIN_RANK_MS)
        snprintf(buf, len, "too brief to rank against");
    else if (a->max >= b->min && b->max >= a->min)
        snprintf(buf, len, "about as fast as");
    else if (reps < 2 && hi < 1.5 * lo)
        snprintf(buf, len, "not clearly faster or slower than");
    else if (a->median < b->median)
        snprintf(buf, len, "%.1fx faster than", b->median / (a->median > 0 ? a->median : 1));
    else
        snprintf(buf, len, "%.1fx slower than", a->median / (b->median > 0 ? b->median : 1));
    return buf;
}

static void report_takeaway(struct config *cfg, struct measure *m)
{
    struct ct_run *run = cfg->run;
    const struct ct_stats *sh = &m[SHARED].st, *ch = &m[CHANNEL].st, *ba = &m[BATCHED].st;
    int reps = cfg->reps;
    char c1[64], c2[64];
    ct_takeaway(run,
                "In the guide's example both ways collected the five numbers, in whatever order "
                "the threads ran. The channel version needed no lock and no joins before "
                "reading: the receive loop ended by itself when the last sender was dropped.");
    ct_takeaway(run,
                "At size, the shared vector took %.2f ms and its producers found the mutex "
                "taken %lld time%s. Sending one value per message took %.2f ms (%s the shared "
                "vector): senders found the channel full %lld time%s and the consumer found "
                "it empty %lld time%s. A channel does not remove the waiting; it moves it "
                "into one place, and the vector gets one owner that needs no lock.",
                sh->median, m[SHARED].waits, m[SHARED].waits == 1 ? "" : "s", ch->median,
                compare(ch, sh, reps, c1, sizeof c1), m[CHANNEL].full,
                m[CHANNEL].full == 1 ? "" : "s", m[CHANNEL].empty,
                m[CHANNEL].empty == 1 ? "" : "s");
    char capped[96] = "";
    if (cfg->batch < cfg->batch_asked)
        snprintf(capped, sizeof capped, " (batch=%d, but each producer sent only %ld value%s)",
                 cfg->batch_asked, cfg->values, cfg->values == 1 ? "" : "s");
    if (cfg->batch == 1)
        ct_takeaway(run,
                    "The batched way sent one value per message%s, so it saved no "
                    "hand-overs: %.2f ms, %s one value per message and %s the shared "
                    "vector. Run batch=64 values=25000 to pay a hand-over once per 64 "
                    "values.", capped, ba->median, compare(ba, ch, reps, c1, sizeof c1),
                    compare(ba, sh, reps, c2, sizeof c2));
    else
        ct_takeaway(run,
                    "Sending up to %d values per message%s took %.2f ms: %s one value per "
                    "message and %s the shared vector. Each message costs a hand-over "
                    "between threads, whatever it holds; batching pays that cost once per "
                    "%d values.", cfg->batch, capped, ba->median,
                    compare(ba, ch, reps, c1, sizeof c1), compare(ba, sh, reps, c2, sizeof c2),
                    cfg->batch);
    if (sh->median < MIN_RANK_MS || ch->median < MIN_RANK_MS || ba->median < MIN_RANK_MS)
        ct_takeaway(run, "Times under %.1f ms are a few thread wake-ups, too brief to rank "
                    "the ways; raise values= for a measurable run.", MIN_RANK_MS);
    if (reps == 1)
        ct_takeaway(run, "With reps=1 each way ran once, so these times carry no measure of "
                    "their noise; reps=3 or more shows how far apart the runs fall.");
}

static int message_passing_run(struct ct_run *run)
{
    long cap = (long)ct_param_int(run, "capacity");
    struct config cfg = {
        .run = run,
        .producers = (int)ct_param_int(run, "producers"),
        .values = (long)ct_param_int(run, "values"),
        .reps = (int)ct_param_int(run, "reps"),
        .capacity = cap < 0 ? CT_CHAN_UNBOUNDED : cap,
        .batch_asked = (int)ct_param_int(run, "batch"),
    };
    /* a message never holds more than one producer sends */
    cfg.batch = cfg.values < cfg.batch_asked ? (int)cfg.values : cfg.batch_asked;
    struct vec got[2] = { 0 };     /* the guide's example: shared, channel */
    struct guide g[GUIDE_THREADS];
    struct measure *m = calloc(NWAYS, sizeof *m);
    int rc = m ? guide_shared_run(run, g, &got[SHARED]) : -ENOMEM;
    if (rc == 0 && !ct_cancelled(run))
        rc = guide_channel_run(run, g, &got[CHANNEL]);
    if (rc == 0 && !ct_cancelled(run))
        rc = measure_all(&cfg, m);
    if (rc == 0 && !ct_cancelled(run)) {
        report(&cfg, m, got);
        report_takeaway(&cfg, m);
    }
    free(got[SHARED].v);
    free(got[CHANNEL].v);
    free(m);
    return rc == -ECANCELED ? 0 : rc;
}

static const struct ct_param_spec message_passing_params[] = {
    { "producers", CT_PARAM_INT, "4", 1, MAX_PRODUCERS, NULL, "producer threads at size" },
    { "values", CT_PARAM_INT, "25000", 1, 1000000, NULL, "values each producer hands over" },
    { "capacity", CT_PARAM_INT, "256", -1, 1 << 20, NULL,
      "channel capacity (-1 unbounded, 0 rendezvous)" },
    { "batch", CT_PARAM_INT, "64", 1, MAX_BATCH, NULL, "values per message, batched way" },
    { "reps", CT_PARAM_INT, "3", 1, MAX_REPS, NULL, "measured repetitions of each way" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_message_passing = {
    .name = "message-passing",
    .chapter = 9,
    .title = "Prefer message passing to shared state",
    .summary = "Collect values through a locked shared vector, then through a channel",
    .intro = "Threads hand values to one collection, first by pushing into a vector behind a "
             "mutex, then by sending them through a channel to the thread that owns the "
             "vector: the guide's five threads, then many values, timed, with every value "
             "checked to arrive exactly once.",
    .params = message_passing_params,
    .smoke = "producers=3 values=2000 reps=1",
    .run = message_passing_run,
};
