/* producers.c - demo `producers`: many senders, one receiver, and the drop
 * that everybody forgets.
 *
 * Shows: main clones its sender once per producer thread; each producer
 * sends its messages (one by default, `messages` to send more) and drops
 * its clone.  Run 1 ("dropped"): main drops its own original sender, and
 * the receive loop ends by itself once the last producer is done.  Run 2
 * ("forgotten"): main keeps its original, so the channel never closes; the
 * receive loop, which would hang forever, waits with a timeout instead,
 * and reports the hang once every producer has finished: the sender count
 * still says 1, main's own.
 * Watch for: arrival order (not producer order; with messages > 1 each
 * producer's own messages still in sequence), the live sender count in the
 * second run, and recv returning "closed" the moment main finally drops
 * its sender.
 * Lesson: multiple-producers (chapter 5).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#define PL(n) ((n) == 1 ? "" : "s")     /* plural ending for a count */
#define WERE(n) ((n) == 1 ? "was" : "were")
#include "chan.h"
#include "clock.h"

#define MAX_PRODUCERS 32
#define MAX_MESSAGES 1000
#define SHOW_ARRIVALS 20        /* live lines for the first arrivals only */

/* Messages are values: the text travels inside the message, so nothing
 * needs freeing on either side. */
struct text_msg {
    int producer;
    int seq;                    /* 0, 1, 2, ... per producer */
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
    int n, messages, number;    /* producers, messages each, section number */
    double jitter_ms, wait_ms;
    atomic_int finished;        /* producers that have dropped their clone */
    struct producer p[MAX_PRODUCERS];
};

/* What the receiver saw of one producer. */
struct from_producer {
    int received;
    int in_sequence;            /* arrivals whose seq was the next expected */
    int next_seq;
    int first_pos, last_pos;    /* arrival positions, 1-based */
};

/* What one run of the receive loop saw. */
struct outcome {
    int received, strays;       /* strays: a producer id out of range */
    int switches;               /* arrivals from another producer than the last */
    int last_producer;
    struct from_producer from[MAX_PRODUCERS];
    bool closed;                /* recv said closed without help */
    bool hang_reported;         /* all producers done, channel still open */
    int senders_at_hang;
    double hang_wait_ms;        /* how long recv had waited when we called it a hang */
    bool closed_after_fix;      /* recv said closed right after the late drop */
};

/* A pause in [0, 1) of the jitter, different for each producer and
 * message, so the producers send in a shuffled, interleaved order. */
static double pause_share(int id, int k)
{
    return (double)((id * 7 + k * 13 + 3) % 17) / 17;
}

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    struct scenario *sc = p->sc;
    struct ct_run *run = sc->run;
    int k = 0;
    for (; k < sc->messages; k++) {
        ct_mark(run, CT_SLEEP);
        bool slept = ct_sleep_ms(run, sc->jitter_ms * pause_share(p->id, k) /
                                          sc->messages);
        ct_mark(run, CT_RUN);
        if (!slept)
            break;
        struct text_msg m = { .producer = p->id, .seq = k };
        snprintf(m.text, sizeof m.text, "message %d from producer %d", k, p->id);
        ct_point(run, 's');
        if (ct_chan_send(&p->tx, &m, ct_cancel_event(run)) != 0)
            break;
    }
    ct_say(run, "sent %d message%s; dropping my clone", k, k == 1 ? "" : "s");
    ct_chan_drop_sender(&p->tx);
    atomic_fetch_add(&sc->finished, 1);
    ct_mark(run, CT_IDLE);
    return NULL;
}

/* Book one arrival: per producer, count it and whether it came in sequence. */
static void note_arrival(struct scenario *sc, struct outcome *o, const struct text_msg *m)
{
    o->received++;
    if (m->producer < 0 || m->producer >= sc->n) {
        o->strays++;
        return;
    }
    struct from_producer *f = &o->from[m->producer];
    f->received++;
    f->in_sequence += m->seq == f->next_seq;
    f->next_seq = m->seq + 1;
    f->first_pos = f->first_pos ? f->first_pos : o->received;
    f->last_pos = o->received;
    o->switches += o->received > 1 && m->producer != o->last_producer;
    o->last_producer = m->producer;
}

/* Every producer is done and the channel is still open: say so, drop the
 * original sender late, and see recv report closed. */
static void call_hang(struct scenario *sc, struct ct_sender *original, struct ct_receiver *rx,
                      int64_t since, int64_t wait_ns, struct outcome *o)
{
    struct ct_run *run = sc->run;
    o->hang_reported = true;
    o->senders_at_hang = ct_chan_senders(rx->chan);
    o->hang_wait_ms = (double)(ct_clock_ns() - since) / 1e6;
    ct_point(run, '!');
    if (sc->n == 1)
        ct_say(run, "HANG: no message for %.0f ms, the producer done,", o->hang_wait_ms);
    else
        ct_say(run, "HANG: no message for %.0f ms, all %d producers done,", o->hang_wait_ms,
               sc->n);
    ct_say(run, "yet %d sender is alive (mine); no timeout, no end", o->senders_at_hang);
    ct_chan_drop_sender(original);
    ct_say(run, "dropping my original sender now, late");
    struct text_msg m;
    ct_mark(run, CT_WAIT);
    int rc = ct_chan_recv_timeout(rx, &m, wait_ns, ct_cancel_event(run));
    ct_mark(run, CT_RUN);
    o->closed_after_fix = rc == -EPIPE;
    if (o->closed_after_fix) {
        ct_point(run, 'x');
        ct_say(run, "recv: closed, at once");
    }
}

/* One receive loop over the channel, as `for msg in rx` would run it, with
 * a timeout standing guard against the hang. */
static void receive_all(struct scenario *sc, struct ct_sender *original, struct ct_receiver *rx,
                        struct outcome *o)
{
    struct ct_run *run = sc->run;
    int64_t wait_ns = (int64_t)(sc->wait_ms * ct_scale(run) * 1e6);
    int64_t since = ct_clock_ns();
    for (;;) {
        struct text_msg m;
        ct_mark(run, CT_WAIT);
        int rc = ct_chan_recv_timeout(rx, &m, wait_ns, ct_cancel_event(run));
        ct_mark(run, CT_RUN);
        if (rc == 0) {
            ct_point(run, 'r');
            note_arrival(sc, o, &m);
            if (o->received <= SHOW_ARRIVALS)
                ct_say(run, "got \"%s\"", m.text);
            else if (o->received == SHOW_ARRIVALS + 1)
                ct_say(run, "... (more arrivals not shown: see the table)");
            since = ct_clock_ns();
        } else if (rc == -EPIPE) {
            o->closed = true;
            ct_point(run, 'x');
            ct_say(run, "recv: closed; every sender is gone, loop over");
            break;
        } else if (rc != -ETIMEDOUT) {
            break;                      /* cancelled */
        } else if (atomic_load(&sc->finished) == sc->n) {
            /* every producer has dropped its clone, yet the channel is
             * open: somebody still holds a sender */
            call_hang(sc, original, rx, since, wait_ns, o);
            break;
        }                               /* else a producer is still on its way */
    }
    ct_mark(run, CT_IDLE);
}

/* Start the producers, each with its own clone, receive, join.  0 or a
 * negative errno. */
static int run_scenario(struct scenario *sc, bool drop_original, struct outcome *o)
{
    struct ct_run *run = sc->run;
    struct ct_sender tx;
    struct ct_receiver rx;
    int rc = ct_chan_open(&tx, &rx, sizeof(struct text_msg), CT_CHAN_UNBOUNDED, NULL);
    if (rc)
        return rc;
    int started = 0;
    for (; started < sc->n; started++) {
        struct producer *p = &sc->p[started];
        p->sc = sc;
        p->id = started;
        ct_chan_clone_sender(&tx, &p->tx);
        rc = ct_thread_start(run, &p->thread, producer_main, p, "%d.producer-%d", sc->number,
                             started);
        if (rc) {
            ct_chan_drop_sender(&p->tx);
            break;
        }
    }
    ct_say(run, "cloned my sender for %d producer%s: %d senders alive", started,
           started == 1 ? "" : "s", ct_chan_senders(rx.chan));
    if (drop_original || rc) {
        ct_chan_drop_sender(&tx);
        ct_say(run, "dropped my own sender; only %s open",
               sc->n == 1 ? "the clone keeps it" : "clones keep it");
    } else {
        ct_say(run, "keeping my own sender (this is the bug)");
    }
    if (rc == 0)
        receive_all(sc, &tx, &rx, o);
    for (int i = 0; i < started; i++)
        ct_thread_join(&sc->p[i].thread, NULL);
    ct_chan_drop_sender(&tx);           /* harmless if already dropped */
    ct_chan_drop_receiver(&rx);
    return rc;
}

/* Set up and run one scenario into *o.  0 or a negative errno. */
static int scenario(struct ct_run *run, int number, bool drop_original, struct outcome *o)
{
    struct scenario *sc = calloc(1, sizeof *sc);
    if (!sc)
        return -ENOMEM;
    sc->run = run;
    sc->number = number;
    sc->n = (int)ct_param_int(run, "producers");
    sc->messages = (int)ct_param_int(run, "messages");
    sc->jitter_ms = ct_param_num(run, "jitter");
    sc->wait_ms = ct_param_num(run, "wait");
    atomic_init(&sc->finished, 0);
    int rc = run_scenario(sc, drop_original, o);
    free(sc);
    return rc;
}

/* How many producers had every message arrive, exactly once, in sequence. */
static int producers_in_sequence(const struct outcome *o, int n, int messages)
{
    int good = 0;
    for (int i = 0; i < n; i++)
        good += o->from[i].received == messages && o->from[i].in_sequence == messages;
    return good;
}

/* The per-producer table and the delivery checks shared by both runs. */
static void report_delivery(struct ct_run *run, const char *key, const char *tag,
                            const struct outcome *o, int n, int messages)
{
    static const char *const cols[] = { "producer", "received", "in_sequence|in sequence",
                                        "first|first #", "last|last #", NULL };
    char title[64];
    snprintf(title, sizeof title, "%s: arrivals by producer", tag);
    struct ct_table *t = ct_table_new(run, key, title, cols);
    for (int i = 0; i < n; i++)
        ct_table_row(t, CT_INT(i), CT_INT(o->from[i].received), CT_INT(o->from[i].in_sequence),
                     CT_INT(o->from[i].first_pos), CT_INT(o->from[i].last_pos));
    int good = producers_in_sequence(o, n, messages);
    ct_check(run, o->received == n * messages && o->strays == 0 && good == n,
             "%s: %d of %d arrived; once each, in sequence: %d of %d producer%s", tag,
             o->received, n * messages, good, n, PL(n));
}

/* How the receive loop ended, in words. */
static const char *ending(const struct outcome *o)
{
    return o->closed ? "closed" : o->hang_reported ? "hang" : "cancelled";
}

static void report_dropped(struct ct_run *run, const struct outcome *o, int n, int messages)
{
    ct_result_text(run, "dropped_end", "run 1: the receive loop ended by", ending(o));
    ct_result_int(run, "dropped_received", "run 1: messages received", o->received, NULL);
    ct_result_int(run, "dropped_switches", "run 1: arrivals switching producer", o->switches,
                  NULL);
    for (int i = 0; i < n; i++) {
        if (o->from[i].first_pos == 1)
            ct_result_int(run, "dropped_first", "run 1: producer whose message came first", i,
                          NULL);
    }
    report_delivery(run, "dropped", "run 1", o, n, messages);
    ct_check(run, o->closed && !o->hang_reported,
             "run 1: the channel closed by itself when the last clone was dropped");
    char clones[64] = "the one clone was the only sender";
    if (n != 1)
        snprintf(clones, sizeof clones, "the %d clones were the only senders", n);
    ct_takeaway(run,
                "With main's own sender dropped right after cloning, %s, and the receive "
                "loop ended by itself once %s producer had finished.", clones,
                n == 1 ? "the" : "the last");
    if (n == 1)
        return;
    if (messages == 1) {
        bool by_producer = true;
        for (int i = 0; i < n; i++)
            by_producer = by_producer && o->from[i].first_pos == i + 1;
        ct_takeaway(run,
                    "Arrival order is the order the threads happened to send in (see first # "
                    "per producer)%s. With one message each, this run cannot show that a "
                    "channel keeps each sender's own messages in order: run it with "
                    "messages=5.",
                    by_producer ? "; this time that was producer order, by chance, not "
                                  "because the channel sorts senders"
                                : ", not producer order");
    }
    else
        ct_takeaway(run,
                    "The %d messages switched producer %d times on the way in: the order "
                    "between senders is whatever the threads made it. Yet for %d of %d "
                    "producers all %d messages came in the order that producer sent them: a "
                    "channel keeps each sender's messages in sequence.",
                    o->received, o->switches, producers_in_sequence(o, n, messages), n,
                    messages);
}

static void report_forgotten(struct ct_run *run, const struct outcome *o, int n, int messages)
{
    ct_result_text(run, "forgotten_end", "run 2: the receive loop ended by", ending(o));
    ct_result_int(run, "forgotten_received", "run 2: messages received", o->received, NULL);
    ct_result_int(run, "senders_at_hang", "run 2: senders alive, all producers done",
                  o->senders_at_hang, NULL);
    ct_result_num(run, "hang_wait_ms", "run 2: recv had waited this long", o->hang_wait_ms, 0,
                  "ms");
    report_delivery(run, "forgotten", "run 2", o, n, messages);
    ct_check(run, o->hang_reported && o->senders_at_hang == 1,
             "run 2: all producers done, the channel still open: %d sender alive",
             o->senders_at_hang);
    ct_check(run, o->closed_after_fix,
             "run 2: recv reported closed as soon as main dropped its sender");
    char got[48] = "the one message";
    if (o->received != 1)
        snprintf(got, sizeof got, "all %d messages", o->received);
    ct_takeaway(run,
                "With main's sender kept, %s still arrived, but afterwards recv "
                "just waited: %.0f ms after the last message, with every producer finished, "
                "the channel had %d live sender and no way to know it would never send. "
                "The receiver waits until every sender is gone: drop the original as soon "
                "as you have cloned it.",
                got,
                o->hang_wait_ms, o->senders_at_hang);
}

static int producers_run(struct ct_run *run)
{
    int n = (int)ct_param_int(run, "producers");
    int messages = (int)ct_param_int(run, "messages");
    struct outcome dropped = { 0 }, forgotten = { 0 };
    bool ran_dropped = false, ran_forgotten = false;
    ct_legend(run, CT_WAIT, "blocked in recv");
    ct_legend(run, CT_SLEEP, "pausing before a send");
    ct_point_legend(run, 's', "send");
    ct_point_legend(run, 'r', "received");
    ct_point_legend(run, 'x', "recv: closed");
    ct_point_legend(run, '!', "hang detected");

    if (ct_param_has(run, "scenarios", "dropped")) {
        ct_section(run, "1. the original sender dropped, as it should be");
        int rc = scenario(run, 1, true, &dropped);
        if (rc || ct_cancelled(run))
            return rc;
        ran_dropped = true;
    }
    if (ct_param_has(run, "scenarios", "forgotten")) {
        ct_section(run, "2. the original sender kept by mistake (%.0f ms timeout)",
                   ct_param_num(run, "wait") * ct_scale(run));
        int rc = scenario(run, 2, false, &forgotten);
        if (rc || ct_cancelled(run))
            return rc;
        ran_forgotten = true;
    }
    if (ran_dropped)
        report_dropped(run, &dropped, n, messages);
    if (ran_forgotten)
        report_forgotten(run, &forgotten, n, messages);
    return 0;
}

static const struct ct_param_spec producers_params[] = {
    { "producers", CT_PARAM_INT, "5", 1, MAX_PRODUCERS, NULL, "producer threads" },
    { "messages", CT_PARAM_INT, "1", 1, MAX_MESSAGES, NULL, "messages each producer sends" },
    { "jitter", CT_PARAM_NUM, "100", 0, 5000, NULL,
      "ms: a producer's pauses before its sends add up to at most this" },
    { "wait", CT_PARAM_NUM, "300", 10, 10000, NULL,
      "ms recv waits before the second run calls it a hang" },
    { "scenarios", CT_PARAM_SET, "all", 0, 0, "dropped,forgotten",
      "which runs: the original sender dropped, or forgotten" },
    CT_PARAMS_END,
};

static const struct ct_predict producers_predict = {
    .question = "{producers} producers, numbered from 0, start together; each pauses before "
                "it sends, a different while for each (up to {jitter} ms in all). Whose "
                "message will the receiver get first?",
    .result = "dropped_first",
    .unit = "producer",
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
    .smoke = "producers=3 messages=2 jitter=10 wait=50",
    .run = producers_run,
    .predict = &producers_predict,
};
