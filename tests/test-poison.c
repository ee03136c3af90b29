/* test-poison.c - the poison-aware mutex and ct_panic: a panic inside a
 * guarded section poisons the mutex and unlocks it; the value stays
 * reachable and can be repaired; clearing works; no panic (or a panic
 * outside the section) poisons nothing; waits time out and cancel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>

#include "clock.h"
#include "event.h"
#include "panic.h"
#include "poison.h"

struct account {
    int from, to;       /* invariant: from + to == 100 */
};

enum when { PANIC_INSIDE, PANIC_AFTER, NO_PANIC, PANIC_NESTED };

struct job {
    struct ct_poison_mutex *m, *m2;
    enum when when;
    int lock_rc;
    bool panicking_in_section;
};

static void *job_main(void *arg)
{
    struct job *j = arg;
    void *p;
    j->lock_rc = ct_poison_lock(j->m, &p, NULL);
    if (j->lock_rc < 0)
        return NULL;
    CT_POISON_GUARD(j->m);
    struct account *a = p;
    j->panicking_in_section = ct_panicking();
    a->from -= 10;                      /* half of a transfer ... */
    if (j->when == PANIC_NESTED) {
        void *q;
        if (ct_poison_lock(j->m2, &q, NULL) >= 0) {
            CT_POISON_GUARD(j->m2);
            ct_panic("nested");
            CT_POISON_GUARD_END();
        }
    }
    if (j->when == PANIC_INSIDE)
        ct_panic("transfer failed");    /* ... and the other half never happens */
    a->to += 10;
    CT_POISON_GUARD_END();
    if (j->when == PANIC_AFTER)
        ct_panic("after the lock");
    return NULL;
}

static void *run_job(struct job *j)
{
    pthread_t t;
    void *ret = NULL;
    assert_int_equal(pthread_create(&t, NULL, job_main, j), 0);
    assert_int_equal(pthread_join(t, &ret), 0);
    return ret;
}

static void test_panic_inside_poisons(void **state)
{
    (void)state;
    struct account acct = { 100, 0 };
    struct ct_poison_mutex m;
    assert_int_equal(ct_poison_init(&m, &acct), 0);
    struct job j = { .m = &m, .when = PANIC_INSIDE };
    assert_ptr_equal(run_job(&j), CT_PANICKED);        /* join sees the panic */
    assert_int_equal(j.lock_rc, 0);
    assert_false(j.panicking_in_section);
    assert_true(ct_poison_is_poisoned(&m));

    /* the lock was released by the unwinding, and the data is reachable
     * with its broken invariant on show */
    void *p = NULL;
    bool poisoned = false;
    assert_true(ct_poison_try_lock(&m, &p, &poisoned));
    assert_true(poisoned);
    assert_ptr_equal(p, &acct);
    assert_int_equal(acct.from + acct.to, 90);
    ct_poison_unlock(&m);
    assert_int_equal(ct_poison_lock(&m, &p, NULL), CT_POISONED);   /* still poisoned */
    acct.to = 100 - acct.from;                                      /* repair */
    ct_poison_clear(&m);
    ct_poison_unlock(&m);
    assert_false(ct_poison_is_poisoned(&m));
    assert_int_equal(ct_poison_lock(&m, &p, NULL), 0);
    assert_int_equal(acct.from + acct.to, 100);
    ct_poison_unlock(&m);
    ct_poison_destroy(&m);
}

static void test_no_poison_without_panic_under_lock(void **state)
{
    (void)state;
    for (enum when w = PANIC_AFTER; w <= NO_PANIC; w++) {
        struct account acct = { 100, 0 };
        struct ct_poison_mutex m;
        assert_int_equal(ct_poison_init(&m, &acct), 0);
        struct job j = { .m = &m, .when = w };
        void *ret = run_job(&j);
        assert_ptr_equal(ret, w == PANIC_AFTER ? CT_PANICKED : NULL);
        assert_false(ct_poison_is_poisoned(&m));
        void *p;
        assert_int_equal(ct_poison_lock(&m, &p, NULL), 0);
        assert_int_equal(acct.from, 90);
        assert_int_equal(acct.to, 10);
        ct_poison_unlock(&m);
        ct_poison_destroy(&m);
    }
}

/* A panic unwinds every guard on the way out: both mutexes poisoned and
 * both unlocked. */
static void test_nested_guards(void **state)
{
    (void)state;
    struct account acct = { 100, 0 };
    int other = 7;
    struct ct_poison_mutex m, m2;
    assert_int_equal(ct_poison_init(&m, &acct), 0);
    assert_int_equal(ct_poison_init(&m2, &other), 0);
    struct job j = { .m = &m, .m2 = &m2, .when = PANIC_NESTED };
    assert_ptr_equal(run_job(&j), CT_PANICKED);
    bool poisoned;
    void *p;
    assert_true(ct_poison_try_lock(&m, &p, &poisoned));
    assert_true(poisoned);
    ct_poison_unlock(&m);
    assert_true(ct_poison_try_lock(&m2, &p, &poisoned));
    assert_true(poisoned);
    assert_ptr_equal(p, &other);
    ct_poison_unlock(&m2);
    ct_poison_destroy(&m);
    ct_poison_destroy(&m2);
}

/* Many threads, one of which panics in the middle: every increment made
 * under the lock is kept, and every lock after the panic reports poison. */
enum { THREADS = 6, ROUNDS = 2000 };

struct counter_job {
    struct ct_poison_mutex *m;
    int id;
    long done, poisoned_seen;
};

/* One round: the guarded section in a function of its own, so that the
 * loop counter outside is not live across the cleanup handler's setjmp. */
static bool count_once(struct counter_job *c, int round)
{
    void *p;
    int rc = ct_poison_lock(c->m, &p, NULL);
    if (rc < 0)
        return false;
    CT_POISON_GUARD(c->m);
    if (rc == CT_POISONED)
        c->poisoned_seen++;
    (*(long *)p)++;
    c->done++;
    if (c->id == 0 && round == ROUNDS / 2)
        ct_panic("halfway");
    CT_POISON_GUARD_END();
    return true;
}

static void *counter_main(void *arg)
{
    struct counter_job *c = arg;
    for (int i = 0; i < ROUNDS && count_once(c, i); i++)
        ;
    return NULL;
}

static void test_panic_among_many(void **state)
{
    (void)state;
    long total = 0;
    struct ct_poison_mutex m;
    assert_int_equal(ct_poison_init(&m, &total), 0);
    pthread_t t[THREADS];
    struct counter_job c[THREADS];
    for (int i = 0; i < THREADS; i++) {
        c[i] = (struct counter_job){ .m = &m, .id = i };
        assert_int_equal(pthread_create(&t[i], NULL, counter_main, &c[i]), 0);
    }
    long done = 0;
    for (int i = 0; i < THREADS; i++) {
        void *ret;
        assert_int_equal(pthread_join(t[i], &ret), 0);
        assert_ptr_equal(ret, i == 0 ? CT_PANICKED : NULL);
        done += c[i].done;
    }
    assert_int_equal(c[0].done, ROUNDS / 2 + 1);
    assert_int_equal(c[0].poisoned_seen, 0);        /* nobody panicked before it */
    assert_int_equal(total, done);
    assert_true(ct_poison_is_poisoned(&m));
    ct_poison_destroy(&m);
}

struct waiter {
    struct ct_poison_mutex *m;
    int64_t timeout_ns;
    struct ct_event *cancel;
    struct ct_event started;
    int rc;
};

static void *waiter_main(void *arg)
{
    struct waiter *w = arg;
    ct_event_set(&w->started);
    w->rc = ct_poison_lock_timeout(w->m, NULL, w->timeout_ns, w->cancel);
    if (w->rc >= 0)
        ct_poison_unlock(w->m);
    return NULL;
}

static void test_timed_and_cancelled(void **state)
{
    (void)state;
    struct ct_poison_mutex m;
    struct ct_event cancel;
    assert_int_equal(ct_poison_init(&m, NULL), 0);
    assert_int_equal(ct_event_init(&cancel), 0);
    assert_int_equal(ct_poison_lock(&m, NULL, NULL), 0);
    for (int c = 0; c <= 1; c++) {
        struct waiter w = { .m = &m, .timeout_ns = c ? -1 : 30 * CT_NS_PER_MS,
                            .cancel = c ? &cancel : NULL };
        assert_int_equal(ct_event_init(&w.started), 0);
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, waiter_main, &w), 0);
        if (c) {
            assert_true(ct_event_wait_timeout(&w.started, 10 * CT_NS_PER_S));
            ct_event_set(&cancel);
        }
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_int_equal(w.rc, c ? -ECANCELED : -ETIMEDOUT);
        ct_event_destroy(&w.started);
    }
    bool poisoned;
    assert_false(ct_poison_try_lock(&m, NULL, &poisoned));
    ct_poison_unlock(&m);
    ct_event_destroy(&cancel);
    ct_poison_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_panic_inside_poisons),
        cmocka_unit_test(test_no_poison_without_panic_under_lock),
        cmocka_unit_test(test_nested_guards),
        cmocka_unit_test(test_panic_among_many),
        cmocka_unit_test(test_timed_and_cancelled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
