/* The preload library's reading of Python's options, from a command line
 * as /proc/self/cmdline holds it (preload/cmdline.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cmdline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cmdline_preconfig pre = {0, 0};

    if (cmdline_parse_words((const char *)data, size, &pre) == 0
        && ((pre.ignore_env != 0 && pre.ignore_env != 1) || (pre.dev != 0 && pre.dev != 1))) {
        abort();
    }
    return 0;
}
