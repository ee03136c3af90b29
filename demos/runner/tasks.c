/* tasks.c - see tasks.h. */
#include "tasks.h"

#include <errno.h>
#include <stdlib.h>

#include "clock.h"

static int hook_start(void *ctx, void **handle, void *(*fn)(void *), void *arg,
                      const char *name)
{
    struct ct_thread *t = malloc(sizeof *t);
    if (!t)
        return -ENOMEM;
    int rc = ct_thread_start(ctx, t, fn, arg, "%s", name);
    if (rc) {
        free(t);
        return rc;
    }
    *handle = t;
    return 0;
}

static int hook_join(void *ctx, void *handle)
{
    (void)ctx;
    int rc = ct_thread_join(handle, NULL);
    free(handle);
    return rc;
}

int ct_demo_executor(struct ct_run *run, enum ct_exec_flavor flavor, int workers,
                 struct ct_exec **out)
{
    struct ct_exec_config cfg = {
        .flavor = flavor,
        .workers = workers,
        .cancel = ct_cancel_event(run),
        .hooks = { hook_start, hook_join, run },
    };
    return ct_exec_new(out, &cfg);
}

int64_t ct_demo_ns(const struct ct_run *run, double ms)
{
    return (int64_t)(ms * ct_scale(run) * 1e6);
}

/* ---- the demo operation -------------------------------------------------- */

static enum ct_poll op_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct ct_demo_op *o = (struct ct_demo_op *)f;
    o->rec->polls++;
    CT_ASYNC_BEGIN(o->pc);
    o->buffer = malloc(4096);
    if (!o->buffer) {
        f->error = -ENOMEM;
        return CT_READY;
    }
    if (o->open)
        (*o->open)++;
    o->rec->start_ns = ct_clock_ns();
    ct_mark_lane(o->run, o->lane, CT_SLEEP);
    ct_say(o->run, "%s: started, sleeping %.0f ms", o->name, (double)o->ns / 1e6);
    ct_sleep_init(&o->nap, o->ns);
    CT_AWAIT(o->pc, &o->nap.base, cx);
    o->rec->end_ns = ct_clock_ns();
    o->rec->completions++;
    ct_mark_lane(o->run, o->lane, CT_IDLE);
    ct_point_lane(o->run, o->lane, '*');
    ct_say(o->run, "%s: finished", o->name);
    CT_ASYNC_END(o->pc);
    f->value = (intptr_t)o->name;
    return CT_READY;
}

/* Runs once, whichever way the operation ends. */
static void op_drop(struct ct_future *f)
{
    struct ct_demo_op *o = (struct ct_demo_op *)f;
    o->rec->cleanups++;
    ct_future_drop(&o->nap.base);       /* cancels its timer if still set */
    if (!o->buffer)
        return;
    if (o->rec->completions == 0) {
        o->rec->cancelled = true;
        o->rec->end_ns = ct_clock_ns();
        ct_mark_lane(o->run, o->lane, CT_IDLE);
        ct_point_lane(o->run, o->lane, 'x');
        double left = (double)(o->nap.deadline - o->rec->end_ns) / 1e6;
        if (left > 0)
            ct_say(o->run, "%s: cancelled %.1f ms before it would have finished; its cleanup "
                   "frees its buffer", o->name, left);
        else
            ct_say(o->run, "%s: cancelled though its time was up too (the other was polled "
                   "first); its cleanup frees its buffer", o->name);
    }
    free(o->buffer);
    o->buffer = NULL;
    if (o->open)
        (*o->open)--;
}

static const struct ct_future_ops op_ops = { "demo op", op_poll, op_drop };

void ct_demo_op_init(struct ct_demo_op *op, struct ct_run *run, const char *name, int lane,
                     int64_t ns, struct ct_demo_op_record *rec, int *open)
{
    *op = (struct ct_demo_op){ .base = { .ops = &op_ops }, .lane = lane, .name = name, .ns = ns,
                               .open = open, .run = run, .rec = rec };
}
