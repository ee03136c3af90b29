/* backoff.h - polite spinning: a pause hint and exponential backoff.
 *
 * A thread that spins on a shared word should (1) read it without writing
 * (so the cache line stays shared), (2) tell the core it is spinning (the
 * x86 `pause` / Arm `yield` hint: it saves power and frees resources for a
 * sibling hyper-thread), and (3) back off, waiting longer after each
 * failure, so that a crowd of spinners does not hammer the line the moment
 * it is released.  Once the spins reach a cap it gives the CPU away with
 * sched_yield(): when threads outnumber cores, the holder may be waiting
 * for this very core.
 */
#ifndef CT_BACKOFF_H
#define CT_BACKOFF_H

#include <sched.h>
#include <stdbool.h>
#include <stdatomic.h>

#define CT_BACKOFF_MAX_SPINS 1024u

/* One "I am spinning" hint to the CPU. */
static inline void ct_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    atomic_signal_fence(memory_order_seq_cst);
#endif
}

struct ct_backoff {
    unsigned spins;     /* pauses in the next step; 0 before the first */
};

#define CT_BACKOFF_INIT { 0 }

/* Wait a little, longer each call: 1, 2, 4, ... pauses up to the cap,
 * then a sched_yield() per call. */
static inline void ct_backoff_step(struct ct_backoff *b)
{
    if (b->spins >= CT_BACKOFF_MAX_SPINS) {
        sched_yield();
        return;
    }
    b->spins = b->spins ? b->spins * 2 : 1;
    for (unsigned i = 0; i < b->spins; i++)
        ct_cpu_relax();
}

/* True once the backoff has reached the point of yielding: a caller that
 * can block instead of spinning should do so now. */
static inline bool ct_backoff_exhausted(const struct ct_backoff *b)
{
    return b->spins >= CT_BACKOFF_MAX_SPINS;
}

#endif
