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
    return os.path.abspath(path)


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

    def check_common(self, report, who):
        """The checks a patched interpreter must pass, by launcher or preload."""
        if "error" in report:
            self.problem(report["error"], "run it by hand to see why")
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
        self.check_common(report, "cpmp run")
        return report

    def preloaded(self, python):
        """What `cpmp exec PYTHON` gives, and why."""
        report = _probe([self.launcher, "exec", "--", python], "cpmp exec %s" % python)
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
                self.check_common(report, "cpmp exec %s" % python)
                return report
        else:
            self.check_common(report, "cpmp exec %s" % python)
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


# --- the human-readable report ----------------------------------------------

def _row(out, label, value):
    out.append("  %-15s %s" % (label, value))


def _interpreter_rows(out, report):
    if "error" in report:
        _row(out, "error", report["error"])
        return
    if report.get("cloudpickle"):
        _row(out, "cloudpickle", "%s (%s)" % (report["cloudpickle"], report["cloudpickle_path"]))
    else:
        _row(out, "cloudpickle", "not importable: %s" % report.get("cloudpickle_error"))
    methods = [m + (" (default)" if m == report["default_start_method"] else "")
               for m in report["start_methods"]]
    _row(out, "start methods", ", ".join(methods))
    sites = report.get("sites")
    if sites is None:
        _row(out, "binding sites", "not patched (cpmp not loaded)")
    else:
        bad = [site for site, ok in sites.items() if not ok]
        _row(out, "binding sites", "%d/%d patched%s" % (len(sites) - len(bad), len(sites),
                                                        ": not " + ", ".join(bad) if bad else ""))
        if report.get("speedups") is not None:
            _row(out, "fast pickler", "yes" if report["speedups"] else
                 "no: the pure-Python path (slower): %s" % report.get("speedups_problem"))
    if "pool" in report and sites is not None:
        _row(out, "Pool lambdas", ", ".join("%s %s" % (m, "ok" if r == "ok" else "fails")
                                            for m, r in report["pool"].items()))


def _human(result):
    cpmp = result["cpmp"]
    out = ["cpmp %s (%s)" % (cpmp["version"], cpmp["launcher"])]
    _row(out, "package", "%s (C fast path: %s)" % (
        cpmp["package"], "yes" if cpmp["speedups"] else "no: " + str(cpmp["speedups_problem"])))
    _row(out, "preload library", "%s (what cpmp exec uses)" % cpmp["preload"])
    settings = result["settings"]
    _row(out, "settings", ", ".join("%s=%s" % kv for kv in sorted(settings.items()))
         or "none set (%s)" % ", ".join(_SETTINGS))
    embedded = result["embedded"]
    out.append("")
    if result.get("run"):
        out.append("cpmp run: runs %s with the preload library (as cpmp exec, below); its "
                   "python3 link: embedded Python %s (%s)" % (
                       result["run"], embedded.get("python", "?"), embedded.get("prefix", "?")))
    else:
        out.append("cpmp run: embedded Python %s (%s)" % (embedded.get("python", "?"),
                                                          embedded.get("prefix", "?")))
    _interpreter_rows(out, embedded)
    for report in result["preloaded"]:
        out.append("")
        out.append("cpmp exec %s: Python %s" % (report["executable"], report.get("python", "?")))
        if "error" not in report:
            shared = report.get("shared")
            _row(out, "libpython", "shared" if shared else "static (in the executable)"
                 if shared is False else "unknown")
            _row(out, "audit hook API", {True: "yes", False: "no"}.get(report["audit_symbol"],
                                                                        "unknown"))
            _row(out, "set-ID", "yes" if report["setid"] else "no")
            _row(out, "preload acts", "yes" if report["preload_acts"]
                 else "no: " + report["why_not"])
        if report["preload_acts"] or "error" in report:
            _interpreter_rows(out, report)
    out.append("")
    if result["ok"]:
        out.append("ok: everything cpmp needs works")
    for problem in result["problems"]:
        out.append("problem: %s; fix: %s" % (problem["problem"], problem["fix"]))
    return "\n".join(out) + "\n"


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
        result = _Doctor(launcher, pydir, python_link, preload).run(options["python"], runs)
        human = _human
    if options["json"]:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    else:
        sys.stdout.write(human(result))
    return 0 if result["ok"] else 1
