/* refcount.c - demo `refcount`: a reference count shared by threads, kept
 * with plain loads and stores (Rust's Rc) and with atomic read-modify-writes
 * (Rust's Arc).
 *
 * Shows: main creates an object with a count of 1 (its own reference) and
 * starts several threads that each, over and over, clone a reference (count
 * + 1), use the object, and drop the reference (count - 1).  A drop that
 * takes the count to 0 is where the object would be freed; here it is only
 * marked dead through an atomic canary, so a later use that finds the canary
 * dead is a use-after-free detected, not committed.  The object is really
 * freed only after every thread is joined.  In the Rc version the count is
 * loaded and stored as two relaxed atomic operations (the lost updates are
 * real, yet there is no undefined behaviour); in the Arc version it is
 * atomic_fetch_add / atomic_fetch_sub.
 * Watch for: the final count against the expected 1 (drift up is a leak,
 * drift down a premature free), the premature frees and uses after free in
 * the rc rows, zeros in the arc rows, and what the atomic count costs.
 * Lesson: thread-safety (chapter 2).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crew.h"
#include "demo.h"
#include "clock.h"
#include "stats.h"

#define MAX_THREADS 64
#define MAX_ROUNDS 20
#define CANCEL_EVERY 4096       /* iterations between looks at the cancel flag */
#define WARMUP_ITERS 10000

#define CANARY_ALIVE 0xA11CE0u
#define CANARY_DEAD 0xDEAD00u

enum variant { RC, ARC, NVARIANTS };

static const char *const variant_name[NVARIANTS] = { "rc", "arc" };
static const char *const variant_how[NVARIANTS] = {
    "load, +/-1, store (Rc)",
    "atomic_fetch_add/sub (Arc)",
};

/* The shared object: a count, a canary, and some data to use. */
struct object {
    atomic_long refs;
    atomic_uint canary;
    int data[3];            /* written before the threads start, only read after */
};

/* Take a new reference. */
static void ref_clone(struct object *o, enum variant v)
{
    if (v == RC) {
        /* the Rc bug: another thread may store between this load and store */
        long c = atomic_load_explicit(&o->refs, memory_order_relaxed);
        atomic_store_explicit(&o->refs, c + 1, memory_order_relaxed);
    } else {
        /* a new reference is made from one the caller already holds, so the
         * object cannot go away meanwhile: no ordering needed */
        atomic_fetch_add_explicit(&o->refs, 1, memory_order_relaxed);
    }
}

/* Give a reference back.  True when this drop took the count from 1 to 0:
 * the point where the last owner frees the object. */
static bool ref_drop(struct object *o, enum variant v)
{
    long before;
    if (v == RC) {
        before = atomic_load_explicit(&o->refs, memory_order_relaxed);
        atomic_store_explicit(&o->refs, before - 1, memory_order_relaxed);
    } else {
        /* release: this thread's uses happen before the free; acquire: the
         * freeing thread sees every other thread's uses (Rust's Arc does a
         * release decrement plus an acquire fence when it reaches zero) */
        before = atomic_fetch_sub_explicit(&o->refs, 1, memory_order_acq_rel);
    }
    return before == 1;
}

/* "Free" the object: mark it dead instead, so later uses can be caught. */
static void object_retire(struct object *o)
{
    atomic_store_explicit(&o->canary, CANARY_DEAD, memory_order_release);
}

/* Use the object, as a holder of a reference may.  False when the canary
 * says it was already freed: a use-after-free, detected. */
static bool object_use(struct object *o, long long *sink)
{
    if (atomic_load_explicit(&o->canary, memory_order_acquire) != CANARY_ALIVE)
        return false;
    *sink += o->data[0] + o->data[1] + o->data[2];
    return true;
}

struct shared {
    struct ct_run *run;
    enum variant variant;
    long long iters;
    bool quiet;
    struct object *obj;
};

struct worker {
    struct ct_member m;         /* first: the crew starts and times it */
    struct shared *sh;
    long long done;             /* clone/use/drop cycles completed */
    long long frees;            /* drops that took the count to 0 */
    long long uaf;              /* uses that found the object dead */
    long long sink;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct shared *sh = w->sh;
    struct object *o = sh->obj;
    if (!ct_member_begin(&w->m))
        return NULL;
    long long i = 0;
    for (; i < sh->iters; i++) {
        if (i % CANCEL_EVERY == 0 && ct_cancelled(sh->run))
            break;
        ref_clone(o, sh->variant);
        if (!object_use(o, &w->sink)) {
            if (w->uaf++ == 0 && !sh->quiet)
                ct_say(sh->run, "use %lld: the object I hold was freed", i);
        }
        if (ref_drop(o, sh->variant)) {
            if (w->frees++ == 0 && !sh->quiet)
                ct_say(sh->run, "drop %lld took the count to 0: freed too early", i);
            object_retire(o);
        }
    }
    ct_member_end(&w->m);
    w->done = i;
    return NULL;
}

struct outcome {
    int threads;
    long long pairs;            /* clone/drop pairs done by all workers */
    long final_refs;            /* the count after every worker was joined */
    long long frees, uaf;
    bool dead_at_end;           /* the canary after the join */
    bool main_drop_frees;       /* main's own drop took the count to 0 */
    double ms;
};

/* One round: a fresh object, `n` workers, join, main drops its reference,
 * the real free.  0 or a negative errno. */
static int run_round(struct ct_run *run, enum variant v, int n, long long iters, bool quiet,
                     struct outcome *out)
{
    struct object *obj = malloc(sizeof *obj);
    if (!obj)
        return -ENOMEM;
    atomic_init(&obj->refs, 1);     /* main's reference */
    atomic_init(&obj->canary, CANARY_ALIVE);
    obj->data[0] = 1, obj->data[1] = 2, obj->data[2] = 3;

    struct shared sh = { .run = run, .variant = v, .iters = iters, .quiet = quiet, .obj = obj };
    struct worker w[MAX_THREADS] = { 0 };
    for (int i = 0; i < n; i++)
        w[i].sh = &sh;
    double ms;
    int rc = ct_crew_run(run, w, sizeof w[0], n, worker_main, variant_name[v], &ms);

    if (rc == 0) {
        *out = (struct outcome){ .threads = n, .ms = ms };
        for (int i = 0; i < n; i++) {
            out->pairs += w[i].done;
            out->frees += w[i].frees;
            out->uaf += w[i].uaf;
        }
        out->final_refs = atomic_load(&obj->refs);
        out->dead_at_end = atomic_load(&obj->canary) != CANARY_ALIVE;
        out->main_drop_frees = ref_drop(obj, v);
    }
    free(obj);      /* the real free: every thread that could touch it is joined */
    return rc;
}

/* What one round's ending means, in a few words. */
static const char *verdict(const struct outcome *o)
{
    if (o->frees > 0 || o->final_refs < 1)
        return "early free";
    if (o->final_refs > 1)
        return "leak";
    return "ok";
}

/* A round that ended as it must: count 1, nothing freed early, nothing
 * used after a free, and main's own drop the one that freed it. */
static bool exact(const struct outcome *o)
{
    return o->final_refs == 1 && o->frees == 0 && o->uaf == 0 && o->main_drop_frees;
}

/* What must hold even for a racy count: the object dies only in a free; a
 * count at or below 0 was first stored by a drop from 1, which is a free;
 * every clone/drop pair was done. */
static bool consistent(const struct outcome *o, long long pairs)
{
    return o->dead_at_end == (o->frees > 0) && (o->uaf == 0 || o->frees > 0) &&
           (o->final_refs > 0 || o->frees > 0) && o->pairs == pairs;
}

struct config {
    int threads, rounds;
    long long iters;
    bool want[NVARIANTS];
};

struct result {
    bool control_ran;           /* rc on one thread, before the rounds */
    struct outcome control;
    int nrounds;                /* rounds completed */
    struct outcome round[MAX_ROUNDS][NVARIANTS];
};

static double ns_per_pair(const struct outcome *o)
{
    return o->pairs ? o->ms * 1e6 / (double)o->pairs : 0;
}

static void say_outcome(struct ct_run *run, const struct outcome *o)
{
    ct_say(run, "count %ld, %lld early free%s, %lld use%s after free", o->final_refs,
           o->frees, o->frees == 1 ? "" : "s", o->uaf, o->uaf == 1 ? "" : "s");
}

/* A warm-up, the one-thread control, then the rounds with the variants
 * interleaved.  0 or a negative errno; stops quietly on cancel. */
static int run_phases(struct ct_run *run, const struct config *cfg, struct result *res)
{
    ct_section(run, "warm-up: one short round of each, not counted");
    for (int v = 0; v < NVARIANTS; v++) {
        struct outcome o;
        long long iters = cfg->iters < WARMUP_ITERS ? cfg->iters : WARMUP_ITERS;
        int rc = cfg->want[v] ? run_round(run, (enum variant)v, cfg->threads, iters, true, &o) : 0;
        if (rc || ct_cancelled(run))
            return rc;
    }
    if (cfg->want[RC] && cfg->threads > 1) {
        ct_section(run, "rc on one thread, as a control");
        int rc = run_round(run, RC, 1, cfg->iters, false, &res->control);
        if (rc || ct_cancelled(run))
            return rc;
        res->control_ran = true;
        say_outcome(run, &res->control);
    }
    for (int r = 0; r < cfg->rounds; r++) {
        for (int v = 0; v < NVARIANTS; v++) {
            if (!cfg->want[v])
                continue;
            ct_section(run, "round %d, %s: %s", r + 1, variant_name[v], variant_how[v]);
            struct outcome *o = &res->round[r][v];
            int rc = run_round(run, (enum variant)v, cfg->threads, cfg->iters, false, o);
            if (rc || ct_cancelled(run))
                return rc;
            say_outcome(run, o);
        }
        res->nrounds++;
    }
    return 0;
}

/* One variant over the rounds. */
struct tally {
    bool ran;
    int exact, consistent;      /* rounds */
    int leaks, early;           /* rounds that ended "leak", "early free" */
    long long frees, uaf;
    long min_final, max_final;
    struct ct_stats ns;         /* per clone+drop pair */
};

static int tally_of(const struct config *cfg, const struct result *res, enum variant v,
                    struct tally *t)
{
    double ns[MAX_ROUNDS];
    *t = (struct tally){ .ran = cfg->want[v] && res->nrounds > 0 };
    for (int r = 0; t->ran && r < res->nrounds; r++) {
        const struct outcome *o = &res->round[r][v];
        ns[r] = ns_per_pair(o);
        t->exact += exact(o);
        t->leaks += strcmp(verdict(o), "leak") == 0;
        t->early += strcmp(verdict(o), "early free") == 0;
        t->consistent += consistent(o, cfg->threads * cfg->iters);
        t->frees += o->frees;
        t->uaf += o->uaf;
        t->min_final = r == 0 || o->final_refs < t->min_final ? o->final_refs : t->min_final;
        t->max_final = r == 0 || o->final_refs > t->max_final ? o->final_refs : t->max_final;
    }
    return t->ran ? ct_stats_of(ns, (size_t)res->nrounds, &t->ns) : 0;
}

static void report_tables(struct ct_run *run, const struct result *res, const struct tally *t)
{
    static const char *const round_cols[] = {
        "variant", "threads", "round", "final|final count", "frees|early frees",
        "uaf|uses after free", "verdict", NULL,
    };
    struct ct_table *rt = ct_table_new(run, "rounds", "each round (round 0: one-thread control)",
                                       round_cols);
    for (int r = -1; r < res->nrounds; r++) {
        for (int v = 0; v < NVARIANTS; v++) {
            const struct outcome *o = r < 0 ? &res->control : &res->round[r][v];
            if ((r < 0 && (v != RC || !res->control_ran)) || (r >= 0 && !t[v].ran))
                continue;
            ct_table_row(rt, CT_TEXT(variant_name[v]), CT_INT(o->threads), CT_INT(r + 1),
                         CT_INT(o->final_refs), CT_INT(o->frees), CT_INT(o->uaf),
                         CT_TEXT(verdict(o)));
        }
    }
    static const char *const var_cols[] = {
        "variant", "exact|rounds ok", "frees|early frees", "uaf|uses after free",
        "median_ns|ns/pair", "min_ns|min", "max_ns|max", NULL,
    };
    struct ct_table *vt = ct_table_new(run, "variants", "per variant, over the rounds", var_cols);
    for (int v = 0; v < NVARIANTS; v++) {
        if (!t[v].ran)
            continue;
        char ok[32];
        snprintf(ok, sizeof ok, "%d of %d", t[v].exact, res->nrounds);
        ct_table_row(vt, CT_TEXT(variant_name[v]), CT_TEXT(ok), CT_INT(t[v].frees),
                     CT_INT(t[v].uaf), CT_NUM(t[v].ns.median, 1), CT_NUM(t[v].ns.min, 1),
                     CT_NUM(t[v].ns.max, 1));
    }
    ct_bars(run, vt, "median ns per clone+drop pair, all threads together", 0, 4, "ns");
    ct_result_int(run, "cpus", "CPUs online", ct_cpus(), NULL);
}

static void report_checks(struct ct_run *run, const struct config *cfg,
                          const struct result *res, const struct tally *t)
{
    const struct tally *rc = &t[RC], *arc = &t[ARC];
    int n = res->nrounds;
    const char *rounds_s = n == 1 ? "" : "s";
    if (res->control_ran)
        ct_check(run, exact(&res->control),
                 "rc, 1 thread: count %ld, %lld early frees, freed by main's drop",
                 res->control.final_refs, res->control.frees);
    if (rc->ran && cfg->threads == 1)
        ct_check(run, rc->exact == n, "rc, 1 thread: %d of %d round%s exact", rc->exact, n,
                 rounds_s);
    if (rc->ran)
        ct_check(run, rc->consistent == n,
                 "rc: canary, frees and count agree, every pair done: %d of %d round%s",
                 rc->consistent, n, rounds_s);
    if (arc->ran) {
        ct_check(run, arc->exact == n,
                 "arc: %d of %d round%s ended at 1, freed by main's drop alone", arc->exact, n,
                 rounds_s);
        ct_check(run, arc->consistent == n, "arc: every clone/drop pair was done (%d of %d "
                 "round%s)", arc->consistent, n, rounds_s);
    }
}

static void takeaway_rc(struct ct_run *run, const struct config *cfg, const struct result *res,
                        const struct tally *rc)
{
    int wrong = res->nrounds - rc->exact;
    if (res->control_ran)
        ct_takeaway(run, "On one thread the plain load-then-store count (what Rc does) ended "
                    "%s: %ld, with %lld early free%s.",
                    exact(&res->control) ? "exactly right" : "WRONG", res->control.final_refs,
                    res->control.frees, res->control.frees == 1 ? "" : "s");
    if (wrong > 0) {
        char ended[64];
        if (rc->min_final == rc->max_final)
            snprintf(ended, sizeof ended, "it ended at %ld", rc->min_final);
        else
            snprintf(ended, sizeof ended, "it ended anywhere from %ld to %ld", rc->min_final,
                     rc->max_final);
        ct_takeaway(run,
                    "On %d threads the same count ended wrong in %d of %d round%s: it should "
                    "end at 1 (main's own reference), but across the rounds %s. %d round%s leaked (a "
                    "count left above 1 never reaches 0, so the object is never freed) and %d "
                    "freed it early: %lld drop%s took the count to 0 while main still held a "
                    "reference, and %lld use%s then found the object freed.",
                    cfg->threads, wrong, res->nrounds, res->nrounds == 1 ? "" : "s", ended,
                    rc->leaks, rc->leaks == 1 ? "" : "s", rc->early, rc->frees,
                    rc->frees == 1 ? "" : "s", rc->uaf, rc->uaf == 1 ? "" : "s");
    }
    else {
        char all[32] = "the one round";
        if (res->nrounds != 1)
            snprintf(all, sizeof all, "all %d rounds", res->nrounds);
        ct_takeaway(run,
                    "This time the plain count came out right in %s with %d thread%s. %s",
                    all, cfg->threads, cfg->threads == 1 ? "" : "s",
                    cfg->threads == 1 ? "One thread cannot race with itself; try threads=2 "
                                        "or more."
                                      : "The threads did not collide: that is luck, not "
                                        "correctness; more threads or iters will show it.");
    }
}

static void takeaway_costs(struct ct_run *run, const struct tally *t, int rounds)
{
    const struct ct_stats *r = &t[RC].ns, *a = &t[ARC].ns;
    if (!t[RC].ran || !t[ARC].ran || r->median <= 0)
        return;
    if (rounds == 1)
        ct_takeaway(run,
                    "Per clone+drop pair: %.1f ns with atomics, %.1f ns with the broken count. "
                    "That is one timing of each, too few to say which count costs more; run "
                    "rounds=3 or more to compare them.",
                    a->median, r->median);
    else if (rounds < 3)
        ct_takeaway(run,
                    "Per clone+drop pair: %.1f ns with atomics (%.1f-%.1f), %.1f ns with the "
                    "broken count (%.1f-%.1f). Two timings of each are too few to say which "
                    "count costs more; run rounds=3 or more to compare them.",
                    a->median, a->min, a->max, r->median, r->min, r->max);
    else if (a->min > r->max)
        ct_takeaway(run,
                    "The price: %.1f ns per clone+drop pair with atomics against %.1f ns for "
                    "the broken count (%.1fx, and slower in every round). That is why Rust "
                    "keeps Rc for values that never leave one thread, and why C code should "
                    "say in a comment which kind of count it keeps.",
                    a->median, r->median, a->median / r->median);
    else if (a->max < r->min)
        ct_takeaway(run,
                    "Per clone+drop pair: %.1f ns with atomics (%.1f-%.1f), %.1f ns with the "
                    "broken count (%.1f-%.1f). The atomic count was cheaper in every round of "
                    "this run, so the broken count did not even buy speed.",
                    a->median, a->min, a->max, r->median, r->min, r->max);
    else
        ct_takeaway(run,
                    "Per clone+drop pair: %.1f ns with atomics (%.1f-%.1f), %.1f ns with the "
                    "broken count (%.1f-%.1f). The ranges overlap, so this run cannot price "
                    "the atomic count; more rounds on a quieter machine give a steadier "
                    "figure.",
                    a->median, a->min, a->max, r->median, r->min, r->max);
}

static int refcount_run(struct ct_run *run)
{
    struct config cfg = {
        .threads = (int)ct_param_int(run, "threads"),
        .iters = ct_param_int(run, "iters"),
        .rounds = (int)ct_param_int(run, "rounds"),
    };
    for (int v = 0; v < NVARIANTS; v++)
        cfg.want[v] = ct_param_has(run, "variants", variant_name[v]);

    struct result res = { .control_ran = false };
    int rc = run_phases(run, &cfg, &res);
    if (rc || ct_cancelled(run))
        return rc;
    struct tally t[NVARIANTS];
    for (int v = 0; v < NVARIANTS; v++) {
        if ((rc = tally_of(&cfg, &res, (enum variant)v, &t[v])))
            return rc;
    }
    report_tables(run, &res, t);
    if (cfg.threads > ct_cpus())
        ct_result_text(run, "note", "note", "more threads than CPUs: times include waiting");
    report_checks(run, &cfg, &res, t);
    if (t[RC].ran)
        takeaway_rc(run, &cfg, &res, &t[RC]);
    if (t[ARC].ran)
        ct_takeaway(run,
                    "With atomic_fetch_add/sub (what Arc does) %d of %d round%s ended at exactly "
                    "1, with %lld early frees and %lld uses after free, and main's last drop "
                    "was the one that freed the object.",
                    t[ARC].exact, res.nrounds, res.nrounds == 1 ? "" : "s", t[ARC].frees,
                    t[ARC].uaf);
    takeaway_costs(run, t, res.nrounds);
    return 0;
}

static const struct ct_param_spec refcount_params[] = {
    { "threads", CT_PARAM_INT, "4", 1, MAX_THREADS, NULL, "threads cloning and dropping references" },
    { "iters", CT_PARAM_INT, "1000000", 1, 10000000, NULL, "clone/use/drop cycles per thread in each round" },
    { "rounds", CT_PARAM_INT, "3", 1, MAX_ROUNDS, NULL, "timed rounds of each variant" },
    { "variants", CT_PARAM_SET, "all", 0, 0, "rc,arc", "which counts to run" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_refcount = {
    .name = "refcount",
    .chapter = 2,
    .title = "Reference counts across threads: Rc vs Arc",
    .summary = "Threads clone and drop references to one object, with a plain and an atomic count",
    .intro = "Threads repeatedly take and give back references to one shared object. With a "
             "plain load-then-store count (Rust's Rc) updates get lost: the count drifts, and "
             "the object is \"freed\" while still in use, caught here by a canary. With an "
             "atomic count (Rust's Arc) it always ends at exactly 1. Both are timed.",
    .params = refcount_params,
    .smoke = "threads=2 iters=20000 rounds=2",
    .run = refcount_run,
};
