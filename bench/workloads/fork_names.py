"""bench/forks.py's workload: fork_names.py N TASKS.  A main module binding
N names (half instances, which take a weak reference, half lists, which do
not), then Pool(2, maxtasksperchild=1) over TASKS tasks: a fork per task,
as a pool replacing its workers does.  Prints nothing."""
import multiprocessing as mp
import sys


class Thing:
    pass


def inc(x):
    return x + 1


if __name__ == "__main__":
    n, tasks = int(sys.argv[1]), int(sys.argv[2])
    for i in range(n):
        globals()["name%d" % i] = Thing() if i % 2 else [i]
    with mp.get_context("fork").Pool(2, maxtasksperchild=1) as pool:
        assert sum(pool.map(inc, range(tasks), chunksize=1)) == tasks * (tasks + 1) // 2
