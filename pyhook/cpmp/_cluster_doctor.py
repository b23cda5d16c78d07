"""What each worker of a Dask cluster runs, checked at connect (_cluster)
and by ``cpmp doctor --cluster ADDRESS``.

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
    importlib.import_module(PACKAGE + "._cluster_worker")
except Exception as e:
    r["cpmp"] = None
    r["cpmp_error"] = "%s: %s" % (type(e).__name__, e)
'''


def _package():
    return __name__.rpartition(".")[0]


def worker_reports(client):
    """{worker address: what it runs, or {"error": text}}."""
    expr = "(lambda ns: (exec(%r, ns), ns['r'])[1])({'PACKAGE': %r})" % (CHECK, _package())
    reports = client.run(eval, expr, on_error="return")
    return {address: r if isinstance(r, dict) else {"error": "%s: %s" % (type(r).__name__, r)}
            for address, r in reports.items()}


def _here():
    from ._settings import VERSION

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
    here = _here()
    found = []
    for worker, report in sorted(worker_reports(client).items()):
        found += problems_of(worker, report, here, address)
    return found


# --- cpmp doctor --cluster ADDRESS ---------------------------------------------

def run(address):
    """Connect for real, ask every worker, send a lambda through a Pool."""
    import os

    from . import _cluster
    from ._settings import ENV_QUIET

    os.environ[ENV_QUIET] = "1"  # no dashboard line in the report
    result = {"address": address, "workers": {}, "round_trip": None, "problems": []}
    try:
        conn = _cluster.connect(address)
    except _cluster.Unavailable as exc:
        line = str(exc.code)
        problem, _, fix = line[len("cpmp: "):].partition(": start")
        result["problems"].append({"problem": problem, "fix": "start" + fix if fix else
                                   "check the address, and that dask-scheduler runs there"})
        result["ok"] = False
        return result
    result["address"] = conn.address
    result["workers"] = worker_reports(conn.client)
    info = conn.client.scheduler_info().get("workers", {})
    for worker, report in result["workers"].items():
        report["nthreads"] = info.get(worker, {}).get("nthreads")
    here = _here()
    for worker, report in sorted(result["workers"].items()):
        for line in problems_of(worker, report, here, conn.address):
            problem, _, fix = line.rpartition(": ")
            result["problems"].append({"problem": problem, "fix": fix})
    if not result["problems"]:
        result["round_trip"] = _round_trip(result)
    result["ok"] = not result["problems"]
    conn.close()
    return result


def _round_trip(result):
    from ._cluster_pool import ClusterPool

    k = 3
    try:
        with ClusterPool() as pool:
            got = pool.map(lambda x: x * x + k, range(4))
    except Exception as exc:
        got = "%s: %s" % (type(exc).__name__, exc)
    if got != [3, 4, 7, 12]:
        result["problems"].append({"problem": "a lambda sent through a Pool came back as %r"
                                              % (got,),
                                   "fix": "run `cpmp doctor` on a worker's machine"})
        return False
    return True


def human(result):
    out = ["Dask cluster %s" % result["address"]]
    for worker, report in sorted(result["workers"].items()):
        if "error" in report:
            out.append("  %-28s error: %s" % (worker, report["error"]))
            continue
        out.append("  %-28s Python %s, cloudpickle %s, cpmp %s" % (
            worker, report["python"], report["cloudpickle"], report["cpmp"] or "missing"))
    if result["round_trip"] is not None:
        out.append("  lambda round trip: %s" % ("ok" if result["round_trip"] else "fails"))
    out.append("")
    threaded = sorted(w for w, r in result["workers"].items() if (r.get("nthreads") or 1) > 1)
    if threaded:
        out.append("note: %s run%s several threads, and cpmp one task at a time in each worker "
                   "process, as a local pool does: start workers with --nthreads 1 --nworkers N "
                   "to use N cores" % (", ".join(threaded), "" if len(threaded) > 1 else "s"))
    if result["ok"]:
        out.append("ok: the cluster runs this program's pools")
    for problem in result["problems"]:
        out.append("problem: %s; fix: %s" % (problem["problem"], problem["fix"]))
    return "\n".join(out) + "\n"
