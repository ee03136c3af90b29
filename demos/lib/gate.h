/* gate.h - a starting gate: workers wait until all of them are running.
 *
 * A benchmark or a race demo wants its threads to start at the same instant.
 * Waiting on an event is not enough: the wake-ups come one by one, and on a
 * busy machine the first worker can finish before the last one is even
 * scheduled.  At this gate each worker announces itself and then spins (with
 * sched_yield, so that a worker that has not run yet gets a CPU) until every
 * party has arrived.  Then they all start within microseconds of each other.
 *
 * If the creator fails to start all the workers, ct_gate_open() lets the
 * ones that did start through; cancellation does too.
 */
#ifndef CT_GATE_H
#define CT_GATE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "event.h"

struct ct_gate {
    atomic_int arrived;
    int parties;
    atomic_bool open;
};

/* A gate for `parties` workers. */
void ct_gate_init(struct ct_gate *g, int parties);

/* Arrive and wait for the others.  Returns true when all have arrived or
 * the gate was opened, false if `cancel` (may be NULL) was set first.
 * Everything each party did before arriving happens-before every wait that
 * returns true (the arrival count and the open flag are seq_cst).  The
 * gate is a start line, not a barrier to reuse: one use per init. */
bool ct_gate_wait(struct ct_gate *g, struct ct_event *cancel);

/* Let everyone through now, arrived or not (e.g. a worker failed to start).
 * What the caller did before opening happens-before the waits it ends. */
void ct_gate_open(struct ct_gate *g);

#endif
