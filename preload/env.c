/* The environment the preload library reads before Python starts. */
#include "env.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

int
env_debug_allocators(const cmdline_preconfig *pre, const char *pythonmalloc,
                     const char *pythondevmode)
{
    if (pre->ignore_env) {
        pythonmalloc = pythondevmode = NULL;
    }
    if (pythonmalloc != NULL && pythonmalloc[0] != '\0') {
        size_t len = strlen(pythonmalloc);

        return len >= 5 && strcmp(pythonmalloc + len - 5, "debug") == 0;
    }
    return pre->dev || (pythondevmode != NULL && pythondevmode[0] != '\0');
}

int
env_has_relative_entry(const char *value)
{
    const char *start = value;

    while (*start != '\0') {
        size_t len = strcspn(start, " :");

        if (len > 0 && start[0] != '/' && memchr(start, '/', len) != NULL) {
            return 1;
        }
        start += len + (start[len] != '\0');
    }
    return 0;
}

char *
env_absolute_preload(const char *value, const char *self)
{
    char real[PATH_MAX], *copy, *entry, *save = NULL, *fixed;
    int changed = 0;

    copy = strdup(value);
    fixed = malloc(strlen(value) + PATH_MAX * 2 + 2);
    if (copy == NULL || fixed == NULL) {
        free(copy);
        free(fixed);
        return NULL;
    }
    fixed[0] = '\0';
    /* ld.so separates entries with spaces or colons. */
    for (entry = strtok_r(copy, " :", &save); entry != NULL; entry = strtok_r(NULL, " :", &save)) {
        const char *use = entry;

        if (entry[0] != '/' && strchr(entry, '/') != NULL && realpath(entry, real) != NULL
            && strcmp(real, self) == 0 && !changed) {
            use = self;
            changed = 1;
        }
        if (strlen(fixed) + strlen(use) + 2 > strlen(value) + PATH_MAX * 2) {
            changed = 0;
            break;
        }
        if (fixed[0] != '\0') {
            strcat(fixed, ":");
        }
        strcat(fixed, use);
    }
    free(copy);
    if (!changed) {
        free(fixed);
        return NULL;
    }
    return fixed;
}
