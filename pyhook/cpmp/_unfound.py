"""A --by-value module the program never imported and that cannot be
found: one line naming it when the program cpmp run started exits (issue
19: a misspelled one was accepted silently).  Not refused at the start: a
program may put the module's directory on sys.path itself."""

import sys

__all__ = ["unfound", "watch"]


def watch(preloaded=False):
    """The program cpmp run started (embedded, or preloaded: the process
    that exec'd into its python3): at its exit, one line for each module
    CPMP_BY_VALUE names that it never imported and that cannot be found.
    At exit, not at start: a program may put the module's directory on
    sys.path itself (coverage.py warns of a --source module "never
    imported" the same way)."""
    import os
    from . import _settings

    names = [name for name in os.environ.get(_settings.ENV_BY_VALUE, "").split(",")
             if name and all(part.isidentifier() for part in name.split("."))]
    if not names or _settings.env_flag(_settings.ENV_QUIET):
        return
    # Set by the launcher (launcher/pymain.c) before it execs: pid:python3.
    if preloaded and os.environ.get("CPMP_RUN_EXECED", "").partition(":")[0] != str(os.getpid()):
        return
    import atexit

    atexit.register(_warn, names, os.getpid())


def _warn(names, pid):
    import os
    from ._settings import LOG_PREFIX

    if os.getpid() != pid:  # an os.fork() child leaving by sys.exit
        return
    for name in names:
        if unfound(name):
            sys.stderr.write("%s--by-value (CPMP_BY_VALUE) names '%s', which the program "
                             "never imported and no module of that name can be found: it "
                             "changed nothing (misspelled?)\n" % (LOG_PREFIX, name))


def unfound(name):
    """Whether no module name is imported nor can be found, asked without
    importing anything: only of a top-level name or of a submodule of an
    imported package (else it cannot be told, and is not reported)."""
    import importlib.util

    parts = name.split(".")
    for i in range(1, len(parts) + 1):
        prefix = ".".join(parts[:i])
        if prefix in sys.modules:
            continue
        try:
            return importlib.util.find_spec(prefix) is None
        except (ImportError, ValueError):
            return True
    return False
