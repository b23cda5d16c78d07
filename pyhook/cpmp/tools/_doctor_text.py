"""cpmp doctor's report as text: a block per interpreter, then one
`problem: ...; fix: ...` line per problem (_doctor.py makes the report)."""

from .._settings import SETTINGS as _SETTINGS

__all__ = ["human"]


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


def human(result):
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
