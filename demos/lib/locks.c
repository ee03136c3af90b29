/* locks.c - see locks.h: thin adapters from each lock's own API to the
 * common one. */
#include "locks.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "brlock.h"
#include "check.h"
#include "rwlock.h"
#include "spinlock.h"
#include "wait.h"

#define ALIGN 128

/* ---- pthread_mutex_t -------------------------------------------------- */

static int mutex_init(void *l)
{
    return -pthread_mutex_init(l, NULL);
}

static void mutex_destroy(void *l)
{
    CT_PT(pthread_mutex_destroy(l));
}

static int mutex_lock(void *l, int64_t timeout_ns, struct ct_event *cancel)
{
    if (timeout_ns < 0 && !cancel) {
        CT_PT(pthread_mutex_lock(l));
        return 0;
    }
    return ct_mutex_lock_bounded(l, ct_deadline_after(timeout_ns), cancel);
}

static void mutex_unlock(void *l)
{
    CT_PT(pthread_mutex_unlock(l));
}

/* ---- pthread_rwlock_t ------------------------------------------------- */

static int rw_init_kind(void *l, int kind)
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

static int rw_init(void *l)
{
    return rw_init_kind(l, PTHREAD_RWLOCK_DEFAULT_NP);
}

static int rw_wp_init(void *l)
{
    return rw_init_kind(l, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
}

static void rw_destroy(void *l)
{
    CT_PT(pthread_rwlock_destroy(l));
}

/* Wait in slices, so that a cancel is noticed (see wait.h).  The first
 * attempt is always made: with a deadline already past (timeout 0, "try
 * once"), a timed lock still takes a free lock before it times out. */
static int rw_timeout(void *l, int64_t timeout_ns, struct ct_event *cancel,
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

static int rw_read_lock(void *l, int64_t timeout_ns, struct ct_event *cancel)
{
    if (timeout_ns < 0 && !cancel) {
        CT_PT(pthread_rwlock_rdlock(l));
        return 0;
    }
    return rw_timeout(l, timeout_ns, cancel, pthread_rwlock_timedrdlock);
}

static int rw_write_lock(void *l, int64_t timeout_ns, struct ct_event *cancel)
{
    if (timeout_ns < 0 && !cancel) {
        CT_PT(pthread_rwlock_wrlock(l));
        return 0;
    }
    return rw_timeout(l, timeout_ns, cancel, pthread_rwlock_timedwrlock);
}

static void rw_unlock(void *l)
{
    CT_PT(pthread_rwlock_unlock(l));
}

/* ---- the project's own locks ------------------------------------------ */

static int spin_init(void *l)
{
    ct_spin_init(l);
    return 0;
}

static void spin_destroy(void *l)
{
    ct_spin_destroy(l);
}

static int spin_lock(void *l, int64_t timeout_ns, struct ct_event *cancel)
{
    return ct_spin_lock_timeout(l, timeout_ns, cancel);
}

static void spin_unlock(void *l)
{
    ct_spin_unlock(l);
}

static int teach_init(void *l)
{
    return ct_rwlock_init(l);
}

static void teach_destroy(void *l)
{
    ct_rwlock_destroy(l);
}

static int teach_read_lock(void *l, int64_t timeout_ns, struct ct_event *cancel)
{
    return ct_rwlock_read_lock_timeout(l, timeout_ns, cancel);
}

static void teach_read_unlock(void *l)
{
    ct_rwlock_read_unlock(l);
}

static int teach_write_lock(void *l, int64_t timeout_ns, struct ct_event *cancel)
{
    return ct_rwlock_write_lock_timeout(l, timeout_ns, cancel);
}

static void teach_write_unlock(void *l)
{
    ct_rwlock_write_unlock(l);
}

static int br_init(void *l)
{
    return ct_brlock_init(l);
}

static void br_destroy(void *l)
{
    ct_brlock_destroy(l);
}

static int br_read_lock(void *l, int64_t timeout_ns, struct ct_event *cancel)
{
    return ct_brlock_read_lock_timeout(l, timeout_ns, cancel);
}

static void br_read_unlock(void *l)
{
    ct_brlock_read_unlock(l);
}

static int br_write_lock(void *l, int64_t timeout_ns, struct ct_event *cancel)
{
    return ct_brlock_write_lock_timeout(l, timeout_ns, cancel);
}

static void br_write_unlock(void *l)
{
    ct_brlock_write_unlock(l);
}

/* ---- the table -------------------------------------------------------- */

/* Keep in the order of CT_LOCK_KIND_NAMES. */
const struct ct_lock_kind ct_lock_kinds[] = {
    { "mutex", "pthread_mutex_t", false, sizeof(pthread_mutex_t),
      mutex_init, mutex_destroy, mutex_lock, mutex_unlock, mutex_lock, mutex_unlock },
    { "rwlock", "pthread_rwlock_t, glibc default (readers first)", true,
      sizeof(pthread_rwlock_t), rw_init, rw_destroy, rw_read_lock, rw_unlock,
      rw_write_lock, rw_unlock },
    { "rwlock-wp", "pthread_rwlock_t, PREFER_WRITER_NONRECURSIVE_NP", true,
      sizeof(pthread_rwlock_t), rw_wp_init, rw_destroy, rw_read_lock, rw_unlock,
      rw_write_lock, rw_unlock },
    { "spin", "test-and-test-and-set spinlock, backoff (spinlock.h)", false,
      sizeof(struct ct_spinlock), spin_init, spin_destroy, spin_lock, spin_unlock,
      spin_lock, spin_unlock },
    { "teach-rw", "mutex + 2 condvars, writers first (rwlock.h)", true,
      sizeof(struct ct_rwlock), teach_init, teach_destroy, teach_read_lock,
      teach_read_unlock, teach_write_lock, teach_write_unlock },
    { "brlock", "per-slot reader counts, writers scan (brlock.h)", true,
      sizeof(struct ct_brlock), br_init, br_destroy, br_read_lock, br_read_unlock,
      br_write_lock, br_write_unlock },
};

const size_t ct_lock_kind_count = sizeof ct_lock_kinds / sizeof ct_lock_kinds[0];

const struct ct_lock_kind *ct_lock_kind_find(const char *name)
{
    for (size_t i = 0; i < ct_lock_kind_count; i++) {
        if (strcmp(ct_lock_kinds[i].name, name) == 0)
            return &ct_lock_kinds[i];
    }
    return NULL;
}

int ct_lock_new(const struct ct_lock_kind *k, void **out)
{
    size_t size = (k->size + ALIGN - 1) / ALIGN * ALIGN;
    void *l = aligned_alloc(ALIGN, size);
    if (!l)
        return -ENOMEM;
    memset(l, 0, size);
    int rc = k->init(l);
    if (rc != 0) {
        free(l);
        return rc;
    }
    *out = l;
    return 0;
}

void ct_lock_free(const struct ct_lock_kind *k, void *l)
{
    if (!l)
        return;
    k->destroy(l);
    free(l);
}
