/* fuzz-params.c - the demo parameter parser: any argument list, for any
 * demo, is accepted or refused with a message, never a crash; what it
 * accepts prints back in a form it accepts again. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const struct ct_demo *d = ct_demos[data[0] % ct_demo_count];
    /* the rest: arguments separated by newlines */
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    char *argv[64];
    int argc = 0;
    for (char *save = NULL, *a = strtok_r(text, "\n", &save); a && argc < 64;
         a = strtok_r(NULL, "\n", &save))
        argv[argc++] = a;

    struct ct_params p, q;
    char err[512], buf[512];
    if (ct_params_defaults(&p, d->params, err, sizeof err) != 0)
        abort();                                /* the specs themselves are tested */
    if (ct_params_parse(&p, argc, argv, err, sizeof err) == 0) {
        /* round trip: every value prints in a form the parser takes back */
        if (ct_params_defaults(&q, d->params, err, sizeof err) != 0)
            abort();
        for (int i = 0; i < p.n; i++) {
            ct_params_format(&p, i, buf, sizeof buf);
            if (ct_params_set(&q, p.spec[i].name, buf, err, sizeof err) != 0) {
                fprintf(stderr, "%s=%s does not parse back: %s\n", p.spec[i].name, buf, err);
                abort();
            }
        }
    } else if (err[0] == '\0' || strchr(err, '\033') || strchr(err, '\n')) {
        abort();                                /* an error names the problem, escaped */
    }
    free(text);
    return 0;
}
