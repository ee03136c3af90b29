/* main.c - concur-tutor's entry point: options, then a command, the
 * prompt, or a script on stdin.  The only place that exits. */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "ct-config.h"
#include "exit.h"
#include "repl.h"
#include "text.h"

/* Started with stdin, stdout or stderr closed, the program would hand out
 * fd 0, 1 or 2 to the first file it opens (a demo's memfd, a pipe) and
 * later write messages into it.  Take those numbers with /dev/null first,
 * as daemons do. */
static void open_standard_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) == -1 && errno == EBADF &&
            open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) == -1)
            _exit(CT_EXIT_FAILED);
    }
}

int main(int argc, char **argv)
{
    open_standard_fds();
    setlocale(LC_CTYPE, "");
    struct ct_ctx ctx = {
        .opt = { .scale = 1.0 },
        .self = "/proc/self/exe",
    };
    const char *env_lessons = getenv("CONCUR_TUTOR_LESSONS");
    if (env_lessons)
        ctx.opt.lessons_dir = env_lessons;
    int rc = ct_parse_options(&argc, argv, &ctx.opt, true);
    if (rc)
        return rc;

    if (ctx.opt.info == 'v') {
        printf("concur-tutor %s\n", CT_VERSION);
    } else if (ctx.opt.info == 'h') {
        /* "concur-tutor run --help" means "help run" */
        char *help[] = { (char *)"help", argc > 1 ? argv[1] : NULL, NULL };
        rc = ct_dispatch(&ctx, &ctx.opt, argc > 1 ? 2 : 1, help);
    } else if (env_lessons && !*env_lessons && ctx.opt.lessons_dir == env_lessons) {
        ct_error("concur-tutor: CONCUR_TUTOR_LESSONS is set but empty; "
                 "unset it or name a lesson directory");
        rc = CT_EXIT_USAGE;
    } else if (argc > 1) {
        rc = ct_dispatch(&ctx, &ctx.opt, argc - 1, argv + 1);
    } else {
        rc = ct_repl(&ctx);
    }
    ct_ctx_free(&ctx);

    if (fflush(stdout) != 0 || ferror(stdout)) {
        ct_error("concur-tutor: error writing output");
        return CT_EXIT_FAILED;
    }
    return rc;
}
