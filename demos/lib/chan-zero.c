/* chan-zero.c - the rendezvous channel (capacity 0).
 *
 * Nothing is buffered: whichever of a sender and a receiver comes first
 * waits in a queue with a pointer to its own buffer; the second takes it
 * off the queue (under a spinlock held for a few instructions), copies
 * straight from or into that buffer with no lock held, and then marks it
 * done.
 *
 * Waiting is where a rendezvous spends its time.  Putting a thread to
 * sleep on a futex and waking it costs tens of microseconds (the woken
 * thread must be scheduled again, often on another CPU), while a thread
 * that is still running on the other CPU sees a word change within about
 * a cache-line transfer.  So the first waiter in line spins on its own
 * state word (which stays in its own cache until the partner writes it)
 * for a bounded time, and only then sleeps.  The bound adapts: a spin that
 * ends in a hand-over doubles it, a spin that ends in sleep halves it.
 * Where the partner is rarely running (threads outnumber CPUs, or it does
 * slow work between messages) waiters soon park almost at once, so no CPU
 * burns for nothing.  A waiter behind others in line parks at once: it
 * cannot be served first.  On one CPU nobody spins at all.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "backoff.h"
#include "chan-impl.h"
#include "clock.h"
#include "wait.h"

/* The spin bound: from about the cost of a futex system call to about the
 * cost of a sleep and a cross-CPU wake-up. */
#define SPIN_MIN_NS 1000
#define SPIN_MAX_NS 50000
/* A partner we have just woken needs this long to run again (a cross-CPU
 * wake-up on a virtual machine): whoever waits for it next spins that long
 * rather than going to sleep too, which would make every later message pay
 * a wake-up in turn (a convoy). */
#define SPIN_WAKE_NS 100000
#define SPIN_CLOCK_EVERY 16     /* pauses between looks at the clock */
#define SPIN_YIELD_EVERY 8      /* past the bound: looks at the clock between yields */

enum side { SENDER, RECEIVER };

/* ---- the queues, under ch->qlock ---------------------------------------- */

static void qlock(struct ct_chan *ch)
{
    struct ct_backoff b = CT_BACKOFF_INIT;
    for (;;) {
        if (!atomic_load_explicit(&ch->qlock, memory_order_relaxed) &&
            !atomic_exchange_explicit(&ch->qlock, true, memory_order_acquire))
            return;
        if (b.step > CT_BACKOFF_SPIN_LIMIT)     /* the holder may have lost its CPU */
            chan_count(&ch->yields, 1);
        ct_backoff_snooze(&b);
    }
}

static void qunlock(struct ct_chan *ch)
{
    atomic_store_explicit(&ch->qlock, false, memory_order_release);
}

static void waitq_push(struct waitq *q, struct waiter *w)
{
    w->next = NULL;
    w->queued = true;
    if (q->last)
        q->last->next = w;
    else
        q->first = w;
    q->last = w;
}

static struct waiter *waitq_pop(struct waitq *q)
{
    struct waiter *w = q->first;
    if (w) {
        q->first = w->next;
        if (!q->first)
            q->last = NULL;
        w->queued = false;
    }
    return w;
}

static void waitq_remove(struct waitq *q, struct waiter *w)
{
    struct waiter *prev = NULL;
    for (struct waiter *p = q->first; p; prev = p, p = p->next) {
        if (p != w)
            continue;
        if (prev)
            prev->next = p->next;
        else
            q->first = p->next;
        if (q->last == p)
            q->last = prev;
        w->queued = false;
        return;
    }
}

/* ---- the hand-over ------------------------------------------------------- */

/* We took `w` off its queue and are done with its buffer: tell it how it
 * ended (W_DONE or W_CLOSED), and wake it if it sleeps.  The release pairs
 * with the waiter's acquire load: our copy into (or out of) its buffer
 * happens before it returns.  The waiter may return, and its stack frame
 * be reused, as soon as the store lands; the futex wake then at worst
 * wakes a later sleeper on that address spuriously, which every futex
 * wait here tolerates (it re-checks its word). */
static void finish(struct ct_chan *ch, struct waiter *w, uint32_t how, enum side side)
{
    uint32_t old = atomic_exchange_explicit(&w->state, how, memory_order_release);
    if (old & W_ASLEEP) {
        chan_count(&ch->zero_wakes, 1);
        atomic_store_explicit(&ch->woken_ns[side], ct_clock_ns(), memory_order_relaxed);
        ct_futex_wake(&w->state, 1);
    }
}

static int outcome(uint32_t state)
{
    return state == W_DONE ? 0 : state == W_CLOSED ? -EPIPE : -EAGAIN;
}

/* Learn from one wait of the first waiter in line, whose partner arrived
 * `waited_ns` after it began.  A partner that came well within the
 * longest spin says spinning pays: raise the bound toward it.  One that
 * took longer (it was not running, or it works between messages) halves
 * it, down to the minimum: where that is the rule, waiters park almost at
 * once. */
static void learn(struct ct_chan *ch, enum side side, int64_t waited_ns)
{
    int64_t budget = atomic_load_explicit(&ch->spin_ns[side], memory_order_relaxed);
    int64_t next = waited_ns < SPIN_MAX_NS / 2 ? budget + (SPIN_MAX_NS - budget) / 4 : budget / 2;
    next = next < SPIN_MIN_NS ? SPIN_MIN_NS : next;
    if (next != budget)
        atomic_store_explicit(&ch->spin_ns[side], next, memory_order_relaxed);
}

/* Spin until a partner finishes with `me`, for at most the current bound.
 * The state word is ours alone until the partner writes it, so reading it
 * costs no cache traffic.  If a partner was just woken it is on its way:
 * keep waiting for it past the bound, now and then yielding this CPU in
 * case the partner waits for one.  The clock is read only once the spin
 * has lasted a little: *start is when it was first read (0: the partner
 * came before that), *now the last time read. */
static int spin(struct ct_chan *ch, struct waiter *me, int64_t budget, int64_t deadline,
                enum side side, int64_t *start, int64_t *now)
{
    int64_t coming = atomic_load_explicit(&ch->woken_ns[!side], memory_order_relaxed) +
                     SPIN_WAKE_NS;
    *start = *now = 0;
    for (unsigned i = 1;; i++) {
        uint32_t s = atomic_load_explicit(&me->state, memory_order_acquire);
        if (s != W_WAITING)
            return outcome(s);
        if (i % SPIN_CLOCK_EVERY != 0) {
            ct_cpu_relax();
            continue;
        }
        *now = ct_clock_ns();
        if (!*start)
            *start = *now;
        if (*now >= deadline || (*now - *start >= budget && *now >= coming))
            return -EAGAIN;
        if (*now - *start >= budget && i % (SPIN_CLOCK_EVERY * SPIN_YIELD_EVERY) == 0) {
            chan_count(&ch->yields, 1);
            sched_yield();
        }
    }
}

/* We gave up (timeout or cancel): leave the queue, unless a partner has
 * already taken us off it, in which case it is copying right now and the
 * hand-over must complete.  True if we left. */
static bool withdraw(struct ct_chan *ch, struct waitq *q, struct waiter *me)
{
    qlock(ch);
    bool left = me->queued;
    if (left)
        waitq_remove(q, me);
    qunlock(ch);
    return left;
}

/* Sleep until a partner finishes with `me`, or until we give up. */
static int sleep_until_done(struct ct_chan *ch, struct waitq *q, struct waiter *me,
                            int64_t deadline, struct ct_event *cancel, enum side side)
{
    for (;;) {
        uint32_t s = atomic_load_explicit(&me->state, memory_order_acquire);
        int rc = outcome(s);
        if (rc != -EAGAIN)
            return rc;
        int give_up = cancel && ct_event_is_set(cancel) ? -ECANCELED
                      : ct_clock_ns() >= deadline        ? -ETIMEDOUT
                                                         : 0;
        if (give_up) {
            if (withdraw(ch, q, me))
                return give_up;
            /* claimed: the partner finishes within one copy */
            cancel = NULL;
            deadline = CT_FOREVER;
            continue;
        }
        if (!(s & W_ASLEEP) &&
            !atomic_compare_exchange_strong_explicit(&me->state, &s, s | W_ASLEEP,
                                                     memory_order_acquire, memory_order_acquire))
            continue;   /* finished meanwhile */
        chan_count(&ch->zero_sleeps[side], 1);
        ct_futex_wait(&me->state, W_WAITING | W_ASLEEP, deadline, cancel != NULL);
    }
}

/* Wait on `q` (already queued, lock released) until a partner finishes
 * with us: 0, -EPIPE when the other side left, -ETIMEDOUT / -ECANCELED
 * when we gave up before anyone claimed us.  Only the first in line spins
 * (the others cannot be served before it) and learns from its wait. */
static int await(struct ct_chan *ch, struct waitq *q, struct waiter *me, bool first,
                 int64_t deadline, struct ct_event *cancel, enum side side)
{
    int64_t budget = atomic_load_explicit(&ch->spin_ns[side], memory_order_relaxed);
    if (!first || budget < 0)
        return sleep_until_done(ch, q, me, deadline, cancel, side);
    int64_t start, now;
    int rc = spin(ch, me, budget, deadline, side, &start, &now);
    if (rc != -EAGAIN) {
        learn(ch, side, now - start);
        return rc;
    }
    rc = sleep_until_done(ch, q, me, deadline, cancel, side);
    if (rc != -ETIMEDOUT && rc != -ECANCELED) {
        /* the partner stamped the time it woke us */
        int64_t arrived = atomic_load_explicit(&ch->woken_ns[side], memory_order_relaxed);
        learn(ch, side, (arrived > start ? arrived : ct_clock_ns()) - start);
    }
    return rc;
}

/* ---- the operations ------------------------------------------------------ */

/* CPUs this thread may run on (taskset counts). */
static int usable_cpus(void)
{
    cpu_set_t set;
    return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
}

void ct_chan_zero_open(struct ct_chan *ch)
{
    atomic_init(&ch->qlock, false);
    /* on one CPU the partner cannot run while we spin: never spin */
    int64_t spin = usable_cpus() > 1 ? SPIN_MAX_NS : -1;
    atomic_init(&ch->spin_ns[SENDER], spin);
    atomic_init(&ch->spin_ns[RECEIVER], spin);
    atomic_init(&ch->zero_sleeps[0], 0);
    atomic_init(&ch->zero_sleeps[1], 0);
    atomic_init(&ch->zero_wakes, 0);
    atomic_init(&ch->woken_ns[SENDER], INT64_MIN / 2);
    atomic_init(&ch->woken_ns[RECEIVER], INT64_MIN / 2);
}

/* Wake every waiter of `q` with W_CLOSED. */
void ct_chan_zero_close_queue(struct ct_chan *ch, struct waitq *q)
{
    qlock(ch);
    for (struct waiter *w; (w = waitq_pop(q));)
        finish(ch, w, W_CLOSED, q == &ch->sendq ? SENDER : RECEIVER);
    qunlock(ch);
}

int ct_chan_zero_send(struct ct_chan *ch, void *msg, int64_t deadline, struct ct_event *cancel,
                      bool block)
{
    qlock(ch);
    if (no_receivers(ch)) {
        qunlock(ch);
        return -EPIPE;
    }
    struct waiter *r = waitq_pop(&ch->recvq);
    if (r) {
        qunlock(ch);
        msg_copy(r->buf, msg, ch->msg_size);
        finish(ch, r, W_DONE, RECEIVER);
        return 0;
    }
    if (!block) {
        qunlock(ch);
        return -EAGAIN;
    }
    struct waiter me = { .buf = msg };
    atomic_init(&me.state, W_WAITING);
    if (ch->msg_size <= W_SMALL) {
        msg_copy(me.small, msg, ch->msg_size);
        me.buf = me.small;
    }
    bool first = ch->sendq.first == NULL;
    waitq_push(&ch->sendq, &me);
    qunlock(ch);
    return await(ch, &ch->sendq, &me, first, deadline, cancel, SENDER);
}

int ct_chan_zero_recv(struct ct_chan *ch, void *out, int64_t deadline, struct ct_event *cancel,
                      bool block)
{
    qlock(ch);
    struct waiter *s = waitq_pop(&ch->sendq);
    if (s) {
        qunlock(ch);
        msg_copy(out, s->buf, ch->msg_size);
        finish(ch, s, W_DONE, SENDER);
        return 0;
    }
    int rc = no_senders(ch) ? -EPIPE : -EAGAIN;
    if (rc == -EPIPE || !block) {
        qunlock(ch);
        return rc;
    }
    struct waiter me = { .buf = ch->msg_size <= W_SMALL ? me.small : out };
    atomic_init(&me.state, W_WAITING);
    bool first = ch->recvq.first == NULL;
    waitq_push(&ch->recvq, &me);
    qunlock(ch);
    rc = await(ch, &ch->recvq, &me, first, deadline, cancel, RECEIVER);
    if (rc == 0 && me.buf != out)
        msg_copy(out, me.buf, ch->msg_size);
    return rc;
}
