/* exercises.h - the exercises: registry, the student's workspace, and the
 * progress file.
 *
 * An exercise is a directory lessons/exercises/NAME/ embedded into the
 * binary (lessons/meson.build lists them, in chapter order):
 *
 *     task.md     a header, then the task (Markdown, rendered like lessons):
 *                     ::: exercise fix-race
 *                     chapter: 1
 *                     title: Fix the lost update
 *                     lesson: intro          (optional: a lesson id)
 *                     sanitize: thread       (thread, address, or both)
 *                     race-report: yes       (optional: the bug is one
 *                         ThreadSanitizer names; when the plain run fails,
 *                         check runs the TSan build too and shows its report)
 *                     :::
 *     starter.c   the broken program the student gets
 *     solution.c  a reference solution
 *     harness.c   the hidden main(): includes exercise.h and the student's
 *                 file (#include EX_STUDENT), calls its functions many
 *                 times, checks exact invariants, prints one verdict line
 *     hints.md    up to three hints, separated by lines holding only "---"
 */
#ifndef CT_EXERCISES_H
#define CT_EXERCISES_H

#include <stdbool.h>
#include <stddef.h>

#define CT_EXERCISE_MAX 64
#define CT_EXERCISE_MAX_HINTS 3

enum {
    CT_SAN_THREAD = 1u << 0,    /* -fsanitize=thread */
    CT_SAN_ADDRESS = 1u << 1,   /* -fsanitize=address,undefined */
};

struct ct_text {
    const char *s;
    size_t len;
};

struct ct_exercise {
    char name[48];
    int chapter;
    char title[96];
    char lesson[48];            /* "" when none */
    unsigned sanitize;          /* CT_SAN_* */
    bool race_report;           /* on a failed plain run, show TSan's report */
    struct ct_text task;        /* the text after the header */
    struct ct_text starter, solution, harness;
    struct ct_text hints[CT_EXERCISE_MAX_HINTS];
    int nhints;
};

/* The exercises in chapter order; NULL (message in err) if the embedded
 * files are malformed, which is a bug the tests catch. */
const struct ct_exercise *ct_exercises(size_t *count, char *err, size_t errlen);
const struct ct_exercise *ct_exercise_find(const char *name);
/* The exercise after `ex` in the list, or NULL. */
const struct ct_exercise *ct_exercise_next(const struct ct_exercise *ex);
/* The header every harness includes. */
struct ct_text ct_exercise_header(void);

/* ${CONCUR_TUTOR_WORKSPACE:-~/concur-tutor-exercises} into buf; false if
 * there is no home directory to put it in. */
bool ct_workspace_dir(char *buf, size_t n);
/* The student's file for `ex`: WORKSPACE/NAME.c. */
bool ct_workspace_file(const struct ct_exercise *ex, char *buf, size_t n);

/* ---- progress ----------------------------------------------------------
 *
 * ${XDG_STATE_HOME:-~/.local/state}/concur-tutor/exercises, a text file
 * that other commands may read:
 *
 *     # concur-tutor exercises v1
 *     fix-race done 2
 *     join-threads started 0
 *
 * One line per exercise touched: its name, "started" (the starter was
 * handed out) or "done" (a check passed once; it stays done), and how many
 * hints were shown.  Lines starting with '#' and unknown names are
 * ignored.  Every change re-reads the file, changes one line and writes a
 * temporary file that is renamed over it, so two tutors never leave it
 * half-written.  A corrupt or unwritable file gives one warning and is
 * otherwise ignored: progress is a convenience, never a reason to stop.
 */
enum ct_exercise_status { CT_EXERCISE_NEW, CT_EXERCISE_STARTED, CT_EXERCISE_DONE };

struct ct_progress_entry {
    enum ct_exercise_status status;
    int hints;
};

/* Progress for every exercise, indexed like ct_exercises(). */
void ct_progress_load(struct ct_progress_entry *out, size_t count);
/* Raise `ex`'s status to at least `status` and its hints to at least
 * `hints`; 0 or a negative errno (already warned about). */
int ct_progress_update(const struct ct_exercise *ex, enum ct_exercise_status status, int hints);
const char *ct_exercise_status_name(enum ct_exercise_status s);

#endif
