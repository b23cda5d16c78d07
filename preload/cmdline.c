/* Python's options as CPython's pre-configuration reads them, so that the
 * preload library puts on the allocators Python will (issue 20: "-X dev=1",
 * "-Xdev=0", "--check-hash-based-pycs default -X dev" and command lines
 * over 8 KiB were misread, and Python then freed the library's block with
 * other allocators: "_PyMem_DebugRawFree: bad ID").
 *
 * The model is _PyOS_GetOpt() in CPython's Python/getopt.c, driven by
 * precmdline_parse_cmdline() in Python/preconfig.c, the same in 3.8 to
 * 3.13: short options may be grouped, an option's argument is the rest of
 * its word or the next word, the only long option taking an argument is
 * --check-hash-based-pycs, an unknown option is skipped, and -c, -m, "-",
 * "--" or the first non-option end the options.  _Py_get_xoption() then
 * finds "dev" as "dev" or "dev=..." (whatever the value). */
#include "cmdline.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SHORT_OPTS of Python/getopt.c (3.8 to 3.13). */
static const char cmdline_short_opts[] = "bBc:dEhiIJm:OPqRsStuvVW:xX:?";

static int
cmdline_is_dev(const char *xoption)
{
    return strncmp(xoption, "dev", 3) == 0 && (xoption[3] == '\0' || xoption[3] == '=');
}

void
cmdline_parse(int argc, char *const *argv, cmdline_preconfig *pre)
{
    const char *opt = "";
    int ind = 1;

    for (;;) {
        const char *spec, *value;
        char c;

        if (*opt == '\0') {
            if (ind >= argc || argv[ind][0] != '-' || argv[ind][1] == '\0'
                || strcmp(argv[ind], "--") == 0) {
                return;
            }
            opt = argv[ind++] + 1;
        }
        c = *opt++;
        if (c == '-') {
            /* A long option: the whole word, matched exactly. */
            if (strcmp(opt, "check-hash-based-pycs") == 0 && ind < argc) {
                ind++;
            }
            opt = "";
            continue;
        }
        spec = c == 'J' ? NULL : strchr(cmdline_short_opts, c);
        if (spec == NULL) {
            continue; /* unknown: Python's usage error comes later */
        }
        if (spec[1] != ':') {
            if (c == 'E' || c == 'I') {
                pre->ignore_env = 1; /* -I implies -E */
            }
            continue;
        }
        if (*opt != '\0') {
            value = opt;
            opt = "";
        } else if (ind < argc) {
            value = argv[ind++];
        } else {
            return;
        }
        if (c == 'c' || c == 'm') {
            return; /* the rest is the program's */
        }
        if (c == 'X' && cmdline_is_dev(value)) {
            pre->dev = 1;
        }
    }
}

int
cmdline_parse_words(const char *words, size_t size, cmdline_preconfig *pre)
{
    char *copy = malloc(size + 1);
    char **argv;
    size_t i, argc = 0;

    if (copy == NULL) {
        return -1;
    }
    memcpy(copy, words, size);
    copy[size] = '\0';
    for (i = 0; i < size; i++) {
        argc += copy[i] == '\0';
    }
    argc += size > 0 && words[size - 1] != '\0'; /* a last word without its NUL */
    argv = malloc((argc + 1) * sizeof(*argv));
    if (argv == NULL) {
        free(copy);
        return -1;
    }
    argv[0] = copy;
    for (i = 1; i < argc; i++) {
        argv[i] = argv[i - 1] + strlen(argv[i - 1]) + 1;
    }
    argv[argc] = NULL;
    if (argc <= INT_MAX) {
        cmdline_parse((int)argc, argv, pre);
    }
    free(argv);
    free(copy);
    return 0;
}

int
cmdline_read_self(cmdline_preconfig *pre)
{
    FILE *f = fopen("/proc/self/cmdline", "rb");
    char *words = NULL;
    size_t size = 0, capacity = 0;
    int result;

    if (f == NULL) {
        return -1;
    }
    for (;;) {
        char *grown;
        size_t got;

        if (size == capacity) {
            capacity = capacity == 0 ? 4096 : capacity * 2;
            grown = realloc(words, capacity);
            if (grown == NULL) {
                free(words);
                fclose(f);
                return -1;
            }
            words = grown;
        }
        got = fread(words + size, 1, capacity - size, f);
        if (got == 0) {
            break;
        }
        size += got;
    }
    result = ferror(f) ? -1 : cmdline_parse_words(words, size, pre);
    fclose(f);
    free(words);
    return result;
}
