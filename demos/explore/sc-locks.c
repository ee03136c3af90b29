/* sc-locks.c - waiting gone wrong: deadlock (two locks taken in opposite
 * orders) and lost-wakeup (a condition variable checked with `if`, and
 * signalled before the state changes). */
#include <stdio.h>

#include "explore.h"

/* ---- deadlock (closest lesson: mutual-exclusion) ----------------------------- */

enum { bal_a, bal_b };
enum { a, b };

struct mover {
    int old;
};

/* move 10 from account a to account b */
static void a_to_b(EX_THREAD)
{
    EX_BEGIN(struct mover);
    ex_lock(a);
    ex_lock(b);
    ex_fetch_add(bal_a, -10, &my->old);
    ex_fetch_add(bal_b, 10, &my->old);
    ex_unlock(b);
    ex_unlock(a);
    EX_END;
}

/* move 10 back: locks in the opposite order */
static void b_to_a(EX_THREAD)
{
    EX_BEGIN(struct mover);
    ex_lock(b);
    ex_lock(a);
    ex_fetch_add(bal_b, -10, &my->old);
    ex_fetch_add(bal_a, 10, &my->old);
    ex_unlock(a);
    ex_unlock(b);
    EX_END;
}

/* the fix: every thread takes a before b */
static void b_to_a_fixed(EX_THREAD)
{
    EX_BEGIN(struct mover);
    ex_lock(a);
    ex_lock(b);
    ex_fetch_add(bal_b, -10, &my->old);
    ex_fetch_add(bal_a, 10, &my->old);
    ex_unlock(b);
    ex_unlock(a);
    EX_END;
}

static void deadlock_init(struct ct_ex_state *s, const struct ct_ex_config *cfg)
{
    (void)cfg;
    s->mem[bal_a] = 100;
    s->mem[bal_b] = 100;
}

static const char *deadlock_check(const struct ct_ex_state *s, const struct ct_ex_config *cfg,
                                  bool final, char *buf, size_t n)
{
    (void)cfg;
    if (!final || s->mem[bal_a] + s->mem[bal_b] == 200)
        return NULL;
    snprintf(buf, n, "the accounts hold %d in all, not 200",
             (int)(s->mem[bal_a] + s->mem[bal_b]));
    return buf;
}

const struct ct_ex_scenario ct_ex_sc_deadlock = {
    .name = "deadlock",
    .title = "Two locks in opposite orders",
    .lesson = "lock-ordering",
    .story = "One thread moves money from account a to b, the other from b "
             "to a.  Each locks the account it takes from, then the other.",
    .invariant = "every thread finishes (and the total stays 200)",
    .goal = "make every thread wait forever",
    .fix = "one lock order for everyone: a before b",
    .source = "sc-locks.c",
    .threads_min = 2, .threads_max = 2, .threads_def = 2,
    .iters_min = 1, .iters_max = 1, .iters_def = 1,
    .vars = "bal_a,bal_b",
    .locks = "a,b",
    .thread_names = "t0,t1",
    .broken = { CT_EX_CODE(a_to_b, "old"), CT_EX_CODE(b_to_a, "old") },
    .fixed = { CT_EX_CODE(a_to_b, "old"), CT_EX_CODE(b_to_a_fixed, "old") },
    .init = deadlock_init,
    .check = deadlock_check,
};

/* ---- lost-wakeup (closest lesson: reader-writer-locks) ----------------------- */

enum { ready };
enum { m };
enum { cv };

struct flag {
    int r;
};

/* wait until ready is 1, then go on */
static void waiter(EX_THREAD)
{
    EX_BEGIN(struct flag);
    ex_lock(m);
    ex_load(ready, &my->r);
    if (!my->r) {               /* if, not while */
        ex_wait(cv, m);
    }
    ex_load(ready, &my->r);
    ex_fail_if(!my->r, "ready was 0");
    ex_unlock(m);
    EX_END;
}

/* signal first, change the state after */
static void notifier(EX_THREAD)
{
    EX_BEGIN(struct flag);
    ex_signal(cv);              /* too early */
    ex_lock(m);
    ex_store(ready, 1);
    ex_unlock(m);
    EX_END;
}

static void waiter_fixed(EX_THREAD)
{
    EX_BEGIN(struct flag);
    ex_lock(m);
    ex_load(ready, &my->r);
    while (!my->r) {            /* check again */
        ex_wait(cv, m);
        ex_load(ready, &my->r);
    }
    ex_fail_if(!my->r, "ready was 0");
    ex_unlock(m);
    EX_END;
}

static void notifier_fixed(EX_THREAD)
{
    EX_BEGIN(struct flag);
    ex_lock(m);
    ex_store(ready, 1);         /* state first */
    ex_signal(cv);
    ex_unlock(m);
    EX_END;
}

const struct ct_ex_scenario ct_ex_sc_lost_wakeup = {
    .name = "lost-wakeup",
    .title = "A condition variable checked with if",
    .lesson = "condition-variables",
    .story = "The waiter sleeps on a condition variable until ready is 1. "
             "The notifier signals, then sets ready under the mutex.",
    .invariant = "the waiter goes on only once ready is 1, and never sleeps "
                 "forever",
    .goal = "wake the waiter too early, or make it sleep forever",
    .fix = "set ready before signalling, and re-check it in a while loop",
    .source = "sc-locks.c",
    .threads_min = 2, .threads_max = 2, .threads_def = 2,
    .iters_min = 1, .iters_max = 1, .iters_def = 1,
    .vars = "ready",
    .locks = "m",
    .conds = "cv",
    .thread_names = "waiter,notifier",
    .broken = { CT_EX_CODE(waiter, "r"), CT_EX_CODE(notifier, "") },
    .fixed = { CT_EX_CODE(waiter_fixed, "r"), CT_EX_CODE(notifier_fixed, "") },
};
