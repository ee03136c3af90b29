/* brlock.h - a reader-writer lock whose readers scale: each reader
 * announces itself in a slot of its own, on its own cache line.
 *
 * Why: in an ordinary reader-writer lock (pthread_rwlock_t, rwlock.h)
 * every reader increments and decrements one shared reader count.  The
 * readers do not wait for each other, yet every lock and unlock moves
 * that cache line from core to core, so read throughput falls as cores
 * are added.  Here a reader touches only (a) its own slot, which stays in
 * its core's cache, and (b) the `writer` flag, which it only reads, so the
 * line stays shared by all cores.  This is the idea of the Linux kernel's
 * old "big reader" brlock, of BRAVO (Dice and Kogan, 2019) and of the
 * per-slot reader counts in folly's SharedMutex.
 *
 * How:
 *   reader:  slot += 1; if no writer -> in.  Otherwise slot -= 1, wait for
 *            the writer to leave, and try again.  Unlock: slot -= 1.
 *   writer:  take the writers' mutex (one writer at a time), set `writer`,
 *            then wait until every slot reads 0.  Unlock: clear `writer`.
 * A thread picks its slot once (thread ids handed out in turn, modulo the
 * slot count); the slots are counters, so two threads that share a slot
 * are still counted correctly, they just share a cache line again.
 *
 * The trade-off: reads are cheap and writes are expensive.  A writer scans
 * all CT_BRLOCK_SLOTS slots (a cache miss for each slot in use elsewhere)
 * and, while it is in or waiting, new readers back off.  The lock also
 * costs CT_BRLOCK_SLOTS cache lines of memory.  Use it for data that is
 * read constantly and written rarely (configuration, routing tables).
 *
 * Policy: writer-preferring.  Once a writer has raised its flag, new
 * readers back off until it is done, so readers cannot starve it (writers
 * queued behind it on the writers' mutex do not hold readers back yet).
 * Not recursive: a thread that holds the read lock and asks for it again
 * deadlocks if a writer raised its flag in between.  Unlock on the thread
 * that locked (the slot is the thread's).
 *
 * The API matches rwlock.h: blocking (until `cancel`), timed and try forms;
 * 0 when held, -ETIMEDOUT or -ECANCELED when not.
 */
#ifndef CT_BRLOCK_H
#define CT_BRLOCK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "event.h"

#define CT_BRLOCK_SLOTS 64
/* Slot spacing: two cache lines, because some CPUs fetch lines in
 * adjacent pairs and would make neighbouring slots interfere. */
#define CT_BRLOCK_SLOT_BYTES 128

struct ct_brlock_slot {
    _Alignas(CT_BRLOCK_SLOT_BYTES) atomic_int readers;
};

struct ct_brlock {
    /* read by every reader on every lock and unlock; written only by
     * writers, so the line stays shared in all caches between writes */
    _Alignas(CT_BRLOCK_SLOT_BYTES) atomic_int writer;   /* 1: a writer is in or draining */
    atomic_int writer_asleep;           /* the draining writer sleeps: wake it */
    struct ct_brlock_slot *slots;       /* CT_BRLOCK_SLOTS, own allocation */
    /* the writers' side and the slow paths, on lines of their own */
    _Alignas(CT_BRLOCK_SLOT_BYTES) pthread_mutex_t writers;    /* one writer at a time */
    atomic_int sleepers;                /* readers asleep on writer_gone */
    pthread_mutex_t mu;                 /* guards the sleeps */
    pthread_cond_t writer_gone;         /* readers sleep here */
    pthread_cond_t slot_drained;        /* the writer sleeps here */
};

/* 0 or a negative errno (-ENOMEM). */
int ct_brlock_init(struct ct_brlock *l);
/* The lock must be free. */
void ct_brlock_destroy(struct ct_brlock *l);

int ct_brlock_read_lock(struct ct_brlock *l, struct ct_event *cancel);
int ct_brlock_read_lock_timeout(struct ct_brlock *l, int64_t timeout_ns,
                              struct ct_event *cancel);
bool ct_brlock_try_read_lock(struct ct_brlock *l);
void ct_brlock_read_unlock(struct ct_brlock *l);

int ct_brlock_write_lock(struct ct_brlock *l, struct ct_event *cancel);
int ct_brlock_write_lock_timeout(struct ct_brlock *l, int64_t timeout_ns,
                               struct ct_event *cancel);
bool ct_brlock_try_write_lock(struct ct_brlock *l);
void ct_brlock_write_unlock(struct ct_brlock *l);

#endif
