/* hslock.h - a reader-writer lock whose readers pay no fence: writers
 * hand-shake with each reader instead.
 *
 * Why: every lock whose readers announce themselves (brlock.h) has them do
 * "store to my slot, then load the writers' word", and that store-then-
 * load needs a full barrier on every read (a `lock`ed instruction on x86,
 * about 3 of a brlock read's 4 ns here).  This lock moves the barrier's
 * cost to the writers, who are rare.  A reader stores to its own slot
 * and loads a word on the same cache line, both plain; nothing makes the
 * CPU finish the store before the load, so a writer cannot tell from the
 * slot alone whether the reader is in.  Instead it asks: it writes a
 * number (an epoch) into each reader's `pending` word and waits until
 * each reader has answered with that number in `ack`.  A reader answers at
 * its next lock or unlock, which it would not pass without reading
 * `pending`; by then its previous critical section is over, and it will
 * not start another until the writer clears `pending`.
 *
 * Readers that do not answer: a reader may be asleep, preempted, or busy
 * with other work, and never look.  After a short wait the writer calls
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which runs a full barrier
 * on every CPU that is running one of our threads.  Afterwards a reader's
 * `inside` is up to date: a reader seen outside will see `pending` the
 * next time it tries, so the writer "parks" its slot and leaves it out of
 * later handshakes; a parked reader joins again under the writers' mutex.
 * (Where membarrier is missing, readers put a real barrier on their fast
 * path instead, and the lock is correct but no faster than brlock.)
 *
 * A reader turned away by a writer says so in `ack` (OUTSIDE): writers
 * then need no answer from it, and it comes back in once with a real
 * barrier ("announce, fence, look", as brlock does on every read).
 *
 * Slots belong to one thread each (plain stores need that) and return to
 * the pool when the thread exits.  A thread that finds all
 * CT_HSLOCK_SLOTS taken reads by taking the write lock.
 *
 * The trade-off: reads cost two plain stores and two loads, writes a
 * fence, a cache-line round trip to each active reader and back, and a
 * membarrier (some microseconds) whenever a reader does not answer at
 * once.  Policy: writer-preferring; not recursive; unlock on the thread
 * that locked.  The API matches brlock.h.
 */
#ifndef CT_HSLOCK_H
#define CT_HSLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "event.h"

#define CT_HSLOCK_SLOTS 64
#define CT_HSLOCK_SLOT_BYTES 128

/* `pending` and `ack` values besides epochs (and 0: no writer) */
#define CT_HSLOCK_PARKED 0xfffffffeu    /* pending: join under the mutex */
#define CT_HSLOCK_OUTSIDE 0xffffffffu   /* ack: out until a fenced return */

struct ct_hslock_slot {
    _Alignas(CT_HSLOCK_SLOT_BYTES) _Atomic uint32_t inside;  /* 1 while reading */
    _Atomic uint32_t pending;       /* written by writers; readers sleep on it */
    _Atomic uint32_t ack;           /* written by the reader; a writer sleeps on it */
    _Atomic uint32_t reader_sleeps; /* the reader sleeps on `pending` */
    _Atomic uint32_t writer_sleeps; /* a writer sleeps on `ack` */
};

struct ct_hslock {
    /* the writers' mutex (a futex): HELD, WAITERS */
    _Alignas(CT_HSLOCK_SLOT_BYTES) _Atomic uint32_t mutex;
    /* the rest changes under the mutex only */
    uint32_t epoch;
    uint64_t active;            /* slots writers hand-shake with */
    uint64_t shaken;            /* the write lock holder's handshake */
    struct ct_hslock_slot *slots;
};

int ct_hslock_init(struct ct_hslock *l);
void ct_hslock_destroy(struct ct_hslock *l);

static inline int ct_hslock_read_lock_timeout(struct ct_hslock *l, int64_t timeout_ns,
                                              struct ct_event *cancel);
static inline void ct_hslock_read_unlock(struct ct_hslock *l);
bool ct_hslock_try_read_lock(struct ct_hslock *l);
int ct_hslock_write_lock_timeout(struct ct_hslock *l, int64_t timeout_ns,
                                 struct ct_event *cancel);
bool ct_hslock_try_write_lock(struct ct_hslock *l);
void ct_hslock_write_unlock(struct ct_hslock *l);

/* Whether a writer holds the lock or waits for readers (for tests). */
bool ct_hslock_writer_present(struct ct_hslock *l);

/* ---- the inline part ------------------------------------------------------ */

/* This thread's reader state, shared by all hslocks. */
#define CT_HSLOCK_NO_SLOT (-2)
struct ct_hslock_thread {
    int slot;   /* -1 before its first read, CT_HSLOCK_NO_SLOT if none was free */
    /* reads since a writer last turned us away, and how many turn-aways in
     * a row came that soon: how to wait (hslock.c) */
    unsigned reads_since_away, soon_streak;
};
extern _Thread_local struct ct_hslock_thread ct_hslock_self;
/* False where membarrier is missing: readers then fence. */
extern bool ct_hslock_fence_free;

int ct_hslock_read_lock_slow(struct ct_hslock *l, int64_t timeout_ns, struct ct_event *cancel);
void ct_hslock_read_unlock_slow(struct ct_hslock *l);
void ct_hslock_full_fence(_Atomic uint32_t *word);

static inline int ct_hslock_read_lock_timeout(struct ct_hslock *l, int64_t timeout_ns,
                                              struct ct_event *cancel)
{
    int k = ct_hslock_self.slot;
    if (__builtin_expect(k >= 0, 1)) {
        struct ct_hslock_slot *s = &l->slots[k];
        if (__builtin_expect(atomic_load_explicit(&s->ack, memory_order_relaxed) !=
                             CT_HSLOCK_OUTSIDE, 1)) {
            atomic_store_explicit(&s->inside, 1, memory_order_relaxed);
            if (__builtin_expect(ct_hslock_fence_free, 1))
                atomic_signal_fence(memory_order_seq_cst);  /* the compiler's order only */
            else
                ct_hslock_full_fence(&s->inside);
            /* acquire: pairs with the last writer's clearing of pending */
            if (__builtin_expect(atomic_load_explicit(&s->pending, memory_order_acquire) == 0, 1)) {
                ct_hslock_self.reads_since_away++;
                return 0;
            }
        }
    }
    return ct_hslock_read_lock_slow(l, timeout_ns, cancel);
}

static inline void ct_hslock_read_unlock(struct ct_hslock *l)
{
    int k = ct_hslock_self.slot;
    if (__builtin_expect(k >= 0, 1)) {
        struct ct_hslock_slot *s = &l->slots[k];
        /* release: our reads come before any writer that sees us out */
        atomic_store_explicit(&s->inside, 0, memory_order_release);
        if (__builtin_expect(atomic_load_explicit(&s->pending, memory_order_relaxed) == 0, 1))
            return;
    }
    ct_hslock_read_unlock_slow(l);
}

#endif
