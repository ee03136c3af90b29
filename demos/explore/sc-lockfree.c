/* sc-lockfree.c - aba: a lock-free stack (Treiber's) whose pop compares
 * the top pointer only.  While one thread is between reading the top and
 * its compare-and-swap, another pops that node, pops the next, and pushes
 * the first one back: the top is the same node again, so the stale CAS
 * succeeds and installs a node that is no longer on the stack. */
#include <stdio.h>

#include "explore.h"

/* Nodes A=1, B=2, C=3 (0 is NULL); the next field of node n is variable
 * n.  In the fixed version the top also carries a tag (top = node + 4 *
 * tag) that every successful CAS increments. */
enum { top, a_next, b_next, c_next };
#define NEXT(node) ((node) & 3)
#define NODE(word) ((word) & 3)
#define TAGGED(node, old) ((node) | (((old) & ~3) + 4))

struct pop {
    int a, n, ok;
};

/* pop one node */
static void popper(EX_THREAD)
{
    EX_BEGIN(struct pop);
    do {
        ex_load(top, &my->a);
        ex_load(NEXT(my->a), &my->n);
        ex_cas(top, my->a, my->n, &my->ok);
    } while (!my->ok);
    EX_END;
}

struct recycle {
    int a, b, n, ok;
};

/* pop A, pop B, push A back */
static void recycler(EX_THREAD)
{
    EX_BEGIN(struct recycle);
    do {                        /* pop A */
        ex_load(top, &my->a);
        ex_load(NEXT(my->a), &my->n);
        ex_cas(top, my->a, my->n, &my->ok);
    } while (!my->ok);
    do {                        /* pop B */
        ex_load(top, &my->b);
        ex_load(NEXT(my->b), &my->n);
        ex_cas(top, my->b, my->n, &my->ok);
    } while (!my->ok);
    do {                        /* push A */
        ex_load(top, &my->n);
        ex_store(NEXT(my->a), NODE(my->n));
        ex_cas(top, my->n, my->a, &my->ok);
    } while (!my->ok);
    EX_END;
}

/* the same with a tag in the top word */
static void popper_fixed(EX_THREAD)
{
    EX_BEGIN(struct pop);
    do {
        ex_load(top, &my->a);
        ex_load(NEXT(my->a), &my->n);
        ex_cas(top, my->a, TAGGED(my->n, my->a), &my->ok);
    } while (!my->ok);
    EX_END;
}

static void recycler_fixed(EX_THREAD)
{
    EX_BEGIN(struct recycle);
    do {                        /* pop A */
        ex_load(top, &my->a);
        ex_load(NEXT(my->a), &my->n);
        ex_cas(top, my->a, TAGGED(my->n, my->a), &my->ok);
    } while (!my->ok);
    do {                        /* pop B */
        ex_load(top, &my->b);
        ex_load(NEXT(my->b), &my->n);
        ex_cas(top, my->b, TAGGED(my->n, my->b), &my->ok);
    } while (!my->ok);
    do {                        /* push A */
        ex_load(top, &my->n);
        ex_store(NEXT(my->a), NODE(my->n));
        ex_cas(top, my->n, TAGGED(NODE(my->a), my->n), &my->ok);
    } while (!my->ok);
    EX_END;
}

static void aba_init(struct ct_ex_state *s, const struct ct_ex_config *cfg)
{
    (void)cfg;
    s->mem[top] = 1;        /* A -> B -> C */
    s->mem[a_next] = 2;
    s->mem[b_next] = 3;
    s->mem[c_next] = 0;
}

static const char *aba_check(const struct ct_ex_state *s, const struct ct_ex_config *cfg,
                             bool final, char *buf, size_t n)
{
    (void)cfg;
    if (!final)
        return NULL;
    static const char names[] = "-ABC";
    int where[4] = { 0 };   /* per node: on the stack + held by threads */
    int steps = 0;
    for (int node = NODE(s->mem[top]); node && steps < 4; node = NODE(s->mem[NEXT(node)]))
        where[node]++, steps++;
    where[NODE(CT_EX_LOCALS_OF(s, 0, struct pop)->a)]++;
    where[NODE(CT_EX_LOCALS_OF(s, 1, struct recycle)->b)]++;
    for (int node = 1; node <= 3; node++) {
        if (where[node] != 1) {
            snprintf(buf, n, "node %c is %s", names[node],
                     where[node] ? "both on the stack and held by a thread"
                                 : "lost: neither on the stack nor held");
            return buf;
        }
    }
    return NULL;
}

const struct ct_ex_scenario ct_ex_sc_aba = {
    .name = "aba",
    .title = "A lock-free pop with a recycled node",
    .lesson = "channel-internals",
    .story = "A stack holds A(1) -> B(2) -> C(3).  t0 pops one node with a "
             "load, a load and a compare-and-swap of the top; t1 pops A, "
             "pops B and pushes A back.",
    .invariant = "each node is on the stack or held by one thread, not both",
    .goal = "stop t0 before its cas, let t1 recycle A, then let t0 finish",
    .fix = "a tag in the top word that every cas changes",
    .source = "sc-lockfree.c",
    .threads_min = 2, .threads_max = 2, .threads_def = 2,
    .iters_min = 1, .iters_max = 1, .iters_def = 1,
    .vars = "top,A.next,B.next,C.next",
    .thread_names = "t0,t1",
    .broken = { CT_EX_CODE(popper, "a,n,ok"), CT_EX_CODE(recycler, "a,b,n,ok") },
    .fixed = { CT_EX_CODE(popper_fixed, "a,n,ok"), CT_EX_CODE(recycler_fixed, "a,b,n,ok") },
    .init = aba_init,
    .check = aba_check,
};
