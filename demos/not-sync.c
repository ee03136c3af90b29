/* not-sync.c - demo `not-sync`: state that is correct on one thread and
 * wrong when threads share it.
 *
 * Shows, in two parts (parameter `parts`):
 *   borrow: a RefCell-style borrow flag.  borrow_mut() checks the flag and
 *           sets it; if the flag says "borrowed" it reports the conflict as
 *           the panic Rust's RefCell would raise (counted; the thread goes
 *           on).  On one thread the check catches every conflict.  Shared by
 *           threads, the plain check (a load, then a store: relaxed atomics,
 *           so the race is real and the behaviour defined) lets two threads
 *           in at once, unnoticed; an occupancy counter inside the borrow
 *           counts those misses.  The fix is a compare-and-swap flag.  A
 *           slow-motion round draws it on the timeline, a full-speed round
 *           counts it, and a one-thread loop prices each flag.
 *   libc:   strtok's hidden position breaking a nested loop on one thread,
 *           next to strtok_r; then an asctime-style function returning a
 *           static buffer (modelled as relaxed atomic chars) called from
 *           several threads, next to the caller's buffer (_r) and a
 *           _Thread_local buffer.
 * Watch for: the plain flag's missed conflicts and lost updates against
 * the CAS flag's zeros; the records strtok loses; stamps that come back
 * with another thread's text, and the zeros in both fixes.
 * Lesson: neither-send-nor-sync (chapter 3).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crew.h"
#include "demo.h"
#include "clock.h"
#include "stats.h"

#define MAX_THREADS 16
#define SLOW_THREADS 3          /* lanes in the slow-motion round */
#define CANCEL_EVERY 4096       /* loop turns between looks at the cancel flag */
#define OUTSIDE_WORK 16         /* steps of a thread's own work between borrows */
#define COST_REPS 5

static const char *plural(long long n)
{
    return n == 1 ? "" : "s";
}

/* ---- the borrow flag --------------------------------------------------- */

enum flag_kind { FLAG_PLAIN, FLAG_CAS, NFLAGS };

static const char *const flag_name[NFLAGS] = { "plain", "cas" };
static const char *const flag_how[NFLAGS] = {
    "load the flag, if 0 store 1 (RefCell)",
    "compare-and-swap 0 -> 1",
};

/* A RefCell<long> look-alike: a borrow flag and the value it guards. */
struct cell {
    atomic_int borrowed;        /* 0 free, 1 exclusively borrowed */
    atomic_llong value;         /* only touched inside a borrow */
};

/* borrow_mut: true if the caller now holds the borrow (or believes it does:
 * the plain check can be fooled by another thread that checks between our
 * load and our store).  False when the flag says "borrowed": where RefCell
 * panics with "already borrowed".  `gap_ms` > 0 (slow motion) widens the
 * plain check's window with a sleep; the CAS has no window. */
static bool cell_borrow_mut(struct cell *c, enum flag_kind k, struct ct_run *run, double gap_ms)
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

static void cell_init(struct cell *c)
{
    atomic_init(&c->borrowed, 0);
    atomic_init(&c->value, 0);
}

/* On one thread the flag does its job: a second borrow_mut while the first
 * is held must be refused.  True if it was. */
static bool nested_borrow_refused(enum flag_kind k)
{
    struct cell c;
    cell_init(&c);
    bool first = cell_borrow_mut(&c, k, NULL, 0);
    bool second = cell_borrow_mut(&c, k, NULL, 0);
    cell_release(&c, k);
    return first && !second;
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
    struct ct_member m;         /* first */
    struct borrow_shared *sh;
    long long tries;            /* borrow_mut calls to make */
    double hold_ms;             /* slow motion only */
    long long done, taken, panics, overlaps;
    uint64_t scratch;           /* the outside work's result, so it is not elided */
};

/* Full speed: `tries` borrow_mut calls as fast as possible.  A refused one
 * is counted as a panic and the thread tries again at once; a taken one is
 * followed by some work of the thread's own. */
static void *borrower_fast(void *arg)
{
    struct borrower *b = arg;
    struct borrow_shared *sh = b->sh;
    if (!ct_member_begin(&b->m))
        return NULL;
    long long i = 0;
    for (; i < b->tries; i++) {
        if (i % CANCEL_EVERY == 0 && ct_cancelled(b->m.run))
            break;
        if (!cell_borrow_mut(&sh->cell, sh->kind, b->m.run, 0)) {
            b->panics++;        /* and straight on to the next try */
            continue;
        }
        b->taken++;
        b->overlaps += borrow_enter(sh) > 1;
        borrow_work(sh);
        borrow_leave(sh);
        cell_release(&sh->cell, sh->kind);
        /* the thread's own work between borrows; leaves the flag free */
        for (int j = 0; j < OUTSIDE_WORK; j++)
            b->scratch = b->scratch * 6364136223846793005u + 1442695040888963407u;
    }
    b->done = i;
    ct_member_end(&b->m);
    return NULL;
}

/* One slow-motion borrow, held for hold_ms, every step on the timeline.
 * False if the run was cancelled. */
static bool slow_borrow(struct borrower *b, double gap)
{
    struct borrow_shared *sh = b->sh;
    struct ct_run *run = b->m.run;
    if (!cell_borrow_mut(&sh->cell, sh->kind, run, gap)) {
        b->panics++;
        ct_point(run, 'P');
        ct_say(run, "borrow_mut: already borrowed -> panic");
        return true;
    }
    if (ct_cancelled(run)) {            /* woke from the gap because of Ctrl-C */
        cell_release(&sh->cell, sh->kind);
        return false;
    }
    b->taken++;
    int holders = borrow_enter(sh);
    ct_mark(run, CT_HOLD);
    if (holders > 1) {
        b->overlaps++;
        ct_point(run, '!');
        ct_say(run, "borrowed while %d other%s held it: no panic!", holders - 1,
               plural(holders - 1));
    } else {
        ct_say(run, "took the exclusive borrow, alone");
    }
    borrow_work(sh);
    bool slept = ct_sleep_ms(run, b->hold_ms);
    borrow_leave(sh);
    cell_release(&sh->cell, sh->kind);
    ct_mark(run, CT_IDLE);
    return slept;
}

/* Slow motion: a few tries with sleeps, on the same schedule for both
 * flags: thread 2 checks the flag half a gap after thread 1, inside its
 * check-to-store window; later threads arrive while the cell is held; the
 * pauses between tries differ per thread so that arrivals drift apart. */
static void *borrower_slow(void *arg)
{
    struct borrower *b = arg;
    struct ct_run *run = b->m.run;
    double hold = b->hold_ms, gap = hold / 4;
    int id = b->m.id;
    double start = id == 1 ? 0 : id == 2 ? gap / 2 : gap + (id - 2) * hold / 2;
    double pause = hold * (1 + 0.5 * (id - 1));
    if (!ct_member_begin(&b->m))
        return NULL;
    bool go = ct_sleep_ms(run, start);
    for (; go && b->done < b->tries; b->done++) {
        go = slow_borrow(b, gap);
        if (go && b->done + 1 < b->tries)
            go = ct_sleep_ms(run, pause);
    }
    ct_mark(run, CT_IDLE);
    ct_member_end(&b->m);
    return NULL;
}

struct borrow_result {
    int threads, max_holders;
    long long tries, taken, panics, overlaps, value;
    double ms;
};

/* One round of tries with `n` threads and one kind of flag. */
static int borrow_round(struct ct_run *run, enum flag_kind kind, int n, long long tries,
                        double hold_ms, struct borrow_result *out)
{
    bool slow = hold_ms > 0;
    struct borrow_shared sh = { .kind = kind };
    cell_init(&sh.cell);
    atomic_init(&sh.holders, 0);
    atomic_init(&sh.max_holders, 0);
    struct borrower w[MAX_THREADS] = { 0 };
    for (int i = 0; i < n; i++)
        w[i] = (struct borrower){ .sh = &sh, .tries = tries, .hold_ms = hold_ms };
    /* the fast threads print nothing and draw nothing: a short label */
    const char *prefix = slow ? flag_name[kind] : "fast";
    double ms = 0;
    int rc = ct_crew_run(run, w, sizeof w[0], n, slow ? borrower_slow : borrower_fast, prefix, &ms);
    *out = (struct borrow_result){ .threads = n, .ms = ms,
                                   .value = atomic_load(&sh.cell.value),
                                   .max_holders = atomic_load(&sh.max_holders) };
    for (int i = 0; i < n; i++) {
        out->tries += w[i].done;
        out->taken += w[i].taken;
        out->panics += w[i].panics;
        out->overlaps += w[i].overlaps;
    }
    return rc;
}

/* The flag's own price: ns per borrow and release on one thread with
 * nothing else in the loop.  Counts in *busy the times the flag was found
 * taken, which on one thread must never happen.  Negative if cancelled. */
static double flag_cost_ns(struct ct_run *run, enum flag_kind k, long long iters, long long *busy)
{
    struct cell c;
    cell_init(&c);
    int64_t t0 = ct_clock_ns();
    for (long long i = 0; i < iters;) {
        if (ct_cancelled(run))
            return -1;
        long long end = i + CANCEL_EVERY < iters ? i + CANCEL_EVERY : iters;
        for (; i < end; i++) {
            if (!cell_borrow_mut(&c, k, run, 0))
                ++*busy;
            cell_release(&c, k);
        }
    }
    return (double)(ct_clock_ns() - t0) / (double)iters;
}

/* ---- libc's hidden state ----------------------------------------------- */

/* A nested tokenising job: records split by ';', fields by ','. */
static const char servers[] = "db1,5432;db2,5433;db3,5434";
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
    ct_say(run, "strtok   stopped after %d record%s", t->records, plural(t->records));
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
    ct_say(run, "strtok_r stopped after %d record%s", t->records, plural(t->records));
}

/* asctime's layout, without its trailing newline: "Tue Nov 14 22:13:20 2023". */
#define STAMP_MAX 32

static void stamp_format(char *out, const struct tm *tm)
{
    static const char wday[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    /* years up to 9999 fit; the demo's do */
    snprintf(out, STAMP_MAX, "%.3s %.3s%3d %.2d:%.2d:%.2d %d", wday[tm->tm_wday % 7],
             mon[tm->tm_mon % 12], tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec,
             1900 + tm->tm_year);
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
static const char *const store_crew[NSTORES] = { "static", "caller", "tls" };
static const char *const store_how[NSTORES] = {
    "static buffer (asctime)",
    "caller's (asctime_r)",
    "_Thread_local",
};

/* Format `tm` through `store` into got. */
static void stamp_via(enum storage store, const struct tm *tm, char got[STAMP_MAX])
{
    char mine[STAMP_MAX];
    switch (store) {
    case STORE_STATIC: {
        const _Atomic char *p = stamp_static(tm);
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
        memcpy(got, stamp_r(tm, mine), STAMP_MAX);
        break;
    case STORE_TLS:
        memcpy(got, stamp_tls(tm), STAMP_MAX);
        break;
    case NSTORES:
        break;
    }
}

struct stamper {
    struct ct_member m;         /* first */
    enum storage store;
    long long target, calls, corrupted;
    char bad_got[STAMP_MAX], bad_want[STAMP_MAX];   /* the first corrupted result */
};

static void *stamper_main(void *arg)
{
    struct stamper *s = arg;
    if (!ct_member_begin(&s->m))
        return NULL;
    /* each thread formats its own instants, on a date 1000 days after the
     * previous thread's, so text from another thread is never the text we
     * want; the time of day steps by a second per call (no gmtime_r in the
     * loop: glibc takes a lock in it, which would keep the threads apart) */
    time_t day = (time_t)1700000000 + (time_t)s->m.id * 1000 * 86400;
    struct tm tm;
    gmtime_r(&day, &tm);
    long long i = 0;
    for (; i < s->target; i++) {
        if (i % CANCEL_EVERY == 0 && ct_cancelled(s->m.run))
            break;
        tm.tm_sec = (int)(i % 60);
        tm.tm_min = (int)(i / 60 % 60);
        tm.tm_hour = (int)(i / 3600 % 24);
        char want[STAMP_MAX], got[STAMP_MAX];
        stamp_format(want, &tm);
        stamp_via(s->store, &tm, got);
        if (strcmp(got, want) != 0 && s->corrupted++ == 0) {
            memcpy(s->bad_got, got, STAMP_MAX);
            memcpy(s->bad_want, want, STAMP_MAX);
        }
    }
    s->calls = i;
    ct_member_end(&s->m);
    ct_say(s->m.run, "%lld calls, %lld came back with text not its own", s->calls,
           s->corrupted);
    return NULL;
}

/* ---- running the parts ------------------------------------------------- */

struct config {
    bool borrow, libc;
    int threads;
    long long tries, slow_tries, calls;
    double hold_ms;
};

struct borrow_part {
    bool ran, slow_ran, cost_ran;
    bool nested_refused[NFLAGS];
    struct borrow_result slow[NFLAGS];
    struct borrow_result fast[NFLAGS][2];   /* [kind][0: one thread, 1: n threads] */
    int nfast;                              /* 1 or 2 thread counts */
    struct ct_stats cost[NFLAGS];           /* ns per borrow and release */
    long long cost_busy;
};

struct stamp_result {
    bool ran;
    long long calls, corrupted;
    double ms;
    char bad_got[STAMP_MAX], bad_want[STAMP_MAX];
};

struct libc_part {
    bool ran;
    struct tokens tok, tok_r;
    struct stamp_result stamp[NSTORES];
};

struct result {
    struct borrow_part borrow;
    struct libc_part libc;
};

static int run_slow(struct ct_run *run, const struct config *cfg, struct borrow_part *out)
{
    int n = cfg->threads < SLOW_THREADS ? cfg->threads : SLOW_THREADS;
    ct_legend(run, CT_HOLD, "holding the exclusive borrow");
    ct_legend(run, CT_RUN, "checked the flag, not yet set it (slow-motion gap)");
    ct_point_legend(run, 'P', "borrow_mut panicked: already borrowed");
    ct_point_legend(run, '!', "borrowed while another thread held it");
    for (int k = 0; k < NFLAGS; k++) {
        ct_section(run, "slow motion, %s flag: %s", flag_name[k], flag_how[k]);
        if (k == FLAG_PLAIN)
            ct_say(run, "a %.0f ms pause after the check widens the window",
                   cfg->hold_ms / 4);
        else
            ct_say(run, "check and set are one instruction: no window to widen");
        int rc = borrow_round(run, (enum flag_kind)k, n, cfg->slow_tries, cfg->hold_ms,
                              &out->slow[k]);
        if (rc || ct_cancelled(run))
            return rc;
        ct_say(run, "%lld tries: %lld panics, %lld missed", out->slow[k].tries,
               out->slow[k].panics, out->slow[k].overlaps);
    }
    out->slow_ran = true;
    return 0;
}

static int run_fast(struct ct_run *run, const struct config *cfg, struct borrow_part *out)
{
    int counts[2] = { 1, cfg->threads };
    out->nfast = cfg->threads > 1 ? 2 : 1;
    for (int k = 0; k < NFLAGS; k++) {
        ct_section(run, "full speed, %s flag: %s", flag_name[k], flag_how[k]);
        for (int t = 0; t < out->nfast; t++) {
            struct borrow_result *r = &out->fast[k][t];
            int rc = borrow_round(run, (enum flag_kind)k, counts[t], cfg->tries, 0, r);
            if (rc || ct_cancelled(run))
                return rc;
            ct_say(run, "%d thread%s: %lld panics, %lld missed, %lld lost",
                   r->threads, plural(r->threads), r->panics, r->overlaps, r->taken - r->value);
        }
    }
    return 0;
}

/* One warm-up, then the repetitions, alternating the kinds so that a burst
 * of load on the machine hits both. */
static int run_cost(struct ct_run *run, const struct config *cfg, struct borrow_part *out)
{
    double ns[NFLAGS][COST_REPS];
    ct_section(run, "what the flag alone costs: one thread, borrow and release");
    for (int rep = -1; rep < COST_REPS; rep++) {
        for (int k = 0; k < NFLAGS; k++) {
            double v = flag_cost_ns(run, (enum flag_kind)k, cfg->tries, &out->cost_busy);
            if (v < 0)
                return 0;
            if (rep >= 0)
                ns[k][rep] = v;
        }
    }
    for (int k = 0; k < NFLAGS; k++) {
        int rc = ct_stats_of(ns[k], COST_REPS, &out->cost[k]);
        if (rc)
            return rc;
        ct_say(run, "%-5s: %.2f ns per borrow and release (median of %d)", flag_name[k],
               out->cost[k].median, COST_REPS);
    }
    out->cost_ran = true;
    return 0;
}

static int run_borrow(struct ct_run *run, const struct config *cfg, struct borrow_part *out)
{
    ct_section(run, "one thread: borrow_mut while already borrowed");
    for (int k = 0; k < NFLAGS; k++) {
        out->nested_refused[k] = nested_borrow_refused((enum flag_kind)k);
        ct_say(run, "%-5s flag: nested borrow_mut %s", flag_name[k],
               out->nested_refused[k] ? "panicked, like RefCell" : "was ALLOWED");
    }
    int rc = cfg->slow_tries > 0 ? run_slow(run, cfg, out) : 0;
    if (rc == 0 && !ct_cancelled(run))
        rc = run_fast(run, cfg, out);
    if (rc == 0 && !ct_cancelled(run))
        rc = run_cost(run, cfg, out);
    out->ran = rc == 0 && !ct_cancelled(run);
    return rc;
}

static int run_libc(struct ct_run *run, const struct config *cfg, struct libc_part *out)
{
    int n = cfg->threads;
    ct_section(run, "hidden state on ONE thread: strtok vs strtok_r");
    ct_say(run, "splitting \"%s\"", servers);
    ct_say(run, "into records at ';', each into fields at ','");
    split_strtok(run, &out->tok);
    split_strtok_r(run, &out->tok_r);

    for (int k = 0; k < NSTORES; k++) {
        ct_section(run, "%d thread%s format timestamps: %s", n, plural(n), store_how[k]);
        struct stamper s[MAX_THREADS] = { 0 };
        for (int i = 0; i < n; i++)
            s[i] = (struct stamper){ .store = (enum storage)k, .target = cfg->calls };
        struct stamp_result *r = &out->stamp[k];
        int rc = ct_crew_run(run, s, sizeof s[0], n, stamper_main, store_crew[k], &r->ms);
        if (rc || ct_cancelled(run))
            return rc;
        for (int i = 0; i < n; i++) {
            r->calls += s[i].calls;
            if (s[i].corrupted && !r->corrupted) {
                memcpy(r->bad_got, s[i].bad_got, STAMP_MAX);
                memcpy(r->bad_want, s[i].bad_want, STAMP_MAX);
            }
            r->corrupted += s[i].corrupted;
        }
        r->ran = true;
        if (r->corrupted) {
            ct_say(run, "e.g. a call that wanted '%s'", r->bad_want);
            ct_say(run, "got back                '%s'", r->bad_got);
        }
    }
    out->ran = true;
    return 0;
}

/* ---- reporting the borrow flag ------------------------------------------ */

/* A row of the slow or full-speed table; the slow one is not timed (its
 * sleeps would be all there is to see). */
static void borrow_row(struct ct_table *t, enum flag_kind k, const struct borrow_result *b,
                       bool with_ns)
{
    double ns = b->tries ? b->ms * 1e6 / (double)b->tries : 0;
    if (with_ns)
        ct_table_row(t, CT_TEXT(flag_name[k]), CT_INT(b->threads), CT_INT(b->tries),
                     CT_INT(b->taken), CT_INT(b->panics), CT_INT(b->overlaps),
                     CT_INT(b->taken - b->value), CT_NUM(ns, 2));
    else
        ct_table_row(t, CT_TEXT(flag_name[k]), CT_INT(b->threads), CT_INT(b->tries),
                     CT_INT(b->taken), CT_INT(b->panics), CT_INT(b->overlaps),
                     CT_INT(b->taken - b->value));
}

static const char *const borrow_cols[] = {
    "flag", "threads", "tries", "taken", "panics", "missed", "lost", "ns_per_try|ns/try", NULL,
};
static const char *const slow_cols[] = {
    "flag", "threads", "tries", "taken", "panics", "missed", "lost", NULL,
};

static void report_borrow_tables(struct ct_run *run, const struct borrow_part *r)
{
    if (r->slow_ran) {
        struct ct_table *s = ct_table_new(run, "slow", "slow motion (missed: borrowed while "
                                          "held, no panic)", slow_cols);
        for (int k = 0; k < NFLAGS; k++)
            borrow_row(s, (enum flag_kind)k, &r->slow[k], false);
    }
    struct ct_table *t = ct_table_new(run, "borrows", "full speed", borrow_cols);
    for (int k = 0; k < NFLAGS; k++) {
        for (int i = 0; i < r->nfast; i++)
            borrow_row(t, (enum flag_kind)k, &r->fast[k][i], true);
    }
    if (r->cost_ran) {
        static const char *const cost_cols[] = {
            "flag", "how", "ns_median|ns median", "ns_min|min", "ns_max|max", NULL,
        };
        struct ct_table *c = ct_table_new(run, "flag_cost",
                                          "one borrow and release, one thread, nothing else",
                                          cost_cols);
        for (int k = 0; k < NFLAGS; k++)
            ct_table_row(c, CT_TEXT(flag_name[k]), CT_TEXT(flag_how[k]),
                         CT_NUM(r->cost[k].median, 2), CT_NUM(r->cost[k].min, 2),
                         CT_NUM(r->cost[k].max, 2));
        ct_bars(run, c, "what the flag costs uncontended (shorter is cheaper)", 0, 2, "ns");
    }
    const struct borrow_result *p = &r->fast[FLAG_PLAIN][r->nfast - 1];
    ct_result_int(run, "plain_max_holders", "most holders, plain", p->max_holders, NULL);
}

/* The promises: on one thread either flag is exact; the CAS flag is exact
 * on any number; a plain flag loses updates only where it let two in. */
static void check_round(struct ct_run *run, const char *what, enum flag_kind k,
                        const struct borrow_result *b)
{
    if (k == FLAG_CAS || b->threads == 1)
        ct_check(run, b->overlaps == 0 && b->value == b->taken && b->max_holders <= 1,
                 "%s, %s, %d thread%s: %lld missed, value %lld of %lld taken", what,
                 flag_name[k], b->threads, plural(b->threads), b->overlaps, b->value, b->taken);
    else
        ct_check(run, b->value == b->taken || b->overlaps > 0,
                 "%s, %s: lost updates (%lld) only with missed conflicts (%lld)",
                 what, flag_name[k], b->taken - b->value, b->overlaps);
}

static void report_borrow_checks(struct ct_run *run, const struct borrow_part *r)
{
    for (int k = 0; k < NFLAGS; k++)
        ct_check(run, r->nested_refused[k], "%s flag, one thread: a nested borrow_mut panics",
                 flag_name[k]);
    if (r->slow_ran) {
        for (int k = 0; k < NFLAGS; k++)
            check_round(run, "slow", (enum flag_kind)k, &r->slow[k]);
    }
    for (int k = 0; k < NFLAGS; k++) {
        for (int i = 0; i < r->nfast; i++)
            check_round(run, "fast", (enum flag_kind)k, &r->fast[k][i]);
    }
    if (r->cost_ran)
        ct_check(run, r->cost_busy == 0, "one thread never finds its own flag busy (%lld "
                 "times)", r->cost_busy);
}

static void takeaway_slow(struct ct_run *run, const struct borrow_part *r)
{
    const struct borrow_result *p = &r->slow[FLAG_PLAIN], *c = &r->slow[FLAG_CAS];
    if (p->overlaps > 0)
        ct_takeaway(run,
                    "In slow motion the plain flag panicked %lld time%s ('P'), but %lld "
                    "time%s it let a thread borrow while another held the cell ('!'): both "
                    "read 0 before either stored 1, so nothing warned anybody. The CAS flag "
                    "panicked %lld time%s and never let a second holder in.",
                    p->panics, plural(p->panics), p->overlaps, plural(p->overlaps), c->panics,
                    plural(c->panics));
    else if (p->threads == 1)
        ct_takeaway(run,
                    "The slow-motion round ran on one thread, so the plain flag could miss no "
                    "conflict: a thread cannot race with itself. Run it with threads=2 or more "
                    "to see the window let a second holder in.");
    else
        ct_takeaway(run,
                    "This run's slow-motion round happened to show no missed conflict with the "
                    "plain flag: no two threads checked it within the same window. That is "
                    "timing, not safety; the full-speed counts are the evidence.");
}

static void takeaway_fast(struct ct_run *run, int n, const struct borrow_part *r)
{
    const struct borrow_result *p = &r->fast[FLAG_PLAIN][1], *c = &r->fast[FLAG_CAS][1];
    if (p->overlaps > 0)
        ct_takeaway(run,
                    "At full speed with %d threads the plain flag caught %lld conflicts (each a "
                    "panic in Rust) and missed %lld: borrows taken while another thread held "
                    "the cell (up to %d holders at once), which lost %lld updates. The CAS flag "
                    "caught every one (%lld panics, 0 missed, 0 lost). RefCell's check is "
                    "right only while one thread does all the checking: that is what \"not "
                    "Sync\" means.",
                    n, p->panics, p->overlaps, p->max_holders, p->taken - p->value, c->panics);
    else
        ct_takeaway(run,
                    "At full speed this run's plain flag happened to miss no conflict in %lld "
                    "tries on %d CPU%s: luck, not correctness. Run it again with more threads "
                    "or borrows.",
                    p->tries, ct_cpus(), plural(ct_cpus()));
}

static void takeaway_cost(struct ct_run *run, const struct borrow_part *r)
{
    const struct ct_stats *p = &r->cost[FLAG_PLAIN], *c = &r->cost[FLAG_CAS];
    char figures[160];
    snprintf(figures, sizeof figures,
             "On one thread a plain-flag borrow and release took %.2f ns (%.2f-%.2f) and a "
             "CAS one %.2f ns (%.2f-%.2f)", p->median, p->min, p->max, c->median, c->min,
             c->max);
    if (c->min > p->max)
        ct_takeaway(run, "%s: %.1fx as much in every repetition. That atomic read-modify-write "
                    "is what a flag shared by threads pays on every borrow, and why Rust keeps "
                    "the cheaper RefCell for data that stays on one thread.",
                    figures, p->median > 0 ? c->median / p->median : 0);
    else if (c->max < p->min)
        ct_takeaway(run, "%s: the CAS was the cheaper one in every repetition of this run.",
                    figures);
    else
        ct_takeaway(run, "%s. The ranges overlap, so this run cannot tell the two apart; more "
                    "borrows on a quieter machine give a steadier figure.", figures);
}

/* ---- reporting libc's hidden state -------------------------------------- */

static void report_strtok(struct ct_run *run, const struct libc_part *r)
{
    const struct tokens *a = &r->tok, *b = &r->tok_r;
    ct_result_int(run, "strtok_records", "strtok records", a->records, NULL);
    ct_result_text(run, "strtok_fields", "strtok fields", a->list);
    ct_result_int(run, "strtok_r_records", "strtok_r records", b->records, NULL);
    ct_result_text(run, "strtok_r_fields", "strtok_r fields", b->list);
    ct_check(run, b->records == SERVERS_RECORDS && b->fields == SERVERS_FIELDS,
             "strtok_r found all %d records and %d fields (%d, %d)", SERVERS_RECORDS,
             SERVERS_FIELDS, b->records, b->fields);
    ct_check(run, a->records < b->records, "nested strtok lost records (%d of %d found)",
             a->records, b->records);
    ct_takeaway(run,
                "On a single thread, nested strtok loops found %d of %d records: the inner loop "
                "reused strtok's one hidden position and left it at the end of the first "
                "record. strtok_r keeps the position in a variable you own, so the two loops "
                "could not disturb each other and it found all %d.",
                a->records, b->records, b->records);
}

static void report_stamps(struct ct_run *run, int n, const struct libc_part *r)
{
    static const char *const cols[] = {
        "storage", "how", "calls", "corrupted", "ms|time ms", "ns_per_call|ns/call", NULL,
    };
    struct ct_table *t = ct_table_new(run, "stamps", "asctime-style formatting, all threads",
                                      cols);
    double ns[NSTORES];
    for (int k = 0; k < NSTORES; k++) {
        const struct stamp_result *s = &r->stamp[k];
        ns[k] = s->calls ? s->ms * 1e6 / (double)s->calls : 0;
        ct_table_row(t, CT_TEXT(store_name[k]), CT_TEXT(store_how[k]), CT_INT(s->calls),
                     CT_INT(s->corrupted), CT_NUM(s->ms, 1), CT_NUM(ns[k], 1));
        /* the shared buffer on several threads is the bug on show: no promise */
        if (k != STORE_STATIC || n == 1)
            ct_check(run, s->corrupted == 0, "%s, %d thread%s: %lld of %lld results corrupted",
                     store_how[k], n, plural(n), s->corrupted, s->calls);
    }
    const struct stamp_result *st = &r->stamp[STORE_STATIC];
    if (st->corrupted > 0)
        ct_takeaway(run,
                    "With %d threads sharing one static buffer, %lld of %lld formatted stamps "
                    "(%.3f%%) came back holding another thread's text, e.g. '%s' instead of "
                    "'%s'. The caller's buffer (_r) returned %lld corrupted and the "
                    "_Thread_local one %lld.",
                    n, st->corrupted, st->calls, 100.0 * (double)st->corrupted / (double)st->calls,
                    st->bad_got, st->bad_want, r->stamp[STORE_CALLER].corrupted,
                    r->stamp[STORE_TLS].corrupted);
    else
        ct_takeaway(run,
                    "This run's shared static buffer returned no corrupted stamps (%d thread%s, "
                    "%lld calls)%s. The function is still unsafe: %s.",
                    n, plural(n), st->calls,
                    n == 1 ? ": one thread cannot collide with itself" : ": lucky timing",
                    n == 1 ? "run it with threads=2 or more to see calls collide"
                           : "the next run may interleave differently");
    ct_takeaway(run,
                "Per call: %.0f ns with the shared buffer, %.0f ns with the caller's and %.0f "
                "ns with the thread-local one, one timing each (raise calls= for steadier "
                "figures). Neither fix takes a lock; each only stops sharing the storage.",
                ns[STORE_STATIC], ns[STORE_CALLER], ns[STORE_TLS]);
}

static int not_sync_run(struct ct_run *run)
{
    const struct config cfg = {
        .borrow = ct_param_has(run, "parts", "borrow"),
        .libc = ct_param_has(run, "parts", "libc"),
        .threads = (int)ct_param_int(run, "threads"),
        .tries = ct_param_int(run, "borrows"),
        .slow_tries = ct_param_int(run, "slow-borrows"),
        .hold_ms = ct_param_num(run, "hold-ms"),
        .calls = ct_param_int(run, "calls"),
    };
    struct result res = { .borrow = { .ran = false } };
    int rc = cfg.borrow ? run_borrow(run, &cfg, &res.borrow) : 0;
    if (rc == 0 && !ct_cancelled(run) && cfg.libc)
        rc = run_libc(run, &cfg, &res.libc);
    if (rc || ct_cancelled(run))
        return rc;

    if (res.borrow.ran) {
        report_borrow_tables(run, &res.borrow);
        report_borrow_checks(run, &res.borrow);
        if (res.borrow.slow_ran)
            takeaway_slow(run, &res.borrow);
        if (res.borrow.nfast == 2)
            takeaway_fast(run, cfg.threads, &res.borrow);
        takeaway_cost(run, &res.borrow);
    }
    if (res.libc.ran) {
        report_strtok(run, &res.libc);
        report_stamps(run, cfg.threads, &res.libc);
    }
    ct_result_int(run, "cpus", "CPUs online", ct_cpus(), NULL);
    return 0;
}

static const struct ct_param_spec not_sync_params[] = {
    { "parts", CT_PARAM_SET, "all", 0, 0, "borrow,libc",
      "borrow: a RefCell-style flag shared by threads; libc: strtok and asctime vs their _r "
      "fixes" },
    { "threads", CT_PARAM_INT, "4", 1, MAX_THREADS, NULL,
      "threads sharing the flag or the libc state (slow motion uses at most 3)" },
    { "borrows", CT_PARAM_INT, "1000000", 1, 100000000, NULL,
      "borrow_mut calls per thread at full speed" },
    { "slow-borrows", CT_PARAM_INT, "3", 0, 50, NULL,
      "borrow_mut calls per thread in slow motion (0 skips it)" },
    { "hold-ms", CT_PARAM_NUM, "40", 1, 1000, NULL,
      "how long a slow-motion borrow is held, ms (scaled by --scale)" },
    { "calls", CT_PARAM_INT, "50000", 1, 10000000, NULL,
      "calls per thread to each formatting function" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_not_sync = {
    .name = "not-sync",
    .chapter = 3,
    .title = "Neither Send nor Sync: state made for one thread",
    .summary = "A RefCell-style borrow flag shared by threads, and strtok/asctime next to "
               "their _r fixes",
    .intro = "A RefCell-style borrow flag panics when borrow_mut finds it taken. Shared by "
             "threads, a plain check-then-set lets two of them in at once with no panic; a "
             "compare-and-swap flag never does. Then libc's hidden state: strtok and an "
             "asctime-style static buffer next to strtok_r, a caller's buffer and "
             "_Thread_local.",
    .params = not_sync_params,
    .smoke = "threads=2 borrows=20000 slow-borrows=1 hold-ms=5 calls=2000",
    .run = not_sync_run,
};
