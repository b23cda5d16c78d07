/* Options no command knows: one line naming the nearest one it does
 * know, where python3 or a bare "unknown option" would leave the user to
 * find it (issue 19). */
#include <stdio.h>
#include <string.h>

#include "launcher.h"

/* Edit distance of a and b, up to 3 (more counts as 3). */
static size_t
suggest_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j, row[64], diag, next;

    if (la >= 64 || lb >= 64) {
        return 3;
    }
    for (j = 0; j <= lb; j++) {
        row[j] = j;
    }
    for (i = 1; i <= la; i++) {
        diag = row[0];
        row[0] = i;
        for (j = 1; j <= lb; j++) {
            next = row[j];
            row[j] = a[i - 1] == b[j - 1] ? diag : 1 + (diag < row[j - 1] ? diag : row[j - 1]);
            if (next + 1 < row[j]) {
                row[j] = next + 1;
            }
            diag = next;
        }
    }
    return row[lb] < 3 ? row[lb] : 3;
}

/* The option of known (n of them) nearest to arg's name (up to a '='),
 * within an edit distance of 2, or NULL. */
static const char *
suggest_nearest(const char *arg, const char *const *known, size_t n)
{
    const char *eq = strchr(arg, '='), *best = NULL;
    size_t length = eq != NULL ? (size_t)(eq - arg) : strlen(arg), i, distance, nearest = 3;
    char name[64];

    snprintf(name, sizeof(name), "%.*s", (int)(length < 63 ? length : 63), arg);
    for (i = 0; i < n; i++) {
        distance = suggest_distance(name, known[i]);
        if (distance < nearest) {
            nearest = distance;
            best = known[i];
        }
    }
    return best;
}

/* cpmp's own options, which every command that takes them knows. */
#define SUGGEST_CPMP_OPTIONS "--by-value", "--cluster", "--disable", "--python", "--quiet", "--trace", \
    "--help"

void
suggest_unknown(const char *command, const char *arg, const char *otherwise)
{
    static const char *const known[] = {SUGGEST_CPMP_OPTIONS};
    const char *best = arg[0] == '-' && arg[1] == '-'
        ? suggest_nearest(arg, known, sizeof(known) / sizeof(known[0])) : NULL;

    if (best != NULL) {
        util_die("%s: unknown option '%s' (did you mean '%s'?)", command, arg, best);
    }
    util_die("%s: unknown option '%s' (%s)", command, arg, otherwise);
}

/* Exit 2 on a long option before the program that neither cpmp nor
 * python3 knows, naming the nearest one: python3 would say "unknown
 * option" and print its own usage (issue 19). */
void
suggest_check_python_args(int argc, char **argv)
{
    static const char *const known[] = {
        SUGGEST_CPMP_OPTIONS, "--version",
        "--help-env", "--help-xoptions", "--help-all", "--check-hash-based-pycs",
    };
    const char *best;
    size_t i;
    int a;

    for (a = 0; a < argc; a++) {
        const char *arg = argv[a], *eq;
        size_t length;

        if (arg[0] != '-' || strcmp(arg, "-") == 0 || strcmp(arg, "-c") == 0
            || strcmp(arg, "-m") == 0 || strcmp(arg, "--") == 0) {
            return; /* the program: what follows is its own */
        }
        if (strcmp(arg, "-X") == 0 || strcmp(arg, "-W") == 0
            || strcmp(arg, "--check-hash-based-pycs") == 0) {
            a++; /* its value */
            continue;
        }
        if (arg[1] != '-') {
            continue;
        }
        eq = strchr(arg, '=');
        length = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
        for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
            if (strlen(known[i]) == length && strncmp(arg, known[i], length) == 0) {
                break;
            }
        }
        if (i < sizeof(known) / sizeof(known[0])) {
            continue;
        }
        best = suggest_nearest(arg, known, sizeof(known) / sizeof(known[0]));
        if (best != NULL) {
            util_die("run: unknown option '%s' (did you mean '%s'?)", arg, best);
        }
        util_die("run: unknown option '%s' (see 'cpmp run --help')", arg);
    }
}
