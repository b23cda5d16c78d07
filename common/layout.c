/* Finding the parts of cpmp by absolute path, never relative to the current
 * directory (proxychains-ng CVE-2015-3887 loaded a library from ".").  */
#include "cpmp.h"

#include <dirent.h> /* the package's files, each checked */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* config.h: CPMP_BUILD_ROOT, CPMP_PKGLIBDIR, CPMP_BIN_TO_PKGLIB(_USER),
 * CPMP_LIB_TO_PKGLIB, CPMP_LAYOUT_PYTHON, CPMP_LAYOUT_PRELOAD. */
#include "config.h"

typedef struct {
    const char *pydir;
    const char *python;
    const char *preload;
} layout_shape;

/* An installed tree keeps everything in one private directory (meson
 * install); a wheel (pip) keeps the package in platlib, with the python3
 * stand-in and the library in its cpmp/_lib/ (meson.build says which). */
static const layout_shape installed = {".", CPMP_LAYOUT_PYTHON, CPMP_LAYOUT_PRELOAD};
/* A build directory keeps each part where Meson built it. */
static const layout_shape build_tree = {"pyhook", "launcher/" CPMP_PYTHON_NAME,
                                        "preload/libcpmp_preload.so"};

static int
layout_join(char *out, size_t size, const char *base, const char *rel)
{
    int n = strcmp(rel, ".") == 0 ? snprintf(out, size, "%s", base)
                                  : snprintf(out, size, "%s/%s", base, rel);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

/* 0 when only root or this user can change path (a directory or file),
 * else -1 with layout->problem set: the checks ld.so and sudo make of
 * what they load.  sticky_ok: a directory above the package, where the
 * sticky bit (/tmp) keeps others from renaming the entry that leads to
 * it, which is itself checked. */
static int
layout_trusted(const char *path, int sticky_ok, cpmp_layout *layout)
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
    if (sticky_ok && S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) != 0) {
        return 0;
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

/* Every directory from dir up to the root (issue 20: a writable one
 * above the package lets its contents be swapped). */
static int
layout_trusted_ancestors(const char *dir, cpmp_layout *layout)
{
    char path[4096];
    char *slash;

    if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path)) {
        return -1;
    }
    for (;;) {
        if (layout_trusted(path[0] != '\0' ? path : "/", 1, layout) < 0) {
            return -1;
        }
        slash = strrchr(path, '/');
        if (slash == NULL || path[0] == '\0') {
            return 0;
        }
        *slash = '\0';
    }
}

/* What Python may import from a package directory: sources, byte code
 * (in __pycache__) and extension modules. */
static int
layout_importable(const char *name)
{
    static const char *const suffixes[] = {".py", ".pyc", ".so"};
    size_t len = strlen(name), i;

    for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        size_t n = strlen(suffixes[i]);

        if (len > n && strcmp(name + len - n, suffixes[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The package directory path (a buffer of size bytes, restored on
 * return), every directory in it and every file it can import (issue 20:
 * a world-writable sibling module or __pycache__ .pyc was imported). */
static int
layout_trusted_tree(char *path, size_t size, int depth, cpmp_layout *layout)
{
    size_t len = strlen(path);
    struct dirent *entry;
    struct stat st;
    DIR *dir;
    int result = 0;

    if (layout_trusted(path, 0, layout) < 0) {
        return -1;
    }
    if (depth > 8) {
        snprintf(layout->problem, sizeof(layout->problem),
                 "refusing the cpmp package in %s: its directories nest too deep", path);
        return -1;
    }
    dir = opendir(path);
    if (dir == NULL) {
        return 0; /* unreadable: nothing in it can be imported either */
    }
    while (result == 0 && (entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) {
            continue;
        }
        if (len + 1 + strlen(entry->d_name) >= size) {
            snprintf(layout->problem, sizeof(layout->problem),
                     "refusing the cpmp package in %s: a path in it is too long", path);
            result = -1;
            break;
        }
        path[len] = '/';
        strcpy(path + len + 1, entry->d_name);
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            result = layout_trusted_tree(path, size, depth + 1, layout);
        } else if (layout_importable(entry->d_name)) {
            result = layout_trusted(path, 0, layout);
        }
        path[len] = '\0';
    }
    closedir(dir);
    return result;
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

    if (layout_join(marker, sizeof(marker), base, shape->pydir) < 0
        || strlen(marker) + sizeof("/cpmp/__init__.py") > sizeof(marker)) {
        return -1;
    }
    strcat(marker, "/cpmp/__init__.py");
    if (access(marker, R_OK) != 0) {
        return -1;
    }
    /* The package and what it can import, then every directory above it. */
    *strrchr(marker, '/') = '\0';
    if (layout_trusted_tree(marker, sizeof(marker), 0, layout) < 0) {
        return -1;
    }
    *strrchr(marker, '/') = '\0';
    if (layout_trusted_ancestors(marker, layout) < 0) {
        return -1;
    }
    if (layout_join(layout->pydir, sizeof(layout->pydir), base, shape->pydir) < 0
        || layout_join(layout->python, sizeof(layout->python), base, shape->python) < 0
        || layout_join(layout->preload, sizeof(layout->preload), base, shape->preload) < 0) {
        return -1;
    }
    return 0;
}

int
layout_dirname(const char *path, char *out, size_t size)
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

static const char *
layout_base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash == NULL ? path : slash + 1;
}

int
layout_find(const char *self, cpmp_layout *layout)
{
    char dir[4096];
    char base[4096];
    size_t root_len = strlen(CPMP_BUILD_ROOT);

    layout->problem[0] = '\0';
    if (layout_dirname(self, dir, sizeof(dir)) < 0) {
        return -1;
    }

    /* Run from the build directory: use the fresh build, not an older
     * installed copy. */
    if (strncmp(self, CPMP_BUILD_ROOT "/", root_len + 1) == 0
        && layout_try(CPMP_BUILD_ROOT, &build_tree, layout) == 0) {
        return 0;
    }
    /* The preload library sits in the private directory itself, or in a
     * wheel's cpmp/_lib/.  Only the library looks there: two levels above
     * a venv's bin/ is the user's project, whose cpmp/ is not this one. */
    if (strcmp(layout_base_name(self), layout_base_name(CPMP_LAYOUT_PRELOAD)) == 0
        && layout_join(base, sizeof(base), dir, CPMP_LIB_TO_PKGLIB) == 0
        && layout_try(base, &installed, layout) == 0) {
        return 0;
    }
    /* The launcher sits in bindir; relocatable installs keep the relative
     * path from bindir to the private directory (a wheel's: to platlib,
     * as this Python's install scheme or its --user one puts it). */
    if (layout->problem[0] == '\0' && layout_join(base, sizeof(base), dir, CPMP_BIN_TO_PKGLIB) == 0
        && layout_try(base, &installed, layout) == 0) {
        return 0;
    }
    if (layout->problem[0] == '\0' && CPMP_BIN_TO_PKGLIB_USER[0] != '\0'
        && layout_join(base, sizeof(base), dir, CPMP_BIN_TO_PKGLIB_USER) == 0
        && layout_try(base, &installed, layout) == 0) {
        return 0;
    }
    /* A package refused is not replaced by another: say why instead.  (A
     * wheel has no absolute place to fall back to.) */
    return layout->problem[0] == '\0' && CPMP_PKGLIBDIR[0] != '\0'
           ? layout_try(CPMP_PKGLIBDIR, &installed, layout) : -1;
}
