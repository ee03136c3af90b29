/* lessons.h - the lesson library: chapters and lessons parsed from files.
 *
 * A lesson file (lessons/NN-name.md) holds one chapter header followed by
 * lessons.  Headers are fenced by `:::` lines; bodies are Markdown-ish text
 * rendered by render.h:
 *
 *     ::: chapter 4
 *     title: Mutex and RwLock
 *     summary: Locks, lock poisoning and reader-writer locks
 *     :::
 *
 *     Text introducing the chapter (optional).
 *
 *     ::: lesson mutex
 *     title: Mutual exclusion
 *     summary: One thread at a time, and what waiting costs
 *     demos: mutex
 *     :::
 *
 *     The lesson's text ...
 *
 * Ids are kebab-case.  Loading checks everything (unknown keys, missing
 * titles, duplicate ids, demos that do not exist) and reports the first
 * problem as "FILE:LINE: message".
 */
#ifndef CT_LESSONS_H
#define CT_LESSONS_H

#include <stdbool.h>
#include <stddef.h>

#define CT_LESSON_MAX_DEMOS 8

struct ct_lesson {
    char *id;
    int chapter;
    char *title;
    char *summary;
    char *demos[CT_LESSON_MAX_DEMOS];
    int ndemos;
    const char *body;       /* points into the file's text */
    size_t body_len;
};

struct ct_chapter {
    int number;
    char *title;
    char *summary;
    const char *body;       /* text before the first lesson */
    size_t body_len;
};

struct ct_library {
    struct ct_chapter *chapters;    /* sorted by number */
    int nchapters;
    struct ct_lesson *lessons;      /* by chapter, then file order */
    int nlessons;
    char **texts;                   /* file contents we own */
    int ntexts;
};

/* Load the lessons built into the binary.  0 or -EINVAL (message in err). */
int ct_library_load_embedded(struct ct_library *lib, char *err, size_t errlen);
/* Load every *.md file of `dir` instead (in name order). */
int ct_library_load_dir(struct ct_library *lib, const char *dir, char *err,
                        size_t errlen);
/* Parse one file's text into `lib` (which keeps pointers into `text`, so
 * it must outlive the library).  `name` is used in error messages. */
int ct_library_parse(struct ct_library *lib, const char *name,
                     const char *text, char *err, size_t errlen);
/* Sort chapters and lessons; call once after the last parse. */
void ct_library_finish(struct ct_library *lib);
void ct_library_free(struct ct_library *lib);

const struct ct_chapter *ct_chapter_find(const struct ct_library *lib, int number);
const struct ct_lesson *ct_lesson_find(const struct ct_library *lib, const char *id);
/* The lesson whose `demos:` list names `demo`, or NULL. */
const struct ct_lesson *ct_lesson_for_demo(const struct ct_library *lib,
                                           const char *demo);

#endif
