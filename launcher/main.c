/* cpmp: run Python programs whose multiprocessing can send lambdas.
 *
 * `cpmp run ARGS` is `python3 ARGS` with the patch armed before the program
 * starts.  The same binary, started through a link named python3, is that
 * patched interpreter; sys.executable points at the link, so spawn and
 * forkserver children (which re-execute sys.executable) are patched too.
 * Script execution, sys.argv, sys.path[0], tracebacks, exit codes and SIGINT
 * are CPython's own: Py_RunMain() does all of it. */
#include <stdio.h>
#include <string.h>

#include "launcher.h"

#define USAGE                                                                 \
    "usage: cpmp run [CPMP-OPTION...] [PYTHON-OPTION...] "                    \
    "[SCRIPT | -m MODULE | -c CODE | -] [ARG...]\n"                           \
    "       cpmp exec [CPMP-OPTION...] [--] COMMAND [ARG...]\n"              \
    "       cpmp env [CPMP-OPTION...]\n"                                    \
    "       cpmp doctor [--json] [--python PYTHON]... | --cluster ADDRESS\n" \
    "       cpmp kernel install [--user | --prefix DIR] [--name NAME] "        \
    "[--display-name TEXT]\n"                                                \
    "       cpmp kernel uninstall [--user | --prefix DIR] [--name NAME]\n"   \
    "       cpmp help [COMMAND] | --help | --version\n"

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
    "                 for `eval \"$(cpmp env)\"`, and an export line for each\n" \
    "                 cpmp setting (from the options, or already set)\n"   \
    "  doctor         check that everything cpmp needs works, for real, in\n" \
    "                 fresh processes: versions, each multiprocessing binding\n" \
    "                 site, a lambda in a Pool with every start method, and\n" \
    "                 whether the preload library acts in the stock python3\n" \
    "                 (or each --python PYTHON); exit 1 with one line per\n"   \
    "                 problem and its fix; --json for scripts; with\n"       \
    "                 --cluster ADDRESS, the cluster's workers instead\n"    \
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
    "  --cluster ADDRESS  CPMP_CLUSTER=ADDRESS: run every multiprocessing\n" \
    "                 Pool and ProcessPoolExecutor on a Dask cluster: a\n"  \
    "                 scheduler address (tcp://HOST:PORT), or local[:N] for N\n" \
    "                 worker processes here; workers run `cpmp exec --\n"    \
    "                 dask-worker ADDRESS`; needs python3-distributed\n"    \
    "  --disable      CPMP_DISABLE=1: run unpatched (to compare)\n"          \
    "  --python PATH  CPMP_PYTHON=PATH: the python3 `cpmp run` runs (default:\n" \
    "                 the active virtualenv's, else the first on PATH)\n"    \
    "  --quiet        CPMP_QUIET=1: no warning when the patch cannot be\n"   \
    "                 activated\n"                                            \
    "  --trace        CPMP_TRACE=1: each process reports on stderr what it\n" \
    "                 sends by value (kind, name, size) and its totals\n"     \
    "  --trace=FILE   CPMP_TRACE=FILE: the same, appended to FILE\n"          \
    "\n"                                                                      \
    "exit status: the program's own; 2 for a usage error; for exec, 127 when\n" \
    "the command is not found and 126 when it cannot be executed; for doctor,\n" \
    "0 when everything works and 1 when something does not.\n"

/* --- commands --- */

static int main_dispatch(int argc, char **argv);

/* cpmp help [COMMAND]: COMMAND --help, or the whole help. */
static int
main_cmd_help(int argc, char **argv)
{
    char *args[] = {argv[0], NULL, "--help", NULL};

    if (argc > 2 && strcmp(argv[1], "help") == 0 && strcmp(argv[2], "help") != 0) {
        args[1] = argv[2];
        return main_dispatch(3, args);
    }
    fputs(HELP, stdout);
    return 0;
}

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv); /* the whole argv: cpmp NAME ... */
} commands[] = {
    {"run", pymain_cmd_run},
    {"exec", exec_cmd_exec},
    {"env", exec_cmd_env},
    {"doctor", pymain_cmd_tool},
    {"kernel", pymain_cmd_tool},
    {"help", main_cmd_help},
    {"-h", main_cmd_help},
    {"--help", main_cmd_help},
    {"-V", pymain_cmd_version},
    {"--version", pymain_cmd_version},
};

int
main(int argc, char **argv)
{
    if (argc < 1) {
        util_die("started without argv[0]");
    }
    if (strncmp(util_base_name(argv[0]), "python", 6) == 0) {
        return pymain_cmd_python(argc, argv);
    }
    if (argc < 2) {
        fputs(USAGE, stderr);
        return 2;
    }
    return main_dispatch(argc, argv);
}

/* cpmp COMMAND ...: the command's. */
static int
main_dispatch(int argc, char **argv)
{
    size_t i;

    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            return commands[i].run(argc, argv);
        }
    }
    util_die("unknown %s '%s' (see 'cpmp --help')", argv[1][0] == '-' ? "option" : "command",
             argv[1]);
}
