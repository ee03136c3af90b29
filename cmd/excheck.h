/* excheck.h - checking a student's file: compile it with the exercise's
 * harness, run it under a hard time limit, plain and under sanitizers,
 * and say in plain words what failed.
 *
 * Everything happens in a private temporary directory, removed before
 * returning.  The compiler is the system's `cc` (or $CONCUR_TUTOR_CC):
 *     cc -std=c17 -Wall -Wextra -pthread -O1 -g harness.c
 * once plain and once with -fsanitize=thread (or address,undefined, as the
 * exercise's `sanitize:` says), the builds in parallel.  A warning fails
 * the check as an error does.  Each program runs in its own process group
 * with stdin from /dev/null, no fds but stdio, bounded output, and is
 * killed (with its group) after a hard limit.  If ThreadSanitizer cannot
 * run on this machine (or CONCUR_TUTOR_NO_TSAN is set), the check falls
 * back to ASan+UBSan and says so.  When the plain run fails its checks in
 * an exercise marked `race-report: yes`, the TSan build runs as well and
 * its report is shown under the plain run's verdict.
 */
#ifndef CT_EXCHECK_H
#define CT_EXCHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "exercises.h"

struct ct_check_result {
    bool passed;
    const char *stage;      /* "compile", "plain", "thread", "address", "setup" */
    char reason[1024];      /* what failed (or, on a pass, what was checked) */
    char details[4096];     /* the compiler's or sanitizer's first relevant lines */
    char sanitizers[64];    /* the sanitizer builds that ran, in words */
    char note[256];         /* e.g. why ThreadSanitizer was replaced */
    double ms;              /* the whole check, wall time */
};

/* Check the file at `path` against `ex`.  `sigfd` (or -1) is a signalfd
 * that, when readable, stops the check (its processes are killed).
 * Returns 0 with the outcome in *r, -EINTR when stopped by a signal (the
 * signal is left unread in sigfd), or another negative errno when the
 * check itself could not run (r->reason says why). */
int ct_check_file(const struct ct_exercise *ex, const char *path, int sigfd,
                  struct ct_check_result *r);

#endif
