"""``cpmp doctor --cluster ADDRESS``: connect for real, ask every worker
what it runs (cluster/_checks), send a lambda through a Pool."""

def run(address):
    """Connect for real, ask every worker, send a lambda through a Pool."""
    import os

    from .._settings import ENV_QUIET
    from ..cluster import _checks, _client

    os.environ[ENV_QUIET] = "1"  # no dashboard line in the report
    result = {"address": address, "workers": {}, "round_trip": None, "problems": []}
    try:
        conn = _client.connect(address)
    except _client.Unavailable as exc:
        line = str(exc.code)
        problem, _, fix = line[len("cpmp: "):].partition(": start")
        result["problems"].append({"problem": problem, "fix": "start" + fix if fix else
                                   "check the address, and that dask-scheduler runs there"})
        result["ok"] = False
        return result
    result["address"] = conn.address
    result["workers"] = _checks.worker_reports(conn.client)
    info = conn.client.scheduler_info().get("workers", {})
    for worker, report in result["workers"].items():
        report["nthreads"] = info.get(worker, {}).get("nthreads")
    here = _checks.here()
    for worker, report in sorted(result["workers"].items()):
        for line in _checks.problems_of(worker, report, here, conn.address):
            problem, _, fix = line.rpartition(": ")
            result["problems"].append({"problem": problem, "fix": fix})
    if not result["problems"]:
        result["round_trip"] = _round_trip(result)
    result["ok"] = not result["problems"]
    conn.close()
    return result


def _round_trip(result):
    from ..cluster._pool import ClusterPool

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
