/* man.h - the manual page, generated from the command and demo tables. */
#ifndef CT_MAN_H
#define CT_MAN_H

#include <stdio.h>

/* Write the whole page as roff (man(7)) to `out`. */
void ct_print_man(FILE *out);

#endif
