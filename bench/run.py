"""cpmp's benchmarks: python3 bench/run.py [--build DIR] [--repeat N] [--only NAME,...]

Runs every workload under stock python3 (with a top-level def, what python3
can run), under cpmp run (with a lambda, and with the unchanged def), and
under the peers multiprocess (dill) and joblib where they apply, all in
this one process tree, interleaved.  Prints a table of medians and their
ratio to stock python3 with a top-level def.  Timing lives here, never in
the tests.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

from common import read_config

HERE = os.path.dirname(os.path.abspath(__file__))
MP = os.path.join(HERE, "workloads", "mp.py")
HELLO = os.path.join(HERE, "workloads", "hello.py")


def run_wall(argv, env=None):
    """Wall seconds of one process."""
    if env is not None:
        env = dict(os.environ, **env)
    t = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, env=env)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit("benchmark command failed: %s" % " ".join(argv))
    return elapsed


def peak_rss(argv):
    """The program's own peak RSS (KiB).  Not this driver's rusage of its
    child: a child forked from the driver starts as a copy of it, and the
    kernel counts that copy in the child's peak even across exec.  GNU
    time is small, and the program is its child (Debian: package time)."""
    out = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, check=True).stderr
    return int(out.strip().splitlines()[-1])


def run_reported(argv):
    """The seconds a workload script reports for its timed section."""
    out = subprocess.run(argv, check=True, stdout=subprocess.PIPE, text=True).stdout
    return float(out.strip().splitlines()[-1])


def preload_path(cpmp):
    out = subprocess.run([cpmp, "env"], check=True, capture_output=True, text=True).stdout
    return out.strip().partition("=")[2].strip("'")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    config = read_config(args.build)
    py = config["CPMP_PYTHON"]
    cpmp = os.path.join(config["CPMP_BUILD_ROOT"], "launcher", "cpmp")
    # cpmp exec: the same patch inside the stock interpreter binary.
    exec_ = [cpmp, "exec", "--"]

    def has(module):
        return subprocess.run([py, "-c", "import " + module], capture_output=True).returncode == 0

    rows = []  # (workload, variant, samples, baseline_key, unit)

    # Start-up: 30 runs interleaved per repetition round.
    startup = {"python3 hello.py": [py, HELLO], "cpmp run hello.py": [cpmp, "run", HELLO]}
    # The preload library's cost: the same commands with and without it.
    preload = {"LD_PRELOAD": preload_path(cpmp)}
    preloaded = {
        "python3 -c pass": ([py, "-c", "pass"], None),
        "python3 -c pass, preloaded": ([py, "-c", "pass"], preload),
        "bash -c true": (["bash", "-c", "true"], None),
        "bash -c true, preloaded": (["bash", "-c", "true"], preload),
    }
    wall = {k: [] for k in startup}
    rss = {k: [] for k in startup}
    pre_wall = {k: [] for k in preloaded}
    only = set(filter(None, args.only.split(",")))
    if not only or "startup" in only:
        # Two separate loops: interleaving other programs with the pair
        # measured here shifts their ratio by several percent (caches).
        for _ in range(max(30, args.repeat * 6)):
            for name, argv in startup.items():
                wall[name].append(run_wall(argv))
                rss[name].append(peak_rss(argv))
        for _ in range(max(30, args.repeat * 6)):
            for name, (argv, env) in preloaded.items():
                pre_wall[name].append(run_wall(argv, env))
        base = "python3 hello.py"
        for name in startup:
            rows.append(("start-up (wall)", name, wall[name], wall[base], "ms"))
        for name in startup:
            rows.append(("peak RSS", name, rss[name], rss[base], "KiB"))
        for name in preloaded:
            plain = name.replace(", preloaded", "")
            rows.append(("preload library start-up", name, pre_wall[name], pre_wall[plain], "ms"))

    workloads = [
        ("map", "Pool(2).map(f, 1e6 ints)"),
        ("imap", "Pool(2).imap(f, 5e4, chunksize=1)"),
        ("instances", "send 1e5 top-level instances x5"),
        ("global", "Pool(2).imap(f, 2e4, chunksize=1), f reads a 36 MB main-block global"),
        ("numpy", "10 x 8 MB numpy round trip"),
        ("large", "Pool(2).map(f, 10 x 80 MB numpy arrays), f doubles"),
        ("large-bytes", "Pool(2).map(f, 10 x 80 MB bytes), f adds a byte"),
    ]
    for key, title in workloads:
        if only and key not in only:
            continue
        variants = {
            "python3, def": [py, MP, key, "def"],
            "cpmp run, def": [cpmp, "run", MP, key, "def"],
            "cpmp run, lambda": [cpmp, "run", MP, key, "lambda"],
            "cpmp exec python3, lambda": exec_ + [py, MP, key, "lambda"],
        }
        if key in ("map", "imap") and has("multiprocess"):
            variants["multiprocess, lambda"] = [py, MP, key, "lambda", "multiprocess"]
        if key in ("numpy", "large", "large-bytes") and not has("numpy"):
            continue
        if key in ("large", "large-bytes"):
            if has("joblib"):
                variants["joblib Parallel(2), memmapping, def"] = [py, MP, key, "def", "joblib"]
            if has("multiprocess"):
                variants["multiprocess, lambda"] = [py, MP, key, "lambda", "multiprocess"]
        samples = {k: [] for k in variants}
        for _ in range(args.repeat):
            for name, argv in variants.items():
                samples[name].append(run_reported(argv))
        for name in variants:
            rows.append((title, name, samples[name], samples["python3, def"], "s"))
        if key in ("large", "large-bytes"):
            # The largest process's peak (GNU time: the program and its workers).
            peaks = {name: [peak_rss(argv)] for name, argv in variants.items()}
            for name in variants:
                rows.append((title + ", peak RSS", name, peaks[name], peaks["python3, def"], "KiB"))
        if key == "map" and has("joblib"):
            jl = {"joblib Parallel(2), def": [py, MP, key, "def", "joblib"],
                  "joblib Parallel(2), lambda": [py, MP, key, "lambda", "joblib"],
                  "cpmp run Pool(2).map, lambda": None}
            js = {k: [] for k in jl}
            n_small = [cpmp, "run", MP, key, "lambda", "multiprocessing", "100000"]
            stock_small = [py, MP, key, "def", "multiprocessing", "100000"]
            base = []
            for _ in range(args.repeat):
                base.append(run_reported(stock_small))
                js["joblib Parallel(2), def"].append(run_reported(jl["joblib Parallel(2), def"]))
                js["joblib Parallel(2), lambda"].append(run_reported(jl["joblib Parallel(2), lambda"]))
                js["cpmp run Pool(2).map, lambda"].append(run_reported(n_small))
            rows.append(("1e5 items, vs python3 Pool.map def", "python3 Pool(2).map, def", base, base, "s"))
            for name in js:
                rows.append(("1e5 items, vs python3 Pool.map def", name, js[name], base, "s"))

    print("| workload | variant | median | ratio to python3 (preload rows: to the same command without it) |")
    print("|---|---|---|---|")
    for title, name, samples, baseline, unit in rows:
        med = statistics.median(samples)
        ratio = med / statistics.median(baseline)
        shown = "%.1f ms" % (med * 1000) if unit == "ms" else (
            "%d KiB" % med if unit == "KiB" else "%.3f s" % med)
        if unit == "KiB":
            extra = " (%+d KiB)" % (med - statistics.median(baseline))
        else:
            extra = ""
        print("| %s | %s | %s | %.2f%s |" % (title, name, shown, ratio, extra))
    if wall["python3 hello.py"]:
        # Start-up noise only ever adds: the fastest runs are the cost itself.
        lo = {k: min(v) for k, v in wall.items()}
        print("\nstart-up, fastest runs: python3 %.1f ms, cpmp run %.1f ms (ratio %.2f)" % (
            lo["python3 hello.py"] * 1000, lo["cpmp run hello.py"] * 1000,
            lo["cpmp run hello.py"] / lo["python3 hello.py"]))
    print("%s, %d cores, %d repetitions (start-up: %d)" % (
        subprocess.run([py, "-c", "import sys; print('Python', sys.version.split()[0])"],
                       capture_output=True, text=True).stdout.strip(),
        os.cpu_count(), args.repeat, len(wall["python3 hello.py"])))


if __name__ == "__main__":
    sys.exit(main())
