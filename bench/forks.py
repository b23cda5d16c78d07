"""What a fork costs as the main module grows: python3 bench/forks.py [--build DIR]

Pool(2, maxtasksperchild=1) over 200 tasks (a fork each) in a main module
of 100, 10,000 and 100,000 names, under stock python3, cpmp run and cpmp
exec python3, interleaved, 3 runs each: medians and their ratio to
python3's (issue "Sound by construction": fork-time work does not grow
with the main module).  Timing lives here, never in the tests.
"""
import os
import statistics
import subprocess
import time

from common import driver_args

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOAD = os.path.join(HERE, "workloads", "fork_names.py")
TASKS = "200"


def wall(argv):
    t = time.perf_counter()
    subprocess.run(argv, check=True)
    return time.perf_counter() - t


def main():
    args, py, cpmp = driver_args(__doc__, HERE)
    columns = {"python3": [py], "cpmp run": [cpmp, "run"], "cpmp exec": [cpmp, "exec", py]}
    print("| main-module names | %s |" % " | ".join(columns))
    print("|---|%s" % ("---|" * len(columns)))
    for n in ("100", "10000", "100000"):
        times = {name: [] for name in columns}
        for _ in range(args.repeat):
            for name, argv in columns.items():
                times[name].append(wall(argv + [WORKLOAD, n, TASKS]))
        base = statistics.median(times["python3"])
        print("| %s | %s |" % (n, " | ".join(
            "%.2f s (%.2f)" % (statistics.median(t), statistics.median(t) / base)
            for t in times.values())))


if __name__ == "__main__":
    main()
