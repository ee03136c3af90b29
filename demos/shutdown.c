/* shutdown.c - demo `shutdown`: graceful shutdown with a broadcast.
 *
 * Shows: a feeder queues numbered items on a bounded channel and five
 * workers take them, one at a time, ticking when idle.  On Ctrl-C (the
 * first one asks for a graceful stop; a second would cancel) or, when
 * nobody presses it, after `after` ms, main broadcasts "stop" to the feeder
 * and every worker.  The feeder stops queueing; each worker finishes the
 * item in hand, cleans up and reports.  Main then counts: every accepted
 * item was finished, is still queued, or was handed back untouched by a
 * worker that took it as the stop arrived; none was abandoned half-done.
 * Watch for: each worker's time from the broadcast to "cleaned up" against
 * the deadline, and the item accounting at the end.
 * Lesson: graceful-shutdown (chapter 9).
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "demo.h"
#include "broadcast.h"
#include "chan.h"
#include "clock.h"

#define MAX_WORKERS 32
#define QUEUE_CAPACITY 4

enum stop_reason { STOP_CTRL_C, STOP_TIMER };

/* The broadcast message: plain data, copied to every subscriber. */
struct stop_msg {
    enum stop_reason reason;
};

struct item {
    int id;
};

struct shop {
    struct ct_run *run;
    double tick_ms, work_ms, rate_ms, cleanup_ms;
    struct ct_sender items_tx;      /* the feeder's */
    struct ct_receiver items_rx;    /* main's; workers get clones */
};

struct feeder {
    struct shop *shop;
    struct ct_bcast_sub stop;
    struct ct_thread thread;
    int accepted;                   /* items the channel took */
    bool got_stop;
};

struct worker {
    struct shop *shop;
    int id;
    struct ct_receiver rx;
    struct ct_bcast_sub stop;
    struct ct_thread thread;
    int started, finished, handed_back;
    bool got_stop;
    int64_t noticed_ns, stopped_ns;
};

/* Is there a stop message for this subscriber?  A closed or lagged
 * broadcast counts as stop too: there is nobody left to say otherwise. */
static bool stop_arrived(struct ct_bcast_sub *sub, struct ct_event *cancel, int64_t wait_ns)
{
    struct stop_msg m;
    int rc = wait_ns > 0 ? ct_bcast_recv_timeout(sub, &m, NULL, wait_ns, cancel)
                         : ct_bcast_try_recv(sub, &m, NULL);
    return rc == 0 || rc == -EOVERFLOW || rc == -EPIPE;
}

static void *feeder_main(void *arg)
{
    struct feeder *f = arg;
    struct shop *s = f->shop;
    struct ct_run *run = s->run;
    struct ct_event *cancel = ct_cancel_event(run);
    int64_t rate_ns = (int64_t)(s->rate_ms * ct_scale(run) * 1e6);
    int64_t tick_ns = (int64_t)(s->tick_ms * ct_scale(run) * 1e6);
    ct_mark(run, CT_RUN);
    while (!ct_cancelled(run)) {
        struct item it = { .id = f->accepted + 1 };
        int rc = ct_chan_send_timeout(&s->items_tx, &it, tick_ns, cancel);
        if (rc == 0)
            f->accepted++;
        else if (rc != -ETIMEDOUT)
            break;
        /* the pause between items doubles as the wait for the stop signal */
        ct_mark(run, CT_SLEEP);
        f->got_stop = stop_arrived(&f->stop, cancel, rc == 0 ? rate_ns : 0);
        ct_mark(run, CT_RUN);
        if (f->got_stop)
            break;
    }
    if (f->got_stop) {
        ct_point(run, 'S');
        ct_say(run, "stop received: %d items accepted, no more will be queued", f->accepted);
    }
    /* with the only sender gone, workers waiting on an empty queue wake up */
    ct_chan_drop_sender(&s->items_tx);
    ct_bcast_unsubscribe(&f->stop);
    ct_mark(run, CT_IDLE);
    return NULL;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct shop *s = w->shop;
    struct ct_run *run = s->run;
    struct ct_event *cancel = ct_cancel_event(run);
    int64_t tick_ns = (int64_t)(s->tick_ms * ct_scale(run) * 1e6);
    bool abandoned = false;
    for (;;) {
        /* between items: has the stop signal come? */
        if ((w->got_stop = stop_arrived(&w->stop, cancel, 0)))
            break;
        struct item it;
        ct_mark(run, CT_WAIT);
        int rc = ct_chan_recv_timeout(&w->rx, &it, tick_ns, cancel);
        if (rc == -ETIMEDOUT) {
            ct_say(run, "working... (idle tick, %d item%s done)", w->finished,
                   w->finished == 1 ? "" : "s");
            continue;
        }
        if (rc == -EPIPE) {
            /* closed and empty: no item will come again, only the stop */
            if ((w->got_stop = stop_arrived(&w->stop, cancel, tick_ns)) || ct_cancelled(run))
                break;
            continue;
        }
        if (rc)
            break;                  /* cancelled */
        if (stop_arrived(&w->stop, cancel, 0)) {
            /* took it as the stop arrived: do not start it, hand it back */
            w->got_stop = true;
            w->handed_back++;
            ct_say(run, "took item #%d just as the stop arrived: handing it back unstarted",
                   it.id);
            break;
        }
        w->started++;
        ct_mark(run, CT_RUN);
        ct_say(run, "working on item #%d", it.id);
        if (!ct_sleep_ms(run, s->work_ms)) {
            abandoned = true;       /* a second Ctrl-C: cancelled mid-item */
            break;
        }
        w->finished++;
    }
    if (w->got_stop && !abandoned) {
        w->noticed_ns = ct_clock_ns();
        ct_point(run, 'S');
        ct_say(run, "stop received after %d item%s; cleaning up", w->finished,
               w->finished == 1 ? "" : "s");
        ct_mark(run, CT_SLEEP);
        if (ct_sleep_ms(run, s->cleanup_ms)) {  /* stands for flushing, closing, saying bye */
            w->stopped_ns = ct_clock_ns();
            ct_say(run, "cleaned up, exiting");
        }
    }
    ct_chan_drop_receiver(&w->rx);
    ct_bcast_unsubscribe(&w->stop);
    ct_mark(run, CT_IDLE);
    return NULL;
}

static void report(struct ct_run *run, struct worker *w, int n, const struct feeder *f,
                   int64_t signal_ns, int64_t joined_ns, int left, double deadline_ms,
                   bool ctrl_c)
{
    static const char *const cols[] = {
        "worker", "items|items done", "noticed_ms|noticed stop ms", "stopped_ms|stopped ms",
        "in_time|within deadline", NULL,
    };
    struct ct_table *t = ct_table_new(run, "workers", "time from the broadcast", cols);
    int finished = 0, started = 0, handed = 0, in_time = 0, got = 0;
    double slowest = 0;
    for (int i = 0; i < n; i++) {
        double noticed = w[i].noticed_ns ? (double)(w[i].noticed_ns - signal_ns) / 1e6 : NAN;
        double stopped = (double)(w[i].stopped_ns - signal_ns) / 1e6;
        bool ok = w[i].stopped_ns != 0 && stopped <= deadline_ms;
        ct_table_row(t, CT_TEXT(w[i].thread.label), CT_INT(w[i].finished), CT_NUM(noticed, 1),
                     CT_NUM(stopped, 1), CT_TEXT(ok ? "yes" : "NO"));
        ct_check(run, ok, "worker-%d stopped %.0f ms after the stop signal (deadline %.0f ms)", i,
                 stopped, deadline_ms);
        finished += w[i].finished;
        started += w[i].started;
        handed += w[i].handed_back;
        in_time += ok;
        got += w[i].got_stop;
        slowest = stopped > slowest ? stopped : slowest;
    }
    double shutdown_ms = (double)(joined_ns - signal_ns) / 1e6;
    ct_result_text(run, "trigger", "shutdown triggered by", ctrl_c ? "Ctrl-C" : "the timer");
    ct_result_num(run, "shutdown_ms", "shutdown took (broadcast to last join)", shutdown_ms, 1,
                  "ms");
    ct_result_int(run, "accepted", "items accepted into the queue", f->accepted, NULL);
    ct_result_int(run, "finished", "items finished", finished, NULL);
    ct_result_int(run, "left_queued", "items still queued, never started", left, NULL);
    ct_result_int(run, "handed_back", "items handed back unstarted", handed, NULL);
    ct_result_int(run, "half_done", "items abandoned half-done", started - finished, NULL);
    ct_check(run, got == n && f->got_stop,
             "the broadcast reached the feeder and all %d workers (%d got it)", n, got);
    ct_check(run, f->accepted == finished + left + handed,
             "no accepted item was lost: %d accepted = %d finished + %d queued + %d handed back",
             f->accepted, finished, left, handed);
    ct_check(run, started == finished, "no item was left half-done (%d started, %d finished)",
             started, finished);

    ct_takeaway(run,
                "%s, main broadcast one stop message and %d of %d workers were done within the "
                "%.0f ms deadline, the slowest %.0f ms after the signal; the whole shutdown took "
                "%.0f ms. A worker notices the signal between items or at its next idle tick, "
                "so the worst case is one item plus the cleanup, not however long the queue is.",
                ctrl_c ? "On Ctrl-C" : "When the timer ran out", in_time, n, deadline_ms,
                slowest, shutdown_ms);
    ct_takeaway(run,
                "Of %d accepted items, %d were finished, %d were still queued and %d were handed "
                "back by a worker that took one as the stop arrived; %d were abandoned midway. "
                "A real service would write the unstarted ones back to durable storage: a "
                "graceful shutdown stops taking work, finishes what it started, and accounts "
                "for the rest.",
                f->accepted, finished, left, handed, started - finished);
}

static int shutdown_run(struct ct_run *run)
{
    int n = (int)ct_param_int(run, "workers");
    double after = ct_param_num(run, "after");
    double deadline = ct_param_num(run, "deadline") * ct_scale(run);
    struct shop s = { .run = run, .tick_ms = ct_param_num(run, "tick"),
                      .work_ms = ct_param_num(run, "work"), .rate_ms = ct_param_num(run, "rate"),
                      .cleanup_ms = ct_param_num(run, "cleanup") };
    struct worker *w = calloc((size_t)n, sizeof *w);
    struct feeder f = { .shop = &s };
    struct ct_bcast_sender stop_tx;
    if (!w)
        return -ENOMEM;
    int rc = ct_chan_open(&s.items_tx, &s.items_rx, sizeof(struct item), QUEUE_CAPACITY, NULL);
    if (rc) {
        free(w);
        return rc;
    }
    if ((rc = ct_bcast_open(&stop_tx, sizeof(struct stop_msg), 1)) != 0) {
        ct_chan_drop_sender(&s.items_tx);
        ct_chan_drop_receiver(&s.items_rx);
        free(w);
        return rc;
    }
    ct_legend(run, CT_RUN, "working on an item");
    ct_legend(run, CT_WAIT, "waiting for an item");
    ct_legend(run, CT_SLEEP, "feeder: pausing; worker: cleaning up");
    ct_point_legend(run, 'B', "stop broadcast");
    ct_point_legend(run, 'S', "stop received");

    /* everyone subscribes before the broadcast can happen */
    ct_bcast_subscribe(&stop_tx, &f.stop);
    int started = 0;
    for (; started < n; started++) {
        struct worker *x = &w[started];
        x->shop = &s;
        x->id = started;
        ct_chan_clone_receiver(&s.items_rx, &x->rx);
        ct_bcast_subscribe(&stop_tx, &x->stop);
        if ((rc = ct_thread_start(run, &x->thread, worker_main, x, "worker-%d", started)) != 0) {
            ct_chan_drop_receiver(&x->rx);
            ct_bcast_unsubscribe(&x->stop);
            break;
        }
    }
    bool feeder_up = false;
    if (rc == 0) {
        rc = ct_thread_start(run, &f.thread, feeder_main, &f, "feeder");
        feeder_up = rc == 0;
    }
    if (!feeder_up) {
        ct_chan_drop_sender(&s.items_tx);
        ct_bcast_unsubscribe(&f.stop);
    }

    bool ctrl_c = false;
    if (rc == 0) {
        ct_say(run, "%d workers running; Ctrl-C shuts them down gracefully (or wait %.0f ms)", n,
               after * ct_scale(run));
        ctrl_c = ct_wait_stop_ms(run, after * ct_scale(run));
        if (!ct_cancelled(run))
            ct_say(run, "%s: broadcasting stop", ctrl_c ? "Ctrl-C" : "time is up");
    }
    int64_t signal_ns = ct_clock_ns();
    struct stop_msg m = { ctrl_c ? STOP_CTRL_C : STOP_TIMER };
    ct_point(run, 'B');
    ct_bcast_send(&stop_tx, &m);    /* also on an early exit: it releases the threads */
    ct_bcast_drop_sender(&stop_tx);
    if (feeder_up)
        ct_thread_join(&f.thread, NULL);
    for (int i = 0; i < started; i++)
        ct_thread_join(&w[i].thread, NULL);
    int64_t joined_ns = ct_clock_ns();

    /* what nobody took is still in the queue: count it, then let it go */
    int left = 0;
    struct item it;
    while (ct_chan_try_recv(&s.items_rx, &it) == 0)
        left++;
    ct_chan_drop_receiver(&s.items_rx);
    if (left)
        ct_say(run, "%d accepted item%s still queued, never started: back to storage for the next "
               "run", left, left == 1 ? "" : "s");
    ct_say(run, "all workers stopped %.1f ms after the broadcast", (double)(joined_ns - signal_ns) / 1e6);

    if (rc == 0 && !ct_cancelled(run))
        report(run, w, n, &f, signal_ns, joined_ns, left, deadline, ctrl_c);
    free(w);
    return rc;
}

static const struct ct_param_spec shutdown_params[] = {
    { "workers", CT_PARAM_INT, "5", 1, MAX_WORKERS, NULL, "worker threads" },
    { "after", CT_PARAM_NUM, "1500", 0, 600000, NULL,
      "ms until the demo stops by itself if nobody presses Ctrl-C" },
    { "tick", CT_PARAM_NUM, "200", 1, 10000, NULL,
      "ms an idle worker waits for an item before ticking" },
    { "work", CT_PARAM_NUM, "150", 0, 10000, NULL, "ms a worker spends on one item" },
    { "rate", CT_PARAM_NUM, "60", 1, 10000, NULL, "ms between items from the feeder" },
    { "cleanup", CT_PARAM_NUM, "100", 0, 10000, NULL, "ms a worker spends cleaning up" },
    { "deadline", CT_PARAM_NUM, "1000", 1, 60000, NULL,
      "ms each worker has, from the broadcast, to finish and clean up" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_shutdown = {
    .name = "shutdown",
    .chapter = 9,
    .title = "Graceful shutdown with a broadcast",
    .summary = "Five workers; on Ctrl-C a broadcast stops them, each finishing its item first",
    .intro = "A feeder queues work for five workers. Press Ctrl-C (or wait for the timer): a "
             "broadcast channel tells every thread to stop, each worker finishes the item in "
             "its hands and cleans up, and the demo accounts for every item it accepted.",
    .params = shutdown_params,
    .smoke = "after=300 tick=40 work=30 rate=10 cleanup=20",
    .flags = CT_DEMO_GRACEFUL,
    .run = shutdown_run,
};
