/* man.c - the manual page, written from the command table and the demo
 * registry so that its lists can never drift from the program.  The build
 * runs `concur-tutor __man` and installs the result as concur-tutor.1.
 */
#include "man.h"

#include <string.h>

#include "params.h"
#include "registry.h"
#include "commands.h"
#include "ct-config.h"

/* Text for roff: backslashes doubled, '-' as \-, a leading '.' or '\''
 * protected so that it is not read as a request. */
static void roff(FILE *out, const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", out);
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '-')
            fputs("\\-", out);
        else
            fputc(*s, out);
    }
}

static void param_line(FILE *out, const struct ct_param_spec *sp)
{
    fputs(".TP\n.B ", out);
    roff(out, sp->name);
    fputs("=\n", out);
    roff(out, sp->help);
    fputs(". Default ", out);
    roff(out, sp->def);
    char range[256];
    ct_param_range(sp, range, sizeof range);
    fputs("; ", out);
    roff(out, range);
    fputs(".\n", out);
}

void ct_print_man(FILE *out)
{
    fprintf(out, ".TH CONCUR\\-TUTOR 1 \"\" \"concur-tutor %s\" \"User Commands\"\n", CT_VERSION);
    fputs(".SH NAME\nconcur\\-tutor \\- learn concurrency in C, following a Rust guide\n"
          ".SH SYNOPSIS\n.B concur\\-tutor\n[\\fIOPTIONS\\fR] [\\fICOMMAND\\fR [\\fIARGS\\fR...]]\n"
          ".SH DESCRIPTION\n"
          "An interactive tutor that follows a Rust concurrency guide chapter by chapter and, "
          "for each idea, runs the C/POSIX counterpart live: timestamped lines from each "
          "thread, the figures the lesson is about, a takeaway computed from the run, and an "
          "ASCII timeline where ordering matters.\n.PP\n"
          "With no command it starts an interactive prompt with line editing, TAB completion "
          "and history. When standard input is not a terminal it reads one command per line "
          "instead, with no prompt.\n",
          out);

    fputs(".SH COMMANDS\n", out);
    for (const struct ct_command *c = ct_commands; c->name; c++) {
        if (c->flags & CT_CMD_HIDDEN)
            continue;
        fputs(".TP\n.B ", out);
        roff(out, c->name);
        if (c->args) {
            fputs(" \\fI", out);
            roff(out, c->args);
            fputs("\\fR", out);
        }
        fputc('\n', out);
        roff(out, c->summary);
        if (c->help) {
            fputc(' ', out);
            roff(out, c->help);
        }
        fputc('\n', out);
    }

    fputs(".SH OPTIONS\nOptions may appear anywhere on the command line or on a line typed at "
          "the prompt; \\-\\- ends them.\n", out);
    for (const struct ct_option *o = ct_option_table; o->name; o++) {
        fputs(".TP\n.B ", out);
        roff(out, o->name);
        if (o->arg) {
            fputs(" \\fI", out);
            roff(out, o->arg);
            fputs("\\fR", out);
        }
        if (o->alias) {
            fputs(", ", out);
            roff(out, o->alias);
        }
        fputc('\n', out);
        roff(out, o->help);
        fputs(".\n", out);
    }

    fputs(".SH DEMOS\nEach demo takes parameters as \\fIkey\\fR=\\fIvalue\\fR (or "
          "\\-\\-\\fIkey value\\fR). Every demo also takes these:\n.RS\n",
          out);
    for (const struct ct_param_spec *sp = ct_runner_params; sp->name; sp++)
        param_line(out, sp);
    fputs(".RE\n", out);
    for (size_t i = 0; i < ct_demo_count; i++) {
        const struct ct_demo *d = ct_demos[i];
        fputs(".SS ", out);
        roff(out, d->name);
        fprintf(out, " (chapter %d)\n", d->chapter);
        roff(out, d->summary);
        fputs(".\n", out);
        if (d->params && d->params[0].name) {
            fputs(".RS\n", out);
            for (const struct ct_param_spec *sp = d->params; sp->name; sp++)
                param_line(out, sp);
            fputs(".RE\n", out);
        }
    }

    fputs(".SH INTERACTIVE USE\n"
          "TAB completes commands, lesson and demo ids, and a demo's parameter names and "
          "values. Ctrl\\-C while a demo runs cancels it: its threads are told to stop and "
          "joined, and the prompt returns within about a second. Ctrl\\-C at the prompt "
          "clears the line; Ctrl\\-D on an empty line leaves.\n"
          ".SH ENVIRONMENT\n"
          ".TP\n.B PAGER\nPager for \\fBshow\\fR on a terminal (default \\fBless \\-FIRX\\fR).\n"
          ".TP\n.B NO_COLOR\nWhen set to anything, no colours.\n"
          ".TP\n.B CONCUR_TUTOR_LESSONS\nA lesson directory, as with \\-\\-lessons.\n"
          ".TP\n.B XDG_STATE_HOME\nWhere the history and the progress are kept (default "
          "~/.local/state).\n"
          ".SH FILES\n.TP\n.I $XDG_STATE_HOME/concur\\-tutor/history\n"
          "Lines typed at the prompt, kept across sessions.\n"
          ".TP\n.I $XDG_STATE_HOME/concur\\-tutor/progress\n"
          "The lessons read, the demos run and where each walk stopped (see \\fBprogress\\fR).\n"
          ".SH EXIT STATUS\n0 success; 1 a demo or command failed (a check did not hold); "
          "2 a usage error; 130 interrupted. Reading commands from a pipe, the status of the "
          "first command that failed.\n"
          ".SH EXAMPLES\n.nf\nconcur\\-tutor list 4\nconcur\\-tutor show rwlock\n"
          "concur\\-tutor walk 4\nconcur\\-tutor walk 4 > chapter\\-4.txt\n"
          "concur\\-tutor run race predict=true runs=20\n"
          "concur\\-tutor run rwlock \\-\\-html rwlock.html\n"
          "concur\\-tutor source chan send\n"
          "concur\\-tutor run race threads=8 iters=200000\nconcur\\-tutor run race \\-\\-json\n"
          "concur\\-tutor \\-\\-scale 3 < class\\-script.txt\n.fi\n",
          out);
}
