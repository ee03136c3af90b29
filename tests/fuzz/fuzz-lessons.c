/* fuzz-lessons.c - a lesson file of any content is loaded or refused with
 * "FILE:LINE: reason", and whatever loads renders at any width. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lessons.h"
#include "render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct ct_render_opts o = { .width = 20 + data[0] % 140, .color = data[0] & 1,
                                .utf8 = data[0] & 2 };
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    FILE *sink = fopen("/dev/null", "w");

    /* the whole input as lesson text */
    ct_render(sink, text, size - 1, &o);

    /* and as a lesson file */
    struct ct_library lib;
    char err[1024] = "";
    memset(&lib, 0, sizeof lib);
    if (ct_library_parse(&lib, "fuzz.md", text, err, sizeof err) == 0) {
        ct_library_finish(&lib);
        for (int i = 0; i < lib.nlessons; i++)
            ct_render(sink, lib.lessons[i].body, lib.lessons[i].body_len, &o);
    } else if (strncmp(err, "fuzz.md:", 8) != 0) {
        abort();
    }
    ct_library_free(&lib);
    fclose(sink);
    free(text);
    return 0;
}
