/* demo.h - what a demo is, and everything a demo may call.
 *
 * A demo is a `struct ct_demo` (name, chapter, parameter specs, run
 * function) listed in registry.c.  The runner (run.c) validates the
 * parameters, starts the clock and calls `run` on the main thread with a
 * `struct ct_run`, through which the demo:
 *
 *   - reads its parameters:           ct_param_int(run, "threads")
 *   - starts and joins threads:       ct_thread_start / ct_thread_join
 *   - prints live, stamped lines:     ct_say(run, "acquired the lock")
 *   - sleeps and waits, cancellably:  ct_sleep_ms, ct_wait
 *   - records results and checks:     ct_result_*, ct_table_*, ct_check
 *   - records a timeline:             ct_mark(run, CT_HOLD), ct_point
 *   - states its conclusion:          ct_takeaway
 *
 * Rules every demo follows: every wait is bounded or cancellable, every
 * started thread is joined before `run` returns, and every number it reports
 * was measured in this run.
 */
#ifndef CT_DEMO_H
#define CT_DEMO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "timeline.h"

#if defined(__GNUC__)
#define CT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CT_PRINTF(f, a)
#endif

/* ---- Parameters -------------------------------------------------------- */

enum ct_param_type {
    CT_PARAM_INT,       /* integer in [min, max] */
    CT_PARAM_NUM,       /* real number in [min, max] */
    CT_PARAM_BOOL,      /* true/false, yes/no, on/off, 1/0 */
    CT_PARAM_CHOICE,    /* one word of `choices` */
    CT_PARAM_SET,       /* comma-separated words of `choices`, or "all" */
    CT_PARAM_TEXT,      /* free text such as a path, up to CT_PARAM_TEXT_MAX - 1
                         * bytes, no control characters */
};

#define CT_PARAM_TEXT_MAX 256

struct ct_param_spec {
    const char *name;       /* kebab-case, as typed: "write-pct" */
    enum ct_param_type type;
    const char *def;        /* default, written as a user would type it */
    double min, max;        /* INT and NUM: inclusive range */
    const char *choices;    /* CHOICE and SET: "mutex,rwlock,spin" */
    const char *help;       /* one line */
};

#define CT_PARAMS_END { NULL, 0, NULL, 0, 0, NULL, NULL }

/* ---- Demos ------------------------------------------------------------- */

enum {
    /* The first Ctrl-C asks the demo to stop gracefully (ct_stop_requested)
     * instead of cancelling it; a second Ctrl-C cancels. */
    CT_DEMO_GRACEFUL = 1u << 0,
    /* A benchmark: `make bench` runs it. */
    CT_DEMO_BENCH = 1u << 1,
};

struct ct_run;

/* What a nondeterministic demo asks the class before `run DEMO
 * predict=true`, and which of its results answers it.  The runner asks,
 * runs, reads that result and compares; with runs=N it draws the result's
 * spread.  The demo itself does nothing more than record the result.
 *   question  asked as written; "{name}" is replaced by the value of
 *             parameter `name`, "{a*b}" by the product of two whole-number
 *             parameters ("how many of {threads*iters} increments ...")
 *   result    the key of a ct_result_int/_num/_text the demo records
 *   choices   NULL: the answer is a number, compared with a numeric
 *             result.  Else the answers accepted, "word=value,...": the
 *             class answers `word`, which is right when the text result
 *             equals `value` ("before=yes,after=no"); "=value" may be
 *             left out when the two are the same.
 *   unit      what the number counts, for the histogram ("lost updates") */
struct ct_predict {
    const char *question;
    const char *result;
    const char *choices;
    const char *unit;
};

struct ct_demo {
    const char *name;       /* the id: demos/<name>.c, tests/test-<name>.c */
    int chapter;
    const char *title;      /* a short headline */
    const char *summary;    /* one line for `list` */
    const char *intro;      /* 2-4 sentences printed before the run */
    const struct ct_param_spec *params;  /* ends with CT_PARAMS_END */
    const char *smoke;      /* small parameters for the automatic test run */
    unsigned flags;
    /* Runs the demo on the calling thread.  Returns 0, or a negative errno
     * when something failed to run (a failed check is not an error here:
     * ct_check records it and the runner turns it into exit code 1). */
    int (*run)(struct ct_run *run);
    /* Optional: the body of a helper child process, started as
     * `concur-tutor __child <name> ARGS...` by ct_child_spawn().  Returns
     * the child's exit status. */
    int (*child)(int argc, char **argv);
    /* Optional: the question for predict=true (NULL: the demo asks none). */
    const struct ct_predict *predict;
    /* Optional: rules that tie parameters together (each one alone is
     * checked against its range already).  Called before anything is
     * printed, with a run on which only ct_param_*() and ct_scale() may be
     * used.  0, or -EINVAL with one line in err naming the parameters and
     * what is accepted; the runner prints it and exits with 2. */
    int (*check)(const struct ct_run *run, char *err, size_t errlen);
};

/* ---- Parameters, scale and cancellation --------------------------------- */

long long ct_param_int(const struct ct_run *run, const char *name);
double ct_param_num(const struct ct_run *run, const char *name);
bool ct_param_bool(const struct ct_run *run, const char *name);
/* The chosen word of a CHOICE parameter. */
const char *ct_param_choice(const struct ct_run *run, const char *name);
/* Whether `word` is in a SET parameter (or is the CHOICE chosen). */
bool ct_param_has(const struct ct_run *run, const char *name, const char *word);
/* A TEXT parameter's value (valid for the whole run). */
const char *ct_param_text(const struct ct_run *run, const char *name);

/* The global time scale (--scale): demo sleeps are multiplied by it. */
double ct_scale(const struct ct_run *run);
/* Online CPUs, for benchmarks' "threads outnumber cores" notes. */
int ct_cpus(void);
/* How long a cache line takes to pass from one CPU to another, in ns (one
 * way): two threads pinned to two CPUs this process may use take turns
 * writing one word; the median of 5 batches, a few ms in all.  -1 with
 * fewer than two usable CPUs, or when the partner did not answer within
 * 50 ms (it was not running).  On a virtual machine the figure can change
 * from one run to the next, as the host moves virtual CPUs between cores,
 * and every contended lock and channel changes speed with it. */
double ct_line_handoff_ns(void);
/* A benchmark's report of the probe run before and after its measurements
 * (-1: not measured): the two figures in the summary, and a takeaway when
 * they differ by 2x or more. */
void ct_result_handoff(struct ct_run *run, double start_ns, double end_ns);
void ct_takeaway_handoff(struct ct_run *run, double start_ns, double end_ns);

/* What the calling thread's time went to so far, in ns: on a CPU, and
 * runnable but waiting for one (the rest of its life it was asleep).
 * From /proc/thread-self/schedstat; where that is missing, runq_ns is -1
 * and cpu_ns comes from CLOCK_THREAD_CPUTIME_ID. */
struct ct_sched {
    int64_t cpu_ns, runq_ns;
};
struct ct_sched ct_thread_sched(void);

/* The demo being run, and the path of this program (to re-run it). */
const struct ct_demo *ct_run_demo(const struct ct_run *run);
const char *ct_run_program(const struct ct_run *run);

/* Milliseconds since the demo started. */
double ct_elapsed_ms(const struct ct_run *run);

/* Has the run been cancelled (Ctrl-C, or a hard stop)? One atomic load. */
bool ct_cancelled(struct ct_run *run);
/* The event that is set on cancel, for primitives with cancellable waits. */
struct ct_event *ct_cancel_event(struct ct_run *run);
/* Sleep `ms` milliseconds times the time scale.  Returns true if the whole
 * sleep passed, false if the run was cancelled during it. */
bool ct_sleep_ms(struct ct_run *run, double ms);
/* Wait until `ev` is set (true) or the run is cancelled (false). */
bool ct_wait(struct ct_run *run, struct ct_event *ev);

/* CT_DEMO_GRACEFUL demos: has a graceful stop been asked for (Ctrl-C)?
 * ct_wait_stop_ms() waits up to `ms` (unscaled) for one; true if asked. */
bool ct_stop_requested(struct ct_run *run);
bool ct_wait_stop_ms(struct ct_run *run, double ms);

/* ---- Threads ----------------------------------------------------------- */

#define CT_LABEL_MAX 24

struct ct_thread {
    pthread_t tid;
    struct ct_run *run;
    void *(*fn)(void *);
    void *arg;
    int lane;               /* timeline lane, or -1 */
    bool live;              /* started and not yet joined */
    char label[CT_LABEL_MAX];
};

/* Start `fn(arg)` on a new thread labelled by the printf-style `fmt` (its
 * lines and timeline lane carry the label).  SIGINT stays blocked in it.
 * Returns 0 or a negative errno (-EAGAIN when the system is out of
 * threads); on failure nothing was started. */
int ct_thread_start(struct ct_run *run, struct ct_thread *t,
                    void *(*fn)(void *), void *arg, const char *fmt, ...)
    CT_PRINTF(5, 6);
/* Join a started thread; `ret` (may be NULL) receives fn's return value. */
int ct_thread_join(struct ct_thread *t, void **ret);
/* The calling thread's label ("main" on the demo's own thread). */
const char *ct_thread_label(void);

/* ---- Live output ------------------------------------------------------- */

/* One line, stamped with the elapsed time and the calling thread's label,
 * written whole (never torn by another thread) and flushed at once:
 *     [  12.3 ms] worker-2   acquired the lock                            */
void ct_say(struct ct_run *run, const char *fmt, ...) CT_PRINTF(2, 3);
/* A heading between the phases of a demo. */
void ct_section(struct ct_run *run, const char *fmt, ...) CT_PRINTF(2, 3);

/* ---- Results ----------------------------------------------------------- */

/* Scalars for the summary (text) and the "results" object (JSON).  `key` is
 * the JSON key, `label` the human text, `unit` may be NULL. */
void ct_result_int(struct ct_run *run, const char *key, const char *label,
                   long long value, const char *unit);
void ct_result_num(struct ct_run *run, const char *key, const char *label,
                   double value, int decimals, const char *unit);
void ct_result_text(struct ct_run *run, const char *key, const char *label,
                    const char *text);

/* Record a correctness claim.  A false one fails the run (exit code 1).
 * Returns `ok`. */
bool ct_check(struct ct_run *run, bool ok, const char *fmt, ...)
    CT_PRINTF(3, 4);

/* Add a paragraph to the takeaway: what this run's numbers mean. */
void ct_takeaway(struct ct_run *run, const char *fmt, ...) CT_PRINTF(2, 3);

/* Tables: a titled grid in the summary, an array of objects in JSON.
 * Columns are "key|Title" strings ("ns_per_op|ns/op"); a NULL ends them. */
enum ct_cell_kind { CT_CELL_TEXT, CT_CELL_INT, CT_CELL_NUM };
struct ct_cell {
    enum ct_cell_kind kind;
    const char *text;
    long long i;
    double d;
    int decimals;
};
#define CT_TEXT(s)   ((struct ct_cell){ .kind = CT_CELL_TEXT, .text = (s) })
#define CT_INT(v)    ((struct ct_cell){ .kind = CT_CELL_INT, .i = (v) })
#define CT_NUM(v, p) ((struct ct_cell){ .kind = CT_CELL_NUM, .d = (v), .decimals = (p) })

struct ct_table;
struct ct_table *ct_table_new(struct ct_run *run, const char *key,
                              const char *title, const char *const *cols);
void ct_table_row_(struct ct_table *t, size_t n, const struct ct_cell *cells);
#define ct_table_row(t, ...)                                                \
    ct_table_row_((t), sizeof((struct ct_cell[]){ __VA_ARGS__ }) /          \
                           sizeof(struct ct_cell),                          \
                  (struct ct_cell[]){ __VA_ARGS__ })

/* An ASCII bar chart of one numeric column of `t`, bars labelled by
 * another column; text output only (JSON has the table). */
void ct_bars(struct ct_run *run, const struct ct_table *t, const char *title,
             int label_col, int value_col, const char *unit);

/* ---- Timeline ---------------------------------------------------------- */

/* Each thread started with ct_thread_start (and the demo's own thread,
 * "main") has a lane.  Lanes that never get a mark are not drawn; if no
 * lane has one, the demo has no timeline. */
void ct_mark(struct ct_run *run, enum ct_state state);
void ct_point(struct ct_run *run, char glyph);
void ct_legend(struct ct_run *run, enum ct_state state, const char *text);
void ct_point_legend(struct ct_run *run, char glyph, const char *text);

/* A lane for something that is not a thread, such as an async task: many
 * tasks share one thread, and one task may move between threads.  Returns
 * the lane, or -1 when every lane is taken (marks on lane -1 are ignored).
 * ct_mark_lane and ct_point_lane record on that lane from any thread. */
int ct_lane(struct ct_run *run, const char *fmt, ...) CT_PRINTF(2, 3);
void ct_mark_lane(struct ct_run *run, int lane, enum ct_state state);
void ct_point_lane(struct ct_run *run, int lane, char glyph);
/* ct_mark_lane at a time taken earlier with ct_elapsed_ms(), so that a
 * table and the timeline show the very same instants; marks on one lane
 * go in time order.  A thread's lane is its ct_thread's `lane`. */
void ct_mark_lane_at(struct ct_run *run, int lane, enum ct_state state, double at_ms);

/* ---- Child processes --------------------------------------------------- */

/* A helper child process: this program re-run as `__child DEMO ARGS...`,
 * which calls the demo's `child` function.  Its stdout and stderr come back
 * through a pipe, read line by line. */
struct ct_child {
    int pid;
    int fd;                 /* read end of the child's stdout/stderr */
    size_t len;             /* bytes buffered in buf */
    bool eof;
    char buf[4096];
};

/* Start the child with `args` (NULL-terminated, may be NULL).  SIGINT is
 * at its default in the child.  0 or a negative errno. */
int ct_child_spawn(struct ct_run *run, const char *const *args,
                   struct ct_child *c);
/* Read one line (without its newline) into `line`.  Returns 1 for a line,
 * 0 at end of output, -ETIMEDOUT after `timeout_ms`, -ECANCELED when the
 * run is cancelled.  Over-long lines are cut to fit. */
int ct_child_readline(struct ct_run *run, struct ct_child *c, char *line,
                      size_t n, double timeout_ms);
/* Close the pipe and reap the child, killing it if it has not exited
 * within `timeout_ms` or the run is cancelled.  Returns the exit status,
 * 128 + the signal number if a signal ended it, or a negative errno. */
int ct_child_wait(struct ct_run *run, struct ct_child *c, double timeout_ms);

#endif
