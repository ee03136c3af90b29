/* chan.c - see chan.h.
 *
 * Three flavours behind one set of handles, one file each: chan-array.c
 * (bounded: a ring of stamped slots), chan-list.c (unbounded: a list of
 * blocks) and chan-zero.c (rendezvous).  This file holds what they share:
 * opening and freeing, the handles and their counts, and the waiting for
 * the array and the list: try, back off (backoff.h: spin, then yield),
 * then park on a futex (park.h).  Notifying is a single load when nobody
 * is parked.
 */
#include "chan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "chan-impl.h"
#include "check.h"
#include "wait.h"

/* ---- waiting in the array and the list ----------------------------------- */

static int try_send_now(struct ct_chan *ch, const void *msg)
{
    return ch->kind == RING ? ct_chan_array_try_send(ch, msg) : ct_chan_list_try_send(ch, msg);
}

static int try_recv_now(struct ct_chan *ch, void *out)
{
    return ch->kind == RING ? ct_chan_array_try_recv(ch, out) : ct_chan_list_try_recv(ch, out);
}

static size_t queued(const struct ct_chan *ch)
{
    switch (ch->kind) {
    case RING: return ct_chan_array_len(ch);
    case LIST: return ct_chan_list_len(ch);
    case ZERO: break;
    }
    return 0;
}

/* One backoff step, counting the ones that give the CPU away. */
static void snooze(struct ct_chan *ch, struct ct_backoff *wait)
{
    if (wait->step > CT_BACKOFF_SPIN_LIMIT)
        chan_count(&ch->yields, 1);
    ct_backoff_snooze(wait);
}

static int queue_send(struct ct_chan *ch, const void *msg, int64_t deadline, struct ct_event *cancel,
                      bool block)
{
    struct ct_backoff wait = CT_BACKOFF_INIT;
    for (;;) {
        if (no_receivers(ch))
            return -EPIPE;
        int rc = try_send_now(ch, msg);
        if (rc != -EAGAIN && rc != -EBUSY)
            return rc;
        if (rc == -EAGAIN && !block)
            return rc;
        if (rc == -EBUSY || !ct_backoff_is_completed(&wait)) {
            snooze(ch, &wait);
            continue;
        }
        uint32_t key = ct_park_prepare(&ch->send_park);
        if (queued(ch) < (size_t)ch->capacity || no_receivers(ch)) {
            ct_park_abort(&ch->send_park);
            continue;
        }
        rc = ct_park_wait(&ch->send_park, key, deadline, cancel);
        if (rc < 0) {
            /* we may have swallowed a wake-up meant for the next sender */
            if (queued(ch) < (size_t)ch->capacity)
                ct_park_notify_one(&ch->send_park);
            return rc;
        }
        ct_backoff_yield_again(&wait);    /* woken: try, yield, try, then sleep again */
    }
}

static int queue_recv(struct ct_chan *ch, void *out, int64_t deadline, struct ct_event *cancel,
                      bool block)
{
    struct ct_backoff wait = CT_BACKOFF_INIT;
    for (;;) {
        int rc = try_recv_now(ch, out);
        if (rc != -EAGAIN && rc != -EBUSY)
            return rc;
        if (rc == -EAGAIN && no_senders(ch)) {
            /* every send happened before the last sender's drop, which we
             * have just seen: one more look finds anything still queued */
            rc = try_recv_now(ch, out);
            return rc == -EAGAIN ? -EPIPE : rc;
        }
        if (rc == -EAGAIN && !block)
            return rc;
        if (rc == -EBUSY || !ct_backoff_is_completed(&wait)) {
            snooze(ch, &wait);
            continue;
        }
        uint32_t key = ct_park_prepare(&ch->recv_park);
        if (queued(ch) > 0 || no_senders(ch)) {
            ct_park_abort(&ch->recv_park);
            continue;
        }
        rc = ct_park_wait(&ch->recv_park, key, deadline, cancel);
        if (rc < 0) {
            if (queued(ch) > 0)
                ct_park_notify_one(&ch->recv_park);
            return rc;
        }
        ct_backoff_yield_again(&wait);
    }
}

/* ---- handles ------------------------------------------------------------ */

int ct_chan_open(struct ct_sender *tx, struct ct_receiver *rx, size_t msg_size,
                 long capacity, void (*drop_msg)(void *msg))
{
    tx->chan = NULL;
    rx->chan = NULL;
    if (msg_size == 0 || msg_size > CT_CHAN_MAX_MSG ||
        (capacity != CT_CHAN_UNBOUNDED && (capacity < 0 || capacity > CT_CHAN_MAX_CAPACITY)))
        return -EINVAL;
    struct ct_chan *ch = aligned_alloc(CACHE_LINE, sizeof *ch);
    if (!ch)
        return -ENOMEM;
    memset(ch, 0, sizeof *ch);
    ch->kind = capacity == CT_CHAN_UNBOUNDED ? LIST : capacity == 0 ? ZERO : RING;
    ch->msg_size = msg_size;
    ch->stride = sizeof(struct slot) + (msg_size + 7) / 8 * 8;
    ch->capacity = capacity;
    ch->drop_msg = drop_msg;
    atomic_init(&ch->tail, 0);
    atomic_init(&ch->head, 0);
    ct_park_init(&ch->recv_park);
    ct_park_init(&ch->send_park);
    atomic_init(&ch->senders, 1);
    atomic_init(&ch->receivers, 1);
    atomic_init(&ch->handles, 2);
    int rc = 0;
    switch (ch->kind) {
    case RING: rc = ct_chan_array_open(ch); break;
    case LIST: rc = ct_chan_list_open(ch); break;
    case ZERO: ct_chan_zero_open(ch); break;
    }
    if (rc < 0) {
        free(ch);
        return rc;
    }
    tx->chan = ch;
    rx->chan = ch;
    return 0;
}

static void release(struct ct_chan *ch)
{
    if (atomic_fetch_sub_explicit(&ch->handles, 1, memory_order_acq_rel) != 1)
        return;
    switch (ch->kind) {
    case RING: ct_chan_array_free(ch); break;
    case LIST: ct_chan_list_free(ch); break;
    case ZERO: break;
    }
    free(ch);
}

int ct_chan_clone_sender(const struct ct_sender *tx, struct ct_sender *copy)
{
    copy->chan = tx->chan;
    if (!tx->chan)
        return -EBADF;
    atomic_fetch_add_explicit(&tx->chan->handles, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&tx->chan->senders, 1, memory_order_relaxed);
    return 0;
}

int ct_chan_clone_receiver(const struct ct_receiver *rx, struct ct_receiver *copy)
{
    copy->chan = rx->chan;
    if (!rx->chan)
        return -EBADF;
    atomic_fetch_add_explicit(&rx->chan->handles, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&rx->chan->receivers, 1, memory_order_relaxed);
    return 0;
}

void ct_chan_drop_sender(struct ct_sender *tx)
{
    struct ct_chan *ch = tx->chan;
    if (!ch)
        return;
    tx->chan = NULL;
    if (atomic_fetch_sub_explicit(&ch->senders, 1, memory_order_seq_cst) == 1) {
        /* closed: wake every receiver so it can drain and see it */
        if (ch->kind == ZERO)
            ct_chan_zero_close_queue(ch, &ch->recvq);
        ct_park_notify_all(&ch->recv_park);
    }
    release(ch);
}

void ct_chan_drop_receiver(struct ct_receiver *rx)
{
    struct ct_chan *ch = rx->chan;
    if (!ch)
        return;
    rx->chan = NULL;
    if (atomic_fetch_sub_explicit(&ch->receivers, 1, memory_order_seq_cst) == 1) {
        if (ch->kind == ZERO)
            ct_chan_zero_close_queue(ch, &ch->sendq);
        ct_park_notify_all(&ch->send_park);
    }
    release(ch);
}

/* ---- sending and receiving ---------------------------------------------- */

static int send_until(struct ct_sender *tx, void *msg, int64_t deadline, struct ct_event *cancel,
                      bool block)
{
    struct ct_chan *ch = tx->chan;
    if (!ch)
        return -EBADF;
    int rc = ch->kind == ZERO ? ct_chan_zero_send(ch, msg, deadline, cancel, block)
                              : queue_send(ch, msg, deadline, cancel, block);
    if (rc == 0)
        msg_clear(msg, ch->msg_size);   /* moved: the caller's copy is gone */
    return rc;
}

static int recv_until(struct ct_receiver *rx, void *out, int64_t deadline,
                      struct ct_event *cancel, bool block)
{
    struct ct_chan *ch = rx->chan;
    if (!ch)
        return -EBADF;
    return ch->kind == ZERO ? ct_chan_zero_recv(ch, out, deadline, cancel, block)
                            : queue_recv(ch, out, deadline, cancel, block);
}

int ct_chan_send(struct ct_sender *tx, void *msg, struct ct_event *cancel)
{
    return send_until(tx, msg, CT_FOREVER, cancel, true);
}

int ct_chan_send_timeout(struct ct_sender *tx, void *msg, int64_t timeout_ns,
                         struct ct_event *cancel)
{
    return send_until(tx, msg, ct_deadline_after(timeout_ns), cancel, true);
}

int ct_chan_try_send(struct ct_sender *tx, void *msg)
{
    return send_until(tx, msg, 0, NULL, false);
}

int ct_chan_recv(struct ct_receiver *rx, void *out, struct ct_event *cancel)
{
    return recv_until(rx, out, CT_FOREVER, cancel, true);
}

int ct_chan_recv_timeout(struct ct_receiver *rx, void *out, int64_t timeout_ns,
                         struct ct_event *cancel)
{
    return recv_until(rx, out, ct_deadline_after(timeout_ns), cancel, true);
}

int ct_chan_try_recv(struct ct_receiver *rx, void *out)
{
    return recv_until(rx, out, 0, NULL, false);
}

size_t ct_chan_len(const struct ct_chan *ch)
{
    return queued(ch);
}

long ct_chan_capacity(const struct ct_chan *ch)
{
    return ch->capacity;
}

void ct_chan_stats(const struct ct_chan *c, struct ct_chan_stats *out)
{
    struct ct_chan *ch = (struct ct_chan *)c;
    *out = (struct ct_chan_stats){
        .send_sleeps = ct_park_sleeps(&ch->send_park) +
                       atomic_load_explicit(&ch->zero_sleeps[0], memory_order_relaxed),
        .recv_sleeps = ct_park_sleeps(&ch->recv_park) +
                       atomic_load_explicit(&ch->zero_sleeps[1], memory_order_relaxed),
        .wakeups = ct_park_wakes(&ch->send_park) + ct_park_wakes(&ch->recv_park) +
                   atomic_load_explicit(&ch->zero_wakes, memory_order_relaxed),
        .yields = atomic_load_explicit(&ch->yields, memory_order_relaxed),
        .blocks = atomic_load_explicit(&ch->blocks, memory_order_relaxed),
    };
}

int ct_chan_senders(const struct ct_chan *ch)
{
    return atomic_load(&((struct ct_chan *)ch)->senders);
}

int ct_chan_receivers(const struct ct_chan *ch)
{
    return atomic_load(&((struct ct_chan *)ch)->receivers);
}
