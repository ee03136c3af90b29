/* fuzz-decoder.c - the prompt's byte-to-character decoder: every byte
 * ends up in some character (a bad run as U+FFFD), none is lost or made
 * up: the ASCII bytes in are exactly the ASCII characters out. */
#include <locale.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        setlocale(LC_CTYPE, "C.UTF-8");
        init = 1;
    }
    struct ct_decoder d = { 0 };
    size_t ascii_in = 0, ascii_out = 0, chars = 0;
    wchar_t out[2];
    for (size_t i = 0; i < size; i++) {
        ascii_in += data[i] < 0x80;
        int n = ct_decoder_feed(&d, data[i], out);
        if (n < 0 || n > 2)
            abort();
        for (int k = 0; k < n; k++)
            ascii_out += out[k] >= 0 && out[k] < 0x80;
        chars += (size_t)n;
    }
    int n = ct_decoder_finish(&d, out);
    chars += (size_t)n;
    if (ascii_in != ascii_out || chars > size)
        abort();
    return 0;
}
