/* join.c - demo `join`: three operations awaited one after another take
 * the sum of their times; joined, they take the longest.
 *
 * Shows: three async operations of 200, 100 and 50 ms (the guide's 2 s,
 * 1 s and 500 ms, scaled) on a current-thread executor: one thread.  First
 * an async function awaits them in turn, then ct_join polls all three
 * together.  Both wall times are measured, and so is how many operations
 * were in flight at once.
 * Watch for: the sequential total near the sum, the joined one near the
 * maximum, and the timeline: a staircase, then three overlapping bars.
 * Lesson: join (chapter 6).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "demo.h"
#include "clock.h"
#include "combinators.h"
#include "exec.h"
#include "tasks.h"

enum { NOPS = 3 };

static const char *const op_name[NOPS] = { "op one", "op two", "op three" };

/* The sequential version: await one, then two, then three. */
struct in_turn {
    struct ct_future base;
    int pc;
    struct ct_demo_op ops[NOPS];
    int i;
};

static enum ct_poll in_turn_poll(struct ct_future *f, struct ct_cx *cx)
{
    struct in_turn *s = (struct in_turn *)f;
    CT_ASYNC_BEGIN(s->pc);
    for (s->i = 0; s->i < NOPS; s->i++)
        CT_AWAIT(s->pc, &s->ops[s->i].base, cx);
    CT_ASYNC_END(s->pc);
    return CT_READY;
}

static void in_turn_drop(struct ct_future *f)
{
    struct in_turn *s = (struct in_turn *)f;
    for (int i = 0; i < NOPS; i++)
        ct_future_drop(&s->ops[i].base);
}

static const struct ct_future_ops in_turn_ops = { "in_turn", in_turn_poll, in_turn_drop };

/* Largest number of operations whose [start, end] overlap. */
static int max_in_flight(const struct ct_demo_op_record *r)
{
    int best = 0;
    for (int i = 0; i < NOPS; i++) {
        int n = 0;
        for (int j = 0; j < NOPS; j++)
            n += r[j].start_ns <= r[i].start_ns && r[i].start_ns < r[j].end_ns;
        best = n > best ? n : best;
    }
    return best;
}

struct join_config {
    double ms[NOPS];            /* each operation, scaled */
    double sum, max;
    int lane[NOPS];
};

struct join_result {
    struct ct_demo_op_record seq[NOPS], joined[NOPS];
    double seq_ms, join_ms;
    int seq_flight, join_flight;    /* most operations in flight at once */
};

static int run_sequential(struct ct_run *run, struct ct_exec *ex, const struct join_config *c,
                          struct join_result *r)
{
    ct_section(run, "sequential: await one, then two, then three");
    struct in_turn seq = { .base = { .ops = &in_turn_ops } };
    for (int i = 0; i < NOPS; i++)
        ct_demo_op_init(&seq.ops[i], run, op_name[i], c->lane[i], (int64_t)(c->ms[i] * 1e6),
                        &r->seq[i], NULL);
    int64_t t0 = ct_clock_ns();
    int rc = ct_block_on(ex, &seq.base);
    r->seq_ms = (double)(ct_clock_ns() - t0) / 1e6;
    ct_future_drop(&seq.base);
    if (rc == 0)
        ct_say(run, "sequential: all three done in %.1f ms", r->seq_ms);
    return rc;
}

static int run_joined(struct ct_run *run, struct ct_exec *ex, const struct join_config *c,
                      struct join_result *r)
{
    ct_section(run, "join: poll all three together");
    struct ct_demo_op ops[NOPS];
    struct ct_future *kids[NOPS];
    for (int i = 0; i < NOPS; i++) {
        ct_demo_op_init(&ops[i], run, op_name[i], c->lane[i], (int64_t)(c->ms[i] * 1e6),
                        &r->joined[i], NULL);
        kids[i] = &ops[i].base;
    }
    struct ct_join j;
    ct_join_init(&j, kids, NOPS);
    int64_t t0 = ct_clock_ns();
    int rc = ct_block_on(ex, &j.base);
    r->join_ms = (double)(ct_clock_ns() - t0) / 1e6;
    ct_future_drop(&j.base);
    if (rc == 0)
        ct_say(run, "join: all three done in %.1f ms", r->join_ms);
    return rc;
}

static void report_join(struct ct_run *run, const struct join_config *c,
                        const struct join_result *r)
{
    static const char *const cols[] = { "mode", "wall_ms|wall ms", "expect_ms|expected ms",
                                        "extra_ms|extra ms", "in_flight|max in flight", NULL };
    struct ct_table *t = ct_table_new(run, "modes", NULL, cols);
    ct_table_row(t, CT_TEXT("sequential (sum)"), CT_NUM(r->seq_ms, 1), CT_NUM(c->sum, 1),
                 CT_NUM(r->seq_ms - c->sum, 1), CT_INT(r->seq_flight));
    ct_table_row(t, CT_TEXT("join (max)"), CT_NUM(r->join_ms, 1), CT_NUM(c->max, 1),
                 CT_NUM(r->join_ms - c->max, 1), CT_INT(r->join_flight));
    ct_bars(run, t, "wall time", 0, 1, "ms");
    ct_result_num(run, "sequential_ms", "sequential awaits", r->seq_ms, 1, "ms");
    ct_result_num(run, "join_ms", "join", r->join_ms, 1, "ms");
    /* one ratio, printed to one decimal in the summary and the takeaway alike */
    double ratio = r->join_ms > 0 ? r->seq_ms / r->join_ms : 0;
    ct_result_num(run, "speedup", "join speed-up", ratio, 1, "x");

    int seq_done = 0, join_done = 0;
    for (int i = 0; i < NOPS; i++) {
        seq_done += r->seq[i].completions;
        join_done += r->joined[i].completions;
    }
    ct_check(run, seq_done == NOPS && join_done == NOPS,
             "every operation completed once in each mode (%d, %d of %d)", seq_done,
             join_done, NOPS);
    ct_check(run, r->seq_ms >= c->sum, "sequential took at least the sum (%.1f >= %.1f ms)",
             r->seq_ms, c->sum);
    ct_check(run, r->join_ms >= c->max, "join took at least the longest (%.1f >= %.1f ms)",
             r->join_ms, c->max);
    ct_check(run, r->seq_flight == 1 && r->join_flight == NOPS,
             "in flight at once: %d awaited in turn, %d joined", r->seq_flight,
             r->join_flight);

    /* A ratio that rounds to 1.0x reads as no gain; a few ms saved on a long
     * operation is still a gain, so then say it in ms. */
    double saved = r->seq_ms - r->join_ms;
    char gain[64], shown[32];
    snprintf(shown, sizeof shown, "%.1f", ratio);
    if (strtod(shown, NULL) > 1.0)
        snprintf(gain, sizeof gain, "%sx faster", shown);
    else if (saved > 0)
        snprintf(gain, sizeof gain, "%.1f ms sooner", saved);
    else
        snprintf(gain, sizeof gain, "no sooner (%.1f ms later)", -saved);
    ct_takeaway(run,
                "Awaiting in turn took %.1f ms, the sum of the three (%.0f ms) plus %.1f ms; "
                "joined they took %.1f ms, the longest one (%.0f ms) plus %.1f ms: %s, on "
                "the same single thread, with no thread per operation. An await suspends "
                "only the task that wrote it; ct_join keeps the three futures in one task "
                "and polls each whenever the task is woken.",
                r->seq_ms, c->sum, r->seq_ms - c->sum, r->join_ms, c->max, r->join_ms - c->max,
                gain);
}

static int join_run(struct ct_run *run)
{
    static const char *const keys[NOPS] = { "one-ms", "two-ms", "three-ms" };
    struct join_config c = { 0 };
    for (int i = 0; i < NOPS; i++) {
        c.ms[i] = (double)ct_param_int(run, keys[i]) * ct_scale(run);
        c.sum += c.ms[i];
        c.max = c.ms[i] > c.max ? c.ms[i] : c.max;
        c.lane[i] = ct_lane(run, "%s", op_name[i]);
    }
    ct_legend(run, CT_SLEEP, "awaiting its timer (no thread blocked)");
    ct_point_legend(run, '*', "finished");

    struct ct_exec *ex;
    int rc = ct_demo_executor(run, CT_EXEC_CURRENT_THREAD, 1, &ex);
    if (rc)
        return rc;
    struct join_result r = { 0 };
    rc = run_sequential(run, ex, &c, &r);
    if (rc == 0)
        rc = run_joined(run, ex, &c, &r);
    ct_exec_free(ex);
    if (rc)
        return rc == -ECANCELED ? 0 : rc;
    r.seq_flight = max_in_flight(r.seq);
    r.join_flight = max_in_flight(r.joined);
    report_join(run, &c, &r);
    return 0;
}

static const struct ct_param_spec join_params[] = {
    { "one-ms", CT_PARAM_INT, "200", 1, 5000, NULL, "operation one (the guide's 2 s)" },
    { "two-ms", CT_PARAM_INT, "100", 1, 5000, NULL, "operation two (the guide's 1 s)" },
    { "three-ms", CT_PARAM_INT, "50", 1, 5000, NULL, "operation three (the guide's 500 ms)" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_join = {
    .name = "join",
    .chapter = 6,
    .title = "Awaiting in turn versus join",
    .summary = "Three sleeps awaited one by one take the sum; joined, they take the longest",
    .intro = "Three async operations of different lengths run on one thread, first awaited "
             "one after another, then joined so that all three are in flight together. Compare "
             "the two wall times with the sum and the maximum of the three.",
    .params = join_params,
    .smoke = "one-ms=20 two-ms=10 three-ms=5",
    .run = join_run,
};
