/* cpmp exec and cpmp env: the preload library first in LD_PRELOAD, and
 * the command found on PATH as the shell finds it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h" /* CPMP_SANITIZER_PRELOAD */
#include "launcher.h"

int
exec_find_command(const char *cmd, char *out, size_t size, int *found_other)
{
    const char *path = getenv("PATH");
    const char *start, *end;
    struct stat st;

    *found_other = 0;
    if (strchr(cmd, '/') != NULL) {
        snprintf(out, size, "%s", cmd);
        return stat(out, &st) == 0 ? 0 : -1;
    }
    for (start = path != NULL ? path : "/usr/local/bin:/usr/bin:/bin"; ; start = end + 1) {
        size_t len;

        end = strchr(start, ':');
        len = end != NULL ? (size_t)(end - start) : strlen(start);
        if ((int)len + 2 + (int)strlen(cmd) < (int)size) {
            /* An empty entry is the current directory, as for the shell. */
            snprintf(out, size, "%.*s/%s", len > 0 ? (int)len : 1, len > 0 ? start : ".", cmd);
            if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
                if (access(out, X_OK) == 0) {
                    return 0;
                }
                *found_other = 1;
            }
        }
        if (end == NULL) {
            return -1;
        }
    }
}

/* How LD_PRELOAD names the library.  ld.so splits LD_PRELOAD on spaces
 * and colons: a path with a space is named by its file name instead, its
 * directory appended to LD_LIBRARY_PATH (split on colons only), which
 * holds no other library; a path with a colon cannot be preloaded at all. */
static const char *
exec_preload_entry(const cpmp_layout *layout)
{
    char dir[PATH_MAX];
    const char *old;

    if (strchr(layout->preload, ':') != NULL) {
        util_die("cannot preload %s: ld.so splits LD_PRELOAD at ':', and this path has one; "
                 "install cpmp under a path without ':' (or use 'cpmp run')", layout->preload);
    }
    if (strchr(layout->preload, ' ') == NULL) {
        return layout->preload;
    }
    if (layout_dirname(layout->preload, dir, sizeof(dir)) < 0) {
        util_die("cannot preload %s", layout->preload);
    }
    old = getenv("LD_LIBRARY_PATH");
    if (old == NULL || strstr(old, dir) == NULL) {
        util_append_env("LD_LIBRARY_PATH", ':', dir);
    }
    return util_base_name(layout->preload);
}

/* LD_PRELOAD with the library first and no other copy of it (from this
 * or another cpmp), keeping whatever else the user preloads.  Returns a
 * malloc'ed string. */
static char *
exec_preload_value(const cpmp_layout *layout)
{
    const char *old = getenv("LD_PRELOAD");
    const char *first = CPMP_SANITIZER_PRELOAD;
    const char *lib = exec_preload_entry(layout);
    char *copy = strdup(old != NULL ? old : "");
    size_t size = strlen(first) + strlen(lib) + (old != NULL ? strlen(old) : 0) + 3;
    char *value = malloc(size);
    char *entry, *save = NULL;

    if (copy == NULL || value == NULL) {
        util_die("%s", strerror(ENOMEM));
    }
    /* A sanitized build's library needs its runtimes loaded before it. */
    snprintf(value, size, "%s%s%s", first, first[0] != '\0' ? ":" : "", lib);
    /* ld.so separates entries with spaces or colons. */
    for (entry = strtok_r(copy, " :", &save); entry != NULL; entry = strtok_r(NULL, " :", &save)) {
        if (strcmp(util_base_name(entry), "libcpmp_preload.so") == 0
            || (first[0] != '\0' && strstr(first, entry) != NULL)) {
            continue;
        }
        strcat(value, ":");
        strcat(value, entry);
    }
    free(copy);
    return value;
}

static void
exec_require_preload(const cpmp_layout *layout)
{
    if (access(layout->preload, R_OK) != 0) {
        util_die("cannot find %s (broken install?)", layout->preload);
    }
}

#define EXEC_HELP                                                             \
    "usage: cpmp exec [CPMP-OPTION...] [--] COMMAND [ARG...]\n"              \
    "\n"                                                                      \
    "Run COMMAND with libcpmp_preload.so first in LD_PRELOAD: every CPython\n" \
    "3.8+ process under it, and every child of those, is patched.  The exit\n" \
    "status is COMMAND's; 127 when it is not found, 126 when it cannot be\n"  \
    "executed.  cpmp options: see 'cpmp --help'.\n"

#define ENV_HELP                                                              \
    "usage: cpmp env [CPMP-OPTION...]\n"                                      \
    "\n"                                                                      \
    "Print the export lines that patch the python3 processes a shell starts\n" \
    "next, as `cpmp exec` does for one command: eval \"$(cpmp env)\".  Each\n" \
    "CPMP-OPTION (see 'cpmp --help') adds the line of its setting.\n"

/* A sanitized build preloads its runtime ahead of the library, and a
 * program built with AddressSanitizer then aborts ("ASan runtime does not
 * come first in initial library list").  The preload library intercepts
 * nothing ASan does, so tell ASan not to check, unless the user decided
 * that already.  A build without sanitizers leaves every process's
 * environment as it was (issue 20). */
static void
exec_allow_asan_programs(void)
{
    const char *old = getenv("ASAN_OPTIONS");

    if (CPMP_SANITIZER_PRELOAD[0] == '\0') {
        return;
    }
    if (old == NULL || strstr(old, "verify_asan_link_order") == NULL) {
        util_append_env("ASAN_OPTIONS", ':', "verify_asan_link_order=0");
    }
}

/* Run the very file whose set-ID bits were checked: execvp would search
 * PATH a second time, and could find another (issue 20).  argv[0] stays
 * as the user wrote it.  A file without a #! line runs under /bin/sh, as
 * execvp and the shell do (ENOEXEC). */
static int
exec_resolved(const char *resolved, int argc, char **argv)
{
    char **sh_argv;
    int i;

    execv(resolved, argv);
    if (errno == ENOEXEC) {
        sh_argv = malloc(((size_t)argc + 2) * sizeof(*sh_argv));
        if (sh_argv == NULL) {
            util_die("%s", strerror(ENOMEM));
        }
        sh_argv[0] = argv[0];
        sh_argv[1] = (char *)resolved;
        for (i = 1; i <= argc; i++) {
            sh_argv[i + 1] = argv[i];
        }
        execv("/bin/sh", sh_argv);
        errno = ENOEXEC;
    }
    fprintf(stderr, CPMP_LOG_PREFIX "%s: %s\n", argv[0], strerror(errno));
    return errno == ENOENT ? 127 : 126;
}

/* cpmp exec [CPMP-OPTION...] [--] COMMAND [ARG...] */
int
exec_cmd_exec(int argc, char **argv)
{
    cpmp_layout layout;
    char resolved[PATH_MAX];
    int found_other;
    int used = options_parse(argc - 2, argv + 2);

    argc -= 2 + used;
    argv += 2 + used;
    if (argc > 0 && strcmp(argv[0], "--") == 0) {
        argc--;
        argv++;
    } else if (argc > 0 && (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0)) {
        fputs(EXEC_HELP, stdout);
        return 0;
    } else if (argc > 0 && argv[0][0] == '-') {
        suggest_unknown("exec", argv[0], "a command starting with '-' goes after '--'");
    }
    if (argc < 1) {
        util_die("exec needs a command (see 'cpmp exec --help')");
    }
    util_locate(&layout);
    if (exec_find_command(argv[0], resolved, sizeof(resolved), &found_other) < 0) {
        exec_require_preload(&layout);
        fprintf(stderr, CPMP_LOG_PREFIX "%s: %s\n", argv[0],
                found_other ? "Permission denied" : "command not found");
        return found_other ? 126 : 127;
    }
    return exec_preloaded(&layout, resolved, argc, argv);
}

int
exec_preloaded(const cpmp_layout *layout, const char *resolved, int argc, char **argv)
{
    struct stat st;
    char *value;

    exec_require_preload(layout);
    /* The loader ignores LD_PRELOAD when the program changes who runs it
     * (AT_SECURE): not for root running a set-user-ID-root program. */
    if (stat(resolved, &st) == 0
        && (((st.st_mode & S_ISUID) != 0 && st.st_uid != geteuid())
            || ((st.st_mode & S_ISGID) != 0 && st.st_gid != getegid()))) {
        fprintf(stderr, CPMP_LOG_PREFIX "%s is set-user/group-ID: the dynamic loader "
                "ignores LD_PRELOAD for it, so it runs unpatched\n", argv[0]);
    }
    value = exec_preload_value(layout);
    if (setenv("LD_PRELOAD", value, 1) != 0) {
        util_die("cannot set LD_PRELOAD: %s", strerror(errno));
    }
    free(value);
    exec_allow_asan_programs();
    return exec_resolved(resolved, argc, argv);
}

/* Print value as one shell word in single quotes. */
static void
exec_print_quoted(const char *value)
{
    putchar('\'');
    for (; *value != '\0'; value++) {
        if (*value == '\'') {
            fputs("'\\''", stdout);
        } else {
            putchar(*value);
        }
    }
    putchar('\'');
}

int
exec_cmd_env(int argc, char **argv)
{
    static const char *const settings[] = {CPMP_ENV_ALL};
    cpmp_layout layout;
    char *value;
    size_t i;

    int used = options_parse(argc - 2, argv + 2);

    if (used == argc - 3 && (strcmp(argv[argc - 1], "-h") == 0
                             || strcmp(argv[argc - 1], "--help") == 0)) {
        fputs(ENV_HELP, stdout);
        return 0;
    }
    if (used != argc - 2 && argv[2 + used][0] == '-') {
        suggest_unknown("env", argv[2 + used], "see 'cpmp env --help'");
    }
    if (used != argc - 2) {
        util_die("env takes only cpmp options (see 'cpmp env --help')");
    }
    util_locate(&layout);
    exec_require_preload(&layout);
    value = exec_preload_value(&layout);
    if (strchr(layout.preload, ' ') != NULL) {
        fputs("export LD_LIBRARY_PATH=", stdout);
        exec_print_quoted(getenv("LD_LIBRARY_PATH"));
        putchar('\n');
    }
    fputs("export LD_PRELOAD=", stdout);
    exec_print_quoted(value);
    putchar('\n');
    free(value);
    /* The settings the options gave (or the environment had), so that the
     * processes that follow use them too. */
    for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
        const char *set = getenv(settings[i]);

        if (set != NULL) {
            printf("export %s=", settings[i]);
            exec_print_quoted(set);
            putchar('\n');
        }
    }
    return 0;
}
