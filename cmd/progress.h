/* progress.h - what a student (or a class) has read and run, kept across
 * sessions in ${XDG_STATE_HOME:-~/.local/state}/concur-tutor/progress.
 *
 * The file is text, one record a line, fields separated by one tab, after
 * a first line naming the format:
 *
 *     concur-tutor progress 1
 *     read  LESSON-ID  EPOCH                     a lesson was shown or walked
 *     ran   DEMO-ID    RUNS  STATUS  EPOCH       a demo ran RUNS times in all;
 *                                                 STATUS is the last run's
 *     walk  CHAPTER    LESSON-ID  STEP  EPOCH    where `walk CHAPTER` stopped
 *
 * EPOCH is seconds since 1970.  Lines that do not parse are skipped with
 * one warning and dropped at the next write.  Every change is a
 * read-modify-write under an flock on `progress.lock`, written to a
 * temporary file and renamed over the old one, so that two tutors at once
 * lose nothing and a reader never sees half a file.  Nothing here ever
 * stops the tutor: a file that cannot be read or written (a read-only
 * disk, no home) gives one warning per process and is otherwise ignored.
 * (The exercises keep a file of their own in the same directory.)
 */
#ifndef CT_PROGRESS_H
#define CT_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

void ct_progress_lesson_read(const char *lesson);
void ct_progress_demo_ran(const char *demo, const char *status, int runs);

/* Where `walk CHAPTER` stopped: the lesson and step, true if known. */
bool ct_progress_walk_get(int chapter, char *lesson, size_t n, int *step);
void ct_progress_walk_set(int chapter, const char *lesson, int step);

#endif
