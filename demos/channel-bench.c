/* channel-bench.c - demo `channel-bench`: how fast the project's channels
 * move messages, next to the mutex + condition variable queue most C code
 * would use instead.
 *
 * Shows: 1..N producers send numbered messages to one consumer for a fixed
 * time (duration-ms; or a fixed count with msgs=M), through the unbounded
 * channel, the bounded channel at the chosen capacities, and the mutex
 * queue (lockq.h, unbounded and with the same bounds).  A fixed time gives
 * every queue runs of the same length, long enough that thread start-up
 * does not decide the figure.  Every run is verified: the consumer counts
 * that each producer's messages arrived exactly once and in order.  Runs are repeated
 * (the configurations of one producer count take turns, so a noisy moment
 * hits them alike); the table gives the median with min and max.
 * Watch for: the "x mutex" column (the channel against the mutex queue with
 * the same bound and producers), and what happens when threads outnumber
 * cores.
 * Lesson: channel-results (chapter 5), which discusses the numbers.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "chan.h"
#include "clock.h"
#include "gate.h"
#include "lockq.h"
#include "stats.h"

#define MAX_PRODUCERS 16
#define MAX_REPS 10
#define MAX_MSG 4096
#define CANCEL_EVERY 4096       /* messages between looks at the cancel flag */
#define STOP_EVERY 64           /* duration mode: messages between looks at the clock's flag */

enum impl { CHAN, LOCKQ };

static const long capacity_choices[] = { 0, 1, 16, 256, 1024, 65536 };
#define NCAPACITIES (sizeof capacity_choices / sizeof capacity_choices[0])
/* per producer count: the unbounded pair and a pair per capacity */
#define MAX_CONFIGS (MAX_PRODUCERS * 2 * (1 + (int)NCAPACITIES))

struct config {
    enum impl impl;
    long capacity;              /* CT_CHAN_UNBOUNDED, 0 (rendezvous) or N */
    int producers;
    char label[64];             /* "chan bounded(1024) x2" */
    double mps[MAX_REPS];       /* messages per second, one per repetition */
    int nreps;
    bool verified;              /* every run, warm-up included, was exact */
    long long delivered;        /* messages received over all runs */
    long long expected;
    int baseline;               /* the mutex queue to compare with, or -1 */
    double median, min, max;
};

/* ---- one run ------------------------------------------------------------ */

struct bench;

struct worker {
    struct bench *b;
    int id;                     /* producer number; the consumer is -1 */
    struct ct_thread thread;
    int64_t start_ns, end_ns;
    long sent;                  /* producers: messages sent */
    int rc;
};

struct bench {
    struct ct_run *run;
    const struct config *cfg;
    long per_producer;          /* 0: send until `stop` */
    atomic_bool stop;           /* duration mode: the time is up */
    size_t msg_size;
    struct ct_gate gate;        /* every worker starts at once */
    struct ct_sender tx[MAX_PRODUCERS];
    struct ct_receiver rx;
    struct ct_lockq lq;
    atomic_int producers_left;  /* lockq: the last producer out closes it */
    struct worker w[MAX_PRODUCERS + 1];
    /* the consumer's verification */
    long received, out_of_order, bad;
    long next[MAX_PRODUCERS];
};

struct header {
    uint32_t producer, seq;
};

/* A producer is done (or never started): let the consumer see the end. */
static void producer_done(struct bench *b, int id)
{
    if (b->cfg->impl == CHAN)
        ct_chan_drop_sender(&b->tx[id]);
    else if (atomic_fetch_sub(&b->producers_left, 1) == 1)
        ct_lockq_close(&b->lq);
}

/* The timed loops keep everything they update in locals: a worker writing
 * a shared struct on every message would put the harness's own cache-line
 * traffic into the figures. */
static void *producer_main(void *arg)
{
    struct worker *w = arg;
    struct bench *b = w->b;
    struct ct_event *cancel = ct_cancel_event(b->run);
    struct ct_sender *tx = &b->tx[w->id];
    bool chan = b->cfg->impl == CHAN;
    long per = b->per_producer, i = 0;
    unsigned char msg[MAX_MSG] = { 0 };
    int rc = 0;
    if (ct_gate_wait(&b->gate, cancel)) {
        w->start_ns = ct_clock_ns();
        for (; (per == 0 || i < per) && rc == 0; i++) {
            if (i % STOP_EVERY == 0) {
                if (per == 0 && atomic_load_explicit(&b->stop, memory_order_relaxed))
                    break;
                if (i % CANCEL_EVERY == 0 && ct_cancelled(b->run)) {
                    rc = -ECANCELED;
                    break;
                }
            }
            struct header h = { (uint32_t)w->id, (uint32_t)i };
            memcpy(msg, &h, sizeof h);
            rc = chan ? ct_chan_send(tx, msg, cancel) : ct_lockq_send(&b->lq, msg, cancel);
        }
        w->end_ns = ct_clock_ns();
    }
    w->sent = rc == 0 ? i : i - 1;
    w->rc = rc;
    producer_done(b, w->id);
    return NULL;
}

static void *consumer_main(void *arg)
{
    struct worker *w = arg;
    struct bench *b = w->b;
    struct ct_event *cancel = ct_cancel_event(b->run);
    bool chan = b->cfg->impl == CHAN;
    uint32_t producers = (uint32_t)b->cfg->producers;
    long next[MAX_PRODUCERS] = { 0 }, received = 0, out_of_order = 0, bad = 0;
    unsigned char msg[MAX_MSG];
    int rc;
    if (!ct_gate_wait(&b->gate, cancel))
        return NULL;
    w->start_ns = ct_clock_ns();
    while ((rc = chan ? ct_chan_recv(&b->rx, msg, cancel) : ct_lockq_recv(&b->lq, msg, cancel)) == 0) {
        struct header h;
        memcpy(&h, msg, sizeof h);
        if (h.producer >= producers) {
            bad++;
        } else if (h.seq != (uint32_t)next[h.producer]) {
            out_of_order++;         /* lost, repeated or reordered */
            next[h.producer] = h.seq + 1;
        } else {
            next[h.producer]++;
        }
        if (++received % CANCEL_EVERY == 0 && ct_cancelled(b->run)) {
            rc = -ECANCELED;
            break;
        }
    }
    w->end_ns = ct_clock_ns();
    w->rc = rc == -EPIPE ? 0 : rc;      /* -EPIPE: every producer is done */
    memcpy(b->next, next, sizeof next);
    b->received = received;
    b->out_of_order = out_of_order;
    b->bad = bad;
    return NULL;
}

/* Open the queue for `b->cfg`; 0 or a negative errno. */
static int open_queue(struct bench *b)
{
    const struct config *c = b->cfg;
    if (c->impl == LOCKQ) {
        atomic_init(&b->producers_left, c->producers);
        return ct_lockq_init(&b->lq, b->msg_size,
                             c->capacity == CT_CHAN_UNBOUNDED ? CT_LOCKQ_UNBOUNDED
                                                              : (size_t)c->capacity);
    }
    struct ct_sender first;
    int rc = ct_chan_open(&first, &b->rx, b->msg_size, c->capacity, NULL);
    for (int i = 0; rc == 0 && i < c->producers; i++)
        rc = ct_chan_clone_sender(&first, &b->tx[i]);
    /* only the producers' clones stay: the channel closes when they finish */
    ct_chan_drop_sender(&first);
    if (rc)
        ct_chan_drop_receiver(&b->rx);
    return rc;
}

/* One timed run of `cfg`: `per_producer` messages per producer, or, when
 * it is 0, as many as the producers send in `duration_ns`.  Adds to cfg's
 * delivered/expected counts and clears cfg->verified if anything was lost,
 * repeated or reordered.  Returns 0 (with *mps set) or a negative errno;
 * cancellation returns 0 with *mps 0. */
static int run_once(struct ct_run *run, struct config *cfg, long per_producer,
                    int64_t duration_ns, size_t msg_size, double *mps)
{
    struct bench *b = calloc(1, sizeof *b);
    if (!b)
        return -ENOMEM;
    b->run = run;
    b->cfg = cfg;
    b->per_producer = per_producer;
    atomic_init(&b->stop, false);
    b->msg_size = msg_size;
    int n = cfg->producers, started = 0;
    ct_gate_init(&b->gate, n + 1);
    int rc = open_queue(b);
    if (rc) {
        free(b);
        return rc;
    }
    struct worker *cons = &b->w[n];
    *cons = (struct worker){ .b = b, .id = -1 };
    rc = ct_thread_start(run, &cons->thread, consumer_main, cons, "consumer");
    bool consumer_up = rc == 0;
    for (; rc == 0 && started < n; started++) {
        b->w[started] = (struct worker){ .b = b, .id = started };
        rc = ct_thread_start(run, &b->w[started].thread, producer_main, &b->w[started],
                             "producer-%d", started + 1);
        if (rc)
            break;
    }
    for (int i = started; i < n; i++)
        producer_done(b, i);            /* never started: release its part */
    if (rc)
        ct_gate_open(&b->gate);         /* let the ones that started finish */
    if (per_producer == 0) {
        /* the workers time themselves; this only ends the sending (the
         * time scale does not apply: it is a measurement, not a story) */
        ct_event_wait_timeout(ct_cancel_event(run), duration_ns);
        atomic_store_explicit(&b->stop, true, memory_order_relaxed);
    }
    for (int i = 0; i < started; i++)
        ct_thread_join(&b->w[i].thread, NULL);
    if (consumer_up)
        ct_thread_join(&cons->thread, NULL);

    *mps = 0;
    if (rc == 0 && !ct_cancelled(run)) {
        /* the workers timed themselves: from the first start to the last end */
        int64_t first = cons->start_ns, last = cons->end_ns;
        long exact = 0, sent = 0;
        for (int i = 0; i < n; i++) {
            first = b->w[i].start_ns < first ? b->w[i].start_ns : first;
            last = b->w[i].end_ns > last ? b->w[i].end_ns : last;
            rc = rc ? rc : b->w[i].rc;
            /* every message a producer sent arrived, in its order */
            exact += b->next[i] == b->w[i].sent;
            sent += b->w[i].sent;
        }
        rc = rc ? rc : cons->rc;
        bool ok = rc == 0 && b->bad == 0 && b->out_of_order == 0 && exact == n &&
                  b->received == sent && (per_producer == 0 || sent == per_producer * n);
        cfg->verified = cfg->verified && ok;
        cfg->delivered += ok ? b->received : 0;
        cfg->expected += sent;
        if (last > first)
            *mps = (double)b->received / ((double)(last - first) / 1e9);
    }
    if (cfg->impl == CHAN)
        ct_chan_drop_receiver(&b->rx);
    else
        ct_lockq_destroy(&b->lq);
    free(b);
    return rc == -ECANCELED ? 0 : rc;
}

/* ---- configurations and statistics ---------------------------------------- */

static int summarise(struct config *c)
{
    struct ct_stats st;
    int rc = ct_stats_of(c->mps, (size_t)c->nreps, &st);
    c->min = st.min;
    c->max = st.max;
    c->median = st.median;
    return rc;
}

static void add_config(struct config *cfg, int *n, enum impl impl, long capacity, int producers)
{
    struct config *c = &cfg[(*n)++];
    *c = (struct config){ .impl = impl, .capacity = capacity, .producers = producers,
                          .verified = true, .baseline = -1 };
    char cap[24];
    if (capacity == CT_CHAN_UNBOUNDED)
        snprintf(cap, sizeof cap, "unbounded");
    else if (capacity == 0)
        snprintf(cap, sizeof cap, "rendezvous");
    else
        snprintf(cap, sizeof cap, "bounded(%ld)", capacity);
    snprintf(c->label, sizeof c->label, "%s %s x%d", impl == CHAN ? "chan" : "mutex", cap,
             producers);
}

/* Add a channel with `capacity` for `p` producers and, if wanted, the mutex
 * queue with the same bound as its baseline. */
static void add_pair(struct config *cfg, int *n, long capacity, int p, bool chan, bool mutex)
{
    if (chan)
        add_config(cfg, n, CHAN, capacity, p);
    /* a mutex queue cannot hand over with no buffer at all */
    if (mutex && capacity != 0) {
        add_config(cfg, n, LOCKQ, capacity, p);
        if (chan)
            cfg[*n - 2].baseline = *n - 1;
    }
}

/* The configurations the parameters ask for, grouped by producer count.
 * kinds=mutex alone runs the mutex queues with no channel beside them. */
static int build_configs(struct ct_run *run, struct config *cfg, int max_producers)
{
    int n = 0;
    bool unbounded = ct_param_has(run, "kinds", "unbounded");
    bool bounded = ct_param_has(run, "kinds", "bounded");
    bool mutex = ct_param_has(run, "kinds", "mutex");
    bool chan = unbounded || bounded;
    if (!chan)
        unbounded = bounded = true;
    for (int p = 1; p <= max_producers; p++) {
        if (unbounded)
            add_pair(cfg, &n, CT_CHAN_UNBOUNDED, p, chan, mutex);
        for (size_t k = 0; bounded && k < NCAPACITIES; k++) {
            char word[24];
            snprintf(word, sizeof word, "%ld", capacity_choices[k]);
            if (ct_param_has(run, "capacities", word))
                add_pair(cfg, &n, capacity_choices[k], p, chan, mutex);
        }
    }
    return n;
}

/* ---- the demo ------------------------------------------------------------- */

static void report(struct ct_run *run, struct config *cfg, int n, int reps)
{
    static const char *const cols[] = {
        "config", "queue", "capacity", "producers", "mmsgs_median|M msgs/s",
        "mmsgs_min|min", "mmsgs_max|max", "ns_per_msg|ns/msg", "vs_mutex|x mutex",
        "verified|exact", NULL,
    };
    struct ct_table *t = ct_table_new(run, "configs", "median of the repetitions", cols);
    for (int i = 0; i < n; i++) {
        struct config *c = &cfg[i];
        double ratio = c->baseline >= 0 && cfg[c->baseline].median > 0
                           ? c->median / cfg[c->baseline].median
                           : c->impl == LOCKQ ? 1.0 : NAN;
        ct_table_row(t, CT_TEXT(c->label), CT_TEXT(c->impl == CHAN ? "chan" : "mutex+condvar"),
                     CT_INT(c->capacity), CT_INT(c->producers), CT_NUM(c->median / 1e6, 2),
                     CT_NUM(c->min / 1e6, 2), CT_NUM(c->max / 1e6, 2),
                     CT_NUM(c->median > 0 ? 1e9 / c->median : NAN, 1), CT_NUM(ratio, 2),
                     CT_TEXT(c->verified ? "yes" : "NO"));
    }
    ct_bars(run, t, "throughput, median (longer is faster)", 0, 4, "M msgs/s");

    /* every repetition, for plotting and for judging the spread */
    const char *rcols[MAX_REPS + 2];
    static const char *const rep_names[MAX_REPS] = {
        "r1|run 1", "r2|run 2", "r3|run 3", "r4|run 4", "r5|run 5",
        "r6|run 6", "r7|run 7", "r8|run 8", "r9|run 9", "r10|run 10",
    };
    rcols[0] = "config";
    for (int r = 0; r < reps; r++)
        rcols[r + 1] = rep_names[r];
    rcols[reps + 1] = NULL;
    struct ct_table *rt = ct_table_new(run, "runs", "every repetition, M msgs/s", rcols);
    for (int i = 0; i < n; i++) {
        struct ct_cell cells[MAX_REPS + 1];
        cells[0] = CT_TEXT(cfg[i].label);
        for (int r = 0; r < reps; r++)
            cells[r + 1] = CT_NUM(cfg[i].mps[r] / 1e6, 2);
        ct_table_row_(rt, (size_t)reps + 1, cells);
    }
}

/* Takeaway sentences computed from the medians. */
static void conclude(struct ct_run *run, const struct config *cfg, int n, int max_producers)
{
    const struct config *best = NULL, *worst = NULL;
    for (int i = 0; i < n; i++) {
        const struct config *c = &cfg[i];
        if (c->impl != CHAN || c->baseline < 0 || cfg[c->baseline].median <= 0)
            continue;
        double r = c->median / cfg[c->baseline].median;
        if (!best || r > best->median / cfg[best->baseline].median)
            best = c;
        if (!worst || r < worst->median / cfg[worst->baseline].median)
            worst = c;
    }
    if (best) {
        double rb = best->median / cfg[best->baseline].median;
        double rw = worst->median / cfg[worst->baseline].median;
        ct_takeaway(run,
                    "Against the mutex queue with the same bound and producers, the channel ran "
                    "%.1fx as fast at best (%s: %.1f vs %.1f M msgs/s) and %.1fx at worst (%s). "
                    "The channel's sender claims a slot with one compare-and-swap on the tail "
                    "and copies with no lock held, while the consumer works on the head, a "
                    "different cache line; the mutex queue makes every send and receive queue "
                    "up for one lock and copy while holding it.",
                    rb, best->label, best->median / 1e6, cfg[best->baseline].median / 1e6, rw,
                    worst->label);
        if (rw < 1.0)
            ct_takeaway(run,
                        "In %s the mutex queue won. A lock-free design is not free: when one "
                        "side keeps waiting for the other, both designs spend their time "
                        "parking and waking threads, and the simpler one can come out ahead.",
                        worst->label);
    }
    /* capacity: the smallest bounded channel against the largest one */
    const struct config *small = NULL, *big = NULL;
    for (int i = 0; i < n; i++) {
        const struct config *c = &cfg[i];
        if (c->impl != CHAN || c->capacity <= 0 || c->producers != max_producers)
            continue;
        if (!small || c->capacity < small->capacity)
            small = c;
        if (!big || c->capacity > big->capacity)
            big = c;
    }
    if (small && big && small != big && small->median > 0)
        ct_takeaway(run,
                    "Capacity matters: %s managed %.1f M msgs/s against %.1f for %s. With a "
                    "small buffer the producer keeps finding it full and has to wait for the "
                    "consumer, so the two run in lockstep instead of each at its own pace.",
                    small->label, small->median / 1e6, big->median / 1e6, big->label);
    if (max_producers + 1 > ct_cpus())
        ct_takeaway(run,
                    "With %d producers and a consumer on %d CPU%s, threads outnumbered cores: "
                    "some of the time a thread that could run was waiting for a CPU, and the "
                    "figures for those rows measure the scheduler as much as the queue.",
                    max_producers, ct_cpus(), ct_cpus() == 1 ? "" : "s");
}

static int channel_bench_run(struct ct_run *run)
{
    int max_p = (int)ct_param_int(run, "producers");
    long msgs = (long)ct_param_int(run, "msgs");
    int64_t duration_ns = (int64_t)ct_param_int(run, "duration-ms") * CT_NS_PER_MS;
    int reps = (int)ct_param_int(run, "reps");
    size_t msg_size = (size_t)ct_param_int(run, "msg-size");
    struct config *cfg = calloc(MAX_CONFIGS, sizeof *cfg);
    if (!cfg)
        return -ENOMEM;
    int n = build_configs(run, cfg, max_p);
    ct_say(run, "%d CPU%s online; up to %d producer%s + 1 consumer%s", ct_cpus(),
           ct_cpus() == 1 ? "" : "s", max_p, max_p == 1 ? "" : "s",
           max_p + 1 > ct_cpus() ? ": threads outnumber cores" : "");

    int rc = 0;
    for (int p = 1; p <= max_p && rc == 0; p++) {
        long per = msgs / p;
        if (msgs)
            ct_section(run, "%d producer%s, %ld messages each", p, p == 1 ? "" : "s", per);
        else
            ct_section(run, "%d producer%s, sending for %lld ms per run", p, p == 1 ? "" : "s",
                       (long long)(duration_ns / CT_NS_PER_MS));
        /* round 0 warms caches, the allocator and the CPU clock up; it is
         * verified but not timed */
        for (int round = 0; round <= reps && rc == 0; round++) {
            for (int i = 0; i < n && rc == 0; i++) {
                if (cfg[i].producers != p)
                    continue;
                double mps;
                rc = run_once(run, &cfg[i], round == 0 ? (per + 3) / 4 : per,
                              round == 0 ? duration_ns / 4 : duration_ns, msg_size, &mps);
                if (ct_cancelled(run))
                    goto out;
                if (rc == 0 && round > 0)
                    cfg[i].mps[cfg[i].nreps++] = mps;
            }
        }
        for (int i = 0; i < n && rc == 0; i++) {
            if (cfg[i].producers != p)
                continue;
            if ((rc = summarise(&cfg[i])))
                break;
            ct_say(run, "%-26s median %6.2f M msgs/s (%.2f..%.2f), %s", cfg[i].label,
                   cfg[i].median / 1e6, cfg[i].min / 1e6, cfg[i].max / 1e6,
                   cfg[i].verified ? "all exact" : "MESSAGES WRONG");
        }
    }
    if (rc)
        goto out;

    report(run, cfg, n, reps);
    ct_result_int(run, "cpus", "CPUs online", ct_cpus(), NULL);
    if (msgs)
        ct_result_int(run, "msgs_per_run", "messages per timed run", msgs, NULL);
    else
        ct_result_int(run, "duration_ms", "sending time per run", duration_ns / CT_NS_PER_MS,
                      "ms");
    ct_result_int(run, "msg_size", "message size", (long long)msg_size, "bytes");
    ct_result_int(run, "reps", "timed repetitions per configuration", reps, NULL);
    for (int i = 0; i < n; i++)
        ct_check(run, cfg[i].verified && cfg[i].delivered == cfg[i].expected,
                 "%s: %lld of %lld messages arrived, each exactly once and in order per "
                 "producer, over %d runs",
                 cfg[i].label, cfg[i].delivered, cfg[i].expected, reps + 1);
    conclude(run, cfg, n, max_p);
out:
    free(cfg);
    return rc;
}

static const struct ct_param_spec channel_bench_params[] = {
    { "producers", CT_PARAM_INT, "2", 1, MAX_PRODUCERS, NULL,
      "run with 1, 2, ... up to this many producers" },
    { "duration-ms", CT_PARAM_INT, "40", 1, 10000, NULL,
      "how long the producers send in each run (when msgs=0)" },
    { "msgs", CT_PARAM_INT, "0", 0, 100000000, NULL,
      "messages per run, shared among the producers; 0 sends for duration-ms instead" },
    { "reps", CT_PARAM_INT, "5", 1, MAX_REPS, NULL, "timed repetitions per configuration" },
    { "kinds", CT_PARAM_SET, "all", 0, 0, "unbounded,bounded,mutex",
      "queues to run (mutex: the mutex+condvar baseline for each)" },
    { "capacities", CT_PARAM_SET, "1024", 0, 0, "0,1,16,256,1024,65536",
      "capacities of the bounded queues (0: rendezvous)" },
    { "msg-size", CT_PARAM_INT, "8", 8, MAX_MSG, NULL, "bytes per message" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_channel_bench = {
    .name = "channel-bench",
    .chapter = 5,
    .title = "Channel throughput against a mutex queue",
    .summary = "Messages per second through the unbounded and bounded channels vs a "
               "mutex+condvar queue",
    .intro = "Producers send numbered messages to one consumer through each kind of channel "
             "and through a mutex-and-condition-variable queue, several times over. The "
             "consumer checks that every message arrived exactly once and in order, and each "
             "run is timed from the first thread's start to the last one's end.",
    .params = channel_bench_params,
    .smoke = "producers=2 duration-ms=5 reps=2 capacities=1,1024",
    .flags = CT_DEMO_BENCH,
    .run = channel_bench_run,
};
