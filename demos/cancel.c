/* cancel.c - demo `cancel`: three ways to stop an operation: a timeout, a
 * cancellation token, and a race against a deadline.
 *
 * Shows: the guide's three examples, scaled by a tenth, on a current-
 * thread executor.  (1) A ten-step operation under a timeout shorter than
 * its steps: dropped mid-step when the timer fires.  (2) An operation that
 * checks a cancellation token between its steps and hands child tokens to
 * two child tasks; a third task cancels the token.  One child checks
 * between steps like the parent; the other awaits each step raced against
 * its token, so it stops at once.  The children borrow connections from a
 * pool (pool.h) and the parent a buffer.  (3) The operation raced against
 * a sleep with select: the sleep wins, the operation is dropped.  Every
 * operation holds something from its first poll and gives it back in its
 * cleanup; the demo counts both.
 * Watch for: the step each operation stopped in, how long each took to
 * notice the token, and held = 0 at the end.
 * Lesson: timeout-cancellation (chapter 8).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "demo.h"
#include "aevent.h"
#include "check.h"
#include "clock.h"
#include "combinators.h"
#include "exec.h"
#include "pool.h"
#include "reactor.h"
#include "tasks.h"

/* ---- a cancellation token with children ----------------------------------
 *
 * tokio_util's CancellationToken, small: cancelling a token sets its event
 * (which tasks can check, or await) and cancels its children, never its
 * parent.  A child made after its parent was cancelled starts cancelled. */
#define MAX_CHILDREN 4

struct token {
    struct ct_aevent ev;
    pthread_mutex_t mu;         /* guards the children */
    struct token *child[MAX_CHILDREN];
    int nchild;
};

static int token_init(struct token *t)
{
    *t = (struct token){ .nchild = 0 };
    int rc = ct_aevent_init(&t->ev);
    if (rc == 0 && (rc = -pthread_mutex_init(&t->mu, NULL)) != 0)
        ct_aevent_destroy(&t->ev);
    return rc;
}

static void token_destroy(struct token *t)
{
    CT_PT(pthread_mutex_destroy(&t->mu));
    ct_aevent_destroy(&t->ev);
}

static bool token_cancelled(struct token *t)
{
    return ct_aevent_is_set(&t->ev);
}

static void token_cancel(struct token *t)
{
    ct_aevent_set(&t->ev);
    CT_PT(pthread_mutex_lock(&t->mu));
    int n = t->nchild;
    struct token *kids[MAX_CHILDREN];
    for (int i = 0; i < n; i++)
        kids[i] = t->child[i];
    CT_PT(pthread_mutex_unlock(&t->mu));
    for (int i = 0; i < n; i++)
        token_cancel(kids[i]);
}

/* Make `c` (initialised) a child of `t`.  0, or -ENOSPC. */
static int token_adopt(struct token *t, struct token *c)
{
    CT_PT(pthread_mutex_lock(&t->mu));
    int rc = t->nchild < MAX_CHILDREN ? 0 : -ENOSPC;
    if (rc == 0)
        t->child[t->nchild++] = c;
    bool already = token_cancelled(t);
    CT_PT(pthread_mutex_unlock(&t->mu));
    if (rc == 0 && already)
        token_cancel(c);
    return rc;
}

/* ---- what the operations hold, and their records ------------------------ */

struct counts {
    atomic_int held, acquired, released;
};

enum how { FINISHED, DROPPED, TOKEN_BETWEEN, TOKEN_MID_STEP };

static const char *const how_name[] = { "finished", "dropped", "token, at a check",
                                        "token, mid-step" };

struct op_rec {
    const char *name;
    int lane, nsteps;
    int steps_done;             /* steps completed */
    int stopped_in;             /* the step it was in or about to start (1-based) */
    enum how how;
    int cleanups;
    int64_t start_ns, stop_ns;
};

/* ---- a stepped operation --------------------------------------------------
 *
 * `steps` steps of `step_ns` each.  With a token it checks the token before
 * every step; with `race` it also awaits each step raced against the
 * token (select), so a cancel ends the step at once.  It holds a buffer,
 * or a pooled connection, from its first poll to its drop. */
struct stepper {
    struct ct_future base;
    int pc;
    int64_t step_ns;
    bool say_steps;             /* a line per step, as the guide prints */
    struct token *token;
    bool race;
    struct ct_pool *pool;       /* hold a connection from it, else a buffer */
    void *held;
    struct ct_sleep nap;
    struct ct_aevent_wait tw;
    struct ct_select sel;
    struct ct_future *arms[2];
    struct counts *counts;
    struct ct_run *run;
    struct op_rec *rec;
};

static int take(struct stepper *s)
{
    int rc = 0;
    if (s->pool)
        rc = ct_pool_acquire_timeout(s->pool, &s->held, 0, NULL);   /* never waits */
    else if (!(s->held = malloc(4096)))
        rc = -ENOMEM;
    if (rc == 0) {
        atomic_fetch_add(&s->counts->held, 1);
        atomic_fetch_add(&s->counts->acquired, 1);
    }
    return rc;
}

static void give_back(struct stepper *s)
{
    if (!s->held)
        return;
    if (s->pool)
        ct_pool_release(s->pool, s->held);
    else
        free(s->held);
    s->held = NULL;
    atomic_fetch_sub(&s->counts->held, 1);
    atomic_fetch_add(&s->counts->released, 1);
}

static void stopped(struct stepper *s, enum how how)
{
    struct op_rec *r = s->rec;
    r->how = how;
    r->stop_ns = ct_clock_ns();
    ct_mark_lane(s->run, r->lane, CT_IDLE);
    ct_point_lane(s->run, r->lane, how == FINISHED ? '*' : 'x');
    if (how == FINISHED)
        ct_say(s->run, "%s: all %d steps done", r->name, r->nsteps);
    else
        ct_say(s->run, "%s: stops in step %d/%d: %s", r->name, r->stopped_in, r->nsteps,
               how_name[how]);
}

static enum ct_poll step_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct stepper *s = (struct stepper *)f;
    struct op_rec *r = s->rec;
    CT_ASYNC_BEGIN(s->pc);
    if ((f->error = take(s)) != 0)
        return CT_READY;
    r->start_ns = ct_clock_ns();
    for (r->stopped_in = 1; r->stopped_in <= r->nsteps; r->stopped_in++) {
        if (s->token && token_cancelled(s->token)) {
            stopped(s, TOKEN_BETWEEN);
            f->error = -ECANCELED;
            break;
        }
        /* steps alternate = and # on the timeline, so they can be counted */
        ct_mark_lane(s->run, r->lane, r->stopped_in % 2 ? CT_RUN : CT_HOLD);
        if (s->say_steps)
            ct_say(s->run, "%s: step %d of %d", r->name, r->stopped_in, r->nsteps);
        ct_sleep_init(&s->nap, s->step_ns);
        if (s->race) {
            /* the token first: a cancel wins a tie with the step */
            ct_aevent_wait_init(&s->tw, &s->token->ev);
            s->arms[0] = &s->tw.base;
            s->arms[1] = &s->nap.base;
            ct_select_init(&s->sel, s->arms, 2);
            CT_AWAIT(s->pc, &s->sel.base, cx);
            if (s->sel.winner == 0) {
                stopped(s, TOKEN_MID_STEP);
                f->error = -ECANCELED;
                break;
            }
        } else {
            CT_AWAIT(s->pc, &s->nap.base, cx);
        }
        r->steps_done++;
    }
    if (f->error == 0)
        stopped(s, FINISHED);
    CT_ASYNC_END(s->pc);
    return CT_READY;
}

/* Whichever way it ends: finished, stopped by its token, or dropped from
 * outside (a timeout, a select, the executor shutting down). */
static void step_drop(struct ct_future *f)
{
    struct stepper *s = (struct stepper *)f;
    s->rec->cleanups++;
    ct_future_drop(&s->sel.base);
    ct_future_drop(&s->nap.base);
    ct_future_drop(&s->tw.base);
    if (s->rec->start_ns && !s->rec->stop_ns)
        stopped(s, DROPPED);
    give_back(s);
}

static const struct ct_future_ops step_ops = { "stepped operation", step_poll, step_drop };

static void step_init(struct stepper *s, struct ct_run *run, struct op_rec *rec,
                      struct counts *counts, int64_t step_ns)
{
    *s = (struct stepper){ .base = { .ops = &step_ops }, .step_ns = step_ns, .counts = counts,
                           .run = run, .rec = rec };
}

/* ---- part 2: a parent with children, and a task that cancels ------------ */

struct family {
    struct token root, kid[2];
    struct ct_aevent done;      /* the operation has ended: nothing to cancel */
    struct op_rec own, child[2];
    struct ct_pool pool;
    int64_t step_ns, cancel_after_ns, cancel_ns;
    int err;                    /* the parent's result */
};

struct parent {
    struct ct_future base;
    int pc;
    struct ct_run *run;
    struct family *fam;
    struct counts *counts;
    struct stepper own;
    struct ct_join_handle h[2];
    struct ct_await_all all;
};

static enum ct_poll parent_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct parent *p = (struct parent *)f;
    struct family *fam = p->fam;
    CT_ASYNC_BEGIN(p->pc);
    for (int i = 0; i < 2; i++) {
        struct stepper kid;
        step_init(&kid, p->run, &fam->child[i], p->counts, fam->step_ns);
        kid.token = &fam->kid[i];
        kid.race = i == 1;
        kid.pool = &fam->pool;
        if ((f->error = ct_spawn(cx->exec, &kid, &p->h[i])) != 0)
            return CT_READY;
    }
    step_init(&p->own, p->run, &fam->own, p->counts, fam->step_ns);
    p->own.token = &fam->root;
    p->own.say_steps = true;
    CT_AWAIT(p->pc, &p->own.base, cx);
    fam->err = p->own.base.error;
    if (fam->err)
        ct_say(p->run, "operation: cancelled; awaiting its children");
    ct_await_all_init(&p->all, p->h, 2);
    CT_AWAIT(p->pc, &p->all.base, cx);
    ct_aevent_set(&fam->done);
    CT_ASYNC_END(p->pc);
    f->error = fam->err;
    return CT_READY;
}

static void parent_drop(struct ct_future *f)
{
    struct parent *p = (struct parent *)f;
    ct_future_drop(&p->own.base);
    ct_future_drop(&p->all.base);
    for (int i = 0; i < 2; i++)
        ct_future_drop(&p->h[i].base);
}

static const struct ct_future_ops parent_ops = { "parent", parent_poll, parent_drop };

/* Sleeps until it is time to cancel, unless the operation ends first. */
struct canceller {
    struct ct_future base;
    int pc;
    struct ct_run *run;
    struct family *fam;
    struct ct_sleep nap;
    struct ct_aevent_wait done;
    struct ct_select sel;
    struct ct_future *arms[2];
};

static enum ct_poll canceller_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct canceller *c = (struct canceller *)f;
    CT_ASYNC_BEGIN(c->pc);
    ct_aevent_wait_init(&c->done, &c->fam->done);
    ct_sleep_init(&c->nap, c->fam->cancel_after_ns);
    c->arms[0] = &c->done.base;
    c->arms[1] = &c->nap.base;
    ct_select_init(&c->sel, c->arms, 2);
    CT_AWAIT(c->pc, &c->sel.base, cx);
    if (c->sel.winner == 0)
        return CT_READY;        /* finished before its time: nothing to cancel */
    ct_say(c->run, "canceller: cancelling the token");
    c->fam->cancel_ns = ct_clock_ns();
    ct_point_lane(c->run, c->fam->own.lane, 'C');
    token_cancel(&c->fam->root);
    CT_ASYNC_END(c->pc);
    return CT_READY;
}

static void canceller_drop(struct ct_future *f)
{
    struct canceller *c = (struct canceller *)f;
    ct_future_drop(&c->sel.base);
    ct_future_drop(&c->nap.base);
    ct_future_drop(&c->done.base);
}

static const struct ct_future_ops canceller_ops = { "canceller", canceller_poll,
                                                    canceller_drop };

/* ---- the three parts ------------------------------------------------------ */

/* Milliseconds (already on the run's time scale) in nanoseconds. */
#define NS(ms) ((int64_t)((ms) * 1e6))

struct cancel_result {
    int steps;
    double step_ms, timeout_ms, token_step_ms, cancel_ms, deadline_ms;
    struct op_rec timed, raced;
    int timed_err, race_winner;
    int64_t timed_t0, raced_t0;
    struct family fam;
    struct counts counts;
    bool tokens_all_set;
    struct ct_pool_stats pool;
    int pool_destroy_rc;
    size_t timers_left;
};

/* Part 1: the operation under a timeout. */
static int part_timeout(struct ct_run *run, struct ct_exec *ex, struct cancel_result *r)
{
    ct_section(run, "1. timeout: %d steps of %.0f ms, %.0f ms allowed", r->steps, r->step_ms,
               r->timeout_ms);
    struct stepper op;
    step_init(&op, run, &r->timed, &r->counts, NS(r->step_ms));
    op.say_steps = true;
    r->timed_t0 = ct_clock_ns();
    struct ct_timeout t;
    ct_timeout_init(&t, &op.base, NS(r->timeout_ms));
    int rc = ct_block_on(ex, &t.base);
    r->timed_err = t.base.error;
    ct_future_drop(&t.base);
    if (rc == 0)
        ct_say(run, "%s", r->timed_err == -ETIMEDOUT ? "operation timed out"
                                                     : "operation finished in time");
    return rc;
}

/* Part 2: the parent, its children and the canceller as tasks. */
static int part_token(struct ct_run *run, struct ct_exec *ex, struct cancel_result *r)
{
    struct family *fam = &r->fam;
    ct_section(run, "2. token: %d steps of %.0f ms, cancelled at %.0f ms", r->steps,
               r->token_step_ms, r->cancel_ms);
    struct parent *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    *p = (struct parent){ .base = { .ops = &parent_ops }, .run = run, .fam = fam,
                          .counts = &r->counts };
    struct canceller c = { .base = { .ops = &canceller_ops }, .run = run, .fam = fam };
    struct ct_join_handle h[2];
    int rc = ct_spawn(ex, p, &h[0]);
    free(p);            /* moved into the task */
    if (rc)
        return rc;
    if ((rc = ct_spawn(ex, &c, &h[1])) == 0) {
        struct ct_await_all all;
        ct_await_all_init(&all, h, 2);
        rc = ct_block_on(ex, &all.base);
        ct_future_drop(&all.base);
        ct_future_drop(&h[1].base);
    }
    ct_future_drop(&h[0].base);
    if (rc == 0)
        ct_say(run, "operation: %s", fam->err == -ECANCELED ? "error: it was cancelled"
                                                            : "completed");
    return rc;
}

/* Part 3: the operation raced against a sleep. */
static int part_select(struct ct_run *run, struct ct_exec *ex, struct cancel_result *r)
{
    ct_section(run, "3. select: the operation against a %.0f ms sleep", r->deadline_ms);
    struct stepper op;
    step_init(&op, run, &r->raced, &r->counts, NS(r->step_ms));
    op.say_steps = true;
    r->raced_t0 = ct_clock_ns();
    struct ct_sleep deadline;
    ct_sleep_init(&deadline, NS(r->deadline_ms));
    struct ct_future *arms[2] = { &op.base, &deadline.base };
    struct ct_select sel;
    ct_select_init(&sel, arms, 2);
    int rc = ct_block_on(ex, &sel.base);
    r->race_winner = sel.winner;
    ct_future_drop(&sel.base);
    if (rc == 0)
        ct_say(run, "%s", r->race_winner == 1 ? "the deadline came first: giving up"
                                              : "the operation finished first");
    return rc;
}

static int pool_open(void *ctx, void **res)
{
    (void)ctx;
    *res = malloc(64);
    return *res ? 0 : -ENOMEM;
}

static void pool_close(void *ctx, void *res)
{
    (void)ctx;
    free(res);
}

/* The tokens and the pool of part 2, which must outlive its tasks. */
static int family_init(struct family *fam)
{
    struct ct_pool_config cfg = { .max = 2, .create = pool_open, .destroy = pool_close };
    int rc = ct_pool_init(&fam->pool, &cfg), made = 0;
    if (rc)
        return rc;
    struct token *all[3] = { &fam->root, &fam->kid[0], &fam->kid[1] };
    for (; made < 3 && rc == 0; made++)
        if ((rc = token_init(all[made])) != 0)
            break;
    for (int i = 0; i < 2 && rc == 0; i++)
        rc = token_adopt(&fam->root, &fam->kid[i]);
    if (rc == 0 && (rc = ct_aevent_init(&fam->done)) == 0)
        return 0;
    while (made-- > 0)
        token_destroy(all[made]);
    ct_pool_destroy(&fam->pool);
    return rc;
}

static void family_destroy(struct family *fam, struct cancel_result *r)
{
    r->tokens_all_set = token_cancelled(&fam->root) && token_cancelled(&fam->kid[0]) &&
                        token_cancelled(&fam->kid[1]);
    for (int i = 0; i < 2; i++)
        token_destroy(&fam->kid[i]);
    token_destroy(&fam->root);
    ct_aevent_destroy(&fam->done);
    ct_pool_get_stats(&fam->pool, &r->pool);
    r->pool_destroy_rc = ct_pool_destroy(&fam->pool);
}

/* ---- run and report ------------------------------------------------------- */

static void op_row(struct ct_table *t, const struct op_rec *r, int64_t trigger_ns)
{
    double react = r->how == FINISHED || !trigger_ns ? 0 : (double)(r->stop_ns - trigger_ns) / 1e6;
    ct_table_row(t, CT_TEXT(r->name), CT_INT(r->steps_done),
                 CT_INT(r->how == FINISHED ? r->nsteps : r->stopped_in), CT_TEXT(how_name[r->how]),
                 CT_NUM(react, 1), CT_INT(r->cleanups));
}

static void report_checks(struct ct_run *run, const struct cancel_result *r)
{
    const struct family *fam = &r->fam;
    const struct op_rec *all[5] = { &r->timed, &fam->own, &fam->child[0], &fam->child[1],
                                    &r->raced };
    ct_check(run, (r->timed_err == -ETIMEDOUT && r->timed.how == DROPPED) ||
                      (r->timed_err == 0 && r->timed.how == FINISHED),
             "1: timed out and dropped, or finished, never both (%s)", how_name[r->timed.how]);
    ct_check(run, (fam->err == -ECANCELED) == (fam->own.how == TOKEN_BETWEEN),
             "2: the operation's error matches where it stopped (%s)", how_name[fam->own.how]);
    ct_check(run, fam->own.how == FINISHED || r->tokens_all_set,
             "2: cancelling the token reached both child tokens");
    ct_check(run, fam->child[0].how != TOKEN_MID_STEP && fam->child[0].how != DROPPED &&
                      fam->child[1].how != DROPPED,
             "2: the children stopped themselves, at a check or mid-step");
    ct_check(run, (r->race_winner == 1) == (r->raced.how == DROPPED),
             "3: the loser of the race was the one dropped");
    int bad = 0;
    for (int i = 0; i < 5; i++)
        bad += all[i]->cleanups != 1;
    ct_check(run, bad == 0, "every operation's cleanup ran exactly once (%d did not)", bad);
    ct_check(run, r->counts.held == 0 && r->counts.acquired == r->counts.released,
             "everything held was given back (%d taken, %d given back)",
             (int)r->counts.acquired, (int)r->counts.released);
    ct_check(run, r->pool.in_use == 0 && r->pool_destroy_rc == 0,
             "the children's pool has both connections back (%d out)", r->pool.in_use);
    ct_check(run, r->timers_left == 0, "no timer left in the reactor (%zu)", r->timers_left);
}

/* Each part says what happened in this run: an operation that finished in
 * time was never cancelled, and the text must not claim it was. */
static void takeaways(struct ct_run *run, const struct cancel_result *r, const double react[3],
                      int64_t timed_deadline)
{
    const struct family *fam = &r->fam;
    if (r->timed.how == DROPPED)
        ct_takeaway(run,
                    "1. The timeout dropped the operation in step %d of %d, %.1f ms after its "
                    "deadline; its cleanup freed the buffer there and then. It never learned "
                    "why: a timeout is a select against a sleep, and a dropped future is not "
                    "polled again.",
                    r->timed.stopped_in, r->timed.nsteps,
                    (double)(r->timed.stop_ns - timed_deadline) / 1e6);
    else
        ct_takeaway(run,
                    "1. The operation finished all %d steps inside the %.0f ms timeout, so the "
                    "timeout never fired and the sleep it raced was dropped instead. Lower "
                    "timeout-ms below steps x step-ms to see it cut short.",
                    r->timed.nsteps, r->timeout_ms);

    int finished = (fam->own.how == FINISHED) + (fam->child[0].how == FINISHED) +
                   (fam->child[1].how == FINISHED);
    if (finished == 0)
        ct_takeaway(run,
                    "2. A token is cooperative: nothing stops until the code looks. The "
                    "operation and the child that checks between steps noticed the cancel "
                    "%.1f and %.1f ms after it, at their next step; the child that awaits each "
                    "step raced against its token stopped %.1f ms after. Both children "
                    "returned their pooled connections (%d of 2 back) before the operation "
                    "reported its error.",
                    react[0], react[1], react[2], 2 - r->pool.in_use);
    else if (finished == 3)
        ct_takeaway(run,
                    "2. All 3 operations finished every step before the cancel, due at %.0f "
                    "ms, so the token stopped nothing: it only stops code that is still "
                    "running and still looks at it. Both children returned their pooled "
                    "connections (%d of 2 back). Lower cancel-ms to cancel them mid-way.",
                    r->cancel_ms, 2 - r->pool.in_use);
    else
        ct_takeaway(run,
                    "2. The cancel at %.0f ms came as the work was ending: %d of the 3 "
                    "operations had finished every step, and the rest stopped at their next "
                    "look at the token. Both children returned their pooled connections (%d "
                    "of 2 back). Lower cancel-ms to cancel them all mid-way.",
                    r->cancel_ms, finished, 2 - r->pool.in_use);

    if (r->raced.how == DROPPED)
        ct_takeaway(run,
                    "3. select did what the timeout did, with a %.0f ms sleep as the other "
                    "side: the operation was dropped in step %d of %d, and its cleanup ran "
                    "then.",
                    r->deadline_ms, r->raced.stopped_in, r->raced.nsteps);
    else
        ct_takeaway(run,
                    "3. The operation finished all %d steps before the %.0f ms sleep, so select "
                    "returned its result and dropped the sleep: whichever side is ready first "
                    "wins, and the other is dropped.",
                    r->raced.nsteps, r->deadline_ms);
}

static void report_cancel(struct ct_run *run, const struct cancel_result *r)
{
    const struct family *fam = &r->fam;
    static const char *const cols[] = { "op|operation", "steps_done|steps done",
                                        "stopped_in|in step", "how",
                                        "react_ms|reacted ms", "cleanups", NULL };
    struct ct_table *t = ct_table_new(run, "operations", NULL, cols);
    int64_t timed_deadline = r->timed_t0 + NS(r->timeout_ms);
    int64_t raced_deadline = r->raced_t0 + NS(r->deadline_ms);
    op_row(t, &r->timed, timed_deadline);
    op_row(t, &fam->own, fam->cancel_ns);
    op_row(t, &fam->child[0], fam->cancel_ns);
    op_row(t, &fam->child[1], fam->cancel_ns);
    op_row(t, &r->raced, raced_deadline);
    double react[3];
    for (int i = 0; i < 3; i++) {
        const struct op_rec *o = i == 0 ? &fam->own : &fam->child[i - 1];
        react[i] = o->how == FINISHED ? 0 : (double)(o->stop_ns - fam->cancel_ns) / 1e6;
    }
    ct_result_int(run, "taken", "resources taken", r->counts.acquired, NULL);
    ct_result_int(run, "given_back", "resources given back", r->counts.released, NULL);
    ct_result_text(run, "timeout_how", "1: the timed operation", how_name[r->timed.how]);
    ct_result_text(run, "token_how", "2: the operation", how_name[fam->own.how]);
    ct_result_text(run, "race_how", "3: the raced operation", how_name[r->raced.how]);
    ct_result_num(run, "between_react_ms", "2: child checking between steps reacted in",
                  react[1], 1, "ms");
    ct_result_num(run, "race_react_ms", "2: child racing the token reacted in", react[2], 1,
                  "ms");
    report_checks(run, r);

    takeaways(run, r, react, timed_deadline);
}

static int cancel_run(struct ct_run *run)
{
    struct cancel_result *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->steps = (int)ct_param_int(run, "steps");
    /* every duration on the run's time scale, as printed */
    double scale = ct_scale(run);
    r->step_ms = (double)ct_param_int(run, "step-ms") * scale;
    r->timeout_ms = (double)ct_param_int(run, "timeout-ms") * scale;
    r->token_step_ms = (double)ct_param_int(run, "token-step-ms") * scale;
    r->cancel_ms = (double)ct_param_int(run, "cancel-ms") * scale;
    r->deadline_ms = (double)ct_param_int(run, "deadline-ms") * scale;
    struct family *fam = &r->fam;
    fam->step_ns = NS(r->token_step_ms);
    fam->cancel_after_ns = NS(r->cancel_ms);
    static const char *const names[5] = { "timed op", "operation", "child-check",
                                          "child-race", "raced op" };
    struct op_rec *recs[5] = { &r->timed, &fam->own, &fam->child[0], &fam->child[1],
                               &r->raced };
    for (int i = 0; i < 5; i++)
        *recs[i] = (struct op_rec){ .name = names[i], .nsteps = r->steps,
                                    .lane = ct_lane(run, "%s", names[i]) };
    ct_legend(run, CT_RUN, "an odd step");
    ct_legend(run, CT_HOLD, "an even step");
    ct_point_legend(run, 'C', "the token is cancelled");
    ct_point_legend(run, 'x', "stopped: cancelled or dropped");
    ct_point_legend(run, '*', "finished every step");

    int rc = family_init(fam);
    struct ct_exec *ex = NULL;
    if (rc == 0 && (rc = ct_demo_executor(run, CT_EXEC_CURRENT_THREAD, 1, &ex)) != 0)
        family_destroy(fam, r);
    if (rc) {
        free(r);
        return rc;
    }
    rc = part_timeout(run, ex, r);
    if (rc == 0)
        rc = part_token(run, ex, r);
    if (rc == 0)
        rc = part_select(run, ex, r);
    r->timers_left = ct_reactor_pending(ct_exec_reactor(ex));
    ct_exec_free(ex);           /* drops what is left: its cleanups run */
    family_destroy(fam, r);
    if (rc == 0 && !ct_cancelled(run))
        report_cancel(run, r);
    free(r);
    return rc == -ECANCELED ? 0 : rc;
}

static const struct ct_param_spec cancel_params[] = {
    { "steps", CT_PARAM_INT, "10", 1, 100, NULL, "steps in each operation (the guide's 10)" },
    { "step-ms", CT_PARAM_INT, "100", 1, 5000, NULL, "parts 1 and 3: one step (guide: 1 s)" },
    { "timeout-ms", CT_PARAM_INT, "300", 1, 60000, NULL, "part 1: the timeout (guide: 3 s)" },
    { "token-step-ms", CT_PARAM_INT, "50", 1, 5000, NULL,
      "part 2: one step (the guide's 500 ms)" },
    { "cancel-ms", CT_PARAM_INT, "225", 0, 60000, NULL,
      "part 2: when the token is cancelled (guide: 2 s)" },
    { "deadline-ms", CT_PARAM_INT, "200", 1, 60000, NULL, "part 3: the sleep it races" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_cancel = {
    .name = "cancel",
    .chapter = 8,
    .title = "Timeouts, cancellation tokens and deadlines",
    .summary = "Stop an operation by a timeout, a token checked between steps, or a race",
    .intro = "A ten-step operation is stopped three ways: by a timeout, by a cancellation "
             "token it checks between steps (and passes to two children), and by racing it "
             "against a sleep. Watch where each one stops and what it gives back.",
    .params = cancel_params,
    .smoke = "steps=5 step-ms=10 timeout-ms=25 token-step-ms=10 cancel-ms=25 deadline-ms=15",
    .run = cancel_run,
};
