/* What the launcher's files share: one concern per file (CPython 3.8 split
 * its Modules/main.c the same way).
 *   main.c    the command table and the help text
 *   util.c    util_die(), the environment, where cpmp itself is
 *   options.c cpmp's own options, which become CPMP_* variables
 *   suggest.c options nobody knows: the nearest one that is known
 *   venv.c    which virtualenv the embedded Python runs in
 *   which.c   which python3 `cpmp run` runs: embedded, or preloaded
 *   exec.c    cpmp exec and cpmp env: LD_PRELOAD and PATH
 *   pymain.c  embedding: run python3's command line, armed
 * Every function is named for its file (util_die, options_parse, as
 * CPython's pymain_run_python), a command's entry FILE_cmd_NAME; the
 * executable exports none of them (meson.build). */
#ifndef CPMP_LAUNCHER_H
#define CPMP_LAUNCHER_H

#include <stddef.h>
#include <stdnoreturn.h>

#include "cpmp.h"

/* --- util.c --- */

/* Print "cpmp: " and the message on stderr, and exit 2 (a usage error, or
 * one the launcher cannot go on from). */
noreturn void util_die(const char *fmt, ...)
    __attribute__((__noreturn__, __format__(__printf__, 1, 2)));
void util_set_env(const char *name, const char *value);
/* Add value to the list in variable name (set it when empty or unset). */
void util_append_env(const char *name, char separator, const char *value);
const char *util_base_name(const char *path);
/* The launcher's own executable, resolved once. */
const char *util_self_exe(void);
/* Where the parts of this cpmp are, or die. */
void util_locate(cpmp_layout *layout);

/* --- options.c --- */

/* Consume cpmp's own options at the front of argv (the arguments after
 * the command name); returns how many were consumed. */
int options_parse(int argc, char **argv);

/* --- suggest.c --- */

/* Exit 2 on an option before cpmp run's program that neither cpmp nor
 * python3 knows. */
void suggest_check_python_args(int argc, char **argv);
/* Exit 2 on arg, an option command does not know: naming the nearest of
 * cpmp's options, else with the otherwise text in parentheses. */
noreturn void suggest_unknown(const char *command, const char *arg, const char *otherwise)
    __attribute__((__noreturn__));

/* --- venv.c --- */

/* The virtualenv the embedded Python runs in (fills venv, PATH_MAX bytes,
 * and returns 0), or -1 for none; say_why: say why a venv found is
 * unusable.  As that venv's python would: the one whose bin directory
 * argv0 is in (a link or an install there), else the activated one
 * ($VIRTUAL_ENV). */
int venv_find(const char *argv0, int say_why, char *venv);
/* The same, usable by the embedded Python or not (0), or -1. */
int venv_locate(const char *argv0, char *venv);
/* The virtualenv whose bin directory holds path (0), or -1. */
int venv_of_file(const char *path, char *venv);
/* Why the embedded Python cannot run in venv (why, of size bytes), or
 * NULL when it can. */
const char *venv_mismatch(const char *venv, char *why, size_t size);

/* --- which.c --- */

enum { WHICH_EMBEDDED, WHICH_OTHER };

/* Which python3 `cpmp run` runs: WHICH_EMBEDDED (in venv, PATH_MAX bytes,
 * or none: "") or WHICH_OTHER (its path in other, PATH_MAX bytes). */
int which_python(const char *argv0, char *venv, char *other);

/* --- exec.c --- */

/* Where execvp would find cmd (0), or -1; *found_other: a match exists
 * that is not executable (the shell's 126). */
int exec_find_command(const char *cmd, char *out, size_t size, int *found_other);
/* Run the file resolved (argv[0] as the user named it) with the preload
 * library first in LD_PRELOAD; returns only on failure (127, 126). */
int exec_preloaded(const cpmp_layout *layout, const char *resolved, int argc, char **argv);
int exec_cmd_exec(int argc, char **argv);
int exec_cmd_env(int argc, char **argv);

/* --- pymain.c --- */

/* What pymain_run does besides running python3's command line. */
enum {
    PYMAIN_PLAIN,   /* cpmp's own housekeeping (--version, doctor) */
    PYMAIN_PATCHED, /* the python-mode link: a patched interpreter */
    PYMAIN_RUN,     /* cpmp run: patched, and says so when a python3 flag
                       hides cloudpickle (once, not in every child) */
};

int pymain_run(const cpmp_layout *layout, int argc, char **argv, int mode, const char *venv);
int pymain_cmd_python(int argc, char **argv);
int pymain_cmd_run(int argc, char **argv);
int pymain_cmd_version(int argc, char **argv);
int pymain_cmd_tool(int argc, char **argv);

#endif
