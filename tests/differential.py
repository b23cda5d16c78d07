#!/usr/bin/env python3
"""Differential test of what a function sent by value sees (differential.bats).

    differential.py CPMP PYTHON WORKDIR [SEED] [PER_METHOD] [--cluster ADDRESS]

Generates small programs from a fixed seed: a lambda, closure, nested
function, local class or main-block def that reads (or mutates) a global
bound at top level or in the main block, bound before or after the pool
starts, rebound or mutated by the main block between sends, rebound by a
pool initializer; chunksize 1 or 3; a Pool, a ProcessPoolExecutor or one
Process a send; under fork, spawn and forkserver.  Every case runs under `cpmp run` and is
compared with two oracles:

* the model (pyhook/cpmp/_policy.py), simulated below, for every case;
* stock python3 running the same program with the function written as a
  top-level def, for every case where python3 can run it and the model says
  python3's answer: globals bound at top level (read live in the worker,
  as a top-level def reads them), main-block globals a forked worker
  holds (bound before the fork, never rebound; a dict neither mutated by
  the task nor by the main block, since a function sent by value gets the
  sender's copy of an object that takes no weak reference), and a
  main-block def reading a main-block dict under fork (its own, as python3).

With --cluster, every case runs instead under `cpmp run --cluster ADDRESS`
and is compared with the model's answer for a spawn worker (a cluster's
workers hold nothing of the program); a Process stays on this machine,
with its own start method (cluster.bats).

Prints one line per disagreement and a summary; exits 1 if any.
"""

import os
import random
import subprocess
import sys

METHODS = ("fork", "spawn", "forkserver")
KINDS = ("lambda", "closure", "nested", "local-class", "main-def")
SENDS = 3
ITEMS = (0, 1, 2)


def generate(seed, per_method):
    """Cases: dicts of the parameters, valid combinations only."""
    rng = random.Random(seed)
    cases = []
    for method in METHODS:
        for _ in range(per_method):
            loc = rng.choice(("top", "main"))
            vtype = rng.choice(("int", "dict"))
            case = {
                "id": len(cases),
                "method": method,
                "loc": loc,
                "when": rng.choice(("before", "after")) if loc == "main" else "before",
                "vtype": vtype,
                "parent_op": rng.choice(("none", "rebind", "mutate") if vtype == "dict"
                                        else ("none", "rebind")),
                "init": rng.choice(("none", "rebind")) if loc == "top" else "none",
                "task_op": rng.choice(("read", "mutate")) if vtype == "dict" else "read",
                "kind": rng.choice(KINDS),
                "chunksize": rng.choice((1, 3)),
                "api": rng.choice(("pool", "executor", "process")),
            }
            if case["api"] == "process":
                case["init"] = "none"  # a Process has no initializer
            cases.append(case)
    return cases


# --- the model ----------------------------------------------------------------

def _value(vtype, n):
    return {"v": n} if vtype == "dict" else n


def _read(value):
    return value["v"] if isinstance(value, dict) else value


def expected(case):
    """What the model says the program prints for this case."""
    i, vtype = case["id"], case["vtype"]
    base = 10 * i
    parent = _value(vtype, base)
    fork = case["method"] == "fork"
    # When the worker is forked: a Pool forks at creation, an executor at
    # its first submit (after a main-block global bound "after").
    bound_at_fork = case["when"] == "before" or case["api"] == "executor"
    rebound = False
    if case["loc"] == "top":
        # The worker's module binds it: the top-level value (forked or
        # re-imported), then the initializer's.
        worker = _value(vtype, base)
        if case["init"] == "rebind":
            worker = _value(vtype, base + 100)
    else:
        worker = _value(vtype, base) if fork and bound_at_fork else None
    out = []
    for _ in range(SENDS):
        results = []
        if case["api"] == "process":
            # A new process each send, which calls the function on every
            # item: forked, it has the parent's state now; spawned, a top-level
            # name is the re-imported value, a main-block one the sender's.
            if case["loc"] == "top" and not fork:
                space = _value(vtype, base)
            else:
                space = dict(parent) if vtype == "dict" else parent
            spaces = [space] * len(ITEMS)
        elif case["loc"] == "top":
            spaces = [worker] * len(ITEMS)
        else:
            if vtype == "dict" and case["kind"] != "main-def":
                # An object that takes no weak reference is never held:
                # a function sent by value gets the sender's value.
                held = False
            elif vtype == "dict":
                # A held main-block def reads the worker's own dict, as
                # python3 reads it (no weak reference tells it apart).
                held = worker is not None
            else:
                held = worker is not None and not rebound
            chunks = [ITEMS[j:j + case["chunksize"]] for j in range(0, len(ITEMS),
                                                                    case["chunksize"])]
            spaces = []
            for chunk in chunks:
                # Not held: the sender's value at this send, one copy per task.
                space = worker if held else (dict(parent) if vtype == "dict" else parent)
                spaces.extend([space] * len(chunk))
        for x, space in zip(ITEMS, spaces):
            if case["task_op"] == "mutate":
                space["v"] += 1
            results.append(x + _read(space))
        out.append(results)
        if case["parent_op"] == "rebind":
            parent = _value(vtype, _read(parent) + 1000)
            rebound = True
        elif case["parent_op"] == "mutate":
            parent["v"] += 1
    return out


def stock_agrees(case):
    """Whether python3 running the top-level-def program gives the model's
    answer: see the module docstring."""
    if case["loc"] == "top":
        return True
    if case["api"] == "process":
        return case["method"] == "fork"  # the child has the parent's state now
    held = case["method"] == "fork" and (case["when"] == "before" or case["api"] == "executor")
    if case["vtype"] == "dict":
        if case["kind"] == "main-def":
            return held  # the worker's own, rebound or not, as python3
        if case["task_op"] == "mutate" or case["parent_op"] == "mutate":
            return False  # python3's def reads the worker's own copy; cpmp sends the value
    return held and case["parent_op"] != "rebind"


def cloudpickle_differs(case):
    """Where the model deliberately differs from cloudpickle (the round
    trips of program(against_cloudpickle=True)): a function that mutates a
    global its module binds mutates the module's live one, cloudpickle's a
    copy of it."""
    return case["task_op"] == "mutate" and case["loc"] == "top"


def _round_trips(case, g, fn):
    if case["loc"] == "main" and case["when"] == "after":
        lines = ["%s = %r" % (g, _value(case["vtype"], 10 * case["id"]))]
    else:
        lines = []
    lines += ["theirs = trip(%r, cloudpickle.dumps(%s), 'cloudpickle')" % (g, fn),
              "ours = trip(%r, cpmp.dumps(%s), 'pickle')" % (g, fn),
              "out = 'same' if ours == theirs else 'differ %s %s' % (ours, theirs)"]
    return lines


_TRIP = [
    "def _trip(name, blob, loads):",
    "    f = __import__(loads).loads(blob)",
    "    return [f(x) for x in %r], globals().get(name)" % (list(ITEMS),),
    "def trip(name, blob, loads):",
    "    # Loaded and called in a spawned child, as a worker would.",
    "    return POOL.apply(_trip, (name, blob, loads))",
]


# --- the programs -----------------------------------------------------------------

def _body(case, g):
    """The statements of a function of x that reads (or mutates) global g."""
    read = g + '["v"]' if case["vtype"] == "dict" else g
    if case["task_op"] == "mutate":
        return ["%s[\"v\"] += 1" % g, "return x + %s" % read]
    return ["return x + %s" % read]


def _expr(case, g):
    read = g + '["v"]' if case["vtype"] == "dict" else g
    if case["task_op"] == "mutate":
        return '(%s.__setitem__("v", %s + 1), x + %s)[1]' % (g, read, read)
    return "x + %s" % read


def _def(name, body, indent):
    pad = " " * indent
    return [pad + "def %s(x):" % name] + [pad + "    " + line for line in body]


def program(cases, stock, against_cloudpickle=False):
    """One program running every case given (all of one start method).  With
    stock, the function is a top-level def (what python3 can send).  With
    against_cloudpickle, no pool per case: one round trip of the
    function through cpmp and one through cloudpickle, loaded and called on
    the same items in a spawned child; it prints whether results and the
    child's global afterwards agree."""
    top = ["import multiprocessing, os, sys",
           "from concurrent.futures import ProcessPoolExecutor", "",
           "def call_all(q, fn, items):", "    q.put([fn(x) for x in items])", ""]
    main = ['if __name__ == "__main__":', "    ctx = multiprocessing.get_context(sys.argv[1])"]
    if against_cloudpickle:
        top += ["import cloudpickle, cpmp"] + _TRIP
        main.append("    POOL = multiprocessing.get_context('spawn').Pool(1)")
    for case in cases:
        i, vtype = case["id"], case["vtype"]
        g = "G%d" % i
        value = repr(_value(vtype, 10 * i))
        body = _body(case, g)
        if case["loc"] == "top":
            top.append("%s = %s" % (g, value))
        if case["init"] == "rebind":
            top += ["def init%d():" % i, "    global %s" % g,
                    "    %s = %r" % (g, _value(vtype, 10 * i + 100))]
        kind = "top-def" if stock else case["kind"]
        if kind == "top-def":
            top += _def("top_f%d" % i, body, 0)
            fn = "top_f%d" % i
        elif kind == "lambda":
            fn = "lambda x: %s" % _expr(case, g)
        elif kind == "closure":
            top += ["def make%d(c):" % i] + _def("f", ["c"] + body, 4) + ["    return f"]
            fn = "make%d(0)" % i
        elif kind == "nested":
            top += ["def nest%d():" % i] + _def("inner", body, 4) + ["    return inner"]
            fn = "nest%d()" % i
        elif kind == "local-class":
            top += ["def klass%d():" % i, "    class Local:"]
            top += ["        def __call__(self, x):"] + ["            " + b for b in body]
            top += ["    return Local()"]
            fn = "klass%d()" % i
        else:
            fn = "main_f%d" % i
        lines = []
        if case["loc"] == "main" and case["when"] == "before":
            lines.append("%s = %s" % (g, value))
        if kind == "main-def":
            lines += _def("main_f%d" % i, body, 0)
        if against_cloudpickle:
            lines += _round_trips(case, g, fn)
        else:
            lines += _sends(case, g, value, fn)
        lines.append("print(%d, out, flush=True)" % i)
        main += ["    try:"] + ["        " + line for line in lines]
        main += ["    except Exception as exc:",
                 "        print(%d, 'error', type(exc).__name__, exc, flush=True)" % i]
    return "\n".join(top + [""] + main) + "\n"


def _sends(case, g, value, fn):
    """A pool (started as the case says), SENDS maps of fn, and the main
    block's rebinding or mutation of g between them."""
    i = case["id"]
    init = ", initializer=init%d" % i if case["init"] == "rebind" else ""
    if case["api"] == "process":
        # One Process a send; it calls fn on every item and sends back the list.
        lines = ["if True:", "    q = ctx.SimpleQueue()"]
    elif case["api"] == "pool":
        lines = ["with ctx.Pool(1%s) as pool:" % init]
    else:
        lines = ["with ProcessPoolExecutor(1, mp_context=ctx%s) as pool:" % init]
    if case["loc"] == "main" and case["when"] == "after":
        lines.append("    %s = %s" % (g, value))
    lines += ["    out = []", "    for s in range(%d):" % SENDS, "        fn = %s" % fn]
    if case["api"] == "process":
        lines += ["        proc = ctx.Process(target=call_all, args=(q, fn, %r))" % (list(ITEMS),),
                  "        proc.start()", "        out.append(q.get())", "        proc.join()"]
    else:
        lines.append("        out.append(list(pool.map(fn, %r, chunksize=%d)))"
                     % (list(ITEMS), case["chunksize"]))
    if case["parent_op"] == "rebind":
        if case["vtype"] == "dict":
            lines.append('        %s = {"v": %s["v"] + 1000}' % (g, g))
        else:
            lines.append("        %s = %s + 1000" % (g, g))
    elif case["parent_op"] == "mutate":
        lines.append('        %s["v"] += 1' % g)
    return lines


def run(argv, path, method):
    proc = subprocess.run(argv + [path, method], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=900)
    got = {}
    for line in proc.stdout.splitlines():
        head, _, rest = line.partition(" ")
        if head.isdigit():
            got[int(head)] = rest
    return got, proc


def describe(case):
    return " ".join("%s=%s" % (k, case[k]) for k in
                    ("method", "api", "kind", "loc", "when", "vtype", "parent_op", "init",
                     "task_op", "chunksize"))


def on_cluster(cpmp, workdir, cases, address):
    """Every case on the cluster, against the model's spawn answer."""
    bad = []
    for method in METHODS:
        mine = [c for c in cases if c["method"] == method]
        path = os.path.join(workdir, "cluster_%s.py" % method)
        with open(path, "w") as f:
            f.write(program(mine, False))
        got, proc = run([cpmp, "run", "--quiet", "--cluster", address], path, method)
        for case in mine:
            model = case if case["api"] == "process" else dict(case, method="spawn")
            want = str(expected(model))
            have = got.get(case["id"], "nothing (exit %d)" % proc.returncode)
            if have != want:
                bad.append("cluster #%d [%s]: printed %s, the model says %s"
                           % (case["id"], describe(case), have, want))
    for line in bad[:20]:
        print(line)
    print("%d programs on the cluster: %s" % (len(cases), "%d disagree" % len(bad) if bad
                                              else "all as the model says for spawn"))
    return 1 if bad else 0


def main():
    args = sys.argv[1:]
    address = None
    if "--cluster" in args:
        i = args.index("--cluster")
        address = args[i + 1]
        del args[i:i + 2]
    cpmp, python, workdir = args[:3]
    seed = int(args[3]) if len(args) > 3 else 20261129
    per_method = int(args[4]) if len(args) > 4 else 100
    cases = generate(seed, per_method)
    if address is not None:
        return on_cluster(cpmp, workdir, cases, address)
    bad = []
    compared = 0
    for method in METHODS:
        mine = [c for c in cases if c["method"] == method]
        theirs = [c for c in mine if stock_agrees(c)]
        runs = []
        for name, argv, subset, stock in (("cpmp", [cpmp, "run"], mine, False),
                                          ("python3", [python], theirs, True)):
            path = os.path.join(workdir, "%s_%s.py" % (name, method))
            with open(path, "w") as f:
                f.write(program(subset, stock))
            runs.append((name, subset, run(argv, path, method)))
        for name, subset, (got, proc) in runs:
            for case in subset:
                want = str(expected(case))
                have = got.get(case["id"], "nothing (exit %d)" % proc.returncode)
                if have != want:
                    bad.append("%s #%d [%s]: printed %s, the model says %s"
                               % (name, case["id"], describe(case), have, want))
        compared += len(theirs)
    # cloudpickle as the second oracle, for the same functions.
    path = os.path.join(workdir, "against_cloudpickle.py")
    with open(path, "w") as f:
        f.write(program(cases, False, against_cloudpickle=True))
    got, proc = run([cpmp, "run"], path, "fork")
    differ = 0
    for case in cases:
        have = got.get(case["id"], "nothing (exit %d)" % proc.returncode)
        want = "differ" if cloudpickle_differs(case) else "same"
        differ += cloudpickle_differs(case)
        if not have.startswith(want):
            bad.append("cloudpickle #%d [%s]: printed %s, expected %s"
                       % (case["id"], describe(case), have, want))
    for line in bad[:20]:
        print(line)
    print("%d programs under cpmp, %d of them also under python3 (top-level defs), all %d "
          "against cloudpickle (%d differ by the model's live globals): %s"
          % (len(cases), compared, len(cases), differ,
             "%d disagree" % len(bad) if bad else "all as the model says"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
