/* cpmp's own options (before the program's): each becomes a CPMP_*
 * environment variable. */
#include <errno.h>
#include <fcntl.h> /* open() to check a trace file */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h> /* fstat() of the trace file */
#include <unistd.h>

#include "launcher.h"

/* Whether s is a dotted Python module name (non-ASCII bytes are allowed:
 * identifiers may be Unicode). */
static int
options_is_module_name(const char *s, size_t len)
{
    size_t i;
    int start = 1;

    if (len == 0) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '.') {
            if (start) {
                return 0;
            }
            start = 1;
        } else if (c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
                   || (!start && c >= '0' && c <= '9')) {
            start = 0;
        } else {
            return 0;
        }
    }
    return !start;
}

/* Exit 2 unless value is a comma-separated list of module names. */
static void
options_check_modules(const char *what, const char *value)
{
    const char *item = value, *comma;

    for (;;) {
        comma = strchr(item, ',');
        size_t len = comma != NULL ? (size_t)(comma - item) : strlen(item);

        if (!options_is_module_name(item, len)) {
            util_die("%s: '%.*s' is not a module name", what, (int)len, item);
        }
        if (comma == NULL) {
            break;
        }
        item = comma + 1;
    }
}

/* Exit 2 unless every boolean variable holds a boolean: a preloaded
 * process could only warn and ignore it (issue 19: CPMP_DISABLE=false
 * disabled cpmp). */
static void
options_check_flags(void)
{
    static const char *const flags[] = {CPMP_ENV_FLAGS};
    size_t i;

    for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        const char *value = getenv(flags[i]);

        if (flag_parse_bool(value) < 0) {
            util_die("%s: '%s' is not one of %s", flags[i], value, CPMP_BOOLEAN_VALUES);
        }
    }
}

/* Exit 2 unless CPMP_TRACE's value can be used: a boolean (on is stderr)
 * or a file of this user's that can be appended to (created 0600 if need
 * be).  A shared directory must not let another user point root's trace
 * at a file of root's (issue 20): no symbolic link (O_NOFOLLOW), no file
 * of another user's, none with a second hard link.  Returns the value to
 * export: a relative path made absolute, since children may change
 * directory. */
static char *
options_check_trace(const char *what, const char *value)
{
    char cwd[PATH_MAX];
    char *path;
    struct stat st;
    int fd;

    if (flag_parse_bool(value) >= 0) {
        return strdup(value);
    }
    fd = open(value, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == ELOOP) {
        util_die("%s: refusing '%s': it is a symbolic link", what, value);
    }
    if (fd < 0) {
        util_die("%s: cannot write to '%s': %s", what, value, strerror(errno));
    }
    if (fstat(fd, &st) != 0) {
        util_die("%s: cannot write to '%s': %s", what, value, strerror(errno));
    }
    close(fd);
    if (st.st_uid != geteuid()) {
        util_die("%s: refusing '%s': it belongs to another user (uid %u)", what, value,
                 (unsigned)st.st_uid);
    }
    if (st.st_nlink > 1) {
        util_die("%s: refusing '%s': it has %u hard links", what, value, (unsigned)st.st_nlink);
    }
    if (value[0] == '/') {
        return strdup(value);
    }
    if (getcwd(cwd, sizeof(cwd)) == NULL) {
        util_die("cannot find the current directory: %s", strerror(errno));
    }
    path = malloc(strlen(cwd) + strlen(value) + 2);
    if (path != NULL) {
        sprintf(path, "%s/%s", cwd, value);
    }
    return path;
}

static void
options_set_trace(const char *what, const char *value)
{
    char *checked = options_check_trace(what, value);

    if (checked == NULL) {
        util_die("%s", strerror(ENOMEM));
    }
    util_set_env(CPMP_ENV_TRACE, checked);
    free(checked);
}

static void
options_add_by_value(const char *modules)
{
    options_check_modules("--by-value", modules);
    util_append_env(CPMP_ENV_BY_VALUE, ',', modules);
}

#define CLUSTER_FORMS "tcp://HOST:PORT, tls://HOST:PORT, HOST:PORT, local or local:N"

/* Whether text is digits only (at least one) for a number from 1 to max. */
static int
options_number(const char *text, size_t length, unsigned long max)
{
    unsigned long n = 0;
    size_t i;

    for (i = 0; i < length; i++) {
        if (text[i] < '0' || text[i] > '9' || (n = n * 10 + (unsigned long)(text[i] - '0')) > max) {
            return 0;
        }
    }
    return length > 0 && n >= 1;
}

/* Whether a --cluster address has a form Dask can connect to, or cpmp
 * starts: local, local:N, or [SCHEME://]HOST:PORT with a scheme of Dask's.
 * Whether anything listens there is the program's to find out.  The same
 * rule as cluster_address_ok in pyhook/cpmp/_settings.py. */
static int
options_cluster_ok(const char *address)
{
    static const char *const schemes[] = {"tcp://", "tls://", "ws://", "wss://", "ucx://"};
    const char *host = address, *colon;
    size_t i;

    if (strcmp(address, "local") == 0) {
        return 1;
    }
    if (strncmp(address, "local:", 6) == 0) {
        return options_number(address + 6, strlen(address + 6), 100000);
    }
    for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        if (strncmp(address, schemes[i], strlen(schemes[i])) == 0) {
            host = address + strlen(schemes[i]);
        }
    }
    colon = strrchr(host, ':');
    if (colon == NULL || colon == host || strpbrk(host, "/ \t?#@") != NULL
        || (host[0] == '[' && colon[-1] != ']')) {
        return 0;
    }
    return options_number(colon + 1, strlen(colon + 1), 65535);
}

/* --python PATH: CPMP_PYTHON, checked where `cpmp run` uses it (which.c). */
static void
options_set_python(const char *path)
{
    if (path == NULL || path[0] == '\0') {
        util_die("--python needs an interpreter (see 'cpmp run --help')");
    }
    util_set_env(CPMP_ENV_PYTHON, path);
}

/* Exit 2 unless the cluster address, from --cluster or CPMP_CLUSTER, has
 * a form one can connect to: a bad one must not let the program run up
 * to its first pool (issue 18). */
static void
options_check_cluster(const char *what, const char *address)
{
    if (address == NULL || address[0] == '\0') {
        util_die("%s needs an address: " CLUSTER_FORMS " (see 'cpmp --help')", what);
    }
    if (!options_cluster_ok(address)) {
        util_die("%s: '%s' is not a cluster address: " CLUSTER_FORMS, what, address);
    }
}

static void
options_set_cluster(const char *address)
{
    options_check_cluster("--cluster", address);
    util_set_env(CPMP_ENV_CLUSTER, address);
}

/* Exit 2 on --disable=VALUE or --quiet=VALUE: they take no value, as
 * getopt_long and argparse refuse one, rather than letting python3 call it
 * an unknown option (issue 19).  Their variables take a value instead. */
static void
options_check_no_value(const char *arg)
{
    static const char *const flags[][2] = {
        {"--disable=", CPMP_ENV_DISABLE},
        {"--quiet=", CPMP_ENV_QUIET},
    };
    size_t i, length;

    for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        length = strlen(flags[i][0]);
        if (strncmp(arg, flags[i][0], length) == 0) {
            util_die("%.*s takes no value, got '%s' (or set %s=%s)", (int)length - 1, arg, arg,
                     flags[i][1], arg[length] != '\0' && flag_parse_bool(arg + length) >= 0
                     ? arg + length : "1");
        }
    }
}

/* They become environment variables, so that children and preloaded
 * processes follow them. */
int
options_parse(int argc, char **argv)
{
    const char *env = getenv(CPMP_ENV_BY_VALUE);
    int i = 0;

    if (env != NULL && env[0] != '\0') {
        options_check_modules(CPMP_ENV_BY_VALUE, env);
    }
    env = getenv(CPMP_ENV_TRACE);
    if (env != NULL) {
        options_set_trace(CPMP_ENV_TRACE, env);
    }
    env = getenv(CPMP_ENV_CLUSTER);
    if (env != NULL && env[0] != '\0') {
        options_check_cluster(CPMP_ENV_CLUSTER, env);
    }
    while (i < argc) {
        const char *arg = argv[i];

        options_check_no_value(arg);
        if (strcmp(arg, "--disable") == 0) {
            util_set_env(CPMP_ENV_DISABLE, "1");
        } else if (strcmp(arg, "--quiet") == 0) {
            util_set_env(CPMP_ENV_QUIET, "1");
        } else if (strcmp(arg, "--trace") == 0) {
            util_set_env(CPMP_ENV_TRACE, "1");
        } else if (strncmp(arg, "--trace=", 8) == 0) {
            if (arg[8] == '\0') {
                util_die("--trace=FILE needs a file name (see 'cpmp --help')");
            }
            options_set_trace("--trace", arg + 8);
        } else if (strncmp(arg, "--cluster=", 10) == 0) {
            options_set_cluster(arg + 10);
        } else if (strcmp(arg, "--cluster") == 0) {
            options_set_cluster(i + 1 < argc ? argv[++i] : NULL);
        } else if (strncmp(arg, "--python=", 9) == 0) {
            options_set_python(arg + 9);
        } else if (strcmp(arg, "--python") == 0) {
            options_set_python(i + 1 < argc ? argv[++i] : NULL);
        } else if (strncmp(arg, "--by-value=", 11) == 0) {
            options_add_by_value(arg + 11);
        } else if (strcmp(arg, "--by-value") == 0) {
            if (i + 1 >= argc) {
                util_die("--by-value needs a module name (see 'cpmp --help')");
            }
            options_add_by_value(argv[++i]);
        } else {
            break;
        }
        i++;
    }
    options_check_flags();
    return i;
}
