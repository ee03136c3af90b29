/* locks.h - every lock of chapter 4 behind one face.
 *
 * The benchmark (rwlock-bench), the rwlock demo and the validation tests
 * treat all lock kinds alike: POSIX mutex, POSIX reader-writer lock (glibc
 * default and writer-preferring), the spinlock, the teaching rwlock, the
 * scalable brlock, hslock and the seqlock.  Each kind is a row of
 * ct_lock_kinds[] with the same six operations; for the exclusive kinds
 * (mutex, spin) a read lock is simply the lock.  The seqlock is the odd one out: its
 * readers take nothing, they read and then check (read_begin and
 * read_retry instead of read_lock and read_unlock).
 *
 * Lock operations take a timeout (negative: none) and a cancel event (may
 * be NULL) and return 0, -ETIMEDOUT or -ECANCELED.  With no timeout and no
 * event the POSIX kinds call the plain blocking function, so a benchmark
 * measures exactly pthread_rwlock_rdlock and friends; otherwise they wait
 * in short timed slices (wait.h).
 *
 * A caveat of those slices: a POSIX waiter whose timed wait runs out leaves
 * the lock's queue and joins it again, so for one moment every slice
 * (CT_WAIT_SLICE_NS) a writer waiting on the writer-preferring rwlock is
 * not waiting, and a reader may slip in ahead of it.  A demo that shows a
 * lock's policy must use the plain blocking calls.
 */
#ifndef CT_LOCKS_H
#define CT_LOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

struct ct_lock_kind {
    const char *name;       /* as typed: "brlock" */
    const char *how;        /* one line: what it is */
    bool shared_reads;      /* readers may hold it at the same time */
    size_t size;
    int (*init)(void *l);
    void (*destroy)(void *l);
    /* NULL for an optimistic kind, whose readers hold nothing */
    int (*read_lock)(void *l, int64_t timeout_ns, struct ct_event *cancel);
    void (*read_unlock)(void *l);
    int (*write_lock)(void *l, int64_t timeout_ns, struct ct_event *cancel);
    void (*write_unlock)(void *l);
    /* Optimistic kinds only (seqlock): a read is read_begin, the reads (of
     * atomics, relaxed), then read_retry; true means a writer came in and
     * the reads must be done again. */
    uint32_t (*read_begin)(void *l);
    bool (*read_retry)(void *l, uint32_t begin);
};

/* Every kind, in the order of CT_LOCK_KIND_NAMES (lock-table.h). */
extern const struct ct_lock_kind *const ct_lock_kinds;
extern const size_t ct_lock_kind_count;

/* The comma-separated names of every kind, in table order (for a SET or
 * CHOICE parameter's choices). */
#define CT_LOCK_KIND_NAMES "mutex,rwlock,rwlock-wp,spin,teach-rw,brlock,hslock,seqlock"

/* The kind called `name`, or NULL. */
const struct ct_lock_kind *ct_lock_kind_find(const char *name);

/* Allocate (cache-line aligned) and initialise a lock of kind `k` into
 * *out.  0 or a negative errno. */
int ct_lock_new(const struct ct_lock_kind *k, void **out);
/* Destroy and free a lock made by ct_lock_new (NULL is ignored). */
void ct_lock_free(const struct ct_lock_kind *k, void *l);

#endif
