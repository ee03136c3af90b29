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

#include <stdint.h>

#include "demo.h"
#include "lib/exec.h"

/* 0 or a negative errno.  `workers` as in struct ct_exec_config. */
int ct_demo_executor(struct ct_run *run, enum ct_exec_flavor flavor, int workers,
                 struct ct_exec **out);

/* `ms` milliseconds on the run's time scale, in nanoseconds: what timers
 * are given. */
int64_t ct_demo_ns(const struct ct_run *run, double ms);

#endif
