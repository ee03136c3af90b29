/* lock-table.h - the table behind locks.h: thin adapters from each lock's
 * own API to the common one, and ct_lock_table[], every kind in the order
 * of CT_LOCK_KIND_NAMES.
 *
 * Only locks.c and code that must call a kind's lock directly include it.
 * Everything here is static, so an includer that picks a row with a
 * constant index (ct_lock_table[5].read_lock) gets a direct call, inlined
 * down to the lock's own inline fast path, instead of an indirect call
 * through the adapter: rwlock-bench measures each kind that way, as a
 * program using the lock would call it.  Everyone else uses locks.h.
 */
#ifndef CT_LOCK_TABLE_H
#define CT_LOCK_TABLE_H

#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "brlock.h"
#include "hslock.h"
#include "check.h"
#include "locks.h"
#include "rwlock.h"
#include "seqlock.h"
#include "spinlock.h"
#include "wait.h"

/* ---- pthread_mutex_t -------------------------------------------------- */

static inline int mutex_init(void *l)
{
    return -pthread_mutex_init(l, NULL);
}

static inline void mutex_destroy(void *l)
{
    CT_PT(pthread_mutex_destroy(l));
}

static inline int mutex_lock(void *l, int64_t timeout_ns, struct ct_event *cancel)
{
    if (timeout_ns < 0 && !cancel) {
        CT_PT(pthread_mutex_lock(l));
        return 0;
    }
    return ct_mutex_lock_bounded(l, ct_deadline_after(timeout_ns), cancel);
}

static inline void mutex_unlock(void *l)
{
    CT_PT(pthread_mutex_unlock(l));
}

/* ---- pthread_rwlock_t ------------------------------------------------- */

static inline int rw_init_kind(void *l, int kind)
{
    pthread_rwlockattr_t a;
    int rc = pthread_rwlockattr_init(&a);
    if (rc == 0) {
        rc = pthread_rwlockattr_setkind_np(&a, kind);
        if (rc == 0)
            rc = pthread_rwlock_init(l, &a);
        pthread_rwlockattr_destroy(&a);
    }
    return -rc;
}

static inline int rw_init(void *l)
{
    return rw_init_kind(l, PTHREAD_RWLOCK_DEFAULT_NP);
}

static inline int rw_wp_init(void *l)
{
    return rw_init_kind(l, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
}

static inline void rw_destroy(void *l)
{
    CT_PT(pthread_rwlock_destroy(l));
}

/* Wait in slices, so that a cancel is noticed (see wait.h).  The first
 * attempt is always made: with a deadline already past (timeout 0, "try
 * once"), a timed lock still takes a free lock before it times out. */
static inline int rw_timeout(void *l, int64_t timeout_ns, struct ct_event *cancel,
                    int (*timed)(pthread_rwlock_t *, const struct timespec *))
{
    int64_t deadline = ct_deadline_after(timeout_ns);
    for (bool first = true;; first = false) {
        if (cancel && ct_event_is_set(cancel))
            return -ECANCELED;
        struct timespec until;
        if (!ct_realtime_slice(deadline, &until)) {
            if (!first)
                return -ETIMEDOUT;
            clock_gettime(CLOCK_REALTIME, &until);
        }
        int rc = timed(l, &until);
        if (rc != ETIMEDOUT)
            return -rc;
    }
}

static inline int rw_read_lock(void *l, int64_t timeout_ns, struct ct_event *cancel)
{
    if (timeout_ns < 0 && !cancel) {
        CT_PT(pthread_rwlock_rdlock(l));
        return 0;
    }
    return rw_timeout(l, timeout_ns, cancel, pthread_rwlock_timedrdlock);
}

static inline int rw_write_lock(void *l, int64_t timeout_ns, struct ct_event *cancel)
{
    if (timeout_ns < 0 && !cancel) {
        CT_PT(pthread_rwlock_wrlock(l));
        return 0;
    }
    return rw_timeout(l, timeout_ns, cancel, pthread_rwlock_timedwrlock);
}

static inline void rw_unlock(void *l)
{
    CT_PT(pthread_rwlock_unlock(l));
}

/* ---- the project's own locks ------------------------------------------ */

static inline int spin_init(void *l)
{
    ct_spin_init(l);
    return 0;
}

static inline void spin_destroy(void *l)
{
    ct_spin_destroy(l);
}

static inline int spin_lock(void *l, int64_t timeout_ns, struct ct_event *cancel)
{
    return ct_spin_lock_timeout(l, timeout_ns, cancel);
}

static inline void spin_unlock(void *l)
{
    ct_spin_unlock(l);
}

static inline int teach_init(void *l)
{
    return ct_rwlock_init(l);
}

static inline void teach_destroy(void *l)
{
    ct_rwlock_destroy(l);
}

static inline int teach_read_lock(void *l, int64_t timeout_ns, struct ct_event *cancel)
{
    return ct_rwlock_read_lock_timeout(l, timeout_ns, cancel);
}

static inline void teach_read_unlock(void *l)
{
    ct_rwlock_read_unlock(l);
}

static inline int teach_write_lock(void *l, int64_t timeout_ns, struct ct_event *cancel)
{
    return ct_rwlock_write_lock_timeout(l, timeout_ns, cancel);
}

static inline void teach_write_unlock(void *l)
{
    ct_rwlock_write_unlock(l);
}

static inline int br_init(void *l)
{
    return ct_brlock_init(l);
}

static inline void br_destroy(void *l)
{
    ct_brlock_destroy(l);
}

static inline int br_read_lock(void *l, int64_t timeout_ns, struct ct_event *cancel)
{
    return ct_brlock_read_lock_timeout(l, timeout_ns, cancel);
}

static inline void br_read_unlock(void *l)
{
    ct_brlock_read_unlock(l);
}

static inline int br_write_lock(void *l, int64_t timeout_ns, struct ct_event *cancel)
{
    return ct_brlock_write_lock_timeout(l, timeout_ns, cancel);
}

static inline void br_write_unlock(void *l)
{
    ct_brlock_write_unlock(l);
}

static inline int hs_init(void *l)
{
    return ct_hslock_init(l);
}

static inline void hs_destroy(void *l)
{
    ct_hslock_destroy(l);
}

static inline int hs_read_lock(void *l, int64_t timeout_ns, struct ct_event *cancel)
{
    return ct_hslock_read_lock_timeout(l, timeout_ns, cancel);
}

static inline void hs_read_unlock(void *l)
{
    ct_hslock_read_unlock(l);
}

static inline int hs_write_lock(void *l, int64_t timeout_ns, struct ct_event *cancel)
{
    return ct_hslock_write_lock_timeout(l, timeout_ns, cancel);
}

static inline void hs_write_unlock(void *l)
{
    ct_hslock_write_unlock(l);
}

static inline int seq_init(void *l)
{
    ct_seqlock_init(l);
    return 0;
}

static inline void seq_destroy(void *l)
{
    (void)l;
}

static inline uint32_t seq_read_begin(void *l)
{
    return ct_seqlock_read_begin(l);
}

static inline bool seq_read_retry(void *l, uint32_t begin)
{
    return ct_seqlock_read_retry(l, begin);
}

static inline int seq_write_lock(void *l, int64_t timeout_ns, struct ct_event *cancel)
{
    return ct_seqlock_write_lock_timeout(l, timeout_ns, cancel);
}

static inline void seq_write_unlock(void *l)
{
    ct_seqlock_write_unlock(l);
}

/* ---- the table -------------------------------------------------------- */

/* Keep in the order of CT_LOCK_KIND_NAMES. */
static const struct ct_lock_kind ct_lock_table[] = {
    { .name = "mutex", .how = "pthread_mutex_t", .size = sizeof(pthread_mutex_t),
      .init = mutex_init, .destroy = mutex_destroy, .read_lock = mutex_lock,
      .read_unlock = mutex_unlock, .write_lock = mutex_lock, .write_unlock = mutex_unlock },
    { .name = "rwlock", .how = "pthread_rwlock_t, glibc default (readers first)",
      .shared_reads = true, .size = sizeof(pthread_rwlock_t), .init = rw_init,
      .destroy = rw_destroy, .read_lock = rw_read_lock, .read_unlock = rw_unlock,
      .write_lock = rw_write_lock, .write_unlock = rw_unlock },
    { .name = "rwlock-wp", .how = "pthread_rwlock_t, PREFER_WRITER_NONRECURSIVE_NP",
      .shared_reads = true, .size = sizeof(pthread_rwlock_t), .init = rw_wp_init,
      .destroy = rw_destroy, .read_lock = rw_read_lock, .read_unlock = rw_unlock,
      .write_lock = rw_write_lock, .write_unlock = rw_unlock },
    { .name = "spin", .how = "test-and-test-and-set spinlock, backoff (spinlock.h)",
      .size = sizeof(struct ct_spinlock), .init = spin_init, .destroy = spin_destroy,
      .read_lock = spin_lock, .read_unlock = spin_unlock, .write_lock = spin_lock,
      .write_unlock = spin_unlock },
    { .name = "teach-rw", .how = "mutex + 2 condvars, writers first (rwlock.h)",
      .shared_reads = true, .size = sizeof(struct ct_rwlock), .init = teach_init,
      .destroy = teach_destroy, .read_lock = teach_read_lock, .read_unlock = teach_read_unlock,
      .write_lock = teach_write_lock, .write_unlock = teach_write_unlock },
    { .name = "brlock", .how = "per-slot reader counts, writers scan (brlock.h)",
      .shared_reads = true, .size = sizeof(struct ct_brlock), .init = br_init,
      .destroy = br_destroy, .read_lock = br_read_lock, .read_unlock = br_read_unlock,
      .write_lock = br_write_lock, .write_unlock = br_write_unlock },
    { .name = "hslock", .how = "per-slot flags, no reader fence; writers hand-shake (hslock.h)",
      .shared_reads = true, .size = sizeof(struct ct_hslock), .init = hs_init,
      .destroy = hs_destroy, .read_lock = hs_read_lock, .read_unlock = hs_read_unlock,
      .write_lock = hs_write_lock, .write_unlock = hs_write_unlock },
    { .name = "seqlock", .how = "sequence number; readers write nothing, retry (seqlock.h)",
      .shared_reads = true, .size = sizeof(struct ct_seqlock), .init = seq_init,
      .destroy = seq_destroy, .write_lock = seq_write_lock, .write_unlock = seq_write_unlock,
      .read_begin = seq_read_begin, .read_retry = seq_read_retry },
};

#define CT_LOCK_TABLE_SIZE (sizeof ct_lock_table / sizeof ct_lock_table[0])

#endif
