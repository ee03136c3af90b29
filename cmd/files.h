/* files.h - reading the files a user controls without trusting them. */
#ifndef CT_FILES_H
#define CT_FILES_H

#include <stdbool.h>
#include <stddef.h>

/* Read `path` whole into a new NUL-terminated buffer (*len bytes before
 * the NUL).  Only a regular file of at most `max` bytes: the file is
 * opened without blocking (a FIFO never holds the program up) and looked
 * at with fstat before anything is read.  NULL with the reason in `why`
 * ("not a regular file (a FIFO)", "larger than 4 MiB", strerror). */
char *ct_read_regular_file(const char *path, size_t max, size_t *len, char *why,
                           size_t whylen);

/* 0 when `path` is a regular file of at most `max` bytes, -ENOENT when it
 * does not exist, another negative errno (the reason in `why`) when it is
 * something that should not be opened as a file. */
int ct_check_regular_file(const char *path, size_t max, char *why, size_t whylen);

/* The tutor's state directory, ${XDG_STATE_HOME:-~/.local/state}/concur-tutor,
 * into buf; with `create`, made (with its parents) if missing.  0, or a
 * negative errno (-ENOENT when there is neither XDG_STATE_HOME nor HOME)
 * with the reason in why. */
int ct_state_dir(char *buf, size_t n, bool create, char *why, size_t whylen);

#endif
