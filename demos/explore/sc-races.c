/* sc-races.c - data races on plain values: lost-update, check-then-act,
 * refcount-drop.  Each broken thread is a few loads and stores that are
 * right on their own and wrong when another thread's step falls between
 * them; each fixed thread makes the critical part one step. */
#include <stdio.h>

#include "explore.h"

/* ---- lost-update (lesson intro) ------------------------------------------ */

enum { counter };

struct adder {
    int i, tmp;
};

/* counter++ as the machine does it: load, add, store */
static void adder(EX_THREAD)
{
    EX_BEGIN(struct adder);
    for (my->i = 0; my->i < ex_iters; my->i++) {
        ex_load(counter, &my->tmp);
        ex_store(counter, my->tmp + 1);
    }
    EX_END;
}

/* one atomic read-modify-write: no step can fall in between */
static void adder_fixed(EX_THREAD)
{
    EX_BEGIN(struct adder);
    for (my->i = 0; my->i < ex_iters; my->i++) {
        ex_fetch_add(counter, 1, &my->tmp);
    }
    EX_END;
}

static const char *lost_update_check(const struct ct_ex_state *s,
                                     const struct ct_ex_config *cfg, bool final,
                                     char *buf, size_t n)
{
    int want = cfg->threads * cfg->iters;
    if (!final || s->mem[counter] == want)
        return NULL;
    snprintf(buf, n, "counter is %d after %d increments: %d lost", (int)s->mem[counter],
             want, want - (int)s->mem[counter]);
    return buf;
}

const struct ct_ex_scenario ct_ex_sc_lost_update = {
    .name = "lost-update",
    .title = "Two threads, load then store",
    .lesson = "intro",
    .story = "Each thread adds 1 to a shared counter iters times (iters=N, "
             "default 1) by loading "
             "it and storing the value plus one.",
    .invariant = "at the end, counter == threads x iters",
    .goal = "make an update get lost: end with the counter too low",
    .fix = "atomic fetch_add: the load and the store become one step",
    .source = "sc-races.c",
    .threads_min = 2, .threads_max = 4, .threads_def = 2,
    .iters_min = 1, .iters_max = 6, .iters_def = 1,
    .vars = "counter",
    .broken = { CT_EX_CODE(adder, "i,tmp") },
    .fixed = { CT_EX_CODE(adder_fixed, "i,old") },
    .check = lost_update_check,
};

/* ---- check-then-act (lesson mutual-exclusion) ------------------------------- */

enum { balance };
enum { account };
#define AMOUNT 80

struct withdraw {
    int seen, old;
};

/* "if there is enough, take it": each part atomic, the pair not */
static void withdraw(EX_THREAD)
{
    EX_BEGIN(struct withdraw);
    ex_load(balance, &my->seen);
    if (my->seen >= AMOUNT) {
        ex_fetch_add(balance, -AMOUNT, &my->old);
    }
    EX_END;
}

/* the check and the act under one lock */
static void withdraw_fixed(EX_THREAD)
{
    EX_BEGIN(struct withdraw);
    ex_lock(account);
    ex_load(balance, &my->seen);
    if (my->seen >= AMOUNT) {
        ex_store(balance, my->seen - AMOUNT);
    }
    ex_unlock(account);
    EX_END;
}

static void check_then_act_init(struct ct_ex_state *s, const struct ct_ex_config *cfg)
{
    (void)cfg;
    s->mem[balance] = 100;
}

static const char *check_then_act_check(const struct ct_ex_state *s,
                                        const struct ct_ex_config *cfg, bool final,
                                        char *buf, size_t n)
{
    (void)cfg, (void)final;
    if (s->mem[balance] >= 0)
        return NULL;
    snprintf(buf, n, "balance is %d: two withdrawals passed one check", (int)s->mem[balance]);
    return buf;
}

const struct ct_ex_scenario ct_ex_sc_check_then_act = {
    .name = "check-then-act",
    .title = "A balance checked, then withdrawn",
    .lesson = "mutual-exclusion",
    .story = "The account holds 100.  Each thread checks that the balance "
             "covers 80, then withdraws 80 with an atomic fetch_add.",
    .invariant = "the balance never drops below 0",
    .goal = "get both threads past the check",
    .fix = "a mutex around the check and the withdrawal",
    .source = "sc-races.c",
    .threads_min = 2, .threads_max = 3, .threads_def = 2,
    .iters_min = 1, .iters_max = 1, .iters_def = 1,
    .vars = "balance",
    .locks = "account",
    .broken = { CT_EX_CODE(withdraw, "seen,old") },
    .fixed = { CT_EX_CODE(withdraw_fixed, "seen") },
    .init = check_then_act_init,
    .check = check_then_act_check,
};

/* ---- refcount-drop (lesson thread-safety) ------------------------------------ */

enum { refs, obj, data };

struct holder {
    int v, old, now;
};

/* drop a reference, then look again to see whether it was the last */
static void holder(EX_THREAD)
{
    EX_BEGIN(struct holder);
    ex_load(data, &my->v);              /* use the object */
    ex_fetch_add(refs, -1, &my->old);   /* drop my reference */
    ex_load(refs, &my->now);            /* then look again */
    if (my->now == 0) {
        ex_free(obj);                   /* last one frees */
    }
    EX_END;
}

/* the value fetch_add returns says who was last */
static void holder_fixed(EX_THREAD)
{
    EX_BEGIN(struct holder);
    ex_load(data, &my->v);              /* use the object */
    ex_fetch_add(refs, -1, &my->old);   /* drop my reference */
    if (my->old == 1) {                 /* I held the last one */
        ex_free(obj);
    }
    EX_END;
}

static void refcount_init(struct ct_ex_state *s, const struct ct_ex_config *cfg)
{
    s->mem[refs] = cfg->threads;
    s->mem[obj] = 1;        /* allocated */
    s->mem[data] = 7;
}

static const char *refcount_check(const struct ct_ex_state *s, const struct ct_ex_config *cfg,
                                  bool final, char *buf, size_t n)
{
    (void)cfg;
    if (!final || s->mem[obj] == 0)
        return NULL;
    snprintf(buf, n, "leak: every reference was dropped and nobody freed the object");
    return buf;
}

const struct ct_ex_scenario ct_ex_sc_refcount_drop = {
    .name = "refcount-drop",
    .title = "Decrement, then free",
    .lesson = "thread-safety",
    .story = "Each thread holds one reference to a shared object.  When done "
             "it decrements the count, reads it back, and frees the object "
             "if it read 0.",
    .invariant = "the object is freed exactly once",
    .goal = "make both threads free the object",
    .fix = "decide from the value fetch_add returns, not from a second load",
    .source = "sc-races.c",
    .threads_min = 2, .threads_max = 3, .threads_def = 2,
    .iters_min = 1, .iters_max = 1, .iters_def = 1,
    .vars = "refs,obj,data",
    .broken = { CT_EX_CODE(holder, "v,old,now") },
    .fixed = { CT_EX_CODE(holder_fixed, "v,old") },
    .init = refcount_init,
    .check = refcount_check,
};
