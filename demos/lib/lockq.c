/* lockq.c - see lockq.h. */
#include "lockq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "clock.h"
#include "wait.h"

#define INITIAL_SLOTS 64

int ct_lockq_init(struct ct_lockq *q, size_t msg_size, size_t capacity)
{
    memset(q, 0, sizeof *q);
    if (msg_size == 0)
        return -EINVAL;
    q->msg_size = msg_size;
    q->capacity = capacity;
    q->alloc = capacity != CT_LOCKQ_UNBOUNDED ? capacity : INITIAL_SLOTS;
    q->buf = malloc(q->alloc * msg_size);
    if (!q->buf)
        return -ENOMEM;
    int rc = -pthread_mutex_init(&q->mu, NULL);
    if (rc)
        goto fail_buf;
    if ((rc = ct_cond_init_monotonic(&q->not_empty)) != 0)
        goto fail_mu;
    if ((rc = ct_cond_init_monotonic(&q->not_full)) != 0)
        goto fail_cv;
    return 0;
fail_cv:
    CT_PT(pthread_cond_destroy(&q->not_empty));
fail_mu:
    CT_PT(pthread_mutex_destroy(&q->mu));
fail_buf:
    free(q->buf);
    q->buf = NULL;
    return rc;
}

void ct_lockq_destroy(struct ct_lockq *q)
{
    CT_PT(pthread_cond_destroy(&q->not_full));
    CT_PT(pthread_cond_destroy(&q->not_empty));
    CT_PT(pthread_mutex_destroy(&q->mu));
    free(q->buf);
    q->buf = NULL;
}

/* One bounded wait on `cv` (mu held): 0 when it is time to look again,
 * -ECANCELED when cancelled. */
static int wait_slice(struct ct_lockq *q, pthread_cond_t *cv, struct ct_event *cancel)
{
    if (cancel && ct_event_is_set(cancel))
        return -ECANCELED;
    struct timespec ts = ct_clock_after_ns(CT_WAIT_SLICE_NS);
    int rc = pthread_cond_timedwait(cv, &q->mu, &ts);
    if (rc != ETIMEDOUT)
        CT_PT(rc);
    return 0;
}

/* Double the ring, unwrapping it so that the messages start at 0. */
static int grow(struct ct_lockq *q)
{
    unsigned char *nb = malloc(2 * q->alloc * q->msg_size);
    if (!nb)
        return -ENOMEM;
    size_t first = q->alloc - q->head < q->len ? q->alloc - q->head : q->len;
    memcpy(nb, q->buf + q->head * q->msg_size, first * q->msg_size);
    memcpy(nb + first * q->msg_size, q->buf, (q->len - first) * q->msg_size);
    free(q->buf);
    q->buf = nb;
    q->head = 0;
    q->alloc *= 2;
    return 0;
}

int ct_lockq_send(struct ct_lockq *q, const void *msg, struct ct_event *cancel)
{
    int rc = 0;
    CT_PT(pthread_mutex_lock(&q->mu));
    while (!q->closed && q->capacity != CT_LOCKQ_UNBOUNDED && q->len == q->capacity) {
        q->send_waiting++;
        rc = wait_slice(q, &q->not_full, cancel);
        q->send_waiting--;
        if (rc)
            break;
    }
    if (rc == 0 && q->closed)
        rc = -EPIPE;
    if (rc == 0 && q->len == q->alloc)
        rc = grow(q);
    bool wake = false;
    if (rc == 0) {
        size_t tail = (q->head + q->len) % q->alloc;
        memcpy(q->buf + tail * q->msg_size, msg, q->msg_size);
        q->len++;
        wake = q->recv_waiting > 0;
    }
    CT_PT(pthread_mutex_unlock(&q->mu));
    if (wake)
        CT_PT(pthread_cond_signal(&q->not_empty));
    return rc;
}

int ct_lockq_recv(struct ct_lockq *q, void *out, struct ct_event *cancel)
{
    int rc = 0;
    CT_PT(pthread_mutex_lock(&q->mu));
    while (q->len == 0 && !q->closed) {
        q->recv_waiting++;
        rc = wait_slice(q, &q->not_empty, cancel);
        q->recv_waiting--;
        if (rc)
            break;
    }
    bool wake = false;
    if (rc == 0 && q->len == 0)
        rc = -EPIPE;        /* closed and drained */
    if (rc == 0) {
        memcpy(out, q->buf + q->head * q->msg_size, q->msg_size);
        q->head = (q->head + 1) % q->alloc;
        q->len--;
        wake = q->send_waiting > 0;
    }
    CT_PT(pthread_mutex_unlock(&q->mu));
    if (wake)
        CT_PT(pthread_cond_signal(&q->not_full));
    return rc;
}

void ct_lockq_close(struct ct_lockq *q)
{
    CT_PT(pthread_mutex_lock(&q->mu));
    q->closed = true;
    CT_PT(pthread_mutex_unlock(&q->mu));
    CT_PT(pthread_cond_broadcast(&q->not_empty));
    CT_PT(pthread_cond_broadcast(&q->not_full));
}
