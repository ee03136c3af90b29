/* deadlock.c - demo `deadlock`: two threads, two mutexes, and the order in
 * which they are taken.
 *
 * Shows three variants (parameter `variants`), each a number of rounds in
 * which both threads take both mutexes, add 1 to a counter, and let go:
 *   opposite  thread-1 takes A then B, thread-2 takes B then A.  A gate
 *             makes both hold their first mutex before either asks for
 *             its second, so every round deadlocks.  Every lock wait is
 *             bounded (`patience-ms`); when one runs out, the thread looks
 *             at the wait-for graph (who holds what, who waits for what),
 *             finds the cycle, prints it, and backs out: it lets go of its
 *             first mutex, the other thread finishes, and it tries again.
 *   ordered   both take A then B: there is no cycle to close, over any
 *             number of rounds.
 *   trylock   opposite orders again, with the same gate, but the second
 *             mutex is only tried (pthread_mutex_trylock); on failure the
 *             thread lets go of the first, backs off (backoff.h) and
 *             starts over.  Nobody ever waits while holding a mutex.
 * A wait that runs out without a cycle is only a slow holder: it is
 * counted and the thread waits on.
 * Watch for: in opposite, both lanes '.' (each holding one mutex, waiting
 * for the other) until one 'D', then the other thread's '=' (both held)
 * while the first one stays away ('~'); the retries trylock pays instead;
 * and zero cycles in ordered and trylock.
 * Lesson: lock-ordering (chapter 4).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "backoff.h"
#include "check.h"
#include "clock.h"
#include "wait.h"

#define NTHREADS 2
#define NLOCKS 2
#define SHOW_ROUNDS 3           /* ordered, trylock: rounds drawn on the timeline */
#define WORK_MS 5.0             /* rounds on the timeline hold both this long (scaled) */
#define CYCLE_TEXT 160

enum variant { V_OPPOSITE, V_ORDERED, V_TRYLOCK, NVARIANTS };

/* The plural ending for a count: "1 round", "2 rounds". */
static const char *plural(long long n)
{
    return n == 1 ? "" : "s";
}

static const char *const variant_name[NVARIANTS] = { "opposite", "ordered", "trylock" };
static const char *const variant_how[NVARIANTS] = {
    "thread-1 takes A then B, thread-2 B then A",
    "both take A then B",
    "opposite orders; the second is only tried",
};
static const char lock_name[NLOCKS] = { 'A', 'B' };

struct config {
    int deadlocks;              /* rounds of opposite */
    int rounds;                 /* rounds of ordered and trylock */
    double patience_ms;         /* bound on each lock wait, not scaled */
    int shown;                  /* the variant drawn on the timeline */
};

/* A reusable barrier for the two threads: spins politely, gives up on
 * cancel. */
struct barrier {
    atomic_int count, phase;
};

/* The wait-for graph: who holds each mutex, which mutex each thread waits
 * for.  Kept by the threads themselves, next to the real lock calls. */
struct graph {
    pthread_mutex_t mu;
    int holder[NLOCKS];         /* thread index, or -1 */
    int waits_for[NTHREADS];    /* lock index, or -1 */
};

struct table {
    struct ct_run *run;
    atomic_bool abandon;        /* a thread failed to start: nobody waits at a barrier */
    const struct config *cfg;
    enum variant v;
    bool draw;
    pthread_mutex_t lock[NLOCKS];
    struct graph g;
    struct barrier start, gate;
    long long counter;          /* guarded by both locks */
    atomic_int finished[NTHREADS];  /* rounds each thread has finished */
    atomic_int provoked;        /* rounds in which both passed the gate holding one mutex */
    int detected;               /* cycles found (guarded by g.mu) */
    char cycle[CYCLE_TEXT];     /* the first cycle found (guarded by g.mu) */
};

struct locker {
    struct table *t;
    int idx;                    /* 0 or 1 */
    int first, second;          /* lock indices, in this thread's order */
    bool draw;                  /* this round goes on the timeline */
    struct ct_thread thread;
    int done;                   /* rounds finished */
    int timeouts;               /* lock waits that ran out */
    int backouts;               /* times it let go of its first mutex to break a cycle */
    long long retries;          /* trylock: failed tries */
    double worst_wait_ms;       /* longest single lock wait */
};

/* What one variant's run counted. */
struct variant_result {
    bool ran;
    int rounds;                 /* per thread */
    int done;                   /* rounds finished, both threads */
    long long counter;
    int provoked, detected, timeouts, backouts;
    long long retries;
    double worst_wait_ms, ms;
    char cycle[CYCLE_TEXT];
};

static void mark(struct locker *me, enum ct_state st)
{
    if (me->draw)
        ct_mark(me->t->run, st);
}

static void point(struct locker *me, char glyph)
{
    if (me->draw)
        ct_point(me->t->run, glyph);
}

/* Wait for the other thread.  False on cancel, or if there is no other
 * thread (it failed to start). */
static bool barrier_wait(struct table *t, struct barrier *b)
{
    int phase = atomic_load(&b->phase);
    if (atomic_fetch_add(&b->count, 1) + 1 == NTHREADS) {
        atomic_store(&b->count, 0);
        atomic_fetch_add(&b->phase, 1);
        return true;
    }
    struct ct_backoff bo = CT_BACKOFF_INIT;
    while (atomic_load(&b->phase) == phase) {
        if (ct_cancelled(t->run) || atomic_load(&t->abandon))
            return false;
        ct_backoff_snooze(&bo);
    }
    return true;
}

/* ---- the wait-for graph ------------------------------------------------- */

/* Follow the edges from thread `from`: the mutex it waits for, that mutex's
 * holder, what the holder waits for...  Returns the cycle's length if the
 * path comes back to `from`, else 0; the threads on it go into path[].
 * g.mu held. */
static int find_cycle(const struct graph *g, int from, int *path)
{
    int u = from;
    for (int n = 0; n < NTHREADS; n++) {
        path[n] = u;
        int l = g->waits_for[u];
        if (l < 0 || g->holder[l] < 0)
            return 0;
        u = g->holder[l];
        if (u == from)
            return n + 1;
    }
    return 0;
}

/* "thread-1 holds A, waits for B; thread-2 holds B, waits for A". */
static void describe_cycle(const struct graph *g, const int *path, int n, char *buf, size_t size)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int k = 0; k < n && off < size; k++) {
        int u = path[k];
        off += (size_t)snprintf(buf + off, size - off, "%sthread-%d holds", k ? "; " : "", u + 1);
        for (int l = 0; l < NLOCKS && off < size; l++) {
            if (g->holder[l] == u)
                off += (size_t)snprintf(buf + off, size - off, " %c", lock_name[l]);
        }
        if (off < size)
            off += (size_t)snprintf(buf + off, size - off, ", waits for %c",
                                    lock_name[g->waits_for[u]]);
    }
}

static void graph_set(struct graph *g, int *slot, int value)
{
    CT_PT(pthread_mutex_lock(&g->mu));
    *slot = value;
    CT_PT(pthread_mutex_unlock(&g->mu));
}

/* After a lock wait ran out: is this thread on a cycle?  If so it is the
 * one to back out: it stops waiting in the graph at once (so the other
 * thread, looking next, sees no cycle) and reports it. */
static bool on_cycle(struct locker *me)
{
    struct table *t = me->t;
    struct graph *g = &t->g;
    int path[NTHREADS];
    char text[CYCLE_TEXT];
    CT_PT(pthread_mutex_lock(&g->mu));
    int n = find_cycle(g, me->idx, path);
    if (n > 0) {
        describe_cycle(g, path, n, text, sizeof text);
        if (t->detected++ == 0)
            snprintf(t->cycle, sizeof t->cycle, "%s", text);
        g->waits_for[me->idx] = -1;
    }
    int nth = t->detected;
    bool same = n > 0 && strcmp(text, t->cycle) == 0;
    CT_PT(pthread_mutex_unlock(&g->mu));
    if (n == 0)
        return false;
    point(me, 'D');
    if (nth > 1 && same) {
        ct_say(t->run, "no %c after %.0f ms: deadlock %d, the same cycle",
               lock_name[me->second], t->cfg->patience_ms, nth);
        return true;
    }
    ct_say(t->run, "no %c after %.0f ms: deadlock %d; wait-for graph:", lock_name[me->second],
           t->cfg->patience_ms, nth);
    for (char *save = NULL, *e = strtok_r(text, ";", &save); e; e = strtok_r(NULL, ";", &save))
        ct_say(t->run, "  %s", e + (*e == ' '));
    return true;
}

/* ---- taking the mutexes ------------------------------------------------- */

/* Lock `l` and keep the graph up to date.  A wait that runs out is looked
 * at: on a cycle, -EDEADLK (this thread must back out); without one the
 * holder is merely slow, and the wait goes on.  0, -EDEADLK, -ECANCELED. */
static int lock_watched(struct locker *me, int l)
{
    struct table *t = me->t;
    graph_set(&t->g, &t->g.waits_for[me->idx], l);
    int64_t t0 = ct_clock_ns();
    int rc;
    for (;;) {
        int64_t deadline = ct_deadline_after((int64_t)(t->cfg->patience_ms * 1e6));
        rc = ct_mutex_lock_bounded(&t->lock[l], deadline, ct_cancel_event(t->run));
        if (rc != -ETIMEDOUT)
            break;
        me->timeouts++;
        if (on_cycle(me)) {
            rc = -EDEADLK;
            break;
        }
    }
    double ms = (double)(ct_clock_ns() - t0) / 1e6;
    if (ms > me->worst_wait_ms)
        me->worst_wait_ms = ms;
    CT_PT(pthread_mutex_lock(&t->g.mu));
    t->g.waits_for[me->idx] = -1;
    if (rc == 0)
        t->g.holder[l] = me->idx;
    CT_PT(pthread_mutex_unlock(&t->g.mu));
    if (rc != 0 && rc != -EDEADLK && rc != -ECANCELED)
        CT_PT(-rc);     /* pthread_mutex_timedlock failed for another reason: a bug */
    return rc;
}

static void unlock_watched(struct locker *me, int l)
{
    graph_set(&me->t->g, &me->t->g.holder[l], -1);
    CT_PT(pthread_mutex_unlock(&me->t->lock[l]));
}

/* Take this thread's first mutex and, the first time in a round
 * (`*gated`), meet the other thread at the gate holding it.  0, or
 * -ECANCELED with nothing held. */
static int take_first(struct locker *me, bool *gated)
{
    struct table *t = me->t;
    mark(me, CT_WAIT);
    int rc = lock_watched(me, me->first);
    if (rc)
        return rc;              /* holding nothing, so never on a cycle */
    mark(me, CT_HOLD);
    if (!*gated)
        return 0;
    *gated = false;
    if (!barrier_wait(t, &t->gate)) {
        unlock_watched(me, me->first);
        return -ECANCELED;
    }
    if (me->idx == 0)
        atomic_fetch_add(&t->provoked, 1);
    return 0;
}

/* After backing out: stay away until the other thread has finished the
 * round (`want` rounds).  It holds its first mutex and now gets ours, so
 * it will; coming back sooner could close the same cycle again.  False on
 * cancel. */
static bool let_other_finish(struct locker *me, int want)
{
    struct table *t = me->t;
    mark(me, CT_SLEEP);
    while (atomic_load(&t->finished[1 - me->idx]) < want) {
        if (ct_event_wait_timeout(ct_cancel_event(t->run), 200 * INT64_C(1000)))
            return false;
    }
    return true;
}

/* opposite and ordered: take the first, then wait for the second; on a
 * cycle let go of the first, let the other thread finish, start over.  0
 * with both held, or -ECANCELED with none. */
static int take_both_blocking(struct locker *me, bool gated)
{
    struct table *t = me->t;
    for (;;) {
        int rc = take_first(me, &gated);
        if (rc)
            return rc;
        mark(me, CT_WAIT);
        rc = lock_watched(me, me->second);
        if (rc == 0)
            return 0;
        /* read before the unlock: until then the other cannot finish */
        int want = atomic_load(&t->finished[1 - me->idx]) + 1;
        unlock_watched(me, me->first);
        if (rc == -ECANCELED)
            return rc;
        me->backouts++;
        ct_say(t->run, "backing out: unlocked %c until the other is done",
               lock_name[me->first]);
        if (!let_other_finish(me, want))
            return -ECANCELED;
    }
}

/* trylock: take the first, then only try the second; on failure let go of
 * the first and back off.  0 with both held, or -ECANCELED with none. */
static int take_both_trying(struct locker *me)
{
    struct table *t = me->t;
    struct ct_backoff bo = CT_BACKOFF_INIT;
    bool gated = true;
    for (;;) {
        int rc = take_first(me, &gated);
        if (rc)
            return rc;
        rc = pthread_mutex_trylock(&t->lock[me->second]);
        if (rc == 0) {
            graph_set(&t->g, &t->g.holder[me->second], me->idx);
            return 0;
        }
        if (rc != EBUSY)
            CT_PT(rc);
        me->retries++;
        point(me, 'r');
        unlock_watched(me, me->first);
        mark(me, CT_SLEEP);
        if (ct_cancelled(t->run))
            return -ECANCELED;
        ct_backoff_snooze(&bo);
    }
}

static void *locker_main(void *arg)
{
    struct locker *me = arg;
    struct table *t = me->t;
    int rounds = t->v == V_OPPOSITE ? t->cfg->deadlocks : t->cfg->rounds;
    for (int r = 0; r < rounds; r++) {
        me->draw = t->draw && (t->v == V_OPPOSITE || r < SHOW_ROUNDS);
        /* opposite and trylock go round by round, so the gate meets them
         * both with nothing held */
        if (t->v != V_ORDERED && !barrier_wait(t, &t->start))
            break;
        int rc = t->v == V_TRYLOCK ? take_both_trying(me)
                                   : take_both_blocking(me, t->v == V_OPPOSITE);
        if (rc)
            break;
        mark(me, CT_RUN);
        t->counter++;
        if (me->draw)
            ct_sleep_ms(t->run, WORK_MS);      /* so that holding both shows */
        mark(me, CT_IDLE);      /* before the unlocks: the '=' never overlap */
        unlock_watched(me, me->second);
        unlock_watched(me, me->first);
        me->done++;
        atomic_fetch_add(&t->finished[me->idx], 1);
    }
    if (t->v != V_OPPOSITE)
        ct_say(t->run, "%d round%s; %d wait%s ran out, %lld tr%s failed", me->done,
               plural(me->done), me->timeouts, plural(me->timeouts), me->retries,
               me->retries == 1 ? "y" : "ies");
    return NULL;
}

/* ---- one variant ---------------------------------------------------------- */

static int table_init(struct table *t)
{
    int rc = -pthread_mutex_init(&t->g.mu, NULL);
    int made = 0;
    for (; rc == 0 && made < NLOCKS; made++) {
        rc = -pthread_mutex_init(&t->lock[made], NULL);
        if (rc)
            break;
    }
    if (rc) {
        while (made-- > 0)
            pthread_mutex_destroy(&t->lock[made]);
        pthread_mutex_destroy(&t->g.mu);
        return rc;
    }
    for (int l = 0; l < NLOCKS; l++)
        t->g.holder[l] = -1;
    for (int i = 0; i < NTHREADS; i++)
        t->g.waits_for[i] = -1;
    return 0;
}

static void table_destroy(struct table *t)
{
    for (int l = 0; l < NLOCKS; l++)
        CT_PT(pthread_mutex_destroy(&t->lock[l]));
    CT_PT(pthread_mutex_destroy(&t->g.mu));
}

static void summarise(const struct table *t, const struct locker *w, double ms,
                      struct variant_result *r)
{
    *r = (struct variant_result){
        .ran = true, .counter = t->counter, .ms = ms, .detected = t->detected,
        .provoked = atomic_load(&t->provoked),
        .rounds = t->v == V_OPPOSITE ? t->cfg->deadlocks : t->cfg->rounds,
    };
    snprintf(r->cycle, sizeof r->cycle, "%s", t->cycle);
    for (int i = 0; i < NTHREADS; i++) {
        r->done += w[i].done;
        r->timeouts += w[i].timeouts;
        r->backouts += w[i].backouts;
        r->retries += w[i].retries;
        if (w[i].worst_wait_ms > r->worst_wait_ms)
            r->worst_wait_ms = w[i].worst_wait_ms;
    }
}

static int run_variant(struct ct_run *run, const struct config *cfg, enum variant v,
                       struct variant_result *r)
{
    struct table *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    *t = (struct table){ .run = run, .cfg = cfg, .v = v, .draw = (int)v == cfg->shown };
    int rc = table_init(t);
    if (rc) {
        free(t);
        return rc;
    }
    ct_section(run, "%s: %s", variant_name[v], variant_how[v]);
    struct locker w[NTHREADS];
    int started = 0;
    int64_t t0 = ct_clock_ns();
    for (; started < NTHREADS; started++) {
        bool reverse = started == 1 && v != V_ORDERED;
        w[started] = (struct locker){ .t = t, .idx = started, .first = reverse ? 1 : 0,
                                      .second = reverse ? 0 : 1 };
        rc = ct_thread_start(run, &w[started].thread, locker_main, &w[started], "thread-%d",
                             started + 1);
        if (rc)
            break;
    }
    if (rc)
        atomic_store(&t->abandon, true);    /* a lone thread must not wait at a barrier */
    for (int i = 0; i < started; i++)
        ct_thread_join(&w[i].thread, NULL);
    double ms = (double)(ct_clock_ns() - t0) / 1e6;
    if (rc == 0 && !ct_cancelled(run))
        summarise(t, w, ms, r);
    table_destroy(t);
    free(t);
    return rc;
}

/* ---- report ---------------------------------------------------------------- */

static void report_table(struct ct_run *run, const struct variant_result *r)
{
    static const char *const cols[] = {
        "variant", "rounds|rounds done", "provoked", "cycles", "timeouts|waits ran out",
        "retries", "worst_ms|worst wait ms", NULL,
    };
    struct ct_table *t = ct_table_new(run, "variants", "per variant, both threads", cols);
    for (int v = 0; v < NVARIANTS; v++) {
        if (r[v].ran)
            ct_table_row(t, CT_TEXT(variant_name[v]), CT_INT(r[v].done), CT_INT(r[v].provoked),
                         CT_INT(r[v].detected), CT_INT(r[v].timeouts), CT_INT(r[v].retries),
                         CT_NUM(r[v].worst_wait_ms, 1));
    }
}

static void check_rounds(struct ct_run *run, enum variant v, const struct variant_result *r)
{
    ct_check(run, r->done == NTHREADS * r->rounds && r->counter == r->done,
             "%s: all %d round%s finished (%d), counter %lld", variant_name[v],
             NTHREADS * r->rounds, plural(NTHREADS * r->rounds), r->done, r->counter);
}

static void report_opposite(struct ct_run *run, const struct variant_result *r, double patience)
{
    check_rounds(run, V_OPPOSITE, r);
    ct_check(run, r->provoked == r->rounds && r->detected == r->provoked &&
                      r->backouts == r->detected,
             "opposite: %d deadlock%s provoked, %d cycle%s found, %d thread%s backed out",
             r->provoked, plural(r->provoked), r->detected, plural(r->detected), r->backouts,
             plural(r->backouts));
    ct_result_text(run, "cycle", "cycle", r->detected ? r->cycle : "none found");
    char all[32] = "in the one round";
    if (r->rounds != 1)
        snprintf(all, sizeof all, "in all %d rounds", r->rounds);
    ct_takeaway(run,
                "opposite: the gate let each thread take its first mutex, and %s each then "
                "waited for the mutex the other held: %d deadlock%s, each found when a %.0f "
                "ms wait ran out and the wait-for graph closed into a cycle (%s). Backing "
                "out one side (unlock, let the other finish, start over) broke each one, "
                "and every round finished. Without the bound neither wait would have ended: "
                "each thread held what the other waited for, and let go of nothing while it "
                "waited.",
                all, r->detected, r->detected == 1 ? "" : "s", patience,
                r->detected ? r->cycle : "none");
}

static void report_ordered(struct ct_run *run, const struct variant_result *r)
{
    check_rounds(run, V_ORDERED, r);
    ct_check(run, r->detected == 0, "ordered: no cycle in the wait-for graph (%d found)",
             r->detected);
    ct_takeaway(run,
                "ordered: with both threads taking A before B, %d round%s gave %d cycle%s: a "
                "thread waiting for A holds nothing, and one holding B already has A, so "
                "no wait can close a cycle. %s",
                r->done, r->done == 1 ? "" : "s", r->detected, r->detected == 1 ? "" : "s",
                r->timeouts ? "Some waits did run out (a holder was preempted), and the "
                              "graph showed them as slowness, not deadlock."
                            : "No wait even ran out.");
}

static void report_trylock(struct ct_run *run, const struct variant_result *r)
{
    check_rounds(run, V_TRYLOCK, r);
    char all[32] = "in the one round";
    if (r->provoked != 1)
        snprintf(all, sizeof all, "in all %d rounds", r->provoked);
    ct_check(run, r->provoked == r->rounds && r->detected == 0 && r->retries >= r->provoked,
             "trylock: %d conflict%s set up, no cycle, %lld failed tr%s", r->provoked,
             plural(r->provoked), r->retries, r->retries == 1 ? "y" : "ies");
    ct_takeaway(run,
                "trylock: the same opposite orders, and the gate set up the same conflict "
                "%s, but no thread ever waited while holding a mutex: %lld "
                "tr%s failed (%.2f per round), each followed by letting go and backing "
                "off, and no cycle formed. "
                "%s",
                all, r->retries, r->retries == 1 ? "y" : "ies",
                (double)r->retries / r->rounds,
                r->retries > r->rounds
                    ? "More than one per round means both backed off and met again: the "
                      "price of trylock is retries, and in the worst case threads that keep "
                      "backing off in step (livelock)."
                    : "One per round is the least the gate allows: one side lost, the other "
                      "went through.");
}

static void report(struct ct_run *run, const struct config *cfg, const struct variant_result *r)
{
    report_table(run, r);
    if (r[V_OPPOSITE].ran)
        report_opposite(run, &r[V_OPPOSITE], cfg->patience_ms);
    if (r[V_ORDERED].ran)
        report_ordered(run, &r[V_ORDERED]);
    if (r[V_TRYLOCK].ran)
        report_trylock(run, &r[V_TRYLOCK]);
}

static int deadlock_run(struct ct_run *run)
{
    struct config cfg = {
        .deadlocks = (int)ct_param_int(run, "deadlocks"),
        .rounds = (int)ct_param_int(run, "rounds"),
        .patience_ms = ct_param_num(run, "patience-ms"),
        .shown = -1,
    };
    for (int v = 0; v < NVARIANTS && cfg.shown < 0; v++) {  /* draw the first one run */
        if (ct_param_has(run, "variants", variant_name[v]))
            cfg.shown = v;
    }
    ct_legend(run, CT_HOLD, "holding its first mutex");
    ct_legend(run, CT_WAIT, "waiting for a mutex");
    ct_legend(run, CT_RUN, "holding both");
    ct_legend(run, CT_SLEEP, "backed out, holding nothing");
    ct_point_legend(run, 'D', "cycle found: deadlock");
    ct_point_legend(run, 'r', "trylock failed");

    struct variant_result r[NVARIANTS] = { 0 };
    for (int v = 0; v < NVARIANTS; v++) {
        if (!ct_param_has(run, "variants", variant_name[v]))
            continue;
        int rc = run_variant(run, &cfg, (enum variant)v, &r[v]);
        if (rc || ct_cancelled(run))
            return rc;
    }
    report(run, &cfg, r);
    return 0;
}

static const struct ct_param_spec deadlock_params[] = {
    { "variants", CT_PARAM_SET, "all", 0, 0, "opposite,ordered,trylock",
      "which variants to run; the timeline draws the first one" },
    { "deadlocks", CT_PARAM_INT, "3", 1, 20, NULL, "opposite: rounds, each one a deadlock" },
    { "rounds", CT_PARAM_INT, "2000", 1, 1000000, NULL, "ordered, trylock: rounds per thread" },
    { "patience-ms", CT_PARAM_NUM, "100", 10, 2000, NULL,
      "bound on each lock wait before the graph is checked (not scaled)" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_deadlock = {
    .name = "deadlock",
    .chapter = 4,
    .title = "Two mutexes, two orders: a deadlock, found and broken",
    .summary = "Opposite lock orders deadlock; a wait-for graph finds the cycle; one order or "
               "trylock avoids it",
    .intro = "Two threads each need mutexes A and B. Taken in opposite orders, with a gate "
             "so that each holds one before asking for the other, they deadlock every time; "
             "bounded waits notice, the wait-for graph shows the cycle, and one side backs "
             "out. Then the two cures: one global order (A before B), and trylock with "
             "back-off.",
    .params = deadlock_params,
    .smoke = "deadlocks=1 rounds=200 patience-ms=50",
    .run = deadlock_run,
};
