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

/* The exercises (lessons/exercises/NAME/...), named "NAME/FILE", in the
 * order of exercise_names in lessons/meson.build; "exercise.h" is the
 * header every harness includes. */
extern const struct ct_embedded_file ct_embedded_exercises[];
extern const size_t ct_embedded_exercises_count;
/* The C sources of the demos, the primitives and the runner (demos/NAME.c,
 * demos/lib/NAME.[ch], demos/runner/NAME.[ch]), named by their path in the
 * source tree ("demos/lib/chan.c"), for `source`.  Built by cmd/meson.build
 * with the same tool. */
extern const struct ct_embedded_file ct_embedded_sources[];
extern const size_t ct_embedded_sources_count;

#endif
