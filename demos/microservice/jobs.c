/* jobs.c - the background workers: the guide's background_worker reading
 * BackgroundJob::ProcessOrder from an mpsc channel, as threads sharing the
 * receiving end of a bounded ct_chan.
 *
 * A job moves its order pending -> processing, works on it for work_ms,
 * then moves it to completed (or failed, for fail_pct of the ids), each
 * move one conditional UPDATE that invalidates the cached copy.  A client
 * may cancel (fail) the order first or meanwhile; the conditional UPDATE
 * then finds it settled and the worker leaves it alone, so every order is
 * settled exactly once.
 *
 * The stop broadcast only tells a worker that the service is stopping;
 * it keeps taking jobs until the channel is closed (every sender dropped)
 * and empty, which is the drain.  A cancel ends it at once, leaving its
 * order `processing` for the next start to recover.
 */
#include <errno.h>
#include <stdlib.h>

#include "clock.h"
#include "microservice.h"

int jobs_send(struct service *svc, struct ct_sender *tx, int64_t order_id, bool recovered,
              int64_t timeout_ns)
{
    struct job j = { .order_id = order_id, .queued_ns = ct_clock_ns(), .recovered = recovered };
    int rc = ct_chan_send_timeout(tx, &j, timeout_ns, ct_cancel_event(svc->run));
    if (rc == 0)
        atomic_fetch_add_explicit(&svc->jobs_queued, 1, memory_order_relaxed);
    return rc;
}

/* A fixed share of orders fails, picked by id so that reruns agree. */
static bool order_fails(const struct service *svc, int64_t id)
{
    return (int)(((uint64_t)id * 2654435761u) % 100) < svc->fail_pct;
}

/* One status move with a borrowed connection; waits for a connection as
 * long as it takes (or until cancel).  db_move's result. */
static int move(struct worker *w, int64_t id, enum order_status from, enum order_status to,
                struct order *o)
{
    struct service *svc = w->svc;
    struct db *db;
    int rc;
    while ((rc = store_acquire(&svc->store, &db, ct_cancel_event(svc->run))) == -ETIMEDOUT)
        ;
    if (rc)
        return rc;
    rc = db_move(db, id, (int)from, -1, to, o);
    store_release(&svc->store, db);
    if (rc == 0)
        cache_invalidate(&svc->cache, id, o->version);
    return rc;
}

static void record_latency(struct worker *w, double ms)
{
    if (w->nlat == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 1024;
        double *p = realloc(w->lat_ms, cap * sizeof *p);
        if (!p)
            return;
        w->lat_ms = p;
        w->cap = cap;
    }
    w->lat_ms[w->nlat++] = ms;
}

/* Process one job.  0, or -ECANCELED / -EIO to stop the worker. */
static int process(struct worker *w, const struct job *j)
{
    struct service *svc = w->svc;
    struct order o;
    int rc = move(w, j->order_id, ST_PENDING, ST_PROCESSING, &o);
    if (rc == -EBUSY || rc == -ENOENT) {
        w->skipped++;           /* a client settled it first */
        return 0;
    }
    if (rc)
        return rc;
    if (!ct_sleep_ms(svc->run, svc->work_ms))
        return -ECANCELED;      /* left `processing`: recovered next start */
    enum order_status to = order_fails(svc, j->order_id) ? ST_FAILED : ST_COMPLETED;
    rc = move(w, j->order_id, ST_PROCESSING, to, &o);
    if (rc == -EBUSY) {
        w->raced++;             /* a client settled it while we worked */
    } else if (rc == 0 && j->recovered) {
        w->recovered++;         /* not counted with this run's orders */
    } else if (rc == 0) {
        w->settled[to]++;
    } else {
        return rc;
    }
    w->done++;
    record_latency(w, (double)(ct_clock_ns() - j->queued_ns) / 1e6);
    return 0;
}

/* Has the stop broadcast come?  Noted once, with the queue's length. */
static void look_for_stop(struct worker *w)
{
    if (w->got_stop)
        return;
    char msg;
    int rc = ct_bcast_try_recv(&w->stop, &msg, NULL);
    if (rc == 0 || rc == -EOVERFLOW || rc == -EPIPE) {
        w->got_stop = true;
        w->stop_ns = ct_clock_ns();
        w->done_at_stop = w->done;
        w->queued_at_stop = (long)ct_chan_len(w->rx.chan);
        ct_point(w->svc->run, 'S');
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct ct_run *run = w->svc->run;
    struct ct_event *cancel = ct_cancel_event(run);
    ct_mark(run, CT_WAIT);
    for (;;) {
        look_for_stop(w);
        struct job j;
        int rc = ct_chan_recv_timeout(&w->rx, &j, 50 * CT_NS_PER_MS, cancel);
        if (rc == -ETIMEDOUT)
            continue;
        if (rc == -EPIPE) {
            w->drained = true;  /* closed and empty: the drain is over */
            break;
        }
        if (rc)
            break;              /* cancelled */
        ct_mark(run, CT_RUN);
        rc = process(w, &j);
        ct_mark(run, CT_WAIT);
        if (rc == -EIO)
            w->lost_db = true;
        if (rc)
            break;
    }
    look_for_stop(w);
    w->exit_ns = ct_clock_ns();
    if (w->drained)
        ct_point(run, 'E');
    ct_mark(run, CT_IDLE);
    ct_chan_drop_receiver(&w->rx);
    ct_bcast_unsubscribe(&w->stop);
    return NULL;
}

int jobs_start(struct service *svc, int n)
{
    for (int i = 0; i < n; i++) {
        struct worker *w = &svc->workers[i];
        *w = (struct worker){ .svc = svc, .id = i + 1 };
        int rc = ct_chan_clone_receiver(&svc->jobs_rx, &w->rx);
        if (rc == 0)
            rc = ct_bcast_subscribe(&svc->stop_tx, &w->stop);
        if (rc == 0)
            rc = ct_thread_start(svc->run, &w->thread, worker_main, w, "worker-%d", w->id);
        if (rc) {
            ct_chan_drop_receiver(&w->rx);
            ct_bcast_unsubscribe(&w->stop);
            return rc;
        }
        w->up = true;
        svc->nworkers = i + 1;
    }
    return 0;
}

void jobs_join(struct service *svc)
{
    for (int i = 0; i < svc->nworkers; i++) {
        struct worker *w = &svc->workers[i];
        if (w->up)
            ct_thread_join(&w->thread, NULL);
        w->up = false;
    }
}
