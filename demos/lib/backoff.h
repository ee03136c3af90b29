/* backoff.h - the one backoff: polite spinning before a thread blocks.
 *
 * A thread that waits for another should (1) read the shared word without
 * writing it, so the cache line stays shared; (2) tell the core it is
 * spinning (the x86 `pause` / Arm `yield` hint); (3) wait longer after each
 * failure, so that waiters do not hammer a line the moment it is released;
 * and (4) after a while, stop spinning: yield the CPU (when threads
 * outnumber cores the thread it waits for may need this very core), and
 * finally block.  The shape follows crossbeam's Backoff:
 *
 *     struct ct_backoff b = CT_BACKOFF_INIT;
 *     while (!ready()) {
 *         if (ct_backoff_is_completed(&b)) {
 *             block_until_ready();        // futex, condvar, ...
 *             break;
 *         }
 *         ct_backoff_snooze(&b);
 *     }
 *
 * ct_backoff_spin is for a lost compare-and-swap: the other thread has
 * made progress, so try again soon; it never yields.
 */
#ifndef CT_BACKOFF_H
#define CT_BACKOFF_H

#include <sched.h>
#include <stdbool.h>
#include <stdatomic.h>

#define CT_BACKOFF_SPIN_LIMIT 6     /* spin steps: 1, 2, 4 ... 64 pauses */
#define CT_BACKOFF_YIELD_LIMIT 9    /* then sched_yield() up to this step */

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
    unsigned step;
};

#define CT_BACKOFF_INIT { 0 }

/* After losing a compare-and-swap: 2^step pauses (at most 64). */
static inline void ct_backoff_spin(struct ct_backoff *b)
{
    unsigned s = b->step < CT_BACKOFF_SPIN_LIMIT ? b->step : CT_BACKOFF_SPIN_LIMIT;
    for (unsigned i = 0; i < 1u << s; i++)
        ct_cpu_relax();
    if (b->step <= CT_BACKOFF_SPIN_LIMIT)
        b->step++;
}

/* While waiting for another thread: spin 2^step pauses, and past the spin
 * limit give the CPU away instead. */
static inline void ct_backoff_snooze(struct ct_backoff *b)
{
    if (b->step <= CT_BACKOFF_SPIN_LIMIT) {
        for (unsigned i = 0; i < 1u << b->step; i++)
            ct_cpu_relax();
    } else {
        sched_yield();
    }
    if (b->step <= CT_BACKOFF_YIELD_LIMIT)
        b->step++;
}

/* Spinning and yielding are used up: a caller that can block should. */
static inline bool ct_backoff_is_completed(const struct ct_backoff *b)
{
    return b->step > CT_BACKOFF_YIELD_LIMIT;
}

/* Start over from the yielding steps (e.g. after a wake-up that may have
 * been for somebody else: try, yield a few times, then block again). */
static inline void ct_backoff_yield_again(struct ct_backoff *b)
{
    b->step = CT_BACKOFF_SPIN_LIMIT + 1;
}

#endif
