/* blocking-in-async.c - demo `blocking-in-async`: blocking calls inside
 * tasks stall their worker; the async primitives do not.
 *
 * Shows: a ticker task ticks every `tick-ms` on a small multi-threaded
 * executor while other tasks run one of five scenarios:
 *   thread-sleep   tasks sleep with a thread sleep: each blocks its worker
 *   async-sleep    tasks await the sleep future: the workers stay free
 *   blocking-lock  a task takes a blocking lock and holds it across an
 *                  await; other tasks block their workers waiting for it,
 *                  and the holder may then find no worker to resume on
 *   async-mutex    the same with the async mutex: waiting yields
 *   short-lock     tasks lock and unlock around a counter, never across
 *                  an await: a pthread mutex, then the async mutex
 * The ticker counts missed ticks (a whole period late or more) and the
 * longest gap between ticks; tasks count the time they kept a worker
 * blocked.  The blocking lock is a POSIX semaphore, not a pthread mutex: a
 * task may resume on another worker after an await, and a pthread mutex
 * must be unlocked by the thread that locked it.
 * Watch for: the ticker's gaps in thread-sleep and blocking-lock, how long
 * the holder really held the lock there, contenders giving up, and the
 * cost per lock of each mutex in short-lock.
 * Lesson: async-primitives (chapter 9).
 */
#include <errno.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "amutex.h"
#include "check.h"
#include "clock.h"
#include "exec.h"
#include "tasks.h"
#include "timer.h"
#include "wait.h"

#define MAX_JOBS 8

enum scen { THREAD_SLEEP, ASYNC_SLEEP, BLOCKING_LOCK, ASYNC_MUTEX, SHORT_LOCK, NSCEN };

static const char *const scen_name[NSCEN] = {
    "thread-sleep", "async-sleep", "blocking-lock", "async-mutex", "short-lock",
};

/* What the ticker saw during one scenario. */
struct tick_log {
    int ticks, missed;
    double max_gap_ms, last_ms;
    int burst_from, burst_to;       /* ticks of a run of missed ones, to print */
    double burst_late_ms;
};

/* One scenario's shared state and results.  Each task writes only its own
 * slots; the driver reads them after joining the tasks. */
struct stage {
    struct ct_run *run;
    enum scen sc;
    int jobs, holder_lane, ticker_lane;
    long iters;                     /* short-lock: lock/unlock per task */
    double hold_ms, give_up_ms;
    int64_t period_ns;
    sem_t sem;                      /* the blocking lock */
    struct ct_amutex am;
    pthread_mutex_t mu;
    long long counter;              /* guarded by mu, or by am */
    atomic_int holders, max_holders;
    atomic_bool stop;               /* the ticker's signal to finish */
    struct tick_log log;
    /* per task */
    double blocked_ms[MAX_JOBS], wait_ms[MAX_JOBS];
    bool done[MAX_JOBS], got[MAX_JOBS], gave_up[MAX_JOBS];
    char thread[MAX_JOBS][CT_LABEL_MAX];
    /* the lock holder */
    double held_ms;
    struct ct_join_handle contender[MAX_JOBS];
    int spawned;
    /* short-lock: ns per lock and unlock, pthread mutex then async mutex */
    int64_t first_ns, last_ns;
    double ns_per_lock[2];
    long long counted[2];
};

/* ---- the ticker ----------------------------------------------------------- */

static void tick_record(struct stage *s, int k, double late_ms)
{
    struct tick_log *l = &s->log;
    double now = ct_elapsed_ms(s->run);
    if (l->ticks > 0 && now - l->last_ms > l->max_gap_ms)
        l->max_gap_ms = now - l->last_ms;
    l->last_ms = now;
    l->ticks++;
    ct_point_lane(s->run, s->ticker_lane, '|');
    bool missed = late_ms >= (double)s->period_ns / 1e6;
    if (missed) {
        l->missed++;
        if (!l->burst_from)
            l->burst_from = k;
        l->burst_to = k;
        l->burst_late_ms = late_ms > l->burst_late_ms ? late_ms : l->burst_late_ms;
    }
    if ((!missed || atomic_load(&s->stop)) && l->burst_from) {
        if (l->burst_from == l->burst_to)
            ct_say(s->run, "tick %d missed: %.0f ms late", l->burst_from, l->burst_late_ms);
        else
            ct_say(s->run, "ticks %d-%d missed: up to %.0f ms late", l->burst_from,
                   l->burst_to, l->burst_late_ms);
        l->burst_from = 0;
        l->burst_late_ms = 0;
    }
}

/* Ticks on a fixed schedule until told to stop. */
struct ticker {
    struct ct_future base;
    int pc, k, lane;
    int64_t start;
    struct ct_sleep nap;
    struct stage *s;
};

static enum ct_poll ticker_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct ticker *t = (struct ticker *)f;
    CT_ASYNC_BEGIN(t->pc);
    t->start = ct_clock_ns();
    for (t->k = 1; !atomic_load(&t->s->stop); t->k++) {
        ct_sleep_until_init(&t->nap, t->start + t->k * t->s->period_ns);
        CT_AWAIT(t->pc, &t->nap.base, cx);
        tick_record(t->s, t->k, (double)(ct_clock_ns() - t->nap.deadline) / 1e6);
    }
    CT_ASYNC_END(t->pc);
    return CT_READY;
}

static void ticker_drop(struct ct_future *f)
{
    ct_future_drop(&((struct ticker *)f)->nap.base);
}

static const struct ct_future_ops ticker_ops = { "ticker", ticker_poll, ticker_drop };

/* ---- sleeping tasks --------------------------------------------------------- */

struct sleeper {
    struct ct_future base;
    int pc, idx;
    struct ct_sleep nap;
    struct stage *s;
};

static enum ct_poll sleeper_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct sleeper *t = (struct sleeper *)f;
    struct stage *s = t->s;
    CT_ASYNC_BEGIN(t->pc);
    snprintf(s->thread[t->idx], CT_LABEL_MAX, "%s", ct_thread_label());
    if (s->sc == THREAD_SLEEP) {
        /* the mistake: the worker itself sleeps */
        int64_t t0 = ct_clock_ns();
        ct_say(s->run, "task %d: thread sleep, %.0f ms", t->idx, s->hold_ms * ct_scale(s->run));
        ct_mark(s->run, CT_HOLD);
        s->done[t->idx] = ct_sleep_ms(s->run, s->hold_ms);
        ct_mark(s->run, CT_IDLE);
        s->blocked_ms[t->idx] = (double)(ct_clock_ns() - t0) / 1e6;
        return CT_READY;
    }
    ct_say(s->run, "task %d: awaiting a %.0f ms timer", t->idx, s->hold_ms * ct_scale(s->run));
    ct_sleep_init(&t->nap, ct_demo_ns(s->run, s->hold_ms));
    CT_AWAIT(t->pc, &t->nap.base, cx);
    s->done[t->idx] = true;
    CT_ASYNC_END(t->pc);
    return CT_READY;
}

static void sleeper_drop(struct ct_future *f)
{
    ct_future_drop(&((struct sleeper *)f)->nap.base);
}

static const struct ct_future_ops sleeper_ops = { "sleeper", sleeper_poll, sleeper_drop };

/* ---- the lock: a holder that awaits while holding it, and contenders ---- */

/* Take the semaphore, blocking this thread, until `deadline_ns`. */
static int sem_lock_bounded(sem_t *sem, int64_t deadline_ns, struct ct_event *cancel)
{
    for (;;) {
        if (sem_trywait(sem) == 0)
            return 0;
        if (cancel && ct_event_is_set(cancel))
            return -ECANCELED;
        struct timespec until;
        if (!ct_realtime_slice(deadline_ns, &until))
            return -ETIMEDOUT;
        if (sem_timedwait(sem, &until) == 0)
            return 0;
        if (errno != ETIMEDOUT && errno != EINTR)
            return -errno;
    }
}

static void enter(struct stage *s)
{
    int h = atomic_fetch_add(&s->holders, 1) + 1;
    int m = atomic_load(&s->max_holders);
    while (h > m && !atomic_compare_exchange_weak(&s->max_holders, &m, h))
        ;
}

struct contender {
    struct ct_future base;
    int pc, idx;
    int64_t t0;
    struct ct_amutex_lock lk;
    struct stage *s;
};

static enum ct_poll contender_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct contender *c = (struct contender *)f;
    struct stage *s = c->s;
    CT_ASYNC_BEGIN(c->pc);
    c->t0 = ct_clock_ns();
    if (s->sc == BLOCKING_LOCK) {
        ct_say(s->run, "task %d: waiting for the lock (blocks this worker)", c->idx);
        ct_mark(s->run, CT_WAIT);
        int rc = sem_lock_bounded(&s->sem, c->t0 + ct_demo_ns(s->run, s->give_up_ms),
                                  ct_cancel_event(s->run));
        ct_mark(s->run, CT_IDLE);
        s->wait_ms[c->idx] = s->blocked_ms[c->idx] = (double)(ct_clock_ns() - c->t0) / 1e6;
        if (rc) {
            s->gave_up[c->idx] = rc == -ETIMEDOUT;
            ct_say(s->run, "task %d: gave up after %.0f ms", c->idx, s->wait_ms[c->idx]);
            return CT_READY;
        }
        enter(s);
        atomic_fetch_sub(&s->holders, 1);
        sem_post(&s->sem);
    } else {
        ct_say(s->run, "task %d: awaiting the async mutex", c->idx);
        ct_amutex_lock_init(&c->lk, &s->am);
        CT_AWAIT(c->pc, &c->lk.base, cx);
        s->wait_ms[c->idx] = (double)(ct_clock_ns() - c->t0) / 1e6;
        enter(s);
        atomic_fetch_sub(&s->holders, 1);
        ct_amutex_unlock(&s->am);
    }
    s->got[c->idx] = true;
    ct_say(s->run, "task %d: got the lock after %.0f ms", c->idx, s->wait_ms[c->idx]);
    CT_ASYNC_END(c->pc);
    return CT_READY;
}

static void contender_drop(struct ct_future *f)
{
    ct_future_drop(&((struct contender *)f)->lk.base);
}

static const struct ct_future_ops contender_ops = { "contender", contender_poll,
                                                    contender_drop };

/* Takes the lock, starts the contenders, and holds the lock across an
 * await (the guide's bad example) before it lets go. */
struct holder {
    struct ct_future base;
    int pc;
    int64_t t0;
    struct ct_amutex_lock lk;
    struct ct_sleep nap;
    struct stage *s;
};

static int spawn_contenders(struct stage *s, struct ct_cx *cx)
{
    for (s->spawned = 0; s->spawned < s->jobs; s->spawned++) {
        struct contender c = { .base = { .ops = &contender_ops }, .idx = s->spawned, .s = s };
        int rc = ct_spawn(cx->exec, &c, &s->contender[s->spawned]);
        if (rc)
            return rc;
    }
    return 0;
}

static enum ct_poll holder_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct holder *h = (struct holder *)f;
    struct stage *s = h->s;
    CT_ASYNC_BEGIN(h->pc);
    if (s->sc == BLOCKING_LOCK) {
        if ((f->error = sem_lock_bounded(&s->sem, CT_FOREVER, ct_cancel_event(s->run))) != 0)
            return CT_READY;
    } else {
        ct_amutex_lock_init(&h->lk, &s->am);
        CT_AWAIT(h->pc, &h->lk.base, cx);
    }
    h->t0 = ct_clock_ns();
    enter(s);
    ct_mark_lane(s->run, s->holder_lane, CT_HOLD);
    ct_say(s->run, "holder: has the lock; awaits %.0f ms holding it", s->hold_ms * ct_scale(s->run));
    if ((f->error = spawn_contenders(s, cx)) != 0)
        goto release;
    ct_sleep_init(&h->nap, ct_demo_ns(s->run, s->hold_ms));
    CT_AWAIT(h->pc, &h->nap.base, cx);
release:
    s->held_ms = (double)(ct_clock_ns() - h->t0) / 1e6;
    ct_say(s->run, "holder: resumed; releases the lock after %.0f ms", s->held_ms);
    ct_mark_lane(s->run, s->holder_lane, CT_IDLE);
    atomic_fetch_sub(&s->holders, 1);
    if (s->sc == BLOCKING_LOCK)
        sem_post(&s->sem);
    else
        ct_amutex_unlock(&s->am);
    CT_ASYNC_END(h->pc);
    return CT_READY;
}

static void holder_drop(struct ct_future *f)
{
    struct holder *h = (struct holder *)f;
    ct_future_drop(&h->lk.base);
    ct_future_drop(&h->nap.base);
}

static const struct ct_future_ops holder_ops = { "holder", holder_poll, holder_drop };

/* ---- short critical sections, no await inside ------------------------------ */

struct counter_task {
    struct ct_future base;
    int pc, which;                  /* 0: pthread mutex, 1: async mutex */
    long i;
    int64_t t0;
    struct ct_amutex_lock lk;
    struct stage *s;
};

static void note_span(struct stage *s, int64_t t0, int64_t t1)
{
    /* tasks of one phase overlap: keep the first start and the last end */
    CT_PT(pthread_mutex_lock(&s->mu));
    s->first_ns = s->first_ns && s->first_ns < t0 ? s->first_ns : t0;
    s->last_ns = s->last_ns > t1 ? s->last_ns : t1;
    CT_PT(pthread_mutex_unlock(&s->mu));
}

static enum ct_poll counter_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct counter_task *t = (struct counter_task *)f;
    struct stage *s = t->s;
    if (t->t0 == 0)
        t->t0 = ct_clock_ns();
    if (t->which == 0) {
        /* locked and unlocked within this poll, on this thread */
        for (t->i = 0; t->i < s->iters; t->i++) {
            CT_PT(pthread_mutex_lock(&s->mu));
            s->counter++;
            CT_PT(pthread_mutex_unlock(&s->mu));
        }
        note_span(s, t->t0, ct_clock_ns());
        return CT_READY;
    }
    CT_ASYNC_BEGIN(t->pc);
    for (t->i = 0; t->i < s->iters; t->i++) {
        ct_amutex_lock_init(&t->lk, &s->am);
        CT_AWAIT(t->pc, &t->lk.base, cx);
        s->counter++;
        ct_amutex_unlock(&s->am);
    }
    CT_ASYNC_END(t->pc);
    note_span(s, t->t0, ct_clock_ns());
    return CT_READY;
}

static void counter_drop(struct ct_future *f)
{
    ct_future_drop(&((struct counter_task *)f)->lk.base);
}

static const struct ct_future_ops counter_ops = { "counter", counter_poll, counter_drop };

/* ---- one scenario, driven by block_on --------------------------------------- */

struct driver {
    struct ct_future base;
    int pc, which;
    struct stage *s;
    struct ticker ticker;
    struct ct_join_handle th, hh, h[MAX_JOBS];
    struct ct_sleep nap;
    struct ct_await_all all;
};

static int spawn_jobs(struct driver *d, struct ct_cx *cx)
{
    struct stage *s = d->s;
    for (int i = 0; i < s->jobs; i++) {
        int rc;
        if (s->sc == SHORT_LOCK) {
            struct counter_task c = { .base = { .ops = &counter_ops }, .which = d->which,
                                      .s = s };
            rc = ct_spawn(cx->exec, &c, &d->h[i]);
        } else {
            struct sleeper t = { .base = { .ops = &sleeper_ops }, .idx = i, .s = s };
            rc = ct_spawn(cx->exec, &t, &d->h[i]);
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* After a short-lock phase: its cost per lock, and the count it reached. */
static void short_phase_done(struct stage *s, int which)
{
    long long n = (long long)s->jobs * s->iters;
    s->ns_per_lock[which] = n ? (double)(s->last_ns - s->first_ns) / (double)n : 0;
    s->counted[which] = s->counter;
    ct_say(s->run, "%s: %lld locks, %.1f ns each",
           which ? "async mutex" : "pthread mutex", s->counter, s->ns_per_lock[which]);
    s->counter = 0;
    s->first_ns = s->last_ns = 0;
}

static enum ct_poll driver_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct driver *d = (struct driver *)f;
    struct stage *s = d->s;
    CT_ASYNC_BEGIN(d->pc);
    if ((f->error = ct_spawn(cx->exec, &d->ticker, &d->th)) != 0)
        return CT_READY;
    ct_sleep_init(&d->nap, 3 * s->period_ns);
    CT_AWAIT(d->pc, &d->nap.base, cx);
    if (s->sc == BLOCKING_LOCK || s->sc == ASYNC_MUTEX) {
        struct holder h = { .base = { .ops = &holder_ops }, .s = s };
        if ((f->error = ct_spawn(cx->exec, &h, &d->hh)) != 0)
            return CT_READY;
        CT_AWAIT(d->pc, &d->hh.base, cx);
        ct_await_all_init(&d->all, s->contender, (size_t)s->spawned);
        CT_AWAIT(d->pc, &d->all.base, cx);
    } else {
        for (d->which = 0; d->which < (s->sc == SHORT_LOCK ? 2 : 1); d->which++) {
            if ((f->error = spawn_jobs(d, cx)) != 0)
                return CT_READY;
            ct_await_all_init(&d->all, d->h, (size_t)s->jobs);
            CT_AWAIT(d->pc, &d->all.base, cx);
            for (int i = 0; i < s->jobs; i++)
                ct_future_drop(&d->h[i].base);
            if (s->sc == SHORT_LOCK)
                short_phase_done(s, d->which);
        }
    }
    /* a few more periods, to see the ticker back on time */
    ct_sleep_init(&d->nap, 3 * s->period_ns);
    CT_AWAIT(d->pc, &d->nap.base, cx);
    atomic_store(&s->stop, true);
    CT_AWAIT(d->pc, &d->th.base, cx);
    CT_ASYNC_END(d->pc);
    return CT_READY;
}

static void driver_drop(struct ct_future *f)
{
    struct driver *d = (struct driver *)f;
    ct_future_drop(&d->ticker.base);
    ct_future_drop(&d->th.base);
    ct_future_drop(&d->hh.base);
    /* not s->contender[]: the holder task may still be filling them in */
    for (int i = 0; i < MAX_JOBS; i++)
        ct_future_drop(&d->h[i].base);
    ct_future_drop(&d->nap.base);
    ct_future_drop(&d->all.base);
}

static const struct ct_future_ops driver_ops = { "scenario", driver_poll, driver_drop };

/* Run one scenario on *ex.  0, or a negative errno (-ECANCELED); then the
 * executor has been freed (*ex is NULL), so that no task still runs when
 * the scenario's state goes, nor writes the contenders' handles. */
static int run_stage(struct ct_exec **ex, struct stage *s)
{
    int rc = -pthread_mutex_init(&s->mu, NULL);
    if (rc)
        return rc;
    if ((rc = ct_amutex_init(&s->am)) != 0) {
        CT_PT(pthread_mutex_destroy(&s->mu));
        return rc;
    }
    if (sem_init(&s->sem, 0, 1) != 0) {
        rc = -errno;
        ct_amutex_destroy(&s->am);
        CT_PT(pthread_mutex_destroy(&s->mu));
        return rc;
    }
    struct driver d = {
        .base = { .ops = &driver_ops }, .s = s,
        .ticker = { .base = { .ops = &ticker_ops }, .s = s },
    };
    rc = ct_block_on(*ex, &d.base);
    if (rc == 0)
        rc = d.base.error;
    ct_future_drop(&d.base);        /* its timers go while the reactor lives */
    if (rc) {
        ct_exec_free(*ex);          /* stops and drops every task */
        *ex = NULL;
    }
    for (int i = 0; i < MAX_JOBS; i++)
        ct_future_drop(&s->contender[i].base);
    sem_destroy(&s->sem);
    ct_amutex_destroy(&s->am);
    CT_PT(pthread_mutex_destroy(&s->mu));
    return rc;
}

/* ---- reporting ---------------------------------------------------------------- */

struct config {
    struct ct_run *run;
    int workers, jobs;
    bool on[NSCEN];
};

static double blocked_total(const struct stage *s)
{
    double sum = 0;
    for (int i = 0; i < s->jobs; i++)
        sum += s->blocked_ms[i];
    return sum;
}

static int count(const bool *v, int n)
{
    int c = 0;
    for (int i = 0; i < n; i++)
        c += v[i];
    return c;
}

static void check_stage(struct config *cfg, const struct stage *s)
{
    struct ct_run *run = cfg->run;
    const char *name = scen_name[s->sc];
    if (s->sc == THREAD_SLEEP || s->sc == ASYNC_SLEEP) {
        ct_check(run, count(s->done, s->jobs) == s->jobs, "%s: %d of %d tasks slept to the end",
                 name, count(s->done, s->jobs), s->jobs);
        int on_workers = 0;
        for (int i = 0; i < s->jobs; i++)
            on_workers += strncmp(s->thread[i], "worker-", 7) == 0;
        ct_check(run, on_workers == s->jobs, "%s: the tasks ran on worker threads (%d of %d)",
                 name, on_workers, s->jobs);
    } else if (s->sc == SHORT_LOCK) {
        long long n = (long long)s->jobs * s->iters;
        ct_check(run, s->counted[0] == n && s->counted[1] == n,
                 "%s: both counters reached exactly %lld (pthread %lld, async %lld)", name, n,
                 s->counted[0], s->counted[1]);
    } else {
        int got = count(s->got, s->jobs), gave = count(s->gave_up, s->jobs);
        ct_check(run, atomic_load(&s->max_holders) == 1,
                 "%s: one holder at a time (most at once: %d)", name,
                 atomic_load(&s->max_holders));
        ct_check(run, got + gave == s->jobs,
                 "%s: every contender got the lock or gave up (%d got it, %d gave up, of %d)",
                 name, got, gave, s->jobs);
        if (s->sc == ASYNC_MUTEX)
            ct_check(run, got == s->jobs, "%s: all %d contenders got the lock", name, s->jobs);
    }
}

static void report_table(struct config *cfg, const struct stage *st)
{
    static const char *const cols[] = {
        "scenario", "ticks", "missed", "max_gap_ms|max gap ms", "blocked_ms|blocked ms",
        "held_ms|held ms", "gave_up|gave up", NULL,
    };
    struct ct_table *t = ct_table_new(cfg->run, "scenarios",
                                      "the ticker, and worker time spent blocked", cols);
    for (int k = 0; k < NSCEN; k++) {
        const struct stage *s = &st[k];
        if (!cfg->on[k])
            continue;
        bool lock = k == BLOCKING_LOCK || k == ASYNC_MUTEX;
        ct_table_row(t, CT_TEXT(scen_name[k]), CT_INT(s->log.ticks), CT_INT(s->log.missed),
                     CT_NUM(s->log.max_gap_ms, 1), CT_NUM(blocked_total(s), 1),
                     lock ? CT_NUM(s->held_ms, 1) : CT_TEXT("-"),
                     lock ? CT_INT(count(s->gave_up, s->jobs)) : CT_TEXT("-"));
    }
    ct_bars(cfg->run, t, "longest silence of the ticker", 0, 3, "ms");
    if (cfg->on[SHORT_LOCK]) {
        ct_result_num(cfg->run, "ns_pthread", "short-lock: pthread mutex, ns per lock",
                      st[SHORT_LOCK].ns_per_lock[0], 1, "ns");
        ct_result_num(cfg->run, "ns_amutex", "short-lock: async mutex, ns per lock",
                      st[SHORT_LOCK].ns_per_lock[1], 1, "ns");
    }
    ct_result_int(cfg->run, "workers", "executor workers", cfg->workers, NULL);
    ct_result_int(cfg->run, "cpus", "CPUs online", ct_cpus(), NULL);
}

static double longest_wait(const struct stage *s)
{
    double m = 0;
    for (int i = 0; i < s->jobs; i++)
        m = s->wait_ms[i] > m ? s->wait_ms[i] : m;
    return m;
}

static void takeaway_lock(struct config *cfg, const struct stage *b, const struct stage *a)
{
    struct ct_run *run = cfg->run;
    double plan = b->hold_ms * ct_scale(run);
    int gave = count(b->gave_up, b->jobs);
    bool stuck = gave > 0 && b->jobs >= cfg->workers && b->held_ms >= plan * 1.5;
    ct_takeaway(run,
                "Holding the blocking lock across an await: the holder meant to keep it %.0f "
                "ms and kept it %.0f ms; %d contender%s blocked %s worker%s, %d gave up, and "
                "the ticker missed %d ticks.%s",
                plan, b->held_ms, b->jobs, b->jobs == 1 ? "" : "s",
                b->jobs == 1 ? "its" : "their", b->jobs == 1 ? "" : "s", gave, b->log.missed,
                stuck ? " With every worker blocked waiting for the lock, the holder had no "
                        "worker to resume on and release it: a deadlock that only the "
                        "contenders' timeout broke."
                      : "");
    if (cfg->on[ASYNC_MUTEX])
        ct_takeaway(run,
                    "With the async mutex the holder kept it %.0f ms, the contenders waited "
                    "without holding a worker (the longest wait %.0f ms), and the ticker "
                    "missed %d ticks (longest gap %.1f ms).",
                    a->held_ms, longest_wait(a), a->log.missed, a->log.max_gap_ms);
}

static void report_takeaway(struct config *cfg, const struct stage *st)
{
    struct ct_run *run = cfg->run;
    if (cfg->on[THREAD_SLEEP]) {
        const struct stage *b = &st[THREAD_SLEEP], *a = &st[ASYNC_SLEEP];
        ct_takeaway(run,
                    "A thread sleep in %d task%s kept %d worker%s blocked for %.0f ms in all, "
                    "and the ticker missed %d ticks (longest gap %.1f ms).%s",
                    b->jobs, b->jobs == 1 ? "" : "s", b->jobs < cfg->workers ? b->jobs
                                                                              : cfg->workers,
                    cfg->workers == 1 ? "" : "s", blocked_total(b), b->log.missed,
                    b->log.max_gap_ms,
                    b->jobs < cfg->workers ? " A free worker was left, so the ticker could "
                                             "still run: blocking eats capacity first." : "");
        if (cfg->on[ASYNC_SLEEP])
            ct_takeaway(run,
                        "Awaiting the sleep future instead, no worker was blocked and the "
                        "ticker missed %d (longest gap %.1f ms).",
                        a->log.missed, a->log.max_gap_ms);
    }
    if (cfg->on[BLOCKING_LOCK])
        takeaway_lock(cfg, &st[BLOCKING_LOCK], &st[ASYNC_MUTEX]);
    if (cfg->on[SHORT_LOCK]) {
        const struct stage *s = &st[SHORT_LOCK];
        ct_takeaway(run,
                    "Locked and unlocked within one poll, never across an await, the pthread "
                    "mutex cost %.1f ns per lock and the async mutex %.1f ns, and the ticker "
                    "missed %d ticks. For a short critical section with no await inside, the "
                    "plain mutex is the right tool in async code too.",
                    s->ns_per_lock[0], s->ns_per_lock[1], s->log.missed);
    }
}

static int blocking_in_async_run(struct ct_run *run)
{
    struct config cfg = { .run = run, .workers = (int)ct_param_int(run, "workers"),
                          .jobs = (int)ct_param_int(run, "jobs") };
    if (cfg.jobs == 0)
        cfg.jobs = cfg.workers < MAX_JOBS ? cfg.workers : MAX_JOBS;
    struct stage *st = calloc(NSCEN, sizeof *st);
    if (!st)
        return -ENOMEM;
    int ticker_lane = ct_lane(run, "ticker (a task)");
    int holder_lane = ct_lane(run, "lock holder (a task)");
    ct_legend(run, CT_HOLD, "worker: blocked in a call; holder: holds the lock");
    ct_legend(run, CT_WAIT, "worker blocked waiting for the lock");
    ct_point_legend(run, '|', "a tick");
    struct ct_exec *ex;
    int rc = ct_demo_executor(run, CT_EXEC_MULTI_THREAD, cfg.workers, &ex);
    for (int k = 0; k < NSCEN && rc == 0; k++) {
        if (!(cfg.on[k] = ct_param_has(run, "scenarios", scen_name[k])))
            continue;
        st[k] = (struct stage){
            .run = run, .sc = (enum scen)k, .jobs = cfg.jobs, .ticker_lane = ticker_lane,
            .holder_lane = holder_lane, .iters = (long)ct_param_int(run, "iters"),
            .hold_ms = (double)ct_param_int(run, "hold-ms"),
            .give_up_ms = (double)ct_param_int(run, "give-up-ms"),
            .period_ns = ct_demo_ns(run, (double)ct_param_int(run, "tick-ms")),
        };
        ct_section(run, "%s: %d task%s, %d worker%s", scen_name[k], cfg.jobs,
                   cfg.jobs == 1 ? "" : "s", cfg.workers, cfg.workers == 1 ? "" : "s");
        rc = run_stage(&ex, &st[k]);
        if (rc == 0)
            check_stage(&cfg, &st[k]);
    }
    ct_exec_free(ex);
    if (rc == 0) {
        report_table(&cfg, st);
        report_takeaway(&cfg, st);
    }
    free(st);
    return rc == -ECANCELED ? 0 : rc;
}

static const struct ct_param_spec blocking_in_async_params[] = {
    { "workers", CT_PARAM_INT, "2", 1, 8, NULL, "executor workers" },
    { "jobs", CT_PARAM_INT, "0", 0, MAX_JOBS, NULL,
      "tasks that sleep or contend (0: one per worker)" },
    { "tick-ms", CT_PARAM_INT, "20", 1, 1000, NULL, "the ticker's period" },
    { "hold-ms", CT_PARAM_INT, "100", 1, 5000, NULL,
      "how long a task sleeps, or holds the lock (the guide's 1 s)" },
    { "give-up-ms", CT_PARAM_INT, "300", 1, 10000, NULL,
      "blocking-lock: how long a contender waits before giving up" },
    { "iters", CT_PARAM_INT, "20000", 1, 10000000, NULL,
      "short-lock: lock and unlock per task" },
    { "scenarios", CT_PARAM_SET, "all", 0, 0,
      "thread-sleep,async-sleep,blocking-lock,async-mutex,short-lock", "scenarios to run" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_blocking_in_async = {
    .name = "blocking-in-async",
    .chapter = 9,
    .title = "Async primitives in async code",
    .summary = "A blocking sleep or lock stalls its worker; the async sleep and mutex do not",
    .intro = "A ticker task ticks every 20 ms while other tasks sleep or fight over a lock, "
             "first with blocking calls (a thread sleep, a blocking lock held across an "
             "await), then with the async sleep and mutex. Count the ticker's missed ticks.",
    .params = blocking_in_async_params,
    .smoke = "tick-ms=5 hold-ms=30 give-up-ms=60 iters=2000",
    .run = blocking_in_async_run,
};
