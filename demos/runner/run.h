/* run.h - running a demo: the front end's side of demo.h.
 *
 * ct_demo_exec() parses the demo's parameters (and runs its .check on
 * them), prints the intro, turns
 * SIGINT into cancellation for the length of the run, calls the demo,
 * checks that it joined every thread, and prints the summary, the checks,
 * the timeline and the takeaway -- or, in JSON mode, one JSON object.
 */
#ifndef CT_RUN_H
#define CT_RUN_H

#include <stdbool.h>
#include <stdio.h>

#include "demo.h"
#include "exit.h"

/* What a finished run found, for front ends that show it their own way
 * (walk shows the takeaway on a page of its own). */
struct ct_run_outcome {
    char status[16];        /* "ok", "failed", "cancelled", "error" */
    int checks, passed;
    char *takeaway;         /* paragraphs joined by a blank line; free() it */
    int runs;               /* runs done (runs=N) */
};

struct ct_run_opts {
    FILE *out;              /* stdout, or a memory stream in tests */
    bool json;              /* one JSON object instead of text */
    bool color;             /* ANSI colours in text output */
    double scale;           /* time scale for demo sleeps, > 0 */
    int width;              /* columns for wrapping and the timeline */
    const char *self;       /* this program, for ct_child_spawn */
    const char *progname;   /* prefix for error messages */
    FILE *in;               /* answers for predict=true; NULL: stdin */
    const char *html;       /* also write the run as an HTML page here */
    struct ct_run_outcome *outcome;     /* filled in when not NULL */
};

/* Run `d` with the parameters in argv (key=value ...), which may also hold
 * the runner's own (ct_runner_params: predict=true, runs=N).  Usage errors are
 * reported on stderr as "PROGNAME: run NAME: MESSAGE".  Returns an exit
 * code: CT_EXIT_OK, _FAILED (a check failed or the demo errored), _USAGE,
 * or _INTERRUPTED (cancelled by Ctrl-C). */
int ct_demo_exec(const struct ct_demo *d, int argc, char **argv,
                 const struct ct_run_opts *opts);

#endif
