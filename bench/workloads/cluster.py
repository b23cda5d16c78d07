"""One timed Pool workload for the --cluster benchmark:
cluster.py WORKLOAD FORM [WORK].

WORKLOAD: "cpu" (200 tasks, each WORK iterations of arithmetic, about 50 ms)
or "tiny" (1e5 tasks of x + 1, chunksize=1000).  FORM: "def" (a top-level
function, what stock python3 can run) or "lambda".  Prints two numbers:
the seconds to make the pool and run a first trivial map (start-up: for
--cluster, connecting and starting local workers), then the seconds of the
timed map.
"""
import multiprocessing
import sys
import time

WORKLOAD, FORM = sys.argv[1], sys.argv[2]
WORK = int(sys.argv[3]) if len(sys.argv) > 3 else 0


def spin(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def inc(x):
    return x + 1


if __name__ == "__main__":
    start = time.perf_counter()
    pool = multiprocessing.Pool(2)
    pool.map(inc, range(2))
    ready = time.perf_counter()
    if WORKLOAD == "cpu":
        func = spin if FORM == "def" else (lambda n: spin(n))
        result = pool.map(func, [WORK] * 200, chunksize=1)
        assert len(result) == 200
    else:
        func = inc if FORM == "def" else (lambda x: x + 1)
        result = pool.map(func, range(100000), chunksize=1000)
        assert result[-1] == 100000
    done = time.perf_counter()
    pool.close()
    pool.join()
    print("%.6f %.6f" % (ready - start, done - ready))
