/* search.c - every schedule of a scenario, up to a preemption bound.
 *
 * The reduction is sleep sets (Godefroid, 1996).  After the search has
 * explored everything that starts with actor a at some point, a later
 * sibling b that is independent of a (they touch no common object, or
 * both only read it) need not try a right after b: "b then a" reaches the
 * very state "a then b" did, and that was explored.  So a sleeps below b
 * until some step dependent on it wakes it.  Without a bound this runs
 * exactly one schedule per class of schedules that differ only in the
 * order of independent steps (a Mazurkiewicz trace); it never misses a
 * reachable state.
 *
 * Preemption bounding (as CHESS does it) and sleep sets do not mix by
 * themselves: "a then b" may have been cut by the bound where "b then a"
 * would have fitted.  So an actor goes to sleep only if the search below
 * it finished without the bound cutting anything; otherwise its siblings
 * try it again.  That keeps the search complete within the bound at the
 * price of some repeated classes when the bound bites.
 *
 * The plain enumeration's figures (how many schedules, how many break)
 * are counted, not run: a depth-first count over states, each distinct
 * (state, preemptions so far, last thread) counted once.
 */
#include "explore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct search {
    const struct ct_ex_world *w;
    const struct ct_ex_search_opts *o;
    struct ct_ex_search_result *r;
    uint8_t path[CT_EX_MAX_STEPS];
    struct ct_ex_state stack[CT_EX_MAX_STEPS + 1];
};

static void found(struct search *S, int len, enum ct_ex_status st, const char *msg)
{
    struct ct_ex_search_result *r = S->r;
    r->violating++;
    if (st == CT_EX_DEADLOCK)
        r->deadlocks++;
    if (r->shortest == 0 || len < r->shortest) {
        r->shortest = len;
        memcpy(r->sched, S->path, (size_t)len);
        snprintf(r->message, sizeof r->message, "%s", msg);
        r->how = st;
    }
}

/* Whether the bound forbids actor a now (en: who can step in s); the
 * same rule as ct_ex_is_preemption, from the mask. */
static bool bound_refuses(const struct search *S, const struct ct_ex_state *s, uint32_t en,
                          int a)
{
    int last = s->last_thread;
    return S->o->bound >= 0 && s->preemptions >= S->o->bound && a < S->w->nthreads &&
           last >= 0 && last != a && (en & (1u << last));
}

/* Explore below stack[depth] (where en can step) with the given sleep
 * set.  True if nothing below was cut (by the bound or the length). */
static bool dfs(struct search *S, int depth, uint32_t en, uint32_t sleep)
{
    const struct ct_ex_world *w = S->w;
    const struct ct_ex_state *s = &S->stack[depth];
    struct ct_ex_search_result *r = S->r;
    if (depth >= CT_EX_MAX_STEPS) {
        r->too_long++;
        return false;
    }
    uint32_t done = 0;
    bool complete = true, any = false;
    char msg[160];
    for (int a = 0; a < w->nactors && !r->stopped; a++) {
        uint32_t bit = 1u << a;
        if (!(en & bit) || (sleep & bit))
            continue;
        if (bound_refuses(S, s, en, a)) {
            r->bound_cut++;
            complete = false;
            continue;
        }
        any = true;
        struct ct_ex_state *c = &S->stack[depth + 1];
        memcpy(c, s, sizeof *c);
        ct_ex_step(w, c, a);
        r->steps++;
        S->path[depth] = (uint8_t)a;
        uint32_t cen = ct_ex_enabled(w, c);
        enum ct_ex_status st = ct_ex_status_en(w, c, cen, msg, sizeof msg);
        bool sub = true;
        if (st == CT_EX_RUNNING) {
            uint32_t child_sleep = 0;
            if (S->o->reduce) {
                uint32_t cand = (sleep | done) & en;
                for (int u = 0; u < w->nactors; u++) {
                    if ((cand & (1u << u)) && !ct_ex_dependent(w, s, u, a))
                        child_sleep |= 1u << u;
                }
            }
            sub = dfs(S, depth + 1, cen, child_sleep);
        } else {
            r->explored++;
            if (st != CT_EX_FINISHED)
                found(S, depth + 1, st, msg);
            if ((S->o->limit && r->explored >= S->o->limit) ||
                ((r->explored & 4095) == 0 && S->o->cancel && *S->o->cancel))
                r->stopped = true;
        }
        if (sub)
            done |= bit;
        else
            complete = false;
    }
    if (!any)
        r->pruned++;
    return complete;
}

/* ---- counting the plain enumeration ---------------------------------------- */

struct memo_entry {
    uint64_t h1, h2;        /* h1 == 0: empty */
    uint64_t count, viol;
    int shortest;           /* steps to the nearest break; 0: none */
};

struct counter {
    const struct ct_ex_world *w;
    int bound;
    struct memo_entry *tab;
    size_t cap, used;
    bool overflow, too_long;
};

enum { MEMO_MAX = 1 << 21 };    /* entries; past that, give up counting */

static void hash_state(const struct counter *C, const struct ct_ex_state *s, uint64_t *h1,
                       uint64_t *h2)
{
    struct ct_ex_state k;
    memcpy(&k, s, sizeof k);
    if (C->bound < 0) {         /* without a bound the past does not matter */
        k.last_thread = -1;
        k.preemptions = 0;
    }
    /* two independent 64-bit hashes over the state's words: a wrong
     * merge needs both to collide */
    const unsigned char *p = (const unsigned char *)&k;
    uint64_t a = 1469598103934665603ull, b = 0x9e3779b97f4a7c15ull;
    _Static_assert(sizeof k % 8 == 0, "the state hashes as whole words");
    for (size_t i = 0; i < sizeof k; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        a = (a ^ x) * 0x100000001b3ull;
        a ^= a >> 32;
        b = (b + x) * 0xff51afd7ed558ccdull;
        b ^= b >> 29;
    }
    a ^= a >> 29;
    a *= 0xc4ceb9fe1a85ec53ull;
    a ^= a >> 32;
    *h1 = a | 1;    /* never 0, which marks an empty slot */
    *h2 = b;
}

static struct memo_entry *memo_slot(struct counter *C, uint64_t h1, uint64_t h2)
{
    size_t i = (size_t)(h1 ^ (h1 >> 31)) & (C->cap - 1);
    while (C->tab[i].h1 && !(C->tab[i].h1 == h1 && C->tab[i].h2 == h2))
        i = (i + 1) & (C->cap - 1);
    return &C->tab[i];
}

static int memo_grow(struct counter *C)
{
    size_t ncap = C->cap ? C->cap * 2 : 4096;
    struct memo_entry *old = C->tab;
    size_t ocap = C->cap;
    C->tab = calloc(ncap, sizeof *C->tab);
    if (!C->tab) {
        C->tab = old;
        return -ENOMEM;
    }
    C->cap = ncap;
    for (size_t i = 0; i < ocap; i++) {
        if (old[i].h1)
            *memo_slot(C, old[i].h1, old[i].h2) = old[i];
    }
    free(old);
    return 0;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

static struct memo_entry count_from(struct counter *C, const struct ct_ex_state *s, int depth)
{
    struct memo_entry e = { 0 };
    uint64_t h1, h2;
    hash_state(C, s, &h1, &h2);
    struct memo_entry *m = memo_slot(C, h1, h2);
    if (m->h1)
        return *m;
    if (depth >= CT_EX_MAX_STEPS) {
        C->too_long = true;
        return e;
    }
    const struct ct_ex_world *w = C->w;
    uint32_t en = ct_ex_enabled(w, s);
    char msg[160];
    for (int a = 0; a < w->nactors && !C->overflow; a++) {
        if (!(en & (1u << a)))
            continue;
        if (C->bound >= 0 && s->preemptions >= C->bound && ct_ex_is_preemption(w, s, a))
            continue;
        struct ct_ex_state c;
        memcpy(&c, s, sizeof c);
        ct_ex_step(w, &c, a);
        enum ct_ex_status st = ct_ex_status(w, &c, msg, sizeof msg);
        if (st != CT_EX_RUNNING) {
            e.count = sat_add(e.count, 1);
            if (st != CT_EX_FINISHED) {
                e.viol = sat_add(e.viol, 1);
                e.shortest = 1;
            }
            continue;
        }
        struct memo_entry sub = count_from(C, &c, depth + 1);
        e.count = sat_add(e.count, sub.count);
        e.viol = sat_add(e.viol, sub.viol);
        if (sub.shortest && (!e.shortest || sub.shortest + 1 < e.shortest))
            e.shortest = sub.shortest + 1;
    }
    if (C->overflow)
        return e;
    if ((C->used + 1) * 2 > C->cap) {
        if (C->cap >= MEMO_MAX || memo_grow(C) != 0) {
            C->overflow = true;
            return e;
        }
    }
    m = memo_slot(C, h1, h2);
    e.h1 = h1;
    e.h2 = h2;
    *m = e;
    C->used++;
    return e;
}

static int count_naive(const struct ct_ex_world *w, int bound, const struct ct_ex_state *start,
                       struct ct_ex_search_result *r)
{
    struct counter C = { .w = w, .bound = bound };
    if (memo_grow(&C) != 0)
        return -ENOMEM;
    struct memo_entry e = count_from(&C, start, 0);
    r->naive_states = C.used;
    free(C.tab);
    if (C.overflow)
        return 0;
    r->naive_counted = true;
    r->naive = e.count;
    r->naive_violating = e.viol;
    r->naive_shortest = e.shortest;
    if (C.too_long)
        r->too_long++;
    return 0;
}

static double now_s(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int ct_ex_search(const struct ct_ex_world *w, const struct ct_ex_search_opts *o,
                 struct ct_ex_search_result *r)
{
    memset(r, 0, sizeof *r);
    struct search *S = calloc(1, sizeof *S);
    if (!S)
        return -ENOMEM;
    S->w = w;
    S->o = o;
    S->r = r;
    ct_ex_start(w, &S->stack[0]);
    char msg[160];
    double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
    uint32_t en = ct_ex_enabled(w, &S->stack[0]);
    enum ct_ex_status st = ct_ex_status_en(w, &S->stack[0], en, msg, sizeof msg);
    if (st == CT_EX_RUNNING) {
        dfs(S, 0, en, 0);
    } else {
        r->explored = 1;
        if (st != CT_EX_FINISHED)
            found(S, 0, st, msg);
    }
    r->seconds = now_s(CLOCK_MONOTONIC) - t0;
    r->cpu_seconds = now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
    int rc = 0;
    if (o->count_naive && !r->stopped) {
        if (st == CT_EX_RUNNING) {
            rc = count_naive(w, o->bound, &S->stack[0], r);
        } else {
            r->naive_counted = true;
            r->naive = 1;
            r->naive_violating = st != CT_EX_FINISHED;
        }
    }
    free(S);
    return rc;
}
