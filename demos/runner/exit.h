/* exit.h - the program's exit codes, shared by the runner and every front
 * end (argv, prompt, script). */
#ifndef CT_EXIT_H
#define CT_EXIT_H

enum {
    CT_EXIT_OK = 0,
    CT_EXIT_FAILED = 1,         /* a demo's check failed, or a command failed */
    CT_EXIT_USAGE = 2,          /* unknown command/demo/lesson/parameter, bad value */
    CT_EXIT_INTERRUPTED = 130,  /* cancelled by Ctrl-C (128 + SIGINT) */
};

#endif
