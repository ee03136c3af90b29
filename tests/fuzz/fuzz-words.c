/* fuzz-words.c - splitting a typed line into words, and TAB completion on
 * it: never a crash, never a word past the line, never a silent cut. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "complete.h"
#include "words.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    memcpy(line, data, size);
    line[size] = '\0';
    size_t len = strlen(line);
    char *copy = strdup(line);
    int max = size ? data[0] % 40 : 0;
    char **argv = calloc((size_t)max + 1, sizeof *argv);
    int n = ct_split_line(copy, argv, max);
    if (n >= 0) {
        if (n > max || argv[n] != NULL)
            abort();
        for (int i = 0; i < n; i++) {
            if (argv[i] < copy || argv[i] + strlen(argv[i]) > copy + len)
                abort();
        }
    } else if (n != -EINVAL && n != -E2BIG) {
        abort();
    }
    /* completion on the same line, with the built-in lessons */
    static struct ct_ctx ctx = { .opt = { .scale = 1.0 }, .repl = true };
    char cands[16][CT_COMPLETE_LEN];
    size_t start = 0;
    int k = ct_complete(&ctx, line, &start, cands, 16);
    if (k < 0 || start > len)
        abort();
    free(argv);
    free(copy);
    free(line);
    return 0;
}
