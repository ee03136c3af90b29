/* words.c - see words.h. */
#include "words.h"

#include <errno.h>
#include <stdbool.h>

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int ct_split_line(char *line, char **argv, int max)
{
    int n = 0;
    char *r = line, *w = line;
    for (;;) {
        while (blank(*r))
            r++;
        if (!*r || *r == '#')
            break;
        if (n == max)
            return -E2BIG;
        argv[n++] = w;
        while (*r && !blank(*r)) {
            if (*r == '\'' || *r == '"') {
                char q = *r++;
                while (*r && *r != q)
                    *w++ = *r++;
                if (!*r)
                    return -EINVAL;
                r++;
            } else {
                *w++ = *r++;
            }
        }
        if (*r)
            r++;
        *w++ = '\0';       /* w never passes r: the word ends in place */
    }
    argv[n] = NULL;
    return n;
}
