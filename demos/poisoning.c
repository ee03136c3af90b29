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

/* What part 1 measured. */
struct poison_result {
    bool panicked;                  /* join saw the mover panic */
    bool flagged;                   /* ct_poison_is_poisoned() after the panic */
    int lock1;                      /* status of the next lock: CT_POISONED or 0 */
    int broken_total;               /* ledger total seen through the poison */
    int repaired_total;             /* after finishing the transfer by hand */
    int lock2;                      /* lock after repair and clear */
    /* 1b: a panic after the unlock */
    bool panicked_after, flagged_after;
    int lock3, final_total;
};

/* What part 2 measured. */
struct robust_result {
    bool ran;
    bool announced;                 /* the child said it was raising SIGKILL */
    int child_status;               /* from ct_child_wait: exit code or 128 + signal */
    int e1;                         /* ledger lock after the death (an errno, 0 = locked) */
    int broken_total, repaired_total;
    int consistent_rc;              /* pthread_mutex_consistent(), -1 if not called */
    int e2;                         /* ledger lock after the repair */
    int e3, e4;                     /* log lock after the death, and after the bad unlock */
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
        ct_say(mv->run, "took %d from checking; panics before savings gets it", AMOUNT);
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
           *panicked ? "it panicked (Rust's join() gives Err)" : "it returned normally");
    return 0;
}

static const char *status_name(int rc)
{
    return rc == CT_POISONED ? "POISONED" : rc == 0 ? "OK" : strerror(-rc);
}

/* 1: a panic mid-transfer; look through the poison, repair, clear. */
static int poison_inside(struct ct_run *run, struct ct_poison_mutex *m, struct poison_result *r)
{
    struct ct_event *cancel = ct_cancel_event(run);
    void *p;
    ct_section(run, "1. a thread panics while holding the poison-aware mutex");
    int rc = run_mover(run, m, true, "mover", &r->panicked);
    if (rc)
        return rc;
    r->flagged = ct_poison_is_poisoned(m);
    if ((r->lock1 = ct_poison_lock(m, &p, cancel)) < 0)
        return r->lock1;
    struct ledger *l = p;
    r->broken_total = ledger_total(l);
    ct_say(run, "lock: %s; the data: checking %d, savings %d",
           status_name(r->lock1), l->checking, l->savings);
    l->savings = TOTAL - l->checking;      /* finish the transfer the panic cut short */
    r->repaired_total = ledger_total(l);
    ct_poison_clear(m);
    ct_say(run, "repaired: savings = %d (total %d); poison cleared",
           l->savings, r->repaired_total);
    ct_poison_unlock(m);
    if ((r->lock2 = ct_poison_lock(m, &p, cancel)) < 0)
        return r->lock2;
    ct_poison_unlock(m);
    ct_say(run, "lock after the repair returned %s", status_name(r->lock2));
    return 0;
}

/* 1b: a panic after the unlock poisons nothing. */
static int poison_after(struct ct_run *run, struct ct_poison_mutex *m, struct poison_result *r)
{
    void *p;
    ct_section(run, "1b. a thread panics after releasing the lock");
    int rc = run_mover(run, m, false, "careful", &r->panicked_after);
    if (rc)
        return rc;
    r->flagged_after = ct_poison_is_poisoned(m);
    if ((r->lock3 = ct_poison_lock(m, &p, ct_cancel_event(run))) < 0)
        return r->lock3;
    r->final_total = ledger_total(p);
    ct_poison_unlock(m);
    ct_say(run, "lock returned %s; total %d", status_name(r->lock3), r->final_total);
    return 0;
}

static int part_poison(struct ct_run *run, struct poison_result *r)
{
    struct ledger ledger = { TOTAL, 0 };
    struct ct_poison_mutex m;
    int rc = ct_poison_init(&m, &ledger);
    if (rc)
        return rc;
    rc = poison_inside(run, &m, r);
    if (rc == 0)
        rc = poison_after(run, &m, r);
    ct_poison_destroy(&m);
    return rc;
}

static void report_poison(struct ct_run *run, const struct poison_result *r)
{
    ct_result_text(run, "poison_lock_status", "lock after a panic under the lock",
                   status_name(r->lock1));
    ct_result_int(run, "poison_broken_total", "ledger total seen through the poison",
                  r->broken_total, NULL);
    ct_result_text(run, "poison_after_clear", "lock after repair and clear",
                   status_name(r->lock2));
    ct_result_text(run, "poison_panic_outside", "lock after a panic outside the lock",
                   status_name(r->lock3));
    ct_check(run, r->panicked && r->flagged && r->lock1 == CT_POISONED,
             "a panic under the lock poisons it (join saw a panic, lock says %s)",
             status_name(r->lock1));
    ct_check(run, r->broken_total == TOTAL - AMOUNT,
             "the poisoned data is reachable and shows the half-done transfer (%d)",
             r->broken_total);
    ct_check(run, r->repaired_total == TOTAL && r->lock2 == 0,
             "after repair (total %d) and clear the lock is healthy (%s)", r->repaired_total,
             status_name(r->lock2));
    ct_check(run, r->panicked_after && !r->flagged_after && r->lock3 == 0 &&
                      r->final_total == TOTAL,
             "a panic with no lock held poisons nothing (lock says %s, total %d)",
             status_name(r->lock3), r->final_total);

    if (r->lock1 == CT_POISONED)
        ct_takeaway(run,
                    "The thread died mid-transfer and left the ledger adding up to %d instead "
                    "of %d; the poisoned lock is how the next owner found out. Like Rust's, "
                    "this poison only warned: the data stayed reachable, was repaired, and "
                    "the next lock after clearing the flag said %s.",
                    r->broken_total, TOTAL, status_name(r->lock2));
    else
        ct_takeaway(run,
                    "The lock did not report the panic (it said %s, and the ledger added up "
                    "to %d): that is a bug in the poison-aware mutex, see the failed check.",
                    status_name(r->lock1), r->broken_total);
}

/* ---- part 2: a robust mutex across processes --------------------------- */

/* Lives in a shared memory file (memfd) mapped by parent and child. */
struct robust_shared {
    pthread_mutex_t ledger_mu;      /* guards ledger; repaired properly */
    pthread_mutex_t log_mu;         /* guards entries; the "forgot to repair" case */
    struct ledger ledger;
    int entries;
};

#define DYING_LINE "raising SIGKILL"   /* the child's last words, checked by the parent */

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
    printf("pid %d holds both; took %d from checking\n", (int)getpid(), AMOUNT);
    printf(DYING_LINE ", with both mutexes locked\n");
    fflush(stdout);
    raise(SIGKILL);
    return 1;
}

/* Spawn the child and relay its lines until it is gone; fills in how it
 * ended.  0 or a negative errno. */
static int run_child(struct ct_run *run, int fd, struct robust_result *r)
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
    while ((got = ct_child_readline(run, &c, line, sizeof line, CHILD_TIMEOUT_MS)) == 1) {
        ct_say(run, "child: %s", line);
        r->announced |= strncmp(line, DYING_LINE, strlen(DYING_LINE)) == 0;
    }
    int status = ct_child_wait(run, &c, CHILD_TIMEOUT_MS);
    if (got < 0)
        return got;
    if (status < 0)
        return status;
    r->child_status = status;
    return 0;
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGKILL: return "SIGKILL";
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGTERM: return "SIGTERM";
    case SIGBUS: return "SIGBUS";
    default: return "another signal";
    }
}

/* How the child ended, in words: "killed by signal 9 (SIGKILL)" or
 * "exited with status 1".  ct_child_wait reports a signal as 128 + its
 * number; this child never exits with a status that high itself. */
static void child_end(int status, char *buf, size_t n)
{
    if (status > 128)
        snprintf(buf, n, "killed by signal %d (%s)", status - 128, signal_name(status - 128));
    else
        snprintf(buf, n, "exited with status %d", status);
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

/* Lock `mu` within `deadline`; returns the error number (0 = locked,
 * EOWNERDEAD = locked too). */
static int robust_lock(struct ct_run *run, pthread_mutex_t *mu, int64_t deadline)
{
    return -ct_mutex_lock_bounded(mu, deadline, ct_cancel_event(run));
}

/* After the child's death: repair the ledger properly, then unlock the log
 * mutex without repairing it, and see what each lock says next. */
static int robust_observe(struct ct_run *run, struct robust_shared *sh, struct robust_result *r)
{
    int64_t deadline = ct_deadline_after(5 * CT_NS_PER_S);
    r->e1 = robust_lock(run, &sh->ledger_mu, deadline);
    if (r->e1 != 0 && r->e1 != EOWNERDEAD)
        return -r->e1;
    r->broken_total = ledger_total(&sh->ledger);
    ct_say(run, "ledger lock: %s; checking %d + savings %d = %d", errno_name(r->e1),
           sh->ledger.checking, sh->ledger.savings, r->broken_total);
    r->consistent_rc = -1;
    if (r->e1 == EOWNERDEAD) {
        sh->ledger.checking += AMOUNT;      /* roll the half-done transfer back */
        r->consistent_rc = pthread_mutex_consistent(&sh->ledger_mu);
        ct_say(run, "rolled back (total %d); pthread_mutex_consistent: %d",
               ledger_total(&sh->ledger), r->consistent_rc);
    }
    r->repaired_total = ledger_total(&sh->ledger);
    CT_PT(pthread_mutex_unlock(&sh->ledger_mu));
    r->e2 = robust_lock(run, &sh->ledger_mu, deadline);
    if (r->e2 == 0)
        CT_PT(pthread_mutex_unlock(&sh->ledger_mu));
    ct_say(run, "ledger lock again: %s", errno_name(r->e2));

    r->e3 = robust_lock(run, &sh->log_mu, deadline);
    ct_say(run, "log lock: %s; unlocking, no consistent() call",
           errno_name(r->e3));
    if (r->e3 == 0 || r->e3 == EOWNERDEAD)
        CT_PT(pthread_mutex_unlock(&sh->log_mu));
    r->e4 = robust_lock(run, &sh->log_mu, deadline);
    if (r->e4 == 0 || r->e4 == EOWNERDEAD)
        CT_PT(pthread_mutex_unlock(&sh->log_mu));
    ct_say(run, "log lock again: %s", errno_name(r->e4));
    if (ct_cancelled(run))
        return 0;
    r->ran = true;
    return 0;
}

static int part_robust(struct ct_run *run, struct robust_result *r)
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
    if ((rc = run_child(run, fd, r)) == 0) {
        char end[64];
        child_end(r->child_status, end, sizeof end);
        ct_say(run, "the child is gone: %s", end);
        rc = robust_observe(run, sh, r);
    }
    pthread_mutex_destroy(&sh->log_mu);
    pthread_mutex_destroy(&sh->ledger_mu);
out_map:
    munmap(sh, sizeof *sh);
out_fd:
    close(fd);
    return rc;
}

static void report_robust(struct ct_run *run, const struct robust_result *r)
{
    char end[64];
    child_end(r->child_status, end, sizeof end);
    ct_result_text(run, "robust_child_end", "how the child ended", end);
    ct_result_text(run, "robust_lock", "robust lock after the owner died", errno_name(r->e1));
    ct_result_int(run, "robust_broken_total", "ledger total the parent found", r->broken_total,
                  NULL);
    ct_result_text(run, "robust_after_consistent", "lock after pthread_mutex_consistent",
                   errno_name(r->e2));
    ct_result_text(run, "robust_not_repaired", "lock after unlocking without it",
                   errno_name(r->e4));
    ct_check(run, r->announced && r->child_status == 128 + SIGKILL,
             "the child raised SIGKILL on itself and was %s", end);
    ct_check(run, r->e1 == EOWNERDEAD && r->broken_total == TOTAL - AMOUNT,
             "the parent got %s and saw the half-done transfer (total %d)", errno_name(r->e1),
             r->broken_total);
    ct_check(run, r->consistent_rc == 0 && r->e2 == 0 && r->repaired_total == TOTAL,
             "after repair (total %d) and pthread_mutex_consistent: %s",
             r->repaired_total, errno_name(r->e2));
    ct_check(run, r->e3 == EOWNERDEAD && r->e4 == ENOTRECOVERABLE,
             "no pthread_mutex_consistent before unlock: next lock %s",
             errno_name(r->e4));

    if (r->e1 != EOWNERDEAD) {
        ct_takeaway(run,
                    "The robust mutex did not report the death (its lock said %s): see the "
                    "failed checks.",
                    errno_name(r->e1));
        return;
    }
    ct_takeaway(run,
                "Across processes the robust mutex reported the death with EOWNERDEAD, and "
                "the killed child had left a total of %d. POSIX is strict where Rust is "
                "lenient: the mutex repaired with pthread_mutex_consistent() locked again "
                "with %s, while the one unlocked without it answered %s%s.",
                r->broken_total, errno_name(r->e2), errno_name(r->e4),
                r->e4 == ENOTRECOVERABLE ? ": no process can ever lock it again" : "");
}

static int poisoning_run(struct ct_run *run)
{
    struct poison_result pr = { 0 };
    int rc = part_poison(run, &pr);
    if (rc || ct_cancelled(run))
        return rc;
    report_poison(run, &pr);
    if (!ct_param_bool(run, "robust"))
        return 0;
    struct robust_result rr = { 0 };
    rc = part_robust(run, &rr);
    if (rc || ct_cancelled(run) || !rr.ran)
        return rc;
    report_robust(run, &rr);
    return 0;
}

static const struct ct_param_spec poisoning_params[] = {
    { "robust", CT_PARAM_BOOL, "true", 0, 0, NULL,
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
    .smoke = "robust=true",
    .run = poisoning_run,
    .child = poisoning_child,
};
