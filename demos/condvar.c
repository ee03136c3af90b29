/* condvar.c - demo `condvar`: a queue with one producer and two consumers
 * on a pthread_mutex_t and a pthread_cond_t, done right and done wrong.
 *
 * Shows three variants (parameter `variants`), each passing `items` items
 * through the queue one at a time:
 *   right         consumers wait in a `while` loop that looks at the queue
 *                 again after every wake-up; the producer adds the item,
 *                 then signals, with the mutex held.
 *   if            the same producer, but consumers look with `if`: a
 *                 consumer woken for an item that the other consumer has
 *                 already taken goes on with an empty queue.  The demo
 *                 counts that instead of reading the empty slot.
 *   signal-first  `while` consumers, but the producer signals before the
 *                 item exists, outside the mutex: the woken consumer finds
 *                 nothing and sleeps again, and the item arrives with
 *                 nobody told.  A lost wake-up.
 * Every wait is bounded by `patience-ms`, far above a normal wake-up: a
 * consumer that sleeps that long while an item sits in the queue is a lost
 * wake-up caught, and it takes the item then.  The producer sets each item
 * up with deliberate windows (`window-ms`) so that the bugs show on every
 * run, and it counts on its own side what the consumers should detect;
 * the checks compare the two counts.
 * Watch for: 'e' (woke to an empty queue, looked again) in right, '!' in
 * if, and in signal-first the 's' well before the 'p', with the
 * consumer's '.' running on until the 'L'.
 * Lesson: condition-variables (chapter 4).
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "check.h"
#include "clock.h"
#include "wait.h"

#define CONSUMERS 2
#define MAX_ITEMS 100
#define STAGE_POLL_NS (200 * INT64_C(1000))    /* how often the producer looks */
#define AGAIN (-2)                  /* take_*: nothing taken, try again */
#define END (-1)                    /* take_*: closed and empty */

enum variant { V_RIGHT, V_IF, V_SIGNAL_FIRST, NVARIANTS };
static const char *const variant_name[NVARIANTS] = { "right", "if", "signal-first" };
static const char *const variant_how[NVARIANTS] = {
    "while loop; add the item, then signal, mutex held",
    "if instead of while; same producer",
    "while loop; producer signals before the item exists",
};

struct config {
    int items;
    double patience_ms;         /* bound on every wait, not scaled */
    double window_ms;           /* the deliberate windows, scaled */
    int shown;                  /* the variant drawn on the timeline */
};

/* How a consumer got hold of an item. */
enum how { FIRST_LOOK, AFTER_WAKE, AFTER_TIMEOUT };

/* One item's story, written under the mutex. */
struct item_log {
    int taken;                  /* times popped: must end at 1 */
    enum how how;
    bool woke_sleeper;          /* its signal went to a sleeping consumer */
    bool lost;                  /* pushed with no consumer awake, and no signal after */
    bool signal_late;           /* right, if: its sleeper's bound ran out before the signal */
    int64_t pushed_ns, taken_ns;
};

struct shop {
    struct ct_run *run;
    const struct config *cfg;
    enum variant v;
    bool draw;                  /* record timeline marks for this variant */
    pthread_mutex_t mu;
    pthread_cond_t nonempty;    /* "the queue has an item": the condvar taught */
    pthread_cond_t resume;      /* staging only: a parked consumer may come back */
    /* guarded by mu */
    int queue[MAX_ITEMS];
    int head, count;
    bool closed;
    int parked_id, released;    /* the parked consumer, and the one let out (-1: none) */
    struct item_log log[MAX_ITEMS];
    /* for the producer's staging and its own counts, read without the mutex */
    atomic_int waiting;         /* consumers inside pthread_cond_timedwait */
    atomic_int parked;          /* consumers parked "busy" (right, if) */
    atomic_int pending;         /* signals whose woken consumer has not run yet */
    atomic_int signalled;       /* the item of the last signal (right, if) */
    atomic_int delivered;       /* items popped */
    int stage_missed;           /* producer only */
};

struct consumer {
    struct shop *s;
    int id;                     /* 0-based */
    struct ct_thread thread;
    int woke_empty;             /* woken, and the queue was empty */
    int ran_on_empty;           /* `if`: went on with an empty queue */
    int lost_caught;            /* the bound ran out with an item queued */
    int idle_timeouts;          /* the bound ran out, queue empty: no harm */
};

/* What one variant's run counted. */
struct variant_result {
    bool ran;
    int items, once, missing, twice;
    int steals;                 /* producer's count: signal woke a sleeper, item taken at first look */
    int late;                   /* signals that came after their sleeper's bound ran out */
    int lost;                   /* producer's count: pushed with nobody awake to see it */
    int woke_empty, ran_on_empty, lost_caught, idle_timeouts;   /* consumers' counts */
    int stage_missed;
    double worst_ms;            /* longest push-to-take */
};

static void mark(struct shop *s, enum ct_state st)
{
    if (s->draw)
        ct_mark(s->run, st);
}

static void point(struct shop *s, char glyph)
{
    if (s->draw)
        ct_point(s->run, glyph);
}

/* ---- consumers ----------------------------------------------------------- */

enum woke { WOKE, TIMED_OUT };

/* One pthread_cond_wait as the consumer's code means it, bounded by the
 * patience: WOKE when pthread_cond_timedwait returned 0 (a signal, or a
 * spurious wake-up), TIMED_OUT when the patience ran out.  mu is held on
 * entry and on return.  On cancel the producer closes the queue and
 * broadcasts; the bound ends the wait in any case. */
static enum woke wait_once(struct consumer *c)
{
    struct shop *s = c->s;
    struct timespec until = ct_clock_after_ns((int64_t)(s->cfg->patience_ms * 1e6));
    atomic_fetch_add(&s->waiting, 1);
    mark(s, CT_WAIT);
    int rc = pthread_cond_timedwait(&s->nonempty, &s->mu, &until);
    atomic_fetch_sub(&s->waiting, 1);
    mark(s, CT_IDLE);
    if (rc == ETIMEDOUT) {
        /* right and if stage one sleeper: a signal still pending was meant
         * for us and came after our bound ran out (a slow machine stretched
         * the producer's window), so nobody will wake to its stolen item */
        int p = atomic_load(&s->pending);
        if (s->v != V_SIGNAL_FIRST && p > 0 &&
            atomic_compare_exchange_strong(&s->pending, &p, p - 1)) {
            s->log[atomic_load(&s->signalled)].signal_late = true;
            ct_say(s->run, "the bound ran out before item %d's signal came",
                   atomic_load(&s->signalled) + 1);
        }
        return TIMED_OUT;
    }
    CT_PT(rc);
    int p = atomic_load(&s->pending);      /* this consumer has run since its signal */
    while (p > 0 && !atomic_compare_exchange_weak(&s->pending, &p, p - 1))
        ;
    return WOKE;
}

/* Take the item at the head; mu held, count > 0.  Returns its index. */
static int pop(struct consumer *c, enum how how)
{
    struct shop *s = c->s;
    int id = s->queue[s->head];
    s->head = (s->head + 1) % MAX_ITEMS;
    s->count--;
    struct item_log *l = &s->log[id];
    l->taken++;
    l->how = how;
    l->taken_ns = ct_clock_ns();
    atomic_fetch_add(&s->delivered, 1);
    return id;
}

/* The bound ran out.  With an item queued that is a lost wake-up caught,
 * unless the item's signal was sent (its log says it was not lost): then
 * the bound ran out just as that signal came, which a loaded machine makes
 * likelier, and the caller takes the item as if woken. */
static void timed_out(struct consumer *c)
{
    struct shop *s = c->s;
    if (s->count == 0) {
        c->idle_timeouts++;
        return;
    }
    if (!s->log[s->queue[s->head]].lost) {
        ct_say(s->run, "the bound ran out as item %d's signal came: not a lost wake-up",
               s->queue[s->head] + 1);
        return;
    }
    c->lost_caught++;
    point(s, 'L');
    ct_say(s->run, "slept %.0f ms with item %d queued: lost wake-up", s->cfg->patience_ms,
           s->queue[s->head] + 1);
}

/* The right way: look, and after every wake-up look again.  Returns an
 * item, or END when the queue is closed and empty.  mu held. */
static int take_while(struct consumer *c)
{
    struct shop *s = c->s;
    enum how how = FIRST_LOOK;
    while (s->count == 0 && !s->closed) {
        if (wait_once(c) == TIMED_OUT) {
            timed_out(c);
            how = AFTER_TIMEOUT;
        } else if (s->count == 0 && !s->closed) {
            c->woke_empty++;
            point(s, 'e');
            if (s->v == V_RIGHT)
                ct_say(s->run, "woke to an empty queue; the while loop waits again");
        } else {
            how = AFTER_WAKE;
        }
    }
    return s->count > 0 ? pop(c, how) : END;
}

/* The broken way: look once, wait once, then go on as if an item were
 * there.  Returns an item, END, or AGAIN when the consumer went on with
 * an empty queue: real code would read a slot that holds nothing; here
 * it is counted and no slot is read.  mu held. */
static int take_if(struct consumer *c)
{
    struct shop *s = c->s;
    enum how how = FIRST_LOOK;
    if (s->count == 0 && !s->closed) {
        enum woke w = wait_once(c);
        if (w == TIMED_OUT && s->count == 0 && !s->closed) {
            /* the demo's bound, not the consumer's logic: an unbounded
             * wait would still be asleep, so this is not the bug */
            c->idle_timeouts++;
            return AGAIN;
        }
        if (w == TIMED_OUT)
            timed_out(c);
        else if (s->count == 0 && !s->closed)
            c->woke_empty++;
        how = w == WOKE ? AFTER_WAKE : AFTER_TIMEOUT;
    }
    if (s->count == 0) {
        if (s->closed)
            return END;
        c->ran_on_empty++;
        point(s, '!');
        ct_say(s->run, "woke to an empty queue and, with if, went on anyway");
        return AGAIN;
    }
    return pop(c, how);
}

/* Staging (right, if): after taking an item a consumer is "busy" until
 * the producer lets it come back, which the producer does while it holds
 * the mutex: the consumer arrives at a locked mutex as a latecomer.  mu
 * held.  False on close or cancel. */
static bool park(struct consumer *c)
{
    struct shop *s = c->s;
    s->parked_id = c->id;
    atomic_fetch_add(&s->parked, 1);
    mark(s, CT_RUN);
    int rc = 0;
    while (s->released != c->id && !s->closed && rc == 0)
        rc = ct_cond_wait_bounded(&s->resume, &s->mu, CT_FOREVER, ct_cancel_event(s->run));
    atomic_fetch_sub(&s->parked, 1);
    mark(s, CT_IDLE);
    bool go = s->released == c->id && !s->closed;
    if (s->released == c->id)
        s->released = -1;
    return go;
}

static void *consumer_main(void *arg)
{
    struct consumer *c = arg;
    struct shop *s = c->s;
    bool parks = s->v != V_SIGNAL_FIRST;
    bool park_now = parks && c->id == 0;   /* consumer-1 starts busy: the first latecomer */
    CT_PT(pthread_mutex_lock(&s->mu));
    while (!ct_cancelled(s->run)) {
        if (park_now && !park(c))
            break;
        int id = s->v == V_IF ? take_if(c) : take_while(c);
        if (id == END)
            break;
        park_now = parks && id != AGAIN;
    }
    mark(s, CT_IDLE);
    CT_PT(pthread_mutex_unlock(&s->mu));
    return NULL;
}

/* ---- the producer -------------------------------------------------------- */

/* Wait until the stage is set for item `id`: every earlier item taken,
 * and the consumers where the variant wants them (right, if: one parked,
 * the other asleep on the condvar; signal-first: both asleep), and no
 * signalled consumer still on its way back to the mutex.  Polls the
 * counters, not the mutex: a producer barging into the mutex would spoil
 * the order in which the consumers queue on it.  0, -ECANCELED, or
 * -ETIMEDOUT when the stage never came (counted; the item goes anyway). */
static int stage(struct shop *s, int id)
{
    int want_parked = s->v == V_SIGNAL_FIRST ? 0 : 1;
    int64_t deadline =
        ct_clock_ns() + (int64_t)(3 * s->cfg->patience_ms * 1e6) + CT_NS_PER_S;
    while (atomic_load(&s->delivered) != id || atomic_load(&s->parked) != want_parked ||
           atomic_load(&s->waiting) != CONSUMERS - want_parked ||
           atomic_load(&s->pending) != 0) {
        if (ct_event_wait_timeout(ct_cancel_event(s->run), STAGE_POLL_NS))
            return -ECANCELED;
        if (ct_clock_ns() > deadline) {
            s->stage_missed++;
            return -ETIMEDOUT;
        }
    }
    return 0;
}

/* mu held. */
static void push(struct shop *s, int id)
{
    s->queue[(s->head + s->count) % MAX_ITEMS] = id;
    s->count++;
    s->log[id].pushed_ns = ct_clock_ns();
}

/* right and if: add the item and signal with the mutex held.  The windows
 * are the demo's: the producer keeps the mutex a moment after letting the
 * busy consumer come back, so that consumer queues on the mutex first, and
 * a moment after the signal, so the consumer it woke queues behind it.
 * On unlock the latecomer gets the mutex and the item: the wake-up is
 * stolen.  (Sleeping with a lock held is a bug anywhere else.) */
static void produce_locked(struct shop *s, int id)
{
    CT_PT(pthread_mutex_lock(&s->mu));
    mark(s, CT_HOLD);
    if (atomic_load(&s->parked) > 0) {
        s->released = s->parked_id;
        CT_PT(pthread_cond_broadcast(&s->resume));
    }
    ct_sleep_ms(s->run, s->cfg->window_ms);        /* window 1 */
    push(s, id);
    s->log[id].woke_sleeper = atomic_load(&s->waiting) > 0;
    atomic_store(&s->signalled, id);
    if (s->log[id].woke_sleeper)
        atomic_fetch_add(&s->pending, 1);
    CT_PT(pthread_cond_signal(&s->nonempty));
    point(s, 's');
    ct_sleep_ms(s->run, s->cfg->window_ms);        /* window 2 */
    mark(s, CT_IDLE);
    CT_PT(pthread_mutex_unlock(&s->mu));
}

/* signal-first: THE BUG is the order.  The signal goes out before the item
 * exists and outside the mutex; the item follows after a window (the
 * demo's, to make the bug visible every time), in which the woken consumer
 * finds the queue empty and goes back to sleep. */
static void produce_signal_first(struct shop *s, int id)
{
    /* lock and unlock once: every consumer counted as waiting is now
     * really asleep inside pthread_cond_timedwait */
    CT_PT(pthread_mutex_lock(&s->mu));
    CT_PT(pthread_mutex_unlock(&s->mu));
    bool sleeper = atomic_load(&s->waiting) > 0;
    if (sleeper)
        atomic_fetch_add(&s->pending, 1);
    CT_PT(pthread_cond_signal(&s->nonempty));
    point(s, 's');
    ct_say(s->run, "signalled for item %d before making it", id + 1);
    mark(s, CT_SLEEP);
    ct_sleep_ms(s->run, s->cfg->window_ms);        /* the window */
    CT_PT(pthread_mutex_lock(&s->mu));
    mark(s, CT_HOLD);
    push(s, id);
    point(s, 'p');
    s->log[id].woke_sleeper = sleeper;
    /* nobody awake to look at the queue, and no signal coming: lost */
    s->log[id].lost = atomic_load(&s->pending) == 0 && atomic_load(&s->waiting) == CONSUMERS;
    mark(s, CT_IDLE);
    CT_PT(pthread_mutex_unlock(&s->mu));
}

static void close_queue(struct shop *s)
{
    CT_PT(pthread_mutex_lock(&s->mu));
    s->closed = true;
    CT_PT(pthread_cond_broadcast(&s->nonempty));
    CT_PT(pthread_cond_broadcast(&s->resume));
    CT_PT(pthread_mutex_unlock(&s->mu));
}

static void *producer_main(void *arg)
{
    struct shop *s = arg;
    for (int id = 0; id < s->cfg->items; id++) {
        if (stage(s, id) == -ECANCELED)
            break;
        if (s->v == V_SIGNAL_FIRST)
            produce_signal_first(s, id);
        else
            produce_locked(s, id);
    }
    stage(s, s->cfg->items);    /* until the last item is taken (or cancel) */
    close_queue(s);
    return NULL;
}

/* ---- one variant --------------------------------------------------------- */

static int shop_init(struct shop *s)
{
    int rc = -pthread_mutex_init(&s->mu, NULL);
    if (rc)
        return rc;
    if ((rc = ct_cond_init_monotonic(&s->nonempty)) != 0) {
        pthread_mutex_destroy(&s->mu);
        return rc;
    }
    if ((rc = ct_cond_init_monotonic(&s->resume)) != 0) {
        pthread_cond_destroy(&s->nonempty);
        pthread_mutex_destroy(&s->mu);
    }
    s->released = s->parked_id = -1;
    return rc;
}

static void shop_destroy(struct shop *s)
{
    CT_PT(pthread_cond_destroy(&s->resume));
    CT_PT(pthread_cond_destroy(&s->nonempty));
    CT_PT(pthread_mutex_destroy(&s->mu));
}

/* Add up what the producer's log and the consumers counted. */
static void summarise(const struct shop *s, const struct consumer *c, struct variant_result *r)
{
    *r = (struct variant_result){ .ran = true, .items = s->cfg->items,
                                  .stage_missed = s->stage_missed };
    for (int i = 0; i < s->cfg->items; i++) {
        const struct item_log *l = &s->log[i];
        r->once += l->taken == 1;
        r->missing += l->taken == 0;
        r->twice += l->taken > 1;
        r->steals += l->woke_sleeper && l->how == FIRST_LOOK && l->taken > 0 &&
                     s->v != V_SIGNAL_FIRST && !l->signal_late;
        r->late += l->signal_late;
        r->lost += l->lost;
        double ms = (double)(l->taken_ns - l->pushed_ns) / 1e6;
        if (l->taken > 0 && ms > r->worst_ms)
            r->worst_ms = ms;
    }
    for (int i = 0; i < CONSUMERS; i++) {
        r->woke_empty += c[i].woke_empty;
        r->ran_on_empty += c[i].ran_on_empty;
        r->lost_caught += c[i].lost_caught;
        r->idle_timeouts += c[i].idle_timeouts;
    }
}

/* Start the producer and the consumers, join them all.  0 or -errno. */
static int run_variant(struct ct_run *run, const struct config *cfg, enum variant v,
                       struct variant_result *r)
{
    struct shop *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    *s = (struct shop){ .run = run, .cfg = cfg, .v = v, .draw = (int)v == cfg->shown };
    int rc = shop_init(s);
    if (rc) {
        free(s);
        return rc;
    }
    ct_section(run, "%s: %s", variant_name[v], variant_how[v]);
    struct consumer c[CONSUMERS] = { 0 };
    struct ct_thread producer;
    int started = 0;
    for (; started < CONSUMERS; started++) {
        c[started] = (struct consumer){ .s = s, .id = started };
        rc = ct_thread_start(run, &c[started].thread, consumer_main, &c[started], "consumer-%d",
                             started + 1);
        if (rc)
            break;
    }
    if (rc == 0)
        rc = ct_thread_start(run, &producer, producer_main, s, "producer");
    if (rc)
        close_queue(s);         /* let the consumers that did start go */
    else
        ct_thread_join(&producer, NULL);
    for (int i = 0; i < started; i++)
        ct_thread_join(&c[i].thread, NULL);
    if (rc == 0 && !ct_cancelled(run))
        summarise(s, c, r);
    shop_destroy(s);
    free(s);
    return rc;
}

/* ---- report -------------------------------------------------------------- */

static void report_table(struct ct_run *run, const struct variant_result *r)
{
    static const char *const cols[] = {
        "variant", "once", "stolen", "woke_empty|woke empty", "ran_on_empty|went on",
        "lost", "caught", "worst_ms|worst ms", NULL,
    };
    struct ct_table *t =
        ct_table_new(run, "variants", "per variant: producer's and consumers' counts", cols);
    for (int v = 0; v < NVARIANTS; v++) {
        if (r[v].ran)
            ct_table_row(t, CT_TEXT(variant_name[v]), CT_INT(r[v].once), CT_INT(r[v].steals),
                         CT_INT(r[v].woke_empty), CT_INT(r[v].ran_on_empty), CT_INT(r[v].lost),
                         CT_INT(r[v].lost_caught), CT_NUM(r[v].worst_ms, 1));
    }
}

/* The plural ending for a count: "1 wake-up", "2 wake-ups". */
static const char *plural(long long n)
{
    return n == 1 ? "" : "s";
}

static void check_delivery(struct ct_run *run, enum variant v, const struct variant_result *r)
{
    ct_check(run, r->once == r->items,
             "%s: every item taken exactly once (%d of %d; %d never, %d twice)", variant_name[v],
             r->once, r->items, r->missing, r->twice);
}

/* Signals that came after their sleeper's bound had run out: not steals,
 * and said, with how to avoid them. */
static void say_late(struct ct_run *run, enum variant v, const struct variant_result *r)
{
    if (r->late > 0)
        ct_takeaway(run,
                    "%s: %d signal%s came after the sleeping consumer's patience-ms bound "
                    "had run out (this machine stretched the producer's window), so %s not "
                    "count as stolen; a larger patience-ms avoids that.",
                    variant_name[v], r->late, plural(r->late),
                    r->late == 1 ? "it does" : "they do");
}

static void report_right(struct ct_run *run, const struct variant_result *r)
{
    check_delivery(run, V_RIGHT, r);
    ct_check(run, r->woke_empty == r->steals && r->lost_caught == 0,
             "right: %d stolen wake-up%s, %d woke to nothing and waited again, %d lost",
             r->steals, plural(r->steals), r->woke_empty, r->lost_caught);
    if (r->steals > 0)
        ct_takeaway(run,
                    "right: %d of %d item%s %s taken by the consumer that came back to the "
                    "mutex while the other one, just signalled for that item, queued behind "
                    "it. Each robbed consumer woke to an empty queue, and its while loop "
                    "simply put it back to sleep: every item was taken once, the slowest "
                    "%.1f ms after it was queued.",
                    r->steals, r->items, plural(r->items), r->steals == 1 ? "was" : "were",
                    r->worst_ms);
    else
        ct_takeaway(run,
                    "right: this run stole no wake-up (the staging windows were too short "
                    "for this machine's scheduling, or window-ms is 0), so the while loop "
                    "had nothing to correct; every item was taken once.");
    say_late(run, V_RIGHT, r);
}

static void report_if(struct ct_run *run, const struct variant_result *r)
{
    check_delivery(run, V_IF, r);
    ct_check(run, r->ran_on_empty == r->steals && r->lost_caught == 0,
             "if: %d stolen wake-up%s; %d went on with an empty queue (caught)", r->steals,
             plural(r->steals), r->ran_on_empty);
    if (r->ran_on_empty > 0)
        ct_takeaway(run,
                    "if: %d time%s a consumer woke for an item the other had already taken, "
                    "did not look again, and went on with an empty queue. Real code would "
                    "have read a slot holding nothing (or a stale item); the demo caught it "
                    "at the pop. A wake-up only says \"look again\", never \"it is there\".",
                    r->ran_on_empty, r->ran_on_empty == 1 ? "" : "s");
    else
        ct_takeaway(run,
                    "if: no consumer went on with an empty queue in this run, because no "
                    "wake-up was stolen; that was timing, not correctness.");
    say_late(run, V_IF, r);
}

static void report_signal_first(struct ct_run *run, const struct variant_result *r,
                                double patience_ms)
{
    check_delivery(run, V_SIGNAL_FIRST, r);
    ct_check(run, r->lost_caught == r->lost,
             "signal-first: %d wake-up%s lost, %d caught by the bounded wait", r->lost,
             plural(r->lost), r->lost_caught);
    if (r->lost > 0)
        ct_takeaway(run,
                    "signal-first: %d of %d signal%s went out before %s item existed. The "
                    "consumer each one woke found nothing and slept again; the item then "
                    "arrived with no signal, and sat in the queue until a %.0f ms bounded "
                    "wait ran out (the worst item waited %.1f ms). A plain pthread_cond_wait "
                    "would have slept until some later signal, and after the last item there "
                    "is none. Change the queue first, then signal, both under the mutex.",
                    r->lost, r->items, plural(r->items), r->lost == 1 ? "its" : "their",
                    patience_ms, r->worst_ms);
    else
        ct_takeaway(run,
                    "signal-first: no wake-up was lost in this run (the woken consumer looked "
                    "again only after the item arrived); the bug is still there, it needs a "
                    "wider window-ms to show.");
}

static void report(struct ct_run *run, const struct config *cfg, const struct variant_result *r)
{
    report_table(run, r);
    int idle = 0, missed = 0;
    for (int v = 0; v < NVARIANTS; v++) {
        idle += r[v].idle_timeouts;
        missed += r[v].stage_missed;
    }
    ct_result_int(run, "idle_timeouts", "bounded waits that ran out, queue empty", idle, NULL);
    ct_result_int(run, "stage_missed", "items sent before the stage was set", missed, NULL);
    if (r[V_RIGHT].ran)
        report_right(run, &r[V_RIGHT]);
    if (r[V_IF].ran)
        report_if(run, &r[V_IF]);
    if (r[V_SIGNAL_FIRST].ran)
        report_signal_first(run, &r[V_SIGNAL_FIRST], cfg->patience_ms);
}

static int condvar_run(struct ct_run *run)
{
    struct config cfg = {
        .items = (int)ct_param_int(run, "items"),
        .patience_ms = ct_param_num(run, "patience-ms"),
        .window_ms = ct_param_num(run, "window-ms"),
        .shown = -1,
    };
    for (int v = NVARIANTS - 1; v >= 0; v--) {     /* draw signal-first if it runs */
        if (ct_param_has(run, "variants", variant_name[v]) && cfg.shown < 0)
            cfg.shown = v;
    }
    ct_legend(run, CT_WAIT, "waiting on the condvar");
    ct_legend(run, CT_HOLD, "producer holds the mutex");
    ct_legend(run, CT_RUN, "busy with its last item");
    ct_legend(run, CT_SLEEP, "making the item");
    ct_point_legend(run, 's', "signal");
    ct_point_legend(run, 'p', "item queued");
    ct_point_legend(run, 'e', "woke, queue empty, waits again");
    ct_point_legend(run, '!', "woke, queue empty, went on");
    ct_point_legend(run, 'L', "lost wake-up caught by the bound");

    struct variant_result r[NVARIANTS] = { 0 };
    for (int v = 0; v < NVARIANTS; v++) {
        if (!ct_param_has(run, "variants", variant_name[v]))
            continue;
        int rc = run_variant(run, &cfg, (enum variant)v, &r[v]);
        if (rc || ct_cancelled(run))
            return rc;
    }
    report(run, &cfg, r);
    return 0;
}

static const struct ct_param_spec condvar_params[] = {
    { "variants", CT_PARAM_SET, "all", 0, 0, "right,if,signal-first",
      "which variants to run; the timeline draws signal-first, or the last one run" },
    { "items", CT_PARAM_INT, "5", 1, MAX_ITEMS, NULL, "items through the queue per variant" },
    { "patience-ms", CT_PARAM_NUM, "100", 20, 1000, NULL,
      "bound on every condvar wait, not scaled: a lost wake-up costs this much" },
    { "window-ms", CT_PARAM_NUM, "15", 0, 200, NULL,
      "the producer's deliberate windows that make the bugs show (scaled; 0: by chance)" },
    CT_PARAMS_END,
};

/* A consumer robbed of its wake-up sleeps again and must outlast the
 * producer's window (scaled by --scale), or its bound runs out first and
 * the run reports a lost wake-up that was not lost. */
static int condvar_check(const struct ct_run *run, char *err, size_t errlen)
{
    double patience = ct_param_num(run, "patience-ms");
    double window = ct_param_num(run, "window-ms") * ct_scale(run);
    if (patience < 1.25 * window) {
        snprintf(err, errlen,
                 "patience-ms=%g must be at least 1.25 x window-ms (%g ms at this --scale): "
                 "give patience-ms=%g or more, or a shorter window-ms",
                 patience, window, ceil(1.25 * window));
        return -EINVAL;
    }
    return 0;
}

const struct ct_demo ct_demo_condvar = {
    .name = "condvar",
    .chapter = 4,
    .title = "Condition variables: while, not if; change, then signal",
    .summary = "A queue on a mutex and a condvar: stolen wake-ups with if, a lost wake-up "
               "when the signal comes first",
    .intro = "One producer and two consumers share a queue guarded by a pthread mutex, with a "
             "condition variable saying \"an item is there\". Done right, consumers look "
             "again after every wake-up. With if, a consumer woken for an item the other one "
             "took goes on with an empty queue. With the signal sent before the item exists, "
             "the wake-up is lost and the consumer sleeps beside a full queue until its "
             "bounded wait runs out.",
    .params = condvar_params,
    .smoke = "items=2 patience-ms=60 window-ms=5",
    .run = condvar_run,
    .check = condvar_check,
};
