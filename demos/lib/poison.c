/* poison.c - see poison.h. */
#include "poison.h"

#include "check.h"
#include "panic.h"
#include "wait.h"

int ct_poison_init(struct ct_poison_mutex *m, void *data)
{
    int rc = pthread_mutex_init(&m->mu, NULL);
    if (rc != 0)
        return -rc;
    atomic_init(&m->poisoned, false);
    m->data = data;
    return 0;
}

void ct_poison_destroy(struct ct_poison_mutex *m)
{
    CT_PT(pthread_mutex_destroy(&m->mu));
}

/* Locked: hand out the data and say whether it is suspect. */
static int locked(struct ct_poison_mutex *m, void **data)
{
    if (data)
        *data = m->data;
    return atomic_load_explicit(&m->poisoned, memory_order_relaxed) ? CT_POISONED : 0;
}

int ct_poison_lock_timeout(struct ct_poison_mutex *m, void **data,
                         int64_t timeout_ns, struct ct_event *cancel)
{
    int rc = ct_mutex_lock_bounded(&m->mu, ct_deadline_after(timeout_ns), cancel);
    return rc < 0 ? rc : locked(m, data);
}

int ct_poison_lock(struct ct_poison_mutex *m, void **data, struct ct_event *cancel)
{
    return ct_poison_lock_timeout(m, data, -1, cancel);
}

bool ct_poison_try_lock(struct ct_poison_mutex *m, void **data, bool *poisoned)
{
    if (pthread_mutex_trylock(&m->mu) != 0)
        return false;
    int st = locked(m, data);
    if (poisoned)
        *poisoned = st == CT_POISONED;
    return true;
}

void ct_poison_unlock(struct ct_poison_mutex *m)
{
    /* the flag is written while the lock is still held, so the next
     * owner, whose lock synchronises with this unlock, sees it */
    if (ct_panicking())
        atomic_store_explicit(&m->poisoned, true, memory_order_relaxed);
    CT_PT(pthread_mutex_unlock(&m->mu));
}

void ct_poison_unlock_cleanup(void *m)
{
    ct_poison_unlock(m);
}

bool ct_poison_is_poisoned(struct ct_poison_mutex *m)
{
    return atomic_load_explicit(&m->poisoned, memory_order_relaxed);
}

void ct_poison_clear(struct ct_poison_mutex *m)
{
    atomic_store_explicit(&m->poisoned, false, memory_order_relaxed);
}
