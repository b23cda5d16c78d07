/* Shared by the launcher and the preload library: environment variable
 * names and the log prefix (from config.h), where the pieces of an
 * installation live, and how the patch is armed.  (proxychains-ng keeps
 * the same things in its common.h.)  Each function is named for the file that
 * defines it: layout_ (layout.c), flag_ (flag.c), arm_ (arm.c); neither
 * binary exports them (meson.build). */
#ifndef CPMP_H
#define CPMP_H

#include <stddef.h>

/* CPMP_VERSION, CPMP_LOG_PREFIX and the CPMP_ENV_* names of the settings:
 * Meson writes them, and the same into cpmp/_config.py for Python. */
#include "config.h"
/* Set by a virtualenv's activate script; cpmp run sets it too when started
 * from a virtualenv's bin directory, so its children run in that venv. */
#define CPMP_ENV_VIRTUAL_ENV "VIRTUAL_ENV"

/* The name the launcher answers to as a plain Python interpreter.  The
 * launcher sets sys.executable to a link of this name, so that spawn and
 * forkserver, which re-execute sys.executable, start a patched interpreter. */
#define CPMP_PYTHON_NAME "python3"

/* Where the parts of cpmp are, for one way of running it (installed, or
 * straight from a build directory). */
typedef struct {
    char pydir[4096];   /* holds the cpmp package (sys.path-style entry) */
    char python[4096];  /* the python-mode link to the launcher */
    char preload[4096]; /* libcpmp_preload.so */
    char problem[4200]; /* why none was found, or "" */
} cpmp_layout;

/* Fill in *layout for the cpmp whose launcher or library is the file at
 * self (an absolute path).  Returns 0, or -1 when no layout matches, or
 * when the package found could be changed by someone else than root or
 * this user (then layout->problem says so: its code would run in every
 * process). */
int layout_find(const char *self, cpmp_layout *layout);

/* Copy the directory part of path (everything before its last slash, "/"
 * for a file at the root) to out; -1 when path has no slash or it does not
 * fit. */
int layout_dirname(const char *path, char *out, size_t size);

/* 1 for 1/true/yes/on, 0 for 0/false/no/off or "" or NULL (unset), in any
 * ASCII case; -1 for anything else (CPMP_BOOLEAN_VALUES lists them).  The
 * rule of parse_bool in cpmp/_settings.py: the two must agree. */
int flag_parse_bool(const char *value);

/* Whether the boolean environment variable is on; a value that is not a
 * boolean counts as off (the launcher refuses it before; a preloaded
 * process warns from Python and ignores it). */
int flag_on(const char *name);

/* The few C API functions that arming the patch needs.  The launcher links
 * libpython and fills this in directly; the preload library finds them in
 * the process with dlsym, so it depends on no particular Python. */
typedef struct _object PyObject;

typedef struct {
    PyObject *(*Dict_New)(void);
    int (*Dict_SetItemString)(PyObject *dict, const char *key, PyObject *item);
    PyObject *(*Eval_GetBuiltins)(void);
    PyObject *(*Unicode_DecodeFSDefault)(const char *s);
    /* PyRun_StringFlags with NULL flags */
    PyObject *(*Run_String)(const char *code, int start, PyObject *globals,
                            PyObject *locals, void *flags);
    void (*Err_Fetch)(PyObject **type, PyObject **value, PyObject **tb);
    void (*Err_Clear)(void);
    PyObject *(*Object_Str)(PyObject *obj);
    const char *(*Unicode_AsUTF8)(PyObject *obj);
    void (*DecRef)(PyObject *obj);
} cpmp_pyapi;

/* Arm the patch in the running interpreter (GIL held): import the cpmp
 * package from pydir and activate it.  Never fatal: on failure it prints
 * one warning line (unless CPMP_QUIET is set), clears the error, and the
 * program runs unpatched. */
void arm_patch(const cpmp_pyapi *api, const char *pydir);

/* Print the one warning line for a failure outside Python. */
void arm_warn_unpatched(const char *why);

/* The name the launcher and the preload library load the package under:
 * never one the program's own modules could have (a module of the
 * program's named cpmp stays the program's; `import cpmp` finds this
 * package only when the program has none). */
#define CPMP_MODULE "__cpmp__"

#endif
