/* fuzz-options.c - the global option parser on any argument vector. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool startup = data[0] & 1;
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    char *argv[66] = { (char *)"concur-tutor" };
    int argc = 1;
    for (char *save = NULL, *a = strtok_r(text, "\n", &save); a && argc < 65;
         a = strtok_r(NULL, "\n", &save))
        argv[argc++] = a;
    argv[argc] = NULL;
    int before = argc;
    struct ct_options opt = { .scale = 1.0 };
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w");           /* usage errors are expected */
    int rc = ct_parse_options(&argc, argv, &opt, startup);
    fclose(stderr);
    stderr = saved;
    if (rc == 0 && (argc > before || argv[argc] != NULL || !(opt.scale >= 0.01 && opt.scale <= 100)))
        abort();
    free(text);
    return 0;
}
