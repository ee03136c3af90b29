/* repl.h - the interactive prompt, and scripts read from a pipe. */
#ifndef CT_REPL_H
#define CT_REPL_H

#include "commands.h"

/* Read and run commands until quit, Ctrl-D or the end of input.  With
 * stdin and stdout on a terminal: a libedit prompt with completion and
 * history (exit code 0).  Otherwise one command per line, no prompt, and
 * the exit code of the first command that failed (a Ctrl-C'd demo stops
 * the script with 130). */
int ct_repl(struct ct_ctx *ctx);

#endif
