/* complete.h - TAB completion from the command, option and demo tables. */
#ifndef CT_COMPLETE_H
#define CT_COMPLETE_H

#include <stddef.h>

#include "commands.h"

#define CT_COMPLETE_LEN 64

/* For the text `line` (everything left of the cursor), copy up to `max`
 * candidates for the word being typed (which starts at line +
 * *word_start) into `out` and return how many there are (more than max
 * means some were left out).  A parameter name is offered as "name=",
 * ready for its value.  Lines of any length are split whole. */
int ct_complete(struct ct_ctx *ctx, const char *line, size_t *word_start,
                char (*out)[CT_COMPLETE_LEN], int max);

#endif
