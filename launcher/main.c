/* cpmp: run Python programs whose multiprocessing can send lambdas.
 *
 * `cpmp run ARGS` is `python3 ARGS` with the patch armed before the program
 * starts.  The same binary, started through a link named python3, is that
 * patched interpreter; sys.executable points at the link, so spawn and
 * forkserver children (which re-execute sys.executable) are patched too.
 * Script execution, sys.argv, sys.path[0], tracebacks, exit codes and SIGINT
 * are CPython's own: Py_RunMain() does all of it. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <fcntl.h> /* open() to check a trace file */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h> /* strcasecmp() for pyvenv.cfg keys */
#include <sys/stat.h>
#include <unistd.h>

#include "config.h" /* CPMP_VERSION */
#include "cpmp.h"

#define USAGE                                                                 \
    "usage: cpmp run [CPMP-OPTION...] [PYTHON-OPTION...] "                    \
    "[SCRIPT | -m MODULE | -c CODE | -] [ARG...]\n"                           \
    "       cpmp exec [CPMP-OPTION...] [--] COMMAND [ARG...]\n"              \
    "       cpmp env\n"                                                      \
    "       cpmp doctor [--json] [--python PYTHON]...\n"                     \
    "       cpmp kernel install [--user | --prefix DIR] [--name NAME] "        \
    "[--display-name TEXT]\n"                                                \
    "       cpmp kernel uninstall [--name NAME]\n"                           \
    "       cpmp --help | --version\n"

#define HELP                                                                  \
    USAGE                                                                     \
    "\n"                                                                      \
    "Run a Python program so that multiprocessing can send lambdas, closures,\n" \
    "nested functions and local classes, with every start method, in the\n"   \
    "program and in all of its child processes.  The program is not edited.\n" \
    "\n"                                                                      \
    "commands:\n"                                                             \
    "  run ARGS       run `python3 ARGS` with the patch active; every python3\n" \
    "                 option works as it does for python3\n"                  \
    "  exec CMD ARGS  run any command with libcpmp_preload.so preloaded: every\n" \
    "                 CPython 3.8+ process under it is patched, children too\n" \
    "  env            print the `export LD_PRELOAD=...` line that does the same,\n" \
    "                 for `eval \"$(cpmp env)\"`\n"                            \
    "  doctor         check that everything cpmp needs works, for real, in\n" \
    "                 fresh processes: versions, each multiprocessing binding\n" \
    "                 site, a lambda in a Pool with every start method, and\n" \
    "                 whether the preload library acts in the stock python3\n" \
    "                 (or each --python PYTHON); exit 1 with one line per\n"   \
    "                 problem and its fix; --json for scripts\n"             \
    "  kernel install write a Jupyter kernelspec (default name: cpmp) that\n" \
    "                 runs notebooks under `cpmp run`, for this user (--user),\n" \
    "                 under DIR/share/jupyter (--prefix DIR) or system-wide\n" \
    "  kernel uninstall  remove it again\n"                                  \
    "  -h, --help     show this help and exit\n"                              \
    "  -V, --version  show the versions of cpmp, Python and cloudpickle\n"    \
    "\n"                                                                      \
    "cpmp options (before the program's own; each sets the environment\n"    \
    "variable beside it, so that child processes follow it too):\n"          \
    "  --by-value MOD[,MOD...]  CPMP_BY_VALUE=MOD[,MOD...]\n"                 \
    "                 send these modules' functions and classes by value,\n"  \
    "                 for workers that cannot import them\n"                  \
    "  --disable      CPMP_DISABLE=1: run unpatched (to compare)\n"          \
    "  --quiet        CPMP_QUIET=1: no warning when the patch cannot be\n"   \
    "                 activated\n"                                            \
    "  --trace        CPMP_TRACE=1: each process reports on stderr what it\n" \
    "                 sends by value (kind, name, size) and its totals\n"     \
    "  --trace=FILE   CPMP_TRACE=FILE: the same, appended to FILE\n"          \
    "\n"                                                                      \
    "exit status: the program's own; 2 for a usage error; for exec, 127 when\n" \
    "the command is not found and 126 when it cannot be executed; for doctor,\n" \
    "0 when everything works and 1 when something does not.\n"

/* --- helpers --- */

static void
die(const char *fmt, const char *arg)
{
    fputs(CPMP_LOG_PREFIX, stderr);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(2);
}

static const char *
base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash == NULL ? path : slash + 1;
}

static void
locate(cpmp_layout *layout)
{
    char self[PATH_MAX];

    if (realpath("/proc/self/exe", self) == NULL) {
        die("cannot find my own executable: %s", strerror(errno));
    }
    if (cpmp_find_layout(self, layout) < 0) {
        die("cannot find the cpmp Python package beside %s (broken install?)", self);
    }
}

/* Put in out where execvp would find cmd and return 0, or return -1;
 * *found_other is set when a match exists that is not executable (the
 * shell's 126 case). */
static int
find_command(const char *cmd, char *out, size_t size, int *found_other)
{
    const char *path = getenv("PATH");
    const char *start, *end;
    struct stat st;

    *found_other = 0;
    if (strchr(cmd, '/') != NULL) {
        snprintf(out, size, "%s", cmd);
        return stat(out, &st) == 0 ? 0 : -1;
    }
    for (start = path != NULL ? path : "/usr/local/bin:/usr/bin:/bin"; ; start = end + 1) {
        size_t len;

        end = strchr(start, ':');
        len = end != NULL ? (size_t)(end - start) : strlen(start);
        if ((int)len + 2 + (int)strlen(cmd) < (int)size) {
            snprintf(out, size, "%.*s/%s", (int)len, len > 0 ? start : ".", cmd);
            if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
                if (access(out, X_OK) == 0) {
                    return 0;
                }
                *found_other = 1;
            }
        }
        if (end == NULL) {
            return -1;
        }
    }
}

/* --- cpmp options --- */

/* Whether s is a dotted Python module name (non-ASCII bytes are allowed:
 * identifiers may be Unicode). */
static int
is_module_name(const char *s, size_t len)
{
    size_t i;
    int start = 1;

    if (len == 0) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '.') {
            if (start) {
                return 0;
            }
            start = 1;
        } else if (c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
                   || (!start && c >= '0' && c <= '9')) {
            start = 0;
        } else {
            return 0;
        }
    }
    return !start;
}

/* Exit 2 unless value is a comma-separated list of module names. */
static void
check_modules(const char *what, const char *value)
{
    const char *item = value, *comma;

    do {
        comma = strchr(item, ',');
        size_t len = comma != NULL ? (size_t)(comma - item) : strlen(item);

        if (!is_module_name(item, len)) {
            fprintf(stderr, CPMP_LOG_PREFIX "%s: '%.*s' is not a module name\n", what, (int)len, item);
            exit(2);
        }
        item = comma + 1;
    } while (comma != NULL);
}

static void
set_env(const char *name, const char *value)
{
    if (setenv(name, value, 1) != 0) {
        die("cannot set the environment: %s", strerror(errno));
    }
}

/* Exit 2 unless CPMP_TRACE's value can be used: 0, 1 or a file that can
 * be appended to (created if need be).  Returns the value to export: a
 * relative path made absolute, since children may change directory. */
static char *
check_trace(const char *what, const char *value)
{
    char cwd[PATH_MAX];
    char *path;
    int fd;

    if (value[0] == '\0' || strcmp(value, "0") == 0 || strcmp(value, "1") == 0) {
        return strdup(value);
    }
    fd = open(value, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, CPMP_LOG_PREFIX "%s: cannot write to '%s': %s\n", what, value, strerror(errno));
        exit(2);
    }
    close(fd);
    if (value[0] == '/') {
        return strdup(value);
    }
    if (getcwd(cwd, sizeof(cwd)) == NULL) {
        die("cannot find the current directory: %s", strerror(errno));
    }
    path = malloc(strlen(cwd) + strlen(value) + 2);
    if (path != NULL) {
        sprintf(path, "%s/%s", cwd, value);
    }
    return path;
}

static void
set_trace(const char *what, const char *value)
{
    char *checked = check_trace(what, value);

    if (checked == NULL) {
        die("%s", strerror(ENOMEM));
    }
    set_env(CPMP_ENV_TRACE, checked);
    free(checked);
}

static void
add_by_value(const char *modules)
{
    const char *old = getenv(CPMP_ENV_BY_VALUE);
    char *joined;

    check_modules("--by-value", modules);
    if (old == NULL || old[0] == '\0') {
        set_env(CPMP_ENV_BY_VALUE, modules);
        return;
    }
    joined = malloc(strlen(old) + strlen(modules) + 2);
    if (joined == NULL) {
        die("%s", strerror(ENOMEM));
    }
    sprintf(joined, "%s,%s", old, modules);
    set_env(CPMP_ENV_BY_VALUE, joined);
    free(joined);
}

/* Consume cpmp's own options at the front of argv (the arguments after
 * the command name); returns how many were consumed.  They become
 * environment variables, so children and preloaded processes follow. */
static int
parse_options(int argc, char **argv)
{
    const char *env = getenv(CPMP_ENV_BY_VALUE);
    int i = 0;

    if (env != NULL && env[0] != '\0') {
        check_modules(CPMP_ENV_BY_VALUE, env);
    }
    env = getenv(CPMP_ENV_TRACE);
    if (env != NULL) {
        set_trace(CPMP_ENV_TRACE, env);
    }
    while (i < argc) {
        const char *arg = argv[i];

        if (strcmp(arg, "--disable") == 0) {
            set_env(CPMP_ENV_DISABLE, "1");
        } else if (strcmp(arg, "--quiet") == 0) {
            set_env(CPMP_ENV_QUIET, "1");
        } else if (strcmp(arg, "--trace") == 0) {
            set_env(CPMP_ENV_TRACE, "1");
        } else if (strncmp(arg, "--trace=", 8) == 0) {
            if (arg[8] == '\0') {
                die("%s", "--trace=FILE needs a file name (see 'cpmp --help')");
            }
            set_trace("--trace", arg + 8);
        } else if (strncmp(arg, "--by-value=", 11) == 0) {
            add_by_value(arg + 11);
        } else if (strcmp(arg, "--by-value") == 0) {
            if (i + 1 >= argc) {
                die("%s", "--by-value needs a module name (see 'cpmp --help')");
            }
            add_by_value(argv[++i]);
        } else {
            break;
        }
        i++;
    }
    return i;
}

/* --- virtualenvs --- */

/* The directory holding path, absolute, its own symlinks resolved (not
 * path's: a link named venv/bin/cpmp is in venv/bin). */
static int
dir_of(const char *path, char *out)
{
    char dir[PATH_MAX];

    return cpmp_dirname(path, dir, sizeof(dir)) == 0 && realpath(dir, out) != NULL ? 0 : -1;
}

static int
has_pyvenv_cfg(const char *dir)
{
    char cfg[PATH_MAX];
    struct stat st;

    return snprintf(cfg, sizeof(cfg), "%s/pyvenv.cfg", dir) < (int)sizeof(cfg)
           && stat(cfg, &st) == 0 && S_ISREG(st.st_mode);
}

/* Why the virtualenv at venv cannot be used by the Python cpmp embeds, or
 * NULL when it can: it must be made by that very Python (same version,
 * `home` its bin directory), whose stdlib and extension modules it uses. */
static const char *
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

/* The virtualenv `cpmp run` runs in, as that venv's python would: the one
 * whose bin directory cpmp was started from (a link or an install there),
 * else the activated one ($VIRTUAL_ENV).  Fills in venv and returns 0, or
 * returns -1 for none.  say_why: print why a venv found cannot be used. */
static int
find_venv(const char *argv0, int say_why, char *venv)
{
    char invoked[PATH_MAX], dir[PATH_MAX], why[PATH_MAX + 128];
    const char *active = getenv(CPMP_ENV_VIRTUAL_ENV);
    int found_other;

    venv[0] = '\0';
    if ((strchr(argv0, '/') != NULL
         ? snprintf(invoked, sizeof(invoked), "%s", argv0) < (int)sizeof(invoked)
         : find_command(argv0, invoked, sizeof(invoked), &found_other) == 0)
        && dir_of(invoked, dir) == 0) {
        /* venv/bin/cpmp, as python's getpath looks: parent first. */
        char parent[PATH_MAX];

        if (cpmp_dirname(dir, parent, sizeof(parent)) == 0 && has_pyvenv_cfg(parent)) {
            snprintf(venv, PATH_MAX, "%s", parent);
        } else if (has_pyvenv_cfg(dir)) {
            snprintf(venv, PATH_MAX, "%s", dir);
        }
    }
    if (venv[0] == '\0' && active != NULL && active[0] != '\0' && has_pyvenv_cfg(active)) {
        if (realpath(active, venv) == NULL) {
            venv[0] = '\0';
        }
    }
    if (venv[0] == '\0') {
        return -1;
    }
    if (venv_mismatch(venv, why, sizeof(why)) != NULL) {
        if (say_why && !cpmp_env_flag(CPMP_ENV_QUIET)) {
            fprintf(stderr, CPMP_LOG_PREFIX "not using the virtualenv %s: %s "
                    "(run its python under 'cpmp exec' instead)\n", venv, why);
        }
        venv[0] = '\0';
        return -1;
    }
    return 0;
}

/* --- python --- */

static void
exit_if_error(PyStatus status, PyConfig *config)
{
    if (PyStatus_Exception(status)) {
        PyConfig_Clear(config);
        if (PyStatus_IsExit(status)) {
            exit(status.exitcode);
        }
        Py_ExitStatusException(status);
    }
}

/* PyRun_String's flags are a PyCompilerFlags *, which cpmp.h cannot name. */
static PyObject *
run_string(const char *code, int start, PyObject *globals, PyObject *locals, void *flags)
{
    return PyRun_StringFlags(code, start, globals, locals, flags);
}

static const cpmp_pyapi pyapi = {
    PyDict_New,
    PyDict_SetItemString,
    PyEval_GetBuiltins,
    PyUnicode_DecodeFSDefault,
    run_string,
    PyErr_Fetch,
    PyErr_Clear,
    PyObject_Str,
    PyUnicode_AsUTF8,
    Py_DecRef,
};

/* The preload library stays out of a process that exports this: here the
 * launcher arms the patch itself. */
const char cpmp_launcher_marker[] = "cpmp launcher " CPMP_VERSION;

/* In a virtualenv, the interpreter starts as the venv's python would:
 * Python finds the venv (sys.prefix, site-packages, pyvenv.cfg's
 * include-system-site-packages) from where its executable is.  Then
 * sys.executable becomes the python-mode link, and $VIRTUAL_ENV tells the
 * children started through it which venv they run in. */
static void
use_venv(const char *venv, PyConfig *config, char *venv_python)
{
    const char *names[] = {CPMP_PYTHON_NAME, "python", NULL};
    const char **name;
    PyStatus status;

    for (name = names; *name != NULL; name++) {
        snprintf(venv_python, PATH_MAX, "%s/bin/%s", venv, *name);
        if (access(venv_python, X_OK) == 0) {
            break;
        }
    }
    if (*name == NULL) {
        snprintf(venv_python, PATH_MAX, "%s/bin/" CPMP_PYTHON_NAME, venv);
    }
    status = PyConfig_SetBytesString(config, &config->executable, venv_python);
    exit_if_error(status, config);
    set_env(CPMP_ENV_VIRTUAL_ENV, venv);
}

/* Let the armed package say whether a python3 flag hides cloudpickle (a
 * call, not code to compile: this runs at every start). */
static void
warn_unreachable(void)
{
    /* Both borrowed; no package when arming failed (and said so). */
    PyObject *cpmp = PyDict_GetItemString(PyImport_GetModuleDict(), "cpmp");
    PyObject *result;

    if (cpmp == NULL) {
        return;
    }
    result = PyObject_CallMethod(cpmp, "_warn_unreachable", NULL);
    if (result == NULL) {
        PyErr_Clear();
    }
    Py_XDECREF(result);
}

/* What pymain_run does besides running python3's command line. */
enum {
    PYMAIN_PLAIN,   /* cpmp's own housekeeping (--version, doctor) */
    PYMAIN_PATCHED, /* the python-mode link: a patched interpreter */
    PYMAIN_RUN,     /* cpmp run: patched, and says so when a python3 flag
                       hides cloudpickle (once, not in every child) */
};

/* Run argv as python3 would, with sys.executable set to the python-mode
 * link; venv is the virtualenv to run in, or "". */
static int
pymain_run(const cpmp_layout *layout, int argc, char **argv, int mode, const char *venv)
{
    PyConfig config;
    PyStatus status;
    char venv_python[PATH_MAX];

    PyConfig_InitPythonConfig(&config);
    status = PyConfig_SetBytesArgv(&config, argc, argv);
    exit_if_error(status, &config);
    if (venv[0] != '\0') {
        use_venv(venv, &config, venv_python);
    } else {
        status = PyConfig_SetBytesString(&config, &config.executable, layout->python);
        exit_if_error(status, &config);
    }
    /* Our own program name, not argv[0] (which is "cpmp" for `cpmp run`). */
    status = PyConfig_SetBytesString(&config, &config.program_name, layout->python);
    exit_if_error(status, &config);
    status = Py_InitializeFromConfig(&config);
    exit_if_error(status, &config);
    PyConfig_Clear(&config);
    if (venv[0] != '\0') {
        PyObject *executable = PyUnicode_DecodeFSDefault(layout->python);

        if (executable == NULL || PySys_SetObject("executable", executable) < 0) {
            PyErr_Print();
            exit(1);
        }
        Py_DECREF(executable);
    }

    if (mode != PYMAIN_PLAIN && !cpmp_env_flag(CPMP_ENV_DISABLE)) {
        cpmp_arm(&pyapi, layout->pydir);
        if (mode == PYMAIN_RUN && !cpmp_env_flag(CPMP_ENV_QUIET)) {
            warn_unreachable();
        }
    }
    return Py_RunMain();
}

/* --- commands --- */

static int
cmd_version(const cpmp_layout *layout, char *argv0)
{
    char *argv[] = {argv0, "-I", "-c",
                    "import sys\n"
                    "print('cpmp " CPMP_VERSION "')\n"
                    "print('Python %s (%s)' % (sys.version.split()[0], sys.prefix))\n"
                    "try:\n"
                    "    import cloudpickle\n"
                    "    print('cloudpickle', cloudpickle.__version__)\n"
                    "except ImportError:\n"
                    "    print('cloudpickle not installed "
                    "(Debian: apt-get install python3-cloudpickle)')\n",
                    NULL};

    return pymain_run(layout, (int)(sizeof(argv) / sizeof(argv[0])) - 1, argv, PYMAIN_PLAIN, "");
}

/* LD_PRELOAD with the library first and no other copy of it (from this
 * or another cpmp), keeping whatever else the user preloads.  Returns a
 * malloc'ed string. */
static char *
preload_value(const cpmp_layout *layout)
{
    const char *old = getenv("LD_PRELOAD");
    const char *first = CPMP_SANITIZER_PRELOAD;
    char *copy = strdup(old != NULL ? old : "");
    size_t size = strlen(first) + strlen(layout->preload) + (old != NULL ? strlen(old) : 0) + 3;
    char *value = malloc(size);
    char *entry, *save = NULL;

    if (copy == NULL || value == NULL) {
        die("%s", strerror(ENOMEM));
    }
    /* A sanitized build's library needs its runtimes loaded before it. */
    snprintf(value, size, "%s%s%s", first, first[0] != '\0' ? ":" : "", layout->preload);
    /* ld.so separates entries with spaces or colons. */
    for (entry = strtok_r(copy, " :", &save); entry != NULL; entry = strtok_r(NULL, " :", &save)) {
        if (strcmp(base_name(entry), "libcpmp_preload.so") == 0
            || (first[0] != '\0' && strstr(first, entry) != NULL)) {
            continue;
        }
        strcat(value, ":");
        strcat(value, entry);
    }
    free(copy);
    return value;
}

static void
require_preload(const cpmp_layout *layout)
{
    if (access(layout->preload, R_OK) != 0) {
        die("cannot find %s (broken install?)", layout->preload);
    }
}

static int
cmd_exec(const cpmp_layout *layout, int argc, char **argv)
{
    char resolved[PATH_MAX];
    struct stat st;
    int found_other;
    char *value;
    int used = parse_options(argc, argv);

    argc -= used;
    argv += used;
    if (argc > 0 && strcmp(argv[0], "--") == 0) {
        argc--;
        argv++;
    }
    if (argc < 1) {
        die("%s", "exec needs a command (see 'cpmp --help')");
    }
    require_preload(layout);
    if (find_command(argv[0], resolved, sizeof(resolved), &found_other) < 0) {
        fprintf(stderr, CPMP_LOG_PREFIX "%s: %s\n", argv[0],
                found_other ? "Permission denied" : "command not found");
        return found_other ? 126 : 127;
    }
    if (stat(resolved, &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID)) != 0) {
        fprintf(stderr, CPMP_LOG_PREFIX "%s is set-user/group-ID: the dynamic loader "
                "ignores LD_PRELOAD for it, so it runs unpatched\n", argv[0]);
    }
    value = preload_value(layout);
    if (setenv("LD_PRELOAD", value, 1) != 0) {
        die("cannot set LD_PRELOAD: %s", strerror(errno));
    }
    free(value);
    execvp(argv[0], argv);
    fprintf(stderr, CPMP_LOG_PREFIX "%s: %s\n", argv[0], strerror(errno));
    return errno == ENOENT ? 127 : 126;
}

/* Print value as one shell word in single quotes. */
static void
print_quoted(const char *value)
{
    putchar('\'');
    for (; *value != '\0'; value++) {
        if (*value == '\'') {
            fputs("'\\''", stdout);
        } else {
            putchar(*value);
        }
    }
    putchar('\'');
}

static int
cmd_env(const cpmp_layout *layout, int argc)
{
    char *value;

    if (argc > 0) {
        die("%s", "env takes no arguments (see 'cpmp --help')");
    }
    require_preload(layout);
    value = preload_value(layout);
    fputs("export LD_PRELOAD=", stdout);
    print_quoted(value);
    putchar('\n');
    free(value);
    return 0;
}

/* doctor and kernel are Python (cpmp/_doctor.py, cpmp/_kernel.py), run by
 * the embedded interpreter, unpatched, in the user's environment and
 * virtualenv: what they see is what `cpmp run` sees.  Their main() gets the
 * launcher, the package directory, the python3 link and the preload
 * library, then the arguments after the command. */
static int
run_tool(const cpmp_layout *layout, const char *module, int argc, char **argv)
{
    char self[PATH_MAX], venv[PATH_MAX], code[256];
    char **args = calloc((size_t)argc + 8, sizeof(char *));
    int n = 0, i;

    if (args == NULL) {
        die("%s", strerror(ENOMEM));
    }
    if (realpath("/proc/self/exe", self) == NULL) {
        die("cannot find my own executable: %s", strerror(errno));
    }
    snprintf(code, sizeof(code),
             "import sys\n"
             "sys.path.insert(0, sys.argv[2])\n"
             "from cpmp import %s\n"
             "sys.exit(%s.main(sys.argv[1:]))\n", module, module);
    args[n++] = argv[0];
    args[n++] = "-c";
    args[n++] = code;
    args[n++] = self;
    args[n++] = (char *)layout->pydir;
    args[n++] = (char *)layout->python;
    args[n++] = (char *)layout->preload;
    for (i = 2; i < argc; i++) {
        args[n++] = argv[i];
    }
    find_venv(argv[0], 1, venv);
    return pymain_run(layout, n, args, PYMAIN_PLAIN, venv);
}

static int
cpmp_main(int argc, char **argv)
{
    cpmp_layout layout;
    char venv[PATH_MAX];
    const char *cmd;

    if (argc < 1) {
        die("%s", "started without argv[0]");
    }
    if (strncmp(base_name(argv[0]), "python", 6) == 0) {
        locate(&layout);
        find_venv(argv[0], 0, venv);
        return pymain_run(&layout, argc, argv, PYMAIN_PATCHED, venv);
    }
    if (argc < 2) {
        fputs(USAGE, stderr);
        return 2;
    }
    cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(HELP, stdout);
        return 0;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        locate(&layout);
        return cmd_version(&layout, argv[0]);
    }
    if (strcmp(cmd, "run") == 0) {
        int used = parse_options(argc - 2, argv + 2);

        locate(&layout);
        find_venv(argv[0], 1, venv);
        /* The word before the program's arguments becomes the interpreter's
         * argv[0], which Python replaces. */
        argv[1 + used] = argv[0];
        return pymain_run(&layout, argc - 1 - used, argv + 1 + used, PYMAIN_RUN, venv);
    }
    if (strcmp(cmd, "exec") == 0) {
        locate(&layout);
        return cmd_exec(&layout, argc - 2, argv + 2);
    }
    if (strcmp(cmd, "doctor") == 0 || strcmp(cmd, "kernel") == 0) {
        locate(&layout);
        return run_tool(&layout, cmd[0] == 'd' ? "_doctor" : "_kernel", argc, argv);
    }
    if (strcmp(cmd, "env") == 0) {
        locate(&layout);
        return cmd_env(&layout, argc - 2);
    }
    if (cmd[0] == '-') {
        die("unknown option '%s' (see 'cpmp --help')", cmd);
    }
    die("unknown command '%s' (see 'cpmp --help')", cmd);
    return 2;
}

int
main(int argc, char **argv)
{
    return cpmp_main(argc, argv);
}
