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
 *           PLACE  SECTION  SECTIONS  PAGE  PAGES  DEMO
 *
 * A walk record is one line of 11 fields (older tutors wrote the first 5).
 * STEP is the walk's own index of the page within the lesson (0-based),
 * for going on; the rest say where it stopped in the words of the walk's
 * status line: PLACE is introduction, section, demo, takeaway or end;
 * SECTION of SECTIONS, 1-based (0 when PLACE is not a section); PAGE of
 * PAGES, the screenful within it, 1-based; DEMO the demo of a demo or
 * takeaway page, `-` otherwise.  At the introduction and the end,
 * LESSON-ID is the chapter's first lesson.
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

/* Where a walk stopped, as its status line said it (see the format
 * above); kind is "" for a record without it. */
struct ct_walk_place {
    char kind[16];
    int section, sections;  /* 1-based; 0 when kind is not "section" */
    int page, pages;        /* the screenful within the page, 1-based */
    char demo[64];          /* "demo" and "takeaway": the demo; else "" */
};

/* Where `walk CHAPTER` stopped: the lesson, step and place, true if
 * known. */
bool ct_progress_walk_get(int chapter, char *lesson, size_t n, int *step,
                          struct ct_walk_place *place);
void ct_progress_walk_set(int chapter, const char *lesson, int step,
                          const struct ct_walk_place *place);

#endif
