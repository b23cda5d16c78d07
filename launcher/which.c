/* Which python3 `cpmp run` runs: the one the user gets by typing python3
 * (issue 19: with pyenv's python3 first on PATH, `cpmp run` ran Debian's,
 * and an `import` that worked under python3 failed under cpmp).  In
 * order:
 *   1. --python PATH, or CPMP_PYTHON;
 *   2. the virtualenv cpmp was started from, or the active one;
 *   3. the first python3 on PATH (pyenv's shims are python3s too);
 *   4. the Python cpmp embeds, when there is none.
 * When that is the Python cpmp embeds (the same file, links resolved), or
 * cpmp's own python-mode link, it is embedded, in its virtualenv if it is
 * a venv's, as before.  Any other is run with the preload library, as
 * `cpmp exec` runs it: the same argv, exit status and signals, since the
 * exec replaces cpmp. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h" /* CPMP_PYTHON_EXECUTABLE */
#include "launcher.h"

/* Whether path is the interpreter cpmp embeds, or cpmp itself. */
static int
which_is_embedded(const char *path)
{
    char real[PATH_MAX], embedded[PATH_MAX];

    if (realpath(path, real) == NULL) {
        return 0;
    }
    return strcmp(real, util_self_exe()) == 0
           || (realpath(CPMP_PYTHON_EXECUTABLE, embedded) != NULL && strcmp(real, embedded) == 0);
}

/* CPMP_PYTHON (which --python sets) as a file to run, or die: it must be
 * an executable file named python-something (a Python's name, a venv's,
 * pyenv's shim), so that a slip like --python /bin/ls is caught here and
 * not run with the program's arguments. */
static void
which_wanted(const char *wanted, char *out)
{
    struct stat st;
    int found_other;

    if (strncmp(util_base_name(wanted), "python", 6) != 0) {
        util_die(CPMP_ENV_PYTHON ": '%s' is not a Python interpreter (its name does not start "
                 "with 'python')", wanted);
    }
    if (exec_find_command(wanted, out, PATH_MAX, &found_other) < 0) {
        util_die(CPMP_ENV_PYTHON ": '%s': %s", wanted,
                 found_other ? "not executable" : "no such file or command");
    }
    if (stat(out, &st) != 0 || !S_ISREG(st.st_mode) || access(out, X_OK) != 0) {
        util_die(CPMP_ENV_PYTHON ": '%s' is not an executable file", wanted);
    }
}

/* The python of the virtualenv at venv, into out. */
static void
which_venv_python(const char *venv, char *out)
{
    const char *names[] = {"python3", "python", NULL};
    const char **name;

    for (name = names; *name != NULL; name++) {
        snprintf(out, PATH_MAX, "%s/bin/%s", venv, *name);
        if (access(out, X_OK) == 0) {
            return;
        }
    }
    snprintf(out, PATH_MAX, "%s/bin/python3", venv);
}

int
which_python(const char *argv0, char *venv, char *other)
{
    const char *wanted = getenv(CPMP_ENV_PYTHON);
    char why[PATH_MAX + 128];
    int found_other;

    venv[0] = other[0] = '\0';
    if (wanted != NULL && wanted[0] != '\0') {
        which_wanted(wanted, other);
    } else if (venv_locate(argv0, venv) == 0) {
        if (venv_mismatch(venv, why, sizeof(why)) == NULL) {
            return WHICH_EMBEDDED;
        }
        which_venv_python(venv, other);
        venv[0] = '\0';
        return WHICH_OTHER;
    } else if (exec_find_command("python3", other, PATH_MAX, &found_other) < 0) {
        other[0] = '\0';
        return WHICH_EMBEDDED;
    }
    if (!which_is_embedded(other)) {
        return WHICH_OTHER;
    }
    /* The embedded Python itself, perhaps as a venv's python. */
    if (venv_of_file(other, venv) < 0 || venv_mismatch(venv, why, sizeof(why)) != NULL) {
        venv[0] = '\0';
    }
    other[0] = '\0';
    return WHICH_EMBEDDED;
}
