/* poisoning.c - demo `poisoning`: what a lock knows when its holder dies.
 *
 * Shows, on a two-account ledger whose invariant is "the accounts add up
 * to 100", a transfer that dies halfway (money taken out, never put in):
 *   1. a thread panics (ct_panic) while holding the project's poison-aware
 *      mutex: the unwinding unlocks it and marks it poisoned; the next
 *      lock says POISONED but still hands out the data, which is repaired
 *      and the poison cleared.  A panic after the lock was released
 *      poisons nothing.
 *   2. the POSIX counterpart across processes: a child process dies (by
 *      SIGKILL) holding a process-shared robust mutex; the parent's lock
 *      returns EOWNERDEAD, the parent repairs the ledger and calls
 *      pthread_mutex_consistent().  A second robust mutex is unlocked
 *      without that call and becomes unusable for good (ENOTRECOVERABLE).
 * Watch for: the ledger adding up to 70 right after each death, the status
 * each lock returns, and the difference between Rust's advisory poison and
 * POSIX's must-repair rule.
 * Lesson: lock-poisoning (chapter 4).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "demo.h"
#include "check.h"
#include "clock.h"
#include "panic.h"
#include "poison.h"
#include "wait.h"

#define TOTAL 100
#define AMOUNT 30
#define CHILD_TIMEOUT_MS 10000.0    /* generous: a sanitizer build starts slowly */

struct ledger {
    int checking, savings;          /* checking + savings == TOTAL when sound */
};

/* What the run found, for the takeaway. */
struct findings {
    int poison_total;               /* ledger total seen through the poison */
    bool poison_reported;           /* the lock said POISONED */
    bool poison_repaired;           /* and was healthy after repair + clear */
    bool robust_ran;
    int robust_total;               /* ledger total the parent found */
    bool owner_dead;                /* the parent got EOWNERDEAD */
    bool dead_for_good;             /* the unrepaired mutex said ENOTRECOVERABLE */
};

static int ledger_total(const struct ledger *l)
{
    return l->checking + l->savings;
}

/* ---- part 1: the poison-aware mutex ----------------------------------- */

struct mover {
    struct ct_run *run;
    struct ct_poison_mutex *m;
    bool panic_inside;              /* panic mid-transfer, or after unlocking */
    struct ct_thread thread;
    int lock_rc;
};

/* The transfer, in a function of its own (see poison.h on setjmp). */
static void transfer(struct mover *mv, struct ledger *l)
{
    CT_POISON_GUARD(mv->m);
    l->checking -= AMOUNT;
    if (mv->panic_inside) {
        ct_say(mv->run, "took %d out of checking; panicking before savings gets it", AMOUNT);
        ct_panic("transfer failed halfway");
    }
    l->savings += AMOUNT;
    ct_say(mv->run, "moved %d from checking to savings; unlocking", AMOUNT);
    CT_POISON_GUARD_END();
}

static void *mover_main(void *arg)
{
    struct mover *mv = arg;
    void *data;
    mv->lock_rc = ct_poison_lock(mv->m, &data, ct_cancel_event(mv->run));
    if (mv->lock_rc < 0)
        return NULL;
    transfer(mv, data);
    if (!mv->panic_inside) {
        ct_say(mv->run, "panicking now, with no lock held");
        ct_panic("failure after the transfer");
    }
    return NULL;
}

/* Run one mover thread to its end; *panicked tells what join returned. */
static int run_mover(struct ct_run *run, struct ct_poison_mutex *m, bool panic_inside,
                     const char *label, bool *panicked)
{
    struct mover mv = { .run = run, .m = m, .panic_inside = panic_inside };
    int rc = ct_thread_start(run, &mv.thread, mover_main, &mv, "%s", label);
    if (rc)
        return rc;
    void *ret = NULL;
    ct_thread_join(&mv.thread, &ret);
    if (mv.lock_rc < 0)
        return mv.lock_rc;
    *panicked = ret == CT_PANICKED;
    ct_say(run, "joined %s: %s", label,
           *panicked ? "it panicked (Rust's join() would return Err)" : "it returned normally");
    return 0;
}

static const char *status_name(int rc)
{
    return rc == CT_POISONED ? "POISONED" : rc == 0 ? "OK" : strerror(-rc);
}

static int part_poison(struct ct_run *run, struct findings *f)
{
    struct ledger ledger = { TOTAL, 0 };
    struct ct_poison_mutex m;
    int rc = ct_poison_init(&m, &ledger);
    if (rc)
        return rc;
    struct ct_event *cancel = ct_cancel_event(run);
    void *p;
    bool panicked = false;

    ct_section(run, "1. a thread panics while holding the poison-aware mutex");
    if ((rc = run_mover(run, &m, true, "mover", &panicked)) != 0)
        goto out;
    bool poisoned = ct_poison_is_poisoned(&m);
    int lock1 = ct_poison_lock(&m, &p, cancel);
    if (lock1 < 0) {
        rc = lock1;
        goto out;
    }
    struct ledger *l = p;
    int broken_total = ledger_total(l);
    ct_say(run, "lock returned %s; the data is still there: checking %d + savings %d = %d",
           status_name(lock1), l->checking, l->savings, broken_total);
    l->savings = TOTAL - l->checking;      /* finish the transfer the panic cut short */
    ct_poison_clear(&m);
    ct_say(run, "repaired: savings set to %d (total %d again), poison cleared, unlocking",
           l->savings, ledger_total(l));
    ct_poison_unlock(&m);
    int lock2 = ct_poison_lock(&m, &p, cancel);
    if (lock2 < 0) {
        rc = lock2;
        goto out;
    }
    ct_poison_unlock(&m);
    ct_say(run, "lock after the repair returned %s", status_name(lock2));

    ct_section(run, "1b. a thread panics after releasing the lock");
    bool panicked_after = false;
    if ((rc = run_mover(run, &m, false, "careful", &panicked_after)) != 0)
        goto out;
    bool poisoned_after = ct_poison_is_poisoned(&m);
    int lock3 = ct_poison_lock(&m, &p, cancel);
    if (lock3 < 0) {
        rc = lock3;
        goto out;
    }
    int final_total = ledger_total(p);
    ct_poison_unlock(&m);
    ct_say(run, "lock returned %s; total %d", status_name(lock3), final_total);

    f->poison_total = broken_total;
    f->poison_reported = lock1 == CT_POISONED;
    f->poison_repaired = lock2 == 0;
    ct_result_text(run, "poison_lock_status", "lock after a panic under the lock",
                   status_name(lock1));
    ct_result_int(run, "poison_broken_total", "ledger total seen through the poison",
                  broken_total, NULL);
    ct_result_text(run, "poison_after_clear", "lock after repair and clear", status_name(lock2));
    ct_result_text(run, "poison_panic_outside", "lock after a panic outside the lock",
                   status_name(lock3));
    ct_check(run, panicked && poisoned && lock1 == CT_POISONED,
             "a panic under the lock poisons it (join saw a panic, lock says %s)",
             status_name(lock1));
    ct_check(run, broken_total == TOTAL - AMOUNT,
             "the poisoned data is reachable and shows the half-done transfer (%d)",
             broken_total);
    ct_check(run, lock2 == 0, "after repair and clear the lock is healthy (%s)",
             status_name(lock2));
    ct_check(run, panicked_after && !poisoned_after && lock3 == 0 && final_total == TOTAL,
             "a panic with no lock held poisons nothing (lock says %s, total %d)",
             status_name(lock3), final_total);
out:
    ct_poison_destroy(&m);
    return rc;
}

/* ---- part 2: a robust mutex across processes --------------------------- */

/* Lives in a shared memory file (memfd) mapped by parent and child. */
struct robust_shared {
    pthread_mutex_t ledger_mu;      /* guards ledger; repaired properly */
    pthread_mutex_t log_mu;         /* guards entries; the "forgot to repair" case */
    struct ledger ledger;
    int entries;
};

static int robust_init(struct robust_shared *sh)
{
    pthread_mutexattr_t a;
    int rc = pthread_mutexattr_init(&a);
    if (rc)
        return -rc;
    if (!(rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED)) &&
        !(rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST)) &&
        !(rc = pthread_mutex_init(&sh->ledger_mu, &a))) {
        rc = pthread_mutex_init(&sh->log_mu, &a);
        if (rc)
            pthread_mutex_destroy(&sh->ledger_mu);
    }
    pthread_mutexattr_destroy(&a);
    sh->ledger = (struct ledger){ TOTAL, 0 };
    sh->entries = 0;
    return -rc;
}

/* The child: `__child poisoning FD`.  Lock both mutexes, start a transfer,
 * and die without unlocking. */
static int poisoning_child(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: __child poisoning FD\n");
        return 2;
    }
    int fd = atoi(argv[0]);
    struct robust_shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (sh == MAP_FAILED) {
        printf("cannot map the shared memory: %s\n", strerror(errno));
        return 1;
    }
    int64_t deadline = ct_deadline_after(5 * CT_NS_PER_S);
    int rc = ct_mutex_lock_bounded(&sh->ledger_mu, deadline, NULL);
    if (rc == 0)
        rc = ct_mutex_lock_bounded(&sh->log_mu, deadline, NULL);
    if (rc != 0) {
        printf("cannot lock: %s\n", strerror(-rc));
        return 1;
    }
    sh->ledger.checking -= AMOUNT;
    sh->entries++;
    printf("pid %d holds both robust mutexes; took %d out of checking\n", (int)getpid(), AMOUNT);
    printf("dying now (SIGKILL), with both mutexes locked\n");
    fflush(stdout);
    raise(SIGKILL);
    return 1;
}

/* Spawn the child and relay its lines until it is gone; returns its exit
 * status (128 + signal) or a negative errno. */
static int run_child(struct ct_run *run, int fd)
{
    char fdarg[16];
    snprintf(fdarg, sizeof fdarg, "%d", fd);
    const char *args[] = { fdarg, NULL };
    struct ct_child c;
    int rc = ct_child_spawn(run, args, &c);
    if (rc)
        return rc;
    char line[256];
    int got;
    while ((got = ct_child_readline(run, &c, line, sizeof line, CHILD_TIMEOUT_MS)) == 1)
        ct_say(run, "child: %s", line);
    int status = ct_child_wait(run, &c, CHILD_TIMEOUT_MS);
    if (got < 0)
        return got;
    return status;
}

static const char *errno_name(int e)
{
    switch (e) {
    case 0: return "0 (locked)";
    case EOWNERDEAD: return "EOWNERDEAD";
    case ENOTRECOVERABLE: return "ENOTRECOVERABLE";
    case ETIMEDOUT: return "ETIMEDOUT";
    default: return strerror(e);
    }
}

static int part_robust(struct ct_run *run, struct findings *f)
{
    ct_section(run, "2. a child process dies holding a process-shared robust mutex");
    /* no MFD_CLOEXEC: the child inherits the descriptor by number */
    int fd = memfd_create("concur-tutor-robust", 0);
    if (fd < 0)
        return -errno;
    int rc = 0;
    struct robust_shared *sh = MAP_FAILED;
    if (ftruncate(fd, sizeof *sh) != 0) {
        rc = -errno;
        goto out_fd;
    }
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (sh == MAP_FAILED) {
        rc = -errno;
        goto out_fd;
    }
    if ((rc = robust_init(sh)) != 0)
        goto out_map;

    int status = run_child(run, fd);
    if (status < 0) {
        rc = status;
        goto out_mutex;
    }
    ct_say(run, "child exited with status %d%s", status,
           status == 128 + SIGKILL ? " (killed by SIGKILL)" : "");

    struct ct_event *cancel = ct_cancel_event(run);
    int64_t deadline = ct_deadline_after(5 * CT_NS_PER_S);
    int e1 = -ct_mutex_lock_bounded(&sh->ledger_mu, deadline, cancel);
    if (e1 != 0 && e1 != EOWNERDEAD) {
        rc = -e1;
        goto out_mutex;
    }
    int broken_total = ledger_total(&sh->ledger);
    ct_say(run, "ledger lock returned %s; checking %d + savings %d = %d", errno_name(e1),
           sh->ledger.checking, sh->ledger.savings, broken_total);
    int consistent_rc = -1;
    if (e1 == EOWNERDEAD) {
        sh->ledger.checking += AMOUNT;      /* roll the half-done transfer back */
        consistent_rc = pthread_mutex_consistent(&sh->ledger_mu);
        ct_say(run, "rolled back (total %d), pthread_mutex_consistent() returned %d",
               ledger_total(&sh->ledger), consistent_rc);
    }
    CT_PT(pthread_mutex_unlock(&sh->ledger_mu));
    int e2 = -ct_mutex_lock_bounded(&sh->ledger_mu, deadline, cancel);
    if (e2 == 0)
        CT_PT(pthread_mutex_unlock(&sh->ledger_mu));
    ct_say(run, "ledger lock again: %s", errno_name(e2));

    int e3 = -ct_mutex_lock_bounded(&sh->log_mu, deadline, cancel);
    ct_say(run, "log lock returned %s; unlocking it WITHOUT pthread_mutex_consistent()",
           errno_name(e3));
    if (e3 == 0 || e3 == EOWNERDEAD)
        CT_PT(pthread_mutex_unlock(&sh->log_mu));
    int e4 = -ct_mutex_lock_bounded(&sh->log_mu, deadline, cancel);
    if (e4 == 0 || e4 == EOWNERDEAD)
        CT_PT(pthread_mutex_unlock(&sh->log_mu));
    ct_say(run, "log lock again: %s: the mutex can never be locked again", errno_name(e4));
    if (ct_cancelled(run))
        goto out_mutex;

    f->robust_ran = true;
    f->robust_total = broken_total;
    f->owner_dead = e1 == EOWNERDEAD;
    f->dead_for_good = e4 == ENOTRECOVERABLE;
    ct_result_int(run, "robust_child_status", "child's exit status", status, NULL);
    ct_result_text(run, "robust_lock", "robust lock after the owner died", errno_name(e1));
    ct_result_int(run, "robust_broken_total", "ledger total the parent found", broken_total,
                  NULL);
    ct_result_text(run, "robust_after_consistent", "lock after pthread_mutex_consistent",
                   errno_name(e2));
    ct_result_text(run, "robust_not_repaired", "lock after unlocking without it",
                   errno_name(e4));
    ct_check(run, status == 128 + SIGKILL, "the child died by SIGKILL (status %d)", status);
    ct_check(run, e1 == EOWNERDEAD && broken_total == TOTAL - AMOUNT,
             "the parent got EOWNERDEAD and saw the half-done transfer (total %d)",
             broken_total);
    ct_check(run, consistent_rc == 0 && e2 == 0 && ledger_total(&sh->ledger) == TOTAL,
             "after repair and pthread_mutex_consistent the mutex works (%s)", errno_name(e2));
    ct_check(run, e3 == EOWNERDEAD && e4 == ENOTRECOVERABLE,
             "unlocking without pthread_mutex_consistent leaves it ENOTRECOVERABLE (%s)",
             errno_name(e4));
out_mutex:
    pthread_mutex_destroy(&sh->log_mu);
    pthread_mutex_destroy(&sh->ledger_mu);
out_map:
    munmap(sh, sizeof *sh);
out_fd:
    close(fd);
    return rc;
}

static int poisoning_run(struct ct_run *run)
{
    struct findings f = { 0 };
    int rc = part_poison(run, &f);
    if (rc || ct_cancelled(run))
        return rc;
    if (ct_param_bool(run, "robust")) {
        rc = part_robust(run, &f);
        if (rc || ct_cancelled(run))
            return rc;
    }

    if (f.poison_reported)
        ct_takeaway(run,
                    "The thread died mid-transfer and left the ledger adding up to %d instead "
                    "of %d; the poisoned lock is how the next owner found out. Like Rust's, "
                    "the poison only warns: the data stayed reachable, was repaired, and the "
                    "lock was %s after clearing the flag.",
                    f.poison_total, TOTAL, f.poison_repaired ? "healthy" : "STILL poisoned");
    else
        ct_takeaway(run,
                    "The lock did not report the panic (the ledger added up to %d): that is "
                    "a bug in the poison-aware mutex, see the failed check.",
                    f.poison_total);
    if (f.robust_ran)
        ct_takeaway(run,
                    "Across processes the robust mutex %s: the killed child had left a total "
                    "of %d. POSIX is strict where Rust is lenient: repair, then call "
                    "pthread_mutex_consistent(), or the mutex becomes unusable for every "
                    "process that shares it (%s).",
                    f.owner_dead ? "reported the death with EOWNERDEAD"
                                 : "did NOT report the death",
                    f.robust_total,
                    f.dead_for_good ? "the unrepaired one here answered ENOTRECOVERABLE"
                                    : "though this run's unrepaired one did not say "
                                      "ENOTRECOVERABLE");
    return 0;
}

static const struct ct_param_spec poisoning_params[] = {
    { "robust", CT_PARAM_BOOL, "yes", 0, 0, NULL,
      "also run part 2: a child process dies holding a robust mutex" },
    CT_PARAMS_END,
};

const struct ct_demo ct_demo_poisoning = {
    .name = "poisoning",
    .chapter = 4,
    .title = "A lock whose holder died",
    .summary = "Poisoned mutex after a panic; EOWNERDEAD from a robust mutex after a crash",
    .intro = "A transfer between two accounts dies halfway, first as a thread that panics "
             "holding the project's poison-aware mutex, then as a child process killed while "
             "holding a POSIX robust mutex. Each time, see what the next locker is told, what "
             "the data looks like, and how it is repaired.",
    .params = poisoning_params,
    .smoke = "robust=yes",
    .run = poisoning_run,
    .child = poisoning_child,
};
