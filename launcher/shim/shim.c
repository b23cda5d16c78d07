/* The python3 of a wheel (a pip install), which can hold no link to the
 * launcher.  It is sys.executable of every cpmp process there, and runs
 * the launcher with the very same argv: argv[0], this file's name, makes
 * the launcher a patched python3, as the link of an installed tree does.
 * The launcher is where pip put it, in the scripts directory of the
 * install scheme that put this file in platlib (cpmp/_lib/ of the
 * package): this Python's own scheme (a venv's, a prefix's) or --user. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* CPMP_LIB_TO_PKGLIB, CPMP_PKGLIB_TO_BIN, CPMP_PKGLIB_TO_BIN_USER */
#include "config.h"

int
main(int argc, char **argv)
{
    const char *const to_bin[] = {CPMP_PKGLIB_TO_BIN, CPMP_PKGLIB_TO_BIN_USER};
    char self[PATH_MAX], launcher[PATH_MAX + 128];
    char *slash;
    size_t i;

    (void)argc;
    if (realpath("/proc/self/exe", self) == NULL || (slash = strrchr(self, '/')) == NULL) {
        fprintf(stderr, CPMP_LOG_PREFIX "cannot find my own executable: %s\n", strerror(errno));
        return 127;
    }
    *slash = '\0';
    for (i = 0; i < sizeof(to_bin) / sizeof(to_bin[0]); i++) {
        if (snprintf(launcher, sizeof(launcher), "%s/%s/%s/cpmp", self, CPMP_LIB_TO_PKGLIB,
                     to_bin[i]) < (int)sizeof(launcher)
            && access(launcher, X_OK) == 0) {
            execv(launcher, argv);
            fprintf(stderr, CPMP_LOG_PREFIX "cannot run %s: %s\n", launcher, strerror(errno));
            return 126;
        }
    }
    fprintf(stderr, CPMP_LOG_PREFIX "cannot find the cpmp launcher from %s (broken install?)\n",
            self);
    return 127;
}
