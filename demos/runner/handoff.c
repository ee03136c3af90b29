/* handoff.c - ct_line_handoff_ns (demo.h): how far apart two CPUs are.
 *
 * Two threads, each pinned to its own CPU, take turns writing one word:
 * the caller writes an odd number and waits for the next even one, the
 * partner the other way round.  Each turn moves the word's cache line from
 * one core's cache to the other's, so the time per turn is the hand-off
 * that every contended lock and channel pays.  The waits are bounded: a
 * partner that is not running (the CPU is taken) ends the probe with -1
 * rather than a spin of unbounded length.
 */
#include "demo.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "clock.h"
#include "stats.h"

#define BATCHES 5
#define TURNS 4000              /* round trips per batch: ~0.25-1.5 ms */
#define PATIENCE_NS (50 * CT_NS_PER_MS)

struct probe {
    _Alignas(64) atomic_long word;
    _Alignas(64) int cpu;       /* the partner's */
    atomic_bool gave_up;
};

/* Pin the calling thread to one CPU. */
static bool pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0;
}

/* Wait until p->word reads `want`; false if that took over PATIENCE_NS or
 * the other side gave up. */
static bool await_turn(struct probe *p, long want)
{
    int64_t deadline = 0;
    for (unsigned spins = 1;; spins++) {
        if (atomic_load_explicit(&p->word, memory_order_acquire) == want)
            return true;
        if (spins % 1024 == 0) {
            int64_t now = ct_clock_ns();
            if (!deadline)
                deadline = now + PATIENCE_NS;
            if (now > deadline || atomic_load(&p->gave_up)) {
                atomic_store(&p->gave_up, true);
                return false;
            }
        }
    }
}

static void *partner(void *arg)
{
    struct probe *p = arg;
    if (!pin(p->cpu)) {
        atomic_store(&p->gave_up, true);
        return NULL;
    }
    for (long i = 0; i < (long)BATCHES * TURNS; i++) {
        if (!await_turn(p, 2 * i + 1))
            return NULL;
        atomic_store_explicit(&p->word, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

double ct_line_handoff_ns(void)
{
    cpu_set_t mine;
    if (sched_getaffinity(0, sizeof mine, &mine) != 0 || CPU_COUNT(&mine) < 2)
        return -1;
    int cpu[2], n = 0;
    for (int c = 0; c < CPU_SETSIZE && n < 2; c++) {
        if (CPU_ISSET(c, &mine))
            cpu[n++] = c;
    }
    struct probe *p = aligned_alloc(64, sizeof *p);
    if (!p)
        return -1;
    atomic_init(&p->word, 0);
    atomic_init(&p->gave_up, false);
    p->cpu = cpu[1];
    double ns[BATCHES];
    pthread_t t;
    bool started = pin(cpu[0]) && pthread_create(&t, NULL, partner, p) == 0;
    bool ok = started;
    long i = 0;
    for (int b = 0; b < BATCHES && ok; b++) {
        int64_t t0 = ct_clock_ns();
        for (int k = 0; k < TURNS && ok; k++, i++) {
            atomic_store_explicit(&p->word, 2 * i + 1, memory_order_release);
            ok = await_turn(p, 2 * i + 2);
        }
        ns[b] = (double)(ct_clock_ns() - t0) / (2.0 * TURNS);
    }
    if (started) {
        if (!ok)
            atomic_store(&p->gave_up, true);
        pthread_join(t, NULL);
    }
    sched_setaffinity(0, sizeof mine, &mine);
    free(p);
    struct ct_stats st;
    if (!ok || ct_stats_of(ns, BATCHES, &st) != 0)
        return -1;
    return st.median;
}

void ct_result_handoff(struct ct_run *run, double start_ns, double end_ns)
{
    if (start_ns > 0)
        ct_result_num(run, "handoff_ns_start", "cache-line hand-off, at start", start_ns, 0,
                      "ns");
    if (end_ns > 0)
        ct_result_num(run, "handoff_ns_end", "cache-line hand-off, at end", end_ns, 0, "ns");
}

/* Whether the two probes differ by 2x or more (both measured).  Not
 * static: tests/test-handoff.c checks it. */
bool ct_handoff_changed(double start_ns, double end_ns);
bool ct_handoff_changed(double start_ns, double end_ns)
{
    if (start_ns <= 0 || end_ns <= 0)
        return false;
    double lo = start_ns < end_ns ? start_ns : end_ns, hi = start_ns + end_ns - lo;
    return hi >= 2 * lo;
}

void ct_takeaway_handoff(struct ct_run *run, double start_ns, double end_ns)
{
    if (!ct_handoff_changed(start_ns, end_ns))
        return;
    ct_takeaway(run,
                "A cache line took %.0f ns to pass between two CPUs at the start of this run "
                "and %.0f ns at the end: the CPUs moved %s each other during the run (a "
                "virtual machine's host does this), and every lock or channel that passes "
                "lines changed speed with them. Repetitions from before and after may not "
                "be comparable.",
                start_ns, end_ns, end_ns > start_ns ? "away from" : "closer to");
}
