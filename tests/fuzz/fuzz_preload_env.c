/* The environment the preload library reads (preload/env.c): words
 * LD_PRELOAD, PYTHONMALLOC, PYTHONDEVMODE, then Python's command line.
 * An LD_PRELOAD entry can name the library: ./lib.so in the directory
 * the target makes when it starts, and removes at exit. */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "env.h"
#include "fuzz_words.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char self[PATH_MAX], dir[] = "/tmp/cpmp-fuzz-XXXXXX";
static int dir_fd = -1, cwd_fd = -1;

static void
clean_up(void)
{
    unlinkat(dir_fd, "lib.so", 0);
    rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    int lib;

    (void)argc;
    (void)argv;
    if (mkdtemp(dir) == NULL || (dir_fd = open(dir, O_RDONLY | O_DIRECTORY)) < 0
        || (cwd_fd = open(".", O_RDONLY | O_DIRECTORY)) < 0) {
        abort();
    }
    atexit(clean_up);
    lib = openat(dir_fd, "lib.so", O_WRONLY | O_CREAT, 0600);
    if (lib < 0 || snprintf(self, sizeof(self), "%s/lib.so", dir) >= (int)sizeof(self)) {
        abort();
    }
    close(lib);
    return 0;
}

/* The number of entries ld.so sees in value. */
static size_t
entries(const char *value)
{
    size_t n = 0;

    while (*value != '\0') {
        size_t len = strcspn(value, " :");

        n += len > 0;
        value += len + (value[len] != '\0');
    }
    return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cmdline_preconfig pre = {0, 0};
    int count;
    char **words = fuzz_words(data, size, &count);
    const char *preload, *pythonmalloc, *pythondevmode;

    if (words == NULL) {
        return 0;
    }
    preload = words[0];
    pythonmalloc = count > 1 ? words[1] : NULL;
    pythondevmode = count > 2 ? words[2] : NULL;
    if (count > 3) {
        /* argv[0] is the program, as in /proc/self/cmdline. */
        cmdline_parse(count - 3, words + 3, &pre);
    }
    if (env_debug_allocators(&pre, pythonmalloc, pythondevmode) > 1) {
        abort();
    }
    /* In the directory of lib.so, then back (libFuzzer's own paths are
     * relative to where it started). */
    if (env_has_relative_entry(preload) && fchdir(dir_fd) == 0) {
        char *fixed = env_absolute_preload(preload, self);

        /* The same entries, one of them this library's absolute path. */
        if (fixed != NULL && (entries(fixed) != entries(preload) || strstr(fixed, self) == NULL)) {
            abort();
        }
        free(fixed);
        if (fchdir(cwd_fd) != 0) {
            abort();
        }
    }
    free(words);
    return 0;
}
