"""cpmp doctor: is everything cpmp needs there, and does it work?

Run by the launcher in its embedded interpreter, unpatched.  Each check
that matters is made for real in a fresh process: the python3 link that
`cpmp run` starts (and spawn children re-execute), and a stock interpreter
under `cpmp exec` with the preload library, each of which reports what it
sees (PROBE) and maps a lambda in a Pool with every start method.
"""

import json
import os
import subprocess
import sys

from .. import _settings
from ._cli import Parser, Usage
from .._settings import env_flag as _env_flag

_SETTINGS = _settings.SETTINGS
_PROBE_TIMEOUT = 120

# Runs in the interpreter under test, which may be any Python, 2.7 too: it
# only reports, as one line of JSON at the end of its output.
PROBE = r'''
import json, os, platform, sys
r = {"python": platform.python_version(), "implementation": platform.python_implementation(),
     "executable": sys.executable, "prefix": sys.prefix,
     "base_prefix": getattr(sys, "base_prefix", sys.prefix), "version_info": list(sys.version_info[:2])}
try:
    import cloudpickle
    r["cloudpickle"] = getattr(cloudpickle, "__version__", "?")
    r["cloudpickle_path"] = os.path.dirname(cloudpickle.__file__)
except Exception as e:
    r["cloudpickle"] = None
    r["cloudpickle_error"] = "%s: %s" % (type(e).__name__, e)
try:
    with open("/proc/self/maps") as maps:
        r["shared"] = any("/libpython" in line for line in maps)
except Exception:
    r["shared"] = None
try:
    import ctypes
    r["audit_symbol"] = hasattr(ctypes.CDLL(None), "PySys_AddAuditHook")
except Exception:
    r["audit_symbol"] = None
try:
    # Set-ID so that it runs as someone else: the loader then ignores
    # LD_PRELOAD (set-user-ID-root run by root is not that).
    st = os.stat(os.path.realpath(sys.executable))
    r["setid"] = bool((st.st_mode & 0o4000 and st.st_uid != os.geteuid())
                      or (st.st_mode & 0o2000 and st.st_gid != os.getegid()))
except OSError:
    r["setid"] = None
import multiprocessing
if hasattr(multiprocessing, "get_all_start_methods"):
    r["start_methods"] = multiprocessing.get_all_start_methods()
    r["default_start_method"] = multiprocessing.get_start_method()
else:
    r["start_methods"] = ["fork"]
    r["default_start_method"] = "fork"
cpmp = sys.modules.get("__cpmp__") or sys.modules.get("cpmp")
r["cpmp"] = cpmp and os.path.dirname(cpmp.__file__)
if cpmp is not None:
    r["sites"] = dict(cpmp._patch.binding_sites())
    # By the package's own name: cpmp run and cpmp exec load it as __cpmp__.
    reduce = sys.modules.get(cpmp.__name__ + ".core._reduce")
    r["speedups_problem"] = getattr(reduce, "SPEEDUPS_PROBLEM", "cpmp.core._reduce not loaded")
    r["speedups"] = r["speedups_problem"] is None
if sys.version_info >= (3, 8):
    r["pool"] = {}
    for method in r["start_methods"]:
        pool = multiprocessing.get_context(method).Pool(1)
        try:
            got = [f() for f in pool.map_async(lambda x: (lambda: x * 2), [1, 2, 3]).get(30)]
            r["pool"][method] = "ok" if got == [2, 4, 6] else "wrong result %r" % (got,)
        except Exception as e:
            text = ("%s: %s" % (type(e).__name__, e)).splitlines()[0]
            r["pool"][method] = text if len(text) < 300 else text[:297] + "..."
        finally:
            pool.terminate()
            pool.join()
sys.stdout.write("\n" + json.dumps(r) + "\n")
'''


# What a failed probe's fix names: starting, and applying the patch.
_START_CODE = "import multiprocessing.reduction"


def _parse(args):
    parser = Parser("cpmp doctor", "Check that everything cpmp needs works, for real, in "
                    "fresh processes; exit 1 with one line per problem and its fix.")
    parser.add_argument("--json", action="store_true", help="one JSON object, for scripts")
    parser.add_argument("--python", action="append", default=[], metavar="PYTHON",
                        help="also check cpmp exec with this interpreter (repeatable)")
    parser.add_argument("--cluster", metavar="ADDRESS",
                        help="check a Dask cluster instead: its workers' versions, and a "
                             "lambda round trip")
    options = vars(parser.parse_args(args))
    options["python"] = [_interpreter(value) for value in options["python"]]
    return options


def _interpreter(value):
    import shutil

    path = shutil.which(value) if "/" not in value else value
    if path is None or not os.path.exists(path):
        raise Usage("--python: '%s' not found" % value)
    if not os.access(path, os.X_OK) or os.path.isdir(path):
        raise Usage("--python: '%s' is not executable" % value)
    why = _not_python(os.path.abspath(path))
    if why is not None:
        raise Usage("--python: " + why)
    return os.path.abspath(path)


# Any Python answers it, 2.7 too: its version, on stdout.
_VERSION_CODE = "import sys; print(sys.version)"


def _not_python(path):
    """None when path runs Python code, else why not, in one line: the
    exact command and the end of what it said (issue 19: /bin/ls pasted
    the whole probe).  One that says "Python" on failing is a Python that
    does not start: the probe reports that as a problem."""
    import shlex
    import tempfile

    argv = [path, "-c", _VERSION_CODE]
    command = " ".join(shlex.quote(arg) for arg in argv)
    try:
        with tempfile.TemporaryDirectory(prefix="cpmp-doctor-") as empty:
            done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, timeout=_PROBE_TIMEOUT, cwd=empty)
    except subprocess.TimeoutExpired:
        return "%s is not a Python interpreter: `%s` did not finish in %d s" % (
            path, command, _PROBE_TIMEOUT)
    except OSError as exc:
        return "%s cannot be started: `%s`: %s" % (path, command, exc.strerror)
    out = done.stdout.decode("utf-8", "replace").strip()
    if done.returncode == 0 and out[:1].isdigit():
        return None
    stderr = done.stderr.decode("utf-8", "replace")
    if "Python" in stderr:
        return None
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    said = ": " + lines[-1] if lines else ", printing nothing on stderr"
    if len(said) > 200:
        said = said[:197] + "..."
    if done.returncode == 0:
        how = "exited 0 without printing a Python version"
    elif done.returncode < 0:
        how = "was killed by signal %d" % -done.returncode
    else:
        how = "exited with status %d" % done.returncode
    return "%s is not a Python interpreter: `%s` %s%s" % (path, command, how, said)


def _probe(argv, label):
    """Run PROBE under argv; its report, or {"error": one line}.  In an
    empty directory: `python -c` puts the current one first on sys.path,
    and the doctor must never run a checkout's json.py."""
    import tempfile

    try:
        with tempfile.TemporaryDirectory(prefix="cpmp-doctor-") as empty:
            done = subprocess.run(argv + ["-c", PROBE], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  timeout=_PROBE_TIMEOUT, cwd=empty)
    except subprocess.TimeoutExpired:
        return {"error": "%s did not finish in %d s" % (label, _PROBE_TIMEOUT)}
    except OSError as exc:
        return {"error": "%s cannot be started: %s" % (label, exc.strerror)}
    stderr = done.stderr.decode("utf-8", "replace")
    warnings = [line for line in stderr.splitlines() if line.startswith(_settings.LOG_PREFIX)]
    try:
        report = json.loads(done.stdout.decode("utf-8", "replace").strip().splitlines()[-1])
    except (ValueError, IndexError):
        last = (stderr.strip().splitlines() or ["exit status %d" % done.returncode])[-1]
        return {"error": "%s failed: %s" % (label, last), "warnings": warnings}
    report["warnings"] = warnings
    return report


def _stock_interpreter():
    """The stock interpreter of the Python cpmp run embeds, if there is one:
    in a virtualenv, the venv's own python."""
    import sysconfig

    if sys.prefix != sys.base_prefix:
        directory = os.path.join(sys.prefix, "bin")
    else:
        directory = sysconfig.get_config_var("BINDIR") or ""
    for name in ("python%d.%d" % sys.version_info[:2], "python3", "python"):
        path = os.path.join(directory, name)
        if os.access(path, os.X_OK):
            return path
    return None


def _install_hint(report):
    from .._settings import install_fix as _install_fix

    return _install_fix("cloudpickle", report["prefix"], report["base_prefix"], report["executable"])


class _Doctor:
    def __init__(self, launcher, pydir, python_link, preload):
        self.launcher = launcher
        self.pydir = pydir
        self.python_link = python_link
        self.preload = preload
        self.problems = []

    def problem(self, what, fix):
        self.problems.append({"problem": what, "fix": fix})

    def check_common(self, report, who, argv):
        """The checks a patched interpreter must pass, by launcher or preload
        (argv: how it was started)."""
        if "error" in report:
            import shlex

            again = " ".join(shlex.quote(arg) for arg in argv + ["-c", _START_CODE])
            self.problem(report["error"], "run `%s` to see all it says" % again)
            return
        if report.get("cloudpickle") is None:
            self.problem("cloudpickle not importable by %s (%s): local classes cannot be sent"
                         % (report["executable"], report.get("cloudpickle_error")),
                         _install_hint(report))
        sites = report.get("sites")
        unpatched = [site for site, ok in (sites or {}).items() if not ok]
        if sites is None:
            if not self.disabled_fix():  # reported once already
                why = report["warnings"][0] if report["warnings"] else "cpmp was not loaded"
                self.problem("%s is not patched: %s" % (who, why),
                             "unset %s and run it to see cpmp's warning" % _settings.ENV_QUIET)
        elif unpatched:
            self.problem("%s leaves %s unpatched" % (who, ", ".join(unpatched)),
                         "find what rebinds it (a sitecustomize, a .pth file, the program), "
                         "or report a cpmp bug with this output")
        failed = [m for m, result in report.get("pool", {}).items() if result != "ok"]
        if sites is not None and failed:
            self.problem("%s: Pool.map of a lambda fails with start method%s %s: %s"
                         % (who, "s" if len(failed) > 1 else "", ", ".join(failed),
                            report["pool"][failed[0]]),
                         "report a cpmp bug with this output" if not unpatched
                         else "the unpatched site above")

    def disabled_fix(self):
        if _env_flag(_settings.ENV_DISABLE):
            return "unset " + _settings.ENV_DISABLE
        return None

    def embedded(self):
        """What `cpmp run` gives: its embedded Python, through the python3
        link that spawn children re-execute."""
        report = _probe([self.python_link], "cpmp run")
        report.setdefault("executable", self.python_link)
        self.check_common(report, "cpmp run", [self.python_link])
        return report

    def preloaded(self, python):
        """What `cpmp exec PYTHON` gives, and why."""
        argv = [self.launcher, "exec", "--", python]
        report = _probe(argv, "cpmp exec %s" % python)
        report["executable"] = python
        verdict = []
        if "error" not in report:
            version = tuple(report["version_info"])
            if report["implementation"] != "CPython" or version < (3, 8):
                verdict.append("it needs CPython 3.8 or later")
                self.problem("the preload library cannot act in %s (%s %s): it needs CPython 3.8 "
                             "or later" % (python, report["implementation"], report["python"]),
                             "use cpmp with a newer Python")
            elif report["setid"]:
                verdict.append("set-user/group-ID: the loader ignores LD_PRELOAD")
                self.problem("%s is set-user/group-ID: the dynamic loader ignores LD_PRELOAD for it"
                             % python, "run a copy without the set-ID bit")
            elif report["audit_symbol"] is False:
                verdict.append("PySys_AddAuditHook is not exported")
                self.problem("%s does not export the C API (PySys_AddAuditHook): a static "
                             "libpython linked without --export-dynamic" % python,
                             "use cpmp run, or a Python built with --enable-shared")
            else:
                self.check_common(report, "cpmp exec %s" % python, argv)
                return report
        else:
            self.check_common(report, "cpmp exec %s" % python, argv)
        report["preload_acts"] = False
        report["why_not"] = "; ".join(verdict)
        return report

    def run(self, pythons, runs=""):
        result = {
            "cpmp": {
                "version": _version(),
                "launcher": self.launcher,
                "package": os.path.join(self.pydir, "cpmp"),
                "speedups": _speedups_problem() is None,
                "speedups_problem": _speedups_problem(),
                "preload": self.preload,
            },
            "settings": {name: os.environ[name] for name in _SETTINGS if name in os.environ},
        }
        if self.disabled_fix():
            self.problem("%s=%s is set: cpmp stays out of every process"
                         % (_settings.ENV_DISABLE, os.environ[_settings.ENV_DISABLE]),
                         self.disabled_fix())
        if not os.access(self.preload, os.R_OK):
            self.problem("cannot read the preload library %s" % self.preload,
                         "reinstall cpmp (meson install)")
        result["embedded"] = self.embedded()
        if not pythons:
            stock = _stock_interpreter()
            pythons = [stock] if stock else []
        result["run"] = runs or None
        if runs and runs not in pythons:
            pythons = [runs] + pythons
        result["preloaded"] = [self.preloaded(python) for python in pythons]
        for report in result["preloaded"]:
            report.setdefault("preload_acts", "error" not in report)
        result["problems"] = self.problems
        result["ok"] = not self.problems
        return result


def _version():
    return _settings.VERSION


def _speedups_problem():
    """None when the C fast path is in use, else why not."""
    from ..core import _reduce

    return _reduce.SPEEDUPS_PROBLEM


def main(argv):
    """argv: the launcher, the package's directory, the python3 link, the
    preload library, the python3 `cpmp run` runs with it ("": the embedded
    one), then the user's arguments.  Returns the exit status."""
    launcher, pydir, python_link, preload, runs = argv[:5]
    try:
        options = _parse(argv[5:])
    except Usage as exc:
        sys.stderr.write("%s%s\n" % (_settings.LOG_PREFIX, exc))
        return 2
    if options["cluster"] is not None:
        from . import _cluster_doctor

        result = _cluster_doctor.run(options["cluster"])
        human = _cluster_doctor.human
    else:
        from ._doctor_text import human

        result = _Doctor(launcher, pydir, python_link, preload).run(options["python"], runs)
    if options["json"]:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    else:
        sys.stdout.write(human(result))
    return 0 if result["ok"] else 1
