/* stress-test.c - demo `stress-test`: two ways to test concurrent code.
 *
 * Shows: (1) the guide's counter test: threads add to a mutex-guarded
 * counter, and the exact total is checked, round after round; a racy
 * counter beside it shows that the same test does catch lost updates.
 * (2) A property-based test of a small concurrent map: random operation
 * lists from a printed seed, spread over threads, run both freely in
 * parallel and under a seeded scheduler that picks who runs at every
 * yield point, each history checked for linearizability against a
 * sequential map.  With variant=buggy the map's remove looks the key up
 * and clears the slot in two separate critical sections; the test finds
 * a failing list, shrinks it to a minimal one and replays it slowly.
 * Watch for: the exact counter totals; "histories checked" and how many
 * were not linearizable; in the buggy variant, the shrink steps, the
 * two-operation case it ends with, and the seed that replays it.
 * Lesson: property-testing (chapter 11).
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "demo.h"
#include "backoff.h"
#include "check.h"
#include "clock.h"
#include "crew.h"
#include "wait.h"

#define MAX_THREADS 4           /* map threads */
#define MAX_KEYS 8
#define MAX_OPS 40
#define MAX_EVENTS (MAX_OPS + MAX_KEYS)
#define MAX_COUNTER_THREADS 64
#define ABSENT (-1)
#define MAIN MAX_THREADS        /* main's slot in the scheduler */

/* In shrinking order: a get is simpler than a remove, a remove than a put. */
enum kind { GET, REMOVE, PUT, NKINDS };
static const char *const kind_name[NKINDS] = { "get", "remove", "put" };

struct op {
    int thread, kind, key, value;
};

/* A test case: operations in thread order (a thread's ops in the order it
 * runs them); threads run side by side. */
struct tcase {
    int n;
    struct op op[MAX_OPS];
};

/* One operation as it ran: what it returned, and two ticks of one global
 * counter taken just before it started and just after it ended. */
struct event {
    int thread;                 /* -1: main's final read */
    int kind, key, value, result;
    uint64_t inv, res;
};

struct history {
    int n;
    struct event ev[MAX_EVENTS];
};

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* ---- the map under test ------------------------------------------------- */

/* A lock per key, and a slot per key.  Used only by the harness threads
 * and, between runs, by main (ordered by the harness mutex). */
struct map {
    pthread_mutex_t mu[MAX_KEYS];
    bool used[MAX_KEYS];        /* guarded by mu[key] */
    int value[MAX_KEYS];        /* guarded by mu[key] */
};

/* ---- the harness: threads, and a scheduler that can serialise them ------ */

struct harness;

struct mthread {
    struct harness *h;
    int id;                     /* 0-based; printed 1-based */
    struct ct_thread thread;
    uint64_t jitter;            /* free runs: its own random pauses */
    int nev;
    struct event ev[MAX_OPS];   /* this run's events, written by it alone */
};

struct harness {
    struct ct_run *run;
    int nthreads;
    bool buggy;
    double step_ms;             /* show mode: pause at every step */
    pthread_mutex_t mu;         /* guards the fields below */
    pthread_cond_t cv[MAX_THREADS + 1];     /* one per thread, and main's */
    uint64_t gen;               /* bumped for every run */
    bool quit;
    const struct tcase *tc;
    bool controlled, show;
    uint64_t rng;               /* controlled: the schedule's choices */
    int current;                /* controlled: who may run now */
    bool done[MAX_THREADS];
    int running;                /* threads not finished with this run */
    atomic_int arrived;         /* free runs: a starting line */
    atomic_ullong tick;
    struct map map;
    struct mthread t[MAX_THREADS];
};

/* With mu held: wait on `cv` for one slice.  False once cancelled. */
static bool wait_slice(struct harness *h, pthread_cond_t *cv)
{
    return ct_cond_wait_bounded(cv, &h->mu, CT_FOREVER, ct_cancel_event(h->run)) != -ECANCELED;
}

/* With mu held: give the turn to a thread the schedule picks among those
 * not finished, or back to main when all are. */
static void pass_turn(struct harness *h)
{
    int left = 0, pick = MAIN;
    for (int i = 0; i < h->nthreads; i++)
        left += !h->done[i];
    if (left > 0) {
        int r = (int)(splitmix(&h->rng) % (uint64_t)left);
        for (int i = 0; i < h->nthreads; i++)
            if (!h->done[i] && r-- == 0) {
                pick = i;
                break;
            }
    }
    h->current = pick;
    CT_PT(pthread_cond_signal(&h->cv[pick]));
}

/* With mu held: wait for this thread's turn.  False once cancelled. */
static bool await_turn(struct harness *h, int me)
{
    while (h->current != me)
        if (!wait_slice(h, &h->cv[me]))
            return false;
    return true;
}

/* A yield point, where another thread may run.  Controlled: the schedule
 * decides who runs next, and this thread waits for its turn again.  Free:
 * a short random pause, or a real yield inside the buggy remove.  False
 * once cancelled. */
static bool yield_point(struct mthread *t, bool in_window)
{
    struct harness *h = t->h;
    if (!h->controlled) {
        if (in_window)
            sched_yield();
        else
            for (int i = (int)(splitmix(&t->jitter) % 64); i > 0; i--)
                ct_cpu_relax();
        return !ct_cancelled(h->run);
    }
    CT_PT(pthread_mutex_lock(&h->mu));
    pass_turn(h);
    bool ok = await_turn(h, t->id);
    CT_PT(pthread_mutex_unlock(&h->mu));
    return ok;
}

/* Show mode: the step just done, said and drawn on the lane, with a pause
 * so the timeline can show it. */
static void narrate(struct mthread *t, const char *fmt, ...) CT_PRINTF(2, 3);
static void narrate(struct mthread *t, const char *fmt, ...)
{
    struct harness *h = t->h;
    if (!h->show)
        return;
    char line[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    ct_mark(h->run, CT_HOLD);
    ct_say(h->run, "%s", line);
    ct_sleep_ms(h->run, h->step_ms);
    ct_mark(h->run, CT_IDLE);
}

static const char *value_text(int v, char *buf, size_t n)
{
    if (v == ABSENT)
        snprintf(buf, n, "absent");
    else
        snprintf(buf, n, "%d", v);
    return buf;
}

/* remove(key) as the buggy map does it: look the key up under the lock,
 * let go (to free the old value outside the lock, say), then take the lock
 * again to clear the slot, whatever it holds by then. */
static int buggy_remove(struct mthread *t, int k, bool *ok)
{
    struct map *m = &t->h->map;
    CT_PT(pthread_mutex_lock(&m->mu[k]));
    int r = m->used[k] ? m->value[k] : ABSENT;
    CT_PT(pthread_mutex_unlock(&m->mu[k]));
    if (r == ABSENT)
        narrate(t, "remove(%d): absent; lock let go", k);
    else
        narrate(t, "remove(%d): found %d; lock let go", k, r);
    if (t->h->show)
        ct_mark(t->h->run, CT_WAIT);
    *ok = yield_point(t, true);
    CT_PT(pthread_mutex_lock(&m->mu[k]));
    m->used[k] = false;
    CT_PT(pthread_mutex_unlock(&m->mu[k]));
    narrate(t, "remove(%d): slot cleared", k);
    return r;
}

/* Run one operation on the map; returns what it returned. */
static int apply(struct mthread *t, const struct op *o, bool *ok)
{
    struct map *m = &t->h->map;
    int k = o->key, r;
    if (o->kind == REMOVE && t->h->buggy)
        return buggy_remove(t, k, ok);
    CT_PT(pthread_mutex_lock(&m->mu[k]));
    r = m->used[k] ? m->value[k] : ABSENT;
    if (o->kind == PUT) {
        m->used[k] = true;
        m->value[k] = o->value;
    } else if (o->kind == REMOVE) {
        m->used[k] = false;
    }
    CT_PT(pthread_mutex_unlock(&m->mu[k]));
    char was[16];
    if (o->kind == PUT)
        narrate(t, "put(%d, %d): stored; was %s", k, o->value, value_text(r, was, sizeof was));
    else
        narrate(t, "%s(%d) done", kind_name[o->kind], k);
    return r;
}

/* This thread's share of the case, one yield point before each op. */
static void run_ops(struct mthread *t)
{
    struct harness *h = t->h;
    const struct tcase *tc = h->tc;
    t->nev = 0;
    bool ok = true;
    for (int i = 0; i < tc->n && ok; i++) {
        const struct op *o = &tc->op[i];
        if (o->thread != t->id)
            continue;
        if (!(ok = yield_point(t, false)))
            break;
        struct event *e = &t->ev[t->nev++];
        *e = (struct event){ .thread = t->id, .kind = o->kind, .key = o->key,
                             .value = o->kind == PUT ? o->value : 0 };
        e->inv = atomic_fetch_add(&h->tick, 1);
        e->result = apply(t, o, &ok);
        e->res = atomic_fetch_add(&h->tick, 1);
    }
}

static void *harness_main(void *arg)
{
    struct mthread *t = arg;
    struct harness *h = t->h;
    uint64_t seen = 0;
    CT_PT(pthread_mutex_lock(&h->mu));
    for (;;) {
        while (h->gen == seen && !h->quit)
            if (!wait_slice(h, &h->cv[t->id]))
                goto out;
        if (h->quit)
            break;
        seen = h->gen;
        bool ok = h->controlled ? await_turn(h, t->id) : true;
        CT_PT(pthread_mutex_unlock(&h->mu));
        if (ok && !h->controlled) {
            /* free runs: everyone at the line before anyone starts */
            atomic_fetch_add(&h->arrived, 1);
            while (atomic_load(&h->arrived) < h->nthreads && !ct_cancelled(h->run))
                sched_yield();
        }
        if (ok)
            run_ops(t);
        CT_PT(pthread_mutex_lock(&h->mu));
        h->done[t->id] = true;
        if (--h->running == 0)
            CT_PT(pthread_cond_signal(&h->cv[MAIN]));
        if (h->controlled && h->running > 0)
            pass_turn(h);
    }
out:
    CT_PT(pthread_mutex_unlock(&h->mu));
    return NULL;
}

/* Run `tc` once: free, or controlled by the schedule seeded with `sched`.
 * Fills `hist` (main's final reads last).  0 or -ECANCELED. */
static int run_case(struct harness *h, const struct tcase *tc, bool controlled, uint64_t sched,
                    struct history *hist)
{
    for (int k = 0; k < MAX_KEYS; k++)
        h->map.used[k] = false;     /* the threads are idle: see harness_main */
    CT_PT(pthread_mutex_lock(&h->mu));
    h->tc = tc;
    h->controlled = controlled;
    h->rng = sched;
    h->running = h->nthreads;
    for (int i = 0; i < h->nthreads; i++)
        h->done[i] = false;
    atomic_store(&h->arrived, 0);
    atomic_store(&h->tick, 0);
    h->gen++;
    h->current = MAIN;
    for (int i = 0; i < h->nthreads; i++)
        CT_PT(pthread_cond_signal(&h->cv[i]));
    if (controlled)
        pass_turn(h);
    bool ok = true;
    while (h->running > 0 && ok)
        ok = wait_slice(h, &h->cv[MAIN]);
    CT_PT(pthread_mutex_unlock(&h->mu));
    if (!ok)
        return -ECANCELED;
    hist->n = 0;
    for (int i = 0; i < h->nthreads; i++)
        for (int e = 0; e < h->t[i].nev; e++)
            hist->ev[hist->n++] = h->t[i].ev[e];
    /* the final state, read when nothing else runs */
    bool seen[MAX_KEYS] = { false };
    for (int i = 0; i < tc->n; i++)
        seen[tc->op[i].key] = true;
    for (int k = 0; k < MAX_KEYS; k++) {
        if (!seen[k])
            continue;
        struct event *e = &hist->ev[hist->n++];
        *e = (struct event){ .thread = -1, .kind = GET, .key = k };
        e->inv = atomic_fetch_add(&h->tick, 1);
        e->result = h->map.used[k] ? h->map.value[k] : ABSENT;
        e->res = atomic_fetch_add(&h->tick, 1);
    }
    return 0;
}

/* ---- linearizability ------------------------------------------------------ */

/* The events of one key, and the (done-set, value) pairs already known to
 * lead nowhere. */
struct lin {
    int n;
    const struct event *ev[MAX_EVENTS];
    uint64_t memo_mask[4096];
    int memo_state[4096];
    bool memo_used[4096];
};

static size_t memo_slot(uint64_t mask, int state)
{
    uint64_t x = mask * 0x9e3779b97f4a7c15u ^ (uint64_t)(state + 2) * 0xff51afd7ed558ccdu;
    return (size_t)(x >> 52);
}

static bool memo_has(struct lin *l, uint64_t mask, int state)
{
    for (size_t i = memo_slot(mask, state), k = 0; k < 4096; i = (i + 1) & 4095, k++) {
        if (!l->memo_used[i])
            return false;
        if (l->memo_mask[i] == mask && l->memo_state[i] == state)
            return true;
    }
    return false;
}

static void memo_add(struct lin *l, uint64_t mask, int state)
{
    for (size_t i = memo_slot(mask, state), k = 0; k < 4096; i = (i + 1) & 4095, k++) {
        if (!l->memo_used[i]) {
            l->memo_used[i] = true;
            l->memo_mask[i] = mask;
            l->memo_state[i] = state;
            return;
        }
    }
}

/* Can the events not in `done` be put in an order that respects real time
 * (an event that ended before another began comes first) and in which each
 * returns what a sequential map holding `state` would return? */
static bool linearize(struct lin *l, uint64_t done, int state)
{
    if (done == (UINT64_C(1) << l->n) - 1)
        return true;
    if (memo_has(l, done, state))
        return false;
    uint64_t first_end = UINT64_MAX;
    for (int i = 0; i < l->n; i++)
        if (!(done >> i & 1) && l->ev[i]->res < first_end)
            first_end = l->ev[i]->res;
    for (int i = 0; i < l->n; i++) {
        const struct event *e = l->ev[i];
        /* only an event that began before every pending one ended */
        if ((done >> i & 1) || e->inv > first_end || e->result != state)
            continue;
        int next = e->kind == PUT ? e->value : e->kind == REMOVE ? ABSENT : state;
        if (linearize(l, done | UINT64_C(1) << i, next))
            return true;
    }
    memo_add(l, done, state);
    return false;
}

/* Every key's events linearizable (keys are independent: a map is
 * linearizable when each key's history is).  Returns the first key that
 * is not, or -1. */
static int check_history(const struct history *hist, struct lin *l)
{
    for (int k = 0; k < MAX_KEYS; k++) {
        memset(l, 0, sizeof *l);
        for (int i = 0; i < hist->n; i++)
            if (hist->ev[i].key == k)
                l->ev[l->n++] = &hist->ev[i];
        if (l->n > 0 && !linearize(l, 0, ABSENT))
            return k;
    }
    return -1;
}

/* ---- cases: generate, order, shrink ------------------------------------- */

struct pconfig {
    int cases, max_ops, threads, keys, schedules;
    uint64_t seed;
};

/* Stable sort by thread: keeps each thread's own order. */
static void sort_by_thread(struct tcase *tc)
{
    for (int i = 1; i < tc->n; i++) {
        struct op x = tc->op[i];
        int j = i;
        for (; j > 0 && tc->op[j - 1].thread > x.thread; j--)
            tc->op[j] = tc->op[j - 1];
        tc->op[j] = x;
    }
}

static void generate(const struct pconfig *c, uint64_t case_seed, struct tcase *tc)
{
    uint64_t s = case_seed;
    tc->n = 1 + (int)(splitmix(&s) % (uint64_t)c->max_ops);
    for (int i = 0; i < tc->n; i++)
        tc->op[i] = (struct op){ .thread = (int)(splitmix(&s) % (uint64_t)c->threads),
                                 .kind = (int)(splitmix(&s) % NKINDS),
                                 .key = (int)(splitmix(&s) % (uint64_t)c->keys),
                                 .value = 1 + (int)(splitmix(&s) % 9) };
    sort_by_thread(tc);
}

/* Fewer ops first, then smaller (thread, kind, key, value) tuples. */
static int compare(const struct tcase *a, const struct tcase *b)
{
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    for (int i = 0; i < a->n; i++) {
        const struct op *x = &a->op[i], *y = &b->op[i];
        int d = x->thread != y->thread ? x->thread - y->thread
                : x->kind != y->kind   ? x->kind - y->kind
                : x->key != y->key     ? x->key - y->key
                                       : (x->kind == PUT ? x->value : 0) -
                                             (y->kind == PUT ? y->value : 0);
        if (d)
            return d < 0 ? -1 : 1;
    }
    return 0;
}

static uint64_t schedule_seed(int s)
{
    uint64_t x = 0x5eed0000u + (uint64_t)s;
    return splitmix(&x);
}

struct tester {
    struct harness *h;
    struct pconfig cfg;
    struct history hist;
    struct lin lin;
    long runs, free_runs, controlled_runs, free_failed;
};

/* Does `tc` fail under one of the schedules?  The first that makes it
 * fail, -1 if none does, or -ECANCELED (as -2). */
static int fails(struct tester *ts, const struct tcase *tc)
{
    for (int s = 0; s < ts->cfg.schedules; s++) {
        if (run_case(ts->h, tc, true, schedule_seed(s), &ts->hist) != 0)
            return -2;
        ts->runs++;
        ts->controlled_runs++;
        if (check_history(&ts->hist, &ts->lin) >= 0)
            return s;
    }
    return -1;
}

/* The simpler neighbours of `b`, most promising first: drop runs of ops
 * (halves, quarters, ... single ops), then make one op simpler (an easier
 * kind, key 0, value 1, an earlier thread), then swap the names of two
 * threads or of two keys.
 * Returns how many went into `out` (room for `max`). */
static int neighbours(const struct tcase *b, struct tcase *out, int max)
{
    int n = 0;
    for (int size = b->n / 2 > 0 ? b->n / 2 : 1; size >= 1 && n < max; size /= 2) {
        for (int i = 0; i + size <= b->n && n < max; i++) {
            struct tcase *c = &out[n++];
            c->n = 0;
            for (int j = 0; j < b->n; j++)
                if (j < i || j >= i + size)
                    c->op[c->n++] = b->op[j];
        }
        if (size == 1)
            break;
    }
    for (int i = 0; i < b->n && n + 16 < max; i++) {
        const struct op *o = &b->op[i];
        for (int k = 0; k < o->kind; k++)
            out[n] = *b, out[n++].op[i].kind = k;
        for (int k = 0; k < o->key && k < 2; k++)
            out[n] = *b, out[n++].op[i].key = k;
        if (o->kind == PUT && o->value != 1)
            out[n] = *b, out[n++].op[i].value = 1;
        for (int t = 0; t < o->thread; t++) {
            out[n] = *b;
            out[n].op[i].thread = t;
            sort_by_thread(&out[n++]);
        }
    }
    for (int x = 0; x < MAX_THREADS && n < max; x++)
        for (int y = x + 1; y < MAX_THREADS && n < max; y++) {
            out[n] = *b;
            for (int i = 0; i < b->n; i++) {
                int *t = &out[n].op[i].thread;
                *t = *t == x ? y : *t == y ? x : *t;
            }
            sort_by_thread(&out[n++]);
        }
    for (int x = 0; x < MAX_KEYS && n < max; x++)
        for (int y = x + 1; y < MAX_KEYS && n < max; y++) {
            out[n] = *b;
            for (int i = 0; i < b->n; i++) {
                int *k = &out[n].op[i].key;
                *k = *k == x ? y : *k == y ? x : *k;
            }
            n++;
        }
    return n;
}

#define MAX_NEIGHBOURS (MAX_OPS * 2 + MAX_OPS * 16 + 64)

/* One op in words: "put(0, 1)". */
static void op_text(const struct op *o, char *buf, size_t n)
{
    if (o->kind == PUT)
        snprintf(buf, n, "put(%d, %d)", o->key, o->value);
    else
        snprintf(buf, n, "%s(%d)", kind_name[o->kind], o->key);
}

/* A case in words: "map-1: remove(0); map-2: put(0, 1)". */
static void case_text(const struct tcase *tc, char *buf, size_t n)
{
    size_t off = 0;
    buf[0] = 0;
    for (int i = 0; i < tc->n && off < n; i++) {
        char one[32];
        op_text(&tc->op[i], one, sizeof one);
        if (i == 0 || tc->op[i - 1].thread != tc->op[i].thread)
            off += (size_t)snprintf(buf + off, n - off, "%smap-%d: %s", i ? "; " : "",
                                    tc->op[i].thread + 1, one);
        else
            off += (size_t)snprintf(buf + off, n - off, " %s", one);
    }
}

struct shrunk {
    struct tcase best;
    int schedule;
    int steps;
    long tried;
};

/* Greedy shrinking: take the first simpler neighbour that still fails,
 * until none does.  0, or -ECANCELED. */
static int shrink(struct tester *ts, struct shrunk *s)
{
    struct tcase *cand = malloc(MAX_NEIGHBOURS * sizeof *cand);
    if (!cand)
        return -ENOMEM;
    for (bool moved = true; moved;) {
        moved = false;
        int n = neighbours(&s->best, cand, MAX_NEIGHBOURS);
        for (int i = 0; i < n && !moved; i++) {
            if (compare(&cand[i], &s->best) >= 0)
                continue;
            s->tried++;
            int f = fails(ts, &cand[i]);
            if (f == -2) {
                free(cand);
                return -ECANCELED;
            }
            if (f >= 0) {
                s->best = cand[i];
                s->schedule = f;
                s->steps++;
                moved = true;
                if (s->best.n <= 3 || s->steps % 4 == 1) {
                    char text[160];
                    case_text(&s->best, text, sizeof text);
                    ct_say(ts->h->run, "%d op%s: %s", s->best.n, s->best.n == 1 ? "" : "s",
                           text);
                }
            }
        }
    }
    free(cand);
    return 0;
}

/* ---- the search --------------------------------------------------------- */

struct found {
    bool any;
    int index;                  /* 1-based */
    int cases_run;
    struct tcase original;
};

/* Generate and run the cases until one fails.  0 or -ECANCELED. */
static int search(struct tester *ts, struct found *f, struct shrunk *s)
{
    struct ct_run *run = ts->h->run;
    struct tcase tc;
    for (int i = 0; i < ts->cfg.cases; i++) {
        uint64_t x = ts->cfg.seed * 1000003u + (uint64_t)i;
        generate(&ts->cfg, splitmix(&x), &tc);
        /* once in parallel for real, with nothing but luck to interleave */
        if (run_case(ts->h, &tc, false, 0, &ts->hist) != 0)
            return -ECANCELED;
        ts->runs++;
        ts->free_runs++;
        ts->free_failed += check_history(&ts->hist, &ts->lin) >= 0;
        /* then under each schedule */
        int sch = fails(ts, &tc);
        f->cases_run = i + 1;
        if (sch == -2)
            return -ECANCELED;
        if (sch >= 0) {
            f->any = true;
            f->index = i + 1;
            f->original = tc;
            s->best = tc;
            s->schedule = sch;
            ct_say(run, "case %d (%d ops) failed under schedule %d", i + 1, tc.n, sch);
            return 0;
        }
        if ((i + 1) % 25 == 0 || i + 1 == ts->cfg.cases)
            ct_say(run, "%d cases, %ld histories: all linearizable", i + 1, ts->runs);
    }
    return 0;
}

/* ---- the counter test --------------------------------------------------- */

struct counter {
    pthread_mutex_t mu;
    long long value;            /* guarded by mu */
    atomic_llong racy;          /* relaxed load, then store: loses updates */
    bool locked;
    long long iters;
};

struct cworker {
    struct ct_member m;         /* first: the crew starts it */
    struct counter *c;
};

static void *count_up(void *arg)
{
    struct cworker *w = arg;
    struct counter *c = w->c;
    if (!ct_member_begin(&w->m))
        return NULL;
    for (long long i = 0; i < c->iters; i++) {
        if (c->locked) {
            CT_PT(pthread_mutex_lock(&c->mu));
            c->value++;
            CT_PT(pthread_mutex_unlock(&c->mu));
        } else {
            long long v = atomic_load_explicit(&c->racy, memory_order_relaxed);
            atomic_store_explicit(&c->racy, v + 1, memory_order_relaxed);
        }
    }
    ct_member_end(&w->m);
    return NULL;
}

struct counter_result {
    int rounds, threads;
    long long iters;
    int exact[2];               /* rounds that ended exact: [racy, locked] */
    long long lost[2];
};

static int counter_test(struct ct_run *run, struct counter_result *r)
{
    struct cworker *w = calloc(MAX_COUNTER_THREADS, sizeof *w);
    if (!w)
        return -ENOMEM;
    struct counter c = { .iters = r->iters };
    CT_PT(pthread_mutex_init(&c.mu, NULL));
    int rc = 0;
    for (int locked = 1; locked >= 0 && rc == 0; locked--) {
        c.locked = locked;
        for (int round = 0; round < r->rounds && rc == 0; round++) {
            c.value = 0;
            atomic_store(&c.racy, 0);
            for (int i = 0; i < r->threads; i++)
                w[i].c = &c;
            double ms;
            rc = ct_crew_run(run, w, sizeof w[0], r->threads, count_up,
                             locked ? "count" : "racy", &ms);
            if (rc == 0 && ct_cancelled(run))
                rc = -ECANCELED;
            long long got = locked ? c.value : atomic_load(&c.racy);
            r->exact[locked] += got == r->iters * r->threads;
            r->lost[locked] += r->iters * r->threads - got;
        }
        if (rc == 0)
            ct_say(run, "%s: %d of %d rounds exact, %lld lost", locked ? "mutex" : "racy",
                   r->exact[locked], r->rounds, r->lost[locked]);
    }
    CT_PT(pthread_mutex_destroy(&c.mu));
    free(w);
    return rc;
}

/* ---- the slow replay ---------------------------------------------------- */

struct replay_result {
    bool failed_again;
    int bad_key;
    struct history hist;        /* in the order things happened */
};

static int by_inv(const void *a, const void *b)
{
    const struct event *x = a, *y = b;
    return (x->inv > y->inv) - (x->inv < y->inv);
}

/* Run the minimal case once more under its schedule, a step at a time,
 * with every step said and drawn. */
static int replay(struct tester *ts, const struct shrunk *s, struct replay_result *rr)
{
    struct harness *h = ts->h;
    struct ct_run *run = h->run;
    ct_section(run, "the minimal case again, under schedule %d, slowly", s->schedule);
    h->show = true;
    int rc = run_case(h, &s->best, true, schedule_seed(s->schedule), &rr->hist);
    h->show = false;
    if (rc)
        return rc;
    rr->bad_key = check_history(&rr->hist, &ts->lin);
    rr->failed_again = rr->bad_key >= 0;
    char v[16];
    for (int i = 0; i < rr->hist.n; i++) {
        const struct event *e = &rr->hist.ev[i];
        if (e->thread >= 0)
            continue;
        ct_mark(run, CT_HOLD);
        ct_say(run, "final get(%d) -> %s", e->key, value_text(e->result, v, sizeof v));
        ct_sleep_ms(run, h->step_ms);
        ct_mark(run, CT_IDLE);
    }
    if (rr->failed_again)
        ct_say(run, "no sequential order of these %d results fits", rr->hist.n);
    qsort(rr->hist.ev, (size_t)rr->hist.n, sizeof rr->hist.ev[0], by_inv);
    return 0;
}

/* ---- the result and the report ----------------------------------------- */

struct st_result {
    struct counter_result counter;
    struct pconfig pcfg;
    bool buggy;
    long runs, free_runs, controlled_runs, free_failed;
    struct found found;
    struct shrunk shrunk;
    struct replay_result replay;
    char again[160];            /* the command that replays this run */
};

static void report_counter(struct ct_run *run, const struct st_result *r)
{
    const struct counter_result *c = &r->counter;
    static const char *const cols[] = { "counter", "rounds", "exact", "lost", NULL };
    struct ct_table *t = ct_table_new(run, "counter", "counter test", cols);
    for (int locked = 1; locked >= 0; locked--)
        ct_table_row(t, CT_TEXT(locked ? "mutex" : "racy"), CT_INT(c->rounds),
                     CT_INT(c->exact[locked]), CT_INT(c->lost[locked]));
    ct_check(run, c->exact[1] == c->rounds,
             "mutex counter: %d of %d rounds ended at exactly %lld", c->exact[1], c->rounds,
             c->iters * c->threads);
    if (c->exact[0] < c->rounds)
        ct_takeaway(run,
                    "Counter: every round of the locked counter ended at exactly %lld. The "
                    "same test caught the racy counter in %d of %d rounds (%lld updates "
                    "lost): a race shows only when it happens during the test, so run many "
                    "rounds, and run them under ThreadSanitizer too.",
                    c->iters * c->threads, c->rounds - c->exact[0], c->rounds, c->lost[0]);
    else if (c->threads == 1)
        ct_takeaway(run,
                    "Counter: every round of both counters ended at exactly %lld. With one "
                    "thread there is no race for the test to catch; give counter-threads=2 "
                    "or more.",
                    c->iters * c->threads);
    else
        ct_takeaway(run,
                    "Counter: every round of the locked counter ended at exactly %lld, and "
                    "this time so did every round of the racy one: no update happened to be "
                    "lost. A passing run proves little; more rounds, more threads, or "
                    "ThreadSanitizer (which flags the race whenever both sides run) would "
                    "catch it.",
                    c->iters * c->threads);
}

static void report_minimal(struct ct_run *run, const struct st_result *r)
{
    static const char *const cols[] = { "step", "thread", "op", "returned", NULL };
    struct ct_table *t = ct_table_new(run, "minimal", "the minimal case, as replayed", cols);
    const struct history *hist = &r->replay.hist;
    for (int i = 0; i < hist->n; i++) {
        const struct event *e = &hist->ev[i];
        struct op o = { e->thread, e->kind, e->key, e->value };
        char who[16], what[32], ret[16];
        if (e->thread >= 0)
            snprintf(who, sizeof who, "map-%d", e->thread + 1);
        else
            snprintf(who, sizeof who, "final");
        op_text(&o, what, sizeof what);
        ct_table_row(t, CT_INT(i + 1), CT_TEXT(who), CT_TEXT(what),
                     CT_TEXT(value_text(e->result, ret, sizeof ret)));
    }
    char text[160];
    case_text(&r->shrunk.best, text, sizeof text);
    ct_result_int(run, "case", "failing case found", r->found.index, NULL);
    ct_result_int(run, "original_ops", "its operations", r->found.original.n, NULL);
    ct_result_int(run, "minimal_ops", "operations after shrinking", r->shrunk.best.n, NULL);
    ct_result_int(run, "shrink_steps", "shrink steps kept", r->shrunk.steps, NULL);
    ct_result_int(run, "shrink_tried", "simpler cases tried", r->shrunk.tried, NULL);
    ct_result_int(run, "schedule", "schedule that fails it", r->shrunk.schedule, NULL);
    ct_result_text(run, "minimal", "minimal case", text);
}

static void report_property(struct ct_run *run, const struct st_result *r)
{
    ct_result_int(run, "seed", "seed", (long long)r->pcfg.seed, NULL);
    ct_result_int(run, "cases", "cases run", r->found.cases_run, NULL);
    ct_result_int(run, "histories", "histories checked", r->runs, NULL);
    ct_result_int(run, "free_runs", "of them free, in parallel", r->free_runs, NULL);
    ct_result_int(run, "free_failed", "free ones not linearizable", r->free_failed, NULL);
    ct_result_text(run, "again", "to run it again", r->again);
    if (!r->buggy) {
        ct_check(run, r->free_failed == 0 && !r->found.any,
                 "all %ld histories of %d cases linearizable", r->runs, r->found.cases_run);
        ct_takeaway(run,
                    "Map: %d random cases, each run once in parallel and under %d "
                    "schedules: %ld histories, all linearizable. seed=%" PRIu64 " replays "
                    "the same cases; variant=buggy plants a bug to find.",
                    r->found.cases_run, r->pcfg.schedules, r->runs, r->pcfg.seed);
        return;
    }
    /* Missing the bug is an outcome of the search, not a fault of the
     * demo: with few or short cases it can happen, and it is the lesson */
    if (!r->found.any && r->free_failed > 0) {
        ct_takeaway(run,
                    "Map: %ld of %ld free parallel runs gave a history no sequential map "
                    "explains, but no schedule of their cases (%d each) failed again, so "
                    "there is nothing to replay or shrink: a failure seen by luck of timing "
                    "alone. More schedules= make a replayable find likelier.",
                    r->free_failed, r->free_runs, r->pcfg.schedules);
        return;
    }
    if (!r->found.any) {
        ct_takeaway(run,
                    "Map: the bug is planted, yet %d case%s under %d schedule%s each (%ld "
                    "histories) never showed it. A passing property test is evidence, not "
                    "proof; more cases=, max-ops= or schedules= make a find likelier.",
                    r->found.cases_run, r->found.cases_run == 1 ? "" : "s",
                    r->pcfg.schedules, r->pcfg.schedules == 1 ? "" : "s", r->runs);
        return;
    }
    report_minimal(run, r);
    ct_check(run, r->replay.failed_again, "replayed under schedule %d, it failed again",
             r->shrunk.schedule);
    char text[160];
    case_text(&r->shrunk.best, text, sizeof text);
    ct_takeaway(run,
                "Map: case %d (%d ops) gave a history no sequential map explains. "
                "Shrinking tried %ld simpler cases, kept %d, and ended at %d: %s. The put "
                "lands between the remove's look-up and its clear, and is wiped out. "
                "Every access held a lock, so ThreadSanitizer has nothing to report: "
                "this is an atomicity bug, not a data race.",
                r->found.index, r->found.original.n, r->shrunk.tried, r->shrunk.steps,
                r->shrunk.best.n, text);
    if (r->free_failed > 0)
        ct_takeaway(run,
                    "The free parallel runs caught it in %ld of %ld histories, by luck of "
                    "timing; the scheduler makes the interleaving part of the input, so the "
                    "same seed finds, shrinks and replays the same case: %s",
                    r->free_failed, r->free_runs, r->again);
    else
        ct_takeaway(run,
                    "The free parallel runs never caught it (0 of %ld histories): that takes "
                    "luck of timing. The scheduler makes the interleaving part of the input, "
                    "so the same seed finds, shrinks and replays the same case: %s",
                    r->free_runs, r->again);
}

/* ---- the run ----------------------------------------------------------- */

static int harness_open(struct ct_run *run, struct harness *h, int nthreads, bool buggy)
{
    h->run = run;
    h->nthreads = nthreads;
    h->buggy = buggy;
    h->step_ms = ct_param_num(run, "step");
    atomic_init(&h->arrived, 0);
    atomic_init(&h->tick, 0);
    CT_PT(pthread_mutex_init(&h->mu, NULL));
    for (int k = 0; k < MAX_KEYS; k++)
        CT_PT(pthread_mutex_init(&h->map.mu[k], NULL));
    int rc = 0, i = 0;
    for (; i <= MAX_THREADS && rc == 0; i++)
        rc = ct_cond_init_monotonic(&h->cv[i]);
    for (int k = 0; rc == 0 && k < nthreads; k++) {
        struct mthread *t = &h->t[k];
        *t = (struct mthread){ .h = h, .id = k, .jitter = 77u + (uint64_t)k };
        rc = ct_thread_start(run, &t->thread, harness_main, t, "map-%d", k + 1);
    }
    return rc;
}

static void harness_close(struct harness *h)
{
    CT_PT(pthread_mutex_lock(&h->mu));
    h->quit = true;
    for (int i = 0; i <= MAX_THREADS; i++)
        CT_PT(pthread_cond_signal(&h->cv[i]));
    CT_PT(pthread_mutex_unlock(&h->mu));
    for (int k = 0; k < h->nthreads; k++)
        if (h->t[k].thread.live)
            ct_thread_join(&h->t[k].thread, NULL);
    for (int i = 0; i <= MAX_THREADS; i++)
        CT_PT(pthread_cond_destroy(&h->cv[i]));
    for (int k = 0; k < MAX_KEYS; k++)
        CT_PT(pthread_mutex_destroy(&h->map.mu[k]));
    CT_PT(pthread_mutex_destroy(&h->mu));
}

/* The command that repeats this run: the seed, and whatever differs from
 * the defaults. */
static void again_text(struct ct_run *run, const struct pconfig *c, char *buf, size_t n)
{
    int off = snprintf(buf, n, "run stress-test variant=%s seed=%" PRIu64,
                       ct_param_choice(run, "variant"), c->seed);
    const struct { const char *name; int value, def; } p[] = {
        { "cases", c->cases, 100 }, { "max-ops", c->max_ops, 10 },
        { "threads", c->threads, 3 }, { "keys", c->keys, 3 },
        { "schedules", c->schedules, 32 },
    };
    for (size_t i = 0; i < sizeof p / sizeof p[0] && off > 0 && (size_t)off < n; i++)
        if (p[i].value != p[i].def)
            off += snprintf(buf + off, n - (size_t)off, " %s=%d", p[i].name, p[i].value);
}

static void read_config(struct ct_run *run, struct st_result *r)
{
    r->buggy = strcmp(ct_param_choice(run, "variant"), "buggy") == 0;
    r->counter = (struct counter_result){ .rounds = (int)ct_param_int(run, "rounds"),
                                          .threads = (int)ct_param_int(run, "counter-threads"),
                                          .iters = ct_param_int(run, "increments") };
    r->pcfg = (struct pconfig){ .cases = (int)ct_param_int(run, "cases"),
                                .max_ops = (int)ct_param_int(run, "max-ops"),
                                .threads = (int)ct_param_int(run, "threads"),
                                .keys = (int)ct_param_int(run, "keys"),
                                .schedules = (int)ct_param_int(run, "schedules"),
                                .seed = (uint64_t)ct_param_int(run, "seed") };
    if (r->pcfg.seed == 0)      /* a fresh one, printed so it can be given back */
        r->pcfg.seed = 1 + (uint64_t)(ct_clock_ns() ^ (int64_t)time(NULL)) % 999999999u;
    again_text(run, &r->pcfg, r->again, sizeof r->again);
}

/* The map part: search, and in the buggy variant shrink and replay. */
static int property_test(struct ct_run *run, struct tester *ts, struct st_result *r)
{
    ct_section(run, "property test of a %s map: seed %" PRIu64, r->buggy ? "buggy" : "correct",
               r->pcfg.seed);
    int rc = search(ts, &r->found, &r->shrunk);
    if (rc == 0 && r->found.any) {
        ct_section(run, "shrinking the %d-op case", r->found.original.n);
        rc = shrink(ts, &r->shrunk);
        if (rc == 0)
            rc = replay(ts, &r->shrunk, &r->replay);
    }
    r->runs = ts->runs;
    r->free_runs = ts->free_runs;
    r->controlled_runs = ts->controlled_runs;
    r->free_failed = ts->free_failed;
    return rc;
}

static int stress_run(struct ct_run *run)
{
    struct st_result *r = calloc(1, sizeof *r);
    struct harness *h = calloc(1, sizeof *h);
    struct tester *ts = calloc(1, sizeof *ts);
    if (!r || !h || !ts) {
        free(r), free(h), free(ts);
        return -ENOMEM;
    }
    read_config(run, r);
    ct_legend(run, CT_HOLD, "inside the map, lock held");
    ct_legend(run, CT_WAIT, "mid-remove, lock let go");
    /* the map threads first, so that their timeline lanes exist */
    int rc = harness_open(run, h, r->pcfg.threads, r->buggy);
    *ts = (struct tester){ .h = h, .cfg = r->pcfg };
    if (rc == 0) {
        ct_section(run, "counter test: %d threads x %lld increments, %d rounds",
                   r->counter.threads, r->counter.iters, r->counter.rounds);
        rc = counter_test(run, &r->counter);
    }
    if (rc == 0)
        rc = property_test(run, ts, r);
    harness_close(h);
    if (rc == -ECANCELED || ct_cancelled(run))
        rc = 0;                 /* the runner reports the cancel */
    else if (rc == 0) {
        report_counter(run, r);
        report_property(run, r);
    }
    free(r), free(h), free(ts);
    return rc;
}

static const struct ct_param_spec stress_params[] = {
    { "variant", CT_PARAM_CHOICE, "correct", 0, 0, "correct,buggy",
      "the map under test: correct, or with a planted bug" },
    { "seed", CT_PARAM_INT, "0", 0, 2147483647, NULL,
      "seed of the random cases (0: a fresh one, printed)" },
    { "cases", CT_PARAM_INT, "100", 1, 100000, NULL, "random operation lists to try" },
    { "max-ops", CT_PARAM_INT, "10", 1, MAX_OPS, NULL, "most operations in one list" },
    { "threads", CT_PARAM_INT, "3", 2, MAX_THREADS, NULL, "threads sharing the map" },
    { "keys", CT_PARAM_INT, "3", 1, MAX_KEYS, NULL, "distinct keys the lists use" },
    { "schedules", CT_PARAM_INT, "32", 1, 1024, NULL, "schedules each list is run under" },
    { "step", CT_PARAM_NUM, "40", 0, 10000, NULL, "ms per step of the slow replay" },
    { "counter-threads", CT_PARAM_INT, "10", 1, MAX_COUNTER_THREADS, NULL,
      "threads of the counter test" },
    { "increments", CT_PARAM_INT, "1000", 1, 10000000, NULL, "increments per thread" },
    { "rounds", CT_PARAM_INT, "20", 1, 10000, NULL, "rounds of the counter test" },
    CT_PARAMS_END,
};

/* The planted bug needs a put and a remove of one key in two threads: a
 * list of one operation can never show it. */
static int stress_check(const struct ct_run *run, char *err, size_t errlen)
{
    if (strcmp(ct_param_choice(run, "variant"), "buggy") == 0 &&
        ct_param_int(run, "max-ops") < 2) {
        snprintf(err, errlen, "variant=buggy needs max-ops=2 or more: the planted bug shows "
                 "only when a put and a remove run in two threads");
        return -EINVAL;
    }
    return 0;
}

const struct ct_demo ct_demo_stress_test = {
    .name = "stress-test",
    .chapter = 11,
    .title = "Stress tests and property tests of concurrent code",
    .summary = "Exact counts over many rounds; random op lists checked for linearizability",
    .intro = "First the guide's test: threads bump a locked counter and the total must be "
             "exact, round after round. Then a property test: random operation lists on a "
             "small concurrent map, run in parallel and under a seeded scheduler, each "
             "history checked against a sequential map. Try variant=buggy to watch it find "
             "a planted bug and shrink it to a minimal case.",
    .params = stress_params,
    .smoke = "rounds=3 increments=200 cases=10 schedules=4 step=1",
    .run = stress_run,
    .check = stress_check,
};
