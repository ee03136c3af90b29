/* brlock.h - a reader-writer lock whose readers scale: each reader
 * announces itself in a slot of its own, on its own cache line.
 *
 * Why: in an ordinary reader-writer lock (pthread_rwlock_t, rwlock.h)
 * every reader increments and decrements one shared reader count.  The
 * readers do not wait for each other, yet every lock and unlock moves
 * that cache line from core to core, so read throughput falls as cores
 * are added.  Here a reader touches only (a) its own slot, which stays in
 * its core's cache, and (b) the `writer` flag, which it only reads, so the
 * line stays shared by all cores.  This is the idea of the Linux kernel's
 * old "big reader" brlock, of BRAVO (Dice and Kogan, 2019) and of the
 * per-slot reader counts in folly's SharedMutex.
 *
 * How:
 *   reader:  slot += 1; if no writer -> in.  Otherwise slot -= 1, wait for
 *            the writer to leave, and try again.  Unlock: slot -= 1.  (A
 *            reader that sees the flag up before it starts waits without
 *            touching its slot, so the writer need not wait for it; one
 *            that writers turn away often backs off while it waits, see
 *            wait_writer_gone.)
 *   writer:  raise the `writer` flag with a compare-and-swap (one writer at
 *            a time: the flag is also the writers' lock), then wait until
 *            every slot that a reader has ever used reads 0.  Unlock: lower
 *            the flag.
 * A thread picks its slot once (thread ids handed out in turn, modulo the
 * slot count); the slots are counters, so two threads that share a slot
 * are still counted correctly, they just share a cache line again.  A
 * reader also sets its slot's bit in `used` the first time it reads the
 * lock, so that a writer looks only at those slots (as BRAVO and folly's
 * SharedMutex do), not at all CT_BRLOCK_SLOTS.
 *
 * The trade-off: reads are cheap and writes are expensive.  A writer
 * invalidates the flag's cache line in every reader's cache twice (raise,
 * lower), reads each used slot (a cache miss for each one in use on
 * another core), and while it is in or waiting, new readers back off.  The
 * lock also costs CT_BRLOCK_SLOTS cache lines of memory.  Use it for data
 * that is read constantly and written rarely (configuration, routing
 * tables).
 *
 * Policy: writer-preferring.  Once a writer has raised its flag, new
 * readers back off until it is done, so readers cannot starve it (writers
 * waiting for the flag to drop do not hold readers back yet).
 * Not recursive: a thread that holds the read lock and asks for it again
 * deadlocks if a writer raised its flag in between.  Unlock on the thread
 * that locked (the slot is the thread's).
 *
 * The API matches rwlock.h: blocking (until `cancel`), timed and try forms;
 * 0 when held, -ETIMEDOUT or -ECANCELED when not.
 */
#ifndef CT_BRLOCK_H
#define CT_BRLOCK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "event.h"

#define CT_BRLOCK_SLOTS 64
/* Slot spacing: two cache lines, because some CPUs fetch lines in
 * adjacent pairs and would make neighbouring slots interfere. */
#define CT_BRLOCK_SLOT_BYTES 128

struct ct_brlock_slot {
    _Alignas(CT_BRLOCK_SLOT_BYTES) atomic_int readers;
};

struct ct_brlock {
    /* read by every reader on every lock and unlock; written only by
     * writers (and by readers about to sleep), so the line stays shared in
     * all caches between writes */
    _Alignas(CT_BRLOCK_SLOT_BYTES) _Atomic uint32_t writer;  /* CT_BRLOCK_* bits */
    atomic_int writer_asleep;           /* the draining writer sleeps: wake it */
    _Atomic uint64_t used;              /* bit i: slot i has had a reader */
    struct ct_brlock_slot *slots;       /* CT_BRLOCK_SLOTS, own allocation */
    /* the draining writer's sleep, on a line of its own */
    _Alignas(CT_BRLOCK_SLOT_BYTES) pthread_mutex_t mu;
    pthread_cond_t slot_drained;        /* the writer sleeps here */
};

/* The bits of `writer` (also the futex that waiting threads sleep on). */
#define CT_BRLOCK_HELD 1u               /* a writer is in or draining */
#define CT_BRLOCK_WRITERS_ASLEEP 2u     /* a writer sleeps until HELD drops */
#define CT_BRLOCK_READERS_ASLEEP 4u     /* a reader sleeps until HELD drops */

/* 0 or a negative errno (-ENOMEM). */
int ct_brlock_init(struct ct_brlock *l);
/* The lock must be free. */
void ct_brlock_destroy(struct ct_brlock *l);

/* The reader's fast path is inline (below): a read lock and unlock are
 * then two atomic additions and four loads in the caller's own code,
 * where calls would cost about as much again. */
static inline int ct_brlock_read_lock_timeout(struct ct_brlock *l, int64_t timeout_ns,
                                              struct ct_event *cancel);
static inline int ct_brlock_read_lock(struct ct_brlock *l, struct ct_event *cancel);
bool ct_brlock_try_read_lock(struct ct_brlock *l);
static inline void ct_brlock_read_unlock(struct ct_brlock *l);

int ct_brlock_write_lock(struct ct_brlock *l, struct ct_event *cancel);
int ct_brlock_write_lock_timeout(struct ct_brlock *l, int64_t timeout_ns,
                               struct ct_event *cancel);
bool ct_brlock_try_write_lock(struct ct_brlock *l);
void ct_brlock_write_unlock(struct ct_brlock *l);

/* ---- the inline part: what a reader's fast path needs ------------------ */

/* This thread's reader state, shared by all brlocks. */
struct ct_brlock_thread {
    int slot;                   /* index into slots[]; -1 before the first read */
    /* read locks taken at once since a writer last turned this thread
     * away, and how many turn-aways in a row came that soon: a hint for
     * how to wait (wait_writer_gone in brlock.c), not an exact count */
    unsigned reads_since_away, soon_streak;
};
extern _Thread_local struct ct_brlock_thread ct_brlock_self;

/* Out of line: everything but the fast path.  `announced`: our slot was
 * incremented and a writer then seen, so leave before waiting. */
int ct_brlock_read_lock_slow(struct ct_brlock *l, bool announced, int64_t timeout_ns,
                             struct ct_event *cancel);
void ct_brlock_wake_writer(struct ct_brlock *l);

static inline int ct_brlock_read_lock_timeout(struct ct_brlock *l, int64_t timeout_ns,
                                              struct ct_event *cancel)
{
    int s = ct_brlock_self.slot;
    /* Fast path: our slot is known to writers (its bit is in `used`) and
     * no writer is in.  A reader that finds the flag up waits without
     * touching its slot, so a writer waits only for readers already in.
     * Both loads hit the flag's line, which the reader reads anyway. */
    if (__builtin_expect(s >= 0, 1) &&
        __builtin_expect((atomic_load_explicit(&l->used, memory_order_seq_cst) >> s) & 1, 1) &&
        !(atomic_load_explicit(&l->writer, memory_order_relaxed) & CT_BRLOCK_HELD)) {
        /* announce, then look for a writer: seq_cst, see brlock.c */
        atomic_fetch_add_explicit(&l->slots[s].readers, 1, memory_order_seq_cst);
        if (__builtin_expect(!(atomic_load_explicit(&l->writer, memory_order_seq_cst) &
                               CT_BRLOCK_HELD), 1)) {
            ct_brlock_self.reads_since_away++;
            return 0;
        }
        return ct_brlock_read_lock_slow(l, true, timeout_ns, cancel);
    }
    return ct_brlock_read_lock_slow(l, false, timeout_ns, cancel);
}

static inline int ct_brlock_read_lock(struct ct_brlock *l, struct ct_event *cancel)
{
    return ct_brlock_read_lock_timeout(l, -1, cancel);
}

static inline void ct_brlock_read_unlock(struct ct_brlock *l)
{
    atomic_fetch_sub_explicit(&l->slots[ct_brlock_self.slot].readers, 1, memory_order_seq_cst);
    /* a writer sleeping until the slots drain may be waiting for us */
    if (__builtin_expect(atomic_load_explicit(&l->writer_asleep, memory_order_seq_cst), 0))
        ct_brlock_wake_writer(l);
}

#endif
