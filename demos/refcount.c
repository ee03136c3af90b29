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
                ct_say(sh->run, "iteration %lld: the object I hold a reference to was freed", i);
        }
        if (ref_drop(o, sh->variant)) {
            if (w->frees++ == 0 && !sh->quiet)
                ct_say(sh->run, "iteration %lld: my drop took the count to 0: freeing the object "
                       "while main still holds a reference", i);
            object_retire(o);
        }
    }
    ct_member_end(&w->m);
    w->done = i;
    return NULL;
}

struct outcome {
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
        *out = (struct outcome){ .ms = ms };
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

struct tally {
    bool ran;
    int rounds, exact;          /* rounds run; rounds ending at 1 with no free */
    long long frees, uaf;
    long min_final, max_final;
    bool consistent;            /* see the checks */
    double ns[MAX_ROUNDS];
};

static int refcount_run(struct ct_run *run)
{
    int n = (int)ct_param_int(run, "threads");
    long long iters = ct_param_int(run, "iters");
    int rounds = (int)ct_param_int(run, "rounds");
    struct tally tally[NVARIANTS] = { 0 };

    ct_section(run, "warm-up: one short round of each, not counted");
    for (int v = 0; v < NVARIANTS; v++) {
        if (!ct_param_has(run, "variants", variant_name[v]))
            continue;
        struct outcome o;
        int rc = run_round(run, (enum variant)v, n, iters < WARMUP_ITERS ? iters : WARMUP_ITERS,
                           true, &o);
        if (rc || ct_cancelled(run))
            return rc;
    }

    static const char *const round_cols[] = {
        "variant", "round", "final|final count", "frees|early frees", "uaf|uses after free",
        "verdict", "ns_per_pair|ns/pair", NULL,
    };
    struct ct_table *rt = ct_table_new(run, "rounds", "each round (expected final count: 1)",
                                       round_cols);
    for (int r = 0; r < rounds; r++) {
        for (int v = 0; v < NVARIANTS; v++) {
            if (!ct_param_has(run, "variants", variant_name[v]))
                continue;
            ct_section(run, "round %d, %s: %s", r + 1, variant_name[v], variant_how[v]);
            struct outcome o;
            int rc = run_round(run, (enum variant)v, n, iters, false, &o);
            if (rc || ct_cancelled(run))
                return rc;
            struct tally *t = &tally[v];
            double ns = o.pairs ? o.ms * 1e6 / (double)o.pairs : 0;
            ct_say(run, "count ended at %ld (expected 1), %lld premature free%s, %lld use%s after "
                   "free: %s", o.final_refs, o.frees, o.frees == 1 ? "" : "s", o.uaf,
                   o.uaf == 1 ? "" : "s", verdict(&o));
            ct_table_row(rt, CT_TEXT(variant_name[v]), CT_INT(r + 1), CT_INT(o.final_refs),
                         CT_INT(o.frees), CT_INT(o.uaf), CT_TEXT(verdict(&o)),
                         CT_NUM(ns, 1));
            if (!t->ran) {
                t->ran = true;
                t->consistent = true;
                t->min_final = t->max_final = o.final_refs;
            }
            t->ns[t->rounds++] = ns;
            t->exact += o.final_refs == 1 && o.frees == 0 && o.uaf == 0 && o.main_drop_frees;
            t->frees += o.frees;
            t->uaf += o.uaf;
            t->min_final = o.final_refs < t->min_final ? o.final_refs : t->min_final;
            t->max_final = o.final_refs > t->max_final ? o.final_refs : t->max_final;
            /* what must hold even for a racy count: the object dies only in
             * a free; a count at or below 0 was first stored by a drop from
             * 1, which is a free; every pair was done */
            t->consistent &= o.dead_at_end == (o.frees > 0);
            t->consistent &= o.uaf == 0 || o.frees > 0;
            t->consistent &= o.final_refs > 0 || o.frees > 0;
            t->consistent &= o.pairs == (long long)n * iters;
        }
    }

    static const char *const var_cols[] = {
        "variant", "exact|rounds ok", "frees|early frees", "uaf|uses after free",
        "median_ns|median ns/pair", "min_ns|min", "max_ns|max", NULL,
    };
    struct ct_table *vt = ct_table_new(run, "variants", "per variant, over all rounds", var_cols);
    struct ct_stats st[NVARIANTS] = { { 0 } };
    for (int v = 0; v < NVARIANTS; v++) {
        struct tally *t = &tally[v];
        if (!t->ran)
            continue;
        int src = ct_stats_of(t->ns, (size_t)t->rounds, &st[v]);
        if (src)
            return src;
        char exact[32];
        snprintf(exact, sizeof exact, "%d of %d", t->exact, t->rounds);
        ct_table_row(vt, CT_TEXT(variant_name[v]), CT_TEXT(exact),
                     CT_INT(t->frees), CT_INT(t->uaf), CT_NUM(st[v].median, 1),
                     CT_NUM(st[v].min, 1), CT_NUM(st[v].max, 1));
    }
    ct_bars(run, vt, "median time per clone+drop pair, all threads together (shorter is cheaper)",
            0, 4, "ns");
    ct_result_int(run, "cpus", "CPUs online", ct_cpus(), NULL);
    if (n > ct_cpus())
        ct_result_text(run, "note", "note",
                       "threads outnumber CPUs: they take turns, and times include waiting for one");

    const struct tally *rc = &tally[RC], *arc = &tally[ARC];
    if (rc->ran) {
        ct_result_int(run, "rc_exact_rounds", "rc: rounds that ended correct", rc->exact, NULL);
        ct_result_int(run, "rc_frees", "rc: premature frees", rc->frees, NULL);
        ct_result_int(run, "rc_uaf", "rc: uses after free detected", rc->uaf, NULL);
        ct_result_int(run, "rc_min_final", "rc: lowest final count", rc->min_final, NULL);
        ct_result_int(run, "rc_max_final", "rc: highest final count", rc->max_final, NULL);
        ct_check(run, rc->consistent,
                 "rc: the figures agree with each other in every round (dead only after a free, "
                 "uses after free only after a free, a count at or below 0 only after a free, "
                 "every clone/drop pair done)");
    }
    if (arc->ran) {
        ct_result_int(run, "arc_exact_rounds", "arc: rounds that ended correct", arc->exact, NULL);
        ct_result_int(run, "arc_frees", "arc: premature frees", arc->frees, NULL);
        ct_result_int(run, "arc_uaf", "arc: uses after free detected", arc->uaf, NULL);
        ct_check(run, arc->exact == arc->rounds && arc->frees == 0 && arc->uaf == 0,
                 "arc: every round ended at exactly 1, with 0 premature frees and 0 uses after "
                 "free, and main's final drop freed the object (%d of %d rounds)",
                 arc->exact, arc->rounds);
        ct_check(run, arc->consistent, "arc: every clone/drop pair was done and the figures agree");
    }

    if (rc->ran) {
        int wrong = rc->rounds - rc->exact;
        if (wrong > 0)
            ct_takeaway(run,
                        "With a plain load-then-store count (what Rc does, fine on one thread), "
                        "%d of %d rounds ended wrong: final counts ranged from %ld to %ld "
                        "against the expected 1, %lld drops freed the object while main still "
                        "held a reference, and %lld uses then found it freed. A count that "
                        "drifts up leaks the object; one that drifts down frees it under its "
                        "users, which in a real program is a use-after-free.",
                        wrong, rc->rounds, rc->min_final, rc->max_final, rc->frees, rc->uaf);
        else
            ct_takeaway(run,
                        "This time the plain load-then-store count came out right in all %d "
                        "rounds with %d thread%s: the threads did not collide. That is luck, "
                        "not correctness; more threads or iters will show the drift.",
                        rc->rounds, n, n == 1 ? "" : "s");
    }
    if (arc->ran)
        ct_takeaway(run,
                    "With atomic_fetch_add/sub (what Arc does) all %d rounds ended at exactly 1, "
                    "with no premature free and no use after free, and main's last drop was the "
                    "one that freed the object.",
                    arc->rounds);
    if (rc->ran && arc->ran && st[RC].median > 0)
        ct_takeaway(run,
                    "The price: %.1f ns per clone+drop pair with atomics against %.1f ns for the "
                    "broken count (%.1fx). That is why Rust keeps Rc for values that never leave "
                    "one thread, and why C code should say in a comment which kind of count it "
                    "keeps.",
                    st[ARC].median, st[RC].median, st[ARC].median / st[RC].median);
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
