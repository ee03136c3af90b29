/* broadcast.c - see broadcast.h.
 *
 * Positions count messages ever sent; message p lives in slot p % capacity
 * until message p + capacity overwrites it.  Each slot records the position
 * it holds, so a subscriber that reads slot p % capacity and finds a later
 * position knows it was overtaken.  The sender publishes the new tail while
 * it still holds the slot's write lock: a subscriber that sees the tail
 * move and then takes the read lock always finds the message complete.
 */
#include "broadcast.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "clock.h"
#include "park.h"

struct bslot {
    pthread_rwlock_t lock;
    uint64_t pos;               /* the position of the message it holds */
    unsigned char *msg;
};

struct ct_bcast {
    size_t msg_size;
    uint64_t capacity;
    struct bslot *slots;
    unsigned char *data;        /* capacity * msg_size bytes */
    pthread_mutex_t mu;         /* serialises senders and subscribe */
    _Atomic uint64_t tail;      /* position of the next message; written under mu */
    int subscribers;            /* guarded by mu */
    atomic_int senders;
    atomic_int handles;         /* senders + subscribers; the last one frees */
    struct ct_park park;        /* subscribers wait here for the tail to move */
};

int ct_bcast_open(struct ct_bcast_sender *tx, size_t msg_size, size_t capacity)
{
    tx->b = NULL;
    if (msg_size == 0 || msg_size > CT_BCAST_MAX_MSG || capacity == 0 ||
        capacity > CT_BCAST_MAX_CAPACITY)
        return -EINVAL;
    struct ct_bcast *b = calloc(1, sizeof *b);
    if (!b)
        return -ENOMEM;
    b->slots = calloc(capacity, sizeof *b->slots);
    b->data = calloc(capacity, msg_size);
    int rc = b->slots && b->data ? -pthread_mutex_init(&b->mu, NULL) : -ENOMEM;
    bool have_mu = b->slots && b->data && rc == 0;
    size_t locks = 0;
    for (; rc == 0 && locks < capacity; locks++) {
        if ((rc = -pthread_rwlock_init(&b->slots[locks].lock, NULL)) != 0)
            break;
        b->slots[locks].msg = b->data + locks * msg_size;
    }
    if (rc) {
        while (locks-- > 0)
            CT_PT(pthread_rwlock_destroy(&b->slots[locks].lock));
        if (have_mu)
            CT_PT(pthread_mutex_destroy(&b->mu));
        free(b->data);
        free(b->slots);
        free(b);
        return rc;
    }
    b->msg_size = msg_size;
    b->capacity = capacity;
    atomic_init(&b->tail, 0);
    atomic_init(&b->senders, 1);
    atomic_init(&b->handles, 1);
    ct_park_init(&b->park);
    tx->b = b;
    return 0;
}

static void release(struct ct_bcast *b)
{
    if (atomic_fetch_sub_explicit(&b->handles, 1, memory_order_acq_rel) != 1)
        return;
    for (uint64_t i = 0; i < b->capacity; i++)
        CT_PT(pthread_rwlock_destroy(&b->slots[i].lock));
    CT_PT(pthread_mutex_destroy(&b->mu));
    free(b->data);
    free(b->slots);
    free(b);
}

int ct_bcast_clone_sender(const struct ct_bcast_sender *tx, struct ct_bcast_sender *copy)
{
    copy->b = tx->b;
    if (!tx->b)
        return -EBADF;
    atomic_fetch_add_explicit(&tx->b->handles, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&tx->b->senders, 1, memory_order_relaxed);
    return 0;
}

void ct_bcast_drop_sender(struct ct_bcast_sender *tx)
{
    struct ct_bcast *b = tx->b;
    if (!b)
        return;
    tx->b = NULL;
    if (atomic_fetch_sub_explicit(&b->senders, 1, memory_order_seq_cst) == 1)
        ct_park_notify_all(&b->park);
    release(b);
}

int ct_bcast_subscribe(const struct ct_bcast_sender *tx, struct ct_bcast_sub *sub)
{
    struct ct_bcast *b = tx->b;
    sub->b = NULL;
    if (!b)
        return -EBADF;
    CT_PT(pthread_mutex_lock(&b->mu));
    sub->next = atomic_load_explicit(&b->tail, memory_order_relaxed);
    b->subscribers++;
    CT_PT(pthread_mutex_unlock(&b->mu));
    atomic_fetch_add_explicit(&b->handles, 1, memory_order_relaxed);
    sub->b = b;
    return 0;
}

void ct_bcast_unsubscribe(struct ct_bcast_sub *sub)
{
    struct ct_bcast *b = sub->b;
    if (!b)
        return;
    sub->b = NULL;
    CT_PT(pthread_mutex_lock(&b->mu));
    b->subscribers--;
    CT_PT(pthread_mutex_unlock(&b->mu));
    release(b);
}

int ct_bcast_send(struct ct_bcast_sender *tx, const void *msg)
{
    struct ct_bcast *b = tx->b;
    if (!b)
        return -EBADF;
    CT_PT(pthread_mutex_lock(&b->mu));
    int n = b->subscribers;
    if (n == 0) {
        CT_PT(pthread_mutex_unlock(&b->mu));
        return -EPIPE;
    }
    uint64_t p = atomic_load_explicit(&b->tail, memory_order_relaxed);
    struct bslot *s = &b->slots[p % b->capacity];
    /* waits only for subscribers copying the message it replaces */
    CT_PT(pthread_rwlock_wrlock(&s->lock));
    memcpy(s->msg, msg, b->msg_size);
    s->pos = p;
    /* seq_cst: pairs with a parked subscriber's look at the tail */
    atomic_store_explicit(&b->tail, p + 1, memory_order_seq_cst);
    CT_PT(pthread_rwlock_unlock(&s->lock));
    CT_PT(pthread_mutex_unlock(&b->mu));
    ct_park_notify_all(&b->park);
    return n;
}

/* The subscriber fell behind: skip to the oldest message kept, given the
 * current tail, and say how many it skipped. */
static int lagged(struct ct_bcast *b, struct ct_bcast_sub *sub, uint64_t tail, uint64_t *missed)
{
    uint64_t oldest = tail - b->capacity;
    if (missed)
        *missed = oldest - sub->next;
    sub->next = oldest;
    return -EOVERFLOW;
}

static int recv_until(struct ct_bcast_sub *sub, void *out, uint64_t *missed, int64_t deadline,
                      struct ct_event *cancel, bool block)
{
    struct ct_bcast *b = sub->b;
    if (!b)
        return -EBADF;
    for (;;) {
        uint64_t t = atomic_load_explicit(&b->tail, memory_order_seq_cst);
        uint64_t n = sub->next;
        if (n < t) {
            if (t - n > b->capacity)
                return lagged(b, sub, t, missed);
            struct bslot *s = &b->slots[n % b->capacity];
            CT_PT(pthread_rwlock_rdlock(&s->lock));
            bool ours = s->pos == n;
            if (ours)
                memcpy(out, s->msg, b->msg_size);
            CT_PT(pthread_rwlock_unlock(&s->lock));
            if (ours) {
                sub->next = n + 1;
                return 0;
            }
            /* overwritten since we read the tail; the tail has moved on at
             * least as far as the message that replaced ours */
            return lagged(b, sub, atomic_load_explicit(&b->tail, memory_order_seq_cst), missed);
        }
        if (atomic_load_explicit(&b->senders, memory_order_seq_cst) == 0) {
            /* closed: a send that came before the last drop is visible now */
            if (atomic_load_explicit(&b->tail, memory_order_seq_cst) != n)
                continue;
            return -EPIPE;
        }
        if (!block)
            return -EAGAIN;
        uint32_t key = ct_park_prepare(&b->park);
        if (atomic_load_explicit(&b->tail, memory_order_seq_cst) != n ||
            atomic_load_explicit(&b->senders, memory_order_seq_cst) == 0) {
            ct_park_abort(&b->park);
            continue;
        }
        int rc = ct_park_wait(&b->park, key, deadline, cancel);
        if (rc < 0)
            return rc;
    }
}

int ct_bcast_recv(struct ct_bcast_sub *sub, void *out, uint64_t *missed, struct ct_event *cancel)
{
    return ct_bcast_recv_timeout(sub, out, missed, -1, cancel);
}

int ct_bcast_recv_timeout(struct ct_bcast_sub *sub, void *out, uint64_t *missed,
                          int64_t timeout_ns, struct ct_event *cancel)
{
    return recv_until(sub, out, missed, ct_deadline_after(timeout_ns), cancel, true);
}

int ct_bcast_try_recv(struct ct_bcast_sub *sub, void *out, uint64_t *missed)
{
    return recv_until(sub, out, missed, 0, NULL, false);
}

int ct_bcast_subscribers(const struct ct_bcast *b)
{
    struct ct_bcast *m = (struct ct_bcast *)b;
    CT_PT(pthread_mutex_lock(&m->mu));
    int n = m->subscribers;
    CT_PT(pthread_mutex_unlock(&m->mu));
    return n;
}
