/* cpmp's own options and the CPMP_* variables they check
 * (launcher/options.c).  Words: CPMP_BY_VALUE, CPMP_TRACE, CPMP_DISABLE,
 * CPMP_QUIET (an empty word leaves it unset, else it is set to the word
 * after its first byte), then the options.
 *
 * Linked with --wrap: util_die() returns here instead of exiting, and
 * open() never touches a file named by the input: it opens a file of the
 * target's own (already removed), or fails as a symbolic link or an
 * unwritable file would. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_words.h"
#include "launcher.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
noreturn void __wrap_util_die(const char *fmt, ...);
int __wrap_open(const char *path, int flags, ...);
int __wrap_open64(const char *path, int flags, ...);

static jmp_buf died;
static int trace_fd = -1;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char trace[] = "/tmp/cpmp-fuzz-trace-XXXXXX"; /* not open(): that is the fake */

    (void)argc;
    (void)argv;
    trace_fd = mkstemp(trace);
    if (trace_fd < 0) {
        abort();
    }
    unlink(trace);
    return 0;
}

void
__wrap_util_die(const char *fmt, ...)
{
    char message[4096];
    va_list ap;

    /* Formatted all the same: a bad argument shows here. */
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    longjmp(died, 1);
}

static int
fake_open(const char *path)
{
    switch (strlen(path) % 3) {
    case 0:
        return dup(trace_fd);
    case 1:
        errno = ELOOP;
        return -1;
    default:
        errno = EACCES;
        return -1;
    }
}

int
__wrap_open(const char *path, int flags, ...)
{
    (void)flags;
    return fake_open(path);
}

int
__wrap_open64(const char *path, int flags, ...)
{
    (void)flags;
    return fake_open(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const settings[] = {CPMP_ENV_ALL};
    static const char *const inputs[] = {CPMP_ENV_BY_VALUE, CPMP_ENV_TRACE, CPMP_ENV_DISABLE,
                                       CPMP_ENV_QUIET};
    int count, first, i;
    char **words = fuzz_words(data, size, &count);
    const char *trace;
    volatile int used = -1;

    if (words == NULL) {
        return 0;
    }
    for (i = 0; i < (int)(sizeof(settings) / sizeof(settings[0])); i++) {
        unsetenv(settings[i]);
    }
    for (i = 0; i < 4 && i < count; i++) {
        if (words[i][0] != '\0') {
            setenv(inputs[i], words[i] + 1, 1);
        }
    }
    first = count < 4 ? count : 4;
    if (setjmp(died) == 0) {
        used = options_parse(count - first, words + first);
        /* What the rest of cpmp counts on once the options are taken. */
        trace = getenv(CPMP_ENV_TRACE);
        if (used < 0 || used > count - first
            || (trace != NULL && flag_parse_bool(trace) < 0 && trace[0] != '/')
            || flag_parse_bool(getenv(CPMP_ENV_DISABLE)) < 0
            || flag_parse_bool(getenv(CPMP_ENV_QUIET)) < 0) {
            abort();
        }
    }
    free(words);
    return 0;
}
