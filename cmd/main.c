/* main.c - concur-tutor's entry point: options, lessons, then a command, the
 * prompt, or a script on stdin.  The only place that exits. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "commands.h"
#include "ct-config.h"
#include "lessons.h"
#include "repl.h"

int main(int argc, char **argv)
{
    setlocale(LC_CTYPE, "");
    struct ct_library lib;
    struct ct_ctx ctx = {
        .lib = &lib,
        .opt = { .scale = 1.0 },
        .self = "/proc/self/exe",
    };
    const char *lessons_dir = getenv("CONCUR_TUTOR_LESSONS");
    char info = 0;
    int rc = ct_parse_options(&argc, argv, &ctx.opt, &lessons_dir, &info);
    if (rc)
        return rc;
    if (info == 'v') {
        printf("concur-tutor %s\n", CT_VERSION);
        return CT_EXIT_OK;
    }

    char err[1024];
    rc = lessons_dir && *lessons_dir ? ct_library_load_dir(&lib, lessons_dir, err, sizeof err)
                                     : ct_library_load_embedded(&lib, err, sizeof err);
    if (rc) {
        fprintf(stderr, "concur-tutor: lessons: %s\n", err);
        return lessons_dir ? CT_EXIT_USAGE : CT_EXIT_FAILED;
    }

    if (info == 'h') {
        /* "concur-tutor run --help" means "help run" */
        char *help[] = { (char *)"help", argc > 1 ? argv[1] : NULL, NULL };
        rc = ct_dispatch(&ctx, &ctx.opt, argc > 1 ? 2 : 1, help);
    } else if (argc > 1) {
        rc = ct_dispatch(&ctx, &ctx.opt, argc - 1, argv + 1);
    } else {
        rc = ct_repl(&ctx);
    }
    ct_library_free(&lib);

    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "concur-tutor: error writing output\n");
        return CT_EXIT_FAILED;
    }
    return rc;
}
