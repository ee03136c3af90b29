/* cache.c - the orders cache: the guide's Arc<RwLock<HashMap<i64, Order>>>
 * as an open-addressing hash table behind a pthread_rwlock_t.
 *
 * Lookups take the read lock, so the server threads read it together;
 * fills and invalidations take the write lock.  glibc's rwlock prefers
 * readers by default, and under a steady stream of reads a writer could
 * wait for ever; the lock is made writer-preferring instead, like tokio's.
 *
 * Nothing is ever removed: an invalidated slot stays, marked invalid, with
 * the version that invalidated it.  That is what lets cache_fill refuse a
 * row older than an update it has already heard of (see microservice.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "microservice.h"

#define CACHE_FIRST_CAP 1024

int cache_init(struct cache *c)
{
    memset(c, 0, sizeof *c);
    pthread_rwlockattr_t a;
    int rc = pthread_rwlockattr_init(&a);
    if (rc)
        return -rc;
    pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    rc = pthread_rwlock_init(&c->lock, &a);
    pthread_rwlockattr_destroy(&a);
    if (rc)
        return -rc;
    c->slots = calloc(CACHE_FIRST_CAP, sizeof *c->slots);
    if (!c->slots) {
        pthread_rwlock_destroy(&c->lock);
        return -ENOMEM;
    }
    c->cap = CACHE_FIRST_CAP;
    atomic_init(&c->on, true);
    return 0;
}

void cache_destroy(struct cache *c)
{
    free(c->slots);
    pthread_rwlock_destroy(&c->lock);
    memset(c, 0, sizeof *c);
}

/* Where `id` is, or the empty slot where it would go (cap is a power of
 * two and the table is never full). */
static struct cache_slot *find(struct cache_slot *slots, size_t cap, int64_t id)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ull;
    for (size_t i = (size_t)(h >> 20) & (cap - 1);; i = (i + 1) & (cap - 1))
        if (slots[i].id == id || slots[i].id == 0)
            return &slots[i];
}

/* With the write lock: make room for one more slot.  False if out of
 * memory (the caller then leaves the cache as it is). */
static bool make_room(struct cache *c)
{
    if ((c->used + 1) * 10 < c->cap * 7)
        return true;
    size_t cap = c->cap * 2;
    struct cache_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < c->cap; i++)
        if (c->slots[i].id)
            *find(slots, cap, c->slots[i].id) = c->slots[i];
    free(c->slots);
    c->slots = slots;
    c->cap = cap;
    return true;
}

bool cache_get(struct cache *c, int64_t id, struct order *out)
{
    if (!atomic_load_explicit(&c->on, memory_order_relaxed))
        return false;
    CT_PT(pthread_rwlock_rdlock(&c->lock));
    const struct cache_slot *s = find(c->slots, c->cap, id);
    bool hit = s->id == id && s->valid;
    if (hit)
        *out = s->order;
    CT_PT(pthread_rwlock_unlock(&c->lock));
    atomic_fetch_add_explicit(hit ? &c->hits : &c->misses, 1, memory_order_relaxed);
    return hit;
}

void cache_fill(struct cache *c, const struct order *o)
{
    if (!atomic_load_explicit(&c->on, memory_order_relaxed))
        return;
    bool refused = false, filled = false;
    CT_PT(pthread_rwlock_wrlock(&c->lock));
    if (make_room(c)) {
        struct cache_slot *s = find(c->slots, c->cap, o->id);
        if (s->id == 0) {
            *s = (struct cache_slot){ .id = o->id, .valid = true, .order = *o };
            c->used++;
            c->valid++;
            filled = true;
        } else if (o->version < s->order.version) {
            refused = true;     /* read before an update we already know of */
        } else if (o->version > s->order.version || !s->valid) {
            c->valid += !s->valid;
            s->valid = true;
            s->order = *o;
            filled = true;
        }
    }
    CT_PT(pthread_rwlock_unlock(&c->lock));
    if (refused)
        atomic_fetch_add_explicit(&c->refused, 1, memory_order_relaxed);
    if (filled)
        atomic_fetch_add_explicit(&c->fills, 1, memory_order_relaxed);
}

void cache_invalidate(struct cache *c, int64_t id, int64_t version)
{
    CT_PT(pthread_rwlock_wrlock(&c->lock));
    if (make_room(c)) {
        struct cache_slot *s = find(c->slots, c->cap, id);
        if (s->id == 0) {
            /* not cached yet: remember the version anyway, for cache_fill */
            *s = (struct cache_slot){ .id = id, .order = { .id = id, .version = version } };
            c->used++;
        } else if (version >= s->order.version) {
            c->valid -= s->valid;
            s->valid = false;
            s->order.version = version;
        }
    }
    CT_PT(pthread_rwlock_unlock(&c->lock));
    atomic_fetch_add_explicit(&c->invalidations, 1, memory_order_relaxed);
}

size_t cache_entries(struct cache *c)
{
    CT_PT(pthread_rwlock_rdlock(&c->lock));
    size_t n = c->valid;
    CT_PT(pthread_rwlock_unlock(&c->lock));
    return n;
}

int cache_snapshot(struct cache *c, struct order **out, size_t *n)
{
    CT_PT(pthread_rwlock_rdlock(&c->lock));
    *n = 0;
    *out = malloc((c->valid ? c->valid : 1) * sizeof **out);
    if (*out)
        for (size_t i = 0; i < c->cap; i++)
            if (c->slots[i].id && c->slots[i].valid)
                (*out)[(*n)++] = c->slots[i].order;
    CT_PT(pthread_rwlock_unlock(&c->lock));
    return *out ? 0 : -ENOMEM;
}
