/* Shared by the launcher and the preload library: environment variable
 * names, the log prefix, where the pieces of an installation live, and the
 * Python code that activates the patch.  (proxychains-ng keeps the same
 * things in its common.h.) */
#ifndef CPMP_H
#define CPMP_H

#include <stddef.h>

#define CPMP_LOG_PREFIX "cpmp: "

#define CPMP_ENV_DISABLE "CPMP_DISABLE"
#define CPMP_ENV_QUIET "CPMP_QUIET"

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
} cpmp_layout;

/* Fill in *layout for the cpmp whose launcher or library is the file at
 * self (an absolute path).  Returns 0, or -1 when no layout matches. */
int cpmp_find_layout(const char *self, cpmp_layout *layout);

/* True when the environment variable is set to something other than ""
 * or "0". */
int cpmp_env_flag(const char *name);

/* Python code run once in a fresh namespace holding `_cpmp_dir`: imports
 * the cpmp package from that directory without touching sys.path, and arms
 * the patch.  A failure never stops the program: it warns in one line
 * (unless CPMP_QUIET is set) and the program runs unpatched. */
#define CPMP_BOOT_CODE                                                     \
    "import sys\n"                                                         \
    "def _cpmp_boot(d):\n"                                                 \
    "    m = sys.modules.get('cpmp')\n"                                    \
    "    if m is None:\n"                                                  \
    "        bs = sys.modules['_frozen_importlib']\n"                      \
    "        ext = sys.modules['_frozen_importlib_external']\n"            \
    "        spec = ext.PathFinder.find_spec('cpmp', [d])\n"               \
    "        if spec is None:\n"                                           \
    "            raise ImportError('no cpmp package in ' + d)\n"           \
    "        m = bs.module_from_spec(spec)\n"                              \
    "        sys.modules['cpmp'] = m\n"                                    \
    "        try:\n"                                                       \
    "            spec.loader.exec_module(m)\n"                             \
    "        except BaseException:\n"                                      \
    "            del sys.modules['cpmp']\n"                                \
    "            raise\n"                                                  \
    "    m._activate()\n"                                                  \
    "try:\n"                                                               \
    "    _cpmp_boot(_cpmp_dir)\n"                                          \
    "except Exception as e:\n"                                             \
    "    import os\n"                                                      \
    "    if os.environ.get('" CPMP_ENV_QUIET "', '') in ('', '0'):\n"      \
    "        sys.stderr.write('" CPMP_LOG_PREFIX                           \
    "not active, running unpatched: %s\\n' % (e,))\n"

#endif
