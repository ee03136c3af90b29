/* test-locks.c - every lock kind of chapter 4 (locks.h) under stress, in
 * the manner of Concurrency Kit's validate regressions: threads count
 * themselves in and out of the critical section with atomics, and after
 * the join the counters must show that no writer ever shared the lock with
 * a reader or another writer, and that readers of the reader-writer kinds
 * did share it (forced with a gate, not left to luck).  The seqlock's
 * readers hold nothing, so for it the check is on what they keep: no read
 * that passed the seqlock's check may have overlapped a writer or seen the
 * pair torn.  Then the timed and cancellable waits, the give-up paths, and
 * the writer preference of the project's own reader-writer locks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brlock.h"
#include "hslock.h"
#include "clock.h"
#include "event.h"
#include "locks.h"
#include "params.h"
#include "registry.h"
#include "rwlock.h"
#include "seqlock.h"
#include "stats.h"

#define LONG_NS (10 * CT_NS_PER_S)     /* "forever", for a test: only a bug waits this long */

/* ---- the validation harness ------------------------------------------- */

struct validate {
    const struct ct_lock_kind *kind;
    void *lock;
    int threads;
    long iters;
    unsigned write_per_mille;
    atomic_int readers, writers;        /* inside the critical section now */
    atomic_long ww, wr, rw;             /* writer saw writer; writer saw reader; reader saw writer */
    atomic_long shared_reads;           /* reads that found another reader inside */
    atomic_int max_readers;
    atomic_long lock_errors;
    long a, b;                          /* guarded: writers keep a == b */
    /* the same pair for the seqlock's readers, which read while a writer
     * writes: atomics, or that would be a data race */
    atomic_long sa, sb;
    atomic_long torn;                   /* reads that saw a != b */
    atomic_long retries;                /* seqlock reads that had to start over */
    atomic_int started;                 /* workers begin together */
    /* the gate */
    atomic_int gate_in;
    atomic_long gate_timeouts;
};

struct worker {
    struct validate *v;
    int id;
    long writes;
};

/* Work inside the section, so that sections last long enough to meet. */
static void dawdle(unsigned n)
{
    for (volatile unsigned i = 0; i < n; i++)
        ;
}

/* The bookkeeping below uses relaxed atomics on purpose: they are still
 * exact counters, but they create no happens-before edges of their own.
 * The only ordering between one critical section and the next then comes
 * from the lock, so ThreadSanitizer checks the lock itself when it looks
 * at the plain accesses to a and b.  (seq_cst counters would synchronise
 * the threads by themselves and hide a lock with too weak an ordering.) */
#define RELAXED memory_order_relaxed

static void write_section(struct validate *v)
{
    if (atomic_fetch_add_explicit(&v->writers, 1, RELAXED) != 0)
        atomic_fetch_add_explicit(&v->ww, 1, RELAXED);
    if (atomic_load_explicit(&v->readers, RELAXED) != 0)
        atomic_fetch_add_explicit(&v->wr, 1, RELAXED);
    v->a++;
    atomic_store_explicit(&v->sa, atomic_load_explicit(&v->sa, RELAXED) + 1, RELAXED);
    dawdle(50);
    v->b++;
    atomic_store_explicit(&v->sb, atomic_load_explicit(&v->sb, RELAXED) + 1, RELAXED);
    atomic_fetch_sub_explicit(&v->writers, 1, RELAXED);
}

static void read_section(struct validate *v)
{
    int inside = atomic_fetch_add_explicit(&v->readers, 1, RELAXED) + 1;
    ct_atomic_max(&v->max_readers, inside);
    if (inside > 1)
        atomic_fetch_add_explicit(&v->shared_reads, 1, RELAXED);
    if (atomic_load_explicit(&v->writers, RELAXED) != 0)
        atomic_fetch_add_explicit(&v->rw, 1, RELAXED);
    long a = v->a;
    dawdle(50);
    if (v->b != a)
        atomic_fetch_add_explicit(&v->torn, 1, RELAXED);
    atomic_fetch_sub_explicit(&v->readers, 1, RELAXED);
}

/* A seqlock read: read, then check; start over if a writer came in.  A
 * read that passes the check must not have seen a writer inside.  (That
 * holds even with relaxed counters: a writer counts itself in after the
 * release fence that follows its odd number, so a reader that sees the
 * count, then the acquire fence in read_retry, sees the odd number too.) */
static void optimistic_read(struct validate *v)
{
    const struct ct_lock_kind *k = v->kind;
    for (;;) {
        uint32_t s = k->read_begin(v->lock);
        int writers = atomic_load_explicit(&v->writers, RELAXED);
        long a = atomic_load_explicit(&v->sa, RELAXED);
        dawdle(50);
        long b = atomic_load_explicit(&v->sb, RELAXED);
        if (k->read_retry(v->lock, s)) {
            atomic_fetch_add_explicit(&v->retries, 1, RELAXED);
            continue;
        }
        if (writers != 0)
            atomic_fetch_add_explicit(&v->rw, 1, RELAXED);
        if (a != b)
            atomic_fetch_add_explicit(&v->torn, 1, RELAXED);
        return;
    }
}

static void *stress_main(void *arg)
{
    struct worker *w = arg;
    struct validate *v = w->v;
    const struct ct_lock_kind *k = v->kind;
    unsigned x = 2463534242u + (unsigned)w->id * 7919u;
    /* start together, or early threads finish before late ones begin */
    atomic_fetch_add(&v->started, 1);
    int64_t deadline = ct_clock_ns() + LONG_NS;
    while (atomic_load(&v->started) < v->threads && ct_clock_ns() < deadline)
        sched_yield();
    for (long i = 0; i < v->iters; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bool write = x % 1000 < v->write_per_mille;
        if (write) {
            if (k->write_lock(v->lock, LONG_NS, NULL) != 0) {
                atomic_fetch_add(&v->lock_errors, 1);
                continue;
            }
            write_section(v);
            w->writes++;
            k->write_unlock(v->lock);
        } else if (k->read_begin) {
            optimistic_read(v);
        } else {
            if (k->read_lock(v->lock, LONG_NS, NULL) != 0) {
                atomic_fetch_add(&v->lock_errors, 1);
                continue;
            }
            read_section(v);
            k->read_unlock(v->lock);
        }
    }
    return NULL;
}

/* Every thread takes the read lock and stays inside until all of them are
 * in: a reader-writer lock must let them all in together.  (An exclusive
 * lock cannot, so the exclusive kinds skip this.) */
static void *gate_main(void *arg)
{
    struct worker *w = arg;
    struct validate *v = w->v;
    if (v->kind->read_lock(v->lock, LONG_NS, NULL) != 0) {
        atomic_fetch_add(&v->lock_errors, 1);
        return NULL;
    }
    ct_atomic_max(&v->max_readers, atomic_fetch_add(&v->gate_in, 1) + 1);
    int64_t deadline = ct_clock_ns() + LONG_NS;
    while (atomic_load(&v->gate_in) < v->threads) {
        if (ct_clock_ns() > deadline) {
            atomic_fetch_add(&v->gate_timeouts, 1);
            break;
        }
        sched_yield();
    }
    v->kind->read_unlock(v->lock);
    return NULL;
}

static void run_threads(struct validate *v, void *(*fn)(void *), long *writes)
{
    pthread_t *t = calloc((size_t)v->threads, sizeof *t);
    struct worker *w = calloc((size_t)v->threads, sizeof *w);
    assert_non_null(t);
    assert_non_null(w);
    for (int i = 0; i < v->threads; i++) {
        w[i] = (struct worker){ .v = v, .id = i };
        assert_int_equal(pthread_create(&t[i], NULL, fn, &w[i]), 0);
    }
    *writes = 0;
    for (int i = 0; i < v->threads; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        *writes += w[i].writes;
    }
    free(t);
    free(w);
}

/* Run the kind's invariant checks; with `gate`, first check that a
 * reader-writer kind lets every thread read at once. */
static void check_kind(const struct ct_lock_kind *k, int threads, long iters,
                       unsigned write_per_mille, bool gate)
{
    struct validate *v = calloc(1, sizeof *v);
    assert_non_null(v);
    v->kind = k;
    v->threads = threads;
    v->iters = iters;
    v->write_per_mille = write_per_mille;
    assert_int_equal(ct_lock_new(k, &v->lock), 0);
    long writes;

    if (gate && k->shared_reads && k->read_lock) {
        run_threads(v, gate_main, &writes);
        assert_int_equal(atomic_load(&v->lock_errors), 0);
        assert_int_equal(atomic_load(&v->gate_timeouts), 0);
        assert_int_equal(atomic_load(&v->max_readers), threads);
        atomic_store(&v->max_readers, 0);
    }

    run_threads(v, stress_main, &writes);
    long reads = (long)threads * iters - writes;
    printf("# %-9s %d threads, %4.1f%% writes: %ld reads (%ld shared, %ld retried), "
           "%ld writes, max %d readers inside\n",
           k->name, threads, write_per_mille / 10.0, reads, atomic_load(&v->shared_reads),
           atomic_load(&v->retries), writes, atomic_load(&v->max_readers));
    assert_int_equal(atomic_load(&v->lock_errors), 0);
    assert_int_equal(atomic_load(&v->ww), 0);
    assert_int_equal(atomic_load(&v->wr), 0);
    assert_int_equal(atomic_load(&v->rw), 0);
    assert_int_equal(atomic_load(&v->torn), 0);
    assert_int_equal(v->a, writes);
    assert_int_equal(v->b, writes);
    assert_int_equal(atomic_load(&v->sa), writes);
    assert_int_equal(atomic_load(&v->sb), writes);
    if (!k->read_begin)
        assert_int_equal(atomic_load(&v->retries), 0);
    assert_true(write_per_mille == 0 || writes > 0);
    if (!k->shared_reads) {
        assert_int_equal(atomic_load(&v->shared_reads), 0);
        assert_int_equal(atomic_load(&v->max_readers), 1);
    }
    ct_lock_free(k, v->lock);
    free(v);
}

static void validate_kind(const struct ct_lock_kind *k, int threads, long iters,
                          unsigned write_per_mille)
{
    check_kind(k, threads, iters, write_per_mille, true);
}

static void test_validate(void **state)
{
    const struct ct_lock_kind *k = *state;
    validate_kind(k, 4, 20000, 100);    /* read-mostly */
    validate_kind(k, 4, 20000, 500);    /* half writes */
    validate_kind(k, 3, 20000, 0);      /* reads only */
}

/* More threads than brlock has slots: threads share slots, and the slot
 * counts must still keep writers out. */
static void test_brlock_shared_slots(void **state)
{
    (void)state;
    validate_kind(ct_lock_kind_find("brlock"), CT_BRLOCK_SLOTS + 16, 300, 100);
}

/* ---- timeouts, cancellation, giving up ------------------------------- */

struct attempt {
    const struct ct_lock_kind *kind;
    void *lock;
    bool write;
    int64_t timeout_ns;
    struct ct_event *cancel;
    struct ct_event started;
    int rc;
};

static void *attempt_main(void *arg)
{
    struct attempt *a = arg;
    ct_event_set(&a->started);
    a->rc = a->write ? a->kind->write_lock(a->lock, a->timeout_ns, a->cancel)
                     : a->kind->read_lock(a->lock, a->timeout_ns, a->cancel);
    if (a->rc == 0) {
        if (a->write)
            a->kind->write_unlock(a->lock);
        else
            a->kind->read_unlock(a->lock);
    }
    return NULL;
}

/* Run one attempt on another thread; when `cancel` is given it is set
 * once the attempt has started.  Returns the attempt's result. */
static int attempt(const struct ct_lock_kind *k, void *lock, bool write, int64_t timeout_ns,
                   bool cancel)
{
    struct ct_event ev;
    struct attempt a = { .kind = k, .lock = lock, .write = write, .timeout_ns = timeout_ns };
    assert_int_equal(ct_event_init(&ev), 0);
    assert_int_equal(ct_event_init(&a.started), 0);
    a.cancel = cancel ? &ev : NULL;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, attempt_main, &a), 0);
    if (cancel) {
        assert_true(ct_event_wait_timeout(&a.started, LONG_NS));
        ct_event_set(&ev);
    }
    assert_int_equal(pthread_join(t, NULL), 0);
    ct_event_destroy(&a.started);
    ct_event_destroy(&ev);
    return a.rc;
}

static void test_timeouts_and_cancel(void **state)
{
    const struct ct_lock_kind *k = *state;
    void *l;
    assert_int_equal(ct_lock_new(k, &l), 0);

    /* a writer inside: both kinds of attempt time out or are cancelled
     * (an optimistic kind's readers take nothing: writers only) */
    int first = k->read_lock ? 0 : 1;
    assert_int_equal(k->write_lock(l, -1, NULL), 0);
    for (int write = first; write <= 1; write++) {
        assert_int_equal(attempt(k, l, write, 30 * CT_NS_PER_MS, false), -ETIMEDOUT);
        assert_int_equal(attempt(k, l, write, -1, true), -ECANCELED);
    }
    k->write_unlock(l);

    /* a reader inside: a writer gives up; afterwards readers (of a
     * reader-writer lock) and writers get in again */
    if (k->read_lock) {
        assert_int_equal(k->read_lock(l, -1, NULL), 0);
        assert_int_equal(attempt(k, l, true, 30 * CT_NS_PER_MS, false), -ETIMEDOUT);
        assert_int_equal(attempt(k, l, true, -1, true), -ECANCELED);
        if (k->shared_reads)
            assert_int_equal(attempt(k, l, false, LONG_NS, false), 0);
        k->read_unlock(l);
    }
    assert_int_equal(attempt(k, l, true, LONG_NS, false), 0);
    if (k->read_lock)
        assert_int_equal(attempt(k, l, false, LONG_NS, false), 0);

    /* a timeout of 0 means "try once" (wait.h): a free lock is taken, a
     * held one refused at once */
    for (int write = first; write <= 1; write++)
        assert_int_equal(attempt(k, l, write, 0, false), 0);
    assert_int_equal(k->write_lock(l, -1, NULL), 0);
    for (int write = first; write <= 1; write++)
        assert_int_equal(attempt(k, l, write, 0, false), -ETIMEDOUT);
    k->write_unlock(l);
    ct_lock_free(k, l);
}

/* ---- the seqlock's reads ----------------------------------------------- */

struct seq_reader {
    struct ct_seqlock *l;
    struct ct_event started;
    uint32_t got;
};

static void *seq_reader_main(void *arg)
{
    struct seq_reader *r = arg;
    ct_event_set(&r->started);
    r->got = ct_seqlock_read_begin(r->l);
    return NULL;
}

/* What read_retry answers around writes, and that a read begun while a
 * writer is inside waits for it: it must come back with the even number
 * the writer left, never the odd one. */
static void test_seqlock_reads(void **state)
{
    (void)state;
    struct ct_seqlock l;
    ct_seqlock_init(&l);
    uint32_t s = ct_seqlock_read_begin(&l);
    assert_false(ct_seqlock_read_retry(&l, s));
    assert_int_equal(s % 2, 0);

    assert_int_equal(ct_seqlock_write_lock_timeout(&l, -1, NULL), 0);
    assert_true(ct_seqlock_read_retry(&l, s));      /* a writer is in */
    ct_seqlock_write_unlock(&l);
    assert_true(ct_seqlock_read_retry(&l, s));      /* one came and went */
    uint32_t after = ct_seqlock_read_begin(&l);
    assert_int_equal(after, s + 2);
    assert_false(ct_seqlock_read_retry(&l, after));

    for (int round = 0; round < 20; round++) {
        struct seq_reader r = { .l = &l };
        assert_int_equal(ct_event_init(&r.started), 0);
        assert_int_equal(ct_seqlock_write_lock_timeout(&l, -1, NULL), 0);
        uint32_t inside = atomic_load(&l.seq);
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, seq_reader_main, &r), 0);
        assert_true(ct_event_wait_timeout(&r.started, LONG_NS));
        /* let the reader get as far as spinning or sleeping now and then */
        for (int i = 0; i < round * 100; i++)
            sched_yield();
        ct_seqlock_write_unlock(&l);
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_int_equal(r.got, inside + 1);
        ct_event_destroy(&r.started);
    }
}

/* A reader's retry bookkeeping: reads that pass count up, a retry soon
 * after the last one lengthens the streak that decides when to back off,
 * and one that comes late ends it.  Driven through the lock itself, so it
 * fails if the inline read stops counting. */
static void test_seqlock_retry_streak(void **state)
{
    (void)state;
    struct ct_seqlock l;
    ct_seqlock_init(&l);
    ct_seqlock_self = (struct ct_seqlock_thread){ 0 };
    for (int i = 0; i < 100; i++) {
        uint32_t s = ct_seqlock_read_begin(&l);
        assert_false(ct_seqlock_read_retry(&l, s));
    }
    assert_int_equal(ct_seqlock_self.reads_since_retry, 100);
    for (unsigned streak = 0; streak < 6; streak++) {
        uint32_t s = ct_seqlock_read_begin(&l);
        assert_int_equal(ct_seqlock_write_lock_timeout(&l, -1, NULL), 0);
        ct_seqlock_write_unlock(&l);
        assert_true(ct_seqlock_read_retry(&l, s));
        /* the first retry came 100 reads after nothing: no streak yet */
        assert_int_equal(ct_seqlock_self.soon_streak, streak);
        assert_int_equal(ct_seqlock_self.reads_since_retry, 0);
        s = ct_seqlock_read_begin(&l);
        assert_false(ct_seqlock_read_retry(&l, s));
    }
    for (int i = 0; i < 64; i++) {
        uint32_t s = ct_seqlock_read_begin(&l);
        assert_false(ct_seqlock_read_retry(&l, s));
    }
    uint32_t s = ct_seqlock_read_begin(&l);
    assert_int_equal(ct_seqlock_write_lock_timeout(&l, -1, NULL), 0);
    ct_seqlock_write_unlock(&l);
    assert_true(ct_seqlock_read_retry(&l, s));
    assert_int_equal(ct_seqlock_self.soon_streak, 0);
}

/* More threads than hslock has slots, alive at once: the threads without
 * a slot read by taking the write lock (so they cannot all be inside at
 * once: no gate), and every invariant still holds. */
static void test_hslock_no_slot(void **state)
{
    (void)state;
    check_kind(ct_lock_kind_find("hslock"), CT_HSLOCK_SLOTS + 16, 300, 100, false);
}

/* ---- writer preference ------------------------------------------------ */

struct pref {
    const struct ct_lock_kind *kind;
    void *lock;
    atomic_int order;           /* who got in when */
    int writer_at, reader_at;
    int writer_rc, reader_rc, late_rc;
    struct ct_event turned_away;    /* the new reader's first try is over */
};

static void *pref_writer(void *arg)
{
    struct pref *p = arg;
    p->writer_rc = p->kind->write_lock(p->lock, LONG_NS, NULL);
    if (p->writer_rc == 0) {
        p->writer_at = atomic_fetch_add(&p->order, 1);
        p->kind->write_unlock(p->lock);
    }
    return NULL;
}

static void *pref_reader(void *arg)
{
    struct pref *p = arg;
    /* the writer is waiting: a writer-preferring lock keeps us out */
    p->late_rc = p->kind->read_lock(p->lock, 50 * CT_NS_PER_MS, NULL);
    if (p->late_rc == 0)
        p->kind->read_unlock(p->lock);
    ct_event_set(&p->turned_away);
    p->reader_rc = p->kind->read_lock(p->lock, LONG_NS, NULL);
    if (p->reader_rc == 0) {
        p->reader_at = atomic_fetch_add(&p->order, 1);
        p->kind->read_unlock(p->lock);
    }
    return NULL;
}

/* Wait (bounded) until a writer is queued on the lock. */
static bool writer_queued(const struct ct_lock_kind *k, void *l)
{
    int64_t deadline = ct_clock_ns() + LONG_NS;
    while (ct_clock_ns() < deadline) {
        if (strcmp(k->name, "teach-rw") == 0 && ct_rwlock_writers_waiting(l) > 0)
            return true;
        if (strcmp(k->name, "brlock") == 0 &&
            atomic_load(&((struct ct_brlock *)l)->writer) != 0)
            return true;
        if (strcmp(k->name, "hslock") == 0 && ct_hslock_writer_present(l))
            return true;
        sched_yield();
    }
    return false;
}

/* A reader holds the lock and a writer is waiting: a new reader must wait
 * behind the writer, which goes first once the old reader leaves. */
static void test_writer_preference(void **state)
{
    const struct ct_lock_kind *k = *state;
    struct pref p = { .kind = k };
    assert_int_equal(ct_lock_new(k, &p.lock), 0);
    assert_int_equal(ct_event_init(&p.turned_away), 0);
    assert_int_equal(k->read_lock(p.lock, -1, NULL), 0);
    pthread_t w, r;
    assert_int_equal(pthread_create(&w, NULL, pref_writer, &p), 0);
    assert_true(writer_queued(k, p.lock));
    assert_int_equal(pthread_create(&r, NULL, pref_reader, &p), 0);
    /* hold on until the new reader has been turned away once */
    assert_true(ct_event_wait_timeout(&p.turned_away, LONG_NS));
    k->read_unlock(p.lock);
    assert_int_equal(pthread_join(w, NULL), 0);
    assert_int_equal(pthread_join(r, NULL), 0);
    assert_int_equal(p.late_rc, -ETIMEDOUT);
    assert_int_equal(p.writer_rc, 0);
    assert_int_equal(p.reader_rc, 0);
    assert_true(p.writer_at < p.reader_at);     /* the writer went first */
    ct_event_destroy(&p.turned_away);
    ct_lock_free(k, p.lock);
}

static size_t add_test(struct CMUnitTest *tests, size_t n, char (*names)[64], const char *what,
                       CMUnitTestFunction fn, const struct ct_lock_kind *k)
{
    snprintf(names[n], sizeof names[n], "%s%s%s", what, k ? " " : "", k ? k->name : "");
    tests[n] = (struct CMUnitTest){ names[n], fn, NULL, NULL, (void *)k };
    return n + 1;
}

/* The names typed on the command line are the table's names: the list in
 * locks.h that rwlock-bench offers, and the kinds the rwlock demo takes. */
static void test_kind_names_match_the_table(void **state)
{
    (void)state;
    char w[64];
    size_t i = 0;
    for (; ct_choice_word(CT_LOCK_KIND_NAMES, (int)i, w, sizeof w); i++) {
        if (i >= ct_lock_kind_count || strcmp(w, ct_lock_kinds[i].name) != 0)
            fail_msg("CT_LOCK_KIND_NAMES word %zu is '%s', the table says '%s'", i, w,
                     i < ct_lock_kind_count ? ct_lock_kinds[i].name : "(nothing)");
    }
    assert_int_equal(i, ct_lock_kind_count);
    const struct ct_demo *rw = ct_demo_find("rwlock");
    assert_non_null(rw);
    for (const struct ct_param_spec *sp = rw->params; sp->name; sp++) {
        if (strcmp(sp->name, "lock") != 0)
            continue;
        for (int k = 0; ct_choice_word(sp->choices, k, w, sizeof w); k++) {
            const struct ct_lock_kind *kind = ct_lock_kind_find(w);
            if (!kind || !kind->shared_reads)
                fail_msg("the rwlock demo offers '%s', not a reader-writer kind of the table", w);
        }
    }
}

int main(void)
{
    static struct CMUnitTest tests[64];
    static char names[64][64];
    size_t n = 0;
    for (size_t i = 0; i < ct_lock_kind_count; i++) {
        n = add_test(tests, n, names, "validate", test_validate, &ct_lock_kinds[i]);
        n = add_test(tests, n, names, "timeouts", test_timeouts_and_cancel, &ct_lock_kinds[i]);
    }
    n = add_test(tests, n, names, "writer preference", test_writer_preference,
                 ct_lock_kind_find("teach-rw"));
    n = add_test(tests, n, names, "writer preference", test_writer_preference,
                 ct_lock_kind_find("brlock"));
    n = add_test(tests, n, names, "writer preference", test_writer_preference,
                 ct_lock_kind_find("hslock"));
    n = add_test(tests, n, names, "brlock shared slots", test_brlock_shared_slots, NULL);
    n = add_test(tests, n, names, "hslock more threads than slots", test_hslock_no_slot, NULL);
    n = add_test(tests, n, names, "seqlock reads", test_seqlock_reads, NULL);
    n = add_test(tests, n, names, "seqlock retry streak", test_seqlock_retry_streak, NULL);
    n = add_test(tests, n, names, "kind names", test_kind_names_match_the_table, NULL);
    return _cmocka_run_group_tests("locks", tests, n, NULL, NULL);
}
