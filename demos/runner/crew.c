/* crew.c - see crew.h. */
#include "crew.h"

#include <stdint.h>

#include "clock.h"

bool ct_member_begin(struct ct_member *m)
{
    if (!ct_gate_wait(m->gate, ct_cancel_event(m->run)))
        return false;
    m->start_ns = ct_clock_ns();
    return true;
}

void ct_member_end(struct ct_member *m)
{
    m->end_ns = ct_clock_ns();
}

static struct ct_member *member(void *first, size_t stride, int i)
{
    return (struct ct_member *)((char *)first + (size_t)i * stride);
}

int ct_crew_run(struct ct_run *run, void *first, size_t stride, int n,
                void *(*fn)(void *), const char *prefix, double *ms)
{
    struct ct_gate gate;
    ct_gate_init(&gate, n);
    int rc = 0, started = 0;
    for (; started < n; started++) {
        struct ct_member *m = member(first, stride, started);
        m->run = run;
        m->gate = &gate;
        m->id = started + 1;
        m->start_ns = m->end_ns = 0;
        rc = ct_thread_start(run, &m->thread, fn, m, "%s-%d", prefix, m->id);
        if (rc)
            break;
    }
    if (rc)
        ct_gate_open(&gate);        /* let the ones that started go */
    int64_t lo = INT64_MAX, hi = 0;
    for (int i = 0; i < started; i++) {
        struct ct_member *m = member(first, stride, i);
        ct_thread_join(&m->thread, NULL);
        if (m->start_ns) {
            lo = m->start_ns < lo ? m->start_ns : lo;
            hi = m->end_ns > hi ? m->end_ns : hi;
        }
    }
    *ms = hi > lo ? (double)(hi - lo) / 1e6 : 0;
    return rc;
}
