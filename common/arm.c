/* Arming the patch in a running interpreter: the one piece of Python-facing
 * C that the launcher and the preload library share. */
#include "cpmp.h"

#include <stdio.h>

#include "pycode.h" /* CPMP_BOOT_CODE: common/boot.py, compiled in by Meson */

#define PY_FILE_INPUT 257 /* Py_file_input, the same in every CPython 3 */

void
arm_warn_unpatched(const char *why)
{
    if (!flag_on(CPMP_ENV_QUIET)) {
        fprintf(stderr, CPMP_LOG_PREFIX "not active, running unpatched: %s\n", why);
    }
}

/* Report the pending Python exception in one line; leave none pending. */
static void
arm_warn_python_error(const cpmp_pyapi *api)
{
    PyObject *type = NULL, *value = NULL, *tb = NULL, *text = NULL;
    const char *message = NULL;

    api->Err_Fetch(&type, &value, &tb);
    if (value != NULL) {
        text = api->Object_Str(value);
    }
    if (text != NULL) {
        message = api->Unicode_AsUTF8(text);
    }
    arm_warn_unpatched(message != NULL ? message : "unknown error");
    api->Err_Clear();
    api->DecRef(text);
    api->DecRef(type);
    api->DecRef(value);
    api->DecRef(tb);
}

void
arm_patch(const cpmp_pyapi *api, const char *pydir)
{
    PyObject *ns = api->Dict_New();
    PyObject *dir = api->Unicode_DecodeFSDefault(pydir);
    PyObject *module = api->Unicode_DecodeFSDefault(CPMP_MODULE);
    PyObject *result = NULL;

    /* What boot.py reads from its namespace. */
    if (ns != NULL && dir != NULL && module != NULL
        && api->Dict_SetItemString(ns, "__builtins__", api->Eval_GetBuiltins()) == 0
        && api->Dict_SetItemString(ns, "_cpmp_dir", dir) == 0
        && api->Dict_SetItemString(ns, "_cpmp_module", module) == 0) {
        result = api->Run_String(CPMP_BOOT_CODE, PY_FILE_INPUT, ns, ns, NULL);
    }
    if (result == NULL) {
        arm_warn_python_error(api);
    }
    api->DecRef(result);
    api->DecRef(module);
    api->DecRef(dir);
    api->DecRef(ns);
}
