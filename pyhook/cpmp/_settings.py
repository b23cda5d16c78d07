"""The settings cpmp reads from the environment, and how to fix a missing
dependency.  Imports nothing of cpmp but the generated _config, so every
module can import it."""

import sys

from ._config import BOOLEAN_VALUES, ENV_BY_VALUE, ENV_CLUSTER, ENV_DISABLE, ENV_QUIET, \
    ENV_TRACE, FLAGS, LOG_PREFIX, SETTINGS, VERSION

__all__ = ["BOOLEAN_VALUES", "ENV_BY_VALUE", "ENV_CLUSTER", "ENV_DISABLE", "ENV_QUIET",
           "ENV_TRACE", "FLAGS", "LOG_PREFIX", "SETTINGS", "STARTUP_DIR", "VERSION", "check_flags",
           "cluster_address_ok",
           "env_flag",
           "cluster_configured", "install_fix", "parse_bool", "trace_target"]


def _startup_dir():
    posix = sys.modules.get("posix")  # always loaded, unlike os under -S
    try:
        return posix.getcwd() if posix is not None else None
    except OSError:
        return None


# The current directory when the process started (cpmp run and cpmp exec
# load this module before the program runs): what a -c or -m program's
# sys.path entry names, even after the program changes directory.
STARTUP_DIR = _startup_dir()

_ON = ("1", "true", "yes", "on")
_OFF = ("0", "false", "no", "off")


def parse_bool(value):
    """True for 1/true/yes/on, False for 0/false/no/off or "" (unset), in
    any ASCII case; None for anything else.  The rule of flag_parse_bool in
    common/flag.c: the two must agree (ASCII only, as C compares)."""
    if not value:
        return False
    lower = value.lower() if value.isascii() else value
    if lower in _ON:
        return True
    if lower in _OFF:
        return False
    return None


def trace_target(value):
    """Where a CPMP_TRACE value sends the trace: None (off), 2 (stderr) or
    the file name it is when it is not a boolean."""
    on = parse_bool(value)
    if on is None:
        return value
    return 2 if on else None


def env_flag(name):
    """Whether the setting is on.  A boolean that is not one counts as off
    (check_flags says so once); CPMP_TRACE is on for a file name too."""
    import os

    value = os.environ.get(name, "")
    if name == ENV_TRACE:
        return trace_target(value) is not None
    return parse_bool(value) is True


def check_flags():
    """Warn once for the program about each boolean variable that holds
    something else, and clear it: it is ignored, and the processes the
    program starts get it cleaned (cpmp run and cpmp exec refuse it)."""
    import os

    bad = [name for name in FLAGS if parse_bool(os.environ.get(name, "")) is None]
    cluster = os.environ.get(ENV_CLUSTER, "")
    if not bad and (not cluster or cluster_address_ok(cluster)):
        return
    quiet = env_flag(ENV_QUIET)
    for name in bad:
        if not quiet:
            sys.stderr.write("%s%s: %r is not one of %s, ignored\n"
                             % (LOG_PREFIX, name, os.environ[name], BOOLEAN_VALUES))
        os.environ[name] = ""
    if cluster and not cluster_address_ok(cluster):
        if not quiet:
            sys.stderr.write("%s%s: %r is not a cluster address: %s; pools run here\n"
                             % (LOG_PREFIX, ENV_CLUSTER, cluster, CLUSTER_FORMS))
        os.environ[ENV_CLUSTER] = ""


CLUSTER_FORMS = "tcp://HOST:PORT, tls://HOST:PORT, HOST:PORT, local or local:N"
_SCHEMES = ("tcp://", "tls://", "ws://", "wss://", "ucx://")


def _number(text, top):
    return 0 < len(text) and text.isdigit() and text.isascii() and 1 <= int(text) <= top


def cluster_address_ok(address):
    """Whether a cluster address has a form Dask can connect to, or cpmp
    starts: local, local:N, or [SCHEME://]HOST:PORT with a scheme of
    Dask's.  The rule of options_cluster_ok in launcher/options.c: the two
    must agree."""
    if address == "local":
        return True
    if address.startswith("local:"):
        return _number(address[6:], 100000)
    host = address
    for scheme in _SCHEMES:
        if address.startswith(scheme):
            host = address[len(scheme):]
    head, colon, port = host.rpartition(":")
    if not colon or not head or any(c in host for c in "/ \t?#@") \
            or (host.startswith("[") and not head.endswith("]")):
        return False
    return _number(port, 65535)


def install_fix(package="cloudpickle", prefix=None, base_prefix=None, executable=None):
    """How to make package importable by a Python (this one by default)."""
    prefix = prefix or sys.prefix
    base_prefix = base_prefix or sys.base_prefix
    if prefix != base_prefix:
        return ("install %s into the virtualenv %s, or make it with "
                "--system-site-packages" % (package, prefix))
    if prefix == "/usr":
        return "apt-get install python3-%s" % package
    return "%s -m pip install %s" % (executable or sys.executable, package)


def cluster_configured():
    """Whether CPMP_CLUSTER is set (the one test of it), without importing
    os where it is not loaded yet (the builtin posix module has the
    environment too): start-up does not pay for it."""
    os = sys.modules.get("os")
    if os is not None:
        return os.environ.get(ENV_CLUSTER, "") != ""
    import posix

    return posix.environ.get(ENV_CLUSTER.encode(), b"") != b""
