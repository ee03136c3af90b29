/* term.c - see term.h. */
#include "term.h"
#include "text.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

bool ct_term_is_tty(void)
{
    return isatty(STDOUT_FILENO);
}

bool ct_term_color(bool no_color_option)
{
    const char *no_color = getenv("NO_COLOR");
    const char *term = getenv("TERM");
    if (no_color_option || (no_color && *no_color))
        return false;
    if (!term || !*term || strcmp(term, "dumb") == 0)
        return false;
    return ct_term_is_tty();
}

int ct_term_width(void)
{
    int w = 0;
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        w = ws.ws_col;
    if (w == 0) {
        const char *cols = getenv("COLUMNS");
        w = cols ? atoi(cols) : 0;
    }
    if (w <= 0)
        w = 80;
    return w < 40 ? 40 : w > 160 ? 160 : w;
}

int ct_term_page(const char *text, size_t len)
{
    const char *pager = getenv("PAGER");
    if (!pager)
        pager = "less -FIRX";
    if (ct_term_is_tty() && *pager && strcmp(pager, "cat") != 0) {
        fflush(stdout);
        /* quitting the pager early must not kill us with SIGPIPE */
        struct sigaction ign = { .sa_handler = SIG_IGN }, old;
        sigaction(SIGPIPE, &ign, &old);
        FILE *p = popen(pager, "w");
        int status = -1;
        if (p) {
            fwrite(text, 1, len, p);
            status = pclose(p);
        }
        sigaction(SIGPIPE, &old, NULL);
        if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
            return 0;
        /* the pager could not run, failed or died: the text is shown
         * directly, so that nothing is silently lost */
        if (status == -1)
            ct_error("concur-tutor: cannot start the pager; showing the text directly");
        else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
            ct_error("concur-tutor: pager not found; showing the text directly");
        else if (WIFEXITED(status))
            ct_error("concur-tutor: the pager failed (exit status %d); "
                     "showing the text directly", WEXITSTATUS(status));
        else
            ct_error("concur-tutor: the pager was killed by signal %d; "
                     "showing the text directly", WTERMSIG(status));
    }
    if (fwrite(text, 1, len, stdout) != len)
        return -EIO;
    return 0;
}
