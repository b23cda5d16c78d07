"""The program families of the differential test (tests/differential.py).

Each family (families_code.py, families_objects.py, families_readers.py)
makes cases: a few lines of a program -- at its top level, in its main
block before the shared worker starts (pre), in its main block after
(body, which sets `out`) -- with what the model says the body prints, and
where python3 agrees, the lines python3 runs (top-level defs), and where it
applies, a function to round-trip through cpmp and cloudpickle.  Many
cases share one program and one Pool(1) (POOL, started after every case's
pre lines), so a thousand of them run in a few processes a start method.

    run(cpmp, python, workdir, seed, per_family, methods)
        -> (counts, bad lines, {(oracle, id): printed})
"""

import os
import random
import subprocess

ITEMS = [0, 1, 2]
SENDS = 3
PROCS = ("readers", "replaced")
CHUNK = {"procs": 8, "shared": 200}
TIMEOUT = 300  # seconds a program may take (differential.py --mutations: less)

HELPERS = '''\
import functools, multiprocessing, operator, os, pickle, sys
from multiprocessing.reduction import ForkingPickler

ITEMS = [0, 1, 2]


class Box:
    def __init__(self, v):
        self.v = v


class SlotBox:
    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v


class WeakSlot:
    __slots__ = ("v", "__weakref__")

    def __init__(self, v):
        self.v = v


def peek(o):
    return o["v"] if isinstance(o, dict) else o[0] if isinstance(o, list) else o.v


def bump(o):
    if isinstance(o, dict):
        o["v"] += 1
    elif isinstance(o, list):
        o[0] += 1
    else:
        o.v += 1
    return peek(o)


def stock_dumps(obj):
    # What multiprocessing's pickler writes without cpmp's reducer_override.
    import io
    buf = io.BytesIO()
    p = pickle.Pickler(buf)
    p.dispatch_table = dict(ForkingPickler._copyreg_dispatch_table)
    p.dispatch_table.update(ForkingPickler._extra_reducers)
    p.dump(obj)
    return buf.getvalue()


def attempt(thunk):
    try:
        return thunk()
    except Exception as exc:
        return exc.__class__.__name__


def deco(f):
    @functools.wraps(f)
    def wrapper(x):
        return (wrapper.__name__, wrapper.__doc__, f(x))
    return wrapper


def serve(conn):
    # A reader: calls each function it gets on ITEMS, sends back the list.
    while True:
        fn = conn.recv()
        if fn is None:
            return
        conn.send(attempt(lambda: [fn(x) for x in ITEMS]))


def ask(conn, fn):
    conn.send(fn)
    return conn.recv() if conn.poll(60) else "no answer"


def _trip(blob, loads):
    f = __import__(loads).loads(blob)
    return [attempt(lambda: f(x)) for x in ITEMS]


def trip(fn):
    # fn through cloudpickle and through cpmp, each loaded and called in a
    # spawned child: whether they behave the same.
    import cloudpickle, cpmp
    got = []
    for mod, loads in ((cloudpickle, "cloudpickle"), (cpmp, "pickle")):
        try:
            blob = mod.dumps(fn)
        except Exception as exc:
            got.append(exc.__class__.__name__)
            continue
        got.append(POOL.apply(_trip, (blob, loads)))
    return "same" if repr(got[0]) == repr(got[1]) else "differ %r" % (got,)
'''


def new_case(family, method, ident, **params):
    return {"family": family, "method": method, "id": ident, "params": params,
            "top": [], "pre": [], "body": [], "want": None, "stock": None, "trip": None}


def describe(case):
    return "%s %s %s" % (case["family"], case["method"],
                         " ".join("%s=%s" % kv for kv in sorted(case["params"].items())))


def program(cases, mode):
    """One program of these cases: mode "cpmp" (the cases as made), "stock"
    (their python3 lines) or "trip" (their round trips, one spawned POOL)."""
    top, pre, mains = [HELPERS], [], []
    for case in cases:
        lines = case if mode == "cpmp" else case[mode]
        top += lines["top"]
        if mode == "trip":
            body = lines["body"] + ["out = trip(fn)"]
        else:
            pre += lines["pre"]
            body = lines["body"]
        mains += ["    try:"] + ["        " + b for b in body]
        mains += ["        print(%d, out, flush=True)" % case["id"],
                  "    except Exception as exc:",
                  "        print(%d, 'error', exc.__class__.__name__, exc, flush=True)"
                  % case["id"]]
    ctx = "'spawn'" if mode == "trip" else "sys.argv[1]"
    main = ['if __name__ == "__main__":', "    ctx = multiprocessing.get_context(%s)" % ctx]
    main += ["    " + p for p in pre] + ["    POOL = ctx.Pool(1)"] + mains
    main += ["    POOL.close()", "    POOL.join()"]
    return "\n".join(top + [""] + main) + "\n"


def _run(job):
    argv, path, method, env = job
    try:
        proc = subprocess.run(argv + [path, method], stdout=subprocess.PIPE, env=env,
                              stderr=subprocess.STDOUT, universal_newlines=True,
                              timeout=TIMEOUT)
        out, code = proc.stdout, proc.returncode
    except subprocess.TimeoutExpired as exc:
        out, code = exc.stdout or "", "timeout"
        out = out.decode() if isinstance(out, bytes) else out
    got = {}
    for line in out.splitlines():
        head, _, rest = line.partition(" ")
        if head.isdigit():
            got[int(head)] = rest
    return got, code


def run_programs(jobs, at_once=3):
    """(printed by id, exit status) of each (argv, path, method, env), three
    at a time: the programs are independent, and spend much of their time
    waiting for processes they start."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(at_once) as pool:
        return list(pool.map(_run, jobs))


def make(seed, per_family, methods, generators):
    """Every family's cases, per start method, from one seed."""
    rng = random.Random(seed)
    cases, ident = [], 1000
    for method in methods:
        for family, gen in generators:
            for _ in range(per_family(family)):
                case = gen(rng, method, ident)
                if case is not None:
                    cases.append(case)
                    ident += 1
    return cases


def run(cpmp, python, workdir, cases, oracles=("cpmp", "stock", "trip"), env=None):
    """The cases under cpmp (and the oracles asked for): (counts, bad lines,
    results by (oracle, id))."""
    bad, results, counts = [], {}, {"cpmp": 0, "stock": 0, "trip": 0}
    groups, sizes = {}, {}
    for case in cases:
        # Cases that start processes of their own apart from the others, and
        # in programs short enough to run side by side.
        family = "procs" if case["family"] in PROCS else "shared"
        n = sizes.get((family, case["method"]), 0)
        sizes[(family, case["method"])] = n + 1
        groups.setdefault((family, case["method"], n // CHUNK[family]), []).append(case)
    jobs, checks = [], []
    for (family, method, n), group in sorted(groups.items()):
        for oracle in oracles:
            mine = [c for c in group if oracle == "cpmp" or c[oracle] is not None]
            if not mine:
                continue
            argv = [python] if oracle == "stock" else [cpmp, "run"]
            path = os.path.join(workdir, "%s%d_%s_%s.py" % (family, n, method, oracle))
            with open(path, "w") as f:
                f.write(program(mine, oracle))
            jobs.append((argv, path, method, env))
            checks.append((oracle, mine))
    for (oracle, mine), (got, code) in zip(checks, run_programs(jobs)):
        counts[oracle] += len(mine)
        for case in mine:
            have = got.get(case["id"], "nothing (exit %s)" % code)
            results[(oracle, case["id"])] = have
            want = case["trip"]["want"] if oracle == "trip" else case["want"]
            if have != want and not (oracle == "trip" and have.startswith(want)):
                bad.append("%s #%d [%s]: printed %s, the model says %s"
                           % (oracle, case["id"], describe(case), have, want))
    return counts, bad, results
