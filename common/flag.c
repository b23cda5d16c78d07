/* Boolean settings (CPMP_DISABLE, CPMP_QUIET, CPMP_TRACE's on and off):
 * one reading for the launcher and the preload library.  Issue 19:
 * CPMP_DISABLE=false disabled cpmp, and CPMP_TRACE=yes wrote a file. */
#include "cpmp.h"

#include <stdlib.h>

/* ASCII only, whatever the locale: Python's side compares the same way. */
static int
flag_equal_ignoring_case(const char *value, const char *word)
{
    for (; *word != '\0'; value++, word++) {
        char c = *value;

        if (c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        if (c != *word) {
            return 0;
        }
    }
    return *value == '\0';
}

int
flag_parse_bool(const char *value)
{
    static const char *const on[] = {"1", "true", "yes", "on"};
    static const char *const off[] = {"0", "false", "no", "off"};
    size_t i;

    if (value == NULL || value[0] == '\0') {
        return 0;
    }
    for (i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
        if (flag_equal_ignoring_case(value, on[i])) {
            return 1;
        }
        if (flag_equal_ignoring_case(value, off[i])) {
            return 0;
        }
    }
    return -1;
}

int
flag_on(const char *name)
{
    return flag_parse_bool(getenv(name)) == 1;
}
