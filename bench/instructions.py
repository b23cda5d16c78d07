"""Instructions per send: /usr/bin/python3 bench/instructions.py [--build DIR] [--sends N]

Counts, with valgrind's callgrind, the instructions one
ForkingPickler.dumps and one pickle.loads cost for a top-level def (by
reference), plain data, an instance of a main-block class, a lambda, a
closure and an instance of a local class, under stock python3, cpmp run,
cpmp exec python3 and cloudpickle (its Pickler in ForkingPickler's place).
Each process runs every object (bench/workloads/sends.py): N sends minus 0
sends, each between two callgrind dumps, so start-up and the measuring
cancel.  Exact and repeatable (PYTHONHASHSEED=0): the same build gives the
same counts on any machine, however loaded -- the figure to compare
commits by, where bench/run.py's wall times vary by 10-30 %.
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

from common import read_config

HERE = os.path.dirname(os.path.abspath(__file__))
SENDS = os.path.join(HERE, "workloads", "sends.py")
CGMARK = os.path.join(HERE, "workloads", "cgmark.c")
CASES = ("def", "data", "record", "instance", "lambda", "closure", "local-class")
TITLES = {"def": "top-level def", "data": "10 small tuples", "record": "top-level class instance",
          "instance": "main-block class instance",
          "lambda": "lambda", "closure": "closure", "local-class": "local class instance"}
STOCK_SENDS = ("def", "data", "record", "instance")  # what python3 can send
REQUEST = "desc: Trigger: Client Request: "  # a dump's label, in its file
VALGRIND = ["valgrind", "--tool=callgrind", "--quiet"]


def columns(config, n, mark):
    """{column: (prefix, argv)}: valgrind goes between prefix and argv."""
    py = config["CPMP_PYTHON"]
    cpmp = os.path.join(config["CPMP_BUILD_ROOT"], "launcher", "cpmp")
    args = [SENDS, str(n), "forking", mark]
    return {
        "python3": ([], [py] + args),
        "cpmp run": ([], [cpmp, "run"] + args),
        # valgrind runs inside cpmp exec: the preload library is in the
        # environment valgrind gives python3, as cpmp exec python3 has it.
        "cpmp exec": ([cpmp, "exec", "--"], [py] + args),
        "cloudpickle": ([], [py, SENDS, str(n), "cloudpickle", mark]),
    }


def count(prefix, argv, out):
    """{label: Ir} of every client-request dump of one run under callgrind,
    and the objects it could not send.  The dump files are renamed after
    their labels: OUT.lambda-dumps-1000 (OUT.PID is the forked child's and
    the program's end)."""
    for stale in glob.glob(out + ".*"):
        os.remove(stale)
    env = dict(os.environ, PYTHONHASHSEED="0")
    proc = subprocess.run(prefix + VALGRIND + ["--callgrind-out-file=%s.%%p" % out] + argv,
                          env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit("failed (%d): %s\n%s" % (proc.returncode, " ".join(argv), proc.stderr))
    counts = {}
    for path in glob.glob(out + ".*"):
        label = total = None
        with open(path) as f:
            for line in f:
                if line.startswith(REQUEST):
                    label = line[len(REQUEST):].strip()
                elif line.startswith("totals: "):
                    total = int(line.split()[1])
        if label is not None and label != "unmeasured":
            counts[label] = total
            # Named by what it measured: OUT.lambda-dumps-1000 (for --keep).
            os.rename(path, "%s.%s" % (out, label.replace(" ", "-")))
    cannot = {line.split()[1].rstrip(":") for line in proc.stdout.splitlines()
              if line.startswith("cannot ")}
    return counts, cannot


def per_send(counts, cannot, n):
    """{(case, op): instructions per send}, without what cannot be sent."""
    return {(case, op): (counts["%s %s %d" % (case, op, n)] - counts["%s %s 0" % (case, op)]) / n
            for case in CASES if case not in cannot for op in ("dumps", "loads")}


def table(results):
    names = list(results)
    print("| object | op | %s | cpmp target (issue 21) |" % " | ".join(names))
    print("|---|---|%s---|" % ("---|" * len(names)))
    for case in CASES:
        for op in ("dumps", "loads"):
            base = results["python3"].get(("def", op))
            cells = []
            for name in names:
                ir = results[name].get((case, op))
                cells.append("—" if ir is None else "%.1fk (%.2f)" % (ir / 1000, ir / base))
            if case in STOCK_SENDS:
                stock = results["python3"][(case, op)] / base
                target = "≤ %.2f (1.05 × python3's)" % (1.05 * stock)
            else:
                target = "≤ %.1f" % (1.5 if op == "dumps" else 2.0)
            print("| %s | %s | %s | %s |" % (TITLES[case], op, " | ".join(cells), target))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    parser.add_argument("--sends", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--keep", metavar="DIR",
                        help="leave the callgrind files in DIR (one per dump: callgrind_annotate them)")
    args = parser.parse_args()
    config = read_config(args.build)
    if config.get("CPMP_SANITIZER_PRELOAD"):
        raise SystemExit("a sanitizer build: valgrind cannot run it, use a plain one")
    with tempfile.TemporaryDirectory(prefix="cpmp-instructions.") as scratch:
        tmp = args.keep or scratch
        os.makedirs(tmp, exist_ok=True)
        mark = os.path.join(tmp, "cgmark.so")
        subprocess.run([config.get("CPMP_CC", "cc"), "-O2", "-shared", "-fPIC", "-o", mark, CGMARK],
                       check=True)
        runs = columns(config, args.sends, mark)
        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            futures = {name: pool.submit(count, prefix, argv, os.path.join(tmp, name.replace(" ", "-") + ".out"))
                       for name, (prefix, argv) in runs.items()}
            results = {name: per_send(*f.result(), args.sends) for name, f in futures.items()}
    print("Instructions per send (callgrind Ir, %d sends minus 0; in brackets: the ratio to "
          "python3's top-level def, same op)\n" % args.sends)
    table(results)
    version = subprocess.run([config["CPMP_PYTHON"], "-c", "import sys; print(sys.version.split()[0])"],
                             capture_output=True, text=True).stdout.strip()
    print("\nPython %s, build %s" % (version, os.path.realpath(args.build)))


if __name__ == "__main__":
    sys.exit(main())
