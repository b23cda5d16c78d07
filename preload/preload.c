/* libcpmp_preload.so: arm cpmp's patch in every CPython process it is
 * preloaded into, without linking or interposing libpython.
 *
 * Debian's python3 links libpython statically and CPython >= 3.10 builds
 * with -fno-semantic-interposition, so interposing Py_* functions is
 * unreliable.  Instead the constructor looks the C API up at run time and
 * registers an audit hook (PEP 578, CPython >= 3.8, callable before
 * initialisation).  The cpython.run_* events fire once the interpreter is
 * initialised and site has run, just before the main script, module,
 * command or stdin runs: that is when the patch is armed.
 *
 * In any other process (bash, make, Python 2.7 to 3.7, setuid programs,
 * the cpmp launcher itself) the constructor finds nothing to do and the
 * library stays silent (libfaketime's FT_NOOP idea). */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h> /* getauxval(AT_SECURE): setuid/setgid processes */

#include "cmdline.h"
#include "cpmp.h"
#include "env.h" /* LD_PRELOAD, PYTHONMALLOC, PYTHONDEVMODE */

typedef int (*audit_hook_fn)(const char *event, PyObject *args, void *data);

static int (*add_audit_hook)(audit_hook_fn hook, void *data);
static cpmp_pyapi pyapi;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int armed; /* set once the patch has been armed (or tried) */

/* --- resolving --- */

/* Resolve every symbol, or none: a process missing any of them is not a
 * CPython we act in. */
static int
preload_resolve(void)
{
    struct {
        const char *name;
        void **slot;
    } table[] = {
        {"PySys_AddAuditHook", (void **)&add_audit_hook},
        {"PyDict_New", (void **)&pyapi.Dict_New},
        {"PyDict_SetItemString", (void **)&pyapi.Dict_SetItemString},
        {"PyEval_GetBuiltins", (void **)&pyapi.Eval_GetBuiltins},
        {"PyUnicode_DecodeFSDefault", (void **)&pyapi.Unicode_DecodeFSDefault},
        {"PyRun_StringFlags", (void **)&pyapi.Run_String},
        {"PyErr_Fetch", (void **)&pyapi.Err_Fetch},
        {"PyErr_Clear", (void **)&pyapi.Err_Clear},
        {"PyObject_Str", (void **)&pyapi.Object_Str},
        {"PyUnicode_AsUTF8", (void **)&pyapi.Unicode_AsUTF8},
        {"Py_DecRef", (void **)&pyapi.DecRef},
    };
    size_t i;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        *table[i].slot = dlsym(RTLD_DEFAULT, table[i].name);
        if (*table[i].slot == NULL) {
            return -1;
        }
    }
    return 0;
}

/* --- arming --- */

/* This library's own absolute path (PATH_MAX bytes), or -1. */
static int
preload_self_path(char *self)
{
    Dl_info info;

    return dladdr((void *)preload_self_path, &info) != 0 && info.dli_fname != NULL
                   && realpath(info.dli_fname, self) != NULL
               ? 0
               : -1;
}

static void
preload_arm(void)
{
    char self[PATH_MAX];
    cpmp_layout layout;

    layout.problem[0] = '\0';
    if (preload_self_path(self) < 0 || layout_find(self, &layout) < 0) {
        arm_warn_unpatched(layout.problem[0] != '\0' ? layout.problem
                                                     : "cannot find the cpmp Python package");
        return;
    }
    arm_patch(&pyapi, layout.pydir);
}

/* Called for every audit event of the process, for its whole life: the
 * common case must be one load and one branch. */
static int
preload_audit_hook(const char *event, PyObject *args, void *data)
{
    (void)args;
    (void)data;
    if (armed || strncmp(event, "cpython.run_", 12) != 0) {
        return 0;
    }
    armed = 1;
    preload_arm();
    return 0;
}

/* --- allocators --- */

/* The audit hook's entry is allocated now, with the raw allocator in place
 * now, and freed at finalization with the one in place then.  During
 * pre-initialization Python puts debug hooks on it under -X dev,
 * PYTHONDEVMODE or PYTHONMALLOC=*_debug, and freeing a plain block through
 * them crashes at exit ("Debug memory block ... OUCH").  So decide as
 * Python will, from its command line and environment, and put the same
 * hooks on first: both sides then agree. */

static int
preload_debug_allocators(void)
{
    cmdline_preconfig pre = {0, 0};

    /* Unreadable: as without options (Python reads its argv, not this). */
    if (cmdline_read_self(&pre) < 0) {
        pre.ignore_env = pre.dev = 0;
    }
    return env_debug_allocators(&pre, getenv("PYTHONMALLOC"), getenv("PYTHONDEVMODE"));
}

/* --- LD_PRELOAD --- */

/* A relative LD_PRELOAD entry naming this library (LD_PRELOAD=build/...)
 * stops working for a child started after a chdir(): every spawn worker
 * would miss the library.  Make it absolute, once, in this process's
 * environment, which children inherit. */
static void
preload_absolute_ld_preload(void)
{
    const char *value = getenv("LD_PRELOAD");
    char self[PATH_MAX], *fixed;

    /* Every process under cpmp exec comes here: with absolute entries only
     * (what cpmp exec writes) there is nothing to do, and no system call. */
    if (value == NULL || !env_has_relative_entry(value) || preload_self_path(self) < 0) {
        return;
    }
    fixed = env_absolute_preload(value, self);
    if (fixed != NULL) {
        setenv("LD_PRELOAD", fixed, 1);
        free(fixed);
    }
}

/* --- constructor --- */

static void
preload_init(void)
{
    preload_absolute_ld_preload();
    if (flag_on(CPMP_ENV_DISABLE)) {
        return;
    }
    /* glibc ignores LD_PRELOAD for setuid programs, but a setgid one started
     * by its own group, or a capability-raising one, still gets here. */
    if (getauxval(AT_SECURE) != 0) {
        return;
    }
    /* The launcher arms the patch itself (and exports this marker). */
    if (dlsym(RTLD_DEFAULT, "cpmp_launcher_marker") != NULL) {
        return;
    }
    if (preload_resolve() < 0) {
        return; /* not CPython, or older than 3.8 */
    }
    if (preload_debug_allocators()) {
        void (*setup_debug_hooks)(void) = (void (*)(void))dlsym(RTLD_DEFAULT,
                                                                "PyMem_SetupDebugHooks");

        if (setup_debug_hooks == NULL) {
            return;
        }
        setup_debug_hooks();
    }
    add_audit_hook(preload_audit_hook, NULL);
}

__attribute__((constructor)) static void
preload_constructor(void)
{
    pthread_once(&init_once, preload_init);
}
