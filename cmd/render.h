/* render.h - lesson text (a Markdown subset) rendered for a terminal.
 *
 * Blocks: paragraphs, `#`/`##`/`###` headings, `-`/`*` and `1.` lists,
 * `>` quotes, ``` fenced code (kept verbatim, never wrapped) and `|` tables
 * (columns sized to the content, cells wrapped when the table is too wide).
 * Inline: **bold**, *emphasis*, `code`, and \* for a literal star.
 * Everything but code is wrapped to the width; with colour off the
 * markers become plain text (code keeps its backticks).
 */
#ifndef CT_RENDER_H
#define CT_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct ct_render_opts {
    int width;      /* columns in all */
    bool color;     /* ANSI styles */
    bool utf8;      /* bullets and rules may use non-ASCII glyphs */
};

void ct_render(FILE *out, const char *text, size_t len,
               const struct ct_render_opts *opts);

#endif
