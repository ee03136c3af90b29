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
 * Sleeping.  Both sides spin briefly and then sleep on a condition
 * variable.  Waking costs a mutex and a broadcast, so it is done only when
 * someone sleeps, and "does anyone sleep?" is the same store-then-load
 * pattern again, again seq_cst on both sides:
 *
 *   reader leaving:   slot -= 1;           then read writer_asleep
 *   writer going to   writer_asleep = 1;   then read the slot (under mu)
 *   sleep:
 *
 *   writer leaving:   writer = 0;          then read sleepers
 *   reader going to   sleepers += 1;       then read writer (under mu)
 *   sleep:
 *
 * Either the waker sees the sleeper's flag and broadcasts (under mu, so the
 * broadcast cannot fall between the sleeper's check and its wait), or the
 * sleeper sees the waker's store and does not sleep.  A lost wake-up would
 * still end at the next CT_WAIT_SLICE_NS slice, but would show up as a
 * 20 ms stall.
 */
#include "brlock.h"

#include <errno.h>
#include <stdlib.h>

#include "backoff.h"
#include "check.h"
#include "wait.h"

/* How many times a reader re-reads the writer flag before it sleeps: a few
 * tens of microseconds, longer than a typical write. */
#define READER_SPINS 2000

/* Each thread's slot index, handed out in turn on its first read lock. */
static atomic_uint next_slot;
static _Thread_local int my_slot = -1;

static atomic_int *reader_slot(struct ct_brlock *l)
{
    if (my_slot < 0)
        my_slot = (int)(atomic_fetch_add_explicit(&next_slot, 1, memory_order_relaxed) %
                        CT_BRLOCK_SLOTS);
    return &l->slots[my_slot].readers;
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
    atomic_init(&l->sleepers, 0);
    int rc = pthread_mutex_init(&l->writers, NULL);
    if (rc != 0) {
        rc = -rc;
        goto fail_slots;
    }
    if ((rc = pthread_mutex_init(&l->mu, NULL)) != 0) {
        rc = -rc;
        goto fail_writers;
    }
    if ((rc = ct_cond_init_monotonic(&l->writer_gone)) != 0)
        goto fail_mu;
    if ((rc = ct_cond_init_monotonic(&l->slot_drained)) != 0)
        goto fail_gone;
    return 0;
fail_gone:
    pthread_cond_destroy(&l->writer_gone);
fail_mu:
    pthread_mutex_destroy(&l->mu);
fail_writers:
    pthread_mutex_destroy(&l->writers);
fail_slots:
    free(l->slots);
    return rc;
}

void ct_brlock_destroy(struct ct_brlock *l)
{
    CT_PT(pthread_cond_destroy(&l->slot_drained));
    CT_PT(pthread_cond_destroy(&l->writer_gone));
    CT_PT(pthread_mutex_destroy(&l->mu));
    CT_PT(pthread_mutex_destroy(&l->writers));
    free(l->slots);
}

/* ---- readers ---------------------------------------------------------- */

/* Take our name off the slot; if a writer sleeps waiting for the slots to
 * drain, this may be what it waits for, so wake it. */
static void read_leave(struct ct_brlock *l, atomic_int *slot)
{
    atomic_fetch_sub_explicit(slot, 1, memory_order_seq_cst);
    if (atomic_load_explicit(&l->writer_asleep, memory_order_seq_cst)) {
        CT_PT(pthread_mutex_lock(&l->mu));
        CT_PT(pthread_cond_broadcast(&l->slot_drained));
        CT_PT(pthread_mutex_unlock(&l->mu));
    }
}

/* One attempt: announce, then look for a writer (see the top of the file
 * for why both are seq_cst).  True if the read lock is now held. */
static bool read_enter(struct ct_brlock *l, atomic_int *slot)
{
    atomic_fetch_add_explicit(slot, 1, memory_order_seq_cst);
    if (atomic_load_explicit(&l->writer, memory_order_seq_cst) == 0)
        return true;
    read_leave(l, slot);
    return false;
}

/* Wait until no writer is in.  First spin, re-reading the flag: it sits
 * on a line that only writers write, so spinning readers add no traffic
 * and need no backoff, and they see the flag drop at once (writes are
 * usually short).  Then sleep on writer_gone.  0, -ETIMEDOUT or
 * -ECANCELED. */
static int wait_writer_gone(struct ct_brlock *l, int64_t deadline, struct ct_event *cancel)
{
    for (int i = 0; i < READER_SPINS; i++) {
        if (!atomic_load_explicit(&l->writer, memory_order_acquire))
            return 0;
        ct_cpu_relax();
    }
    int rc = 0;
    CT_PT(pthread_mutex_lock(&l->mu));
    atomic_fetch_add_explicit(&l->sleepers, 1, memory_order_seq_cst);
    while (atomic_load_explicit(&l->writer, memory_order_seq_cst) && rc == 0)
        rc = ct_cond_wait_bounded(&l->writer_gone, &l->mu, deadline, cancel);
    atomic_fetch_sub_explicit(&l->sleepers, 1, memory_order_relaxed);
    CT_PT(pthread_mutex_unlock(&l->mu));
    return rc;
}

int ct_brlock_read_lock_timeout(struct ct_brlock *l, int64_t timeout_ns,
                              struct ct_event *cancel)
{
    atomic_int *slot = reader_slot(l);
    if (read_enter(l, slot))
        return 0;
    int64_t deadline = ct_deadline_after(timeout_ns);
    for (;;) {
        int rc = wait_writer_gone(l, deadline, cancel);
        if (rc != 0)
            return rc;
        if (read_enter(l, slot))
            return 0;
    }
}

int ct_brlock_read_lock(struct ct_brlock *l, struct ct_event *cancel)
{
    return ct_brlock_read_lock_timeout(l, -1, cancel);
}

bool ct_brlock_try_read_lock(struct ct_brlock *l)
{
    return read_enter(l, reader_slot(l));
}

void ct_brlock_read_unlock(struct ct_brlock *l)
{
    read_leave(l, reader_slot(l));
}

/* ---- writers ---------------------------------------------------------- */

/* Lower the flag, wake sleeping readers (if any), and let the next writer
 * in.  The flag goes down before the writers' mutex is released, or the
 * next writer's raised flag could be cleared by this one. */
static void write_release(struct ct_brlock *l)
{
    atomic_store_explicit(&l->writer, 0, memory_order_seq_cst);
    if (atomic_load_explicit(&l->sleepers, memory_order_seq_cst)) {
        CT_PT(pthread_mutex_lock(&l->mu));
        CT_PT(pthread_cond_broadcast(&l->writer_gone));
        CT_PT(pthread_mutex_unlock(&l->mu));
    }
    CT_PT(pthread_mutex_unlock(&l->writers));
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
    int rc = ct_mutex_lock_bounded(&l->writers, deadline, cancel);
    if (rc != 0)
        return rc;
    /* raise the flag (new readers now back off), then wait for the
     * readers already in to leave, slot by slot */
    atomic_store_explicit(&l->writer, 1, memory_order_seq_cst);
    for (int i = 0; i < CT_BRLOCK_SLOTS; i++) {
        rc = wait_drained(l, &l->slots[i].readers, deadline, cancel);
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
    if (pthread_mutex_trylock(&l->writers) != 0)
        return false;
    atomic_store_explicit(&l->writer, 1, memory_order_seq_cst);
    for (int i = 0; i < CT_BRLOCK_SLOTS; i++) {
        if (atomic_load_explicit(&l->slots[i].readers, memory_order_seq_cst) != 0) {
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
