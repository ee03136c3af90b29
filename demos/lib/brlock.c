/* brlock.c - see brlock.h.
 *
 * Memory ordering, the heart of the lock.  A reader does
 *
 *     slot += 1;  then  read writer
 *
 * and a writer does
 *
 *     writer = 1;  then  read every slot
 *
 * Each side stores to one location and then loads the other (the pattern
 * of Dekker's mutual exclusion).  The lock is correct only if at least one
 * side sees the other's store: either the reader sees writer == 1 and
 * backs off, or the writer sees the reader's slot != 0 and waits.  With
 * acquire/release alone both may miss: a CPU may let a load overtake an
 * earlier store to another location (x86's store buffer does exactly
 * this), so each thread could read the old value of the other's word.
 * All four operations are therefore memory_order_seq_cst: C11 puts all
 * seq_cst operations in one total order consistent with each thread's
 * program order, and in that order one of the two stores comes first, so
 * the other thread's later load sees it.  (A seq_cst fence between each
 * store and load would do the same; seq_cst operations are used because
 * ThreadSanitizer models them exactly, while it does not understand
 * fences.)  On x86 the reader's seq_cst fetch_add is a `lock xadd`, which
 * is already a full barrier, and the load of `writer` is a plain `mov`.
 *
 * The slot decrement on unlock is seq_cst too.  Its release half publishes
 * the reader's critical section to the writer that then reads the slot as
 * 0 (the writer may modify the data only after that).
 *
 * The `used` bitmap is part of the same pattern: a reader sets its bit
 * (once per thread and lock) before it increments its slot, and the writer
 * reads the bitmap after it raises its flag, all seq_cst.  A reader the
 * writer does not see (its bit or its slot) is one that will see the flag.
 *
 * What a write costs, and what the design does about it.  With readers on
 * other cores, a write (1) takes the flag's line from every reader's cache
 * with one compare-and-swap, which is also the writers' lock (a separate
 * writers' mutex cost a second line and two more atomic operations), (2)
 * reads the slots of `used` only (scanning all 64 took longer than the
 * rest of the write together), and (3) lowers the flag, after which each
 * reader misses on the flag's line once.  Meanwhile every other reader
 * waits: a write is paid by all threads, not only by the writer.
 *
 * Sleeping.  Both sides spin briefly and then sleep.  Threads waiting for
 * the flag to drop (readers turned away, writers waiting their turn) set a
 * bit in the flag word and sleep on it as a futex, so the writer's unlock
 * is one exchange, plus a wake-up only if a bit was set.  The writer
 * waiting for a slot to drain sleeps on a condition variable; "does it
 * sleep?" is the store-then-load pattern again, seq_cst on both sides:
 *
 *   reader leaving:   slot -= 1;           then read writer_asleep
 *   writer going to   writer_asleep = 1;   then read the slot (under mu)
 *   sleep:
 *
 * Either the reader sees the flag and broadcasts (under mu, so the
 * broadcast cannot fall between the writer's check and its wait), or the
 * writer sees the slot drained and does not sleep.  A lost wake-up would
 * still end at the next CT_WAIT_SLICE_NS slice, but would show up as a
 * 20 ms stall.
 */
#include "brlock.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "backoff.h"
#include "check.h"
#include "clock.h"
#include "park.h"
#include "wait.h"

/* How long a reader turned away by a writer spins before it sleeps, in
 * pause instructions (a pause takes from a few ns to about 40 ns, by CPU):
 * tens of microseconds, longer than a typical write. */
#define READER_SPINS 2000
/* Writes count as frequent for a thread turned away FREQUENT_STREAK times
 * in a row, each within FREQUENT_WITHIN of its read locks of the last; it
 * then backs off, starting at READER_BACKOFF_FIRST pauses.  (One quick
 * repeat proves little, and backing off for each cost more than it saved.)
 * 256 reads catches 1% writes between 2 threads.  In rwlock-bench on 2
 * CPUs at 1% writes, alternating rounds: where the cache-line hand-off
 * probe found the CPUs far apart (about 170 ns), 115 M ops/s with 64 and
 * 203-217 with 256 or 512 (Go's RWMutex 168-170); where it found them near
 * (about 30 ns), 238 with 64 and 241 with 256.  Longer still pays at 10%
 * writes, where the threads take turns: in two sets of alternating
 * rounds, 137 and 167 M ops/s with 256, 195 and 187 with 2048 (Go 136 and
 * 135); at 1% the rounds spread too widely to tell.  2048 pauses outlast
 * READER_SPINS, so a reader whose writer is still there then sleeps. */
#define FREQUENT_WITHIN 256
#define FREQUENT_STREAK 4
#define READER_BACKOFF_FIRST 2048

/* Slot indices, handed out in turn on each thread's first read lock. */
static atomic_uint next_slot;
_Thread_local struct ct_brlock_thread ct_brlock_self = { .slot = -1 };

/* Our slot, with its bit set in `used` before the slot is ever
 * incremented: on the first read of this lock by this thread (or the first
 * read of any lock) pick the thread's slot if it has none, and set the
 * bit. */
static atomic_int *reader_slot(struct ct_brlock *l)
{
    struct ct_brlock_thread *self = &ct_brlock_self;
    if (self->slot < 0)
        self->slot = (int)(atomic_fetch_add_explicit(&next_slot, 1, memory_order_relaxed) %
                           CT_BRLOCK_SLOTS);
    if (!((atomic_load_explicit(&l->used, memory_order_seq_cst) >> self->slot) & 1))
        atomic_fetch_or_explicit(&l->used, UINT64_C(1) << self->slot, memory_order_seq_cst);
    return &l->slots[self->slot].readers;
}

int ct_brlock_init(struct ct_brlock *l)
{
    l->slots = aligned_alloc(CT_BRLOCK_SLOT_BYTES, CT_BRLOCK_SLOTS * sizeof *l->slots);
    if (!l->slots)
        return -ENOMEM;
    for (int i = 0; i < CT_BRLOCK_SLOTS; i++)
        atomic_init(&l->slots[i].readers, 0);
    atomic_init(&l->writer, 0);
    atomic_init(&l->writer_asleep, 0);
    atomic_init(&l->used, 0);
    int rc = pthread_mutex_init(&l->mu, NULL);
    if (rc != 0) {
        free(l->slots);
        return -rc;
    }
    if ((rc = ct_cond_init_monotonic(&l->slot_drained)) != 0) {
        pthread_mutex_destroy(&l->mu);
        free(l->slots);
        return rc;
    }
    return 0;
}

void ct_brlock_destroy(struct ct_brlock *l)
{
    CT_PT(pthread_cond_destroy(&l->slot_drained));
    CT_PT(pthread_mutex_destroy(&l->mu));
    free(l->slots);
}

/* ---- waiting for the flag to drop --------------------------------------- */

/* Sleep until HELD is clear, announcing ourselves with `asleep` (a bit of
 * the flag word) so that the writer's unlock wakes us.  0, -ETIMEDOUT or
 * -ECANCELED. */
static int sleep_while_held(struct ct_brlock *l, uint32_t asleep, int64_t deadline,
                            struct ct_event *cancel)
{
    for (;;) {
        uint32_t w = atomic_load_explicit(&l->writer, memory_order_seq_cst);
        if (!(w & CT_BRLOCK_HELD))
            return 0;
        if (cancel && ct_event_is_set(cancel))
            return -ECANCELED;
        if (ct_clock_ns() >= deadline)
            return -ETIMEDOUT;
        if (!(w & asleep) &&
            !atomic_compare_exchange_weak_explicit(&l->writer, &w, w | asleep,
                                                   memory_order_seq_cst, memory_order_seq_cst))
            continue;
        /* sleeps only while the word still reads w | asleep */
        ct_futex_wait(&l->writer, w | asleep, deadline, cancel != NULL);
    }
}

/* ---- readers ---------------------------------------------------------- */

void ct_brlock_wake_writer(struct ct_brlock *l)
{
    CT_PT(pthread_mutex_lock(&l->mu));
    CT_PT(pthread_cond_broadcast(&l->slot_drained));
    CT_PT(pthread_mutex_unlock(&l->mu));
}

/* Take our name off the slot; if a writer sleeps waiting for the slots to
 * drain, this may be what it waits for, so wake it. */
static void read_leave(struct ct_brlock *l, atomic_int *slot)
{
    atomic_fetch_sub_explicit(slot, 1, memory_order_seq_cst);
    if (atomic_load_explicit(&l->writer_asleep, memory_order_seq_cst))
        ct_brlock_wake_writer(l);
}

/* One attempt: announce, then look for a writer (see the top of the file
 * for why both are seq_cst).  True if the read lock is now held. */
static inline bool read_enter(struct ct_brlock *l, atomic_int *slot)
{
    atomic_fetch_add_explicit(slot, 1, memory_order_seq_cst);
    if (!(atomic_load_explicit(&l->writer, memory_order_seq_cst) & CT_BRLOCK_HELD))
        return true;
    read_leave(l, slot);
    return false;
}

/* Wait until no writer is in: spin, then sleep on the flag word.
 *
 * How to spin depends on how often writers turn this thread away.  When
 * that is rare, re-read the flag in a tight loop: it sits on a line only
 * writers write, so the spinning adds no traffic, and the reader is back
 * in the moment the (short) write ends.  When it is frequent, that same
 * promptness hurts: the reader interleaves with the writer's thread
 * operation by operation, and then nearly every operation moves the
 * flag's line, a slot's line or the data's line between cores (about
 * 70 ns each here).  So a thread that writers keep turning away (see
 * FREQUENT_STREAK) backs off exponentially instead, and the other thread
 * runs a stretch alone with every line it needs in its own cache.
 * Measured in rwlock-bench on 2 CPUs, medians of 5-9 alternating runs:
 * 2 threads at 10% writes 52 -> 124 M ops/s, at 5% 92 -> 162; 4 threads
 * at 10% 53 -> 139; 0% and 1% unchanged within the noise (then; for 1%
 * now, see FREQUENT_WITHIN).  The price: a
 * reader turned away under frequent writes may wait some microseconds
 * after the writer has left. */
static int wait_writer_gone(struct ct_brlock *l, bool frequent, int64_t deadline,
                            struct ct_event *cancel)
{
    int n = frequent ? READER_BACKOFF_FIRST : 1;
    for (int spun = 0; spun < READER_SPINS; spun += n, n = frequent ? 2 * n : 1) {
        if (!(atomic_load_explicit(&l->writer, memory_order_acquire) & CT_BRLOCK_HELD))
            return 0;
        for (int i = 0; i < n; i++)
            ct_cpu_relax();
    }
    return sleep_while_held(l, CT_BRLOCK_READERS_ASLEEP, deadline, cancel);
}

/* Everything but the inline fast path (brlock.h): this thread's first
 * read of the lock, or a writer turned us away, so wait for it to leave
 * and try again. */
int ct_brlock_read_lock_slow(struct ct_brlock *l, bool announced, int64_t timeout_ns,
                             struct ct_event *cancel)
{
    struct ct_brlock_thread *self = &ct_brlock_self;
    atomic_int *slot = reader_slot(l);
    if (announced) {
        read_leave(l, slot);
    } else if (!(atomic_load_explicit(&l->writer, memory_order_relaxed) & CT_BRLOCK_HELD) &&
               read_enter(l, slot)) {
        self->reads_since_away++;
        return 0;
    }
    int64_t deadline = ct_deadline_after(timeout_ns);
    self->soon_streak = self->reads_since_away < FREQUENT_WITHIN ? self->soon_streak + 1 : 0;
    self->reads_since_away = 0;
    bool frequent = self->soon_streak >= FREQUENT_STREAK;
    for (;;) {
        int rc = wait_writer_gone(l, frequent, deadline, cancel);
        if (rc != 0)
            return rc;
        if (read_enter(l, slot))
            return 0;
    }
}

bool ct_brlock_try_read_lock(struct ct_brlock *l)
{
    return read_enter(l, reader_slot(l));
}

/* ---- writers ---------------------------------------------------------- */

/* Raise the flag: one compare-and-swap, which also makes us the only
 * writer.  `block` false: one attempt.  0, -EBUSY (not blocking),
 * -ETIMEDOUT or -ECANCELED. */
static int write_acquire(struct ct_brlock *l, bool block, int64_t deadline,
                         struct ct_event *cancel)
{
    struct ct_backoff b = CT_BACKOFF_INIT;
    for (;;) {
        uint32_t w = atomic_load_explicit(&l->writer, memory_order_relaxed);
        if (!(w & CT_BRLOCK_HELD)) {
            if (atomic_compare_exchange_weak_explicit(&l->writer, &w, w | CT_BRLOCK_HELD,
                                                      memory_order_seq_cst,
                                                      memory_order_relaxed))
                return 0;
            continue;
        }
        if (!block)
            return -EBUSY;
        if (!ct_backoff_is_completed(&b)) {
            ct_backoff_snooze(&b);
            continue;
        }
        int rc = sleep_while_held(l, CT_BRLOCK_WRITERS_ASLEEP, deadline, cancel);
        if (rc != 0)
            return rc;
    }
}

/* Lower the flag and wake whoever sleeps on it: one exchange when nobody
 * does. */
static void write_release(struct ct_brlock *l)
{
    uint32_t old = atomic_exchange_explicit(&l->writer, 0, memory_order_seq_cst);
    if (old & (CT_BRLOCK_WRITERS_ASLEEP | CT_BRLOCK_READERS_ASLEEP))
        ct_futex_wake(&l->writer, INT_MAX);
}

/* Wait until `slot` reads 0 (its readers have left): spin briefly, then
 * sleep on slot_drained, which read_leave signals. */
static int wait_drained(struct ct_brlock *l, atomic_int *slot, int64_t deadline,
                        struct ct_event *cancel)
{
    struct ct_backoff b = CT_BACKOFF_INIT;
    while (atomic_load_explicit(slot, memory_order_seq_cst) != 0) {
        if (!ct_backoff_is_completed(&b)) {
            ct_backoff_snooze(&b);
            continue;
        }
        int rc = 0;
        CT_PT(pthread_mutex_lock(&l->mu));
        atomic_store_explicit(&l->writer_asleep, 1, memory_order_seq_cst);
        while (atomic_load_explicit(slot, memory_order_seq_cst) != 0 && rc == 0)
            rc = ct_cond_wait_bounded(&l->slot_drained, &l->mu, deadline, cancel);
        atomic_store_explicit(&l->writer_asleep, 0, memory_order_relaxed);
        CT_PT(pthread_mutex_unlock(&l->mu));
        return rc;
    }
    return 0;
}

int ct_brlock_write_lock_timeout(struct ct_brlock *l, int64_t timeout_ns,
                               struct ct_event *cancel)
{
    int64_t deadline = ct_deadline_after(timeout_ns);
    int rc = write_acquire(l, true, deadline, cancel);
    if (rc != 0)
        return rc;
    /* the flag is up (new readers now back off): wait for the readers
     * already in to leave, looking only at slots that have had readers */
    uint64_t used = atomic_load_explicit(&l->used, memory_order_seq_cst);
    for (; used; used &= used - 1) {
        rc = wait_drained(l, &l->slots[__builtin_ctzll(used)].readers, deadline, cancel);
        if (rc != 0) {
            write_release(l);
            return rc;
        }
    }
    return 0;
}

int ct_brlock_write_lock(struct ct_brlock *l, struct ct_event *cancel)
{
    return ct_brlock_write_lock_timeout(l, -1, cancel);
}

bool ct_brlock_try_write_lock(struct ct_brlock *l)
{
    if (write_acquire(l, false, 0, NULL) != 0)
        return false;
    uint64_t used = atomic_load_explicit(&l->used, memory_order_seq_cst);
    for (; used; used &= used - 1) {
        if (atomic_load_explicit(&l->slots[__builtin_ctzll(used)].readers,
                                 memory_order_seq_cst) != 0) {
            write_release(l);
            return false;
        }
    }
    return true;
}

void ct_brlock_write_unlock(struct ct_brlock *l)
{
    write_release(l);
}
