"""python -m cpmp ARGS: `cpmp ARGS`, by the launcher installed with this
package (VENV/bin/cpmp of a venv pip installed cpmp into), so that every
command, option and exit status is the launcher's own."""
import os
import sys

from . import _config


def launcher():
    """The launcher of this package, or None (_config.LAUNCHERS)."""
    here = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    for rel in _config.LAUNCHERS:
        path = os.path.normpath(os.path.join(here, rel))
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def main():
    path = launcher()
    if path is None:
        sys.stderr.write("%scannot find the cpmp launcher of the package in %s (broken install?)\n"
                         % (_config.LOG_PREFIX, os.path.dirname(os.path.realpath(__file__))))
        return 2
    os.execv(path, [path] + sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
