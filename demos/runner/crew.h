/* crew.h - start N workers together, join them all, and time them.
 *
 * Races and benchmarks want their threads to begin at the same instant
 * and want the time from the first start to the last finish, measured by
 * the workers themselves: on two cores the thread that started them may not
 * run again until a worker is done.  A worker's struct begins with a
 * struct ct_member:
 *
 *     struct worker { struct ct_member m; ...; };
 *     static void *work(void *arg) {
 *         struct worker *w = arg;
 *         if (!ct_member_begin(&w->m))
 *             return NULL;            // cancelled before the start
 *         ... the measured work ...
 *         ct_member_end(&w->m);
 *         return NULL;
 *     }
 *     rc = ct_crew_run(run, w, sizeof w[0], n, work, "racy", &ms);
 */
#ifndef CT_CREW_H
#define CT_CREW_H

#include <stddef.h>
#include <stdint.h>

#include "demo.h"
#include "gate.h"

struct ct_member {
    struct ct_thread thread;
    struct ct_run *run;
    struct ct_gate *gate;
    int id;                     /* 1-based */
    int64_t start_ns, end_ns;   /* 0 if it never started */
};

/* Wait at the gate until the whole crew is running, then note the start
 * time.  False if the run was cancelled first. */
bool ct_member_begin(struct ct_member *m);
/* Note the end time. */
void ct_member_end(struct ct_member *m);

/* Start `n` workers on `fn`, labelled "<prefix>-<id>": their structs lie
 * `stride` bytes apart from `first`, each beginning with a struct
 * ct_member (filled in here).  All start together; all are joined.  *ms
 * receives the span from the earliest start to the latest end (0 if none
 * started).  Returns 0 or a negative errno; on error the workers that did
 * start have been joined. */
int ct_crew_run(struct ct_run *run, void *first, size_t stride, int n,
                void *(*fn)(void *), const char *prefix, double *ms);

#endif
