/* futures.c - demo `futures`: a future is a state machine that an executor
 * polls; creating one runs nothing; PENDING must come with a wake-up.
 *
 * Shows: (1) an async function written out as a state machine (print,
 * sleep, print): making one prints nothing, dropping one unpolled runs only
 * its cleanup, and block_on polls it twice, once per side of the sleep;
 * (2) the guide's hand-written future that answers PENDING once, then
 * READY; (3) wakers: a future that returns PENDING without arranging a
 * wake-up is polled once and never again (a timeout rescues the demo), and
 * one woken from another thread is polled again as soon as that thread
 * calls its waker.
 * Watch for: the poll counts, and "Hello" appearing only after block_on.
 * Lesson: futures (chapter 6).
 */
#include <errno.h>
#include <stdatomic.h>

#include "demo.h"
#include "check.h"
#include "clock.h"
#include "combinators.h"
#include "exec.h"
#include "timer.h"
#include "tasks.h"

/* ---- 1. an async function, by hand ---------------------------------------
 *
 *     async fn say_hello() { println!("Hello"); sleep(ms).await; println!("World"); }
 */
struct say_hello {
    struct ct_future base;
    int pc;                     /* resume point: 0 = not started */
    struct ct_sleep nap;
    struct ct_run *run;
    int64_t sleep_ns;
    int polls, lines;           /* polls received, lines printed by the body */
    bool quiet_drop;
};

static enum ct_poll say_hello_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct say_hello *h = (struct say_hello *)f;
    h->polls++;
    CT_ASYNC_BEGIN(h->pc);
    ct_say(h->run, "poll %d: Hello   (the body starts only now)", h->polls);
    h->lines++;
    ct_sleep_init(&h->nap, h->sleep_ns);
    ct_say(h->run, "poll %d: sleeping %.0f ms: the sleep is PENDING, so is say_hello",
           h->polls, (double)h->sleep_ns / 1e6);
    CT_AWAIT(h->pc, &h->nap.base, cx);
    ct_say(h->run, "poll %d: World   (resumed right after the await)", h->polls);
    h->lines++;
    CT_ASYNC_END(h->pc);
    return CT_READY;
}

static void say_hello_drop(struct ct_future *f)
{
    struct say_hello *h = (struct say_hello *)f;
    ct_future_drop(&h->nap.base);
    if (!h->quiet_drop)
        ct_say(h->run, "dropped a say_hello that was polled %d time%s: its cleanup ran",
               h->polls, h->polls == 1 ? "" : "s");
}

static const struct ct_future_ops say_hello_ops = { "say_hello", say_hello_poll, say_hello_drop };

static void say_hello_init(struct say_hello *h, struct ct_run *run, int64_t sleep_ns)
{
    *h = (struct say_hello){ .base = { .ops = &say_hello_ops }, .run = run,
                             .sleep_ns = sleep_ns };
}

/* ---- 2. PENDING once, then READY ---------------------------------------- */

struct once_pending {
    struct ct_future base;
    bool completed;
    int polls;
    struct ct_run *run;
};

static enum ct_poll once_pending_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct once_pending *o = (struct once_pending *)f;
    o->polls++;
    if (o->completed) {
        ct_say(o->run, "poll %d: READY, output \"timer completed\"", o->polls);
        f->value = (intptr_t)"timer completed";
        return CT_READY;
    }
    o->completed = true;
    /* the promise behind PENDING: we woke ourselves, so we will be polled */
    ct_waker_wake(cx->waker);
    ct_say(o->run, "poll %d: PENDING (and it called its waker first)", o->polls);
    return CT_PENDING;
}

static const struct ct_future_ops once_pending_ops = { "once_pending", once_pending_poll, NULL };

/* ---- 3. wakers ------------------------------------------------------------ */

/* Returns PENDING and tells nobody: the bug.  Spawned as a task of its
 * own, so only its own waker could get it polled again. */
struct forgetful {
    struct ct_future base;
    int *polls;
    bool *dropped;
    struct ct_run *run;
};

static enum ct_poll forgetful_poll(struct ct_future *f, struct ct_cx *cx)
{
    (void)cx;
    struct forgetful *g = (struct forgetful *)f;
    ++*g->polls;
    ct_say(g->run, "poll %d: PENDING, without handing its waker to anyone", *g->polls);
    return CT_PENDING;
}

static void forgetful_drop(struct ct_future *f)
{
    struct forgetful *g = (struct forgetful *)f;
    *g->dropped = true;
    ct_say(g->run, "the forgetful task, still pending after %d poll%s, is dropped by the "
           "executor's shutdown", *g->polls, *g->polls == 1 ? "" : "s");
}

static const struct ct_future_ops forgetful_ops = { "forgetful", forgetful_poll, forgetful_drop };

/* Ready once another thread has set `done`; that thread wakes it through
 * the waker the future left in `slot`. */
struct remote {
    struct ct_future base;
    atomic_bool *done;
    struct ct_waker_slot *slot;
    int polls;
    struct ct_run *run;
};

static enum ct_poll remote_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct remote *r = (struct remote *)f;
    r->polls++;
    if (!atomic_load(r->done)) {
        ct_waker_slot_register(r->slot, cx->waker);
        if (!atomic_load(r->done)) {
            ct_say(r->run, "poll %d: PENDING; its waker is parked where the other thread "
                   "will find it", r->polls);
            return CT_PENDING;
        }
    }
    ct_say(r->run, "poll %d: READY (the other thread's result is in)", r->polls);
    return CT_READY;
}

static const struct ct_future_ops remote_ops = { "remote", remote_poll, NULL };

struct waker_thread {
    struct ct_run *run;
    double ms;
    atomic_bool done;
    struct ct_waker_slot slot;
    double woke_at_ms;
};

static void *waker_main(void *arg)
{
    struct waker_thread *w = arg;
    if (ct_sleep_ms(w->run, w->ms)) {
        atomic_store(&w->done, true);
        w->woke_at_ms = ct_elapsed_ms(w->run);
        ct_say(w->run, "work done: calling the future's waker");
        ct_waker_slot_wake(&w->slot);
    }
    return NULL;
}

/* ---- the run ------------------------------------------------------------- */

static double ms_since(int64_t t0)
{
    return (double)(ct_clock_ns() - t0) / 1e6;
}

static int futures_run(struct ct_run *run)
{
    double sleep_ms = (double)ct_param_int(run, "sleep-ms");
    double wake_ms = (double)ct_param_int(run, "wake-ms");
    struct ct_exec *ex;
    int rc = ct_demo_executor(run, CT_EXEC_CURRENT_THREAD, 1, &ex);
    if (rc)
        return rc;

    ct_section(run, "1. an async function is a state machine; making one runs nothing");
    struct say_hello hello, unused;
    say_hello_init(&hello, run, ct_demo_ns(run, sleep_ms));
    say_hello_init(&unused, run, ct_demo_ns(run, sleep_ms));
    ct_say(run, "made two say_hello futures (%zu bytes each, on main's stack); "
           "lines printed by their bodies so far: %d", sizeof hello, hello.lines + unused.lines);
    int lines_before = hello.lines + unused.lines;
    ct_future_drop(&unused.base);
    ct_say(run, "block_on(say_hello): the executor polls it until it is READY");
    int64_t t0 = ct_clock_ns();
    rc = ct_block_on(ex, &hello.base);
    double hello_ms = ms_since(t0);
    if (rc == 0) {
        ct_say(run, "READY after %d polls and %.1f ms", hello.polls, hello_ms);
        hello.quiet_drop = true;
    }
    ct_future_drop(&hello.base);
    if (rc)
        goto out;

    ct_section(run, "2. the guide's hand-written future: PENDING once, then READY");
    struct once_pending once = { .base = { .ops = &once_pending_ops }, .run = run };
    rc = ct_block_on(ex, &once.base);
    ct_future_drop(&once.base);
    if (rc)
        goto out;

    ct_section(run, "3a. PENDING with no wake-up arranged: never polled again");
    int lost_polls = 0;
    bool lost_dropped = false;
    struct forgetful lost = { .base = { .ops = &forgetful_ops }, .polls = &lost_polls,
                              .dropped = &lost_dropped, .run = run };
    struct ct_join_handle lost_h;
    rc = ct_spawn(ex, &lost, &lost_h);
    if (rc)
        goto out;
    /* wait for it, but only so long: its handle under a timeout */
    struct ct_timeout rescue;
    t0 = ct_clock_ns();
    ct_timeout_init(&rescue, &lost_h.base, ct_demo_ns(run, wake_ms));
    rc = ct_block_on(ex, &rescue.base);
    double lost_ms = ms_since(t0);
    ct_future_drop(&rescue.base);
    if (rc)
        goto out;
    ct_say(run, "gave up waiting after %.1f ms (a %.0f ms timeout): the task was polled %d "
           "time%s and waits for a wake-up nobody will send",
           lost_ms, wake_ms * ct_scale(run), lost_polls, lost_polls == 1 ? "" : "s");

    ct_section(run, "3b. woken from another thread");
    struct waker_thread wt = { .run = run, .ms = wake_ms };
    atomic_init(&wt.done, false);
    rc = ct_waker_slot_init(&wt.slot);
    if (rc)
        goto out;
    struct remote rem = { .base = { .ops = &remote_ops }, .done = &wt.done, .slot = &wt.slot,
                          .run = run };
    struct ct_thread th;
    rc = ct_thread_start(run, &th, waker_main, &wt, "other-thread");
    if (rc == 0) {
        t0 = ct_clock_ns();
        double start_ms = ct_elapsed_ms(run);
        rc = ct_block_on(ex, &rem.base);
        double ready_ms = ct_elapsed_ms(run);
        ct_thread_join(&th, NULL);
        if (rc == 0)
            ct_say(run, "READY %.2f ms after the wake-up, %.1f ms after block_on began",
                   ready_ms - wt.woke_at_ms, ready_ms - start_ms);
    }
    ct_future_drop(&rem.base);
    ct_waker_slot_destroy(&wt.slot);
    if (rc)
        goto out;

    ct_result_int(run, "hello_polls", "say_hello: polls to finish", hello.polls, NULL);
    ct_result_num(run, "hello_ms", "say_hello: time in block_on", hello_ms, 1, "ms");
    ct_result_int(run, "once_polls", "hand-written future: polls", once.polls, NULL);
    ct_result_int(run, "forgetful_polls", "forgetful future: polls", lost_polls, NULL);
    ct_result_int(run, "remote_polls", "woken-from-a-thread future: polls", rem.polls, NULL);

    ct_check(run, lines_before == 0, "creating futures ran none of their code (%d lines)",
             lines_before);
    ct_check(run, unused.lines == 0 && unused.polls == 0,
             "the future dropped unpolled never ran (%d polls)", unused.polls);
    ct_check(run, hello.polls == 2 && hello.lines == 2,
             "say_hello took 2 polls, one per side of its await (%d)", hello.polls);
    ct_check(run, hello_ms >= sleep_ms * ct_scale(run),
             "its sleep did not end early (%.1f ms >= %.1f ms)", hello_ms, sleep_ms * ct_scale(run));
    ct_check(run, once.polls == 2, "PENDING-once future: 2 polls (%d)", once.polls);
    ct_check(run, rem.polls == 2, "the future woken from another thread: 2 polls (%d)",
             rem.polls);

    ct_takeaway(run,
                "Nothing ran until the executor polled: the two futures existed as %zu-byte "
                "structs with their resume point at 0, and the one dropped unpolled never "
                "printed a line. block_on then needed exactly %d polls for say_hello, one per "
                "stretch of code between awaits, and spent the %.0f ms in between polling "
                "nothing at all.",
                sizeof hello, hello.polls, hello_ms);
    ct_takeaway(run,
                "PENDING is a promise to arrange a wake-up. The forgetful future broke it and "
                "was polled %d time%s in %.0f ms and would have waited forever; the one that left its waker for another thread "
                "was polled again as soon as that thread called it. In C that promise is "
                "kept by hand; Rust's Context hands every poll the waker to keep it with.",
                lost_polls, lost_polls == 1 ? "" : "s", lost_ms);
out:
    ct_exec_free(ex);
    if (rc == 0) {
        ct_check(run, lost_polls == 1 && rescue.base.error == -ETIMEDOUT,
                 "a task that returned PENDING without a wake-up was polled once (%d), and "
                 "only the timeout ended the wait", lost_polls);
        ct_check(run, lost_dropped, "the executor's shutdown dropped the forgotten task");
    }
    return rc == -ECANCELED ? 0 : rc;
}

static const struct ct_param_spec futures_params[] = {
    { "sleep-ms", CT_PARAM_INT, "100", 1, 5000, NULL,
      "say_hello's sleep (the guide's 1 s, scaled down)" },
    { "wake-ms", CT_PARAM_INT, "50", 1, 5000, NULL,
      "when the other thread wakes its future; also the rescue timeout" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_futures = {
    .name = "futures",
    .chapter = 6,
    .title = "Futures are polled state machines",
    .summary = "Making a future runs nothing; poll, PENDING, READY and the waker that links them",
    .intro = "An async function written out in C as the state machine Rust's compiler would "
             "generate, driven by block_on. Watch when its lines appear, how many polls each "
             "future needs, and what happens to a future that returns PENDING without "
             "arranging to be woken.",
    .params = futures_params,
    .smoke = "sleep-ms=20 wake-ms=10",
    .run = futures_run,
};
