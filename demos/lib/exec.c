/* exec.c - see exec.h.
 *
 * Map of this file:
 *   tasks          the heap block, its state word and reference count
 *   queues         the injection queue (mutex + list) and each worker's
 *                  local ring (lock-free: owner pushes, anyone CASes head)
 *   sleeping       how idle workers park and who wakes them
 *   running        poll one task; finish or re-queue it
 *   workers        find work: own queue, injection queue, steal; park
 *   block_on       drive one future from a plain thread
 *   shutdown       stop, cancel what is left, join
 */
#include "exec.h"

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blocking.h"
#include "check.h"
#include "clock.h"
#include "reactor.h"
#include "stealq.h"
#include "wait.h"

#define STEAL_MAX CT_STEALQ_HALF
#define INJECT_EVERY 61         /* a worker looks at the shared queue first every N picks */
#define CT_BUDGET 128           /* current-thread: tasks run between looks at the main future */
#define SHARDS 16               /* the list of live tasks is split to spread its locks */

/* ---- tasks --------------------------------------------------------------- */

/* The state word.  A task is in at most one run queue, and only while
 * SCHEDULED; a wake-up while it is RUNNING leaves NOTIFIED set, and the
 * worker re-queues it after the poll.  DONE is final: wake-ups are
 * ignored. */
enum { TS_SCHEDULED = 1, TS_RUNNING = 2, TS_NOTIFIED = 4, TS_DONE = 8 };

struct ct_task {
    atomic_uint state;
    atomic_uint refs;           /* the executor's (until DONE), the handle's, wakers' */
    struct ct_exec *exec;
    struct ct_task *next;       /* link in the injection queue */
    struct ct_task *owned_prev, *owned_next;    /* list of live tasks */
    uint64_t id;
    struct ct_waker_slot joiner;    /* the task awaiting the join handle */
    /* the outcome, written before DONE is published */
    enum ct_join_status status;
    intptr_t value;
    int error;
    char *panic;
    alignas(max_align_t) unsigned char fut[];   /* the future, moved in */
};

static struct ct_future *task_future(struct ct_task *t)
{
    return (struct ct_future *)(void *)t->fut;
}

size_t ct_task_bytes(size_t future_size)
{
    return sizeof(struct ct_task) + future_size;
}

static void task_unref(struct ct_task *t)
{
    if (atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1) {
        ct_waker_slot_destroy(&t->joiner);
        free(t->panic);
        free(t);
    }
}

/* ---- queues -------------------------------------------------------------- */

/* FIFO of tasks linked through ->next.  The multi-threaded executor's
 * injection queue, and the current-thread executor's only run queue. */
struct taskq {
    pthread_mutex_t mu;
    struct ct_task *head, *tail;
    atomic_size_t len;          /* read without the lock to skip empty queues */
    bool closed;                /* shutdown: pushes are refused */
};

/* Push a chain of n tasks already linked through ->next, first to last. */
static bool taskq_push_chain(struct taskq *q, struct ct_task *first, struct ct_task *last,
                             size_t n)
{
    CT_PT(pthread_mutex_lock(&q->mu));
    bool ok = !q->closed;
    if (ok) {
        last->next = NULL;
        if (q->tail)
            q->tail->next = first;
        else
            q->head = first;
        q->tail = last;
        atomic_fetch_add(&q->len, n);   /* seq_cst: see "sleeping" */
    }
    CT_PT(pthread_mutex_unlock(&q->mu));
    return ok;
}

static bool taskq_push(struct taskq *q, struct ct_task *t)
{
    return taskq_push_chain(q, t, t, 1);
}

/* Pop up to `max` tasks into out[]; returns how many. */
static size_t taskq_pop_batch(struct taskq *q, struct ct_task **out, size_t max)
{
    if (atomic_load_explicit(&q->len, memory_order_relaxed) == 0)
        return 0;
    size_t n = 0;
    CT_PT(pthread_mutex_lock(&q->mu));
    while (n < max && q->head) {
        out[n++] = q->head;
        q->head = q->head->next;
    }
    if (!q->head)
        q->tail = NULL;
    atomic_fetch_sub(&q->len, n);
    CT_PT(pthread_mutex_unlock(&q->mu));
    return n;
}

static struct ct_task *taskq_pop(struct taskq *q)
{
    struct ct_task *t = NULL;
    return taskq_pop_batch(q, &t, 1) ? t : NULL;
}

/* The owner's queue is full: move its older half, then `t`, to the
 * injection queue in one go (one lock for CT_STEALQ_HALF + 1 tasks, instead
 * of one per task while it stays full).  Returns false if the queue had
 * room after all (thieves took some) and `t` should simply be pushed. */
static bool localq_overflow(struct ct_stealq *q, struct taskq *inject, struct ct_task *t)
{
    void *batch[CT_STEALQ_HALF];
    if (ct_stealq_take_half(q, batch) == 0)
        return false;
    for (size_t i = 0; i + 1 < CT_STEALQ_HALF; i++)
        ((struct ct_task *)batch[i])->next = batch[i + 1];
    ((struct ct_task *)batch[CT_STEALQ_HALF - 1])->next = t;
    /* refused only at shutdown, which cancels them all anyway */
    taskq_push_chain(inject, batch[0], t, CT_STEALQ_HALF + 1);
    return true;
}

/* ---- the executor ------------------------------------------------------- */

#define STAT_INC(field, by) \
    atomic_store_explicit(&(field), atomic_load_explicit(&(field), memory_order_relaxed) + (by), \
                          memory_order_relaxed)

/* Counters written only by their own worker, read by anyone. */
struct wstats {
    atomic_uint_fast64_t polls, completed, from_injector, stolen, steals, parks;
};

struct worker {
    struct ct_stealq q;
    struct ct_exec *ex;
    int index;
    void *thread;
    pthread_mutex_t park_mu;
    pthread_cond_t park_cv;
    bool notified;              /* guarded by park_mu */
    bool driving;               /* parked in the reactor, not on park_cv (park_mu) */
    bool searching;             /* this worker's own view */
    unsigned tick;
    uint32_t rng;
    struct wstats st;
};

struct shard {
    /* a line each: the spawner inserts and a worker removes */
    _Alignas(64) pthread_mutex_t mu;
    struct ct_task *head;
    bool closed;
};

/* idle_state packs the number of workers not parked (high half) and the
 * number looking for work (low half) in one word, so one load sees both. */
#define SEARCHING_ONE 1u
#define UNPARKED_ONE  (1u << 16)
#define SEARCHING(s)  ((s) & 0xffffu)
#define UNPARKED(s)   ((s) >> 16)

struct ct_exec {
    enum ct_exec_flavor flavor;
    int nworkers;               /* 1 for current-thread (stats only, no thread) */
    struct worker *workers;
    struct taskq inject;
    struct ct_reactor reactor;
    void *reactor_thread;
    atomic_bool driver;         /* someone is turning the reactor (multi-thread) */
    atomic_bool shutdown;
    atomic_bool driving;        /* current-thread: a block_on is running */
    /* sleeping workers */
    pthread_mutex_t sleep_mu;
    int *sleepers;
    int nsleepers;
    atomic_uint idle_state;
    /* every live task, for shutdown */
    struct shard owned[SHARDS];
    /* Counted by whoever spawns, and (a line of their own) by whoever
     * finishes a task: on one line they cost a cache miss each way per
     * task, since the spawner and the workers are on different cores. */
    _Alignas(64) atomic_uint_fast64_t next_id, spawned, task_bytes;
    _Alignas(64) atomic_uint_fast64_t completed, failed, panicked, cancelled;
    _Alignas(64) struct ct_blocking_pool blocking;
    struct ct_event *cancel;
    struct ct_thread_hooks hooks;
};

/* The worker running on this thread, and the current-thread executor this
 * thread is driving: how a wake-up knows it is "local". */
static _Thread_local struct worker *tls_worker;
static _Thread_local struct ct_exec *tls_driving;

/* ---- sleeping ------------------------------------------------------------
 *
 * A worker with nothing to do parks on its own condition variable, after
 * putting itself on the sleepers list.  Whoever makes work (a push to a
 * local queue or the injection queue) then calls notify_parked(), which
 * wakes one sleeper unless some worker is already searching (it will find
 * the work) or none is asleep.  The race to avoid: a worker checks the
 * queues, finds nothing, and parks just as work arrives and the pusher
 * decides nobody needs waking.  The last searcher to park therefore looks
 * at every queue again after announcing itself in idle_state, and pushers
 * read idle_state after pushing; all four accesses are seq_cst, so at
 * least one side sees the other.
 */

static void unpark(struct worker *w)
{
    CT_PT(pthread_mutex_lock(&w->park_mu));
    w->notified = true;
    if (w->driving)
        ct_reactor_unpark(&w->ex->reactor);     /* it sleeps in epoll_wait */
    else
        CT_PT(pthread_cond_signal(&w->park_cv));
    CT_PT(pthread_mutex_unlock(&w->park_mu));
}

static void notify_parked(struct ct_exec *ex)
{
    unsigned s = atomic_load(&ex->idle_state);
    if (SEARCHING(s) > 0 || UNPARKED(s) >= (unsigned)ex->nworkers)
        return;
    int wake = -1;
    CT_PT(pthread_mutex_lock(&ex->sleep_mu));
    s = atomic_load(&ex->idle_state);
    if (SEARCHING(s) == 0 && ex->nsleepers > 0) {
        wake = ex->sleepers[--ex->nsleepers];
        /* it wakes up searching */
        atomic_fetch_add(&ex->idle_state, UNPARKED_ONE + SEARCHING_ONE);
    }
    CT_PT(pthread_mutex_unlock(&ex->sleep_mu));
    if (wake >= 0)
        unpark(&ex->workers[wake]);
}

static bool work_visible(struct ct_exec *ex)
{
    if (atomic_load(&ex->inject.len) > 0)
        return true;
    for (int i = 0; i < ex->nworkers; i++) {
        if (ct_stealq_len(&ex->workers[i].q) > 0)
            return true;
    }
    return false;
}

static void begin_search(struct worker *w)
{
    if (!w->searching) {
        w->searching = true;
        atomic_fetch_add(&w->ex->idle_state, SEARCHING_ONE);
    }
}

/* Found work after searching: if it was the last searcher, wake another
 * worker to look for what may be left. */
static void end_search(struct worker *w)
{
    w->searching = false;
    unsigned prev = atomic_fetch_sub(&w->ex->idle_state, SEARCHING_ONE);
    if (SEARCHING(prev) == 1)
        notify_parked(w->ex);
}

/* ---- scheduling ---------------------------------------------------------- */

/* Queue `t`, whose state this caller just set to SCHEDULED. */
static void schedule(struct ct_task *t)
{
    struct ct_exec *ex = t->exec;
    if (ex->flavor == CT_EXEC_CURRENT_THREAD) {
        /* a refused push means shutdown, which cancels the task anyway */
        if (taskq_push(&ex->inject, t) && tls_driving != ex)
            ct_reactor_unpark(&ex->reactor);
        return;
    }
    struct worker *w = tls_worker;
    if (w && w->ex == ex) {
        while (!ct_stealq_push(&w->q, t)) {
            if (localq_overflow(&w->q, &ex->inject, t))
                break;
        }
        notify_parked(ex);
        return;
    }
    /* from outside the executor */
    if (taskq_push(&ex->inject, t))
        notify_parked(ex);
}

/* Every wake-up is a read-modify-write of the state word, even when the
 * task is already queued or running: the worker's own read-modify-write
 * when it starts a poll then synchronises with it, so that poll sees
 * whatever the waker published before waking.  (With a plain load here a
 * waker could see "queued", skip, and the poll still miss its write: the
 * store-buffering pattern, a lost wake-up.)  NOTIFIED alone, without
 * SCHEDULED or RUNNING, means "a waker is queueing it right now". */
static void wake_task(struct ct_task *t)
{
    unsigned prev = atomic_fetch_or_explicit(&t->state, TS_NOTIFIED, memory_order_acq_rel);
    if (prev != 0)
        return;                 /* finished, queued, running, or being queued */
    atomic_fetch_or_explicit(&t->state, TS_SCHEDULED, memory_order_acq_rel);
    schedule(t);
}

static void waker_clone(void *p)
{
    struct ct_task *t = p;
    atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
}

static void waker_wake(void *p)
{
    wake_task(p);
}

static void waker_drop(void *p)
{
    task_unref(p);
}

static const struct ct_waker_ops task_waker_ops = { waker_clone, waker_wake, waker_drop };

/* ---- the list of live tasks --------------------------------------------- */

static bool owned_insert(struct ct_exec *ex, struct ct_task *t)
{
    struct shard *sh = &ex->owned[t->id % SHARDS];
    CT_PT(pthread_mutex_lock(&sh->mu));
    bool ok = !sh->closed;
    if (ok) {
        t->owned_prev = NULL;
        t->owned_next = sh->head;
        if (sh->head)
            sh->head->owned_prev = t;
        sh->head = t;
    }
    CT_PT(pthread_mutex_unlock(&sh->mu));
    return ok;
}

static void owned_remove(struct ct_exec *ex, struct ct_task *t)
{
    struct shard *sh = &ex->owned[t->id % SHARDS];
    CT_PT(pthread_mutex_lock(&sh->mu));
    if (t->owned_prev)
        t->owned_prev->owned_next = t->owned_next;
    else
        sh->head = t->owned_next;
    if (t->owned_next)
        t->owned_next->owned_prev = t->owned_prev;
    CT_PT(pthread_mutex_unlock(&sh->mu));
}

/* ---- running ------------------------------------------------------------- */

/* Record the outcome, drop the future (its cleanup runs), publish DONE,
 * wake the joiner and give up the executor's reference. */
static void finish(struct ct_exec *ex, struct ct_task *t, enum ct_join_status status,
                   const char *panic_msg)
{
    struct ct_future *f = task_future(t);
    t->status = status;
    t->value = f->value;
    t->error = status == CT_JOIN_CANCELLED ? -ECANCELED
               : status == CT_JOIN_PANICKED ? -ENOTRECOVERABLE : f->error;
    if (panic_msg)
        t->panic = strdup(panic_msg);
    ct_future_drop(f);
    owned_remove(ex, t);
    atomic_exchange_explicit(&t->state, TS_DONE, memory_order_acq_rel);
    atomic_uint_fast64_t *counter = status == CT_JOIN_OK ? &ex->completed
                                    : status == CT_JOIN_FAILED ? &ex->failed
                                    : status == CT_JOIN_PANICKED ? &ex->panicked
                                    : &ex->cancelled;
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
    ct_waker_slot_wake(&t->joiner);
    task_unref(t);
}

/* Poll one task popped from a queue. */
static void run_task(struct ct_exec *ex, struct ct_task *t, struct worker *w)
{
    /* clears SCHEDULED and NOTIFIED: wake-ups from now on ask for another poll */
    atomic_exchange_explicit(&t->state, TS_RUNNING, memory_order_acq_rel);
    struct ct_waker waker = { &task_waker_ops, t };
    struct ct_cx cx = { .waker = &waker, .exec = ex, .reactor = &ex->reactor,
                        .worker = w->index };
    bool panicked;
    char msg[200];
    enum ct_poll r = ct_future_poll_catch(task_future(t), &cx, &panicked, msg, sizeof msg);
    STAT_INC(w->st.polls, 1);
    if (r == CT_READY) {
        STAT_INC(w->st.completed, 1);
        finish(ex, t, panicked ? CT_JOIN_PANICKED
                      : task_future(t)->error ? CT_JOIN_FAILED : CT_JOIN_OK,
               panicked ? msg : NULL);
        return;
    }
    unsigned s = TS_RUNNING;
    if (atomic_compare_exchange_strong_explicit(&t->state, &s, 0, memory_order_acq_rel,
                                                memory_order_acquire))
        return;                 /* parked until a waker schedules it */
    /* woken during the poll: to the back of the queue, so others run too */
    atomic_exchange_explicit(&t->state, TS_SCHEDULED, memory_order_acq_rel);
    schedule(t);
}

/* ---- spawning and join handles ----------------------------------------- */

static enum ct_poll join_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct ct_join_handle *h = (struct ct_join_handle *)f;
    struct ct_task *t = h->task;
    if (!(atomic_load_explicit(&t->state, memory_order_acquire) & TS_DONE)) {
        ct_waker_slot_register(&t->joiner, cx->waker);
        /* again: it may have finished before the waker was in place */
        if (!(atomic_load_explicit(&t->state, memory_order_acquire) & TS_DONE))
            return CT_PENDING;
    }
    h->status = t->status;
    f->value = t->value;
    f->error = t->error;
    h->panic[0] = '\0';
    if (t->panic)
        snprintf(h->panic, sizeof h->panic, "%s", t->panic);
    return CT_READY;
}

static void join_drop(struct ct_future *f)
{
    struct ct_join_handle *h = (struct ct_join_handle *)f;
    if (h->task)
        task_unref(h->task);
    h->task = NULL;
}

static const struct ct_future_ops join_ops = { "join handle", join_poll, join_drop };

int ct_spawn_(struct ct_exec *ex, struct ct_future *f, size_t size,
              struct ct_join_handle *h)
{
    if (h)
        *h = (struct ct_join_handle){ .status = CT_JOIN_CANCELLED };
    if (size < sizeof *f) {
        ct_future_drop(f);
        return -EINVAL;
    }
    struct ct_task *t = atomic_load(&ex->shutdown) ? NULL : malloc(ct_task_bytes(size));
    if (!t) {
        ct_future_drop(f);
        return atomic_load(&ex->shutdown) ? -ESHUTDOWN : -ENOMEM;
    }
    int rc = ct_waker_slot_init(&t->joiner);
    if (rc) {
        free(t);
        ct_future_drop(f);
        return rc;
    }
    atomic_init(&t->state, TS_SCHEDULED);
    atomic_init(&t->refs, h ? 2u : 1u);
    t->exec = ex;
    t->next = NULL;
    t->id = atomic_fetch_add_explicit(&ex->next_id, 1, memory_order_relaxed) + 1;
    t->status = CT_JOIN_OK;
    t->value = 0;
    t->error = 0;
    t->panic = NULL;
    /* the move: the task has the future now, the caller an empty slot */
    memcpy(t->fut, f, size);
    f->ops = NULL;
    if (!owned_insert(ex, t)) {
        ct_future_drop(task_future(t));
        ct_waker_slot_destroy(&t->joiner);
        free(t);
        return -ESHUTDOWN;
    }
    atomic_fetch_add_explicit(&ex->spawned, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&ex->task_bytes, ct_task_bytes(size), memory_order_relaxed);
    if (h) {
        h->base.ops = &join_ops;
        h->task = t;
        h->id = t->id;
        h->status = CT_JOIN_OK;
    }
    schedule(t);
    return 0;
}

static enum ct_poll await_all_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct ct_await_all *a = (struct ct_await_all *)f;
    for (; a->next < a->n; a->next++) {
        if (ct_future_poll(&a->h[a->next].base, cx) == CT_PENDING)
            return CT_PENDING;
    }
    f->value = (intptr_t)a->n;
    return CT_READY;
}

static const struct ct_future_ops await_all_ops = { "await all", await_all_poll, NULL };

void ct_await_all_init(struct ct_await_all *a, struct ct_join_handle *h, size_t n)
{
    *a = (struct ct_await_all){ .base = { .ops = &await_all_ops }, .h = h, .n = n };
}

const char *ct_join_status_name(enum ct_join_status s)
{
    static const char *const names[] = { "ok", "failed", "panicked", "cancelled" };
    return (unsigned)s < 4 ? names[s] : "?";
}

/* ---- workers ------------------------------------------------------------- */

/* Move a batch from the injection queue into our (empty) local queue and
 * return its first task. */
static struct ct_task *pull_injector(struct worker *w)
{
    struct ct_exec *ex = w->ex;
    size_t len = atomic_load_explicit(&ex->inject.len, memory_order_relaxed);
    if (len == 0)
        return NULL;
    /* a fair share, so the other workers find some left */
    size_t want = len / (size_t)ex->nworkers + 1;
    if (want > STEAL_MAX)
        want = STEAL_MAX;
    struct ct_task *batch[STEAL_MAX];
    size_t n = taskq_pop_batch(&ex->inject, batch, want);
    if (n == 0)
        return NULL;
    for (size_t i = 1; i < n; i++)
        ct_stealq_push(&w->q, batch[i]);
    STAT_INC(w->st.from_injector, n);
    if (n > 1)
        notify_parked(ex);
    return batch[0];
}

static struct ct_task *steal_work(struct worker *w)
{
    struct ct_exec *ex = w->ex;
    int n = ex->nworkers;
    w->rng = w->rng * 1103515245u + 12345u;
    int start = (int)((w->rng >> 16) % (unsigned)n);
    for (int i = 0; i < n; i++) {
        struct worker *victim = &ex->workers[(start + i) % n];
        if (victim == w)
            continue;
        size_t got = 0;
        struct ct_task *t = ct_stealq_steal(&victim->q, &w->q, STEAL_MAX, &got);
        if (t) {
            STAT_INC(w->st.stolen, got);
            STAT_INC(w->st.steals, 1);
            return t;
        }
    }
    return NULL;
}

static struct ct_task *find_work(struct worker *w)
{
    struct ct_exec *ex = w->ex;
    struct ct_task *t;
    /* now and then the shared queue first, so its tasks cannot starve
     * behind tasks that keep re-queueing themselves locally */
    if (++w->tick % INJECT_EVERY == 0 && (t = taskq_pop(&ex->inject))) {
        STAT_INC(w->st.from_injector, 1);
        return t;
    }
    if ((t = ct_stealq_pop(&w->q)))
        return t;
    if ((t = pull_injector(w)))
        return t;
    begin_search(w);
    if ((t = steal_work(w)))
        return t;
    return pull_injector(w);
}

/* Back from the reactor without being notified: this worker is still on
 * the sleepers list and counted as parked.  Take it off as notify_parked
 * would have (it wakes up searching).  If a notifier got there first, it
 * has counted us already and is about to call unpark(): wait for that
 * flag and consume it, for a flag left behind would later be taken for a
 * notification that took us off the list when it had not. */
static void unsleep(struct worker *w)
{
    struct ct_exec *ex = w->ex;
    bool found = false;
    CT_PT(pthread_mutex_lock(&ex->sleep_mu));
    for (int i = 0; i < ex->nsleepers && !found; i++) {
        if ((found = ex->sleepers[i] == w->index))
            ex->sleepers[i] = ex->sleepers[--ex->nsleepers];
    }
    if (found)
        atomic_fetch_add(&ex->idle_state, UNPARKED_ONE + SEARCHING_ONE);
    CT_PT(pthread_mutex_unlock(&ex->sleep_mu));
    if (!found) {
        CT_PT(pthread_mutex_lock(&w->park_mu));
        while (!w->notified && !atomic_load(&ex->shutdown))
            CT_PT(pthread_cond_wait(&w->park_cv, &w->park_mu));
        w->notified = false;
        CT_PT(pthread_mutex_unlock(&w->park_mu));
    }
    w->searching = true;
}

/* Park in the reactor instead of on park_cv, if no other thread is in it:
 * the tasks this turn wakes go to this worker's own queue and run on the
 * thread that saw their sockets become ready, with no hand-off through
 * the shared queue and no second thread to wake (tokio's workers drive
 * their I/O driver the same way).  unpark() interrupts the turn.  Returns
 * false if another thread is driving (park on park_cv then). */
static bool park_in_reactor(struct worker *w)
{
    struct ct_exec *ex = w->ex;
    if (atomic_exchange(&ex->driver, true))
        return false;
    CT_PT(pthread_mutex_lock(&w->park_mu));
    bool go = !w->notified && !atomic_load(&ex->shutdown);
    w->driving = go;
    CT_PT(pthread_mutex_unlock(&w->park_mu));
    if (go)
        ct_reactor_turn(&ex->reactor, -1);
    CT_PT(pthread_mutex_lock(&w->park_mu));
    w->driving = false;
    bool notified = w->notified;
    w->notified = false;
    CT_PT(pthread_mutex_unlock(&w->park_mu));
    atomic_store(&ex->driver, false);
    if (notified)
        w->searching = true;    /* notify_parked counted us as searching */
    else
        unsleep(w);
    return true;
}

static void park_worker(struct worker *w)
{
    struct ct_exec *ex = w->ex;
    CT_PT(pthread_mutex_lock(&ex->sleep_mu));
    ex->sleepers[ex->nsleepers++] = w->index;
    unsigned prev = atomic_fetch_sub(&ex->idle_state,
                                     UNPARKED_ONE + (w->searching ? SEARCHING_ONE : 0));
    CT_PT(pthread_mutex_unlock(&ex->sleep_mu));
    bool last = w->searching && SEARCHING(prev) == 1;
    w->searching = false;
    if (last && work_visible(ex))
        notify_parked(ex);      /* may pick this very worker */

    STAT_INC(w->st.parks, 1);
    if (park_in_reactor(w))
        return;
    CT_PT(pthread_mutex_lock(&w->park_mu));
    /* no timeout: shutdown wakes every worker */
    while (!w->notified && !atomic_load(&ex->shutdown))
        CT_PT(pthread_cond_wait(&w->park_cv, &w->park_mu));
    bool notified = w->notified;
    w->notified = false;
    CT_PT(pthread_mutex_unlock(&w->park_mu));
    if (notified)
        w->searching = true;    /* notify_parked counted us as searching */
}

/* A busy worker looks at the reactor, without waiting, every
 * INJECT_EVERY picks, if nobody else is in it: sockets get served even
 * when no worker runs out of work. */
static void poll_reactor(struct worker *w)
{
    struct ct_exec *ex = w->ex;
    if (w->tick % INJECT_EVERY == 0 && !atomic_exchange(&ex->driver, true)) {
        ct_reactor_turn(&ex->reactor, 0);
        atomic_store(&ex->driver, false);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct ct_exec *ex = w->ex;
    tls_worker = w;
    while (!atomic_load_explicit(&ex->shutdown, memory_order_acquire)) {
        struct ct_task *t = find_work(w);
        if (!t) {
            park_worker(w);
            continue;
        }
        if (w->searching)
            end_search(w);
        run_task(ex, t, w);
        poll_reactor(w);
    }
    tls_worker = NULL;
    return NULL;
}

/* The reactor's fallback: normally a parked worker waits in the reactor
 * and busy ones look at it now and then; this thread turns it (without
 * waiting) every REACTOR_SLICE_NS that nobody else is in it, so that
 * timers fire and sockets are served even while every worker is stuck in
 * a long poll. */
#define REACTOR_SLICE_NS (1 * CT_NS_PER_MS)
static void *reactor_main(void *arg)
{
    struct ct_exec *ex = arg;
    while (!atomic_load_explicit(&ex->shutdown, memory_order_acquire)) {
        struct timespec slice = { 0, REACTOR_SLICE_NS };
        if (atomic_load(&ex->driver))
            slice.tv_nsec *= 5;         /* someone is in it: look again later */
        nanosleep(&slice, NULL);
        if (!atomic_exchange(&ex->driver, true)) {
            ct_reactor_turn(&ex->reactor, 0);
            atomic_store(&ex->driver, false);
        }
    }
    return NULL;
}

/* ---- block_on ------------------------------------------------------------ */

/* The waker of the future given to ct_block_on.  Heap-allocated and
 * counted, because a clone may outlive the call; once `closed`, waking it
 * does nothing. */
struct bo_waker {
    atomic_uint refs;
    atomic_bool woken;
    pthread_mutex_t mu;
    pthread_cond_t cv;          /* multi-thread: the caller sleeps here */
    bool closed;                /* guarded by mu */
    struct ct_exec *ex;
};

static void bo_clone(void *p)
{
    struct bo_waker *b = p;
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

static void bo_drop(void *p)
{
    struct bo_waker *b = p;
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) {
        CT_PT(pthread_cond_destroy(&b->cv));
        CT_PT(pthread_mutex_destroy(&b->mu));
        free(b);
    }
}

static void bo_wake(void *p)
{
    struct bo_waker *b = p;
    atomic_store(&b->woken, true);
    CT_PT(pthread_mutex_lock(&b->mu));
    if (!b->closed) {
        if (b->ex->flavor == CT_EXEC_MULTI_THREAD)
            CT_PT(pthread_cond_signal(&b->cv));
        else if (tls_driving != b->ex)
            ct_reactor_unpark(&b->ex->reactor);
    }
    CT_PT(pthread_mutex_unlock(&b->mu));
}

static const struct ct_waker_ops bo_waker_ops = { bo_clone, bo_wake, bo_drop };

static bool cancelled(struct ct_exec *ex)
{
    return ex->cancel && ct_event_is_set(ex->cancel);
}

/* Current-thread: run queued tasks (a budget's worth), or when there are
 * none, wait in the reactor for a timer or a wake-up. */
static void drive_once(struct ct_exec *ex, struct bo_waker *b)
{
    struct worker *w = &ex->workers[0];
    int ran = 0;
    struct ct_task *t;
    while (ran < CT_BUDGET && !atomic_load(&b->woken) && (t = taskq_pop(&ex->inject))) {
        run_task(ex, t, w);
        ran++;
    }
    if (ran == CT_BUDGET)
        ct_reactor_turn(&ex->reactor, 0);     /* due timers, without waiting */
    else if (ran == 0 && !atomic_load(&b->woken)) {
        STAT_INC(w->st.parks, 1);
        ct_reactor_turn(&ex->reactor, ex->cancel ? CT_WAIT_SLICE_NS : -1);
    }
}

/* Multi-thread: sleep until the main future is woken (or a slice passes,
 * to look at the cancel event). */
static void wait_woken(struct ct_exec *ex, struct bo_waker *b)
{
    CT_PT(pthread_mutex_lock(&b->mu));
    if (!atomic_load(&b->woken)) {
        if (ex->cancel) {
            struct timespec ts = ct_clock_after_ns(CT_WAIT_SLICE_NS);
            int rc = pthread_cond_timedwait(&b->cv, &b->mu, &ts);
            if (rc != ETIMEDOUT)
                CT_PT(rc);
        } else {
            CT_PT(pthread_cond_wait(&b->cv, &b->mu));
        }
    }
    CT_PT(pthread_mutex_unlock(&b->mu));
}

int ct_block_on(struct ct_exec *ex, struct ct_future *f)
{
    if (tls_worker || tls_driving)
        return -EDEADLK;
    bool ct = ex->flavor == CT_EXEC_CURRENT_THREAD;
    if (ct && atomic_exchange(&ex->driving, true))
        return -EBUSY;
    struct bo_waker *b = calloc(1, sizeof *b);
    if (!b || ct_cond_init_monotonic(&b->cv) != 0) {
        free(b);
        if (ct)
            atomic_store(&ex->driving, false);
        return -ENOMEM;
    }
    CT_PT(pthread_mutex_init(&b->mu, NULL));
    atomic_init(&b->refs, 1);
    atomic_init(&b->woken, true);       /* poll once to begin with */
    b->ex = ex;
    if (ct)
        tls_driving = ex;

    struct ct_waker waker = { &bo_waker_ops, b };
    struct ct_cx cx = { .waker = &waker, .exec = ex, .reactor = &ex->reactor, .worker = -1 };
    int rc;
    for (;;) {
        if (cancelled(ex)) {
            rc = -ECANCELED;
            break;
        }
        if (atomic_exchange(&b->woken, false)) {
            bool panicked;
            if (ct_future_poll_catch(f, &cx, &panicked, NULL, 0) == CT_READY) {
                rc = panicked ? -ENOTRECOVERABLE : 0;
                break;
            }
        }
        if (ct)
            drive_once(ex, b);
        else
            wait_woken(ex, b);
    }

    CT_PT(pthread_mutex_lock(&b->mu));
    b->closed = true;
    CT_PT(pthread_mutex_unlock(&b->mu));
    bo_drop(b);
    if (ct) {
        tls_driving = NULL;
        atomic_store(&ex->driving, false);
    }
    return rc;
}

/* ---- creation and shutdown ---------------------------------------------- */

static int start_threads(struct ct_exec *ex)
{
    for (int i = 0; i < ex->nworkers; i++) {
        char name[24];
        snprintf(name, sizeof name, "worker-%d", i + 1);
        int rc = ct_hooks_start(&ex->hooks, &ex->workers[i].thread, worker_main,
                                &ex->workers[i], name);
        if (rc)
            return rc;
    }
    return ct_hooks_start(&ex->hooks, &ex->reactor_thread, reactor_main, ex, "reactor");
}

/* Destroy the locks and free the memory: the last step of both shutdown
 * and a failed ct_exec_new. */
static void free_exec(struct ct_exec *ex)
{
    for (int i = 0; i < ex->nworkers; i++) {
        CT_PT(pthread_cond_destroy(&ex->workers[i].park_cv));
        CT_PT(pthread_mutex_destroy(&ex->workers[i].park_mu));
    }
    for (int s = 0; s < SHARDS; s++)
        CT_PT(pthread_mutex_destroy(&ex->owned[s].mu));
    CT_PT(pthread_mutex_destroy(&ex->inject.mu));
    CT_PT(pthread_mutex_destroy(&ex->sleep_mu));
    free(ex->sleepers);
    free(ex->workers);
    free(ex);
}

static void cancel_task(struct ct_exec *ex, struct ct_task *t)
{
    /* nothing runs any more; a wake-up racing with this from a foreign
     * thread finds the queues closed or the task DONE */
    finish(ex, t, CT_JOIN_CANCELLED, NULL);
}

void ct_exec_free(struct ct_exec *ex)
{
    if (!ex)
        return;
    atomic_store(&ex->shutdown, true);
    CT_PT(pthread_mutex_lock(&ex->inject.mu));
    ex->inject.closed = true;
    CT_PT(pthread_mutex_unlock(&ex->inject.mu));
    if (ex->flavor == CT_EXEC_MULTI_THREAD) {
        for (int i = 0; i < ex->nworkers; i++)
            unpark(&ex->workers[i]);
        ct_reactor_unpark(&ex->reactor);
        for (int i = 0; i < ex->nworkers; i++) {
            if (ex->workers[i].thread)
                ct_hooks_join(&ex->hooks, ex->workers[i].thread);
        }
        if (ex->reactor_thread)
            ct_hooks_join(&ex->hooks, ex->reactor_thread);
    }
    /* forget what is queued: the list of live tasks has them all */
    while (taskq_pop(&ex->inject))
        ;
    for (int i = 0; i < ex->nworkers; i++) {
        while (ct_stealq_pop(&ex->workers[i].q))
            ;
    }
    for (int s = 0; s < SHARDS; s++) {
        CT_PT(pthread_mutex_lock(&ex->owned[s].mu));
        ex->owned[s].closed = true;
        CT_PT(pthread_mutex_unlock(&ex->owned[s].mu));
    }
    /* one at a time, without the shard lock: a cancelled future's cleanup
     * may drop join handles and wake other tasks */
    for (int s = 0; s < SHARDS; s++) {
        for (;;) {
            CT_PT(pthread_mutex_lock(&ex->owned[s].mu));
            struct ct_task *t = ex->owned[s].head;
            CT_PT(pthread_mutex_unlock(&ex->owned[s].mu));
            if (!t)
                break;
            cancel_task(ex, t);
        }
    }
    ct_blocking_pool_destroy(&ex->blocking);
    ct_reactor_destroy(&ex->reactor);
    free_exec(ex);
}

int ct_exec_new(struct ct_exec **out, const struct ct_exec_config *cfg)
{
    *out = NULL;
    int n = cfg->workers;
    if (cfg->flavor == CT_EXEC_CURRENT_THREAD) {
        n = 1;
    } else if (n == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus < 1 ? 1 : cpus > CT_EXEC_MAX_WORKERS ? CT_EXEC_MAX_WORKERS : (int)cpus;
    }
    if (n < 1 || n > CT_EXEC_MAX_WORKERS)
        return -EINVAL;

    /* aligned: its counters and shards sit on lines of their own */
    struct ct_exec *ex = aligned_alloc(_Alignof(struct ct_exec), sizeof *ex);
    if (!ex)
        return -ENOMEM;
    memset(ex, 0, sizeof *ex);
    ex->flavor = cfg->flavor;
    ex->nworkers = n;
    ex->cancel = cfg->cancel;
    ex->hooks = cfg->hooks;
    size_t wbytes = ((size_t)n * sizeof *ex->workers + 63) / 64 * 64;
    ex->workers = aligned_alloc(64, wbytes);
    ex->sleepers = calloc((size_t)n, sizeof *ex->sleepers);
    int rc = ex->workers && ex->sleepers ? 0 : -ENOMEM;
    if (rc) {
        free(ex->workers);
        free(ex->sleepers);
        free(ex);
        return rc;
    }
    memset(ex->workers, 0, wbytes);
    /* the mutexes and condition variables below only fail for lack of
     * memory, which calloc has just shown we are not short of */
    for (int i = 0; i < n; i++) {
        struct worker *w = &ex->workers[i];
        w->ex = ex;
        w->index = i;
        w->rng = 0x9e3779b9u * (uint32_t)(i + 1);
        ct_stealq_init(&w->q);
        CT_PT(pthread_mutex_init(&w->park_mu, NULL));
        CT_PT(pthread_cond_init(&w->park_cv, NULL));
    }
    for (int s = 0; s < SHARDS; s++)
        CT_PT(pthread_mutex_init(&ex->owned[s].mu, NULL));
    CT_PT(pthread_mutex_init(&ex->inject.mu, NULL));
    CT_PT(pthread_mutex_init(&ex->sleep_mu, NULL));
    atomic_init(&ex->idle_state, (unsigned)n * UNPARKED_ONE);
    rc = ct_reactor_init(&ex->reactor);
    if (rc == 0) {
        rc = ct_blocking_pool_init(&ex->blocking, cfg->max_blocking, &cfg->hooks);
        if (rc)
            ct_reactor_destroy(&ex->reactor);
    }
    if (rc) {
        free_exec(ex);
        return rc;
    }
    if (ex->flavor == CT_EXEC_MULTI_THREAD && (rc = start_threads(ex)) != 0) {
        ct_exec_free(ex);       /* joins whatever did start */
        return rc;
    }
    *out = ex;
    return 0;
}

/* ---- introspection ------------------------------------------------------- */

void ct_exec_get_stats(struct ct_exec *ex, struct ct_exec_stats *st)
{
    memset(st, 0, sizeof *st);
    st->flavor = ex->flavor;
    st->workers = ex->nworkers;
    for (int i = 0; i < ex->nworkers; i++) {
        struct wstats *w = &ex->workers[i].st;
        st->w[i] = (struct ct_worker_stats){
            .polls = atomic_load_explicit(&w->polls, memory_order_relaxed),
            .completed = atomic_load_explicit(&w->completed, memory_order_relaxed),
            .from_injector = atomic_load_explicit(&w->from_injector, memory_order_relaxed),
            .stolen = atomic_load_explicit(&w->stolen, memory_order_relaxed),
            .steals = atomic_load_explicit(&w->steals, memory_order_relaxed),
            .parks = atomic_load_explicit(&w->parks, memory_order_relaxed),
        };
    }
    st->spawned = atomic_load(&ex->spawned);
    st->completed = atomic_load(&ex->completed);
    st->failed = atomic_load(&ex->failed);
    st->panicked = atomic_load(&ex->panicked);
    st->cancelled = atomic_load(&ex->cancelled);
    st->task_bytes = atomic_load(&ex->task_bytes);
    CT_PT(pthread_mutex_lock(&ex->reactor.mu));
    st->timers_fired = ex->reactor.fired;
    CT_PT(pthread_mutex_unlock(&ex->reactor.mu));
}

int ct_exec_workers(const struct ct_exec *ex)
{
    return ex->nworkers;
}

struct ct_blocking_pool *ct_exec_blocking(struct ct_exec *ex)
{
    return &ex->blocking;
}

struct ct_reactor *ct_exec_reactor(struct ct_exec *ex)
{
    return &ex->reactor;
}
