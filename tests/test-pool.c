/* test-pool.c - the resource pool: never more than `max` open, even under
 * contention with discards; no resource lent to two holders at once;
 * every acquire matched by a release or a discard; timeouts and
 * cancellations exact; a failed open gives its place back; and destroy
 * closes every resource it opened, or refuses while some are out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "clock.h"
#include "pool.h"
#include "stress.h"

/* The resources: counted by the callbacks, independently of the pool. */
struct res {
    int id;
    atomic_int holders;         /* must only ever be 0 or 1 */
};

struct factory {
    atomic_int live, max_live, next_id;
    atomic_int created, destroyed;
    atomic_int fail_at;         /* the n-th create fails with -EIO (0: never) */
};

static int create(void *ctx, void **out)
{
    struct factory *f = ctx;
    int n = atomic_fetch_add(&f->created, 1) + 1;
    if (n == atomic_load(&f->fail_at)) {
        atomic_store(&f->fail_at, 0);           /* once */
        atomic_fetch_sub(&f->created, 1);
        return -EIO;
    }
    struct res *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->id = atomic_fetch_add(&f->next_id, 1) + 1;
    int live = atomic_fetch_add(&f->live, 1) + 1;
    int seen = atomic_load(&f->max_live);
    while (live > seen && !atomic_compare_exchange_weak(&f->max_live, &seen, live))
        ;
    *out = r;
    return 0;
}

static void destroy(void *ctx, void *res)
{
    struct factory *f = ctx;
    atomic_fetch_sub(&f->live, 1);
    atomic_fetch_add(&f->destroyed, 1);
    free(res);
}

static void pool_new(struct ct_pool *p, struct factory *f, int max)
{
    *f = (struct factory){ 0 };
    struct ct_pool_config cfg = { .max = max, .create = create, .destroy = destroy, .ctx = f };
    assert_int_equal(ct_pool_init(p, &cfg), 0);
}

struct user {
    pthread_t tid;
    struct ct_pool *pool;
    int id, iters;
    long got, released, discarded, timeouts, errors, doubles;
};

static void *use(void *arg)
{
    struct user *u = arg;
    for (int i = 0; i < u->iters; i++) {
        void *v;
        int64_t timeout = (i + u->id) % 2 ? -1 : 2 * CT_NS_PER_MS;
        int rc = ct_pool_acquire_timeout(u->pool, &v, timeout, NULL);
        if (rc == -ETIMEDOUT) {
            u->timeouts++;
            continue;
        }
        if (rc) {
            u->errors++;
            continue;
        }
        u->got++;
        struct res *r = v;
        if (atomic_fetch_add(&r->holders, 1) != 0)
            u->doubles++;
        if (i % 8 == 0)
            sched_yield();
        atomic_fetch_sub(&r->holders, 1);
        if (i % 97 == 0) {
            ct_pool_discard(u->pool, r);       /* "broken": closed, replaced later */
            u->discarded++;
        } else {
            ct_pool_release(u->pool, r);
            u->released++;
        }
    }
    return NULL;
}

static void test_contention(void **state)
{
    (void)state;
    enum { MAX = 3, USERS = 8 };
    struct ct_pool pool;
    struct factory f;
    pool_new(&pool, &f, MAX);
    struct user u[USERS];
    for (int i = 0; i < USERS; i++) {
        u[i] = (struct user){ .pool = &pool, .id = i, .iters = CT_STRESS(10000, 1000) };
        assert_int_equal(pthread_create(&u[i].tid, NULL, use, &u[i]), 0);
    }
    long got = 0, released = 0, discarded = 0, timeouts = 0;
    for (int i = 0; i < USERS; i++) {
        assert_int_equal(pthread_join(u[i].tid, NULL), 0);
        assert_int_equal(u[i].errors, 0);
        assert_int_equal(u[i].doubles, 0);
        got += u[i].got;
        released += u[i].released;
        discarded += u[i].discarded;
        timeouts += u[i].timeouts;
    }
    assert_true(atomic_load(&f.max_live) <= MAX);
    struct ct_pool_stats st;
    ct_pool_get_stats(&pool, &st);
    assert_true(st.max_open <= MAX);
    assert_int_equal(st.acquired, (uint64_t)got);
    assert_int_equal(st.released, (uint64_t)released);
    assert_int_equal(st.discarded, (uint64_t)discarded);
    assert_int_equal(got, released + discarded);  /* every acquire matched */
    assert_int_equal(st.timed_out, (uint64_t)timeouts);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.waiting, 0);
    assert_int_equal(st.open, st.idle);
    assert_int_equal(st.open, atomic_load(&f.live));
    assert_int_equal(st.created, (uint64_t)atomic_load(&f.created));
    assert_int_equal(ct_pool_destroy(&pool), 0);
    assert_int_equal(atomic_load(&f.live), 0);      /* nothing leaked */
    assert_int_equal(atomic_load(&f.created), atomic_load(&f.destroyed));
}

struct waiter {
    pthread_t tid;
    struct ct_pool *pool;
    struct ct_event *cancel;
    int64_t timeout_ns;
    int rc;
};

static void *wait_one(void *arg)
{
    struct waiter *w = arg;
    void *r;
    w->rc = ct_pool_acquire_timeout(w->pool, &r, w->timeout_ns, w->cancel);
    if (w->rc == 0)
        ct_pool_release(w->pool, r);
    return NULL;
}

/* Everything lent out: every bounded acquire times out, counted once. */
static void test_timeouts_exact(void **state)
{
    (void)state;
    struct ct_pool pool;
    struct factory f;
    pool_new(&pool, &f, 2);
    void *a, *b, *c;
    assert_int_equal(ct_pool_acquire(&pool, &a, NULL), 0);
    assert_int_equal(ct_pool_acquire_timeout(&pool, &b, 0, NULL), 0);
    assert_int_equal(ct_pool_acquire_timeout(&pool, &c, 0, NULL), -ETIMEDOUT);
    enum { K = 6 };
    struct waiter w[K];
    for (int i = 0; i < K; i++) {
        w[i] = (struct waiter){ .pool = &pool, .timeout_ns = (i + 1) * 4 * CT_NS_PER_MS };
        assert_int_equal(pthread_create(&w[i].tid, NULL, wait_one, &w[i]), 0);
    }
    for (int i = 0; i < K; i++) {
        assert_int_equal(pthread_join(w[i].tid, NULL), 0);
        assert_int_equal(w[i].rc, -ETIMEDOUT);
    }
    struct ct_pool_stats st;
    ct_pool_get_stats(&pool, &st);
    assert_int_equal(st.timed_out, K + 1);
    assert_int_equal(st.acquired, 2);
    assert_int_equal(st.open, 2);
    assert_int_equal(st.in_use, 2);
    assert_int_equal(st.waiting, 0);

    /* a holder still out: destroy refuses and frees nothing */
    ct_pool_release(&pool, a);
    assert_int_equal(ct_pool_destroy(&pool), -EBUSY);
    ct_pool_release(&pool, b);
    assert_int_equal(ct_pool_destroy(&pool), 0);
    assert_int_equal(atomic_load(&f.live), 0);
    assert_int_equal(atomic_load(&f.destroyed), 2);
}

static void test_cancel(void **state)
{
    (void)state;
    struct ct_pool pool;
    struct factory f;
    struct ct_event cancel;
    assert_int_equal(ct_event_init(&cancel), 0);
    pool_new(&pool, &f, 1);
    void *a;
    assert_int_equal(ct_pool_acquire(&pool, &a, NULL), 0);
    struct waiter w = { .pool = &pool, .cancel = &cancel, .timeout_ns = -1 };
    assert_int_equal(pthread_create(&w.tid, NULL, wait_one, &w), 0);
    struct ct_pool_stats st;
    do {
        sched_yield();
        ct_pool_get_stats(&pool, &st);
    } while (st.waiting == 0);
    ct_event_set(&cancel);
    assert_int_equal(pthread_join(w.tid, NULL), 0);
    assert_int_equal(w.rc, -ECANCELED);
    ct_pool_get_stats(&pool, &st);
    assert_int_equal(st.cancelled, 1);
    assert_int_equal(st.waiting, 0);
    ct_pool_release(&pool, a);
    assert_int_equal(ct_pool_destroy(&pool), 0);
    assert_int_equal(atomic_load(&f.live), 0);
    ct_event_destroy(&cancel);
}

/* Idle resources are reused newest first; a failed open gives its permit
 * back, so the pool still lends all `max` afterwards. */
static void test_reuse_and_failed_open(void **state)
{
    (void)state;
    struct ct_pool pool;
    struct factory f;
    pool_new(&pool, &f, 2);
    void *a, *b, *c;
    assert_int_equal(ct_pool_acquire(&pool, &a, NULL), 0);
    assert_int_equal(ct_pool_acquire(&pool, &b, NULL), 0);
    ct_pool_release(&pool, a);
    ct_pool_release(&pool, b);
    assert_int_equal(ct_pool_acquire(&pool, &c, NULL), 0);
    assert_ptr_equal(c, b);
    ct_pool_discard(&pool, c);                  /* one place free, one idle */

    atomic_store(&f.fail_at, atomic_load(&f.created) + 1);
    assert_int_equal(ct_pool_acquire(&pool, &c, NULL), 0);     /* the idle one */
    assert_ptr_equal(c, a);
    void *d;
    assert_int_equal(ct_pool_acquire_timeout(&pool, &d, 0, NULL), -EIO);
    struct ct_pool_stats st;
    ct_pool_get_stats(&pool, &st);
    assert_int_equal(st.create_failed, 1);
    assert_int_equal(st.open, 1);
    assert_int_equal(ct_pool_acquire_timeout(&pool, &d, 0, NULL), 0);    /* its place */
    ct_pool_get_stats(&pool, &st);
    assert_int_equal(st.open, 2);
    assert_int_equal(st.max_open, 2);
    assert_int_equal(st.created, 3);
    ct_pool_release(&pool, c);
    ct_pool_release(&pool, d);
    assert_int_equal(ct_pool_destroy(&pool), 0);
    assert_int_equal(atomic_load(&f.live), 0);
    assert_int_equal(atomic_load(&f.created), atomic_load(&f.destroyed));
}

static void test_bad_config(void **state)
{
    (void)state;
    struct ct_pool pool;
    struct ct_pool_config cfg = { .max = 0, .create = create, .destroy = destroy };
    assert_int_equal(ct_pool_init(&pool, &cfg), -EINVAL);
    cfg.max = CT_POOL_MAX + 1;
    assert_int_equal(ct_pool_init(&pool, &cfg), -EINVAL);
    cfg = (struct ct_pool_config){ .max = 1, .destroy = destroy };
    assert_int_equal(ct_pool_init(&pool, &cfg), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contention),
        cmocka_unit_test(test_timeouts_exact),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_reuse_and_failed_open),
        cmocka_unit_test(test_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
