/* futures.c - demo `futures`: a future is a state machine that an executor
 * polls; creating one runs nothing; PENDING must come with a wake-up.
 *
 * Shows: (1) an async function written out as a state machine (print,
 * sleep, print): making one prints nothing, dropping one unpolled runs only
 * its cleanup, and block_on polls it twice, once per side of the sleep;
 * (2) the guide's TimerFuture exactly as the guide writes it: its first poll
 * sets `completed` and returns PENDING without touching the waker.  It runs
 * as a task of its own, and main waits for its join handle a bounded time:
 * it is polled once and never again, because nothing wakes it (the guide
 * says the runtime will poll again; no executor does that unasked);
 * (3) the fix: the same timer handing its waker to the reactor's timer, and
 * a future woken by another thread.  Both are polled again and finish.
 * Every future here is dropped exactly once, finished or not.
 * Watch for: the poll counts, "Hello" appearing only after block_on, and
 * the guide's future sitting still until the bounded wait gives up.
 * Lesson: futures (chapter 6).
 */
#include <errno.h>
#include <stdatomic.h>

#include "demo.h"
#include "clock.h"
#include "combinators.h"
#include "exec.h"
#include "reactor.h"
#include "timer.h"
#include "tasks.h"

static const char *plural(long long n)
{
    return n == 1 ? "" : "s";
}

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
    int polls, lines, drops;    /* polls received, lines its body printed, drops run */
    bool quiet_drop;
};

static enum ct_poll say_hello_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct say_hello *h = (struct say_hello *)f;
    h->polls++;
    CT_ASYNC_BEGIN(h->pc);
    ct_say(h->run, "poll %d: Hello (the body starts now)", h->polls);
    h->lines++;
    ct_sleep_init(&h->nap, h->sleep_ns);
    ct_say(h->run, "poll %d: sleep %.0f ms: PENDING", h->polls, (double)h->sleep_ns / 1e6);
    CT_AWAIT(h->pc, &h->nap.base, cx);
    ct_say(h->run, "poll %d: World (resumed after the await)", h->polls);
    h->lines++;
    CT_ASYNC_END(h->pc);
    return CT_READY;
}

static void say_hello_drop(struct ct_future *f)
{
    struct say_hello *h = (struct say_hello *)f;
    h->drops++;
    ct_future_drop(&h->nap.base);
    if (!h->quiet_drop)
        ct_say(h->run, "dropped one polled %d time%s: cleanup ran", h->polls,
               plural(h->polls));
}

static const struct ct_future_ops say_hello_ops = { "say_hello", say_hello_poll, say_hello_drop };

static void say_hello_init(struct say_hello *h, struct ct_run *run, int64_t sleep_ns)
{
    *h = (struct say_hello){ .base = { .ops = &say_hello_ops }, .run = run,
                             .sleep_ns = sleep_ns };
}

/* ---- 2 and 3a. the guide's TimerFuture, and the fix ----------------------
 *
 * Both run as tasks, which own a moved copy of the future: what the demo
 * reads afterwards lives in a record they point to. */
struct timer_record {
    int polls, drops;
    bool completed;             /* the guide's flag, as the last poll left it */
    int64_t deadline;           /* the fixed timer's, 0 for the guide's */
};

/* The guide's TimerFuture, line for line: the first poll sets `completed`
 * and answers PENDING, never looking at cx->waker. */
struct guide_timer {
    struct ct_future base;
    bool completed;
    struct timer_record *rec;
    struct ct_run *run;
};

static enum ct_poll guide_timer_poll(struct ct_future *f, struct ct_cx *cx)
{
    (void)cx;                   /* the bug: the waker goes unused */
    struct guide_timer *g = (struct guide_timer *)f;
    g->rec->polls++;
    if (g->completed) {
        ct_say(g->run, "poll %d: READY", g->rec->polls);
        f->value = (intptr_t)"Timer completed!";
        return CT_READY;
    }
    g->completed = g->rec->completed = true;
    ct_say(g->run, "poll %d: PENDING, waker left unused", g->rec->polls);
    return CT_PENDING;
}

static void timer_record_drop(struct ct_run *run, struct timer_record *rec)
{
    rec->drops++;
    ct_say(run, "dropped after %d poll%s", rec->polls, plural(rec->polls));
}

static void guide_timer_drop(struct ct_future *f)
{
    struct guide_timer *g = (struct guide_timer *)f;
    timer_record_drop(g->run, g->rec);
}

static const struct ct_future_ops guide_timer_ops = { "guide TimerFuture", guide_timer_poll,
                                                      guide_timer_drop };

/* The fix: READY once its deadline has passed; until then every PENDING
 * comes with the waker handed to the reactor's timer, which calls it at
 * the deadline.  The deadline is set by the first poll, so creating one
 * still runs nothing. */
struct fixed_timer {
    struct ct_future base;
    int64_t ns;
    struct ct_timer timer;
    struct timer_record *rec;
    struct ct_run *run;
};

static enum ct_poll fixed_timer_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct fixed_timer *t = (struct fixed_timer *)f;
    struct timer_record *rec = t->rec;
    rec->polls++;
    if (rec->deadline == 0)
        rec->deadline = ct_clock_ns() + t->ns;
    if (ct_clock_ns() >= rec->deadline) {
        rec->completed = true;
        ct_say(t->run, "poll %d: deadline passed: READY", rec->polls);
        f->value = (intptr_t)"Timer completed!";
        return CT_READY;
    }
    f->error = ct_reactor_timer_arm(cx->reactor, &t->timer, rec->deadline, cx->waker);
    if (f->error)
        return CT_READY;
    ct_say(t->run, "poll %d: PENDING, waker given to a timer", rec->polls);
    return CT_PENDING;
}

static void fixed_timer_drop(struct ct_future *f)
{
    struct fixed_timer *t = (struct fixed_timer *)f;
    ct_reactor_timer_cancel(&t->timer);
    timer_record_drop(t->run, t->rec);
}

static const struct ct_future_ops fixed_timer_ops = { "fixed TimerFuture", fixed_timer_poll,
                                                      fixed_timer_drop };

/* How a task fared under a bounded wait for its join handle. */
struct bounded_wait {
    bool timed_out;             /* the bound passed first */
    bool ok;                    /* the task finished with CT_JOIN_OK */
    const char *output;         /* its output, if it finished */
    double waited_ms;
};

/* Spawn `f` (`size` bytes, keeping its counts in `rec`) on a fresh
 * current-thread executor, wait for its join handle at most `bound_ns`, say
 * how that went, then free the executor, which drops the task if it has
 * not finished.  0 or a negative errno. */
static int run_bounded(struct ct_run *run, struct ct_future *f, size_t size, int64_t bound_ns,
                       const struct timer_record *rec, struct bounded_wait *out)
{
    struct ct_exec *ex;
    int rc = ct_demo_executor(run, CT_EXEC_CURRENT_THREAD, 1, &ex);
    if (rc) {
        ct_future_drop(f);
        return rc;
    }
    struct ct_join_handle h;
    rc = ct_spawn_(ex, f, size, &h);
    if (rc == 0) {
        struct ct_timeout wait;
        int64_t t0 = ct_clock_ns();
        ct_timeout_init(&wait, &h.base, bound_ns);
        rc = ct_block_on(ex, &wait.base);
        out->waited_ms = (double)(ct_clock_ns() - t0) / 1e6;
        out->timed_out = rc == 0 && wait.base.error == -ETIMEDOUT;
        out->ok = rc == 0 && !out->timed_out && h.status == CT_JOIN_OK;
        out->output = out->ok ? (const char *)wait.base.value : NULL;
        ct_future_drop(&wait.base);     /* drops the handle: the task is detached */
    }
    if (rc == 0 && out->ok)
        ct_say(run, "\"%s\" after %d polls, %.1f ms", out->output, rec->polls,
               out->waited_ms);
    else if (rc == 0 && out->timed_out)
        ct_say(run, "polled %d time%s, then never again: nothing woke it", rec->polls,
               plural(rec->polls));
    else if (rc == 0)
        ct_say(run, "the task failed after %d poll%s", rec->polls, plural(rec->polls));
    ct_exec_free(ex);
    return rc;
}

/* ---- 3b. woken from another thread ---------------------------------------- */

/* Ready once another thread has set `done`; that thread wakes it through
 * the waker the future left in `slot`. */
struct remote {
    struct ct_future base;
    atomic_bool *done;
    struct ct_waker_slot *slot;
    int polls, drops;
    struct ct_run *run;
};

static enum ct_poll remote_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct remote *r = (struct remote *)f;
    r->polls++;
    if (!atomic_load(r->done)) {
        ct_waker_slot_register(r->slot, cx->waker);
        /* look again: the thread may have finished before we registered */
        if (!atomic_load(r->done)) {
            ct_say(r->run, "poll %d: PENDING, waker left for the thread", r->polls);
            return CT_PENDING;
        }
    }
    ct_say(r->run, "poll %d: READY", r->polls);
    return CT_READY;
}

static void remote_drop(struct ct_future *f)
{
    ((struct remote *)f)->drops++;
}

static const struct ct_future_ops remote_ops = { "remote", remote_poll, remote_drop };

struct waker_thread {
    struct ct_run *run;
    double ms;
    atomic_bool done;
    struct ct_waker_slot slot;
    double woke_at_ms;          /* 0 until it called the waker */
};

static void *waker_main(void *arg)
{
    struct waker_thread *w = arg;
    if (ct_sleep_ms(w->run, w->ms)) {
        atomic_store(&w->done, true);
        w->woke_at_ms = ct_elapsed_ms(w->run);
        ct_say(w->run, "work done: calling the waker");
        ct_waker_slot_wake(&w->slot);
    }
    return NULL;
}

/* ---- the run ------------------------------------------------------------- */

struct futures_config {
    double sleep_ms, timer_ms, grace_ms;    /* scaled */
    double wake_ms;             /* as given: the thread's ct_sleep_ms scales it */
};

struct futures_result {
    struct say_hello hello, unused;
    int lines_before;           /* printed by both bodies before any poll */
    double hello_ms;
    struct timer_record guide, fixed;
    struct bounded_wait guide_wait, fixed_wait;
    struct remote rem;
    double rem_after_wake_ms;   /* READY this long after the thread's wake */
    bool rem_woken;
};

static double ms_since(int64_t t0)
{
    return (double)(ct_clock_ns() - t0) / 1e6;
}

static int part_hello(struct ct_run *run, struct ct_exec *ex, const struct futures_config *c,
                      struct futures_result *r)
{
    ct_section(run, "1. an async function is a state machine");
    say_hello_init(&r->hello, run, (int64_t)(c->sleep_ms * 1e6));
    say_hello_init(&r->unused, run, (int64_t)(c->sleep_ms * 1e6));
    r->lines_before = r->hello.lines + r->unused.lines;
    ct_say(run, "made two say_hello (%zu bytes each): %d lines", sizeof r->hello,
           r->lines_before);
    ct_future_drop(&r->unused.base);
    ct_say(run, "block_on(say_hello)");
    int64_t t0 = ct_clock_ns();
    int rc = ct_block_on(ex, &r->hello.base);
    r->hello_ms = ms_since(t0);
    if (rc == 0) {
        ct_say(run, "READY after %d polls, %.1f ms", r->hello.polls, r->hello_ms);
        r->hello.quiet_drop = true;
    }
    ct_future_drop(&r->hello.base);
    return rc;
}

static int part_guide(struct ct_run *run, const struct futures_config *c,
                      struct futures_result *r)
{
    ct_section(run, "2. the guide's TimerFuture, as the guide writes it");
    double bound = c->timer_ms + c->grace_ms;
    ct_say(run, "spawned as a task; main waits %.0f ms at most", bound);
    struct guide_timer g = { .base = { .ops = &guide_timer_ops }, .rec = &r->guide, .run = run };
    return run_bounded(run, &g.base, sizeof g, (int64_t)(bound * 1e6), &r->guide,
                       &r->guide_wait);
}

static int part_fixed(struct ct_run *run, const struct futures_config *c,
                      struct futures_result *r)
{
    ct_section(run, "3a. the fix: PENDING hands the waker to a timer");
    double bound = c->timer_ms + c->grace_ms;
    ct_say(run, "a %.0f ms timer; main waits %.0f ms at most", c->timer_ms, bound);
    struct fixed_timer t = { .base = { .ops = &fixed_timer_ops },
                             .ns = (int64_t)(c->timer_ms * 1e6), .rec = &r->fixed, .run = run };
    return run_bounded(run, &t.base, sizeof t, (int64_t)(bound * 1e6), &r->fixed,
                       &r->fixed_wait);
}

static int part_remote(struct ct_run *run, struct ct_exec *ex, const struct futures_config *c,
                       struct futures_result *r)
{
    ct_section(run, "3b. the fix: a thread that will call the waker");
    struct waker_thread wt = { .run = run, .ms = c->wake_ms };
    atomic_init(&wt.done, false);
    int rc = ct_waker_slot_init(&wt.slot);
    if (rc)
        return rc;
    r->rem = (struct remote){ .base = { .ops = &remote_ops }, .done = &wt.done,
                              .slot = &wt.slot, .run = run };
    struct ct_thread th;
    rc = ct_thread_start(run, &th, waker_main, &wt, "other-thread");
    if (rc == 0) {
        rc = ct_block_on(ex, &r->rem.base);
        double ready_ms = ct_elapsed_ms(run);
        ct_thread_join(&th, NULL);
        r->rem_woken = wt.woke_at_ms > 0;
        r->rem_after_wake_ms = ready_ms - wt.woke_at_ms;
        if (rc == 0)
            ct_say(run, "READY %.2f ms after the wake-up", r->rem_after_wake_ms);
    }
    ct_future_drop(&r->rem.base);
    ct_waker_slot_destroy(&wt.slot);
    return rc;
}

static void report_results(struct ct_run *run, const struct futures_result *r)
{
    ct_result_int(run, "hello_polls", "say_hello: polls", r->hello.polls, NULL);
    ct_result_num(run, "hello_ms", "say_hello: time in block_on", r->hello_ms, 1, "ms");
    ct_result_int(run, "guide_polls", "guide's TimerFuture: polls", r->guide.polls, NULL);
    ct_result_text(run, "guide_outcome", "guide's TimerFuture: outcome",
                   r->guide_wait.timed_out ? "never woken" : r->guide_wait.ok ? "completed"
                                                                               : "failed");
    ct_result_num(run, "guide_waited_ms", "guide's TimerFuture: waited", r->guide_wait.waited_ms,
                  1, "ms");
    ct_result_int(run, "guide_drops", "guide's TimerFuture: drops", r->guide.drops, NULL);
    ct_result_int(run, "fixed_polls", "fixed TimerFuture: polls", r->fixed.polls, NULL);
    ct_result_text(run, "fixed_outcome", "fixed TimerFuture: outcome",
                   r->fixed_wait.ok ? "completed" : r->fixed_wait.timed_out ? "never woken"
                                                                            : "failed");
    ct_result_num(run, "fixed_ms", "fixed TimerFuture: took", r->fixed_wait.waited_ms, 1, "ms");
    ct_result_int(run, "fixed_drops", "fixed TimerFuture: drops", r->fixed.drops, NULL);
    ct_result_int(run, "remote_polls", "thread-woken future: polls", r->rem.polls, NULL);
}

static void report_checks(struct ct_run *run, const struct futures_config *c,
                          const struct futures_result *r)
{
    ct_check(run, r->lines_before == 0, "creating futures ran none of their code (%d lines)",
             r->lines_before);
    ct_check(run, r->unused.polls == 0 && r->unused.drops == 1,
             "the unpolled one: 0 polls (%d), dropped once (%d)", r->unused.polls,
             r->unused.drops);
    ct_check(run, r->hello.polls == 2 && r->hello.lines == 2 && r->hello.drops == 1,
             "say_hello: 2 polls (%d), 2 lines (%d), 1 drop (%d)", r->hello.polls,
             r->hello.lines, r->hello.drops);
    ct_check(run, r->hello_ms >= c->sleep_ms, "its sleep did not end early (%.1f >= %.0f ms)",
             r->hello_ms, c->sleep_ms);
    ct_check(run, r->guide.polls == 1 && r->guide.completed && r->guide_wait.timed_out,
             "guide's: 1 poll (%d), flag set, only the bound ended it", r->guide.polls);
    ct_check(run, r->guide.drops == 1, "guide's: dropped exactly once (%d)", r->guide.drops);
    ct_check(run, r->fixed_wait.ok && r->fixed.polls == 2 && r->fixed.completed,
             "fixed: READY on its 2nd poll (%d polls)", r->fixed.polls);
    ct_check(run, r->fixed_wait.waited_ms >= c->timer_ms,
             "fixed: not before its deadline (%.1f >= %.0f ms)", r->fixed_wait.waited_ms,
             c->timer_ms);
    ct_check(run, r->fixed.drops == 1, "fixed: dropped exactly once (%d)", r->fixed.drops);
    ct_check(run, r->rem_woken && r->rem.polls == 2 && r->rem.drops == 1,
             "thread-woken: 2 polls (%d), dropped once (%d)", r->rem.polls, r->rem.drops);
}

static void report_takeaway(struct ct_run *run, const struct futures_config *c,
                            const struct futures_result *r)
{
    ct_takeaway(run,
                "Nothing ran until the executor polled: the two say_hello futures were "
                "%zu-byte structs with their resume point at 0, and the one dropped unpolled "
                "printed nothing. block_on needed %d polls for say_hello, one per stretch of "
                "code between awaits, and polled nothing during the %.0f ms in between.",
                sizeof r->hello, r->hello.polls, r->hello_ms);
    ct_takeaway(run,
                "The guide is wrong about its TimerFuture. Its notes say that after PENDING "
                "the runtime will poll again, but an executor (this one, and tokio too) "
                "polls a pending task again only when someone calls that task's waker, and "
                "the guide's poll never touches it. Here it was polled %d time%s and then "
                "sat for %.0f ms, though its completed flag was %s and one more poll would "
                "have returned READY; only the bounded wait ended it. Awaited for real, "
                "with no bound, it hangs forever.",
                r->guide.polls, plural(r->guide.polls), r->guide_wait.waited_ms,
                r->guide.completed ? "already true" : "still false");
    ct_takeaway(run,
                "The fix is to arrange the wake-up before answering PENDING: the fixed "
                "TimerFuture handed its waker to the reactor's timer and was READY on poll "
                "%d, %.1f ms after it started (its timer: %.0f ms); the future woken by "
                "another thread was READY %.2f ms after the thread called its waker. In C "
                "that promise is kept by hand; every future above was dropped exactly once, "
                "finished or not.",
                r->fixed.polls, r->fixed_wait.waited_ms, c->timer_ms, r->rem_after_wake_ms);
}

static int futures_run(struct ct_run *run)
{
    double scale = ct_scale(run);
    struct futures_config c = {
        .sleep_ms = (double)ct_param_int(run, "sleep-ms") * scale,
        .timer_ms = (double)ct_param_int(run, "timer-ms") * scale,
        .grace_ms = (double)ct_param_int(run, "grace-ms") * scale,
        .wake_ms = (double)ct_param_int(run, "wake-ms"),
    };
    struct futures_result r = { 0 };
    struct ct_exec *ex;
    int rc = ct_demo_executor(run, CT_EXEC_CURRENT_THREAD, 1, &ex);
    if (rc)
        return rc;
    rc = part_hello(run, ex, &c, &r);
    if (rc == 0)
        rc = part_guide(run, &c, &r);
    if (rc == 0)
        rc = part_fixed(run, &c, &r);
    if (rc == 0)
        rc = part_remote(run, ex, &c, &r);
    ct_exec_free(ex);
    if (rc)
        return rc == -ECANCELED ? 0 : rc;
    report_results(run, &r);
    report_checks(run, &c, &r);
    report_takeaway(run, &c, &r);
    return 0;
}

static const struct ct_param_spec futures_params[] = {
    { "sleep-ms", CT_PARAM_INT, "100", 1, 5000, NULL,
      "say_hello's sleep (the guide's 1 s, scaled down)" },
    { "timer-ms", CT_PARAM_INT, "50", 1, 5000, NULL, "the fixed TimerFuture's deadline" },
    { "grace-ms", CT_PARAM_INT, "100", 1, 5000, NULL,
      "how long past timer-ms main waits for either TimerFuture" },
    { "wake-ms", CT_PARAM_INT, "50", 1, 5000, NULL,
      "when the other thread wakes its future" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_futures = {
    .name = "futures",
    .chapter = 6,
    .title = "Futures are polled state machines",
    .summary = "Making a future runs nothing; PENDING without a wake-up is never polled again",
    .intro = "An async function written out in C as the state machine Rust's compiler would "
             "generate, driven by block_on. Then the guide's TimerFuture, which returns "
             "PENDING without arranging a wake-up, next to versions that do arrange one. "
             "Watch when lines appear and how many polls each future gets.",
    .params = futures_params,
    .smoke = "sleep-ms=20 timer-ms=10 grace-ms=100 wake-ms=10",
    .run = futures_run,
};
