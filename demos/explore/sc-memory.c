/* sc-memory.c - what the hardware does to plain stores: store-buffering
 * (the litmus test, on x86's total store order) and double-checked-init
 * (a pointer published with a plain store, on a machine that may make
 * stores to different places visible out of order).  See explore.h for
 * the store-buffer model. */
#include <stdio.h>

#include "explore.h"

/* ---- store-buffering (lesson mutex-or-rwlock) -------------------------------- */

enum { x, y };

struct litmus {
    int r;
};

static void store_x_load_y(EX_THREAD)
{
    EX_BEGIN(struct litmus);
    ex_store(x, 1);
    ex_load(y, &my->r);
    EX_END;
}

static void store_y_load_x(EX_THREAD)
{
    EX_BEGIN(struct litmus);
    ex_store(y, 1);
    ex_load(x, &my->r);
    EX_END;
}

/* a seq_cst fence: the store leaves the buffer before the load */
static void store_x_fence_load_y(EX_THREAD)
{
    EX_BEGIN(struct litmus);
    ex_store(x, 1);
    ex_fence();
    ex_load(y, &my->r);
    EX_END;
}

static void store_y_fence_load_x(EX_THREAD)
{
    EX_BEGIN(struct litmus);
    ex_store(y, 1);
    ex_fence();
    ex_load(x, &my->r);
    EX_END;
}

static const char *litmus_check(const struct ct_ex_state *s, const struct ct_ex_config *cfg,
                                bool final, char *buf, size_t n)
{
    (void)cfg;
    if (!final || CT_EX_LOCALS_OF(s, 0, struct litmus)->r ||
        CT_EX_LOCALS_OF(s, 1, struct litmus)->r)
        return NULL;
    snprintf(buf, n, "both threads read 0: each load ran before the other's "
                     "store landed");
    return buf;
}

const struct ct_ex_scenario ct_ex_sc_store_buffering = {
    .name = "store-buffering",
    .title = "Store, then load: both read 0",
    .lesson = "mutex-or-rwlock",
    .story = "t0 stores x=1 then loads y; t1 stores y=1 then loads x.  On "
             "x86 a store waits in its core's store buffer (the actors "
             "t0.buf0 and t1.buf0 here) and a later load can run first.",
    .invariant = "at least one thread reads 1",
    .goal = "make both threads read 0",
    .fix = "a seq_cst fence between the store and the load",
    .source = "sc-memory.c",
    .memory = CT_EX_TSO,
    .buf_slots = 1,
    .threads_min = 2, .threads_max = 2, .threads_def = 2,
    .iters_min = 1, .iters_max = 1, .iters_def = 1,
    .vars = "x,y",
    .thread_names = "t0,t1",
    .broken = { CT_EX_CODE(store_x_load_y, "r"), CT_EX_CODE(store_y_load_x, "r") },
    .fixed = { CT_EX_CODE(store_x_fence_load_y, "r"), CT_EX_CODE(store_y_fence_load_x, "r") },
    .check = litmus_check,
};

/* ---- double-checked-init (lesson sync-trait) -------------------------------- */

enum { value, ptr };
enum { init_lock };

struct getter {
    int p, v;
};

/* get the config, building it on first use */
static void get_config(EX_THREAD)
{
    EX_BEGIN(struct getter);
    ex_load(ptr, &my->p);               /* first check, no lock */
    if (!my->p) {
        ex_lock(init_lock);
        ex_load(ptr, &my->p);           /* second check */
        if (!my->p) {
            ex_store(value, 42);        /* build it */
            ex_store(ptr, 1);           /* publish: plain store */
        }
        ex_unlock(init_lock);
    }
    ex_load(value, &my->v);             /* use it */
    ex_fail_if(my->v != 42, "used the config before it was built");
    EX_END;
}

/* publish with release, check with acquire */
static void get_config_fixed(EX_THREAD)
{
    EX_BEGIN(struct getter);
    ex_load_acquire(ptr, &my->p);       /* first check */
    if (!my->p) {
        ex_lock(init_lock);
        ex_load(ptr, &my->p);           /* second check */
        if (!my->p) {
            ex_store(value, 42);        /* build it */
            ex_store_release(ptr, 1);   /* publish after it */
        }
        ex_unlock(init_lock);
    }
    ex_load(value, &my->v);             /* use it */
    ex_fail_if(my->v != 42, "used the config before it was built");
    EX_END;
}

const struct ct_ex_scenario ct_ex_sc_double_checked_init = {
    .name = "double-checked-init",
    .title = "A pointer published without release",
    .lesson = "sync-trait",
    .story = "Two threads want a config built once.  Both check the pointer "
             "without the lock; the first to find it empty builds the config "
             "under the lock and publishes the pointer with a plain store.  "
             "Pending stores may land in either order (t0.buf0, t0.buf1).",
    .invariant = "whoever sees the pointer sees value 42",
    .goal = "make a thread read the config before value=42 lands",
    .fix = "a release store of the pointer, an acquire load to check it",
    .source = "sc-memory.c",
    .memory = CT_EX_PSO,
    .buf_slots = 2,
    .threads_min = 2, .threads_max = 2, .threads_def = 2,
    .iters_min = 1, .iters_max = 1, .iters_def = 1,
    .vars = "value,ptr",
    .locks = "init",
    .broken = { CT_EX_CODE(get_config, "p,v") },
    .fixed = { CT_EX_CODE(get_config_fixed, "p,v") },
};
