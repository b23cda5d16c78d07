/* Which virtualenv the embedded Python runs in, with its own pyvenv.cfg
 * reader: only one made by the Python cpmp embeds can be used. */
#define PY_SSIZE_T_CLEAN
#include <Python.h> /* PY_MAJOR_VERSION, PY_MINOR_VERSION */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h> /* strcasecmp() for pyvenv.cfg keys */
#include <sys/stat.h>

#include "config.h" /* CPMP_PYTHON_BINDIR */
#include "launcher.h"

/* The directory holding path, absolute, its own symlinks resolved (not
 * path's: a link named venv/bin/cpmp is in venv/bin). */
static int
venv_dir_of(const char *path, char *out)
{
    char dir[PATH_MAX];

    return layout_dirname(path, dir, sizeof(dir)) == 0 && realpath(dir, out) != NULL ? 0 : -1;
}

static int
venv_has_pyvenv_cfg(const char *dir)
{
    char cfg[PATH_MAX];
    struct stat st;

    return snprintf(cfg, sizeof(cfg), "%s/pyvenv.cfg", dir) < (int)sizeof(cfg)
           && stat(cfg, &st) == 0 && S_ISREG(st.st_mode);
}

/* Why the virtualenv at venv cannot be used by the Python cpmp embeds, or
 * NULL when it can: it must be made by that very Python (same version,
 * `home` its bin directory), whose stdlib and extension modules it uses. */
const char *
venv_mismatch(const char *venv, char *why, size_t size)
{
    char cfg[PATH_MAX], line[PATH_MAX + 64], home[PATH_MAX] = "", version[64] = "";
    char real_home[PATH_MAX], real_bindir[PATH_MAX];
    FILE *f;
    int major = 0, minor = 0;

    snprintf(cfg, sizeof(cfg), "%s/pyvenv.cfg", venv);
    f = fopen(cfg, "r");
    if (f == NULL) {
        snprintf(why, size, "cannot read %s: %s", cfg, strerror(errno));
        return why;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        char *eq = strchr(line, '='), *key = line, *value, *end;

        if (eq == NULL) {
            continue;
        }
        *eq = '\0';
        value = eq + 1;
        while (*key == ' ' || *key == '\t') {
            key++;
        }
        for (end = eq; end > key && (end[-1] == ' ' || end[-1] == '\t'); end--) {
            end[-1] = '\0';
        }
        value += strspn(value, " \t");
        value[strcspn(value, "\r\n")] = '\0';
        if (strcasecmp(key, "home") == 0) {
            snprintf(home, sizeof(home), "%s", value);
        } else if (strcasecmp(key, "version") == 0 || strcasecmp(key, "version_info") == 0) {
            snprintf(version, sizeof(version), "%s", value);
        }
    }
    fclose(f);
    if (version[0] != '\0' && (sscanf(version, "%d.%d", &major, &minor) != 2
                               || major != PY_MAJOR_VERSION || minor != PY_MINOR_VERSION)) {
        snprintf(why, size, "it is for Python %s, cpmp run embeds Python %d.%d", version,
                 PY_MAJOR_VERSION, PY_MINOR_VERSION);
        return why;
    }
    if (home[0] == '\0' || realpath(home, real_home) == NULL
        || realpath(CPMP_PYTHON_BINDIR, real_bindir) == NULL
        || strcmp(real_home, real_bindir) != 0) {
        snprintf(why, size, "it was made by the Python in %s, cpmp run embeds the one in %s",
                 home[0] != '\0' ? home : "(no home in pyvenv.cfg)", CPMP_PYTHON_BINDIR);
        return why;
    }
    return NULL;
}

int
venv_of_file(const char *path, char *venv)
{
    char dir[PATH_MAX], parent[PATH_MAX];

    venv[0] = '\0';
    if (venv_dir_of(path, dir) < 0) {
        return -1;
    }
    /* venv/bin/cpmp, as python's getpath looks: parent first. */
    if (layout_dirname(dir, parent, sizeof(parent)) == 0 && venv_has_pyvenv_cfg(parent)) {
        snprintf(venv, PATH_MAX, "%s", parent);
    } else if (venv_has_pyvenv_cfg(dir)) {
        snprintf(venv, PATH_MAX, "%s", dir);
    }
    return venv[0] != '\0' ? 0 : -1;
}

int
venv_locate(const char *argv0, char *venv)
{
    char invoked[PATH_MAX];
    const char *active = getenv(CPMP_ENV_VIRTUAL_ENV);
    int found_other;

    if ((strchr(argv0, '/') != NULL
         ? snprintf(invoked, sizeof(invoked), "%s", argv0) < (int)sizeof(invoked)
         : exec_find_command(argv0, invoked, sizeof(invoked), &found_other) == 0)
        && venv_of_file(invoked, venv) == 0) {
        return 0;
    }
    venv[0] = '\0';
    if (active != NULL && active[0] != '\0' && venv_has_pyvenv_cfg(active)
        && realpath(active, venv) != NULL) {
        return 0;
    }
    venv[0] = '\0';
    return -1;
}

int
venv_find(const char *argv0, int say_why, char *venv)
{
    char why[PATH_MAX + 128];

    if (venv_locate(argv0, venv) < 0) {
        return -1;
    }
    if (venv_mismatch(venv, why, sizeof(why)) != NULL) {
        if (say_why && !flag_on(CPMP_ENV_QUIET)) {
            fprintf(stderr, CPMP_LOG_PREFIX "not using the virtualenv %s: %s "
                    "(run its python under 'cpmp exec' instead)\n", venv, why);
        }
        venv[0] = '\0';
        return -1;
    }
    return 0;
}
