"""What a fork costs as the main module grows: python3 bench/forks.py [--build DIR]

Pool(2, maxtasksperchild=1) over 200 tasks (a fork each) in a main module
of 100, 10,000 and 100,000 names, under stock python3, cpmp run and cpmp
exec python3, interleaved, 3 runs each: medians of the time and its
ratio to python3's, and of the main process's peak RSS (what the pins of
a fork cost) (issue "Sound by construction": fork-time work does not grow
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
    """Seconds the run took, and its peak RSS in MB (the largest of its
    processes: the main one, which holds what a fork pins)."""
    t = time.perf_counter()
    child = subprocess.Popen(argv)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise subprocess.CalledProcessError(child.returncode, argv)
    return time.perf_counter() - t, usage.ru_maxrss / 1024


def main():
    args, py, cpmp = driver_args(__doc__, HERE)
    columns = {"python3": [py], "cpmp run": [cpmp, "run"], "cpmp exec": [cpmp, "exec", py]}
    print("time, and peak RSS of the main process")
    print("| main-module names | %s |" % " | ".join(columns))
    print("|---|%s" % ("---|" * len(columns)))
    for n in ("100", "10000", "100000"):
        times = {name: [] for name in columns}
        peaks = {name: [] for name in columns}
        for _ in range(args.repeat):
            for name, argv in columns.items():
                seconds, peak = wall(argv + [WORKLOAD, n, TASKS])
                times[name].append(seconds)
                peaks[name].append(peak)
        base = statistics.median(times["python3"])
        print("| %s | %s |" % (n, " | ".join(
            "%.2f s (%.2f), %.0f MB" % (statistics.median(times[c]),
                                         statistics.median(times[c]) / base,
                                         statistics.median(peaks[c]))
            for c in columns)))


if __name__ == "__main__":
    main()
