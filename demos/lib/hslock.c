/* hslock.c - see hslock.h.
 *
 * Why it is correct.  A writer holds the mutex, writes an epoch e into
 * `pending` of every active slot but its own, and proceeds only when each
 * of those slots (a) has answered e or OUTSIDE in `ack`, or (b) was seen
 * with `inside` 0 after a membarrier, and is then parked.
 *   (a) A reader stores `inside` 0 (release) before it answers (release),
 *       so a writer that reads the answer (acquire) comes after the
 *       reader's critical section.  Having read e, the reader's later
 *       loads of `pending` cannot return an older value (coherence), so
 *       it stays out until the writer clears `pending`.  OUTSIDE promises
 *       the same, and a reader returning from OUTSIDE does "store inside,
 *       store ack 0, full fence, load pending" against the writer's "store
 *       pending, full fence, load ack": one of the two sees the other.
 *   (b) membarrier puts a full barrier on every CPU running one of our
 *       threads, between the writer's store to `pending` and its load of
 *       `inside` (a thread not running has passed a context switch, which
 *       is one).  A reader whose "store inside 1" the writer did not see
 *       therefore loads `pending` after that barrier and sees the writer's
 *       value.
 * Clearing `pending` (release) publishes the write to the next reader,
 * whose load is acquire.
 */
#include "hslock.h"

#include <errno.h>
#include <limits.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backoff.h"
#include "check.h"
#include "clock.h"
#include "park.h"
#include "wait.h"

#define HELD 1u
#define WAITERS 2u              /* writers sleep on the mutex */
#define READERS_ASLEEP 4u       /* readers sleep on their `pending` */

/* Rounds of waiting for answers (one pause each) before a writer calls
 * membarrier: a microsecond or two, time enough for a running reader to
 * get to its next lock or unlock. */
#define ANSWER_SPINS 64
/* How a turned-away reader waits: as brlock's do (brlock.c), a thread
 * that writers keep turning away (FREQUENT_STREAK times in a row, each
 * within FREQUENT_WITHIN of its reads) backs off for BACKOFF_FIRST
 * pauses, so that the writer's thread runs a stretch alone; the others
 * look again at once.  Either sleeps after READER_SPINS pauses (the
 * back-off is longer, so a writer still there then is slept on). */
#define READER_SPINS 2000
#define FREQUENT_WITHIN 256
#define FREQUENT_STREAK 4
#define BACKOFF_FIRST 2048
/* A writer waiting for a reader inside sleeps in slices this long. */
#define ANSWER_SLICE_NS (1000 * INT64_C(1000))

_Thread_local struct ct_hslock_thread ct_hslock_self = { .slot = -1 };
bool ct_hslock_fence_free;

/* ---- slots: one per thread, back to the pool at thread exit ------------- */

static _Atomic uint64_t taken_slots;
static pthread_key_t slot_key;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void give_back_slot(void *arg)
{
    int k = (int)(intptr_t)arg - 1;
    atomic_fetch_and_explicit(&taken_slots, ~(UINT64_C(1) << k), memory_order_release);
}

static void setup(void)
{
    CT_PT(pthread_key_create(&slot_key, give_back_slot));
    ct_hslock_fence_free =
        syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

static int self_slot(void)
{
    if (ct_hslock_self.slot != -1)
        return ct_hslock_self.slot;
    uint64_t t = atomic_load_explicit(&taken_slots, memory_order_relaxed);
    for (;;) {
        if (t == UINT64_MAX)
            return ct_hslock_self.slot = CT_HSLOCK_NO_SLOT;
        int k = __builtin_ctzll(~t);
        if (atomic_compare_exchange_weak_explicit(&taken_slots, &t, t | (UINT64_C(1) << k),
                                                  memory_order_acquire, memory_order_relaxed)) {
            CT_PT(pthread_setspecific(slot_key, (void *)(intptr_t)(k + 1)));
            return ct_hslock_self.slot = k;
        }
    }
}

void ct_hslock_full_fence(_Atomic uint32_t *word)
{
#ifdef __SANITIZE_THREAD__
    /* GCC refuses atomic_thread_fence under ThreadSanitizer; a seq_cst
     * read-modify-write is a full barrier too */
    atomic_fetch_add_explicit(word, 0, memory_order_seq_cst);
#else
    (void)word;
    atomic_thread_fence(memory_order_seq_cst);
#endif
}

int ct_hslock_init(struct ct_hslock *l)
{
    CT_PT(pthread_once(&once, setup));
    l->slots = aligned_alloc(CT_HSLOCK_SLOT_BYTES, CT_HSLOCK_SLOTS * sizeof *l->slots);
    if (!l->slots)
        return -ENOMEM;
    for (int i = 0; i < CT_HSLOCK_SLOTS; i++) {
        struct ct_hslock_slot *s = &l->slots[i];
        atomic_init(&s->inside, 0);
        atomic_init(&s->pending, CT_HSLOCK_PARKED);   /* joins on its first read */
        atomic_init(&s->ack, 0);
        atomic_init(&s->reader_sleeps, 0);
        atomic_init(&s->writer_sleeps, 0);
    }
    atomic_init(&l->mutex, 0);
    l->epoch = 0;
    l->active = 0;
    l->shaken = 0;
    return 0;
}

void ct_hslock_destroy(struct ct_hslock *l)
{
    free(l->slots);
}

/* Why a wait should end now: -ECANCELED, -ETIMEDOUT, or 0 to go on. */
static int give_up(int64_t deadline, struct ct_event *cancel)
{
    if (cancel && ct_event_is_set(cancel))
        return -ECANCELED;
    return ct_clock_ns() >= deadline ? -ETIMEDOUT : 0;
}

/* ---- the writers' mutex ----------------------------------------------------- */

static int mutex_lock(struct ct_hslock *l, bool block, int64_t deadline, struct ct_event *cancel)
{
    struct ct_backoff b = CT_BACKOFF_INIT;
    for (;;) {
        uint32_t m = atomic_load_explicit(&l->mutex, memory_order_relaxed);
        if (!(m & HELD)) {
            if (atomic_compare_exchange_weak_explicit(&l->mutex, &m, m | HELD,
                                                      memory_order_acquire,
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
        int rc = give_up(deadline, cancel);
        if (rc != 0)
            return rc;
        if (!(m & WAITERS) &&
            !atomic_compare_exchange_weak_explicit(&l->mutex, &m, m | WAITERS,
                                                   memory_order_relaxed, memory_order_relaxed))
            continue;
        ct_futex_wait(&l->mutex, m | WAITERS, deadline, cancel != NULL);
    }
}

/* Release the mutex; wake writers waiting for it, and readers asleep on
 * the `pending` of a slot we cleared.  The exchange is also the fence
 * between our clearing of `pending` and our look at `reader_sleeps` (a
 * reader about to sleep sets READERS_ASLEEP with an atomic OR first). */
static void mutex_unlock(struct ct_hslock *l)
{
    uint64_t slots = l->shaken | l->active;
    uint32_t old = atomic_exchange_explicit(&l->mutex, 0, memory_order_seq_cst);
    if (old & WAITERS)
        ct_futex_wake(&l->mutex, INT_MAX);
    if (old & READERS_ASLEEP) {
        for (; slots; slots &= slots - 1) {
            struct ct_hslock_slot *s = &l->slots[__builtin_ctzll(slots)];
            if (atomic_load_explicit(&s->reader_sleeps, memory_order_relaxed))
                ct_futex_wake(&s->pending, INT_MAX);
        }
    }
}

/* ---- readers ------------------------------------------------------------------ */

/* Tell the writer waiting on slot s our answer `a`, and wake it if it
 * sleeps.  No fence between the store and the load, because this runs on
 * every write a reader meets: a writer sleeps only after waiting some
 * tens of microseconds for a reader inside, and then in slices of
 * ANSWER_SLICE_NS, so a wake-up missed here costs it at most one slice. */
static void answer(struct ct_hslock_slot *s, uint32_t a)
{
    atomic_store_explicit(&s->ack, a, memory_order_release);
    if (atomic_load_explicit(&s->writer_sleeps, memory_order_relaxed))
        ct_futex_wake(&s->ack, INT_MAX);
}

/* Join a parked slot's handshakes again, under the mutex, and go in. */
static int unpark(struct ct_hslock *l, int k, bool block, int64_t deadline,
                  struct ct_event *cancel)
{
    struct ct_hslock_slot *s = &l->slots[k];
    atomic_store_explicit(&s->inside, 0, memory_order_relaxed);
    int rc = mutex_lock(l, block, deadline, cancel);
    if (rc != 0)
        return rc;
    l->active |= UINT64_C(1) << k;
    atomic_store_explicit(&s->ack, 0, memory_order_relaxed);
    atomic_store_explicit(&s->pending, 0, memory_order_relaxed);
    atomic_store_explicit(&s->inside, 1, memory_order_relaxed);
    mutex_unlock(l);    /* release: a writer after us sees us active */
    return 0;
}

/* Wait until `pending` no longer reads p: spin (or back off, see
 * FREQUENT_STREAK), then sleep on it. */
static int wait_pending_changes(struct ct_hslock *l, struct ct_hslock_slot *s, uint32_t p,
                                int64_t deadline, struct ct_event *cancel)
{
    struct ct_hslock_thread *self = &ct_hslock_self;
    self->soon_streak = self->reads_since_away < FREQUENT_WITHIN ? self->soon_streak + 1 : 0;
    self->reads_since_away = 0;
    bool frequent = self->soon_streak >= FREQUENT_STREAK;
    int n = frequent ? BACKOFF_FIRST : 1;
    for (int spun = 0; spun < READER_SPINS; spun += n, n = frequent ? 2 * n : 1) {
        if (atomic_load_explicit(&s->pending, memory_order_relaxed) != p)
            return 0;
        for (int i = 0; i < n; i++)
            ct_cpu_relax();
    }
    for (;;) {
        atomic_store_explicit(&s->reader_sleeps, 1, memory_order_relaxed);
        atomic_fetch_or_explicit(&l->mutex, READERS_ASLEEP, memory_order_seq_cst);
        if (atomic_load_explicit(&s->pending, memory_order_relaxed) != p)
            break;
        int rc = give_up(deadline, cancel);
        if (rc != 0) {
            atomic_store_explicit(&s->reader_sleeps, 0, memory_order_relaxed);
            return rc;
        }
        ct_futex_wait(&s->pending, p, deadline, cancel != NULL);
    }
    atomic_store_explicit(&s->reader_sleeps, 0, memory_order_relaxed);
    return 0;
}

/* A try (`block` false) or a wait for the read lock, past the fast path. */
static int read_lock_slow(struct ct_hslock *l, bool block, int64_t timeout_ns,
                          struct ct_event *cancel)
{
    int k = self_slot();
    int64_t deadline = ct_deadline_after(timeout_ns);
    if (k == CT_HSLOCK_NO_SLOT) {
        /* no slot: read alone, as a writer would */
        int rc = block ? ct_hslock_write_lock_timeout(l, timeout_ns, cancel)
                       : ct_hslock_try_write_lock(l) ? 0 : -EBUSY;
        return rc;
    }
    struct ct_hslock_slot *s = &l->slots[k];
    for (;;) {
        uint32_t p = atomic_load_explicit(&s->pending, memory_order_acquire);
        if (p == CT_HSLOCK_PARKED)
            return unpark(l, k, block, deadline, cancel);
        if (p == 0) {
            /* a fenced return: announce, fence, look */
            atomic_store_explicit(&s->inside, 1, memory_order_relaxed);
            atomic_store_explicit(&s->ack, 0, memory_order_relaxed);
            ct_hslock_full_fence(&s->inside);
            p = atomic_load_explicit(&s->pending, memory_order_acquire);
            if (p == 0) {
                ct_hslock_self.reads_since_away++;
                return 0;
            }
            if (p == CT_HSLOCK_PARKED)
                continue;
        }
        /* a writer wants in: leave, say we stay out, wait for it */
        atomic_store_explicit(&s->inside, 0, memory_order_release);
        answer(s, CT_HSLOCK_OUTSIDE);
        if (!block)
            return -EBUSY;
        int rc = wait_pending_changes(l, s, p, deadline, cancel);
        if (rc != 0)
            return rc;
    }
}

int ct_hslock_read_lock_slow(struct ct_hslock *l, int64_t timeout_ns, struct ct_event *cancel)
{
    return read_lock_slow(l, true, timeout_ns, cancel);
}

bool ct_hslock_try_read_lock(struct ct_hslock *l)
{
    int k = ct_hslock_self.slot;
    if (k >= 0) {
        struct ct_hslock_slot *s = &l->slots[k];
        if (atomic_load_explicit(&s->ack, memory_order_relaxed) != CT_HSLOCK_OUTSIDE) {
            atomic_store_explicit(&s->inside, 1, memory_order_relaxed);
            ct_hslock_full_fence(&s->inside);
            if (atomic_load_explicit(&s->pending, memory_order_acquire) == 0)
                return true;
        }
    }
    return read_lock_slow(l, false, 0, NULL) == 0;
}

void ct_hslock_read_unlock_slow(struct ct_hslock *l)
{
    int k = ct_hslock_self.slot;
    if (k < 0) {
        ct_hslock_write_unlock(l);      /* we read as a writer */
        return;
    }
    struct ct_hslock_slot *s = &l->slots[k];
    uint32_t p = atomic_load_explicit(&s->pending, memory_order_relaxed);
    if (p != 0 && p != CT_HSLOCK_PARKED &&
        atomic_load_explicit(&s->ack, memory_order_relaxed) != p)
        answer(s, p);
}

/* ---- writers ------------------------------------------------------------------ */

/* Clear `pending` in the slots of `set` (mutex_unlock wakes their
 * sleepers). */
static void release_slots(struct ct_hslock *l, uint64_t set)
{
    for (; set; set &= set - 1)
        atomic_store_explicit(&l->slots[__builtin_ctzll(set)].pending, 0, memory_order_release);
}

static bool answered(struct ct_hslock_slot *s, uint32_t e)
{
    uint32_t a = atomic_load_explicit(&s->ack, memory_order_acquire);
    return a == e || a == CT_HSLOCK_OUTSIDE;
}

/* Wait for reader k, which is inside, to answer e. */
static int wait_answer(struct ct_hslock_slot *s, uint32_t e, int64_t deadline,
                       struct ct_event *cancel)
{
    struct ct_backoff b = CT_BACKOFF_INIT;
    while (!answered(s, e)) {
        if (!ct_backoff_is_completed(&b)) {
            ct_backoff_snooze(&b);
            continue;
        }
        int rc = give_up(deadline, cancel);
        if (rc != 0)
            return rc;
        uint32_t a = atomic_load_explicit(&s->ack, memory_order_relaxed);
        atomic_store_explicit(&s->writer_sleeps, 1, memory_order_relaxed);
        ct_hslock_full_fence(&s->writer_sleeps);
        if (!answered(s, e)) {
            int64_t slice_end = ct_clock_ns() + ANSWER_SLICE_NS;
            ct_futex_wait(&s->ack, a, deadline < slice_end ? deadline : slice_end, false);
        }
        atomic_store_explicit(&s->writer_sleeps, 0, memory_order_relaxed);
    }
    return 0;
}

/* Hand-shake with every active reader but ourselves.  `block` false:
 * fail rather than wait for a reader that is inside. */
static int handshake(struct ct_hslock *l, bool block, int64_t deadline, struct ct_event *cancel)
{
    int self = ct_hslock_self.slot;
    uint64_t set = l->active & (self >= 0 ? ~(UINT64_C(1) << self) : ~UINT64_C(0));
    uint32_t e = ++l->epoch;
    if (e == 0 || e >= CT_HSLOCK_PARKED)
        e = l->epoch = 1;
    for (uint64_t v = set; v; v &= v - 1)
        atomic_store_explicit(&l->slots[__builtin_ctzll(v)].pending, e, memory_order_relaxed);
    l->shaken = set;
    if (!set)
        return 0;
    ct_hslock_full_fence(&l->mutex);
    uint64_t left = set;
    for (int round = 0; left; round++) {
        for (uint64_t v = left; v; v &= v - 1)
            if (answered(&l->slots[__builtin_ctzll(v)], e))
                left &= ~(UINT64_C(1) << __builtin_ctzll(v));
        if (!left)
            break;
        if (round < ANSWER_SPINS) {
            ct_cpu_relax();
            continue;
        }
        /* Some readers have not answered.  After a membarrier (or, where
         * readers fence, after ours) a reader seen outside will see
         * `pending` when it next tries: park it.  Wait for the rest. */
        if (ct_hslock_fence_free)
            syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
        for (uint64_t v = left; v; v &= v - 1) {
            int k = __builtin_ctzll(v);
            struct ct_hslock_slot *s = &l->slots[k];
            if (!atomic_load_explicit(&s->inside, memory_order_acquire) || answered(s, e)) {
                if (!answered(s, e)) {
                    atomic_store_explicit(&s->pending, CT_HSLOCK_PARKED, memory_order_relaxed);
                    l->active &= ~(UINT64_C(1) << k);
                    l->shaken &= ~(UINT64_C(1) << k);
                }
                left &= ~(UINT64_C(1) << k);
                continue;
            }
            int rc = block ? wait_answer(s, e, deadline, cancel) : -EBUSY;
            if (rc != 0) {
                release_slots(l, l->shaken);
                return rc;
            }
            left &= ~(UINT64_C(1) << k);
        }
    }
    return 0;
}

int ct_hslock_write_lock_timeout(struct ct_hslock *l, int64_t timeout_ns,
                                 struct ct_event *cancel)
{
    int64_t deadline = ct_deadline_after(timeout_ns);
    int k = self_slot();
    /* A free mutex means no writer waits for our answer: take it, and our
     * slot stays as it is, so our next read takes the fast path.  Else,
     * while we wait for the mutex we are no reader: the writer ahead of
     * us needs no answer from us (we come back with a fence). */
    int rc = mutex_lock(l, false, 0, NULL);
    if (rc != 0) {
        if (k >= 0 && atomic_load_explicit(&l->slots[k].ack, memory_order_relaxed) !=
                          CT_HSLOCK_OUTSIDE)
            answer(&l->slots[k], CT_HSLOCK_OUTSIDE);
        rc = mutex_lock(l, true, deadline, cancel);
        if (rc != 0)
            return rc;
    }
    rc = handshake(l, true, deadline, cancel);
    if (rc != 0)
        mutex_unlock(l);
    return rc;
}

bool ct_hslock_try_write_lock(struct ct_hslock *l)
{
    self_slot();        /* so that the handshake leaves our own slot out */
    if (mutex_lock(l, false, 0, NULL) != 0)
        return false;
    if (handshake(l, false, 0, NULL) != 0) {
        mutex_unlock(l);
        return false;
    }
    return true;
}

void ct_hslock_write_unlock(struct ct_hslock *l)
{
    release_slots(l, l->shaken);
    mutex_unlock(l);
}

bool ct_hslock_writer_present(struct ct_hslock *l)
{
    return atomic_load(&l->mutex) & HELD;
}
