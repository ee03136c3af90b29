/* send-sync.c - demo `send-sync`: what Rust's Send and Sync promise, kept by
 * hand in C.
 *
 * Shows, in four parts (parameter `parts`):
 *   (a) send:      heap parcels moved into threads; each receiver uses and
 *                  frees its parcel, and the creator's handle is cleared.
 *   (b) sync:      many threads read one immutable object at once, no lock;
 *                  an in-flight counter records how many were inside it at
 *                  the same moment, and every pass is checksummed.
 *   (c) not-sync:  a RefCell-style borrow flag checked with a plain load and
 *                  then set with a plain store (relaxed atomics: the race is
 *                  real, the behaviour defined), shared by threads that take
 *                  "exclusive" borrows; an occupancy counter inside the
 *                  borrow counts the times two threads held it at once.  Then
 *                  the fix, a compare-and-swap flag.  A slow-motion round
 *                  draws the overlap on the timeline; a fast round counts it
 *                  and measures what each flag costs.
 *   (d) reentrant: strtok's hidden position breaking a nested loop on one
 *                  thread, next to strtok_r; then an asctime-style function
 *                  returning a static buffer (modelled as relaxed atomic
 *                  chars) called from several threads, next to the caller's
 *                  buffer (_r) and a _Thread_local buffer.
 * Watch for: (c) overlaps and lost updates with the plain flag, none with
 * the CAS; (d) the records strtok loses and the stamps that come back with
 * another thread's text; and the zeros in every fixed version.
 * Lesson: chapter 3 (send-trait, sync-trait, neither-send-nor-sync).
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crew.h"
#include "demo.h"
#include "check.h"
#include "clock.h"
#include "stats.h"

#define MAX_THREADS 16
#define SLOW_THREADS 3          /* lanes in the slow-motion round of (c) */
#define CANCEL_EVERY 4096       /* loop turns between looks at the cancel flag */
#define SPINS_BEFORE_YIELD 64   /* refused borrows before giving up the CPU */
#define OUTSIDE_WORK 16         /* (c) steps of a thread's own work between borrows */
#define POLL_MS 1.0             /* slow motion: how often a waiter re-checks */

static const char *plural(long long n)
{
    return n == 1 ? "" : "s";
}

/* ---- (a) Send: moving a heap parcel into a thread ---------------------- */

struct parcel {
    char *text;                 /* heap string owned by the parcel's holder */
    size_t len;
};

struct courier {
    struct ct_thread thread;
    struct ct_run *run;
    struct parcel *parcel;      /* moved in before the thread starts */
    atomic_int *freed;          /* parcels freed by their receivers */
    size_t len_seen;            /* strlen of the text as received */
};

/* The receiving end of a move: the thread owns the parcel now, so it may
 * change it in place, and it must free it. */
static void *courier_main(void *arg)
{
    struct courier *c = arg;
    struct parcel *p = c->parcel;
    c->parcel = NULL;
    c->len_seen = strlen(p->text);
    ct_say(c->run, "took ownership of %p: \"%s\" (%zu bytes)", (void *)p->text, p->text,
           c->len_seen);
    for (char *s = p->text; *s; s++) {
        if (*s >= 'a' && *s <= 'z')
            *s = (char)(*s - 'a' + 'A');
    }
    ct_say(c->run, "changed it in place, no lock needed: \"%s\"", p->text);
    free(p->text);
    free(p);
    atomic_fetch_add(c->freed, 1);
    ct_say(c->run, "freed it: the receiver ends the parcel's life, nobody else may");
    return NULL;
}

struct send_result {
    int made, freed, handles_left, intact;
};

static int part_send(struct ct_run *run, int n, struct send_result *out)
{
    struct parcel *handle[MAX_THREADS] = { 0 };
    struct courier c[MAX_THREADS] = { 0 };
    size_t len_made[MAX_THREADS] = { 0 };
    atomic_int freed;
    atomic_init(&freed, 0);
    int rc = 0, made = 0;

    for (; made < n; made++) {
        struct parcel *p = malloc(sizeof *p);
        char *text = malloc(64);
        if (!p || !text) {
            free(p);
            free(text);
            rc = -ENOMEM;
            break;
        }
        p->len = (size_t)snprintf(text, 64, "parcel %d, the only copy, written by main", made + 1);
        p->text = text;
        handle[made] = p;
        len_made[made] = p->len;
        ct_say(run, "made parcel %d at %p (%zu bytes); handle[%d] owns it", made + 1,
               (void *)text, p->len, made);
    }
    int started = 0;
    for (; rc == 0 && started < made; started++) {
        /* the move: take the pointer out of our handle before the thread
         * can run, so nothing on this side can use or free it again */
        struct parcel *moving = handle[started];
        handle[started] = NULL;
        c[started].run = run;
        c[started].parcel = moving;
        c[started].freed = &freed;
        ct_say(run, "moving parcel %d to send-%d: handle[%d] = NULL, then pthread_create",
               started + 1, started + 1, started);
        rc = ct_thread_start(run, &c[started].thread, courier_main, &c[started], "send-%d",
                             started + 1);
        if (rc) {
            handle[started] = moving;   /* no thread took it: still ours */
            break;
        }
    }
    for (int i = 0; i < started; i++)
        ct_thread_join(&c[i].thread, NULL);

    out->made = made;
    out->freed = atomic_load(&freed);
    out->handles_left = 0;
    out->intact = 0;
    for (int i = 0; i < made; i++) {
        if (handle[i]) {
            out->handles_left++;
            free(handle[i]->text);
            free(handle[i]);
        } else if (c[i].len_seen == len_made[i]) {
            out->intact++;
        }
    }
    if (rc == 0)
        ct_say(run, "joined %d receiver%s; handles on this side still holding a parcel: %d",
               started, plural(started), out->handles_left);
    return rc;
}

/* ---- (b) Sync: many readers, one immutable object, no lock ------------- */

struct blob {
    size_t len;
    uint64_t sum;               /* computed before any reader exists */
    unsigned char bytes[];
};

/* FNV-1a, one byte at a time: slow on purpose, so passes overlap. */
static uint64_t checksum(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3u;
    return h;
}

struct reader {
    struct ct_member m;            /* first */
    const struct blob *blob;    /* const: nobody writes it after publication */
    atomic_int *in_flight, *max_in_flight;
    long long passes, passes_ok;
    uint64_t first_sum;
    bool steady;                /* every pass gave first_sum */
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    if (!ct_member_begin(&r->m))
        return NULL;
    long long reads = ct_param_int(r->m.run, "reads");
    r->steady = true;
    for (long long i = 0; i < reads && !ct_cancelled(r->m.run); i++) {
        int now = atomic_fetch_add(r->in_flight, 1) + 1;
        ct_atomic_max(r->max_in_flight, now);
        uint64_t s = checksum(r->blob->bytes, r->blob->len);
        atomic_fetch_sub(r->in_flight, 1);
        if (i == 0)
            r->first_sum = s;
        r->steady &= s == r->first_sum;
        r->passes_ok += s == r->blob->sum;
        r->passes++;
    }
    ct_member_end(&r->m);
    ct_say(r->m.run, "read the object %lld times, checksum %016llx every time%s", r->passes,
           (unsigned long long)r->first_sum, r->steady ? "" : " -- NOT steady");
    return NULL;
}

struct sync_result {
    int readers, max_in_flight, agree;
    size_t kib;
    long long passes, passes_ok;
    uint64_t sum;
    double ms, mb_per_s;
};

static int part_sync(struct ct_run *run, int n, struct sync_result *out)
{
    size_t len = (size_t)ct_param_int(run, "size-kb") * 1024;
    struct blob *b = malloc(sizeof *b + len);
    if (!b)
        return -ENOMEM;
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        b->bytes[i] = (unsigned char)x;
    }
    b->len = len;
    b->sum = checksum(b->bytes, len);
    ct_say(run, "filled %zu KiB, checksum %016llx; from now on nobody writes it", len / 1024,
           (unsigned long long)b->sum);
    ct_say(run, "publishing by pthread_create: what main wrote happens-before each reader starts");

    struct reader r[MAX_THREADS] = { 0 };
    atomic_int in_flight, max_in_flight;
    atomic_init(&in_flight, 0);
    atomic_init(&max_in_flight, 0);
    for (int i = 0; i < n; i++) {
        r[i].blob = b;
        r[i].in_flight = &in_flight;
        r[i].max_in_flight = &max_in_flight;
    }
    int rc = ct_crew_run(run, r, sizeof r[0], n, reader_main, "reader", &out->ms);
    out->readers = n;
    out->kib = len / 1024;
    out->max_in_flight = atomic_load(&max_in_flight);
    out->sum = b->sum;
    out->passes = out->passes_ok = 0;
    out->agree = 0;
    for (int i = 0; i < n; i++) {
        out->passes += r[i].passes;
        out->passes_ok += r[i].passes_ok;
        out->agree += r[i].passes > 0 && r[i].steady && r[i].first_sum == r[0].first_sum;
    }
    out->mb_per_s = out->ms > 0 ? (double)out->passes * (double)len / 1e6 / (out->ms / 1e3) : 0;
    free(b);
    return rc;
}

/* ---- (c) not Sync: a RefCell-style borrow flag ------------------------- */

enum flag_kind { FLAG_PLAIN, FLAG_CAS, NFLAGS };

static const char *const flag_name[NFLAGS] = { "plain", "cas" };
static const char *const flag_how[NFLAGS] = {
    "load the flag, if 0 store 1 (RefCell's check)",
    "compare-and-swap 0 -> 1",
};

/* A RefCell<long> look-alike: a borrow flag and the value it guards. */
struct cell {
    atomic_int borrowed;        /* 0 free, 1 exclusively borrowed */
    atomic_llong value;         /* only touched inside a borrow */
};

/* Try to take the exclusive borrow.  True if the caller now holds it -- or
 * believes it does: the plain check can be fooled by another thread that
 * checks in the window between our load and our store.  `gap_ms` > 0 (slow
 * motion) widens that window with a sleep; the CAS has no window. */
static bool cell_try_borrow(struct cell *c, enum flag_kind k, struct ct_run *run, double gap_ms)
{
    if (k == FLAG_CAS) {
        int expect = 0;
        return atomic_compare_exchange_strong_explicit(&c->borrowed, &expect, 1,
                                                       memory_order_acquire,
                                                       memory_order_relaxed);
    }
    if (atomic_load_explicit(&c->borrowed, memory_order_relaxed) != 0)
        return false;
    if (gap_ms > 0) {
        ct_mark(run, CT_RUN);
        ct_sleep_ms(run, gap_ms);
    }
    atomic_store_explicit(&c->borrowed, 1, memory_order_relaxed);
    return true;
}

static void cell_release(struct cell *c, enum flag_kind k)
{
    atomic_store_explicit(&c->borrowed, 0,
                          k == FLAG_CAS ? memory_order_release : memory_order_relaxed);
}

struct borrow_shared {
    struct cell cell;
    enum flag_kind kind;
    atomic_int holders;         /* instrumentation: threads inside a borrow */
    atomic_int max_holders;
};

/* Enter the borrowed section: returns how many threads are in it now,
 * this one included.  More than 1 means the flag let two in at once. */
static int borrow_enter(struct borrow_shared *sh)
{
    int now = atomic_fetch_add(&sh->holders, 1) + 1;
    ct_atomic_max(&sh->max_holders, now);
    return now;
}

/* What the borrow protects: value += 1, done as load then store.  Safe when
 * the borrow really is exclusive; loses updates when it is not. */
static void borrow_work(struct borrow_shared *sh)
{
    long long v = atomic_load_explicit(&sh->cell.value, memory_order_relaxed);
    atomic_store_explicit(&sh->cell.value, v + 1, memory_order_relaxed);
}

static void borrow_leave(struct borrow_shared *sh)
{
    atomic_fetch_sub(&sh->holders, 1);
}

struct borrower {
    struct ct_member m;            /* first */
    struct borrow_shared *sh;
    long long target;           /* borrows to take */
    long long done, overlaps, refused;
    uint64_t scratch;           /* the outside work's result, so it is not elided */
};

/* Fast round: take `target` borrows as fast as possible, spinning (and now
 * and then yielding) while the flag says the cell is borrowed. */
static void *borrower_fast(void *arg)
{
    struct borrower *b = arg;
    struct borrow_shared *sh = b->sh;
    if (!ct_member_begin(&b->m))
        return NULL;
    long long i = 0;
    for (; i < b->target; i++) {
        if (i % CANCEL_EVERY == 0 && ct_cancelled(b->m.run))
            break;
        unsigned spins = 0;
        while (!cell_try_borrow(&sh->cell, sh->kind, b->m.run, 0)) {
            b->refused++;
            if (++spins % SPINS_BEFORE_YIELD == 0) {
                sched_yield();
                if (ct_cancelled(b->m.run))
                    goto out;
            }
        }
        b->overlaps += borrow_enter(sh) > 1;
        borrow_work(sh);
        borrow_leave(sh);
        cell_release(&sh->cell, sh->kind);
        /* the thread's own work between borrows; leaves the flag free */
        for (int j = 0; j < OUTSIDE_WORK; j++)
            b->scratch = b->scratch * 6364136223846793005u + 1442695040888963407u;
    }
out:
    b->done = i;
    ct_member_end(&b->m);
    return NULL;
}

/* Slow motion: a few borrows held for hold-ms each, with sleeps instead of
 * spinning, every change of state on the timeline.  Both flags get the same
 * schedule: thread 2 checks the flag half a gap after thread 1, inside its
 * check-to-store window; later threads arrive while the cell is held; the
 * pauses between borrows differ per thread so that arrivals drift apart. */
static void *borrower_slow(void *arg)
{
    struct borrower *b = arg;
    struct borrow_shared *sh = b->sh;
    struct ct_run *run = b->m.run;
    double hold = ct_param_num(run, "hold-ms");
    double gap = hold / 4;
    int id = b->m.id;
    double start = id == 1 ? 0 : id == 2 ? gap / 2 : gap + (id - 2) * hold / 2;
    double pause = hold * (1 + 0.5 * (id - 1));
    if (!ct_member_begin(&b->m))
        return NULL;
    if (!ct_sleep_ms(run, start))
        goto out;
    while (b->done < b->target) {
        bool waited = false;
        while (!cell_try_borrow(&sh->cell, sh->kind, run, gap)) {
            b->refused++;
            if (!waited) {
                ct_say(run, "flag says borrowed: waiting");
                ct_mark(run, CT_WAIT);
                waited = true;
            }
            if (!ct_sleep_ms(run, POLL_MS))
                goto out;
        }
        if (ct_cancelled(run)) {        /* woke from the gap because of Ctrl-C */
            cell_release(&sh->cell, sh->kind);
            goto out;
        }
        int holders = borrow_enter(sh);
        ct_mark(run, CT_HOLD);
        if (holders > 1) {
            b->overlaps++;
            ct_point(run, '!');
            ct_say(run, "took the \"exclusive\" borrow while %d other thread%s held it!",
                   holders - 1, plural(holders - 1));
        } else {
            ct_say(run, "took the exclusive borrow, alone");
        }
        borrow_work(sh);
        b->done++;
        bool slept = ct_sleep_ms(run, hold);
        borrow_leave(sh);
        cell_release(&sh->cell, sh->kind);
        ct_mark(run, CT_IDLE);
        if (!slept)
            goto out;
        if (b->done < b->target && !ct_sleep_ms(run, pause))
            goto out;
    }
out:
    ct_mark(run, CT_IDLE);
    ct_member_end(&b->m);
    return NULL;
}

struct borrow_result {
    int threads;
    long long borrows, overlaps, refused, value;
    int max_holders;
    double ms;
};

/* One round of borrows with `n` threads and one kind of flag. */
static int borrow_round(struct ct_run *run, enum flag_kind kind, int n, long long target,
                        bool slow, struct borrow_result *out)
{
    struct borrow_shared sh = { .kind = kind };
    atomic_init(&sh.cell.borrowed, 0);
    atomic_init(&sh.cell.value, 0);
    atomic_init(&sh.holders, 0);
    atomic_init(&sh.max_holders, 0);
    struct borrower w[MAX_THREADS] = { 0 };
    for (int i = 0; i < n; i++) {
        w[i].sh = &sh;
        w[i].target = target;
    }
    char prefix[16];
    snprintf(prefix, sizeof prefix, "%s%s", flag_name[kind], slow ? "" : "-fast");
    double ms;
    int rc = ct_crew_run(run, w, sizeof w[0], n, slow ? borrower_slow : borrower_fast, prefix, &ms);
    *out = (struct borrow_result){ .threads = n, .ms = ms,
                                   .value = atomic_load(&sh.cell.value),
                                   .max_holders = atomic_load(&sh.max_holders) };
    for (int i = 0; i < n; i++) {
        out->borrows += w[i].done;
        out->overlaps += w[i].overlaps;
        out->refused += w[i].refused;
    }
    return rc;
}

#define COST_REPS 5

/* The flag's own price: ns per borrow-and-release on one thread with
 * nothing else in the loop (no instrumentation, no work, no contention).
 * Counts in *busy the times the flag was found taken, which on one thread
 * must never happen.  A negative result means the run was cancelled. */
static double flag_cost_ns(struct ct_run *run, enum flag_kind k, long long iters, long long *busy)
{
    struct cell c;
    atomic_init(&c.borrowed, 0);
    atomic_init(&c.value, 0);
    int64_t t0 = ct_clock_ns();
    for (long long i = 0; i < iters;) {
        if (ct_cancelled(run))
            return -1;
        long long end = i + CANCEL_EVERY < iters ? i + CANCEL_EVERY : iters;
        for (; i < end; i++) {
            if (!cell_try_borrow(&c, k, run, 0))
                ++*busy;
            cell_release(&c, k);
        }
    }
    return (double)(ct_clock_ns() - t0) / (double)iters;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct notsync_result {
    bool cost_ran;
    double cost[NFLAGS][COST_REPS];         /* sorted: [0] min, [REPS/2] median */
    long long cost_busy;
    bool slow_ran, fast_ran[NFLAGS];
    struct borrow_result slow[NFLAGS];
    struct borrow_result fast[NFLAGS][2];   /* [kind][0: one thread, 1: n threads] */
    int nfast;                              /* 1 or 2 thread counts */
};

static int part_notsync(struct ct_run *run, int n, struct notsync_result *out)
{
    int slow_n = n < SLOW_THREADS ? n : SLOW_THREADS;
    long long slow_borrows = ct_param_int(run, "slow-borrows");
    int rc = 0;
    if (slow_borrows > 0) {
        ct_legend(run, CT_HOLD, "holding the exclusive borrow");
        ct_legend(run, CT_WAIT, "flag says borrowed: waiting");
        ct_legend(run, CT_RUN, "checked the flag, not yet set it (slow-motion gap)");
        ct_point_legend(run, '!', "took the borrow while another thread held it");
        for (int k = 0; k < NFLAGS && rc == 0 && !ct_cancelled(run); k++) {
            ct_section(run, "(c) slow motion, %s flag: %s", flag_name[k], flag_how[k]);
            double hold = ct_param_num(run, "hold-ms");
            if (k == FLAG_PLAIN)
                ct_say(run, "a %.0f ms pause between the check and the store widens the race "
                       "window so the timeline can show it", hold / 4);
            else
                ct_say(run, "check and set are one instruction: there is no window to widen");
            if (slow_n > 1)
                ct_say(run, "same schedule for both flags: %s-2 checks %.1f ms after %s-1%s",
                       flag_name[k], hold / 8, flag_name[k],
                       slow_n > 2 ? "; later threads arrive while the cell is held" : "");
            rc = borrow_round(run, (enum flag_kind)k, slow_n, slow_borrows, true, &out->slow[k]);
            if (rc == 0 && !ct_cancelled(run))
                ct_say(run, "%lld borrows, %lld taken while someone else held the cell",
                       out->slow[k].borrows, out->slow[k].overlaps);
        }
        out->slow_ran = rc == 0 && !ct_cancelled(run);
    }

    long long target = ct_param_int(run, "borrows");
    int counts[2] = { 1, n };
    out->nfast = n > 1 ? 2 : 1;
    for (int k = 0; k < NFLAGS && rc == 0 && !ct_cancelled(run); k++) {
        ct_section(run, "(c) full speed, %s flag: %s", flag_name[k], flag_how[k]);
        for (int t = 0; t < out->nfast && rc == 0 && !ct_cancelled(run); t++) {
            struct borrow_result *r = &out->fast[k][t];
            rc = borrow_round(run, (enum flag_kind)k, counts[t], target, false, r);
            if (rc || ct_cancelled(run))
                break;
            ct_say(run, "%d thread%s: %lld borrows in %.1f ms, %lld overlapping, value %lld "
                   "(%lld update%s lost)", r->threads, plural(r->threads), r->borrows, r->ms,
                   r->overlaps, r->value, r->borrows - r->value, plural(r->borrows - r->value));
        }
        out->fast_ran[k] = rc == 0 && !ct_cancelled(run);
    }

    if (rc == 0 && !ct_cancelled(run)) {
        ct_section(run, "(c) what the flag alone costs: one thread, borrow and release, "
                   "nothing else");
        /* one warm-up, then the repetitions, alternating the kinds so that
         * a burst of load on the machine hits both */
        for (int rep = -1; rep < COST_REPS; rep++) {
            for (int k = 0; k < NFLAGS; k++) {
                double ns = flag_cost_ns(run, (enum flag_kind)k, target, &out->cost_busy);
                if (ns < 0)
                    return 0;
                if (rep >= 0)
                    out->cost[k][rep] = ns;
            }
        }
        for (int k = 0; k < NFLAGS; k++) {
            qsort(out->cost[k], COST_REPS, sizeof out->cost[k][0], cmp_double);
            ct_say(run, "%-5s flag: %.2f ns per borrow and release (median of %d runs of %lld)",
                   flag_name[k], out->cost[k][COST_REPS / 2], COST_REPS, target);
        }
        out->cost_ran = true;
    }
    return rc;
}

/* ---- (d) non-reentrant state ------------------------------------------- */

/* A nested tokenising job: records split by ';', fields by ','. */
static const char servers[] = "host=db1,port=5432;host=db2,port=5433;host=db3,port=5434";
#define SERVERS_RECORDS 3
#define SERVERS_FIELDS 6

struct tokens {
    int records, fields;
    char list[256];             /* the fields found, space-separated */
};

static void add_field(struct tokens *t, const char *f)
{
    size_t used = strlen(t->list);
    snprintf(t->list + used, sizeof t->list - used, "%s%s", used ? " " : "", f);
    t->fields++;
}

/* The classic mistake: strtok inside a strtok loop.  Both loops share
 * strtok's one hidden position, so the inner loop leaves it at the end of
 * the first record and the outer loop thinks the line is finished. */
static void split_strtok(struct ct_run *run, struct tokens *t)
{
    char line[sizeof servers];
    memcpy(line, servers, sizeof line);
    for (char *rec = strtok(line, ";"); rec; rec = strtok(NULL, ";")) {
        t->records++;
        ct_say(run, "strtok   record %d: '%s'", t->records, rec);
        for (char *f = strtok(rec, ","); f; f = strtok(NULL, ","))
            add_field(t, f);
    }
    ct_say(run, "strtok   outer loop ended after %d record%s, fields: %s", t->records,
           plural(t->records), t->list);
}

/* The same loops with strtok_r: each keeps its position in its own variable. */
static void split_strtok_r(struct ct_run *run, struct tokens *t)
{
    char line[sizeof servers];
    memcpy(line, servers, sizeof line);
    char *outer, *inner;
    for (char *rec = strtok_r(line, ";", &outer); rec; rec = strtok_r(NULL, ";", &outer)) {
        t->records++;
        ct_say(run, "strtok_r record %d: '%s'", t->records, rec);
        for (char *f = strtok_r(rec, ",", &inner); f; f = strtok_r(NULL, ",", &inner))
            add_field(t, f);
    }
    ct_say(run, "strtok_r outer loop ended after %d record%s, fields: %s", t->records,
           plural(t->records), t->list);
}

/* asctime's layout, without its trailing newline: "Tue Nov 14 22:13:20 2023". */
#define STAMP_MAX 32

static void stamp_format(char *out, const struct tm *tm)
{
    static const char wday[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    int n = snprintf(out, STAMP_MAX, "%.3s %.3s%3d %.2d:%.2d:%.2d %d", wday[tm->tm_wday % 7],
                     mon[tm->tm_mon % 12], tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec,
                     1900 + tm->tm_year);
    (void)n;    /* years up to 9999 fit; the demo's do */
}

/* Like asctime: one buffer for the whole process, returned to every caller.
 * Its chars are relaxed atomics so that the race between one caller's
 * writes and another's reads is real but not undefined behaviour; in libc
 * it is a plain static char array and the same race is undefined. */
static _Atomic char stamp_shared_buf[STAMP_MAX];

static const _Atomic char *stamp_static(const struct tm *tm)
{
    char tmp[STAMP_MAX];
    stamp_format(tmp, tm);
    for (size_t i = 0; i < STAMP_MAX; i++) {
        atomic_store_explicit(&stamp_shared_buf[i], tmp[i], memory_order_relaxed);
        if (!tmp[i])
            break;
    }
    return stamp_shared_buf;
}

/* Like asctime_r: the caller says where the text goes. */
static char *stamp_r(const struct tm *tm, char *buf)
{
    stamp_format(buf, tm);
    return buf;
}

/* One buffer per thread: the same interface as stamp_static, and safe
 * between threads (though a second call on the same thread still
 * overwrites the first result). */
static char *stamp_tls(const struct tm *tm)
{
    static _Thread_local char buf[STAMP_MAX];
    stamp_format(buf, tm);
    return buf;
}

enum storage { STORE_STATIC, STORE_CALLER, STORE_TLS, NSTORES };

static const char *const store_name[NSTORES] = { "static", "caller", "thread-local" };
static const char *const store_how[NSTORES] = {
    "one static buffer (asctime)",
    "caller's buffer (asctime_r)",
    "_Thread_local buffer",
};

struct stamper {
    struct ct_member m;            /* first */
    enum storage store;
    long long calls, corrupted;
    char bad_got[STAMP_MAX], bad_want[STAMP_MAX];   /* the first corrupted result */
};

static void *stamper_main(void *arg)
{
    struct stamper *s = arg;
    if (!ct_member_begin(&s->m))
        return NULL;
    long long target = ct_param_int(s->m.run, "calls");
    /* each thread formats its own instants, on a date 1000 days after the
     * previous thread's, so text from another thread is never the text we
     * want; the time of day steps by a second per call (no gmtime_r in the
     * loop: glibc takes a lock in it, which would keep the threads apart) */
    time_t day = (time_t)1700000000 + (time_t)s->m.id * 1000 * 86400;
    struct tm tm;
    gmtime_r(&day, &tm);
    long long i = 0;
    for (; i < target; i++) {
        if (i % CANCEL_EVERY == 0 && ct_cancelled(s->m.run))
            break;
        tm.tm_sec = (int)(i % 60);
        tm.tm_min = (int)(i / 60 % 60);
        tm.tm_hour = (int)(i / 3600 % 24);
        char want[STAMP_MAX], got[STAMP_MAX], mine[STAMP_MAX];
        stamp_format(want, &tm);
        switch (s->store) {
        case STORE_STATIC: {
            const _Atomic char *p = stamp_static(&tm);
            size_t j = 0;
            for (; j < STAMP_MAX - 1; j++) {
                got[j] = atomic_load_explicit(&p[j], memory_order_relaxed);
                if (!got[j])
                    break;
            }
            got[j] = '\0';
            break;
        }
        case STORE_CALLER:
            memcpy(got, stamp_r(&tm, mine), STAMP_MAX);
            break;
        case STORE_TLS:
            memcpy(got, stamp_tls(&tm), STAMP_MAX);
            break;
        case NSTORES:
            break;
        }
        if (strcmp(got, want) != 0) {
            if (s->corrupted++ == 0) {
                memcpy(s->bad_got, got, STAMP_MAX);
                memcpy(s->bad_want, want, STAMP_MAX);
            }
        }
    }
    s->calls = i;
    ct_member_end(&s->m);
    ct_say(s->m.run, "%lld calls, %lld came back with text that was not this call's",
           s->calls, s->corrupted);
    return NULL;
}

struct stamp_result {
    bool ran;
    long long calls, corrupted;
    double ms;
    char bad_got[STAMP_MAX], bad_want[STAMP_MAX];
};

struct reentrant_result {
    struct tokens tok, tok_r;
    struct stamp_result stamp[NSTORES];
};

static int part_reentrant(struct ct_run *run, int n, struct reentrant_result *out)
{
    ct_section(run, "(d) hidden state on ONE thread: strtok vs strtok_r");
    ct_say(run, "splitting \"%s\" by ';' into records, each by ',' into fields", servers);
    split_strtok(run, &out->tok);
    split_strtok_r(run, &out->tok_r);

    int rc = 0;
    for (int k = 0; k < NSTORES && rc == 0 && !ct_cancelled(run); k++) {
        ct_section(run, "(d) %d thread%s format timestamps into %s", n, plural(n), store_how[k]);
        struct stamper s[MAX_THREADS] = { 0 };
        for (int i = 0; i < n; i++)
            s[i].store = (enum storage)k;
        struct stamp_result *r = &out->stamp[k];
        rc = ct_crew_run(run, s, sizeof s[0], n, stamper_main, store_name[k], &r->ms);
        for (int i = 0; i < n; i++) {
            r->calls += s[i].calls;
            if (s[i].corrupted && !r->corrupted) {
                memcpy(r->bad_got, s[i].bad_got, STAMP_MAX);
                memcpy(r->bad_want, s[i].bad_want, STAMP_MAX);
            }
            r->corrupted += s[i].corrupted;
        }
        r->ran = rc == 0 && !ct_cancelled(run);
        if (r->ran && r->corrupted)
            ct_say(run, "for example, a call that should have read '%s' got '%s'", r->bad_want,
                   r->bad_got);
    }
    return rc;
}

/* ---- reporting --------------------------------------------------------- */

static void report_send(struct ct_run *run, const struct send_result *s)
{
    ct_result_int(run, "send_parcels", "(a) parcels moved to threads", s->made, NULL);
    ct_result_int(run, "send_freed", "(a) parcels freed by their receiver", s->freed, NULL);
    ct_result_int(run, "send_handles_left", "(a) creator handles still set after the move",
                  s->handles_left, NULL);
    ct_check(run, s->freed == s->made, "send: every parcel freed exactly once, by its receiver "
             "(%d of %d)", s->freed, s->made);
    ct_check(run, s->handles_left == 0, "send: the creator kept no handle (%d left)",
             s->handles_left);
    ct_check(run, s->intact == s->made, "send: every receiver got the whole text (%d of %d)",
             s->intact, s->made);
    ct_takeaway(run,
                "(a) Send: %d heap parcel%s changed hands at pthread_create, and %d were freed, "
                "each by the thread that received it. In C the move is a convention: the "
                "creator cleared its handle so that a stray use would hit NULL instead of "
                "freed memory; Rust's compiler makes the same promise for you.",
                s->made, plural(s->made), s->freed);
}

static void report_sync(struct ct_run *run, const struct sync_result *s)
{
    char hex[20];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)s->sum);
    ct_result_int(run, "sync_readers", "(b) readers", s->readers, NULL);
    ct_result_int(run, "sync_passes", "(b) whole-object reads", s->passes, NULL);
    ct_result_int(run, "sync_passes_ok", "(b) reads with the published checksum", s->passes_ok,
                  NULL);
    ct_result_int(run, "sync_readers_agree", "(b) readers whose every read agreed", s->agree,
                  NULL);
    ct_result_text(run, "sync_checksum", "(b) checksum", hex);
    ct_result_int(run, "sync_max_readers", "(b) most readers inside at once", s->max_in_flight,
                  NULL);
    ct_result_num(run, "sync_mb_per_s", "(b) read throughput, all readers", s->mb_per_s, 0,
                  "MB/s");
    ct_check(run, s->passes_ok == s->passes, "sync: every read saw the published contents "
             "(%lld of %lld)", s->passes_ok, s->passes);
    ct_check(run, s->agree == s->readers, "sync: all readers saw identical contents (%d of %d "
             "readers agree)", s->agree, s->readers);
    int cpus = ct_cpus();
    const char *why = s->max_in_flight <= 1
        ? "this run never caught two readers inside at once, so it shows no overlap; run it "
          "with more threads or reads"
        : s->max_in_flight > cpus
        ? "more than the CPUs, so some were preempted mid-read while still holding their "
          "pointer, which is just as shared"
        : "reading side by side with no lock between them";
    ct_takeaway(run,
                "(b) Sync: %d reader%s read the same %zu KiB object %lld times with no lock, up "
                "to %d at the same moment (%s). Every read had checksum %s: immutable data "
                "published before the threads start needs no synchronisation at all.",
                s->readers, plural(s->readers), s->kib, s->passes, s->max_in_flight, why, hex);
}

static void report_notsync(struct ct_run *run, const struct notsync_result *r, int n)
{
    static const char *const cols[] = {
        "flag", "threads", "borrows", "refused|flag said busy", "overlaps",
        "max_holders|max holders", "value", "lost", "ms|time ms", "ns_per_borrow|ns/borrow",
        NULL,
    };
    struct ct_table *t = NULL;
    for (int k = 0; k < NFLAGS; k++) {
        for (int i = 0; r->fast_ran[k] && i < r->nfast; i++) {
            const struct borrow_result *b = &r->fast[k][i];
            if (!t)
                t = ct_table_new(run, "borrows", "(c) full speed", cols);
            double ns = b->borrows ? b->ms * 1e6 / (double)b->borrows : 0;
            ct_table_row(t, CT_TEXT(flag_name[k]), CT_INT(b->threads), CT_INT(b->borrows),
                         CT_INT(b->refused), CT_INT(b->overlaps), CT_INT(b->max_holders),
                         CT_INT(b->value), CT_INT(b->borrows - b->value), CT_NUM(b->ms, 1),
                         CT_NUM(ns, 2));
        }
    }
    if (r->cost_ran) {
        static const char *const cost_cols[] = {
            "flag", "how", "ns_median|ns median", "ns_min|min", "ns_max|max", NULL,
        };
        struct ct_table *c = ct_table_new(run, "flag_cost",
                                          "(c) one borrow and release, one thread, nothing else",
                                          cost_cols);
        for (int k = 0; k < NFLAGS; k++)
            ct_table_row(c, CT_TEXT(flag_name[k]), CT_TEXT(flag_how[k]),
                         CT_NUM(r->cost[k][COST_REPS / 2], 2), CT_NUM(r->cost[k][0], 2),
                         CT_NUM(r->cost[k][COST_REPS - 1], 2));
        ct_bars(run, c, "(c) what the flag costs uncontended (shorter is cheaper)", 0, 2, "ns");
        ct_check(run, r->cost_busy == 0, "not-sync: one thread never finds its own flag busy "
                 "(%lld times)", r->cost_busy);
    }

    if (r->slow_ran) {
        ct_result_int(run, "slow_plain_overlaps", "(c) slow motion: plain flag, overlapping "
                      "borrows", r->slow[FLAG_PLAIN].overlaps, NULL);
        ct_result_int(run, "slow_cas_overlaps", "(c) slow motion: CAS flag, overlapping borrows",
                      r->slow[FLAG_CAS].overlaps, NULL);
        ct_check(run, r->slow[FLAG_CAS].overlaps == 0 && r->slow[FLAG_CAS].max_holders <= 1,
                 "not-sync: slow motion, CAS flag: never two holders (%lld overlaps)",
                 r->slow[FLAG_CAS].overlaps);
        ct_check(run, r->slow[FLAG_CAS].value == r->slow[FLAG_CAS].borrows,
                 "not-sync: slow motion, CAS flag: value %lld after %lld borrows",
                 r->slow[FLAG_CAS].value, r->slow[FLAG_CAS].borrows);
    }
    for (int k = 0; k < NFLAGS; k++) {
        for (int i = 0; r->fast_ran[k] && i < r->nfast; i++) {
            const struct borrow_result *b = &r->fast[k][i];
            bool must_be_exact = k == FLAG_CAS || b->threads == 1;
            if (must_be_exact)
                ct_check(run, b->overlaps == 0 && b->value == b->borrows,
                         "not-sync: %s flag, %d thread%s: %lld overlaps, value %lld of %lld",
                         flag_name[k], b->threads, plural(b->threads), b->overlaps, b->value,
                         b->borrows);
            else
                ct_check(run, b->value <= b->borrows && (b->value == b->borrows || b->overlaps > 0),
                         "not-sync: %s flag, %d threads: every lost update (%lld) came with "
                         "overlapping borrows (%lld)", flag_name[k], b->threads,
                         b->borrows - b->value, b->overlaps);
        }
    }

    if (r->slow_ran) {
        const struct borrow_result *p = &r->slow[FLAG_PLAIN];
        if (p->overlaps > 0)
            ct_takeaway(run,
                        "(c) In slow motion the plain flag let a thread in while another held "
                        "the borrow %lld time%s (the '!' marks on the timeline): two threads "
                        "both read 0 before either stored 1. The CAS flag, whose check and set "
                        "are one step, never did.",
                        p->overlaps, plural(p->overlaps));
        else
            ct_takeaway(run,
                        "(c) This run's slow-motion round happened to show no overlap with the "
                        "plain flag: no two waiters checked it within the same window. That is "
                        "timing, not safety; the full-speed counts below are the evidence.");
    }
    if (r->fast_ran[FLAG_PLAIN] && r->fast_ran[FLAG_CAS] && r->nfast == 2) {
        const struct borrow_result *p = &r->fast[FLAG_PLAIN][1];
        if (p->overlaps > 0)
            ct_takeaway(run,
                        "At full speed with %d threads, %lld of %lld plain-flag borrows were "
                        "taken while another thread held the cell (up to %d holders at once) "
                        "and %lld of the value's updates were lost. With the CAS flag: 0 "
                        "overlaps, 0 lost. This is why RefCell is not Sync: its check is "
                        "correct only when one thread does all the checking.",
                        n, p->overlaps, p->borrows, p->max_holders, p->borrows - p->value);
        else
            ct_takeaway(run,
                        "At full speed this run's plain flag happened to show no overlap in %lld "
                        "borrows on %d CPU%s: luck, not correctness. Run it again with more "
                        "threads or borrows.",
                        p->borrows, ct_cpus(), plural(ct_cpus()));
    }
    if (r->cost_ran) {
        double pns = r->cost[FLAG_PLAIN][COST_REPS / 2], cns = r->cost[FLAG_CAS][COST_REPS / 2];
        double ratio = pns > 0 ? cns / pns : 0;
        if (ratio >= 1.5)
            ct_takeaway(run,
                        "Cost: on one thread a plain-flag borrow and release took %.2f ns and a "
                        "CAS one %.2f ns, %.1fx as much. That atomic read-modify-write is what a "
                        "Sync type pays on every borrow, and why Rust keeps the cheaper RefCell "
                        "for data that stays on one thread.",
                        pns, cns, ratio);
        else
            ct_takeaway(run,
                        "Cost: on one thread a plain-flag borrow and release took %.2f ns and a "
                        "CAS one %.2f ns (%.1fx): on this machine and run the atomic "
                        "read-modify-write cost little extra, so correctness was nearly free "
                        "here; on many CPUs it costs several times the plain check.",
                        pns, cns, ratio);
    }
}

static void report_reentrant(struct ct_run *run, const struct reentrant_result *r, int n)
{
    const struct tokens *a = &r->tok, *b = &r->tok_r;
    ct_result_int(run, "strtok_records", "(d) records found by nested strtok", a->records, NULL);
    ct_result_text(run, "strtok_fields", "(d) fields found by nested strtok", a->list);
    ct_result_int(run, "strtok_r_records", "(d) records found by nested strtok_r", b->records,
                  NULL);
    ct_result_text(run, "strtok_r_fields", "(d) fields found by nested strtok_r", b->list);
    ct_check(run, b->records == SERVERS_RECORDS && b->fields == SERVERS_FIELDS,
             "reentrant: strtok_r found all %d records and %d fields (%d, %d)", SERVERS_RECORDS,
             SERVERS_FIELDS, b->records, b->fields);
    ct_check(run, a->records < b->records,
             "reentrant: nested strtok lost records, as the demo claims (%d of %d found)",
             a->records, b->records);
    ct_takeaway(run,
                "(d) On a single thread, nested strtok loops found %d of %d records: the inner "
                "loop reused strtok's one hidden position and left it at the end of the first "
                "record. strtok_r keeps the position in a variable you own, so the two loops "
                "could not disturb each other and it found all %d.",
                a->records, b->records, b->records);

    static const char *const cols[] = {
        "storage", "how", "calls", "corrupted", "ms|time ms", "ns_per_call|ns/call", NULL,
    };
    struct ct_table *t = NULL;
    for (int k = 0; k < NSTORES; k++) {
        const struct stamp_result *s = &r->stamp[k];
        if (!s->ran)
            continue;
        if (!t)
            t = ct_table_new(run, "stamps", "(d) asctime-style formatting from several threads",
                             cols);
        ct_table_row(t, CT_TEXT(store_name[k]), CT_TEXT(store_how[k]), CT_INT(s->calls),
                     CT_INT(s->corrupted), CT_NUM(s->ms, 1),
                     CT_NUM(s->calls ? s->ms * 1e6 / (double)s->calls : 0, 1));
        if (k != STORE_STATIC)
            ct_check(run, s->corrupted == 0, "reentrant: %s: %lld of %lld results corrupted",
                     store_how[k], s->corrupted, s->calls);
        else
            ct_check(run, s->corrupted <= s->calls && (n > 1 || s->corrupted == 0),
                     "reentrant: static buffer: %lld of %lld results corrupted, none with one "
                     "thread", s->corrupted, s->calls);
    }
    const struct stamp_result *st = &r->stamp[STORE_STATIC];
    if (st->ran && st->corrupted > 0)
        ct_takeaway(run,
                    "With %d threads sharing one static buffer, %lld of %lld formatted stamps "
                    "(%.2f%%) came back holding another thread's text, e.g. '%s' instead of "
                    "'%s'. The _r version (your buffer) and the _Thread_local version (one "
                    "buffer per thread) returned 0 corrupted results.",
                    n, st->corrupted, st->calls, 100.0 * (double)st->corrupted / (double)st->calls,
                    st->bad_got, st->bad_want);
    else if (st->ran)
        ct_takeaway(run,
                    "This run's shared static buffer returned no corrupted stamps (%d thread%s, "
                    "%lld calls)%s. The function is still unsafe: the next run, or the next "
                    "machine, may interleave differently.",
                    n, plural(n), st->calls,
                    n == 1 ? ": one thread cannot collide with itself" : ": lucky timing");
    bool all = true;
    double ns[NSTORES] = { 0 };
    for (int k = 0; k < NSTORES; k++) {
        all &= r->stamp[k].ran && r->stamp[k].calls > 0;
        if (all)
            ns[k] = r->stamp[k].ms * 1e6 / (double)r->stamp[k].calls;
    }
    if (all)
        ct_takeaway(run,
                    "Per call: %.0f ns with the shared buffer, %.0f ns with the caller's and "
                    "%.0f ns with the thread-local one. Neither fix takes a lock; each only "
                    "stops sharing the storage.%s",
                    ns[STORE_STATIC], ns[STORE_CALLER], ns[STORE_TLS],
                    ns[STORE_STATIC] > 1.2 * ns[STORE_CALLER] && ns[STORE_STATIC] > 1.2 * ns[STORE_TLS]
                        ? " Sharing was even the slowest here: every call wrote cache lines that "
                          "other cores were writing too."
                        : " The three cost about the same on this run.");
}

static int send_sync_run(struct ct_run *run)
{
    int n = (int)ct_param_int(run, "threads");
    int rc = 0;

    if (ct_param_has(run, "parts", "send")) {
        ct_section(run, "(a) Send: moving heap parcels into %d thread%s", n, plural(n));
        struct send_result s;
        rc = part_send(run, n, &s);
        if (rc || ct_cancelled(run))
            return rc;
        report_send(run, &s);
    }
    if (ct_param_has(run, "parts", "sync")) {
        ct_section(run, "(b) Sync: %d reader%s share one read-only object, no lock", n, plural(n));
        struct sync_result s;
        rc = part_sync(run, n, &s);
        if (rc || ct_cancelled(run))
            return rc;
        report_sync(run, &s);
    }
    if (ct_param_has(run, "parts", "not-sync")) {
        struct notsync_result r = { 0 };
        rc = part_notsync(run, n, &r);
        if (rc || ct_cancelled(run))
            return rc;
        report_notsync(run, &r, n);
    }
    if (ct_param_has(run, "parts", "reentrant")) {
        struct reentrant_result r = { 0 };
        rc = part_reentrant(run, n, &r);
        if (rc || ct_cancelled(run))
            return rc;
        report_reentrant(run, &r, n);
    }
    ct_result_int(run, "cpus", "CPUs online", ct_cpus(), NULL);
    return 0;
}

static const struct ct_param_spec send_sync_params[] = {
    { "parts", CT_PARAM_SET, "all", 0, 0, "send,sync,not-sync,reentrant",
      "which parts to run: (a) send, (b) sync, (c) not-sync, (d) reentrant" },
    { "threads", CT_PARAM_INT, "4", 1, MAX_THREADS, NULL,
      "threads in each part (the slow-motion round uses at most 3)" },
    { "size-kb", CT_PARAM_INT, "256", 1, 65536, NULL,
      "(b) size of the shared read-only object, KiB" },
    { "reads", CT_PARAM_INT, "40", 1, 1000000, NULL, "(b) whole-object reads per reader" },
    { "borrows", CT_PARAM_INT, "1000000", 1, 100000000, NULL,
      "(c) exclusive borrows per thread at full speed" },
    { "slow-borrows", CT_PARAM_INT, "3", 0, 50, NULL,
      "(c) borrows per thread in the slow-motion round (0 skips it)" },
    { "hold-ms", CT_PARAM_NUM, "40", 1, 1000, NULL,
      "(c) how long a slow-motion borrow is held, ms (scaled by --scale)" },
    { "calls", CT_PARAM_INT, "50000", 1, 10000000, NULL,
      "(d) calls per thread to each formatting function" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_send_sync = {
    .name = "send-sync",
    .chapter = 3,
    .title = "Send and Sync, kept by hand",
    .summary = "Moving ownership, sharing read-only data, a borrow flag that is not Sync, "
               "and strtok/asctime next to their _r fixes",
    .intro = "Four parts: (a) heap buffers moved into threads that use and free them; (b) "
             "readers sharing one immutable object with no lock; (c) a RefCell-style borrow "
             "flag shared between threads, first checked with a plain load and store, then "
             "with compare-and-swap; (d) strtok and an asctime-style static buffer next to "
             "their reentrant versions. Every count below was measured in this run.",
    .params = send_sync_params,
    .smoke = "threads=2 size-kb=16 reads=5 borrows=20000 slow-borrows=1 hold-ms=5 calls=2000",
    .run = send_sync_run,
};
