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
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h" /* CPMP_VERSION */
#include "cpmp.h"

#define USAGE                                                                 \
    "usage: cpmp run [PYTHON-OPTION...] [SCRIPT | -m MODULE | -c CODE | -] " \
    "[ARG...]\n"                                                              \
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
    "  -h, --help     show this help and exit\n"                              \
    "  -V, --version  show the versions of cpmp, Python and cloudpickle\n"    \
    "\n"                                                                      \
    "environment:\n"                                                          \
    "  CPMP_DISABLE=1 run the program unpatched (to compare)\n"               \
    "  CPMP_QUIET=1   no warning when the patch cannot be activated\n"        \
    "\n"                                                                      \
    "exit status: the program's own; 2 for a usage error.\n"

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

/* Run argv as python3 would, with sys.executable set to the python-mode
 * link.  `activate` is false for cpmp's own housekeeping (--version). */
static int
pymain_run(const cpmp_layout *layout, int argc, char **argv, int activate)
{
    PyConfig config;
    PyStatus status;

    PyConfig_InitPythonConfig(&config);
    status = PyConfig_SetBytesArgv(&config, argc, argv);
    exit_if_error(status, &config);
    status = PyConfig_SetBytesString(&config, &config.executable, layout->python);
    exit_if_error(status, &config);
    /* Our own program name, not argv[0] (which is "cpmp" for `cpmp run`). */
    status = PyConfig_SetBytesString(&config, &config.program_name, layout->python);
    exit_if_error(status, &config);
    status = Py_InitializeFromConfig(&config);
    exit_if_error(status, &config);
    PyConfig_Clear(&config);

    if (activate && !cpmp_env_flag(CPMP_ENV_DISABLE)) {
        cpmp_arm(&pyapi, layout->pydir);
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

    return pymain_run(layout, (int)(sizeof(argv) / sizeof(argv[0])) - 1, argv, 0);
}

static int
cpmp_main(int argc, char **argv)
{
    cpmp_layout layout;
    const char *cmd;

    if (argc < 1) {
        die("%s", "started without argv[0]");
    }
    if (strncmp(base_name(argv[0]), "python", 6) == 0) {
        locate(&layout);
        return pymain_run(&layout, argc, argv, 1);
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
        locate(&layout);
        /* argv[1] becomes the interpreter's argv[0], which Python replaces. */
        argv[1] = argv[0];
        return pymain_run(&layout, argc - 1, argv + 1, 1);
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
