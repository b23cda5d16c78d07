/* Embedding: python3's command line, run by the embedded interpreter with
 * the patch armed (cpmp run, the python-mode link) or not (cpmp's own
 * tools).  Py_RunMain() does what python3 does; nothing here copies it. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h" /* CPMP_VERSION */
#include "launcher.h"
#include "pycode.h"  /* CPMP_TOOL_CODE, CPMP_VERSION_CODE: tool.py, version.py */

static void
pymain_exit_if_error(PyStatus status, PyConfig *config)
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
pymain_run_string(const char *code, int start, PyObject *globals, PyObject *locals, void *flags)
{
    return PyRun_StringFlags(code, start, globals, locals, flags);
}

static const cpmp_pyapi pyapi = {
    PyDict_New,
    PyDict_SetItemString,
    PyEval_GetBuiltins,
    PyUnicode_DecodeFSDefault,
    pymain_run_string,
    PyErr_Fetch,
    PyErr_Clear,
    PyObject_Str,
    PyUnicode_AsUTF8,
    Py_DecRef,
};

/* The preload library stays out of a process that exports this: here the
 * launcher arms the patch itself.  The one symbol of cpmp's own the
 * launcher exports (meson.build hides the rest). */
const char cpmp_launcher_marker[] __attribute__((__visibility__("default"))) =
    "cpmp launcher " CPMP_VERSION;

/* In a virtualenv, the interpreter starts as the venv's python would:
 * Python finds the venv (sys.prefix, site-packages, pyvenv.cfg's
 * include-system-site-packages) from where its executable is.  Then
 * sys.executable becomes the python-mode link, and $VIRTUAL_ENV tells the
 * children started through it which venv they run in. */
static void
pymain_use_venv(const char *venv, PyConfig *config, char *venv_python)
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
    pymain_exit_if_error(status, config);
    util_set_env(CPMP_ENV_VIRTUAL_ENV, venv);
}

/* Call the armed package's function name: whether a python3 flag hides
 * cloudpickle, what to say at exit (a call, not code to compile: this
 * runs at every start). */
static void
pymain_call_package(const char *name)
{
    /* Both borrowed; no package when arming failed (and said so). */
    PyObject *cpmp = PyDict_GetItemString(PyImport_GetModuleDict(), CPMP_MODULE);
    PyObject *result;

    if (cpmp == NULL) {
        return;
    }
    result = PyObject_CallMethod(cpmp, name, NULL);
    if (result == NULL) {
        PyErr_Clear();
    }
    Py_XDECREF(result);
}

/* Run argv as python3 would, with sys.executable set to the python-mode
 * link; venv is the virtualenv to run in, or "". */
int
pymain_run(const cpmp_layout *layout, int argc, char **argv, int mode, const char *venv)
{
    PyConfig config;
    PyStatus status;
    char venv_python[PATH_MAX];

    PyConfig_InitPythonConfig(&config);
    status = PyConfig_SetBytesArgv(&config, argc, argv);
    pymain_exit_if_error(status, &config);
    if (venv[0] != '\0') {
        pymain_use_venv(venv, &config, venv_python);
    } else {
        status = PyConfig_SetBytesString(&config, &config.executable, layout->python);
        pymain_exit_if_error(status, &config);
        /* sys._base_executable: the interpreter python3 is (venv makes a
         * new environment's python of it), not cpmp's link. */
        status = PyConfig_SetBytesString(&config, &config.base_executable, CPMP_PYTHON_EXECUTABLE);
        pymain_exit_if_error(status, &config);
    }
    /* The name python3's own messages start with ("can't open file",
     * "Unknown option", its usage line): `cpmp run` for cpmp run (issue 19:
     * they read ".../launcher/python3:"), else the python3 link.  With
     * executable set, getpath uses it for nothing else. */
    status = PyConfig_SetBytesString(&config, &config.program_name,
                                     mode == PYMAIN_RUN ? "cpmp run" : layout->python);
    pymain_exit_if_error(status, &config);
    status = Py_InitializeFromConfig(&config);
    pymain_exit_if_error(status, &config);
    PyConfig_Clear(&config);
    if (venv[0] != '\0') {
        PyObject *executable = PyUnicode_DecodeFSDefault(layout->python);

        if (executable == NULL || PySys_SetObject("executable", executable) < 0) {
            PyErr_Print();
            exit(1);
        }
        Py_DECREF(executable);
    }

    if (mode != PYMAIN_PLAIN && !flag_on(CPMP_ENV_DISABLE)) {
        arm_patch(&pyapi, layout->pydir);
        if (mode == PYMAIN_RUN && !flag_on(CPMP_ENV_QUIET)) {
            pymain_call_package("_warn_unreachable");
            if (getenv(CPMP_ENV_BY_VALUE) != NULL) {
                pymain_call_package("_watch_by_value");
            }
        }
    }
    return Py_RunMain();
}

/* --- the commands that run Python --- */

/* The python-mode link: a patched python3. */
int
pymain_cmd_python(int argc, char **argv)
{
    cpmp_layout layout;
    char venv[PATH_MAX];

    util_locate(&layout);
    venv_find(argv[0], 0, venv);
    return pymain_run(&layout, argc, argv, PYMAIN_PATCHED, venv);
}

#define RUN_HELP                                                              \
    "usage: cpmp run [CPMP-OPTION...] [PYTHON-OPTION...] "                    \
    "[SCRIPT | -m MODULE | -c CODE | -] [ARG...]\n"                           \
    "\n"                                                                      \
    "Run the program as `python3 PYTHON-OPTION... SCRIPT ARG...` runs it, with\n" \
    "multiprocessing able to send lambdas, closures and local classes, in it\n" \
    "and in all of its children.  The python3 is the one you would get:\n"   \
    "--python PATH (CPMP_PYTHON), else the active virtualenv's, else the\n"  \
    "first python3 on PATH; the Python cpmp embeds is run embedded, any\n"   \
    "other with the preload library, as 'cpmp exec' runs it.  CPMP-OPTION:\n" \
    "--by-value MOD, --cluster ADDRESS, --disable, --python PATH, --quiet,\n" \
    "--trace[=FILE] (see 'cpmp --help').\n"                                 \
    "PYTHON-OPTION: any of python3's (`python3 --help`).  Everything after\n" \
    "the script, -m MODULE, -c CODE or - is the program's own.\n"

/* Whether this very process already ran `cpmp run` and exec'd other: a
 * python3 on PATH that is a wrapper running `cpmp run` again would exec
 * itself forever (helper-24).  Then the embedded Python runs instead.
 * The mark holds the pid: a child's own `cpmp run` chooses afresh. */
static int
pymain_looping(const char *other)
{
    char mark[PATH_MAX + 32];
    const char *was = getenv("CPMP_RUN_EXECED");

    snprintf(mark, sizeof(mark), "%ld:%s", (long)getpid(), other);
    if (was != NULL && strcmp(was, mark) == 0) {
        unsetenv("CPMP_RUN_EXECED");
        return 1;
    }
    util_set_env("CPMP_RUN_EXECED", mark);
    return 0;
}

int
pymain_cmd_run(int argc, char **argv)
{
    cpmp_layout layout;
    char venv[PATH_MAX], other[PATH_MAX];
    int used = options_parse(argc - 2, argv + 2);

    if (2 + used < argc && (strcmp(argv[2 + used], "-h") == 0
                            || strcmp(argv[2 + used], "--help") == 0)) {
        fputs(RUN_HELP, stdout);
        return 0;
    }
    suggest_check_python_args(argc - 2 - used, argv + 2 + used);
    util_locate(&layout);
    if (which_python(argv[0], venv, other) == WHICH_OTHER && !pymain_looping(other)) {
        argv[1 + used] = other;
        return exec_preloaded(&layout, other, argc - 1 - used, argv + 1 + used);
    }
    /* The word before the program's arguments becomes the interpreter's
     * argv[0]: the python3 link, so that sys.orig_argv re-executes through
     * sys.executable as python3's does (sys.argv[0] Python replaces). */
    argv[1 + used] = layout.python;
    return pymain_run(&layout, argc - 1 - used, argv + 1 + used, PYMAIN_RUN, venv);
}

int
pymain_cmd_version(int argc, char **argv)
{
    cpmp_layout layout;
    char *args[] = {argv[0], "-I", "-c", CPMP_VERSION_CODE, CPMP_VERSION, NULL};

    (void)argc;
    util_locate(&layout);
    return pymain_run(&layout, (int)(sizeof(args) / sizeof(args[0])) - 1, args, PYMAIN_PLAIN, "");
}

/* doctor and kernel are Python (cpmp/tools/_doctor.py, _kernel.py), run by
 * the embedded interpreter, unpatched, in the user's environment and
 * virtualenv: what they see is what `cpmp run` sees -- but never code from
 * the current directory, which `python -c` would put first on sys.path.
 * Their main() gets the launcher, the package directory, the python3 link,
 * the preload library and the python3 `cpmp run` runs through it (or ""
 * when embedded), then the arguments after the command. */
int
pymain_cmd_tool(int argc, char **argv)
{
    cpmp_layout layout;
    char venv[PATH_MAX], other[PATH_MAX];
    const char *module = strcmp(argv[1], "doctor") == 0 ? "tools._doctor" : "tools._kernel";
    char **args = calloc((size_t)argc + 8, sizeof(char *));
    int n = 0, i;

    if (args == NULL) {
        util_die("%s", strerror(ENOMEM));
    }
    util_locate(&layout);
    args[n++] = argv[0];
    args[n++] = "-c";
    args[n++] = CPMP_TOOL_CODE;
    args[n++] = (char *)module;
    args[n++] = (char *)util_self_exe();
    args[n++] = layout.pydir;
    args[n++] = layout.python;
    args[n++] = layout.preload;
    /* What `cpmp run` would run: "" for the embedded Python. */
    which_python(argv[0], venv, other);
    args[n++] = other;
    venv[0] = '\0';
    for (i = 2; i < argc; i++) {
        args[n++] = argv[i];
    }
    /* Quietly: a venv of another Python is no problem any more (cpmp run
     * runs its python), and doctor says what cpmp run runs. */
    venv_find(argv[0], 0, venv);
    return pymain_run(&layout, n, args, PYMAIN_PLAIN, venv);
}
