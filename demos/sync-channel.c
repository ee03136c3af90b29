/* sync-channel.c - demo `sync-channel`: a bounded channel pushes back on a
 * producer that is faster than its consumer.
 *
 * Shows: a producer sends numbered messages into a channel of small
 * capacity as fast as it can, while the receiver starts late and then takes
 * its time over each message.  The first sends go straight into the
 * buffer; once it is full, each send blocks until the receiver makes room.
 * (Each send is first tried with ct_chan_try_send, so "found the buffer
 * full" is counted, not guessed from timings.)  For comparison, the same
 * sends then go into an unbounded channel with no receiver yet.
 * Watch for: "blocking" lines, the producer's '.' in the timeline lining up
 * with the receiver's pace, the buffer never holding more than its
 * capacity, and the unbounded channel taking everything at once.
 * capacity=0 makes every send a rendezvous.
 * Lesson: bounded-channels (chapter 5).
 */
#include <errno.h>
#include <stdio.h>

#include "demo.h"
#include "chan.h"
#include "clock.h"

#define MAX_MESSAGES 50

struct producer {
    struct ct_run *run;
    struct ct_sender tx;        /* moved in: this thread drops it */
    int n;
    long capacity;
    int sent;
    int found_full;             /* sends that found no room */
    int first_full;             /* index of the first of them, or -1 */
    double blocked_ms[MAX_MESSAGES];
    size_t max_len;             /* most messages seen queued after a send */
    int64_t done_ns;
};

/* Send 0, 1, 2, ...: try first, and block only if there is no room. */
static void *producer_main(void *arg)
{
    struct producer *p = arg;
    struct ct_run *run = p->run;
    ct_mark(run, CT_RUN);
    for (int i = 0; i < p->n; i++) {
        int v = i;
        int rc = ct_chan_try_send(&p->tx, &v);
        if (rc == -EAGAIN) {
            p->first_full = p->found_full++ ? p->first_full : i;
            ct_say(run, "sending %d: %s, blocking", i,
                   p->capacity == 0 ? "no receiver waiting" : "buffer full");
            int64_t t0 = ct_clock_ns();
            ct_mark(run, CT_WAIT);
            rc = ct_chan_send(&p->tx, &v, ct_cancel_event(run));
            ct_mark(run, CT_RUN);
            p->blocked_ms[i] = (double)(ct_clock_ns() - t0) / 1e6;
        }
        if (rc != 0)
            break;
        ct_point(run, 's');
        p->sent++;
        size_t len = ct_chan_len(p->tx.chan);
        p->max_len = len > p->max_len ? len : p->max_len;
        if (p->blocked_ms[i] > 0)
            ct_say(run, "sent %d after blocking %.1f ms (queued now: %zu)", i, p->blocked_ms[i],
                   len);
        else
            ct_say(run, "sent %d at once (queued now: %zu of %ld)", i, len, p->capacity);
    }
    p->done_ns = ct_clock_ns();
    ct_chan_drop_sender(&p->tx);
    ct_mark(run, CT_IDLE);
    return NULL;
}

struct sync_result {
    long capacity;
    int n, sent, received, in_order, found_full, first_full;
    int order[MAX_MESSAGES];            /* the values in the order received */
    double blocked_ms[MAX_MESSAGES];    /* per message value */
    double blocked_total;
    size_t max_queued;                  /* most seen by either side */
    double producer_ahead_ms;           /* producer done this long before the receiver */
    /* the same sends into an unbounded channel, nobody receiving */
    int ub_sent;
    size_t ub_queued;
    double ub_us;
};

/* The slow receiver: start after `delay` ms, then spend `work` ms on each
 * message, until the channel is closed and empty (or the run cancelled).
 * Returns when it stopped. */
static int64_t receive_slowly(struct ct_run *run, struct ct_receiver *rx, double delay,
                              double work, struct sync_result *r)
{
    ct_mark(run, CT_SLEEP);
    bool go = ct_sleep_ms(run, delay);
    if (go)
        ct_say(run, "starting to receive (%zu waiting)", ct_chan_len(rx->chan));
    while (go) {
        size_t len = ct_chan_len(rx->chan);
        r->max_queued = len > r->max_queued ? len : r->max_queued;
        int v;
        ct_mark(run, CT_WAIT);
        int rc = ct_chan_recv(rx, &v, ct_cancel_event(run));
        ct_mark(run, CT_RUN);
        if (rc)
            break;              /* -EPIPE: done; or cancelled */
        ct_point(run, 'r');
        if (r->received < MAX_MESSAGES)
            r->order[r->received] = v;
        r->in_order += v == r->received;
        r->received++;
        ct_say(run, "received %d, now working on it", v);
        ct_mark(run, CT_SLEEP);
        go = ct_sleep_ms(run, work);
    }
    ct_mark(run, CT_IDLE);
    return ct_clock_ns();
}

/* The producer against the slow receiver, through a channel of the given
 * capacity.  0 or a negative errno. */
static int run_bounded(struct ct_run *run, int n, long capacity, double delay, double work,
                       struct sync_result *r)
{
    struct producer p = { .run = run, .n = n, .capacity = capacity, .first_full = -1 };
    struct ct_receiver rx;
    int rc = ct_chan_open(&p.tx, &rx, sizeof(int), capacity, NULL);
    if (rc)
        return rc;
    struct ct_thread t;
    if ((rc = ct_thread_start(run, &t, producer_main, &p, "producer")) != 0) {
        ct_chan_drop_sender(&p.tx);
        ct_chan_drop_receiver(&rx);
        return rc;
    }
    int64_t recv_done_ns = receive_slowly(run, &rx, delay, work, r);
    ct_chan_drop_receiver(&rx);     /* a blocked producer wakes with -EPIPE */
    ct_thread_join(&t, NULL);

    r->capacity = capacity;
    r->n = n;
    r->sent = p.sent;
    r->found_full = p.found_full;
    r->first_full = p.first_full;
    r->max_queued = p.max_len > r->max_queued ? p.max_len : r->max_queued;
    r->producer_ahead_ms = (double)(recv_done_ns - p.done_ns) / 1e6;
    for (int i = 0; i < n; i++) {
        r->blocked_ms[i] = p.blocked_ms[i];
        r->blocked_total += p.blocked_ms[i];
    }
    return 0;
}

/* The same n sends into an unbounded channel before any receiver has
 * started, as in the first `delay` ms above: how long they take and how
 * many wait in the channel afterwards.  0 or a negative errno. */
static const char *plural(long long n)
{
    return n == 1 ? "" : "s";
}

static int run_unbounded(struct ct_run *run, int n, struct sync_result *r)
{
    struct ct_sender tx;
    struct ct_receiver rx;
    int rc = ct_chan_open(&tx, &rx, sizeof(int), CT_CHAN_UNBOUNDED, NULL);
    if (rc)
        return rc;
    int64_t t0 = ct_clock_ns();
    for (int i = 0; i < n; i++) {
        int v = i;
        if (ct_chan_send(&tx, &v, ct_cancel_event(run)) != 0)
            break;
        r->ub_sent++;
    }
    r->ub_us = (double)(ct_clock_ns() - t0) / 1e3;
    r->ub_queued = ct_chan_len(rx.chan);
    ct_say(run, "unbounded: %d send%s returned in %.1f us, %zu queued", r->ub_sent,
           plural(r->ub_sent), r->ub_us, r->ub_queued);
    ct_chan_drop_sender(&tx);
    ct_chan_drop_receiver(&rx);
    return 0;
}

static void report_takeaway(struct ct_run *run, const struct sync_result *r)
{
    if (r->capacity == 0)
        ct_takeaway(run,
                    "With capacity 0 there is no buffer at all: %d of %d send%s found no "
                    "receiver waiting and blocked, %.1f ms in all, until the receiver took the "
                    "message straight from the producer. Each send is a rendezvous: both "
                    "threads are at the hand-off at the same moment.",
                    r->found_full, r->sent, plural(r->sent), r->blocked_total);
    else if (r->found_full > 0)
        ct_takeaway(run,
                    "The first %d send%s found room; %d found the buffer full and blocked, %.1f "
                    "ms in all, each released only when the receiver took a message. That is "
                    "backpressure: the producer was slowed to the consumer's pace, and at most "
                    "%zu message%s waited in the channel.",
                    r->first_full, r->first_full == 1 ? "" : "s", r->found_full,
                    r->blocked_total, r->max_queued, r->max_queued == 1 ? "" : "s");
    else
        ct_takeaway(run,
                    "No send found the buffer full: with capacity %ld for %d message%s (or a "
                    "receiver quick enough) the producer never had to wait. Lower the capacity "
                    "or raise messages to see it block.",
                    r->capacity, r->n, plural(r->n));
    ct_takeaway(run,
                "Into an unbounded channel the same %d send%s returned in %.1f us and left %zu "
                "message%s queued for a receiver that had not started: nothing slows that "
                "producer down, and the backlog is limited only by memory. A bounded channel "
                "turns a slow consumer into a slow producer instead.",
                r->ub_sent, plural(r->ub_sent), r->ub_us, r->ub_queued,
                plural((long long)r->ub_queued));
}

static void report(struct ct_run *run, const struct sync_result *r)
{
    static const char *const cols[] = { "nth|received #", "msg|message",
                                        "blocked_ms|its send blocked ms", NULL };
    struct ct_table *tbl = ct_table_new(run, "received", NULL, cols);
    for (int k = 0; k < r->received && k < MAX_MESSAGES; k++) {
        int v = r->order[k];
        ct_table_row(tbl, CT_INT(k + 1), CT_INT(v),
                     CT_NUM(v >= 0 && v < r->n ? r->blocked_ms[v] : 0, 1));
    }
    ct_result_int(run, "capacity", "capacity", r->capacity, NULL);
    ct_result_int(run, "found_full", "sends that found the buffer full", r->found_full, NULL);
    ct_result_num(run, "blocked_ms", "time the producer spent blocked", r->blocked_total, 1,
                  "ms");
    ct_result_int(run, "max_queued", "most messages seen queued", (long long)r->max_queued,
                  NULL);
    ct_result_num(run, "producer_ahead_ms", "producer finished before the receiver by",
                  r->producer_ahead_ms, 1, "ms");
    ct_result_int(run, "unbounded_queued", "unbounded: queued, no receiver yet",
                  (long long)r->ub_queued, NULL);
    ct_result_num(run, "unbounded_us", "unbounded: time for all the sends", r->ub_us, 1, "us");
    ct_check(run, r->received == r->n && r->in_order == r->received,
             "received %d of %d message%s, in order", r->received, r->n, plural(r->n));
    ct_check(run, r->max_queued <= (size_t)r->capacity,
             "never more queued than the capacity (at most %zu seen, capacity %ld)",
             r->max_queued, r->capacity);
    if (r->capacity > 0 && r->found_full > 0)
        ct_check(run, r->first_full >= r->capacity,
                 "the first send to find no room was #%d, after the %ld the buffer holds",
                 r->first_full, r->capacity);
    ct_check(run, r->ub_sent == r->n && r->ub_queued == (size_t)r->n,
             "unbounded: %d of %d send%s went in without a receiver (%zu queued)",
             r->ub_sent, r->n, plural(r->n), r->ub_queued);
    report_takeaway(run, r);
}

static int sync_channel_run(struct ct_run *run)
{
    int n = (int)ct_param_int(run, "messages");
    long capacity = (long)ct_param_int(run, "capacity");
    double delay = ct_param_num(run, "delay"), work = ct_param_num(run, "work");
    ct_legend(run, CT_RUN, "running");
    ct_legend(run, CT_WAIT, "blocked (producer: no room; receiver: nothing to take)");
    ct_legend(run, CT_SLEEP, "receiver: sleeping (a slow consumer)");
    ct_point_legend(run, 's', "send completed");
    ct_point_legend(run, 'r', "received");

    struct sync_result r = { 0 };
    int rc = run_bounded(run, n, capacity, delay, work, &r);
    if (rc || ct_cancelled(run))
        return rc;
    ct_section(run, "for comparison: the same sends into an unbounded channel");
    if ((rc = run_unbounded(run, n, &r)) != 0 || ct_cancelled(run))
        return rc;
    report(run, &r);
    return 0;
}

static const struct ct_param_spec sync_channel_params[] = {
    { "capacity", CT_PARAM_INT, "2", 0, 16, NULL, "messages the channel holds (0: rendezvous)" },
    { "messages", CT_PARAM_INT, "5", 1, MAX_MESSAGES, NULL, "messages to send" },
    { "delay", CT_PARAM_NUM, "400", 0, 10000, NULL, "ms before the receiver starts" },
    { "work", CT_PARAM_NUM, "200", 0, 10000, NULL, "ms the receiver spends on each message" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_sync_channel = {
    .name = "sync-channel",
    .chapter = 5,
    .title = "A bounded channel applies backpressure",
    .summary = "Capacity 2, a slow receiver: the producer blocks until there is room",
    .intro = "A producer sends five numbers into a channel that holds two. The receiver starts "
             "late and then takes its time over each message, so the producer soon finds the "
             "buffer full and has to wait. Then the same sends go into an unbounded channel, "
             "for comparison.",
    .params = sync_channel_params,
    .smoke = "delay=40 work=20",
    .run = sync_channel_run,
};
