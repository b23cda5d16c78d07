#!/usr/bin/env python3
"""Differential test of what a function sent by value sees (differential.bats).

    differential.py CPMP PYTHON WORKDIR [SEED] [PER_METHOD] [--families N]
                    [--cpmp-only] [--dump FILE] [--mutations] [--cluster ADDRESS]

Generates small programs from a fixed seed, of two kinds.

The pool cases (PER_METHOD a start method): a lambda, closure, nested
function, local class or main-block def that reads (or mutates) a global
bound at top level or in the main block, bound before or after the pool
starts, rebound or mutated by the main block between sends, rebound by a
pool initializer; chunksize 1 or 3; a Pool, a ProcessPoolExecutor or one
Process a send; under fork, spawn and forkserver, each with a pool of its
own.  The families (tests/scripts/families*.py, FAMILIES below; N/10 of
each family's weight a start method): nested code and shadowed builtins,
decorated defs and methods of main-block classes, closures' own cells,
programs that send nothing by value, objects with and without weak
references, files and locks inside containers, rebinding to equal objects
of other types and to objects another name holds, defaults changing type,
names unbound then bound, siblings, os.fork readers and the sender reading
its own queue, workers replaced between sends -- many cases sharing one
worker a program.  Every case runs under `cpmp run` and is compared with:

* the model (pyhook/cpmp/core/_policy.py), simulated here and in the families,
  for every case;
* stock python3 running the same program with the function written as a
  top-level def, for every case where python3 can run it and the model says
  python3's answer: globals bound at top level (read live in the worker,
  as a top-level def reads them), main-block globals a forked worker
  holds (bound before the fork, never rebound; a dict neither mutated by
  the task nor by the main block, since a function sent by value gets the
  sender's copy of an object that takes no weak reference), a main-block
  def reading a main-block dict under fork (its own, as python3), and the
  families' own such cases;
* cloudpickle: the same function through cpmp and through cloudpickle,
  loaded and called in a spawned child, alike but for the differences the
  model makes deliberately (live module globals, open files, definitions
  python3 sends by reference).

--cpmp-only skips python3 and cloudpickle; --dump writes every case's
printed result to FILE (differential.bats compares those of a run with
CPMP_TEST_SLOW=1).  --mutations runs the cases under cpmp once unmutated
and once with each bug pyhook/cpmp/core/_mutation.py plants, one line each.
With --cluster, every pool case runs instead under `cpmp run --cluster
ADDRESS` and is compared with the model's answer for a spawn worker (a
cluster's workers hold nothing of the program); a Process stays on this
machine, with its own start method (cluster.bats).

Prints one line per disagreement and a summary; exits 1 if any.
"""

import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripts"))
import families  # noqa: E402
import families_code  # noqa: E402
import families_objects  # noqa: E402
import families_readers  # noqa: E402
from pool_programs import _value, program  # noqa: E402

METHODS = ("fork", "spawn", "forkserver")
KINDS = ("lambda", "closure", "nested", "local-class", "main-def")
SENDS = 3
ITEMS = (0, 1, 2)
CHUNK = 30
# The families (tests/scripts/families*.py): generator, and cases a
# start method per 10 of --families (those starting processes of their
# own cost the most).
FAMILIES = {
    "nested": (families_code.nested, 20), "shadow": (families_code.shadow, 12),
    "decorated": (families_code.decorated, 16), "cells": (families_code.cells, 12),
    "plain": (families_code.plain, 10), "weak": (families_objects.weak, 20),
    "resources": (families_objects.resources, 12), "flags": (families_objects.flags, 20),
    "defaults": (families_objects.defaults, 12), "unbound": (families_objects.unbound, 12),
    "readers": (families_readers.readers, 4), "replaced": (families_readers.replaced, 2),
}


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

def _read(value):
    return value["v"] if isinstance(value, dict) else value


def expected(case):
    """What the model says the program prints for this case."""
    vtype, base = case["vtype"], 10 * case["id"]
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


def describe(case):
    return " ".join("%s=%s" % (k, case[k]) for k in
                    ("method", "api", "kind", "loc", "when", "vtype", "parent_op", "init",
                     "task_op", "chunksize"))


def on_cluster(cpmp, workdir, cases, address):
    """Every case on the cluster, against the model's spawn answer."""
    bad, jobs = [], []
    for method in METHODS:
        mine = [c for c in cases if c["method"] == method]
        path = os.path.join(workdir, "cluster_%s.py" % method)
        with open(path, "w") as f:
            f.write(program(mine, False))
        jobs.append(([cpmp, "run", "--quiet", "--cluster", address], path, method, None))
    # One at a time: the programs share the cluster's workers.
    for (got, code), method in zip(families.run_programs(jobs, 1), METHODS):
        for case in [c for c in cases if c["method"] == method]:
            model = case if case["api"] == "process" else dict(case, method="spawn")
            want = str(expected(model))
            have = got.get(case["id"], "nothing (exit %s)" % code)
            if have != want:
                bad.append("cluster #%d [%s]: printed %s, the model says %s"
                           % (case["id"], describe(case), have, want))
    for line in bad[:20]:
        print(line)
    print("%d programs on the cluster: %s" % (len(cases), "%d disagree" % len(bad) if bad
                                              else "all as the model says for spawn"))
    return 1 if bad else 0


def pools(cpmp, python, workdir, cases, oracles, env=None):
    """The pool cases under cpmp, python3 and cloudpickle, as families.run."""
    jobs, checks = [], []
    for method, n in [(m, n) for m in METHODS for n in range(0, len(cases), CHUNK)]:
        # In programs of CHUNK cases at most, to run side by side.
        mine = [c for c in cases if c["method"] == method][n:n + CHUNK]
        theirs = [c for c in mine if stock_agrees(c)]
        for name, argv, subset, stock in (("cpmp", [cpmp, "run"], mine, False),
                                          ("python3", [python], theirs, True)):
            if not subset or (name == "python3" and "stock" not in oracles):
                continue
            path = os.path.join(workdir, "%s_%s%d.py" % (name, method, n))
            with open(path, "w") as f:
                f.write(program(subset, stock))
            jobs.append((argv, path, method, env))
            checks.append((name, subset, lambda case: str(expected(case))))
    if "trip" in oracles:
        # cloudpickle as the second oracle, for the same functions.
        path = os.path.join(workdir, "against_cloudpickle.py")
        with open(path, "w") as f:
            f.write(program(cases, False, against_cloudpickle=True))
        jobs.append(([cpmp, "run"], path, "fork", env))
        checks.append(("cloudpickle", cases,
                       lambda case: "differ" if cloudpickle_differs(case) else "same"))
    bad, results, counts = [], {}, {"cpmp": 0, "stock": 0, "trip": 0}
    for (name, subset, want), (got, code) in zip(checks, families.run_programs(jobs)):
        counts[{"python3": "stock", "cloudpickle": "trip"}.get(name, name)] += len(subset)
        for case in subset:
            have = got.get(case["id"], "nothing (exit %s)" % code)
            results[("pool-" + name, case["id"])] = have
            if not have.startswith(want(case)) or (name != "cloudpickle" and have != want(case)):
                bad.append("%s #%d [%s]: printed %s, the model says %s"
                           % (name, case["id"], describe(case), have, want(case)))
    return counts, bad, results


def every_case(cpmp, python, workdir, seed, per_method, per_family, oracles, env=None):
    """(counts, bad lines, results) of the pool cases and the families'."""
    counts, bad, results = pools(cpmp, python, workdir, generate(seed, per_method), oracles, env)
    cases = families.make(seed, lambda f: per_family * FAMILIES[f][1] // 10, METHODS,
                          [(f, gen) for f, (gen, _) in sorted(FAMILIES.items())])
    counts2, bad2, results2 = families.run(cpmp, python, workdir, cases, oracles, env)
    results.update(results2)
    for k in counts:
        counts[k] += counts2[k]
    return counts, bad + bad2, results


def mutations(cpmp, python, workdir, seed, per_method, per_family):
    """The cases under cpmp alone, unmutated and with each planted bug:
    one line each, with how many cases disagree, by family."""
    import subprocess

    planted = subprocess.run([cpmp, "run", "-c", "from cpmp.core import _mutation; "
                              "print(' '.join(_mutation.MUTATIONS))"], check=True,
                             stdout=subprocess.PIPE, universal_newlines=True).stdout.split()
    # A planted bug can hang a pool (a task its worker cannot load is lost):
    # a program that normally takes seconds is given a minute and a half.
    families.TIMEOUT = 90
    for name in [""] + planted:
        env = dict(os.environ, CPMP_TEST_MUTATION=name)
        sub = os.path.join(workdir, name or "none")
        os.makedirs(sub, exist_ok=True)
        _, bad, _ = every_case(cpmp, python, sub, seed, per_method, per_family, ("cpmp",), env)
        by = {}
        for line in bad:
            family = line.split("[", 1)[1].split()[0]
            family = "pool" if "=" in family else family
            by[family] = by.get(family, 0) + 1
        print("%s: %d disagree%s" % (name or "unmutated", len(bad), "".join(
            sorted(" %s=%d" % kv for kv in by.items()))), flush=True)
    return 0


def main():
    args = sys.argv[1:]
    opts = {}
    for opt in ("--cluster", "--families", "--dump"):
        if opt in args:
            i = args.index(opt)
            opts[opt] = args[i + 1]
            del args[i:i + 2]
    for flag in ("--cpmp-only", "--mutations"):
        opts[flag] = flag in args
        args = [a for a in args if a != flag]
    cpmp, python, workdir = args[:3]
    seed = int(args[3]) if len(args) > 3 else 20261129
    per_method = int(args[4]) if len(args) > 4 else 100
    per_family = int(opts.get("--families", 0))
    if "--cluster" in opts:
        return on_cluster(cpmp, workdir, generate(seed, per_method), opts["--cluster"])
    if opts["--mutations"]:
        return mutations(cpmp, python, workdir, seed, per_method, per_family)
    oracles = ("cpmp",) if opts["--cpmp-only"] else ("cpmp", "stock", "trip")
    counts, bad, results = every_case(cpmp, python, workdir, seed, per_method, per_family,
                                      oracles)
    if "--dump" in opts:
        with open(opts["--dump"], "w") as f:
            f.writelines("%s %d %s\n" % (k[0], k[1], v) for k, v in sorted(results.items()))
    for line in bad[:20]:
        print(line)
    verdict = "%d disagree" % len(bad) if bad else "all as the model says"
    if opts["--cpmp-only"]:
        print("%d programs under cpmp: %s" % (counts["cpmp"], verdict))
    else:
        print("%d programs under cpmp, %d of them also under python3 (top-level defs), %d "
              "against cloudpickle: %s" % (counts["cpmp"], counts["stock"], counts["trip"],
                                          verdict))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
