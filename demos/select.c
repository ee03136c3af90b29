/* select.c - demo `select`: race two operations; the first to finish wins
 * and the other is cancelled, its cleanup running at that moment.
 *
 * Shows: operation one (200 ms) and operation two (100 ms), the guide's
 * 2 s and 1 s scaled, raced with ct_select on a current-thread executor.
 * Each holds a resource from its first poll (a buffer, counted) that its
 * cleanup releases.  When two finishes, one is dropped mid-sleep: its
 * cleanup prints, its timer leaves the reactor, and it is never polled
 * again.
 * Watch for: the winner's line, then the loser's cleanup line at the same
 * instant, and the counts: one cleanup each, nothing left open.
 * Lesson: select (chapter 6).
 */
#include <errno.h>

#include "demo.h"
#include "clock.h"
#include "combinators.h"
#include "exec.h"
#include "reactor.h"
#include "tasks.h"

enum { NOPS = 2 };

static const char *const op_label[NOPS] = { "operation one", "operation two" };

struct select_result {
    struct ct_demo_op_record rec[NOPS];
    int64_t ns[NOPS];           /* each operation's length */
    int open;                   /* buffers still held */
    int winner;
    double ms;                  /* the select, start to finish */
    int64_t t0;
    size_t timers_left;         /* in the reactor after the select */
};

static int run_race(struct ct_run *run, struct select_result *r)
{
    static const char *const keys[NOPS] = { "one-ms", "two-ms" };
    struct ct_demo_op ops[NOPS];
    struct ct_future *arms[NOPS];
    for (int i = 0; i < NOPS; i++) {
        r->ns[i] = ct_demo_ns(run, (double)ct_param_int(run, keys[i]));
        ct_demo_op_init(&ops[i], run, op_label[i], ct_lane(run, "%s", op_label[i]), r->ns[i],
                        &r->rec[i], &r->open);
        arms[i] = &ops[i].base;
    }
    ct_legend(run, CT_SLEEP, "awaiting its timer");
    ct_point_legend(run, '*', "finished first: the winner");
    ct_point_legend(run, 'x', "cancelled: dropped, cleanup ran");

    struct ct_exec *ex;
    int rc = ct_demo_executor(run, CT_EXEC_CURRENT_THREAD, 1, &ex);
    if (rc)
        return rc;
    struct ct_select sel;
    ct_select_init(&sel, arms, NOPS);
    ct_say(run, "select: polling both, in order, until one is ready");
    r->t0 = ct_clock_ns();
    rc = ct_block_on(ex, &sel.base);
    r->ms = (double)(ct_clock_ns() - r->t0) / 1e6;
    r->timers_left = ct_reactor_pending(ct_exec_reactor(ex));
    r->winner = sel.winner;
    ct_future_drop(&sel.base);
    ct_exec_free(ex);
    if (rc == 0)
        ct_say(run, "first to complete: %s, after %.1f ms", op_label[r->winner], r->ms);
    return rc;
}

static void report_select(struct ct_run *run, const struct select_result *r)
{
    int w = r->winner, l = 1 - w;
    const struct ct_demo_op_record *rec = r->rec;
    static const char *const cols[] = { "op|operation", "ms|asked ms", "outcome", "polls",
                                        "cleanups", "ended_ms|ended after ms", NULL };
    struct ct_table *t = ct_table_new(run, "operations", NULL, cols);
    for (int i = 0; i < NOPS; i++)
        ct_table_row(t, CT_TEXT(op_label[i]), CT_NUM((double)r->ns[i] / 1e6, 0),
                     CT_TEXT(i == w ? "won" : rec[i].cancelled ? "cancelled" : "?"),
                     CT_INT(rec[i].polls), CT_INT(rec[i].cleanups),
                     CT_NUM((double)(rec[i].end_ns - r->t0) / 1e6, 1));
    ct_result_text(run, "winner", "winner", op_label[w]);
    ct_result_num(run, "select_ms", "select took", r->ms, 1, "ms");
    ct_result_int(run, "loser_cleanups", "cleanups run by the loser", rec[l].cleanups, NULL);
    ct_result_int(run, "open_after", "buffers still open afterwards", r->open, NULL);
    ct_result_int(run, "timers_left", "timers left in the reactor", (long long)r->timers_left,
                  NULL);

    ct_check(run, rec[w].completions == 1 && rec[l].completions == 0,
             "exactly one operation finished (%s)", op_label[w]);
    ct_check(run, rec[l].cancelled && rec[l].cleanups == 1,
             "the loser was cancelled, its cleanup ran once (%d)", rec[l].cleanups);
    ct_check(run, rec[w].cleanups == 1, "the winner was dropped once too (%d)", rec[w].cleanups);
    ct_check(run, r->open == 0, "no buffer left open (%d)", r->open);
    ct_check(run, r->timers_left == 0, "the loser's timer left the reactor (%zu left)",
             r->timers_left);
    ct_check(run, r->ms * 1e6 >= (double)r->ns[w], "the winner did not finish early");

    /* measured: had the loser's own time run out when it was dropped? */
    bool sleeping = rec[l].end_ns - rec[l].start_ns < r->ns[l];
    ct_takeaway(run,
                "The winner, %s, finished after %.1f ms. The loser, %s, was dropped at that "
                "instant, %s: its cleanup freed its buffer and cancelled its timer, so "
                "nothing of it outlived the select. Cancelling a future is just dropping it; "
                "the work it had not done is never done, which is why cleanup has to live in "
                "the drop, not after an await.",
                op_label[w], r->ms, op_label[l],
                sleeping ? "still sleeping" : "though its time was up too");
}

static int select_run(struct ct_run *run)
{
    struct select_result r = { 0 };
    int rc = run_race(run, &r);
    if (rc)
        return rc == -ECANCELED ? 0 : rc;
    report_select(run, &r);
    return 0;
}

static const struct ct_param_spec select_params[] = {
    { "one-ms", CT_PARAM_INT, "200", 1, 5000, NULL, "operation one (the guide's 2 s)" },
    { "two-ms", CT_PARAM_INT, "100", 1, 5000, NULL, "operation two (the guide's 1 s)" },
    CT_PARAMS_END,
};

static const struct ct_predict select_predict = {
    .question = "Operation one takes {one-ms} ms and operation two {two-ms} ms; select returns "
                "when the first of them finishes. Which one wins?",
    .result = "winner",
    .choices = "one=operation one,two=operation two",
};

const struct ct_demo ct_demo_select = {
    .name = "select",
    .chapter = 6,
    .title = "Racing futures with select",
    .summary = "The first of two operations wins; the other is dropped and its cleanup runs",
    .intro = "Two operations race under select: the first to finish wins and the other is "
             "cancelled by being dropped. Each holds a buffer that only its cleanup frees. "
             "Watch the loser's cleanup run the moment the winner finishes.",
    .params = select_params,
    .smoke = "one-ms=20 two-ms=10",
    .run = select_run,
    .predict = &select_predict,
};
