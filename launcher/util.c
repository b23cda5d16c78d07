/* util_die(), the environment, and where cpmp itself is. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launcher.h"

void
util_die(const char *fmt, ...)
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
util_set_env(const char *name, const char *value)
{
    if (setenv(name, value, 1) != 0) {
        util_die("cannot set the environment: %s", strerror(errno));
    }
}

void
util_append_env(const char *name, char separator, const char *value)
{
    const char *old = getenv(name);
    char *joined;

    if (old == NULL || old[0] == '\0') {
        util_set_env(name, value);
        return;
    }
    joined = malloc(strlen(old) + strlen(value) + 2);
    if (joined == NULL) {
        util_die("%s", strerror(ENOMEM));
    }
    sprintf(joined, "%s%c%s", old, separator, value);
    util_set_env(name, joined);
    free(joined);
}

const char *
util_base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash == NULL ? path : slash + 1;
}

const char *
util_self_exe(void)
{
    static char self[PATH_MAX];

    if (self[0] == '\0' && realpath("/proc/self/exe", self) == NULL) {
        util_die("cannot find my own executable: %s", strerror(errno));
    }
    return self;
}

void
util_locate(cpmp_layout *layout)
{
    if (layout_find(util_self_exe(), layout) < 0) {
        if (layout->problem[0] != '\0') {
            util_die("%s", layout->problem);
        }
        util_die("cannot find the cpmp Python package beside %s (broken install?)",
                 util_self_exe());
    }
}
