/* The environment the preload library reads before Python starts:
 * LD_PRELOAD, which it may make absolute for the children, and
 * PYTHONMALLOC and PYTHONDEVMODE, which with Python's own options decide
 * the allocators Python installs. */
#ifndef CPMP_ENV_H
#define CPMP_ENV_H

#include "cmdline.h"

/* Whether Python will put its debug hooks on the allocators: under -X dev
 * (pre), PYTHONDEVMODE set, or PYTHONMALLOC=*debug (the last two NULL when
 * unset, ignored under -E or -I). */
int env_debug_allocators(const cmdline_preconfig *pre, const char *pythonmalloc,
                         const char *pythondevmode);

/* Whether an LD_PRELOAD value has an entry that is a path relative to the
 * current directory (ld.so separates entries with spaces or colons). */
int env_has_relative_entry(const char *value);

/* The LD_PRELOAD value with its first relative entry that resolves to
 * self (this library, an absolute path) replaced by self, the entries
 * separated by colons; malloc'ed.  NULL when no entry is replaced (or
 * memory runs out). */
char *env_absolute_preload(const char *value, const char *self);

#endif
