/* die(), the environment, and where cpmp itself is. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launcher.h"

void
die(const char *fmt, ...)
{
    va_list ap;

    fputs(CPMP_LOG_PREFIX, stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

void
set_env(const char *name, const char *value)
{
    if (setenv(name, value, 1) != 0) {
        die("cannot set the environment: %s", strerror(errno));
    }
}

void
append_env(const char *name, char separator, const char *value)
{
    const char *old = getenv(name);
    char *joined;

    if (old == NULL || old[0] == '\0') {
        set_env(name, value);
        return;
    }
    joined = malloc(strlen(old) + strlen(value) + 2);
    if (joined == NULL) {
        die("%s", strerror(ENOMEM));
    }
    sprintf(joined, "%s%c%s", old, separator, value);
    set_env(name, joined);
    free(joined);
}

const char *
base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash == NULL ? path : slash + 1;
}

const char *
self_exe(void)
{
    static char self[PATH_MAX];

    if (self[0] == '\0' && realpath("/proc/self/exe", self) == NULL) {
        die("cannot find my own executable: %s", strerror(errno));
    }
    return self;
}

void
locate(cpmp_layout *layout)
{
    if (cpmp_find_layout(self_exe(), layout) < 0) {
        if (layout->problem[0] != '\0') {
            die("%s", layout->problem);
        }
        die("cannot find the cpmp Python package beside %s (broken install?)", self_exe());
    }
}
