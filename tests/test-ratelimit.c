/* test-ratelimit.c - the token bucket, on a clock the test supplies: the
 * burst, the refill to the nanosecond, the cap, the bound burst + rate * t
 * over any stretch of time, and the waiting form's timeout and cancel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "clock.h"
#include "ratelimit.h"
#include "stress.h"

#define MS CT_NS_PER_MS

static void test_burst_and_refill(void **state)
{
    (void)state;
    struct ct_bucket b;
    const int64_t t0 = 1000 * CT_NS_PER_S;
    assert_int_equal(ct_bucket_init_at(&b, 10, 3, t0), 0);     /* 10/s, burst 3 */
    for (int i = 0; i < 3; i++)
        assert_true(ct_bucket_try_take_at(&b, t0));
    assert_false(ct_bucket_try_take_at(&b, t0));
    assert_int_equal(ct_bucket_wait_ns_at(&b, t0), 100 * MS);
    /* one token every 100 ms, exactly */
    assert_false(ct_bucket_try_take_at(&b, t0 + 100 * MS - 1));
    assert_int_equal(ct_bucket_wait_ns_at(&b, t0 + 100 * MS - 1), 1);
    assert_true(ct_bucket_try_take_at(&b, t0 + 100 * MS));
    assert_false(ct_bucket_try_take_at(&b, t0 + 150 * MS));
    assert_int_equal(ct_bucket_wait_ns_at(&b, t0 + 150 * MS), 50 * MS);
    assert_true(ct_bucket_try_take_at(&b, t0 + 200 * MS));
    /* a long pause fills it to the cap, no further */
    const int64_t t1 = t0 + 3600 * CT_NS_PER_S;
    for (int i = 0; i < 3; i++)
        assert_true(ct_bucket_try_take_at(&b, t1));
    assert_false(ct_bucket_try_take_at(&b, t1));
    uint64_t granted, refused;
    ct_bucket_counts(&b, &granted, &refused);
    assert_int_equal(granted, 8);
    assert_int_equal(refused, 4);
    ct_bucket_destroy(&b);
}

/* Random arrivals: in every window [t_i, t_j] the grants never exceed
 * burst + rate * (t_j - t_i), and a refused request always had a wait. */
static void test_bound_over_any_window(void **state)
{
    (void)state;
    enum { N = 2000, RATE = 50, BURST = 4 };
    const int rounds = CT_STRESS(20, 5);
    static int64_t at[N];
    for (int round = 0; round < rounds; round++) {
        unsigned seed = 7u + (unsigned)round;
        struct ct_bucket b;
        int64_t t = 5 * CT_NS_PER_S;
        assert_int_equal(ct_bucket_init_at(&b, RATE, BURST, t), 0);
        int n = 0;
        for (int i = 0; i < N; i++) {
            t += (int64_t)(rand_r(&seed) % 40) * MS;       /* 0..39 ms apart */
            int64_t wait = ct_bucket_wait_ns_at(&b, t);
            bool ok = ct_bucket_try_take_at(&b, t);
            assert_int_equal(ok, wait == 0);
            if (ok)
                at[n++] = t;
        }
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n && j < i + 200; j++) {
                /* grants i..j inclusive in [at[i], at[j]] */
                int64_t allowed = BURST + (at[j] - at[i]) * RATE / CT_NS_PER_S;
                assert_true(j - i + 1 <= allowed);
            }
        }
        uint64_t granted, refused;
        ct_bucket_counts(&b, &granted, &refused);
        assert_int_equal(granted, (uint64_t)n);
        assert_int_equal(granted + refused, N);
        ct_bucket_destroy(&b);
    }
}

static void test_take_timeout(void **state)
{
    (void)state;
    struct ct_bucket b;
    /* 1 per second, its clock an hour ahead: no token arrives during the
     * test, however slowly it runs */
    assert_int_equal(ct_bucket_init_at(&b, 1, 1, ct_clock_ns() + 3600 * CT_NS_PER_S), 0);
    assert_int_equal(ct_bucket_take_timeout(&b, 0, NULL), 0);
    /* the next token is a second away: a 0 or 10 ms wait cannot get it
     * and says so at once */
    assert_int_equal(ct_bucket_take_timeout(&b, 0, NULL), -ETIMEDOUT);
    assert_int_equal(ct_bucket_take_timeout(&b, 10 * MS, NULL), -ETIMEDOUT);
    struct ct_event cancel;
    assert_int_equal(ct_event_init(&cancel), 0);
    ct_event_set(&cancel);
    assert_int_equal(ct_bucket_take_timeout(&b, -1, &cancel), -ECANCELED);
    ct_event_destroy(&cancel);
    uint64_t granted, refused;
    ct_bucket_counts(&b, &granted, &refused);
    assert_int_equal(granted, 1);
    assert_int_equal(refused, 2);
    ct_bucket_destroy(&b);

    /* a fast bucket: a waiting take gets its token */
    assert_int_equal(ct_bucket_init(&b, 1000, 1), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(ct_bucket_take_timeout(&b, -1, NULL), 0);
    ct_bucket_counts(&b, &granted, &refused);
    assert_int_equal(granted, 5);
    assert_int_equal(refused, 0);
    ct_bucket_destroy(&b);
}

static void test_bad_init(void **state)
{
    (void)state;
    struct ct_bucket b;
    assert_int_equal(ct_bucket_init(&b, 0, 1), -EINVAL);
    assert_int_equal(ct_bucket_init(&b, 1, 0), -EINVAL);
    assert_int_equal(ct_bucket_init(&b, CT_BUCKET_MAX + 1, 1), -EINVAL);
    /* the largest rate and burst: the refill arithmetic must not overflow */
    assert_int_equal(ct_bucket_init_at(&b, CT_BUCKET_MAX, CT_BUCKET_MAX, 0), 0);
    assert_true(ct_bucket_try_take_at(&b, INT64_MAX / 2));
    assert_int_equal(ct_bucket_wait_ns_at(&b, INT64_MAX / 2), 0);
    ct_bucket_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_and_refill),
        cmocka_unit_test(test_bound_over_any_window),
        cmocka_unit_test(test_take_timeout),
        cmocka_unit_test(test_bad_init),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
