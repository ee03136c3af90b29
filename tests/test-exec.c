/* test-exec.c - the executor: every task runs to completion exactly once
 * on both flavours, wake-ups from other threads are never lost, join
 * handles tell success, failure, panic and cancellation apart, idle workers
 * steal, and shutdown cancels what is left with its cleanup run once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>
#include <unistd.h>

#include "aevent.h"
#include "exec.h"
#include "net.h"
#include "stress.h"
#include "testfut.h"
#include "timer.h"

static const enum ct_exec_flavor flavors[] = { CT_EXEC_CURRENT_THREAD, CT_EXEC_MULTI_THREAD };

/* ---- helpers ------------------------------------------------------------- */

static struct ct_await_all await_all(struct ct_join_handle *h, size_t n)
{
    struct ct_await_all a;
    ct_await_all_init(&a, h, n);
    return a;
}

static void drop_handles(struct ct_join_handle *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ct_future_drop(&h[i].base);
}

/* ---- every task exactly once ---------------------------------------------- */

/* Yields idx % 3 times, then counts its run in runs[idx]. */
struct once_task {
    struct ct_future base;
    int idx, yields;
    atomic_int *runs;
    atomic_int *drops;
};

static enum ct_poll once_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct once_task *t = (struct once_task *)f;
    if (t->yields > 0) {
        t->yields--;
        ct_waker_wake(cx->waker);
        return CT_PENDING;
    }
    atomic_fetch_add(&t->runs[t->idx], 1);
    f->value = t->idx;
    return CT_READY;
}

static void once_drop(struct ct_future *f)
{
    atomic_fetch_add(((struct once_task *)f)->drops, 1);
}

static const struct ct_future_ops once_ops = { "once", once_poll, once_drop };

/* A task that spawns n once-tasks from inside the executor (onto its
 * worker's own queue) and awaits them all. */
struct spawner {
    struct ct_future base;
    int n, pc;
    atomic_int *runs, *drops;
    struct ct_join_handle *h;
    struct ct_await_all all;
    int spawn_errors;
};

static enum ct_poll spawner_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct spawner *s = (struct spawner *)f;
    if (s->pc == 0) {
        for (int i = 0; i < s->n; i++) {
            struct once_task t = { .base = { .ops = &once_ops }, .idx = i, .yields = i % 3,
                                   .runs = s->runs, .drops = s->drops };
            if (ct_spawn(cx->exec, &t, &s->h[i]) != 0)
                s->spawn_errors++;
        }
        s->all = await_all(s->h, (size_t)s->n);
        s->pc = 1;
    }
    return ct_future_poll(&s->all.base, cx);
}

static const struct ct_future_ops spawner_ops = { "spawner", spawner_poll, NULL };

static void run_many(enum ct_exec_flavor flavor, bool from_inside)
{
    const int n = TF_SCALE(100000, 10000);
    atomic_int *runs = calloc((size_t)n, sizeof *runs);
    struct ct_join_handle *h = calloc((size_t)n, sizeof *h);
    atomic_int drops = 0;
    assert_non_null(runs);
    assert_non_null(h);
    struct ct_exec *ex = tf_exec(flavor, 2);

    if (from_inside) {
        struct spawner s = { .base = { .ops = &spawner_ops }, .n = n, .runs = runs,
                             .drops = &drops, .h = h };
        struct ct_join_handle root;
        assert_int_equal(ct_spawn(ex, &s, &root), 0);
        assert_int_equal(tf_block_on(ex, &root.base, 60), 0);
        assert_int_equal(root.status, CT_JOIN_OK);
    } else {
        for (int i = 0; i < n; i++) {
            struct once_task t = { .base = { .ops = &once_ops }, .idx = i, .yields = i % 3,
                                   .runs = runs, .drops = &drops };
            assert_int_equal(ct_spawn(ex, &t, &h[i]), 0);
            assert_null(t.base.ops);        /* moved into the task */
        }
        struct ct_await_all all = await_all(h, (size_t)n);
        assert_int_equal(tf_block_on(ex, &all.base, 60), 0);
    }
    for (int i = 0; i < n; i++) {
        if (atomic_load(&runs[i]) != 1)
            fail_msg("task %d ran %d times", i, atomic_load(&runs[i]));
        assert_int_equal(h[i].status, CT_JOIN_OK);
        assert_int_equal(h[i].base.value, i);
    }
    assert_int_equal(atomic_load(&drops), n);
    struct ct_exec_stats st;
    ct_exec_get_stats(ex, &st);
    assert_int_equal(st.completed, (uint64_t)n + (from_inside ? 1 : 0));
    assert_int_equal(st.spawned, st.completed);
    uint64_t polls = 0;
    for (int w = 0; w < st.workers; w++)
        polls += st.w[w].polls;
    /* n runs plus idx % 3 re-polls each (and the spawner's own polls) */
    assert_true(polls >= (uint64_t)n + (uint64_t)(n / 3) * 3);
    drop_handles(h, (size_t)n);
    ct_exec_free(ex);
    free(h);
    free(runs);
}

static void test_many_tasks_current_thread(void **state)
{
    (void)state;
    run_many(CT_EXEC_CURRENT_THREAD, false);
    run_many(CT_EXEC_CURRENT_THREAD, true);
}

static void test_many_tasks_multi_thread(void **state)
{
    (void)state;
    run_many(CT_EXEC_MULTI_THREAD, false);
    run_many(CT_EXEC_MULTI_THREAD, true);
}

/* ---- wake-ups from other threads ---------------------------------------- */

enum { REMOTE_TASKS = 32, BUMPERS = 3 };

struct bumper {
    atomic_int *counters;
    struct ct_waker_slot *slots;
    int rounds;
    unsigned seed;
};

/* Bump every task's counter `rounds` times in a shuffled order, waking it
 * each time: wake-ups arrive while tasks run, sit queued, or sleep. */
static void *bump_main(void *arg)
{
    struct bumper *b = arg;
    for (int r = 0; r < b->rounds; r++) {
        for (int k = 0; k < REMOTE_TASKS; k++) {
            b->seed = b->seed * 1103515245u + 12345u;
            int i = (int)((b->seed >> 16) % REMOTE_TASKS);
            atomic_fetch_add(&b->counters[i], 1);
            ct_waker_slot_wake(&b->slots[i]);
            /* and the one in order, so every task gets all its bumps */
            if (i != k) {
                atomic_fetch_add(&b->counters[k], 1);
                ct_waker_slot_wake(&b->slots[k]);
            }
        }
    }
    return NULL;
}

static void run_remote(enum ct_exec_flavor flavor)
{
    const int rounds = TF_SCALE(3000, 300);
    atomic_int counters[REMOTE_TASKS];
    struct ct_waker_slot slots[REMOTE_TASKS];
    struct ct_join_handle h[REMOTE_TASKS];
    struct tf_stats st = { 0 };
    struct ct_exec *ex = tf_exec(flavor, 2);
    for (int i = 0; i < REMOTE_TASKS; i++) {
        atomic_init(&counters[i], 0);
        assert_int_equal(ct_waker_slot_init(&slots[i]), 0);
        struct tf_remote r;
        /* every bumper bumps each task at least `rounds` times */
        tf_remote_init(&r, &counters[i], rounds * BUMPERS, &slots[i], &st);
        assert_int_equal(ct_spawn(ex, &r, &h[i]), 0);
    }
    pthread_t th[BUMPERS];
    struct bumper b[BUMPERS];
    for (int i = 0; i < BUMPERS; i++) {
        b[i] = (struct bumper){ counters, slots, rounds, 7u * (unsigned)i + 1 };
        assert_int_equal(pthread_create(&th[i], NULL, bump_main, &b[i]), 0);
    }
    struct ct_await_all all = await_all(h, REMOTE_TASKS);
    int rc = tf_block_on(ex, &all.base, 60);
    for (int i = 0; i < BUMPERS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_int_equal(rc, 0);            /* -ETIMEDOUT would be a lost wake-up */
    assert_int_equal(atomic_load(&st.completions), REMOTE_TASKS);
    assert_int_equal(atomic_load(&st.drops), REMOTE_TASKS);
    for (int i = 0; i < REMOTE_TASKS; i++) {
        assert_int_equal(h[i].status, CT_JOIN_OK);
        assert_true(h[i].base.value >= rounds * BUMPERS);
    }
    drop_handles(h, REMOTE_TASKS);
    ct_exec_free(ex);
    for (int i = 0; i < REMOTE_TASKS; i++)
        ct_waker_slot_destroy(&slots[i]);
}

static void test_cross_thread_wakes(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        for (size_t f = 0; f < 2; f++)
            run_remote(flavors[f]);
    }
}

/* ---- join handles -------------------------------------------------------- */

static void test_join_statuses(void **state)
{
    (void)state;
    for (size_t fl = 0; fl < 2; fl++) {
        struct tf_stats st = { 0 };
        struct ct_exec *ex = tf_exec(flavors[fl], 2);
        struct tf_yield ok, failed, panicked;
        tf_yield_init(&ok, 2, 7, &st);
        tf_yield_init(&failed, 1, 0, &st);
        failed.out_error = -EIO;
        tf_yield_init(&panicked, 1, 42, &st);
        panicked.panic = true;
        struct tf_forever forever;
        tf_forever_init(&forever, &st);
        struct ct_join_handle h[4];
        assert_int_equal(ct_spawn(ex, &ok, &h[0]), 0);
        assert_int_equal(ct_spawn(ex, &failed, &h[1]), 0);
        assert_int_equal(ct_spawn(ex, &panicked, &h[2]), 0);
        assert_int_equal(ct_spawn(ex, &forever, &h[3]), 0);
        struct ct_await_all three = await_all(h, 3);
        assert_int_equal(tf_block_on(ex, &three.base, 30), 0);

        assert_int_equal(h[0].status, CT_JOIN_OK);
        assert_int_equal(h[0].base.value, 7);
        assert_int_equal(h[0].base.error, 0);
        assert_int_equal(h[1].status, CT_JOIN_FAILED);
        assert_int_equal(h[1].base.error, -EIO);
        assert_int_equal(h[2].status, CT_JOIN_PANICKED);
        assert_int_equal(h[2].base.error, -ENOTRECOVERABLE);
        assert_string_equal(h[2].panic, "test panic 42");
        /* the panicking task's future was still dropped */
        assert_int_equal(atomic_load(&st.drops), 3);

        /* the executor keeps going after a panic */
        struct tf_yield after;
        struct ct_join_handle ha;
        tf_yield_init(&after, 0, 5, &st);
        assert_int_equal(ct_spawn(ex, &after, &ha), 0);
        assert_int_equal(tf_block_on(ex, &ha.base, 30), 0);
        assert_int_equal(ha.status, CT_JOIN_OK);

        struct ct_exec_stats s;
        ct_exec_get_stats(ex, &s);
        assert_int_equal(s.completed, 2);
        assert_int_equal(s.failed, 1);
        assert_int_equal(s.panicked, 1);

        /* the never-finishing one is cancelled by shutdown */
        ct_exec_free(ex);
        assert_int_equal(atomic_load(&st.drops), 5);
        struct ct_exec *other = tf_exec(CT_EXEC_CURRENT_THREAD, 1);
        assert_int_equal(tf_block_on(other, &h[3].base, 30), 0);
        assert_int_equal(h[3].status, CT_JOIN_CANCELLED);
        assert_int_equal(h[3].base.error, -ECANCELED);
        ct_exec_free(other);
        drop_handles(h, 4);
        ct_future_drop(&ha.base);
    }
}

/* ---- work stealing -------------------------------------------------------- */

enum { STEAL_WORKERS = 4, STEAL_TASKS = 32 };

/* Yields until every worker has run one of these tasks (or it gives up). */
struct seer {
    struct ct_future base;
    atomic_uint *seen;
    long budget;
};

static enum ct_poll seer_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct seer *s = (struct seer *)f;
    unsigned all = (1u << STEAL_WORKERS) - 1;
    unsigned seen = atomic_fetch_or(s->seen, 1u << cx->worker) | (1u << cx->worker);
    if (seen == all || --s->budget <= 0) {
        f->value = seen;
        return CT_READY;
    }
    ct_waker_wake(cx->waker);
    return CT_PENDING;
}

static const struct ct_future_ops seer_ops = { "seer", seer_poll, NULL };

/* Spawns the seers from inside a task: they all land on one worker's own
 * queue, so the others can only get them by stealing. */
struct seer_root {
    struct ct_future base;
    atomic_uint *seen;
    struct ct_join_handle h[STEAL_TASKS];
    struct ct_await_all all;
    int pc;
};

static enum ct_poll seer_root_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct seer_root *r = (struct seer_root *)f;
    if (r->pc == 0) {
        for (int i = 0; i < STEAL_TASKS; i++) {
            struct seer s = { .base = { .ops = &seer_ops }, .seen = r->seen,
                              .budget = TF_SCALE(2000000, 200000) };
            ct_spawn(cx->exec, &s, &r->h[i]);
        }
        r->all = await_all(r->h, STEAL_TASKS);
        r->pc = 1;
    }
    return ct_future_poll(&r->all.base, cx);
}

static void seer_root_drop(struct ct_future *f)
{
    struct seer_root *r = (struct seer_root *)f;
    drop_handles(r->h, STEAL_TASKS);
}

static const struct ct_future_ops seer_root_ops = { "seer_root", seer_root_poll, seer_root_drop };

static void test_every_worker_runs_tasks(void **state)
{
    (void)state;
    for (int round = 0; round < 5; round++) {
        atomic_uint seen = 0;
        struct ct_exec *ex = tf_exec(CT_EXEC_MULTI_THREAD, STEAL_WORKERS);
        struct seer_root root = { .base = { .ops = &seer_root_ops }, .seen = &seen };
        struct ct_join_handle h;
        assert_int_equal(ct_spawn(ex, &root, &h), 0);
        assert_int_equal(tf_block_on(ex, &h.base, 60), 0);
        assert_int_equal(atomic_load(&seen), (1u << STEAL_WORKERS) - 1);
        struct ct_exec_stats st;
        ct_exec_get_stats(ex, &st);
        uint64_t stolen = 0;
        for (int w = 0; w < STEAL_WORKERS; w++) {
            assert_true(st.w[w].polls > 0);
            stolen += st.w[w].stolen;
        }
        /* the seers started on one worker's queue: the rest were stolen */
        assert_true(stolen > 0);
        ct_exec_free(ex);
    }
}

/* ---- shutdown ------------------------------------------------------------ */

static void test_shutdown_cancels_pending(void **state)
{
    (void)state;
    for (size_t fl = 0; fl < 2; fl++) {
        struct tf_stats st = { 0 };
        struct ct_aevent never;
        assert_int_equal(ct_aevent_init(&never), 0);
        struct ct_exec *ex = tf_exec(flavors[fl], 2);
        enum { N = 50 };
        struct ct_join_handle h[3 * N];
        for (int i = 0; i < N; i++) {
            struct tf_forever f;
            tf_forever_init(&f, &st);
            assert_int_equal(ct_spawn(ex, &f, &h[i]), 0);
            struct ct_sleep s;
            ct_sleep_init(&s, 3600 * 1000000000LL);     /* an hour */
            assert_int_equal(ct_spawn(ex, &s, &h[N + i]), 0);
            struct ct_aevent_wait w;
            ct_aevent_wait_init(&w, &never);
            assert_int_equal(ct_spawn(ex, &w, &h[2 * N + i]), 0);
        }
        /* let them all park (current-thread: some stay queued, never run) */
        struct tf_yield y;
        tf_yield_init(&y, 50, 0, &st);
        assert_int_equal(tf_block_on(ex, &y.base, 30), 0);
        ct_exec_free(ex);
        /* the forever futures counted their drops; the rest let go of their
         * timers and list nodes, or the sanitizers would see leaks */
        assert_int_equal(atomic_load(&st.drops), N + 1);
        assert_null(never.head);
        struct ct_exec *other = tf_exec(CT_EXEC_CURRENT_THREAD, 1);
        struct ct_await_all all = await_all(h, 3 * N);
        assert_int_equal(tf_block_on(other, &all.base, 30), 0);
        for (int i = 0; i < 3 * N; i++)
            assert_int_equal(h[i].status, CT_JOIN_CANCELLED);
        ct_exec_free(other);
        drop_handles(h, 3 * N);
        ct_aevent_destroy(&never);
    }
}

/* A waker that outlives its executor: waking it then is harmless. */
static void test_waker_outlives_executor(void **state)
{
    (void)state;
    for (size_t fl = 0; fl < 2; fl++) {
        struct tf_stats st = { 0 };
        atomic_int counter = 0;
        struct ct_waker_slot slot;
        assert_int_equal(ct_waker_slot_init(&slot), 0);
        struct ct_exec *ex = tf_exec(flavors[fl], 2);
        struct tf_remote r;
        tf_remote_init(&r, &counter, 1, &slot, &st);
        assert_int_equal(ct_spawn(ex, &r, NULL), 0);
        struct tf_yield y;
        tf_yield_init(&y, 20, 0, &st);
        assert_int_equal(tf_block_on(ex, &y.base, 30), 0);
        ct_exec_free(ex);
        assert_int_equal(atomic_load(&st.drops), 2);
        atomic_store(&counter, 1);
        /* the slot still holds the cancelled task's waker, if it was polled */
        ct_waker_slot_wake(&slot);
        ct_waker_slot_destroy(&slot);
    }
}

/* ---- block_on ------------------------------------------------------------ */

static void *set_after(void *arg)
{
    struct timespec ts = { 0, 30 * 1000000L };
    nanosleep(&ts, NULL);
    ct_event_set(arg);
    return NULL;
}

static void test_block_on_cancel(void **state)
{
    (void)state;
    for (size_t fl = 0; fl < 2; fl++) {
        struct ct_event cancel;
        assert_int_equal(ct_event_init(&cancel), 0);
        struct ct_exec *ex = NULL;
        struct ct_exec_config cfg = { .flavor = flavors[fl], .workers = 2, .cancel = &cancel };
        assert_int_equal(ct_exec_new(&ex, &cfg), 0);
        struct tf_stats st = { 0 };
        struct tf_forever f;
        tf_forever_init(&f, &st);
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, set_after, &cancel), 0);
        assert_int_equal(ct_block_on(ex, &f.base), -ECANCELED);
        assert_int_equal(pthread_join(t, NULL), 0);
        ct_future_drop(&f.base);
        assert_int_equal(atomic_load(&st.drops), 1);
        ct_exec_free(ex);
        ct_event_destroy(&cancel);
    }
}

/* ct_block_on from inside a task would block a worker for good: refused. */
struct nested {
    struct ct_future base;
    int rc;
};

static enum ct_poll nested_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct tf_stats st = { 0 };
    struct tf_yield y;
    tf_yield_init(&y, 0, 0, &st);
    f->value = ct_block_on(cx->exec, &y.base);
    return CT_READY;
}

static const struct ct_future_ops nested_ops = { "nested", nested_poll, NULL };

static void test_block_on_inside_task(void **state)
{
    (void)state;
    for (size_t fl = 0; fl < 2; fl++) {
        struct ct_exec *ex = tf_exec(flavors[fl], 2);
        struct nested n = { .base = { .ops = &nested_ops } };
        struct ct_join_handle h;
        assert_int_equal(ct_spawn(ex, &n, &h), 0);
        assert_int_equal(tf_block_on(ex, &h.base, 30), 0);
        assert_int_equal(h.base.value, -EDEADLK);
        ct_exec_free(ex);
    }
}

/* ---- workers that wait in the reactor -------------------------------------
 *
 * Echo tasks on socketpairs: each waits to read a byte, then writes it
 * back.  Main plays the other ends with blocking calls and meanwhile
 * spawns trivial tasks from outside, so that workers keep parking in the
 * reactor, coming back from it with I/O, and being picked by notifiers at
 * the same time.  Every byte must come back, and (under the sanitizers)
 * the sleepers list must never be written past its end. */

struct echo {
    struct ct_future base;
    int pc, left;
    struct ct_tcp_stream *s;
    struct ct_tcp_op op;
    char b;
};

static enum ct_poll echo_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct echo *e = (struct echo *)f;
    CT_ASYNC_BEGIN(e->pc);
    for (; e->left > 0; e->left--) {
        ct_tcp_read_exact_init(&e->op, e->s, &e->b, 1);
        CT_AWAIT(e->pc, &e->op.base, cx);
        if (e->op.base.error)
            break;
        ct_tcp_write_all_init(&e->op, e->s, &e->b, 1);
        CT_AWAIT(e->pc, &e->op.base, cx);
        if (e->op.base.error)
            break;
    }
    f->error = e->op.base.error;
    CT_ASYNC_END(e->pc);
    return CT_READY;
}

static void echo_drop(struct ct_future *f)
{
    struct echo *e = (struct echo *)f;
    ct_future_drop(&e->op.base);
    ct_tcp_close(e->s);
}

static const struct ct_future_ops echo_ops = { "echo", echo_poll, echo_drop };

static enum ct_poll nothing_poll(struct ct_future *f, struct ct_cx *cx)
{
    (void)f, (void)cx;
    return CT_READY;
}

static const struct ct_future_ops nothing_ops = { "nothing", nothing_poll, NULL };

static void test_workers_in_the_reactor(void **state)
{
    (void)state;
    enum { PAIRS = 16 };
    int rounds = CT_STRESS(400, 60);
    struct ct_exec *ex;
    struct ct_exec_config cfg = { .flavor = CT_EXEC_MULTI_THREAD, .workers = 2 };
    assert_int_equal(ct_exec_new(&ex, &cfg), 0);
    int fd[PAIRS][2];
    struct ct_join_handle h[PAIRS];
    for (int i = 0; i < PAIRS; i++) {
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fd[i]), 0);
        struct echo e = { .base = { .ops = &echo_ops }, .left = rounds };
        assert_int_equal(ct_tcp_stream_from_fd(&e.s, fd[i][0]), 0);
        assert_int_equal(ct_spawn(ex, &e, &h[i]), 0);
    }
    int echoed = 0;
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < PAIRS; i++) {
            char c = (char)('a' + (r + i) % 26);
            assert_int_equal(write(fd[i][1], &c, 1), 1);
            struct ct_future nothing = { .ops = &nothing_ops };
            assert_int_equal(ct_spawn_(ex, &nothing, sizeof nothing, NULL), 0);
        }
        for (int i = 0; i < PAIRS; i++) {
            char c = 0;
            assert_int_equal(read(fd[i][1], &c, 1), 1);
            echoed += c == (char)('a' + (r + i) % 26);
        }
    }
    struct ct_await_all all;
    ct_await_all_init(&all, h, PAIRS);
    assert_int_equal(ct_block_on(ex, &all.base), 0);
    for (int i = 0; i < PAIRS; i++) {
        assert_int_equal(h[i].status, CT_JOIN_OK);
        ct_future_drop(&h[i].base);
        close(fd[i][1]);
    }
    ct_exec_free(ex);
    assert_int_equal(echoed, PAIRS * rounds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_tasks_current_thread),
        cmocka_unit_test(test_many_tasks_multi_thread),
        cmocka_unit_test(test_cross_thread_wakes),
        cmocka_unit_test(test_join_statuses),
        cmocka_unit_test(test_every_worker_runs_tasks),
        cmocka_unit_test(test_shutdown_cancels_pending),
        cmocka_unit_test(test_waker_outlives_executor),
        cmocka_unit_test(test_block_on_cancel),
        cmocka_unit_test(test_block_on_inside_task),
        cmocka_unit_test(test_workers_in_the_reactor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
