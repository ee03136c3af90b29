/* rwlock.c - see rwlock.h. */
#include "rwlock.h"

#include <errno.h>

#include "check.h"
#include "wait.h"

int ct_rwlock_init(struct ct_rwlock *l)
{
    int rc = pthread_mutex_init(&l->mu, NULL);
    if (rc != 0)
        return -rc;
    if ((rc = ct_cond_init_monotonic(&l->readers_cv)) != 0)
        goto fail_mu;
    if ((rc = ct_cond_init_monotonic(&l->writers_cv)) != 0)
        goto fail_readers;
    l->readers = 0;
    l->writer = false;
    l->writers_waiting = 0;
    return 0;
fail_readers:
    pthread_cond_destroy(&l->readers_cv);
fail_mu:
    pthread_mutex_destroy(&l->mu);
    return rc;
}

void ct_rwlock_destroy(struct ct_rwlock *l)
{
    CT_PT(pthread_cond_destroy(&l->writers_cv));
    CT_PT(pthread_cond_destroy(&l->readers_cv));
    CT_PT(pthread_mutex_destroy(&l->mu));
}

/* The whole policy is in these two predicates (called with mu held).
 * A reader stays out while a writer is in or waiting: that is what makes
 * the lock writer-preferring. */
static bool reader_may_enter(const struct ct_rwlock *l)
{
    return !l->writer && l->writers_waiting == 0;
}

static bool writer_may_enter(const struct ct_rwlock *l)
{
    return !l->writer && l->readers == 0;
}

int ct_rwlock_read_lock_timeout(struct ct_rwlock *l, int64_t timeout_ns,
                              struct ct_event *cancel)
{
    int64_t deadline = ct_deadline_after(timeout_ns);
    int rc = 0;
    CT_PT(pthread_mutex_lock(&l->mu));
    while (!reader_may_enter(l) && rc == 0)
        rc = ct_cond_wait_bounded(&l->readers_cv, &l->mu, deadline, cancel);
    if (reader_may_enter(l)) {      /* the condition wins over a late timeout */
        l->readers++;
        rc = 0;
    }
    CT_PT(pthread_mutex_unlock(&l->mu));
    return rc;
}

int ct_rwlock_read_lock(struct ct_rwlock *l, struct ct_event *cancel)
{
    return ct_rwlock_read_lock_timeout(l, -1, cancel);
}

bool ct_rwlock_try_read_lock(struct ct_rwlock *l)
{
    CT_PT(pthread_mutex_lock(&l->mu));
    bool ok = reader_may_enter(l);
    if (ok)
        l->readers++;
    CT_PT(pthread_mutex_unlock(&l->mu));
    return ok;
}

void ct_rwlock_read_unlock(struct ct_rwlock *l)
{
    CT_PT(pthread_mutex_lock(&l->mu));
    /* the last reader out lets one writer in (readers cannot be waiting
     * for a reader, so there is nobody else to wake) */
    if (--l->readers == 0 && l->writers_waiting > 0)
        CT_PT(pthread_cond_signal(&l->writers_cv));
    CT_PT(pthread_mutex_unlock(&l->mu));
}

int ct_rwlock_write_lock_timeout(struct ct_rwlock *l, int64_t timeout_ns,
                               struct ct_event *cancel)
{
    int64_t deadline = ct_deadline_after(timeout_ns);
    int rc = 0;
    CT_PT(pthread_mutex_lock(&l->mu));
    l->writers_waiting++;
    while (!writer_may_enter(l) && rc == 0)
        rc = ct_cond_wait_bounded(&l->writers_cv, &l->mu, deadline, cancel);
    l->writers_waiting--;
    if (writer_may_enter(l)) {
        l->writer = true;
        rc = 0;
    } else if (l->writers_waiting == 0 && !l->writer) {
        /* giving up: readers held back only by this writer may go in */
        CT_PT(pthread_cond_broadcast(&l->readers_cv));
    }
    CT_PT(pthread_mutex_unlock(&l->mu));
    return rc;
}

int ct_rwlock_write_lock(struct ct_rwlock *l, struct ct_event *cancel)
{
    return ct_rwlock_write_lock_timeout(l, -1, cancel);
}

bool ct_rwlock_try_write_lock(struct ct_rwlock *l)
{
    CT_PT(pthread_mutex_lock(&l->mu));
    bool ok = writer_may_enter(l);
    if (ok)
        l->writer = true;
    CT_PT(pthread_mutex_unlock(&l->mu));
    return ok;
}

void ct_rwlock_write_unlock(struct ct_rwlock *l)
{
    CT_PT(pthread_mutex_lock(&l->mu));
    l->writer = false;
    if (l->writers_waiting > 0)
        CT_PT(pthread_cond_signal(&l->writers_cv));     /* writers first */
    else
        CT_PT(pthread_cond_broadcast(&l->readers_cv));
    CT_PT(pthread_mutex_unlock(&l->mu));
}

int ct_rwlock_writers_waiting(struct ct_rwlock *l)
{
    CT_PT(pthread_mutex_lock(&l->mu));
    int n = l->writers_waiting;
    CT_PT(pthread_mutex_unlock(&l->mu));
    return n;
}
