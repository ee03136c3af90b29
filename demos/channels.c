/* channels.c - demo `channels`: one producer, one receiver, and a channel
 * that closes itself when the producer is done.
 *
 * Shows: a producer thread sends four heap-allocated strings a fixed gap
 * apart and then drops its sender; the main thread receives in a loop that
 * ends when recv reports the channel closed.  Each string changes owner
 * twice: producer -> channel (the producer's pointer reads NULL after the
 * send) -> receiver (who frees it).
 * Watch for: how long each recv waited and how little CPU main used while
 * it did, the producer's pointer being NULL after each send, and the loop
 * ending by itself right after the drop.
 * Lesson: mpsc (chapter 5).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "demo.h"
#include "chan.h"
#include "clock.h"

static const char *const words[] = { "hello", "from", "the", "thread" };
#define NWORDS ((int)(sizeof words / sizeof words[0]))
#define TEXT_MAX 16

/* Strings freed by the channel itself: only ones never received. */
static atomic_int dropped_by_channel;

static void drop_string(void *msg)
{
    char *s;
    memcpy(&s, msg, sizeof s);
    free(s);
    atomic_fetch_add(&dropped_by_channel, 1);
}

struct producer {
    struct ct_run *run;
    struct ct_sender tx;        /* moved in: this thread drops it */
    double gap_ms;
    int sent, allocated;
    int64_t first_send_ns, last_send_ns;
    int64_t drop_ns;            /* when it dropped its sender */
};

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    struct ct_run *run = p->run;
    ct_mark(run, CT_RUN);
    for (int i = 0; i < NWORDS; i++) {
        char *msg = strdup(words[i]);
        if (!msg)
            break;
        p->allocated++;
        ct_point(run, 's');
        int64_t now = ct_clock_ns();
        int rc = ct_chan_send(&p->tx, &msg, ct_cancel_event(run));
        if (rc != 0) {
            free(msg);          /* a failed send gives the string back */
            break;
        }
        p->first_send_ns = p->sent ? p->first_send_ns : now;
        p->last_send_ns = now;
        p->sent++;
        ct_say(run, "sent \"%s\"; my pointer: %s", words[i],
               msg ? "still set (a bug!)" : "NULL (the channel owns it)");
        ct_mark(run, CT_SLEEP);
        bool slept = ct_sleep_ms(run, p->gap_ms);
        ct_mark(run, CT_RUN);
        if (!slept)
            break;
    }
    p->drop_ns = ct_clock_ns();
    ct_chan_drop_sender(&p->tx);
    ct_say(run, "dropped my sender: none left, the channel is closed");
    ct_mark(run, CT_IDLE);
    return NULL;
}

/* What main saw, one entry per string received. */
struct receipt {
    char text[TEXT_MAX];
    double waited_ms;
};

struct channels_result {
    int sent, allocated;        /* the producer's counts */
    int received, in_order, freed, by_channel;
    struct receipt got[NWORDS];
    bool closed;                /* recv said closed, without help */
    double waited_ms, longest_ms;
    double cpu_ms;              /* main's CPU time during the receive loop */
    double send_gap_ms;         /* mean time between the producer's sends */
    double close_latency_ms;    /* from the drop to recv reporting closed */
};

/* `for msg in rx`: receive until recv reports the channel closed (or the
 * run is cancelled).  Each string received is main's, so main frees it. */
static void receive_all(struct ct_run *run, struct ct_receiver *rx, struct channels_result *r,
                        int64_t *closed_ns)
{
    double cpu0 = (double)ct_thread_cpu_ns() / 1e6;
    for (;;) {
        char *msg;
        int64_t t0 = ct_clock_ns();
        ct_mark(run, CT_WAIT);
        int rc = ct_chan_recv(rx, &msg, ct_cancel_event(run));
        ct_mark(run, CT_RUN);
        double w = (double)(ct_clock_ns() - t0) / 1e6;
        if (rc == -EPIPE) {
            *closed_ns = ct_clock_ns();
            r->closed = true;
            ct_point(run, 'x');
            ct_say(run, "recv: closed after waiting %.1f ms; the loop ends", w);
            break;
        }
        if (rc)
            break;              /* cancelled */
        ct_point(run, 'r');
        r->waited_ms += w;
        r->longest_ms = w > r->longest_ms ? w : r->longest_ms;
        if (r->received < NWORDS) {
            struct receipt *g = &r->got[r->received];
            snprintf(g->text, sizeof g->text, "%s", msg);
            g->waited_ms = w;
            r->in_order += strcmp(msg, words[r->received]) == 0;
        }
        r->received++;
        ct_say(run, "got \"%s\" after %.1f ms; mine now: I free it", msg, w);
        free(msg);
        r->freed++;
    }
    r->cpu_ms = (double)ct_thread_cpu_ns() / 1e6 - cpu0;
    ct_mark(run, CT_IDLE);
}

/* Start the producer, receive everything, join it.  0 or a negative errno. */
static int run_channel(struct ct_run *run, double gap_ms, struct channels_result *r)
{
    struct producer p = { .run = run, .gap_ms = gap_ms };
    struct ct_receiver rx;
    atomic_store(&dropped_by_channel, 0);
    int rc = ct_chan_open(&p.tx, &rx, sizeof(char *), CT_CHAN_UNBOUNDED, drop_string);
    if (rc)
        return rc;
    struct ct_thread t;
    if ((rc = ct_thread_start(run, &t, producer_main, &p, "producer")) != 0) {
        ct_chan_drop_sender(&p.tx);
        ct_chan_drop_receiver(&rx);
        return rc;
    }
    /* the sender now belongs to the producer thread: main only receives */
    int64_t closed_ns = 0;
    receive_all(run, &rx, r, &closed_ns);
    ct_thread_join(&t, NULL);
    ct_chan_drop_receiver(&rx);     /* the last handle: the channel is freed */

    r->sent = p.sent;
    r->allocated = p.allocated;
    r->by_channel = atomic_load(&dropped_by_channel);
    r->send_gap_ms = p.sent > 1 ? (double)(p.last_send_ns - p.first_send_ns) / 1e6 / (p.sent - 1)
                                : 0;
    r->close_latency_ms = r->closed ? (double)(closed_ns - p.drop_ns) / 1e6 : 0;
    return 0;
}

static void report(struct ct_run *run, const struct channels_result *r)
{
    static const char *const cols[] = { "n|#", "text|string", "waited_ms|recv waited ms", NULL };
    struct ct_table *t = ct_table_new(run, "received", "strings in the order received", cols);
    for (int i = 0; i < r->received && i < NWORDS; i++)
        ct_table_row(t, CT_INT(i + 1), CT_TEXT(r->got[i].text), CT_NUM(r->got[i].waited_ms, 1));
    ct_result_int(run, "sent", "strings sent", r->sent, NULL);
    ct_result_int(run, "received", "strings received", r->received, NULL);
    ct_result_num(run, "waited_ms", "time main waited for strings", r->waited_ms, 1, "ms");
    ct_result_num(run, "cpu_ms", "main's CPU time meanwhile", r->cpu_ms, 2, "ms");
    ct_result_num(run, "send_gap_ms", "mean time between sends", r->send_gap_ms, 1, "ms");
    ct_result_num(run, "close_latency_ms", "from the drop to recv saying closed",
                  r->close_latency_ms, 2, "ms");
    ct_check(run, r->received == NWORDS && r->sent == NWORDS, "received %d of %d strings",
             r->received, NWORDS);
    ct_check(run, r->in_order == NWORDS, "they arrived in the order sent (%d of %d)", r->in_order,
             NWORDS);
    ct_check(run, r->closed, "the receive loop ended on its own when the sender was dropped");
    ct_check(run, r->freed + r->by_channel == r->allocated,
             "each string freed once: %d by the receiver, %d by the channel, of %d", r->freed,
             r->by_channel, r->allocated);

    if (r->waited_ms < 1)
        ct_takeaway(run,
                    "Main waited only %.2f ms in all: with the producer's sends %.1f ms apart "
                    "there was hardly anything to wait for. Give gap= a few hundred ms to see a "
                    "receiver block.", r->waited_ms, r->send_gap_ms);
    else if (r->cpu_ms < r->waited_ms / 10)
        ct_takeaway(run,
                    "Main spent %.0f ms blocked in recv (the longest wait %.0f ms; sends came "
                    "%.0f ms apart) and used %.2f ms of CPU in that time: a receive on an empty "
                    "channel sleeps until a message arrives, with no polling loop.",
                    r->waited_ms, r->longest_ms, r->send_gap_ms, r->cpu_ms);
    else
        ct_takeaway(run,
                    "Main spent %.0f ms in recv but also used %.2f ms of CPU, too much to show "
                    "that it slept (a sanitizer build, or a busy machine?). Run it again on a "
                    "plain build to see the CPU figure fall to a small fraction of the wait.",
                    r->waited_ms, r->cpu_ms);
    ct_takeaway(run,
                "The loop needed no count and no end marker: %.2f ms after the producer dropped "
                "its only sender, recv returned 'closed'. Each string had one owner at a time, "
                "and its last owner, the receiver, freed it.",
                r->close_latency_ms);
}

static int channels_run(struct ct_run *run)
{
    double gap_ms = ct_param_num(run, "gap");
    ct_legend(run, CT_RUN, "running");
    ct_legend(run, CT_SLEEP, "sleeping between sends");
    ct_legend(run, CT_WAIT, "blocked in recv");
    ct_point_legend(run, 's', "send");
    ct_point_legend(run, 'r', "message received");
    ct_point_legend(run, 'x', "recv: channel closed");

    struct channels_result r = { 0 };
    int rc = run_channel(run, gap_ms, &r);
    if (rc || ct_cancelled(run))
        return rc;
    report(run, &r);
    return 0;
}

static const struct ct_param_spec channels_params[] = {
    { "gap", CT_PARAM_NUM, "500", 0, 5000, NULL, "ms the producer sleeps after each send" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_channels = {
    .name = "channels",
    .chapter = 5,
    .title = "Sending strings to another thread",
    .summary = "A producer sends four strings and drops its sender; the receiver's loop ends "
               "by itself",
    .intro = "A producer thread sends four heap strings through a channel, pausing after each, "
             "and then drops its sender. The main thread receives until the channel reports "
             "that it is closed. Watch who owns each string at every step.",
    .params = channels_params,
    .smoke = "gap=20",
    .run = channels_run,
};
