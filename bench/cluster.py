"""The --cluster benchmark: python3 bench/cluster.py [--build DIR] [--repeat N]

Runs the same Pool programs (bench/workloads/cluster.py) under stock
python3 with Pool(2) and a top-level def, under cpmp run with a lambda, and
under cpmp run --cluster local:2 with a lambda (a Dask LocalCluster of two
worker processes on this machine), interleaved in this one run.  Prints
medians, the ratio to stock python3, and tasks per second; start-up (pool
creation and a first map: for the cluster, starting and connecting to it)
apart from the timed map.
"""
import os
import statistics
import subprocess
import time

from common import driver_args

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOAD = os.path.join(HERE, "workloads", "cluster.py")
TASKS = {"cpu": 200, "tiny": 100000}


def calibrate(py):
    """Iterations of spin() that take about 50 ms here."""
    code = ("import sys, time; sys.argv[1:] = ['cpu', 'def']; "
            "exec(open(%r).read().split('if __name__')[0]); n = 200000; "
            "t = time.perf_counter(); spin(n); print(n * 0.05 / (time.perf_counter() - t))"
            % WORKLOAD)
    out = subprocess.run([py, "-c", code], check=True, capture_output=True, text=True).stdout
    return int(float(out))


def measure(argv):
    out = subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True).stdout
    startup, work = out.split()
    return float(startup), float(work)


def main():
    args, py, cpmp = driver_args(__doc__, HERE)
    work = calibrate(py)
    print("cpu: 200 tasks x %d iterations (about 50 ms each here); tiny: 1e5 x (x + 1), "
          "chunksize=1000; %s, %d cores" % (work, time.strftime("%Y-%m-%d"), os.cpu_count()))
    print()
    print("| workload | variant | start-up (s) | map (s) | ratio to python3 | tasks/s |")
    print("|---|---|---|---|---|---|")
    for key in ("cpu", "tiny"):
        variants = {
            "python3 Pool(2), def": [py, WORKLOAD, key, "def", str(work)],
            "cpmp run Pool(2), lambda": [cpmp, "run", WORKLOAD, key, "lambda", str(work)],
            "cpmp run --cluster local:2, lambda": [cpmp, "run", "--quiet", "--cluster",
                                                   "local:2", WORKLOAD, key, "lambda",
                                                   str(work)],
        }
        samples = {name: [] for name in variants}
        for _ in range(args.repeat):
            for name, argv in variants.items():
                samples[name].append(measure(argv))
        base = statistics.median(s[1] for s in samples["python3 Pool(2), def"])
        for name, got in samples.items():
            startup = statistics.median(s[0] for s in got)
            seconds = statistics.median(s[1] for s in got)
            print("| %s | %s | %.3f | %.3f | %.2f | %.0f |" % (
                key, name, startup, seconds, seconds / base, TASKS[key] / seconds))


if __name__ == "__main__":
    main()
