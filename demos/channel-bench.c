/* channel-bench.c - demo `channel-bench`: how fast the project's channels
 * move messages, next to the mutex + condition variable queue most C code
 * would use instead, and where the time goes.
 *
 * Shows: 1..N producers send numbered messages to one consumer for a fixed
 * time (duration-ms; or a fixed count with msgs=M, shared among the
 * producers), through the unbounded channel, the bounded channel at the
 * chosen capacities (0 is a rendezvous), and the mutex queue (lockq.h,
 * unbounded and with the same bounds).  A fixed time gives every queue
 * runs of the same length, long enough that thread start-up does not decide
 * the figure.  Every run is verified: the consumer counts that each
 * producer's messages arrived exactly once and in order.  Runs are
 * repeated (the configurations of one producer count take turns, so a
 * noisy moment hits them alike); the table gives the median with min and
 * max, and the CPU time all threads spent per message.  A second table
 * says where a channel's time went: how often a thread slept, how many
 * wake-up calls were made, how often a waiting thread yielded its CPU, and
 * how many blocks the unbounded channel allocated, per 1,000 messages.
 * Watch for: the "x mutex" column; the rendezvous's CPU time per message
 * (its waiters spin rather than sleep, which costs a CPU while it pays);
 * and what happens when threads outnumber cores.
 * Lesson: channel-internals (chapter 5), which discusses the numbers.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "demo.h"
#include "chan.h"
#include "clock.h"
#include "gate.h"
#include "lockq.h"
#include "stats.h"

#define MAX_PRODUCERS 16
#define MAX_REPS 10
#define MAX_MSG 4096
#define MAX_MSGS 100000000L
#define CANCEL_EVERY 4096       /* messages between looks at the cancel flag */
#define STOP_EVERY 64           /* duration mode: messages between looks at the clock's flag */

enum impl { CHAN, LOCKQ };

static const long capacity_choices[] = { 0, 1, 16, 256, 1024, 65536 };
#define NCAPACITIES (sizeof capacity_choices / sizeof capacity_choices[0])
/* per producer count: the unbounded pair and a pair per capacity */
#define MAX_CONFIGS (MAX_PRODUCERS * 2 * (1 + (int)NCAPACITIES))

/* What the parameters ask for. */
struct params {
    int max_producers;
    long msgs;                  /* per run, shared among the producers; 0: duration mode */
    int64_t duration_ns;
    int reps;
    size_t msg_size;
};

/* One queue configuration and everything measured for it. */
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
    struct ct_stats st;         /* of mps */
    /* the timed runs' costs */
    long long timed_msgs;
    double cpu_ns;              /* CPU time of every thread in its loop */
    struct ct_chan_stats cost;  /* channels only */
};

struct result {
    struct params p;
    struct config *cfg;
    int n;
    double handoff_ns[2];       /* the probe before and after (-1: none) */
};

/* ---- one run ------------------------------------------------------------ */

struct bench;

struct worker {
    struct bench *b;
    int id;                     /* producer number; the consumer is -1 */
    struct ct_thread thread;
    long quota;                 /* producers: messages to send; 0: until `stop` */
    int64_t start_ns, end_ns;
    int64_t cpu_ns;             /* CPU time spent in the loop */
    long sent;                  /* producers: messages sent */
    int rc;
};

struct bench {
    struct ct_run *run;
    const struct config *cfg;
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
    long quota = w->quota, i = 0;
    unsigned char msg[MAX_MSG] = { 0 };
    int rc = 0;
    if (ct_gate_wait(&b->gate, cancel)) {
        w->start_ns = ct_clock_ns();
        int64_t cpu0 = ct_thread_cpu_ns();
        for (; (quota == 0 || i < quota) && rc == 0; i++) {
            if (i % STOP_EVERY == 0) {
                if (quota == 0 && atomic_load_explicit(&b->stop, memory_order_relaxed))
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
        w->cpu_ns = ct_thread_cpu_ns() - cpu0;
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
    int64_t cpu0 = ct_thread_cpu_ns();
    for (;;) {
        rc = chan ? ct_chan_recv(&b->rx, msg, cancel) : ct_lockq_recv(&b->lq, msg, cancel);
        if (rc != 0)
            break;
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
    w->cpu_ns = ct_thread_cpu_ns() - cpu0;
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

/* Start the consumer and the producers; producer i sends its share of
 * `msgs` (the remainder spread over the first ones), or sends until told
 * to stop when `msgs` is 0.  Returns how many producers started; *rc gets
 * the first error. */
static int start_workers(struct bench *b, long msgs, bool *consumer_up, int *rc)
{
    int n = b->cfg->producers, started = 0;
    struct worker *cons = &b->w[n];
    *cons = (struct worker){ .b = b, .id = -1 };
    *rc = ct_thread_start(b->run, &cons->thread, consumer_main, cons, "consumer");
    *consumer_up = *rc == 0;
    for (; *rc == 0 && started < n; started++) {
        long quota = msgs / n + (started < msgs % n);
        b->w[started] = (struct worker){ .b = b, .id = started, .quota = quota };
        *rc = ct_thread_start(b->run, &b->w[started].thread, producer_main, &b->w[started],
                              "producer-%d", started + 1);
        if (*rc)
            break;
    }
    for (int i = started; i < n; i++)
        producer_done(b, i);            /* never started: release its part */
    if (*rc)
        ct_gate_open(&b->gate);         /* let the ones that started finish */
    return started;
}

/* After the joins: verify the run, add it to cfg, and time it from the
 * first start to the last end.  Returns 0 or the first worker's error. */
static int account(struct bench *b, struct config *cfg, long msgs, bool timed, double *mps)
{
    int n = cfg->producers, rc = 0;
    struct worker *cons = &b->w[n];
    int64_t first = cons->start_ns, last = cons->end_ns, cpu = cons->cpu_ns;
    long exact = 0, sent = 0;
    for (int i = 0; i < n; i++) {
        first = b->w[i].start_ns < first ? b->w[i].start_ns : first;
        last = b->w[i].end_ns > last ? b->w[i].end_ns : last;
        cpu += b->w[i].cpu_ns;
        rc = rc ? rc : b->w[i].rc;
        exact += b->next[i] == b->w[i].sent;    /* all it sent arrived, in order */
        sent += b->w[i].sent;
    }
    rc = rc ? rc : cons->rc;
    bool ok = rc == 0 && b->bad == 0 && b->out_of_order == 0 && exact == n &&
              b->received == sent && (msgs == 0 || sent == msgs);
    cfg->verified = cfg->verified && ok;
    cfg->delivered += ok ? b->received : 0;
    cfg->expected += msgs ? msgs : sent;
    *mps = last > first ? (double)b->received / ((double)(last - first) / 1e9) : 0;
    if (timed) {
        cfg->timed_msgs += b->received;
        cfg->cpu_ns += (double)cpu;
        if (cfg->impl == CHAN) {
            struct ct_chan_stats s;
            ct_chan_stats(b->rx.chan, &s);
            cfg->cost.send_sleeps += s.send_sleeps;
            cfg->cost.recv_sleeps += s.recv_sleeps;
            cfg->cost.wakeups += s.wakeups;
            cfg->cost.yields += s.yields;
            cfg->cost.blocks += s.blocks;
        }
    }
    return rc;
}

/* One run of `cfg`: `msgs` messages shared among the producers, or, when
 * it is 0, as many as they send in `duration_ns`.  Returns 0 (with *mps
 * set) or a negative errno; cancellation returns 0 with *mps 0. */
static int run_once(struct ct_run *run, struct config *cfg, long msgs, int64_t duration_ns,
                    size_t msg_size, bool timed, double *mps)
{
    struct bench *b = calloc(1, sizeof *b);
    if (!b)
        return -ENOMEM;
    *b = (struct bench){ .run = run, .cfg = cfg, .msg_size = msg_size };
    atomic_init(&b->stop, false);
    ct_gate_init(&b->gate, cfg->producers + 1);
    int rc = open_queue(b);
    if (rc) {
        free(b);
        return rc;
    }
    bool consumer_up;
    int started = start_workers(b, msgs, &consumer_up, &rc);
    if (msgs == 0) {
        /* the workers time themselves; this only ends the sending (the
         * time scale does not apply: it is a measurement, not a story) */
        ct_event_wait_timeout(ct_cancel_event(run), duration_ns);
        atomic_store_explicit(&b->stop, true, memory_order_relaxed);
    }
    for (int i = 0; i < started; i++)
        ct_thread_join(&b->w[i].thread, NULL);
    if (consumer_up)
        ct_thread_join(&b->w[cfg->producers].thread, NULL);
    *mps = 0;
    if (rc == 0 && !ct_cancelled(run))
        rc = account(b, cfg, msgs, timed, mps);
    if (cfg->impl == CHAN)
        ct_chan_drop_receiver(&b->rx);
    else
        ct_lockq_destroy(&b->lq);
    free(b);
    return rc == -ECANCELED ? 0 : rc;
}

/* ---- configurations ------------------------------------------------------- */

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

/* ---- the measurements ------------------------------------------------------ */

/* Every configuration with `p` producers: a warm-up round (verified, not
 * timed: it warms caches, the allocator and the CPU clock up, with a
 * quarter of the work), then the timed rounds, the configurations taking
 * turns within each round. */
static int measure_producers(struct ct_run *run, struct result *res, int p)
{
    const struct params *pa = &res->p;
    if (pa->msgs)
        ct_section(run, "%d producer%s, %ld message%s per run", p, p == 1 ? "" : "s", pa->msgs,
                   pa->msgs == 1 ? "" : "s");
    else
        ct_section(run, "%d producer%s, sending for %lld ms per run", p, p == 1 ? "" : "s",
                   (long long)(pa->duration_ns / CT_NS_PER_MS));
    long warm_msgs = pa->msgs ? (pa->msgs + 3) / 4 : 0;
    warm_msgs = pa->msgs && warm_msgs < p ? p : warm_msgs;
    for (int round = 0; round <= pa->reps; round++) {
        for (int i = 0; i < res->n; i++) {
            struct config *c = &res->cfg[i];
            if (c->producers != p)
                continue;
            double mps;
            int rc = round == 0 ? run_once(run, c, warm_msgs, pa->duration_ns / 4,
                                           pa->msg_size, false, &mps)
                                : run_once(run, c, pa->msgs, pa->duration_ns, pa->msg_size,
                                           true, &mps);
            if (rc || ct_cancelled(run))
                return rc;
            if (round > 0)
                c->mps[c->nreps++] = mps;
        }
    }
    for (int i = 0; i < res->n; i++) {
        struct config *c = &res->cfg[i];
        if (c->producers != p)
            continue;
        int rc = ct_stats_of(c->mps, (size_t)c->nreps, &c->st);
        if (rc)
            return rc;
        ct_say(run, "%-24s %6.2f M msgs/s (%.2f..%.2f)%s", c->label, c->st.median / 1e6,
               c->st.min / 1e6, c->st.max / 1e6, c->verified ? "" : " WRONG");
    }
    return 0;
}

/* ---- the report ------------------------------------------------------------ */

static double per_k(const struct config *c, uint64_t count)
{
    return c->impl == CHAN && c->timed_msgs > 0 ? 1000.0 * (double)count / (double)c->timed_msgs
                                                : NAN;
}

static double cpu_per_msg(const struct config *c)
{
    return c->timed_msgs > 0 ? c->cpu_ns / (double)c->timed_msgs : NAN;
}

static double vs_mutex(const struct result *res, const struct config *c)
{
    const struct config *base = c->baseline >= 0 ? &res->cfg[c->baseline] : NULL;
    return base && base->st.median > 0 ? c->st.median / base->st.median
           : c->impl == LOCKQ          ? 1.0
                                       : NAN;
}

static void report_tables(struct ct_run *run, const struct result *res)
{
    static const char *const cols[] = {
        "config", "mmsgs_median|M msgs/s", "mmsgs_min|min", "mmsgs_max|max",
        "ns_per_msg|ns/msg", "cpu_ns_per_msg|CPU ns", "vs_mutex|x mutex", "verified|exact", NULL,
    };
    struct ct_table *t = ct_table_new(run, "configs", "median of the runs; CPU: all threads",
                                      cols);
    for (int i = 0; i < res->n; i++) {
        const struct config *c = &res->cfg[i];
        ct_table_row(t, CT_TEXT(c->label), CT_NUM(c->st.median / 1e6, 2),
                     CT_NUM(c->st.min / 1e6, 2), CT_NUM(c->st.max / 1e6, 2),
                     CT_NUM(c->st.median > 0 ? 1e9 / c->st.median : NAN, 1),
                     CT_NUM(cpu_per_msg(c), 1), CT_NUM(vs_mutex(res, c), 2),
                     CT_TEXT(c->verified ? "yes" : "NO"));
    }
    ct_bars(run, t, "throughput, median (longer is faster)", 0, 1, "M msgs/s");

    static const char *const ccols[] = {
        "config", "sleeps_per_k|sleeps", "wakeups_per_k|wake-ups", "yields_per_k|yields",
        "blocks_per_k|blocks", NULL,
    };
    struct ct_table *ct = ct_table_new(run, "costs", "channels: per 1,000 messages", ccols);
    for (int i = 0; i < res->n; i++) {
        const struct config *c = &res->cfg[i];
        if (c->impl != CHAN)
            continue;
        ct_table_row(ct, CT_TEXT(c->label),
                     CT_NUM(per_k(c, c->cost.send_sleeps + c->cost.recv_sleeps), 2),
                     CT_NUM(per_k(c, c->cost.wakeups), 2), CT_NUM(per_k(c, c->cost.yields), 2),
                     CT_NUM(c->capacity == CT_CHAN_UNBOUNDED ? per_k(c, c->cost.blocks) : NAN,
                            2));
    }
}

/* Every repetition, for plotting and for judging the spread. */
static void report_runs(struct ct_run *run, const struct result *res)
{
    static const char *const rep_names[MAX_REPS] = {
        "r1|run 1", "r2|run 2", "r3|run 3", "r4|run 4", "r5|run 5",
        "r6|run 6", "r7|run 7", "r8|run 8", "r9|run 9", "r10|run 10",
    };
    const char *rcols[MAX_REPS + 2];
    int reps = res->p.reps;
    rcols[0] = "config";
    for (int r = 0; r < reps; r++)
        rcols[r + 1] = rep_names[r];
    rcols[reps + 1] = NULL;
    struct ct_table *rt = ct_table_new(run, "runs", "every run, M msgs/s", rcols);
    for (int i = 0; i < res->n; i++) {
        struct ct_cell cells[MAX_REPS + 1];
        cells[0] = CT_TEXT(res->cfg[i].label);
        for (int r = 0; r < reps; r++)
            cells[r + 1] = CT_NUM(res->cfg[i].mps[r] / 1e6, 2);
        ct_table_row_(rt, (size_t)reps + 1, cells);
    }
}

static void report_results(struct ct_run *run, const struct result *res)
{
    const struct params *p = &res->p;
    ct_result_int(run, "cpus", "CPUs online", ct_cpus(), NULL);
    ct_result_handoff(run, res->handoff_ns[0], res->handoff_ns[1]);
    if (p->msgs)
        ct_result_int(run, "msgs_per_run", "messages per timed run", p->msgs, NULL);
    else
        ct_result_int(run, "duration_ms", "sending time per run",
                      p->duration_ns / CT_NS_PER_MS, "ms");
    ct_result_int(run, "msg_size", "message size", (long long)p->msg_size, "bytes");
    ct_result_int(run, "reps", "timed repetitions per configuration", p->reps, NULL);
    for (int i = 0; i < res->n; i++) {
        const struct config *c = &res->cfg[i];
        ct_check(run, c->verified && c->delivered == c->expected,
                 "%s: %lld of %lld msgs, each once, in order (warm-up + %d timed run%s)",
                 c->label, c->delivered, c->expected, p->reps, p->reps == 1 ? "" : "s");
    }
}

/* ---- takeaways: only what this run's spread lets it tell ----------------- */

/* Whether two configurations' ranges (min..max over the runs) are apart:
 * only then does the run tell which one is faster. */
static bool apart(const struct config *a, const struct config *b)
{
    return a->st.min > b->st.max || b->st.min > a->st.max;
}

static void conclude_vs_mutex(struct ct_run *run, const struct result *res)
{
    const struct config *best = NULL, *worst = NULL;
    for (int i = 0; i < res->n; i++) {
        const struct config *c = &res->cfg[i];
        if (c->impl != CHAN || !(vs_mutex(res, c) > 0))
            continue;
        if (!best || vs_mutex(res, c) > vs_mutex(res, best))
            best = c;
        if (!worst || vs_mutex(res, c) < vs_mutex(res, worst))
            worst = c;
    }
    if (!best)
        return;
    const struct config *bb = &res->cfg[best->baseline];
    if (!apart(best, bb)) {
        ct_takeaway(run,
                    "The channels and the mutex queue overlapped: even the widest gap (%s, "
                    "%.1fx the mutex queue's median) lies within the spread of the runs, so "
                    "this run cannot tell them apart. Run again on a quieter machine, or with "
                    "more reps and a longer duration-ms.",
                    best->label, vs_mutex(res, best));
        return;
    }
    ct_takeaway(run,
                "Against the mutex queue with the same bound and producers, the channel ran "
                "%.1fx as fast at best (%s: %.1f vs %.1f M msgs/s) and %.1fx at worst (%s). "
                "The channel's sender claims a slot with one compare-and-swap on the tail "
                "and copies with no lock held, while the consumer works on the head, a "
                "different cache line; the mutex queue makes every send and receive queue "
                "up for one lock and copy while holding it.",
                vs_mutex(res, best), best->label, best->st.median / 1e6, bb->st.median / 1e6,
                vs_mutex(res, worst), worst->label);
    if (vs_mutex(res, worst) < 1.0 && apart(worst, &res->cfg[worst->baseline]))
        ct_takeaway(run,
                    "In %s the mutex queue won. A lock-free design is not free: when one "
                    "side keeps waiting for the other, both designs spend their time "
                    "parking and waking threads, and the simpler one can come out ahead.",
                    worst->label);
}

/* Where the waiting went: the rendezvous (spinning instead of sleeping)
 * and the channel that slept most per message. */
static void conclude_costs(struct ct_run *run, const struct result *res)
{
    const struct config *rv = NULL, *sleepy = NULL;
    for (int i = 0; i < res->n; i++) {
        const struct config *c = &res->cfg[i];
        if (c->impl != CHAN || c->timed_msgs == 0)
            continue;
        if (c->capacity == 0 && (!rv || c->producers < rv->producers))
            rv = c;
        double s = per_k(c, c->cost.send_sleeps + c->cost.recv_sleeps);
        if (s >= 1 && (!sleepy || s > per_k(sleepy, sleepy->cost.send_sleeps +
                                                       sleepy->cost.recv_sleeps)))
            sleepy = c;
    }
    if (rv && rv->st.median > 0) {
        double wall = 1e9 / rv->st.median, cpu = cpu_per_msg(rv);
        double sleeps = per_k(rv, rv->cost.send_sleeps + rv->cost.recv_sleeps);
        if (sleeps < 100)
            ct_takeaway(run,
                        "%s handed over a message every %.0f ns, with %.1f sleeps per 1,000 "
                        "messages: a waiting thread spun on its own cache line for a bounded "
                        "time, and the partner nearly always arrived before it had to sleep. "
                        "The price is CPU: %.0f ns of CPU per message, %.1fx the wall time, "
                        "because the waiting side keeps a core busy while it spins.",
                        rv->label, wall, sleeps, cpu, cpu / wall);
        else
            ct_takeaway(run,
                        "%s handed over a message every %.0f ns, and slept %.0f times per "
                        "1,000 messages: the partner often did not arrive within the spin "
                        "(it was not running: threads outnumber cores, or the machine is "
                        "busy), so waiters slept and each such hand-over paid a wake-up. "
                        "Spinning pays only while both sides are running; here the spin "
                        "bound shrinks so that waiters park sooner (%.0f ns of CPU per "
                        "message).",
                        rv->label, wall, sleeps, cpu);
    }
    if (sleepy && sleepy != rv)
        ct_takeaway(run,
                    "%s slept most: %.1f times per 1,000 messages, with %.1f wake-up calls. "
                    "Each sleep and wake-up is a pair of system calls and tens of "
                    "microseconds before the sleeper runs again.",
                    sleepy->label,
                    per_k(sleepy, sleepy->cost.send_sleeps + sleepy->cost.recv_sleeps),
                    per_k(sleepy, sleepy->cost.wakeups));
}

/* Capacity: the smallest bounded channel against the largest one. */
static void conclude_capacity(struct ct_run *run, const struct result *res)
{
    const struct config *small = NULL, *big = NULL;
    for (int i = 0; i < res->n; i++) {
        const struct config *c = &res->cfg[i];
        if (c->impl != CHAN || c->capacity <= 0 || c->producers != res->p.max_producers)
            continue;
        if (!small || c->capacity < small->capacity)
            small = c;
        if (!big || c->capacity > big->capacity)
            big = c;
    }
    if (!small || !big || small == big || !(small->st.median > 0))
        return;
    if (!apart(small, big))
        ct_takeaway(run,
                    "%s and %s overlapped (%.1f and %.1f M msgs/s, medians): this run "
                    "cannot tell whether capacity mattered. More reps, or a quieter "
                    "machine, would.",
                    small->label, big->label, small->st.median / 1e6, big->st.median / 1e6);
    else
        ct_takeaway(run,
                    "Capacity mattered: %s managed %.1f M msgs/s against %.1f for %s. With "
                    "a small buffer the producer keeps finding it full and has to wait for "
                    "the consumer, so the two run in lockstep instead of each at its own "
                    "pace.",
                    small->label, small->st.median / 1e6, big->st.median / 1e6, big->label);
}

static void report(struct ct_run *run, const struct result *res)
{
    report_tables(run, res);
    report_runs(run, res);
    report_results(run, res);
    conclude_vs_mutex(run, res);
    conclude_costs(run, res);
    conclude_capacity(run, res);
    ct_takeaway_handoff(run, res->handoff_ns[0], res->handoff_ns[1]);
    int p = res->p.max_producers;
    if (p + 1 > ct_cpus())
        ct_takeaway(run,
                    "With %d producer%s and a consumer on %d CPU%s, threads outnumbered cores: "
                    "some of the time a thread that could run was waiting for a CPU, and the "
                    "figures for those rows measure the scheduler as much as the queue.",
                    p, p == 1 ? "" : "s", ct_cpus(), ct_cpus() == 1 ? "" : "s");
}

/* ---- the demo ------------------------------------------------------------- */

static void read_params(struct ct_run *run, struct params *p)
{
    *p = (struct params){
        .max_producers = (int)ct_param_int(run, "producers"),
        .msgs = (long)ct_param_int(run, "msgs"),
        .duration_ns = (int64_t)ct_param_int(run, "duration-ms") * CT_NS_PER_MS,
        .reps = (int)ct_param_int(run, "reps"),
        .msg_size = (size_t)ct_param_int(run, "msg-size"),
    };
}

/* Every producer needs at least one message: 0 means "send for
 * duration-ms", which a message count must not turn into. */
static int channel_bench_check(const struct ct_run *run, char *err, size_t errlen)
{
    long long msgs = ct_param_int(run, "msgs"), producers = ct_param_int(run, "producers");
    if (msgs != 0 && msgs < producers) {
        snprintf(err, errlen,
                 "msgs=%lld is fewer than producers=%lld: give msgs=0 (send for "
                 "duration-ms) or msgs=%lld..%ld", msgs, producers, producers, MAX_MSGS);
        return -EINVAL;
    }
    return 0;
}

static int channel_bench_run(struct ct_run *run)
{
    struct result res;
    read_params(run, &res.p);
    int rc = 0;
    res.cfg = calloc(MAX_CONFIGS, sizeof *res.cfg);
    if (!res.cfg)
        return -ENOMEM;
    int max_p = res.p.max_producers;
    res.n = build_configs(run, res.cfg, max_p);
    ct_say(run, "%d CPU%s online; up to %d producer%s + 1 consumer%s", ct_cpus(),
           ct_cpus() == 1 ? "" : "s", max_p, max_p == 1 ? "" : "s",
           max_p + 1 > ct_cpus() ? ": threads outnumber cores" : "");
    res.handoff_ns[0] = ct_line_handoff_ns();
    for (int p = 1; p <= max_p && rc == 0 && !ct_cancelled(run); p++)
        rc = measure_producers(run, &res, p);
    res.handoff_ns[1] = rc == 0 && !ct_cancelled(run) ? ct_line_handoff_ns() : -1;
    if (rc == 0 && !ct_cancelled(run))
        report(run, &res);
    free(res.cfg);
    return rc;
}

static const struct ct_param_spec channel_bench_params[] = {
    { "producers", CT_PARAM_INT, "2", 1, MAX_PRODUCERS, NULL,
      "run with 1, 2, ... up to this many producers" },
    { "duration-ms", CT_PARAM_INT, "40", 1, 10000, NULL,
      "how long the producers send in each run (when msgs=0)" },
    { "msgs", CT_PARAM_INT, "0", 0, MAX_MSGS, NULL,
      "messages per run, shared among the producers (at least one each); 0 sends for "
      "duration-ms instead" },
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
    .summary = "Messages per second through the unbounded, bounded and rendezvous channels "
               "vs a mutex+condvar queue",
    .intro = "Producers send numbered messages to one consumer through each kind of channel "
             "and through a mutex-and-condition-variable queue, several times over. The "
             "consumer checks that every message arrived exactly once and in order, each "
             "run is timed from the first thread's start to the last one's end, and the "
             "channels count their sleeps, wake-ups and allocations.",
    .params = channel_bench_params,
    .smoke = "producers=2 duration-ms=5 reps=2 capacities=0,1,1024",
    .flags = CT_DEMO_BENCH,
    .run = channel_bench_run,
    .check = channel_bench_check,
};
