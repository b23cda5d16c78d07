"""What each worker of a Dask cluster runs, checked at connect (_client)
and by ``cpmp doctor --cluster ADDRESS`` (tools/_cluster_doctor).

The question is asked with the builtin eval, which any worker can run: a
worker without cpmp answers too, and is told how to start instead.
"""

import sys

# Run on each worker (exec'd in a fresh namespace holding PACKAGE): what
# it has of what the program needs.
CHECK = r'''
import importlib, os, sys
r = {"python": "%d.%d.%d" % sys.version_info[:3], "implementation": sys.implementation.name,
     "executable": sys.executable, "pid": os.getpid()}
try:
    import cloudpickle
    r["cloudpickle"] = cloudpickle.__version__
except Exception:
    r["cloudpickle"] = None
try:
    r["cpmp"] = importlib.import_module(PACKAGE + "._config").VERSION
    importlib.import_module(PACKAGE + ".cluster._worker")
except Exception as e:
    r["cpmp"] = None
    r["cpmp_error"] = "%s: %s" % (type(e).__name__, e)
'''


def _package():
    return __name__.rsplit(".", 2)[0]  # the package cpmp is loaded as


def worker_reports(client):
    """{worker address: what it runs, or {"error": text}}."""
    expr = "(lambda ns: (exec(%r, ns), ns['r'])[1])({'PACKAGE': %r})" % (CHECK, _package())
    reports = client.run(eval, expr, on_error="return")
    return {address: r if isinstance(r, dict) else {"error": "%s: %s" % (type(r).__name__, r)}
            for address, r in reports.items()}


def here():
    from .._settings import VERSION

    try:
        import cloudpickle

        cp = cloudpickle.__version__
    except ImportError:
        cp = None
    return {"python": "%d.%d.%d" % sys.version_info[:3],
            "implementation": sys.implementation.name, "cloudpickle": cp, "cpmp": VERSION}


def problems_of(worker, report, here, address):
    """One line per problem of one worker, each with its fix."""
    start = "start it with `cpmp exec -- dask-worker %s`" % address
    if "error" in report:
        return ["worker %s did not answer: %s" % (worker, report["error"])]
    mine, theirs = here["python"].rsplit(".", 1)[0], report["python"].rsplit(".", 1)[0]
    if (report["implementation"], theirs) != (here["implementation"], mine):
        return ["worker %s runs %s %s, this program %s %s: code does not travel between "
                "them; %s under Python %s" % (worker, report["implementation"], report["python"],
                                              here["implementation"], here["python"], start,
                                              mine)]
    if report["cpmp"] is None:
        return ["worker %s does not run cpmp (%s): %s" % (worker, report.get("cpmp_error"),
                                                          start)]
    found = []
    if report["cpmp"] != here["cpmp"]:
        found.append("worker %s runs cpmp %s, this program cpmp %s: %s with cpmp %s"
                     % (worker, report["cpmp"], here["cpmp"], start, here["cpmp"]))
    if report["cloudpickle"] != here["cloudpickle"]:
        found.append("worker %s has cloudpickle %s, this program %s: install the same "
                     "cloudpickle on both" % (worker, report["cloudpickle"], here["cloudpickle"]))
    return found


def worker_problems(client, address):
    mine = here()
    found = []
    for worker, report in sorted(worker_reports(client).items()):
        found += problems_of(worker, report, mine, address)
    return found
