/* cgmark.so: the one callgrind client request bench/instructions.py's
 * workload makes (through ctypes): dump the counts since the last dump,
 * under a label.  Outside valgrind it does nothing. */
#include <valgrind/callgrind.h> /* Debian: package valgrind */

void
cgmark(const char *label)
{
    CALLGRIND_DUMP_STATS_AT(label);
}
