/* producers.c - demo `producers`: many senders, one receiver, and the drop
 * that everybody forgets.
 *
 * Shows: main clones its sender once per producer thread; each producer
 * sends one message and drops its clone.  Run 1 ("dropped"): main drops its
 * own original sender, and the receive loop ends by itself once the last
 * producer is done.  Run 2 ("forgotten"): main keeps its original, so the
 * channel never closes; the receive loop, which would hang forever, waits
 * with a timeout instead, and reports the hang once every producer has
 * finished: the sender count still says 1, main's own.
 * Watch for: arrival order (not producer order), the live sender count in
 * the second run, and recv returning "closed" the moment main finally drops
 * its sender.
 * Lesson: multiple-producers (chapter 5).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "chan.h"
#include "clock.h"

#define MAX_PRODUCERS 32

/* Messages are values: the text travels inside the message, so nothing
 * needs freeing on either side. */
struct text_msg {
    int producer;
    char text[40];
};

struct scenario;

struct producer {
    struct scenario *sc;
    struct ct_sender tx;        /* this thread's own clone */
    int id;
    struct ct_thread thread;
};

struct scenario {
    struct ct_run *run;
    int n;
    double jitter_ms;
    atomic_int finished;        /* producers that have dropped their clone */
    struct producer p[MAX_PRODUCERS];
};

struct outcome {
    int received;
    bool arrived_all;           /* one message from each producer */
    bool in_id_order;           /* arrival order happened to be 0, 1, 2, ... */
    bool closed;                /* recv said closed without help */
    bool hang_reported;         /* all producers done, channel still open */
    int senders_at_hang;
    double hang_wait_ms;        /* how long recv had waited when we called it a hang */
    bool closed_after_fix;      /* recv said closed right after the late drop */
};

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    struct ct_run *run = p->sc->run;
    /* a different pause per producer, so they finish in a shuffled order */
    ct_mark(run, CT_SLEEP);
    bool slept = ct_sleep_ms(run, p->sc->jitter_ms * ((p->id * 7 + 3) % p->sc->n) / p->sc->n);
    ct_mark(run, CT_RUN);
    if (slept) {
        struct text_msg m = { .producer = p->id };
        snprintf(m.text, sizeof m.text, "message from producer %d", p->id);
        ct_point(run, 's');
        if (ct_chan_send(&p->tx, &m, ct_cancel_event(run)) == 0)
            ct_say(run, "sent my message, dropping my clone of the sender");
    }
    ct_chan_drop_sender(&p->tx);
    atomic_fetch_add(&p->sc->finished, 1);
    ct_mark(run, CT_IDLE);
    return NULL;
}

/* One receive loop over the channel, as `for msg in rx` would run it, with
 * a timeout standing guard against the hang. */
static void receive_all(struct scenario *sc, struct ct_sender *original,
                        struct ct_receiver *rx, double wait_ms, struct outcome *o)
{
    struct ct_run *run = sc->run;
    bool seen[MAX_PRODUCERS] = { false };
    int64_t wait_ns = (int64_t)(wait_ms * ct_scale(run) * 1e6);
    int64_t since = ct_clock_ns();
    o->in_id_order = true;
    for (;;) {
        struct text_msg m;
        ct_mark(run, CT_WAIT);
        int rc = ct_chan_recv_timeout(rx, &m, wait_ns, ct_cancel_event(run));
        ct_mark(run, CT_RUN);
        if (rc == 0) {
            ct_point(run, 'r');
            o->received++;
            if (m.producer >= 0 && m.producer < sc->n)
                seen[m.producer] = true;
            o->in_id_order = o->in_id_order && m.producer == o->received - 1;
            ct_say(run, "got \"%s\"", m.text);
            since = ct_clock_ns();
            continue;
        }
        if (rc == -EPIPE) {
            o->closed = true;
            ct_point(run, 'x');
            ct_say(run, "recv: closed. Every sender is gone, the loop is over");
            break;
        }
        if (rc != -ETIMEDOUT)
            break;                      /* cancelled */
        if (atomic_load(&sc->finished) < sc->n)
            continue;                   /* a producer is still on its way: not a hang yet */
        /* every producer has finished and dropped its clone, yet the
         * channel is open: somebody still holds a sender */
        o->hang_reported = true;
        o->senders_at_hang = ct_chan_senders(rx->chan);
        o->hang_wait_ms = (double)(ct_clock_ns() - since) / 1e6;
        ct_point(run, '!');
        ct_say(run, "HANG: recv has waited %.0f ms; all %d producers are done, but %d sender "
               "is still alive (mine). Without a timeout this loop would never end.",
               o->hang_wait_ms, sc->n, o->senders_at_hang);
        ct_chan_drop_sender(original);
        ct_say(run, "dropping my original sender now, late");
        ct_mark(run, CT_WAIT);
        rc = ct_chan_recv_timeout(rx, &m, wait_ns, ct_cancel_event(run));
        ct_mark(run, CT_RUN);
        o->closed_after_fix = rc == -EPIPE;
        if (o->closed_after_fix) {
            ct_point(run, 'x');
            ct_say(run, "recv: closed, at once");
        }
        break;
    }
    ct_mark(run, CT_IDLE);
    o->arrived_all = true;
    for (int i = 0; i < sc->n; i++)
        o->arrived_all = o->arrived_all && seen[i];
}

static int run_scenario(struct ct_run *run, int n, bool drop_original, struct outcome *o)
{
    struct scenario *sc = calloc(1, sizeof *sc);
    if (!sc)
        return -ENOMEM;
    sc->run = run;
    sc->n = n;
    sc->jitter_ms = ct_param_num(run, "jitter");
    atomic_init(&sc->finished, 0);
    struct ct_sender tx;
    struct ct_receiver rx;
    int rc = ct_chan_open(&tx, &rx, sizeof(struct text_msg), CT_CHAN_UNBOUNDED, NULL);
    if (rc) {
        free(sc);
        return rc;
    }
    int started = 0;
    for (; started < n; started++) {
        struct producer *p = &sc->p[started];
        p->sc = sc;
        p->id = started;
        ct_chan_clone_sender(&tx, &p->tx);
        rc = ct_thread_start(run, &p->thread, producer_main, p, "producer-%d", started);
        if (rc) {
            ct_chan_drop_sender(&p->tx);
            break;
        }
    }
    ct_say(run, "cloned my sender for %d producer%s: %d senders alive", started,
           started == 1 ? "" : "s", ct_chan_senders(rx.chan));
    if (drop_original || rc) {
        ct_chan_drop_sender(&tx);
        ct_say(run, "dropped my own sender: only the producers' clones keep the channel open");
    } else {
        ct_say(run, "keeping my own sender (this is the bug)");
    }
    if (rc == 0)
        receive_all(sc, &tx, &rx, ct_param_num(run, "wait"), o);
    for (int i = 0; i < started; i++)
        ct_thread_join(&sc->p[i].thread, NULL);
    ct_chan_drop_sender(&tx);           /* harmless if already dropped */
    ct_chan_drop_receiver(&rx);
    free(sc);
    return rc;
}

static int producers_run(struct ct_run *run)
{
    int n = (int)ct_param_int(run, "producers");
    double wait = ct_param_num(run, "wait");
    struct outcome dropped = { 0 }, forgotten = { 0 };
    bool ran_dropped = false, ran_forgotten = false;
    ct_legend(run, CT_WAIT, "blocked in recv");
    ct_legend(run, CT_SLEEP, "pausing before its send");
    ct_point_legend(run, 's', "send");
    ct_point_legend(run, 'r', "received");
    ct_point_legend(run, 'x', "recv: closed");
    ct_point_legend(run, '!', "hang detected");

    if (ct_param_has(run, "scenarios", "dropped")) {
        ct_section(run, "1. the original sender dropped, as it should be");
        int rc = run_scenario(run, n, true, &dropped);
        if (rc || ct_cancelled(run))
            return rc;
        ran_dropped = true;
    }
    if (ct_param_has(run, "scenarios", "forgotten")) {
        ct_section(run, "2. the original sender kept by mistake (guarded by a %.0f ms timeout)",
                   wait * ct_scale(run));
        int rc = run_scenario(run, n, false, &forgotten);
        if (rc || ct_cancelled(run))
            return rc;
        ran_forgotten = true;
    }

    if (ran_dropped) {
        ct_result_int(run, "dropped_received", "run 1: messages received", dropped.received, NULL);
        ct_check(run, dropped.received == n && dropped.arrived_all,
                 "run 1: %d of %d messages arrived, one from each producer", dropped.received, n);
        ct_check(run, dropped.closed && !dropped.hang_reported,
                 "run 1: the channel closed by itself when the last clone was dropped");
    }
    if (ran_forgotten) {
        ct_result_int(run, "forgotten_received", "run 2: messages received", forgotten.received,
                      NULL);
        ct_result_int(run, "senders_at_hang", "run 2: senders alive once every producer was done",
                      forgotten.senders_at_hang, NULL);
        ct_result_num(run, "hang_wait_ms", "run 2: recv had waited this long", forgotten.hang_wait_ms,
                      0, "ms");
        ct_check(run, forgotten.received == n && forgotten.arrived_all,
                 "run 2: %d of %d messages arrived, one from each producer", forgotten.received, n);
        ct_check(run, forgotten.hang_reported && forgotten.senders_at_hang == 1,
                 "run 2: with every producer finished the channel stayed open, held by %d sender",
                 forgotten.senders_at_hang);
        ct_check(run, forgotten.closed_after_fix,
                 "run 2: recv reported closed as soon as main dropped its sender");
    }
    if (ran_dropped)
        ct_takeaway(run,
                    "With main's own sender dropped right after cloning, the %d clones were the "
                    "only senders, and the receive loop ended by itself once the last producer "
                    "had finished. %s",
                    n, dropped.in_id_order
                           ? "This time the messages came in producer order, but only because "
                             "the threads happened to send in that order: a channel keeps "
                             "each sender's messages in order, not the order between senders."
                           : "The messages came in the order the producers happened to send "
                             "them, not in producer order: a channel keeps each sender's "
                             "messages in order, not the order between senders.");
    if (ran_forgotten)
        ct_takeaway(run,
                    "With main's sender kept, all %d messages still arrived, but afterwards recv "
                    "just waited: %.0f ms after the last message, with every producer finished, "
                    "the channel had %d live sender and no way to know it would never send. "
                    "A sender is a promise that more may come; the receiver waits for every "
                    "promise to be withdrawn. Drop the original as soon as you have cloned it.",
                    n, forgotten.hang_wait_ms, forgotten.senders_at_hang);
    return 0;
}

static const struct ct_param_spec producers_params[] = {
    { "producers", CT_PARAM_INT, "5", 1, MAX_PRODUCERS, NULL, "producer threads, one message each" },
    { "jitter", CT_PARAM_NUM, "100", 0, 5000, NULL,
      "ms: producers pause up to this long before sending" },
    { "wait", CT_PARAM_NUM, "300", 10, 10000, NULL,
      "ms recv waits before the second run calls it a hang" },
    { "scenarios", CT_PARAM_SET, "all", 0, 0, "dropped,forgotten",
      "which runs: the original sender dropped, or forgotten" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_producers = {
    .name = "producers",
    .chapter = 5,
    .title = "Many producers, and the sender you forget to drop",
    .summary = "Cloned senders in five threads; what happens when main keeps its own",
    .intro = "Main clones its sender for each producer thread and receives until the channel "
             "closes. First it drops its own sender, as it should; then it keeps it by "
             "mistake, and the receive loop, guarded by a timeout, shows the hang that would "
             "follow.",
    .params = producers_params,
    .smoke = "producers=3 jitter=10 wait=50",
    .run = producers_run,
};
