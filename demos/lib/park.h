/* park.h - parking threads on a futex, with no system call when nobody sleeps.
 *
 * An "event count": a word that notifiers bump and sleepers wait on, plus a
 * count of sleepers so that a notifier with nobody to wake does no more than
 * one atomic load.  The channel (chan.h) and the broadcast channel
 * (broadcast.h) park their blocked senders and receivers here.
 *
 * The protocol, for a thread that wants to sleep until some condition holds:
 *
 *     for (;;) {
 *         if (condition())                    // fast path, no parking
 *             break;
 *         uint32_t key = ct_park_prepare(&p); // "I may sleep": sleepers++
 *         if (condition()) {                  // look again AFTER announcing
 *             ct_park_abort(&p);
 *             break;
 *         }
 *         ct_park_wait(&p, key, deadline, cancel);
 *     }
 *
 * and for the thread that makes the condition true:
 *
 *     make_condition_true();                  // with a seq_cst atomic op
 *     ct_park_notify_one(&p);                 // or _all
 *
 * Why no wake-up is lost: the sleeper's sleepers++ and the notifier's write
 * are both sequentially consistent, so either the notifier sees the sleeper
 * (and bumps the word, which makes the futex wait return at once if the
 * sleeper has not gone to sleep yet) or the sleeper's second look sees the
 * condition.  Conditions must be read with seq_cst loads for this to hold.
 *
 * One wake-up per sleeper.  A woken thread takes tens of microseconds to
 * run again (longer on a virtual machine), and meanwhile a busy notifier
 * calls notify again and again.  So the count of sleepers comes with a
 * count of wake-ups already sent to them, in one word: a notify with a
 * wake-up on its way to every sleeper makes no system call.  A sleeper
 * takes itself and one pending wake-up off the counts when it leaves,
 * before it looks at its condition again.  ct_park_prepare reads the key
 * before it counts the caller, so a notify that counted a sleeper always
 * leaves it an out-of-date key and cannot miss it (park.c says why the
 * order matters).
 *
 * Linux only: it calls futex(2) directly.
 */
#ifndef CT_PARK_H
#define CT_PARK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "wait.h"

struct ct_park {
    _Atomic uint32_t word;      /* the futex: changes on every notify that wakes */
    /* (sleepers << 32) | woken: threads between prepare and the end of
     * wait/abort, and wake-ups sent to them and not yet taken (<= sleepers) */
    _Atomic uint64_t state;
    /* what the slow paths cost, for reports (relaxed counters, touched
     * only where a system call is made anyway) */
    _Atomic uint64_t sleeps;    /* futex waits entered */
    _Atomic uint64_t wakes;     /* futex wakes issued */
};

void ct_park_init(struct ct_park *p);

/* Announce that the caller may sleep; returns the key for ct_park_wait.
 * The caller must then look at its condition again (seq_cst) and either
 * ct_park_abort() or ct_park_wait(). */
uint32_t ct_park_prepare(struct ct_park *p);

/* The condition came true after prepare: do not sleep after all. */
void ct_park_abort(struct ct_park *p);

/* Sleep until notified (0), until the absolute `deadline_ns` on
 * CLOCK_MONOTONIC passes (-ETIMEDOUT; CT_FOREVER: never), or until `cancel`
 * (may be NULL) is set (-ECANCELED, noticed within CT_WAIT_SLICE_NS).
 * Returns early (0) if a notify came after ct_park_prepare, and may return
 * 0 spuriously (with `cancel`, at least once a slice): the caller always
 * re-checks its condition. */
int ct_park_wait(struct ct_park *p, uint32_t key, int64_t deadline_ns,
                 struct ct_event *cancel);

/* Wake one sleeper / every sleeper.  One atomic load when nobody sleeps,
 * or when every sleeper already has a wake-up on its way. */
void ct_park_notify_one(struct ct_park *p);
void ct_park_notify_all(struct ct_park *p);

/* The bare futex, for a waiter that sleeps on a word of its own (the
 * rendezvous channel).  Sleep while *word == val: until woken, until the
 * absolute `deadline_ns` (CT_FOREVER: none), and with `sliced` for at most
 * CT_WAIT_SLICE_NS (so the caller can look at a cancel event).  0 (woken,
 * the word had changed, a slice ended, or spuriously: re-check) or
 * -ETIMEDOUT once the deadline has passed. */
int ct_futex_wait(_Atomic uint32_t *word, uint32_t val, int64_t deadline_ns, bool sliced);
/* Wake up to n threads sleeping on `word`. */
void ct_futex_wake(_Atomic uint32_t *word, int n);

/* How many futex waits were entered and futex wakes issued so far: each
 * is one system call (a snapshot). */
static inline uint64_t ct_park_sleeps(const struct ct_park *p)
{
    return atomic_load_explicit(&((struct ct_park *)p)->sleeps, memory_order_relaxed);
}

static inline uint64_t ct_park_wakes(const struct ct_park *p)
{
    return atomic_load_explicit(&((struct ct_park *)p)->wakes, memory_order_relaxed);
}

/* Whether anyone is between prepare and the end of a wait (a snapshot). */
static inline bool ct_park_has_sleepers(struct ct_park *p)
{
    return (atomic_load_explicit(&p->state, memory_order_seq_cst) >> 32) != 0;
}

#endif
