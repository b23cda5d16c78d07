/* Python's own options as its pre-configuration reads them, from the
 * process's command line: whether dev mode is on and the environment
 * ignored, which decide the allocators Python installs. */
#ifndef CPMP_CMDLINE_H
#define CPMP_CMDLINE_H

#include <stddef.h>

typedef struct {
    int ignore_env; /* -E or -I: PYTHONDEVMODE and PYTHONMALLOC do not count */
    int dev;        /* -X dev, or -X dev=ANYTHING */
} cmdline_preconfig;

/* Read argv[1..argc-1] as CPython's precmdline_parse_cmdline() does. */
void cmdline_parse(int argc, char *const *argv, cmdline_preconfig *pre);

/* The same for a command line as /proc/PID/cmdline holds it: size bytes,
 * words separated by NUL bytes (the last one need not end with one).
 * Returns -1 when memory runs out (pre then says nothing). */
int cmdline_parse_words(const char *words, size_t size, cmdline_preconfig *pre);

/* Read /proc/self/cmdline, whatever its length, into *pre; -1 when it
 * cannot be read. */
int cmdline_read_self(cmdline_preconfig *pre);

#endif
