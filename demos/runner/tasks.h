/* tasks.h - what the async demos (chapters 6 and 7) share: executors whose
 * threads are the demo runner's threads, and durations on the run's time
 * scale.
 *
 * An executor made with ct_demo_executor() starts its workers, its reactor and
 * its blocking-pool threads through ct_thread_start, so their lines carry
 * labels ("worker-2"), they get timeline lanes, SIGINT stays blocked in
 * them, and the runner checks they were all joined.  Its block_on gives
 * up when the run is cancelled.
 */
#ifndef CT_TASKS_H
#define CT_TASKS_H

#include <stdbool.h>
#include <stdint.h>

#include "demo.h"
#include "exec.h"
#include "timer.h"

/* 0 or a negative errno.  `workers` as in struct ct_exec_config. */
int ct_demo_executor(struct ct_run *run, enum ct_exec_flavor flavor, int workers,
                 struct ct_exec **out);

/* `ms` milliseconds on the run's time scale, in nanoseconds: what timers
 * are given. */
int64_t ct_demo_ns(const struct ct_run *run, double ms);

/* ---- an operation to await, race and cancel ------------------------------
 *
 * `async fn op() { let buf = alloc(); sleep(ns).await; }` with the buffer
 * released on every way out.  It prints when it starts, finishes, or is
 * dropped unfinished (cancelled), marks its own timeline lane (~ while it
 * sleeps, * when it finishes, x when it is cancelled) and counts all of it
 * in a record the demo keeps.  Its output (value) is its name. */
struct ct_demo_op_record {
    int polls, completions, cleanups;
    bool cancelled;             /* dropped before it completed */
    int64_t start_ns, end_ns;   /* first poll; completion or cancellation */
};

struct ct_demo_op {
    struct ct_future base;
    int pc, lane;
    const char *name;
    int64_t ns;
    struct ct_sleep nap;
    void *buffer;               /* held from the first poll to the drop */
    int *open;                  /* optional: buffers held right now */
    struct ct_run *run;
    struct ct_demo_op_record *rec;
};

/* `lane` from ct_lane (or -1); `open` may be NULL. */
void ct_demo_op_init(struct ct_demo_op *op, struct ct_run *run, const char *name, int lane,
                     int64_t ns, struct ct_demo_op_record *rec, int *open);

#endif
