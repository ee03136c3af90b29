/* gate.c - see gate.h. */
#include "gate.h"

#include <sched.h>

void ct_gate_init(struct ct_gate *g, int parties)
{
    atomic_init(&g->arrived, 0);
    atomic_init(&g->open, false);
    g->parties = parties;
}

bool ct_gate_wait(struct ct_gate *g, struct ct_event *cancel)
{
    if (atomic_fetch_add(&g->arrived, 1) + 1 >= g->parties)
        atomic_store(&g->open, true);
    for (unsigned spins = 0; !atomic_load(&g->open); spins++) {
        /* look at the cancel flag now and then; yield so that workers which
         * have not been scheduled yet can arrive */
        if ((spins & 63) == 0 && cancel && ct_event_is_set(cancel))
            return false;
        sched_yield();
    }
    return true;
}

void ct_gate_open(struct ct_gate *g)
{
    atomic_store(&g->open, true);
}
