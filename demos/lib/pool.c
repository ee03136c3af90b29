/* pool.c - see pool.h. */
#include "pool.h"

#include <errno.h>
#include <stdlib.h>

#include "check.h"

int ct_pool_init(struct ct_pool *p, const struct ct_pool_config *cfg)
{
    if (!cfg || cfg->max < 1 || cfg->max > CT_POOL_MAX || !cfg->create || !cfg->destroy)
        return -EINVAL;
    *p = (struct ct_pool){ .cfg = *cfg };
    p->idle = calloc((size_t)cfg->max, sizeof *p->idle);
    if (!p->idle)
        return -ENOMEM;
    int rc = ct_sem_init(&p->slots, cfg->max);
    if (rc == 0 && (rc = -pthread_mutex_init(&p->mu, NULL)) != 0)
        ct_sem_destroy(&p->slots);
    if (rc) {
        free(p->idle);
        p->idle = NULL;
    }
    return rc;
}

int ct_pool_destroy(struct ct_pool *p)
{
    CT_PT(pthread_mutex_lock(&p->mu));
    bool busy = p->open != p->nidle || ct_sem_waiting(&p->slots) > 0;
    CT_PT(pthread_mutex_unlock(&p->mu));
    if (busy)
        return -EBUSY;
    /* nobody else may use the pool now: no lock needed */
    for (int i = 0; i < p->nidle; i++) {
        p->cfg.destroy(p->cfg.ctx, p->idle[i]);
        p->destroyed++;
    }
    p->open -= p->nidle;
    p->nidle = 0;
    free(p->idle);
    p->idle = NULL;
    ct_sem_destroy(&p->slots);
    CT_PT(pthread_mutex_destroy(&p->mu));
    return 0;
}

/* With a permit held: the newest idle resource, or a new one. */
static int take_or_open(struct ct_pool *p, void **res)
{
    CT_PT(pthread_mutex_lock(&p->mu));
    if (p->nidle > 0) {
        *res = p->idle[--p->nidle];
        p->acquired++;
        CT_PT(pthread_mutex_unlock(&p->mu));
        return 0;
    }
    /* count it open before opening: the permit reserves its place */
    p->open++;
    if (p->open > p->max_open)
        p->max_open = p->open;
    CT_PT(pthread_mutex_unlock(&p->mu));

    void *r = NULL;
    int rc = p->cfg.create(p->cfg.ctx, &r);
    CT_PT(pthread_mutex_lock(&p->mu));
    if (rc == 0) {
        p->created++;
        p->acquired++;
        *res = r;
    } else {
        p->open--;
        p->create_failed++;
    }
    CT_PT(pthread_mutex_unlock(&p->mu));
    if (rc)
        ct_sem_release(&p->slots);
    return rc < 0 ? rc : rc > 0 ? -rc : 0;
}

int ct_pool_acquire_timeout(struct ct_pool *p, void **res, int64_t timeout_ns,
                            struct ct_event *cancel)
{
    int rc = ct_sem_acquire_timeout(&p->slots, timeout_ns, cancel);
    if (rc)
        return rc;
    return take_or_open(p, res);
}

int ct_pool_acquire(struct ct_pool *p, void **res, struct ct_event *cancel)
{
    return ct_pool_acquire_timeout(p, res, -1, cancel);
}

void ct_pool_release(struct ct_pool *p, void *res)
{
    /* back on the stack first, then the permit: see pool.h */
    CT_PT(pthread_mutex_lock(&p->mu));
    p->idle[p->nidle++] = res;
    p->released++;
    CT_PT(pthread_mutex_unlock(&p->mu));
    ct_sem_release(&p->slots);
}

void ct_pool_discard(struct ct_pool *p, void *res)
{
    p->cfg.destroy(p->cfg.ctx, res);
    CT_PT(pthread_mutex_lock(&p->mu));
    p->open--;
    p->discarded++;
    p->destroyed++;
    CT_PT(pthread_mutex_unlock(&p->mu));
    ct_sem_release(&p->slots);
}

void ct_pool_get_stats(struct ct_pool *p, struct ct_pool_stats *st)
{
    struct ct_sem_stats ss;
    CT_PT(pthread_mutex_lock(&p->mu));
    ct_sem_get_stats(&p->slots, &ss);
    *st = (struct ct_pool_stats){
        .max = p->cfg.max, .open = p->open, .idle = p->nidle,
        .in_use = p->open - p->nidle, .waiting = ss.waiting, .max_open = p->max_open,
        .acquired = p->acquired, .released = p->released, .discarded = p->discarded,
        .created = p->created, .create_failed = p->create_failed,
        .destroyed = p->destroyed, .waited = ss.waited, .timed_out = ss.timed_out,
        .cancelled = ss.cancelled,
    };
    CT_PT(pthread_mutex_unlock(&p->mu));
}
