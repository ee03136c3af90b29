/* joinset.c - demo `joinset`: structured concurrency with a join set.
 *
 * Shows: the guide's ten tasks spawned into a join set (joinset.h) on a
 * two-worker executor.  Each "processes" its item for a different time;
 * items whose id is a multiple of 5 fail with an error, and one item
 * panics (ct_task_panic).  The results are handled as the tasks finish,
 * so they come out in completion order, and the set's join results tell
 * a success, an error and a panic apart.  Then ten more tasks, of which
 * only the first few results are taken before the set is dropped: the
 * drop cancels every task still running, and each one's cleanup runs.
 * Every result is compared with what the task itself recorded.
 * Watch for: the completion order against the spawn order; the panic
 * reported as a panic (not an error) while the other tasks carry on; and
 * the cancelled count, which equals the tasks not finished at the drop.
 * Lesson: join-sets (chapter 9).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "clock.h"
#include "exec.h"
#include "joinset.h"
#include "tasks.h"
#include "timer.h"

#define MAX_TASKS 32
#define PL(n) ((n) == 1 ? "" : "s")     /* plural ending for a count */

enum { PHASE_ALL, PHASE_DROP, NPHASES };

/* What a task did, by its own account. */
struct record {
    bool started, completed, panicked, cancelled;
    int cleanups;
};

/* What the set said about it. */
struct phase {
    struct record rec[MAX_TASKS];
    int order[MAX_TASKS];           /* slots in the order their results came */
    int handled, ok, failed, panicked, lost;  /* lost: cancelled by a shutdown */
    int status_wrong;               /* results that disagree with the record */
    size_t cancelled, discarded;    /* by the drop */
};

struct config {
    struct ct_run *run;
    int tasks, fail_every, panic_id, take, lanes[MAX_TASKS];
    double work_ms;
};

/* ---- the task ------------------------------------------------------------ */

struct item {
    struct ct_future base;
    int pc, id, lane;
    bool fail, panic;
    int64_t ns;
    struct ct_sleep nap;
    struct record *rec;
    struct ct_run *run;
};

static enum ct_poll item_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct item *t = (struct item *)f;
    CT_ASYNC_BEGIN(t->pc);
    t->rec->started = true;
    ct_mark_lane(t->run, t->lane, CT_SLEEP);
    ct_sleep_init(&t->nap, t->ns);
    CT_AWAIT(t->pc, &t->nap.base, cx);
    ct_mark_lane(t->run, t->lane, CT_IDLE);
    if (t->panic) {
        t->rec->panicked = true;
        ct_point_lane(t->run, t->lane, 'P');
        ct_task_panic(cx, "item %d: index out of range", t->id);
    }
    t->rec->completed = true;
    ct_point_lane(t->run, t->lane, t->fail ? 'E' : '*');
    if (t->fail)
        f->error = -EINVAL;         /* the guide's Err: this item's data is bad */
    else
        f->value = t->id;
    CT_ASYNC_END(t->pc);
    return CT_READY;
}

/* Runs once however the task ends; tells a cancel from a finish. */
static void item_drop(struct ct_future *f)
{
    struct item *t = (struct item *)f;
    ct_future_drop(&t->nap.base);
    t->rec->cleanups++;
    if (t->rec->completed || t->rec->panicked)
        return;
    t->rec->cancelled = true;
    ct_mark_lane(t->run, t->lane, CT_IDLE);
    ct_point_lane(t->run, t->lane, 'c');
    ct_say(t->run, "item %d: cancelled %s; its cleanup ran", t->id,
           t->rec->started ? "while working" : "before it started");
}

static const struct ct_future_ops item_ops = { "item", item_poll, item_drop };

/* Each item takes a different time (from 0.5 to 1.4 times `work`), so
 * they finish in another order than they were spawned. */
static double item_ms(const struct config *cfg, int id)
{
    return cfg->work_ms * (0.5 + (double)((id * 7) % 10) / 10.0);
}

static int spawn_items(const struct config *cfg, struct ct_joinset *set, struct phase *ph)
{
    for (int i = 0; i < cfg->tasks; i++) {
        struct item t = {
            .base = { .ops = &item_ops }, .id = i, .lane = cfg->lanes[i],
            .fail = cfg->fail_every > 0 && i % cfg->fail_every == 0, .panic = i == cfg->panic_id,
            .ns = ct_demo_ns(cfg->run, item_ms(cfg, i)), .rec = &ph->rec[i], .run = cfg->run,
        };
        int rc = ct_joinset_spawn(set, &t, NULL);
        if (rc)
            return rc;
    }
    return 0;
}

/* One result from the set: print it, count it, and compare it with the
 * task's own record. */
static void handle(struct ct_run *run, struct phase *ph, const struct ct_joinset_next *n)
{
    int id = (int)n->slot;
    const struct record *r = &ph->rec[id];
    ph->order[ph->handled++] = id;
    switch (n->status) {
    case CT_JOIN_OK:
        ph->ok++;
        ph->status_wrong += !r->completed;
        ct_say(run, "ok     item %d processed", id);
        break;
    case CT_JOIN_FAILED:
        ph->failed++;
        ph->status_wrong += !r->completed;
        ct_say(run, "error  item %d failed: %s", id, strerror(-n->base.error));
        break;
    case CT_JOIN_PANICKED:
        ph->panicked++;
        ph->status_wrong += !r->panicked;
        ct_say(run, "panic  %s", n->panic);
        break;
    case CT_JOIN_CANCELLED:
        ph->lost++;
        ct_say(run, "item %d was cancelled by a shutdown", id);
        break;
    }
}

/* ---- the owner: the two phases, driven by block_on ----------------------- */

struct driver {
    struct ct_future base;
    int pc;
    struct config *cfg;
    struct phase *ph;
    struct ct_joinset set;
    bool set_live;
    struct ct_joinset_next next;
};

static void say_order(struct ct_run *run, const struct phase *ph)
{
    char line[128];
    size_t off = 0;
    for (int i = 0; i < ph->handled && off < sizeof line; i++)
        off += (size_t)snprintf(line + off, sizeof line - off, "%s%d", i ? " " : "",
                                ph->order[i]);
    ct_say(run, "results came in this order: %s", ph->handled ? line : "(none)");
}

static enum ct_poll driver_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct driver *d = (struct driver *)f;
    struct ct_run *run = d->cfg->run;
    CT_ASYNC_BEGIN(d->pc);
    /* phase 1: the guide's loop, every result as it comes */
    if ((f->error = ct_joinset_init(&d->set, cx->exec)) != 0)
        return CT_READY;
    d->set_live = true;
    if ((f->error = spawn_items(d->cfg, &d->set, &d->ph[PHASE_ALL])) != 0)
        return CT_READY;
    ct_say(run, "spawned %d task%s into the set", d->cfg->tasks, PL(d->cfg->tasks));
    for (;;) {
        ct_joinset_next_init(&d->next, &d->set);
        CT_AWAIT(d->pc, &d->next.base, cx);
        if (d->next.empty)
            break;
        handle(run, &d->ph[PHASE_ALL], &d->next);
    }
    say_order(run, &d->ph[PHASE_ALL]);
    d->set_live = false;
    d->ph[PHASE_ALL].cancelled = ct_joinset_drop(&d->set, &d->ph[PHASE_ALL].discarded);

    /* phase 2: take a few results, then drop the set */
    ct_section(run, "dropping the set after %d result%s", d->cfg->take,
               d->cfg->take == 1 ? "" : "s");
    if ((f->error = ct_joinset_init(&d->set, cx->exec)) != 0)
        return CT_READY;
    d->set_live = true;
    if ((f->error = spawn_items(d->cfg, &d->set, &d->ph[PHASE_DROP])) != 0)
        return CT_READY;
    while (d->ph[PHASE_DROP].handled < d->cfg->take) {
        ct_joinset_next_init(&d->next, &d->set);
        CT_AWAIT(d->pc, &d->next.base, cx);
        if (d->next.empty)
            break;
        handle(run, &d->ph[PHASE_DROP], &d->next);
    }
    d->set_live = false;
    {
        struct phase *ph = &d->ph[PHASE_DROP];
        ph->cancelled = ct_joinset_drop(&d->set, &ph->discarded);
        ct_say(run, "set dropped: %zu cancelled, %zu done but discarded", ph->cancelled,
               ph->discarded);
    }
    CT_ASYNC_END(d->pc);
    return CT_READY;
}

static void driver_drop(struct ct_future *f)
{
    struct driver *d = (struct driver *)f;
    ct_future_drop(&d->next.base);
    if (d->set_live)
        ct_joinset_drop(&d->set, NULL);
    d->set_live = false;
}

static const struct ct_future_ops driver_ops = { "owner", driver_poll, driver_drop };

/* ---- reporting ------------------------------------------------------------- */

static int count_rec(const struct phase *ph, int n, int what)
{
    int c = 0;
    for (int i = 0; i < n; i++) {
        const struct record *r = &ph->rec[i];
        c += what == 0 ? r->completed : what == 1 ? r->panicked : what == 2 ? r->cancelled
                                                                             : r->cleanups == 1;
    }
    return c;
}

static void report_checks(const struct config *cfg, const struct phase *ph)
{
    struct ct_run *run = cfg->run;
    const struct phase *a = &ph[PHASE_ALL], *b = &ph[PHASE_DROP];
    int n = cfg->tasks, seen = 0;
    bool once[MAX_TASKS] = { false };
    for (int i = 0; i < a->handled; i++) {
        seen += !once[a->order[i]];
        once[a->order[i]] = true;
    }
    ct_check(run, a->handled == n && seen == n, "every task's result was handled once (%d "
             "result%s, %d different task%s, of %d)", a->handled, PL(a->handled), seen,
             PL(seen), n);
    ct_check(run, a->ok + a->failed + a->panicked == n && a->status_wrong == 0,
             "%d ok + %d failed + %d panicked = %d, each as the task itself recorded "
             "(%d disagree)", a->ok, a->failed, a->panicked, n, a->status_wrong);
    int done = count_rec(b, n, 0) + count_rec(b, n, 1), cancelled = count_rec(b, n, 2);
    ct_check(run, (int)b->cancelled == cancelled && cancelled == n - done,
             "the drop cancelled %zu task%s, and exactly %d task%s never finished",
             b->cancelled, PL(b->cancelled), cancelled, PL(cancelled));
    ct_check(run, b->handled + (int)b->discarded + (int)b->cancelled == n,
             "joined %d + discarded %zu + cancelled %zu = %d task%s", b->handled, b->discarded,
             b->cancelled, n, PL(n));
    ct_check(run, count_rec(a, n, 3) + count_rec(b, n, 3) == 2 * n,
             "every task's cleanup ran exactly once (%d of %d)",
             count_rec(a, n, 3) + count_rec(b, n, 3), 2 * n);
}

static void report(const struct config *cfg, const struct phase *ph)
{
    struct ct_run *run = cfg->run;
    const struct phase *a = &ph[PHASE_ALL], *b = &ph[PHASE_DROP];
    static const char *const cols[] = { "phase", "ok", "errors", "panics", "cancelled",
                                        "discarded", NULL };
    struct ct_table *t = ct_table_new(run, "outcomes", "what the join set reported", cols);
    ct_table_row(t, CT_TEXT("join all"), CT_INT(a->ok), CT_INT(a->failed), CT_INT(a->panicked),
                 CT_INT((long long)a->cancelled + a->lost), CT_INT((long long)a->discarded));
    ct_table_row(t, CT_TEXT("drop early"), CT_INT(b->ok), CT_INT(b->failed),
                 CT_INT(b->panicked), CT_INT((long long)b->cancelled + b->lost),
                 CT_INT((long long)b->discarded));
    char order[128];
    size_t off = 0;
    for (int i = 0; i < a->handled && off < sizeof order; i++)
        off += (size_t)snprintf(order + off, sizeof order - off, "%s%d", i ? " " : "",
                                a->order[i]);
    ct_result_text(run, "order", "completion order (spawned 0, 1, 2, ...)", a->handled ? order
                                                                                     : "-");
    report_checks(cfg, ph);
    bool spawn_order = true;    /* did they finish in the order they were spawned? */
    for (int i = 1; i < a->handled; i++)
        if (a->order[i] < a->order[i - 1])
            spawn_order = false;
    char panic[160] = "No task panicked this time; set panic-id to an id below tasks to see one "
                      "caught.";
    if (a->panicked > 0 && a->ok + a->failed > 0)
        snprintf(panic, sizeof panic, "The panicking task ended alone: the other tasks, on the "
                 "same two workers, carried on.");
    else if (a->panicked > 0)
        snprintf(panic, sizeof panic, "The only task panicked, and the set returned the panic "
                 "as a result instead of taking the program down.");
    ct_takeaway(run,
                "The results came in the order the tasks finished (%s), %s, and the set told "
                "%d success%s, %d error%s and %d panic%s apart. %s",
                order, spawn_order ? "which this time was also the order they were spawned"
                                   : "not the order they were spawned",
                a->ok, a->ok == 1 ? "" : "es", a->failed, PL(a->failed), a->panicked,
                PL(a->panicked), panic);
    char discarded[64] = "none had finished unjoined";
    if (b->discarded)
        snprintf(discarded, sizeof discarded, "%zu had finished unjoined (results discarded)",
                 b->discarded);
    ct_takeaway(run,
                "After %d result%s the second set was dropped: %zu task%s still running %s "
                "cancelled (%s), and %s. No task outlived the set that owned it.",
                b->handled, b->handled == 1 ? "" : "s", b->cancelled,
                b->cancelled == 1 ? "" : "s", b->cancelled == 1 ? "was" : "were",
                b->cancelled == 1 ? "its cleanup ran, and it did not finish"
                                  : "each one's cleanup ran, none finished",
                discarded);
}

static int joinset_run(struct ct_run *run)
{
    struct config cfg = {
        .run = run, .tasks = (int)ct_param_int(run, "tasks"),
        .fail_every = (int)ct_param_int(run, "fail-every"),
        .panic_id = (int)ct_param_int(run, "panic-id"), .take = (int)ct_param_int(run, "take"),
        .work_ms = (double)ct_param_int(run, "work-ms"),
    };
    for (int i = 0; i < cfg.tasks; i++)
        cfg.lanes[i] = ct_lane(run, "item %d", i);
    ct_legend(run, CT_SLEEP, "processing (awaiting its timer)");
    ct_point_legend(run, '*', "ok");
    ct_point_legend(run, 'E', "error");
    ct_point_legend(run, 'P', "panic");
    ct_point_legend(run, 'c', "cancelled");
    struct phase *ph = calloc(NPHASES, sizeof *ph);
    struct ct_exec *ex = NULL;
    int rc = ph ? ct_demo_executor(run, CT_EXEC_MULTI_THREAD, 2, &ex) : -ENOMEM;
    if (rc == 0) {
        struct driver d = { .base = { .ops = &driver_ops }, .cfg = &cfg, .ph = ph };
        rc = ct_block_on(ex, &d.base);
        if (rc == 0)
            rc = d.base.error;
        ct_future_drop(&d.base);
        /* every task is dropped by now or here, so the records are final */
        ct_exec_free(ex);
    }
    if (rc == 0 && !ct_cancelled(run))
        report(&cfg, ph);
    free(ph);
    return rc == -ECANCELED ? 0 : rc;
}

static const struct ct_param_spec joinset_params[] = {
    { "tasks", CT_PARAM_INT, "10", 1, MAX_TASKS, NULL, "tasks in each set (the guide's 10)" },
    { "work-ms", CT_PARAM_INT, "100", 1, 5000, NULL,
      "typical processing time (each item takes 0.5 to 1.4 times this)" },
    { "fail-every", CT_PARAM_INT, "5", 0, 1000, NULL,
      "items whose id is a multiple of this fail (0: none)" },
    { "panic-id", CT_PARAM_INT, "7", -1, MAX_TASKS, NULL, "the item that panics (-1: none)" },
    { "take", CT_PARAM_INT, "3", 0, MAX_TASKS, NULL,
      "results taken from the second set before it is dropped" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_joinset = {
    .name = "joinset",
    .chapter = 9,
    .title = "Structured concurrency with a join set",
    .summary = "Ten tasks in a join set: results as they finish, errors and panics apart",
    .intro = "Ten tasks go into a join set; their results are handled as the tasks finish, "
             "with errors and a panic told apart. Then a second set is dropped after three "
             "results, which cancels the tasks still running.",
    .params = joinset_params,
    .smoke = "work-ms=20",
    .run = joinset_run,
};
