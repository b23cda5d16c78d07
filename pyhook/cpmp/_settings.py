"""The settings cpmp reads from the environment, and how to fix a missing
dependency.  Imports nothing of cpmp but the generated _config, so every
module can import it."""

import sys

from ._config import ENV_BY_VALUE, ENV_CLUSTER, ENV_DISABLE, ENV_QUIET, ENV_TRACE, LOG_PREFIX, \
    SETTINGS, VERSION

__all__ = ["ENV_BY_VALUE", "ENV_CLUSTER", "ENV_DISABLE", "ENV_QUIET", "ENV_TRACE", "LOG_PREFIX",
           "SETTINGS", "VERSION", "env_flag", "install_fix"]


def env_flag(name):
    """Whether the variable is set to anything but "" or "0" (the rule of
    cpmp_env_flag in common/layout.c, for the same variables)."""
    import os

    return os.environ.get(name, "") not in ("", "0")


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
