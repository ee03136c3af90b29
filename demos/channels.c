/* channels.c - demo `channels`: one producer, one receiver, and a channel
 * that closes itself when the producer is done.
 *
 * Shows: a producer thread sends four heap-allocated strings a fixed gap
 * apart and then drops its sender; the main thread receives in a loop that
 * ends when recv reports the channel closed.  Each string changes owner
 * twice: producer -> channel (the producer's pointer reads NULL after the
 * send) -> receiver (who frees it).
 * Watch for: how long each recv waited, the producer's pointer being NULL
 * after each send, and the loop ending by itself right after the drop.
 * Lesson: mpsc (chapter 5).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "chan.h"
#include "clock.h"

static const char *const words[] = { "hello", "from", "the", "thread" };
#define NWORDS ((int)(sizeof words / sizeof words[0]))

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
    int sent;
    int allocated;
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
        int rc = ct_chan_send(&p->tx, &msg, ct_cancel_event(run));
        if (rc != 0) {
            free(msg);          /* a failed send gives the string back */
            break;
        }
        p->sent++;
        ct_say(run, "sent \"%s\"; my pointer is now %s: the channel owns the string", words[i],
               msg ? "still set (a bug!)" : "NULL");
        ct_mark(run, CT_SLEEP);
        bool slept = ct_sleep_ms(run, p->gap_ms);
        ct_mark(run, CT_RUN);
        if (!slept)
            break;
    }
    p->drop_ns = ct_clock_ns();
    ct_chan_drop_sender(&p->tx);
    ct_say(run, "dropped my sender: no sender is left, so the channel is closed");
    ct_mark(run, CT_IDLE);
    return NULL;
}

static int channels_run(struct ct_run *run)
{
    struct producer p = { .run = run, .gap_ms = ct_param_num(run, "gap") };
    struct ct_receiver rx;
    atomic_store(&dropped_by_channel, 0);
    int rc = ct_chan_open(&p.tx, &rx, sizeof(char *), CT_CHAN_UNBOUNDED, drop_string);
    if (rc)
        return rc;
    ct_legend(run, CT_RUN, "running");
    ct_legend(run, CT_SLEEP, "sleeping between sends");
    ct_legend(run, CT_WAIT, "blocked in recv");
    ct_point_legend(run, 's', "send");
    ct_point_legend(run, 'r', "message received");
    ct_point_legend(run, 'x', "recv: channel closed");

    struct ct_thread t;
    if ((rc = ct_thread_start(run, &t, producer_main, &p, "producer")) != 0) {
        ct_chan_drop_sender(&p.tx);
        ct_chan_drop_receiver(&rx);
        return rc;
    }
    /* the sender now belongs to the producer thread: main only receives */
    int received = 0, freed = 0, in_order = 0;
    double waited_ms = 0, longest_ms = 0;
    int64_t closed_ns = 0;
    for (;;) {
        char *msg;
        int64_t t0 = ct_clock_ns();
        ct_mark(run, CT_WAIT);
        rc = ct_chan_recv(&rx, &msg, ct_cancel_event(run));
        ct_mark(run, CT_RUN);
        double w = (double)(ct_clock_ns() - t0) / 1e6;
        if (rc == -EPIPE) {
            closed_ns = ct_clock_ns();
            ct_point(run, 'x');
            ct_say(run, "recv: closed after waiting %.1f ms; the loop ends by itself", w);
            break;
        }
        if (rc)
            break;              /* cancelled */
        ct_point(run, 'r');
        waited_ms += w;
        longest_ms = w > longest_ms ? w : longest_ms;
        in_order += received < NWORDS && strcmp(msg, words[received]) == 0;
        received++;
        ct_say(run, "got \"%s\" after waiting %.1f ms; it is mine now, so I free it", msg, w);
        free(msg);
        freed++;
    }
    ct_mark(run, CT_IDLE);
    ct_thread_join(&t, NULL);
    ct_chan_drop_receiver(&rx);     /* the last handle: the channel is freed */
    if (ct_cancelled(run))
        return 0;

    int by_channel = atomic_load(&dropped_by_channel);
    ct_result_int(run, "sent", "strings sent", p.sent, NULL);
    ct_result_int(run, "received", "strings received", received, NULL);
    ct_result_num(run, "waited_ms", "time main waited for messages", waited_ms, 1, "ms");
    ct_result_num(run, "close_latency_ms", "from the drop to recv reporting closed",
                  (double)(closed_ns - p.drop_ns) / 1e6, 2, "ms");
    ct_check(run, received == p.sent && p.sent == NWORDS, "received %d of %d strings", received,
             NWORDS);
    ct_check(run, in_order == received, "they arrived in the order sent (%d of %d)", in_order,
             received);
    ct_check(run, closed_ns != 0, "the receive loop ended on its own when the sender was dropped");
    ct_check(run, freed + by_channel == p.allocated,
             "every string was freed exactly once: %d by the receiver, %d by the channel, %d "
             "allocated", freed, by_channel, p.allocated);

    ct_takeaway(run,
                "Main spent %.0f ms blocked in recv (the longest single wait %.0f ms) while the "
                "producer paused %.0f ms after each send: a receive on an empty channel sleeps "
                "until a message arrives, with no polling loop in the program.",
                waited_ms, longest_ms, p.gap_ms * ct_scale(run));
    ct_takeaway(run,
                "The loop needed no count and no end marker: %.2f ms after the producer dropped "
                "its only sender, recv returned 'closed'. Forget that drop and the loop waits "
                "forever (demo `producers` shows it). Each string had one owner at a time, and "
                "its last owner, the receiver, freed it.",
                (double)(closed_ns - p.drop_ns) / 1e6);
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
