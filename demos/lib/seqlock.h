/* seqlock.h - a sequence lock: readers that write nothing.
 *
 * Why: even brlock's readers write, to a slot of their own, and a writer
 * must then take that slot's cache line to see whether the reader is in;
 * while it writes, the readers wait.  Here a reader writes no shared memory
 * at all.  It notes a sequence number, reads the data, and looks at the
 * number again: if a writer came in meanwhile, what it read may be torn,
 * and it reads again.  Writers never wait for readers, and readers wait
 * only while a writer is inside.  This is the Linux kernel's seqlock_t
 * (which guards, for one, the time of day), and the optimistic read of
 * Java's StampedLock.
 *
 * How:
 *   writer:  make `seq` odd with a compare-and-swap (odd also means "a
 *            writer is in", so the number is the writers' lock too),
 *            write, make it even again (seq + 2 since the start).
 *   reader:  s = seq, waiting while it is odd; read; then if seq != s,
 *            read again.
 *
 *     uint32_t s;
 *     do {
 *         s = ct_seqlock_read_begin(&l);
 *         x = atomic_load_explicit(&d->x, memory_order_relaxed);
 *         y = atomic_load_explicit(&d->y, memory_order_relaxed);
 *     } while (ct_seqlock_read_retry(&l, s));
 *
 * The price, and the rules that come with it:
 *   - A reader may see a write half done.  It must only read, only use
 *     what it read after ct_seqlock_read_retry says false, and never
 *     follow a pointer it read before then (the writer may have freed
 *     what it pointed to).
 *   - Readers and the writer touch the data at the same time, so in C
 *     every shared field must be an atomic, read and written with
 *     memory_order_relaxed: with plain fields that is a data race,
 *     undefined behaviour, however the retry rule is followed.
 *   - Under frequent writes readers may read again and again.
 * So it suits small data that is read constantly and written rarely: a
 * clock, a configuration record, a pair of counters.
 *
 * Memory ordering (Boehm, "Can seqlocks get along with programming language
 * memory models?", 2012): the writer's compare-and-swap is followed by a
 * release fence, so a reader that sees any of the new data also sees the
 * odd number on its second look; the writer's unlock is a release store,
 * so a reader that sees the new even number sees all of the data.  The
 * reader's second look comes after an acquire fence, so its data loads
 * cannot move below it.
 *
 * Waiting: a writer that finds the number odd spins briefly and then
 * sleeps; so does a reader that finds it odd (a writer inside).  Both
 * sleep on one park (park.h), which the writer's unlock notifies with a
 * single load when nobody sleeps.
 *
 * Retrying: a reader that keeps having to read again (FREQUENT_STREAK
 * times in a row, each within FREQUENT_WITHIN reads of the last, in
 * seqlock.c) backs off before it does, exponentially, from 256 to 4096
 * pauses: with writes that frequent, a reader that comes straight back
 * takes the sequence number's and the data's cache lines from the writer's
 * core on every read, while one that waits lets that thread run a stretch
 * alone with both in its own cache.  The same bargain as brlock's readers
 * turned away by writers.
 */
#ifndef CT_SEQLOCK_H
#define CT_SEQLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "park.h"

struct ct_seqlock {
    /* read by every reader twice per read, written only by writers */
    _Alignas(64) _Atomic uint32_t seq;
    struct ct_park park;        /* readers and writers waiting for an even seq */
};

void ct_seqlock_init(struct ct_seqlock *l);

/* The reader's side is inline: a read is then a few loads in the caller's
 * own code, and calls would cost more than the read. */

/* Out of line: wait for the writer inside to leave; the even number. */
uint32_t ct_seqlock_read_wait(struct ct_seqlock *l);

/* This thread's reads of any seqlock since its last retry, and how many
 * retries in a row came that soon: a hint for how to retry (seqlock.c). */
struct ct_seqlock_thread {
    unsigned reads_since_retry, soon_streak;
};
extern _Thread_local struct ct_seqlock_thread ct_seqlock_self;
/* Out of line: a read must start over; back off first if that keeps
 * happening. */
void ct_seqlock_retrying(void);

/* Begin a read: the current even sequence number, after waiting for a
 * writer inside (if any) to leave.  Holds nothing: there is no unlock. */
static inline uint32_t ct_seqlock_read_begin(struct ct_seqlock *l)
{
    /* acquire: the data loads that follow cannot move above this one, and
     * a number a writer left even brings its writes with it */
    uint32_t s = atomic_load_explicit(&l->seq, memory_order_acquire);
    if (__builtin_expect(!(s & 1), 1))
        return s;
    return ct_seqlock_read_wait(l);
}

/* After reading: true if a writer came in since `begin`, so that what was
 * read may be torn and must be read again. */
static inline bool ct_seqlock_read_retry(struct ct_seqlock *l, uint32_t begin)
{
#ifdef __SANITIZE_THREAD__
    /* ThreadSanitizer does not model fences (GCC refuses one inlined here
     * under -Werror): the equivalent from Boehm's paper, a
     * read-don't-modify-write whose release half keeps the data loads
     * above it.  A locked instruction per read, so only in that build. */
    uint32_t now = atomic_fetch_add_explicit(&l->seq, 0, memory_order_release);
#else
    /* the data loads before this fence cannot move below the load of seq */
    atomic_thread_fence(memory_order_acquire);
    uint32_t now = atomic_load_explicit(&l->seq, memory_order_relaxed);
#endif
    if (__builtin_expect(now == begin, 1)) {
        ct_seqlock_self.reads_since_retry++;
        return false;
    }
    ct_seqlock_retrying();
    return true;
}

/* Writers, one at a time: 0, or -ETIMEDOUT / -ECANCELED (timeout in ns,
 * negative: none; 0: try once; cancel may be NULL). */
int ct_seqlock_write_lock_timeout(struct ct_seqlock *l, int64_t timeout_ns,
                                  struct ct_event *cancel);
void ct_seqlock_write_unlock(struct ct_seqlock *l);

#endif
