/* embedded.h - the lesson files compiled into the binary.
 *
 * embed.c turns lessons/NN-*.md into a generated embedded.c at build time
 * (gcc 12 has no #embed), so an installed binary needs no data files. */
#ifndef CT_EMBEDDED_H
#define CT_EMBEDDED_H

#include <stddef.h>

struct ct_embedded_file {
    const char *name;       /* base name: "04-mutex-rwlock.md" */
    const char *text;       /* NUL-terminated contents */
    size_t len;
};

extern const struct ct_embedded_file ct_embedded_lessons[];
extern const size_t ct_embedded_lesson_count;

#endif
