/* sync-channel.c - demo `sync-channel`: a bounded channel pushes back on a
 * producer that is faster than its consumer.
 *
 * Shows: a producer sends numbered messages into a channel of small
 * capacity as fast as it can, while the receiver starts late and then takes
 * its time over each message.  The first sends go straight into the
 * buffer; once it is full, each send blocks until the receiver makes room.
 * (Each send is first tried with ct_chan_try_send, so "found the buffer
 * full" is counted, not guessed from timings.)
 * Watch for: "blocking" lines, the producer's '.' in the timeline lining up
 * with the receiver's pace, and the buffer never holding more than its
 * capacity.  capacity=0 makes every send a rendezvous.
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
    double blocked_ms[MAX_MESSAGES];
    size_t max_len;             /* most messages seen queued after a send */
    int64_t done_ns;
};

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    struct ct_run *run = p->run;
    ct_mark(run, CT_RUN);
    for (int i = 0; i < p->n; i++) {
        int v = i;
        int rc = ct_chan_try_send(&p->tx, &v);
        if (rc == -EAGAIN) {
            p->found_full++;
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

static int sync_channel_run(struct ct_run *run)
{
    struct producer p = { .run = run, .n = (int)ct_param_int(run, "messages"),
                          .capacity = (long)ct_param_int(run, "capacity") };
    double delay = ct_param_num(run, "delay"), work = ct_param_num(run, "work");
    struct ct_receiver rx;
    int rc = ct_chan_open(&p.tx, &rx, sizeof(int), p.capacity, NULL);
    if (rc)
        return rc;
    ct_legend(run, CT_RUN, "running");
    ct_legend(run, CT_WAIT, "blocked (producer: no room; receiver: nothing to take)");
    ct_legend(run, CT_SLEEP, "receiver: sleeping (a slow consumer)");
    ct_point_legend(run, 's', "send completed");
    ct_point_legend(run, 'r', "received");

    struct ct_thread t;
    if ((rc = ct_thread_start(run, &t, producer_main, &p, "producer")) != 0) {
        ct_chan_drop_sender(&p.tx);
        ct_chan_drop_receiver(&rx);
        return rc;
    }
    ct_mark(run, CT_SLEEP);
    bool go = ct_sleep_ms(run, delay);
    int received = 0, in_order = 0;
    size_t max_len = 0;
    if (go)
        ct_say(run, "starting to receive (%zu message%s waiting)", ct_chan_len(rx.chan),
               ct_chan_len(rx.chan) == 1 ? "" : "s");
    while (go) {
        size_t len = ct_chan_len(rx.chan);
        max_len = len > max_len ? len : max_len;
        int v;
        ct_mark(run, CT_WAIT);
        rc = ct_chan_recv(&rx, &v, ct_cancel_event(run));
        ct_mark(run, CT_RUN);
        if (rc)
            break;              /* -EPIPE: done; or cancelled */
        ct_point(run, 'r');
        in_order += v == received;
        received++;
        ct_say(run, "received %d, now working on it", v);
        ct_mark(run, CT_SLEEP);
        go = ct_sleep_ms(run, work);
    }
    ct_mark(run, CT_IDLE);
    int64_t recv_done_ns = ct_clock_ns();
    ct_chan_drop_receiver(&rx);     /* a blocked producer wakes with -EPIPE */
    ct_thread_join(&t, NULL);
    if (ct_cancelled(run))
        return 0;

    double blocked_total = 0;
    static const char *const cols[] = { "msg|message", "blocked_ms|send blocked ms", NULL };
    struct ct_table *tbl = ct_table_new(run, "sends", NULL, cols);
    for (int i = 0; i < p.sent; i++) {
        blocked_total += p.blocked_ms[i];
        ct_table_row(tbl, CT_INT(i), CT_NUM(p.blocked_ms[i], 1));
    }
    size_t most = p.max_len > max_len ? p.max_len : max_len;
    ct_result_int(run, "capacity", "capacity", p.capacity, NULL);
    ct_result_int(run, "found_full", "sends that found the buffer full", p.found_full, NULL);
    ct_result_num(run, "blocked_ms", "time the producer spent blocked", blocked_total, 1, "ms");
    ct_result_int(run, "max_queued", "most messages seen queued", (long long)most, NULL);
    ct_result_num(run, "producer_ahead_ms", "producer finished before the receiver by",
                  (double)(recv_done_ns - p.done_ns) / 1e6, 1, "ms");
    ct_check(run, received == p.n && in_order == received, "received %d of %d messages, in order",
             received, p.n);
    ct_check(run, most <= (size_t)p.capacity,
             "the buffer never held more than its capacity (at most %zu seen, capacity %ld)",
             most, p.capacity);

    if (p.capacity == 0)
        ct_takeaway(run,
                    "With capacity 0 there is no buffer at all: %d of %d sends found no receiver "
                    "waiting and blocked, %.0f ms in all, until the receiver took the message "
                    "straight from the producer. Each send is a rendezvous: both threads are at "
                    "the hand-off at the same moment.",
                    p.found_full, p.sent, blocked_total);
    else if (p.found_full > 0)
        ct_takeaway(run,
                    "The first %d send%s went straight into the buffer; the other %d found it full "
                    "and blocked, %.0f ms in all, each released only when the receiver took a "
                    "message. That is backpressure: the producer was slowed to the consumer's "
                    "pace and never more than %ld message%s waited, however fast it could have "
                    "produced.",
                    p.sent - p.found_full, p.sent - p.found_full == 1 ? "" : "s", p.found_full,
                    blocked_total, p.capacity, p.capacity == 1 ? "" : "s");
    else
        ct_takeaway(run,
                    "No send found the buffer full: with capacity %ld for %d messages (or a "
                    "receiver quick enough) the producer never had to wait. Lower the capacity "
                    "or raise messages to see it block.",
                    p.capacity, p.n);
    ct_takeaway(run,
                "An unbounded channel would have taken all %d messages at once and let the "
                "backlog grow without limit; a bounded one turns a slow consumer into a slow "
                "producer instead of into memory use.",
                p.n);
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
             "buffer full and has to wait.",
    .params = sync_channel_params,
    .smoke = "delay=40 work=20",
    .run = sync_channel_run,
};
