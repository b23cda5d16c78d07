/* Finding the parts of cpmp by absolute path, never relative to the current
 * directory (proxychains-ng CVE-2015-3887 loaded a library from ".").  */
#include "cpmp.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* config.h: CPMP_BUILD_ROOT, CPMP_PKGLIBDIR, CPMP_BIN_TO_PKGLIB. */
#include "config.h"

typedef struct {
    const char *pydir;
    const char *python;
    const char *preload;
} layout_shape;

/* An installed tree keeps everything in one private directory. */
static const layout_shape installed = {".", CPMP_PYTHON_NAME, "libcpmp_preload.so"};
/* A build directory keeps each part where Meson built it. */
static const layout_shape build_tree = {"pyhook", "launcher/" CPMP_PYTHON_NAME,
                                        "preload/libcpmp_preload.so"};

static int
join(char *out, size_t size, const char *base, const char *rel)
{
    int n = strcmp(rel, ".") == 0 ? snprintf(out, size, "%s", base)
                                  : snprintf(out, size, "%s/%s", base, rel);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

/* 0 when only root or this user can change path (a directory or file),
 * else -1 with layout->problem set: the checks ld.so and sudo make of
 * what they load. */
static int
trusted(const char *path, cpmp_layout *layout)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        return 0; /* missing: the search goes on */
    }
    if (st.st_uid != 0 && st.st_uid != geteuid()) {
        snprintf(layout->problem, sizeof(layout->problem),
                 "refusing the cpmp package in %s: it belongs to another user (uid %u)",
                 path, (unsigned)st.st_uid);
        return -1;
    }
    /* Group-writable only for this user's own group (a umask of 002). */
    if ((st.st_mode & S_IWOTH) != 0
        || ((st.st_mode & S_IWGRP) != 0 && st.st_gid != 0 && st.st_gid != getegid())) {
        snprintf(layout->problem, sizeof(layout->problem),
                 "refusing the cpmp package in %s: other users can write to it", path);
        return -1;
    }
    return 0;
}

static int
layout_try(const char *given, const layout_shape *shape, cpmp_layout *layout)
{
    char marker[4096];
    char base[PATH_MAX];

    /* bin/../lib/cpmp reads better as lib/cpmp (the files in it keep their
     * own names: python3 is a link whose name matters). */
    if (realpath(given, base) == NULL) {
        return -1;
    }

    if (join(marker, sizeof(marker), base, shape->pydir) < 0
        || strlen(marker) + sizeof("/cpmp/__init__.py") > sizeof(marker)) {
        return -1;
    }
    strcat(marker, "/cpmp/__init__.py");
    if (access(marker, R_OK) != 0) {
        return -1;
    }
    /* The package, the directory holding it and its first module. */
    if (trusted(marker, layout) < 0) {
        return -1;
    }
    *strrchr(marker, '/') = '\0';
    if (trusted(marker, layout) < 0) {
        return -1;
    }
    *strrchr(marker, '/') = '\0';
    if (trusted(marker, layout) < 0) {
        return -1;
    }
    if (join(layout->pydir, sizeof(layout->pydir), base, shape->pydir) < 0
        || join(layout->python, sizeof(layout->python), base, shape->python) < 0
        || join(layout->preload, sizeof(layout->preload), base, shape->preload) < 0) {
        return -1;
    }
    return 0;
}

int
cpmp_dirname(const char *path, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    size_t len;

    if (slash == NULL) {
        return -1;
    }
    len = slash == path ? 1 : (size_t)(slash - path);
    if (len >= size) {
        return -1;
    }
    memcpy(out, path, len);
    out[len] = '\0';
    return 0;
}

int
cpmp_find_layout(const char *self, cpmp_layout *layout)
{
    char dir[4096];
    char base[4096];
    size_t root_len = strlen(CPMP_BUILD_ROOT);

    layout->problem[0] = '\0';
    if (cpmp_dirname(self, dir, sizeof(dir)) < 0) {
        return -1;
    }

    /* Run from the build directory: use the fresh build, not an older
     * installed copy. */
    if (strncmp(self, CPMP_BUILD_ROOT "/", root_len + 1) == 0
        && layout_try(CPMP_BUILD_ROOT, &build_tree, layout) == 0) {
        return 0;
    }
    /* The preload library sits in the private directory itself. */
    if (layout_try(dir, &installed, layout) == 0) {
        return 0;
    }
    /* The launcher sits in bindir; relocatable installs keep the relative
     * path from bindir to the private directory. */
    if (layout->problem[0] == '\0' && join(base, sizeof(base), dir, CPMP_BIN_TO_PKGLIB) == 0
        && layout_try(base, &installed, layout) == 0) {
        return 0;
    }
    /* A package refused is not replaced by another: say why instead. */
    return layout->problem[0] == '\0' ? layout_try(CPMP_PKGLIBDIR, &installed, layout) : -1;
}
