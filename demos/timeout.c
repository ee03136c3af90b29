/* timeout.c - demo `timeout`: an operation given a deadline either
 * finishes inside it or is cancelled when it passes.
 *
 * Shows: the guide's async-std example (a 1 s operation under a 2 s
 * timeout, driven by block_on from plain code), scaled: a 100 ms operation
 * under a 200 ms deadline finishes; a 300 ms one under the same deadline is
 * dropped at 200 ms, its cleanup running then, and the caller gets
 * -ETIMEDOUT (Rust's Err(Elapsed)).  block_on here is the demo's own thread
 * driving a current-thread executor: no task is spawned.
 * Watch for: "completed" then "timed out", the cleanup line at the deadline,
 * and no timer left behind.
 * Lesson: async-std (chapter 7).
 */
#include <errno.h>

#include "demo.h"
#include "clock.h"
#include "combinators.h"
#include "exec.h"
#include "reactor.h"
#include "tasks.h"

enum { NOPS = 2 };

static const char *const op_label[NOPS] = { "fast operation", "slow operation" };

struct timeout_result {
    double deadline_ms, asked[NOPS];    /* scaled */
    struct ct_demo_op_record rec[NOPS];
    int err[NOPS];              /* 0: completed, -ETIMEDOUT: the deadline won */
    double took[NOPS];          /* block_on, start to return */
    size_t timers_left;
};

static const char *outcome(int err)
{
    return err == 0 ? "completed" : err == -ETIMEDOUT ? "timed out" : "failed";
}

/* Operation i under the deadline, driven by block_on. */
static int run_one(struct ct_run *run, struct ct_exec *ex, int i, struct timeout_result *r)
{
    ct_section(run, "%s: %.0f ms of work, %.0f ms deadline", op_label[i], r->asked[i],
               r->deadline_ms);
    struct ct_demo_op o;
    ct_demo_op_init(&o, run, op_label[i], ct_lane(run, "%s", op_label[i]),
                    (int64_t)(r->asked[i] * 1e6), &r->rec[i], NULL);
    /* the clock starts first: the deadline counts from ct_timeout_init */
    int64_t t0 = ct_clock_ns();
    struct ct_timeout t;
    ct_timeout_init(&t, &o.base, (int64_t)(r->deadline_ms * 1e6));
    int rc = ct_block_on(ex, &t.base);
    r->took[i] = (double)(ct_clock_ns() - t0) / 1e6;
    r->err[i] = t.base.error;
    if (rc == 0)
        ct_say(run, "block_on returned after %.1f ms: %s", r->took[i], outcome(r->err[i]));
    ct_future_drop(&t.base);
    return rc;
}

static void report_timeout(struct ct_run *run, const struct timeout_result *r)
{
    static const char *const cols[] = { "op|operation", "needs_ms|needs ms",
                                        "deadline_ms|deadline ms", "outcome",
                                        "took_ms|block_on took ms", "cleanups", NULL };
    struct ct_table *tab = ct_table_new(run, "operations", NULL, cols);
    for (int i = 0; i < NOPS; i++)
        ct_table_row(tab, CT_TEXT(op_label[i]), CT_NUM(r->asked[i], 0),
                     CT_NUM(r->deadline_ms, 0), CT_TEXT(outcome(r->err[i])),
                     CT_NUM(r->took[i], 1), CT_INT(r->rec[i].cleanups));
    ct_result_text(run, "fast_outcome", "fast operation", outcome(r->err[0]));
    ct_result_text(run, "slow_outcome", "slow operation", outcome(r->err[1]));
    ct_result_num(run, "fast_ms", "fast operation took", r->took[0], 1, "ms");
    ct_result_num(run, "slow_ms", "slow operation took", r->took[1], 1, "ms");

    for (int i = 0; i < NOPS; i++) {
        bool timed_out = r->err[i] == -ETIMEDOUT;
        ct_check(run, (timed_out && r->rec[i].completions == 0) ||
                          (r->err[i] == 0 && r->rec[i].completions == 1),
                 "%s: completed or timed out, never both", op_label[i]);
        ct_check(run, r->rec[i].cleanups == 1, "%s: its cleanup ran exactly once (%d)",
                 op_label[i], r->rec[i].cleanups);
        ct_check(run, r->took[i] >= (timed_out ? r->deadline_ms : r->asked[i]),
                 "%s: did not end before %s (%.1f ms)", op_label[i],
                 timed_out ? "its deadline" : "its own time", r->took[i]);
    }
    ct_check(run, r->timers_left == 0, "no timer left behind (%zu)", r->timers_left);

    int in_time = (r->err[0] == 0) + (r->err[1] == 0);
    ct_takeaway(run,
                "The %.0f ms operation %s and the %.0f ms one %s under the %.0f ms "
                "deadline. A timeout is a race between the operation and a timer: whichever "
                "is ready first decides, and a timed-out operation is simply dropped, so its "
                "cleanup runs at the deadline and none of its remaining work ever happens.",
                r->asked[0], outcome(r->err[0]), r->asked[1], outcome(r->err[1]),
                r->deadline_ms);
    if (in_time != 1)
        ct_takeaway(run,
                    "(With these parameters %s; give one operation less time than the "
                    "deadline and one more to see both outcomes.)",
                    in_time == 2 ? "both fit" : "neither fit");
}

static int timeout_run(struct ct_run *run)
{
    static const char *const keys[NOPS] = { "fast-ms", "slow-ms" };
    struct timeout_result r = {
        .deadline_ms = (double)ct_param_int(run, "deadline-ms") * ct_scale(run),
    };
    for (int i = 0; i < NOPS; i++)
        r.asked[i] = (double)ct_param_int(run, keys[i]) * ct_scale(run);
    ct_legend(run, CT_SLEEP, "awaiting its timer");
    ct_point_legend(run, '*', "finished in time");
    ct_point_legend(run, 'x', "deadline passed: dropped");

    struct ct_exec *ex;
    int rc = ct_demo_executor(run, CT_EXEC_CURRENT_THREAD, 1, &ex);
    if (rc)
        return rc;
    for (int i = 0; i < NOPS && rc == 0; i++)
        rc = run_one(run, ex, i, &r);
    r.timers_left = ct_reactor_pending(ct_exec_reactor(ex));
    ct_exec_free(ex);
    if (rc)
        return rc == -ECANCELED ? 0 : rc;
    report_timeout(run, &r);
    return 0;
}

static const struct ct_param_spec timeout_params[] = {
    { "deadline-ms", CT_PARAM_INT, "200", 1, 5000, NULL, "the timeout (the guide's 2 s)" },
    { "fast-ms", CT_PARAM_INT, "100", 1, 5000, NULL, "the operation that fits (the guide's 1 s)" },
    { "slow-ms", CT_PARAM_INT, "300", 1, 5000, NULL, "the operation that does not" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_timeout = {
    .name = "timeout",
    .chapter = 7,
    .title = "Deadlines with timeout",
    .summary = "One operation finishes inside its deadline, the other is cancelled at it",
    .intro = "Two operations run under the same deadline, each driven by block_on from plain "
             "C: one needs less time than it is given, the other more. Watch the second one "
             "dropped when its deadline passes, and its cleanup run at that moment.",
    .params = timeout_params,
    .smoke = "deadline-ms=20 fast-ms=10 slow-ms=30",
    .run = timeout_run,
};
