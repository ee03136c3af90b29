/* shutdown.c - demo `shutdown`: graceful shutdown with a broadcast, and a
 * deadline that ends it.
 *
 * Shows: a feeder queues numbered items on a bounded channel and five
 * workers take them, one at a time, ticking when idle.  On Ctrl-C (the
 * first one asks for a graceful stop; a second would cancel) or, when
 * nobody presses it, after `after` ms, main broadcasts "stop" to the feeder
 * and every worker.  The feeder stops queueing; each worker finishes the
 * item in hand, cleans up and exits.  Main waits for them up to `deadline`
 * ms; any worker still busy then is forced out: its item is rolled back,
 * its cleanup cut short.  Main then audits every accepted item: finished,
 * still queued, handed back unstarted, or rolled back -- exactly one each.
 * Watch for: each worker's time from the broadcast to its exit against the
 * deadline, and the item accounting at the end.  With deadline= below
 * work= plus cleanup=, watch the forced stops instead.
 * Lesson: graceful-shutdown (chapter 9).
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "demo.h"
#define PL(n) ((n) == 1 ? "" : "s")     /* plural ending for a count */
#define WERE(n) ((n) == 1 ? "was" : "were")
#include "broadcast.h"
#include "chan.h"
#include "clock.h"
#include "wait.h"

#define MAX_WORKERS 32
#define QUEUE_CAPACITY 4

enum stop_reason { STOP_CTRL_C, STOP_TIMER };

/* The broadcast message: plain data, copied to every subscriber. */
struct stop_msg {
    enum stop_reason reason;
};

struct item {
    int id;                         /* 1, 2, 3, ... */
};

struct shop {
    struct ct_run *run;
    double tick_ms, work_ms, rate_ms, cleanup_ms;
    struct ct_sender items_tx;      /* the feeder's */
    struct ct_receiver items_rx;    /* main's; workers get clones */
    struct ct_event force;          /* set by main once the deadline has passed */
    struct ct_event all_stopped;    /* set by the last worker to exit */
    atomic_int running;             /* workers not yet exited */
    int max_items;                  /* the feeder queues no more than this */
    atomic_uchar *fates;            /* per item id: how many fates it was given */
    atomic_int strays;              /* fates given to ids never accepted */
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
    int started, finished, handed_back, rolled_back;
    bool got_stop;
    bool forced;                    /* the deadline cut its item or cleanup short */
    bool cleaned;                   /* it finished its cleanup */
    int64_t noticed_ns, exit_ns;
};

/* One accepted item has met its end (finished, handed back, rolled back,
 * or found still queued).  The audit expects exactly one per item. */
static void record_fate(struct shop *s, int id)
{
    if (id >= 1 && id <= s->max_items)
        atomic_fetch_add(&s->fates[id], 1);
    else
        atomic_fetch_add(&s->strays, 1);
}

/* Is there a stop message for this subscriber?  A closed or lagged
 * broadcast counts as stop too: there is nobody left to say otherwise. */
static bool stop_arrived(struct ct_bcast_sub *sub, struct ct_event *cancel, int64_t wait_ns)
{
    struct stop_msg m;
    int rc = wait_ns > 0 ? ct_bcast_recv_timeout(sub, &m, NULL, wait_ns, cancel)
                         : ct_bcast_try_recv(sub, &m, NULL);
    return rc == 0 || rc == -EOVERFLOW || rc == -EPIPE;
}

enum pause_end { PAUSE_DONE, PAUSE_FORCED, PAUSE_CANCELLED };

/* Spend `ms` (scaled) on work or cleanup, unless main forces the stop or
 * the run is cancelled first; both are noticed within one wait slice. */
static enum pause_end pause_for(struct shop *s, double ms)
{
    int64_t end = ct_clock_ns() + (int64_t)(ms * ct_scale(s->run) * 1e6);
    for (;;) {
        if (ct_cancelled(s->run))
            return PAUSE_CANCELLED;
        int64_t left = end - ct_clock_ns();
        if (left <= 0)
            return PAUSE_DONE;
        if (ct_event_is_set(&s->force))
            return PAUSE_FORCED;
        ct_event_wait_timeout(&s->force, left < CT_WAIT_SLICE_NS ? left : CT_WAIT_SLICE_NS);
    }
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
    while (!ct_cancelled(run) && !f->got_stop) {
        int rc = -ETIMEDOUT;
        if (f->accepted < s->max_items) {
            struct item it = { .id = f->accepted + 1 };
            rc = ct_chan_send_timeout(&s->items_tx, &it, tick_ns, cancel);
            if (rc == 0)
                f->accepted++;
            else if (rc != -ETIMEDOUT)
                break;
        }
        /* the pause between items doubles as the wait for the stop signal;
         * after a send that found the queue full, only a look, then retry */
        ct_mark(run, CT_SLEEP);
        f->got_stop = stop_arrived(&f->stop, cancel,
                                   rc == 0 ? rate_ns : f->accepted < s->max_items ? 0 : tick_ns);
        ct_mark(run, CT_RUN);
    }
    if (f->got_stop) {
        ct_point(run, 'S');
        ct_say(run, "stop received: %d item%s accepted, queueing no more", f->accepted,
               PL(f->accepted));
    }
    /* with the only sender gone, workers waiting on an empty queue wake up */
    ct_chan_drop_sender(&s->items_tx);
    ct_bcast_unsubscribe(&f->stop);
    ct_mark(run, CT_IDLE);
    return NULL;
}

/* Take items and work on them until the stop arrives (or the deadline
 * forces the worker out mid-item, or the run is cancelled). */
static void worker_take_items(struct worker *w)
{
    struct shop *s = w->shop;
    struct ct_run *run = s->run;
    struct ct_event *cancel = ct_cancel_event(run);
    int64_t tick_ns = (int64_t)(s->tick_ms * ct_scale(run) * 1e6);
    while (!(w->got_stop = stop_arrived(&w->stop, cancel, 0))) {
        struct item it;
        ct_mark(run, CT_WAIT);
        int rc = ct_chan_recv_timeout(&w->rx, &it, tick_ns, cancel);
        if (rc == -ETIMEDOUT) {
            ct_say(run, "idle tick (%d item%s done)", w->finished, w->finished == 1 ? "" : "s");
            continue;
        }
        if (rc == -EPIPE) {
            /* closed and empty: no item will come again, only the stop */
            if ((w->got_stop = stop_arrived(&w->stop, cancel, tick_ns)) || ct_cancelled(run))
                return;
            continue;
        }
        if (rc)
            return;                 /* cancelled */
        if ((w->got_stop = stop_arrived(&w->stop, cancel, 0))) {
            /* took it as the stop arrived: do not start it, hand it back */
            w->handed_back++;
            record_fate(s, it.id);
            ct_say(run, "took item #%d as the stop came: handing it back", it.id);
            return;
        }
        w->started++;
        ct_mark(run, CT_RUN);
        ct_say(run, "working on item #%d", it.id);
        enum pause_end end = pause_for(s, s->work_ms);
        if (end == PAUSE_CANCELLED)
            return;                 /* a second Ctrl-C: the run reports nothing */
        record_fate(s, it.id);
        if (end == PAUSE_FORCED) {
            w->rolled_back++;
            w->forced = true;
            ct_say(run, "deadline passed mid-item: #%d rolled back", it.id);
            return;
        }
        w->finished++;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct shop *s = w->shop;
    struct ct_run *run = s->run;
    worker_take_items(w);
    if (!ct_cancelled(run)) {
        w->noticed_ns = ct_clock_ns();
        w->got_stop = w->got_stop || stop_arrived(&w->stop, ct_cancel_event(run), 0);
        ct_point(run, 'S');
        if (w->forced) {
            ct_say(run, "forced out by the deadline: no cleanup");
        } else {
            ct_say(run, "stop received after %d item%s; cleaning up", w->finished,
                   w->finished == 1 ? "" : "s");
            ct_mark(run, CT_SLEEP);
            /* stands for flushing, closing, saying goodbye */
            enum pause_end end = pause_for(s, s->cleanup_ms);
            w->cleaned = end == PAUSE_DONE;
            w->forced = end == PAUSE_FORCED;
            ct_say(run, "%s", w->cleaned ? "cleaned up, exiting"
                              : w->forced ? "deadline passed: cleanup cut short" : "cancelled");
        }
    }
    w->exit_ns = ct_clock_ns();
    ct_chan_drop_receiver(&w->rx);
    ct_bcast_unsubscribe(&w->stop);
    ct_mark(run, CT_IDLE);
    if (atomic_fetch_sub(&s->running, 1) == 1)
        ct_event_set(&s->all_stopped);
    return NULL;
}

/* ---- main's side -------------------------------------------------------- */

struct config {
    int n;
    double after_ms, deadline_ms;   /* both scaled */
};

/* Everything main sets up, so that one function can take it down. */
struct plant {
    struct shop shop;
    struct feeder feeder;
    struct worker w[MAX_WORKERS];
    struct ct_bcast_sender stop_tx;
    int started;                    /* workers running */
    bool feeder_up;
    int left;                       /* items still queued after the joins */
};

/* Open the queue, the broadcast and the events.  0 or a negative errno;
 * on failure nothing is left open. */
static int plant_open(struct ct_run *run, const struct config *cfg, struct plant *p)
{
    struct shop *s = &p->shop;
    *s = (struct shop){ .run = run, .tick_ms = ct_param_num(run, "tick"),
                        .work_ms = ct_param_num(run, "work"),
                        .rate_ms = ct_param_num(run, "rate"),
                        .cleanup_ms = ct_param_num(run, "cleanup") };
    /* at most one item per `rate` until the stop: room for twice that */
    s->max_items = (int)fmin(2 * (cfg->after_ms / ct_scale(run) / s->rate_ms + 2) + 64, 4e6);
    s->fates = calloc((size_t)s->max_items + 1, sizeof *s->fates);
    if (!s->fates)
        return -ENOMEM;
    atomic_init(&s->running, cfg->n);
    int rc = ct_event_init(&s->force);
    if (rc == 0 && (rc = ct_event_init(&s->all_stopped)) != 0)
        ct_event_destroy(&s->force);
    if (rc == 0 && (rc = ct_chan_open(&s->items_tx, &s->items_rx, sizeof(struct item),
                                      QUEUE_CAPACITY, NULL)) != 0) {
        ct_event_destroy(&s->all_stopped);
        ct_event_destroy(&s->force);
    }
    if (rc == 0 && (rc = ct_bcast_open(&p->stop_tx, sizeof(struct stop_msg), 1)) != 0) {
        ct_chan_drop_sender(&s->items_tx);
        ct_chan_drop_receiver(&s->items_rx);
        ct_event_destroy(&s->all_stopped);
        ct_event_destroy(&s->force);
    }
    if (rc)
        free(s->fates);
    return rc;
}

/* Subscribe everyone, then start the workers and the feeder.  0 or a
 * negative errno; whatever started is recorded for plant_close. */
static int plant_start(struct ct_run *run, const struct config *cfg, struct plant *p)
{
    struct shop *s = &p->shop;
    int rc = 0;
    p->feeder.shop = s;
    /* everyone subscribes before the broadcast can happen */
    ct_bcast_subscribe(&p->stop_tx, &p->feeder.stop);
    for (; p->started < cfg->n; p->started++) {
        struct worker *x = &p->w[p->started];
        x->shop = s;
        x->id = p->started;
        ct_chan_clone_receiver(&s->items_rx, &x->rx);
        ct_bcast_subscribe(&p->stop_tx, &x->stop);
        if ((rc = ct_thread_start(run, &x->thread, worker_main, x, "worker-%d", x->id)) != 0) {
            ct_chan_drop_receiver(&x->rx);
            ct_bcast_unsubscribe(&x->stop);
            break;
        }
    }
    if (p->started < cfg->n &&
        atomic_fetch_sub(&s->running, cfg->n - p->started) == cfg->n - p->started)
        ct_event_set(&s->all_stopped);
    if (rc == 0) {
        rc = ct_thread_start(run, &p->feeder.thread, feeder_main, &p->feeder, "feeder");
        p->feeder_up = rc == 0;
    }
    if (!p->feeder_up) {
        ct_chan_drop_sender(&s->items_tx);
        ct_bcast_unsubscribe(&p->feeder.stop);
    }
    return rc;
}

/* Join everything, count and audit what is still queued, close it all. */
static void plant_close(struct plant *p)
{
    struct shop *s = &p->shop;
    if (p->feeder_up)
        ct_thread_join(&p->feeder.thread, NULL);
    for (int i = 0; i < p->started; i++)
        ct_thread_join(&p->w[i].thread, NULL);
    struct item it;
    while (ct_chan_try_recv(&s->items_rx, &it) == 0) {
        record_fate(s, it.id);
        p->left++;
    }
    ct_chan_drop_receiver(&s->items_rx);
    ct_event_destroy(&s->all_stopped);
    ct_event_destroy(&s->force);
}

/* Wait until every worker has exited or `deadline_at` has passed.  True if
 * they all did (or the run was cancelled: nothing left to force). */
static bool wait_for_workers(struct ct_run *run, struct shop *s, int64_t deadline_at)
{
    for (;;) {
        if (ct_event_is_set(&s->all_stopped) || ct_cancelled(run))
            return true;
        int64_t left = deadline_at - ct_clock_ns();
        if (left <= 0)
            return false;
        ct_event_wait_timeout(&s->all_stopped, left < CT_WAIT_SLICE_NS ? left : CT_WAIT_SLICE_NS);
    }
}

/* ---- the result and the report ----------------------------------------- */

enum verdict { IN_TIME, LATE, FORCED };
static const char *const verdict_name[] = { "in time", "late", "forced" };

struct worker_row {
    char label[CT_LABEL_MAX];
    int finished;
    double noticed_ms, stopped_ms;
    enum verdict verdict;
};

struct shutdown_result {
    int n;
    bool ctrl_c, force_sent, feeder_got;
    double deadline_ms, force_at_ms, shutdown_ms, slowest_ms, one_item_ms;
    int64_t deadline_ns, force_after_ns;
    int accepted, started, finished, handed, rolled_back, left;
    int got, cleaned, forced, late, in_time, cut_short;
    int lost, duplicated, strays;       /* the item audit */
    struct worker_row rows[MAX_WORKERS];
};

/* Per item id 1..accepted: exactly one fate each. */
static void audit_items(const struct shop *s, int accepted, struct shutdown_result *r)
{
    for (int id = 1; id <= s->max_items; id++) {
        int k = atomic_load(&s->fates[id]);
        if (id <= accepted) {
            r->lost += k == 0;
            r->duplicated += k > 1;
        } else {
            r->strays += k;
        }
    }
    r->strays += atomic_load(&s->strays);
}

static void fill_result(const struct plant *p, const struct config *cfg, int64_t signal_ns,
                        struct shutdown_result *r)
{
    const struct shop *s = &p->shop;
    r->n = cfg->n;
    r->deadline_ms = cfg->deadline_ms;
    r->one_item_ms = (s->work_ms + s->cleanup_ms) * ct_scale(s->run);
    r->accepted = p->feeder.accepted;
    r->feeder_got = p->feeder.got_stop;
    for (int i = 0; i < cfg->n; i++) {
        const struct worker *w = &p->w[i];
        struct worker_row *row = &r->rows[i];
        snprintf(row->label, sizeof row->label, "%s", w->thread.label);
        row->finished = w->finished;
        row->noticed_ms = w->noticed_ns ? (double)(w->noticed_ns - signal_ns) / 1e6 : NAN;
        row->stopped_ms = (double)(w->exit_ns - signal_ns) / 1e6;
        row->verdict = w->forced ? FORCED : w->exit_ns - signal_ns > r->deadline_ns ? LATE
                                                                                  : IN_TIME;
        r->started += w->started;
        r->finished += w->finished;
        r->handed += w->handed_back;
        r->rolled_back += w->rolled_back;
        r->got += w->got_stop;
        r->cleaned += w->cleaned;
        r->forced += row->verdict == FORCED;
        r->late += row->verdict == LATE;
        r->in_time += row->verdict == IN_TIME;
        r->cut_short += w->forced && w->rolled_back == 0;
        r->slowest_ms = row->stopped_ms > r->slowest_ms ? row->stopped_ms : r->slowest_ms;
    }
    r->left = p->left;
    audit_items(s, r->accepted, r);
}

static void report_deadline(struct ct_run *run, const struct shutdown_result *r)
{
    bool too_short = r->deadline_ms < r->one_item_ms;
    if (!r->force_sent) {
        ct_takeaway(run,
                    "%s, main broadcast one stop message and %d of %d worker%s stopped on their "
                    "own within the %.0f ms deadline%s, the slowest %.0f ms after the signal. "
                    "A worker notices the stop between items or when the queue closes, so the "
                    "worst case is one item plus the cleanup (%.0f ms here)%s.",
                    r->ctrl_c ? "On Ctrl-C" : "When the timer ran out", r->in_time, r->n,
                    PL(r->n),
                    r->deadline_ms, r->late ? " (the others just after it)" : "",
                    r->slowest_ms, r->one_item_ms,
                    /* a few ms of thread wake-ups are no sign of a busy machine */
                    r->slowest_ms <= r->one_item_ms * 1.2 + 5
                        ? ", not however long the queue is"
                        : "; this run took longer than that, a sign of a busy machine, so run "
                          "it again for a steadier figure");
        return;
    }
    char why[160];
    if (too_short)
        snprintf(why, sizeof why, "The %.0f ms deadline was shorter than a stop can take here "
                 "(one item plus the cleanup, %.0f ms).", r->deadline_ms, r->one_item_ms);
    else
        snprintf(why, sizeof why, "The workers needed more than the %.0f ms deadline, though "
                 "one item plus the cleanup is %.0f ms: a busy machine slowed them.",
                 r->deadline_ms, r->one_item_ms);
    ct_takeaway(run,
                "%s %d of %d worker%s %s out in time; at %.1f ms main stopped waiting and "
                "forced the rest: %d item%s rolled back mid-work and %d cleanup%s cut short%s.",
                why, r->in_time, r->n, PL(r->n), WERE(r->in_time), r->force_at_ms,
                r->rolled_back,
                r->rolled_back == 1 ? "" : "s", r->cut_short, r->cut_short == 1 ? "" : "s",
                r->late ? " (some finished on their own just after the deadline, before the "
                          "force reached them)" : "");
    ct_takeaway(run,
                "A deadline turns a shutdown that could hang into one with a known bound, at a "
                "price: rolled-back work must be safe to redo, and a cut-short cleanup may "
                "leave buffers unflushed.%s",
                too_short ? " Set deadline= above work= plus cleanup= and every worker stops "
                            "on its own." : "");
}

static void report_checks(struct ct_run *run, const struct shutdown_result *r)
{
    ct_check(run, r->got == r->n && r->feeder_got,
             "the broadcast reached the feeder and %s %d worker%s (%d got it)",
             r->n == 1 ? "its" : "all", r->n, PL(r->n), r->got);
    ct_check(run, r->cleaned + r->forced == r->n,
             "every worker stopped: %d cleaned up, %d forced out at the deadline", r->cleaned,
             r->forced);
    if (r->force_sent)
        ct_check(run, r->force_after_ns >= r->deadline_ns,
                 "main forced no one before the %.0f ms deadline (it did at %.1f ms)",
                 r->deadline_ms, r->force_at_ms);
    ct_check(run, r->lost == 0 && r->duplicated == 0 && r->strays == 0,
             "%d item%s, one fate each: %d done, %d queued, %d handed, %d rolled back",
             r->accepted, PL(r->accepted), r->finished, r->left, r->handed, r->rolled_back);
    ct_check(run, r->started == r->finished + r->rolled_back && (r->rolled_back == 0 ||
                                                                  r->force_sent),
             "no item was left half-done (%d started, %d finished, %d rolled back)", r->started,
             r->finished, r->rolled_back);
}

static void report(struct ct_run *run, const struct shutdown_result *r)
{
    static const char *const cols[] = {
        "worker", "items|items done", "noticed_ms|noticed stop ms", "stopped_ms|stopped ms",
        "verdict", NULL,
    };
    struct ct_table *t = ct_table_new(run, "workers", "time from the broadcast", cols);
    for (int i = 0; i < r->n; i++) {
        const struct worker_row *w = &r->rows[i];
        ct_table_row(t, CT_TEXT(w->label), CT_INT(w->finished), CT_NUM(w->noticed_ms, 1),
                     CT_NUM(w->stopped_ms, 1), CT_TEXT(verdict_name[w->verdict]));
    }
    ct_result_text(run, "trigger", "shutdown triggered by", r->ctrl_c ? "Ctrl-C" : "the timer");
    ct_result_num(run, "shutdown_ms", "broadcast to last join", r->shutdown_ms, 1, "ms");
    ct_result_int(run, "in_time", "workers out within the deadline", r->in_time, NULL);
    ct_result_int(run, "forced", "workers forced out at the deadline", r->forced, NULL);
    ct_result_int(run, "accepted", "items accepted into the queue", r->accepted, NULL);
    ct_result_int(run, "finished", "items finished", r->finished, NULL);
    ct_result_int(run, "left_queued", "items still queued, never started", r->left, NULL);
    ct_result_int(run, "handed_back", "items handed back unstarted", r->handed, NULL);
    ct_result_int(run, "rolled_back", "items rolled back at the deadline", r->rolled_back, NULL);
    ct_result_int(run, "half_done", "items abandoned half-done",
                  r->started - r->finished - r->rolled_back, NULL);
    ct_result_int(run, "lost", "accepted items with no fate (lost)", r->lost, NULL);
    ct_result_int(run, "duplicated", "items with two fates or more", r->duplicated + r->strays,
                  NULL);
    report_checks(run, r);
    report_deadline(run, r);
    ct_takeaway(run,
                "Of %d accepted item%s, %d %s finished, %d %s still queued, %d %s handed "
                "back by a worker that took one as the stop arrived, and %d %s rolled back. "
                "A real service would write the unfinished ones back to durable storage: a "
                "graceful shutdown stops taking work, finishes what it can, and accounts for "
                "the rest.",
                r->accepted, PL(r->accepted), r->finished, WERE(r->finished), r->left,
                WERE(r->left), r->handed, WERE(r->handed), r->rolled_back,
                WERE(r->rolled_back));
}

/* ---- the run ----------------------------------------------------------- */

/* Wait for Ctrl-C or the timer, broadcast the stop, give the workers until
 * the deadline, then force whoever is left; join everything. */
static void stop_the_plant(struct ct_run *run, const struct config *cfg, struct plant *p,
                           struct shutdown_result *r)
{
    ct_say(run, "%d worker%s running; Ctrl-C to stop (or wait %.0f ms)", cfg->n, PL(cfg->n),
           cfg->after_ms);
    r->ctrl_c = ct_wait_stop_ms(run, cfg->after_ms);
    if (!ct_cancelled(run))
        ct_say(run, "%s: broadcasting stop", r->ctrl_c ? "Ctrl-C" : "time is up");
    int64_t signal_ns = ct_clock_ns();
    struct stop_msg m = { r->ctrl_c ? STOP_CTRL_C : STOP_TIMER };
    ct_point(run, 'B');
    ct_bcast_send(&p->stop_tx, &m);
    ct_bcast_drop_sender(&p->stop_tx);
    r->deadline_ns = (int64_t)(cfg->deadline_ms * 1e6);
    if (!wait_for_workers(run, &p->shop, signal_ns + r->deadline_ns)) {
        r->force_sent = true;
        ct_event_set(&p->shop.force);
        r->force_after_ns = ct_clock_ns() - signal_ns;
        r->force_at_ms = (double)r->force_after_ns / 1e6;
        ct_point(run, 'F');
        ct_say(run, "deadline passed, workers still busy: forcing them out");
    }
    plant_close(p);
    r->shutdown_ms = (double)(ct_clock_ns() - signal_ns) / 1e6;
    ct_say(run, "all workers stopped %.1f ms after the broadcast", r->shutdown_ms);
    fill_result(p, cfg, signal_ns, r);
}

static int shutdown_run(struct ct_run *run)
{
    struct config cfg = { .n = (int)ct_param_int(run, "workers"),
                          .after_ms = ct_param_num(run, "after") * ct_scale(run),
                          .deadline_ms = ct_param_num(run, "deadline") * ct_scale(run) };
    ct_legend(run, CT_RUN, "working on an item");
    ct_legend(run, CT_WAIT, "waiting for an item");
    ct_legend(run, CT_SLEEP, "feeder: pausing; worker: cleaning up");
    ct_point_legend(run, 'B', "stop broadcast");
    ct_point_legend(run, 'S', "stop received");
    ct_point_legend(run, 'F', "deadline: forced stop");

    struct plant *p = calloc(1, sizeof *p);
    struct shutdown_result *r = calloc(1, sizeof *r);
    int rc = p && r ? plant_open(run, &cfg, p) : -ENOMEM;
    if (rc == 0) {
        rc = plant_start(run, &cfg, p);
        if (rc == 0) {
            stop_the_plant(run, &cfg, p, r);
        } else {            /* release whatever started, then take it down */
            ct_bcast_send(&p->stop_tx, &(struct stop_msg){ STOP_TIMER });
            ct_bcast_drop_sender(&p->stop_tx);
            plant_close(p);
        }
        free(p->shop.fates);
    }
    if (rc == 0 && !ct_cancelled(run))
        report(run, r);
    free(p);
    free(r);
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
      "ms the workers get, from the broadcast, before main forces them out" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_shutdown = {
    .name = "shutdown",
    .chapter = 9,
    .title = "Graceful shutdown with a broadcast",
    .summary = "Five workers; on Ctrl-C a broadcast stops them, each finishing its item first",
    .intro = "A feeder queues work for five workers. Press Ctrl-C (or wait for the timer): a "
             "broadcast channel tells every thread to stop, each worker finishes the item in "
             "its hands and cleans up, and main forces out anyone still busy at the deadline. "
             "Then the demo accounts for every item it accepted.",
    .params = shutdown_params,
    .smoke = "after=300 tick=40 work=30 rate=10 cleanup=20",
    .flags = CT_DEMO_GRACEFUL,
    .run = shutdown_run,
};
