"""cpmp kernel install/uninstall: a Jupyter kernel that runs under cpmp.

Run by the launcher in its embedded interpreter, unpatched, in the user's
environment (a virtualenv included): the kernel starts as
`cpmp run -m ipykernel_launcher -f {connection_file}`, so the notebook's
lambdas, closures and classes reach every multiprocessing start method.
The kernelspec is written by jupyter_client itself, to the directories
Jupyter searches (JUPYTER_DATA_DIR, --user, --prefix, or system-wide).
"""

import json
import os
import re
import shutil
import sys
import tempfile

from ._cli import Parser, Usage

DEFAULT_NAME = "cpmp"
# A kernel name is one directory under kernels/: never "." or "..", which
# uninstall would turn into the whole Jupyter directory (issue 20).
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# What follows the launcher in the argv of every kernel.json cpmp writes:
# how uninstall tells cpmp's kernels from any other.
KERNEL_ARGV = ["run", "-m", "ipykernel_launcher", "-f", "{connection_file}"]


class Failure(Exception):
    pass


def _parse(args):
    parser = Parser("cpmp kernel", "Install or remove a Jupyter kernel that runs notebooks "
                    "under cpmp run.")
    actions = parser.add_subparsers(dest="action", metavar="{install,uninstall}")
    for action, text in (("install", "write the kernelspec"),
                         ("uninstall", "remove a kernelspec installed by install")):
        sub = actions.add_parser(action, help=text, description=text)
        where = sub.add_mutually_exclusive_group()
        where.add_argument("--user", action="store_true", help="for this user")
        where.add_argument("--prefix", metavar="DIR", help="under DIR/share/jupyter")
        sub.add_argument("--name", default=DEFAULT_NAME, help="the kernel's name (default: cpmp)")
        if action == "install":
            sub.add_argument("--display-name", metavar="TEXT", help="the name Jupyter shows")
    options = vars(parser.parse_args(args))
    if options["action"] is None:
        raise Usage("kernel: needs 'install' or 'uninstall' (see 'cpmp kernel --help')")
    if not NAME.fullmatch(options["name"]):
        raise Usage("--name: '%s' is not a kernel name (a letter or digit, then letters, "
                    "digits, '.', '_', '-')" % options["name"])
    return options.pop("action"), options


def _manager():
    """jupyter_client's KernelSpecManager, and ipykernel's logos (found
    without importing ipykernel, whose debugger warns at import)."""
    import importlib.util

    spec = importlib.util.find_spec("ipykernel")
    if spec is None:
        from .._settings import install_fix as _install_fix

        raise Failure("the Python cpmp run embeds (%s) cannot import ipykernel, which the "
                      "kernel runs: %s" % (sys.prefix, _install_fix("ipykernel")))
    from jupyter_client.kernelspec import KernelSpecManager

    resources = None
    for location in spec.submodule_search_locations or ():
        if os.path.isdir(os.path.join(location, "resources")):
            resources = os.path.join(location, "resources")
    return KernelSpecManager(), resources


def install(launcher, options):
    manager, resources = _manager()
    spec = {
        "argv": [launcher] + KERNEL_ARGV,
        "display_name": options["display_name"] or "Python %d.%d (cpmp)" % sys.version_info[:2],
        "language": "python",
        "metadata": {"debugger": True},
    }
    # A kernel installed from a virtualenv runs in it, as its python would.
    venv = os.environ.get("VIRTUAL_ENV")
    if venv and sys.prefix != sys.base_prefix:
        spec["env"] = {"VIRTUAL_ENV": venv}
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, options["name"])
        os.mkdir(source)
        for logo in ("logo-32x32.png", "logo-64x64.png", "logo-svg.svg"):
            if resources and os.path.isfile(os.path.join(resources, logo)):
                shutil.copy(os.path.join(resources, logo), source)
        with open(os.path.join(source, "kernel.json"), "w") as f:
            json.dump(spec, f, indent=1)
        try:
            path = manager.install_kernel_spec(source, options["name"], user=options["user"],
                                               prefix=options["prefix"])
        except OSError as exc:
            hint = "" if options["user"] else " (--user installs for you alone)"
            raise Failure("cannot install the kernel in %s: %s%s"
                          % (exc.filename or "the Jupyter data directory", exc.strerror, hint))
    return "installed kernel '%s' (%s) in %s" % (options["name"], spec["display_name"], path)


def _is_cpmp_kernel(path):
    """Whether the directory holds a kernel.json that install wrote."""
    try:
        with open(os.path.join(path, "kernel.json")) as f:
            spec = json.load(f)
    except (OSError, ValueError):
        return False
    argv = spec.get("argv") if isinstance(spec, dict) else None
    return (isinstance(argv, list) and len(argv) == len(KERNEL_ARGV) + 1
            and isinstance(argv[0], str) and argv[1:] == KERNEL_ARGV
            and spec.get("language") == "python")


def uninstall(options):
    """Remove the kernel: from where --prefix or --user say, as install put
    it there, else from wherever Jupyter finds it."""
    manager, _ = _manager()
    name = options["name"]
    try:
        if options["prefix"] is None and not options["user"]:
            path = manager.find_kernel_specs()[name]
        else:
            if options["prefix"] is not None:
                base = os.path.join(options["prefix"], "share", "jupyter")
            else:
                from jupyter_core.paths import jupyter_data_dir

                base = jupyter_data_dir()
            path = os.path.join(base, "kernels", name)
            if not os.path.isdir(path):
                raise KeyError(name)
        if not _is_cpmp_kernel(path):
            raise Failure("refusing to remove %s: it holds no kernel.json written by cpmp"
                          % path)
        shutil.rmtree(path)
    except KeyError:
        raise Failure("no kernel named '%s' is installed" % name) from None
    except OSError as exc:
        raise Failure("cannot remove %s: %s" % (exc.filename, exc.strerror)) from None
    return "removed kernel '%s' from %s" % (name, path)


def main(argv):
    """argv: the launcher, the package's directory, the python3 link, the
    preload library, what `cpmp run` runs, then the user's arguments after
    `kernel`."""
    launcher = argv[0]
    try:
        action, options = _parse(argv[5:])
    except Usage as exc:
        sys.stderr.write("cpmp: %s\n" % exc)
        return 2
    try:
        message = install(launcher, options) if action == "install" else uninstall(options)
    except Failure as exc:
        sys.stderr.write("cpmp: %s\n" % exc)
        return 1
    print(message)
    return 0
